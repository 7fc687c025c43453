/* SPDX-License-Identifier: Apache-2.0 */
/* The JSON report, schema posture.report/v1 (docs/report-format.md). */
#include "agent/report.h"

static json_t *percent_or_null(bool has, double percent)
{
    return has ? json_real(percent) : json_null();
}

static json_t *score_json(const struct pst_score *s)
{
    return json_pack("{s:{s:I, s:I, s:o}, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:o}}", "secure",
                     "current", (json_int_t)s->current, "max", (json_int_t)s->max, "percent",
                     percent_or_null(s->has_percent, s->percent), "compliance", "pass",
                     (json_int_t)s->pass, "fail", (json_int_t)s->fail, "not_applicable",
                     (json_int_t)s->not_applicable, "exempt", (json_int_t)s->exempt, "mitigated",
                     (json_int_t)s->mitigated, "error", (json_int_t)s->error, "percent",
                     percent_or_null(s->has_compliance, s->compliance_percent));
}

/*
 * Sets KEY of OBJ to VALUE, taking VALUE in every case. Results and controls are built key by
 * key: json_pack would parse a format string for each of hundreds of objects. False once any
 * call failed, so that a sequence of puts can be checked once.
 */
static bool put(json_t *obj, const char *key, json_t *value, bool ok)
{
    if (!ok) {
        json_decref(value);
        return false;
    }
    return json_object_set_new_nocheck(obj, key, value) == 0;
}

static json_t *control_json(const struct pst_scan *scan, const struct pst_control_result *cr)
{
    json_t *obj = json_object();
    json_t *ids = json_array();
    bool ok = obj != NULL && ids != NULL;

    for (size_t i = 0; ok && i < cr->n_results; i++) {
        ok = json_array_append_new(ids, json_string(scan->results[cr->results[i]].rec->id)) == 0;
    }
    ok = put(obj, "id", json_string(cr->control->id), ok);
    ok = put(obj, "title", json_string(cr->control->title), ok);
    ok = put(obj, "max_score", json_integer(cr->control->max_score), ok);
    ok = put(obj, "current", json_integer(cr->current), ok);
    ok = put(obj, "potential_increase", json_integer(cr->potential_increase), ok);
    ok = put(obj, "healthy", json_boolean(cr->healthy), ok);
    ok = put(obj, "in_score", json_boolean(cr->in_score), ok);
    ok = put(obj, "mcsb", json_incref(cr->control->mcsb), ok);
    ok = put(obj, "recommendations", ids, ok);
    if (!ok) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

static json_t *result_json(const struct pst_result *r)
{
    const struct pst_recommendation *rec = r->rec;
    json_t *obj = json_object();
    bool ok = obj != NULL;

    ok = put(obj, "id", json_string(rec->id), ok);
    ok = put(obj, "title", json_string(rec->title), ok);
    ok = put(obj, "control", json_string(rec->control->id), ok);
    ok = put(obj, "severity", json_string(pst_severity_name(rec->severity)), ok);
    ok = put(obj, "status", json_string(pst_status_name(r->status)), ok);
    ok = put(obj, "reason", pst_json_string_or_null(r->reason), ok);
    ok = put(obj, "evidence", json_incref(r->evidence), ok);
    ok = put(obj, "evidence_omitted", json_integer((json_int_t)r->evidence_omitted), ok);
    ok = put(obj, "rationale", json_string(rec->rationale), ok);
    ok = put(obj, "remediation", json_string(rec->remediation), ok);
    ok = put(obj, "references", json_incref(rec->references), ok);
    ok = put(obj, "policy", json_string(rec->policy->id), ok);
    if (ok && r->exemption != NULL) {
        ok = put(obj, "exemption",
                 json_pack("{s:s, s:s, s:s?}", "kind", pst_exemption_kind_name(r->exemption->kind),
                           "reason", r->exemption->reason, "expires",
                           r->exemption->expires[0] ? r->exemption->expires : NULL),
                 ok);
    }
    if (!ok) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

json_t *pst_report_json(const struct pst_scan *scan)
{
    const struct pst_policy_set *set = scan->policies;
    json_t *policies = json_array();
    json_t *controls = json_array();
    json_t *results = json_array();
    json_t *report = NULL;

    if (policies == NULL || controls == NULL || results == NULL) {
        goto fail;
    }
    for (size_t i = 0; i < set->n_policies; i++) {
        const struct pst_policy *p = set->policies[i];
        if (json_array_append_new(policies, json_pack("{s:s, s:I, s:s, s:s}", "id", p->id,
                                                      "version", (json_int_t)p->version, "title",
                                                      p->title, "sha256", p->sha256)) != 0) {
            goto fail;
        }
    }
    for (size_t i = 0; i < scan->n_controls; i++) {
        if (json_array_append_new(controls, control_json(scan, &scan->controls[i])) != 0) {
            goto fail;
        }
    }
    for (size_t i = 0; i < scan->n_results; i++) {
        if (json_array_append_new(results, result_json(&scan->results[i])) != 0) {
            goto fail;
        }
    }
    report =
        json_pack("{s:s, s:{s:s}, s:O, s:s?, s:O, s:O, s:s, s:s, s:o, s:O, s:O, s:O, s:{s:I, s:b}}",
                  "schema", PST_REPORT_SCHEMA, "agent", "version", POSTURE_VERSION, "host",
                  scan->host, "root", scan->root, "policy",
                  json_array_get(policies, 0) ? json_array_get(policies, 0) : json_null(),
                  "policies", policies, "started_at", scan->started_at, "finished_at",
                  scan->finished_at, "score", score_json(&scan->score), "controls", controls,
                  "results", results, "warnings", scan->warnings, "assessment", "needs_root",
                  (json_int_t)scan->needs_root, "complete", scan->score.error == 0);
fail:
    json_decref(policies);
    json_decref(controls);
    json_decref(results);
    return report;
}
