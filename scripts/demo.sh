#!/usr/bin/env bash
# The main job: the Portainer API walk-through, converged with the collection.
#
#   scripts/demo.sh
#
# By default it starts what it needs on this machine (a Docker engine with a one-node swarm, TCP and
# TLS listeners, a git server, and the Portainer API simulator) and works against that. Against a real
# Portainer set PORTAINER_URL, PORTAINER_USERNAME and PORTAINER_PASSWORD (the admin; it is initialised
# when the instance is fresh), and give the walk-through's addresses and files in a vars file named by
# PIER_DEMO_VARS (see the walkthrough_* variables in playbooks/walkthrough.yml).
#
# It runs the converge playbook twice (the second run must change nothing), the everyday stack
# example with an API key, and the teardown playbook once.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

apt_install git curl ca-certificates
VENV=$(core_venv "$MAIN_CORE")
export PATH="$VENV/bin:$PATH"
EXTRA=()
if [ -n "${PIER_DEMO_VARS:-}" ]; then EXTRA=(-e "@$PIER_DEMO_VARS"); fi

if [ -z "${PORTAINER_URL:-}" ]; then
    testbed_up
    # The simulator starts empty: remove what an interrupted earlier demo left on the engine.
    docker rm -f web01 >/dev/null 2>&1 || true
    docker stack rm myteststack >/dev/null 2>&1 || true
    docker ps -aq --filter label=com.docker.compose.project=hello | xargs -r docker rm -f >/dev/null 2>&1 || true
    for _ in $(seq 1 30); do
        [ -z "$(docker ps -aq --filter label=com.docker.stack.namespace=myteststack)" ] && break
        sleep 1
    done
    sim_start 2.23.0
    trap sim_stop EXIT
    export PORTAINER_URL="http://127.0.0.1:$SIM_PORT"
    export PORTAINER_USERNAME=admin
    export PORTAINER_PASSWORD=${PIER_DEMO_ADMIN_PASSWORD:-demo-admin-password}
    log "Working against the Portainer simulator at $PORTAINER_URL, on this machine's Docker engine"
else
    if [ -z "${PORTAINER_USERNAME:-}" ] || [ -z "${PORTAINER_PASSWORD:-}" ]; then
        die "set PORTAINER_USERNAME and PORTAINER_PASSWORD (the admin) with PORTAINER_URL"
    fi
    log "Working against $PORTAINER_URL"
fi
unset PORTAINER_API_KEY

# Install the collection as a user would: build the artifact and install it.
OUT=$WORK/demo
rm -rf "$OUT"
mkdir -p "$OUT/collections"
ansible-galaxy collection build --force --output-path "$OUT" "$ROOT" >/dev/null
ansible-galaxy collection install --force -p "$OUT/collections" "$OUT"/pier-portainer-*.tar.gz >/dev/null
export ANSIBLE_COLLECTIONS_PATH="$OUT/collections"
export PORTAINER_TOKEN_CACHE_DIR="$OUT/token-cache"
export ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false

play() {
    # play LOGNAME PLAYBOOK ARGS...: run a playbook, show its output, keep it for the checks below.
    local name=$1
    shift
    ansible-playbook "$@" "${EXTRA[@]}" | tee "$OUT/$name.log"
}
changed_count() { awk '/^localhost/ { for (i = 1; i <= NF; i++) if ($i ~ /^changed=/) { sub("changed=", "", $i); print $i } }' "$OUT/$1.log"; }

log "Converge the walk-through (first run)"
play converge-1 pier.portainer.walkthrough
log "Converge the walk-through again: nothing may change"
play converge-2 pier.portainer.walkthrough
SECOND=$(changed_count converge-2)

log "The everyday case: deploy and update a stack with an API key from the environment"
PORTAINER_API_KEY=$(ansible localhost -m pier.portainer.portainer_api_token -a "description=pier-demo-$$" \
    -e ansible_python_interpreter="$VENV/bin/python" -o 2>/dev/null | sed -n 's/.*"token": "\([^"]*\)".*/\1/p')
[ -n "$PORTAINER_API_KEY" ] || die "could not create an API key for the everyday example"
(
    export PORTAINER_API_KEY
    unset PORTAINER_USERNAME PORTAINER_PASSWORD
    play stack-deploy pier.portainer.deploy_stack
    play stack-update pier.portainer.deploy_stack -e 'deploy_stack_message="hello again"'
    play stack-again pier.portainer.deploy_stack -e 'deploy_stack_message="hello again"'
    play stack-remove pier.portainer.deploy_stack -e deploy_stack_state=absent
)
ansible localhost -m pier.portainer.portainer_api_token -a "description=pier-demo-$$ state=absent" \
    -e ansible_python_interpreter="$VENV/bin/python" -o >/dev/null

log "Tear the walk-through down"
play teardown pier.portainer.walkthrough_teardown

log "Result"
if [ "$SECOND" = 0 ] && [ "$(changed_count stack-again)" = 0 ]; then
    echo "The second converge run reported changed=0: the walk-through is idempotent."
else
    echo "The second converge run reported changed=$SECOND (stack re-run: changed=$(changed_count stack-again)); expected 0." >&2
    exit 1
fi
