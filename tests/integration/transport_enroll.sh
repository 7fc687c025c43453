#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# posture enroll against a real posture-collector on loopback: a valid token (CA pinned by
# file and by fingerprint), then expired, used-up and wrong tokens, and a wrong pinned CA,
# each refused with the agent's state left unenrolled. The identity is checked with openssl.
source "$SRC/tests/integration/lib.sh"
source "$SRC/tests/integration/transport_lib.sh"

c=$WORK/collector
other=$WORK/other
rm -rf "$WORK"/agent-* "$WORK/collector.log"
init_collector "$c"
init_collector "$other"
start_collector "$c"
url=https://127.0.0.1:$port

# A valid token, CA pinned by file.
a=$WORK/agent-file
expect_exit "enroll with a valid token" 0 "$POSTURE" enroll --collector "$url" \
    --token "$(token "$c")" --ca-file "$c/ca.crt" --state-dir "$a"
host=$(cat "$a/host_id")
grep -q "as host $host" "$WORK/out" || fail "enroll does not print the host id: $(cat "$WORK/out")"
expect_eq "key mode" 600 "$(stat -c %a "$a/key.pem")"
expect_eq "state dir mode" 700 "$(stat -c %a "$a")"
expect_eq "key is SEC1 PEM" "-----BEGIN EC PRIVATE KEY-----" "$(head -1 "$a/key.pem")"
expect_eq "certificate CN is the host id" "subject=CN = $host" \
    "$(openssl x509 -in "$a/cert.pem" -noout -subject)"
openssl verify -CAfile "$c/ca.crt" "$a/cert.pem" >/dev/null 2>&1 ||
    fail "the issued certificate does not verify with the collector's CA (openssl verify)"
expect_eq "the certificate carries the agent's key" \
    "$(openssl pkey -in "$a/key.pem" -pubout)" "$(openssl x509 -in "$a/cert.pem" -noout -pubkey)"
expect_eq "the pinned CA is kept" "$(cat "$c/ca.crt")" "$(cat "$a/ca.pem")"
expect_eq "sequence starts at 0" 0 "$(cat "$a/seq")"
expect_eq "the collector knows the host" "$host" \
    "$("$COLLECTOR" hosts --format json --state-dir "$c" | jq -r --arg h "$host" '.[] | select(.host_id == $h) | .host_id')"

# CA pinned by fingerprint (colons and all): the collector presents its CA in its chain.
a=$WORK/agent-fp
expect_exit "enroll by fingerprint" 0 "$POSTURE" enroll --collector "$url" \
    --token "$(token "$c")" --ca-fingerprint "$(ca_fingerprint "$c")" --state-dir "$a"
expect_eq "fingerprint enrollment keeps the CA" "$(cat "$c/ca.crt")" "$(cat "$a/ca.pem")"
a=$WORK/agent-fp-lower
fp=$(ca_fingerprint "$c" | tr -d : | tr 'A-F' 'a-f')
expect_exit "enroll by fingerprint without colons" 0 "$POSTURE" enroll --collector "$url" \
    --token "$(token "$c")" --ca-fingerprint "$fp" --state-dir "$a"

# refused CASE: the agent state holds no identity afterwards.
refused() {
    local what=$1 dir=$2
    for f in key.pem cert.pem host_id; do
        [ ! -e "$dir/$f" ] || fail "$what: $dir/$f exists after a refused enrollment"
    done
}

# An expired token.
tok=$(token "$c" --ttl 1s)
sleep 2.2
a=$WORK/agent-expired
expect_exit "expired token" 3 "$POSTURE" enroll --collector "$url" --token "$tok" \
    --ca-file "$c/ca.crt" --state-dir "$a"
grep -q "answered 40[13]" "$WORK/err" || fail "expired token: $(cat "$WORK/err")"
refused "expired token" "$a"

# A used-up token: one use, then refused.
tok=$(token "$c" --uses 1)
expect_exit "one-use token, first use" 0 "$POSTURE" enroll --collector "$url" --token "$tok" \
    --ca-file "$c/ca.crt" --state-dir "$WORK/agent-once"
a=$WORK/agent-used
expect_exit "used-up token" 3 "$POSTURE" enroll --collector "$url" --token "$tok" \
    --ca-file "$c/ca.crt" --state-dir "$a"
grep -q "answered 40[13]" "$WORK/err" || fail "used-up token: $(cat "$WORK/err")"
refused "used-up token" "$a"

# A wrong token.
a=$WORK/agent-wrong
expect_exit "wrong token" 3 "$POSTURE" enroll --collector "$url" --token "not-a-token" \
    --ca-file "$c/ca.crt" --state-dir "$a"
grep -q "answered 40[13]" "$WORK/err" || fail "wrong token: $(cat "$WORK/err")"
refused "wrong token" "$a"

# A wrong pinned CA (by file, by fingerprint): the agent refuses to talk, so the token is
# never sent and stays usable.
tok=$(token "$c" --uses 1)
a=$WORK/agent-wrong-ca
expect_exit "wrong CA file" 3 "$POSTURE" enroll --collector "$url" --token "$tok" \
    --ca-file "$other/ca.crt" --state-dir "$a"
grep -q "certificate" "$WORK/err" || fail "wrong CA file: $(cat "$WORK/err")"
refused "wrong CA file" "$a"
expect_exit "wrong CA fingerprint" 3 "$POSTURE" enroll --collector "$url" --token "$tok" \
    --ca-fingerprint "$(ca_fingerprint "$other")" --state-dir "$a"
refused "wrong CA fingerprint" "$a"
expect_exit "the token refused to a wrong CA was never sent" 0 "$POSTURE" enroll \
    --collector "$url" --token "$tok" --ca-file "$c/ca.crt" --state-dir "$a"

# A server certificate for another name: the host name is checked too.
a=$WORK/agent-name
expect_exit "collector reached by a name its certificate lacks" 3 "$POSTURE" enroll \
    --collector "https://localhost:$port" --token "$(token "$c")" --ca-file "$c/ca.crt" \
    --state-dir "$a"
refused "wrong name" "$a"

# TLS 1.2 at least: a server that speaks only TLS 1.1 (openssl s_server, the collector's own
# certificate) is refused during the handshake; the same server with TLS 1.2 gets through
# the handshake (and then, as it does not answer the POST, the request times out).
server_pid=
trap 'stop_collector; [ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true' EXIT
s_server() {
    local p=$((20000 + RANDOM % 40000))
    openssl s_server -accept "127.0.0.1:$p" -cert "$c/server.crt" -key "$c/server.key" -www \
        -quiet "$@" >"$WORK/s_server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && break; sleep 0.05; done
    server_port=$p
}
printf 'collector: {timeout: 2s}\n' >"$WORK/short.yaml"
s_server -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0'
expect_exit "a TLS 1.1 server" 3 "$POSTURE" enroll --collector "https://127.0.0.1:$server_port" \
    --token x --ca-file "$c/ca.crt" --state-dir "$WORK/agent-tls" --config "$WORK/short.yaml"
grep -q "protocol version" "$WORK/err" || fail "TLS 1.1: $(cat "$WORK/err")"
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true
s_server -tls1_2
# While it waits, the token is not in its command line for ps and /proc to show.
"$POSTURE" enroll --collector "https://127.0.0.1:$server_port" --token secret-token-value \
    --ca-file "$c/ca.crt" --state-dir "$WORK/agent-tls" --config "$WORK/short.yaml" \
    >"$WORK/out" 2>"$WORK/err" &
enroll_pid=$!
sleep 1
if tr '\0' ' ' <"/proc/$enroll_pid/cmdline" | grep -q secret-token-value; then
    fail "the token shows in /proc/PID/cmdline: $(tr '\0' ' ' <"/proc/$enroll_pid/cmdline")"
fi
tr '\0' ' ' <"/proc/$enroll_pid/cmdline" | grep -q -- "--token" || fail "cmdline not read"
enroll_rc=0
wait "$enroll_pid" || enroll_rc=$?
expect_eq "a TLS 1.2 server that never answers" 3 "$enroll_rc"
grep -q "timed out" "$WORK/err" || fail "TLS 1.2 handshake: $(cat "$WORK/err")"
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true
refused "TLS servers" "$WORK/agent-tls"

# Usage errors.
expect_exit "no CA pin" 2 "$POSTURE" enroll --collector "$url" --token x --state-dir "$a"
expect_exit "both CA pins" 2 "$POSTURE" enroll --collector "$url" --token x \
    --ca-file "$c/ca.crt" --ca-fingerprint "$(ca_fingerprint "$c")" --state-dir "$a"
expect_exit "bad fingerprint" 2 "$POSTURE" enroll --collector "$url" --token x \
    --ca-fingerprint 12:34 --state-dir "$a"
expect_exit "plain http" 3 "$POSTURE" enroll --collector "http://127.0.0.1:$port" --token x \
    --ca-file "$c/ca.crt" --state-dir "$a"
expect_exit "scan --send before enrollment" 2 "$POSTURE" scan --send --state-dir "$WORK/agent-none" \
    --root "$SRC/tests/data/roots/lax"
grep -q "enroll first" "$WORK/err" || fail "scan --send unenrolled: $(cat "$WORK/err")"

# libcurl and OpenSSL are in the delivery module, loaded only to talk to a collector: posture
# itself does not link them, and a posture that cannot find its module says so and enrolls
# nothing. A copy outside the build tree looks for the installed module.
needed=$(readelf -d "$POSTURE" | awk '/NEEDED/ {print $5}' | tr -d '[]' | tr '\n' ' ')
case $needed in
*libcurl* | *libssl* | *libcrypto* | *libgnutls*) fail "posture links the transport's libraries: $needed" ;;
esac
installed_module=$(strings "$POSTURE" | grep -m1 '/posture/posture-http\.so$' || true)
[ -n "$installed_module" ] || fail "posture names no installed delivery module"
if [ ! -e "$installed_module" ]; then
    alone=$(mktemp -d /tmp/posture-alone.XXXXXX)
    cp "$POSTURE" "$alone/posture"
    a=$WORK/agent-no-module
    expect_exit "enroll without the delivery module" 3 "$alone/posture" enroll --collector "$url" \
        --token "$(token "$c")" --ca-file "$c/ca.crt" --state-dir "$a"
    grep -q "cannot load the delivery module: $installed_module" "$WORK/err" ||
        fail "no module: $(cat "$WORK/err")"
    refused "enroll without the delivery module" "$a"
    rm -rf "$alone"
fi

finish
