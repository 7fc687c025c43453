/* SPDX-License-Identifier: Apache-2.0 */
/* Open-addressing hash tables over keys the caller keeps: ids, probe call keys, objects. */
#ifndef PST_HASHTAB_H
#define PST_HASHTAB_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <xxhash.h>

/* The most entries a table holds unless its max says fewer. */
#define PST_HASHTAB_MAX_ENTRIES ((size_t)1 << 24)

/*
 * One entry. Its key is LEN bytes at KEY, which the caller keeps for as long as the table;
 * a key of length 0 is the address KEY itself (an object's identity, not its bytes). An
 * empty entry has no key. The value is the caller's: a pointer or a count.
 */
struct pst_hashtab_entry {
    uint64_t hash;
    const void *key;
    size_t len;
    union {
        void *ptr;
        size_t count;
    } value;
};

/*
 * A table: zero-initialise it (max 0 means PST_HASHTAB_MAX_ENTRIES). Its entries are
 * entries[0..cap), cap a power of two or 0, at most three quarters of them in use; a caller
 * may walk them, skipping those without a key. Linear probing: a lookup that finds its key
 * within a few entries costs a hash and a comparison or two.
 */
struct pst_hashtab {
    struct pst_hashtab_entry *entries;
    size_t cap, n;
    size_t max;
};

/* The hash of the LEN bytes at KEY (XXH3). */
static inline uint64_t pst_hashtab_hash(const void *key, size_t len)
{
    return XXH3_64bits(key, len);
}

/* The hash of an address, for a key of length 0: a multiplication mixed down to the low
 * bits the table indexes with. */
static inline uint64_t pst_hashtab_hash_address(const void *key)
{
    uint64_t h = (uint64_t)(uintptr_t)key * UINT64_C(0x9e3779b97f4a7c15);

    return h ^ (h >> 32);
}

/*
 * The entry of KEY (LEN bytes, HASH its hash as the caller always computes it for that
 * key), or NULL when TABLE has none. Inline: the tables are looked up on every probe call,
 * and a caller's constant LEN makes the comparison a word's.
 */
static inline struct pst_hashtab_entry *pst_hashtab_find(const struct pst_hashtab *table,
                                                         uint64_t hash, const void *key, size_t len)
{
    size_t mask = table->cap - 1;

    if (table->cap == 0) {
        return NULL;
    }
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        struct pst_hashtab_entry *e = &table->entries[i];
        if (e->key == NULL) {
            return NULL;
        }
        if (e->hash == hash && e->len == len &&
            (e->key == key || (len > 0 && memcmp(e->key, key, len) == 0))) {
            return e;
        }
    }
}

/*
 * The entry of KEY in TABLE, added with a zero value when there was none: *ENTRY, valid until
 * the next entry is added (a table that grows moves its entries). Returns 0, PST_ENOMEM, or
 * PST_ETOOBIG when the table holds its max already; then *ENTRY is NULL.
 */
int pst_hashtab_put(struct pst_hashtab *table, uint64_t hash, const void *key, size_t len,
                    struct pst_hashtab_entry **entry);

/* As pst_hashtab_put, for a KEY that TABLE is known not to have (just looked up): no search. */
int pst_hashtab_add(struct pst_hashtab *table, uint64_t hash, const void *key, size_t len,
                    struct pst_hashtab_entry **entry);

/* Frees TABLE's entries (not the keys or values); TABLE is empty and may be used again. */
void pst_hashtab_release(struct pst_hashtab *table);

#endif
