# -*- coding: utf-8 -*-
# Copyright (c) pier.portainer contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import responses

from responses import matchers

from ansible_collections.pier.portainer.plugins.modules import portainer_endpoint_info

URL = 'http://portainer.test:9000'
KEY = 'ptr_CANARY-unit-key-000111'
LIST = URL + '/api/endpoints'


def args(**kwargs):
    base = {'portainer_url': URL, 'portainer_api_key': KEY}
    base.update(kwargs)
    return base


def endpoint(ident, name, etype=1, group=1, tags=None):
    return {'Id': ident, 'Name': name, 'Type': etype, 'URL': 'unix:///var/run/docker.sock', 'GroupId': group, 'TagIds': tags or [],
            'TLSConfig': {'TLS': False, 'TLSSkipVerify': False}, 'Status': 1, 'Snapshots': [{'big': True}],
            'AzureCredentials': {'ApplicationID': '', 'TenantID': '', 'AuthenticationKey': ''}}


@responses.activate
def test_lists_all_without_snapshots(run_module):
    responses.get(LIST, json=[endpoint(2, 'b'), endpoint(1, 'a')], match=[matchers.query_param_matcher({'excludeSnapshots': 'true'})])
    result = run_module(portainer_endpoint_info, args())
    assert result['changed'] is False
    assert [e['Name'] for e in result['endpoints']] == ['a', 'b']
    assert 'exists' not in result
    assert 'Snapshots' not in result['endpoints'][0]


@responses.activate
def test_one_by_name_uses_the_server_filter(run_module):
    responses.get(LIST, json=[endpoint(1, 'a')], match=[matchers.query_param_matcher({'excludeSnapshots': 'true', 'name': 'a'})])
    result = run_module(portainer_endpoint_info, args(name='a'), check_mode=True)
    assert result['exists'] is True
    assert len(responses.calls) == 1


@responses.activate
def test_missing_name(run_module):
    responses.get(LIST, json=[])
    result = run_module(portainer_endpoint_info, args(name='nope'))
    assert result['exists'] is False
    assert result['endpoints'] == []


@responses.activate
def test_type_group_and_tags_filters(run_module):
    responses.get(URL + '/api/endpoint_groups', json=[{'Id': 1, 'Name': 'Unassigned', 'TagIds': []}, {'Id': 3, 'Name': 'prod', 'TagIds': []}])
    responses.get(URL + '/api/tags', json=[{'ID': 5, 'Name': 'web'}])
    listing = responses.get(LIST, json=[endpoint(1, 'a', group=3, tags=[5]), endpoint(2, 'b', etype=4, group=3, tags=[5])])
    result = run_module(portainer_endpoint_info, args(type='docker', group='prod', tags=['web']))
    assert [e['Name'] for e in result['endpoints']] == ['a']
    query = listing.calls[0].request.url
    assert 'types%5B%5D=1' in query and 'groupIds%5B%5D=3' in query and 'tagIds%5B%5D=5' in query


@responses.activate
def test_unknown_tag_matches_nothing_without_listing(run_module):
    responses.get(URL + '/api/tags', json=[])
    result = run_module(portainer_endpoint_info, args(tags=['nope']))
    assert result['endpoints'] == []
    assert len(responses.calls) == 1


@responses.activate
def test_swarm_facts_on_request(run_module):
    responses.get(LIST, json=[endpoint(1, 'a'), endpoint(2, 'edge', etype=4)])
    responses.get(LIST + '/1/docker/info', json={'Swarm': {'LocalNodeState': 'active', 'ControlAvailable': True, 'NodeID': 'n1',
                                                           'Cluster': {'ID': 'sw1'}}})
    result = run_module(portainer_endpoint_info, args(swarm=True))
    assert result['endpoints'][0]['swarm'] == {'state': 'active', 'manager': True, 'id': 'sw1', 'node_id': 'n1'}
    assert result['endpoints'][1]['swarm'] is None


@responses.activate
def test_unreachable_engine_warns(run_module):
    responses.get(LIST, json=[endpoint(1, 'a')])
    responses.get(LIST + '/1/docker/info', status=500, json={'message': 'Unable to proxy the request via the Docker socket'})
    result = run_module(portainer_endpoint_info, args(swarm=True))
    assert result['failed'] is False
    assert result['endpoints'][0]['swarm'] is None
