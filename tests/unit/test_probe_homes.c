/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of the homes probe: interactive users only, owners, modes, forbidden and open dot files. */
#include "helpers.h"

#include <string.h>

static void test_homes(void **state)
{
    char *root = tmproot_new();
    json_t *r;

    (void)state;
    tmproot_write(root, "/etc/shells", "# comment\n/bin/sh\n/bin/bash\n/usr/sbin/nologin\n", 0644);
    tmproot_write(root, "/etc/passwd",
                  "root:x:0:0::/root:/bin/bash\n"
                  "daemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n"
                  "alice:x:1000:1000::/home/alice:/bin/bash\n"
                  "bob:x:1001:1001::/home/bob:/bin/sh\n"
                  "carol:x:1002:1002::/home/carol:/bin/sh\n"
                  "svc:x:999:999::/srv/svc:/bin/false\n",
                  0644);
    tmproot_mkdir(root, "/root", 0700);
    tmproot_mkdir(root, "/home/alice", 02750); /* setgid: not a permission for others */
    tmproot_chown(root, "/home/alice", 1000, 1000);
    tmproot_write(root, "/home/alice/.bashrc", "", 0664); /* group-writable */
    tmproot_chown(root, "/home/alice/.bashrc", 1000, 1000);
    tmproot_mkdir(root, "/home/bob", 0755);
    tmproot_chown(root, "/home/bob", 1000, 1001);
    tmproot_write(root, "/home/bob/.netrc", "machine x login y password z\n", 0600);
    tmproot_write(root, "/home/bob/.profile", "", 0666);
    tmproot_symlink(root, "/home/bob/.rhosts-link", "/etc/passwd");
    r = probe_run(root, "homes", "{\"include_root\": false}");
    assert_int_equal(json_integer_value(fact_value(r, "users")), 3);
    assert_int_equal(json_integer_value(fact_value(r, "missing_count")), 1);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(fact_value(r, "missing"), 0), "user")),
        "carol");
    assert_int_equal(json_integer_value(fact_value(r, "bad_owner_count")), 1);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(fact_value(r, "bad_owner"), 0), "owner")),
        "alice");
    assert_int_equal(json_integer_value(fact_value(r, "bad_mode_count")), 1);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(fact_value(r, "bad_mode"), 0), "mode")),
        "0755");
    assert_int_equal(json_integer_value(fact_value(r, "forbidden_files_count")), 1);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(fact_value(r, "forbidden_files"), 0), "path")),
                        "/home/bob/.netrc");
    assert_int_equal(json_integer_value(fact_value(r, "writable_dotfiles_count")), 2);
    json_decref(r);
    r = probe_run(root, "homes", "{\"max_mode\": \"0700\"}");
    assert_int_equal(json_integer_value(fact_value(r, "users")), 4);
    assert_int_equal(json_integer_value(fact_value(r, "bad_mode_count")), 2);
    json_decref(r);
    tmproot_free(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_homes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
