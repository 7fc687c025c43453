/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of the dpkg_verify probe: content, missing files, conffiles, diversions, budget. */
#include "helpers.h"

#include <string.h>

/* md5("hello\n") and md5("") */
#define MD5_HELLO "b1946ac92492d2347c6235b4d2611184"
#define MD5_EMPTY "d41d8cd98f00b204e9800998ecf8427e"

static char *root;

static int setup(void **state)
{
    (void)state;
    root = tmproot_new();
    tmproot_write(root, "/var/lib/dpkg/status",
                  "Package: tool\nStatus: install ok installed\nVersion: 1\n"
                  "Conffiles:\n /etc/tool.conf " MD5_HELLO "\n /etc/old.conf " MD5_HELLO
                  " obsolete\n\n"
                  "Package: gone\nStatus: deinstall ok config-files\nVersion: 1\n",
                  0644);
    tmproot_write(root, "/var/lib/dpkg/info/tool.md5sums",
                  MD5_HELLO "  usr/bin/tool\n" MD5_HELLO "  usr/bin/changed\n" MD5_HELLO
                            "  usr/bin/diverted\n" MD5_HELLO "  usr/share/doc/tool/x\n",
                  0644);
    tmproot_write(root, "/var/lib/dpkg/info/tool.list",
                  "/.\n/usr\n/usr/bin\n/usr/bin/tool\n/usr/bin/changed\n/usr/bin/diverted\n"
                  "/usr/bin/vanished\n/usr/share\n/usr/share/doc\n/usr/share/doc/tool\n"
                  "/usr/share/doc/tool/x\n/etc/tool.conf\n",
                  0644);
    tmproot_write(root, "/var/lib/dpkg/info/gone.md5sums", MD5_HELLO "  usr/bin/gone\n", 0644);
    tmproot_write(root, "/var/lib/dpkg/diversions",
                  "/usr/bin/diverted\n/usr/bin/diverted.real\nother\n", 0644);
    tmproot_write(root, "/usr/bin/tool", "hello\n", 0755);
    tmproot_write(root, "/usr/bin/changed", "hello, changed\n", 0755);
    tmproot_write(root, "/usr/bin/diverted", "another package's file\n", 0755);
    tmproot_write(root, "/usr/bin/diverted.real", "hello\n", 0755);
    tmproot_write(root, "/etc/tool.conf", "edited\n", 0644);
    tmproot_mkdir(root, "/usr/share/doc/tool", 0755);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tmproot_free(root);
    return 0;
}

static void test_verify(void **state)
{
    json_t *r = probe_run(root, "dpkg_verify", "{\"prefixes\": [\"/\"]}");
    const json_t *modified, *missing;

    (void)state;
    assert_int_equal(json_array_size(json_object_get(r, "errors")), 0);
    modified = fact_value(r, "modified");

    missing = fact_value(r, "missing");
    assert_int_equal(json_integer_value(fact_value(r, "modified_count")), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(modified, 0), "path")),
                        "/etc/tool.conf");
    assert_true(json_is_true(json_object_get(json_array_get(modified, 0), "conffile")));
    assert_string_equal(json_string_value(json_object_get(json_array_get(modified, 1), "path")),
                        "/usr/bin/changed");
    assert_string_equal(json_string_value(json_object_get(json_array_get(modified, 1), "package")),
                        "tool");
    /* paths the .list names that are gone, in the .list's order */
    assert_int_equal(json_integer_value(fact_value(r, "missing_count")), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(missing, 0), "path")),
                        "/usr/bin/vanished");
    assert_string_equal(json_string_value(json_object_get(json_array_get(missing, 1), "path")),
                        "/usr/share/doc/tool/x");
    json_decref(r);

    r = probe_run(root, "dpkg_verify", "{\"prefixes\": [\"/usr/bin\"]}");
    assert_int_equal(json_integer_value(fact_value(r, "modified_count")), 1);
    assert_int_equal(json_integer_value(fact_value(r, "missing_count")), 1);
    json_decref(r);

    r = probe_run(root, "dpkg_verify", "{\"prefixes\": [\"/\"], \"byte_budget\": 10}");
    assert_null(fact_value(r, "modified_count"));
    assert_non_null(strstr(json_string_value(json_object_get(
                               json_array_get(json_object_get(r, "errors"), 0), "message")),
                           "byte_budget"));
    json_decref(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verify),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
