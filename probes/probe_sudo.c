/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Probe "sudo": the sudoers policy as sudo reads it, /etc/sudoers and what it includes
 * (@include, #include, @includedir, #includedir, with sudo's rule that a directory's files
 * whose names end in '~' or hold a '.' are skipped), its global Defaults (use_pty, logfile,
 * timestamp_timeout) and the grants that need no password (NOPASSWD, !authenticate).
 */
#include "probes/probe.h"

#include "agent/error.h"
#include "probes/debversion.h"
#include "probes/findings.h"
#include "probes/text.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Nesting of includes sudo accepts (its own limit is 128; real setups use 2). */
#define SUDO_INCLUDE_DEPTH 16
/* Most files read through includes; a directory of thousands is an error, not a cut. */
#define SUDO_FILES_MAX 512

static const struct pst_probe_arg sudo_args[] = {
    {.name = "path",
     .type = PST_TYPE_STRING,
     .default_value = "/etc/sudoers",
     .path = true,
     .description = "the main sudoers file"},
    {.name = "max_timeout",
     .type = PST_TYPE_INT,
     .default_value = "15",
     .description = "timestamp_timeout settings above this many minutes (or -1) are findings"},
    {.name = "max_findings",
     .type = PST_TYPE_INT,
     .default_value = "20",
     .description = "findings kept as evidence per field; the counts count them all"},
};

static const struct pst_probe_field sudo_fields[] = {
    {"exists", PST_TYPE_BOOL, "the main sudoers file exists"},
    {"files", PST_TYPE_LIST, "the files read, in the order sudo reads them"},
    {"use_pty", PST_TYPE_BOOL,
     "Defaults use_pty for everyone (last setting wins); when unset, sudo's own default: on "
     "from sudo 1.9.14 (the installed package's version), off before"},
    {"logfile", PST_TYPE_STRING, "Defaults logfile for everyone; null when unset"},
    {"timestamp_timeout", PST_TYPE_INT,
     "minutes a cached authentication lasts (fractions rounded up; -1 never expires), from "
     "the global Defaults; 15 by default"},
    {"timestamp_timeouts_over", PST_TYPE_FINDINGS,
     "timestamp_timeout settings, global or per user, host, command or runas, above "
     "max_timeout or never expiring {who, minutes, source}"},
    {"timestamp_timeouts_over_count", PST_TYPE_INT, "how many"},
    {"nopasswd", PST_TYPE_FINDINGS, "user specifications tagged NOPASSWD {who, source}"},
    {"nopasswd_count", PST_TYPE_INT, "how many"},
    {"no_authenticate", PST_TYPE_FINDINGS,
     "Defaults setting !authenticate {who (ALL for the global Defaults), source}"},
    {"no_authenticate_count", PST_TYPE_INT, "how many"},
};

/* Whether the installed sudo (dpkg's record) is 1.9.14 or later, where use_pty is on. */
static bool sudo_pty_by_default(struct pst_probe_ctx *ctx)
{
    const struct pst_call *result = NULL;
    json_t *args = json_pack("{s:s}", "name", "sudo");
    bool on = false, ok = false;
    if (args != NULL && pst_probe_call(ctx, pst_probe_find("package"), args, &result) == PST_OK) {
        const json_t *v = pst_call_value(result, "version");
        on = json_is_string(v) &&
             pst_debversion_compare(json_string_value(v), "1.9.14", &ok) >= 0 && ok;
    }
    json_decref(args);
    return on;
}

struct sudo_scan {
    struct pst_probe_ctx *ctx;
    struct pst_facts *out;
    json_t *files;
    json_t *stack; /* files being read, for include loops */
    struct pst_findings timeouts, nopasswd, noauth;
    bool use_pty;
    char use_pty_source[PATH_MAX + 32];
    char *logfile;
    char logfile_source[PATH_MAX + 32];
    long timeout, max_timeout;
    char timeout_source[PATH_MAX + 32];
    bool incomplete; /* something that could change the answers could not be read */
    int rc;
};

static void add(struct sudo_scan *s, struct pst_findings *f, json_t *item)
{
    if (s->rc == PST_OK) {
        s->rc = pst_findings_add(f, item);
    } else {
        json_decref(item);
    }
}

static void read_sudoers(struct sudo_scan *s, const char *path, int depth, bool required);

/* The next comma-separated item of a Defaults list, quotes respected; NULL at the end. */
static char *next_item(char **cursor)
{
    char *p = pst_text_skip_blanks(*cursor);
    char *start = p;
    bool quoted = false;

    if (*p == '\0') {
        return NULL;
    }
    for (; *p != '\0'; p++) {
        if (*p == '\\' && p[1] != '\0') {
            p++;
        } else if (*p == '"') {
            quoted = !quoted;
        } else if (*p == ',' && !quoted) {
            break;
        }
    }
    if (*p == ',') {
        *p++ = '\0';
    }
    *cursor = p;
    pst_text_rstrip(start);
    return start;
}

static void defaults_line(struct sudo_scan *s, char *line, const char *source)
{
    /* Defaults[@:!>]binding params */
    char *p = line + 8;
    char who[256] = "ALL";
    bool global = *p == ' ' || *p == '\t';
    char *item;

    if (!global) {
        char *end = p + strcspn(p, " \t");
        char saved = *end;
        *end = '\0';
        snprintf(who, sizeof(who), "%s", *p == ':' ? p + 1 : p);
        *end = saved;
        p = end;
    }
    while ((item = next_item(&p)) != NULL) {
        bool negated = false;
        char *value = strchr(item, '=');
        while (*item == '!') {
            negated = !negated;
            item = pst_text_skip_blanks(item + 1);
        }
        if (value != NULL) {
            char *name_end = value;
            if (name_end > item && (name_end[-1] == '+' || name_end[-1] == '-')) {
                name_end--;
            }
            *name_end = '\0';
            value = pst_text_skip_blanks(value + 1);
            pst_text_rstrip(item);
            pst_text_unquote(value);
        }
        if (strcmp(item, "use_pty") == 0 && global) {
            s->use_pty = !negated;
            snprintf(s->use_pty_source, sizeof(s->use_pty_source), "%s", source);
        } else if (strcmp(item, "logfile") == 0 && global) {
            free(s->logfile);
            s->logfile = (negated || value == NULL) ? NULL : strdup(value);
            if (!negated && value != NULL && s->logfile == NULL) {
                s->rc = PST_ENOMEM;
            }
            snprintf(s->logfile_source, sizeof(s->logfile_source), "%s", source);
        } else if (strcmp(item, "timestamp_timeout") == 0) {
            char *end;
            double minutes = value != NULL ? strtod(value, &end) : 0;
            long whole;
            if (negated) {
                minutes = 0; /* !timestamp_timeout: always ask */
            } else if (value == NULL || *end != '\0' || !isfinite(minutes) || fabs(minutes) > 1e9) {
                pst_facts_error(s->out, source, "%s: timestamp_timeout is not a number", source);
                s->incomplete = true;
                continue;
            }
            /* the ceiling of a number within ±1e9, without libm (posture does not load it) */
            whole = minutes < 0 ? -1 : (long)minutes + ((double)(long)minutes < minutes);
            if (whole >= 0 && whole <= s->max_timeout) {
                /* within bounds */
            } else {
                add(s, &s->timeouts,
                    json_pack("{s:o, s:I, s:o}", "who", pst_json_text(who), "minutes",
                              (json_int_t)whole, "source", pst_json_text(source)));
            }
            if (global) {
                s->timeout = whole;
                snprintf(s->timeout_source, sizeof(s->timeout_source), "%s", source);
            }
        } else if (strcmp(item, "authenticate") == 0 && negated) {
            add(s, &s->noauth,
                json_pack("{s:o, s:o}", "who", pst_json_text(who), "source",
                          pst_json_text(source)));
        }
    }
}

/* An include target: quoted or not; relative names are relative to the including file. */
static int include_path(const char *current, char *arg, char *path, size_t n)
{
    pst_text_rstrip(arg);
    pst_text_unquote(arg);
    if (arg[0] == '\0') {
        return PST_EPARSE;
    }
    if (arg[0] == '/') {
        return snprintf(path, n, "%s", arg) < (int)n ? PST_OK : PST_ETOOBIG;
    }
    const char *slash = strrchr(current, '/');
    int dirlen = slash != NULL ? (int)(slash - current) : 0;
    return snprintf(path, n, "%.*s/%s", dirlen, current, arg) < (int)n ? PST_OK : PST_ETOOBIG;
}

static void read_includedir(struct sudo_scan *s, const char *dir, int depth)
{
    json_t *names = NULL;
    size_t i;
    json_t *name;
    int rc = pst_fs_list(s->ctx->fs, dir, &names);

    if (rc == PST_ENOENT) {
        return; /* sudo ignores a missing directory */
    }
    if (rc != PST_OK) {
        if (rc == PST_ENOMEM) {
            s->rc = rc;
        }
        pst_facts_error(s->out, dir, "list %s: %s", dir, pst_strerror(rc));
        s->incomplete = true;
        return;
    }
    json_array_foreach(names, i, name)
    {
        const char *n = json_string_value(name);
        char path[PATH_MAX];
        if (n[strlen(n) - 1] == '~' || strchr(n, '.') != NULL) {
            continue; /* editor backups and package leftovers (.dpkg-old) are not read */
        }
        if (snprintf(path, sizeof(path), "%s/%s", dir, n) >= (int)sizeof(path)) {
            continue;
        }
        read_sudoers(s, path, depth, true);
    }
    json_decref(names);
}

/* Removes a comment: '#' at the start of a word, unless it is a uid (#1000). */
static void strip_comment(char *line)
{
    for (char *p = line; *p != '\0'; p++) {
        if (*p == '"') {
            char *close = strchr(p + 1, '"');
            if (close == NULL) {
                break;
            }
            p = close;
        } else if (*p == '#' && (p == line || p[-1] == ' ' || p[-1] == '\t' || p[-1] == ',') &&
                   !(p[1] >= '0' && p[1] <= '9')) {
            *p = '\0';
            break;
        }
    }
}

static void sudoers_line(struct sudo_scan *s, const char *path, long lineno, char *line, int depth)
{
    char source[PATH_MAX + 32];
    char *p = pst_text_skip_blanks(line);
    static const char *const aliases[] = {"User_Alias", "Runas_Alias", "Host_Alias", "Cmnd_Alias",
                                          "Cmd_Alias"};

    snprintf(source, sizeof(source), "%s:%ld", path, lineno);
    if ((p[0] == '@' || p[0] == '#') && strncmp(p + 1, "include", 7) == 0 &&
        (p[8] == ' ' || p[8] == '\t' ||
         (strncmp(p + 8, "dir", 3) == 0 && (p[11] == ' ' || p[11] == '\t')))) {
        bool dir = p[8] == 'd';
        char target[PATH_MAX];
        if (include_path(path, p + (dir ? 11 : 8) + strspn(p + (dir ? 11 : 8), " \t"), target,
                         sizeof(target)) != PST_OK) {
            pst_facts_error(s->out, source, "%s: include names no file", source);
            s->incomplete = true;
        } else if (dir) {
            read_includedir(s, target, depth + 1);
        } else {
            read_sudoers(s, target, depth + 1, true);
        }
        return;
    }
    strip_comment(p);
    pst_text_rstrip(p);
    if (*p == '\0') {
        return;
    }
    if (strncmp(p, "Defaults", 8) == 0 && strchr(" \t@:!>", p[8]) != NULL && p[8] != '\0') {
        defaults_line(s, p, source);
        return;
    }
    for (size_t i = 0; i < PST_COUNT(aliases); i++) {
        size_t len = strlen(aliases[i]);
        if (strncmp(p, aliases[i], len) == 0 && (p[len] == ' ' || p[len] == '\t')) {
            return;
        }
    }
    /* a user specification: WHO HOST = (RUNAS) TAGS: COMMANDS */
    char *tag = p;
    while ((tag = strstr(tag, "NOPASSWD")) != NULL) {
        char *after = pst_text_skip_blanks(tag + 8);
        bool word_start = tag == p || strchr(" \t:=)", tag[-1]) != NULL;
        if (word_start && *after == ':') {
            char who[256];
            size_t len = strcspn(p, " \t");
            snprintf(who, sizeof(who), "%.*s", (int)(len < 255 ? len : 255), p);
            add(s, &s->nopasswd,
                json_pack("{s:o, s:o}", "who", pst_json_text(who), "source",
                          pst_json_text(source)));
            break;
        }
        tag += 8;
    }
}

static void read_sudoers(struct sudo_scan *s, const char *path, int depth, bool required)
{
    char *buf = NULL, *cursor, *line;
    size_t len;
    long lineno = 0;
    int rc;

    if (s->rc != PST_OK) {
        return;
    }
    if (depth > SUDO_INCLUDE_DEPTH) {
        pst_facts_error(s->out, path, "%s: includes nested deeper than %d", path,
                        SUDO_INCLUDE_DEPTH);
        s->incomplete = true;
        return;
    }
    if (json_object_get(s->stack, path) != NULL) {
        pst_facts_error(s->out, path, "%s: include loop (the file includes itself)", path);
        s->incomplete = true;
        return;
    }
    if (json_array_size(s->files) >= SUDO_FILES_MAX) {
        pst_facts_error(s->out, path, "%s: more than %d sudoers files", path, SUDO_FILES_MAX);
        s->incomplete = true;
        return;
    }
    rc = pst_fs_read(s->ctx->fs, path, PST_FS_TEXT_LIMIT, true, &buf, &len);
    if (rc != PST_OK) {
        if (rc == PST_ENOMEM) {
            s->rc = rc;
        } else if (rc != PST_ENOENT || required) {
            pst_facts_error(s->out, path, "read %s: %s", path, pst_strerror(rc));
            /* a missing include is sudo's own error too; an unreadable one hides rules */
            s->incomplete = s->incomplete || rc != PST_ENOENT;
        }
        return;
    }
    if (json_array_append_new(s->files, pst_json_text(path)) != 0 ||
        json_object_set_new_nocheck(s->stack, path, json_true()) != 0) {
        s->rc = PST_ENOMEM;
        free(buf);
        return;
    }
    cursor = buf;
    while (s->rc == PST_OK && (line = pst_text_next_line(&cursor, &lineno)) != NULL) {
        long first = lineno;
        /* a trailing backslash continues the line: join in place */
        size_t l = strlen(line);
        while (l > 0 && line[l - 1] == '\\' && cursor != NULL && *cursor != '\0') {
            char *next = pst_text_next_line(&cursor, &lineno);
            line[l - 1] = ' ';
            memmove(line + l, next, strlen(next) + 1);
            l = strlen(line);
        }
        sudoers_line(s, path, first, line, depth);
    }
    json_object_del(s->stack, path);
    free(buf);
}

static int sudo_collect(struct pst_probe_ctx *ctx, const json_t *args, struct pst_facts *out)
{
    const char *path = json_string_value(json_object_get(args, "path"));
    long max = (long)json_integer_value(json_object_get(args, "max_findings"));
    struct sudo_scan s = {.ctx = ctx, .out = out, .timeout = 15, .rc = PST_OK};

    s.max_timeout = (long)json_integer_value(json_object_get(args, "max_timeout"));
    struct stat st;
    int rc;

    s.files = json_array();
    s.stack = json_object();
    if (s.files == NULL || s.stack == NULL || pst_findings_init(&s.timeouts, max) != PST_OK ||
        pst_findings_init(&s.nopasswd, max) != PST_OK ||
        pst_findings_init(&s.noauth, max) != PST_OK) {
        s.rc = PST_ENOMEM;
        goto out;
    }
    rc = pst_fs_stat(ctx->fs, path, true, &st);
    if (rc == PST_ENOENT) {
        s.rc = pst_facts_set(out, "exists", json_false(), path);
        goto out;
    }
    read_sudoers(&s, path, 0, true);
    if (s.rc != PST_OK || s.incomplete || json_array_size(s.files) == 0) {
        goto out; /* the facts stay out; errors say why */
    }
    if (s.use_pty_source[0] == '\0' && sudo_pty_by_default(ctx)) {
        /* sudo 1.9.14 turned use_pty on by default (Debian 13 ships 1.9.16) */
        s.use_pty = true;
        snprintf(s.use_pty_source, sizeof(s.use_pty_source),
                 "default of the installed sudo (1.9.14 and later)");
    }
    if (pst_facts_set(out, "exists", json_true(), path) != PST_OK ||
        pst_facts_set(out, "files", json_incref(s.files), path) != PST_OK ||
        pst_facts_set(out, "use_pty", json_boolean(s.use_pty),
                      s.use_pty_source[0] ? s.use_pty_source : "default") != PST_OK ||
        pst_facts_set(out, "logfile", s.logfile ? pst_json_text(s.logfile) : json_null(),
                      s.logfile_source[0] ? s.logfile_source : "default") != PST_OK ||
        pst_facts_set(out, "timestamp_timeout", json_integer(s.timeout),
                      s.timeout_source[0] ? s.timeout_source : "default") != PST_OK ||
        pst_findings_set(out, "timestamp_timeouts_over", &s.timeouts, path) != PST_OK ||
        pst_findings_set(out, "nopasswd", &s.nopasswd, path) != PST_OK ||
        pst_findings_set(out, "no_authenticate", &s.noauth, path) != PST_OK) {
        s.rc = PST_ENOMEM;
    }
out:
    json_decref(s.files);
    json_decref(s.stack);
    pst_findings_release(&s.timeouts);
    pst_findings_release(&s.nopasswd);
    pst_findings_release(&s.noauth);
    free(s.logfile);
    return s.rc;
}

const struct pst_probe pst_probe_sudo = {
    .name = "sudo",
    .summary = "the sudoers policy with its includes: use_pty, logfile, timestamp_timeout, "
               "NOPASSWD and !authenticate grants",
    .args = sudo_args,
    .n_args = PST_COUNT(sudo_args),
    .fields = sudo_fields,
    .n_fields = PST_COUNT(sudo_fields),
    .collect = sudo_collect,
};
