"""Test support: the request log, fault injection and the /__sim/ routes."""

import copy
import re
import threading
import time

from . import util
from .web import json_response, empty_response
from .util import ApiError

SAFE_METHODS = ('GET', 'HEAD', 'OPTIONS')
NOT_WRITES = (('POST', '/api/auth'), ('POST', '/api/auth/logout'))
ACTIONS = ('status', 'hang', 'drop', 'unauthorized')


def is_write(method, path):
    """True for requests of a kind that changes state."""
    if path.startswith('/__sim'):
        return False
    if method.upper() in SAFE_METHODS:
        return False
    return (method.upper(), path.rstrip('/') or '/') not in NOT_WRITES


class RequestLog:
    """In-memory log of every request (no bodies)."""

    def __init__(self, limit=100000):
        self.entries = []
        self.seq = 0
        self.limit = limit
        self.lock = threading.Lock()

    def add(self, entry):
        """Append an entry; assigns seq."""
        with self.lock:
            self.seq += 1
            entry['seq'] = self.seq
            self.entries.append(entry)
            if len(self.entries) > self.limit:
                del self.entries[:len(self.entries) - self.limit]
            return self.seq

    def since(self, seq):
        """Entries with seq > given."""
        with self.lock:
            return [dict(e) for e in self.entries if e['seq'] > seq]

    def clear(self):
        """Drop all entries (seq keeps counting)."""
        with self.lock:
            self.entries = []


class Fault:
    """One armed fault."""

    def __init__(self, spec):
        if not isinstance(spec, dict):
            raise ApiError(400, 'Invalid request payload', 'fault must be a JSON object')
        self.method = str(spec.get('method', '*')).upper()
        self.path_text = str(spec.get('path', '.*'))
        try:
            self.path = re.compile(self.path_text)
        except re.error as exc:
            raise ApiError(400, 'Invalid request payload', 'invalid path regex: %s' % exc) from exc
        self.count = spec.get('count', 1)
        if isinstance(self.count, bool) or not isinstance(self.count, int) or self.count < 1:
            raise ApiError(400, 'Invalid request payload', 'count must be a positive integer')
        self.action = spec.get('action', 'status')
        if self.action not in ACTIONS:
            raise ApiError(400, 'Invalid request payload', 'action must be one of %s' % ', '.join(ACTIONS))
        self.status = spec.get('status', 503)
        if isinstance(self.status, bool) or not isinstance(self.status, int) or not 100 <= self.status <= 599:
            raise ApiError(400, 'Invalid request payload', 'status must be an HTTP status code')
        self.seconds = spec.get('seconds', 30)
        if isinstance(self.seconds, bool) or not isinstance(self.seconds, (int, float)) or self.seconds < 0:
            raise ApiError(400, 'Invalid request payload', 'seconds must be a non-negative number')
        self.after = spec.get('after', 'drop')
        if self.after not in ('drop', 'answer'):
            raise ApiError(400, 'Invalid request payload', 'after must be drop or answer')
        self.hits = 0

    def matches(self, method, path):
        """True when this fault applies to the request."""
        return (self.method in ('*', method.upper())) and self.path.search(path) is not None

    def describe(self):
        """JSON form."""
        return {'method': self.method, 'path': self.path_text, 'count': self.count, 'action': self.action,
                'status': self.status, 'seconds': self.seconds, 'after': self.after, 'hits': self.hits}


class FaultSet:
    """Armed faults, consumed in order of arming."""

    def __init__(self):
        self.faults = []
        self.lock = threading.Lock()

    def add(self, fault):
        """Arm a fault."""
        with self.lock:
            self.faults.append(fault)

    def clear(self):
        """Disarm everything."""
        with self.lock:
            self.faults = []

    def take(self, method, path):
        """Consume one use of the first matching fault; returns a copy describing it, or None."""
        if path.startswith('/__sim'):
            return None
        with self.lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    fault.count -= 1
                    fault.hits += 1
                    if fault.count <= 0:
                        self.faults.remove(fault)
                    return copy.copy(fault)
        return None

    def describe(self):
        """JSON form."""
        with self.lock:
            return [f.describe() for f in self.faults]


def fault_body(status):
    """Portainer-style body for an injected status."""
    return util.error_body('Simulated fault', 'Simulated HTTP %d injected by the Portainer simulator' % status)


# --- /__sim routes ---------------------------------------------------------------------------------


def get_log(app, req):
    """GET /__sim/log[?since=N]."""
    since = req.query.get('since', ['0'])[0] or '0'
    try:
        since = int(since)
    except ValueError as exc:
        raise ApiError(400, 'Invalid query parameter: since', str(exc)) from exc
    return json_response(app.reqlog.since(since))


def delete_log(app, req):
    """DELETE /__sim/log."""
    del req
    app.reqlog.clear()
    return empty_response()


def post_faults(app, req):
    """POST /__sim/faults with one fault object or a list of them."""
    data = util.decode_json_body(req.body)
    specs = data if isinstance(data, list) else [data]
    faults = [Fault(spec) for spec in specs]
    for fault in faults:
        app.faults.add(fault)
    return json_response(app.faults.describe())


def get_faults(app, req):
    """GET /__sim/faults."""
    del req
    return json_response(app.faults.describe())


def delete_faults(app, req):
    """DELETE /__sim/faults."""
    del req
    app.faults.clear()
    return empty_response()


def post_expire_tokens(app, req):
    """POST /__sim/expire-tokens: every JWT issued so far becomes invalid."""
    del req
    app.jwt.rotate()
    return empty_response()


def delete_ratelimit(app, req):
    """DELETE /__sim/ratelimit: forget login buckets and bans."""
    del req
    app.limiter.reset()
    return empty_response()


def get_state(app, req):
    """GET /__sim/state: debugging dump (hashes and digests included, no raw secrets)."""
    del req
    with app.store.lock:
        data = copy.deepcopy(app.store.data)
    for registry in data.get('registries', []):
        if registry.get('Password'):
            registry['Password'] = '********'
    for stack in data.get('stacks', []):
        auth = (stack.get('GitConfig') or {}).get('Authentication')
        if auth and auth.get('Password'):
            auth['Password'] = '********'
    data['simulator'] = {
        'version': app.version.string, 'started': app.started, 'uptime': round(time.time() - app.started, 3),
        'faults': app.faults.describe(), 'ratelimit': app.limiter.snapshot(), 'compose': app.deployer.compose_command(),
        'data_dir': app.store.data_dir,
    }
    return json_response(data)


ROUTES = [
    ('GET', r'/__sim/log', get_log),
    ('DELETE', r'/__sim/log', delete_log),
    ('GET', r'/__sim/faults', get_faults),
    ('POST', r'/__sim/faults', post_faults),
    ('DELETE', r'/__sim/faults', delete_faults),
    ('POST', r'/__sim/expire-tokens', post_expire_tokens),
    ('DELETE', r'/__sim/ratelimit', delete_ratelimit),
    ('GET', r'/__sim/state', get_state),
]
