# -*- coding: utf-8 -*-
# Copyright (c) pier.portainer contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.pier.portainer.plugins.module_utils import _container_options as co
from ansible_collections.pier.portainer.plugins.module_utils._container_options import OptionError


# ------------------------------------------------------------------------------------------------ ports

@pytest.mark.parametrize('spec, expected', [
    ('80', [('80/tcp', '', '')]),
    ('8080:80', [('80/tcp', '', '8080')]),
    ('127.0.0.1:8080:80/udp', [('80/udp', '127.0.0.1', '8080')]),
    ('127.0.0.1::80', [('80/tcp', '127.0.0.1', '')]),
    ('[::1]:8080:80', [('80/tcp', '::1', '8080')]),
    ('[0:0:0:0:0:0:0:1]:8080:80', [('80/tcp', '::1', '8080')]),
    ('[::1]::53/udp', [('53/udp', '::1', '')]),
    ('9000-9002:9000-9002', [('9000/tcp', '', '9000'), ('9001/tcp', '', '9001'), ('9002/tcp', '', '9002')]),
    ('8000-8010:80', [('80/tcp', '', '8000-8010')]),
    ('9000-9001', [('9000/tcp', '', ''), ('9001/tcp', '', '')]),
    ('53:53/SCTP', [('53/sctp', '', '53')]),
    (' 8080:80 ', [('80/tcp', '', '8080')]),
])
def test_port_spec(spec, expected):
    assert co.parse_port_spec(spec) == expected


def test_port_spec_default_host_ip():
    assert co.parse_port_spec('8080:80', default_host_ip='0.0.0.0') == [('80/tcp', '0.0.0.0', '8080')]
    assert co.parse_port_spec('127.0.0.1:8080:80', default_host_ip='0.0.0.0') == [('80/tcp', '127.0.0.1', '8080')]


@pytest.mark.parametrize('spec, words', [
    ('', 'empty'),
    ('80:80:80:80', '1 to 3 colon-separated parts'),
    ('::1:8080:80', '1 to 3 colon-separated parts'),
    ('[::1:8080:80', 'brackets'),
    ('70000:80', '65535'),
    ('0:80', '65535'),
    ('80-70:80-70', 'upwards'),
    ('abc:80', 'not a port'),
    ('8080:', 'container port is missing'),
    ('8080:80/icmp', 'unknown protocol'),
    ('localhost:8080:80', 'not an IP address'),
    ('9000-9002:80-81', 'same length'),
])
def test_bad_port_specs_name_the_option(spec, words):
    with pytest.raises(OptionError) as info:
        co.parse_port_spec(spec)
    assert str(info.value).startswith('published_ports:')
    assert words in str(info.value)


def test_published_ports_group_bindings_per_port():
    result = co.parse_published_ports(['8080:80', '127.0.0.1:8081:80', '8080:80', '53:53/udp'])
    assert result == {
        '80/tcp': [{'HostIp': '', 'HostPort': '8080'}, {'HostIp': '127.0.0.1', 'HostPort': '8081'}],
        '53/udp': [{'HostIp': '', 'HostPort': '53'}],
    }


@pytest.mark.parametrize('bindings, expected', [
    (None, {}),
    ({'80/tcp': [{'HostIp': '', 'HostPort': '8080'}]}, {'80/tcp': [('', '8080')]}),
    ({'80': [{'HostIp': '0:0:0:0:0:0:0:1', 'HostPort': '8080'}]}, {'80/tcp': [('::1', '8080')]}),
    ({'80/tcp': None}, {'80/tcp': [('', '')]}),
    ({'80/tcp': [{'HostIp': None, 'HostPort': None}]}, {'80/tcp': [('', '')]}),
    ({'80/tcp': [{'HostPort': '2'}, {'HostPort': '1'}]}, {'80/tcp': [('', '1'), ('', '2')]}),
])
def test_normalize_port_bindings(bindings, expected):
    assert co.normalize_port_bindings(bindings) == expected


@pytest.mark.parametrize('spec, expected', [
    ('80', ['80/tcp']),
    ('53/udp', ['53/udp']),
    ('9000-9002', ['9000/tcp', '9001/tcp', '9002/tcp']),
])
def test_exposed_port(spec, expected):
    assert co.parse_exposed_port(spec) == expected


def test_exposed_ranges_explode_on_both_sides():
    assert co.normalize_exposed({'9000-9001/tcp': {}, '80/tcp': {}}) == {'9000/tcp', '9001/tcp', '80/tcp'}


# ------------------------------------------------------------------------------------------------ units

@pytest.mark.parametrize('value, expected', [
    ('512m', 512 * 1024 ** 2),
    ('1g', 1024 ** 3),
    ('1.5G', int(1.5 * 1024 ** 3)),
    ('64MiB', 64 * 1024 ** 2),
    ('64MB', 64 * 1024 ** 2),
    ('1024', 1024),
    ('10b', 10),
    ('2k', 2048),
    (0, 0),
])
def test_parse_size(value, expected):
    assert co.parse_size(value, 'memory') == expected


@pytest.mark.parametrize('value', ['lots', '-5m', '1x', '', '1.2.3m'])
def test_bad_size(value):
    with pytest.raises(OptionError, match='^memory:'):
        co.parse_size(value, 'memory')


@pytest.mark.parametrize('value, expected', [('-1', -1), ('unlimited', -1), ('1g', 1024 ** 3)])
def test_swap_unlimited(value, expected):
    assert co.parse_size(value, 'memory_swap', allow_unlimited=True) == expected


@pytest.mark.parametrize('value, expected', [
    ('30s', 30 * 10 ** 9),
    ('1m30s', 90 * 10 ** 9),
    ('500ms', 5 * 10 ** 8),
    ('1h', 3600 * 10 ** 9),
    ('1.5s', 15 * 10 ** 8),
    (10, 10 * 10 ** 9),
    ('10', 10 * 10 ** 9),
    ('2us', 2000),
])
def test_parse_duration(value, expected):
    assert co.parse_duration(value, 'healthcheck.interval') == expected


@pytest.mark.parametrize('value', ['soon', '1d', 's30', '', True, '1m30'])
def test_bad_duration(value):
    with pytest.raises(OptionError, match='^healthcheck.interval:'):
        co.parse_duration(value, 'healthcheck.interval')


# ------------------------------------------------------------------------------------------------ volumes, mounts, devices

@pytest.mark.parametrize('text, expected', [
    ('/a:/b', '/a:/b:rw'),
    ('/a:/b:rw', '/a:/b:rw'),
    ('/a:/b:ro', '/a:/b:ro'),
    ('/a:/b:z,ro', '/a:/b:ro,z'),
    ('/a:/b:Z', '/a:/b:Z,rw'),
    ('vol:/data/', 'vol:/data:rw'),
])
def test_normalize_bind(text, expected):
    assert co.normalize_bind(text) == expected


def test_parse_volumes_splits_binds_and_anonymous():
    binds, anonymous = co.parse_volumes(['/srv:/srv:ro', 'data:/data', '/cache/'])
    assert binds == ['/srv:/srv:ro', 'data:/data:rw']
    assert anonymous == ['/cache']


@pytest.mark.parametrize('spec, words', [
    ('./rel:/x', 'not expanded'),
    ('cache', 'absolute container path'),
    ('/a:relative', 'absolute target'),
    ('/a:/b:rx', 'unknown mode'),
    ('/a:/b:ro:x', 'source:target'),
])
def test_bad_volumes(spec, words):
    with pytest.raises(OptionError) as info:
        co.parse_volumes([spec])
    assert str(info.value).startswith('volumes:') and words in str(info.value)


def test_mount_roundtrip_matches_inspect():
    mount = co.parse_mount({'type': 'tmpfs', 'target': '/scratch', 'tmpfs_size': '16m', 'tmpfs_mode': '1777'})
    assert mount == {'Type': 'tmpfs', 'Target': '/scratch', 'TmpfsOptions': {'SizeBytes': 16777216, 'Mode': 0o1777}}
    inspected = {'Type': 'tmpfs', 'Target': '/scratch', 'TmpfsOptions': {'SizeBytes': 16777216, 'Mode': 1023}}
    assert co.flatten_mount(mount) == co.flatten_mount(inspected)


@pytest.mark.parametrize('mount, words', [
    ({'type': 'bind', 'target': '/x'}, 'needs source'),
    ({'type': 'volume', 'target': 'x'}, 'target'),
    ({'type': 'tmpfs', 'target': '/x', 'source': 's'}, 'no source'),
    ({'type': 'bind', 'source': '/s', 'target': '/x', 'no_copy': True}, 'only for volume'),
    ({'type': 'volume', 'target': '/x', 'tmpfs_size': '1m'}, 'only for tmpfs'),
    ({'type': 'volume', 'target': '/x', 'propagation': 'shared'}, 'only for bind'),
    ({'type': 'tmpfs', 'target': '/x', 'tmpfs_mode': '9z'}, 'octal'),
])
def test_bad_mounts(mount, words):
    with pytest.raises(OptionError) as info:
        co.parse_mount(mount)
    assert words in str(info.value)


@pytest.mark.parametrize('device, expected', [
    ('/dev/fuse', {'PathOnHost': '/dev/fuse', 'PathInContainer': '/dev/fuse', 'CgroupPermissions': 'rwm'}),
    ('/dev/sda:/dev/xvda:r', {'PathOnHost': '/dev/sda', 'PathInContainer': '/dev/xvda', 'CgroupPermissions': 'r'}),
    ({'path_on_host': '/dev/a'}, {'PathOnHost': '/dev/a', 'PathInContainer': '/dev/a', 'CgroupPermissions': 'rwm'}),
])
def test_parse_device(device, expected):
    assert co.parse_device(device) == expected


@pytest.mark.parametrize('value, expected', [
    ('nofile:1024:2048', {'Name': 'nofile', 'Soft': 1024, 'Hard': 2048}),
    ('nproc:64', {'Name': 'nproc', 'Soft': 64, 'Hard': 64}),
])
def test_parse_ulimit(value, expected):
    assert co.parse_ulimit(value) == expected


@pytest.mark.parametrize('value', ['nofile', 'nofile:a:b', ':1'])
def test_bad_ulimit(value):
    with pytest.raises(OptionError, match='^ulimits:'):
        co.parse_ulimit(value)


# ------------------------------------------------------------------------------------------------ normalisation

@pytest.mark.parametrize('value, expected', [
    ('net_admin', 'CAP_NET_ADMIN'),
    ('CAP_SYS_TIME', 'CAP_SYS_TIME'),
    ('cap_chown', 'CAP_CHOWN'),
    ('all', 'ALL'),
])
def test_normalize_capability(value, expected):
    assert co.normalize_capability(value) == expected


@pytest.mark.parametrize('value, expected', [
    ('', 'default'), (None, 'default'), ('default', 'default'), ('bridge', 'default'), ('nat', 'default'),
    ('host', 'host'), ('container:abc', 'container:abc'), ('mynet', 'mynet'),
])
def test_normalize_network_mode(value, expected):
    assert co.normalize_network_mode(value) == expected


@pytest.mark.parametrize('value, expected', [
    (None, {'Test': ['NONE']}),
    ({}, {'Test': ['NONE']}),
    ({'Test': ['NONE']}, {'Test': ['NONE']}),
    ({'Test': ['CMD', 'true'], 'Interval': 0, 'Retries': 3}, {'Test': ['CMD', 'true'], 'Retries': 3}),
])
def test_normalize_healthcheck(value, expected):
    assert co.normalize_healthcheck(value) == expected


@pytest.mark.parametrize('value, expected', [
    ({'test': 'curl -f http://x/'}, {'Test': ['CMD-SHELL', 'curl -f http://x/']}),
    ({'test': ['NONE']}, {'Test': ['NONE']}),
    ({'test': 'none'}, {'Test': ['NONE']}),
    ({'test': None}, {'Test': ['NONE']}),
    ({'test': ['true']}, {'Test': ['CMD', 'true']}),
    ({'test': ['CMD', 'true'], 'interval': '1s', 'timeout': '500ms', 'retries': 2, 'start_period': 5},
     {'Test': ['CMD', 'true'], 'Interval': 10 ** 9, 'Timeout': 5 * 10 ** 8, 'Retries': 2, 'StartPeriod': 5 * 10 ** 9}),
])
def test_parse_healthcheck(value, expected):
    assert co.parse_healthcheck(value) == expected


@pytest.mark.parametrize('value, expected', [
    ('linux/amd64', 'linux/amd64'), ('amd64', 'linux/amd64'), ('linux/x86_64', 'linux/amd64'),
    ('LINUX/AARCH64', 'linux/arm64'), ('linux/arm64/v8', 'linux/arm64'), ('linux/arm/v7', 'linux/arm/v7'), ('', ''),
])
def test_normalize_platform(value, expected):
    assert co.normalize_platform(value) == expected


@pytest.mark.parametrize('image, expected', [
    ('nginx', ('nginx', 'latest')),
    ('nginx:1.27', ('nginx', '1.27')),
    ('registry.example.com:5000/team/app', ('registry.example.com:5000/team/app', 'latest')),
    ('registry.example.com:5000/team/app:2', ('registry.example.com:5000/team/app', '2')),
    ('app@sha256:' + 'a' * 64, ('app', 'sha256:' + 'a' * 64)),
    ('host:5000/app:1@sha256:' + 'b' * 64, ('host:5000/app:1', 'sha256:' + 'b' * 64)),
])
def test_parse_image_reference(image, expected):
    assert co.parse_image_reference(image) == expected


@pytest.mark.parametrize('value, expected', [
    ('sha256:' + 'a' * 64, True), ('a' * 64, True), ('nginx', False), ('sha256:abc', False),
])
def test_is_image_id(value, expected):
    assert co.is_image_id(value) is expected


@pytest.mark.parametrize('value, expected', [(None, ''), ('', ''), ('0:0::1', '::1'), ('[::1]', '::1'), ('10.0.0.1', '10.0.0.1'), ('x', 'x')])
def test_normalize_ip(value, expected):
    assert co.normalize_ip(value) == expected


def test_env_file(tmp_path):
    path = tmp_path / 'env'
    path.write_text('# comment\n\nA=1\nB = two=2\nEMPTY=\n', encoding='utf-8')
    assert co.parse_env_file(str(path)) == {'A': '1', 'B': ' two=2', 'EMPTY': ''}
    path.write_text('not a pair\n', encoding='utf-8')
    with pytest.raises(OptionError, match='line 1'):
        co.parse_env_file(str(path))
    with pytest.raises(OptionError, match='^env_file: cannot read'):
        co.parse_env_file(str(tmp_path / 'missing'))


# ------------------------------------------------------------------------------------------------ comparison engine

@pytest.mark.parametrize('kind, mode, desired, current, equal', [
    ('value', 'strict', 1, 1, True),
    ('value', 'strict', 1, 2, False),
    ('value', 'ignore', 1, 2, True),
    ('value', 'strict', None, 0, False),
    ('list', 'strict', ['a', 'b'], ['a', 'b'], True),
    ('list', 'strict', ['a', 'b'], ['b', 'a'], False),
    ('list', 'allow_more_present', ['a', 'c'], ['a', 'b', 'c'], True),
    ('list', 'allow_more_present', ['c', 'a'], ['a', 'b', 'c'], False),
    ('list', 'strict', [], None, True),
    ('list', 'strict', None, [], True),
    ('list', 'strict', None, ['x'], False),
    ('list', 'allow_more_present', None, ['x'], True),
    ('set', 'strict', {'a', 'b'}, {'b', 'a'}, True),
    ('set', 'strict', {'a'}, {'a', 'b'}, False),
    ('set', 'allow_more_present', {'a'}, {'a', 'b'}, True),
    ('set', 'allow_more_present', {'a', 'c'}, {'a', 'b'}, False),
    ('set(dict)', 'allow_more_present', [{'a': 1}], [{'a': 1, 'b': 2}], True),
    ('set(dict)', 'allow_more_present', [{'a': 1}], [{'a': 2}], False),
    ('set(dict)', 'strict', [{'a': 1}], [{'a': 1}, {'a': 3}], False),
    ('set(dict)', 'strict', [{'a': 1}, {'a': 3}], [{'a': 3, 'x': 0}, {'a': 1}], True),
    ('dict', 'strict', {'a': '1'}, {'a': '1'}, True),
    ('dict', 'strict', {'a': '1'}, {'a': '1', 'b': '2'}, False),
    ('dict', 'allow_more_present', {'a': '1'}, {'a': '1', 'b': '2'}, True),
    ('dict', 'allow_more_present', {'a': '1'}, {'a': '2'}, False),
    ('dict', 'allow_more_present', {}, None, True),
    ('dict', 'strict', {'80/tcp': [('', '1')]}, {'80/tcp': [('', '1')]}, True),
])
def test_compare(kind, mode, desired, current, equal):
    assert co.compare(kind, mode, desired, current) is equal


IMAGE = {
    'Env': ['PATH=/usr/bin:/bin', 'LANG=C'],
    'Cmd': ['/bin/pier-web'],
    'Labels': {'pier.testbed': '1'},
    'ExposedPorts': {'80/tcp': {}},
    'Volumes': {'/www': {}},
}


def _container(**config):
    host = config.pop('HostConfig', {})
    base = {
        'Id': 'c' * 64, 'Name': '/web', 'Image': 'sha256:' + '1' * 64,
        'Config': {'Env': ['PATH=/usr/bin:/bin', 'LANG=C'], 'Cmd': ['/bin/pier-web'], 'Labels': {'pier.testbed': '1'},
                   'ExposedPorts': {'80/tcp': {}}, 'Volumes': {'/www': {}}, 'Hostname': 'c' * 12},
        'HostConfig': {'NetworkMode': 'default', 'RestartPolicy': {'Name': '', 'MaximumRetryCount': 0}, 'Binds': None,
                       'PortBindings': {}, 'Memory': 0, 'MemorySwap': 0, 'NanoCpus': 0, 'PidsLimit': None},
    }
    base['Config'].update(config)
    base['HostConfig'].update(host)
    return base


def _diffs(params, container, image=None, comparisons=None):
    desired, dummy = co.parse_options(params)
    del dummy
    return co.differences(desired, container, IMAGE if image is None else image, co.comparison_modes(comparisons))


@pytest.mark.parametrize('params, container', [
    # Values the image fills in are expected, not differences.
    ({'env': {'A': '1'}}, _container(Env=['A=1', 'PATH=/usr/bin:/bin', 'LANG=C'])),
    ({'env': {'LANG': 'de'}}, _container(Env=['LANG=de', 'PATH=/usr/bin:/bin'])),
    ({'labels': {'x': 'y'}}, _container(Labels={'x': 'y', 'pier.testbed': '1'})),
    ({'command': []}, _container()),
    ({'command': '/bin/pier-web'}, _container()),
    ({'exposed_ports': ['9000']}, _container(ExposedPorts={'80/tcp': {}, '9000/tcp': {}})),
    ({'volumes': ['/data']}, _container(Volumes={'/www': {}, '/data': {}})),
    # Engine rewrites.
    ({'network_mode': 'default'}, _container(HostConfig={'NetworkMode': 'bridge'})),
    ({'network_mode': 'bridge'}, _container()),
    ({'restart_policy': 'no'}, _container()),
    ({'restart_policy': 'no'}, _container(HostConfig={'RestartPolicy': {'Name': 'no'}})),
    ({'pids_limit': 0}, _container(HostConfig={'PidsLimit': None})),
    ({'pids_limit': -1}, _container(HostConfig={'PidsLimit': 0})),
    ({'capabilities': ['net_admin']}, _container(HostConfig={'CapAdd': ['CAP_NET_ADMIN']})),
    ({'capabilities': ['CAP_NET_ADMIN']}, _container(HostConfig={'CapAdd': ['NET_ADMIN']})),
    ({'volumes': ['/a:/b']}, _container(HostConfig={'Binds': ['/a:/b']})),
    ({'volumes': ['/a:/b:rw']}, _container(HostConfig={'Binds': ['/a:/b']})),
    ({'published_ports': ['8080:80']}, _container(HostConfig={'PortBindings': {'80/tcp': [{'HostIp': '', 'HostPort': '8080'}]}})),
    ({'published_ports': ['[::1]:8080:80']},
     _container(HostConfig={'PortBindings': {'80/tcp': [{'HostIp': '0:0:0:0:0:0:0:1', 'HostPort': '8080'}]}})),
    ({'healthcheck': {'test': ['NONE']}}, _container()),
    ({'healthcheck': {'test': 'true', 'interval': '1s'}},
     _container(Healthcheck={'Test': ['CMD-SHELL', 'true'], 'Interval': 10 ** 9, 'Timeout': 0})),
    ({'memory': '64m'}, _container(HostConfig={'Memory': 64 * 1024 ** 2, 'MemorySwap': 128 * 1024 ** 2})),
    ({'cpus': 0.5}, _container(HostConfig={'NanoCpus': 500000000})),
    ({'log_options': {'max-size': '1m'}}, _container(HostConfig={'LogConfig': {'Type': 'json-file', 'Config': {'max-size': '1m', 'max-file': '1'}}})),
    ({'etc_hosts': {'a': '1.2.3.4'}}, _container(HostConfig={'ExtraHosts': ['a:1.2.3.4']})),
    ({'ulimits': ['nofile:1:2']}, _container(HostConfig={'Ulimits': [{'Name': 'nofile', 'Soft': 1, 'Hard': 2}]})),
    ({'dns_servers': ['10.0.0.1']}, _container(HostConfig={'Dns': ['10.0.0.1']})),
    ({'stop_timeout': 5}, _container()),
    ({'mounts': [{'type': 'volume', 'source': 'v', 'target': '/v'}]},
     _container(HostConfig={'Mounts': [{'Type': 'volume', 'Source': 'v', 'Target': '/v', 'VolumeOptions': {}}]})),
    # Removing an entry is not a difference by default (allow_more_present).
    ({'env': {}}, _container(Env=['EXTRA=1', 'PATH=/usr/bin:/bin', 'LANG=C'])),
    ({'published_ports': []}, _container(HostConfig={'PortBindings': {'80/tcp': [{'HostPort': '1'}]}})),
])
def test_no_difference(params, container):
    assert _diffs(params, container) == []


@pytest.mark.parametrize('params, container, names', [
    ({'env': {'A': '2'}}, _container(Env=['A=1', 'PATH=/usr/bin:/bin', 'LANG=C']), ['env']),
    ({'labels': {'x': 'z'}}, _container(Labels={'x': 'y'}), ['labels']),
    ({'command': ['sleep', '1']}, _container(), ['command']),
    ({'network_mode': 'host'}, _container(), ['network_mode']),
    ({'restart_policy': 'always'}, _container(), ['restart_policy']),
    ({'memory': '128m'}, _container(HostConfig={'Memory': 64 * 1024 ** 2}), ['memory']),
    ({'published_ports': ['8081:80']}, _container(HostConfig={'PortBindings': {'80/tcp': [{'HostIp': '', 'HostPort': '8080'}]}}),
     ['published_ports']),
    ({'published_ports': ['8080:80']}, _container(HostConfig={'PortBindings': {'80/tcp': [{'HostIp': '0.0.0.0', 'HostPort': '8080'}]}}),
     ['published_ports']),
    ({'healthcheck': {'test': 'true'}}, _container(), ['healthcheck']),
    ({'capabilities': ['SYS_TIME']}, _container(HostConfig={'CapAdd': ['CAP_NET_ADMIN']}), ['capabilities']),
    ({'volumes': ['/a:/b:ro']}, _container(HostConfig={'Binds': ['/a:/b']}), ['volumes']),
    ({'user': 'nobody', 'hostname': 'h'}, _container(), ['hostname', 'user']),
])
def test_differences(params, container, names):
    assert [d[0] for d in _diffs(params, container)] == names


def test_strict_comparisons_catch_removals():
    container = _container(Env=['EXTRA=1', 'PATH=/usr/bin:/bin', 'LANG=C'])
    assert [d[0] for d in _diffs({'env': {}}, container, comparisons={'env': 'strict'})] == ['env']
    assert [d[0] for d in _diffs({'env': {}}, container, comparisons={'*': 'strict'})] == ['env']
    assert _diffs({'env': {'A': '9'}}, container, comparisons={'env': 'ignore'}) == []


def test_difference_reports_expected_and_current():
    (name, expected, current), = _diffs({'memory': '128m'}, _container(HostConfig={'Memory': 1}))
    assert (name, expected, current) == ('memory', 128 * 1024 ** 2, 1)


@pytest.mark.parametrize('comparisons, words', [
    ({'colour': 'strict'}, 'not an option'),
    ({'memory': 'allow_more_present'}, 'single value'),
    ({'env': 'loose'}, 'not a mode'),
    ({'*': 'allow_more_present'}, "'*' must be strict or ignore"),
    ({'anonymous_volumes': 'strict'}, 'not an option'),
])
def test_bad_comparisons(comparisons, words):
    with pytest.raises(OptionError) as info:
        co.comparison_modes(comparisons)
    assert str(info.value).startswith('comparisons:') and words in str(info.value)


def test_comparison_defaults():
    modes = co.comparison_modes(None)
    assert modes['memory'] == 'strict'
    assert modes['command'] == 'strict'
    assert modes['env'] == 'allow_more_present'
    assert modes['stop_timeout'] == 'ignore'
    assert modes['networks'] == 'allow_more_present'
    modes = co.comparison_modes({'*': 'strict', 'labels': 'allow_more_present', 'volumes': 'ignore'})
    assert modes['env'] == 'strict' and modes['labels'] == 'allow_more_present'
    assert modes['networks'] == 'allow_more_present'
    assert modes['anonymous_volumes'] == 'ignore'


# ------------------------------------------------------------------------------------------------ parameters and bodies

@pytest.mark.parametrize('params, words', [
    ({'env': {'A': True}}, 'env: the value of A'),
    ({'env': {'A': None}}, 'env: the value of A'),
    ({'labels': {'A': False}}, 'labels: the value of A'),
    ({'restart_policy': 'always', 'restart_retries': 3}, 'restart_retries: only used with'),
    ({'cpus': -1.0}, 'cpus:'),
    ({'dns_servers': ['dns.example']}, 'dns_servers:'),
    ({'tmpfs': ['run']}, 'tmpfs:'),
    ({'default_host_ip': 'localhost'}, 'default_host_ip:'),
    ({'mounts': [{'type': 'tmpfs', 'target': '/a'}], 'volumes': ['/x:/a']}, 'mounted twice'),
    ({'command': 'sh -c "unterminated'}, 'command:'),
    ({'labels': {'': 'x'}}, 'labels: a key is empty'),
    ({'env': {' ': 'x'}}, 'env: a key is empty'),
    ({'restart_policy': 'on-failure', 'restart_retries': -1}, 'restart_retries: -1 is negative'),
    ({'healthcheck': {'retries': -2, 'test': 'true'}}, 'healthcheck.retries: -2 is negative'),
    # A healthcheck without a test is disabled, but its settings are still checked.
    ({'healthcheck': {'interval': 'abc'}}, 'healthcheck.interval:'),
])
def test_bad_parameters(params, words):
    with pytest.raises(OptionError) as info:
        co.parse_options(params)
    assert words in str(info.value)


def test_create_body_holds_only_what_was_set():
    desired, extra = co.parse_options({'published_ports': ['8080:80'], 'env': {'B': '2', 'A': '1'}, 'memory': '64m',
                                       'capabilities': ['net_admin'], 'restart_policy': 'on-failure', 'restart_retries': 2})
    body = co.create_body('web:1', desired, extra)
    assert body == {
        'Image': 'web:1',
        'Env': ['A=1', 'B=2'],
        'ExposedPorts': {'80/tcp': {}},
        'HostConfig': {
            'PortBindings': {'80/tcp': [{'HostIp': '', 'HostPort': '8080'}]},
            'Memory': 64 * 1024 ** 2,
            'CapAdd': ['CAP_NET_ADMIN'],
            'RestartPolicy': {'Name': 'on-failure', 'MaximumRetryCount': 2},
        },
    }


def test_create_body_networks_first_only():
    desired, extra = co.parse_options({})
    networks = co.parse_networks([{'name': 'a', 'aliases': ['x'], 'ipv4_address': '10.0.0.5'}, {'name': 'b'}])
    body = co.create_body('img', desired, extra, networks)
    assert body['HostConfig'] == {'NetworkMode': 'a'}
    assert body['NetworkingConfig'] == {'EndpointsConfig': {'a': {'IPAMConfig': {'IPv4Address': '10.0.0.5'}, 'Aliases': ['x']}}}


def test_create_body_empty_entrypoint_resets():
    desired, extra = co.parse_options({'entrypoint': []})
    assert co.create_body('img', desired, extra)['Entrypoint'] == ['']


@pytest.mark.parametrize('names, params, host, expected', [
    (['memory'], {'memory': '128m'}, {'Memory': 64, 'MemorySwap': 128}, {'Memory': 128 * 1024 ** 2, 'MemorySwap': 256 * 1024 ** 2}),
    (['memory'], {'memory': '128m'}, {'Memory': 64, 'MemorySwap': -1}, {'Memory': 128 * 1024 ** 2}),
    (['memory'], {'memory': '128m'}, {'Memory': 64, 'MemorySwap': 100}, {'Memory': 128 * 1024 ** 2, 'MemorySwap': -1}),
    # no limit yet: the engine refuses memory alone, so the swap limit a new container would get goes with it
    (['memory'], {'memory': '128m'}, {'Memory': 0, 'MemorySwap': 0}, {'Memory': 128 * 1024 ** 2, 'MemorySwap': 256 * 1024 ** 2}),
    (['memory', 'memory_swap'], {'memory': '128m', 'memory_swap': '1g'}, {}, {'Memory': 128 * 1024 ** 2, 'MemorySwap': 1024 ** 3}),
    (['restart_policy'], {'restart_policy': 'always'}, {}, {'RestartPolicy': {'Name': 'always', 'MaximumRetryCount': 0}}),
    (['restart_retries'], {'restart_retries': 4}, {'RestartPolicy': {'Name': 'on-failure'}},
     {'RestartPolicy': {'Name': 'on-failure', 'MaximumRetryCount': 4}}),
    (['cpus'], {'cpus': 1.5}, {}, {'NanoCpus': 1500000000}),
    (['pids_limit'], {'pids_limit': 0}, {}, {'PidsLimit': -1}),
])
def test_update_body(names, params, host, expected):
    desired, dummy = co.parse_options(params)
    del dummy
    assert co.update_body(names, desired, {'HostConfig': host}) == expected


@pytest.mark.parametrize('network, attached, differs', [
    ({'name': 'n'}, {}, False),
    ({'name': 'n', 'aliases': ['a']}, {'Aliases': ['a', 'abcdef123456']}, False),
    ({'name': 'n', 'aliases': ['a']}, {'Aliases': None}, True),
    ({'name': 'n', 'ipv4_address': '10.0.0.2'}, {'IPAMConfig': {'IPv4Address': '10.0.0.2'}}, False),
    ({'name': 'n', 'ipv4_address': '10.0.0.2'}, {'IPAMConfig': None}, True),
    ({'name': 'n', 'ipv6_address': '2001:db8::1'}, {'IPAMConfig': {'IPv6Address': '2001:0db8:0:0::1'}}, False),
    ({'name': 'n', 'links': ['db']}, {'Links': ['db:db']}, False),
    ({'name': 'n', 'links': ['db:alias']}, {'Links': ['db:db']}, True),
])
def test_network_differs(network, attached, differs):
    parsed = co.parse_networks([network])[0]
    assert co.network_differs(parsed, attached) is differs


@pytest.mark.parametrize('networks, words', [
    ([{'name': ''}], 'needs name'),
    ([{'name': 'a'}, {'name': 'a'}], 'twice'),
    ([{'name': 'a', 'ipv4_address': '::1'}], 'not an IPv4'),
    ([{'name': 'a', 'ipv6_address': 'x'}], 'not an IP address'),
])
def test_bad_networks(networks, words):
    with pytest.raises(OptionError) as info:
        co.parse_networks(networks)
    assert str(info.value).startswith('networks:') and words in str(info.value)


def test_create_body_with_another_network_mode_connects_later():
    desired, extra = co.parse_options({'network_mode': 'bridge'})
    networks = co.parse_networks([{'name': 'a'}])
    body = co.create_body('img', desired, extra, networks)
    assert body['HostConfig'] == {'NetworkMode': 'bridge'}
    assert 'NetworkingConfig' not in body
    assert co.creates_on_first_network('a', networks) is True
    assert co.creates_on_first_network(None, []) is False
