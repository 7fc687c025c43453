/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of the keyvalue probe: separators, comments, quotes, first/last wins, numbers. */
#include "helpers.h"

#include <string.h>

static char *root;

static int setup(void **state)
{
    (void)state;
    root = tmproot_new();
    tmproot_write(root, "/etc/login.defs",
                  "# PASS_MAX_DAYS 1\n"
                  "PASS_MAX_DAYS\t99999\n"
                  "UMASK 022\n"
                  "PASS_MAX_DAYS 90\n"
                  "ENCRYPT_METHOD  SHA512  \n"
                  "PASS_MIN_DAYS 7\n"
                  "PASS_MIN_DAYS\n"
                  "SYS_UID_MAX 0x3e7\n",
                  0644);
    tmproot_write(root, "/etc/default/useradd",
                  "# INACTIVE=-1\nSHELL=\"/bin/sh\"\nINACTIVE = 30\nGROUP='100'\nEMPTY=\n", 0644);
    tmproot_write(root, "/etc/sysctl.conf", "net.ipv4.ip_forward = 0\nkernel.x=1\n", 0644);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tmproot_free(root);
    return 0;
}

static void expect(const char *args, const char *value, const char *source, long long number,
                   int occurrences)
{
    json_t *r = probe_run(root, "keyvalue", args);

    if (value == NULL) {
        assert_true(json_is_null(fact_value(r, "value")));
        assert_true(json_is_false(fact_value(r, "present")));
    } else {
        assert_string_equal(json_string_value(fact_value(r, "value")), value);
        assert_true(json_is_true(fact_value(r, "present")));
        assert_string_equal(fact_source(r, "value"), source);
    }
    if (number == -99) {
        assert_true(json_is_null(fact_value(r, "number")));
    } else {
        assert_int_equal(json_integer_value(fact_value(r, "number")), number);
    }
    assert_int_equal(json_integer_value(fact_value(r, "occurrences")), occurrences);
    json_decref(r);
}

static void test_login_defs(void **state)
{
    (void)state;
    expect("{\"path\": \"/etc/login.defs\", \"key\": \"PASS_MAX_DAYS\"}", "90", "/etc/login.defs:4",
           90, 2);
    expect("{\"path\": \"/etc/login.defs\", \"key\": \"PASS_MAX_DAYS\", \"match\": \"first\"}",
           "99999", "/etc/login.defs:2", 99999, 2);
    expect("{\"path\": \"/etc/login.defs\", \"key\": \"ENCRYPT_METHOD\", \"separator\": \"space\"}",
           "SHA512", "/etc/login.defs:5", -99, 1);
    expect("{\"path\": \"/etc/login.defs\", \"key\": \"umask\"}", NULL, NULL, -99, 0);
    /* 022 is octal, as shadow reads login.defs */
    expect("{\"path\": \"/etc/login.defs\", \"key\": \"umask\", \"ignore_case\": true}", "022",
           "/etc/login.defs:3", 18, 1);
    /* a bare key assigns nothing: the earlier value stands */
    expect("{\"path\": \"/etc/login.defs\", \"key\": \"PASS_MIN_DAYS\"}", "7", "/etc/login.defs:6",
           7, 1);
    expect("{\"path\": \"/etc/login.defs\", \"key\": \"SYS_UID_MAX\"}", "0x3e7",
           "/etc/login.defs:8", 999, 1);
}

static void test_shell_style(void **state)
{
    (void)state;
    expect("{\"path\": \"/etc/default/useradd\", \"key\": \"INACTIVE\", \"separator\": \"equals\"}",
           "30", "/etc/default/useradd:3", 30, 1);
    expect("{\"path\": \"/etc/default/useradd\", \"key\": \"SHELL\"}", "/bin/sh",
           "/etc/default/useradd:2", -99, 1);
    expect("{\"path\": \"/etc/default/useradd\", \"key\": \"GROUP\"}", "100",
           "/etc/default/useradd:4", 100, 1);
    expect("{\"path\": \"/etc/default/useradd\", \"key\": \"EMPTY\"}", "", "/etc/default/useradd:5",
           -99, 1);
    expect("{\"path\": \"/etc/sysctl.conf\", \"key\": \"net.ipv4.ip_forward\"}", "0",
           "/etc/sysctl.conf:1", 0, 1);
    expect("{\"path\": \"/etc/sysctl.conf\", \"key\": \"kernel.x\", \"separator\": \"space\"}",
           NULL, NULL, -99, 0);
}

static void test_missing_file(void **state)
{
    json_t *r;

    (void)state;
    r = probe_run(root, "keyvalue", "{\"path\": \"/etc/none\", \"key\": \"A\"}");
    assert_true(json_is_false(fact_value(r, "exists")));
    assert_true(json_is_false(fact_value(r, "present")));
    assert_int_equal(json_array_size(json_object_get(r, "errors")), 0);
    json_decref(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_login_defs),
        cmocka_unit_test(test_shell_style),
        cmocka_unit_test(test_missing_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
