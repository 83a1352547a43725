#!/usr/bin/env bash
# Secrets (issue 10): canaries (the admin password, the API key, a JWT, the JWTs the modules obtain, the git
# password and the TLS client key) are used throughout plays run at -vvvv with --diff, including failing
# tasks; none may appear in any output, warning or error message, nor in the simulator's request log.
set -eux
CONFIG=../../integration_config.yml
OUT=${OUTPUT_DIR:-.}
export SECRETS_OUT=$OUT
# The tokens the modules obtain are canaries too: keep them where the check finds them.
export PORTAINER_TOKEN_CACHE_DIR=${PORTAINER_TOKEN_CACHE_DIR:-$OUT/token-cache}
trap 'ansible-playbook -i ../../inventory -e "@$CONFIG" cleanup.yml "$@" > "$OUT/cleanup.log" 2>&1 || true' EXIT

# The canaries are written (mode 0600, no_log) for the check below; this output is checked too.
ansible-playbook -i ../../inventory -e "@$CONFIG" -e "secrets_out=$OUT" -vvvv canaries.yml "$@" > "$OUT/canaries.log" 2>&1
ansible-playbook -i ../../inventory -e "@$CONFIG" -e "secrets_out=$OUT" -vvvv --diff secrets.yml "$@" > "$OUT/secrets.log" 2>&1 \
    || { tail -50 "$OUT/secrets.log"; exit 1; }
ansible-playbook -i ../../inventory -e "@$CONFIG" -e "secrets_out=$OUT" -vvvv --diff --check secrets.yml "$@" > "$OUT/secrets-check.log" 2>&1 \
    || { tail -50 "$OUT/secrets-check.log"; exit 1; }
grep -q 'failed=0' "$OUT/secrets.log"
# The failing tasks did fail (ignored), so their messages were printed and are checked.
[ "$(grep -c '\.\.\.ignoring' "$OUT/secrets.log")" -ge 5 ]
python3 check_canaries.py "$OUT/canaries.txt" "${PORTAINER_TOKEN_CACHE_DIR:-}" \
    "$OUT/canaries.log" "$OUT/secrets.log" "$OUT/secrets-check.log" "$OUT/simulator-log.json"
