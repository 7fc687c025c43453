#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmarks full scans: the configuration checks of the debian-baseline policy alone, and
# all default policies (with the filesystem-wide walk of debian-filesystem), on this host and
# on the Debian 12 root the tests build. Wall time and peak RSS, median of RUNS runs
# (default 51). docs/performance.md records the figures with this command.
# Usage: bench/scan.sh [BUILD_DIR] (default build/, a release build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
runs=${RUNS:-51}
posture=$build/posture
[ -x "$posture" ] || { echo "no $posture: build first (cmake -S . -B build && cmake --build build)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "needs GNU time (apt-get install time)" >&2; exit 2; }

median() { LC_ALL=C sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

# bench NAME ARGS...: one warm-up run, then RUNS timed runs of `posture scan ARGS`; the wall
# time comes from the nanosecond clock around each run, the peak RSS from GNU time's %M.
bench() {
    local name=$1 start end
    shift
    "$posture" scan "$@" --format json --output /dev/null
    : >"$tmp/wall"
    : >"$tmp/rss"
    for _ in $(seq "$runs"); do
        start=$(date +%s%N)
        "$posture" scan "$@" --format json --output /dev/null
        end=$(date +%s%N)
        echo $(((end - start) / 1000)) >>"$tmp/wall"
        /usr/bin/time -f '%M' -o "$tmp/one" "$posture" scan "$@" --format json --output /dev/null
        cat "$tmp/one" >>"$tmp/rss"
    done
    printf '| %-36s | %7s | %12s |\n' "$name" "$(median <"$tmp/wall" | awk '{printf "%.2f", $1 / 1000}')" \
        "$(median <"$tmp/rss")"
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "posture $("$posture" version | cut -d' ' -f2), $(nproc) cores, median of $runs runs"
echo
echo "| case                                 | wall ms | peak RSS KiB |"
echo "|--------------------------------------|---------|--------------|"
baseline=config/policies/debian-baseline.yaml
bench "this host, debian-baseline only" --policy "$baseline"
bench "this host, all default policies" 
root=build/cache/debian-bookworm
if [ -d "$root" ]; then
    bench "Debian 12 root, debian-baseline only" --root "$root" --policy "$baseline"
    bench "Debian 12 root, all default policies" --root "$root"
fi
