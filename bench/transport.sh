#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmarks what the agent does per report before delivery, as `posture scan --send` does
# it: the durable sequence number, the ES256 signature of the JSON report (JWS) and the
# durable spool write (temp file, fsync, rename, fsync of the folder, drop counter). The
# report is a real one: `posture scan --format json` of the lax fixture root with
# the shipped policies. RUNS reports (default 501); prints the median, p99 and maximum.
# STATE_DIR (default a temp folder under /var/tmp, a disk) decides which filesystem is timed.
# docs/performance.md records the figures with this command.
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
"$posture" scan --root "$root" --format json --output "$tmp/report.json" || true
echo "report: $(wc -c <"$tmp/report.json") bytes of JSON, $(jq '.results | length' "$tmp/report.json") results"
echo "state on: $(df --output=fstype "$tmp" | tail -1) ($tmp)"
"$bench" "$tmp/state" "$tmp/report.json" "$runs"
