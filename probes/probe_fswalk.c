/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Probe "fswalk": one bounded walk of the filesystem that answers every filesystem-wide
 * question at once: world-writable files, world-writable directories without the sticky
 * bit, unowned entries, SUID/SGID programs and whether a package installed them.
 */
#include "probes/probe.h"

#include "agent/error.h"
#include "probes/findings.h"
#include "probes/text.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

/* Most SUID/SGID paths kept in the suid_sgid_paths list; more is an error, not a cut. */
#define SUID_PATHS_MAX 10000
/* Bytes of directory entries read at once. */
#define DIRENT_BUFFER 32768
/* Most entries one walk visits before it stops with an error. */
#define ENTRIES_MAX 50000000L

/* Magic numbers (statfs f_type) of the filesystem types the skip_fstypes argument names. */
#ifndef CIFS_SUPER_MAGIC
#define CIFS_SUPER_MAGIC 0xff534d42
#endif
#ifndef SMB2_SUPER_MAGIC
#define SMB2_SUPER_MAGIC 0xfe534d42
#endif
#ifndef FUSE_SUPER_MAGIC
#define FUSE_SUPER_MAGIC 0x65735546
#endif
#ifndef CEPH_SUPER_MAGIC
#define CEPH_SUPER_MAGIC 0x00c36400
#endif
#ifndef MQUEUE_MAGIC
#define MQUEUE_MAGIC 0x19800202
#endif
#ifndef NFS_SUPER_MAGIC
#define NFS_SUPER_MAGIC 0x6969
#endif

static const struct {
    const char *name;
    unsigned long magic;
} fstypes[] = {
    {"proc", PROC_SUPER_MAGIC},     {"sysfs", SYSFS_MAGIC},
    {"cgroup", CGROUP_SUPER_MAGIC}, {"cgroup2", CGROUP2_SUPER_MAGIC},
    {"devpts", DEVPTS_SUPER_MAGIC}, {"debugfs", DEBUGFS_MAGIC},
    {"tracefs", TRACEFS_MAGIC},     {"securityfs", SECURITYFS_MAGIC},
    {"bpf", BPF_FS_MAGIC},          {"pstore", PSTOREFS_MAGIC},
    {"mqueue", MQUEUE_MAGIC},       {"hugetlbfs", HUGETLBFS_MAGIC},
    {"autofs", AUTOFS_SUPER_MAGIC}, {"efivarfs", EFIVARFS_MAGIC},
    {"tmpfs", TMPFS_MAGIC},         {"nfs", NFS_SUPER_MAGIC},
    {"cifs", CIFS_SUPER_MAGIC},     {"smb2", SMB2_SUPER_MAGIC},
    {"fuse", FUSE_SUPER_MAGIC},     {"ceph", CEPH_SUPER_MAGIC},
};

static const struct pst_probe_arg fswalk_args[] = {
    {.name = "roots",
     .type = PST_TYPE_LIST,
     .default_value = "/",
     .description = "directories to walk, inside the scanned root"},
    {.name = "skip",
     .type = PST_TYPE_LIST,
     .default_value = "/proc,/sys,/dev,/run",
     .description = "paths not to enter (nor report), inside the scanned root"},
    {.name = "one_filesystem",
     .type = PST_TYPE_BOOL,
     .default_value = "true",
     .description = "stay on the filesystem of each root, as find -xdev"},
    {.name = "skip_fstypes",
     .type = PST_TYPE_LIST,
     .default_value = "proc,sysfs,cgroup,cgroup2,devpts,debugfs,tracefs,securityfs,bpf,pstore,"
                      "mqueue,hugetlbfs,autofs,efivarfs,nfs,cifs,smb2,fuse,ceph",
     .description = "filesystem types never entered"},
    {.name = "all_mounts",
     .type = PST_TYPE_BOOL,
     .default_value = "true",
     .description = "on a running system, also walk every mounted local filesystem under the "
                    "roots (separate /home, /var, /tmp...), each as find -xdev would"},
    {.name = "max_findings",
     .type = PST_TYPE_INT,
     .default_value = "20",
     .description = "findings kept as evidence per field; the counts count them all"},
    {.name = "max_depth",
     .type = PST_TYPE_INT,
     .default_value = "256",
     .description = "deepest directory level entered; deeper is reported as an error"},
};

static const struct pst_probe_field fswalk_fields[] = {
    {"world_writable_files", PST_TYPE_FINDINGS,
     "regular files writable by others {path, mode, owner}"},
    {"world_writable_files_count", PST_TYPE_INT, "how many"},
    {"world_writable_dirs", PST_TYPE_FINDINGS,
     "directories writable by others without the sticky bit {path, mode, owner}"},
    {"world_writable_dirs_count", PST_TYPE_INT, "how many"},
    {"unowned", PST_TYPE_FINDINGS,
     "entries whose uid has no passwd entry or whose gid has no group entry {path, uid, gid}"},
    {"unowned_count", PST_TYPE_INT, "how many"},
    {"suid_sgid", PST_TYPE_FINDINGS,
     "SUID or SGID regular files {path, mode, owner, group, package} (package null: none)"},
    {"suid_sgid_count", PST_TYPE_INT, "how many"},
    {"suid_sgid_paths", PST_TYPE_LIST, "paths of all SUID/SGID files (at most 10000)"},
    {"unpackaged_suid_sgid", PST_TYPE_FINDINGS,
     "SUID or SGID files that no installed package lists {path, mode, owner, group}"},
    {"unpackaged_suid_sgid_count", PST_TYPE_INT, "how many"},
    {"suid_sgid_unaudited", PST_TYPE_FINDINGS,
     "SUID or SGID files whose executions the audit rules do not record (probe audit's "
     "exec_rule_paths, loaded_exec_rule_paths), but those under a nosuid or noexec mount of "
     "a running system {path, missing: where the rule is missing: /etc/audit/rules.d, "
     "loaded}"},
    {"suid_sgid_unaudited_count", PST_TYPE_INT, "how many"},
    {"entries", PST_TYPE_INT, "entries examined"},
};

/* Kinds of findings, in the order of their fields. */
enum finding { WW_FILES, WW_DIRS, UNOWNED, SUID, N_FINDINGS };

static const char *const finding_fields[N_FINDINGS] = {
    "world_writable_files", "world_writable_dirs", "unowned", "suid_sgid"};

struct walk {
    struct pst_probe_ctx *ctx;
    const json_t *skip;
    unsigned long skip_magic[PST_COUNT(fstypes)];
    size_t n_skip_magic;
    bool one_fs;
    dev_t dev; /* of the directory being walked (of the walk root with one_filesystem) */
    long max_findings;
    long max_depth;
    /* the path being visited, as seen inside the scanned root; grows without a limit */
    char *path;
    size_t len, cap;
    /* last ids looked up, to spare most lookups */
    long uid_seen, gid_seen;
    bool uid_known, gid_known;
    json_t *lists[N_FINDINGS];
    long counts[N_FINDINGS];
    json_t *suid_paths;
    long entries;
    json_t *problems; /* first reasons why the walk is incomplete (unreadable directories...) */
    long n_problems;
    const json_t *skip_fstypes;
    json_t *mounts;            /* live: mount point -> filesystem type, from /proc/self/mountinfo */
    json_t *unprivileged;      /* live: mount point -> whether it is mounted nosuid or noexec */
    bool on_unprivileged;      /* the walk is inside such a mount */
    json_t *suid_unprivileged; /* SUID/SGID paths inside one: they run without privilege */
    json_t *walked; /* devices whose filesystem was walked, so that a bind mount is not twice */
    bool nomem;
};

static bool path_push(struct walk *w, const char *name, size_t *saved)
{
    size_t n = strlen(name);
    bool slash = w->len > 0 && w->path[w->len - 1] != '/';

    *saved = w->len;
    if (w->len + n + 2 > w->cap) {
        size_t cap = (w->len + n + 2) * 2;
        char *grown = realloc(w->path, cap);
        if (grown == NULL) {
            w->nomem = true;
            return false;
        }
        w->path = grown;
        w->cap = cap;
    }
    if (slash) {
        w->path[w->len++] = '/';
    }
    memcpy(w->path + w->len, name, n + 1);
    w->len += n;
    return true;
}

static void path_pop(struct walk *w, size_t saved)
{
    w->len = saved;
    w->path[saved] = '\0';
}

static void problem_text(struct walk *w, const char *what, const char *why)
{
    w->n_problems++;
    if (json_array_size(w->problems) < (size_t)w->max_findings) {
        json_array_append_new(w->problems,
                              json_pack("{s:o, s:s, s:s}", "path", pst_json_text(w->path),
                                        "problem", what, "error", why));
    }
}

static void problem(struct walk *w, const char *what, int err)
{
    problem_text(w, what, strerror(err));
}

/* Whether filesystem type NAME is one skip_fstypes names ("fuse" covers "fuse.sshfs", "nfs" nfs4).
 */
static bool skipped_fstype_name(const struct walk *w, const char *name)
{
    size_t i;
    const json_t *t;

    json_array_foreach(w->skip_fstypes, i, t)
    {
        const char *skip = json_string_value(t);
        size_t n = strlen(skip);
        if (strncmp(name, skip, n) == 0 &&
            (name[n] == '\0' || name[n] == '.' || (name[n] >= '0' && name[n] <= '9'))) {
            return true;
        }
    }
    return false;
}

/* Undoes mountinfo's octal escapes (\040 for a space) in place. */
static void unescape_mountinfo(char *s)
{
    char *r = s, *w = s;

    while (*r != '\0') {
        if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
            r[3] >= '0' && r[3] <= '7') {
            *w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
            r += 4;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
}

/* Whether comma-separated OPTIONS hold NAME. */
static bool has_option(const char *options, const char *name)
{
    size_t n = strlen(name);

    for (const char *o = options; *o != '\0'; o += strcspn(o, ",") + (o[strcspn(o, ",")] == ',')) {
        if (strncmp(o, name, n) == 0 && (o[n] == ',' || o[n] == '\0')) {
            return true;
        }
    }
    return false;
}

/*
 * The running system's mounts: mount point -> type (fields 5 and after " - " of mountinfo),
 * and whether the mount's own options (field 6) hold nosuid or noexec.
 */
static void load_mounts(struct walk *w)
{
    char *buf = NULL, *cursor, *line;
    size_t len;
    long lineno = 0;

    w->mounts = json_object();
    w->unprivileged = json_object();
    if (w->mounts == NULL || w->unprivileged == NULL ||
        pst_fs_read(w->ctx->fs, "/proc/self/mountinfo", 16u * 1024u * 1024u, true, &buf, &len) !=
            PST_OK) {
        free(buf);
        return;
    }
    cursor = buf;
    while ((line = pst_text_next_line(&cursor, &lineno)) != NULL) {
        char *field[5];
        char *p = line;
        char *dash = strstr(line, " - ");
        int n;
        for (n = 0; n < 5 && p != NULL; n++) {
            field[n] = p;
            p = strchr(p, ' ');
            if (p != NULL) {
                *p++ = '\0';
            }
        }
        if (n < 5 || dash == NULL || p == NULL) {
            continue;
        }
        char *type = dash + 3;
        type[strcspn(type, " ")] = '\0';
        p[strcspn(p, " ")] = '\0'; /* the options end where the optional fields or " - " start */
        unescape_mountinfo(field[4]);
        /* a later mount on the same point hides the earlier one: the last line wins */
        json_object_set_new_nocheck(w->mounts, field[4], json_string(type));
        json_object_set_new_nocheck(
            w->unprivileged, field[4],
            json_boolean(has_option(p, "nosuid") || has_option(p, "noexec")));
    }
    free(buf);
}

static json_t *owner_json(struct walk *w, uid_t uid)
{
    const char *name = pst_probe_user_name(w->ctx, (long)uid);
    return name ? json_string(name) : json_sprintf("%ld", (long)uid);
}

static void record(struct walk *w, enum finding kind, const struct stat *st)
{
    char mode[8];
    json_t *item;

    w->counts[kind]++;
    if (kind == SUID && json_array_size(w->suid_paths) < SUID_PATHS_MAX) {
        /* the set is keyed by the path as the list holds it ('?' for bytes not UTF-8) */
        json_t *text = pst_json_text(w->path);
        if (text == NULL || json_array_append_new(w->suid_paths, text) != 0 ||
            (w->on_unprivileged &&
             json_object_set_new_nocheck(w->suid_unprivileged, json_string_value(text),
                                         json_true()) != 0)) {
            w->nomem = true;
        }
    }
    /* SUID files are all kept for the package lookup; the list is cut after it. */
    if (kind != SUID && (long)json_array_size(w->lists[kind]) >= w->max_findings) {
        return;
    }
    pst_mode_format(st->st_mode, mode);
    if (kind == UNOWNED) {
        item = json_pack("{s:o, s:I, s:I}", "path", pst_json_text(w->path), "uid",
                         (json_int_t)st->st_uid, "gid", (json_int_t)st->st_gid);
    } else if (kind == SUID) {
        const char *group = pst_probe_group_name(w->ctx, (long)st->st_gid);
        item = json_pack("{s:o, s:s, s:o, s:o}", "path", pst_json_text(w->path), "mode", mode,
                         "owner", owner_json(w, st->st_uid), "group",
                         group ? json_string(group) : json_sprintf("%ld", (long)st->st_gid));
    } else {
        item = json_pack("{s:o, s:s, s:o}", "path", pst_json_text(w->path), "mode", mode, "owner",
                         owner_json(w, st->st_uid));
    }
    if (kind == SUID && json_array_size(w->lists[SUID]) >= SUID_PATHS_MAX) {
        json_decref(item);
        return;
    }
    if (item == NULL || json_array_append_new(w->lists[kind], item) != 0) {
        w->nomem = true;
    }
}

static bool id_known(struct walk *w, bool user, long id)
{
    long *seen = user ? &w->uid_seen : &w->gid_seen;
    bool *known = user ? &w->uid_known : &w->gid_known;

    if (*seen != id) {
        *seen = id;
        *known =
            (user ? pst_probe_user_name(w->ctx, id) : pst_probe_group_name(w->ctx, id)) != NULL;
    }
    return *known;
}

/* Looks at one entry (already lstat'ed): every question of the walk, in one place. */
static void examine(struct walk *w, const struct stat *st)
{
    w->entries++;
    if (S_ISREG(st->st_mode) && (st->st_mode & S_IWOTH)) {
        record(w, WW_FILES, st);
    }
    if (S_ISDIR(st->st_mode) && (st->st_mode & S_IWOTH) && !(st->st_mode & S_ISVTX)) {
        record(w, WW_DIRS, st);
    }
    if (!id_known(w, true, (long)st->st_uid) || !id_known(w, false, (long)st->st_gid)) {
        record(w, UNOWNED, st);
    }
    if (S_ISREG(st->st_mode) && (st->st_mode & (S_ISUID | S_ISGID))) {
        record(w, SUID, st);
    }
}

static bool skipped_path(const struct walk *w)
{
    size_t i;
    const json_t *s;

    json_array_foreach(w->skip, i, s)
    {
        if (strcmp(json_string_value(s), w->path) == 0) {
            return true;
        }
    }
    return false;
}

static bool skipped_fstype(const struct walk *w, int fd)
{
    struct statfs fs;

    if (w->n_skip_magic == 0 || fstatfs(fd, &fs) != 0) {
        return false;
    }
    for (size_t i = 0; i < w->n_skip_magic; i++) {
        if ((unsigned long)fs.f_type == w->skip_magic[i]) {
            return true;
        }
    }
    return false;
}

/*
 * Walks directory FD (owned; closed here), whose own entry was examined by the caller.
 * Entries are examined with fstatat(AT_SYMLINK_NOFOLLOW) relative to FD, subdirectories
 * opened with O_NOFOLLOW relative to it and checked to be the very directory that was
 * examined: no path is resolved twice, no symlink is followed, nothing leaves the tree.
 */
static void walk_dir(struct walk *w, int fd, long depth)
{
    /* getdents64 directly: no DIR stream, no fcntl calls per directory as fdopendir makes */
    char *buf = malloc(DIRENT_BUFFER);
    ssize_t n = 0, off = 0;

    if (buf == NULL) {
        w->nomem = true;
        close(fd);
        return;
    }
    while (!w->nomem) {
        struct dirent64 *de;
        struct stat st;
        size_t saved;

        if (off >= n) {
            n = getdents64(fd, buf, DIRENT_BUFFER);
            off = 0;
            if (n <= 0) {
                if (n < 0) {
                    problem(w, "cannot list directory", errno);
                }
                break;
            }
        }
        de = (struct dirent64 *)(buf + off);
        off += de->d_reclen;
        if (de->d_name[0] == '.' &&
            (de->d_name[1] == '\0' || (de->d_name[1] == '.' && de->d_name[2] == '\0'))) {
            continue;
        }
        if (w->entries >= ENTRIES_MAX) {
            problem(w, "more entries than the walk examines", EFBIG);
            break;
        }
        if (!path_push(w, de->d_name, &saved)) {
            break;
        }
        if (skipped_path(w)) {
            path_pop(w, saved);
            continue;
        }
        /* A mount of a skipped type is not even stat'ed: a dead network mount would hang. */
        const json_t *mounted = w->mounts ? json_object_get(w->mounts, w->path) : NULL;
        if (mounted != NULL && skipped_fstype_name(w, json_string_value(mounted))) {
            path_pop(w, saved);
            continue;
        }
        if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT) != 0) {
            if (errno != ENOENT) { /* an entry that vanished mid-walk is simply gone */
                problem(w, "cannot stat", errno);
            }
            path_pop(w, saved);
            continue;
        }
        /* A mount point is reported, as find -xdev reports it, but with one_filesystem not
         * entered: it is walked as a filesystem of its own (all_mounts) or not at all. */
        examine(w, &st);
        if (w->one_fs && st.st_dev != w->dev) {
            path_pop(w, saved);
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            struct stat opened;
            int child;
            if (depth + 1 > w->max_depth) {
                problem(w, "deeper than max_depth", ELOOP);
                path_pop(w, saved);
                continue;
            }
            child = openat(fd, de->d_name,
                           O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
            if (child < 0) {
                if (errno != ENOENT) {
                    problem(w,
                            errno == ELOOP || errno == ENOTDIR ? "replaced during the walk"
                                                               : "cannot open directory",
                            errno);
                }
            } else if (fstat(child, &opened) != 0 || opened.st_dev != st.st_dev ||
                       opened.st_ino != st.st_ino) {
                problem(w, "replaced during the walk", ESTALE);
                close(child);
            } else if (st.st_dev != w->dev && skipped_fstype(w, child)) {
                /* only a new filesystem can be of another type: no statfs per directory */
                close(child);
            } else {
                dev_t parent = w->dev;
                bool parent_unprivileged = w->on_unprivileged;
                w->dev = st.st_dev;
                if (mounted != NULL) { /* a mount point (a bind mount too): its own options */
                    w->on_unprivileged = json_is_true(json_object_get(w->unprivileged, w->path));
                }
                walk_dir(w, child, depth + 1);
                w->dev = parent;
                w->on_unprivileged = parent_unprivileged;
            }
        }
        path_pop(w, saved);
    }
    free(buf);
    close(fd);
}

/* Finds which installed package lists each SUID/SGID file, from dpkg's *.list files. */
static void find_packages(struct walk *w)
{
    struct pst_fs *fs = w->ctx->fs;
    json_t *wanted = json_object(); /* path as dpkg may list it -> index in lists[SUID] */
    json_t *names = NULL;
    struct stat st;
    size_t i;
    json_t *item;
    bool merged_usr = pst_fs_stat(fs, "/bin", false, &st) == PST_OK && S_ISLNK(st.st_mode);

    if (wanted == NULL) {
        w->nomem = true;
        return;
    }
    json_array_foreach(w->lists[SUID], i, item)
    {
        const char *path = json_string_value(json_object_get(item, "path"));
        json_object_set_new(item, "package", json_null());
        json_object_set_new_nocheck(wanted, path, json_integer((json_int_t)i));
        /* With a merged /usr, dpkg still lists /bin/su for what is /usr/bin/su. */
        if (merged_usr && strncmp(path, "/usr/", 5) == 0) {
            json_object_set_new_nocheck(wanted, path + 4, json_integer((json_int_t)i));
        }
    }
    if (json_object_size(wanted) > 0 && pst_fs_list(fs, "/var/lib/dpkg/info", &names) == PST_OK) {
        json_t *name;
        json_array_foreach(names, i, name)
        {
            const char *n = json_string_value(name);
            size_t len = strlen(n);
            char path[512], *buf = NULL, *cursor, *line;
            size_t blen;
            long lineno = 0;
            if (len < 6 || strcmp(n + len - 5, ".list") != 0 ||
                snprintf(path, sizeof(path), "/var/lib/dpkg/info/%s", n) >= (int)sizeof(path) ||
                pst_fs_read(fs, path, 64u * 1024u * 1024u, false, &buf, &blen) != PST_OK) {
                continue;
            }
            cursor = buf;
            while ((line = pst_text_next_line(&cursor, &lineno)) != NULL) {
                const json_t *at = json_object_get(wanted, line);
                if (at != NULL) {
                    json_t *finding =
                        json_array_get(w->lists[SUID], (size_t)json_integer_value(at));
                    /* package name: the file name without ".list" and any ":arch" */
                    json_object_set_new(
                        finding, "package",
                        json_stringn(n, strcspn(n, ":") < len - 5 ? strcspn(n, ":") : len - 5));
                }
            }
            free(buf);
        }
    }
    json_decref(names);
    json_decref(wanted);
}

/* LIST (a JSON array of strings, or NULL) as a set: string -> true. NULL when out of memory. */
static json_t *string_set(const json_t *list)
{
    json_t *set = json_object();
    size_t i;
    const json_t *item;

    json_array_foreach(list, i, item)
    {
        if (set != NULL &&
            json_object_set_new_nocheck(set, json_string_value(item), json_true()) != 0) {
            json_decref(set);
            set = NULL;
        }
    }
    return set;
}

/*
 * CIS 6.2.3.6: every SUID/SGID program (PATHS) needs an audit rule recording its executions,
 * both in /etc/audit/rules.d and loaded. The rules come from the audit probe (its call is
 * shared with the policies that use it); when they are unknown, the field is an error with
 * the audit probe's reason. Returns 0 or PST_ENOMEM.
 */
static int unaudited_programs(struct pst_probe_ctx *ctx, const json_t *paths,
                              const json_t *unprivileged, long max, struct pst_facts *out)
{
    const struct pst_call *audit = NULL;
    const json_t *persisted, *loaded;
    json_t *in_rules = NULL, *in_kernel = NULL;
    struct pst_findings unaudited = {0};
    size_t i;
    const json_t *item;
    int rc = pst_probe_call(ctx, pst_probe_find("audit"), NULL, &audit);

    if (rc != PST_OK) {
        return rc;
    }
    persisted = pst_call_value(audit, "exec_rule_paths");
    loaded = pst_call_value(audit, "loaded_exec_rule_paths");
    if (persisted == NULL || loaded == NULL) {
        const json_t *why = json_array_get(audit->errors, 0);
        pst_facts_error(out, "audit", "the audit rules are not known: %s",
                        why != NULL ? json_string_value(json_object_get(why, "message"))
                                    : "see posture probe audit");
        return PST_OK;
    }
    rc = PST_ENOMEM;
    in_rules = string_set(persisted);
    in_kernel = string_set(loaded);
    if (in_rules == NULL || in_kernel == NULL || pst_findings_init(&unaudited, max) != PST_OK) {
        goto out;
    }
    json_array_foreach(paths, i, item)
    {
        const char *path = json_string_value(item);
        json_t *missing;
        if (json_object_get(unprivileged, path) != NULL) {
            continue; /* on a nosuid or noexec mount, as CIS leaves them out */
        }
        missing = json_array();
        if (missing == NULL) {
            goto out;
        }
        if (json_object_get(in_rules, path) == NULL) {
            json_array_append_new(missing, json_string("/etc/audit/rules.d"));
        }
        if (json_object_get(in_kernel, path) == NULL) {
            json_array_append_new(missing, json_string("loaded"));
        }
        if (json_array_size(missing) == 0) {
            json_decref(missing);
            continue;
        }
        if (pst_findings_add(&unaudited,
                             json_pack("{s:O, s:o}", "path", item, "missing", missing)) != PST_OK) {
            goto out;
        }
    }
    rc = pst_findings_set(out, "suid_sgid_unaudited", &unaudited, "fswalk, audit");
out:
    pst_findings_release(&unaudited);
    json_decref(in_rules);
    json_decref(in_kernel);
    return rc;
}

/* Whether the current path is a skip path or lies under one. */
static bool skipped_under(const struct walk *w)
{
    size_t i;
    const json_t *s;

    json_array_foreach(w->skip, i, s)
    {
        const char *skip = json_string_value(s);
        size_t n = strlen(skip);
        if (strncmp(w->path, skip, n) == 0 &&
            (w->path[n] == '\0' || w->path[n] == '/' || (n > 0 && skip[n - 1] == '/'))) {
            return true;
        }
    }
    return false;
}

/*
 * Walks ROOT (a path inside the scanned root). EXAMINE_ROOT is false for a mount point that
 * the walk of its parent filesystem already examined as an entry. A filesystem already
 * walked (the same device: a bind mount) is not walked again.
 */
static void walk_root(struct walk *w, const char *root, bool examine_root)
{
    struct stat st;
    char dev[32];
    size_t saved;
    int fd;
    int rc;

    w->len = 0;
    if (!path_push(w, root, &saved)) {
        return;
    }
    rc = pst_fs_open(w->ctx->fs, root, O_RDONLY | O_DIRECTORY | O_NONBLOCK, &fd);
    if (rc != PST_OK) {
        problem_text(w, "cannot open walk root", pst_strerror(rc));
        return;
    }
    if (fstat(fd, &st) != 0) {
        problem(w, "cannot stat", errno);
        close(fd);
        return;
    }
    snprintf(dev, sizeof(dev), "%lu", (unsigned long)st.st_dev);
    if (!examine_root && json_object_get(w->walked, dev) != NULL) {
        close(fd);
        return;
    }
    json_object_set_new(w->walked, dev, json_true());
    w->dev = st.st_dev;
    w->on_unprivileged = false;
    if (w->unprivileged != NULL) {
        /* the options of the mount ROOT lies in: the longest mount point above it */
        const char *mount, *best = NULL;
        json_t *flag;
        json_object_foreach(w->unprivileged, mount, flag)
        {
            size_t n = strlen(mount);
            if ((strcmp(mount, "/") == 0 ||
                 (strncmp(root, mount, n) == 0 && (root[n] == '/' || root[n] == '\0'))) &&
                (best == NULL || n > strlen(best))) {
                best = mount;
                w->on_unprivileged = json_is_true(flag);
            }
        }
    }
    if (examine_root) {
        examine(w, &st);
    }
    walk_dir(w, fd, 0);
}

static int fswalk_collect(struct pst_probe_ctx *ctx, const json_t *args, struct pst_facts *out)
{
    struct walk w = {.ctx = ctx, .uid_seen = -1, .gid_seen = -1};
    const json_t *roots = json_object_get(args, "roots");
    json_t *unpackaged = NULL;
    size_t i;
    const json_t *item;
    int rc = PST_OK;

    w.skip = json_object_get(args, "skip");
    w.skip_fstypes = json_object_get(args, "skip_fstypes");
    w.walked = json_object();
    if (w.walked == NULL) {
        return PST_ENOMEM;
    }
    if (pst_fs_is_live(ctx->fs)) {
        load_mounts(&w);
    }
    bool all_mounts = json_is_true(json_object_get(args, "all_mounts"));
    w.one_fs = json_is_true(json_object_get(args, "one_filesystem"));
    w.max_findings = (long)json_integer_value(json_object_get(args, "max_findings"));
    w.max_depth = (long)json_integer_value(json_object_get(args, "max_depth"));
    json_array_foreach(json_object_get(args, "skip_fstypes"), i, item)
    {
        for (size_t f = 0; f < PST_COUNT(fstypes); f++) {
            if (strcmp(fstypes[f].name, json_string_value(item)) == 0 &&
                w.n_skip_magic < PST_COUNT(w.skip_magic)) {
                w.skip_magic[w.n_skip_magic++] = fstypes[f].magic;
            }
        }
    }
    for (int k = 0; k < N_FINDINGS; k++) {
        w.lists[k] = json_array();
    }
    w.suid_paths = json_array();
    w.suid_unprivileged = json_object();
    w.problems = json_array();
    unpackaged = json_array();
    if (w.lists[WW_FILES] == NULL || w.lists[WW_DIRS] == NULL || w.lists[UNOWNED] == NULL ||
        w.lists[SUID] == NULL || w.suid_paths == NULL || w.suid_unprivileged == NULL ||
        w.problems == NULL || unpackaged == NULL) {
        rc = PST_ENOMEM;
        goto out;
    }
    /* Owners are judged against the root's account files: without them, all is unowned. */
    for (size_t a = 0; a < 2; a++) {
        static const char *const files[] = {"/etc/passwd", "/etc/group"};
        char *buf = NULL;
        size_t blen;
        int r = pst_fs_read(ctx->fs, files[a], PST_FS_TEXT_LIMIT, true, &buf, &blen);
        free(buf);
        if (r != PST_OK) {
            w.len = 0;
            path_push(&w, files[a], &(size_t){0});
            problem_text(&w, "cannot read the account database", pst_strerror(r));
        }
    }
    json_array_foreach(roots, i, item)
    {
        walk_root(&w, json_string_value(item), true);
    }
    /* Separate filesystems under the roots (/home, /var, /tmp...), each walked once. */
    if (w.mounts != NULL && all_mounts) {
        const char *mount;
        json_t *type;
        json_object_foreach(w.mounts, mount, type)
        {
            bool under = false;
            json_array_foreach(roots, i, item)
            {
                const char *root = json_string_value(item);
                size_t n = strlen(root);
                under = under || strcmp(root, "/") == 0 ||
                        (strncmp(mount, root, n) == 0 && (mount[n] == '/' || mount[n] == '\0'));
            }
            w.len = 0;
            if (!under || skipped_fstype_name(&w, json_string_value(type)) ||
                !path_push(&w, mount, &(size_t){0}) || skipped_under(&w)) {
                continue;
            }
            walk_root(&w, mount, false);
        }
    }
    if (w.nomem) {
        rc = PST_ENOMEM;
        goto out;
    }
    find_packages(&w);
    json_array_foreach(w.lists[SUID], i, item)
    {
        if (json_is_null(json_object_get(item, "package")) &&
            json_array_size(unpackaged) < (size_t)w.max_findings) {
            json_t *copy = json_deep_copy(item);
            json_object_del(copy, "package");
            json_array_append_new(unpackaged, copy);
        }
    }
    long n_unpackaged = 0;
    json_array_foreach(w.lists[SUID], i, item)
    {
        n_unpackaged += json_is_null(json_object_get(item, "package"));
    }
    while ((long)json_array_size(w.lists[SUID]) > w.max_findings) {
        json_array_remove(w.lists[SUID], json_array_size(w.lists[SUID]) - 1);
    }
    /* An incomplete walk would understate every count: its fields become errors. */
    if (w.n_problems > 0) {
        json_array_foreach(w.problems, i, item)
        {
            pst_facts_error(out, json_string_value(json_object_get(item, "path")), "%s %s: %s",
                            json_string_value(json_object_get(item, "problem")),
                            json_string_value(json_object_get(item, "path")),
                            json_string_value(json_object_get(item, "error")));
        }
        pst_facts_error(out, NULL, "the walk is incomplete (%ld problem%s)%s", w.n_problems,
                        w.n_problems == 1 ? "" : "s",
                        geteuid() != 0 ? "; a complete walk needs root" : "");
        rc = pst_facts_set(out, "entries", json_integer(w.entries), "fswalk");
        goto out;
    }
    /* Past the bound, the SUID/SGID answers would be partial: errors, not shorter lists. */
    bool suid_complete = w.counts[SUID] <= SUID_PATHS_MAX;
    if (!suid_complete) {
        pst_facts_error(out, NULL, "more than %d SUID/SGID files", SUID_PATHS_MAX);
    } else if (pst_facts_set(out, "suid_sgid_paths", json_incref(w.suid_paths), "fswalk") != 0) {
        rc = PST_ENOMEM;
        goto out;
    }
    for (int k = 0; k < N_FINDINGS; k++) {
        char count[64];
        snprintf(count, sizeof(count), "%s_count", finding_fields[k]);
        if (pst_facts_set(out, finding_fields[k], json_incref(w.lists[k]), "fswalk") != 0 ||
            pst_facts_set(out, count, json_integer(w.counts[k]), "fswalk") != 0) {
            rc = PST_ENOMEM;
            goto out;
        }
    }
    if ((suid_complete &&
         (pst_facts_set(out, "unpackaged_suid_sgid", json_incref(unpackaged), "fswalk") != 0 ||
          pst_facts_set(out, "unpackaged_suid_sgid_count", json_integer(n_unpackaged), "fswalk") !=
              0 ||
          unaudited_programs(ctx, w.suid_paths, w.suid_unprivileged, w.max_findings, out) !=
              PST_OK)) ||
        pst_facts_set(out, "entries", json_integer(w.entries), "fswalk") != 0) {
        rc = PST_ENOMEM;
    }
out:
    for (int k = 0; k < N_FINDINGS; k++) {
        json_decref(w.lists[k]);
    }
    json_decref(w.suid_paths);
    json_decref(w.problems);
    json_decref(w.mounts);
    json_decref(w.unprivileged);
    json_decref(w.suid_unprivileged);
    json_decref(w.walked);
    json_decref(unpackaged);
    free(w.path);
    return rc;
}

const struct pst_probe pst_probe_fswalk = {
    .name = "fswalk",
    .summary = "one walk of the filesystem: world-writable, unowned and SUID/SGID entries",
    .args = fswalk_args,
    .n_args = PST_COUNT(fswalk_args),
    .fields = fswalk_fields,
    .n_fields = PST_COUNT(fswalk_fields),
    .collect = fswalk_collect,
};
