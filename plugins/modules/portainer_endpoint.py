#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) pier.portainer contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: portainer_endpoint
short_description: Manage Portainer environments (endpoints) by name
version_added: 0.1.0
description:
  - Creates, updates and deletes Portainer environments (Portainer's API calls them endpoints), identified by their
    name. They can be Docker engines reached over a socket or TCP (with or without TLS), Portainer agents and Edge agents.
  - Creates with Portainer's multipart form (C(POST /api/endpoints)), updates only the fields that differ with its JSON
    update (C(PUT /api/endpoints/{id})), deletes with C(DELETE /api/endpoints/{id}).
  - Only the options you set are compared and managed; the others keep whatever value Portainer holds.
  - Every option is checked before the first request, TLS files included (they must exist and hold PEM data).
  - Also available as C(pier.portainer.portainer_environment), Portainer's current name for endpoints.
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
      - Sends only reads; missing tags and groups are not created, and the result predicts the environment.
  diff_mode:
    support: full
    details:
      - Shows the managed fields before and after, with groups and tags as you named them.
  idempotent:
    support: partial
    details:
      - Idempotent except with O(tls_replace_files=true), which uploads the certificate files on every run.
options:
  name:
    description:
      - The name of the environment; exact and case-sensitive. Portainer keeps names unique (2.14 and later).
    type: str
    required: true
  state:
    description:
      - V(present) creates the environment or updates the options you set; V(absent) deletes it.
      - Deleting an environment keeps its stacks in Portainer's database as orphaned stacks.
    type: str
    choices: [present, absent]
    default: present
  type:
    description:
      - The kind of environment. V(docker) is the Docker API over a socket or TCP, V(agent) the Portainer agent,
        V(edge_agent) the Portainer Edge agent.
      - When creating, V(docker) if not set. On an existing environment it is compared only when set; Portainer cannot
        change the type of an environment, so a different type is an error.
    type: str
    choices: [docker, agent, edge_agent]
  url:
    description:
      - For V(docker), the address of the Docker engine as Portainer reaches it, V(unix:///var/run/docker.sock),
        V(npipe:////./pipe/docker_engine) or V(tcp://host:port). Portainer uses its own socket
        V(unix:///var/run/docker.sock) when this is not set at creation.
      - For V(agent), V(tcp://host:port) of the agent (usually port 9001). Required to create one.
      - For V(edge_agent), the address of Portainer that the agent reaches, V(https://host:port); Portainer stores
        only C(host:port), and that is what is compared. Required to create one.
      - Checked before any request; the type used to check it is O(type), or V(docker) when not set.
      - Portainer connects to a V(docker) engine when it creates the environment; an unreachable engine fails the task
        with Portainer's reason and saves nothing. It does not connect again when the URL is updated.
    type: str
  public_url:
    description:
      - The address shown for published ports (Portainer's C(PublicURL)), for example V(docker1.example.com).
      - V('') clears it.
    type: str
  group:
    description:
      - The environment group, by name or numeric id. V(1) is Portainer's default group C(Unassigned).
      - Portainer does not keep group names unique; a name that several groups share is an error, give the id then.
      - A group that does not exist is an error unless O(create_group=true).
    type: str
  create_group:
    description:
      - Create the group named in O(group) when it does not exist (not in check mode).
    type: bool
    default: false
  tags:
    description:
      - The names of the environment's tags; the environment ends with exactly these tags.
      - Tags that do not exist are created (not in check mode). V([]) removes every tag.
    type: list
    elements: str
  edge_checkin_interval:
    description:
      - For V(edge_agent), how often the agent checks in, in seconds.
      - Portainer shows its global setting in place of the value 0, so only positive values can be managed.
    type: int
  tls:
    description:
      - Whether Portainer talks TLS to the Docker engine or agent. V(false) makes Portainer drop the TLS settings and
        delete the stored certificate files.
      - The other C(tls_*) options need O(tls=true).
      - When creating an V(agent) environment without this option, V(true) with O(tls_skip_verify=true) and
        O(tls_skip_client_verify=true), as Portainer's UI does, since the agent serves TLS with a certificate of its own.
    type: bool
  tls_skip_verify:
    description:
      - Do not verify the engine's certificate. When not set and O(tls_ca_cert) is given, V(false).
      - When creating without O(tls_ca_cert), V(true) if not set.
    type: bool
  tls_skip_client_verify:
    description:
      - Do not present a client certificate. Portainer has no field for this; it answers by storing no client
        certificate and key, and that is what is compared.
      - When not set and O(tls_client_cert) is given, V(false). When creating without O(tls_client_cert), V(true) if not set.
    type: bool
  tls_ca_cert:
    description:
      - Path of a PEM file with the CA certificate that signed the engine's certificate, on the host that runs the module.
      - Uploaded when Portainer stores no CA certificate for the environment. Portainer never shows the contents of stored
        certificates, so the contents are not compared; see O(tls_replace_files).
    type: path
  tls_client_cert:
    description:
      - Path of a PEM file with the client certificate Portainer presents, on the host that runs the module.
      - Needs O(tls_client_key). Uploaded when Portainer stores no client certificate; contents are not compared.
    type: path
  tls_client_key:
    description:
      - Path of a PEM file with the unencrypted private key of O(tls_client_cert), on the host that runs the module.
      - Needs O(tls_client_cert). Uploaded with it; its contents never appear in output.
    type: path
  tls_replace_files:
    description:
      - Upload the given O(tls_ca_cert), O(tls_client_cert) and O(tls_client_key) even though Portainer already stores
        certificate files, and apply them. This is the way to rotate certificates.
      - Not idempotent, since Portainer cannot show what it stores; the task reports a change every time. Use it
        only in a task meant to replace certificates.
    type: bool
    default: false
notes:
  - "What is compared: O(url), O(public_url), the group id, the set of tag ids, O(edge_checkin_interval), and Portainer's
    TLS flags (C(TLSConfig.TLS) and C(TLSConfig.TLSSkipVerify); client verification from whether Portainer stores a
    client certificate and key, C(TLSConfig.TLSCert) and C(TLSConfig.TLSKey))."
  - "What is not compared: the contents of certificate files. Portainer returns only the paths of stored files
    (C(/data/tls/<id>/ca.pem)), never their contents. A file is uploaded only when Portainer stores none where the TLS
    options need one, or with O(tls_replace_files=true)."
  - When two tasks create the same environment at once, Portainer accepts one and answers the other with HTTP 409;
    that task reads the environment back and converges on it, so both succeed and one environment exists.
  - The returned environment has no snapshots and no Azure key; TLS settings show file paths only.
seealso:
  - module: pier.portainer.portainer_endpoint_info
'''

EXAMPLES = r'''
---
- name: Register the Docker engine of the Portainer host through its socket
  pier.portainer.portainer_endpoint:
    portainer_url: https://portainer.example.com:9443
    portainer_api_key: "{{ vault_portainer_api_key }}"
    name: local
    url: unix:///var/run/docker.sock

- name: Register an engine over plain TCP, in a group, with tags
  pier.portainer.portainer_endpoint:
    portainer_url: https://portainer.example.com:9443
    portainer_api_key: "{{ vault_portainer_api_key }}"
    name: docker1
    url: tcp://127.0.0.1:2375
    public_url: docker1.example.com
    group: production
    create_group: true
    tags:
      - prod
      - web

# docker_cert_path: the directory with ca.pem, cert.pem and key.pem, as for DOCKER_CERT_PATH.
- name: Register an engine over TCP with mutual TLS
  pier.portainer.portainer_endpoint:
    portainer_url: https://portainer.example.com:9443
    portainer_api_key: "{{ vault_portainer_api_key }}"
    name: docker2
    url: tcp://127.0.0.1:2376
    tls: true
    tls_ca_cert: "{{ docker_cert_path }}/ca.pem"
    tls_client_cert: "{{ docker_cert_path }}/cert.pem"
    tls_client_key: "{{ docker_cert_path }}/key.pem"
  register: docker2

- name: Use its id
  ansible.builtin.debug:
    msg: "docker2 is environment {{ docker2.endpoint.Id }}"

- name: Replace the stored certificates of that environment (reports a change every time)
  pier.portainer.portainer_endpoint:
    portainer_url: https://portainer.example.com:9443
    portainer_api_key: "{{ vault_portainer_api_key }}"
    name: docker2
    tls: true
    tls_ca_cert: "{{ docker_cert_path }}/ca.pem"
    tls_client_cert: "{{ docker_cert_path }}/cert.pem"
    tls_client_key: "{{ docker_cert_path }}/key.pem"
    tls_replace_files: true
  when: rotate_certificates | default(false)

- name: Register an Edge agent
  pier.portainer.portainer_endpoint:
    portainer_url: https://portainer.example.com:9443
    portainer_api_key: "{{ vault_portainer_api_key }}"
    name: edge-shop-12
    type: edge_agent
    url: https://portainer.example.com:9443
    edge_checkin_interval: 30
  register: edge

- name: Show the key to start the Edge agent with
  ansible.builtin.debug:
    msg: "EDGE_ID={{ edge.endpoint.EdgeID | default('') }} EDGE_KEY={{ edge.endpoint.EdgeKey }}"

- name: Delete an environment
  pier.portainer.portainer_endpoint:
    portainer_url: https://portainer.example.com:9443
    portainer_api_key: "{{ vault_portainer_api_key }}"
    name: docker1
    state: absent
'''

RETURN = r'''
endpoint:
  description:
    - The environment as Portainer returns it, without snapshots and without the Azure authentication key.
    - In check mode, the environment the module expects (C(Id) is null for one it would create).
    - Empty after a deletion, or when the environment is absent.
  returned: always
  type: dict
  sample:
    Id: 3
    Name: docker2
    Type: 1
    URL: tcp://10.0.0.6:2376
    PublicURL: ""
    GroupId: 1
    TagIds: [1, 2]
    Status: 1
    TLSConfig:
      TLS: true
      TLSSkipVerify: false
      TLSCACert: /data/tls/3/ca.pem
      TLSCert: /data/tls/3/cert.pem
      TLSKey: /data/tls/3/key.pem
    EdgeKey: ""
    EdgeCheckinInterval: 0
  contains:
    Id:
      description: The id of the environment, used by the Docker proxy and stack routes.
      type: int
      sample: 3
    Name:
      description: The name of the environment.
      type: str
      sample: docker2
    Type:
      description: Portainer's type number, 1 Docker, 2 agent, 4 Edge agent (6 and 7 for Kubernetes agents).
      type: int
      sample: 1
    URL:
      description: The address Portainer reaches the engine or agent at (C(host:port) of Portainer for Edge agents).
      type: str
      sample: tcp://10.0.0.6:2376
    PublicURL:
      description: The public address of the environment.
      type: str
      sample: docker2.example.com
    GroupId:
      description: The id of the environment group.
      type: int
      sample: 1
    TagIds:
      description: The ids of the environment's tags.
      type: list
      elements: int
      sample: [1, 2]
    Status:
      description: 1 when Portainer reached the environment at its last check, 2 when it did not.
      type: int
      sample: 1
    TLSConfig:
      description: The TLS flags, and the paths of the certificate files Portainer stores (never their contents).
      type: dict
      sample: {TLS: true, TLSSkipVerify: false, TLSCACert: /data/tls/3/ca.pem}
    EdgeKey:
      description: For Edge agents, the key to start the agent with.
      type: str
      sample: aHR0cHM6Ly9wb3J0YWluZXIuZXhhbXBsZS5jb206OTQ0M3xwb3J0YWluZXIuZXhhbXBsZS5jb206ODAwMHxrZXl8Mw
    EdgeID:
      description: For Edge agents, the id the agent identifies with, when Portainer assigned one.
      type: str
      sample: 7b1a3e4c-0a2d-4a8e-9a59-2b6f7d9c1e11
    EdgeCheckinInterval:
      description: For Edge agents, the check-in interval in seconds (0 means Portainer's global setting).
      type: int
      sample: 30
'''

from ansible_collections.pier.portainer.plugins.module_utils._api import PortainerAPIError, PortainerError
from ansible_collections.pier.portainer.plugins.module_utils._endpoint import (
    CREATE_HINT,
    Lookups,
    check_create,
    create_fields,
    current_state,
    diff_states,
    find_all_by_name,
    plan_update,
    predict,
    predict_created,
    sanitize,
    validate_params,
    wait_for_name,
)
from ansible_collections.pier.portainer.plugins.module_utils._module import PortainerModule


class EndpointTask:
    """One run of the module: the options, the TLS files read from disk, and the lookups."""

    def __init__(self, pm, files):
        self.pm = pm
        self.client = pm.client
        self.params = pm.params
        self.files = files
        self.lookups = Lookups(pm.client, pm.check_mode)

    # ------------------------------------------------------------ display helpers

    def show_group(self, group_id):
        group = self.params.get('group')
        if group is None or str(group).strip().isdigit():
            return group_id
        if group_id is None:
            return str(group).strip()
        return self.lookups.group_name(group_id)

    def show_tags(self, tag_ids):
        known = [i for i in tag_ids or [] if i is not None]
        names = self.lookups.tag_names(known)
        if None in (tag_ids or []):
            names = sorted(set(names) | set(self.lookups.pending_tags))
        return names

    def finish(self, changed, endpoint, before, after):
        result = dict(changed=changed, endpoint=sanitize(endpoint) if endpoint else {})
        if self.pm.diff_mode:
            result['diff'] = dict(before=before, after=after)
        self.pm.exit(**result)

    # ------------------------------------------------------------ resolution

    def resolve(self):
        """(group_id, tag_ids) for the options the user set; may create tags and the group (not in check mode)."""
        group_id = None
        if self.params.get('group') is not None:
            group_id = self.lookups.group_id(self.params['group'], self.params['create_group'])
        tag_ids = None
        if self.params.get('tags') is not None:
            names = []
            for name in self.params['tags']:
                if name not in names:
                    names.append(name)
            tag_ids = self.lookups.tag_ids(names, create=True)
        return group_id, tag_ids

    def group_given_as_id(self):
        group = self.params.get('group')
        return group is not None and str(group).strip().isdigit()

    # ------------------------------------------------------------ states

    def absent(self, found):
        if not found:
            self.finish(False, {}, {'state': 'absent'}, {'state': 'absent'})
            return
        current = current_state(found[0])
        before = {'state': 'present', 'type': current['type'], 'url': current['url']}
        if not self.pm.check_mode:
            for endpoint in found:
                self.client.delete('/api/endpoints/%d' % endpoint['Id'], missing_ok=True)
        self.finish(True, {}, before, {'state': 'absent'})

    def create(self):
        params = self.params
        check_create(params, self.files)
        endpoint_type = params.get('type') or 'docker'
        if params.get('url') is None and endpoint_type != 'docker':
            raise PortainerError('url is required to create the %s environment %r: give the address of the %s'
                                 % (endpoint_type, params['name'], 'agent (tcp://host:9001)' if endpoint_type == 'agent'
                                    else 'Portainer server the Edge agent reaches'))
        group_id, tag_ids = self.resolve()
        if group_id is not None and self.group_given_as_id():
            self.lookups.check_group_id(group_id)
        known_tags = [i for i in tag_ids or [] if i is not None]
        fields = create_fields(params, group_id, known_tags, self.files)
        predicted = predict_created(params, fields, group_id, tag_ids)
        after = diff_states(predicted, params, {}, self.show_group, self.show_tags)[1]
        if self.pm.check_mode:
            self.finish(True, predicted, {'state': 'absent'}, after)
            return
        try:
            response = self.client.request('POST', '/api/endpoints', files=fields)
        except PortainerAPIError as exc:
            if exc.status == 409:
                # Another task created it meanwhile: read it back and converge on it.
                self.update(wait_for_name(self.client, params['name']), created_elsewhere=True)
                return
            if exc.status == 500:
                raise PortainerAPIError(exc.method, exc.path, exc.status, exc.message, exc.details, hint=CREATE_HINT) from None
            raise
        endpoint = self.client.decode(response)
        if not isinstance(endpoint, dict):
            raise PortainerError('POST /api/endpoints answered without the environment; check that %s is a Portainer server' % self.client.base_url)
        # Portainer before 2.14, and a race inside a later one, may keep two of the same name: keep the oldest.
        same = find_all_by_name(self.client, params['name'])
        if len(same) > 1 and same[0].get('Id') != endpoint.get('Id'):
            self.client.delete('/api/endpoints/%d' % endpoint['Id'], missing_ok=True)
            self.update(same[0], created_elsewhere=True)
            return
        self.finish(True, endpoint, {'state': 'absent'}, after)

    def update(self, endpoint, created_elsewhere=False):
        params = self.params
        group_id, tag_ids = self.resolve()
        changes, payload, uploads = plan_update(endpoint, params, group_id, tag_ids, self.files)
        if 'group' in changes and group_id is not None and self.group_given_as_id():
            self.lookups.check_group_id(group_id)
        before, after = diff_states(endpoint, params, changes, self.show_group, self.show_tags)
        if created_elsewhere:
            before = {'state': 'absent'}
        changed = bool(changes) or bool(self.lookups.created)
        if not changes:
            self.finish(changed, endpoint, before, after)
            return
        if self.pm.check_mode:
            self.finish(True, predict(endpoint, payload), before, after)
            return
        for kind in uploads:
            self.upload(endpoint['Id'], kind)
        if payload:
            endpoint = self.client.put('/api/endpoints/%d' % endpoint['Id'], payload)
        self.finish(True, endpoint, before, after)

    def upload(self, endpoint_id, kind):
        """POST /api/upload/tls/{ca|cert|key}: Portainer stores the file as /data/tls/<id>/<kind>.pem."""
        filename = {'ca': 'ca.pem', 'cert': 'cert.pem', 'key': 'key.pem'}[kind]
        fields = [('folder', (None, str(endpoint_id))), ('file', (filename, self.files[kind], 'application/x-pem-file'))]
        self.client.request('POST', '/api/upload/tls/%s' % kind, files=fields)


def run(pm):
    # Everything the options alone can show is checked before the first request.
    files = validate_params(pm.params)
    task = EndpointTask(pm, files)
    found = find_all_by_name(pm.client, pm.params['name'])
    if pm.params['state'] == 'absent':
        task.absent(found)
    elif not found:
        task.create()
    else:
        task.update(found[0])


def main():
    argument_spec = dict(
        name=dict(type='str', required=True),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        type=dict(type='str', choices=['docker', 'agent', 'edge_agent']),
        url=dict(type='str'),
        public_url=dict(type='str'),
        group=dict(type='str'),
        create_group=dict(type='bool', default=False),
        tags=dict(type='list', elements='str'),
        edge_checkin_interval=dict(type='int'),
        tls=dict(type='bool'),
        tls_skip_verify=dict(type='bool'),
        tls_skip_client_verify=dict(type='bool'),
        tls_ca_cert=dict(type='path'),
        tls_client_cert=dict(type='path'),
        tls_client_key=dict(type='path', no_log=False),
        tls_replace_files=dict(type='bool', default=False),
    )
    pm = PortainerModule(argument_spec=argument_spec, supports_check_mode=True)
    pm.run(run)


if __name__ == '__main__':
    main()
