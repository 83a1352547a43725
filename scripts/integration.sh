#!/usr/bin/env bash
# Run some integration targets against a simulator of their own, for development:
#
#   scripts/integration.sh [--port N] [--portainer-version V] TARGET...
#
# Each port gets its own simulator, data directory and collection copy, so several developers (or
# terminals) can run targets at once on one machine. The test bed is started when needed.
set -euo pipefail
PORT=9100
VERSION=2.23.0
while [ "$#" -gt 0 ]; do
    case "$1" in
        --port) PORT=$2; shift 2;;
        --portainer-version) VERSION=$2; shift 2;;
        --) shift; break;;
        -*) echo "unknown option $1" >&2; exit 2;;
        *) break;;
    esac
done
[ "$#" -gt 0 ] || { echo "usage: $0 [--port N] [--portainer-version V] TARGET..." >&2; exit 2; }
export PIER_SIM_PORT=$PORT
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
COLLECTION_PARENT=$WORK/dev-$PORT/collections
COLLECTION_DIR=$COLLECTION_PARENT/ansible_collections/pier/portainer

VENV=$(core_venv "$MAIN_CORE")
[ -f "$TESTBED_DIR/testbed.json" ] || testbed_up
sync_collection
sim_start "$VERSION"
trap sim_stop EXIT
CONFIG=$COLLECTION_DIR/tests/integration/integration_config.yml
"$VENV/bin/python" "$ROOT/tests/utils/prepare_portainer.py" --url "http://127.0.0.1:$PORT" \
    --password "${PIER_TEST_ADMIN_PASSWORD:-CANARY-admin-pass-7f3a9c}" --testbed-json "$TESTBED_DIR/testbed.json" --simulator \
    --https-url "https://127.0.0.1:$SIM_TLS_PORT" --https-ca "$TESTBED_DIR/tls/client/ca.pem" --wrong-ca "$TESTBED_DIR/tls/untrusted/cert.pem" --output "$CONFIG"
cd "$COLLECTION_DIR"
PATH="$VENV/bin:$PATH" PORTAINER_TOKEN_CACHE_DIR="$WORK/dev-$PORT/token-cache" \
    ansible-test integration --color no --python "${CORE_PYTHON[$MAIN_CORE]}" "$@"
