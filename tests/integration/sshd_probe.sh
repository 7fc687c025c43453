#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The sshd probe on a running system and on hostile input: it asks the real sshd (sshd -T,
# sshd -V), reports where sshd and its own parser disagree, falls back to the parser when
# sshd fails, and refuses bad configurations with a clear reason, never a crash or a hang.
. "$(dirname "$0")/lib.sh"

sshd=/usr/sbin/sshd
if [ ! -x "$sshd" ] || [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
    echo "SKIP: needs root, mount namespaces and sshd (install/setup.sh installs openssh-server)"
    exit 77
fi
keys=$WORK/keys
rm -rf "$keys" && mkdir -p "$keys"
ssh-keygen -q -t ed25519 -N '' -C throwaway -f "$keys/host_ed25519"
conf=$WORK/sshd_config
cat >"$conf" <<CONF
HostKey $keys/host_ed25519
ListenAddress localhost
PermitRootLogin no
CONF

# Runs posture in a private mount namespace whose /run holds sshd's privilege separation
# directory (or not, with nodir), as a running ssh service would have it.
in_ns() {
    local dir=$1
    shift
    unshare -m -- bash -c 'mount --make-rprivate / && mount -t tmpfs tmpfs /run &&
        if [ "$1" = dir ]; then mkdir -m 0755 /run/sshd; fi; shift; exec "$@"' _ "$dir" "$@"
}

# Live: sshd answers, the parser agrees on everything but the name sshd resolves.
in_ns dir "$POSTURE" probe sshd --arg "config=$conf" --format json >"$WORK/live.json" || fail "live probe"
version=$("$sshd" -V 2>&1 | sed -n 's/^OpenSSH_\([0-9]*\.[0-9]*\).*/\1/p')
expect_eq "live: sshd answers" "sshd -T $version" "$(jq -r '"\(.facts.resolved_by.value) \(.facts.version.value)"' "$WORK/live.json")"
expect_eq "live: value and the line that set it" "no $conf:3" \
    "$(jq -r '"\(.facts.permitrootlogin.value) \(.facts.permitrootlogin.source)"' "$WORK/live.json")"
expect_eq "live: the difference is reported" \
    '[{"keyword":"listenaddress","sshd":"127.0.0.1:22","parser":"localhost:22"}]' \
    "$(jq -c '[.facts.differences.value[] | {keyword, sshd, parser}]' "$WORK/live.json")"
expect_eq "live: sshd's value is the one used" '["127.0.0.1:22"]' "$(jq -c .facts.listenaddress.value "$WORK/live.json")"
jq -r .facts.listenaddress.source "$WORK/live.json" | grep -q "posture's parser: localhost:22" ||
    fail "live: the evidence source does not show the parser's value"

# sshd fails (no privilege separation directory): the parser answers, and says why.
in_ns nodir "$POSTURE" probe sshd --arg "config=$conf" --format json >"$WORK/nodir.json" || fail "probe without /run/sshd"
expect_eq "fallback: parser" "parser" "$(jq -r .facts.resolved_by.value "$WORK/nodir.json")"
jq -r '.facts.notes.value[].message' "$WORK/nodir.json" | grep -q "Missing privilege separation directory" ||
    fail "fallback: the note does not say why sshd -T failed"

# This host's own configuration: sshd and the parser agree on every keyword.
if [ -f /etc/ssh/sshd_config ]; then
    in_ns dir "$POSTURE" probe sshd --format json >"$WORK/host.json" || fail "host probe"
    expect_eq "host: no difference" "sshd -T 0" \
        "$(jq -r '"\(.facts.resolved_by.value) \(.facts.differences_count.value)"' "$WORK/host.json")"
fi

# A Match block applied for a connection, live and from the parser alike.
printf 'Match User alice\n  PermitRootLogin yes\n  MaxAuthTries 2\n' >>"$conf"
for mode in dir nodir; do
    in_ns $mode "$POSTURE" probe sshd --arg "config=$conf" --arg connection=user=alice,host=h,addr=192.0.2.7 \
        --format json >"$WORK/match.json" || fail "match probe ($mode)"
    expect_eq "match ($mode)" "yes 2 $conf:6" \
        "$(jq -r '"\(.facts.permitrootlogin.value) \(.facts.maxauthtries.value) \(.facts.maxauthtries.source)"' "$WORK/match.json")"
done
expect_exit "bad connection spec" 0 "$POSTURE" probe sshd --arg "config=$conf" --arg connection=nobody --format json
grep -q "invalid connection spec item 'nobody'" "$WORK/out" || fail "bad connection spec: message"

# Hostile input, offline: each is refused with the file, line and reason, in bounded time.
root=$WORK/root
rm -rf "$root" && mkdir -p "$root/etc/ssh/sshd_config.d" "$root/etc/ssh/many"
printf 'Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin no\n' >"$root/etc/ssh/sshd_config"
probe_root() { "$POSTURE" probe sshd --root "$root" --format json >"$WORK/bad.json"; jq -r '.errors[].message' "$WORK/bad.json"; }
printf 'PermitRootLogin no\n\0\1\2binary\n' >"$root/etc/ssh/sshd_config.d/10-binary.conf"
probe_root | grep -q "10-binary.conf: binary content in a text file" || fail "binary drop-in"
rm "$root/etc/ssh/sshd_config.d/10-binary.conf"
{ printf 'AllowUsers '; head -c 1048576 /dev/zero | tr '\0' 'a'; printf '\n'; } >"$root/etc/ssh/sshd_config.d/20-long.conf"
"$POSTURE" probe sshd --root "$root" --format json >"$WORK/long.json" || fail "1 MiB line"
expect_eq "1 MiB line is one user pattern" "1048576" "$(jq -r '.facts.allowusers.value[0] | length' "$WORK/long.json")"
head -c 5000000 /dev/zero | tr '\0' '#' >"$root/etc/ssh/sshd_config.d/20-long.conf"
probe_root | grep -q "20-long.conf: larger than 4 MiB" || fail "huge drop-in"
rm "$root/etc/ssh/sshd_config.d/20-long.conf"
for i in $(seq 1 1500); do : >"$root/etc/ssh/many/$i.conf"; done
printf 'Include many/*.conf\n' >"$root/etc/ssh/sshd_config.d/30-many.conf"
start=$(date +%s%N)
probe_root | grep -q 'include "/etc/ssh/many/\*.conf" matches more than 1024 files' || fail "glob of 1500 files"
[ $(( ($(date +%s%N) - start) / 1000000 )) -lt 5000 ] || fail "glob of 1500 files took 5 s or more"
printf 'Include /etc/ssh/sshd_config.d/30-many.conf\n' >"$root/etc/ssh/sshd_config.d/30-many.conf"
probe_root | grep -q "include loop: /etc/ssh/sshd_config.d/30-many.conf includes itself" || fail "include loop"
printf 'MaxAuthTries 3\n' >"$root/etc/ssh/sshd_config.d/30-many.conf"
chmod 0600 "$root/etc/ssh/sshd_config.d/30-many.conf"
chmod 0755 "$WORK" "$root" "$root/etc" "$root/etc/ssh" "$root/etc/ssh/sshd_config.d"
if setpriv --reuid=65534 --regid=65534 --clear-groups -- test -x "$POSTURE"; then
    setpriv --reuid=65534 --regid=65534 --clear-groups -- "$POSTURE" probe sshd --root "$root" --format json >"$WORK/nobody.json" ||
        fail "unreadable drop-in"
    jq -r '.errors[].message' "$WORK/nobody.json" | grep -q "30-many.conf: permission denied" ||
        fail "unreadable drop-in: no clear error"
fi
finish
