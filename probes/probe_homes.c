/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Probe "homes": the home directories of interactive users (a login shell listed in the
 * root's /etc/shells), their owners and modes, and the dot files in them.
 */
#include "probes/probe.h"

#include "agent/error.h"
#include "probes/text.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct pst_probe_arg homes_args[] = {
    {.name = "max_mode",
     .type = PST_TYPE_MODE,
     .default_value = "0750",
     .description = "most permissive mode a home directory may have"},
    {.name = "forbidden",
     .type = PST_TYPE_LIST,
     .default_value = ".rhosts,.netrc,.forward,.shosts",
     .description = "file names that must not exist in a home directory"},
    {.name = "include_root",
     .type = PST_TYPE_BOOL,
     .default_value = "true",
     .description = "check root's home too, when root has a login shell (as CIS does)"},
    {.name = "max_findings",
     .type = PST_TYPE_INT,
     .default_value = "20",
     .description = "findings kept as evidence per field; the counts count them all"},
};

static const struct pst_probe_field homes_fields[] = {
    {"users", PST_TYPE_INT, "interactive users checked"},
    {"missing", PST_TYPE_FINDINGS, "users whose home directory does not exist {user, home}"},
    {"missing_count", PST_TYPE_INT, "how many"},
    {"bad_owner", PST_TYPE_FINDINGS,
     "home directories not owned by their user {user, home, owner}"},
    {"bad_owner_count", PST_TYPE_INT, "how many"},
    {"bad_mode", PST_TYPE_FINDINGS,
     "home directories more permissive than max_mode {user, home, mode}"},
    {"bad_mode_count", PST_TYPE_INT, "how many"},
    {"forbidden_files", PST_TYPE_FINDINGS, "forbidden files present {user, path}"},
    {"forbidden_files_count", PST_TYPE_INT, "how many"},
    {"writable_dotfiles", PST_TYPE_FINDINGS,
     "dot files writable by their group or by others {user, path, mode}"},
    {"writable_dotfiles_count", PST_TYPE_INT, "how many"},
};

enum list { MISSING, BAD_OWNER, BAD_MODE, FORBIDDEN, WW_DOTFILES, N_LISTS };

static const char *const list_fields[N_LISTS] = {"missing", "bad_owner", "bad_mode",
                                                 "forbidden_files", "writable_dotfiles"};

struct homes {
    struct pst_probe_ctx *ctx;
    json_t *lists[N_LISTS];
    long counts[N_LISTS];
    long max_findings;
    char *error; /* the first home that could not be read: its answers would be incomplete */
    bool nomem;
};

static void add(struct homes *h, enum list kind, json_t *item)
{
    h->counts[kind]++;
    if (item == NULL) {
        h->nomem = true;
    } else if ((long)json_array_size(h->lists[kind]) < h->max_findings) {
        if (json_array_append_new(h->lists[kind], item) != 0) {
            h->nomem = true;
        }
    } else {
        json_decref(item);
    }
}

/* The login shells of the root's /etc/shells, nologin and false excluded. */
static json_t *login_shells(struct pst_probe_ctx *ctx, struct pst_facts *out, int *rc)
{
    json_t *shells = json_object();
    char *buf = NULL, *cursor, *line;
    size_t len;
    long lineno = 0;

    *rc = pst_fs_read(ctx->fs, "/etc/shells", PST_FS_TEXT_LIMIT, true, &buf, &len);
    if (*rc != PST_OK) {
        pst_facts_error(out, "/etc/shells", "read /etc/shells: %s", pst_strerror(*rc));
        json_decref(shells);
        return NULL;
    }
    cursor = buf;
    while (shells != NULL && (line = pst_text_next_line(&cursor, &lineno)) != NULL) {
        line = pst_text_skip_blanks(line);
        pst_text_rstrip(line);
        if (line[0] == '/' && strstr(line, "nologin") == NULL && strstr(line, "/false") == NULL) {
            json_object_set_new_nocheck(shells, line, json_true());
        }
    }
    free(buf);
    return shells;
}

static void check_home(struct homes *h, const char *user, long uid, const char *home,
                       const json_t *args)
{
    struct pst_fs *fs = h->ctx->fs;
    struct stat st;
    unsigned max_mode = 0750;
    json_t *names = NULL;
    size_t i;
    json_t *name;
    char mode[8];

    pst_mode_parse(json_string_value(json_object_get(args, "max_mode")), &max_mode);
    if (pst_fs_stat(fs, home, true, &st) != PST_OK || !S_ISDIR(st.st_mode)) {
        add(h, MISSING,
            json_pack("{s:o, s:o}", "user", pst_json_text(user), "home", pst_json_text(home)));
        return;
    }
    if ((long)st.st_uid != uid) {
        const char *owner = pst_probe_user_name(h->ctx, (long)st.st_uid);
        add(h, BAD_OWNER,
            json_pack("{s:o, s:o, s:o}", "user", pst_json_text(user), "home", pst_json_text(home),
                      "owner", owner ? json_string(owner) : json_sprintf("%ld", (long)st.st_uid)));
    }
    pst_mode_format(st.st_mode, mode);
    /* setgid and sticky bits are not permissions given to others */
    if ((st.st_mode & 0777 & ~max_mode) != 0) {
        add(h, BAD_MODE,
            json_pack("{s:o, s:o, s:s}", "user", pst_json_text(user), "home", pst_json_text(home),
                      "mode", mode));
    }
    int rc = pst_fs_list(fs, home, &names);
    if (rc != PST_OK) {
        if (rc == PST_ENOMEM) {
            h->nomem = true;
        } else if (h->error == NULL &&
                   asprintf(&h->error, "list %s: %s", home, pst_strerror(rc)) < 0) {
            h->error = NULL;
        }
        return;
    }
    json_array_foreach(names, i, name)
    {
        const char *n = json_string_value(name);
        char path[PATH_MAX];
        size_t k;
        const json_t *f;
        if (n[0] != '.' ||
            snprintf(path, sizeof(path), "%s%s%s", home, home[strlen(home) - 1] == '/' ? "" : "/",
                     n) >= (int)sizeof(path)) {
            continue;
        }
        json_array_foreach(json_object_get(args, "forbidden"), k, f)
        {
            if (strcmp(json_string_value(f), n) == 0) {
                add(h, FORBIDDEN,
                    json_pack("{s:o, s:o}", "user", pst_json_text(user), "path",
                              pst_json_text(path)));
            }
        }
        if (pst_fs_stat(fs, path, false, &st) == PST_OK && !S_ISLNK(st.st_mode) &&
            (st.st_mode & (S_IWGRP | S_IWOTH))) {
            pst_mode_format(st.st_mode, mode);
            add(h, WW_DOTFILES,
                json_pack("{s:o, s:o, s:s}", "user", pst_json_text(user), "path",
                          pst_json_text(path), "mode", mode));
        }
    }
    json_decref(names);
}

static int homes_collect(struct pst_probe_ctx *ctx, const json_t *args, struct pst_facts *out)
{
    struct homes h = {.ctx = ctx};
    bool include_root = json_is_true(json_object_get(args, "include_root"));
    json_t *shells = NULL;
    char *buf = NULL, *cursor, *line;
    size_t len;
    long lineno = 0, users = 0;
    int rc;

    h.max_findings = (long)json_integer_value(json_object_get(args, "max_findings"));
    shells = login_shells(ctx, out, &rc);
    if (shells == NULL) {
        return rc == PST_ENOMEM ? rc : PST_OK;
    }
    rc = pst_fs_read(ctx->fs, "/etc/passwd", PST_FS_TEXT_LIMIT, true, &buf, &len);
    if (rc != PST_OK) {
        pst_facts_error(out, "/etc/passwd", "read /etc/passwd: %s", pst_strerror(rc));
        rc = rc == PST_ENOMEM ? rc : PST_OK;
        goto out;
    }
    for (int k = 0; k < N_LISTS; k++) {
        h.lists[k] = json_array();
        if (h.lists[k] == NULL) {
            rc = PST_ENOMEM;
            goto out;
        }
    }
    cursor = buf;
    while (!h.nomem && (line = pst_text_next_line(&cursor, &lineno)) != NULL) {
        /* name:password:uid:gid:gecos:home:shell */
        char *field[7];
        int n = 0;
        char *p = line;
        while (n < 7) {
            field[n++] = p;
            p = strchr(p, ':');
            if (p == NULL) {
                break;
            }
            *p++ = '\0';
        }
        if (n < 7 || line[0] == '#' || line[0] == '+' || line[0] == '-' ||
            json_object_get(shells, field[6]) == NULL || field[5][0] != '/') {
            continue;
        }
        char *end;
        errno = 0;
        long uid = strtol(field[2], &end, 10);
        if (errno != 0 || *end != '\0' || end == field[2] || (uid == 0 && !include_root)) {
            continue;
        }
        users++;
        check_home(&h, field[0], uid, field[5], args);
    }
    if (h.nomem) {
        rc = PST_ENOMEM;
        goto out;
    }
    rc = pst_facts_set(out, "users", json_integer(users), "/etc/passwd");
    if (h.error != NULL) {
        /* a home that cannot be read may hold what the checks look for */
        pst_facts_error(out, NULL, "%s%s", h.error,
                        geteuid() != 0 ? " (a complete assessment needs root)" : "");
        goto out;
    }
    for (int k = 0; k < N_LISTS && rc == PST_OK; k++) {
        char count[64];
        snprintf(count, sizeof(count), "%s_count", list_fields[k]);
        if (pst_facts_set(out, list_fields[k], json_incref(h.lists[k]), "/etc/passwd") != 0 ||
            pst_facts_set(out, count, json_integer(h.counts[k]), "/etc/passwd") != 0) {
            rc = PST_ENOMEM;
        }
    }
out:
    for (int k = 0; k < N_LISTS; k++) {
        json_decref(h.lists[k]);
    }
    json_decref(shells);
    free(h.error);
    free(buf);
    return rc;
}

const struct pst_probe pst_probe_homes = {
    .name = "homes",
    .summary = "interactive users' home directories: existence, owner, mode, dot files",
    .args = homes_args,
    .n_args = PST_COUNT(homes_args),
    .fields = homes_fields,
    .n_fields = PST_COUNT(homes_fields),
    .collect = homes_collect,
};
