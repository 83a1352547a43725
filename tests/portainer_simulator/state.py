"""Persistent simulator state: a JSON document in the data directory, guarded by one lock."""

import copy
import json
import os
import threading

from . import util

COLLECTIONS = ('users', 'api_keys', 'endpoints', 'groups', 'tags', 'stacks', 'registries', 'resource_controls')

DEFAULT_SETTINGS = {
    'AuthenticationMethod': 1,
    'InternalAuthSettings': {'RequiredPasswordLength': 12},
    'UserSessionTimeout': '8h',
    'SnapshotInterval': '5m',
    'EdgeAgentCheckinInterval': 5,
    'EnableEdgeComputeFeatures': False,
    'EnforceEdgeID': True,
    'BlackListedLabels': [],
    'LogoURL': '',
    'EnableTelemetry': False,
    'TemplatesURL': '',
}


class Store:
    """All persistent objects. Mutate only while holding `lock`, then call `save()`."""

    def __init__(self, data_dir):
        self.data_dir = os.path.abspath(data_dir)
        self.path = os.path.join(self.data_dir, 'state.json')
        self.lock = threading.RLock()
        os.makedirs(self.data_dir, exist_ok=True)
        for sub in ('compose', 'tls', 'docker_config'):
            os.makedirs(os.path.join(self.data_dir, sub), exist_ok=True)
        self.data = self._load()

    def _load(self):
        data = None
        if os.path.exists(self.path):
            with open(self.path, encoding='utf-8') as handle:
                data = json.load(handle)
        if not data:
            data = {}
        data.setdefault('instance_id', util.new_uuid())
        settings = data.setdefault('settings', {})
        for key, value in DEFAULT_SETTINGS.items():
            settings.setdefault(key, copy.deepcopy(value))
        for name in COLLECTIONS:
            data.setdefault(name, [])
        data.setdefault('counters', {})
        data.setdefault('snapshots', {})
        if not any(group['Id'] == 1 for group in data['groups']):
            data['groups'].insert(0, {
                'Id': 1, 'Name': 'Unassigned', 'Description': 'Unassigned environments', 'Labels': [],
                'UserAccessPolicies': {}, 'TeamAccessPolicies': {}, 'TagIds': [],
                'AuthorizedUsers': None, 'AuthorizedTeams': None,
            })
            data['counters']['groups'] = max(data['counters'].get('groups', 0), 1)
        return data

    def save(self):
        """Write the state atomically."""
        with self.lock:
            tmp = self.path + '.tmp'
            with open(tmp, 'w', encoding='utf-8') as handle:
                json.dump(self.data, handle, indent=1, sort_keys=True)
            os.replace(tmp, self.path)

    def next_id(self, kind):
        """Allocate the next integer identifier of a collection (never reused)."""
        with self.lock:
            current = self.data['counters'].get(kind, 0)
            existing = max([item.get('Id', item.get('ID', 0)) for item in self.data.get(kind, [])] or [0])
            value = max(current, existing) + 1
            self.data['counters'][kind] = value
            return value

    def items(self, kind):
        """The live list of a collection (hold the lock while iterating when mutating)."""
        return self.data[kind]

    def get(self, kind, ident, key='Id'):
        """Find an object by id, or None."""
        for item in self.data[kind]:
            if item.get(key) == ident:
                return item
        return None

    def remove(self, kind, ident, key='Id'):
        """Remove an object by id; returns it or None."""
        with self.lock:
            for index, item in enumerate(self.data[kind]):
                if item.get(key) == ident:
                    return self.data[kind].pop(index)
        return None

    @property
    def settings(self):
        """The Settings object."""
        return self.data['settings']

    def compose_dir(self, stack_id):
        """Real directory of a stack's project files."""
        return os.path.join(self.data_dir, 'compose', str(stack_id))

    def tls_dir(self, endpoint_id):
        """Real directory of an endpoint's TLS files."""
        return os.path.join(self.data_dir, 'tls', str(endpoint_id))

    def public_path(self, real_path):
        """Translate a path under the data dir to the path Portainer reports (/data/...)."""
        if real_path and real_path.startswith(self.data_dir):
            return '/data' + real_path[len(self.data_dir):]
        return real_path

    def real_path(self, public_path):
        """Translate a /data/... path back to the real path under the data dir."""
        if public_path and public_path.startswith('/data/'):
            return os.path.join(self.data_dir, public_path[len('/data/'):])
        return public_path
