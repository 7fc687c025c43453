/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of the evaluator: every operator, absent facts, all/any/not, applies, exemptions. */
#include "helpers.h"

#include "agent/error.h"
#include "agent/scan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *root;

static int setup(void **state)
{
    (void)state;
    root = tmproot_new();
    tmproot_write(root, "/etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n", 0644);
    tmproot_write(root, "/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n", 0644);
    tmproot_write(root, "/etc/group", "root:x:0:\nshadow:x:42:\n", 0644);
    tmproot_write(root, "/etc/shadow", "root:*:19000:0:99999:7:::\n", 0640);
    tmproot_write(root, "/etc/login.defs", "PASS_MAX_DAYS 99999\nENCRYPT_METHOD SHA512\n", 0644);
    tmproot_write(root, "/etc/binary", "a\0b", 0644);
    tmproot_write_bytes(root, "/etc/binary", "a\0b", 3, 0644);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tmproot_free(root);
    return 0;
}

struct outcome {
    enum pst_status status;
    char reason[512];
};

/* Loads a one-recommendation policy around CHECK (plus APPLIES, CONFIG) into DIR and scans
 * ROOT; the caller frees *SET, *CONFIG and the scan. */
static struct pst_scan *scan_one(const char *check, const char *applies, const char *config_text,
                                 const char *dir, struct pst_policy_set **set,
                                 struct pst_config **config)
{
    char policy[8192], ppath[600], cpath[600];
    const char *pp = ppath;
    struct pst_scan *scan = NULL;
    struct pst_diag d = {0};
    char *error = NULL;

    *set = NULL;
    *config = NULL;
    assert_true(snprintf(policy, sizeof(policy),
                         "policy: {id: t, version: 1, title: T, applies_to: {os: [debian]}}\n"
                         "parameters: {limit: 365, groups: [root, shadow]}\n"
                         "controls: [{id: c, title: C, max_score: 4}]\n"
                         "recommendations:\n"
                         "  - id: r\n    control: c\n    title: t\n    severity: low\n"
                         "    rationale: r\n    remediation: m\n%s%s%s    check: %s\n",
                         applies ? "    applies: " : "", applies ? applies : "",
                         applies ? "\n" : "", check) < (int)sizeof(policy));
    tmproot_write(dir, "/p.yaml", policy, 0644);
    snprintf(ppath, sizeof(ppath), "%s/p.yaml", dir);
    if (config_text != NULL) {
        tmproot_write(dir, "/c.yaml", config_text, 0644);
        snprintf(cpath, sizeof(cpath), "%s/c.yaml", dir);
        assert_int_equal(pst_config_load(cpath, config, &d), PST_OK);
    }
    if (pst_policy_load(&pp, 1, *config, set, &d) != PST_OK) {
        pst_diag_print(&d, stderr);
        fail_msg("policy did not load: %s", check);
    }
    assert_int_equal(pst_scan_run(*set, *config, root, NULL, 0, &scan, &error), PST_OK);
    assert_int_equal(scan->n_results, 1);
    return scan;
}

/* Loads a one-recommendation policy around CHECK (plus APPLIES, CONFIG) and scans ROOT. */
static struct outcome run(const char *check, const char *applies, const char *config_text)
{
    struct pst_config *config = NULL;
    struct pst_policy_set *set = NULL;
    struct outcome out = {0};
    char *dir = tmproot_new();
    struct pst_scan *scan = scan_one(check, applies, config_text, dir, &set, &config);

    out.status = scan->results[0].status;
    snprintf(out.reason, sizeof(out.reason), "%s",
             scan->results[0].reason ? scan->results[0].reason : "");
    pst_scan_free(scan);
    pst_policy_set_free(set);
    pst_config_free(config);
    tmproot_free(dir);
    return out;
}

#define EXPECT(check, want) assert_int_equal(run((check), NULL, NULL).status, (want))
#define PASS PST_STATUS_PASS
#define FAIL PST_STATUS_FAIL

static void test_operators(void **state)
{
    (void)state;
    EXPECT("{fact: file.mode, path: /etc/shadow, equals: \"0640\"}", PASS);
    EXPECT("{fact: file.mode, path: /etc/shadow, not_equals: \"0640\"}", FAIL);
    EXPECT("{fact: file.group, path: /etc/shadow, in: [root, shadow]}", PASS);
    EXPECT("{fact: file.group, path: /etc/shadow, in: [shadow]}", FAIL);
    EXPECT("{fact: file.uid, path: /etc/shadow, in: [0, 1000]}", PASS);
    EXPECT("{fact: file.uid, path: /etc/shadow, not_in: [0]}", FAIL);
    EXPECT("{fact: file.type, path: /etc, matches: \"^dir\"}", PASS);
    EXPECT("{fact: file.type, path: /etc, not_matches: \"^dir\"}", FAIL);
    EXPECT("{fact: file.size, path: /etc/binary, matches: \"^3$\"}", PASS);
    EXPECT("{fact: keyvalue.number, path: /etc/login.defs, key: PASS_MAX_DAYS, le: $limit}", FAIL);
    EXPECT("{fact: keyvalue.number, path: /etc/login.defs, key: PASS_MAX_DAYS, lt: 100000}", PASS);
    EXPECT("{fact: keyvalue.number, path: /etc/login.defs, key: PASS_MAX_DAYS, gt: 99999}", FAIL);
    EXPECT("{fact: keyvalue.number, path: /etc/login.defs, key: PASS_MAX_DAYS, ge: 99999}", PASS);
    EXPECT("{fact: keyvalue.value, path: /etc/login.defs, key: NOPE, exists: false}", PASS);
    EXPECT("{fact: keyvalue.value, path: /etc/login.defs, key: ENCRYPT_METHOD, exists: true}",
           PASS);
    EXPECT("{fact: lines.matches, path: /etc/passwd, regex: \"^nobody:\", empty: true}", PASS);
    EXPECT("{fact: lines.matches, path: /etc/passwd, regex: \"^root:\", empty: true}", FAIL);
    EXPECT("{fact: os.id_like, empty: true}", PASS);
    EXPECT("{fact: keyvalue.value, path: /etc/login.defs, key: ENCRYPT_METHOD, contains: SHA}",
           PASS);
    EXPECT("{fact: file.mode, path: /etc/shadow, mode_at_most: \"0600\"}", FAIL);
    EXPECT("{fact: file.mode, path: /etc/shadow, mode_at_most: \"0640\"}", PASS);
    EXPECT("{fact: file.mode, path: /etc/shadow, mode_at_most: \"0750\"}", PASS);
}

static void test_lists(void **state)
{
    char *r2 = root;
    (void)state;
    tmproot_write(r2, "/etc/os-release", "ID=ubuntu\nID_LIKE=\"debian  gnu\"\n", 0644);
    EXPECT("{fact: os.id_like, contains: debian}", PASS);
    EXPECT("{fact: os.id_like, contains: rhel}", FAIL);
    EXPECT("{fact: os.id_like, subset_of: [debian, gnu, other]}", PASS);
    EXPECT("{fact: os.id_like, subset_of: [debian]}", FAIL);
    EXPECT("{fact: os.id_like, disjoint_from: [rhel, suse]}", PASS);
    EXPECT("{fact: os.id_like, disjoint_from: [gnu]}", FAIL);
    EXPECT("{fact: os.id_like, equals: [debian, gnu]}", PASS);
    /* applies_to os matches through ID_LIKE */
    EXPECT("{fact: os.id, equals: ubuntu}", PASS);
    tmproot_write(r2, "/etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n", 0644);
}

/* A fact that is absent (a missing file, an unset key) is null, never an error. */
static void test_absent_facts(void **state)
{
    (void)state;
    EXPECT("{fact: file.mode, path: /etc/none, mode_at_most: \"0777\"}", FAIL);
    EXPECT("{fact: file.mode, path: /etc/none, not_equals: \"0640\"}", PASS);
    EXPECT("{fact: file.exists, path: /etc/none, equals: false}", PASS);
    EXPECT("{fact: keyvalue.number, path: /etc/none, key: X, le: 3}", FAIL);
    EXPECT("{fact: keyvalue.number, path: /etc/none, key: X, not_in: [3]}", PASS);
    EXPECT("{fact: lines.count, path: /etc/none, regex: x, equals: 0}", PASS);
    EXPECT("{fact: file.mode, path: /etc/none, equals: null}", PASS);
}

static void test_logic(void **state)
{
    (void)state;
    EXPECT("{all: [{fact: file.exists, path: /etc/passwd, equals: true},"
           " {fact: file.exists, path: /etc/none, equals: true}]}",
           FAIL);
    EXPECT("{any: [{fact: file.exists, path: /etc/passwd, equals: true},"
           " {fact: file.exists, path: /etc/none, equals: true}]}",
           PASS);
    EXPECT("{not: {fact: file.exists, path: /etc/none, equals: true}}", PASS);
    /* an error poisons all unless something failed, and any unless something passed */
    EXPECT("{all: [{fact: lines.count, path: /etc/binary, regex: x, equals: 0},"
           " {fact: file.exists, path: /etc/none, equals: true}]}",
           FAIL);
    EXPECT("{all: [{fact: lines.count, path: /etc/binary, regex: x, equals: 0},"
           " {fact: file.exists, path: /etc/passwd, equals: true}]}",
           PST_STATUS_ERROR);
    EXPECT("{any: [{fact: lines.count, path: /etc/binary, regex: x, equals: 0},"
           " {fact: file.exists, path: /etc/passwd, equals: true}]}",
           PASS);
    EXPECT("{any: [{fact: lines.count, path: /etc/binary, regex: x, equals: 0},"
           " {fact: file.exists, path: /etc/none, equals: true}]}",
           PST_STATUS_ERROR);
    EXPECT("{not: {fact: lines.count, path: /etc/binary, regex: x, equals: 0}}", PST_STATUS_ERROR);
}

static void test_errors_and_reasons(void **state)
{
    struct outcome o;

    (void)state;
    o = run("{fact: lines.count, path: /etc/binary, regex: x, equals: 0}", NULL, NULL);
    assert_int_equal(o.status, PST_STATUS_ERROR);
    assert_string_equal(o.reason, "read /etc/binary: binary content in a text file");
    o = run("{fact: file.mode, path: /etc/shadow, equals: \"0640\"}",
            "{fact: file.exists, path: /etc/none, equals: true}", NULL);
    assert_int_equal(o.status, PST_STATUS_NOT_APPLICABLE);
    assert_string_equal(o.reason, "file.exists path=/etc/none is false (the recommendation "
                                  "applies when equals true)");
    o = run("{fact: file.mode, path: /etc/shadow, equals: \"0640\"}",
            "{fact: lines.count, path: /etc/binary, regex: x, equals: 0}", NULL);
    assert_int_equal(o.status, PST_STATUS_ERROR);
}

/* "{all: [LEAF, LEAF, ...]}" with N copies of LEAF, into BUF. */
static const char *all_of(char *buf, size_t size, const char *leaf, int n)
{
    size_t len = (size_t)snprintf(buf, size, "{all: [");

    for (int i = 0; i < n; i++) {
        len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "", leaf);
        assert_true(len < size);
    }
    assert_true(len + 3 < size);
    snprintf(buf + len, size - len, "]}");
    return buf;
}

/* Evidence items: what each holds, their bound, the count of those left out. */
static void test_evidence(void **state)
{
    static const char passing[] = "{fact: file.exists, path: /etc/passwd, equals: true}";
    struct pst_config *config = NULL;
    struct pst_policy_set *set = NULL;
    char *dir = tmproot_new();
    char checks[4096], applies[4096];
    struct pst_scan *scan;
    const struct pst_result *r;
    const struct pst_evidence *ev;
    char *text;

    (void)state;
    /* 40 leaves: 32 kept, 8 counted */
    scan = scan_one(all_of(checks, sizeof(checks), passing, 40), NULL, NULL, dir, &set, &config);
    r = &scan->results[0];
    assert_int_equal(r->status, PST_STATUS_PASS);
    assert_int_equal(r->n_evidence, PST_EVIDENCE_MAX);
    assert_int_equal(r->evidence_omitted, 8);
    for (size_t i = 0; i < r->n_evidence; i++) {
        ev = &r->evidence[i];
        assert_ptr_equal(ev->leaf, r->rec->check->children[i]);
        assert_int_equal(ev->outcome, PST_OUTCOME_PASS);
        assert_true(json_is_true(ev->observed));
        assert_null(ev->error);
        assert_null(ev->offending);
    }
    assert_string_equal(pst_outcome_name(r->evidence[0].outcome), "pass");
    assert_string_equal(r->evidence[0].leaf->expected, "equals true");
    pst_scan_free(scan);
    pst_policy_set_free(set);

    /* the applies tree's 33 leaves fill the evidence first; the check's leaf is counted */
    scan =
        scan_one(passing, all_of(applies, sizeof(applies), passing, 33), NULL, dir, &set, &config);
    r = &scan->results[0];
    assert_int_equal(r->status, PST_STATUS_PASS);
    assert_int_equal(r->n_evidence, PST_EVIDENCE_MAX);
    assert_int_equal(r->evidence_omitted, 2);
    assert_ptr_equal(r->evidence[31].leaf, r->rec->applies->children[31]);
    pst_scan_free(scan);
    pst_policy_set_free(set);

    /* an error: its message, no value; a value and the line it was read from; an absent
     * value, null, and the file that does not set it */
    scan = scan_one("{all: [{fact: lines.count, path: /etc/binary, regex: x, equals: 0},"
                    " {fact: keyvalue.value, path: /etc/login.defs, key: ENCRYPT_METHOD,"
                    " equals: SHA512}, {fact: keyvalue.value, path: /etc/login.defs, key: NOPE,"
                    " equals: x}]}",
                    NULL, NULL, dir, &set, &config);
    r = &scan->results[0];
    assert_int_equal(r->status, PST_STATUS_FAIL);
    assert_int_equal(r->n_evidence, 3);
    assert_int_equal(r->evidence_omitted, 0);
    ev = &r->evidence[0];
    assert_int_equal(ev->outcome, PST_OUTCOME_ERROR);
    assert_string_equal(pst_outcome_name(ev->outcome), "error");
    assert_string_equal(ev->error, "read /etc/binary: binary content in a text file");
    assert_null(ev->observed);
    assert_null(ev->source);
    ev = &r->evidence[1];
    assert_int_equal(ev->outcome, PST_OUTCOME_PASS);
    assert_string_equal(json_string_value(ev->observed), "SHA512");
    assert_string_equal(ev->source, "/etc/login.defs:2");
    assert_null(ev->error);
    ev = &r->evidence[2];
    assert_int_equal(ev->outcome, PST_OUTCOME_FAIL);
    assert_string_equal(pst_outcome_name(ev->outcome), "fail");
    assert_true(json_is_null(ev->observed));
    assert_string_equal(ev->source, "/etc/login.defs");
    pst_scan_free(scan);
    pst_policy_set_free(set);

    /* a failed subset_of names the items outside the set; a failed disjoint_from those in it */
    tmproot_write(root, "/etc/os-release", "ID=ubuntu\nID_LIKE=\"debian gnu rhel\"\n", 0644);
    scan = scan_one("{all: [{fact: os.id_like, subset_of: [debian]},"
                    " {fact: os.id_like, disjoint_from: [rhel, gnu, suse]},"
                    " {fact: os.id_like, subset_of: [debian, gnu, rhel]}]}",
                    NULL, NULL, dir, &set, &config);
    r = &scan->results[0];
    assert_int_equal(r->n_evidence, 3);
    text = json_dumps(r->evidence[0].offending, JSON_COMPACT);
    assert_string_equal(text, "[\"gnu\",\"rhel\"]");
    free(text);
    text = json_dumps(r->evidence[1].offending, JSON_COMPACT);
    assert_string_equal(text, "[\"gnu\",\"rhel\"]");
    free(text);
    assert_int_equal(r->evidence[2].outcome, PST_OUTCOME_PASS);
    assert_null(r->evidence[2].offending);
    pst_scan_free(scan);
    pst_policy_set_free(set);
    tmproot_write(root, "/etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n", 0644);
    tmproot_free(dir);
}

static void test_exemptions(void **state)
{
    const char *failing = "{fact: file.exists, path: /etc/none, equals: true}";
    struct outcome o;

    (void)state;
    o = run(failing, NULL, "exemptions: [{recommendation: r, kind: waiver, reason: not here}]\n");
    assert_int_equal(o.status, PST_STATUS_EXEMPT);
    assert_string_equal(o.reason, "not here");
    o = run(failing, NULL,
            "exemptions: [{recommendation: r, kind: mitigated, reason: m, expires: 2999-01-01}]\n");
    assert_int_equal(o.status, PST_STATUS_EXEMPT);
    /* an expired exemption is ignored: the real verdict shows */
    o = run(failing, NULL,
            "exemptions: [{recommendation: r, kind: mitigated, reason: m, expires: 2001-01-01}]\n");
    assert_int_equal(o.status, PST_STATUS_FAIL);
    /* an applies condition that cannot be read: error, unless exempted */
    o = run(failing, "{fact: lines.count, path: /etc/binary, regex: x, equals: 0}",
            "exemptions: [{recommendation: r, kind: waiver, reason: w}]\n");
    assert_int_equal(o.status, PST_STATUS_EXEMPT);
    /* not applicable wins over an exemption */
    o = run(failing, failing, "exemptions: [{recommendation: r, kind: waiver, reason: w}]\n");
    assert_int_equal(o.status, PST_STATUS_NOT_APPLICABLE);
}

static void test_policy_for_other_os(void **state)
{
    struct outcome o;

    (void)state;
    tmproot_write(root, "/etc/os-release", "ID=fedora\n", 0644);
    o = run("{fact: file.exists, path: /etc/passwd, equals: true}", NULL, NULL);
    tmproot_write(root, "/etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n", 0644);
    assert_int_equal(o.status, PST_STATUS_NOT_APPLICABLE);
    assert_string_equal(o.reason, "policy t applies to [\"debian\"]; this host is fedora");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_operators),           cmocka_unit_test(test_lists),
        cmocka_unit_test(test_absent_facts),        cmocka_unit_test(test_logic),
        cmocka_unit_test(test_errors_and_reasons),  cmocka_unit_test(test_exemptions),
        cmocka_unit_test(test_policy_for_other_os), cmocka_unit_test(test_evidence),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
