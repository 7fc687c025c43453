#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmarks the firewall probe on a ruleset of RULES rules (default 10,000: one inet table,
# each rule a source address and a port) loaded into a network namespace of its own: the
# whole `posture probe firewall` process run inside the namespace, and, for comparison, the
# listings nft itself makes of the same ruleset. Median of RUNS runs (default 31), wall time
# from the nanosecond clock around each process (the namespace is entered once, by a shell
# that then runs them all). docs/performance.md records the figures with this command.
# Usage: bench/firewall.sh [BUILD_DIR] (default build/, a release build); as root.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
runs=${RUNS:-31}
rules=${RULES:-10000}
posture=$(realpath "$build/posture")
[ -x "$posture" ] || { echo "build first: cmake -S . -B build && cmake --build build" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "run as root (network namespaces)" >&2; exit 2; }

tmp=$(mktemp -d)
ns=pstbench-$$
trap 'ip netns del "$ns" 2>/dev/null || true; rm -rf "$tmp"' EXIT
{
    echo 'table inet big {'
    echo 'chain input { type filter hook input priority 0; policy drop;'
    for i in $(seq 1 "$rules"); do
        echo "ip saddr 10.$((i / 250 % 250)).$((i % 250)).1 tcp dport $((i % 60000 + 1)) accept"
    done
    echo '}'
    echo '}'
} >"$tmp/ruleset.nft"
ip netns add "$ns"
ip netns exec "$ns" nft -f "$tmp/ruleset.nft"

ip netns exec "$ns" bash -s "$runs" "$posture" "$tmp" <<'INNER'
set -euo pipefail
runs=$1 posture=$2 tmp=$3
median() { LC_ALL=C sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
time_runs() {
    : >"$tmp/wall"
    "$@" >/dev/null 2>&1 || true
    for _ in $(seq "$runs"); do
        local start end
        start=$(date +%s%N)
        "$@" >/dev/null 2>&1 || true
        end=$(date +%s%N)
        echo $(((end - start) / 1000)) >>"$tmp/wall"
    done
    median <"$tmp/wall" | awk '{printf "%.2f", $1 / 1000}'
}
echo "posture $("$posture" version | cut -d' ' -f2), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
echo "rules: $("$posture" probe firewall --format json | jq -r '.facts.base_chains.value[0]')"
echo
echo "| case | wall ms (median of $runs) |"
echo "| --- | --- |"
echo "| \`posture probe firewall\` (netlink read, all verdicts) | $(time_runs "$posture" probe firewall --format json) |"
echo "| \`nft list ruleset\` | $(time_runs nft list ruleset) |"
echo "| \`nft -j list ruleset\` | $(time_runs nft -j list ruleset) |"
echo "| \`/bin/true\` (process start) | $(time_runs /bin/true) |"
echo "load after: $(cut -d' ' -f1 /proc/loadavg)"
INNER
