# SPDX-License-Identifier: Apache-2.0
# Helpers of the collector tests: a real posture-collector on loopback, driven by independent
# clients (openssl for keys and CSRs, curl for HTTPS) and jws_tool for signing.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

: "${COLLECTOR:?COLLECTOR must name the posture-collector binary}"
: "${JWS_TOOL:?JWS_TOOL must name the jws_tool binary}"
for tool in openssl curl jq sqlite3; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed (install/setup.sh)"; exit 1; }
done

STATE=$WORK/state
: >"$WORK/serve.err"
COLL_PID=
PORT=
# A wrapper for the server (valgrind), empty by default.
COLLECTOR_WRAP=${COLLECTOR_WRAP:-}

stop_collector() {
    local rc=0
    if [ -n "$COLL_PID" ]; then
        kill -TERM "$COLL_PID" 2>/dev/null || true
        wait "$COLL_PID" || rc=$?
        COLL_PID=
    fi
    return $rc
}
trap 'stop_collector >/dev/null 2>&1 || true' EXIT

# start_collector [SERVE OPTIONS...]: serves $STATE on a free loopback port, sets PORT.
start_collector() {
    : >"$WORK/serve.out"
    # shellcheck disable=SC2086
    $COLLECTOR_WRAP "$COLLECTOR" serve --state-dir "$STATE" --listen 127.0.0.1:0 "$@" \
        >"$WORK/serve.out" 2>>"$WORK/serve.err" &
    COLL_PID=$!
    for _ in $(seq 1 300); do
        PORT=$(sed -n 's/^posture-collector: listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$WORK/serve.out")
        [ -n "$PORT" ] && return 0
        kill -0 "$COLL_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "FAIL: the collector did not start: $(cat "$WORK/serve.err")" >&2
    exit 1
}

# init_collector: a fresh state directory with a CA for localhost and 127.0.0.1.
init_collector() {
    rm -rf "$STATE"
    "$COLLECTOR" init --state-dir "$STATE" --name localhost --name 127.0.0.1 >/dev/null
}

new_token() {
    "$COLLECTOR" token create --state-dir "$STATE" "$@"
}

# http METHOD PATH BODY_FILE [CURL OPTIONS...]: prints the status; the body goes to $WORK/resp.
http() {
    local method=$1 path=$2 body=$3
    shift 3
    curl -sS -o "$WORK/resp" -w '%{http_code}' --cacert "$STATE/ca.crt" -X "$method" \
        --data-binary @"$body" "$@" "https://127.0.0.1:$PORT$path" 2>"$WORK/curl.err" || true
}

# new_key NAME: an EC P-256 key and a CSR, made by openssl.
new_key() {
    openssl ecparam -name prime256v1 -genkey -noout -out "$WORK/$1.key" 2>/dev/null
    openssl req -new -key "$WORK/$1.key" -subj "/CN=$1" -out "$WORK/$1.csr"
}

# enroll NAME TOKEN: enrolls a new key NAME; prints the status; NAME.crt and NAME.id on 201.
enroll() {
    local name=$1 token=$2 code
    new_key "$name"
    jq -n --arg t "$token" --rawfile c "$WORK/$name.csr" '{token: $t, csr: $c}' >"$WORK/$name.enroll"
    code=$(http POST /v1/enroll "$WORK/$name.enroll" -H 'Content-Type: application/json')
    if [ "$code" = 201 ]; then
        jq -r .certificate "$WORK/resp" >"$WORK/$name.crt"
        jq -r .host_id "$WORK/resp" >"$WORK/$name.id"
    fi
    echo "$code"
}

# report NAME SEQ [JQ FILTER]: a minimal posture.report/v1 payload for host NAME into
# $WORK/NAME-SEQ.json (the filter edits it).
report() {
    local name=$1 seq=$2 filter=${3:-.}
    jq -n --arg h "$(cat "$WORK/$name.id")" --argjson s "$seq" --arg n "$name" '{
        schema: "posture.report/v1", host_id: $h, seq: $s, spool_dropped: 0,
        host: {hostname: $n},
        score: {secure: {current: 8, max: 8, percent: 100}},
        controls: [{id: "mgmt", title: "Secure management ports", max_score: 8, current: 8,
                    potential_increase: 0, healthy: true, in_score: true}],
        results: []}' | jq "$filter" >"$WORK/$name-$seq.json"
}

# sign NAME PAYLOAD [MODE]: the JWS of PAYLOAD by NAME's key into $WORK/jws.
sign() {
    "$JWS_TOOL" "$WORK/$1.key" "$WORK/$1.crt" "$2" "${3:-good}" >"$WORK/jws"
}

# post NAME FILE [CURL OPTIONS...]: POSTs FILE to /v1/reports with NAME's certificate.
post() {
    local name=$1 file=$2
    shift 2
    http POST /v1/reports "$file" --cert "$WORK/$name.crt" --key "$WORK/$name.key" \
        -H 'Content-Type: application/jose' "$@"
}

# db SQL: a query of the collector's database, waiting out a write in progress (a busy
# database would otherwise answer nothing).
db() {
    sqlite3 -cmd '.timeout 5000' "$STATE/collector.db" "$@"
}

stored_reports() {
    db 'SELECT count(*) FROM reports'
}

# expect_answer WHAT STATUS ERROR ACTUAL_STATUS: checks the status and the error word.
expect_answer() {
    expect_eq "$1: status" "$2" "$4"
    if [ -n "$3" ]; then
        expect_eq "$1: error" "$3" "$(jq -r .error "$WORK/resp" 2>/dev/null || echo '(not JSON)')"
    fi
}
