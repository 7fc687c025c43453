/* SPDX-License-Identifier: Apache-2.0 */
/* The policy model: controls, recommendations and check trees, loaded strictly from YAML. */
#ifndef PST_POLICY_H
#define PST_POLICY_H

#include "agent/blocks.h"
#include "config/config.h"
#include "config/diag.h"
#include "probes/probe.h"

#include <jansson.h>
#include <regex.h>
#include <stdbool.h>

enum pst_op {
    PST_OP_EQUALS,
    PST_OP_NOT_EQUALS,
    PST_OP_IN,
    PST_OP_NOT_IN,
    PST_OP_MATCHES,
    PST_OP_NOT_MATCHES,
    PST_OP_LT,
    PST_OP_LE,
    PST_OP_GT,
    PST_OP_GE,
    PST_OP_EXISTS,
    PST_OP_EMPTY,
    PST_OP_CONTAINS,
    PST_OP_SUBSET_OF,
    PST_OP_DISJOINT_FROM,
    PST_OP_MODE_AT_MOST,
};

/* The operator's name as policies spell it. */
const char *pst_op_name(enum pst_op op);

enum pst_severity {
    PST_SEV_CRITICAL,
    PST_SEV_HIGH,
    PST_SEV_MEDIUM,
    PST_SEV_LOW,
    PST_SEV_INFO,
};

const char *pst_severity_name(enum pst_severity sev);

enum pst_check_kind { PST_CHECK_ALL, PST_CHECK_ANY, PST_CHECK_NOT, PST_CHECK_LEAF };

struct pst_check {
    enum pst_check_kind kind;
    struct pst_check **children; /* ALL, ANY: n children; NOT: one */
    size_t n;
    /* PST_CHECK_LEAF: */
    const struct pst_probe *probe;
    const struct pst_probe_field *field;
    const char *fact; /* "probe.field" */
    json_t *args;     /* the arguments given, typed (defaults are applied by the probe call) */
    enum pst_op op;
    json_t *operand;       /* typed to the field, parameters resolved */
    const char *parameter; /* name of the parameter the operand came from, or NULL */
    const char *expected;  /* the expected side as reports show it: "le 4 ($ssh_max_auth_tries)",
                              the operator, the operand (strings bare, others compact JSON) and
                              the parameter it came from */
    regex_t regex;         /* PST_OP_MATCHES / PST_OP_NOT_MATCHES */
    bool has_regex;
};

/* The model's strings (ids, titles, texts, fact names) live in the set's text blocks. */
struct pst_control {
    const char *id;
    const char *title;
    long max_score;
    json_t *mcsb; /* list of strings */
};

struct pst_policy;

struct pst_recommendation {
    const char *id;
    const char *title;
    const char *rationale;
    const char *remediation;
    enum pst_severity severity;
    const struct pst_control *control;
    const struct pst_policy *policy;
    json_t *references;        /* object of strings */
    struct pst_check *applies; /* NULL: always applies */
    struct pst_check *check;
};

struct pst_policy {
    const char *id;
    long version;
    const char *title;
    const char *path;
    char sha256[65]; /* hex SHA-256 of the policy file's bytes */
    json_t *os;      /* applies_to.os: list of os-release IDs, or NULL for any */
};

struct pst_policy_set {
    struct pst_policy **policies;
    size_t n_policies;
    struct pst_control **controls;
    size_t n_controls;
    struct pst_recommendation **recommendations;
    size_t n_recommendations;
    struct pst_blocks text; /* the blocks the model's strings are kept in */
};

/*
 * Loads every policy in PATHS (files, or directories whose *.yaml and *.yml files load in
 * name order), applying parameter overrides from CONFIG (may be NULL). Every error of every
 * file is added to DIAG as FILE:LINE:COLUMN: message; when there is any, *out is NULL.
 * Returns 0 when the set loaded, PST_EPARSE (see DIAG) or PST_ENOMEM. The caller frees
 * *out with pst_policy_set_free().
 */
int pst_policy_load(const char *const *paths, size_t n_paths, const struct pst_config *config,
                    struct pst_policy_set **out, struct pst_diag *diag);

void pst_policy_set_free(struct pst_policy_set *set);

const struct pst_recommendation *pst_policy_find_recommendation(const struct pst_policy_set *set,
                                                                const char *id);
const struct pst_control *pst_policy_find_control(const struct pst_policy_set *set, const char *id);

#endif
