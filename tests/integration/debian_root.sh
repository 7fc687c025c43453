#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Scans a real Debian 12 root made with debootstrap (cached in the build tree) and asserts the
# verdicts a fresh install must get; checks the package and file probes against dpkg-query
# and stat on that root. Skipped (exit 77) only when the Debian archive cannot be reached.
. "$(dirname "$0")/lib.sh"

cache=${POSTURE_CACHE_DIR:-$WORK/cache}
root=$cache/debian-bookworm

# The archive this machine's apt uses (deb822 sources first, then the one-line format).
mirror() {
    local uri
    uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
    if [ -z "$uri" ]; then
        uri=$(awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' \
            /etc/apt/sources.list 2>/dev/null || true)
    fi
    echo "$uri"
}

if [ ! -f "$root/.complete" ]; then
    command -v debootstrap >/dev/null || { echo "SKIP: debootstrap is not installed"; exit 77; }
    url=$(mirror)
    [ -n "$url" ] || { echo "SKIP: no Debian archive in the apt sources"; exit 77; }
    mkdir -p "$cache"
    rm -rf "$root.partial"
    echo "building a Debian 12 root with debootstrap from $url (cached in $root)"
    if ! debootstrap bookworm "$root.partial" "$url" >"$WORK/debootstrap.log" 2>&1; then
        if grep -qE 'Failed getting release file|Couldn.t download|unable to resolve|Could not resolve' "$WORK/debootstrap.log"; then
            echo "SKIP: the Debian archive at $url cannot be reached"
            tail -3 "$WORK/debootstrap.log"
            exit 77
        fi
        tail -20 "$WORK/debootstrap.log" >&2
        echo "FAIL: debootstrap failed" >&2
        exit 1
    fi
    touch "$root.partial/.complete"
    rm -rf "$root"
    mv "$root.partial" "$root"
fi

# Every verdict of the default baseline on a fresh Debian 12 install.
expect_exit "scan debian root" 0 "$POSTURE" scan --root "$root" --format json --output "$WORK/debian.json"
jq -r '.results[] | "\(.id) \(.status)"' "$WORK/debian.json" | LC_ALL=C sort >"$WORK/debian.actual"
if ! diff -u "$SRC/tests/data/debian12-fresh.expected" "$WORK/debian.actual"; then
    fail "verdicts on the fresh Debian root differ from tests/data/debian12-fresh.expected"
fi
expect_eq "fresh Debian score" "10 39" "$(jq -r '"\(.score.secure.current) \(.score.secure.max)"' "$WORK/debian.json")"
# Accounts and root's password as shadow's passwd -S reports them on the same root (CIS
# 5.4.2.8, 5.4.2.4): a fresh install locks root and every account without a valid shell.
passwd -R "$root" -S -a >"$WORK/passwd-S"
expect_eq "root's password status" "$(awk '$1 == "root" {print $2; exit}' "$WORK/passwd-S")" \
    "$("$POSTURE" probe accounts --root "$root" --format json | jq -r .facts.root_password_status.value)"
awk -F: 'NR == FNR { if ($0 ~ /^\// && $0 !~ /\/nologin$/) valid[$0] = 1; next }
         $1 != "root" && !($7 in valid) { print $1 }' "$root/etc/shells" "$root/etc/passwd" |
    LC_ALL=C sort >"$WORK/invalid-shell"
expect_eq "accounts without a valid shell are all locked" "" \
    "$(awk '$2 != "L" {print $1}' "$WORK/passwd-S" | LC_ALL=C sort | comm -12 - "$WORK/invalid-shell")"
expect_eq "the root has accounts without a valid shell" "true" "$([ -s "$WORK/invalid-shell" ] && echo true)"
expect_eq "invalid_shell_unlocked" "0" \
    "$("$POSTURE" probe accounts --root "$root" --format json | jq -r .facts.invalid_shell_unlocked_count.value)"
# No audit rules in a fresh root: every SUID/SGID program find lists lacks its rule (6.2.3.6).
expect_eq "unaudited SUID/SGID programs" "$(find "$root" -xdev -perm /6000 -type f | sed "s|^$root||" | LC_ALL=C sort | paste -sd,)" \
    "$("$POSTURE" probe fswalk --root "$root" --arg max_findings=10000 --format json | jq -r '.facts.suid_sgid_unaudited.value[].path' | LC_ALL=C sort | paste -sd,)"
expect_eq "os of the root" "debian 12" "$(jq -r '"\(.host.os.id) \(.host.os.version_id)"' "$WORK/debian.json")"
expect_eq "kernel of an offline root" "null" "$(jq -r .host.kernel "$WORK/debian.json")"

# The package probe against dpkg-query reading the same database: every package, its state
# and the version dpkg records.
dpkg-query --admindir="$root/var/lib/dpkg" -W -f '${Package}:${Architecture} ${db:Status-Status} ${Version}\n' |
    LC_ALL=C sort >"$WORK/dpkg.want"
: >"$WORK/dpkg.got"
while read -r name _; do
    "$POSTURE" probe package --root "$root" --arg "name=$name" --format json |
        jq -r --arg n "$name" '"\($n) \(.facts.state.value) \(.facts.version.value // "")"' >>"$WORK/dpkg.got"
done <"$WORK/dpkg.want"
if ! diff -u "$WORK/dpkg.want" <(LC_ALL=C sort "$WORK/dpkg.got"); then
    fail "package probe differs from dpkg-query"
fi
expect_eq "package count" "$(wc -l <"$WORK/dpkg.want")" "$(wc -l <"$WORK/dpkg.got")"
# The same on this host's own dpkg database, which has seen removals and upgrades.
dpkg-query -W -f '${Package}:${Architecture} ${db:Status-Status} ${Version}\n' | LC_ALL=C sort >"$WORK/host.want"
: >"$WORK/host.got"
while read -r name _; do
    "$POSTURE" probe package --arg "name=$name" --format json |
        jq -r --arg n "$name" '"\($n) \(.facts.state.value) \(.facts.version.value // "")"' >>"$WORK/host.got"
done <"$WORK/host.want"
if ! diff -u "$WORK/host.want" <(LC_ALL=C sort "$WORK/host.got"); then
    fail "package probe differs from dpkg-query on this host"
fi

# dpkg_verify against `dpkg --verify` on the same root, after the test changed a packaged
# binary, removed another and edited a conffile (restored on exit, so the cache stays clean).
cp -a "$root/usr/bin/pinky" "$WORK/pinky.orig"
cp -a "$root/usr/bin/tty" "$WORK/tty.orig"
cp -a "$root/etc/adduser.conf" "$WORK/adduser.conf.orig"
restore() {
    cp -a "$WORK/pinky.orig" "$root/usr/bin/pinky"
    cp -a "$WORK/tty.orig" "$root/usr/bin/tty"
    cp -a "$WORK/adduser.conf.orig" "$root/etc/adduser.conf"
}
trap restore EXIT
printf 'x' >>"$root/usr/bin/pinky"
rm "$root/usr/bin/tty"
printf '# changed by the admin\n' >>"$root/etc/adduser.conf"
dpkg --root="$root" --verify >"$WORK/dpkg-verify.txt" || true
awk '{kind = ($1 == "missing") ? "missing" : ($1 ~ /5/ ? "modified" : "other"); print kind, $NF}' \
    "$WORK/dpkg-verify.txt" | LC_ALL=C sort >"$WORK/verify.want"
"$POSTURE" probe dpkg_verify --root "$root" --arg prefixes=/ --arg max_findings=100000 --format json >"$WORK/verify.json"
jq -r '(.facts.modified.value[] | "modified \(.path)"), (.facts.missing.value[] | "missing \(.path)")' \
    "$WORK/verify.json" | LC_ALL=C sort >"$WORK/verify.got"
if ! diff -u "$WORK/verify.want" "$WORK/verify.got"; then
    fail "dpkg_verify differs from dpkg --verify"
fi
expect_eq "dpkg --verify found the changes" "3" "$(wc -l <"$WORK/verify.want")"
expect_eq "conffile marked" "true" "$(jq '.facts.modified.value[] | select(.path == "/etc/adduser.conf") | .conffile' "$WORK/verify.json")"
expect_eq "modified binary fails the baseline" "fail" \
    "$("$POSTURE" scan --root "$root" --only no-modified-package-binaries --format json | jq -r '.results[0].status')"
restore
trap - EXIT
# The whole of this host against dpkg --verify too: it has diversions and local changes.
dpkg --verify >"$WORK/host-verify.txt" || true
awk '{kind = ($1 == "missing") ? "missing" : ($1 ~ /5/ ? "modified" : "other"); print kind, $NF}' \
    "$WORK/host-verify.txt" | LC_ALL=C sort >"$WORK/host-verify.want"
"$POSTURE" probe dpkg_verify --arg prefixes=/ --arg byte_budget=100000000000 --arg max_findings=1000000 --format json >"$WORK/host-verify.json"
jq -r '(.facts.modified.value[] | "modified \(.path)"), (.facts.missing.value[] | "missing \(.path)")' \
    "$WORK/host-verify.json" | LC_ALL=C sort >"$WORK/host-verify.got"
if ! diff -u "$WORK/host-verify.want" "$WORK/host-verify.got"; then
    fail "dpkg_verify differs from dpkg --verify on this host"
fi

# The file probe against stat(1) for every entry of the root's /etc.
mismatches=0
while IFS= read -r -d '' path; do
    rel=${path#"$root"}
    want=$(stat -c '%04a %U %G %u %g %s' "$path")
    got=$("$POSTURE" probe file --root "$root" --arg "path=$rel" --arg follow=false --format json |
        jq -r '"\(.facts.mode.value) \(.facts.owner.value) \(.facts.group.value) \(.facts.uid.value) \(.facts.gid.value) \(.facts.size.value)"')
    # stat names owners from this host's databases; the root has the same system accounts.
    if [ "$want" != "$got" ]; then
        fail "file probe on $rel: stat says '$want', posture says '$got'"
        mismatches=$((mismatches + 1))
    fi
done < <(find "$root/etc" -maxdepth 1 -print0)
finish
