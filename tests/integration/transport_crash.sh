#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The agent killed (SIGKILL) at random points of spooling and delivery, over many iterations,
# against a real posture-collector on loopback that is sometimes down. After every kill, each
# file the spool would deliver is a complete, valid signed report (no partial file); at the
# end, after `posture send`, every report that was ever spooled is stored by the collector
# exactly once, as it was spooled, and in sequence order, and the spool is empty.
# ITERATIONS (default 60) sets the number of kills.
source "$SRC/tests/integration/lib.sh"
source "$SRC/tests/integration/transport_lib.sh"

c=$WORK/collector
a=$WORK/agent
root=$WORK/root
iterations=${ITERATIONS:-60}
rm -rf "$a" "$WORK/collector.log" "$WORK/spooled"
mkdir -p "$WORK/spooled"
build_root lax "$root"
init_collector "$c"
start_collector "$c"
enroll "$c" "$a"
host=$(cat "$a/host_id")
up=1 killed=0 partial=0

# The kills land anywhere from the start of a run to a little after a whole `scan --send`
# (scan, sign, spool, deliver) would have ended: timed here (the quickest of three runs), as
# the sanitizer build is slower and a loaded machine slower still.
best=
for _ in 1 2 3; do
    t0=$(date +%s%N)
    expect_exit "an uninterrupted scan --send" 0 "$POSTURE" scan --root "$root" --send --state-dir "$a" --output /dev/null
    t=$((($(date +%s%N) - t0) / 1000000))
    if [ -z "$best" ] || [ "$t" -lt "$best" ]; then best=$t; fi
done
window=$((best * 3 / 2 + 10))
echo "kill window: $window ms"

for i in $(seq 1 "$iterations"); do
    # The collector goes down and comes back every few iterations, so that the spool fills
    # and `posture send` has something to deliver when it is killed.
    if [ $((i % 7)) -eq 0 ]; then
        if [ "$up" = 1 ]; then stop_collector; up=0; else start_collector "$c" "$port"; up=1; fi
    fi
    if [ $((RANDOM % 3)) -eq 0 ]; then
        "$POSTURE" send --state-dir "$a" >/dev/null 2>&1 &
    else
        "$POSTURE" scan --root "$root" --send --state-dir "$a" --output /dev/null >/dev/null 2>&1 &
    fi
    pid=$!
    ms=$((RANDOM % window))
    sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
    kill -KILL "$pid" 2>/dev/null || true
    rc=0
    wait "$pid" 2>/dev/null || rc=$?
    # 137: killed by SIGKILL; a run that had already ended exits 0 or 3.
    if [ "$rc" -eq 137 ]; then
        killed=$((killed + 1))
    fi
    # Every file named as a report is whole and signed; remember it as spooled.
    for f in "$a"/spool/*.jws; do
        [ -e "$f" ] || continue
        if ! "$POSTURE" verify "$f" --state-dir "$a" >/dev/null 2>"$WORK/verify.err"; then
            fail "iteration $i: $(basename "$f") would be delivered but is not a valid report: $(cat "$WORK/verify.err")"
            partial=$((partial + 1))
            continue
        fi
        cp "$f" "$WORK/spooled/"
    done
    expect_eq "iteration $i: nothing dead-lettered" "" "$(ls "$a/dead-letter")"
done
echo "$killed of $iterations runs killed; $(ls "$WORK/spooled" | wc -l) reports seen in the spool"
[ "$killed" -ge $((iterations / 6)) ] || fail "only $killed of $iterations runs were killed: the test proves little"

[ "$up" = 1 ] || start_collector "$c" "$port"
expect_exit "send after the kills" 0 "$POSTURE" send --state-dir "$a"
expect_eq "spool empty at the end" "" "$(ls "$a/spool" | grep -v '^\.tmp-' || true)"
expect_exit "a clean scan --send still works" 0 "$POSTURE" scan --root "$root" --send --state-dir "$a" --output /dev/null

stored=$(stored_seqs "$c" "$host")
last=$(cat "$a/seq")
echo "stored: $stored; last sequence handed out: $last"
# Kills that all land before the spool, or after everything, would prove nothing.
[ "$(wc -w <<<"$stored")" -ge 5 ] || fail "only $(wc -w <<<"$stored") reports stored: the kills never let one through"
[ "$(ls "$WORK/spooled" | wc -l)" -ge 2 ] || fail "fewer than 2 reports were ever seen in the spool"
prev=0
for seq in $stored; do
    [ "$seq" -gt "$prev" ] || fail "stored out of order: $seq after $prev"
    [ "$seq" -le "$last" ] || fail "stored seq $seq was never handed out (last $last)"
    prev=$seq
done
expect_eq "each report stored once" "$(tr ' ' '\n' <<<"$stored" | sort -n | uniq | wc -l)" \
    "$(sqlite3 -cmd ".timeout 5000" "$c/collector.db" "SELECT count(*) FROM reports WHERE host_id = '$host'")"
# Every report ever seen in the spool reached the collector, byte for byte.
for f in "$WORK"/spooled/*.jws; do
    [ -e "$f" ] || continue
    seq=$((10#$(basename "$f" .jws)))
    expect_eq "spooled report $seq stored as spooled" "$(cat "$f")" "$(stored_jws "$c" "$host" "$seq")"
done
# The last stored report verifies independently of posture.
stored_jws "$c" "$host" "$prev" >"$WORK/last.jws"
openssl_verify "$WORK/last.jws" "$a/cert.pem" || fail "the last stored report does not verify with openssl"

finish
