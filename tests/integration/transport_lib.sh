# SPDX-License-Identifier: Apache-2.0
# Shared helpers of the agent transport tests: a real posture-collector on loopback (a port
# picked free by trying), enrollment, reading what the collector stored, and checks of a
# signed report with the openssl command line. Sourced after lib.sh.
: "${COLLECTOR:?COLLECTOR must name the posture-collector binary}"
for tool in openssl sqlite3 jq; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed" >&2; exit 77; }
done

collector_pid=
port=

# start_collector DIR [PORT]: serves DIR on 127.0.0.1 (PORT, or a free one); sets $port.
start_collector() {
    local dir=$1 want=${2:-} try
    for try in $(seq 1 30); do
        port=${want:-$((20000 + RANDOM % 40000))}
        "$COLLECTOR" serve --listen "127.0.0.1:$port" --state-dir "$dir" \
            >>"$WORK/collector.log" 2>&1 &
        collector_pid=$!
        for _ in $(seq 1 100); do
            if ! kill -0 "$collector_pid" 2>/dev/null; then
                break
            fi
            if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
                return 0
            fi
            sleep 0.05
        done
        kill "$collector_pid" 2>/dev/null || true
        wait "$collector_pid" 2>/dev/null || true
        collector_pid=
        # the same port again may still be held by the stopped collector's sockets
        [ -n "$want" ] && sleep 0.2
    done
    echo "FAIL: the collector did not start (log: $(tail -5 "$WORK/collector.log"))" >&2
    exit 1
}

stop_collector() {
    if [ -n "$collector_pid" ]; then
        kill "$collector_pid" 2>/dev/null || true
        wait "$collector_pid" 2>/dev/null || true
        collector_pid=
    fi
}
trap stop_collector EXIT

# init_collector DIR: a new collector state (CA, server certificate for 127.0.0.1).
init_collector() {
    rm -rf "$1"
    "$COLLECTOR" init --name 127.0.0.1 --state-dir "$1" >/dev/null
}

# The CA's SHA-256 fingerprint, as `openssl x509 -fingerprint` prints it (colons, upper case).
ca_fingerprint() {
    openssl x509 -in "$1/ca.crt" -noout -fingerprint -sha256 | cut -d= -f2
}

# token DIR [ARGS...]: a new enrollment token.
token() {
    local dir=$1
    shift
    "$COLLECTOR" token create --state-dir "$dir" "$@"
}

# enroll CDIR STATE: enrolls agent state STATE with collector CDIR by CA file.
enroll() {
    "$POSTURE" enroll --collector "https://127.0.0.1:$port" --token "$(token "$1")" \
        --ca-file "$1/ca.crt" --state-dir "$2" >/dev/null
}

# stored_seqs CDIR HOST_ID: the sequence numbers the collector stored for the host, in order.
stored_seqs() {
    sqlite3 -cmd ".timeout 5000" "$1/collector.db" "SELECT seq FROM reports WHERE host_id = '$2' ORDER BY seq" |
        tr '\n' ' ' | sed 's/ $//'
}

# stored_jws CDIR HOST_ID SEQ: the signed report the collector stored.
stored_jws() {
    sqlite3 -cmd ".timeout 5000" "$1/collector.db" "SELECT jws FROM reports WHERE host_id = '$2' AND seq = $3"
}

# b64url_decode: base64url without padding (stdin) to bytes (stdout).
b64url_decode() {
    local s
    s=$(tr -- '-_' '+/')
    while [ $((${#s} % 4)) -ne 0 ]; do s="$s="; done
    printf '%s' "$s" | base64 -d
}

# payload FILE: the JSON payload of a compact JWS file.
payload() {
    cut -d. -f2 <"$1" | tr -d '\n' | b64url_decode
}

# openssl_verify JWS_FILE CERT: verifies the ES256 signature with the openssl command line,
# independently of posture: the raw r||s turned into a DER ECDSA-Sig-Value.
openssl_verify() {
    local jws=$1 cert=$2 d=$WORK/ossl sig
    mkdir -p "$d"
    openssl x509 -in "$cert" -noout -pubkey >"$d/pub.pem"
    printf '%s' "$(cut -d. -f1,2 <"$jws" | tr -d '\n')" >"$d/input"
    sig=$(cut -d. -f3 <"$jws" | tr -d '\n' | b64url_decode | od -An -v -tx1 | tr -d ' \n')
    [ ${#sig} -eq 128 ] || { echo "signature is ${#sig} hex digits, not 128" >&2; return 1; }
    printf 'asn1=SEQUENCE:sig\n[sig]\nr=INTEGER:0x%s\ns=INTEGER:0x%s\n' "${sig:0:64}" \
        "${sig:64:64}" >"$d/sig.cnf"
    openssl asn1parse -genconf "$d/sig.cnf" -out "$d/sig.der" -noout >/dev/null
    openssl dgst -sha256 -verify "$d/pub.pem" -signature "$d/sig.der" "$d/input" >/dev/null
}
