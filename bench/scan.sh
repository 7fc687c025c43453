#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmarks full scans: the configuration checks of the debian-baseline policy alone, and
# all default policies (with the filesystem-wide walk of debian-filesystem), on this host and
# on the Debian 12 root the tests build. Wall time and peak RSS, median of RUNS runs
# (default 51). Scans keep their policy cache in a state directory of their own, warmed by
# the first run; one case shows the same scan without the cache (no state directory).
# docs/performance.md records the figures with this command.
# Usage: bench/scan.sh [BUILD_DIR] (default build/, a release build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
runs=${RUNS:-51}
posture=$build/posture
[ -x "$posture" ] || { echo "no $posture: build first (cmake -S . -B build && cmake --build build)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "needs GNU time (apt-get install time)" >&2; exit 2; }
own_rss=$build/tests/own_rss
[ -x "$own_rss" ] || { echo "no $own_rss: build with the tests (POSTURE_TESTS=ON)" >&2; exit 2; }

median() { LC_ALL=C sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

# bench NAME ARGS...: one warm-up run, then RUNS timed runs of `posture scan ARGS`; the wall
# time comes from bash's microsecond clock ($EPOCHREALTIME, read without starting a process)
# around each run, so it is fork, exec and the run. Peak RSS twice: posture's own (VmHWM as
# it exits, tests/tools/own_rss.c), and GNU time's %M, which is the largest of posture and
# the programs it runs (sshd -T). Posture's own CPU time (not that of sshd -T and the other
# programs) from perf's task-clock without inheritance, when perf is installed.
bench() {
    local name=$1 start end cpu=-
    shift
    "$posture" scan "$@" --format json --output /dev/null
    : >"$tmp/wall"
    : >"$tmp/rss"
    : >"$tmp/own"
    : >"$tmp/cpu"
    for _ in $(seq "$runs"); do
        start=${EPOCHREALTIME//[!0-9]/}
        "$posture" scan "$@" --format json --output /dev/null
        end=${EPOCHREALTIME//[!0-9]/}
        echo $((end - start)) >>"$tmp/wall"
        /usr/bin/time -f '%M' -o "$tmp/one" "$posture" scan "$@" --format json --output /dev/null
        cat "$tmp/one" >>"$tmp/rss"
        "$own_rss" "$tmp/one" "$posture" scan "$@" --format json --output /dev/null
        cat "$tmp/one" >>"$tmp/own"
        if [ -n "$perf" ]; then
            "$perf" stat --no-inherit -x, -e task-clock -o "$tmp/one" \
                "$posture" scan "$@" --format json --output /dev/null
            awk -F, '$3 == "task-clock" {print $1}' "$tmp/one" >>"$tmp/cpu"
        fi
    done
    [ -s "$tmp/cpu" ] && cpu=$(median <"$tmp/cpu" | awk '{printf "%.2f", $1}')
    printf '| %-36s | %7s | %9s | %14s | %9s |\n' "$name" \
        "$(median <"$tmp/wall" | awk '{printf "%.2f", $1 / 1000}')" "$(median <"$tmp/own")" \
        "$(median <"$tmp/rss")" "$cpu"
}

perf=$(command -v perf || true)
if [ -n "$perf" ] && ! "$perf" stat -e task-clock -o /dev/null true 2>/dev/null; then
    perf=
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/state"
printf 'state_dir: %s\n' "$tmp/state" >"$tmp/posture.yaml"
printf 'state_dir: %s\n' "$tmp/no-state" >"$tmp/no-cache.yaml"
cached=(--config "$tmp/posture.yaml")
echo "posture $("$posture" version | cut -d' ' -f2), $(nproc) cores, median of $runs runs"
echo
echo "| case                                 | wall ms | RSS KiB   | RSS KiB with   | CPU ms    |"
echo "|                                      |         | (posture) | its programs   | (posture) |"
echo "|--------------------------------------|---------|-----------|----------------|-----------|"
baseline=config/policies/debian-baseline.yaml
bench "this host, debian-baseline only" "${cached[@]}" --policy "$baseline"
bench "the same, without the policy cache" --config "$tmp/no-cache.yaml" --policy "$baseline"
bench "this host, all default policies" "${cached[@]}"
root=build/cache/debian-bookworm
if [ -d "$root" ]; then
    bench "Debian 12 root, debian-baseline only" "${cached[@]}" --root "$root" --policy "$baseline"
    bench "Debian 12 root, all default policies" "${cached[@]}" --root "$root"
fi
# what starting a process costs, measured the same way
: >"$tmp/wall"
for _ in $(seq "$runs"); do
    start=${EPOCHREALTIME//[!0-9]/}
    /bin/true
    end=${EPOCHREALTIME//[!0-9]/}
    echo $((end - start)) >>"$tmp/wall"
done
printf '| %-36s | %7s | %9s | %14s | %9s |\n' "/bin/true (starting a process)" \
    "$(median <"$tmp/wall" | awk '{printf "%.2f", $1 / 1000}')" - - -
