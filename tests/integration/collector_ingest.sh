#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# POST /v1/reports: a signed report checked by openssl as an independent ES256 verifier, then
# every refusal of DESIGN.md's ingest rules with its status, and nothing stored by a refusal.
. "$(dirname "$0")/collector_lib.sh"

init_collector
start_collector --max-body 1048576
token=$(new_token --uses 3)
expect_eq "enroll a" 201 "$(enroll a "$token")"
expect_eq "enroll b" 201 "$(enroll b "$token")"

# The real agent's report of this host, as the payload of host a's first report.
"$POSTURE" scan --format json --output "$WORK/scan.json" || true
jq --arg h "$(cat "$WORK/a.id")" '. + {host_id: $h, seq: 1, spool_dropped: 0}' "$WORK/scan.json" >"$WORK/a-1.json"
sign a "$WORK/a-1.json"
cp "$WORK/jws" "$WORK/a-1.jws"

# openssl checks the signature: r||s turned into a DER ECDSA-Sig-Value, the signing input
# header64.payload64, the key from the certificate.
b64url_hex() {
    local s
    s=$(tr '_-' '/+' <<<"$1")
    while [ $((${#s} % 4)) -ne 0 ]; do s="$s="; done
    base64 -d <<<"$s" | od -An -v -tx1 | tr -d ' \n'
}
IFS=. read -r h64 p64 s64 <<<"$(cat "$WORK/a-1.jws")"
sig=$(b64url_hex "$s64")
expect_eq "signature is 64 bytes" 128 "${#sig}"
printf 'asn1=SEQUENCE:sig\n[sig]\nr=INTEGER:0x%s\ns=INTEGER:0x%s\n' "${sig:0:64}" "${sig:64:64}" >"$WORK/sig.cnf"
openssl asn1parse -genconf "$WORK/sig.cnf" -out "$WORK/sig.der" >/dev/null
printf '%s.%s' "$h64" "$p64" >"$WORK/signing-input"
openssl x509 -in "$WORK/a.crt" -noout -pubkey >"$WORK/a.pub"
expect_eq "openssl verifies the ES256 signature" "Verified OK" \
    "$(openssl dgst -sha256 -verify "$WORK/a.pub" -signature "$WORK/sig.der" "$WORK/signing-input")"
printf '%s.%sX' "$h64" "$p64" >"$WORK/signing-input-x"
expect_eq "openssl refuses it on other bytes" "Verification failure" \
    "$(openssl dgst -sha256 -verify "$WORK/a.pub" -signature "$WORK/sig.der" "$WORK/signing-input-x" 2>/dev/null | head -1)"
header=$(base64 -d <<<"$(tr '_-' '/+' <<<"$h64")==" 2>/dev/null || true)
kid=$(openssl x509 -in "$WORK/a.crt" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1)
expect_eq "header: alg, typ, kid = SHA-256 of the SPKI" \
    "{\"alg\":\"ES256\",\"typ\":\"posture-report+jws\",\"kid\":\"$kid\"}" "$(jq -c . <<<"$header")"
b64url_file() {
    local s
    s=$(tr '_-' '/+' <<<"$1")
    while [ $((${#s} % 4)) -ne 0 ]; do s="$s="; done
    base64 -d <<<"$s"
}
expect_eq "payload is the report's bytes" "$(sha256sum <"$WORK/a-1.json")" "$(b64url_file "$p64" | sha256sum)"

expect_answer "a's signed report" 201 "" "$(post a "$WORK/a-1.jws")"
expect_eq "answer" "{\"host_id\":\"$(cat "$WORK/a.id")\",\"seq\":1}" "$(cat "$WORK/resp")"
expect_eq "stored verbatim" "$(cat "$WORK/a-1.jws")" \
    "$(db "SELECT jws FROM reports WHERE seq = 1")"
expect_eq "last seq" 1 "$(db "SELECT last_seq FROM hosts WHERE host_id = '$(cat "$WORK/a.id")'")"
expect_eq "hosts shows the score of the report" \
    "$(jq -c '.score.secure | [.current, .max]' "$WORK/a-1.json")" \
    "$("$COLLECTOR" hosts --state-dir "$STATE" --format json | jq -c --arg h "$(cat "$WORK/a.id")" '.[] | select(.host_id == $h) | .score | [.current, .max]')"
stored=$(stored_reports)

# Each refusal, then the count of stored reports unchanged.
refused() { # WHAT STATUS ERROR ACTUAL
    expect_answer "$1" "$2" "$3" "$4"
    expect_eq "$1: nothing stored" "$stored" "$(stored_reports)"
}
report a 2
sign a "$WORK/a-2.json" tamper-payload
refused "tampered payload" 403 bad_signature "$(post a "$WORK/jws")"
sign a "$WORK/a-2.json" tamper-header
refused "tampered header" 403 bad_signature "$(post a "$WORK/jws")"
sign a "$WORK/a-2.json" none
refused "alg none" 400 bad_jws "$(post a "$WORK/jws")"
sign a "$WORK/a-2.json" hs256
refused "alg HS256" 400 bad_jws "$(post a "$WORK/jws")"
sign a "$WORK/a-2.json" kid=0000
refused "kid of another key" 403 kid_mismatch "$(post a "$WORK/jws")"
# b's key signs a's report, sent over a's TLS certificate.
"$JWS_TOOL" "$WORK/b.key" "$WORK/b.crt" "$WORK/a-2.json" >"$WORK/jws"
refused "signature by another enrolled host's key" 403 bad_signature "$(post a "$WORK/jws")"
# a signs a report that claims to be b's.
report a 2 ".host_id = \"$(cat "$WORK/b.id")\""
sign a "$WORK/a-2.json"
refused "host id not the certificate's" 403 host_mismatch "$(post a "$WORK/jws")"
report a 1 '.host.hostname = "replayed"'
sign a "$WORK/a-1.json"
refused "replayed seq" 409 replay "$(post a "$WORK/jws")"
refused "the same JWS again" 409 replay "$(post a "$WORK/a-1.jws")"
report a 0
sign a "$WORK/a-0.json"
refused "seq 0" 400 bad_report "$(post a "$WORK/jws")"
report a 2 '.seq = "2"'
sign a "$WORK/a-2.json"
refused "seq as a string" 400 bad_report "$(post a "$WORK/jws")"
report a 2 '.schema = "other/v1"'
sign a "$WORK/a-2.json"
refused "another schema" 400 bad_report "$(post a "$WORK/jws")"
printf '{"schema": "posture.report/v1", "seq": 2,' >"$WORK/broken.json"
sign a "$WORK/broken.json"
refused "payload not JSON" 400 bad_report "$(post a "$WORK/jws")"
printf '{"schema":"posture.report/v1","host_id":"%s","seq":2,"seq":9}' "$(cat "$WORK/a.id")" >"$WORK/dup.json"
sign a "$WORK/dup.json"
refused "duplicate keys in the payload" 400 bad_report "$(post a "$WORK/jws")"
# The payload is read as Jansson reads it (collector/payload.c): a duplicate key deep inside,
# or a value nested one level deeper than Jansson's limit (2048), is refused.
report a 2 '.controls[0].extra = {"k": 1}'
sed 's/"k": 1/"k": 1, "k": 2/' "$WORK/a-2.json" >"$WORK/dup-deep.json"
sign a "$WORK/dup-deep.json"
refused "duplicate keys deep in the payload" 400 bad_report "$(post a "$WORK/jws")"
nested() { # JSON_FILE LEVELS: the report in JSON_FILE with a member "deep" of LEVELS arrays
    head -c -2 "$1"
    printf ', "deep": '
    printf '%.0s[' $(seq "$2")
    printf 1
    printf '%.0s]' $(seq "$2")
    printf '}\n'
}
report a 2
nested "$WORK/a-2.json" 2047 >"$WORK/too-deep.json"
sign a "$WORK/too-deep.json"
refused "payload nested deeper than 2048" 400 bad_report "$(post a "$WORK/jws")"
printf 'not.a.jws!' >"$WORK/jws"
refused "not base64url" 400 bad_jws "$(post a "$WORK/jws")"
head -c 1100000 /dev/zero | tr '\0' 'A' >"$WORK/big"
refused "body over --max-body (Content-Length)" 413 too_large "$(post a "$WORK/big")"
refused "body over --max-body (chunked)" 413 too_large "$(post a "$WORK/big" -H 'Transfer-Encoding: chunked')"
refused "no client certificate" 401 no_certificate "$(http POST /v1/reports "$WORK/a-1.jws")"
# A certificate for a's key from another CA, and a self-signed one.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$WORK/other-ca.key" \
    -out "$WORK/other-ca.crt" -subj /CN=other -days 1 2>/dev/null
openssl req -new -key "$WORK/a.key" -subj "/CN=$(cat "$WORK/a.id")" -out "$WORK/x.csr"
openssl x509 -req -in "$WORK/x.csr" -CA "$WORK/other-ca.crt" -CAkey "$WORK/other-ca.key" \
    -CAcreateserial -days 1 -out "$WORK/x.crt" 2>/dev/null
refused "certificate from another CA" 401 unknown_certificate \
    "$(http POST /v1/reports "$WORK/a-1.jws" --cert "$WORK/x.crt" --key "$WORK/a.key")"
openssl req -x509 -key "$WORK/a.key" -subj "/CN=$(cat "$WORK/a.id")" -days 1 -out "$WORK/self.crt"
refused "self-signed certificate" 401 unknown_certificate \
    "$(http POST /v1/reports "$WORK/a-1.jws" --cert "$WORK/self.crt" --key "$WORK/a.key")"

# seq only grows: 5 after 1 is fine, 3 after 5 is a replay.
report a 5
sign a "$WORK/a-5.json"
expect_answer "seq 5 after 1" 201 "" "$(post a "$WORK/jws")"
report a 3
sign a "$WORK/a-3.json"
expect_answer "seq 3 after 5" 409 replay "$(post a "$WORK/jws")"
expect_eq "409 says the last seq" "the collector already has seq 5 for this host" "$(jq -r .message "$WORK/resp")"
report a 6
nested "$WORK/a-6.json" 2046 >"$WORK/deep.json"
sign a "$WORK/deep.json"
expect_answer "payload nested 2048 deep" 201 "" "$(post a "$WORK/jws")"

# Twenty copies of one report at once (they share group commits): one stored, 19 replays.
report a 7
sign a "$WORK/a-7.json"
before=$(stored_reports)
pids=()
for i in $(seq 1 20); do
    curl -sS -o /dev/null -w '%{http_code}\n' --cacert "$STATE/ca.crt" --cert "$WORK/a.crt" \
        --key "$WORK/a.key" --data-binary @"$WORK/jws" "https://127.0.0.1:$PORT/v1/reports" \
        >"$WORK/copy-$i" 2>/dev/null &
    pids+=($!)
done
wait "${pids[@]}"
expect_eq "concurrent copies: one 201" 1 "$(cat "$WORK"/copy-* | grep -c '^201$' || true)"
expect_eq "concurrent copies: 19 409s" 19 "$(cat "$WORK"/copy-* | grep -c '^409$' || true)"
expect_eq "concurrent copies: one stored" $((before + 1)) "$(stored_reports)"

# A 409 keeps the connection for the next report; a refusal closes it.
reuse() { # JWS_FILE: how many times curl reused its connection for two POSTs of the file
    curl -sS -v -o /dev/null --cacert "$STATE/ca.crt" --cert "$WORK/a.crt" --key "$WORK/a.key" \
        --data-binary @"$1" "https://127.0.0.1:$PORT/v1/reports" "https://127.0.0.1:$PORT/v1/reports" \
        2>&1 | grep -c 'Re-using existing connection' || true
}
expect_eq "connection kept after a 409" 1 "$(reuse "$WORK/jws")"
sign a "$WORK/a-7.json" tamper-payload
expect_eq "connection closed after a 403" 0 "$(reuse "$WORK/jws")"

# Revocation: refused from then on, on a connection made before or after.
report b 1
sign b "$WORK/b-1.json"
expect_answer "b before revocation" 201 "" "$(post b "$WORK/jws")"
stored=$(stored_reports)
expect_exit "revoke b" 0 "$COLLECTOR" revoke --state-dir "$STATE" "$(cat "$WORK/b.id")"
expect_exit "revoke an unknown host" 1 "$COLLECTOR" revoke --state-dir "$STATE" nosuchhost
report b 2
sign b "$WORK/b-2.json"
refused "revoked host" 403 revoked "$(post b "$WORK/jws")"
expect_eq "hosts shows b revoked" revoked \
    "$("$COLLECTOR" hosts --state-dir "$STATE" | awk -v h="$(cat "$WORK/b.id")" '$1 == h {print $NF}')"
expect_answer "a still accepted" 201 "" "$(report a 8 && sign a "$WORK/a-8.json" && post a "$WORK/jws")"

stop_collector || fail "serve exited with an error"
expect_eq "reports stored in all" 6 "$(stored_reports)"
expect_eq "WAL mode" wal "$(db 'PRAGMA journal_mode')"
finish
