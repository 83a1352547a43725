#!/usr/bin/env bash
# Check, for real, each part of a test bed that up.sh set up: the engine on the
# unix socket, on plain TCP and on mutual TLS (and that TLS refuses clients
# without a trusted certificate), the swarm, the test images, an HTTP request
# to a published port, the git server (public and private repositories, with
# and without credentials), git-push-commit.sh, and a swarm and a compose
# deployment of the repository's stack files.
#
# Usage: check.sh [--quick]     (--quick skips the stack deployments)
# Ends with "check: N passed, N failed, N skipped"; exits 1 on any failure.
set -euo pipefail

# shellcheck source=tests/testbed/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

QUICK=0
case ${1:-} in
    '') ;;
    --quick) QUICK=1 ;;
    *)
        tb_usage "${BASH_SOURCE[0]}" >&2
        exit 2
        ;;
esac

# Only what this script creates is cleaned up: tests may be running too.
export PIER_CLEAN_PATTERN='^pier-it-check' PIER_CLEAN_LABEL=pier.testbed.check=1
CHECK_LABEL=$PIER_CLEAN_LABEL

[ -r "$PIER_TESTBED_DIR/testbed.env" ] || tb_die "no $PIER_TESTBED_DIR/testbed.env: run up.sh first"
# shellcheck disable=SC1091
. "$PIER_TESTBED_DIR/testbed.env"
export DOCKER_HOST="unix://$PIER_DOCKER_SOCKET"

PASSED=0
FAILED=0
SKIPPED=0
WORK=$(mktemp -d)
cleanup() {
    "$TB_HERE/clean.sh" >/dev/null 2>&1 || true
    if [ -n "${CHECK_BRANCH:-}" ]; then
        "$TB_HERE/git-push-commit.sh" --delete stacks "$CHECK_BRANCH" >/dev/null 2>&1 || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

pass() {
    PASSED=$((PASSED + 1))
    printf 'ok      %s\n' "$1"
}

fail() {
    FAILED=$((FAILED + 1))
    printf 'FAILED  %s\n' "$1"
    if [ -s "$WORK/out" ]; then
        sed 's/^/        | /' "$WORK/out" | tail -n 15
    fi
}

skip() {
    SKIPPED=$((SKIPPED + 1))
    printf 'skip    %s\n' "$1"
}

# check DESCRIPTION CMD...: CMD must succeed.
check() {
    local what=$1
    shift
    if "$@" >"$WORK/out" 2>&1; then pass "$what"; else fail "$what"; fi
}

# refuse DESCRIPTION CMD...: CMD must fail.
refuse() {
    local what=$1
    shift
    if "$@" >"$WORK/out" 2>&1; then fail "$what"; else pass "$what"; fi
}

# equals DESCRIPTION EXPECTED CMD...: CMD must print EXPECTED.
equals() {
    local what=$1 expected=$2 got
    shift 2
    got=$("$@" 2>"$WORK/out") || true
    if [ "$got" = "$expected" ]; then
        pass "$what"
    else
        printf 'expected: %s\ngot: %s\n' "$expected" "$got" >>"$WORK/out"
        fail "$what"
    fi
}

# eventually SECONDS DESCRIPTION CMD...: CMD must succeed within SECONDS.
eventually() {
    local seconds=$1 what=$2 deadline
    shift 2
    deadline=$((SECONDS + seconds))
    until "$@" >"$WORK/out" 2>&1; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            fail "$what (within ${seconds}s)"
            return 0
        fi
        sleep 0.5
    done
    pass "$what"
}

# body_is URL TEXT: the body at URL is TEXT.
body_is() {
    local body
    body=$(curl -fsS --max-time 3 "$1") || return 1
    [ "$body" = "$2" ] || {
        echo "body: $body"
        return 1
    }
}

# body_has URL TEXT: the body at URL contains the line TEXT.
body_has() {
    local body
    body=$(curl -fsS --max-time 3 "$1") || return 1
    grep -qxF -- "$2" <<<"$body"
}

TLS_FLAGS=(--tlsverify --tlscacert "$PIER_TLS_CA" --tlscert "$PIER_TLS_CERT" --tlskey "$PIER_TLS_KEY")

echo "== engine"
check "docker version over $PIER_DOCKER_UNIX_URL" dk -H "$PIER_DOCKER_UNIX_URL" version
check "docker version over $PIER_DOCKER_TCP_URL" dk -H "$PIER_DOCKER_TCP_URL" version
check "docker version over $PIER_DOCKER_TLS_URL with the client certificate" dk -H "$PIER_DOCKER_TLS_URL" "${TLS_FLAGS[@]}" version
check "docker over TLS with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH" \
    env DOCKER_HOST="$PIER_DOCKER_TLS_URL" DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH="$PIER_DOCKER_CERT_PATH" "$TB_DOCKER" info
check "the TLS server certificate is valid for localhost" curl -fsS --max-time 5 --cacert "$PIER_TLS_CA" \
    --cert "$PIER_TLS_CERT" --key "$PIER_TLS_KEY" "https://localhost:$PIER_DOCKER_TLS_PORT/_ping"
refuse "TLS refuses a client without a certificate (docker)" \
    dk -H "$PIER_DOCKER_TLS_URL" --tlsverify --tlscacert "$PIER_TLS_CA" version
refuse "TLS refuses a client without a certificate (curl)" \
    curl -fsS --max-time 5 --cacert "$PIER_TLS_CA" "https://$TB_HOST:$PIER_DOCKER_TLS_PORT/_ping"
refuse "TLS refuses a client certificate from another CA" curl -fsS --max-time 5 --cacert "$PIER_TLS_CA" \
    --cert "$PIER_TLS_UNTRUSTED_CERT" --key "$PIER_TLS_UNTRUSTED_KEY" "https://$TB_HOST:$PIER_DOCKER_TLS_PORT/_ping"
refuse "the TLS port does not speak plain HTTP" curl -fsS --max-time 5 "http://$TB_HOST:$PIER_DOCKER_TLS_PORT/_ping"
if [ -x /usr/bin/docker ] && [ "$(readlink -f /usr/bin/docker)" != "$(readlink -f "$TB_DOCKER")" ]; then
    debian_cli() {
        /usr/bin/docker -H "$PIER_DOCKER_UNIX_URL" version &&
            /usr/bin/docker -H "$PIER_DOCKER_TCP_URL" version &&
            /usr/bin/docker -H "$PIER_DOCKER_TLS_URL" "${TLS_FLAGS[@]}" version
    }
    check "Debian's /usr/bin/docker over the socket, TCP and TLS" debian_cli
fi

echo "== swarm"
equals "this engine is an active swarm manager" "active true" \
    dk info --format '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}'
equals "the swarm node is ready" "ready" dk node inspect self --format '{{.Status.State}}'
equals "the swarm advertises $TB_HOST" "$TB_HOST" dk info --format '{{.Swarm.NodeAddr}}'

echo "== images"
for image in "$PIER_IMAGE_BUSYBOX_1" "$PIER_IMAGE_BUSYBOX_2" "$PIER_IMAGE_WEB_1" "$PIER_IMAGE_WEB_2"; do
    version=${image##*:}
    equals "$image runs and holds version $version" "$version" dk run --rm "$image" cat /etc/pier-version
done
refuse "busybox:1 and busybox:2 have different ids" test "$PIER_IMAGE_BUSYBOX_1_ID" = "$PIER_IMAGE_BUSYBOX_2_ID"
refuse "web:1 and web:2 have different ids" test "$PIER_IMAGE_WEB_1_ID" = "$PIER_IMAGE_WEB_2_ID"
equals "busybox applets are installed" "ok" dk run --rm "$PIER_IMAGE_BUSYBOX_1" sh -c 'wget --help >/dev/null 2>&1; ls /bin/wget >/dev/null && echo ok'

dk run -d --label "$CHECK_LABEL" --name pier-it-check-idle "$PIER_IMAGE_BUSYBOX_1" >/dev/null
started=$SECONDS
check "an idle busybox container stops on SIGTERM" dk stop -t 20 pier-it-check-idle
if [ $((SECONDS - started)) -le 5 ]; then pass "... within 5 seconds"; else fail "... within 5 seconds (took $((SECONDS - started))s)"; fi

echo "== web"
WEB_PORT=${PIER_CHECK_WEB_PORT:-18080}
dk run -d --label "$CHECK_LABEL" --name pier-it-check-web1 -p "$TB_HOST:$WEB_PORT:80" -e PIER_MESSAGE=check-message \
    --health-cmd 'wget -q -O /dev/null http://127.0.0.1/' --health-interval 1s "$PIER_IMAGE_WEB_1" >/dev/null
dk run -d --label "$CHECK_LABEL" --name pier-it-check-web2 -p "$TB_HOST:$((WEB_PORT + 1)):80" "$PIER_IMAGE_WEB_2" >/dev/null
eventually 20 "$PIER_IMAGE_WEB_1 answers on a published port with 'pier-test web 1'" body_is "http://$TB_HOST:$WEB_PORT/" "pier-test web 1"
eventually 20 "$PIER_IMAGE_WEB_2 answers on a published port with 'pier-test web 2'" body_is "http://$TB_HOST:$((WEB_PORT + 1))/" "pier-test web 2"
check "the web image shows its environment at /cgi-bin/env" body_has "http://$TB_HOST:$WEB_PORT/cgi-bin/env" PIER_MESSAGE=check-message
healthy() {
    [ "$(dk inspect --format '{{.State.Health.Status}}' "$1")" = healthy ]
}
eventually 20 "a health check in the container turns healthy" healthy pier-it-check-web1

echo "== git"
GIT=(git -c credential.helper= -c advice.detachedHead=false)
AUTH_URL="http://$PIER_GIT_USER:$PIER_GIT_PASSWORD@$TB_HOST:$PIER_GIT_PORT/private/stacks.git"
WRONG_URL="http://$PIER_GIT_USER:wrong-password@$TB_HOST:$PIER_GIT_PORT/private/stacks.git"
check "git ls-remote $PIER_GIT_REPO_URL" "${GIT[@]}" ls-remote --exit-code "$PIER_GIT_REPO_URL" main branch-b
check "git clone $PIER_GIT_REPO_URL" "${GIT[@]}" clone -q "$PIER_GIT_REPO_URL" "$WORK/public"
both_branches() {
    git -C "$1" rev-parse -q --verify origin/main && git -C "$1" rev-parse -q --verify origin/branch-b
}
check "the clone has both branches" both_branches "$WORK/public"
check "main holds the swarm stack with pier-test/web:1 on 8081" grep -q -e 'image: pier-test/web:1' "$WORK/public/$PIER_GIT_SWARM_FILE"
check "main holds the compose stack with pier-test/web:1 on 8082" grep -q -e '"8082:80"' "$WORK/public/$PIER_GIT_COMPOSE_FILE"
branch_b_web2() {
    local text
    text=$(git -C "$WORK/public" show "origin/branch-b:$PIER_GIT_SWARM_FILE") || return 1
    grep -q 'image: pier-test/web:2' <<<"$text"
}
check "branch-b holds pier-test/web:2" branch_b_web2
check "git ls-remote of the private repository with credentials" "${GIT[@]}" ls-remote --exit-code "$AUTH_URL" main branch-b
check "git clone of the private repository with credentials" "${GIT[@]}" clone -q --branch branch-b "$AUTH_URL" "$WORK/private"
refuse "git ls-remote of the private repository without credentials fails" "${GIT[@]}" ls-remote "$PIER_GIT_PRIVATE_REPO_URL"
refuse "git clone of the private repository without credentials fails" "${GIT[@]}" clone -q "$PIER_GIT_PRIVATE_REPO_URL" "$WORK/denied"
refuse "git ls-remote of the private repository with a wrong password fails" "${GIT[@]}" ls-remote "$WRONG_URL"
equals "the private repository answers 401 with a basic-auth challenge" "401" \
    curl -sS -o /dev/null -w '%{http_code}' "$PIER_GIT_PRIVATE_REPO_URL/info/refs"
refuse "the git server refuses paths outside its root" curl -fsS --path-as-is "$PIER_GIT_BASE_URL/../../etc/passwd"
if [ "$PIER_GIT_SMART" = 1 ]; then
    check "a shallow clone over the smart protocol" "${GIT[@]}" clone -q --depth 1 "$AUTH_URL" "$WORK/shallow"
fi

CHECK_BRANCH="check-$$"
remote_sha() {
    git -c credential.helper= ls-remote "$1" "refs/heads/$2" | cut -f1
}
fetched_show() {
    git -C "$WORK/public" fetch -q origin "$CHECK_BRANCH" && git -C "$WORK/public" show "FETCH_HEAD:$1"
}
fetched_grep() {
    local text
    text=$(fetched_show "$1") || return 1
    grep -qx -- "$2" <<<"$text"
}
if sha=$("$TB_HERE/git-push-commit.sh" stacks "$CHECK_BRANCH" 2>"$WORK/out"); then
    pass "git-push-commit.sh makes a commit on a new branch"
    equals "the git server shows the new commit" "$sha" \
        remote_sha "$PIER_GIT_REPO_URL" "$CHECK_BRANCH"
    check "a fetch gets the new commit with the revision counted up" fetched_grep "$PIER_GIT_SWARM_FILE" '# revision: [1-9][0-9]*'
    sha2=$(printf 'replaced\n' | "$TB_HERE/git-push-commit.sh" stacks "$CHECK_BRANCH" notes/replaced.txt - 2>"$WORK/out") || sha2=
    equals "git-push-commit.sh replaces a file from standard input" "replaced" \
        fetched_show notes/replaced.txt
    refuse "... as a second, different commit" test "$sha" = "$sha2"
else
    fail "git-push-commit.sh makes a commit on a new branch"
fi

echo "== stacks"
port_free() {
    ! tb_port_busy "$1"
}
if [ "$QUICK" -eq 1 ]; then
    skip "swarm and compose deployments (--quick)"
else
    if port_free "$PIER_STACK_PORT_SWARM_MAIN"; then
        check "docker stack deploy of $PIER_GIT_SWARM_FILE (main)" \
            dk stack deploy --resolve-image never -c "$WORK/public/$PIER_GIT_SWARM_FILE" pier-it-check-swarm
        eventually 90 "the swarm stack answers on $PIER_STACK_PORT_SWARM_MAIN with 'pier-test web 1'" \
            body_is "http://$TB_HOST:$PIER_STACK_PORT_SWARM_MAIN/" "pier-test web 1"
        check "the swarm service got PIER_MESSAGE's default" body_has \
            "http://$TB_HOST:$PIER_STACK_PORT_SWARM_MAIN/cgi-bin/env" "PIER_MESSAGE=hello from swarm"
    else
        skip "swarm stack deployment: port $PIER_STACK_PORT_SWARM_MAIN is in use"
    fi
    if port_free "$PIER_STACK_PORT_COMPOSE_MAIN"; then
        check "docker-compose up of $PIER_GIT_COMPOSE_FILE (main)" env PIER_MESSAGE=from-check \
            "$PIER_COMPOSE_CLI" -p pier-it-check-compose -f "$WORK/public/$PIER_GIT_COMPOSE_FILE" up -d
        eventually 30 "the compose stack answers on $PIER_STACK_PORT_COMPOSE_MAIN with 'pier-test web 1'" \
            body_is "http://$TB_HOST:$PIER_STACK_PORT_COMPOSE_MAIN/" "pier-test web 1"
        check "the compose service got PIER_MESSAGE from the environment" body_has \
            "http://$TB_HOST:$PIER_STACK_PORT_COMPOSE_MAIN/cgi-bin/env" "PIER_MESSAGE=from-check"
    else
        skip "compose stack deployment: port $PIER_STACK_PORT_COMPOSE_MAIN is in use"
    fi
fi

echo "== clean"
check "clean.sh removes what the checks left" "$TB_HERE/clean.sh"
left_containers() {
    dk ps -aq --filter name=pier-it-check
    dk ps -aq --filter "label=$CHECK_LABEL"
}
left_stacks() {
    dk stack ls --format '{{.Name}}' | grep '^pier-it-check' || true
}
equals "no pier-it-check container is left" "" left_containers
equals "no pier-it-check stack is left" "" left_stacks

echo "check: $PASSED passed, $FAILED failed, $SKIPPED skipped"
[ "$FAILED" -eq 0 ]
