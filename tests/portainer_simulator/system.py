"""Status, version and settings routes."""

import platform

from . import util
from .auth import authenticate, require_admin
from .web import json_response
from .util import ApiError


def _status(app):
    return {'Version': app.version.string, 'InstanceID': app.store.data['instance_id']}


def get_status(app, req):
    """GET /api/status and GET /api/system/status (public)."""
    del req
    return json_response(_status(app))


def get_version(app, req):
    """GET /api/system/version and GET /api/status/version (authenticated)."""
    authenticate(app, req)
    build = {
        'BuildNumber': 'simulator', 'ImageTag': app.version.string, 'NodejsVersion': '', 'YarnVersion': '',
        'WebpackVersion': '', 'GoVersion': 'python' + platform.python_version(), 'GitCommit': 'simulator',
    }
    if req.auth.is_admin:
        build['Env'] = []
    return json_response({
        'UpdateAvailable': False, 'LatestVersion': '', 'ServerVersion': app.version.string, 'ServerEdition': 'CE',
        'DatabaseVersion': app.version.string, 'Build': build,
    })


def get_system_info(app, req):
    """GET /api/system/info."""
    authenticate(app, req)
    with app.store.lock:
        endpoints = list(app.store.items('endpoints'))
    return json_response({
        'platform': 'Docker Standalone',
        'edgeAgents': sum(1 for e in endpoints if e['Type'] in (4, 7)),
        'agents': sum(1 for e in endpoints if e['Type'] in (2, 6)),
    })


def get_system_nodes(app, req):
    """GET /api/system/nodes and /api/status/nodes."""
    authenticate(app, req)
    with app.store.lock:
        return json_response({'nodes': len(app.store.items('endpoints'))})


def public_settings(app):
    """The public settings object."""
    settings = app.store.settings
    return {
        'LogoURL': settings.get('LogoURL', ''),
        'AuthenticationMethod': settings['AuthenticationMethod'],
        'RequiredPasswordLength': settings['InternalAuthSettings'].get('RequiredPasswordLength', 12),
        'EnableEdgeComputeFeatures': settings.get('EnableEdgeComputeFeatures', False),
        'EnforceEdgeID': settings.get('EnforceEdgeID', True),
        'FeatureFlagSettings': {},
        'Features': {},
        'OAuthLoginURI': '',
        'OAuthLogoutURI': '',
        'OAuthHideInternalAuth': False,
        'EnableTelemetry': settings.get('EnableTelemetry', False),
        'KubeconfigExpiry': '0',
        'IsFDOEnabled': False,
        'IsDockerDesktopExtension': False,
        'GlobalDeploymentOptions': {'hideStacksFunctionality': False},
        'ShowKomposeBuildOption': False,
        'Edge': {'PingInterval': 0, 'SnapshotInterval': 0, 'CommandInterval': 0, 'CheckinInterval': settings.get('EdgeAgentCheckinInterval', 5)},
        'DefaultRegistry': {'Hide': False},
    }


def get_public_settings(app, req):
    """GET /api/settings/public (public)."""
    del req
    with app.store.lock:
        return json_response(public_settings(app))


def get_settings(app, req):
    """GET /api/settings (admin)."""
    authenticate(app, req)
    require_admin(req)
    with app.store.lock:
        return json_response(dict(app.store.settings))


def put_settings(app, req):
    """PUT /api/settings (admin): the subset of keys the simulator uses."""
    authenticate(app, req)
    require_admin(req)
    data = util.decode_json_body(req.body)
    if not isinstance(data, dict):
        raise util.json_type_error('', 'settings.settingsUpdatePayload', data)
    timeout = util.field(data, 'UserSessionTimeout', str)
    if timeout is not None:
        try:
            util.parse_go_duration(timeout)
        except ValueError as exc:
            raise ApiError(400, 'Invalid request payload', 'Invalid user session timeout') from exc
    snapshot = util.field(data, 'SnapshotInterval', str)
    if snapshot is not None:
        try:
            util.parse_go_duration(snapshot)
        except ValueError as exc:
            raise ApiError(400, 'Invalid request payload', 'Invalid snapshot interval') from exc
    internal = util.field(data, 'InternalAuthSettings', dict)
    length = None
    if internal is not None:
        length = util.field(internal, 'RequiredPasswordLength', int)
        if length is not None and not 1 <= length <= 18:
            raise ApiError(400, 'Invalid request payload', 'Invalid RequiredPasswordLength')
    labels = util.field(data, 'BlackListedLabels', list)
    edge = util.field(data, 'EnableEdgeComputeFeatures', bool)
    with app.store.lock:
        settings = app.store.settings
        if timeout is not None:
            settings['UserSessionTimeout'] = timeout
        if snapshot is not None:
            settings['SnapshotInterval'] = snapshot
        if length is not None:
            settings['InternalAuthSettings']['RequiredPasswordLength'] = length
        if labels is not None:
            settings['BlackListedLabels'] = [{'name': util.ci_get(p, 'name', ''), 'value': util.ci_get(p, 'value', '')}
                                             for p in labels if isinstance(p, dict)]
        if edge is not None:
            settings['EnableEdgeComputeFeatures'] = edge
        app.store.save()
        req.changed = True
        return json_response(dict(settings))


ROUTES = [
    ('GET', r'/api/status', get_status),
    ('GET', r'/api/system/status', get_status),
    ('GET', r'/api/status/version', get_version),
    ('GET', r'/api/system/version', get_version),
    ('GET', r'/api/system/info', get_system_info),
    ('GET', r'/api/system/nodes', get_system_nodes),
    ('GET', r'/api/status/nodes', get_system_nodes),
    ('GET', r'/api/settings/public', get_public_settings),
    ('GET', r'/api/settings', get_settings),
    ('PUT', r'/api/settings', put_settings),
]
