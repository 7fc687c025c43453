#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The fswalk probe against find(1) on trees built here (never committed as special files):
# every kind of finding, symlink loops and links out of the tree, names with newlines and
# invalid UTF-8, a path longer than PATH_MAX, 100,000 entries, a directory swapped for a
# symlink during the walk, and unreadable directories for an unprivileged user.
. "$(dirname "$0")/lib.sh"

# The trees live in the system's temporary directory: 100,000 files are created and removed
# much faster there than in a work tree that a file watcher may be following.
scratch=$(mktemp -d "${TMPDIR:-/tmp}/posture-fswalk.XXXXXX")
mounted=""
bound=""
cleanup() {
    if [ -n "$mounted" ]; then umount "$mounted" 2>/dev/null || true; fi
    if [ -n "$bound" ]; then umount "$bound" 2>/dev/null || true; fi
    rm -rf "$scratch"
}
trap cleanup EXIT
tree=$scratch/tree
outside=$scratch/outside
mkdir -p "$tree" "$outside"
: >"$outside/escape-marker"
chmod 0666 "$outside/escape-marker" # world-writable: reported if a walk ever got here

# Every kind of finding, and things that must not be found.
mkdir -p "$tree"/etc "$tree"/srv/drop "$tree"/srv/shared "$tree"/opt/bin "$tree"/links
: >"$tree/etc/ok"
: >"$tree/srv/open-file" && chmod 0666 "$tree/srv/open-file"
: >"$tree/srv/group-writable" && chmod 0664 "$tree/srv/group-writable"
chmod 0777 "$tree/srv/drop"
chmod 1777 "$tree/srv/shared"
: >"$tree/opt/bin/suid" && chmod 4755 "$tree/opt/bin/suid"
: >"$tree/opt/bin/sgid" && chmod 2755 "$tree/opt/bin/sgid"
mkdir "$tree/opt/suid-dir" && chmod 4755 "$tree/opt/suid-dir" # not a file: not SUID
: >"$tree/srv/orphan" && chown 4242:4242 "$tree/srv/orphan"
: >"$tree/srv/nogroup" && chown 0:4343 "$tree/srv/nogroup"
ln -s "$outside" "$tree/links/out"               # a link out of the tree: never followed
ln -s ../links "$tree/links/loop"                 # a loop
ln -s /etc/passwd "$tree/links/abs"
ln -s "$tree/srv/open-file" "$tree/links/to-open" # a link to a finding is not one itself
ln -s /nowhere "$tree/links/dangling" && chown -h 4242:4242 "$tree/links/dangling"
mkfifo "$tree/srv/fifo" && chmod 0666 "$tree/srv/fifo" # not a regular file
# Names that are not plain text.
mkdir "$tree/names"
: >"$tree/names/$(printf 'new\nline')" && chmod 0666 "$tree/names/$(printf 'new\nline')"
: >"$tree/names/$(printf 'bad\377utf8')" && chmod 0666 "$tree/names/$(printf 'bad\377utf8')"
# A path longer than PATH_MAX (4096), walked by descriptors.
(
    cd "$tree"
    for _ in $(seq 180); do
        mkdir dddddddddddddddddddddddd
        cd dddddddddddddddddddddddd
    done
    : >deep-open && chmod 0666 deep-open
)
# 100,000 entries.
for d in $(seq 0 99); do
    mkdir -p "$tree/many/d$d"
    (cd "$tree/many/d$d" && seq 1000 | xargs touch)
done
chmod 0666 "$tree/many/d7/500"

# A separate filesystem inside the tree: find -xdev reports its mount point (here a 0777
# directory) but does not enter it. Skipped where this machine does not let us mount.
mkdir "$tree/mnt" && chmod 0777 "$tree/mnt"
if mount -t tmpfs -o size=1m,mode=0777 posture-test "$tree/mnt" 2>/dev/null; then
    mounted=$tree/mnt
    : >"$tree/mnt/inside-open" && chmod 0666 "$tree/mnt/inside-open"
else
    echo "note: cannot mount a tmpfs here; the mount point checks are skipped"
fi

probe() {
    "$POSTURE" probe fswalk --arg "roots=$tree" --arg max_findings=1000000 --arg all_mounts=false --format json
}
expect_exit "walk" 0 probe
cp "$WORK/out" "$WORK/walk.json"
jq -e . "$WORK/walk.json" >/dev/null || fail "the probe's JSON is not valid"
expect_eq "no errors" "[]" "$(jq -c .errors "$WORK/walk.json")"

# Compare each set with find -xdev, as NUL-separated paths made comparable the way the
# probe writes names that are not UTF-8 (each byte from 0x80 up becomes '?').
normalise() { tr '\0' '\n' | LC_ALL=C sed 's/[\x80-\xff]/?/g' | LC_ALL=C sort; }
from_find() { find "$tree" -xdev "$@" -print0 | normalise; }
from_probe() { jq -j --arg f "$1" '.facts[$f].value[] | (if type == "object" then .path else . end) + "\u0000"' "$WORK/walk.json" | normalise; }
compare() {
    local what=$1 field=$2
    shift 2
    from_find "$@" >"$WORK/find.$field"
    from_probe "$field" >"$WORK/probe.$field"
    if ! diff -u "$WORK/find.$field" "$WORK/probe.$field"; then
        fail "$what: the probe and find disagree"
    fi
    [ -s "$WORK/find.$field" ] || fail "$what: the fixture has no such finding"
}
compare "world-writable files" world_writable_files -type f -perm -0002
compare "world-writable directories without sticky bit" world_writable_dirs -type d -perm -0002 ! -perm -1000
compare "SUID/SGID files" suid_sgid_paths -type f -perm /6000
compare "unowned" unowned '(' -nouser -o -nogroup ')'
expect_eq "counts" "$(find "$tree" -xdev -type f -perm -0002 -printf x | wc -c)" "$(jq .facts.world_writable_files_count.value "$WORK/walk.json")"
expect_eq "entries" "$(find "$tree" -xdev -printf x | wc -c)" "$(jq .facts.entries.value "$WORK/walk.json")"
if jq -r '.. | strings' "$WORK/walk.json" | grep -q escape-marker; then
    fail "the walk followed a symlink out of the tree"
fi
expect_eq "escaped name in JSON" "$tree/names/new\nline" \
    "$(jq -r '.facts.world_writable_files.value[] | select(.path | contains("new")) | .path | @json' "$WORK/walk.json" | sed 's/^"//; s/"$//')"
"$POSTURE" probe fswalk --arg "roots=$tree/names" >"$WORK/walk.txt"
expect_eq "text output keeps one line per field" "$(jq '.facts | length' "$WORK/walk.json")" "$(wc -l <"$WORK/walk.txt")"

# By default, every mounted local filesystem under the roots is walked too, each once.
if [ -n "$mounted" ]; then
    "$POSTURE" probe fswalk --arg "roots=$tree" --arg max_findings=1000000 --format json >"$WORK/mounts.json"
    jq -r '.facts.world_writable_files.value[].path' "$WORK/mounts.json" | grep -qx "$tree/mnt/inside-open" ||
        fail "all_mounts: the file on the separate filesystem was not found"
    jq -r '.facts.world_writable_dirs.value[].path' "$WORK/mounts.json" | grep -qx "$tree/mnt" ||
        fail "the mount point itself is not reported"
    expect_eq "all_mounts: one more entry than -xdev" "$(($(jq .facts.entries.value "$WORK/walk.json") + 1))" \
        "$(jq .facts.entries.value "$WORK/mounts.json")"
fi

# SUID/SGID programs on a nosuid or noexec mount gain no privilege: CIS 6.2.3.6 leaves them
# out of the programs that need an audit rule, and so does a walk of a running system. Here
# the same program is reached through a bind mount remounted nosuid. (In the work tree: a
# tmpfs, which the walk never enters, would hide the mount.)
priv=$WORK/priv
rm -rf "$priv" && mkdir -p "$priv/plain" "$priv/bound"
: >"$priv/plain/tool" && chmod 4755 "$priv/plain/tool"
: >"$priv/plain/odd"$'\377' && chmod 2755 "$priv/plain/odd"$'\377' # a name not in UTF-8
if [ "$(findmnt -n -o FSTYPE -T "$priv")" != tmpfs ] && mount --bind "$priv/plain" "$priv/bound" 2>/dev/null; then
    bound=$priv/bound
    mount -o remount,bind,nosuid "$bound"
    "$POSTURE" probe fswalk --arg "roots=$priv" --format json >"$WORK/nosuid.json"
    expect_eq "nosuid: both paths are SUID files" "$priv/bound/odd?,$priv/bound/tool,$priv/plain/odd?,$priv/plain/tool" \
        "$(jq -r '.facts.suid_sgid_paths.value[]' "$WORK/nosuid.json" | LC_ALL=C sort | paste -sd,)"
    expect_eq "nosuid: findmnt sees the mount nosuid" "nosuid" \
        "$(findmnt -n -o OPTIONS "$bound" | tr , '\n' | grep -x nosuid)"
    expect_eq "nosuid: the unaudited programs" "$priv/plain/odd?,$priv/plain/tool" \
        "$(jq -r '.facts.suid_sgid_unaudited.value[].path' "$WORK/nosuid.json" | LC_ALL=C sort | paste -sd,)"
    umount "$bound" && bound=""
else
    echo "note: cannot bind-mount here; the nosuid check is skipped"
fi
rm -rf "$priv"

# Bounded evidence, complete counts.
expect_exit "bounded" 0 "$POSTURE" probe fswalk --arg "roots=$tree" --arg max_findings=2 --arg all_mounts=false --format json
expect_eq "evidence bounded" "2" "$(jq '.facts.world_writable_files.value | length' "$WORK/out")"
expect_eq "count complete" "$(jq .facts.world_writable_files_count.value "$WORK/walk.json")" "$(jq .facts.world_writable_files_count.value "$WORK/out")"

# A directory swapped for a symlink out of the tree while walks run: never followed.
mkdir -p "$tree/race/a/b"
: >"$tree/race/a/b/inside"
swapper() {
    for _ in $(seq 3000); do
        mv "$tree/race/a" "$tree/race/a.off" 2>/dev/null
        ln -s "$outside" "$tree/race/a" 2>/dev/null
        rm -f "$tree/race/a" 2>/dev/null
        mv "$tree/race/a.off" "$tree/race/a" 2>/dev/null
    done
}
swapper &
swapper_pid=$!
for _ in $(seq 40); do
    "$POSTURE" probe fswalk --arg "roots=$tree/race" --format json >"$WORK/race.json" || fail "race: probe failed"
    if jq -r '.. | strings' "$WORK/race.json" | grep -q escape-marker; then
        fail "race: the walk escaped through a swapped directory"
        break
    fi
    kill -0 "$swapper_pid" 2>/dev/null || break
done
kill "$swapper_pid" 2>/dev/null || true
wait "$swapper_pid" 2>/dev/null || true

# An unprivileged walk that meets unreadable directories says so; its counts are not given.
if [ "$(id -u)" = 0 ]; then
    mkdir -p "$tree/private/secret" && chmod 0700 "$tree/private" && : >"$tree/private/secret/x"
    chmod 0755 "$scratch"
    setpriv --reuid=65534 --regid=65534 --clear-groups -- "$POSTURE" probe fswalk \
        --arg "roots=$tree/srv,$tree/private" --format json >"$WORK/nobody.json" || fail "unprivileged walk"
    expect_eq "unreadable: counts withheld" "null" "$(jq .facts.world_writable_files_count "$WORK/nobody.json")"
    jq -r '.errors[].message' "$WORK/nobody.json" | grep -q "^cannot open directory $tree/private/secret: Permission denied" ||
        jq -r '.errors[].message' "$WORK/nobody.json" | grep -q "$tree/private" ||
        fail "unreadable: no error names the directory"
    jq -r '.errors[].message' "$WORK/nobody.json" | grep -q "a complete walk needs root" || fail "unreadable: needs root"
    chmod 0755 "$tree/private"
fi
finish
