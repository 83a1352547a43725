#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) pier.portainer contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: portainer_stack_info
short_description: List Portainer stacks, or read one by name
version_added: 0.1.0
description:
  - Returns the swarm and compose stacks of one Portainer environment, or of all environments, filtered by name and type,
    optionally with the content of their stack file.
  - Portainer's list filter returns the swarm stacks of an environment only when it is also given the swarm id; the module
    looks the swarm id up through the Docker proxy, so the swarm stacks of the environment are listed too.
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
      - The environment, by name (exact, case-sensitive) or numeric id. Not set lists the stacks of every environment,
        including stacks whose environment was deleted.
    type: str
  name:
    description:
      - Only the stack of this name (compared as Portainer stores names, lower-cased). RV(exists) then tells whether it
        was found.
    type: str
  type:
    description:
      - Only stacks of this type.
    type: str
    choices: [swarm, standalone]
  include_file:
    description:
      - Also read each stack's file (C(GET /api/stacks/{id}/file)), one request per stack, into C(StackFileContent).
    type: bool
    default: false
seealso:
  - module: pier.portainer.portainer_stack
'''

EXAMPLES = r'''
---
- name: List the stacks of an environment
  pier.portainer.portainer_stack_info:
    endpoint: local
  register: stacks

- name: Show their names
  ansible.builtin.debug:
    msg: "{{ stacks.stacks | map(attribute='Name') | list }}"

- name: Read one stack with its file
  pier.portainer.portainer_stack_info:
    endpoint: local
    name: web
    include_file: true
  register: web

- name: Show the file when the stack exists
  ansible.builtin.debug:
    msg: "{{ web.stacks[0].StackFileContent }}"
  when: web.exists
'''

RETURN = r'''
exists:
  description: Whether the stack named O(name) was found.
  returned: when O(name) is set
  type: bool
  sample: true
stacks:
  description:
    - The stacks found, sorted by id. Git credentials are removed, and the values of variables whose names look secret
      (containing C(pass), C(secret), C(token), C(credential), C(private), C(auth), C(api_key) or C(access_key)) are masked.
  returned: always
  type: list
  elements: dict
  contains:
    Id:
      description: The stack's id.
      type: int
      sample: 12
    Name:
      description: The stack's name.
      type: str
      sample: web
    Type:
      description: 1 swarm, 2 standalone compose, 3 Kubernetes.
      type: int
      sample: 1
    type_name:
      description: The type as a word.
      type: str
      sample: swarm
    EndpointId:
      description: The id of the environment.
      type: int
      sample: 3
    SwarmId:
      description: The swarm cluster id (swarm stacks).
      type: str
      sample: vhqelh9b4emwsogfw5bisq0ku
    Status:
      description: 1 active, 2 inactive.
      type: int
      sample: 1
    status_name:
      description: The status as a word.
      type: str
      sample: active
    EntryPoint:
      description: The compose file inside the stack's project.
      type: str
      sample: docker-compose.yml
    Env:
      description: The stack's variables as Portainer stores them (secret-looking values masked).
      type: list
      elements: dict
      sample: [{name: GREETING, value: hello}]
    GitConfig:
      description: The repository of a git stack (without credentials), or null.
      type: dict
      sample: {URL: "https://git.example.com/ops/shop.git", ReferenceName: refs/heads/main, ConfigFilePath: docker-compose.yml,
               ConfigHash: 5e1f0c4c2b7e9b1c3b0f3f4cbd0d5ad0c7f4b0a1, TLSSkipVerify: false, Authenticated: true}
    AutoUpdate:
      description: The automatic update settings, or null.
      type: dict
      sample: null
    Option:
      description: The stack options (C(Prune)), or null.
      type: dict
      sample: {Prune: false}
    StackFileContent:
      description: The stack file.
      returned: when O(include_file=true)
      type: str
      sample: "services:\n  web:\n    image: nginx:1.27\n"
'''

from ansible_collections.pier.portainer.plugins.module_utils._module import PortainerModule
from ansible_collections.pier.portainer.plugins.module_utils._stack import (
    TYPE_IDS,
    environment_swarm,
    info_view,
    list_stacks,
    normalize_name,
    stack_file,
)


def run(pm):
    client = pm.client
    params = pm.params
    if params.get('name') is not None and not params['name'].strip():
        pm.fail('name is empty: give the name of a stack, or leave name out to list every stack')
    if params.get('endpoint') is not None and not params['endpoint'].strip():
        pm.fail('endpoint is empty: give the name or the numeric id of a Portainer environment, or leave it out for every environment')
    if params.get('endpoint') is not None:
        # A Kubernetes environment has no Docker stacks: the list is empty.
        endpoint_id, swarm_id, dummy = environment_swarm(client, params['endpoint'])
        stacks = list_stacks(client, endpoint_id, swarm_id)
    else:
        stacks = list_stacks(client)
    if params.get('name') is not None:
        wanted = normalize_name(params['name'])
        stacks = [s for s in stacks if str(s.get('Name', '')).lower() == wanted]
    if params.get('type'):
        stacks = [s for s in stacks if s.get('Type') == TYPE_IDS[params['type']]]
    stacks.sort(key=lambda s: s.get('Id') or 0)
    views = []
    for stack in stacks:
        view = info_view(stack)
        if params['include_file']:
            view['StackFileContent'] = stack_file(client, stack['Id'])
        views.append(view)
    result = dict(changed=False, stacks=views)
    if params.get('name') is not None:
        result['exists'] = bool(views)
    pm.exit(**result)


def main():
    pm = PortainerModule(
        argument_spec=dict(
            endpoint=dict(type='str'),
            name=dict(type='str'),
            type=dict(type='str', choices=['swarm', 'standalone']),
            include_file=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    pm.run(run)


if __name__ == '__main__':
    main()
