/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of strict policy loading: the model built, and every error reported in one run. */
#include "helpers.h"

#include "agent/error.h"
#include "config/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char good_policy[] =
    "policy:\n"
    "  id: test-policy\n"
    "  version: 3\n"
    "  title: Test\n"
    "  applies_to: {os: [debian]}\n"
    "parameters:\n"
    "  max_days: 90\n"
    "  methods: [SHA512]\n"
    "controls:\n"
    "  - {id: access, title: Access, max_score: 4, mcsb: [PA-7]}\n"
    "  - {id: config, title: Config, max_score: 2}\n"
    "recommendations:\n"
    "  - id: shadow-mode\n"
    "    control: access\n"
    "    title: shadow\n"
    "    severity: high\n"
    "    rationale: r\n"
    "    remediation: m\n"
    "    references: {cis-debian12: \"7.1.5\"}\n"
    "    applies: {fact: file.exists, path: /etc/shadow, equals: yes}\n"
    "    check:\n"
    "      all:\n"
    "        - {fact: file.mode, path: /etc/shadow, mode_at_most: 0640}\n"
    "        - any:\n"
    "          - {fact: file.group, path: /etc/shadow, in: [root, shadow]}\n"
    "          - not: {fact: file.gid, path: /etc/shadow, gt: 0}\n"
    "  - id: max-days\n"
    "    control: config\n"
    "    title: t\n"
    "    severity: low\n"
    "    rationale: r\n"
    "    remediation: m\n"
    "    check: {fact: keyvalue.number, path: /etc/login.defs, key: PASS_MAX_DAYS, le: $max_days}\n"
    "  - id: methods\n"
    "    control: config\n"
    "    title: t\n"
    "    severity: info\n"
    "    rationale: r\n"
    "    remediation: m\n"
    "    check: {fact: keyvalue.value, path: /etc/login.defs, key: ENCRYPT_METHOD, in: $methods}\n";

struct fixture {
    char *dir;
    char path[512];
};

static const char *write_policy(struct fixture *f, const char *name, const char *text)
{
    if (f->dir == NULL) {
        f->dir = tmproot_new();
    }
    tmproot_write(f->dir, name, text, 0644);
    snprintf(f->path, sizeof(f->path), "%s%s", f->dir, name);
    return f->path;
}

static void test_loads_model(void **state)
{
    struct fixture f = {0};
    const char *path = write_policy(&f, "/p.yaml", good_policy);
    struct pst_policy_set *set = NULL;
    struct pst_diag d = {0};
    const struct pst_recommendation *rec;

    (void)state;
    assert_int_equal(pst_policy_load(&path, 1, NULL, &set, &d), PST_OK);
    assert_int_equal(d.count, 0);
    assert_int_equal(set->n_policies, 1);
    assert_string_equal(set->policies[0]->id, "test-policy");
    assert_int_equal(set->policies[0]->version, 3);
    assert_int_equal(strlen(set->policies[0]->sha256), 64);
    assert_int_equal(set->n_controls, 2);
    assert_int_equal(set->controls[0]->max_score, 4);
    assert_int_equal(set->n_recommendations, 3);
    rec = pst_policy_find_recommendation(set, "shadow-mode");
    assert_non_null(rec);
    assert_int_equal(rec->severity, PST_SEV_HIGH);
    assert_ptr_equal(rec->control, pst_policy_find_control(set, "access"));
    assert_int_equal(rec->check->kind, PST_CHECK_ALL);
    assert_int_equal(rec->check->n, 2);
    assert_int_equal(rec->check->children[0]->op, PST_OP_MODE_AT_MOST);
    assert_string_equal(json_string_value(rec->check->children[0]->operand), "0640");
    assert_int_equal(rec->check->children[1]->kind, PST_CHECK_ANY);
    assert_int_equal(rec->check->children[1]->children[1]->kind, PST_CHECK_NOT);
    /* "yes" on a boolean field is true; the same word on a string field would stay text */
    assert_true(json_is_true(rec->applies->operand));
    rec = pst_policy_find_recommendation(set, "max-days");
    assert_int_equal(json_integer_value(rec->check->operand), 90);
    assert_string_equal(rec->check->parameter, "max_days");
    rec = pst_policy_find_recommendation(set, "methods");
    assert_string_equal(json_string_value(json_array_get(rec->check->operand, 0)), "SHA512");
    /* each leaf's expected side as the reports show it: a string bare, other values as JSON */
    assert_string_equal(rec->check->expected, "in [\"SHA512\"] ($methods)");
    rec = pst_policy_find_recommendation(set, "max-days");
    assert_string_equal(rec->check->expected, "le 90 ($max_days)");
    rec = pst_policy_find_recommendation(set, "shadow-mode");
    assert_string_equal(rec->applies->expected, "equals true");
    assert_string_equal(rec->check->children[0]->expected, "mode_at_most 0640");
    assert_string_equal(rec->check->children[1]->children[0]->expected, "in [\"root\",\"shadow\"]");
    assert_string_equal(rec->check->children[1]->children[1]->children[0]->expected, "gt 0");
    assert_null(rec->check->expected); /* a group has none */
    pst_policy_set_free(set);
    tmproot_free(f.dir);
}

static void test_parameter_override(void **state)
{
    struct fixture f = {0};
    const char *path = write_policy(&f, "/p.yaml", good_policy);
    char cpath[512];
    struct pst_config *config = NULL;
    struct pst_policy_set *set = NULL;
    struct pst_diag d = {0};

    (void)state;
    tmproot_write(f.dir, "/posture.yaml", "parameters: {max_days: 30}\n", 0644);
    snprintf(cpath, sizeof(cpath), "%s/posture.yaml", f.dir);
    assert_int_equal(pst_config_load(cpath, &config, &d), PST_OK);
    assert_int_equal(pst_policy_load(&path, 1, config, &set, &d), PST_OK);
    assert_int_equal(
        json_integer_value(pst_policy_find_recommendation(set, "max-days")->check->operand), 30);
    assert_string_equal(pst_policy_find_recommendation(set, "max-days")->check->expected,
                        "le 30 ($max_days)");
    pst_policy_set_free(set);
    pst_config_free(config);

    /* an override of the wrong type is reported where the override is written */
    tmproot_write(f.dir, "/posture.yaml", "parameters:\n  max_days: ninety\n  nosuch: 1\n", 0644);
    assert_int_equal(pst_config_load(cpath, &config, &d), PST_OK);
    assert_int_equal(pst_policy_load(&path, 1, config, &set, &d), PST_EPARSE);
    assert_null(set);
    assert_int_equal(d.count, 2);
    char want[1024];
    snprintf(want, sizeof(want), "%s:2:13: le: 'ninety' is not an integer (parameter $max_days)",
             cpath);
    assert_string_equal(d.messages[0], want);
    snprintf(want, sizeof(want), "%s:3:3: no loaded policy declares parameter 'nosuch'", cpath);
    assert_string_equal(d.messages[1], want);
    pst_diag_release(&d);
    pst_config_free(config);
    tmproot_free(f.dir);
}

/* Every kind of mistake, each at its FILE:LINE:COLUMN, all in one run. */
static void test_all_errors_reported(void **state)
{
    static const char bad[] =
        "policy: {id: Bad_Id, version: 1, title: t, colour: red}\n"                         /* 1 */
        "parameters: {n: 3}\n"                                                              /* 2 */
        "controls:\n"                                                                       /* 3 */
        "  - {id: c, title: C, max_score: lots}\n"                                          /* 4 */
        "  - {id: c, title: Again, max_score: 1}\n"                                         /* 5 */
        "recommendations:\n"                                                                /* 6 */
        "  - {id: r1, control: nowhere, title: t, severity: urgent, rationale: r,\n"        /* 7 */
        "     remediation: m, check: {fact: nosuch.field, equals: 1}}\n"                    /* 8 */
        "  - {id: r1, control: c, title: t, severity: low, rationale: r, remediation: m,\n" /* 9 */
        "     check: {fact: file.colour, path: /x, equals: 1}}\n"                           /* 10 */
        "  - {id: r3, control: c, title: t, severity: low, rationale: r, remediation: m,\n" /* 11 */
        "     check: {fact: file.mode, path: /x, frob: 1, mode_at_most: rwx}}\n"            /* 12 */
        "  - {id: r4, control: c, title: t, severity: low, rationale: r, remediation: m,\n" /* 13 */
        "     check: {fact: lines.count, path: /x, regex: \"a(\", le: $missing}}\n"         /* 14 */
        "  - {id: r5, control: c, title: t, severity: low, rationale: r, remediation: m,\n" /* 15 */
        "     check: {fact: file.uid, path: /x, lt: 1, gt: 0}}\n"                           /* 16 */
        "  - {id: r6, control: c, title: t, severity: low, rationale: r, remediation: m,\n" /* 17 */
        "     check: {fact: file.uid, lt: 1}}\n"                                            /* 18 */
        "  - {id: r7, control: c, title: t, severity: low, rationale: r, remediation: m,\n" /* 19 */
        "     check: {fact: keyvalue.value, path: /x, key: K, separator: comma, matches: \"[\"}}\n"
        "  - {id: r8, control: c, title: t, severity: low, rationale: r,\n"                 /* 21 */
        "     check: {all: []}}\n"                                                          /* 22 */
        "  - {id: r9, control: c, title: t, severity: low, rationale: r, remediation: m,\n" /* 23 */
        "     check: {fact: file.mode, path: /x, le: 3}}\n";                                /* 24 */
    static const char *const want[] = {
        ":1:44: unknown key 'colour' in the policy header",
        ":1:14: policy id 'Bad_Id' must match [a-z0-9-]+",
        ":4:34: max_score must be an integer from 0 to 1000000, not 'lots'",
        ":5:10: control 'c' is already declared in FILE with another title or max_score",
        ":7:52: severity must be critical, high, medium, low or info, not 'urgent'",
        ":8:36: unknown probe 'nosuch'",
        ":9:10: duplicate recommendation id 'r1'",
        ":10:20: probe 'file' has no field 'colour'",
        ":12:41: 'frob' is neither an operator nor an argument of probe 'file'",
        ":12:64: mode_at_most: 'rwx' is not a mode",
        ":14:50: regex 'a(' does not compile: Unmatched ( or \\(",
        ":14:60: unknown parameter '$missing' (declare it under parameters)",
        ":16:47: a leaf takes exactly one operator ('lt' and 'gt')",
        ":18:13: probe 'file' needs argument 'path'",
        ":20:65: argument 'separator' of probe 'keyvalue' cannot be 'comma' (one of: auto, "
        "space, equals)",
        ":20:81: regex '[' does not compile: Invalid regular expression",
        ":21:5: a recommendation is missing required key 'remediation'",
        ":22:19: 'all' takes a non-empty list of checks",
        ":24:41: operator 'le' does not apply to mode field 'file.mode'",
        /* control references resolve once every file is loaded */
        ":7:23: recommendation names no existing control 'nowhere'",
    };
    struct fixture f = {0};
    const char *path = write_policy(&f, "/bad.yaml", bad);
    struct pst_policy_set *set = NULL;
    struct pst_diag d = {0};

    (void)state;
    assert_int_equal(pst_policy_load(&path, 1, NULL, &set, &d), PST_EPARSE);
    assert_null(set);
    expect_diag(&d, path, want, PST_COUNT(want));
    pst_diag_release(&d);
    tmproot_free(f.dir);
}

static void test_directory_and_duplicates_across_files(void **state)
{
    struct fixture f = {0};
    struct pst_policy_set *set = NULL;
    struct pst_diag d = {0};
    const char *dir;
    char want[2048];

    (void)state;
    write_policy(&f, "/pol/a.yaml", good_policy);
    write_policy(&f, "/pol/notes.txt", "not a policy");
    write_policy(&f, "/pol/b.yml", good_policy);
    char dirpath[512];
    snprintf(dirpath, sizeof(dirpath), "%s/pol", f.dir);
    dir = dirpath;
    assert_int_equal(pst_policy_load(&dir, 1, NULL, &set, &d), PST_EPARSE);
    snprintf(want, sizeof(want),
             "%s/b.yml:2:7: duplicate policy id 'test-policy' (also in %s/a.yaml)", dirpath,
             dirpath);
    assert_string_equal(d.messages[0], want);
    /* the policy id and the 3 recommendations repeat; repeating a control as declared is fine */
    assert_int_equal(d.count, 4);
    pst_diag_release(&d);

    snprintf(dirpath, sizeof(dirpath), "%s/empty", f.dir);
    tmproot_mkdir(f.dir, "/empty", 0755);
    assert_int_equal(pst_policy_load(&dir, 1, NULL, &set, &d), PST_EPARSE);
    snprintf(want, sizeof(want), "%s: no policy files (*.yaml, *.yml) in this directory", dirpath);
    assert_string_equal(d.messages[0], want);
    pst_diag_release(&d);

    snprintf(dirpath, sizeof(dirpath), "%s/missing", f.dir);
    assert_int_equal(pst_policy_load(&dir, 1, NULL, &set, &d), PST_EPARSE);
    snprintf(want, sizeof(want), "%s: cannot read policy: no such file or directory", dirpath);
    assert_string_equal(d.messages[0], want);
    pst_diag_release(&d);
    tmproot_free(f.dir);
}

/* Parameters are whole operands; "$$" writes a literal '$'; paths are absolute. */
static void test_operand_rules(void **state)
{
    static const char text[] =
        "policy: {id: p, version: 1, title: T}\n"
        "parameters: {q: [[1], {a: 1}], l: [a, b]}\n"
        "controls: [{id: c, title: C, max_score: 1}]\n"
        "recommendations:\n"
        "  - {id: r1, control: c, title: t, severity: low, rationale: r, remediation: m,\n"
        "     check: {fact: keyvalue.value, path: /etc/shadow, key: x, equals: \"$$6$\"}}\n"
        "  - {id: r2, control: c, title: t, severity: low, rationale: r, remediation: m,\n"
        "     check: {fact: keyvalue.value, path: etc/shadow, key: x, in: [$l]}}\n"
        "  - {id: r3, control: c, title: t, severity: low, rationale: r, remediation: m,\n"
        "     check: {fact: package.installed, name: \"\", equals: true}}\n"
        "  - {id: r4, control: c, title: t, severity: low, rationale: r, remediation: m,\n"
        "     check: {fact: keyvalue.value, path: /x, key: x, in: $l}}\n";
    static const char *const want[] = {
        ":2:17: parameter 'q' must be a scalar or a list of scalars",
        ":8:42: argument 'path' of probe 'keyvalue' must be an absolute path, not 'etc/shadow'",
        ":8:67: in: a parameter stands for a whole operand or argument, not a list item",
        ":10:45: argument 'name' of probe 'package' cannot be empty",
    };
    struct fixture f = {0};
    const char *path = write_policy(&f, "/p.yaml", text);
    struct pst_policy_set *set = NULL;
    struct pst_diag d = {0};

    (void)state;
    assert_int_equal(pst_policy_load(&path, 1, NULL, &set, &d), PST_EPARSE);
    expect_diag(&d, path, want, PST_COUNT(want));
    pst_diag_release(&d);

    path = write_policy(
        &f, "/ok.yaml",
        "policy: {id: p, version: 1, title: T}\n"
        "controls: [{id: c, title: C, max_score: 1}]\n"
        "recommendations:\n"
        "  - {id: r1, control: c, title: t, severity: low, rationale: r,\n"
        "     remediation: m, check: {fact: keyvalue.value, path: /etc/shadow,\n"
        "     key: x, in: [\"$$6$\", \"$$y$\"]}}\n"
        "  - {id: r2, control: c, title: t, severity: low, rationale: r,\n"
        "     remediation: m, check: {any: [\n"
        "       {fact: keyvalue.value, path: /x, key: x, equals: null},\n"
        "       {fact: keyvalue.value, path: /x, key: x, equals: 'a \"b\\\\'},\n"
        "       {fact: keyvalue.value, path: /x, key: x, not_in: [\"a\\\"b\", \u00fc]}]}}\n");
    assert_int_equal(pst_policy_load(&path, 1, NULL, &set, &d), PST_OK);
    assert_string_equal(
        json_string_value(json_array_get(set->recommendations[0]->check->operand, 0)), "$6$");
    assert_null(set->recommendations[0]->check->parameter);
    assert_string_equal(set->recommendations[0]->check->expected, "in [\"$6$\",\"$y$\"]");
    assert_string_equal(set->recommendations[1]->check->children[0]->expected, "equals null");
    assert_string_equal(set->recommendations[1]->check->children[1]->expected, "equals a \"b\\\\");
    assert_string_equal(set->recommendations[1]->check->children[2]->expected,
                        "not_in [\"a\\\"b\",\"\u00fc\"]");
    pst_policy_set_free(set);
    tmproot_free(f.dir);
}

/* A policy that only adds recommendations uses the controls another file declares,
 * whatever the order of the files, and may repeat a control exactly, not change it. */
static void test_extending_policy(void **state)
{
    static const char extra[] =
        "policy: {id: extra, version: 1, title: Extra}\n"
        "controls: [{id: access, title: Access, max_score: 4}]\n"
        "recommendations:\n"
        "  - {id: extra-one, control: config, title: t, severity: low, rationale: r,\n"
        "     remediation: m, check: {fact: file.exists, path: /etc/x, equals: true}}\n";
    struct fixture f = {0};
    struct pst_policy_set *set = NULL;
    struct pst_diag d = {0};
    char dirpath[512], want[2048];
    const char *dir = dirpath;

    (void)state;
    write_policy(&f, "/pol/aaa-extra.yaml", extra);
    write_policy(&f, "/pol/base.yaml", good_policy);
    snprintf(dirpath, sizeof(dirpath), "%s/pol", f.dir);
    assert_int_equal(pst_policy_load(&dir, 1, NULL, &set, &d), PST_OK);
    assert_int_equal(set->n_controls, 2);
    assert_ptr_equal(pst_policy_find_recommendation(set, "extra-one")->control,
                     pst_policy_find_control(set, "config"));
    pst_policy_set_free(set);

    write_policy(&f, "/pol/zzz.yaml",
                 "policy: {id: z, version: 1, title: Z}\n"
                 "controls: [{id: access, title: Access, max_score: 10}]\n"
                 "recommendations: []\n");
    assert_int_equal(pst_policy_load(&dir, 1, NULL, &set, &d), PST_EPARSE);
    snprintf(want, sizeof(want),
             "%s/zzz.yaml:2:17: control 'access' is already declared in %s/aaa-extra.yaml with "
             "another title or max_score",
             dirpath, dirpath);
    assert_int_equal(d.count, 1);
    assert_string_equal(d.messages[0], want);
    pst_diag_release(&d);
    tmproot_free(f.dir);
}

/* A recommendation id given three times: the third is reported once for each earlier one. */
static void test_repeated_ids(void **state)
{
    static const char text[] =
        "policy: {id: p, version: 1, title: P}\n"                                          /* 1 */
        "controls: [{id: c, title: C, max_score: 1}]\n"                                    /* 2 */
        "recommendations:\n"                                                               /* 3 */
        "  - {id: r, control: c, title: t, severity: low, rationale: r, remediation: m,\n" /* 4 */
        "     check: {fact: file.exists, path: /x, equals: true}}\n"                       /* 5 */
        "  - {id: s, control: c, title: t, severity: low, rationale: r, remediation: m,\n" /* 6 */
        "     check: {fact: file.exists, path: /x, equals: true}}\n"                       /* 7 */
        "  - {id: r, control: c, title: t, severity: low, rationale: r, remediation: m,\n" /* 8 */
        "     check: {fact: file.exists, path: /x, equals: true}}\n"                       /* 9 */
        "  - {id: r, control: c, title: t, severity: low, rationale: r, remediation: m,\n" /* 10 */
        "     check: {fact: file.exists, path: /x, equals: true}}\n"                       /* 11 */
        "  - {id: R, control: c, title: t, severity: low, rationale: r, remediation: m,\n" /* 12 */
        "     check: {fact: file.exists, path: /x, equals: true}}\n"                       /* 13 */
        "  - {id: R, control: c, title: t, severity: low, rationale: r, remediation: m,\n" /* 14 */
        "     check: {fact: file.exists, path: /x, equals: true}}\n";                      /* 15 */
    static const char *const want[] = {
        ":8:10: duplicate recommendation id 'r'",
        ":10:10: duplicate recommendation id 'r'",
        ":10:10: duplicate recommendation id 'r'",
        /* an id that is not valid is reported as such, not as a duplicate */
        ":12:10: recommendation id 'R' must match [a-z0-9-]+",
        ":14:10: recommendation id 'R' must match [a-z0-9-]+",
    };
    struct fixture f = {0};
    const char *path = write_policy(&f, "/ids.yaml", text);
    struct pst_policy_set *set = NULL;
    struct pst_diag d = {0};

    (void)state;
    assert_int_equal(pst_policy_load(&path, 1, NULL, &set, &d), PST_EPARSE);
    expect_diag(&d, path, want, PST_COUNT(want));
    pst_diag_release(&d);
    tmproot_free(f.dir);
}

/*
 * Many recommendations, some with texts longer than a text block: every id, title and text
 * comes back whole after the file's tree is gone, and every id is found.
 */
static void test_many_long_texts(void **state)
{
    enum { RECS = 300, LONG = 40000 };
    size_t cap = RECS * 300 + 3 * LONG + 1024, n = 0;
    char *text = malloc(cap), *big = malloc(LONG + 1);
    struct fixture f = {0};
    struct pst_policy_set *set = NULL;
    struct pst_diag d = {0};
    const char *path;
    char id[32];

    (void)state;
    assert_non_null(text);
    assert_non_null(big);
    memset(big, 'w', LONG);
    big[LONG] = '\0';
    n += (size_t)snprintf(text + n, cap - n,
                          "policy: {id: p, version: 1, title: P}\n"
                          "controls: [{id: c, title: C, max_score: 1}]\n"
                          "recommendations:\n");
    for (int i = 0; i < RECS; i++) {
        n += (size_t)snprintf(text + n, cap - n,
                              "  - {id: rec-%d, control: c, title: title %d, severity: low,\n"
                              "     rationale: %s, remediation: fix %d,\n"
                              "     check: {fact: file.exists, path: /x%d, equals: true}}\n",
                              i, i, i % 100 == 7 ? big : "why", i, i);
    }
    path = write_policy(&f, "/many.yaml", text);
    assert_int_equal(pst_policy_load(&path, 1, NULL, &set, &d), PST_OK);
    assert_int_equal(set->n_recommendations, RECS);
    for (int i = 0; i < RECS; i++) {
        char title[32], fix[32];
        snprintf(id, sizeof(id), "rec-%d", i);
        snprintf(title, sizeof(title), "title %d", i);
        snprintf(fix, sizeof(fix), "fix %d", i);
        const struct pst_recommendation *rec = pst_policy_find_recommendation(set, id);
        assert_non_null(rec);
        assert_ptr_equal(rec, set->recommendations[i]);
        assert_string_equal(rec->title, title);
        assert_string_equal(rec->remediation, fix);
        assert_string_equal(rec->rationale, i % 100 == 7 ? big : "why");
        assert_string_equal(rec->check->fact, "file.exists");
    }
    assert_string_equal(set->policies[0]->path, path);
    pst_policy_set_free(set);
    free(text);
    free(big);
    tmproot_free(f.dir);
}

/* The registry is sorted (pst_probe_find searches it by halves); every name is found. */
static void test_probe_lookups(void **state)
{
    static const char *const absent[] = {"", "a", "zzz", "fil", "files", "file.mode", "FILE"};

    (void)state;
    for (size_t i = 0; i < pst_probes_count; i++) {
        const struct pst_probe *p = pst_probes[i];
        if (i > 0) {
            assert_true(strcmp(pst_probes[i - 1]->name, p->name) < 0);
        }
        assert_ptr_equal(pst_probe_find(p->name), p);
        for (size_t a = 0; a < p->n_args; a++) {
            assert_ptr_equal(pst_probe_find_arg(p, p->args[a].name), &p->args[a]);
        }
        for (size_t k = 0; k < p->n_fields; k++) {
            assert_ptr_equal(pst_probe_find_field(p, p->fields[k].name), &p->fields[k]);
        }
        assert_null(pst_probe_find_arg(p, ""));
        assert_null(pst_probe_find_field(p, ""));
        assert_null(pst_probe_find_field(p, "no-such-field"));
    }
    for (size_t i = 0; i < PST_COUNT(absent); i++) {
        assert_null(pst_probe_find(absent[i]));
    }
}

/* The shipped baseline loads cleanly and has what the foundation promises. */
static void test_default_baseline(void **state)
{
    char path[1024];
    const char *p = path;
    struct pst_policy_set *set = NULL;
    struct pst_diag d = {0};

    (void)state;
    snprintf(path, sizeof(path), "%s/../../config/policies", getenv("POSTURE_TEST_DATA"));
    assert_int_equal(pst_policy_load(&p, 1, NULL, &set, &d), PST_OK);
    assert_int_equal(set->n_controls, 10);
    assert_true(set->n_recommendations >= 30);
    long total = 0;
    for (size_t i = 0; i < set->n_controls; i++) {
        total += set->controls[i]->max_score;
    }
    assert_int_equal(total, 43);
    for (size_t i = 0; i < set->n_recommendations; i++) {
        const struct pst_recommendation *rec = set->recommendations[i];
        assert_non_null(json_object_get(rec->references, "mcsb"));
        assert_true(strlen(rec->rationale) > 0 && strlen(rec->remediation) > 0);
    }
    pst_policy_set_free(set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loads_model),
        cmocka_unit_test(test_parameter_override),
        cmocka_unit_test(test_all_errors_reported),
        cmocka_unit_test(test_directory_and_duplicates_across_files),
        cmocka_unit_test(test_operand_rules),
        cmocka_unit_test(test_extending_policy),
        cmocka_unit_test(test_default_baseline),
        cmocka_unit_test(test_repeated_ids),
        cmocka_unit_test(test_many_long_texts),
        cmocka_unit_test(test_probe_lookups),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
