"""Real deployments: `docker stack deploy`, docker compose (plugin or docker-compose 1.x) and git."""

import base64
import json
import logging
import os
import shutil
import subprocess
import threading
import time
from urllib.parse import quote

from . import engine

LOG = logging.getLogger('portainer_simulator')


class DeployError(Exception):
    """A CLI failure; str() is the CLI's stderr (Portainer's 500 message)."""


# Variables that make Python's requests (inside docker-compose v1) trust another CA bundle than the one
# given with --tlscacert: requests lets them override the client's own setting.
_CA_BUNDLE_VARIABLES = ('REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE')


def _clean_env(extra=None):
    env = {key: value for key, value in os.environ.items()
           if not key.startswith('DOCKER_') and not key.startswith('COMPOSE_') and not key.startswith('GIT_')
           and key not in _CA_BUNDLE_VARIABLES}
    env.setdefault('PATH', '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin')
    env.update(extra or {})
    return env


class Deployer:
    """Runs the docker CLI, compose and git for the stack handlers."""

    def __init__(self, data_dir, timeout=600):
        self.data_dir = data_dir
        self.timeout = timeout
        self.config_dir = os.path.join(data_dir, 'docker_config')
        os.makedirs(self.config_dir, exist_ok=True)
        self._compose = None
        self._detach_flag = None
        self._lock = threading.Lock()

    # --- helpers ----------------------------------------------------------------------------------

    def run(self, args, env=None, cwd=None, timeout=None):
        """Run a command; return (rc, stdout, stderr)."""
        LOG.info('exec: %s', ' '.join(args))
        try:
            proc = subprocess.run(args, env=_clean_env(env), cwd=cwd, capture_output=True, timeout=timeout or self.timeout,
                                  check=False, stdin=subprocess.DEVNULL)
        except FileNotFoundError as exc:
            return 127, '', str(exc)
        except subprocess.TimeoutExpired as exc:
            return 124, '', 'command timed out after %ss: %s' % (exc.timeout, ' '.join(args))
        out = proc.stdout.decode('utf-8', 'replace')
        err = proc.stderr.decode('utf-8', 'replace')
        if proc.returncode != 0:
            LOG.info('exit %s: %s', proc.returncode, err.strip())
        return proc.returncode, out, err

    def compose_command(self):
        """['docker', 'compose'] when the plugin exists, else ['docker-compose'] (detected once)."""
        with self._lock:
            if self._compose is None:
                rc, dummy, dummy2 = self.run(['docker', 'compose', 'version'], timeout=30)
                if rc == 0:
                    self._compose = ['docker', 'compose']
                elif shutil.which('docker-compose'):
                    self._compose = ['docker-compose']
                else:
                    self._compose = ['docker', 'compose']
            return list(self._compose)

    def _stack_detach_flag(self):
        with self._lock:
            if self._detach_flag is None:
                rc, out, err = self.run(['docker', 'stack', 'deploy', '--help'], timeout=30)
                self._detach_flag = rc == 0 and '--detach' in (out + err)
            return self._detach_flag

    @staticmethod
    def _fail(stderr, stdout=''):
        text = (stderr or '').strip() or (stdout or '').strip() or 'command failed'
        raise DeployError(text)

    # --- swarm ------------------------------------------------------------------------------------

    def swarm_deploy(self, target, name, files, env, prune=False, pull=True, cwd=None):
        """docker stack deploy; env is passed as the CLI's process environment."""
        args = ['docker', '--config', self.config_dir] + target.cli_args() + ['stack', 'deploy', '--with-registry-auth']
        if self._stack_detach_flag():
            args.append('--detach=true')
        if prune:
            args.append('--prune')
        if not pull:
            args.append('--resolve-image=never')
        for path in files:
            args += ['--compose-file', path]
        args.append(name)
        rc, out, err = self.run(args, env={item['name']: item['value'] for item in env or []}, cwd=cwd)
        if rc != 0:
            self._fail(err, out)

    def swarm_remove(self, target, name):
        """docker stack rm, then wait until the stack's services and networks are gone (see README)."""
        args = ['docker', '--config', self.config_dir] + target.cli_args() + ['stack', 'rm', name]
        rc, out, err = self.run(args)
        if rc != 0:
            self._fail(err, out)
        label = quote(json.dumps({'label': ['com.docker.stack.namespace=%s' % name]}))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                dummy, services = engine.request_json(target, 'GET', '/services?filters=' + label)
                dummy, networks = engine.request_json(target, 'GET', '/networks?filters=' + label)
                dummy, containers = engine.request_json(target, 'GET', '/containers/json?all=1&filters=' + label)
            except engine.EngineError:
                return
            if not services and not networks and not containers:
                return
            time.sleep(0.25)

    # --- compose ----------------------------------------------------------------------------------

    def _compose_base(self, target, name, project_dir, files, env_file):
        base = self.compose_command()
        if base[0] == 'docker':
            args = ['docker', '--config', self.config_dir] + target.cli_args() + ['compose']
        else:
            args = base + target.cli_args()
        for path in files:
            args += ['-f', path]
        args += ['--project-name', name]
        if env_file and os.path.exists(env_file):
            args += ['--env-file', env_file]
        args += ['--project-directory', project_dir]
        return args

    def compose_up(self, target, name, project_dir, files, env_file, force_recreate=False, pull=False):
        """compose [pull] then up -d; on a failed up, down --remove-orphans (Portainer's rollback)."""
        base = self._compose_base(target, name, project_dir, files, env_file)
        env = {'DOCKER_CONFIG': self.config_dir}
        if pull:
            rc, out, err = self.run(base + ['pull'], env=env, cwd=project_dir)
            if rc != 0:
                self._fail(err, out)
        args = base + ['up', '-d']
        if force_recreate:
            args.append('--force-recreate')
        rc, out, err = self.run(args, env=env, cwd=project_dir)
        if rc != 0:
            self.run(base + ['down', '--remove-orphans'], env=env, cwd=project_dir)
            self._fail(err, out)

    def compose_down(self, target, name, project_dir, files, env_file):
        """compose down --remove-orphans (volumes kept)."""
        if not os.path.isdir(project_dir):
            project_dir = self.data_dir
            files = []
        base = self._compose_base(target, name, project_dir, files, env_file)
        rc, out, err = self.run(base + ['down', '--remove-orphans'], env={'DOCKER_CONFIG': self.config_dir}, cwd=project_dir)
        if rc != 0:
            self._fail(err, out)

    # --- git --------------------------------------------------------------------------------------

    @staticmethod
    def _git_env(username, password, tls_skip):
        env = {'GIT_TERMINAL_PROMPT': '0', 'GIT_ASKPASS': '/bin/true'}
        count = 0
        if username or password:
            token = base64.b64encode(('%s:%s' % (username or '', password or '')).encode()).decode()
            env['GIT_CONFIG_KEY_%d' % count] = 'http.extraHeader'
            env['GIT_CONFIG_VALUE_%d' % count] = 'Authorization: Basic ' + token
            count += 1
        if tls_skip:
            env['GIT_CONFIG_KEY_%d' % count] = 'http.sslVerify'
            env['GIT_CONFIG_VALUE_%d' % count] = 'false'
            count += 1
        env['GIT_CONFIG_COUNT'] = str(count)
        return env

    @staticmethod
    def _branch(reference):
        if not reference:
            return None
        for prefix in ('refs/heads/', 'refs/tags/'):
            if reference.startswith(prefix):
                return reference[len(prefix):]
        return reference

    def git_clone(self, url, reference, dest, username='', password='', tls_skip=False):
        """Clone url at reference into dest (which must not exist); return the commit sha."""
        args = ['git', 'clone', '--quiet', '--no-tags']
        branch = self._branch(reference)
        if branch:
            args += ['--branch', branch, '--single-branch']
        args += ['--', url, dest]
        rc, out, err = self.run(args, env=self._git_env(username, password, tls_skip), timeout=120)
        if rc != 0:
            text = (err or out).strip()
            if 'Authentication failed' in text or '401' in text or 'could not read Username' in text:
                raise DeployError('authentication required: %s' % text)
            if 'Remote branch' in text and 'not found' in text:
                raise DeployError('reference not found: %s' % text)
            raise DeployError('unable to clone git repository: %s' % text)
        rc, out, err = self.run(['git', '-C', dest, 'rev-parse', 'HEAD'], timeout=30)
        if rc != 0:
            raise DeployError('unable to read the commit: %s' % err.strip())
        return out.strip()

    def git_latest_commit(self, url, reference, username='', password='', tls_skip=False):
        """ls-remote: the sha the reference points to (default branch when empty)."""
        ref = reference or 'HEAD'
        rc, out, err = self.run(['git', 'ls-remote', '--', url, ref], env=self._git_env(username, password, tls_skip), timeout=60)
        if rc != 0:
            raise DeployError('unable to fetch git repository: %s' % (err or out).strip())
        for line in out.splitlines():
            sha, dummy, name = line.partition('\t')
            if name in (ref, 'refs/heads/' + ref, 'refs/tags/' + ref) or ref == 'HEAD':
                return sha
        raise DeployError('reference not found: %s' % ref)
