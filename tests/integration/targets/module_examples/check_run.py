#!/usr/bin/env python
"""check_run.py PLAN MODULE LOG: every task of MODULE that the plan runs reported ok or changed in LOG.

LOG is the output of ansible-playbook with the default callback; a task that was skipped, or that
never started, makes this fail. Prints the number of example tasks that ran.
"""
import json
import re
import sys

plan_path, module, log_path = sys.argv[1:4]
with open(plan_path, encoding='utf-8') as f:
    entry = [e for e in json.load(f) if e['module'] == module][0]
status = {}
task = None
with open(log_path, encoding='utf-8') as f:
    for line in f:
        header = re.match(r'^TASK \[(.*)\] \**$', line.rstrip())
        if header:
            task = header.group(1)
            continue
        result = re.match(r'^(ok|changed|skipping|fatal|failed): \[localhost\]', line)
        if result and task is not None:
            status.setdefault(task, set()).add(result.group(1))
missing = [name for name in entry['run'] if not status.get(name, set()) & {'ok', 'changed'}
           or status[name] & {'skipping', 'fatal', 'failed'}]
if missing:
    sys.exit('%s: these EXAMPLES tasks did not run to ok/changed: %s' % (module, missing))
print('%s: %d example tasks ran' % (module, len(entry['run'])))
