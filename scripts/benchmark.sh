#!/usr/bin/env bash
# The benchmark of issue 9: cost per task, requests per task, scaling and import time of the modules.
#
#   scripts/benchmark.sh [--quick] [--port N] [--markdown FILE] [-- BENCH-OPTIONS...]
#
# Sets up what it needs like scripts/demo.sh (the test bed, a Portainer simulator of its own on port N,
# default 9180, the collection built and installed as a user would), plus a virtualenv with the
# `ansible` package for community.docker, and runs benchmarks/bench.py, which prints a table.
# A full run took 16 minutes on 2 idle cores (24 on busy ones), --quick 15 on busy ones (most of it creating the objects and the
# 1000 containers). See benchmarks/README.md; results are in docs/benchmarks.md.
set -euo pipefail
PORT=${PIER_BENCH_PORT:-9180}
BENCH_ARGS=()
while [ "$#" -gt 0 ]; do
    case "$1" in
        --quick) BENCH_ARGS+=(--quick); shift;;
        --port) PORT=$2; shift 2;;
        --markdown) BENCH_ARGS+=(--markdown "$(realpath -m "$2")"); shift 2;;
        --) shift; BENCH_ARGS+=("$@"); break;;
        *) echo "usage: $0 [--quick] [--port N] [--markdown FILE] [-- BENCH-OPTIONS...]" >&2; exit 2;;
    esac
done
export PIER_SIM_PORT=$PORT
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

apt_install git curl ca-certificates
# The simulator runs on the core virtualenv; the benchmark on one with the `ansible` package of the same
# ansible-core (12.x is ansible-core 2.19), which brings community.docker. jsondiff is what docker_stack needs.
core_venv "$MAIN_CORE" >/dev/null
make_venv bench "${CORE_PYTHON[$MAIN_CORE]}" "ansible==12.*" requests pyyaml jsondiff >&2
BENCH_VENV=$WORK/venv-bench
[ -f "$TESTBED_DIR/testbed.json" ] || testbed_up

OUT=$WORK/bench-$PORT
rm -rf "$OUT"
mkdir -p "$OUT/collections"
log "Building and installing the collection into $OUT/collections"
"$BENCH_VENV/bin/ansible-galaxy" collection build --force --output-path "$OUT" "$ROOT" >/dev/null
"$BENCH_VENV/bin/ansible-galaxy" collection install --force -p "$OUT/collections" "$OUT"/pier-portainer-*.tar.gz >/dev/null 2>&1

sim_start 2.23.0
trap sim_stop EXIT
"$(sim_python)" "$ROOT/tests/utils/prepare_portainer.py" --url "http://127.0.0.1:$SIM_PORT" \
    --password "${PIER_BENCH_ADMIN_PASSWORD:-bench-admin-password}" --testbed-json "$TESTBED_DIR/testbed.json" --simulator \
    --output "$OUT/config.json"

log "Running the benchmark (${BENCH_ARGS[*]:-full})"
PATH="$BENCH_VENV/bin:$PATH" "$BENCH_VENV/bin/python" "$ROOT/benchmarks/bench.py" --config "$OUT/config.json" \
    --collections "$OUT/collections" --workdir "$OUT" "${BENCH_ARGS[@]}"
