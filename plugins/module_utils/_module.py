# -*- coding: utf-8 -*-
# Copyright (c) pier.portainer contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to the pier.portainer collection. It may change without notice
# and must not be used by other collections.

"""The common argument spec and the AnsibleModule wrapper every module of the collection uses."""

from __future__ import annotations

import copy
import traceback

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

try:
    from ansible.module_utils.basic import _load_params
except ImportError:  # pragma: no cover - every supported ansible-core has it
    _load_params = None

from ansible_collections.pier.portainer.plugins.module_utils._api import (
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
    PortainerAPIError,
    PortainerClient,
    PortainerError,
    StaleEndpoint,
)

# Documented in plugins/doc_fragments/_portainer.py; keep both in step.
PORTAINER_COMMON_ARGS = dict(
    portainer_url=dict(type='str', required=True, fallback=(env_fallback, ['PORTAINER_URL'])),
    portainer_api_key=dict(type='str', no_log=True, fallback=(env_fallback, ['PORTAINER_API_KEY'])),
    portainer_username=dict(type='str', fallback=(env_fallback, ['PORTAINER_USERNAME'])),
    portainer_password=dict(type='str', no_log=True, fallback=(env_fallback, ['PORTAINER_PASSWORD'])),
    validate_certs=dict(type='bool', default=True, fallback=(env_fallback, ['PORTAINER_VALIDATE_CERTS'])),
    ca_path=dict(type='path', fallback=(env_fallback, ['PORTAINER_CA_PATH'])),
    request_timeout=dict(type='float', default=30.0, fallback=(env_fallback, ['PORTAINER_TIMEOUT'])),
    token_cache=dict(type='bool', default=True, fallback=(env_fallback, ['PORTAINER_TOKEN_CACHE'])),
    endpoint_cache_ttl=dict(type='int', default=300, fallback=(env_fallback, ['PORTAINER_ENDPOINT_CACHE_TTL'])),
)

NO_CREDENTIALS = (
    'Portainer needs credentials: set portainer_api_key (or the environment variable PORTAINER_API_KEY), '
    'or portainer_username and portainer_password (or PORTAINER_USERNAME and PORTAINER_PASSWORD)')


def client_from_params(params, auth_required=True):
    """Build the PortainerClient from the common options (a module's params or a plugin's options)."""
    if auth_required and not params.get('portainer_api_key') and not params.get('portainer_username'):
        raise PortainerError(NO_CREDENTIALS)
    return PortainerClient(
        url=params.get('portainer_url'),
        api_key=params.get('portainer_api_key'),
        username=params.get('portainer_username'),
        password=params.get('portainer_password'),
        validate_certs=params.get('validate_certs', True),
        ca_path=params.get('ca_path'),
        timeout=params.get('request_timeout') or 30.0,
        token_cache=params.get('token_cache', True),
        endpoint_cache_ttl=params.get('endpoint_cache_ttl') or 0,
    )


class _AnsibleModule(AnsibleModule):
    """AnsibleModule whose invocation log survives NUL characters in arguments.

    The host's syslog refuses them, and ansible-core then fails the task before the module can say which option
    is wrong; the module's own validation rejects such values with a message that names the option.
    """

    def log(self, msg, log_args=None):
        if isinstance(msg, str):
            msg = msg.replace('\0', '\\0')
        if log_args:
            log_args = dict((k, v.replace('\0', '\\0') if isinstance(v, str) else v) for k, v in log_args.items())
        super().log(msg, log_args)


def _raw_params():
    """The task's arguments before validation, or {} when they cannot be read."""
    if _load_params is None:
        return {}
    try:
        params = _load_params()
    except (Exception, SystemExit):  # pylint: disable=broad-exception-caught
        return {}
    return params if isinstance(params, dict) else {}


def _not_a_mapping(value):
    if value is None or isinstance(value, dict):
        return False
    if isinstance(value, str):
        # ansible-core parses JSON objects and key=value strings itself, with its own messages.
        return False
    return True


def misshapen_options(spec, raw):
    """Options with suboptions given something ansible-core's validation would crash on (a number, a list...)."""
    found = []
    for name, option in spec.items():
        if not option.get('options'):
            continue
        value = raw.get(name)
        if option.get('type') == 'dict' and _not_a_mapping(value):
            found.append(name)
        elif option.get('type') == 'list' and option.get('elements') == 'dict' and isinstance(value, list):
            if any(_not_a_mapping(item) for item in value):
                found.append(name)
    return found


class PortainerModule:
    """Owns the AnsibleModule and the PortainerClient of one task.

    ``argument_spec`` is the module's own spec; the common connection options are merged in.
    With ``auth_required=False`` (admin initialisation) only ``portainer_url`` is needed.
    """

    def __init__(self, argument_spec, auth_required=True, mutually_exclusive=None, required_together=None,
                 required_if=None, required_one_of=None, required_by=None, supports_check_mode=True):
        spec = copy.deepcopy(PORTAINER_COMMON_ARGS)
        spec.update(argument_spec)
        # ansible-core crashes with a TypeError when an option with suboptions gets a number or a list;
        # such options are taken as they are, then refused with a message that names them.
        misshapen = misshapen_options(spec, _raw_params())
        for name in misshapen:
            spec[name] = dict(type='raw', no_log=spec[name].get('no_log', False))
        self.module = _AnsibleModule(
            argument_spec=spec,
            mutually_exclusive=list(mutually_exclusive or []) + [
                ('portainer_api_key', 'portainer_username'),
                ('portainer_api_key', 'portainer_password'),
            ],
            required_together=list(required_together or []) + [('portainer_username', 'portainer_password')],
            required_if=required_if or [],
            required_one_of=required_one_of or [],
            required_by=required_by or {},
            supports_check_mode=supports_check_mode,
        )
        if misshapen:
            problems = []
            for name in misshapen:
                wanted = 'a list of dictionaries' if argument_spec.get(name, {}).get('type') == 'list' else 'a dictionary'
                problems.append('%s: expected %s of suboptions, got %s' % (name, wanted, type(self.module.params.get(name)).__name__))
            self.module.fail_json(msg='; '.join(problems))
        if not HAS_REQUESTS:
            self.module.fail_json(msg=missing_required_lib('requests'), exception=REQUESTS_IMPORT_ERROR)
        self._warnings = []
        self.params = self.module.params
        self.check_mode = self.module.check_mode
        self.diff_mode = self.module._diff
        try:
            self.client = client_from_params(self.params, auth_required=auth_required)
        except PortainerError as exc:
            self.module.fail_json(msg=str(exc))

    def warn(self, message):
        """Warn the user; warnings are given with the result, so a task that runs again does not repeat them."""
        self._warnings.append(self.client.redact(message))

    def _give_warnings(self):
        for message in self._warnings:
            self.module.warn(message)
        self._warnings = []

    def fail(self, msg, **kwargs):
        kwargs.setdefault('changed', False)
        self._give_warnings()
        self.module.fail_json(msg=self.client.redact(msg), **kwargs)

    def exit(self, **kwargs):
        if kwargs.get('changed'):
            # A change predicted in check mode rests on reads only: make sure they read the right environment.
            self.client.confirm_endpoints()
        self.client.close()
        self._give_warnings()
        self.module.exit_json(**kwargs)

    def _attempt(self, function):
        self._warnings = []
        try:
            function(self)
        except PortainerError as exc:
            # The failure may come from an environment id the cache still had for a renamed or removed environment.
            try:
                self.client.confirm_endpoints()
            except PortainerError:
                pass
            raise exc

    def run(self, function):
        """Call ``function(self)`` and turn every Portainer error into a clean failure; never a traceback.

        When an environment name taken from the cache turns out to stand for another environment now, nothing has
        been written yet (writes confirm the name first), and ``function`` runs once more with fresh lookups.
        """
        try:
            try:
                self._attempt(function)
            except StaleEndpoint:
                self._attempt(function)
        except StaleEndpoint as exc:
            self.fail('endpoint: %s, twice in a row; environments are being renamed while this task runs: run it again' % exc)
        except PortainerAPIError as exc:
            self.fail(str(exc), status=exc.status)
        except PortainerError as exc:
            self.fail(str(exc))
        except Exception as exc:  # pylint: disable=broad-exception-caught
            self.fail('Unexpected error: %s: %s' % (type(exc).__name__, exc), exception=self.client.redact(traceback.format_exc()))
