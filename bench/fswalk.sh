#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmarks the fswalk probe against the three find(1) runs that answer the same questions
# (-perm -0002, -perm /6000, -nouser -o -nogroup, each with -xdev): on this machine's root
# filesystem and on a generated tree of 1,000,000 entries. Wall time, CPU time (user +
# system) and peak RSS, median of RUNS runs (default 5) after a warm-up run, page cache warm.
# Usage: bench/fswalk.sh [BUILD_DIR]     (needs GNU time; run as root for a complete walk)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
runs=${RUNS:-5}
posture=$build/posture
[ -x "$posture" ] || { echo "no $posture: build first" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "needs GNU time (apt-get install time)" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/posture-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
median() { LC_ALL=C sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

# measure NAME COMMAND...: prints "| NAME | wall s | cpu s | peak RSS KiB |" (medians).
measure() {
    local name=$1
    shift
    "$@" >/dev/null 2>&1 || true
    : >"$tmp/samples"
    for _ in $(seq "$runs"); do
        /usr/bin/time -f '%e %U %S %M' -o "$tmp/one" "$@" >/dev/null 2>&1 || true
        cat "$tmp/one" >>"$tmp/samples"
    done
    printf '| %-44s | %6s | %6s | %8s |\n' "$name" \
        "$(awk '{print $1}' "$tmp/samples" | median)" \
        "$(awk '{printf "%.2f\n", $2 + $3}' "$tmp/samples" | median)" \
        "$(awk '{print $4}' "$tmp/samples" | median)"
}

table() {
    local where=$1 what=$2
    echo
    echo "$what: $(find "$where" -xdev -printf x 2>/dev/null | wc -c) entries, median of $runs runs"
    echo
    echo "| command                                      | wall s | cpu s  | peak RSS KiB |"
    echo "|----------------------------------------------|--------|--------|--------------|"
    measure "posture probe fswalk (all questions)" "$posture" probe fswalk --arg "roots=$where" --format json
    measure "find -xdev -perm -0002" find "$where" -xdev -perm -0002
    measure "find -xdev -perm /6000" find "$where" -xdev -perm /6000
    measure "find -xdev ( -nouser -o -nogroup )" find "$where" -xdev '(' -nouser -o -nogroup ')'
}

table / "this machine's root filesystem"

echo
echo "generating 1,000,000 entries under $tmp/tree ..." >&2
mkdir -p "$tmp/tree"
for d in $(seq 0 999); do
    mkdir "$tmp/tree/d$d"
    (cd "$tmp/tree/d$d" && seq 999 | xargs touch)
done
chmod 0666 "$tmp/tree/d500/500"
table "$tmp/tree" "a generated tree"
