#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Docs match code: the probe tables of docs/policy-format.md are what the binary declares,
# and the README's quick start holds exactly two commands, CI running the second one.
. "$(dirname "$0")/lib.sh"

bash "$SRC/docs/probe-tables.sh" "$POSTURE" >"$WORK/tables.want"
sed -n '/<!-- probes:begin -->/,/<!-- probes:end -->/p' "$SRC/docs/policy-format.md" |
    sed '1d;$d' >"$WORK/tables.doc"
if ! diff -u "$WORK/tables.want" "$WORK/tables.doc"; then
    fail "docs/policy-format.md probe tables differ from the probes (regenerate with docs/probe-tables.sh)"
fi

awk '/^## Quick start/ {q = 1} q && /^```sh/ {b = 1; next} b && /^```/ {exit} b {print}' \
    "$SRC/README.md" >"$WORK/quickstart"
expect_eq "quick start commands" 2 "$(grep -c . "$WORK/quickstart")"
grep -qx "bash tests/run.sh" <(sed -n 2p "$WORK/quickstart") || fail "second quick start command is not the test command"
grep -q "^bash tests/run.sh$" "$SRC/.ci/run" || fail ".ci/run does not run the README's test command"

finish
