# -*- coding: utf-8 -*-
# Copyright (c) pier.portainer contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to the pier.portainer collection. It may change without notice
# and must not be used by other collections.

"""The one HTTP client of the collection: connection settings, authentication, errors, retries."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import re
import stat
import tempfile
import time
import traceback

from http.cookiejar import DefaultCookiePolicy
from urllib.parse import quote, urlsplit

try:
    import fcntl
except ImportError:  # pragma: no cover - non-POSIX controller
    fcntl = None

REQUESTS_IMPORT_ERROR = None
try:
    import requests
    from requests.adapters import HTTPAdapter
except ImportError:  # pragma: no cover - exercised by the sanity import test
    requests = None
    HTTPAdapter = object
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

HAS_REQUESTS = REQUESTS_IMPORT_ERROR is None

SAFE_METHODS = frozenset(('GET', 'HEAD', 'OPTIONS'))
RETRY_STATUSES = frozenset((502, 503, 504))
DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 3
# Upper bound of the time spent sleeping between retries of one request, in seconds.
RETRY_SLEEP_BUDGET = 8.0
# A cached token is not used when it expires within this many seconds.
TOKEN_EXPIRY_MARGIN = 120
REDACTED = '********'
# How Portainer's 404 for an unknown environment begins (a Docker 404 through the proxy says "No such ...").
MISSING_ENVIRONMENT = 'Unable to find an environment'

STATUS_HINTS = {
    400: 'Portainer rejected the request as invalid; check the options of the task.',
    401: 'Portainer did not accept the credentials; check portainer_api_key, or portainer_username and portainer_password.',
    403: ('The user has no right to do this, or Portainer banned this address for an hour after too many logins; '
          'use an administrator or an API key.'),
    404: 'The object or route does not exist; check the name or id, and that the Portainer version supports this.',
    405: 'This Portainer version does not serve this method on this route; check the Portainer version.',
    409: 'The object conflicts with one that exists (same name?).',
    422: 'Portainer refused the credentials; check portainer_username and portainer_password.',
    500: 'Portainer failed to carry out the request; its message above says why.',
    502: 'Portainer could not reach the Docker environment, or a proxy in front of Portainer failed.',
    503: 'Portainer or a proxy in front of it is unavailable; try again later.',
    504: 'A proxy in front of Portainer timed out; try again, or raise request_timeout.',
}


class PortainerError(Exception):
    """An error with a message fit for the user; never carries a secret."""


class PortainerAPIError(PortainerError):
    """Portainer answered with an unexpected HTTP status."""

    def __init__(self, method, path, status, message, details=None, hint=None, body=None):
        self.method = method
        self.path = path
        self.status = status
        self.message = message
        self.details = details
        self.body = body
        self.hint = STATUS_HINTS.get(status) if hint is None else hint
        super().__init__(self._render())

    def _render(self):
        text = '%s %s returned HTTP %s' % (self.method, self.path, self.status)
        words = self.message or ''
        if self.details and self.details != self.message:
            words = '%s: %s' % (words, self.details) if words else self.details
        if words:
            text += ': %s' % words
        if self.hint:
            text += ' %s' % self.hint if text.endswith(('.', '!', '?')) else '. %s' % self.hint
        return text


class PortainerConnectionError(PortainerError):
    """Portainer could not be reached, or did not answer in time."""


def parse_error_body(response):
    """Return (message, details) from any Portainer error body.

    Portainer answers ``{"message", "details"}`` (1.22.1+), ``{"err", "details"}`` (older), Docker's
    ``{"message"}`` through the proxy, plain text (gorilla 404, CSRF 403) or nothing (405, 502).
    """
    text = response.text if response is not None else ''
    try:
        data = json.loads(text) if text else None
    except ValueError:
        data = None
    if isinstance(data, dict):
        message = data.get('message') or data.get('err') or data.get('error')
        details = data.get('details')
        if message or details:
            return (str(message) if message else None), (str(details) if details else None)
    text = (text or '').strip()
    if text:
        if len(text) > 500:
            text = text[:500] + '...'
        return text, None
    reason = getattr(response, 'reason', None) or 'no response body'
    return reason, None


def normalize_base_url(url):
    """Return Portainer's base URL without ``/api`` and without a trailing slash.

    Raises PortainerError naming the option when the URL cannot be a Portainer address.
    """
    if not url or not str(url).strip():
        raise PortainerError('portainer_url is empty: set it (or PORTAINER_URL) to the address of Portainer, for example https://portainer.example.com:9443')
    url = str(url).strip()
    parts = urlsplit(url)
    if parts.scheme not in ('http', 'https') or not parts.netloc:
        raise PortainerError(
            'portainer_url %r is not an http(s) URL: set it (or PORTAINER_URL) to the address of Portainer, '
            'for example https://portainer.example.com:9443' % url)
    if parts.query or parts.fragment:
        raise PortainerError('portainer_url %r must not contain a query or a fragment' % url)
    path = parts.path.rstrip('/')
    if path.endswith('/api'):
        path = path[:-4]
    return '%s://%s%s' % (parts.scheme, parts.netloc, path)


def _b64decode_part(part):
    part += '=' * (-len(part) % 4)
    return base64.urlsafe_b64decode(part.encode('ascii'))


def jwt_claims(token):
    """Return the claims of a JWT without checking its signature (only to read ``exp`` and ``id``)."""
    try:
        payload = token.split('.')[1]
        claims = json.loads(_b64decode_part(payload))
        return claims if isinstance(claims, dict) else {}
    except (IndexError, ValueError, TypeError, UnicodeDecodeError):
        return {}


def parse_version(text):
    """Parse a Portainer version string such as ``2.23.0`` or ``2.21.4-ce`` into a tuple of ints."""
    numbers = re.findall(r'\d+', str(text or ''))[:3]
    return tuple(int(n) for n in numbers) + (0,) * (3 - len(numbers))


def cache_directory(directory=None):
    """The directory of the caches kept between tasks (tokens, environment ids)."""
    if directory is None:
        directory = os.environ.get('PORTAINER_TOKEN_CACHE_DIR')
    if not directory:
        base = os.environ.get('XDG_CACHE_HOME') or os.path.join(os.path.expanduser('~'), '.cache')
        directory = os.path.join(base, 'pier.portainer', 'tokens')
    return directory


def cache_key(*parts):
    """A file-name-safe digest of ``parts``; never the parts themselves (they may include a URL with a user)."""
    return hashlib.sha256('\n'.join(str(p) for p in parts).encode('utf-8')).hexdigest()[:32]


def ensure_private_directory(directory):
    os.makedirs(directory, mode=0o700, exist_ok=True)
    info = os.stat(directory)
    if info.st_uid != os.getuid() or stat.S_IMODE(info.st_mode) & 0o077:
        os.chmod(directory, 0o700)


def read_private_json(path):
    """The JSON in ``path``, or None when it is missing, unreadable, or others own it or could read it."""
    try:
        info = os.stat(path)
        if info.st_uid != os.getuid() or stat.S_IMODE(info.st_mode) & 0o077:
            return None
        with open(path, 'r', encoding='utf-8') as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def write_private_json(path, data):
    """Replace ``path`` atomically with ``data``, readable only by its owner; raises OSError."""
    directory = os.path.dirname(path)
    ensure_private_directory(directory)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix='.tmp-')
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as handle:
            json.dump(data, handle)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class TokenCache:
    """JWTs kept between tasks so a play with username/password logs in once, not once per task.

    One file per (Portainer URL, username), in a directory readable only by its owner. A file also
    holds a salted hash of the password, so a changed password never reuses the old token. A file
    lock makes parallel forks wait for the one that logs in instead of all logging in at once
    (Portainer bans an address for an hour after a burst of logins).
    """

    def __init__(self, directory=None):
        self.directory = cache_directory(directory)

    def _path(self, base_url, username):
        return os.path.join(self.directory, cache_key(base_url, username) + '.json')

    def _ensure_directory(self):
        ensure_private_directory(self.directory)

    @staticmethod
    def _password_check(salt, password):
        return hashlib.sha256(('%s\n%s' % (salt, password)).encode('utf-8')).hexdigest()

    @contextlib.contextmanager
    def lock(self, base_url, username, timeout=60.0):
        """Hold an exclusive lock for one (URL, username) while checking the cache and logging in."""
        path = self._path(base_url, username) + '.lock'
        try:
            if fcntl is None:
                raise OSError('no file locks on this platform')
            self._ensure_directory()
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            # No usable cache directory: work without the lock (each task then logs in itself).
            yield
            return
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise PortainerError('Timed out after %ss waiting for the token cache lock %s' % (timeout, path))
                    time.sleep(0.05)
            yield
        finally:
            os.close(fd)

    def get(self, base_url, username, password):
        data = read_private_json(self._path(base_url, username))
        if not isinstance(data, dict) or data.get('url') != base_url or data.get('username') != username:
            return None
        if data.get('password_check') != self._password_check(data.get('salt', ''), password):
            return None
        token = data.get('jwt')
        expires = jwt_claims(token).get('exp') if token else None
        if not token or (isinstance(expires, (int, float)) and expires - TOKEN_EXPIRY_MARGIN < time.time()):
            return None
        return token

    def put(self, base_url, username, password, token):
        try:
            self._ensure_directory()
            salt = base64.b64encode(os.urandom(12)).decode('ascii')
            data = {
                'url': base_url,
                'username': username,
                'salt': salt,
                'password_check': self._password_check(salt, password),
                'jwt': token,
            }
            write_private_json(self._path(base_url, username), data)
        except OSError:
            # A cache that cannot be written only costs a login per task.
            return False
        return True

    def drop(self, base_url, username, token=None):
        """Forget the cached token; with ``token``, only when it is still that one."""
        path = self._path(base_url, username)
        try:
            if token is not None:
                with open(path, 'r', encoding='utf-8') as handle:
                    if json.load(handle).get('jwt') != token:
                        return
            os.unlink(path)
        except (OSError, ValueError, AttributeError):
            pass


class EndpointCache:
    """Environment names and the ids they stood for, reused by later tasks for ``ttl`` seconds.

    A loop of tasks on environment ``prod`` then looks ``prod`` up once, not once per task. One file per
    Portainer URL, next to the token cache; an entry is keyed by a digest of the credentials and the name, so
    users who see different environments never share one. The client confirms an entry with Portainer before
    the task's first write, when the task reports a change, and when a request fails; a write that changes an
    environment drops the whole file.
    """

    def __init__(self, ttl, directory=None):
        self.ttl = float(ttl)
        self.directory = cache_directory(directory)

    def _path(self, base_url):
        return os.path.join(self.directory, cache_key('endpoints', base_url) + '.endpoints.json')

    def _entries(self, base_url):
        data = read_private_json(self._path(base_url))
        if not isinstance(data, dict) or data.get('url') != base_url or not isinstance(data.get('entries'), dict):
            return {}
        return data['entries']

    def get(self, base_url, identity, name):
        """The id cached for ``name``, or None when there is none younger than ``ttl``."""
        entry = self._entries(base_url).get(cache_key(identity, name))
        if not isinstance(entry, dict) or not isinstance(entry.get('id'), int) or isinstance(entry.get('id'), bool):
            return None
        age = time.time() - float(entry.get('at') or 0)
        return entry['id'] if 0 <= age < self.ttl else None

    def put(self, base_url, identity, name, endpoint_id):
        now = time.time()
        entries = dict((k, v) for k, v in self._entries(base_url).items()
                       if isinstance(v, dict) and 0 <= now - float(v.get('at') or 0) < self.ttl)
        entries[cache_key(identity, name)] = {'id': int(endpoint_id), 'at': now}
        try:
            write_private_json(self._path(base_url), {'url': base_url, 'entries': entries})
        except OSError:
            # A cache that cannot be written only costs one lookup per task.
            return False
        return True

    def clear(self, base_url):
        with contextlib.suppress(OSError):
            os.unlink(self._path(base_url))


class StaleEndpoint(Exception):
    """A cached environment name now stands for another environment, or none; raised before any write."""

    def __init__(self, name, cached, current):
        super().__init__('environment %r was id %s in the cache and is %s now' % (name, cached, current))
        self.name = name


class PortainerClient:
    """HTTP client for Portainer's API, shared by every module and plugin of the collection.

    Authenticates with an API key (``X-API-KEY``) or with username and password (one login, then
    ``Authorization: Bearer``), never both, and never replays Portainer's cookie. Safe requests are
    retried on connection errors and 502/503/504; writes are retried only when the connection failed
    before anything was sent.
    """

    def __init__(self, url, api_key=None, username=None, password=None, validate_certs=True, ca_path=None,
                 timeout=DEFAULT_TIMEOUT, retries=DEFAULT_RETRIES, token_cache=True, token_cache_dir=None,
                 user_agent='pier.portainer', endpoint_cache_ttl=0):
        if not HAS_REQUESTS:
            raise PortainerError('The Python library requests is required')
        self.base_url = normalize_base_url(url)
        self.api_key = api_key or None
        self.username = username or None
        self.password = password
        if self.api_key and (self.username or password):
            raise PortainerError('portainer_api_key and portainer_username/portainer_password are mutually exclusive: set only one way to log in')
        if self.username and not password:
            raise PortainerError('portainer_username is set but portainer_password is not: set portainer_password (or PORTAINER_PASSWORD)')
        if password and not self.username:
            raise PortainerError('portainer_password is set but portainer_username is not: set portainer_username (or PORTAINER_USERNAME)')
        self.timeout = float(timeout or DEFAULT_TIMEOUT)
        if self.timeout <= 0:
            raise PortainerError('request_timeout must be a positive number of seconds, got %s' % timeout)
        self.retries = max(0, int(retries))
        self.verify = ca_path if ca_path else bool(validate_certs)
        self.ca_path = ca_path
        self.validate_certs = bool(validate_certs)
        if ca_path and not os.path.exists(ca_path):
            raise PortainerError('ca_path %s does not exist: set it (or PORTAINER_CA_PATH) to a PEM file or a directory of CA certificates' % ca_path)
        self.token_cache = TokenCache(token_cache_dir) if (token_cache and self.username) else None
        try:
            endpoint_cache_ttl = float(endpoint_cache_ttl or 0)
        except (TypeError, ValueError):
            endpoint_cache_ttl = -1
        if endpoint_cache_ttl < 0:
            raise PortainerError('endpoint_cache_ttl must be a number of seconds, 0 or more (0 turns the cache off), got %r'
                                 % (endpoint_cache_ttl,))
        self.endpoint_cache = EndpointCache(endpoint_cache_ttl, token_cache_dir) if endpoint_cache_ttl > 0 else None
        # Environment names this task took from the cache and has not confirmed with Portainer yet.
        self._unconfirmed = {}
        self._token = None
        self._extra_secrets = []
        self._version = None
        self._me = None
        self.request_count = 0
        self.login_count = 0
        self.session = requests.Session()
        # Portainer 2.20+ sets a cookie on login; replaying it makes every write need a CSRF token.
        self.session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        self.session.trust_env = True
        adapter = HTTPAdapter(pool_connections=2, pool_maxsize=4, max_retries=0)
        self.session.mount('http://', adapter)
        self.session.mount('https://', adapter)
        self.session.headers['User-Agent'] = user_agent
        self.session.headers['Accept'] = 'application/json'

    # ---------------------------------------------------------------- secrets

    def secrets(self):
        """Every secret value this client knows, to be kept out of messages."""
        return [s for s in [self.api_key, self.password, self._token] + self._extra_secrets if s]

    def add_secret(self, value):
        """Keep one more value (a git password, a new API key, registry credentials) out of every message."""
        if value and isinstance(value, str) and value not in self._extra_secrets:
            self._extra_secrets.append(value)

    def redact(self, text):
        if text is None:
            return text
        text = str(text)
        for secret in sorted(self.secrets(), key=len, reverse=True):
            if len(secret) >= 3:
                text = text.replace(secret, REDACTED)
        return text

    # ---------------------------------------------------------------- auth

    @property
    def auth_mode(self):
        if self.api_key:
            return 'api_key'
        if self.username:
            return 'password'
        return None

    @property
    def identity(self):
        """Who the requests are sent as, for cache keys: the username, or a digest of the API key."""
        if self.api_key:
            return 'key:' + hashlib.sha256(self.api_key.encode('utf-8')).hexdigest()
        return 'user:%s' % (self.username or '')

    def _auth_headers(self):
        if self.api_key:
            return {'X-API-KEY': self.api_key}
        if self.username:
            if self._token is None:
                self._acquire_token()
            return {'Authorization': 'Bearer %s' % self._token}
        raise PortainerError(
            'No credentials: set portainer_api_key (or PORTAINER_API_KEY), '
            'or portainer_username and portainer_password (or PORTAINER_USERNAME and PORTAINER_PASSWORD)')

    def _acquire_token(self, stale=None):
        if self.token_cache is None:
            self._token = self.login()
            return
        with self.token_cache.lock(self.base_url, self.username, timeout=self.timeout * 2):
            if stale is not None:
                self.token_cache.drop(self.base_url, self.username, token=stale)
            cached = self.token_cache.get(self.base_url, self.username, self.password)
            if cached and cached != stale:
                self._token = cached
                return
            self._token = self.login()
            self.token_cache.put(self.base_url, self.username, self.password, self._token)

    def login(self):
        """POST /api/auth and return the JWT."""
        response = self._send('POST', '/api/auth', json_body={'Username': self.username, 'Password': self.password},
                              headers={}, retry_safe=False)
        self.login_count += 1
        if response.status_code == 200:
            try:
                token = response.json().get('jwt')
            except (ValueError, AttributeError):
                token = None
            if not token:
                raise PortainerError('POST /api/auth answered 200 without a token; is %s a Portainer server?' % self.base_url)
            return token
        message, details = parse_error_body(response)
        hint = None
        if response.status_code in (400, 422):
            hint = 'Check portainer_username and portainer_password (or PORTAINER_USERNAME and PORTAINER_PASSWORD).'
        elif response.status_code == 403:
            hint = ('Portainer bans an address for one hour after more than 10 logins in a burst; '
                    'use an API key, or wait, and let the token cache reuse one login across tasks.')
        raise PortainerAPIError('POST', '/api/auth', response.status_code, self.redact(message), self.redact(details), hint=hint)

    # ---------------------------------------------------------------- transport

    def url(self, path):
        return self.base_url + path

    def _retry_delay(self, attempt, response=None):
        delay = min(0.25 * (2 ** attempt), 2.0)
        if response is not None:
            after = response.headers.get('Retry-After')
            if after and after.isdigit():
                delay = min(float(after), 2.0)
        return delay

    @staticmethod
    def _nothing_was_sent(exc):
        """True when a connection error happened before the request reached the server."""
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return True
        cause = exc.args[0] if exc.args else None
        reason = getattr(cause, 'reason', cause)
        name = type(reason).__name__
        return name in ('NewConnectionError', 'NameResolutionError') or 'Connection refused' in str(reason)

    def _send(self, method, path, params=None, json_body=None, data=None, files=None, headers=None,
              stream=False, retry_safe=None, timeout=None):
        """Send one request, retrying only what is safe to retry. Returns the response."""
        method = method.upper()
        if retry_safe is None:
            retry_safe = method in SAFE_METHODS
        timeout = float(timeout or self.timeout)
        attempt = 0
        slept = 0.0
        while True:
            self.request_count += 1
            try:
                response = self.session.request(
                    method, self.url(path), params=params, json=json_body, data=data, files=files,
                    headers=headers, stream=stream, verify=self.verify, timeout=(min(timeout, 10.0), timeout),
                    allow_redirects=False)
            except requests.exceptions.SSLError as exc:
                raise PortainerConnectionError(
                    'TLS verification of %s failed (%s): set ca_path (or PORTAINER_CA_PATH) to the CA that signed '
                    "Portainer's certificate, or validate_certs: false to skip the check (not recommended)"
                    % (self.base_url, self.redact(exc))) from None
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
                can_retry = retry_safe or self._nothing_was_sent(exc)
                if can_retry and attempt < self.retries and slept < RETRY_SLEEP_BUDGET:
                    delay = self._retry_delay(attempt)
                    time.sleep(delay)
                    slept += delay
                    attempt += 1
                    continue
                raise self._connection_error(method, path, exc, attempt, retry_safe) from None
            if (response.status_code in RETRY_STATUSES and retry_safe and attempt < self.retries
                    and slept < RETRY_SLEEP_BUDGET):
                delay = self._retry_delay(attempt, response)
                response.close()
                time.sleep(delay)
                slept += delay
                attempt += 1
                continue
            return response

    def _connection_error(self, method, path, exc, attempts, was_safe):
        if isinstance(exc, requests.exceptions.ReadTimeout):
            what = 'no answer within request_timeout (%ss)' % self.timeout
        elif isinstance(exc, requests.exceptions.ConnectTimeout):
            what = 'connecting timed out after %ss' % min(self.timeout, 10.0)
        else:
            what = 'connection failed (%s)' % self.redact(exc)
        text = '%s %s to %s: %s' % (method, path, self.base_url, what)
        if attempts:
            text += ', after %d retries' % attempts
        if not was_safe:
            text += ('. The request changes state and was not repeated; Portainer may or may not have applied it, '
                     'so run the task again to converge')
        text += '. Check portainer_url, that Portainer is running and reachable from this host, and request_timeout.'
        return PortainerConnectionError(text)

    def request(self, method, path, params=None, json_body=None, data=None, files=None, headers=None,
                expected=None, authenticated=True, stream=False, timeout=None):
        """Send an API request and return the response when its status is expected.

        ``expected`` is a collection of acceptable statuses (default: any 2xx). Other statuses raise
        PortainerAPIError with Portainer's words. With username and password, a 401 triggers one new
        login and one repeat (Portainer refused the request before doing anything).
        """
        method = method.upper()
        if method not in SAFE_METHODS:
            # No write goes to an environment id that only the cache vouches for.
            self.confirm_endpoints()
            if path.startswith('/api/endpoints') and '/docker/' not in path and '/kubernetes/' not in path:
                # Environments are being created, renamed or removed: names may now stand for other ids.
                self.forget_endpoints()
        all_headers = dict(headers or {})
        if authenticated:
            all_headers.update(self._auth_headers())
        response = self._send(method, path, params=params, json_body=json_body, data=data, files=files,
                              headers=all_headers, stream=stream, timeout=timeout)
        if response.status_code == 401 and authenticated and self.username:
            stale = self._token
            response.close()
            self._token = None
            self._acquire_token(stale=stale)
            all_headers.update(self._auth_headers())
            response = self._send(method, path, params=params, json_body=json_body, data=data, files=files,
                                  headers=all_headers, stream=stream, timeout=timeout)
        if (expected is None and 200 <= response.status_code < 300) or (expected is not None and response.status_code in expected):
            return response
        raise self.error_from(method, path, response)

    def error_from(self, method, path, response):
        message, details = parse_error_body(response)
        hint = None
        if response.status_code == 401 and self.api_key:
            hint = 'Portainer does not know this API key; check portainer_api_key (or PORTAINER_API_KEY).'
        elif response.status_code in (502, 504) and method.upper() not in SAFE_METHODS:
            # A gateway error says nothing about whether the write happened behind it.
            hint = ('%s The request changes state and may or may not have been applied: run the task again to converge.'
                    % STATUS_HINTS[response.status_code])
        return PortainerAPIError(method, path, response.status_code, self.redact(message), self.redact(details),
                                 hint=hint, body=None)

    @staticmethod
    def decode(response):
        """The JSON of a response, or None when it has no body."""
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            return response.text

    def get(self, path, params=None, missing_ok=False):
        """GET a JSON resource. With ``missing_ok``, a 404 returns None."""
        expected = None if not missing_ok else (200, 404)
        response = self.request('GET', path, params=params, expected=expected)
        if response.status_code == 404:
            return None
        return self.decode(response)

    def post(self, path, json_body=None, params=None, **kwargs):
        return self.decode(self.request('POST', path, params=params, json_body=json_body, **kwargs))

    def put(self, path, json_body=None, params=None, **kwargs):
        return self.decode(self.request('PUT', path, params=params, json_body=json_body, **kwargs))

    def delete(self, path, params=None, missing_ok=False, **kwargs):
        """DELETE a resource; returns False when it was already gone and ``missing_ok``."""
        expected = None if not missing_ok else (200, 202, 204, 404)
        response = self.request('DELETE', path, params=params, expected=expected, **kwargs)
        return response.status_code != 404

    # ---------------------------------------------------------------- Portainer facts

    def status(self):
        """Portainer's public status (``Version``, ``InstanceID``), fetched once per client."""
        if self._version is None:
            response = self._send('GET', '/api/system/status')
            if response.status_code in (404, 405):
                response = self._send('GET', '/api/status')
            if response.status_code != 200:
                raise self.error_from('GET', '/api/system/status', response)
            data = self.decode(response)
            if not isinstance(data, dict) or 'Version' not in data:
                raise PortainerError('%s answered its status route without a version; is it a Portainer server?' % self.base_url)
            self._version = data
        return self._version

    @property
    def version(self):
        return str(self.status().get('Version'))

    def version_at_least(self, wanted):
        return parse_version(self.version) >= parse_version(wanted)

    def me(self):
        """The user behind the credentials (``GET /api/users/me``), fetched once per client."""
        if self._me is None:
            self._me = self.get('/api/users/me')
        return self._me

    # ---------------------------------------------------------------- environments

    def find_endpoints(self, name):
        """Every environment named exactly ``name`` (normally one or none), lowest id first. One request."""
        found = self.get('/api/endpoints', params={'name': str(name), 'excludeSnapshots': 'true'}) or []
        # Portainer before 2.14 ignores ``name``; the exact match is checked here either way.
        return sorted((e for e in found if isinstance(e, dict) and e.get('Name') == str(name)), key=lambda e: e.get('Id') or 0)

    def find_endpoint(self, ref):
        """Return the environment (endpoint) named or numbered ``ref``, or None. One request.

        A value made only of digits is an id; anything else is an exact, case-sensitive name.
        """
        if isinstance(ref, int) or (isinstance(ref, str) and ref.strip().isdigit()):
            return self.get('/api/endpoints/%d' % int(ref), params={'excludeSnapshot': 'true'}, missing_ok=True)
        found = self.find_endpoints(ref)
        return found[0] if found else None

    def endpoint_id(self, ref, option='endpoint'):
        """The numeric id of an environment: a number costs no request, a name one (none when an earlier task cached it)."""
        if isinstance(ref, int) or (isinstance(ref, str) and ref.strip().isdigit()):
            return int(ref)
        if self.endpoint_cache is not None and isinstance(ref, str) and ref.strip():
            cached = self.endpoint_cache.get(self.base_url, self.identity, ref)
            if cached is not None:
                self._unconfirmed[ref] = cached
                return cached
        return int(self.endpoint(ref, option=option)['Id'])

    def endpoint(self, ref, option='endpoint'):
        """Like find_endpoint, but a missing environment is an error that names the option."""
        if ref is None or (isinstance(ref, str) and not ref.strip()):
            raise PortainerError('%s is empty: give the name or the numeric id of a Portainer environment' % option)
        found = self.find_endpoint(ref)
        if found is None:
            raise PortainerError(
                '%s: no Portainer environment %s %r; check the name (exact, case-sensitive) or the id, '
                'for example with pier.portainer.portainer_endpoint_info' % (option, 'with id' if str(ref).strip().isdigit() else 'named', ref))
        if self.endpoint_cache is not None and not str(ref).strip().isdigit() and isinstance(found.get('Id'), int):
            self.endpoint_cache.put(self.base_url, self.identity, ref, found['Id'])
        return found

    def confirm_endpoints(self):
        """Check that the names this task took from the cache still stand for the same environments.

        One request per name, and only for names the cache answered. Raises StaleEndpoint (and clears the cache)
        when one does not: the task has written nothing yet and can run again without the cache.
        """
        while self._unconfirmed:
            name, cached = self._unconfirmed.popitem()
            found = self.find_endpoints(name)
            current = int(found[0]['Id']) if found else None
            if current != cached:
                self.forget_endpoints()
                raise StaleEndpoint(name, cached, current)
            self.endpoint_cache.put(self.base_url, self.identity, name, current)

    def forget_endpoints(self):
        """Drop every cached environment name of this Portainer."""
        self._unconfirmed = {}
        if self.endpoint_cache is not None:
            self.endpoint_cache.clear(self.base_url)

    # ---------------------------------------------------------------- Docker proxy

    def docker_path(self, endpoint_id, path):
        if not path.startswith('/'):
            path = '/' + path
        return '/api/endpoints/%d/docker%s' % (int(endpoint_id), path)

    def docker(self, endpoint_id, method, path, params=None, json_body=None, data=None, headers=None,
               expected=None, stream=False, timeout=None):
        """Call the Docker Engine API of an environment through Portainer's proxy; returns the response.

        Portainer answers 200 where Docker says 201, and Docker answers 304 to a start or stop that had
        nothing to do: all count as success here unless ``expected`` says otherwise.
        """
        if expected is None:
            expected = (200, 201, 202, 204, 304)
        full_path = self.docker_path(endpoint_id, path)
        response = self.request(method, full_path, params=params, json_body=json_body, data=data, headers=headers,
                                expected=tuple(expected) + (404,), stream=stream, timeout=timeout)
        if response.status_code == 404:
            message = parse_error_body(response)[0] or ''
            # Portainer's own 404 (the environment) is not Docker's (the container, image, ...).
            if message.startswith(MISSING_ENVIRONMENT):
                raise PortainerError(
                    'endpoint: no Portainer environment with id %s (%s %s returned 404: %s); check the name or id of the '
                    'environment, for example with pier.portainer.portainer_endpoint_info' % (endpoint_id, method.upper(), full_path, message))
            if 404 not in expected:
                raise self.error_from(method.upper(), full_path, response)
        return response

    def docker_json(self, endpoint_id, method, path, params=None, json_body=None, missing_ok=False, **kwargs):
        """Docker proxy call returning JSON without Portainer's added fields; None on 404 when ``missing_ok``."""
        expected = kwargs.pop('expected', None)
        if missing_ok:
            expected = tuple(expected or (200, 201, 202, 204, 304)) + (404,)
        response = self.docker(endpoint_id, method, path, params=params, json_body=json_body, expected=expected, **kwargs)
        if response.status_code == 404 and missing_ok:
            return None
        return strip_portainer_fields(self.decode(response))

    def close(self):
        self.session.close()


def docker_stream_error(event):
    """The error a decoded line of a Docker stream reports (pulls and pushes answer 200, then fail inline), or None."""
    if not isinstance(event, dict):
        return None
    detail = event.get('errorDetail')
    if event.get('error') or detail:
        return event.get('error') or (detail.get('message') if isinstance(detail, dict) else str(detail))
    return None


def strip_portainer_fields(data):
    """Remove what Portainer adds to Docker's answers (``Portainer``, ``IsPortainer``, ``ResourceID``)."""
    if isinstance(data, list):
        return [strip_portainer_fields(item) for item in data]
    if isinstance(data, dict):
        return dict((k, v) for k, v in data.items() if k not in ('Portainer', 'IsPortainer', 'ResourceID'))
    return data


def registry_auth_header(registry_id):
    """``X-Registry-Auth`` that makes Portainer use the credentials of one of its registries.

    Portainer recognises standard base64 of a JSON object with ``registryId`` and replaces it with the
    registry's stored credentials (id 0: anonymous Docker Hub).
    """
    text = json.dumps({'registryId': int(registry_id)}, separators=(',', ':'))
    return {'X-Registry-Auth': base64.b64encode(text.encode('utf-8')).decode('ascii')}


def quote_path(value):
    """Quote one path segment (a container or image name) for a Docker proxy URL."""
    return quote(str(value), safe='')
