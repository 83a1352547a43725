# -*- coding: utf-8 -*-
# Copyright (c) pier.portainer contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a module's main() in-process with given arguments and capture its result.

    def test_x(run_module):
        result = run_module(portainer_system_info, {'portainer_url': ..., 'portainer_api_key': ...})
        assert result['failed'] is False
"""

from __future__ import annotations

import contextlib
import json

import pytest

from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes

try:
    from ansible.module_utils.testing import patch_module_args  # ansible-core 2.19+
except ImportError:  # ansible-core 2.18
    patch_module_args = None


@contextlib.contextmanager
def _module_args(args):
    if patch_module_args is not None:
        with patch_module_args(args):
            yield
        return
    previous = basic._ANSIBLE_ARGS
    basic._ANSIBLE_ARGS = to_bytes(json.dumps({'ANSIBLE_MODULE_ARGS': args}))
    try:
        yield
    finally:
        basic._ANSIBLE_ARGS = previous


class _Exit(BaseException):  # like the SystemExit of a real exit_json
    def __init__(self, result):
        super().__init__(result)
        self.result = result


@pytest.fixture
def run_module(monkeypatch, tmp_path):
    """Return a function that runs ``module.main()`` with ``args`` and returns its result dict.

    The result has ``failed`` (bool) added. ``check_mode`` and ``diff`` set the special arguments.
    """
    monkeypatch.setenv('PORTAINER_TOKEN_CACHE_DIR', str(tmp_path / 'token-cache'))
    for name in ('PORTAINER_URL', 'PORTAINER_API_KEY', 'PORTAINER_USERNAME', 'PORTAINER_PASSWORD',
                 'PORTAINER_VALIDATE_CERTS', 'PORTAINER_CA_PATH', 'PORTAINER_TIMEOUT', 'PORTAINER_TOKEN_CACHE',
                 'PORTAINER_ENDPOINT_CACHE_TTL'):
        monkeypatch.delenv(name, raising=False)

    def exit_json(self, **kwargs):  # pylint: disable=unused-argument
        kwargs.setdefault('changed', False)
        kwargs['failed'] = False
        raise _Exit(kwargs)

    def fail_json(self, msg, **kwargs):  # pylint: disable=unused-argument
        kwargs['msg'] = msg
        kwargs['failed'] = True
        raise _Exit(kwargs)

    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', exit_json)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', fail_json)

    def run(module, args, check_mode=False, diff=False):
        args = dict(args)
        args['_ansible_check_mode'] = check_mode
        args['_ansible_diff'] = diff
        with _module_args(args):
            with pytest.raises(_Exit) as info:
                module.main()
        return info.value.result

    return run
