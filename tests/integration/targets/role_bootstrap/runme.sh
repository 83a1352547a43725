#!/usr/bin/env bash
# Converge pier.portainer.bootstrap twice: the second run must change nothing.
set -eux
CONFIG=../../integration_config.yml
run() {
    local log=$1
    shift
    ansible-playbook -i ../../inventory -e "@$CONFIG" "$@" | tee "$log"
}
recap_changed() { sed -n 's/.*changed=\([0-9]*\).*/\1/p' "$1" | tail -1; }
trap 'ansible-playbook -i ../../inventory -e "@$CONFIG" cleanup.yml "$@" || true' EXIT

run first.log converge.yml -e bootstrap_test_first=true "$@"
[ "$(recap_changed first.log)" -gt 0 ]
grep -q 'the new API key works' first.log
run second.log converge.yml "$@"
[ "$(recap_changed second.log)" -eq 0 ]
# The raw key never appears in the output, even at high verbosity.
run verbose.log converge.yml -vvv "$@"
if grep -q 'ptr_' first.log second.log verbose.log; then echo "an API key leaked into the output" >&2; exit 1; fi
