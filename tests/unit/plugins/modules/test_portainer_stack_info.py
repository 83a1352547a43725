# -*- coding: utf-8 -*-
# Copyright (c) pier.portainer contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json

import responses

from ansible_collections.pier.portainer.plugins.modules import portainer_stack_info
BASE = 'https://portainer.test:9443'
API_KEY = 'ptr_CANARY-api-key-0123456789'
SWARM_ID = 'swarm-1'
TEXT = 'services:\n  web:\n    image: nginx\n'
ENDPOINT = {'Id': 3, 'Name': 'local', 'Type': 1}
SWARM_INFO = {'Swarm': {'LocalNodeState': 'active', 'ControlAvailable': True, 'Cluster': {'ID': SWARM_ID}}}


def call(run_module, module, args):
    return run_module(module, dict(args, portainer_url=BASE, portainer_api_key=API_KEY))


def stack(**kwargs):
    data = {'Id': 7, 'Name': 'web', 'Type': 1, 'EndpointId': 3, 'SwarmId': SWARM_ID, 'Status': 1, 'EntryPoint': 'docker-compose.yml',
            'Env': [{'name': 'A', 'value': '1'}], 'Option': {'Prune': False}, 'GitConfig': None, 'AutoUpdate': None}
    data.update(kwargs)
    return data


@responses.activate
def test_stack_info_lists_swarm_stacks_too(run_module):
    responses.get(BASE + '/api/endpoints', json=[ENDPOINT])
    responses.get(BASE + '/api/endpoints/3/docker/info', json=SWARM_INFO)
    listing = responses.get(BASE + '/api/stacks', json=[stack(), stack(Id=8, Name='app', Type=2, SwarmId='')])
    responses.get(BASE + '/api/stacks/7/file', json={'StackFileContent': TEXT})
    result = call(run_module, portainer_stack_info, {'endpoint': 'local', 'name': 'web', 'include_file': True})
    assert result['changed'] is False
    assert result['exists'] is True
    assert [s['Name'] for s in result['stacks']] == ['web']
    assert result['stacks'][0]['StackFileContent'] == TEXT
    assert 'SwarmID' in listing.calls[0].request.url


@responses.activate
def test_stack_info_of_all_environments_and_missing_name(run_module):
    listing = responses.get(BASE + '/api/stacks', json=[
        stack(Env=[{'name': 'DB_PASSWORD', 'value': 'CANARY-secret'}]), stack(Id=8, Name='app', Type=2, SwarmId='', EndpointId=4)])
    result = call(run_module, portainer_stack_info, {'type': 'standalone'})
    assert [s['Name'] for s in result['stacks']] == ['app']
    assert 'exists' not in result
    assert 'filters' not in listing.calls[0].request.url
    result = call(run_module, portainer_stack_info, {'name': 'nothing'})
    assert result['exists'] is False and result['stacks'] == []
    result = call(run_module, portainer_stack_info, {})
    assert 'CANARY-secret' not in json.dumps(result)


@responses.activate
def test_stack_info_not_a_swarm(run_module):
    environment = responses.get(BASE + '/api/endpoints/3', json=ENDPOINT)
    responses.get(BASE + '/api/endpoints/3/docker/info', json={'Swarm': {'LocalNodeState': 'inactive'}})
    listing = responses.get(BASE + '/api/stacks', json=[])
    result = call(run_module, portainer_stack_info, {'endpoint': '3'})
    assert result['stacks'] == []
    assert 'SwarmID' not in listing.calls[0].request.url
    # An id needs no request for the environment itself.
    assert environment.call_count == 0 and len(responses.calls) == 2


@responses.activate
def test_stack_info_of_a_kubernetes_environment_is_empty(run_module):
    responses.get(BASE + '/api/endpoints/5/docker/info', status=500, json={'message': 'Unable to proxy the request via the Docker API'})
    responses.get(BASE + '/api/endpoints/5', json={'Id': 5, 'Name': 'kube', 'Type': 5})
    responses.get(BASE + '/api/stacks', json=[])
    result = call(run_module, portainer_stack_info, {'endpoint': '5'})
    assert result['failed'] is False, result
    assert result['stacks'] == []


@responses.activate
def test_stack_info_of_a_failing_engine_is_an_error(run_module):
    responses.get(BASE + '/api/endpoints/3/docker/info', status=500, json={'message': 'Unable to proxy the request via the Docker API'})
    responses.get(BASE + '/api/endpoints/3', json=ENDPOINT)
    result = call(run_module, portainer_stack_info, {'endpoint': '3'})
    assert result['failed'] is True
    assert 'docker/info returned HTTP 500' in result['msg']
