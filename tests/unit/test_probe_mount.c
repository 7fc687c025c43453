/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the mount probe on fixture roots: fstab fields and escapes, what cannot be read,
 * mount units; on this host, the probe against /proc/self/mountinfo's last entry for "/".
 * tests/integration/mount.sh compares every mount point of this host with findmnt.
 */
#include "helpers.h"

#include <stdio.h>
#include <string.h>

static json_t *run(const char *root, const char *path)
{
    char args[1024];

    snprintf(args, sizeof(args), "{\"path\": \"%.512s\"}", path);
    return probe_run(root, "mount", args);
}

static void test_fstab(void **state)
{
    char *root = tmproot_new();
    json_t *r;

    (void)state;
    tmproot_write(root, "/etc/fstab",
                  "#/tmp tmpfs tmpfs nodev 0 0\n"
                  "   \n"
                  "UUID=1 /srv/a\\040b ext4 rw,nosuid,suid,nodev\n" /* no dump and pass fields */
                  "UUID=2 /short\n",
                  0644);
    r = run(root, "/srv/a b/");
    assert_true(json_is_true(fact_value(r, "mounted")));
    assert_true(json_is_false(fact_value(r, "nosuid")));
    assert_true(json_is_true(fact_value(r, "nodev")));
    assert_string_equal(fact_source(r, "mounted"), "/etc/fstab:3");
    assert_int_equal(json_array_size(fact_value(r, "options")), 4);
    json_decref(r);
    r = run(root, "/short");
    assert_true(json_is_false(fact_value(r, "mounted")));
    json_decref(r);
    r = run(root, "/tmp");
    assert_true(json_is_false(fact_value(r, "mounted")));
    assert_true(json_is_null(fact_value(r, "noexec")));
    json_decref(r);
    tmproot_write_bytes(root, "/etc/fstab", "UUID=1 /tmp ext4 nodev\0", 23, 0644);
    r = run(root, "/tmp");
    assert_null(fact_value(r, "mounted"));
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(r, "errors"), 0), "message")),
                        "read /etc/fstab: binary content in a text file");
    json_decref(r);
    tmproot_free(root);
}

static void test_mount_units(void **state)
{
    char *root = tmproot_new();
    json_t *r;

    (void)state;
    tmproot_write(
        root, "/etc/systemd/system/var-tmp.mount",
        "[Unit]\nOptions=ignored\n[Mount]\nWhat=/dev/vdb\nType=xfs\nOptions=nodev,noexec\n", 0644);
    r = run(root, "/var/tmp");
    assert_true(json_is_true(fact_value(r, "mounted")));
    assert_string_equal(json_string_value(fact_value(r, "fstype")), "xfs");
    assert_true(json_is_true(fact_value(r, "noexec")));
    assert_true(json_is_false(fact_value(r, "nosuid")));
    json_decref(r);
    tmproot_write(root, "/etc/systemd/system/home.mount", "", 0644); /* empty: masked */
    tmproot_write(root, "/etc/fstab", "UUID=1 /home ext4 nodev 0 2\n", 0644);
    r = run(root, "/home");
    assert_true(json_is_false(fact_value(r, "mounted")));
    json_decref(r);
    tmproot_free(root);
}

static void test_live_root(void **state)
{
    FILE *f = fopen("/proc/self/mountinfo", "r");
    char line[4096], fstype[256] = "";
    json_t *r;

    (void)state;
    if (f == NULL) {
        skip();
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        char mnt[1024], rest[4096];
        if (sscanf(line, "%*s %*s %*s %*s %1023s %*s", mnt) == 1 && strcmp(mnt, "/") == 0) {
            char *dash = strstr(line, " - ");
            if (dash != NULL && sscanf(dash + 3, "%255s %4095s", fstype, rest) == 2) {
                continue; /* the last entry for / wins */
            }
        }
    }
    fclose(f);
    r = run(NULL, "/");
    assert_true(json_is_true(fact_value(r, "mounted")));
    assert_string_equal(json_string_value(fact_value(r, "fstype")), fstype);
    json_decref(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fstab),
        cmocka_unit_test(test_mount_units),
        cmocka_unit_test(test_live_root),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
