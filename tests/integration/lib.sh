# SPDX-License-Identifier: Apache-2.0
# Shared helpers of the integration tests: fixture roots, assertions, clear failures.
# Each test script is run by ctest with POSTURE (the binary), SRC (the source tree) and
# WORK (a scratch directory of its own) in the environment.
set -euo pipefail

: "${POSTURE:?POSTURE must name the posture binary}"
: "${SRC:?SRC must name the source tree}"
: "${WORK:?WORK must name a scratch directory}"

mkdir -p "$WORK"
failures=0

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# Builds fixture root NAME from tests/data/roots/NAME and its .modes manifest into DEST.
# Owners and modes are not kept by git, so the manifest sets them.
build_root() {
    local name=$1 dest=$2 mode owner path kind
    rm -rf "$dest"
    cp -a "$SRC/tests/data/roots/$name" "$dest"
    chown -R -h 0:0 "$dest"
    find "$dest" -type d -exec chmod 0755 {} +
    find "$dest" -type f -exec chmod 0644 {} +
    # apt lists as if just refreshed: a Release without a Date is as old as its file
    if [ -d "$dest/var/lib/apt/lists" ]; then
        find "$dest/var/lib/apt/lists" -type f -exec touch {} +
    fi
    while read -r kind mode owner path; do
        case "$kind" in
        '#'* | '') continue ;;
        dir) mkdir -p "$dest$path" ;;
        *) path=$owner owner=$mode mode=$kind ;;
        esac
        # never through a symlink: it could point at this machine's own files
        if [ -L "$dest$path" ]; then
            echo "build_root: $name.modes names a symlink: $path" >&2
            exit 1
        fi
        chown -h "$owner" "$dest$path"
        chmod "$mode" "$dest$path"
    done <"$SRC/tests/data/roots/$name.modes"
}

# expect_eq WHAT EXPECTED ACTUAL
expect_eq() {
    if [ "$2" != "$3" ]; then
        fail "$1: expected '$2', got '$3'"
    fi
}

# expect_exit WHAT CODE COMMAND...: runs COMMAND, checks its exit code.
expect_exit() {
    local what=$1 want=$2 got=0
    shift 2
    "$@" >"$WORK/out" 2>"$WORK/err" || got=$?
    if [ "$got" != "$want" ]; then
        fail "$what: exit code $got, expected $want (stderr: $(head -c 600 "$WORK/err"))"
    fi
}

finish() {
    if [ "$failures" -ne 0 ]; then
        echo "$failures check(s) failed" >&2
        exit 1
    fi
    echo "all checks passed"
}
