/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the pam probe: @include, include and substack; module options from their
 * configuration files (pwquality.conf.d before pwquality.conf) overridden by arguments;
 * pam_unix's hash and nullok; pam_wheel; include loops and unreadable stacks.
 */
#include "helpers.h"

#include <string.h>

static void test_password_stack(void **state)
{
    char *root = tmproot_new();
    json_t *r;

    (void)state;
    tmproot_write(root, "/etc/pam.d/passwd", "@include common-password\n", 0644);
    tmproot_write(root, "/etc/pam.d/common-password",
                  "# comment\n"
                  "password requisite pam_pwquality.so retry=3 minlen=16 \\\n"
                  "    enforce_for_root\n"
                  "password substack pwhistory-stack\n"
                  "password [success=1 default=ignore] /lib/x86_64-linux-gnu/security/pam_unix.so "
                  "obscure sha512 remember=5\n"
                  "-password optional pam_gnome_keyring.so\n"
                  "auth include common-auth\n", /* another type: not followed here */
                  0644);
    tmproot_write(root, "/etc/pam.d/pwhistory-stack",
                  "password required pam_pwhistory.so use_authtok remember=12\n"
                  "auth required pam_faillock.so deny=1\n", /* wrong type for the substack */
                  0644);
    tmproot_write(root, "/etc/pam.d/common-auth", "auth required pam_faillock.so preauth\n", 0644);
    tmproot_write(root, "/etc/security/pwquality.conf",
                  "minlen = 12\n   maxrepeat=3\ndcredit = -1 # digits\nenforcing=0\n", 0644);
    tmproot_write(root, "/etc/security/pwquality.conf.d/10-a.conf", "maxrepeat = 2\ndifok = 5\n",
                  0644);
    tmproot_write(root, "/etc/security/pwquality.conf.d/20-b.txt", "difok = 9\n", 0644);
    tmproot_write(root, "/etc/security/pwhistory.conf", "remember = 24\nenforce_for_root\n", 0644);
    r = probe_run(root, "pam", "{\"service\": \"passwd\"}");
    assert_string_equal(probe_errors(r), "");
    expect_json(fact_value(r, "modules"),
                "[\"password pam_pwquality.so\", \"password pam_pwhistory.so\", \"password "
                "pam_unix.so\", \"password pam_gnome_keyring.so\", \"auth pam_faillock.so\"]");
    expect_json(fact_value(r, "pwquality"), "true");
    /* the argument beats the file, the file beats the directory, the directory the default */
    expect_json(fact_value(r, "minlen"), "16");
    assert_string_equal(fact_source(r, "minlen"), "/etc/pam.d/common-password:2");
    expect_json(fact_value(r, "maxrepeat"), "3");
    assert_string_equal(fact_source(r, "maxrepeat"), "/etc/security/pwquality.conf:2");
    expect_json(fact_value(r, "difok"), "5");
    assert_string_equal(fact_source(r, "difok"), "/etc/security/pwquality.conf.d/10-a.conf:2");
    expect_json(fact_value(r, "dcredit"), "-1");
    expect_json(fact_value(r, "dictcheck"), "1");
    expect_json(fact_value(r, "enforcing"), "0");
    assert_string_equal(fact_source(r, "enforcing"), "/etc/security/pwquality.conf:4");
    assert_string_equal(fact_source(r, "dictcheck"), "default");
    expect_json(fact_value(r, "pwquality_enforce_for_root"), "true");
    expect_json(fact_value(r, "unix_hash"), "\"sha512\"");
    expect_json(fact_value(r, "unix_remember"), "5");
    expect_json(fact_value(r, "unix_nullok"), "false");
    /* pwhistory.conf says 24, the argument 12: the argument wins */
    expect_json(fact_value(r, "pwhistory_remember"), "12");
    expect_json(fact_value(r, "pwhistory_enforce_for_root"), "true");
    /* faillock in the included common-auth; deny from the substack's auth line is not seen */
    expect_json(fact_value(r, "faillock"), "true");
    expect_json(fact_value(r, "deny"), "3");
    expect_json(fact_value(r, "unlock_time"), "600");
    expect_json(fact_value(r, "root_unlock_time"), "600");
    json_decref(r);
    tmproot_free(root);
}

static void test_auth_stack(void **state)
{
    char *root = tmproot_new();
    json_t *r;

    (void)state;
    tmproot_write(root, "/etc/pam.d/common-auth",
                  "auth required pam_faillock.so preauth conf=/etc/security/site-faillock.conf "
                  "unlock_time=0\n"
                  "auth [success=1 default=ignore] pam_unix.so nullok\n"
                  "auth [default=die] pam_faillock.so authfail deny=9\n",
                  0644);
    tmproot_write(root, "/etc/security/faillock.conf", "deny = 1\n", 0644);
    tmproot_write(root, "/etc/security/site-faillock.conf",
                  "deny = 4\neven_deny_root\nroot_unlock_time = 60\n", 0644);
    tmproot_write(root, "/etc/pam.d/su",
                  "auth sufficient pam_rootok.so\n"
                  "auth required pam_wheel.so use_uid group=sugroup\n"
                  "@include common-auth\n",
                  0644);
    tmproot_write(root, "/etc/pam.d/su-open",
                  "# auth required pam_wheel.so use_uid\n"
                  "auth optional pam_wheel.so use_uid\n",
                  0644);
    tmproot_write(root, "/etc/group", "root:x:0:\nsugroup:x:1005:alice,bob\n", 0644);
    tmproot_write(root, "/etc/login.defs", "ENCRYPT_METHOD SHA512\nENCRYPT_METHOD YESCRYPT\n",
                  0644);
    tmproot_write(root, "/etc/pam.d/common-password", "password required pam_unix.so\n", 0644);
    r = probe_run(root, "pam", "{\"service\": \"su\"}");
    expect_json(fact_value(r, "faillock"), "true");
    expect_json(fact_value(r, "deny"), "4");
    assert_string_equal(fact_source(r, "deny"), "/etc/security/site-faillock.conf:1");
    expect_json(fact_value(r, "unlock_time"), "0");
    expect_json(fact_value(r, "even_deny_root"), "true");
    expect_json(fact_value(r, "root_unlock_time"), "60");
    expect_json(fact_value(r, "unix_nullok"), "true");
    expect_json(fact_value(r, "unix_hash"), "null"); /* no password stack */
    expect_json(fact_value(r, "wheel"), "true");
    expect_json(fact_value(r, "wheel_group"), "\"sugroup\"");
    expect_json(fact_value(r, "wheel_group_members"), "[\"alice\", \"bob\"]");
    json_decref(r);
    r = probe_run(root, "pam", "{\"service\": \"su-open\"}");
    expect_json(fact_value(r, "wheel"), "false"); /* optional does not restrict */
    json_decref(r);
    /* without group=, pam_wheel takes "wheel" if it exists, else the gid 0 group */
    tmproot_write(root, "/etc/pam.d/su-default", "auth required pam_wheel.so use_uid\n", 0644);
    r = probe_run(root, "pam", "{\"service\": \"su-default\"}");
    expect_json(fact_value(r, "wheel_group"), "\"root\"");
    expect_json(fact_value(r, "wheel_group_members"), "[]");
    json_decref(r);
    tmproot_write(root, "/etc/group", "root:x:0:\nwheel:x:10:carol\n", 0644);
    r = probe_run(root, "pam", "{\"service\": \"su-default\"}");
    expect_json(fact_value(r, "wheel_group"), "\"wheel\"");
    expect_json(fact_value(r, "wheel_group_members"), "[\"carol\"]");
    json_decref(r);
    /* pam_unix without a hash option takes ENCRYPT_METHOD of login.defs (last wins) */
    r = probe_run(root, "pam", "{}");
    expect_json(fact_value(r, "unix_hash"), "\"yescrypt\"");
    assert_string_equal(fact_source(r, "unix_hash"), "/etc/login.defs:2");
    expect_json(fact_value(r, "pwquality"), "false");
    expect_json(fact_value(r, "minlen"), "null");
    json_decref(r);
    r = probe_run(root, "pam", "{\"service\": \"no-such-service\"}");
    expect_json(fact_value(r, "exists"), "false");
    assert_null(fact_value(r, "modules"));
    json_decref(r);
    tmproot_free(root);
}

static void test_bad_stacks(void **state)
{
    char *root = tmproot_new();
    json_t *r;
    char deep[64];

    (void)state;
    /* a loop through include and @include */
    tmproot_write(root, "/etc/pam.d/a", "auth include b\n", 0644);
    tmproot_write(root, "/etc/pam.d/b", "@include a\n", 0644);
    r = probe_run(root, "pam", "{\"service\": \"a\"}");
    assert_null(fact_value(r, "modules"));
    assert_non_null(strstr(probe_errors(r), "/etc/pam.d/a: include loop"));
    json_decref(r);
    /* a chain deeper than Linux-PAM allows */
    for (int i = 0; i < 20; i++) {
        char path[64], text[64];
        snprintf(path, sizeof(path), "/etc/pam.d/d%d", i);
        snprintf(text, sizeof(text), "@include d%d\n", i + 1);
        tmproot_write(root, path, text, 0644);
    }
    r = probe_run(root, "pam", "{\"service\": \"d0\"}");
    snprintf(deep, sizeof(deep), "/etc/pam.d/d17: includes nested deeper than 16");
    assert_non_null(strstr(probe_errors(r), deep));
    assert_null(fact_value(r, "pwquality"));
    json_decref(r);
    /* a missing include, a service name that is a path, a garbled line, a directory */
    tmproot_write(root, "/etc/pam.d/c",
                  "password required pam_unix.so\n@include gone\nauth include ../../etc/shadow\n"
                  "nonsense\n",
                  0644);
    r = probe_run(root, "pam", "{\"service\": \"c\"}");
    assert_non_null(strstr(probe_errors(r), "read /etc/pam.d/gone: no such file or directory"));
    assert_non_null(strstr(probe_errors(r), "PAM service name '../../etc/shadow' is not a file"));
    assert_non_null(strstr(probe_errors(r), "/etc/pam.d/c:4: not a PAM rule"));
    assert_null(fact_value(r, "unix_hash"));
    json_decref(r);
    tmproot_mkdir(root, "/etc/pam.d/dir", 0755);
    r = probe_run(root, "pam", "{\"service\": \"dir\"}");
    assert_non_null(strstr(probe_errors(r), "read /etc/pam.d/dir: "));
    assert_null(fact_value(r, "modules"));
    json_decref(r);
    /* an unreadable pwquality.conf leaves pwquality's options out, with the reason */
    tmproot_write(root, "/etc/pam.d/q", "password requisite pam_pwquality.so\n", 0644);
    tmproot_mkdir(root, "/etc/security/pwquality.conf", 0755);
    r = probe_run(root, "pam", "{\"service\": \"q\"}");
    expect_json(fact_value(r, "pwquality"), "true");
    assert_null(fact_value(r, "minlen"));
    assert_non_null(strstr(probe_errors(r), "read /etc/security/pwquality.conf: "));
    json_decref(r);
    tmproot_free(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_password_stack),
        cmocka_unit_test(test_auth_stack),
        cmocka_unit_test(test_bad_stacks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
