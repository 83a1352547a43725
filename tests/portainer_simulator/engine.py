"""Talking to a real Docker engine over a unix socket, plain TCP or TCP with (mutual) TLS."""

import http.client
import json
import socket
import ssl
from urllib.parse import urlsplit


class EngineError(Exception):
    """The engine could not be reached or answered unusably."""


class UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP over a unix socket."""

    def __init__(self, socket_path, timeout=None):
        super().__init__('localhost', timeout=timeout)
        self.socket_path = socket_path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if self.timeout is not None:
            sock.settimeout(self.timeout)
        sock.connect(self.socket_path)
        self.sock = sock


class Target:
    """Where and how to reach an endpoint's engine."""

    def __init__(self, url, tls=False, skip_verify=False, ca=None, cert=None, key=None):
        self.url = url
        self.tls = tls
        self.skip_verify = skip_verify
        self.ca = ca
        self.cert = cert
        self.key = key
        parts = urlsplit(url or '')
        self.scheme = parts.scheme
        if self.scheme == 'unix':
            self.socket_path = (parts.netloc + parts.path) or '/var/run/docker.sock'
            self.host = None
            self.port = None
        elif self.scheme in ('tcp', 'http', 'https'):
            self.socket_path = None
            try:
                self.host = parts.hostname
                self.port = parts.port or (2376 if (tls or self.scheme == 'https') else 2375)
            except ValueError as exc:
                raise EngineError('unable to parse docker host `%s`' % url) from exc
            if not self.host:
                raise EngineError('unable to parse docker host `%s`' % url)
            if self.scheme == 'https':
                self.tls = True
        elif self.scheme == 'npipe':
            raise EngineError('protocol not available')
        else:
            raise EngineError('unable to parse docker host `%s`' % url)

    @property
    def is_socket(self):
        """True for unix socket targets."""
        return self.socket_path is not None

    @property
    def host_header(self):
        """Host header Portainer's reverse proxy sends to TCP targets."""
        return '%s:%d' % (self.host, self.port) if self.host else 'docker'

    def ssl_context(self):
        """Client TLS context from the stored files."""
        if self.skip_verify:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        else:
            context = ssl.create_default_context(cafile=self.ca) if self.ca else ssl.create_default_context()
        if self.cert and self.key:
            context.load_cert_chain(self.cert, self.key)
        return context

    def connection(self, timeout=30):
        """A new http.client connection to the engine."""
        if self.is_socket:
            return UnixHTTPConnection(self.socket_path, timeout=timeout)
        if self.tls:
            try:
                context = self.ssl_context()
            except (OSError, ssl.SSLError) as exc:
                raise EngineError('could not load TLS material: %s' % exc) from exc
            return http.client.HTTPSConnection(self.host, self.port, timeout=timeout, context=context)
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def cli_host(self):
        """The -H value for the docker CLI and docker-compose."""
        if self.is_socket:
            return 'unix://' + self.socket_path
        return 'tcp://%s:%d' % (self.host, self.port)

    def cli_args(self):
        """Global connection arguments for `docker` and docker-compose 1.x."""
        args = ['-H', self.cli_host()]
        if self.tls and not self.is_socket:
            if self.skip_verify:
                args.append('--tls')
            else:
                args.append('--tlsverify')
                if self.ca:
                    args += ['--tlscacert', self.ca]
            if self.cert and self.key:
                args += ['--tlscert', self.cert, '--tlskey', self.key]
        return args

    def cli_env(self):
        """Environment for the v2 compose plugin, which takes its connection from DOCKER_* variables."""
        env = {'DOCKER_HOST': self.cli_host()}
        if self.tls and not self.is_socket:
            env['DOCKER_TLS'] = '1'
            if not self.skip_verify:
                env['DOCKER_TLS_VERIFY'] = '1'
        return env

    def describe(self):
        """Text used in connection error messages, like the Go docker client."""
        return self.cli_host()


def request(target, method, path, body=None, headers=None, timeout=30):
    """One buffered request; returns (status, headers list, body bytes)."""
    try:
        conn = target.connection(timeout=timeout)
        try:
            hdrs = {'Host': target.host_header}
            hdrs.update(headers or {})
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, resp.getheaders(), data
        finally:
            conn.close()
    except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
        raise EngineError(connect_error(target, method, path, exc)) from exc


def connect_error(target, method, path, exc):
    """The Go docker client's wording for a failed connection."""
    if isinstance(exc, (ConnectionRefusedError, FileNotFoundError)):
        return 'Cannot connect to the Docker daemon at %s. Is the docker daemon running?' % target.describe()
    scheme = 'https' if target.tls and not target.is_socket else 'http'
    host = 'docker' if target.is_socket else '%s:%d' % (target.host, target.port)
    return 'error during connect: %s "%s://%s%s": %s' % (method, scheme, host, path, exc)


def request_json(target, method, path, payload=None, timeout=30):
    """JSON request; returns (status, decoded body or None)."""
    body = json.dumps(payload).encode() if payload is not None else None
    headers = {'Content-Type': 'application/json'} if body is not None else {}
    status, dummy, data = request(target, method, path, body, headers, timeout)
    try:
        return status, json.loads(data) if data else None
    except ValueError:
        return status, None


def ping(target, timeout=10):
    """GET /_ping; raise EngineError when it fails."""
    status, dummy, data = request(target, 'GET', '/_ping', timeout=timeout)
    if status != 200:
        raise EngineError('Error response from daemon: %s' % data.decode('utf-8', 'replace').strip())


def info(target, timeout=10):
    """GET /info as a dict (raises EngineError)."""
    status, data = request_json(target, 'GET', '/info', timeout=timeout)
    if status != 200 or not isinstance(data, dict):
        raise EngineError('unexpected /info answer %s' % status)
    return data
