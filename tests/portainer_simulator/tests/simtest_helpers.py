"""Helpers shared by the simulator's own tests (imported by conftest and the test modules)."""

import os
import subprocess
import time

import pytest

TESTBED_ENV = os.environ.get('PIER_TESTBED_ENV', '/var/tmp/pier-testbed/testbed.env')
ADMIN_USER = 'admin'
ADMIN_PASSWORD = 'pier-sim-password-1'
PREFIX = 'pier-sim-'


def testbed_env():
    """KEY=value pairs from the test bed's env file ({} when absent)."""
    values = {}
    if os.path.exists(TESTBED_ENV):
        with open(TESTBED_ENV, encoding='utf-8') as handle:
            for line in handle:
                line = line.strip()
                if line and not line.startswith('#') and '=' in line:
                    key, dummy, value = line.partition('=')
                    values[key] = value.strip().strip('"').strip("'")
    return values


def need(condition, reason):
    """Skip, or fail when PIER_TESTBED=1 says the environment must be complete."""
    if condition:
        return
    if os.environ.get('PIER_TESTBED') == '1':
        pytest.fail('PIER_TESTBED=1 but ' + reason)
    pytest.skip(reason)


def docker(*args):
    """Run the docker CLI against the local socket."""
    return subprocess.run(['docker'] + list(args), capture_output=True, text=True, check=False)


_COUNTER = [0]


def unique(name):
    """A unique pier-sim- name."""
    _COUNTER[0] += 1
    return '%s%s-%d%d' % (PREFIX, name, int(time.time() * 10) % 1000000, _COUNTER[0])


def error(resp):
    """(status, message, details) of a Portainer error response."""
    try:
        body = resp.json()
    except ValueError:
        body = {}
    return resp.status_code, body.get('message'), body.get('details')
