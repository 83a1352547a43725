# -*- coding: utf-8 -*-
# Copyright (c) pier.portainer contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to the pier.portainer collection. It may change without notice
# and must not be used by other collections.

"""One Docker container managed through Portainer's Docker proxy: inspect, pull, create, update, networks, state.

The option parsing and the comparison engine are in ``_container_options``; this file talks to the engine
(through ``PortainerClient.docker``) and decides the actions. Every write goes through ``_write`` so that
check mode sends only reads and still reports the same actions.
"""

from __future__ import annotations

import datetime
import email.utils
import json
import re
import time

from urllib.parse import quote

from ansible_collections.pier.portainer.plugins.module_utils._api import (
    PortainerAPIError,
    PortainerError,
    docker_stream_error,
    quote_path,
    registry_auth_header,
    strip_portainer_fields,
)
from ansible_collections.pier.portainer.plugins.module_utils._container_options import (
    OptionError,
    comparison_modes,
    create_body,
    creates_on_first_network,
    differences,
    is_image_id,
    network_differs,
    endpoint_config,
    normalize_platform,
    parse_image_reference,
    parse_networks,
    parse_options,
    printable,
    update_body,
    updatable,
)

NAME_RE = re.compile(r'^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$')
WAIT_STEP = 1.0
# A never-started container younger than this (seconds) is taken to be another task's, about to be started.
JUST_CREATED = 10


class NameTaken(Exception):
    """The container name was taken by another task between our inspect and our create."""

    def __init__(self, container):
        super().__init__(container.get('Id'))
        self.container = container


class DockerProxy:
    """Docker Engine calls of one environment, with Portainer's 404 told apart from Docker's."""

    def __init__(self, client, env_id, endpoint_ref=None):
        self.client = client
        self.env_id = env_id
        self.last_date = None
        self.endpoint_ref = env_id if endpoint_ref is None else endpoint_ref

    def get(self, path, params=None):
        """GET a Docker object; None when Docker says it does not exist (the client raises for an unknown environment)."""
        response = self.client.docker(self.env_id, 'GET', path, params=params, expected=(200, 404))
        # The engine's clock as last seen, to tell the age of what it answers.
        self.last_date = response.headers.get('Date') or self.last_date
        if response.status_code == 404:
            return None
        return strip_portainer_fields(self.client.decode(response))

    def call(self, method, path, params=None, json_body=None, expected=None, timeout=None, headers=None):
        response = self.client.docker(self.env_id, method, path, params=params, json_body=json_body, expected=expected,
                                      timeout=timeout, headers=headers)
        return strip_portainer_fields(self.client.decode(response))

    def inspect_container(self, name):
        data = self.get('/containers/%s/json' % quote_path(name))
        if data is None:
            return None
        # Docker also finds a container by id prefix: only an exact name (or id) is this container.
        if data.get('Name') not in ('/' + name.lstrip('/'), name) and data.get('Id') != name:
            return None
        return data

    def inspect_image(self, image):
        # Slashes, colons and @ stay as they are, the way the docker CLI sends an image reference.
        return self.get('/images/%s/json' % quote(str(image), safe='/:@'))


class ContainerManager:
    """Brings one container to the state a ``portainer_container`` task describes."""

    def __init__(self, pm):
        self.pm = pm
        self.params = pm.params
        self.check_mode = pm.check_mode
        self.client = pm.client
        self.name = self.params['name']
        self.actions = []
        self.changed = False
        self.diff_before = {}
        self.diff_after = {}
        self.warnings = []
        self._raced = False
        self._validate()
        self.docker = None

    # -------------------------------------------------------------------------------- input

    def _validate(self):
        """Everything that can be checked without a request; raises OptionError naming the option."""
        params = self.params
        if not NAME_RE.match(self.name or ''):
            raise OptionError('name: %r is not a valid container name; use letters, digits, _ . - (starting with a letter or digit)' % self.name)
        self.name = self.name.lstrip('/')
        self.desired, self.extra = parse_options(params)
        self.modes = comparison_modes(params.get('comparisons'))
        self.networks = parse_networks(params.get('networks')) if params.get('networks') is not None else None
        mode = params.get('network_mode') or ''
        if self.networks and (mode in ('host', 'none') or mode.startswith('container:')):
            raise OptionError('networks: a container with network_mode %s cannot join networks; remove networks or network_mode' % mode)
        image = params.get('image')
        if image is not None and not str(image).strip():
            raise OptionError('image: is empty; give an image reference like nginx:1.27 or an image id')
        if params.get('registry') is not None and not str(params['registry']).strip():
            raise OptionError('registry: is empty; give the name or the id of a Portainer registry')
        for name, value in (('healthy_wait_timeout', params.get('healthy_wait_timeout')),
                            ('removal_wait_timeout', params.get('removal_wait_timeout'))):
            if value is not None and value < 0:
                raise OptionError('%s: must be 0 or more seconds' % name)

    # -------------------------------------------------------------------------------- helpers

    def _act(self, action, **details):
        entry = dict(action=action)
        entry.update(details)
        self.actions.append(entry)
        self.changed = True

    def _stop_timeout(self, container=None):
        value = self.params.get('stop_timeout')
        if value is None and container is not None:
            value = (container.get('Config') or {}).get('StopTimeout')
        return value

    def _http_timeout(self, seconds):
        return self.client.timeout + (seconds if seconds is not None else 10)

    def _registry_header(self):
        ref = self.params.get('registry')
        if ref is None:
            return None
        text = str(ref).strip()
        if text.isdigit():
            registry_id = int(text)
        else:
            registries = self.client.get('/api/registries') or []
            found = [r for r in registries if isinstance(r, dict) and r.get('Name') == text]
            if not found:
                raise PortainerError('registry: no Portainer registry named %r; check the name (exact, case-sensitive) or give its id' % text)
            registry_id = int(found[0]['Id'])
        return registry_auth_header(registry_id)

    # -------------------------------------------------------------------------------- image

    def pull(self, image):
        """Pull ``image`` reading the whole progress stream; an error anywhere in it fails the task."""
        repo, tag = parse_image_reference(image)
        params = {'fromImage': repo, 'tag': tag}
        if self.params.get('platform'):
            params['platform'] = self.params['platform']
        headers = self._registry_header()
        path = '/images/create'
        try:
            response = self.client.docker(self.docker.env_id, 'POST', path, params=params, headers=headers, expected=(200,),
                                          stream=True, timeout=max(self.client.timeout, 300))
        except PortainerAPIError as exc:
            words = exc.message or ''
            if exc.details and exc.details != exc.message:
                words = '%s: %s' % (words, exc.details)
            raise PortainerError('image: pulling %s failed: the engine answered HTTP %s: %s' % (image, exc.status, words)) from None
        last = None
        try:
            for line in response.iter_lines():
                if not line:
                    continue
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if not isinstance(event, dict):
                    continue
                error = docker_stream_error(event)
                if error:
                    raise PortainerError('image: pulling %s failed: %s' % (image, self.client.redact(error)))
                last = event.get('status') or last
        finally:
            response.close()
        return last

    def resolve_image(self, container):
        """The image inspect of the desired image, pulled according to ``pull`` (check mode only predicts the pull).

        None when no image is known, or in check mode when the pull would bring it.
        """
        image = self.params.get('image')
        if image is None:
            if container is not None and self._needs_image_config():
                return self.docker.inspect_image(container['Image'])
            return None
        policy = self.params['pull']
        if is_image_id(image):
            info = self.docker.inspect_image(image)
            if info is None:
                raise PortainerError('image: no image with id %s on this environment (an id is never pulled)' % image)
            return info
        before = self.docker.inspect_image(image)
        if policy == 'never' or (policy == 'missing' and before is not None):
            if before is None:
                raise PortainerError('image: %s is not on this environment and pull is never; pull it first or set pull: missing' % image)
            return before
        if self.check_mode:
            if before is None:
                self._act('pull', image=image)
            return before
        self.pull(image)
        after = self.docker.inspect_image(image)
        if after is None:
            raise PortainerError('image: %s is still missing after the pull' % image)
        if before is None or before.get('Id') != after.get('Id'):
            self._act('pull', image=image, id=after.get('Id'))
            self.diff_before['image_pulled'] = before.get('Id') if before else None
            self.diff_after['image_pulled'] = after.get('Id')
            return after
        return after

    def _needs_image_config(self):
        names = ('env', 'labels', 'exposed_ports', 'anonymous_volumes', 'platform')
        return any(n in self.desired for n in names) or self.desired.get('command') == []

    # -------------------------------------------------------------------------------- container references

    def _resolve_container_modes(self):
        """``container:<name>`` in network_mode, pid_mode and ipc_mode -> ``container:<id>`` (how inspect shows them)."""
        for name in ('network_mode', 'pid_mode', 'ipc_mode'):
            value = self.params.get(name)
            if value and str(value).startswith('container:'):
                ref = str(value).split(':', 1)[1]
                other = self.docker.inspect_container(ref)
                if other is None:
                    raise PortainerError('%s: no container %s on this environment' % (name, ref))
                resolved = 'container:%s' % other['Id']
                self.desired[name] = resolved
                if name == 'network_mode':
                    self.extra['network_mode_raw'] = resolved

    # -------------------------------------------------------------------------------- writes

    def _start(self, cid):
        """Start the container; False when the engine says it already runs (304: another task started it)."""
        if self.check_mode:
            return True
        return self.client.docker(self.docker.env_id, 'POST', '/containers/%s/start' % cid).status_code != 304

    def _write(self, method, path, **kwargs):
        if self.check_mode:
            return None
        return self.docker.call(method, path, **kwargs)

    def wait_removed(self, container_id):
        if self.check_mode:
            return
        timeout = self.params.get('removal_wait_timeout')
        deadline = time.monotonic() + (timeout if timeout is not None else 60)
        delay = 0.2
        while True:
            data = self.docker.get('/containers/%s/json' % container_id)
            if data is None:
                return
            if time.monotonic() > deadline:
                raise PortainerError('removal_wait_timeout: container %s was still there (%s) after %ss; raise removal_wait_timeout'
                                     % (self.name, (data.get('State') or {}).get('Status'), timeout))
            time.sleep(delay)
            delay = min(delay * 1.5, 2.0)

    def stop(self, container):
        state = container.get('State') or {}
        if not state.get('Running'):
            return
        if state.get('Paused'):
            self._write('POST', '/containers/%s/unpause' % container['Id'])
        seconds = self._stop_timeout(container)
        params = {'t': seconds} if seconds is not None else None
        self._write('POST', '/containers/%s/stop' % container['Id'], params=params, timeout=self._http_timeout(seconds))
        self._act('stop', id=container['Id'])

    def remove(self, container):
        self.stop(container)
        params = {'v': '0' if self.params.get('keep_volumes', True) else '1'}
        if not self.check_mode:
            try:
                self.docker.call('DELETE', '/containers/%s' % container['Id'], params=params, expected=(200, 204, 404))
            except PortainerAPIError as exc:
                if exc.status != 409 or 'already in progress' not in str(exc):
                    raise
        self._act('remove', id=container['Id'])
        self.wait_removed(container['Id'])

    def create(self, image_ref):
        body = create_body(image_ref, self.desired, self.extra, self.networks)
        params = {'name': self.name}
        if self.params.get('platform'):
            params['platform'] = self.params['platform']
        new_id = None
        if not self.check_mode:
            result = None
            for attempt in range(2):
                try:
                    result = self.docker.call('POST', '/containers/create', params=params, json_body=body, expected=(200, 201))
                    break
                except PortainerAPIError as exc:
                    if exc.status == 404 and 'image' in str(exc).lower():
                        raise PortainerError('image: %s is not on this environment: %s' % (image_ref, exc)) from None
                    if exc.status == 409:
                        other = self.docker.inspect_container(self.name)
                        for dummy in range(20):
                            # The engine reserves the name before the other task's container can be inspected.
                            if other is not None:
                                break
                            time.sleep(0.25)
                            other = self.docker.inspect_container(self.name)
                        if other is not None and (other.get('State') or {}).get('Status') == 'removing' and attempt == 0:
                            # The name is still held by a container being removed: wait for it once, then try again.
                            self.wait_removed(other['Id'])
                            continue
                        if other is not None:
                            # Another task (a parallel fork) created it first: converge on that one.
                            raise NameTaken(other) from None
                    raise
            new_id = (result or {}).get('Id')
            for warning in (result or {}).get('Warnings') or []:
                self.warnings.append('Docker: %s' % warning)
        self._act('create', id=new_id, parameters=body)
        return new_id

    def _just_created_elsewhere(self, container):
        """True for a container that was never started and was created in the last seconds, by the engine's clock.

        Another task (a parallel fork) is then about to start it.
        """
        if (container.get('State') or {}).get('Status') != 'created' or not self.docker.last_date:
            return False
        try:
            now = email.utils.parsedate_to_datetime(self.docker.last_date)
            created = datetime.datetime.strptime(str(container.get('Created'))[:19], '%Y-%m-%dT%H:%M:%S')
        except (TypeError, ValueError):
            return False
        # HTTP dates are in UTC ("GMT", or "-0000" which Python reads as no zone), like Docker's Created.
        now = now.replace(tzinfo=None) if now.tzinfo is None else now.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return abs((now - created).total_seconds()) < JUST_CREATED

    def _started_by_creator(self, other):
        """The container another task has just created, once that task has had a moment (5 s) to start it.

        Starting it here as well would make two tasks report the same start; only when it is still not started
        after the wait does this task start it.
        """
        if self.params['state'] not in ('started', 'healthy'):
            return other
        for dummy in range(20):
            if (other.get('State') or {}).get('Status') != 'created':
                break
            time.sleep(0.25)
            again = self.docker.inspect_container(other['Id'])
            if again is None:
                break
            other = again
        return other

    # -------------------------------------------------------------------------------- networks

    def sync_networks(self, container, created):
        """Connect missing networks, reconnect changed ones, and with ``comparisons.networks: strict`` disconnect others."""
        if self.networks is None or self.modes.get('networks') == 'ignore':
            return
        attached = {}
        if container is not None:
            attached = dict(((container.get('NetworkSettings') or {}).get('Networks') or {}))
        elif created and self.networks and creates_on_first_network(self.params.get('network_mode'), self.networks):
            attached = {self.networks[0]['name']: endpoint_config(self.networks[0])}
        target_id = (container or {}).get('Id')
        wanted = set(n['name'] for n in self.networks)
        before = sorted(attached)
        for network in self.networks:
            have = attached.get(network['name'])
            if have is not None and not network_differs(network, have):
                continue
            if have is not None:
                self._write('POST', '/networks/%s/disconnect' % quote_path(network['name']), json_body={'Container': target_id, 'Force': False})
                self._act('disconnect', network=network['name'])
            self._write('POST', '/networks/%s/connect' % quote_path(network['name']),
                        json_body={'Container': target_id, 'EndpointConfig': endpoint_config(network)})
            self._act('connect', network=network['name'])
        if self.modes.get('networks') == 'strict':
            for name in sorted(attached):
                if name not in wanted:
                    self._write('POST', '/networks/%s/disconnect' % quote_path(name), json_body={'Container': target_id, 'Force': False})
                    self._act('disconnect', network=name)
        after_set = set(attached) | wanted
        if self.modes.get('networks') == 'strict':
            after_set = wanted
        if sorted(after_set) != before or any(a['action'] in ('connect', 'disconnect') for a in self.actions):
            self.diff_before['networks'] = before
            self.diff_after['networks'] = sorted(after_set)

    # -------------------------------------------------------------------------------- decisions

    def compare(self, container, image_info):
        """(recreate differences, update differences, image differs)."""
        desired = dict(self.desired)
        platform = desired.pop('platform', None)
        image_config = (image_info or {}).get('Config') or {}
        diffs = differences(desired, container, image_config, self.modes)
        # The engine's update leaves a limit alone when asked for 0: removing a limit needs a new container.
        in_place = [d for d in diffs if updatable(d[0]) and not (d[1] in (0, None) and d[0] not in ('restart_policy', 'restart_retries'))]
        recreate = [d for d in diffs if d not in in_place]
        update = in_place
        image_differs = False
        if self.params.get('image') is not None and self.modes.get('image') != 'ignore':
            wanted = (image_info or {}).get('Id')
            image_differs = wanted is None or wanted != container.get('Image')
            if image_differs:
                self.diff_before['image'] = container.get('Image')
                self.diff_after['image'] = wanted or self.params['image']
        if platform and image_info and self.modes.get('platform') != 'ignore':
            parts = (image_info.get('Os'), image_info.get('Architecture'), image_info.get('Variant'))
            have = normalize_platform('/'.join(p for p in parts if p))
            if have and have != platform and not platform.startswith(have + '/'):
                recreate.append(('platform', platform, have))
        for name, expected, current in recreate + update:
            self.diff_before[name] = printable(current)
            self.diff_after[name] = printable(expected)
        return recreate, update, image_differs

    def present(self, container):
        state = self.params['state']
        self._resolve_container_modes()
        image_info = self.resolve_image(container)
        image_ref = self.params.get('image')
        was_running = bool(container and (container.get('State') or {}).get('Running'))
        created = False
        if container is None:
            if image_ref is None:
                raise PortainerError('image: container %s does not exist; give image to create it' % self.name)
            self.diff_before.update(exists=False, running=False)
            self.diff_after.update(exists=True, running=state in ('started', 'healthy'))
            for name, value in sorted(self.desired.items()):
                self.diff_after[name] = printable(value)
            try:
                new_id = self.create(image_ref)
            except NameTaken as taken:
                return self._converge_on(taken.container)
            container = self._reinspect(new_id)
            created = True
        else:
            recreate, update, image_differs = self.compare(container, image_info)
            if recreate or image_differs or self.params.get('recreate'):
                self.remove(container)
                try:
                    new_id = self.create(image_ref or container['Image'])
                except NameTaken as taken:
                    return self._converge_on(taken.container)
                container = self._reinspect(new_id)
                created = True
            elif update:
                names = [d[0] for d in update]
                body = update_body(names, self.desired, container)
                self._write('POST', '/containers/%s/update' % container['Id'], json_body=body)
                self._act('update', id=container['Id'], parameters=body)
        self.sync_networks(container, created)
        container = self.apply_state(container, created, was_running)
        return container

    def _converge_on(self, container):
        """Another task created the container while this one was creating it: converge on that one, once."""
        if self._raced:
            raise PortainerError('name: the container %s keeps being created by another task at the same time; run the task again' % self.name)
        self._raced = True
        self.diff_before.clear()
        self.diff_after.clear()
        return self.present(container)

    def _reinspect(self, container_id):
        if self.check_mode or not container_id:
            return None
        return self.docker.inspect_container(container_id)

    def apply_state(self, container, created, was_running):
        """Start, stop, unpause or restart as ``state`` asks; returns the container as last seen."""
        state = self.params['state']
        if not created and container is not None and self._just_created_elsewhere(container):
            # Found after another task (a parallel fork) created it, or after losing the create to it.
            container = self._started_by_creator(container)
        running = bool(container and (container.get('State') or {}).get('Running'))
        paused = bool(container and (container.get('State') or {}).get('Paused'))
        cid = (container or {}).get('Id')
        if state in ('started', 'healthy') or (state == 'present' and created and was_running):
            if not running and self._start(cid):
                self._act('start', id=cid)
                if not created:
                    self.diff_before['running'] = False
                    self.diff_after['running'] = True
            elif paused:
                self._write('POST', '/containers/%s/unpause' % cid)
                self._act('unpause', id=cid)
            elif self.params.get('restart') and not created:
                seconds = self._stop_timeout(container)
                self._write('POST', '/containers/%s/restart' % cid, params={'t': seconds} if seconds is not None else None,
                            timeout=self._http_timeout(seconds))
                self._act('restart', id=cid)
        elif state == 'stopped' and running and container is not None:
            self.stop(container)
            self.diff_before['running'] = True
            self.diff_after['running'] = False
        return container

    def wait_healthy(self, container):
        if self.check_mode or container is None:
            return container
        timeout = self.params.get('healthy_wait_timeout')
        deadline = time.monotonic() + (timeout if timeout is not None else 300)
        while True:
            container = self.docker.inspect_container(container['Id'])
            if container is None:
                raise PortainerError('state: container %s disappeared while waiting for it to become healthy' % self.name)
            state = container.get('State') or {}
            health = (state.get('Health') or {}).get('Status')
            if not state.get('Running'):
                raise PortainerError('state: container %s stopped (exit code %s) while waiting for it to become healthy'
                                     % (self.name, state.get('ExitCode')))
            if health in (None, '', 'none', 'healthy'):
                return container
            if time.monotonic() > deadline:
                log = (state.get('Health') or {}).get('Log') or [{}]
                last = (log[-1] or {}).get('Output', '').strip()
                raise PortainerError('healthy_wait_timeout: container %s was still %s after %ss%s'
                                     % (self.name, health, timeout, ('; last health check output: %s' % last[:300]) if last else ''))
            time.sleep(WAIT_STEP)

    # -------------------------------------------------------------------------------- entry

    def run(self):
        self.docker = DockerProxy(self.client, self.client.endpoint_id(self.params['endpoint']), self.params['endpoint'])
        container = self.docker.inspect_container(self.name)
        if container is not None and (container.get('State') or {}).get('Status') == 'removing':
            self.wait_removed(container['Id'])
            container = None
        if self.params['state'] == 'absent':
            if container is not None:
                self.diff_before.update(exists=True, running=bool((container.get('State') or {}).get('Running')))
                self.diff_after.update(exists=False, running=False)
                self.remove(container)
            result = {}
        else:
            final = self.present(container)
            if self.params['state'] == 'healthy':
                final = self.wait_healthy(final)
            elif self.changed and not self.check_mode and final is not None:
                final = self.docker.inspect_container(final['Id'])
            result = final if final is not None else (container or {})
        return result

    def diff(self):
        return {'before': printable(self.diff_before), 'after': printable(self.diff_after)}
