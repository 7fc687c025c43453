/* SPDX-License-Identifier: Apache-2.0 */
/* One assessment: probes and evaluator over the loaded policies, then scores. */
#include "agent/scan.h"

#include "agent/error.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

extern const struct pst_probe pst_probe_os;

void pst_time_now(char buf[32])
{
    struct tm tm;
    time_t now = time(NULL);

    gmtime_r(&now, &tm);
    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static bool selected(const struct pst_recommendation *rec, const char *const *only, size_t n)
{
    if (n == 0) {
        return true;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(only[i], rec->id) == 0 || strcmp(only[i], rec->control->id) == 0) {
            return true;
        }
    }
    return false;
}

static json_t *fact_value(const struct pst_call *call, const char *field)
{
    const json_t *v = pst_call_value(call, field);
    return v != NULL ? json_incref((json_t *)v) : json_null();
}

static json_t *host_facts(struct pst_probe_ctx *probes)
{
    const struct pst_call *call = NULL;

    if (pst_probe_call(probes, &pst_probe_os, NULL, &call) != PST_OK) {
        return NULL;
    }
    return json_pack("{s:o, s:o, s:{s:o, s:o, s:o}, s:o}", "hostname", fact_value(call, "hostname"),
                     "machine_id", fact_value(call, "machine_id"), "os", "id",
                     fact_value(call, "id"), "version_id", fact_value(call, "version_id"),
                     "pretty_name", fact_value(call, "pretty_name"), "kernel",
                     fact_value(call, "kernel"));
}

/* Report order inside the scan: status that needs action first, then severity, then id. */
static int status_rank(enum pst_status s)
{
    static const int rank[] = {[PST_STATUS_FAIL] = 0,
                               [PST_STATUS_ERROR] = 1,
                               [PST_STATUS_PASS] = 2,
                               [PST_STATUS_EXEMPT] = 3,
                               [PST_STATUS_NOT_APPLICABLE] = 4};
    return rank[s];
}

static int cmp_results(const void *a, const void *b, void *base)
{
    const struct pst_result *x = &((const struct pst_result *)base)[*(const size_t *)a];
    const struct pst_result *y = &((const struct pst_result *)base)[*(const size_t *)b];

    if (status_rank(x->status) != status_rank(y->status)) {
        return status_rank(x->status) - status_rank(y->status);
    }
    if (x->rec->severity != y->rec->severity) {
        return (int)x->rec->severity - (int)y->rec->severity;
    }
    return strcmp(x->rec->id, y->rec->id);
}

/*
 * Puts results in report order: controls by potential increase, inside each control the
 * recommendations by status and severity; rewrites the controls' indices to match.
 */
static int order_results(struct pst_scan *scan)
{
    struct pst_result *ordered = calloc(scan->n_results, sizeof(*ordered));
    size_t n = 0;

    if (ordered == NULL && scan->n_results > 0) {
        return PST_ENOMEM;
    }
    for (size_t c = 0; c < scan->n_controls; c++) {
        struct pst_control_result *cr = &scan->controls[c];
        qsort_r(cr->results, cr->n_results, sizeof(*cr->results), cmp_results, scan->results);
        for (size_t i = 0; i < cr->n_results; i++) {
            ordered[n] = scan->results[cr->results[i]];
            cr->results[i] = n++;
        }
    }
    free(scan->results);
    scan->results = ordered;
    return PST_OK;
}

/* Whether a leaf of CHECK calls a probe that starts work ahead (and may wait for it). */
static bool uses_prepare(const struct pst_check *check)
{
    if (check == NULL) {
        return false;
    }
    if (check->kind == PST_CHECK_LEAF) {
        return check->probe->prepare != NULL;
    }
    for (size_t i = 0; i < check->n; i++) {
        if (uses_prepare(check->children[i])) {
            return true;
        }
    }
    return false;
}

/* pst_probe_prepare for every leaf of CHECK whose probe has slow work to start. */
static int prepare_checks(struct pst_probe_ctx *probes, const struct pst_check *check)
{
    int rc = PST_OK;
    if (check == NULL) {
        return PST_OK;
    }
    if (check->kind == PST_CHECK_LEAF) {
        /* a missing argument is the call's error to report, not the preparation's */
        rc = check->probe->prepare != NULL ? pst_probe_prepare(probes, check->probe, check->args)
                                           : PST_OK;
        return rc == PST_EINVAL ? PST_OK : rc;
    }
    for (size_t i = 0; i < check->n && rc == PST_OK; i++) {
        rc = prepare_checks(probes, check->children[i]);
    }
    return rc;
}

int pst_scan_run(const struct pst_policy_set *policies, const struct pst_config *config,
                 const char *root, const char *const *only, size_t n_only, struct pst_scan **out,
                 char **error)
{
    struct pst_scan *scan = calloc(1, sizeof(*scan));
    struct pst_fs *fs = NULL;
    struct pst_probe_ctx probes = {0};
    struct pst_eval_ctx eval = {0};
    int rc = PST_OK;

    *out = NULL;
    *error = NULL;
    if (scan == NULL) {
        return PST_ENOMEM;
    }
    scan->policies = policies;
    scan->config = config;
    for (size_t i = 0; i < n_only; i++) {
        if (pst_policy_find_recommendation(policies, only[i]) == NULL &&
            pst_policy_find_control(policies, only[i]) == NULL) {
            if (asprintf(error, "--only %s: no such control or recommendation", only[i]) < 0) {
                *error = NULL;
            }
            rc = PST_EINVAL;
            goto out;
        }
    }
    rc = pst_fs_new(root, &fs);
    if (rc != PST_OK) {
        if (asprintf(error, "--root %s: %s%s", root ? root : "/", pst_strerror(rc),
                     rc == PST_ENOTSUP ? " (an offline root needs openat2, Linux 5.6 or newer)"
                                       : "") < 0) {
            *error = NULL;
        }
        goto out;
    }
    if (pst_fs_root(fs) != NULL && (scan->root = strdup(pst_fs_root(fs))) == NULL) {
        rc = PST_ENOMEM;
        goto out;
    }
    rc = pst_probe_ctx_init(&probes, fs);
    if (rc != PST_OK) {
        goto out;
    }
    pst_time_now(scan->started_at);
    eval.probes = &probes;
    eval.config = config;
    snprintf(eval.today, sizeof(eval.today), "%.10s", scan->started_at);
    scan->warnings = eval.warnings = json_array();
    scan->results = calloc(policies->n_recommendations + 1, sizeof(*scan->results));
    scan->controls = calloc(policies->n_controls + 1, sizeof(*scan->controls));
    scan->host = host_facts(&probes);
    if (scan->warnings == NULL || scan->results == NULL || scan->controls == NULL ||
        scan->host == NULL) {
        rc = PST_ENOMEM;
        goto out;
    }
    if (config != NULL && config->warning != NULL &&
        json_array_append_new(scan->warnings, json_string(config->warning)) != 0) {
        rc = PST_ENOMEM;
        goto out;
    }
    /* let probes start their slow programs (sshd -T) while the rest is assessed */
    for (size_t i = 0; i < policies->n_recommendations && rc == PST_OK; i++) {
        const struct pst_recommendation *rec = policies->recommendations[i];
        if (selected(rec, only, n_only)) {
            rc = prepare_checks(&probes, rec->applies);
            rc = rc == PST_OK ? prepare_checks(&probes, rec->check) : rc;
        }
    }
    if (rc != PST_OK) {
        goto out;
    }
    /* those that wait for a started program last, so that it has the most time to finish
     * (the report orders results by itself: evaluation order does not show) */
    for (size_t i = 0; i < 2 * policies->n_recommendations; i++) {
        const struct pst_recommendation *rec =
            policies->recommendations[i % policies->n_recommendations];
        bool waits = uses_prepare(rec->applies) || uses_prepare(rec->check);
        if (!selected(rec, only, n_only) || waits != (i >= policies->n_recommendations)) {
            continue;
        }
        rc = pst_eval_recommendation(&eval, rec, &scan->results[scan->n_results++]);
        if (rc != PST_OK) {
            goto out;
        }
        scan->needs_root += scan->results[scan->n_results - 1].needs_root;
    }
    rc = pst_score_compute(policies, scan->results, scan->n_results, scan->controls,
                           &scan->n_controls, &scan->score);
    if (rc == PST_OK) {
        rc = order_results(scan);
    }
    pst_time_now(scan->finished_at);
    scan->touched = json_deep_copy(pst_fs_touched(fs));
out:
    pst_probe_ctx_release(&probes);
    pst_fs_free(fs);
    if (rc != PST_OK) {
        pst_scan_free(scan);
        return rc;
    }
    *out = scan;
    return PST_OK;
}

void pst_scan_free(struct pst_scan *scan)
{
    if (scan == NULL) {
        return;
    }
    for (size_t i = 0; i < scan->n_results; i++) {
        pst_result_release(&scan->results[i]);
    }
    free(scan->results);
    pst_score_release(scan->controls, scan->n_controls);
    free(scan->controls);
    json_decref(scan->host);
    json_decref(scan->warnings);
    json_decref(scan->touched);
    free(scan->root);
    free(scan);
}
