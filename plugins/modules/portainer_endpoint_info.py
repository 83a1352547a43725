#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) pier.portainer contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: portainer_endpoint_info
short_description: List Portainer environments (endpoints), with their swarm facts on request
version_added: 0.1.0
description:
  - Returns Portainer's environments, all of them or those matching a name, a type, a group and tags.
  - The filters are Portainer's own (C(GET /api/endpoints) with C(name), C(types[]), C(groupIds[]) and C(tagIds[])),
    applied again by the module for Portainer versions that ignore some of them.
  - With O(swarm=true), also asks each Docker environment, through Portainer's Docker proxy, whether its engine is a
    swarm manager and what the swarm's id is, which is what swarm stacks need.
  - Also available as C(pier.portainer.portainer_environment_info).
author:
  - pier.portainer maintainers (@pier-portainer)
extends_documentation_fragment:
  - pier.portainer._portainer
  - pier.portainer._attributes
  - pier.portainer._attributes.actiongroup_portainer
  - pier.portainer._attributes.info_module
options:
  name:
    description:
      - Only the environment with this exact, case-sensitive name. The result then also has RV(exists).
    type: str
  type:
    description:
      - Only environments of this kind. V(agent) and V(edge_agent) include their Kubernetes variants.
    type: str
    choices: [docker, agent, edge_agent]
  group:
    description:
      - Only environments in this group, by name or numeric id. Portainer does not keep group names unique; a name
        matches every group of that name. An unknown group matches nothing.
    type: str
  tags:
    description:
      - Only environments that have all these tags (by name), on the environment itself or on its group, as Portainer
        filters them. An unknown tag matches nothing.
    type: list
    elements: str
  swarm:
    description:
      - Add RV(endpoints[].swarm) to each Docker or agent environment, read from the engine's C(GET /info) through
        Portainer's Docker proxy (one request per environment). An engine that cannot be reached gets V(null) and a warning.
    type: bool
    default: false
seealso:
  - module: pier.portainer.portainer_endpoint
'''

EXAMPLES = r'''
---
- name: List every environment
  pier.portainer.portainer_endpoint_info:
    portainer_url: https://portainer.example.com:9443
    portainer_api_key: "{{ vault_portainer_api_key }}"
  register: all_environments

- name: Find one environment and its swarm
  pier.portainer.portainer_endpoint_info:
    portainer_url: https://portainer.example.com:9443
    portainer_api_key: "{{ vault_portainer_api_key }}"
    name: local
    swarm: true
  register: local

- name: Show what a swarm stack needs
  ansible.builtin.debug:
    msg: "environment {{ local.endpoints[0].Id }}, swarm {{ local.endpoints[0].swarm.id }}"
  when: local.exists and local.endpoints[0].swarm.manager

- name: List the Docker environments of the production group tagged web
  pier.portainer.portainer_endpoint_info:
    portainer_url: https://portainer.example.com:9443
    portainer_api_key: "{{ vault_portainer_api_key }}"
    type: docker
    group: production
    tags:
      - web
  register: web_hosts
'''

RETURN = r'''
exists:
  description: Whether the environment named O(name) exists.
  returned: when O(name) is set
  type: bool
  sample: true
endpoints:
  description:
    - The matching environments as Portainer returns them, sorted by id, without snapshots and without the Azure
      authentication key.
  returned: always
  type: list
  elements: dict
  sample:
    - Id: 1
      Name: local
      Type: 1
      URL: unix:///var/run/docker.sock
      PublicURL: ""
      GroupId: 1
      TagIds: []
      Status: 1
      TLSConfig: {TLS: false, TLSSkipVerify: false}
      swarm: {state: active, manager: true, id: k427pd86wfkgp40ksrmbojrwq, node_id: wwuha544cna9ei9q3mz7in270}
  contains:
    Id:
      description: The id of the environment, used by the Docker proxy and stack routes.
      type: int
      sample: 1
    Name:
      description: The name of the environment.
      type: str
      sample: local
    Type:
      description: Portainer's type number, 1 Docker, 2 agent, 4 Edge agent (6 and 7 for Kubernetes agents).
      type: int
      sample: 1
    URL:
      description: The address Portainer reaches the engine or agent at.
      type: str
      sample: unix:///var/run/docker.sock
    GroupId:
      description: The id of the environment group.
      type: int
      sample: 1
    TagIds:
      description: The ids of the environment's tags.
      type: list
      elements: int
      sample: [2]
    Status:
      description: 1 when Portainer reached the environment at its last check, 2 when it did not.
      type: int
      sample: 1
    TLSConfig:
      description: The TLS flags and the paths of the stored certificate files.
      type: dict
      sample: {TLS: false, TLSSkipVerify: false}
    swarm:
      description: The engine's swarm facts; null for Edge environments and unreachable engines.
      returned: when O(swarm=true)
      type: dict
      contains:
        state:
          description: Docker's C(LocalNodeState), V(inactive) when the engine is in no swarm.
          type: str
          sample: active
        manager:
          description: Whether the engine is a swarm manager (swarm stacks can be deployed to it).
          type: bool
          sample: true
        id:
          description: The swarm's id (C(SwarmID) of swarm stacks); null unless the engine is a manager.
          type: str
          sample: k427pd86wfkgp40ksrmbojrwq
        node_id:
          description: The engine's node id in the swarm.
          type: str
          sample: wwuha544cna9ei9q3mz7in270
'''

from ansible_collections.pier.portainer.plugins.module_utils._api import PortainerError
from ansible_collections.pier.portainer.plugins.module_utils._endpoint import (
    Lookups,
    list_params,
    matches,
    sanitize,
    swarm_facts,
)
from ansible_collections.pier.portainer.plugins.module_utils._module import PortainerModule


def resolve_filters(pm, lookups):
    """(group_ids, tag_ids, nothing): ``nothing`` is True when a filter names no existing group or tag."""
    params = pm.params
    group_ids = None
    if params.get('group') is not None:
        ref = str(params['group']).strip()
        if ref.isdigit():
            group_ids = [int(ref)]
        else:
            group_ids = [g.get('Id') for g in lookups.groups() if g.get('Name') == ref]
            if not group_ids:
                return None, None, True
    tag_ids = []
    if params.get('tags'):
        tag_ids = lookups.tag_ids(params['tags'], create=False)
        if None in tag_ids:
            return None, None, True
    return group_ids, tag_ids, False


def run(pm):
    params = pm.params
    client = pm.client
    if params.get('name') is not None and not params['name'].strip():
        pm.fail('name is empty: give the exact name of an environment, or leave name out to list all')
    if params.get('group') is not None and not str(params['group']).strip():
        pm.fail('group is empty: give the name or the numeric id of an environment group, or leave it out')
    if any(t is None or not str(t).strip() for t in params.get('tags') or []):
        pm.fail('tags contains an empty name: give tag names only')
    lookups = Lookups(client, check_mode=True)
    group_ids, tag_ids, nothing = resolve_filters(pm, lookups)
    if nothing:
        found = []
    else:
        found = client.get('/api/endpoints', params=list_params(params.get('name'), params.get('type'), group_ids, tag_ids)) or []
        group_tags = None
        if tag_ids:
            group_tags = dict((g.get('Id'), g.get('TagIds') or []) for g in lookups.groups())
        found = [e for e in found if isinstance(e, dict)
                 and matches(e, params.get('name'), params.get('type'), group_ids, tag_ids, group_tags)]
    endpoints = [sanitize(e) for e in sorted(found, key=lambda e: e.get('Id') or 0)]
    if params['swarm']:
        for endpoint in endpoints:
            endpoint['swarm'] = None
            if endpoint.get('Type') not in (1, 2):
                continue
            try:
                info = client.docker_json(endpoint['Id'], 'GET', '/info')
            except PortainerError as exc:
                pm.warn('Could not read the swarm facts of the environment %r: %s' % (endpoint.get('Name'), exc))
                continue
            endpoint['swarm'] = swarm_facts(info if isinstance(info, dict) else {})
    result = dict(changed=False, endpoints=endpoints)
    if params.get('name') is not None:
        result['exists'] = bool(endpoints)
    pm.exit(**result)


def main():
    argument_spec = dict(
        name=dict(type='str'),
        type=dict(type='str', choices=['docker', 'agent', 'edge_agent']),
        group=dict(type='str'),
        tags=dict(type='list', elements='str'),
        swarm=dict(type='bool', default=False),
    )
    pm = PortainerModule(argument_spec=argument_spec, supports_check_mode=True)
    pm.run(run)


if __name__ == '__main__':
    main()
