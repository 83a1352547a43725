# -*- coding: utf-8 -*-
# Copyright (c) pier.portainer contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json

import pytest
import requests
import responses

from ansible_collections.pier.portainer.plugins.module_utils import _stack
from ansible_collections.pier.portainer.plugins.module_utils._api import PortainerClient, PortainerError
from ansible_collections.pier.portainer.plugins.module_utils._stack import (
    Content,
    StackInputError,
    check_auto_update,
    check_env,
    check_name,
    create_payload,
    create_route,
    desired_content,
    desired_env,
    env_differs,
    env_to_dict,
    env_to_pairs,
    find_stack,
    git_redeploy_payload,
    git_settings_payload,
    info_view,
    masked_env,
    normalize_name,
    normalize_ref,
    normalize_text,
    parse_advertisement,
    public_stack,
    remote_commit,
    resolve_ref,
    source_of,
    update_payload,
)

BASE = 'https://portainer.test:9443'
API_KEY = 'ptr_CANARY-api-key-0123456789'
SHA_MAIN = '42f6988433637acec2ee45e2e290a1367fd7602d'
SHA_B = '2482bdef74da07428ec96216246367b0bce1feda'
SHA_TAG = '1111111111111111111111111111111111111111'
SHA_TAG_PEELED = '2222222222222222222222222222222222222222'


def client():
    return PortainerClient(BASE, api_key=API_KEY)


# ------------------------------------------------------------------ names

@pytest.mark.parametrize('given, expected', [
    ('web', 'web'),
    ('My Stack.v2', 'mystackv2'),
    ('myTestStack', 'myteststack'),
    ('a_b-c9', 'a_b-c9'),
    ('Ü.!', ''),
])
def test_normalize_name(given, expected):
    assert normalize_name(given) == expected


@pytest.mark.parametrize('name', ['web', 'pier-it-stack-inline', 'a_b-9'])
def test_names_portainer_keeps_are_accepted(name):
    assert check_name(name) == name


@pytest.mark.parametrize('name, becomes', [('myTestStack', "'myteststack'"), ('my stack', "'mystack'"), ('web.v2', "'webv2'")])
def test_names_portainer_would_rewrite_are_refused_with_the_new_name(name, becomes):
    with pytest.raises(StackInputError, match=becomes) as info:
        check_name(name)
    assert 'name' in str(info.value)


@pytest.mark.parametrize('name', ['', '   ', 'Ü.!', None])
def test_empty_names_are_refused(name):
    with pytest.raises(StackInputError, match='empty'):
        check_name(name)


# ------------------------------------------------------------------ sources

@pytest.mark.parametrize('params, expected', [
    ({'definition': 'services: {}'}, 'definition'),
    ({'compose_file': '/x.yml'}, 'compose_file'),
    ({'repository_url': 'https://g/x.git', 'repository_ref': 'main', 'compose_path': 'a.yml'}, 'repository'),
    ({}, None),
])
def test_source_of(params, expected):
    assert source_of(params) == expected


@pytest.mark.parametrize('params, words', [
    ({'definition': 'a: 1', 'compose_file': '/x'}, ['definition', 'compose_file', 'mutually exclusive']),
    ({'definition': 'a: 1', 'repository_url': 'https://g/x'}, ['definition', 'repository_url']),
    ({'definition': 'a: 1', 'repository_ref': 'main'}, ['repository_ref', 'repository_url']),
    ({'compose_file': '/x', 'repository_password': 'p'}, ['repository_password']),
])
def test_source_errors(params, words):
    with pytest.raises(StackInputError) as info:
        source_of(params)
    for word in words:
        assert word in str(info.value)


def test_mapping_definition_is_rendered_and_compared_as_yaml():
    content = desired_content({'definition': {'version': '3.8', 'services': {'web': {'image': 'nginx', 'ports': ['80:80']}}}})
    assert 'image: nginx' in content.text
    assert content.text.index('version') < content.text.index('services')
    stored = '# a comment\nservices:\n  web:\n    ports: ["80:80"]\n    image: nginx\nversion: "3.8"\n'
    assert content.matches(stored)
    assert not content.matches(stored.replace('nginx', 'httpd'))
    assert not content.matches('services: [unclosed\n')
    assert not content.matches(None)


@pytest.mark.parametrize('stored, same', [
    ('services:\n  web:\n    image: nginx\n', True),
    ('services:\r\n  web:\r\n    image: nginx\r\n', True),
    ('services:   \n  web:\n    image: nginx  \n\n\n', True),
    ('services:\n  web:\n    image: nginx', True),
    ('services:\n  web:\n      image: nginx\n', False),
    ('# comment\nservices:\n  web:\n    image: nginx\n', False),
])
def test_text_definition_is_compared_as_normalised_text(stored, same):
    content = desired_content({'definition': 'services:\n  web:\n    image: nginx\n'})
    assert content.matches(stored) is same


def test_normalize_text():
    assert normalize_text('a \r\nb\t\r\n\r\n') == 'a\nb\n'
    assert normalize_text('') == ''


@pytest.mark.parametrize('definition, message', [
    ('services:\n  web: [image: x\n', 'definition is not valid YAML'),
    ('- a\n- b\n', 'definition must be a compose document'),
    ('', 'definition is empty'),
    ({}, 'definition is an empty mapping'),
    (42, 'definition must be a YAML string or a mapping'),
])
def test_bad_definitions(definition, message):
    with pytest.raises(StackInputError, match=message):
        desired_content({'definition': definition})


def test_compose_file_is_read(tmp_path):
    path = tmp_path / 'docker-compose.yml'
    path.write_text('services:\n  web:\n    image: nginx\n')
    content = desired_content({'compose_file': str(path)})
    assert content.option == 'compose_file'
    assert content.matches('services:\r\n  web:\r\n    image: nginx\r\n')


def test_missing_compose_file_names_the_option(tmp_path):
    with pytest.raises(StackInputError, match='compose_file .* cannot be read'):
        desired_content({'compose_file': str(tmp_path / 'nope.yml')})


def test_invalid_compose_file(tmp_path):
    path = tmp_path / 'bad.yml'
    path.write_text('services: [\n')
    with pytest.raises(StackInputError, match='is not valid YAML'):
        desired_content({'compose_file': str(path)})


def test_git_source_has_no_content():
    assert desired_content({'repository_url': 'https://g/x'}) is None


# ------------------------------------------------------------------ git settings

@pytest.mark.parametrize('given, expected', [
    ('main', 'refs/heads/main'),
    ('refs/heads/main', 'refs/heads/main'),
    ('refs/tags/v1', 'refs/tags/v1'),
    ('', ''),
    (None, None),
])
def test_normalize_ref(given, expected):
    assert normalize_ref(given) == expected


@pytest.mark.parametrize('given, expected', [
    (None, None),
    ({}, None),
    ({'interval': '5m'}, {'Interval': '5m', 'Webhook': '', 'ForceUpdate': False, 'ForcePullImage': False}),
    ({'interval': '1h30m', 'force_update': True}, {'Interval': '1h30m', 'Webhook': '', 'ForceUpdate': True, 'ForcePullImage': False}),
    ({'webhook': '5e8b2a4c-1d3f-4a6b-9c8d-0e1f2a3b4c5d'},
     {'Interval': '', 'Webhook': '5e8b2a4c-1d3f-4a6b-9c8d-0e1f2a3b4c5d', 'ForceUpdate': False, 'ForcePullImage': False}),
])
def test_auto_update(given, expected):
    assert check_auto_update(given) == expected


@pytest.mark.parametrize('given, message', [
    ({'interval': 'five minutes'}, 'auto_update.interval'),
    ({'webhook': 'not-a-uuid'}, 'auto_update.webhook'),
    ({'force_update': True}, 'interval or webhook'),
])
def test_bad_auto_update(given, message):
    with pytest.raises(StackInputError, match=message):
        check_auto_update(given)


# ------------------------------------------------------------------ env

def test_env_values_become_strings():
    assert check_env({'A': 1, 'B': True, 'C': False, 'D': None, 'E': 'x'}) == {'A': '1', 'B': 'true', 'C': 'false', 'D': '', 'E': 'x'}


@pytest.mark.parametrize('env', [{'A=B': 'x'}, {'': 'x'}, {'A': {'nested': 1}}, {'A': [1]}])
def test_bad_env(env):
    with pytest.raises(StackInputError, match='env'):
        check_env(env)


def test_env_pairs_round_trip():
    pairs = [{'name': 'B', 'value': '2'}, {'name': 'A', 'value': '1'}]
    assert env_to_dict(pairs) == {'A': '1', 'B': '2'}
    assert env_to_pairs({'B': '2', 'A': '1'}) == [{'name': 'A', 'value': '1'}, {'name': 'B', 'value': '2'}]
    assert env_to_dict(None) == {}


@pytest.mark.parametrize('current, wanted, mode, expected', [
    ({'A': '1', 'UI': 'x'}, {'A': '2'}, 'merge', {'A': '2', 'UI': 'x'}),
    ({'A': '1', 'UI': 'x'}, {'A': '2'}, 'replace', {'A': '2'}),
    ({'A': '1'}, None, 'replace', {'A': '1'}),
    ({'A': '1'}, None, 'merge', {'A': '1'}),
    ({}, {}, 'replace', {}),
    ({'A': '1'}, {}, 'replace', {}),
    ({'A': '1'}, {}, 'merge', {'A': '1'}),
])
def test_desired_env(current, wanted, mode, expected):
    assert desired_env(current, wanted, mode) == expected


@pytest.mark.parametrize('a, b, differs', [
    ({'A': '1', 'B': '2'}, {'B': '2', 'A': '1'}, False),
    ({'A': '1'}, {'A': '2'}, True),
    ({'A': '1'}, {'A': '1', 'B': ''}, True),
    ({}, {}, False),
])
def test_env_compared_as_sets(a, b, differs):
    assert env_differs(a, b) is differs


def test_env_order_in_portainer_does_not_matter():
    stored = env_to_dict([{'name': 'B', 'value': '2'}, {'name': 'A', 'value': '1'}])
    assert not env_differs(stored, {'A': '1', 'B': '2'})


def test_masked_env():
    before = {'DB_PASSWORD': 'old', 'API_TOKEN': 'same', 'MODE': 'a', 'CUSTOM': 'c1'}
    after = {'DB_PASSWORD': 'new', 'API_TOKEN': 'same', 'MODE': 'b', 'CUSTOM': 'c2', 'NEW_SECRET': 's'}
    masked_before, masked_after = masked_env(before, after, secret_names=['CUSTOM'])
    assert masked_before == {'DB_PASSWORD': '********', 'API_TOKEN': '********', 'MODE': 'a', 'CUSTOM': '********'}
    assert masked_after == {'DB_PASSWORD': '******** (changed)', 'API_TOKEN': '********', 'MODE': 'b',
                            'CUSTOM': '******** (changed)', 'NEW_SECRET': '******** (changed)'}
    text = json.dumps([masked_before, masked_after])
    for secret in ('old', 'new', 'same', 'c1', 'c2'):
        assert '"%s"' % secret not in text


# ------------------------------------------------------------------ payloads

@pytest.mark.parametrize('new, stack_type, method, expected', [
    (True, 1, 'string', ('/api/stacks/create/swarm/string', {'endpointId': 3})),
    (True, 2, 'file', ('/api/stacks/create/standalone/file', {'endpointId': 3})),
    (True, 1, 'repository', ('/api/stacks/create/swarm/repository', {'endpointId': 3})),
    (False, 1, 'string', ('/api/stacks', {'type': 1, 'method': 'string', 'endpointId': 3})),
    (False, 2, 'repository', ('/api/stacks', {'type': 2, 'method': 'repository', 'endpointId': 3})),
])
def test_create_route(new, stack_type, method, expected):
    assert create_route(new, stack_type, method, 3) == expected


def test_create_payload_swarm_string():
    body = create_payload('web', 1, 'string', 'swarm-1', {'B': '2', 'A': '1'}, content='services: {}\n')
    assert body == {'Name': 'web', 'SwarmID': 'swarm-1', 'StackFileContent': 'services: {}\n',
                    'Env': [{'name': 'A', 'value': '1'}, {'name': 'B', 'value': '2'}]}


def test_create_payload_standalone_string_has_no_swarm_id():
    body = create_payload('web', 2, 'string', 'swarm-1', {}, content='x: 1\n')
    assert 'SwarmID' not in body
    assert body['Env'] == []


def test_create_payload_file_form():
    assert create_payload('web', 1, 'file', 'swarm-1', {'A': '1'}) == {
        'Name': 'web', 'SwarmID': 'swarm-1', 'Env': '[{"name": "A", "value": "1"}]'}
    assert create_payload('web', 2, 'file', None, {}) == {'Name': 'web'}


GIT = {'url': 'https://git.example/stacks.git', 'ref': 'refs/heads/main', 'compose_path': 'swarm/docker-stack.yml',
       'additional_files': ['extra.yml'], 'username': 'deploy', 'password': 'CANARY-git', 'tls_skip_verify': None,
       'auto_update': {'Interval': '5m', 'Webhook': '', 'ForceUpdate': False, 'ForcePullImage': False}}


def test_create_payload_repository_always_sends_compose_file():
    body = create_payload('web', 1, 'repository', 'swarm-1', {'A': '1'}, git=GIT)
    assert body == {
        'Name': 'web', 'SwarmID': 'swarm-1', 'Env': [{'name': 'A', 'value': '1'}],
        'RepositoryURL': 'https://git.example/stacks.git', 'RepositoryReferenceName': 'refs/heads/main',
        'ComposeFile': 'swarm/docker-stack.yml', 'AdditionalFiles': ['extra.yml'], 'TLSSkipVerify': False,
        'RepositoryAuthentication': True, 'RepositoryUsername': 'deploy', 'RepositoryPassword': 'CANARY-git',
        'AutoUpdate': {'Interval': '5m', 'Webhook': '', 'ForceUpdate': False, 'ForcePullImage': False},
    }


def test_create_payload_repository_without_credentials_and_legacy_key():
    git = dict(GIT, username=None, password=None, auto_update=None, ref=None)
    body = create_payload('web', 2, 'repository', None, {}, git=git, legacy_compose_key=True)
    assert body['RepositoryAuthentication'] is False
    assert body['RepositoryPassword'] == ''
    assert body['RepositoryReferenceName'] == ''
    assert body['ComposeFilePathInRepository'] == body['ComposeFile'] == 'swarm/docker-stack.yml'
    assert 'AutoUpdate' not in body and 'SwarmID' not in body


@pytest.mark.parametrize('stack_type, has_prune', [(1, True), (2, False)])
def test_update_payload(stack_type, has_prune):
    body = update_payload('x: 1\n', {'A': '1'}, True, True, stack_type)
    assert body['StackFileContent'] == 'x: 1\n'
    assert body['Env'] == [{'name': 'A', 'value': '1'}]
    assert body['PullImage'] is True
    assert ('Prune' in body) is has_prune


def test_git_settings_payload_sends_the_whole_state():
    body = git_settings_payload('refs/heads/b', {'A': '1'}, True, None, False, GIT, 1)
    assert body == {'RepositoryReferenceName': 'refs/heads/b', 'Env': [{'name': 'A', 'value': '1'}], 'TLSSkipVerify': False,
                    'AutoUpdate': None, 'RepositoryAuthentication': True, 'RepositoryUsername': 'deploy',
                    'RepositoryPassword': 'CANARY-git', 'Prune': True}


def test_git_redeploy_payload_sends_the_current_reference():
    body = git_redeploy_payload('refs/heads/main', {}, False, True, dict(GIT, password=None), 2)
    assert body == {'RepositoryReferenceName': 'refs/heads/main', 'Env': [], 'PullImage': True,
                    'RepositoryAuthentication': True, 'RepositoryUsername': 'deploy', 'RepositoryPassword': ''}


# ------------------------------------------------------------------ views

STACK = {
    'Id': 4, 'Name': 'web', 'Type': 1, 'EndpointId': 3, 'SwarmId': 'swarm-1', 'Status': 1, 'EntryPoint': 'a.yml',
    'Env': [{'name': 'DB_PASSWORD', 'value': 'CANARY-env'}, {'name': 'MODE', 'value': 'x'}],
    'ResourceControl': {'Id': 9}, 'GitConfig': {'URL': 'https://g/x', 'ReferenceName': 'refs/heads/main', 'ConfigHash': SHA_MAIN,
                                                'Authentication': {'Username': 'u', 'Password': ''}},
}


def test_public_stack_has_no_credentials_and_no_env_values():
    view = public_stack(STACK)
    assert view['GitConfig'] == {'URL': 'https://g/x', 'ReferenceName': 'refs/heads/main', 'ConfigHash': SHA_MAIN, 'Authenticated': True}
    assert view['env_names'] == ['DB_PASSWORD', 'MODE']
    assert view['type_name'] == 'swarm' and view['status_name'] == 'active'
    assert 'CANARY' not in json.dumps(view)
    assert public_stack(None) == {}


def test_info_view_masks_secret_looking_values():
    view = info_view(STACK)
    assert view['Env'] == [{'name': 'DB_PASSWORD', 'value': '********'}, {'name': 'MODE', 'value': 'x'}]
    assert 'ResourceControl' not in view
    assert 'Authentication' not in view['GitConfig']


def test_find_stack_ignores_case():
    assert find_stack([{'Name': 'a'}, {'Name': 'web'}], 'WEB') == {'Name': 'web'}
    assert find_stack([], 'web') is None


# ------------------------------------------------------------------ Portainer reads

@responses.activate
def test_swarm_id_and_list_filters():
    responses.get(BASE + '/api/endpoints/3/docker/info',
                  json={'Swarm': {'LocalNodeState': 'active', 'ControlAvailable': True, 'Cluster': {'ID': 'swarm-1'}}})
    listing = responses.get(BASE + '/api/stacks', json=[
        {'Id': 1, 'Name': 'a', 'Type': 1, 'EndpointId': 3, 'SwarmId': 'swarm-1'},
        {'Id': 2, 'Name': 'b', 'Type': 1, 'EndpointId': 7, 'SwarmId': 'swarm-1'},
        {'Id': 3, 'Name': 'c', 'Type': 2, 'EndpointId': 3}])
    api = client()
    swarm_id = _stack.swarm_id_of(api, 3)
    stacks = _stack.list_stacks(api, 3, swarm_id)
    assert swarm_id == 'swarm-1'
    assert [s['Id'] for s in stacks] == [1, 3]
    sent = responses.calls[1].request.url
    assert json.loads(requests.utils.unquote(sent.split('filters=')[1])) == {'EndpointID': 3, 'SwarmID': 'swarm-1'}
    assert listing.call_count == 1


@responses.activate
def test_not_a_swarm_manager():
    responses.get(BASE + '/api/endpoints/3/docker/info', json={'Swarm': {'LocalNodeState': 'active', 'ControlAvailable': False}})
    responses.get(BASE + '/api/stacks', json=[])
    api = client()
    assert _stack.swarm_id_of(api, 3) is None
    _stack.list_stacks(api, 3, None)
    assert json.loads(requests.utils.unquote(responses.calls[1].request.url.split('filters=')[1])) == {'EndpointID': 3}


# ------------------------------------------------------------------ git remote

def pkt(text):
    data = text.encode()
    return b'%04x' % (len(data) + 4) + data


SMART = (
    pkt('# service=git-upload-pack\n') + b'0000'
    + pkt(SHA_MAIN + ' HEAD\x00multi_ack thin-pack side-band symref=HEAD:refs/heads/main agent=git/2.39\n')
    + pkt(SHA_B + ' refs/heads/branch-b\n')
    + pkt(SHA_MAIN + ' refs/heads/main\n')
    + pkt(SHA_TAG + ' refs/tags/v1.0\n')
    + pkt(SHA_TAG_PEELED + ' refs/tags/v1.0^{}\n')
    + b'0000'
)
DUMB = ('%s\trefs/heads/branch-b\n%s\trefs/heads/main\n' % (SHA_B, SHA_MAIN)).encode()


def test_parse_smart_advertisement():
    refs, head = parse_advertisement(SMART)
    assert refs['HEAD'] == SHA_MAIN
    assert refs['refs/heads/branch-b'] == SHA_B
    assert head == 'refs/heads/main'


def test_parse_dumb_refs():
    refs, head = parse_advertisement(DUMB)
    assert refs == {'refs/heads/branch-b': SHA_B, 'refs/heads/main': SHA_MAIN}
    assert head is None


@pytest.mark.parametrize('ref, expected', [
    ('refs/heads/branch-b', SHA_B), ('branch-b', SHA_B), ('', SHA_MAIN), (None, SHA_MAIN),
    ('refs/tags/v1.0', SHA_TAG_PEELED), ('v1.0', SHA_TAG_PEELED), ('refs/heads/nope', None),
])
def test_resolve_ref(ref, expected):
    refs, head = parse_advertisement(SMART)
    assert resolve_ref(refs, ref, head) == expected


@responses.activate
def test_remote_commit_smart_with_credentials_in_the_header_only():
    call = responses.get('https://git.example/stacks.git/info/refs', body=SMART,
                         content_type='application/x-git-upload-pack-advertisement')
    assert remote_commit('https://git.example/stacks.git', 'refs/heads/branch-b', 'deploy', 'CANARY-git') == SHA_B
    request = call.calls[0].request
    assert 'service=git-upload-pack' in request.url
    assert 'CANARY' not in request.url
    assert request.headers['Authorization'].startswith('Basic ')


@responses.activate
def test_remote_commit_dumb_default_branch():
    responses.get('http://git.example/stacks.git/info/refs', body=DUMB, content_type='text/plain')
    responses.get('http://git.example/stacks.git/HEAD', body='ref: refs/heads/branch-b\n')
    assert remote_commit('http://git.example/stacks.git', '') == SHA_B


@responses.activate
def test_remote_commit_errors_name_the_options_and_hide_the_password():
    responses.get('https://git.example/private.git/info/refs', status=401)
    with pytest.raises(PortainerError, match='repository_username and repository_password') as info:
        remote_commit('https://git.example/private.git', 'main', 'deploy', 'CANARY-git')
    assert 'CANARY' not in str(info.value)
    responses.get('https://git.example/stacks.git/info/refs', body=DUMB)
    with pytest.raises(PortainerError, match='no reference refs/heads/nope'):
        remote_commit('https://git.example/stacks.git', 'refs/heads/nope')
    responses.get('https://git.example/gone/info/refs', status=404)
    responses.get('https://git.example/gone.git/info/refs', status=404)
    with pytest.raises(PortainerError, match='HTTP 404.*repository_remote_check'):
        remote_commit('https://git.example/gone', 'main')
    with pytest.raises(PortainerError, match='not an http'):
        remote_commit('git@git.example:x.git', 'main')


@responses.activate
def test_remote_commit_connection_error_hides_userinfo():
    responses.get('https://user:CANARY-url@git.example/x.git/info/refs', body=requests.exceptions.ConnectionError('refused'))
    with pytest.raises(PortainerError) as info:
        remote_commit('https://user:CANARY-url@git.example/x.git', 'main')
    assert 'CANARY' not in str(info.value)


# ------------------------------------------------------------------ waiting

def service(sid, name, replicas=1, image='web:1', update=None):
    data = {'ID': sid, 'Spec': {'Name': name, 'Mode': {'Replicated': {'Replicas': replicas}},
                                'TaskTemplate': {'ContainerSpec': {'Image': image}}}}
    if update:
        data['UpdateStatus'] = {'State': update, 'Message': 'm'}
    return data


def task(sid, state, desired='running', err=None, created='2024-01-01T00:00:00Z', image='web:1'):
    status = {'State': state}
    if err:
        status['Err'] = err
    return {'ServiceID': sid, 'DesiredState': desired, 'Status': status, 'CreatedAt': created,
            'Spec': {'ContainerSpec': {'Image': image}}}


@pytest.mark.parametrize('services, tasks, done, failed, words', [
    ([], [], False, False, 'no service'),
    ([service('s1', 'st_web')], [task('s1', 'running')], True, False, ''),
    ([service('s1', 'st_web', replicas=2)], [task('s1', 'running')], False, False, '1 of 2'),
    ([service('s1', 'st_web')], [task('s1', 'preparing')], False, False, 'preparing'),
    ([service('s1', 'st_web', image='web:2')], [task('s1', 'running', image='web:1')], False, False, '0 of 1'),
    ([service('s1', 'st_web', update='updating')], [task('s1', 'running')], False, False, ''),
    ([service('s1', 'st_web', update='paused')], [task('s1', 'running')], False, True, 'update paused'),
    ([service('s1', 'st_ghost')], [task('s1', 'rejected', desired='shutdown', err='No such image: ghost:1', created=str(n))
                                   for n in range(3)], False, True, 'No such image: ghost:1'),
    ([service('s1', 'st_web'), service('s2', 'st_db', replicas=0)], [task('s1', 'running')], True, False, ''),
    ([service('s1', 'st_ghost', image='web:2')],
     [task('s1', 'rejected', desired='shutdown', err='No such image: web:1', created=str(n)) for n in range(3)]
     + [task('s1', 'starting', image='web:2', created='9')], False, False, 'last task starting'),
])
def test_swarm_progress(services, tasks, done, failed, words):
    result = _stack.swarm_progress(services, tasks)
    assert result[:2] == (done, failed)
    assert words in result[2]


@pytest.mark.parametrize('containers, done, failed, words', [
    ([], False, False, 'no container'),
    ([{'Id': 'a', 'Names': ['/p-web-1'], 'State': 'running', 'Status': 'Up 2 seconds'}], True, False, ''),
    ([{'Id': 'a', 'Names': ['/p-web-1'], 'State': 'running', 'Status': 'Up 2 seconds (health: starting)'}], False, False, 'starting'),
    ([{'Id': 'a', 'Names': ['/p-web-1'], 'State': 'running', 'Status': 'Up 1 minute (unhealthy)'}], False, True, 'unhealthy'),
    ([{'Id': 'a', 'Names': ['/p-web-1'], 'State': 'exited', 'Status': 'Exited (1) 2 seconds ago'}], False, True, 'Exited (1)'),
    ([{'Id': 'a', 'Names': ['/p-web-1'], 'State': 'created', 'Status': 'Created'}], False, False, 'Created'),
])
def test_compose_progress(containers, done, failed, words):
    result = _stack.compose_progress(containers, {'a': 'exit code 1'})
    assert result[:2] == (done, failed)
    assert words in result[2]


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


@responses.activate
def test_wait_for_swarm_stack_fails_with_the_task_error():
    responses.get(BASE + '/api/endpoints/3/docker/services', json=[service('s1', 'broken_ghost')])
    responses.get(BASE + '/api/endpoints/3/docker/tasks', json=[
        task('s1', 'rejected', desired='shutdown', err='No such image: ghost:1', created=str(n)) for n in range(3)])
    clock = FakeClock()
    with pytest.raises(PortainerError, match='broken_ghost: 0 of 1 tasks running, last task rejected: No such image'):
        _stack.wait_for_stack(client(), 3, 'broken', 1, 30, sleep=clock.sleep, clock=clock)
    assert 'com.docker.stack.namespace=broken' in requests.utils.unquote(responses.calls[0].request.url)


@responses.activate
def test_wait_for_compose_stack_times_out_with_the_state():
    responses.get(BASE + '/api/endpoints/3/docker/containers/json',
                  json=[{'Id': 'a', 'Names': ['/p-web-1'], 'State': 'restarting', 'Status': 'Restarting (1) 1 second ago'}])
    clock = FakeClock()
    with pytest.raises(PortainerError, match='within wait_timeout .*Restarting'):
        _stack.wait_for_stack(client(), 3, 'p', 2, 6, sleep=clock.sleep, clock=clock)


@responses.activate
def test_wait_for_compose_stack_reports_the_container_error():
    responses.get(BASE + '/api/endpoints/3/docker/containers/json',
                  json=[{'Id': 'a', 'Names': ['/p-web-1'], 'State': 'exited', 'Status': 'Exited (127)'}])
    responses.get(BASE + '/api/endpoints/3/docker/containers/a/json', json={'State': {'Error': 'exec: "nope": not found', 'ExitCode': 127}})
    clock = FakeClock()
    with pytest.raises(PortainerError, match='nope.*exit code 127'):
        _stack.wait_for_stack(client(), 3, 'p', 2, 6, sleep=clock.sleep, clock=clock)


@responses.activate
def test_wait_for_removal():
    responses.get(BASE + '/api/endpoints/3/docker/services', json=[])
    responses.get(BASE + '/api/endpoints/3/docker/containers/json', json=[])
    _stack.wait_for_removal(client(), 3, 'p', 1, 5, sleep=lambda s: None)
    assert len(responses.calls) == 2


def test_content_class_text():
    assert Content('a: 1\n').matches('a: 1\r\n')


# ------------------------------------------------------------------ input checks added for hostile values

@pytest.mark.parametrize('definition, message', [
    ('services: {}\n', 'services: mapping with at least one service'),
    ('version: "3"\n', 'services: mapping with at least one service'),
    ('services:\n  web: 5\n', 'the service web must be a mapping'),
    ('services:\n  web:\n    image: a\n  web:\n    image: b\n', 'appears twice'),
    ('a: &a [*a]\nservices:\n  web: {}\n', 'recursive'),
    ('!!python/object/apply:os.system ["id"]', 'not valid YAML'),
    ({'services': {'web': 'x'}}, 'the service web must be a mapping'),
    ({'version': '3'}, 'services: mapping'),
])
def test_compose_documents_are_checked(definition, message):
    with pytest.raises(StackInputError, match=message):
        desired_content({'definition': definition})


@pytest.mark.parametrize('ref, ok', [
    ('main', True), ('refs/heads/feature/x-1', True), ('refs/tags/v1.2', True), ('', True), (None, True),
    (' ', False), ('..', False), ('refs/heads/../../x', False), ('a b', False), ('x~1', False), ('x:y', False),
    ('/main', False), ('main/', False), ('main.lock', False), ('a//b', False), ('x@{1}', False),
])
def test_check_ref(ref, ok):
    if ok:
        assert _stack.check_ref(ref) == ref
    else:
        with pytest.raises(StackInputError, match='repository_ref'):
            _stack.check_ref(ref)


@pytest.mark.parametrize('path, ok', [
    ('docker-compose.yml', True), ('deploy/stack.yml', True), ('a..b/c.yml', True),
    ('', False), (' ', False), ('/etc/passwd', False), ('../../etc/passwd', False), ('..', False), ('a/../b', False),
])
def test_check_repo_path(path, ok):
    if ok:
        assert _stack.check_repo_path(path, 'compose_path') == path
    else:
        with pytest.raises(StackInputError, match='compose_path'):
            _stack.check_repo_path(path, 'compose_path')


@pytest.mark.parametrize('url, ok', [
    ('https://github.com/ops/stacks.git', True), ('http://127.0.0.1:8929/stacks.git', True), ('https://u:p@git.example/x', True),
    ('', False), ('http://', False), ('not a url', False), ('ftp://host/x.git', False), ('file:///etc', False),
    ('../../repo', False), ('http://user:pass@', False), ('ssh://', False), ('git@github.com:ops/x.git', False),
])
def test_check_repository_url(url, ok):
    if ok:
        assert _stack.check_repository_url(url) == url
    else:
        with pytest.raises(StackInputError, match='repository_url') as info:
            _stack.check_repository_url(url)
        assert 'pass@' not in str(info.value)


def test_long_names_are_refused():
    assert check_name('x' * 63)
    with pytest.raises(StackInputError, match='64 characters long'):
        check_name('x' * 64)
