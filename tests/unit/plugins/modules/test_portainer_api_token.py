# -*- coding: utf-8 -*-
# Copyright (c) pier.portainer contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json

import responses

from ansible_collections.pier.portainer.plugins.modules import portainer_api_token

URL = 'http://portainer.test:9000'
KEY = 'ptr_CANARY-unit-key-000111'
PASSWORD = 'CANARY-unit-password-222'
RAW = 'ptr_CANARY-raw-new-key-333'
ME = {'Id': 1, 'Username': 'admin', 'Role': 1}
OLD = {'id': 2, 'userId': 1, 'description': 'deploy', 'prefix': 'ptr_old', 'dateCreated': 5, 'lastUsed': 0, 'digest': ''}


def by_password(**extra):
    args = {'portainer_url': URL, 'portainer_username': 'admin', 'portainer_password': PASSWORD, 'description': 'deploy'}
    args.update(extra)
    return args


def by_key(**extra):
    args = {'portainer_url': URL, 'portainer_api_key': KEY, 'description': 'deploy'}
    args.update(extra)
    return args


def base(keys, login=True):
    if login:
        responses.post(URL + '/api/auth', json={'jwt': 'e30.e30.sig'})
    responses.get(URL + '/api/users/me', json=ME)
    responses.get(URL + '/api/users/1/tokens', json=keys)


def methods():
    return [(c.request.method, c.request.url.replace(URL, '')) for c in responses.calls]


@responses.activate
def test_creates_and_returns_the_raw_key_once(run_module):
    base([])
    responses.post(URL + '/api/users/1/tokens', status=201, json={'rawAPIKey': RAW, 'apiKey': dict(OLD, id=3, prefix=RAW[:7])})
    result = run_module(portainer_api_token, by_password(), diff=True)
    assert result['failed'] is False, result
    assert result['changed'] is True
    assert result['token'] == RAW
    assert result['api_key']['id'] == 3
    assert result['diff'] == {'before': {'description': 'deploy', 'present': False, 'ids': []},
                              'after': {'description': 'deploy', 'present': True, 'ids': [3]}}
    # The raw key is only in ``token``.
    assert json.dumps(dict((k, v) for k, v in result.items() if k != 'token')).count(RAW) == 0


@responses.activate
def test_existing_key_is_ok_with_two_requests(run_module):
    base([OLD, dict(OLD, id=9, description='other')], login=False)
    result = run_module(portainer_api_token, by_key(), diff=True)
    assert result['changed'] is False
    assert 'token' not in result
    assert result['api_key']['id'] == 2
    assert result['diff']['before'] == result['diff']['after']
    assert len(responses.calls) == 2


@responses.activate
def test_check_mode_creates_nothing(run_module):
    base([])
    result = run_module(portainer_api_token, by_password(), check_mode=True, diff=True)
    assert result['changed'] is True
    assert 'token' not in result
    assert result['diff']['after']['ids'] == ['(new key)']
    assert all(m in ('GET',) or u == '/api/auth' for m, u in methods())


@responses.activate
def test_creation_with_an_api_key_fails_before_writing(run_module):
    base([], login=False)
    result = run_module(portainer_api_token, by_key())
    assert result['failed'] is True
    assert 'portainer_username and portainer_password' in result['msg']
    assert all(call[0] == 'GET' for call in methods())
    assert KEY not in json.dumps(result)


@responses.activate
def test_rotate_deletes_then_creates(run_module):
    base([OLD])
    responses.delete(URL + '/api/users/1/tokens/2', status=204)
    responses.post(URL + '/api/users/1/tokens', status=201, json={'rawAPIKey': RAW, 'apiKey': dict(OLD, id=3)})
    result = run_module(portainer_api_token, by_password(rotate=True))
    assert result['changed'] is True
    assert result['token'] == RAW
    assert [d['id'] for d in result['deleted']] == [2]
    writes = [(m, u) for m, u in methods() if m != 'GET' and u != '/api/auth']
    assert writes == [('DELETE', '/api/users/1/tokens/2'), ('POST', '/api/users/1/tokens')]


@responses.activate
def test_absent_deletes_every_match_with_an_api_key(run_module):
    base([OLD, dict(OLD, id=5)], login=False)
    responses.delete(URL + '/api/users/1/tokens/2', status=204)
    responses.delete(URL + '/api/users/1/tokens/5', status=204)
    result = run_module(portainer_api_token, by_key(state='absent'), diff=True)
    assert result['changed'] is True
    assert [d['id'] for d in result['deleted']] == [2, 5]
    assert result['diff']['after'] == {'description': 'deploy', 'present': False, 'ids': []}


@responses.activate
def test_absent_when_missing_is_ok(run_module):
    base([], login=False)
    result = run_module(portainer_api_token, by_key(state='absent'))
    assert result['changed'] is False
    assert result['deleted'] == []


@responses.activate
def test_duplicates_warn(run_module):
    base([OLD, dict(OLD, id=5, dateCreated=9)], login=False)
    result = run_module(portainer_api_token, by_key())
    assert result['changed'] is False
    assert result['api_key']['id'] == 5


@responses.activate
def test_other_user_cannot_get_a_key_from_us(run_module):
    base([])
    responses.get(URL + '/api/users', json=[ME, {'Id': 7, 'Username': 'bob', 'Role': 2}])
    responses.get(URL + '/api/users/7/tokens', json=[])
    result = run_module(portainer_api_token, by_password(user='bob'))
    assert result['failed'] is True
    assert 'only for themselves' in result['msg']
