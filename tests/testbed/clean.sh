#!/usr/bin/env bash
# Remove what integration tests left on the test bed's engine, so the next run
# starts clean:
#   - swarm stacks, services, configs and secrets whose name starts with
#     pier-it or pier_it, or labelled pier.test=1;
#   - containers labelled pier.test=1, named pier-it-..., or belonging to a
#     compose project or swarm stack whose name starts with pier-it / pier_it;
#   - networks and volumes of those projects and stacks, or so named or
#     labelled; images labelled pier.test=1.
# The test images (pier-test/*) and everything else are left alone.  Set
# PIER_CLEAN_PATTERN (an extended regular expression) to change the prefix and
# PIER_CLEAN_LABEL (key=value) to change the label.
#
# Usage: clean.sh [--no-wait]
set -euo pipefail

# shellcheck source=tests/testbed/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PATTERN=${PIER_CLEAN_PATTERN:-'^pier[-_]?it'}
LABEL=${PIER_CLEAN_LABEL:-pier.test=1}
WAIT=1
case ${1:-} in
    '') ;;
    --no-wait) WAIT=0 ;;
    *)
        tb_usage "${BASH_SOURCE[0]}" >&2
        exit 2
        ;;
esac

tb_ping_socket || tb_die "no engine answers on $PIER_DOCKER_SOCKET"

# select_rows: read "ID<TAB>field<TAB>field..." rows and print the ids of
# those with a field matching the pattern.
select_rows() {
    awk -F '\t' -v re="$PATTERN" '{ for (i = 2; i <= NF; i++) if ($i ~ re) { print $1; break } }'
}

# remove WHAT CMD...: run CMD with the ids read from standard input, if any.
remove() {
    local what=$1 ids
    shift
    ids=$(sort -u | grep -v '^$' || true)
    [ -n "$ids" ] || return 0
    # shellcheck disable=SC2086
    "$@" $ids >/dev/null 2>&1 || true
    tb_say "clean: removing $(wc -w <<<"$ids") $what"
}

LABELS='{{.Label "com.docker.compose.project"}}\t{{.Label "com.docker.stack.namespace"}}'
SWARM=$(dk info --format '{{.Swarm.ControlAvailable}}' 2>/dev/null || echo false)

if [ "$SWARM" = true ]; then
    dk stack ls --format '{{.Name}}' | grep -E -- "$PATTERN" | remove stacks dk stack rm || true
    {
        dk service ls --format "{{.ID}}\t{{.Name}}" | select_rows
        dk service ls -q --filter "label=$LABEL"
    } | remove services dk service rm
    {
        dk config ls --format '{{.ID}}\t{{.Name}}' | select_rows
        dk config ls -q --filter "label=$LABEL"
    } | remove configs dk config rm
    {
        dk secret ls --format '{{.ID}}\t{{.Name}}' | select_rows
        dk secret ls -q --filter "label=$LABEL"
    } | remove secrets dk secret rm
fi

containers() {
    dk ps -a --format "{{.ID}}\t{{.Names}}\t$LABELS" | select_rows
    dk ps -aq --filter "label=$LABEL"
}

# Task containers of removed services go away on their own; removing them
# directly is quicker and does no harm.  Retry while some are still there.
deadline=$((SECONDS + 60))
while :; do
    containers | remove containers dk rm -f -v
    [ "$WAIT" -eq 1 ] || break
    [ -z "$(containers)" ] && break
    [ "$SECONDS" -lt "$deadline" ] || {
        tb_say "clean: containers still present after 60s"
        break
    }
    sleep 0.5
done

networks() {
    dk network ls --format "{{.ID}}\t{{.Name}}\t$LABELS" | select_rows
    dk network ls -q --filter "label=$LABEL"
}
deadline=$((SECONDS + 30))
while :; do
    networks | remove networks dk network rm
    [ "$WAIT" -eq 1 ] || break
    [ -z "$(networks)" ] && break
    [ "$SECONDS" -lt "$deadline" ] || {
        tb_say "clean: networks still present after 30s"
        break
    }
    sleep 0.5
done

{
    dk volume ls --format "{{.Name}}\t{{.Name}}\t$LABELS" | select_rows
    dk volume ls -q --filter "label=$LABEL"
} | remove volumes dk volume rm -f

dk images -q --filter "label=$LABEL" | remove images dk rmi -f
