# -*- coding: utf-8 -*-
# Copyright (c) pier.portainer contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json

import responses

from ansible_collections.pier.portainer.plugins.modules import portainer_admin

URL = 'http://portainer.test:9000'
PASSWORD = 'CANARY-admin-password-77'
HASH = '$2a$10$CANARYHASHCANARYHASH'


def fresh(length=12):
    responses.get(URL + '/api/users/admin/check', status=404, json={'message': 'No administrator account found inside the database'})
    responses.get(URL + '/api/settings/public', json={'RequiredPasswordLength': length, 'AuthenticationMethod': 1})


def args(**extra):
    base = {'portainer_url': URL, 'password': PASSWORD}
    base.update(extra)
    return base


@responses.activate
def test_check_mode_predicts_without_writing(run_module):
    fresh()
    result = run_module(portainer_admin, args(), check_mode=True, diff=True)
    assert result['failed'] is False, result
    assert result['changed'] is True
    assert result['initialized'] is True
    assert result['user'] == {'id': None, 'username': 'admin', 'role': 'administrator'}
    assert result['diff'] == {'before': {'admin_initialized': False}, 'after': {'admin_initialized': True, 'username': 'admin'}}
    assert [c.request.method for c in responses.calls] == ['GET', 'GET']


@responses.activate
def test_creates_the_admin_and_drops_the_hash(run_module):
    fresh()
    responses.post(URL + '/api/users/admin/init', json={'Id': 1, 'Username': 'ops', 'Role': 1, 'Password': HASH})
    result = run_module(portainer_admin, args(username='ops'), diff=True)
    assert result['changed'] is True
    assert result['user'] == {'id': 1, 'username': 'ops', 'role': 'administrator'}
    assert 'CANARYHASH' not in json.dumps(result)
    assert len(responses.calls) == 3


@responses.activate
def test_short_password_fails_before_sending_it(run_module):
    fresh(length=30)
    result = run_module(portainer_admin, args())
    assert result['failed'] is True
    assert 'password' in result['msg'] and 'at least 30 characters' in result['msg']
    assert all(c.request.method == 'GET' for c in responses.calls)


@responses.activate
def test_initialised_instance_is_ok_and_checked(run_module):
    responses.get(URL + '/api/users/admin/check', status=204)
    responses.post(URL + '/api/auth', json={'jwt': 'e30.eyJpZCI6MSwidXNlcm5hbWUiOiJhZG1pbiIsInJvbGUiOjF9.sig'})
    result = run_module(portainer_admin, args(), diff=True)
    assert result['changed'] is False
    assert result['verified'] is True
    assert result['user'] == {'id': 1, 'username': 'admin', 'role': 'administrator'}
    assert result['diff']['before'] == result['diff']['after']
    assert 'log in as admin' in result['msg']


@responses.activate
def test_conflict_during_init_converges_to_verification(run_module):
    fresh()
    responses.post(URL + '/api/users/admin/init', status=409, json={'message': 'Unable to create administrator user'})
    responses.post(URL + '/api/auth', json={'jwt': 'e30.eyJpZCI6MSwidXNlcm5hbWUiOiJhZG1pbiIsInJvbGUiOjF9.sig'})
    result = run_module(portainer_admin, args())
    assert result['failed'] is False
    assert result['changed'] is False
    assert result['verified'] is True


@responses.activate
def test_wrong_password_fails_clearly(run_module):
    responses.get(URL + '/api/users/admin/check', status=204)
    responses.post(URL + '/api/auth', status=422, json={'message': 'Invalid credentials', 'details': 'Unauthorized'})
    result = run_module(portainer_admin, args(password='CANARY-wrong-password'))
    assert result['failed'] is True
    assert 'already has an administrator' in result['msg'] and 'do not log in' in result['msg']
    assert 'CANARY-wrong-password' not in json.dumps(result)


@responses.activate
def test_verify_false_sends_one_request(run_module):
    responses.get(URL + '/api/users/admin/check', status=204)
    result = run_module(portainer_admin, args(verify=False))
    assert result['changed'] is False
    assert result['verified'] is False
    assert len(responses.calls) == 1


@responses.activate
def test_common_credentials_are_ignored(run_module):
    responses.get(URL + '/api/users/admin/check', status=204)
    result = run_module(portainer_admin, args(verify=False, portainer_api_key='ptr_CANARY-key'))
    assert result['failed'] is False
    assert 'X-API-KEY' not in responses.calls[0].request.headers


@responses.activate
def test_standard_user_is_a_warning(run_module):
    responses.get(URL + '/api/users/admin/check', status=204)
    responses.post(URL + '/api/auth', json={'jwt': 'e30.eyJpZCI6MiwidXNlcm5hbWUiOiJib2IiLCJyb2xlIjoyfQ.sig'})
    result = run_module(portainer_admin, args(username='bob'))
    assert result['failed'] is False
    assert result['user']['role'] == 'user'
