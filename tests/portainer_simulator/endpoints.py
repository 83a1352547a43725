"""Endpoints (environments), endpoint groups, tags and TLS uploads."""

import base64
import json
import os
import shutil
import threading
from urllib.parse import urlsplit

from . import engine, util
from .auth import authenticate, require_admin
from .web import json_response, empty_response, route_int
from .util import ApiError

NOT_FOUND = 'Unable to find an environment with the specified identifier inside the database'
OBJECT_NOT_FOUND = 'Object not found inside the database'
TYPE_ERROR = ('invalid environment type value. Value must be one of: 1 (Docker environment), 2 (Agent environment), '
              '3 (Azure environment), 4 (Edge Agent environment) or 5 (Local Kubernetes environment)')

SECURITY_DEFAULTS = {
    'allowBindMountsForRegularUsers': True, 'allowPrivilegedModeForRegularUsers': True,
    'allowVolumeBrowserForRegularUsers': False, 'allowHostNamespaceForRegularUsers': True,
    'allowDeviceMappingForRegularUsers': True, 'allowStackManagementForRegularUsers': True,
    'allowContainerCapabilitiesForRegularUsers': True, 'allowSysctlSettingForRegularUsers': True,
    'enableHostManagementFeatures': False,
}

_RESERVED = set()
_RESERVED_LOCK = threading.Lock()


# --- helpers used by other modules -----------------------------------------------------------------


def target_for(store, endpoint):
    """engine.Target for an endpoint (raises engine.EngineError for unusable URLs)."""
    tls = endpoint['TLSConfig']
    use_tls = bool(tls.get('TLS') or tls.get('TLSSkipVerify'))
    return engine.Target(
        endpoint['URL'], tls=use_tls, skip_verify=bool(tls.get('TLSSkipVerify')),
        ca=store.real_path(tls.get('TLSCACert')) if tls.get('TLSCACert') else None,
        cert=store.real_path(tls.get('TLSCert')) if tls.get('TLSCert') else None,
        key=store.real_path(tls.get('TLSKey')) if tls.get('TLSKey') else None)


def can_access_endpoint(store, endpoint, auth):
    """Admins see everything; others need a user access policy on the endpoint or its group."""
    if auth.is_admin:
        return True
    key = str(auth.user_id)
    if key in (endpoint.get('UserAccessPolicies') or {}):
        return True
    group = store.get('groups', endpoint.get('GroupId'))
    return bool(group and key in (group.get('UserAccessPolicies') or {}))


def load_endpoint(app, req, ident, message=NOT_FOUND, id_message='Invalid environment identifier route variable'):
    """Endpoint by route id: 400 non-numeric, 404 unknown, 403 no access. Returns a copy."""
    endpoint_id = route_int(ident, id_message)
    with app.store.lock:
        endpoint = app.store.get('endpoints', endpoint_id)
        if endpoint is None:
            raise ApiError(404, message, OBJECT_NOT_FOUND)
        endpoint = json.loads(json.dumps(endpoint))
    if req.auth is not None and not can_access_endpoint(app.store, endpoint, req.auth):
        raise ApiError(403, 'Permission denied to access environment', 'Access denied to environment')
    return endpoint


def endpoint_view(app, endpoint, with_snapshot=False, listing=False):
    """Endpoint JSON as the API returns it."""
    view = json.loads(json.dumps(endpoint))
    tls = view['TLSConfig']
    view['TLSConfig'] = {'TLS': tls.get('TLS', False), 'TLSSkipVerify': tls.get('TLSSkipVerify', False)}
    for key in ('TLSCACert', 'TLSCert', 'TLSKey'):
        if tls.get(key):
            view['TLSConfig'][key] = tls[key]
    view['AzureCredentials'] = {'ApplicationID': '', 'TenantID': '', 'AuthenticationKey': ''}
    if listing:
        view['ComposeSyntaxMaxVersion'] = '3.9'
        if not view.get('EdgeCheckinInterval'):
            view['EdgeCheckinInterval'] = app.store.settings.get('EdgeAgentCheckinInterval', 5)
    if with_snapshot:
        snap = app.store.data['snapshots'].get(str(endpoint['Id']))
        view['Snapshots'] = [snap] if snap else []
    else:
        view['Snapshots'] = []
    if not view.get('EdgeID'):
        view.pop('EdgeID', None)
    if not app.version.container_engine_field and not view.get('ContainerEngine'):
        view['ContainerEngine'] = ''
    return view


def take_snapshot(target):
    """A minimal DockerSnapshot from the engine (raises engine.EngineError)."""
    info = engine.info(target)
    version_status, version = engine.request_json(target, 'GET', '/version')
    if version_status != 200 or not isinstance(version, dict):
        version = {}
    swarm = (info.get('Swarm') or {}).get('LocalNodeState') == 'active' and bool((info.get('Swarm') or {}).get('ControlAvailable'))
    volumes = 0
    status, data = engine.request_json(target, 'GET', '/volumes')
    if status == 200 and isinstance(data, dict):
        volumes = len(data.get('Volumes') or [])
    services = 0
    nodes = 0
    if swarm:
        status, data = engine.request_json(target, 'GET', '/services')
        services = len(data) if status == 200 and isinstance(data, list) else 0
        status, data = engine.request_json(target, 'GET', '/nodes')
        nodes = len(data) if status == 200 and isinstance(data, list) else 0
    return {
        'Time': util.now(), 'DockerVersion': version.get('Version', info.get('ServerVersion', '')), 'Swarm': swarm,
        'TotalCPU': info.get('NCPU', 0), 'TotalMemory': info.get('MemTotal', 0), 'ContainerCount': info.get('Containers', 0),
        'RunningContainerCount': info.get('ContainersRunning', 0), 'StoppedContainerCount': info.get('ContainersStopped', 0),
        'HealthyContainerCount': 0, 'UnhealthyContainerCount': 0, 'VolumeCount': volumes, 'ImageCount': info.get('Images', 0),
        'ServiceCount': services, 'StackCount': 0, 'NodeCount': nodes, 'GpuUseAll': False, 'GpuUseList': [],
        'IsPodman': False, 'DockerSnapshotRaw': {'Containers': None, 'Volumes': {'Volumes': None, 'Warnings': None},
                                                 'Networks': None, 'Images': None, 'Info': {}, 'Version': {}},
    }


def _base_endpoint(name, etype, url, group_id, public_url, tag_ids, gpus, engine_name):
    return {
        'Id': 0, 'Name': name, 'Type': etype, 'ContainerEngine': engine_name, 'URL': url, 'GroupId': group_id,
        'PublicURL': public_url, 'Gpus': gpus, 'TLSConfig': {'TLS': False, 'TLSSkipVerify': False},
        'AzureCredentials': {'ApplicationID': '', 'TenantID': '', 'AuthenticationKey': ''}, 'TagIds': tag_ids,
        'Status': 1, 'Snapshots': [], 'UserAccessPolicies': {}, 'TeamAccessPolicies': {}, 'EdgeKey': '',
        'EdgeCheckinInterval': 0,
        'Kubernetes': {'Snapshots': [], 'Configuration': {'UseLoadBalancer': False, 'UseServerMetrics': False,
                                                          'EnableResourceOverCommit': True, 'ResourceOverCommitPercentage': 20,
                                                          'StorageClasses': None, 'IngressClasses': None,
                                                          'RestrictDefaultNamespace': False, 'IngressAvailabilityPerNamespace': True,
                                                          'AllowNoneIngressClass': False},
                       'Flags': {'IsServerMetricsDetected': False, 'IsServerIngressClassDetected': False,
                                 'IsServerStorageDetected': False}},
        'ComposeSyntaxMaxVersion': '', 'SecuritySettings': dict(SECURITY_DEFAULTS), 'LastCheckInDate': 0, 'QueryDate': 0,
        'Heartbeat': False, 'UserTrusted': False, 'PostInitMigrations': {'MigrateIngresses': True, 'MigrateGPUs': True},
        'Edge': {'AsyncMode': False, 'PingInterval': 0, 'SnapshotInterval': 0, 'CommandInterval': 0},
        'Agent': {'Version': ''}, 'EnableGPUManagement': False, 'AuthorizedUsers': None, 'AuthorizedTeams': None,
        'Tags': None,
    }


def _link_tags(store, endpoint_id, old_ids, new_ids, key='Endpoints'):
    for tag in store.items('tags'):
        if tag['ID'] in old_ids and tag['ID'] not in new_ids:
            tag[key].pop(str(endpoint_id), None)
        if tag['ID'] in new_ids:
            tag[key][str(endpoint_id)] = True


def _name_taken(store, name, exclude_id=0):
    return any(e['Name'] == name and e['Id'] != exclude_id for e in store.items('endpoints'))


# --- create ----------------------------------------------------------------------------------------


def _form_int(form, name, optional=True):
    value = form.value(name)
    if value is None or value == '':
        if optional:
            return 0
        raise ValueError('missing')
    return util.parse_int_strict(value)


def _parse_create_form(app, form):
    payload = {}
    name = form.value('Name')
    if not name:
        raise ApiError(400, 'Invalid request payload', 'invalid environment name')
    payload['Name'] = name
    try:
        ctype = _form_int(form, 'EndpointCreationType', optional=False)
    except ValueError as exc:
        raise ApiError(400, 'Invalid request payload', TYPE_ERROR) from exc
    if ctype == 0:
        raise ApiError(400, 'Invalid request payload', TYPE_ERROR)
    payload['type'] = ctype
    engine_name = form.value('ContainerEngine') or '' if app.version.container_engine_field else ''
    if engine_name not in ('', 'docker', 'podman'):
        raise ApiError(400, 'Invalid request payload', "invalid container engine value. Value must be one of: 'docker' or 'podman'")
    payload['ContainerEngine'] = engine_name
    try:
        group_id = _form_int(form, 'GroupID')
    except ValueError:
        group_id = 0
    payload['GroupID'] = group_id or 1
    tag_ids = []
    raw_tags = form.value('TagIds')
    if raw_tags:
        try:
            tag_ids = json.loads(raw_tags)
            if tag_ids is None:
                tag_ids = []
            if not isinstance(tag_ids, list) or not all(isinstance(t, int) and not isinstance(t, bool) for t in tag_ids):
                raise ValueError('bad tags')
        except ValueError as exc:
            raise ApiError(400, 'Invalid request payload', 'invalid TagIds parameter') from exc
    payload['TagIds'] = tag_ids
    payload['TLS'] = util.go_bool(form.value('TLS'))
    payload['TLSSkipVerify'] = False
    payload['TLSSkipClientVerify'] = False
    payload['files'] = {}
    if payload['TLS']:
        payload['TLSSkipVerify'] = util.go_bool(form.value('TLSSkipVerify'))
        payload['TLSSkipClientVerify'] = util.go_bool(form.value('TLSSkipClientVerify'))
        if not payload['TLSSkipVerify']:
            content = form.file('TLSCACertFile')
            if not content:
                raise ApiError(400, 'Invalid request payload', 'invalid CA certificate file. Ensure that the file is uploaded correctly')
            payload['files']['ca'] = content
        if not payload['TLSSkipClientVerify']:
            content = form.file('TLSCertFile')
            if not content:
                raise ApiError(400, 'Invalid request payload', 'invalid certificate file. Ensure that the file is uploaded correctly')
            payload['files']['cert'] = content
            content = form.file('TLSKeyFile')
            if not content:
                raise ApiError(400, 'Invalid request payload', 'invalid key file. Ensure that the file is uploaded correctly')
            payload['files']['key'] = content
    if ctype == 3:
        for key, text in (('AzureApplicationID', 'invalid Azure application ID'), ('AzureTenantID', 'invalid Azure tenant ID'),
                          ('AzureAuthenticationKey', 'invalid Azure authentication key')):
            if not form.value(key):
                raise ApiError(400, 'Invalid request payload', text)
    elif ctype == 4:
        url = form.value('URL') or ''
        if not url.strip(' '):
            raise ApiError(400, 'Invalid request payload', 'URL cannot be empty')
    payload['URL'] = form.value('URL') or ''
    payload['PublicURL'] = form.value('PublicURL') or ''
    gpus = []
    raw_gpus = form.value('Gpus')
    if raw_gpus:
        try:
            gpus = json.loads(raw_gpus) or []
            if not isinstance(gpus, list):
                raise ValueError('bad gpus')
        except ValueError as exc:
            raise ApiError(400, 'Invalid request payload', 'invalid Gpus parameter') from exc
    payload['Gpus'] = gpus
    try:
        interval = _form_int(form, 'EdgeCheckinInterval')
    except ValueError:
        interval = 0
    if interval == 0:
        try:
            interval = _form_int(form, 'CheckinInterval')
        except ValueError:
            interval = 0
    payload['EdgeCheckinInterval'] = interval
    return payload


def _write_tls_files(store, endpoint_id, files):
    folder = store.tls_dir(endpoint_id)
    os.makedirs(folder, exist_ok=True)
    paths = {}
    for kind, filename in (('ca', 'ca.pem'), ('cert', 'cert.pem'), ('key', 'key.pem')):
        if kind in files:
            path = os.path.join(folder, filename)
            with open(path, 'wb') as handle:
                handle.write(files[kind])
            os.chmod(path, 0o600)
            paths[kind] = store.public_path(path)
    return paths


def _edge_host(url):
    parts = urlsplit(url if '://' in url else 'https://' + url)
    if not parts.hostname:
        raise ApiError(400, 'Unable to parse host', 'Unable to parse host')
    return parts.hostname + (':%d' % parts.port if parts.port else '')


def _persist_new(app, req, endpoint, snapshot=None):
    """Save a new endpoint, then apply the group/tag checks Portainer does after saving."""
    store = app.store
    with store.lock:
        store.items('endpoints').append(endpoint)
        if snapshot:
            store.data['snapshots'][str(endpoint['Id'])] = snapshot
        missing_tag = any(store.get('tags', t, key='ID') is None for t in endpoint['TagIds'])
        _link_tags(store, endpoint['Id'], [], endpoint['TagIds'])
        store.save()
    req.changed = True
    if missing_tag:
        raise ApiError(500, 'An error occurred while trying to create the environment', OBJECT_NOT_FOUND)
    if store.get('groups', endpoint['GroupId']) is None:
        raise ApiError(500, 'Unable to find an environment group inside the database', OBJECT_NOT_FOUND)
    return json_response(endpoint_view(app, endpoint))


def post_endpoint(app, req):
    """POST /api/endpoints (admin, multipart)."""
    authenticate(app, req)
    require_admin(req)
    payload = _parse_create_form(app, req.form())
    name = payload['Name']
    with app.store.lock, _RESERVED_LOCK:
        if _name_taken(app.store, name) or name in _RESERVED:
            raise ApiError(409, 'Name is not unique')
        _RESERVED.add(name)
        endpoint_id = app.store.next_id('endpoints')
    try:
        return _create(app, req, payload, endpoint_id)
    finally:
        with app.store.lock, _RESERVED_LOCK:
            _RESERVED.discard(name)
            if app.store.get('endpoints', endpoint_id) is None and app.store.data['counters'].get('endpoints') == endpoint_id:
                # Portainer's GetNextIdentifier does not consume an id when the creation fails.
                app.store.data['counters']['endpoints'] = endpoint_id - 1


def _create(app, req, payload, endpoint_id):
    ctype = payload['type']
    engine_name = payload['ContainerEngine']
    if ctype == 3:
        raise ApiError(500, 'Unable to authenticate against Azure', 'The simulator cannot reach Azure')
    if ctype == 4:
        host = _edge_host(payload['URL'])
        endpoint = _base_endpoint(payload['Name'], 4, host, payload['GroupID'], payload['PublicURL'], payload['TagIds'],
                                  payload['Gpus'], engine_name)
        endpoint['Id'] = endpoint_id
        edge_key = '%s|%s|%s|%d' % (payload['URL'], host.split(':')[0] + ':8000', 'simulator', endpoint_id)
        endpoint['EdgeKey'] = base64.b64encode(edge_key.encode()).decode().rstrip('=')
        endpoint['EdgeCheckinInterval'] = payload['EdgeCheckinInterval']
        endpoint['UserTrusted'] = True
        if app.store.settings.get('EnforceEdgeID', True):
            endpoint['EdgeID'] = util.new_uuid()
        return _persist_new(app, req, endpoint)
    if ctype == 5:
        raise ApiError(500, 'Unable to initiate communications with environment', 'The simulator has no local Kubernetes')
    if ctype not in (1, 2):
        ctype = 1
    url = payload['URL']
    if not url and ctype == 1 and not payload['TLS']:
        url = 'unix:///var/run/docker.sock'
    endpoint = _base_endpoint(payload['Name'], 2 if (ctype == 2 and payload['TLS']) else 1, url, payload['GroupID'],
                              payload['PublicURL'], payload['TagIds'], payload['Gpus'], engine_name)
    endpoint['Id'] = endpoint_id
    if payload['TLS']:
        paths = _write_tls_files(app.store, endpoint_id, payload['files'])
        endpoint['TLSConfig'] = {'TLS': True, 'TLSSkipVerify': payload['TLSSkipVerify']}
        for kind, key in (('ca', 'TLSCACert'), ('cert', 'TLSCert'), ('key', 'TLSKey')):
            if kind in paths:
                endpoint['TLSConfig'][key] = paths[kind]
    snapshot = None
    try:
        target = target_for(app.store, endpoint)
        engine.ping(target)
        snapshot = take_snapshot(target)
    except engine.EngineError as exc:
        if ctype == 2:
            raise ApiError(500, 'Unable to get environment type', str(exc)) from exc
        raise ApiError(500, 'Unable to initiate communications with environment', str(exc)) from exc
    if ctype == 2:
        endpoint['Agent'] = {'Version': 'simulated'}
    if not endpoint['ContainerEngine']:
        endpoint['ContainerEngine'] = 'docker'
    return _persist_new(app, req, endpoint, snapshot)


# --- list / inspect / update / delete --------------------------------------------------------------


def _array_param(req, form_values, name):
    values = list(req.query.get(name + '[]', [])) + list(form_values.get(name + '[]', []))
    result = []
    for item in values:
        try:
            result.append(util.parse_int_strict(item))
        except ValueError as exc:
            raise ApiError(400, 'Invalid query parameters', 'Unable to parse parameter %s: %s' % (name, exc)) from exc
    return result


def _search_match(store, endpoint, groups, tags, needle):
    needle = needle.lower()
    if needle in endpoint['Name'].lower() or needle in endpoint['URL'].lower():
        return True
    if any(needle in tags.get(t, '').lower() for t in endpoint['TagIds']):
        return True
    group = groups.get(endpoint['GroupId'])
    if group and (needle in group['Name'].lower() or any(needle in tags.get(t, '').lower() for t in group['TagIds'])):
        return True
    del store
    return False


def _tags_match(endpoint, group, tag_ids, partial):
    have = set(endpoint['TagIds']) | set(group['TagIds'] if group else [])
    if partial:
        return bool(have & set(tag_ids))
    return set(tag_ids) <= have


def get_endpoints(app, req):
    """GET /api/endpoints with Portainer's filters and pagination headers."""
    authenticate(app, req)
    form_values = {}
    ctype = (req.headers.get('Content-Type') or '').lower()
    if ctype.startswith('application/x-www-form-urlencoded'):
        form_values = util.parse_form(ctype, req.body, {}).body_values
    types = _array_param(req, form_values, 'types')
    group_ids = _array_param(req, form_values, 'groupIds')
    tag_ids = _array_param(req, form_values, 'tagIds')
    endpoint_ids = _array_param(req, form_values, 'endpointIds')
    exclude_ids = _array_param(req, form_values, 'excludeIds')
    statuses = _array_param(req, form_values, 'status')
    query = {k: v[0] for k, v in req.query.items() if v}
    try:
        start = util.parse_int_strict(query.get('start', '0') or '0')
    except ValueError:
        start = 0
    try:
        limit = util.parse_int_strict(query.get('limit', '0') or '0')
    except ValueError:
        limit = 0
    if start:
        start -= 1
    with app.store.lock:
        endpoints = [e for e in app.store.items('endpoints') if can_access_endpoint(app.store, e, req.auth)]
        groups = {g['Id']: g for g in app.store.items('groups')}
        tags = {t['ID']: t['Name'] for t in app.store.items('tags')}
        total_available = len(endpoints)
        if endpoint_ids:
            endpoints = [e for e in endpoints if e['Id'] in endpoint_ids]
        if exclude_ids:
            endpoints = [e for e in endpoints if e['Id'] not in exclude_ids]
        if group_ids:
            endpoints = [e for e in endpoints if e['GroupId'] in group_ids]
        if query.get('name'):
            endpoints = [e for e in endpoints if e['Name'] == query['name']]
        untrusted = util.go_bool(query.get('edgeDeviceUntrusted'))
        endpoints = [e for e in endpoints if e['Type'] not in (4, 7) or e.get('UserTrusted', True) == (not untrusted)]
        if statuses:
            endpoints = [e for e in endpoints if e['Status'] in statuses]
        if query.get('search'):
            endpoints = [e for e in endpoints if _search_match(app.store, e, groups, tags, query['search'])]
        if types:
            endpoints = [e for e in endpoints if e['Type'] in types]
        if tag_ids:
            partial = util.go_bool(query.get('tagsPartialMatch'))
            endpoints = [e for e in endpoints if _tags_match(e, groups.get(e['GroupId']), tag_ids, partial)]
        sort_key = query.get('sort', '')
        if sort_key in ('Name', 'Group', 'Status', 'LastCheckIn', 'EdgeID'):
            keyfunc = {
                'Name': lambda e: e['Name'].lower(),
                'Group': lambda e: (groups.get(e['GroupId']) or {}).get('Name', '').lower(),
                'Status': lambda e: e['Status'],
                'LastCheckIn': lambda e: e.get('LastCheckInDate', 0),
                'EdgeID': lambda e: e.get('EdgeID', ''),
            }[sort_key]
            endpoints = sorted(endpoints, key=keyfunc, reverse=query.get('order') == 'desc')
        count = len(endpoints)
        if limit:
            endpoints = endpoints[start:start + limit]
        exclude = util.go_bool(query.get('excludeSnapshots'))
        views = [endpoint_view(app, e, with_snapshot=not exclude, listing=True) for e in endpoints]
    return json_response(views, headers=[('X-Total-Count', str(count)), ('X-Total-Available', str(total_available))])


def get_endpoint(app, req, ident):
    """GET /api/endpoints/{id}."""
    authenticate(app, req)
    endpoint = load_endpoint(app, req, ident)
    exclude = util.go_bool(req.query.get('excludeSnapshot', [''])[0])
    with app.store.lock:
        return json_response(endpoint_view(app, endpoint, with_snapshot=not exclude, listing=True))


def _opt(data, key, kind):
    return util.field(data, key, kind, None)


def put_endpoint(app, req, ident):
    """PUT /api/endpoints/{id} (admin, JSON, pointer semantics)."""
    authenticate(app, req)
    require_admin(req)
    endpoint_id = route_int(ident, 'Invalid environment identifier route variable')
    data = util.decode_json_body(req.body)
    if not isinstance(data, dict):
        raise util.json_type_error('', 'endpoints.endpointUpdatePayload', data)
    name = _opt(data, 'Name', str)
    url = _opt(data, 'URL', str)
    public_url = _opt(data, 'PublicURL', str)
    group_id = _opt(data, 'GroupID', int)
    tag_ids = _opt(data, 'TagIDs', list)
    if tag_ids is not None and not all(isinstance(t, int) and not isinstance(t, bool) for t in tag_ids):
        raise util.json_type_error('TagIDs', '[]portainer.TagID', tag_ids)
    use_tls = _opt(data, 'TLS', bool)
    skip_verify = _opt(data, 'TLSSkipVerify', bool)
    skip_client = _opt(data, 'TLSSkipClientVerify', bool)
    status = _opt(data, 'Status', int)
    gpus = _opt(data, 'Gpus', list)
    interval = _opt(data, 'EdgeCheckinInterval', int)
    user_policies = _opt(data, 'UserAccessPolicies', dict)
    team_policies = _opt(data, 'TeamAccessPolicies', dict)
    with app.store.lock:
        endpoint = app.store.get('endpoints', endpoint_id)
        if endpoint is None:
            raise ApiError(404, NOT_FOUND, OBJECT_NOT_FOUND)
        if name is not None:
            if _name_taken(app.store, name, endpoint_id):
                raise ApiError(409, 'Name is not unique')
            endpoint['Name'] = name
        if url is not None:
            endpoint['URL'] = url
        if gpus is not None:
            endpoint['Gpus'] = gpus
        if public_url is not None:
            endpoint['PublicURL'] = public_url
        if interval is not None:
            endpoint['EdgeCheckinInterval'] = interval
        if group_id is not None:
            endpoint['GroupId'] = group_id
        if tag_ids is not None:
            if any(app.store.get('tags', t, key='ID') is None for t in tag_ids):
                app.store.save()
                raise ApiError(500, 'Unable to update environment tags', OBJECT_NOT_FOUND)
            _link_tags(app.store, endpoint_id, endpoint['TagIds'], tag_ids)
            endpoint['TagIds'] = tag_ids
        if user_policies is not None:
            endpoint['UserAccessPolicies'] = user_policies
        if team_policies is not None:
            endpoint['TeamAccessPolicies'] = team_policies
        if status in (1, 2):
            endpoint['Status'] = status
        if use_tls is not None:
            _update_tls(app.store, endpoint, use_tls, skip_verify, skip_client)
        app.store.save()
        req.changed = True
        return json_response(endpoint_view(app, endpoint, with_snapshot=True))


def _update_tls(store, endpoint, use_tls, skip_verify, skip_client):
    folder = store.tls_dir(endpoint['Id'])
    tls = endpoint['TLSConfig']
    if use_tls:
        tls['TLS'] = True
        if skip_verify is not None:
            tls['TLSSkipVerify'] = skip_verify
            if not skip_verify:
                tls['TLSCACert'] = store.public_path(os.path.join(folder, 'ca.pem'))
            else:
                tls.pop('TLSCACert', None)
                _unlink(os.path.join(folder, 'ca.pem'))
        if skip_client is not None:
            if not skip_client:
                tls['TLSCert'] = store.public_path(os.path.join(folder, 'cert.pem'))
                tls['TLSKey'] = store.public_path(os.path.join(folder, 'key.pem'))
            else:
                tls.pop('TLSCert', None)
                tls.pop('TLSKey', None)
                _unlink(os.path.join(folder, 'cert.pem'))
                _unlink(os.path.join(folder, 'key.pem'))
    else:
        endpoint['TLSConfig'] = {'TLS': False, 'TLSSkipVerify': False}
        shutil.rmtree(folder, ignore_errors=True)


def _unlink(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _delete_one(app, endpoint_id):
    with app.store.lock:
        endpoint = app.store.remove('endpoints', endpoint_id)
        if endpoint is None:
            return False
        app.store.data['snapshots'].pop(str(endpoint_id), None)
        _link_tags(app.store, endpoint_id, endpoint['TagIds'], [])
        app.store.save()
    shutil.rmtree(app.store.tls_dir(endpoint_id), ignore_errors=True)
    return True


def delete_endpoint(app, req, ident):
    """DELETE /api/endpoints/{id} (admin). Stacks stay and become orphaned."""
    authenticate(app, req)
    require_admin(req)
    endpoint_id = route_int(ident, 'Invalid environment identifier route variable')
    if not _delete_one(app, endpoint_id):
        raise ApiError(404, NOT_FOUND, OBJECT_NOT_FOUND)
    req.changed = True
    return empty_response()


def delete_endpoints_batch(app, req):
    """DELETE /api/endpoints (2.21+): {"endpoints":[{"id":n,"deleteCluster":false}]}."""
    authenticate(app, req)
    require_admin(req)
    data = util.decode_json_body(req.body)
    items = util.field(data, 'endpoints', list, []) if isinstance(data, dict) else None
    if not items:
        raise ApiError(400, 'Invalid request payload', 'invalid environment IDs')
    deleted, errors = [], []
    for item in items:
        endpoint_id = util.ci_get(item, 'id') if isinstance(item, dict) else None
        if isinstance(endpoint_id, int) and _delete_one(app, endpoint_id):
            deleted.append(endpoint_id)
            req.changed = True
        else:
            errors.append(endpoint_id)
    if errors:
        return json_response({'deleted': deleted, 'errors': errors}, status=207)
    return empty_response()


def post_endpoint_snapshot(app, req, ident):
    """POST /api/endpoints/{id}/snapshot (admin): 204; failure only marks the endpoint down."""
    authenticate(app, req)
    require_admin(req)
    endpoint = load_endpoint(app, req, ident)
    if endpoint['Type'] in (3, 4, 7):
        raise ApiError(400, 'Snapshots not supported for this environment')
    _refresh_snapshot(app, endpoint)
    req.changed = True
    return empty_response()


def _refresh_snapshot(app, endpoint):
    try:
        snapshot = take_snapshot(target_for(app.store, endpoint))
        status = 1
    except engine.EngineError:
        snapshot, status = None, 2
    with app.store.lock:
        live = app.store.get('endpoints', endpoint['Id'])
        if live is not None:
            live['Status'] = status
            if snapshot:
                app.store.data['snapshots'][str(endpoint['Id'])] = snapshot
            app.store.save()


def post_endpoints_snapshot(app, req):
    """POST /api/endpoints/snapshot (admin): snapshot every Docker endpoint."""
    authenticate(app, req)
    require_admin(req)
    with app.store.lock:
        endpoints = [dict(e) for e in app.store.items('endpoints') if e['Type'] in (1, 2)]
    for endpoint in endpoints:
        _refresh_snapshot(app, endpoint)
    req.changed = bool(endpoints)
    return empty_response()


def get_endpoint_registries(app, req, ident):
    """GET /api/endpoints/{id}/registries."""
    authenticate(app, req)
    load_endpoint(app, req, ident)
    from .registries import registry_view  # pylint: disable=import-outside-toplevel
    with app.store.lock:
        return json_response([registry_view(r) for r in app.store.items('registries')])


def put_endpoint_settings(app, req, ident):
    """PUT /api/endpoints/{id}/settings: security settings."""
    authenticate(app, req)
    require_admin(req)
    endpoint_id = route_int(ident, 'Invalid environment identifier route variable')
    data = util.decode_json_body(req.body)
    if not isinstance(data, dict):
        raise util.json_type_error('', 'endpoints.endpointSettingsUpdatePayload', data)
    with app.store.lock:
        endpoint = app.store.get('endpoints', endpoint_id)
        if endpoint is None:
            raise ApiError(404, NOT_FOUND, OBJECT_NOT_FOUND)
        for key in SECURITY_DEFAULTS:
            value = util.field(data, key, bool)
            if value is not None:
                endpoint['SecuritySettings'][key] = value
        app.store.save()
        req.changed = True
        return json_response(endpoint_view(app, endpoint))


# --- TLS upload ------------------------------------------------------------------------------------


def post_upload_tls(app, req, certificate):
    """POST /api/upload/tls/{ca|cert|key} (admin, multipart folder + file)."""
    authenticate(app, req)
    require_admin(req)
    form = req.form()
    folder = form.value('folder')
    if not folder:
        raise ApiError(400, 'Invalid query parameter: folder', 'Missing form data value')
    content = form.file('file')
    if not content:
        raise ApiError(400, 'Invalid certificate file. Ensure that the certificate file is uploaded correctly', 'Missing form data file')
    names = {'ca': 'ca.pem', 'cert': 'cert.pem', 'key': 'key.pem'}
    if certificate not in names:
        raise ApiError(400, 'Invalid certificate route value. Value must be one of: ca, cert or key', 'Undefined TLS file type')
    if '/' in folder or folder in ('.', '..'):
        raise ApiError(500, 'Unable to persist certificate file on disk', 'invalid folder')
    directory = app.store.tls_dir(folder)
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, names[certificate])
    with open(path, 'wb') as handle:
        handle.write(content)
    os.chmod(path, 0o600)
    req.changed = True
    return empty_response()


# --- endpoint groups -------------------------------------------------------------------------------

GROUP_NOT_FOUND = 'Unable to find an environment group with the specified identifier inside the database'


def _group_payload(data, creating):
    if not isinstance(data, dict):
        raise util.json_type_error('', 'endpointgroups.endpointGroupCreatePayload', data)
    name = util.field(data, 'Name', str, None)
    if creating and not name:
        raise ApiError(400, 'Invalid request payload', 'invalid environment group name')
    tag_ids = util.field(data, 'TagIDs', list, None)
    if tag_ids is not None and not all(isinstance(t, int) and not isinstance(t, bool) for t in tag_ids):
        raise util.json_type_error('TagIDs', '[]portainer.TagID', tag_ids)
    associated = util.field(data, 'AssociatedEndpoints', list, None)
    return name, util.field(data, 'Description', str, None), tag_ids, associated


def post_group(app, req):
    """POST /api/endpoint_groups (admin)."""
    authenticate(app, req)
    require_admin(req)
    name, description, tag_ids, associated = _group_payload(util.decode_json_body(req.body), True)
    with app.store.lock:
        group = {'Id': app.store.next_id('groups'), 'Name': name, 'Description': description or '', 'Labels': [],
                 'UserAccessPolicies': {}, 'TeamAccessPolicies': {}, 'TagIds': tag_ids or [],
                 'AuthorizedUsers': None, 'AuthorizedTeams': None}
        app.store.items('groups').append(group)
        for endpoint in app.store.items('endpoints'):
            if endpoint['Id'] in (associated or []) and endpoint['GroupId'] == 1:
                endpoint['GroupId'] = group['Id']
        missing = any(app.store.get('tags', t, key='ID') is None for t in group['TagIds'])
        _link_tags(app.store, group['Id'], [], group['TagIds'], key='EndpointGroups')
        app.store.save()
        req.changed = True
        if missing:
            raise ApiError(500, 'Unable to find a tag inside the database', OBJECT_NOT_FOUND)
        return json_response(group)


def get_groups(app, req):
    """GET /api/endpoint_groups."""
    authenticate(app, req)
    with app.store.lock:
        groups = [dict(g) for g in app.store.items('groups')
                  if req.auth.is_admin or str(req.auth.user_id) in (g.get('UserAccessPolicies') or {})]
    return json_response(groups)


def _load_group(app, ident):
    group_id = route_int(ident, 'Invalid environment group identifier route variable')
    group = app.store.get('groups', group_id)
    if group is None:
        raise ApiError(404, GROUP_NOT_FOUND, OBJECT_NOT_FOUND)
    return group


def get_group(app, req, ident):
    """GET /api/endpoint_groups/{id} (admin)."""
    authenticate(app, req)
    require_admin(req)
    with app.store.lock:
        return json_response(dict(_load_group(app, ident)))


def put_group(app, req, ident):
    """PUT /api/endpoint_groups/{id} (admin)."""
    authenticate(app, req)
    require_admin(req)
    data = util.decode_json_body(req.body)
    name, description, tag_ids, dummy = _group_payload(data, False)
    user_policies = util.field(data, 'UserAccessPolicies', dict, None)
    team_policies = util.field(data, 'TeamAccessPolicies', dict, None)
    with app.store.lock:
        group = _load_group(app, ident)
        if name:
            group['Name'] = name
        if description is not None:
            group['Description'] = description
        if tag_ids is not None:
            if any(app.store.get('tags', t, key='ID') is None for t in tag_ids):
                raise ApiError(500, 'Unable to find a tag inside the database', OBJECT_NOT_FOUND)
            _link_tags(app.store, group['Id'], group['TagIds'], tag_ids, key='EndpointGroups')
            group['TagIds'] = tag_ids
        if user_policies is not None:
            group['UserAccessPolicies'] = user_policies
        if team_policies is not None:
            group['TeamAccessPolicies'] = team_policies
        app.store.save()
        req.changed = True
        return json_response(dict(group))


def delete_group(app, req, ident):
    """DELETE /api/endpoint_groups/{id} (admin); its endpoints go back to group 1."""
    authenticate(app, req)
    require_admin(req)
    group_id = route_int(ident, 'Invalid environment group identifier route variable')
    if group_id == 1:
        raise ApiError(403, "Unable to remove the default 'Unassigned' group", 'Cannot remove the default environment group')
    with app.store.lock:
        group = _load_group(app, ident)
        app.store.remove('groups', group_id)
        for endpoint in app.store.items('endpoints'):
            if endpoint['GroupId'] == group_id:
                endpoint['GroupId'] = 1
        _link_tags(app.store, group_id, group['TagIds'], [], key='EndpointGroups')
        app.store.save()
    req.changed = True
    return empty_response()


def put_group_endpoint(app, req, ident, endpoint_ident):
    """PUT /api/endpoint_groups/{id}/endpoints/{endpointId} (admin)."""
    authenticate(app, req)
    require_admin(req)
    with app.store.lock:
        group = _load_group(app, ident)
        endpoint_id = route_int(endpoint_ident, 'Invalid environment identifier route variable')
        endpoint = app.store.get('endpoints', endpoint_id)
        if endpoint is None:
            raise ApiError(404, NOT_FOUND, OBJECT_NOT_FOUND)
        endpoint['GroupId'] = group['Id']
        app.store.save()
    req.changed = True
    return empty_response()


def delete_group_endpoint(app, req, ident, endpoint_ident):
    """DELETE /api/endpoint_groups/{id}/endpoints/{endpointId} (admin)."""
    authenticate(app, req)
    require_admin(req)
    with app.store.lock:
        _load_group(app, ident)
        endpoint_id = route_int(endpoint_ident, 'Invalid environment identifier route variable')
        endpoint = app.store.get('endpoints', endpoint_id)
        if endpoint is None:
            raise ApiError(404, NOT_FOUND, OBJECT_NOT_FOUND)
        endpoint['GroupId'] = 1
        app.store.save()
    req.changed = True
    return empty_response()


# --- tags ------------------------------------------------------------------------------------------


def post_tag(app, req):
    """POST /api/tags (admin)."""
    authenticate(app, req)
    require_admin(req)
    data = util.decode_json_body(req.body)
    if not isinstance(data, dict):
        raise util.json_type_error('', 'tags.tagCreatePayload', data)
    name = util.field(data, 'Name', str, '')
    if not name:
        raise ApiError(400, 'Invalid request payload', 'invalid tag name')
    with app.store.lock:
        if any(t['Name'] == name for t in app.store.items('tags')):
            raise ApiError(409, 'This name is already associated to a tag', 'a tag already exists with this name')
        tag = {'ID': app.store.next_id('tags'), 'Name': name, 'Endpoints': {}, 'EndpointGroups': {}}
        app.store.items('tags').append(tag)
        app.store.save()
        req.changed = True
        return json_response(tag)


def get_tags(app, req):
    """GET /api/tags."""
    authenticate(app, req)
    with app.store.lock:
        return json_response([dict(t) for t in app.store.items('tags')])


def delete_tag(app, req, ident):
    """DELETE /api/tags/{id} (admin)."""
    authenticate(app, req)
    require_admin(req)
    tag_id = route_int(ident, 'Invalid tag identifier route variable')
    with app.store.lock:
        if app.store.remove('tags', tag_id, key='ID') is None:
            raise ApiError(404, 'Unable to find a tag with the specified identifier inside the database', OBJECT_NOT_FOUND)
        for item in app.store.items('endpoints') + app.store.items('groups'):
            if tag_id in item['TagIds']:
                item['TagIds'] = [t for t in item['TagIds'] if t != tag_id]
        app.store.save()
    req.changed = True
    return empty_response()


ROUTES = [
    ('POST', r'/api/endpoints', post_endpoint),
    ('GET', r'/api/endpoints', get_endpoints),
    ('POST', r'/api/endpoints/snapshot', post_endpoints_snapshot),
    ('GET', r'/api/endpoints/(?P<ident>[^/]+)', get_endpoint),
    ('PUT', r'/api/endpoints/(?P<ident>[^/]+)', put_endpoint),
    ('DELETE', r'/api/endpoints/(?P<ident>[^/]+)', delete_endpoint),
    ('POST', r'/api/endpoints/(?P<ident>[^/]+)/snapshot', post_endpoint_snapshot),
    ('GET', r'/api/endpoints/(?P<ident>[^/]+)/registries', get_endpoint_registries),
    ('PUT', r'/api/endpoints/(?P<ident>[^/]+)/settings', put_endpoint_settings),
    ('POST', r'/api/upload/tls/(?P<certificate>[^/]+)', post_upload_tls),
    ('POST', r'/api/endpoint_groups', post_group),
    ('GET', r'/api/endpoint_groups', get_groups),
    ('GET', r'/api/endpoint_groups/(?P<ident>[^/]+)', get_group),
    ('PUT', r'/api/endpoint_groups/(?P<ident>[^/]+)', put_group),
    ('DELETE', r'/api/endpoint_groups/(?P<ident>[^/]+)', delete_group),
    ('PUT', r'/api/endpoint_groups/(?P<ident>[^/]+)/endpoints/(?P<endpoint_ident>[^/]+)', put_group_endpoint),
    ('DELETE', r'/api/endpoint_groups/(?P<ident>[^/]+)/endpoints/(?P<endpoint_ident>[^/]+)', delete_group_endpoint),
    ('POST', r'/api/tags', post_tag),
    ('GET', r'/api/tags', get_tags),
    ('DELETE', r'/api/tags/(?P<ident>[^/]+)', delete_tag),
]


def version_routes(version):
    """Routes that exist only in some versions."""
    if version.batch_endpoint_delete:
        return [('DELETE', r'/api/endpoints', delete_endpoints_batch)]
    return []
