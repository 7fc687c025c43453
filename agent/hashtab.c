/* SPDX-License-Identifier: Apache-2.0 */
/* Open-addressing hash tables over keys the caller keeps (agent/hashtab.h). */
#include "agent/hashtab.h"

#include "agent/error.h"

#include <stdlib.h>

/* The capacity of a table's first entries. */
#define FIRST_CAP 64

/* The empty entry where an entry of HASH goes in ENTRIES[CAP] (which has room). */
static struct pst_hashtab_entry *free_entry(struct pst_hashtab_entry *entries, size_t cap,
                                            uint64_t hash)
{
    size_t mask = cap - 1;
    size_t i = hash & mask;

    while (entries[i].key != NULL) {
        i = (i + 1) & mask;
    }
    return &entries[i];
}

/* Doubles TABLE's capacity (or makes its first entries). 0 or PST_ENOMEM. */
static int grow(struct pst_hashtab *table)
{
    size_t cap = table->cap ? table->cap * 2 : FIRST_CAP;
    struct pst_hashtab_entry *entries = calloc(cap, sizeof(*entries));

    if (entries == NULL) {
        return PST_ENOMEM;
    }
    for (size_t i = 0; i < table->cap; i++) {
        if (table->entries[i].key != NULL) {
            *free_entry(entries, cap, table->entries[i].hash) = table->entries[i];
        }
    }
    free(table->entries);
    table->entries = entries;
    table->cap = cap;
    return PST_OK;
}

int pst_hashtab_add(struct pst_hashtab *table, uint64_t hash, const void *key, size_t len,
                    struct pst_hashtab_entry **entry)
{
    size_t max = table->max != 0 ? table->max : PST_HASHTAB_MAX_ENTRIES;
    struct pst_hashtab_entry *e;
    int rc;

    *entry = NULL;
    if (table->n >= max) {
        return PST_ETOOBIG;
    }
    if ((table->n + 1) * 4 > table->cap * 3 && (rc = grow(table)) != PST_OK) {
        return rc;
    }
    e = free_entry(table->entries, table->cap, hash);
    *e = (struct pst_hashtab_entry){.hash = hash, .key = key, .len = len};
    table->n++;
    *entry = e;
    return PST_OK;
}

int pst_hashtab_put(struct pst_hashtab *table, uint64_t hash, const void *key, size_t len,
                    struct pst_hashtab_entry **entry)
{
    *entry = pst_hashtab_find(table, hash, key, len);
    return *entry != NULL ? PST_OK : pst_hashtab_add(table, hash, key, len, entry);
}

void pst_hashtab_release(struct pst_hashtab *table)
{
    free(table->entries);
    table->entries = NULL;
    table->cap = 0;
    table->n = 0;
}
