#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) pier.portainer contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: portainer_docker_api
short_description: Send any Docker Engine API request to an environment through Portainer
version_added: 0.1.0
description:
  - Sends one request of the Docker Engine API to a Portainer environment through Portainer's Docker proxy
    (C(/api/endpoints/{id}/docker/...)), and returns the answer, as JSON, as text, or as the decoded stream of
    JSON lines of pulls and events.
  - The escape hatch for what no module of the collection covers yet. It is not idempotent by itself; make a
    request idempotent with O(status_code) (for example accept Docker's C(304) to a start of a running
    container, or C(404) to a delete of a missing one, which then report no change) or with C(when).
  - A read (V(GET), V(HEAD)) reports no change. A write reports a change when Docker answers with a 2xx status,
    and no change for C(304) and for the other statuses accepted by O(status_code); O(write) overrides which
    requests count as writes.
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
      - Reads are sent in check mode and return their answer. Writes are not sent; the module returns
        RV(skipped_write=true), C(changed=true) and a message saying so.
  diff_mode:
    support: none
  idempotent:
    support: partial
    details:
      - Reads are idempotent. A write is idempotent only when the request is (see O(status_code)).
options:
  endpoint:
    description:
      - The Portainer environment, by name (exact, case-sensitive) or numeric id.
      - A name costs one request to look the id up; an id costs none.
    type: str
    required: true
  method:
    description:
      - The HTTP method of the request.
    type: str
    choices: [GET, HEAD, POST, PUT, DELETE, PATCH]
    default: GET
  path:
    description:
      - The path of the Docker Engine API, such as V(/containers/json), V(/containers/web01/start) or
        V(/v1.41/info) (a version prefix is kept).
      - Only the path is accepted; absolute URLs, C(..) segments and query strings are refused (give the query in O(query)).
    type: str
    required: true
  query:
    description:
      - Query parameters. Booleans are sent as V(true) or V(false), lists repeat the parameter, and dicts (such as
        Docker's C(filters)) are sent as JSON.
    type: dict
  body:
    description:
      - The request body. A dict or a list is sent as JSON; a string is sent as it is, with the C(Content-Type) of
        O(headers), or C(application/json) when it looks like JSON and C(text/plain) otherwise.
    type: raw
  headers:
    description:
      - Extra request headers, such as C(X-Registry-Auth) for pulls and pushes from a private registry.
      - The value of C(X-Registry-Auth) (and C(X-Registry-Config)) may be a dict, which the module encodes as Docker
        wants. A dict with the key C(registryId) (the id of a registry in Portainer) makes Portainer use the
        credentials it stores for that registry.
      - The values of these two headers, and the C(password), C(auth), C(identitytoken) and C(registrytoken) of such
        a dict, are masked in everything the module returns.
      - C(Authorization), C(X-API-KEY), C(Cookie), C(Host) and C(Content-Length) cannot be set.
    type: dict
  status_code:
    description:
      - The statuses that count as success. Default is every 2xx status and C(304).
      - Any other status fails the task with Docker's message.
    type: list
    elements: int
  write:
    description:
      - Whether the request changes the environment. Default is V(false) for V(GET) and V(HEAD) and V(true)
        otherwise.
      - A write is skipped in check mode and reports a change when Docker answers 2xx. Set V(false) for a
        request that only reads, such as C(POST /auth) (which checks registry credentials), so it runs in check
        mode and reports no change. Set V(true) to count a V(GET) as a change.
    type: bool
  response_format:
    description:
      - How to decode the answer.
      - V(auto) decodes the answers of the streaming routes (C(/events), C(/images/create), image push and load,
        C(/build), plugin pulls) as RV(stream), other JSON as RV(json), and anything else as RV(text).
      - V(json), V(stream) and V(text) force one decoding, and fail when the answer does not fit.
    type: str
    choices: [auto, json, stream, text]
    default: auto
notes:
  - Portainer adds its own fields to some answers (C(Portainer.ResourceControl) on container lists, inspects and
    creations), and answers C(200) where Docker says C(201); the module returns the answer as Portainer sent it.
  - A pull or push that fails after it started answers C(200) and reports the error in its stream; the module then
    fails with that error.
  - The request waits for the whole answer, at most O(request_timeout) seconds; give C(since) and C(until) to
    C(/events), and C(stream=false) to C(/containers/{id}/stats).
seealso:
  - name: Docker Engine API reference
    description: The requests this module can send.
    link: https://docs.docker.com/reference/api/engine/
'''

EXAMPLES = r'''
---
- name: List the running containers of the environment "local"
  pier.portainer.portainer_docker_api:
    portainer_url: https://portainer.example.com:9443
    portainer_api_key: "{{ vault_portainer_api_key }}"
    endpoint: local
    path: /containers/json
    query:
      filters:
        status: [running]
  register: running

- name: Create a container publishing port 80 on 8080
  pier.portainer.portainer_docker_api:
    portainer_url: https://portainer.example.com:9443
    portainer_api_key: "{{ vault_portainer_api_key }}"
    endpoint: local
    method: POST
    path: /containers/create
    query:
      name: web01
    body:
      Image: nginx:1.27
      ExposedPorts:
        80/tcp: {}
      HostConfig:
        PortBindings:
          80/tcp:
            - HostPort: "8080"
    status_code: [200, 201, 409]  # 409: it exists already, no change
  register: created

- name: Start it (Docker answers 304 when it is running already, which reports no change)
  pier.portainer.portainer_docker_api:
    portainer_url: https://portainer.example.com:9443
    portainer_api_key: "{{ vault_portainer_api_key }}"
    endpoint: local
    method: POST
    path: /containers/web01/start

- name: Pull an image from a registry known to Portainer (registry id 2)
  pier.portainer.portainer_docker_api:
    portainer_url: https://portainer.example.com:9443
    portainer_api_key: "{{ vault_portainer_api_key }}"
    endpoint: local
    method: POST
    path: /images/create
    query:
      fromImage: registry.example.com/team/app
      tag: "1.4"
    headers:
      X-Registry-Auth:
        registryId: 2
  register: pull

- name: Show the last line of the pull
  ansible.builtin.debug:
    msg: "{{ pull.stream | last }}"

- name: Delete the container, whether it exists or not
  pier.portainer.portainer_docker_api:
    portainer_url: https://portainer.example.com:9443
    portainer_api_key: "{{ vault_portainer_api_key }}"
    endpoint: local
    method: DELETE
    path: /containers/web01
    query:
      force: true
    status_code: [204, 404]
'''

RETURN = r'''
status:
  description: The HTTP status of the answer.
  returned: when the request was sent
  type: int
  sample: 200
json:
  description: The answer decoded from JSON; V(null) for an empty answer.
  returned: when the request was sent and the answer is JSON (not a stream)
  type: raw
  sample: [{"Id": "8dfafdbc3a40", "Names": ["/web01"], "State": "running"}]
stream:
  description: The answer of a streaming route, one decoded JSON document a line.
  returned: when the request was sent and the answer is a stream
  type: list
  elements: raw
  sample: [{"status": "Pulling from library/nginx", "id": "latest"}, {"status": "Status: Image is up to date for nginx:latest"}]
text:
  description: The answer as text, when it is not JSON.
  returned: when the request was sent and the answer is not JSON
  type: str
  sample: OK
headers:
  description: The headers of the answer.
  returned: when the request was sent
  type: dict
  sample: {"Content-Type": "application/json", "Api-Version": "1.41"}
endpoint_id:
  description: The id of the environment.
  returned: success
  type: int
  sample: 1
method:
  description: The method of the request.
  returned: success
  type: str
  sample: POST
path:
  description: The Docker API path of the request.
  returned: success
  type: str
  sample: /containers/create
url:
  description: The path of the request on Portainer.
  returned: success
  type: str
  sample: /api/endpoints/1/docker/containers/create
write:
  description: Whether the request counted as a write (see O(write)).
  returned: success
  type: bool
  sample: true
skipped_write:
  description: Whether the request was not sent because it is a write and the task runs in check mode.
  returned: success
  type: bool
  sample: false
msg:
  description: What happened.
  returned: success
  type: str
  sample: POST /containers/create answered 200
'''

from ansible_collections.pier.portainer.plugins.module_utils._docker_api import run
from ansible_collections.pier.portainer.plugins.module_utils._module import PortainerModule


def main():
    pm = PortainerModule(
        argument_spec=dict(
            endpoint=dict(type='str', required=True),
            method=dict(type='str', default='GET', choices=['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH']),
            path=dict(type='str', required=True),
            query=dict(type='dict'),
            body=dict(type='raw'),
            headers=dict(type='dict'),
            status_code=dict(type='list', elements='int'),
            write=dict(type='bool'),
            response_format=dict(type='str', default='auto', choices=['auto', 'json', 'stream', 'text']),
        ),
        supports_check_mode=True,
    )
    pm.run(run)


if __name__ == '__main__':
    main()
