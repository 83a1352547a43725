# -*- coding: utf-8 -*-
# Copyright (c) pier.portainer contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import base64
import json

import pytest

from ansible_collections.pier.portainer.plugins.module_utils import _docker_api
from ansible_collections.pier.portainer.plugins.module_utils._api import PortainerError


class FakeResponse:
    def __init__(self, text):
        self.text = text
        self.content = text.encode('utf-8')


@pytest.mark.parametrize('path, fragment', [
    ('/containers/json', None),
    ('/v1.41/containers/web01/json', None),
    ('/images/registry.example.com%2Fapp/json', None),
    ('', 'path is empty'),
    ('containers/json', 'must start with /'),
    ('http://127.0.0.1:2375/containers/json', 'absolute URL'),
    ('unix:///var/run/docker.sock', 'absolute URL'),
    ('//evil.example/containers/json', 'absolute URL'),
    ('/containers/../../api/users', '..'),
    ('/containers/%2e%2e/%2e%2e/api/users', '..'),
    ('/containers/./json', '..'),
    ('/containers/json?all=1', 'query option'),
    ('/containers/json#x', 'query option'),
    ('/containers/a b/json', 'spaces'),
])
def test_validate_path(path, fragment):
    problem = _docker_api.validate_path(path)
    if fragment is None:
        assert problem is None
    else:
        assert fragment in problem


@pytest.mark.parametrize('query, expected', [
    (None, []),
    ({'all': True, 'limit': 3}, [('all', 'true'), ('limit', '3')]),
    ({'force': False}, [('force', 'false')]),
    ({'filters': {'label': ['a=b'], 'status': ['running']}}, [('filters', '{"label":["a=b"],"status":["running"]}')]),
    ({'t': ['a:1', 'a:2']}, [('t', 'a:1'), ('t', 'a:2')]),
    ({'skip': None}, []),
])
def test_encode_query(query, expected):
    assert _docker_api.encode_query(query) == expected


def test_registry_auth_dict_is_encoded_and_its_secrets_collected():
    headers, secrets, problem = _docker_api.build_headers(
        {'X-Registry-Auth': {'username': 'u', 'password': 'CANARY-pass', 'serveraddress': 'registry.example.com'}})
    assert problem is None
    value = headers['X-Registry-Auth']
    decoded = json.loads(base64.urlsafe_b64decode(value))
    assert decoded['password'] == 'CANARY-pass'
    assert 'CANARY-pass' in secrets and value in secrets
    assert 'registry.example.com' not in secrets


def test_registry_id_uses_standard_base64_for_portainer():
    headers, secrets, problem = _docker_api.build_headers({'X-Registry-Auth': {'registryId': 2}})
    assert problem is None
    assert json.loads(base64.b64decode(headers['X-Registry-Auth'], validate=True)) == {'registryId': 2}
    assert headers['X-Registry-Auth'] in secrets


@pytest.mark.parametrize('name', ['Authorization', 'x-api-key', 'Cookie', 'Host', 'Content-Length'])
def test_reserved_headers_are_refused(name):
    headers, dummy, problem = _docker_api.build_headers({name: 'x'})
    assert headers is None
    assert problem.startswith('headers: %s' % name)


def test_plain_headers_become_strings():
    headers, secrets, problem = _docker_api.build_headers({'X-Count': 3, 'X-Flag': True, 'X-None': None})
    assert headers == {'X-Count': '3', 'X-Flag': 'true'}
    assert secrets == [] and problem is None


@pytest.mark.parametrize('body, headers, expected', [
    (None, {}, (None, None, None)),
    ({'Image': 'x'}, {}, ({'Image': 'x'}, None, None)),
    ([1, 2], {}, ([1, 2], None, None)),
    ('{"Image": "x"}', {}, (None, b'{"Image": "x"}', 'application/json')),
    ('plain', {}, (None, b'plain', 'text/plain')),
    ('a=b', {'content-type': 'application/x-www-form-urlencoded'}, (None, b'a=b', 'application/x-www-form-urlencoded')),
])
def test_build_body(body, headers, expected):
    assert _docker_api.build_body(body, headers) == expected


@pytest.mark.parametrize('text, path, response_format, expected', [
    ('[{"Id": "a"}]', '/containers/json', 'auto', {'json': [{'Id': 'a'}]}),
    ('', '/containers/a/start', 'auto', {'json': None}),
    ('', '/events', 'auto', {'stream': []}),
    ('{"Action": "create"}\n', '/events', 'auto', {'stream': [{'Action': 'create'}]}),
    ('{"status": "a"}\r\n{"status": "b"}\r\n', '/v1.41/images/create', 'auto', {'stream': [{'status': 'a'}, {'status': 'b'}]}),
    ('{"a": 1}\n{"b": 2}\n', '/containers/x/logs', 'auto', {'stream': [{'a': 1}, {'b': 2}]}),
    ('OK', '/_ping', 'auto', {'text': 'OK'}),
    ('OK', '/events', 'auto', {'text': 'OK'}),
    ('{"a": 1}', '/info', 'text', {'text': '{"a": 1}'}),
    ('{"a": 1}', '/info', 'stream', {'stream': [{'a': 1}]}),
])
def test_decode_body(text, path, response_format, expected):
    assert _docker_api.decode_body(FakeResponse(text), path, response_format) == expected


@pytest.mark.parametrize('text, response_format', [('OK', 'json'), ('OK', 'stream')])
def test_forced_formats_fail_when_the_answer_does_not_fit(text, response_format):
    with pytest.raises(PortainerError, match=response_format):
        _docker_api.decode_body(FakeResponse(text), '/info', response_format)


@pytest.mark.parametrize('items, expected', [
    ([{'status': 'ok'}], None),
    ([{'status': 'a'}, {'errorDetail': {'message': 'denied'}, 'error': 'pull access denied'}], 'pull access denied'),
    ([{'errorDetail': {'message': 'denied'}}], 'denied'),
    (None, None),
])
def test_stream_error(items, expected):
    assert _docker_api.stream_error(items) == expected


@pytest.mark.parametrize('statuses, expected', [
    (list(range(200, 300)) + [304], '2xx, 304'),
    ([204, 404], '204, 404'),
])
def test_describe_statuses(statuses, expected):
    assert _docker_api.describe_statuses(statuses) == expected


def test_mask_walks_nested_values():
    value = {'a': ['x SECRET y', {'b': 'SECRET'}], 'c': 3}
    assert _docker_api.mask(value, ['SECRET']) == {'a': ['x ******** y', {'b': '********'}], 'c': 3}
