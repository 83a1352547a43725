#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) pier.portainer contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: portainer_container
short_description: Manage a Docker container through Portainer
version_added: 0.1.0
description:
  - Creates, updates, starts, stops and removes one Docker container of a Portainer environment, through
    Portainer's Docker proxy (C(/api/endpoints/{id}/docker/...)).
  - Only the options you set are compared with the container. Values the image fills in (environment, labels,
    exposed ports, volumes, command) and values the engine rewrites are taken into account, so a second run
    changes nothing.
  - Memory, CPU and restart policy changes are applied in place; networks are connected and disconnected;
    every other difference, and a different image id, recreates the container.
  - A container of that name created outside Portainer is managed the same way.
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
      - Sends only reads. Images are not pulled; a pull is predicted only when the image is missing.
  diff_mode:
    support: full
    details:
      - Before and after of the options that differ, plus C(exists), C(running), C(image) and C(networks) when they change.
  idempotent:
    support: partial
    details:
      - O(recreate=true) and O(restart=true) act on every run.
      - With O(pull=always) a pull that leaves the image id unchanged is not a change.
options:
  endpoint:
    description:
      - The Portainer environment, by name (exact, case-sensitive) or numeric id. An id saves one request.
    type: str
    required: true
  name:
    description:
      - The name of the container; it identifies the container.
    type: str
    required: true
  state:
    description:
      - V(absent) removes the container (stopping it first).
      - V(present) creates or updates it and leaves it running or stopped as it was; a container recreated while
        running is started again.
      - V(started) also starts it; V(stopped) also stops it.
      - V(healthy) starts it and waits until its health check reports healthy, at most O(healthy_wait_timeout)
        seconds. A container without a health check counts as healthy once it runs.
    type: str
    choices: [absent, present, stopped, started, healthy]
    default: started
  image:
    description:
      - The image, V(repository[:tag]), V(repository@digest) or an image id (V(sha256:...)). Without a tag, V(latest).
      - Required to create the container. The image identity compared with the container is the image id, so a tag
        that moved to another image recreates the container.
    type: str
  pull:
    description:
      - V(missing) pulls the image only when the environment does not have it.
      - V(always) pulls on every run; a pull that leaves the image id unchanged is not a change.
      - V(never) fails when the image is missing.
      - Image ids are never pulled. The whole progress stream is read and an error in it fails the task.
    type: str
    choices: [missing, always, never]
    default: missing
  registry:
    description:
      - A registry known to Portainer, by name or id, whose stored credentials the pull uses.
      - Without it the engine pulls anonymously or with its own credentials.
    type: str
  command:
    description:
      - The command, as a list or as a string split like a shell would. V([]) means the image's command.
    type: raw
  entrypoint:
    description:
      - The entrypoint. An empty list removes the image's entrypoint.
    type: list
    elements: str
  env:
    description:
      - Environment variables. Values must be strings; quote V(true), V(false) and V(yes) in YAML.
      - Values appear in the result and in the diff; do not put secrets here if the output is logged.
    type: dict
  env_file:
    description:
      - A file of C(KEY=VALUE) lines on the machine running the module; O(env) overrides it.
    type: path
  labels:
    description:
      - Labels (values must be strings). The image's labels are always present as well.
    type: dict
  published_ports:
    description:
      - Ports to publish, as V([ip:][host_port:]container_port[/protocol]), for example V(8080:80),
        V(127.0.0.1:8080:80/udp), V(80) (random host port), V(9000-9002:9000-9002), V([::1]:8080:80).
      - IPv6 addresses go in brackets; host names are not accepted.
    type: list
    elements: str
    aliases: [ports]
  default_host_ip:
    description:
      - The address ports are published on when an entry of O(published_ports) names none.
      - The default, the empty string, publishes on all IPv4 and IPv6 addresses, like C(docker run -p).
    type: str
    default: ''
  exposed_ports:
    description:
      - Ports to expose without publishing them, like V(9000) or V(53/udp). Published ports are exposed as well.
    type: list
    elements: str
    aliases: [exposed, expose]
  publish_all_ports:
    description:
      - Publish every exposed port on a random host port.
    type: bool
  volumes:
    description:
      - Bind mounts and named volumes as V(source:target[:mode]) (source an absolute path on the Docker host or a volume
        name), and anonymous volumes as V(/container/path). The mode defaults to V(rw).
      - Relative host paths are refused, because the Docker host is not the machine running the module.
    type: list
    elements: str
  mounts:
    description:
      - Mounts in Docker's structured form.
    type: list
    elements: dict
    suboptions:
      type:
        description: The kind of mount.
        type: str
        choices: [bind, volume, tmpfs]
        default: volume
      source:
        description: The host path (bind) or the volume name (volume; empty for an anonymous volume).
        type: str
      target:
        description: The path in the container.
        type: str
        required: true
      read_only:
        description: Mount read-only.
        type: bool
      consistency:
        description: The consistency requirement (Docker Desktop).
        type: str
        choices: [default, consistent, cached, delegated]
      propagation:
        description: Bind propagation.
        type: str
        choices: [private, rprivate, shared, rshared, slave, rslave]
      no_copy:
        description: Do not copy the image's data into a new volume.
        type: bool
      labels:
        description: Labels of a volume created by this mount.
        type: dict
      volume_driver:
        description: The driver of a volume created by this mount.
        type: str
      volume_options:
        description: Driver options of a volume created by this mount.
        type: dict
      tmpfs_size:
        description: The size of a tmpfs mount, like V(64m).
        type: str
      tmpfs_mode:
        description: The octal mode of a tmpfs mount, like V(1777).
        type: str
  networks:
    description:
      - Networks to connect the container to. They are connected and disconnected without recreating the container.
      - Networks not listed stay connected unless O(comparisons) sets C(networks) to V(strict), which disconnects them.
      - Without O(network_mode) (or with the name of the first network in it) the container is created on the first
        network listed, and connected to the others right after.
    type: list
    elements: dict
    suboptions:
      name:
        description: The network name.
        type: str
        required: true
      aliases:
        description: Network-scoped aliases.
        type: list
        elements: str
      ipv4_address:
        description: A fixed IPv4 address on the network.
        type: str
      ipv6_address:
        description: A fixed IPv6 address on the network.
        type: str
      links:
        description: Links to other containers, as V(container) or V(container:alias).
        type: list
        elements: str
  network_mode:
    description:
      - V(bridge) (or V(default)), V(host), V(none), V(container:<name>) or the name of a network.
    type: str
  restart_policy:
    description:
      - The restart policy; changed in place.
    type: str
    choices: ['no', always, on-failure, unless-stopped]
  restart_retries:
    description:
      - How often an V(on-failure) policy restarts the container; changed in place.
    type: int
  memory:
    description:
      - Memory limit, like V(512m) or V(1g) (1024-based); V(0) means no limit. Changed in place.
    type: str
  memory_swap:
    description:
      - Total of memory and swap, like V(1g); V(-1) or V(unlimited) for unlimited swap. Changed in place.
    type: str
  memory_reservation:
    description:
      - Soft memory limit, like V(256m). Changed in place.
    type: str
  cpus:
    description:
      - Number of CPUs the container may use, like V(0.5). Changed in place.
    type: float
  cpu_shares:
    description:
      - Relative CPU weight. Changed in place.
    type: int
  pids_limit:
    description:
      - Maximum number of processes; V(0) or less means no limit. Changed in place.
    type: int
  user:
    description:
      - The user (and group) the command runs as, like V(1000:1000).
    type: str
  working_dir:
    description:
      - The working directory of the command.
    type: str
  hostname:
    description:
      - The container's host name.
    type: str
  domainname:
    description:
      - The container's domain name.
    type: str
  privileged:
    description:
      - Give the container extended privileges.
    type: bool
  read_only:
    description:
      - Mount the container's root file system read-only.
    type: bool
  init:
    description:
      - Run an init process as PID 1 that reaps zombies and forwards signals.
    type: bool
  auto_remove:
    description:
      - Let the engine remove the container when it exits. With O(state=started) a container that exits is then
        created again on the next run.
    type: bool
  tty:
    description:
      - Allocate a pseudo terminal.
    type: bool
  interactive:
    description:
      - Keep standard input open.
    type: bool
  capabilities:
    description:
      - Kernel capabilities to add, like V(NET_ADMIN) (the C(CAP_) prefix and the case do not matter).
    type: list
    elements: str
    aliases: [cap_add]
  cap_drop:
    description:
      - Kernel capabilities to drop.
    type: list
    elements: str
  devices:
    description:
      - Host devices, as V(/dev/host[:/dev/container[:rwm]]).
    type: list
    elements: str
  healthcheck:
    description:
      - The health check. A string O(healthcheck.test) runs in a shell; V([NONE]) disables the image's check.
      - Durations are like V(30s), V(1m30s) or V(500ms), or a number of seconds.
    type: dict
    suboptions:
      test:
        description: The check, a string (run with C(/bin/sh -c)) or a list starting with V(CMD), V(CMD-SHELL) or V(NONE).
        type: raw
      interval:
        description: Time between checks.
        type: str
      timeout:
        description: Time after which one check counts as failed.
        type: str
      retries:
        description: Consecutive failures after which the container is unhealthy.
        type: int
      start_period:
        description: Time after start during which failures do not count.
        type: str
      start_interval:
        description: Time between checks during the start period (Docker 25 and later).
        type: str
  log_driver:
    description:
      - The logging driver, like V(json-file) or V(local).
    type: str
  log_options:
    description:
      - Options of the logging driver (values must be strings). Options the engine adds by default are tolerated.
    type: dict
  stop_signal:
    description:
      - The signal that stops the container.
    type: str
  stop_timeout:
    description:
      - Seconds to wait for the container to stop before it is killed. Used when stopping; not compared
        unless O(comparisons) sets C(stop_timeout).
    type: int
  platform:
    description:
      - The platform of the image, like V(linux/amd64) (API 1.41+); used to pull and to create.
    type: str
  etc_hosts:
    description:
      - Extra entries of C(/etc/hosts), host name to address.
    type: dict
  dns_servers:
    description:
      - DNS server addresses.
    type: list
    elements: str
  dns_search_domains:
    description:
      - DNS search domains.
    type: list
    elements: str
  dns_opts:
    description:
      - DNS resolver options.
    type: list
    elements: str
  ulimits:
    description:
      - Resource limits as V(name:soft[:hard]), like V(nofile:1024:2048).
    type: list
    elements: str
  sysctls:
    description:
      - Namespaced kernel parameters, like V(net.ipv4.ip_forward).
    type: dict
  shm_size:
    description:
      - Size of C(/dev/shm), like V(128m).
    type: str
  tmpfs:
    description:
      - tmpfs mounts as V(/path[:options]), like V(/run:size=64m).
    type: list
    elements: str
  pid_mode:
    description:
      - The PID namespace, V(host) or V(container:<name>).
    type: str
  ipc_mode:
    description:
      - The IPC namespace, like V(private), V(shareable), V(host) or V(container:<name>).
    type: str
  group_add:
    description:
      - Additional groups the command runs with.
    type: list
    elements: str
    aliases: [groups]
  security_opts:
    description:
      - Security options, like V(no-new-privileges).
    type: list
    elements: str
  comparisons:
    description:
      - How each option is compared with the container, keyed by option name, V(image), V(networks) or V(*) (every
        option but networks).
      - V(strict) requires equality; V(ignore) never acts on the option; V(allow_more_present) accepts extra entries
        in the container (for lists, sets and dicts).
      - Defaults are V(strict) for single values and ordered lists, V(allow_more_present) for sets and dicts
        (env, labels, published_ports, volumes, mounts, networks, ...), and V(ignore) for stop_timeout. So removing
        an env variable, a label or a port from the task changes nothing unless that option is V(strict).
    type: dict
  recreate:
    description:
      - Recreate the container even when it matches.
    type: bool
    default: false
  restart:
    description:
      - Restart a running container that was neither created nor started by this task.
    type: bool
    default: false
  keep_volumes:
    description:
      - Keep the anonymous volumes of a removed container.
    type: bool
    default: true
  removal_wait_timeout:
    description:
      - Seconds to wait for a removed container to be gone before creating its replacement.
    type: float
    default: 60
  healthy_wait_timeout:
    description:
      - Seconds to wait for O(state=healthy).
    type: float
    default: 300
notes:
  - The module talks the engine's default API version (the unversioned Docker API path).
  - On engines before Docker 25 (API 1.44) a container is created on one network and then connected to the others.
seealso:
  - module: pier.portainer.portainer_container_info
'''

EXAMPLES = r'''
---
- name: Run a web server publishing port 8080
  pier.portainer.portainer_container:
    portainer_url: https://portainer.example.com:9443
    portainer_api_key: "{{ vault_portainer_api_key }}"
    endpoint: local
    name: web01
    image: nginx:1.27
    published_ports:
      - "8080:80"
    env:
      TZ: Europe/Berlin
    restart_policy: unless-stopped

- name: Raise its memory limit in place (same container)
  pier.portainer.portainer_container:
    endpoint: local
    name: web01
    image: nginx:1.27
    memory: 512m

- name: Connect it to a second network
  pier.portainer.portainer_container:
    endpoint: local
    name: web01
    image: nginx:1.27
    networks:
      - name: backend
        aliases:
          - web

- name: Wait until it is healthy
  pier.portainer.portainer_container:
    endpoint: local
    name: web01
    image: nginx:1.27
    healthcheck:
      test: wget -q -O /dev/null http://127.0.0.1/
      interval: 5s
      retries: 3
    state: healthy
    healthy_wait_timeout: 120

- name: Pull from a registry Portainer knows
  pier.portainer.portainer_container:
    endpoint: local
    name: app
    image: registry.example.com/team/app:2.1
    registry: company-registry
    pull: always

- name: Remove it
  pier.portainer.portainer_container:
    endpoint: local
    name: web01
    state: absent
'''

RETURN = r'''
container:
  description:
    - The container's inspect document after the task (C(GET /containers/{id}/json)), without Portainer's additions.
    - Empty when the container is absent or was removed. In check mode, the container as it is before the task (empty
      when it would be removed).
  returned: success
  type: dict
  sample:
    Id: 5fc2a93d7a3d426a1c3937436697fc5e5343cc375226f6110283200bede3b107
    Name: /web01
    Image: sha256:219f606910a43ad73adc7246ee12f8849a073979720f6a61063fc847a4b93f6c
    State:
      Status: running
      Running: true
    Config:
      Image: nginx:1.27
    HostConfig:
      PortBindings:
        80/tcp:
          - HostIp: ''
            HostPort: '8080'
actions:
  description:
    - What the task did (or, in check mode, would do), in order. Each entry has C(action) (V(pull), V(create), V(remove),
      V(update), V(start), V(stop), V(restart), V(unpause), V(connect), V(disconnect)) and details such as C(id),
      C(image), C(network) or C(parameters) (the create or update body).
  returned: success
  type: list
  elements: dict
  sample:
    - action: create
      id: 5fc2a93d7a3d426a1c3937436697fc5e5343cc375226f6110283200bede3b107
      parameters:
        Image: nginx:1.27
    - action: start
      id: 5fc2a93d7a3d426a1c3937436697fc5e5343cc375226f6110283200bede3b107
'''

from ansible_collections.pier.portainer.plugins.module_utils._container import ContainerManager
from ansible_collections.pier.portainer.plugins.module_utils._container_options import OptionError
from ansible_collections.pier.portainer.plugins.module_utils._module import PortainerModule

ARGUMENT_SPEC = dict(
    endpoint=dict(type='str', required=True),
    name=dict(type='str', required=True),
    state=dict(type='str', default='started', choices=['absent', 'present', 'stopped', 'started', 'healthy']),
    image=dict(type='str'),
    pull=dict(type='str', default='missing', choices=['missing', 'always', 'never']),
    registry=dict(type='str'),
    command=dict(type='raw'),
    entrypoint=dict(type='list', elements='str'),
    env=dict(type='dict'),
    env_file=dict(type='path'),
    labels=dict(type='dict'),
    published_ports=dict(type='list', elements='str', aliases=['ports']),
    default_host_ip=dict(type='str', default=''),
    exposed_ports=dict(type='list', elements='str', aliases=['exposed', 'expose']),
    publish_all_ports=dict(type='bool'),
    volumes=dict(type='list', elements='str'),
    mounts=dict(type='list', elements='dict', options=dict(
        type=dict(type='str', default='volume', choices=['bind', 'volume', 'tmpfs']),
        source=dict(type='str'),
        target=dict(type='str', required=True),
        read_only=dict(type='bool'),
        consistency=dict(type='str', choices=['default', 'consistent', 'cached', 'delegated']),
        propagation=dict(type='str', choices=['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave']),
        no_copy=dict(type='bool'),
        labels=dict(type='dict'),
        volume_driver=dict(type='str'),
        volume_options=dict(type='dict'),
        tmpfs_size=dict(type='str'),
        tmpfs_mode=dict(type='str'),
    )),
    networks=dict(type='list', elements='dict', options=dict(
        name=dict(type='str', required=True),
        aliases=dict(type='list', elements='str'),
        ipv4_address=dict(type='str'),
        ipv6_address=dict(type='str'),
        links=dict(type='list', elements='str'),
    )),
    network_mode=dict(type='str'),
    restart_policy=dict(type='str', choices=['no', 'always', 'on-failure', 'unless-stopped']),
    restart_retries=dict(type='int'),
    memory=dict(type='str'),
    memory_swap=dict(type='str'),
    memory_reservation=dict(type='str'),
    cpus=dict(type='float'),
    cpu_shares=dict(type='int'),
    pids_limit=dict(type='int'),
    user=dict(type='str'),
    working_dir=dict(type='str'),
    hostname=dict(type='str'),
    domainname=dict(type='str'),
    privileged=dict(type='bool'),
    read_only=dict(type='bool'),
    init=dict(type='bool'),
    auto_remove=dict(type='bool'),
    tty=dict(type='bool'),
    interactive=dict(type='bool'),
    capabilities=dict(type='list', elements='str', aliases=['cap_add']),
    cap_drop=dict(type='list', elements='str'),
    devices=dict(type='list', elements='str'),
    healthcheck=dict(type='dict', options=dict(
        test=dict(type='raw'),
        interval=dict(type='str'),
        timeout=dict(type='str'),
        retries=dict(type='int'),
        start_period=dict(type='str'),
        start_interval=dict(type='str'),
    )),
    log_driver=dict(type='str'),
    log_options=dict(type='dict'),
    stop_signal=dict(type='str'),
    stop_timeout=dict(type='int'),
    platform=dict(type='str'),
    etc_hosts=dict(type='dict'),
    dns_servers=dict(type='list', elements='str'),
    dns_search_domains=dict(type='list', elements='str'),
    dns_opts=dict(type='list', elements='str'),
    ulimits=dict(type='list', elements='str'),
    sysctls=dict(type='dict'),
    shm_size=dict(type='str'),
    tmpfs=dict(type='list', elements='str'),
    pid_mode=dict(type='str'),
    ipc_mode=dict(type='str'),
    group_add=dict(type='list', elements='str', aliases=['groups']),
    security_opts=dict(type='list', elements='str'),
    comparisons=dict(type='dict'),
    recreate=dict(type='bool', default=False),
    restart=dict(type='bool', default=False),
    keep_volumes=dict(type='bool', default=True),
    removal_wait_timeout=dict(type='float', default=60.0),
    healthy_wait_timeout=dict(type='float', default=300.0),
)


def run(pm):
    try:
        manager = ContainerManager(pm)
    except OptionError as exc:
        pm.fail(str(exc))
        return
    container = manager.run()
    for warning in manager.warnings:
        pm.warn(warning)
    result = dict(changed=manager.changed, actions=manager.actions, container=container or {})
    if pm.diff_mode:
        result['diff'] = manager.diff()
    pm.exit(**result)


def main():
    pm = PortainerModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    pm.run(run)


if __name__ == '__main__':
    main()
