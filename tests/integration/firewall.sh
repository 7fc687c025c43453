#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The firewall probe against real rulesets: each case loads a ruleset into a network namespace
# of its own (nft -f, iptables-nft-restore, iptables-legacy-restore, ufw's own ufw-init), runs
# `posture probe firewall` inside it and asserts every verdict field, checks that the probe
# left the ruleset as it was, then reads the same configuration persisted in an offline root
# (nftables.conf, rules.v4/v6, ufw's files) and asserts the same verdicts.
. "$(dirname "$0")/lib.sh"

command -v nft >/dev/null || { echo "SKIP: no nft"; exit 77; }
command -v jq >/dev/null || { echo "SKIP: no jq"; exit 77; }
probe_ns=pstfw-$$-probe
if ! ip netns add "$probe_ns" 2>"$WORK/err"; then
    echo "SKIP: network namespaces cannot be made here: $(cat "$WORK/err")"
    exit 77
fi
namespaces=("$probe_ns")
cleanup() {
    for ns in "${namespaces[@]}"; do
        ip netns del "$ns" 2>/dev/null || true
    done
}
trap cleanup EXIT
legacy=yes
if ! ip netns exec "$probe_ns" iptables-legacy -L INPUT -n >/dev/null 2>&1; then
    legacy=no
fi
ports=tcp/22,tcp/80,tcp/5901,udp/161,udp/5353,udp/1900

# The verdict fields of a probe answer, one line: every field the issue names, per family.
summary() {
    jq -r '.facts as $f | (.errors | map(.message |
        gsub("not known: [^;]* tests the"; "not known: RULE tests the"))
        | join("; ")) as $e |
        if $e != "" and ($f.input_default_ipv4 == null)
        then "error: " + $e
        else (["ipv4", "ipv6"] | map(. as $x |
        "\($x) filter=\($f["filtering_" + $x].value) in=\($f["input_default_" + $x].value)" +
        " fwd=\($f["forward_default_" + $x].value) lo=\($f["loopback_accepted_" + $x].value)" +
        " spoof=\($f["spoofed_loopback_dropped_" + $x].value)" +
        " est=\($f["established_accepted_" + $x].value)" +
        " open=\($f["open_ports_" + $x].value | if . == null then "null" else join(",") end)" +
        " p5901=\($f["port_open_" + $x].value)") | join(" | "))
        + (if $e != "" then " | error: " + $e else "" end) end' "$1"
}

# A root with PACKAGES installed and their UNITS enabled (systemd's [Install] links).
make_root() {
    local root=$1 pkg unit
    shift
    rm -rf "$root"
    mkdir -p "$root/var/lib/dpkg" "$root/usr/lib/systemd/system" "$root/etc/systemd/system"
    : >"$root/var/lib/dpkg/status"
    while [ $# -gt 0 ]; do
        pkg=$1 unit=$2
        shift 2
        printf 'Package: %s\nStatus: install ok installed\nArchitecture: all\nVersion: 1.0\n\n' \
            "$pkg" >>"$root/var/lib/dpkg/status"
        printf '[Unit]\nDescription=%s\n[Service]\nType=oneshot\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n' \
            "$unit" >"$root/usr/lib/systemd/system/$unit"
        mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
        ln -s "/usr/lib/systemd/system/$unit" "$root/etc/systemd/system/multi-user.target.wants/$unit"
    done
}

ruleset_of() {
    ip netns exec "$1" nft list ruleset 2>/dev/null
    if [ "$legacy" = yes ]; then
        ip netns exec "$1" iptables-legacy-save | { grep -v '^#' || true; }
        ip netns exec "$1" ip6tables-legacy-save | { grep -v '^#' || true; }
    fi
}

n=0
cases=0
# check NAME EXPECTED LOADER ARGS...: loads a ruleset into a fresh namespace and compares.
# LOADER: nft FILE | ipt FILE4 FILE6 | legacy FILE4 FILE6 | ufw DATADIR | mixed FILE FILE4
check() {
    local name=$1 want=$2 loader=$3 ns got before after
    shift 3
    n=$((n + 1))
    ns=pstfw-$$-$n
    ip netns add "$ns"
    namespaces+=("$ns")
    case "$loader" in
    nft) ip netns exec "$ns" nft -f "$1" ;;
    ipt)
        ip netns exec "$ns" iptables-nft-restore "$1"
        ip netns exec "$ns" ip6tables-nft-restore "$2"
        ;;
    legacy)
        ip netns exec "$ns" iptables-legacy-restore "$1"
        ip netns exec "$ns" ip6tables-legacy-restore "$2"
        ;;
    mixed)
        ip netns exec "$ns" nft -f "$1"
        ip netns exec "$ns" iptables-legacy-restore "$2"
        ;;
    ufw) ip netns exec "$ns" /lib/ufw/ufw-init --datadir "$1" start ;;
    esac
    before=$(ruleset_of "$ns")
    ip netns exec "$ns" "$POSTURE" probe firewall --format json --arg ports=$ports \
        --arg port=5901 >"$WORK/$name.json"
    after=$(ruleset_of "$ns")
    expect_eq "$name: the probe left the ruleset as it was" "$before" "$after"
    got=$(summary "$WORK/$name.json")
    expect_eq "$name (live)" "$want" "$got"
    cases=$((cases + 1))
    ip netns del "$ns"
}

# offline NAME EXPECTED ROOT: the same verdicts from the persisted configuration in ROOT.
offline() {
    local name=$1 want=$2 root=$3 got
    "$POSTURE" probe firewall --root "$root" --format json --arg ports=$ports --arg port=5901 \
        >"$WORK/$name.offline.json"
    got=$(summary "$WORK/$name.offline.json")
    expect_eq "$name (offline)" "$want" "$got"
}

# nftcase NAME EXPECTED: the ruleset on stdin, loaded live, then read as /etc/nftables.conf.
nftcase() {
    local name=$1 want=$2 root=$WORK/root-$1
    cat >"$WORK/$name.nft"
    check "$name" "$want" nft "$WORK/$name.nft"
    make_root "$root" nftables nftables.service
    { echo "flush ruleset"; cat "$WORK/$name.nft"; } >"$root/etc/nftables.conf"
    offline "$name" "$want" "$root"
}

# iptcase NAME EXPECTED: rules.v4 and rules.v6 (split at a line "----") on stdin.
iptcase() {
    local name=$1 want=$2 root=$WORK/root-$1
    awk -v a="$WORK/$name.v4" -v b="$WORK/$name.v6" '/^----$/ {f=1; next} {print > (f ? b : a)}'
    check "$name" "$want" ipt "$WORK/$name.v4" "$WORK/$name.v6"
    make_root "$root" iptables-persistent netfilter-persistent.service
    mkdir -p "$root/etc/iptables"
    cp "$WORK/$name.v4" "$root/etc/iptables/rules.v4"
    cp "$WORK/$name.v6" "$root/etc/iptables/rules.v6"
    offline "$name" "$want" "$root"
}

OPEN_ALL="filter=false in=accept fwd=accept lo=true spoof=false est=true open=tcp/22,tcp/80,tcp/5901,udp/161,udp/5353,udp/1900 p5901=true"

# 1 nothing loaded
nftcase empty "ipv4 $OPEN_ALL | ipv6 $OPEN_ALL" </dev/null

# 2 accept policy, a final drop rule decides
nftcase accept-policy-final-drop \
    "ipv4 filter=true in=drop fwd=accept lo=true spoof=false est=true open=tcp/22 p5901=false | ipv6 filter=true in=drop fwd=accept lo=true spoof=false est=true open=tcp/22 p5901=false" <<'EOF'
table inet filter {
    chain input {
        type filter hook input priority 0; policy accept;
        iif lo accept
        ct state established,related accept
        tcp dport 22 accept
        counter drop
    }
}
EOF

# 3 two base chains on input: one with policy drop decides for IPv4 only (an ip table)
nftcase drop-in-one-of-two \
    "ipv4 filter=true in=drop fwd=accept lo=false spoof=true est=false open= p5901=false | ipv6 filter=false in=accept fwd=accept lo=true spoof=false est=true open=tcp/22,tcp/80,tcp/5901,udp/161,udp/5353,udp/1900 p5901=true" <<'EOF'
table inet open {
    chain input {
        type filter hook input priority 0; policy accept;
        tcp dport 22 accept
    }
}
table ip closed {
    chain input {
        type filter hook input priority 10; policy drop;
    }
}
EOF
expect_eq "drop-in-one-of-two: decided by" '["ip closed input: policy drop"]' \
    "$(jq -c .facts.input_decided_by_ipv4.value "$WORK/drop-in-one-of-two.json")"
expect_eq "drop-in-one-of-two: ipv6 decided by" '["inet open input: policy accept"]' \
    "$(jq -c .facts.input_decided_by_ipv6.value "$WORK/drop-in-one-of-two.json")"

# 4 an inet table closes both families
nftcase inet-closed \
    "ipv4 filter=true in=drop fwd=drop lo=true spoof=false est=true open=tcp/22 p5901=false | ipv6 filter=true in=drop fwd=drop lo=true spoof=false est=true open=tcp/22 p5901=false" <<'EOF'
table inet filter {
    chain input {
        type filter hook input priority filter; policy drop;
        iifname "lo" accept
        ct state { established, related } accept
        ct state invalid drop
        tcp dport ssh accept
    }
    chain forward {
        type filter hook forward priority filter; policy drop;
    }
}
EOF

# 5 IPv4 closed by an ip table, IPv6 left open
nftcase ipv6-left-open \
    "ipv4 filter=true in=drop fwd=drop lo=true spoof=false est=true open=tcp/22 p5901=false | ipv6 $OPEN_ALL" <<'EOF'
table ip filter {
    chain input {
        type filter hook input priority 0; policy drop;
        iif lo accept
        ct state established,related accept
        tcp dport 22 accept
    }
    chain forward {
        type filter hook forward priority 0; policy drop;
    }
}
EOF

# 6 an ip6 table closes IPv6 only
nftcase ipv4-left-open \
    "ipv4 $OPEN_ALL | ipv6 filter=true in=drop fwd=accept lo=false spoof=true est=false open= p5901=false" <<'EOF'
table ip6 filter {
    chain input {
        type filter hook input priority 0; policy drop;
    }
}
EOF

# 7 SSH from one subnet only, and a port range
nftcase ssh-from-subnet \
    "ipv4 filter=true in=drop fwd=accept lo=true spoof=false est=true open=tcp/5901 p5901=true | ipv6 filter=true in=drop fwd=accept lo=true spoof=false est=true open=tcp/5901 p5901=true" <<'EOF'
table inet filter {
    chain input {
        type filter hook input priority 0; policy drop;
        iif lo accept
        ct state established,related accept
        ip saddr 10.0.0.0/8 tcp dport 22 accept
        ip6 saddr fd00::/8 tcp dport 22 accept
        tcp dport 5900-5910 accept
    }
}
EOF

# 8 the inet family test in one table: IPv6 dropped by a rule, IPv4 open
nftcase nfproto-rule \
    "ipv4 $OPEN_ALL | ipv6 filter=true in=drop fwd=accept lo=true spoof=true est=true open= p5901=false" <<'EOF'
table inet filter {
    chain input {
        type filter hook input priority 0; policy accept;
        iif lo accept
        ct state established,related accept
        meta nfproto ipv6 drop
    }
}
EOF

# 9 loopback spoofing: 127.0.0.0/8 from elsewhere dropped, IPv6's ::1 not
nftcase spoofed-loopback \
    "ipv4 filter=false in=accept fwd=accept lo=true spoof=true est=true open=tcp/22,tcp/80,tcp/5901,udp/161,udp/5353,udp/1900 p5901=true | ipv6 $OPEN_ALL" <<'EOF'
table inet filter {
    chain input {
        type filter hook input priority 0; policy accept;
        iif lo accept
        iif != lo ip saddr 127.0.0.0/8 drop
    }
}
EOF

# 10 jumps, gotos and returns into regular chains; a set of ports; reject counts as drop
nftcase jumps-and-sets \
    "ipv4 filter=true in=drop fwd=accept lo=true spoof=false est=true open=tcp/22,tcp/80 p5901=false | ipv6 filter=true in=drop fwd=accept lo=true spoof=false est=true open=tcp/22,tcp/80 p5901=false" <<'EOF'
table inet filter {
    chain services {
        tcp dport { 22, 80, 443 } accept
        return
    }
    chain established {
        ct state established,related accept
    }
    chain input {
        type filter hook input priority 0; policy accept;
        iif lo accept
        jump established
        jump services
        udp dport 161 reject
        reject with icmpx type admin-prohibited
    }
}
EOF

# 11 chains on one hook run in priority order: an accept at -10 does not save a packet a later
# chain drops (udp/161); every TCP port is accepted, so new connections are accepted by default
nftcase priorities \
    "ipv4 filter=true in=accept fwd=accept lo=true spoof=false est=true open=tcp/22,tcp/80,tcp/5901 p5901=true | ipv6 filter=true in=accept fwd=accept lo=true spoof=false est=true open=tcp/22,tcp/80,tcp/5901 p5901=true" <<'EOF'
table inet early {
    chain input {
        type filter hook input priority -10; policy accept;
        accept
    }
}
table inet late {
    chain input {
        type filter hook input priority 10; policy accept;
        iif lo accept
        ct state established,related accept
        meta l4proto tcp accept
        drop
    }
}
EOF

# 12 verdict maps: on the conntrack state, on ports with ranges and a jump, on the protocol
nftcase verdict-maps \
    "ipv4 filter=true in=accept fwd=accept lo=true spoof=false est=true open=tcp/80,udp/161,udp/5353,udp/1900 p5901=false | ipv6 filter=true in=accept fwd=accept lo=true spoof=false est=true open=tcp/80,udp/161,udp/5353,udp/1900 p5901=false" <<'EOF'
table inet filter {
    chain ssh {
        ip saddr 10.0.0.0/8 accept
    }
    chain input {
        type filter hook input priority 0; policy drop;
        ct state vmap { established : accept, related : accept, invalid : drop }
        iif lo accept
        tcp dport vmap { 22 : jump ssh, 80-89 : accept, 5900-5999 : drop, 6000 : accept }
        meta l4proto vmap { udp : accept }
    }
}
EOF
# every UDP port is accepted by the protocol map: it decides the default
expect_eq "verdict-maps: the protocol map decides" \
    '["inet filter input: kernel: inet filter input handle 10"]' \
    "$(jq -c .facts.input_decided_by_ipv4.value "$WORK/verdict-maps.json")"

# 13 forward closed, input open
nftcase forward-only \
    "ipv4 filter=false in=accept fwd=drop lo=true spoof=false est=true open=tcp/22,tcp/80,tcp/5901,udp/161,udp/5353,udp/1900 p5901=true | ipv6 filter=false in=accept fwd=drop lo=true spoof=false est=true open=tcp/22,tcp/80,tcp/5901,udp/161,udp/5353,udp/1900 p5901=true" <<'EOF'
table inet filter {
    chain forward {
        type filter hook forward priority 0; policy drop;
    }
}
EOF

# 14 firewalld's nftables backend: the chains firewalld 1.3 writes for the public zone with
# the ssh service (intra-zone forwarding off)
nftcase firewalld-public \
    "ipv4 filter=true in=drop fwd=drop lo=true spoof=false est=true open=tcp/22 p5901=false | ipv6 filter=true in=drop fwd=drop lo=true spoof=false est=true open=tcp/22 p5901=false" <<'EOF'
table inet firewalld {
    chain filter_INPUT {
        type filter hook input priority filter + 10; policy accept;
        ct state { established, related } accept
        ct status dnat accept
        iifname "lo" accept
        ct state invalid drop
        jump filter_INPUT_ZONES
        reject with icmpx admin-prohibited
    }
    chain filter_FORWARD {
        type filter hook forward priority filter + 10; policy accept;
        ct state { established, related } accept
        ct status dnat accept
        iifname "lo" accept
        ct state invalid drop
        jump filter_FORWARD_ZONES
        reject with icmpx admin-prohibited
    }
    chain filter_INPUT_ZONES {
        iifname "eth0" goto filter_IN_public
        goto filter_IN_public
    }
    chain filter_FORWARD_ZONES {
        iifname "eth0" goto filter_FWD_public
        goto filter_FWD_public
    }
    chain filter_IN_public {
        jump filter_IN_public_pre
        jump filter_IN_public_log
        jump filter_IN_public_deny
        jump filter_IN_public_allow
        jump filter_IN_public_post
        meta l4proto { icmp, ipv6-icmp } accept
    }
    chain filter_IN_public_pre {
    }
    chain filter_IN_public_log {
    }
    chain filter_IN_public_deny {
    }
    chain filter_IN_public_allow {
        tcp dport 22 ct state { new, untracked } accept
        ip6 daddr fe80::/64 udp dport 546 ct state { new, untracked } accept
    }
    chain filter_IN_public_post {
    }
    chain filter_FWD_public {
        jump filter_FWD_public_allow
    }
    chain filter_FWD_public_allow {
    }
}
EOF

# 15 iptables-nft: conntrack, multiport, a subnet; IPv6 left with an accept policy
iptcase iptables-nft \
    "ipv4 filter=true in=drop fwd=drop lo=true spoof=false est=true open=tcp/80,tcp/5901 p5901=true | ipv6 $OPEN_ALL" <<'EOF'
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -m conntrack --ctstate INVALID -j DROP
-A INPUT -s 192.168.0.0/16 -p tcp -m tcp --dport 22 -j ACCEPT
-A INPUT -p tcp -m multiport --dports 80,443,5900:5910 -j ACCEPT
COMMIT
----
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
COMMIT
EOF

# 16 iptables-nft: accept policies with a final REJECT, the state match, a user chain
iptcase iptables-nft-reject \
    "ipv4 filter=true in=drop fwd=accept lo=true spoof=false est=true open=tcp/22 p5901=false | ipv6 filter=true in=drop fwd=accept lo=true spoof=false est=true open=tcp/22 p5901=false" <<'EOF'
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:services - [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT
-A INPUT -j services
-A INPUT -j REJECT --reject-with icmp-host-prohibited
-A services -p tcp --dport 22 -j ACCEPT
COMMIT
----
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:services - [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -j services
-A INPUT -j REJECT
-A services -p tcp -m tcp --dport 22 -j ACCEPT
COMMIT
EOF

# 17 iptables-nft: SSH open to all, loopback spoofing dropped, udp open
iptcase iptables-nft-spoof \
    "ipv4 filter=true in=drop fwd=accept lo=true spoof=true est=true open=tcp/22,udp/161 p5901=false | ipv6 filter=true in=drop fwd=accept lo=true spoof=true est=true open=tcp/22 p5901=false" <<'EOF'
*filter
:INPUT DROP [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -s 127.0.0.0/8 ! -i lo -j DROP
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p tcp --dport 22 -j ACCEPT
-A INPUT -p udp --dport 161 -j ACCEPT
COMMIT
----
*filter
:INPUT DROP [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -s ::1/128 ! -i lo -j DROP
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p tcp --dport 22 -j ACCEPT
COMMIT
EOF

# a negated port test and a full range open every port but one: the default is what a port no
# rule names gets (tcp), so this is no default-deny
nftcase port-not-23 \
    "ipv4 filter=true in=accept fwd=accept lo=true spoof=false est=true open=tcp/22,tcp/80,tcp/5901,udp/161,udp/5353,udp/1900 p5901=true | ipv6 filter=true in=accept fwd=accept lo=true spoof=false est=true open=tcp/22,tcp/80,tcp/5901,udp/161,udp/5353,udp/1900 p5901=true" <<'EOF'
table inet filter {
    chain input {
        type filter hook input priority 0; policy drop;
        iif lo accept
        ct state established,related accept
        tcp dport != 23 accept
        udp dport 1-65535 accept
    }
}
EOF
iptcase port-not-23-ipt \
    "ipv4 filter=true in=accept fwd=accept lo=true spoof=false est=true open=tcp/22,tcp/80,tcp/5901,udp/161,udp/5353,udp/1900 p5901=true | ipv6 filter=true in=accept fwd=accept lo=true spoof=false est=true open=tcp/80,udp/161,udp/5353,udp/1900 p5901=false" <<'EOF'
*filter
:INPUT DROP [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p tcp -m tcp ! --dport 23 -j ACCEPT
-A INPUT -p udp -m udp --dport 1:65535 -j ACCEPT
COMMIT
----
*filter
:INPUT DROP [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p tcp -m tcp --dport 80 -j ACCEPT
-A INPUT -p udp -j ACCEPT
COMMIT
EOF

# tests of the destination: loopback destinations dropped from outside (the Arch wiki's rules)
# do not drop everything, and they are no spoofing protection; ufw's multicast rules
# (-d 224.0.0.251 --dport 5353) do not open a port: ufw-default and daddr-ipt cover those
nftcase daddr-loopback \
    "ipv4 filter=true in=drop fwd=accept lo=true spoof=false est=false open=tcp/22 p5901=false | ipv6 filter=true in=drop fwd=accept lo=true spoof=false est=false open=tcp/22 p5901=false" <<'EOF'
table inet filter {
    chain input {
        type filter hook input priority 0; policy drop;
        iif lo accept
        iif != lo ip daddr 127.0.0.0/8 drop
        iif != lo ip6 daddr ::1/128 drop
        tcp dport 22 accept
    }
}
EOF

# a destination that may be this host's address decides port 80: that answer is an error
nftcase daddr-unicast \
    "ipv4 filter=true in=drop fwd=accept lo=true spoof=null est=true open=null p5901=false | ipv6 filter=true in=drop fwd=accept lo=true spoof=false est=true open=tcp/22 p5901=false | error: open_ports_ipv4: not known: RULE tests the destination address, and which local address the traffic is for decides; spoofed_loopback_dropped_ipv4: not known: RULE tests the destination address, and which local address the traffic is for decides" <<'EOF'
table inet filter {
    chain input {
        type filter hook input priority 0; policy drop;
        iif lo accept
        ct state established,related accept
        ip daddr != 224.0.0.0/4 tcp dport 22 accept
        ip daddr 192.0.2.1 tcp dport 80 accept
        ip6 daddr ::/0 tcp dport 22 accept
    }
}
EOF
iptcase daddr-ipt \
    "ipv4 filter=true in=drop fwd=accept lo=true spoof=true est=true open= p5901=false | ipv6 filter=true in=drop fwd=accept lo=true spoof=false est=true open=tcp/22 p5901=false" <<'EOF'
*filter
:INPUT DROP [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -d 224.0.0.251/32 -p udp -m udp --dport 5353 -j ACCEPT
-A INPUT -d 239.255.255.250/32 -p udp -m udp --dport 1900 -j ACCEPT
COMMIT
----
*filter
:INPUT DROP [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT ! -d ::1/128 -p tcp -m tcp --dport 22 -j ACCEPT
-A INPUT -d ff02::fb/128 -p udp -m udp --dport 5353 -j ACCEPT
COMMIT
EOF

# a negated source restriction: only 10.0.0.0/8 (and the set) can connect, not any source
nftcase saddr-negated \
    "ipv4 filter=true in=drop fwd=accept lo=true spoof=false est=true open= p5901=false | ipv6 filter=true in=drop fwd=accept lo=true spoof=false est=true open=tcp/22,tcp/80 p5901=false" <<'EOF'
table inet filter {
    set mgmt {
        type ipv4_addr
        elements = { 10.1.1.1 }
    }
    chain input {
        type filter hook input priority 0; policy drop;
        iif lo accept
        ct state established,related accept
        tcp dport 22 ip saddr != 10.0.0.0/8 drop
        tcp dport 22 accept
        tcp dport 80 ip saddr != @mgmt drop
        tcp dport 80 accept
    }
}
EOF
iptcase saddr-negated-ipt \
    "ipv4 filter=true in=drop fwd=accept lo=true spoof=false est=false open=tcp/80 p5901=false | ipv6 filter=true in=drop fwd=accept lo=true spoof=true est=false open= p5901=false" <<'EOF'
*filter
:INPUT DROP [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT ! -s 10.0.0.0/8 -p tcp -m tcp --dport 22 -j DROP
-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
-A INPUT -s 0.0.0.0/0 -p tcp -m tcp --dport 80 -j ACCEPT
COMMIT
----
*filter
:INPUT DROP [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT ! -s fd00::/8 -p tcp -m tcp --dport 22 -j DROP
-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
COMMIT
EOF

# rules limited to named input interfaces: not open to everyone, not closed for everyone
nftcase iface-accept \
    "ipv4 filter=true in=drop fwd=accept lo=true spoof=false est=true open=tcp/5901 p5901=true | ipv6 filter=true in=drop fwd=accept lo=true spoof=false est=true open=tcp/5901 p5901=true" <<'EOF'
table inet filter {
    chain input {
        type filter hook input priority 0; policy drop;
        iifname "lo" accept
        ct state established,related accept
        iifname "wg0" tcp dport 22 accept
        iifname "eth*" tcp dport 80 accept
        iifname != "eth0" tcp dport 5901 accept
    }
}
EOF
nftcase iface-drop \
    "ipv4 filter=true in=accept fwd=accept lo=true spoof=false est=true open=tcp/22,tcp/80,tcp/5901,udp/5353,udp/1900 p5901=true | ipv6 filter=true in=accept fwd=accept lo=true spoof=false est=true open=tcp/22,tcp/80,tcp/5901,udp/5353,udp/1900 p5901=true" <<'EOF'
table inet filter {
    chain input {
        type filter hook input priority 0; policy accept;
        iifname "eth0" tcp dport 22 drop
        iifname "eth*" tcp dport 80 drop
        iifname != { "lo", "eth0" } udp dport 161 drop
    }
}
EOF
nftcase iface-set-negated \
    "ipv4 filter=true in=drop fwd=accept lo=true spoof=true est=false open= p5901=false | ipv6 filter=true in=drop fwd=accept lo=true spoof=true est=false open= p5901=false" <<'EOF'
table inet filter {
    chain input {
        type filter hook input priority 0; policy accept;
        iifname != { "lo", "eth0" } drop
    }
}
EOF
iptcase iface-ipt \
    "ipv4 filter=true in=drop fwd=accept lo=true spoof=true est=true open=tcp/5901 p5901=true | ipv6 filter=false in=accept fwd=accept lo=true spoof=false est=true open=tcp/22,tcp/80,tcp/5901,udp/161,udp/5353,udp/1900 p5901=true" <<'EOF'
*filter
:INPUT DROP [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -i lo+ -j ACCEPT
-A INPUT -s 127.0.0.0/8 -j DROP
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -i wg0 -p tcp -m tcp --dport 22 -j ACCEPT
-A INPUT -i eth+ -p tcp -m tcp --dport 80 -j ACCEPT
-A INPUT ! -i eth0 -p tcp -m tcp --dport 5901 -j ACCEPT
COMMIT
----
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -i eth0 -p tcp -m tcp --dport 22 -j DROP
-A INPUT -i eth+ -p tcp -m tcp --dport 80 -j DROP
COMMIT
EOF

# filtering counts drops of input traffic only: not an unused chain's, not forward's
nftcase filtering-unused \
    "ipv4 filter=false in=accept fwd=drop lo=true spoof=false est=true open=tcp/22,tcp/80,tcp/5901,udp/161,udp/5353,udp/1900 p5901=true | ipv6 filter=false in=accept fwd=drop lo=true spoof=false est=true open=tcp/22,tcp/80,tcp/5901,udp/161,udp/5353,udp/1900 p5901=true" <<'EOF'
table inet filter {
    chain unused {
        tcp dport 22 drop
        drop
    }
    chain input {
        type filter hook input priority 0; policy accept;
    }
    chain forward {
        type filter hook forward priority 0; policy drop;
    }
}
EOF

# a dormant table's chains are on no hook: the kernel accepts everything
nftcase dormant "ipv4 $OPEN_ALL | ipv6 $OPEN_ALL" <<'EOF'
table inet filter {
    flags dormant
    chain input {
        type filter hook input priority 0; policy drop;
    }
}
EOF

# more base chains on one hook than the evaluation holds: an error, not the first 64's verdict
for i in $(seq 1 64); do
    printf 'table inet t%d {\n    chain input {\n        type filter hook input priority %d; policy accept;\n    }\n}\n' "$i" "$i"
done >"$WORK/many-base-chains.in"
printf 'table inet t65 {\n    chain input {\n        type filter hook input priority 65; policy drop;\n    }\n}\n' \
    >>"$WORK/many-base-chains.in"
nftcase many-base-chains \
    "ipv4 filter=null in=null fwd=accept lo=null spoof=null est=null open=null p5901=null | ipv6 filter=null in=null fwd=accept lo=null spoof=null est=null open=null p5901=null | error: input_default_ipv4: not known: more than 64 base chains on one hook; loopback_accepted_ipv4: not known: more than 64 base chains on one hook; established_accepted_ipv4: not known: more than 64 base chains on one hook; open_ports_ipv4: not known: more than 64 base chains on one hook; port_open_ipv4: not known: more than 64 base chains on one hook; spoofed_loopback_dropped_ipv4: not known: more than 64 base chains on one hook; filtering_ipv4: not known: more than 64 base chains on one hook; input_default_ipv6: not known: more than 64 base chains on one hook; loopback_accepted_ipv6: not known: more than 64 base chains on one hook; established_accepted_ipv6: not known: more than 64 base chains on one hook; open_ports_ipv6: not known: more than 64 base chains on one hook; port_open_ipv6: not known: more than 64 base chains on one hook; spoofed_loopback_dropped_ipv6: not known: more than 64 base chains on one hook; filtering_ipv6: not known: more than 64 base chains on one hook" \
    <"$WORK/many-base-chains.in"

# concatenations are not a set of their first field: tcp/22 from one address is not open to
# all, and a protocol . port map does not open every UDP port
check concat \
    "ipv4 filter=true in=drop fwd=accept lo=true spoof=true est=true open= p5901=false | ipv6 filter=true in=drop fwd=accept lo=true spoof=true est=true open= p5901=false" \
    nft /dev/stdin <<'EOF'
table inet filter {
    chain input {
        type filter hook input priority 0; policy drop;
        iif lo accept
        ct state established,related accept
        tcp dport . ip saddr { 22 . 10.0.0.1 } accept
        meta l4proto . th dport { udp . 1900 } accept
        meta l4proto . th dport vmap { udp . 5353 : accept }
    }
}
EOF

# offline, the nft reader does not read concatenations: an error, never a guess
make_root "$WORK/root-concat" nftables nftables.service
printf 'table inet filter {\n chain input {\n  type filter hook input priority 0; policy drop;\n  tcp dport . ip saddr { 22 . 10.0.0.1 } accept\n }\n}\n' \
    >"$WORK/root-concat/etc/nftables.conf"
offline concat "error: /etc/nftables.conf:4: '.' is not a port" "$WORK/root-concat"

# a ruleset swapped while it is read: every answer is one of the two rulesets, or the error
# that it kept changing, never chains of one with rules of the other
n=$((n + 1))
ns=pstfw-$$-$n
ip netns add "$ns"
namespaces+=("$ns")
# many rules make the reads long, and a change between them likely
filler=$(seq 1000 4000 | sed 's/.*/  tcp dport & counter/')
printf 'flush ruleset\ntable inet f {\n chain filler {\n%s\n }\n chain input {\n  type filter hook input priority 0; policy drop;\n  tcp dport 22 accept\n }\n}\n' "$filler" >"$WORK/swap-a.nft"
printf 'flush ruleset\ntable inet f {\n chain filler {\n%s\n }\n chain input {\n  type filter hook input priority 0; policy accept;\n  tcp dport 22 drop\n }\n}\n' "$filler" >"$WORK/swap-b.nft"
ip netns exec "$ns" nft -f "$WORK/swap-a.nft"
(
    end=$((SECONDS + 4))
    while [ $SECONDS -lt $end ]; do
        ip netns exec "$ns" nft -f "$WORK/swap-b.nft"
        ip netns exec "$ns" nft -f "$WORK/swap-a.nft"
    done
) &
swapper=$!
bad=0
for i in $(seq 1 40); do
    ip netns exec "$ns" "$POSTURE" probe firewall --format json --arg ports=tcp/22,tcp/80 \
        >"$WORK/swap.json"
    got=$(jq -r '[.facts.input_default_ipv4.value, (.facts.open_ports_ipv4.value // [] | join(",")),
        (.errors | map(.message) | join(";"))] | join(" ")' "$WORK/swap.json")
    case "$got" in
    "drop tcp/22 " | "accept tcp/80 " | *"the ruleset changed while it was read"*) ;;
    *)
        bad=$((bad + 1))
        echo "swap: neither ruleset nor the error that it changed: $got"
        ;;
    esac
done
wait "$swapper"
expect_eq "swap: answers of neither ruleset" 0 "$bad"
ip netns del "$ns"

# 18-19 iptables-legacy tables combine with nftables' base chains as the kernel runs both
if [ "$legacy" = yes ]; then
    cat >"$WORK/legacy.v4" <<'EOF'
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p tcp --dport 22 -j ACCEPT
COMMIT
EOF
    cat >"$WORK/legacy.v6" <<'EOF'
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
COMMIT
EOF
    check iptables-legacy \
        "ipv4 filter=true in=drop fwd=drop lo=true spoof=false est=true open=tcp/22 p5901=false | ipv6 $OPEN_ALL" \
        legacy "$WORK/legacy.v4" "$WORK/legacy.v6"
    expect_eq "iptables-legacy: decided by" '["ip filter-legacy INPUT: policy drop"]' \
        "$(jq -c .facts.input_decided_by_ipv4.value "$WORK/iptables-legacy.json")"
    cat >"$WORK/mixed.nft" <<'EOF'
table inet filter {
    chain input {
        type filter hook input priority 0; policy accept;
        tcp dport 80 accept
    }
}
EOF
    check legacy-and-nft \
        "ipv4 filter=true in=drop fwd=drop lo=true spoof=false est=true open=tcp/22 p5901=false | ipv6 $OPEN_ALL" \
        mixed "$WORK/mixed.nft" "$WORK/legacy.v4"
else
    echo "SKIP: iptables-legacy cases (the kernel has no legacy iptables modules here)"
fi

# 20-23 ufw: its own ufw-init loads its rules files into the namespace (no daemon), then the
# same files are read from an offline root
if [ -x /lib/ufw/ufw-init ] && [ -d /usr/share/ufw/iptables ]; then
    # ufwcase NAME EXPECTED INPUT_POLICY IPV6 RULES...: "ufw allow" rules as user.rules has them
    ufwcase() {
        local name=$1 want=$2 policy=$3 ipv6=$4 root=$WORK/root-$1 rule
        shift 4
        make_root "$root" ufw ufw.service
        mkdir -p "$root/etc/ufw" "$root/etc/default"
        cp /usr/share/ufw/iptables/*.rules "$root/etc/ufw/"
        printf 'ENABLED=yes\nLOGLEVEL=low\n' >"$root/etc/ufw/ufw.conf"
        cat >"$root/etc/default/ufw" <<EOF
IPV6=$ipv6
DEFAULT_INPUT_POLICY="$policy"
DEFAULT_OUTPUT_POLICY="ACCEPT"
DEFAULT_FORWARD_POLICY="DROP"
DEFAULT_APPLICATION_POLICY="SKIP"
MANAGE_BUILTINS=no
IPT_SYSCTL=
IPT_MODULES=""
EOF
        for rule in "$@"; do
            sed -i "s|^### RULES ###|&\n-A ufw-user-input $rule|" "$root/etc/ufw/user.rules"
            sed -i "s|^### RULES ###|&\n-A ufw6-user-input $rule|" "$root/etc/ufw/user6.rules"
        done
        check "$name" "$want" ufw "$root"
        offline "$name" "$want" "$root"
        expect_eq "$name: front end" '"ufw"' "$(jq -c .facts.frontend.value "$WORK/$name.offline.json")"
    }
    ufwcase ufw-default \
        "ipv4 filter=true in=drop fwd=drop lo=true spoof=true est=true open= p5901=false | ipv6 filter=true in=drop fwd=drop lo=true spoof=true est=true open= p5901=false" \
        DROP yes
    ufwcase ufw-allow-ssh \
        "ipv4 filter=true in=drop fwd=drop lo=true spoof=false est=true open=tcp/22,tcp/5901 p5901=true | ipv6 filter=true in=drop fwd=drop lo=true spoof=false est=true open=tcp/22,tcp/5901 p5901=true" \
        DROP yes "-p tcp --dport 22 -j ACCEPT" "-p tcp -m multiport --dports 5900:5910 -j ACCEPT"
    ufwcase ufw-reject-ipv4-only \
        "ipv4 filter=true in=drop fwd=drop lo=true spoof=false est=true open=tcp/80 p5901=false | ipv6 filter=true in=drop fwd=drop lo=true spoof=true est=false open= p5901=false" \
        REJECT no "-p tcp --dport 80 -j ACCEPT"
    ufwcase ufw-accept-incoming \
        "ipv4 filter=false in=accept fwd=drop lo=true spoof=false est=true open=tcp/22,tcp/80,tcp/5901,udp/161,udp/5353,udp/1900 p5901=true | ipv6 filter=false in=accept fwd=drop lo=true spoof=false est=true open=tcp/22,tcp/80,tcp/5901,udp/161,udp/5353,udp/1900 p5901=true" \
        ACCEPT yes
else
    fail "ufw is not installed (install/setup.sh installs it): its cases cannot run"
fi

# Offline-only answers: what nothing persists, firewalld, an nft reader error, a garbled file.
make_root "$WORK/root-none"
offline none "ipv4 $OPEN_ALL | ipv6 $OPEN_ALL" "$WORK/root-none"
expect_eq "none: front end" '"none"' "$(jq -c .facts.frontend.value "$WORK/none.offline.json")"

make_root "$WORK/root-two" ufw ufw.service firewalld firewalld.service
mkdir -p "$WORK/root-two/etc/ufw"
echo ENABLED=yes >"$WORK/root-two/etc/ufw/ufw.conf"
"$POSTURE" probe firewall --root "$WORK/root-two" --format json >"$WORK/two.json"
expect_eq "two front ends" '"multiple" ["ufw","firewalld"]' \
    "$(jq -c '.facts.frontend.value, .facts.frontends.value' "$WORK/two.json" | paste -sd' ')"

make_root "$WORK/root-garbled" nftables nftables.service
printf 'table inet filter {\n  chain input {\n    type filter hook input priority 0; policy drop;\n    tcp dport 22 frobnicate\n  }\n}\n' \
    >"$WORK/root-garbled/etc/nftables.conf"
offline garbled \
    "error: /etc/nftables.conf:4: 'frobnicate' is not understood by posture's nft reader" \
    "$WORK/root-garbled"

make_root "$WORK/root-garbled4" iptables-persistent netfilter-persistent.service
mkdir -p "$WORK/root-garbled4/etc/iptables"
printf '*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport ssh,,x -j ACCEPT\nCOMMIT\n' \
    >"$WORK/root-garbled4/etc/iptables/rules.v4"
offline garbled-v4 "error: /etc/iptables/rules.v4:3: 'ssh,,x' is not a port" "$WORK/root-garbled4"

# files iptables-restore rejects, and targets that decide in ways not evaluated: errors
make_root "$WORK/root-nocommit" iptables-persistent netfilter-persistent.service
mkdir -p "$WORK/root-nocommit/etc/iptables"
printf '*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\n' \
    >"$WORK/root-nocommit/etc/iptables/rules.v4"
offline no-commit "error: /etc/iptables/rules.v4:3: the table ends without COMMIT" \
    "$WORK/root-nocommit"
printf '*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 22 -j LOGDROP\nCOMMIT\n' \
    >"$WORK/root-nocommit/etc/iptables/rules.v4"
offline undeclared-target \
    "error: /etc/iptables/rules.v4:3: -j LOGDROP: neither a declared chain nor a target posture evaluates" \
    "$WORK/root-nocommit"
printf '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport 22 -j LOG\n-A INPUT -j NFQUEUE --queue-num 1\nCOMMIT\n' \
    >"$WORK/root-nocommit/etc/iptables/rules.v4"
offline nfqueue-target \
    "error: /etc/iptables/rules.v4:4: -j NFQUEUE: neither a declared chain nor a target posture evaluates" \
    "$WORK/root-nocommit"
head -c 3000 /dev/urandom >"$WORK/root-garbled4/etc/iptables/rules.v4" || true
"$POSTURE" probe firewall --root "$WORK/root-garbled4" --format json >"$WORK/random.json" ||
    fail "random rules.v4: the probe failed"
expect_eq "random rules.v4: an error, no verdict" "null 1" \
    "$(jq -c '[.facts.input_default_ipv4, (.errors | length)] | map(tostring) | join(" ")' -r "$WORK/random.json")"

# beyond the bound of rules: an error that says so, not a verdict from part of the file
{
    echo '*filter'
    echo ':INPUT DROP [0:0]'
    awk 'BEGIN { for (i = 0; i < 200001; i++) printf "-A INPUT -p tcp --dport %d -j ACCEPT\n", i % 60000 + 1 }'
    echo COMMIT
} >"$WORK/root-garbled4/etc/iptables/rules.v4"
offline too-many-rules \
    "error: /etc/iptables/rules.v4: more than 200000 rules, 20000 chains or 32 matches in a rule" \
    "$WORK/root-garbled4"

# includes, defines and a glob
make_root "$WORK/root-include" nftables nftables.service
mkdir -p "$WORK/root-include/etc/nftables.d"
cat >"$WORK/root-include/etc/nftables.conf" <<'EOF'
#!/usr/sbin/nft -f
flush ruleset
define ssh_port = 22
define admin_net = 10.1.0.0/16
include "/etc/nftables.d/*.nft"
EOF
cat >"$WORK/root-include/etc/nftables.d/10-filter.nft" <<'EOF'
table inet filter {
    chain input {
        type filter hook input priority 0; policy drop;
        iif lo accept
        ct state established,related accept
        ip saddr $admin_net tcp dport $ssh_port accept
        tcp dport 80 accept
    }
}
EOF
offline include \
    "ipv4 filter=true in=drop fwd=accept lo=true spoof=false est=true open=tcp/80 p5901=false | ipv6 filter=true in=drop fwd=accept lo=true spoof=false est=true open=tcp/80 p5901=false" \
    "$WORK/root-include"
expect_eq "include: sources" '["/etc/nftables.conf","/etc/nftables.d/10-filter.nft"]' \
    "$(jq -c .facts.sources.value "$WORK/include.offline.json")"

# 10,000 rules: read whole, right answer
{
    echo 'table inet big {'
    echo 'chain input { type filter hook input priority 0; policy drop;'
    for i in $(seq 1 10000); do
        echo "ip saddr 10.$((i / 250 % 250)).$((i % 250)).1 tcp dport $((i % 60000 + 1)) accept"
    done
    echo 'tcp dport 5901 accept'
    echo '}'
    echo '}'
} >"$WORK/big.nft"
check big \
    "ipv4 filter=true in=drop fwd=accept lo=false spoof=false est=false open=tcp/5901 p5901=true | ipv6 filter=true in=drop fwd=accept lo=false spoof=false est=false open=tcp/5901 p5901=true" \
    nft "$WORK/big.nft"
expect_eq "big: rule count" '["inet big input: hook input priority 0 policy drop (10001 rules)"]' \
    "$(jq -c .facts.base_chains.value "$WORK/big.json")"

echo "$cases rulesets loaded and probed"
finish
