#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# posture's Debian version order against `dpkg --compare-versions`: more than 10,000 pairs
# of versions from this machine's apt lists and dpkg database (random pairs, and versions of
# the same package in different lists), plus the hand-made edge cases of
# tests/data/debversion-edge.txt (epochs, tildes, letters against other characters, digit
# runs, versions dpkg rejects). One dpkg call per pair checks the relation posture computed.
. "$(dirname "$0")/lib.sh"
: "${DEBVERSION_CMP:?DEBVERSION_CMP must name the debversion_cmp helper}"
command -v dpkg >/dev/null || { echo "SKIP: no dpkg"; exit 77; }

# name version, from every Packages list this machine keeps (any compression) and its status
versions() {
    local f
    for f in /var/lib/apt/lists/*_Packages*; do
        [ -f "$f" ] || continue
        case $f in
        *.lz4) lz4 -dc "$f" ;;
        *.gz) gzip -dc "$f" ;;
        *.xz) xz -dc "$f" ;;
        *) cat "$f" ;;
        esac
    done
    cat /var/lib/dpkg/status
} 2>/dev/null
versions | awk '/^Package:/ {p = $2} /^Version:/ {print p, $2}' | LC_ALL=C sort -u >"$WORK/versions"
total=$(wc -l <"$WORK/versions")
[ "$total" -ge 2000 ] || { echo "SKIP: only $total versions in this machine's apt lists"; exit 77; }

# 9,000 random pairs, and every pair of neighbouring versions of one package (up to 6,000)
awk 'BEGIN {srand(20261123)} {v[NR] = $2} END {for (i = 0; i < 9000; i++) print v[int(rand() * NR) + 1], v[int(rand() * NR) + 1]}' \
    "$WORK/versions" >"$WORK/pairs"
awk '$1 == p {print v, $2; n++} {p = $1; v = $2} n >= 6000 {exit}' "$WORK/versions" >>"$WORK/pairs"
grep -v '^#' "$SRC/tests/data/debversion-edge.txt" >>"$WORK/pairs"
"$DEBVERSION_CMP" <"$WORK/pairs" >"$WORK/answers"
expect_eq "answers" "$(wc -l <"$WORK/pairs")" "$(wc -l <"$WORK/answers")"
[ "$(wc -l <"$WORK/answers")" -ge 10000 ] || fail "fewer than 10,000 pairs"

# dpkg checks each answer; two workers share the 10,000+ calls.
check() {
    local a op b rc
    while read -r a op b; do
        if [ "$op" = bad ]; then
            rc=0
            dpkg --compare-versions "$a" lt "$b" 2>/dev/null || rc=$?
            [ "$rc" = 2 ] || echo "dpkg accepts '$a' '$b' (exit $rc), posture rejects it"
        elif ! dpkg --compare-versions "$a" "$op" "$b" 2>/dev/null; then
            echo "dpkg disagrees: $a $op $b"
        fi
    done
}
split -n l/2 "$WORK/answers" "$WORK/part."
check <"$WORK/part.aa" >"$WORK/wrong.a" &
check <"$WORK/part.ab" >"$WORK/wrong.b"
wait
cat "$WORK/wrong.a" "$WORK/wrong.b" >"$WORK/wrong"
if [ -s "$WORK/wrong" ]; then
    head -20 "$WORK/wrong" >&2
    fail "$(wc -l <"$WORK/wrong") of $(wc -l <"$WORK/answers") answers differ from dpkg"
fi
# the edge cases must cover every relation and rejections
for op in lt eq gt bad; do
    n=$(tail -n "$(grep -vc '^#' "$SRC/tests/data/debversion-edge.txt")" "$WORK/answers" | awk -v op="$op" '$2 == op' | wc -l)
    [ "$n" -gt 0 ] || fail "no edge case answers $op"
done
echo "$(wc -l <"$WORK/answers") pairs checked against dpkg --compare-versions"
finish
