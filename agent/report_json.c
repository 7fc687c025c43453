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

static json_t *control_json(const struct pst_scan *scan, const struct pst_control_result *cr)
{
    json_t *ids = json_array();

    for (size_t i = 0; ids != NULL && i < cr->n_results; i++) {
        json_array_append_new(ids, json_string(scan->results[cr->results[i]].rec->id));
    }
    return json_pack("{s:s, s:s, s:I, s:I, s:I, s:b, s:b, s:O, s:o}", "id", cr->control->id,
                     "title", cr->control->title, "max_score", (json_int_t)cr->control->max_score,
                     "current", (json_int_t)cr->current, "potential_increase",
                     (json_int_t)cr->potential_increase, "healthy", cr->healthy, "in_score",
                     cr->in_score, "mcsb", cr->control->mcsb, "recommendations", ids);
}

static json_t *result_json(const struct pst_result *r)
{
    const struct pst_recommendation *rec = r->rec;
    json_t *obj = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s?, s:O, s:I, s:s, s:s, s:O, s:s}", "id", rec->id, "title",
        rec->title, "control", rec->control->id, "severity", pst_severity_name(rec->severity),
        "status", pst_status_name(r->status), "reason", r->reason, "evidence", r->evidence,
        "evidence_omitted", (json_int_t)r->evidence_omitted, "rationale", rec->rationale,
        "remediation", rec->remediation, "references", rec->references, "policy", rec->policy->id);

    if (obj != NULL && r->exemption != NULL) {
        json_object_set_new(obj, "exemption",
                            json_pack("{s:s, s:s, s:s?}", "kind",
                                      pst_exemption_kind_name(r->exemption->kind), "reason",
                                      r->exemption->reason, "expires",
                                      r->exemption->expires[0] ? r->exemption->expires : NULL));
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
