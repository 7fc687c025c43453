/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of the YAML tree: positions, scalars' style, and every refusal with its location. */
#include "helpers.h"

#include "config/yaml.h"

#include <stdio.h>
#include <string.h>

static struct pst_ynode *parse(const char *text, struct pst_diag *d)
{
    return pst_yaml_parse("t.yaml", text, strlen(text), d);
}

static void expect_error(const char *text, const char *message)
{
    struct pst_diag d = {0};
    struct pst_ynode *root = parse(text, &d);

    assert_null(root);
    assert_int_equal(d.count, 1);
    assert_string_equal(d.messages[0], message);
    pst_diag_release(&d);
}

static void test_tree_and_positions(void **state)
{
    struct pst_diag d = {0};
    struct pst_ynode *root = parse("a: 1\nlist:\n  - x\n  - \"0640\"\nmap: {k: no}\nempty:\n", &d);
    const struct pst_ynode *n;

    (void)state;
    assert_non_null(root);
    assert_int_equal(d.count, 0);
    assert_int_equal(root->kind, PST_Y_MAP);
    assert_int_equal(root->n, 4);
    n = pst_ymap_get(root, "list");
    assert_int_equal(n->kind, PST_Y_SEQ);
    assert_int_equal(n->n, 2);
    assert_int_equal(pst_ynode_item(n, 1)->line, 4);
    assert_int_equal(pst_ynode_item(n, 1)->column, 5);
    assert_string_equal(pst_ynode_text(pst_ynode_item(n, 1)), "0640");
    assert_false(pst_ynode_item(n, 1)->plain);
    assert_true(pst_ynode_item(n, 0)->plain);
    /* plain "no" stays text: types are decided by the schema, not by YAML 1.1 guesses */
    assert_string_equal(pst_ynode_text(pst_ymap_get(pst_ymap_get(root, "map"), "k")), "no");
    assert_string_equal(pst_ynode_text(pst_ymap_get(root, "empty")), "");
    assert_null(pst_ymap_get_kind(root, "a", PST_Y_MAP));
    assert_non_null(pst_ymap_get_kind(root, "a", PST_Y_SCALAR));
    pst_ynode_free(root);
}

static void test_refusals(void **state)
{
    (void)state;
    expect_error("a: 1\nb: 2\na: 3\n", "t.yaml:3:1: duplicate key 'a' (first at line 1)");
    expect_error("a: &x 1\nb: *x\n", "t.yaml:1:4: anchors and aliases are not supported");
    expect_error("a: !!python/object 1\n",
                 "t.yaml:1:4: unsupported tag 'tag:yaml.org,2002:python/object'");
    expect_error("a: 1\n---\nb: 2\n", "t.yaml:2:1: only one YAML document is allowed");
    expect_error("", "t.yaml: empty file");
    expect_error("a: [1, 2\n", "t.yaml:2:1: YAML syntax error: did not find expected ',' or ']' "
                               "while parsing a flow sequence");
    expect_error("? [a]\n: 1\n", "t.yaml:1:3: a mapping key must be a scalar");
}

static void test_binary_and_depth(void **state)
{
    struct pst_diag d = {0};
    char deep[400];
    size_t n = 0;

    (void)state;
    assert_null(pst_yaml_parse("b.yaml", "a: 1\0b", 6, &d));
    assert_string_equal(d.messages[0], "b.yaml: binary content (NUL byte), not a YAML file");
    pst_diag_release(&d);
    for (int i = 0; i < 70; i++) {
        deep[n++] = '[';
    }
    for (int i = 0; i < 70; i++) {
        deep[n++] = ']';
    }
    deep[n] = '\0';
    assert_null(parse(deep, &d));
    assert_string_equal(d.messages[0], "t.yaml:1:65: nesting deeper than 64 levels");
    pst_diag_release(&d);
}

static void test_schema_check(void **state)
{
    static const struct pst_ykey keys[] = {
        {"id", PST_Y_SCALAR, true},
        {"tags", PST_Y_SEQ, false},
    };
    struct pst_diag d = {0};
    struct pst_ynode *root = parse("tags: x\nextra: 1\n", &d);

    (void)state;
    assert_true(pst_ymap_check(&d, "t.yaml", root, "a thing", keys, 2));
    assert_int_equal(d.count, 3);
    assert_string_equal(d.messages[0],
                        "t.yaml:1:7: 'tags' in a thing must be a list, not a scalar");
    assert_string_equal(d.messages[1], "t.yaml:2:1: unknown key 'extra' in a thing");
    assert_string_equal(d.messages[2], "t.yaml:1:1: a thing is missing required key 'id'");
    pst_diag_release(&d);
    pst_ynode_free(root);
}

/* pst_ymap_check_get hands back each key's value when it is of the declared kind. */
static void test_check_get_values(void **state)
{
    static const struct pst_ykey keys[] = {
        {"id", PST_Y_SCALAR, true},
        {"tags", PST_Y_SEQ, false},
        {"meta", PST_Y_MAP, false},
        {"note", PST_Y_SCALAR, false},
    };
    struct pst_diag d = {0};
    /* keys in another order than the table's, one of the wrong kind, one missing */
    struct pst_ynode *root = parse("meta: x\ntags: [a, b]\nid: seven\n", &d);
    const struct pst_ynode *v[4] = {root, root, root, root};

    (void)state;
    assert_true(pst_ymap_check_get(&d, "t.yaml", root, "a thing", keys, 4, v));
    assert_string_equal(pst_ynode_text(v[0]), "seven");
    assert_int_equal(v[1]->kind, PST_Y_SEQ);
    assert_string_equal(pst_ynode_text(pst_ynode_item(v[1], 1)), "b");
    assert_null(v[2]); /* a scalar where a mapping belongs: reported, not handed back */
    assert_null(v[3]);
    assert_int_equal(d.count, 1);
    assert_string_equal(d.messages[0],
                        "t.yaml:1:7: 'meta' in a thing must be a mapping, not a scalar");
    pst_diag_release(&d);

    /* not a mapping: every value NULL */
    struct pst_ynode *list = parse("[1]\n", &d);
    v[0] = v[1] = list;
    assert_false(pst_ymap_check_get(&d, "t.yaml", list, "a thing", keys, 4, v));
    assert_null(v[0]);
    assert_null(v[1]);
    assert_string_equal(d.messages[0], "t.yaml:1:1: a thing must be a mapping, not a list");
    pst_diag_release(&d);
    pst_ynode_free(list);
    pst_ynode_free(root);
}

/* Duplicate keys are found in a large mapping (a hash table past 16 keys) as in a small one. */
static void test_duplicate_in_large_mapping(void **state)
{
    char text[4096];
    size_t n = 0;

    (void)state;
    for (int i = 0; i < 40; i++) {
        n += (size_t)snprintf(text + n, sizeof(text) - n, "k%d: %d\n", i, i);
    }
    /* k3 (line 4, before the table) and k30 (line 31, after) again */
    snprintf(text + n, sizeof(text) - n, "k3: again\n");
    expect_error(text, "t.yaml:41:1: duplicate key 'k3' (first at line 4)");
    snprintf(text + n, sizeof(text) - n, "k30: again\n");
    expect_error(text, "t.yaml:41:1: duplicate key 'k30' (first at line 31)");

    struct pst_diag d = {0};
    text[n] = '\0';
    struct pst_ynode *root = parse(text, &d);
    assert_non_null(root);
    assert_int_equal(root->n, 40);
    assert_string_equal(pst_ynode_text(pst_ymap_get(root, "k39")), "39");
    assert_int_equal(pst_ymap_get(root, "k17")->line, 18);
    pst_diag_release(&d);
    pst_ynode_free(root);

    /*
     * Two large mappings open at once, with the same keys: each has its own table, the inner
     * one's keys are no duplicates of the outer's, and the outer still finds its own after the
     * inner closed. Long keys: their texts outgrow a block of the tables' key texts.
     */
    static const char pad[] =
        "-a-long-key-that-fills-blocks-quickly-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    char big[16384];
    n = 0;
    for (int i = 0; i < 20; i++) {
        n += (size_t)snprintf(big + n, sizeof(big) - n, "k%d%s: %d\n", i, pad, i);
    }
    n += (size_t)snprintf(big + n, sizeof(big) - n, "inner:\n");
    for (int i = 0; i < 40; i++) {
        n += (size_t)snprintf(big + n, sizeof(big) - n, "  k%d%s: %d\n", i, pad, i);
    }
    snprintf(big + n, sizeof(big) - n, "  k25%s: again\n", pad);
    snprintf(text, sizeof(text), "t.yaml:62:3: duplicate key 'k25%s' (first at line 47)", pad);
    expect_error(big, text);
    snprintf(big + n, sizeof(big) - n, "k19%s: again\n", pad);
    snprintf(text, sizeof(text), "t.yaml:62:1: duplicate key 'k19%s' (first at line 20)", pad);
    expect_error(big, text);
    snprintf(big + n, sizeof(big) - n, "k20%s: new\n", pad);
    root = parse(big, &d);
    assert_non_null(root);
    assert_int_equal(root->n, 22);
    assert_int_equal(pst_ymap_get(root, "inner")->n, 40);
    pst_diag_release(&d);
    pst_ynode_free(root);
}

/*
 * A block grows past the room first given: more nodes than one in 16 bytes, and scalars
 * longer than their text ("\L" is 2 bytes of text, 3 of UTF-8).
 */
static void test_growth(void **state)
{
    enum { ITEMS = 3000 };
    static char text[3 * ITEMS + 16];
    size_t n = 0;
    struct pst_diag d = {0};
    struct pst_ynode *root;

    (void)state;
    text[n++] = '[';
    for (int i = 0; i < ITEMS; i++) {
        text[n++] = 'x';
        text[n++] = ',';
    }
    text[n - 1] = ']';
    text[n] = '\0';
    root = parse(text, &d);
    assert_non_null(root);
    assert_int_equal(root->n, ITEMS);
    assert_string_equal(pst_ynode_text(pst_ynode_item(root, ITEMS - 1)), "x");
    assert_int_equal(pst_ynode_item(root, ITEMS - 1)->column, 2 * ITEMS);
    pst_ynode_free(root);

    n = 0;
    text[n++] = '"';
    for (int i = 0; i < ITEMS; i++) {
        text[n++] = '\\';
        text[n++] = 'L';
    }
    text[n++] = '"';
    text[n] = '\0';
    root = parse(text, &d);
    assert_non_null(root);
    assert_int_equal(strlen(pst_ynode_text(root)), 3 * ITEMS);
    assert_memory_equal(pst_ynode_text(root), "\xe2\x80\xa8\xe2\x80\xa8", 6);
    assert_int_equal(d.count, 0);
    pst_ynode_free(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tree_and_positions),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_binary_and_depth),
        cmocka_unit_test(test_schema_check),
        cmocka_unit_test(test_check_get_values),
        cmocka_unit_test(test_duplicate_in_large_mapping),
        cmocka_unit_test(test_growth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
