#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) pier.portainer contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: portainer_admin
short_description: Initialise the administrator of a new Portainer
version_added: 0.1.0
description:
  - Creates the first administrator of a Portainer that has none yet (C(GET /api/users/admin/check), then
    C(POST /api/users/admin/init)), the step that has to happen before any credential exists.
  - On a Portainer that already has an administrator the module changes nothing, and by default checks that
    O(username) and O(password) log in, so a play can rely on them afterwards.
  - Needs only O(portainer_url). The module never uses O(portainer_api_key), O(portainer_username) or
    O(portainer_password); when they are set (for example through C(module_defaults)) they are ignored. The
    administrator's name and password are the module's own options O(username) and O(password); use the same
    values as O(portainer_username) and O(portainer_password) in the tasks that follow.
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
      - Reads whether an administrator exists and the password rules, and predicts the change without creating
        anything. With O(verify=true) the login that checks the credentials of an existing administrator is also
        made in check mode (a login changes nothing).
  diff_mode:
    support: full
    details:
      - The diff shows whether an administrator exists, and the name of the one created.
  idempotent:
    support: full
options:
  username:
    description:
      - The name of the administrator to create, or of the existing administrator to check.
      - Portainer refuses names that contain whitespace.
    type: str
    default: admin
  password:
    description:
      - The password of the administrator.
      - Portainer 2.14 and later want at least C(RequiredPasswordLength) characters (12 unless changed in the
        settings); the module reads that length from C(GET /api/settings/public) and refuses a shorter password
        before sending it, in check mode too.
    type: str
    required: true
  verify:
    description:
      - When Portainer already has an administrator, log in with O(username) and O(password) to check that they
        work, and fail when they do not.
      - Each check is one login; Portainer bans an address for one hour after a burst of more than 10 logins.
        Set V(false) to only check that an administrator exists.
    type: bool
    default: true
notes:
  - Portainer 2.13 and later stop accepting the initialisation 5 minutes after their first start without an
    administrator; the module then fails and says so. Restart Portainer and run the task again.
  - The module never returns the password hash that Portainer sends back.
seealso:
  - module: pier.portainer.portainer_api_token
    description: Create an API key for the administrator once it exists.
'''

EXAMPLES = r'''
---
- name: Initialise the administrator of a new Portainer
  pier.portainer.portainer_admin:
    portainer_url: https://portainer.example.com:9443
    username: admin
    password: "{{ vault_portainer_admin_password }}"
  register: admin

- name: Show what happened
  ansible.builtin.debug:
    msg: "{{ admin.msg }}"

- name: Only check that an administrator exists, without logging in
  pier.portainer.portainer_admin:
    portainer_url: https://portainer.example.com:9443
    password: "{{ vault_portainer_admin_password }}"
    verify: false
'''

RETURN = r'''
initialized:
  description: Whether this task created the administrator (in check mode, whether it would).
  returned: success
  type: bool
  sample: true
verified:
  description: Whether O(username) and O(password) were checked by logging in (an administrator already existed and O(verify=true)).
  returned: success
  type: bool
  sample: false
user:
  description:
    - The administrator created, or the user the credentials logged in as when they were checked; V(null) when
      neither happened. Never contains the password or its hash.
    - In check mode the id of an administrator that would be created is V(null).
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
msg:
  description: What the module found and did.
  returned: success
  type: str
  sample: Portainer already has an administrator; username and password log in as admin (administrator)
'''

from ansible_collections.pier.portainer.plugins.module_utils._admin import run
from ansible_collections.pier.portainer.plugins.module_utils._module import PortainerModule


def main():
    pm = PortainerModule(
        argument_spec=dict(
            username=dict(type='str', default='admin'),
            password=dict(type='str', required=True, no_log=True),
            verify=dict(type='bool', default=True),
        ),
        auth_required=False,
        supports_check_mode=True,
    )
    pm.run(run)


if __name__ == '__main__':
    main()
