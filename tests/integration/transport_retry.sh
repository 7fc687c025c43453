#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Retries, against a stand-in collector that answers every request the same way (a small
# HTTPS server with the real collector's certificate): a 503 with Retry-After keeps the
# reports spooled, in order, and `posture run` waits at least Retry-After between attempts
# even with a 100 ms backoff; a 500 without it is retried at the backoff's pace; then the
# real collector takes all of them, in order, once.
source "$SRC/tests/integration/lib.sh"
source "$SRC/tests/integration/transport_lib.sh"
: "${HTTP_STUB:?HTTP_STUB must name the http_stub test tool}"

c=$WORK/collector
a=$WORK/agent
root=$WORK/root
rm -rf "$a" "$WORK/collector.log" "$WORK"/stub*.log
build_root lax "$root"
init_collector "$c"
start_collector "$c"
enroll "$c" "$a"
host=$(cat "$a/host_id")
stop_collector

stub_pid=
trap 'stop_collector; [ -z "$stub_pid" ] || kill "$stub_pid" 2>/dev/null || true' EXIT
# start_stub STATUS RETRY_AFTER LOG: the stand-in on $port.
start_stub() {
    "$HTTP_STUB" "$port" "$c/server.crt" "$c/server.key" "$1" "$2" "$3" 2>>"$WORK/stub.err" &
    stub_pid=$!
    for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
}
stop_stub() {
    kill "$stub_pid" 2>/dev/null || true
    wait "$stub_pid" 2>/dev/null || true
    stub_pid=
}
cat >"$WORK/retry.yaml" <<YAML
collector:
  backoff: {base: 100ms, cap: 200ms}
  interval: 1h
YAML
requests() { if [ -e "$1" ]; then wc -l <"$1"; else echo 0; fi; }

# 503 with Retry-After: 2 (seconds).
start_stub 503 2 "$WORK/stub503.log"
expect_exit "scan --send to a busy collector" 3 "$POSTURE" scan --root "$root" --send \
    --state-dir "$a" --config "$WORK/retry.yaml" --output /dev/null
grep -q "HTTP 503 busy: the stub always answers this" "$WORK/err" || fail "503 reason: $(cat "$WORK/err")"
grep -q "retry later" "$WORK/err" || fail "Retry-After not reported: $(cat "$WORK/err")"
expect_exit "send to a busy collector" 3 "$POSTURE" send --state-dir "$a" --config "$WORK/retry.yaml"
expect_eq "503 keeps the report" "00000000000000000001.jws" "$(ls "$a/spool")"
expect_eq "one request each" 2 "$(requests "$WORK/stub503.log")"
expect_eq "requests are POST /v1/reports" "POST /v1/reports HTTP/1.1" "$(cut -d' ' -f2- "$WORK/stub503.log" | sort -u)"

: >"$WORK/stub503.log"
"$POSTURE" run --root "$root" --state-dir "$a" --config "$WORK/retry.yaml" 2>"$WORK/run.err" &
run_pid=$!
# wait_requests LOG N: until LOG has N requests (at most 15 s).
wait_requests() {
    for _ in $(seq 1 300); do [ "$(requests "$1")" -ge "$2" ] && return 0; sleep 0.05; done
    return 1
}
wait_requests "$WORK/stub503.log" 3 || fail "run made $(requests "$WORK/stub503.log") requests in 15 s: $(cat "$WORK/run.err")"
kill -TERM "$run_pid"
wait "$run_pid" || fail "run did not exit 0 on SIGTERM"
# Each retry at least Retry-After (2 s) after the one before, though the backoff is 100-200 ms.
prev=
while read -r ms _; do
    if [ -n "$prev" ] && [ $((ms - prev)) -lt 1900 ]; then
        fail "run retried after $((ms - prev)) ms despite Retry-After: 2"
    fi
    prev=$ms
done <"$WORK/stub503.log"
stop_stub

# 500 without Retry-After: retried at the backoff's pace (100 ms base, 200 ms cap).
start_stub 500 - "$WORK/stub500.log"
"$POSTURE" run --root "$root" --state-dir "$a" --config "$WORK/retry.yaml" 2>"$WORK/run.err" &
run_pid=$!
wait_requests "$WORK/stub500.log" 6 || fail "run made $(requests "$WORK/stub500.log") requests in 15 s: $(cat "$WORK/run.err")"
kill -TERM "$run_pid"
wait "$run_pid" || fail "run did not exit 0 on SIGTERM"
first=$(head -1 "$WORK/stub500.log" | cut -d' ' -f1)
sixth=$(sed -n 6p "$WORK/stub500.log" | cut -d' ' -f1)
# Five retries at a 200 ms cap: well under the 10 s that Retry-After pacing would take.
[ $((sixth - first)) -lt 5000 ] || fail "five retries took $((sixth - first)) ms with a 200 ms cap"
stop_stub
expect_eq "nothing dead-lettered by 503 or 500" "" "$(ls "$a/dead-letter")"
expect_eq "every report kept, in order" \
    "00000000000000000001.jws 00000000000000000002.jws 00000000000000000003.jws" \
    "$(ls "$a/spool" | tr '\n' ' ' | sed 's/ $//')"

# The real collector, on the same address: all three, in order, once.
start_collector "$c" "$port"
expect_exit "send to the real collector" 0 "$POSTURE" send --state-dir "$a" --config "$WORK/retry.yaml"
expect_eq "stored in order, once" "1 2 3" "$(stored_seqs "$c" "$host")"

finish
