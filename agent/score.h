/* SPDX-License-Identifier: Apache-2.0 */
/* Secure score (Defender for Cloud's formula), compliance percent and control ordering. */
#ifndef PST_SCORE_H
#define PST_SCORE_H

#include "agent/eval.h"
#include "config/policy.h"

#include <stdbool.h>
#include <stddef.h>

struct pst_control_result {
    const struct pst_control *control;
    size_t *results; /* indices into the scan's results, in report order */
    size_t n_results;
    bool in_score; /* some recommendation is applicable and not waived */
    bool healthy;  /* in_score and every applicable one passes or is mitigated */
    long current;  /* max_score when healthy, else 0 */
    long potential_increase;
};

struct pst_score {
    long current, max;
    double percent;   /* 100 x current / max; meaningless when max is 0 */
    bool has_percent; /* false when no control is in the score */
    size_t pass, fail, not_applicable, exempt, error;
    size_t mitigated; /* exempt results of kind mitigated (counted as pass for compliance) */
    double compliance_percent;
    bool has_compliance;
};

/*
 * Computes per-control results and both scores from RESULTS. Fills CONTROLS[n_controls]
 * (the caller allocates the array; each control's results array is the caller's to free
 * with pst_score_release) in report order: larger potential increase first, then id.
 * Returns 0 or PST_ENOMEM.
 */
int pst_score_compute(const struct pst_policy_set *set, const struct pst_result *results,
                      size_t n_results, struct pst_control_result *controls, size_t *n_controls,
                      struct pst_score *score);

void pst_score_release(struct pst_control_result *controls, size_t n_controls);

/* Rounds a percentage to two decimals, as reports print it. */
double pst_score_round(double percent);

#endif
