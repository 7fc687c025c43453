/* SPDX-License-Identifier: Apache-2.0 */
/* Probe "os": os-release identity, kernel release, hostname and machine id. */
#include "probes/probe.h"

#include "agent/error.h"
#include "probes/text.h"

#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

static const struct pst_probe_field os_fields[] = {
    {"id", PST_TYPE_STRING, "os-release ID (debian, ubuntu...)"},
    {"id_like", PST_TYPE_LIST, "os-release ID_LIKE, split on blanks"},
    {"name", PST_TYPE_STRING, "os-release NAME"},
    {"version_id", PST_TYPE_STRING, "os-release VERSION_ID"},
    {"version_codename", PST_TYPE_STRING, "os-release VERSION_CODENAME"},
    {"pretty_name", PST_TYPE_STRING, "os-release PRETTY_NAME"},
    {"kernel", PST_TYPE_STRING, "running kernel release (live systems only)"},
    {"hostname", PST_TYPE_STRING, "host name (live: uname; offline root: /etc/hostname)"},
    {"machine_id", PST_TYPE_STRING, "/etc/machine-id"},
};

/* os-release keys and the fields they fill. */
static const struct {
    const char *key;
    const char *field;
    bool list;
} os_release_keys[] = {
    {"ID", "id", false},
    {"ID_LIKE", "id_like", true},
    {"NAME", "name", false},
    {"VERSION_ID", "version_id", false},
    {"VERSION_CODENAME", "version_codename", false},
    {"PRETTY_NAME", "pretty_name", false},
};

/* Removes shell quoting from an os-release value in place (os-release(5)). */
static void shell_unquote(char *s)
{
    char *r = s, *w = s;
    char quote = 0;

    for (; *r != '\0'; r++) {
        if (quote == 0 && (*r == '"' || *r == '\'')) {
            quote = *r;
        } else if (quote != 0 && *r == quote) {
            quote = 0;
        } else if (quote != '\'' && *r == '\\' && r[1] != '\0') {
            *w++ = *++r;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
}

static json_t *split_words(const char *s)
{
    json_t *list = json_array();
    const char *p = s;

    while (list != NULL && *p != '\0') {
        size_t n;
        p += strspn(p, " \t");
        n = strcspn(p, " \t");
        if (n > 0) {
            char *word = strndup(p, n);
            json_t *value = word != NULL ? pst_json_text(word) : NULL;
            free(word);
            if (json_array_append_new(list, value) != 0) {
                json_decref(list);
                return NULL;
            }
        }
        p += n;
    }
    return list;
}

static int read_os_release(struct pst_probe_ctx *ctx, struct pst_facts *out)
{
    static const char *const paths[] = {"/etc/os-release", "/usr/lib/os-release"};
    char *buf = NULL;
    const char *path = NULL;
    size_t len;
    int rc = PST_ENOENT;

    for (size_t i = 0; i < PST_COUNT(paths) && rc == PST_ENOENT; i++) {
        path = paths[i];
        rc = pst_fs_read(ctx->fs, path, PST_FS_TEXT_LIMIT, true, &buf, &len);
    }
    if (rc == PST_ENOMEM) {
        return rc;
    }
    if (rc != PST_OK) {
        pst_facts_error(out, path, "read %s: %s", path, pst_strerror(rc));
        return PST_OK;
    }
    char *cursor = buf;
    char *line;
    long lineno = 0;
    while ((line = pst_text_next_line(&cursor, &lineno)) != NULL) {
        char *eq = strchr(line, '=');
        if (*line == '#' || eq == NULL) {
            continue;
        }
        *eq = '\0';
        for (size_t k = 0; k < PST_COUNT(os_release_keys); k++) {
            json_t *value;
            if (strcmp(line, os_release_keys[k].key) != 0) {
                continue;
            }
            shell_unquote(eq + 1);
            value = os_release_keys[k].list ? split_words(eq + 1) : pst_json_text(eq + 1);
            if (pst_facts_set_at(out, os_release_keys[k].field, value, path, lineno) != 0) {
                rc = PST_ENOMEM;
                goto out;
            }
        }
    }
    /* Absent keys are absent facts (null), not errors: ID_LIKE is optional. */
    for (size_t k = 0; k < PST_COUNT(os_release_keys); k++) {
        if (pst_facts_get(out, os_release_keys[k].field) == NULL &&
            pst_facts_set(out, os_release_keys[k].field, json_null(), path) != 0) {
            rc = PST_ENOMEM;
            goto out;
        }
    }
out:
    free(buf);
    return rc == PST_ENOMEM ? rc : PST_OK;
}

/* Sets FIELD to the first line of PATH. */
static int first_line_fact(struct pst_probe_ctx *ctx, struct pst_facts *out, const char *field,
                           const char *path)
{
    char *buf = NULL;
    size_t len;
    int rc = pst_fs_read(ctx->fs, path, 4096, true, &buf, &len);

    if (rc == PST_ENOMEM) {
        return rc;
    }
    if (rc == PST_ENOENT) {
        return pst_facts_set(out, field, json_null(), path);
    }
    if (rc != PST_OK) {
        pst_facts_error(out, path, "read %s: %s", path, pst_strerror(rc));
        return PST_OK;
    }
    buf[strcspn(buf, "\r\n")] = '\0';
    rc = pst_facts_set_at(out, field, pst_json_text(buf), path, 1);
    free(buf);
    return rc;
}

static int os_collect(struct pst_probe_ctx *ctx, const json_t *args, struct pst_facts *out)
{
    struct utsname uts;
    int rc;

    (void)args;
    rc = read_os_release(ctx, out);
    if (rc == PST_OK) {
        rc = first_line_fact(ctx, out, "machine_id", "/etc/machine-id");
    }
    if (rc != PST_OK) {
        return rc;
    }
    if (!pst_fs_is_live(ctx->fs)) {
        pst_facts_error(out, "kernel", "kernel: not available for an offline root");
        return first_line_fact(ctx, out, "hostname", "/etc/hostname");
    }
    if (uname(&uts) != 0) {
        pst_facts_error(out, "uname", "uname failed");
        return PST_OK;
    }
    if (pst_facts_set(out, "kernel", pst_json_text(uts.release), "uname") != 0 ||
        pst_facts_set(out, "hostname", pst_json_text(uts.nodename), "uname") != 0) {
        return PST_ENOMEM;
    }
    return PST_OK;
}

const struct pst_probe pst_probe_os = {
    .name = "os",
    .summary = "operating system identity (os-release), kernel, hostname, machine id",
    .fields = os_fields,
    .n_fields = PST_COUNT(os_fields),
    .collect = os_collect,
};
