#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the real binary (scans, probes, bad policies) and the unit tests under valgrind:
# any invalid access or leaked block fails the test (memory that glibc's NSS modules keep
# reachable until exit is theirs, not a leak).
. "$(dirname "$0")/lib.sh"

command -v valgrind >/dev/null || { echo "SKIP: valgrind is not installed"; exit 77; }
vg() {
    # forked children (tests that drop privileges in one) exit without freeing the parent's
    # memory: only the process itself is checked
    valgrind --quiet --error-exitcode=99 --child-silent-after-fork=yes --leak-check=full \
        --show-leak-kinds=definite,indirect,possible \
        --errors-for-leak-kinds=definite,indirect,possible "$@"
}
build_root weak "$WORK/weak"
printf 'policy: {id: b, version: 1, title: B}\ncontrols: [{id: c, title: C, max_score: z}]\nrecommendations: [{id: r, control: d, check: {fact: x.y}}]\n' >"$WORK/bad.yaml"
printf 'exemptions: [{recommendation: password-max-days, kind: waiver, reason: r, expires: 2001-01-01}]\n' >"$WORK/c.yaml"

expect_exit "scan weak root, text" 0 vg "$POSTURE" scan --root "$WORK/weak"
expect_exit "scan weak root, json, config" 0 vg "$POSTURE" scan --root "$WORK/weak" --config "$WORK/c.yaml" --format json
expect_exit "scan this host" 0 vg "$POSTURE" scan --format json --output "$WORK/host.json"
expect_exit "bad policy" 2 vg "$POSTURE" scan --policy "$WORK/bad.yaml"
expect_exit "probe" 0 vg "$POSTURE" probe lines --root "$WORK/weak" --arg path=/etc/issue.net --arg regex=x --format json
expect_exit "explain" 0 vg "$POSTURE" explain shadow-permissions
expect_exit "unknown --only" 2 vg "$POSTURE" scan --only nope
# the firewall probe's netlink reader on a ruleset with sets, jumps and iptables-nft matches
ns=pstvg-$$
if ip netns add "$ns" 2>/dev/null; then
    trap 'ip netns del "$ns" 2>/dev/null || true' EXIT
    ip netns exec "$ns" nft -f - <<'NFT'
table inet f {
    chain svc { tcp dport { 22, 80-90 } accept; return; }
    chain input {
        type filter hook input priority 0; policy drop;
        iif lo accept
        ct state established,related accept
        ip saddr 10.0.0.0/8 jump svc
        meta l4proto { tcp, udp } th dport 53 accept
    }
}
NFT
    ip netns exec "$ns" iptables-nft -A INPUT -m conntrack --ctstate NEW -p tcp -m multiport --dports 25,587 -j ACCEPT
    expect_exit "probe firewall (namespace)" 0 ip netns exec "$ns" valgrind --quiet --error-exitcode=99 \
        --leak-check=full --show-leak-kinds=definite,indirect,possible \
        --errors-for-leak-kinds=definite,indirect,possible "$POSTURE" probe firewall --format json
    ip netns del "$ns"
fi
# The variable is exported rather than set through env(1): valgrind would check env, not the
# test it runs.
export POSTURE_TEST_DATA="$SRC/tests/data"
for t in "$UNIT_DIR"/test_*; do
    [ -x "$t" ] || continue
    expect_exit "unit test $(basename "$t")" 0 vg "$t"
done
finish
