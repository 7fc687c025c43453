/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the logging probe: journald.conf and its drop-ins in systemd's precedence,
 * rsyslog's FileCreateMode through its includes, and the modes of files under /var/log.
 */
#include "helpers.h"

#include <string.h>

static void test_journald(void **state)
{
    char *root = tmproot_new();
    json_t *r;

    (void)state;
    r = probe_run(root, "logging", "{}");
    /* nothing configured: the built-in defaults, no /var/log/journal */
    expect_json(fact_value(r, "journald_storage"), "\"auto\"");
    expect_json(fact_value(r, "journald_persistent"), "false");
    expect_json(fact_value(r, "journald_compress"), "true");
    expect_json(fact_value(r, "journald_forward_to_syslog"), "true");
    expect_json(fact_value(r, "rsyslog_conf_exists"), "false");
    expect_json(fact_value(r, "rsyslog_file_create_mode"), "null");
    expect_json(fact_value(r, "log_files"), "0");
    json_decref(r);

    tmproot_write(root, "/etc/systemd/journald.conf",
                  "[Journal]\nStorage=volatile\nCompress=no\n[Other]\nForwardToSyslog=no\n", 0644);
    /* 10-a in /usr/lib is shadowed by 10-a in /etc; 20-b in /usr/lib applies after it */
    tmproot_write(root, "/etc/systemd/journald.conf.d/10-a.conf", "[Journal]\nCompress=1M\n", 0644);
    tmproot_write(root, "/usr/lib/systemd/journald.conf.d/10-a.conf", "[Journal]\nStorage=none\n",
                  0644);
    tmproot_write(root, "/usr/lib/systemd/journald.conf.d/20-b.conf",
                  "[Journal]\nStorage=persistent\nForwardToSyslog=no\n", 0644);
    tmproot_write(root, "/run/systemd/journald.conf.d/15-c.conf",
                  "[Journal]\nStorage=auto\nForwardToSyslog=maybe\n", 0644);
    tmproot_write(root, "/etc/systemd/journald.conf.d/99-z.conf.disabled",
                  "[Journal]\nStorage=none\n", 0644);
    r = probe_run(root, "logging", "{}");
    expect_json(fact_value(r, "journald_storage"), "\"persistent\"");
    assert_string_equal(fact_source(r, "journald_storage"),
                        "/usr/lib/systemd/journald.conf.d/20-b.conf:2");
    expect_json(fact_value(r, "journald_persistent"), "true");
    expect_json(fact_value(r, "journald_compress"), "true");
    assert_string_equal(fact_source(r, "journald_compress"),
                        "/etc/systemd/journald.conf.d/10-a.conf:2");
    expect_json(fact_value(r, "journald_forward_to_syslog"), "false");
    assert_non_null(strstr(probe_errors(r), "15-c.conf:3: ForwardToSyslog is not a boolean"));
    json_decref(r);
    tmproot_free(root);
}

static void test_rsyslog_and_files(void **state)
{
    char *root = tmproot_new();
    json_t *r;

    (void)state;
    tmproot_write(root, "/etc/rsyslog.conf",
                  "$FileCreateMode 0600\n"
                  "$IncludeConfig /etc/rsyslog.d/*.conf\n"
                  "include(file=\"/etc/rsyslog.extra\" mode=\"optional\")\n",
                  0644);
    tmproot_write(root, "/etc/rsyslog.d/10-a.conf", "$FileCreateMode 0644\n", 0644);
    tmproot_write(root, "/etc/rsyslog.d/20-b.conf",
                  "module(load=\"builtin:omfile\" FileCreateMode=\"0640\")\n", 0644);
    tmproot_write(root, "/etc/rsyslog.d/30-c.conf.off", "$FileCreateMode 0666\n", 0644);
    tmproot_write(root, "/etc/rsyslog.extra", "# nothing\n", 0644);
    tmproot_write(root, "/var/log/syslog", "", 0640);
    tmproot_write(root, "/var/log/auth.log", "", 0644);
    tmproot_write(root, "/var/log/wtmp", "", 0664);
    tmproot_write(root, "/var/log/btmp.1", "", 0666);
    tmproot_write(root, "/var/log/apt/history.log", "", 0600);
    tmproot_write(root, "/var/log/private/app.log", "", 0620);
    tmproot_symlink(root, "/var/log/README", "/etc/passwd");
    r = probe_run(root, "logging", "{}");
    expect_json(fact_value(r, "rsyslog_file_create_mode"), "\"0640\"");
    assert_string_equal(fact_source(r, "rsyslog_file_create_mode"), "/etc/rsyslog.d/20-b.conf:1");
    expect_json(fact_value(r, "log_files"), "6");
    expect_json(
        fact_value(r, "log_files_too_open"),
        "[{\"path\": \"/var/log/auth.log\", \"mode\": \"0644\"}, {\"path\": "
        "\"/var/log/btmp.1\", \"mode\": \"0666\"}, {\"path\": \"/var/log/private/app.log\", "
        "\"mode\": \"0620\"}]");
    json_decref(r);
    r = probe_run(root, "logging", "{\"log_max_mode\": \"0644\"}");
    expect_json(fact_value(r, "log_files_too_open_count"), "2");
    json_decref(r);

    /* an include loop through rsyslog.conf itself */
    tmproot_write(root, "/etc/rsyslog.conf", "$IncludeConfig /etc/rsyslog.conf\n", 0644);
    r = probe_run(root, "logging", "{}");
    assert_non_null(strstr(probe_errors(r), "includes nested deeper than 8 (a loop?)"));
    assert_null(fact_value(r, "rsyslog_file_create_mode"));
    json_decref(r);
    tmproot_write(root, "/etc/rsyslog.conf", "$FileCreateMode rw-r-----\n", 0644);
    r = probe_run(root, "logging", "{}");
    assert_non_null(strstr(probe_errors(r), "/etc/rsyslog.conf:1: FileCreateMode 'rw-r-----' is "
                                            "not an octal mode"));
    json_decref(r);
    tmproot_free(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_journald),
        cmocka_unit_test(test_rsyslog_and_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
