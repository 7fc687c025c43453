/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the mac and bootloader probes on offline roots: AppArmor profiles by mode,
 * disabled and force-complain links, SELinux's configured mode, GRUB's password and the
 * kernel command line from /etc/default/grub and grub.cfg.
 */
#include "helpers.h"

#include <string.h>

static void test_apparmor_offline(void **state)
{
    char *root = tmproot_new();
    json_t *r;

    (void)state;
    tmproot_write(root, "/etc/apparmor.d/usr.sbin.a", "profile a /usr/sbin/a {\n}\n", 0644);
    tmproot_write(root, "/etc/apparmor.d/usr.sbin.b",
                  "/usr/sbin/b flags=(attach_disconnected,complain) {\n}\n", 0644);
    tmproot_write(root, "/etc/apparmor.d/usr.sbin.c", "profile c /usr/sbin/c {\n}\n", 0644);
    tmproot_write(root, "/etc/apparmor.d/usr.sbin.d", "profile d /usr/sbin/d {\n}\n", 0644);
    tmproot_write(root, "/etc/apparmor.d/usr.sbin.e.dpkg-old", "profile e {\n}\n", 0644);
    tmproot_write(root, "/etc/apparmor.d/tunables/global", "@{HOME}=/home/\n", 0644);
    tmproot_symlink(root, "/etc/apparmor.d/disable/usr.sbin.c", "/etc/apparmor.d/usr.sbin.c");
    tmproot_symlink(root, "/etc/apparmor.d/force-complain/usr.sbin.d",
                    "/etc/apparmor.d/usr.sbin.d");
    tmproot_write(root, "/etc/selinux/config", "SELINUX=permissive\nSELINUXTYPE=default\n", 0644);
    r = probe_run(root, "mac", "{}");
    expect_json(fact_value(r, "apparmor_profiles"), "3");
    expect_json(fact_value(r, "apparmor_enforce"), "1");
    expect_json(fact_value(r, "apparmor_complain"), "2");
    expect_json(fact_value(r, "apparmor_not_enforced"),
                "[\"usr.sbin.b (complain)\", \"usr.sbin.d (complain)\"]");
    expect_json(fact_value(r, "apparmor_enabled"), "true");
    assert_string_equal(fact_source(r, "apparmor_enabled"),
                        "no boot parameter disables it (offline root)");
    expect_json(fact_value(r, "selinux_mode"), "\"permissive\"");
    assert_string_equal(fact_source(r, "selinux_mode"), "/etc/selinux/config:1");
    json_decref(r);
    /* another security module chosen at boot turns AppArmor off */
    tmproot_write(root, "/etc/default/grub", "GRUB_CMDLINE_LINUX=\"quiet security=selinux\"\n",
                  0644);
    r = probe_run(root, "mac", "{}");
    expect_json(fact_value(r, "apparmor_enabled"), "false");
    json_decref(r);
    tmproot_free(root);
}

static void test_bootloader(void **state)
{
    char *root = tmproot_new();
    json_t *r;

    (void)state;
    r = probe_run(root, "bootloader", "{}");
    expect_json(fact_value(r, "grub_cfg_exists"), "false");
    expect_json(fact_value(r, "superusers"), "false");
    expect_json(fact_value(r, "default_kernel_params"), "null");
    expect_json(fact_value(r, "grub_cfg_kernel_params"), "null");
    json_decref(r);

    tmproot_write(root, "/etc/default/grub",
                  "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n"
                  "GRUB_CMDLINE_LINUX='apparmor=1'\n"
                  "GRUB_CMDLINE_LINUX=\"${GRUB_CMDLINE_LINUX} security=apparmor\"\n",
                  0644);
    tmproot_write(root, "/etc/default/grub.d/50-audit.cfg",
                  "GRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX audit=1 audit_backlog_limit=8192\"\n",
                  0644);
    tmproot_write(root, "/etc/default/grub.d/60-ignored.conf", "GRUB_CMDLINE_LINUX=\"\"\n", 0644);
    /* no grub.cfg: the password comes from the scripts that would generate it */
    tmproot_write(root, "/etc/grub.d/40_custom",
                  "#!/bin/sh\nexec tail -n +3 $0\nset superusers=\"root\"\npassword_pbkdf2 root "
                  "grub.pbkdf2.sha512.10000.AA.BB\n",
                  0755);
    r = probe_run(root, "bootloader", "{}");
    expect_json(fact_value(r, "default_kernel_params"),
                "[\"apparmor=1\", \"security=apparmor\", \"audit=1\", "
                "\"audit_backlog_limit=8192\", \"quiet\"]");
    assert_string_equal(fact_source(r, "default_kernel_params"),
                        "/etc/default/grub.d/50-audit.cfg:1");
    expect_json(fact_value(r, "audit_backlog_limit"), "8192");
    expect_json(fact_value(r, "superusers"), "true");
    expect_json(fact_value(r, "password_pbkdf2"), "true");
    assert_string_equal(fact_source(r, "superusers"), "/etc/grub.d/40_custom:3");
    json_decref(r);

    /* grub.cfg: the parameters every linux line has; a plain password */
    tmproot_write(root, "/boot/grub/grub.cfg",
                  "password root hunter2\n"
                  "menuentry 'a' {\n\tlinux /vmlinuz root=/dev/sda1 ro apparmor=1 quiet\n}\n"
                  "menuentry 'b' {\n\tlinux\t/vmlinuz root=/dev/sda1 ro single apparmor=1\n}\n",
                  0600);
    r = probe_run(root, "bootloader", "{}");
    expect_json(fact_value(r, "grub_cfg_exists"), "true");
    expect_json(fact_value(r, "grub_cfg_kernel_params"),
                "[\"root=/dev/sda1\", \"ro\", \"apparmor=1\"]");
    expect_json(fact_value(r, "superusers"), "false");
    expect_json(fact_value(r, "password_plain"), "true");
    json_decref(r);
    tmproot_free(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_apparmor_offline),
        cmocka_unit_test(test_bootloader),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
