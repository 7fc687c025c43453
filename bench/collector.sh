#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmarks collector ingest on loopback: HOSTS enrolled hosts (default 16) POST signed
# reports at once over mutual TLS, each host its reports one after another; reports per second
# and latency percentiles from tests/collector_load (libcurl multi). Three cases: a small
# report (this host's scan without its results[], what the fleet score needs) on kept-alive
# connections, the same with a new TLS connection per report, and this host's full report.
# The collector's own CPU time per report (from /proc) shows its cost apart from the load
# generator's, which shares the machine. Each case runs RUNS times (default 3) on a fresh state directory; the medians are printed.
# docs/performance.md records the figures with this command.
# Usage: bench/collector.sh [BUILD_DIR] (default build/, a release build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
runs=${RUNS:-3}
hosts=${HOSTS:-16}
collector=$build/posture-collector posture=$build/posture load=$build/tests/collector_load
for b in "$collector" "$posture" "$load"; do
    [ -x "$b" ] || { echo "build first: cmake -S . -B build && cmake --build build" >&2; exit 2; }
done

median() { LC_ALL=C sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
tmp=$(mktemp -d)
pid=
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT

"$posture" scan --format json --output "$tmp/full.json" || true
jq '.results = []' "$tmp/full.json" >"$tmp/small.json"

# fresh_collector: a new state directory, HOSTS enrolled with openssl and curl, serve started.
fresh_collector() {
    local state=$tmp/state token port
    if [ -n "$pid" ]; then kill "$pid"; wait "$pid" 2>/dev/null || true; pid=; fi
    rm -rf "$state" "$tmp/hosts"
    mkdir -p "$tmp/hosts"
    "$collector" init --state-dir "$state" --name 127.0.0.1 >/dev/null
    token=$("$collector" token create --state-dir "$state" --uses "$hosts")
    # emptied here, not by the child's redirection, which may come after the first read below
    : >"$tmp/serve.out"
    "$collector" serve --state-dir "$state" --listen 127.0.0.1:0 --max-connections 512 \
        --per-ip 512 >"$tmp/serve.out" 2>"$tmp/serve.err" &
    pid=$!
    port=
    for _ in $(seq 1 300); do
        port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$tmp/serve.out")
        [ -n "$port" ] && break
        sleep 0.1
    done
    [ -n "$port" ] || { echo "the collector did not start: $(cat "$tmp/serve.err")" >&2; exit 1; }
    URL=https://127.0.0.1:$port/v1/reports CA=$state/ca.crt
    for i in $(seq 1 "$hosts"); do
        openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/hosts/h$i.key" 2>/dev/null
        openssl req -new -key "$tmp/hosts/h$i.key" -subj "/CN=h$i" -out "$tmp/hosts/h$i.csr"
        jq -n --arg t "$token" --rawfile c "$tmp/hosts/h$i.csr" '{token: $t, csr: $c}' |
            curl -sS --cacert "$CA" --data-binary @- "https://127.0.0.1:$port/v1/enroll" >"$tmp/resp"
        jq -r .certificate "$tmp/resp" >"$tmp/hosts/h$i.crt"
        jq -r .host_id "$tmp/resp" >"$tmp/hosts/h$i.id"
    done
}

# CPU seconds (user + system) the collector has used so far.
server_cpu() {
    awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$pid/stat"
}

# run NAME PAYLOAD REPORTS_PER_HOST [fresh]
run() {
    local name=$1 payload=$2 per=$3 mode=${4:-}
    : >"$tmp/$name.txt"
    for _ in $(seq 1 "$runs"); do
        fresh_collector
        before=$(server_cpu)
        line=$("$load" "$URL" "$CA" "$tmp/hosts" "$hosts" "$per" "$payload" $mode)
        after=$(server_cpu)
        echo "$line cpu_ms $(awk -v a="$before" -v b="$after" -v n="$((hosts * per))" 'BEGIN {printf "%.3f", (b - a) * 1000 / n}')" >>"$tmp/$name.txt"
    done
    field() { awk -v k="$1" '{for (i = 1; i < NF; i++) if ($i == k) print $(i + 1)}' "$tmp/$name.txt" | median; }
    printf '%-26s %5s reports %7s reports/s  p50 %7s ms  p99 %7s ms  server CPU %6s ms/report  body %6s B  failed %s\n' \
        "$name" "$(field reports)" "$(field reports_per_s)" "$(field p50_ms)" "$(field p99_ms)" \
        "$(field cpu_ms)" "$(field body_bytes)" "$(field failed)"
}

echo "collector ingest, $hosts concurrent hosts, median of $runs runs, $(nproc) CPUs"
run "small, kept-alive" "$tmp/small.json" "${SMALL_REPORTS:-250}"
run "small, new TLS per report" "$tmp/small.json" "${FRESH_REPORTS:-60}" fresh
run "full report, kept-alive" "$tmp/full.json" "${FULL_REPORTS:-15}"
