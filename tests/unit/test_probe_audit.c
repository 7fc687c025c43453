/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the audit probe: augenrules' merge order of rules.d, the CIS events matched by
 * watches, path/dir/perm filters and syscall rules on both architectures, auditd.conf, and
 * bad rules files.
 */
#include "helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_merge_and_events(void **state)
{
    char *root = tmproot_new();
    json_t *r;
    const json_t *missing;
    size_t i;
    const json_t *item;

    (void)state;
    /* version order: 9-b before 10-a, so 10-a's -e 2 is the last one */
    tmproot_write(root, "/etc/audit/rules.d/10-a.rules", "-e 2\n", 0640);
    tmproot_write(root, "/etc/audit/rules.d/9-b.rules",
                  "## identity\n"
                  "-D\n-b 8192\n--backlog_wait_time 60000\n"
                  "-w /etc/group -p wa -k identity\n"
                  "-a always,exit -F path=/etc/passwd -F perm=wa -k identity\n"
                  "-a exit,always -F dir=/etc/pam.d/ -F perm=rwa\n"
                  "-w /etc/gshadow -p r\n" /* reads only: not a change watch */
                  "-w /etc/shadow -p wa\n-w /etc/security/opasswd -p wa\n"
                  "-w /etc/nsswitch.conf -p wa\n-w /etc/pam.conf -p wa\n"
                  "-a always,exit -F arch=b64 -S mount -F auid>=1000\n"
                  "-a always,exit -S mount\n" /* no arch: the native one, b64 */
                  "-a never,exit -F arch=b32 -S mount\n"
                  "-a always,exit -F arch=b64 -S all -F key=everything\n"
                  "-e 1\n",
                  0640);
    tmproot_write(root, "/etc/audit/rules.d/README", "-e 0\n", 0644);
    tmproot_write(root, "/etc/audit/rules.d/50-x.rules.bak", "-e 0\n", 0644);
    tmproot_write(root, "/etc/audit/auditd.conf",
                  "# auditd.conf\nmax_log_file = 32\nMAX_LOG_FILE_ACTION = KEEP_LOGS\n"
                  "space_left_action=email\nnum_logs = 5\n",
                  0640);
    tmproot_symlink(root, "/etc/systemd/system/multi-user.target.wants/auditd.service",
                    "/lib/systemd/system/auditd.service");
    r = probe_run(root, "audit", "{}");
    assert_string_equal(probe_errors(r), "");
    expect_json(fact_value(r, "rules_files"),
                "[\"/etc/audit/rules.d/9-b.rules\", \"/etc/audit/rules.d/10-a.rules\"]");
    expect_json(fact_value(r, "enable_flag"), "2");
    expect_json(fact_value(r, "rules"), "12");
    missing = fact_value(r, "missing_events");
    json_array_foreach(missing, i, item)
    {
        const char *event = json_string_value(json_object_get(item, "event"));
        if (strcmp(event, "identity") == 0) {
            expect_json(json_object_get(item, "missing"), "[\"-w /etc/gshadow -p wa\"]");
        }
        if (strcmp(event, "mounts") == 0) {
            expect_json(json_object_get(item, "missing"),
                        "[\"-a always,exit -F arch=b32 -S mount\"]");
        }
        /* -S all on b64 covers every b64 syscall: only b32 is missing */
        if (strcmp(event, "delete") == 0) {
            expect_json(json_object_get(item, "missing"),
                        "[\"-a always,exit -F arch=b32 -S unlink\", \"-a always,exit -F "
                        "arch=b32 -S unlinkat\", \"-a always,exit -F arch=b32 -S rename\", "
                        "\"-a always,exit -F arch=b32 -S renameat\"]");
        }
        /* a field condition is required too: exit=-EACCES is not in -S all's rule */
        if (strcmp(event, "access") == 0) {
            assert_int_equal(json_array_size(json_object_get(item, "missing")), 20);
        }
    }
    expect_json(fact_value(r, "missing_events_count"), "18");
    /* an offline root loads what rules.d holds */
    expect_json(fact_value(r, "loaded_missing_events_count"), "18");
    expect_json(fact_value(r, "max_log_file"), "32");
    expect_json(fact_value(r, "max_log_file_action"), "\"keep_logs\"");
    assert_string_equal(fact_source(r, "max_log_file_action"), "/etc/audit/auditd.conf:3");
    expect_json(fact_value(r, "space_left_action"), "\"email\"");
    expect_json(fact_value(r, "admin_space_left_action"), "\"suspend\"");
    assert_string_equal(fact_source(r, "admin_space_left_action"), "default");
    expect_json(fact_value(r, "enabled"), "true");
    json_decref(r);
    tmproot_free(root);
}

static void test_complete_rules(void **state)
{
    char *root = tmproot_new();
    char *path = NULL;
    json_t *r;
    const char *data = getenv("POSTURE_TEST_DATA");

    (void)state;
    /* the hardened fixture's CIS rules file covers every event */
    assert_non_null(data);
    assert_true(asprintf(&path, "%s/roots/hardened/etc/audit/rules.d/50-cis.rules", data) > 0);
    {
        FILE *f = fopen(path, "r");
        char buf[16384];
        size_t n;
        assert_non_null(f);
        n = fread(buf, 1, sizeof(buf) - 1, f);
        buf[n] = '\0';
        fclose(f);
        tmproot_write(root, "/etc/audit/rules.d/50-cis.rules", buf, 0640);
    }
    r = probe_run(root, "audit", "{}");
    expect_json(fact_value(r, "missing_events"), "[]");
    expect_json(fact_value(r, "enable_flag"), "null");
    expect_json(fact_value(r, "conf_exists"), "false");
    expect_json(fact_value(r, "enabled"), "false");
    json_decref(r);
    free(path);
    tmproot_free(root);
}

/* The rules the probe lists as missing, once added, leave nothing missing. */
static void test_missing_rules_are_rules(void **state)
{
    char *root = tmproot_new();
    json_t *r;
    size_t i, k;
    const json_t *item, *rule;
    char text[16384] = "";

    (void)state;
    tmproot_mkdir(root, "/etc/audit/rules.d", 0750);
    r = probe_run(root, "audit", "{}");
    expect_json(fact_value(r, "missing_events_count"), "18");
    json_array_foreach(fact_value(r, "missing_events"), i, item)
    {
        json_array_foreach(json_object_get(item, "missing"), k, rule)
        {
            snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s\n",
                     json_string_value(rule));
        }
    }
    json_decref(r);
    tmproot_write(root, "/etc/audit/rules.d/50-added.rules", text, 0640);
    r = probe_run(root, "audit", "{}");
    expect_json(fact_value(r, "missing_events"), "[]");
    json_decref(r);
    tmproot_free(root);
}

/* The programs whose executions the rules record, in the forms rules.d and auditctl -l use. */
static void test_exec_rules(void **state)
{
    char *root = tmproot_new();
    json_t *r;

    (void)state;
    tmproot_write(root, "/etc/audit/rules.d/50-privileged.rules",
                  /* as auditctl -l prints the CIS rule: -S all, auid!=-1, -F key= */
                  "-a always,exit -S all -F path=/usr/bin/su -F perm=x -F auid>=1000 "
                  "-F auid!=-1 -F key=privileged\n"
                  "-a always,exit -F path=/usr/bin/passwd -F perm=x -F auid>=1000 "
                  "-F auid!=unset -k privileged\n"
                  "-w /usr/bin/chage -p x -k privileged\n"
                  "-a always,exit -F path=/usr/bin/su -F perm=rx\n"     /* su again */
                  "-a never,exit -F path=/usr/bin/mount -F perm=x\n"    /* never */
                  "-a always,exit -F path=/usr/bin/umount -F perm=wa\n" /* not x */
                  "-w /usr/bin/newgrp -p wa\n",                         /* not x */
                  0640);
    r = probe_run(root, "audit", "{}");
    assert_string_equal(probe_errors(r), "");
    expect_json(fact_value(r, "exec_rule_paths"),
                "[\"/usr/bin/su\", \"/usr/bin/passwd\", \"/usr/bin/chage\"]");
    /* an offline root loads what rules.d holds */
    expect_json(fact_value(r, "loaded_exec_rule_paths"),
                "[\"/usr/bin/su\", \"/usr/bin/passwd\", \"/usr/bin/chage\"]");
    json_decref(r);

    /* more rules than the bound (each line a rule, 3 MiB in all): an error, no partial list */
    {
        const char *line = "-a always,exit -F path=/usr/bin/x -F perm=x\n";
        size_t n = 70000, len = strlen(line);
        char *big = malloc(n * len + 1);
        assert_non_null(big);
        for (size_t i = 0; i < n; i++) {
            memcpy(big + i * len, line, len);
        }
        big[n * len] = '\0';
        tmproot_write(root, "/etc/audit/rules.d/60-many.rules", big, 0640);
        r = probe_run(root, "audit", "{}");
        assert_non_null(strstr(probe_errors(r), "/etc/audit/rules.d/60-many.rules: more than 20000 "
                                                "audit rules"));
        assert_null(fact_value(r, "exec_rule_paths"));
        assert_null(fact_value(r, "loaded_exec_rule_paths"));
        json_decref(r);
        /* past the size bound of a text file: the file cannot be read */
        big = realloc(big, 5u * 1024u * 1024u);
        assert_non_null(big);
        memset(big, '#', 5u * 1024u * 1024u - 1);
        big[5u * 1024u * 1024u - 1] = '\0';
        tmproot_write(root, "/etc/audit/rules.d/60-many.rules", big, 0640);
        r = probe_run(root, "audit", "{}");
        assert_non_null(strstr(probe_errors(r), "read /etc/audit/rules.d/60-many.rules: "));
        assert_null(fact_value(r, "exec_rule_paths"));
        json_decref(r);
        free(big);
    }
    tmproot_free(root);
}

static void test_bad_rules(void **state)
{
    char *root = tmproot_new();
    json_t *r;

    (void)state;
    tmproot_write(root, "/etc/audit/rules.d/a.rules", "-w /etc/passwd -p\n-e 7\n", 0640);
    tmproot_write(root, "/etc/audit/auditd.conf", "max_log_file = lots\n", 0640);
    r = probe_run(root, "audit", "{}");
    assert_non_null(
        strstr(probe_errors(r), "/etc/audit/rules.d/a.rules:1: option without its value"));
    assert_non_null(strstr(probe_errors(r), "/etc/audit/rules.d/a.rules:2: -e takes 0, 1 or 2"));
    assert_non_null(
        strstr(probe_errors(r), "/etc/audit/auditd.conf:1: max_log_file is not a number"));
    assert_null(fact_value(r, "missing_events"));
    assert_null(fact_value(r, "max_log_file"));
    expect_json(fact_value(r, "max_log_file_action"), "\"rotate\"");
    json_decref(r);
    /* a rules file that is a directory */
    tmproot_mkdir(root, "/etc/audit/rules.d/b.rules", 0755);
    tmproot_write(root, "/etc/audit/rules.d/a.rules", "-e 2\n", 0640);
    r = probe_run(root, "audit", "{}");
    assert_non_null(strstr(probe_errors(r), "read /etc/audit/rules.d/b.rules: "));
    assert_null(fact_value(r, "enable_flag"));
    json_decref(r);
    tmproot_free(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_and_events),
        cmocka_unit_test(test_complete_rules),
        cmocka_unit_test(test_missing_rules_are_rules),
        cmocka_unit_test(test_exec_rules),
        cmocka_unit_test(test_bad_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
