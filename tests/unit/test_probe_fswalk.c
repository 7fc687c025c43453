/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of the fswalk probe on an offline root: findings, owners from the root, packages. */
#include "helpers.h"

#include <string.h>

static char *root;

static int setup(void **state)
{
    (void)state;
    root = tmproot_new();
    tmproot_write(root, "/etc/passwd",
                  "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n", 0644);
    tmproot_write(root, "/etc/group", "root:x:0:\nalice:x:1000:\n", 0644);
    tmproot_symlink(root, "/bin", "usr/bin");
    tmproot_write(root, "/usr/bin/su", "su", 04755);
    tmproot_write(root, "/usr/bin/local-tool", "tool", 02755);
    tmproot_write(root, "/var/lib/dpkg/info/util-linux.list", "/.\n/bin\n/bin/su\n", 0644);
    tmproot_write(root, "/srv/open", "", 0666);
    tmproot_chown(root, "/srv/open", 1000, 1000);
    /* uid 1000 exists in the root; 2000 does not, whatever this host says */
    tmproot_write(root, "/srv/orphan", "", 0644);
    tmproot_chown(root, "/srv/orphan", 2000, 1000);
    tmproot_mkdir(root, "/srv/drop", 0777);
    tmproot_mkdir(root, "/tmp", 01777);
    /* an absolute link: inside the root it leads to the root's /srv, never the host's */
    tmproot_symlink(root, "/walkme", "/srv");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tmproot_free(root);
    return 0;
}

static void test_findings(void **state)
{
    json_t *r = probe_run(root, "fswalk", "{}");
    const json_t *suid;

    (void)state;
    assert_int_equal(json_array_size(json_object_get(r, "errors")), 0);
    assert_int_equal(json_integer_value(fact_value(r, "world_writable_files_count")), 1);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(fact_value(r, "world_writable_files"), 0), "path")),
                        "/srv/open");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(fact_value(r, "world_writable_files"), 0), "owner")),
                        "alice");
    assert_int_equal(json_integer_value(fact_value(r, "world_writable_dirs_count")), 1);
    assert_int_equal(json_integer_value(fact_value(r, "unowned_count")), 1);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(fact_value(r, "unowned"), 0), "path")),
        "/srv/orphan");
    assert_int_equal(json_integer_value(fact_value(r, "suid_sgid_count")), 2);
    suid = fact_value(r, "suid_sgid");
    for (size_t i = 0; i < json_array_size(suid); i++) {
        const json_t *f = json_array_get(suid, i);
        const char *path = json_string_value(json_object_get(f, "path"));
        const json_t *pkg = json_object_get(f, "package");
        if (strcmp(path, "/usr/bin/su") == 0) {
            /* dpkg lists /bin/su; with a merged /usr it is /usr/bin/su */
            assert_string_equal(json_string_value(pkg), "util-linux");
            assert_string_equal(json_string_value(json_object_get(f, "mode")), "4755");
        } else {
            assert_string_equal(path, "/usr/bin/local-tool");
            assert_true(json_is_null(pkg));
        }
    }
    assert_int_equal(json_integer_value(fact_value(r, "unpackaged_suid_sgid_count")), 1);
    json_decref(r);
}

static void test_roots_skip_and_bounds(void **state)
{
    json_t *r;

    (void)state;
    /* a walk root given through a symlink resolves inside the scanned root */
    r = probe_run(root, "fswalk", "{\"roots\": [\"/walkme\"]}");
    assert_int_equal(json_integer_value(fact_value(r, "world_writable_files_count")), 1);
    json_decref(r);
    r = probe_run(root, "fswalk", "{\"skip\": [\"/srv\"]}");
    assert_int_equal(json_integer_value(fact_value(r, "world_writable_files_count")), 0);
    assert_int_equal(json_integer_value(fact_value(r, "unowned_count")), 0);
    json_decref(r);
    r = probe_run(root, "fswalk", "{\"max_findings\": 0}");
    assert_int_equal(json_array_size(fact_value(r, "world_writable_files")), 0);
    assert_int_equal(json_integer_value(fact_value(r, "world_writable_files_count")), 1);
    json_decref(r);
    /* too deep is an incomplete walk: an error, never a silently smaller count */
    r = probe_run(root, "fswalk", "{\"max_depth\": 0}");
    assert_null(fact_value(r, "world_writable_files_count"));
    assert_true(json_array_size(json_object_get(r, "errors")) > 0);
    json_decref(r);
    r = probe_run(root, "fswalk", "{\"roots\": [\"/nonexistent\"]}");
    assert_null(fact_value(r, "world_writable_files_count"));
    json_decref(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_findings),
        cmocka_unit_test(test_roots_skip_and_bounds),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
