#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Bad input at posture-collector serve: malformed HTTP, huge headers, plain HTTP and truncated
# TLS handshakes, slow clients, bad JSON and JWS. The server runs under valgrind (or, in the
# sanitizer build, with ASan and LeakSanitizer): it must answer or drop each client, keep
# serving, and exit without a memory error or a leak.
. "$(dirname "$0")/collector_lib.sh"

if [ "${POSTURE_SANITIZE:-OFF}" != ON ]; then
    command -v valgrind >/dev/null || { echo "SKIP: valgrind is not installed"; exit 77; }
    COLLECTOR_WRAP="valgrind --quiet --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect"
fi

init_collector
token=$(new_token --uses 2)
start_collector --timeout 3 --per-ip 16 --max-body 65536
expect_eq "enroll a" 201 "$(enroll a "$token")"

# s_client SECONDS: an HTTP exchange over TLS written by hand; the answer in $WORK/raw.
s_client() {
    timeout "$1" openssl s_client -quiet -connect "127.0.0.1:$PORT" -CAfile "$STATE/ca.crt" \
        >"$WORK/raw" 2>/dev/null || true
}

printf 'GARBAGE\r\n\r\n' | s_client 20
expect_eq "a request line without a version: dropped unanswered" "" "$(head -1 "$WORK/raw" | tr -d '\r')"
printf 'POST /v1/enroll HTTP/1.1\r\nHost: x\r\nNot a header line\r\n\r\n' | s_client 20
expect_eq "malformed header line" "HTTP/1.1 400 Bad Request" "$(head -1 "$WORK/raw" | tr -d '\r')"
printf 'POST /v1/enroll HTTP/9.9\r\nHost: x\r\n\r\n' | s_client 20
expect_eq "unknown HTTP version" "HTTP/1.1 505 HTTP Version Not Supported" "$(head -1 "$WORK/raw" | tr -d '\r')"
printf 'POST /v1/enroll HTTP/1.1\r\nHost: x\r\nContent-Length: banana\r\n\r\n' | s_client 20
expect_eq "bad Content-Length" "HTTP/1.1 400 Bad Request" "$(head -1 "$WORK/raw" | tr -d '\r')"
printf 'POST /v1/enroll HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n' | s_client 20
expect_eq "absurd Content-Length" 413 "$(head -1 "$WORK/raw" | cut -d' ' -f2)"
printf 'POST /v1/enroll HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n' | s_client 20
expect_eq "bad chunk size" "HTTP/1.1 400 Bad Request" "$(head -1 "$WORK/raw" | tr -d '\r')"
# Headers beyond the connection's 64 KiB: 431 (or 414 for the URL), and the connection
# closed. The server may close before the client has sent everything; the client then sees
# a reset instead of the answer (curl's 000), which is the same refusal.
big=$(head -c 100000 /dev/zero | tr '\0' 'h')
# refused_big WHAT WANT CURL ARGS...
refused_big() {
    local what=$1 want=$2 got
    shift 2
    got=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$STATE/ca.crt" "$@" 2>/dev/null || true)
    case $got in
    "$want" | 000) ;;
    *) fail "$what: expected $want or a reset, got $got" ;;
    esac
}
refused_big "a 100 kB header" 431 -H "X-Big: $big" -d x "https://127.0.0.1:$PORT/v1/enroll"
refused_big "a 100 kB URL" 414 -d x "https://127.0.0.1:$PORT/v1/$big"
hdrs=()
for i in $(seq 1 3000); do hdrs+=(-H "X-H$i: v"); done
refused_big "3000 headers" 431 "${hdrs[@]}" -d x "https://127.0.0.1:$PORT/v1/enroll"
printf '{}' >"$WORK/empty.json"
expect_answer "serving after huge headers" 400 bad_request "$(http POST /v1/enroll "$WORK/empty.json")"

# Not TLS, or TLS cut short: the connection is dropped, the server goes on.
got=0
curl -sS -o /dev/null --max-time 10 "http://127.0.0.1:$PORT/v1/enroll" -d x 2>/dev/null || got=$?
expect_eq "plain HTTP on the TLS port is dropped (curl 52: empty reply)" 52 "$got"
for bytes in '\x16\x03\x01\x00\xff\x01\x00' '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03' '\x16\x03\x03\xff\xff' \
    '\x80\x80\x01\x03\x01' '\x15\x03\x03\x00\x02\x02\x28'; do
    exec 3<>"/dev/tcp/127.0.0.1/$PORT"
    printf "$bytes" >&3
    exec 3>&-
done
head -c 4096 /dev/urandom >"$WORK/noise"
for _ in 1 2 3; do
    exec 3<>"/dev/tcp/127.0.0.1/$PORT"
    cat "$WORK/noise" >&3 2>/dev/null || true
    exec 3>&-
done
# A handshake stopped half-way by the client (openssl gives up at once).
timeout 5 openssl s_client -connect "127.0.0.1:$PORT" -tls1_3 -ciphersuites TLS_AES_128_CCM_8_SHA256 </dev/null >/dev/null 2>&1 || true

# Bad bodies.
printf '{"token": 12, "csr": [' >"$WORK/bad.json"
expect_answer "enroll, invalid JSON" 400 bad_request "$(http POST /v1/enroll "$WORK/bad.json")"
printf '\xff\xfe\x00{}' >"$WORK/bad.json"
expect_answer "enroll, binary" 400 bad_request "$(http POST /v1/enroll "$WORK/bad.json")"
report a 1
for mode in none hs256 tamper-payload; do
    sign a "$WORK/a-1.json" "$mode"
    code=$(post a "$WORK/jws")
    case $mode in
    tamper-payload) expect_answer "JWS $mode" 403 bad_signature "$code" ;;
    *) expect_answer "JWS $mode" 400 bad_jws "$code" ;;
    esac
done
for body in '' '...' 'a.b.c' 'eyJhbGciOiJFUzI1NiJ9..' "$(head -c 3000 /dev/urandom | base64 -w0)"; do
    printf '%s' "$body" >"$WORK/body"
    expect_eq "JWS garbage '${body:0:12}'" 400 "$(post a "$WORK/body")"
done
head -c 70000 /dev/zero | tr '\0' 'A' >"$WORK/big"
expect_answer "body over --max-body" 413 too_large "$(post a "$WORK/big")"

# Slow clients. One that stops in the middle of its headers is dropped after --timeout (3 s).
start=$(date +%s)
# (stdin from a process substitution: the pipeline must not wait for the sleep)
s_client 40 < <(printf 'POST /v1/enroll HTTP/1.1\r\nHost: x\r\nContent-Le'; sleep 30)
kill $! 2>/dev/null || true
elapsed=$(($(date +%s) - start))
[ "$elapsed" -le 15 ] || fail "a client silent mid-headers was kept ${elapsed}s (timeout 3 s)"
# One that sends its body a byte at a time but slower than the timeout, likewise.
start=$(date +%s)
s_client 40 < <(printf 'POST /v1/enroll HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{'; sleep 30)
kill $! 2>/dev/null || true
elapsed=$(($(date +%s) - start))
[ "$elapsed" -le 15 ] || fail "a client silent mid-body was kept ${elapsed}s (timeout 3 s)"
# Slowloris: 12 connections that never finish their handshake. The server keeps serving
# others meanwhile, and drops each of them after the timeout.
fds=()
for _ in $(seq 1 12); do
    exec {fd}<>"/dev/tcp/127.0.0.1/$PORT"
    printf '\x16\x03\x01' >&"$fd"
    fds+=("$fd")
done
report a 2
sign a "$WORK/a-2.json"
expect_answer "a report while 12 clients stall" 201 "" "$(post a "$WORK/jws" --max-time 20)"
sleep 6
dropped=0
for fd in "${fds[@]}"; do
    # EOF at once when the server has closed its end; a timeout (124) if it still holds it.
    if timeout 2 cat <&"$fd" >/dev/null 2>&1; then dropped=$((dropped + 1)); fi
    exec {fd}>&-
done
expect_eq "stalled connections dropped after the timeout" 12 "$dropped"
# More connections than --per-ip from one address: the extra ones are closed at once.
fds=()
for _ in $(seq 1 20); do
    exec {fd}<>"/dev/tcp/127.0.0.1/$PORT"
    fds+=("$fd")
done
sleep 1
closed=0
for fd in "${fds[@]}"; do
    if timeout 0.5 cat <&"$fd" >/dev/null 2>&1; then closed=$((closed + 1)); fi
done
for fd in "${fds[@]}"; do exec {fd}>&-; done
[ "$closed" -ge 4 ] || fail "connections over --per-ip 16: only $closed of 20 closed at once"
sleep 4
expect_answer "still serving afterwards" 201 "" "$(report a 3 && sign a "$WORK/a-3.json" && post a "$WORK/jws")"

rc=0
stop_collector || rc=$?
expect_eq "serve exits cleanly (no memory error, no leak)" 0 "$rc"
if [ "$rc" -ne 0 ]; then tail -40 "$WORK/serve.err" >&2; fi
expect_eq "reports stored" 2 "$(stored_reports)"
finish
