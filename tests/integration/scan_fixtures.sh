#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Scans the hand-made roots of tests/data/roots with the default baseline and compares every
# recommendation's status and both scores with tests/data/roots/NAME.expected, exactly.
. "$(dirname "$0")/lib.sh"

# One line a recommendation ("id status"), sorted, then the score lines.
summarise() {
    jq -r '(.results[] | "\(.id) \(.status)"),
           "secure \(.score.secure.current) \(.score.secure.max) \(.score.secure.percent)",
           "compliance pass=\(.score.compliance.pass) fail=\(.score.compliance.fail) error=\(.score.compliance.error) exempt=\(.score.compliance.exempt) not_applicable=\(.score.compliance.not_applicable) percent=\(.score.compliance.percent)",
           (.controls[] | "control \(.id) \(.current)/\(.max_score) healthy=\(.healthy) in_score=\(.in_score) potential_increase=\(.potential_increase)")' "$1" |
        LC_ALL=C sort
}

for name in hardened weak lax; do
    root="$WORK/$name"
    build_root "$name" "$root"
    expect_exit "scan $name" 0 "$POSTURE" scan --root "$root" --format json --output "$WORK/$name.json"
    summarise "$WORK/$name.json" >"$WORK/$name.actual"
    LC_ALL=C sort "$SRC/tests/data/roots/$name.expected" >"$WORK/$name.want"
    if ! diff -u "$WORK/$name.want" "$WORK/$name.actual"; then
        fail "$name: statuses or scores differ from $name.expected (diff above)"
    fi
    expect_eq "$name: report root" "$root" "$(jq -r .root "$WORK/$name.json")"
    expect_eq "$name: schema" "posture.report/v1" "$(jq -r .schema "$WORK/$name.json")"
done

# Roots for the network service checks: the packages installed, their services disabled
# (services-off) or enabled (services-on). Only the recommendations listed in their .expected
# files are compared: these roots exist for those.
for name in services-off services-on; do
    root="$WORK/$name"
    build_root "$name" "$root"
    expect_exit "scan $name" 0 "$POSTURE" scan --root "$root" --format json --output "$WORK/$name.json"
    jq -r '.results[] | "\(.id) \(.status)"' "$WORK/$name.json" | LC_ALL=C sort >"$WORK/$name.all"
    LC_ALL=C sort "$SRC/tests/data/roots/$name.expected" >"$WORK/$name.want"
    awk 'NR == FNR {want[$1] = 1; next} $1 in want' "$WORK/$name.want" "$WORK/$name.all" >"$WORK/$name.actual"
    if ! diff -u "$WORK/$name.want" "$WORK/$name.actual"; then
        fail "$name: statuses differ from $name.expected (diff above)"
    fi
done
# Kernel parameters: the evidence says which value is wrong and where it was set.
expect_eq "persisted sysctl from the shadowing /etc file" "sysctl.persisted_number 0 /etc/sysctl.d/99-protect-links.conf:1" \
    "$(jq -r '.results[] | select(.id == "kernel-protected-links") | .evidence[1] | "\(.fact) \(.observed) \(.source)"' "$WORK/weak.json")"
expect_eq "sysctl.conf through 99-sysctl.conf" "0 /etc/sysctl.d/99-sysctl.conf:2" \
    "$(jq -r '.results[] | select(.id == "kernel-aslr-enabled") | .evidence[1] | "\(.observed) \(.source)"' "$WORK/weak.json")"
expect_eq "SysV script with a start link" "enabled /etc/rc5.d/S01slapd" \
    "$("$POSTURE" probe systemd --root "$WORK/services-on" --arg unit=slapd.service --format json | jq -r '"\(.facts.state.value) \(.facts.state.source)"')"

# The weak root's evidence names the file and line a value came from.
weak=$WORK/weak.json
expect_eq "evidence of password-max-days" \
    "accounts.pass_max_days 99999 le 365 (\$pass_max_days) /etc/login.defs:2" \
    "$(jq -r '.results[] | select(.id == "password-max-days") | .evidence[0] | "\(.fact) \(.observed) \(.expected) \(.source)"' "$weak")"
expect_eq "evidence of root-only-uid-0" '/etc/passwd:2 ["root","toor"]' \
    "$(jq -c -r '.results[] | select(.id == "root-only-uid-0") | .evidence[0] | "\(.source) \(.observed | tojson)"' "$weak")"
# /etc/shells is a symlink to a world-writable file inside the root: the target is judged.
expect_eq "symlinked /etc/shells" "0666" \
    "$(jq -r '.results[] | select(.id == "shells-permissions") | .evidence[] | select(.fact == "file.mode") | .observed' "$weak")"
# /etc/gshadow- points at /usr/lib/os-release, which exists on this host but not in the root.
expect_eq "absolute symlink stays in the root" "not_applicable" \
    "$(jq -r '.results[] | select(.id == "gshadow-backup-permissions") | .status' "$weak")"
expect_eq "binary banner is an error with its reason" \
    "read /etc/issue.net: binary content in a text file" \
    "$(jq -r '.results[] | select(.id == "issue-net-no-system-information") | .reason' "$weak")"
# Filesystem-wide findings name the very paths, packages and users.
evidence() { jq -r --arg id "$1" --arg f "$2" '.results[] | select(.id == $id) | .evidence[] | select(.fact == $f) | .observed' "$weak"; }
expect_eq "world-writable files" '["/home/guest/.profile","/usr/share/defaults/shells"]' \
    "$("$POSTURE" probe fswalk --root "$WORK/weak" --format json | jq -c '[.facts.world_writable_files.value[].path] | sort')"
expect_eq "unowned" "1" "$(evidence no-unowned-files fswalk.unowned_count)"
expect_eq "unpackaged SUID" '[{"path":"/usr/local/bin/backdoor","mode":"4755","owner":"root","group":"root"}]' \
    "$("$POSTURE" probe fswalk --root "$WORK/weak" --format json | jq -c .facts.unpackaged_suid_sgid.value)"
expect_eq "packaged SUID" "sudo" \
    "$("$POSTURE" probe fswalk --root "$WORK/hardened" --format json | jq -r '.facts.suid_sgid.value[0].package')"
expect_eq "modified binary" '[{"path":"/usr/bin/telnet.netkit","package":"telnet","conffile":false}] [{"path":"/usr/sbin/in.telnetd","package":"telnetd","conffile":false}]' \
    "$("$POSTURE" probe dpkg_verify --root "$WORK/weak" --format json | jq -c '.facts.modified.value, .facts.missing.value' | tr '\n' ' ' | sed 's/ $//')"
expect_eq "homes" '["legacy","games"] [{"user":"guest","home":"/home/guest","mode":"0755"}] ["/home/guest/.rhosts"]' \
    "$("$POSTURE" probe homes --root "$WORK/weak" --format json | jq -c '[.facts.missing.value[].user], .facts.bad_mode.value, [.facts.forbidden_files.value[].path]' | tr '\n' ' ' | sed 's/ $//')"

# SSH: a drop-in read first wins over the main file, and the evidence says which line.
expect_eq "sshd: drop-in wins" "yes /etc/ssh/sshd_config.d/10-legacy.conf:2" \
    "$(jq -r '.results[] | select(.id == "ssh-root-login-disabled") | .evidence[] | select(.fact == "sshd.permitrootlogin") | "\(.observed) \(.source)"' "$weak")"
expect_eq "sshd: weak ciphers named" '["aes128-cbc","3des-cbc"]' \
    "$(jq -c '.results[] | select(.id == "ssh-strong-ciphers") | .evidence[] | select(.fact == "sshd.ciphers") | .offending' "$weak")"
expect_eq "sshd: offline roots use the parser" "parser 9.2" \
    "$("$POSTURE" probe sshd --root "$WORK/weak" --format json | jq -r '"\(.facts.resolved_by.value) \(.facts.version.value)"')"
expect_eq "sshd: weak host keys" '["/etc/ssh/ssh_host_rsa_key ssh-rsa 1024","/etc/ssh/ssh_host_dsa_key ssh-dss 1024"]' \
    "$("$POSTURE" probe sshd --root "$WORK/weak" --format json | jq -c '[.facts.host_keys_weak.value[] | "\(.path) \(.type) \(.bits)"]')"
expect_eq "sshd: key permissions" '["/etc/ssh/sshd_config"] ["/etc/ssh/ssh_host_ed25519_key"] ["/etc/ssh/ssh_host_rsa_key.pub"]' \
    "$("$POSTURE" probe sshd --root "$WORK/weak" --format json | jq -c '[.facts.config_files_bad_permissions.value[].path], [.facts.host_keys_private_bad_permissions.value[].path], [.facts.host_keys_public_bad_permissions.value[].path]' | tr '\n' ' ' | sed 's/ $//')"
expect_eq "sshd: strong keys" '["ssh-ed25519 256","ssh-rsa 4096"]' \
    "$("$POSTURE" probe sshd --root "$WORK/hardened" --format json | jq -c '[.facts.host_keys.value[] | "\(.type) \(.bits)"]')"

# A Match block that lets root in from some addresses fails the root-login check, though the
# global value is right, and the evidence names the block.
rm -rf "$WORK/match-root" && cp -a "$WORK/hardened" "$WORK/match-root"
chmod u+w "$WORK/match-root/etc/ssh/sshd_config"
printf 'Match Address 10.0.0.0/8\n    PermitRootLogin yes\n' >>"$WORK/match-root/etc/ssh/sshd_config"
expect_exit "scan match-root" 0 "$POSTURE" scan --root "$WORK/match-root" --only ssh-root-login-disabled --format json --output "$WORK/match-root.json"
expect_eq "sshd: Match block weakens root login" 'fail no ["yes"] /etc/ssh/sshd_config:19' \
    "$(jq -r '.results[0] | "\(.status) \(.evidence[1].observed) \(.evidence[2].observed | tojson) \(.evidence[2].source)"' "$WORK/match-root.json")"
expect_eq "sshd: the block is named" "Address 10.0.0.0/8" \
    "$("$POSTURE" probe sshd --root "$WORK/match-root" --format json | jq -r '.facts.match_settings.value[] | select(.keyword == "permitrootlogin") | .match')"

# Accounts without a valid shell (CIS 5.4.2.8) against shadow's own passwd -S on the same
# roots: every account other than root whose shell is not in /etc/shells (nologin never
# counts), with the status passwd -S reports when it is not L (locked).
for name in weak hardened lax; do
    root=$WORK/$name
    shells=$root/etc/shells
    if [ -L "$shells" ]; then # a symlink of the root, resolved inside it
        target=$(readlink "$shells")
        case "$target" in /*) shells=$root$target ;; *) shells=$root/etc/$target ;; esac
    fi
    [ -e "$shells" ] || shells=/dev/null # no /etc/shells: no shell is valid
    passwd -R "$root" -S -a >"$WORK/$name.passwd-S"
    awk -F: -v sf="$shells" -v pf="$WORK/$name.passwd-S" '
        FILENAME == sf { if ($0 ~ /^\// && $0 !~ /\/nologin$/) valid[$0] = 1; next }
        FILENAME == pf { split($0, f, " "); if (!(f[1] in status)) status[f[1]] = f[2]; next }
        NF == 7 && $1 != "root" && !($7 in valid) && status[$1] != "L" { print $1, $7, status[$1] }
    ' "$shells" "$WORK/$name.passwd-S" "$root/etc/passwd" >"$WORK/$name.invalid.want"
    "$POSTURE" probe accounts --root "$root" --arg max_findings=1000 --format json |
        jq -r '.facts.invalid_shell_unlocked.value[] | "\(.user) \(.shell) \(.status)"' >"$WORK/$name.invalid.got"
    if ! diff -u "$WORK/$name.invalid.want" "$WORK/$name.invalid.got"; then
        fail "$name: accounts without a valid shell differ from passwd -S (diff above)"
    fi
    expect_eq "$name: root's status as passwd -S reports it" "$(awk '$1 == "root" {print $2; exit}' "$WORK/$name.passwd-S")" \
        "$("$POSTURE" probe accounts --root "$root" --format json | jq -r .facts.root_password_status.value)"
done
expect_eq "weak: accounts without a valid shell" "dup /usr/sbin/nologin P,guest /usr/sbin/nologin NP" \
    "$(paste -sd, "$WORK/weak.invalid.got")"
# root with an empty password field (lax) fails 5.4.2.4; locked (hardened) passes.
expect_eq "lax: passwd -S on root" "NP" "$(passwd -R "$WORK/lax" -S root | awk '{print $2}')"
expect_eq "lax: root without a password fails" 'fail NP /etc/shadow:1' \
    "$(jq -r '.results[] | select(.id == "root-password-controlled") | "\(.status) \(.evidence[0].observed) \(.evidence[0].source)"' "$WORK/lax.json")"

# Privileged programs' audit rules (CIS 6.2.3.6) as the benchmark's own audit finds them: each
# SUID/SGID file of the root (find) whose path no file of rules.d mentions (grep -r).
for name in weak hardened; do
    root=$WORK/$name
    find "$root" -xdev -perm /6000 -type f | sed "s|^$root||" | LC_ALL=C sort | while read -r program; do
        grep -qr -- "$program" "$root/etc/audit/rules.d" || echo "$program"
    done >"$WORK/$name.unaudited.want"
    "$POSTURE" probe fswalk --root "$root" --format json |
        jq -r '.facts.suid_sgid_unaudited.value[] | select(.missing == ["/etc/audit/rules.d", "loaded"]) | .path' |
        LC_ALL=C sort >"$WORK/$name.unaudited.got"
    if ! diff -u "$WORK/$name.unaudited.want" "$WORK/$name.unaudited.got"; then
        fail "$name: unaudited SUID/SGID programs differ from find and grep (diff above)"
    fi
done
expect_eq "weak: unaudited programs" "/usr/local/bin/backdoor" "$(paste -sd, "$WORK/weak.unaudited.got")"
expect_eq "weak: max_log_file below the site's size" "5 ge 8 (\$audit_max_log_file) /etc/audit/auditd.conf:1" \
    "$(jq -r '.results[] | select(.id == "auditd-max-log-file") | .evidence[1] | "\(.observed) \(.expected) \(.source)"' "$weak")"

# Report order: controls by potential increase, failing recommendations first.
expect_eq "first control" "secure-management-ports" "$(jq -r '.controls[0].id' "$weak")"
expect_eq "first result" "fail" "$(jq -r '.results[0].status' "$weak")"

# Exemptions from an agent config: mitigated counts as pass, a waiver leaves the score,
# an expired one is ignored with a warning.
cat >"$WORK/exempt.yaml" <<'YAML'
parameters: {pass_max_days: 100000}
exemptions:
  - {recommendation: telnet-client-not-installed, kind: mitigated, reason: outbound telnet blocked}
  - {recommendation: rsh-client-not-installed, kind: mitigated, reason: blocked, expires: 2099-12-31}
  - {recommendation: ftp-client-not-installed, kind: mitigated, reason: old, expires: 2020-01-01}
  - {recommendation: aide-installed, kind: waiver, reason: EDR agent covers file integrity}
  - {recommendation: no-modified-package-binaries, kind: waiver, reason: EDR agent covers it}
  - {recommendation: ssh-strong-ciphers, kind: mitigated, reason: SSH only reachable from the bastion}
  - {recommendation: ssh-strong-macs, kind: mitigated, reason: SSH only reachable from the bastion}
  - {recommendation: ssh-strong-kex, kind: mitigated, reason: SSH only reachable from the bastion}
  - {recommendation: ssh-host-keys-strong, kind: mitigated, reason: SSH only reachable from the bastion}
YAML
expect_exit "scan weak with exemptions" 0 "$POSTURE" scan --root "$WORK/weak" --config "$WORK/exempt.yaml" --format json --output "$WORK/exempt.json"
expect_eq "mitigated" "exempt mitigated" "$(jq -r '.results[] | select(.id == "telnet-client-not-installed") | "\(.status) \(.exemption.kind)"' "$WORK/exempt.json")"
expect_eq "expired exemption ignored" "pass" "$(jq -r '.results[] | select(.id == "ftp-client-not-installed") | .status' "$WORK/exempt.json")"
expect_eq "expiry warning" "exemption for ftp-client-not-installed expired on 2020-01-01 ($WORK/exempt.yaml:5); ignored" "$(jq -r '.warnings[0]' "$WORK/exempt.json")"
expect_eq "encrypt-data-in-transit healthy through mitigation" "true 4" \
    "$(jq -r '.controls[] | select(.id == "encrypt-data-in-transit") | "\(.healthy) \(.current)"' "$WORK/exempt.json")"
expect_eq "waived endpoint protection leaves the score" "false 0" \
    "$(jq -r '.controls[] | select(.id == "enable-endpoint-protection") | "\(.in_score) \(.potential_increase)"' "$WORK/exempt.json")"
expect_eq "parameter override" "pass" "$(jq -r '.results[] | select(.id == "password-max-days") | .status' "$WORK/exempt.json")"
expect_eq "secure score with exemptions" "4 37" "$(jq -r '"\(.score.secure.current) \(.score.secure.max)"' "$WORK/exempt.json")"

# Every recommendation of the default policies passes in one of these roots and fails in
# another, except those only a running system answers, whose pass and fail cases are real
# sockets in a network namespace (sockets.sh) and the running kernel (packages.sh).
live_only=" management-ports-not-exposed-unfiltered risky-services-not-listening running-kernel-newest "
jq -r '.results[] | "\(.id) \(.status)"' "$WORK"/{hardened,weak,lax,services-off,services-on}.json |
    awk '{s[$1] = s[$1] " " $2}
         END {for (k in s) {
             if (s[k] !~ / pass/) print k, "passes"
             if (s[k] !~ / fail/) print k, "fails"}}' |
    LC_ALL=C sort >"$WORK/one-sided"
while read -r id missing; do
    case $live_only in *" $id "*) continue ;; esac
    fail "$id: no fixture root where it $missing"
done <"$WORK/one-sided"
finish
