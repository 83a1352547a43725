# -*- coding: utf-8 -*-
# Copyright (c) pier.portainer contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json

import pytest
import responses

from ansible_collections.pier.portainer.plugins.module_utils import _stack
from ansible_collections.pier.portainer.plugins.modules import portainer_stack

BASE = 'https://portainer.test:9443'
API_KEY = 'ptr_CANARY-api-key-0123456789'
SWARM_ID = 'swarm-1'
SHA_OLD = 'a' * 40
SHA_NEW = 'b' * 40
TEXT = 'services:\n  web:\n    image: nginx\n'
ENDPOINT = {'Id': 3, 'Name': 'local', 'Type': 1}
SWARM_INFO = {'Swarm': {'LocalNodeState': 'active', 'ControlAvailable': True, 'Cluster': {'ID': SWARM_ID}}}


def call(run_module, module, args):
    """Run the module through the shared run_module fixture, with the connection options."""
    args = dict(args, portainer_url=BASE, portainer_api_key=API_KEY)
    check_mode = args.pop('_ansible_check_mode', False)
    diff = args.pop('_ansible_diff', False)
    return run_module(module, args, check_mode=check_mode, diff=diff)


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    monkeypatch.setattr(_stack.time, 'sleep', lambda seconds: None)


def reads(stacks, version='2.23.0'):
    responses.get(BASE + '/api/endpoints', json=[ENDPOINT])
    responses.get(BASE + '/api/endpoints/3/docker/info', json=SWARM_INFO)
    responses.get(BASE + '/api/stacks', json=stacks)
    responses.get(BASE + '/api/system/status', json={'Version': version, 'InstanceID': 'x'})


def running_swarm(name):
    responses.get(BASE + '/api/endpoints/3/docker/services', json=[
        {'ID': 's1', 'Spec': {'Name': name + '_web', 'Mode': {'Replicated': {'Replicas': 1}}, 'TaskTemplate': {'ContainerSpec': {'Image': 'nginx'}}}}])
    responses.get(BASE + '/api/endpoints/3/docker/tasks', json=[
        {'ServiceID': 's1', 'DesiredState': 'running', 'Status': {'State': 'running'}, 'Spec': {'ContainerSpec': {'Image': 'nginx'}}}])


def stack(**kwargs):
    data = {'Id': 7, 'Name': 'web', 'Type': 1, 'EndpointId': 3, 'SwarmId': SWARM_ID, 'Status': 1, 'EntryPoint': 'docker-compose.yml',
            'Env': [{'name': 'A', 'value': '1'}], 'Option': {'Prune': False}, 'GitConfig': None, 'AutoUpdate': None}
    data.update(kwargs)
    return data


def writes():
    return [c.request for c in responses.calls if c.request.method not in ('GET', 'HEAD')]


@responses.activate
def test_create_swarm_stack_from_text(run_module):
    reads([])
    created = responses.post(BASE + '/api/stacks/create/swarm/string', json=stack())
    running_swarm('web')
    result = call(run_module, portainer_stack, {'endpoint': 'local', 'name': 'web', 'definition': TEXT, 'env': {'A': 1}, '_ansible_diff': True})
    assert result['changed'] is True
    assert result['actions'] == ['create']
    body = json.loads(created.calls[0].request.body)
    assert body == {'Name': 'web', 'SwarmID': SWARM_ID, 'StackFileContent': TEXT, 'Env': [{'name': 'A', 'value': '1'}]}
    assert 'endpointId=3' in created.calls[0].request.url
    assert result['stack']['Id'] == 7 and result['stack']['type_name'] == 'swarm'
    assert result['diff'][0] == {'before_header': 'stack web: file in Portainer', 'after_header': 'stack web: desired file',
                                 'before': '', 'after': TEXT}


@responses.activate
def test_create_in_check_mode_sends_no_write(run_module):
    reads([])
    result = call(run_module, portainer_stack, {'endpoint': 'local', 'name': 'web', 'definition': TEXT, '_ansible_check_mode': True})
    assert result['changed'] is True
    assert result['stack']['Id'] is None
    assert writes() == []


@responses.activate
def test_no_change_is_cheap(run_module):
    reads([stack()])
    responses.get(BASE + '/api/stacks/7/file', json={'StackFileContent': TEXT.replace('\n', '\r\n')})
    task = {'endpoint': 'local', 'name': 'web', 'definition': TEXT, 'env': {'A': '1'}}
    result = call(run_module, portainer_stack, task)
    assert result['changed'] is False
    assert result['actions'] == []
    assert writes() == []
    # The environment's name, its swarm, its stacks, the stack's file.
    assert len(responses.calls) == 4
    # Later tasks on the same environment take its id from the cache: 3 requests, and 3 when the task gives the id.
    assert call(run_module, portainer_stack, task)['changed'] is False
    assert call(run_module, portainer_stack, dict(task, endpoint='3'))['changed'] is False
    assert len(responses.calls) == 4 + 3 + 3
    assert writes() == []


@responses.activate
def test_a_kubernetes_environment_is_named_as_such(run_module):
    responses.get(BASE + '/api/endpoints/4/docker/info', status=500, json={'message': 'Unable to proxy the request via the Docker API'})
    responses.get(BASE + '/api/endpoints/4', json={'Id': 4, 'Name': 'kube', 'Type': 5})
    result = call(run_module, portainer_stack, {'endpoint': '4', 'name': 'web', 'definition': TEXT})
    assert result['failed'] is True
    assert "endpoint '4' is a Kubernetes environment" in result['msg']
    assert writes() == []


@responses.activate
def test_env_merge_keeps_other_variables(run_module):
    reads([stack(Env=[{'name': 'UI', 'value': 'x'}, {'name': 'A', 'value': '1'}])])
    responses.get(BASE + '/api/stacks/7/file', json={'StackFileContent': TEXT})
    update = responses.put(BASE + '/api/stacks/7', json=stack())
    running_swarm('web')
    result = call(run_module, portainer_stack, {'endpoint': 'local', 'name': 'web', 'definition': TEXT, 'env': {'A': '2'},
                                                'env_mode': 'merge', 'pull': True})
    assert result['actions'] == ['update']
    body = json.loads(update.calls[0].request.body)
    assert body == {'StackFileContent': TEXT, 'Env': [{'name': 'A', 'value': '2'}, {'name': 'UI', 'value': 'x'}],
                    'PullImage': True, 'Prune': False}
    assert 'endpointId=3' in update.calls[0].request.url


@responses.activate
def test_git_stack_redeploys_when_the_remote_moved(run_module):
    git = {'URL': 'https://git.example/stacks.git', 'ReferenceName': 'refs/heads/main', 'ConfigFilePath': 'stack.yml',
           'ConfigHash': SHA_OLD, 'TLSSkipVerify': False, 'Authentication': None}
    reads([stack(GitConfig=git, EntryPoint='stack.yml', Env=[])])
    responses.get('https://git.example/stacks.git/info/refs', body='%s\trefs/heads/main\n' % SHA_NEW)
    redeploy = responses.put(BASE + '/api/stacks/7/git/redeploy', json=stack(GitConfig=dict(git, ConfigHash=SHA_NEW)))
    running_swarm('web')
    args = {'endpoint': 'local', 'name': 'web', 'repository_url': 'https://git.example/stacks.git', 'compose_path': 'stack.yml',
            '_ansible_diff': True}
    result = call(run_module, portainer_stack, args)
    assert result['actions'] == ['git_redeploy']
    assert result['diff']['before']['commit'] == SHA_OLD
    assert result['diff']['after']['commit'] == SHA_NEW
    body = json.loads(redeploy.calls[0].request.body)
    assert body['RepositoryReferenceName'] == 'refs/heads/main'
    assert body['RepositoryAuthentication'] is False
    assert not [r for r in writes() if r.method == 'PUT' and r.url.split('?')[0].endswith('/api/stacks/7')]


@responses.activate
def test_git_stack_not_moved_is_left_alone(run_module):
    git = {'URL': 'https://git.example/stacks.git', 'ReferenceName': 'refs/heads/main', 'ConfigFilePath': 'stack.yml',
           'ConfigHash': SHA_OLD, 'TLSSkipVerify': False, 'Authentication': None}
    reads([stack(GitConfig=git, EntryPoint='stack.yml', Env=[])])
    responses.get('https://git.example/stacks.git/info/refs', body='%s\trefs/heads/main\n' % SHA_OLD)
    result = call(run_module, portainer_stack, {'endpoint': 'local', 'name': 'web', 'repository_url': 'https://git.example/stacks.git',
                                                'repository_ref': 'main', 'compose_path': 'stack.yml'})
    assert result['changed'] is False
    assert writes() == []


@responses.activate
def test_git_settings_change_keeps_env_and_auth(run_module):
    git = {'URL': 'https://git.example/stacks.git', 'ReferenceName': 'refs/heads/main', 'ConfigFilePath': 'stack.yml',
           'ConfigHash': SHA_OLD, 'TLSSkipVerify': False, 'Authentication': {'Username': 'deploy', 'Password': ''}}
    reads([stack(GitConfig=git, EntryPoint='stack.yml')])
    settings = responses.post(BASE + '/api/stacks/7/git', json=stack(GitConfig=git))
    result = call(run_module, portainer_stack, {'endpoint': 'local', 'name': 'web', 'repository_url': 'https://git.example/stacks.git',
                                                'compose_path': 'stack.yml', 'auto_update': {'interval': '5m'},
                                                'repository_remote_check': False})
    assert result['actions'] == ['git_settings']
    body = json.loads(settings.calls[0].request.body)
    assert body['AutoUpdate'] == {'Interval': '5m', 'Webhook': '', 'ForceUpdate': False, 'ForcePullImage': False}
    assert body['Env'] == [{'name': 'A', 'value': '1'}]
    assert body['RepositoryAuthentication'] is True and body['RepositoryUsername'] == 'deploy' and body['RepositoryPassword'] == ''
    assert body['RepositoryReferenceName'] == 'refs/heads/main'


@responses.activate
def test_legacy_create_route_before_2_19(run_module):
    reads([], version='2.18.4')
    created = responses.post(BASE + '/api/stacks', json=stack())
    running_swarm('web')
    result = call(run_module, portainer_stack, {'endpoint': 'local', 'name': 'web', 'definition': TEXT})
    assert result['changed'] is True
    url = created.calls[0].request.url
    assert 'type=1' in url and 'method=string' in url and 'endpointId=3' in url


@responses.activate
def test_conflict_on_create_adopts_the_stack(run_module):
    responses.get(BASE + '/api/endpoints', json=[ENDPOINT])
    responses.get(BASE + '/api/endpoints/3/docker/info', json=SWARM_INFO)
    responses.get(BASE + '/api/stacks', json=[])
    responses.get(BASE + '/api/stacks', json=[stack()])
    responses.get(BASE + '/api/system/status', json={'Version': '2.23.0'})
    responses.post(BASE + '/api/stacks/create/swarm/string', status=409,
                   json={'message': "A stack with the normalized name 'web' already exists"})
    responses.get(BASE + '/api/stacks/7/file', json={'StackFileContent': TEXT})
    result = call(run_module, portainer_stack, {'endpoint': 'local', 'name': 'web', 'definition': TEXT})
    assert result.get('failed') is not True, result
    assert result['changed'] is False
    assert result['stack']['Id'] == 7


@responses.activate
def test_conflict_with_a_stack_outside_portainer_fails_clearly(run_module):
    reads([])
    responses.post(BASE + '/api/stacks/create/swarm/string', status=409, json={'message': "A stack with the normalized name 'web' already exists"})
    result = call(run_module, portainer_stack, {'endpoint': 'local', 'name': 'web', 'definition': TEXT})
    assert result['failed'] is True
    assert 'outside Portainer' in result['msg']


@responses.activate
def test_stop_and_already_inactive(run_module):
    reads([stack()])
    stop = responses.post(BASE + '/api/stacks/7/stop', json=stack(Status=2))
    responses.get(BASE + '/api/endpoints/3/docker/services', json=[])
    responses.get(BASE + '/api/endpoints/3/docker/containers/json', json=[])
    result = call(run_module, portainer_stack, {'endpoint': 'local', 'name': 'web', 'state': 'stopped'})
    assert result['actions'] == ['stop']
    assert 'endpointId=3' in stop.calls[0].request.url


@responses.activate
def test_start_409_is_reported(run_module):
    reads([stack(Status=2)])
    responses.post(BASE + '/api/stacks/7/start', status=409, json={'message': "A stack with the name 'web' is already running"})
    result = call(run_module, portainer_stack, {'endpoint': 'local', 'name': 'web', 'state': 'started'})
    assert result['failed'] is True
    assert 'already running' in result['msg']


@responses.activate
def test_absent_deletes_with_endpoint_id(run_module):
    reads([stack()])
    delete = responses.delete(BASE + '/api/stacks/7', status=204)
    responses.get(BASE + '/api/endpoints/3/docker/services', json=[])
    responses.get(BASE + '/api/endpoints/3/docker/containers/json', json=[])
    result = call(run_module, portainer_stack, {'endpoint': 'local', 'name': 'web', 'state': 'absent'})
    assert result['actions'] == ['delete'] and result['stack'] == {}
    assert 'endpointId=3' in delete.calls[0].request.url


@responses.activate
def test_type_mismatch_fails(run_module):
    reads([stack()])
    result = call(run_module, portainer_stack, {'endpoint': 'local', 'name': 'web', 'definition': TEXT, 'type': 'standalone'})
    assert result['failed'] is True
    assert 'cannot change the type' in result['msg']
    assert writes() == []


@responses.activate
def test_file_source_on_a_git_stack_is_refused(run_module):
    reads([stack(GitConfig={'URL': 'https://git.example/x.git', 'ConfigHash': SHA_OLD})])
    result = call(run_module, portainer_stack, {'endpoint': 'local', 'name': 'web', 'definition': TEXT})
    assert result['failed'] is True
    assert 'detach it from git' in result['msg']
    assert writes() == []


@pytest.mark.parametrize('args, words', [
    ({'name': 'Web', 'definition': TEXT}, "would be stored by Portainer as 'web'"),
    ({'name': 'web', 'definition': 'services: [\n'}, 'definition is not valid YAML'),
    ({'name': 'web', 'definition': TEXT, 'repository_url': 'https://g/x'}, 'mutually exclusive'),
    ({'name': 'web', 'definition': TEXT, 'wait_timeout': 0}, 'wait_timeout'),
])
@responses.activate
def test_bad_inputs_send_nothing(run_module, args, words):
    result = call(run_module, portainer_stack, dict(args, endpoint='local'))
    assert result['failed'] is True
    assert words in result['msg']
    assert len(responses.calls) == 0


@responses.activate
def test_repository_password_is_kept_out_of_errors(run_module):
    reads([])
    responses.post(BASE + '/api/stacks/create/swarm/repository', status=500,
                   json={'message': 'unable to clone git repository', 'details': 'bad credentials CANARY-git-password'})
    result = call(run_module, portainer_stack, {'endpoint': 'local', 'name': 'web', 'repository_url': 'https://git.example/x.git',
                                                'repository_username': 'u', 'repository_password': 'CANARY-git-password'})
    assert result['failed'] is True
    assert 'unable to clone' in result['msg']
    assert 'CANARY-git-password' not in json.dumps(result)


@responses.activate
def test_force_redeploy_sends_the_stored_file(run_module):
    reads([stack()])
    responses.get(BASE + '/api/stacks/7/file', json={'StackFileContent': '# kept\n' + TEXT})
    update = responses.put(BASE + '/api/stacks/7', json=stack())
    running_swarm('web')
    result = call(run_module, portainer_stack, {'endpoint': 'local', 'name': 'web', 'definition': {'services': {'web': {'image': 'nginx'}}},
                                                'force_redeploy': True, 'pull': True})
    assert result['actions'] == ['update']
    body = json.loads(update.calls[0].request.body)
    assert body['StackFileContent'] == '# kept\n' + TEXT
    assert body['PullImage'] is True and body['Env'] == [{'name': 'A', 'value': '1'}]


@responses.activate
def test_prune_at_creation_is_stored(run_module):
    reads([])
    responses.post(BASE + '/api/stacks/create/swarm/string', json=stack(Option=None))
    update = responses.put(BASE + '/api/stacks/7', json=stack(Option={'Prune': True}))
    running_swarm('web')
    result = call(run_module, portainer_stack, {'endpoint': 'local', 'name': 'web', 'definition': TEXT, 'prune': True})
    assert result['actions'] == ['create']
    assert json.loads(update.calls[0].request.body)['Prune'] is True
    assert result['stack']['Option'] == {'Prune': True}


@responses.activate
def test_stopped_creates_then_stops(run_module):
    reads([])
    responses.post(BASE + '/api/stacks/create/swarm/string', json=stack())
    stop = responses.post(BASE + '/api/stacks/7/stop', json=stack(Status=2))
    responses.get(BASE + '/api/endpoints/3/docker/containers/json', json=[])
    result = call(run_module, portainer_stack, {'endpoint': 'local', 'name': 'web', 'definition': TEXT, 'state': 'stopped', 'wait': False})
    assert result['actions'] == ['create', 'stop']
    assert stop.call_count == 1
    assert result['stack']['status_name'] == 'inactive'


@responses.activate
def test_git_stack_keeps_its_compose_path_when_not_given(run_module):
    git = {'URL': 'https://git.example/stacks.git', 'ReferenceName': 'refs/heads/main', 'ConfigFilePath': 'deploy/stack.yml',
           'ConfigHash': SHA_OLD, 'TLSSkipVerify': False, 'Authentication': None}
    reads([stack(GitConfig=git, EntryPoint='deploy/stack.yml')])
    result = call(run_module, portainer_stack, {'endpoint': 'local', 'name': 'web', 'repository_url': 'https://git.example/stacks.git',
                                                'repository_remote_check': False})
    assert result['changed'] is False
    result = call(run_module, portainer_stack, {'endpoint': 'local', 'name': 'web', 'repository_url': 'https://git.example/other.git',
                                                'repository_remote_check': False})
    assert result['failed'] is True
    assert 'repository_url' in result['msg'] and 'remove it first' in result['msg']
    assert writes() == []


@responses.activate
def test_remote_check_of_a_private_repository_needs_the_password(run_module):
    git = {'URL': 'https://git.example/private.git', 'ReferenceName': 'refs/heads/main', 'ConfigFilePath': 'stack.yml',
           'ConfigHash': SHA_OLD, 'TLSSkipVerify': False, 'Authentication': {'Username': 'deploy', 'Password': ''}}
    reads([stack(GitConfig=git, EntryPoint='stack.yml')])
    responses.get('https://git.example/private.git/info/refs', status=401)
    result = call(run_module, portainer_stack, {'endpoint': 'local', 'name': 'web', 'repository_url': 'https://git.example/private.git'})
    assert result['failed'] is True
    assert 'repository_password' in result['msg'] and 'repository_remote_check: false' in result['msg']
    assert writes() == []
