#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The command line as admins and configuration management use it: exit codes, --output,
# --only, --fail-under, errors for bad input with FILE:LINE:COLUMN, probe, explain, lint.
. "$(dirname "$0")/lib.sh"

build_root weak "$WORK/weak"
build_root hardened "$WORK/hardened"
weak=$WORK/weak

expect_exit "version" 0 "$POSTURE" version
expect_eq "version text" "posture 0.1.0" "$(cat "$WORK/out")"
expect_exit "no command" 2 "$POSTURE"
expect_exit "unknown command" 2 "$POSTURE" frobnicate
expect_exit "bad format" 2 "$POSTURE" scan --format xml
expect_exit "fail-under out of range" 2 "$POSTURE" scan --fail-under 101
expect_exit "fail-under not a number" 2 "$POSTURE" scan --fail-under abc
expect_exit "fail-under NaN" 2 "$POSTURE" scan --fail-under nan
expect_exit "stray argument" 2 "$POSTURE" scan extra
expect_exit "missing root" 2 "$POSTURE" scan --root "$WORK/no/such/root"
grep -q "no such file or directory" "$WORK/err" || fail "missing root: message"

# Scores and --fail-under: a weak host fails the gate with 1, a hardened one passes.
expect_exit "below fail-under" 1 "$POSTURE" scan --root "$weak" --fail-under 50
grep -q "secure score 0.00% is below --fail-under 50.00%" "$WORK/err" || fail "fail-under message"
expect_exit "fail-under 0" 0 "$POSTURE" scan --root "$weak" --fail-under 0
expect_exit "hardened at 100" 0 "$POSTURE" scan --root "$WORK/hardened" --fail-under 100
expect_exit "failing checks still exit 0" 0 "$POSTURE" scan --root "$weak"

# The text report: both scores, failing first, evidence with file:line, no colour in a pipe.
"$POSTURE" scan --root "$weak" >"$WORK/text" || fail "text scan"
grep -q "^Secure score: 0 of 39 (0.00%)$" "$WORK/text" || fail "text: secure score line"
grep -q "^Compliance: 15.27% (31 pass, 169 fail, 3 error, 0 exempt, 28 not applicable)$" "$WORK/text" || fail "text: compliance line"
grep -q "observed 99999, expected le 365 (\$pass_max_days) (/etc/login.defs:2)" "$WORK/text" || fail "text: evidence"
grep -q "^3 recommendations could not be assessed" "$WORK/text" || fail "text: could-not-assess line"
if grep -q $'\033' "$WORK/text"; then fail "text: colour codes in a pipe"; fi

# Text read from a scanned system never reaches the terminal as control characters.
mkdir -p "$WORK/hostile/etc"
printf 'ID=debian\nPRETTY_NAME="\033]0;owned\a\033[2Jx\302\233y"\nID_LIKE="deb\377ian"\n' >"$WORK/hostile/etc/os-release"
printf 'UMASK \033[31m022\n' >"$WORK/hostile/etc/login.defs"
expect_exit "hostile root" 0 "$POSTURE" scan --root "$WORK/hostile"
if LC_ALL=C grep -q $'[\001-\010\013-\037\177]\|\302[\200-\237]' "$WORK/out"; then
    fail "control characters from the root reached the text report"
fi
grep -q '(?\]0;owned??\[2Jx??y)' "$WORK/out" || fail "hostile root: escaped OS name"
expect_exit "hostile root, probe" 0 "$POSTURE" probe keyvalue --root "$WORK/hostile" --arg path=/etc/login.defs --arg key=UMASK
grep -qx 'value ?\[31m022' "$WORK/out" || fail "hostile root: escaped probe value"
expect_exit "hostile root, json" 0 "$POSTURE" scan --root "$WORK/hostile" --format json
jq -e . "$WORK/out" >/dev/null || fail "hostile root: the JSON report is not valid JSON"
expect_eq "hostile root: non-UTF-8 text made valid" '["deb?ian"]' \
    "$("$POSTURE" probe os --root "$WORK/hostile" --format json | jq -c .facts.id_like.value)"

# --output writes the whole report atomically; an unwritable destination is exit 3.
expect_exit "output file" 0 "$POSTURE" scan --root "$weak" --format json --output "$WORK/report.json"
expect_eq "output is JSON" "posture.report/v1" "$(jq -r .schema "$WORK/report.json")"
[ -s "$WORK/out" ] && fail "--output also printed to stdout"
expect_exit "unwritable output" 3 "$POSTURE" scan --root "$weak" --output "$WORK/no/such/dir/r.json"
ls "$WORK"/no 2>/dev/null && fail "partial output left behind"

# Writing to a device writes through it, never replaces it.
expect_exit "output to /dev/null" 0 "$POSTURE" scan --root "$weak" --output /dev/null
[ -c /dev/null ] || fail "/dev/null is no longer a character device"
expect_exit "output to a directory" 3 "$POSTURE" scan --root "$weak" --output "$WORK"
grep -q "wrong file type" "$WORK/err" || fail "output to a directory: message"

# --only selects controls or recommendations; unknown ids are usage errors.
expect_exit "only one" 0 "$POSTURE" scan --root "$weak" --only shadow-permissions --format json
expect_eq "only one: results" "shadow-permissions" "$(jq -r '[.results[].id] | join(",")' "$WORK/out")"
expect_eq "only one: score" "0 4" "$(jq -r '"\(.score.secure.current) \(.score.secure.max)"' "$WORK/out")"
expect_exit "only a control" 0 "$POSTURE" scan --root "$weak" --only enable-endpoint-protection --only encrypt-data-in-transit --format json
expect_eq "only a control: results" "10" "$(jq '.results | length' "$WORK/out")"
expect_exit "only unknown" 2 "$POSTURE" scan --root "$weak" --only no-such-thing
grep -q "no-such-thing: no such control or recommendation" "$WORK/err" || fail "only unknown: message"

# Bad policies: every error with FILE:LINE:COLUMN, exit 2, nothing scanned.
cat >"$WORK/bad.yaml" <<'YAML'
policy: {id: bad, version: 1, title: Bad}
controls: [{id: c, title: C, max_score: 1}]
recommendations:
  - {id: r, control: c, title: t, severity: low, rationale: r, remediation: m,
     check: {fact: file.mode, path: /etc/passwd, mode_at_most: "0999"}}
  - {id: s, control: d, title: t, severity: low, rationale: r, remediation: m,
     check: {fact: file.nope, path: /etc/passwd, equals: 1}}
YAML
expect_exit "bad policy" 2 "$POSTURE" scan --root "$weak" --policy "$WORK/bad.yaml"
expect_eq "bad policy: errors" "$WORK/bad.yaml:5:64: mode_at_most: '0999' is not a mode
$WORK/bad.yaml:7:20: probe 'file' has no field 'nope'
$WORK/bad.yaml:6:22: recommendation names no existing control 'd'
posture: configuration or policy errors; nothing was scanned" "$(cat "$WORK/err")"
[ -s "$WORK/out" ] && fail "bad policy: a report was printed"
expect_exit "lint bad" 2 "$POSTURE" policy lint "$WORK/bad.yaml"
expect_exit "lint shipped" 0 "$POSTURE" policy lint "$SRC/config/policies/debian-baseline.yaml"
grep -q "ok (policy debian-baseline v1, 213 recommendations)" "$WORK/out" || fail "lint: ok line"
printf 'policy: [unclosed\n' >"$WORK/broken.yaml"
expect_exit "malformed YAML" 2 "$POSTURE" policy lint "$WORK/broken.yaml"
grep -q "^$WORK/broken.yaml:2:1: YAML syntax error" "$WORK/err" || fail "malformed YAML: location"
head -c 5000000 /dev/zero | tr '\0' 'a' >"$WORK/huge.yaml"
expect_exit "huge policy" 2 "$POSTURE" policy lint "$WORK/huge.yaml"
grep -q "file is larger than 4194304 bytes" "$WORK/err" || fail "huge policy: message"
head -c 4096 /dev/urandom >"$WORK/binary.yaml"
expect_exit "binary policy" 2 "$POSTURE" policy lint "$WORK/binary.yaml"
expect_exit "missing policy dir" 2 "$POSTURE" scan --policy "$WORK/no-policies"
grep -q "cannot read policy: no such file or directory" "$WORK/err" || fail "missing policy dir: message"
printf 'exemptions:\n  - {recommendation: nope, kind: waiver, reason: r}\n' >"$WORK/posture.yaml"
expect_exit "config naming an unknown recommendation" 2 "$POSTURE" scan --config "$WORK/posture.yaml"
grep -q "^$WORK/posture.yaml:2:5: exemption names no loaded recommendation 'nope'" "$WORK/err" || fail "config: message"
expect_exit "missing config" 2 "$POSTURE" scan --config "$WORK/none.yaml"

# probe prints the facts the evaluator sees; bad arguments are usage errors.
expect_exit "probe list" 0 "$POSTURE" probe --list
expect_eq "probes" "accounts audit bootloader dpkg_verify file firewall fswalk homes kernel keyvalue kmod lines logging mac mount os package packages pam sockets sshd sudo sysctl systemd" "$(awk '{print $1}' "$WORK/out" | tr '\n' ' ' | sed 's/ $//')"
expect_exit "probe json" 0 "$POSTURE" probe file --root "$weak" --arg path=/etc/shadow --format json
expect_eq "probe json: mode" "0644 /etc/shadow" "$(jq -r '"\(.facts.mode.value) \(.facts.mode.source)"' "$WORK/out")"
expect_exit "probe text" 0 "$POSTURE" probe keyvalue --root "$weak" --arg path=/etc/login.defs --arg key=UMASK
grep -qx "value 022" "$WORK/out" || fail "probe text: field value line"
expect_exit "probe describe" 0 "$POSTURE" probe lines --describe
expect_exit "probe unknown" 2 "$POSTURE" probe nosuch
expect_exit "probe missing arg" 2 "$POSTURE" probe file
expect_exit "probe unknown arg" 2 "$POSTURE" probe file --arg colour=red
expect_exit "probe bad bool" 2 "$POSTURE" probe file --arg path=/ --arg follow=maybe
expect_exit "probe error still exits 0" 0 "$POSTURE" probe lines --root "$weak" --arg path=/etc/issue.net --arg regex=x --format json
expect_eq "probe error recorded" "read /etc/issue.net: binary content in a text file" "$(jq -r '.errors[0].message' "$WORK/out")"

# explain prints the full text of a recommendation or a control.
expect_exit "explain" 0 "$POSTURE" explain shadow-permissions
grep -q "^why it matters:" "$WORK/out" || fail "explain: rationale"
grep -q "file.mode path=/etc/shadow mode_at_most 0640" "$WORK/out" || fail "explain: check"
expect_exit "explain control" 0 "$POSTURE" explain secure-management-ports
expect_exit "explain unknown" 2 "$POSTURE" explain nope
finish
