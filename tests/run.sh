#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The whole test suite: builds posture with AddressSanitizer + UBSan and runs every test,
# fuzzes each parser briefly with libFuzzer, then builds the release configuration and runs
# every test again (valgrind included). Run as root: tests build a Debian root with
# debootstrap and switch to an unprivileged user. FUZZ_SECONDS=0 skips the fuzzing.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
cache=$PWD/build/cache

# The tests build roots full of symlinks to absolute paths: prove that none of them ever
# changed this machine's own files.
host_files="/etc/passwd /etc/shadow /etc/group /etc/gshadow /etc/login.defs /etc/os-release"
host_before=$(stat -L -c '%a %u %g %s %Y %n' $host_files 2>/dev/null || true)
check_host() {
    if [ "$(stat -L -c '%a %u %g %s %Y %n' $host_files 2>/dev/null || true)" != "$host_before" ]; then
        echo "FAIL: the test suite changed this machine's own files:" >&2
        stat -L -c '%a %u %g %s %Y %n' $host_files >&2
        exit 1
    fi
}
trap check_host EXIT

echo "== AddressSanitizer + UndefinedBehaviorSanitizer build"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DPOSTURE_SANITIZE=ON \
    -DPOSTURE_CACHE_DIR="$cache" >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j"$jobs"

if [ "${FUZZ_SECONDS:-15}" != 0 ] && command -v clang >/dev/null; then
    echo "== libFuzzer, ${FUZZ_SECONDS:-15}s a target"
    bash tests/fuzz/run.sh "${FUZZ_SECONDS:-15}"
fi

echo "== release build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPOSTURE_CACHE_DIR="$cache" >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"
