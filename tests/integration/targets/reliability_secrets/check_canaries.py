# Copyright (c) pier.portainer contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fail when a canary secret appears in any of the captured outputs.

usage: check_canaries.py CANARIES TOKEN_CACHE_DIR OUTPUT...

CANARIES holds one secret a line (a PEM key counts line by line). The JWTs of the token cache
directory (the tokens the modules obtained themselves) are canaries too.
"""

import glob
import json
import os
import sys


def canaries(path, cache_dir):
    found = []
    with open(path, encoding='utf-8') as handle:
        for line in handle:
            line = line.strip()
            if line and not line.startswith('-----') and len(line) >= 8:
                found.append(line)
    for name in glob.glob(os.path.join(cache_dir, '*.json')) if cache_dir else []:
        try:
            with open(name, encoding='utf-8') as handle:
                token = json.load(handle).get('jwt')
        except (OSError, ValueError):
            continue
        if token:
            found.append(token)
            # The signature alone is unique enough, and survives truncation of the rest.
            found.append(token.rsplit('.', 1)[-1])
    return found


def main():
    secrets = canaries(sys.argv[1], sys.argv[2])
    if len(secrets) < 6:
        sys.exit('only %d canaries were written: the canary play did not run fully' % len(secrets))
    leaks = []
    for output in sys.argv[3:]:
        with open(output, encoding='utf-8', errors='replace') as handle:
            text = handle.read()
        for secret in secrets:
            if secret in text:
                line = next(l for l in text.splitlines() if secret in l)
                leaks.append('%s: canary %s...%s in: %s' % (output, secret[:4], secret[-3:], line[:300].replace(secret, '<CANARY>')))
    if leaks:
        print('\n'.join(leaks))
        sys.exit('%d canary leaks' % len(leaks))
    print('%d canaries, %d outputs: no leak' % (len(secrets), len(sys.argv) - 3))


if __name__ == '__main__':
    main()
