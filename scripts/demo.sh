#!/usr/bin/env bash
# The main job: drive Portainer with the collection, end to end.
#
# By default it starts what it needs on this machine (a Docker engine with a one-node swarm, a git
# server and the Portainer API simulator) and works against that. Against a real Portainer, set
# PORTAINER_URL and either PORTAINER_API_KEY or PORTAINER_USERNAME and PORTAINER_PASSWORD.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

apt_install git curl ca-certificates
VENV=$(core_venv "$MAIN_CORE")
export PATH="$VENV/bin:$PATH"

if [ -z "${PORTAINER_URL:-}" ]; then
    testbed_up
    sim_start 2.23.0
    trap sim_stop EXIT
    export PORTAINER_URL="http://127.0.0.1:$SIM_PORT"
    export PORTAINER_USERNAME=admin
    export PORTAINER_PASSWORD=${PIER_DEMO_ADMIN_PASSWORD:-demo-admin-password}
    # Until the collection has its admin module, the simulator's admin is initialised here.
    curl -fsS -o /dev/null "$PORTAINER_URL/api/users/admin/check" 2>/dev/null || \
        curl -fsS -o /dev/null -H 'Content-Type: application/json' \
            -d "{\"Username\":\"$PORTAINER_USERNAME\",\"Password\":\"$PORTAINER_PASSWORD\"}" "$PORTAINER_URL/api/users/admin/init"
    log "Working against the Portainer simulator at $PORTAINER_URL"
else
    log "Working against $PORTAINER_URL"
fi

# Install the collection as a user would: build the artifact and install it.
OUT=$WORK/demo
rm -rf "$OUT"
mkdir -p "$OUT/collections"
ansible-galaxy collection build --force --output-path "$OUT" "$ROOT" >/dev/null
ansible-galaxy collection install --force -p "$OUT/collections" "$OUT"/pier-portainer-*.tar.gz >/dev/null
export ANSIBLE_COLLECTIONS_PATH="$OUT/collections"
export PORTAINER_TOKEN_CACHE_DIR="$OUT/token-cache"

ansible-playbook -i localhost, pier.portainer.check_connection

echo
echo "not yet: the walk-through (environments, a web container, a swarm stack from git) needs the"
echo "endpoint, container and stack modules; until they land this job only checks the connection."
