#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# posture-collector init, token create and POST /v1/enroll against openssl and curl: the CA and
# certificates as openssl reads them, tokens good, expired, used up or wrong, bad CSRs, TLS.
. "$(dirname "$0")/collector_lib.sh"

init_collector
expect_eq "CA key mode" 600 "$(stat -c %a "$STATE/ca.key")"
expect_eq "server key mode" 600 "$(stat -c %a "$STATE/server.key")"
expect_eq "state dir mode" 700 "$(stat -c %a "$STATE")"
expect_eq "database mode" 600 "$(stat -c %a "$STATE/collector.db")"
expect_eq "server certificate chains to the CA" "$STATE/server.crt: OK" \
    "$(openssl verify -CAfile "$STATE/ca.crt" -purpose sslserver "$STATE/server.crt" 2>&1)"
expect_eq "server names" "DNS:localhost, IP Address:127.0.0.1" \
    "$(openssl x509 -in "$STATE/server.crt" -noout -ext subjectAltName | tail -1 | sed 's/^ *//')"
expect_eq "CA is a CA" "CA:TRUE, pathlen:0" \
    "$(openssl x509 -in "$STATE/ca.crt" -noout -ext basicConstraints | tail -1 | sed 's/^ *//')"
expect_eq "CA key is P-256" "ASN1 OID: prime256v1" \
    "$(openssl x509 -in "$STATE/ca.crt" -noout -text | grep -o 'ASN1 OID: prime256v1')"
expect_exit "init refuses to replace a CA" 1 "$COLLECTOR" init --state-dir "$STATE" --name x
expect_eq "init refusal says why" "posture-collector: init $STATE: the state directory already holds a CA" \
    "$(cat "$WORK/err")"
expect_exit "init without --name" 2 "$COLLECTOR" init --state-dir "$WORK/other"
expect_exit "token --ttl nonsense" 2 "$COLLECTOR" token create --state-dir "$STATE" --ttl 5x
expect_exit "token --uses 0" 2 "$COLLECTOR" token create --state-dir "$STATE" --uses 0

start_collector

# A good token, once.
token=$(new_token)
expect_eq "token is 43 base64url characters" 1 "$(grep -cE '^[A-Za-z0-9_-]{43}$' <<<"$token")"
expect_eq "the token itself is not stored" 0 "$(cat "$STATE"/collector.db* | grep -c -F -e "$token" || true)"
expect_eq "its SHA-256 is" "$(printf %s "$token" | sha256sum | cut -d' ' -f1)" \
    "$(db 'SELECT hash FROM tokens')"
code=$(enroll h1 "$token")
expect_answer "enroll with a valid token" 201 "" "$code"
expect_eq "answer's CA is the CA" "$(cat "$STATE/ca.crt")" "$(jq -r .ca "$WORK/resp")"
expect_eq "host certificate chains to the CA, for clients" "$WORK/h1.crt: OK" \
    "$(openssl verify -CAfile "$STATE/ca.crt" -purpose sslclient "$WORK/h1.crt" 2>&1)"
expect_eq "CN is the host id" "subject=CN = $(cat "$WORK/h1.id")" \
    "$(openssl x509 -in "$WORK/h1.crt" -noout -subject)"
expect_eq "host id is a UUID" 1 "$(grep -cE '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' "$WORK/h1.id")"
expect_eq "certificate carries the CSR's key" "$(openssl pkey -in "$WORK/h1.key" -pubout)" \
    "$(openssl x509 -in "$WORK/h1.crt" -noout -pubkey)"
expect_eq "host recorded with its certificate's fingerprint" \
    "$(openssl x509 -in "$WORK/h1.crt" -outform DER | sha256sum | cut -d' ' -f1)" \
    "$(db "SELECT fingerprint FROM hosts WHERE host_id = '$(cat "$WORK/h1.id")'")"
code=$(enroll h1b "$token")
expect_answer "the same token again (used up)" 403 token_used_up "$code"

# A token of two uses: two hosts, then refused.
token=$(new_token --uses 2 --ttl 1h)
expect_answer "two-use token, first" 201 "" "$(enroll h2 "$token")"
expect_answer "two-use token, second" 201 "" "$(enroll h3 "$token")"
expect_answer "two-use token, third" 403 token_used_up "$(enroll h4 "$token")"
expect_eq "distinct host ids" 3 "$(cat "$WORK"/h1.id "$WORK"/h2.id "$WORK"/h3.id | sort -u | wc -l)"

# Expired and wrong tokens.
token=$(new_token --ttl 1s)
sleep 2
expect_answer "expired token" 401 token_expired "$(enroll h5 "$token")"
expect_answer "wrong token" 401 token_unknown "$(enroll h6 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")"
expect_answer "empty token" 401 token_unknown "$(enroll h7 "")"
expect_eq "hosts enrolled" 3 "$(db 'SELECT count(*) FROM hosts')"

# Bad requests: each refused, no token spent.
token=$(new_token)
printf '{"token": "%s", "csr": ' "$token" >"$WORK/bad.json"
expect_answer "truncated JSON" 400 bad_request "$(http POST /v1/enroll "$WORK/bad.json")"
printf '{"token": "%s", "csr": "-----BEGIN CERTIFICATE REQUEST-----\\nAAAA\\n-----END CERTIFICATE REQUEST-----\\n"}' "$token" >"$WORK/bad.json"
expect_answer "CSR that is not one" 400 bad_csr "$(http POST /v1/enroll "$WORK/bad.json")"
openssl genrsa -out "$WORK/rsa.key" 2048 2>/dev/null
openssl req -new -key "$WORK/rsa.key" -subj /CN=rsa -out "$WORK/rsa.csr"
jq -n --arg t "$token" --rawfile c "$WORK/rsa.csr" '{token: $t, csr: $c}' >"$WORK/bad.json"
expect_answer "RSA CSR" 400 bad_csr "$(http POST /v1/enroll "$WORK/bad.json")"
expect_eq "RSA CSR: why" "the CSR's key is not an EC P-256 key" "$(jq -r .message "$WORK/resp")"
# A CSR whose key is swapped for another: its signature no longer verifies (no proof of
# possession). openssl builds it from h1's CSR with h2's public key in the request info.
openssl req -in "$WORK/h1.csr" -outform DER -out "$WORK/h1.csr.der"
spki1=$(openssl pkey -in "$WORK/h1.key" -pubout -outform DER | od -An -tx1 | tr -d ' \n')
spki2=$(openssl pkey -in "$WORK/h2.key" -pubout -outform DER | od -An -tx1 | tr -d ' \n')
od -An -tx1 "$WORK/h1.csr.der" | tr -d ' \n' | sed "s/$spki1/$spki2/" | sed 's/../\\x&/g' |
    xargs -0 printf '%b' >"$WORK/swap.der"
{
    echo "-----BEGIN CERTIFICATE REQUEST-----"
    base64 -w 64 "$WORK/swap.der"
    echo "-----END CERTIFICATE REQUEST-----"
} >"$WORK/swap.csr"
expect_eq "swapped CSR parses but does not verify for openssl either" 1 \
    "$(openssl req -in "$WORK/swap.csr" -noout -verify 2>&1 | grep -c 'verify failure\|bad signature' || true)"
jq -n --arg t "$token" --rawfile c "$WORK/swap.csr" '{token: $t, csr: $c}' >"$WORK/bad.json"
expect_answer "CSR with another key than its signer" 400 bad_csr "$(http POST /v1/enroll "$WORK/bad.json")"
expect_eq "swapped CSR: why" "the CSR's signature does not verify with its key" "$(jq -r .message "$WORK/resp")"
head -c 70000 /dev/zero | tr '\0' 'a' >"$WORK/big.json"
expect_answer "enroll body over 64 KiB" 413 too_large "$(http POST /v1/enroll "$WORK/big.json")"
expect_answer "GET enroll" 405 method_not_allowed "$(curl -sS -o "$WORK/resp" -w '%{http_code}' --cacert "$STATE/ca.crt" "https://127.0.0.1:$PORT/v1/enroll")"
expect_answer "unknown path" 404 not_found "$(http POST /v1/nothing "$WORK/bad.json")"
expect_answer "the token survived the bad requests" 201 "" "$(enroll h8 "$token")"

# TLS: 1.2 and 1.3 accepted, 1.1 refused; a client pinning another CA refuses the server.
expect_eq "TLS 1.2" 0 "$(openssl s_client -connect "127.0.0.1:$PORT" -tls1_2 -CAfile "$STATE/ca.crt" -verify_return_error </dev/null >/dev/null 2>&1; echo $?)"
expect_eq "TLS 1.3" 0 "$(openssl s_client -connect "127.0.0.1:$PORT" -tls1_3 -CAfile "$STATE/ca.crt" -verify_return_error </dev/null >/dev/null 2>&1; echo $?)"
expect_eq "TLS 1.1 refused" 1 "$(openssl s_client -connect "127.0.0.1:$PORT" -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' </dev/null >/dev/null 2>&1; echo $?)"
# The server presents its certificate and the CA (for agents pinning the CA's fingerprint).
openssl s_client -connect "127.0.0.1:$PORT" -showcerts </dev/null 2>/dev/null |
    awk '/BEGIN CERT/ {n++} n == 2 {print} /END CERT/ && n == 2 {exit}' >"$WORK/chain-ca.pem"
expect_eq "the chain's second certificate is the CA" \
    "$(openssl x509 -in "$STATE/ca.crt" -outform DER | sha256sum)" \
    "$(openssl x509 -in "$WORK/chain-ca.pem" -outform DER 2>/dev/null | sha256sum)"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$WORK/other-ca.key" \
    -out "$WORK/other-ca.crt" -subj /CN=other -days 1 2>/dev/null
got=0
curl -sS -o /dev/null --cacert "$WORK/other-ca.crt" -d @"$WORK/h8.enroll" "https://127.0.0.1:$PORT/v1/enroll" 2>/dev/null || got=$?
expect_eq "curl pinning another CA refuses the collector (60: peer certificate)" 60 "$got"

stop_collector || fail "serve exited with an error"
expect_eq "serve says why it stops" 1 "$(grep -c '^posture-collector: stopping (SIGTERM)$' "$WORK/serve.err")"
# MHD may still log a connection's TLS error while it stops; "stopped" comes after all of it.
expect_eq "serve stops on SIGTERM" "posture-collector: stopped" "$(tail -1 "$WORK/serve.err")"
finish
