#!/usr/bin/env bash
# Run every test of the collection on this machine, from nothing: virtualenvs, the Docker engine,
# the git server and the Portainer simulator are installed and started here.
#
#   scripts/test.sh                 every step
#   scripts/test.sh units sanity    only the steps named
#
# Steps: sanity units build lint simulator integration smoke
# Needs root (it installs Debian packages and starts dockerd) and the package registries.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

ALL_STEPS=(sanity units build lint simulator integration smoke)
if [ "$#" -gt 0 ]; then STEPS=("$@"); else STEPS=("${ALL_STEPS[@]}"); fi
for s in "${STEPS[@]}"; do
    case " ${ALL_STEPS[*]} " in *" $s "*) ;; *) die "unknown step '$s'; steps: ${ALL_STEPS[*]}";; esac
done
wants() { case " ${STEPS[*]} " in *" $1 "*) return 0;; esac; return 1; }

ADMIN_PASSWORD=${PIER_TEST_ADMIN_PASSWORD:-CANARY-admin-pass-7f3a9c}
RESULTS=()
PASSED=0
FAILED=0
mkdir -p "$WORK/logs"

record() {
    # record NAME COMMAND...: run a check, keep going on failure, remember the outcome.
    local name=$1
    shift
    log "$name"
    local start=$SECONDS
    if "$@"; then
        PASSED=$((PASSED + 1)); RESULTS+=("PASS  $name ($((SECONDS - start)) s)")
    else
        FAILED=$((FAILED + 1)); RESULTS+=("FAIL  $name ($((SECONDS - start)) s)")
    fi
}

python_bin_dir() {
    # ansible-test looks interpreters up as pythonX.Y on PATH: put the ones we use there.
    local dir=$WORK/pybin v
    mkdir -p "$dir"
    for v in 3.11 3.12; do ln -sfn "$(find_python "$v")" "$dir/python$v"; done
    echo "$dir"
}

run_sanity() {
    local core=$1 venv
    venv=$(core_venv "$core")
    seed_pip_bootstrap "$venv"
    (cd "$COLLECTION_DIR" && PATH="$venv/bin:$PYBIN:$PATH" ansible-test sanity --color no --requirements --python "${CORE_PYTHON[$core]}")
}

run_units() {
    local core=$1 venv
    venv=$(core_venv "$core")
    (cd "$COLLECTION_DIR" && PATH="$venv/bin:$PYBIN:$PATH" ansible-test units --color no --requirements --python "${CORE_PYTHON[$core]}")
}

run_build() {
    # Build the artifact, install it like a user would, and run a playbook that uses it by FQCN.
    local venv out
    venv=$(core_venv "$MAIN_CORE")
    out=$WORK/build
    rm -rf "$out"
    mkdir -p "$out/collections"
    (cd "$COLLECTION_DIR" && "$venv/bin/ansible-galaxy" collection build --force --output-path "$out") || return 1
    "$venv/bin/ansible-galaxy" collection install --force -p "$out/collections" "$out"/pier-portainer-*.tar.gz || return 1
    if tar -tzf "$out"/pier-portainer-*.tar.gz | grep -E '^(tests|scripts|benchmarks|\.ci)/'; then
        echo "the artifact holds test or tooling files" >&2
        return 1
    fi
    ANSIBLE_COLLECTIONS_PATH="$out/collections" "$venv/bin/ansible-doc" pier.portainer.portainer_system_info >/dev/null || return 1
    if [ "${PIER_SIM_RUNNING:-}" = 1 ]; then
        ANSIBLE_COLLECTIONS_PATH="$out/collections" PORTAINER_URL="http://127.0.0.1:$SIM_PORT" PORTAINER_API_KEY="$(api_key)" \
            "$venv/bin/ansible-playbook" -i localhost, -c local "$ROOT/tests/utils/fqcn-smoke.yml"
    fi
}

run_lint() {
    local venv
    venv=$(tools_venv)
    (cd "$COLLECTION_DIR" && PATH="$venv/bin:$PATH" ANSIBLE_COLLECTIONS_PATH="$COLLECTION_PARENT" ansible-lint --profile production --offline) || return 1
    (cd "$COLLECTION_DIR" && "$venv/bin/antsibull-changelog" lint) || return 1
    # antsibull-docs does not find the plugins of a collection below a hidden directory such as .work/.
    local docs
    docs=$(mktemp -d)
    mkdir -p "$docs/ansible_collections/pier"
    cp -a "$COLLECTION_DIR" "$docs/ansible_collections/pier/portainer"
    (cd "$docs/ansible_collections/pier/portainer" && PATH="$venv/bin:$PATH" \
        antsibull-docs lint-collection-docs --plugin-docs --check-extra-docs-refs --disallow-unknown-collection-refs .)
    local rc=$?
    rm -rf "$docs"
    return "$rc"
}

run_simulator_tests() {
    local venv
    venv=$(core_venv "$MAIN_CORE")
    (cd "$ROOT" && PIER_TESTBED=1 "$venv/bin/python" -m pytest -p no:cacheprovider -q tests/portainer_simulator/tests)
}

run_testbed() {
    testbed_up && bash "$ROOT/tests/testbed/check.sh"
}

api_key() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["portainer_api_key"])' "$INTEGRATION_CONFIG"; }

prepare_portainer() {
    local venv=$1
    INTEGRATION_CONFIG=$COLLECTION_DIR/tests/integration/integration_config.yml
    "$venv/bin/python" "$ROOT/tests/utils/prepare_portainer.py" --url "http://127.0.0.1:$SIM_PORT" --password "$ADMIN_PASSWORD" \
        --testbed-json "$TESTBED_DIR/testbed.json" --simulator \
        --https-url "https://127.0.0.1:$SIM_TLS_PORT" --https-ca "$TESTBED_DIR/tls/client/ca.pem" --wrong-ca "$TESTBED_DIR/tls/untrusted/cert.pem" --output "$INTEGRATION_CONFIG"
}

run_integration() {
    # run_integration PORTAINER_VERSION [TARGET...]
    local version=$1 venv
    shift
    venv=$(core_venv "$MAIN_CORE")
    sim_start "$version" || return 1
    prepare_portainer "$venv" || return 1
    bash "$ROOT/tests/testbed/clean.sh" >/dev/null 2>&1 || true
    (cd "$COLLECTION_DIR" && PATH="$venv/bin:$PYBIN:$PATH" PORTAINER_TOKEN_CACHE_DIR="$WORK/token-cache" \
        ansible-test integration --color no --python "${CORE_PYTHON[$MAIN_CORE]}" "$@")
}

main() {
    apt_install git curl ca-certificates
    PYBIN=$(python_bin_dir)
    sync_collection
    local core
    if wants sanity; then
        for core in "${CORE_VERSIONS[@]}"; do record "sanity, ansible-core $core" run_sanity "$core"; done
    fi
    if wants units; then
        for core in "${CORE_VERSIONS[@]}"; do record "units, ansible-core $core" run_units "$core"; done
    fi
    if wants lint; then record "ansible-lint (production profile), changelog and docs lint" run_lint; fi
    if wants simulator || wants integration || wants smoke || wants build; then
        record "test bed (set up, then checked part by part)" run_testbed
    fi
    if wants simulator; then record "simulator tests (against the contract)" run_simulator_tests; fi
    if wants integration; then
        record "integration, Portainer 2.23.0 (simulator), ansible-core $MAIN_CORE" run_integration 2.23.0
    fi
    if wants build; then
        sim_start 2.23.0 && prepare_portainer "$(core_venv "$MAIN_CORE")" && PIER_SIM_RUNNING=1
        record "build, install and use by FQCN" run_build
    fi
    if wants smoke; then
        record "integration smoke, Portainer 2.19.0 (simulator)" run_integration 2.19.0 smoke/
    fi
    # Stop the simulator only when this run started one (a sanity-only run must not stop another's).
    if wants integration || wants build || wants smoke; then sim_stop; fi

    log "Summary"
    printf '%s\n' "${RESULTS[@]}"
    echo "suites: $PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ]
}

main
