#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) pier.portainer contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: portainer_stack
short_description: Deploy, update, start, stop and remove Portainer stacks (swarm and compose)
version_added: 0.1.0
description:
  - Manages a Docker swarm stack or a standalone compose stack of a Portainer environment, from a compose document
    (O(definition)), a file on the host that runs the module (O(compose_file)), or a git repository (O(repository_url)).
  - V(changed) means something changed. The stored stack file (C(GET /api/stacks/{id}/file)) is compared with the
    desired content, and the variables, O(prune) and the git settings with what the task sets. A git stack whose remote
    reference has moved since its last deploy is redeployed; one whose remote has not moved is not.
  - A stack of the same name on the environment is adopted and converged, never duplicated.
  - Git stacks are only changed through Portainer's git routes; the plain update would detach them from git.
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
      - Only reads are sent, and the remote git reference is read. V(changed), RV(actions) and the diff are predicted.
  diff_mode:
    support: full
    details:
      - For O(definition) and O(compose_file) the diff is a list of two entries, the stack file (a unified diff) and the
        settings; otherwise it is one before/after of the settings. Values of secret variables are masked.
  idempotent:
    support: partial
    details:
      - O(force_redeploy=true) redeploys on every run and always reports a change.
options:
  endpoint:
    description:
      - The environment (Portainer endpoint) of the stack, by name (exact, case-sensitive) or numeric id.
    type: str
    required: true
  name:
    description:
      - The name of the stack; its identity on the environment.
      - Portainer lower-cases stack names and removes every character outside C([-_a-z0-9]). A name it would change is
        refused, with the name it would become, so that the stack is always found again under the name given.
    type: str
    required: true
  state:
    description:
      - V(present) deploys the stack when missing and converges it when it differs. An update redeploys, which also
        starts a stopped stack.
      - V(started) is V(present) and running; V(stopped) is V(present) and stopped (a missing stack is created and then
        stopped; a stack that needs an update is updated, which deploys it, and then stopped).
      - With V(started) and V(stopped) a source is only needed to create the stack.
      - V(absent) removes the stack (C(docker stack rm) or C(docker compose down); volumes are kept).
    type: str
    choices: [present, absent, started, stopped]
    default: present
  type:
    description:
      - V(swarm) for a swarm stack, V(standalone) for a compose stack.
      - V(auto) takes the type of the existing stack, and for a new one V(swarm) when the environment's engine is a swarm
        manager, else V(standalone). The swarm id is looked up through the Docker proxy.
    type: str
    choices: [auto, swarm, standalone]
    default: auto
  definition:
    description:
      - The compose document, as a YAML string or as a mapping (so templates and variables work).
      - A string is compared with the stored file with line endings, trailing spaces and final blank lines normalised; a
        mapping is compared with the stored file parsed as YAML (so comments and key order do not matter).
      - Mutually exclusive with O(compose_file) and O(repository_url).
    type: raw
  compose_file:
    description:
      - The path of a compose file on the host that runs the module (usually the controller). Its text is compared like
        a string O(definition).
    type: path
  repository_url:
    description:
      - The http(s) URL of a git repository holding the compose file. Portainer clones it.
      - Cannot be changed on an existing stack (Portainer has no route for it); remove the stack first.
    type: str
  repository_ref:
    description:
      - The reference to deploy, for example V(refs/heads/main) or V(refs/tags/v1.2). A bare name is a branch
        (V(main) means V(refs/heads/main)). Not set keeps the current reference of an existing stack, and uses the
        remote's default branch for a new one.
      - Changing it redeploys the stack from the new reference.
    type: str
  compose_path:
    description:
      - The path of the compose file inside the repository (Portainer's C(ComposeFile)), always sent at creation.
      - Not set means V(docker-compose.yml) for a new stack, and whatever an existing stack uses. Fixed at creation.
    type: str
  additional_files:
    description:
      - More compose files of the repository, applied after O(compose_path). Fixed at creation.
    type: list
    elements: str
  repository_username:
    description:
      - The user for a repository that needs basic authentication.
    type: str
  repository_password:
    description:
      - The password or token of O(repository_username). Portainer never returns it, so a changed password alone is not
        detected; it is sent with every git change and redeploy.
    type: str
  repository_tls_skip_verify:
    description:
      - Skip the TLS verification of the repository's certificate (Portainer's and the module's remote check).
    type: bool
  repository_remote_check:
    description:
      - Read the commit of the remote reference from the host that runs the module (like C(git ls-remote), over HTTP
        with the credentials only in the request's Authorization header) and redeploy when it differs from the commit
        Portainer deployed last.
      - Set V(false) when only Portainer can reach the repository; the stack is then redeployed only when its settings
        change or with O(force_redeploy).
    type: bool
    default: true
  auto_update:
    description:
      - Portainer's automatic updates of a git stack. Not set leaves them as they are; a mapping with neither
        O(auto_update.interval) nor O(auto_update.webhook) turns them off.
    type: dict
    suboptions:
      interval:
        description: How often Portainer polls the repository, as a Go duration (V(5m), V(1h30m)).
        type: str
      webhook:
        description: A UUID; Portainer then redeploys on C(POST /api/stacks/webhooks/<uuid>).
        type: str
      force_update:
        description: Redeploy even when the commit has not changed.
        type: bool
        default: false
      force_pull_image:
        description: Pull the images on each automatic update.
        type: bool
        default: false
  env:
    description:
      - Stack variables, used by the compose file as C(${NAME}). Values are strings; booleans become V(true)/V(false).
      - Compared as a set of names and values, not by order. Not set leaves the stack's variables as they are.
    type: dict
  env_mode:
    description:
      - V(replace) makes the stack's variables exactly O(env); V(merge) sets O(env) and keeps the variables set
        elsewhere (in the Portainer UI, for example).
    type: str
    choices: [replace, merge]
    default: replace
  env_secrets:
    description:
      - Names of variables whose values are masked in the diff. Names containing C(pass), C(secret), C(token),
        C(credential), C(private), C(auth), C(api_key) or C(access_key) (any case) are always masked.
      - Set C(no_log) on the task as well when O(env) holds secrets.
    type: list
    elements: str
    default: []
  prune:
    description:
      - Remove services that are no longer in the compose file when a swarm stack is redeployed. Stored in the stack and
        compared; ignored, with a warning, for standalone stacks.
    type: bool
  pull:
    description:
      - Pull the images again when the stack is deployed by this task (Portainer's C(PullImage)). Not compared.
    type: bool
    default: false
  force_redeploy:
    description:
      - Redeploy the stack even when nothing changed, for mutable image tags such as C(latest). Not idempotent.
    type: bool
    default: false
  wait:
    description:
      - After a deploy, wait until the stack's services (swarm) or containers (compose) run, checked through the Docker
        proxy, and fail with the state and error of the service or container that does not. After a removal or a stop,
        wait until Docker has nothing of the stack left.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait with O(wait).
    type: int
    default: 120
notes:
  - Every request that names a stack sends C(endpointId), as Portainer needs.
  - Portainer 2.19 and later is created through C(POST /api/stacks/create/{swarm|standalone}/{string|file|repository});
    older versions through the legacy C(POST /api/stacks).
  - Swarm stacks of an engine without IPVS cannot use the routing mesh; publish ports with C(mode=host) there.
seealso:
  - module: pier.portainer.portainer_stack_info
'''

EXAMPLES = r'''
---
- name: Deploy a swarm stack from a mapping
  pier.portainer.portainer_stack:
    endpoint: local
    name: web
    definition:
      version: "3.8"
      services:
        web:
          image: nginx:1.27
          ports:
            - target: 80
              published: 8080
              mode: host
          environment:
            GREETING: "${GREETING}"
    env:
      GREETING: hello
    prune: true

- name: Deploy a compose stack from a file of the controller
  pier.portainer.portainer_stack:
    endpoint: local
    name: app
    type: standalone
    compose_file: files/app/docker-compose.yml
    env:
      DB_PASSWORD: "{{ vault_db_password }}"
    env_mode: merge
  no_log: true

- name: Deploy from a private git repository, following its branch
  pier.portainer.portainer_stack:
    endpoint: local
    name: shop
    repository_url: https://git.example.com/ops/shop.git
    repository_ref: main
    compose_path: deploy/docker-stack.yml
    repository_username: deploy
    repository_password: "{{ vault_git_token }}"

- name: Stop a stack
  pier.portainer.portainer_stack:
    endpoint: local
    name: shop
    state: stopped

- name: Remove a stack
  pier.portainer.portainer_stack:
    endpoint: local
    name: app
    state: absent
'''

RETURN = r'''
actions:
  description: What the task did (or would do in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: [update]
  choices: [create, update, git_settings, git_redeploy, start, stop, delete]
stack:
  description:
    - The stack after the task, as Portainer returned it, without credentials and without the values of its variables.
    - Empty after a removal. In check mode the predicted stack (with C(Id) null for a stack to be created).
  returned: always
  type: dict
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
      description: 1 for swarm, 2 for standalone compose.
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
      description: The swarm cluster id (swarm stacks), else empty.
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
      description: The compose file of the stack inside its project.
      type: str
      sample: docker-compose.yml
    AdditionalFiles:
      description: Further compose files (git stacks).
      type: list
      elements: str
      sample: []
    AutoUpdate:
      description: The automatic update settings of a git stack, or null.
      type: dict
      sample: {Interval: 5m, Webhook: "", ForceUpdate: false, ForcePullImage: false}
    Option:
      description: The stack options, C(Prune) for swarm stacks.
      type: dict
      sample: {Prune: true}
    GitConfig:
      description: The repository of a git stack (without credentials; C(Authenticated) tells whether it has some), or null.
      type: dict
      sample: {URL: "https://git.example.com/ops/shop.git", ReferenceName: refs/heads/main, ConfigFilePath: docker-compose.yml,
               ConfigHash: 5e1f0c4c2b7e9b1c3b0f3f4cbd0d5ad0c7f4b0a1, TLSSkipVerify: false, Authenticated: true}
    env_names:
      description: The names of the stack's variables.
      type: list
      elements: str
      sample: [GREETING]
'''

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.pier.portainer.plugins.module_utils._module import PortainerModule
from ansible_collections.pier.portainer.plugins.module_utils._stack import HAS_YAML, YAML_IMPORT_ERROR, StackTask

ARGUMENT_SPEC = dict(
    endpoint=dict(type='str', required=True),
    name=dict(type='str', required=True),
    state=dict(type='str', default='present', choices=['present', 'absent', 'started', 'stopped']),
    type=dict(type='str', default='auto', choices=['auto', 'swarm', 'standalone']),
    definition=dict(type='raw'),
    compose_file=dict(type='path'),
    repository_url=dict(type='str'),
    repository_ref=dict(type='str'),
    compose_path=dict(type='str'),
    additional_files=dict(type='list', elements='str'),
    repository_username=dict(type='str'),
    repository_password=dict(type='str', no_log=True),
    repository_tls_skip_verify=dict(type='bool'),
    repository_remote_check=dict(type='bool', default=True),
    auto_update=dict(type='dict', options=dict(
        interval=dict(type='str'),
        webhook=dict(type='str'),
        force_update=dict(type='bool', default=False),
        force_pull_image=dict(type='bool', default=False),
    )),
    env=dict(type='dict'),
    env_mode=dict(type='str', default='replace', choices=['replace', 'merge']),
    env_secrets=dict(type='list', elements='str', default=[], no_log=False),
    prune=dict(type='bool'),
    pull=dict(type='bool', default=False),
    force_redeploy=dict(type='bool', default=False),
    wait=dict(type='bool', default=True),
    wait_timeout=dict(type='int', default=120),
)


def run(pm):
    if not HAS_YAML:
        pm.fail(missing_required_lib('PyYAML'), exception=YAML_IMPORT_ERROR)
    params = pm.params
    # Keep the repository password out of every message, like the client's own secrets.
    pm.client.add_secret(params.get('repository_password'))
    task = StackTask(pm)
    result = task.run()
    for warning in task.warnings:
        pm.warn(warning)
    pm.exit(**result)


def main():
    pm = PortainerModule(
        argument_spec=ARGUMENT_SPEC,
        mutually_exclusive=[('definition', 'compose_file', 'repository_url')],
        supports_check_mode=True,
    )
    pm.run(run)


if __name__ == '__main__':
    main()
