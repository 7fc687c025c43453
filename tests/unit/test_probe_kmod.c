/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the kmod probe on fixture roots: blocking install commands, dashes and
 * underscores, files that cannot be used, bad lines; loaded modules against /proc/modules.
 * tests/integration/kmod.sh compares the configuration with modprobe --showconfig.
 */
#include "helpers.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *run(const char *root, const char *name)
{
    char args[1024];

    snprintf(args, sizeof(args), "{\"name\": \"%.512s\"}", name);
    return probe_run(root, "kmod", args);
}

static void expect(const char *root, const char *name, bool loadable, const char *install,
                   bool blacklisted)
{
    json_t *r = run(root, name);

    assert_int_equal(json_is_true(fact_value(r, "loadable")), loadable);
    if (install == NULL) {
        assert_true(json_is_null(fact_value(r, "install")));
    } else {
        assert_string_equal(json_string_value(fact_value(r, "install")), install);
    }
    assert_int_equal(json_is_true(fact_value(r, "blacklisted")), blacklisted);
    assert_true(json_is_false(fact_value(r, "loaded"))); /* offline: nothing runs */
    json_decref(r);
}

static void test_install_and_blacklist(void **state)
{
    char *root = tmproot_new();

    (void)state;
    tmproot_write(root, "/etc/modprobe.d/a.conf",
                  "install usb_storage /usr/bin/false --quiet\nblacklist usb-storage\n"
                  "install cramfs   /bin/true  \ninstall hfs /sbin/modprobe --ignore-install hfs\n"
                  "install udf /bin/falsetto\ninstall [bad /bin/false\ninstall jffs2 \\",
                  0644);
    expect(root, "usb-storage", false, "/usr/bin/false --quiet", true);
    expect(root, "cramfs", false, "/bin/true", false);
    expect(root, "hfs", true, "/sbin/modprobe --ignore-install hfs", false);
    expect(root, "udf", true, "/bin/falsetto", false);
    /* a continuation at the end of the file: nothing follows, the line stays as it is */
    expect(root, "jffs2", true, "\\", false);
    expect(root, "dccp", true, NULL, false);
    tmproot_free(root);
}

static void test_unusable_files(void **state)
{
    char *root = tmproot_new();
    json_t *r;

    (void)state;
    tmproot_write(root, "/lib/modprobe.d/a.conf", "install cramfs /bin/false\n", 0644);
    tmproot_symlink(root, "/etc/modprobe.d/a.conf", "/dev/null"); /* masks, no /dev in root */
    tmproot_symlink(root, "/etc/modprobe.d/b.conf", "/gone");
    tmproot_mkdir(root, "/etc/modprobe.d/c.conf", 0755);
    expect(root, "cramfs", true, NULL, false);
    tmproot_write_bytes(root, "/run/modprobe.d/d.conf", "blacklist x\0", 12, 0644);
    r = run(root, "cramfs");
    assert_null(fact_value(r, "loadable"));
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(r, "errors"), 0), "message")),
                        "read /run/modprobe.d/d.conf: binary content in a text file");
    json_decref(r);
    tmproot_free(root);
}

/* A module built into any installed kernel is there whatever modprobe.d says. */
static void test_builtin(void **state)
{
    char *root = tmproot_new();
    json_t *r;

    (void)state;
    tmproot_write(root, "/etc/modprobe.d/cis.conf",
                  "install squashfs /bin/false\ninstall udf /bin/false\nblacklist udf\n", 0644);
    tmproot_write(root, "/lib/modules/6.1.0-9-amd64/modules.builtin",
                  "kernel/fs/ext4/ext4.ko\nkernel/fs/squashfs/squashfs.ko\nREADME\n.ko\n", 0644);
    tmproot_write(root, "/lib/modules/6.1.0-10-amd64/modules.builtin",
                  "kernel/drivers/usb/storage/usb-storage.ko\n", 0644);
    r = run(root, "squashfs");
    assert_true(json_is_true(fact_value(r, "builtin")));
    assert_true(json_is_true(fact_value(r, "loadable")));
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(r, "facts"), "loadable"), "source")),
                        "/lib/modules/6.1.0-9-amd64/modules.builtin:2");
    json_decref(r);
    r = run(root, "usb_storage"); /* dashes in the file name, underscores asked */
    assert_true(json_is_true(fact_value(r, "builtin")));
    json_decref(r);
    r = run(root, "udf");
    assert_true(json_is_false(fact_value(r, "builtin")));
    assert_true(json_is_false(fact_value(r, "loadable")));
    json_decref(r);
    r = run(root, "README");
    assert_true(json_is_false(fact_value(r, "builtin")));
    json_decref(r);
    tmproot_free(root);
}

/* The running system: loaded is what /proc/modules lists. */
static void test_live(void **state)
{
    FILE *f = fopen("/proc/modules", "r");
    char line[512];
    int checked = 0;

    (void)state;
    if (f == NULL) {
        skip();
    }
    while (checked < 3 && fgets(line, sizeof(line), f) != NULL) {
        line[strcspn(line, " ")] = '\0';
        json_t *r = run(NULL, line);
        assert_true(json_is_true(fact_value(r, "loaded")));
        json_decref(r);
        checked++;
    }
    fclose(f);
    json_t *r = run(NULL, "no_such_module_here");
    assert_true(json_is_false(fact_value(r, "loaded")));
    json_decref(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_install_and_blacklist),
        cmocka_unit_test(test_unusable_files),
        cmocka_unit_test(test_builtin),
        cmocka_unit_test(test_live),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
