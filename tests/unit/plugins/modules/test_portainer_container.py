# -*- coding: utf-8 -*-
# Copyright (c) pier.portainer contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json

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
