"""Stacks: create (string/file/repository, swarm/standalone, legacy route), list, inspect, file, update,
git settings and redeploy, start/stop, delete (incl. external), webhooks, and the optional auto-update poller."""

import json
import logging
import os
import re
import shutil
import threading
import time
from urllib.parse import quote

from . import engine, resources, util
from .auth import authenticate
from .deploy import DeployError
from .endpoints import can_access_endpoint, target_for
from .web import json_response, empty_response, route_int, query_int
from .util import ApiError

LOG = logging.getLogger('portainer_simulator')

SWARM = 1
COMPOSE = 2
KUBERNETES = 3
ACTIVE = 1
INACTIVE = 2
STACK_NOT_FOUND = 'Unable to find a stack with the specified identifier inside the database'
ENDPOINT_OF_STACK = 'Unable to find the environment associated to the stack inside the database'
ENDPOINT_NOT_FOUND = 'Unable to find an environment with the specified identifier inside the database'
OBJECT_NOT_FOUND = 'Object not found inside the database'
METHOD_ERROR = 'Invalid value for query parameter: method. Value must be one of: string, repository or file'
TYPE_ERROR = 'Invalid value for query parameter: type. Value must be one of: 1 (Swarm stack) or 2 (Compose stack)'

_ENDPOINT_LOCKS = {}
_ENDPOINT_LOCKS_GUARD = threading.Lock()


def endpoint_lock(endpoint_id):
    """Serialises stack operations per endpoint (uniqueness checks + deploys)."""
    with _ENDPOINT_LOCKS_GUARD:
        return _ENDPOINT_LOCKS.setdefault(endpoint_id, threading.RLock())


def normalize_name(name):
    """Lower-case, then drop every character outside [-_a-z0-9] (2.5+)."""
    return re.sub(r'[^-_a-z0-9]', '', (name or '').lower())


def rc_id(endpoint_id, name):
    """Stack RC ResourceId (2.5+)."""
    return '%d_%s' % (endpoint_id, name)


def stack_view(app, stack):
    """Stack JSON: RC decorated, git password blanked."""
    view = json.loads(json.dumps(stack))
    git = view.get('GitConfig')
    if git and git.get('Authentication'):
        git['Authentication']['Password'] = ''
    view['ResourceControl'] = resources.find(app.store, rc_id(stack['EndpointId'], stack['Name']), resources.STACK)
    return view


def _is_url(value):
    if not value or re.search(r'\s', value):
        return False
    return bool(re.match(r'^([a-zA-Z][a-zA-Z0-9+.-]*://)?(\w[^@/]*@)?[\w.-]+(:\d+)?(/.*)?$', value)) and (
        '://' in value or '.' in value.split('/')[0])


# --- docker checks ---------------------------------------------------------------------------------


def _docker_names(target, name, swarm):
    """True when Docker already has a compose project (or, for swarm, a stack) of that name."""
    label = quote(json.dumps({'label': ['com.docker.compose.project=%s' % name]}))
    if swarm:
        slabel = quote(json.dumps({'label': ['com.docker.stack.namespace=%s' % name]}))
        status, data = engine.request_json(target, 'GET', '/services?filters=' + slabel)
        if status != 200:
            raise engine.EngineError('service list failed: %s' % ((data or {}).get('message') if isinstance(data, dict) else status))
        if data:
            return True
    status, data = engine.request_json(target, 'GET', '/containers/json?all=1&filters=' + label)
    if status != 200:
        raise engine.EngineError('container list failed: %s' % status)
    return bool(data)


def unique_in_docker(app, endpoint, name, stack_id, swarm):
    """checkUniqueStackNameInDocker: records on this endpoint, then Docker labels."""
    with app.store.lock:
        unique = not any(s['Name'].lower() == name.lower() and (stack_id == 0 or s['Id'] != stack_id) and s['EndpointId'] == endpoint['Id']
                         for s in app.store.items('stacks'))
    try:
        if _docker_names(target_for(app.store, endpoint), name, swarm):
            return False
    except engine.EngineError as exc:
        raise ApiError(500, 'Unable to check for name collision', str(exc)) from exc
    return unique


def _exists_error(app, name):
    if app.version.normalized_name_message:
        text = "A stack with the normalized name '%s' already exists" % name
    else:
        text = "A stack with the name '%s' already exists" % name
    return ApiError(409, text, text)


# --- files and deploys -----------------------------------------------------------------------------


def _write_env_file(project_dir, entry_point, env):
    lines = []
    dotenv = os.path.join(project_dir, os.path.dirname(entry_point or ''), '.env')
    if entry_point and os.path.isfile(dotenv):
        with open(dotenv, encoding='utf-8', errors='replace') as handle:
            content = handle.read()
        lines.append(content if content.endswith('\n') or not content else content + '\n')
    for pair in env or []:
        lines.append('%s=%s\n' % (pair['name'], pair['value']))
    path = os.path.join(project_dir, 'stack.env')
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write(''.join(lines))
    return path


def _files(project_dir, stack):
    files = [os.path.join(project_dir, stack['EntryPoint'] or '')]
    files += [os.path.join(project_dir, extra) for extra in stack.get('AdditionalFiles') or []]
    return files


def deploy_stack(app, stack, endpoint, pull=False, prune=False, force_recreate=False):
    """Deploy for real; raises ApiError(500, stderr)."""
    project_dir = app.store.compose_dir(stack['Id'])
    try:
        target = target_for(app.store, endpoint)
        if stack['Type'] == SWARM:
            app.deployer.swarm_deploy(target, stack['Name'], _files(project_dir, stack), stack.get('Env'),
                                      prune=prune, pull=pull, cwd=project_dir)
        else:
            env_file = _write_env_file(project_dir, stack['EntryPoint'], stack.get('Env'))
            app.deployer.compose_up(target, stack['Name'], project_dir, _files(project_dir, stack), env_file,
                                    force_recreate=force_recreate, pull=pull)
    except (DeployError, engine.EngineError) as exc:
        raise ApiError(500, str(exc), str(exc)) from exc


def remove_stack(app, stack, endpoint):
    """docker stack rm / compose down --remove-orphans; raises DeployError or EngineError."""
    target = target_for(app.store, endpoint)
    if stack['Type'] == SWARM:
        app.deployer.swarm_remove(target, stack['Name'])
        return
    project_dir = app.store.compose_dir(stack['Id']) if stack.get('Id') else ''
    files = _files(project_dir, stack) if project_dir and os.path.isdir(project_dir) else []
    files = [f for f in files if os.path.isfile(f)]
    if not files:
        project_dir = os.path.join(app.store.data_dir, 'compose', '.empty')
        os.makedirs(project_dir, exist_ok=True)
        stub = os.path.join(project_dir, 'docker-compose.yml')
        if not os.path.exists(stub):
            with open(stub, 'w', encoding='utf-8') as handle:
                handle.write('version: "3"\nservices: {}\n')
        files = [stub]
    env_file = os.path.join(project_dir, 'stack.env')
    app.deployer.compose_down(target, stack['Name'], project_dir, files, env_file)


# --- create ----------------------------------------------------------------------------------------


def _new_stack(app, stack_id, name, stype, endpoint_id, swarm_id, env, auth, entry_point='docker-compose.yml'):
    return {
        'Id': stack_id, 'Name': name, 'Type': stype, 'EndpointId': endpoint_id, 'SwarmId': swarm_id,
        'EntryPoint': entry_point, 'Env': env, 'ResourceControl': None, 'Status': ACTIVE,
        'ProjectPath': app.store.public_path(app.store.compose_dir(stack_id)), 'CreationDate': util.now(),
        'CreatedBy': auth.user['Username'], 'UpdateDate': 0, 'UpdatedBy': '', 'AdditionalFiles': None,
        'AutoUpdate': None, 'Option': None, 'GitConfig': None, 'FromAppTemplate': False, 'Namespace': '',
        'IsComposeFormat': False, 'SupportRelativePath': False, 'FilesystemPath': '', 'StackFileVersion': 0,
        'PreviousDeploymentInfo': None,
    }


def _env_from_form(form):
    raw = form.value('Env')
    if not raw:
        return None
    try:
        data = json.loads(raw)
        return util.env_pairs(data)
    except (ValueError, ApiError) as exc:
        raise ApiError(400, 'Invalid request payload', 'Invalid Env parameter') from exc


def _parse_payload(req, stype, method):
    """Validate a create body; returns a dict of normalised fields."""
    swarm = stype == SWARM
    if method == 'file':
        form = req.form()
        name = form.value('Name') or ''
        if not name:
            raise ApiError(400, 'Invalid request payload', 'Invalid stack name')
        swarm_id = form.value('SwarmID') or ''
        if swarm and not swarm_id:
            raise ApiError(400, 'Invalid request payload', 'Invalid Swarm ID')
        content = form.file('file')
        if not content:
            raise ApiError(400, 'Invalid request payload', 'Invalid Compose file. Ensure that the Compose file is uploaded correctly')
        env = _env_from_form(form)
        return {'Name': name, 'SwarmID': swarm_id, 'content': content, 'Env': env}
    data = util.decode_json_body(req.body)
    if not isinstance(data, dict):
        raise util.json_type_error('', 'stacks.payload', data)
    name = util.field(data, 'Name', str, '')
    swarm_id = util.field(data, 'SwarmID', str, '')
    env = util.env_pairs(util.ci_get(data, 'Env'))
    from_template = util.field(data, 'FromAppTemplate', bool, False)
    if method == 'string':
        content = util.field(data, 'StackFileContent', str, '')
        if not name:
            raise ApiError(400, 'Invalid request payload', 'Invalid stack name')
        if swarm and not swarm_id:
            raise ApiError(400, 'Invalid request payload', 'Invalid Swarm ID')
        if not content:
            raise ApiError(400, 'Invalid request payload', 'Invalid stack file content')
        return {'Name': name, 'SwarmID': swarm_id, 'content': content.encode('utf-8'), 'Env': env, 'FromAppTemplate': from_template}
    url = util.field(data, 'RepositoryURL', str, '')
    auth = util.field(data, 'RepositoryAuthentication', bool, False)
    password = util.field(data, 'RepositoryPassword', str, '')
    auto = util.field(data, 'AutoUpdate', dict, None)
    additional = util.field(data, 'AdditionalFiles', list, None)
    if not name:
        raise ApiError(400, 'Invalid request payload', 'Invalid stack name')
    if swarm and not swarm_id:
        raise ApiError(400, 'Invalid request payload', 'Invalid Swarm ID')
    if not _is_url(url):
        raise ApiError(400, 'Invalid request payload', 'Invalid repository URL. Must correspond to a valid URL format')
    if auth and not password:
        raise ApiError(400, 'Invalid request payload', 'Invalid repository credentials. Password must be specified when authentication is enabled')
    auto = validate_auto_update(auto)
    return {
        'Name': name, 'SwarmID': swarm_id, 'Env': env, 'FromAppTemplate': from_template, 'RepositoryURL': url,
        'RepositoryReferenceName': util.field(data, 'RepositoryReferenceName', str, ''), 'RepositoryAuthentication': auth,
        'RepositoryUsername': util.field(data, 'RepositoryUsername', str, ''), 'RepositoryPassword': password,
        'ComposeFile': util.field(data, 'ComposeFile', str, ''), 'AdditionalFiles': additional, 'AutoUpdate': auto,
        'TLSSkipVerify': util.field(data, 'TLSSkipVerify', bool, False),
    }


def validate_auto_update(auto):
    """ValidateAutoUpdateSettings; returns the normalised AutoUpdate object or None."""
    if auto is None:
        return None
    interval = util.field(auto, 'Interval', str, '')
    webhook = util.field(auto, 'Webhook', str, '')
    if not interval and not webhook:
        raise ApiError(400, 'Invalid request payload', 'Webhook or Interval must be provided')
    if webhook and not util.is_uuid(webhook):
        raise ApiError(400, 'Invalid request payload', 'invalid Webhook format')
    if interval:
        try:
            util.parse_go_duration(interval)
        except ValueError as exc:
            raise ApiError(400, 'Invalid request payload', 'invalid Interval format') from exc
    return {'Interval': interval, 'Webhook': webhook, 'JobID': '', 'ForceUpdate': util.field(auto, 'ForceUpdate', bool, False),
            'ForcePullImage': util.field(auto, 'ForcePullImage', bool, False)}


def _check_unique(app, endpoint, name, stype):
    if stype == SWARM:
        if not unique_in_docker(app, endpoint, name, 0, True):
            raise _exists_error(app, name)
        return
    if unique_in_docker(app, endpoint, name, 0, False):
        return
    with app.store.lock:
        same_name = [dict(s) for s in app.store.items('stacks') if s['Name'].lower() == name.lower()]
    for stack in same_name:
        if stack['Type'] != COMPOSE and stack['EndpointId'] == endpoint['Id']:
            # Portainer silently removes the swarm duplicate record and carries on.
            with app.store.lock:
                app.store.remove('stacks', stack['Id'])
                app.store.save()
            resources.delete(app.store, rc_id(stack['EndpointId'], stack['Name']), resources.STACK)
        else:
            raise _exists_error(app, name)


def _webhook_taken(app, webhook, exclude=0):
    with app.store.lock:
        return any((s.get('AutoUpdate') or {}).get('Webhook') == webhook and s['Id'] != exclude for s in app.store.items('stacks'))


def create_stack(app, req, endpoint, stype, method):
    """Validate, check names, write files, deploy, persist."""
    payload = _parse_payload(req, stype, method)
    name = normalize_name(payload['Name'])
    with endpoint_lock(endpoint['Id']):
        _check_unique(app, endpoint, name, stype)
        auto = payload.get('AutoUpdate')
        if auto and auto['Webhook'] and _webhook_taken(app, auto['Webhook']):
            raise ApiError(409, 'Webhook ID: %s already exists' % auto['Webhook'], 'Webhook ID already exists')
        stack_id = app.store.next_id('stacks')
        stack = _new_stack(app, stack_id, name, stype, endpoint['Id'], payload['SwarmID'] if stype == SWARM else '',
                           payload['Env'], req.auth)
        stack['FromAppTemplate'] = payload.get('FromAppTemplate', False)
        project_dir = app.store.compose_dir(stack_id)
        shutil.rmtree(project_dir, ignore_errors=True)
        try:
            if method == 'repository':
                _prepare_repository(app, stack, payload, stype, project_dir)
            else:
                os.makedirs(project_dir, exist_ok=True)
                with open(os.path.join(project_dir, 'docker-compose.yml'), 'wb') as handle:
                    handle.write(payload['content'])
            deploy_stack(app, stack, endpoint, pull=stype == SWARM)
        except BaseException:
            shutil.rmtree(project_dir, ignore_errors=True)
            with app.store.lock:
                if app.store.data['counters'].get('stacks') == stack_id:
                    app.store.data['counters']['stacks'] = stack_id - 1
            raise
        with app.store.lock:
            app.store.items('stacks').append(stack)
            app.store.save()
        resources.delete(app.store, rc_id(endpoint['Id'], name), resources.STACK)
        resources.create_for_user(app.store, rc_id(endpoint['Id'], name), resources.STACK, req.auth)
    req.changed = True
    return json_response(stack_view(app, stack))


def _prepare_repository(app, stack, payload, stype, project_dir):
    url = payload['RepositoryURL']
    if stype == COMPOSE:
        url = url.rstrip('/')
    compose_file = payload['ComposeFile']
    username = payload['RepositoryUsername'] if payload['RepositoryAuthentication'] else ''
    password = payload['RepositoryPassword'] if payload['RepositoryAuthentication'] else ''
    try:
        sha = app.deployer.git_clone(url, payload['RepositoryReferenceName'], project_dir, username, password,
                                     payload['TLSSkipVerify'])
    except DeployError as exc:
        raise ApiError(500, str(exc), str(exc)) from exc
    stack['EntryPoint'] = compose_file if (compose_file or stype == SWARM) else 'docker-compose.yml'
    stack['AdditionalFiles'] = payload['AdditionalFiles']
    stack['AutoUpdate'] = payload['AutoUpdate']
    stack['GitConfig'] = {
        'URL': url, 'ReferenceName': payload['RepositoryReferenceName'], 'ConfigFilePath': compose_file or 'docker-compose.yml',
        'Authentication': ({'Username': username, 'Password': password, 'GitCredentialID': 0}
                           if payload['RepositoryAuthentication'] else None),
        'ConfigHash': sha, 'TLSSkipVerify': payload['TLSSkipVerify'],
    }


def _create_endpoint_for(app, req):
    endpoint_id = query_int(req, 'endpointId')
    with app.store.lock:
        endpoint = app.store.get('endpoints', endpoint_id)
        if endpoint is None:
            raise ApiError(404, ENDPOINT_NOT_FOUND, OBJECT_NOT_FOUND)
        endpoint = json.loads(json.dumps(endpoint))
    if not req.auth.is_admin and not endpoint['SecuritySettings'].get('allowStackManagementForRegularUsers', True):
        raise ApiError(403, 'Stack creation is disabled for non-admin users')
    if not can_access_endpoint(app.store, endpoint, req.auth):
        raise ApiError(403, 'Permission denied to access environment', 'Access denied to environment')
    return endpoint


def _dispatch_create(app, req, stype_text, method):
    endpoint = _create_endpoint_for(app, req)
    if stype_text == 'swarm':
        stype = SWARM
    elif stype_text == 'standalone':
        stype = COMPOSE
    elif stype_text == 'kubernetes':
        if method not in ('string', 'repository', 'url'):
            raise ApiError(400, 'Invalid value for query parameter: method. Value must be one of: string or repository', 'Invalid query parameter')
        raise ApiError(500, 'Unable to deploy kubernetes stack', 'The simulator does not emulate Kubernetes environments')
    else:
        raise ApiError(400, TYPE_ERROR, 'Invalid query parameter')
    if method not in ('string', 'file', 'repository'):
        raise ApiError(400, METHOD_ERROR, 'Invalid query parameter')
    return create_stack(app, req, endpoint, stype, method)


def post_stack_create(app, req, stype, method):
    """POST /api/stacks/create/{type}/{method}?endpointId=."""
    authenticate(app, req)
    return _dispatch_create(app, req, stype, method)


def post_stack_legacy(app, req):
    """POST /api/stacks?type=&method=&endpointId= (deprecated; absent in 2.19.0)."""
    authenticate(app, req)
    method = req.query.get('method', [''])[0]
    if not method:
        raise ApiError(400, 'Invalid query parameter: method. Valid values are: file or string', 'Missing query parameter')
    try:
        stype = util.parse_int_strict(req.query.get('type', [''])[0])
    except ValueError as exc:
        raise ApiError(400, 'Invalid query parameter: type', str(exc)) from exc
    if stype not in (1, 2, 3):
        raise ApiError(400, 'Invalid query parameter: type', 'Invalid query parameter')
    return _dispatch_create(app, req, {1: 'swarm', 2: 'standalone', 3: 'kubernetes'}[stype], method)


# --- read ------------------------------------------------------------------------------------------


def get_stacks(app, req):
    """GET /api/stacks[?filters=...] (6.6 semantics)."""
    authenticate(app, req)
    raw = req.query.get('filters', [''])[0]
    filters = {}
    if raw:
        try:
            filters = json.loads(raw)
        except ValueError as exc:
            raise ApiError(400, 'Invalid query parameter: filters', str(exc)) from exc
        if not isinstance(filters, dict):
            raise ApiError(400, 'Invalid query parameter: filters', 'json: cannot unmarshal into stackListOperationFilters')
    try:
        endpoint_id = util.field(filters, 'EndpointID', int, 0)
        swarm_id = util.field(filters, 'SwarmID', str, '')
        orphans = util.field(filters, 'IncludeOrphanedStacks', bool, False)
    except ApiError as exc:
        raise ApiError(400, 'Invalid query parameter: filters', exc.details) from exc
    with app.store.lock:
        stacks = [dict(s) for s in app.store.items('stacks')]
        endpoint_ids = {e['Id'] for e in app.store.items('endpoints')}
    if endpoint_id or swarm_id:
        kept, names = [], set()
        for stack in stacks:
            if (stack['Type'] == COMPOSE and stack['EndpointId'] == endpoint_id) or (stack['Type'] == SWARM and stack['SwarmId'] == swarm_id):
                kept.append(stack)
                names.add(stack['Name'])
        for stack in stacks:
            if orphans and stack['EndpointId'] not in endpoint_ids:
                if (stack['Type'] == COMPOSE and not swarm_id) or (stack['Type'] == SWARM and swarm_id):
                    if stack['Name'] not in names:
                        kept.append(stack)
        stacks = kept
    views = [stack_view(app, s) for s in stacks]
    if not req.auth.is_admin:
        if orphans:
            raise ApiError(403, 'Permission denied to access orphaned stacks', 'Unauthorized')
        views = [v for v in views if resources.can_access(v['ResourceControl'], req.auth)]
    return json_response(views)


def _load_stack(app, ident):
    stack_id = route_int(ident, 'Invalid stack identifier route variable')
    with app.store.lock:
        stack = app.store.get('stacks', stack_id)
        if stack is None:
            raise ApiError(404, STACK_NOT_FOUND, OBJECT_NOT_FOUND)
        return json.loads(json.dumps(stack))


def _stack_access(app, req, stack, endpoint=None):
    rc = resources.find(app.store, rc_id(stack['EndpointId'], stack['Name']), resources.STACK)
    if not req.auth.is_admin:
        if endpoint is not None and not can_access_endpoint(app.store, endpoint, req.auth):
            raise ApiError(403, 'Permission denied to access environment', 'Access denied to environment')
        if not resources.can_access(rc, req.auth):
            raise ApiError(403, 'Access denied to resource', 'Access denied to resource')


def _endpoint_or_none(app, endpoint_id):
    with app.store.lock:
        endpoint = app.store.get('endpoints', endpoint_id)
        return json.loads(json.dumps(endpoint)) if endpoint else None


def get_stack(app, req, ident):
    """GET /api/stacks/{id}."""
    authenticate(app, req)
    stack = _load_stack(app, ident)
    endpoint = _endpoint_or_none(app, stack['EndpointId'])
    if endpoint is None and not req.auth.is_admin:
        raise ApiError(403, 'Permission denied to access environment', 'Access denied to environment')
    _stack_access(app, req, stack, endpoint)
    return json_response(stack_view(app, stack))


def get_stack_file(app, req, ident):
    """GET /api/stacks/{id}/file."""
    authenticate(app, req)
    stack = _load_stack(app, ident)
    _stack_access(app, req, stack, _endpoint_or_none(app, stack['EndpointId']))
    path = os.path.join(app.store.compose_dir(stack['Id']), stack['EntryPoint'] or '')
    try:
        with open(path, encoding='utf-8', errors='replace') as handle:
            content = handle.read()
    except OSError as exc:
        raise ApiError(500, 'Unable to retrieve Compose file from disk', str(exc)) from exc
    return json_response({'StackFileContent': content})


# --- update / git ----------------------------------------------------------------------------------


def _endpoint_for_update(app, req, stack, optional):
    endpoint_id = query_int(req, 'endpointId', optional=optional)
    if endpoint_id != stack['EndpointId']:
        stack['EndpointId'] = endpoint_id
    endpoint = _endpoint_or_none(app, stack['EndpointId'])
    if endpoint is None:
        raise ApiError(404, ENDPOINT_OF_STACK, OBJECT_NOT_FOUND)
    if not can_access_endpoint(app.store, endpoint, req.auth):
        raise ApiError(403, 'Permission denied to access environment', 'Access denied to environment')
    _stack_access(app, req, stack)
    if not req.auth.is_admin and not endpoint['SecuritySettings'].get('allowStackManagementForRegularUsers', True):
        raise ApiError(403, 'Stack management is disabled for non-admin users')
    return endpoint


def _save(app, stack):
    with app.store.lock:
        for index, item in enumerate(app.store.items('stacks')):
            if item['Id'] == stack['Id']:
                app.store.items('stacks')[index] = stack
                break
        app.store.save()


def put_stack(app, req, ident):
    """PUT /api/stacks/{id}?endpointId= : new file content, Env replaces, redeploy, detach from git."""
    authenticate(app, req)
    stack = _load_stack(app, ident)
    endpoint = _endpoint_for_update(app, req, stack, optional=False)
    data = util.decode_json_body(req.body)
    if not isinstance(data, dict):
        raise util.json_type_error('', 'stacks.updateStackPayload', data)
    content = util.field(data, 'StackFileContent', str, '')
    env = util.env_pairs(util.ci_get(data, 'Env'))
    pull = util.field(data, 'PullImage', bool, False)
    prune = util.field(data, 'Prune', bool, False) if stack['Type'] == SWARM else False
    if not content:
        raise ApiError(400, 'Invalid request payload', 'Invalid stack file content')
    stack['AutoUpdate'] = None
    if stack.get('GitConfig') is not None:
        stack['FromAppTemplate'] = True
        stack['GitConfig'] = None
    stack['Env'] = env
    if stack['Type'] == SWARM:
        stack['Option'] = {'Prune': prune}
    path = os.path.join(app.store.compose_dir(stack['Id']), stack['EntryPoint'] or 'docker-compose.yml')
    with endpoint_lock(endpoint['Id']):
        backup = None
        if os.path.isfile(path):
            with open(path, 'rb') as handle:
                backup = handle.read()
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'wb') as handle:
            handle.write(content.encode('utf-8'))
        try:
            deploy_stack(app, stack, endpoint, pull=pull, prune=prune)
        except ApiError:
            if backup is not None:
                with open(path, 'wb') as handle:
                    handle.write(backup)
            raise
        stack['UpdatedBy'] = req.auth.user['Username']
        stack['UpdateDate'] = util.now()
        stack['Status'] = ACTIVE
        _save(app, stack)
    req.changed = True
    return json_response(stack_view(app, stack))


def post_stack_git(app, req, ident):
    """POST /api/stacks/{id}/git?endpointId= : git settings only, no redeploy."""
    authenticate(app, req)
    route_int(ident, 'Invalid stack identifier route variable')
    data = util.decode_json_body(req.body)
    if not isinstance(data, dict):
        raise util.json_type_error('', 'stacks.stackGitUpdatePayload', data)
    auto = validate_auto_update(util.field(data, 'AutoUpdate', dict, None))
    stack = _load_stack(app, ident)
    if stack.get('GitConfig') is None:
        raise ApiError(500, 'No Git config in the found stack', 'No Git config in the found stack')
    endpoint = _endpoint_for_update(app, req, stack, optional=True)
    git = stack['GitConfig']
    git['ReferenceName'] = util.field(data, 'RepositoryReferenceName', str, '')
    git['TLSSkipVerify'] = util.field(data, 'TLSSkipVerify', bool, False)
    stack['AutoUpdate'] = auto
    stack['Env'] = util.env_pairs(util.ci_get(data, 'Env'))
    stack['UpdatedBy'] = req.auth.user['Username']
    stack['UpdateDate'] = util.now()
    if stack['Type'] == SWARM:
        stack['Option'] = {'Prune': util.field(data, 'Prune', bool, False)}
    if util.field(data, 'RepositoryAuthentication', bool, False):
        password = util.field(data, 'RepositoryPassword', str, '')
        if not password and git.get('Authentication'):
            password = git['Authentication'].get('Password', '')
        git['Authentication'] = {'Username': util.field(data, 'RepositoryUsername', str, ''), 'Password': password, 'GitCredentialID': 0}
        try:
            app.deployer.git_latest_commit(git['URL'], git['ReferenceName'], git['Authentication']['Username'], password, git['TLSSkipVerify'])
        except DeployError as exc:
            raise ApiError(500, 'Unable to fetch git repository', str(exc)) from exc
    else:
        git['Authentication'] = None
    del endpoint
    _save(app, stack)
    req.changed = True
    return json_response(stack_view(app, stack))


def _reclone(app, stack, username, password):
    """Clone into a fresh directory and swap it in (CloneWithBackup); returns the new sha."""
    git = stack['GitConfig']
    project_dir = app.store.compose_dir(stack['Id'])
    fresh = project_dir + '.new'
    shutil.rmtree(fresh, ignore_errors=True)
    sha = app.deployer.git_clone(git['URL'], git['ReferenceName'], fresh, username, password, git.get('TLSSkipVerify', False))
    backup = project_dir + '.bak'
    shutil.rmtree(backup, ignore_errors=True)
    if os.path.isdir(project_dir):
        os.rename(project_dir, backup)
    os.rename(fresh, project_dir)
    return sha, backup


def _restore(project_dir, backup):
    if os.path.isdir(backup):
        shutil.rmtree(project_dir, ignore_errors=True)
        os.rename(backup, project_dir)


def put_stack_git_redeploy(app, req, ident):
    """PUT /api/stacks/{id}/git/redeploy?endpointId= : pull and redeploy."""
    authenticate(app, req)
    stack = _load_stack(app, ident)
    if stack.get('GitConfig') is None:
        raise ApiError(400, 'Stack is not created from git', 'Stack is not created from git')
    endpoint = _endpoint_for_update(app, req, stack, optional=True)
    data = util.decode_json_body(req.body)
    if not isinstance(data, dict):
        raise util.json_type_error('', 'stacks.stackGitRedployPayload', data)
    git = stack['GitConfig']
    git['ReferenceName'] = util.field(data, 'RepositoryReferenceName', str, '')
    stack['Env'] = util.env_pairs(util.ci_get(data, 'Env'))
    prune = util.field(data, 'Prune', bool, False)
    pull = util.field(data, 'PullImage', bool, False)
    if stack['Type'] == SWARM:
        stack['Option'] = {'Prune': prune}
    username = password = ''
    if util.field(data, 'RepositoryAuthentication', bool, False):
        password = util.field(data, 'RepositoryPassword', str, '')
        if not password and git.get('Authentication'):
            password = git['Authentication'].get('Password', '')
        username = util.field(data, 'RepositoryUsername', str, '')
    project_dir = app.store.compose_dir(stack['Id'])
    with endpoint_lock(endpoint['Id']):
        try:
            sha, backup = _reclone(app, stack, username, password)
        except DeployError as exc:
            raise ApiError(500, 'Unable to clone git repository directory', str(exc)) from exc
        try:
            deploy_stack(app, stack, endpoint, pull=pull, prune=prune, force_recreate=stack['Type'] == COMPOSE)
        except ApiError:
            _restore(project_dir, backup)
            raise
        shutil.rmtree(backup, ignore_errors=True)
        git['ConfigHash'] = sha
        stack['UpdatedBy'] = req.auth.user['Username']
        stack['UpdateDate'] = util.now()
        stack['Status'] = ACTIVE
        _save(app, stack)
    req.changed = True
    return json_response(stack_view(app, stack))


# --- start / stop / delete -------------------------------------------------------------------------


def _start_stop_common(app, req, ident, not_found_message):
    authenticate(app, req)
    stack = _load_stack(app, ident)
    if stack['Type'] == KUBERNETES:
        raise ApiError(400, 'Starting a kubernetes stack is not supported')
    endpoint_id = query_int(req, 'endpointId')
    endpoint = _endpoint_or_none(app, endpoint_id)
    if endpoint is None:
        raise ApiError(404, not_found_message, OBJECT_NOT_FOUND)
    if not can_access_endpoint(app.store, endpoint, req.auth):
        raise ApiError(403, 'Permission denied to access environment', 'Access denied to environment')
    return stack, endpoint


def post_stack_start(app, req, ident):
    """POST /api/stacks/{id}/start?endpointId=."""
    stack, endpoint = _start_stop_common(app, req, ident, 'Unable to find an endpoint with the specified identifier inside the database')
    with endpoint_lock(endpoint['Id']):
        if not unique_in_docker(app, endpoint, stack['Name'], stack['Id'], stack['Type'] == SWARM):
            text = "A stack with the name '%s' is already running" % stack['Name']
            raise ApiError(409, text, text)
        _stack_access(app, req, stack)
        if stack['Status'] == ACTIVE:
            raise ApiError(400, 'Stack is already active', 'Stack is already active')
        try:
            if stack['Type'] == SWARM:
                deploy_stack(app, stack, endpoint, pull=True, prune=True)
            else:
                deploy_stack(app, stack, endpoint)
        except ApiError as exc:
            raise ApiError(500, 'Unable to start stack', exc.details) from exc
        stack['Status'] = ACTIVE
        _save(app, stack)
    req.changed = True
    return json_response(stack_view(app, stack))


def post_stack_stop(app, req, ident):
    """POST /api/stacks/{id}/stop?endpointId=."""
    stack, endpoint = _start_stop_common(app, req, ident, ENDPOINT_NOT_FOUND)
    _stack_access(app, req, stack)
    if stack['Status'] == INACTIVE:
        raise ApiError(400, 'Stack is already inactive', 'Stack is already inactive')
    with endpoint_lock(endpoint['Id']):
        try:
            remove_stack(app, stack, endpoint)
        except (DeployError, engine.EngineError) as exc:
            raise ApiError(500, 'Unable to stop stack', str(exc)) from exc
        stack['Status'] = INACTIVE
        _save(app, stack)
    req.changed = True
    return json_response(stack_view(app, stack))


def delete_stack(app, req, ident):
    """DELETE /api/stacks/{id}?endpointId=[&external=true]."""
    authenticate(app, req)
    if util.go_bool(req.query.get('external', [''])[0]):
        return _delete_external(app, req, ident)
    stack = _load_stack(app, ident)
    endpoint_id = query_int(req, 'endpointId', optional=True)
    orphaned = endpoint_id != stack['EndpointId']
    if orphaned and not req.auth.is_admin:
        raise ApiError(403, 'Permission denied to remove orphaned stack', 'Permission denied to remove orphaned stack')
    endpoint = _endpoint_or_none(app, endpoint_id)
    if endpoint is None:
        raise ApiError(404, 'Unable to find the endpoint associated to the stack inside the database', OBJECT_NOT_FOUND)
    if not orphaned:
        if not can_access_endpoint(app.store, endpoint, req.auth):
            raise ApiError(403, 'Permission denied to access endpoint', 'Access denied to environment')
        _stack_access(app, req, stack)
    if not req.auth.is_admin and not endpoint['SecuritySettings'].get('allowStackManagementForRegularUsers', True):
        raise ApiError(403, 'stack deletion is disabled for non-admin users')
    with endpoint_lock(endpoint['Id']):
        try:
            remove_stack(app, stack, endpoint)
        except (DeployError, engine.EngineError) as exc:
            raise ApiError(500, str(exc), str(exc)) from exc
        with app.store.lock:
            app.store.remove('stacks', stack['Id'])
            app.store.save()
        resources.delete(app.store, rc_id(stack['EndpointId'], stack['Name']), resources.STACK)
        shutil.rmtree(app.store.compose_dir(stack['Id']), ignore_errors=True)
    req.changed = True
    return empty_response()


def _delete_external(app, req, name):
    query_int(req, 'endpointId')
    if not req.auth.is_admin:
        raise ApiError(401, 'Permission denied to delete the stack', 'Unauthorized')
    with app.store.lock:
        exists = any(s['Name'] == name for s in app.store.items('stacks'))
    if exists:
        raise ApiError(400, 'A stack with this name exists inside the database. Cannot use external delete method',
                       'A tag already exists with this name')
    endpoint = _endpoint_or_none(app, query_int(req, 'endpointId'))
    if endpoint is None:
        raise ApiError(404, 'Unable to find the endpoint associated to the stack inside the database', OBJECT_NOT_FOUND)
    try:
        with endpoint_lock(endpoint['Id']):
            remove_stack(app, {'Name': name, 'Type': SWARM, 'Id': 0}, endpoint)
    except (DeployError, engine.EngineError) as exc:
        raise ApiError(500, 'Unable to delete stack', str(exc)) from exc
    req.changed = True
    return empty_response()


# --- webhooks and auto-update ----------------------------------------------------------------------


def redeploy_when_changed(app, stack_id, webhook):
    """Pull; redeploy only when the commit changed (swarm: prune+pull, compose: force-recreate)."""
    with app.store.lock:
        stack = app.store.get('stacks', stack_id)
        stack = json.loads(json.dumps(stack)) if stack else None
    if stack is None or stack.get('GitConfig') is None:
        return False
    endpoint = _endpoint_or_none(app, stack['EndpointId'])
    if endpoint is None:
        return False
    git = stack['GitConfig']
    auth = git.get('Authentication') or {}
    try:
        latest = app.deployer.git_latest_commit(git['URL'], git['ReferenceName'], auth.get('Username', ''), auth.get('Password', ''),
                                                git.get('TLSSkipVerify', False))
    except DeployError as exc:
        LOG.warning('auto-update of stack %s: %s', stack_id, exc)
        return False
    force = bool((stack.get('AutoUpdate') or {}).get('ForceUpdate'))
    if latest == git.get('ConfigHash') and not force:
        return False
    project_dir = app.store.compose_dir(stack['Id'])
    with endpoint_lock(endpoint['Id']):
        try:
            sha, backup = _reclone(app, stack, auth.get('Username', ''), auth.get('Password', ''))
        except DeployError as exc:
            LOG.warning('auto-update of stack %s: %s', stack_id, exc)
            return False
        try:
            pull = bool((stack.get('AutoUpdate') or {}).get('ForcePullImage'))
            if stack['Type'] == SWARM:
                deploy_stack(app, stack, endpoint, pull=True, prune=True)
            else:
                deploy_stack(app, stack, endpoint, pull=pull, force_recreate=True)
        except ApiError as exc:
            _restore(project_dir, backup)
            LOG.warning('auto-update of stack %s failed: %s', stack_id, exc.message)
            return False
        shutil.rmtree(backup, ignore_errors=True)
        stack['GitConfig']['ConfigHash'] = sha
        stack['UpdateDate'] = util.now()
        stack['Status'] = ACTIVE
        _save(app, stack)
    LOG.info('stack %s redeployed by %s', stack_id, 'webhook' if webhook else 'poller')
    return True


def post_webhook(app, req, webhook):
    """POST /api/stacks/webhooks/{uuid} (public): asynchronous redeploy when the commit changed."""
    if not util.is_uuid(webhook):
        raise ApiError(400, 'Invalid webhook identifier route variable', 'invalid UUID format')
    has_author = False
    with app.store.lock:
        stack = next((dict(s) for s in app.store.items('stacks') if (s.get('AutoUpdate') or {}).get('Webhook') == webhook), None)
        if stack is not None:
            author = stack.get('UpdatedBy') or stack.get('CreatedBy')
            has_author = any(u['Username'] == author for u in app.store.items('users'))
    if stack is None:
        raise ApiError(404, 'Unable to find the stack by webhook ID', OBJECT_NOT_FOUND)
    if not has_author:
        raise ApiError(409, "Autoupdate for the stack isn't available", 'stack author user is missing')
    thread = threading.Thread(target=redeploy_when_changed, args=(app, stack['Id'], True), daemon=True)
    thread.start()
    req.changed = True
    return empty_response()


class AutoUpdatePoller(threading.Thread):
    """Optional background poller for AutoUpdate.Interval (enabled with --auto-update-poller)."""

    def __init__(self, app, tick=2.0):
        super().__init__(daemon=True, name='auto-update-poller')
        self.app = app
        self.tick = tick
        self.last = {}
        self.stopped = threading.Event()

    def run(self):
        while not self.stopped.wait(self.tick):
            with self.app.store.lock:
                due = []
                for stack in self.app.store.items('stacks'):
                    interval = (stack.get('AutoUpdate') or {}).get('Interval')
                    if not interval or stack.get('Status') != ACTIVE:
                        continue
                    try:
                        seconds = util.parse_go_duration(interval)
                    except ValueError:
                        continue
                    last = self.last.setdefault(stack['Id'], time.monotonic())
                    if time.monotonic() - last >= seconds:
                        due.append(stack['Id'])
            for stack_id in due:
                self.last[stack_id] = time.monotonic()
                try:
                    redeploy_when_changed(self.app, stack_id, False)
                except Exception:  # pylint: disable=broad-except
                    LOG.exception('auto-update of stack %s crashed', stack_id)


ROUTES = [
    ('POST', r'/api/stacks/create/(?P<stype>[^/]+)/(?P<method>[^/]+)', post_stack_create),
    ('GET', r'/api/stacks', get_stacks),
    ('POST', r'/api/stacks/webhooks/(?P<webhook>[^/]+)', post_webhook),
    ('GET', r'/api/stacks/(?P<ident>[^/]+)', get_stack),
    ('PUT', r'/api/stacks/(?P<ident>[^/]+)', put_stack),
    ('DELETE', r'/api/stacks/(?P<ident>[^/]+)', delete_stack),
    ('GET', r'/api/stacks/(?P<ident>[^/]+)/file', get_stack_file),
    ('POST', r'/api/stacks/(?P<ident>[^/]+)/git', post_stack_git),
    ('PUT', r'/api/stacks/(?P<ident>[^/]+)/git/redeploy', put_stack_git_redeploy),
    ('POST', r'/api/stacks/(?P<ident>[^/]+)/start', post_stack_start),
    ('POST', r'/api/stacks/(?P<ident>[^/]+)/stop', post_stack_stop),
]


def version_routes(version):
    """The legacy create route exists except in 2.19.0."""
    if version.legacy_stack_create:
        return [('POST', r'/api/stacks', post_stack_legacy)]
    return []
