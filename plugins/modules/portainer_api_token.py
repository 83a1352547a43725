#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) pier.portainer contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: portainer_api_token
short_description: Create, rotate and delete Portainer API keys
version_added: 0.1.0
description:
  - Manages the API keys (access tokens, C(ptr_...)) of a Portainer user, identified by their description
    (Portainer 2.11 and later).
  - Creating a key returns the raw key once, in RV(token); Portainer keeps only its hash, so it can never be
    read again. Store it at once, for example in a vault, and keep it out of logs with C(no_log).
  - An existing key with the same description is left alone (V(ok)), and RV(token) is then not returned.
author:
  - pier.portainer maintainers (@pier-portainer)
extends_documentation_fragment:
  - pier.portainer._portainer
  - pier.portainer._attributes
  - pier.portainer._attributes.actiongroup_portainer
attributes:
  check_mode:
    support: full
    details:
      - Lists the user's keys and predicts the change; creates and deletes nothing. No RV(token) is returned.
  diff_mode:
    support: full
    details:
      - The diff shows whether keys with the description exist, and their ids.
  idempotent:
    support: partial
    details:
      - Idempotent unless O(rotate=true), which replaces the key on every run.
options:
  description:
    description:
      - The description that identifies the key among the user's keys (exact match).
      - Portainer accepts at most 127 characters.
    type: str
    required: true
  state:
    description:
      - V(present) creates a key with this description when the user has none.
      - V(absent) deletes every key of the user with this description.
    type: str
    choices: [present, absent]
    default: present
  rotate:
    description:
      - With O(state=present), delete the keys with this description and create a new one, on every run (not
        idempotent). The old keys stop working at once.
      - The old keys are deleted before the new one is created, so that the only copy of the new key is never
        lost to a failure after its creation; a run that fails in between creates the key on the next run.
    type: bool
    default: false
  user:
    description:
      - The user whose keys are managed, by name or numeric id. Default is the user the credentials log in as.
      - Portainer lets users create keys only for themselves, so creating a key for another user fails. An
        administrator may list and delete the keys of standard users (O(state=absent)).
    type: str
notes:
  - Creating a key needs O(portainer_username) and O(portainer_password). Portainer refuses the creation when the
    request is authenticated with an API key, and Portainer 2.20 and later also check the user's password again
    (the module sends O(portainer_password)). Listing and deleting keys work with O(portainer_api_key) too.
  - Key creation counts against the same rate limit as logins (more than 10 in a burst from one address bans it
    for one hour).
seealso:
  - module: pier.portainer.portainer_admin
    description: Initialise the administrator first.
'''

EXAMPLES = r'''
---
- name: Create an API key for the deployment jobs
  pier.portainer.portainer_api_token:
    portainer_url: https://portainer.example.com:9443
    portainer_username: admin
    portainer_password: "{{ vault_portainer_admin_password }}"
    description: ansible-deploy
  register: deploy_key
  no_log: true

- name: Keep the new key (returned only when the task created it)
  ansible.builtin.copy:
    content: "{{ deploy_key.token }}"
    dest: "{{ lookup('ansible.builtin.env', 'HOME') }}/.portainer-deploy-key"
    mode: "0600"
  when: deploy_key.token is defined
  no_log: true

- name: Replace the key by a new one
  pier.portainer.portainer_api_token:
    portainer_url: https://portainer.example.com:9443
    portainer_username: admin
    portainer_password: "{{ vault_portainer_admin_password }}"
    description: ansible-deploy
    rotate: true
  register: rotated
  no_log: true

- name: Delete the key, authenticated with the key itself (an API key is enough for that)
  pier.portainer.portainer_api_token:
    portainer_url: https://portainer.example.com:9443
    portainer_api_key: "{{ rotated.token }}"
    description: ansible-deploy
    state: absent
'''

RETURN = r'''
token:
  description:
    - The raw API key, to send as O(portainer_api_key). B(Secret); register the task with C(no_log).
    - Returned only when the task created a key; Portainer never shows it again.
  returned: when a key was created
  type: str
  sample: ptr_p3SfUx5kM6Wbe2Jc5d3OX2dQbJ8+ALvSzcqrP5SVvjI=
api_key:
  description:
    - The key with the description (the one created, or the newest existing one); V(null) when there is none.
    - In check mode, V(null) when the key would be created.
  returned: success
  type: dict
  contains:
    id:
      description: The key's id.
      type: int
      sample: 3
    user_id:
      description: The id of the user the key belongs to.
      type: int
      sample: 1
    description:
      description: The key's description.
      type: str
      sample: ansible-deploy
    prefix:
      description: The first characters of the raw key, to recognise it.
      type: str
      sample: ptr_p3S
    date_created:
      description: When the key was created, in seconds since the epoch.
      type: int
      sample: 1732650000
    last_used:
      description: When the key was last used, in seconds since the epoch (0 when never); updated at most once a minute.
      type: int
      sample: 0
deleted:
  description: The keys deleted (or, in check mode, that would be), with the fields of RV(api_key).
  returned: success
  type: list
  elements: dict
  sample: [{"id": 2, "user_id": 1, "description": "ansible-deploy", "prefix": "ptr_Xy1", "date_created": 1732640000, "last_used": 0}]
user:
  description: The user whose keys were managed.
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
msg:
  description: What the module did.
  returned: success
  type: str
  sample: Created an API key for user admin with description 'ansible-deploy'
'''

from ansible_collections.pier.portainer.plugins.module_utils._module import PortainerModule
from ansible_collections.pier.portainer.plugins.module_utils._token import run


def main():
    pm = PortainerModule(
        argument_spec=dict(
            description=dict(type='str', required=True),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            rotate=dict(type='bool', default=False),
            user=dict(type='str'),
        ),
        supports_check_mode=True,
    )
    pm.run(run)


if __name__ == '__main__':
    main()
