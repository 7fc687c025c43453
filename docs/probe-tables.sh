#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Prints the probe tables of docs/policy-format.md from `posture probe NAME --describe`, so
# that the docs come from the same tables the policy loader validates against.
# Usage: docs/probe-tables.sh PATH/TO/posture
set -euo pipefail
posture=${1:?usage: docs/probe-tables.sh PATH/TO/posture}
for p in $("$posture" probe --list | awk '{print $1}'); do
    "$posture" probe "$p" --describe | awk -v p="$p" '
        NR == 1 { print "### `" p "`\n\n" substr($0, length(p) + 3) "\n"; next }
        /^arguments:/ { print "| argument | type | meaning |\n| --- | --- | --- |"; next }
        /^fields:/ { print "\n| field | type | meaning |\n| --- | --- | --- |"; next }
        /^  \(none\)/ { print "| (none) | | |"; next }
        /^  / { name = $1; type = $2; $1 = ""; $2 = ""; sub(/^ +/, ""); print "| `" name "` | " type " | " $0 " |" }'
    echo
done
