#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The kmod probe against modprobe itself: a fixture tree of modprobe.d directories (shadowing,
# ordering, dashes and underscores, globs, continuation lines, bad lines) is read by
# `modprobe --showconfig` with the same directories in the same precedence; its blacklist and
# its first matching install command must be the probe's for every module name, and
# `modprobe -n -v` must run the same install command. Then loaded modules against lsmod.
. "$(dirname "$0")/lib.sh"

command -v modprobe >/dev/null || { echo "SKIP: no modprobe"; exit 77; }
root=$WORK/root
rm -rf "$root"
put() { mkdir -p "$(dirname "$root$1")"; printf '%b' "$2" >"$root$1"; }
dirs="/etc/modprobe.d /run/modprobe.d /usr/local/lib/modprobe.d /usr/lib/modprobe.d /lib/modprobe.d"
for d in $dirs; do mkdir -p "$root$d"; done

put /etc/modprobe.d/cis.conf 'install cramfs /bin/false\nblacklist cramfs\ninstall usb-storage /bin/true\nblacklist usb_storage\n# install hfs /bin/false\ninstall udf \\\n  /bin/false\nblacklist\ninstall sctp\nnonsense here\n'
# shadowed by /etc's cis.conf: none of this counts
put /usr/lib/modprobe.d/cis.conf 'install freevxfs /bin/false\nblacklist freevxfs\n'
put /lib/modprobe.d/cis.conf 'install jffs2 /bin/false\n'
# ordering across directories by file name; the first install line wins
put /run/modprobe.d/10-early.conf 'install hfs /usr/bin/logger hfs blocked\n'
put /usr/local/lib/modprobe.d/20-late.conf 'install hfs /bin/false\ninstall hfs* /bin/true\nblacklist hfsplus\n'
put /lib/modprobe.d/30-glob.conf 'install d[c]cp /bin/false\ninstall tipc-x /bin/false\ninstall rd? /bin/false\n'
put /usr/lib/modprobe.d/40-alias.alias 'blacklist squashfs\n'
put /etc/modprobe.d/50-ignored.txt 'install jffs2 /bin/true\n'
put /etc/modprobe.d/.hidden.conf 'install jffs2 /bin/true\n'
mkdir -p "$root/etc/modprobe.d/60-dir.conf"

args=()
for d in $dirs; do args+=(-C "$root$d"); done
modprobe --showconfig "${args[@]}" 2>/dev/null >"$WORK/showconfig"
grep -q '^install cramfs /bin/false' "$WORK/showconfig" || fail "modprobe did not read the fixture"

mismatches=0
for m in cramfs freevxfs jffs2 hfs hfsplus squashfs udf usb-storage usb_storage dccp sctp rds tipc tipc-x; do
    u=${m//-/_}
    want_black=false
    grep -qx "blacklist $u" "$WORK/showconfig" && want_black=true
    want_install=null
    while read -r _ pattern command; do
        # shellcheck disable=SC2053 # the pattern is a glob, as libkmod's fnmatch() reads it
        if [[ $u == $pattern ]]; then want_install=$command; break; fi
    done < <(grep '^install ' "$WORK/showconfig")
    got=$("$POSTURE" probe kmod --root "$root" --arg "name=$m" --format json |
        jq -r '"\(.facts.blacklisted.value) \(.facts.install.value)"')
    if [ "$got" != "$want_black $want_install" ]; then
        fail "$m: modprobe's config says '$want_black $want_install', the probe '$got'"
        mismatches=$((mismatches + 1))
    fi
done
# modprobe runs the install command of an exact name (a dry run, with no module index).
mkdir -p "$WORK/empty"
for m in cramfs usb-storage udf hfs; do
    want=$(modprobe -n -v "${args[@]}" -d "$WORK/empty" "$m" 2>/dev/null | sed -n 's/^install *//p' | sed 's/ *$//')
    got=$("$POSTURE" probe kmod --root "$root" --arg "name=$m" --format json | jq -r '.facts.install.value')
    expect_eq "modprobe -n -v $m" "$want" "$got"
done
loadable() { "$POSTURE" probe kmod --root "$root" --arg "name=$1" --format json | jq -r '"\(.facts.loadable.value) \(.facts.install.source)"'; }
expect_eq "cramfs not loadable" "false /etc/modprobe.d/cis.conf:1" "$(loadable cramfs)"
expect_eq "hfs: the first line wins" "true /run/modprobe.d/10-early.conf:1" "$(loadable hfs)"
expect_eq "hfsplus: glob" "false /usr/local/lib/modprobe.d/20-late.conf:2" "$(loadable hfsplus)"
expect_eq "udf: continuation" "false /etc/modprobe.d/cis.conf:6" "$(loadable udf)"
expect_eq "bad lines reported" "/etc/modprobe.d/cis.conf:8: bad line starting with 'blacklist', ignored (as modprobe does)" \
    "$("$POSTURE" probe kmod --root "$root" --arg name=cramfs --format json | jq -r '.errors[0].message')"
expect_eq "offline: nothing loaded" "false" \
    "$("$POSTURE" probe kmod --root "$root" --arg name=cramfs --format json | jq -r '.facts.loaded.value')"
expect_eq "not a module name" "'../x' is not a module name" \
    "$("$POSTURE" probe kmod --root "$root" --arg name=../x --format json | jq -r '.errors[0].message')"
head -c 5000000 /dev/zero | tr '\0' 'x' >"$root/etc/modprobe.d/90-huge.conf"
expect_eq "huge file" "read /etc/modprobe.d/90-huge.conf: file is larger than the bound" \
    "$("$POSTURE" probe kmod --root "$root" --arg name=cramfs --format json | jq -r '.errors[0].message')"

# Modules built into the kernel, against modprobe's own answer over the index depmod builds:
# two kernels in the root; a module built into either is there whatever modprobe.d says
# (modprobe neither runs its install command nor refuses it).
rm -f "$root/etc/modprobe.d/90-huge.conf"
if command -v depmod >/dev/null; then
    put /lib/modules/6.1.0-1-amd64/modules.builtin 'kernel/fs/squashfs/squashfs.ko\nkernel/drivers/usb/storage/usb-storage.ko\nkernel/fs/ext4/ext4.ko\n'
    put /lib/modules/6.1.0-2-amd64/modules.builtin 'kernel/fs/udf/udf.ko\nnot-a-module.txt\n'
    for v in 6.1.0-1-amd64 6.1.0-2-amd64; do
        : >"$root/lib/modules/$v/modules.order"
        depmod -b "$root" "$v" 2>/dev/null || fail "depmod -b $root $v failed"
    done
    for m in squashfs usb-storage udf cramfs ext4 hfs; do
        want=false
        for v in 6.1.0-1-amd64 6.1.0-2-amd64; do
            modprobe -d "$root" -S "$v" --show-depends "$m" 2>/dev/null | grep -q '^builtin ' && want=true
        done
        got=$("$POSTURE" probe kmod --root "$root" --arg "name=$m" --format json | jq -r '.facts.builtin.value')
        expect_eq "builtin $m (modprobe --show-depends)" "$want" "$got"
    done
    expect_eq "a built-in module is loadable whatever its install line" \
        "true /lib/modules/6.1.0-1-amd64/modules.builtin:2 /bin/true" \
        "$("$POSTURE" probe kmod --root "$root" --arg name=usb_storage --format json |
            jq -r '"\(.facts.loadable.value) \(.facts.loadable.source) \(.facts.install.value)"')"
    expect_eq "built into the second kernel" "true /lib/modules/6.1.0-2-amd64/modules.builtin:1" \
        "$("$POSTURE" probe kmod --root "$root" --arg name=udf --format json |
            jq -r '"\(.facts.builtin.value) \(.facts.builtin.source)"')"
    rm -rf "$root/lib/modules"
    # The recommendation: met by modprobe.d alone, failed when the kernel has it built in.
    broot=$WORK/builtin-root
    rm -rf "$broot"
    mkdir -p "$broot/etc/modprobe.d" "$broot/lib/modules/6.1.0-1-amd64"
    cp /usr/lib/os-release "$broot/etc/os-release"
    printf 'install udf /bin/false\nblacklist udf\n' >"$broot/etc/modprobe.d/udf.conf"
    udf_status() { "$POSTURE" scan --root "$broot" --only kmod-udf-disabled --format json | jq -r '.results[0].status'; }
    expect_eq "udf blocked by modprobe.d" pass "$(udf_status)"
    printf 'kernel/fs/udf/udf.ko\n' >"$broot/lib/modules/6.1.0-1-amd64/modules.builtin"
    expect_eq "udf built into the kernel" fail "$(udf_status)"
fi

# Loaded modules on this host against lsmod.
if [ -r /proc/modules ] && command -v lsmod >/dev/null; then
    for m in $(lsmod | awk 'NR > 1 {print $1}' | head -5) cramfs dccp; do
        want=false
        lsmod | awk 'NR > 1 {print $1}' | grep -qx "${m//-/_}" && want=true
        expect_eq "loaded $m" "$want" "$("$POSTURE" probe kmod --arg "name=$m" --format json | jq -r '.facts.loaded.value')"
    done
fi
finish
