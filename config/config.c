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
    {"collector", PST_Y_MAP, false},
};

static const struct pst_ykey collector_keys[] = {
    {"url", PST_Y_SCALAR, false},     {"ca_file", PST_Y_SCALAR, false},
    {"proxy", PST_Y_SCALAR, false},   {"connect_timeout", PST_Y_SCALAR, false},
    {"timeout", PST_Y_SCALAR, false}, {"spool", PST_Y_MAP, false},
    {"backoff", PST_Y_MAP, false},    {"interval", PST_Y_SCALAR, false},
};

static const struct pst_ykey spool_keys[] = {
    {"max_reports", PST_Y_SCALAR, false},
    {"max_bytes", PST_Y_SCALAR, false},
};

static const struct pst_ykey backoff_keys[] = {
    {"base", PST_Y_SCALAR, false},
    {"cap", PST_Y_SCALAR, false},
};

/* Suffixes of durations (to milliseconds) and sizes (to bytes); a bare number is s or bytes. */
static const struct unit {
    const char *suffix;
    uint64_t factor;
} duration_units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"", 1000}},
  size_units[] = {{"KiB", 1024}, {"MiB", 1024 * 1024}, {"GiB", 1024 * 1024 * 1024},
                  {"KB", 1000},  {"MB", 1000 * 1000},  {"GB", 1000 * 1000 * 1000},
                  {"", 1}};

/* Parses "<digits><unit>" with one of UNITS; false when malformed, zero or out of range. */
static bool parse_scaled(const char *text, const struct unit *units, size_t n_units, uint64_t max,
                         uint64_t *out)
{
    uint64_t v = 0;
    size_t i = 0;

    for (; text[i] >= '0' && text[i] <= '9'; i++) {
        if (v > (UINT64_MAX - 9) / 10) {
            return false;
        }
        v = v * 10 + (uint64_t)(text[i] - '0');
    }
    if (i == 0 || v == 0) {
        return false;
    }
    for (size_t u = 0; u < n_units; u++) {
        if (strcmp(text + i, units[u].suffix) == 0) {
            if (v > max / units[u].factor) {
                return false;
            }
            *out = v * units[u].factor;
            return true;
        }
    }
    return false;
}

/* Reads KEY of MAP as a duration (ms) or size into *out; errors into DIAG. */
static void load_scaled(struct pst_diag *diag, const char *file, const struct pst_ynode *map,
                        const char *key, bool duration, uint64_t *out)
{
    const struct pst_ynode *node = pst_ymap_get_kind(map, key, PST_Y_SCALAR);
    /* Bounds: a week for durations, 1 TiB for sizes and counts. */
    uint64_t max = duration ? 7ull * 24 * 3600 * 1000 : 1ull << 40;

    if (node == NULL) {
        return;
    }
    if (duration
            ? !parse_scaled(pst_ynode_text(node), duration_units, PST_COUNT(duration_units), max,
                            out)
            : !parse_scaled(pst_ynode_text(node), size_units, PST_COUNT(size_units), max, out)) {
        pst_ydiag(diag, file, node,
                  duration ? "%s must be a positive duration such as 30, 30s, 10m or 1h, not '%s'"
                           : "%s must be a positive number such as 1000 or 100MiB, not '%s'",
                  key, pst_ynode_text(node));
    }
}

static void load_collector(struct pst_config *config, const struct pst_ynode *node,
                           struct pst_diag *diag)
{
    struct pst_collector_config *c = &config->collector;
    const char *file = config->path;
    const struct pst_ynode *v, *spool, *backoff;
    uint64_t ms;

    if (!pst_ymap_check(diag, file, node, "the collector settings", collector_keys,
                        PST_COUNT(collector_keys))) {
        return;
    }
    v = pst_ymap_get_kind(node, "url", PST_Y_SCALAR);
    if (v != NULL && strncmp(pst_ynode_text(v), "https://", 8) != 0) {
        pst_ydiag(diag, file, v, "the collector url must start with https://, not '%s'",
                  pst_ynode_text(v));
    }
    c->url = v ? pst_ynode_text(v) : NULL;
    v = pst_ymap_get_kind(node, "ca_file", PST_Y_SCALAR);
    c->ca_file = v ? pst_ynode_text(v) : NULL;
    v = pst_ymap_get_kind(node, "proxy", PST_Y_SCALAR);
    c->proxy = v ? pst_ynode_text(v) : NULL;
    ms = (uint64_t)c->connect_timeout_s * 1000;
    load_scaled(diag, file, node, "connect_timeout", true, &ms);
    c->connect_timeout_s = (long)((ms + 999) / 1000);
    ms = (uint64_t)c->timeout_s * 1000;
    load_scaled(diag, file, node, "timeout", true, &ms);
    c->timeout_s = (long)((ms + 999) / 1000);
    ms = c->interval_s * 1000;
    load_scaled(diag, file, node, "interval", true, &ms);
    c->interval_s = (ms + 999) / 1000;
    spool = pst_ymap_get_kind(node, "spool", PST_Y_MAP);
    if (spool != NULL && pst_ymap_check(diag, file, spool, "the spool settings", spool_keys,
                                        PST_COUNT(spool_keys))) {
        load_scaled(diag, file, spool, "max_reports", false, &c->spool_max_reports);
        load_scaled(diag, file, spool, "max_bytes", false, &c->spool_max_bytes);
    }
    backoff = pst_ymap_get_kind(node, "backoff", PST_Y_MAP);
    if (backoff != NULL && pst_ymap_check(diag, file, backoff, "the backoff settings", backoff_keys,
                                          PST_COUNT(backoff_keys))) {
        load_scaled(diag, file, backoff, "base", true, &c->backoff_base_ms);
        load_scaled(diag, file, backoff, "cap", true, &c->backoff_cap_ms);
        if (c->backoff_cap_ms < c->backoff_base_ms) {
            pst_ydiag(diag, file, backoff, "the backoff cap is below its base");
        }
    }
}

/* Defaults of the collector settings (DESIGN.md: backoff base 5 s, cap 10 min). */
static void collector_defaults(struct pst_collector_config *c)
{
    memset(c, 0, sizeof(*c));
    c->connect_timeout_s = 10;
    c->timeout_s = 60;
    c->spool_max_reports = 1000;
    c->spool_max_bytes = 256u * 1024u * 1024u;
    c->backoff_base_ms = 5000;
    c->backoff_cap_ms = 600000;
    c->interval_s = 3600;
}

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
        if (strcmp(pst_ynode_text(kind), exemption_kind_names[k]) == 0) {
            break;
        }
    }
    if (k == PST_COUNT(exemption_kind_names)) {
        pst_ydiag(diag, file, kind, "exemption kind must be mitigated or waiver, not '%s'",
                  pst_ynode_text(kind));
        return;
    }
    if (pst_ynode_text(reason)[0] == '\0') {
        pst_ydiag(diag, file, reason, "an exemption needs a reason");
        return;
    }
    if (expires != NULL && !valid_date(pst_ynode_text(expires))) {
        pst_ydiag(diag, file, expires, "expires must be a date YYYY-MM-DD, not '%s'",
                  pst_ynode_text(expires));
        return;
    }
    ex = &config->exemptions[config->n_exemptions++];
    ex->recommendation = pst_ynode_text(rec);
    ex->kind = (enum pst_exemption_kind)k;
    ex->reason = pst_ynode_text(reason);
    snprintf(ex->expires, sizeof(ex->expires), "%s", expires ? pst_ynode_text(expires) : "");
    ex->line = node->line;
    ex->column = node->column;
}

/* Sets the state directory (DIR, or the default) and the policy cache within it. */
static bool set_state_dir(struct pst_config *config, const char *dir)
{
    if (dir != NULL && dir == config->state_dir) {
        return true;
    }
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
    struct pst_ynode *root;
    size_t errors_before = pst_diag_errors(diag);

    *out = NULL;
    if (config == NULL) {
        return PST_ENOMEM;
    }
    collector_defaults(&config->collector);
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
    root = pst_yaml_load_file(path, diag, NULL, NULL);
    if (root == NULL) {
        goto out;
    }
    config->tree = (struct pst_ytree_head *)(void *)root - 1;
    if (!pst_ymap_check(diag, path, root, "the agent configuration", config_keys,
                        PST_COUNT(config_keys))) {
        goto out;
    }
    config->parameters = pst_ymap_get_kind(root, "parameters", PST_Y_MAP);
    if (pst_ymap_get_kind(root, "collector", PST_Y_MAP) != NULL) {
        load_collector(config, pst_ymap_get_kind(root, "collector", PST_Y_MAP), diag);
    }
    state_dir = pst_ymap_get_kind(root, "state_dir", PST_Y_SCALAR);
    if (state_dir != NULL && pst_ynode_text(state_dir)[0] != '/') {
        pst_ydiag(diag, path, state_dir, "state_dir must be an absolute path, not '%s'",
                  pst_ynode_text(state_dir));
    } else if (state_dir != NULL && !set_state_dir(config, pst_ynode_text(state_dir))) {
        pst_config_free(config);
        return PST_ENOMEM;
    }
    exemptions = pst_ymap_get_kind(root, "exemptions", PST_Y_SEQ);
    if (exemptions != NULL && exemptions->n > 0) {
        config->exemptions = calloc(exemptions->n, sizeof(*config->exemptions));
        if (config->exemptions == NULL) {
            pst_config_free(config);
            return PST_ENOMEM;
        }
        for (size_t i = 0; i < exemptions->n; i++) {
            load_exemption(config, pst_ynode_item(exemptions, i), diag);
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

int pst_config_set_state_dir(struct pst_config *config, const char *dir)
{
    return set_state_dir(config, dir) ? PST_OK : PST_ENOMEM;
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
    if (config->tree != NULL) {
        pst_ynode_free(pst_ytree_root(config->tree));
    }
    free(config->path);
    free(config);
}
