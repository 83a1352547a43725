#!/usr/bin/env bash
# Races (issue 10): 10 forks over 10 local hosts create the same environment, the same stack and the same
# container at once. Exactly one of each must exist afterwards, and no task may fail.
set -eux
CONFIG=../../integration_config.yml
OUT=${OUTPUT_DIR:-.}
INVENTORY=$OUT/races.inventory
{
    echo '[racers]'
    for i in $(seq 1 10); do echo "host$i ansible_connection=local"; done
} > "$INVENTORY"
trap 'ansible-playbook -i ../../inventory -e "@$CONFIG" cleanup.yml "$@" || true' EXIT

ansible-playbook -i ../../inventory -e "@$CONFIG" cleanup.yml "$@"
ansible-playbook -i ../../inventory -e "@$CONFIG" setup.yml "$@"
# -e ansible_python_interpreter: the racers run the modules with the controller's Python (requests is there).
# Every step runs even when one fails (the report needs the whole picture); the exit status says if all held.
status=0
ansible-playbook -i "$INVENTORY" -e "@$CONFIG" -e "ansible_python_interpreter=$(command -v python3 || true)" \
    --forks 10 race.yml "$@" > "$OUT/race-first.log" 2>&1 || true
cat "$OUT/race-first.log"
if ! grep -q 'failed=0' "$OUT/race-first.log" || grep -E 'failed=[1-9]' "$OUT/race-first.log"; then
    echo "RACE: a racing task failed in the first race" >&2; status=1
fi
# Exactly one racer of each task reports a change.
for task in 'The same environment' 'The same stack' 'The same container'; do
    n=$(sed -n "/TASK \[$task\]/,/^TASK/p" "$OUT/race-first.log" | grep -c '^changed:' || true)
    echo "RACE: '$task': $n racers reported a change"
    [ "$n" -eq 1 ] || status=1
done
ansible-playbook -i ../../inventory -e "@$CONFIG" verify.yml "$@" || { echo "RACE: not exactly one of each after the first race" >&2; status=1; }
# The same race again changes nothing anywhere.
ansible-playbook -i "$INVENTORY" -e "@$CONFIG" -e "ansible_python_interpreter=$(command -v python3 || true)" \
    --forks 10 race.yml "$@" > "$OUT/race-second.log" 2>&1 || true
cat "$OUT/race-second.log"
if grep -E 'failed=[1-9]|changed=[1-9]' "$OUT/race-second.log"; then echo "RACE: the second race changed or failed something" >&2; status=1; fi
ansible-playbook -i ../../inventory -e "@$CONFIG" verify.yml "$@" || { echo "RACE: not exactly one of each after the second race" >&2; status=1; }
exit $status
