"""A small HTTP git server for the pier.portainer integration test bed.

It serves the bare repositories found below a root directory, on loopback:

* over git's "dumb" HTTP protocol: plain static files (``info/refs``,
  ``HEAD``, ``objects/...``) that ``git update-server-info`` keeps current
  (the test bed installs it as each repository's ``post-update`` hook);
* optionally (``--smart``) also over the smart protocol, by running
  ``git http-backend`` for ``git-upload-pack`` requests, which is what a
  shallow clone needs.  Pushing over HTTP is never offered.

Repositories below the private prefix (``private/`` by default) require HTTP
basic authentication with the configured user and password (the password is
read from the environment, ``PIER_GIT_PASSWORD``, so that it does not show in
the process list).  ``GET /_health`` answers with a small JSON document that
the set-up script uses to recognise its own server.

Only the Python standard library is used.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import dataclasses
import hmac
import http.server
import json
import os
import posixpath
import signal
import subprocess
import sys
import urllib.parse

SERVICE_NAME = 'pier-testbed-git'
DEFAULT_PASSWORD = 'pier-git-secret'
MAX_BODY = 64 * 1024 * 1024
BACKEND_TIMEOUT = 120

CONTENT_TYPES = {
    '.pack': 'application/x-git-packed-objects',
    '.idx': 'application/x-git-packed-objects-toc',
}


@dataclasses.dataclass
class Settings:
    """What the request handler needs to know, set once at start-up."""

    root: str
    private_prefix: str
    user: str
    password: str
    smart: bool = False
    tag: str = ''

    def __post_init__(self):
        self.root = os.path.realpath(self.root)
        self.private_prefix = self.private_prefix.strip('/')


def content_type_for(rel_path):
    """Return the Content-Type git's dumb protocol expects for a file."""
    base, ext = posixpath.splitext(rel_path)
    if ext in CONTENT_TYPES:
        return CONTENT_TYPES[ext]
    parts = base.split('/')
    if len(parts) >= 2 and parts[-2] != 'info' and len(parts[-2]) == 2 and '/objects/' in '/' + rel_path:
        return 'application/x-git-loose-object'
    return 'text/plain; charset=utf-8'


def clean_path(raw_path):
    """Turn a URL path into a safe path relative to the root, or None."""
    path = urllib.parse.unquote(raw_path)
    if '\x00' in path or '\\' in path:
        return None
    parts = [part for part in path.split('/') if part not in ('', '.')]
    if any(part == '..' for part in parts):
        return None
    return '/'.join(parts)


def split_cgi_output(output):
    """Split a CGI response into (status, headers, body)."""
    for separator in (b'\r\n\r\n', b'\n\n'):
        head, found, body = output.partition(separator)
        if found:
            break
    else:
        return 502, [], b''
    status = 200
    headers = []
    for line in head.decode('latin-1').splitlines():
        name, _sep, value = line.partition(':')
        name = name.strip()
        value = value.strip()
        if not name:
            continue
        if name.lower() == 'status':
            try:
                status = int(value.split()[0])
            except (ValueError, IndexError):
                status = 502
        else:
            headers.append((name, value))
    return status, headers, body


class GitRequestHandler(http.server.BaseHTTPRequestHandler):
    """Answer git's HTTP requests from the files below the root."""

    server_version = SERVICE_NAME + '/1'
    protocol_version = 'HTTP/1.1'
    settings = None  # replaced by a Settings instance in main()

    # ----------------------------------------------------------------- helpers

    def _reply(self, status, body=b'', content_type='text/plain; charset=utf-8', headers=None):
        if isinstance(body, str):
            body = body.encode('utf-8')
        self.send_response(status)
        self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(body)))
        self.send_header('Cache-Control', 'no-cache, max-age=0, must-revalidate')
        for name, value in headers or ():
            self.send_header(name, value)
        self.end_headers()
        if self.command != 'HEAD' and body:
            self.wfile.write(body)

    def _authorised_user(self):
        """Return the user name when the request carries valid credentials."""
        header = self.headers.get('Authorization', '')
        scheme, _sep, value = header.partition(' ')
        if scheme.lower() != 'basic' or not value:
            return None
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode('utf-8')
        except (binascii.Error, UnicodeDecodeError):
            return None
        user, sep, password = decoded.partition(':')
        if not sep:
            return None
        user_ok = hmac.compare_digest(user.encode('utf-8'), self.settings.user.encode('utf-8'))
        password_ok = hmac.compare_digest(password.encode('utf-8'), self.settings.password.encode('utf-8'))
        if user_ok and password_ok:
            return user
        return None

    def _is_private(self, rel):
        prefix = self.settings.private_prefix
        return bool(prefix) and (rel == prefix or rel.startswith(prefix + '/'))

    def _read_body(self):
        """Read the request body, plain or chunked."""
        if 'chunked' in self.headers.get('Transfer-Encoding', '').lower():
            chunks = []
            total = 0
            while True:
                size_line = self.rfile.readline(1024)
                size = int(size_line.split(b';')[0].strip() or b'0', 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b'\r\n', b'\n', b''):
                        pass
                    return b''.join(chunks)
                total += size
                if total > MAX_BODY:
                    raise ValueError('request body too large')
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)
        length = int(self.headers.get('Content-Length') or 0)
        if length > MAX_BODY:
            raise ValueError('request body too large')
        return self.rfile.read(length) if length else b''

    # ---------------------------------------------------------------- routing

    def _handle(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path == '/_health':
            doc = {'service': SERVICE_NAME, 'root': self.settings.root, 'tag': self.settings.tag, 'smart': self.settings.smart}
            self._reply(200, json.dumps(doc) + '\n', 'application/json')
            return
        rel = clean_path(url.path)
        if rel is None:
            self._reply(400, 'bad path\n')
            return
        if self._is_private(rel) and self._authorised_user() is None:
            self._reply(401, 'authentication required\n', headers=[('WWW-Authenticate', 'Basic realm="pier testbed git"')])
            return
        query = urllib.parse.parse_qs(url.query)
        service = query.get('service', [''])[0]
        if rel.endswith('/git-receive-pack') or service == 'git-receive-pack':
            self._reply(403, 'this server is read-only\n')
            return
        wants_smart = (rel.endswith('/info/refs') and service == 'git-upload-pack') or rel.endswith('/git-upload-pack')
        if self.settings.smart and wants_smart:
            self._run_backend(rel, url.query)
            return
        if self.command == 'POST':
            self._reply(405, 'method not allowed\n', headers=[('Allow', 'GET, HEAD')])
            return
        self._send_file(rel)

    def _send_file(self, rel):
        full = os.path.realpath(os.path.join(self.settings.root, rel))
        inside = full == self.settings.root or full.startswith(self.settings.root + os.sep)
        if not rel or not inside or not os.path.isfile(full):
            self._reply(404, 'not found\n')
            return
        try:
            with open(full, 'rb') as handle:
                data = handle.read()
        except OSError:
            self._reply(404, 'not found\n')
            return
        self._reply(200, data, content_type_for(rel))

    def _run_backend(self, rel, query):
        try:
            body = self._read_body() if self.command == 'POST' else b''
        except ValueError as exc:
            self._reply(400, f'{exc}\n')
            return
        env = self._backend_env(rel, query, len(body))
        try:
            result = subprocess.run(['git', 'http-backend'], input=body, env=env, capture_output=True, timeout=BACKEND_TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            self._reply(500, f'git http-backend failed: {exc}\n')
            return
        if result.stderr:
            sys.stderr.write(result.stderr.decode('utf-8', 'replace'))
        status, headers, payload = split_cgi_output(result.stdout)
        content_type = 'application/octet-stream'
        extra = []
        for name, value in headers:
            if name.lower() == 'content-type':
                content_type = value
            elif name.lower() not in ('content-length', 'transfer-encoding', 'connection'):
                extra.append((name, value))
        self._reply(status, payload, content_type, extra)

    def _backend_env(self, rel, query, length):
        """The CGI environment of git http-backend for this request."""
        env = {
            'PATH': os.environ.get('PATH', '/usr/bin:/bin'),
            'HOME': os.environ.get('HOME', '/'),
            'GIT_PROJECT_ROOT': self.settings.root,
            'GIT_HTTP_EXPORT_ALL': '1',
            'GATEWAY_INTERFACE': 'CGI/1.1',
            'SERVER_PROTOCOL': 'HTTP/1.1',
            'REQUEST_METHOD': self.command,
            'PATH_INFO': '/' + rel,
            'QUERY_STRING': query,
            'CONTENT_TYPE': self.headers.get('Content-Type', ''),
            'CONTENT_LENGTH': str(length),
            'REMOTE_ADDR': self.client_address[0],
        }
        if self._is_private(rel):
            env['REMOTE_USER'] = self.settings.user
        for header, variable in (('Content-Encoding', 'HTTP_CONTENT_ENCODING'), ('Git-Protocol', 'GIT_PROTOCOL')):
            if self.headers.get(header):
                env[variable] = self.headers[header]
        return env

    # ---------------------------------------------------------------- methods

    def do_GET(self):  # pylint: disable=invalid-name
        """Serve a GET request."""
        self._handle()

    def do_HEAD(self):  # pylint: disable=invalid-name
        """Serve a HEAD request."""
        self._handle()

    def do_POST(self):  # pylint: disable=invalid-name
        """Serve a POST request (smart protocol only)."""
        self._handle()

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        """Log one line per request to standard error."""
        sys.stderr.write(f'{self.client_address[0]} [{self.log_date_time_string()}] {format % args}\n')


class GitServer(http.server.ThreadingHTTPServer):
    """A threading HTTP server with a longer listen queue."""

    daemon_threads = True
    request_queue_size = 64


def parse_args(argv):
    """Parse the command line."""
    parser = argparse.ArgumentParser(description='HTTP git server for the pier.portainer test bed.')
    parser.add_argument('--root', required=True, help='directory holding the bare repositories')
    parser.add_argument('--host', default='127.0.0.1', help='address to listen on (default: 127.0.0.1)')
    parser.add_argument('--port', type=int, default=int(os.environ.get('PIER_GIT_PORT', '8929')), help='port (default: 8929)')
    parser.add_argument('--user', default=os.environ.get('PIER_GIT_USER', 'pier'), help='basic-auth user for private repositories')
    parser.add_argument('--private-prefix', default='private', help='path prefix of the repositories that need authentication')
    parser.add_argument('--smart', action='store_true', help='also serve the smart protocol through git http-backend')
    parser.add_argument('--pidfile', help='write the process id to this file')
    parser.add_argument('--tag', default='', help='opaque string echoed by /_health')
    return parser.parse_args(argv)


def _terminate(_signum, _frame):
    raise SystemExit(0)


def main(argv=None):
    """Run the server until it is terminated."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if not os.path.isdir(args.root):
        sys.stderr.write(f'root directory {args.root} does not exist\n')
        return 2
    password = os.environ.get('PIER_GIT_PASSWORD', DEFAULT_PASSWORD)
    GitRequestHandler.settings = Settings(args.root, args.private_prefix, args.user, password, args.smart, args.tag)
    server = GitServer((args.host, args.port), GitRequestHandler)
    signal.signal(signal.SIGTERM, _terminate)
    if args.pidfile:
        with open(args.pidfile, 'w', encoding='ascii') as handle:
            handle.write(f'{os.getpid()}\n')
    sys.stderr.write(f'{SERVICE_NAME} serving {args.root} on http://{args.host}:{args.port} (smart: {args.smart})\n')
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if args.pidfile:
            try:
                os.unlink(args.pidfile)
            except FileNotFoundError:
                pass
    return 0


if __name__ == '__main__':
    sys.exit(main())
