# Copyright (c) pier.portainer contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark of the pier.portainer modules (issue 9): cost per task, requests per task, scaling, import time.

Started by scripts/benchmark.sh, which prepares the test bed, a Portainer simulator, the collection and a
virtualenv with the ``ansible`` package (for community.docker). This program then:

1. creates the objects the no-op loops converge on (containers, stacks, environments, all named ``pier-bench-...``);
2. times the same no-op loop of 20 items with each module, interleaved, several rounds, and prints medians and ratios;
3. counts the requests of every module's create, no-op, update and delete task from the simulator's request log,
   with an API key and with username and password (and the logins of a whole run);
4. measures the import time of every module in a fresh interpreter;
5. repeats the no-op tasks while the engine holds more containers and Portainer more stacks;
6. removes everything it created from the engine.

It never asserts on time: it prints figures, ratios and whether the targets of the issue are met.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
import urllib.parse

import requests
import yaml

LOOP = 20
UNCACHED = 'no-op, name looked up'
PREFIX = 'pier-bench-'
ENDPOINT = PREFIX + 'local'
NETWORK = PREFIX + 'net'
RECAP_RE = re.compile(r'^localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)', re.MULTILINE)
HEX_RE = re.compile(r'/[0-9a-f]{64}(?=/|$)')
NUM_RE = re.compile(r'/\d+(?=/|$)')


def stack_text(command='86400'):
    """A one-service swarm stack without tasks (replicas 0) on a shared external network: cheap to deploy."""
    return ('version: "3.8"\n'
            'services:\n'
            '  idle:\n'
            '    image: pier-test/busybox:1\n'
            '    command: ["sleep", "%s"]\n'
            '    deploy:\n'
            '      replicas: 0\n'
            'networks:\n'
            '  default:\n'
            '    name: %s\n'
            '    external: true\n' % (command, NETWORK))


def median(values):
    return statistics.median(values) if values else float('nan')


def fmt(value, digits=3):
    if value is None or math.isnan(value):
        return 'n/a'
    return '%.*f' % (digits, value)


def short_path(entry):
    path = NUM_RE.sub('/{n}', HEX_RE.sub('/{id}', entry['path']))
    return '%s %s' % (entry['method'], path)


class Failure(Exception):
    """A step of the benchmark failed; the message says which and why."""


class Bench:
    """The state of one benchmark run: configuration, paths, and the results collected so far."""

    def __init__(self, args):
        with open(args.config, encoding='utf-8') as handle:
            self.config = json.load(handle)
        self.args = args
        self.url = self.config['portainer_url'].rstrip('/')
        self.sim = self.config['portainer_sim_url'].rstrip('/')
        self.api_key = self.config['portainer_api_key']
        self.engine = self.config['testbed']['docker']['http_url'].rstrip('/') + '/v1.41'
        self.docker_cli = self.config['testbed']['docker'].get('cli') or 'docker'
        self.image = self.config['testbed']['images']['busybox_1']['name']
        self.work = os.path.abspath(args.workdir)
        self.playbooks = os.path.join(self.work, 'playbooks')
        self.logs = os.path.join(self.work, 'logs')
        for path in (self.playbooks, self.logs):
            os.makedirs(path, exist_ok=True)
        self.token_cache = os.path.join(self.work, 'token-cache')
        self.stack_file = os.path.join(self.work, 'stack.yml')
        with open(self.stack_file, 'w', encoding='utf-8') as handle:
            handle.write(stack_text())
        self.ansible_playbook = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
        self.env = dict(os.environ)
        self.env.update({
            'ANSIBLE_COLLECTIONS_PATH': os.path.abspath(args.collections),
            'ANSIBLE_LOCALHOST_WARNING': 'false',
            'ANSIBLE_INVENTORY_UNPARSED_WARNING': 'false',
            'ANSIBLE_NOCOLOR': '1',
            'ANSIBLE_RETRY_FILES_ENABLED': 'false',
            'PORTAINER_TOKEN_CACHE_DIR': self.token_cache,
        })
        for name in ('PORTAINER_URL', 'PORTAINER_API_KEY', 'PORTAINER_USERNAME', 'PORTAINER_PASSWORD', 'DOCKER_HOST'):
            self.env.pop(name, None)
        self.session = requests.Session()
        self.session.headers['X-API-KEY'] = self.api_key
        self.endpoint_id = None
        self.swarm_id = None
        self.results = {'meta': {}, 'timing': {}, 'requests': [], 'logins': [], 'imports': [], 'scaling': [], 'notes': []}
        self.runs = 0

    # ------------------------------------------------------------------ small helpers

    def say(self, text):
        print(text, flush=True)

    def api(self, method, path, expected=(200,), **kwargs):
        response = self.session.request(method, self.url + path, timeout=300, **kwargs)
        if response.status_code not in expected:
            raise Failure('%s %s answered %s: %s' % (method, path, response.status_code, response.text[:300]))
        return response.json() if response.content else None

    def engine_call(self, method, path, expected=(200, 201, 204), **kwargs):
        response = requests.request(method, self.engine + path, timeout=120, **kwargs)
        if response.status_code not in expected:
            raise Failure('engine %s %s answered %s: %s' % (method, path, response.status_code, response.text[:300]))
        return response.json() if response.content else None

    def log_clear(self):
        requests.delete(self.sim + '/log', timeout=30).raise_for_status()

    def log_read(self):
        response = requests.get(self.sim + '/log', timeout=30)
        response.raise_for_status()
        return response.json()

    def cli(self, *argv, check=True):
        done = subprocess.run([self.docker_cli] + list(argv), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
        if check and done.returncode != 0:
            raise Failure('docker %s failed: %s' % (' '.join(argv[:3]), done.stdout[-500:]))
        return done.stdout

    # ------------------------------------------------------------------ playbooks

    def defaults(self, auth):
        group = {'portainer_url': self.url}
        if auth == 'password':
            group.update(portainer_username=self.config['portainer_admin_username'], portainer_password=self.config['portainer_admin_password'])
        else:
            group['portainer_api_key'] = self.api_key
        return {'group/pier.portainer.portainer': group}

    def playbook(self, name, tasks, auth='apikey'):
        play = {'name': name, 'hosts': 'localhost', 'gather_facts': False, 'module_defaults': self.defaults(auth), 'tasks': tasks}
        path = os.path.join(self.playbooks, name + '.yml')
        with open(path, 'w', encoding='utf-8') as handle:
            yaml.safe_dump([play], handle, sort_keys=False, width=200)
        return path

    def run(self, name, tasks, auth='apikey', expect_changed=None):
        """Run a playbook; returns (seconds, changed). Fails on a failed task or an unexpected change count."""
        path = self.playbook(name, tasks, auth)
        start = time.perf_counter()
        done = subprocess.run([self.ansible_playbook, path], env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, check=False, timeout=1800)
        seconds = time.perf_counter() - start
        self.runs += 1
        log = os.path.join(self.logs, '%03d-%s.log' % (self.runs, name))
        with open(log, 'w', encoding='utf-8') as handle:
            handle.write(done.stdout)
        recap = RECAP_RE.search(done.stdout)
        if not tasks and done.returncode == 0:
            return seconds, 0
        if done.returncode != 0 or recap is None or int(recap.group(4)):
            raise Failure('playbook %s failed (rc %s); see %s:\n%s' % (name, done.returncode, log, done.stdout[-1500:]))
        changed = int(recap.group(2))
        if expect_changed is not None and changed != expect_changed:
            raise Failure('playbook %s reported changed=%d, expected %d; see %s' % (name, changed, expect_changed, log))
        return seconds, changed

    # ------------------------------------------------------------------ the objects of the loops

    def names(self, kind):
        return ['%s%s-%02d' % (PREFIX, kind, i) for i in range(1, LOOP + 1)]

    def task(self, variant, names=None, extra=None):
        """One task of ``variant`` looping over its objects (or over ``names``)."""
        spec = {
            'ping': ('ansible.builtin.ping', {}, 'ping'),
            'portainer_container': ('pier.portainer.portainer_container',
                                    {'endpoint': ENDPOINT, 'name': '{{ item }}', 'image': self.image, 'state': 'present'}, 'pc'),
            'portainer_container_pw': ('pier.portainer.portainer_container',
                                       {'endpoint': ENDPOINT, 'name': '{{ item }}', 'image': self.image, 'state': 'present'}, 'pc'),
            'docker_container': ('community.docker.docker_container', {'name': '{{ item }}', 'image': self.image, 'state': 'present'}, 'dc'),
            'portainer_stack': ('pier.portainer.portainer_stack', {'endpoint': ENDPOINT, 'name': '{{ item }}', 'definition': stack_text()}, 'ps'),
            'docker_stack': ('community.docker.docker_stack', {'name': '{{ item }}', 'compose': [self.stack_file], 'state': 'present'}, 'ds'),
            'portainer_endpoint': ('pier.portainer.portainer_endpoint', {'name': '{{ item }}', 'url': 'unix:///var/run/docker.sock'}, 'pe'),
        }
        module, options, kind = spec[variant]
        options = dict(options)
        options.update(extra or {})
        return {'name': variant, module: options or None, 'loop': names or self.names(kind)}

    def setup(self):
        self.say('== Setting up: environment %s, network %s, %d objects per module' % (ENDPOINT, NETWORK, LOOP))
        found = self.api('GET', '/api/endpoints', params={'name': ENDPOINT, 'excludeSnapshots': 'true'})
        found = [e for e in found or [] if e.get('Name') == ENDPOINT]
        if found:
            self.endpoint_id = found[0]['Id']
        else:
            form = {'Name': (None, ENDPOINT), 'EndpointCreationType': (None, '1'), 'URL': (None, self.config['testbed']['docker']['unix_url'])}
            created = self.api('POST', '/api/endpoints', files=form)
            self.endpoint_id = created['Id']
        info = self.engine_call('GET', '/info')
        self.swarm_id = ((info.get('Swarm') or {}).get('Cluster') or {}).get('ID')
        if not self.swarm_id:
            raise Failure('the engine is not a swarm manager; the test bed should have made it one')
        if not self.engine_call('GET', '/networks', params={'filters': json.dumps({'name': [NETWORK]})}):
            network = {'Name': NETWORK, 'Driver': 'overlay', 'Attachable': True, 'Labels': {'pier.bench': '1'}}
            self.engine_call('POST', '/networks/create', json=network)
        tasks = [self.task(v) for v in ('portainer_container', 'docker_container', 'portainer_stack', 'docker_stack', 'portainer_endpoint')]
        seconds, changed = self.run('setup', tasks)
        self.say('   created or converged in %.1f s (%d tasks changed)' % (seconds, changed))

    # ------------------------------------------------------------------ 1. cost per task

    def timing(self, rounds):
        variants = ['empty', 'ping', 'portainer_container', 'docker_container', 'portainer_stack', 'docker_stack', 'portainer_endpoint']
        warmup = 1 if rounds > 2 else 0
        self.say('== Cost per task: no-op loops of %d, %d interleaved rounds (%d warm-up)' % (LOOP, rounds, warmup))
        times = dict((v, []) for v in variants)
        for number in range(1 - warmup, rounds + 1):
            order = variants[number % len(variants):] + variants[:number % len(variants)]
            for variant in order:
                tasks = [] if variant == 'empty' else [self.task(variant)]
                auth = 'password' if variant.endswith('_pw') else 'apikey'
                seconds = self.run('time-%s' % variant, tasks, auth=auth, expect_changed=0)[0]
                if number:
                    times[variant].append(seconds)
            if number:
                self.say('   round %d/%d: %s' % (number, rounds, ', '.join('%s %.1fs' % (v, times[v][-1]) for v in variants)))
        med = dict((v, median(t)) for v, t in times.items())
        rows = {}
        for variant in variants:
            rows[variant] = {
                'runs': times[variant],
                'median_run': med[variant],
                'per_task': (med[variant] - med['empty']) / LOOP if variant != 'empty' else None,
                'above_floor': (med[variant] - med['ping']) / LOOP if variant not in ('empty', 'ping') else None,
                'spread': (max(times[variant]) - min(times[variant])) / LOOP if times[variant] else None,
            }
        self.results['timing'] = rows

    # ------------------------------------------------------------------ 2. requests per task

    def mark(self, label):
        """A task whose one request (a public route, with the label in the query) marks a place in the request log."""
        return {'name': 'mark %s' % label,
                'ansible.builtin.uri': {'url': '%s/api/system/status?bench_mark=%s' % (self.url, urllib.parse.quote(label))}}

    def counted(self, name, steps, auth):
        """Run the tasks of ``steps`` ([(label, task)]) in one playbook; the requests of each task, split at marks."""
        tasks = []
        for label, task in steps:
            tasks += [self.mark(label), task]
        tasks.append(self.mark('end'))
        self.log_clear()
        seconds, changed = self.run(name, tasks, auth=auth)
        groups, current = {}, None
        for entry in self.log_read():
            if entry['path'] == '/api/system/status' and entry['query'].startswith('bench_mark='):
                current = urllib.parse.unquote(entry['query'].split('=', 1)[1])
                groups[current] = []
            elif current is not None:
                groups[current].append(entry)
        counts = {}
        for label, dummy in steps:
            entries = groups.get(label, [])
            counts[label] = {
                'requests': len(entries),
                'writes': sum(1 for e in entries if e.get('write')),
                'logins': sum(1 for e in entries if e['method'] == 'POST' and e['path'] == '/api/auth'),
                'sequence': [short_path(e) for e in entries],
            }
        return counts, seconds, changed

    def request_counts(self):
        self.say('== Requests per task (from the simulator request log)')
        # The environment is named, as users do. After the create, its id is in the environment cache; the second
        # no-op turns the cache off, which is what the first task of a play on an environment costs.
        paths = {
            'portainer_container': [
                ('create', {'memory': '64m'}), ('no-op', {'memory': '64m'}), (UNCACHED, {'memory': '64m', 'endpoint_cache_ttl': 0}),
                ('update', {'memory': '96m'}), ('delete', {'state': 'absent'})],
            'portainer_stack': [
                ('create', {}), ('no-op', {}), (UNCACHED, {'endpoint_cache_ttl': 0}),
                ('update', {'definition': stack_text('86401')}), ('delete', {'state': 'absent'})],
            'portainer_endpoint': [
                ('create', {'public_url': 'one.example.com'}), ('no-op', {'public_url': 'one.example.com'}),
                ('update', {'public_url': 'two.example.com'}), ('delete', {'state': 'absent'})],
        }
        shutil.rmtree(self.token_cache, ignore_errors=True)
        for auth in ('apikey', 'password'):
            for module, steps in paths.items():
                name = '%srq-%s-%s' % (PREFIX, module.split('_', 1)[1], 'k' if auth == 'apikey' else 'p')
                tasks = [(path, self.task(module, names=[name], extra=extra)) for path, extra in steps]
                counts, dummy, changed = self.counted('rq-%s-%s' % (module, auth), tasks, auth)
                if changed != 3:
                    raise Failure('the create, update and delete tasks of %s (%s) reported %d changes, not 3; see the logs in %s'
                                  % (module, auth, changed, self.logs))
                for path, dummy in steps:
                    row = dict(counts[path], module=module, path=path, auth=auth)
                    self.results['requests'].append(row)
                    self.say('   %-20s %-7s %-8s %2d requests (%d writes, %d logins)' % (module, path, auth, row['requests'],
                                                                                         row['writes'], row['logins']))
        # Logins of a whole run with username and password, from a cold token cache.
        shutil.rmtree(self.token_cache, ignore_errors=True)
        tasks = [self.task('portainer_container_pw'), self.task('portainer_endpoint')]
        self.log_clear()
        self.run('logins-cold', tasks, auth='password', expect_changed=0)
        entries = self.log_read()
        logins = sum(1 for e in entries if e['method'] == 'POST' and e['path'] == '/api/auth')
        self.results['logins'].append({'label': 'cold token cache', 'tasks': 2 * LOOP, 'requests': len(entries), 'logins': logins})
        self.say('   username/password, %d no-op tasks, cold token cache: %d logins, %d requests' % (2 * LOOP, logins, len(entries)))

    # ------------------------------------------------------------------ 3. import time

    def import_times(self, repeat):
        self.say('== Import time of each module in a fresh interpreter (median of %d)' % repeat)
        base = 'ansible_collections.pier.portainer.plugins.modules.'
        folder = os.path.join(self.args.collections, 'ansible_collections', 'pier', 'portainer', 'plugins', 'modules')
        modules = sorted(f[:-3] for f in os.listdir(folder) if f.endswith('.py') and not f.startswith('_'))
        targets = [(m, base + m) for m in modules]
        targets += [('community.docker.docker_container', 'ansible_collections.community.docker.plugins.modules.docker_container'),
                    ('community.docker.docker_stack', 'ansible_collections.community.docker.plugins.modules.docker_stack'),
                    ('ansible.builtin.ping', 'ansible.modules.ping')]
        env = dict(self.env)
        env['PYTHONPATH'] = os.path.abspath(self.args.collections)
        env['PYTHONDONTWRITEBYTECODE'] = ''
        for label, module in targets:
            totals, basics, req = [], [], []
            for dummy in range(repeat + 1):
                done = subprocess.run([sys.executable, '-X', 'importtime', '-c', 'import %s' % module], env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True, check=False)
                if done.returncode != 0:
                    raise Failure('importing %s failed: %s' % (module, done.stderr[-500:]))
                cumulative = {}
                for line in done.stderr.splitlines():
                    parts = line.split('|')
                    if len(parts) == 3 and parts[1].strip().isdigit():
                        cumulative.setdefault(parts[2].strip(), int(parts[1]))
                if dummy == 0:
                    continue  # the first run may write bytecode; not counted
                totals.append(cumulative.get(module, 0) / 1e6)
                basics.append(cumulative.get('ansible.module_utils.basic', 0) / 1e6)
                req.append(cumulative.get('requests', 0) / 1e6)
            row = {'module': label, 'total': median(totals), 'basic': median(basics), 'requests': median(req), 'min': min(totals)}
            row['own'] = row['total'] - row['basic'] - row['requests']
            self.results['imports'].append(row)
            self.say('   %-40s %6.1f ms, min %6.1f ms (ansible.module_utils.basic %5.1f ms, requests %5.1f ms, rest %5.1f ms)'
                     % (label, row['total'] * 1e3, row['min'] * 1e3, row['basic'] * 1e3, row['requests'] * 1e3, row['own'] * 1e3))

    # ------------------------------------------------------------------ 4. scaling

    def engine_containers(self):
        return len(self.engine_call('GET', '/containers/json', params={'all': '1'}))

    def fill_containers(self, count):
        have = self.engine_call('GET', '/containers/json', params={'all': '1', 'filters': json.dumps({'label': ['pier.bench=fill']})})
        missing = ['%sfill-%04d' % (PREFIX, i) for i in range(len(have) + 1, count + 1)]

        def create(name):
            self.engine_call('POST', '/containers/create', params={'name': name},
                             json={'Image': self.image, 'Cmd': ['true'], 'Labels': {'pier.bench': 'fill'}})

        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            list(pool.map(create, missing))

    def fill_stacks(self, count):
        have = [s for s in self.api('GET', '/api/stacks') or [] if s['Name'].startswith(PREFIX + 'fill-')]
        for i in range(len(have) + 1, count + 1):
            self.api('POST', '/api/stacks/create/swarm/string', params={'endpointId': self.endpoint_id},
                     json={'Name': '%sfill-s%03d' % (PREFIX, i), 'SwarmID': self.swarm_id, 'StackFileContent': stack_text()})

    def stacks_list_bytes(self):
        filters = json.dumps({'EndpointID': self.endpoint_id, 'SwarmID': self.swarm_id}, separators=(',', ':'))
        response = self.session.get(self.url + '/api/stacks', params={'filters': filters}, timeout=60)
        return len(response.content), len(response.json())

    def scaling(self, container_sizes, stack_sizes, rounds):
        self.say('== Scaling: no-op tasks while the engine holds more containers and Portainer more stacks (%d rounds)' % rounds)
        for size in container_sizes:
            start = time.perf_counter()
            self.fill_containers(size)
            filled = time.perf_counter() - start
            total = self.engine_containers()
            row = {'objects': 'containers', 'size': size, 'engine_total': total, 'fill_seconds': filled}
            for auth in ('apikey', 'password'):
                counts = self.no_op_counts('scale-rq-%s-%d' % (auth, size), 'portainer_container', 'pc', auth)
                row['requests_' + auth] = counts['no-op']['requests']
                row['uncached_' + auth] = counts[UNCACHED]['requests']
            self.times_into(row, ['ping', 'portainer_container', 'docker_container'], rounds, 'scale-c%d' % size)
            self.results['scaling'].append(row)
            self.say('   %4d filler containers (%d on the engine, filled in %.0f s): portainer_container %d requests (API key), %d (password); '
                     'per task above ping: portainer_container %s s, docker_container %s s'
                     % (size, total, filled, row['requests_apikey'], row['requests_password'], fmt(row['portainer_container']),
                        fmt(row['docker_container'])))
        for size in stack_sizes:
            start = time.perf_counter()
            self.fill_stacks(size)
            filled = time.perf_counter() - start
            size_bytes, listed = self.stacks_list_bytes()
            row = {'objects': 'stacks', 'size': size, 'engine_total': listed, 'fill_seconds': filled, 'list_bytes': size_bytes}
            counts = self.no_op_counts('scale-rq-stack-%d' % size, 'portainer_stack', 'ps', 'apikey')
            row['requests_apikey'] = counts['no-op']['requests']
            row['uncached_apikey'] = counts[UNCACHED]['requests']
            self.times_into(row, ['ping', 'portainer_stack'], rounds, 'scale-s%d' % size)
            self.results['scaling'].append(row)
            self.say('   %4d filler stacks (%d listed, list %d bytes, filled in %.0f s): portainer_stack %d requests; per task above ping %s s'
                     % (size, listed, size_bytes, filled, row['requests_apikey'], fmt(row['portainer_stack'])))

    def no_op_counts(self, name, variant, kind, auth):
        """Requests of one no-op task with the environment's id cached (a first task caches it), and without the cache."""
        one = self.names(kind)[:1]
        steps = [('first', self.task(variant, names=one)), ('no-op', self.task(variant, names=one)),
                 (UNCACHED, self.task(variant, names=one, extra={'endpoint_cache_ttl': 0}))]
        return self.counted(name, steps, auth)[0]

    def times_into(self, row, variants, rounds, label):
        times = dict((v, []) for v in variants)
        for number in range(rounds):
            order = variants[number % len(variants):] + variants[:number % len(variants)]
            for variant in order:
                times[variant].append(self.run('%s-%s' % (label, variant), [self.task(variant)], expect_changed=0)[0])
        for variant in variants:
            if variant != 'ping':
                row[variant] = (median(times[variant]) - median(times['ping'])) / LOOP
        row['ping_run'] = median(times['ping'])

    # ------------------------------------------------------------------ facts and cleanup

    def facts(self):
        meta = self.results['meta']
        meta['date'] = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')
        meta['nproc'] = os.cpu_count()
        meta['python'] = platform.python_version()
        try:
            with open('/proc/meminfo', encoding='utf-8') as handle:
                meta['memory'] = '%.1f GiB' % (int(handle.readline().split()[1]) / 1024 / 1024)
            with open('/proc/cpuinfo', encoding='utf-8') as handle:
                meta['cpu'] = next((line.split(':', 1)[1].strip() for line in handle if line.startswith('model name')), 'unknown')
        except OSError:
            meta.setdefault('memory', 'unknown')
            meta.setdefault('cpu', 'unknown')
        done = subprocess.run([self.ansible_playbook, '--version'], stdout=subprocess.PIPE, text=True, check=False)
        meta['ansible_core'] = re.search(r'core ([0-9.]+)', done.stdout).group(1) if 'core' in done.stdout else 'unknown'
        manifest = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(yaml.__file__))), 'ansible_collections', 'community',
                                'docker', 'MANIFEST.json')
        try:
            with open(manifest, encoding='utf-8') as handle:
                meta['community_docker'] = json.load(handle)['collection_info']['version']
        except (OSError, ValueError, KeyError):
            meta['community_docker'] = 'unknown'
        meta['docker_engine'] = self.engine_call('GET', '/version').get('Version')
        meta['docker_cli'] = self.cli('version', '--format', '{{.Client.Version}}', check=False).strip()
        meta['portainer'] = requests.get(self.url + '/api/system/status', timeout=30).json().get('Version')
        meta['loadavg'] = os.getloadavg()[0]

    def cleanup(self):
        """Remove every engine object named pier-bench-... (stacks, containers, the network); the simulator is discarded."""
        self.say('== Cleaning up the engine')
        services = self.engine_call('GET', '/services', params={'filters': json.dumps({'label': ['com.docker.stack.namespace']})}) or []
        stacks = sorted(set(s['Spec']['Labels']['com.docker.stack.namespace'] for s in services
                            if s['Spec']['Labels']['com.docker.stack.namespace'].startswith(PREFIX)))
        if stacks:
            self.cli('stack', 'rm', *stacks, check=False)
        containers = self.engine_call('GET', '/containers/json', params={'all': '1', 'filters': json.dumps({'name': [PREFIX]})}) or []

        def remove(container):
            if any(n.lstrip('/').startswith(PREFIX) for n in container.get('Names') or []):
                self.engine_call('DELETE', '/containers/%s' % container['Id'], params={'force': '1'}, expected=(204, 404, 409))

        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            list(pool.map(remove, containers))
        for dummy in range(120):
            if not any(s['Spec']['Name'].startswith(PREFIX) for s in self.engine_call('GET', '/services') or []):
                break
            time.sleep(0.5)
        for dummy in range(40):
            # Docker detaches the removed services from the network asynchronously: 409 until then.
            response = requests.delete('%s/networks/%s' % (self.engine, NETWORK), timeout=60)
            if response.status_code != 409:
                break
            time.sleep(0.5)
        self.say('   removed %d stacks and %d containers' % (len(stacks), len(containers)))


# ---------------------------------------------------------------------- report

def report(results, args):
    """The results as Markdown: tables, ratios and the targets of issue 9."""
    meta = results['meta']
    lines = ['# Benchmark results', '',
             '%s; %s CPUs (%s), %s memory; Python %s, ansible-core %s, community.docker %s; Docker engine %s, docker CLI %s; '
             'Portainer simulator emulating %s; load average at start %.2f; %s mode.'
             % (meta.get('date'), meta.get('nproc'), meta.get('cpu'), meta.get('memory'), meta.get('python'), meta.get('ansible_core'),
                meta.get('community_docker'), meta.get('docker_engine'), meta.get('docker_cli'), meta.get('portainer'),
                meta.get('loadavg', 0.0), 'quick' if args.quick else 'full'), '']
    timing = results['timing']
    if timing:
        ping = timing['ping']['per_task']
        docker = timing['docker_container']['above_floor']
        lines += ['## Cost per task (no-op loop of %d, median of %d interleaved rounds)' % (LOOP, len(timing['ping']['runs'])), '',
                  '| loop | median run (s) | per task (s) | above ping (s) | x ping | x docker_container above ping | spread per task (s) |',
                  '| --- | ---: | ---: | ---: | ---: | ---: | ---: |']
        for variant, row in timing.items():
            if variant == 'empty':
                lines.append('| empty playbook | %s | | | | | |' % fmt(row['median_run'], 2))
                continue
            ratio_ping = row['per_task'] / ping if ping else None
            ratio_docker = row['above_floor'] / docker if (row['above_floor'] is not None and docker) else None
            lines.append('| %s | %s | %s | %s | %s | %s | %s |' % (
                variant.replace('_pw', ' (username/password)'), fmt(row['median_run'], 2), fmt(row['per_task']), fmt(row['above_floor']),
                fmt(ratio_ping, 2), fmt(ratio_docker, 2), fmt(row['spread'])))
        lines.append('')
    if results['requests']:
        lines += ['## Requests per task', '', '| module | path | auth | requests | writes | logins | requests sent |',
                  '| --- | --- | --- | ---: | ---: | ---: | --- |']
        for row in results['requests']:
            cells = (row['module'], row['path'], row['auth'], row['requests'], row['writes'], row['logins'], '; '.join(row['sequence']))
            lines.append('| %s | %s | %s | %d | %d | %d | %s |' % cells)
        lines.append('')
        for row in results['logins']:
            lines.append('- A run of %d no-op tasks with username and password, %s: %d login(s), %d requests.'
                         % (row['tasks'], row['label'], row['logins'], row['requests']))
        lines.append('')
    if results['imports']:
        lines += ['## Import time (fresh interpreter, median)', '',
                  '| module | import (ms) | fastest (ms) | of which ansible.module_utils.basic | of which requests | rest (module, module_utils, others) |',
                  '| --- | ---: | ---: | ---: | ---: | ---: |']
        for row in results['imports']:
            cells = (row['module'], row['total'] * 1e3, row.get('min', 0.0) * 1e3, row['basic'] * 1e3, row['requests'] * 1e3, row['own'] * 1e3)
            lines.append('| %s | %.1f | %.1f | %.1f | %.1f | %.1f |' % cells)
        lines.append('')
    if results['scaling']:
        lines += ['## Scaling', '',
                  '| filler objects | on the engine / listed | requests per no-op task (API key) | (password) | '
                  'name looked up (API key) | (password) | per task above ping (s) | '
                  'docker_container above ping (s) | stack list bytes | fill time (s) |',
                  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |']
        for row in results['scaling']:
            module = 'portainer_container' if row['objects'] == 'containers' else 'portainer_stack'
            lines.append('| %d %s | %d | %s | %s | %s | %s | %s | %s | %s | %.0f |' % (
                row['size'], row['objects'], row['engine_total'], row.get('requests_apikey', ''), row.get('requests_password', ''),
                row.get('uncached_apikey', ''), row.get('uncached_password', ''),
                fmt(row.get(module)), fmt(row.get('docker_container')), row.get('list_bytes', ''), row['fill_seconds']))
        lines.append('')
    lines += ['## Targets of issue 9', ''] + ['- %s' % t for t in targets(results)] + ['']
    return '\n'.join(lines)


def targets(results):
    """Each target of the issue with the figure measured and met / MISSED."""
    out = []
    timing = results['timing']
    if timing:
        pc = timing['portainer_container']['above_floor']
        dc = timing['docker_container']['above_floor']
        out.append('no-op portainer_container <= 0.9 x no-op docker_container above the ping floor: %s s vs %s s = %s x: %s'
                   % (fmt(pc), fmt(dc), fmt(pc / dc if dc else None, 2), 'met' if dc and pc <= 0.9 * dc else 'MISSED'))
    counts = dict(((r['module'], r['path'], r['auth']), r['requests']) for r in results['requests'])
    if counts:
        for module, limit in (('portainer_container', 2), ('portainer_stack', 3)):
            got = counts.get((module, 'no-op', 'apikey'))
            first = counts.get((module, UNCACHED, 'apikey'))
            out.append('no-op %s with an API key <= %d requests: %s: %s (%s when the environment name is looked up, as in the first task '
                       'of a play on it)' % (module, limit, got, 'met' if got is not None and got <= limit else 'MISSED', first))
    for row in results['logins']:
        out.append('username/password, %s: at most one login per run: %d: %s' % (row['label'], row['logins'], 'met' if row['logins'] <= 1 else 'MISSED'))
    for objects in ('containers', 'stacks'):
        rows = [r for r in results['scaling'] if r['objects'] == objects]
        if len(rows) > 1:
            flat = all(len(set(r.get(column) for r in rows)) == 1
                       for column in ('requests_apikey', 'requests_password', 'uncached_apikey', 'uncached_password'))
            figures = ', '.join('%s (%s looked up)' % (r['requests_apikey'], r.get('uncached_apikey')) for r in rows)
            out.append('flat request counts from %d to %d %s: %s: %s' % (rows[0]['size'], rows[-1]['size'], objects, figures, 'met' if flat else 'MISSED'))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--config', required=True, help='the JSON written by tests/utils/prepare_portainer.py')
    parser.add_argument('--collections', required=True, help='a directory holding ansible_collections/pier/portainer')
    parser.add_argument('--workdir', required=True, help='where playbooks, logs and results go')
    parser.add_argument('--quick', action='store_true', help='fewer rounds and smaller environments (a few minutes)')
    parser.add_argument('--rounds', type=int, help='interleaved rounds of the cost-per-task loops (default 5, quick 2)')
    parser.add_argument('--skip', action='append', default=[], choices=['timing', 'requests', 'imports', 'scaling'], help='leave a part out')
    parser.add_argument('--markdown', help='also write the report to this file')
    parser.add_argument('--keep', action='store_true', help='do not remove the objects from the engine at the end')
    args = parser.parse_args()
    rounds = args.rounds or (1 if args.quick else 3)
    bench = Bench(args)
    status = 0
    try:
        bench.facts()
        bench.setup()
        if 'timing' not in args.skip:
            bench.timing(rounds)
        if 'requests' not in args.skip:
            bench.request_counts()
        if 'imports' not in args.skip:
            bench.import_times(5 if args.quick else 9)
        if 'scaling' not in args.skip:
            bench.scaling([10, 1000] if args.quick else [10, 100, 1000], [10, 100], 1 if args.quick else 2)
    except (Failure, requests.RequestException, subprocess.SubprocessError) as exc:
        print('benchmark failed: %s' % exc, file=sys.stderr)
        status = 1
    finally:
        if not args.keep:
            try:
                bench.cleanup()
            except (Failure, requests.RequestException) as exc:
                print('cleanup failed: %s' % exc, file=sys.stderr)
                status = 1
    text = report(bench.results, args)
    with open(os.path.join(bench.work, 'results.json'), 'w', encoding='utf-8') as handle:
        json.dump(bench.results, handle, indent=1, default=str)
    if args.markdown:
        with open(args.markdown, 'w', encoding='utf-8') as handle:
            handle.write(text)
    print('\n' + text)
    return status


if __name__ == '__main__':
    sys.exit(main())
