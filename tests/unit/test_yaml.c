/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of the YAML tree: positions, scalars' style, and every refusal with its location. */
#include "helpers.h"

#include "config/yaml.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tree_and_positions),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_binary_and_depth),
        cmocka_unit_test(test_schema_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
