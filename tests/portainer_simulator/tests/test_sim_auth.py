"""Login, JWTs, 401/403 texts, rate limiting, API keys, cookies + CSRF, logout, per version."""

import base64
import json
import socket

import pytest
import requests

from simtest_helpers import ADMIN_PASSWORD, error  # pylint: disable=import-error


def claims(token):
    """Decode a JWT payload."""
    payload = token.split('.')[1]
    return json.loads(base64.urlsafe_b64decode(payload + '=' * (-len(payload) % 4)))


def test_login_success_and_claims(sim):
    sim.reset_ratelimit()
    resp = sim.request('POST', '/api/auth', json={'Username': 'admin', 'Password': ADMIN_PASSWORD})
    assert resp.status_code == 200
    assert list(resp.json()) == ['jwt']
    token = resp.json()['jwt']
    header = json.loads(base64.urlsafe_b64decode(token.split('.')[0] + '=='))
    assert header['alg'] == 'HS256'
    body = claims(token)
    assert body['id'] == 1 and body['username'] == 'admin' and body['role'] == 1 and body['scope'] == 'default'
    assert body['forceChangePassword'] is False
    assert 8 * 3600 - 5 <= body['exp'] - body['iat'] <= 8 * 3600
    assert len(body['jti']) == 36
    cookie = resp.headers.get('Set-Cookie', '')
    assert cookie.startswith('portainer_api_key=' + token)
    assert 'HttpOnly' in cookie and 'SameSite=Strict' in cookie and 'Path=/' in cookie


def test_login_errors(sim):
    sim.reset_ratelimit()
    assert error(sim.request('POST', '/api/auth', json={'Username': 'admin', 'Password': 'wrong'})) == \
        (422, 'Invalid credentials', 'Unauthorized')
    assert error(sim.request('POST', '/api/auth', json={'Username': 'nobody', 'Password': 'wrong'})) == \
        (422, 'Invalid credentials', 'Unauthorized')
    assert error(sim.request('POST', '/api/auth', json={'Username': '', 'Password': 'x'})) == \
        (400, 'Invalid request payload', 'Invalid username')
    assert error(sim.request('POST', '/api/auth', json={'Username': 'admin'})) == \
        (400, 'Invalid request payload', 'Invalid password')
    assert error(sim.request('POST', '/api/auth', data='nope'))[:2] == (400, 'Invalid request payload')
    sim.reset_ratelimit()


def test_no_cookie_before_2_20(sim_factory):
    instance = sim_factory('2.19.0')
    instance.init_admin()
    resp = instance.request('POST', '/api/auth', json={'Username': 'admin', 'Password': ADMIN_PASSWORD})
    assert resp.status_code == 200
    assert 'Set-Cookie' not in resp.headers or 'portainer_api_key' not in resp.headers['Set-Cookie']


def test_short_password_sets_force_change(fresh_sim):
    instance = fresh_sim()
    assert instance.request('POST', '/api/users/admin/init', json={'Username': 'admin', 'Password': 'p' * 12}).status_code == 200
    token = instance.login(password='p' * 12)
    assert claims(token)['forceChangePassword'] is False
    resp = instance.request('PUT', '/api/settings', token=token, json={'InternalAuthSettings': {'RequiredPasswordLength': 18}})
    assert resp.status_code == 200
    token = instance.login(password='p' * 12)
    assert claims(token)['forceChangePassword'] is True
    assert instance.request('GET', '/api/users/me', token=token).json()['forceChangePassword'] is True


def test_401_texts(sim):
    assert error(sim.request('GET', '/api/endpoints')) == (401, 'A valid authorization token is missing', 'Unauthorized')
    assert error(sim.request('GET', '/api/endpoints', token='garbage')) == (401, 'Invalid JWT token', 'Unauthorized')
    assert error(sim.request('GET', '/api/endpoints', apikey='ptr_unknown')) == (401, 'Invalid JWT token', 'Unauthorized')
    # a bare token without "Bearer " works
    resp = sim.request('GET', '/api/endpoints', headers={'Authorization': sim.admin_token()})
    assert resp.status_code == 200
    # ?token= works too
    assert sim.request('GET', '/api/endpoints?token=' + sim.admin_token()).status_code == 200


def test_deleted_user_token(sim):
    token = sim.create_user('pier-sim-deleted')
    user_id = claims(token)['id']
    assert sim.admin('DELETE', '/api/users/%d' % user_id).status_code == 204
    assert error(sim.request('GET', '/api/tags', token=token)) == (401, 'An authorization token is invalid', 'Unauthorized')


def test_standard_user_403(sim):
    token = sim.create_user('pier-sim-standard')
    assert error(sim.request('POST', '/api/tags', token=token, json={'Name': 'x'})) == (403, 'Access denied', 'Unauthorized')
    assert sim.request('GET', '/api/tags', token=token).status_code == 200
    me = sim.request('GET', '/api/users/me', token=token).json()
    assert me['Username'] == 'pier-sim-standard' and me['Role'] == 2 and me['Password'] == ''


def test_create_user_rules(sim):
    assert sim.admin('POST', '/api/users', json={'Username': 'pier-sim-dup', 'Password': 'x' * 12, 'Role': 2}).status_code == 200
    assert error(sim.admin('POST', '/api/users', json={'Username': 'pier-sim-dup', 'Password': 'x' * 12, 'Role': 2}))[0] == 409
    assert error(sim.admin('POST', '/api/users', json={'Username': 'pier-sim-r', 'Password': 'x' * 12, 'Role': 3}))[0] == 400


def test_expire_tokens(fresh_sim):
    instance = fresh_sim()
    instance.init_admin()
    token = instance.login()
    assert instance.request('GET', '/api/tags', token=token).status_code == 200
    assert instance.request('POST', '/__sim/expire-tokens').status_code == 204
    assert error(instance.request('GET', '/api/tags', token=token)) == (401, 'Invalid JWT token', 'Unauthorized')


def test_rate_limit(fresh_sim):
    instance = fresh_sim()
    instance.init_admin()
    good = {'Username': 'admin', 'Password': ADMIN_PASSWORD}
    statuses = [instance.request('POST', '/api/auth', json=good if i % 2 else {'Username': 'admin', 'Password': 'bad'}).status_code
                for i in range(10)]
    assert statuses == [422, 200] * 5
    resp = instance.request('POST', '/api/auth', json=good)
    assert error(resp) == (403, 'Access denied', 'Access denied to resource')
    # banned for everything behind the limiter, other routes still work
    assert instance.request('GET', '/api/status').status_code == 200
    assert instance.request('POST', '/api/auth', json=good).status_code == 403


def test_rate_limit_shared_with_tokens(fresh_sim):
    instance = fresh_sim()
    instance.init_admin()
    token = instance.login()
    for dummy in range(9):
        resp = instance.request('POST', '/api/users/1/tokens', token=token, json={'description': 'k', 'password': 'bad'})
        assert resp.status_code == 403 and resp.json()['message'] == "Current password doesn't match"
    resp = instance.request('POST', '/api/users/1/tokens', token=token, json={'description': 'k', 'password': ADMIN_PASSWORD})
    assert error(resp) == (403, 'Access denied', 'Access denied to resource')
    assert error(instance.request('POST', '/api/auth', json={'Username': 'admin', 'Password': ADMIN_PASSWORD}))[0] == 403


def test_api_keys(sim):
    sim.reset_ratelimit()
    token = sim.admin_token()
    resp = sim.request('POST', '/api/users/1/tokens', token=token, json={'description': 'pier-sim', 'password': ADMIN_PASSWORD})
    assert resp.status_code == 201
    assert resp.headers['Content-Type'] == 'application/json'
    body = resp.json()
    raw = body['rawAPIKey']
    assert raw.startswith('ptr_') and len(base64.b64decode(raw[4:])) == 32
    key = body['apiKey']
    assert key['userId'] == 1 and key['description'] == 'pier-sim' and key['prefix'] == raw[:7] and key['digest']
    for field in ('id', 'dateCreated', 'lastUsed'):
        assert field in key
    # header, query param of any case
    assert sim.request('GET', '/api/users/me', apikey=raw).json()['Id'] == 1
    assert sim.request('GET', '/api/users/me', headers={'x-api-key': raw}).status_code == 200
    assert sim.request('GET', '/api/users/me', params={'X-Api-Key': raw}).status_code == 200
    # both headers: 403 (2.20+)
    resp = sim.request('GET', '/api/users/me', apikey=raw, token=token)
    assert error(resp)[:2] == (403, 'api key and auth header are not allowed at the same time')
    # listing blanks the digest
    listed = sim.request('GET', '/api/users/1/tokens', apikey=raw).json()
    assert any(k['id'] == key['id'] and k['digest'] == '' for k in listed)
    # creating a key with only an API key: 401 Auth not supported
    resp = sim.request('POST', '/api/users/1/tokens', apikey=raw, json={'description': 'x', 'password': ADMIN_PASSWORD})
    assert error(resp) == (401, 'Auth not supported', 'Authentication required')
    # delete rules
    assert error(sim.admin('DELETE', '/api/users/999/tokens/%d' % key['id']))[0] == 404
    assert error(sim.admin('DELETE', '/api/users/1/tokens/99999')) == (500, 'API Key not found', 'Object not found inside the database')
    assert sim.admin('DELETE', '/api/users/1/tokens/%d' % key['id']).status_code == 204
    assert error(sim.request('GET', '/api/users/me', apikey=raw)) == (401, 'Invalid JWT token', 'Unauthorized')
    sim.reset_ratelimit()


def test_api_key_validation(sim):
    sim.reset_ratelimit()
    token = sim.admin_token()

    def create(payload, user=1):
        return sim.request('POST', '/api/users/%d/tokens' % user, token=token, json=payload)

    assert error(create({'description': '', 'password': ADMIN_PASSWORD})) == (400, 'Invalid request payload', 'Invalid description: cannot be empty')
    assert error(create({'description': '   ', 'password': ADMIN_PASSWORD}))[2] == 'Invalid description: cannot contain only whitespaces'
    assert error(create({'description': 'x' * 128, 'password': ADMIN_PASSWORD}))[2] == 'Invalid description: cannot be longer than 128 characters'
    assert error(create({'description': 'ok'})) == (400, 'Invalid request payload', 'Invalid password: cannot be empty')
    assert error(create({'description': 'ok', 'password': 'wrong'}))[:2] == (403, "Current password doesn't match")
    assert error(create({'description': 'ok', 'password': ADMIN_PASSWORD}, user=2)) == \
        (403, 'Permission denied to create user access token', 'Unauthorized')
    sim.reset_ratelimit()


def test_api_key_list_rules(sim):
    token = sim.create_user('pier-sim-keys')
    assert error(sim.request('GET', '/api/users/1/tokens', token=token))[:2] == (403, 'Permission denied to get user access tokens')
    assert error(sim.admin('GET', '/api/users/9999/tokens'))[0] == 404


def test_api_keys_2_19_no_password(sim_factory):
    instance = sim_factory('2.19.0')
    token = instance.admin_token()
    resp = instance.request('POST', '/api/users/1/tokens', token=token, json={'description': 'old'})
    assert resp.status_code == 201
    raw = resp.json()['rawAPIKey']
    # no CSRF layer before 2.20: both headers are accepted, the API key wins
    resp = instance.request('GET', '/api/users/me', apikey=raw, token='garbage')
    assert resp.status_code == 200


def test_cookie_auth_and_csrf(sim):
    sim.reset_ratelimit()
    session = requests.Session()
    resp = session.post(sim.url('/api/auth'), json={'Username': 'admin', 'Password': ADMIN_PASSWORD})
    assert resp.status_code == 200
    # the cookie alone authenticates safe requests
    resp = session.get(sim.url('/api/tags'))
    assert resp.status_code == 200
    csrf = resp.headers['X-CSRF-Token']
    # unsafe request with the cookie and no CSRF token: 403 plain text
    resp = session.post(sim.url('/api/tags'), json={'Name': 'pier-sim-csrf'})
    assert resp.status_code == 403
    assert resp.text.startswith('Forbidden - CSRF token')
    assert resp.headers['Content-Type'].startswith('text/plain')
    # with the token it works
    resp = session.post(sim.url('/api/tags'), json={'Name': 'pier-sim-csrf'}, headers={'X-CSRF-Token': csrf})
    assert resp.status_code == 200, resp.text
    # a cookie jar plus a bearer token still needs CSRF
    resp = session.post(sim.url('/api/tags'), json={'Name': 'pier-sim-csrf2'}, headers={'Authorization': 'Bearer ' + sim.admin_token()})
    assert resp.status_code == 403
    tag_id = [t for t in sim.admin('GET', '/api/tags').json() if t['Name'] == 'pier-sim-csrf'][0]['ID']
    assert sim.admin('DELETE', '/api/tags/%d' % tag_id).status_code == 204


def test_cookie_ignored_before_2_20(sim_factory):
    instance = sim_factory('2.19.0')
    instance.admin_token()
    token = instance.login()
    resp = instance.request('GET', '/api/tags', headers={'Cookie': 'portainer_api_key=' + token})
    assert error(resp)[0] == 401


def _raw_logout(instance, headers):
    with socket.create_connection(('127.0.0.1', instance.port), timeout=5) as sock:
        lines = ['POST /api/auth/logout HTTP/1.1', 'Host: x', 'Content-Length: 0'] + ['%s: %s' % kv for kv in headers.items()]
        sock.sendall(('\r\n'.join(lines) + '\r\n\r\n').encode())
        try:
            return sock.recv(4096)
        except ConnectionResetError:
            return b''


def test_logout_2_23(sim):
    sim.reset_ratelimit()
    token = sim.login()
    # header-only logout: the handler panics, connection dropped without response
    assert _raw_logout(sim, {'Authorization': 'Bearer ' + token}) == b''
    assert sim.request('GET', '/api/tags', token=token).status_code == 200
    # cookie logout (CSRF applies because of the cookie): 204, cookie cleared, jti revoked
    session = requests.Session()
    session.cookies.set('portainer_api_key', token)
    assert session.post(sim.url('/api/auth/logout')).status_code == 403
    csrf = session.get(sim.url('/api/status')).headers['X-CSRF-Token']
    resp = session.post(sim.url('/api/auth/logout'), headers={'X-CSRF-Token': csrf})
    assert resp.status_code == 204
    assert 'portainer_api_key=;' in resp.headers['Set-Cookie']
    assert error(sim.request('GET', '/api/tags', token=token)) == (401, 'Invalid JWT token', 'Unauthorized')


def test_logout_2_21_0(sim_factory):
    instance = sim_factory('2.21.0')
    token = instance.admin_token()
    resp = instance.request('POST', '/api/auth/logout', token=token)
    assert resp.status_code == 204
    assert instance.request('GET', '/api/tags', token=token).status_code == 200
    assert instance.request('POST', '/api/auth/logout').status_code == 204


def test_logout_2_19_0_is_authenticated(sim_factory):
    instance = sim_factory('2.19.0')
    token = instance.admin_token()
    assert error(instance.request('POST', '/api/auth/logout'))[0] == 401
    assert instance.request('POST', '/api/auth/logout', token=token).status_code == 204


@pytest.mark.parametrize('version', ['2.19.0', '2.21.0', '2.23.0'])
def test_password_change(fresh_sim, version):
    instance = fresh_sim(version)
    instance.init_admin()
    token = instance.login()
    resp = instance.request('PUT', '/api/users/1/passwd', token=token, json={'Password': 'bad', 'NewPassword': 'y' * 12})
    assert error(resp)[:2] == (403, "Current password doesn't match")
    resp = instance.request('PUT', '/api/users/1/passwd', token=token, json={'Password': ADMIN_PASSWORD, 'NewPassword': 'short'})
    assert error(resp)[0] == 400
    import time  # pylint: disable=import-outside-toplevel
    time.sleep(1.1)
    resp = instance.request('PUT', '/api/users/1/passwd', token=token, json={'Password': ADMIN_PASSWORD, 'NewPassword': 'y' * 12})
    assert resp.status_code == 204
    # TokenIssueAt moved past the token's iat
    assert error(instance.request('GET', '/api/tags', token=token)) == (401, 'Invalid JWT token', 'Unauthorized')
    assert instance.login(password='y' * 12)
