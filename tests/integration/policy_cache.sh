#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The policy cache in the state directory: a scan with the cache reports exactly what a scan
# without it reports, skips reading the policy file when it is unchanged, notices every
# change, and neither trusts nor follows a cache that others could have written.
. "$(dirname "$0")/lib.sh"

command -v strace >/dev/null || { echo "SKIP: strace is not installed"; exit 77; }

state=$WORK/state
rm -rf "$state" "$WORK/policies"
mkdir -p "$state" "$WORK/policies"
policy=$WORK/policies/baseline.yaml
cp "$SRC/config/policies/debian-baseline.yaml" "$policy"
printf 'state_dir: %s\n' "$state" >"$WORK/posture.yaml"
cfg=(--config "$WORK/posture.yaml")
# A policy file changed in the last two seconds is not cached (timestamps are coarse).
sleep 2.1

# report FILE: the report without its times, for comparing two scans
report() { jq -S 'del(.started_at, .finished_at)' "$1"; }
# scan NAME ARGS...: a scan of this host to $WORK/NAME.json, the files it opened in NAME.open
scan() {
    local name=$1
    shift
    # LeakSanitizer cannot run under ptrace; the scans below without strace check for leaks
    expect_exit "scan $name" 0 env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
        strace -f -qq -e trace=open,openat -o "$WORK/$name.open" \
        "$POSTURE" scan "$@" --policy "$policy" --format json --output "$WORK/$name.json"
}
opened_policy() { grep -F "\"$policy\"" "$WORK/$1.open" | grep -qv ENOENT; }

scan plain
scan first "${cfg[@]}"
cached=$(find "$state/cache" -name 'policy-*.tree' 2>/dev/null)
[ "$(echo "$cached" | grep -c .)" = 1 ] || fail "one cache file, not: $cached"
expect_eq "cache file mode and owner" "644 0" "$(stat -c '%a %u' "$cached")"
expect_eq "cache directory mode" "755" "$(stat -c '%a' "$state/cache")"
opened_policy first || fail "the first scan did not read the policy"
expect_eq "first scan's report" "$(report "$WORK/plain.json")" "$(report "$WORK/first.json")"

scan cached "${cfg[@]}"
opened_policy cached && fail "the cached scan read the policy file"
expect_eq "cached scan's report" "$(report "$WORK/plain.json")" "$(report "$WORK/cached.json")"
expect_exit "cached scan, without strace" 0 "$POSTURE" scan "${cfg[@]}" --policy "$policy" \
    --format json --output "$WORK/cached-direct.json"
expect_eq "cached scan's report, without strace" "$(report "$WORK/plain.json")" \
    "$(report "$WORK/cached-direct.json")"
expect_eq "policy hash from the cache" "$(sha256sum "$policy" | cut -d' ' -f1)" \
    "$(jq -r .policy.sha256 "$WORK/cached.json")"

# A change to the file, even one that keeps its size, is seen at once.
sed -i 's/title: SSH does not let root log in/title: SSH does not let ROOT log in/' \
    "$policy"
scan changed "${cfg[@]}"
opened_policy changed || fail "the changed policy was not read"
expect_eq "changed title" "SSH does not let ROOT log in" \
    "$(jq -r '.results[] | select(.id == "ssh-root-login-disabled") | .title' "$WORK/changed.json")"
expect_eq "changed policy hash" "$(sha256sum "$policy" | cut -d' ' -f1)" \
    "$(jq -r .policy.sha256 "$WORK/changed.json")"
sleep 2.1
scan recached "${cfg[@]}"
scan changed-cached "${cfg[@]}"
opened_policy changed-cached && fail "the re-cached scan read the policy file"
expect_eq "re-cached title" "SSH does not let ROOT log in" \
    "$(jq -r '.results[] | select(.id == "ssh-root-login-disabled") | .title' "$WORK/changed-cached.json")"

# A damaged cache file is a miss, and is replaced.
head -c 5000 /dev/urandom >"$cached"
scan damaged "${cfg[@]}"
opened_policy damaged || fail "a damaged cache was used"
expect_eq "report with a damaged cache" "$(report "$WORK/changed.json")" "$(report "$WORK/damaged.json")"
scan repaired "${cfg[@]}"
opened_policy repaired && fail "the damaged cache was not replaced"

# A cache directory that others may write, or a cache file that is a symlink, is not used.
chmod 0777 "$state/cache"
scan open-dir "${cfg[@]}"
opened_policy open-dir || fail "a world-writable cache directory was trusted"
chmod 0755 "$state/cache"
mv "$cached" "$WORK/elsewhere.tree"
ln -s "$WORK/elsewhere.tree" "$cached"
scan symlink "${cfg[@]}"
opened_policy symlink || fail "a symlinked cache file was followed"
expect_eq "report with a symlinked cache" "$(report "$WORK/changed.json")" "$(report "$WORK/symlink.json")"
[ -L "$cached" ] && fail "the symlinked cache file was left in place"
rm -f "$WORK/elsewhere.tree"

# A policy with errors gives the same FILE:LINE:COLUMN messages from the cache.
broken=$WORK/policies/broken.yaml
sed 's/^    severity: high$/    severity: urgent/' "$SRC/config/policies/debian-baseline.yaml" >"$broken"
sleep 2.1
expect_exit "broken policy, first" 2 "$POSTURE" scan "${cfg[@]}" --policy "$broken" --output /dev/null
cp "$WORK/err" "$WORK/broken-first.err"
grep -q "$broken:[0-9]*:[0-9]*: " "$WORK/broken-first.err" || fail "no located error: $(head -3 "$WORK/broken-first.err")"
expect_exit "broken policy, cached" 2 "$POSTURE" scan "${cfg[@]}" --policy "$broken" --output /dev/null
expect_eq "errors from the cache" "$(cat "$WORK/broken-first.err")" "$(cat "$WORK/err")"

# state_dir must be absolute; without the state directory, nothing is created.
printf 'state_dir: relative/dir\n' >"$WORK/relative.yaml"
expect_exit "relative state_dir" 2 "$POSTURE" scan --config "$WORK/relative.yaml" --output /dev/null
grep -q "state_dir must be an absolute path" "$WORK/err" || fail "relative state_dir: $(cat "$WORK/err")"
printf 'state_dir: %s/missing\n' "$WORK" >"$WORK/missing.yaml"
rm -rf "$WORK/missing"
expect_exit "missing state_dir" 0 "$POSTURE" scan --config "$WORK/missing.yaml" --policy "$policy" \
    --output /dev/null
[ -e "$WORK/missing" ] && fail "a missing state directory was created"

finish
