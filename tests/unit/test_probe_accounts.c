/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the accounts probe: uid/gid 0, shadowing, duplicates, system shells, aging per
 * account and by default, umask sources, root's PATH, garbled and oversized input, and that
 * no password hash ever reaches the facts or the errors.
 */
#include "helpers.h"

#include <stdlib.h>
#include <string.h>

static const char *const hash = "$y$j9T$SECRETSALTSECRETSALT$SECRETHASHSECRETHASHSECRETHASH";

static void write_accounts(const char *root)
{
    char shadow[2048];

    tmproot_write(root, "/etc/shells", "/bin/sh\n/bin/bash\n/usr/sbin/nologin\n", 0644);
    tmproot_write(root, "/etc/passwd",
                  "root:x:0:0:root:/root:/bin/bash\n"
                  "daemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n"
                  "sync:x:4:65534:sync:/bin:/bin/sync\n"
                  "games:x:5:60::/usr/games:/bin/sh\n"
                  "nobody:x:65534:65534::/nonexistent:/bin/bash\n"
                  "alice:x:1000:1000::/home/alice:/bin/bash\n"
                  "bob:x:1001:1001::/home/bob:/bin/bash\n"
                  "carol:x:1001:1001::/home/carol:/bin/bash\n"
                  "toor:x:0:0::/root:/bin/bash\n"
                  "+nisuser::::::\n"
                  "broken:x:12\n"
                  "nohash:x:1002:1001::/home/nohash:/bin/bash\n"
                  "bob:x:1003:1001::/home/bob2:/bin/bash\n",
                  0644);
    snprintf(shadow, sizeof(shadow),
             "root:*:19700:1:365:7:45::\n"
             "daemon:*:19700:0:99999:7:::\n"
             "alice:%s:19700:1:365:7:45::\n"
             "bob:%s:99999:0::3:-1::\n"
             "carol::19700:1:365:7:45::\n"
             "toor:!%s:19700:0:99999:7:::\n"
             "games:*:19700:0:99999:7:::\n"
             "nobody:*:19700:0:99999:7:::\n"
             "sync:*:19700:0:99999:7:::\n"
             "garbled:%s:x:0:99999:7:::\n",
             hash, hash, hash, hash);
    tmproot_write(root, "/etc/shadow", shadow, 0640);
    tmproot_write(root, "/etc/group",
                  "root:x:0:\ndaemon:x:1:\nwheel0:x:0:\nshadow:x:42:alice,bob\nnogroup:x:65534:\n"
                  "alice:x:1000:\nstaff:x:1001:\nstaff:x:1002:\n",
                  0644);
}

static void test_accounts(void **state)
{
    char *root = tmproot_new();
    json_t *r;
    char *dump;

    (void)state;
    write_accounts(root);
    tmproot_write(root, "/etc/login.defs",
                  "PASS_MAX_DAYS 99999\nPASS_MIN_DAYS 0\n# PASS_WARN_AGE 1\nPASS_WARN_AGE 7\n"
                  "PASS_MAX_DAYS 365\nENCRYPT_METHOD YESCRYPT\nUID_MIN 0x3e8\nUMASK 027\n",
                  0644);
    tmproot_write(root, "/etc/default/useradd", "# INACTIVE=-1\nINACTIVE=30\n", 0644);
    r = probe_run(root, "accounts", "{}");
    expect_json(fact_value(r, "uid0"), "[\"root\", \"toor\"]");
    assert_string_equal(fact_source(r, "uid0"), "/etc/passwd:9");
    expect_json(fact_value(r, "gid0"), "[\"root\", \"wheel0\"]");
    /* toor's primary group is gid 0 too; sync's is 65534 */
    expect_json(fact_value(r, "gid0_accounts"), "[\"root\", \"toor\"]");
    assert_string_equal(fact_source(r, "gid0_accounts"), "/etc/passwd:9");
    assert_string_equal(fact_source(r, "gid0"), "/etc/group:3");
    expect_json(fact_value(r, "accounts"), "11");
    expect_json(fact_value(r, "malformed"),
                "[{\"file\": \"/etc/passwd\", \"line\": 11, \"problem\": \"not 7 colon-separated "
                "fields\"}, {\"file\": \"/etc/shadow\", \"line\": 10, \"problem\": \"an aging "
                "field is not a number\"}]");
    expect_json(fact_value(r, "empty_password"), "[{\"user\": \"carol\", \"line\": 5}]");
    expect_json(fact_value(r, "no_shadow_entry"), "[{\"user\": \"nohash\"}]");
    /* sync is exempt by name, as in CIS, root too but not toor; nobody (65534) is a system account
     */
    expect_json(fact_value(r, "system_login_shells"),
                "[{\"user\": \"games\", \"uid\": 5, \"shell\": \"/bin/sh\"}, {\"user\": "
                "\"nobody\", \"uid\": 65534, \"shell\": \"/bin/bash\"}, {\"user\": \"toor\", "
                "\"uid\": 0, \"shell\": \"/bin/bash\"}]");
    expect_json(fact_value(r, "duplicate_uids"),
                "[{\"uid\": 0, \"users\": [\"root\", \"toor\"]}, {\"uid\": 1001, \"users\": "
                "[\"bob\", \"carol\"]}]");
    expect_json(fact_value(r, "duplicate_user_names"), "[{\"user\": \"bob\"}]");
    expect_json(fact_value(r, "duplicate_gids"),
                "[{\"gid\": 0, \"groups\": [\"root\", \"wheel0\"]}]");
    expect_json(fact_value(r, "duplicate_group_names"), "[{\"group\": \"staff\"}]");
    expect_json(fact_value(r, "missing_groups"), "[{\"user\": \"games\", \"gid\": 60}]");
    expect_json(fact_value(r, "shadow_group_members"), "[\"alice\", \"bob\"]");
    /* bob: a usable hash, no maximum, minimum 0, warn 3, inactive -1, changed in the future */
    expect_json(fact_value(r, "max_days_exceeded"), "[{\"user\": \"bob\", \"max_days\": null}]");
    expect_json(fact_value(r, "min_days_short"), "[{\"user\": \"bob\", \"min_days\": 0}]");
    expect_json(fact_value(r, "warn_days_short"), "[{\"user\": \"bob\", \"warn_days\": 3}]");
    expect_json(fact_value(r, "inactive_unset"), "[{\"user\": \"bob\", \"inactive\": null}]");
    expect_json(fact_value(r, "last_change_future"), "[{\"user\": \"bob\"}]");
    /* login.defs: the last assignment wins, numbers in C notation */
    expect_json(fact_value(r, "pass_max_days"), "365");
    assert_string_equal(fact_source(r, "pass_max_days"), "/etc/login.defs:5");
    expect_json(fact_value(r, "pass_warn_age"), "7");
    expect_json(fact_value(r, "uid_min"), "1000");
    expect_json(fact_value(r, "encrypt_method"), "\"YESCRYPT\"");
    expect_json(fact_value(r, "inactive_default"), "30");
    assert_string_equal(fact_source(r, "inactive_default"), "/etc/default/useradd:2");
    /* no hash, nor any part of one, is in what the probe returns */
    dump = json_dumps(r, 0);
    assert_null(strstr(dump, "SECRET"));
    free(dump);
    json_decref(r);

    /* a lower threshold: alice's 365 days are too many */
    r = probe_run(root, "accounts", "{\"max_days\": 90}");
    expect_json(fact_value(r, "max_days_exceeded_count"), "2");
    json_decref(r);
    r = probe_run(root, "accounts", "{\"max_findings\": 1}");
    expect_json(fact_value(r, "duplicate_uids_count"), "2");
    assert_int_equal(json_array_size(fact_value(r, "duplicate_uids")), 1);
    json_decref(r);
    tmproot_free(root);
}

/*
 * CIS 5.4.2.8 and 5.4.2.4: accounts whose shell is not valid must be locked as passwd -S
 * reports it, from /etc/shadow or, without an entry there, from /etc/passwd; root's status.
 */
static void test_invalid_shells(void **state)
{
    char *root = tmproot_new();
    char shadow[1024];
    json_t *r;
    char *dump;

    (void)state;
    tmproot_write(root, "/etc/shells", "/bin/sh\n/bin/bash\n/bin/false\n/usr/sbin/nologin\n", 0644);
    tmproot_write(root, "/etc/passwd",
                  "root:x:0:0:root:/root:/bin/bash\n"
                  "daemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n"
                  "svc:x:998:998::/:/bin/false\n"
                  "app:x:997:997::/:/usr/sbin/nologin\n"
                  "blank:x:996:996::/:\n"
                  "nosh:x:995:995::/:/sbin/nologin\n"
                  "ghost:*:994:994::/:/sbin/nologin\n"
                  "sync:x:4:65534:sync:/bin:/bin/sync\n"
                  "alice:x:1000:1000::/home/alice:/bin/bash\n",
                  0644);
    snprintf(shadow, sizeof(shadow),
             "root::19700:1:365:7:45::\n"
             "daemon:*:19700::::::\n"
             "svc:%s:19700::::::\n"
             "app:%s:19700::::::\n"
             "blank::19700::::::\n"
             "sync:!%s:19700::::::\n"
             "alice:%s:19700:1:365:7:45::\n",
             hash, hash, hash, hash);
    tmproot_write(root, "/etc/shadow", shadow, 0640);
    r = probe_run(root, "accounts", "{}");
    /* /bin/false is listed, so valid as CIS counts; nologin is never valid */
    expect_json(fact_value(r, "invalid_shell_unlocked"),
                "[{\"user\": \"app\", \"shell\": \"/usr/sbin/nologin\", \"status\": \"P\"}, "
                "{\"user\": \"blank\", \"shell\": \"\", \"status\": \"NP\"}, "
                "{\"user\": \"nosh\", \"shell\": \"/sbin/nologin\", \"status\": \"P\"}]");
    expect_json(fact_value(r, "invalid_shell_unlocked_count"), "3");
    expect_json(fact_value(r, "root_password_status"), "\"NP\"");
    assert_string_equal(fact_source(r, "root_password_status"), "/etc/shadow:1");
    /* /bin/false is still no login shell for the system-account check */
    expect_json(fact_value(r, "system_login_shells"), "[]");
    dump = json_dumps(r, 0);
    assert_null(strstr(dump, "SECRET"));
    free(dump);
    json_decref(r);
    r = probe_run(root, "accounts", "{\"max_findings\": 1}");
    expect_json(fact_value(r, "invalid_shell_unlocked_count"), "3");
    assert_int_equal(json_array_size(fact_value(r, "invalid_shell_unlocked")), 1);
    json_decref(r);

    /* root without a shadow entry: passwd -S reads the passwd field; no root at all: null */
    tmproot_write(root, "/etc/shadow", "daemon:*:19700::::::\n", 0640);
    r = probe_run(root, "accounts", "{}");
    expect_json(fact_value(r, "root_password_status"), "\"P\"");
    assert_string_equal(fact_source(r, "root_password_status"), "/etc/passwd:1");
    json_decref(r);
    tmproot_write(root, "/etc/passwd", "daemon:x:1:1::/usr/sbin:/usr/sbin/nologin\nshort:x:2:2\n",
                  0644);
    r = probe_run(root, "accounts", "{}");
    expect_json(fact_value(r, "root_password_status"), "null");
    expect_json(fact_value(r, "invalid_shell_unlocked"), "[]");
    assert_non_null(strstr(probe_errors(r), "/etc/passwd:2: not 7 colon-separated fields"));
    json_decref(r);
    tmproot_free(root);
}

static void test_defaults_unset(void **state)
{
    char *root = tmproot_new();
    json_t *r;

    (void)state;
    write_accounts(root);
    r = probe_run(root, "accounts", "{}");
    /* no login.defs, no useradd defaults: shadow's and useradd's built-in values */
    expect_json(fact_value(r, "pass_max_days"), "null");
    assert_string_equal(fact_source(r, "pass_max_days"), "default");
    expect_json(fact_value(r, "uid_min"), "1000");
    expect_json(fact_value(r, "inactive_default"), "-1");
    expect_json(fact_value(r, "umask"), "null");
    json_decref(r);
    tmproot_free(root);
}

static void test_umask(void **state)
{
    char *root = tmproot_new();
    json_t *r;

    (void)state;
    write_accounts(root);
    tmproot_write(root, "/etc/login.defs", "UMASK 022\n", 0644);
    tmproot_write(root, "/etc/pam.d/common-session",
                  "session optional pam_umask.so umask=0027\n# session optional pam_umask.so "
                  "umask=0000\n",
                  0644);
    tmproot_write(root, "/etc/bash.bashrc", "umask 077 # strict\n", 0644);
    tmproot_write(root, "/etc/profile", "if true; then\n    umask u=rwx,g=rx,o=\nfi\n", 0644);
    tmproot_write(root, "/etc/profile.d/a.sh", "umask 0027\n", 0644);
    tmproot_write(root, "/etc/profile.d/b.csh", "umask 000\n", 0644); /* not sourced */
    tmproot_write(root, "/etc/profile.d/c.sh", "  umask 002; echo\numask -S\numask bogus\n", 0644);
    r = probe_run(root, "accounts", "{}");
    expect_json(fact_value(r, "umask"), "\"0002\"");
    assert_string_equal(fact_source(r, "umask"), "/etc/profile.d/c.sh:1");
    expect_json(fact_value(r, "umask_weak"),
                "[{\"source\": \"/etc/login.defs:1\", \"umask\": \"0022\"}, {\"source\": "
                "\"/etc/profile.d/c.sh:1\", \"umask\": \"0002\"}]");
    assert_non_null(strstr(probe_errors(r), "/etc/profile.d/c.sh:3: cannot read umask 'bogus'"));
    json_decref(r);
    /* u=rwx,g=rx,o= is 027, the last of /etc/profile when profile.d has nothing */
    tmproot_write(root, "/etc/profile.d/c.sh", "", 0644);
    tmproot_write(root, "/etc/profile.d/a.sh", "", 0644);
    r = probe_run(root, "accounts", "{}");
    expect_json(fact_value(r, "umask"), "\"0027\"");
    assert_string_equal(fact_source(r, "umask"), "/etc/profile:2");
    json_decref(r);
    tmproot_free(root);
}

static void test_root_path(void **state)
{
    char *root = tmproot_new();
    json_t *r;

    (void)state;
    write_accounts(root);
    tmproot_mkdir(root, "/usr/bin", 0755);
    tmproot_mkdir(root, "/opt/tools", 0775);
    tmproot_mkdir(root, "/home/alice/bin", 0755);
    tmproot_chown(root, "/home/alice/bin", 1000, 1000);
    tmproot_write(root, "/usr/sbin", "not a directory", 0755);
    tmproot_write(root, "/etc/login.defs", "ENV_SUPATH PATH=/usr/bin:/usr/sbin::/missing\n", 0644);
    tmproot_write(root, "/etc/environment", "PATH=\"/usr/bin:.\"\n", 0644);
    tmproot_write(root, "/root/.profile",
                  "export PATH=\"$PATH:/opt/tools\" # tools\nPATH=/home/alice/bin:$PATH; x\n"
                  "umask 022\n",
                  0644);
    r = probe_run(root, "accounts", "{}");
    expect_json(fact_value(r, "root_path_problems"),
                "[{\"source\": \"/etc/login.defs:1\", \"entry\": \"/usr/sbin\", \"problem\": "
                "\"not a directory\"},"
                " {\"source\": \"/etc/login.defs:1\", \"entry\": \"\", \"problem\": \"empty entry "
                "(the current directory)\"},"
                " {\"source\": \"/etc/environment:1\", \"entry\": \".\", \"problem\": \"relative "
                "entry\"},"
                " {\"source\": \"/root/.profile:1\", \"entry\": \"/opt/tools\", \"problem\": "
                "\"writable by group or others\"},"
                " {\"source\": \"/root/.profile:2\", \"entry\": \"/home/alice/bin\", \"problem\": "
                "\"not owned by root\"}]");
    expect_json(fact_value(r, "root_umask_weak"),
                "[{\"source\": \"/root/.profile:3\", \"umask\": \"0022\"}]");
    json_decref(r);
    tmproot_free(root);
}

/* Bad input: no passwd, a binary group file, an oversized shadow. Errors, never a crash. */
static void test_bad_input(void **state)
{
    char *root = tmproot_new();
    json_t *r;
    size_t big = 5u * 1024u * 1024u;
    char *blob = malloc(big);

    (void)state;
    assert_non_null(blob);
    r = probe_run(root, "accounts", "{}");
    assert_null(fact_value(r, "uid0"));
    assert_non_null(strstr(probe_errors(r), "read /etc/passwd: no such file or directory"));
    expect_json(fact_value(r, "umask"), "null"); /* the settings stand on their own */
    json_decref(r);

    write_accounts(root);
    tmproot_write_bytes(root, "/etc/group", "root:x:0:\0\0", 11, 0644);
    memset(blob, 'a', big);
    tmproot_write_bytes(root, "/etc/shadow", blob, big, 0640);
    r = probe_run(root, "accounts", "{}");
    expect_json(fact_value(r, "uid0"), "[\"root\", \"toor\"]");
    assert_null(fact_value(r, "empty_password"));
    assert_null(fact_value(r, "duplicate_gids"));
    assert_non_null(strstr(probe_errors(r), "read /etc/shadow: "));
    assert_non_null(strstr(probe_errors(r), "read /etc/group: binary content in a text file"));
    json_decref(r);
    free(blob);
    tmproot_free(root);
}

/* Names that are not UTF-8 are reported with '?' in their place, never as a failure. */
static void test_not_utf8(void **state)
{
    char *root = tmproot_new();
    json_t *r;

    (void)state;
    tmproot_write(root, "/etc/passwd",
                  "root:x:0:0::/root:/bin/bash\n\xff\xfeuser:x:1000:1000::/h:/bin/sh\n"
                  "\xff\xfeuser:x:1001:1000::/h:/bin/sh\n",
                  0644);
    tmproot_write(root, "/etc/shadow", "root:*:1:::::: \n\xff\xfeuser::1::::::\n", 0640);
    tmproot_write(root, "/etc/group", "root:x:0:\nshadow:x:42:\xe9t\xe9\n", 0644);
    tmproot_write(root, "/etc/profile.d/\xff.sh", "umask 000\n", 0644);
    r = probe_run(root, "accounts", "{}");
    expect_json(fact_value(r, "duplicate_user_names"), "[{\"user\": \"??user\"}]");
    expect_json(fact_value(r, "empty_password"), "[{\"user\": \"??user\", \"line\": 2}]");
    expect_json(fact_value(r, "shadow_group_members"), "[\"?t?\"]");
    expect_json(fact_value(r, "umask_weak"), "[{\"source\": \"/etc/profile.d/?.sh:1\", "
                                             "\"umask\": \"0000\"}]");
    json_decref(r);
    tmproot_free(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accounts),       cmocka_unit_test(test_invalid_shells),
        cmocka_unit_test(test_defaults_unset), cmocka_unit_test(test_umask),
        cmocka_unit_test(test_root_path),      cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_not_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
