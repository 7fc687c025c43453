/* SPDX-License-Identifier: Apache-2.0 */
/* Probe "file": existence, type, mode, owners and size of one path (stat or lstat). */
#include "probes/probe.h"

#include "agent/error.h"

#include <sys/stat.h>

static const struct pst_probe_arg file_args[] = {
    {.name = "path",
     .type = PST_TYPE_STRING,
     .required = true,
     .path = true,
     .description = "absolute path inside the scanned root"},
    {.name = "follow",
     .type = PST_TYPE_BOOL,
     .default_value = "true",
     .description = "follow a final symlink (stat) or describe the link itself (lstat)"},
};

static const struct pst_probe_field file_fields[] = {
    {"exists", PST_TYPE_BOOL,
     "the path exists (a dangling symlink exists only with follow: false)"},
    {"type", PST_TYPE_STRING, "file, directory, symlink, fifo, socket, char or block"},
    {"mode", PST_TYPE_MODE, "permission bits with setuid, setgid and sticky, as \"0644\""},
    {"owner", PST_TYPE_STRING, "owning user's name from the root's /etc/passwd, or the uid"},
    {"group", PST_TYPE_STRING, "owning group's name from the root's /etc/group, or the gid"},
    {"uid", PST_TYPE_INT, "owning user id"},
    {"gid", PST_TYPE_INT, "owning group id"},
    {"size", PST_TYPE_INT, "size in bytes"},
};

static const char *type_of(mode_t mode)
{
    switch (mode & S_IFMT) {
    case S_IFREG:
        return "file";
    case S_IFDIR:
        return "directory";
    case S_IFLNK:
        return "symlink";
    case S_IFIFO:
        return "fifo";
    case S_IFSOCK:
        return "socket";
    case S_IFCHR:
        return "char";
    case S_IFBLK:
        return "block";
    default:
        return "unknown";
    }
}

static json_t *name_or_id(const char *name, long id)
{
    return name != NULL ? json_string(name) : json_sprintf("%ld", id);
}

static int file_collect(struct pst_probe_ctx *ctx, const json_t *args, struct pst_facts *out)
{
    const char *path = json_string_value(json_object_get(args, "path"));
    bool follow = json_is_true(json_object_get(args, "follow"));
    struct stat st;
    char mode[8];
    int rc = pst_fs_stat(ctx->fs, path, follow, &st);

    if (rc == PST_ENOENT) {
        return pst_facts_set(out, "exists", json_false(), path);
    }
    if (rc != PST_OK) {
        pst_facts_error(out, path, "%s %s: %s", follow ? "stat" : "lstat", path, pst_strerror(rc));
        return PST_OK;
    }
    pst_mode_format(st.st_mode, mode);
    if (pst_facts_set(out, "exists", json_true(), path) != PST_OK ||
        pst_facts_set(out, "type", json_string(type_of(st.st_mode)), path) != PST_OK ||
        pst_facts_set(out, "mode", json_string(mode), path) != PST_OK ||
        pst_facts_set(out, "owner",
                      name_or_id(pst_probe_user_name(ctx, (long)st.st_uid), (long)st.st_uid),
                      path) != PST_OK ||
        pst_facts_set(out, "group",
                      name_or_id(pst_probe_group_name(ctx, (long)st.st_gid), (long)st.st_gid),
                      path) != PST_OK ||
        pst_facts_set(out, "uid", json_integer(st.st_uid), path) != PST_OK ||
        pst_facts_set(out, "gid", json_integer(st.st_gid), path) != PST_OK ||
        pst_facts_set(out, "size", json_integer(st.st_size), path) != PST_OK) {
        return PST_ENOMEM;
    }
    return PST_OK;
}

const struct pst_probe pst_probe_file = {
    .name = "file",
    .summary = "existence, type, mode, owner and size of a path",
    .args = file_args,
    .n_args = PST_COUNT(file_args),
    .fields = file_fields,
    .n_fields = PST_COUNT(file_fields),
    .collect = file_collect,
};
