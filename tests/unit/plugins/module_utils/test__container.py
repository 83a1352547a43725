# -*- coding: utf-8 -*-
# Copyright (c) pier.portainer contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import base64
import copy
import datetime
import email.utils
import json

import pytest
import responses

from responses import matchers

from ansible_collections.pier.portainer.plugins.module_utils import _container
from ansible_collections.pier.portainer.plugins.module_utils._api import PortainerClient, PortainerError
from ansible_collections.pier.portainer.plugins.module_utils._container import ContainerManager
from ansible_collections.pier.portainer.plugins.module_utils._container_options import OptionError
from ansible_collections.pier.portainer.plugins.modules.portainer_container import ARGUMENT_SPEC

URL = 'http://portainer.test:9000'
KEY = 'ptr_CANARY-container-key-0042'
DOCKER = URL + '/api/endpoints/3/docker'
CID = 'c' * 64
NEW_ID = 'd' * 64
IMAGE_1 = 'sha256:' + '1' * 64
IMAGE_2 = 'sha256:' + '2' * 64


class FakePM:
    def __init__(self, check_mode=False, **params):
        self.params = dict((name, spec.get('default')) for name, spec in ARGUMENT_SPEC.items())
        self.params.update(params)
        self.check_mode = check_mode
        self.diff_mode = True
        self.client = PortainerClient(URL, api_key=KEY, retries=0)


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    monkeypatch.setattr(_container.time, 'sleep', lambda seconds: None)


def image(image_id=IMAGE_1, **config):
    base = {'Env': ['PATH=/bin'], 'Cmd': ['/bin/pier-idle'], 'Labels': {'pier.testbed': '1'}}
    base.update(config)
    return {'Id': image_id, 'Os': 'linux', 'Architecture': 'amd64', 'Config': base}


def container(cid=CID, image_id=IMAGE_1, running=True, **host):
    host_config = {'NetworkMode': 'bridge', 'RestartPolicy': {'Name': 'no', 'MaximumRetryCount': 0}, 'Memory': 0, 'MemorySwap': 0,
                   'NanoCpus': 0, 'PortBindings': {}}
    host_config.update(host)
    return {
        'Id': cid, 'Name': '/web', 'Image': image_id,
        'State': {'Status': 'running' if running else 'exited', 'Running': running, 'Paused': False},
        'Config': {'Image': 'busybox:1', 'Env': ['PATH=/bin'], 'Cmd': ['/bin/pier-idle'], 'Labels': {'pier.testbed': '1'}},
        'HostConfig': host_config,
        'NetworkSettings': {'Networks': {'bridge': {'NetworkID': 'n' * 64, 'Aliases': None}}},
        'Portainer': {'ResourceControl': {'Id': 1}},
    }


def run(check_mode=False, **params):
    params.setdefault('endpoint', '3')
    params.setdefault('name', 'web')
    manager = ContainerManager(FakePM(check_mode=check_mode, **params))
    result = manager.run()
    return manager, result


def methods():
    return [(c.request.method, c.request.path_url.split('?')[0].replace('/api/endpoints/3/docker', '')) for c in responses.calls]


def no_such(what):
    return {'json': {'message': 'No such %s' % what}, 'status': 404}


# ------------------------------------------------------------------------------------------------ no-op and counting

@responses.activate
def test_noop_costs_two_requests_with_an_id():
    responses.get(DOCKER + '/containers/web/json', json=container(Memory=64 * 1024 ** 2, MemorySwap=128 * 1024 ** 2))
    responses.get(DOCKER + '/images/busybox:1/json', json=image())
    manager, result = run(image='busybox:1', env={'PATH': '/bin'}, memory='64m')
    assert manager.changed is False
    assert manager.actions == []
    assert len(responses.calls) == 2
    assert 'Portainer' not in result
    assert manager.diff() == {'before': {}, 'after': {}}


@responses.activate
def test_endpoint_by_name_costs_one_more():
    responses.get(URL + '/api/endpoints', json=[{'Id': 3, 'Name': 'local'}],
                  match=[matchers.query_param_matcher({'name': 'local', 'excludeSnapshots': 'true'})])
    responses.get(DOCKER + '/containers/web/json', json=container())
    responses.get(DOCKER + '/images/busybox:1/json', json=image())
    manager, dummy = run(endpoint='local', image='busybox:1')
    del dummy
    assert manager.changed is False
    assert len(responses.calls) == 3


@responses.activate
def test_unknown_endpoint_id_is_an_endpoint_error():
    responses.get(DOCKER + '/containers/web/json', status=404,
                  json={'message': 'Unable to find an environment with the specified identifier inside the database',
                        'details': 'Object not found inside the database'})
    with pytest.raises(PortainerError, match='^endpoint: no Portainer environment with id 3'):
        run(image='busybox:1')
    assert len(responses.calls) == 1


@responses.activate
def test_bad_input_sends_nothing():
    with pytest.raises(OptionError, match='^published_ports:'):
        run(image='busybox:1', published_ports=['1:2:3:4'])
    with pytest.raises(OptionError, match='^name:'):
        run(name='-bad name', image='busybox:1')
    with pytest.raises(OptionError, match='^networks:'):
        run(image='busybox:1', network_mode='host', networks=[{'name': 'n'}])
    assert len(responses.calls) == 0


# ------------------------------------------------------------------------------------------------ create

@responses.activate
def test_create_and_start():
    responses.get(DOCKER + '/containers/web/json', **no_such('container: web'))
    responses.get(DOCKER + '/images/busybox:1/json', json=image())
    create = responses.post(DOCKER + '/containers/create', json={'Id': NEW_ID, 'Warnings': ['careful'], 'Portainer': {}},
                            match=[matchers.query_param_matcher({'name': 'web'})])
    responses.get(DOCKER + '/containers/%s/json' % NEW_ID, json=container(NEW_ID, running=False))
    responses.post(DOCKER + '/containers/%s/start' % NEW_ID, status=204)
    responses.get(DOCKER + '/containers/%s/json' % NEW_ID, json=container(NEW_ID))
    manager, result = run(image='busybox:1', published_ports=['8080:80'])
    assert [a['action'] for a in manager.actions] == ['create', 'start']
    assert json.loads(create.calls[0].request.body) == {
        'Image': 'busybox:1', 'ExposedPorts': {'80/tcp': {}},
        'HostConfig': {'PortBindings': {'80/tcp': [{'HostIp': '', 'HostPort': '8080'}]}}}
    assert result['Id'] == NEW_ID and result['State']['Running']
    assert manager.warnings == ['Docker: careful']
    diff = manager.diff()
    assert diff['before'] == {'exists': False, 'running': False}
    assert diff['after']['published_ports'] == {'80/tcp': [['', '8080']]}


@responses.activate
def test_check_mode_create_sends_only_reads():
    responses.get(DOCKER + '/containers/web/json', **no_such('container: web'))
    responses.get(DOCKER + '/images/busybox:1/json', json=image())
    manager, result = run(check_mode=True, image='busybox:1', networks=[{'name': 'a'}, {'name': 'b'}])
    assert [a['action'] for a in manager.actions] == ['create', 'connect', 'start']
    assert manager.actions[1]['network'] == 'b'
    assert all(c.request.method == 'GET' for c in responses.calls)
    assert result == {}


@responses.activate
def test_id_prefix_match_is_not_the_container():
    other = container()
    other['Name'] = '/something-else'
    responses.get(DOCKER + '/containers/web/json', json=other)
    responses.get(DOCKER + '/images/busybox:1/json', json=image())
    manager, dummy = run(check_mode=True, image='busybox:1')
    del dummy
    assert [a['action'] for a in manager.actions] == ['create', 'start']


@responses.activate
def test_missing_image_with_pull_never_fails_before_writing():
    responses.get(DOCKER + '/containers/web/json', **no_such('container: web'))
    responses.get(DOCKER + '/images/nope:1/json', **no_such('image: nope:1'))
    with pytest.raises(PortainerError, match='^image: nope:1 is not on this environment and pull is never'):
        run(image='nope:1', pull='never')
    assert all(c.request.method == 'GET' for c in responses.calls)


# ------------------------------------------------------------------------------------------------ recreate, update, state

@responses.activate
def test_image_change_recreates():
    responses.get(DOCKER + '/containers/web/json', json=container())
    responses.get(DOCKER + '/images/busybox:2/json', json=image(IMAGE_2))
    manager, dummy = run(check_mode=True, image='busybox:2')
    del dummy
    assert [a['action'] for a in manager.actions] == ['stop', 'remove', 'create', 'start']
    assert manager.diff()['before']['image'] == IMAGE_1
    assert manager.diff()['after']['image'] == IMAGE_2


@responses.activate
def test_recreate_stops_removes_waits_and_creates():
    responses.get(DOCKER + '/containers/web/json', json=container())
    responses.get(DOCKER + '/images/busybox:1/json', json=image())
    stop = responses.post(DOCKER + '/containers/%s/stop' % CID, status=204)
    delete = responses.delete(DOCKER + '/containers/%s' % CID, status=204)
    responses.get(DOCKER + '/containers/%s/json' % CID, json=dict(container(), State={'Status': 'removing'}))
    responses.get(DOCKER + '/containers/%s/json' % CID, **no_such('container'))
    responses.post(DOCKER + '/containers/create', json={'Id': NEW_ID})
    responses.get(DOCKER + '/containers/%s/json' % NEW_ID, json=container(NEW_ID, running=False))
    responses.post(DOCKER + '/containers/%s/start' % NEW_ID, status=204)
    responses.get(DOCKER + '/containers/%s/json' % NEW_ID, json=container(NEW_ID))
    manager, result = run(image='busybox:1', env={'A': '1'}, stop_timeout=3, keep_volumes=False)
    assert [a['action'] for a in manager.actions] == ['stop', 'remove', 'create', 'start']
    assert stop.calls[0].request.params == {'t': '3'}
    assert delete.calls[0].request.params == {'v': '1'}
    assert result['Id'] == NEW_ID
    assert manager.diff()['after']['env'] == ['A=1', 'PATH=/bin']


@responses.activate
def test_memory_change_updates_in_place():
    responses.get(DOCKER + '/containers/web/json', json=container(Memory=64 * 1024 ** 2, MemorySwap=128 * 1024 ** 2))
    responses.get(DOCKER + '/images/busybox:1/json', json=image())
    update = responses.post(DOCKER + '/containers/%s/update' % CID, json={'Warnings': []})
    responses.get(DOCKER + '/containers/web/json', json=container(Memory=128 * 1024 ** 2))
    responses.get(DOCKER + '/containers/%s/json' % CID, json=container(Memory=128 * 1024 ** 2))
    manager, result = run(image='busybox:1', memory='128m', restart_policy='always')
    assert [a['action'] for a in manager.actions] == ['update']
    assert json.loads(update.calls[0].request.body) == {
        'Memory': 128 * 1024 ** 2, 'MemorySwap': 256 * 1024 ** 2, 'RestartPolicy': {'Name': 'always', 'MaximumRetryCount': 0}}
    assert result['Id'] == CID
    assert manager.diff() == {'before': {'memory': 64 * 1024 ** 2, 'restart_policy': 'no'},
                              'after': {'memory': 128 * 1024 ** 2, 'restart_policy': 'always'}}


@responses.activate
@pytest.mark.parametrize('state, running, actions', [
    ('started', False, ['start']),
    ('started', True, []),
    ('stopped', True, ['stop']),
    ('stopped', False, []),
    ('present', False, []),
    ('present', True, []),
    ('absent', True, ['stop', 'remove']),
    ('absent', False, ['remove']),
])
def test_state_transitions_in_check_mode(state, running, actions):
    responses.get(DOCKER + '/containers/web/json', json=container(running=running))
    responses.get(DOCKER + '/images/busybox:1/json', json=image())
    manager, dummy = run(check_mode=True, image='busybox:1', state=state)
    del dummy
    assert [a['action'] for a in manager.actions] == actions
    assert manager.changed is bool(actions)
    assert all(c.request.method == 'GET' for c in responses.calls)


@responses.activate
def test_absent_when_missing_is_one_request():
    responses.get(DOCKER + '/containers/web/json', **no_such('container: web'))
    manager, result = run(state='absent')
    assert manager.changed is False and result == {}
    assert len(responses.calls) == 1


# ------------------------------------------------------------------------------------------------ networks

@responses.activate
def test_networks_connect_and_strict_disconnect():
    current = container()
    current['NetworkSettings']['Networks']['old'] = {'Aliases': ['x']}
    responses.get(DOCKER + '/containers/web/json', json=current)
    connect = responses.post(DOCKER + '/networks/new/connect', json={})
    responses.post(DOCKER + '/networks/bridge/disconnect', json={})
    responses.post(DOCKER + '/networks/old/disconnect', json={})
    responses.get(DOCKER + '/containers/%s/json' % CID, json=container())
    manager, dummy = run(networks=[{'name': 'new', 'aliases': ['web'], 'ipv4_address': '10.0.0.9'}], comparisons={'networks': 'strict'})
    del dummy
    assert manager.actions == [{'action': 'connect', 'network': 'new'}, {'action': 'disconnect', 'network': 'bridge'},
                               {'action': 'disconnect', 'network': 'old'}]
    assert json.loads(connect.calls[0].request.body) == {
        'Container': CID, 'EndpointConfig': {'IPAMConfig': {'IPv4Address': '10.0.0.9'}, 'Aliases': ['web']}}
    assert manager.diff() == {'before': {'networks': ['bridge', 'old']}, 'after': {'networks': ['new']}}


@responses.activate
def test_network_with_other_settings_is_reconnected():
    current = container()
    current['NetworkSettings']['Networks']['n'] = {'Aliases': ['a'], 'IPAMConfig': None}
    responses.get(DOCKER + '/containers/web/json', json=current)
    manager, dummy = run(check_mode=True, networks=[{'name': 'n', 'aliases': ['b']}])
    del dummy
    assert [a['action'] for a in manager.actions] == ['disconnect', 'connect']


# ------------------------------------------------------------------------------------------------ pulls and registries

def _stream(*events):
    return '\r\n'.join(json.dumps(e) for e in events)


@responses.activate
def test_pull_error_inside_the_stream_fails():
    responses.get(DOCKER + '/containers/web/json', json=container())
    responses.get(DOCKER + '/images/busybox:1/json', json=image())
    events = ({'status': 'Pulling from library/busybox', 'id': '1'}, {'errorDetail': {'message': 'manifest unknown'}})
    responses.post(DOCKER + '/images/create', body=_stream(*events))
    with pytest.raises(PortainerError, match='^image: pulling busybox:1 failed: manifest unknown'):
        run(image='busybox:1', pull='always')


@responses.activate
def test_pull_with_only_the_legacy_error_field_fails():
    responses.get(DOCKER + '/containers/web/json', json=container())
    responses.get(DOCKER + '/images/busybox:1/json', json=image())
    responses.post(DOCKER + '/images/create', body=_stream({'error': 'toomanyrequests'}))
    with pytest.raises(PortainerError, match='toomanyrequests'):
        run(image='busybox:1', pull='always')


@responses.activate
def test_pull_that_keeps_the_image_id_is_no_change():
    responses.get(DOCKER + '/containers/web/json', json=container())
    responses.get(DOCKER + '/images/busybox:1/json', json=image())
    pull = responses.post(DOCKER + '/images/create', body=_stream({'status': 'Digest: sha256:x'}, {'status': 'Status: Image is up to date'}),
                          match=[matchers.query_param_matcher({'fromImage': 'busybox', 'tag': '1'})])
    responses.get(DOCKER + '/images/busybox:1/json', json=image())
    manager, dummy = run(image='busybox:1', pull='always')
    del dummy
    assert manager.changed is False
    assert 'X-Registry-Auth' not in pull.calls[0].request.headers


@responses.activate
def test_pull_that_moves_the_tag_recreates():
    responses.get(DOCKER + '/containers/web/json', json=container())
    responses.get(DOCKER + '/images/busybox:1/json', json=image())
    responses.post(DOCKER + '/images/create', body=_stream({'status': 'Downloaded newer image for busybox:1'}))
    responses.get(DOCKER + '/images/busybox:1/json', json=image(IMAGE_2))
    responses.post(DOCKER + '/containers/%s/stop' % CID, status=204)
    responses.delete(DOCKER + '/containers/%s' % CID, status=204)
    responses.get(DOCKER + '/containers/%s/json' % CID, **no_such('container'))
    responses.post(DOCKER + '/containers/create', json={'Id': NEW_ID})
    responses.get(DOCKER + '/containers/%s/json' % NEW_ID, json=container(NEW_ID, IMAGE_2, running=False))
    responses.post(DOCKER + '/containers/%s/start' % NEW_ID, status=204)
    responses.get(DOCKER + '/containers/%s/json' % NEW_ID, json=container(NEW_ID, IMAGE_2))
    manager, result = run(image='busybox:1', pull='always')
    assert [a['action'] for a in manager.actions] == ['pull', 'stop', 'remove', 'create', 'start']
    assert result['Image'] == IMAGE_2


@responses.activate
def test_check_mode_predicts_a_pull_only_when_missing():
    responses.get(DOCKER + '/containers/web/json', json=container())
    responses.get(DOCKER + '/images/busybox:1/json', json=image())
    manager, dummy = run(check_mode=True, image='busybox:1', pull='always')
    del dummy
    assert manager.actions == []
    responses.reset()
    responses.get(DOCKER + '/containers/web/json', json=container())
    responses.get(DOCKER + '/images/busybox:3/json', **no_such('image'))
    manager, dummy = run(check_mode=True, image='busybox:3')
    assert [a['action'] for a in manager.actions] == ['pull', 'stop', 'remove', 'create', 'start']
    assert all(c.request.method == 'GET' for c in responses.calls)


@responses.activate
@pytest.mark.parametrize('registry, lookups', [('7', 0), ('company', 1)])
def test_registry_header_carries_the_registry_id(registry, lookups):
    responses.get(URL + '/api/registries', json=[{'Id': 2, 'Name': 'other'}, {'Id': 7, 'Name': 'company'}])
    responses.get(DOCKER + '/containers/web/json', **no_such('container: web'))
    responses.get(DOCKER + '/images/reg.example.com/app:2/json', **no_such('image'))
    pull = responses.post(DOCKER + '/images/create', body=_stream({'status': 'done'}))
    responses.get(DOCKER + '/images/reg.example.com/app:2/json', json=image(IMAGE_2))
    responses.post(DOCKER + '/containers/create', json={'Id': NEW_ID})
    responses.get(DOCKER + '/containers/%s/json' % NEW_ID, json=container(NEW_ID, IMAGE_2))
    manager, dummy = run(image='reg.example.com/app:2', registry=registry, state='present')
    del dummy
    header = pull.calls[0].request.headers['X-Registry-Auth']
    assert json.loads(base64.b64decode(header)) == {'registryId': 7}
    assert [c.request.path_url for c in responses.calls].count('/api/registries') == lookups
    assert [a['action'] for a in manager.actions] == ['pull', 'create']


@responses.activate
def test_unknown_registry_name_fails():
    responses.get(URL + '/api/registries', json=[])
    responses.get(DOCKER + '/containers/web/json', **no_such('container: web'))
    responses.get(DOCKER + '/images/app:2/json', **no_such('image'))
    with pytest.raises(PortainerError, match="^registry: no Portainer registry named 'nope'"):
        run(image='app:2', registry='nope')


@responses.activate
def test_image_id_is_never_pulled():
    responses.get(DOCKER + '/containers/web/json', json=container())
    responses.get(DOCKER + '/images/%s/json' % IMAGE_1, json=image())
    manager, dummy = run(image=IMAGE_1, pull='always')
    del dummy
    assert manager.changed is False
    assert len(responses.calls) == 2


# ------------------------------------------------------------------------------------------------ healthy

@responses.activate
def test_healthy_waits_for_the_health_check():
    starting = container()
    starting['State']['Health'] = {'Status': 'starting'}
    healthy = copy.deepcopy(starting)
    healthy['State']['Health']['Status'] = 'healthy'
    responses.get(DOCKER + '/containers/web/json', json=starting)
    responses.get(DOCKER + '/containers/%s/json' % CID, json=starting)
    responses.get(DOCKER + '/containers/%s/json' % CID, json=healthy)
    manager, result = run(state='healthy')
    assert manager.changed is False
    assert result['State']['Health']['Status'] == 'healthy'


@responses.activate
def test_healthy_gives_up_after_the_timeout(monkeypatch):
    clock = iter(range(0, 1000, 2))
    monkeypatch.setattr(_container.time, 'monotonic', lambda: float(next(clock)))
    unhealthy = container()
    unhealthy['State']['Health'] = {'Status': 'unhealthy', 'Log': [{'Output': 'connection refused\n'}]}
    responses.get(DOCKER + '/containers/web/json', json=unhealthy)
    responses.get(DOCKER + '/containers/%s/json' % CID, json=unhealthy)
    with pytest.raises(PortainerError, match='^healthy_wait_timeout: .* still unhealthy after 5.0s; last health check output: connection refused'):
        run(state='healthy', healthy_wait_timeout=5.0)


@responses.activate
def test_healthy_fails_when_the_container_exits():
    exited = container(running=False)
    exited['State']['ExitCode'] = 3
    responses.get(DOCKER + '/containers/web/json', json=container(running=False))
    responses.post(DOCKER + '/containers/%s/start' % CID, status=204)
    responses.get(DOCKER + '/containers/%s/json' % CID, json=exited)
    with pytest.raises(PortainerError, match='stopped \\(exit code 3\\)'):
        run(state='healthy')


@responses.activate
def test_recreate_without_image_uses_the_current_image_id():
    responses.get(DOCKER + '/containers/web/json', json=container(running=False))
    manager, dummy = run(check_mode=True, recreate=True, state='present')
    del dummy
    assert [a['action'] for a in manager.actions] == ['remove', 'create']
    assert manager.actions[1]['parameters'] == {'Image': IMAGE_1}
    assert len(responses.calls) == 1


@responses.activate
def test_check_mode_create_with_network_mode_connects_every_network():
    responses.get(DOCKER + '/containers/web/json', **no_such('container: web'))
    responses.get(DOCKER + '/images/busybox:1/json', json=image())
    manager, dummy = run(check_mode=True, image='busybox:1', network_mode='bridge', networks=[{'name': 'a'}])
    del dummy
    assert [a['action'] for a in manager.actions] == ['create', 'connect', 'start']


@responses.activate
def test_removing_a_limit_recreates():
    responses.get(DOCKER + '/containers/web/json', json=container(Memory=64 * 1024 ** 2))
    manager, dummy = run(check_mode=True, memory='0')
    del dummy
    assert [a['action'] for a in manager.actions] == ['stop', 'remove', 'create', 'start']


@responses.activate
def test_gateway_error_on_a_write_says_it_may_have_applied():
    responses.get(DOCKER + '/containers/web/json', json=container(running=False))
    responses.post(DOCKER + '/containers/%s/start' % CID, status=504, body='')
    with pytest.raises(PortainerError, match='504.*may or may not have been applied: run the task again'):
        run()


@responses.activate
def test_a_parallel_create_of_the_same_name_converges_on_the_winner():
    # Missing at first; by the time of the create, another fork has created (and started) it.
    responses.get(DOCKER + '/containers/web/json', **no_such('container'))
    responses.get(DOCKER + '/images/busybox:1/json', json=image())
    create = responses.post(DOCKER + '/containers/create', status=409,
                            json={'message': 'Conflict. The container name "/web" is already in use by container "%s".' % CID})
    responses.get(DOCKER + '/containers/web/json', json=container())
    manager, result = run(image='busybox:1')
    assert create.call_count == 1
    assert manager.actions == []
    assert result['Id'] == CID
    assert not manager.changed


def just_created():
    data = container(running=False)
    data['State']['Status'] = 'created'
    data['Created'] = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')
    return data


def lose_the_create_to_an_unstarted_container():
    """Missing at first; the create then conflicts with another task's container, created and not started yet."""
    responses.get(DOCKER + '/containers/web/json', **no_such('container'))
    responses.get(DOCKER + '/images/busybox:1/json', json=image())
    responses.post(DOCKER + '/containers/create', status=409, json={'message': 'Conflict. The container name "/web" is already in use'})
    responses.get(DOCKER + '/containers/web/json', json=just_created(), headers={'Date': email.utils.formatdate(usegmt=True)})
    responses.get(DOCKER + '/containers/%s/json' % CID, json=just_created())


@responses.activate
def test_a_parallel_create_leaves_the_start_to_the_task_that_created_it():
    # The winner has created the container and starts it a moment later: the loser must not start it too.
    lose_the_create_to_an_unstarted_container()
    responses.get(DOCKER + '/containers/%s/json' % CID, json=container())
    start = responses.post(DOCKER + '/containers/%s/start' % CID, status=204)
    manager, result = run(image='busybox:1')
    assert start.call_count == 0
    assert manager.actions == [] and not manager.changed
    assert result['State']['Running'] is True


@responses.activate
def test_a_parallel_create_starts_the_container_the_creator_left_unstarted():
    lose_the_create_to_an_unstarted_container()
    start = responses.post(DOCKER + '/containers/%s/start' % CID, status=204)
    manager, dummy = run(image='busybox:1')
    assert start.call_count == 1
    assert [a['action'] for a in manager.actions] == ['start']


@responses.activate
@pytest.mark.parametrize('age, starts, usegmt', [(2, False, True), (2, False, False), (3600, True, True)])
def test_a_container_another_task_just_created_is_left_to_it_to_start(age, starts, usegmt):
    # A late fork finds the container created (not started) by the first one, which starts it a moment later.
    created = just_created()
    created['Created'] = '2026-11-27T02:40:00.123456789Z'
    engine_now = datetime.datetime(2026, 11, 27, 2, 40, tzinfo=datetime.timezone.utc) + datetime.timedelta(seconds=age)
    # Engines answer "GMT"; "-0000" is the same time for HTTP but has no zone for Python.
    date = email.utils.format_datetime(engine_now, usegmt=True) if usegmt else email.utils.format_datetime(engine_now.replace(tzinfo=None))
    responses.get(DOCKER + '/containers/web/json', json=created, headers={'Date': date})
    responses.get(DOCKER + '/images/busybox:1/json', json=image())
    responses.get(DOCKER + '/containers/%s/json' % CID, json=container())
    start = responses.post(DOCKER + '/containers/%s/start' % CID, status=204)
    manager, dummy = run(image='busybox:1')
    assert start.call_count == (1 if starts else 0)
    assert manager.changed is starts


@responses.activate
def test_a_parallel_create_converges_once_the_winner_can_be_inspected():
    # The engine reserves the name before the other task's container can be inspected.
    responses.get(DOCKER + '/containers/web/json', **no_such('container'))
    responses.get(DOCKER + '/images/busybox:1/json', json=image())
    responses.post(DOCKER + '/containers/create', status=409, json={'message': 'Conflict. The container name "/web" is already in use'})
    responses.get(DOCKER + '/containers/web/json', **no_such('container'))
    responses.get(DOCKER + '/containers/web/json', json=container())
    manager, result = run(image='busybox:1')
    assert manager.actions == []
    assert result['Id'] == CID
