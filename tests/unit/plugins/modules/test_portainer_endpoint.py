# -*- coding: utf-8 -*-
# Copyright (c) pier.portainer contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import base64
import json

import pytest
import responses

from responses import matchers

from ansible_collections.pier.portainer.plugins.module_utils import _endpoint
from ansible_collections.pier.portainer.plugins.modules import portainer_endpoint

URL = 'http://portainer.test:9000'
KEY = 'ptr_CANARY-unit-key-000111'
KEY_MARKER = b'CANARY-KEY-CONTENT'
LIST = URL + '/api/endpoints'


def pem(label, payload):
    return ('-----BEGIN %s-----\n%s\n-----END %s-----\n' % (label, base64.b64encode(payload).decode(), label)).encode()


@pytest.fixture
def tls_files(tmp_path):
    paths = {}
    for name, label, payload in (('ca', 'CERTIFICATE', b'ca'), ('cert', 'CERTIFICATE', b'cert'), ('key', 'PRIVATE KEY', KEY_MARKER)):
        path = tmp_path / ('%s.pem' % name)
        path.write_bytes(pem(label, payload))
        paths[name] = str(path)
    return paths


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    monkeypatch.setattr(_endpoint.time, 'sleep', lambda seconds: None)


def args(**kwargs):
    base = {'portainer_url': URL, 'portainer_api_key': KEY, 'name': 'env1'}
    base.update(kwargs)
    return base


def endpoint(**kwargs):
    base = {'Id': 7, 'Name': 'env1', 'Type': 1, 'URL': 'tcp://10.0.0.5:2375', 'PublicURL': '', 'GroupId': 1, 'TagIds': [],
            'TLSConfig': {'TLS': False, 'TLSSkipVerify': False}, 'Status': 1, 'Snapshots': [],
            'AzureCredentials': {'ApplicationID': '', 'TenantID': '', 'AuthenticationKey': ''}}
    base.update(kwargs)
    return base


def by_name(found):
    responses.get(LIST, json=found, match=[matchers.query_param_matcher({'name': 'env1', 'excludeSnapshots': 'true'})])


def writes():
    return [c for c in responses.calls if c.request.method != 'GET']


def multipart_fields(body):
    """Field name -> value (or filename for files) of a multipart body."""
    result = {}
    for part in body.split(b'--')[1:]:
        head, _sep, value = part.partition(b'\r\n\r\n')
        if b'name="' not in head:
            continue
        name = head.split(b'name="')[1].split(b'"')[0].decode()
        if b'filename="' in head:
            result[name] = 'file:' + head.split(b'filename="')[1].split(b'"')[0].decode()
        else:
            result[name] = value.rstrip(b'\r\n').decode()
    return result


# ------------------------------------------------------------------ validation before any request

@pytest.mark.parametrize('options, message', [
    ({'url': 'http://10.0.0.5:2375'}, 'url '),
    ({'url': 'tcp://h:2376', 'tls': True, 'tls_ca_cert': '/nonexistent/ca.pem'}, 'tls_ca_cert: the file'),
    ({'url': 'tcp://h:2376', 'tls': True, 'tls_client_key': 'KEY'}, 'tls_client_key is set but tls_client_cert is not'),
])
@responses.activate
def test_bad_input_fails_before_any_request(run_module, tls_files, options, message):
    options = dict((k, tls_files['key'] if v == 'KEY' else v) for k, v in options.items())
    result = run_module(portainer_endpoint, args(**options))
    assert result['failed'] is True
    assert message in result['msg']
    assert len(responses.calls) == 0


# ------------------------------------------------------------------ create

@responses.activate
def test_create_sends_the_multipart_form(run_module, tls_files):
    by_name([])
    created = endpoint(URL='tcp://h:2376', TLSConfig={'TLS': True, 'TLSSkipVerify': False, 'TLSCACert': '/data/tls/7/ca.pem',
                                                      'TLSCert': '/data/tls/7/cert.pem', 'TLSKey': '/data/tls/7/key.pem'})
    post = responses.post(LIST, json=created)
    by_name([created])
    result = run_module(portainer_endpoint, args(url='tcp://h:2376', tls=True, tls_ca_cert=tls_files['ca'],
                                                 tls_client_cert=tls_files['cert'], tls_client_key=tls_files['key']), diff=True)
    assert result['failed'] is False, result
    assert result['changed'] is True
    request = post.calls[0].request
    assert request.headers['Content-Type'].startswith('multipart/form-data')
    assert multipart_fields(request.body) == {'Name': 'env1', 'EndpointCreationType': '1', 'URL': 'tcp://h:2376', 'TLS': 'true',
                                              'TLSCACertFile': 'file:ca.pem', 'TLSCertFile': 'file:cert.pem', 'TLSKeyFile': 'file:key.pem'}
    assert result['diff']['before'] == {'state': 'absent'}
    assert result['diff']['after']['tls_client_key'] == 'stored'
    assert 'Snapshots' not in result['endpoint']
    assert 'AuthenticationKey' not in result['endpoint']['AzureCredentials']
    assert KEY_MARKER.decode() not in json.dumps(result)


@responses.activate
def test_create_in_check_mode_sends_only_reads(run_module):
    by_name([])
    responses.get(URL + '/api/tags', json=[])
    responses.get(URL + '/api/endpoint_groups', json=[{'Id': 1, 'Name': 'Unassigned'}])
    result = run_module(portainer_endpoint, args(url='unix:///var/run/docker.sock', tags=['new'], group='g', create_group=True),
                        check_mode=True, diff=True)
    assert result['changed'] is True
    assert writes() == []
    assert result['endpoint']['Id'] is None
    assert result['diff']['after'] == {'state': 'present', 'url': 'unix:///var/run/docker.sock', 'group': 'g', 'tags': ['new']}


@responses.activate
def test_create_conflict_reads_back_and_converges(run_module):
    by_name([])
    responses.post(LIST, status=409, json={'message': 'Name is not unique', 'details': 'Name is not unique'})
    by_name([])  # the winner is still connecting to the engine
    by_name([endpoint()])
    result = run_module(portainer_endpoint, args(url='tcp://10.0.0.5:2375'))
    assert result['failed'] is False, result
    assert result['changed'] is False
    assert result['endpoint']['Id'] == 7
    assert [c.request.method for c in writes()] == ['POST']


@responses.activate
def test_create_conflict_then_update(run_module):
    by_name([])
    responses.post(LIST, status=409, json={'message': 'Name is not unique'})
    by_name([endpoint()])
    put = responses.put(LIST + '/7', json=endpoint(PublicURL='pub'))
    result = run_module(portainer_endpoint, args(url='tcp://10.0.0.5:2375', public_url='pub'))
    assert result['changed'] is True
    assert json.loads(put.calls[0].request.body) == {'PublicURL': 'pub'}


@responses.activate
def test_duplicate_after_create_keeps_the_oldest(run_module):
    by_name([])
    responses.post(LIST, json=endpoint(Id=9))
    by_name([endpoint(Id=7), endpoint(Id=9)])
    delete = responses.delete(LIST + '/9', status=204)
    result = run_module(portainer_endpoint, args(url='tcp://10.0.0.5:2375'))
    assert result['failed'] is False
    assert delete.call_count == 1
    assert result['endpoint']['Id'] == 7


@responses.activate
def test_unreachable_engine_gives_portainer_reason_and_a_hint(run_module):
    by_name([])
    responses.post(LIST, status=500, json={'message': 'Unable to initiate communications with environment',
                                           'details': 'Cannot connect to the Docker daemon at tcp://h:9'})
    result = run_module(portainer_endpoint, args(url='tcp://h:9'))
    assert result['failed'] is True
    assert 'Unable to initiate communications with environment' in result['msg']
    assert 'Cannot connect to the Docker daemon' in result['msg']
    assert 'reachable from the Portainer server' in result['msg']


@responses.activate
def test_agent_needs_a_url_to_be_created(run_module):
    by_name([])
    result = run_module(portainer_endpoint, args(type='agent'))
    assert result['failed'] is True
    assert 'url is required' in result['msg']
    assert writes() == []


# ------------------------------------------------------------------ update

@responses.activate
def test_noop_costs_one_request(run_module):
    by_name([endpoint()])
    result = run_module(portainer_endpoint, args(url='tcp://10.0.0.5:2375', type='docker'), diff=True)
    assert result['changed'] is False
    assert len(responses.calls) == 1
    assert result['diff']['before'] == result['diff']['after']


@responses.activate
def test_update_group_and_tags_by_name(run_module):
    by_name([endpoint(TagIds=[1])])
    responses.get(URL + '/api/endpoint_groups', json=[{'Id': 1, 'Name': 'Unassigned'}, {'Id': 4, 'Name': 'prod'}])
    responses.get(URL + '/api/tags', json=[{'ID': 1, 'Name': 'a'}])
    responses.post(URL + '/api/tags', json={'ID': 2, 'Name': 'b'})
    responses.get(URL + '/api/tags', json=[{'ID': 1, 'Name': 'a'}, {'ID': 2, 'Name': 'b'}])
    put = responses.put(LIST + '/7', json=endpoint(GroupId=4, TagIds=[1, 2]))
    result = run_module(portainer_endpoint, args(group='prod', tags=['b', 'a']), diff=True)
    assert result['changed'] is True
    assert json.loads(put.calls[0].request.body) == {'GroupID': 4, 'TagIDs': [1, 2]}
    assert result['diff']['before'] == {'state': 'present', 'group': 'Unassigned', 'tags': ['a']}
    assert result['diff']['after'] == {'state': 'present', 'group': 'prod', 'tags': ['a', 'b']}


@responses.activate
def test_update_in_check_mode_predicts_without_writing(run_module):
    by_name([endpoint()])
    result = run_module(portainer_endpoint, args(public_url='pub'), check_mode=True, diff=True)
    assert result['changed'] is True
    assert writes() == []
    assert result['endpoint']['PublicURL'] == 'pub'


@responses.activate
def test_adding_a_ca_uploads_it_then_updates(run_module, tls_files):
    by_name([endpoint(TLSConfig={'TLS': True, 'TLSSkipVerify': True})])
    upload = responses.post(URL + '/api/upload/tls/ca', status=204)
    put = responses.put(LIST + '/7', json=endpoint(TLSConfig={'TLS': True, 'TLSSkipVerify': False, 'TLSCACert': '/data/tls/7/ca.pem'}))
    result = run_module(portainer_endpoint, args(tls=True, tls_ca_cert=tls_files['ca']), diff=True)
    assert result['changed'] is True
    assert multipart_fields(upload.calls[0].request.body) == {'folder': '7', 'file': 'file:ca.pem'}
    assert json.loads(put.calls[0].request.body) == {'TLS': True, 'TLSSkipVerify': False, 'TLSSkipClientVerify': True}
    assert [c.request.url.split('?')[0] for c in writes()] == [URL + '/api/upload/tls/ca', LIST + '/7']


@responses.activate
def test_stored_files_are_not_compared(run_module, tls_files):
    by_name([endpoint(TLSConfig={'TLS': True, 'TLSSkipVerify': False, 'TLSCACert': '/data/tls/7/ca.pem',
                                 'TLSCert': '/data/tls/7/cert.pem', 'TLSKey': '/data/tls/7/key.pem'})])
    result = run_module(portainer_endpoint, args(tls=True, tls_ca_cert=tls_files['ca'], tls_client_cert=tls_files['cert'],
                                                 tls_client_key=tls_files['key']))
    assert result['changed'] is False
    assert writes() == []


@responses.activate
def test_group_id_that_does_not_exist(run_module):
    by_name([endpoint()])
    responses.get(URL + '/api/endpoint_groups/9', status=404, json={'message': 'not found'})
    result = run_module(portainer_endpoint, args(group='9'))
    assert result['failed'] is True
    assert 'no environment group with id 9' in result['msg']
    assert writes() == []


# ------------------------------------------------------------------ delete

@pytest.mark.parametrize('found, check_mode, changed, deletes', [
    ([], False, False, 0),
    ([endpoint()], True, True, 0),
    ([endpoint()], False, True, 1),
])
@responses.activate
def test_absent(run_module, found, check_mode, changed, deletes):
    by_name(found)
    delete = responses.delete(LIST + '/7', status=204)
    result = run_module(portainer_endpoint, args(state='absent'), check_mode=check_mode, diff=True)
    assert result['changed'] is changed
    assert delete.call_count == deletes
    assert result['endpoint'] == {}
    assert result['diff']['after'] == {'state': 'absent'}
