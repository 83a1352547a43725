# -*- coding: utf-8 -*-
# Copyright (c) pier.portainer contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to the pier.portainer collection. It may change without notice
# and must not be used by other collections.

"""Any Docker Engine API request through Portainer's proxy (``/api/endpoints/{id}/docker/...``)."""

from __future__ import annotations

import base64
import json
import re

from urllib.parse import unquote

from ansible_collections.pier.portainer.plugins.module_utils._api import (
    PortainerAPIError,
    PortainerError,
    docker_stream_error,
    parse_error_body,
)

READ_METHODS = frozenset(('GET', 'HEAD'))
# An HTTP header name (a "token" of RFC 9110).
HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
DEFAULT_STATUSES = tuple(range(200, 300)) + (304,)
# Headers the module sets itself or that would change how Portainer authenticates the request.
RESERVED_HEADERS = frozenset(('authorization', 'x-api-key', 'cookie', 'host', 'content-length', 'transfer-encoding', 'connection'))
SECRET_HEADERS = frozenset(('x-registry-auth', 'x-registry-config'))
# The secret fields of Docker's registry auth JSON.
SECRET_AUTH_KEYS = frozenset(('password', 'auth', 'identitytoken', 'registrytoken'))
MASK = '********'
# Docker routes that answer with a stream of JSON documents, one a line.
STREAM_PATHS = (
    re.compile(r'^/events$'),
    re.compile(r'^/images/create$'),
    re.compile(r'^/images/.+/push$'),
    re.compile(r'^/images/load$'),
    re.compile(r'^/build$'),
    re.compile(r'^/plugins/(pull|[^/]+/upgrade)$'),
)
# Portainer's own session headers, not part of Docker's answer.
PORTAINER_HEADERS = frozenset(('set-cookie', 'x-csrf-token', 'vary'))


def validate_path(path):
    """Return None or the error message for the ``path`` option."""
    if path is None or not str(path).strip():
        return 'path is empty: give the Docker API path, for example /containers/json'
    path = str(path)
    if re.match(r'^[a-zA-Z][a-zA-Z0-9+.-]*:', path) or path.startswith('//'):
        return ('path %r is an absolute URL: give only the Docker API path, for example /containers/json; the module '
                'sends it to the environment named by endpoint through Portainer' % path)
    if not path.startswith('/'):
        return 'path %r must start with /, for example /%s' % (path, path)
    if '?' in path or '#' in path:
        return 'path %r contains a query string: put the query parameters in the query option instead' % path
    if any(segment in ('.', '..') for segment in unquote(path).split('/')):
        return 'path %r contains . or .. segments, which could leave the Docker API: give the plain path' % path
    if any(ord(ch) < 33 for ch in path):
        return 'path %r contains spaces or control characters: quote them (for example %%20)' % path
    return None


def unversioned(path):
    return re.sub(r'^/v[0-9.]+(?=/)', '', path)


def encode_query(query):
    """Docker's query values: booleans as true/false, lists repeated, dicts (filters) as JSON."""
    params = []
    for name, value in (query or {}).items():
        if value is None:
            continue
        values = value if isinstance(value, list) and not (value and all(isinstance(v, dict) for v in value)) else [value]
        for item in values:
            if isinstance(item, bool):
                params.append((name, 'true' if item else 'false'))
            elif isinstance(item, (dict, list)):
                params.append((name, json.dumps(item, separators=(',', ':'), sort_keys=True)))
            else:
                params.append((name, str(item)))
    return params


def encode_registry_auth(value):
    """X-Registry-Auth from a dict: standard base64 for Portainer's ``registryId``, URL-safe base64 for Docker."""
    text = json.dumps(value, separators=(',', ':'))
    if isinstance(value, dict) and 'registryId' in value:
        return base64.b64encode(text.encode('utf-8')).decode('ascii')
    return base64.urlsafe_b64encode(text.encode('utf-8')).decode('ascii')


def build_headers(headers):
    """Return (headers to send, secret values to mask, error message or None)."""
    result = {}
    secrets = []
    for name, value in (headers or {}).items():
        lower = str(name).lower()
        if not HEADER_NAME.match(str(name)):
            return None, secrets, ('headers: %r is not a valid HTTP header name: use letters, digits and - only, '
                                   'for example X-Registry-Auth' % name)
        if lower in RESERVED_HEADERS:
            return None, secrets, ('headers: %s is set by the module or by Portainer and cannot be given; the module '
                                   'authenticates with the portainer_* options' % name)
        if value is None:
            continue
        if lower in SECRET_HEADERS and isinstance(value, (dict, list)):
            for key, item in (value.items() if isinstance(value, dict) else []):
                if str(key).lower() in SECRET_AUTH_KEYS and isinstance(item, str) and len(item) >= 3:
                    secrets.append(item)
            value = encode_registry_auth(value)
        elif isinstance(value, (dict, list)):
            value = json.dumps(value, separators=(',', ':'))
        elif isinstance(value, bool):
            value = 'true' if value else 'false'
        else:
            value = str(value)
        if '\r' in value or '\n' in value or '\0' in value:
            return None, secrets, 'headers: the value of %s contains a line break or NUL, which HTTP headers cannot carry' % name
        if lower in SECRET_HEADERS:
            secrets.append(value)
        result[str(name)] = value
    return result, secrets, None


def build_body(body, headers):
    """Return (json_body, data, content_type) for ``requests``."""
    if body is None:
        return None, None, None
    if isinstance(body, (dict, list)):
        return body, None, None
    content_type = next((v for k, v in headers.items() if k.lower() == 'content-type'), None)
    if isinstance(body, bool):
        body = 'true' if body else 'false'
    data = str(body).encode('utf-8')
    if content_type is None:
        stripped = str(body).strip()
        content_type = 'application/json' if stripped[:1] in ('{', '[', '"') else 'text/plain'
    return None, data, content_type


def is_stream_path(path):
    path = unversioned(path)
    return any(pattern.match(path) for pattern in STREAM_PATHS)


def decode_stream(text):
    """Decode one JSON document a line; None when a non-empty line is not JSON."""
    items = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            items.append(json.loads(line))
        except ValueError:
            return None
    return items


def decode_body(response, path, response_format):
    """Return a dict with one of ``json``, ``stream`` or ``text`` (``json: None`` for an empty body)."""
    text = response.text if response.content else ''
    if response_format == 'text':
        return {'text': text}
    if not text.strip():
        stream = response_format == 'stream' or (response_format == 'auto' and is_stream_path(path))
        return {'stream': []} if stream else {'json': None}
    if response_format == 'stream' or (response_format == 'auto' and is_stream_path(path)):
        items = decode_stream(text)
        if items is not None:
            return {'stream': items}
        if response_format == 'stream':
            raise PortainerError('response_format is stream, but the answer is not one JSON document a line; use auto or text')
        return {'text': text}
    try:
        return {'json': json.loads(text)}
    except ValueError:
        pass
    if response_format == 'json':
        raise PortainerError('response_format is json, but the answer is not JSON; use auto or text')
    items = decode_stream(text) if '\n' in text.strip() else None
    if items is not None:
        return {'stream': items}
    return {'text': text}


def stream_error(items):
    """The first ``error`` a Docker stream reports (pulls and pushes answer 200, then report failure inline)."""
    for item in items or []:
        error = docker_stream_error(item)
        if error:
            return error
    return None


def describe_statuses(statuses):
    statuses = sorted(set(statuses))
    if all(s in statuses for s in range(200, 300)):
        rest = [str(s) for s in statuses if not 200 <= s < 300]
        return ', '.join(['2xx'] + rest)
    return ', '.join(str(s) for s in statuses)


def mask(value, secrets):
    if isinstance(value, str):
        for secret in sorted(secrets, key=len, reverse=True):
            if secret and len(secret) >= 3:
                value = value.replace(secret, MASK)
        return value
    if isinstance(value, dict):
        return dict((k, mask(v, secrets)) for k, v in value.items())
    if isinstance(value, list):
        return [mask(v, secrets) for v in value]
    return value


def run(pm):
    """The whole logic of pier.portainer.portainer_docker_api."""
    client = pm.client
    params = pm.params
    method = params['method'].upper()
    path = params['path']
    problem = validate_path(path)
    if problem:
        pm.fail(problem)
    headers, secrets, problem = build_headers(params.get('headers'))
    for secret in secrets:
        pm.module.no_log_values.add(secret)
    if problem:
        pm.fail(problem)
    statuses = params.get('status_code') or list(DEFAULT_STATUSES)
    if any(not 100 <= s <= 599 for s in statuses):
        pm.fail('status_code: %s is not an HTTP status (100-599)' % [s for s in statuses if not 100 <= s <= 599][0])
    write = params.get('write')
    if write is None:
        write = method not in READ_METHODS
    query = encode_query(params.get('query'))
    json_body, data, content_type = build_body(params.get('body'), headers)
    if content_type:
        headers = dict((k, v) for k, v in headers.items() if k.lower() != 'content-type')
        headers['Content-Type'] = content_type

    ref = params['endpoint']
    if ref is None or not str(ref).strip():
        pm.fail('endpoint is empty: give the name or the numeric id of a Portainer environment')
    # A number costs no lookup: the client tells Portainer's 404 for an unknown id from Docker's.
    endpoint_id = client.endpoint_id(ref)
    proxy_path = client.docker_path(endpoint_id, path)
    result = dict(changed=False, endpoint_id=endpoint_id, method=method, path=path, url=proxy_path, write=write,
                  skipped_write=False)

    if write and pm.check_mode:
        result.update(changed=True, skipped_write=True,
                      msg='check mode: %s %s was not sent, because it changes the environment (write: true)' % (method, path))
        pm.exit(**mask(result, secrets))
        return

    response = client.docker(endpoint_id, method, path, params=query or None, json_body=json_body, data=data, headers=headers,
                             expected=tuple(range(100, 600)))
    status = response.status_code
    result['status'] = status
    result['headers'] = mask(dict((k, v) for k, v in response.headers.items() if k.lower() not in PORTAINER_HEADERS), secrets)
    if status not in statuses:
        message, details = parse_error_body(response)
        error = PortainerAPIError(method, path, status, client.redact(mask(message, secrets)),
                                  client.redact(mask(details, secrets)), hint='')
        decoded = {}
        try:
            # An error answer is one JSON document (or text), even on a streaming route.
            decoded = decode_body(response, '/', 'auto')
        except PortainerError:
            decoded = {}
        result.update(mask(decoded, secrets))
        pm.fail('%s (accepted: %s; add the status to status_code to accept it)' % (error, describe_statuses(statuses)),
                **mask(dict((k, v) for k, v in result.items() if k != 'changed'), secrets))
        return
    result.update(decode_body(response, path, params['response_format']))
    problem = stream_error(result.get('stream'))
    if problem:
        pm.fail('%s %s answered %s, then reported an error in its stream: %s' % (method, path, status, client.redact(mask(problem, secrets))),
                **mask(dict((k, v) for k, v in result.items() if k != 'changed'), secrets))
        return
    result['changed'] = bool(write and 200 <= status < 300)
    if write and not result['changed']:
        result['msg'] = '%s %s answered %s: nothing changed' % (method, path, status)
    else:
        result['msg'] = '%s %s answered %s' % (method, path, status)
    pm.exit(**mask(result, secrets))
