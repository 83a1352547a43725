#!/usr/bin/env bash
# Make a new commit on a branch of one of the test bed's git repositories (so a
# test can "push a commit and see a redeploy"), and print the new commit id.
#
# Usage: git-push-commit.sh REPO BRANCH [PATH SOURCE]
#        git-push-commit.sh --delete REPO BRANCH
#   REPO         stacks or private/stacks (as served by the git server), or the
#                absolute path of a bare repository
#   BRANCH       the branch to commit on; created from the default branch when
#                it does not exist yet
#   PATH SOURCE  replace PATH (relative to the top of the tree) with the
#                content of the file SOURCE, or of standard input for "-";
#                without them, the "# revision: N" line of each file that has
#                one (both stack files) is counted up
#   --delete     remove BRANCH instead
# The commit message is $PIER_COMMIT_MESSAGE when set.  The repository's
# post-update hook refreshes what the dumb HTTP protocol serves.
set -euo pipefail

# shellcheck source=tests/testbed/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    tb_usage "${BASH_SOURCE[0]}" >&2
    exit 2
}

GIT_ID=(-c user.name='pier testbed' -c user.email=testbed@pier.invalid -c commit.gpgsign=false)

DELETE=0
if [ "${1:-}" = --delete ]; then
    DELETE=1
    shift
fi
[ $# -eq 2 ] || [ $# -eq 4 ] || usage
[ "$DELETE" -eq 0 ] || [ $# -eq 2 ] || usage
REPO=$(tb_repo_dir "$1")
BRANCH=$2
if [ ! -d "$REPO" ] || ! git --git-dir="$REPO" rev-parse --git-dir >/dev/null 2>&1; then
    tb_die "no repository at $REPO"
fi
git check-ref-format --branch "$BRANCH" >/dev/null 2>&1 || tb_die "not a valid branch name: $BRANCH"

# One writer at a time per repository.
exec 9>"$REPO/pier-testbed.lock"
flock -w 60 9 || tb_die "could not lock $REPO"

if [ "$DELETE" -eq 1 ]; then
    git --git-dir="$REPO" branch -D "$BRANCH" >/dev/null
    git --git-dir="$REPO" update-server-info
    exit 0
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
TREE=$WORK/tree
if git --git-dir="$REPO" rev-parse -q --verify "refs/heads/$BRANCH" >/dev/null; then
    git clone -q --branch "$BRANCH" "$REPO" "$TREE"
else
    git clone -q "$REPO" "$TREE"
    git -C "$TREE" checkout -q -b "$BRANCH"
fi

if [ $# -eq 4 ]; then
    case $3 in
        /* | ../* | */../* | *.. | .git | .git/*) tb_die "PATH must stay inside the tree: $3" ;;
    esac
    mkdir -p "$(dirname "$TREE/$3")"
    if [ "$4" = - ]; then
        cat >"$TREE/$3"
    else
        cp "$4" "$TREE/$3"
    fi
else
    bumped=0
    while IFS= read -r file; do
        current=$(grep -m 1 -E '^# revision: [0-9]+$' "$TREE/$file")
        current=${current##* }
        sed -i "s/^# revision: [0-9][0-9]*\$/# revision: $((${current:-0} + 1))/" "$TREE/$file"
        bumped=1
    done < <(git -C "$TREE" grep -l -E '^# revision: [0-9]+$' || true)
    if [ "$bumped" -eq 0 ]; then
        date -u '+%Y-%m-%dT%H:%M:%S.%NZ' >"$TREE/.pier-revision"
    fi
fi

git -C "$TREE" add -A
git "${GIT_ID[@]}" -C "$TREE" commit -q --allow-empty -m "${PIER_COMMIT_MESSAGE:-pier testbed: new commit on $BRANCH}"
git -C "$TREE" push -q origin "HEAD:refs/heads/$BRANCH"
# The hook does this too; doing it here keeps repositories without it right.
git --git-dir="$REPO" update-server-info
git -C "$TREE" rev-parse HEAD
