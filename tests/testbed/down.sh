#!/usr/bin/env bash
# Stop what up.sh started: the git server, the TLS forwarder, the plain TCP
# forwarder (when one was needed) and dockerd (only when up.sh started it).
#
# Usage: down.sh [--purge] [--images]
#   --purge   also run clean.sh, leave the swarm and remove the state directory
#   --images  also remove the pier-test/* images
set -euo pipefail

# shellcheck source=tests/testbed/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PURGE=0
IMAGES=0
for arg in "$@"; do
    case $arg in
        --purge) PURGE=1 ;;
        --images) IMAGES=1 ;;
        *)
            tb_usage "${BASH_SOURCE[0]}" >&2
            exit 2
            ;;
    esac
done

[ "$(id -u)" -eq 0 ] || tb_die "down.sh must run as root"
if [ -d "$PIER_TESTBED_DIR" ]; then
    exec 8>"$PIER_TESTBED_DIR/.lock"
    flock -w 600 8 || tb_die "another up.sh or down.sh holds $PIER_TESTBED_DIR/.lock"
fi

if tb_ping_socket; then
    if [ "$PURGE" -eq 1 ]; then
        "$TB_HERE/clean.sh" || tb_say "clean.sh failed, going on"
        if [ "$(dk info --format '{{.Swarm.LocalNodeState}}')" != inactive ]; then
            dk swarm leave --force >/dev/null && tb_say "left the swarm"
        fi
    fi
    if [ "$IMAGES" -eq 1 ]; then
        for image in pier-test/busybox:1 pier-test/busybox:2 pier-test/web:1 pier-test/web:2; do
            dk rmi -f "$image" >/dev/null 2>&1 && tb_say "removed $image"
        done
    fi
fi

tb_stop gitserver gitserver.py
tb_stop docker-tls "OPENSSL-LISTEN:$PIER_DOCKER_TLS_PORT"
tb_stop docker-tcp "TCP-LISTEN:$PIER_DOCKER_TCP_PORT"
tb_stop dockerd dockerd 60

if [ "$PURGE" -eq 1 ]; then
    rm -rf "$PIER_TESTBED_DIR"
    tb_say "removed $PIER_TESTBED_DIR"
fi
