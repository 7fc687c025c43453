/* SPDX-License-Identifier: Apache-2.0 */
/* One assessment: probes and evaluator over the loaded policies, then scores. */
#ifndef PST_SCAN_H
#define PST_SCAN_H

#include "agent/eval.h"
#include "agent/score.h"
#include "config/config.h"
#include "config/policy.h"

#include <jansson.h>

struct pst_scan {
    const struct pst_policy_set *policies; /* borrowed */
    const struct pst_config *config;       /* borrowed */
    char *root;                            /* NULL: the running system */
    struct pst_result *results;            /* in report order */
    size_t n_results;
    struct pst_control_result *controls; /* in report order */
    size_t n_controls;
    struct pst_score score;
    json_t *host;     /* {hostname, machine_id, os {id, version_id, pretty_name}, kernel} */
    json_t *warnings; /* strings */
    json_t *touched;  /* paths the scan read */
    char started_at[32], finished_at[32];
    size_t needs_root; /* errors that running as root would avoid */
};

/*
 * Assesses ROOT (NULL: this host) against every recommendation of POLICIES, or only those
 * named in ONLY (control or recommendation ids, all of which must exist). On failure,
 * *error describes it (caller frees). Returns 0, PST_EINVAL (unknown --only id), a PST_E*
 * code of the root, or PST_ENOMEM. The caller frees *out with pst_scan_free().
 */
int pst_scan_run(const struct pst_policy_set *policies, const struct pst_config *config,
                 const char *root, const char *const *only, size_t n_only, struct pst_scan **out,
                 char **error);

void pst_scan_free(struct pst_scan *scan);

/* Formats the current UTC time as RFC 3339 ("2026-11-23T15:04:05Z") into BUF[32]. */
void pst_time_now(char buf[32]);

#endif
