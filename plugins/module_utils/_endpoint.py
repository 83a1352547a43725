# -*- coding: utf-8 -*-
# Copyright (c) pier.portainer contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to the pier.portainer collection. It may change without notice
# and must not be used by other collections.

"""Portainer environments (endpoints): validation, comparison, payloads, groups and tags."""

from __future__ import annotations

import base64
import binascii
import copy
import json
import os
import re
import time

from urllib.parse import urlsplit

from ansible_collections.pier.portainer.plugins.module_utils._api import PortainerAPIError, PortainerError

# Option value -> EndpointCreationType of POST /api/endpoints (2.x).
CREATION_TYPES = {'docker': 1, 'agent': 2, 'edge_agent': 4}
# Endpoint.Type -> option value (Docker and Kubernetes agents alike).
TYPE_NAMES = {1: 'docker', 2: 'agent', 3: 'azure', 4: 'edge_agent', 5: 'kubernetes', 6: 'agent', 7: 'edge_agent'}
# Option value -> the Endpoint.Type values it covers (filters of GET /api/endpoints).
TYPE_IDS = {'docker': [1], 'agent': [2, 6], 'edge_agent': [4, 7]}

TLS_FILE_OPTIONS = (('tls_ca_cert', 'ca', 'TLSCACertFile', 'ca.pem'),
                    ('tls_client_cert', 'cert', 'TLSCertFile', 'cert.pem'),
                    ('tls_client_key', 'key', 'TLSKeyFile', 'key.pem'))
TLS_OPTIONS = ('tls_skip_verify', 'tls_skip_client_verify', 'tls_ca_cert', 'tls_client_cert', 'tls_client_key')

PEM_BLOCK = re.compile(r'-----BEGIN ([A-Z0-9 ]+)-----\r?\n(.*?)-----END \1-----', re.DOTALL)
# How long a task that lost a creation race waits for the winner's environment to become visible.
CONFLICT_WAIT = 20.0
CONFLICT_STEP = 0.5

CREATE_HINT = ('Portainer connects to the Docker engine when it creates an environment: check that url is reachable '
               'from the Portainer server (not only from this host), the port, and the TLS options (tls, tls_ca_cert, '
               'tls_client_cert, tls_client_key). Nothing was saved.')


class ValidationError(PortainerError):
    """Bad input found before any request."""


# ------------------------------------------------------------------ validation (no request)

def validate_url(url, endpoint_type):
    """Return the URL stripped, or raise ValidationError naming the option and the expected forms."""
    if url is None:
        return None
    text = str(url).strip()
    if endpoint_type == 'edge_agent':
        expected = 'the address of Portainer that the Edge agent reaches, for example https://portainer.example.com:9443'
    elif endpoint_type == 'agent':
        expected = 'the address of the Portainer agent as tcp://host:port, for example tcp://10.0.0.5:9001'
    else:
        expected = 'unix:///var/run/docker.sock, npipe:////./pipe/docker_engine or tcp://host:port (for example tcp://10.0.0.5:2375)'
    if not text:
        raise ValidationError('url is empty: set it to %s' % expected)
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ValidationError('url %r cannot be parsed: set it to %s' % (text, expected)) from None
    scheme = parts.scheme.lower()
    ok = False
    if endpoint_type == 'edge_agent':
        ok = scheme in ('http', 'https') and bool(parts.hostname) and parts.path in ('', '/') and not parts.query
    elif endpoint_type == 'agent':
        ok = scheme == 'tcp' and bool(parts.hostname) and port is not None and parts.path in ('', '/')
    elif scheme == 'unix':
        ok = not parts.netloc and len(parts.path) > 1
    elif scheme == 'npipe':
        ok = len(parts.path) > 1
    elif scheme == 'tcp':
        ok = bool(parts.hostname) and port is not None and parts.path in ('', '/') and not parts.query
    if not ok:
        what = {'edge_agent': 'an Edge environment', 'agent': 'an agent environment'}.get(endpoint_type, 'a Docker environment')
        raise ValidationError('url %r is not a valid address for %s: set it to %s' % (text, what, expected))
    return text


def read_pem(path, option, kind):
    """Read a PEM file and check it holds a certificate (kind 'cert') or an unencrypted private key ('key').

    Returns the bytes. Errors name the option and never quote the file's contents.
    """
    if not os.path.exists(path):
        raise ValidationError('%s: the file %s does not exist: give the path of a PEM file on the host that runs the module' % (option, path))
    if not os.path.isfile(path):
        raise ValidationError('%s: %s is not a file: give the path of a PEM file' % (option, path))
    try:
        with open(path, 'rb') as handle:
            content = handle.read(1024 * 1024 + 1)
    except OSError as exc:
        raise ValidationError('%s: cannot read %s (%s)' % (option, path, exc.strerror or exc)) from None
    if len(content) > 1024 * 1024:
        raise ValidationError('%s: %s is larger than 1 MiB; it is not a PEM file' % (option, path))
    try:
        text = content.decode('ascii')
    except UnicodeDecodeError:
        text = ''
    blocks = []
    for label, body in PEM_BLOCK.findall(text):
        lines = [line.strip() for line in body.strip().splitlines()]
        if any(':' in line for line in lines):
            blocks.append((label, None))  # PEM headers: an encrypted (legacy) key
            continue
        try:
            der = base64.b64decode(''.join(lines), validate=True)
        except (binascii.Error, ValueError):
            der = None
        blocks.append((label, der))
    if kind == 'cert':
        good = [b for b in blocks if b[0] in ('CERTIFICATE', 'TRUSTED CERTIFICATE') and b[1]]
        if not good:
            raise ValidationError('%s: %s holds no PEM certificate (-----BEGIN CERTIFICATE-----): give a PEM encoded certificate file'
                                  % (option, path))
    else:
        if any(b[0] == 'ENCRYPTED PRIVATE KEY' or (b[0].endswith('PRIVATE KEY') and b[1] is None and 'ENCRYPTED' in text) for b in blocks):
            raise ValidationError('%s: the private key in %s is encrypted; Portainer needs an unencrypted PEM key' % (option, path))
        good = [b for b in blocks if b[0].endswith('PRIVATE KEY') and b[1]]
        if not good:
            raise ValidationError('%s: %s holds no PEM private key (-----BEGIN ... PRIVATE KEY-----): give a PEM encoded key file'
                                  % (option, path))
    return content


def validate_params(params):
    """Check the options of portainer_endpoint before any request. Returns the contents of the TLS files.

    Raises ValidationError with a message that names the option and the fix.
    """
    name = params.get('name')
    if name is None or not str(name).strip():
        raise ValidationError('name is empty: give the name of the Portainer environment')
    if params.get('state') == 'absent':
        return {}
    endpoint_type = params.get('type') or 'docker'
    params['url'] = validate_url(params.get('url'), endpoint_type)
    if params.get('public_url') is not None:
        params['public_url'] = str(params['public_url']).strip()
    group = params.get('group')
    if group is not None and not str(group).strip():
        raise ValidationError('group is empty: give the name or the numeric id of an environment group, or leave it out')
    if group is not None and str(group).strip().isdigit() and int(group) < 1:
        raise ValidationError('group %s is not a valid group id: ids start at 1 (1 is Unassigned)' % group)
    if params.get('create_group') and group is not None and str(group).strip().isdigit():
        raise ValidationError('create_group needs group to be a name, not the id %s' % group)
    for tag in params.get('tags') or []:
        if tag is None or not str(tag).strip():
            raise ValidationError('tags contains an empty name: give tag names only')
    interval = params.get('edge_checkin_interval')
    if interval is not None:
        if endpoint_type != 'edge_agent':
            raise ValidationError('edge_checkin_interval applies only to type: edge_agent')
        if interval < 1:
            raise ValidationError('edge_checkin_interval must be a positive number of seconds, got %s' % interval)
    tls = params.get('tls')
    used = [option for option in TLS_OPTIONS if params.get(option) is not None]
    if params.get('tls_replace_files'):
        used.append('tls_replace_files')
    if used and tls is not True:
        raise ValidationError('%s %s only with tls: true; set tls: true, or remove %s'
                              % (', '.join(used), 'applies' if len(used) == 1 else 'apply', 'it' if len(used) == 1 else 'them'))
    if tls and endpoint_type == 'edge_agent':
        raise ValidationError('tls does not apply to type: edge_agent (the Edge agent connects to Portainer); remove the tls options')
    cert, key = params.get('tls_client_cert'), params.get('tls_client_key')
    if key is not None and cert is None:
        raise ValidationError('tls_client_key is set but tls_client_cert is not: give both the client certificate and its key, or neither')
    if cert is not None and key is None:
        raise ValidationError('tls_client_cert is set but tls_client_key is not: give both the client certificate and its key, or neither')
    if params.get('tls_skip_verify') and params.get('tls_ca_cert') is not None:
        raise ValidationError('tls_ca_cert is set together with tls_skip_verify: true, which ignores it: '
                              'remove tls_ca_cert or set tls_skip_verify: false')
    if params.get('tls_skip_client_verify') and cert is not None:
        raise ValidationError('tls_client_cert and tls_client_key are set together with tls_skip_client_verify: true, which ignores them: '
                              'remove them or set tls_skip_client_verify: false')
    if params.get('tls_replace_files') and not any(params.get(o) is not None for o, _k, _f, _n in TLS_FILE_OPTIONS):
        raise ValidationError('tls_replace_files needs at least one of tls_ca_cert, tls_client_cert and tls_client_key')
    files = {}
    for option, kind, _field, _name in TLS_FILE_OPTIONS:
        path = params.get(option)
        if path is not None:
            files[kind] = read_pem(path, option, 'key' if kind == 'key' else 'cert')
    return files


# ------------------------------------------------------------------ Portainer shapes

def sanitize(endpoint):
    """The environment as returned to the user: no snapshots, no Azure key, TLS paths only."""
    if not isinstance(endpoint, dict):
        return {}
    result = copy.deepcopy(endpoint)
    result.pop('Snapshots', None)
    azure = result.get('AzureCredentials')
    if isinstance(azure, dict):
        azure.pop('AuthenticationKey', None)
    kubernetes = result.get('Kubernetes')
    if isinstance(kubernetes, dict):
        kubernetes.pop('Snapshots', None)
    return result


def current_state(endpoint):
    """The managed fields of an environment in the module's terms, from Portainer's JSON."""
    tls = endpoint.get('TLSConfig') or {}
    use_tls = bool(tls.get('TLS'))
    has_client = bool(tls.get('TLSCert')) and bool(tls.get('TLSKey'))
    return {
        'type': TYPE_NAMES.get(endpoint.get('Type'), str(endpoint.get('Type'))),
        'url': endpoint.get('URL') or '',
        'public_url': endpoint.get('PublicURL') or '',
        'group_id': endpoint.get('GroupId'),
        'tag_ids': sorted(endpoint.get('TagIds') or []),
        'tls': use_tls,
        'tls_skip_verify': bool(tls.get('TLSSkipVerify')),
        # There is no such field: Portainer skips the client certificate when it stores none.
        'tls_skip_client_verify': use_tls and not has_client,
        'ca_stored': bool(tls.get('TLSCACert')),
        'cert_stored': has_client,
        'edge_checkin_interval': endpoint.get('EdgeCheckinInterval'),
    }


def url_matches(current, wanted, endpoint_type):
    """Whether the stored URL is what the user asked for (Portainer keeps only host:port of an Edge URL)."""
    current = (current or '').strip().rstrip('/')
    wanted = (wanted or '').strip().rstrip('/')
    if current == wanted:
        return True
    if endpoint_type == 'edge_agent':
        host = edge_host(wanted)
        return current in (host, host.replace('localhost', '127.0.0.1', 1))
    return False


def edge_host(url):
    """host[:port] of an Edge URL, as Portainer stores it."""
    return urlsplit(url).netloc


# ------------------------------------------------------------------ groups and tags

class Lookups:
    """Resolves group and tag names to ids, creating what is missing (not in check mode)."""

    def __init__(self, client, check_mode):
        self.client = client
        self.check_mode = check_mode
        self._tags = None
        self._groups = None
        self.created = []
        # Names of tags that check mode did not create (they stand as None in id lists).
        self.pending_tags = []

    def tags(self):
        if self._tags is None:
            self._tags = [t for t in (self.client.get('/api/tags') or []) if isinstance(t, dict)]
        return self._tags

    def groups(self):
        if self._groups is None:
            self._groups = [g for g in (self.client.get('/api/endpoint_groups') or []) if isinstance(g, dict)]
        return self._groups

    def tag_names(self, ids):
        by_id = dict((t.get('ID'), t.get('Name')) for t in self.tags())
        return sorted(by_id.get(i, 'id:%s' % i) for i in ids)

    def group_name(self, group_id):
        for group in self.groups():
            if group.get('Id') == group_id:
                return group.get('Name')
        return 'id:%s' % group_id

    def tag_ids(self, names, create):
        """Ids of the named tags. Missing ones are created when ``create`` (None stands for them in check mode)."""
        result = []
        for name in names:
            found = [t.get('ID') for t in self.tags() if t.get('Name') == name]
            if found:
                result.append(found[0])
            elif not create or self.check_mode:
                self.pending_tags.append(name)
                result.append(None)
            else:
                result.append(self._create_tag(name))
        return result

    def _create_tag(self, name):
        try:
            tag = self.client.post('/api/tags', {'Name': name})
        except PortainerAPIError as exc:
            if exc.status != 409:
                raise
            # Another task created it meanwhile.
            self._tags = None
            for tag in self.tags():
                if tag.get('Name') == name:
                    return tag.get('ID')
            raise
        self.created.append('tag %s' % name)
        self._tags = None
        return (tag or {}).get('ID')

    def group_id(self, ref, create):
        """Id of the group named or numbered ``ref``; None for a group create_group makes in check mode."""
        ref = str(ref).strip()
        if ref.isdigit():
            return int(ref)
        found = [g.get('Id') for g in self.groups() if g.get('Name') == ref]
        if len(found) > 1:
            raise PortainerError('group: %d environment groups are named %r (Portainer does not keep group names unique): '
                                 'give the numeric id of the one to use, one of %s' % (len(found), ref, ', '.join(str(i) for i in found)))
        if found:
            return found[0]
        if not create:
            raise PortainerError('group: no environment group named %r; create it first, set create_group: true, '
                                 'or give the numeric id of an existing group' % ref)
        if self.check_mode:
            return None
        group = self.client.post('/api/endpoint_groups', {'Name': ref}) or {}
        self.created.append('group %s' % ref)
        self._groups = None
        # Portainer does not keep group names unique: when another task created the same group at the
        # same time, keep the oldest and drop ours (it holds nothing yet).
        same = sorted(g.get('Id') for g in self.groups() if g.get('Name') == ref)
        if len(same) > 1 and group.get('Id') is not None and same[0] != group.get('Id'):
            self.client.delete('/api/endpoint_groups/%d' % group['Id'], missing_ok=True)
            self._groups = None
            return same[0]
        return group.get('Id')

    def check_group_id(self, group_id):
        """Fail clearly when a numeric group does not exist (Portainer would save the environment, then fail)."""
        if self.client.get('/api/endpoint_groups/%d' % group_id, missing_ok=True) is None:
            raise PortainerError('group: no environment group with id %d; check the id, or give a group name' % group_id)


# ------------------------------------------------------------------ lookups of environments

def find_all_by_name(client, name):
    """Every environment named exactly ``name`` (normally one or none), lowest id first. One request."""
    return client.find_endpoints(name)


# ------------------------------------------------------------------ desired state and changes

def tls_wanted(params):
    """(tls, skip_verify, skip_client) as the user asked; None for what the user left unset."""
    skip_verify = params.get('tls_skip_verify')
    if skip_verify is None and params.get('tls_ca_cert') is not None:
        skip_verify = False
    skip_client = params.get('tls_skip_client_verify')
    if skip_client is None and params.get('tls_client_cert') is not None:
        skip_client = False
    return params.get('tls'), skip_verify, skip_client


def create_fields(params, group_id, tag_ids, files):
    """The multipart form of POST /api/endpoints as a list of (field, (filename, content[, type])) for requests.

    Form booleans are sent only when true, as the exact string ``true``.
    """
    endpoint_type = params.get('type') or 'docker'
    fields = [('Name', (None, params['name'])),
              ('EndpointCreationType', (None, str(CREATION_TYPES[endpoint_type])))]
    if params.get('url') is not None:
        fields.append(('URL', (None, params['url'])))
    if params.get('public_url') is not None:
        fields.append(('PublicURL', (None, params['public_url'])))
    if group_id is not None:
        fields.append(('GroupID', (None, str(group_id))))
    if tag_ids:
        fields.append(('TagIds', (None, json.dumps(tag_ids))))
    if params.get('edge_checkin_interval') is not None:
        fields.append(('EdgeCheckinInterval', (None, str(params['edge_checkin_interval']))))
    use_tls, skip_verify, skip_client = tls_wanted(params)
    if endpoint_type == 'agent' and use_tls is None:
        # The agent always serves TLS with its own certificate: what Portainer's UI sends.
        use_tls = True
    if use_tls:
        if skip_verify is None:
            skip_verify = 'ca' not in files
        if skip_client is None:
            skip_client = 'cert' not in files
        fields.append(('TLS', (None, 'true')))
        if skip_verify:
            fields.append(('TLSSkipVerify', (None, 'true')))
        if skip_client:
            fields.append(('TLSSkipClientVerify', (None, 'true')))
        for _option, kind, field, filename in TLS_FILE_OPTIONS:
            if kind in files and not (kind == 'ca' and skip_verify) and not (kind != 'ca' and skip_client):
                fields.append((field, (filename, files[kind], 'application/x-pem-file')))
    return fields


def check_create(params, files):
    """Problems of a creation that the options show once the environment is known to be missing (before any write)."""
    use_tls, skip_verify, skip_client = tls_wanted(params)
    if use_tls:
        if skip_verify is False and 'ca' not in files:
            raise ValidationError('tls_skip_verify is false: give tls_ca_cert, the CA that signed the Docker engine\'s certificate')
        if skip_client is False and 'cert' not in files:
            raise ValidationError('tls_skip_client_verify is false: give tls_client_cert and tls_client_key')


def plan_update(endpoint, params, group_id, tag_ids, files):
    """Compare an environment with the options the user set.

    Returns ``(changes, payload, uploads)``: ``changes`` maps each differing field to (before, after) in the
    module's terms, ``payload`` is the JSON body of PUT /api/endpoints/{id} (empty when nothing changes), and
    ``uploads`` lists the TLS files ('ca', 'cert', 'key') to send to POST /api/upload/tls/{kind} before the PUT.
    ``group_id`` and entries of ``tag_ids`` may be None for a group or tag that check mode did not create.
    """
    current = current_state(endpoint)
    endpoint_type = params.get('type') or current['type']
    changes = {}
    payload = {}
    uploads = []
    if params.get('type') is not None and params['type'] != current['type']:
        raise PortainerError(
            'type: the environment %r is of type %s and Portainer cannot change the type of an environment: '
            'set type: %s, or delete the environment (state: absent) and create it again'
            % (params['name'], current['type'], current['type']))
    url = params.get('url')
    if url is not None and not url_matches(current['url'], url, endpoint_type):
        changes['url'] = (current['url'], url)
        payload['URL'] = edge_host(url) if endpoint_type == 'edge_agent' else url
    if params.get('public_url') is not None and params['public_url'] != current['public_url']:
        changes['public_url'] = (current['public_url'], params['public_url'])
        payload['PublicURL'] = params['public_url']
    if params.get('group') is not None and group_id != current['group_id']:
        changes['group'] = (current['group_id'], group_id)
        payload['GroupID'] = group_id
    if params.get('tags') is not None:
        wanted = sorted(set(tag_ids), key=lambda i: (i is None, i or 0))
        if None in wanted or wanted != current['tag_ids']:
            changes['tags'] = (current['tag_ids'], wanted)
            payload['TagIDs'] = wanted
    interval = params.get('edge_checkin_interval')
    if interval is not None and interval != current['edge_checkin_interval']:
        changes['edge_checkin_interval'] = (current['edge_checkin_interval'], interval)
        payload['EdgeCheckinInterval'] = interval

    use_tls, want_skip_verify, want_skip_client = tls_wanted(params)
    if use_tls is False and current['tls']:
        changes['tls'] = (True, False)
        payload['TLS'] = False
    elif use_tls:
        if current['tls']:
            skip_verify = current['tls_skip_verify'] if want_skip_verify is None else want_skip_verify
            skip_client = current['tls_skip_client_verify'] if want_skip_client is None else want_skip_client
        else:
            # Portainer keeps no TLS file of an environment without TLS: what is not given is skipped.
            skip_verify = ('ca' not in files) if want_skip_verify is None else want_skip_verify
            skip_client = ('cert' not in files) if want_skip_client is None else want_skip_client
            changes['tls'] = (False, True)
        if skip_verify != current['tls_skip_verify']:
            changes['tls_skip_verify'] = (current['tls_skip_verify'], skip_verify)
        if skip_client != current['tls_skip_client_verify']:
            changes['tls_skip_client_verify'] = (current['tls_skip_client_verify'], skip_client)
        if not skip_verify and not (current['tls'] and current['ca_stored']):
            uploads.append('ca')
        if not skip_client and not (current['tls'] and current['cert_stored']):
            uploads.extend(['cert', 'key'])
        if params.get('tls_replace_files'):
            for kind in ('ca', 'cert', 'key'):
                in_use = not skip_verify if kind == 'ca' else not skip_client
                if kind in files and in_use and kind not in uploads:
                    uploads.append(kind)
        missing = [kind for kind in uploads if kind not in files]
        if missing:
            need = 'tls_ca_cert' if 'ca' in missing else 'tls_client_cert and tls_client_key'
            raise PortainerError('%s: Portainer holds no %s for the environment %r and these TLS settings need one: give %s'
                                 % (need, 'CA certificate' if 'ca' in missing else 'client certificate and key', params['name'], need))
        for option, kind, _field, _name in TLS_FILE_OPTIONS:
            if kind in uploads:
                stored = current['tls'] and current['ca_stored' if kind == 'ca' else 'cert_stored']
                changes[option] = ('stored' if stored else None, 'upload %s' % params[option])
        if uploads or set(changes) & {'tls', 'tls_skip_verify', 'tls_skip_client_verify'}:
            payload['TLS'] = True
            payload['TLSSkipVerify'] = skip_verify
            payload['TLSSkipClientVerify'] = skip_client
    return changes, payload, uploads


def predict(endpoint, payload):
    """What Portainer will answer after the PUT (for check mode)."""
    result = copy.deepcopy(endpoint)
    for key, target in (('URL', 'URL'), ('PublicURL', 'PublicURL'), ('GroupID', 'GroupId'), ('TagIDs', 'TagIds'),
                        ('EdgeCheckinInterval', 'EdgeCheckinInterval')):
        if key in payload:
            result[target] = payload[key]
    if 'TLS' in payload:
        tls = dict(result.get('TLSConfig') or {})
        if not payload['TLS']:
            tls = {'TLS': False, 'TLSSkipVerify': False}
        else:
            tls['TLS'] = True
            tls['TLSSkipVerify'] = bool(payload.get('TLSSkipVerify'))
            folder = '/data/tls/%s' % endpoint.get('Id')
            if payload.get('TLSSkipVerify'):
                tls.pop('TLSCACert', None)
            else:
                tls.setdefault('TLSCACert', folder + '/ca.pem')
            if payload.get('TLSSkipClientVerify'):
                tls.pop('TLSCert', None)
                tls.pop('TLSKey', None)
            else:
                tls.setdefault('TLSCert', folder + '/cert.pem')
                tls.setdefault('TLSKey', folder + '/key.pem')
        result['TLSConfig'] = tls
    return result


def predict_created(params, fields, group_id, tag_ids):
    """The environment check mode expects POST /api/endpoints to create."""
    form = dict((name, value[1]) for name, value in fields if value[0] is None)
    endpoint_type = params.get('type') or 'docker'
    url = params.get('url')
    if url is None and endpoint_type == 'docker':
        url = 'unix:///var/run/docker.sock'
    if endpoint_type == 'edge_agent' and url:
        url = edge_host(url)
    tls = {'TLS': form.get('TLS') == 'true', 'TLSSkipVerify': form.get('TLSSkipVerify') == 'true'}
    names = [name for name, value in fields if value[0] is not None]
    for field, key, filename in (('TLSCACertFile', 'TLSCACert', 'ca.pem'), ('TLSCertFile', 'TLSCert', 'cert.pem'),
                                 ('TLSKeyFile', 'TLSKey', 'key.pem')):
        if field in names:
            tls[key] = '/data/tls/<new>/' + filename
    return {
        'Id': None, 'Name': params['name'], 'Type': CREATION_TYPES[endpoint_type], 'URL': url or '',
        'PublicURL': params.get('public_url') or '', 'GroupId': group_id if group_id is not None else (1 if params.get('group') is None else None),
        'TagIds': list(tag_ids or []), 'TLSConfig': tls, 'Status': 1,
        'EdgeCheckinInterval': params.get('edge_checkin_interval') or 0,
    }


MANAGED = ('type', 'url', 'public_url', 'group', 'tags', 'edge_checkin_interval', 'tls', 'tls_skip_verify',
           'tls_skip_client_verify', 'tls_ca_cert', 'tls_client_cert', 'tls_client_key')


def diff_states(endpoint, params, changes, show_group, show_tags):
    """(before, after) of the managed fields: those the user set, and any other that changes.

    ``show_group`` and ``show_tags`` turn ids into what the user wrote (names, or ids).
    """
    current = current_state(endpoint)
    values = dict(current)
    values['group'] = current['group_id']
    values['tags'] = current['tag_ids']
    for option, kind, _field, _name in TLS_FILE_OPTIONS:
        values[option] = 'stored' if current['tls'] and current['ca_stored' if kind == 'ca' else 'cert_stored'] else None
    before, after = {'state': 'present'}, {'state': 'present'}
    for key in MANAGED:
        if params.get(key) is None and key not in changes:
            continue
        old = values.get(key)
        new = changes[key][1] if key in changes else old
        if key == 'group':
            old, new = show_group(old), show_group(new)
        elif key == 'tags':
            old, new = show_tags(old), show_tags(new)
        before[key] = old
        after[key] = new
    return before, after


def wait_for_name(client, name, timeout=CONFLICT_WAIT, step=CONFLICT_STEP):
    """After a 409 on create: wait until the environment another task creates becomes visible."""
    deadline = time.monotonic() + timeout
    while True:
        found = find_all_by_name(client, name)
        if found:
            return found[0]
        if time.monotonic() >= deadline:
            raise PortainerError(
                'POST /api/endpoints returned HTTP 409 (the name %r is taken) but no environment of that name became visible '
                'within %ss; another task may still be creating it: run the task again' % (name, int(timeout)))
        time.sleep(step)


# ------------------------------------------------------------------ reading (portainer_endpoint_info)

def list_params(name=None, endpoint_type=None, group_ids=None, tag_ids=None):
    """Query parameters of GET /api/endpoints for Portainer's own filters (array filters as ``key[]``, 2.15+)."""
    params = [('excludeSnapshots', 'true')]
    if name is not None:
        params.append(('name', name))
    if endpoint_type is not None:
        params.extend(('types[]', str(t)) for t in TYPE_IDS[endpoint_type])
    for group_id in group_ids or []:
        params.append(('groupIds[]', str(group_id)))
    for tag_id in tag_ids or []:
        params.append(('tagIds[]', str(tag_id)))
    return params


def matches(endpoint, name=None, endpoint_type=None, group_ids=None, tag_ids=None, group_tags=None):
    """The same filters applied here, for Portainer versions that ignore some of them."""
    if name is not None and endpoint.get('Name') != name:
        return False
    if endpoint_type is not None and endpoint.get('Type') not in TYPE_IDS[endpoint_type]:
        return False
    if group_ids is not None and endpoint.get('GroupId') not in group_ids:
        return False
    if tag_ids:
        have = set(endpoint.get('TagIds') or []) | set((group_tags or {}).get(endpoint.get('GroupId'), []))
        if not set(tag_ids) <= have:
            return False
    return True


def swarm_facts(info):
    """Swarm facts from Docker's GET /info: whether the engine is a manager, and the swarm's id."""
    swarm = (info or {}).get('Swarm') or {}
    state = swarm.get('LocalNodeState') or 'inactive'
    manager = state == 'active' and bool(swarm.get('ControlAvailable'))
    cluster = swarm.get('Cluster') or {}
    return {
        'state': state,
        'manager': manager,
        'id': cluster.get('ID') if manager else None,
        'node_id': swarm.get('NodeID') or None,
    }
