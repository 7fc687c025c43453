#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the libFuzzer targets with clang (AddressSanitizer and UBSan on) and runs each for
# SECONDS (default 20) from a copy of its seed corpus. New crashers are left in build-fuzz/.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-20}
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
    -DPOSTURE_SANITIZE=ON -DPOSTURE_FUZZ=ON -DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target fuzz_policy fuzz_config fuzz_probes fuzz_sshd fuzz_apt fuzz_hostconf \
    fuzz_ycache fuzz_firewall fuzz_jws fuzz_collector fuzz_enroll fuzz_jsonw fuzz_facts \
    fuzz_dpkg_status
for target in policy config probes sshd apt hostconf ycache firewall jws collector enroll jsonw facts \
    dpkg_status; do
    corpus=build-fuzz/corpus-$target
    mkdir -p "$corpus"
    cp -n tests/fuzz/corpus/$target/* "$corpus"/ 2>/dev/null || true
    echo "fuzzing $target for ${seconds}s"
    (cd build-fuzz && ./tests/fuzz_$target -max_total_time="$seconds" -max_len=65536 \
        -print_final_stats=1 "corpus-$target" 2>&1 | tail -12)
done
