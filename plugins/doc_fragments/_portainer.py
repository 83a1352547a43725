# -*- coding: utf-8 -*-
# Copyright (c) pier.portainer contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This doc fragment is PRIVATE to the pier.portainer collection.

from __future__ import annotations


class ModuleDocFragment:

    # The connection options of every module; plugins/module_utils/_module.py has the spec.
    DOCUMENTATION = r'''
options:
  portainer_url:
    description:
      - The address of Portainer, for example V(https://portainer.example.com:9443).
      - With or without the trailing C(/api) and slash; a C(--base-url) prefix is kept.
      - If not set, the value of the E(PORTAINER_URL) environment variable is used.
    type: str
    required: true
  portainer_api_key:
    description:
      - A Portainer API key (access token, C(ptr_...)), sent in the C(X-API-KEY) header.
      - Mutually exclusive with O(portainer_username) and O(portainer_password). One of the two ways to log in is required.
      - If not set, the value of the E(PORTAINER_API_KEY) environment variable is used.
    type: str
  portainer_username:
    description:
      - The user to log in as with O(portainer_password). The module logs in once with C(POST /api/auth) and sends the
        token in the C(Authorization) header as a bearer token.
      - If not set, the value of the E(PORTAINER_USERNAME) environment variable is used.
    type: str
  portainer_password:
    description:
      - The password of O(portainer_username).
      - If not set, the value of the E(PORTAINER_PASSWORD) environment variable is used.
    type: str
  validate_certs:
    description:
      - Whether to verify Portainer's TLS certificate. Leave it on and set O(ca_path) for a private CA.
      - If not set, the value of the E(PORTAINER_VALIDATE_CERTS) environment variable is used.
    type: bool
    default: true
  ca_path:
    description:
      - A PEM file (or a directory prepared with C(c_rehash)) of the CA certificates that verify Portainer's certificate.
      - If not set, the value of the E(PORTAINER_CA_PATH) environment variable is used.
    type: path
  request_timeout:
    description:
      - Seconds to wait for Portainer to answer one request. Reads that time out are retried a few times with a short
        backoff, as are reads answered with 502, 503 or 504; a write is never repeated blindly.
      - If not set, the value of the E(PORTAINER_TIMEOUT) environment variable is used.
    type: float
    default: 30
  token_cache:
    description:
      - With O(portainer_username) and O(portainer_password), keep the login token in a file readable only by the
        user running the module, so a play logs in once rather than once per task. Portainer bans an address for one
        hour after a burst of more than 10 logins, successful ones included.
      - The file is under C($XDG_CACHE_HOME/pier.portainer/tokens) (default C(~/.cache/pier.portainer/tokens)), or the
        directory in E(PORTAINER_TOKEN_CACHE_DIR); it is keyed by URL and username, holds a salted hash of the password
        so a changed password never reuses a token, and is dropped when Portainer refuses the token.
      - If not set, the value of the E(PORTAINER_TOKEN_CACHE) environment variable is used.
    type: bool
    default: true
  endpoint_cache_ttl:
    description:
      - For how many seconds a later task may reuse the id an earlier task found for an environment given by
        name, instead of looking the name up again. A loop of tasks on one environment then costs one lookup, not one
        per task. V(0) turns the cache off.
      - The cache is a file next to the token cache (see O(token_cache)), one per Portainer URL, readable only by its
        owner; it holds digests of the names and the credentials, never the names or credentials themselves.
      - A cached id is checked with Portainer before the task's first write, before it reports a change (check mode
        included), and when a request fails; if the name stands for another environment by then, the task forgets the
        cache and runs again with a fresh lookup. Changes made to environments by this collection clear the cache.
      - A task that changes nothing may read an environment renamed within the last O(endpoint_cache_ttl) seconds by
        other means (the web UI, the API) under its old name; set V(0) where environments are renamed while plays run.
      - If not set, the value of the E(PORTAINER_ENDPOINT_CACHE_TTL) environment variable is used.
    type: int
    default: 300
requirements:
  - requests
notes:
  - Run the modules where Portainer is reachable, usually on the controller, in a play on C(localhost) or with
    C(delegate_to=localhost).
  - Set the connection options once for all modules with C(module_defaults) and the group C(group/pier.portainer.portainer).
seealso:
  - name: Portainer API documentation
    description: The HTTP API these modules call.
    link: https://docs.portainer.io/api/docs
'''
