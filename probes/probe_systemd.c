/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Probe "systemd": whether a system unit is enabled, as `systemctl is-enabled` decides it
 * from the unit files, their [Install] sections and the symlinks in every unit directory,
 * and, on a running system, whether it is active.
 */
#include "probes/probe.h"

#include "agent/error.h"
#include "probes/confdirs.h"
#include "probes/exec.h"
#include "probes/text.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define INDEX_KEY "systemd.index"
#define UNIT_LIMIT (1024u * 1024u)
#define UNIT_NAME_MAX 255
/* systemd's UNIT_FILE_FOLLOW_SYMLINK_MAX */
#define FOLLOW_MAX 64
#define LINKS_MAX 40
#define ACTIVE_TIMEOUT_MS 3000

enum dir_kind { DIR_CONFIG, DIR_RUNTIME, DIR_GENERATOR, DIR_TRANSIENT, DIR_VENDOR };

/* The system unit search path of systemd 252 (lookup_paths_init), highest precedence first. */
static const struct {
    const char *path;
    enum dir_kind kind;
} unit_dirs[] = {
    {"/etc/systemd/system.control", DIR_CONFIG}, {"/run/systemd/system.control", DIR_RUNTIME},
    {"/run/systemd/transient", DIR_TRANSIENT},   {"/run/systemd/generator.early", DIR_GENERATOR},
    {"/etc/systemd/system", DIR_CONFIG},         {"/etc/systemd/system.attached", DIR_CONFIG},
    {"/run/systemd/system", DIR_RUNTIME},        {"/run/systemd/system.attached", DIR_RUNTIME},
    {"/run/systemd/generator", DIR_GENERATOR},   {"/usr/local/lib/systemd/system", DIR_VENDOR},
    {"/usr/lib/systemd/system", DIR_VENDOR},     {"/run/systemd/generator.late", DIR_GENERATOR},
};
#define PERSISTENT_CONFIG 4 /* /etc/systemd/system: links there mean "enabled" */

static const char *const unit_suffixes[] = {".service", ".socket",    ".target", ".device",
                                            ".mount",   ".automount", ".swap",   ".timer",
                                            ".path",    ".slice",     ".scope"};

static const struct pst_probe_arg systemd_args[] = {
    {.name = "unit",
     .type = PST_TYPE_STRING,
     .required = true,
     .description = "system unit name with its suffix: cron.service, getty@tty1.service"},
};

static const struct pst_probe_field systemd_fields[] = {
    {"state", PST_TYPE_STRING,
     "what systemctl is-enabled answers: enabled, enabled-runtime, linked, linked-runtime, "
     "alias, masked, masked-runtime, static, indirect, disabled, generated, transient; absent "
     "when there is no such unit"},
    {"enabled", PST_TYPE_BOOL,
     "the unit starts at boot: enabled, enabled-runtime, alias or generated (a SysV script "
     "with start links counts)"},
    {"path", PST_TYPE_STRING, "the unit file that defines it; null when absent"},
    {"active", PST_TYPE_STRING,
     "systemctl is-active on a running system (active, inactive, failed...)"},
};

/* What systemd's install code knows of one unit name (UnitFileInstallInfo). */
struct info {
    char name[UNIT_NAME_MAX + 1];
    char *path;   /* where the unit file was found (inside the root) */
    char *target; /* for a symlink: where it points, directories resolved */
    enum { T_INVALID, T_REGULAR, T_SYMLINK, T_MASKED } type;
    json_t *aliases;
    char *default_instance;
    long rules, also;
};

struct lookup {
    struct pst_probe_ctx *ctx;
    const json_t *index; /* one {entries, links} per unit directory */
    char error[PATH_MAX + 128];
};

/* --- unit names ------------------------------------------------------------------------ */

static bool name_valid(const char *name)
{
    const char *dot = strrchr(name, '.');
    const char *at = strchr(name, '@');
    bool suffix = false;

    if (dot == NULL || dot == name || strlen(name) > UNIT_NAME_MAX ||
        strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:-_.\\@") !=
            strlen(name)) {
        return false;
    }
    for (size_t i = 0; i < PST_COUNT(unit_suffixes); i++) {
        suffix = suffix || strcmp(dot, unit_suffixes[i]) == 0;
    }
    if (!suffix) {
        return false;
    }
    /* at most one '@', not first, in the name part */
    return at == NULL || (at != name && at < dot && strchr(at + 1, '@') == NULL);
}

static bool is_instance(const char *name)
{
    const char *at = strchr(name, '@');
    return at != NULL && at[1] != '.';
}

static bool is_template(const char *name)
{
    const char *at = strchr(name, '@');
    return at != NULL && at[1] == '.';
}

/* foo@bar.service -> foo@.service */
static void template_of(const char *name, char *out, size_t n)
{
    const char *at = strchr(name, '@');
    const char *dot = strrchr(name, '.');

    snprintf(out, n, "%.*s@%s", (int)(at - name), name, dot);
}

/* foo@.service with instance I -> foo@I.service */
static void with_instance(const char *template, const char *instance, char *out, size_t n)
{
    const char *at = strchr(template, '@');

    if (snprintf(out, n, "%.*s@%s%s", (int)(at - template), template, instance, at + 1) >= (int)n) {
        out[0] = '\0'; /* too long for a unit name: matches nothing */
    }
}

/* the instance of foo@bar.service into OUT */
static void instance_of(const char *name, char *out, size_t n)
{
    const char *at = strchr(name, '@');
    const char *dot = strrchr(name, '.');

    snprintf(out, n, "%.*s", (int)(dot - at - 1), at + 1);
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* PATH equals PREFIX or lies under it, component-wise (path_startswith). */
static bool path_under(const char *path, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* --- the index of unit directories --------------------------------------------------- */

/*
 * For each unit directory: its entries (name -> type) and the symlinks in it and in its
 * *.wants and *.requires subdirectories, with the names they point to. Built once a scan.
 */
static const json_t *unit_index(struct lookup *l, int *rc)
{
    struct pst_probe_ctx *ctx = l->ctx;
    json_t *memo = json_object_get(ctx->memo, INDEX_KEY);
    json_t *index;

    *rc = PST_OK;
    if (memo != NULL) {
        const char *error = json_string_value(json_object_get(memo, "error"));
        snprintf(l->error, sizeof(l->error), "%s", error ? error : "");
        return json_object_get(memo, "dirs");
    }
    index = json_array();
    if (index == NULL) {
        *rc = PST_ENOMEM;
        return NULL;
    }
    for (size_t d = 0; d < PST_COUNT(unit_dirs) && *rc == PST_OK; d++) {
        json_t *entries = NULL;
        json_t *links = json_array();
        const char *name;
        json_t *type;
        int r = pst_fs_list_typed(ctx->fs, unit_dirs[d].path, &entries);
        if (r == PST_ENOENT || r == PST_ETYPE) {
            entries = json_object(); /* no such directory */
        } else if (r != PST_OK) {
            snprintf(l->error, sizeof(l->error), "list %s: %s", unit_dirs[d].path, pst_strerror(r));
            entries = json_object();
        }
        if (entries == NULL || links == NULL) {
            json_decref(entries);
            json_decref(links);
            *rc = PST_ENOMEM;
            break;
        }
        json_object_foreach(entries, name, type)
        {
            const char *t = json_string_value(type);
            const char *suffix = strrchr(name, '.');
            char sub[PATH_MAX];
            if (strcmp(t, "symlink") == 0) {
                snprintf(sub, sizeof(sub), "%s/%s", unit_dirs[d].path, name);
                char *dest = NULL;
                if (pst_fs_readlink(ctx->fs, sub, &dest) == PST_OK) {
                    json_array_append_new(links, json_pack("{s:o, s:o, s:b}", "name",
                                                           json_string_nocheck(name), "dest",
                                                           json_string_nocheck(base_name(dest)),
                                                           "direct", 1));
                }
                free(dest);
                continue;
            }
            if (strcmp(t, "directory") != 0 || suffix == NULL ||
                (strcmp(suffix, ".wants") != 0 && strcmp(suffix, ".requires") != 0)) {
                continue;
            }
            json_t *subentries = NULL;
            const char *sname;
            json_t *stype;
            snprintf(sub, sizeof(sub), "%s/%s", unit_dirs[d].path, name);
            if (pst_fs_list_typed(ctx->fs, sub, &subentries) != PST_OK) {
                continue; /* systemd logs and goes on */
            }
            json_object_foreach(subentries, sname, stype)
            {
                /* only the link's own name counts there: no need to read it */
                if (strcmp(json_string_value(stype), "symlink") == 0) {
                    json_array_append_new(
                        links,
                        json_pack("{s:o, s:b}", "name", json_string_nocheck(sname), "direct", 0));
                }
            }
            json_decref(subentries);
        }
        if (json_array_append_new(
                index, json_pack("{s:o, s:o}", "entries", entries, "links", links)) != 0) {
            *rc = PST_ENOMEM;
        }
    }
    if (*rc == PST_OK) {
        memo = json_pack("{s:o, s:s?}", "dirs", index, "error", l->error[0] ? l->error : NULL);
        if (memo != NULL && json_object_set_new(ctx->memo, INDEX_KEY, memo) == 0) {
            return index;
        }
        *rc = PST_ENOMEM;
        return NULL;
    }
    json_decref(index);
    return NULL;
}

/* --- paths inside the root ----------------------------------------------------------- */

/*
 * Resolves the directories of PATH inside the root (symlinks followed, "." and ".." folded),
 * leaving its last component as it is, as systemd's chase_symlinks(CHASE_NOFOLLOW) does.
 * Returns a new string or NULL (out of memory, or a loop).
 */
static char *chase_dirs(struct pst_fs *fs, const char *path)
{
    char *todo = strdup(path);
    char *done = calloc(1, PATH_MAX);
    char *result = NULL;
    int links = 0;

    if (todo == NULL || done == NULL) {
        goto out;
    }
    for (char *p = todo;;) {
        char *name;
        size_t n;
        p += strspn(p, "/");
        if (*p == '\0') {
            break;
        }
        n = strcspn(p, "/");
        name = p;
        p += n;
        bool last = p[strspn(p, "/")] == '\0';
        if (*p != '\0') {
            *p++ = '\0';
        }
        if (strcmp(name, ".") == 0) {
            continue;
        }
        if (strcmp(name, "..") == 0) {
            char *slash = strrchr(done, '/');
            if (slash != NULL) {
                *slash = '\0';
            }
            continue;
        }
        size_t used = strlen(done);
        if (used + 1 + strlen(name) >= PATH_MAX) {
            goto out;
        }
        snprintf(done + used, PATH_MAX - used, "/%s", name);
        if (last) {
            break;
        }
        char *target = NULL;
        if (pst_fs_readlink(fs, done, &target) != PST_OK) {
            continue; /* not a symlink (or missing: CHASE_NONEXISTENT) */
        }
        if (++links > LINKS_MAX) {
            free(target);
            goto out;
        }
        done[used] = '\0';
        if (target[0] == '/') {
            done[0] = '\0';
        }
        char *rest = NULL;
        if (asprintf(&rest, "%s/%s", target, p) < 0) {
            free(target);
            goto out;
        }
        free(target);
        free(todo);
        todo = rest;
        p = todo;
    }
    result = done[0] != '\0' ? strdup(done) : strdup("/");
out:
    free(todo);
    free(done);
    return result;
}

/* --- unit files ------------------------------------------------------------------------ */

/* Expands the specifiers [Install] values may use for names (%n %N %p %i %j %%). */
static void expand(const struct info *info, const char *in, char *out, size_t n)
{
    char prefix[UNIT_NAME_MAX + 1], instance[UNIT_NAME_MAX + 1] = "", stem[UNIT_NAME_MAX + 1];
    const char *at = strchr(info->name, '@');
    const char *dot = strrchr(info->name, '.');
    size_t w = 0;

    snprintf(stem, sizeof(stem), "%.*s", (int)(dot - info->name), info->name);
    snprintf(prefix, sizeof(prefix), "%.*s", (int)((at ? at : dot) - info->name), info->name);
    if (at != NULL) {
        instance_of(info->name, instance, sizeof(instance));
    }
    for (const char *p = in; *p != '\0' && w + 1 < n; p++) {
        const char *sub = NULL;
        if (*p == '%' && p[1] != '\0') {
            switch (p[1]) {
            case 'n':
                sub = info->name;
                break;
            case 'N':
                sub = stem;
                break;
            case 'p':
                sub = prefix;
                break;
            case 'i':
                sub = instance;
                break;
            case 'j': {
                const char *dash = strrchr(prefix, '-');
                sub = dash ? dash + 1 : prefix;
                break;
            }
            case '%':
                sub = "%";
                break;
            default:
                break;
            }
        }
        if (sub != NULL) {
            w += (size_t)snprintf(out + w, n - w, "%s", sub);
            p++;
        } else {
            out[w++] = *p;
        }
        if (w >= n) {
            w = n - 1;
        }
    }
    out[w] = '\0';
}

/* Reads the [Install] section of BUF into INFO, as systemd's config_parse() reads it. */
static void parse_install(struct info *info, char *buf)
{
    char *cursor = buf, *line;
    long lineno = 0;
    bool install = false;

    while ((line = pst_text_next_line(&cursor, &lineno)) != NULL) {
        /* continuation lines: a trailing backslash joins the next line */
        size_t len = strlen(line);
        while (len > 0 && line[len - 1] == '\\' && *cursor != '\0') {
            char *next = pst_text_next_line(&cursor, &lineno);
            size_t nl = strlen(next);
            line[len - 1] = ' ';
            memmove(line + len, next, nl + 1);
            len += nl;
        }
        line = pst_text_skip_blanks(line);
        pst_text_rstrip(line);
        if (*line == '\0' || *line == '#' || *line == ';') {
            continue;
        }
        if (*line == '[') {
            install = strcmp(line, "[Install]") == 0;
            continue;
        }
        char *eq = strchr(line, '=');
        if (!install || eq == NULL) {
            continue;
        }
        *eq = '\0';
        pst_text_rstrip(line);
        char *value = pst_text_skip_blanks(eq + 1);
        bool alias = strcmp(line, "Alias") == 0;
        /* systemd 252's install code knows no UpheldBy= */
        bool rule = alias || strcmp(line, "WantedBy") == 0 || strcmp(line, "RequiredBy") == 0;
        if (strcmp(line, "DefaultInstance") == 0) {
            free(info->default_instance);
            info->default_instance = NULL;
            if (is_template(info->name) && *value != '\0') {
                char expanded[UNIT_NAME_MAX + 1];
                expand(info, value, expanded, sizeof(expanded));
                info->default_instance = strdup(expanded);
            }
            continue;
        }
        if (!rule && strcmp(line, "Also") != 0) {
            continue;
        }
        if (*value == '\0' && rule) {
            /* an empty assignment resets the list; counting per key is close enough */
            if (alias) {
                json_array_clear(info->aliases);
            }
            continue;
        }
        for (char *p = value; *p != '\0';) {
            size_t n;
            p += strspn(p, " \t");
            n = strcspn(p, " \t");
            if (n == 0) {
                break;
            }
            char word[UNIT_NAME_MAX + 1], expanded[UNIT_NAME_MAX + 1];
            snprintf(word, sizeof(word), "%.*s", (int)(n < sizeof(word) ? n : sizeof(word) - 1), p);
            p += n;
            if (word[0] == '"' || word[0] == '\'') {
                size_t wl = strlen(word);
                if (wl >= 2 && word[wl - 1] == word[0]) {
                    word[wl - 1] = '\0';
                    memmove(word, word + 1, wl - 1);
                }
            }
            if (strcmp(line, "Also") == 0) {
                info->also++;
            } else {
                info->rules++;
                if (alias) {
                    expand(info, word, expanded, sizeof(expanded));
                    json_array_append_new(info->aliases, json_string_nocheck(expanded));
                }
            }
        }
    }
}

static void info_reset(struct info *info)
{
    free(info->path);
    free(info->target);
    free(info->default_instance);
    json_decref(info->aliases);
    memset(info, 0, sizeof(*info));
}

static int info_init(struct info *info, const char *name)
{
    memset(info, 0, sizeof(*info));
    snprintf(info->name, sizeof(info->name), "%s", name);
    info->aliases = json_array();
    return info->aliases != NULL ? PST_OK : PST_ENOMEM;
}

/*
 * Loads the file at PATH into INFO (unit_file_load_or_readlink): 0 when loaded, PST_ENOENT
 * when missing, another PST_E* code when it cannot be used.
 */
static int load_path(struct lookup *l, struct info *info, const char *path)
{
    struct pst_fs *fs = l->ctx->fs;
    struct stat st;
    int rc = pst_fs_stat(fs, path, false, &st);

    if (rc != PST_OK) {
        /* systemd, as root, skips what it cannot open; unreadable here means not root */
        return rc;
    }
    free(info->path);
    info->path = strdup(path);
    if (info->path == NULL) {
        return PST_ENOMEM;
    }
    if (S_ISLNK(st.st_mode)) {
        char *text = NULL, *joined = NULL;
        struct stat tst;
        rc = pst_fs_readlink(fs, path, &text);
        if (rc != PST_OK) {
            return rc;
        }
        if (text[0] == '/') {
            joined = text;
            text = NULL;
        } else {
            char dir[PATH_MAX];
            snprintf(dir, sizeof(dir), "%.*s", (int)(base_name(path) - path - 1), path);
            if (asprintf(&joined, "%s/%s", dir, text) < 0) {
                joined = NULL;
            }
        }
        free(text);
        if (joined == NULL) {
            return PST_ENOMEM;
        }
        free(info->target);
        info->target = chase_dirs(fs, joined);
        free(joined);
        if (info->target == NULL) {
            return PST_ELOOP;
        }
        /* an offline root may have no /dev: a link to /dev/null masks all the same */
        if (strcmp(info->target, "/dev/null") == 0 ||
            (pst_fs_stat(fs, info->target, true, &tst) == PST_OK &&
             (S_ISCHR(tst.st_mode) || S_ISBLK(tst.st_mode) ||
              (S_ISREG(tst.st_mode) && tst.st_size == 0)))) {
            info->type = T_MASKED;
        } else {
            info->type = T_SYMLINK;
        }
        return PST_OK;
    }
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || (S_ISREG(st.st_mode) && st.st_size == 0)) {
        info->type = T_MASKED;
        return PST_OK;
    }
    if (S_ISDIR(st.st_mode)) {
        return PST_ETYPE;
    }
    char *buf = NULL;
    size_t len;
    rc = pst_fs_read(fs, path, UNIT_LIMIT, true, &buf, &len);
    if (rc != PST_OK) {
        return rc;
    }
    parse_install(info, buf);
    free(buf);
    info->type = T_REGULAR;
    return PST_OK;
}

/* The drop-ins of a found unit: NAME.d (and TEMPLATE.d) *.conf across the search path. */
static int load_dropins(struct lookup *l, struct info *info, const char *template)
{
    static const char *const suffixes[] = {".conf", NULL};
    const char *dirs[2 * PST_COUNT(unit_dirs)];
    char paths[2 * PST_COUNT(unit_dirs)][PATH_MAX];
    size_t n = 0;
    json_t *files = NULL;
    size_t i;
    json_t *f;
    char why[PATH_MAX + 64];
    int rc;

    for (int pass = 0; pass < 2; pass++) {
        const char *base = pass == 0 ? info->name : template;
        if (base == NULL) {
            continue;
        }
        for (size_t d = 0; d < PST_COUNT(unit_dirs); d++) {
            char dname[UNIT_NAME_MAX + 4];
            snprintf(dname, sizeof(dname), "%s.d", base);
            const json_t *type =
                json_object_get(json_object_get(json_array_get(l->index, d), "entries"), dname);
            if (type == NULL) {
                continue;
            }
            snprintf(paths[n], PATH_MAX, "%s/%s", unit_dirs[d].path, dname);
            dirs[n] = paths[n];
            n++;
        }
    }
    if (n == 0) {
        return PST_OK;
    }
    rc = pst_confdirs_list(l->ctx->fs, dirs, n, suffixes, &files, why, sizeof(why));
    if (rc != PST_OK) {
        return rc == PST_ENOMEM ? rc : PST_OK;
    }
    json_array_foreach(files, i, f)
    {
        char *buf = NULL;
        size_t len;
        if (pst_fs_read(l->ctx->fs, json_string_value(f), UNIT_LIMIT, true, &buf, &len) == PST_OK) {
            parse_install(info, buf);
        }
        free(buf);
    }
    json_decref(files);
    return PST_OK;
}

/* unit_file_search(): the unit file of INFO's name (or its template) along the search path. */
static int search(struct lookup *l, struct info *info)
{
    char template[UNIT_NAME_MAX + 1];
    bool have_template = is_instance(info->name);
    int rc = PST_ENOENT;

    if (have_template) {
        template_of(info->name, template, sizeof(template));
    }
    for (int pass = 0; pass < 2 && rc == PST_ENOENT; pass++) {
        const char *name = pass == 0 ? info->name : (have_template ? template : NULL);
        if (name == NULL) {
            break;
        }
        for (size_t d = 0; d < PST_COUNT(unit_dirs); d++) {
            char path[PATH_MAX];
            if (json_object_get(json_object_get(json_array_get(l->index, d), "entries"), name) ==
                NULL) {
                continue;
            }
            snprintf(path, sizeof(path), "%s/%s", unit_dirs[d].path, name);
            rc = load_path(l, info, path);
            if (rc != PST_ENOENT) {
                break;
            }
        }
    }
    if (rc != PST_OK || info->type == T_MASKED) {
        return rc;
    }
    return load_dropins(l, info, have_template ? template : NULL);
}

/* install_info_traverse(): follows symlinks to the unit file, aliases by name. */
static int traverse(struct lookup *l, struct info *info)
{
    int rc = search(l, info);

    for (int k = 0; rc == PST_OK && info->type == T_SYMLINK; k++) {
        const char *bn = base_name(info->target);
        char buffer[UNIT_NAME_MAX + 1];
        if (k >= FOLLOW_MAX) {
            return PST_ELOOP;
        }
        if (strcmp(bn, info->name) != 0 && is_instance(info->name) && is_template(bn)) {
            char instance[UNIT_NAME_MAX + 1];
            instance_of(info->name, instance, sizeof(instance));
            with_instance(bn, instance, buffer, sizeof(buffer));
            if (strcmp(buffer, info->name) == 0) {
                bn = info->name; /* the instance filled in: the same name, follow the link */
            } else {
                bn = buffer;
            }
        }
        if (strcmp(bn, info->name) == 0) {
            char *target = info->target;
            info->target = NULL;
            info->type = T_INVALID;
            rc = load_path(l, info, target);
            free(target);
            continue;
        }
        /* an alias: start again with the name it points to */
        if (!name_valid(bn)) {
            return PST_EINVAL;
        }
        char next[UNIT_NAME_MAX + 1];
        snprintf(next, sizeof(next), "%s", bn);
        info_reset(info);
        rc = info_init(info, next);
        if (rc == PST_OK) {
            rc = search(l, info);
            if (rc == PST_ENOENT) {
                return PST_ELOOP; /* systemd: ENOLINK, the link points nowhere */
            }
        }
    }
    return rc;
}

static bool known_name(const struct info *info, const char *name)
{
    size_t i;
    const json_t *a;

    if (strcmp(name, info->name) == 0) {
        return true;
    }
    json_array_foreach(info->aliases, i, a)
    {
        if (strcmp(json_string_value(a), name) == 0) {
            return true;
        }
    }
    if (info->default_instance != NULL && is_template(info->name)) {
        char n[UNIT_NAME_MAX + 1];
        with_instance(info->name, info->default_instance, n, sizeof(n));
        return strcmp(n, name) == 0;
    }
    return false;
}

/*
 * find_symlinks() of one directory: 1 found, 0 not; *same_name for a same-name link. In the
 * .wants/.requires directories (systemd 252 has no .upholds here) only a link's own name counts
 * (its name, or the template of an instance name); in the directory itself, also where it points.
 */
static int find_symlinks(const struct info *info, const json_t *links, bool match_aliases,
                         bool ignore_same_name, bool *same_name)
{
    size_t i;
    const json_t *link;

    /* systemd looks in the .wants/.requires directories first, then the directory itself */
    for (int pass = 0; pass < 2; pass++) {
        json_array_foreach(links, i, link)
        {
            const char *name = json_string_value(json_object_get(link, "name"));
            bool direct = json_is_true(json_object_get(link, "direct"));
            bool found_path = false, found_dest = false;
            if (direct != (pass == 1)) {
                continue;
            }
            if (!direct) {
                found_path = strcmp(name, info->name) == 0;
                if (!found_path && is_instance(name)) {
                    char template[UNIT_NAME_MAX + 1];
                    template_of(name, template, sizeof(template));
                    found_dest = strcmp(template, info->name) == 0;
                }
            } else {
                found_path = !ignore_same_name && strcmp(name, info->name) == 0;
                found_dest =
                    strcmp(json_string_value(json_object_get(link, "dest")), info->name) == 0;
            }
            if (found_path && found_dest && direct) {
                *same_name = true;
            } else if ((found_path || found_dest) && (!match_aliases || known_name(info, name))) {
                return 1;
            }
        }
    }
    return 0;
}

static bool dir_is_runtime(size_t d)
{
    return unit_dirs[d].kind == DIR_RUNTIME || unit_dirs[d].kind == DIR_GENERATOR ||
           unit_dirs[d].kind == DIR_TRANSIENT;
}

static bool path_is_runtime(const char *path)
{
    return path_under(path, "/run");
}

static bool path_in_kind(const char *path, enum dir_kind kind)
{
    for (size_t d = 0; d < PST_COUNT(unit_dirs); d++) {
        if (unit_dirs[d].kind == kind && path_under(path, unit_dirs[d].path)) {
            return true;
        }
    }
    return false;
}

/* find_symlinks_in_scope(): where the unit is linked in. NULL when nowhere. */
static const char *find_in_scope(struct lookup *l, const struct info *info, bool match_aliases)
{
    bool same_config = false, same_runtime = false, enabled_runtime = false, enabled_at_all = false;
    bool ignore_same_name = false;

    for (size_t d = 0; d < PST_COUNT(unit_dirs); d++) {
        bool same_name = false;
        const json_t *links = json_object_get(json_array_get(l->index, d), "links");
        if (find_symlinks(info, links, match_aliases, ignore_same_name, &same_name)) {
            if (d == PERSISTENT_CONFIG) {
                return "enabled";
            }
            if (dir_is_runtime(d)) {
                enabled_runtime = true;
            } else {
                enabled_at_all = true;
            }
        } else if (same_name) {
            if (d == PERSISTENT_CONFIG) {
                same_config = true;
            } else if (dir_is_runtime(d)) {
                same_runtime = true;
            }
        }
        /* same-name links below the unit file itself are masked by it */
        if (!ignore_same_name && path_under(info->path, unit_dirs[d].path)) {
            ignore_same_name = true;
        }
    }
    if (enabled_runtime) {
        return "enabled-runtime";
    }
    if (enabled_at_all && is_instance(info->name)) {
        return "static";
    }
    if (same_config) {
        return "linked";
    }
    if (same_runtime) {
        return "linked-runtime";
    }
    return NULL;
}

/* A SysV init script, as systemctl asks systemd-sysv-install: start links in rcS.d or rc5.d. */
static int sysv_state(struct lookup *l, const char *unit, const char **state, char *source,
                      size_t n)
{
    char name[UNIT_NAME_MAX + 1], script[PATH_MAX];
    struct stat st;
    const char *dot = strrchr(unit, '.');

    *state = NULL;
    if (dot == NULL || strcmp(dot, ".service") != 0) {
        return PST_OK;
    }
    snprintf(name, sizeof(name), "%.*s", (int)(dot - unit), unit);
    snprintf(script, sizeof(script), "/etc/init.d/%s", name);
    if (pst_fs_stat(l->ctx->fs, script, true, &st) != PST_OK) {
        return PST_OK;
    }
    *state = "disabled";
    snprintf(source, n, "%s", script);
    for (const char *const *dir = (const char *const[]){"/etc/rcS.d", "/etc/rc5.d", NULL};
         *dir != NULL; dir++) {
        json_t *names = NULL;
        size_t i;
        json_t *e;
        if (pst_fs_list(l->ctx->fs, *dir, &names) != PST_OK) {
            continue;
        }
        json_array_foreach(names, i, e)
        {
            const char *s = json_string_value(e);
            if (s[0] == 'S' && strlen(s) == strlen(name) + 3 && strcmp(s + 3, name) == 0) {
                *state = "enabled";
                snprintf(source, n, "%s/%s", *dir, s);
            }
        }
        json_decref(names);
    }
    return PST_OK;
}

/* unit_file_lookup_state(). *state is static text; *path the unit file, or NULL. */
static int lookup_state(struct lookup *l, const char *name, const char **state, char **path)
{
    struct info info;
    int rc = info_init(&info, name);

    *state = NULL;
    *path = NULL;
    if (rc != PST_OK) {
        return rc;
    }
    rc = traverse(l, &info);
    if (rc != PST_OK) {
        goto out;
    }
    *path = info.path ? strdup(info.path) : NULL;
    if (info.type == T_MASKED) {
        *state = path_is_runtime(info.path) ? "masked-runtime" : "masked";
    } else if (strcmp(name, base_name(info.path)) != 0 && !is_instance(info.name)) {
        *state = "alias";
    } else if (path_in_kind(info.path, DIR_GENERATOR)) {
        *state = "generated";
    } else if (path_in_kind(info.path, DIR_TRANSIENT)) {
        *state = "transient";
    } else if ((*state = find_in_scope(l, &info, true)) != NULL) {
        /* linked in under a name systemctl enable would create */
    } else if (find_in_scope(l, &info, false) != NULL) {
        *state = "indirect";
    } else if (info.rules > 0) {
        *state = "disabled";
    } else if (info.also > 0) {
        *state = "indirect";
    } else {
        *state = "static";
    }
out:
    info_reset(&info);
    return rc;
}

/*
 * `systemctl is-active UNIT`, run directly (no shell, probes/exec.c) with a timeout. Fills
 * OUT[N] with its first line (it exits non-zero for an inactive unit and says so). Returns 0,
 * or PST_EIO when it could not run or did not answer in time.
 */
static int is_active(const char *unit, char *out, size_t n)
{
    static const char *const systemctl[] = {"/usr/bin/systemctl", "/bin/systemctl"};
    const char *prog = NULL;
    char *sout = NULL, *serr = NULL, why[256];
    int status;

    for (size_t i = 0; i < PST_COUNT(systemctl) && prog == NULL; i++) {
        if (access(systemctl[i], X_OK) == 0) {
            prog = systemctl[i];
        }
    }
    if (prog == NULL) {
        return PST_EIO;
    }
    const char *const argv[] = {prog, "is-active", "--", unit, NULL};
    if (pst_exec_capture(argv, ACTIVE_TIMEOUT_MS, 4096, &sout, &serr, &status, why, sizeof why) !=
        PST_OK) {
        return PST_EIO;
    }
    snprintf(out, n, "%.*s", (int)strcspn(sout, "\r\n"), sout);
    free(sout);
    free(serr);
    return out[0] != '\0' ? PST_OK : PST_EIO;
}

static int systemd_collect(struct pst_probe_ctx *ctx, const json_t *args, struct pst_facts *out)
{
    const char *unit = json_string_value(json_object_get(args, "unit"));
    struct lookup l = {.ctx = ctx};
    const char *state = NULL;
    char *path = NULL;
    char source[PATH_MAX + 32];
    int rc;

    if (!name_valid(unit)) {
        pst_facts_error(out, NULL, "'%s' is not a unit name", unit);
        return PST_OK;
    }
    l.index = unit_index(&l, &rc);
    if (rc != PST_OK) {
        return rc;
    }
    if (l.error[0] != '\0') {
        pst_facts_error(out, NULL, "%s", l.error);
        return PST_OK;
    }
    rc = lookup_state(&l, unit, &state, &path);
    if (rc == PST_ENOENT) {
        /* no unit file: systemctl then asks the SysV script, if there is one */
        sysv_state(&l, unit, &state, source, sizeof(source));
        if (state == NULL) {
            state = "absent";
            snprintf(source, sizeof(source), "systemd unit directories");
        }
        rc = PST_OK;
    } else if (rc == PST_ENOMEM) {
        goto out;
    } else if (rc != PST_OK) {
        pst_facts_error(out, path, "%s: %s", unit,
                        rc == PST_ELOOP ? "too many levels of symbolic links, or a link to nothing"
                                        : pst_strerror(rc));
        rc = PST_OK;
        goto active;
    } else {
        snprintf(source, sizeof(source), "%s", path ? path : "systemd unit directories");
    }
    bool enabled = strcmp(state, "enabled") == 0 || strcmp(state, "enabled-runtime") == 0 ||
                   strcmp(state, "alias") == 0 || strcmp(state, "generated") == 0;
    if (pst_facts_set(out, "state", json_string(state), source) != PST_OK ||
        pst_facts_set(out, "enabled", json_boolean(enabled), source) != PST_OK ||
        pst_facts_set(out, "path", path ? pst_json_text(path) : json_null(), source) != PST_OK) {
        rc = PST_ENOMEM;
        goto out;
    }
active:
    if (!pst_fs_is_live(ctx->fs)) {
        pst_facts_error(out, "active", "active: not available for an offline root");
    } else {
        struct stat st;
        char answer[64];
        if (pst_fs_stat(ctx->fs, "/run/systemd/system", true, &st) != PST_OK) {
            pst_facts_error(out, "active", "active: systemd is not running on this system");
        } else if (is_active(unit, answer, sizeof(answer)) != PST_OK) {
            pst_facts_error(out, "active", "active: systemctl is-active %s gave no answer", unit);
        } else if (pst_facts_set(out, "active", pst_json_text(answer), "systemctl is-active") !=
                   PST_OK) {
            rc = PST_ENOMEM;
        }
    }
out:
    free(path);
    return rc;
}

const struct pst_probe pst_probe_systemd = {
    .name = "systemd",
    .summary = "a system unit: enabled as systemctl is-enabled decides, and active",
    .args = systemd_args,
    .n_args = PST_COUNT(systemd_args),
    .fields = systemd_fields,
    .n_fields = PST_COUNT(systemd_fields),
    .collect = systemd_collect,
};
