#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# posture's own sshd_config resolution against the real `sshd -T`, for every configuration of
# tests/data/sshd/: each case directory holds files laid out as /etc/ssh holds them, and RUNS
# lists the `sshd -T -C` connection specs to try, each after the outcome both must agree on
# ("ok": the same value for every keyword; "error": both refuse the configuration).
# The real sshd reads the case through a bind mount over /etc/ssh in a private mount
# namespace, with throwaway host keys; no daemon is started and the host is not changed.
. "$(dirname "$0")/lib.sh"

: "${SSHD_DUMP:?SSHD_DUMP must name the sshd_dump tool}"
sshd=$(command -v sshd || echo /usr/sbin/sshd)
if [ ! -x "$sshd" ]; then
    echo "SKIP: no sshd binary (install/setup.sh installs openssh-server)"
    exit 77
fi
if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
    echo "SKIP: needs root and mount namespaces to show sshd a case as /etc/ssh"
    exit 77
fi
version=$("$sshd" -V 2>&1 | sed -n 's/^OpenSSH_\([0-9]*\.[0-9]*\).*/\1/p' | head -n1)
keys=$WORK/keys
rm -rf "$keys" && mkdir -p "$keys"
for t in rsa ecdsa ed25519; do
    ssh-keygen -q -t $t -N '' -C throwaway -f "$keys/ssh_host_${t}_key"
done

# Runs the real sshd -T on ROOT's /etc/ssh/sshd_config: stdout, stderr and status as sshd's.
real_sshd() {
    local root=$1 spec=$2
    unshare -m -- bash -c '
        set -e
        mount --make-rprivate /
        mount --bind "$1/etc/ssh" /etc/ssh
        mount -t tmpfs tmpfs /run && mkdir -m 0755 /run/sshd
        cd /
        if [ -n "$3" ]; then exec "$2" -T -f /etc/ssh/sshd_config -C "$3"; fi
        exec "$2" -T -f /etc/ssh/sshd_config' _ "$root" "$sshd" "$spec"
}

cases=0 runs=0
for dir in "$SRC"/tests/data/sshd/*/; do
    name=$(basename "$dir")
    cases=$((cases + 1))
    root=$WORK/roots/$name
    rm -rf "$root" && mkdir -p "$root/etc/ssh" "$root/root"
    cp -a "$dir". "$root/etc/ssh/" && rm -f "$root/etc/ssh/RUNS"
    cp -n "$keys"/* "$root/etc/ssh/"
    # Match Group resolves users through the accounts sshd sees: the host's
    cp /etc/passwd /etc/group "$root/etc/"
    while IFS= read -r line || [ -n "$line" ]; do
        expect=${line%% *}
        spec=""
        [ "$line" != "$expect" ] && spec=${line#* }
        runs=$((runs + 1))
        label="$name${spec:+ -C $spec}"
        set +e
        real_sshd "$root" "$spec" >"$WORK/real.out" 2>"$WORK/real.err"
        real_rc=$?
        if [ -n "$spec" ]; then
            "$SSHD_DUMP" --root "$root" --version "$version" -C "$spec" /etc/ssh/sshd_config \
                >"$WORK/ours.out" 2>"$WORK/ours.err"
        else
            "$SSHD_DUMP" --root "$root" --version "$version" /etc/ssh/sshd_config \
                >"$WORK/ours.out" 2>"$WORK/ours.err"
        fi
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
    done <"$dir/RUNS"
done
echo "compared $runs runs of $cases configurations with sshd $version"
[ "$cases" -ge 40 ] || fail "the corpus has $cases configurations, fewer than 40"
finish
