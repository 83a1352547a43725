#!/usr/bin/env bash
# Shared helpers of scripts/test.sh and scripts/demo.sh: interpreters, virtualenvs, the collection
# copy that ansible-test needs, the test bed and the Portainer simulator.
# shellcheck disable=SC2034  # variables are used by the scripts that source this file

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=${PIER_WORK_DIR:-$ROOT/.work}
COLLECTION_PARENT=${PIER_COLLECTION_PARENT:-$WORK/collections}
COLLECTION_DIR=$COLLECTION_PARENT/ansible_collections/pier/portainer
SIM_PORT=${PIER_SIM_PORT:-9000}
SIM_DIR=${PIER_SIM_DIR:-$WORK/simulator-$SIM_PORT}
# The same simulator over HTTPS (certificate from the test bed), for the TLS tests.
SIM_TLS_PORT=$((SIM_PORT + 1000))
TESTBED_DIR=${PIER_TESTBED_DIR:-/var/tmp/pier-testbed}
export PIER_TESTBED_DIR=$TESTBED_DIR

# ansible-core versions tested, with the Python each runs on.
# PIER_CORE_VERSIONS="2.19" narrows sanity and units to some of them (for quick local runs).
read -r -a CORE_VERSIONS <<<"${PIER_CORE_VERSIONS:-2.18 2.19 2.21}"
declare -A CORE_PYTHON=([2.18]=3.11 [2.19]=3.11 [2.21]=3.12)
# The version that runs integration tests, the demo, lint and the tools.
MAIN_CORE=2.19

log() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "run as root (or install sudo): $*"; fi
}

apt_install() {
    # Install the Debian packages named, when any is missing.
    local missing=() pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    log "Installing Debian packages: ${missing[*]}"
    as_root apt-get update -q >/dev/null
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
}

find_python() {
    # Print the path of a python interpreter of version $1 (for example 3.12), or fail.
    local want=$1 candidate
    for candidate in "python$want" "$(command -v pyenv >/dev/null && pyenv root 2>/dev/null)/versions/$want"*/bin/python \
        "$HOME/.pyenv/versions/$want"*/bin/python /root/.pyenv/versions/"$want"*/bin/python "/usr/bin/python$want"; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c "import sys, venv; assert sys.version.startswith('$want')" 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    if [ "$want" = 3.11 ] && [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import sys; assert sys.version.startswith("3.11")' 2>/dev/null; then
        apt_install python3-venv
        echo /usr/bin/python3
        return 0
    fi
    die "Python $want is needed for the ansible-core versions tested on it; install it, for example with pyenv"
}

make_venv() {
    # make_venv NAME PYTHON_VERSION PIP_ARGS... : create or refresh $WORK/venv-NAME; prints nothing.
    local name=$1 pyver=$2 dir=$WORK/venv-$1 stamp
    shift 2
    stamp=$(printf '%s\n' "$pyver" "$@" | sha256sum | cut -c1-16)
    if [ -f "$dir/.pier-stamp" ] && [ "$(cat "$dir/.pier-stamp")" = "$stamp" ]; then
        return 0
    fi
    log "Creating virtualenv $name (Python $pyver): $*"
    rm -rf "$dir"
    "$(find_python "$pyver")" -m venv "$dir"
    "$dir/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
    "$dir/bin/python" -m pip install -q --disable-pip-version-check "$@"
    echo "$stamp" >"$dir/.pier-stamp"
}

core_venv() {
    # core_venv VERSION: the virtualenv with ansible-core VERSION and what the tests import.
    local version=$1
    make_venv "core-$version" "${CORE_PYTHON[$version]}" "ansible-core==$version.*" requests responses pytest pyyaml >&2
    echo "$WORK/venv-core-$version"
}

tools_venv() {
    make_venv tools 3.12 ansible-lint antsibull-changelog antsibull-docs "ansible-core==2.21.*" requests >&2
    echo "$WORK/venv-tools"
}

sync_collection() {
    # Copy the working tree (tracked and new files, not ignored ones) to where ansible-test wants it.
    log "Copying the collection to $COLLECTION_DIR"
    rm -rf "$COLLECTION_DIR"
    mkdir -p "$COLLECTION_DIR"
    if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
        (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
            [ -e "$f" ] && printf '%s\0' "$f"; done | tar --null -T - -cf -) | tar -xf - -C "$COLLECTION_DIR"
    else
        (cd "$ROOT" && tar --exclude=./.work --exclude=./tests/output -cf - .) | tar -xf - -C "$COLLECTION_DIR"
    fi
    # ansible-test lists files with git: give the copy its own repository, or the checkout's
    # .gitignore (which ignores .work/) would hide every file from it.
    git -C "$COLLECTION_DIR" init -q
}

testbed_up() {
    log "Starting the test bed (Docker engine, swarm, TLS, images, git server)"
    bash "$ROOT/tests/testbed/up.sh"
}

sim_python() { echo "$(core_venv "$MAIN_CORE")/bin/python"; }

sim_launch() {
    # sim_launch NAME PORT VERSION [ARGS...]: start one simulator process in the background.
    local name=$1 port=$2 version=$3 py
    shift 3
    py=$(sim_python)
    mkdir -p "$SIM_DIR/$name"
    (
        cd "$ROOT/tests" || exit 1
        nohup "$py" -m portainer_simulator --host 127.0.0.1 --port "$port" --data-dir "$SIM_DIR/$name/data" \
            --portainer-version "$version" --log-file "$SIM_DIR/$name/simulator.log" "$@" >"$SIM_DIR/$name/stdout.log" 2>&1 </dev/null &
        echo $! >"$SIM_DIR/$name/pid"
    )
}

sim_wait() {
    # sim_wait NAME URL: wait until the simulator answers its status route (10 s at most).
    local name=$1 url=$2 i
    for i in $(seq 1 100); do
        curl -fsS --cacert "$TESTBED_DIR/tls/client/ca.pem" "$url/api/system/status" >/dev/null 2>&1 && return 0
        kill -0 "$(cat "$SIM_DIR/$name/pid")" 2>/dev/null || { cat "$SIM_DIR/$name/stdout.log" >&2; die "the simulator $name exited"; }
        [ "$i" -lt 100 ] || die "the simulator $name did not answer within 10 s"
        sleep 0.1
    done
}

sim_start() {
    # sim_start VERSION: (re)start the Portainer simulator on $SIM_PORT with a fresh data directory,
    # and a second one serving HTTPS on $SIM_TLS_PORT with the test bed's CA when the test bed is up.
    local version=${1:-2.23.0}
    sim_stop
    rm -rf "$SIM_DIR"
    log "Starting the Portainer simulator (Portainer $version) on 127.0.0.1:$SIM_PORT"
    sim_launch http "$SIM_PORT" "$version"
    if [ -f "$TESTBED_DIR/tls/server/cert.pem" ]; then
        sim_launch https "$SIM_TLS_PORT" "$version" --tls-cert "$TESTBED_DIR/tls/server/cert.pem" --tls-key "$TESTBED_DIR/tls/server/key.pem"
        sim_wait https "https://127.0.0.1:$SIM_TLS_PORT"
    fi
    sim_wait http "http://127.0.0.1:$SIM_PORT"
}

sim_stop() {
    local name
    for name in http https; do
        if [ -f "$SIM_DIR/$name/pid" ]; then
            kill "$(cat "$SIM_DIR/$name/pid")" 2>/dev/null || true
            rm -f "$SIM_DIR/$name/pid"
        fi
    done
    # Also stop simulators left behind by an interrupted run on the same ports.
    pkill -f "portainer_simulator --host 127.0.0.1 --port ($SIM_PORT|$SIM_TLS_PORT) --data-dir $SIM_DIR/" 2>/dev/null || true
    sleep 0.2
}

seed_pip_bootstrap() {
    # seed_pip_bootstrap VENV: ansible-test creates each sanity test's virtualenv without pip and
    # installs pip with a bootstrap script it downloads from a host outside the package registries.
    # Put an equivalent script in its cache: it installs the same pip version from PyPI's wheel.
    local venv=$1 version cache script wheel
    version=$(grep -ho "pip='[0-9.]*'" "$venv"/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py | head -1 | tr -dc '0-9.')
    [ -n "$version" ] || return 0
    cache=$HOME/.ansible/test/cache
    script=$cache/get_pip_${version//./_}.py
    [ -f "$script" ] && return 0
    mkdir -p "$cache"
    "$venv/bin/python" -m pip download -q --disable-pip-version-check --no-deps --only-binary :all: -d "$cache" "pip==$version" >&2
    wheel=$(basename "$(ls "$cache"/pip-"$version"-*.whl)")
    cat >"$script" <<PY
"""Install pip $version into the running interpreter from its wheel (stands in for get-pip.py)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '$wheel'))
from pip._internal.cli.main import main  # noqa: E402  pylint: disable=wrong-import-position

ARGS = [arg for arg in sys.argv[1:] if arg not in ('--no-setuptools', '--no-wheel')]
sys.exit(main(['install', '--upgrade', '--force-reinstall'] + ARGS))
PY
}
