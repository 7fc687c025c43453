/* SPDX-License-Identifier: Apache-2.0 */
/* The agent configuration (posture.yaml): parameter overrides and exemptions. */
#ifndef PST_CONFIG_H
#define PST_CONFIG_H

#include "config/diag.h"
#include "config/yaml.h"

#include <stdbool.h>

#define PST_CONFIG_DEFAULT_PATH "/etc/posture/posture.yaml"
#define PST_STATE_DIR_DEFAULT "/var/lib/posture"

enum pst_exemption_kind { PST_EXEMPT_MITIGATED, PST_EXEMPT_WAIVER };

struct pst_exemption {
    char *recommendation;
    enum pst_exemption_kind kind;
    char *reason;
    char expires[11]; /* YYYY-MM-DD, or "" for none */
    int line, column;
};

struct pst_config {
    char *path; /* NULL for built-in defaults */
    struct pst_ynode *tree;
    const struct pst_ynode *parameters; /* mapping in TREE, or NULL */
    struct pst_exemption *exemptions;
    size_t n_exemptions;
    char *warning; /* why the default file was passed over (unreadable without root), or NULL */
    char *state_dir; /* state_dir, else PST_STATE_DIR_DEFAULT */
    char *cache_dir; /* STATE_DIR/cache: parsed policies, used when STATE_DIR exists */
};

/*
 * Loads the agent configuration from PATH; with PATH NULL, from PST_CONFIG_DEFAULT_PATH
 * when it exists, else built-in defaults. A default file that an unprivileged user may not
 * read gives built-in defaults and a warning, so that non-root scans still run. Errors go to DIAG (FILE:LINE:COLUMN). Returns 0,
 * PST_EPARSE, PST_ENOENT (an explicit PATH is missing) or PST_ENOMEM; the caller frees
 * *out with pst_config_free().
 */
int pst_config_load(const char *path, struct pst_config **out, struct pst_diag *diag);
void pst_config_free(struct pst_config *config);

const char *pst_exemption_kind_name(enum pst_exemption_kind kind);

#endif
