# -*- coding: utf-8 -*-
# Copyright (c) pier.portainer contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import base64
import json
import os
import stat
import time

import pytest
import requests
import responses

from ansible_collections.pier.portainer.plugins.module_utils import _api
from ansible_collections.pier.portainer.plugins.module_utils._api import (
    PortainerAPIError,
    PortainerClient,
    PortainerConnectionError,
    PortainerError,
    StaleEndpoint,
    TokenCache,
    normalize_base_url,
    parse_version,
)

BASE = 'https://portainer.test:9443'
API_KEY = 'ptr_CANARY-api-key-0123456789'
PASSWORD = 'CANARY-password-4242'


def make_jwt(exp_in=3600, **claims):
    header = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b'=').decode()
    body = dict(id=1, username='admin', role=1, exp=int(time.time() + exp_in))
    body.update(claims)
    payload = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b'=').decode()
    return '%s.%s.CANARYSIGNATURE' % (header, payload)


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    slept = []
    monkeypatch.setattr(_api.time, 'sleep', slept.append)
    return slept


@pytest.fixture
def cache_dir(tmp_path):
    return str(tmp_path / 'tokens')


def key_client(**kwargs):
    return PortainerClient(BASE, api_key=API_KEY, **kwargs)


def password_client(cache_dir, **kwargs):
    kwargs.setdefault('token_cache_dir', cache_dir)
    return PortainerClient(BASE, username='admin', password=PASSWORD, **kwargs)


# ------------------------------------------------------------------ URL and settings

@pytest.mark.parametrize('given, expected', [
    ('https://portainer.test:9443', BASE),
    ('https://portainer.test:9443/', BASE),
    ('https://portainer.test:9443/api', BASE),
    ('https://portainer.test:9443/api/', BASE),
    ('  https://portainer.test:9443/api/  ', BASE),
    ('http://10.0.0.5:9000/portainer/api', 'http://10.0.0.5:9000/portainer'),
    ('http://host/portainer/', 'http://host/portainer'),
])
def test_normalize_base_url(given, expected):
    assert normalize_base_url(given) == expected


@pytest.mark.parametrize('given', ['', 'portainer.test:9443', 'ftp://portainer.test', 'https://', 'https://h/?x=1'])
def test_bad_url_names_the_option(given):
    with pytest.raises(PortainerError, match='portainer_url'):
        normalize_base_url(given)


def test_api_key_and_password_are_exclusive():
    with pytest.raises(PortainerError, match='mutually exclusive'):
        PortainerClient(BASE, api_key=API_KEY, username='admin', password=PASSWORD)


def test_username_needs_password():
    with pytest.raises(PortainerError, match='portainer_password'):
        PortainerClient(BASE, username='admin')


def test_missing_ca_path_is_named(tmp_path):
    with pytest.raises(PortainerError, match='ca_path'):
        key_client(ca_path=str(tmp_path / 'nope.pem'))


@pytest.mark.parametrize('given, expected', [('2.23.0', (2, 23, 0)), ('2.21.4-ce', (2, 21, 4)), ('2.19', (2, 19, 0)), ('1.18.0', (1, 18, 0))])
def test_parse_version(given, expected):
    assert parse_version(given) == expected


# ------------------------------------------------------------------ authentication

@responses.activate
def test_api_key_goes_in_its_header_only():
    responses.get(BASE + '/api/users/me', json={'Id': 1, 'Username': 'admin', 'Role': 1})
    client = key_client()
    assert client.me()['Username'] == 'admin'
    sent = responses.calls[0].request.headers
    assert sent['X-API-KEY'] == API_KEY
    assert 'Authorization' not in sent
    assert client.login_count == 0


@responses.activate
def test_password_logs_in_once_and_sends_bearer(cache_dir):
    token = make_jwt()
    login = responses.post(BASE + '/api/auth', json={'jwt': token}, headers={'Set-Cookie': 'portainer_api_key=%s; Path=/' % token})
    responses.get(BASE + '/api/endpoints', json=[])
    client = password_client(cache_dir)
    client.get('/api/endpoints')
    client.get('/api/endpoints')
    assert login.call_count == 1
    assert json.loads(responses.calls[0].request.body) == {'Username': 'admin', 'Password': PASSWORD}
    for call in responses.calls[1:]:
        assert call.request.headers['Authorization'] == 'Bearer ' + token
        assert 'X-API-KEY' not in call.request.headers
        # Portainer's cookie must never be replayed: it would make writes need a CSRF token.
        assert 'Cookie' not in call.request.headers


@responses.activate
def test_401_logs_in_again_once_and_repeats(cache_dir):
    first, second = make_jwt(jti='a'), make_jwt(jti='b')
    responses.post(BASE + '/api/auth', json={'jwt': first})
    responses.post(BASE + '/api/auth', json={'jwt': second})
    responses.post(BASE + '/api/tags', status=401, json={'message': 'Invalid JWT token', 'details': 'Unauthorized'})
    responses.post(BASE + '/api/tags', json={'ID': 3, 'Name': 'prod'})
    client = password_client(cache_dir)
    assert client.post('/api/tags', {'Name': 'prod'})['ID'] == 3
    assert client.login_count == 2
    assert responses.calls[-1].request.headers['Authorization'] == 'Bearer ' + second


@responses.activate
def test_second_401_is_an_error_that_names_the_credentials(cache_dir):
    responses.post(BASE + '/api/auth', json={'jwt': make_jwt()})
    responses.get(BASE + '/api/endpoints', status=401, json={'message': 'Invalid JWT token', 'details': 'Unauthorized'})
    client = password_client(cache_dir)
    with pytest.raises(PortainerAPIError) as info:
        client.get('/api/endpoints')
    assert info.value.status == 401
    assert client.login_count == 2
    assert 'portainer_username' in str(info.value)


@responses.activate
def test_api_key_401_is_not_retried_and_says_which_option():
    responses.get(BASE + '/api/endpoints', status=401, json={'message': 'Invalid JWT token', 'details': 'Unauthorized'})
    with pytest.raises(PortainerAPIError, match='portainer_api_key') as info:
        key_client().get('/api/endpoints')
    assert len(responses.calls) == 1
    assert API_KEY not in str(info.value)


@responses.activate
@pytest.mark.parametrize('status, body, words', [
    (422, {'message': 'Invalid credentials', 'details': 'Unauthorized'}, 'Invalid credentials'),
    (400, {'message': 'Invalid request payload', 'details': 'Invalid password'}, 'Invalid password'),
    (403, {'message': 'Access denied', 'details': 'Access denied to resource'}, 'one hour'),
])
def test_login_failures_are_clear(cache_dir, status, body, words):
    responses.post(BASE + '/api/auth', status=status, json=body)
    client = password_client(cache_dir)
    with pytest.raises(PortainerAPIError) as info:
        client.get('/api/endpoints')
    assert words in str(info.value)
    assert 'POST /api/auth' in str(info.value)
    assert PASSWORD not in str(info.value)


@responses.activate
def test_secrets_echoed_by_the_server_are_redacted(cache_dir):
    responses.post(BASE + '/api/auth', status=422, json={'message': 'Invalid credentials', 'details': 'bad password %s' % PASSWORD})
    with pytest.raises(PortainerAPIError) as info:
        password_client(cache_dir).get('/api/endpoints')
    assert PASSWORD not in str(info.value)
    assert _api.REDACTED in str(info.value)


# ------------------------------------------------------------------ token cache

@responses.activate
def test_token_cache_reuses_one_login_across_clients(cache_dir):
    token = make_jwt()
    login = responses.post(BASE + '/api/auth', json={'jwt': token})
    responses.get(BASE + '/api/endpoints', json=[])
    for dummy in range(5):
        client = password_client(cache_dir)
        client.get('/api/endpoints')
    assert login.call_count == 1
    files = [f for f in os.listdir(cache_dir) if f.endswith('.json')]
    assert len(files) == 1
    assert stat.S_IMODE(os.stat(os.path.join(cache_dir, files[0])).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(cache_dir).st_mode) == 0o700
    with open(os.path.join(cache_dir, files[0]), encoding='utf-8') as handle:
        assert PASSWORD not in handle.read()


@responses.activate
def test_token_cache_ignores_a_changed_password(cache_dir):
    login = responses.post(BASE + '/api/auth', json={'jwt': make_jwt()})
    responses.get(BASE + '/api/endpoints', json=[])
    password_client(cache_dir).get('/api/endpoints')
    PortainerClient(BASE, username='admin', password='another-password', token_cache_dir=cache_dir).get('/api/endpoints')
    assert login.call_count == 2


@responses.activate
def test_token_cache_drops_a_refused_token(cache_dir):
    stale, fresh = make_jwt(jti='stale'), make_jwt(jti='fresh')
    TokenCache(cache_dir).put(BASE, 'admin', PASSWORD, stale)
    login = responses.post(BASE + '/api/auth', json={'jwt': fresh})
    responses.get(BASE + '/api/endpoints', status=401, json={'message': 'Invalid JWT token', 'details': 'Unauthorized'})
    responses.get(BASE + '/api/endpoints', json=[])
    client = password_client(cache_dir)
    client.get('/api/endpoints')
    assert login.call_count == 1
    assert TokenCache(cache_dir).get(BASE, 'admin', PASSWORD) == fresh


@responses.activate
def test_token_cache_skips_expired_tokens(cache_dir):
    TokenCache(cache_dir).put(BASE, 'admin', PASSWORD, make_jwt(exp_in=30))
    login = responses.post(BASE + '/api/auth', json={'jwt': make_jwt()})
    responses.get(BASE + '/api/endpoints', json=[])
    password_client(cache_dir).get('/api/endpoints')
    assert login.call_count == 1


@responses.activate
def test_token_cache_can_be_disabled(cache_dir):
    login = responses.post(BASE + '/api/auth', json={'jwt': make_jwt()})
    responses.get(BASE + '/api/endpoints', json=[])
    password_client(cache_dir, token_cache=False).get('/api/endpoints')
    password_client(cache_dir, token_cache=False).get('/api/endpoints')
    assert login.call_count == 2
    assert not os.path.exists(cache_dir)


@responses.activate
def test_unwritable_cache_directory_still_works(tmp_path):
    blocker = tmp_path / 'file'
    blocker.write_text('not a directory')
    responses.post(BASE + '/api/auth', json={'jwt': make_jwt()})
    responses.get(BASE + '/api/endpoints', json=[])
    client = password_client(str(blocker / 'tokens'))
    assert client.get('/api/endpoints') == []


def test_token_cache_refuses_files_readable_by_others(cache_dir):
    cache = TokenCache(cache_dir)
    cache.put(BASE, 'admin', PASSWORD, make_jwt())
    path = [os.path.join(cache_dir, f) for f in os.listdir(cache_dir) if f.endswith('.json')][0]
    os.chmod(path, 0o644)
    assert cache.get(BASE, 'admin', PASSWORD) is None


# ------------------------------------------------------------------ error shapes

@responses.activate
@pytest.mark.parametrize('kwargs, expected', [
    (dict(status=409, json={'message': 'Name is not unique', 'details': 'Name is not unique'}), 'POST /api/endpoints returned HTTP 409: Name is not unique.'),
    (dict(status=500, json={'message': 'Unable to initiate communications with environment', 'details': 'dial tcp: refused'}),
     'HTTP 500: Unable to initiate communications with environment: dial tcp: refused'),
    (dict(status=400, json={'err': 'Invalid request payload', 'details': 'Name is missing'}), 'HTTP 400: Invalid request payload: Name is missing'),
    (dict(status=404, body='404 page not found', content_type='text/plain'), 'HTTP 404: 404 page not found'),
    (dict(status=405, body=''), 'HTTP 405: Method Not Allowed'),
    (dict(status=403, body='Forbidden - CSRF token invalid', content_type='text/plain'), 'HTTP 403: Forbidden - CSRF token invalid'),
    (dict(status=500, body='<html>oops</html>', content_type='text/html'), 'HTTP 500: <html>oops</html>'),
])
def test_error_shapes_become_one_message(kwargs, expected):
    responses.post(BASE + '/api/endpoints', **kwargs)
    with pytest.raises(PortainerAPIError) as info:
        key_client().request('POST', '/api/endpoints', data={'Name': 'x'})
    assert expected in str(info.value)
    assert info.value.status == kwargs['status']
    # every message ends with a hint about what to check
    assert str(info.value).rstrip().endswith('.')


# ------------------------------------------------------------------ retries and timeouts

@responses.activate
def test_reads_are_retried_on_503_then_succeed(no_sleep):
    responses.get(BASE + '/api/endpoints/1', status=503)
    responses.get(BASE + '/api/endpoints/1', status=502, body='')
    responses.get(BASE + '/api/endpoints/1', json={'Id': 1})
    assert key_client().get('/api/endpoints/1') == {'Id': 1}
    assert len(responses.calls) == 3
    assert len(no_sleep) == 2 and all(0 < s <= 2 for s in no_sleep)


@responses.activate
def test_read_retries_are_bounded():
    responses.get(BASE + '/api/endpoints/1', status=504)
    client = key_client(retries=3)
    with pytest.raises(PortainerAPIError) as info:
        client.get('/api/endpoints/1')
    assert info.value.status == 504
    assert len(responses.calls) == 4


@responses.activate
def test_writes_are_not_repeated_on_503():
    responses.post(BASE + '/api/tags', status=503, json={'message': 'busy'})
    with pytest.raises(PortainerAPIError):
        key_client().post('/api/tags', {'Name': 'x'})
    assert len(responses.calls) == 1


@responses.activate
def test_read_timeouts_are_retried_then_reported():
    responses.get(BASE + '/api/endpoints', body=requests.exceptions.ReadTimeout('read timed out'))
    client = key_client(timeout=5, retries=2)
    with pytest.raises(PortainerConnectionError, match='request_timeout') as info:
        client.get('/api/endpoints')
    assert len(responses.calls) == 3
    assert 'after 2 retries' in str(info.value)


@responses.activate
def test_write_timeouts_are_not_repeated_and_say_so():
    responses.post(BASE + '/api/stacks/create/swarm/string', body=requests.exceptions.ReadTimeout('read timed out'))
    with pytest.raises(PortainerConnectionError) as info:
        key_client().post('/api/stacks/create/swarm/string', {'Name': 'x'}, params={'endpointId': 1})
    assert len(responses.calls) == 1
    assert 'was not repeated' in str(info.value)
    assert 'run the task again' in str(info.value)


@responses.activate
def test_writes_are_retried_when_the_connection_was_refused():
    from urllib3.exceptions import MaxRetryError, NewConnectionError
    refused = requests.exceptions.ConnectionError(MaxRetryError(None, BASE, NewConnectionError(None, 'Connection refused')))
    responses.post(BASE + '/api/tags', body=refused)
    responses.post(BASE + '/api/tags', json={'ID': 1, 'Name': 'x'})
    assert key_client().post('/api/tags', {'Name': 'x'}) == {'ID': 1, 'Name': 'x'}
    assert len(responses.calls) == 2


@responses.activate
def test_every_request_has_a_timeout_and_tls_settings(tmp_path):
    ca = tmp_path / 'ca.pem'
    ca.write_text('-----BEGIN CERTIFICATE-----\n')
    responses.get(BASE + '/api/endpoints', json=[])
    key_client(timeout=7, ca_path=str(ca)).get('/api/endpoints')
    kwargs = responses.calls[0].request.req_kwargs
    assert kwargs['timeout'] == (7.0, 7.0)
    assert kwargs['verify'] == str(ca)


@responses.activate
@pytest.mark.parametrize('validate', [True, False])
def test_validate_certs(validate):
    responses.get(BASE + '/api/endpoints', json=[])
    key_client(validate_certs=validate).get('/api/endpoints')
    verify = responses.calls[0].request.req_kwargs['verify']
    if validate:
        # True, or the CA bundle named by REQUESTS_CA_BUNDLE: verification stays on either way
        assert verify is True or (isinstance(verify, str) and os.path.exists(verify))
    else:
        assert verify is False


@responses.activate
def test_tls_failure_says_how_to_fix():
    responses.get(BASE + '/api/endpoints', body=requests.exceptions.SSLError('certificate verify failed'))
    with pytest.raises(PortainerConnectionError) as info:
        key_client().get('/api/endpoints')
    assert 'ca_path' in str(info.value) and 'validate_certs' in str(info.value)


@responses.activate
def test_one_session_reuses_connections():
    responses.get(BASE + '/api/endpoints', json=[])
    client = key_client()
    session = client.session
    client.get('/api/endpoints')
    client.get('/api/endpoints')
    assert client.session is session
    assert client.request_count == 2


# ------------------------------------------------------------------ version, environments, Docker proxy

@responses.activate
def test_version_is_read_once_with_fallback():
    responses.get(BASE + '/api/system/status', status=404, body='404 page not found')
    responses.get(BASE + '/api/status', json={'Version': '2.16.2', 'InstanceID': 'abc'})
    client = key_client()
    assert client.version == '2.16.2'
    assert client.version_at_least('2.14.0') and not client.version_at_least('2.19.0')
    assert len(responses.calls) == 2
    # status routes are public: no credential sent
    assert 'X-API-KEY' not in responses.calls[0].request.headers


@responses.activate
def test_find_endpoint_by_name_is_one_exact_request():
    responses.get(BASE + '/api/endpoints', json=[{'Id': 3, 'Name': 'Local'}, {'Id': 4, 'Name': 'local'}])
    client = key_client()
    assert client.find_endpoint('local')['Id'] == 4
    assert len(responses.calls) == 1
    assert 'name=local' in responses.calls[0].request.url
    assert 'excludeSnapshots=true' in responses.calls[0].request.url


@responses.activate
def test_find_endpoint_by_id():
    responses.get(BASE + '/api/endpoints/7', json={'Id': 7, 'Name': 'prod'})
    responses.get(BASE + '/api/endpoints/8', status=404, json={'message': 'Unable to find an environment'})
    client = key_client()
    assert client.find_endpoint('7')['Name'] == 'prod'
    assert client.find_endpoint(8) is None


@responses.activate
def test_missing_endpoint_error_names_the_option():
    responses.get(BASE + '/api/endpoints', json=[])
    with pytest.raises(PortainerError, match="endpoint: no Portainer environment named 'nope'"):
        key_client().endpoint('nope')


@responses.activate
@pytest.mark.parametrize('status', [200, 201, 204, 304])
def test_docker_proxy_accepts_portainer_rewrites(status):
    responses.post(BASE + '/api/endpoints/2/docker/containers/web/start', status=status, body='')
    response = key_client().docker(2, 'POST', '/containers/web/start')
    assert response.status_code == status


@responses.activate
def test_docker_json_strips_portainer_fields():
    responses.get(BASE + '/api/endpoints/2/docker/containers/web/json', json={'Id': 'abc', 'Portainer': {'ResourceControl': {}}, 'IsPortainer': False})
    responses.get(BASE + '/api/endpoints/2/docker/containers/gone/json', status=404, json={'message': 'No such container: gone'})
    client = key_client()
    assert client.docker_json(2, 'GET', '/containers/web/json') == {'Id': 'abc'}
    assert client.docker_json(2, 'GET', '/containers/gone/json', missing_ok=True) is None
    with pytest.raises(PortainerAPIError, match='No such container'):
        client.docker_json(2, 'GET', '/containers/gone/json')


def test_added_secrets_are_redacted():
    client = key_client()
    client.add_secret('CANARY-git-password-99')
    assert client.redact('clone failed for https://u:CANARY-git-password-99@git/x') == 'clone failed for https://u:%s@git/x' % _api.REDACTED
    assert client.redact('key %s' % API_KEY) == 'key %s' % _api.REDACTED


def test_registry_auth_header_is_what_portainer_recognises():
    header = _api.registry_auth_header(3)['X-Registry-Auth']
    assert json.loads(base64.b64decode(header)) == {'registryId': 3}


@responses.activate
def test_find_endpoints_returns_every_exact_match_oldest_first():
    responses.get(BASE + '/api/endpoints', json=[{'Id': 9, 'Name': 'dup'}, {'Id': 2, 'Name': 'dup'}, {'Id': 3, 'Name': 'Dup'}])
    assert [e['Id'] for e in key_client().find_endpoints('dup')] == [2, 9]
    assert len(responses.calls) == 1


@responses.activate
@pytest.mark.parametrize('method, status, says_maybe', [('POST', 502, True), ('DELETE', 504, True), ('GET', 504, False)])
def test_gateway_errors_on_writes_say_they_may_have_been_applied(method, status, says_maybe):
    responses.add(method, BASE + '/api/stacks/1', status=status, body='')
    with pytest.raises(PortainerAPIError) as info:
        key_client(retries=0).request(method, '/api/stacks/1')
    assert ('may or may not have been applied' in str(info.value)) is says_maybe


@responses.activate
def test_docker_proxy_tells_portainers_404_from_dockers():
    responses.get(BASE + '/api/endpoints/9/docker/containers/web/json', status=404,
                  json={'message': 'Unable to find an environment with the specified identifier inside the database', 'details': 'not found'})
    responses.get(BASE + '/api/endpoints/2/docker/containers/web/json', status=404, json={'message': 'No such container: web'})
    client = key_client()
    with pytest.raises(PortainerError, match='endpoint: no Portainer environment with id 9'):
        client.docker_json(9, 'GET', '/containers/web/json', missing_ok=True)
    assert client.docker_json(2, 'GET', '/containers/web/json', missing_ok=True) is None


def test_endpoint_id_of_a_number_costs_no_request():
    assert key_client().endpoint_id('12') == 12


# ------------------------------------------------------------------ environment name cache

def cached_client(cache_dir, ttl=300, **kwargs):
    kwargs.setdefault('api_key', API_KEY)
    return PortainerClient(BASE, token_cache_dir=cache_dir, endpoint_cache_ttl=ttl, **kwargs)


@responses.activate
def test_endpoint_cache_saves_the_lookup_of_later_tasks(cache_dir):
    lookup = responses.get(BASE + '/api/endpoints', json=[{'Id': 7, 'Name': 'prod'}])
    assert cached_client(cache_dir).endpoint_id('prod') == 7
    for dummy in range(3):
        assert cached_client(cache_dir).endpoint_id('prod') == 7
    assert lookup.call_count == 1
    files = os.listdir(cache_dir)
    assert len(files) == 1
    path = os.path.join(cache_dir, files[0])
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path, encoding='utf-8') as handle:
        text = handle.read()
    # Names and credentials are stored only as digests.
    assert API_KEY not in text and 'prod' not in text


@responses.activate
def test_endpoint_cache_is_per_credentials_and_per_url(cache_dir):
    lookup = responses.get(BASE + '/api/endpoints', json=[{'Id': 7, 'Name': 'prod'}])
    other = responses.get('https://other.test/api/endpoints', json=[{'Id': 2, 'Name': 'prod'}])
    responses.post(BASE + '/api/auth', json={'jwt': make_jwt()})
    assert cached_client(cache_dir).endpoint_id('prod') == 7
    assert cached_client(cache_dir, api_key='ptr_another-key').endpoint_id('prod') == 7
    assert cached_client(cache_dir, api_key=None, username='admin', password=PASSWORD).endpoint_id('prod') == 7
    assert lookup.call_count == 3
    assert PortainerClient('https://other.test', api_key=API_KEY, token_cache_dir=cache_dir, endpoint_cache_ttl=300).endpoint_id('prod') == 2
    assert other.call_count == 1


@responses.activate
@pytest.mark.parametrize('ttl, keeps_a_file', [(0.000001, True), (0, False)])
def test_expired_or_disabled_cache_looks_up_every_time(cache_dir, ttl, keeps_a_file):
    lookup = responses.get(BASE + '/api/endpoints', json=[{'Id': 7, 'Name': 'prod'}])
    cached_client(cache_dir, ttl=ttl).endpoint_id('prod')
    cached_client(cache_dir, ttl=ttl).endpoint_id('prod')
    assert lookup.call_count == 2
    assert os.path.exists(cache_dir) is keeps_a_file


@pytest.mark.parametrize('ttl', [-1, 'soon'])
def test_endpoint_cache_ttl_must_be_a_positive_number(ttl):
    with pytest.raises(PortainerError, match='endpoint_cache_ttl'):
        key_client(endpoint_cache_ttl=ttl)


@responses.activate
def test_a_write_first_confirms_a_cached_name(cache_dir):
    responses.get(BASE + '/api/endpoints', json=[{'Id': 7, 'Name': 'prod'}])
    responses.post(BASE + '/api/endpoints/7/docker/containers/web/start', status=204)
    cached_client(cache_dir).endpoint_id('prod')
    client = cached_client(cache_dir)
    endpoint_id = client.endpoint_id('prod')
    assert len(responses.calls) == 1
    client.docker(endpoint_id, 'POST', '/containers/web/start')
    client.docker(endpoint_id, 'POST', '/containers/web/start')
    # One confirmation, before the first write only.
    assert [c.request.method for c in responses.calls] == ['GET', 'GET', 'POST', 'POST']


@responses.activate
def test_a_renamed_environment_stops_the_write_and_clears_the_cache(cache_dir):
    responses.get(BASE + '/api/endpoints', json=[{'Id': 7, 'Name': 'prod'}])
    cached_client(cache_dir).endpoint_id('prod')
    responses.replace(responses.GET, BASE + '/api/endpoints', json=[{'Id': 9, 'Name': 'prod'}])
    start = responses.post(BASE + '/api/endpoints/7/docker/containers/web/start', status=204)
    client = cached_client(cache_dir)
    assert client.endpoint_id('prod') == 7
    with pytest.raises(StaleEndpoint):
        client.docker(7, 'POST', '/containers/web/start')
    assert start.call_count == 0
    assert cached_client(cache_dir).endpoint_id('prod') == 9


@responses.activate
def test_changing_environments_clears_the_cache(cache_dir):
    lookup = responses.get(BASE + '/api/endpoints', json=[{'Id': 7, 'Name': 'prod'}])
    responses.put(BASE + '/api/endpoints/7', json={'Id': 7, 'Name': 'prod-old'})
    client = cached_client(cache_dir)
    client.endpoint_id('prod')
    client.put('/api/endpoints/7', json_body={'Name': 'prod-old'})
    cached_client(cache_dir).endpoint_id('prod')
    assert lookup.call_count == 2


@pytest.mark.parametrize('event, error', [
    ({'status': 'Downloading'}, None),
    ({'error': 'manifest unknown', 'errorDetail': {'message': 'manifest unknown'}}, 'manifest unknown'),
    ({'errorDetail': {'message': 'denied'}}, 'denied'),
    ('not a dict', None),
])
def test_docker_stream_error(event, error):
    assert _api.docker_stream_error(event) == error
