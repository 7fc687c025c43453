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
expect_eq "secure score with exemptions" "4 25" "$(jq -r '"\(.score.secure.current) \(.score.secure.max)"' "$WORK/exempt.json")"
finish
