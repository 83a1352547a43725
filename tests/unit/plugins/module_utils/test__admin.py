# -*- coding: utf-8 -*-
# Copyright (c) pier.portainer contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import base64
import json

import pytest
import responses

from ansible_collections.pier.portainer.plugins.module_utils import _admin
from ansible_collections.pier.portainer.plugins.module_utils._api import PortainerAPIError, PortainerClient, PortainerError

URL = 'http://portainer.test:9000'
PASSWORD = 'CANARY-admin-password-77'
HASH = '$2a$10$CANARYHASHCANARYHASHCANARYHASHCANARYHASHCANARYHASH'


def client():
    return PortainerClient(URL)


def jwt(**claims):
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b'=').decode()
    return 'e30.%s.sig' % payload


@pytest.mark.parametrize('username, password, fragment', [
    ('admin', PASSWORD, None),
    ('', PASSWORD, 'username is empty'),
    ('  ', PASSWORD, 'username is empty'),
    ('the admin', PASSWORD, 'whitespace'),
    ('admin\t', PASSWORD, 'whitespace'),
    ('admin', '', 'password is empty'),
    ('admin', None, 'password is empty'),
])
def test_validate_input(username, password, fragment):
    problem = _admin.validate_input(username, password)
    if fragment is None:
        assert problem is None
    else:
        assert fragment in problem
        assert PASSWORD not in problem


@responses.activate
@pytest.mark.parametrize('status, expected', [(204, True), (404, False)])
def test_admin_exists(status, expected):
    responses.get(URL + '/api/users/admin/check', status=status)
    assert _admin.admin_exists(client()) is expected
    assert 'X-API-KEY' not in responses.calls[0].request.headers
    assert 'Authorization' not in responses.calls[0].request.headers


@responses.activate
def test_admin_init_timeout_is_explained():
    responses.get(URL + '/api/users/admin/check', status=303, headers={'redirect-reason': 'AdminInitTimeout'},
                  json={'message': 'Administrator initialization timeout'})
    with pytest.raises(PortainerError, match='restart Portainer'):
        _admin.admin_exists(client())


@responses.activate
@pytest.mark.parametrize('status, body, expected', [
    (200, {'RequiredPasswordLength': 16}, 16),
    (200, {'AuthenticationMethod': 1}, None),
    (200, {'RequiredPasswordLength': 0}, None),
    (200, {'RequiredPasswordLength': True}, None),
    (200, 'not json', None),
    (404, {'message': 'nope'}, None),
    (500, {'message': 'boom'}, None),
])
def test_required_password_length(status, body, expected):
    if isinstance(body, str):
        responses.get(URL + '/api/settings/public', status=status, body=body)
    else:
        responses.get(URL + '/api/settings/public', status=status, json=body)
    assert _admin.required_password_length(client()) == expected


@responses.activate
def test_init_returns_the_user_without_its_hash():
    init = responses.post(URL + '/api/users/admin/init', json={'Id': 1, 'Username': 'admin', 'Role': 1, 'Password': HASH})
    created, user = _admin.init_admin(client(), 'admin', PASSWORD)
    assert created is True
    assert user == {'id': 1, 'username': 'admin', 'role': 'administrator'}
    assert json.loads(init.calls[0].request.body) == {'Username': 'admin', 'Password': PASSWORD}
    assert HASH not in json.dumps(user)


@responses.activate
def test_init_conflict_means_someone_was_first():
    responses.post(URL + '/api/users/admin/init', status=409,
                   json={'message': 'Unable to create administrator user', 'details': 'An administrator user already exists'})
    assert _admin.init_admin(client(), 'admin', PASSWORD) == (False, None)


@responses.activate
@pytest.mark.parametrize('length, fragment', [(20, 'at least 20 characters'), (None, 'at least 12 characters by default')])
def test_init_password_rules(length, fragment):
    responses.post(URL + '/api/users/admin/init', status=400,
                   json={'message': 'Password does not meet the requirements', 'details': 'Password does not meet the requirements'})
    with pytest.raises(PortainerError) as info:
        _admin.init_admin(client(), 'admin', 'short', length)
    assert str(info.value).startswith('password does not meet the requirements')
    assert fragment in str(info.value)


@responses.activate
def test_init_other_400_names_the_options():
    responses.post(URL + '/api/users/admin/init', status=400,
                   json={'message': 'Invalid request payload', 'details': 'Invalid username. Must not contain any whitespace'})
    with pytest.raises(PortainerAPIError, match='username'):
        _admin.init_admin(client(), 'admin', PASSWORD)


@responses.activate
def test_verify_login_reads_the_token_claims():
    responses.post(URL + '/api/auth', json={'jwt': jwt(id=1, username='admin', role=1)})
    assert _admin.verify_login(client(), 'admin', PASSWORD) == {'id': 1, 'username': 'admin', 'role': 'administrator'}


@responses.activate
@pytest.mark.parametrize('status, fragment', [(422, 'do not log in'), (403, 'bans an address')])
def test_verify_login_failures(status, fragment):
    responses.post(URL + '/api/auth', status=status, json={'message': 'Invalid credentials', 'details': 'Unauthorized'})
    with pytest.raises(PortainerError) as info:
        _admin.verify_login(client(), 'admin', PASSWORD)
    assert fragment in str(info.value)
    assert PASSWORD not in str(info.value)
