#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A scan run by an unprivileged user: what it cannot read is `error` with the reason, the
# score does not rise because of it, and the text report says a complete assessment needs root.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ]; then
    echo "SKIP: needs root to switch to an unprivileged user"
    exit 77
fi
build_root hardened "$WORK/hardened"
chmod 0755 "$WORK"
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }
if ! as_nobody test -x "$POSTURE"; then
    echo "SKIP: the build tree is not reachable by user nobody"
    exit 77
fi
expect_exit "unprivileged scan" 0 as_nobody "$POSTURE" scan --root "$WORK/hardened" --format json
report=$WORK/out
expect_eq "unreadable shadow is an error" \
    "error read /etc/shadow: permission denied; read /root/.profile: permission denied" \
    "$(jq -r '.results[] | select(.id == "shadow-password-fields-not-empty") | "\(.status) \(.reason)"' "$report")"
expect_eq "root's closed start-up files leave root's PATH unknown" \
    "error" "$(jq -r '.results[] | select(.id == "root-path-integrity") | .status' "$report")"
expect_eq "the account databases that others may read are still judged" "pass pass" \
    "$(jq -r '[.results[] | select(.id == "root-only-uid-0" or .id == "no-duplicate-uids") | .status] | sort | join(" ")' "$report")"
expect_eq "unreadable sudoers is an error" "error read /etc/sudoers: permission denied" \
    "$(jq -r '.results[] | select(.id == "sudo-use-pty") | "\(.status) \(.reason)"' "$report")"
expect_eq "unreadable audit rules are an error" "error" \
    "$(jq -r '.results[] | select(.id == "audit-rules-cis-events") | .status' "$report")"
expect_eq "its control is unhealthy" "false" \
    "$(jq -r '.controls[] | select(.id == "manage-access-and-permissions") | .healthy' "$report")"
expect_eq "needs root counted" "true" "$(jq -r '.assessment.needs_root > 0' "$report")"
as_nobody "$POSTURE" scan --root "$WORK/hardened" >"$WORK/text" || fail "unprivileged text scan"
grep -q "a complete assessment needs root" "$WORK/text" || fail "text report does not say root is needed"
finish
