/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the sudo probe: include directives and sudo's rules for include directories,
 * global and qualified Defaults, NOPASSWD and !authenticate grants, timestamp_timeout, and
 * bad input (loops, missing and unreadable includes).
 */
#include "helpers.h"

#include <string.h>

static void test_policy(void **state)
{
    char *root = tmproot_new();
    json_t *r;

    (void)state;
    tmproot_write(root, "/etc/sudoers",
                  "# sudoers\n"
                  "Defaults\tenv_reset, use_pty ,logfile=\"/var/log/sudo.log\"\n"
                  "Defaults:alice !use_pty, timestamp_timeout=30\n"
                  "Defaults timestamp_timeout=4.5\n"
                  "Cmnd_Alias NOPASSWD_CMDS = /bin/true\n"
                  "root ALL=(ALL:ALL) ALL # NOPASSWD: in a comment\n"
                  "#1000 ALL=(ALL) ALL\n"
                  "%wheel ALL=(ALL) \\\n"
                  "   NOPASSWD: ALL\n"
                  "#include /etc/sudoers.local\n"
                  "#includedir /etc/sudoers.d\n",
                  0440);
    tmproot_write(root, "/etc/sudoers.local",
                  "Defaults>root !authenticate\n@include sudoers.extra\n", 0440);
    tmproot_write(root, "/etc/sudoers.extra", "bob ALL = (root) NOPASSWD:/usr/bin/apt\n", 0440);
    tmproot_write(root, "/etc/sudoers.d/10-ops", "Defaults !use_pty\nDefaults use_pty\n", 0440);
    tmproot_write(root, "/etc/sudoers.d/20-old~", "carol ALL=(ALL) NOPASSWD: ALL\n", 0440);
    tmproot_write(root, "/etc/sudoers.d/30-x.dpkg-dist", "Defaults !authenticate\n", 0440);
    tmproot_write(root, "/etc/sudoers.d/README", "# sudo reads this one: no dot, no ~\n", 0440);
    /* a file name that is not UTF-8 is read all the same, and reported with '?' */
    tmproot_write(root, "/etc/sudoers.d/z\xff", "dave ALL=(ALL) NOPASSWD: ALL\n", 0440);
    r = probe_run(root, "sudo", "{}");
    assert_string_equal(probe_errors(r), "");
    expect_json(fact_value(r, "files"),
                "[\"/etc/sudoers\", \"/etc/sudoers.local\", \"/etc/sudoers.extra\", "
                "\"/etc/sudoers.d/10-ops\", \"/etc/sudoers.d/README\", \"/etc/sudoers.d/z?\"]");
    expect_json(fact_value(r, "use_pty"), "true");
    assert_string_equal(fact_source(r, "use_pty"), "/etc/sudoers.d/10-ops:2");
    expect_json(fact_value(r, "logfile"), "\"/var/log/sudo.log\"");
    assert_string_equal(fact_source(r, "logfile"), "/etc/sudoers:2");
    expect_json(fact_value(r, "timestamp_timeout"), "5"); /* 4.5 minutes, rounded up */
    expect_json(fact_value(r, "timestamp_timeouts_over"),
                "[{\"who\": \"alice\", \"minutes\": 30, \"source\": \"/etc/sudoers:3\"}]");
    expect_json(fact_value(r, "nopasswd"),
                "[{\"who\": \"%wheel\", \"source\": \"/etc/sudoers:8\"}, {\"who\": \"bob\", "
                "\"source\": \"/etc/sudoers.extra:1\"}, {\"who\": \"dave\", \"source\": "
                "\"/etc/sudoers.d/z?:1\"}]");
    expect_json(fact_value(r, "no_authenticate"),
                "[{\"who\": \">root\", \"source\": \"/etc/sudoers.local:1\"}]");
    json_decref(r);
    r = probe_run(root, "sudo", "{\"max_timeout\": 60}");
    expect_json(fact_value(r, "timestamp_timeouts_over_count"), "0");
    json_decref(r);
    tmproot_free(root);
}

static void test_defaults_and_absent(void **state)
{
    char *root = tmproot_new();
    json_t *r;

    (void)state;
    r = probe_run(root, "sudo", "{}");
    expect_json(fact_value(r, "exists"), "false");
    assert_null(fact_value(r, "use_pty"));
    json_decref(r);
    tmproot_write(root, "/etc/sudoers",
                  "Defaults !timestamp_timeout\nDefaults logfile=/var/log/a, !logfile\n", 0440);
    r = probe_run(root, "sudo", "{}");
    expect_json(fact_value(r, "use_pty"), "false");
    assert_string_equal(fact_source(r, "use_pty"), "default");
    expect_json(fact_value(r, "timestamp_timeout"), "0");
    expect_json(fact_value(r, "logfile"), "null");
    json_decref(r);
    tmproot_write(root, "/etc/sudoers", "Defaults timestamp_timeout=-1\n", 0440);
    r = probe_run(root, "sudo", "{}");
    expect_json(fact_value(r, "timestamp_timeout"), "-1");
    expect_json(fact_value(r, "timestamp_timeouts_over_count"), "1");
    json_decref(r);
    /* unset use_pty is sudo's own default: off before 1.9.14 (Debian 12), on from it (13) */
    tmproot_write(root, "/etc/sudoers", "root ALL=(ALL:ALL) ALL\n", 0440);
    tmproot_write(root, "/var/lib/dpkg/status",
                  "Package: sudo\nStatus: install ok installed\nArchitecture: amd64\n"
                  "Version: 1.9.13p3-1+deb12u1\n",
                  0644);
    r = probe_run(root, "sudo", "{}");
    expect_json(fact_value(r, "use_pty"), "false");
    json_decref(r);
    tmproot_write(root, "/var/lib/dpkg/status",
                  "Package: sudo\nStatus: install ok installed\nArchitecture: amd64\n"
                  "Version: 1.9.16p2-3\n",
                  0644);
    r = probe_run(root, "sudo", "{}");
    expect_json(fact_value(r, "use_pty"), "true");
    assert_string_equal(fact_source(r, "use_pty"), "default of the installed sudo (1.9.14 and later)");
    json_decref(r);
    tmproot_write(root, "/etc/sudoers", "Defaults !use_pty\n", 0440);
    r = probe_run(root, "sudo", "{}");
    expect_json(fact_value(r, "use_pty"), "false");
    assert_string_equal(fact_source(r, "use_pty"), "/etc/sudoers:1");
    json_decref(r);
    tmproot_free(root);
}

static void test_bad_input(void **state)
{
    char *root = tmproot_new();
    json_t *r;

    (void)state;
    /* a loop: sudoers includes a file that includes sudoers */
    tmproot_write(root, "/etc/sudoers", "root ALL=(ALL) ALL\n@include /etc/loop\n", 0440);
    tmproot_write(root, "/etc/loop", "@include sudoers\n", 0440);
    r = probe_run(root, "sudo", "{}");
    assert_non_null(strstr(probe_errors(r), "/etc/sudoers: include loop"));
    assert_null(fact_value(r, "use_pty"));
    json_decref(r);
    /* a directory where an included file should be: the rules it may hold are unknown */
    tmproot_write(root, "/etc/sudoers", "#include /etc/sudoers.d\nDefaults use_pty\n", 0440);
    tmproot_mkdir(root, "/etc/sudoers.d", 0755);
    r = probe_run(root, "sudo", "{}");
    assert_non_null(strstr(probe_errors(r), "read /etc/sudoers.d: "));
    assert_null(fact_value(r, "nopasswd"));
    json_decref(r);
    /* a missing include is reported, as sudo reports it, and the rest still counts */
    tmproot_write(root, "/etc/sudoers",
                  "@include /etc/gone\n@includedir /etc/nodir\nDefaults use_pty, "
                  "timestamp_timeout=soon\n",
                  0440);
    r = probe_run(root, "sudo", "{}");
    assert_non_null(strstr(probe_errors(r), "read /etc/gone: no such file or directory"));
    assert_non_null(strstr(probe_errors(r), "/etc/sudoers:3: timestamp_timeout is not a number"));
    assert_null(fact_value(r, "use_pty")); /* the bad number leaves the answer open */
    json_decref(r);
    /* includes nested deeper than the bound */
    for (int i = 0; i < 20; i++) {
        char path[64], text[64];
        snprintf(path, sizeof(path), "/etc/s%d", i);
        snprintf(text, sizeof(text), "@include /etc/s%d\n", i + 1);
        tmproot_write(root, path, text, 0440);
    }
    tmproot_write(root, "/etc/sudoers", "@include /etc/s0\n", 0440);
    r = probe_run(root, "sudo", "{}");
    assert_non_null(strstr(probe_errors(r), "includes nested deeper than 16"));
    json_decref(r);
    tmproot_write_bytes(root, "/etc/sudoers", "Defaults\0use_pty\n", 17, 0440);
    r = probe_run(root, "sudo", "{}");
    assert_non_null(strstr(probe_errors(r), "read /etc/sudoers: binary content in a text file"));
    json_decref(r);
    tmproot_free(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy),
        cmocka_unit_test(test_defaults_and_absent),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
