# -*- coding: utf-8 -*-
# Copyright (c) pier.portainer contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to the pier.portainer collection. It may change without notice
# and must not be used by other collections.

"""Container options: parsing of user input, normalisation of inspect output, and the comparison engine.

Everything here is pure (no HTTP): ``parse_options`` turns module parameters into normalised desired
values (failing with a message that names the option), ``OPTIONS`` says for each option where Docker
keeps it, how it is compared, whether ``POST /containers/{id}/update`` can change it in place, and how
the image fills it in; ``differences`` compares desired values with a container's inspect document.
"""

from __future__ import annotations

import ipaddress
import re
import shlex


class OptionError(ValueError):
    """Bad user input; the message names the option and says how to fix it."""


# ---------------------------------------------------------------------------------------------- units

_SIZE_UNITS = {'': 1, 'b': 1, 'k': 1024, 'm': 1024 ** 2, 'g': 1024 ** 3, 't': 1024 ** 4}
_SIZE_RE = re.compile(r'^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?\s*$', re.IGNORECASE)


def parse_size(value, option, allow_unlimited=False):
    """Bytes from ``512m``, ``1.5G``, ``1024``, ``64MiB`` (1024-based); ``-1``/``unlimited`` when allowed."""
    if value is None:
        return None
    text = str(value).strip()
    if allow_unlimited and text.lower() in ('-1', 'unlimited'):
        return -1
    match = _SIZE_RE.match(text)
    if not match:
        extra = ', or -1 / unlimited' if allow_unlimited else ''
        raise OptionError('%s: %r is not a size; use a number of bytes or a number with a unit b, k, m, g or t (for example 512m)%s'
                          % (option, value, extra))
    number = float(match.group(1)) * _SIZE_UNITS[match.group(2).lower()]
    return int(round(number))


_DURATION_RE = re.compile(r'(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)')
_DURATION_NS = {'ns': 1, 'us': 1000, 'µs': 1000, 'ms': 1000 ** 2, 's': 1000 ** 3, 'm': 60 * 1000 ** 3, 'h': 3600 * 1000 ** 3}


def parse_duration(value, option):
    """Nanoseconds from ``30s``, ``1m30s``, ``500ms``, ``1h`` or a plain number of seconds."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise OptionError('%s: %r is not a duration; use for example 30s, 1m30s or 500ms' % (option, value))
    if isinstance(value, (int, float)):
        return int(round(value * 1000 ** 3))
    text = str(value).strip().replace(' ', '')
    if re.fullmatch(r'\d+(\.\d+)?', text):
        return int(round(float(text) * 1000 ** 3))
    pos = 0
    total = 0.0
    for match in _DURATION_RE.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _DURATION_NS[match.group(2)]
        pos = match.end()
    if pos != len(text) or not text:
        raise OptionError('%s: %r is not a duration; use for example 30s, 1m30s, 500ms or a number of seconds' % (option, value))
    return int(round(total))


# ---------------------------------------------------------------------------------------------- ports

PROTOCOLS = ('tcp', 'udp', 'sctp')


def _port_range(text, option, spec):
    match = re.fullmatch(r'(\d+)(?:-(\d+))?', text)
    if not match:
        raise OptionError('%s: %r: %r is not a port or a port range (like 80 or 9000-9002)' % (option, spec, text))
    first = int(match.group(1))
    last = int(match.group(2)) if match.group(2) else first
    if not 0 < first <= last <= 65535:
        raise OptionError('%s: %r: ports must be between 1 and 65535, and a range must go upwards' % (option, spec))
    return list(range(first, last + 1))


def _split_protocol(text, option, spec):
    if '/' in text:
        text, proto = text.rsplit('/', 1)
        proto = proto.lower()
        if proto not in PROTOCOLS:
            raise OptionError('%s: %r: unknown protocol %r; use tcp, udp or sctp' % (option, spec, proto))
        return text, proto
    return text, 'tcp'


def normalize_ip(value):
    """Canonical text of an IP address (``0:0::1`` -> ``::1``); other text unchanged; '' and None -> ''."""
    if not value:
        return ''
    text = str(value).strip()
    if text.startswith('[') and text.endswith(']'):
        text = text[1:-1]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return text


def parse_exposed_port(spec, option='exposed_ports'):
    """``80``, ``80/udp``, ``9000-9002/tcp`` -> list of ``80/tcp`` keys (ranges exploded)."""
    text, proto = _split_protocol(str(spec).strip(), option, spec)
    return ['%d/%s' % (port, proto) for port in _port_range(text, option, spec)]


def _split_port_spec(spec, option):
    """Split ``[ip:][host:]container[/proto]`` keeping ``[ipv6]`` together."""
    text = str(spec).strip()
    ip = None
    if text.startswith('['):
        end = text.find(']')
        if end < 0 or len(text) <= end + 1 or text[end + 1] != ':':
            raise OptionError('%s: %r: an IPv6 address must be written in brackets followed by a colon, like [::1]:8080:80' % (option, spec))
        ip = text[1:end]
        rest = text[end + 2:]
        parts = rest.split(':')
        if len(parts) != 2:
            raise OptionError('%s: %r: after the IP address give host_port:container_port (host_port may be empty)' % (option, spec))
        return ip, parts[0], parts[1]
    parts = text.split(':')
    if len(parts) == 1:
        return None, '', parts[0]
    if len(parts) == 2:
        return None, parts[0], parts[1]
    if len(parts) == 3:
        return parts[0], parts[1], parts[2]
    raise OptionError('%s: %r: expected 1 to 3 colon-separated parts ([ip:][host_port:]container_port[/protocol]); '
                      'write IPv6 addresses in brackets' % (option, spec))


def parse_port_spec(spec, default_host_ip='', option='published_ports'):
    """One published port spec -> list of ``(container_key, host_ip, host_port)``.

    ``80`` (random host port), ``8080:80``, ``127.0.0.1:8080:80/udp``, ``127.0.0.1::80``, ``[::1]:8080:80``,
    ``9000-9002:9000-9002`` (pairs), ``8000-8010:80`` (the engine picks a free port in the host range).
    """
    if spec is None or str(spec).strip() == '':
        raise OptionError('%s: an entry is empty; give [ip:][host_port:]container_port[/protocol], like 8080:80' % option)
    ip, host, container = _split_port_spec(spec, option)
    container, proto = _split_protocol(container, option, spec)
    if not container:
        raise OptionError('%s: %r: the container port is missing' % (option, spec))
    container_ports = _port_range(container, option, spec)
    if ip is not None:
        if ip == '':
            ip = default_host_ip
        else:
            try:
                ip = str(ipaddress.ip_address(ip))
            except ValueError:
                raise OptionError('%s: %r: %r is not an IP address (host names are not accepted as bind addresses)' % (option, spec, ip)) from None
    else:
        ip = default_host_ip
    ip = normalize_ip(ip)
    if host == '':
        return [('%d/%s' % (port, proto), ip, '') for port in container_ports]
    host_ports = _port_range(host, option, spec)
    if len(container_ports) == 1 and len(host_ports) > 1:
        return [('%d/%s' % (container_ports[0], proto), ip, '%d-%d' % (host_ports[0], host_ports[-1]))]
    if len(container_ports) != len(host_ports):
        raise OptionError('%s: %r: the host port range and the container port range must have the same length' % (option, spec))
    return [('%d/%s' % (c, proto), ip, str(h)) for c, h in zip(container_ports, host_ports)]


def parse_published_ports(specs, default_host_ip='', option='published_ports'):
    """List of specs -> Docker's ``PortBindings`` dict (``{"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}``)."""
    result = {}
    for spec in specs:
        for key, ip, port in parse_port_spec(spec, default_host_ip, option):
            binding = {'HostIp': ip, 'HostPort': port}
            if binding not in result.setdefault(key, []):
                result[key].append(binding)
    return result


def normalize_port_bindings(bindings):
    """PortBindings (desired or inspected) -> ``{key: sorted list of (ip, port)}``; ``80`` keys get ``/tcp``."""
    result = {}
    for key, values in (bindings or {}).items():
        key = str(key)
        if '/' not in key:
            key += '/tcp'
        items = result.setdefault(key, [])
        for value in values or [{}]:
            value = value or {}
            item = (normalize_ip(value.get('HostIp')), str(value.get('HostPort') or ''))
            if item not in items:
                items.append(item)
        items.sort()
    return result


def normalize_exposed(keys):
    """ExposedPorts keys -> set of ``port/proto`` with ranges exploded."""
    result = set()
    for key in keys or []:
        result.update(parse_exposed_port(key))
    return result


# ---------------------------------------------------------------------------------------------- volumes, mounts, devices

BIND_MODES = ('ro', 'rw', 'z', 'Z', 'private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave', 'nocopy',
              'consistent', 'cached', 'delegated')


def normalize_bind(text):
    """``src:dst[:opts]`` with the access mode made explicit (``rw`` when missing) and options sorted."""
    parts = str(text).split(':')
    if len(parts) < 2:
        return str(text)
    if len(parts) == 2:
        src, dst, opts = parts[0], parts[1], []
    else:
        src, dst, opts = parts[0], parts[1], [o for o in ':'.join(parts[2:]).split(',') if o]
    if 'ro' not in opts and 'rw' not in opts:
        opts.append('rw')
    return '%s:%s:%s' % (src, dst.rstrip('/') or '/', ','.join(sorted(opts)))


def parse_volumes(specs, option='volumes'):
    """``volumes`` -> (binds list, anonymous volume paths list)."""
    binds = []
    anonymous = []
    for spec in specs:
        text = str(spec).strip()
        if not text:
            raise OptionError('%s: an entry is empty; give source:target[:mode] or a container path' % option)
        parts = text.split(':')
        if len(parts) == 1:
            if not text.startswith('/'):
                raise OptionError('%s: %r: an anonymous volume needs an absolute container path, like /data' % (option, spec))
            anonymous.append(text.rstrip('/') or '/')
            continue
        if len(parts) > 3:
            raise OptionError('%s: %r: expected source:target[:mode]' % (option, spec))
        src, dst = parts[0], parts[1]
        if not src or not dst.startswith('/'):
            raise OptionError('%s: %r: expected source:target[:mode] with an absolute target path' % (option, spec))
        if not src.startswith('/') and not re.fullmatch(r'[a-zA-Z0-9][a-zA-Z0-9_.-]*', src):
            raise OptionError('%s: %r: the source must be an absolute path on the Docker host or a volume name '
                              '(relative paths are not expanded: the Docker host is not this machine)' % (option, spec))
        if len(parts) == 3:
            for opt in parts[2].split(','):
                if opt not in BIND_MODES:
                    raise OptionError('%s: %r: unknown mode %r; use %s' % (option, spec, opt, ', '.join(BIND_MODES)))
        binds.append(normalize_bind(text))
    return binds, anonymous


MOUNT_TYPES = ('bind', 'volume', 'tmpfs')


def parse_mount(mount, option='mounts'):
    """A ``mounts`` entry -> Docker's Mount object (create body)."""
    mtype = mount.get('type') or 'volume'
    if mtype not in MOUNT_TYPES:
        raise OptionError('%s: type %r is not supported; use %s' % (option, mtype, ', '.join(MOUNT_TYPES)))
    target = mount.get('target')
    if not target or not str(target).startswith('/'):
        raise OptionError('%s: every entry needs target, an absolute path in the container' % option)
    result = {'Type': mtype, 'Target': target}
    source = mount.get('source')
    if mtype == 'bind' and not source:
        raise OptionError('%s: a bind mount needs source, an absolute path on the Docker host' % option)
    if mtype == 'tmpfs' and source:
        raise OptionError('%s: a tmpfs mount takes no source' % option)
    if source:
        result['Source'] = source
    if mount.get('read_only') is not None:
        result['ReadOnly'] = bool(mount['read_only'])
    if mount.get('consistency'):
        result['Consistency'] = mount['consistency']
    if mtype == 'bind' and mount.get('propagation'):
        result['BindOptions'] = {'Propagation': mount['propagation']}
    elif mount.get('propagation'):
        raise OptionError('%s: propagation is only for bind mounts' % option)
    volume_options = {}
    if mount.get('no_copy') is not None:
        volume_options['NoCopy'] = bool(mount['no_copy'])
    if mount.get('labels'):
        volume_options['Labels'] = dict((str(k), str(v)) for k, v in mount['labels'].items())
    if mount.get('volume_driver') or mount.get('volume_options'):
        volume_options['DriverConfig'] = {'Name': mount.get('volume_driver') or 'local',
                                          'Options': dict((str(k), str(v)) for k, v in (mount.get('volume_options') or {}).items())}
    if volume_options:
        if mtype != 'volume':
            raise OptionError('%s: no_copy, labels, volume_driver and volume_options are only for volume mounts' % option)
        result['VolumeOptions'] = volume_options
    tmpfs_options = {}
    if mount.get('tmpfs_size') is not None:
        tmpfs_options['SizeBytes'] = parse_size(mount['tmpfs_size'], option + '.tmpfs_size')
    if mount.get('tmpfs_mode') is not None:
        try:
            tmpfs_options['Mode'] = int(str(mount['tmpfs_mode']), 8)
        except ValueError:
            raise OptionError('%s: tmpfs_mode %r is not an octal mode like 1777' % (option, mount['tmpfs_mode'])) from None
    if tmpfs_options:
        if mtype != 'tmpfs':
            raise OptionError('%s: tmpfs_size and tmpfs_mode are only for tmpfs mounts' % option)
        result['TmpfsOptions'] = tmpfs_options
    return result


def flatten_mount(mount):
    """Docker Mount object -> flat dict with defaults, comparable between desired and inspected."""
    volume = mount.get('VolumeOptions') or {}
    driver = volume.get('DriverConfig') or {}
    tmpfs = mount.get('TmpfsOptions') or {}
    flat = {
        'type': mount.get('Type') or 'volume',
        'source': mount.get('Source') or '',
        'target': (mount.get('Target') or '').rstrip('/') or '/',
        'read_only': bool(mount.get('ReadOnly')),
        'consistency': mount.get('Consistency') or 'default',
        'propagation': (mount.get('BindOptions') or {}).get('Propagation') or '',
        'no_copy': bool(volume.get('NoCopy')),
        'labels': volume.get('Labels') or {},
        'volume_driver': driver.get('Name') or '',
        'volume_options': driver.get('Options') or {},
        'tmpfs_size': tmpfs.get('SizeBytes') or 0,
        'tmpfs_mode': tmpfs.get('Mode') or 0,
    }
    return flat


def parse_device(device, option='devices'):
    """``/dev/x[:/dev/y[:rwm]]`` or a dict -> Docker's DeviceMapping."""
    if isinstance(device, dict):
        host = device.get('path_on_host') or device.get('PathOnHost')
        cont = device.get('path_in_container') or device.get('PathInContainer') or host
        perms = device.get('cgroup_permissions') or device.get('CgroupPermissions') or 'rwm'
    else:
        parts = str(device).split(':')
        if len(parts) > 3:
            raise OptionError('%s: %r: expected host_path[:container_path[:permissions]]' % (option, device))
        host = parts[0]
        cont = parts[1] if len(parts) > 1 and parts[1] else host
        perms = parts[2] if len(parts) > 2 else 'rwm'
    if not host or not str(host).startswith('/'):
        raise OptionError('%s: %r: the host path must be absolute, like /dev/fuse' % (option, device))
    if not re.fullmatch(r'[rwm]+', perms):
        raise OptionError('%s: %r: permissions must be made of r, w and m' % (option, device))
    return {'PathOnHost': host, 'PathInContainer': cont, 'CgroupPermissions': perms}


def parse_ulimit(value, option='ulimits'):
    """``nofile:1024[:2048]`` -> ``{Name, Soft, Hard}``."""
    parts = str(value).split(':')
    if len(parts) not in (2, 3) or not parts[0]:
        raise OptionError('%s: %r: expected name:soft[:hard], like nofile:1024:2048' % (option, value))
    try:
        soft = int(parts[1])
        hard = int(parts[2]) if len(parts) == 3 else soft
    except ValueError:
        raise OptionError('%s: %r: soft and hard limits must be integers' % (option, value)) from None
    return {'Name': parts[0], 'Soft': soft, 'Hard': hard}


def normalize_capability(value):
    """``net_admin`` / ``CAP_NET_ADMIN`` -> ``CAP_NET_ADMIN`` (``ALL`` stays ``ALL``)."""
    text = str(value).strip().upper()
    if text == 'ALL' or text.startswith('CAP_'):
        return text
    return 'CAP_' + text


# ---------------------------------------------------------------------------------------------- env, labels

def _string_value(option, key, value):
    if isinstance(value, bool) or value is None:
        raise OptionError('%s: the value of %s is %r, not a string; quote it in YAML (for example "%s")'
                          % (option, key, value, 'true' if value is True else 'false' if value is False else ''))
    if isinstance(value, (dict, list)):
        raise OptionError('%s: the value of %s must be a string' % (option, key))
    return str(value)


def parse_env_file(path, option='env_file'):
    """``KEY=VALUE`` lines of a file on the machine running the module; ``#`` comments and blank lines skipped."""
    result = {}
    try:
        with open(path, 'r', encoding='utf-8') as handle:
            lines = handle.read().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise OptionError('%s: cannot read %s: %s' % (option, path, exc)) from None
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text.startswith('#'):
            continue
        key, sep, value = text.partition('=')
        key = key.strip()
        if not sep or not key or re.search(r'\s', key):
            raise OptionError('%s: %s line %d is not KEY=VALUE' % (option, path, number))
        result[key] = value
    return result


def env_list_to_dict(env):
    result = {}
    for item in env or []:
        key, sep, value = str(item).partition('=')
        result[key] = value if sep else None
    return result


# ---------------------------------------------------------------------------------------------- healthcheck, platform, image

def parse_healthcheck(value, option='healthcheck'):
    """``healthcheck`` -> Docker's HealthConfig, with ``{"Test": ["NONE"]}`` for a disabled or empty one."""
    # Every setting is checked, even those a disabled healthcheck ignores.
    timing = {}
    for key, field in (('interval', 'Interval'), ('timeout', 'Timeout'), ('start_period', 'StartPeriod'),
                       ('start_interval', 'StartInterval')):
        if value.get(key) is not None:
            timing[field] = parse_duration(value[key], '%s.%s' % (option, key))
    if value.get('retries') is not None:
        if int(value['retries']) < 0:
            raise OptionError('%s.retries: %s is negative; give the number of failures before unhealthy, 0 or more' % (option, value['retries']))
        timing['Retries'] = int(value['retries'])
    test = value.get('test')
    if isinstance(test, str):
        test = ['CMD-SHELL', test] if test.upper() != 'NONE' else ['NONE']
    if not test:
        return {'Test': ['NONE']}
    test = [str(t) for t in test]
    if test[0] not in ('CMD', 'CMD-SHELL', 'NONE'):
        test = ['CMD'] + test
    result = {'Test': test}
    result.update(timing)
    return result


def normalize_healthcheck(value):
    """Inspected Healthcheck -> comparable dict; missing or ``NONE`` -> ``{"Test": ["NONE"]}``; zero fields dropped."""
    if not value or not value.get('Test') or value.get('Test') == ['NONE']:
        return {'Test': ['NONE']}
    return dict((k, v) for k, v in value.items() if v not in (None, 0, ''))


def normalize_platform(value):
    """``linux/amd64``, ``amd64``, ``linux/x86_64`` -> ``linux/amd64``; arm variants kept."""
    if not value:
        return ''
    parts = str(value).lower().split('/')
    if len(parts) == 1:
        parts = ['linux'] + parts
    arch = {'x86_64': 'amd64', 'x86-64': 'amd64', 'aarch64': 'arm64', 'armhf': 'arm', 'i386': '386'}.get(parts[1], parts[1])
    parts[1] = arch
    if arch == 'arm64' and len(parts) == 3 and parts[2] == 'v8':
        parts = parts[:2]
    return '/'.join(parts)


def parse_image_reference(image):
    """``[registry/]repo[:tag][@digest]`` -> (repository, tag or digest for the pull ``tag`` parameter)."""
    text = str(image).strip()
    if '@' in text:
        repo, digest = text.split('@', 1)
        return repo, digest
    slash = text.rfind('/')
    colon = text.rfind(':')
    if colon > slash:
        return text[:colon], text[colon + 1:]
    return text, 'latest'


IMAGE_ID_RE = re.compile(r'^(sha256:)?[0-9a-f]{64}$')


def is_image_id(image):
    return bool(IMAGE_ID_RE.match(str(image)))


# ---------------------------------------------------------------------------------------------- network modes

def normalize_network_mode(value):
    """``default``, ``bridge``, ``nat`` and empty are one mode (engines since 26.1 store ``bridge``/``nat``)."""
    text = str(value or '')
    if text in ('', 'default', 'bridge', 'nat'):
        return 'default'
    return text


def normalize_restart_policy(value):
    """Engines before 25.0 store an omitted policy as ''; newer ones as ``no``."""
    return value or 'no'


# ---------------------------------------------------------------------------------------------- the option table

class Option:
    """One comparable container option.

    ``kind``: value, list (order matters), set, set(dict), dict. ``read(inspect)`` gives the normalised
    current value; ``expected(desired, image_config)`` merges what the image fills in. ``update`` names the
    field of ``POST /containers/{id}/update`` when the engine can change the option in place.
    """

    def __init__(self, name, kind, read, expected=None, update=None, default=None):
        self.name = name
        self.kind = kind
        self.read = read
        self.expected = expected
        self.update = update
        self.default = default or ('strict' if kind in ('value', 'list') else 'allow_more_present')


def _get(data, *path):
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _config(field):
    return lambda c: _get(c, 'Config', field)


def _host(field):
    return lambda c: _get(c, 'HostConfig', field)


def _expect_env(desired, image):
    merged = env_list_to_dict(_get(image, 'Env'))
    merged.update(desired)
    return set('%s=%s' % (k, v) if v is not None else k for k, v in merged.items())


def _expect_labels(desired, image):
    merged = dict(_get(image, 'Labels') or {})
    merged.update(desired)
    return merged


def _expect_command(desired, image):
    if desired == []:
        return list(_get(image, 'Cmd') or [])
    return desired


def _expect_exposed(desired, image):
    return set(desired) | normalize_exposed(_get(image, 'ExposedPorts'))


def _expect_anonymous(desired, image):
    return set(desired) | set(p.rstrip('/') or '/' for p in (_get(image, 'Volumes') or {}))


def _read_env(c):
    return set(_get(c, 'Config', 'Env') or [])


def _read_restart_policy(c):
    return normalize_restart_policy(_get(c, 'HostConfig', 'RestartPolicy', 'Name'))


def _read_pids_limit(c):
    value = _get(c, 'HostConfig', 'PidsLimit')
    return value if value and value > 0 else None


def _read_log_options(c):
    return dict(_get(c, 'HostConfig', 'LogConfig', 'Config') or {})


def _read_etc_hosts(c):
    return set(_get(c, 'HostConfig', 'ExtraHosts') or [])


OPTIONS = dict((o.name, o) for o in [
    Option('command', 'list', lambda c: list(_get(c, 'Config', 'Cmd') or []), expected=_expect_command),
    Option('entrypoint', 'list', lambda c: list(_get(c, 'Config', 'Entrypoint') or [])),
    Option('env', 'set', _read_env, expected=_expect_env),
    Option('labels', 'dict', lambda c: dict(_get(c, 'Config', 'Labels') or {}), expected=_expect_labels),
    Option('exposed_ports', 'set', lambda c: normalize_exposed(_get(c, 'Config', 'ExposedPorts')), expected=_expect_exposed),
    Option('published_ports', 'dict', lambda c: normalize_port_bindings(_get(c, 'HostConfig', 'PortBindings'))),
    Option('publish_all_ports', 'value', lambda c: bool(_get(c, 'HostConfig', 'PublishAllPorts'))),
    Option('volumes', 'set', lambda c: set(normalize_bind(b) for b in _get(c, 'HostConfig', 'Binds') or [])),
    Option('anonymous_volumes', 'set', lambda c: set(p.rstrip('/') or '/' for p in _get(c, 'Config', 'Volumes') or {}),
           expected=_expect_anonymous),
    Option('mounts', 'set(dict)', lambda c: [flatten_mount(m) for m in _get(c, 'HostConfig', 'Mounts') or []]),
    Option('network_mode', 'value', lambda c: normalize_network_mode(_get(c, 'HostConfig', 'NetworkMode'))),
    Option('restart_policy', 'value', _read_restart_policy, update='RestartPolicy'),
    Option('restart_retries', 'value', lambda c: _get(c, 'HostConfig', 'RestartPolicy', 'MaximumRetryCount') or 0,
           update='RestartPolicy'),
    Option('memory', 'value', lambda c: _get(c, 'HostConfig', 'Memory') or 0, update='Memory'),
    Option('memory_swap', 'value', lambda c: _get(c, 'HostConfig', 'MemorySwap') or 0, update='MemorySwap'),
    Option('memory_reservation', 'value', lambda c: _get(c, 'HostConfig', 'MemoryReservation') or 0, update='MemoryReservation'),
    Option('cpus', 'value', lambda c: _get(c, 'HostConfig', 'NanoCpus') or 0, update='NanoCpus'),
    Option('cpu_shares', 'value', lambda c: _get(c, 'HostConfig', 'CpuShares') or 0, update='CpuShares'),
    Option('pids_limit', 'value', _read_pids_limit, update='PidsLimit'),
    Option('user', 'value', lambda c: _get(c, 'Config', 'User') or ''),
    Option('working_dir', 'value', lambda c: _get(c, 'Config', 'WorkingDir') or ''),
    Option('hostname', 'value', lambda c: _get(c, 'Config', 'Hostname') or ''),
    Option('domainname', 'value', lambda c: _get(c, 'Config', 'Domainname') or ''),
    Option('stop_signal', 'value', lambda c: _get(c, 'Config', 'StopSignal') or ''),
    Option('stop_timeout', 'value', lambda c: _get(c, 'Config', 'StopTimeout'), default='ignore'),
    Option('privileged', 'value', lambda c: bool(_get(c, 'HostConfig', 'Privileged'))),
    Option('read_only', 'value', lambda c: bool(_get(c, 'HostConfig', 'ReadonlyRootfs'))),
    Option('init', 'value', lambda c: bool(_get(c, 'HostConfig', 'Init'))),
    Option('auto_remove', 'value', lambda c: bool(_get(c, 'HostConfig', 'AutoRemove'))),
    Option('tty', 'value', lambda c: bool(_get(c, 'Config', 'Tty'))),
    Option('interactive', 'value', lambda c: bool(_get(c, 'Config', 'OpenStdin'))),
    Option('capabilities', 'set', lambda c: set(normalize_capability(x) for x in _get(c, 'HostConfig', 'CapAdd') or [])),
    Option('cap_drop', 'set', lambda c: set(normalize_capability(x) for x in _get(c, 'HostConfig', 'CapDrop') or [])),
    Option('devices', 'set(dict)', lambda c: list(_get(c, 'HostConfig', 'Devices') or [])),
    Option('healthcheck', 'dict', lambda c: normalize_healthcheck(_get(c, 'Config', 'Healthcheck'))),
    Option('log_driver', 'value', lambda c: _get(c, 'HostConfig', 'LogConfig', 'Type') or ''),
    Option('log_options', 'dict', _read_log_options),
    Option('etc_hosts', 'set', _read_etc_hosts),
    Option('dns_servers', 'list', lambda c: [normalize_ip(x) for x in _get(c, 'HostConfig', 'Dns') or []]),
    Option('dns_search_domains', 'list', lambda c: list(_get(c, 'HostConfig', 'DnsSearch') or [])),
    Option('dns_opts', 'set', lambda c: set(_get(c, 'HostConfig', 'DnsOptions') or [])),
    Option('ulimits', 'set(dict)', lambda c: list(_get(c, 'HostConfig', 'Ulimits') or [])),
    Option('sysctls', 'dict', lambda c: dict(_get(c, 'HostConfig', 'Sysctls') or {})),
    Option('shm_size', 'value', lambda c: _get(c, 'HostConfig', 'ShmSize') or 0),
    Option('tmpfs', 'dict', lambda c: dict(_get(c, 'HostConfig', 'Tmpfs') or {})),
    Option('pid_mode', 'value', lambda c: _get(c, 'HostConfig', 'PidMode') or ''),
    Option('ipc_mode', 'value', lambda c: _get(c, 'HostConfig', 'IpcMode') or ''),
    Option('group_add', 'set', lambda c: set(str(g) for g in _get(c, 'HostConfig', 'GroupAdd') or [])),
    Option('security_opts', 'set', lambda c: set(_get(c, 'HostConfig', 'SecurityOpt') or [])),
    Option('platform', 'value', None),
])

# Options whose comparison mode is shared with another (the user sees one option).
COMPARISON_OWNER = {'anonymous_volumes': 'volumes', 'restart_retries': 'restart_policy'}
# Extra names accepted in ``comparisons``.
COMPARISON_EXTRA = ('image', 'networks', '*')
COMPARISON_MODES = ('strict', 'ignore', 'allow_more_present')


def comparison_modes(user):
    """Effective mode of every option from the ``comparisons`` parameter; unknown keys fail."""
    user = dict(user or {})
    modes = dict((name, o.default) for name, o in OPTIONS.items())
    modes['image'] = 'strict'
    modes['networks'] = 'allow_more_present'
    everything = user.pop('*', None)
    if everything is not None:
        if everything not in ('strict', 'ignore'):
            raise OptionError("comparisons: '*' must be strict or ignore")
        for name in modes:
            if name != 'networks':
                modes[name] = everything
    for name, mode in user.items():
        if mode not in COMPARISON_MODES:
            raise OptionError('comparisons: %s: %r is not a mode; use %s' % (name, mode, ', '.join(COMPARISON_MODES)))
        if name not in modes or name in COMPARISON_OWNER:
            raise OptionError('comparisons: %r is not an option that can be compared; use one of %s'
                              % (name, ', '.join(sorted(n for n in modes if n not in COMPARISON_OWNER))))
        kind = OPTIONS[name].kind if name in OPTIONS else ('value' if name == 'image' else 'set(dict)')
        if mode == 'allow_more_present' and kind == 'value':
            raise OptionError('comparisons: %s holds a single value; allow_more_present makes no sense, use strict or ignore' % name)
        modes[name] = mode
    for child, owner in COMPARISON_OWNER.items():
        modes[child] = modes[owner]
    return modes


# ---------------------------------------------------------------------------------------------- comparison engine

def _dict_contains(big, small):
    return all(key in big and big[key] == value for key, value in small.items())


def _freeze(value):
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, set):
        return tuple(sorted(_freeze(v) for v in value))
    return value


def compare(kind, mode, desired, current):
    """True when ``current`` satisfies ``desired`` under ``mode`` (strict, ignore, allow_more_present)."""
    if mode == 'ignore':
        return True
    if kind == 'value':
        return desired == current
    if desired is None and current is None:
        return True
    if desired is None or current is None:
        other = current if desired is None else desired
        return not other or (desired is None and mode == 'allow_more_present')
    if kind == 'list':
        desired = list(desired)
        current = list(current)
        if mode == 'strict':
            return desired == current
        position = 0
        for item in desired:
            try:
                position = current.index(item, position) + 1
            except ValueError:
                return False
        return True
    if kind == 'set':
        desired = set(desired)
        current = set(current)
        return desired == current if mode == 'strict' else desired <= current
    if kind == 'set(dict)':
        for item in desired:
            if not any(_dict_contains(c, item) for c in current):
                return False
        if mode == 'strict':
            for item in current:
                if not any(_dict_contains(item, d) for d in desired):
                    return False
        return True
    if kind == 'dict':
        if mode == 'strict':
            return _freeze(dict(desired)) == _freeze(dict(current))
        return _dict_contains(dict(current), dict(desired))
    raise ValueError('unknown kind %s' % kind)


def expected_values(desired, image_config):
    """Desired values with what the image fills in merged (env, labels, exposed ports, volumes, ``command: []``)."""
    result = {}
    for name, value in desired.items():
        option = OPTIONS.get(name)
        if option is not None and option.expected is not None:
            value = option.expected(value, image_config or {})
        result[name] = value
    return result


def current_values(container, names):
    return dict((name, OPTIONS[name].read(container)) for name in names if name in OPTIONS and OPTIONS[name].read is not None)


def printable(value):
    """A normalised value in a JSON-friendly, stable form (sets sorted, tuples as lists) for diffs and results."""
    if isinstance(value, set):
        return sorted(value)
    if isinstance(value, dict):
        return dict((k, printable(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [printable(v) for v in value]
    return value


def differences(desired, container, image_config, modes):
    """List of ``(name, expected, current)`` for the options that do not match; only options in ``desired``."""
    expected = expected_values(desired, image_config)
    current = current_values(container, desired)
    result = []
    for name in sorted(expected):
        if name not in current:
            continue
        option = OPTIONS[name]
        if not compare(option.kind, modes.get(name, option.default), expected[name], current[name]):
            result.append((name, printable(expected[name]), printable(current[name])))
    return result


# ---------------------------------------------------------------------------------------------- from parameters to desired values

def _string_dict(option, value):
    for key in (value or {}):
        if not str(key).strip():
            raise OptionError('%s: a key is empty; give every entry a name' % option)
    return dict((str(k), _string_value(option, k, v)) for k, v in (value or {}).items())


def _string_list(value):
    return [str(v) for v in value]


def parse_command(value, option='command'):
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return shlex.split(value)
        except ValueError as exc:
            raise OptionError('%s: %r cannot be split like a shell would: %s' % (option, value, exc)) from None
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    raise OptionError('%s must be a string or a list of strings' % option)


def parse_options(params):
    """Module parameters -> (desired, extra).

    ``desired`` holds the normalised desired value of every comparable option the user set (the keys of
    ``OPTIONS``). ``extra`` holds what creation needs in another shape (``mounts_body``).
    Raises OptionError naming the option for any bad input; sends nothing.
    """
    desired = {}
    extra = {}

    def given(name):
        return params.get(name) is not None

    if given('command'):
        desired['command'] = parse_command(params['command'])
    if given('entrypoint'):
        desired['entrypoint'] = parse_command(params['entrypoint'], 'entrypoint')
    if given('env') or given('env_file'):
        env = {}
        if given('env_file'):
            env.update(parse_env_file(params['env_file']))
        env.update(_string_dict('env', params.get('env')))
        for key in env:
            if not key or '=' in key:
                raise OptionError('env: %r is not a valid variable name' % key)
        desired['env'] = env
    if given('labels'):
        desired['labels'] = _string_dict('labels', params['labels'])
    default_ip = normalize_ip(params.get('default_host_ip') or '')
    if params.get('default_host_ip'):
        try:
            ipaddress.ip_address(default_ip)
        except ValueError:
            raise OptionError('default_host_ip: %r is not an IP address' % params['default_host_ip']) from None
    if given('published_ports'):
        desired['published_ports'] = normalize_port_bindings(parse_published_ports(params['published_ports'], default_ip))
    if given('exposed_ports') or given('published_ports'):
        exposed = set()
        for spec in params.get('exposed_ports') or []:
            exposed.update(parse_exposed_port(spec))
        exposed.update(desired.get('published_ports', {}).keys())
        if given('exposed_ports'):
            desired['exposed_ports'] = exposed
        else:
            extra['exposed_ports'] = exposed
    if given('publish_all_ports'):
        desired['publish_all_ports'] = bool(params['publish_all_ports'])
    if given('volumes'):
        binds, anonymous = parse_volumes(params['volumes'])
        desired['volumes'] = set(binds)
        desired['anonymous_volumes'] = set(anonymous)
    if given('mounts'):
        bodies = [parse_mount(m) for m in params['mounts']]
        targets = [b['Target'] for b in bodies] + [b.split(':')[1] for b in desired.get('volumes', [])]
        duplicates = sorted(set(t for t in targets if targets.count(t) > 1))
        if duplicates:
            raise OptionError('mounts: %s mounted twice (mounts and volumes together); give each target once' % ', '.join(duplicates))
        extra['mounts_body'] = bodies
        desired['mounts'] = [flatten_mount(b) for b in bodies]
    if given('network_mode'):
        desired['network_mode'] = normalize_network_mode(params['network_mode'])
        extra['network_mode_raw'] = str(params['network_mode'])
    if given('restart_policy'):
        desired['restart_policy'] = normalize_restart_policy(params['restart_policy'])
    if given('restart_retries'):
        if params.get('restart_policy') not in (None, 'on-failure'):
            raise OptionError('restart_retries: only used with restart_policy: on-failure')
        if int(params['restart_retries']) < 0:
            raise OptionError('restart_retries: %s is negative; give the number of restarts to try, 0 or more' % params['restart_retries'])
        desired['restart_retries'] = int(params['restart_retries'])
    for name in ('memory', 'memory_reservation', 'shm_size'):
        if given(name):
            desired[name] = parse_size(params[name], name)
    if given('memory_swap'):
        desired['memory_swap'] = parse_size(params['memory_swap'], 'memory_swap', allow_unlimited=True)
    if given('cpus'):
        if params['cpus'] < 0:
            raise OptionError('cpus: must be 0 (no limit) or more, like 0.5 or 2')
        desired['cpus'] = int(round(params['cpus'] * 1e9))
    if given('cpu_shares'):
        desired['cpu_shares'] = int(params['cpu_shares'])
    if given('pids_limit'):
        desired['pids_limit'] = params['pids_limit'] if params['pids_limit'] > 0 else None
    for name in ('user', 'working_dir', 'hostname', 'domainname', 'stop_signal', 'log_driver', 'pid_mode', 'ipc_mode'):
        if given(name):
            desired[name] = str(params[name])
    if given('stop_timeout'):
        desired['stop_timeout'] = int(params['stop_timeout'])
    for name in ('privileged', 'read_only', 'init', 'auto_remove', 'tty', 'interactive'):
        if given(name):
            desired[name] = bool(params[name])
    for name in ('capabilities', 'cap_drop'):
        if given(name):
            desired[name] = set(normalize_capability(c) for c in params[name])
    if given('devices'):
        desired['devices'] = [parse_device(d) for d in params['devices']]
    if given('healthcheck'):
        desired['healthcheck'] = parse_healthcheck(params['healthcheck'])
    if given('log_options'):
        desired['log_options'] = _string_dict('log_options', params['log_options'])
    if given('etc_hosts'):
        hosts = set()
        for host, address in params['etc_hosts'].items():
            hosts.add('%s:%s' % (host, _string_value('etc_hosts', host, address)))
        desired['etc_hosts'] = hosts
    if given('dns_servers'):
        servers = []
        for server in params['dns_servers']:
            try:
                servers.append(str(ipaddress.ip_address(str(server).strip())))
            except ValueError:
                raise OptionError('dns_servers: %r is not an IP address' % server) from None
        desired['dns_servers'] = servers
    if given('dns_search_domains'):
        desired['dns_search_domains'] = _string_list(params['dns_search_domains'])
    if given('dns_opts'):
        desired['dns_opts'] = set(_string_list(params['dns_opts']))
    if given('ulimits'):
        desired['ulimits'] = [parse_ulimit(u) for u in params['ulimits']]
    if given('sysctls'):
        desired['sysctls'] = _string_dict('sysctls', params['sysctls'])
    if given('tmpfs'):
        tmpfs = {}
        for entry in params['tmpfs']:
            path, sep, opts = str(entry).partition(':')
            if not path.startswith('/'):
                raise OptionError('tmpfs: %r: expected an absolute container path, optionally followed by :options (like /run:size=64m)' % entry)
            tmpfs[path] = opts if sep else ''
        desired['tmpfs'] = tmpfs
    if given('group_add'):
        desired['group_add'] = set(_string_list(params['group_add']))
    if given('security_opts'):
        desired['security_opts'] = set(_string_list(params['security_opts']))
    if given('platform'):
        desired['platform'] = normalize_platform(params['platform'])
    return desired, extra


def parse_networks(networks, option='networks'):
    """``networks`` -> list of ``{name, aliases, ipv4_address, ipv6_address, links}`` with normalised addresses."""
    result = []
    seen = set()
    for network in networks or []:
        name = network.get('name')
        if not name:
            raise OptionError('%s: every entry needs name' % option)
        if name in seen:
            raise OptionError('%s: %s is listed twice' % (option, name))
        seen.add(name)
        item = {'name': name, 'aliases': _string_list(network.get('aliases') or []), 'links': _string_list(network.get('links') or [])}
        for key in ('ipv4_address', 'ipv6_address'):
            value = network.get(key)
            if value:
                try:
                    address = ipaddress.ip_address(str(value))
                except ValueError:
                    raise OptionError('%s: %s: %s %r is not an IP address' % (option, name, key, value)) from None
                if address.version != (4 if key == 'ipv4_address' else 6):
                    raise OptionError('%s: %s: %s %r is not an IPv%s address' % (option, name, key, value, key[3]))
                item[key] = str(address)
            else:
                item[key] = None
        result.append(item)
    return result


def endpoint_config(network):
    """A parsed ``networks`` entry -> Docker's EndpointSettings for create or connect."""
    config = {}
    ipam = {}
    if network.get('ipv4_address'):
        ipam['IPv4Address'] = network['ipv4_address']
    if network.get('ipv6_address'):
        ipam['IPv6Address'] = network['ipv6_address']
    if ipam:
        config['IPAMConfig'] = ipam
    if network.get('aliases'):
        config['Aliases'] = list(network['aliases'])
    if network.get('links'):
        config['Links'] = list(network['links'])
    return config


def network_differs(network, attached):
    """True when an attached network's settings do not match a ``networks`` entry (aliases and links as subsets)."""
    ipam = attached.get('IPAMConfig') or {}
    if network.get('ipv4_address') and normalize_ip(ipam.get('IPv4Address')) != network['ipv4_address']:
        return True
    if network.get('ipv6_address') and normalize_ip(ipam.get('IPv6Address')) != network['ipv6_address']:
        return True
    if not set(network.get('aliases') or []) <= set(attached.get('Aliases') or []):
        return True
    links = set(attached.get('Links') or [])
    wanted = set(link if ':' in link else '%s:%s' % (link, link) for link in network.get('links') or [])
    return not wanted <= links


def create_body(image, desired, extra, networks=None):
    """The body of ``POST /containers/create`` from the desired values (what the user set, nothing else)."""
    config = {'Image': image}
    host = {}
    if 'command' in desired:
        config['Cmd'] = desired['command']
    if 'entrypoint' in desired:
        config['Entrypoint'] = desired['entrypoint'] or ['']
    if 'env' in desired:
        config['Env'] = ['%s=%s' % (k, v) for k, v in sorted(desired['env'].items())]
    if 'labels' in desired:
        config['Labels'] = dict(desired['labels'])
    exposed = set(desired.get('exposed_ports') or extra.get('exposed_ports') or [])
    if exposed:
        config['ExposedPorts'] = dict((key, {}) for key in sorted(exposed))
    if desired.get('anonymous_volumes'):
        config['Volumes'] = dict((path, {}) for path in sorted(desired['anonymous_volumes']))
    for name, field in (('user', 'User'), ('working_dir', 'WorkingDir'), ('hostname', 'Hostname'), ('domainname', 'Domainname'),
                        ('stop_signal', 'StopSignal'), ('stop_timeout', 'StopTimeout'), ('tty', 'Tty'), ('interactive', 'OpenStdin'),
                        ('healthcheck', 'Healthcheck')):
        if name in desired:
            config[field] = desired[name]
    if 'published_ports' in desired:
        host['PortBindings'] = dict((key, [{'HostIp': ip, 'HostPort': port} for ip, port in values])
                                    for key, values in desired['published_ports'].items())
    if desired.get('volumes'):
        host['Binds'] = sorted(desired['volumes'])
    if extra.get('mounts_body'):
        host['Mounts'] = extra['mounts_body']
    if 'restart_policy' in desired or 'restart_retries' in desired:
        host['RestartPolicy'] = {'Name': desired.get('restart_policy', 'no'), 'MaximumRetryCount': desired.get('restart_retries', 0)}
    for name, field in (('publish_all_ports', 'PublishAllPorts'), ('memory', 'Memory'), ('memory_swap', 'MemorySwap'),
                        ('memory_reservation', 'MemoryReservation'), ('cpus', 'NanoCpus'), ('cpu_shares', 'CpuShares'),
                        ('pids_limit', 'PidsLimit'), ('privileged', 'Privileged'), ('read_only', 'ReadonlyRootfs'),
                        ('init', 'Init'), ('auto_remove', 'AutoRemove'), ('devices', 'Devices'), ('ulimits', 'Ulimits'),
                        ('sysctls', 'Sysctls'), ('shm_size', 'ShmSize'), ('tmpfs', 'Tmpfs'), ('pid_mode', 'PidMode'),
                        ('ipc_mode', 'IpcMode'), ('dns_servers', 'Dns'), ('dns_search_domains', 'DnsSearch')):
        if name in desired:
            host[field] = desired[name]
    for name, field in (('capabilities', 'CapAdd'), ('cap_drop', 'CapDrop'), ('etc_hosts', 'ExtraHosts'), ('dns_opts', 'DnsOptions'),
                        ('group_add', 'GroupAdd'), ('security_opts', 'SecurityOpt')):
        if name in desired:
            host[field] = sorted(desired[name])
    if 'log_driver' in desired or 'log_options' in desired:
        host['LogConfig'] = {'Type': desired.get('log_driver', ''), 'Config': desired.get('log_options', {})}
    network_mode = extra.get('network_mode_raw')
    if network_mode:
        host['NetworkMode'] = network_mode
    elif networks:
        host['NetworkMode'] = networks[0]['name']
    if host:
        config['HostConfig'] = host
    if networks and creates_on_first_network(network_mode, networks):
        config['NetworkingConfig'] = {'EndpointsConfig': {networks[0]['name']: endpoint_config(networks[0])}}
    return config


def creates_on_first_network(network_mode, networks):
    """True when the container is created attached to the first of ``networks`` (the others are connected later).

    Engines before API 1.44 take one network at create, and only the one of the network mode.
    """
    return bool(networks) and (not network_mode or network_mode == networks[0]['name'])


def update_body(names, desired, container):
    """The body of ``POST /containers/{id}/update`` for the updatable options in ``names``.

    Memory goes with MemorySwap: an engine refuses a memory limit above the swap limit it holds, and when
    the swap limit was the engine's default (twice the memory), it moves with the memory.
    """
    body = {}
    for name in names:
        field = OPTIONS[name].update
        if field == 'RestartPolicy':
            body['RestartPolicy'] = {'Name': desired.get('restart_policy', _read_restart_policy(container)),
                                     'MaximumRetryCount': desired.get('restart_retries', 0)}
        elif name == 'pids_limit':
            body['PidsLimit'] = desired[name] if desired[name] is not None else -1
        else:
            body[field] = desired[name]
    if 'Memory' in body and 'MemorySwap' not in body:
        memory = _get(container, 'HostConfig', 'Memory') or 0
        swap = _get(container, 'HostConfig', 'MemorySwap') or 0
        if swap > 0 and memory > 0 and swap == 2 * memory and body['Memory'] > 0:
            body['MemorySwap'] = 2 * body['Memory']
        elif swap > 0 and body['Memory'] > swap:
            body['MemorySwap'] = -1
        elif swap == 0 and body['Memory'] > 0:
            # No limit yet: engines (20.10 at least) refuse a memory limit alone; give the swap limit a
            # new container with this memory limit would get.
            body['MemorySwap'] = 2 * body['Memory']
    return body


def updatable(name):
    return name in OPTIONS and OPTIONS[name].update is not None
