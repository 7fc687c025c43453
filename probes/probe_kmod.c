/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Probe "kmod": whether a kernel module can be loaded, from modprobe.d as libkmod reads it
 * (install commands, blacklists) and modules.builtin (a built-in module is always there),
 * and whether it is loaded now (/proc/modules).
 */
#include "probes/probe.h"

#include "agent/error.h"
#include "probes/confdirs.h"
#include "probes/text.h"

#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MEMO_KEY "kmod.config"
#define BUILTIN_KEY "kmod.builtin"
/* kernels of an offline root whose modules.builtin is read */
#define KERNELS_MAX 64
#define MODULES_LIMIT (4u * 1024u * 1024u)
#define NAME_MAX_LEN 255
#define WARNINGS_MAX 20

/*
 * libkmod's configuration directories, highest precedence first. kmod 30 (Debian 12) reads
 * /lib/modprobe.d, later versions /usr/lib/modprobe.d too; with a merged /usr they are one.
 */
static const char *const modprobe_dirs[] = {
    "/etc/modprobe.d",     "/run/modprobe.d", "/usr/local/lib/modprobe.d",
    "/usr/lib/modprobe.d", "/lib/modprobe.d",
};
/* the source of a setting no modprobe.d file makes */
#define MODPROBE_DIRS_TEXT "not set in modprobe.d"

static const struct pst_probe_arg kmod_args[] = {
    {.name = "name",
     .type = PST_TYPE_STRING,
     .required = true,
     .description = "module name; dashes and underscores are the same, as for modprobe"},
};

static const struct pst_probe_field kmod_fields[] = {
    {"loadable", PST_TYPE_BOOL,
     "modprobe would load it: false when its install command is /bin/false or /bin/true"},
    {"install", PST_TYPE_STRING,
     "the install command modprobe runs instead of loading it (the first matching line); null "
     "if none"},
    {"blacklisted", PST_TYPE_BOOL, "a blacklist line names it (no loading through its aliases)"},
    {"loaded", PST_TYPE_BOOL, "loaded now (/proc/modules); false for an offline root"},
    {"builtin", PST_TYPE_BOOL,
     "built into the kernel (modules.builtin of the running kernel; offline, of any kernel "
     "installed in the root): always there, whatever modprobe.d says, and loadable then"},
};

/*
 * libkmod's underscores(): '-' becomes '_' outside [...] ranges. Returns false on an
 * unmatched bracket, which libkmod reports as a bad line.
 */
static bool underscores(char *s)
{
    for (char *p = s; *p != '\0'; p++) {
        if (*p == '[') {
            char *close = strchr(p, ']');
            if (close == NULL) {
                return false;
            }
            p = close;
        } else if (*p == '-') {
            *p = '_';
        }
    }
    return true;
}

struct config {
    json_t *install;   /* [{pattern, command, source}] in reading order */
    json_t *blacklist; /* name -> source of its first blacklist line */
    json_t *warnings;
    char *error;
};

static void warn(struct config *c, const char *path, long line, const char *word)
{
    char text[PATH_MAX + 128];

    if (json_array_size(c->warnings) < WARNINGS_MAX) {
        snprintf(text, sizeof(text),
                 "%s:%ld: bad line starting with '%.40s', ignored (as modprobe does)", path, line,
                 word);
        json_array_append_new(c->warnings, pst_json_text(text));
    }
}

/*
 * Joins continuation lines in place as libkmod's freadline_wrapped(): a line ending in a
 * backslash goes on with the next one (the backslash and newline removed). Returns the
 * logical line or NULL at the end; *lineno is the number of its first physical line.
 */
static char *next_logical_line(char **cursor, long *counter, long *lineno)
{
    char *start = pst_text_next_line(cursor, counter);
    char *end;

    if (start == NULL) {
        return NULL;
    }
    *lineno = *counter;
    end = start + strlen(start);
    while (end > start && end[-1] == '\\' && **cursor != '\0') {
        char *next = pst_text_next_line(cursor, counter);
        size_t n = strlen(next);
        /* the pieces are contiguous in the buffer: move the next one over the backslash */
        memmove(end - 1, next, n + 1);
        end = end - 1 + n;
    }
    return start;
}

/* Cuts the next blank-separated word off *rest (NUL-terminating it); NULL when none is left. */
static char *next_word(char **rest)
{
    char *word = *rest + strspn(*rest, " \t");
    size_t n = strcspn(word, " \t");

    if (n == 0) {
        *rest = word;
        return NULL;
    }
    *rest = word + n + (word[n] != '\0');
    word[n] = '\0';
    return word;
}

static int parse_file(struct config *c, char *buf, const char *path)
{
    char *cursor = buf;
    char *line;
    long counter = 0, lineno = 0;

    while ((line = next_logical_line(&cursor, &counter, &lineno)) != NULL) {
        char source[PATH_MAX + 32];
        char *rest = line;
        char *cmd;
        if (line[0] == '\0' || line[0] == '#') {
            continue;
        }
        cmd = next_word(&rest);
        if (cmd == NULL) {
            continue;
        }
        snprintf(source, sizeof(source), "%s:%ld", path, lineno);
        if (strcmp(cmd, "blacklist") == 0) {
            char *name = next_word(&rest);
            if (name == NULL || !underscores(name)) {
                warn(c, path, lineno, cmd);
                continue;
            }
            if (json_object_get(c->blacklist, name) == NULL &&
                json_object_set_new_nocheck(c->blacklist, name, pst_json_text(source)) != 0) {
                return PST_ENOMEM;
            }
        } else if (strcmp(cmd, "install") == 0) {
            char *name = next_word(&rest);
            char *command = pst_text_skip_blanks(rest);
            json_t *entry;
            if (name == NULL || *command == '\0' || !underscores(name)) {
                warn(c, path, lineno, cmd);
                continue;
            }
            pst_text_rstrip(command);
            entry = json_pack("{s:o, s:o, s:o}", "pattern", json_string_nocheck(name), "command",
                              pst_json_text(command), "source", pst_json_text(source));
            if (entry == NULL || json_array_append_new(c->install, entry) != 0) {
                return PST_ENOMEM;
            }
        } else if (strcmp(cmd, "alias") != 0 && strcmp(cmd, "options") != 0 &&
                   strcmp(cmd, "remove") != 0 && strcmp(cmd, "softdep") != 0 &&
                   strcmp(cmd, "weakdep") != 0 && strcmp(cmd, "include") != 0 &&
                   strcmp(cmd, "config") != 0) {
            warn(c, path, lineno, cmd);
        }
    }
    return PST_OK;
}

static int parse_config_file(void *state, char *text, const char *path)
{
    return parse_file(state, text, path);
}

static int load_config(struct pst_probe_ctx *ctx, struct config *c)
{
    static const char *const suffixes[] = {".conf", ".alias", NULL};
    return pst_confdirs_read(ctx->fs, modprobe_dirs, PST_COUNT(modprobe_dirs), suffixes,
                             parse_config_file, c, &c->error);
}

static const json_t *config_memo(struct pst_probe_ctx *ctx, int *rc)
{
    json_t *memo = json_object_get(ctx->memo, MEMO_KEY);
    struct config c = {0};

    *rc = PST_OK;
    if (memo != NULL) {
        return memo;
    }
    c.install = json_array();
    c.blacklist = json_object();
    c.warnings = json_array();
    if (c.install == NULL || c.blacklist == NULL || c.warnings == NULL) {
        *rc = PST_ENOMEM;
        goto out;
    }
    *rc = load_config(ctx, &c);
    if (*rc != PST_OK) {
        goto out;
    }
    memo = json_pack("{s:O, s:O, s:O, s:s?}", "install", c.install, "blacklist", c.blacklist,
                     "warnings", c.warnings, "error", c.error);
    if (memo == NULL || json_object_set_new(ctx->memo, MEMO_KEY, memo) != 0) {
        *rc = PST_ENOMEM;
        memo = NULL;
    }
out:
    json_decref(c.install);
    json_decref(c.blacklist);
    json_decref(c.warnings);
    free(c.error);
    return memo;
}

/*
 * The modules built into the kernel: name -> "FILE:LINE" of its modules.builtin line. On a
 * running system, the running kernel's list; on an offline root, those of every kernel
 * installed there, since the next boot may start any of them. A kernel without the file
 * (a custom or container kernel) adds nothing. Memoised per scan.
 */
static const json_t *builtin_memo(struct pst_probe_ctx *ctx, int *rc)
{
    json_t *memo = json_object_get(ctx->memo, BUILTIN_KEY);
    json_t *kernels = NULL;
    size_t i;
    json_t *k;

    *rc = PST_OK;
    if (memo != NULL) {
        return memo;
    }
    memo = json_object();
    if (memo == NULL) {
        *rc = PST_ENOMEM;
        return NULL;
    }
    if (pst_fs_is_live(ctx->fs)) {
        char *release = NULL;
        size_t len;
        kernels = json_array();
        if (kernels != NULL && pst_fs_read(ctx->fs, "/proc/sys/kernel/osrelease", 256, true,
                                           &release, &len) == PST_OK) {
            release[strcspn(release, "\n")] = '\0';
            json_array_append_new(kernels, pst_json_text(release));
        }
        free(release);
    } else if (pst_fs_list(ctx->fs, "/lib/modules", &kernels) != PST_OK) {
        kernels = json_array(); /* no kernel installed */
    }
    if (kernels == NULL) {
        *rc = PST_ENOMEM;
        goto out;
    }
    json_array_foreach(kernels, i, k)
    {
        char path[PATH_MAX], *buf = NULL, *cursor, *line;
        size_t len;
        long lineno = 0;
        const char *release = json_string_value(k);
        if (i >= KERNELS_MAX || strchr(release, '/') != NULL || release[0] == '.') {
            continue;
        }
        snprintf(path, sizeof(path), "/lib/modules/%s/modules.builtin", release);
        if (pst_fs_read(ctx->fs, path, MODULES_LIMIT, true, &buf, &len) != PST_OK) {
            continue;
        }
        cursor = buf;
        while ((line = pst_text_next_line(&cursor, &lineno)) != NULL) {
            /* kernel/fs/squashfs/squashfs.ko -> squashfs, as depmod names it */
            char *base = strrchr(line, '/') ? strrchr(line, '/') + 1 : line;
            size_t n = strlen(base);
            char source[PATH_MAX + 32];
            if (n <= 3 || strcmp(base + n - 3, ".ko") != 0) {
                continue;
            }
            base[n - 3] = '\0';
            if (!underscores(base) || json_object_get(memo, base) != NULL) {
                continue;
            }
            snprintf(source, sizeof(source), "%s:%ld", path, lineno);
            if (json_object_set_new_nocheck(memo, base, pst_json_text(source)) != 0) {
                *rc = PST_ENOMEM;
                break;
            }
        }
        free(buf);
        if (*rc != PST_OK) {
            goto out;
        }
    }
    if (json_object_set(ctx->memo, BUILTIN_KEY, memo) != 0) {
        *rc = PST_ENOMEM;
    }
out:
    json_decref(kernels);
    json_decref(memo); /* the memo holds it now */
    return *rc == PST_OK ? memo : NULL;
}

/* An install command that loads nothing: its program is true or false. */
static bool command_blocks(const char *command)
{
    size_t n = strcspn(command, " \t;");
    const char *base = command;

    for (size_t i = 0; i < n; i++) {
        if (command[i] == '/') {
            base = command + i + 1;
        }
    }
    n -= (size_t)(base - command);
    return (n == 4 && strncmp(base, "true", 4) == 0) || (n == 5 && strncmp(base, "false", 5) == 0);
}

/* Whether NAME (underscored) is in /proc/modules. */
static int loaded_now(struct pst_probe_ctx *ctx, struct pst_facts *out, const char *name,
                      bool *loaded)
{
    json_t *modules = json_object_get(ctx->memo, "/proc/modules");
    char *buf = NULL;
    size_t len;
    int rc;

    if (modules == NULL) {
        char *cursor, *line;
        long lineno = 0;
        rc = pst_fs_read(ctx->fs, "/proc/modules", MODULES_LIMIT, true, &buf, &len);
        if (rc == PST_ENOENT) {
            /* a kernel without loadable module support */
            buf = strdup("");
            rc = buf != NULL ? PST_OK : PST_ENOMEM;
        }
        if (rc != PST_OK) {
            if (rc != PST_ENOMEM) {
                pst_facts_error(out, "/proc/modules", "read /proc/modules: %s", pst_strerror(rc));
            }
            return rc;
        }
        modules = json_object();
        cursor = buf;
        while (modules != NULL && (line = pst_text_next_line(&cursor, &lineno)) != NULL) {
            line[strcspn(line, " \t")] = '\0';
            if (*line != '\0') {
                json_object_set_new_nocheck(modules, line, json_true());
            }
        }
        free(buf);
        if (modules == NULL || json_object_set_new(ctx->memo, "/proc/modules", modules) != 0) {
            return PST_ENOMEM;
        }
    }
    *loaded = json_object_get(modules, name) != NULL;
    return PST_OK;
}

static int collect_module(struct pst_probe_ctx *ctx, const json_t *args, struct pst_facts *out,
                          const json_t **memo_out)
{
    const char *given = json_string_value(json_object_get(args, "name"));
    char name[NAME_MAX_LEN + 1];
    const json_t *memo;
    const char *error;
    const json_t *entry = NULL, *e;
    size_t i;
    bool loaded = false;
    int rc;

    if (strlen(given) > NAME_MAX_LEN || strpbrk(given, "/ \t*?[") != NULL) {
        pst_facts_error(out, NULL, "'%s' is not a module name", given);
        return PST_OK;
    }
    snprintf(name, sizeof(name), "%s", given);
    underscores(name);
    memo = config_memo(ctx, &rc);
    if (rc != PST_OK) {
        return rc;
    }
    *memo_out = memo;
    error = json_string_value(json_object_get(memo, "error"));
    if (error != NULL) {
        pst_facts_error(out, NULL, "%s", error);
    } else {
        const json_t *black = json_object_get(json_object_get(memo, "blacklist"), name);
        json_array_foreach(json_object_get(memo, "install"), i, e)
        {
            /* libkmod takes the first install line whose name pattern matches */
            if (fnmatch(json_string_value(json_object_get(e, "pattern")), name, 0) == 0) {
                entry = e;
                break;
            }
        }
        const char *command = json_string_value(json_object_get(entry, "command"));
        const char *source =
            entry ? json_string_value(json_object_get(entry, "source")) : MODPROBE_DIRS_TEXT;
        /* a built-in module is there before modprobe.d is read: no install line applies */
        const json_t *builtins = builtin_memo(ctx, &rc);
        const char *built_at = json_string_value(json_object_get(builtins, name));
        if (rc != PST_OK) {
            return rc;
        }
        if (pst_facts_set(out, "install", command ? pst_json_text(command) : json_null(), source) !=
                PST_OK ||
            pst_facts_set(out, "loadable",
                          json_boolean(built_at != NULL || !(command && command_blocks(command))),
                          built_at != NULL ? built_at : source) != PST_OK ||
            pst_facts_set(out, "builtin", json_boolean(built_at != NULL),
                          built_at != NULL ? built_at
                          : pst_fs_is_live(ctx->fs)
                              ? "the running kernel's modules.builtin"
                              : "modules.builtin of the kernels in /lib/modules") != PST_OK ||
            pst_facts_set(out, "blacklisted", json_boolean(black != NULL),
                          black ? json_string_value(black) : MODPROBE_DIRS_TEXT) != PST_OK) {
            return PST_ENOMEM;
        }
    }
    if (!pst_fs_is_live(ctx->fs)) {
        /* an offline root runs no kernel: nothing is loaded; loadable says what boot may do */
        return pst_facts_set(out, "loaded", json_false(), "offline root");
    }
    rc = loaded_now(ctx, out, name, &loaded);
    if (rc == PST_ENOMEM) {
        return rc;
    }
    if (rc == PST_OK) {
        return pst_facts_set(out, "loaded", json_boolean(loaded), "/proc/modules");
    }
    return PST_OK;
}

static int kmod_collect(struct pst_probe_ctx *ctx, const json_t *args, struct pst_facts *out)
{
    const json_t *memo = NULL;
    size_t i;
    const json_t *w;
    int rc = collect_module(ctx, args, out, &memo);

    json_array_foreach(json_object_get(memo, "warnings"), i, w)
    {
        pst_facts_error(out, NULL, "%s", json_string_value(w));
    }
    return rc;
}

const struct pst_probe pst_probe_kmod = {
    .name = "kmod",
    .summary = "a kernel module: whether modprobe.d lets it load, whether it is built into the "
               "kernel, and whether it is loaded",
    .args = kmod_args,
    .n_args = PST_COUNT(kmod_args),
    .fields = kmod_fields,
    .n_fields = PST_COUNT(kmod_fields),
    .collect = kmod_collect,
};
