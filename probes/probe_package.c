/* SPDX-License-Identifier: Apache-2.0 */
/* Probe "package": whether a Debian package is installed, and its version, from dpkg's status. */
#include "probes/probe.h"

#include "agent/error.h"
#include "probes/dpkg_status.h"
#include "probes/text.h"

#include <stdlib.h>
#include <string.h>

#define DPKG_STATUS_LIMIT (128u * 1024u * 1024u)

static const struct pst_probe_arg package_args[] = {
    {.name = "name",
     .type = PST_TYPE_STRING,
     .required = true,
     .description = "package name, optionally with :architecture"},
};

static const struct pst_probe_field package_fields[] = {
    {"installed", PST_TYPE_BOOL,
     "the package's files are on the system: any dpkg state but not-installed and config-files"},
    {"configured", PST_TYPE_BOOL, "dpkg's state is \"installed\": unpacked and configured"},
    {"state", PST_TYPE_STRING,
     "dpkg's state: installed, unpacked, half-configured, triggers-pending, config-files... "
     "or not-installed"},
    {"status", PST_TYPE_STRING, "the whole Status line (want flag state)"},
    {"version", PST_TYPE_STRING, "the Version dpkg records for it; null when it has none"},
    {"architecture", PST_TYPE_STRING, "package architecture"},
};

/* dpkg states in which none of the package's files (but conffiles) are on the system. */
static bool files_absent(const char *state)
{
    return strcmp(state, "not-installed") == 0 || strcmp(state, "config-files") == 0;
}

/* One stanza being read. */
struct stanza {
    const char *package, *status, *version, *arch;
    long line;
};

/* Appends SRC to KEY (512 bytes) at AT, keeping what fits; returns the new length. */
static size_t key_put(char key[512], size_t at, const char *src)
{
    size_t n = strlen(src);

    if (at + n > 511) {
        n = 511 - at;
    }
    memcpy(key + at, src, n);
    key[at + n] = '\0';
    return at + n;
}

static int index_stanza(json_t *index, const struct stanza *s)
{
    json_t *entry;
    char key[512];
    size_t at;

    if (s->package == NULL) {
        return PST_OK;
    }
    /* built key by key: json_pack would parse a format for each of a thousand stanzas */
    entry = json_object();
    if (json_object_set_new_nocheck(entry, "status", pst_json_text(s->status ? s->status : "")) !=
            0 ||
        json_object_set_new_nocheck(entry, "version",
                                    s->version ? pst_json_text(s->version) : json_null()) != 0 ||
        json_object_set_new_nocheck(entry, "architecture",
                                    s->arch ? pst_json_text(s->arch) : json_null()) != 0 ||
        json_object_set_new_nocheck(entry, "line", json_integer((json_int_t)s->line)) != 0) {
        json_decref(entry);
        return PST_ENOMEM;
    }
    /* "NAME:ARCH", cut to the buffer as snprintf would (and without its cost) */
    at = key_put(key, 0, s->package);
    at = key_put(key, at, ":");
    key_put(key, at, s->arch ? s->arch : "");
    /* The index is never printed: names that are not UTF-8 are kept as they are. */
    if (json_object_set_nocheck(index, key, entry) != 0) {
        json_decref(entry);
        return PST_ENOMEM;
    }
    /*
     * The bare name resolves to an installed instance when there is one (as dpkg-query
     * does for a multi-arch package), else to the first stanza seen.
     */
    json_t *prev = json_object_get(index, s->package);
    const char *prev_status = prev ? json_string_value(json_object_get(prev, "status")) : NULL;
    const char *prev_state =
        prev_status && strrchr(prev_status, ' ') ? strrchr(prev_status, ' ') + 1 : "";
    if (prev == NULL || files_absent(prev_state)) {
        if (json_object_set_nocheck(index, s->package, entry) != 0) {
            json_decref(entry);
            return PST_ENOMEM;
        }
    }
    json_decref(entry);
    return PST_OK;
}

const json_t *pst_dpkg_status_index(struct pst_probe_ctx *ctx, struct pst_facts *out, int *rc)
{
    json_t *index = json_object_get(ctx->memo, DPKG_STATUS);
    struct stanza s = {0};
    char *buf = NULL;
    char *cursor;
    char *line;
    long lineno = 0;
    size_t len;

    *rc = PST_OK;
    if (index != NULL) {
        return json_is_object(index) ? index : NULL;
    }
    *rc = pst_fs_read(ctx->fs, DPKG_STATUS, DPKG_STATUS_LIMIT, true, &buf, &len);
    if (*rc != PST_OK) {
        /* Remember the failure so that every package query reports it without rereading. */
        json_object_set_new(ctx->memo, DPKG_STATUS, json_string(pst_strerror(*rc)));
        return NULL;
    }
    index = json_object();
    if (index == NULL) {
        *rc = PST_ENOMEM;
        goto out;
    }
    cursor = buf;
    while ((line = pst_text_next_line(&cursor, &lineno)) != NULL) {
        if (*line == '\0') {
            *rc = index_stanza(index, &s);
            memset(&s, 0, sizeof(s));
        } else if (*line == ' ' || *line == '\t') {
            continue; /* most lines continue a field (Description, Conffiles) */
        } else if (strncmp(line, "Package:", 8) == 0) {
            s.package = pst_text_skip_blanks(line + 8);
            s.line = lineno;
        } else if (strncmp(line, "Status:", 7) == 0) {
            s.status = pst_text_skip_blanks(line + 7);
        } else if (strncmp(line, "Version:", 8) == 0) {
            s.version = pst_text_skip_blanks(line + 8);
        } else if (strncmp(line, "Architecture:", 13) == 0) {
            s.arch = pst_text_skip_blanks(line + 13);
        }
        if (*rc != PST_OK) {
            goto out;
        }
    }
    *rc = index_stanza(index, &s);
    if (*rc == PST_OK && json_object_set(ctx->memo, DPKG_STATUS, index) != 0) {
        *rc = PST_ENOMEM;
    }
out:
    free(buf);
    json_decref(index); /* the memo holds it now */
    (void)out;
    return *rc == PST_OK ? index : NULL;
}

static int package_collect(struct pst_probe_ctx *ctx, const json_t *args, struct pst_facts *out)
{
    const char *name = json_string_value(json_object_get(args, "name"));
    const json_t *index;
    const json_t *entry;
    const char *status;
    const char *state;
    char source[64];
    int rc;

    index = pst_dpkg_status_index(ctx, out, &rc);
    if (rc == PST_ENOMEM) {
        return rc;
    }
    if (index == NULL) {
        const char *why = json_string_value(json_object_get(ctx->memo, DPKG_STATUS));
        pst_facts_error(out, DPKG_STATUS, "read %s: %s", DPKG_STATUS, why ? why : "failed");
        return PST_OK;
    }
    entry = json_object_get(index, name);
    if (entry == NULL) {
        if (pst_facts_set(out, "installed", json_false(), DPKG_STATUS) != 0 ||
            pst_facts_set(out, "configured", json_false(), DPKG_STATUS) != 0 ||
            pst_facts_set(out, "state", json_string("not-installed"), DPKG_STATUS) != 0 ||
            pst_facts_set(out, "status", json_null(), DPKG_STATUS) != 0 ||
            pst_facts_set(out, "version", json_null(), DPKG_STATUS) != 0 ||
            pst_facts_set(out, "architecture", json_null(), DPKG_STATUS) != 0) {
            return PST_ENOMEM;
        }
        return PST_OK;
    }
    snprintf(source, sizeof(source), "%s:%lld", DPKG_STATUS,
             (long long)json_integer_value(json_object_get(entry, "line")));
    status = json_string_value(json_object_get(entry, "status"));
    state = strrchr(status, ' ') ? strrchr(status, ' ') + 1 : status;
    if (*state == '\0') {
        state = "unknown";
    }
    if (pst_facts_set(out, "installed", json_boolean(!files_absent(state)), source) != 0 ||
        pst_facts_set(out, "configured", json_boolean(strcmp(state, "installed") == 0), source) !=
            0 ||
        pst_facts_set(out, "state", json_string(state), source) != 0 ||
        pst_facts_set(out, "status", json_string(status), source) != 0 ||
        pst_facts_set(out, "version", json_incref(json_object_get(entry, "version")), source) !=
            0 ||
        pst_facts_set(out, "architecture", json_incref(json_object_get(entry, "architecture")),
                      source) != 0) {
        return PST_ENOMEM;
    }
    return PST_OK;
}

const struct pst_probe pst_probe_package = {
    .name = "package",
    .summary = "whether a Debian package is installed, and its version (dpkg status)",
    .args = package_args,
    .n_args = PST_COUNT(package_args),
    .fields = package_fields,
    .n_fields = PST_COUNT(package_fields),
    .collect = package_collect,
};
