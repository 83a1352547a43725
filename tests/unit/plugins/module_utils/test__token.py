# -*- coding: utf-8 -*-
# Copyright (c) pier.portainer contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json

import pytest
import responses

from ansible_collections.pier.portainer.plugins.module_utils import _token
from ansible_collections.pier.portainer.plugins.module_utils._api import PortainerAPIError, PortainerClient, PortainerError

URL = 'http://portainer.test:9000'
KEY = 'ptr_CANARY-unit-key-000111'
PASSWORD = 'CANARY-unit-password-222'
RAW = 'ptr_CANARY-raw-new-key-333'
ME = {'Id': 1, 'Username': 'admin', 'Role': 1}


def password_client(tmp_path):
    return PortainerClient(URL, username='admin', password=PASSWORD, token_cache_dir=str(tmp_path / 'cache'))


def key_client():
    return PortainerClient(URL, api_key=KEY)


@pytest.mark.parametrize('params, fragment', [
    ({'description': 'deploy', 'state': 'present', 'rotate': False}, None),
    ({'description': '', 'state': 'present'}, 'description is empty'),
    ({'description': '   ', 'state': 'present'}, 'description is empty'),
    ({'description': None, 'state': 'present'}, 'description is empty'),
    ({'description': 'x' * 127, 'state': 'present'}, None),
    ({'description': 'x' * 128, 'state': 'present'}, 'at most 127'),
    ({'description': 'deploy', 'state': 'present', 'user': ' '}, 'user is empty'),
    ({'description': 'deploy', 'state': 'absent', 'rotate': True}, 'rotate: true needs state: present'),
])
def test_validate_input(params, fragment):
    problem = _token.validate_input(params)
    if fragment is None:
        assert problem is None
    else:
        assert fragment in problem


def test_key_view_drops_the_digest():
    key = {'id': 3, 'userId': 1, 'description': 'd', 'prefix': 'ptr_abc', 'dateCreated': 10, 'lastUsed': 0, 'digest': 'CANARYDIGEST'}
    assert _token.key_view(key) == {'id': 3, 'user_id': 1, 'description': 'd', 'prefix': 'ptr_abc', 'date_created': 10, 'last_used': 0}


@responses.activate
@pytest.mark.parametrize('ref, expected, requests', [
    (None, (1, 'admin'), 0),
    ('admin', (1, 'admin'), 0),
    ('1', (1, 'admin'), 0),
    ('7', (7, 'bob'), 1),
    ('bob', (7, 'bob'), 1),
    ('BOB', (7, 'bob'), 1),
])
def test_resolve_user(ref, expected, requests):
    responses.get(URL + '/api/users/7', json={'Id': 7, 'Username': 'bob', 'Role': 2})
    responses.get(URL + '/api/users', json=[ME, {'Id': 7, 'Username': 'bob', 'Role': 2}])
    assert _token.resolve_user(key_client(), ref, ME) == expected
    assert len(responses.calls) == requests


@responses.activate
@pytest.mark.parametrize('ref', ['nobody', '99'])
def test_resolve_unknown_user_names_the_option(ref):
    responses.get(URL + '/api/users/99', status=404, json={'message': 'Unable to find a user'})
    responses.get(URL + '/api/users', json=[ME])
    with pytest.raises(PortainerError, match='^user: '):
        _token.resolve_user(key_client(), ref, ME)


@responses.activate
@pytest.mark.parametrize('content_type', ['application/json', 'text/plain; charset=utf-8'])
def test_create_parses_both_shapes(tmp_path, content_type):
    responses.post(URL + '/api/auth', json={'jwt': 'e30.e30.sig'})
    create = responses.post(URL + '/api/users/1/tokens', status=201, content_type=content_type,
                            body=json.dumps({'rawAPIKey': RAW, 'apiKey': {'id': 4, 'description': 'd'}}))
    raw, key = _token.create_key(password_client(tmp_path), 1, 'd')
    assert raw == RAW
    assert key['id'] == 4
    assert json.loads(create.calls[0].request.body) == {'description': 'd', 'password': PASSWORD}
    assert create.calls[0].request.headers['Authorization'] == 'Bearer e30.e30.sig'


@responses.activate
@pytest.mark.parametrize('status, body, fragment', [
    (401, {'message': 'Auth not supported', 'details': 'Authentication required'}, 'needs portainer_username and portainer_password'),
    (403, {'message': "Current password doesn't match"}, 'checks portainer_password again'),
    (403, {'message': 'Permission denied to create user access token'}, 'only for themselves'),
    (403, {'message': 'Access denied', 'details': 'Access denied to resource'}, 'rate limit'),
    (400, {'message': 'Invalid request payload', 'details': 'invalid password: cannot be empty'}, 'set portainer_password'),
])
def test_create_errors_are_explained(tmp_path, status, body, fragment):
    responses.post(URL + '/api/auth', json={'jwt': 'e30.e30.sig'})
    responses.post(URL + '/api/users/1/tokens', status=status, json=body)
    with pytest.raises(PortainerError) as info:
        _token.create_key(password_client(tmp_path), 1, 'd')
    assert fragment in str(info.value)
    assert PASSWORD not in str(info.value)


@responses.activate
def test_create_without_key_in_answer_fails():
    responses.post(URL + '/api/users/1/tokens', status=201, body='')
    with pytest.raises(PortainerError, match='without the new key'):
        _token.create_key(key_client(), 1, 'd')


@responses.activate
@pytest.mark.parametrize('status, body, ok', [
    (204, None, True),
    (404, {'message': 'Unable to find a user'}, True),
    (500, {'message': 'API Key not found', 'details': 'Object not found inside the database'}, True),
    (500, {'message': 'boom'}, False),
    (403, {'message': 'Permission denied to remove api-key'}, False),
])
def test_delete(status, body, ok):
    responses.delete(URL + '/api/users/1/tokens/4', status=status, json=body)
    if ok:
        assert _token.delete_key(key_client(), 1, 4) is True
    else:
        with pytest.raises(PortainerAPIError):
            _token.delete_key(key_client(), 1, 4)
