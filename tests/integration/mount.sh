#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The mount probe: on this host against findmnt(8) for every mount point; on fixture roots,
# what the next boot mounts from /etc/fstab (escapes, noauto, repeated mount points, option
# order), systemd mount units (the admin's over fstab over the vendor's, masks) and the
# filesystems systemd mounts by itself.
. "$(dirname "$0")/lib.sh"

probe() { "$POSTURE" probe mount "$@" --format json; }
flags() { jq -r '"\(.facts.mounted.value) \(.facts.fstype.value) \(.facts.nodev.value) \(.facts.nosuid.value) \(.facts.noexec.value)"'; }

if command -v findmnt >/dev/null; then
    # findmnt lists stacked mounts in mount order; the last one is on top
    # (network namespaces that other tests make come and go under /run/netns: left out)
    findmnt -rn -o TARGET,FSTYPE,OPTIONS | awk '$1 !~ /^\/run\/netns\// {last[$1] = $0} END {for (t in last) print last[t]}' | head -40 >"$WORK/findmnt"
    while read -r target fstype options; do
        target=$(printf '%b' "${target//\\x/\\x}")
        has() { case ",$options," in *",$1,"*) echo true ;; *) echo false ;; esac; }
        want="true $fstype $(has nodev) $(has nosuid) $(has noexec)"
        expect_eq "mount $target" "$want" "$(probe --arg "path=$target" | flags)"
    done <"$WORK/findmnt"
fi

root=$WORK/root
rm -rf "$root"
mkdir -p "$root/etc/systemd/system" "$root/usr/lib/systemd/system"
cat >"$root/etc/fstab" <<'FSTAB'
# <file system> <mount point> <type> <options> <dump> <pass>
UUID=1 /      ext4 errors=remount-ro 0 1
UUID=2 /home  ext4 defaults,nodev 0 2
UUID=3 /var/tmp ext4 nodev,nosuid,noexec,exec 0 2
UUID=4 /srv/my\040data ext4 nosuid 0 2
UUID=5 /opt ext4 noauto,nodev 0 2
UUID=6 /mnt/a ext4 nodev 0 2
UUID=7 /mnt/a/ xfs  user 0 2
tmpfs  /dev/shm tmpfs defaults,nodev,nosuid,noexec 0 0
UUID=8 none swap sw 0 0
FSTAB
printf '[Unit]\nDescription=Temporary Directory\n[Mount]\nWhat=tmpfs\nWhere=/tmp\nType=tmpfs\nOptions=mode=1777,strictatime,nosuid,nodev,noexec\n' >"$root/usr/lib/systemd/system/tmp.mount"
printf '[Mount]\nWhat=/dev/vdb\nWhere=/srv/x\nType=xfs\nOptions=nodev\n' >"$root/usr/lib/systemd/system/srv-x.mount"
ln -s /dev/null "$root/etc/systemd/system/srv-x.mount"
printf '[Mount]\nWhat=/dev/vdc\nType=ext4\nOptions=nosuid\n' >"$root/etc/systemd/system/home.mount"

expect_eq "fstab /var/tmp: exec after noexec" "true ext4 true true false" "$(probe --root "$root" --arg path=/var/tmp | flags)"
expect_eq "escaped mount point" "true ext4 false true false" "$(probe --root "$root" --arg "path=/srv/my data" | flags)"
expect_eq "noauto is not mounted at boot" "false null null null null" "$(probe --root "$root" --arg path=/opt | flags)"
expect_eq "the later line is on top; user implies nodev,nosuid,noexec" "true xfs true true true" "$(probe --root "$root" --arg path=/mnt/a | flags)"
expect_eq "source of /mnt/a" "/etc/fstab:8" "$(probe --root "$root" --arg path=/mnt/a | jq -r .facts.mounted.source)"
expect_eq "fstab /dev/shm over systemd's own" "true tmpfs true true true" "$(probe --root "$root" --arg path=/dev/shm | flags)"
expect_eq "vendor tmp.mount" "true tmpfs true true true" "$(probe --root "$root" --arg path=/tmp | flags)"
expect_eq "masked mount unit" "false null null null null" "$(probe --root "$root" --arg path=/srv/x | flags)"
expect_eq "admin's unit over fstab" "true ext4 false true false /etc/systemd/system/home.mount" \
    "$(probe --root "$root" --arg path=/home | jq -r '"\(.facts.mounted.value) \(.facts.fstype.value) \(.facts.nodev.value) \(.facts.nosuid.value) \(.facts.noexec.value) \(.facts.mounted.source)"')"
expect_eq "systemd's own /run" "true tmpfs true true false" "$(probe --root "$root" --arg path=/run/ | flags)"
expect_eq "nothing on /srv" "false null null null null" "$(probe --root "$root" --arg path=/srv | flags)"
rm "$root/etc/fstab"
expect_eq "no fstab: systemd's /dev/shm" "true tmpfs true true false" "$(probe --root "$root" --arg path=/dev/shm | flags)"
mkdir "$root/etc/fstab"
expect_eq "fstab not a file" "read /etc/fstab: wrong file type" "$(probe --root "$root" --arg path=/var | jq -r '.errors[0].message')"
finish
