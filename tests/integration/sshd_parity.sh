#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# posture's own sshd_config resolution against the real `sshd -T`, for every configuration of
# tests/data/sshd/, on every OpenSSH version posture has a table for: this machine's sshd
# (Debian 12, 9.2) and those of Debian 11 (8.4) and Debian 13 (10.0), from debootstrap roots
# with openssh-server (cached beside the Debian root of debian_root.sh). Each case directory
# holds files laid out as /etc/ssh holds them, and RUNS (or RUNS-VERSION where a version
# differs) lists the `sshd -T -C` connection specs to try, each after the outcome both must
# agree on ("ok": the same value for every keyword; "error": both refuse the configuration).
# The real sshd reads a case through a bind mount over /etc/ssh in a private mount
# namespace, with throwaway host keys; no daemon is started and no file of the host changes.
. "$(dirname "$0")/lib.sh"

: "${SSHD_DUMP:?SSHD_DUMP must name the sshd_dump tool}"
if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
    echo "SKIP: needs root and mount namespaces to show sshd a case as /etc/ssh"
    exit 77
fi
cache=${POSTURE_CACHE_DIR:-$WORK/cache}
suites=${SSHD_SUITES-bullseye trixie}

mirror() {
    local uri
    uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
    if [ -z "$uri" ]; then
        uri=$(awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' \
            /etc/apt/sources.list 2>/dev/null || true)
    fi
    echo "$uri"
}

# A root of SUITE with openssh-server, made once and cached; prints its path, or nothing.
suite_root() {
    local suite=$1 root=$cache/sshd-$1 url
    if [ ! -f "$root/.complete" ]; then
        url=$(mirror)
        command -v debootstrap >/dev/null && [ -n "$url" ] || return 0
        rm -rf "$root.partial" && mkdir -p "$cache"
        if ! debootstrap --variant=minbase --include=openssh-server "$suite" "$root.partial" "$url" \
            >"$WORK/debootstrap-$suite.log" 2>&1; then
            echo "debootstrap of $suite failed (last lines below): its sshd is not compared" >&2
            tail -3 "$WORK/debootstrap-$suite.log" >&2
            return 0
        fi
        touch "$root.partial/.complete"
        rm -rf "$root" && mv "$root.partial" "$root"
    fi
    echo "$root"
}

keys=$WORK/keys
rm -rf "$keys" && mkdir -p "$keys"
for t in rsa ecdsa ed25519; do
    ssh-keygen -q -t $t -N '' -C throwaway -f "$keys/ssh_host_${t}_key"
done

# real_sshd SYSROOT CASE SPEC: sshd -T of SYSROOT ("/" for this machine's) on CASE's files.
real_sshd() {
    unshare -m -- bash -c '
        set -e
        mount --make-rprivate /
        sys=$1
        [ "$sys" = / ] && sys=
        mount --bind "$2/etc/ssh" "$sys/etc/ssh"
        mount -t tmpfs tmpfs "$sys/run" && mkdir -m 0755 "$sys/run/sshd"
        cd /
        run() { if [ -n "$sys" ]; then chroot "$sys" "$@"; else "$@"; fi; }
        if [ -n "$3" ]; then run /usr/sbin/sshd -T -f /etc/ssh/sshd_config -C "$3"; exit; fi
        run /usr/sbin/sshd -T -f /etc/ssh/sshd_config' _ "$1" "$2" "$3"
}

total_runs=0
# compare_version SYSROOT: every case of the corpus against that system's sshd.
compare_version() {
    local sys=$1 release version cases=0 runs=0
    local sshd_bin=$sys/usr/sbin/sshd
    [ "$sys" = / ] && sshd_bin=/usr/sbin/sshd
    if [ ! -x "$sshd_bin" ]; then
        echo "no sshd in $sys: skipped"
        return
    fi
    if [ "$sys" = / ]; then
        release=$(/usr/sbin/sshd -V 2>&1 | head -n1 | sed 's/,.*//')
    else
        release=$(chroot "$sys" /usr/sbin/sshd -V 2>&1 | head -n1 | sed 's/,.*//' || true)
        # 8.4 has no -V: the version is in its usage message, or in the package
        case $release in OpenSSH_*) ;; *) release=$(chroot "$sys" dpkg-query -W -f '${Version}' openssh-server | sed 's/^[0-9]*://; s/^/OpenSSH_/; s/-.*//');; esac
    fi
    version=$(echo "$release" | sed -n 's/^OpenSSH_\([0-9]*\.[0-9]*\).*/\1/p')
    # the release the probe reads from the binary's own strings, instead of running sshd -V
    expect_eq "$version: the release read from the binary" "$version" "$("$SSHD_DUMP" --root "$sys" --binary-version)"
    for dir in "$SRC"/tests/data/sshd/*/; do
        local name runsfile root line expect spec label real_rc ours_rc
        name=$(basename "$dir")
        cases=$((cases + 1))
        runsfile=$dir/RUNS
        [ -f "$dir/RUNS-$version" ] && runsfile=$dir/RUNS-$version
        root=$WORK/roots/$version/$name
        rm -rf "$root" && mkdir -p "$root/etc/ssh" "$root/root"
        cp -a "$dir". "$root/etc/ssh/" && rm -f "$root/etc/ssh"/RUNS*
        cp -n "$keys"/* "$root/etc/ssh/"
        # Match Group resolves users through the accounts that sshd sees
        if [ "$sys" = / ]; then cp /etc/passwd /etc/group "$root/etc/"; else cp "$sys/etc/passwd" "$sys/etc/group" "$root/etc/"; fi
        while IFS= read -r line || [ -n "$line" ]; do
            expect=${line%% *}
            spec=""
            [ "$line" != "$expect" ] && spec=${line#* }
            runs=$((runs + 1))
            label="$version $name${spec:+ -C $spec}"
            set +e
            real_sshd "$sys" "$root" "$spec" >"$WORK/real.out" 2>"$WORK/real.err"
            real_rc=$?
            "$SSHD_DUMP" --root "$root" --version "$release" ${spec:+-C "$spec"} /etc/ssh/sshd_config \
                >"$WORK/ours.out" 2>"$WORK/ours.err"
            ours_rc=$?
            set -e
            if [ "$expect" = ok ]; then
                if [ $real_rc != 0 ]; then
                    fail "$label: sshd refused a case meant to be accepted: $(tail -n1 "$WORK/real.err")"
                elif [ $ours_rc != 0 ]; then
                    fail "$label: posture refused what sshd accepts: $(grep -v '^note:' "$WORK/ours.err" | tail -n1)"
                elif ! diff -u "$WORK/real.out" "$WORK/ours.out" >"$WORK/diff"; then
                    fail "$label: values differ from sshd -T:"
                    grep '^[-+][a-z]' "$WORK/diff" | head -n 20 >&2
                fi
            else
                [ $real_rc != 0 ] || fail "$label: sshd accepted a case meant to be refused"
                [ $ours_rc = 255 ] || fail "$label: posture did not refuse it (exit $ours_rc)"
                [ -s "$WORK/ours.err" ] || fail "$label: posture refused it without a reason"
            fi
        done <"$runsfile"
    done
    echo "compared $runs runs of $cases configurations with $release"
    # The probe on that system as a whole (offline, from its own files and dpkg's version):
    # the table it picks and the values of the system's own configuration.
    if [ "$sys" != / ]; then
        "$POSTURE" probe sshd --root "$sys" --format json >"$WORK/probe-$version.json" || fail "$version: probe"
        real_sshd "$sys" "$sys" "" >"$WORK/system-$version.out" 2>/dev/null || fail "$version: sshd -T of the system"
        expect_eq "$version: the probe's table" "$version parser" \
            "$(jq -r '"\(.facts.version.value) \(.facts.resolved_by.value)"' "$WORK/probe-$version.json")"
        for k in permitrootlogin passwordauthentication kbdinteractiveauthentication x11forwarding usepam ipqos; do
            expect_eq "$version: system $k" "$(awk -v k=$k '$1 == k {$1 = ""; print substr($0, 2)}' "$WORK/system-$version.out")" \
                "$(jq -r --arg k $k '.facts[$k].value' "$WORK/probe-$version.json")"
        done
        for k in ciphers macs kexalgorithms; do
            expect_eq "$version: system $k" "$(awk -v k=$k '$1 == k {print $2}' "$WORK/system-$version.out")" \
                "$(jq -r --arg k $k '.facts[$k].value | join(",")' "$WORK/probe-$version.json")"
        done
        for k in acceptenv subsystem hostkey; do
            expect_eq "$version: system $k" "$(awk -v k=$k '$1 == k {$1 = ""; print substr($0, 2)}' "$WORK/system-$version.out")" \
                "$(jq -r --arg k $k '.facts[$k].value[]' "$WORK/probe-$version.json")"
        done
    fi
    [ "$cases" -ge 40 ] || fail "the corpus has $cases configurations, fewer than 40"
    total_runs=$((total_runs + runs))
}

if [ -x /usr/sbin/sshd ]; then
    compare_version /
else
    echo "no sshd on this machine (install/setup.sh installs openssh-server)"
fi
for suite in $suites; do
    root=$(suite_root "$suite")
    if [ -n "$root" ]; then
        compare_version "$root"
    else
        echo "no $suite root (no debootstrap or no Debian archive): its sshd is not compared"
    fi
done
[ "$total_runs" -gt 0 ] || { echo "SKIP: no sshd to compare with"; exit 77; }
finish
