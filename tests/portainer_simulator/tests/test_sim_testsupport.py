"""The /__sim/ API: request log, fault injection, state dump."""

import socket
import time

import pytest
import requests

from simtest_helpers import error  # pylint: disable=import-error


def test_request_log(fresh_sim):
    instance = fresh_sim()
    instance.init_admin()
    token = instance.login()
    assert instance.request('DELETE', '/__sim/log').status_code == 204
    instance.request('GET', '/api/tags?x=1', token=token)
    instance.request('POST', '/api/tags', token=token, json={'Name': 'logged'})
    instance.request('POST', '/api/tags', token=token, json={'Name': 'logged'})  # 409: a write that changed nothing
    instance.request('POST', '/api/auth', json={'Username': 'admin', 'Password': 'wrong'})
    instance.request('GET', '/api/tags', headers={'X-API-KEY': 'ptr_nope'})
    entries = instance.log()
    assert [(e['method'], e['path'], e['status']) for e in entries] == [
        ('GET', '/api/tags', 200), ('POST', '/api/tags', 200), ('POST', '/api/tags', 409), ('POST', '/api/auth', 422),
        ('GET', '/api/tags', 401)]
    first = entries[0]
    for key in ('seq', 'time', 'method', 'path', 'query', 'status', 'write', 'changed', 'remote', 'auth'):
        assert key in first
    assert first['query'] == 'x=1' and first['auth'] == 'jwt' and first['remote'].startswith('127.0.0.1:')
    assert [(e['write'], e['changed']) for e in entries] == [(False, False), (True, True), (True, False), (False, False), (False, False)]
    assert entries[3]['auth'] == 'none' and entries[4]['auth'] == 'apikey'
    since = instance.log(since=entries[2]['seq'])
    assert [e['seq'] for e in since] == [entries[3]['seq'], entries[4]['seq']]
    assert 'wrong' not in str(instance.log())
    assert instance.request('DELETE', '/__sim/log').status_code == 204
    assert instance.log() == []


def test_fault_status(fresh_sim):
    instance = fresh_sim()
    token = instance.admin_token()
    resp = instance.request('POST', '/__sim/faults', json={'method': 'GET', 'path': '^/api/tags$', 'count': 2, 'action': 'status', 'status': 503})
    assert resp.status_code == 200
    for dummy in range(2):
        resp = instance.request('GET', '/api/tags', token=token)
        assert resp.status_code == 503 and resp.json()['message']
    assert instance.request('GET', '/api/tags', token=token).status_code == 200
    instance.request('POST', '/__sim/faults', json={'method': '*', 'path': '/api/tags', 'count': 1, 'action': 'status', 'status': 502})
    resp = instance.request('GET', '/api/tags', token=token)
    assert resp.status_code == 502 and resp.content == b''
    assert instance.log()[-1]['status'] == 502


def test_fault_unauthorized_and_clear(fresh_sim):
    instance = fresh_sim()
    token = instance.admin_token()
    instance.request('POST', '/__sim/faults', json={'path': '/api/endpoints', 'count': 5, 'action': 'unauthorized'})
    assert error(instance.request('GET', '/api/endpoints', token=token)) == (401, 'Invalid JWT token', 'Unauthorized')
    assert len(instance.request('GET', '/__sim/faults').json()) == 1
    assert instance.request('DELETE', '/__sim/faults').status_code == 204
    assert instance.request('GET', '/api/endpoints', token=token).status_code == 200


def test_fault_drop(fresh_sim):
    instance = fresh_sim()
    instance.request('POST', '/__sim/faults', json={'path': '/api/status', 'action': 'drop'})
    with pytest.raises(requests.ConnectionError):
        instance.request('GET', '/api/status')
    assert instance.request('GET', '/api/status').status_code == 200


def test_fault_hang(fresh_sim):
    instance = fresh_sim()
    instance.request('POST', '/__sim/faults', json={'path': '/api/status', 'action': 'hang', 'seconds': 2})
    started = time.time()
    with pytest.raises(requests.exceptions.ReadTimeout):
        instance.request('GET', '/api/status', timeout=0.5)
    assert time.time() - started < 1.5
    instance.request('POST', '/__sim/faults', json={'path': '/api/status', 'action': 'hang', 'seconds': 0.5, 'after': 'answer'})
    started = time.time()
    assert instance.request('GET', '/api/status').status_code == 200
    assert time.time() - started >= 0.5
    instance.request('POST', '/__sim/faults', json={'path': '/api/status', 'action': 'hang', 'seconds': 0.3})
    with pytest.raises(requests.ConnectionError):
        instance.request('GET', '/api/status')


def test_fault_validation(fresh_sim):
    instance = fresh_sim()
    assert instance.request('POST', '/__sim/faults', json={'action': 'explode'}).status_code == 400
    assert instance.request('POST', '/__sim/faults', json={'path': '('}).status_code == 400
    assert instance.request('POST', '/__sim/faults', json={'count': 0}).status_code == 400


def test_state_dump(sim):
    state = sim.request('GET', '/__sim/state').json()
    assert state['simulator']['version'] == '2.23.0'
    assert 'endpoints' in state and 'stacks' in state and 'users' in state


def test_keepalive_and_http10(sim):
    with socket.create_connection(('127.0.0.1', sim.port), timeout=5) as sock:
        for dummy in range(3):
            sock.sendall(b'GET /api/status HTTP/1.1\r\nHost: x\r\n\r\n')
            data = b''
            while b'\r\n\r\n' not in data:
                data += sock.recv(4096)
            head, dummy, rest = data.partition(b'\r\n\r\n')
            length = int([line.split(b':')[1] for line in head.split(b'\r\n') if line.lower().startswith(b'content-length')][0])
            while len(rest) < length:
                rest += sock.recv(4096)
            assert head.startswith(b'HTTP/1.1 200')
    with socket.create_connection(('127.0.0.1', sim.port), timeout=5) as sock:
        sock.sendall(b'GET /api/status HTTP/1.0\r\n\r\n')
        assert sock.recv(4096).startswith(b'HTTP/1.1 200')
