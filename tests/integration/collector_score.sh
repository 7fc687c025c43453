#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The fleet secure score of posture-collector score for enrolled hosts with known results,
# against DESIGN.md's formula worked by hand; hosts lists what each host last sent.
. "$(dirname "$0")/collector_lib.sh"

init_collector
start_collector
token=$(new_token --uses 5)
for h in h1 h2 h3 h4; do
    expect_eq "enroll $h" 201 "$(enroll "$h" "$token")"
done

# control NAME MAX HEALTHY [IN_SCORE]: one controls[] entry as the agent writes it.
control() {
    local in_score=${4:-true} current=0
    [ "$3" = true ] && current=$2
    printf '{"id":"%s","title":"Control %s","max_score":%s,"current":%s,"potential_increase":%s,"healthy":%s,"in_score":%s}' \
        "$1" "$1" "$2" "$current" "$(($2 - current))" "$3" "$in_score"
}
# send NAME SEQ CONTROLS_JSON_ARRAY
send() {
    report "$1" "$2" ".controls = $3"
    sign "$1" "$WORK/$1-$2.json"
    expect_eq "$1 seq $2 stored" 201 "$(post "$1" "$WORK/jws")"
}

# h1's first report is all unhealthy; only its latest (seq 2) counts.
send h1 1 "[$(control mgmt 8 false),$(control updates 6 false),$(control logging 1 false),$(control access 4 false)]"
send h1 2 "[$(control mgmt 8 true),$(control updates 6 false),$(control logging 1 true),$(control access 4 true)]"
send h2 1 "[$(control mgmt 8 false),$(control updates 6 false),$(control logging 1 true),$(control access 4 false)]"
# h3: access is not in its score (all not applicable or waived), so it does not count there.
send h3 1 "[$(control mgmt 8 true),$(control updates 6 true),$(control logging 1 false),$(control access 4 false false)]"
# h4 is healthy everywhere, then revoked: a revoked host leaves the fleet.
send h4 1 "[$(control mgmt 8 true),$(control updates 6 true),$(control logging 1 true),$(control access 4 true)]"
expect_exit "revoke h4" 0 "$COLLECTOR" revoke --state-dir "$STATE" "$(cat "$WORK/h4.id")"

# By hand, over h1, h2, h3:
#   mgmt     8 x 2/3 = 5.333, potential 8 x 1/3 = 2.667
#   updates  6 x 1/3 = 2,     potential 6 x 2/3 = 4
#   logging  1 x 2/3 = 0.667, potential 0.333
#   access   over h1 and h2 only: 4 x 1/2 = 2, potential 2
#   overall  100 x (5.333 + 2 + 0.667 + 2) / (8 + 6 + 1 + 4) = 100 x 10 / 19 = 52.63
expected='{"hosts":3,"score":{"current":10.0,"max":19.0,"percent":52.63},"controls":[
{"id":"updates","title":"Control updates","max_score":6.0,"hosts":3,"healthy_hosts":1,"current":2.0,"potential_increase":4.0},
{"id":"mgmt","title":"Control mgmt","max_score":8.0,"hosts":3,"healthy_hosts":2,"current":5.33,"potential_increase":2.67},
{"id":"access","title":"Control access","max_score":4.0,"hosts":2,"healthy_hosts":1,"current":2.0,"potential_increase":2.0},
{"id":"logging","title":"Control logging","max_score":1.0,"hosts":3,"healthy_hosts":2,"current":0.67,"potential_increase":0.33}]}'
"$COLLECTOR" score --state-dir "$STATE" --format json >"$WORK/score.json"
expect_eq "fleet score (json)" "$(jq -cS . <<<"$expected")" "$(jq -cS . "$WORK/score.json")"
"$COLLECTOR" score --state-dir "$STATE" >"$WORK/score.txt"
expect_eq "fleet score (text)" "Fleet secure score: 52.63% (10.00 of 19.00) over 3 hosts" "$(head -1 "$WORK/score.txt")"
expect_eq "text table, first control" "$(printf '%-40s  %9s  %9s  %13s  %9s' 'Control updates' 6.00 2.00 1/3 4.00)" \
    "$(sed -n 4p "$WORK/score.txt")"

# hosts: each host's latest seq and score, h4 revoked.
"$COLLECTOR" hosts --state-dir "$STATE" --format json >"$WORK/hosts.json"
expect_eq "hosts listed" 4 "$(jq length "$WORK/hosts.json")"
expect_eq "h1 last seq" 2 "$(jq --arg h "$(cat "$WORK/h1.id")" '.[] | select(.host_id == $h) | .last_seq' "$WORK/hosts.json")"
expect_eq "h1 hostname" '"h1"' "$(jq --arg h "$(cat "$WORK/h1.id")" '.[] | select(.host_id == $h) | .hostname' "$WORK/hosts.json")"
expect_eq "h4 revoked" true "$(jq --arg h "$(cat "$WORK/h4.id")" '.[] | select(.host_id == $h) | .revoked | type == "string"' "$WORK/hosts.json")"
expect_eq "h1 not revoked" null "$(jq --arg h "$(cat "$WORK/h1.id")" '.[] | select(.host_id == $h) | .revoked' "$WORK/hosts.json")"

# Hostnames come from reports: the text listing turns control characters into '?'.
report h3 2 '.host.hostname = "evil\u001b[31m" | .controls = []'
sign h3 "$WORK/h3-2.json"
expect_eq "h3 seq 2" 201 "$(post h3 "$WORK/jws")"
expect_eq "no escape reaches the terminal" "evil?[31m" \
    "$("$COLLECTOR" hosts --state-dir "$STATE" | awk -v h="$(cat "$WORK/h3.id")" '$1 == h {print $2}')"

# An empty fleet has no percent.
stop_collector || fail "serve exited with an error"
init_collector
expect_eq "empty fleet" '{"hosts":0,"score":{"current":0,"max":0,"percent":null},"controls":[]}' \
    "$("$COLLECTOR" score --state-dir "$STATE" --format json | jq -c .)"
expect_exit "score --format xml" 2 "$COLLECTOR" score --state-dir "$STATE" --format xml
expect_exit "hosts on a missing state dir" 1 "$COLLECTOR" hosts --state-dir "$WORK/missing/dir"
finish
