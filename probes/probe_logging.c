/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Probe "logging": journald's storage, compression and forwarding (journald.conf and its
 * drop-ins, in systemd's precedence), rsyslog's FileCreateMode (rsyslog.conf and the files
 * it includes), and the permissions of the files under /var/log.
 */
#include "probes/probe.h"

#include "agent/error.h"
#include "probes/findings.h"
#include "probes/text.h"

#include <fnmatch.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* Bounds of the /var/log walk: a log directory of millions of files is an error. */
#define LOG_WALK_DEPTH 8
#define LOG_WALK_ENTRIES 50000
/* Nesting of rsyslog includes. */
#define RSYSLOG_INCLUDE_DEPTH 8

static const struct pst_probe_arg logging_args[] = {
    {.name = "log_max_mode",
     .type = PST_TYPE_MODE,
     .default_value = "0640",
     .description = "most permissive mode of a file under /var/log (login records: plus group "
                    "write, 0664)"},
    {.name = "max_findings",
     .type = PST_TYPE_INT,
     .default_value = "20",
     .description = "findings kept as evidence per field; the counts count them all"},
};

static const struct pst_probe_field logging_fields[] = {
    {"journald_storage", PST_TYPE_STRING, "journald Storage= (auto by default)"},
    {"journald_persistent", PST_TYPE_BOOL,
     "the journal is kept on disk: Storage=persistent, or auto with /var/log/journal present"},
    {"journald_compress", PST_TYPE_BOOL, "journald Compress= (yes by default)"},
    {"journald_forward_to_syslog", PST_TYPE_BOOL,
     "journald ForwardToSyslog= (yes by default on Debian)"},
    {"rsyslog_conf_exists", PST_TYPE_BOOL, "/etc/rsyslog.conf exists"},
    {"rsyslog_file_create_mode", PST_TYPE_MODE,
     "the mode rsyslog gives the log files it creates ($FileCreateMode or omfile's "
     "fileCreateMode; 0644 by default); null without rsyslog.conf"},
    {"log_files", PST_TYPE_INT, "files checked under /var/log"},
    {"log_files_too_open", PST_TYPE_FINDINGS,
     "files under /var/log more permissive than log_max_mode {path, mode}"},
    {"log_files_too_open_count", PST_TYPE_INT, "how many"},
};

static bool parse_bool(const char *v, bool *out)
{
    static const char *const yes[] = {"1", "yes", "y", "true", "t", "on"};
    static const char *const no[] = {"0", "no", "n", "false", "f", "off"};

    for (size_t i = 0; i < PST_COUNT(yes); i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            *out = true;
            return true;
        }
        if (strcasecmp(v, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

struct journald {
    char storage[32];
    char storage_source[PATH_MAX + 32];
    bool compress, forward;
    char compress_source[PATH_MAX + 32], forward_source[PATH_MAX + 32];
};

/* Applies the [Journal] section of one file. */
static int journald_file(struct pst_probe_ctx *ctx, struct pst_facts *out, const char *path,
                         struct journald *j)
{
    char *buf = NULL, *cursor, *line;
    size_t len;
    long lineno = 0;
    bool in_journal = false;
    int rc = pst_fs_read(ctx->fs, path, PST_FS_TEXT_LIMIT, true, &buf, &len);

    if (rc != PST_OK) {
        if (rc != PST_ENOENT) {
            pst_facts_error(out, path, "read %s: %s", path, pst_strerror(rc));
        }
        return rc;
    }
    cursor = buf;
    while ((line = pst_text_next_line(&cursor, &lineno)) != NULL) {
        char source[PATH_MAX + 32];
        char *p = pst_text_skip_blanks(line);
        char *eq;
        bool b;
        pst_text_rstrip(p);
        if (*p == '#' || *p == ';' || *p == '\0') {
            continue;
        }
        if (*p == '[') {
            in_journal = strcmp(p, "[Journal]") == 0;
            continue;
        }
        eq = strchr(p, '=');
        if (!in_journal || eq == NULL) {
            continue;
        }
        *eq = '\0';
        pst_text_rstrip(p);
        char *value = pst_text_skip_blanks(eq + 1);
        snprintf(source, sizeof(source), "%s:%ld", path, lineno);
        if (strcmp(p, "Storage") == 0) {
            snprintf(j->storage, sizeof(j->storage), "%s", value[0] ? value : "auto");
            snprintf(j->storage_source, sizeof(j->storage_source), "%s", source);
        } else if (strcmp(p, "Compress") == 0 || strcmp(p, "ForwardToSyslog") == 0) {
            bool compress = p[0] == 'C';
            /* Compress= also takes a threshold size, which means yes */
            if (!parse_bool(value, &b)) {
                if (!compress) {
                    pst_facts_error(out, path, "%s: ForwardToSyslog is not a boolean", source);
                    continue;
                }
                b = true;
            }
            *(compress ? &j->compress : &j->forward) = b;
            snprintf(compress ? j->compress_source : j->forward_source, sizeof(j->forward_source),
                     "%s", source);
        }
    }
    free(buf);
    return PST_OK;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int journald_facts(struct pst_probe_ctx *ctx, struct pst_facts *out)
{
    static const char *const dirs[] = {
        "/etc/systemd/journald.conf.d", "/run/systemd/journald.conf.d",
        "/usr/local/lib/systemd/journald.conf.d", "/usr/lib/systemd/journald.conf.d"};
    struct journald j = {.storage = "auto", .compress = true, .forward = true};
    json_t *dropins = json_object(); /* name -> path of the directory that wins */
    const char *name;
    json_t *path;
    struct stat st;
    bool persistent;
    int rc;

    if (dropins == NULL) {
        return PST_ENOMEM;
    }
    rc = journald_file(ctx, out, "/etc/systemd/journald.conf", &j);
    if (rc != PST_OK && rc != PST_ENOENT) {
        goto out;
    }
    for (size_t d = 0; d < PST_COUNT(dirs); d++) {
        json_t *names = NULL;
        size_t i;
        json_t *n;
        if (pst_fs_list(ctx->fs, dirs[d], &names) != PST_OK) {
            continue;
        }
        json_array_foreach(names, i, n)
        {
            const char *nm = json_string_value(n);
            size_t len = strlen(nm);
            /* a drop-in of an earlier directory shadows one of the same name later on */
            if (len > 5 && strcmp(nm + len - 5, ".conf") == 0 &&
                json_object_get(dropins, nm) == NULL) {
                char full[PATH_MAX];
                snprintf(full, sizeof(full), "%s/%s", dirs[d], nm);
                /* internal only: the real name, UTF-8 or not, so that it can be opened */
                json_object_set_new_nocheck(dropins, nm, json_string_nocheck(full));
            }
        }
        json_decref(names);
    }
    /* applied in the order of their names, whatever directory they come from */
    {
        size_t n = json_object_size(dropins), k = 0;
        const char **names = calloc(n + 1, sizeof(*names));
        if (names == NULL) {
            rc = PST_ENOMEM;
            goto out;
        }
        json_object_foreach(dropins, name, path)
        {
            names[k++] = name;
        }
        qsort(names, n, sizeof(*names), by_name);
        for (k = 0; k < n; k++) {
            rc = journald_file(ctx, out, json_string_value(json_object_get(dropins, names[k])), &j);
            if (rc != PST_OK && rc != PST_ENOENT) {
                free(names);
                goto out;
            }
        }
        free(names);
    }
    persistent =
        strcmp(j.storage, "persistent") == 0 ||
        (strcmp(j.storage, "auto") == 0 &&
         pst_fs_stat(ctx->fs, "/var/log/journal", true, &st) == PST_OK && S_ISDIR(st.st_mode));
    rc = PST_OK;
    if (pst_facts_set(out, "journald_storage", pst_json_text(j.storage),
                      j.storage_source[0] ? j.storage_source : "default") != PST_OK ||
        pst_facts_set(out, "journald_persistent", json_boolean(persistent),
                      j.storage_source[0] ? j.storage_source : "/var/log/journal") != PST_OK ||
        pst_facts_set(out, "journald_compress", json_boolean(j.compress),
                      j.compress_source[0] ? j.compress_source : "default") != PST_OK ||
        pst_facts_set(out, "journald_forward_to_syslog", json_boolean(j.forward),
                      j.forward_source[0] ? j.forward_source : "default") != PST_OK) {
        rc = PST_ENOMEM;
    }
out:
    json_decref(dropins);
    /* a file that could not be read leaves journald's facts out, with the reason */
    return rc == PST_ENOMEM ? rc : PST_OK;
}

struct rsyslog {
    struct pst_probe_ctx *ctx;
    struct pst_facts *out;
    char mode[8];
    char source[PATH_MAX + 32];
    bool incomplete;
    int rc;
};

static void rsyslog_file(struct rsyslog *r, const char *path, int depth);

/* Reads every file matching PATTERN (DIR/GLOB, the glob in the last component only). */
static void rsyslog_include(struct rsyslog *r, const char *pattern, const char *source, int depth)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(pattern, '/');
    json_t *names = NULL;
    size_t i;
    json_t *name;
    int rc;

    if (pattern[0] != '/' || slash == NULL || strpbrk(pattern, "*?[") < slash) {
        if (strpbrk(pattern, "*?[") == NULL && pattern[0] == '/') {
            rsyslog_file(r, pattern, depth + 1);
            return;
        }
        pst_facts_error(r->out, source, "%s: include pattern '%s' not understood", source, pattern);
        r->incomplete = true;
        return;
    }
    snprintf(dir, sizeof(dir), "%.*s", (int)(slash - pattern), pattern);
    rc = pst_fs_list(r->ctx->fs, dir[0] ? dir : "/", &names);
    if (rc != PST_OK) {
        if (rc != PST_ENOENT) {
            pst_facts_error(r->out, dir, "list %s: %s", dir, pst_strerror(rc));
            r->incomplete = true;
        }
        r->rc = rc == PST_ENOMEM ? rc : r->rc;
        return;
    }
    json_array_foreach(names, i, name)
    {
        char path[PATH_MAX];
        if (fnmatch(slash + 1, json_string_value(name), FNM_PERIOD) == 0 &&
            snprintf(path, sizeof(path), "%s/%s", dir, json_string_value(name)) <
                (int)sizeof(path)) {
            rsyslog_file(r, path, depth + 1);
        }
    }
    json_decref(names);
}

/* The value of parameter NAME="..." (case-insensitive name) in a RainerScript statement. */
static bool script_param(const char *stmt, const char *name, char *value, size_t n)
{
    size_t len = strlen(name);

    for (const char *p = stmt; (p = strcasestr(p, name)) != NULL; p += len) {
        const char *q = p + len;
        if (p > stmt &&
            (p[-1] == '_' || (p[-1] >= 'a' && p[-1] <= 'z') || (p[-1] >= 'A' && p[-1] <= 'Z'))) {
            continue;
        }
        q += strspn(q, " \t");
        if (*q != '=') {
            continue;
        }
        q += 1 + strspn(q + 1, " \t");
        if (*q != '"') {
            continue;
        }
        q++;
        size_t vlen = strcspn(q, "\"");
        snprintf(value, n, "%.*s", (int)(vlen < n - 1 ? vlen : n - 1), q);
        return true;
    }
    return false;
}

static void rsyslog_mode(struct rsyslog *r, const char *text, const char *source)
{
    unsigned mode;

    if (pst_mode_parse(text, &mode) != PST_OK) {
        pst_facts_error(r->out, source, "%s: FileCreateMode '%s' is not an octal mode", source,
                        text);
        r->incomplete = true;
        return;
    }
    pst_mode_format(mode, r->mode);
    snprintf(r->source, sizeof(r->source), "%s", source);
}

static void rsyslog_file(struct rsyslog *r, const char *path, int depth)
{
    char *buf = NULL, *cursor, *line;
    size_t len;
    long lineno = 0;
    int rc;

    if (r->rc != PST_OK) {
        return;
    }
    if (depth > RSYSLOG_INCLUDE_DEPTH) {
        pst_facts_error(r->out, path, "%s: includes nested deeper than %d (a loop?)", path,
                        RSYSLOG_INCLUDE_DEPTH);
        r->incomplete = true;
        return;
    }
    rc = pst_fs_read(r->ctx->fs, path, PST_FS_TEXT_LIMIT, true, &buf, &len);
    if (rc != PST_OK) {
        pst_facts_error(r->out, path, "read %s: %s", path, pst_strerror(rc));
        r->incomplete = true;
        r->rc = rc == PST_ENOMEM ? rc : r->rc;
        return;
    }
    cursor = buf;
    while ((line = pst_text_next_line(&cursor, &lineno)) != NULL) {
        char source[PATH_MAX + 32], value[PATH_MAX];
        char *p = pst_text_skip_blanks(line);
        pst_text_rstrip(p);
        if (*p == '#' || *p == '\0') {
            continue;
        }
        snprintf(source, sizeof(source), "%s:%ld", path, lineno);
        if (strncasecmp(p, "$FileCreateMode", 15) == 0 && (p[15] == ' ' || p[15] == '\t')) {
            char *v = pst_text_skip_blanks(p + 15);
            v[strcspn(v, " \t")] = '\0';
            rsyslog_mode(r, v, source);
        } else if (strncasecmp(p, "$IncludeConfig", 14) == 0 && (p[14] == ' ' || p[14] == '\t')) {
            char *v = pst_text_skip_blanks(p + 14);
            v[strcspn(v, " \t")] = '\0';
            rsyslog_include(r, v, source, depth);
        } else if (strncasecmp(p, "include(", 8) == 0 &&
                   script_param(p, "file", value, sizeof(value))) {
            rsyslog_include(r, value, source, depth);
        } else if (strncasecmp(p, "module(", 7) == 0 &&
                   script_param(p, "load", value, sizeof(value)) &&
                   strcmp(value, "builtin:omfile") == 0 &&
                   script_param(p, "fileCreateMode", value, sizeof(value))) {
            rsyslog_mode(r, value, source);
        }
        if (r->rc != PST_OK) {
            break;
        }
    }
    free(buf);
}

static int rsyslog_facts(struct pst_probe_ctx *ctx, struct pst_facts *out)
{
    struct rsyslog r = {.ctx = ctx, .out = out, .mode = "0644", .rc = PST_OK};
    struct stat st;

    if (pst_fs_stat(ctx->fs, "/etc/rsyslog.conf", true, &st) == PST_ENOENT) {
        if (pst_facts_set(out, "rsyslog_conf_exists", json_false(), "/etc/rsyslog.conf") !=
                PST_OK ||
            pst_facts_set(out, "rsyslog_file_create_mode", json_null(), "/etc/rsyslog.conf") !=
                PST_OK) {
            return PST_ENOMEM;
        }
        return PST_OK;
    }
    rsyslog_file(&r, "/etc/rsyslog.conf", 0);
    if (r.rc != PST_OK || r.incomplete) {
        return r.rc == PST_ENOMEM ? r.rc : PST_OK;
    }
    if (pst_facts_set(out, "rsyslog_conf_exists", json_true(), "/etc/rsyslog.conf") != PST_OK ||
        pst_facts_set(out, "rsyslog_file_create_mode", json_string(r.mode),
                      r.source[0] ? r.source : "default") != PST_OK) {
        return PST_ENOMEM;
    }
    return PST_OK;
}

struct walk {
    struct pst_probe_ctx *ctx;
    struct pst_facts *out;
    struct pst_findings too_open;
    unsigned max_mode;
    long files, entries;
    bool incomplete;
    int rc;
};

/* Login records (lastlog, wtmp, btmp, faillog) are group-writable by design (utmp group). */
static unsigned allowed_mode(const struct walk *w, const char *name)
{
    static const char *const records[] = {"lastlog", "wtmp", "btmp", "faillog"};

    for (size_t i = 0; i < PST_COUNT(records); i++) {
        if (strncmp(name, records[i], strlen(records[i])) == 0) {
            return w->max_mode | 0024; /* 0664 with the default 0640 */
        }
    }
    return w->max_mode;
}

static void walk_dir(struct walk *w, const char *dir, int depth)
{
    json_t *names = NULL;
    size_t i;
    json_t *name;
    int rc;

    if (depth > LOG_WALK_DEPTH) {
        pst_facts_error(w->out, dir, "%s: deeper than %d levels under /var/log", dir,
                        LOG_WALK_DEPTH);
        w->incomplete = true;
        return;
    }
    rc = pst_fs_list(w->ctx->fs, dir, &names);
    if (rc != PST_OK) {
        if (rc == PST_ENOMEM) {
            w->rc = rc;
        } else if (rc != PST_ENOENT) {
            pst_facts_error(w->out, dir, "list %s: %s", dir, pst_strerror(rc));
            w->incomplete = true;
        }
        return;
    }
    json_array_foreach(names, i, name)
    {
        const char *n = json_string_value(name);
        char path[PATH_MAX];
        struct stat st;
        if (w->rc != PST_OK || w->incomplete) {
            break;
        }
        if (++w->entries > LOG_WALK_ENTRIES) {
            pst_facts_error(w->out, "/var/log", "/var/log holds more than %d entries",
                            LOG_WALK_ENTRIES);
            w->incomplete = true;
            break;
        }
        if (snprintf(path, sizeof(path), "%s/%s", dir, n) >= (int)sizeof(path) ||
            pst_fs_stat(w->ctx->fs, path, false, &st) != PST_OK) {
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            walk_dir(w, path, depth + 1);
        } else if (S_ISREG(st.st_mode)) {
            w->files++;
            if ((st.st_mode & 0777 & ~allowed_mode(w, n)) != 0) {
                char mode[8];
                pst_mode_format(st.st_mode, mode);
                w->rc =
                    pst_findings_add(&w->too_open, json_pack("{s:o, s:s}", "path",
                                                             pst_json_text(path), "mode", mode));
            }
        }
    }
    json_decref(names);
}

static int logging_collect(struct pst_probe_ctx *ctx, const json_t *args, struct pst_facts *out)
{
    struct walk w = {.ctx = ctx, .out = out, .rc = PST_OK};
    int rc;

    rc = journald_facts(ctx, out);
    if (rc == PST_OK) {
        rc = rsyslog_facts(ctx, out);
    }
    if (rc != PST_OK) {
        return rc;
    }
    pst_mode_parse(json_string_value(json_object_get(args, "log_max_mode")), &w.max_mode);
    if (pst_findings_init(&w.too_open, (long)json_integer_value(
                                           json_object_get(args, "max_findings"))) != PST_OK) {
        return PST_ENOMEM;
    }
    walk_dir(&w, "/var/log", 0);
    rc = w.rc;
    if (rc == PST_OK && !w.incomplete &&
        (pst_facts_set(out, "log_files", json_integer(w.files), "/var/log") != PST_OK ||
         pst_findings_set(out, "log_files_too_open", &w.too_open, "/var/log") != PST_OK)) {
        rc = PST_ENOMEM;
    }
    pst_findings_release(&w.too_open);
    return rc;
}

const struct pst_probe pst_probe_logging = {
    .name = "logging",
    .summary = "journald storage and forwarding, rsyslog's file mode, permissions under /var/log",
    .args = logging_args,
    .n_args = PST_COUNT(logging_args),
    .fields = logging_fields,
    .n_fields = PST_COUNT(logging_fields),
    .collect = logging_collect,
};
