/* SPDX-License-Identifier: Apache-2.0 */
/* A small YAML document tree built with libyaml, every node keeping its line and column. */
#ifndef PST_YAML_H
#define PST_YAML_H

#include "config/diag.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bounds on what a configuration or policy file may hold. */
#define PST_YAML_MAX_BYTES (4u * 1024u * 1024u)
#define PST_YAML_MAX_DEPTH 64
#define PST_YAML_MAX_NODES 200000

enum pst_ynode_kind { PST_Y_SCALAR, PST_Y_SEQ, PST_Y_MAP };

/*
 * A node. A tree is one block that holds no pointer: a head (struct pst_ytree_head), the
 * nodes in pre-order (the root first), their child references, then the scalars, each
 * ending in NUL. So the cache (ycache.c) stores a block as it is and reads it back as it is,
 * without building anything. Read nodes with pst_ynode_text() and pst_ynode_item().
 */
struct pst_ynode {
    uint8_t kind;  /* enum pst_ynode_kind */
    uint8_t plain; /* PST_Y_SCALAR: written without quotes */
    uint8_t pad[2];
    int32_t line, column; /* 1-based */
    uint32_t n;           /* PST_Y_SEQ: items; PST_Y_MAP: pairs (bounded by PST_YAML_MAX_NODES) */
    uint32_t n_items;     /* nodes held in items (a broken map may end on a lone key) */
    uint32_t off;         /* bytes from this node to its text (scalar) or its child references */
};

/*
 * The head of a tree's block. The counts are the block's; the rest is written when the tree
 * is cached (ycache.c) and is zero in a tree just parsed.
 */
struct pst_ytree_head {
    char magic[8];
    char build[32]; /* POSTURE_VERSION: a tree from another build is a miss */
    uint64_t endian;
    uint64_t dev, ino, size;
    int64_t mtime_sec, mtime_nsec, ctime_sec, ctime_nsec;
    char sha256[64];
    uint32_t n_nodes, n_refs, strings_len;
    uint32_t mapped; /* in memory: 1 when the block is an anonymous mapping, 0 from malloc */
    uint64_t check;  /* XXH3-64 of the image with this field zero: damage, not an adversary */
};

/* The text of scalar NODE. */
static inline const char *pst_ynode_text(const struct pst_ynode *node)
{
    return (const char *)node + node->off;
}

/* Child I (< n_items) of a list or mapping: a mapping's keys are 2i, its values 2i + 1. */
static inline const struct pst_ynode *pst_ynode_item(const struct pst_ynode *node, size_t i)
{
    const uint32_t *refs = (const uint32_t *)(const void *)((const char *)node + node->off);

    return node + refs[i]; /* a reference is the distance from the parent, in nodes */
}

/* Bytes of the block of the tree with head H, head included. */
static inline size_t pst_ytree_bytes(const struct pst_ytree_head *h)
{
    return sizeof(*h) + (size_t)h->n_nodes * sizeof(struct pst_ynode) +
           (size_t)h->n_refs * sizeof(uint32_t) + h->strings_len;
}

/* The root of the tree whose block starts with head H. */
static inline struct pst_ynode *pst_ytree_root(struct pst_ytree_head *h)
{
    return (struct pst_ynode *)(void *)(h + 1);
}

/* The head of the block whose root is ROOT. */
static inline const struct pst_ytree_head *pst_ytree_head_of(const struct pst_ynode *root)
{
    return (const struct pst_ytree_head *)(const void *)root - 1;
}

/*
 * Parses one YAML document from BUF. Anchors, aliases, tags other than the core ones,
 * duplicate mapping keys, more than one document and the bounds above are errors,
 * recorded in DIAG against FILE. Returns the root (caller frees with pst_ynode_free) or
 * NULL when the document is empty or broken (DIAG says why).
 */
struct pst_ynode *pst_yaml_parse(const char *file, const char *buf, size_t len,
                                 struct pst_diag *diag);

/*
 * Reads and parses the YAML file PATH (bounded by PST_YAML_MAX_BYTES). Read errors go to
 * DIAG too. When BYTES is not NULL, the file's bytes are handed over in *bytes / *len
 * (caller frees). Returns the root or NULL.
 */
struct pst_ynode *pst_yaml_load_file(const char *path, struct pst_diag *diag, char **bytes,
                                     size_t *len);

/* Frees a tree from its root (never from another node). */
void pst_ynode_free(struct pst_ynode *node);

/* Value of KEY in mapping MAP, or NULL. */
const struct pst_ynode *pst_ymap_get(const struct pst_ynode *map, const char *key);

/* Value of KEY in MAP when it is of KIND, else NULL (pst_ymap_check reports the mismatch). */
const struct pst_ynode *pst_ymap_get_kind(const struct pst_ynode *map, const char *key,
                                          enum pst_ynode_kind kind);

/* Human name of a node kind ("a mapping"...). */
const char *pst_ynode_kind_name(enum pst_ynode_kind kind);

/* One allowed key of a mapping, for pst_ymap_check(). */
struct pst_ykey {
    const char *name;
    enum pst_ynode_kind kind;
    bool required;
};

/*
 * Checks that NODE (described as WHAT in messages) is a mapping whose keys are all in KEYS,
 * of the declared kinds, with every required key present. Each problem is added to DIAG.
 * Returns true when the mapping may be read further (it is a mapping).
 */
bool pst_ymap_check(struct pst_diag *diag, const char *file, const struct pst_ynode *node,
                    const char *what, const struct pst_ykey *keys, size_t n_keys);

/* Keys a pst_ymap_check_get() call finds in one pass (more are looked up one by one). */
#define PST_YKEYS_MAX 32

/*
 * pst_ymap_check(), that also sets VALUES[k] (N_KEYS entries, may be NULL) to the value of
 * KEYS[k] when the mapping has it with the declared kind, else to NULL.
 */
bool pst_ymap_check_get(struct pst_diag *diag, const char *file, const struct pst_ynode *node,
                        const char *what, const struct pst_ykey *keys, size_t n_keys,
                        const struct pst_ynode **values);

/* Records an error at NODE. */
#define pst_ydiag(diag, file, node, ...)                                                           \
    pst_diag_add((diag), (file), (node)->line, (node)->column, __VA_ARGS__)

#endif
