# shellcheck shell=bash disable=SC2034
# Settings and helpers shared by the test bed scripts (up.sh, down.sh,
# clean.sh, check.sh, git-push-commit.sh).  Sourced, never run; the variables
# it sets are used by those scripts (hence SC2034 is disabled here).

PIER_TESTBED_DIR=${PIER_TESTBED_DIR:-/var/tmp/pier-testbed}
PIER_DOCKER_SOCKET=${PIER_DOCKER_SOCKET:-/var/run/docker.sock}
PIER_DOCKER_TCP_PORT=${PIER_DOCKER_TCP_PORT:-2375}
PIER_DOCKER_TLS_PORT=${PIER_DOCKER_TLS_PORT:-2376}
PIER_DOCKER_WAIT=${PIER_DOCKER_WAIT:-90}
PIER_GIT_PORT=${PIER_GIT_PORT:-8929}
PIER_GIT_USER=${PIER_GIT_USER:-pier}
PIER_GIT_PASSWORD=${PIER_GIT_PASSWORD:-pier-git-secret}
PIER_GIT_SMART=${PIER_GIT_SMART:-0}

TB_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TB_RUN=$PIER_TESTBED_DIR/run
TB_LOG=$PIER_TESTBED_DIR/logs
TB_TLS=$PIER_TESTBED_DIR/tls
TB_GIT=$PIER_TESTBED_DIR/git
TB_BUILD=$PIER_TESTBED_DIR/build
TB_HOST=127.0.0.1

# The docker CLI: the one on PATH unless PIER_DOCKER_CLI names another.
TB_DOCKER=${PIER_DOCKER_CLI:-$(command -v docker || echo /usr/bin/docker)}

# Talk to the test bed's engine whatever the caller's docker environment says.
unset DOCKER_HOST DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH
export DOCKER_HOST="unix://$PIER_DOCKER_SOCKET"

# Never let git ask for a password on a terminal.
export GIT_TERMINAL_PROMPT=0

# tb_usage FILE: print the comment block at the top of a script.
tb_usage() {
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$1"
}

tb_say() {
    printf 'testbed: %s\n' "$*" >&2
}

tb_die() {
    printf 'testbed: ERROR: %s\n' "$*" >&2
    exit 1
}

dk() {
    "$TB_DOCKER" "$@"
}

# tb_pid NAME: print the pid recorded in $TB_RUN/NAME.pid when that process
# is alive and its command line contains MARKER (guards against pid reuse).
tb_pid() {
    local name=$1 marker=$2 pid cmdline
    [ -r "$TB_RUN/$name.pid" ] || return 1
    read -r pid <"$TB_RUN/$name.pid" || return 1
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
    [[ $cmdline == *"$marker"* ]] || return 1
    printf '%s\n' "$pid"
}

# tb_spawn NAME CMD...: start CMD in the background in its own session, with
# its output appended to $TB_LOG/NAME.log and its pid in $TB_RUN/NAME.pid.
# File descriptors 8 and 9 (the scripts' lock files) are not passed on.
tb_spawn() {
    local name=$1
    shift
    rm -f "$TB_RUN/$name.pid"
    # The inner shell records its own pid, then becomes CMD through exec.
    # shellcheck disable=SC2016
    setsid bash -c 'echo "$$" >"$0"; exec "$@"' "$TB_RUN/$name.pid" "$@" \
        >>"$TB_LOG/$name.log" 2>&1 </dev/null 8>&- 9>&- &
    for _ in $(seq 50); do
        [ -s "$TB_RUN/$name.pid" ] && return 0
        sleep 0.05
    done
    tb_die "could not start $name (see $TB_LOG/$name.log)"
}

# tb_stop NAME MARKER [TIMEOUT]: stop the process recorded for NAME.
tb_stop() {
    local name=$1 marker=$2 timeout=${3:-10} pid
    if pid=$(tb_pid "$name" "$marker"); then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq $((timeout * 10))); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            tb_say "$name (pid $pid) did not stop in ${timeout}s, killing it"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        tb_say "stopped $name (pid $pid)"
    fi
    rm -f "$TB_RUN/$name.pid"
}

# tb_wait SECONDS DESCRIPTION CMD...: retry CMD until it succeeds or time is up.
tb_wait() {
    local seconds=$1 what=$2 deadline
    shift 2
    deadline=$((SECONDS + seconds))
    until "$@" >/dev/null 2>&1; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            tb_say "timed out after ${seconds}s waiting for $what"
            return 1
        fi
        sleep 0.2
    done
}

# Engine probes (curl answers quicker than the docker CLI).  Outputs are
# captured, not piped into grep -q, which would make pipefail flaky.
tb_ping_socket() {
    local answer
    [ -S "$PIER_DOCKER_SOCKET" ] || return 1
    answer=$(curl -fsS --max-time 3 --unix-socket "$PIER_DOCKER_SOCKET" http://docker/_ping 2>/dev/null) &&
        [ "$answer" = OK ]
}

tb_ping_tcp() {
    local answer
    answer=$(curl -fsS --max-time 3 "http://$TB_HOST:$PIER_DOCKER_TCP_PORT/_ping" 2>/dev/null) &&
        [ "$answer" = OK ]
}

tb_ping_tls() {
    local answer
    answer=$(curl -fsS --max-time 3 --cacert "$TB_TLS/client/ca.pem" --cert "$TB_TLS/client/cert.pem" \
        --key "$TB_TLS/client/key.pem" "https://$TB_HOST:$PIER_DOCKER_TLS_PORT/_ping" 2>/dev/null) &&
        [ "$answer" = OK ]
}

# tb_port_busy PORT: true when something accepts TCP connections on PORT.
tb_port_busy() {
    (exec 3<>"/dev/tcp/$TB_HOST/$1") 2>/dev/null
}

# tb_repo_dir NAME: the bare repository behind a name the git server serves
# (stacks, stacks.git, private/stacks), or an absolute path to a bare repo.
tb_repo_dir() {
    local name=$1
    case $name in
        /*) printf '%s\n' "$name" ;;
        *.git) printf '%s/%s\n' "$TB_GIT" "$name" ;;
        *) printf '%s/%s.git\n' "$TB_GIT" "$name" ;;
    esac
}
