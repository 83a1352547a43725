#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) pier.portainer contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: portainer_system_info
short_description: Read Portainer's version and check the credentials
version_added: 0.1.0
description:
  - Returns the version and instance id of a Portainer server and the user the credentials log in as.
  - A quick way to check that O(portainer_url) and the credentials work before other tasks run.
author:
  - pier.portainer maintainers (@pier-portainer)
extends_documentation_fragment:
  - pier.portainer._portainer
  - pier.portainer._attributes
  - pier.portainer._attributes.actiongroup_portainer
  - pier.portainer._attributes.info_module
options: {}
'''

EXAMPLES = r'''
---
- name: Check the connection to Portainer
  pier.portainer.portainer_system_info:
    portainer_url: https://portainer.example.com:9443
    portainer_api_key: "{{ vault_portainer_api_key }}"
  register: portainer

- name: Fail early on an old Portainer
  ansible.builtin.assert:
    that:
      - portainer.version is ansible.builtin.version('2.19.0', '>=')
    fail_msg: "This play needs Portainer 2.19 or later, {{ portainer.portainer_url }} runs {{ portainer.version }}"
'''

RETURN = r'''
version:
  description: The version of Portainer, as its status route reports it.
  returned: success
  type: str
  sample: 2.23.0
instance_id:
  description: The instance id of the Portainer server (Portainer 2.9 and later).
  returned: success
  type: str
  sample: 299ab403-70a8-4c05-92f7-bf7a994d50df
portainer_url:
  description: The base URL the module used, without C(/api).
  returned: success
  type: str
  sample: https://portainer.example.com:9443
auth_method:
  description: How the module logged in.
  returned: success
  type: str
  sample: api_key
  choices:
    - api_key
    - password
user:
  description: The user the credentials belong to.
  returned: success
  type: dict
  contains:
    id:
      description: The user's id.
      type: int
      sample: 1
    username:
      description: The user's name.
      type: str
      sample: admin
    role:
      description: The user's role, V(administrator) or V(user).
      type: str
      sample: administrator
'''

from ansible_collections.pier.portainer.plugins.module_utils._module import PortainerModule

ROLES = {1: 'administrator', 2: 'user'}


def run(pm):
    client = pm.client
    status = client.status()
    me = client.me() or {}
    pm.exit(
        changed=False,
        version=str(status.get('Version')),
        instance_id=status.get('InstanceID'),
        portainer_url=client.base_url,
        auth_method=client.auth_mode,
        user=dict(id=me.get('Id'), username=me.get('Username'), role=ROLES.get(me.get('Role'), str(me.get('Role')))),
    )


def main():
    pm = PortainerModule(argument_spec={}, supports_check_mode=True)
    pm.run(run)


if __name__ == '__main__':
    main()
