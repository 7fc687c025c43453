#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The host probes against the system's own tools on the fixture roots: pwck and grpck for
# the account databases, visudo for which sudoers files sudo reads, augenrules for how the
# audit rules of rules.d merge, auditctl -l for the rules loaded now. Skipped (exit 77) only
# when a tool is missing (install/setup.sh installs them all).
. "$(dirname "$0")/lib.sh"

for tool in pwck grpck visudo augenrules auditctl; do
    command -v "$tool" >/dev/null || PATH=$PATH:/usr/sbin:/sbin
    command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
for name in hardened weak lax; do
    build_root "$name" "$WORK/$name"
done
probe() { "$POSTURE" probe "$@" --format json; }

# ---- pwck / grpck: the same broken lines, duplicates, missing groups and shadow entries.
# pwck -r reports a problem and then quotes the line or names the user it concerns.
pwck_report() {
    pwck -r -R "$WORK/$1" 2>&1 | awk -v want="$2" '
        $0 == want { grab = 1; next }
        grab && /^delete line / { sub(/^delete line ./, ""); sub(/.\? No$/, ""); print; grab = 0; next }
        grab && /^add user / { sub(/^add user ./, ""); sub(/. in .*/, ""); print; grab = 0; next }
        { grab = 0 }' | LC_ALL=C sort -u
}
weak=$WORK/weak
probe accounts --root "$weak" >"$WORK/accounts.json"
# malformed lines: the probe names file and line, pwck quotes the line
expect_eq "malformed passwd lines (pwck)" "$(pwck_report weak 'invalid password file entry')" \
    "$(jq -r '.facts.malformed.value[] | select(.file == "/etc/passwd") | .line' "$WORK/accounts.json" |
        while read -r n; do sed -n "${n}p" "$weak/etc/passwd"; done | LC_ALL=C sort -u)"
expect_eq "pwck sees the duplicate" "guest" "$(pwck_report weak 'duplicate password entry' | cut -d: -f1 | LC_ALL=C sort -u)"
expect_eq "duplicate user names (pwck)" \
    "$(pwck_report weak 'duplicate password entry' | cut -d: -f1 | LC_ALL=C sort -u)" \
    "$(jq -r '.facts.duplicate_user_names.value[].user' "$WORK/accounts.json" | LC_ALL=C sort -u)"
expect_eq "accounts missing from shadow (pwck)" \
    "$(pwck_report weak 'no matching password file entry in /etc/shadow')" \
    "$(jq -r '.facts.no_shadow_entry.value[].user' "$WORK/accounts.json" | LC_ALL=C sort -u)"
expect_eq "missing primary groups (pwck)" \
    "$(pwck -r -R "$weak" 2>&1 | sed -n "s/^user '\(.*\)': no group \([0-9]*\)$/\1 \2/p" | LC_ALL=C sort)" \
    "$(jq -r '.facts.missing_groups.value[] | "\(.user) \(.gid)"' "$WORK/accounts.json" | LC_ALL=C sort)"
expect_eq "password change in the future (pwck)" \
    "$(pwck -r -R "$weak" 2>&1 | sed -n 's/^user \(.*\): last password change in the future$/\1/p' | LC_ALL=C sort)" \
    "$(jq -r '.facts.last_change_future.value[].user' "$WORK/accounts.json" | LC_ALL=C sort)"
expect_eq "duplicate group names (grpck)" \
    "$(grpck -r -R "$weak" 2>&1 | awk '/^duplicate group entry$/ { getline; sub(/^delete line ./, ""); sub(/:.*/, ""); print }' | LC_ALL=C sort -u)" \
    "$(jq -r '.facts.duplicate_group_names.value[].group' "$WORK/accounts.json" | LC_ALL=C sort -u)"
# the hardened root is clean for both the probe and pwck's problems of these kinds
probe accounts --root "$WORK/hardened" >"$WORK/hardened-accounts.json"
expect_eq "hardened: no findings" "0 0 0 0 0 0" \
    "$(jq -r '[.facts.malformed_count, .facts.duplicate_user_names_count, .facts.duplicate_group_names_count, .facts.no_shadow_entry_count, .facts.missing_groups_count, .facts.last_change_future_count] | map(.value) | join(" ")' "$WORK/hardened-accounts.json")"
if pwck -r -R "$WORK/hardened" 2>&1 | grep -E "invalid|duplicate|no group|no matching|future"; then
    fail "pwck finds problems in the hardened root that the probe does not"
fi

# ---- visudo: the files sudo reads, in order, through @include/@includedir with its skip rules.
for name in hardened lax; do
    visudo -c -f "$WORK/$name/etc/sudoers" >"$WORK/visudo.out" 2>&1 || fail "$name: visudo -c rejects the fixture"
    expect_eq "$name: sudoers files (visudo -c)" \
        "$(sed -n "s|^$WORK/$name\(/.*\): parsed OK$|\1|p" "$WORK/visudo.out")" \
        "$(probe sudo --root "$WORK/$name" | jq -r '.facts.files.value[]')"
done
expect_eq "lax: NOPASSWD grants" '[{"who":"ops","source":"/etc/sudoers.local:2"},{"who":"deploy","source":"/etc/sudoers.d/deploy:2"}]' \
    "$(probe sudo --root "$WORK/lax" | jq -c .facts.nopasswd.value)"

# ---- augenrules: the probe's merge of rules.d gives what augenrules writes to audit.rules.
# augenrules has its directories built in; a copy pointed at the fixture writes the merge.
sed -e "s|^DestinationFile=.*|DestinationFile=$WORK/audit.rules|" \
    -e "s|^SourceRulesDir=.*|SourceRulesDir=$WORK/hardened/etc/audit/rules.d|" \
    "$(command -v augenrules)" >"$WORK/augenrules"
sh "$WORK/augenrules" >/dev/null || fail "augenrules on the hardened rules.d"
expect_eq "augenrules puts -e 2 last" "-e 2" "$(tail -1 "$WORK/audit.rules")"
mkdir -p "$WORK/merged/etc/audit/rules.d"
cp "$WORK/audit.rules" "$WORK/merged/etc/audit/rules.d/audit.rules"
cp -r "$WORK/hardened/etc/audit/auditd.conf" "$WORK/merged/etc/audit/"
summary() { probe audit --root "$1" | jq -c '[.facts.rules.value, .facts.enable_flag.value, .facts.missing_events.value, .facts.exec_rule_paths.value]'; }
expect_eq "rules.d merged by the probe = by augenrules" "$(summary "$WORK/merged")" "$(summary "$WORK/hardened")"
expect_eq "hardened audit rules" '[54,2,[],["/usr/bin/chcon","/usr/bin/setfacl","/usr/bin/chacl","/usr/sbin/usermod","/usr/bin/kmod","/usr/bin/sudo"]]' "$(summary "$WORK/hardened")"

# ---- auditctl -l on this host: the probe reads the same loaded rules (none are loaded here
# by the tests: loading rules would change the kernel state of the machine).
if auditctl -l >"$WORK/auditctl.out" 2>/dev/null; then
    want=$(grep -c -E '^-(w|a) ' "$WORK/auditctl.out" || true)
    expect_eq "loaded rules (auditctl -l)" "$want" "$(probe audit | jq -r .facts.loaded_rules.value)"
    # programs whose executions the loaded rules record, as auditctl -l prints them
    expect_eq "loaded execution rules (auditctl -l)" \
        "$(awk '/^-a always,exit / && / -F perm=[rwa]*x/ { for (i = 1; i < NF; i++) if ($i == "-F" && $(i + 1) ~ /^path=/) print substr($(i + 1), 6) }
                /^-w / && / -p [rwa]*x/ { print $2 }' "$WORK/auditctl.out" | awk '!seen[$0]++' | paste -sd,)" \
        "$(probe audit | jq -r '.facts.loaded_exec_rule_paths.value | join(",")')"
else
    expect_eq "auditctl -l failing is an error" "true" \
        "$(probe audit | jq -r '[.errors[].message | test("auditctl")] | any')"
fi
finish
