#!/usr/bin/env bash
# Run the EXAMPLES of every module of plugins/modules/ as written, against the simulator and the
# test bed: generate.py writes one playbook per module (examples.yml lists the placeholders it
# replaces and the tasks that are only syntax-checked, with the reason), check_run.py proves that
# every other task ran. The engine objects the EXAMPLES create are removed at the end.
set -euxo pipefail
CONFIG=../../integration_config.yml
PYTHON=${ANSIBLE_TEST_PYTHON_INTERPRETER:-python}
OUT=${OUTPUT_DIR:-$(mktemp -d)}/module_examples
rm -rf "$OUT"
mkdir -p "$OUT/home" "$OUT/files/app"
# ansible-test copies only tests/integration: find the collection the way Ansible does.
COLLECTION=$(ansible-galaxy collection list pier.portainer --format json |
    "$PYTHON" -c 'import json, sys; print(next(iter(json.load(sys.stdin))))')/pier/portainer
"$PYTHON" generate.py "$COLLECTION" "$CONFIG" examples.yml "$OUT"
play() {
    ansible-playbook -i ../../inventory -e "@$CONFIG" "$@"
}
trap 'play cleanup.yml "$@" || true' EXIT
play setup.yml -e "examples_dir=$OUT" "$@"

TOTAL=0
while IFS=$'\t' read -r module playbook syntax_playbook; do
    if [ "$syntax_playbook" != "-" ]; then
        (cd "$OUT" && ansible-playbook -i "$OLDPWD/../../inventory" --syntax-check "$syntax_playbook")
    fi
    # The examples read files relative to the playbook (compose_file) and write under $HOME.
    (cd "$OUT" && HOME="$OUT/home" ansible-playbook -i "$OLDPWD/../../inventory" -e "@$OLDPWD/$CONFIG" \
        -e @extra_vars.yml "$playbook" "$@") | tee "$OUT/$module.log"
    "$PYTHON" check_run.py "$OUT/plan.json" "$module" "$OUT/$module.log" | tee -a "$OUT/summary.txt"
    TOTAL=$((TOTAL + $(sed -n "s/^$module: \([0-9]*\) example tasks ran$/\1/p" "$OUT/summary.txt")))
done < "$OUT/plan.tsv"
set +x
echo "module_examples: $(wc -l < "$OUT/plan.tsv") modules, $TOTAL example tasks ran"
"$PYTHON" -c 'import json,sys
for e in json.load(open(sys.argv[1])):
    for name, why in e["syntax_only"].items():
        print("syntax-check only: %s / %s: %s" % (e["module"], name, why))' "$OUT/plan.json"
