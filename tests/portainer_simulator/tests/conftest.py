"""Fixtures: simulator processes, the real Docker engine, a private git server and a fake Docker engine."""
# pylint: disable=redefined-outer-name,consider-using-with

import base64
import http.server
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import time

import pytest
import requests
import urllib3

from simtest_helpers import ADMIN_USER, ADMIN_PASSWORD, PREFIX, TESTBED_ENV, docker, need, testbed_env  # pylint: disable=import-error

urllib3.disable_warnings()

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port():
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class Sim:
    """One simulator process."""

    def __init__(self, data_dir, version='2.23.0', extra=None):
        self.data_dir = str(data_dir)
        self.version = version
        self.extra = list(extra or [])
        self.port = free_port()
        self.scheme = 'https' if '--tls-cert' in self.extra else 'http'
        self.base = '%s://127.0.0.1:%d' % (self.scheme, self.port)
        self.proc = None
        self.log_path = os.path.join(self.data_dir, 'sim.log')
        self.startup_seconds = None
        self._admin_token = None

    def start(self):
        """Start and wait for /api/status (must be < 5 s)."""
        os.makedirs(self.data_dir, exist_ok=True)
        cmd = [sys.executable, '-m', 'portainer_simulator', '--port', str(self.port), '--data-dir', self.data_dir,
               '--portainer-version', self.version, '--log-file', self.log_path] + self.extra
        self.proc = subprocess.Popen(cmd, cwd=TESTS_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        started = time.time()
        while time.time() - started < 5:
            try:
                if requests.get(self.base + '/api/status', timeout=1, verify=False).status_code == 200:
                    self.startup_seconds = time.time() - started
                    return self
            except requests.ConnectionError:
                time.sleep(0.05)
            if self.proc.poll() is not None:
                raise RuntimeError('simulator exited: %s' % self.proc.stderr.read().decode())
        raise RuntimeError('simulator did not start within 5 s')

    def stop(self):
        """Terminate the process."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc = None

    def restart(self):
        """Same data dir and port, new process (new JWT secret)."""
        self.stop()
        self._admin_token = None
        return self.start()

    def url(self, path):
        """Absolute URL."""
        return self.base + path

    def request(self, method, path, token=None, apikey=None, headers=None, **kwargs):
        """One request without any cookie jar."""
        hdrs = dict(headers or {})
        if token:
            hdrs['Authorization'] = 'Bearer ' + token
        if apikey:
            hdrs['X-API-KEY'] = apikey
        kwargs.setdefault('timeout', 120)
        kwargs.setdefault('verify', False)
        return requests.request(method, self.base + path, headers=hdrs, **kwargs)

    def admin(self, method, path, **kwargs):
        """Request as the admin (JWT)."""
        return self.request(method, path, token=self.admin_token(), **kwargs)

    def init_admin(self):
        """Create the admin if needed."""
        resp = self.request('POST', '/api/users/admin/init', json={'Username': ADMIN_USER, 'Password': ADMIN_PASSWORD})
        assert resp.status_code in (200, 409), resp.text
        return resp

    def login(self, username=ADMIN_USER, password=ADMIN_PASSWORD):
        """JWT for a user."""
        resp = self.request('POST', '/api/auth', json={'Username': username, 'Password': password})
        assert resp.status_code == 200, resp.text
        return resp.json()['jwt']

    def admin_token(self):
        """Cached admin JWT."""
        if self._admin_token is None:
            self.init_admin()
            self._admin_token = self.login()
        return self._admin_token

    def create_user(self, username, password='pier-sim-user-pass', role=2):
        """A user and its JWT."""
        resp = self.admin('POST', '/api/users', json={'Username': username, 'Password': password, 'Role': role})
        assert resp.status_code in (200, 409), resp.text
        return self.login(username, password)

    def reset_ratelimit(self):
        """Forget login buckets."""
        assert self.request('DELETE', '/__sim/ratelimit').status_code == 204

    def log(self, since=0):
        """The request log."""
        return self.request('GET', '/__sim/log?since=%d' % since).json()

    def create_endpoint(self, name, url='unix:///var/run/docker.sock', files=None, **fields):
        """POST /api/endpoints as admin; returns the response."""
        data = {'Name': name, 'EndpointCreationType': '1', 'URL': url}
        data.update({k: str(v) for k, v in fields.items()})
        if files:
            return self.admin('POST', '/api/endpoints', data=data, files=files)
        return self.admin('POST', '/api/endpoints', files={k: (None, v) for k, v in data.items()})


@pytest.fixture(scope='session')
def sim_factory(tmp_path_factory):
    """Start extra simulators: sim_factory(version='2.19.0', extra=[...])."""
    started = []

    def make(version='2.23.0', extra=None):
        sim = Sim(tmp_path_factory.mktemp('sim'), version, extra).start()
        started.append(sim)
        return sim

    yield make
    for sim in started:
        sim.stop()


@pytest.fixture(scope='session')
def sim(sim_factory):
    """The shared 2.23.0 simulator with an admin."""
    instance = sim_factory('2.23.0')
    instance.admin_token()
    return instance


@pytest.fixture()
def fresh_sim(tmp_path):
    """A private simulator for tests that change global state (rate limit, restart, faults)."""
    instances = []

    def make(version='2.23.0', extra=None):
        instance = Sim(tmp_path / ('sim%d' % len(instances)), version, extra).start()
        instances.append(instance)
        return instance

    yield make
    for instance in instances:
        instance.stop()


# --- engine ----------------------------------------------------------------------------------------


def _ping_unix(path):
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(3)
            sock.connect(path)
            sock.sendall(b'GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n')
            return b' 200 ' in sock.recv(1024)
    except OSError:
        return False


def _ping_tcp(port, context=None):
    try:
        with socket.create_connection(('127.0.0.1', port), timeout=3) as raw:
            sock = context.wrap_socket(raw, server_hostname='127.0.0.1') if context else raw
            sock.sendall(b'GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n')
            return b' 200 ' in sock.recv(1024)
    except (OSError, ssl.SSLError):
        return False


@pytest.fixture(scope='session')
def engine_socket():
    """The real engine on the unix socket."""
    path = testbed_env().get('PIER_DOCKER_SOCKET', '/var/run/docker.sock')
    need(_ping_unix(path), 'no Docker engine answering on %s' % path)
    return 'unix://' + path


@pytest.fixture(scope='session')
def engine_tcp():
    """The real engine on plain TCP."""
    port = int(testbed_env().get('PIER_DOCKER_TCP_PORT', '2375'))
    need(_ping_tcp(port), 'no Docker engine on tcp://127.0.0.1:%d' % port)
    return 'tcp://127.0.0.1:%d' % port


@pytest.fixture(scope='session')
def engine_tls():
    """(url, ca, cert, key) of the real engine behind mutual TLS."""
    env = testbed_env()
    ca, cert, key = env.get('PIER_TLS_CA'), env.get('PIER_TLS_CERT'), env.get('PIER_TLS_KEY')
    need(bool(ca and cert and key and os.path.exists(ca)), 'no test bed TLS material in %s' % TESTBED_ENV)
    port = int(env.get('PIER_DOCKER_TLS_PORT', '2376'))
    context = ssl.create_default_context(cafile=ca)
    context.load_cert_chain(cert, key)
    need(_ping_tcp(port, context), 'no Docker engine on tcp://127.0.0.1:%d with TLS' % port)
    return 'tcp://127.0.0.1:%d' % port, ca, cert, key


@pytest.fixture(scope='session')
def swarm_id(engine_socket):
    """The swarm cluster id (skips/fails when the engine is not a swarm manager)."""
    del engine_socket
    out = subprocess.run(['docker', 'info', '--format', '{{.Swarm.Cluster.ID}}'], capture_output=True, text=True, check=False)
    need(out.returncode == 0 and out.stdout.strip(), 'the engine is not a swarm manager')
    return out.stdout.strip()


@pytest.fixture(scope='session')
def local_endpoint(sim, engine_socket):
    """Endpoint 'pier-sim-local' on the unix socket in the shared simulator; returns its id."""
    resp = sim.create_endpoint('pier-sim-local', engine_socket)
    assert resp.status_code == 200, resp.text
    return resp.json()['Id']


@pytest.fixture(scope='session', autouse=True)
def docker_cleanup():
    """Remove pier-sim- containers, stacks, volumes and networks after the session."""
    yield
    if not _ping_unix('/var/run/docker.sock'):
        return
    stacks = docker('stack', 'ls', '--format', '{{.Name}}').stdout.split()
    for name in stacks:
        if name.startswith(PREFIX):
            docker('stack', 'rm', name)
    ids = docker('ps', '-aq', '--filter', 'name=' + PREFIX).stdout.split()
    if ids:
        docker('rm', '-f', *ids)
    for kind in ('volume', 'network'):
        names = docker(kind, 'ls', '-q', '--filter', 'name=' + PREFIX).stdout.split()
        if names:
            docker(kind, 'rm', *names)


# --- git server ------------------------------------------------------------------------------------


class GitServer:
    """Dumb-HTTP git server with a public repo (sim.git) and a basic-auth one (private/sim.git)."""

    USER = 'pier-sim'
    PASSWORD = 'pier-sim-git-secret'

    def __init__(self, root):
        self.root = str(root)
        self.port = free_port()
        self.work = os.path.join(self.root, 'work')
        handler = self._handler()
        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', self.port), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def _handler(self):
        root = os.path.join(self.root, 'srv')
        token = base64.b64encode(('%s:%s' % (self.USER, self.PASSWORD)).encode()).decode()

        class Handler(http.server.SimpleHTTPRequestHandler):
            """Static files; /private/ needs basic auth."""

            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=root, **kwargs)

            def log_message(self, format, *args):  # pylint: disable=redefined-builtin
                pass

            def do_GET(self):
                if self.path.startswith('/private/') and self.headers.get('Authorization') != 'Basic ' + token:
                    self.send_response(401)
                    self.send_header('WWW-Authenticate', 'Basic realm="git"')
                    self.send_header('Content-Length', '0')
                    self.end_headers()
                    return
                super().do_GET()

        return Handler

    def git(self, *args, cwd=None):
        """Run git."""
        env = dict(os.environ, GIT_AUTHOR_NAME='pier', GIT_AUTHOR_EMAIL='p@x', GIT_COMMITTER_NAME='pier',
                   GIT_COMMITTER_EMAIL='p@x')
        out = subprocess.run(['git'] + list(args), cwd=cwd or self.work, capture_output=True, text=True, check=True, env=env)
        return out.stdout.strip()

    def setup(self):
        """Create both repositories with branches main and branch-b."""
        os.makedirs(self.work)
        self.git('init', '-q', '-b', 'main', cwd=self.work)
        self.write('compose/docker-compose.yml', COMPOSE_FILE % 'main')
        self.write('compose/.env', 'PIER_FROM_DOTENV=yes\n')
        self.write('swarm/docker-stack.yml', SWARM_FILE % 'main')
        self.git('add', '-A')
        self.git('commit', '-qm', 'main')
        self.git('checkout', '-qb', 'branch-b')
        self.write('compose/docker-compose.yml', COMPOSE_FILE % 'branch-b')
        self.git('commit', '-qam', 'b')
        self.git('checkout', '-q', 'main')
        for repo in ('sim.git', 'private/sim.git'):
            path = os.path.join(self.root, 'srv', repo)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            subprocess.run(['git', 'clone', '-q', '--bare', self.work, path], check=True)
            subprocess.run(['git', '-C', path, 'update-server-info'], check=True)
        self.thread.start()
        return self

    def write(self, rel, content):
        """Write a file in the work tree."""
        path = os.path.join(self.work, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w', encoding='utf-8') as handle:
            handle.write(content)

    def commit(self, branch='main', rel='compose/docker-compose.yml', content=None):
        """New commit pushed to both repositories; returns its sha."""
        self.git('checkout', '-q', branch)
        self.write(rel, content or (COMPOSE_FILE % branch) + '# changed %f\n' % time.time())
        self.git('commit', '-qam', 'change')
        sha = self.git('rev-parse', 'HEAD')
        for repo in ('sim.git', 'private/sim.git'):
            path = os.path.join(self.root, 'srv', repo)
            self.git('push', '-q', path, branch)
            subprocess.run(['git', '-C', path, 'update-server-info'], check=True)
        self.git('checkout', '-q', 'main')
        return sha

    def head(self, branch='main'):
        """Current sha of a branch."""
        return self.git('rev-parse', branch)

    @property
    def url(self):
        """Public repo URL."""
        return 'http://127.0.0.1:%d/sim.git' % self.port

    @property
    def private_url(self):
        """Basic-auth repo URL."""
        return 'http://127.0.0.1:%d/private/sim.git' % self.port

    def stop(self):
        """Shut down."""
        self.httpd.shutdown()


COMPOSE_FILE = '''version: "3.8"
services:
  app:
    image: pier-test/busybox:1
    command: ["sleep", "3600"]
    stop_grace_period: 1s
    env_file: stack.env
    labels:
      pier.branch: "%s"
'''

SWARM_FILE = '''version: "3.8"
services:
  app:
    image: pier-test/busybox:1
    command: ["sleep", "3600"]
    stop_grace_period: 1s
    environment:
      PIER_MESSAGE: "${PIER_MESSAGE:-none}"
    labels:
      pier.branch: "%s"
'''


@pytest.fixture(scope='session')
def git_server(tmp_path_factory):
    """The private git server."""
    server = GitServer(tmp_path_factory.mktemp('git')).setup()
    yield server
    server.stop()


# --- fake docker engine ----------------------------------------------------------------------------


class FakeDocker:
    """A TCP server answering like a tiny Docker engine and recording every request it gets."""

    def __init__(self):
        self.requests = []
        self.port = free_port()
        records = self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            """Records the request; answers JSON."""

            protocol_version = 'HTTP/1.1'

            def log_message(self, format, *args):  # pylint: disable=redefined-builtin
                pass

            def _answer(self):
                length = int(self.headers.get('Content-Length') or 0)
                body = self.rfile.read(length) if length else b''
                records.append({'method': self.command, 'path': self.path, 'headers': dict(self.headers.items()),
                                'header_list': list(self.headers.items()), 'body': body})
                if self.path.endswith('/_ping'):
                    payload = b'OK'
                elif self.path.endswith('/info'):
                    payload = json.dumps({'ID': 'FAKE:ENGINE', 'Containers': 0, 'Images': 0, 'Swarm': {'LocalNodeState': 'inactive'}}).encode()
                elif self.path.endswith('/version'):
                    payload = json.dumps({'Version': '20.10.0-fake', 'ApiVersion': '1.41'}).encode()
                elif '/stream' in self.path:
                    self.send_response(200)
                    self.send_header('Content-Type', 'application/json')
                    self.send_header('Transfer-Encoding', 'chunked')
                    self.end_headers()
                    for index in range(3):
                        piece = json.dumps({'status': 'step %d' % index}).encode() + b'\n'
                        self.wfile.write(b'%x\r\n%s\r\n' % (len(piece), piece))
                        self.wfile.flush()
                        time.sleep(0.3)
                    self.wfile.write(b'0\r\n\r\n')
                    return
                else:
                    payload = json.dumps({'echo': self.path}).encode()
                self.send_response(200)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _answer

        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', self.port), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self):
        """tcp:// URL."""
        return 'tcp://127.0.0.1:%d' % self.port

    def stop(self):
        """Shut down."""
        self.httpd.shutdown()


@pytest.fixture(scope='session')
def fake_docker():
    """A recording fake engine on TCP."""
    server = FakeDocker()
    yield server
    server.stop()
