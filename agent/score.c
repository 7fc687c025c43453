/* SPDX-License-Identifier: Apache-2.0 */
/* Secure score (Defender for Cloud's formula), compliance percent and control ordering. */
#include "agent/score.h"

#include "agent/error.h"

#include <stdlib.h>
#include <string.h>

/*
 * round(X), halves away from zero, for a finite X, without libm: posture loads no shared
 * library it can do without (libm alone cost 290 KiB of resident memory). X minus its
 * integer part is exact in binary floating point, so the comparison with one half is too.
 */
static double round_half_away(double x)
{
    double whole, rest;

    if (!(x > -4e18 && x < 4e18)) {
        return x; /* NaN, infinities, and values that are whole numbers already */
    }
    whole = (double)(long long)x;
    rest = x - whole;
    if (rest >= 0.5) {
        whole += 1.0;
    } else if (rest <= -0.5) {
        whole -= 1.0;
    }
    return whole;
}

double pst_score_round(double percent)
{
    return round_half_away(percent * 100.0) / 100.0;
}

static int cmp_controls(const void *a, const void *b)
{
    const struct pst_control_result *x = a, *y = b;

    if (x->potential_increase != y->potential_increase) {
        return x->potential_increase > y->potential_increase ? -1 : 1;
    }
    if (x->in_score != y->in_score) {
        return x->in_score ? -1 : 1;
    }
    return strcmp(x->control->id, y->control->id);
}

int pst_score_compute(const struct pst_policy_set *set, const struct pst_result *results,
                      size_t n_results, struct pst_control_result *controls, size_t *n_controls,
                      struct pst_score *score)
{
    size_t n = 0;

    memset(score, 0, sizeof(*score));
    for (size_t c = 0; c < set->n_controls; c++) {
        struct pst_control_result *cr = &controls[n];
        bool unhealthy = false;

        memset(cr, 0, sizeof(*cr));
        cr->control = set->controls[c];
        for (size_t r = 0; r < n_results; r++) {
            const struct pst_result *res = &results[r];
            if (res->rec->control != cr->control) {
                continue;
            }
            if (cr->results == NULL) {
                cr->results = calloc(n_results, sizeof(*cr->results));
                if (cr->results == NULL) {
                    pst_score_release(controls, n);
                    return PST_ENOMEM;
                }
            }
            cr->results[cr->n_results++] = r;
            switch (res->status) {
            case PST_STATUS_PASS:
                cr->in_score = true;
                break;
            case PST_STATUS_FAIL:
            case PST_STATUS_ERROR:
                /* The score never rises because the agent could not see. */
                cr->in_score = true;
                unhealthy = true;
                break;
            case PST_STATUS_EXEMPT:
                if (res->exemption->kind == PST_EXEMPT_MITIGATED) {
                    cr->in_score = true;
                }
                break;
            case PST_STATUS_NOT_APPLICABLE:
                break;
            }
        }
        /* A control with no recommendation in this scan (--only) is not reported. */
        if (cr->n_results == 0) {
            continue;
        }
        cr->healthy = cr->in_score && !unhealthy;
        cr->current = cr->healthy ? cr->control->max_score : 0;
        cr->potential_increase = cr->in_score ? cr->control->max_score - cr->current : 0;
        if (cr->in_score) {
            score->current += cr->current;
            score->max += cr->control->max_score;
        }
        n++;
    }
    qsort(controls, n, sizeof(*controls), cmp_controls);
    *n_controls = n;
    if (score->max > 0) {
        score->has_percent = true;
        score->percent = pst_score_round(100.0 * (double)score->current / (double)score->max);
    }
    for (size_t r = 0; r < n_results; r++) {
        switch (results[r].status) {
        case PST_STATUS_PASS:
            score->pass++;
            break;
        case PST_STATUS_FAIL:
            score->fail++;
            break;
        case PST_STATUS_NOT_APPLICABLE:
            score->not_applicable++;
            break;
        case PST_STATUS_EXEMPT:
            score->exempt++;
            if (results[r].exemption->kind == PST_EXEMPT_MITIGATED) {
                score->mitigated++;
            }
            break;
        case PST_STATUS_ERROR:
            score->error++;
            break;
        }
    }
    size_t assessed = score->pass + score->mitigated + score->fail + score->error;
    if (assessed > 0) {
        score->has_compliance = true;
        score->compliance_percent =
            pst_score_round(100.0 * (double)(score->pass + score->mitigated) / (double)assessed);
    }
    return PST_OK;
}

void pst_score_release(struct pst_control_result *controls, size_t n_controls)
{
    for (size_t i = 0; i < n_controls; i++) {
        free(controls[i].results);
        controls[i].results = NULL;
    }
}
