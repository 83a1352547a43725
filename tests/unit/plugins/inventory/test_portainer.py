# -*- coding: utf-8 -*-
# Copyright (c) pier.portainer contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import base64
import json
import time

from urllib.parse import parse_qs, urlsplit

import pytest
import responses
import yaml

from ansible import constants as C
from ansible.errors import AnsibleParserError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import fragment_loader
from ansible.utils.plugin_docs import get_docstring

from ansible_collections.pier.portainer.plugins.inventory import portainer as plugin_module
from ansible_collections.pier.portainer.plugins.module_utils import _api
from ansible_collections.pier.portainer.plugins.inventory.portainer import (
    InventoryModule,
    assign_host_names,
    container_matches,
    container_name,
    label_filters,
    stack_of,
    without_env,
)

BASE = 'https://portainer.test:9443'
API_KEY = 'ptr_CANARY-inventory-key-0123456789'
PASSWORD = 'CANARY-inventory-password-4242'
PLUGIN = 'pier.portainer.portainer'

ENDPOINTS = [
    # Listed out of id order on purpose: the naming rule goes by id, not by the order of the answer.
    {'Id': 3, 'Name': 'test-remote', 'Type': 1, 'URL': 'tcp://127.0.0.1:2375', 'EdgeKey': 'CANARY-edge-key'},
    {'Id': 1, 'Name': 'test-local', 'Type': 1, 'URL': 'unix:///var/run/docker.sock'},
    {'Id': 5, 'Name': 'kube', 'Type': 5, 'URL': 'https://kubernetes.default.svc'},
]


def container(name, cid, state='running', labels=None, image='pier-test/web:1', names=None):
    return {
        'Id': cid,
        'Names': names or ['/' + name],
        'Image': image,
        'ImageID': 'sha256:' + 'a' * 64,
        'Command': 'httpd -f',
        'Created': 1700000000,
        'State': state,
        'Status': 'Up 3 minutes' if state == 'running' else 'Exited (0) 1 minute ago',
        'Ports': [{'IP': '0.0.0.0', 'PrivatePort': 80, 'PublicPort': 18400, 'Type': 'tcp'}] if state == 'running' else [],
        'Labels': labels or {},
        'Portainer': {'ResourceControl': {'Id': 7}},
    }


WEB = container('web', 'c' * 64, labels={'com.docker.compose.project': 'shop', 'role': 'web'})
DB = container('db', 'd' * 64, state='exited', labels={'com.docker.compose.project': 'shop', 'role': 'db'})
SVC = container('app_api.1.x1y2', 'e' * 64, labels={'com.docker.stack.namespace': 'app', 'role': 'api'})
LOCAL_CONTAINERS = [WEB, DB]
REMOTE_CONTAINERS = [container('web', 'f' * 64, labels={'role': 'web'}), SVC]


def make_jwt(**claims):
    body = dict(id=1, username='admin', role=1, exp=int(time.time() + 3600))
    body.update(claims)
    part = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b'=').decode()
    return 'eyJhbGciOiJIUzI1NiJ9.%s.CANARYSIGNATURE' % part


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in ('PORTAINER_URL', 'PORTAINER_API_KEY', 'PORTAINER_USERNAME', 'PORTAINER_PASSWORD',
                 'PORTAINER_VALIDATE_CERTS', 'PORTAINER_CA_PATH', 'PORTAINER_TIMEOUT', 'PORTAINER_TOKEN_CACHE'):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv('PORTAINER_TOKEN_CACHE_DIR', str(tmp_path / 'token-cache'))
    monkeypatch.setattr(_api.time, 'sleep', lambda seconds: None)


@pytest.fixture(scope='module')
def option_definitions():
    doc = get_docstring(plugin_module.__file__, fragment_loader, collection_name='pier.portainer', plugin_type='inventory')[0]
    C.config.initialize_plugin_configuration_definitions('inventory', PLUGIN, doc['options'])
    return doc['options']


class Warnings:
    def __init__(self):
        self.messages = []

    def warning(self, msg, *args, **kwargs):  # pylint: disable=unused-argument
        self.messages.append(msg)

    def __getattr__(self, name):  # vvv, debug, deprecated, ...
        return lambda *args, **kwargs: None


@pytest.fixture
def run(tmp_path, option_definitions):  # pylint: disable=redefined-outer-name,unused-argument
    """Run the plugin on a config (a dict) and return (inventory, plugin)."""

    def runner(config, cache=True, filename='test.portainer.yml'):
        config = dict(config)
        config.setdefault('plugin', PLUGIN)
        path = tmp_path / filename
        path.write_text(yaml.safe_dump(config))
        plugin = InventoryModule()
        plugin._load_name = PLUGIN  # pylint: disable=protected-access
        plugin.ansible_name = PLUGIN
        plugin._redirected_names = [PLUGIN]  # pylint: disable=protected-access
        plugin.display = Warnings()
        inventory = InventoryData()
        assert plugin.verify_file(str(path))
        plugin.parse(inventory, DataLoader(), str(path), cache=cache)
        if plugin.get_option('cache'):
            plugin.update_cache_if_changed()
        return inventory, plugin

    return runner


def key_config(**kwargs):
    config = {'portainer_url': BASE, 'portainer_api_key': API_KEY}
    config.update(kwargs)
    return config


def add_endpoints(rsps, endpoints=None):
    rsps.add(responses.GET, BASE + '/api/endpoints', json=ENDPOINTS if endpoints is None else endpoints)


def add_containers(rsps, endpoint_id, containers, status=200):
    rsps.add(responses.GET, BASE + '/api/endpoints/%d/docker/containers/json' % endpoint_id, json=containers, status=status)


def query_of(call):
    return parse_qs(urlsplit(call.request.url).query)


def hostvars(inventory, host):
    return inventory.get_host(host).get_vars()


def group_hosts(inventory, group):
    return sorted(h.name for h in inventory.groups[group].get_hosts()) if group in inventory.groups else []


# ------------------------------------------------------------------ pure helpers

@pytest.mark.parametrize('names, expected', [
    (['/web01'], 'web01'),
    (['/other/alias', '/web01'], 'web01'),
    (['/other/alias'], 'other/alias'),
    ([], 'cccccccccccc'),
])
def test_container_name(names, expected):
    assert container_name({'Id': 'c' * 64, 'Names': names}) == expected


@pytest.mark.parametrize('labels, expected', [
    ({}, (None, None)),
    (None, (None, None)),
    ({'com.docker.compose.project': 'shop'}, ('shop', 'compose')),
    ({'com.docker.stack.namespace': 'app'}, ('app', 'swarm')),
    ({'com.docker.stack.namespace': 'app', 'com.docker.compose.project': 'x'}, ('app', 'swarm')),
    ({'com.docker.compose.project': ''}, (None, None)),
])
def test_stack_of(labels, expected):
    assert stack_of(labels) == expected


@pytest.mark.parametrize('labels, expected', [
    ({}, []),
    ({'role': 'web'}, ['role=web']),
    ({'b': None, 'a': ''}, ['a', 'b']),
    ({'enabled': True, 'n': 3}, ['enabled=true', 'n=3']),
])
def test_label_filters(labels, expected):
    assert label_filters(labels) == expected


@pytest.mark.parametrize('states, labels, expected', [
    ([], {}, True),
    (['running'], {}, True),
    (['exited'], {}, False),
    ([], {'role': 'web'}, True),
    ([], {'role': 'db'}, False),
    ([], {'role': None}, True),
    ([], {'missing': None}, False),
    (['running', 'exited'], {'role': 'web', 'com.docker.compose.project': 'shop'}, True),
])
def test_container_matches(states, labels, expected):
    assert container_matches(WEB, states, labels) is expected


def test_naming_rule_goes_by_endpoint_id():
    local = {'Id': 1, 'Name': 'test-local'}
    remote = {'Id': 3, 'Name': 'test-remote'}
    entries = [(remote, {'Id': 'r', 'Names': ['/web']}), (local, {'Id': 'l', 'Names': ['/web']}),
               (remote, {'Id': 'r2', 'Names': ['/api']})]
    named = [(host, endpoint['Id']) for host, endpoint, _c in assign_host_names(entries)]
    assert named == [('web', 1), ('api', 3), ('web@test-remote', 3)]
    qualified = [host for host, _e, _c in assign_host_names(entries, 'qualified')]
    assert qualified == ['web@test-local', 'api@test-remote', 'web@test-remote']


def test_naming_rule_with_two_endpoints_of_the_same_name():
    first = {'Id': 2, 'Name': 'dup'}
    second = {'Id': 4, 'Name': 'dup'}
    third = {'Id': 9, 'Name': 'other'}
    entries = [(second, {'Id': 'b', 'Names': ['/web']}), (first, {'Id': 'a', 'Names': ['/web']}),
               (third, {'Id': 'c', 'Names': ['/web']})]
    assert [h for h, _e, _c in assign_host_names(entries)] == ['web', 'web@dup', 'web@other']
    assert [h for h, _e, _c in assign_host_names(entries, 'qualified')] == ['web@dup', 'web@4', 'web@other']


def test_without_env():
    inspect = {'Id': 'x', 'Config': {'Env': ['PASSWORD=CANARY'], 'Image': 'i'}}
    assert without_env(inspect) == {'Id': 'x', 'Config': {'Image': 'i'}}
    assert inspect['Config']['Env'] == ['PASSWORD=CANARY']


@pytest.mark.parametrize('filename, ok', [
    ('portainer.yml', True),
    ('prod.portainer.yaml', True),
    ('test_portainer.yml', True),
    ('portainer.json', False),
    ('inventory.yml', False),
])
def test_verify_file(tmp_path, filename, ok):
    path = tmp_path / filename
    path.write_text('plugin: %s\n' % PLUGIN)
    plugin = InventoryModule()
    plugin.display = Warnings()
    assert plugin.verify_file(str(path)) is ok


# ------------------------------------------------------------------ the whole plugin

@responses.activate
def test_hosts_vars_and_groups(run):
    add_endpoints(responses)
    add_containers(responses, 1, LOCAL_CONTAINERS)
    add_containers(responses, 3, REMOTE_CONTAINERS)
    inventory, _plugin = run(key_config())

    assert sorted(inventory.hosts) == ['app_api.1.x1y2', 'db', 'web', 'web@test-remote']
    web = hostvars(inventory, 'web')
    assert web['portainer_container_id'] == 'c' * 64
    assert web['portainer_container_name'] == 'web'
    assert web['portainer_image'] == 'pier-test/web:1'
    assert web['portainer_image_id'] == 'sha256:' + 'a' * 64
    assert web['portainer_state'] == 'running'
    assert web['portainer_status'] == 'Up 3 minutes'
    assert web['portainer_created'] == 1700000000
    assert web['portainer_labels'] == {'com.docker.compose.project': 'shop', 'role': 'web'}
    assert web['portainer_ports'][0]['PublicPort'] == 18400
    assert web['portainer_endpoint_id'] == 1
    assert web['portainer_endpoint_name'] == 'test-local'
    assert web['portainer_stack'] == 'shop'
    assert web['portainer_stack_type'] == 'compose'
    assert 'portainer_inspect' not in web
    remote_web = hostvars(inventory, 'web@test-remote')
    assert remote_web['portainer_endpoint_id'] == 3
    assert remote_web['portainer_container_name'] == 'web'
    assert remote_web['portainer_stack'] is None
    assert hostvars(inventory, 'app_api.1.x1y2')['portainer_stack_type'] == 'swarm'

    assert group_hosts(inventory, 'portainer_endpoint_test_local') == ['db', 'web']
    assert group_hosts(inventory, 'portainer_endpoint_test_remote') == ['app_api.1.x1y2', 'web@test-remote']
    assert group_hosts(inventory, 'portainer_stack_shop') == ['db', 'web']
    assert group_hosts(inventory, 'portainer_stack_app') == ['app_api.1.x1y2']
    assert group_hosts(inventory, 'portainer_state_running') == ['app_api.1.x1y2', 'web', 'web@test-remote']
    assert group_hosts(inventory, 'portainer_state_exited') == ['db']

    # One request for the environments, one per Docker environment; the Kubernetes one is skipped.
    assert len(responses.calls) == 3
    assert query_of(responses.calls[0]) == {'excludeSnapshots': ['true']}
    for call in responses.calls[1:]:
        assert query_of(call) == {'all': ['1']}
        assert call.request.headers['X-API-KEY'] == API_KEY
    # What Portainer adds is not a host variable, nor is anything of the endpoint but its id and name.
    dumped = json.dumps([hostvars(inventory, h) for h in inventory.hosts])
    assert 'ResourceControl' not in dumped
    assert 'CANARY-edge-key' not in dumped
    assert API_KEY not in dumped


@responses.activate
def test_naming_does_not_depend_on_answer_order(run):
    add_endpoints(responses, list(reversed(ENDPOINTS)))
    add_containers(responses, 1, list(reversed(LOCAL_CONTAINERS)))
    add_containers(responses, 3, list(reversed(REMOTE_CONTAINERS)))
    inventory, _plugin = run(key_config())
    assert hostvars(inventory, 'web')['portainer_endpoint_id'] == 1
    assert hostvars(inventory, 'web@test-remote')['portainer_endpoint_id'] == 3


@responses.activate
def test_qualified_names_and_no_default_groups(run):
    add_endpoints(responses)
    add_containers(responses, 1, LOCAL_CONTAINERS)
    add_containers(responses, 3, REMOTE_CONTAINERS)
    inventory, _plugin = run(key_config(host_naming='qualified', default_groups=False))
    assert sorted(inventory.hosts) == ['app_api.1.x1y2@test-remote', 'db@test-local', 'web@test-local', 'web@test-remote']
    assert not [g for g in inventory.groups if g.startswith('portainer_')]


@responses.activate
def test_constructed_options(run):
    add_endpoints(responses)
    add_containers(responses, 1, LOCAL_CONTAINERS)
    add_containers(responses, 3, REMOTE_CONTAINERS)
    inventory, _plugin = run(key_config(
        compose={'short_id': 'portainer_container_id[:12]', 'ansible_connection': "'local'"},
        groups={'webservers': "portainer_labels.role == 'web'", 'on_local': 'portainer_endpoint_id == 1'},
        keyed_groups=[{'key': 'portainer_labels.role', 'prefix': 'role'},
                      {'key': "portainer_stack | default('none', true)", 'prefix': 'stack'}],
    ))
    assert hostvars(inventory, 'web')['short_id'] == 'c' * 12
    assert hostvars(inventory, 'db')['ansible_connection'] == 'local'
    assert group_hosts(inventory, 'webservers') == ['web', 'web@test-remote']
    assert group_hosts(inventory, 'on_local') == ['db', 'web']
    assert group_hosts(inventory, 'role_api') == ['app_api.1.x1y2']
    assert group_hosts(inventory, 'role_db') == ['db']
    assert group_hosts(inventory, 'stack_none') == ['web@test-remote']
    assert group_hosts(inventory, 'stack_shop') == ['db', 'web']


@responses.activate
def test_strict_makes_a_bad_expression_fatal(run):
    add_endpoints(responses)
    add_containers(responses, 1, LOCAL_CONTAINERS)
    add_containers(responses, 3, REMOTE_CONTAINERS)
    inventory, _plugin = run(key_config(compose={'x': 'portainer_nothing.here'}))
    assert 'x' not in hostvars(inventory, 'web')
    with pytest.raises(Exception, match='x'):
        run(key_config(compose={'x': 'portainer_nothing.here'}, strict=True))


@responses.activate
def test_label_values_are_never_templated(run):
    evil = container('evil', '9' * 64, labels={'note': "{{ lookup('ansible.builtin.env', 'HOME') }}"})
    add_endpoints(responses, [ENDPOINTS[1]])
    add_containers(responses, 1, [evil])
    inventory, _plugin = run(key_config(compose={'copied': 'portainer_labels.note'}))
    assert hostvars(inventory, 'evil')['copied'] == "{{ lookup('ansible.builtin.env', 'HOME') }}"


@responses.activate
def test_filters_are_sent_to_docker_and_one_name_is_looked_up_by_name(run):
    responses.add(responses.GET, BASE + '/api/endpoints', json=[ENDPOINTS[1]],
                  match=[responses.matchers.query_param_matcher({'name': 'test-local', 'excludeSnapshots': 'true'})])
    # Docker applied the filters; an engine that ignored them would be caught by the second check.
    add_containers(responses, 1, LOCAL_CONTAINERS)
    inventory, _plugin = run(key_config(endpoints=['test-local'], states=['running', 'paused'],
                                        labels={'role': 'web', 'com.docker.compose.project': None}))
    assert sorted(inventory.hosts) == ['web']
    assert len(responses.calls) == 2
    query = query_of(responses.calls[1])
    assert query['all'] == ['1']
    assert json.loads(query['filters'][0]) == {'status': ['running', 'paused'], 'label': ['com.docker.compose.project', 'role=web']}


@responses.activate
def test_several_names_one_listing(run):
    add_endpoints(responses)
    add_containers(responses, 3, REMOTE_CONTAINERS)
    add_containers(responses, 1, LOCAL_CONTAINERS)
    inventory, _plugin = run(key_config(environments=['test-remote', 'test-local']))
    assert len(responses.calls) == 3
    assert query_of(responses.calls[0]) == {'excludeSnapshots': ['true']}
    # Selected by name, still named by id order.
    assert hostvars(inventory, 'web')['portainer_endpoint_name'] == 'test-local'


@responses.activate
def test_only_the_named_endpoint(run):
    add_endpoints(responses)
    add_containers(responses, 3, REMOTE_CONTAINERS)
    # An old Portainer ignores ?name= and answers every endpoint: only the named one is used.
    inventory, _plugin = run(key_config(endpoints=['test-remote']))
    assert sorted(inventory.hosts) == ['app_api.1.x1y2', 'web']
    assert hostvars(inventory, 'web')['portainer_endpoint_name'] == 'test-remote'
    assert len(responses.calls) == 2


@responses.activate
def test_unknown_endpoint_name_is_an_error(run):
    add_endpoints(responses, [])
    with pytest.raises(AnsibleParserError, match="endpoints: no Portainer environment named 'nope'"):
        run(key_config(endpoints=['nope']))
    assert len(responses.calls) == 1


@responses.activate
def test_kubernetes_endpoint_named_is_an_error(run):
    add_endpoints(responses)
    with pytest.raises(AnsibleParserError, match="'kube' is a Kubernetes environment"):
        run(key_config(endpoints=['kube', 'test-local']))


@responses.activate
def test_bad_state_choice(run):
    with pytest.raises(Exception, match='states'):
        run(key_config(states=['up']))
    assert len(responses.calls) == 0


@responses.activate
def test_verbose_output_inspects_each_container_without_env(run):
    add_endpoints(responses, [ENDPOINTS[1]])
    add_containers(responses, 1, LOCAL_CONTAINERS)
    for item in LOCAL_CONTAINERS:
        responses.add(responses.GET, BASE + '/api/endpoints/1/docker/containers/%s/json' % item['Id'],
                      json={'Id': item['Id'], 'Config': {'Env': ['DB_PASSWORD=CANARY-db'], 'Hostname': item['Id'][:12]},
                            'Portainer': {'ResourceControl': {}}})
    inventory, _plugin = run(key_config(verbose_output=True))
    assert len(responses.calls) == 1 + 1 + 2
    inspect = hostvars(inventory, 'web')['portainer_inspect']
    assert inspect == {'Id': WEB['Id'], 'Config': {'Hostname': 'c' * 12}}
    assert 'CANARY-db' not in json.dumps(hostvars(inventory, 'db'))


@responses.activate
def test_container_gone_before_inspect(run):
    add_endpoints(responses, [ENDPOINTS[1]])
    add_containers(responses, 1, [WEB])
    responses.add(responses.GET, BASE + '/api/endpoints/1/docker/containers/%s/json' % WEB['Id'],
                  json={'message': 'No such container'}, status=404)
    inventory, _plugin = run(key_config(verbose_output=True))
    assert hostvars(inventory, 'web').get('portainer_inspect') is None


@responses.activate
def test_an_endpoint_that_fails_is_skipped_with_a_warning(run):
    add_endpoints(responses)
    add_containers(responses, 1, LOCAL_CONTAINERS)
    responses.add(responses.GET, BASE + '/api/endpoints/3/docker/containers/json',
                  json={'message': 'Unable to proxy the request via the Docker socket', 'details': API_KEY}, status=500)
    inventory, plugin = run(key_config())
    assert sorted(inventory.hosts) == ['db', 'web']
    assert len(plugin.display.messages) == 1
    assert "'test-remote' (id 3)" in plugin.display.messages[0]
    assert API_KEY not in plugin.display.messages[0]


@responses.activate
def test_an_endpoint_that_fails_fails_with_endpoint_errors_fail(run):
    add_endpoints(responses)
    add_containers(responses, 1, LOCAL_CONTAINERS)
    responses.add(responses.GET, BASE + '/api/endpoints/3/docker/containers/json', body='', status=502)
    with pytest.raises(AnsibleParserError) as info:
        run(key_config(endpoint_errors='fail'))
    assert "'test-remote'" in str(info.value) and 'endpoint_errors' in str(info.value)


@responses.activate
def test_refused_key_is_a_clean_error_without_the_key(run):
    responses.add(responses.GET, BASE + '/api/endpoints', json={'message': 'Invalid JWT token', 'details': 'Unauthorized'}, status=401)
    with pytest.raises(AnsibleParserError) as info:
        run(key_config())
    assert 'portainer_api_key' in str(info.value)
    assert API_KEY not in str(info.value)


def test_no_url(run):
    with pytest.raises(AnsibleParserError, match='PORTAINER_URL'):
        run({'portainer_api_key': API_KEY})


def test_no_credentials(run):
    with pytest.raises(AnsibleParserError, match='PORTAINER_API_KEY'):
        run({'portainer_url': BASE})


def test_both_credentials(run):
    with pytest.raises(AnsibleParserError, match='mutually exclusive') as info:
        run(key_config(portainer_username='admin', portainer_password=PASSWORD))
    assert PASSWORD not in str(info.value) and API_KEY not in str(info.value)


@responses.activate
def test_connection_from_environment_variables(run, monkeypatch):
    monkeypatch.setenv('PORTAINER_URL', BASE + '/api/')
    monkeypatch.setenv('PORTAINER_API_KEY', API_KEY)
    monkeypatch.setenv('PORTAINER_TIMEOUT', '7')
    add_endpoints(responses, [ENDPOINTS[1]])
    add_containers(responses, 1, [WEB])
    inventory, plugin = run({})
    assert sorted(inventory.hosts) == ['web']
    assert plugin.client.timeout == 7.0
    assert responses.calls[1].request.headers['X-API-KEY'] == API_KEY


@responses.activate
def test_connection_options_may_be_templates(run, monkeypatch):
    monkeypatch.setenv('PIER_TEST_KEY', API_KEY)
    add_endpoints(responses, [ENDPOINTS[1]])
    add_containers(responses, 1, [WEB])
    inventory, _plugin = run({'portainer_url': BASE, 'portainer_api_key': "{{ lookup('env', 'PIER_TEST_KEY') }}"})
    assert sorted(inventory.hosts) == ['web']
    assert responses.calls[0].request.headers['X-API-KEY'] == API_KEY


@responses.activate
def test_username_and_password_log_in_once_and_reuse_the_token(run):
    jwt = make_jwt()
    responses.add(responses.POST, BASE + '/api/auth', json={'jwt': jwt})
    add_endpoints(responses, [ENDPOINTS[1]])
    add_containers(responses, 1, [WEB])
    config = {'portainer_url': BASE, 'portainer_username': 'admin', 'portainer_password': PASSWORD}
    run(config)
    run(config)
    logins = [c for c in responses.calls if c.request.url.endswith('/api/auth')]
    assert len(logins) == 1
    assert responses.calls[-1].request.headers['Authorization'] == 'Bearer ' + jwt
    assert len(responses.calls) == 1 + 2 + 2


@responses.activate
def test_cache(run, tmp_path):
    cache_dir = tmp_path / 'inventory-cache'
    add_endpoints(responses)
    add_containers(responses, 1, LOCAL_CONTAINERS)
    add_containers(responses, 3, REMOTE_CONTAINERS)
    config = key_config(cache=True, cache_plugin='jsonfile', cache_connection=str(cache_dir))

    first, _plugin = run(config)
    assert len(responses.calls) == 3
    cached = ''.join(p.read_text() for p in cache_dir.iterdir())
    assert 'test-local' in cached
    for secret in (API_KEY, 'CANARY-edge-key'):
        assert secret not in cached

    # Read from the cache: no request at all, same inventory.
    second, _plugin = run(config)
    assert len(responses.calls) == 3
    assert sorted(second.hosts) == sorted(first.hosts)
    assert hostvars(second, 'web') == hostvars(first, 'web')
    assert group_hosts(second, 'portainer_stack_shop') == ['db', 'web']

    # --flush-cache (cache=False) fetches again and refreshes the cache.
    run(config, cache=False)
    assert len(responses.calls) == 6

    # Changed filters do not reuse data fetched for other ones.
    run(dict(config, states=['running']))
    assert len(responses.calls) == 9


@responses.activate
def test_cache_off_always_fetches(run):
    add_endpoints(responses)
    add_containers(responses, 1, LOCAL_CONTAINERS)
    add_containers(responses, 3, REMOTE_CONTAINERS)
    run(key_config())
    run(key_config())
    assert len(responses.calls) == 6
