/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of the os probe: os-release quoting and fallback, offline hostname, live kernel. */
#include "helpers.h"

#include <string.h>
#include <sys/utsname.h>

static void test_offline_root(void **state)
{
    char *root = tmproot_new();
    json_t *r;

    (void)state;
    tmproot_write(root, "/usr/lib/os-release",
                  "PRETTY_NAME=\"Ubuntu 24.04.1 LTS\"\nNAME=\"Ubuntu\"\nVERSION_ID=\"24.04\"\n"
                  "ID=ubuntu\nID_LIKE=debian\nVERSION_CODENAME=noble\n# comment\n"
                  "BUG_REPORT_URL=\"https://example.invalid/\\\"x\\\"\"\n",
                  0644);
    tmproot_symlink(root, "/etc/os-release", "../usr/lib/os-release");
    tmproot_write(root, "/etc/hostname", "db01\n", 0644);
    tmproot_write(root, "/etc/machine-id", "0123456789abcdef0123456789abcdef\n", 0444);
    r = probe_run(root, "os", "{}");
    assert_string_equal(json_string_value(fact_value(r, "id")), "ubuntu");
    assert_string_equal(json_string_value(json_array_get(fact_value(r, "id_like"), 0)), "debian");
    assert_string_equal(json_string_value(fact_value(r, "pretty_name")), "Ubuntu 24.04.1 LTS");
    assert_string_equal(json_string_value(fact_value(r, "version_id")), "24.04");
    assert_string_equal(fact_source(r, "version_id"), "/etc/os-release:3");
    assert_string_equal(json_string_value(fact_value(r, "hostname")), "db01");
    assert_string_equal(json_string_value(fact_value(r, "machine_id")),
                        "0123456789abcdef0123456789abcdef");
    assert_null(fact_value(r, "kernel"));
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(r, "errors"), 0), "message")),
                        "kernel: not available for an offline root");
    json_decref(r);
    tmproot_free(root);
}

static void test_fallback_and_missing(void **state)
{
    char *root = tmproot_new();
    json_t *r;

    (void)state;
    tmproot_write(root, "/usr/lib/os-release", "ID='debian'\n", 0644);
    r = probe_run(root, "os", "{}");
    assert_string_equal(json_string_value(fact_value(r, "id")), "debian");
    assert_string_equal(fact_source(r, "id"), "/usr/lib/os-release:1");
    assert_true(json_is_null(fact_value(r, "id_like")));
    assert_true(json_is_null(fact_value(r, "machine_id")));
    json_decref(r);
    tmproot_free(root);
}

static void test_live(void **state)
{
    struct utsname uts;
    json_t *r;

    (void)state;
    assert_int_equal(uname(&uts), 0);
    r = probe_run("/", "os", "{}");
    assert_string_equal(json_string_value(fact_value(r, "kernel")), uts.release);
    assert_string_equal(json_string_value(fact_value(r, "hostname")), uts.nodename);
    json_decref(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offline_root),
        cmocka_unit_test(test_fallback_and_missing),
        cmocka_unit_test(test_live),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
