/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Probe "bootloader": GRUB's boot password and the kernel command line. The password
 * (set superusers, password_pbkdf2) is read from /boot/grub/grub.cfg, or from the
 * /etc/grub.d scripts that generate it when there is no grub.cfg; the command line from
 * GRUB_CMDLINE_LINUX and GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub and
 * the .cfg files of /etc/default/grub.d (as update-grub sources them) and from every linux line of
 * grub.cfg.
 */
#include "probes/probe.h"

#include "agent/error.h"
#include "probes/text.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const struct pst_probe_field bootloader_fields[] = {
    {"grub_cfg_exists", PST_TYPE_BOOL, "/boot/grub/grub.cfg exists"},
    {"superusers", PST_TYPE_BOOL, "a set superusers= line protects the menu"},
    {"password_pbkdf2", PST_TYPE_BOOL, "a password_pbkdf2 line sets a hashed password"},
    {"password_plain", PST_TYPE_BOOL, "a plain-text password line exists"},
    {"default_kernel_params", PST_TYPE_LIST,
     "GRUB_CMDLINE_LINUX then GRUB_CMDLINE_LINUX_DEFAULT, split into words; null without "
     "/etc/default/grub"},
    {"grub_cfg_kernel_params", PST_TYPE_LIST,
     "parameters present on every linux line of grub.cfg; null without linux lines"},
    {"audit_backlog_limit", PST_TYPE_INT,
     "audit_backlog_limit= of the default command line; null if unset"},
};

/* Shell variables of /etc/default/grub that matter here, with $VAR expanded. */
struct grub_defaults {
    char linux_args[4096];
    char linux_default[4096];
    char source[PATH_MAX + 32];
    bool any;
};

/* Expands $NAME / ${NAME} of the two variables inside VALUE into DST. */
static void expand(const struct grub_defaults *g, const char *value, char *dst, size_t n)
{
    size_t o = 0;

    dst[0] = '\0';
    for (const char *p = value; *p != '\0' && o + 1 < n;) {
        const char *sub = NULL;
        size_t skip = 0;
        if (*p == '$') {
            static const char *const names[] = {"GRUB_CMDLINE_LINUX_DEFAULT", "GRUB_CMDLINE_LINUX"};
            for (size_t i = 0; i < 2 && sub == NULL; i++) {
                size_t len = strlen(names[i]);
                if (strncmp(p + 1, names[i], len) == 0) {
                    sub = i == 0 ? g->linux_default : g->linux_args;
                    skip = 1 + len;
                } else if (p[1] == '{' && strncmp(p + 2, names[i], len) == 0 && p[2 + len] == '}') {
                    sub = i == 0 ? g->linux_default : g->linux_args;
                    skip = 3 + len;
                }
            }
        }
        if (sub != NULL) {
            o += (size_t)snprintf(dst + o, n - o, "%s", sub);
            if (o >= n) {
                o = n - 1;
            }
            p += skip;
        } else {
            dst[o++] = *p++;
            dst[o] = '\0';
        }
    }
}

static void grub_defaults_file(struct pst_probe_ctx *ctx, struct pst_facts *out, const char *path,
                               struct grub_defaults *g)
{
    char *buf = NULL, *cursor, *line;
    size_t len;
    long lineno = 0;
    int rc = pst_fs_read(ctx->fs, path, PST_FS_TEXT_LIMIT, true, &buf, &len);

    if (rc != PST_OK) {
        if (rc != PST_ENOENT) {
            pst_facts_error(out, path, "read %s: %s", path, pst_strerror(rc));
        }
        return;
    }
    g->any = true;
    cursor = buf;
    while ((line = pst_text_next_line(&cursor, &lineno)) != NULL) {
        char *p = pst_text_skip_blanks(line);
        char *target;
        size_t skip;
        if (strncmp(p, "export", 6) == 0 && (p[6] == ' ' || p[6] == '\t')) {
            p = pst_text_skip_blanks(p + 6);
        }
        if (strncmp(p, "GRUB_CMDLINE_LINUX_DEFAULT=", 27) == 0) {
            target = g->linux_default;
            skip = 27;
        } else if (strncmp(p, "GRUB_CMDLINE_LINUX=", 19) == 0) {
            target = g->linux_args;
            skip = 19;
        } else {
            continue;
        }
        p += skip;
        pst_text_rstrip(p);
        pst_text_unquote(p);
        char expanded[sizeof(g->linux_args)];
        /* the value may name the variable it assigns: expand before overwriting it */
        expand(g, p, expanded, sizeof(expanded));
        memcpy(target, expanded, sizeof(expanded));
        snprintf(g->source, sizeof(g->source), "%s:%ld", path, lineno);
    }
    free(buf);
}

static json_t *split_words(const char *text)
{
    json_t *words = json_array();
    const char *p = text;

    while (words != NULL && *p != '\0') {
        p += strspn(p, " \t");
        size_t n = strcspn(p, " \t");
        char word[4096];
        snprintf(word, sizeof(word), "%.*s", (int)(n < sizeof(word) ? n : sizeof(word) - 1), p);
        if (n > 0 && json_array_append_new(words, pst_json_text(word)) != 0) {
            json_decref(words);
            return NULL;
        }
        p += n;
    }
    return words;
}

static bool has_word(const char *line, const char *word)
{
    size_t n = strlen(word);

    for (const char *p = line; (p = strstr(p, word)) != NULL; p += n) {
        if ((p == line || p[-1] == ' ' || p[-1] == '\t') &&
            (p[n] == '\0' || p[n] == ' ' || p[n] == '\t')) {
            return true;
        }
    }
    return false;
}

struct password_state {
    bool superusers, pbkdf2, plain;
    char source[PATH_MAX + 32];
};

static void scan_password_lines(char *buf, const char *path, struct password_state *ps)
{
    char *cursor = buf, *line;
    long lineno = 0;

    while ((line = pst_text_next_line(&cursor, &lineno)) != NULL) {
        char *p = pst_text_skip_blanks(line);
        bool hit = false;
        /* scripts of /etc/grub.d print these lines inside here-documents */
        if (strncmp(p, "set superusers=", 15) == 0) {
            ps->superusers = hit = true;
        } else if (strncmp(p, "password_pbkdf2", 15) == 0 && (p[15] == ' ' || p[15] == '\t')) {
            ps->pbkdf2 = hit = true;
        } else if (strncmp(p, "password", 8) == 0 && (p[8] == ' ' || p[8] == '\t')) {
            ps->plain = hit = true;
        }
        if (hit && ps->source[0] == '\0') {
            snprintf(ps->source, sizeof(ps->source), "%s:%ld", path, lineno);
        }
    }
}

static int bootloader_collect(struct pst_probe_ctx *ctx, const json_t *args, struct pst_facts *out)
{
    const char *cfg = "/boot/grub/grub.cfg";
    struct grub_defaults *g = calloc(1, sizeof(*g));
    struct password_state ps = {0};
    json_t *common = NULL, *defaults = NULL;
    char *buf = NULL;
    size_t len;
    bool cfg_exists = false, cfg_linux = false;
    json_t *backlog = json_null();
    int rc;

    (void)args;
    if (g == NULL) {
        return PST_ENOMEM;
    }
    rc = pst_fs_read(ctx->fs, cfg, PST_FS_TEXT_LIMIT, true, &buf, &len);
    if (rc == PST_OK) {
        char *copy = strdup(buf), *cursor, *line;
        long lineno = 0;
        cfg_exists = true;
        if (copy == NULL) {
            rc = PST_ENOMEM;
            goto out;
        }
        scan_password_lines(copy, cfg, &ps);
        free(copy);
        cursor = buf;
        while ((line = pst_text_next_line(&cursor, &lineno)) != NULL) {
            char *p = pst_text_skip_blanks(line);
            if (strncmp(p, "linux", 5) != 0 || (p[5] != ' ' && p[5] != '\t')) {
                continue;
            }
            /* linux /vmlinuz-... PARAMS: keep the parameters every entry has */
            p = pst_text_skip_blanks(p + 5);
            p += strcspn(p, " \t");
            json_t *words = split_words(p);
            if (words == NULL) {
                rc = PST_ENOMEM;
                goto out;
            }
            if (!cfg_linux) {
                common = words;
                cfg_linux = true;
                continue;
            }
            for (size_t i = json_array_size(common); i-- > 0;) {
                if (!has_word(p, json_string_value(json_array_get(common, i)))) {
                    json_array_remove(common, i);
                }
            }
            json_decref(words);
        }
    } else if (rc == PST_ENOENT) {
        json_t *names = NULL;
        size_t i;
        json_t *name;
        if (pst_fs_list(ctx->fs, "/etc/grub.d", &names) == PST_OK) {
            json_array_foreach(names, i, name)
            {
                char path[PATH_MAX];
                char *script = NULL;
                if (snprintf(path, sizeof(path), "/etc/grub.d/%s", json_string_value(name)) <
                        (int)sizeof(path) &&
                    pst_fs_read(ctx->fs, path, PST_FS_TEXT_LIMIT, true, &script, &len) == PST_OK) {
                    scan_password_lines(script, path, &ps);
                    free(script);
                }
            }
            json_decref(names);
        }
    } else {
        pst_facts_error(out, cfg, "read %s: %s", cfg, pst_strerror(rc));
        rc = rc == PST_ENOMEM ? rc : PST_OK;
        goto out;
    }
    grub_defaults_file(ctx, out, "/etc/default/grub", g);
    {
        json_t *names = NULL;
        size_t i;
        json_t *name;
        if (pst_fs_list(ctx->fs, "/etc/default/grub.d", &names) == PST_OK) {
            json_array_foreach(names, i, name)
            {
                const char *n = json_string_value(name);
                size_t l = strlen(n);
                char path[PATH_MAX];
                if (l > 4 && strcmp(n + l - 4, ".cfg") == 0 &&
                    snprintf(path, sizeof(path), "/etc/default/grub.d/%s", n) < (int)sizeof(path)) {
                    grub_defaults_file(ctx, out, path, g);
                }
            }
            json_decref(names);
        }
    }
    if (g->any) {
        char joined[8200];
        snprintf(joined, sizeof(joined), "%s %s", g->linux_args, g->linux_default);
        defaults = split_words(joined);
        if (defaults == NULL) {
            rc = PST_ENOMEM;
            goto out;
        }
        size_t i;
        json_t *w;
        json_array_foreach(defaults, i, w)
        {
            const char *s = json_string_value(w);
            if (strncmp(s, "audit_backlog_limit=", 20) == 0) {
                char *end;
                long v = strtol(s + 20, &end, 10);
                if (*end == '\0' && s[20] != '\0') {
                    json_decref(backlog);
                    backlog = json_integer(v);
                }
            }
        }
    }
    const char *psource = ps.source[0] ? ps.source : cfg_exists ? cfg : "/etc/grub.d";
    const char *dsource = g->source[0] ? g->source : "/etc/default/grub";
    rc = PST_OK;
    if (pst_facts_set(out, "grub_cfg_exists", json_boolean(cfg_exists), cfg) != PST_OK ||
        pst_facts_set(out, "superusers", json_boolean(ps.superusers), psource) != PST_OK ||
        pst_facts_set(out, "password_pbkdf2", json_boolean(ps.pbkdf2), psource) != PST_OK ||
        pst_facts_set(out, "password_plain", json_boolean(ps.plain), psource) != PST_OK ||
        pst_facts_set(out, "default_kernel_params", defaults ? json_incref(defaults) : json_null(),
                      dsource) != PST_OK ||
        pst_facts_set(out, "grub_cfg_kernel_params", common ? json_incref(common) : json_null(),
                      cfg) != PST_OK ||
        pst_facts_set(out, "audit_backlog_limit", json_incref(backlog), dsource) != PST_OK) {
        rc = PST_ENOMEM;
    }
out:
    json_decref(backlog);
    json_decref(common);
    json_decref(defaults);
    free(buf);
    free(g);
    return rc;
}

const struct pst_probe pst_probe_bootloader = {
    .name = "bootloader",
    .summary = "GRUB boot password and the kernel command line it boots with",
    .args = NULL,
    .n_args = 0,
    .fields = bootloader_fields,
    .n_fields = PST_COUNT(bootloader_fields),
    .collect = bootloader_collect,
};
