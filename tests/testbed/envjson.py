"""Turn the test bed's testbed.env into testbed.json.

Usage: python3 envjson.py STATE_DIR/testbed.env STATE_DIR/testbed.json

The JSON document holds every variable of the env file under ``env``, and the
same facts grouped for tests (``docker``, ``tls``, ``swarm``, ``images``,
``git``, ``stacks``, ``scripts``).  Only the Python standard library is used.
"""

from __future__ import annotations

import json
import os
import shlex
import sys


def read_env(path):
    """Read KEY=value lines (values may be shell-quoted) into a dict."""
    values = {}
    with open(path, encoding='utf-8') as handle:
        for line in handle:
            line = line.strip()
            if not line or line.startswith('#') or '=' not in line:
                continue
            key, raw = line.split('=', 1)
            parts = shlex.split(raw) if raw else ['']
            values[key] = parts[0] if parts else ''
    return values


def build(env):
    """Group the variables into the document tests read."""
    def image(name, number):
        key = f'PIER_IMAGE_{name}_{number}'
        return {'name': env[key], 'id': env.get(key + '_ID', '')}

    return {
        'state_dir': env['PIER_TESTBED_DIR'],
        'docker': {
            'socket': env['PIER_DOCKER_SOCKET'],
            'unix_url': env['PIER_DOCKER_UNIX_URL'],
            'tcp_url': env['PIER_DOCKER_TCP_URL'],
            'http_url': env['PIER_DOCKER_HTTP_URL'],
            'tls_url': env['PIER_DOCKER_TLS_URL'],
            'https_url': env['PIER_DOCKER_HTTPS_URL'],
            'tcp_port': int(env['PIER_DOCKER_TCP_PORT']),
            'tls_port': int(env['PIER_DOCKER_TLS_PORT']),
            'version': env['PIER_DOCKER_VERSION'],
            'api_version': env['PIER_DOCKER_API_VERSION'],
            'cli': env['PIER_DOCKER_CLI'],
            'compose_cli': env['PIER_COMPOSE_CLI'],
            'dockerd_managed': env['PIER_DOCKERD_MANAGED'] == '1',
        },
        'tls': {
            'cert_path': env['PIER_DOCKER_CERT_PATH'],
            'ca': env['PIER_TLS_CA'],
            'cert': env['PIER_TLS_CERT'],
            'key': env['PIER_TLS_KEY'],
            'ca_key': env['PIER_TLS_CA_KEY'],
            'server_cert': env['PIER_TLS_SERVER_CERT'],
            'server_key': env['PIER_TLS_SERVER_KEY'],
            'untrusted_cert': env['PIER_TLS_UNTRUSTED_CERT'],
            'untrusted_key': env['PIER_TLS_UNTRUSTED_KEY'],
        },
        'swarm': {
            'advertise_addr': env['PIER_SWARM_ADDR'],
            'node_id': env['PIER_SWARM_NODE_ID'],
        },
        'images': {
            'busybox_1': image('BUSYBOX', 1),
            'busybox_2': image('BUSYBOX', 2),
            'web_1': image('WEB', 1),
            'web_2': image('WEB', 2),
        },
        'git': {
            'port': int(env['PIER_GIT_PORT']),
            'base_url': env['PIER_GIT_BASE_URL'],
            'repo_url': env['PIER_GIT_REPO_URL'],
            'private_repo_url': env['PIER_GIT_PRIVATE_REPO_URL'],
            'user': env['PIER_GIT_USER'],
            'password': env['PIER_GIT_PASSWORD'],
            'smart': env['PIER_GIT_SMART'] == '1',
            'root': env['PIER_GIT_ROOT'],
            'repo_dir': env['PIER_GIT_REPO_DIR'],
            'private_repo_dir': env['PIER_GIT_PRIVATE_REPO_DIR'],
            'branches': [env['PIER_GIT_BRANCH_MAIN'], env['PIER_GIT_BRANCH_B']],
            'swarm_file': env['PIER_GIT_SWARM_FILE'],
            'compose_file': env['PIER_GIT_COMPOSE_FILE'],
        },
        'stacks': {
            'swarm': {'main': int(env['PIER_STACK_PORT_SWARM_MAIN']), 'branch-b': int(env['PIER_STACK_PORT_SWARM_B'])},
            'compose': {'main': int(env['PIER_STACK_PORT_COMPOSE_MAIN']), 'branch-b': int(env['PIER_STACK_PORT_COMPOSE_B'])},
        },
        'scripts': {
            'home': env['PIER_TESTBED_HOME'],
            'clean': env['PIER_TESTBED_CLEAN'],
            'git_push_commit': env['PIER_GIT_PUSH_COMMIT'],
        },
        'env': env,
    }


def main(argv):
    """Convert argv[0] (env file) into argv[1] (JSON file)."""
    if len(argv) != 2:
        sys.stderr.write('usage: envjson.py TESTBED_ENV TESTBED_JSON\n')
        return 2
    document = build(read_env(argv[0]))
    temporary = argv[1] + '.tmp'
    with open(temporary, 'w', encoding='utf-8') as handle:
        json.dump(document, handle, indent=2, sort_keys=True)
        handle.write('\n')
    os.replace(temporary, argv[1])
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
