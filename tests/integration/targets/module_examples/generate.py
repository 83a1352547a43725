#!/usr/bin/env python
"""Write the EXAMPLES of every module of the collection as playbooks, as examples.yml describes.

generate.py COLLECTION_ROOT INTEGRATION_CONFIG TABLE OUTPUT_DIR

The module files are parsed with ast, never imported. Writes OUTPUT_DIR/NN_<module>.yml (the tasks
that run), OUTPUT_DIR/NN_<module>.syntax.yml (the tasks only syntax-checked), OUTPUT_DIR/extra_vars.yml
and OUTPUT_DIR/plan.json (per module: the playbooks and the task names that must run).
Fails when a module has no EXAMPLES tasks, when none of its tasks run, or when the table names a
module or task that does not exist.
"""
import ast
import json
import os
import re
import sys

import yaml

REF = re.compile(r'^\{\{ *([A-Za-z0-9_.]+) *\}\}$')


def fail(msg):
    sys.exit('generate.py: %s' % msg)


def examples_of(path):
    tree = ast.parse(open(path, encoding='utf-8').read(), path)
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, 'id', None) == 'EXAMPLES' for t in node.targets):
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                return node.value.value
    return None


def resolve(value, config):
    """Resolve a "{{ dotted.path }}" replacement against the integration config."""
    match = REF.match(value) if isinstance(value, str) else None
    if not match:
        return value
    current = config
    for part in match.group(1).split('.'):
        if not isinstance(current, dict) or part not in current:
            fail('the integration config has no %s' % match.group(1))
        current = current[part]
    return current


def substitute(data, subs, used, option=None):
    if isinstance(data, dict):
        return dict((k, substitute(v, subs, used, k)) for k, v in data.items())
    if isinstance(data, list):
        return [substitute(v, subs, used, option) for v in data]
    if isinstance(data, str):
        for index, sub in enumerate(subs):
            if sub.get('option'):
                if option == sub['option'] and data == sub['find']:
                    used.add(index)
                    data = sub['value']
            elif sub['find'] in data:
                used.add(index)
                data = data.replace(sub['find'], str(sub['value']))
        return data
    return data


def main():
    root, config_path, table_path, out = sys.argv[1:5]
    with open(config_path, encoding='utf-8') as f:
        config = yaml.safe_load(f)
    with open(table_path, encoding='utf-8') as f:
        table = yaml.safe_load(f)
    subs = [dict(s, value=resolve(s['replace'], config)) for s in table.get('substitutions') or []]
    own_connection = table.get('own_connection') or {}
    syntax_only = table.get('syntax_only') or {}

    mod_dir = os.path.join(root, 'plugins', 'modules')
    modules = sorted(n[:-3] for n in os.listdir(mod_dir) if n.endswith('.py') and not n.startswith('_'))
    for name in list(table.get('order') or []) + list(own_connection) + list(syntax_only):
        if name not in modules:
            fail('examples.yml names %s, which is not a module of plugins/modules/' % name)
    order = [m for m in table['order'] if m in modules] + [m for m in modules if m not in table['order']]

    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, 'extra_vars.yml'), 'w', encoding='utf-8') as f:
        yaml.safe_dump(table.get('extra_vars') or {}, f, default_flow_style=False, sort_keys=False)

    plan = []
    used = set()
    for number, module in enumerate(order, start=1):
        text = examples_of(os.path.join(mod_dir, module + '.py'))
        tasks = yaml.safe_load(text) if text else None
        if not isinstance(tasks, list) or not tasks:
            fail('%s has no EXAMPLES tasks' % module)
        tasks = substitute(tasks, subs, used)
        names = [t.get('name') for t in tasks]
        if None in names or len(set(names)) != len(names):
            fail('%s: every example task needs a name, and a unique one' % module)
        marked = syntax_only.get(module) or {}
        for name in marked:
            if name not in names:
                fail('examples.yml marks "%s" of %s as syntax-check only, but no such task exists' % (name, module))
        run = [t for t in tasks if t['name'] not in marked]
        if not run:
            fail('none of the EXAMPLES of %s would run' % module)
        play = {
            'name': 'EXAMPLES of %s' % module,
            'hosts': 'localhost',
            'gather_facts': False,
            'vars': {'ansible_python_interpreter': '{{ ansible_playbook_python }}'},
        }
        if module not in own_connection:
            play['module_defaults'] = {'group/pier.portainer.portainer': {
                'portainer_url': '{{ portainer_url }}', 'portainer_api_key': '{{ portainer_api_key }}'}}
        entry = {'module': module, 'playbook': '%02d_%s.yml' % (number, module), 'run': [t['name'] for t in run],
                 'syntax_playbook': None, 'syntax_only': dict(marked)}
        with open(os.path.join(out, entry['playbook']), 'w', encoding='utf-8') as f:
            yaml.safe_dump([dict(play, tasks=run)], f, default_flow_style=False, sort_keys=False)
        if marked:
            entry['syntax_playbook'] = '%02d_%s.syntax.yml' % (number, module)
            with open(os.path.join(out, entry['syntax_playbook']), 'w', encoding='utf-8') as f:
                yaml.safe_dump([dict(play, tasks=[t for t in tasks if t['name'] in marked])], f,
                               default_flow_style=False, sort_keys=False)
        plan.append(entry)
    for index, sub in enumerate(subs):
        if index not in used:
            fail('the substitution of "%s" is used by no EXAMPLES: remove it from examples.yml' % sub['find'])
    with open(os.path.join(out, 'plan.json'), 'w', encoding='utf-8') as f:
        json.dump(plan, f, indent=2)
    with open(os.path.join(out, 'plan.tsv'), 'w', encoding='utf-8') as f:
        for entry in plan:
            f.write('%s\t%s\t%s\n' % (entry['module'], entry['playbook'], entry['syntax_playbook'] or '-'))


if __name__ == '__main__':
    main()
