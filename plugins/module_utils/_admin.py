# -*- coding: utf-8 -*-
# Copyright (c) pier.portainer contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to the pier.portainer collection. It may change without notice
# and must not be used by other collections.

"""Initialisation of Portainer's first administrator (``/api/users/admin/check`` and ``/init``)."""

from __future__ import annotations

import json

from ansible_collections.pier.portainer.plugins.module_utils._api import (
    PortainerAPIError,
    PortainerError,
    jwt_claims,
    parse_error_body,
)

ROLES = {1: 'administrator', 2: 'user'}
# Portainer 2.14+ defaults Settings.InternalAuthSettings.RequiredPasswordLength to 12.
DEFAULT_PASSWORD_LENGTH = 12
TIMEOUT_HINT = ('Portainer stopped accepting the admin initialisation because no administrator was created within '
                '5 minutes of its start (redirect-reason AdminInitTimeout): restart Portainer and run the task again '
                'within 5 minutes, or start Portainer with --admin-password-file')


def validate_input(username, password):
    """Check the options before any request; return None or the error message."""
    if not username or not username.strip():
        return 'username is empty: give the name of the administrator to create, for example admin'
    if any(ch.isspace() for ch in username):
        return 'username %r contains whitespace, which Portainer refuses: use a name without spaces' % username
    if not password or not password.strip():
        return 'password is empty or only whitespace: give the password of the administrator'
    return None


def _user_view(data):
    """The safe part of a Portainer user object (never its password hash)."""
    if not isinstance(data, dict):
        return None
    role = data.get('Role', data.get('role'))
    return {
        'id': data.get('Id', data.get('id')),
        'username': data.get('Username', data.get('username')),
        'role': ROLES.get(role, str(role) if role is not None else None),
    }


def _redirected(response):
    return response.status_code == 303 or response.headers.get('redirect-reason') == 'AdminInitTimeout'


def admin_exists(client):
    """True when Portainer has an administrator (``GET /api/users/admin/check``: 204 yes, 404 no)."""
    response = client.request('GET', '/api/users/admin/check', authenticated=False, expected=(204, 404, 303))
    if _redirected(response):
        raise PortainerError(TIMEOUT_HINT)
    return response.status_code == 204


def required_password_length(client):
    """``RequiredPasswordLength`` from ``GET /api/settings/public``, or None when Portainer does not say."""
    try:
        response = client.request('GET', '/api/settings/public', authenticated=False, expected=(200, 303, 404))
    except PortainerAPIError:
        return None
    if response.status_code != 200:
        return None
    try:
        data = json.loads(response.text)
    except ValueError:
        return None
    value = data.get('RequiredPasswordLength') if isinstance(data, dict) else None
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None


def password_rule_message(length):
    if length:
        return ('password does not meet the requirements of this Portainer: it must be at least %d characters long '
                '(Settings.InternalAuthSettings.RequiredPasswordLength). Choose a longer password.' % length)
    return ('password does not meet the requirements of this Portainer: Portainer 2.14 and later want at least %d '
            'characters by default (RequiredPasswordLength), Portainer 2.13 also wants three of lower case, upper case, '
            'digits and symbols. Choose a longer password.' % DEFAULT_PASSWORD_LENGTH)


def verify_login(client, username, password):
    """Log in with the credentials; return the user they belong to, or raise a clear error."""
    response = client.request('POST', '/api/auth', json_body={'Username': username, 'Password': password},
                              authenticated=False, expected=(200, 400, 403, 422))
    if response.status_code == 200:
        try:
            token = json.loads(response.text).get('jwt')
        except (ValueError, AttributeError):
            token = None
        claims = jwt_claims(token) if token else {}
        return _user_view(dict(id=claims.get('id'), username=claims.get('username', username), role=claims.get('role')))
    message, details = parse_error_body(response)
    words = client.redact(': '.join(w for w in (message, details) if w) or 'no details')
    if response.status_code == 403:
        raise PortainerError(
            'Portainer already has an administrator, and refused the login that checks username and password '
            '(HTTP 403: %s). Portainer bans an address for one hour after more than 10 logins in a burst; wait, '
            'or set verify: false.' % words)
    raise PortainerError(
        'Portainer already has an administrator, but username %r and password do not log in (HTTP %s: %s). '
        'Give the credentials of the existing administrator, or set verify: false to only check that one exists.'
        % (username, response.status_code, words))


def init_admin(client, username, password, length=None):
    """``POST /api/users/admin/init``. Returns (created, user): created is False when another run was first."""
    response = client.request('POST', '/api/users/admin/init', json_body={'Username': username, 'Password': password},
                              authenticated=False, expected=(200, 303, 400, 409))
    if response.status_code == 200:
        try:
            data = json.loads(response.text)
        except ValueError:
            data = {}
        # The answer carries the bcrypt hash of the password: only the safe fields are kept.
        return True, _user_view(data) or {'id': None, 'username': username, 'role': 'administrator'}
    if _redirected(response):
        raise PortainerError(TIMEOUT_HINT)
    if response.status_code == 409:
        return False, None
    message, details = parse_error_body(response)
    text = ' '.join(w for w in (message, details) if w)
    if 'requirements' in text or 'strength' in text:
        raise PortainerError(password_rule_message(length))
    raise PortainerAPIError('POST', '/api/users/admin/init', 400, client.redact(message), client.redact(details),
                            hint='Check username (no whitespace) and password.')


def run(pm):
    """The whole logic of pier.portainer.portainer_admin."""
    client = pm.client
    username = pm.params['username']
    password = pm.params['password']
    verify = pm.params['verify']
    problem = validate_input(username, password)
    if problem:
        pm.fail(problem)

    exists = admin_exists(client)
    result = dict(changed=False, initialized=False, verified=False, user=None)
    if not exists:
        length = required_password_length(client)
        if length is None and client.version_at_least('2.13.0'):
            # Portainer 2.13 and later want 12 characters unless told otherwise.
            length = DEFAULT_PASSWORD_LENGTH
        if length and len(password) < length:
            pm.fail(password_rule_message(length))
        if pm.check_mode:
            result.update(changed=True, initialized=True, user={'id': None, 'username': username, 'role': 'administrator'},
                          msg='Portainer has no administrator: %s would be created (check mode, nothing sent)' % username)
        else:
            created, user = init_admin(client, username, password, length)
            if created:
                result.update(changed=True, initialized=True, user=user,
                              msg='Created the administrator %s' % user.get('username'))
            else:
                exists = True  # another client initialised it between the check and the init
    if exists:
        result['msg'] = 'Portainer already has an administrator'
        if verify:
            result['user'] = verify_login(client, username, password)
            result['verified'] = True
            result['msg'] += '; username and password log in as %s (%s)' % (result['user']['username'], result['user']['role'])
            if result['user'].get('role') != 'administrator':
                pm.warn('username %s logs in, but is not an administrator of this Portainer' % username)
        else:
            result['msg'] += '; the credentials were not checked (verify: false)'
    if pm.diff_mode:
        before = {'admin_initialized': exists}
        after = {'admin_initialized': True}
        if result['changed']:
            after['username'] = username
        result['diff'] = dict(before=before, after=after)
    pm.exit(**result)
