# -*- coding: utf-8 -*-
# Copyright (c) pier.portainer contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to the pier.portainer collection. It may change without notice
# and must not be used by other collections.

"""Stacks: names, sources, content comparison, env, payloads, git remote checks, waiting and diffs.

Used by the portainer_stack and portainer_stack_info modules. The functions that build payloads and
compare state are pure, so the unit tests cover them without HTTP.
"""

from __future__ import annotations

import copy
import json
import re
import time
import traceback

from ansible_collections.pier.portainer.plugins.module_utils._api import REDACTED, PortainerError

YAML_IMPORT_ERROR = None
try:
    import yaml
except ImportError:  # pragma: no cover - ansible-core depends on PyYAML
    yaml = None
    YAML_IMPORT_ERROR = traceback.format_exc()

HAS_YAML = YAML_IMPORT_ERROR is None

try:
    import requests
except ImportError:  # pragma: no cover - the client already requires requests
    requests = None

SWARM = 1
STANDALONE = 2
KUBERNETES = 3
TYPE_NAMES = {SWARM: 'swarm', STANDALONE: 'standalone', KUBERNETES: 'kubernetes'}
TYPE_IDS = {'swarm': SWARM, 'standalone': STANDALONE}
ACTIVE = 1
INACTIVE = 2
STATUS_NAMES = {ACTIVE: 'active', INACTIVE: 'inactive'}

SECRET_NAME_RE = re.compile(r'(pass|secret|token|credential|private|api_?key|access_?key|auth)', re.IGNORECASE)
GO_DURATION_RE = re.compile(r'^([0-9]+(\.[0-9]+)?(ns|us|\u00b5s|ms|s|m|h))+$')
UUID_RE = re.compile(r'^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')
CHANGED_MARK = REDACTED + ' (changed)'
KUBERNETES_ENDPOINT_TYPES = (5, 6, 7)
MAX_NAME_LENGTH = 63


class StackInputError(PortainerError):
    """The task's options are wrong; raised before any request is sent."""


# ---------------------------------------------------------------- names


def normalize_name(name):
    """What Portainer 2.5+ stores for a stack name: lower-cased, characters outside [-_a-z0-9] removed."""
    return re.sub(r'[^-_a-z0-9]', '', str(name or '').lower())


def check_name(name):
    """Fail unless Portainer would store ``name`` exactly as given (so the identity never drifts)."""
    if name is None or not str(name).strip():
        raise StackInputError('name is empty: give the stack a name made of lower-case letters, digits, "-" and "_"')
    normalized = normalize_name(name)
    if normalized == name and len(name) > MAX_NAME_LENGTH:
        raise StackInputError('name %s... is %d characters long: keep it to %d at most (Docker names the services of a stack '
                              '<name>_<service>, and a service name has at most 63 characters)' % (name[:20], len(name), MAX_NAME_LENGTH))
    if normalized != name:
        if not normalized:
            raise StackInputError(
                'name %r would become an empty name in Portainer, which lower-cases stack names and removes every character '
                'outside [-_a-z0-9]: use only lower-case letters, digits, "-" and "_"' % name)
        raise StackInputError(
            'name %r would be stored by Portainer as %r (it lower-cases stack names and removes every character outside '
            '[-_a-z0-9]): set name: %s so the stack keeps the name you manage it by' % (name, normalized, normalized))
    return name


# ---------------------------------------------------------------- sources


def source_of(params):
    """Which source the task sets: 'definition', 'compose_file', 'repository' or None. Fails on more than one."""
    found = []
    if params.get('definition') is not None:
        found.append('definition')
    if params.get('compose_file') is not None:
        found.append('compose_file')
    if params.get('repository_url') is not None:
        found.append('repository_url')
    if len(found) > 1:
        raise StackInputError('%s are mutually exclusive: a stack has exactly one source, set only one of definition, '
                              'compose_file or repository_url' % ' and '.join(found))
    git_only = [key for key in ('repository_ref', 'compose_path', 'additional_files', 'repository_username',
                                'repository_password', 'repository_tls_skip_verify', 'auto_update')
                if params.get(key) is not None]
    if git_only and 'repository_url' not in found:
        raise StackInputError('%s: only for a stack from git; set repository_url too, or remove %s'
                              % (', '.join(git_only), 'them' if len(git_only) > 1 else 'it'))
    if not found:
        return None
    return 'repository' if found[0] == 'repository_url' else found[0]


if HAS_YAML:
    class _UniqueKeyLoader(yaml.SafeLoader):  # pylint: disable=too-many-ancestors
        """SafeLoader that refuses a mapping with the same key twice (PyYAML would keep the last silently)."""

        def construct_mapping(self, node, deep=False):
            seen = set()
            for key_node, dummy in node.value:
                key = self.construct_object(key_node, deep=True)
                try:
                    duplicate = key in seen
                except TypeError:
                    continue
                if duplicate:
                    raise yaml.constructor.ConstructorError(None, None, 'the key %r appears twice' % (key,), key_node.start_mark)
                seen.add(key)
            return super().construct_mapping(node, deep=deep)
else:  # pragma: no cover
    _UniqueKeyLoader = None


def check_compose(data, option):
    """Fail unless ``data`` looks like a compose document: a mapping whose services are mappings."""
    if not isinstance(data, dict):
        raise StackInputError('%s must be a compose document (a YAML mapping with services:), got %s'
                              % (option, 'nothing' if data is None else type(data).__name__))
    try:
        json.dumps(data, default=str)
    except (ValueError, RecursionError):
        raise StackInputError('%s refers to itself (a recursive YAML alias)' % option) from None
    services = data.get('services')
    if not isinstance(services, dict) or not services:
        raise StackInputError('%s must have a services: mapping with at least one service' % option)
    for name, service in services.items():
        if not isinstance(service, dict):
            raise StackInputError('%s: the service %s must be a mapping (image:, ports:, ...), got %s'
                                  % (option, name, 'nothing' if service is None else type(service).__name__))
    return data


def parse_yaml_text(text, option):
    """Parse a compose document; fails naming the option unless it is a compose mapping."""
    if not HAS_YAML:
        raise StackInputError('The Python library PyYAML is required to read %s' % option)
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # nosec - a SafeLoader
    except yaml.YAMLError as exc:
        raise StackInputError('%s is not valid YAML: %s' % (option, str(exc).replace('\n', ' '))) from None
    except RecursionError:
        raise StackInputError('%s refers to itself (a recursive YAML alias)' % option) from None
    return check_compose(data, option)


def plain(data):
    """A deep copy made only of dict, list, str, int, float, bool and None (Ansible's text types become str)."""
    if isinstance(data, dict):
        return dict((str(k), plain(v)) for k, v in data.items())
    if isinstance(data, (list, tuple)):
        return [plain(v) for v in data]
    if isinstance(data, bool) or data is None or isinstance(data, (int, float)):
        return data
    return str(data)


def dump_yaml(data):
    """Render a mapping definition as the compose file text sent to Portainer."""
    if not HAS_YAML:
        raise StackInputError('The Python library PyYAML is required to render definition')
    return yaml.safe_dump(plain(data), default_flow_style=False, sort_keys=False, allow_unicode=True)


def normalize_text(text):
    """Compose text compared without line-ending, trailing-whitespace and final blank-line differences."""
    text = str(text or '').replace('\r\n', '\n').replace('\r', '\n')
    lines = [line.rstrip() for line in text.split('\n')]
    while lines and not lines[-1]:
        lines.pop()
    return '\n'.join(lines) + ('\n' if lines else '')


class Content:
    """The desired compose content: the text to send, and how to compare it with the stored file."""

    def __init__(self, text, mapping=None, option='definition'):
        self.text = text
        self.mapping = mapping
        self.option = option

    def matches(self, stored):
        """True when the stored file already says what is wanted."""
        if stored is None:
            return False
        if self.mapping is not None:
            try:
                current = yaml.safe_load(stored)
            except yaml.YAMLError:
                return False
            return plain(current) == plain(self.mapping)
        return normalize_text(stored) == normalize_text(self.text)


def desired_content(params, read_file=None):
    """The Content of a definition or compose_file source (None for git). Validates the YAML."""
    definition = params.get('definition')
    if definition is not None:
        if isinstance(definition, dict):
            if not definition:
                raise StackInputError('definition is an empty mapping: give the compose document (with services:)')
            mapping = plain(check_compose(definition, 'definition'))
            return Content(dump_yaml(mapping), mapping=mapping)
        if not isinstance(definition, str):
            raise StackInputError('definition must be a YAML string or a mapping, got %s' % type(definition).__name__)
        if not definition.strip():
            raise StackInputError('definition is empty: give the compose document (with services:)')
        parse_yaml_text(definition, 'definition')
        return Content(definition)
    path = params.get('compose_file')
    if path is not None:
        reader = read_file or _read_text
        try:
            text = reader(path)
        except (OSError, UnicodeDecodeError) as exc:
            raise StackInputError('compose_file %s cannot be read on the host that runs the module: %s' % (path, exc)) from None
        if not text.strip():
            raise StackInputError('compose_file %s is empty' % path)
        parse_yaml_text(text, 'compose_file %s' % path)
        return Content(text, option='compose_file')
    return None


def _read_text(path):
    with open(path, 'r', encoding='utf-8') as handle:
        return handle.read()


# ---------------------------------------------------------------- git settings


def normalize_ref(ref):
    """A full reference name: a bare name is a branch (``main`` -> ``refs/heads/main``); empty stays empty."""
    if ref is None:
        return None
    ref = str(ref).strip()
    if not ref or ref.startswith('refs/'):
        return ref
    return 'refs/heads/' + ref


REF_FORBIDDEN_RE = re.compile(r'[\x00-\x20\x7f~^:?*\[\\]|\.\.|//|@\{|/\.|\.lock(/|$)')


def check_ref(ref):
    """Fail on a reference git would refuse (git check-ref-format rules); empty means the default branch."""
    if ref is None or ref == '':
        return ref
    if not ref.strip():
        raise StackInputError('repository_ref is blank: give a branch (main), a full reference (refs/heads/main, refs/tags/v1), '
                              'or leave it out for the default branch')
    if REF_FORBIDDEN_RE.search(ref) or ref.startswith(('/', '.', '-')) or ref.endswith(('/', '.')):
        raise StackInputError('repository_ref %r is not a valid git reference: give a branch (main) or a full reference '
                              '(refs/heads/main, refs/tags/v1)' % ref)
    return ref


def check_repo_path(path, option):
    """A path inside the repository: relative, without .. and not empty."""
    text = str(path)
    parts = text.replace('\\', '/').split('/')
    if not text.strip() or text.startswith('/') or '..' in parts or any(c in text for c in '\x00\r\n'):
        raise StackInputError('%s %r must be a relative path inside the repository, without "..", for example '
                              'deploy/docker-compose.yml' % (option, text))
    return text


def check_repository_url(url):
    """An http(s) URL with a host: the repositories Portainer clones."""
    match = re.match(r'^(https?)://(?:[^/@\s]*@)?([^/:@\s?#]+)(:\d+)?(/[^\s]*)?$', str(url or ''))
    if not match:
        raise StackInputError('repository_url %r is not an http(s) URL of a git repository, for example '
                              'https://git.example.com/ops/stacks.git' % _strip_userinfo(str(url or '')))
    return url


def check_auto_update(auto):
    """Validate auto_update and return Portainer's AutoUpdate object, or None to turn auto-update off."""
    if auto is None:
        return None
    interval = auto.get('interval') or ''
    webhook = auto.get('webhook') or ''
    if interval and not GO_DURATION_RE.match(interval):
        raise StackInputError('auto_update.interval %r is not a duration such as 5m, 1h or 1h30m' % interval)
    if webhook and not UUID_RE.match(webhook):
        raise StackInputError('auto_update.webhook %r must be a UUID, for example one made with the to_uuid filter' % webhook)
    if not interval and not webhook:
        if auto.get('force_update') or auto.get('force_pull_image'):
            raise StackInputError('auto_update needs interval or webhook; without both, auto-update is turned off')
        return None
    return {'Interval': interval, 'Webhook': webhook, 'ForceUpdate': bool(auto.get('force_update')),
            'ForcePullImage': bool(auto.get('force_pull_image'))}


def current_auto_update(stack):
    auto = stack.get('AutoUpdate') or None
    if not auto or not (auto.get('Interval') or auto.get('Webhook')):
        return None
    return {'Interval': auto.get('Interval') or '', 'Webhook': auto.get('Webhook') or '',
            'ForceUpdate': bool(auto.get('ForceUpdate')), 'ForcePullImage': bool(auto.get('ForcePullImage'))}


# ---------------------------------------------------------------- env


def env_value(value):
    """Env values are strings in Portainer; booleans become true/false."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if value is None:
        return ''
    return str(value)


def check_env(env):
    """Validate the env option and return it as {name: str}."""
    if env is None:
        return None
    result = {}
    for name, value in env.items():
        name = str(name)
        if not name or '=' in name:
            raise StackInputError('env: %r is not a variable name' % name)
        if isinstance(value, (dict, list)):
            raise StackInputError('env: the value of %s must be a string, number or boolean, not a %s' % (name, type(value).__name__))
        result[name] = env_value(value)
    return result


def env_to_dict(pairs):
    """Portainer's [{name, value}] as an ordered dict; later entries win, as in the env file."""
    result = {}
    for pair in pairs or []:
        if isinstance(pair, dict):
            name = pair.get('name', pair.get('Name'))
            if name is not None:
                result[str(name)] = env_value(pair.get('value', pair.get('Value', '')))
    return result


def env_to_pairs(env):
    return [{'name': name, 'value': value} for name, value in sorted(env.items())]


def desired_env(current, wanted, mode):
    """The stack's variables after the task: ``wanted`` exactly (replace), or ``current`` updated by it (merge)."""
    if wanted is None:
        return dict(current)
    if mode == 'merge':
        result = dict(current)
        result.update(wanted)
        return result
    return dict(wanted)


def env_differs(current, desired):
    """Compared as sets of (name, value): order and duplicates do not matter."""
    return set(current.items()) != set(desired.items())


def is_secret_name(name, secret_names=()):
    return name in (secret_names or ()) or bool(SECRET_NAME_RE.search(name))


def masked_env(before, after, secret_names=()):
    """Before/after env for a diff, secret values replaced (a changed secret shows as changed, not its value)."""
    masked_before = {}
    masked_after = {}
    for name, value in before.items():
        masked_before[name] = REDACTED if is_secret_name(name, secret_names) else value
    for name, value in after.items():
        if is_secret_name(name, secret_names):
            masked_after[name] = REDACTED if before.get(name) == value else CHANGED_MARK
        else:
            masked_after[name] = value
    return masked_before, masked_after


# ---------------------------------------------------------------- payloads


def create_route(client_new_routes, stack_type, method, endpoint_id):
    """(path, params) of the create request: the 2.19+ route, or the legacy one for older Portainer."""
    if client_new_routes:
        return '/api/stacks/create/%s/%s' % (TYPE_NAMES[stack_type], method), {'endpointId': endpoint_id}
    return '/api/stacks', {'type': stack_type, 'method': method, 'endpointId': endpoint_id}


def create_payload(name, stack_type, method, swarm_id, env, content=None, git=None, legacy_compose_key=False):
    """The JSON body (string, repository) or the form fields (file) of a stack creation."""
    body = {'Name': name}
    if stack_type == SWARM:
        body['SwarmID'] = swarm_id
    if method == 'file':
        if env:
            body['Env'] = json.dumps(env_to_pairs(env))
        return body
    body['Env'] = env_to_pairs(env or {})
    if method == 'string':
        body['StackFileContent'] = content
        return body
    body.update(git_auth_fields(git))
    body['RepositoryURL'] = git['url']
    body['RepositoryReferenceName'] = git.get('ref') or ''
    body['ComposeFile'] = git['compose_path']
    if legacy_compose_key:
        body['ComposeFilePathInRepository'] = git['compose_path']
    body['AdditionalFiles'] = list(git.get('additional_files') or [])
    body['TLSSkipVerify'] = bool(git.get('tls_skip_verify'))
    if git.get('auto_update'):
        body['AutoUpdate'] = dict(git['auto_update'])
    return body


def git_auth_fields(git):
    if git.get('username') or git.get('password'):
        return {'RepositoryAuthentication': True, 'RepositoryUsername': git.get('username') or '',
                'RepositoryPassword': git.get('password') or ''}
    return {'RepositoryAuthentication': False, 'RepositoryUsername': '', 'RepositoryPassword': ''}


def update_payload(content, env, prune, pull, stack_type):
    """Body of PUT /api/stacks/{id} (file stacks only: on a git stack it would detach it from git)."""
    body = {'StackFileContent': content, 'Env': env_to_pairs(env), 'PullImage': bool(pull)}
    if stack_type == SWARM:
        body['Prune'] = bool(prune)
    return body


def git_settings_payload(ref, env, prune, auto_update, tls_skip_verify, git, stack_type):
    """Body of POST /api/stacks/{id}/git: every field is written, so send the whole desired state."""
    body = {'RepositoryReferenceName': ref or '', 'Env': env_to_pairs(env), 'TLSSkipVerify': bool(tls_skip_verify),
            'AutoUpdate': dict(auto_update) if auto_update else None}
    body.update(git_auth_fields(git))
    if stack_type == SWARM:
        body['Prune'] = bool(prune)
    return body


def git_redeploy_payload(ref, env, prune, pull, git, stack_type):
    """Body of PUT /api/stacks/{id}/git/redeploy; the reference is always sent (empty means the default branch)."""
    body = {'RepositoryReferenceName': ref or '', 'Env': env_to_pairs(env), 'PullImage': bool(pull)}
    body.update(git_auth_fields(git))
    if stack_type == SWARM:
        body['Prune'] = bool(prune)
    return body


# ---------------------------------------------------------------- views


def public_stack(stack):
    """The stack as the modules return it: no credentials, no env values, no resource control."""
    if not stack:
        return {}
    view = {}
    for key in ('Id', 'Name', 'Type', 'EndpointId', 'SwarmId', 'Status', 'EntryPoint', 'AdditionalFiles', 'AutoUpdate',
                'Option', 'CreationDate', 'CreatedBy', 'UpdateDate', 'UpdatedBy', 'ProjectPath'):
        if key in stack:
            view[key] = copy.deepcopy(stack[key])
    git = stack.get('GitConfig')
    if git:
        view['GitConfig'] = dict((k, v) for k, v in git.items() if k != 'Authentication')
        view['GitConfig']['Authenticated'] = bool(git.get('Authentication'))
    else:
        view['GitConfig'] = None
    view['type_name'] = TYPE_NAMES.get(stack.get('Type'), str(stack.get('Type')))
    view['status_name'] = STATUS_NAMES.get(stack.get('Status'), str(stack.get('Status')))
    view['env_names'] = sorted(env_to_dict(stack.get('Env')).keys())
    return view


def info_view(stack):
    """A stack for portainer_stack_info: Portainer's keys without credentials, secret-looking env values masked."""
    view = dict((k, copy.deepcopy(v)) for k, v in stack.items() if k != 'ResourceControl')
    git = view.get('GitConfig')
    if git:
        authenticated = bool(git.get('Authentication'))
        git.pop('Authentication', None)
        git['Authenticated'] = authenticated
    env = []
    for pair in view.get('Env') or []:
        if isinstance(pair, dict):
            name = str(pair.get('name', ''))
            env.append({'name': name, 'value': REDACTED if is_secret_name(name) else pair.get('value')})
    view['Env'] = env
    view['type_name'] = TYPE_NAMES.get(stack.get('Type'), str(stack.get('Type')))
    view['status_name'] = STATUS_NAMES.get(stack.get('Status'), str(stack.get('Status')))
    return view


# ---------------------------------------------------------------- Portainer reads


def swarm_id_of(client, endpoint_id):
    """The swarm cluster id of an environment's engine, or None when it is not a swarm manager.

    Read from ``GET /info`` (``Swarm.Cluster.ID``, present only on managers): ``GET /swarm`` answers 503 on
    other engines, which the client would retry as a transient failure.
    """
    data = client.docker_json(endpoint_id, 'GET', '/info') or {}
    swarm = data.get('Swarm') if isinstance(data, dict) else None
    if not isinstance(swarm, dict) or swarm.get('LocalNodeState') != 'active' or not swarm.get('ControlAvailable'):
        return None
    cluster = swarm.get('Cluster') or {}
    return str(cluster['ID']) if cluster.get('ID') else None


def environment_swarm(client, ref):
    """``(environment id, swarm id or None, is Kubernetes)`` of the environment named or numbered ``ref``.

    The id costs no request when ``ref`` is a number or cached, the swarm id one. The environment itself is read
    only when its engine does not answer: a Kubernetes environment has no Docker API to ask.
    """
    endpoint_id = client.endpoint_id(ref)
    try:
        return endpoint_id, swarm_id_of(client, endpoint_id), False
    except PortainerError:
        endpoint = client.find_endpoint(endpoint_id)
        if endpoint and endpoint.get('Type') in KUBERNETES_ENDPOINT_TYPES:
            return endpoint_id, None, True
        raise


def list_stacks(client, endpoint_id=None, swarm_id=None):
    """Stacks of one environment (swarm ones only when its swarm id is given, as Portainer filters), or all."""
    params = None
    if endpoint_id is not None:
        filters = {'EndpointID': int(endpoint_id)}
        if swarm_id:
            filters['SwarmID'] = swarm_id
        params = {'filters': json.dumps(filters, separators=(',', ':'))}
    stacks = client.get('/api/stacks', params=params) or []
    if endpoint_id is not None:
        stacks = [s for s in stacks if isinstance(s, dict) and s.get('EndpointId') == int(endpoint_id)]
    return [s for s in stacks if isinstance(s, dict)]


def find_stack(stacks, name):
    for stack in stacks:
        if str(stack.get('Name', '')).lower() == name.lower():
            return stack
    return None


def stack_file(client, stack_id):
    data = client.get('/api/stacks/%d/file' % int(stack_id)) or {}
    return data.get('StackFileContent') if isinstance(data, dict) else None


# ---------------------------------------------------------------- git remote (controller side)


def _pkt_lines(data):
    """Split git's pkt-line stream into payloads (flush packets are skipped)."""
    lines = []
    pos = 0
    while pos + 4 <= len(data):
        try:
            size = int(data[pos:pos + 4], 16)
        except ValueError:
            break
        if size == 0:
            pos += 4
            continue
        lines.append(data[pos + 4:pos + size])
        pos += size
    return lines


def parse_advertisement(data):
    """Refs from an info/refs answer, smart (pkt-line) or dumb (text): ({ref: sha}, head_target)."""
    refs = {}
    head_target = None
    text = data.decode('utf-8', 'replace') if isinstance(data, bytes) else data
    if text.startswith('001e# service=') or re.match(r'^[0-9a-f]{4}#', text):
        for line in _pkt_lines(text):
            line = line.rstrip('\n')
            if line.startswith('#'):
                continue
            head, dummy, caps = line.partition('\0')
            match = re.search(r'symref=HEAD:(\S+)', caps)
            if match:
                head_target = match.group(1)
            sha, dummy, ref = head.partition(' ')
            if sha and ref:
                refs[ref] = sha
        return refs, head_target
    for line in text.splitlines():
        sha, dummy, ref = line.strip().partition('\t')
        if sha and ref:
            refs[ref] = sha
    return refs, head_target


def resolve_ref(refs, ref, head_target=None):
    """The commit a reference names (peeled for annotated tags), or None."""
    if not ref:
        if 'HEAD' in refs:
            return refs['HEAD']
        ref = head_target
        if not ref:
            return None
    candidates = [ref] if ref.startswith('refs/') else ['refs/heads/' + ref, 'refs/tags/' + ref, ref]
    for candidate in candidates:
        if candidate + '^{}' in refs:
            return refs[candidate + '^{}']
        if candidate in refs:
            return refs[candidate]
    return None


def _strip_userinfo(url):
    return re.sub(r'//[^/@]*@', '//', url)


def remote_commit(url, ref, username=None, password=None, tls_skip_verify=False, timeout=30.0, session=None):
    """The commit ``ref`` points to in the repository, read over HTTP like ``git ls-remote``.

    Runs on the host of the module. The credentials travel only in the Authorization header of the
    requests (never on a command line or in an environment); errors never contain them.
    """
    if requests is None:  # pragma: no cover
        raise PortainerError('The Python library requests is required')
    if not re.match(r'^https?://', url or ''):
        raise PortainerError('repository_url %s is not an http(s) URL, so the module cannot check its commit: set '
                             'repository_remote_check: false' % _strip_userinfo(url or ''))
    base = url.rstrip('/')
    session = session or requests.Session()
    auth = (username or '', password or '') if (username or password) else None
    headers = {'User-Agent': 'git/2.0 (pier.portainer)', 'Accept': '*/*'}
    verify = not tls_skip_verify
    shown = _strip_userinfo(base)
    try:
        response = session.get(base + '/info/refs', params={'service': 'git-upload-pack'}, auth=auth, headers=headers,
                               verify=verify, timeout=timeout)
        if response.status_code in (401, 403):
            raise PortainerError('%s refused the credentials: check repository_username and repository_password' % shown)
        if response.status_code == 404 and not base.endswith('.git'):
            response = session.get(base + '.git/info/refs', params={'service': 'git-upload-pack'}, auth=auth,
                                   headers=headers, verify=verify, timeout=timeout)
        if response.status_code != 200:
            raise PortainerError('reading the references of %s answered HTTP %s: check repository_url, or set '
                                 'repository_remote_check: false when only Portainer can reach the repository'
                                 % (shown, response.status_code))
        refs, head_target = parse_advertisement(response.content)
        if not ref and 'HEAD' not in refs and not head_target:
            head = session.get(base + '/HEAD', auth=auth, headers=headers, verify=verify, timeout=timeout)
            if head.status_code == 200 and head.text.startswith('ref:'):
                head_target = head.text[4:].strip()
    except requests.exceptions.RequestException as exc:
        text = _strip_userinfo(str(exc))
        if password:
            text = text.replace(password, REDACTED)
        raise PortainerError('cannot read the references of %s from this host (%s): check repository_url, or set '
                             'repository_remote_check: false when only Portainer can reach the repository' % (shown, text)) from None
    sha = resolve_ref(refs, ref, head_target)
    if sha is None:
        raise PortainerError('the repository %s has no reference %s: check repository_ref' % (shown, ref or 'HEAD'))
    return sha


# ---------------------------------------------------------------- waiting through the Docker proxy


def _label_filter(label, value):
    return {'filters': json.dumps({'label': ['%s=%s' % (label, value)]})}


def _task_problem(task):
    status = task.get('Status') or {}
    words = [status.get('State') or '?']
    if status.get('Err'):
        words.append(status['Err'])
    elif status.get('Message'):
        words.append(status['Message'])
    return ': '.join(words)


def swarm_progress(services, tasks):
    """(done, failed, report) for a swarm stack's services and their tasks."""
    if not services:
        return False, False, 'no service with the label com.docker.stack.namespace yet'
    pending = []
    failed = []
    for service in services:
        spec = service.get('Spec') or {}
        name = spec.get('Name') or service.get('ID')
        mode = spec.get('Mode') or {}
        container_spec = (spec.get('TaskTemplate') or {}).get('ContainerSpec') or None
        # Only the tasks of the service's current spec count: older ones (a previous, broken deploy) do not.
        mine = [t for t in tasks if t.get('ServiceID') == service.get('ID')
                and (container_spec is None or ((t.get('Spec') or {}).get('ContainerSpec') or container_spec) == container_spec)]
        mine.sort(key=lambda t: (t.get('CreatedAt') or '', (t.get('Version') or {}).get('Index', 0)), reverse=True)
        running = [t for t in mine if t.get('DesiredState') == 'running' and (t.get('Status') or {}).get('State') == 'running']
        if 'Replicated' in mode:
            wanted = int((mode.get('Replicated') or {}).get('Replicas') or 0)
        elif 'Global' in mode:
            wanted = max(1, len(set(t.get('NodeID') for t in mine if t.get('DesiredState') == 'running')))
        else:
            wanted = 1
        update = (service.get('UpdateStatus') or {}).get('State')
        bad = [t for t in mine if (t.get('Status') or {}).get('State') in ('failed', 'rejected')]
        if update in ('paused', 'rollback_completed', 'rollback_paused'):
            failed.append('service %s: update %s (%s)' % (name, update, (service.get('UpdateStatus') or {}).get('Message', '')))
        elif len(running) >= wanted and update not in ('updating', 'rollback_started'):
            continue
        elif len(bad) >= 3 and len(running) < wanted:
            failed.append('service %s: %d of %d tasks running, last task %s' % (name, len(running), wanted, _task_problem(bad[0])))
        else:
            last = _task_problem(mine[0]) if mine else 'no task yet'
            pending.append('service %s: %d of %d tasks running, last task %s' % (name, len(running), wanted, last))
    if failed:
        return False, True, '; '.join(failed + pending)
    return not pending, False, '; '.join(pending)


def compose_progress(containers, details=None):
    """(done, failed, report) for a compose project's containers."""
    if not containers:
        return False, False, 'no container with the label com.docker.compose.project yet'
    pending = []
    failed = []
    for container in containers:
        names = container.get('Names') or [container.get('Id', '?')[:12]]
        name = names[0].lstrip('/')
        state = container.get('State')
        status = container.get('Status') or ''
        if state == 'running':
            if 'health: starting' in status:
                pending.append('container %s: %s' % (name, status))
            elif '(unhealthy)' in status:
                failed.append('container %s: %s' % (name, status))
            continue
        if state in ('exited', 'dead'):
            detail = (details or {}).get(container.get('Id')) or ''
            failed.append('container %s: %s%s' % (name, status or state, (' (%s)' % detail) if detail else ''))
        else:
            pending.append('container %s: %s' % (name, status or state))
    if failed:
        return False, True, '; '.join(failed + pending)
    return not pending, False, '; '.join(pending)


def container_error(client, endpoint_id, container_id):
    data = client.docker_json(endpoint_id, 'GET', '/containers/%s/json' % container_id, missing_ok=True) or {}
    state = data.get('State') or {}
    words = []
    if state.get('Error'):
        words.append(state['Error'])
    if state.get('ExitCode') is not None:
        words.append('exit code %s' % state['ExitCode'])
    return ', '.join(words)


def wait_for_stack(client, endpoint_id, name, stack_type, timeout, sleep=time.sleep, clock=time.monotonic, interval=2.0):
    """Wait until the stack's services (swarm) or containers (compose) run; raise PortainerError with why not."""
    deadline = clock() + timeout
    report = ''
    while True:
        if stack_type == SWARM:
            services = client.docker_json(endpoint_id, 'GET', '/services', params=_label_filter('com.docker.stack.namespace', name)) or []
            tasks = []
            if services:
                tasks = client.docker_json(endpoint_id, 'GET', '/tasks', params={
                    'filters': json.dumps({'service': [s.get('ID') for s in services]})}) or []
            done, failed, report = swarm_progress(services, tasks)
        else:
            containers = client.docker_json(endpoint_id, 'GET', '/containers/json',
                                            params=dict(_label_filter('com.docker.compose.project', name), all='true')) or []
            details = {}
            for container in containers:
                if container.get('State') in ('exited', 'dead'):
                    details[container.get('Id')] = container_error(client, endpoint_id, container.get('Id'))
            done, failed, report = compose_progress(containers, details)
        if done:
            return
        if failed:
            raise PortainerError('stack %s was deployed but does not run: %s' % (name, report))
        if clock() >= deadline:
            raise PortainerError('stack %s did not run within wait_timeout (%ss): %s' % (name, timeout, report))
        sleep(interval)


def wait_for_removal(client, endpoint_id, name, stack_type, timeout, sleep=time.sleep, clock=time.monotonic, interval=1.0):
    """Wait until Docker has no service or container of the stack left (so its name can be used again)."""
    deadline = clock() + timeout
    while True:
        left = []
        if stack_type == SWARM:
            left = client.docker_json(endpoint_id, 'GET', '/services', params=_label_filter('com.docker.stack.namespace', name)) or []
        if not left:
            left = client.docker_json(endpoint_id, 'GET', '/containers/json',
                                      params=dict(_label_filter('com.docker.compose.project' if stack_type != SWARM
                                                                else 'com.docker.stack.namespace', name), all='true')) or []
        if not left:
            return
        if clock() >= deadline:
            raise PortainerError('stack %s: %d Docker objects were still there after wait_timeout (%ss)' % (name, len(left), timeout))
        sleep(interval)


# ---------------------------------------------------------------- the portainer_stack task


def check_params(params):
    """Every check that needs no request. Returns (source, content, env, auto_update)."""
    check_name(params['name'])
    source = source_of(params)
    if source == 'repository':
        check_repository_url(params['repository_url'])
        check_ref(params.get('repository_ref'))
        if params.get('compose_path') is not None:
            check_repo_path(params['compose_path'], 'compose_path')
        for path in params.get('additional_files') or []:
            check_repo_path(path, 'additional_files')
    state = params['state']
    if state == 'present' and source is None:
        raise StackInputError('state=present needs a source: set definition, compose_file or repository_url')
    content = desired_content(params)
    env = check_env(params.get('env'))
    auto = check_auto_update(params.get('auto_update')) if params.get('auto_update') is not None else None
    if params.get('wait_timeout') is not None and params['wait_timeout'] <= 0:
        raise StackInputError('wait_timeout must be a positive number of seconds')
    if params.get('repository_password') and not params.get('repository_username'):
        raise StackInputError('repository_password needs repository_username')
    return source, content, env, auto


class StackTask:
    """Converge one stack; fills ``actions``, ``diff`` and ``stack``. Reads first, writes only outside check mode."""

    def __init__(self, pm):
        self.pm = pm
        self.client = pm.client
        self.params = pm.params
        self.check_mode = pm.check_mode
        self.actions = []
        self.warnings = []
        self.before = {}
        self.after = {}
        self.file_before = None
        self.file_after = None
        self.source, self.content, self.env, self.auto_update = check_params(self.params)
        self.name = self.params['name']
        self.secret_names = self.params.get('env_secrets') or []

    # ------------------------------------------------------------ reads

    def locate(self):
        self.endpoint_id, self.swarm_id, kubernetes = environment_swarm(self.client, self.params['endpoint'])
        if kubernetes:
            raise PortainerError('endpoint %r is a Kubernetes environment; portainer_stack manages Docker swarm and compose stacks'
                                 % self.params['endpoint'])
        stacks = list_stacks(self.client, self.endpoint_id, self.swarm_id)
        self.stack = find_stack(stacks, self.name)
        wanted = self.params['type']
        if self.stack is not None:
            self.stack_type = self.stack.get('Type')
            if wanted != 'auto' and TYPE_IDS[wanted] != self.stack_type and self.params['state'] != 'absent':
                current = TYPE_NAMES.get(self.stack_type)
                raise PortainerError(
                    'stack %s exists on this environment as a %s stack, not %s: Portainer cannot change the type of a stack; '
                    'remove it first (state: absent) or set type: %s' % (self.name, current, wanted, current))
        elif wanted == 'auto':
            self.stack_type = SWARM if self.swarm_id else STANDALONE
        else:
            self.stack_type = TYPE_IDS[wanted]
        if self.stack is None and self.stack_type == SWARM and not self.swarm_id and self.params['state'] != 'absent':
            raise PortainerError('type is swarm but the engine of environment %r is not a swarm manager: set type: standalone, '
                                 'or use a swarm manager environment' % self.params['endpoint'])

    # ------------------------------------------------------------ helpers

    def managed_view(self, stack, env, commit=None):
        """The fields the task manages, for the diff."""
        view = {'state': 'present', 'type': TYPE_NAMES.get(self.stack_type)}
        if self.params['state'] in ('started', 'stopped'):
            view['status'] = STATUS_NAMES.get(stack.get('Status', ACTIVE)) if stack else 'active'
        if self.env is not None:
            view['env'] = env
        if self.params.get('prune') is not None and self.stack_type == SWARM:
            view['prune'] = bool(((stack or {}).get('Option') or {}).get('Prune'))
        if self.source == 'repository':
            git = (stack or {}).get('GitConfig') or {}
            view['repository_url'] = git.get('URL')
            view['repository_ref'] = git.get('ReferenceName')
            view['compose_path'] = git.get('ConfigFilePath')
            if self.params.get('repository_tls_skip_verify') is not None:
                view['repository_tls_skip_verify'] = bool(git.get('TLSSkipVerify'))
            if self.params.get('repository_username') is not None:
                view['repository_username'] = (git.get('Authentication') or {}).get('Username')
            if self.params.get('auto_update') is not None:
                view['auto_update'] = current_auto_update(stack or {})
            view['commit'] = commit if commit is not None else git.get('ConfigHash')
        return view

    def wait(self, stack_type):
        if self.params['wait'] and not self.check_mode:
            wait_for_stack(self.client, self.endpoint_id, self.name, stack_type, self.params['wait_timeout'])

    def wait_gone(self, stack_type):
        if self.params['wait'] and not self.check_mode:
            wait_for_removal(self.client, self.endpoint_id, self.name, stack_type, self.params['wait_timeout'])

    def git_settings(self):
        return {
            'url': self.params.get('repository_url'),
            'ref': normalize_ref(self.params.get('repository_ref')),
            'compose_path': self.params.get('compose_path') or 'docker-compose.yml',
            'additional_files': self.params.get('additional_files') or [],
            'username': self.params.get('repository_username'),
            'password': self.params.get('repository_password'),
            'tls_skip_verify': self.params.get('repository_tls_skip_verify'),
            'auto_update': self.auto_update,
        }

    # ------------------------------------------------------------ absent

    def absent(self):
        self.locate()
        if self.stack is None:
            self.before = self.after = {'state': 'absent'}
            return
        self.before = {'state': 'present', 'type': TYPE_NAMES.get(self.stack_type)}
        self.after = {'state': 'absent'}
        self.actions.append('delete')
        if not self.check_mode:
            self.client.delete('/api/stacks/%d' % int(self.stack['Id']), params={'endpointId': self.endpoint_id}, missing_ok=True)
            self.wait_gone(self.stack_type)
        self.result_stack = {}

    # ------------------------------------------------------------ create

    def create(self):
        env = dict(self.env or {})
        if self.source is None:
            raise PortainerError('stack %s does not exist on environment %r and the task has no source to create it from: '
                                 'set definition, compose_file or repository_url' % (self.name, self.params['endpoint']))
        git = self.git_settings() if self.source == 'repository' else None
        commit = None
        self.before = {'state': 'absent'}
        predicted = {'Id': None, 'Name': self.name, 'Type': self.stack_type, 'EndpointId': self.endpoint_id,
                     'SwarmId': self.swarm_id if self.stack_type == SWARM else '', 'Status': ACTIVE,
                     'Env': env_to_pairs(env), 'Option': {'Prune': bool(self.params.get('prune'))} if self.stack_type == SWARM else None,
                     'AutoUpdate': self.auto_update, 'GitConfig': None,
                     'EntryPoint': git['compose_path'] if git else 'docker-compose.yml',
                     'AdditionalFiles': (git['additional_files'] or None) if git else None}
        if git:
            predicted['GitConfig'] = {'URL': git['url'], 'ReferenceName': git['ref'] or '', 'ConfigFilePath': git['compose_path'],
                                      'ConfigHash': None, 'TLSSkipVerify': bool(git['tls_skip_verify']),
                                      'Authentication': {'Username': git['username']} if git['username'] else None}
        else:
            self.file_before = ''
            self.file_after = self.content.text
        self.after = self.managed_view(predicted, env, commit=None)
        self.after['state'] = 'present'
        if 'env' in self.after:
            self.after['env'] = masked_env({}, env, self.secret_names)[1]
        if 'status' in self.after:
            self.after['status'] = 'inactive' if self.params['state'] == 'stopped' else 'active'
        self.actions.append('create')
        self.result_stack = predicted
        if self.check_mode:
            if self.params['state'] == 'stopped':
                self.actions.append('stop')
            return
        new_routes = self.client.version_at_least('2.19.0')
        legacy_key = not self.client.version_at_least('2.9.0')
        if self.source == 'compose_file':
            method = 'file'
        elif self.source == 'repository':
            method = 'repository'
        else:
            method = 'string'
        path, query = create_route(new_routes, self.stack_type, method, self.endpoint_id)
        body = create_payload(self.name, self.stack_type, method, self.swarm_id, env, content=self.content.text if self.content else None,
                              git=git, legacy_compose_key=legacy_key)
        if method == 'file':
            response = self.client.request('POST', path, params=query, data=body, expected=(200, 201, 409),
                                           files={'file': ('docker-compose.yml', self.content.text.encode('utf-8'), 'application/x-yaml')})
        else:
            response = self.client.request('POST', path, params=query, json_body=body, expected=(200, 201, 409))
        if response.status_code == 409:
            self.adopt_after_conflict(response)
            return
        created = self.client.decode(response)
        self.result_stack = created if isinstance(created, dict) else predicted
        if self.params['prune'] and self.stack_type == SWARM:
            # Creation always deploys with prune off; store the setting without a second deploy for git stacks.
            self.set_prune_after_create()
        self.wait(self.stack_type)
        if self.params['state'] == 'stopped':
            self.stop()

    def set_prune_after_create(self):
        stack = self.result_stack
        if stack.get('GitConfig'):
            git = self.git_settings()
            body = git_settings_payload(git['ref'], env_to_dict(stack.get('Env')), True, self.auto_update, git['tls_skip_verify'], git, SWARM)
            self.result_stack = self.client.post('/api/stacks/%d/git' % int(stack['Id']), json_body=body,
                                                 params={'endpointId': self.endpoint_id}) or stack
        else:
            body = update_payload(self.content.text, env_to_dict(stack.get('Env')), True, False, SWARM)
            self.result_stack = self.client.put('/api/stacks/%d' % int(stack['Id']), json_body=body,
                                                params={'endpointId': self.endpoint_id}) or stack

    def adopt_after_conflict(self, response):
        """409 on create: a stack of that name appeared meanwhile (adopt it) or Docker has one Portainer does not know."""
        # Without filters, so that a swarm stack recorded with another swarm id (a swarm made again) is found too.
        stacks = [s for s in list_stacks(self.client) if s.get('EndpointId') == self.endpoint_id]
        self.stack = find_stack(stacks, self.name)
        if self.stack is None:
            message = self.client.error_from('POST', '/api/stacks/create', response)
            raise PortainerError(
                '%s. Portainer has no stack %s on this environment, so the name is taken in Docker by a stack or compose project '
                'created outside Portainer: remove it (docker stack rm / docker compose down), or choose another name' % (message, self.name))
        self.actions = []
        self.result_stack = None
        self.stack_type = self.stack.get('Type')
        self.converge_existing()

    # ------------------------------------------------------------ existing stacks

    def converge_existing(self):
        stack = self.stack
        is_git = bool(stack.get('GitConfig'))
        current_env = env_to_dict(stack.get('Env'))
        env = desired_env(current_env, self.env, self.params['env_mode'])
        current_prune = bool((stack.get('Option') or {}).get('Prune'))
        prune = current_prune if self.params.get('prune') is None else bool(self.params['prune'])
        if self.params.get('prune') is not None and self.stack_type != SWARM:
            self.warnings.append('prune applies to swarm stacks only; it is ignored for the standalone stack %s' % self.name)
            prune = current_prune
        if self.source == 'repository' and not is_git:
            raise PortainerError('stack %s exists and was not created from git; Portainer cannot attach it to a repository: '
                                 'remove it first (state: absent) to recreate it from repository_url' % self.name)
        if self.source in ('definition', 'compose_file') and is_git:
            raise PortainerError('stack %s exists and is deployed from git (%s); updating it from %s would detach it from git: '
                                 'remove it first (state: absent), or manage it with repository_url' % (self.name, stack['GitConfig'].get('URL'), self.source))
        self.before = self.managed_view(stack, current_env)
        self.after = self.managed_view(stack, env)
        env_changed = self.env is not None and env_differs(current_env, env)
        if self.env is not None:
            self.before['env'], self.after['env'] = masked_env(current_env, env, self.secret_names)
        prune_changed = self.stack_type == SWARM and self.params.get('prune') is not None and prune != current_prune
        if prune_changed:
            self.after['prune'] = prune
        deployed = False
        if is_git and self.source == 'repository':
            deployed = self.converge_git(stack, env, env_changed, prune, prune_changed)
        elif self.source is not None:
            deployed = self.converge_file(stack, env, env_changed, prune, prune_changed)
        elif self.params['force_redeploy']:
            deployed = self.redeploy_as_is(stack, current_env, current_prune)
        state = self.params['state']
        status = stack.get('Status')
        if state == 'started':
            self.after['status'] = 'active'
            if deployed:
                return
            if status != ACTIVE:
                self.start()
        elif state == 'stopped':
            self.after['status'] = 'inactive'
            if deployed or status != INACTIVE:
                self.stop()
        if self.result_stack is None:
            self.result_stack = stack

    def redeploy_as_is(self, stack, env, prune):
        if stack.get('GitConfig'):
            git = {'username': (stack['GitConfig'].get('Authentication') or {}).get('Username'), 'password': None}
            return self.git_redeploy(stack, stack['GitConfig'].get('ReferenceName'), env, prune, git)
        text = stack_file(self.client, stack['Id'])
        return self.update(stack, text, env, prune)

    def converge_file(self, stack, env, env_changed, prune, prune_changed):
        stored = stack_file(self.client, stack['Id'])
        content_changed = not self.content.matches(stored)
        self.file_before = stored if stored is not None else ''
        self.file_after = self.content.text if content_changed else self.file_before
        if not (content_changed or env_changed or prune_changed or self.params['force_redeploy']):
            return False
        text = self.content.text if content_changed else stored
        return self.update(stack, text, env, prune)

    def update(self, stack, text, env, prune):
        self.actions.append('update')
        if self.check_mode:
            return True
        body = update_payload(text, env, prune, self.params['pull'], self.stack_type)
        self.result_stack = self.client.put('/api/stacks/%d' % int(stack['Id']), json_body=body, params={'endpointId': self.endpoint_id})
        self.wait(self.stack_type)
        return True

    def converge_git(self, stack, env, env_changed, prune, prune_changed):
        git_now = stack['GitConfig']
        git = self.git_settings()
        problems = []
        if git['url'].rstrip('/') != str(git_now.get('URL') or '').rstrip('/'):
            problems.append('repository_url (%s, wanted %s)' % (git_now.get('URL'), git['url']))
        if self.params.get('compose_path') is not None and git['compose_path'] not in (git_now.get('ConfigFilePath'), stack.get('EntryPoint')):
            problems.append('compose_path (%s, wanted %s)' % (git_now.get('ConfigFilePath'), git['compose_path']))
        if self.params.get('additional_files') is not None and sorted(git['additional_files']) != sorted(stack.get('AdditionalFiles') or []):
            problems.append('additional_files')
        if problems:
            raise PortainerError('stack %s: Portainer cannot change %s of a git stack: remove it first (state: absent) to recreate it'
                                 % (self.name, ', '.join(problems)))
        current_ref = git_now.get('ReferenceName') or ''
        ref = git['ref'] if git['ref'] is not None else current_ref
        ref_changed = git['ref'] is not None and normalize_ref(current_ref) != git['ref']
        current_user = (git_now.get('Authentication') or {}).get('Username')
        auth_changed = False
        if self.params.get('repository_username') is not None:
            auth_changed = (git['username'] or None) != (current_user or None)
        elif current_user:
            # Keep the stored credentials: Portainer keeps the stored password when an empty one is sent.
            git['username'] = current_user
        tls_changed = git['tls_skip_verify'] is not None and bool(git['tls_skip_verify']) != bool(git_now.get('TLSSkipVerify'))
        tls = bool(git_now.get('TLSSkipVerify')) if git['tls_skip_verify'] is None else bool(git['tls_skip_verify'])
        current_auto = current_auto_update(stack)
        auto = current_auto
        auto_changed = False
        if self.params.get('auto_update') is not None:
            auto = self.auto_update
            auto_changed = auto != current_auto
            self.after['auto_update'] = auto
        if ref_changed:
            self.after['repository_ref'] = ref
        if auth_changed:
            self.after['repository_username'] = git['username']
        if tls_changed:
            self.after['repository_tls_skip_verify'] = tls
        moved = False
        if not ref_changed and self.params['repository_remote_check'] and git_now.get('ConfigHash'):
            try:
                remote = remote_commit(git['url'], ref, git['username'] or current_user, git['password'], tls,
                                       timeout=self.client.timeout)
            except PortainerError as exc:
                if current_user and not git['password']:
                    raise PortainerError('%s. Portainer never returns the password it stores for the repository: give the task '
                                         'repository_password, or set repository_remote_check: false' % exc) from None
                raise
            moved = remote != git_now.get('ConfigHash')
            self.after['commit'] = remote
        elif ref_changed:
            self.after['commit'] = '(the head of %s)' % ref
        redeploy = ref_changed or moved or env_changed or self.params['force_redeploy']
        if auth_changed or tls_changed or auto_changed or (prune_changed and not redeploy):
            # Settings only (POST .../git writes every field it is sent, so it gets the whole desired state).
            self.actions.append('git_settings')
            if not self.check_mode:
                body = git_settings_payload(ref, env, prune, auto, tls, git, self.stack_type)
                self.result_stack = self.client.post('/api/stacks/%d/git' % int(stack['Id']), json_body=body,
                                                     params={'endpointId': self.endpoint_id})
        if redeploy:
            return self.git_redeploy(stack, ref, env, prune, git)
        return False

    def git_redeploy(self, stack, ref, env, prune, git):
        self.actions.append('git_redeploy')
        if self.check_mode:
            return True
        body = git_redeploy_payload(ref, env, prune, self.params['pull'], git, self.stack_type)
        self.result_stack = self.client.put('/api/stacks/%d/git/redeploy' % int(stack['Id']), json_body=body,
                                            params={'endpointId': self.endpoint_id})
        self.wait(self.stack_type)
        return True

    # ------------------------------------------------------------ start / stop

    def start(self):
        self.actions.append('start')
        if self.check_mode:
            return
        response = self.client.request('POST', '/api/stacks/%d/start' % int(self.stack['Id']), params={'endpointId': self.endpoint_id},
                                       expected=(200, 400, 409))
        if response.status_code == 400:
            # "Stack is already active": nothing was running under the name, but Portainer thinks it is started.
            self.actions.remove('start')
            return
        if response.status_code == 409:
            error = self.client.error_from('POST', '/api/stacks/%d/start' % int(self.stack['Id']), response)
            raise PortainerError('cannot start stack %s: %s' % (self.name, error))
        self.result_stack = self.client.decode(response)
        self.wait(self.stack_type)

    def stop(self):
        self.actions.append('stop')
        if self.check_mode:
            if self.result_stack:
                self.result_stack = dict(self.result_stack, Status=INACTIVE)
            return
        stack_id = int((self.result_stack or self.stack)['Id'])
        response = self.client.request('POST', '/api/stacks/%d/stop' % stack_id, params={'endpointId': self.endpoint_id},
                                       expected=(200, 400))
        if response.status_code == 400:
            self.actions.remove('stop')
            return
        self.result_stack = self.client.decode(response)
        self.wait_gone(self.stack_type)

    # ------------------------------------------------------------ entry point

    def run(self):
        self.result_stack = None
        if self.params['state'] == 'absent':
            self.absent()
        else:
            self.locate()
            if self.stack is None:
                self.create()
            else:
                self.converge_existing()
        changed = bool(self.actions)
        result = {'changed': changed, 'actions': list(self.actions), 'stack': public_stack(self.result_stack)}
        if self.pm.diff_mode:
            result['diff'] = self.diff()
        return result

    def diff(self):
        if self.content is not None and self.file_before is not None:
            return [
                {'before_header': 'stack %s: file in Portainer' % self.name, 'after_header': 'stack %s: desired file' % self.name,
                 'before': self.file_before, 'after': self.file_after},
                {'before_header': 'stack %s: settings' % self.name, 'after_header': 'stack %s: settings' % self.name,
                 'before': self.before, 'after': self.after},
            ]
        return {'before': self.before, 'after': self.after}
