/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of the root-aware file access layer: confinement, bounds, file types, errors. */
#include "helpers.h"

#include "agent/error.h"
#include "probes/fs.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Set by the group setups: resolve with openat2, or with the userspace resolver. */
static bool userspace;

static struct pst_fs *open_root(const char *root)
{
    struct pst_fs *fs = NULL;

    assert_int_equal(pst_fs_new(root, &fs), PST_OK);
    if (userspace) {
        pst_fs_disable_openat2(fs);
    }
    return fs;
}

static int use_openat2(void **state)
{
    (void)state;
    userspace = false;
    return 0;
}

static int use_userspace(void **state)
{
    (void)state;
    userspace = true;
    return 0;
}

static void expect_content(struct pst_fs *fs, const char *path, const char *want)
{
    char *buf = NULL;
    size_t len = 0;

    assert_int_equal(pst_fs_read(fs, path, 4096, true, &buf, &len), PST_OK);
    assert_string_equal(buf, want);
    assert_int_equal(len, strlen(want));
    free(buf);
}

static void test_reads_and_records(void **state)
{
    char *root = tmproot_new();
    struct pst_fs *fs;
    const json_t *touched;

    (void)state;
    tmproot_write(root, "/etc/hostname", "web01\n", 0644);
    fs = open_root(root);
    expect_content(fs, "/etc/hostname", "web01\n");
    char *buf = NULL;
    size_t len;
    assert_int_equal(pst_fs_read(fs, "/etc/missing", 4096, true, &buf, &len), PST_ENOENT);
    touched = pst_fs_touched(fs);
    assert_int_equal(json_array_size(touched), 2);
    assert_string_equal(json_string_value(json_array_get(touched, 0)), "/etc/hostname");
    assert_string_equal(json_string_value(json_array_get(touched, 1)), "/etc/missing");
    /* reading again does not duplicate the record */
    expect_content(fs, "/etc/hostname", "web01\n");
    assert_int_equal(json_array_size(touched), 2);
    assert_string_equal(pst_fs_root(fs), root);
    assert_false(pst_fs_is_live(fs));
    pst_fs_free(fs);
    tmproot_free(root);
}

/* An absolute symlink, and one climbing with "..", both resolve inside the root. */
static void test_symlinks_stay_inside_root(void **state)
{
    char *root = tmproot_new();
    struct pst_fs *fs;
    struct stat st;

    (void)state;
    tmproot_write(root, "/etc/passwd", "root:x:0:0:inside:/root:/bin/sh\n", 0644);
    tmproot_symlink(root, "/etc/abs", "/etc/passwd");
    tmproot_symlink(root, "/etc/climb", "../../../../../../etc/passwd");
    tmproot_symlink(root, "/etc/dangling", "/nowhere/at/all");
    tmproot_symlink(root, "/etc/loop", "/etc/loop");
    tmproot_symlink(root, "/etc/rel", "passwd");
    tmproot_symlink(root, "/etc/dirlink", "../../etc/");
    fs = open_root(root);
    expect_content(fs, "/etc/abs", "root:x:0:0:inside:/root:/bin/sh\n");
    expect_content(fs, "/etc/climb", "root:x:0:0:inside:/root:/bin/sh\n");
    expect_content(fs, "/../../etc/passwd", "root:x:0:0:inside:/root:/bin/sh\n");
    expect_content(fs, "/etc/./../etc/rel", "root:x:0:0:inside:/root:/bin/sh\n");
    expect_content(fs, "/etc/dirlink/passwd", "root:x:0:0:inside:/root:/bin/sh\n");
    assert_int_equal(pst_fs_stat(fs, "/etc/dirlink/..", true, &st), PST_OK);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(pst_fs_stat(fs, "/etc/passwd/", true, &st), PST_ENOENT);
    assert_int_equal(pst_fs_stat(fs, "/", true, &st), PST_OK);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(pst_fs_stat(fs, "/etc/dangling", true, &st), PST_ENOENT);
    assert_int_equal(pst_fs_stat(fs, "/etc/dangling", false, &st), PST_OK);
    assert_true(S_ISLNK(st.st_mode));
    assert_int_equal(pst_fs_stat(fs, "/etc/loop", true, &st), PST_ELOOP);
    pst_fs_free(fs);
    tmproot_free(root);
}

static void test_bounds_and_types(void **state)
{
    char *root = tmproot_new();
    char big[5000];
    char fifo[4096];
    struct pst_fs *fs;
    char *buf = NULL;
    size_t len;

    (void)state;
    memset(big, 'a', sizeof(big));
    tmproot_write_bytes(root, "/etc/big", big, sizeof(big), 0644);
    tmproot_write_bytes(root, "/etc/binary", "ab\0cd", 5, 0644);
    tmproot_mkdir(root, "/etc/dir", 0755);
    snprintf(fifo, sizeof(fifo), "%s/etc/fifo", root);
    assert_int_equal(mkfifo(fifo, 0644), 0);
    fs = open_root(root);
    assert_int_equal(pst_fs_read(fs, "/etc/big", 4096, true, &buf, &len), PST_ETOOBIG);
    assert_int_equal(pst_fs_read(fs, "/etc/big", 5000, true, &buf, &len), PST_OK);
    assert_int_equal(len, 5000);
    free(buf);
    assert_int_equal(pst_fs_read(fs, "/etc/binary", 4096, true, &buf, &len), PST_EBINARY);
    assert_int_equal(pst_fs_read(fs, "/etc/binary", 4096, false, &buf, &len), PST_OK);
    assert_int_equal(len, 5);
    free(buf);
    /* a FIFO is refused without blocking, a directory is not a file */
    assert_int_equal(pst_fs_read(fs, "/etc/fifo", 4096, true, &buf, &len), PST_ETYPE);
    assert_int_equal(pst_fs_read(fs, "/etc/dir", 4096, true, &buf, &len), PST_ETYPE);
    assert_int_equal(pst_fs_read(fs, "relative", 4096, true, &buf, &len), PST_EINVAL);
    pst_fs_free(fs);
    tmproot_free(root);
}

static void test_list_sorted(void **state)
{
    char *root = tmproot_new();
    struct pst_fs *fs;
    json_t *names = NULL;

    (void)state;
    tmproot_write(root, "/d/b.conf", "", 0644);
    tmproot_write(root, "/d/a.conf", "", 0644);
    tmproot_write(root, "/d/B.conf", "", 0644);
    fs = open_root(root);
    assert_int_equal(pst_fs_list(fs, "/d", &names), PST_OK);
    assert_int_equal(json_array_size(names), 3);
    assert_string_equal(json_string_value(json_array_get(names, 0)), "B.conf");
    assert_string_equal(json_string_value(json_array_get(names, 1)), "a.conf");
    assert_string_equal(json_string_value(json_array_get(names, 2)), "b.conf");
    json_decref(names);
    assert_int_equal(pst_fs_list(fs, "/nope", &names), PST_ENOENT);
    pst_fs_free(fs);
    tmproot_free(root);
}

static void test_bad_roots(void **state)
{
    char *root = tmproot_new();
    char file[4096];
    struct pst_fs *fs = NULL;

    (void)state;
    tmproot_write(root, "/plain", "x", 0644);
    snprintf(file, sizeof(file), "%s/plain", root);
    assert_int_equal(pst_fs_new("/nonexistent/posture/root", &fs), PST_ENOENT);
    assert_null(fs);
    assert_int_equal(pst_fs_new(file, &fs), PST_ETYPE);
    assert_int_equal(pst_fs_new(NULL, &fs), PST_OK);
    assert_true(pst_fs_is_live(fs));
    assert_null(pst_fs_root(fs));
    pst_fs_free(fs);
    pst_fs_free(NULL);
    tmproot_free(root);
}

/* As an unprivileged user, an unreadable file is PST_EACCES, not a crash or a pass. */
static void test_permission_denied(void **state)
{
    char *root = tmproot_new();
    pid_t pid;
    int status;

    (void)state;
    if (geteuid() != 0) {
        skip();
    }
    tmproot_write(root, "/etc/secret", "hash\n", 0600);
    assert_int_equal(chmod(root, 0755), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct pst_fs *fs = NULL;
        char *buf = NULL;
        size_t len;
        if (setgid(65534) != 0 || setuid(65534) != 0) {
            _exit(10);
        }
        if (pst_fs_new(root, &fs) != PST_OK) {
            _exit(11);
        }
        if (userspace) {
            pst_fs_disable_openat2(fs);
        }
        int code = pst_fs_read(fs, "/etc/secret", 4096, true, &buf, &len) == PST_EACCES ? 0 : 12;
        /* the child's copies, freed so that valgrind finds nothing lost when it exits */
        free(buf);
        pst_fs_free(fs);
        free(root);
        _exit(code);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    tmproot_free(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_and_records), cmocka_unit_test(test_symlinks_stay_inside_root),
        cmocka_unit_test(test_bounds_and_types),  cmocka_unit_test(test_list_sorted),
        cmocka_unit_test(test_bad_roots),         cmocka_unit_test(test_permission_denied),
    };
    int failed = cmocka_run_group_tests_name("openat2", tests, use_openat2, NULL);
    return failed + cmocka_run_group_tests_name("userspace resolver", tests, use_userspace, NULL);
}
