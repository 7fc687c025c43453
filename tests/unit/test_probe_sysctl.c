/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the sysctl probe on fixture roots: what a file that cannot be used does to the
 * answer (binary, oversized, long lines, directories, dangling links, masks an offline root
 * cannot resolve), key normalisation, numbers, and running values against /proc/sys.
 * tests/integration/sysctl.sh compares the resolution itself with systemd-sysctl.
 */
#include "helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *run(const char *root, const char *key)
{
    char args[256];

    snprintf(args, sizeof(args), "{\"key\": \"%s\"}", key);
    return probe_run(root, "sysctl", args);
}

static const char *first_error(const json_t *r)
{
    return json_string_value(
        json_object_get(json_array_get(json_object_get(r, "errors"), 0), "message"));
}

static void test_numbers_and_blanks(void **state)
{
    char *root = tmproot_new();
    json_t *r;

    (void)state;
    tmproot_write(root, "/etc/sysctl.d/10-a.conf",
                  "kernel.a = 0x10\nkernel.b =  4096 \t 87380   6291456\nkernel.c = -1\n"
                  "kernel.d = 010\nkernel.e = 1x\nkernel.f =\n",
                  0644);
    r = run(root, "kernel.a");
    assert_int_equal(json_integer_value(fact_value(r, "persisted_number")), 16);
    json_decref(r);
    r = run(root, "kernel/b");
    assert_string_equal(json_string_value(fact_value(r, "persisted")), "4096 87380 6291456");
    assert_true(json_is_null(fact_value(r, "persisted_number")));
    json_decref(r);
    r = run(root, "kernel.c");
    assert_int_equal(json_integer_value(fact_value(r, "persisted_number")), -1);
    json_decref(r);
    r = run(root, "kernel.d");
    assert_int_equal(json_integer_value(fact_value(r, "persisted_number")), 8);
    json_decref(r);
    r = run(root, "kernel.e");
    assert_string_equal(json_string_value(fact_value(r, "persisted")), "1x");
    assert_true(json_is_null(fact_value(r, "persisted_number")));
    json_decref(r);
    /* an empty value is a value (systemd-sysctl writes it) */
    r = run(root, "kernel.f");
    assert_string_equal(json_string_value(fact_value(r, "persisted")), "");
    assert_string_equal(fact_source(r, "persisted"), "/etc/sysctl.d/10-a.conf:6");
    json_decref(r);
    tmproot_free(root);
}

static void test_unusable_files(void **state)
{
    char *root = tmproot_new();
    char *big;
    json_t *r;

    (void)state;
    tmproot_write(root, "/usr/lib/sysctl.d/10-a.conf", "kernel.a = 1\n", 0644);
    /* a directory and a dangling link named *.conf, and a mask to a /dev/null the root lacks */
    tmproot_mkdir(root, "/etc/sysctl.d/20-dir.conf", 0755);
    tmproot_symlink(root, "/etc/sysctl.d/30-gone.conf", "/nowhere/x.conf");
    tmproot_symlink(root, "/etc/sysctl.d/10-a.conf", "/dev/null");
    r = run(root, "kernel.a");
    assert_true(json_is_null(fact_value(r, "persisted")));
    assert_string_equal(fact_source(r, "persisted"), "not set in sysctl.d");
    assert_int_equal(json_array_size(json_object_get(r, "errors")), 1); /* offline runtime */
    json_decref(r);

    /* binary content: an error, never a partial answer */
    tmproot_write_bytes(root, "/etc/sysctl.d/40-bin.conf", "kernel.a = 2\n\0\n", 15, 0644);
    r = run(root, "kernel.a");
    assert_null(fact_value(r, "persisted"));
    assert_string_equal(first_error(r),
                        "read /etc/sysctl.d/40-bin.conf: binary content in a text file");
    json_decref(r);
    tmproot_write(root, "/etc/sysctl.d/40-bin.conf", "", 0644);

    /* a line longer than systemd-sysctl's 1 MiB */
    big = malloc(1100000);
    assert_non_null(big);
    memset(big, 'x', 1099999);
    big[1099999] = '\0';
    tmproot_write(root, "/etc/sysctl.d/50-long.conf", big, 0644);
    free(big);
    r = run(root, "kernel.a");
    assert_null(fact_value(r, "persisted"));
    assert_string_equal(first_error(r), "/etc/sysctl.d/50-long.conf:1: line longer than 1 MiB");
    json_decref(r);
    tmproot_free(root);
}

static void test_keys(void **state)
{
    char *root = tmproot_new();
    json_t *r;

    (void)state;
    tmproot_write(root, "/etc/sysctl.d/10-a.conf",
                  "net.ipv4.conf.eth0/100.rp_filter = 2\n/net//ipv4/./ip_forward = 1\n", 0644);
    /* dotted interface names: the first separator decides */
    r = run(root, "net/ipv4/conf/eth0.100/rp_filter");
    assert_int_equal(json_integer_value(fact_value(r, "persisted_number")), 2);
    json_decref(r);
    r = run(root, "net.ipv4.ip_forward");
    assert_int_equal(json_integer_value(fact_value(r, "persisted_number")), 1);
    json_decref(r);
    for (const char *const *bad = (const char *const[]){"net/../x", "kernel.*", "", "..", NULL};
         *bad != NULL; bad++) {
        r = run(root, *bad);
        assert_null(fact_value(r, "persisted"));
        assert_non_null(strstr(first_error(r), "is not a sysctl key"));
        json_decref(r);
    }
    tmproot_free(root);
}

/* The running system: the probe's value is the file under /proc/sys, blanks collapsed. */
static void test_live(void **state)
{
    static const char *const keys[] = {"kernel.ostype", "kernel/osrelease", "net.ipv4.tcp_rmem",
                                       "kernel.randomize_va_space"};
    (void)state;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        char path[256], want[256] = "";
        char *w = want;
        FILE *f;
        int c, blank = 0;
        json_t *r = run(NULL, keys[i]);
        snprintf(path, sizeof(path), "/proc/sys/%s", keys[i]);
        for (char *p = path + 10; *p != '\0'; p++) {
            *p = *p == '.' ? '/' : *p;
        }
        f = fopen(path, "r");
        if (f == NULL) {
            assert_true(json_is_false(fact_value(r, "available")));
            json_decref(r);
            continue;
        }
        while ((c = fgetc(f)) != EOF && w < want + sizeof(want) - 1) {
            if (c == ' ' || c == '\t' || c == '\n') {
                blank = w != want;
                continue;
            }
            if (blank) {
                *w++ = ' ';
            }
            blank = 0;
            *w++ = (char)c;
        }
        fclose(f);
        assert_true(json_is_true(fact_value(r, "available")));
        assert_string_equal(json_string_value(fact_value(r, "runtime")), want);
        assert_string_equal(fact_source(r, "runtime"), path);
        json_decref(r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numbers_and_blanks),
        cmocka_unit_test(test_unusable_files),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_live),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
