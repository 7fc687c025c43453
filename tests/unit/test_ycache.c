/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of the policy tree cache: exact round trips, misses, and damaged images refused. */
#include "helpers.h"

#include "agent/error.h"
#include "config/ycache.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char sha[] = "98e641f0b8d44c7ee7e3901e2608c4b15de1441f48931e40627452195ceea9f0";

/* Asserts that two trees are equal node for node, positions and scalar style included. */
static void expect_same_tree(const struct pst_ynode *a, const struct pst_ynode *b)
{
    assert_int_equal(a->kind, b->kind);
    assert_int_equal(a->line, b->line);
    assert_int_equal(a->column, b->column);
    assert_int_equal(a->plain, b->plain);
    assert_int_equal(a->n, b->n);
    assert_int_equal(a->n_items, b->n_items);
    if (a->kind == PST_Y_SCALAR) {
        assert_string_equal(pst_ynode_text(a), pst_ynode_text(b));
    }
    for (size_t i = 0; i < a->n_items; i++) {
        expect_same_tree(pst_ynode_item(a, i), pst_ynode_item(b, i));
    }
}

static struct pst_ynode *parse(const char *text)
{
    struct pst_diag d = {0};
    struct pst_ynode *root = pst_yaml_parse("t.yaml", text, strlen(text), &d);

    assert_non_null(root);
    pst_diag_release(&d);
    return root;
}

static struct stat fake_stat(void)
{
    struct stat st;

    memset(&st, 0, sizeof(st));
    st.st_dev = 2049;
    st.st_ino = 1234567;
    st.st_size = 4096;
    st.st_mtim.tv_sec = 1700000000;
    st.st_mtim.tv_nsec = 123456789;
    st.st_ctim.tv_sec = 1700000001;
    st.st_ctim.tv_nsec = 987654321;
    return st;
}

static void round_trip(const struct pst_ynode *root)
{
    struct stat st = fake_stat();
    struct pst_ynode *back = NULL;
    char *image = NULL, got[65];
    size_t len = 0;

    assert_int_equal(pst_ycache_encode(root, &st, sha, &image, &len), PST_OK);
    assert_int_equal(pst_ycache_decode(image, len, &st, &back, got), PST_OK);
    assert_ptr_not_equal(back, root);
    assert_string_equal(got, sha);
    expect_same_tree(root, back);
    pst_ynode_free(back);
    free(image);
}

static void test_round_trip_small(void **state)
{
    struct pst_ynode *root =
        parse("a: 1\nlist:\n  - x\n  - \"0640\"\nmap: {k: no, e: ''}\nempty: []\nnone: {}\n"
              "text: |\n  two\n  lines\n");

    (void)state;
    round_trip(root);
    pst_ynode_free(root);
}

/* The shipped policies, every one of them, come back exactly as libyaml built them. */
static void test_round_trip_shipped_policies(void **state)
{
    static const char *const files[] = {"debian-baseline.yaml", "debian-filesystem.yaml",
                                        "debian-updates.yaml"};
    const char *data = getenv("POSTURE_TEST_DATA");

    (void)state;
    assert_non_null(data);
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        struct pst_diag d = {0};
        char path[512];
        struct pst_ynode *root;
        snprintf(path, sizeof(path), "%s/../../config/policies/%s", data, files[i]);
        root = pst_yaml_load_file(path, &d, NULL, NULL);
        assert_non_null(root);
        round_trip(root);
        pst_ynode_free(root);
        pst_diag_release(&d);
    }
}

/* Any change of the file's identity, size or times is a miss, not a stale tree. */
static void test_key_mismatch_is_a_miss(void **state)
{
    struct pst_ynode *root = parse("a: b\n"), *back = NULL;
    struct stat st = fake_stat(), other;
    char *image = NULL, got[65];
    size_t len = 0;

    (void)state;
    assert_int_equal(pst_ycache_encode(root, &st, sha, &image, &len), PST_OK);
    for (int field = 0; field < 7; field++) {
        other = st;
        switch (field) {
        case 0:
            other.st_dev++;
            break;
        case 1:
            other.st_ino++;
            break;
        case 2:
            other.st_size++;
            break;
        case 3:
            other.st_mtim.tv_sec++;
            break;
        case 4:
            other.st_mtim.tv_nsec++;
            break;
        case 5:
            other.st_ctim.tv_sec++;
            break;
        default:
            other.st_ctim.tv_nsec++;
            break;
        }
        assert_int_equal(pst_ycache_decode(image, len, &other, &back, got), PST_ENOENT);
        assert_null(back);
    }
    free(image);
    pst_ynode_free(root);
}

/* Every truncation and every flipped byte is refused: the checksum covers the whole image. */
static void test_damage_refused(void **state)
{
    struct pst_ynode *root = parse("k: [a, b]\nm: {x: 1}\n"), *back = NULL;
    struct stat st = fake_stat();
    char *image = NULL, got[65];
    size_t len = 0;

    (void)state;
    assert_int_equal(pst_ycache_encode(root, &st, sha, &image, &len), PST_OK);
    for (size_t cut = 0; cut < len; cut++) {
        assert_int_not_equal(pst_ycache_decode(image, cut, &st, &back, got), PST_OK);
        assert_null(back);
    }
    for (size_t i = 0; i < len; i++) {
        image[i] ^= 0x20;
        assert_int_not_equal(pst_ycache_decode(image, len, &st, &back, got), PST_OK);
        assert_null(back);
        image[i] ^= 0x20;
    }
    assert_int_equal(pst_ycache_decode(image, len, &st, &back, got), PST_OK);
    pst_ynode_free(back);
    free(image);
    pst_ynode_free(root);
}

/*
 * An image with a valid checksum but a broken structure: "a: b" is a mapping (node 0) and
 * two scalars (nodes 1, 2), 24 bytes a node, then two 4-byte child references, then "a\0b\0".
 */
#define NODE 24
enum { KIND = 0, PLAIN = 1, PAD = 2, LINE = 4, N = 12, N_ITEMS = 16, OFF = 20 };

static void expect_broken(size_t off, uint32_t value, bool byte)
{
    struct pst_ynode *root = parse("a: b\n"), *back = NULL;
    struct stat st = fake_stat();
    char *image = NULL, got[65];
    size_t len = 0;

    assert_int_equal(pst_ycache_encode(root, &st, sha, &image, &len), PST_OK);
    size_t header = len - 3 * NODE - 2 * 4 - 4;
    assert_int_equal(header, sizeof(struct pst_ytree_head));
    if (byte) {
        image[header + off] = (char)value;
    } else {
        memcpy(image + header + off, &value, sizeof(value));
    }
    assert_true(pst_ycache_seal(image, len));
    assert_int_equal(pst_ycache_decode(image, len, &st, &back, got), PST_EPARSE);
    assert_null(back);
    free(image);
    pst_ynode_free(root);
}

static void test_structure_refused(void **state)
{
    size_t refs = 3 * NODE;

    (void)state;
    expect_broken(KIND, 7, true);                    /* no such kind */
    expect_broken(KIND, PST_Y_SCALAR, true);         /* a scalar with pairs */
    expect_broken(PLAIN, 2, true);                   /* not a boolean */
    expect_broken(PAD, 1, true);                     /* padding that is not zero */
    expect_broken(LINE, UINT32_MAX, false);          /* a negative line */
    expect_broken(NODE + KIND, PST_Y_MAP, true);     /* a mapping's key that is not a scalar */
    expect_broken(NODE + OFF, 4, false);             /* a scalar's text among the nodes */
    expect_broken(NODE + OFF, 2 * NODE + 12, false); /* a scalar's text past the strings */
    expect_broken(OFF, 0, false);                    /* references among the nodes */
    expect_broken(OFF, refs + 2, false);             /* references not aligned */
    expect_broken(OFF, refs + 4, false);             /* references past the end */
    expect_broken(N, 2, false);                      /* pairs and items disagree */
    expect_broken(N_ITEMS, 3, false);                /* more children than references */
    expect_broken(2 * NODE + N_ITEMS, 1, false);     /* a scalar with children */
    expect_broken(refs, 0, false);                   /* a node as its own child */
    expect_broken(refs, 2, false);                   /* node 2 twice, node 1 never reached */
    expect_broken(refs + 4, 3, false);               /* no such node */
    expect_broken(3 * NODE + 8 + 3, 'x', true);      /* the strings do not end in NUL */
}

/* A tree that says it is an anonymous mapping, and is not, is refused, not unmapped. */
static void test_mapped_flag_refused(void **state)
{
    struct pst_ynode *root = parse("a: b\n"), *back = NULL;
    struct stat st = fake_stat();
    char *image = NULL, got[65];
    size_t len = 0;
    uint32_t one = 1;

    (void)state;
    assert_int_equal(pst_ycache_encode(root, &st, sha, &image, &len), PST_OK);
    memcpy(image + offsetof(struct pst_ytree_head, mapped), &one, sizeof(one));
    assert_true(pst_ycache_seal(image, len));
    assert_int_equal(pst_ycache_decode(image, len, &st, &back, got), PST_EPARSE);
    assert_null(back);
    free(image);
    pst_ynode_free(root);
}

/*
 * The sealed image of a chain of N lists with the scalar "x" at the bottom, written by hand
 * (the parser stops at its bound). *LEN is its size.
 */
static char *chain_image(uint32_t n, size_t *len)
{
    struct pst_ytree_head h = {.n_nodes = n + 1, .n_refs = n, .strings_len = 2};
    size_t refs = (size_t)(n + 1) * sizeof(struct pst_ynode);
    char *image;

    memcpy(h.sha256, sha, sizeof(h.sha256));
    *len = pst_ytree_bytes(&h);
    image = calloc(1, *len);
    assert_non_null(image);
    memcpy(image, &h, sizeof(h));
    for (uint32_t i = 0; i <= n; i++) {
        struct pst_ynode node = {.kind = PST_Y_SEQ, .line = 1, .column = 1, .n = 1, .n_items = 1};
        uint32_t step = 1;
        size_t pos = (size_t)i * sizeof(node);
        if (i < n) {
            node.off = (uint32_t)(refs + i * sizeof(step) - pos);
            memcpy(image + sizeof(h) + refs + i * sizeof(step), &step, sizeof(step));
        } else {
            node = (struct pst_ynode){.kind = PST_Y_SCALAR, .line = 1, .column = 1};
            node.off = (uint32_t)(refs + n * sizeof(step) - pos);
        }
        memcpy(image + sizeof(h) + pos, &node, sizeof(node));
    }
    memcpy(image + *len - 2, "x", 2);
    assert_true(pst_ycache_seal(image, *len));
    return image;
}

/* As deep as the parser allows comes back; one level deeper is refused. */
static void test_depth_bound(void **state)
{
    struct pst_ynode *back = NULL;
    char *image, got[65];
    size_t len = 0;

    (void)state;
    image = chain_image(PST_YAML_MAX_DEPTH, &len);
    assert_int_equal(pst_ycache_decode(image, len, NULL, &back, got), PST_OK);
    assert_int_equal(pst_ytree_head_of(back)->n_nodes, PST_YAML_MAX_DEPTH + 1);
    round_trip(back);
    pst_ynode_free(back);
    free(image);
    back = NULL;
    image = chain_image(PST_YAML_MAX_DEPTH + 1, &len);
    assert_int_equal(pst_ycache_decode(image, len, NULL, &back, got), PST_EPARSE);
    assert_null(back);
    free(image);
}

/* The store and load pair on a real directory, with the trust rules of the cache directory. */
static void test_store_and_load(void **state)
{
    char *dir = tmproot_new(), cache[512], policy[512], got[65];
    struct pst_ynode *root = parse("p: [1, 2]\n"), *back = NULL;
    struct stat st;

    (void)state;
    snprintf(cache, sizeof(cache), "%s/cache", dir);
    snprintf(policy, sizeof(policy), "%s/p.yaml", dir);
    tmproot_write(dir, "/p.yaml", "p: [1, 2]\n", 0644);
    assert_int_equal(stat(policy, &st), 0);
    assert_int_equal(pst_ycache_load(cache, policy, &st, &back, got), PST_ENOENT);
    assert_int_equal(pst_ycache_store(cache, policy, &st, root, sha), PST_OK);
    assert_int_equal(pst_ycache_load(cache, policy, &st, &back, got), PST_OK);
    expect_same_tree(root, back);
    pst_ynode_free(back);
    back = NULL;

    /* a cache directory that others may write is not trusted, for reading or writing */
    assert_int_equal(chmod(cache, 0777), 0);
    assert_int_equal(pst_ycache_load(cache, policy, &st, &back, got), PST_EACCES);
    assert_int_equal(pst_ycache_store(cache, policy, &st, root, sha), PST_EACCES);
    assert_int_equal(chmod(cache, 0755), 0);

    /* no state directory: no cache is created */
    snprintf(cache, sizeof(cache), "%s/missing/cache", dir);
    assert_int_equal(pst_ycache_store(cache, policy, &st, root, sha), PST_ENOENT);
    assert_null(back);
    pst_ynode_free(root);
    tmproot_free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_small),
        cmocka_unit_test(test_round_trip_shipped_policies),
        cmocka_unit_test(test_key_mismatch_is_a_miss),
        cmocka_unit_test(test_damage_refused),
        cmocka_unit_test(test_structure_refused),
        cmocka_unit_test(test_mapped_flag_refused),
        cmocka_unit_test(test_depth_bound),
        cmocka_unit_test(test_store_and_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
