"""Status routes, gorilla 404/405, headers, admin bootstrap, settings, startup time."""

import pytest

from simtest_helpers import error  # pylint: disable=import-error


@pytest.mark.parametrize('path', ['/api/status', '/api/system/status'])
def test_status_public(sim, path):
    resp = sim.request('GET', path)
    assert resp.status_code == 200
    assert resp.headers['Content-Type'] == 'application/json'
    assert resp.headers['X-Content-Type-Options'] == 'nosniff'
    assert not resp.content.endswith(b'\n')
    body = resp.json()
    assert body['Version'] == '2.23.0'
    assert len(body['InstanceID']) == 36


@pytest.mark.parametrize('version', ['2.19.0', '2.21.0'])
def test_status_reports_emulated_version(sim_factory, version):
    instance = sim_factory(version)
    assert instance.request('GET', '/api/system/status').json()['Version'] == version
    assert instance.startup_seconds < 5


@pytest.mark.parametrize('path', ['/api/system/version', '/api/status/version'])
def test_version_needs_auth(sim, path):
    assert error(sim.request('GET', path)) == (401, 'A valid authorization token is missing', 'Unauthorized')
    body = sim.admin('GET', path).json()
    assert body['ServerVersion'] == '2.23.0'
    assert body['UpdateAvailable'] is False
    assert body['LatestVersion'] == ''
    assert body['ServerEdition'] == 'CE'
    assert 'Env' in body['Build']


def test_unknown_path_is_gorilla_404(sim):
    resp = sim.request('GET', '/api/does-not-exist')
    assert resp.status_code == 404
    assert resp.text == '404 page not found\n'
    resp = sim.admin('GET', '/api/stacks/1/unknown')
    assert resp.status_code == 404
    assert resp.text == '404 page not found\n'


def test_wrong_method_is_empty_405(sim):
    for method, path in (('DELETE', '/api/status'), ('PATCH', '/api/endpoints'), ('PUT', '/api/auth')):
        resp = sim.request(method, path)
        assert resp.status_code == 405, path
        assert resp.content == b''


def test_settings_public(sim):
    body = sim.request('GET', '/api/settings/public').json()
    assert body['AuthenticationMethod'] == 1
    assert body['RequiredPasswordLength'] == 12
    assert 'Features' in body and 'Edge' in body and 'EnableEdgeComputeFeatures' in body


def test_admin_bootstrap(fresh_sim):
    instance = fresh_sim()
    resp = instance.request('GET', '/api/users/admin/check')
    assert error(resp)[:2] == (404, 'No administrator account found inside the database')
    resp = instance.request('POST', '/api/users/admin/init', json={'Username': 'bad name', 'Password': 'x' * 20})
    assert error(resp) == (400, 'Invalid request payload', 'Invalid username. Must not contain any whitespace')
    resp = instance.request('POST', '/api/users/admin/init', json={'Username': 'admin', 'Password': ''})
    assert error(resp) == (400, 'Invalid request payload', 'Invalid password')
    resp = instance.request('POST', '/api/users/admin/init', json={'Username': 'admin', 'Password': 'elevenchars'})
    assert error(resp) == (400, 'Password does not meet the requirements', 'Password does not meet the requirements')
    resp = instance.request('POST', '/api/users/admin/init', data='{not json')
    assert error(resp)[:2] == (400, 'Invalid request payload')
    resp = instance.request('POST', '/api/users/admin/init', json={'Username': 'admin', 'Password': 'twelve-chars'})
    assert resp.status_code == 200
    user = resp.json()
    assert user['Id'] == 1 and user['Username'] == 'admin' and user['Role'] == 1
    assert user['Password']  # Portainer returns the hash
    assert instance.request('GET', '/api/users/admin/check').status_code == 204
    # 409 comes before the password check
    resp = instance.request('POST', '/api/users/admin/init', json={'Username': 'other', 'Password': 'x'})
    assert error(resp) == (409, 'Unable to create administrator user', 'An administrator user already exists')


def test_settings_required_length_applies(fresh_sim):
    instance = fresh_sim()
    instance.init_admin()
    resp = instance.admin('PUT', '/api/settings', json={'InternalAuthSettings': {'RequiredPasswordLength': 16}})
    assert resp.status_code == 200
    assert instance.request('GET', '/api/settings/public').json()['RequiredPasswordLength'] == 16
    resp = instance.admin('POST', '/api/users', json={'Username': 'u1', 'Password': 'fifteen-chars-x', 'Role': 2})
    assert resp.status_code == 400


def test_admin_init_timeout_option(fresh_sim):
    instance = fresh_sim(extra=['--admin-init-timeout', '0.2'])
    import time  # pylint: disable=import-outside-toplevel
    time.sleep(0.4)
    resp = instance.request('GET', '/api/system/status', allow_redirects=False)
    assert resp.status_code == 303
    assert resp.headers['redirect-reason'] == 'AdminInitTimeout'
    assert resp.json()['message'] == 'Administrator initialization timeout'
    assert instance.request('GET', '/api/status').status_code == 200
    assert instance.request('GET', '/api/settings/public').status_code == 200
    resp = instance.request('POST', '/api/users/admin/init', json={'Username': 'a', 'Password': 'x' * 12}, allow_redirects=False)
    assert resp.status_code == 303


def test_admin_init_timeout_off_by_default(sim):
    assert sim.request('GET', '/api/users/admin/check').status_code == 204


def test_restart_keeps_state_but_kills_jwts(fresh_sim):
    instance = fresh_sim()
    instance.init_admin()
    token = instance.login()
    resp = instance.request('POST', '/api/tags', token=token, json={'Name': 'persisted'})
    assert resp.status_code == 200
    instance.restart()
    assert error(instance.request('GET', '/api/tags', token=token)) == (401, 'Invalid JWT token', 'Unauthorized')
    token = instance.login()
    assert [t['Name'] for t in instance.request('GET', '/api/tags', token=token).json()] == ['persisted']
    assert instance.request('GET', '/api/users/admin/check').status_code == 204


def test_https_option(fresh_sim, tmp_path):
    import subprocess  # pylint: disable=import-outside-toplevel
    cert, key = tmp_path / 'cert.pem', tmp_path / 'key.pem'
    out = subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
                          '-keyout', str(key), '-out', str(cert)], capture_output=True, check=False)
    if out.returncode != 0:
        pytest.skip('openssl unavailable')
    instance = fresh_sim(extra=['--tls-cert', str(cert), '--tls-key', str(key)])
    assert instance.base.startswith('https://')
    resp = instance.request('GET', '/api/status')
    assert resp.status_code == 200 and resp.json()['Version'] == '2.23.0'
