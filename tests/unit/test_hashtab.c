/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of the hash table: keys by bytes and by address, collisions, growth and the bound. */
#include "helpers.h"

#include "agent/error.h"
#include "agent/hashtab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Puts KEY (a C string) with HASH and returns its entry. */
static struct pst_hashtab_entry *put(struct pst_hashtab *t, uint64_t hash, const char *key)
{
    struct pst_hashtab_entry *e = NULL;

    assert_int_equal(pst_hashtab_put(t, hash, key, strlen(key), &e), PST_OK);
    assert_non_null(e);
    return e;
}

static struct pst_hashtab_entry *find(const struct pst_hashtab *t, uint64_t hash, const char *key)
{
    return pst_hashtab_find(t, hash, key, strlen(key));
}

static void test_empty(void **state)
{
    struct pst_hashtab t = {0};

    (void)state;
    assert_null(find(&t, 0, "a"));
    assert_null(pst_hashtab_find(&t, 0, &t, 0));
    pst_hashtab_release(&t);
    assert_int_equal(t.n, 0);
}

/* A key is its bytes: a copy elsewhere finds the same entry, a prefix does not. */
static void test_keys_by_bytes(void **state)
{
    struct pst_hashtab t = {0};
    char copy[8];
    struct pst_hashtab_entry *e;

    (void)state;
    e = put(&t, pst_hashtab_hash("abc", 3), "abc");
    assert_int_equal(e->value.count, 0); /* a new entry's value is zero */
    e->value.count = 5;
    memcpy(copy, "abc", 4);
    assert_int_equal(pst_hashtab_hash(copy, 3), pst_hashtab_hash("abc", 3));
    e = find(&t, pst_hashtab_hash(copy, 3), copy);
    assert_non_null(e);
    assert_int_equal(e->value.count, 5);
    /* putting it again gives the same entry, not a second one */
    assert_ptr_equal(put(&t, pst_hashtab_hash(copy, 3), copy), e);
    assert_int_equal(t.n, 1);
    assert_null(find(&t, pst_hashtab_hash("ab", 2), "ab"));
    assert_null(find(&t, pst_hashtab_hash("abcd", 4), "abcd"));
    /* a key known to be missing is added without a search, and found after */
    assert_int_equal(pst_hashtab_add(&t, pst_hashtab_hash("ab", 2), "ab", 2, &e), PST_OK);
    e->value.count = 2;
    assert_int_equal(t.n, 2);
    assert_int_equal(find(&t, pst_hashtab_hash("ab", 2), "ab")->value.count, 2);
    assert_int_equal(find(&t, pst_hashtab_hash("abc", 3), "abc")->value.count, 5);
    pst_hashtab_release(&t);
}

/*
 * Keys that share a hash, and a hash at the end of the table so that their run wraps around
 * to its start: every key keeps its own entry, keys of the same length are told apart by
 * their bytes, and a key of another length by its length.
 */
static void test_collisions(void **state)
{
    static const char *const keys[] = {"one", "two", "six", "ten", "eleven", "o", "on", "twelve"};
    struct pst_hashtab t = {0};
    int values[PST_COUNT(keys)];

    (void)state;
    for (uint64_t hash = 7; hash != 0; hash = hash == 7 ? 63 : 0) {
        for (size_t i = 0; i < PST_COUNT(keys); i++) {
            put(&t, hash, keys[i])->value.ptr = &values[i];
        }
        assert_int_equal(t.n, PST_COUNT(keys));
        assert_int_equal(t.cap, 64);
        for (size_t i = 0; i < PST_COUNT(keys); i++) {
            struct pst_hashtab_entry *e = find(&t, hash, keys[i]);
            assert_non_null(e);
            assert_ptr_equal(e->value.ptr, &values[i]);
            assert_string_equal(e->key, keys[i]);
            /* the same bytes under another hash are another key */
            assert_null(find(&t, hash + 1, keys[i]));
        }
        assert_null(find(&t, hash, "tw"));
        assert_null(find(&t, hash, "owt"));
        if (hash == 63) {
            /* the run wrapped: entries 63, then 0 to 6 */
            assert_non_null(t.entries[63].key);
            assert_non_null(t.entries[0].key);
            assert_non_null(t.entries[6].key);
            assert_null(t.entries[7].key);
        }
        pst_hashtab_release(&t);
    }
}

/* A key of length 0 is the address: two objects with the same bytes and hash are two keys. */
static void test_keys_by_address(void **state)
{
    struct pst_hashtab t = {0};
    const int a = 1, b = 1;
    struct pst_hashtab_entry *e = NULL;

    (void)state;
    assert_int_equal(pst_hashtab_put(&t, 9, &a, 0, &e), PST_OK);
    e->value.ptr = (void *)&a;
    assert_int_equal(pst_hashtab_put(&t, 9, &b, 0, &e), PST_OK);
    assert_null(e->value.ptr);
    e->value.ptr = (void *)&b;
    assert_int_equal(t.n, 2);
    assert_ptr_equal(pst_hashtab_find(&t, 9, &a, 0)->value.ptr, &a);
    assert_ptr_equal(pst_hashtab_find(&t, 9, &b, 0)->value.ptr, &b);
    assert_int_equal(pst_hashtab_hash_address(&a), pst_hashtab_hash_address(&a));
    assert_int_not_equal(pst_hashtab_hash_address(&a), pst_hashtab_hash_address(&b));
    pst_hashtab_release(&t);
}

/* Many keys: the table grows by doubling, stays at most three quarters full, finds all. */
static void test_growth(void **state)
{
    enum { N = 20000 };
    struct pst_hashtab t = {0};
    char(*keys)[16] = calloc(N, sizeof(*keys));
    size_t cap = 0;
    unsigned grew = 0;

    (void)state;
    assert_non_null(keys);
    for (size_t i = 0; i < N; i++) {
        snprintf(keys[i], sizeof(keys[i]), "key-%zu", i);
        put(&t, pst_hashtab_hash(keys[i], strlen(keys[i])), keys[i])->value.count = i + 1;
        assert_int_equal(t.n, i + 1);
        assert_true(t.n * 4 <= t.cap * 3);
        assert_int_equal(t.cap & (t.cap - 1), 0);
        if (t.cap != cap) {
            grew++;
            cap = t.cap;
        }
    }
    assert_int_equal(t.cap, 32768); /* 64 doubled nine times */
    assert_int_equal(grew, 10);
    for (size_t i = 0; i < N; i++) {
        struct pst_hashtab_entry *e = find(&t, pst_hashtab_hash(keys[i], strlen(keys[i])), keys[i]);
        assert_non_null(e);
        assert_int_equal(e->value.count, i + 1);
    }
    size_t used = 0;
    for (size_t i = 0; i < t.cap; i++) {
        used += t.entries[i].key != NULL;
    }
    assert_int_equal(used, N);
    assert_null(find(&t, pst_hashtab_hash("key-20000", 9), "key-20000"));
    pst_hashtab_release(&t);
    free(keys);
}

/* A table at its max refuses a new key, and still gives the keys it has. */
static void test_bound(void **state)
{
    static const char *const keys[] = {"a", "b", "c", "d", "e", "f"};
    struct pst_hashtab t = {.max = 5};
    struct pst_hashtab_entry *e = NULL;

    (void)state;
    for (size_t i = 0; i < 5; i++) {
        put(&t, pst_hashtab_hash(keys[i], 1), keys[i]);
    }
    assert_int_equal(pst_hashtab_put(&t, pst_hashtab_hash("f", 1), "f", 1, &e), PST_ETOOBIG);
    assert_null(e);
    assert_int_equal(pst_hashtab_add(&t, pst_hashtab_hash("f", 1), "f", 1, &e), PST_ETOOBIG);
    assert_null(e);
    assert_int_equal(t.n, 5);
    assert_non_null(put(&t, pst_hashtab_hash("c", 1), "c"));
    assert_null(find(&t, pst_hashtab_hash("f", 1), "f"));
    pst_hashtab_release(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),      cmocka_unit_test(test_keys_by_bytes),
        cmocka_unit_test(test_collisions), cmocka_unit_test(test_keys_by_address),
        cmocka_unit_test(test_growth),     cmocka_unit_test(test_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
