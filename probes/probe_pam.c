/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Probe "pam": the effective settings of pam_pwquality, pam_faillock, pam_unix,
 * pam_pwhistory and pam_wheel for one PAM service, as Linux-PAM builds its stacks: the
 * service's file in /etc/pam.d with @include (every type), include and substack (one type)
 * followed, and each module's options resolved as the module does: its configuration files
 * first, then the arguments of its line, which override them.
 */
#include "probes/probe.h"

#include "agent/error.h"
#include "probes/text.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Include nesting Linux-PAM accepts before it gives up (PAM_SUBSTACK_MAX_LEVEL is 16). */
#define PAM_INCLUDE_DEPTH 16
/* Most module lines kept per stack. */
#define PAM_LINES_MAX 256

static const struct pst_probe_arg pam_args[] = {
    {.name = "service",
     .type = PST_TYPE_STRING,
     .default_value = "common-password",
     .regex = false,
     .description = "the PAM service: a file name in /etc/pam.d (common-auth, su, sshd...)"},
};

static const struct pst_probe_field pam_fields[] = {
    {"exists", PST_TYPE_BOOL, "the service's file exists in /etc/pam.d"},
    {"modules", PST_TYPE_LIST, "the effective stacks, one \"TYPE MODULE\" a line, in order"},
    {"pwquality", PST_TYPE_BOOL, "pam_pwquality is in the password stack"},
    {"minlen", PST_TYPE_INT, "pam_pwquality minlen (default 8)"},
    {"minclass", PST_TYPE_INT, "pam_pwquality minclass (default 0)"},
    {"dcredit", PST_TYPE_INT, "pam_pwquality dcredit (default 0)"},
    {"ucredit", PST_TYPE_INT, "pam_pwquality ucredit (default 0)"},
    {"lcredit", PST_TYPE_INT, "pam_pwquality lcredit (default 0)"},
    {"ocredit", PST_TYPE_INT, "pam_pwquality ocredit (default 0)"},
    {"maxrepeat", PST_TYPE_INT, "pam_pwquality maxrepeat (default 0: no limit)"},
    {"maxsequence", PST_TYPE_INT, "pam_pwquality maxsequence (default 0: no limit)"},
    {"difok", PST_TYPE_INT, "pam_pwquality difok (default 1)"},
    {"dictcheck", PST_TYPE_INT, "pam_pwquality dictcheck (default 1)"},
    {"enforcing", PST_TYPE_INT, "pam_pwquality enforcing (default 1; 0 only warns)"},
    {"pwquality_enforce_for_root", PST_TYPE_BOOL, "pam_pwquality enforce_for_root"},
    {"faillock", PST_TYPE_BOOL, "pam_faillock is in the auth stack"},
    {"deny", PST_TYPE_INT, "pam_faillock deny (default 3)"},
    {"unlock_time", PST_TYPE_INT, "pam_faillock unlock_time in seconds (default 600; 0 never)"},
    {"even_deny_root", PST_TYPE_BOOL, "pam_faillock even_deny_root"},
    {"root_unlock_time", PST_TYPE_INT, "pam_faillock root_unlock_time (default: unlock_time)"},
    {"unix_hash", PST_TYPE_STRING,
     "the hash pam_unix gives new passwords: its option (yescrypt, sha512...) or else "
     "ENCRYPT_METHOD of /etc/login.defs, lower-cased; null without pam_unix in the password "
     "stack"},
    {"unix_nullok", PST_TYPE_BOOL, "a pam_unix line of the service has nullok"},
    {"unix_remember", PST_TYPE_INT, "pam_unix remember= (0: none)"},
    {"pwhistory", PST_TYPE_BOOL, "pam_pwhistory is in the password stack"},
    {"pwhistory_remember", PST_TYPE_INT,
     "pam_pwhistory remember (default 10); null without pam_pwhistory"},
    {"pwhistory_enforce_for_root", PST_TYPE_BOOL, "pam_pwhistory enforce_for_root"},
    {"wheel", PST_TYPE_BOOL,
     "pam_wheel is in the auth stack as required or requisite, with use_uid"},
    {"wheel_group", PST_TYPE_STRING,
     "pam_wheel's group=, else \"wheel\", else the gid 0 group, as pam_wheel picks it"},
    {"wheel_group_members", PST_TYPE_LIST,
     "members of that group in /etc/group; null if the group does not exist"},
};

static const char *const pam_types[] = {"auth", "account", "password", "session"};

/* One module line of the effective stack; strings are owned. */
struct pam_line {
    int type;
    char *control;
    char *module; /* base name: pam_unix.so */
    json_t *args; /* array of strings */
    char *source; /* FILE:LINE */
};

struct pam_scan {
    struct pst_probe_ctx *ctx;
    struct pst_facts *out;
    struct pam_line lines[PAM_LINES_MAX];
    size_t n;
    json_t *stack;
    bool incomplete;
    int rc;
};

static void read_service(struct pam_scan *s, const char *name, int only_type, int depth);

static int type_index(const char *t)
{
    if (*t == '-') {
        t++; /* "-session": ignore a missing module */
    }
    for (size_t i = 0; i < PST_COUNT(pam_types); i++) {
        if (strcmp(t, pam_types[i]) == 0) {
            return (int)i;
        }
    }
    return -1;
}

/* The next word of P; "[...]" (with blanks inside) is one word. NULL at the end. */
static char *next_word(char **p)
{
    char *w = pst_text_skip_blanks(*p);
    char *e;

    if (*w == '\0') {
        return NULL;
    }
    if (*w == '[') {
        e = strchr(w, ']');
        e = e != NULL ? e + 1 : w + strlen(w);
    } else {
        e = w + strcspn(w, " \t");
        /* an argument like opt=[a b] keeps its bracketed blanks */
        char *br = memchr(w, '[', (size_t)(e - w));
        if (br != NULL) {
            char *close = strchr(br, ']');
            e = close != NULL ? close + 1 : w + strlen(w);
        }
    }
    if (*e != '\0') {
        *e++ = '\0';
    }
    *p = e;
    return w;
}

static void pam_line(struct pam_scan *s, const char *path, long lineno, char *line, int only_type,
                     int depth)
{
    char source[PATH_MAX + 32];
    char *p = pst_text_skip_blanks(line);
    char *type_word, *control, *module;
    int type;

    snprintf(source, sizeof(source), "%s:%ld", path, lineno);
    p[strcspn(p, "#")] = '\0';
    pst_text_rstrip(p);
    if (*p == '\0') {
        return;
    }
    if (strncmp(p, "@include", 8) == 0 && (p[8] == ' ' || p[8] == '\t')) {
        char *name = pst_text_skip_blanks(p + 8);
        name[strcspn(name, " \t")] = '\0';
        read_service(s, name, only_type, depth + 1);
        return;
    }
    type_word = next_word(&p);
    control = next_word(&p);
    module = next_word(&p);
    type = type_word != NULL ? type_index(type_word) : -1;
    if (type < 0 || control == NULL || module == NULL) {
        pst_facts_error(s->out, source, "%s: not a PAM rule (TYPE CONTROL MODULE [ARGS])", source);
        return;
    }
    if (only_type >= 0 && type != only_type) {
        return;
    }
    if (strcmp(control, "include") == 0 || strcmp(control, "substack") == 0) {
        read_service(s, module, type, depth + 1);
        return;
    }
    if (s->n == PAM_LINES_MAX) {
        pst_facts_error(s->out, source, "%s: more than %d module lines", source, PAM_LINES_MAX);
        s->incomplete = true;
        return;
    }
    struct pam_line *l = &s->lines[s->n];
    const char *base = strrchr(module, '/');
    char *arg;
    l->type = type;
    l->control = strdup(control);
    l->module = strdup(base != NULL ? base + 1 : module);
    l->args = json_array();
    l->source = strdup(source);
    s->n++;
    if (l->control == NULL || l->module == NULL || l->args == NULL || l->source == NULL) {
        s->rc = PST_ENOMEM;
        return;
    }
    while ((arg = next_word(&p)) != NULL) {
        if (json_array_append_new(l->args, pst_json_text(arg)) != 0) {
            s->rc = PST_ENOMEM;
            return;
        }
    }
}

static void read_service(struct pam_scan *s, const char *name, int only_type, int depth)
{
    char path[PATH_MAX];
    char *buf = NULL, *cursor, *line;
    size_t len;
    long lineno = 0;
    int rc;

    if (s->rc != PST_OK) {
        return;
    }
    if (name[0] == '/') {
        snprintf(path, sizeof(path), "%s", name);
    } else if (strchr(name, '/') != NULL || name[0] == '.' ||
               snprintf(path, sizeof(path), "/etc/pam.d/%s", name) >= (int)sizeof(path)) {
        pst_facts_error(s->out, name, "PAM service name '%s' is not a file name", name);
        s->incomplete = true;
        return;
    }
    if (depth > PAM_INCLUDE_DEPTH) {
        pst_facts_error(s->out, path, "%s: includes nested deeper than %d", path,
                        PAM_INCLUDE_DEPTH);
        s->incomplete = true;
        return;
    }
    if (json_object_get(s->stack, path) != NULL) {
        pst_facts_error(s->out, path, "%s: include loop (the file includes itself)", path);
        s->incomplete = true;
        return;
    }
    rc = pst_fs_read(s->ctx->fs, path, PST_FS_TEXT_LIMIT, true, &buf, &len);
    if (rc != PST_OK) {
        if (rc == PST_ENOMEM) {
            s->rc = rc;
        }
        pst_facts_error(s->out, path, "read %s: %s", path, pst_strerror(rc));
        s->incomplete = true;
        return;
    }
    if (json_object_set_new_nocheck(s->stack, path, json_true()) != 0) {
        s->rc = PST_ENOMEM;
        free(buf);
        return;
    }
    cursor = buf;
    while (s->rc == PST_OK && (line = pst_text_next_line(&cursor, &lineno)) != NULL) {
        long first = lineno;
        size_t l = strlen(line);
        while (l > 0 && line[l - 1] == '\\' && *cursor != '\0') {
            char *next = pst_text_next_line(&cursor, &lineno);
            line[l - 1] = ' ';
            memmove(line + l, next, strlen(next) + 1);
            l = strlen(line);
        }
        pam_line(s, path, first, line, only_type, depth);
    }
    json_object_del(s->stack, path);
    free(buf);
}

/* The first line of TYPE using MODULE, or NULL. */
static const struct pam_line *find_module(const struct pam_scan *s, int type, const char *module)
{
    for (size_t i = 0; i < s->n; i++) {
        if (s->lines[i].type == type && strcmp(s->lines[i].module, module) == 0) {
            return &s->lines[i];
        }
    }
    return NULL;
}

/* A module option: its value and where it was set. */
struct option {
    const char *name;
    bool flag;  /* set by its bare name (enforce_for_root) */
    long value; /* the number, or 1 for a set flag */
    bool set;
    char source[PATH_MAX + 32];
};

#define OPT(name, flag, value)                                                                     \
    {                                                                                              \
        name, flag, value, false, ""                                                               \
    }

static struct option *find_option(struct option *opts, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(opts[i].name, name) == 0) {
            return &opts[i];
        }
    }
    return NULL;
}

/* Applies "name" or "name=value" to OPTS; unknown names are left alone. */
static void apply_option(struct pam_scan *s, struct option *opts, size_t n, char *text,
                         const char *source)
{
    char *eq = strchr(text, '=');
    struct option *o;

    if (eq != NULL) {
        *eq = '\0';
    }
    pst_text_rstrip(text);
    o = find_option(opts, n, text);
    if (o == NULL) {
        return;
    }
    if (o->flag) {
        o->value = 1;
    } else {
        char *end;
        const char *v = eq != NULL ? pst_text_skip_blanks(eq + 1) : "";
        errno = 0;
        long value = strtol(v, &end, 10);
        if (*v == '\0' || *end != '\0' || errno != 0) {
            pst_facts_error(s->out, source, "%s: %s is not a number", source, text);
            return;
        }
        o->value = value;
    }
    o->set = true;
    snprintf(o->source, sizeof(o->source), "%s", source);
}

/* Reads a "name = value" configuration file (pwquality.conf, faillock.conf...). */
static void read_conf(struct pam_scan *s, const char *path, struct option *opts, size_t n)
{
    char *buf = NULL, *cursor, *line;
    size_t len;
    long lineno = 0;
    int rc = pst_fs_read(s->ctx->fs, path, PST_FS_TEXT_LIMIT, true, &buf, &len);

    if (rc != PST_OK) {
        if (rc == PST_ENOMEM) {
            s->rc = rc;
        }
        if (rc != PST_ENOENT) {
            pst_facts_error(s->out, path, "read %s: %s", path, pst_strerror(rc));
            s->incomplete = true;
        }
        return;
    }
    cursor = buf;
    while ((line = pst_text_next_line(&cursor, &lineno)) != NULL) {
        char source[PATH_MAX + 32];
        char *p = pst_text_skip_blanks(line);
        p[strcspn(p, "#")] = '\0';
        pst_text_rstrip(p);
        if (*p == '\0') {
            continue;
        }
        snprintf(source, sizeof(source), "%s:%ld", path, lineno);
        apply_option(s, opts, n, p, source);
    }
    free(buf);
}

/* Arguments of LINE applied over OPTS. */
static void apply_args(struct pam_scan *s, const struct pam_line *line, struct option *opts,
                       size_t n)
{
    size_t i;
    json_t *arg;

    json_array_foreach(line->args, i, arg)
    {
        char text[1024];
        snprintf(text, sizeof(text), "%s", json_string_value(arg));
        apply_option(s, opts, n, text, line->source);
    }
}

static bool has_arg(const struct pam_line *line, const char *name)
{
    size_t i;
    json_t *arg;

    json_array_foreach(line->args, i, arg)
    {
        if (strcmp(json_string_value(arg), name) == 0) {
            return true;
        }
    }
    return false;
}

/* The value of NAME= among LINE's arguments, or NULL. */
static const char *arg_value(const struct pam_line *line, const char *name)
{
    size_t i, len = strlen(name);
    json_t *arg;

    json_array_foreach(line->args, i, arg)
    {
        const char *a = json_string_value(arg);
        if (strncmp(a, name, len) == 0 && a[len] == '=') {
            return a + len + 1;
        }
    }
    return NULL;
}

static int set_options(struct pam_scan *s, const struct option *opts, size_t n, bool present,
                       const char *fallback)
{
    if (s->incomplete) {
        return PST_OK; /* a configuration file could not be read: its options stay out */
    }
    for (size_t i = 0; i < n; i++) {
        const struct option *o = &opts[i];
        json_t *v = !present  ? json_null()
                    : o->flag ? json_boolean(o->value != 0)
                              : json_integer(o->value);
        if (pst_facts_set(s->out, o->name, v, o->set ? o->source : fallback) != PST_OK) {
            return PST_ENOMEM;
        }
    }
    return PST_OK;
}

/* Conf files of a directory ending in .conf, in ASCII order, then the main file. */
static void read_conf_dir_then_main(struct pam_scan *s, const char *dir, const char *main_file,
                                    struct option *opts, size_t n)
{
    json_t *names = NULL;
    size_t i;
    json_t *name;

    if (pst_fs_list(s->ctx->fs, dir, &names) == PST_OK) {
        json_array_foreach(names, i, name)
        {
            const char *nm = json_string_value(name);
            size_t len = strlen(nm);
            char path[PATH_MAX];
            if (len > 5 && strcmp(nm + len - 5, ".conf") == 0 &&
                snprintf(path, sizeof(path), "%s/%s", dir, nm) < (int)sizeof(path)) {
                read_conf(s, path, opts, n);
            }
        }
        json_decref(names);
    }
    read_conf(s, main_file, opts, n);
}

static int pwquality_facts(struct pam_scan *s)
{
    struct option opts[] = {
        OPT("minlen", false, 8),
        OPT("minclass", false, 0),
        OPT("dcredit", false, 0),
        OPT("ucredit", false, 0),
        OPT("lcredit", false, 0),
        OPT("ocredit", false, 0),
        OPT("maxrepeat", false, 0),
        OPT("maxsequence", false, 0),
        OPT("difok", false, 1),
        OPT("dictcheck", false, 1),
        OPT("pwquality_enforce_for_root", true, 0),
        OPT("enforcing", false, 1),
    };
    const struct pam_line *line = find_module(s, 2, "pam_pwquality.so");

    if (line != NULL) {
        /* libpwquality reads the .conf files of pwquality.conf.d first, then pwquality.conf */
        opts[10].name = "enforce_for_root";
        read_conf_dir_then_main(s, "/etc/security/pwquality.conf.d", "/etc/security/pwquality.conf",
                                opts, PST_COUNT(opts));
        apply_args(s, line, opts, PST_COUNT(opts));
        opts[10].name = "pwquality_enforce_for_root";
    }
    if (pst_facts_set(s->out, "pwquality", json_boolean(line != NULL),
                      line ? line->source : NULL) != PST_OK) {
        return PST_ENOMEM;
    }
    return set_options(s, opts, PST_COUNT(opts), line != NULL, "default");
}

static int faillock_facts(struct pam_scan *s)
{
    struct option opts[] = {
        OPT("deny", false, 3),
        OPT("unlock_time", false, 600),
        OPT("even_deny_root", true, 0),
        OPT("root_unlock_time", false, -1),
    };
    const struct pam_line *line = find_module(s, 0, "pam_faillock.so");

    if (line != NULL) {
        const char *conf = arg_value(line, "conf");
        read_conf(s, conf != NULL ? conf : "/etc/security/faillock.conf", opts, PST_COUNT(opts));
        /* every pam_faillock line of the auth stack reads the same options; the first wins */
        apply_args(s, line, opts, PST_COUNT(opts));
        if (!opts[3].set) {
            opts[3].value = opts[1].value;
        }
    }
    if (pst_facts_set(s->out, "faillock", json_boolean(line != NULL), line ? line->source : NULL) !=
        PST_OK) {
        return PST_ENOMEM;
    }
    return set_options(s, opts, PST_COUNT(opts), line != NULL, "default");
}

/* ENCRYPT_METHOD of the root's login.defs (last one wins), lower-cased, or NULL. */
static char *login_defs_method(struct pam_scan *s, char *source, size_t n)
{
    char *buf = NULL, *cursor, *line, *method = NULL;
    size_t len;
    long lineno = 0;

    if (pst_fs_read(s->ctx->fs, "/etc/login.defs", PST_FS_TEXT_LIMIT, true, &buf, &len) != PST_OK) {
        return NULL;
    }
    cursor = buf;
    while ((line = pst_text_next_line(&cursor, &lineno)) != NULL) {
        char *p = pst_text_skip_blanks(line);
        if (strncmp(p, "ENCRYPT_METHOD", 14) == 0 && (p[14] == ' ' || p[14] == '\t')) {
            p = pst_text_skip_blanks(p + 14);
            pst_text_rstrip(p);
            free(method);
            method = strdup(p);
            snprintf(source, n, "/etc/login.defs:%ld", lineno);
        }
    }
    free(buf);
    for (char *c = method; c != NULL && *c != '\0'; c++) {
        *c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
    }
    return method;
}

static int unix_facts(struct pam_scan *s)
{
    static const char *const hashes[] = {"yescrypt", "gost_yescrypt", "sha512", "sha256",
                                         "blowfish", "bigcrypt",      "md5"};
    const struct pam_line *line = find_module(s, 2, "pam_unix.so");
    json_t *hash = json_null();
    const char *hash_source = NULL;
    char defs_source[64] = "";
    bool nullok = false;
    const char *nullok_source = NULL;
    long remember = 0;
    const char *remember_source = "default";

    if (line != NULL) {
        for (size_t i = 0; i < PST_COUNT(hashes) && json_is_null(hash); i++) {
            if (has_arg(line, hashes[i])) {
                hash = json_string(hashes[i]);
                hash_source = line->source;
            }
        }
        if (json_is_null(hash)) {
            char *m = login_defs_method(s, defs_source, sizeof(defs_source));
            hash = m != NULL ? pst_json_text(m) : json_string("des");
            hash_source = m != NULL ? defs_source : "default";
            free(m);
        }
        const char *r = arg_value(line, "remember");
        if (r != NULL) {
            remember = strtol(r, NULL, 10);
            remember_source = line->source;
        }
    }
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->lines[i].module, "pam_unix.so") == 0 && has_arg(&s->lines[i], "nullok")) {
            nullok = true;
            nullok_source = s->lines[i].source;
            break;
        }
    }
    if (pst_facts_set(s->out, "unix_hash", hash, hash_source) != PST_OK ||
        pst_facts_set(s->out, "unix_nullok", json_boolean(nullok), nullok_source) != PST_OK ||
        pst_facts_set(s->out, "unix_remember", json_integer(remember), remember_source) != PST_OK) {
        return PST_ENOMEM;
    }
    return PST_OK;
}

static int pwhistory_facts(struct pam_scan *s)
{
    struct option opts[] = {
        OPT("pwhistory_remember", false, 10),
        OPT("pwhistory_enforce_for_root", true, 0),
    };
    const struct pam_line *line = find_module(s, 2, "pam_pwhistory.so");

    if (line != NULL) {
        const char *conf = arg_value(line, "conf");
        opts[0].name = "remember";
        opts[1].name = "enforce_for_root";
        read_conf(s, conf != NULL ? conf : "/etc/security/pwhistory.conf", opts, PST_COUNT(opts));
        apply_args(s, line, opts, PST_COUNT(opts));
        opts[0].name = "pwhistory_remember";
        opts[1].name = "pwhistory_enforce_for_root";
    }
    if (pst_facts_set(s->out, "pwhistory", json_boolean(line != NULL),
                      line ? line->source : NULL) != PST_OK) {
        return PST_ENOMEM;
    }
    return set_options(s, opts, PST_COUNT(opts), line != NULL, "default");
}

/*
 * Members of GROUP (by name, or the gid 0 group when NULL) in the root's /etc/group; the
 * group's name goes to FOUND[SIZE]. NULL when there is no such group.
 */
static json_t *group_members(struct pam_scan *s, const char *group, char *found, size_t size)
{
    char *buf = NULL, *cursor, *line;
    size_t len;
    long lineno = 0;
    json_t *members = NULL;

    if (pst_fs_read(s->ctx->fs, "/etc/group", PST_FS_TEXT_LIMIT, true, &buf, &len) != PST_OK) {
        return NULL;
    }
    cursor = buf;
    while (members == NULL && (line = pst_text_next_line(&cursor, &lineno)) != NULL) {
        char *f[4];
        int n = 0;
        char *p = line;
        while (n < 4 && p != NULL) {
            f[n++] = p;
            p = strchr(p, ':');
            if (p != NULL) {
                *p++ = '\0';
            }
        }
        if (n != 4 || (group != NULL ? strcmp(f[0], group) != 0 : strcmp(f[2], "0") != 0)) {
            continue;
        }
        members = json_array();
        snprintf(found, size, "%s", f[0]);
        for (char *m = f[3]; members != NULL && *m != '\0';) {
            size_t l = strcspn(m, ",");
            if (l > 0) {
                char name[1024];
                snprintf(name, sizeof(name), "%.*s", (int)(l < sizeof(name) ? l : sizeof(name) - 1),
                         m);
                json_array_append_new(members, pst_json_text(name));
            }
            m += l + (m[l] == ',');
        }
    }
    free(buf);
    return members;
}

static int wheel_facts(struct pam_scan *s)
{
    const struct pam_line *line = NULL;
    const char *group = NULL;
    json_t *members;

    for (size_t i = 0; i < s->n; i++) {
        const struct pam_line *l = &s->lines[i];
        if (l->type == 0 && strcmp(l->module, "pam_wheel.so") == 0 &&
            (strcmp(l->control, "required") == 0 || strcmp(l->control, "requisite") == 0) &&
            has_arg(l, "use_uid")) {
            line = l;
            break;
        }
    }
    if (line != NULL) {
        group = arg_value(line, "group");
    }
    char name[256] = "";
    members = NULL;
    if (line != NULL) {
        /* without group=, pam_wheel uses the group "wheel", or else the gid 0 group */
        members = group_members(s, group != NULL ? group : "wheel", name, sizeof(name));
        if (members == NULL && group == NULL) {
            members = group_members(s, NULL, name, sizeof(name));
        }
        if (group == NULL && name[0] != '\0') {
            group = name;
        }
    }
    if (pst_facts_set(s->out, "wheel", json_boolean(line != NULL), line ? line->source : NULL) !=
            PST_OK ||
        pst_facts_set(s->out, "wheel_group",
                      line == NULL ? json_null()
                      : group      ? pst_json_text(group)
                                   : json_null(),
                      line ? line->source : NULL) != PST_OK ||
        pst_facts_set(s->out, "wheel_group_members", members ? members : json_null(),
                      "/etc/group") != PST_OK) {
        return PST_ENOMEM;
    }
    return PST_OK;
}

static int pam_collect(struct pst_probe_ctx *ctx, const json_t *args, struct pst_facts *out)
{
    const char *service = json_string_value(json_object_get(args, "service"));
    struct pam_scan *s = calloc(1, sizeof(*s));
    char path[PATH_MAX];
    struct stat st;
    json_t *modules = NULL;
    int rc = PST_OK;

    if (s == NULL) {
        return PST_ENOMEM;
    }
    s->ctx = ctx;
    s->out = out;
    s->stack = json_object();
    modules = json_array();
    if (s->stack == NULL || modules == NULL) {
        rc = PST_ENOMEM;
        goto out;
    }
    if (strchr(service, '/') == NULL && service[0] != '.' &&
        snprintf(path, sizeof(path), "/etc/pam.d/%s", service) < (int)sizeof(path) &&
        pst_fs_stat(ctx->fs, path, true, &st) == PST_ENOENT) {
        rc = pst_facts_set(out, "exists", json_false(), path);
        goto out;
    }
    read_service(s, service, -1, 0);
    rc = s->rc;
    if (rc != PST_OK || s->incomplete) {
        goto out; /* facts stay out: a part of the stack could not be read */
    }
    for (size_t i = 0; i < s->n; i++) {
        char text[PATH_MAX + 16];
        snprintf(text, sizeof(text), "%s %s", pam_types[s->lines[i].type], s->lines[i].module);
        if (json_array_append_new(modules, pst_json_text(text)) != 0) {
            rc = PST_ENOMEM;
            goto out;
        }
    }
    if (pst_facts_set(out, "exists", json_true(), path) != PST_OK ||
        pst_facts_set(out, "modules", json_incref(modules), path) != PST_OK ||
        pwquality_facts(s) != PST_OK || faillock_facts(s) != PST_OK || unix_facts(s) != PST_OK ||
        pwhistory_facts(s) != PST_OK || wheel_facts(s) != PST_OK) {
        rc = PST_ENOMEM;
    }
    if (rc == PST_OK && s->rc != PST_OK) {
        rc = s->rc;
    }
out:
    for (size_t i = 0; i < s->n; i++) {
        free(s->lines[i].control);
        free(s->lines[i].module);
        free(s->lines[i].source);
        json_decref(s->lines[i].args);
    }
    json_decref(s->stack);
    json_decref(modules);
    free(s);
    return rc;
}

const struct pst_probe pst_probe_pam = {
    .name = "pam",
    .summary = "effective PAM settings of a service: pwquality, faillock, unix hash and "
               "history, wheel",
    .args = pam_args,
    .n_args = PST_COUNT(pam_args),
    .fields = pam_fields,
    .n_fields = PST_COUNT(pam_fields),
    .collect = pam_collect,
};
