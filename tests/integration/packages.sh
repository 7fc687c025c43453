#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The packages and kernel probes against apt itself: `apt list --upgradable` reading the same
# lists answers which packages have updates and from which suites (security ones included),
# on two hand-made roots (epochs, tildes, pins, holds, multi-arch, a security suite, lists
# kept as gzip, xz and lz4; backports, an archive pinned by origin, generic, glob and
# downgrade pins, APT::Default-Release), on this machine, and on a copy of the Debian 12
# debootstrap root whose installed versions were made older and newer than its lists, with
# apt run inside it.
# Then bad input: truncated and garbled status files, a 100 MB list, corrupt compressed
# lists, a missing Release file.
. "$(dirname "$0")/lib.sh"
command -v apt >/dev/null || { echo "SKIP: no apt"; exit 77; }

# upgradable ROOT|"" -> "name:arch candidate security" lines from the probe
probe_upgradable() {
    local args=()
    [ -n "$1" ] && args=(--root "$1")
    "$POSTURE" probe packages "${args[@]}" --arg max_findings=1000000 --format json >"$WORK/probe.json"
    jq -r '.facts.upgradable.value[] | "\(.name):\(.arch) \(.candidate) \(.security)"' "$WORK/probe.json" |
        LC_ALL=C sort
}

# apt's answer from `apt list --upgradable` output on stdin: arch all is the native one;
# a security update is one whose candidate a -security suite offers.
apt_upgradable() {
    local native=$1
    awk -v native="$native" -F'[/ ]' '/upgradable from/ {
        arch = ($4 == "all") ? native : $4
        sec = ($2 ~ /-security(,|$)/) ? "true" : "false"
        print $1 ":" arch, $3, sec }' | LC_ALL=C sort
}

# ---- a hand-made root, with lists compressed as apt may keep them -------------------------
fixture=$WORK/pins
rm -rf "$fixture"
cp -a "$SRC/tests/data/apt/pins" "$fixture"
lists=$fixture/var/lib/apt/lists
gzip -n "$lists/deb.example.org_debian_dists_stable_main_binary-amd64_Packages"
xz "$lists/security.example.org_debian-security_dists_stable-security_main_binary-amd64_Packages"
lz4 -q --rm "$lists/deb.example.org_debian_dists_experimental_main_binary-amd64_Packages" \
    "$lists/deb.example.org_debian_dists_experimental_main_binary-amd64_Packages.lz4"
probe_upgradable "$fixture" >"$WORK/pins.got"
grep -v '^#' "$SRC/tests/data/apt/pins.expected" >"$WORK/pins.want"
if ! diff -u "$WORK/pins.want" "$WORK/pins.got"; then
    fail "upgradable packages of the pins root differ from tests/data/apt/pins.expected"
fi
# apt on the same root: its own configuration, lists and status (this host's apt.conf.d is
# read too, as apt always reads it first; it sets nothing that chooses versions).
mkdir -p "$WORK/aptcache"
apt list --upgradable -o Dir="$fixture" -o Dir::State::status="$fixture/var/lib/dpkg/status" \
    -o APT::Architecture=amd64 -o APT::Architectures::=amd64 -o APT::Architectures::=i386 \
    -o Dir::Cache="$WORK/aptcache" -o Debug::NoLocking=1 2>/dev/null | apt_upgradable amd64 >"$WORK/pins.apt"
if ! diff -u "$WORK/pins.apt" "$WORK/pins.got"; then
    fail "upgradable packages of the pins root differ from apt list --upgradable"
fi
facts() { jq -c "$1" "$WORK/probe.json"; }
probe_upgradable "$fixture" >/dev/null
expect_eq "security count" "2" "$(facts .facts.security_upgradable_count.value)"
expect_eq "security list" '["heldpkg","secpkg"]' "$(facts '[.facts.security_upgradable.value[].name]')"
expect_eq "held" '[{"name":"heldpkg","arch":"amd64","version":"1.0-1"}]' "$(facts .facts.held.value)"
expect_eq "held marked" "true" "$(facts '.facts.upgradable.value[] | select(.name == "heldpkg") | .held')"
expect_eq "broken" '[{"name":"halfpkg","arch":"amd64","version":"1.0-1","state":"half-configured"}]' \
    "$(facts .facts.broken.value)"
expect_eq "lists in use" "4" "$(facts .facts.lists_count.value)"
expect_eq "security lists" "1" "$(facts .facts.security_lists_count.value)"
expect_eq "missing list (security i386)" \
    '["security.example.org_debian-security_dists_stable-security_main_binary-i386_Packages"]' \
    "$(facts '[.facts.missing_lists.value[].list]')"
expect_eq "lists present" "false" "$(facts .facts.lists_missing.value)"
want_age=$((($(date +%s) - $(date -d '2026-11-21 00:53:02 UTC' +%s)) / 86400))
expect_eq "list age from the newest Release Date" "$want_age" "$(facts .facts.list_age_days.value)"
want_oldest=$((($(date +%s) - $(date -d '2026-11-01 10:00:00 UTC' +%s)) / 86400))
expect_eq "oldest pending update (experimental's date)" "$want_oldest" "$(facts .facts.upgradable_oldest_days.value)"
expect_eq "unattended-upgrades installed" "true" "$(facts .facts.unattended_upgrades_installed.value)"
expect_eq "lists update turned off by a later file" '"0"' "$(facts .facts.update_package_lists.value)"
expect_eq "source of that setting" '"/etc/apt/apt.conf.d/99disable:2"' "$(facts .facts.update_package_lists.source)"
expect_eq "unattended-upgrades enabled" "false" "$(facts .facts.unattended_upgrades_enabled.value)"
expect_eq "origins" '["origin=Debian,codename=${distro_codename},label=Debian","origin=Debian,codename=${distro_codename}-security,label=Debian-Security"]' \
    "$(facts .facts.unattended_upgrades_origins.value)"
expect_eq "no errors on the pins root" "[]" "$(facts .errors)"
# with the lists update turned on again, unattended upgrades are enabled, security included
rm "$fixture/etc/apt/apt.conf.d/99disable"
probe_upgradable "$fixture" >/dev/null
expect_eq "unattended-upgrades enabled" "true" "$(facts .facts.unattended_upgrades_enabled.value)"
expect_eq "security origins" "true" "$(facts .facts.unattended_upgrades_security.value)"
printf 'APT::Periodic::Enable "0";\n' >"$fixture/etc/apt/apt.conf.d/98off"
probe_upgradable "$fixture" >/dev/null
expect_eq "APT::Periodic::Enable 0 turns it off" "false" "$(facts .facts.unattended_upgrades_enabled.value)"
rm "$fixture/etc/apt/apt.conf.d/98off"
# APT::Default-Release pins experimental at 990: apt and the probe agree again (apt reads its
# configuration files before -o Dir applies, so it gets the setting on the command line)
printf 'APT::Default-Release "experimental";\n' >"$fixture/etc/apt/apt.conf.d/10release"
probe_upgradable "$fixture" >"$WORK/release.got"
apt list --upgradable -o Dir="$fixture" -o Dir::State::status="$fixture/var/lib/dpkg/status" \
    -o APT::Default-Release=experimental -o APT::Architecture=amd64 -o APT::Architectures::=amd64 -o APT::Architectures::=i386 \
    -o Dir::Cache="$WORK/aptcache" -o Debug::NoLocking=1 2>/dev/null | apt_upgradable amd64 >"$WORK/release.apt"
if ! diff -u "$WORK/release.apt" "$WORK/release.got"; then
    fail "with APT::Default-Release, the probe differs from apt list --upgradable"
fi
grep -q '^exppkg:amd64 2.0-1 ' "$WORK/release.got" || fail "Default-Release did not make exppkg upgradable"
rm "$fixture/etc/apt/apt.conf.d/10release"

# A second root: backports (NotAutomatic with ButAutomaticUpgrades), a third-party archive
# pinned by origin below the release, generic and glob pins, a downgrade pin.
rm -rf "$WORK/backports-root"
cp -a "$SRC/tests/data/apt/backports" "$WORK/backports-root"
probe_upgradable "$WORK/backports-root" >"$WORK/backports.got"
grep -v '^#' "$SRC/tests/data/apt/backports.expected" >"$WORK/backports.want"
if ! diff -u "$WORK/backports.want" "$WORK/backports.got"; then
    fail "upgradable packages of the backports root differ from tests/data/apt/backports.expected"
fi
apt list --upgradable -o Dir="$WORK/backports-root" \
    -o Dir::State::status="$WORK/backports-root/var/lib/dpkg/status" -o APT::Architecture=amd64 \
    -o APT::Architectures::=amd64 -o Dir::Cache="$WORK/aptcache" -o Debug::NoLocking=1 2>/dev/null |
    apt_upgradable amd64 >"$WORK/backports.apt"
if ! diff -u "$WORK/backports.apt" "$WORK/backports.got"; then
    fail "upgradable packages of the backports root differ from apt list --upgradable"
fi
rm -rf "$WORK/backports-root"

# kernel probe on the same root: two images, the newest by package version
"$POSTURE" probe kernel --root "$fixture" --format json >"$WORK/kernel.json"
expect_eq "kernel images" '["6.1.0-25-amd64","6.1.0-26-amd64"]' "$(jq -c '.facts.images.value | sort' "$WORK/kernel.json")"
expect_eq "newest image" '"linux-image-6.1.0-26-amd64"' "$(jq -c .facts.newest_image_package.value "$WORK/kernel.json")"
expect_eq "newest release" '"6.1.0-26-amd64"' "$(jq -c .facts.newest_image_release.value "$WORK/kernel.json")"
expect_eq "running kernel of an offline root" "null" "$(jq -c .facts.running_is_newest "$WORK/kernel.json")"
expect_eq "offline root error" '"running kernel: not available for an offline root"' "$(jq -c '.errors[0].message' "$WORK/kernel.json")"
expect_eq "no reboot pending" "false" "$(jq -c .facts.reboot_required.value "$WORK/kernel.json")"
mkdir -p "$fixture/run"
ln -sfn ../run "$fixture/var/run"
printf '*** System restart required ***\n' >"$fixture/run/reboot-required"
printf 'linux-image-6.1.0-26-amd64\nlibc6\nlinux-image-6.1.0-26-amd64\n' >"$fixture/run/reboot-required.pkgs"
"$POSTURE" probe kernel --root "$fixture" --format json >"$WORK/kernel.json"
expect_eq "reboot pending" "true" "$(jq -c .facts.reboot_required.value "$WORK/kernel.json")"
expect_eq "reboot packages" '["linux-image-6.1.0-26-amd64","libc6"]' "$(jq -c .facts.reboot_required_packages.value "$WORK/kernel.json")"
# the running system: uname's release
expect_eq "running release" "\"$(uname -r)\"" "$("$POSTURE" probe kernel --format json | jq -c .facts.running_release.value)"

# ---- this machine: the probe against apt on the same lists ---------------------------------
if ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1; then
    probe_upgradable "" >"$WORK/host.got"
    apt list --upgradable 2>/dev/null | apt_upgradable "$(dpkg --print-architecture)" >"$WORK/host.apt"
    if ! diff -u "$WORK/host.apt" "$WORK/host.got"; then
        fail "upgradable packages of this machine differ from apt list --upgradable"
    fi
    echo "this machine: $(wc -l <"$WORK/host.got") upgradable, $(grep -c ' true$' "$WORK/host.got" || true) from a security suite, as apt says"
fi

# ---- the Debian 12 debootstrap root: lists newer and older than what is installed ----------
cache=${POSTURE_CACHE_DIR:-$WORK/cache}
debroot=$cache/debian-bookworm
if [ -f "$debroot/.complete" ] && [ "$(id -u)" = 0 ]; then
    scratch=$(mktemp -d /tmp/posture-packages.XXXXXX)
    trap 'rm -rf "$scratch"' EXIT
    cp -a "$debroot" "$scratch/root"
    root=$scratch/root
    # Installed versions made older than the lists (upgradable) and newer (not upgradable).
    awk '
        /^Package: / {p = $2}
        /^Version: / && (p == "base-files" || p == "bash" || p == "coreutils" || p == "libc6" || p == "tzdata") {print $0 "~old"; next}
        /^Version: / && (p == "grep" || p == "sed") {print $0 "+local1"; next}
        {print}' "$root/var/lib/dpkg/status" >"$root/var/lib/dpkg/status.new"
    mv "$root/var/lib/dpkg/status.new" "$root/var/lib/dpkg/status"
    # A security suite, with this machine's security list when it has one.
    sec=$(ls /var/lib/apt/lists/*debian-security_dists_bookworm-security_main_binary-amd64_Packages* 2>/dev/null | head -1 || true)
    if [ -n "$sec" ]; then
        cp "$sec" /var/lib/apt/lists/*debian-security_dists_bookworm-security_InRelease "$root/var/lib/apt/lists/"
        echo "deb http://deb.debian.org/debian-security bookworm-security main" >>"$root/etc/apt/sources.list"
    fi
    chroot "$root" apt list --upgradable 2>/dev/null | apt_upgradable amd64 >"$WORK/debian.apt"
    probe_upgradable "$root" >"$WORK/debian.got"
    if ! diff -u "$WORK/debian.apt" "$WORK/debian.got"; then
        fail "upgradable packages of the Debian root differ from apt inside it"
    fi
    for p in base-files bash coreutils libc6 tzdata; do
        grep -q "^$p:" "$WORK/debian.got" || fail "$p, installed older than its list, is not upgradable"
    done
    for p in grep sed; do
        grep -q "^$p:" "$WORK/debian.got" && fail "$p, installed newer than its list, is upgradable"
    done
    [ -z "$sec" ] || [ "$(grep -c ' true$' "$WORK/debian.got")" -gt 0 ] ||
        fail "no security update found in the Debian root with a security list"
    echo "Debian root: $(wc -l <"$WORK/debian.got") upgradable ($(grep -c ' true$' "$WORK/debian.got" || true) security), as apt inside it says"

    # ---- bad input, on the same root ---------------------------------------------------------
    status=$root/var/lib/dpkg/status
    cp "$status" "$scratch/status.orig"
    # truncated in the middle of a stanza: the packages before it are read, no crash
    head -c 200000 "$scratch/status.orig" >"$status"
    expect_exit "truncated status" 0 "$POSTURE" probe packages --root "$root" --format json
    [ "$(jq .facts.installed_count.value "$WORK/out")" -gt 50 ] || fail "truncated status: packages before the cut lost"
    # garbled stanzas and unknown fields
    { printf 'Package: garbled\nthis is not a field\nStatus: install ok installed\nX-Unknown: 1\nVersion: 1:\n\n'
      printf 'Status: install ok installed\nVersion: 1.0\n\n'
      cat "$scratch/status.orig"; } >"$status"
    expect_exit "garbled status" 0 "$POSTURE" probe packages --root "$root" --format json
    jq -r '.errors[].message' "$WORK/out" | grep -q "version '1:' of garbled is invalid" ||
        fail "garbled status: the invalid version is not reported"
    cp "$scratch/status.orig" "$status"
    # a corrupt compressed list: a clear error naming it, the other lists still read
    if [ -n "$sec" ]; then
        secname=$root/var/lib/apt/lists/$(basename "$sec")
        head -c 100000 "$sec" >"$secname"
        expect_exit "truncated lz4 list" 0 "$POSTURE" probe packages --root "$root" --format json
        jq -r '.errors[].message' "$WORK/out" | grep -q "read /var/lib/apt/lists/$(basename "$sec") near line [0-9]*: malformed input" ||
            fail "truncated lz4 list: no error naming it ($(jq -c .errors "$WORK/out"))"
        cp "$sec" "$secname"
    fi
    # a missing Release file: the list is used without origin or suite, and it is said
    rm "$root"/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_*Release*
    expect_exit "missing Release" 0 "$POSTURE" probe packages --root "$root" --format json
    jq -r '.errors[].message' "$WORK/out" | grep -q "no Release file for deb.debian.org_debian_dists_bookworm_" ||
        fail "missing Release: not reported"
    # a list of 100 MB (the Debian main list twice): read within bounds
    main=$root/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages
    cat "$main" "$main" >"$main.big"
    mv "$main.big" "$main"
    [ "$(stat -c %s "$main")" -ge 100000000 ] || fail "the big list is smaller than 100 MB"
    /usr/bin/time -f '%e %M' -o "$WORK/time" "$POSTURE" probe packages --root "$root" --format json >"$WORK/out"
    expect_eq "100 MB list: packages found" "$(jq -r '.facts.upgradable_count.value' "$WORK/out")" \
        "$(wc -l <"$WORK/debian.got")"
    echo "100 MB list: $(cut -d' ' -f1 "$WORK/time") s, $(cut -d' ' -f2 "$WORK/time") KiB peak"
    [ "$(cut -d' ' -f2 "$WORK/time")" -lt 32768 ] || fail "100 MB list: more than 32 MiB of memory"
fi

finish
