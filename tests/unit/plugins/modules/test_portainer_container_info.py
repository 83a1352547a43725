# -*- coding: utf-8 -*-
# Copyright (c) pier.portainer contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json

import pytest
import responses

from ansible_collections.pier.portainer.plugins.modules import portainer_container_info

URL = 'http://portainer.test:9000'
KEY = 'ptr_CANARY-container-info-key-88'
DOCKER = URL + '/api/endpoints/3/docker'


def args(**kwargs):
    base = {'portainer_url': URL, 'portainer_api_key': KEY, 'endpoint': '3'}
    base.update(kwargs)
    return base


@responses.activate
def test_one_container(run_module):
    responses.get(DOCKER + '/containers/web/json', json={'Id': 'a' * 64, 'Name': '/web', 'Portainer': {}})
    result = run_module(portainer_container_info, args(name='web'), check_mode=True)
    assert result['failed'] is False
    assert result['changed'] is False
    assert result['exists'] is True
    assert result['container'] == {'Id': 'a' * 64, 'Name': '/web'}


@responses.activate
def test_missing_container(run_module):
    responses.get(DOCKER + '/containers/web/json', json={'message': 'No such container: web'}, status=404)
    result = run_module(portainer_container_info, args(name='web'))
    assert result['exists'] is False
    assert result['container'] == {}


@responses.activate
def test_list_with_filters(run_module):
    listing = responses.get(DOCKER + '/containers/json', json=[{'Id': 'a', 'Names': ['/web'], 'IsPortainer': False}])
    result = run_module(portainer_container_info, args(all=True, filters={'status': 'exited', 'label': {'app': 'shop'}, 'name': ['web']}))
    assert result['containers'] == [{'Id': 'a', 'Names': ['/web']}]
    params = listing.calls[0].request.params
    assert params['all'] == '1'
    assert json.loads(params['filters']) == {'status': ['exited'], 'label': ['app=shop'], 'name': ['web']}


@responses.activate
@pytest.mark.parametrize('extra', [{'name': 'web'}, {}])
def test_unknown_environment(run_module, extra):
    body = {'message': 'Unable to find an environment with the specified identifier inside the database'}
    responses.get(DOCKER + '/containers/web/json', json=body, status=404)
    responses.get(DOCKER + '/containers/json', json=body, status=404)
    result = run_module(portainer_container_info, args(**extra))
    assert result['failed'] is True
    assert result['msg'].startswith('endpoint:')


@responses.activate
def test_environment_by_name(run_module):
    responses.get(URL + '/api/endpoints', json=[{'Id': 3, 'Name': 'local'}])
    responses.get(DOCKER + '/containers/json', json=[])
    result = run_module(portainer_container_info, args(endpoint='local'))
    assert result['containers'] == []
    assert len(responses.calls) == 2


def test_name_and_filters_are_exclusive(run_module):
    result = run_module(portainer_container_info, args(name='web', filters={'status': 'running'}))
    assert result['failed'] is True
    assert 'mutually exclusive' in result['msg']


@pytest.mark.parametrize('extra, words', [
    ({'name': ''}, 'name:'),
    ({'name': ' '}, 'name:'),
    ({'name': 'bad name'}, 'name:'),
    ({'filters': {'': 'x'}}, 'filters: a filter name is empty'),
    ({'filters': {'status': {'nested': 1}}}, 'filters: status takes a string'),
    ({'filters': {'name': [{'a': 1}]}}, 'filters: name takes a string'),
])
def test_bad_input_fails_before_any_request(run_module, extra, words):
    with responses.RequestsMock() as mock:
        result = run_module(portainer_container_info, args(**extra))
        assert len(mock.calls) == 0
    assert result['failed'] is True
    assert result['msg'].startswith(words)
