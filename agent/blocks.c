/* SPDX-License-Identifier: Apache-2.0 */
/* Memory taken in large blocks and given back all at once (agent/blocks.h). */
#include "agent/blocks.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct pst_block {
    struct pst_block *next;
    size_t used, size;
    unsigned char data[];
};

_Static_assert(sizeof(struct pst_block) + 16 == PST_BLOCKS_OVERHEAD, "a block's overhead");

void *pst_blocks_alloc(struct pst_blocks *blocks, size_t n, size_t align)
{
    struct pst_block *b = blocks->head;
    uintptr_t at;

    if (b != NULL) {
        at = ((uintptr_t)(b->data + b->used) + align - 1) & ~(uintptr_t)(align - 1);
        if (at + n <= (uintptr_t)(b->data + b->size)) {
            b->used = at + n - (uintptr_t)b->data;
            return (void *)at;
        }
    }
    if (n > SIZE_MAX / 2) {
        return NULL;
    }
    size_t size = n + align > blocks->block_bytes ? n + align : blocks->block_bytes;
    b = malloc(sizeof(*b) + size);
    if (b == NULL) {
        return NULL;
    }
    b->size = size;
    if (size > blocks->block_bytes && blocks->head != NULL) {
        /* a large piece alone in its block: the current block's room stays in use */
        b->next = blocks->head->next;
        blocks->head->next = b;
    } else {
        b->next = blocks->head;
        blocks->head = b;
    }
    at = ((uintptr_t)b->data + align - 1) & ~(uintptr_t)(align - 1);
    b->used = at + n - (uintptr_t)b->data;
    return (void *)at;
}

char *pst_blocks_text(struct pst_blocks *blocks, const char *s, size_t n)
{
    char *copy = n < SIZE_MAX ? pst_blocks_alloc(blocks, n + 1, 1) : NULL;

    if (copy != NULL) {
        memcpy(copy, s, n);
        copy[n] = '\0';
    }
    return copy;
}

void pst_blocks_release(struct pst_blocks *blocks)
{
    while (blocks->head != NULL) {
        struct pst_block *next = blocks->head->next;
        free(blocks->head);
        blocks->head = next;
    }
}
