/* SPDX-License-Identifier: Apache-2.0 */
/* Test helpers: temporary fixture roots and policy files, built and removed per test. */
#include "helpers.h"

#include "agent/jsonw.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *tmproot_new(void)
{
    char tmpl[] = "/tmp/posture-test-XXXXXX";
    char *dir = mkdtemp(tmpl);

    assert_non_null(dir);
    return strdup(dir);
}

static void full_path(char *out, const char *root, const char *path)
{
    assert_true(snprintf(out, PATH_MAX, "%s%s", root, path) < PATH_MAX);
}

static void make_parents(const char *full)
{
    char buf[PATH_MAX];

    snprintf(buf, sizeof(buf), "%s", full);
    for (char *p = buf + 1; *p != '\0'; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0755) != 0) {
                assert_int_equal(errno, EEXIST);
            }
            *p = '/';
        }
    }
}

void tmproot_write_bytes(const char *root, const char *path, const void *data, size_t len,
                         mode_t mode)
{
    char full[PATH_MAX];
    int fd;

    full_path(full, root, path);
    make_parents(full);
    fd = open(full, O_WRONLY | O_CREAT | O_TRUNC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

void tmproot_write(const char *root, const char *path, const char *content, mode_t mode)
{
    tmproot_write_bytes(root, path, content, strlen(content), mode);
}

void tmproot_mkdir(const char *root, const char *path, mode_t mode)
{
    char full[PATH_MAX];

    full_path(full, root, path);
    make_parents(full);
    assert_int_equal(mkdir(full, mode), 0);
    assert_int_equal(chmod(full, mode), 0);
}

void tmproot_symlink(const char *root, const char *path, const char *target)
{
    char full[PATH_MAX];

    full_path(full, root, path);
    make_parents(full);
    assert_int_equal(symlink(target, full), 0);
}

void tmproot_chown(const char *root, const char *path, uid_t uid, gid_t gid)
{
    char full[PATH_MAX];

    full_path(full, root, path);
    assert_int_equal(lchown(full, uid, gid), 0);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)ftw;
    /*
     * Only a directory (FTW_PHYS: never a symlink) gets its mode fixed, for tests that made
     * one unreadable: chmod on a symlink would change what it points to, which for the
     * fixtures' absolute links is this machine's own /etc/passwd.
     */
    if (flag == FTW_DP && S_ISDIR(st->st_mode)) {
        chmod(path, 0700);
    }
    return remove(path);
}

void tmproot_free(char *root)
{
    if (root != NULL) {
        nftw(root, remove_entry, 32, FTW_DEPTH | FTW_PHYS);
        free(root);
    }
}

#include "agent/error.h"
#include "probes/probe.h"

json_t *probe_run(const char *root, const char *name, const char *args)
{
    const struct pst_probe *probe = pst_probe_find(name);
    struct pst_fs *fs = NULL;
    struct pst_probe_ctx ctx;
    const struct pst_call *call = NULL;
    json_t *given = json_loads(args, 0, NULL);
    json_t *result;

    assert_non_null(probe);
    assert_non_null(given);
    assert_int_equal(pst_fs_new(root, &fs), PST_OK);
    assert_int_equal(pst_probe_ctx_init(&ctx, fs), PST_OK);
    assert_int_equal(pst_probe_call(&ctx, probe, given, &call), PST_OK);
    /* its own references to the values: it outlives the context released below */
    result = pst_call_json(call);
    assert_non_null(result);
    pst_probe_ctx_release(&ctx);
    pst_fs_free(fs);
    json_decref(given);
    return result;
}

const json_t *fact_value(const json_t *result, const char *field)
{
    const json_t *fact = json_object_get(json_object_get(result, "facts"), field);
    return fact ? json_object_get(fact, "value") : NULL;
}

const char *fact_source(const json_t *result, const char *field)
{
    const json_t *fact = json_object_get(json_object_get(result, "facts"), field);
    return fact ? json_string_value(json_object_get(fact, "source")) : NULL;
}

void expect_diag(const struct pst_diag *d, const char *file, const char *const *want, size_t n)
{
    for (size_t i = 0; i < d->count; i++) {
        print_message("%s\n", d->messages[i]);
    }
    assert_int_equal(d->count, n);
    for (size_t i = 0; i < n; i++) {
        char expected[4096];
        const char *file_at = strstr(want[i], "FILE");
        if (file_at != NULL) {
            snprintf(expected, sizeof(expected), "%s%.*s%s%s", file, (int)(file_at - want[i]),
                     want[i], file, file_at + 4);
        } else {
            snprintf(expected, sizeof(expected), "%s%s", file, want[i]);
        }
        assert_string_equal(d->messages[i], expected);
    }
}

void expect_json(const json_t *value, const char *text)
{
    json_t *want = json_loads(text, JSON_DECODE_ANY, NULL);
    char *got = value != NULL ? json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;

    assert_non_null(want);
    if (value == NULL || !json_equal(value, want)) {
        fail_msg("expected %s, got %s", text, got != NULL ? got : "(absent)");
    }
    free(got);
    json_decref(want);
}

const char *probe_errors(const json_t *result)
{
    static char text[8192];
    size_t i;
    const json_t *e;

    text[0] = '\0';
    json_array_foreach(json_object_get(result, "errors"), i, e)
    {
        snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s%s", i ? "; " : "",
                 json_string_value(json_object_get(e, "message")));
    }
    return text;
}

/* A payload writer (transport/identity.h) for a report held as a tree (ARG): its members,
 * then the trailer, streamed as the agent streams its report. */
int pst_test_tree_payload(void *arg, const char *host_id, uint64_t seq, uint64_t dropped,
                          char **text, size_t *len)
{
    struct pst_jsonw w;
    const char *key;
    const json_t *value;

    pst_jsonw_init(&w, JSON_COMPACT | JSON_REAL_PRECISION(17));
    pst_jsonw_begin_object(&w);
    json_object_foreach((json_t *)arg, key, value)
    {
        pst_jsonw_key(&w, key);
        pst_jsonw_value(&w, value);
    }
    pst_jsonw_key(&w, "host_id");
    pst_jsonw_string(&w, host_id);
    pst_jsonw_key(&w, "seq");
    pst_jsonw_integer(&w, (json_int_t)seq);
    pst_jsonw_key(&w, "spool_dropped");
    pst_jsonw_integer(&w, (json_int_t)dropped);
    pst_jsonw_end_object(&w);
    return pst_jsonw_finish(&w, text, len);
}
