# -*- coding: utf-8 -*-
# Copyright (c) pier.portainer contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to the pier.portainer collection. It may change without notice
# and must not be used by other collections.

"""API keys (access tokens) of Portainer users: ``/api/users/{id}/tokens`` (Portainer 2.11+)."""

from __future__ import annotations

import json

from ansible_collections.pier.portainer.plugins.module_utils._api import (
    PortainerAPIError,
    PortainerError,
    parse_error_body,
)

MAX_DESCRIPTION = 128
NEEDS_LOGIN = (
    'Creating an API key needs portainer_username and portainer_password: Portainer accepts the creation only from '
    'a login (JWT), never from an API key, and Portainer 2.20+ also wants the user\'s password. Listing and deleting '
    'API keys work with portainer_api_key.')


def validate_input(params):
    """Check the options before any request; return None or the error message."""
    description = params.get('description')
    if description is None or not description.strip():
        return 'description is empty: give the description that identifies the API key, for example ansible-deploy'
    if len(description) >= MAX_DESCRIPTION:
        return 'description is %d characters long: Portainer accepts at most %d' % (len(description), MAX_DESCRIPTION - 1)
    user = params.get('user')
    if user is not None and not str(user).strip():
        return 'user is empty: give the name or the numeric id of a Portainer user, or leave it out for the logged-in user'
    if params.get('rotate') and params.get('state') == 'absent':
        return 'rotate: true needs state: present (rotate replaces an API key; state: absent removes it)'
    return None


def key_view(key):
    """The documented fields of an API key object (never its digest)."""
    return {
        'id': key.get('id'),
        'user_id': key.get('userId'),
        'description': key.get('description'),
        'prefix': key.get('prefix'),
        'date_created': key.get('dateCreated'),
        'last_used': key.get('lastUsed'),
    }


def resolve_user(client, ref, me):
    """Return (id, username) of the user ``ref`` (name or id); ``me`` answers without a request."""
    if ref is None:
        return me.get('Id'), me.get('Username')
    text = str(ref).strip()
    if text.isdigit():
        if int(text) == me.get('Id'):
            return me.get('Id'), me.get('Username')
        user = client.get('/api/users/%d' % int(text), missing_ok=True)
        if not user:
            raise PortainerError('user: no Portainer user with id %s' % text)
        return user.get('Id'), user.get('Username')
    if text == me.get('Username'):
        return me.get('Id'), me.get('Username')
    users = client.get('/api/users') or []
    exact = [u for u in users if isinstance(u, dict) and u.get('Username') == text]
    if not exact:
        exact = [u for u in users if isinstance(u, dict) and str(u.get('Username', '')).lower() == text.lower()]
    if not exact:
        raise PortainerError('user: no Portainer user named %r (that the credentials may see); check the name, or give the id' % text)
    return exact[0].get('Id'), exact[0].get('Username')


def list_keys(client, user_id):
    keys = client.get('/api/users/%d/tokens' % int(user_id)) or []
    return [k for k in keys if isinstance(k, dict)]


def create_key(client, user_id, description):
    """``POST /api/users/{id}/tokens``; returns (raw_key, api_key_object)."""
    body = {'description': description}
    if client.password:
        # Required by Portainer 2.20+; 2.11-2.19 ignore the unknown key.
        body['password'] = client.password
    response = client.request('POST', '/api/users/%d/tokens' % int(user_id), json_body=body, expected=(200, 201, 400, 401, 403))
    if response.status_code in (200, 201):
        # 2.11-2.19 may answer without a JSON content type: parse the text whatever the header says.
        try:
            data = json.loads(response.text)
        except ValueError:
            data = None
        raw = data.get('rawAPIKey') if isinstance(data, dict) else None
        if not raw:
            raise PortainerError('POST /api/users/%d/tokens answered %s without the new key; the key may exist now: '
                                 'check the API keys of the user in Portainer' % (user_id, response.status_code))
        return raw, data.get('apiKey') or {}
    message, details = parse_error_body(response)
    message, details = client.redact(message), client.redact(details)
    words = ' '.join(w for w in (message, details) if w)
    path = '/api/users/%d/tokens' % int(user_id)
    if response.status_code == 401 and 'not supported' in words:
        raise PortainerError(NEEDS_LOGIN)
    if response.status_code == 403 and "doesn't match" in words:
        hint = 'Portainer 2.20+ checks portainer_password again when creating an API key, and it does not match.'
    elif response.status_code == 403 and 'Permission denied' in words:
        hint = 'Portainer lets users create API keys only for themselves: log in as that user.'
    elif response.status_code == 403:
        hint = ('API key creation shares the login rate limit: Portainer bans an address for one hour after more than '
                '10 logins or key creations in a burst. Wait, and use the token cache.')
    elif response.status_code == 400 and 'password' in words:
        hint = 'Portainer 2.20+ needs the password of the user to create an API key: set portainer_password.'
    else:
        hint = None
    raise PortainerAPIError('POST', path, response.status_code, message, details, hint=hint)


def delete_key(client, user_id, key_id):
    """``DELETE /api/users/{id}/tokens/{keyId}``; an already deleted key (500 API Key not found) is fine."""
    path = '/api/users/%d/tokens/%d' % (int(user_id), int(key_id))
    response = client.request('DELETE', path, expected=(200, 204, 404, 500))
    if response.status_code == 500:
        message, details = parse_error_body(response)
        if 'not found' not in ' '.join(w for w in (message, details) if w).lower():
            raise client.error_from('DELETE', path, response)
    return True


def run(pm):
    """The whole logic of pier.portainer.portainer_api_token."""
    client = pm.client
    params = pm.params
    problem = validate_input(params)
    if problem:
        pm.fail(problem)
    description = params['description']
    state = params['state']
    rotate = params['rotate']

    me = client.me() or {}
    user_id, username = resolve_user(client, params.get('user'), me)
    if user_id is None:
        raise PortainerError('Portainer did not say which user the credentials belong to (GET /api/users/me)')
    found = [k for k in list_keys(client, user_id) if k.get('description') == description]
    before_ids = [k.get('id') for k in found]

    result = dict(changed=False, user=dict(id=user_id, username=username), api_key=None, deleted=[])
    create = state == 'present' and (rotate or not found)
    delete = found if (state == 'absent' or (state == 'present' and rotate)) else []
    if create:
        if client.auth_mode != 'password':
            raise PortainerError(NEEDS_LOGIN)
        if user_id != me.get('Id'):
            raise PortainerError(
                'user: Portainer lets a user create API keys only for themselves; to create one for %s, log in as %s '
                '(portainer_username and portainer_password)' % (username, username))
    if state == 'present' and len(found) > 1 and not rotate:
        pm.warn('%d API keys of %s have the description %r; the module reports the newest. Run with rotate: true to '
                'replace them by one, or delete the others' % (len(found), username, description))

    new_key = None
    if not pm.check_mode:
        # Delete first: a failure after the creation would lose the only copy of the new key. A run that
        # fails between the two converges on the next one.
        for key in delete:
            delete_key(client, user_id, key.get('id'))
        if create:
            raw, new_key = create_key(client, user_id, description)
            result['token'] = raw
    result['deleted'] = [key_view(k) for k in delete]
    result['changed'] = bool(create or delete)
    if new_key is not None:
        result['api_key'] = key_view(new_key)
    elif state == 'present' and not create and found:
        result['api_key'] = key_view(max(found, key=lambda k: (k.get('dateCreated') or 0, k.get('id') or 0)))
    if state == 'present':
        result['msg'] = ('Created an API key' if create and not rotate else 'Replaced %d API key(s) by a new one' % len(delete)
                         if create else 'The API key exists')
    else:
        result['msg'] = 'Deleted %d API key(s)' % len(delete) if delete else 'No API key has that description'
    if pm.check_mode and result['changed']:
        result['msg'] += ' (check mode: nothing sent)'
    result['msg'] += ' for user %s with description %r' % (username, description)
    if pm.diff_mode:
        after_ids = [i for i in before_ids if i not in [k.get('id') for k in delete]]
        if create:
            after_ids.append(new_key.get('id') if new_key else '(new key)')
        result['diff'] = dict(before=dict(description=description, present=bool(before_ids), ids=before_ids),
                              after=dict(description=description, present=bool(after_ids), ids=after_ids))
    pm.exit(**result)
