#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmarks loading the debian-baseline policy alone: page faults and CPU time of
# build/tests/policy_load (configuration and policy) less the same without the policy load,
# with the policy cache warm (a state directory of its own) and without it (none). perf stat
# -r RUNS (default 31) each, means; then callgrind's instructions of the load when valgrind
# is installed. docs/performance.md records the figures.
# Usage: bench/policy_load.sh [BUILD_DIR] (default build/, a release build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
runs=${RUNS:-31}
tool=$build/tests/policy_load
policy=config/policies/debian-baseline.yaml
[ -x "$tool" ] || { echo "no $tool: build first (cmake -S . -B build && cmake --build build)" >&2; exit 2; }
command -v perf >/dev/null || { echo "needs perf (apt-get install linux-perf)" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/state"
printf 'state_dir: %s\n' "$tmp/state" >"$tmp/cached.yaml"
printf 'state_dir: %s\n' "$tmp/no-state" >"$tmp/uncached.yaml"
# a policy file changed in the last two seconds is not cached: a copy, then two seconds
cp "$policy" "$tmp/policy.yaml"
sleep 2.1

# stat ARGS...: "faults ms" of `tool ARGS`, means of RUNS runs
stat() {
    "$tool" "$@"
    perf stat -r "$runs" -x, -e page-faults,task-clock "$tool" "$@" 2>&1 >/dev/null |
        awk -F, '$3 == "page-faults" {f = $1} $3 == "task-clock" {t = $1} END {printf "%d %.2f", f, t}'
}
echo "| case | page faults | CPU ms | instructions |"
echo "| --- | --- | --- | --- |"
for cfg in cached uncached; do
    read -r f1 t1 <<<"$(stat "$tmp/$cfg.yaml" "$tmp/policy.yaml")"
    read -r f0 t0 <<<"$(stat "$tmp/$cfg.yaml" "$tmp/policy.yaml" --skip)"
    ir=-
    if command -v valgrind >/dev/null; then
        valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" "$tool" "$tmp/$cfg.yaml" \
            "$tmp/policy.yaml" 2>/dev/null
        ir=$(callgrind_annotate --inclusive=yes "$tmp/cg" |
            awk '/config\/policy.c:pst_policy_load / && !done {gsub(",", "", $1); printf "%.2f M", $1 / 1e6; done = 1}')
    fi
    echo "| debian-baseline, $cfg | $((f1 - f0)) | $(awk -v a="$t1" -v b="$t0" 'BEGIN {printf "%.2f", a - b}') | $ir |"
done
