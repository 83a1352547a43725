# -*- coding: utf-8 -*-
# Copyright (c) pier.portainer contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json

import pytest
import responses

from ansible.module_utils import basic

from ansible_collections.pier.portainer.plugins.modules import portainer_docker_api

URL = 'http://portainer.test:9000'
KEY = 'ptr_CANARY-unit-key-000111'
PROXY = URL + '/api/endpoints/3/docker'


def args(**extra):
    base = {'portainer_url': URL, 'portainer_api_key': KEY, 'endpoint': '3', 'path': '/containers/json'}
    base.update(extra)
    return base


@responses.activate
def test_get_by_id_is_one_request(run_module):
    responses.get(PROXY + '/containers/json', json=[{'Id': 'a'}], headers={'Api-Version': '1.41', 'Set-Cookie': 'x=y'})
    result = run_module(portainer_docker_api, args(query={'all': True}))
    assert result['failed'] is False, result
    assert result['changed'] is False
    assert result['status'] == 200
    assert result['json'] == [{'Id': 'a'}]
    assert result['headers']['Api-Version'] == '1.41'
    assert 'Set-Cookie' not in result['headers']
    assert len(responses.calls) == 1
    assert responses.calls[0].request.url.endswith('?all=true')
    assert responses.calls[0].request.headers['X-API-KEY'] == KEY


@responses.activate
def test_get_by_name_looks_the_id_up(run_module):
    responses.get(URL + '/api/endpoints', json=[{'Id': 3, 'Name': 'local'}])
    responses.get(PROXY + '/info', json={'ID': 'x'})
    result = run_module(portainer_docker_api, args(endpoint='local', path='/info'))
    assert result['endpoint_id'] == 3
    assert len(responses.calls) == 2


@responses.activate
def test_check_mode_skips_writes(run_module):
    result = run_module(portainer_docker_api, args(method='POST', path='/containers/create', body={'Image': 'x'}), check_mode=True)
    assert result['changed'] is True
    assert result['skipped_write'] is True
    assert 'check mode' in result['msg']
    assert 'status' not in result
    assert len(responses.calls) == 0


@responses.activate
def test_check_mode_sends_reads(run_module):
    responses.get(PROXY + '/containers/json', json=[])
    result = run_module(portainer_docker_api, args(), check_mode=True)
    assert result['skipped_write'] is False
    assert result['status'] == 200


@responses.activate
@pytest.mark.parametrize('method, status, write, changed', [
    ('POST', 200, None, True),
    ('POST', 204, None, True),
    ('POST', 304, None, False),
    ('DELETE', 404, None, False),
    ('POST', 200, False, False),
    ('GET', 200, True, True),
])
def test_changed_follows_write_and_status(run_module, method, status, write, changed):
    responses.add(method, PROXY + '/containers/web/x', status=status)
    result = run_module(portainer_docker_api, args(method=method, path='/containers/web/x', write=write,
                                                   status_code=[200, 204, 304, 404]))
    assert result['failed'] is False, result
    assert result['changed'] is changed


@responses.activate
def test_body_is_sent_as_json(run_module):
    create = responses.post(PROXY + '/containers/create', json={'Id': 'abc', 'Warnings': []})
    run_module(portainer_docker_api, args(method='POST', path='/containers/create', query={'name': 'web'}, body={'Image': 'busybox'}))
    assert json.loads(create.calls[0].request.body) == {'Image': 'busybox'}
    assert create.calls[0].request.url.endswith('?name=web')


@responses.activate
def test_unaccepted_status_fails_with_dockers_message(run_module):
    responses.get(PROXY + '/containers/nope/json', status=404, json={'message': 'No such container: nope'})
    result = run_module(portainer_docker_api, args(path='/containers/nope/json'))
    assert result['failed'] is True
    assert 'No such container: nope' in result['msg']
    assert 'accepted: 2xx, 304' in result['msg']
    assert result['status'] == 404
    assert result['json'] == {'message': 'No such container: nope'}


@responses.activate
def test_accepted_404_is_returned(run_module):
    responses.get(PROXY + '/containers/nope/json', status=404, json={'message': 'No such container: nope'})
    result = run_module(portainer_docker_api, args(path='/containers/nope/json', status_code=[200, 404]))
    assert result['failed'] is False
    assert result['status'] == 404


@responses.activate
def test_unknown_environment_id_is_named(run_module):
    responses.get(PROXY + '/containers/json', status=404,
                  json={'message': 'Unable to find an environment with the specified identifier inside the database'})
    result = run_module(portainer_docker_api, args(status_code=[200, 404]))
    assert result['failed'] is True
    assert result['msg'].startswith('endpoint: no Portainer environment with id 3')


@responses.activate
def test_stream_is_decoded_and_errors_in_it_fail(run_module):
    responses.post(PROXY + '/images/create', body='{"status":"Pulling"}\n{"error":"pull access denied","errorDetail":{"message":"denied"}}\n')
    result = run_module(portainer_docker_api, args(method='POST', path='/images/create', query={'fromImage': 'x'}))
    assert result['failed'] is True
    assert 'pull access denied' in result['msg']
    assert result['stream'][0] == {'status': 'Pulling'}


@responses.activate
def test_registry_auth_is_masked(run_module, monkeypatch):
    seen = []
    original = basic.AnsibleModule.__init__

    def capture(self, *a, **kw):
        original(self, *a, **kw)
        seen.append(self)

    monkeypatch.setattr(basic.AnsibleModule, '__init__', capture)
    echo = 'CANARY-registry-pass'
    responses.post(PROXY + '/images/create', body='{"status":"CANARY-registry-pass seen"}\n')
    result = run_module(portainer_docker_api, args(method='POST', path='/images/create',
                                                   headers={'X-Registry-Auth': {'username': 'u', 'password': echo}}))
    assert result['failed'] is False
    assert echo not in json.dumps(result)
    assert echo in seen[0].no_log_values
    sent = responses.calls[0].request.headers['X-Registry-Auth']
    assert sent in seen[0].no_log_values


@pytest.mark.parametrize('extra, fragment', [
    ({'path': 'http://x/containers/json'}, 'absolute URL'),
    ({'headers': {'Authorization': 'Bearer x'}}, 'headers: Authorization'),
    ({'status_code': [700]}, 'status_code'),
    ({'endpoint': ' '}, 'endpoint is empty'),
])
def test_bad_input_fails_before_any_request(run_module, extra, fragment):
    with responses.RequestsMock() as mock:
        result = run_module(portainer_docker_api, args(**extra))
        assert len(mock.calls) == 0
    assert result['failed'] is True
    assert fragment in result['msg']
