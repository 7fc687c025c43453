/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the systemd probe on fixture roots: unit names, masks in a root without /dev,
 * link loops, unreadable unit files. tests/integration/systemd.sh compares every state with
 * systemctl --root is-enabled.
 */
#include "helpers.h"

#include <stdio.h>
#include <string.h>

static json_t *run(const char *root, const char *unit)
{
    char args[1024];

    snprintf(args, sizeof(args), "{\"unit\": \"%.512s\"}", unit);
    return probe_run(root, "systemd", args);
}

static const char *first_error(const json_t *r)
{
    return json_string_value(
        json_object_get(json_array_get(json_object_get(r, "errors"), 0), "message"));
}

static void test_names(void **state)
{
    static const char *const bad[] = {"cron",       "../x.service", "a@b@c.service", "@x.service",
                                      "x.servicex", "x y.service",  ".service"};
    static const char *const good[] = {"cron.service", "getty@tty1.service", "getty@.service",
                                       "dev-shm.mount", "a:b_c.socket"};
    char *root = tmproot_new();

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *r = run(root, bad[i]);
        assert_null(fact_value(r, "state"));
        assert_non_null(strstr(first_error(r), "is not a unit name"));
        json_decref(r);
    }
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        json_t *r = run(root, good[i]);
        assert_string_equal(json_string_value(fact_value(r, "state")), "absent");
        assert_true(json_is_false(fact_value(r, "enabled")));
        json_decref(r);
    }
    tmproot_free(root);
}

static void test_links(void **state)
{
    char *root = tmproot_new();
    json_t *r;

    (void)state;
    tmproot_write(root, "/usr/lib/systemd/system/x.service",
                  "[Unit]\nDescription=x\n[Install]\nWantedBy=multi-user.target\n", 0644);
    /* a mask the root cannot resolve (it has no /dev) is a mask all the same */
    tmproot_symlink(root, "/etc/systemd/system/x.service", "/dev/null");
    r = run(root, "x.service");
    assert_string_equal(json_string_value(fact_value(r, "state")), "masked");
    assert_string_equal(json_string_value(fact_value(r, "path")), "/etc/systemd/system/x.service");
    assert_string_equal(first_error(r), "active: not available for an offline root");
    json_decref(r);
    /* a loop of aliases is an error, not an answer */
    tmproot_symlink(root, "/etc/systemd/system/a.service", "b.service");
    tmproot_symlink(root, "/etc/systemd/system/b.service", "a.service");
    r = run(root, "a.service");
    assert_null(fact_value(r, "state"));
    assert_string_equal(first_error(r),
                        "a.service: too many levels of symbolic links, or a link to nothing");
    json_decref(r);
    /* a unit file that is a directory cannot be used */
    tmproot_mkdir(root, "/etc/systemd/system/d.service", 0755);
    r = run(root, "d.service");
    assert_null(fact_value(r, "state"));
    json_decref(r);
    /* an enabled unit through a link with a relative target */
    tmproot_symlink(root, "/etc/systemd/system/multi-user.target.wants/y.service",
                    "../../../../usr/lib/systemd/system/y.service");
    tmproot_write(root, "/usr/lib/systemd/system/y.service",
                  "[Install]\nWantedBy=multi-user.target\nAlias=yy.service\n", 0644);
    r = run(root, "y.service");
    assert_string_equal(json_string_value(fact_value(r, "state")), "enabled");
    assert_true(json_is_true(fact_value(r, "enabled")));
    json_decref(r);
    tmproot_free(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_links),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
