#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmarks the packages probe: reading dpkg's status and every package list of this host
# (the Debian 12 main list alone is about 63,000 stanzas, kept lz4-compressed here) and
# computing the upgradable packages, against `apt list --upgradable` answering the same
# question from the same lists; and the probe on the Debian 12 root the tests build (its
# main list kept uncompressed, 50 MB). Wall time and peak RSS, median of RUNS runs (default
# 21). docs/performance.md records the figures with this command.
# Usage: bench/packages.sh [BUILD_DIR] (default build/, a release build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
runs=${RUNS:-21}
posture=$build/posture
[ -x "$posture" ] || { echo "no $posture: build first (cmake -S . -B build && cmake --build build)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "needs GNU time (apt-get install time)" >&2; exit 2; }

median() { LC_ALL=C sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

# bench NAME COMMAND...: one warm-up run, then RUNS timed runs; wall time from the
# nanosecond clock around each run, peak RSS from GNU time's %M.
bench() {
    local name=$1 start end
    shift
    "$@" >/dev/null 2>&1
    : >"$tmp/wall"
    : >"$tmp/rss"
    for _ in $(seq "$runs"); do
        start=$(date +%s%N)
        "$@" >/dev/null 2>&1
        end=$(date +%s%N)
        echo $(((end - start) / 1000)) >>"$tmp/wall"
        /usr/bin/time -f '%M' -o "$tmp/one" "$@" >/dev/null 2>&1
        cat "$tmp/one" >>"$tmp/rss"
    done
    printf '| %-44s | %7s | %12s |\n' "$name" "$(median <"$tmp/wall" | awk '{printf "%.1f", $1 / 1000}')" \
        "$(median <"$tmp/rss")"
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
stanzas=0
for f in /var/lib/apt/lists/*_Packages*; do
    case $f in
    *.lz4) n=$(lz4 -dc "$f" | grep -c '^Package:') ;;
    *.gz) n=$(gzip -dc "$f" | grep -c '^Package:') ;;
    *.xz) n=$(xz -dc "$f" | grep -c '^Package:') ;;
    *) n=$(grep -c '^Package:' "$f") ;;
    esac
    stanzas=$((stanzas + n))
done
echo "posture $("$posture" version | cut -d' ' -f2), $(nproc) cores, median of $runs runs"
echo "this host: $(ls /var/lib/apt/lists/*_Packages* | wc -l) lists, $stanzas stanzas, $(dpkg-query -W -f '${db:Status-Status}\n' | grep -cx installed) installed packages"
echo
echo "| case                                         | wall ms | peak RSS KiB |"
echo "|----------------------------------------------|---------|--------------|"
bench "posture probe packages (this host)" "$posture" probe packages --format json
bench "apt list --upgradable (this host)" apt list --upgradable
root=build/cache/debian-bookworm
if [ -d "$root" ]; then
    bench "posture probe packages (Debian 12 root)" "$posture" probe packages --root "$root" --format json
fi
