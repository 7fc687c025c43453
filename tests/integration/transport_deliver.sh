#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Signed reports from `posture scan --send` and `posture send` to a real posture-collector on
# loopback: the signature checked by openssl and by `posture verify`; three scans while the
# collector is down, all three delivered in order exactly once when it is back; a report the
# collector has already (409), a revoked host (dead-letter), the spool's bounds and the drop
# count carried by the next report, and a configured proxy actually used.
source "$SRC/tests/integration/lib.sh"
source "$SRC/tests/integration/transport_lib.sh"

c=$WORK/collector
a=$WORK/agent
b=$WORK/agent-b
root=$WORK/root
rm -rf "$a" "$b" "$WORK/saved" "$WORK/collector.log" "$WORK"/agent-vg*
mkdir -p "$WORK/saved"
build_root lax "$root"
init_collector "$c"
start_collector "$c"
enroll "$c" "$a"
enroll "$c" "$b"
host=$(cat "$a/host_id")
scan_send() {
    "$POSTURE" scan --root "$root" --send --state-dir "$a" --format json --output "$WORK/report.json" "$@"
}

# 1. Delivered at once: stored by the collector, the spool empty, the report as scanned.
expect_exit "scan --send with the collector up" 0 scan_send
expect_eq "stored after one scan" "1" "$(stored_seqs "$c" "$host")"
expect_eq "spool empty after delivery" "" "$(ls "$a/spool")"
stored_jws "$c" "$host" 1 >"$WORK/saved/1.jws"
payload "$WORK/saved/1.jws" >"$WORK/payload.json"
expect_eq "payload host_id" "$host" "$(jq -r .host_id "$WORK/payload.json")"
expect_eq "payload seq" 1 "$(jq -r .seq "$WORK/payload.json")"
expect_eq "payload spool_dropped" 0 "$(jq -r .spool_dropped "$WORK/payload.json")"
expect_eq "payload is the scanned report" "$(jq -S 'del(.host_id, .seq, .spool_dropped)' "$WORK/payload.json")" \
    "$(jq -S . "$WORK/report.json")"
header=$(cut -d. -f1 <"$WORK/saved/1.jws" | b64url_decode)
expect_eq "JWS header" '"ES256" "posture-report+jws"' "$(jq -c '[.alg, .typ]' <<<"$header" | tr -d '[]' | tr , ' ')"
kid=$(openssl x509 -in "$a/cert.pem" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1)
expect_eq "JWS kid is the SHA-256 of the certificate's SubjectPublicKeyInfo" "$kid" "$(jq -r .kid <<<"$header")"

# 2. The signature, checked independently with openssl, and with posture verify.
openssl_verify "$WORK/saved/1.jws" "$a/cert.pem" || fail "openssl does not verify the ES256 signature"
if openssl_verify "$WORK/saved/1.jws" "$b/cert.pem" 2>/dev/null; then
    fail "openssl verifies the report with another host's key"
fi
# One payload character changed, still well-formed base64url: only the signature can tell.
jws1=$(cat "$WORK/saved/1.jws")
h=${jws1%%.*}
c10=${jws1:${#h}+11:1}
printf '%s' "${jws1:0:${#h}+11}$([ "$c10" = A ] && echo B || echo A)${jws1:${#h}+12}" >"$WORK/saved/tampered.jws"
if openssl_verify "$WORK/saved/tampered.jws" "$a/cert.pem" 2>/dev/null; then
    fail "openssl verifies a tampered payload"
fi
expect_exit "posture verify a valid report" 0 "$POSTURE" verify "$WORK/saved/1.jws" --state-dir "$a"
expect_eq "posture verify prints the verdict" "host_id $host|seq 1|policy debian-baseline|valid" \
    "$(grep -v '^kid' "$WORK/out" | tr '\n' '|' | sed 's/|$//')"
expect_exit "posture verify --cert" 0 "$POSTURE" verify "$WORK/saved/1.jws" --cert "$a/cert.pem"
expect_exit "posture verify, another host's certificate" 1 "$POSTURE" verify "$WORK/saved/1.jws" --cert "$b/cert.pem"
expect_exit "posture verify, tampered payload" 1 "$POSTURE" verify "$WORK/saved/tampered.jws" --cert "$a/cert.pem"
expect_exit "posture verify, missing file" 2 "$POSTURE" verify "$WORK/nothing.jws" --cert "$a/cert.pem"
expect_exit "posture verify, no file" 2 "$POSTURE" verify --cert "$a/cert.pem"

# 3. The collector stopped while three scans are sent, then started: all three arrive, in
# order, exactly once.
stop_collector
for i in 1 2 3; do
    expect_exit "scan --send $i with the collector down" 3 scan_send
    grep -q "could not be delivered; it is spooled" "$WORK/err" || fail "scan $i: $(cat "$WORK/err")"
done
expect_eq "three reports spooled, in order" \
    "00000000000000000002.jws 00000000000000000003.jws 00000000000000000004.jws" "$(ls "$a/spool" | tr '\n' ' ' | sed 's/ $//')"
cp "$a"/spool/*.jws "$WORK/saved/"
expect_exit "send with the collector down" 3 "$POSTURE" send --state-dir "$a"
start_collector "$c" "$port"
expect_exit "send with the collector back" 0 "$POSTURE" send --state-dir "$a"
grep -q "delivered 3 report(s)" "$WORK/err" || fail "send: $(cat "$WORK/err")"
expect_eq "stored: each report once, in order" "1 2 3 4" "$(stored_seqs "$c" "$host")"
for seq in 2 3 4; do
    expect_eq "report $seq stored as spooled" "$(cat "$WORK/saved/0000000000000000000$seq.jws")" \
        "$(stored_jws "$c" "$host" "$seq")"
done
expect_eq "spool empty" "" "$(ls "$a/spool")"
expect_exit "send with an empty spool" 0 "$POSTURE" send --state-dir "$a"

# 4. A report the collector already holds (a delivery whose answer was lost): 409, deleted.
cp "$WORK/saved/00000000000000000003.jws" "$a/spool/"
expect_exit "send a report the collector has" 0 "$POSTURE" send --state-dir "$a"
grep -q "1 already held by the collector" "$WORK/err" || fail "409: $(cat "$WORK/err")"
expect_eq "spool empty after 409" "" "$(ls "$a/spool")"
expect_eq "still stored once" "1 2 3 4" "$(stored_seqs "$c" "$host")"

# 5. The spool's bounds: at most 2 reports; the oldest dropped, the next report counts them.
cat >"$WORK/posture.yaml" <<YAML
state_dir: $a
collector:
  spool: {max_reports: 2}
  backoff: {base: 1s, cap: 10s}
YAML
stop_collector
for i in 1 2 3 4; do
    expect_exit "bounded scan $i, collector down" 3 scan_send --config "$WORK/posture.yaml"
done
grep -q "the spool is full: dropped the 1 oldest" "$WORK/err" || fail "drop message: $(cat "$WORK/err")"
expect_eq "bounded spool keeps the newest two" "00000000000000000007.jws 00000000000000000008.jws" \
    "$(ls "$a/spool" | tr '\n' ' ' | sed 's/ $//')"
# 5 and 6 were dropped: report 8 counts the first drop, the counter holds the second.
expect_eq "report 8 carries one drop" 1 "$(payload "$a/spool/00000000000000000008.jws" | jq .spool_dropped)"
expect_eq "drop counter" 1 "$(cat "$a/spool_dropped")"
start_collector "$c" "$port"
expect_exit "send the bounded spool" 0 "$POSTURE" send --config "$WORK/posture.yaml"
expect_exit "scan --send after the drops" 0 scan_send
expect_eq "stored after drops" "1 2 3 4 7 8 9" "$(stored_seqs "$c" "$host")"
stored_jws "$c" "$host" 9 >"$WORK/saved/9.jws"
expect_eq "the next report carries the other drop" 1 "$(payload "$WORK/saved/9.jws" | jq .spool_dropped)"
expect_eq "drop counter reset" 0 "$(cat "$a/spool_dropped")"

# 6. A configured proxy is used (a closed port: delivery fails there, not at the collector).
cat >"$WORK/proxy.yaml" <<YAML
collector:
  proxy: http://127.0.0.1:9
  connect_timeout: 5s
YAML
expect_exit "scan --send through an unreachable proxy" 3 scan_send --config "$WORK/proxy.yaml"
grep -qi "proxy\|127.0.0.1 port 9" "$WORK/err" || fail "proxy not used: $(cat "$WORK/err")"
# Through a real HTTP CONNECT proxy: the spooled report goes through the tunnel, TLS end to end.
proxy_port=$((20000 + RANDOM % 40000))
: "${CONNECT_PROXY:?CONNECT_PROXY must name the connect_proxy test tool}"
"$CONNECT_PROXY" "$proxy_port" "$WORK/proxy.log" 2>>"$WORK/proxy.err" &
proxy_pid=$!
trap 'stop_collector; kill "$proxy_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$proxy_port") 2>/dev/null && break; sleep 0.05; done
rm -f "$WORK/proxy.log"
printf 'collector: {proxy: "http://127.0.0.1:%s"}\n' "$proxy_port" >"$WORK/proxy-ok.yaml"
expect_exit "send through a CONNECT proxy" 0 "$POSTURE" send --state-dir "$a" --config "$WORK/proxy-ok.yaml"
expect_eq "the proxy tunnelled to the collector" "CONNECT 127.0.0.1:$port HTTP/1.1" "$(cat "$WORK/proxy.log")"
expect_eq "stored through the proxy" "1 2 3 4 7 8 9 10" "$(stored_seqs "$c" "$host")"
kill "$proxy_pid" 2>/dev/null || true
wait "$proxy_pid" 2>/dev/null || true

# 7. A report over the collector's body limit: 413, dead-letter, and the spool goes on.
stop_collector
"$COLLECTOR" serve --listen "127.0.0.1:$port" --state-dir "$c" --max-body 1000 \
    >>"$WORK/collector.log" 2>&1 &
collector_pid=$!
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
expect_exit "scan --send over the body limit" 3 scan_send
grep -q "report 11 was refused by the collector" "$WORK/err" || fail "413 message: $(cat "$WORK/err")"
expect_eq "413 report dead-lettered" "00000000000000000011.jws" "$(ls "$a/dead-letter" | grep -v reason)"
expect_eq "413 reason" "HTTP 413 too_large: the body is larger than the limit" \
    "$(cat "$a/dead-letter/00000000000000000011.jws.reason")"
expect_eq "nothing left after 413" "" "$(ls "$a/spool")"
rm "$a"/dead-letter/*
stop_collector
start_collector "$c" "$port"

# 8. A revoked host: 403, the report moves to dead-letter with the reason, send exits 3.
"$COLLECTOR" revoke "$host" --state-dir "$c" >/dev/null
expect_exit "scan --send from a revoked host" 3 scan_send
expect_eq "nothing left in the spool" "" "$(ls "$a/spool")"
expect_eq "dead-lettered report" "00000000000000000012.jws" "$(ls "$a/dead-letter" | grep -v reason)"
grep -q "^HTTP 40[13]" "$a/dead-letter/00000000000000000012.jws.reason" ||
    fail "dead-letter reason: $(cat "$a/dead-letter/00000000000000000012.jws.reason")"
expect_eq "the revoked host's report is not stored" "1 2 3 4 7 8 9 10" "$(stored_seqs "$c" "$host")"

# 9. The other host delivers on its own sequence.
# (with proxy variables in the environment, which posture ignores: only collector.proxy counts)
expect_exit "second host" 0 env https_proxy=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 \
    ALL_PROXY=http://127.0.0.1:9 "$POSTURE" scan --root "$root" --send --state-dir "$b" --output /dev/null
expect_eq "second host stored" "1" "$(stored_seqs "$c" "$(cat "$b/host_id")")"

# 10. posture run: a scan, delivery retried with backoff while the collector is down, then
# delivered without another scan once it is back; SIGTERM ends it cleanly.
cat >"$WORK/run.yaml" <<YAML
collector:
  interval: 1h
  backoff: {base: 200ms, cap: 1s}
YAML
bhost=$(cat "$b/host_id")
stop_collector
"$POSTURE" run --root "$root" --state-dir "$b" --config "$WORK/run.yaml" 2>"$WORK/run.err" &
run_pid=$!
for _ in $(seq 1 100); do [ -e "$b/spool/00000000000000000002.jws" ] && break; sleep 0.05; done
sleep 1.5
expect_eq "run spooled its report while the collector is down" "00000000000000000002.jws" "$(ls "$b/spool")"
retries=$(grep -c "retry" "$WORK/run.err" || true)
[ "$retries" -ge 2 ] || fail "run retried $retries times in 1.5 s with a 200 ms base: $(cat "$WORK/run.err")"
start_collector "$c" "$port"
for _ in $(seq 1 100); do [ "$(stored_seqs "$c" "$bhost")" = "1 2" ] && break; sleep 0.1; done
expect_eq "run delivered once the collector is back" "1 2" "$(stored_seqs "$c" "$bhost")"
expect_eq "run scanned once (interval 1h)" 2 "$(cat "$b/seq")"
kill -TERM "$run_pid"
run_rc=0
wait "$run_pid" || run_rc=$?
expect_eq "run exits 0 on SIGTERM" 0 "$run_rc"
grep -q "stopping" "$WORK/run.err" || fail "run: $(cat "$WORK/run.err")"

# 11. Memory errors and leaks of the transport commands, under valgrind (release build only:
# the sanitizer build checks the same paths with ASan).
if [ "${POSTURE_SANITIZE:-OFF}" != ON ] && command -v valgrind >/dev/null; then
    vg() {
        valgrind --quiet --error-exitcode=99 --leak-check=full \
            --show-leak-kinds=definite,indirect,possible \
            --errors-for-leak-kinds=definite,indirect,possible "$@"
    }
    expect_exit "valgrind: enroll" 0 vg "$POSTURE" enroll --collector "https://127.0.0.1:$port" \
        --token "$(token "$c")" --ca-file "$c/ca.crt" --state-dir "$WORK/agent-vg"
    expect_exit "valgrind: refused enroll" 3 vg "$POSTURE" enroll --collector "https://127.0.0.1:$port" \
        --token nope --ca-file "$c/ca.crt" --state-dir "$WORK/agent-vg2"
    expect_exit "valgrind: scan --send" 0 vg "$POSTURE" scan --root "$root" --send \
        --state-dir "$WORK/agent-vg" --output /dev/null
    stop_collector
    expect_exit "valgrind: scan --send, collector down" 3 vg "$POSTURE" scan --root "$root" --send \
        --state-dir "$WORK/agent-vg" --output /dev/null
    expect_exit "valgrind: verify" 0 vg "$POSTURE" verify "$WORK/agent-vg/spool/00000000000000000002.jws" \
        --state-dir "$WORK/agent-vg"
    expect_exit "valgrind: verify, wrong certificate" 1 vg "$POSTURE" verify \
        "$WORK/agent-vg/spool/00000000000000000002.jws" --cert "$a/cert.pem"
    start_collector "$c" "$port"
    expect_exit "valgrind: send" 0 vg "$POSTURE" send --state-dir "$WORK/agent-vg"
fi

finish
