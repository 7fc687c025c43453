/* SPDX-License-Identifier: Apache-2.0 */
/* The agent configuration (posture.yaml): parameter overrides and exemptions. */
#include "config/config.h"

#include "agent/error.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const struct pst_ykey config_keys[] = {
    {"parameters", PST_Y_MAP, false},
    {"exemptions", PST_Y_SEQ, false},
    {"state_dir", PST_Y_SCALAR, false},
};

static const struct pst_ykey exemption_keys[] = {
    {"recommendation", PST_Y_SCALAR, true},
    {"kind", PST_Y_SCALAR, true},
    {"reason", PST_Y_SCALAR, true},
    {"expires", PST_Y_SCALAR, false},
};

static const char *const exemption_kind_names[] = {
    [PST_EXEMPT_MITIGATED] = "mitigated",
    [PST_EXEMPT_WAIVER] = "waiver",
};

const char *pst_exemption_kind_name(enum pst_exemption_kind kind)
{
    return exemption_kind_names[kind];
}

/* True when TEXT is a real calendar date written YYYY-MM-DD. */
static bool valid_date(const char *text)
{
    struct tm tm = {0};
    const char *end;

    if (strlen(text) != 10) {
        return false;
    }
    end = strptime(text, "%Y-%m-%d", &tm);
    if (end == NULL || *end != '\0') {
        return false;
    }
    /* strptime accepts 2027-02-31; a round trip through timegm does not. */
    int mday = tm.tm_mday, mon = tm.tm_mon;
    tm.tm_isdst = 0;
    if (timegm(&tm) == (time_t)-1) {
        return false;
    }
    return tm.tm_mday == mday && tm.tm_mon == mon;
}

static void load_exemption(struct pst_config *config, const struct pst_ynode *node,
                           struct pst_diag *diag)
{
    const char *file = config->path;
    const struct pst_ynode *rec, *kind, *reason, *expires;
    struct pst_exemption *ex;
    size_t k;

    if (!pst_ymap_check(diag, file, node, "an exemption", exemption_keys,
                        PST_COUNT(exemption_keys))) {
        return;
    }
    rec = pst_ymap_get_kind(node, "recommendation", PST_Y_SCALAR);
    kind = pst_ymap_get_kind(node, "kind", PST_Y_SCALAR);
    reason = pst_ymap_get_kind(node, "reason", PST_Y_SCALAR);
    expires = pst_ymap_get_kind(node, "expires", PST_Y_SCALAR);
    if (rec == NULL || kind == NULL || reason == NULL) {
        return;
    }
    for (k = 0; k < PST_COUNT(exemption_kind_names); k++) {
        if (strcmp(kind->scalar, exemption_kind_names[k]) == 0) {
            break;
        }
    }
    if (k == PST_COUNT(exemption_kind_names)) {
        pst_ydiag(diag, file, kind, "exemption kind must be mitigated or waiver, not '%s'",
                  kind->scalar);
        return;
    }
    if (reason->scalar[0] == '\0') {
        pst_ydiag(diag, file, reason, "an exemption needs a reason");
        return;
    }
    if (expires != NULL && !valid_date(expires->scalar)) {
        pst_ydiag(diag, file, expires, "expires must be a date YYYY-MM-DD, not '%s'",
                  expires->scalar);
        return;
    }
    ex = &config->exemptions[config->n_exemptions++];
    ex->recommendation = rec->scalar;
    ex->kind = (enum pst_exemption_kind)k;
    ex->reason = reason->scalar;
    snprintf(ex->expires, sizeof(ex->expires), "%s", expires ? expires->scalar : "");
    ex->line = node->line;
    ex->column = node->column;
}

/* Sets the state directory (DIR, or the default) and the policy cache within it. */
static bool set_state_dir(struct pst_config *config, const char *dir)
{
    free(config->state_dir);
    free(config->cache_dir);
    config->state_dir = strdup(dir != NULL ? dir : PST_STATE_DIR_DEFAULT);
    if (config->state_dir == NULL ||
        asprintf(&config->cache_dir, "%s/cache", config->state_dir) < 0) {
        config->cache_dir = NULL;
        return false;
    }
    return true;
}

int pst_config_load(const char *path, struct pst_config **out, struct pst_diag *diag)
{
    struct pst_config *config = calloc(1, sizeof(*config));
    const struct pst_ynode *exemptions, *state_dir;
    size_t errors_before = pst_diag_errors(diag);

    *out = NULL;
    if (config == NULL) {
        return PST_ENOMEM;
    }
    if (!set_state_dir(config, NULL)) {
        pst_config_free(config);
        return PST_ENOMEM;
    }
    if (path == NULL) {
        if (access(PST_CONFIG_DEFAULT_PATH, F_OK) != 0) {
            *out = config; /* built-in defaults */
            return PST_OK;
        }
        if (geteuid() != 0 && access(PST_CONFIG_DEFAULT_PATH, R_OK) != 0) {
            if (asprintf(&config->warning,
                         "%s is not readable without root: its parameters and exemptions "
                         "were not applied",
                         PST_CONFIG_DEFAULT_PATH) < 0) {
                config->warning = NULL;
            }
            *out = config;
            return PST_OK;
        }
        path = PST_CONFIG_DEFAULT_PATH;
    }
    config->path = strdup(path);
    if (config->path == NULL) {
        pst_config_free(config);
        return PST_ENOMEM;
    }
    config->tree = pst_yaml_load_file(path, diag, NULL, NULL);
    if (config->tree == NULL) {
        goto out;
    }
    if (!pst_ymap_check(diag, path, config->tree, "the agent configuration", config_keys,
                        PST_COUNT(config_keys))) {
        goto out;
    }
    config->parameters = pst_ymap_get_kind(config->tree, "parameters", PST_Y_MAP);
    state_dir = pst_ymap_get_kind(config->tree, "state_dir", PST_Y_SCALAR);
    if (state_dir != NULL && state_dir->scalar[0] != '/') {
        pst_ydiag(diag, path, state_dir, "state_dir must be an absolute path, not '%s'",
                  state_dir->scalar);
    } else if (state_dir != NULL && !set_state_dir(config, state_dir->scalar)) {
        pst_config_free(config);
        return PST_ENOMEM;
    }
    exemptions = pst_ymap_get_kind(config->tree, "exemptions", PST_Y_SEQ);
    if (exemptions != NULL && exemptions->n > 0) {
        config->exemptions = calloc(exemptions->n, sizeof(*config->exemptions));
        if (config->exemptions == NULL) {
            pst_config_free(config);
            return PST_ENOMEM;
        }
        for (size_t i = 0; i < exemptions->n; i++) {
            load_exemption(config, exemptions->items[i], diag);
        }
    }
out:
    if (pst_diag_errors(diag) > errors_before) {
        pst_config_free(config);
        return PST_EPARSE;
    }
    *out = config;
    return PST_OK;
}

void pst_config_free(struct pst_config *config)
{
    if (config == NULL) {
        return;
    }
    free(config->exemptions);
    free(config->warning);
    free(config->state_dir);
    free(config->cache_dir);
    pst_ynode_free(config->tree);
    free(config->path);
    free(config);
}
