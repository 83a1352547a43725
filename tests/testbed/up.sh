#!/usr/bin/env bash
# Set up the pier.portainer integration test bed: a Docker engine on the unix
# socket, on tcp://127.0.0.1:2375 and on 127.0.0.1:2376 with mutual TLS, a
# one-node swarm, locally built test images and a loopback git server.
# Idempotent: whatever already runs and matches is reused.  See README.md.
#
# Usage: up.sh [--reset-git] [--rebuild-images]
set -euo pipefail

# shellcheck source=tests/testbed/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RESET_GIT=0
REBUILD_IMAGES=0
for arg in "$@"; do
    case $arg in
        --reset-git) RESET_GIT=1 ;;
        --rebuild-images) REBUILD_IMAGES=1 ;;
        -h | --help)
            tb_usage "${BASH_SOURCE[0]}"
            exit 0
            ;;
        *) tb_die "unknown argument: $arg" ;;
    esac
done

[ "$(id -u)" -eq 0 ] || tb_die "up.sh must run as root"
START=$SECONDS
mkdir -p "$PIER_TESTBED_DIR" "$TB_RUN" "$TB_LOG" "$TB_TLS" "$TB_GIT" "$TB_BUILD"
# One up.sh or down.sh at a time.
exec 8>"$PIER_TESTBED_DIR/.lock"
flock -w 600 8 || tb_die "another up.sh or down.sh holds $PIER_TESTBED_DIR/.lock"

# --------------------------------------------------------------- packages

ensure_packages() {
    local wanted=(docker.io docker-compose busybox-static git openssl socat curl) missing=() pkg installed
    command -v python3 >/dev/null 2>&1 || wanted+=(python3)
    installed=$(dpkg-query -W -f='${Package} ${Status}\n' "${wanted[@]}" 2>/dev/null || true)
    for pkg in "${wanted[@]}"; do
        grep -qx -- "$pkg install ok installed" <<<"$installed" || missing+=("$pkg")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    tb_say "installing ${missing[*]} (log: $TB_LOG/apt.log)"
    if ! {
        apt-get -o DPkg::Lock::Timeout=300 update &&
            DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends "${missing[@]}"
    } >>"$TB_LOG/apt.log" 2>&1; then
        tail -n 20 "$TB_LOG/apt.log" >&2
        tb_die "apt-get failed"
    fi
    # A CLI on PATH may have been missing before the install.
    TB_DOCKER=${PIER_DOCKER_CLI:-$(command -v docker || echo /usr/bin/docker)}
}

# -------------------------------------------------------------------- TLS

# tls_conf FILE CN EXTENSIONS...: write an openssl config for one certificate.
tls_conf() {
    local file=$1 cn=$2 line
    shift 2
    {
        printf '[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = %s\n[ext]\n' "$cn"
        for line in "$@"; do
            printf '%s\n' "$line"
        done
    } >"$file"
}

# tls_ca DIR CN: a self-signed CA in DIR/ca.pem and DIR/ca-key.pem.
tls_ca() {
    local dir=$1 cn=$2
    mkdir -p "$dir"
    tls_conf "$dir/ca.cnf" "$cn" 'basicConstraints = critical, CA:TRUE' \
        'keyUsage = critical, keyCertSign, cRLSign' 'subjectKeyIdentifier = hash'
    openssl req -x509 -new -newkey rsa:2048 -nodes -sha256 -days 3650 -config "$dir/ca.cnf" \
        -extensions ext -keyout "$dir/ca-key.pem" -out "$dir/ca.pem" 2>/dev/null
    rm -f "$dir/ca.cnf"
}

# tls_leaf CADIR CERT KEY CN EXTENSIONS...: a certificate signed by CADIR's CA.
tls_leaf() {
    local cadir=$1 cert=$2 key=$3 cn=$4 conf
    shift 4
    conf=$(mktemp)
    tls_conf "$conf" "$cn" 'basicConstraints = critical, CA:FALSE' \
        'keyUsage = critical, digitalSignature, keyEncipherment' \
        'subjectKeyIdentifier = hash' 'authorityKeyIdentifier = keyid' "$@"
    openssl req -new -newkey rsa:2048 -nodes -sha256 -config "$conf" -keyout "$key" -out "$conf.csr" 2>/dev/null
    openssl x509 -req -sha256 -days 3650 -in "$conf.csr" -CA "$cadir/ca.pem" -CAkey "$cadir/ca-key.pem" \
        -set_serial "0x$(openssl rand -hex 16)" -extfile "$conf" -extensions ext -out "$cert" 2>/dev/null
    rm -f "$conf" "$conf.csr"
}

TLS_CHANGED=0
ensure_tls() {
    local file ok=1
    for file in ca.pem ca-key.pem server/cert.pem server/key.pem client/ca.pem client/cert.pem \
        client/key.pem untrusted/ca.pem untrusted/cert.pem untrusted/key.pem; do
        [ -s "$TB_TLS/$file" ] || ok=0
    done
    # All were made together, with the same lifetime.
    if [ "$ok" -eq 1 ]; then
        openssl x509 -checkend 86400 -noout -in "$TB_TLS/server/cert.pem" >/dev/null 2>&1 || ok=0
    fi
    [ "$ok" -eq 1 ] && return 0
    tb_say "generating the CA and the server and client certificates in $TB_TLS"
    (
        umask 077
        rm -rf "$TB_TLS"
        mkdir -p "$TB_TLS/server" "$TB_TLS/client" "$TB_TLS/untrusted" "$TB_TLS/untrusted-ca"
        tls_ca "$TB_TLS" 'pier testbed CA'
        tls_leaf "$TB_TLS" "$TB_TLS/server/cert.pem" "$TB_TLS/server/key.pem" localhost \
            'extendedKeyUsage = serverAuth' 'subjectAltName = IP:127.0.0.1, DNS:localhost'
        tls_leaf "$TB_TLS" "$TB_TLS/client/cert.pem" "$TB_TLS/client/key.pem" 'pier testbed client' \
            'extendedKeyUsage = clientAuth'
        # A client certificate from another CA: the engine must refuse it.
        tls_ca "$TB_TLS/untrusted-ca" 'pier testbed untrusted CA'
        tls_leaf "$TB_TLS/untrusted-ca" "$TB_TLS/untrusted/cert.pem" "$TB_TLS/untrusted/key.pem" \
            'pier testbed untrusted client' 'extendedKeyUsage = clientAuth'
        cp "$TB_TLS/ca.pem" "$TB_TLS/client/ca.pem"
        cp "$TB_TLS/ca.pem" "$TB_TLS/untrusted/ca.pem"
        cp "$TB_TLS/ca.pem" "$TB_TLS/server/ca.pem"
    )
    chmod 755 "$TB_TLS" "$TB_TLS/server" "$TB_TLS/client" "$TB_TLS/untrusted"
    chmod 644 "$TB_TLS"/*.pem "$TB_TLS"/*/ca.pem "$TB_TLS"/*/cert.pem
    TLS_CHANGED=1
}

# ---------------------------------------------------------------- engine

DOCKERD_MANAGED=0
ensure_dockerd() {
    local dockerd pid extra=()
    if pid=$(tb_pid dockerd dockerd); then
        DOCKERD_MANAGED=1
        tb_wait "$PIER_DOCKER_WAIT" "dockerd (pid $pid)" tb_ping_socket || tb_die "dockerd does not answer"
        return 0
    fi
    tb_ping_socket && return 0
    if [ -S "$PIER_DOCKER_SOCKET" ]; then
        local rc=0
        curl -sS --max-time 3 --unix-socket "$PIER_DOCKER_SOCKET" http://docker/_ping >/dev/null 2>&1 || rc=$?
        # 7: nobody listens, a socket left behind.  Anything else may be an
        # engine that is still starting: give it a moment.
        if [ "$rc" -ne 7 ]; then
            tb_wait 15 "the engine behind $PIER_DOCKER_SOCKET" tb_ping_socket && return 0
        fi
    fi
    dockerd=$(command -v dockerd || echo /usr/sbin/dockerd)
    [ -x "$dockerd" ] || tb_die "no dockerd found"
    # This dockerd serves plain TCP itself: the forwarder that stands in for
    # it in front of an engine started elsewhere must not hold the port.
    tb_stop docker-tcp "TCP-LISTEN:$PIER_DOCKER_TCP_PORT"
    tb_port_busy "$PIER_DOCKER_TCP_PORT" && tb_die "port $PIER_DOCKER_TCP_PORT is taken by another program"
    if [ -n "${PIER_DOCKERD_ARGS:-}" ]; then
        read -r -a extra <<<"$PIER_DOCKERD_ARGS"
    fi
    tb_say "starting dockerd (log: $TB_LOG/dockerd.log)"
    tb_spawn dockerd "$dockerd" -H "unix://$PIER_DOCKER_SOCKET" -H "tcp://$TB_HOST:$PIER_DOCKER_TCP_PORT" \
        --pidfile "$TB_RUN/dockerd.daemon.pid" "${extra[@]}"
    local deadline=$((SECONDS + PIER_DOCKER_WAIT))
    until tb_ping_socket; do
        if ! tb_pid dockerd dockerd >/dev/null; then
            tail -n 30 "$TB_LOG/dockerd.log" >&2
            tb_die "dockerd exited"
        fi
        [ "$SECONDS" -lt "$deadline" ] || tb_die "dockerd did not answer within ${PIER_DOCKER_WAIT}s"
        sleep 0.2
    done
    DOCKERD_MANAGED=1
}

ensure_tcp() {
    tb_ping_tcp && return 0
    tb_stop docker-tcp "TCP-LISTEN:$PIER_DOCKER_TCP_PORT"
    tb_port_busy "$PIER_DOCKER_TCP_PORT" && tb_die "port $PIER_DOCKER_TCP_PORT is taken but does not answer as a Docker engine"
    tb_say "forwarding tcp://$TB_HOST:$PIER_DOCKER_TCP_PORT to $PIER_DOCKER_SOCKET (the engine was not started with TCP)"
    tb_spawn docker-tcp socat -t 3600 \
        "TCP-LISTEN:$PIER_DOCKER_TCP_PORT,bind=$TB_HOST,reuseaddr,fork,backlog=64" "UNIX-CONNECT:$PIER_DOCKER_SOCKET"
    tb_wait 10 "tcp://$TB_HOST:$PIER_DOCKER_TCP_PORT" tb_ping_tcp || tb_die "the TCP forwarder does not answer"
}

ensure_tls_forwarder() {
    if [ "$TLS_CHANGED" -eq 0 ] && tb_pid docker-tls "OPENSSL-LISTEN:$PIER_DOCKER_TLS_PORT" >/dev/null && tb_ping_tls; then
        return 0
    fi
    tb_stop docker-tls "OPENSSL-LISTEN:$PIER_DOCKER_TLS_PORT"
    tb_port_busy "$PIER_DOCKER_TLS_PORT" && tb_die "port $PIER_DOCKER_TLS_PORT is taken by another program"
    tb_spawn docker-tls socat -t 3600 \
        "OPENSSL-LISTEN:$PIER_DOCKER_TLS_PORT,bind=$TB_HOST,reuseaddr,fork,backlog=64,cert=$TB_TLS/server/cert.pem,key=$TB_TLS/server/key.pem,cafile=$TB_TLS/ca.pem,verify=1" \
        "UNIX-CONNECT:$PIER_DOCKER_SOCKET"
    tb_wait 10 "https://$TB_HOST:$PIER_DOCKER_TLS_PORT" tb_ping_tls || tb_die "the TLS forwarder does not answer"
}

NODE_ID=
ensure_swarm() {
    local state
    state=$(dk info --format '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}} {{.Swarm.NodeAddr}} {{.Swarm.NodeID}}')
    case $state in
        "active true $TB_HOST "*)
            NODE_ID=${state##* }
            return 0
            ;;
        'locked '*) tb_die "the swarm is locked: unlock it (docker swarm unlock) or leave it" ;;
        'inactive '*) ;;
        *)
            tb_say "swarm state is '$state': leaving it to start a one-node swarm"
            dk swarm leave --force >/dev/null
            ;;
    esac
    tb_say "initialising a one-node swarm on $TB_HOST"
    dk swarm init --advertise-addr "$TB_HOST" --listen-addr "$TB_HOST:${PIER_SWARM_PORT:-2377}" >/dev/null
    NODE_ID=$(dk info --format '{{.Swarm.NodeID}}')
}

# ---------------------------------------------------------------- images

# write_file PATH MODE LINE...: write the lines to PATH.
write_file() {
    local path=$1 mode=$2
    shift 2
    mkdir -p "$(dirname "$path")"
    printf '%s\n' "$@" >"$path"
    chmod "$mode" "$path"
}

# prepare_context DIR KIND VERSION: the build context of pier-test/KIND:VERSION.
prepare_context() {
    local ctx=$1 kind=$2 version=$3
    rm -rf "$ctx"
    mkdir -p "$ctx/base/bin" "$ctx/base/etc" "$ctx/base/root" "$ctx/base/tmp" "$ctx/top/etc"
    chmod 1777 "$ctx/base/tmp"
    chmod 700 "$ctx/base/root"
    cp "$BUSYBOX" "$ctx/base/bin/busybox"
    chmod 755 "$ctx/base/bin/busybox"
    write_file "$ctx/base/etc/passwd" 644 'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false'
    write_file "$ctx/base/etc/group" 644 'root:x:0:' 'nogroup:x:65534:'
    # PID 1 scripts that stop at once on SIGTERM (a bare sleep or httpd as
    # PID 1 ignores it, and every docker stop would take 10 seconds).
    write_file "$ctx/base/bin/pier-idle" 755 '#!/bin/sh' '# Idle until stopped.' \
        "trap 'exit 0' TERM INT" 'sleep 2147483647 &' 'wait'
    # shellcheck disable=SC2016
    write_file "$ctx/base/bin/pier-web" 755 '#!/bin/sh' '# Serve /www with busybox httpd until stopped.' \
        "trap 'exit 0' TERM INT" 'httpd -f -v -p "${PIER_WEB_PORT:-80}" -h /www &' 'wait'
    write_file "$ctx/top/etc/pier-version" 644 "$version"
    local cmd='["/bin/pier-idle"]' expose=()
    if [ "$kind" = web ]; then
        write_file "$ctx/top/www/index.html" 644 "pier-test web $version"
        write_file "$ctx/top/www/version" 644 "$version"
        write_file "$ctx/top/www/cgi-bin/env" 755 '#!/bin/sh' "printf 'Content-Type: text/plain\\r\\n\\r\\n'" 'env | sort'
        cmd='["/bin/pier-web"]'
        expose=('EXPOSE 80')
    fi
    write_file "$ctx/Dockerfile" 644 \
        'FROM scratch' \
        'COPY base/ /' \
        'RUN ["/bin/busybox", "--install", "-s", "/bin"]' \
        'COPY top/ /' \
        'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        "LABEL pier.testbed=\"1\" pier.testbed.image=\"pier-test/$kind\" pier.testbed.version=\"$version\"" \
        "${expose[@]}" \
        "CMD $cmd"
}

# recipe_hash KIND VERSION: a digest of what makes the image: the busybox
# binary, and the code that writes the build context.
recipe_hash() {
    {
        printf '%s %s %s\n' "$1" "$2" "$BUSYBOX_SHA"
        declare -f prepare_context write_file
    } | sha256sum | cut -c1-32
}

IMAGES=(pier-test/busybox:1 pier-test/busybox:2 pier-test/web:1 pier-test/web:2)
declare -A IMAGE_IDS=()
ensure_images() {
    local tag kind version ctx inspected line recipe id
    declare -A hashes=()
    BUSYBOX=/bin/busybox
    [ -x "$BUSYBOX" ] || BUSYBOX=$(command -v busybox) || tb_die "no busybox binary (package busybox-static)"
    BUSYBOX_SHA=$(sha256sum <"$BUSYBOX")
    for tag in "${IMAGES[@]}"; do
        kind=${tag#pier-test/} version=${tag##*:}
        kind=${kind%:*}
        hashes[$tag]=$(recipe_hash "$kind" "$version")
    done
    # One inspect for all: ",tag,tag, recipe id" per image found.
    inspected=$(dk image inspect --format ',{{range .RepoTags}}{{.}},{{end}} {{index .Config.Labels "pier.testbed.recipe"}} {{.Id}}' \
        "${IMAGES[@]}" 2>/dev/null || true)
    for tag in "${IMAGES[@]}"; do
        kind=${tag#pier-test/} version=${tag##*:}
        kind=${kind%:*}
        line=$(grep -m 1 -F -- ",$tag," <<<"$inspected" || true)
        read -r _ recipe id <<<"$line" || true
        if [ "$REBUILD_IMAGES" -eq 1 ] || [ "${recipe:-}" != "${hashes[$tag]}" ]; then
            tb_say "building $tag"
            ctx="$TB_BUILD/$kind-$version"
            prepare_context "$ctx" "$kind" "$version"
            if ! DOCKER_BUILDKIT=0 dk build --label "pier.testbed.recipe=${hashes[$tag]}" -t "$tag" \
                "$ctx" >>"$TB_LOG/build.log" 2>&1; then
                tail -n 20 "$TB_LOG/build.log" >&2
                tb_die "building $tag failed"
            fi
            id=$(dk image inspect --format '{{.Id}}' "$tag")
        fi
        IMAGE_IDS[$tag]=$id
    done
}

# ------------------------------------------------------------------- git

# Bump when the content of the repositories changes: up.sh then recreates them.
GIT_LAYOUT=2
GIT_ID=(-c user.name='pier testbed' -c user.email=testbed@pier.invalid -c commit.gpgsign=false -c init.defaultBranch=main)

# stack_files DIR BRANCH: write the stack files of BRANCH into a work tree.
stack_files() {
    local dir=$1 branch=$2 image swarm_port compose_port
    if [ "$branch" = main ]; then
        image=pier-test/web:1 swarm_port=8081 compose_port=8082
    else
        image=pier-test/web:2 swarm_port=8083 compose_port=8084
    fi
    mkdir -p "$dir/swarm" "$dir/compose"
    cat >"$dir/swarm/docker-stack.yml" <<EOF
# pier testbed swarm stack, branch $branch
# revision: 0
version: "3.8"
services:
  web:
    image: $image
    environment:
      PIER_MESSAGE: "\${PIER_MESSAGE:-hello from swarm}"
    ports:
      # Host mode: the routing mesh needs IPVS, which some kernels lack.
      - target: 80
        published: $swarm_port
        protocol: tcp
        mode: host
    deploy:
      replicas: 1
      endpoint_mode: dnsrr
EOF
    cat >"$dir/compose/docker-compose.yml" <<EOF
# pier testbed compose stack, branch $branch
# revision: 0
version: "3.8"
services:
  web:
    image: $image
    environment:
      PIER_MESSAGE: "\${PIER_MESSAGE:-hello from compose}"
    ports:
      - "$compose_port:80"
EOF
    write_file "$dir/README.md" 644 "# pier testbed stacks ($branch)" '' \
        'swarm/docker-stack.yml: a swarm stack; compose/docker-compose.yml: a compose stack.'
}

# make_repo DIR: create a bare repository with branches main and branch-b.
make_repo() {
    local repo=$1 work
    rm -rf "$repo"
    mkdir -p "$(dirname "$repo")"
    git "${GIT_ID[@]}" init -q --bare "$repo"
    git --git-dir="$repo" symbolic-ref HEAD refs/heads/main
    write_file "$repo/hooks/post-update" 755 '#!/bin/sh' 'exec git update-server-info'
    git --git-dir="$repo" config http.receivepack false
    work=$(mktemp -d)
    git "${GIT_ID[@]}" init -q "$work"
    # Fixed dates: the initial commits have the same ids on every machine.
    export GIT_AUTHOR_DATE='2024-01-01T00:00:00Z' GIT_COMMITTER_DATE='2024-01-01T00:00:00Z'
    stack_files "$work" main
    git -C "$work" add -A
    git "${GIT_ID[@]}" -C "$work" commit -q -m 'Stacks on main'
    git -C "$work" branch -M main
    git -C "$work" checkout -q -b branch-b
    stack_files "$work" branch-b
    git -C "$work" add -A
    git "${GIT_ID[@]}" -C "$work" commit -q -m 'Stacks on branch-b'
    unset GIT_AUTHOR_DATE GIT_COMMITTER_DATE
    git -C "$work" push -q "$repo" main branch-b
    git --git-dir="$repo" update-server-info
    printf '%s\n' "$GIT_LAYOUT" >"$repo/pier-testbed-layout"
    rm -rf "$work"
}

repo_ok() {
    local repo=$1
    [ "$(cat "$repo/pier-testbed-layout" 2>/dev/null)" = "$GIT_LAYOUT" ] &&
        [ -x "$repo/hooks/post-update" ] && [ -f "$repo/info/refs" ] &&
        git --git-dir="$repo" rev-parse -q --verify refs/heads/main >/dev/null &&
        git --git-dir="$repo" rev-parse -q --verify refs/heads/branch-b >/dev/null
}

ensure_repos() {
    local name repo
    for name in stacks private/stacks; do
        repo=$(tb_repo_dir "$name")
        if [ "$RESET_GIT" -eq 1 ] || ! repo_ok "$repo"; then
            tb_say "creating git repository $name.git"
            make_repo "$repo"
        fi
    done
}

git_health() {
    curl -fsS --max-time 3 "http://$TB_HOST:$PIER_GIT_PORT/_health" 2>/dev/null
}

ensure_git_server() {
    local tag body smart=()
    tag=$(printf '%s\n' "$TB_GIT" "$PIER_GIT_USER" "$PIER_GIT_PASSWORD" "$PIER_GIT_SMART" "$(sha256sum <"$TB_HERE/gitserver.py")" |
        sha256sum | cut -c1-16)
    body=$(git_health || true)
    if tb_pid gitserver gitserver.py >/dev/null && [[ $body == *"\"tag\": \"$tag\""* ]]; then
        return 0
    fi
    tb_stop gitserver gitserver.py
    tb_port_busy "$PIER_GIT_PORT" && tb_die "port $PIER_GIT_PORT is taken by another program (set PIER_GIT_PORT)"
    [ "$PIER_GIT_SMART" = 1 ] && smart=(--smart)
    tb_say "starting the git server on http://$TB_HOST:$PIER_GIT_PORT"
    export PIER_GIT_PASSWORD
    tb_spawn gitserver python3 "$TB_HERE/gitserver.py" --root "$TB_GIT" \
        --host "$TB_HOST" --port "$PIER_GIT_PORT" --user "$PIER_GIT_USER" --tag "$tag" "${smart[@]}"
    tb_wait 10 "the git server" git_health || {
        tail -n 20 "$TB_LOG/gitserver.log" >&2
        tb_die "the git server does not answer"
    }
}

verify_git() {
    local base="http://$TB_HOST:$PIER_GIT_PORT"
    git -c credential.helper= ls-remote "$base/stacks.git" >/dev/null 2>&1 ||
        tb_die "git ls-remote $base/stacks.git failed"
    git -c credential.helper= ls-remote "http://$PIER_GIT_USER:$PIER_GIT_PASSWORD@$TB_HOST:$PIER_GIT_PORT/private/stacks.git" >/dev/null 2>&1 ||
        tb_die "git ls-remote of the private repository with credentials failed"
    if git -c credential.helper= ls-remote "$base/private/stacks.git" >/dev/null 2>&1; then
        tb_die "the private repository answered without credentials"
    fi
}

# ---------------------------------------------------------------- outputs

# env_line KEY VALUE: a KEY=value line, single-quoted when needed.
env_line() {
    local value=$2
    if [[ $value =~ ^[A-Za-z0-9_./:@%+=,-]*$ ]]; then
        printf '%s=%s\n' "$1" "$value"
    else
        printf "%s='%s'\n" "$1" "${value//\'/\'\\\'\'}"
    fi
}

write_outputs() {
    local git_base="http://$TB_HOST:$PIER_GIT_PORT" compose
    read -r SERVER_VERSION API_VERSION < <(dk version --format '{{.Server.Version}} {{.Server.APIVersion}}')
    compose=$(command -v docker-compose || echo /usr/bin/docker-compose)
    {
        echo '# Written by tests/testbed/up.sh; KEY=value lines a shell can source.'
        env_line PIER_TESTBED_DIR "$PIER_TESTBED_DIR"
        env_line PIER_TESTBED_HOME "$TB_HERE"
        env_line PIER_TESTBED_CLEAN "$TB_HERE/clean.sh"
        env_line PIER_GIT_PUSH_COMMIT "$TB_HERE/git-push-commit.sh"
        env_line PIER_DOCKER_CLI "$TB_DOCKER"
        env_line PIER_COMPOSE_CLI "$compose"
        env_line PIER_DOCKERD_MANAGED "$DOCKERD_MANAGED"
        env_line PIER_DOCKER_VERSION "$SERVER_VERSION"
        env_line PIER_DOCKER_API_VERSION "$API_VERSION"
        env_line PIER_DOCKER_SOCKET "$PIER_DOCKER_SOCKET"
        env_line PIER_DOCKER_UNIX_URL "unix://$PIER_DOCKER_SOCKET"
        env_line PIER_DOCKER_TCP_PORT "$PIER_DOCKER_TCP_PORT"
        env_line PIER_DOCKER_TCP_URL "tcp://$TB_HOST:$PIER_DOCKER_TCP_PORT"
        env_line PIER_DOCKER_HTTP_URL "http://$TB_HOST:$PIER_DOCKER_TCP_PORT"
        env_line PIER_DOCKER_TLS_PORT "$PIER_DOCKER_TLS_PORT"
        env_line PIER_DOCKER_TLS_URL "tcp://$TB_HOST:$PIER_DOCKER_TLS_PORT"
        env_line PIER_DOCKER_HTTPS_URL "https://$TB_HOST:$PIER_DOCKER_TLS_PORT"
        env_line PIER_DOCKER_CERT_PATH "$TB_TLS/client"
        env_line PIER_TLS_CA "$TB_TLS/client/ca.pem"
        env_line PIER_TLS_CERT "$TB_TLS/client/cert.pem"
        env_line PIER_TLS_KEY "$TB_TLS/client/key.pem"
        env_line PIER_TLS_CA_KEY "$TB_TLS/ca-key.pem"
        env_line PIER_TLS_SERVER_CERT "$TB_TLS/server/cert.pem"
        env_line PIER_TLS_SERVER_KEY "$TB_TLS/server/key.pem"
        env_line PIER_TLS_UNTRUSTED_CERT "$TB_TLS/untrusted/cert.pem"
        env_line PIER_TLS_UNTRUSTED_KEY "$TB_TLS/untrusted/key.pem"
        env_line PIER_SWARM_ADDR "$TB_HOST"
        env_line PIER_SWARM_NODE_ID "$NODE_ID"
        env_line PIER_IMAGE_BUSYBOX_1 pier-test/busybox:1
        env_line PIER_IMAGE_BUSYBOX_2 pier-test/busybox:2
        env_line PIER_IMAGE_WEB_1 pier-test/web:1
        env_line PIER_IMAGE_WEB_2 pier-test/web:2
        env_line PIER_IMAGE_BUSYBOX_1_ID "${IMAGE_IDS[pier-test/busybox:1]}"
        env_line PIER_IMAGE_BUSYBOX_2_ID "${IMAGE_IDS[pier-test/busybox:2]}"
        env_line PIER_IMAGE_WEB_1_ID "${IMAGE_IDS[pier-test/web:1]}"
        env_line PIER_IMAGE_WEB_2_ID "${IMAGE_IDS[pier-test/web:2]}"
        env_line PIER_GIT_PORT "$PIER_GIT_PORT"
        env_line PIER_GIT_BASE_URL "$git_base"
        env_line PIER_GIT_REPO_URL "$git_base/stacks.git"
        env_line PIER_GIT_PRIVATE_REPO_URL "$git_base/private/stacks.git"
        env_line PIER_GIT_USER "$PIER_GIT_USER"
        env_line PIER_GIT_PASSWORD "$PIER_GIT_PASSWORD"
        env_line PIER_GIT_SMART "$PIER_GIT_SMART"
        env_line PIER_GIT_ROOT "$TB_GIT"
        env_line PIER_GIT_REPO_DIR "$TB_GIT/stacks.git"
        env_line PIER_GIT_PRIVATE_REPO_DIR "$TB_GIT/private/stacks.git"
        env_line PIER_GIT_BRANCH_MAIN main
        env_line PIER_GIT_BRANCH_B branch-b
        env_line PIER_GIT_SWARM_FILE swarm/docker-stack.yml
        env_line PIER_GIT_COMPOSE_FILE compose/docker-compose.yml
        env_line PIER_STACK_PORT_SWARM_MAIN 8081
        env_line PIER_STACK_PORT_SWARM_B 8083
        env_line PIER_STACK_PORT_COMPOSE_MAIN 8082
        env_line PIER_STACK_PORT_COMPOSE_B 8084
    } >"$PIER_TESTBED_DIR/testbed.env.tmp"
    mv "$PIER_TESTBED_DIR/testbed.env.tmp" "$PIER_TESTBED_DIR/testbed.env"
    python3 "$TB_HERE/envjson.py" "$PIER_TESTBED_DIR/testbed.env" "$PIER_TESTBED_DIR/testbed.json"
}

# ------------------------------------------------------------------- main

ensure_packages
ensure_tls
ensure_dockerd
ensure_tcp
ensure_tls_forwarder
ensure_swarm
ensure_images
ensure_repos
ensure_git_server
verify_git
write_outputs

cat <<EOF
pier test bed ready in $((SECONDS - START))s (state: $PIER_TESTBED_DIR)
  engine  unix://$PIER_DOCKER_SOCKET  tcp://$TB_HOST:$PIER_DOCKER_TCP_PORT  tcp://$TB_HOST:$PIER_DOCKER_TLS_PORT (TLS, client certs in $TB_TLS/client)
          Docker $SERVER_VERSION, dockerd $([ "$DOCKERD_MANAGED" = 1 ] && echo 'started by the test bed' || echo 'started elsewhere'), swarm manager on $TB_HOST
  images  pier-test/busybox:1 pier-test/busybox:2 pier-test/web:1 pier-test/web:2
  git     http://$TB_HOST:$PIER_GIT_PORT/stacks.git  http://$TB_HOST:$PIER_GIT_PORT/private/stacks.git (user $PIER_GIT_USER)
  env     $PIER_TESTBED_DIR/testbed.env  $PIER_TESTBED_DIR/testbed.json
EOF
