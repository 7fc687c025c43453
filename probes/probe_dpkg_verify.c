/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Probe "dpkg_verify": whether installed packages' files still have the content dpkg
 * recorded (the md5sums files in /var/lib/dpkg/info, and the conffiles' sums in dpkg's status), as
 * `dpkg --verify` checks them, within path prefixes and a byte budget.
 */
#include "probes/probe.h"

#include "agent/error.h"
#include "probes/text.h"

#include <errno.h>
#include <limits.h>
#include <strings.h>
#include <mbedtls/md.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DPKG_STATUS "/var/lib/dpkg/status"
#define DPKG_INFO "/var/lib/dpkg/info"
#define READ_CHUNK 65536

static const struct pst_probe_arg dpkg_verify_args[] = {
    {.name = "prefixes",
     .type = PST_TYPE_LIST,
     .default_value = "/bin,/sbin,/usr/bin,/usr/sbin,/usr/lib,/etc",
     .description = "verify only files under these directories"},
    {.name = "byte_budget",
     .type = PST_TYPE_INT,
     .default_value = "1073741824",
     .description = "most bytes read; a verification that needs more is an error, not a cut"},
    {.name = "max_findings",
     .type = PST_TYPE_INT,
     .default_value = "20",
     .description = "findings kept as evidence per field; the counts count them all"},
};

static const struct pst_probe_field dpkg_verify_fields[] = {
    {"modified", PST_TYPE_FINDINGS,
     "files whose content differs from dpkg's record {path, package, conffile}"},
    {"modified_count", PST_TYPE_INT, "how many"},
    {"missing", PST_TYPE_FINDINGS, "files dpkg installed that are gone {path, package, conffile}"},
    {"missing_count", PST_TYPE_INT, "how many"},
    {"files_checked", PST_TYPE_INT, "files whose content was verified"},
    {"bytes_read", PST_TYPE_INT, "bytes read to verify them"},
};

struct verify {
    struct pst_probe_ctx *ctx;
    const json_t *prefixes;
    long long budget, bytes;
    long max_findings;
    long checked, n_modified, n_missing;
    json_t *modified, *missing;
    json_t *diversions; /* diverted path -> [diverted-to path, diverting package] */
    json_t *reported;   /* missing paths already reported (a conffile is in the .list too) */
    bool over_budget, nomem;
    char *error; /* first read error other than a missing file */
};

/*
 * Where PACKAGE's file PATH really is: a file another package (or the admin) diverted is
 * found at the diversion's target, as dpkg itself would look for it.
 */
static const char *real_path(const struct verify *v, const char *path, const char *package)
{
    const json_t *d = json_object_get(v->diversions, path);
    const char *by = d ? json_string_value(json_array_get(d, 1)) : NULL;

    if (d == NULL || (by != NULL && strcmp(by, package) == 0)) {
        return path;
    }
    return json_string_value(json_array_get(d, 0));
}

/* /var/lib/dpkg/diversions: three lines an entry (from, to, package or ":" for local). */
static void load_diversions(struct verify *v)
{
    char *buf = NULL, *cursor;
    char *lines[3];
    size_t len;
    long lineno = 0;

    if (pst_fs_read(v->ctx->fs, "/var/lib/dpkg/diversions", 16u * 1024u * 1024u, true, &buf,
                    &len) != PST_OK) {
        return;
    }
    cursor = buf;
    for (;;) {
        int k;
        for (k = 0; k < 3 && (lines[k] = pst_text_next_line(&cursor, &lineno)) != NULL; k++) {
        }
        if (k < 3) {
            break;
        }
        json_object_set_new_nocheck(
            v->diversions, lines[0],
            json_pack("[o, o]", pst_json_text(lines[1]),
                      strcmp(lines[2], ":") == 0 ? json_null() : pst_json_text(lines[2])));
    }
    free(buf);
}

static bool under_prefix(const struct verify *v, const char *path)
{
    size_t i;
    const json_t *p;

    json_array_foreach(v->prefixes, i, p)
    {
        const char *prefix = json_string_value(p);
        size_t n = strlen(prefix);
        while (n > 1 && prefix[n - 1] == '/') {
            n--;
        }
        if (strncmp(path, prefix, n) == 0 && (path[n] == '/' || path[n] == '\0' || n == 1)) {
            return true;
        }
    }
    return false;
}

/* Hex MD5 of regular file PATH into HEX[33]; 0, PST_ENOENT, PST_ETOOBIG (budget) or PST_E*. */
static int md5_file(struct verify *v, const char *path, char hex[33])
{
    const mbedtls_md_info_t *info = mbedtls_md_info_from_type(MBEDTLS_MD_MD5);
    mbedtls_md_context_t md;
    unsigned char digest[16];
    unsigned char *chunk = NULL;
    struct stat st;
    int fd;
    int rc = pst_fs_open_regular(v->ctx->fs, path, &fd, &st);

    if (rc != PST_OK) {
        return rc;
    }
    if (v->bytes + (long long)st.st_size > v->budget) {
        close(fd);
        return PST_ETOOBIG;
    }
    mbedtls_md_init(&md);
    chunk = malloc(READ_CHUNK);
    if (info == NULL || chunk == NULL || mbedtls_md_setup(&md, info, 0) != 0 ||
        mbedtls_md_starts(&md) != 0) {
        rc = chunk == NULL ? PST_ENOMEM : PST_ENOTSUP;
        goto out;
    }
    for (;;) {
        ssize_t n = read(fd, chunk, READ_CHUNK);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            rc = pst_from_errno(errno);
            goto out;
        }
        if (n == 0) {
            break;
        }
        v->bytes += n;
        if (v->bytes > v->budget) { /* the file grew while it was read */
            rc = PST_ETOOBIG;
            goto out;
        }
        mbedtls_md_update(&md, chunk, (size_t)n);
    }
    mbedtls_md_finish(&md, digest);
    for (int i = 0; i < 16; i++) {
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    }
out:
    mbedtls_md_free(&md);
    free(chunk);
    close(fd);
    return rc;
}

static void add_finding(struct verify *v, json_t *list, long *count, const char *path,
                        const char *package, bool conffile)
{
    if (list == v->missing) {
        if (json_object_get(v->reported, path) != NULL) {
            return;
        }
        json_object_set_new_nocheck(v->reported, path, json_true());
    }
    (*count)++;
    if ((long)json_array_size(list) < v->max_findings &&
        json_array_append_new(list,
                              json_pack("{s:o, s:o, s:b}", "path", pst_json_text(path), "package",
                                        pst_json_text(package), "conffile", conffile)) != 0) {
        v->nomem = true;
    }
}

/* Verifies PATH against the recorded sum WANT (hex). */
static void verify_one(struct verify *v, const char *path, const char *want, const char *package,
                       bool conffile)
{
    char have[33];
    int rc;

    if (!under_prefix(v, path) || v->over_budget) {
        return;
    }
    path = real_path(v, path, package);
    rc = md5_file(v, path, have);
    if (rc == PST_ENOENT) {
        /* a missing file that the .list names is reported there; a conffile only here */
        if (conffile) {
            add_finding(v, v->missing, &v->n_missing, path, package, conffile);
        }
    } else if (rc == PST_ETOOBIG) {
        v->over_budget = true;
    } else if (rc == PST_ETYPE) {
        /* a directory, device or FIFO where the package shipped a file: not its content */
        add_finding(v, v->modified, &v->n_modified, path, package, conffile);
    } else if (rc != PST_OK) {
        if (v->error == NULL && asprintf(&v->error, "read %s: %s", path, pst_strerror(rc)) < 0) {
            v->error = NULL;
        }
    } else {
        v->checked++;
        if (strcasecmp(have, want) != 0) {
            add_finding(v, v->modified, &v->n_modified, path, package, conffile);
        }
    }
}

/* Reads one of dpkg's files; a failure other than absence is an error of the probe. */
static bool read_info(struct verify *v, const char *path, char **buf)
{
    size_t len;
    int rc = pst_fs_read(v->ctx->fs, path, 64u * 1024u * 1024u, true, buf, &len);

    if (rc == PST_ENOMEM) {
        v->nomem = true;
    } else if (rc != PST_OK && rc != PST_ENOENT && v->error == NULL &&
               asprintf(&v->error, "read %s: %s", path, pst_strerror(rc)) < 0) {
        v->error = NULL;
    }
    return rc == PST_OK;
}

/* Runs EACH on every line of dpkg's info file FILE (in /var/lib/dpkg/info) of PACKAGE. */
static void for_each_info_line(struct verify *v, const char *package, const char *file,
                               void (*each)(struct verify *, const char *, char *))
{
    char path[PATH_MAX];
    char *buf = NULL, *cursor, *line;
    long lineno = 0;

    snprintf(path, sizeof(path), "%s/%s", DPKG_INFO, file);
    if (!read_info(v, path, &buf)) {
        return;
    }
    cursor = buf;
    while (!v->over_budget && !v->nomem && (line = pst_text_next_line(&cursor, &lineno)) != NULL) {
        each(v, package, line);
    }
    free(buf);
}

/* A line of a package's md5sums file: "HEX  relative/path". */
static void md5sums_line(struct verify *v, const char *package, char *line)
{
    char *rel = line + strcspn(line, " \t");
    char full[PATH_MAX];

    if (*rel == '\0' || rel - line != 32) {
        return;
    }
    *rel++ = '\0';
    rel += strspn(rel, " \t");
    if (snprintf(full, sizeof(full), "/%s", rel) < (int)sizeof(full)) {
        verify_one(v, full, line, package, false);
    }
}

/*
 * A line of a package's .list: the path must exist (files and directories alike), as
 * `dpkg --verify` checks; a file's content is checked through md5sums.
 */
static void list_line(struct verify *v, const char *package, char *line)
{
    struct stat st;

    if (line[0] != '/' || !under_prefix(v, line) || strcmp(line, "/.") == 0) {
        return;
    }
    if (pst_fs_stat(v->ctx->fs, real_path(v, line, package), false, &st) == PST_ENOENT) {
        add_finding(v, v->missing, &v->n_missing, line, package, false);
    }
}

/*
 * Splits a conffile line " /etc/my conf HEX [obsolete|remove-on-upgrade]" from the right, as
 * dpkg does, since a path may hold blanks. Returns false for a line without a sum.
 */
static bool split_conffile(char *line, char **path, char **sum, bool *obsolete)
{
    char *last;

    *obsolete = false;
    line = pst_text_skip_blanks(line);
    pst_text_rstrip(line);
    last = strrchr(line, ' ');
    if (last == NULL) {
        return false;
    }
    if (strcmp(last + 1, "obsolete") == 0 || strcmp(last + 1, "remove-on-upgrade") == 0) {
        *obsolete = true;
        *last = '\0';
        pst_text_rstrip(line);
        last = strrchr(line, ' ');
        if (last == NULL) {
            return false;
        }
    }
    *last = '\0';
    *sum = last + 1;
    pst_text_rstrip(line);
    *path = line;
    return **path == '/' && strlen(*sum) == 32; /* "newconffile": no sum recorded yet */
}

/*
 * dpkg's status: the packages whose files are installed, and the recorded sums of the
 * conffiles of every package dpkg still knows (a removed one keeps its conffiles, and
 * dpkg --verify checks them).
 */
static int verify_status(struct verify *v, json_t *installed, struct pst_facts *out)
{
    char *buf = NULL, *cursor, *line;
    size_t len;
    long lineno = 0;
    char package[256] = "";
    bool known = false, in_conffiles = false;
    int rc = pst_fs_read(v->ctx->fs, DPKG_STATUS, 128u * 1024u * 1024u, true, &buf, &len);

    if (rc != PST_OK) {
        /* without the status, nothing is known to be installed: never a clean bill */
        pst_facts_error(out, DPKG_STATUS, "read %s: %s", DPKG_STATUS, pst_strerror(rc));
        return rc;
    }
    cursor = buf;
    while (!v->nomem && (line = pst_text_next_line(&cursor, &lineno)) != NULL) {
        if (*line == '\0') {
            package[0] = '\0';
            known = in_conffiles = false;
        } else if (strncmp(line, "Package:", 8) == 0) {
            snprintf(package, sizeof(package), "%s", pst_text_skip_blanks(line + 8));
        } else if (strncmp(line, "Status:", 7) == 0) {
            const char *state = strrchr(line, ' ');
            state = state ? state + 1 : "";
            known = strcmp(state, "not-installed") != 0;
            if (known && strcmp(state, "config-files") != 0 && package[0] != '\0') {
                json_object_set_new_nocheck(installed, package, json_true());
            }
        } else if (strncmp(line, "Conffiles:", 10) == 0) {
            in_conffiles = true;
        } else if (in_conffiles && line[0] == ' ') {
            char *path, *sum;
            bool obsolete;
            if (known && split_conffile(line, &path, &sum, &obsolete) && !obsolete) {
                verify_one(v, path, sum, package, true);
            }
        } else if (line[0] != ' ') {
            in_conffiles = false;
        }
    }
    free(buf);
    return PST_OK;
}

static int dpkg_verify_collect(struct pst_probe_ctx *ctx, const json_t *args, struct pst_facts *out)
{
    struct verify v = {.ctx = ctx};
    json_t *installed = json_object();
    json_t *names = NULL;
    size_t i;
    json_t *name;
    int rc = PST_OK;

    v.prefixes = json_object_get(args, "prefixes");
    v.budget = (long long)json_integer_value(json_object_get(args, "byte_budget"));
    v.max_findings = (long)json_integer_value(json_object_get(args, "max_findings"));
    v.modified = json_array();
    v.missing = json_array();
    v.diversions = json_object();
    v.reported = json_object();
    if (installed == NULL || v.modified == NULL || v.missing == NULL || v.diversions == NULL ||
        v.reported == NULL) {
        rc = PST_ENOMEM;
        goto out;
    }
    load_diversions(&v);
    rc = verify_status(&v, installed, out);
    if (rc != PST_OK) {
        rc = rc == PST_ENOMEM ? rc : PST_OK;
        goto out;
    }
    rc = pst_fs_list(ctx->fs, DPKG_INFO, &names);
    if (rc != PST_OK) {
        pst_facts_error(out, DPKG_INFO, "list %s: %s", DPKG_INFO, pst_strerror(rc));
        rc = rc == PST_ENOMEM ? rc : PST_OK;
        goto out;
    }
    json_array_foreach(names, i, name)
    {
        const char *n = json_string_value(name);
        size_t len = strlen(n);
        size_t suffix = len > 8 && strcmp(n + len - 8, ".md5sums") == 0 ? 8
                        : len > 5 && strcmp(n + len - 5, ".list") == 0  ? 5
                                                                        : 0;
        char package[256];
        if (suffix == 0 || len - suffix >= sizeof(package)) {
            continue;
        }
        /* "pkg.list" or "pkg:arch.md5sums": verified only while the package is installed */
        snprintf(package, sizeof(package), "%.*s", (int)(len - suffix), n);
        package[strcspn(package, ":")] = '\0';
        if (json_object_get(installed, package) == NULL) {
            continue;
        }
        for_each_info_line(&v, package, n, suffix == 5 ? list_line : md5sums_line);
        if (v.over_budget || v.nomem) {
            break;
        }
    }
    if (v.nomem) {
        rc = PST_ENOMEM;
        goto out;
    }
    if (v.over_budget) {
        pst_facts_error(out, NULL,
                        "verification needs more than byte_budget (%lld bytes) after %ld files",
                        v.budget, v.checked);
    } else if (v.error != NULL) {
        pst_facts_error(out, NULL, "%s", v.error);
    } else if (pst_facts_set(out, "modified", json_incref(v.modified), DPKG_INFO) != 0 ||
               pst_facts_set(out, "modified_count", json_integer(v.n_modified), DPKG_INFO) != 0 ||
               pst_facts_set(out, "missing", json_incref(v.missing), DPKG_INFO) != 0 ||
               pst_facts_set(out, "missing_count", json_integer(v.n_missing), DPKG_INFO) != 0) {
        rc = PST_ENOMEM;
        goto out;
    }
    if (pst_facts_set(out, "files_checked", json_integer(v.checked), DPKG_INFO) != 0 ||
        pst_facts_set(out, "bytes_read", json_integer(v.bytes), DPKG_INFO) != 0) {
        rc = PST_ENOMEM;
    }
out:
    json_decref(installed);
    json_decref(names);
    json_decref(v.modified);
    json_decref(v.missing);
    json_decref(v.diversions);
    json_decref(v.reported);
    free(v.error);
    return rc;
}

const struct pst_probe pst_probe_dpkg_verify = {
    .name = "dpkg_verify",
    .summary = "installed packages' files compared with the md5sums dpkg recorded",
    .args = dpkg_verify_args,
    .n_args = PST_COUNT(dpkg_verify_args),
    .fields = dpkg_verify_fields,
    .n_fields = PST_COUNT(dpkg_verify_fields),
    .collect = dpkg_verify_collect,
};
