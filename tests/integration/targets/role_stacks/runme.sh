#!/usr/bin/env bash
# Converge pier.portainer.stacks twice: the second run must change nothing; then remove unlisted stacks.
set -eux
CONFIG=../../integration_config.yml
run() {
    # run LOG ARGS...: run the playbook, keep the output to read the recap.
    local log=$1
    shift
    ansible-playbook -i ../../inventory -e "@$CONFIG" "$@" | tee "$log"
}
recap_changed() { sed -n 's/.*changed=\([0-9]*\).*/\1/p' "$1" | tail -1; }
trap 'ansible-playbook -i ../../inventory -e "@$CONFIG" cleanup.yml "$@" || true' EXIT

run first.log converge.yml "$@"
[ "$(recap_changed first.log)" -gt 0 ]
run second.log converge.yml "$@"
[ "$(recap_changed second.log)" -eq 0 ]
run prune.log converge.yml -e stacks_test_only_first=true "$@"
ansible-playbook -i ../../inventory -e "@$CONFIG" verify_prune.yml "$@"
