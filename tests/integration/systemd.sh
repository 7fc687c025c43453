#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The systemd probe against `systemctl --root=DIR is-enabled UNIT`: on a fixture tree built
# for the hard cases (masks, links, aliases, Also=, instances and templates with
# DefaultInstance, runtime and generator directories, drop-ins, shadowing, loops, dangling
# links, SysV scripts) and on every unit of the debootstrap Debian 12 root.
. "$(dirname "$0")/lib.sh"

command -v systemctl >/dev/null || { echo "SKIP: no systemctl"; exit 77; }

# systemctl's answer, with "absent" for a unit it cannot find and "error" for other failures.
reference() {
    local out
    if out=$(systemctl --root="$1" is-enabled "$2" 2>"$WORK/stderr"); then :; fi
    if [ -n "$out" ]; then
        echo "$out" | tail -1
    elif grep -q 'No such file or directory' "$WORK/stderr"; then
        echo absent
    else
        echo error
    fi
}
ours() {
    "$POSTURE" probe systemd --root "$1" --arg "unit=$2" --format json |
        jq -r 'if .facts.state then .facts.state.value else "error" end'
}
compare() {
    local root=$1 unit want got
    shift
    for unit in "$@"; do
        want=$(reference "$root" "$unit")
        got=$(ours "$root" "$unit")
        if [ "$want" != "$got" ]; then
            fail "$unit: systemctl is-enabled says '$want', the probe '$got'"
        fi
        echo "$unit $got" >>"$WORK/answers"
    done
}

root=$WORK/root
rm -rf "$root" "$WORK/answers"
etc=$root/etc/systemd/system
lib=$root/usr/lib/systemd/system
run=$root/run/systemd
mkdir -p "$etc" "$lib" "$root/usr/local/lib/systemd/system" "$run/system" "$run/generator" \
    "$run/generator.late" "$run/transient" "$root/opt" "$root/etc/init.d" "$root/etc/rc5.d" "$root/etc/rcS.d"
unit() { # unit DIR NAME [Install lines...]
    local dir=$1 name=$2
    shift 2
    { printf '[Unit]\nDescription=%s\n[Service]\nExecStart=/bin/true\n' "$name"
      if [ $# -gt 0 ]; then printf '[Install]\n'; printf '%s\n' "$@"; fi; } >"$dir/$name"
}
wants() { mkdir -p "$1/$2"; ln -sf "$3" "$1/$2/$4"; }

unit "$lib" enabled.service WantedBy=multi-user.target
wants "$etc" multi-user.target.wants /lib/systemd/system/enabled.service enabled.service
unit "$lib" disabled.service WantedBy=multi-user.target
unit "$lib" static.service
unit "$lib" also.service Also=enabled.service
unit "$lib" masked.service WantedBy=multi-user.target
ln -s /dev/null "$etc/masked.service"
unit "$lib" masked-rt.service WantedBy=multi-user.target
ln -s /dev/null "$run/system/masked-rt.service"
: >"$etc/empty.service"
unit "$lib" runtime.service WantedBy=multi-user.target
wants "$run/system" multi-user.target.wants ../../../../usr/lib/systemd/system/runtime.service runtime.service
unit "$root/opt" linked.service WantedBy=multi-user.target
ln -s /opt/linked.service "$etc/linked.service"
unit "$root/opt" linked-rt.service WantedBy=multi-user.target
ln -s /opt/linked-rt.service "$run/system/linked-rt.service"
unit "$lib" aliased.service WantedBy=multi-user.target Alias=other-name.service
ln -s /usr/lib/systemd/system/aliased.service "$etc/other-name.service"
unit "$lib" aliased-off.service WantedBy=multi-user.target Alias=off-name.service
unit "$lib" indirect-link.service WantedBy=multi-user.target
wants "$etc" multi-user.target.wants /usr/lib/systemd/system/indirect-link.service unrelated.service
unit "$run/generator" gen.service
unit "$run/transient" trans.service
unit "$lib" tpl@.service WantedBy=multi-user.target DefaultInstance=one
wants "$etc" multi-user.target.wants /usr/lib/systemd/system/tpl@.service tpl@one.service
wants "$etc" multi-user.target.wants /usr/lib/systemd/system/tpl@.service tpl@two.service
unit "$lib" plain@.service WantedBy=multi-user.target
wants "$lib" multi-user.target.wants ../plain@.service plain@vendor.service
unit "$lib" dropin.service
mkdir -p "$etc/dropin.service.d"
printf '[Install]\nWantedBy=multi-user.target\n' >"$etc/dropin.service.d/10-install.conf"
unit "$lib" cont.service 'WantedBy=a.target \' '  b.target'
unit "$lib" shadow.service WantedBy=multi-user.target
unit "$root/usr/local/lib/systemd/system" shadow.service
unit "$lib" req.service RequiredBy=multi-user.target
wants "$etc" multi-user.target.requires /usr/lib/systemd/system/req.service req.service
ln -s b.service "$etc/a.service"
ln -s a.service "$etc/b.service"
ln -s /usr/lib/systemd/system/gone.service "$etc/dangling.service"
ln -s nothere.service "$etc/severed.service"
unit "$lib" chain-end.service WantedBy=multi-user.target
ln -s chain-end.service "$etc/chain-mid.service"
ln -s chain-mid.service "$etc/chain-start.service"
unit "$lib" socketed.socket WantedBy=sockets.target
wants "$etc" sockets.target.wants /usr/lib/systemd/system/socketed.socket socketed.socket
unit "$lib" uph.service UpheldBy=multi-user.target
wants "$etc" multi-user.target.upholds /usr/lib/systemd/system/uph.service uph.service
unit "$lib" vendor-on.service WantedBy=multi-user.target
wants "$lib" multi-user.target.wants ../vendor-on.service vendor-on.service
unit "$lib" same-below.service WantedBy=multi-user.target
unit "$etc" same-below.service WantedBy=multi-user.target
ln -s /usr/lib/systemd/system/same-below.service "$root/usr/local/lib/systemd/system/same-below.service"
printf '#!/bin/sh\n' >"$root/etc/init.d/legacy-on"
printf '#!/bin/sh\n' >"$root/etc/init.d/legacy-off"
ln -s ../init.d/legacy-on "$root/etc/rc5.d/S01legacy-on"

compare "$root" enabled.service disabled.service static.service also.service masked.service \
    masked-rt.service empty.service runtime.service linked.service linked-rt.service \
    aliased.service other-name.service aliased-off.service off-name.service indirect-link.service \
    gen.service trans.service tpl@.service tpl@one.service tpl@two.service tpl@three.service \
    plain@.service plain@vendor.service plain@x.service dropin.service cont.service shadow.service \
    req.service a.service dangling.service severed.service chain-start.service chain-mid.service \
    socketed.socket uph.service vendor-on.service same-below.service legacy-on.service legacy-off.service nosuch.service
# The fixture covers the states it was built for (so the comparison above means something).
covered=$(awk '{print $2}' "$WORK/answers" | sort -u | tr '\n' ' ')
expect_eq "states covered" "absent alias disabled enabled enabled-runtime error generated indirect linked linked-runtime masked masked-runtime static transient " "$covered"
expect_eq "not a unit name" "'../x' is not a unit name" \
    "$("$POSTURE" probe systemd --root "$root" --arg unit=../x --format json | jq -r '.errors[0].message')"
expect_eq "offline: no active state" "active: not available for an offline root" \
    "$("$POSTURE" probe systemd --root "$root" --arg unit=enabled.service --format json | jq -r '.errors[0].message')"

# What cannot be read is an error, not an absent or disabled unit (systemd, as root, reads it).
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    chmod 600 "$lib/disabled.service"
    expect_eq "unreadable unit file" "disabled.service: permission denied" \
        "$(setpriv --reuid=65534 --regid=65534 --clear-groups "$POSTURE" probe systemd --root "$root" \
            --arg unit=disabled.service --format json | jq -r '.errors[0].message')"
    chmod 644 "$lib/disabled.service"
fi

# Every unit of the debootstrap root (built by debian_root.sh; skipped when it is missing).
deb=${POSTURE_CACHE_DIR:-$WORK/cache}/debian-bookworm
if [ -f "$deb/.complete" ]; then
    units=$(find "$deb/usr/lib/systemd/system" "$deb/etc/systemd/system" -mindepth 1 -maxdepth 2 \
        \( -type f -o -type l \) -printf '%f\n' | grep -E '\.(service|socket|timer|target|mount|path)$' | sort -u)
    : >"$WORK/answers"
    # shellcheck disable=SC2086
    compare "$deb" $units ssh.service systemd-timesyncd.service chrony.service
    expect_eq "units compared on the Debian root" "true" "$([ "$(wc -l <"$WORK/answers")" -gt 100 ] && echo true)"
fi

# Every unit of this host, against systemctl reading the same files.
: >"$WORK/answers"
host_units=$(find /usr/lib/systemd/system /etc/systemd/system -mindepth 1 -maxdepth 2 \( -type f -o -type l \) \
    -printf '%f\n' 2>/dev/null | grep -E '\.(service|socket|timer|target|mount|path)$' | sort -u)
for unit in $host_units; do
    want=$(systemctl is-enabled "$unit" 2>/dev/null | tail -1) || true
    [ -n "$want" ] || want=absent
    got=$("$POSTURE" probe systemd --arg "unit=$unit" --format json | jq -r '.facts.state.value // "error"')
    expect_eq "this host: $unit" "$want" "$got"
done
finish
