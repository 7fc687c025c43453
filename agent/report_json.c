/* SPDX-License-Identifier: Apache-2.0 */
/* The JSON report, schema posture.report/v1 (docs/report-format.md), written straight from the
 * scan. */
#include "agent/report.h"

#include "agent/error.h"
#include "agent/jsonw.h"

#include <stdint.h>

/*
 * The report is written token by token, never built as a tree: its hundreds of objects and
 * thousands of strings would each cost allocations and a hash table for a moment. Every
 * pst_jsonw call keeps the first failure in the writer, so the functions below only write;
 * pst_jsonw_finish reports what went wrong.
 */

static void write_policy(struct pst_jsonw *w, const struct pst_policy *p)
{
    pst_jsonw_begin_object(w);
    pst_jsonw_key(w, "id");
    pst_jsonw_string(w, p->id);
    pst_jsonw_key(w, "version");
    pst_jsonw_integer(w, (json_int_t)p->version);
    pst_jsonw_key(w, "title");
    pst_jsonw_string(w, p->title);
    pst_jsonw_key(w, "sha256");
    pst_jsonw_string(w, p->sha256);
    pst_jsonw_end_object(w);
}

/* A percentage, or null when there is none. */
static void write_percent(struct pst_jsonw *w, bool has, double percent)
{
    if (has) {
        pst_jsonw_real(w, percent);
    } else {
        pst_jsonw_null(w);
    }
}

static void write_count(struct pst_jsonw *w, const char *key, size_t n)
{
    pst_jsonw_key(w, key);
    pst_jsonw_integer(w, (json_int_t)n);
}

static void write_score(struct pst_jsonw *w, const struct pst_score *s)
{
    pst_jsonw_begin_object(w);
    pst_jsonw_key(w, "secure");
    pst_jsonw_begin_object(w);
    pst_jsonw_key(w, "current");
    pst_jsonw_integer(w, (json_int_t)s->current);
    pst_jsonw_key(w, "max");
    pst_jsonw_integer(w, (json_int_t)s->max);
    pst_jsonw_key(w, "percent");
    write_percent(w, s->has_percent, s->percent);
    pst_jsonw_end_object(w);
    pst_jsonw_key(w, "compliance");
    pst_jsonw_begin_object(w);
    write_count(w, "pass", s->pass);
    write_count(w, "fail", s->fail);
    write_count(w, "not_applicable", s->not_applicable);
    write_count(w, "exempt", s->exempt);
    write_count(w, "mitigated", s->mitigated);
    write_count(w, "error", s->error);
    pst_jsonw_key(w, "percent");
    write_percent(w, s->has_compliance, s->compliance_percent);
    pst_jsonw_end_object(w);
    pst_jsonw_end_object(w);
}

static void write_control(struct pst_jsonw *w, const struct pst_scan *scan,
                          const struct pst_control_result *cr)
{
    pst_jsonw_begin_object(w);
    pst_jsonw_key(w, "id");
    pst_jsonw_string(w, cr->control->id);
    pst_jsonw_key(w, "title");
    pst_jsonw_string(w, cr->control->title);
    pst_jsonw_key(w, "max_score");
    pst_jsonw_integer(w, (json_int_t)cr->control->max_score);
    pst_jsonw_key(w, "current");
    pst_jsonw_integer(w, (json_int_t)cr->current);
    pst_jsonw_key(w, "potential_increase");
    pst_jsonw_integer(w, (json_int_t)cr->potential_increase);
    pst_jsonw_key(w, "healthy");
    pst_jsonw_bool(w, cr->healthy);
    pst_jsonw_key(w, "in_score");
    pst_jsonw_bool(w, cr->in_score);
    pst_jsonw_key(w, "mcsb");
    pst_jsonw_value(w, cr->control->mcsb);
    pst_jsonw_key(w, "recommendations");
    pst_jsonw_begin_array(w);
    for (size_t i = 0; i < cr->n_results; i++) {
        pst_jsonw_string(w, scan->results[cr->results[i]].rec->id);
    }
    pst_jsonw_end_array(w);
    pst_jsonw_end_object(w);
}

static void write_evidence(struct pst_jsonw *w, const struct pst_evidence *ev)
{
    pst_jsonw_begin_object(w);
    pst_jsonw_key(w, "fact");
    pst_jsonw_string(w, ev->leaf->fact);
    pst_jsonw_key(w, "args");
    pst_jsonw_value(w, ev->leaf->args);
    pst_jsonw_key(w, "observed");
    pst_jsonw_value(w, ev->observed);
    pst_jsonw_key(w, "expected");
    pst_jsonw_string(w, ev->leaf->expected);
    pst_jsonw_key(w, "source");
    pst_jsonw_string(w, ev->source);
    pst_jsonw_key(w, "outcome");
    pst_jsonw_string(w, pst_outcome_name(ev->outcome));
    pst_jsonw_key(w, "error");
    pst_jsonw_string(w, ev->error);
    if (ev->offending != NULL) {
        pst_jsonw_key(w, "offending");
        pst_jsonw_value(w, ev->offending);
    }
    pst_jsonw_end_object(w);
}

static void write_result(struct pst_jsonw *w, const struct pst_result *r)
{
    const struct pst_recommendation *rec = r->rec;

    pst_jsonw_begin_object(w);
    pst_jsonw_key(w, "id");
    pst_jsonw_string(w, rec->id);
    pst_jsonw_key(w, "title");
    pst_jsonw_string(w, rec->title);
    pst_jsonw_key(w, "control");
    pst_jsonw_string(w, rec->control->id);
    pst_jsonw_key(w, "severity");
    pst_jsonw_string(w, pst_severity_name(rec->severity));
    pst_jsonw_key(w, "status");
    pst_jsonw_string(w, pst_status_name(r->status));
    pst_jsonw_key(w, "reason");
    pst_jsonw_string(w, r->reason);
    pst_jsonw_key(w, "evidence");
    pst_jsonw_begin_array(w);
    for (size_t i = 0; i < r->n_evidence; i++) {
        write_evidence(w, &r->evidence[i]);
    }
    pst_jsonw_end_array(w);
    write_count(w, "evidence_omitted", r->evidence_omitted);
    pst_jsonw_key(w, "rationale");
    pst_jsonw_string(w, rec->rationale);
    pst_jsonw_key(w, "remediation");
    pst_jsonw_string(w, rec->remediation);
    pst_jsonw_key(w, "references");
    pst_jsonw_value(w, rec->references);
    pst_jsonw_key(w, "policy");
    pst_jsonw_string(w, rec->policy->id);
    if (r->exemption != NULL) {
        pst_jsonw_key(w, "exemption");
        pst_jsonw_begin_object(w);
        pst_jsonw_key(w, "kind");
        pst_jsonw_string(w, pst_exemption_kind_name(r->exemption->kind));
        pst_jsonw_key(w, "reason");
        pst_jsonw_string(w, r->exemption->reason);
        pst_jsonw_key(w, "expires");
        pst_jsonw_string(w, r->exemption->expires[0] ? r->exemption->expires : NULL);
        pst_jsonw_end_object(w);
    }
    pst_jsonw_end_object(w);
}

int pst_report_json(const struct pst_scan *scan, size_t flags,
                    const struct pst_report_trailer *trailer, char **out, size_t *len)
{
    const struct pst_policy_set *set = scan->policies;
    struct pst_jsonw w;

    *out = NULL;
    *len = 0;
    if (trailer != NULL &&
        (trailer->seq > (uint64_t)INT64_MAX || trailer->spool_dropped > (uint64_t)INT64_MAX)) {
        return PST_EINVAL;
    }
    pst_jsonw_init(&w, flags);
    pst_jsonw_begin_object(&w);
    pst_jsonw_key(&w, "schema");
    pst_jsonw_string(&w, PST_REPORT_SCHEMA);
    pst_jsonw_key(&w, "agent");
    pst_jsonw_begin_object(&w);
    pst_jsonw_key(&w, "version");
    pst_jsonw_string(&w, POSTURE_VERSION);
    pst_jsonw_end_object(&w);
    pst_jsonw_key(&w, "host");
    pst_jsonw_value(&w, scan->host);
    pst_jsonw_key(&w, "root");
    pst_jsonw_string(&w, scan->root);
    pst_jsonw_key(&w, "policy");
    if (set->n_policies > 0) {
        write_policy(&w, set->policies[0]);
    } else {
        pst_jsonw_null(&w);
    }
    pst_jsonw_key(&w, "policies");
    pst_jsonw_begin_array(&w);
    for (size_t i = 0; i < set->n_policies; i++) {
        write_policy(&w, set->policies[i]);
    }
    pst_jsonw_end_array(&w);
    pst_jsonw_key(&w, "started_at");
    pst_jsonw_string(&w, scan->started_at);
    pst_jsonw_key(&w, "finished_at");
    pst_jsonw_string(&w, scan->finished_at);
    pst_jsonw_key(&w, "score");
    write_score(&w, &scan->score);
    pst_jsonw_key(&w, "controls");
    pst_jsonw_begin_array(&w);
    for (size_t i = 0; i < scan->n_controls; i++) {
        write_control(&w, scan, &scan->controls[i]);
    }
    pst_jsonw_end_array(&w);
    pst_jsonw_key(&w, "results");
    pst_jsonw_begin_array(&w);
    for (size_t i = 0; i < scan->n_results; i++) {
        write_result(&w, &scan->results[i]);
    }
    pst_jsonw_end_array(&w);
    pst_jsonw_key(&w, "warnings");
    pst_jsonw_value(&w, scan->warnings);
    pst_jsonw_key(&w, "assessment");
    pst_jsonw_begin_object(&w);
    write_count(&w, "needs_root", scan->needs_root);
    pst_jsonw_key(&w, "complete");
    pst_jsonw_bool(&w, scan->score.error == 0);
    pst_jsonw_end_object(&w);
    if (trailer != NULL) {
        pst_jsonw_key(&w, "host_id");
        pst_jsonw_string(&w, trailer->host_id);
        pst_jsonw_key(&w, "seq");
        pst_jsonw_integer(&w, (json_int_t)trailer->seq);
        pst_jsonw_key(&w, "spool_dropped");
        pst_jsonw_integer(&w, (json_int_t)trailer->spool_dropped);
    }
    pst_jsonw_end_object(&w);
    return pst_jsonw_finish(&w, out, len);
}
