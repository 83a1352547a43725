"""Authentication: JWTs, API keys, cookies, the login rate limiter, users and admin bootstrap."""

import base64
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
import uuid

from . import util
from .web import Response, json_response, empty_response, route_int
from .util import ApiError, DropConnection

ADMIN = 1
STANDARD = 2
COOKIE_NAME = 'portainer_api_key'

# --- passwords -------------------------------------------------------------------------------------

_PBKDF2_ROUNDS = 20000


def hash_password(password):
    """Hash a password. Portainer uses bcrypt; the stdlib has none, so this is PBKDF2-SHA256."""
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac('sha256', password.encode('utf-8'), salt, _PBKDF2_ROUNDS)
    return '$pbkdf2-sha256$%d$%s$%s' % (_PBKDF2_ROUNDS, base64.b64encode(salt).decode(), base64.b64encode(digest).decode())


def check_password(stored, password):
    """Constant-time comparison of a password with a stored hash."""
    try:
        dummy, dummy2, rounds, salt, digest = stored.split('$')
        computed = hashlib.pbkdf2_hmac('sha256', password.encode('utf-8'), base64.b64decode(salt), int(rounds))
        return hmac.compare_digest(computed, base64.b64decode(digest))
    except (ValueError, AttributeError):
        return False


_FAKE_HASH = hash_password(secrets.token_hex(8))

# --- JWT -------------------------------------------------------------------------------------------


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode('ascii')


def _b64url_decode(text):
    return base64.urlsafe_b64decode(text + '=' * (-len(text) % 4))


class JWTService:
    """HS256 tokens signed with a secret generated at each process start (contract 1.2)."""

    def __init__(self):
        self.secret = secrets.token_bytes(32)
        self.revoked = set()
        self.lock = threading.Lock()

    def rotate(self):
        """Invalidate every token issued so far (used by /__sim/expire-tokens)."""
        with self.lock:
            self.secret = secrets.token_bytes(32)

    def generate(self, user, lifetime, force_change_password=False):
        """Return (token, claims)."""
        issued = int(time.time())
        claims = {
            'id': user['Id'], 'username': user['Username'], 'role': user['Role'], 'scope': 'default',
            'forceChangePassword': force_change_password, 'exp': issued + int(lifetime), 'iat': issued,
            'jti': str(uuid.uuid4()),
        }
        header = _b64url(util.dumps({'alg': 'HS256', 'typ': 'JWT'}))
        payload = _b64url(util.dumps(claims))
        signing_input = (header + '.' + payload).encode('ascii')
        with self.lock:
            signature = hmac.new(self.secret, signing_input, hashlib.sha256).digest()
        return header + '.' + payload + '.' + _b64url(signature), claims

    def parse(self, token):
        """Return the claims of a valid token, or None."""
        try:
            header, payload, signature = token.split('.')
            signing_input = (header + '.' + payload).encode('ascii')
            with self.lock:
                expected = hmac.new(self.secret, signing_input, hashlib.sha256).digest()
            if not hmac.compare_digest(expected, _b64url_decode(signature)):
                return None
            if json.loads(_b64url_decode(header)).get('alg') != 'HS256':
                return None
            claims = json.loads(_b64url_decode(payload))
        except (ValueError, UnicodeError, TypeError):
            return None
        if not isinstance(claims, dict) or claims.get('exp', 0) <= time.time():
            return None
        with self.lock:
            if claims.get('jti') in self.revoked:
                return None
        return claims

    def revoke(self, jti):
        """Add a jti to the in-memory revocation list."""
        with self.lock:
            self.revoked.add(jti)


# --- rate limiter ----------------------------------------------------------------------------------


class RateLimiter:
    """Token bucket per client IP: burst 10, 1 token/s, 1 h ban once empty (contract 1.6)."""

    def __init__(self, burst=10, refill_per_second=1.0, ban_seconds=3600):
        self.burst = burst
        self.rate = refill_per_second
        self.ban_seconds = ban_seconds
        self.buckets = {}
        self.bans = {}
        self.lock = threading.Lock()

    def hit(self, ip):
        """Count one request; return True when the IP is (now) banned."""
        current = time.monotonic()
        with self.lock:
            until = self.bans.get(ip)
            if until is not None:
                if until > current:
                    return True
                del self.bans[ip]
                self.buckets.pop(ip, None)
            tokens, last = self.buckets.get(ip, (float(self.burst), current))
            tokens = min(float(self.burst), tokens + (current - last) * self.rate)
            if tokens < 1.0:
                self.bans[ip] = current + self.ban_seconds
                self.buckets.pop(ip, None)
                return True
            self.buckets[ip] = (tokens - 1.0, current)
            return False

    def reset(self):
        """Forget every bucket and ban (test support)."""
        with self.lock:
            self.buckets.clear()
            self.bans.clear()

    def snapshot(self):
        """State for /__sim/state."""
        current = time.monotonic()
        with self.lock:
            return {'bans': {ip: round(until - current) for ip, until in self.bans.items()},
                    'buckets': {ip: round(tokens, 2) for ip, (tokens, dummy) in self.buckets.items()}}


def limit(app, req):
    """Apply the shared limiter; 403 Access denied when banned."""
    if app.limiter.hit(req.client_ip):
        raise ApiError(403, 'Access denied', 'Access denied to resource')


# --- credentials -----------------------------------------------------------------------------------


class AuthInfo:
    """Who made a request and how."""

    def __init__(self, kind, user, claims=None):
        self.kind = kind
        self.user = user
        self.claims = claims or {}

    @property
    def user_id(self):
        """User id."""
        return self.user['Id']

    @property
    def is_admin(self):
        """True for administrators."""
        return self.user['Role'] == ADMIN


def find_api_key(req):
    """X-API-KEY header, else an x-api-key query parameter of any case."""
    value = req.headers.get('X-API-KEY')
    if value:
        return value
    for key, values in req.query.items():
        if key.lower() == 'x-api-key' and values:
            return values[0]
    return None


def find_bearer(req):
    """?token= first (removed before proxying), then the Authorization header with 'Bearer ' stripped."""
    token = req.query.get('token', [''])[0]
    if token:
        return token
    values = req.headers.get_all('Authorization') or []
    if not values:
        return None
    token = values[0]
    if token.startswith('Bearer '):
        token = token[len('Bearer '):]
    return token


def _user_for_claims(app, claims):
    user = app.store.get('users', claims.get('id'))
    if user is not None and user.get('TokenIssueAt', 0) > claims.get('iat', 0):
        return None, True
    return user, False


def lookup_apikey(app, req):
    """Return AuthInfo, None (nothing sent) or raise 401 for an unknown key."""
    raw = find_api_key(req)
    if raw is None:
        return None
    digest = hashlib.sha256(raw.encode('utf-8')).hexdigest()
    with app.store.lock:
        for key in app.store.items('api_keys'):
            if hmac.compare_digest(key['digest'], digest):
                user = app.store.get('users', key['userId'])
                if user is None:
                    break
                stamp = util.now()
                if stamp - key.get('lastUsed', 0) > 60:
                    key['lastUsed'] = stamp
                    app.store.save()
                return AuthInfo('apikey', user)
    raise ApiError(401, 'Invalid JWT token', 'Unauthorized')


def lookup_cookie(app, req):
    """JWT from the portainer_api_key cookie (2.20+)."""
    if not app.version.auth_cookie:
        return None
    token = req.cookies.get(COOKIE_NAME)
    if not token:
        return None
    return _jwt_auth(app, token, 'cookie')


def lookup_bearer(app, req):
    """JWT from ?token= or Authorization."""
    token = find_bearer(req)
    if token is None:
        return None
    return _jwt_auth(app, token, 'jwt')


def _jwt_auth(app, token, kind):
    """The user of a JWT found by a lookup; a bad, expired or stale token is Portainer's 401."""
    claims = app.jwt.parse(token)
    if claims is None:
        raise ApiError(401, 'Invalid JWT token', 'Unauthorized')
    user, stale = _user_for_claims(app, claims)
    if stale:
        raise ApiError(401, 'Invalid JWT token', 'Unauthorized')
    return AuthInfo(kind, user, claims)


def authenticate(app, req):
    """Bouncer: API key, then cookie, then bearer; the first lookup that finds something decides."""
    for lookup in (lookup_apikey, lookup_cookie, lookup_bearer):
        info = lookup(app, req)
        if info is not None:
            if info.user is None:
                raise ApiError(401, 'An authorization token is invalid', 'Unauthorized')
            req.auth = info
            return info
    raise ApiError(401, 'A valid authorization token is missing', 'Unauthorized')


def require_admin(req):
    """403 Access denied for non-admins (AdminAccess)."""
    if not req.auth.is_admin:
        raise ApiError(403, 'Access denied', 'Unauthorized')


def auth_kind_from_headers(app, req):
    """Best-effort auth kind for the request log when the route did not authenticate."""
    if find_api_key(req):
        return 'apikey'
    if app.version.auth_cookie and req.cookies.get(COOKIE_NAME):
        return 'cookie'
    if find_bearer(req):
        return 'jwt'
    return 'none'


def cookie_header(token, expires):
    """Set-Cookie value for the auth cookie."""
    stamp = time.strftime('%a, %d %b %Y %H:%M:%S GMT', time.gmtime(expires))
    return '%s=%s; Path=/; Expires=%s; HttpOnly; SameSite=Strict' % (COOKIE_NAME, token, stamp)


def clear_cookie_header():
    """Set-Cookie value removing the auth cookie."""
    return '%s=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; SameSite=Strict' % COOKIE_NAME


# --- users -----------------------------------------------------------------------------------------


def new_user(username, password, role):
    """A User record."""
    return {
        'Id': 0, 'Username': username, 'Password': hash_password(password), 'Role': role, 'TokenIssueAt': 0,
        'ThemeSettings': {'color': '', 'subtleUpgradeButton': False}, 'UseCache': True,
        'PortainerAuthorizations': None, 'EndpointAuthorizations': None,
    }


def user_view(user, with_password=False):
    """User JSON as returned by the API (hideFields blanks the password)."""
    view = dict(user)
    if not with_password:
        view['Password'] = ''
    return view


def required_password_length(app):
    """Settings.InternalAuthSettings.RequiredPasswordLength."""
    return app.store.settings['InternalAuthSettings'].get('RequiredPasswordLength', 12)


def session_lifetime(app):
    """Token lifetime in seconds from Settings.UserSessionTimeout."""
    try:
        return util.parse_go_duration(app.store.settings.get('UserSessionTimeout', '8h'))
    except ValueError:
        return 8 * 3600


def admin_exists(app):
    """True when at least one administrator exists."""
    return any(user['Role'] == ADMIN for user in app.store.items('users'))


# --- route handlers --------------------------------------------------------------------------------


def post_auth(app, req):
    """POST /api/auth."""
    limit(app, req)
    data = util.decode_json_body(req.body)
    if not isinstance(data, dict):
        raise util.json_type_error('', 'auth.authenticatePayload', data)
    username = util.field(data, 'Username', str, '')
    password = util.field(data, 'Password', str, '')
    if not username:
        raise ApiError(400, 'Invalid request payload', 'Invalid username')
    if not password:
        raise ApiError(400, 'Invalid request payload', 'Invalid password')
    with app.store.lock:
        user = next((u for u in app.store.items('users') if u['Username'].lower() == username.lower()), None)
    if user is None:
        check_password(_FAKE_HASH, password)
        raise ApiError(422, 'Invalid credentials', 'Unauthorized')
    if not check_password(user['Password'], password):
        raise ApiError(422, 'Invalid credentials', 'Unauthorized')
    force = len(password) < required_password_length(app)
    token, claims = app.jwt.generate(user, session_lifetime(app), force)
    resp = json_response({'jwt': token})
    if app.version.auth_cookie:
        resp.headers.append(('Set-Cookie', cookie_header(token, claims['exp'])))
    req.auth = AuthInfo('none', user)
    return resp


def post_logout(app, req):
    """POST /api/auth/logout (contract 1.7)."""
    if not app.version.logout_public:
        authenticate(app, req)
        return empty_response()
    info = None
    try:
        info = lookup_cookie(app, req)
    except ApiError:
        info = None
    if app.version.jwt_revocation:
        if info is None:
            # Portainer dereferences a nil token here: the handler panics and the connection is dropped.
            raise DropConnection()
        app.jwt.revoke(info.claims.get('jti'))
    resp = empty_response()
    resp.headers.append(('Set-Cookie', clear_cookie_header()))
    return resp


def get_admin_check(app, req):
    """GET /api/users/admin/check."""
    del req
    with app.store.lock:
        if admin_exists(app):
            return empty_response()
    raise ApiError(404, 'No administrator account found inside the database', 'Object not found inside the database')


def post_admin_init(app, req):
    """POST /api/users/admin/init."""
    data = util.decode_json_body(req.body)
    if not isinstance(data, dict):
        raise util.json_type_error('', 'users.adminInitPayload', data)
    username = util.field(data, 'Username', str, '')
    password = util.field(data, 'Password', str, '')
    if not username or ' ' in username:
        raise ApiError(400, 'Invalid request payload', 'Invalid username. Must not contain any whitespace')
    if not password:
        raise ApiError(400, 'Invalid request payload', 'Invalid password')
    with app.store.lock:
        if admin_exists(app):
            raise ApiError(409, 'Unable to create administrator user', 'An administrator user already exists')
        if len(password) < required_password_length(app):
            raise ApiError(400, 'Password does not meet the requirements')
        user = new_user(username, password, ADMIN)
        user['Id'] = app.store.next_id('users')
        app.store.items('users').append(user)
        app.store.save()
        req.changed = True
        return json_response(user_view(user, with_password=True))


def post_users(app, req):
    """POST /api/users (admin): create a user."""
    authenticate(app, req)
    data = util.decode_json_body(req.body)
    if not isinstance(data, dict):
        raise util.json_type_error('', 'users.userCreatePayload', data)
    username = util.field(data, 'Username', str, '')
    password = util.field(data, 'Password', str, '')
    role = util.field(data, 'Role', int, 0)
    if not username or ' ' in username:
        raise ApiError(400, 'Invalid request payload', 'Invalid username. Must not contain any whitespace')
    if role not in (ADMIN, STANDARD):
        raise ApiError(400, 'Invalid request payload', 'Invalid role value. Value must be one of: 1 (administrator) or 2 (regular user)')
    require_admin(req)
    with app.store.lock:
        if any(u['Username'].lower() == username.lower() for u in app.store.items('users')):
            raise ApiError(409, 'Another user with the same username already exists', 'User already exists')
        if len(password) < required_password_length(app):
            raise ApiError(400, 'Password does not meet the requirements')
        user = new_user(username, password, role)
        user['Id'] = app.store.next_id('users')
        app.store.items('users').append(user)
        app.store.save()
        req.changed = True
        return json_response(user_view(user))


def get_users(app, req):
    """GET /api/users: admins see everybody, others see themselves."""
    authenticate(app, req)
    with app.store.lock:
        users = [user_view(u) for u in app.store.items('users') if req.auth.is_admin or u['Id'] == req.auth.user_id]
    return json_response(users)


def get_user_me(app, req):
    """GET /api/users/me."""
    info = authenticate(app, req)
    view = user_view(info.user)
    view['forceChangePassword'] = bool(info.claims.get('forceChangePassword', False))
    return json_response(view)


def get_user(app, req, ident):
    """GET /api/users/{id}."""
    authenticate(app, req)
    user_id = route_int(ident, 'Invalid user identifier route variable')
    if not req.auth.is_admin and req.auth.user_id != user_id:
        raise ApiError(403, 'Permission denied inside the database', 'Access denied to resource')
    user = app.store.get('users', user_id)
    if user is None:
        raise ApiError(404, 'Unable to find a user with the specified identifier inside the database', 'Object not found inside the database')
    return json_response(user_view(user))


def delete_user(app, req, ident):
    """DELETE /api/users/{id} (admin)."""
    authenticate(app, req)
    require_admin(req)
    user_id = route_int(ident, 'Invalid user identifier route variable')
    if user_id == req.auth.user_id:
        raise ApiError(403, 'Cannot remove your own user account. Contact another administrator')
    with app.store.lock:
        user = app.store.get('users', user_id)
        if user is None:
            raise ApiError(404, 'Unable to find a user with the specified identifier inside the database', 'Object not found inside the database')
        app.store.remove('users', user_id)
        app.store.data['api_keys'] = [k for k in app.store.items('api_keys') if k['userId'] != user_id]
        app.store.save()
    req.changed = True
    return empty_response()


def put_user_password(app, req, ident):
    """PUT /api/users/{id}/passwd (rate-limited)."""
    limit(app, req)
    authenticate(app, req)
    user_id = route_int(ident, 'Invalid user identifier route variable')
    if not req.auth.is_admin and req.auth.user_id != user_id:
        raise ApiError(403, 'Permission denied to update user', 'Unauthorized')
    data = util.decode_json_body(req.body)
    if not isinstance(data, dict):
        raise util.json_type_error('', 'users.userUpdatePasswordPayload', data)
    current = util.field(data, 'Password', str, '')
    new = util.field(data, 'NewPassword', str, '')
    if not current:
        raise ApiError(400, 'Invalid request payload', 'Invalid current password')
    if not new:
        raise ApiError(400, 'Invalid request payload', 'Invalid new password')
    with app.store.lock:
        user = app.store.get('users', user_id)
        if user is None:
            raise ApiError(404, 'Unable to find a user with the specified identifier inside the database', 'Object not found inside the database')
        if not check_password(user['Password'], current):
            raise ApiError(403, "Current password doesn't match", 'Current password does not match the password provided. Please try again')
        if len(new) < required_password_length(app):
            raise ApiError(400, 'Password does not meet the minimum strength requirements')
        user['Password'] = hash_password(new)
        user['TokenIssueAt'] = util.now()
        app.store.save()
    req.changed = True
    return empty_response()


def _key_view(key, hide_digest):
    view = dict(key)
    if hide_digest:
        view['digest'] = ''
    return view


def post_user_token(app, req, ident):
    """POST /api/users/{id}/tokens (contract 1.9)."""
    authenticate(app, req)
    limit(app, req)
    info = None
    for lookup in (lookup_cookie, lookup_bearer):
        try:
            info = lookup(app, req)
        except ApiError:
            info = None
        if info is not None:
            break
    if info is None:
        raise ApiError(401, 'Auth not supported', 'Authentication required')
    data = util.decode_json_body(req.body)
    if not isinstance(data, dict):
        raise util.json_type_error('', 'users.userAccessTokenCreatePayload', data)
    description = util.field(data, 'description', str, '')
    password = util.field(data, 'password', str, '')
    if not description:
        raise ApiError(400, 'Invalid request payload', 'invalid description: cannot be empty')
    if not description.strip():
        raise ApiError(400, 'Invalid request payload', 'invalid description: cannot contain only whitespaces')
    if len(description) >= 128:
        raise ApiError(400, 'Invalid request payload', 'invalid description: cannot be longer than 128 characters')
    user_id = route_int(ident, 'Invalid user identifier route variable')
    if req.auth.user_id != user_id:
        raise ApiError(403, 'Permission denied to create user access token', 'Unauthorized')
    user = app.store.get('users', user_id)
    if user is None:
        raise ApiError(500, 'Unable to find a user with the specified identifier inside the database', 'Object not found inside the database')
    if app.version.token_password and (user_id == 1 or app.store.settings['AuthenticationMethod'] == 1):
        if not password:
            raise ApiError(400, 'Invalid request payload', 'invalid password: cannot be empty')
        if not check_password(user['Password'], password):
            raise ApiError(403, "Current password doesn't match", 'Current password does not match the password provided. Please try again')
    raw = 'ptr_' + base64.b64encode(os.urandom(32)).decode('ascii')
    with app.store.lock:
        key = {
            'id': app.store.next_id('api_keys'), 'userId': user_id, 'description': description, 'prefix': raw[:7],
            'dateCreated': util.now(), 'lastUsed': 0, 'digest': hashlib.sha256(raw.encode('utf-8')).hexdigest(),
        }
        app.store.items('api_keys').append(key)
        app.store.save()
    req.changed = True
    body = {'rawAPIKey': raw, 'apiKey': _key_view(key, False)}
    ctype = 'application/json' if app.version.token_content_type_json else 'text/plain; charset=utf-8'
    return Response(201, util.dumps(body), content_type=ctype)


def get_user_tokens(app, req, ident):
    """GET /api/users/{id}/tokens."""
    authenticate(app, req)
    user_id = route_int(ident, 'Invalid user identifier route variable')
    user = app.store.get('users', user_id)
    if user is None:
        raise ApiError(404, 'Unable to find a user with the specified identifier inside the database', 'Object not found inside the database')
    if req.auth.user_id != user_id and (not req.auth.is_admin or user['Role'] == ADMIN):
        raise ApiError(403, 'Permission denied to get user access tokens', 'Unauthorized')
    with app.store.lock:
        keys = [_key_view(k, True) for k in app.store.items('api_keys') if k['userId'] == user_id]
    return json_response(keys)


def delete_user_token(app, req, ident, key_ident):
    """DELETE /api/users/{id}/tokens/{keyID}."""
    authenticate(app, req)
    user_id = route_int(ident, 'Invalid user identifier route variable')
    key_id = route_int(key_ident, 'Invalid api-key identifier route variable')
    if not req.auth.is_admin and req.auth.user_id != user_id:
        raise ApiError(403, 'Permission denied to get user access tokens', 'Unauthorized')
    with app.store.lock:
        if app.store.get('users', user_id) is None:
            raise ApiError(404, 'Unable to find a user with the specified identifier inside the database', 'Object not found inside the database')
        key = app.store.get('api_keys', key_id, key='id')
        if key is None:
            raise ApiError(500, 'API Key not found', 'Object not found inside the database')
        if key['userId'] != user_id:
            raise ApiError(403, 'Permission denied to remove api-key', 'Unauthorized')
        app.store.remove('api_keys', key_id, key='id')
        app.store.save()
    req.changed = True
    return empty_response()


ROUTES = [
    ('POST', r'/api/auth', post_auth),
    ('POST', r'/api/auth/logout', post_logout),
    ('GET', r'/api/users/admin/check', get_admin_check),
    ('POST', r'/api/users/admin/init', post_admin_init),
    ('GET', r'/api/users/me', get_user_me),
    ('POST', r'/api/users', post_users),
    ('GET', r'/api/users', get_users),
    ('GET', r'/api/users/(?P<ident>[^/]+)', get_user),
    ('DELETE', r'/api/users/(?P<ident>[^/]+)', delete_user),
    ('PUT', r'/api/users/(?P<ident>[^/]+)/passwd', put_user_password),
    ('POST', r'/api/users/(?P<ident>[^/]+)/tokens', post_user_token),
    ('GET', r'/api/users/(?P<ident>[^/]+)/tokens', get_user_tokens),
    ('DELETE', r'/api/users/(?P<ident>[^/]+)/tokens/(?P<key_ident>[^/]+)', delete_user_token),
]
