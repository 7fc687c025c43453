#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The sockets probe against `ss -ltunp` in a network namespace of its own, where a helper
# listens on loopback, on all addresses and on one other address, over TCP and
# UDP, IPv4 and IPv6.
. "$(dirname "$0")/lib.sh"

: "${LISTEN:?LISTEN must name the listen helper}"
command -v ss >/dev/null || { echo "SKIP: no ss"; exit 77; }
ns=pstsock-$$
if ! ip netns add "$ns" 2>"$WORK/err"; then
    echo "SKIP: network namespaces cannot be made here: $(cat "$WORK/err")"
    exit 77
fi
pid=
cleanup() {
    [ -z "$pid" ] || kill "$pid" 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
}
trap cleanup EXIT
ip -n "$ns" link set lo up
# an address outside 127.0.0.0/8 (kernels without the dummy or veth drivers still have lo)
ip -n "$ns" addr add 192.0.2.10/32 dev lo

ip netns exec "$ns" "$LISTEN" tcp/0.0.0.0/22 tcp/127.0.0.1/631 tcp/::/80 udp/0.0.0.0/161 \
    udp/127.0.0.1/53 tcp/192.0.2.10/3389 udp/::1/123 tcp/::1/25 tcp/127.0.0.53/5355 \
    >"$WORK/listen.out" &
pid=$!
for _ in $(seq 50); do
    grep -q ready "$WORK/listen.out" 2>/dev/null && break
    sleep 0.1
done
grep -q ready "$WORK/listen.out" || { fail "the listen helper did not start"; finish; }

# ss: Netid State Recv-Q Send-Q Local:Port Peer:Port users:(("name",pid=N,fd=M))
ip netns exec "$ns" ss -H -ltunp | awk '{
    local = $5; port = local; sub(/.*:/, "", port); addr = substr(local, 1, length(local) - length(port) - 1)
    gsub(/^\[|\]$/, "", addr); sub(/%.*/, "", addr); if (addr == "*") addr = "::"
    match($0, /\(\("[^"]*",pid=[0-9]+/); owner = substr($0, RSTART + 3, RLENGTH - 3)
    split(owner, o, "\",pid=")
    print $1, addr, port, o[1], o[2]
}' | sort >"$WORK/reference"
# ours, read each way (sock_diag, /proc/net, and the default): "proto address port process
# pid", as ss prints them
for source in netlink proc auto; do
    ip netns exec "$ns" "$POSTURE" probe sockets --arg "source=$source" --format json \
        >"$WORK/probe-$source.json"
    jq -r '.facts.listening.value[] | "\(.protocol) \(.address) \(.port) \(.process) \(.pid)"' \
        "$WORK/probe-$source.json" | sort >"$WORK/ours"
    if ! diff -u "$WORK/reference" "$WORK/ours" >"$WORK/diff"; then
        fail "listening sockets ($source) differ from ss -ltunp: $(cat "$WORK/diff")"
    fi
    expect_eq "no errors ($source)" "[]" "$(jq -c .errors "$WORK/probe-$source.json")"
done
expect_eq "read by sock_diag by default" "sock_diag (netlink)" \
    "$(jq -r .facts.listening.source "$WORK/probe-auto.json")"
expect_eq "read from /proc/net when asked" "/proc/net" \
    "$(jq -r .facts.listening.source "$WORK/probe-proc.json")"
cp "$WORK/probe-auto.json" "$WORK/probe.json"
expect_eq "count" 9 "$(jq .facts.listening_count.value "$WORK/probe.json")"
expect_eq "exposed ports" '["tcp/22","tcp/3389","tcp/80","udp/161"]' \
    "$(jq -c .facts.exposed_ports.value "$WORK/probe.json")"
expect_eq "all addresses" '["tcp/22","tcp/80","udp/161"]' \
    "$(jq -c .facts.all_addresses_ports.value "$WORK/probe.json")"
expect_eq "exposed count" 4 "$(jq .facts.exposed_count.value "$WORK/probe.json")"
expect_eq "owner" "listen $pid" \
    "$(jq -r '.facts.exposed.value[0] | "\(.process) \(.pid)"' "$WORK/probe.json")"

# The recommendations on listening sockets, live in the namespace: failing with nothing
# filtered, passing once a firewall drops by default, failing again when it opens rpcbind.
statuses() {
    ip netns exec "$ns" "$POSTURE" scan --only management-ports-not-exposed-unfiltered \
        --only risky-services-not-listening --format json |
        jq -r '[.results[] | "\(.id) \(.status)"] | sort | join(", ")'
}
ip netns exec "$ns" "$LISTEN" tcp/0.0.0.0/111 udp/::/69 >"$WORK/listen2.out" &
pid2=$!
for _ in $(seq 50); do
    grep -q ready "$WORK/listen2.out" 2>/dev/null && break
    sleep 0.1
done
expect_eq "no firewall" \
    "management-ports-not-exposed-unfiltered fail, risky-services-not-listening fail" "$(statuses)"
ip netns exec "$ns" nft -f - <<'NFT'
table inet filter {
    chain input {
        type filter hook input priority 0; policy drop;
        iif lo accept
        ct state established,related accept
    }
}
NFT
expect_eq "default drop" \
    "management-ports-not-exposed-unfiltered pass, risky-services-not-listening pass" "$(statuses)"
ip netns exec "$ns" nft add rule inet filter input tcp dport 111 accept
expect_eq "rpcbind open" \
    "management-ports-not-exposed-unfiltered pass, risky-services-not-listening fail" "$(statuses)"
kill "$pid2"

# Thousands of listeners: several netlink batches and /proc/net tables of hundreds of KiB,
# and more ports than a fixed-size list would hold (there was a silent cap at 4,096).
kill "$pid"
wait "$pid" 2>/dev/null || true
pid=
ports=()
for p in $(seq 20000 25999); do ports+=("tcp/0.0.0.0/$p"); done
(ulimit -n 8192 && exec ip netns exec "$ns" "$LISTEN" "${ports[@]}" udp/::/69) >"$WORK/listen3.out" &
pid=$!
for _ in $(seq 100); do
    grep -q ready "$WORK/listen3.out" 2>/dev/null && break
    sleep 0.1
done
grep -q ready "$WORK/listen3.out" || fail "the listen helper did not start 6,000 listeners"
want=$(ip netns exec "$ns" ss -H -ltun | wc -l)
expect_eq "ss sees them all" 6001 "$want"
for source in netlink proc; do
    ip netns exec "$ns" "$POSTURE" probe sockets --arg "source=$source" --arg max_findings=0 \
        --format json >"$WORK/many-$source.json"
    expect_eq "many sockets ($source)" "$want" \
        "$(jq .facts.listening_count.value "$WORK/many-$source.json")"
    expect_eq "many exposed ports ($source)" 6001 \
        "$(jq '.facts.exposed_ports.value | length' "$WORK/many-$source.json")"
    expect_eq "many sockets, no errors ($source)" "[]" "$(jq -c .errors "$WORK/many-$source.json")"
done
kill "$pid"

# an offline root has no sockets to list
mkdir -p "$WORK/root"
"$POSTURE" probe sockets --root "$WORK/root" --format json >"$WORK/offline.json"
expect_eq "offline" '"listening sockets: not available for an offline root"' \
    "$(jq -c '.errors[0].message' "$WORK/offline.json")"
finish
