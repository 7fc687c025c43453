#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The agent's systemd unit (install/posture.service.in, configured into the build): systemd's
# own `systemd-analyze verify` finds nothing to say about it; it gives the service no mount
# namespace of its own (the probes must see the host's mounts, /tmp and /proc/sys); and,
# installed and enabled in a root, posture's systemd probe and `systemctl --root` agree that
# it is enabled.
. "$(dirname "$0")/lib.sh"

command -v systemd-analyze >/dev/null && command -v systemctl >/dev/null ||
    { echo "SKIP: no systemd-analyze or systemctl"; exit 77; }
[ -f "$UNIT" ] || fail "no configured unit at $UNIT"

# systemd-analyze checks that ExecStart's program exists: point it at the built binary.
mkdir -p "$WORK/verify"
sed "s|^ExecStart=[^ ]*/posture |ExecStart=$POSTURE |" "$UNIT" >"$WORK/verify/posture.service"
grep -q "^ExecStart=$POSTURE run$" "$WORK/verify/posture.service" ||
    fail "ExecStart is not 'posture run': $(grep ExecStart "$UNIT")"
(cd "$WORK/verify" && systemd-analyze verify --man=no ./posture.service) >"$WORK/out" 2>&1 ||
    fail "systemd-analyze verify failed: $(cat "$WORK/out")"
[ ! -s "$WORK/out" ] || fail "systemd-analyze verify has remarks: $(cat "$WORK/out")"

# Directives that would give the service a mount namespace, and the probes a false view.
if grep -Eq '^(ProtectSystem|ProtectHome|PrivateTmp|PrivateDevices|PrivateMounts|ReadWritePaths|ReadOnlyPaths|InaccessiblePaths|ExecPaths|NoExecPaths|TemporaryFileSystem|BindPaths|BindReadOnlyPaths|ProtectKernelTunables|ProtectKernelModules|ProtectKernelLogs|ProtectControlGroups|ProtectProc|ProcSubset|ProtectClock|ProtectHostname|RootDirectory|RootImage|MountAPIVFS|PrivateNetwork|NetworkNamespacePath)=' "$UNIT"; then
    fail "the unit gives the service a namespace of its own: $(grep -E '^(Protect|Private|ReadWrite|ReadOnly|Root)' "$UNIT")"
fi

# Installed and enabled in a root: systemctl and posture's probe agree.
root=$WORK/root
rm -rf "$root"
mkdir -p "$root/usr/lib/systemd/system" "$root/etc/systemd/system"
cp "$UNIT" "$root/usr/lib/systemd/system/posture.service"
state() { "$POSTURE" probe systemd --root "$root" --arg unit=posture.service --format json | jq -r .facts.state.value; }
expect_eq "installed, not enabled (probe)" disabled "$(state)"
expect_eq "installed, not enabled (systemctl)" disabled \
    "$(systemctl --root="$root" is-enabled posture.service 2>/dev/null || true)"
systemctl --root="$root" enable posture.service >/dev/null 2>&1 || fail "systemctl --root enable failed"
expect_eq "enabled (systemctl)" enabled "$(systemctl --root="$root" is-enabled posture.service)"
expect_eq "enabled (probe)" enabled "$(state)"
[ -L "$root/etc/systemd/system/multi-user.target.wants/posture.service" ] ||
    fail "enable made no multi-user.target.wants link"

finish
