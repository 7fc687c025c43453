/* SPDX-License-Identifier: Apache-2.0 */
/* Memory taken in large blocks and given back all at once: many small, long-lived pieces. */
#ifndef PST_BLOCKS_H
#define PST_BLOCKS_H

#include <stddef.h>

struct pst_block;

/* What a block costs beyond its data: its own header and malloc's. */
#define PST_BLOCKS_OVERHEAD 40

/* A chain of blocks of about BLOCK_BYTES each (zero-initialise, then set block_bytes). */
struct pst_blocks {
    struct pst_block *head; /* the block being filled first */
    size_t block_bytes;
};

/*
 * N bytes aligned to ALIGN (a power of two) from BLOCKS; NULL when out of memory. A piece
 * larger than a block gets a block of its own, and the block being filled keeps its room.
 */
void *pst_blocks_alloc(struct pst_blocks *blocks, size_t n, size_t align);

/* A copy of the N bytes at S with a NUL after them, from BLOCKS; NULL when out of memory. */
char *pst_blocks_text(struct pst_blocks *blocks, const char *s, size_t n);

/* Frees every block; BLOCKS may be used again. */
void pst_blocks_release(struct pst_blocks *blocks);

#endif
