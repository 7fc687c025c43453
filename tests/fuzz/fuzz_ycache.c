/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the policy tree cache decoder, past its checksum, and its round trip. */
#include "agent/error.h"
#include "config/ycache.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Walks a decoded tree as the policy loader would; returns its node count. */
static size_t walk(const struct pst_ynode *node)
{
    size_t count = 1;

    if (node->kind == PST_Y_SCALAR && strlen(pst_ynode_text(node)) > PST_YCACHE_MAX_BYTES) {
        __builtin_trap();
    }
    if (node->kind == PST_Y_MAP) {
        for (size_t i = 0; i < node->n; i++) {
            (void)pst_ymap_get(node, pst_ynode_text(pst_ynode_item(node, 2 * i)));
        }
    }
    for (size_t i = 0; i < node->n_items; i++) {
        count += walk(pst_ynode_item(node, i));
    }
    return count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pst_ynode *root = NULL, *again = NULL;
    struct stat st;
    char sha[65], sha2[65], *image = malloc(size ? size : 1), *re = NULL;
    size_t relen = 0;

    if (image == NULL) {
        return 0;
    }
    memcpy(image, data, size);
    /* the checksum would stop almost every input: stamp it so the structure is reached */
    if (pst_ycache_seal(image, size) && pst_ycache_decode(image, size, NULL, &root, sha) == 0) {
        size_t nodes = walk(root);
        /* what decodes, encodes back to an image that decodes to the same tree */
        memset(&st, 0, sizeof(st));
        if (pst_ycache_encode(root, &st, sha, &re, &relen) != PST_OK ||
            pst_ycache_decode(re, relen, &st, &again, sha2) != PST_OK || walk(again) != nodes ||
            strcmp(sha, sha2) != 0) {
            __builtin_trap();
        }
    }
    pst_ynode_free(again);
    pst_ynode_free(root);
    free(re);
    free(image);
    return 0;
}
