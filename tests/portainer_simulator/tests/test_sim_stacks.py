"""Stacks deployed for real: compose and swarm, string/file/repository, update, git, start/stop, delete."""

import json
import os
import time
import uuid

import pytest

from simtest_helpers import docker, error, unique  # pylint: disable=import-error

COMPOSE = '''version: "3.8"
services:
  app:
    image: pier-test/busybox:1
    command: ["sleep", "3600"]
    stop_grace_period: 1s
    env_file: stack.env
'''

SWARM = '''version: "3.8"
services:
  app:
    image: pier-test/busybox:1
    command: ["sleep", "3600"]
    stop_grace_period: 1s
    environment:
      PIER_MESSAGE: "${PIER_MESSAGE:-none}"
'''


def project_containers(name):
    """Container ids of a compose project."""
    return docker('ps', '-aq', '--filter', 'label=com.docker.compose.project=' + name).stdout.split()


def container_env(name):
    """Env of the first container of a compose project."""
    ids = project_containers(name)
    return json.loads(docker('inspect', ids[0]).stdout)[0]['Config']['Env'] if ids else []


def swarm_services(name):
    """Service names of a swarm stack."""
    return docker('stack', 'services', '--format', '{{.Name}}', name).stdout.split()


def service_env(service):
    """Env of a swarm service."""
    spec = json.loads(docker('service', 'inspect', service).stdout)[0]
    return spec['Spec']['TaskTemplate']['ContainerSpec'].get('Env') or []


def create(sim, endpoint_id, kind, method, **kwargs):
    """POST /api/stacks/create/<kind>/<method>."""
    return sim.admin('POST', '/api/stacks/create/%s/%s?endpointId=%d' % (kind, method, endpoint_id), **kwargs)


def delete(sim, stack):
    """Delete a stack; tolerate it being gone."""
    sim.admin('DELETE', '/api/stacks/%d?endpointId=%d' % (stack['Id'], stack['EndpointId']))


def test_create_route_errors(sim, local_endpoint):
    assert error(sim.admin('POST', '/api/stacks/create/standalone/string', json={})) == \
        (400, 'Invalid query parameter: endpointId', 'Missing query parameter')
    assert error(sim.admin('POST', '/api/stacks/create/standalone/string?endpointId=999999', json={}))[:2] == \
        (404, 'Unable to find an environment with the specified identifier inside the database')
    assert error(create(sim, local_endpoint, 'bogus', 'string', json={}))[:2] == \
        (400, 'Invalid value for query parameter: type. Value must be one of: 1 (Swarm stack) or 2 (Compose stack)')
    assert error(create(sim, local_endpoint, 'standalone', 'bogus', json={}))[:2] == \
        (400, 'Invalid value for query parameter: method. Value must be one of: string, repository or file')
    assert error(create(sim, local_endpoint, 'standalone', 'string', json={'StackFileContent': 'x'})) == \
        (400, 'Invalid request payload', 'Invalid stack name')
    assert error(create(sim, local_endpoint, 'standalone', 'string', json={'Name': 'x'})) == \
        (400, 'Invalid request payload', 'Invalid stack file content')
    assert error(create(sim, local_endpoint, 'swarm', 'string', json={'Name': 'x', 'StackFileContent': 'x'})) == \
        (400, 'Invalid request payload', 'Invalid Swarm ID')
    assert error(create(sim, local_endpoint, 'standalone', 'repository', json={'Name': 'x', 'RepositoryURL': 'not a url'}))[2] == \
        'Invalid repository URL. Must correspond to a valid URL format'
    resp = create(sim, local_endpoint, 'standalone', 'repository',
                  json={'Name': 'x', 'RepositoryURL': 'http://h/r.git', 'RepositoryAuthentication': True})
    assert error(resp)[2] == 'Invalid repository credentials. Password must be specified when authentication is enabled'
    for auto, text in (({}, 'Webhook or Interval must be provided'), ({'Webhook': 'nope'}, 'Invalid Webhook format'),
                       ({'Interval': '5 minutes'}, 'Invalid Interval format')):
        resp = create(sim, local_endpoint, 'standalone', 'repository', json={'Name': 'x', 'RepositoryURL': 'http://h/r.git', 'AutoUpdate': auto})
        assert error(resp) == (400, 'Invalid request payload', text)
    assert error(create(sim, local_endpoint, 'standalone', 'file', files={'Name': (None, 'x')}))[2] == \
        'Invalid Compose file. Ensure that the Compose file is uploaded correctly'
    assert error(create(sim, local_endpoint, 'standalone', 'file',
                        files={'Name': (None, 'x'), 'Env': (None, 'nope'), 'file': ('c.yml', b'x')}))[2] == 'Invalid Env parameter'
    assert error(sim.request('POST', '/api/stacks/create/standalone/string?endpointId=1', json={}))[0] == 401


def test_compose_string_lifecycle(sim, local_endpoint):
    raw_name = unique('Compose') + '.V2!'
    resp = create(sim, local_endpoint, 'standalone', 'string',
                  json={'Name': raw_name, 'StackFileContent': COMPOSE, 'Env': [{'name': 'PIER_A', 'value': 'one'}]})
    assert resp.status_code == 200, resp.text
    stack = resp.json()
    name = raw_name.lower().replace('.', '').replace('!', '')
    try:
        assert stack['Name'] == name
        assert stack['Type'] == 2 and stack['EndpointId'] == local_endpoint and stack['SwarmId'] == ''
        assert stack['EntryPoint'] == 'docker-compose.yml' and stack['Status'] == 1
        assert stack['ProjectPath'] == '/data/compose/%d' % stack['Id']
        assert stack['CreatedBy'] == 'admin' and stack['CreationDate'] > 0 and stack['GitConfig'] is None
        assert stack['Env'] == [{'name': 'PIER_A', 'value': 'one'}]
        rc = stack['ResourceControl']
        assert rc['ResourceId'] == '%d_%s' % (local_endpoint, name) and rc['Type'] == 6 and rc['AdministratorsOnly'] is True
        assert project_containers(name)
        assert 'PIER_A=one' in container_env(name)
        with open(os.path.join(sim.data_dir, 'compose', str(stack['Id']), 'stack.env'), encoding='utf-8') as handle:
            assert handle.read() == 'PIER_A=one\n'
        # duplicate (case-insensitive after normalisation): 409
        resp = create(sim, local_endpoint, 'standalone', 'string', json={'Name': name.upper(), 'StackFileContent': COMPOSE})
        assert error(resp) == (409, "A stack with the normalized name '%s' already exists" % name,
                               "A stack with the normalized name '%s' already exists" % name)
        # inspect, file, list
        assert sim.admin('GET', '/api/stacks/%d' % stack['Id']).json()['Name'] == name
        assert sim.admin('GET', '/api/stacks/%d/file' % stack['Id']).json() == {'StackFileContent': COMPOSE}
        assert error(sim.admin('GET', '/api/stacks/999999')) == \
            (404, 'Unable to find a stack with the specified identifier inside the database', 'Object not found inside the database')
        # update: Env replaces, file changes, status stays active
        new_file = COMPOSE.replace('busybox:1', 'busybox:2')
        path = '/api/stacks/%d' % stack['Id']
        assert error(sim.admin('PUT', path, json={'StackFileContent': new_file}))[:2] == (400, 'Invalid query parameter: endpointId')
        assert error(sim.admin('PUT', path + '?endpointId=%d' % local_endpoint, json={}))[2] == 'Invalid stack file content'
        resp = sim.admin('PUT', path + '?endpointId=%d' % local_endpoint,
                         json={'StackFileContent': new_file, 'Env': [{'name': 'PIER_B', 'value': 'two'}]})
        assert resp.status_code == 200, resp.text
        assert resp.json()['Env'] == [{'name': 'PIER_B', 'value': 'two'}] and resp.json()['UpdatedBy'] == 'admin'
        env = container_env(name)
        assert 'PIER_B=two' in env and 'PIER_A=one' not in env
        # stop / start rules
        start = '/api/stacks/%d/start?endpointId=%d' % (stack['Id'], local_endpoint)
        stop = '/api/stacks/%d/stop?endpointId=%d' % (stack['Id'], local_endpoint)
        running = "A stack with the name '%s' is already running" % name
        assert error(sim.admin('POST', start)) == (409, running, running)
        assert error(sim.admin('POST', '/api/stacks/%d/stop' % stack['Id']))[:2] == (400, 'Invalid query parameter: endpointId')
        resp = sim.admin('POST', stop)
        assert resp.status_code == 200 and resp.json()['Status'] == 2
        assert not project_containers(name)
        assert error(sim.admin('POST', stop)) == (400, 'Stack is already inactive', 'Stack is already inactive')
        resp = sim.admin('POST', start)
        assert resp.status_code == 200 and resp.json()['Status'] == 1
        assert project_containers(name)
        # delete
        assert error(sim.admin('DELETE', '/api/stacks/%d' % stack['Id']))[:2] == \
            (404, 'Unable to find the endpoint associated to the stack inside the database')
        assert sim.admin('DELETE', '/api/stacks/%d?endpointId=%d' % (stack['Id'], local_endpoint)).status_code == 204
        assert not project_containers(name)
        assert error(sim.admin('GET', '/api/stacks/%d' % stack['Id']))[0] == 404
        assert not os.path.exists(os.path.join(sim.data_dir, 'compose', str(stack['Id'])))
    finally:
        delete(sim, stack)


def test_compose_failed_deploy_leaves_nothing(sim, local_endpoint):
    name = unique('broken')
    bad = 'version: "3.8"\nservices:\n  app:\n    image: pier-sim-no-such-image/at-all:1\n'
    resp = create(sim, local_endpoint, 'standalone', 'string', json={'Name': name, 'StackFileContent': bad})
    status, message, dummy = error(resp)
    assert status == 500 and message
    assert not project_containers(name)
    assert not [s for s in sim.admin('GET', '/api/stacks').json() if s['Name'] == name]


def test_compose_takes_over_external_project(sim, local_endpoint, tmp_path):
    name = unique('external')
    compose = tmp_path / 'docker-compose.yml'
    compose.write_text(COMPOSE.replace('    env_file: stack.env\n', ''))
    out = docker('run', '--rm', '-d', '--name', name + '-ext', '--label', 'com.docker.compose.project=' + name,
                 'pier-test/busybox:1', 'sleep', '600')
    assert out.returncode == 0, out.stderr
    try:
        resp = create(sim, local_endpoint, 'standalone', 'string', json={'Name': name, 'StackFileContent': COMPOSE})
        assert resp.status_code == 200, resp.text
        delete(sim, resp.json())
    finally:
        docker('rm', '-f', name + '-ext')


def test_compose_file_upload(sim, local_endpoint):
    name = unique('upload')
    resp = create(sim, local_endpoint, 'standalone', 'file',
                  files={'Name': (None, name), 'Env': (None, json.dumps([{'name': 'PIER_F', 'value': 'f'}])),
                         'file': ('docker-compose.yml', COMPOSE.encode())})
    assert resp.status_code == 200, resp.text
    stack = resp.json()
    try:
        assert stack['Env'] == [{'name': 'PIER_F', 'value': 'f'}]
        assert 'PIER_F=f' in container_env(name)
    finally:
        delete(sim, stack)


def test_swarm_string_lifecycle(sim, local_endpoint, swarm_id):
    name = unique('swarm')
    resp = create(sim, local_endpoint, 'swarm', 'string',
                  json={'Name': name, 'SwarmID': swarm_id, 'StackFileContent': SWARM, 'Env': [{'name': 'PIER_MESSAGE', 'value': 'hi'}]})
    assert resp.status_code == 200, resp.text
    stack = resp.json()
    try:
        assert stack['Type'] == 1 and stack['SwarmId'] == swarm_id
        services = swarm_services(name)
        assert services == [name + '_app']
        assert 'PIER_MESSAGE=hi' in service_env(services[0])
        # 409 on the same name (record and docker label)
        resp = create(sim, local_endpoint, 'swarm', 'string', json={'Name': name, 'SwarmID': swarm_id, 'StackFileContent': SWARM})
        assert error(resp)[0] == 409
        # list semantics: EndpointID alone returns only compose stacks
        only_endpoint = sim.admin('GET', '/api/stacks', params={'filters': json.dumps({'EndpointID': local_endpoint})}).json()
        assert stack['Id'] not in [s['Id'] for s in only_endpoint]
        both = sim.admin('GET', '/api/stacks', params={'filters': json.dumps({'EndpointID': local_endpoint, 'SwarmID': swarm_id})}).json()
        assert stack['Id'] in [s['Id'] for s in both]
        assert stack['Id'] in [s['Id'] for s in sim.admin('GET', '/api/stacks').json()]
        assert error(sim.admin('GET', '/api/stacks', params={'filters': '{bad'}))[:2] == (400, 'Invalid query parameter: filters')
        # update with prune and env replacement
        resp = sim.admin('PUT', '/api/stacks/%d?endpointId=%d' % (stack['Id'], local_endpoint),
                         json={'StackFileContent': SWARM, 'Env': [{'name': 'PIER_MESSAGE', 'value': 'bye'}], 'Prune': True})
        assert resp.status_code == 200, resp.text
        assert resp.json()['Option'] == {'Prune': True}
        assert 'PIER_MESSAGE=bye' in service_env(name + '_app')
        # stop removes the services; start brings them back
        assert sim.admin('POST', '/api/stacks/%d/stop?endpointId=%d' % (stack['Id'], local_endpoint)).status_code == 200
        for dummy in range(50):
            if not swarm_services(name):
                break
            time.sleep(0.2)
        assert not swarm_services(name)
        assert sim.admin('POST', '/api/stacks/%d/start?endpointId=%d' % (stack['Id'], local_endpoint)).status_code == 200
        assert swarm_services(name)
        assert sim.admin('DELETE', '/api/stacks/%d?endpointId=%d' % (stack['Id'], local_endpoint)).status_code == 204
    finally:
        delete(sim, stack)


def test_swarm_blocked_by_external_stack_and_external_delete(sim, local_endpoint, swarm_id, tmp_path):
    name = unique('ext-swarm')
    stack_file = tmp_path / 'stack.yml'
    stack_file.write_text(SWARM)
    out = docker('stack', 'deploy', '--detach=true', '-c', str(stack_file), name)
    assert out.returncode == 0, out.stderr
    try:
        resp = create(sim, local_endpoint, 'swarm', 'string', json={'Name': name, 'SwarmID': swarm_id, 'StackFileContent': SWARM})
        assert error(resp)[0] == 409
        assert not [s for s in sim.admin('GET', '/api/stacks').json() if s['Name'] == name]  # external stacks never listed
        token = sim.create_user('pier-sim-ext-user')
        resp = sim.request('DELETE', '/api/stacks/%s?external=true&endpointId=%d' % (name, local_endpoint), token=token)
        assert error(resp) == (401, 'Permission denied to delete the stack', 'Unauthorized')
        resp = sim.admin('DELETE', '/api/stacks/%s?external=true' % name)
        assert error(resp)[:2] == (400, 'Invalid query parameter: endpointId')
        resp = sim.admin('DELETE', '/api/stacks/%s?external=true&endpointId=%d' % (name, local_endpoint))
        assert resp.status_code == 204
        assert not swarm_services(name)
    finally:
        docker('stack', 'rm', name)


def test_repository_stacks(sim, local_endpoint, swarm_id, git_server):
    name = unique('repo')
    resp = create(sim, local_endpoint, 'standalone', 'repository',
                  json={'Name': name, 'RepositoryURL': git_server.url + '/', 'RepositoryReferenceName': 'refs/heads/main',
                        'ComposeFile': 'compose/docker-compose.yml', 'Env': [{'name': 'PIER_R', 'value': 'r'}]})
    assert resp.status_code == 200, resp.text
    stack = resp.json()
    try:
        git = stack['GitConfig']
        assert git['URL'] == git_server.url and git['ReferenceName'] == 'refs/heads/main'
        assert git['ConfigFilePath'] == 'compose/docker-compose.yml' and git['ConfigHash'] == git_server.head('main')
        assert git['Authentication'] is None
        assert stack['EntryPoint'] == 'compose/docker-compose.yml'
        env = container_env(name)
        assert 'PIER_R=r' in env and 'PIER_FROM_DOTENV=yes' in env  # repo .env copied into stack.env first
        assert 'main' in sim.admin('GET', '/api/stacks/%d/file' % stack['Id']).json()['StackFileContent']
        # git settings only (no redeploy)
        path = '/api/stacks/%d/git?endpointId=%d' % (stack['Id'], local_endpoint)
        webhook = str(uuid.uuid4())
        resp = sim.admin('POST', path, json={'RepositoryReferenceName': 'refs/heads/branch-b', 'AutoUpdate': {'Webhook': webhook},
                                             'Env': [{'name': 'PIER_R', 'value': 'r'}]})
        assert resp.status_code == 200, resp.text
        assert resp.json()['GitConfig']['ReferenceName'] == 'refs/heads/branch-b'
        assert resp.json()['GitConfig']['ConfigHash'] == git_server.head('main')
        assert resp.json()['AutoUpdate']['Webhook'] == webhook
        # redeploy pulls the branch and updates ConfigHash
        path = '/api/stacks/%d/git/redeploy?endpointId=%d' % (stack['Id'], local_endpoint)
        resp = sim.admin('PUT', path, json={'RepositoryReferenceName': 'refs/heads/branch-b', 'Env': [{'name': 'PIER_R', 'value': 'b'}]})
        assert resp.status_code == 200, resp.text
        assert resp.json()['GitConfig']['ConfigHash'] == git_server.head('branch-b')
        assert 'branch-b' in sim.admin('GET', '/api/stacks/%d/file' % stack['Id']).json()['StackFileContent']
        assert 'PIER_R=b' in container_env(name)
        # webhook: unknown 404, bad 400, known 204 and redeploys the new commit
        assert error(sim.request('POST', '/api/stacks/webhooks/%s' % uuid.uuid4()))[:2] == (404, 'Unable to find the stack by webhook ID')
        assert error(sim.request('POST', '/api/stacks/webhooks/nope'))[:2] == (400, 'Invalid webhook identifier route variable')
        new_sha = git_server.commit('branch-b')
        assert sim.request('POST', '/api/stacks/webhooks/%s' % webhook).status_code == 204
        for dummy in range(100):
            if sim.admin('GET', '/api/stacks/%d' % stack['Id']).json()['GitConfig']['ConfigHash'] == new_sha:
                break
            time.sleep(0.2)
        assert sim.admin('GET', '/api/stacks/%d' % stack['Id']).json()['GitConfig']['ConfigHash'] == new_sha
        # duplicate webhook id: 409
        resp = create(sim, local_endpoint, 'standalone', 'repository',
                      json={'Name': unique('repo-dup'), 'RepositoryURL': git_server.url, 'ComposeFile': 'compose/docker-compose.yml',
                            'AutoUpdate': {'Webhook': webhook}})
        assert error(resp)[:2] == (409, 'Webhook ID: %s already exists' % webhook)
        # a file update detaches from git
        resp = sim.admin('PUT', '/api/stacks/%d?endpointId=%d' % (stack['Id'], local_endpoint), json={'StackFileContent': COMPOSE})
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body['GitConfig'] is None and body['AutoUpdate'] is None and body['FromAppTemplate'] is True
        resp = sim.admin('PUT', '/api/stacks/%d/git/redeploy?endpointId=%d' % (stack['Id'], local_endpoint), json={})
        assert error(resp) == (400, 'Stack is not created from git', 'Stack is not created from git')
        resp = sim.admin('POST', '/api/stacks/%d/git?endpointId=%d' % (stack['Id'], local_endpoint), json={})
        assert error(resp)[:2] == (500, 'No Git config in the found stack')
    finally:
        delete(sim, stack)
    # swarm repository stack
    name = unique('repo-swarm')
    resp = create(sim, local_endpoint, 'swarm', 'repository',
                  json={'Name': name, 'SwarmID': swarm_id, 'RepositoryURL': git_server.url, 'RepositoryReferenceName': 'refs/heads/main',
                        'ComposeFile': 'swarm/docker-stack.yml'})
    assert resp.status_code == 200, resp.text
    delete(sim, resp.json())
    # swarm without ComposeFile: EntryPoint stays empty and the deploy fails with the CLI error
    resp = create(sim, local_endpoint, 'swarm', 'repository',
                  json={'Name': unique('repo-nofile'), 'SwarmID': swarm_id, 'RepositoryURL': git_server.url})
    assert error(resp)[0] == 500


def test_private_repository(sim, local_endpoint, git_server):
    name = unique('private')
    payload = {'Name': name, 'RepositoryURL': git_server.private_url, 'ComposeFile': 'compose/docker-compose.yml'}
    resp = create(sim, local_endpoint, 'standalone', 'repository', json=payload)
    assert error(resp)[0] == 500
    payload.update({'RepositoryAuthentication': True, 'RepositoryUsername': git_server.USER, 'RepositoryPassword': git_server.PASSWORD})
    resp = create(sim, local_endpoint, 'standalone', 'repository', json=payload)
    assert resp.status_code == 200, resp.text
    stack = resp.json()
    try:
        assert stack['GitConfig']['Authentication'] == {'Username': git_server.USER, 'Password': '', 'GitCredentialID': 0}
        assert git_server.PASSWORD not in json.dumps(sim.admin('GET', '/api/stacks').json())
        assert git_server.PASSWORD not in json.dumps(sim.request('GET', '/__sim/state').json())
        # redeploy with authentication and an empty password keeps the stored one
        resp = sim.admin('PUT', '/api/stacks/%d/git/redeploy?endpointId=%d' % (stack['Id'], local_endpoint),
                         json={'RepositoryReferenceName': '', 'RepositoryAuthentication': True, 'RepositoryUsername': git_server.USER})
        assert resp.status_code == 200, resp.text
    finally:
        delete(sim, stack)


def test_orphaned_stacks(sim, engine_socket):
    endpoint = sim.create_endpoint(unique('orphan-ep'), engine_socket).json()
    name = unique('orphan')
    resp = create(sim, endpoint['Id'], 'standalone', 'string', json={'Name': name, 'StackFileContent': COMPOSE})
    assert resp.status_code == 200, resp.text
    stack = resp.json()
    other = sim.create_endpoint(unique('orphan-other'), engine_socket).json()
    try:
        assert sim.admin('DELETE', '/api/endpoints/%d' % endpoint['Id']).status_code == 204
        assert stack['Id'] in [s['Id'] for s in sim.admin('GET', '/api/stacks').json()]
        filtered = sim.admin('GET', '/api/stacks', params={'filters': json.dumps({'EndpointID': other['Id']})}).json()
        assert stack['Id'] not in [s['Id'] for s in filtered]
        filtered = sim.admin('GET', '/api/stacks', params={'filters': json.dumps({'EndpointID': other['Id'], 'IncludeOrphanedStacks': True})}).json()
        assert stack['Id'] in [s['Id'] for s in filtered]
        token = sim.create_user('pier-sim-orphan-user')
        resp = sim.request('GET', '/api/stacks', token=token, params={'filters': json.dumps({'EndpointID': 1, 'IncludeOrphanedStacks': True})})
        assert error(resp)[:2] == (403, 'Permission denied to access orphaned stacks')
        resp = sim.request('DELETE', '/api/stacks/%d?endpointId=%d' % (stack['Id'], other['Id']), token=token)
        assert error(resp)[:2] == (403, 'Permission denied to remove orphaned stack')
        resp = sim.admin('DELETE', '/api/stacks/%d?endpointId=%d' % (stack['Id'], other['Id']))
        assert resp.status_code == 204
        assert not project_containers(name)
    finally:
        sim.admin('DELETE', '/api/endpoints/%d' % other['Id'])


def test_standard_user_stack_access(sim, local_endpoint):
    name = unique('private-rc')
    resp = create(sim, local_endpoint, 'standalone', 'string', json={'Name': name, 'StackFileContent': COMPOSE})
    stack = resp.json()
    try:
        token = sim.create_user('pier-sim-stack-user')
        me = sim.request('GET', '/api/users/me', token=token).json()
        sim.admin('PUT', '/api/endpoints/%d' % local_endpoint, json={'UserAccessPolicies': {str(me['Id']): {'RoleId': 0}}})
        assert stack['Id'] not in [s['Id'] for s in sim.request('GET', '/api/stacks', token=token).json()]
        assert error(sim.request('GET', '/api/stacks/%d' % stack['Id'], token=token)) == \
            (403, 'Access denied to resource', 'Access denied to resource')
    finally:
        delete(sim, stack)


def test_legacy_route(sim, sim_factory, local_endpoint, engine_socket):
    name = unique('legacy')
    resp = sim.admin('POST', '/api/stacks?type=2&method=string&endpointId=%d' % local_endpoint,
                     json={'Name': name, 'StackFileContent': COMPOSE})
    assert resp.status_code == 200, resp.text
    delete(sim, resp.json())
    assert error(sim.admin('POST', '/api/stacks?type=2&endpointId=1', json={}))[:2] == \
        (400, 'Invalid query parameter: method. Valid values are: file or string')
    assert error(sim.admin('POST', '/api/stacks?type=9&method=string&endpointId=1', json={}))[:2] == (400, 'Invalid query parameter: type')
    old = sim_factory('2.19.0')
    endpoint = old.create_endpoint(unique('old'), engine_socket).json()
    resp = old.admin('POST', '/api/stacks?type=2&method=string&endpointId=%d' % endpoint['Id'], json={'Name': name, 'StackFileContent': COMPOSE})
    assert resp.status_code == 405 and resp.content == b''
    # 2.19 wording of the duplicate-name 409
    resp = old.admin('POST', '/api/stacks/create/standalone/string?endpointId=%d' % endpoint['Id'], json={'Name': name, 'StackFileContent': COMPOSE})
    assert resp.status_code == 200, resp.text
    try:
        resp = old.admin('POST', '/api/stacks/create/standalone/string?endpointId=%d' % endpoint['Id'],
                         json={'Name': name, 'StackFileContent': COMPOSE})
        assert error(resp)[:2] == (409, "A stack with the name '%s' already exists" % name)
    finally:
        delete(old, resp.json() if resp.status_code == 200 else old.admin('GET', '/api/stacks').json()[0])


@pytest.mark.parametrize('version', ['2.21.0'])
def test_legacy_route_2_21(sim_factory, engine_socket, version):
    instance = sim_factory(version)
    endpoint = instance.create_endpoint(unique('v221'), engine_socket).json()
    name = unique('legacy221')
    resp = instance.admin('POST', '/api/stacks?type=2&method=string&endpointId=%d' % endpoint['Id'],
                          json={'Name': name, 'StackFileContent': COMPOSE})
    assert resp.status_code == 200, resp.text
    delete(instance, resp.json())


def test_compose_stack_on_a_tls_environment(sim, engine_tls):
    # Portainer deploys with the environment's stored CA, certificate and key, whatever CA bundle its own
    # process environment names.
    url, ca, cert, key = engine_tls
    with open(ca, 'rb') as f_ca, open(cert, 'rb') as f_cert, open(key, 'rb') as f_key:
        files = {'Name': (None, unique('tlsenv')), 'EndpointCreationType': (None, '1'), 'URL': (None, url), 'TLS': (None, 'true'),
                 'TLSCACertFile': ('ca.pem', f_ca.read()), 'TLSCertFile': ('cert.pem', f_cert.read()), 'TLSKeyFile': ('key.pem', f_key.read())}
    resp = sim.admin('POST', '/api/endpoints', files=files)
    assert resp.status_code == 200, resp.text
    endpoint_id = resp.json()['Id']
    name = unique('tlscompose')
    resp = create(sim, endpoint_id, 'standalone', 'string', json={'Name': name, 'StackFileContent': COMPOSE.replace('    env_file: stack.env\n', '')})
    try:
        assert resp.status_code == 200, resp.text
        assert project_containers(name)
    finally:
        if resp.status_code == 200:
            delete(sim, resp.json())
        sim.admin('DELETE', '/api/endpoints/%d' % endpoint_id)
