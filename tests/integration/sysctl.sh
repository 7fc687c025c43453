#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The sysctl probe against systemd-sysctl itself: a fixture tree of sysctl.d directories with
# shadowing, ordering, masking, globs, "-" lines and garbled lines is applied by the real
# /lib/systemd/systemd-sysctl inside a private mount namespace, where the fixture's
# directories are mounted over the real ones and /proc/sys is a directory of empty files;
# what it wrote into each file must be the probe's persisted value of that key. Then the
# probe's running values against sysctl(8) on this host. Skipped (77) without unshare.
. "$(dirname "$0")/lib.sh"

tool=/lib/systemd/systemd-sysctl
[ -x "$tool" ] || { echo "SKIP: no $tool"; exit 77; }
unshare --mount --propagation private true 2>/dev/null || { echo "SKIP: cannot unshare a mount namespace"; exit 77; }

root=$WORK/root
proc=$WORK/proc-sys
rm -rf "$root" "$proc"
put() { mkdir -p "$(dirname "$root$1")"; printf '%b' "$2" >"$root$1"; }

# shadowing: /etc's 10-base.conf hides /usr/lib's; /run's 20-run.conf hides /usr/lib's
put /usr/lib/sysctl.d/10-base.conf 'kernel.a = 1\nkernel.d = 1\n'
put /etc/sysctl.d/10-base.conf 'kernel.a = 5\n'
put /run/sysctl.d/20-run.conf 'kernel.b = 2\n-kernel.c = 3\nnet/ipv4/ip_forward = 1\nkernel.e = 1\n'
put /usr/lib/sysctl.d/20-run.conf 'kernel.d = 9\n'
# later file names win, whatever their directory; explicit keys beat globs; "-key" excludes
put /usr/local/lib/sysctl.d/30-local.conf 'kernel.b = 3\nnet.ipv4.conf.all.rp_filter = 1\n-net.ipv4.conf.lo.rp_filter\n'
put /etc/sysctl.d/05-glob.conf 'net.ipv4.conf.*.rp_filter = 2\n'
put /etc/sysctl.d/60-globs.conf 'net.ipv4.conf.[ad]*.rp_filter = 0\n'
# a link to /dev/null masks the name
mkdir -p "$root/etc/sysctl.d"
ln -s /dev/null "$root/etc/sysctl.d/40-masked.conf"
put /usr/lib/sysctl.d/40-masked.conf 'kernel.f = 7\n'
# last assignment wins; comments, garbage and blanks; explicit before a later glob
put /etc/sysctl.d/50-order.conf 'kernel.g = 1\nkernel.g=2\nthis line assigns nothing\n; kernel.g = 3\n  # kernel.g = 4\n\n   kernel.h   =   a  b   \nnet.ipv4.conf.eth0.accept_redirects = 0\nnet.ipv4.conf.*.accept_redirects = 1\n-net.ipv4.conf.lo.accept_redirects = 1\n'
# a key repeated with the same value keeps its first place; dotted interface names
put /etc/sysctl.d/55-same.conf 'kernel.i = 3\nnet/ipv4/conf/eth0.100/rp_filter = 2\n'
put /usr/lib/sysctl.d/56-same.conf 'kernel.i = 3\n'
# ignored: hidden files, other suffixes, directories
put /etc/sysctl.d/.hidden.conf 'kernel.a = 99\n'
put /etc/sysctl.d/70-x.conf.disabled 'kernel.a = 98\n'
mkdir -p "$root/etc/sysctl.d/80-dir.conf"
# /etc/sysctl.conf counts through Debian's 99-sysctl.conf link, last
put /etc/sysctl.conf 'kernel.e = 4\nnet.ipv4.conf.default.accept_redirects=0\n'
ln -s ../sysctl.conf "$root/etc/sysctl.d/99-sysctl.conf"

keys="kernel/a kernel/b kernel/c kernel/d kernel/e kernel/f kernel/g kernel/h kernel/i net/ipv4/ip_forward"
for dev in all default lo eth0 eth0.100; do
    keys="$keys net/ipv4/conf/$dev/rp_filter net/ipv4/conf/$dev/accept_redirects"
done
for k in $keys; do
    mkdir -p "$(dirname "$proc/$k")"
    : >"$proc/$k"
done
mkdir -p "$root/run/sysctl.d" "$root/usr/local/lib/sysctl.d"

# The real tool, with the fixture mounted where it looks, writing into the fake /proc/sys.
unshare --mount --propagation private bash -euc '
    root=$1 proc=$2 tool=$3
    mount -t tmpfs none /run && mkdir -p /run/sysctl.d
    mount --bind "$root/run/sysctl.d" /run/sysctl.d
    mount -t tmpfs none /usr/local/lib && mkdir -p /usr/local/lib/sysctl.d
    mount --bind "$root/usr/local/lib/sysctl.d" /usr/local/lib/sysctl.d
    mount --bind "$root/etc/sysctl.d" /etc/sysctl.d
    mount --bind "$root/usr/lib/sysctl.d" /usr/lib/sysctl.d
    mount --bind "$root/etc/sysctl.conf" /etc/sysctl.conf
    mount --bind "$proc" /proc/sys
    "$tool" >/dev/null 2>&1 || true
' _ "$root" "$proc" "$tool"

mismatches=0
for k in $keys; do
    # systemd-sysctl writes "VALUE\n" once per key; an empty file was never written
    want=$(tr -s ' \t' '  ' <"$proc/$k" | sed 's/^ //; s/ $//')
    [ -n "$want" ] || want=null
    got=$("$POSTURE" probe sysctl --root "$root" --arg "key=$k" --format json | jq -r '.facts.persisted.value')
    if [ "$want" != "$got" ]; then
        fail "$k: systemd-sysctl applies '$want', the probe says '$got'"
        mismatches=$((mismatches + 1))
    fi
done
# The reference really ran: the values this fixture was built to produce.
expect_eq "kernel.a from /etc over /usr/lib" "5" "$(cat "$proc/kernel/a")"
expect_eq "eth0.100 rp_filter" "2" "$(cat "$proc/net/ipv4/conf/eth0.100/rp_filter")"
expect_eq "lo excluded from the glob" "" "$(cat "$proc/net/ipv4/conf/lo/rp_filter")"
# The winning file and line.
src() { "$POSTURE" probe sysctl --root "$root" --arg "key=$1" --format json | jq -r '.facts.persisted.source'; }
expect_eq "source of kernel.b" "/usr/local/lib/sysctl.d/30-local.conf:1" "$(src kernel.b)"
expect_eq "source of kernel.e" "/etc/sysctl.d/99-sysctl.conf:1" "$(src kernel.e)"
expect_eq "source of kernel.g" "/etc/sysctl.d/50-order.conf:2" "$(src kernel.g)"
expect_eq "source of kernel.i (same value keeps the first)" "/etc/sysctl.d/55-same.conf:1" "$(src kernel.i)"
expect_eq "source of a glob" "/etc/sysctl.d/60-globs.conf:1" "$(src net.ipv4.conf.default.rp_filter)"
expect_eq "garbled line reported" "/etc/sysctl.d/50-order.conf:3: not an assignment, ignored (as systemd-sysctl does)" \
    "$("$POSTURE" probe sysctl --root "$root" --arg key=kernel.a --format json | jq -r '.errors[0].message')"
# offline: the running value is the persisted one, or an error
expect_eq "offline runtime" "5 /etc/sysctl.d/10-base.conf:1" \
    "$("$POSTURE" probe sysctl --root "$root" --arg key=kernel.a --format json | jq -r '"\(.facts.runtime.value) \(.facts.runtime.source)"')"
expect_eq "offline runtime unset" "null" \
    "$("$POSTURE" probe sysctl --root "$root" --arg key=kernel.f --format json | jq -r '.facts.runtime')"

# Unreadable and oversized files are errors, not silence.
chmod 000 "$root/etc/sysctl.d/55-same.conf"
if [ "$(id -u)" = 0 ]; then
    expect_eq "unreadable file as nobody" "true" \
        "$(setpriv --reuid=65534 --regid=65534 --clear-groups "$POSTURE" probe sysctl --root "$root" --arg key=kernel.a --format json |
            jq '.facts.persisted == null and (.errors[0].message | test("55-same.conf: permission denied"))')"
fi
chmod 644 "$root/etc/sysctl.d/55-same.conf"
head -c 5000000 /dev/zero | tr '\0' 'x' >"$root/etc/sysctl.d/90-huge.conf"
expect_eq "huge file" "read /etc/sysctl.d/90-huge.conf: file is larger than the bound" \
    "$("$POSTURE" probe sysctl --root "$root" --arg key=kernel.a --format json | jq -r '.errors[0].message')"
rm "$root/etc/sysctl.d/90-huge.conf"
expect_eq "not a key" "'net/../../etc/passwd' is not a sysctl key" \
    "$("$POSTURE" probe sysctl --root "$root" --arg key=net/../../etc/passwd --format json | jq -r '.errors[0].message')"

# Running values on this host against sysctl(8).
if command -v sysctl >/dev/null; then
    for k in kernel.randomize_va_space kernel.kptr_restrict fs.protected_symlinks net.ipv4.tcp_syncookies \
        net.ipv4.conf.all.rp_filter net.ipv4.tcp_rmem kernel.ostype; do
        want=$(sysctl -n "$k" 2>/dev/null | tr -s ' \t' '  ') || continue
        got=$("$POSTURE" probe sysctl --arg "key=$k" --format json | jq -r '.facts.runtime.value')
        expect_eq "running $k" "$want" "$got"
    done
fi
finish
