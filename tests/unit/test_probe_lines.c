/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of the lines probe: matches with line numbers, comments, case, bounds, errors. */
#include "helpers.h"

#include <stdio.h>
#include <string.h>

static void test_matches(void **state)
{
    char *root = tmproot_new();
    json_t *r;
    const json_t *m;

    (void)state;
    tmproot_write(root, "/etc/sudoers",
                  "# Defaults use_pty\nDefaults env_reset\n  Defaults\tuse_pty\r\n"
                  "defaults USE_PTY\n",
                  0440);
    r = probe_run(root, "lines",
                  "{\"path\": \"/etc/sudoers\", \"regex\": \"Defaults[[:space:]]+use_pty\"}");
    assert_true(json_is_true(fact_value(r, "exists")));
    assert_true(json_is_true(fact_value(r, "matched")));
    assert_int_equal(json_integer_value(fact_value(r, "count")), 1);
    m = fact_value(r, "matches");
    assert_int_equal(json_array_size(m), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(m, 0), "line")), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(m, 0), "text")),
                        "  Defaults\tuse_pty");
    assert_string_equal(fact_source(r, "count"), "/etc/sudoers:3");
    json_decref(r);

    r = probe_run(root, "lines",
                  "{\"path\": \"/etc/sudoers\", \"regex\": \"Defaults[[:space:]]+use_pty\", "
                  "\"skip_comments\": false, \"ignore_case\": true}");
    assert_int_equal(json_integer_value(fact_value(r, "count")), 3);
    json_decref(r);
    tmproot_free(root);
}

static void test_bounds_and_absence(void **state)
{
    char *root = tmproot_new();
    char big[4096];
    json_t *r;
    FILE *f;

    (void)state;
    /* 50 matching lines: 20 kept as evidence, all 50 counted */
    size_t n = 0;
    for (int i = 0; i < 50; i++) {
        n += (size_t)snprintf(big + n, sizeof(big) - n, "x%d\n", i);
    }
    tmproot_write(root, "/many", big, 0644);
    r = probe_run(root, "lines", "{\"path\": \"/many\", \"regex\": \"^x\"}");
    assert_int_equal(json_integer_value(fact_value(r, "count")), 50);
    assert_int_equal(json_array_size(fact_value(r, "matches")), 20);
    json_decref(r);

    r = probe_run(root, "lines", "{\"path\": \"/none\", \"regex\": \"x\"}");
    assert_true(json_is_false(fact_value(r, "exists")));
    assert_int_equal(json_integer_value(fact_value(r, "count")), 0);
    json_decref(r);

    /* a file over the 4 MiB bound is an error, never a silent partial read */
    char path[600];
    snprintf(path, sizeof(path), "%s/huge", root);
    f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fseek(f, 5 * 1024 * 1024, SEEK_SET), 0);
    fputc('x', f);
    fclose(f);
    r = probe_run(root, "lines", "{\"path\": \"/huge\", \"regex\": \"x\"}");
    assert_null(fact_value(r, "count"));
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(r, "errors"), 0), "message")),
                        "read /huge: file is larger than the bound");
    json_decref(r);
    tmproot_free(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches),
        cmocka_unit_test(test_bounds_and_absence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
