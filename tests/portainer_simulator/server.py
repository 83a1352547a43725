"""HTTP server, routing, CSRF layer, fault injection and request logging."""

import base64
import contextlib
import hmac
import http.server
import logging
import re
import secrets
import socket
import socketserver
import ssl
import sys
import time
import traceback

from . import auth, endpoints, faults, proxy, registries, stacks, system, util
from .deploy import Deployer
from .state import Store
from .versions import Version
from .web import Request, Response
from .util import ApiError, PlainError, DropConnection

LOG = logging.getLogger('portainer_simulator')
SAFE_METHODS = ('GET', 'HEAD', 'OPTIONS', 'TRACE')
PROXY_RE = re.compile(r'^/api/endpoints/(?P<ident>[^/]+)/(?:agent/)?docker(?P<rest>/.*)?$')
CSRF_COOKIE = '_gorilla_csrf'
ADMIN_INIT_EXEMPT = ('/api/status', '/api/settings/public')


class App:
    """Everything a handler needs."""

    def __init__(self, options):
        self.options = options
        self.version = Version(options.portainer_version)
        self.store = Store(options.data_dir)
        self.jwt = auth.JWTService()
        self.limiter = auth.RateLimiter()
        self.faults = faults.FaultSet()
        self.reqlog = faults.RequestLog()
        self.deployer = Deployer(self.store.data_dir)
        self.started = time.time()
        self.admin_init_timed_out = False
        self.routes = []
        route_sets = [system.ROUTES, auth.ROUTES, endpoints.ROUTES, endpoints.version_routes(self.version),
                      registries.ROUTES, stacks.ROUTES, stacks.version_routes(self.version), faults.ROUTES]
        for route_set in route_sets:
            for method, pattern, handler in route_set:
                self.routes.append((method, re.compile('^' + pattern + '$'), handler))
        self.poller = None
        if getattr(options, 'auto_update_poller', False):
            self.poller = stacks.AutoUpdatePoller(self)
            self.poller.start()

    def route(self, method, path):
        """(handler, kwargs) or raise PlainError 404/405 like gorilla/mux."""
        match = PROXY_RE.match(path)
        if match:
            return proxy.handle, {'ident': match.group('ident'), 'rest': match.group('rest') or ''}
        path_matched = False
        for route_method, regex, handler in self.routes:
            found = regex.match(path)
            if found:
                if route_method == method:
                    return handler, found.groupdict()
                path_matched = True
        if path_matched:
            raise PlainError(405, '')
        raise PlainError(404, '404 page not found\n')


class BodyReader:
    """Reads a request body given Content-Length or chunked transfer encoding."""

    def __init__(self, rfile, headers):
        self.rfile = rfile
        encoding = (headers.get('Transfer-Encoding') or '').lower()
        self.chunked = 'chunked' in encoding
        length = headers.get('Content-Length')
        try:
            self.length = int(length) if length and not self.chunked else 0
        except ValueError:
            self.length = 0
        self.remaining = self.length
        self.done = not self.chunked and self.length == 0
        self.buffer = None

    def iter_chunks(self, size=65536):
        """Yield the body in pieces (once)."""
        if self.buffer is not None:
            if self.buffer:
                yield self.buffer
            return
        if self.chunked:
            while not self.done:
                line = self.rfile.readline(65537)
                if not line:
                    self.done = True
                    break
                try:
                    chunk_size = int(line.split(b';', 1)[0].strip() or b'0', 16)
                except ValueError:
                    self.done = True
                    break
                if chunk_size == 0:
                    while True:
                        trailer = self.rfile.readline(65537)
                        if trailer in (b'\r\n', b'\n', b''):
                            break
                    self.done = True
                    break
                data = self.rfile.read(chunk_size)
                self.rfile.readline(3)
                yield data
        else:
            while self.remaining > 0:
                data = self.rfile.read(min(size, self.remaining))
                if not data:
                    self.remaining = 0
                    break
                self.remaining -= len(data)
                yield data
            self.done = True

    def read_all(self):
        """The whole body (cached)."""
        if self.buffer is None:
            self.buffer = b''.join(self.iter_chunks())
        return self.buffer

    def drain(self):
        """Consume whatever the handler did not read."""
        if self.buffer is None and not self.done:
            for dummy in self.iter_chunks():
                pass


def _mask_token(real):
    otp = secrets.token_bytes(len(real))
    return base64.b64encode(otp + bytes(a ^ b for a, b in zip(otp, real))).decode()


def _unmask_token(masked):
    try:
        data = base64.b64decode(masked)
    except (ValueError, TypeError):
        return None
    if len(data) != 64:
        return None
    otp, xored = data[:32], data[32:]
    return bytes(a ^ b for a, b in zip(otp, xored))


class Handler(http.server.BaseHTTPRequestHandler):
    """One connection; HTTP/1.1 keep-alive."""

    protocol_version = 'HTTP/1.1'
    server_version = 'PortainerSimulator'
    sys_version = ''
    app = None

    def setup(self):
        # Like Go's net/http (and so Portainer), send small writes at once: with Nagle's algorithm a streamed
        # answer (headers, then the body) waits for the client's delayed ACK, 40 ms per request on Linux.
        with contextlib.suppress(OSError):
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if isinstance(self.request, ssl.SSLSocket):
            try:
                self.request.settimeout(30)
                self.request.do_handshake()
                self.request.settimeout(None)
            except (OSError, ssl.SSLError):
                self.request.close()
                raise
        super().setup()

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        LOG.debug('%s - %s', self.address_string(), format % args)

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (ConnectionError, ssl.SSLError, socket.timeout):
            self.close_connection = True

    def __getattr__(self, name):
        if name.startswith('do_'):
            return self.dispatch
        raise AttributeError(name)

    # --- main flow --------------------------------------------------------------------------------

    def dispatch(self):
        """Handle any method."""
        app = self.app
        started = time.time()
        reader = BodyReader(self.rfile, self.headers)
        req = Request(app, self.command, self.path, self.headers, self.client_address[0], reader)
        entry = {'time': round(started, 6), 'method': self.command, 'path': req.path, 'query': req.raw_query,
                 'remote': '%s:%s' % (self.client_address[0], self.client_address[1]),
                 'write': faults.is_write(self.command, req.path)}
        try:
            response = self._process(req)
        except DropConnection:
            response = None
        except ApiError as exc:
            response = Response(exc.status, util.dumps(exc.body()))
        except PlainError as exc:
            response = Response(exc.status, exc.text.encode(), content_type='text/plain; charset=utf-8' if exc.text else None)
        except _Redirect as exc:
            response = exc.as_response()
        except Exception as exc:  # pylint: disable=broad-except
            LOG.error('unhandled error on %s %s: %s', self.command, req.path, traceback.format_exc())
            response = Response(500, util.dumps(util.error_body('Internal server error', str(exc))))
        status = getattr(response, 'status', 0) if response is not None else 0
        self._record(req, entry, status, started)
        try:
            if response is None:
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            else:
                try:
                    reader.drain()
                except (OSError, ValueError):
                    self.close_connection = True
                self._write(req, response)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            self.close_connection = True

    def _record(self, req, entry, status, started):
        """Log the request before its response is written, so a client never reads the log ahead of it."""
        app = self.app
        entry['status'] = status
        entry['changed'] = bool(req.changed)
        entry['auth'] = req.auth_kind if req.auth is not None and req.auth.kind != 'none' else auth.auth_kind_from_headers(app, req)
        entry['duration'] = round(time.time() - started, 6)
        if not req.path.startswith('/__sim'):
            app.reqlog.add(entry)
        if app.options.log_requests:
            sys.stdout.write('%s %s %s %s %s\n' % (time.strftime('%H:%M:%S'), req.method, req.path, status, entry['auth']))
            sys.stdout.flush()

    def _process(self, req):
        app = self.app
        fault = app.faults.take(req.method, req.path)
        if fault is not None:
            return self._apply_fault(fault, req)
        if app.version.csrf and not req.path.startswith('/__sim'):
            self._csrf_check(req)
        if app.options.admin_init_timeout and req.path.startswith('/api/') and req.path not in ADMIN_INIT_EXEMPT:
            self._admin_init_timeout_check()
        handler, kwargs = app.route(req.method, req.path)
        return handler(app, req, **kwargs)

    def _apply_fault(self, fault, req):
        LOG.info('fault %s on %s %s', fault.action, req.method, req.path)
        if fault.action == 'drop':
            raise DropConnection()
        if fault.action == 'unauthorized':
            raise ApiError(401, 'Invalid JWT token', 'Unauthorized')
        if fault.action == 'hang':
            time.sleep(fault.seconds)
            if fault.after == 'drop':
                raise DropConnection()
            handler, kwargs = self.app.route(req.method, req.path)
            return handler(self.app, req, **kwargs)
        if fault.status == 502:
            raise PlainError(502, '')
        body = faults.fault_body(fault.status)
        return Response(fault.status, util.dumps(body))

    def _admin_init_timeout_check(self):
        app = self.app
        if not app.admin_init_timed_out:
            with app.store.lock:
                if auth.admin_exists(app):
                    return
            if time.time() - app.started < app.options.admin_init_timeout:
                return
            app.admin_init_timed_out = True
        raise _Redirect()

    def _csrf_check(self, req):
        cookie_token = req.cookies.get(auth.COOKIE_NAME)
        real = None
        raw_cookie = req.cookies.get(CSRF_COOKIE)
        if raw_cookie:
            try:
                real = base64.b64decode(raw_cookie)
                if len(real) != 32:
                    real = None
            except (ValueError, TypeError):
                real = None
        if real is None:
            real = secrets.token_bytes(32)
            req.csrf_new_cookie = base64.b64encode(real).decode()
        req.csrf_real = real
        if not cookie_token:
            if req.headers.get('X-API-KEY') and req.headers.get('Authorization'):
                raise ApiError(403, 'api key and auth header are not allowed at the same time')
            return
        if req.method in SAFE_METHODS:
            return
        if req.csrf_new_cookie is not None:
            raise PlainError(403, 'Forbidden - CSRF token not found\n')
        sent = req.headers.get('X-CSRF-Token') or ''
        unmasked = _unmask_token(sent) if sent else None
        if unmasked is None or not hmac.compare_digest(unmasked, real):
            raise PlainError(403, 'Forbidden - CSRF token invalid\n')

    # --- output -----------------------------------------------------------------------------------

    @staticmethod
    def _common_headers(req, status):
        headers = [('X-Content-Type-Options', 'nosniff')]
        if req.csrf_real is not None:
            headers.append(('Vary', 'Cookie'))
            if req.csrf_new_cookie:
                headers.append(('Set-Cookie', '%s=%s; Path=/; Max-Age=43200; HttpOnly; SameSite=Lax' % (CSRF_COOKIE, req.csrf_new_cookie)))
            if 200 <= status < 300:
                headers.append(('X-CSRF-Token', _mask_token(req.csrf_real)))
        return headers

    def _write(self, req, response):
        if isinstance(response, proxy.HijackResponse):
            self.close_connection = True
            response.run(self.rfile, self.wfile, self.connection)
            return
        if isinstance(response, proxy.StreamResponse):
            self._write_stream(req, response)
            return
        no_body = response.status in (204, 304) or response.status < 200 or req.method == 'HEAD'
        self.send_response_only(response.status)
        self.send_header('Date', self.date_time_string())
        names = {name.lower() for name, dummy in response.headers}
        if response.content_type and 'content-type' not in names:
            self.send_header('Content-Type', response.content_type)
        for name, value in response.headers:
            self.send_header(name, value)
        for name, value in self._common_headers(req, response.status):
            self.send_header(name, value)
        if not no_body:
            self.send_header('Content-Length', str(len(response.body)))
        if self.close_connection:
            self.send_header('Connection', 'close')
        self.end_headers()
        if not no_body and response.body:
            self.wfile.write(response.body)
        self.wfile.flush()

    def _write_stream(self, req, response):
        no_body = response.status in (204, 304) or response.status < 200 or req.method == 'HEAD'
        self.send_response_only(response.status, response.reason)
        for name, value in response.headers:
            self.send_header(name, value)
        for name, value in self._common_headers(req, response.status):
            self.send_header(name, value)
        chunked = False
        if not no_body and response.length is None:
            if self.request_version == 'HTTP/1.1':
                chunked = True
                self.send_header('Transfer-Encoding', 'chunked')
            else:
                self.close_connection = True
        if self.close_connection:
            self.send_header('Connection', 'close')
        self.end_headers()
        self.wfile.flush()
        try:
            if no_body:
                response.close()
                return
            for piece in response.chunks():
                if chunked:
                    self.wfile.write(b'%x\r\n%s\r\n' % (len(piece), piece))
                else:
                    self.wfile.write(piece)
                self.wfile.flush()
            if chunked:
                self.wfile.write(b'0\r\n\r\n')
                self.wfile.flush()
        finally:
            response.close()


class _Redirect(Exception):
    """Admin-init timeout answer (303)."""

    def as_response(self):
        """The 303 response."""
        body = util.error_body('Administrator initialization timeout')
        return Response(303, util.dumps(body), headers=[('redirect-reason', 'AdminInitTimeout')])


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    """Threading HTTP server."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def build_server(options):
    """Create (but do not start) the server."""
    app = App(options)
    handler = type('BoundHandler', (Handler,), {'app': app})
    server = Server((options.host, options.port), handler)
    if options.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(options.tls_cert, options.tls_key)
        server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    server.app = app  # pylint: disable=attribute-defined-outside-init
    return server
