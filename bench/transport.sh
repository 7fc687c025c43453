#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmarks what the agent does per report before delivery, as `posture scan --send` does
# it: the durable sequence number, the ES256 signature of the JSON report (JWS) and the
# durable spool write (temp file, fsync, rename, fsync of the folder). The reports are real
# ones: `posture scan --format json` of the lax fixture root with the shipped policies, whole
# (220 results) and with `--only secure-management-ports` (24 results), to show how the cost
# follows the size. RUNS reports each (default 501); prints the median, p99 and maximum.
# STATE_PARENT (default /var/tmp, a disk) decides which filesystem is timed: /dev/shm
# (tmpfs) leaves the computation alone. docs/performance.md records the figures.
# Usage: bench/transport.sh [BUILD_DIR] (default build/, a release build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
runs=${RUNS:-501}
posture=$build/posture bench=$build/tests/transport_bench
[ -x "$posture" ] && [ -x "$bench" ] || { echo "build first: cmake -S . -B build && cmake --build build" >&2; exit 2; }

tmp=$(mktemp -d "${STATE_PARENT:-/var/tmp}/posture-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
cp -a tests/data/roots/lax "$root"
"$posture" scan --root "$root" --format json --output "$tmp/full.json" || true
"$posture" scan --root "$root" --format json --output "$tmp/small.json" \
    --only secure-management-ports || true
echo "state on: $(df --output=fstype "$tmp" | tail -1) ($tmp)"
for r in full small; do
    echo "$r report: $(wc -c <"$tmp/$r.json") bytes of JSON, $(jq '.results | length' "$tmp/$r.json") results"
    "$bench" "$tmp/state-$r" "$tmp/$r.json" "$runs"
done
