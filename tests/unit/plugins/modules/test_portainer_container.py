# -*- coding: utf-8 -*-
# Copyright (c) pier.portainer contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json

import pytest
import responses

from ansible_collections.pier.portainer.plugins.modules import portainer_container

URL = 'http://portainer.test:9000'
KEY = 'ptr_CANARY-container-module-key-77'
DOCKER = URL + '/api/endpoints/3/docker'
CID = 'c' * 64
IMAGE_ID = 'sha256:' + '1' * 64


def args(**kwargs):
    base = {'portainer_url': URL, 'portainer_api_key': KEY, 'endpoint': '3', 'name': 'web', 'image': 'busybox:1'}
    base.update(kwargs)
    return base


def inspect(running=True):
    return {'Id': CID, 'Name': '/web', 'Image': IMAGE_ID, 'State': {'Status': 'running' if running else 'exited', 'Running': running},
            'Config': {'Env': ['PATH=/bin'], 'Labels': {}}, 'HostConfig': {'PortBindings': {}}, 'Portainer': {'ResourceControl': {}},
            'NetworkSettings': {'Networks': {}}}


@responses.activate
def test_no_change_result_shape(run_module):
    responses.get(DOCKER + '/containers/web/json', json=inspect())
    responses.get(DOCKER + '/images/busybox:1/json', json={'Id': IMAGE_ID, 'Config': {}})
    result = run_module(portainer_container, args(env={'PATH': '/bin'}), diff=True)
    assert result['failed'] is False, result
    assert result['changed'] is False
    assert result['actions'] == []
    assert result['container']['Id'] == CID
    assert 'Portainer' not in result['container']
    assert result['diff'] == {'before': {}, 'after': {}}
    assert len(responses.calls) == 2


@responses.activate
def test_check_mode_start_is_predicted(run_module):
    responses.get(DOCKER + '/containers/web/json', json=inspect(running=False))
    responses.get(DOCKER + '/images/busybox:1/json', json={'Id': IMAGE_ID, 'Config': {}})
    result = run_module(portainer_container, args(), check_mode=True, diff=True)
    assert result['changed'] is True
    assert result['actions'] == [{'action': 'start', 'id': CID}]
    assert result['diff'] == {'before': {'running': False}, 'after': {'running': True}}
    assert all(c.request.method == 'GET' for c in responses.calls)


def test_bad_port_fails_cleanly_before_any_request(run_module):
    result = run_module(portainer_container, args(published_ports=['80:80:80:80']))
    assert result['failed'] is True
    assert result['msg'].startswith('published_ports:')
    assert KEY not in json.dumps(result)


def test_bad_comparison_fails_cleanly(run_module):
    result = run_module(portainer_container, args(comparisons={'memory': 'allow_more_present'}))
    assert result['failed'] is True
    assert result['msg'].startswith('comparisons: memory')


@responses.activate
def test_docker_error_passes_through_without_secret(run_module):
    responses.get(DOCKER + '/containers/web/json', json={'message': 'No such container: web'}, status=404)
    responses.get(DOCKER + '/images/busybox:1/json', json={'Id': IMAGE_ID, 'Config': {}})
    responses.post(DOCKER + '/containers/create', status=409, json={'message': 'Conflict. The container name "/web" is already in use'})
    responses.get(DOCKER + '/containers/web/json', json={'message': 'No such container: web'}, status=404)
    result = run_module(portainer_container, args())
    assert result['failed'] is True
    assert '409' in result['msg'] and 'already in use' in result['msg']
    assert KEY not in json.dumps(result)


# ------------------------------------------------------------------ environment names from the cache

def by_name(**kwargs):
    return args(endpoint='prod', **kwargs)


@responses.activate
def test_a_loop_on_one_environment_name_looks_it_up_once(run_module):
    lookup = responses.get(URL + '/api/endpoints', json=[{'Id': 3, 'Name': 'prod'}])
    responses.get(DOCKER + '/containers/web/json', json=inspect())
    responses.get(DOCKER + '/images/busybox:1/json', json={'Id': IMAGE_ID, 'Config': {}})
    for dummy in range(3):
        result = run_module(portainer_container, by_name(env={'PATH': '/bin'}))
        assert result['failed'] is False and result['changed'] is False, result
    assert lookup.call_count == 1
    # The no-op tasks after the first cost two requests each: the container and its image.
    assert len(responses.calls) == 1 + 3 * 2


@responses.activate
def test_a_cached_name_is_confirmed_before_check_mode_reports_a_change(run_module):
    lookup = responses.get(URL + '/api/endpoints', json=[{'Id': 3, 'Name': 'prod'}])
    responses.get(DOCKER + '/containers/web/json', json=inspect(running=False))
    responses.get(DOCKER + '/images/busybox:1/json', json={'Id': IMAGE_ID, 'Config': {}})
    run_module(portainer_container, by_name(), check_mode=True)
    result = run_module(portainer_container, by_name(), check_mode=True)
    assert result['changed'] is True
    assert lookup.call_count == 2
    assert all(c.request.method == 'GET' for c in responses.calls)


@pytest.fixture
def run_by_name(run_module):
    def run(**kwargs):
        return run_module(portainer_container, by_name(**kwargs))
    return run


def rename_prod(run_by_name, old_container_answer):
    """prod was environment 3; then 3 is renamed (or removed) and prod is a new environment 5 without the container."""
    responses.get(URL + '/api/endpoints', json=[{'Id': 3, 'Name': 'prod'}])
    responses.get(DOCKER + '/containers/web/json', json=inspect())
    responses.get(DOCKER + '/images/busybox:1/json', json={'Id': IMAGE_ID, 'Config': {}})
    assert run_by_name(env={'PATH': '/bin'})['changed'] is False
    responses.replace(responses.GET, URL + '/api/endpoints', json=[{'Id': 5, 'Name': 'prod'}])
    responses.replace(responses.GET, DOCKER + '/containers/web/json', **old_container_answer)
    other = URL + '/api/endpoints/5/docker'
    responses.get(other + '/containers/web/json', status=404, json={'message': 'No such container: web'})
    responses.get(other + '/images/busybox:1/json', json={'Id': IMAGE_ID, 'Config': {}})
    responses.get(other + '/containers/%s/json' % CID, json=dict(inspect(running=False), Name='/web'))
    responses.post(other + '/containers/%s/start' % CID, status=204)
    return responses.post(other + '/containers/create', status=201, json={'Id': CID})


@responses.activate
@pytest.mark.parametrize('old_container_answer', [
    # The old environment still has the container, stopped: the start must not go there.
    dict(json=inspect(running=False)),
    # The old environment is gone.
    dict(status=404, json={'message': 'Unable to find an environment with the specified identifier inside the database'}),
])
def test_a_name_that_now_stands_for_another_environment_is_looked_up_again(run_by_name, old_container_answer):
    create = rename_prod(run_by_name, old_container_answer)
    old_start = responses.post(DOCKER + '/containers/%s/start' % CID, status=204)
    result = run_by_name(env={'PATH': '/bin'})
    assert result['failed'] is False, result
    assert result['changed'] is True
    assert create.call_count == 1 and old_start.call_count == 0
    assert [a['action'] for a in result['actions']] == ['create', 'start']
    assert all('/endpoints/3/' not in c.request.url for c in responses.calls if c.request.method != 'GET')
