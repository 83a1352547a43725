"""Registries: minimal CRUD, used by the proxy's X-Registry-Auth registryId replacement."""

from . import util
from .auth import authenticate, require_admin
from .web import json_response, empty_response, route_int
from .util import ApiError

NOT_FOUND = 'Unable to find a registry with the specified identifier inside the database'
TYPES = (1, 2, 3, 4, 5, 6, 7, 8)


def registry_view(registry):
    """Registry JSON with secrets hidden."""
    view = dict(registry)
    view['Password'] = ''
    view['ManagementConfiguration'] = None
    return view


def post_registry(app, req):
    """POST /api/registries (admin)."""
    authenticate(app, req)
    require_admin(req)
    data = util.decode_json_body(req.body)
    if not isinstance(data, dict):
        raise util.json_type_error('', 'registries.registryCreatePayload', data)
    name = util.field(data, 'Name', str, '')
    url = util.field(data, 'URL', str, '')
    rtype = util.field(data, 'Type', int, 0)
    authentication = util.field(data, 'Authentication', bool, False)
    username = util.field(data, 'Username', str, '')
    password = util.field(data, 'Password', str, '')
    if not name:
        raise ApiError(400, 'Invalid request payload', 'Invalid registry name')
    if not url:
        raise ApiError(400, 'Invalid request payload', 'Invalid registry URL')
    if authentication and (not username or not password):
        raise ApiError(400, 'Invalid request payload', 'Invalid credentials. Username and password must be specified when authentication is enabled')
    if rtype not in TYPES:
        raise ApiError(400, 'Invalid request payload', 'invalid registry type. Valid values are: 1 (Quay.io), 2 (Azure container registry), '
                       '3 (custom registry), 4 (Gitlab registry), 5 (ProGet registry), 6 (DockerHub), 7 (ECR) or 8 (Github registry)')
    with app.store.lock:
        if any(r['Name'] == name for r in app.store.items('registries')):
            raise ApiError(409, 'Another registry with the same name already exists', 'Registry name already exists')
        registry = {
            'Id': app.store.next_id('registries'), 'Type': rtype, 'Name': name, 'URL': url,
            'BaseURL': util.field(data, 'BaseURL', str, ''), 'Authentication': authentication,
            'Username': username if authentication else '', 'Password': password if authentication else '',
            'ManagementConfiguration': None, 'Gitlab': {'ProjectId': 0, 'InstanceURL': '', 'ProjectPath': ''},
            'Quay': {'UseOrganisation': False, 'OrganisationName': ''}, 'Ecr': {'Region': ''},
            'RegistryAccesses': {}, 'UserAccessPolicies': None, 'TeamAccessPolicies': None,
            'AuthorizedUsers': None, 'AuthorizedTeams': None,
        }
        app.store.items('registries').append(registry)
        app.store.save()
        req.changed = True
        return json_response(registry_view(registry))


def get_registries(app, req):
    """GET /api/registries."""
    authenticate(app, req)
    with app.store.lock:
        return json_response([registry_view(r) for r in app.store.items('registries')])


def get_registry(app, req, ident):
    """GET /api/registries/{id}."""
    authenticate(app, req)
    registry_id = route_int(ident, 'Invalid registry identifier route variable')
    with app.store.lock:
        registry = app.store.get('registries', registry_id)
        if registry is None:
            raise ApiError(404, NOT_FOUND, 'Object not found inside the database')
        return json_response(registry_view(registry))


def delete_registry(app, req, ident):
    """DELETE /api/registries/{id} (admin)."""
    authenticate(app, req)
    require_admin(req)
    registry_id = route_int(ident, 'Invalid registry identifier route variable')
    with app.store.lock:
        if app.store.remove('registries', registry_id) is None:
            raise ApiError(404, NOT_FOUND, 'Object not found inside the database')
        app.store.save()
    req.changed = True
    return empty_response()


def credentials_for(app, registry_id, auth):
    """{username, password, serveraddress} for a registryId in X-Registry-Auth, or None when unknown."""
    if registry_id == 0:
        return {'serveraddress': 'docker.io'}
    with app.store.lock:
        registry = app.store.get('registries', registry_id)
        if registry is None:
            return None
        registry = dict(registry)
    del auth
    if not registry.get('Authentication'):
        return {'serveraddress': registry['URL']}
    return {'username': registry['Username'], 'password': registry['Password'], 'serveraddress': registry['URL']}


ROUTES = [
    ('POST', r'/api/registries', post_registry),
    ('GET', r'/api/registries', get_registries),
    ('GET', r'/api/registries/(?P<ident>[^/]+)', get_registry),
    ('DELETE', r'/api/registries/(?P<ident>[^/]+)', delete_registry),
]
