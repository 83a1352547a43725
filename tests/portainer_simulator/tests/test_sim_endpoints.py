"""Endpoints (create rules, real ping, list filters, update, delete), groups, tags, TLS uploads."""

import concurrent.futures
import os

import pytest

from simtest_helpers import error, unique  # pylint: disable=import-error

TYPE_TEXT = ('Invalid environment type value. Value must be one of: 1 (Docker environment), 2 (Agent environment), '
             '3 (Azure environment), 4 (Edge Agent environment) or 5 (Local Kubernetes environment)')


def form(**fields):
    """multipart/form-data parts from plain fields."""
    return {k: (None, str(v)) for k, v in fields.items()}


def test_create_validation(sim):
    assert error(sim.admin('POST', '/api/endpoints', files=form(EndpointCreationType=1))) == \
        (400, 'Invalid request payload', 'Invalid environment name')
    assert error(sim.admin('POST', '/api/endpoints', files=form(Name='x'))) == (400, 'Invalid request payload', TYPE_TEXT)
    assert error(sim.admin('POST', '/api/endpoints', files=form(Name='x', EndpointCreationType=0)))[2] == TYPE_TEXT
    assert error(sim.admin('POST', '/api/endpoints', files=form(Name='x', EndpointCreationType='abc')))[2] == TYPE_TEXT
    resp = sim.admin('POST', '/api/endpoints', files=form(Name='x', EndpointCreationType=1, TLS='true', URL='tcp://127.0.0.1:2376'))
    assert error(resp)[2] == 'Invalid CA certificate file. Ensure that the file is uploaded correctly'
    resp = sim.admin('POST', '/api/endpoints', files=form(Name='x', EndpointCreationType=1, TLS='true', TLSSkipVerify='true',
                                                          URL='tcp://127.0.0.1:2376'))
    assert error(resp)[2] == 'Invalid certificate file. Ensure that the file is uploaded correctly'
    files = form(Name='x', EndpointCreationType=1, TLS='true', TLSSkipVerify='true', URL='tcp://127.0.0.1:2376')
    files['TLSCertFile'] = ('cert.pem', b'cert')
    assert error(sim.admin('POST', '/api/endpoints', files=files))[2] == 'Invalid key file. Ensure that the file is uploaded correctly'
    assert error(sim.admin('POST', '/api/endpoints', files=form(Name='x', EndpointCreationType=1, TagIds='nope')))[2] == \
        'Invalid TagIds parameter'
    assert error(sim.admin('POST', '/api/endpoints', files=form(Name='x', EndpointCreationType=4)))[2] == 'URL cannot be empty'
    assert error(sim.admin('POST', '/api/endpoints', files=form(Name='x', EndpointCreationType=4, URL='  ')))[2] == 'URL cannot be empty'
    # unauthenticated / non admin
    assert error(sim.request('POST', '/api/endpoints', files=form(Name='x', EndpointCreationType=1)))[0] == 401
    token = sim.create_user('pier-sim-ep-user')
    assert error(sim.request('POST', '/api/endpoints', token=token, files=form(Name='x', EndpointCreationType=1))) == \
        (403, 'Access denied', 'Unauthorized')


def test_booleans_only_exact_true(sim, engine_tcp):
    # "True" is false: TLS is off, so no files are required and the plain TCP engine answers
    name = unique('bool')
    resp = sim.admin('POST', '/api/endpoints', files=form(Name=name, EndpointCreationType=1, URL=engine_tcp, TLS='True'))
    assert resp.status_code == 200, resp.text
    assert resp.json()['TLSConfig'] == {'TLS': False, 'TLSSkipVerify': False}
    assert sim.admin('DELETE', '/api/endpoints/%d' % resp.json()['Id']).status_code == 204


def test_unreachable_is_500_and_not_persisted(sim):
    name = unique('down')
    before = sim.admin('GET', '/api/endpoints').headers['X-Total-Count']
    resp = sim.create_endpoint(name, 'tcp://127.0.0.1:1')
    status, message, details = error(resp)
    assert (status, message) == (500, 'Unable to initiate communications with environment')
    assert 'Cannot connect to the Docker daemon' in details
    assert error(sim.create_endpoint(name, 'unix:///nonexistent.sock'))[:2] == (500, 'Unable to initiate communications with environment')
    assert error(sim.create_endpoint(name, 'not-a-url'))[:2] == (500, 'Unable to initiate communications with environment')
    assert sim.admin('GET', '/api/endpoints').headers['X-Total-Count'] == before
    assert sim.admin('GET', '/api/endpoints', params={'name': name}).json() == []


def test_create_socket_endpoint(sim, engine_socket):
    name = unique('sock')
    resp = sim.create_endpoint(name, engine_socket, PublicURL='pub.example')
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body['Name'] == name and body['Type'] == 1 and body['URL'] == engine_socket and body['GroupId'] == 1
    assert body['PublicURL'] == 'pub.example' and body['TagIds'] == [] and body['Status'] == 1 and body['Snapshots'] == []
    assert body['TLSConfig'] == {'TLS': False, 'TLSSkipVerify': False}
    assert body['SecuritySettings']['allowBindMountsForRegularUsers'] is True
    assert body['SecuritySettings']['allowVolumeBrowserForRegularUsers'] is False
    # duplicate name: 409, exact case-sensitive match
    assert error(sim.create_endpoint(name, engine_socket)) == (409, 'Name is not unique', 'Name is not unique')
    other = sim.create_endpoint(name.upper(), engine_socket)
    assert other.status_code == 200
    # inspect: snapshot filled, ComposeSyntaxMaxVersion
    got = sim.admin('GET', '/api/endpoints/%d' % body['Id']).json()
    assert got['ComposeSyntaxMaxVersion'] == '3.9'
    assert got['Snapshots'] and got['Snapshots'][0]['DockerVersion']
    assert sim.admin('GET', '/api/endpoints/%d?excludeSnapshot=true' % body['Id']).json()['Snapshots'] == []
    for endpoint_id in (body['Id'], other.json()['Id']):
        assert sim.admin('DELETE', '/api/endpoints/%d' % endpoint_id).status_code == 204


def test_empty_url_defaults_to_socket(sim, engine_socket):
    del engine_socket
    name = unique('default')
    resp = sim.admin('POST', '/api/endpoints', files=form(Name=name, EndpointCreationType=1))
    assert resp.status_code == 200, resp.text
    assert resp.json()['URL'] == 'unix:///var/run/docker.sock'
    assert sim.admin('DELETE', '/api/endpoints/%d' % resp.json()['Id']).status_code == 204


def test_create_tls_endpoint(sim, engine_tls):
    url, ca, cert, key = engine_tls
    name = unique('tls')
    with open(ca, 'rb') as f_ca, open(cert, 'rb') as f_cert, open(key, 'rb') as f_key:
        files = form(Name=name, EndpointCreationType=1, URL=url, TLS='true')
        files.update({'TLSCACertFile': ('ca.pem', f_ca.read()), 'TLSCertFile': ('cert.pem', f_cert.read()),
                      'TLSKeyFile': ('key.pem', f_key.read())})
    resp = sim.admin('POST', '/api/endpoints', files=files)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    endpoint_id = body['Id']
    assert body['TLSConfig'] == {'TLS': True, 'TLSSkipVerify': False, 'TLSCACert': '/data/tls/%d/ca.pem' % endpoint_id,
                                 'TLSCert': '/data/tls/%d/cert.pem' % endpoint_id, 'TLSKey': '/data/tls/%d/key.pem' % endpoint_id}
    assert os.path.exists(os.path.join(sim.data_dir, 'tls', str(endpoint_id), 'key.pem'))
    resp = sim.admin('GET', '/api/endpoints/%d/docker/version' % endpoint_id)
    assert resp.status_code == 200 and resp.json()['ApiVersion']
    # TLS:false clears everything and deletes the files (no re-ping)
    resp = sim.admin('PUT', '/api/endpoints/%d' % endpoint_id, json={'TLS': False})
    assert resp.json()['TLSConfig'] == {'TLS': False, 'TLSSkipVerify': False}
    assert not os.path.exists(os.path.join(sim.data_dir, 'tls', str(endpoint_id)))
    # upload the files again, then switch TLS back on
    for kind, path in (('ca', ca), ('cert', cert), ('key', key)):
        with open(path, 'rb') as handle:
            resp = sim.admin('POST', '/api/upload/tls/' + kind, files={'folder': (None, str(endpoint_id)), 'file': (kind + '.pem', handle.read())})
        assert resp.status_code == 204
    resp = sim.admin('PUT', '/api/endpoints/%d' % endpoint_id, json={'TLS': True, 'TLSSkipVerify': False, 'TLSSkipClientVerify': False})
    assert resp.json()['TLSConfig']['TLSCert'] == '/data/tls/%d/cert.pem' % endpoint_id
    assert sim.admin('GET', '/api/endpoints/%d/docker/_ping' % endpoint_id).text == 'OK'
    assert sim.admin('DELETE', '/api/endpoints/%d' % endpoint_id).status_code == 204


def test_tls_with_wrong_ca_fails(sim, engine_tls):
    url, dummy, cert, key = engine_tls
    with open(cert, 'rb') as f_cert, open(key, 'rb') as f_key:
        files = form(Name=unique('badca'), EndpointCreationType=1, URL=url, TLS='true')
        files.update({'TLSCACertFile': ('ca.pem', f_cert.read()), 'TLSCertFile': ('cert.pem', b'x'), 'TLSKeyFile': ('key.pem', f_key.read())})
    assert error(sim.admin('POST', '/api/endpoints', files=files))[:2] == (500, 'Unable to initiate communications with environment')


def test_upload_tls_errors(sim):
    assert error(sim.admin('POST', '/api/upload/tls/ca', files={'file': ('ca.pem', b'x')}))[:2] == (400, 'Invalid query parameter: folder')
    assert error(sim.admin('POST', '/api/upload/tls/ca', files={'folder': (None, '99')}))[0] == 400
    resp = sim.admin('POST', '/api/upload/tls/other', files={'folder': (None, '99'), 'file': ('x', b'x')})
    assert error(resp)[:2] == (400, 'Invalid certificate route value. Value must be one of: ca, cert or key')


def test_edge_endpoint(sim):
    name = unique('edge')
    resp = sim.admin('POST', '/api/endpoints', files=form(Name=name, EndpointCreationType=4, URL='https://portainer.example:9443'))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body['Type'] == 4 and body['EdgeKey'] and body['EdgeID'] and body['URL'] == 'portainer.example:9443'
    resp = sim.admin('GET', '/api/endpoints/%d/docker/info' % body['Id'])
    assert error(resp)[:2] == (500, 'No Edge agent registered with the environment')
    assert sim.admin('DELETE', '/api/endpoints/%d' % body['Id']).status_code == 204


def test_inspect_errors(sim):
    assert error(sim.admin('GET', '/api/endpoints/999999')) == \
        (404, 'Unable to find an environment with the specified identifier inside the database', 'Object not found inside the database')
    assert error(sim.admin('GET', '/api/endpoints/abc'))[:2] == (400, 'Invalid environment identifier route variable')
    assert error(sim.admin('PUT', '/api/endpoints/999999', json={}))[0] == 404
    assert error(sim.admin('DELETE', '/api/endpoints/999999'))[0] == 404


def test_list_filters(sim, engine_socket):
    tag = sim.admin('POST', '/api/tags', json={'Name': unique('tag')}).json()
    group = sim.admin('POST', '/api/endpoint_groups', json={'Name': unique('group'), 'TagIDs': []}).json()
    names = [unique('list-a'), unique('list-b'), unique('list-c')]
    ids = []
    for index, name in enumerate(names):
        fields = {}
        if index == 0:
            fields['TagIds'] = '[%d]' % tag['ID']
        if index == 1:
            fields['GroupID'] = group['Id']
        resp = sim.create_endpoint(name, engine_socket, **fields)
        assert resp.status_code == 200, resp.text
        ids.append(resp.json()['Id'])
    try:
        resp = sim.admin('GET', '/api/endpoints', params={'name': names[0]})
        assert [e['Id'] for e in resp.json()] == [ids[0]]
        assert resp.headers['X-Total-Count'] == '1'
        assert int(resp.headers['X-Total-Available']) >= 3
        assert sim.admin('GET', '/api/endpoints', params={'name': names[0].upper()}).json() == []
        resp = sim.admin('GET', '/api/endpoints', params={'search': names[1][:-1].upper()})
        assert ids[1] in [e['Id'] for e in resp.json()]
        assert [e['Id'] for e in sim.admin('GET', '/api/endpoints', params={'tagIds[]': tag['ID']}).json()] == [ids[0]]
        assert [e['Id'] for e in sim.admin('GET', '/api/endpoints', params={'groupIds[]': group['Id']}).json()] == [ids[1]]
        resp = sim.admin('GET', '/api/endpoints', params={'endpointIds[]': [ids[0], ids[2]]})
        assert sorted(e['Id'] for e in resp.json()) == sorted([ids[0], ids[2]])
        assert sim.admin('GET', '/api/endpoints', params={'types[]': 4, 'endpointIds[]': ids}).json() == []
        assert len(sim.admin('GET', '/api/endpoints', params={'types[]': [1, 2], 'endpointIds[]': ids}).json()) == 3
        resp = sim.admin('GET', '/api/endpoints', params={'endpointIds[]': ids, 'start': 2, 'limit': 1})
        assert [e['Id'] for e in resp.json()] == [ids[1]] and resp.headers['X-Total-Count'] == '3'
        resp = sim.admin('GET', '/api/endpoints', params={'endpointIds[]': ids, 'excludeSnapshots': 'true'})
        assert all(e['Snapshots'] == [] for e in resp.json())
        resp = sim.admin('GET', '/api/endpoints', params={'endpointIds[]': ids})
        assert all(e['Snapshots'] for e in resp.json())
        assert error(sim.admin('GET', '/api/endpoints', params={'types[]': 'x'}))[:2] == (400, 'Invalid query parameters')
        # the tag knows its endpoint
        tags = {t['ID']: t for t in sim.admin('GET', '/api/tags').json()}
        assert tags[tag['ID']]['Endpoints'] == {str(ids[0]): True}
    finally:
        for endpoint_id in ids:
            sim.admin('DELETE', '/api/endpoints/%d' % endpoint_id)
        sim.admin('DELETE', '/api/tags/%d' % tag['ID'])
        sim.admin('DELETE', '/api/endpoint_groups/%d' % group['Id'])


def test_update_pointer_semantics(sim, engine_socket):
    name = unique('upd')
    endpoint = sim.create_endpoint(name, engine_socket, PublicURL='keep.me').json()
    other = sim.create_endpoint(unique('upd-other'), engine_socket).json()
    try:
        path = '/api/endpoints/%d' % endpoint['Id']
        resp = sim.admin('PUT', path, json={'Name': other['Name']})
        assert error(resp) == (409, 'Name is not unique', 'Name is not unique')
        resp = sim.admin('PUT', path, json={'Name': name})  # own name is fine
        assert resp.status_code == 200
        resp = sim.admin('PUT', path, json={'GroupID': 1, 'Status': 2})
        body = resp.json()
        assert body['PublicURL'] == 'keep.me' and body['Status'] == 2 and body['Name'] == name
        assert error(sim.admin('PUT', path, json={'TagIDs': [999999]}))[:2] == (500, 'Unable to update environment tags')
        assert error(sim.admin('PUT', path, json={'Name': 5}))[:2] == (400, 'Invalid request payload')
    finally:
        sim.admin('DELETE', '/api/endpoints/%d' % endpoint['Id'])
        sim.admin('DELETE', '/api/endpoints/%d' % other['Id'])


def test_unknown_tag_or_group_saved_then_500(sim, engine_socket):
    name = unique('badtag')
    resp = sim.create_endpoint(name, engine_socket, TagIds='[999999]')
    assert error(resp)[:2] == (500, 'An error occurred while trying to create the environment')
    found = sim.admin('GET', '/api/endpoints', params={'name': name}).json()
    assert len(found) == 1
    sim.admin('DELETE', '/api/endpoints/%d' % found[0]['Id'])
    name = unique('badgroup')
    resp = sim.create_endpoint(name, engine_socket, GroupID='999999')
    assert error(resp)[:2] == (500, 'Unable to find an environment group inside the database')
    found = sim.admin('GET', '/api/endpoints', params={'name': name}).json()
    assert len(found) == 1
    sim.admin('DELETE', '/api/endpoints/%d' % found[0]['Id'])


def test_parallel_creates_same_name(sim, engine_socket):
    name = unique('race')
    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        statuses = list(pool.map(lambda _: sim.create_endpoint(name, engine_socket).status_code, range(10)))
    assert sorted(statuses) == [200] + [409] * 9
    found = sim.admin('GET', '/api/endpoints', params={'name': name}).json()
    assert len(found) == 1
    sim.admin('DELETE', '/api/endpoints/%d' % found[0]['Id'])


def test_batch_delete_version_gated(sim_factory, engine_socket):
    old = sim_factory('2.19.0')
    assert old.admin('DELETE', '/api/endpoints', json={'endpoints': [{'id': 1}]}).status_code == 405
    new = sim_factory('2.21.0')
    first = new.create_endpoint(unique('batch'), engine_socket).json()
    resp = new.admin('DELETE', '/api/endpoints', json={'endpoints': [{'id': first['Id'], 'deleteCluster': False}, {'id': 999}]})
    assert resp.status_code == 207
    assert resp.json() == {'deleted': [first['Id']], 'errors': [999]}


def test_snapshot_routes(sim, local_endpoint):
    assert sim.admin('POST', '/api/endpoints/%d/snapshot' % local_endpoint).status_code == 204
    assert sim.admin('POST', '/api/endpoints/snapshot').status_code == 204
    assert error(sim.admin('POST', '/api/endpoints/999999/snapshot'))[0] == 404


def test_groups(sim):
    assert error(sim.admin('POST', '/api/endpoint_groups', json={'Name': ''})) == \
        (400, 'Invalid request payload', 'Invalid environment group name')
    first = sim.admin('POST', '/api/endpoint_groups', json={'Name': 'pier-sim-same', 'Description': 'd'})
    second = sim.admin('POST', '/api/endpoint_groups', json={'Name': 'pier-sim-same'})
    assert first.status_code == second.status_code == 200  # no uniqueness check
    group = first.json()
    for key in ('Id', 'Name', 'Description', 'UserAccessPolicies', 'TeamAccessPolicies', 'TagIds', 'Labels',
                'AuthorizedUsers', 'AuthorizedTeams'):
        assert key in group
    assert sim.admin('GET', '/api/endpoint_groups/%d' % group['Id']).json()['Name'] == 'pier-sim-same'
    resp = sim.admin('PUT', '/api/endpoint_groups/%d' % group['Id'], json={'Description': 'new'})
    assert resp.json()['Description'] == 'new' and resp.json()['Name'] == 'pier-sim-same'
    assert error(sim.admin('DELETE', '/api/endpoint_groups/1')) == \
        (403, "Unable to remove the default 'Unassigned' group", 'Cannot remove the default environment group')
    assert error(sim.admin('GET', '/api/endpoint_groups/999999'))[0] == 404
    for item in (group, second.json()):
        assert sim.admin('DELETE', '/api/endpoint_groups/%d' % item['Id']).status_code == 204
    assert any(g['Id'] == 1 and g['Name'] == 'Unassigned' for g in sim.admin('GET', '/api/endpoint_groups').json())


def test_tags(sim):
    name = unique('tag')
    resp = sim.admin('POST', '/api/tags', json={'Name': name})
    assert resp.status_code == 200
    tag = resp.json()
    assert set(tag) == {'ID', 'Name', 'Endpoints', 'EndpointGroups'}
    assert tag['Endpoints'] == {} and tag['EndpointGroups'] == {}
    assert error(sim.admin('POST', '/api/tags', json={'Name': name})) == \
        (409, 'This name is already associated to a tag', 'A tag already exists with this name')
    assert error(sim.admin('POST', '/api/tags', json={'Name': ''})) == (400, 'Invalid request payload', 'Invalid tag name')
    assert sim.admin('DELETE', '/api/tags/%d' % tag['ID']).status_code == 204
    assert error(sim.admin('DELETE', '/api/tags/%d' % tag['ID']))[0] == 404


@pytest.mark.parametrize('version', ['2.19.0', '2.21.0'])
def test_container_engine_field_version(sim_factory, engine_socket, version):
    instance = sim_factory(version)
    resp = instance.create_endpoint(unique('ce'), engine_socket, ContainerEngine='bogus')
    assert resp.status_code == 200  # ignored before 2.22


def test_container_engine_field_2_23(sim):
    resp = sim.create_endpoint(unique('ce'), 'unix:///var/run/docker.sock', ContainerEngine='bogus')
    assert error(resp) == (400, 'Invalid request payload', "Invalid container engine value. Value must be one of: 'docker' or 'podman'")
