#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) pier.portainer contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: portainer_container_info
short_description: Read Docker containers of a Portainer environment
version_added: 0.1.0
description:
  - With O(name), returns one container's inspect document and whether it exists.
  - Without O(name), lists the containers of the environment, filtered with Docker's filters.
  - Reads through Portainer's Docker proxy; Portainer hides containers the user may not see.
author:
  - pier.portainer maintainers (@pier-portainer)
extends_documentation_fragment:
  - pier.portainer._portainer
  - pier.portainer._attributes
  - pier.portainer._attributes.actiongroup_portainer
  - pier.portainer._attributes.info_module
options:
  endpoint:
    description:
      - The Portainer environment, by name (exact, case-sensitive) or numeric id. An id saves one request.
    type: str
    required: true
  name:
    description:
      - The name (or full id) of one container. The result then has RV(exists) and RV(container).
      - Mutually exclusive with O(filters).
    type: str
  all:
    description:
      - When listing, include containers that are not running.
    type: bool
    default: false
  filters:
    description:
      - Docker's container list filters, for example C(status), C(label), C(name), C(ancestor), C(network).
      - Each value is a string or a list of strings; C(label) also takes a dict of label names and values.
      - C(name) matches part of the name, as in Docker; anchor it like V(^web01$) for an exact match.
    type: dict
seealso:
  - module: pier.portainer.portainer_container
'''

EXAMPLES = r'''
---
- name: Read one container
  pier.portainer.portainer_container_info:
    portainer_url: https://portainer.example.com:9443
    portainer_api_key: "{{ vault_portainer_api_key }}"
    endpoint: local
    name: web01
  register: web01

- name: Show its state
  ansible.builtin.debug:
    msg: "{{ web01.container.State.Status if web01.exists else 'web01 does not exist' }}"

- name: List the exited containers with a label
  pier.portainer.portainer_container_info:
    endpoint: local
    all: true
    filters:
      status: exited
      label:
        app: shop
  register: exited
'''

RETURN = r'''
exists:
  description: Whether the container named O(name) exists.
  returned: when O(name) is given
  type: bool
  sample: true
container:
  description:
    - The container's inspect document (C(GET /containers/{id}/json)) without Portainer's additions; empty when it does not exist.
  returned: when O(name) is given
  type: dict
  sample:
    Id: 5fc2a93d7a3d426a1c3937436697fc5e5343cc375226f6110283200bede3b107
    Name: /web01
    State:
      Status: running
      Running: true
containers:
  description:
    - The containers as Docker's list returns them (C(GET /containers/json)), without Portainer's additions.
  returned: when O(name) is not given
  type: list
  elements: dict
  sample:
    - Id: 5fc2a93d7a3d426a1c3937436697fc5e5343cc375226f6110283200bede3b107
      Names:
        - /web01
      Image: nginx:1.27
      State: running
      Status: Up 2 minutes
'''

import json

from ansible_collections.pier.portainer.plugins.module_utils._container import NAME_RE, DockerProxy
from ansible_collections.pier.portainer.plugins.module_utils._container_options import OptionError
from ansible_collections.pier.portainer.plugins.module_utils._module import PortainerModule


def docker_filters(filters):
    """The ``filters`` option -> Docker's JSON filter map (every value a list of strings); OptionError when malformed."""
    result = {}
    for key, value in (filters or {}).items():
        if not str(key).strip():
            raise OptionError('filters: a filter name is empty; use Docker filter names like status, label or name')
        if isinstance(value, dict) and str(key) != 'label':
            raise OptionError('filters: %s takes a string or a list of strings; only label also takes a dict' % key)
        if isinstance(value, (list, tuple)) and any(isinstance(v, (dict, list)) for v in value):
            raise OptionError('filters: %s takes a string or a list of strings' % key)
        if isinstance(value, dict):
            values = ['%s=%s' % (k, v) if v is not None else str(k) for k, v in value.items()]
        elif isinstance(value, (list, tuple)):
            values = [str(v) for v in value]
        elif isinstance(value, bool):
            values = [str(value).lower()]
        else:
            values = [str(value)]
        result[str(key)] = values
    return result


def run(pm):
    params = pm.params
    name = params.get('name')
    try:
        if name is not None and not NAME_RE.match(name):
            raise OptionError('name: %r is not a container name or id; use letters, digits, _ . - (starting with a letter or digit)' % name)
        filters = docker_filters(params.get('filters'))
    except OptionError as exc:
        pm.fail(str(exc))
        return
    docker = DockerProxy(pm.client, pm.client.endpoint_id(params['endpoint']), params['endpoint'])
    if name is not None:
        container = docker.inspect_container(name.lstrip('/'))
        pm.exit(changed=False, exists=container is not None, container=container or {})
        return
    query = {'all': '1' if params['all'] else '0'}
    if filters:
        query['filters'] = json.dumps(filters)
    containers = docker.get('/containers/json', params=query) or []
    pm.exit(changed=False, containers=containers)


def main():
    pm = PortainerModule(
        argument_spec=dict(
            endpoint=dict(type='str', required=True),
            name=dict(type='str'),
            all=dict(type='bool', default=False),
            filters=dict(type='dict'),
        ),
        mutually_exclusive=[('name', 'filters')],
        supports_check_mode=True,
    )
    pm.run(run)


if __name__ == '__main__':
    main()
