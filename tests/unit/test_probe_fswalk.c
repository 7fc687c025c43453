/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of the fswalk probe on an offline root: findings, owners from the root, packages. */
#include "helpers.h"

#include <string.h>

static char *root;

static int setup(void **state)
{
    (void)state;
    root = tmproot_new();
    tmproot_write(root, "/etc/passwd",
                  "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n", 0644);
    tmproot_write(root, "/etc/group", "root:x:0:\nalice:x:1000:\n", 0644);
    tmproot_symlink(root, "/bin", "usr/bin");
    tmproot_write(root, "/usr/bin/su", "su", 04755);
    tmproot_write(root, "/usr/bin/local-tool", "tool", 02755);
    tmproot_write(root, "/var/lib/dpkg/info/util-linux.list", "/.\n/bin\n/bin/su\n", 0644);
    tmproot_write(root, "/srv/open", "", 0666);
    tmproot_chown(root, "/srv/open", 1000, 1000);
    /* uid 1000 exists in the root; 2000 does not, whatever this host says */
    tmproot_write(root, "/srv/orphan", "", 0644);
    tmproot_chown(root, "/srv/orphan", 2000, 1000);
    tmproot_mkdir(root, "/srv/drop", 0777);
    tmproot_mkdir(root, "/tmp", 01777);
    /* an absolute link: inside the root it leads to the root's /srv, never the host's */
    tmproot_symlink(root, "/walkme", "/srv");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tmproot_free(root);
    return 0;
}

static void test_findings(void **state)
{
    json_t *r = probe_run(root, "fswalk", "{}");
    const json_t *suid;

    (void)state;
    assert_int_equal(json_array_size(json_object_get(r, "errors")), 0);
    assert_int_equal(json_integer_value(fact_value(r, "world_writable_files_count")), 1);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(fact_value(r, "world_writable_files"), 0), "path")),
                        "/srv/open");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(fact_value(r, "world_writable_files"), 0), "owner")),
                        "alice");
    assert_int_equal(json_integer_value(fact_value(r, "world_writable_dirs_count")), 1);
    assert_int_equal(json_integer_value(fact_value(r, "unowned_count")), 1);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(fact_value(r, "unowned"), 0), "path")),
        "/srv/orphan");
    assert_int_equal(json_integer_value(fact_value(r, "suid_sgid_count")), 2);
    suid = fact_value(r, "suid_sgid");
    for (size_t i = 0; i < json_array_size(suid); i++) {
        const json_t *f = json_array_get(suid, i);
        const char *path = json_string_value(json_object_get(f, "path"));
        const json_t *pkg = json_object_get(f, "package");
        if (strcmp(path, "/usr/bin/su") == 0) {
            /* dpkg lists /bin/su; with a merged /usr it is /usr/bin/su */
            assert_string_equal(json_string_value(pkg), "util-linux");
            assert_string_equal(json_string_value(json_object_get(f, "mode")), "4755");
        } else {
            assert_string_equal(path, "/usr/bin/local-tool");
            assert_true(json_is_null(pkg));
        }
    }
    assert_int_equal(json_integer_value(fact_value(r, "unpackaged_suid_sgid_count")), 1);
    json_decref(r);
}

/* CIS 6.2.3.6: each SUID/SGID program needs a rule recording its executions. */
static void test_unaudited(void **state)
{
    json_t *r;

    (void)state;
    /* no rules at all: both programs miss both rules; where they miss them is said */
    r = probe_run(root, "fswalk", "{}");
    expect_json(fact_value(r, "suid_sgid_unaudited_count"), "2");
    expect_json(json_object_get(json_array_get(fact_value(r, "suid_sgid_unaudited"), 0), "missing"),
                "[\"/etc/audit/rules.d\", \"loaded\"]");
    json_decref(r);
    /* su's rule as auditctl -l prints it; the tool only read (perm=r): still unaudited */
    tmproot_write(root, "/etc/audit/rules.d/50-privileged.rules",
                  "-a always,exit -S all -F path=/usr/bin/su -F perm=x -F auid>=1000 "
                  "-F auid!=-1 -F key=privileged\n"
                  "-a always,exit -F path=/usr/bin/local-tool -F perm=r -k privileged\n",
                  0640);
    r = probe_run(root, "fswalk", "{\"max_findings\": 5}");
    expect_json(fact_value(r, "suid_sgid_unaudited"),
                "[{\"path\": \"/usr/bin/local-tool\", \"missing\": [\"/etc/audit/rules.d\", "
                "\"loaded\"]}]");
    json_decref(r);
    /* a garbled rules file: the rules are not known, the field is an error */
    tmproot_write(root, "/etc/audit/rules.d/60-bad.rules", "-a always,exit -F\n", 0640);
    r = probe_run(root, "fswalk", "{}");
    assert_null(fact_value(r, "suid_sgid_unaudited"));
    assert_non_null(strstr(probe_errors(r), "the audit rules are not known: "
                                            "/etc/audit/rules.d/60-bad.rules:1: option without "
                                            "its value"));
    expect_json(fact_value(r, "suid_sgid_count"), "2");
    json_decref(r);
    tmproot_write(root, "/etc/audit/rules.d/60-bad.rules",
                  "-a always,exit -F path=/usr/bin/local-tool -F perm=rx\n", 0640);
    r = probe_run(root, "fswalk", "{}");
    expect_json(fact_value(r, "suid_sgid_unaudited"), "[]");
    expect_json(fact_value(r, "suid_sgid_unaudited_count"), "0");
    json_decref(r);
}

static void test_roots_skip_and_bounds(void **state)
{
    json_t *r;

    (void)state;
    /* a walk root given through a symlink resolves inside the scanned root */
    r = probe_run(root, "fswalk", "{\"roots\": [\"/walkme\"]}");
    assert_int_equal(json_integer_value(fact_value(r, "world_writable_files_count")), 1);
    json_decref(r);
    r = probe_run(root, "fswalk", "{\"skip\": [\"/srv\"]}");
    assert_int_equal(json_integer_value(fact_value(r, "world_writable_files_count")), 0);
    assert_int_equal(json_integer_value(fact_value(r, "unowned_count")), 0);
    json_decref(r);
    r = probe_run(root, "fswalk", "{\"max_findings\": 0}");
    assert_int_equal(json_array_size(fact_value(r, "world_writable_files")), 0);
    assert_int_equal(json_integer_value(fact_value(r, "world_writable_files_count")), 1);
    json_decref(r);
    /* too deep is an incomplete walk: an error, never a silently smaller count */
    r = probe_run(root, "fswalk", "{\"max_depth\": 0}");
    assert_null(fact_value(r, "world_writable_files_count"));
    assert_true(json_array_size(json_object_get(r, "errors")) > 0);
    json_decref(r);
    r = probe_run(root, "fswalk", "{\"roots\": [\"/nonexistent\"]}");
    assert_null(fact_value(r, "world_writable_files_count"));
    json_decref(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_findings),
        cmocka_unit_test(test_unaudited),
        cmocka_unit_test(test_roots_skip_and_bounds),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
