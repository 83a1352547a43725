"""The Docker proxy: /api/endpoints/{id}/docker/* (and /agent/docker/*) to the endpoint's real engine."""

import base64
import http.client
import json
import re
import socket
import ssl
import threading
from urllib.parse import urlencode

from . import engine, resources, util
from .auth import authenticate
from .endpoints import load_endpoint, target_for
from .registries import credentials_for
from .web import Response
from .util import ApiError, PlainError

HOP_BY_HOP = ('connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'trailers',
              'transfer-encoding', 'upgrade', 'proxy-connection')
VERSION_RE = re.compile(r'^/v[0-9]+(\.[0-9]+)?(?=/)')
CREATE_KINDS = {
    'containers': (resources.CONTAINER, 'Id'), 'networks': (resources.NETWORK, 'Id'), 'secrets': (resources.SECRET, 'ID'),
    'configs': (resources.CONFIG, 'ID'), 'volumes': (resources.VOLUME, 'Name'), 'services': (resources.SERVICE, 'ID'),
}
DELETE_KINDS = {'containers': resources.CONTAINER, 'services': resources.SERVICE, 'networks': resources.NETWORK,
                'volumes': resources.VOLUME, 'secrets': resources.SECRET, 'configs': resources.CONFIG}
CHUNK = 65536
INSPECT_PATHS = {'containers': '/containers/%s/json', 'networks': '/networks/%s', 'services': '/services/%s',
                 'secrets': '/secrets/%s', 'configs': '/configs/%s'}

_ENGINE_IDS = {}
_ENGINE_IDS_LOCK = threading.Lock()


class StreamResponse:
    """A response whose body is streamed from the engine."""

    def __init__(self, status, reason, headers, upstream, conn, length):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.upstream = upstream
        self.conn = conn
        self.length = length

    def chunks(self):
        """Yield body pieces as they arrive."""
        try:
            while True:
                data = self.upstream.read1(CHUNK) if hasattr(self.upstream, 'read1') else self.upstream.read(CHUNK)
                if not data:
                    break
                yield data
        finally:
            self.close()

    def close(self):
        """Release the engine connection."""
        try:
            self.conn.close()
        except OSError:
            pass


class HijackResponse:
    """An upgraded (101) connection: bytes are relayed both ways until either side closes."""

    def __init__(self, head, sock, leftover):
        self.head = head
        self.sock = sock
        self.leftover = leftover

    def run(self, rfile, wfile, client_sock):
        """Relay until one side closes."""
        wfile.write(self.head + self.leftover)
        wfile.flush()

        def upstream_to_client():
            try:
                while True:
                    data = self.sock.recv(CHUNK)
                    if not data:
                        break
                    wfile.write(data)
                    wfile.flush()
            except OSError:
                pass
            finally:
                try:
                    client_sock.shutdown(socket.SHUT_WR)
                except OSError:
                    pass

        thread = threading.Thread(target=upstream_to_client, daemon=True)
        thread.start()
        try:
            while True:
                data = rfile.read1(CHUNK) if hasattr(rfile, 'read1') else rfile.read(CHUNK)
                if not data:
                    break
                self.sock.sendall(data)
            try:
                self.sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        except OSError:
            pass
        thread.join()
        self.sock.close()


def _transport_error(target, exc):
    if target is None or target.is_socket:
        raise ApiError(500, 'Unable to proxy the request via the Docker socket', str(exc)) from exc
    raise PlainError(502, '') from exc


def _engine_id(target, endpoint_id):
    key = (endpoint_id, target.url)
    with _ENGINE_IDS_LOCK:
        if key in _ENGINE_IDS:
            return _ENGINE_IDS[key]
    try:
        value = engine.info(target).get('ID', '')
    except engine.EngineError:
        value = ''
    with _ENGINE_IDS_LOCK:
        _ENGINE_IDS[key] = value
    return value


def _rewrite_registry_auth(app, req, headers):
    original = headers.get('X-Registry-Auth')
    if not original:
        return
    try:
        decoded = base64.b64decode(original, validate=True)
        data = json.loads(decoded)
    except (ValueError, TypeError):
        return
    if decoded.strip() == b'{}':
        del headers['X-Registry-Auth']
        return
    if not isinstance(data, dict) or data.get('registryId') is None:
        return
    registry_id = data['registryId']
    if isinstance(registry_id, bool) or not isinstance(registry_id, int):
        return
    creds = credentials_for(app, registry_id, req.auth)
    if creds is None:
        creds = {}
    header = {'username': creds.get('username', ''), 'password': creds.get('password', ''),
              'serveraddress': creds.get('serveraddress', '')}
    headers['X-Registry-Auth'] = base64.urlsafe_b64encode(json.dumps(header, separators=(',', ':')).encode()).decode()


def _needs_registry_auth(method, path):
    if method == 'POST' and path == '/images/create':
        return True
    if method == 'POST' and re.fullmatch(r'/images/.+/push', path):
        return True
    return path.startswith('/services/')


def _forward_headers(req, target):
    connection_tokens = set()
    for value in req.headers.get_all('Connection') or []:
        connection_tokens.update(token.strip().lower() for token in value.split(','))
    upgrade = 'upgrade' in connection_tokens and req.headers.get('Upgrade')
    headers = {}
    order = []
    for name, value in req.headers.items():
        lower = name.lower()
        if lower in HOP_BY_HOP or lower in connection_tokens or lower in ('host', 'content-length'):
            continue
        if lower in headers:
            headers[lower] = (headers[lower][0], headers[lower][1] + ', ' + value)
        else:
            headers[lower] = (name, value)
            order.append(lower)
    result = HeaderDict()
    for lower in order:
        result[headers[lower][0]] = headers[lower][1]
    result['Host'] = target.host_header
    if upgrade:
        result['Connection'] = 'Upgrade'
        result['Upgrade'] = req.headers.get('Upgrade')
    return result, bool(upgrade)


class HeaderDict(dict):
    """Case-insensitive-ish header dict keeping the sender's spelling."""

    def _key(self, name):
        for key in self:
            if key.lower() == name.lower():
                return key
        return None

    def get(self, name, default=None):
        key = self._key(name)
        return dict.get(self, key, default) if key else default

    def __setitem__(self, name, value):
        key = self._key(name)
        if key is not None and key != name:
            dict.__delitem__(self, key)
        dict.__setitem__(self, name, value)

    def __delitem__(self, name):
        key = self._key(name)
        if key is not None:
            dict.__delitem__(self, key)


def _raw_connect(target):
    if target.is_socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(target.socket_path)
        return sock
    sock = socket.create_connection((target.host, target.port), timeout=30)
    sock.settimeout(None)
    if target.tls:
        sock = target.ssl_context().wrap_socket(sock, server_hostname=target.host)
    return sock


def _hijack(req, target, path, headers):
    body = req.body
    sock = _raw_connect(target)
    lines = ['%s %s HTTP/1.1' % (req.method, path)]
    for name, value in headers.items():
        lines.append('%s: %s' % (name, value))
    lines.append('Content-Length: %d' % len(body))
    sock.sendall(('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1') + body)
    buffer = b''
    while b'\r\n\r\n' not in buffer:
        data = sock.recv(CHUNK)
        if not data:
            break
        buffer += data
    head, dummy, leftover = buffer.partition(b'\r\n\r\n')
    status_line = head.split(b'\r\n', 1)[0].decode('latin-1')
    try:
        status = int(status_line.split()[1])
    except (IndexError, ValueError):
        status = 502
    return status, HijackResponse(head + b'\r\n\r\n', sock, leftover)


def _send(req, target, path, headers):
    conn = target.connection(timeout=None)
    conn.putrequest(req.method, path, skip_host=True, skip_accept_encoding=True)
    for name, value in headers.items():
        conn.putheader(name, value)
    reader = req.body_reader
    if reader is not None and reader.chunked:
        conn.putheader('Transfer-Encoding', 'chunked')
        conn.endheaders()
        for piece in reader.iter_chunks():
            conn.send(b'%x\r\n%s\r\n' % (len(piece), piece))
        conn.send(b'0\r\n\r\n')
    elif reader is not None and reader.length:
        conn.putheader('Content-Length', str(reader.length))
        conn.endheaders()
        for piece in reader.iter_chunks():
            conn.send(piece)
    else:
        if req.method in ('POST', 'PUT', 'PATCH'):
            conn.putheader('Content-Length', '0')
        conn.endheaders()
    return conn, conn.getresponse()


def _response_headers(resp, drop_length=False):
    result = []
    connection_tokens = set()
    for value in resp.headers.get_all('Connection') or []:
        connection_tokens.update(token.strip().lower() for token in value.split(','))
    for name, value in resp.getheaders():
        lower = name.lower()
        if lower in HOP_BY_HOP or lower in connection_tokens:
            continue
        if drop_length and lower == 'content-length':
            continue
        result.append((name, value))
    return result


def handle(app, req, ident, rest):
    """Entry point from the router."""
    authenticate(app, req)
    endpoint = load_endpoint(app, req, ident)
    if endpoint['Type'] in (4, 7):
        raise ApiError(500, 'No Edge agent registered with the environment', 'No Edge agent registered with the environment')
    target = None
    try:
        target = target_for(app.store, endpoint)
    except engine.EngineError as exc:
        _transport_error(None, exc)
    path = rest or '/'
    if req.raw_query:
        if req.auth.kind == 'jwt' and req.query.get('token'):
            kept = [(k, v) for k, values in req.query.items() for v in values if k != 'token']
            if kept:
                path += '?' + urlencode(kept)
        else:
            path += '?' + req.raw_query
    unversioned = VERSION_RE.sub('', rest or '/')
    headers, upgrade = _forward_headers(req, target)
    method = req.method
    if _needs_registry_auth(method, unversioned):
        _rewrite_registry_auth(app, req, headers)
    precheck = _precheck(app, req, endpoint, target, unversioned, headers)
    if precheck is not None:
        return precheck
    try:
        if upgrade:
            status, hijacked = _hijack(req, target, path, headers)
            req.changed = method not in ('GET', 'HEAD') and status < 400
            return hijacked
        conn, resp = _send(req, target, path, headers)
    except (OSError, http.client.HTTPException, ssl.SSLError, engine.EngineError) as exc:
        return _transport_error(target, exc)
    if method not in ('GET', 'HEAD', 'OPTIONS') and 200 <= resp.status < 300:
        req.changed = True
    rewriter = _rewriter(method, unversioned, resp.status)
    if rewriter is None:
        length = resp.getheader('Content-Length')
        return StreamResponse(resp.status, resp.reason, _response_headers(resp), resp, conn,
                              int(length) if length and length.isdigit() else None)
    try:
        body = resp.read()
    except (OSError, http.client.HTTPException) as exc:
        conn.close()
        return _transport_error(target, exc)
    conn.close()
    status, body = rewriter(app, req, endpoint, target, unversioned, resp.status, body)
    out = Response(status, body, _response_headers(resp, drop_length=True), content_type=None)
    return out


def _precheck(app, req, endpoint, target, path, headers):
    """Portainer-side refusals before the request reaches Docker; resolves names of deleted resources."""
    del app, endpoint
    parts = path.strip('/').split('/')
    if req.method == 'DELETE' and len(parts) == 2 and parts[0] in INSPECT_PATHS and not re.fullmatch(r'[0-9a-f]{64}', parts[1]):
        try:
            status, data = engine.request_json(target, 'GET', INSPECT_PATHS[parts[0]] % parts[1])
            if status == 200 and isinstance(data, dict):
                req.resolved_id = data.get('Id') or data.get('ID')
        except engine.EngineError:
            pass
    if req.method == 'POST' and path == '/volumes/create' and headers.get('X-Portainer-VolumeName'):
        name = headers.get('X-Portainer-VolumeName')
        try:
            status, dummy, dummy2 = engine.request(target, 'GET', '/volumes/' + name)
        except engine.EngineError as exc:
            return _transport_error(target, exc)
        if status == 200:
            if target.is_socket:
                raise ApiError(409, 'A volume with the same name already exists', 'A volume with the same name already exists')
            raise PlainError(502, '')
    return None


def _rewriter(method, path, status):
    parts = path.strip('/').split('/')
    if method == 'GET' and path == '/containers/json' and status == 200:
        return _rewrite_container_list
    if method == 'GET' and len(parts) == 3 and parts[0] == 'containers' and parts[2] == 'json' and status == 200:
        return _rewrite_container_inspect
    if method == 'POST' and len(parts) == 2 and parts[1] == 'create' and parts[0] in CREATE_KINDS and status == 201:
        return _rewrite_create
    if method == 'GET' and path == '/volumes' and status == 200:
        return _rewrite_volume_list
    if method == 'GET' and len(parts) == 2 and parts[0] == 'volumes' and status == 200:
        return _rewrite_volume_inspect
    if method == 'GET' and path == '/networks' and status == 200:
        return _rewrite_network_list
    if method == 'GET' and len(parts) == 2 and parts[0] == 'networks' and status == 200:
        return _rewrite_network_inspect
    if method == 'GET' and path == '/swarm' and status == 200:
        return _rewrite_swarm
    if method == 'DELETE' and len(parts) == 2 and parts[0] in DELETE_KINDS and 200 <= status < 300:
        return _rewrite_delete
    return None


def _decode(body):
    try:
        return json.loads(body)
    except ValueError:
        return None


def _users_by_name(app):
    with app.store.lock:
        return {u['Username']: u['Id'] for u in app.store.items('users')}


def _container_rc(app, endpoint, container):
    labels = container.get('Labels') or (container.get('Config') or {}).get('Labels') or {}
    cid = container.get('Id', '')
    rc = resources.find_by_prefix(app.store, cid, resources.CONTAINER)
    if rc is None and labels.get('com.docker.swarm.service.id'):
        rc = resources.find(app.store, labels['com.docker.swarm.service.id'], resources.SERVICE)
    if rc is None:
        stack = labels.get('com.docker.stack.namespace') or labels.get('com.docker.compose.project')
        if stack:
            rc = resources.find(app.store, '%d_%s' % (endpoint['Id'], stack), resources.STACK)
    if rc is None and any(k.startswith('io.portainer.accesscontrol.') for k in labels):
        rc = resources.labels_rc(app.store, labels, resources.CONTAINER, cid, _users_by_name(app))
    return rc


def _blacklisted(app, container):
    labels = container.get('Labels') or {}
    for pair in app.store.settings.get('BlackListedLabels') or []:
        if labels.get(pair.get('name')) == pair.get('value'):
            return True
    return False


def _rewrite_container_list(app, req, endpoint, target, path, status, body):
    del target, path
    data = _decode(body)
    if not isinstance(data, list):
        return status, body
    result = []
    for container in data:
        if _blacklisted(app, container):
            continue
        rc = _container_rc(app, endpoint, container)
        if not resources.can_access(rc, req.auth):
            continue
        if rc is not None:
            container['Portainer'] = {'ResourceControl': rc}
        result.append(container)
    return status, util.dumps(result)


def _rewrite_container_inspect(app, req, endpoint, target, path, status, body):
    del target, path
    data = _decode(body)
    if not isinstance(data, dict):
        return status, body
    rc = _container_rc(app, endpoint, data)
    if not resources.can_access(rc, req.auth):
        return 403, util.dumps({'message': 'access denied to resource'})
    if rc is not None:
        data['Portainer'] = {'ResourceControl': rc}
    return status, util.dumps(data)


def _rewrite_create(app, req, endpoint, target, path, status, body):
    del status
    kind = path.strip('/').split('/')[0]
    rtype, key = CREATE_KINDS[kind]
    data = _decode(body)
    if not isinstance(data, dict):
        return 200, body
    resource_id = data.get(key) or data.get('Id') or data.get('ID') or ''
    if kind == 'volumes':
        resource_id = '%s_%s' % (data.get('Name', ''), _engine_id(target, endpoint['Id']))
        data['ResourceID'] = resource_id
    rc = resources.create_private(app.store, resource_id, rtype, req.auth.user_id)
    data['Portainer'] = {'ResourceControl': rc}
    return 200, util.dumps(data)


def _decorate_volume(app, req, endpoint, target, volume):
    resource_id = '%s_%s' % (volume.get('Name', ''), _engine_id(target, endpoint['Id']))
    volume['ResourceID'] = resource_id
    rc = resources.find(app.store, resource_id, resources.VOLUME)
    if rc is None:
        labels = volume.get('Labels') or {}
        stack = labels.get('com.docker.stack.namespace') or labels.get('com.docker.compose.project')
        if stack:
            rc = resources.find(app.store, '%d_%s' % (endpoint['Id'], stack), resources.STACK)
    if rc is not None:
        volume['Portainer'] = {'ResourceControl': rc}
    return resources.can_access(rc, req.auth)


def _rewrite_volume_list(app, req, endpoint, target, path, status, body):
    del path
    data = _decode(body)
    if not isinstance(data, dict):
        return status, body
    volumes = []
    for volume in data.get('Volumes') or []:
        if _decorate_volume(app, req, endpoint, target, volume):
            volumes.append(volume)
    if data.get('Volumes') is not None:
        data['Volumes'] = volumes
    return status, util.dumps(data)


def _rewrite_volume_inspect(app, req, endpoint, target, path, status, body):
    del path
    data = _decode(body)
    if not isinstance(data, dict):
        return status, body
    if not _decorate_volume(app, req, endpoint, target, data):
        return 403, util.dumps({'message': 'access denied to resource'})
    return status, util.dumps(data)


def _decorate_network(app, network):
    if network.get('Name') in resources.SYSTEM_NETWORKS:
        network['Portainer'] = {'ResourceControl': resources.system_rc(network.get('Id', ''))}
        return None, True
    rc = resources.find(app.store, network.get('Id', ''), resources.NETWORK)
    if rc is not None:
        network['Portainer'] = {'ResourceControl': rc}
    return rc, False


def _rewrite_network_list(app, req, endpoint, target, path, status, body):
    del endpoint, target, path
    data = _decode(body)
    if not isinstance(data, list):
        return status, body
    result = []
    for network in data:
        rc, system = _decorate_network(app, network)
        if system or resources.can_access(rc, req.auth):
            result.append(network)
    return status, util.dumps(result)


def _rewrite_network_inspect(app, req, endpoint, target, path, status, body):
    del endpoint, target, path
    data = _decode(body)
    if not isinstance(data, dict):
        return status, body
    rc, system = _decorate_network(app, data)
    if not system and not resources.can_access(rc, req.auth):
        return 403, util.dumps({'message': 'access denied to resource'})
    return status, util.dumps(data)


def _rewrite_swarm(app, req, endpoint, target, path, status, body):
    del app, endpoint, target, path
    if req.auth.is_admin:
        return status, body
    data = _decode(body)
    if isinstance(data, dict):
        data.pop('JoinTokens', None)
        data.pop('TLSInfo', None)
        return status, util.dumps(data)
    return status, body


def _rewrite_delete(app, req, endpoint, target, path, status, body):
    kind, ident = path.strip('/').split('/')
    rtype = DELETE_KINDS[kind]
    if kind == 'volumes':
        resources.delete(app.store, '%s_%s' % (ident, _engine_id(target, endpoint['Id'])), rtype)
    else:
        ident = getattr(req, 'resolved_id', None) or ident
        rc = resources.find_by_prefix(app.store, ident, rtype)
        if rc is not None:
            resources.delete(app.store, rc['ResourceId'], rtype)
        else:
            resources.delete(app.store, ident, rtype)
    return status, body
