# -*- coding: utf-8 -*-
# Copyright (c) pier.portainer contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
name: portainer
short_description: Docker containers of Portainer environments as inventory hosts
version_added: 0.1.0
description:
  - Makes every Docker container of the selected Portainer environments (endpoints) an inventory host, with the
    container's facts as host variables and groups by environment, stack and state.
  - Reads an inventory source file whose name ends in C(portainer.yml) or C(portainer.yaml) and whose O(plugin) key is
    V(pier.portainer.portainer).
  - Sends one request to list the environments and one request per environment to list its containers, with the state
    and label filters applied by Docker. It inspects each container (one more request per container) only with
    O(verbose_output=true).
  - Environments of other kinds than Docker (Kubernetes, Azure) are skipped.
author:
  - pier.portainer maintainers (@pier-portainer)
extends_documentation_fragment:
  - constructed
  - inventory_cache
requirements:
  - requests
options:
  plugin:
    description:
      - The name of this plugin. Must be V(pier.portainer.portainer) for the file to be read by it.
    type: str
    required: true
    choices:
      - pier.portainer.portainer
  portainer_url:
    description:
      - The address of Portainer, for example V(https://portainer.example.com:9443), with or without the trailing
        C(/api). Required, here or in the environment variable.
      - May be a template, for example a lookup.
    type: str
    env:
      - name: PORTAINER_URL
  portainer_api_key:
    description:
      - A Portainer API key (access token, C(ptr_...)), sent in the C(X-API-KEY) header.
      - Mutually exclusive with O(portainer_username) and O(portainer_password). One of the two ways to log in is required.
      - May be a template, for example a lookup, or a vaulted value.
    type: str
    env:
      - name: PORTAINER_API_KEY
  portainer_username:
    description:
      - The user to log in as with O(portainer_password). The plugin logs in with C(POST /api/auth), or reuses the
        token a module or an earlier run cached (see O(token_cache)).
      - May be a template.
    type: str
    env:
      - name: PORTAINER_USERNAME
  portainer_password:
    description:
      - The password of O(portainer_username).
      - May be a template, for example a lookup, or a vaulted value.
    type: str
    env:
      - name: PORTAINER_PASSWORD
  validate_certs:
    description:
      - Whether to verify Portainer's TLS certificate. Leave it on and set O(ca_path) for a private CA.
    type: bool
    default: true
    env:
      - name: PORTAINER_VALIDATE_CERTS
  ca_path:
    description:
      - A PEM file (or a directory prepared with C(c_rehash)) of the CA certificates that verify Portainer's certificate.
    type: path
    env:
      - name: PORTAINER_CA_PATH
  request_timeout:
    description:
      - Seconds to wait for Portainer to answer one request. Reads that fail or time out are retried a few times.
    type: float
    default: 30
    env:
      - name: PORTAINER_TIMEOUT
  token_cache:
    description:
      - With O(portainer_username) and O(portainer_password), keep the login token in a file readable only by the
        user running Ansible, shared with the modules of this collection, so that inventory refreshes and plays do not
        each log in. Portainer bans an address for one hour after a burst of more than 10 logins.
      - The file is under C($XDG_CACHE_HOME/pier.portainer/tokens) (default C(~/.cache/pier.portainer/tokens)), or the
        directory in E(PORTAINER_TOKEN_CACHE_DIR).
    type: bool
    default: true
    env:
      - name: PORTAINER_TOKEN_CACHE
  endpoints:
    description:
      - The names of the environments (endpoints) whose containers become hosts; exact, case-sensitive names.
      - A name that does not exist, or is not a Docker environment, is an error.
      - Empty means every Docker environment the credentials may see.
    type: list
    elements: str
    default: []
    aliases:
      - environments
  states:
    description:
      - Only containers in one of these states. Empty means containers in any state, stopped ones included.
      - Docker applies this filter (C(status)).
    type: list
    elements: str
    default: []
    choices:
      - created
      - restarting
      - running
      - removing
      - paused
      - exited
      - dead
  labels:
    description:
      - Only containers that carry all of these labels. A label given with a value must have exactly that value; a
        label given with no value (V(null) or an empty string) must only be present.
      - Docker applies this filter (C(label)).
    type: dict
    default: {}
  host_naming:
    description:
      - How hosts are named.
      - With V(name), a host is named after its container, for example V(web01). When containers of several
        environments share a name, the one in the environment with the lowest id keeps the bare name and the others
        are named C(<container name>@<environment name>), for example V(web01@test-remote). Environments are taken in
        order of their id, so the rule is stable as long as the selection of environments does not change.
      - With V(qualified), every host is named C(<container name>@<environment name>), whatever the other environments
        hold.
      - If two environments have the same name (Portainer before 2.14 allowed it), the later one's containers are named
        C(<container name>@<environment id>) where a name would repeat.
    type: str
    default: name
    choices:
      - name
      - qualified
  default_groups:
    description:
      - Add each host to the groups C(portainer_endpoint_<environment name>), C(portainer_state_<state>) and, for a
        container of a stack, C(portainer_stack_<stack name>). Characters not valid in a group name become C(_).
    type: bool
    default: true
  verbose_output:
    description:
      - Inspect every container (one more request per container) and put the result in the host variable
        C(portainer_inspect).
      - The container's environment variables (C(Config.Env)) are left out, as they often hold secrets.
    type: bool
    default: false
  endpoint_errors:
    description:
      - What to do when the containers of one environment cannot be listed (the environment is down, or an edge agent
        is not connected).
      - V(warn) skips that environment with a warning; V(fail) fails the inventory source.
    type: str
    default: warn
    choices:
      - warn
      - fail
notes:
  - This collection has no connection plugin that runs commands in a container through Portainer. The hosts are for
    targeting and for data (run the modules of this collection with C(delegate_to) V(localhost)); to run tasks inside
    the containers, set a connection with O(compose), for example C(ansible_connection) V(community.docker.docker_api)
    and C(ansible_docker_host) pointing at the Docker engine.
  - The host variables are C(portainer_container_id), C(portainer_container_name), C(portainer_image), C(portainer_image_id),
    C(portainer_state) (V(running), V(exited), ...), C(portainer_status) (Docker's human text, for example
    V(Up 3 hours)), C(portainer_created) (Unix time), C(portainer_labels), C(portainer_ports),
    C(portainer_endpoint_id), C(portainer_endpoint_name), C(portainer_stack) (from the label C(com.docker.compose.project)
    or C(com.docker.stack.namespace), V(null) for a container of no stack), C(portainer_stack_type) (V(compose),
    V(swarm) or V(null)) and, with O(verbose_output), C(portainer_inspect).
  - Neither the credentials nor the token are ever put in host variables, in the inventory cache or in error messages.
seealso:
  - module: pier.portainer.portainer_container_info
  - ref: ansible_collections.pier.portainer.docsite.guide_getting_started
    description: Getting started with the collection, including this inventory plugin.
'''

EXAMPLES = r'''
---
# portainer.yml: every container of every Docker environment; URL and API key from
# PORTAINER_URL and PORTAINER_API_KEY.
plugin: pier.portainer.portainer

---
# prod.portainer.yml: the running containers of two environments, with the connection in the file
# (the API key vaulted) and groups by image and by a label.
plugin: pier.portainer.portainer
portainer_url: https://portainer.example.com:9443
portainer_api_key: !vault |
  $ANSIBLE_VAULT;1.1;AES256
  6238...
endpoints:
  - prod-docker-1
  - prod-docker-2
states:
  - running
keyed_groups:
  - key: portainer_image | regex_replace(':.*$', '')
    prefix: image
  - key: portainer_labels['com.example.team'] | default('none')
    prefix: team
groups:
  databases: "'postgres' in portainer_image"
compose:
  ansible_connection: "'community.docker.docker_api'"
  ansible_docker_host: "'tcp://' ~ portainer_endpoint_name ~ '.example.com:2376'"

---
# web.portainer.yaml: only containers labelled role=web, named <container>@<environment>, with the
# inventory cached for an hour.
plugin: pier.portainer.portainer
labels:
  role: web
host_naming: qualified
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/ansible-inventory
cache_timeout: 3600
'''

import json

from ansible.errors import AnsibleError, AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

try:
    from ansible.utils.unsafe_proxy import wrap_var as _wrap_var
except ImportError:  # pragma: no cover - ansible-core versions without unsafe_proxy
    _wrap_var = None

from ansible_collections.pier.portainer.plugins.module_utils._api import (
    HAS_REQUESTS,
    PortainerError,
    quote_path,
)
from ansible_collections.pier.portainer.plugins.module_utils._module import client_from_params

CONNECTION_OPTIONS = ('portainer_url', 'portainer_api_key', 'portainer_username', 'portainer_password',
                      'validate_certs', 'ca_path', 'request_timeout', 'token_cache')
TEMPLATED_OPTIONS = ('portainer_url', 'portainer_api_key', 'portainer_username', 'portainer_password')

# Endpoint.Type values with a Docker API behind the proxy: Docker API, agent on Docker, edge agent on Docker.
DOCKER_ENDPOINT_TYPES = (1, 2, 4)
ENDPOINT_KINDS = {3: 'an Azure ACI', 5: 'a Kubernetes', 6: 'a Kubernetes', 7: 'a Kubernetes'}
COMPOSE_LABEL = 'com.docker.compose.project'
SWARM_LABEL = 'com.docker.stack.namespace'
# Bump when the shape of the cached data changes.
CACHE_FORMAT = 1


def unsafe(value):
    """Mark data read from Portainer so that Ansible never evaluates it as a template."""
    return _wrap_var(value) if _wrap_var is not None else value


def container_name(container):
    """The name of a container from a Docker list entry (``Names`` has ``/name`` and, for links, ``/other/alias``)."""
    names = [n.lstrip('/') for n in container.get('Names') or [] if isinstance(n, str)]
    for name in names:
        if name and '/' not in name:
            return name
    if names and names[0]:
        return names[0]
    return str(container.get('Id') or '')[:12]


def stack_of(labels):
    """Return (stack name, stack type) from a container's labels, or (None, None)."""
    labels = labels or {}
    if labels.get(SWARM_LABEL):
        return labels[SWARM_LABEL], 'swarm'
    if labels.get(COMPOSE_LABEL):
        return labels[COMPOSE_LABEL], 'compose'
    return None, None


def label_filters(labels):
    """Docker's ``label`` filter values for the ``labels`` option: ``key`` or ``key=value``."""
    result = []
    for key in sorted(labels or {}):
        value = labels[key]
        if value is None or value == '':
            result.append(str(key))
        else:
            result.append('%s=%s' % (key, value if not isinstance(value, bool) else str(value).lower()))
    return result


def container_matches(container, states, labels):
    """Apply the filters again on the client (Docker already did; this guards against engines that ignore them)."""
    if states and container.get('State') not in states:
        return False
    have = container.get('Labels') or {}
    for key, value in (labels or {}).items():
        if key not in have:
            return False
        if value is not None and value != '':
            wanted = str(value).lower() if isinstance(value, bool) else str(value)
            if have[key] != wanted:
                return False
    return True


def assign_host_names(entries, naming='name'):
    """Give every (endpoint, container) entry a unique host name.

    ``entries`` is a list of (endpoint, container) pairs. Endpoints are taken in order of their id, containers in order
    of name. With ``name`` the first container of a name keeps it and later ones become ``<name>@<endpoint name>``; with
    ``qualified`` every one is ``<name>@<endpoint name>``. When that is taken too (two endpoints of the same name),
    ``<name>@<endpoint id>`` is used. Returns a list of (host name, endpoint, container).
    """
    ordered = sorted(entries, key=lambda item: (int(item[0]['Id']), container_name(item[1]), str(item[1].get('Id'))))
    taken = set()
    result = []
    for endpoint, container in ordered:
        name = container_name(container)
        candidates = []
        if naming != 'qualified':
            candidates.append(name)
        candidates.append('%s@%s' % (name, endpoint['Name']))
        candidates.append('%s@%s' % (name, endpoint['Id']))
        host = None
        for candidate in candidates:
            if candidate not in taken:
                host = candidate
                break
        if host is None:  # pragma: no cover - container names are unique per endpoint, endpoint ids are unique
            host = '%s@%s' % (container.get('Id'), endpoint['Id'])
        taken.add(host)
        result.append((host, endpoint, container))
    return result


def host_variables(endpoint, container, inspect=None):
    """The host variables of one container."""
    labels = dict(container.get('Labels') or {})
    stack, stack_type = stack_of(labels)
    hostvars = {
        'portainer_container_id': container.get('Id'),
        'portainer_container_name': container_name(container),
        'portainer_image': container.get('Image'),
        'portainer_image_id': container.get('ImageID'),
        'portainer_state': container.get('State'),
        'portainer_status': container.get('Status'),
        'portainer_created': container.get('Created'),
        'portainer_labels': labels,
        'portainer_ports': list(container.get('Ports') or []),
        'portainer_endpoint_id': endpoint['Id'],
        'portainer_endpoint_name': endpoint['Name'],
        'portainer_stack': stack,
        'portainer_stack_type': stack_type,
    }
    if inspect is not None:
        hostvars['portainer_inspect'] = inspect
    return hostvars


def without_env(inspect):
    """A container inspect result without its environment variables (they often hold secrets)."""
    if not isinstance(inspect, dict):
        return inspect
    inspect = dict(inspect)
    if isinstance(inspect.get('Config'), dict):
        config = dict(inspect['Config'])
        config.pop('Env', None)
        inspect['Config'] = config
    return inspect


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    """Docker containers of Portainer environments as inventory hosts."""

    NAME = 'pier.portainer.portainer'

    def __init__(self):
        super().__init__()
        self.client = None

    def verify_file(self, path):
        if super().verify_file(path):
            if path.endswith(('portainer.yml', 'portainer.yaml')):
                return True
            self.display.vvv('Skipping %s: the name of a pier.portainer.portainer source must end in portainer.yml or portainer.yaml' % path)
        return False

    # ------------------------------------------------------------------ options

    def _connection_params(self):
        params = {}
        for option in CONNECTION_OPTIONS:
            value = self.get_option(option)
            if option in TEMPLATED_OPTIONS and isinstance(value, str) and self.templar.is_template(value):
                try:
                    value = self.templar.template(value)
                except Exception as exc:  # pylint: disable=broad-exception-caught
                    # The message of a failed template names the template, never the value it would give.
                    raise AnsibleParserError('Could not template the option %s: %s' % (option, type(exc).__name__)) from None
            params[option] = value
        if not params.get('portainer_url'):
            raise AnsibleParserError(
                'portainer_url is not set: set it in the inventory source or in the environment variable PORTAINER_URL, '
                'for example https://portainer.example.com:9443')
        return params

    def _selection(self):
        """The options that decide what is fetched; the cache is only used when they are unchanged."""
        return {
            'format': CACHE_FORMAT,
            'url': None if self.client is None else self.client.base_url,
            'endpoints': list(self.get_option('endpoints') or []),
            'states': sorted(self.get_option('states') or []),
            'labels': label_filters(self.get_option('labels')),
            'verbose_output': bool(self.get_option('verbose_output')),
        }

    def _redact(self, text):
        return self.client.redact(text) if self.client is not None else str(text)

    # ------------------------------------------------------------------ fetching

    def _endpoints(self):
        """The Docker environments selected, sorted by id. One request."""
        names = list(self.get_option('endpoints') or [])
        if len(names) == 1:
            found = self.client.get('/api/endpoints', params={'name': names[0], 'excludeSnapshots': 'true'})
        else:
            found = self.client.get('/api/endpoints', params={'excludeSnapshots': 'true'})
        found = [e for e in found or [] if isinstance(e, dict) and 'Id' in e]
        if names:
            # Portainer before 2.14 ignores ``name``: match exactly here in every case.
            by_name = {}
            for endpoint in sorted(found, key=lambda e: int(e['Id'])):
                by_name.setdefault(endpoint.get('Name'), []).append(endpoint)
            missing = [n for n in names if n not in by_name]
            if missing:
                raise AnsibleParserError(
                    'endpoints: no Portainer environment named %s; check the names (exact, case-sensitive), for example '
                    'with pier.portainer.portainer_endpoint_info' % ', '.join(repr(n) for n in missing))
            selected = []
            for name in names:
                for endpoint in by_name[name]:
                    if endpoint.get('Type') not in DOCKER_ENDPOINT_TYPES:
                        raise AnsibleParserError(
                            'endpoints: %r is %s environment; this inventory lists Docker containers, so name only Docker '
                            'environments' % (name, ENDPOINT_KINDS.get(endpoint.get('Type'), 'a non-Docker')))
                    if endpoint not in selected:
                        selected.append(endpoint)
        else:
            selected = []
            for endpoint in found:
                if endpoint.get('Type') in DOCKER_ENDPOINT_TYPES:
                    selected.append(endpoint)
                else:
                    self.display.vvv('pier.portainer.portainer: skipping environment %r, it is not a Docker environment' % endpoint.get('Name'))
        return sorted(({'Id': int(e['Id']), 'Name': str(e.get('Name')), 'Type': e.get('Type')} for e in selected),
                      key=lambda e: e['Id'])

    def _containers(self, endpoint):
        """The containers of one environment, filtered by Docker. One request."""
        params = {'all': '1'}
        filters = {}
        states = self.get_option('states') or []
        if states:
            filters['status'] = list(states)
        labels = label_filters(self.get_option('labels'))
        if labels:
            filters['label'] = labels
        if filters:
            params['filters'] = json.dumps(filters, sort_keys=True)
        found = self.client.docker_json(endpoint['Id'], 'GET', '/containers/json', params=params)
        if not isinstance(found, list):
            raise PortainerError('GET %s answered something else than a list of containers' % self.client.docker_path(endpoint['Id'], '/containers/json'))
        return [c for c in found if isinstance(c, dict) and container_matches(c, states, self.get_option('labels'))]

    def _inspect(self, endpoint, container):
        found = self.client.docker_json(endpoint['Id'], 'GET', '/containers/%s/json' % quote_path(container['Id']), missing_ok=True)
        return without_env(found) if found is not None else None

    def _fetch(self):
        """Everything the inventory is built from; also what goes into the cache (no credentials in it)."""
        on_error = self.get_option('endpoint_errors')
        verbose = self.get_option('verbose_output')
        data = {'selection': self._selection(), 'endpoints': []}
        for endpoint in self._endpoints():
            try:
                containers = self._containers(endpoint)
            except PortainerError as exc:
                message = 'Could not list the containers of the Portainer environment %r (id %s): %s' % (
                    endpoint['Name'], endpoint['Id'], self._redact(exc))
                if on_error == 'fail':
                    raise AnsibleParserError(message + '. Set endpoint_errors: warn to skip such environments.') from None
                self.display.warning(message + '; its containers are left out.')
                continue
            entry = dict(endpoint, containers=containers)
            if verbose:
                inspected = {}
                for container in containers:
                    found = self._inspect(endpoint, container)
                    if found is not None:  # removed between list and inspect
                        inspected[container['Id']] = found
                entry['inspect'] = inspected
            data['endpoints'].append(entry)
        return data

    # ------------------------------------------------------------------ building

    def _populate(self, data):
        strict = self.get_option('strict')
        default_groups = self.get_option('default_groups')
        verbose = self.get_option('verbose_output')
        entries = []
        endpoints = {}
        for entry in data.get('endpoints') or []:
            endpoint = {'Id': entry['Id'], 'Name': entry['Name']}
            endpoints[entry['Id']] = entry
            for container in entry.get('containers') or []:
                entries.append((endpoint, container))
        for host, endpoint, container in assign_host_names(entries, self.get_option('host_naming')):
            inspect = None
            if verbose:
                inspect = (endpoints[endpoint['Id']].get('inspect') or {}).get(container.get('Id'))
            hostvars = unsafe(host_variables(endpoint, container, inspect))
            self.inventory.add_host(host)
            for key, value in hostvars.items():
                self.inventory.set_variable(host, key, value)
            if default_groups:
                groups = ['portainer_endpoint_%s' % endpoint['Name'], 'portainer_state_%s' % (container.get('State') or 'unknown')]
                if hostvars['portainer_stack']:
                    groups.append('portainer_stack_%s' % hostvars['portainer_stack'])
                for group in groups:
                    group = self.inventory.add_group(self._sanitize_group_name(group))
                    self.inventory.add_child(group, host)
            self._set_composite_vars(self.get_option('compose'), hostvars, host, strict=strict)
            self._add_host_to_composed_groups(self.get_option('groups'), hostvars, host, strict=strict)
            self._add_host_to_keyed_groups(self.get_option('keyed_groups'), hostvars, host, strict=strict)

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        if not HAS_REQUESTS:
            raise AnsibleParserError('The pier.portainer.portainer inventory plugin needs the Python library requests on the controller')
        try:
            self.client = client_from_params(self._connection_params())
        except PortainerError as exc:
            raise AnsibleParserError(str(exc)) from None

        cache_key = self.get_cache_key(path)
        use_cache = self.get_option('cache') and cache
        update_cache = self.get_option('cache') and not cache
        data = None
        if use_cache:
            try:
                data = self._cache[cache_key]
            except KeyError:
                update_cache = True
            else:
                if not isinstance(data, dict) or data.get('selection') != self._selection():
                    data = None
                    update_cache = True
        try:
            if data is None:
                data = self._fetch()
        except PortainerError as exc:
            raise AnsibleParserError(self._redact(exc)) from None
        except AnsibleError:
            raise
        except Exception as exc:  # pylint: disable=broad-exception-caught
            raise AnsibleParserError('Unexpected error: %s: %s' % (type(exc).__name__, self._redact(exc))) from None
        finally:
            self.client.close()
        if update_cache:
            self._cache[cache_key] = data
        self._populate(data)
