# -*- coding: utf-8 -*-
# Copyright (c) pier.portainer contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import base64
import json

import pytest
import responses

from ansible_collections.pier.portainer.plugins.module_utils import _endpoint
from ansible_collections.pier.portainer.plugins.module_utils._api import PortainerClient, PortainerError
from ansible_collections.pier.portainer.plugins.module_utils._endpoint import (
    Lookups,
    ValidationError,
    create_fields,
    current_state,
    diff_states,
    list_params,
    matches,
    plan_update,
    predict,
    read_pem,
    sanitize,
    swarm_facts,
    url_matches,
    validate_params,
    validate_url,
)

BASE = 'http://portainer.test:9000'
KEY_MARKER = 'CANARYKEYCONTENT'


def pem(label, payload=b'0123456789abcdef' * 4):
    body = base64.b64encode(payload).decode()
    return ('-----BEGIN %s-----\n%s\n-----END %s-----\n' % (label, body, label)).encode()


@pytest.fixture
def tls_files(tmp_path):
    paths = {}
    for name, label, payload in (('ca', 'CERTIFICATE', b'ca-der-bytes'), ('cert', 'CERTIFICATE', b'cert-der-bytes'),
                                 ('key', 'RSA PRIVATE KEY', KEY_MARKER.encode())):
        path = tmp_path / ('%s.pem' % name)
        path.write_bytes(pem(label, payload))
        paths[name] = str(path)
    (tmp_path / 'text.pem').write_text('hello\n')
    (tmp_path / 'encrypted.pem').write_bytes(pem('ENCRYPTED PRIVATE KEY'))
    paths['text'] = str(tmp_path / 'text.pem')
    paths['encrypted'] = str(tmp_path / 'encrypted.pem')
    paths['missing'] = str(tmp_path / 'missing.pem')
    paths['dir'] = str(tmp_path)
    return paths


def params(**kwargs):
    base = dict(name='env1', state='present', type=None, url=None, public_url=None, group=None, create_group=False,
                tags=None, edge_checkin_interval=None, tls=None, tls_skip_verify=None, tls_skip_client_verify=None,
                tls_ca_cert=None, tls_client_cert=None, tls_client_key=None, tls_replace_files=False)
    base.update(kwargs)
    return base


def endpoint(**kwargs):
    base = {'Id': 7, 'Name': 'env1', 'Type': 1, 'URL': 'tcp://10.0.0.5:2375', 'PublicURL': '', 'GroupId': 1, 'TagIds': [],
            'TLSConfig': {'TLS': False, 'TLSSkipVerify': False}, 'Status': 1, 'EdgeCheckinInterval': 0}
    base.update(kwargs)
    return base


MUTUAL_TLS = {'TLS': True, 'TLSSkipVerify': False, 'TLSCACert': '/data/tls/7/ca.pem', 'TLSCert': '/data/tls/7/cert.pem',
              'TLSKey': '/data/tls/7/key.pem'}


# ------------------------------------------------------------------ URL validation

@pytest.mark.parametrize('url, endpoint_type', [
    ('unix:///var/run/docker.sock', 'docker'),
    ('tcp://10.0.0.5:2375', 'docker'),
    ('tcp://docker.example.com:2376/', 'docker'),
    ('npipe:////./pipe/docker_engine', 'docker'),
    ('  tcp://10.0.0.5:2375 ', 'docker'),
    ('tcp://10.0.0.5:9001', 'agent'),
    ('https://portainer.example.com:9443', 'edge_agent'),
    ('http://10.0.0.1:9000', 'edge_agent'),
])
def test_good_urls(url, endpoint_type):
    assert validate_url(url, endpoint_type) == url.strip()


@pytest.mark.parametrize('url, endpoint_type', [
    ('http://10.0.0.5:2375', 'docker'),
    ('10.0.0.5:2375', 'docker'),
    ('tcp://10.0.0.5', 'docker'),
    ('tcp://:2375', 'docker'),
    ('tcp://10.0.0.5:notaport', 'docker'),
    ('unix://', 'docker'),
    ('tcp://10.0.0.5:2375/v1.41', 'docker'),
    ('', 'docker'),
    ('https://10.0.0.5:9001', 'agent'),
    ('tcp://10.0.0.5', 'agent'),
    ('tcp://portainer:8000', 'edge_agent'),
    ('portainer.example.com', 'edge_agent'),
])
def test_bad_urls_name_the_option(url, endpoint_type):
    with pytest.raises(ValidationError, match=r'^url '):
        validate_url(url, endpoint_type)


# ------------------------------------------------------------------ PEM files

@pytest.mark.parametrize('name, kind, message', [
    ('missing', 'cert', 'does not exist'),
    ('dir', 'cert', 'is not a file'),
    ('text', 'cert', 'holds no PEM certificate'),
    ('key', 'cert', 'holds no PEM certificate'),
    ('cert', 'key', 'holds no PEM private key'),
    ('encrypted', 'key', 'is encrypted'),
])
def test_bad_pem_files(tls_files, name, kind, message):
    with pytest.raises(ValidationError, match=message) as info:
        read_pem(tls_files[name], 'tls_option', kind)
    assert str(info.value).startswith('tls_option: ')
    assert KEY_MARKER not in str(info.value)


def test_good_pem_files(tls_files):
    assert read_pem(tls_files['ca'], 'tls_ca_cert', 'cert').startswith(b'-----BEGIN CERTIFICATE-----')
    assert b'PRIVATE KEY' in read_pem(tls_files['key'], 'tls_client_key', 'key')


# ------------------------------------------------------------------ option validation

@pytest.mark.parametrize('options, message', [
    ({'name': ' '}, 'name is empty'),
    ({'url': 'http://10.0.0.5:2375'}, 'url '),
    ({'url': 'tcp://h:1', 'tls_ca_cert': 'CA'}, 'tls_ca_cert applies only with tls: true'),
    ({'url': 'tcp://h:1', 'tls': False, 'tls_skip_verify': True}, 'tls_skip_verify applies only with tls: true'),
    ({'tls': True, 'tls_client_key': 'KEY'}, 'tls_client_key is set but tls_client_cert is not'),
    ({'tls': True, 'tls_client_cert': 'CERT'}, 'tls_client_cert is set but tls_client_key is not'),
    ({'tls': True, 'tls_skip_verify': True, 'tls_ca_cert': 'CA'}, 'tls_ca_cert is set together with tls_skip_verify'),
    ({'tls': True, 'tls_skip_client_verify': True, 'tls_client_cert': 'CERT', 'tls_client_key': 'KEY'}, 'tls_skip_client_verify: true'),
    ({'tls': True, 'tls_replace_files': True}, 'tls_replace_files needs'),
    ({'tls': True, 'tls_ca_cert': 'MISSING'}, 'tls_ca_cert: the file'),
    ({'tls': True, 'tls_ca_cert': 'KEY'}, 'tls_ca_cert: .* holds no PEM certificate'),
    ({'type': 'edge_agent', 'url': 'https://p:9443', 'tls': True}, 'tls does not apply'),
    ({'type': 'edge_agent', 'url': 'https://p:9443', 'edge_checkin_interval': 0}, 'edge_checkin_interval must be a positive'),
    ({'url': 'tcp://h:1', 'edge_checkin_interval': 5}, 'edge_checkin_interval applies only'),
    ({'group': ' '}, 'group is empty'),
    ({'group': '12', 'create_group': True}, 'create_group needs group to be a name'),
    ({'tags': ['a', '']}, 'tags contains an empty name'),
])
def test_validation_fails_with_the_option(tls_files, options, message):
    for key, value in list(options.items()):
        if value in ('CA', 'CERT', 'KEY', 'MISSING'):
            options[key] = tls_files[value.lower()]
    with pytest.raises(ValidationError, match=message):
        validate_params(params(**options))


def test_validation_reads_the_files(tls_files):
    files = validate_params(params(url='tcp://h:2376', tls=True, tls_ca_cert=tls_files['ca'], tls_client_cert=tls_files['cert'],
                                   tls_client_key=tls_files['key']))
    assert sorted(files) == ['ca', 'cert', 'key']


def test_absent_needs_only_a_name():
    assert validate_params(params(state='absent', url='not checked')) == {}


# ------------------------------------------------------------------ create payload

def form(fields):
    return dict((name, value[1]) for name, value in fields if value[0] is None)


def file_parts(fields):
    return dict((name, value[0]) for name, value in fields if value[0] is not None)


@pytest.mark.parametrize('options, files, expected_form, expected_files', [
    ({'url': 'unix:///var/run/docker.sock'}, {}, {'Name': 'env1', 'EndpointCreationType': '1', 'URL': 'unix:///var/run/docker.sock'}, {}),
    ({'type': 'agent', 'url': 'tcp://a:9001', 'public_url': 'a.example.com'}, {},
     {'Name': 'env1', 'EndpointCreationType': '2', 'URL': 'tcp://a:9001', 'PublicURL': 'a.example.com', 'TLS': 'true',
      'TLSSkipVerify': 'true', 'TLSSkipClientVerify': 'true'}, {}),
    ({'type': 'agent', 'url': 'tcp://a:9001', 'tls': False}, {}, {'Name': 'env1', 'EndpointCreationType': '2', 'URL': 'tcp://a:9001'}, {}),
    ({'type': 'edge_agent', 'url': 'https://p:9443', 'edge_checkin_interval': 30}, {},
     {'Name': 'env1', 'EndpointCreationType': '4', 'URL': 'https://p:9443', 'EdgeCheckinInterval': '30'}, {}),
    ({'url': 'tcp://h:2376', 'tls': True}, {},
     {'Name': 'env1', 'EndpointCreationType': '1', 'URL': 'tcp://h:2376', 'TLS': 'true', 'TLSSkipVerify': 'true', 'TLSSkipClientVerify': 'true'}, {}),
    ({'url': 'tcp://h:2376', 'tls': True, 'tls_ca_cert': 'ca'}, {'ca': b'C'},
     {'Name': 'env1', 'EndpointCreationType': '1', 'URL': 'tcp://h:2376', 'TLS': 'true', 'TLSSkipClientVerify': 'true'},
     {'TLSCACertFile': 'ca.pem'}),
    ({'url': 'tcp://h:2376', 'tls': True, 'tls_ca_cert': 'ca', 'tls_client_cert': 'c', 'tls_client_key': 'k'},
     {'ca': b'C', 'cert': b'E', 'key': b'K'},
     {'Name': 'env1', 'EndpointCreationType': '1', 'URL': 'tcp://h:2376', 'TLS': 'true'},
     {'TLSCACertFile': 'ca.pem', 'TLSCertFile': 'cert.pem', 'TLSKeyFile': 'key.pem'}),
    ({'url': 'tcp://h:2376', 'tls': True, 'tls_skip_verify': True, 'tls_client_cert': 'c', 'tls_client_key': 'k'},
     {'cert': b'E', 'key': b'K'},
     {'Name': 'env1', 'EndpointCreationType': '1', 'URL': 'tcp://h:2376', 'TLS': 'true', 'TLSSkipVerify': 'true'},
     {'TLSCertFile': 'cert.pem', 'TLSKeyFile': 'key.pem'}),
])
def test_create_fields(options, files, expected_form, expected_files):
    fields = create_fields(params(**options), None, [], files)
    assert form(fields) == expected_form
    assert file_parts(fields) == expected_files


def test_create_fields_group_and_tags():
    fields = form(create_fields(params(url='tcp://h:1'), 3, [4, 5], {}))
    assert fields['GroupID'] == '3'
    assert json.loads(fields['TagIds']) == [4, 5]


def test_false_booleans_are_never_sent():
    fields = create_fields(params(url='tcp://h:1', tls=False), None, [], {})
    assert not [name for name, value in fields if value[1] in ('false', 'False', '0')]
    assert 'TLS' not in form(fields)


@pytest.mark.parametrize('options, files, message', [
    ({'tls': True, 'tls_skip_verify': False}, {}, 'give tls_ca_cert'),
    ({'tls': True, 'tls_skip_client_verify': False}, {}, 'give tls_client_cert and tls_client_key'),
])
def test_check_create(options, files, message):
    with pytest.raises(ValidationError, match=message):
        _endpoint.check_create(params(**options), files)


# ------------------------------------------------------------------ comparison

def test_current_state_reads_portainer_shapes():
    state = current_state(endpoint(TLSConfig=MUTUAL_TLS, TagIds=[3, 1], Type=6))
    assert state['type'] == 'agent'
    assert state['tag_ids'] == [1, 3]
    assert state['tls'] is True and state['tls_skip_client_verify'] is False and state['ca_stored'] is True
    skip_client = current_state(endpoint(TLSConfig={'TLS': True, 'TLSSkipVerify': True}))
    assert skip_client['tls_skip_client_verify'] is True and skip_client['tls_skip_verify'] is True


@pytest.mark.parametrize('current, options, group_id, tag_ids, changes, payload', [
    # Nothing set: nothing managed.
    ({}, {}, None, None, {}, {}),
    ({}, {'url': 'tcp://10.0.0.5:2375'}, None, None, {}, {}),
    ({}, {'url': 'tcp://10.0.0.5:2375/'}, None, None, {}, {}),
    ({}, {'url': 'tcp://10.0.0.6:2375'}, None, None, {'url': ('tcp://10.0.0.5:2375', 'tcp://10.0.0.6:2375')}, {'URL': 'tcp://10.0.0.6:2375'}),
    ({}, {'public_url': 'pub'}, None, None, {'public_url': ('', 'pub')}, {'PublicURL': 'pub'}),
    ({'PublicURL': 'pub'}, {'public_url': 'pub'}, None, None, {}, {}),
    ({}, {'group': 'g'}, 1, None, {}, {}),
    ({}, {'group': 'g'}, 4, None, {'group': (1, 4)}, {'GroupID': 4}),
    ({}, {'group': 'g', 'create_group': True}, None, None, {'group': (1, None)}, {'GroupID': None}),
    ({'TagIds': [2, 1]}, {'tags': ['a', 'b']}, None, [1, 2], {}, {}),
    ({'TagIds': [2, 1]}, {'tags': ['a', 'b']}, None, [2, 1, 1], {}, {}),
    ({'TagIds': [2]}, {'tags': ['a', 'b']}, None, [1, 2], {'tags': ([2], [1, 2])}, {'TagIDs': [1, 2]}),
    ({'TagIds': [2]}, {'tags': []}, None, [], {'tags': ([2], [])}, {'TagIDs': []}),
    ({'TagIds': [2]}, {'tags': ['b', 'new']}, None, [2, None], {'tags': ([2], [2, None])}, {'TagIDs': [2, None]}),
    ({'Type': 4, 'URL': 'p.example.com:9443'}, {'type': 'edge_agent', 'url': 'https://p.example.com:9443'}, None, None, {}, {}),
    ({'Type': 4, 'URL': 'p.example.com:9443', 'EdgeCheckinInterval': 5}, {'type': 'edge_agent', 'edge_checkin_interval': 30}, None, None,
     {'edge_checkin_interval': (5, 30)}, {'EdgeCheckinInterval': 30}),
    ({'Type': 4, 'URL': 'p.example.com:9443'}, {'type': 'edge_agent', 'url': 'https://q.example.com:9443'}, None, None,
     {'url': ('p.example.com:9443', 'https://q.example.com:9443')}, {'URL': 'q.example.com:9443'}),
    # TLS flags compared in Portainer's nested shape.
    ({'TLSConfig': MUTUAL_TLS}, {'tls': True}, None, None, {}, {}),
    ({'TLSConfig': MUTUAL_TLS}, {'tls': False}, None, None, {'tls': (True, False)}, {'TLS': False}),
    ({}, {'tls': False}, None, None, {}, {}),
    ({'TLSConfig': MUTUAL_TLS}, {'tls': True, 'tls_skip_verify': True}, None, None,
     {'tls_skip_verify': (False, True)}, {'TLS': True, 'TLSSkipVerify': True, 'TLSSkipClientVerify': False}),
    ({'TLSConfig': MUTUAL_TLS}, {'tls': True, 'tls_skip_client_verify': True}, None, None,
     {'tls_skip_client_verify': (False, True)}, {'TLS': True, 'TLSSkipVerify': False, 'TLSSkipClientVerify': True}),
    ({'TLSConfig': {'TLS': True, 'TLSSkipVerify': True}}, {'tls': True, 'tls_skip_verify': True, 'tls_skip_client_verify': True}, None, None, {}, {}),
])
def test_plan_update(current, options, group_id, tag_ids, changes, payload):
    found = endpoint(**current)
    got_changes, got_payload, uploads = plan_update(found, params(**options), group_id, tag_ids, {})
    assert got_changes == changes
    assert got_payload == payload
    assert uploads == []


FILES = {'ca': b'C', 'cert': b'E', 'key': b'K'}
ALL_FILES = {'tls': True, 'tls_ca_cert': '/p/ca.pem', 'tls_client_cert': '/p/cert.pem', 'tls_client_key': '/p/key.pem'}


@pytest.mark.parametrize('tls_config, options, uploads, changed_keys', [
    # Files already stored: contents are not compared, nothing to do.
    (MUTUAL_TLS, ALL_FILES, [], []),
    # From no TLS to mutual TLS: upload all three.
    ({'TLS': False, 'TLSSkipVerify': False}, ALL_FILES, ['ca', 'cert', 'key'],
     ['tls', 'tls_ca_cert', 'tls_client_cert', 'tls_client_key']),
    # Verification switched on: upload the CA.
    ({'TLS': True, 'TLSSkipVerify': True}, {'tls': True, 'tls_ca_cert': '/p/ca.pem'}, ['ca'], ['tls_skip_verify', 'tls_ca_cert']),
    # Client certificate added.
    ({'TLS': True, 'TLSSkipVerify': False, 'TLSCACert': '/data/tls/7/ca.pem'},
     {'tls': True, 'tls_client_cert': '/p/cert.pem', 'tls_client_key': '/p/key.pem'}, ['cert', 'key'],
     ['tls_skip_client_verify', 'tls_client_cert', 'tls_client_key']),
    # Explicit replacement: always uploads what is given and in use.
    (MUTUAL_TLS, dict(ALL_FILES, tls_replace_files=True), ['ca', 'cert', 'key'], ['tls_ca_cert', 'tls_client_cert', 'tls_client_key']),
])
def test_plan_update_tls_files(tls_config, options, uploads, changed_keys):
    changes, payload, got_uploads = plan_update(endpoint(TLSConfig=tls_config), params(**options), None, None, FILES)
    assert got_uploads == uploads
    assert sorted(changes) == sorted(changed_keys)
    if uploads:
        assert payload['TLS'] is True
        assert 'upload /p/' in changes[[k for k in changed_keys if k.startswith('tls_c')][0]][1]


def test_plan_update_needs_a_file_it_does_not_have():
    with pytest.raises(PortainerError, match='give tls_ca_cert'):
        plan_update(endpoint(TLSConfig={'TLS': True, 'TLSSkipVerify': True}), params(tls=True, tls_skip_verify=False), None, None, {})


def test_plan_update_refuses_another_type():
    with pytest.raises(PortainerError, match='cannot change the type'):
        plan_update(endpoint(), params(type='agent'), None, None, {})


@pytest.mark.parametrize('current, wanted, endpoint_type, same', [
    ('tcp://h:1', 'tcp://h:1', 'docker', True),
    ('tcp://h:1', 'tcp://h:1/', 'docker', True),
    ('tcp://h:1', 'tcp://h:2', 'docker', False),
    ('p:9443', 'https://p:9443', 'edge_agent', True),
    ('127.0.0.1:9443', 'https://localhost:9443', 'edge_agent', True),
    ('p:9443', 'https://q:9443', 'edge_agent', False),
])
def test_url_matches(current, wanted, endpoint_type, same):
    assert url_matches(current, wanted, endpoint_type) is same


def test_predict_applies_the_payload():
    result = predict(endpoint(), {'PublicURL': 'x', 'TagIDs': [1], 'GroupID': 3, 'TLS': True, 'TLSSkipVerify': False,
                                  'TLSSkipClientVerify': True})
    assert result['PublicURL'] == 'x' and result['TagIds'] == [1] and result['GroupId'] == 3
    assert result['TLSConfig'] == {'TLS': True, 'TLSSkipVerify': False, 'TLSCACert': '/data/tls/7/ca.pem'}


def test_diff_shows_only_managed_fields():
    found = endpoint(PublicURL='old', TagIds=[1])
    changes = {'public_url': ('old', 'new')}
    before, after = diff_states(found, params(public_url='new', tags=['a']), changes, lambda g: g, lambda t: ['name%s' % i for i in t])
    assert before == {'state': 'present', 'public_url': 'old', 'tags': ['name1']}
    assert after == {'state': 'present', 'public_url': 'new', 'tags': ['name1']}


# ------------------------------------------------------------------ output

def test_sanitize_removes_secrets_and_snapshots():
    raw = endpoint(Snapshots=[{'DockerSnapshotRaw': {}}], AzureCredentials={'ApplicationID': 'a', 'AuthenticationKey': 'CANARY-azure'},
                   Kubernetes={'Snapshots': [], 'Configuration': {}}, TLSConfig=MUTUAL_TLS)
    clean = sanitize(raw)
    assert 'Snapshots' not in clean
    assert 'CANARY-azure' not in json.dumps(clean)
    assert clean['TLSConfig']['TLSKey'] == '/data/tls/7/key.pem'
    assert raw['AzureCredentials']['AuthenticationKey'] == 'CANARY-azure'


@pytest.mark.parametrize('info, expected', [
    ({'Swarm': {'LocalNodeState': 'active', 'ControlAvailable': True, 'NodeID': 'n1', 'Cluster': {'ID': 'sw1'}}},
     {'state': 'active', 'manager': True, 'id': 'sw1', 'node_id': 'n1'}),
    ({'Swarm': {'LocalNodeState': 'active', 'ControlAvailable': False, 'NodeID': 'n2'}},
     {'state': 'active', 'manager': False, 'id': None, 'node_id': 'n2'}),
    ({'Swarm': {'LocalNodeState': 'inactive', 'NodeID': ''}}, {'state': 'inactive', 'manager': False, 'id': None, 'node_id': None}),
    ({}, {'state': 'inactive', 'manager': False, 'id': None, 'node_id': None}),
])
def test_swarm_facts(info, expected):
    assert swarm_facts(info) == expected


@pytest.mark.parametrize('args, expected', [
    ({}, [('excludeSnapshots', 'true')]),
    ({'name': 'x'}, [('excludeSnapshots', 'true'), ('name', 'x')]),
    ({'endpoint_type': 'agent'}, [('excludeSnapshots', 'true'), ('types[]', '2'), ('types[]', '6')]),
    ({'group_ids': [3], 'tag_ids': [1, 2]}, [('excludeSnapshots', 'true'), ('groupIds[]', '3'), ('tagIds[]', '1'), ('tagIds[]', '2')]),
])
def test_list_params(args, expected):
    assert list_params(**args) == expected


@pytest.mark.parametrize('kwargs, result', [
    ({}, True),
    ({'name': 'env1'}, True),
    ({'name': 'ENV1'}, False),
    ({'endpoint_type': 'edge_agent'}, False),
    ({'group_ids': [1, 2]}, True),
    ({'group_ids': [2]}, False),
    ({'tag_ids': [5]}, True),
    ({'tag_ids': [5, 6]}, False),
    ({'tag_ids': [5, 6], 'group_tags': {1: [6]}}, True),
])
def test_matches(kwargs, result):
    assert matches(endpoint(TagIds=[5]), **kwargs) is result


# ------------------------------------------------------------------ groups and tags (HTTP faked)

@responses.activate
def test_lookups_create_missing_tags_and_survive_a_race():
    responses.get(BASE + '/api/tags', json=[{'ID': 1, 'Name': 'a'}])
    responses.post(BASE + '/api/tags', json={'ID': 2, 'Name': 'b'})
    responses.post(BASE + '/api/tags', status=409, json={'message': 'This name is already associated to a tag'})
    responses.get(BASE + '/api/tags', json=[{'ID': 1, 'Name': 'a'}, {'ID': 2, 'Name': 'b'}, {'ID': 3, 'Name': 'c'}])
    lookups = Lookups(PortainerClient(BASE, api_key='ptr_x'), check_mode=False)
    assert lookups.tag_ids(['a', 'b', 'c'], create=True) == [1, 2, 3]
    assert lookups.created == ['tag b']


@responses.activate
def test_lookups_in_check_mode_create_nothing():
    responses.get(BASE + '/api/tags', json=[])
    responses.get(BASE + '/api/endpoint_groups', json=[{'Id': 1, 'Name': 'Unassigned'}])
    lookups = Lookups(PortainerClient(BASE, api_key='ptr_x'), check_mode=True)
    assert lookups.tag_ids(['new'], create=True) == [None]
    assert lookups.pending_tags == ['new']
    assert lookups.group_id('g', create=True) is None
    assert [c.request.method for c in responses.calls] == ['GET', 'GET']


@pytest.mark.parametrize('groups, ref, create, expected', [
    ([{'Id': 1, 'Name': 'Unassigned'}, {'Id': 2, 'Name': 'prod'}], 'prod', False, 2),
    ([{'Id': 1, 'Name': 'Unassigned'}], '7', False, 7),
    ([{'Id': 2, 'Name': 'prod'}, {'Id': 3, 'Name': 'prod'}], 'prod', False, 'numeric id'),
    ([{'Id': 1, 'Name': 'Unassigned'}], 'prod', False, 'create_group: true'),
])
@responses.activate
def test_group_resolution(groups, ref, create, expected):
    responses.get(BASE + '/api/endpoint_groups', json=groups)
    lookups = Lookups(PortainerClient(BASE, api_key='ptr_x'), check_mode=False)
    if isinstance(expected, int):
        assert lookups.group_id(ref, create) == expected
    else:
        with pytest.raises(PortainerError, match=expected):
            lookups.group_id(ref, create)


@responses.activate
def test_group_created_twice_at_once_keeps_the_oldest():
    responses.get(BASE + '/api/endpoint_groups', json=[{'Id': 1, 'Name': 'Unassigned'}])
    responses.post(BASE + '/api/endpoint_groups', json={'Id': 6, 'Name': 'prod'})
    responses.get(BASE + '/api/endpoint_groups', json=[{'Id': 1, 'Name': 'Unassigned'}, {'Id': 5, 'Name': 'prod'}, {'Id': 6, 'Name': 'prod'}])
    delete = responses.delete(BASE + '/api/endpoint_groups/6', status=204)
    lookups = Lookups(PortainerClient(BASE, api_key='ptr_x'), check_mode=False)
    assert lookups.group_id('prod', create=True) == 5
    assert delete.call_count == 1


@responses.activate
def test_group_created():
    responses.get(BASE + '/api/endpoint_groups', json=[{'Id': 1, 'Name': 'Unassigned'}])
    post = responses.post(BASE + '/api/endpoint_groups', json={'Id': 6, 'Name': 'prod'})
    responses.get(BASE + '/api/endpoint_groups', json=[{'Id': 1, 'Name': 'Unassigned'}, {'Id': 6, 'Name': 'prod'}])
    lookups = Lookups(PortainerClient(BASE, api_key='ptr_x'), check_mode=False)
    assert lookups.group_id('prod', create=True) == 6
    assert json.loads(post.calls[0].request.body) == {'Name': 'prod'}
    assert lookups.created == ['group prod']
