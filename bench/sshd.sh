#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmarks the sshd configuration parser on an include tree of 100 drop-in files (each
# with ten settings and a Match block), as sshd reads it: the parser alone in-process
# (median of 201 resolutions), `posture probe sshd --root` as a whole process, and the real
# `sshd -T` on the same tree (in a private mount namespace, when run as root). Median of
# RUNS runs (default 51). docs/performance.md records the figures with this command.
# Usage: bench/sshd.sh [BUILD_DIR] (default build/, a release build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
runs=${RUNS:-51}
posture=$build/posture dump=$build/tests/sshd_dump
[ -x "$posture" ] && [ -x "$dump" ] || { echo "build first: cmake -S . -B build && cmake --build build" >&2; exit 2; }

median() { LC_ALL=C sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
mkdir -p "$root/etc/ssh/sshd_config.d"
cp /etc/passwd /etc/group "$root/etc/" 2>/dev/null || true
printf 'Include /etc/ssh/sshd_config.d/*.conf\nUsePAM yes\nSubsystem sftp /usr/lib/openssh/sftp-server\n' \
    >"$root/etc/ssh/sshd_config"
for i in $(seq -w 1 100); do
    cat >"$root/etc/ssh/sshd_config.d/$i-site.conf" <<CONF
# drop-in $i
MaxAuthTries $((10#$i % 6 + 1))
LoginGraceTime ${i}s
ClientAliveInterval $((10#$i * 3))
AcceptEnv VAR_$i
AllowGroups group$i
Ciphers aes256-gcm@openssh.com,aes128-ctr
PermitRootLogin no
Banner /etc/issue.net
X11Forwarding no
Match User user$i Address 10.$i.0.0/16
    PasswordAuthentication yes
CONF
done
ssh-keygen -q -t ed25519 -N '' -f "$root/etc/ssh/ssh_host_ed25519_key"

time_runs() {
    : >"$tmp/wall"
    for _ in $(seq "$runs"); do
        local start end
        start=$(date +%s%N)
        "$@" >/dev/null 2>&1 || true
        end=$(date +%s%N)
        echo $(((end - start) / 1000)) >>"$tmp/wall"
    done
    median <"$tmp/wall" | awk '{printf "%.2f", $1 / 1000}'
}

echo "posture $("$posture" version | cut -d' ' -f2), $(nproc) cores; 101 files, 1103 lines"
echo
echo "| case | ms |"
echo "|---|---|"
echo "| parser alone, in-process (median of 201) | $("$dump" --root "$root" --bench 201 /etc/ssh/sshd_config) |"
echo "| \`posture probe sshd --root\`, whole process (median of $runs) | $(time_runs "$posture" probe sshd --root "$root" --format json) |"
if [ "$(id -u)" = 0 ] && [ -x /usr/sbin/sshd ] && unshare -m true 2>/dev/null; then
    real=$(time_runs unshare -m -- bash -c 'mount --make-rprivate / && mount --bind "$1/etc/ssh" /etc/ssh &&
        mount -t tmpfs tmpfs /run && mkdir /run/sshd && exec /usr/sbin/sshd -T' _ "$root")
    base=$(time_runs unshare -m -- bash -c 'mount --make-rprivate / && mount -t tmpfs tmpfs /run && exec true')
    echo "| \`sshd -T\` on the same tree, whole process (median of $runs; namespace set-up of $base ms included) | $real |"
fi
