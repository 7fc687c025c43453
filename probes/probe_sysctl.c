/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Probe "sysctl": one kernel parameter, its running value (/proc/sys) and the value the next
 * boot applies, resolved from sysctl.d exactly as systemd-sysctl resolves it.
 */
#include "probes/probe.h"

#include "agent/error.h"
#include "probes/confdirs.h"
#include "probes/text.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MEMO_KEY "sysctl.persisted"
/* systemd-sysctl reads lines of at most LONG_LINE_MAX (1 MiB); a longer one stops the file. */
#define LINE_MAX_BYTES (1024u * 1024u)
/* A value under /proc/sys is small; this bounds a hostile or odd one. */
#define RUNTIME_LIMIT (64u * 1024u)
#define KEY_MAX 512
#define WARNINGS_MAX 20

/* systemd-sysctl's search path, highest precedence first (CONF_PATHS("sysctl.d")). */
static const char *const sysctl_dirs[] = {
    "/etc/sysctl.d",
    "/run/sysctl.d",
    "/usr/local/lib/sysctl.d",
    "/usr/lib/sysctl.d",
};
/* the source of a value no file sets */
#define SYSCTL_DIRS_TEXT "not set in sysctl.d"

static const struct pst_probe_arg sysctl_args[] = {
    {.name = "key",
     .type = PST_TYPE_STRING,
     .required = true,
     .description = "the parameter as sysctl names it: net.ipv4.ip_forward or net/ipv4/ip_forward"},
};

static const struct pst_probe_field sysctl_fields[] = {
    {"available", PST_TYPE_BOOL,
     "the running kernel has the parameter (/proc/sys); true for an offline root"},
    {"runtime", PST_TYPE_STRING,
     "the running value from /proc/sys, blanks collapsed; on an offline root the persisted "
     "value (an error when nothing sets it)"},
    {"runtime_number", PST_TYPE_INT,
     "the running value as one integer (as the kernel reads it: 0x hex, 0 octal); null if not one"},
    {"persisted", PST_TYPE_STRING,
     "the value the next boot applies, from sysctl.d as systemd-sysctl resolves it, with the "
     "winning file:line; null when no file sets it"},
    {"persisted_number", PST_TYPE_INT, "the persisted value as one integer; null if not one"},
};

/* Removes leading and trailing whitespace in place, as systemd's strstrip(). */
static char *strip(char *s)
{
    char *end;

    s += strspn(s, " \t\n\r");
    end = s + strlen(s);
    while (end > s && strchr(" \t\n\r", end[-1]) != NULL) {
        *--end = '\0';
    }
    return s;
}

/* Collapses runs of whitespace to one space, in place, after strip(). */
static void collapse_blanks(char *s)
{
    char *w = s;
    bool blank = false;

    for (char *r = s; *r != '\0'; r++) {
        if (strchr(" \t\n\r", *r) != NULL) {
            blank = true;
            continue;
        }
        if (blank && w != s) {
            *w++ = ' ';
        }
        blank = false;
        *w++ = *r;
    }
    *w = '\0';
}

/*
 * Normalises a key in place as systemd's sysctl_normalize(): when the first separator is a
 * dot, dots and slashes swap (net.ipv4.conf.eth0/100.rp_filter is the interface "eth0.100");
 * then repeated slashes and "." components go, and the leading slash.
 */
static void normalize_key(char *s)
{
    char *n = strpbrk(s, "/.");
    char *r, *w;

    if (n != NULL && *n == '.') {
        for (; n != NULL; n = strpbrk(n + 1, "/.")) {
            *n = *n == '.' ? '/' : '.';
        }
    }
    /* path_simplify(): drop empty and "." components */
    r = s;
    w = s;
    while (*r != '\0') {
        size_t len;
        while (*r == '/') {
            r++;
        }
        len = strcspn(r, "/");
        if (len == 0) {
            break;
        }
        if (!(len == 1 && r[0] == '.')) {
            if (w != s) {
                *w++ = '/';
            }
            memmove(w, r, len);
            w += len;
        }
        r += len;
    }
    *w = '\0';
}

static bool is_glob(const char *s)
{
    return strpbrk(s, "*?[") != NULL;
}

/* An integer as the kernel's proc handlers read one: optional '-', then base 0 digits. */
static json_t *number_of(const char *value)
{
    const char *p = value;
    char *end;
    long long n;

    if (*p == '-') {
        p++;
    }
    if (!isdigit((unsigned char)*p)) {
        return json_null();
    }
    errno = 0;
    n = strtoll(value, &end, 0);
    if (errno != 0 || *end != '\0') {
        return json_null();
    }
    return json_integer(n);
}

struct persisted {
    json_t *explicit_keys; /* normalised key -> {value, source}, value null for "-key" */
    json_t *globs;         /* [{pattern, value, source}] in systemd's application order */
    json_t *warnings;
    char *error; /* a file that could not be read: every persisted answer is unknown */
};

static void warn(struct persisted *p, const char *path, long line, const char *what)
{
    char text[PATH_MAX + 128];

    if (json_array_size(p->warnings) < WARNINGS_MAX) {
        snprintf(text, sizeof(text), "%s:%ld: %s", path, line, what);
        json_array_append_new(p->warnings, pst_json_text(text));
    }
}

/* Records one assignment as systemd-sysctl's parse_file() does. VALUE NULL: "-key". */
static int assign(struct persisted *p, const char *key, const char *value, const char *path,
                  long line)
{
    json_t *entry;
    char source[PATH_MAX + 32];

    snprintf(source, sizeof(source), "%s:%ld", path, line);
    if (is_glob(key)) {
        size_t i;
        json_t *g;
        json_array_foreach(p->globs, i, g)
        {
            if (strcmp(json_string_value(json_object_get(g, "pattern")), key) != 0) {
                continue;
            }
            const char *old = json_string_value(json_object_get(g, "value"));
            if ((old == NULL && value == NULL) ||
                (old != NULL && value != NULL && strcmp(old, value) == 0)) {
                return PST_OK; /* the same value keeps its earlier place and source */
            }
            /* a new value is a new entry at the end of the order */
            json_array_remove(p->globs, i);
            break;
        }
        /* kept as read (never printed); the source is made printable */
        entry = json_pack("{s:o, s:o, s:o}", "pattern", json_string_nocheck(key), "value",
                          value ? json_string_nocheck(value) : json_null(), "source",
                          pst_json_text(source));
        return entry != NULL && json_array_append_new(p->globs, entry) == 0 ? PST_OK : PST_ENOMEM;
    }
    entry = json_object_get(p->explicit_keys, key);
    if (entry != NULL) {
        const char *old = json_string_value(json_object_get(entry, "value"));
        if ((old == NULL && value == NULL) ||
            (old != NULL && value != NULL && strcmp(old, value) == 0)) {
            return PST_OK;
        }
    }
    entry = json_pack("{s:o, s:o}", "value", value ? json_string_nocheck(value) : json_null(),
                      "source", pst_json_text(source));
    return entry != NULL && json_object_set_new_nocheck(p->explicit_keys, key, entry) == 0
               ? PST_OK
               : PST_ENOMEM;
}

static int parse_file(struct persisted *p, char *buf, const char *path)
{
    char *cursor = buf;
    char *line;
    long lineno = 0;

    while ((line = pst_text_next_line(&cursor, &lineno)) != NULL) {
        char *key, *value = NULL, *eq;
        int rc;
        if (strlen(line) >= LINE_MAX_BYTES) {
            if (asprintf(&p->error, "%s:%ld: line longer than 1 MiB", path, lineno) < 0) {
                p->error = NULL;
                return PST_ENOMEM;
            }
            return PST_OK;
        }
        key = strip(line);
        if (*key == '\0' || *key == '#' || *key == ';') {
            continue;
        }
        eq = strchr(key, '=');
        if (eq != NULL) {
            *eq = '\0';
            value = strip(eq + 1);
            if (*key == '-') {
                key++; /* "-key = value": a failure to write it is ignored */
            }
        } else if (*key == '-') {
            key++; /* "-key": excludes key from the globs, sets nothing */
        } else {
            warn(p, path, lineno, "not an assignment, ignored (as systemd-sysctl does)");
            continue;
        }
        key = strip(key);
        normalize_key(key);
        if (*key == '\0') {
            continue;
        }
        rc = assign(p, key, value, path, lineno);
        if (rc != PST_OK) {
            return rc;
        }
    }
    return PST_OK;
}

/* One sysctl.d file; a file that leaves an error (p->error) ends the reading. */
static int parse_persisted_file(void *state, char *text, const char *path)
{
    struct persisted *p = state;
    int rc = parse_file(p, text, path);
    return rc == PST_OK && p->error != NULL ? PST_EPARSE : rc;
}

/* Reads every sysctl.d file once per scan, into the memo. */
static int load_persisted(struct pst_probe_ctx *ctx, struct persisted *p)
{
    static const char *const suffixes[] = {".conf", NULL};
    return pst_confdirs_read(ctx->fs, sysctl_dirs, PST_COUNT(sysctl_dirs), suffixes,
                             parse_persisted_file, p, &p->error);
}

static const json_t *persisted_memo(struct pst_probe_ctx *ctx, int *rc)
{
    json_t *memo = json_object_get(ctx->memo, MEMO_KEY);
    struct persisted p = {0};

    *rc = PST_OK;
    if (memo != NULL) {
        return memo;
    }
    p.explicit_keys = json_object();
    p.globs = json_array();
    p.warnings = json_array();
    if (p.explicit_keys == NULL || p.globs == NULL || p.warnings == NULL) {
        *rc = PST_ENOMEM;
        goto out;
    }
    *rc = load_persisted(ctx, &p);
    if (*rc != PST_OK) {
        goto out;
    }
    memo = json_pack("{s:O, s:O, s:O, s:s?}", "explicit", p.explicit_keys, "globs", p.globs,
                     "warnings", p.warnings, "error", p.error);
    if (memo == NULL || json_object_set_new(ctx->memo, MEMO_KEY, memo) != 0) {
        *rc = PST_ENOMEM;
        memo = NULL;
    }
out:
    json_decref(p.explicit_keys);
    json_decref(p.globs);
    json_decref(p.warnings);
    free(p.error);
    return memo;
}

/*
 * The persisted value of KEY (normalised): an explicit assignment wins over every glob (a
 * "-key" line too, which leaves the kernel's default); else the last matching glob in
 * systemd-sysctl's order, which writes later globs over earlier ones. Sets *value (borrowed,
 * NULL when nothing sets it) and *source.
 */
static void resolve(const json_t *memo, const char *key, const char **value, const char **source)
{
    const json_t *entry = json_object_get(json_object_get(memo, "explicit"), key);
    size_t i;
    const json_t *g;

    *value = NULL;
    *source = NULL;
    if (entry != NULL) {
        *value = json_string_value(json_object_get(entry, "value"));
        *source = json_string_value(json_object_get(entry, "source"));
        return;
    }
    json_array_foreach(json_object_get(memo, "globs"), i, g)
    {
        const char *v = json_string_value(json_object_get(g, "value"));
        /* glob(3) over /proc/sys: '*' stays inside one path component */
        if (v != NULL && fnmatch(json_string_value(json_object_get(g, "pattern")), key,
                                 FNM_PATHNAME | FNM_PERIOD) == 0) {
            *value = v;
            *source = json_string_value(json_object_get(g, "source"));
        }
    }
}

/* Sets FIELD and FIELD_number from VALUE (NULL: absent). */
static int set_value(struct pst_facts *out, const char *field, const char *value,
                     const char *source)
{
    char number_field[64];
    char *copy = NULL;
    json_t *text, *number;
    int rc;

    snprintf(number_field, sizeof(number_field), "%s_number", field);
    if (value == NULL) {
        if (pst_facts_set(out, field, json_null(), source) != PST_OK) {
            return PST_ENOMEM;
        }
        return pst_facts_set(out, number_field, json_null(), source);
    }
    copy = strdup(value);
    if (copy == NULL) {
        return PST_ENOMEM;
    }
    collapse_blanks(strip(copy));
    text = pst_json_text(strip(copy));
    number = number_of(strip(copy));
    rc = pst_facts_set(out, field, text, source);
    if (rc == PST_OK) {
        rc = pst_facts_set(out, number_field, number, source);
    } else {
        json_decref(number);
    }
    free(copy);
    return rc;
}

static int collect_key(struct pst_probe_ctx *ctx, const json_t *args, struct pst_facts *out,
                       const json_t **memo_out)
{
    const char *given = json_string_value(json_object_get(args, "key"));
    char key[KEY_MAX + 1];
    char proc[KEY_MAX + 16];
    const json_t *memo;
    const char *value = NULL, *source = NULL;
    const char *error;
    int rc;

    if (strlen(given) > KEY_MAX) {
        pst_facts_error(out, NULL, "sysctl key longer than %d characters", KEY_MAX);
        return PST_OK;
    }
    snprintf(key, sizeof(key), "%s", given);
    normalize_key(key);
    if (key[0] == '\0' || is_glob(key) || strcmp(key, "..") == 0 || strncmp(key, "../", 3) == 0 ||
        strstr(key, "/../") != NULL ||
        (strlen(key) >= 3 && strcmp(key + strlen(key) - 3, "/..") == 0)) {
        pst_facts_error(out, NULL, "'%s' is not a sysctl key", given);
        return PST_OK;
    }
    snprintf(proc, sizeof(proc), "/proc/sys/%s", key);

    memo = persisted_memo(ctx, &rc);
    if (rc != PST_OK) {
        return rc;
    }
    *memo_out = memo;
    error = json_string_value(json_object_get(memo, "error"));
    if (error != NULL) {
        pst_facts_error(out, NULL, "%s", error);
    } else {
        resolve(memo, key, &value, &source);
        rc = set_value(out, "persisted", value, source ? source : SYSCTL_DIRS_TEXT);
        if (rc != PST_OK) {
            return rc;
        }
    }

    if (!pst_fs_is_live(ctx->fs)) {
        /* An offline root runs no kernel: the next boot applies what is persisted. */
        if (pst_facts_set(out, "available", json_true(), "offline root") != PST_OK) {
            return PST_ENOMEM;
        }
        if (error == NULL && value != NULL) {
            return set_value(out, "runtime", value, source);
        }
        if (error == NULL) {
            pst_facts_error(out, proc,
                            "%s: not available for an offline root, and no sysctl.d file sets it",
                            proc);
        }
        return PST_OK;
    }
    char *buf = NULL;
    size_t len;
    rc = pst_fs_read(ctx->fs, proc, RUNTIME_LIMIT, true, &buf, &len);
    if (rc == PST_ENOENT) {
        if (pst_facts_set(out, "available", json_false(), proc) != PST_OK) {
            return PST_ENOMEM;
        }
        return set_value(out, "runtime", NULL, proc);
    }
    if (rc == PST_ENOMEM) {
        return rc;
    }
    if (rc != PST_OK) {
        pst_facts_error(out, proc, "read %s: %s", proc, pst_strerror(rc));
        return PST_OK;
    }
    rc = pst_facts_set(out, "available", json_true(), proc);
    if (rc == PST_OK) {
        rc = set_value(out, "runtime", buf, proc);
    }
    free(buf);
    return rc;
}

static int sysctl_collect(struct pst_probe_ctx *ctx, const json_t *args, struct pst_facts *out)
{
    const json_t *memo = NULL;
    size_t i;
    const json_t *w;
    int rc = collect_key(ctx, args, out, &memo);

    /* lines systemd-sysctl ignores are worth a word, after the errors that decide */
    json_array_foreach(json_object_get(memo, "warnings"), i, w)
    {
        pst_facts_error(out, NULL, "%s", json_string_value(w));
    }
    return rc;
}

const struct pst_probe pst_probe_sysctl = {
    .name = "sysctl",
    .summary = "a kernel parameter: its running value and the value sysctl.d persists",
    .args = sysctl_args,
    .n_args = PST_COUNT(sysctl_args),
    .fields = sysctl_fields,
    .n_fields = PST_COUNT(sysctl_fields),
    .collect = sysctl_collect,
};
