# Copyright (c) pier.portainer contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Make a Portainer ready for the integration tests and write their configuration.

Initialises the admin when the instance has none, logs in once, creates an API key for the run, and
writes tests/integration/integration_config.yml (in the collection copy ansible-test runs) with the
URL, the credentials and the test bed's facts.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from http.cookiejar import DefaultCookiePolicy

import requests


def init_admin(session, url, username, password, verify):
    """Initialise the admin of a fresh Portainer; leave an initialised one alone."""
    check = session.get(url + '/api/users/admin/check', timeout=30, verify=verify)
    if check.status_code == 404:
        init = session.post(url + '/api/users/admin/init', json={'Username': username, 'Password': password}, timeout=30, verify=verify)
        if init.status_code != 200:
            sys.exit('admin init failed: HTTP %s %s' % (init.status_code, init.text))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--url', required=True)
    parser.add_argument('--username', default='admin')
    parser.add_argument('--password', required=True)
    parser.add_argument('--testbed-json', help='facts of the test bed (testbed.json)')
    parser.add_argument('--simulator', action='store_true', help='the URL is the Portainer simulator (adds its control URL)')
    parser.add_argument('--https-url', help='the same kind of Portainer served over HTTPS, for the TLS tests')
    parser.add_argument('--https-ca', help="the CA that signed the HTTPS Portainer's certificate")
    parser.add_argument('--wrong-ca', help='a CA file that did not sign it')
    parser.add_argument('--output', required=True)
    args = parser.parse_args()

    url = args.url.rstrip('/')
    session = requests.Session()
    # Never replay Portainer's login cookie: with it, every write needs a CSRF token.
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    init_admin(session, url, args.username, args.password, True)
    if args.https_url:
        init_admin(session, args.https_url.rstrip('/'), args.username, args.password, args.https_ca)
    login = session.post(url + '/api/auth', json={'Username': args.username, 'Password': args.password}, timeout=30)
    if login.status_code != 200:
        sys.exit('login failed: HTTP %s %s' % (login.status_code, login.text))
    jwt = login.json()['jwt']
    headers = {'Authorization': 'Bearer ' + jwt}
    me = session.get(url + '/api/users/me', headers=headers, timeout=30).json()
    token = session.post(url + '/api/users/%d/tokens' % me['Id'], headers=headers, timeout=30,
                         json={'description': 'pier-integration-%d' % os.getpid(), 'password': args.password})
    if token.status_code != 201:
        sys.exit('API key creation failed: HTTP %s %s' % (token.status_code, token.text))
    config = {
        'portainer_url': url,
        'portainer_admin_username': args.username,
        'portainer_admin_password': args.password,
        'portainer_api_key': token.json()['rawAPIKey'],
        'portainer_is_simulator': bool(args.simulator),
        'portainer_sim_url': url + '/__sim' if args.simulator else '',
        'testbed': {},
        'portainer_https_url': (args.https_url or '').rstrip('/'),
        'portainer_https_ca': args.https_ca or '',
        'portainer_wrong_ca': args.wrong_ca or '',
    }
    if args.testbed_json and os.path.exists(args.testbed_json):
        with open(args.testbed_json, encoding='utf-8') as handle:
            config['testbed'] = json.load(handle)
    # JSON is YAML: no YAML library needed here.
    with open(args.output, 'w', encoding='utf-8') as handle:
        json.dump(config, handle, indent=2, sort_keys=True)
    os.chmod(args.output, 0o600)


if __name__ == '__main__':
    main()
