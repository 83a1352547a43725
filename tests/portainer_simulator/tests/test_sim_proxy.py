"""The Docker proxy against the real engine and against a recording fake engine."""
# pylint: disable=redefined-outer-name

import base64
import json
import time

import pytest
import requests

from simtest_helpers import docker, error, unique  # pylint: disable=import-error


@pytest.fixture(scope='module')
def fake_endpoint(sim, fake_docker):
    """Endpoint on the fake engine."""
    resp = sim.create_endpoint(unique('fake'), fake_docker.url)
    assert resp.status_code == 200, resp.text
    return resp.json()['Id']


def last_request(fake, path_part):
    """The newest recorded request whose path contains path_part."""
    return [r for r in fake.requests if path_part in r['path']][-1]


def test_proxy_auth_and_lookup_errors(sim, local_endpoint):
    assert error(sim.request('GET', '/api/endpoints/%d/docker/version' % local_endpoint)) == \
        (401, 'A valid authorization token is missing', 'Unauthorized')
    assert error(sim.admin('GET', '/api/endpoints/999999/docker/version')) == \
        (404, 'Unable to find an environment with the specified identifier inside the database', 'Object not found inside the database')
    assert error(sim.admin('GET', '/api/endpoints/abc/docker/version'))[:2] == (400, 'Invalid environment identifier route variable')
    token = sim.create_user('pier-sim-proxy-noaccess')
    assert error(sim.request('GET', '/api/endpoints/%d/docker/version' % local_endpoint, token=token)) == \
        (403, 'Permission denied to access environment', 'Access denied to environment')


def test_passthrough_paths_and_prefixes(sim, local_endpoint):
    base = '/api/endpoints/%d' % local_endpoint
    assert sim.admin('GET', base + '/docker/_ping').text == 'OK'
    assert sim.admin('GET', base + '/docker/v1.41/version').json()['ApiVersion']
    assert sim.admin('GET', base + '/agent/docker/info').json()['ID']
    resp = sim.admin('GET', base + '/docker/containers/pier-sim-does-not-exist/json')
    assert resp.status_code == 404
    assert 'No such container' in resp.json()['message']
    filters = json.dumps({'name': ['pier-sim-nothing-matches-this']})
    assert sim.admin('GET', base + '/docker/containers/json', params={'all': 1, 'filters': filters}).json() == []


def test_container_lifecycle_rewrites(sim, local_endpoint):
    base = '/api/endpoints/%d/docker' % local_endpoint
    name = unique('ctr')
    resp = sim.admin('POST', base + '/containers/create', params={'name': name},
                     json={'Image': 'pier-test/busybox:1', 'Cmd': ['sleep', '300'], 'Labels': {'pier.sim': '1'}})
    assert resp.status_code == 200, resp.text  # 201 rewritten
    body = resp.json()
    rc = body['Portainer']['ResourceControl']
    assert rc['ResourceId'] == body['Id'] and rc['Type'] == 1 and rc['UserAccesses'] == [{'UserId': 1, 'AccessLevel': 1}]
    assert rc['AdministratorsOnly'] is False and rc['Public'] is False
    # name conflict passes through
    resp = sim.admin('POST', base + '/containers/create', params={'name': name}, json={'Image': 'pier-test/busybox:1'})
    assert resp.status_code == 409
    assert sim.admin('POST', base + '/containers/%s/start' % name).status_code == 204
    inspect = sim.admin('GET', base + '/containers/%s/json' % name).json()
    assert inspect['Portainer']['ResourceControl']['Id'] == rc['Id']
    listed = sim.admin('GET', base + '/containers/json', params={'filters': json.dumps({'name': [name]})}).json()
    assert listed[0]['Portainer']['ResourceControl']['Id'] == rc['Id']
    # another standard user cannot see it
    token = sim.create_user('pier-sim-proxy-user')
    me = sim.request('GET', '/api/users/me', token=token).json()
    assert sim.admin('PUT', '/api/endpoints/%d' % local_endpoint, json={'UserAccessPolicies': {str(me['Id']): {'RoleId': 0}}}).status_code == 200
    resp = sim.request('GET', base + '/containers/%s/json' % name, token=token)
    assert resp.status_code == 403 and resp.json() == {'message': 'access denied to resource'}
    listed = sim.request('GET', base + '/containers/json', token=token, params={'filters': json.dumps({'name': [name]})}).json()
    assert listed == []
    # logs stream through
    resp = sim.admin('GET', base + '/containers/%s/logs' % name, params={'stdout': 1, 'stderr': 1})
    assert resp.status_code == 200
    # delete removes the RC
    assert sim.admin('DELETE', base + '/containers/%s' % name, params={'force': 1}).status_code == 204
    state = sim.request('GET', '/__sim/state').json()
    assert not [r for r in state['resource_controls'] if r['Id'] == rc['Id']]


def test_volume_and_network_rewrites(sim, local_endpoint):
    base = '/api/endpoints/%d/docker' % local_endpoint
    name = unique('vol')
    resp = sim.admin('POST', base + '/volumes/create', json={'Name': name})
    assert resp.status_code == 200
    body = resp.json()
    engine_id = sim.admin('GET', base + '/info').json()['ID']
    assert body['ResourceID'] == '%s_%s' % (name, engine_id)
    assert body['Portainer']['ResourceControl']['ResourceId'] == body['ResourceID']
    assert body['Portainer']['ResourceControl']['Type'] == 3
    assert sim.admin('GET', base + '/volumes/' + name).json()['ResourceID'] == body['ResourceID']
    volumes = sim.admin('GET', base + '/volumes').json()['Volumes']
    assert all('ResourceID' in v for v in volumes)
    # X-Portainer-VolumeName on a socket endpoint: 409 when it exists
    resp = sim.admin('POST', base + '/volumes/create', json={'Name': name}, headers={'X-Portainer-VolumeName': name})
    assert resp.status_code == 409
    assert sim.admin('DELETE', base + '/volumes/' + name).status_code == 204
    networks = sim.admin('GET', base + '/networks').json()
    bridge = [n for n in networks if n['Name'] == 'bridge'][0]
    assert bridge['Portainer']['ResourceControl']['System'] is True
    assert bridge['Portainer']['ResourceControl']['Public'] is True
    net = unique('net')
    resp = sim.admin('POST', base + '/networks/create', json={'Name': net})
    assert resp.status_code == 200 and resp.json()['Portainer']['ResourceControl']['Type'] == 4
    assert sim.admin('DELETE', base + '/networks/' + net).status_code == 204


def test_image_pull_streams(sim, local_endpoint):
    base = '/api/endpoints/%d/docker' % local_endpoint
    # the engine has no registry access; the reply is still streamed and not rewritten
    resp = sim.admin('POST', base + '/images/create', params={'fromImage': 'pier-sim-nonexistent/image', 'tag': 'x'}, stream=True)
    assert resp.status_code in (200, 404, 500)
    resp.close()


def test_streaming_is_not_buffered(sim, fake_endpoint):
    resp = sim.admin('GET', '/api/endpoints/%d/docker/stream' % fake_endpoint, stream=True)
    assert resp.status_code == 200
    started = time.time()
    lines = resp.iter_lines()
    first = next(lines)
    assert json.loads(first) == {'status': 'step 0'}
    assert time.time() - started < 0.5  # arrived before the whole body (0.9 s)
    assert [json.loads(line)['status'] for line in lines if line] == ['step 1', 'step 2']


def test_headers_body_query_pass_through(sim, fake_docker, fake_endpoint):
    token = sim.admin_token()
    resp = sim.request('POST', '/api/endpoints/%d/docker/v1.41/build?t=x&q=1&q=2' % fake_endpoint, token=token,
                       headers={'X-Custom': 'yes', 'Content-Type': 'application/x-tar', 'Connection': 'keep-alive, X-Drop-Me',
                                'X-Drop-Me': '1', 'Keep-Alive': 'timeout=5'},
                       data=b'binary-body')
    assert resp.status_code == 200
    seen = last_request(fake_docker, '/build')
    assert seen['method'] == 'POST'
    assert seen['path'] == '/v1.41/build?t=x&q=1&q=2'
    assert seen['body'] == b'binary-body'
    headers = {k.lower(): v for k, v in seen['headers'].items()}
    assert headers['x-custom'] == 'yes'
    assert headers['authorization'] == 'Bearer ' + token  # passed through, as Portainer does
    assert headers['host'] == '127.0.0.1:%d' % fake_docker.port
    assert 'x-drop-me' not in headers and 'keep-alive' not in headers


def test_chunked_request_body(sim, fake_docker, fake_endpoint):
    def gen():
        yield b'part1-'
        yield b'part2'
    resp = sim.admin('POST', '/api/endpoints/%d/docker/chunked' % fake_endpoint, data=gen())
    assert resp.status_code == 200
    seen = last_request(fake_docker, '/chunked')
    assert seen['headers'].get('Transfer-Encoding') == 'chunked' or seen['body'] == b'part1-part2'


def test_registry_auth_rewrite(sim, fake_docker, fake_endpoint):
    registry = sim.admin('POST', '/api/registries', json={'Name': unique('reg'), 'Type': 3, 'URL': 'registry.example:5000',
                                                          'Authentication': True, 'Username': 'ruser', 'Password': 'rpass'})
    assert registry.status_code == 200, registry.text
    assert registry.json()['Password'] == ''
    registry_id = registry.json()['Id']
    path = '/api/endpoints/%d/docker/images/create?fromImage=registry.example:5000/app' % fake_endpoint

    def sent(header):
        sim.admin('POST', path, headers={'X-Registry-Auth': header} if header is not None else {})
        return last_request(fake_docker, '/images/create')['headers'].get('X-Registry-Auth')

    value = sent(base64.b64encode(json.dumps({'registryId': registry_id}).encode()).decode())
    assert json.loads(base64.urlsafe_b64decode(value)) == {'username': 'ruser', 'password': 'rpass', 'serveraddress': 'registry.example:5000'}
    value = sent(base64.b64encode(b'{"registryId":0}').decode())
    assert json.loads(base64.urlsafe_b64decode(value)) == {'username': '', 'password': '', 'serveraddress': 'docker.io'}
    assert sent(base64.b64encode(b'{}').decode()) is None
    plain = base64.b64encode(json.dumps({'username': 'u', 'password': 'p'}).encode()).decode()
    assert sent(plain) == plain
    assert sent('not-base64!!') == 'not-base64!!'
    assert sent(None) is None
    # an unknown registry gives an empty credential
    value = sent(base64.b64encode(b'{"registryId":999999}').decode())
    assert json.loads(base64.urlsafe_b64decode(value)) == {'username': '', 'password': '', 'serveraddress': ''}
    assert sim.admin('DELETE', '/api/registries/%d' % registry_id).status_code == 204


def test_transport_failures(sim, engine_socket, engine_tcp):
    sock_ep = sim.create_endpoint(unique('tf-sock'), engine_socket).json()
    tcp_ep = sim.create_endpoint(unique('tf-tcp'), engine_tcp).json()
    try:
        assert sim.admin('PUT', '/api/endpoints/%d' % sock_ep['Id'], json={'URL': 'unix:///nonexistent.sock'}).status_code == 200
        resp = sim.admin('GET', '/api/endpoints/%d/docker/version' % sock_ep['Id'])
        assert error(resp)[:2] == (500, 'Unable to proxy the request via the Docker socket')
        assert sim.admin('PUT', '/api/endpoints/%d' % tcp_ep['Id'], json={'URL': 'tcp://127.0.0.1:1'}).status_code == 200
        resp = sim.admin('GET', '/api/endpoints/%d/docker/version' % tcp_ep['Id'])
        assert resp.status_code == 502 and resp.content == b''
    finally:
        sim.admin('DELETE', '/api/endpoints/%d' % sock_ep['Id'])
        sim.admin('DELETE', '/api/endpoints/%d' % tcp_ep['Id'])


def test_tcp_endpoint_proxy(sim, engine_tcp):
    endpoint = sim.create_endpoint(unique('tcp'), engine_tcp).json()
    try:
        assert sim.admin('GET', '/api/endpoints/%d/docker/version' % endpoint['Id']).json()['ApiVersion']
        name = unique('vol-tcp')
        resp = sim.admin('POST', '/api/endpoints/%d/docker/volumes/create' % endpoint['Id'], json={'Name': name})
        assert resp.status_code == 200
        resp = sim.admin('POST', '/api/endpoints/%d/docker/volumes/create' % endpoint['Id'], json={'Name': name},
                         headers={'X-Portainer-VolumeName': name})
        assert resp.status_code == 502 and resp.content == b''
        docker('volume', 'rm', name)
    finally:
        sim.admin('DELETE', '/api/endpoints/%d' % endpoint['Id'])


def test_exec_with_upgrade(sim, local_endpoint):
    base = '/api/endpoints/%d/docker' % local_endpoint
    name = unique('exec')
    resp = sim.admin('POST', base + '/containers/create', params={'name': name}, json={'Image': 'pier-test/busybox:1', 'Cmd': ['sleep', '60']})
    assert resp.status_code == 200
    try:
        assert sim.admin('POST', base + '/containers/%s/start' % name).status_code == 204
        exec_id = sim.admin('POST', base + '/containers/%s/exec' % name,
                            json={'Cmd': ['echo', 'hello-from-exec'], 'AttachStdout': True}).json()['Id']
        resp = sim.admin('POST', base + '/exec/%s/start' % exec_id, json={'Detach': False, 'Tty': True})
        assert resp.status_code == 200
        assert b'hello-from-exec' in resp.content
    finally:
        docker('rm', '-f', name)


def test_proxy_session_keepalive(sim, local_endpoint):
    session = requests.Session()
    token = sim.admin_token()
    for dummy in range(20):
        resp = session.get(sim.url('/api/endpoints/%d/docker/_ping' % local_endpoint), headers={'Authorization': 'Bearer ' + token})
        assert resp.text == 'OK'


def test_token_query_removed_before_proxying(sim, fake_docker, fake_endpoint):
    resp = sim.request('GET', '/api/endpoints/%d/docker/tokenq?a=1&token=%s' % (fake_endpoint, sim.admin_token()))
    assert resp.status_code == 200
    assert last_request(fake_docker, '/tokenq')['path'] == '/tokenq?a=1'


def test_attach_upgrade_is_hijacked(sim, local_endpoint):
    import socket  # pylint: disable=import-outside-toplevel
    base = '/api/endpoints/%d/docker' % local_endpoint
    name = unique('hijack')
    resp = sim.admin('POST', base + '/containers/create', params={'name': name},
                     json={'Image': 'pier-test/busybox:1', 'Cmd': ['cat'], 'OpenStdin': True, 'StdinOnce': True, 'Tty': True})
    assert resp.status_code == 200
    try:
        assert sim.admin('POST', base + '/containers/%s/start' % name).status_code == 204
        with socket.create_connection(('127.0.0.1', sim.port), timeout=10) as sock:
            request = ('POST %s/containers/%s/attach?stream=1&stdin=1&stdout=1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n'
                       'Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n') % (base, name, sim.admin_token())
            sock.sendall(request.encode())
            data = b''
            while b'\r\n\r\n' not in data:
                data += sock.recv(4096)
            assert data.startswith(b'HTTP/1.1 101')
            sock.sendall(b'ping-through-hijack\n')
            deadline = time.time() + 5
            while b'ping-through-hijack' not in data and time.time() < deadline:
                data += sock.recv(4096)
            assert b'ping-through-hijack' in data
    finally:
        docker('rm', '-f', name)
