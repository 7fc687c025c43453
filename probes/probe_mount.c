/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Probe "mount": whether a separate filesystem is mounted on a path, and its options: from
 * /proc/self/mountinfo on the running system, from /etc/fstab and systemd mount units for an
 * offline root.
 */
#include "probes/probe.h"

#include "agent/error.h"
#include "probes/text.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MOUNTINFO "/proc/self/mountinfo"
#define MOUNTINFO_LIMIT (16u * 1024u * 1024u)
#define UNIT_LIMIT (1024u * 1024u)

static const struct pst_probe_arg mount_args[] = {
    {.name = "path",
     .type = PST_TYPE_STRING,
     .required = true,
     .path = true,
     .description = "the mount point, such as /tmp"},
};

static const struct pst_probe_field mount_fields[] = {
    {"mounted", PST_TYPE_BOOL,
     "a separate filesystem is mounted there (offline root: fstab, a mount unit or one systemd "
     "mounts itself)"},
    {"fstype", PST_TYPE_STRING, "filesystem type; null when nothing is mounted"},
    {"device", PST_TYPE_STRING, "what is mounted (device, tmpfs...); null when nothing is"},
    {"options", PST_TYPE_LIST,
     "mount options (live: per-mount then superblock options; offline: as written)"},
    {"nodev", PST_TYPE_BOOL, "device files are not honoured; null when nothing is mounted"},
    {"nosuid", PST_TYPE_BOOL, "setuid and setgid bits are ignored; null when nothing is mounted"},
    {"noexec", PST_TYPE_BOOL, "programs cannot be executed; null when nothing is mounted"},
};

/* The filesystems systemd mounts by itself at boot (mount-setup.c), when nothing else does. */
static const struct {
    const char *path, *fstype, *options;
} api_mounts[] = {
    {"/proc", "proc", "nosuid,noexec,nodev"},
    {"/sys", "sysfs", "nosuid,noexec,nodev"},
    {"/dev", "devtmpfs", "nosuid,strictatime,mode=755"},
    {"/dev/shm", "tmpfs", "nosuid,nodev,strictatime,mode=1777"},
    {"/dev/pts", "devpts", "nosuid,noexec"},
    {"/run", "tmpfs", "nosuid,nodev,strictatime,mode=755"},
};

/* What was found mounted: borrowed strings, SOURCE made by the caller. */
struct mount {
    const char *fstype, *device;
    char options[8192];
    char source[PATH_MAX + 32];
};

/* Decodes the octal escapes (\040 for a blank) of fstab and mountinfo fields, in place. */
static void unescape(char *s)
{
    char *w = s;

    for (char *r = s; *r != '\0'; r++) {
        if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
            r[3] >= '0' && r[3] <= '7') {
            *w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
            r += 3;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
}

/* Removes trailing slashes (not the root's own). */
static void trim_slashes(char *s)
{
    size_t n = strlen(s);

    while (n > 1 && s[n - 1] == '/') {
        s[--n] = '\0';
    }
}

/* Splits LINE into at most MAX blank-separated fields; returns how many. */
static int split_fields(char *line, char **fields, int max)
{
    int n = 0;
    char *p = line;

    while (n < max) {
        p += strspn(p, " \t");
        if (*p == '\0') {
            break;
        }
        fields[n++] = p;
        p += strcspn(p, " \t");
        if (*p != '\0') {
            *p++ = '\0';
        }
    }
    return n;
}

static int set_mount(struct pst_facts *out, const struct mount *m)
{
    bool nodev = false, nosuid = false, noexec = false;
    json_t *options = json_array();
    const char *p = m->options;

    if (options == NULL) {
        return PST_ENOMEM;
    }
    /* mount(8): later options override earlier ones; defaults and user(s) imply some */
    while (*p != '\0') {
        size_t n = strcspn(p, ",");
        char word[256];
        snprintf(word, sizeof(word), "%.*s", (int)(n < sizeof(word) ? n : sizeof(word) - 1), p);
        if (n > 0 && json_array_append_new(options, pst_json_text(word)) != 0) {
            json_decref(options);
            return PST_ENOMEM;
        }
        if (strcmp(word, "nodev") == 0 || strcmp(word, "dev") == 0) {
            nodev = word[0] == 'n';
        } else if (strcmp(word, "nosuid") == 0 || strcmp(word, "suid") == 0) {
            nosuid = word[0] == 'n';
        } else if (strcmp(word, "noexec") == 0 || strcmp(word, "exec") == 0) {
            noexec = word[0] == 'n';
        } else if (strcmp(word, "defaults") == 0) {
            nodev = nosuid = noexec = false;
        } else if (strcmp(word, "user") == 0 || strcmp(word, "users") == 0) {
            nodev = nosuid = noexec = true;
        }
        p += n + (p[n] == ',');
    }
    if (pst_facts_set(out, "mounted", json_true(), m->source) != PST_OK ||
        pst_facts_set(out, "fstype", pst_json_text(m->fstype), m->source) != PST_OK ||
        pst_facts_set(out, "device", pst_json_text(m->device), m->source) != PST_OK ||
        pst_facts_set(out, "options", options, m->source) != PST_OK ||
        pst_facts_set(out, "nodev", json_boolean(nodev), m->source) != PST_OK ||
        pst_facts_set(out, "nosuid", json_boolean(nosuid), m->source) != PST_OK ||
        pst_facts_set(out, "noexec", json_boolean(noexec), m->source) != PST_OK) {
        return PST_ENOMEM;
    }
    return PST_OK;
}

static int set_unmounted(struct pst_facts *out, const char *source)
{
    static const char *const fields[] = {"fstype", "device", "options",
                                         "nodev",  "nosuid", "noexec"};

    if (pst_facts_set(out, "mounted", json_false(), source) != PST_OK) {
        return PST_ENOMEM;
    }
    for (size_t i = 0; i < PST_COUNT(fields); i++) {
        if (pst_facts_set(out, fields[i], json_null(), source) != PST_OK) {
            return PST_ENOMEM;
        }
    }
    return PST_OK;
}

/*
 * The running system's mount table, parsed once a scan: mount point -> {fstype, device,
 * options, line}. A later line for the same point replaces an earlier one: it is on top.
 * NULL with *rc set when mountinfo cannot be read (the reason is in the memo).
 */
static const json_t *mount_table(struct pst_probe_ctx *ctx, int *rc)
{
    json_t *table = json_object_get(ctx->memo, MOUNTINFO);
    char *buf = NULL, *cursor, *line;
    size_t len;
    long lineno = 0;

    *rc = PST_OK;
    if (table != NULL) {
        *rc = json_is_object(table) ? PST_OK : PST_EIO; /* the memo holds the reason */
        return json_is_object(table) ? table : NULL;
    }
    *rc = pst_fs_read(ctx->fs, MOUNTINFO, MOUNTINFO_LIMIT, true, &buf, &len);
    if (*rc != PST_OK) {
        json_object_set_new(ctx->memo, MOUNTINFO, json_string(pst_strerror(*rc)));
        return NULL;
    }
    table = json_object();
    cursor = buf;
    while (table != NULL && (line = pst_text_next_line(&cursor, &lineno)) != NULL) {
        /* id parent major:minor root mountpoint options [optional...] - fstype source super */
        char *f[64];
        char options[8192];
        int n = split_fields(line, f, 64);
        int dash = 6;
        json_t *entry;
        while (dash < n && strcmp(f[dash], "-") != 0) {
            dash++;
        }
        if (n < 6 || dash + 2 >= n) {
            continue;
        }
        unescape(f[4]);
        trim_slashes(f[4]);
        unescape(f[dash + 2]);
        snprintf(options, sizeof(options), "%s%s%s", f[5], dash + 3 < n ? "," : "",
                 dash + 3 < n ? f[dash + 3] : "");
        entry = json_pack("{s:o, s:o, s:o, s:I}", "fstype", json_string_nocheck(f[dash + 1]),
                          "device", json_string_nocheck(f[dash + 2]), "options",
                          json_string_nocheck(options), "line", (json_int_t)lineno);
        if (entry == NULL || json_object_set_new_nocheck(table, f[4], entry) != 0) {
            json_decref(table);
            table = NULL;
        }
    }
    free(buf);
    if (table == NULL || json_object_set_new(ctx->memo, MOUNTINFO, table) != 0) {
        *rc = PST_ENOMEM;
        return NULL;
    }
    return table;
}

static int from_mountinfo(struct pst_probe_ctx *ctx, struct pst_facts *out, const char *path)
{
    struct mount m = {0};
    const json_t *entry;
    int rc;
    const json_t *table = mount_table(ctx, &rc);

    if (table == NULL) {
        if (rc != PST_ENOMEM) {
            const char *why = json_string_value(json_object_get(ctx->memo, MOUNTINFO));
            pst_facts_error(out, MOUNTINFO, "read %s: %s", MOUNTINFO, why ? why : "failed");
            rc = PST_OK;
        }
        return rc;
    }
    entry = json_object_get(table, path);
    if (entry == NULL) {
        return set_unmounted(out, MOUNTINFO);
    }
    m.fstype = json_string_value(json_object_get(entry, "fstype"));
    m.device = json_string_value(json_object_get(entry, "device"));
    snprintf(m.options, sizeof(m.options), "%s",
             json_string_value(json_object_get(entry, "options")));
    snprintf(m.source, sizeof(m.source), "%s:%lld", MOUNTINFO,
             (long long)json_integer_value(json_object_get(entry, "line")));
    return set_mount(out, &m);
}

/* systemd's unit name for a mount point (unit_name_path_escape): /var/tmp is var-tmp.mount. */
static void mount_unit_name(const char *path, char *name, size_t n)
{
    size_t w = 0;
    const char *p = path;

    while (*p == '/') {
        p++;
    }
    if (*p == '\0') {
        snprintf(name, n, "-.mount");
        return;
    }
    for (; *p != '\0' && w + 8 < n; p++) {
        if (*p == '/') {
            while (p[1] == '/') {
                p++;
            }
            if (p[1] == '\0') {
                break;
            }
            name[w++] = '-';
        } else if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                   (*p >= '0' && *p <= '9') || *p == ':' || *p == '_' || (*p == '.' && w > 0)) {
            name[w++] = *p;
        } else {
            w += (size_t)snprintf(name + w, n - w, "\\x%02x", (unsigned char)*p);
        }
    }
    snprintf(name + w, n - w, ".mount");
}

/*
 * A mount unit file DIR/NAME: 1 and M filled when it mounts something, 0 when there is
 * none, 2 when it is masked (a link to /dev/null or empty). Unit files are small.
 */
static int from_unit(struct pst_probe_ctx *ctx, struct pst_facts *out, const char *dir,
                     const char *name, struct mount *m, char **keep)
{
    char path[PATH_MAX];
    char *buf = NULL, *cursor, *line;
    size_t len;
    long lineno = 0;
    struct stat st;
    bool in_mount = false;
    int rc;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    rc = pst_fs_read(ctx->fs, path, UNIT_LIMIT, true, &buf, &len);
    if (rc == PST_ENOENT || rc == PST_ETYPE) {
        /* a mask: a link to /dev/null, which an offline root may not even have */
        char *target = NULL;
        bool masked =
            pst_fs_readlink(ctx->fs, path, &target) == PST_OK && strcmp(target, "/dev/null") == 0;
        free(target);
        if (masked) {
            snprintf(m->source, sizeof(m->source), "%s", path);
            return 2;
        }
    }
    if (rc == PST_ENOENT) {
        return 0;
    }
    if (rc == PST_ETYPE && pst_fs_stat(ctx->fs, path, true, &st) == PST_OK && S_ISCHR(st.st_mode)) {
        snprintf(m->source, sizeof(m->source), "%s", path);
        return 2;
    }
    if (rc != PST_OK) {
        if (rc != PST_ENOMEM) {
            pst_facts_error(out, path, "read %s: %s", path, pst_strerror(rc));
        }
        return rc;
    }
    if (len == 0) {
        free(buf);
        snprintf(m->source, sizeof(m->source), "%s", path);
        return 2;
    }
    m->fstype = "";
    m->device = "";
    m->options[0] = '\0';
    snprintf(m->source, sizeof(m->source), "%s", path);
    cursor = buf;
    while ((line = pst_text_next_line(&cursor, &lineno)) != NULL) {
        char *eq;
        line = pst_text_skip_blanks(line);
        pst_text_rstrip(line);
        if (line[0] == '[') {
            in_mount = strcmp(line, "[Mount]") == 0;
            continue;
        }
        eq = strchr(line, '=');
        if (!in_mount || eq == NULL || line[0] == '#' || line[0] == ';') {
            continue;
        }
        *eq = '\0';
        pst_text_rstrip(line);
        char *value = pst_text_skip_blanks(eq + 1);
        if (strcmp(line, "What") == 0) {
            m->device = value;
        } else if (strcmp(line, "Type") == 0) {
            m->fstype = value;
        } else if (strcmp(line, "Options") == 0) {
            snprintf(m->options, sizeof(m->options), "%s", value);
        }
    }
    *keep = buf; /* M's strings point into it */
    return 1;
}

/* An offline root: what its next boot mounts on PATH. */
static int from_config(struct pst_probe_ctx *ctx, struct pst_facts *out, const char *path)
{
    static const char *const admin_dirs[] = {"/etc/systemd/system.control", "/etc/systemd/system"};
    static const char *const vendor_dirs[] = {"/usr/local/lib/systemd/system",
                                              "/usr/lib/systemd/system"};
    char unit[PATH_MAX];
    char *unit_buf = NULL, *fstab = NULL, *cursor, *line;
    size_t len;
    long lineno = 0;
    struct mount m = {0};
    bool found = false;
    int rc;

    mount_unit_name(path, unit, sizeof(unit));
    /* the admin's mount units outrank fstab (whose units the generator writes to /run) */
    for (size_t i = 0; i < PST_COUNT(admin_dirs); i++) {
        rc = from_unit(ctx, out, admin_dirs[i], unit, &m, &unit_buf);
        if (rc == 2) {
            return set_unmounted(out, m.source); /* masked */
        }
        if (rc == 1) {
            rc = set_mount(out, &m);
            free(unit_buf);
            return rc;
        }
        if (rc != 0) {
            return rc == PST_ENOMEM ? rc : PST_OK;
        }
    }
    rc = pst_fs_read(ctx->fs, "/etc/fstab", PST_FS_TEXT_LIMIT, true, &fstab, &len);
    if (rc != PST_OK && rc != PST_ENOENT) {
        if (rc != PST_ENOMEM) {
            pst_facts_error(out, "/etc/fstab", "read /etc/fstab: %s", pst_strerror(rc));
            rc = PST_OK;
        }
        return rc;
    }
    cursor = fstab;
    while (fstab != NULL && (line = pst_text_next_line(&cursor, &lineno)) != NULL) {
        char *f[6];
        int n = split_fields(line, f, 6);
        if (n < 3 || f[0][0] == '#') {
            continue;
        }
        unescape(f[1]);
        trim_slashes(f[1]);
        /* noauto entries are not mounted at boot; a later line mounts on top of an earlier */
        if (strcmp(f[1], path) != 0 || strcmp(f[2], "swap") == 0 ||
            (n >= 4 && (strstr(f[3], "noauto") != NULL))) {
            continue;
        }
        unescape(f[0]);
        found = true;
        m.device = f[0];
        m.fstype = f[2];
        snprintf(m.options, sizeof(m.options), "%s", n >= 4 ? f[3] : "defaults");
        snprintf(m.source, sizeof(m.source), "/etc/fstab:%ld", lineno);
    }
    if (found) {
        rc = set_mount(out, &m);
        free(fstab);
        return rc;
    }
    free(fstab);
    for (size_t i = 0; i < PST_COUNT(vendor_dirs); i++) {
        rc = from_unit(ctx, out, vendor_dirs[i], unit, &m, &unit_buf);
        if (rc == 2) {
            return set_unmounted(out, m.source);
        }
        if (rc == 1) {
            rc = set_mount(out, &m);
            free(unit_buf);
            return rc;
        }
        if (rc != 0) {
            return rc == PST_ENOMEM ? rc : PST_OK;
        }
    }
    for (size_t i = 0; i < PST_COUNT(api_mounts); i++) {
        if (strcmp(api_mounts[i].path, path) == 0) {
            m.fstype = api_mounts[i].fstype;
            m.device = api_mounts[i].fstype;
            snprintf(m.options, sizeof(m.options), "%s", api_mounts[i].options);
            snprintf(m.source, sizeof(m.source), "systemd (mounted at boot)");
            return set_mount(out, &m);
        }
    }
    return set_unmounted(out, "/etc/fstab");
}

static int mount_collect(struct pst_probe_ctx *ctx, const json_t *args, struct pst_facts *out)
{
    char path[PATH_MAX];

    if (snprintf(path, sizeof(path), "%s", json_string_value(json_object_get(args, "path"))) >=
        (int)sizeof(path)) {
        pst_facts_error(out, NULL, "mount point too long");
        return PST_OK;
    }
    trim_slashes(path);
    return pst_fs_is_live(ctx->fs) ? from_mountinfo(ctx, out, path) : from_config(ctx, out, path);
}

const struct pst_probe pst_probe_mount = {
    .name = "mount",
    .summary = "the filesystem mounted on a path and its options (mountinfo, or fstab offline)",
    .args = mount_args,
    .n_args = PST_COUNT(mount_args),
    .fields = mount_fields,
    .n_fields = PST_COUNT(mount_fields),
    .collect = mount_collect,
};
