/* SPDX-License-Identifier: Apache-2.0 */
/* Drop-in configuration directories merged by file name, earlier directories shadowing later. */
#include "probes/confdirs.h"

#include "agent/error.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static bool has_suffix(const char *name, const char *const *suffixes)
{
    size_t len = strlen(name);

    for (size_t i = 0; suffixes[i] != NULL; i++) {
        size_t s = strlen(suffixes[i]);
        if (len > s && strcmp(name + len - s, suffixes[i]) == 0) {
            return true;
        }
    }
    return false;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int pst_confdirs_list(struct pst_fs *fs, const char *const *dirs, size_t n_dirs,
                      const char *const *suffixes, json_t **files, char *why, size_t n)
{
    json_t *chosen = json_object(); /* name -> full path, first directory wins */
    const char **names = NULL;
    size_t count = 0;
    int rc = PST_OK;

    *files = NULL;
    if (chosen == NULL) {
        return PST_ENOMEM;
    }
    for (size_t d = 0; d < n_dirs; d++) {
        json_t *entries = NULL;
        const char *name;
        json_t *type;
        rc = pst_fs_list_typed(fs, dirs[d], &entries);
        if (rc == PST_ENOENT || rc == PST_ETYPE) {
            rc = PST_OK; /* no such directory: nothing configured there */
            continue;
        }
        if (rc != PST_OK) {
            snprintf(why, n, "list %s: %s", dirs[d], pst_strerror(rc));
            goto out;
        }
        json_object_foreach(entries, name, type)
        {
            char path[4096];
            const char *t = json_string_value(type);
            if (name[0] == '.' || !has_suffix(name, suffixes) ||
                (strcmp(t, "file") != 0 && strcmp(t, "symlink") != 0) ||
                json_object_get(chosen, name) != NULL) {
                continue;
            }
            if (snprintf(path, sizeof(path), "%s/%s", dirs[d], name) >= (int)sizeof(path)) {
                continue;
            }
            if (json_object_set_new_nocheck(chosen, name, json_string_nocheck(path)) != 0) {
                rc = PST_ENOMEM;
                json_decref(entries);
                goto out;
            }
        }
        json_decref(entries);
    }
    count = json_object_size(chosen);
    names = calloc(count + 1, sizeof(*names));
    *files = json_array();
    if (names == NULL || *files == NULL) {
        rc = PST_ENOMEM;
        goto out;
    }
    {
        const char *name;
        json_t *path;
        size_t i = 0;
        json_object_foreach(chosen, name, path)
        {
            names[i++] = name;
        }
    }
    qsort(names, count, sizeof(*names), cmp_names);
    for (size_t i = 0; i < count; i++) {
        if (json_array_append(*files, json_object_get(chosen, names[i])) != 0) {
            rc = PST_ENOMEM;
            goto out;
        }
    }
out:
    if (rc != PST_OK) {
        json_decref(*files);
        *files = NULL;
    }
    free(names);
    json_decref(chosen);
    return rc;
}

int pst_confdirs_read(struct pst_fs *fs, const char *const *dirs, size_t n_dirs,
                      const char *const *suffixes,
                      int (*parse)(void *state, char *text, const char *path), void *state,
                      char **error)
{
    json_t *files = NULL;
    size_t i;
    json_t *f;
    char why[PATH_MAX + 64];
    int rc = pst_confdirs_list(fs, dirs, n_dirs, suffixes, &files, why, sizeof(why));

    if (rc == PST_ENOMEM) {
        return rc;
    }
    if (rc != PST_OK) {
        *error = strdup(why);
        return *error != NULL ? PST_OK : PST_ENOMEM;
    }
    json_array_foreach(files, i, f)
    {
        const char *path = json_string_value(f);
        char *buf = NULL;
        size_t len;
        struct stat st;
        rc = pst_fs_read(fs, path, PST_FS_TEXT_LIMIT, true, &buf, &len);
        if (rc == PST_ENOENT) {
            continue; /* a dangling symlink: systemd and kmod skip it */
        }
        if (rc == PST_ETYPE && pst_fs_stat(fs, path, true, &st) == PST_OK && S_ISCHR(st.st_mode)) {
            continue; /* a link to /dev/null masks the name and sets nothing */
        }
        if (rc != PST_OK) {
            if (rc == PST_ENOMEM || asprintf(error, "read %s: %s", path, pst_strerror(rc)) < 0) {
                *error = NULL;
                rc = PST_ENOMEM;
            } else {
                rc = PST_OK;
            }
            break;
        }
        rc = parse(state, buf, path);
        free(buf);
        if (rc != PST_OK) {
            break;
        }
    }
    json_decref(files);
    return rc == PST_ENOMEM ? rc : PST_OK;
}
