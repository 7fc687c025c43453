/* SPDX-License-Identifier: Apache-2.0 */
/* The agent configuration (posture.yaml): parameter overrides and exemptions. */
#ifndef PST_CONFIG_H
#define PST_CONFIG_H

#include "config/diag.h"
#include "config/yaml.h"

#include <stdbool.h>
#include <stdint.h>

#define PST_CONFIG_DEFAULT_PATH "/etc/posture/posture.yaml"
#define PST_STATE_DIR_DEFAULT "/var/lib/posture"

enum pst_exemption_kind { PST_EXEMPT_MITIGATED, PST_EXEMPT_WAIVER };

struct pst_exemption {
    const char *recommendation;
    enum pst_exemption_kind kind;
    const char *reason;
    char expires[11]; /* YYYY-MM-DD, or "" for none */
    int line, column;
};

/*
 * The collector settings (posture.yaml `collector:`), defaults filled in. Strings point into
 * the config's tree, or are NULL when not set.
 */
struct pst_collector_config {
    const char *url;     /* https://HOST[:PORT]; NULL: the URL stored at enrollment */
    const char *ca_file; /* the collector's CA; NULL: the one pinned at enrollment */
    const char *proxy;   /* HTTP proxy URL; NULL: none */
    long connect_timeout_s, timeout_s;
    uint64_t spool_max_reports, spool_max_bytes;
    uint64_t backoff_base_ms, backoff_cap_ms;
    uint64_t interval_s; /* posture run: time between scans */
};

struct pst_config {
    char *path;                  /* NULL for built-in defaults */
    struct pst_ytree_head *tree; /* the file's tree, by its block (a leak checker sees it so) */
    const struct pst_ynode *parameters; /* mapping in TREE, or NULL */
    struct pst_exemption *exemptions;
    size_t n_exemptions;
    struct pst_collector_config collector;
    char *warning;   /* why the default file was passed over (unreadable without root), or NULL */
    char *state_dir; /* state_dir, else PST_STATE_DIR_DEFAULT */
    char *cache_dir; /* STATE_DIR/cache: parsed policies, used when STATE_DIR exists */
};

/*
 * Loads the agent configuration from PATH; with PATH NULL, from PST_CONFIG_DEFAULT_PATH
 * when it exists, else built-in defaults. A default file that an unprivileged user may not
 * read gives built-in defaults and a warning, so that non-root scans still run. Errors go to DIAG
 * (FILE:LINE:COLUMN). Returns 0, PST_EPARSE, PST_ENOENT (an explicit PATH is missing) or
 * PST_ENOMEM; the caller frees *out with pst_config_free().
 */
int pst_config_load(const char *path, struct pst_config **out, struct pst_diag *diag);
void pst_config_free(struct pst_config *config);

/*
 * Sets the state directory (a command line's --state-dir over posture.yaml's state_dir), and
 * the policy cache within it. 0 or PST_ENOMEM.
 */
int pst_config_set_state_dir(struct pst_config *config, const char *dir);

const char *pst_exemption_kind_name(enum pst_exemption_kind kind);

#endif
