# -*- coding: utf-8 -*-
# Copyright (c) pier.portainer contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json

import pytest
import responses

from ansible_collections.pier.portainer.plugins.module_utils import _module
from ansible_collections.pier.portainer.plugins.modules import portainer_system_info

URL = 'http://portainer.test:9000'
KEY = 'ptr_CANARY-unit-key-000111'
PASSWORD = 'CANARY-unit-password-222'


def _status():
    responses.get(URL + '/api/system/status', json={'Version': '2.23.0', 'InstanceID': 'iid'})
    responses.get(URL + '/api/users/me', json={'Id': 1, 'Username': 'admin', 'Role': 1})


@responses.activate
def test_reads_version_and_user(run_module):
    _status()
    result = run_module(portainer_system_info, {'portainer_url': URL + '/api/', 'portainer_api_key': KEY})
    assert result['failed'] is False, result
    assert result['changed'] is False
    assert result['version'] == '2.23.0'
    assert result['portainer_url'] == URL
    assert result['user'] == {'id': 1, 'username': 'admin', 'role': 'administrator'}
    assert len(responses.calls) == 2


@responses.activate
def test_environment_variables_are_the_fallback(run_module, monkeypatch):
    _status()
    monkeypatch.setenv('PORTAINER_URL', URL)
    monkeypatch.setenv('PORTAINER_USERNAME', 'admin')
    monkeypatch.setenv('PORTAINER_PASSWORD', PASSWORD)
    responses.post(URL + '/api/auth', json={'jwt': 'aaa.bbb.ccc'})
    result = run_module(portainer_system_info, {})
    assert result['failed'] is False
    assert result['auth_method'] == 'password'


def test_no_credentials_says_what_to_set(run_module):
    result = run_module(portainer_system_info, {'portainer_url': URL})
    assert result['failed'] is True
    assert result['msg'] == _module.NO_CREDENTIALS


def test_api_key_and_password_are_exclusive(run_module):
    result = run_module(portainer_system_info, {'portainer_url': URL, 'portainer_api_key': KEY,
                                                'portainer_username': 'admin', 'portainer_password': PASSWORD})
    assert result['failed'] is True
    assert 'mutually exclusive' in result['msg']
    assert KEY not in json.dumps(result) and PASSWORD not in json.dumps(result)


def test_missing_requests_is_reported_with_missing_required_lib(run_module, monkeypatch):
    monkeypatch.setattr(_module, 'HAS_REQUESTS', False)
    result = run_module(portainer_system_info, {'portainer_url': URL, 'portainer_api_key': KEY})
    assert result['failed'] is True
    assert 'requests' in result['msg'] and 'Traceback' not in result['msg']


@responses.activate
@pytest.mark.parametrize('status, body', [
    (401, {'message': 'Invalid JWT token', 'details': 'Unauthorized'}),
    (500, {'message': 'boom %s' % KEY}),
])
def test_errors_are_clean_failures_without_secrets(run_module, status, body):
    responses.get(URL + '/api/system/status', json={'Version': '2.23.0'})
    responses.get(URL + '/api/users/me', status=status, json=body)
    result = run_module(portainer_system_info, {'portainer_url': URL, 'portainer_api_key': KEY})
    assert result['failed'] is True
    assert 'GET /api/users/me returned HTTP %d' % status in result['msg']
    assert result['status'] == status
    assert KEY not in json.dumps(result)


@responses.activate
def test_unexpected_errors_do_not_escape_as_tracebacks(run_module, monkeypatch):
    def broken(self):
        raise KeyError('surprise')
    monkeypatch.setattr(_module.PortainerClient, 'status', broken)
    result = run_module(portainer_system_info, {'portainer_url': URL, 'portainer_api_key': KEY})
    assert result['failed'] is True
    assert result['msg'].startswith('Unexpected error: KeyError')
