"""Request and response objects used by the route handlers."""

from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from . import util
from .util import ApiError


class Response:
    """A complete (buffered) response. Streaming responses are written by the proxy directly."""

    def __init__(self, status, body=b'', headers=None, content_type='application/json'):
        self.status = status
        self.body = body
        self.headers = list(headers or [])
        self.content_type = content_type


def json_response(obj, status=200, headers=None):
    """JSON body without trailing newline."""
    return Response(status, util.dumps(obj), headers)


def empty_response(status=204):
    """Empty body."""
    return Response(status, b'', content_type=None)


def route_int(value, message):
    """A numeric route variable; 400 with Portainer's message otherwise."""
    try:
        return util.parse_int_strict(value)
    except ValueError as exc:
        raise ApiError(400, message, str(exc)) from exc


def query_int(req, name, optional=False, message=None):
    """RetrieveNumericQueryParameter: 400 'Invalid query parameter: <name>' when missing or not numeric."""
    value = req.query.get(name, [''])[0]
    if value == '':
        if optional:
            return 0
        raise ApiError(400, message or 'Invalid query parameter: %s' % name, 'Missing query parameter')
    try:
        return util.parse_int_strict(value)
    except ValueError as exc:
        if optional:
            return 0
        raise ApiError(400, message or 'Invalid query parameter: %s' % name, str(exc)) from exc


def query_str(req, name):
    """First value of a query parameter or ''."""
    return req.query.get(name, [''])[0]


class Request:
    """An incoming request as the handlers see it."""

    def __init__(self, app, method, target, headers, client_ip, body_reader):
        self.app = app
        self.method = method
        self.target = target
        path, dummy, raw_query = target.partition('?')
        self.path = path
        self.raw_query = raw_query
        self.query = parse_qs(raw_query, keep_blank_values=True)
        self.headers = headers
        self.client_ip = client_ip
        self._body_reader = body_reader
        self._body = None
        self.auth = None
        self.changed = False
        self.resolved_id = None
        self.csrf_real = None
        self.csrf_new_cookie = None
        self.cookies = {}
        for raw in headers.get_all('Cookie') or []:
            jar = SimpleCookie()
            try:
                jar.load(raw)
            except Exception:  # pylint: disable=broad-except
                continue
            for key, morsel in jar.items():
                self.cookies.setdefault(key, morsel.value)

    @property
    def body(self):
        """The whole request body (read on first use)."""
        if self._body is None:
            self._body = self._body_reader.read_all() if self._body_reader else b''
        return self._body

    @property
    def body_reader(self):
        """The streaming body reader (proxy use)."""
        return self._body_reader

    def form(self):
        """Parse the body as a form (multipart or urlencoded); query values are a fallback."""
        return util.parse_form(self.headers.get('Content-Type'), self.body, self.query)

    @property
    def auth_kind(self):
        """none/jwt/apikey/cookie."""
        return self.auth.kind if self.auth is not None else None
