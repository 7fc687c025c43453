/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of the file probe against a fixture root: stat and lstat, owners, absent paths. */
#include "helpers.h"

#include <string.h>
#include <unistd.h>

static void test_stat_fields(void **state)
{
    char *root = tmproot_new();
    json_t *r;

    (void)state;
    tmproot_write(root, "/etc/passwd",
                  "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/a:/bin/sh\n", 0644);
    tmproot_write(root, "/etc/group", "root:x:0:\nshadow:x:42:\n", 0644);
    tmproot_write(root, "/etc/shadow", "x\n", 02640);
    tmproot_chown(root, "/etc/shadow", 1000, 42);
    tmproot_write(root, "/etc/orphan", "", 0600);
    tmproot_chown(root, "/etc/orphan", 4242, 4343);
    tmproot_symlink(root, "/etc/link", "/etc/shadow");
    tmproot_mkdir(root, "/tmp", 01777);

    r = probe_run(root, "file", "{\"path\": \"/etc/shadow\"}");
    assert_true(json_is_true(fact_value(r, "exists")));
    assert_string_equal(json_string_value(fact_value(r, "type")), "file");
    assert_string_equal(json_string_value(fact_value(r, "mode")), "2640");
    assert_string_equal(json_string_value(fact_value(r, "owner")), "alice");
    assert_string_equal(json_string_value(fact_value(r, "group")), "shadow");
    assert_int_equal(json_integer_value(fact_value(r, "uid")), 1000);
    assert_int_equal(json_integer_value(fact_value(r, "gid")), 42);
    assert_int_equal(json_integer_value(fact_value(r, "size")), 2);
    assert_string_equal(fact_source(r, "mode"), "/etc/shadow");
    assert_int_equal(json_array_size(json_object_get(r, "errors")), 0);
    json_decref(r);

    /* ids without a name in the root's databases are reported as numbers */
    r = probe_run(root, "file", "{\"path\": \"/etc/orphan\"}");
    assert_string_equal(json_string_value(fact_value(r, "owner")), "4242");
    assert_string_equal(json_string_value(fact_value(r, "group")), "4343");
    json_decref(r);

    r = probe_run(root, "file", "{\"path\": \"/etc/link\"}");
    assert_string_equal(json_string_value(fact_value(r, "type")), "file");
    json_decref(r);
    r = probe_run(root, "file", "{\"path\": \"/etc/link\", \"follow\": false}");
    assert_string_equal(json_string_value(fact_value(r, "type")), "symlink");
    json_decref(r);

    r = probe_run(root, "file", "{\"path\": \"/tmp\"}");
    assert_string_equal(json_string_value(fact_value(r, "type")), "directory");
    assert_string_equal(json_string_value(fact_value(r, "mode")), "1777");
    json_decref(r);

    r = probe_run(root, "file", "{\"path\": \"/etc/none\"}");
    assert_true(json_is_false(fact_value(r, "exists")));
    assert_null(fact_value(r, "mode"));
    assert_int_equal(json_array_size(json_object_get(r, "errors")), 0);
    json_decref(r);
    tmproot_free(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stat_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
