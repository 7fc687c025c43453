/* SPDX-License-Identifier: Apache-2.0 */
/* The evaluator: check trees against probe facts, statuses, evidence and exemptions. */
#ifndef PST_EVAL_H
#define PST_EVAL_H

#include "config/config.h"
#include "config/policy.h"
#include "probes/probe.h"

#include <jansson.h>

/* Most evidence items one result keeps; further leaves are counted in evidence_omitted. */
#define PST_EVIDENCE_MAX 32

enum pst_status {
    PST_STATUS_PASS,
    PST_STATUS_FAIL,
    PST_STATUS_NOT_APPLICABLE,
    PST_STATUS_EXEMPT,
    PST_STATUS_ERROR,
};

const char *pst_status_name(enum pst_status status);

/* The three-valued outcome of a check node; each evidence item has the outcome of its leaf. */
enum pst_outcome {
    PST_OUTCOME_PASS,
    PST_OUTCOME_FAIL,
    PST_OUTCOME_ERROR,
};

/* "pass", "fail" or "error", as the report writes an evidence item's outcome. */
const char *pst_outcome_name(enum pst_outcome outcome);

/*
 * One leaf's evaluation, as the report shows it (docs/report-format.md: fact, args, observed,
 * expected, source, outcome, error, offending). The fact, its arguments and the expected side
 * are the leaf's, which the policy set owns; the rest the evidence item owns.
 */
struct pst_evidence {
    const struct pst_check *leaf; /* borrowed from the policy set */
    json_t *observed;  /* a reference to the value the probe saw (json null: absent); NULL when
                          the leaf could not be evaluated */
    char *source;      /* where the value was read (UTF-8); NULL: not said */
    char *error;       /* why the leaf could not be evaluated; NULL when it was */
    json_t *offending; /* a subset_of or disjoint_from leaf that failed: the observed items at
                          fault (array); NULL otherwise */
    enum pst_outcome outcome;
};

struct pst_result {
    const struct pst_recommendation *rec;
    enum pst_status status;
    const struct pst_exemption *exemption; /* PST_STATUS_EXEMPT: the exemption applied */
    char *reason;                          /* why error / not_applicable / exempt; NULL otherwise */
    struct pst_evidence *evidence;         /* n_evidence items, in evaluation order */
    size_t n_evidence;                     /* at most PST_EVIDENCE_MAX */
    size_t evidence_omitted;
    bool needs_root; /* an error came from a permission denied while not root */
};

struct pst_eval_ctx {
    struct pst_probe_ctx *probes;
    const struct pst_config *config; /* may be NULL */
    char today[11];                  /* YYYY-MM-DD (UTC), for exemption expiry */
    json_t *warnings;                /* array of strings the report shows */
};

/*
 * Evaluates REC into OUT (whose evidence the caller releases with pst_result_release; it
 * keeps references to probe values, so it may outlive CTX's probe cache). Returns 0 or
 * PST_ENOMEM; assessment problems are statuses, not return codes.
 */
int pst_eval_recommendation(struct pst_eval_ctx *ctx, const struct pst_recommendation *rec,
                            struct pst_result *out);

/* Frees RESULT's reason and evidence items; RESULT itself is the caller's. */
void pst_result_release(struct pst_result *result);

/* Formats arguments as " key=value key=value" (leading blank; "" for none); caller frees. */
char *pst_eval_args_text(const json_t *args);

#endif
