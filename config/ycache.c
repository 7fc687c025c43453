/* SPDX-License-Identifier: Apache-2.0 */
/* A cache of parsed policy files: the YAML tree and the file's SHA-256, kept beside the state. */
#include "config/ycache.h"

#include "agent/error.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <mbedtls/sha256.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

/*
 * The image, in this machine's byte order (a cache is never shared between machines):
 * a header, the nodes in pre-order, the child references, then the scalars, each ending in
 * NUL. Bump the format number whenever the tree that yaml.c builds changes meaning.
 */
#define FORMAT "PSTYC003"
#define ENDIAN_MARK UINT64_C(0x0102030405060708)
#define NO_SCALAR UINT32_MAX

struct image_header {
    char magic[8];
    char build[32]; /* POSTURE_VERSION: a tree from another build is a miss */
    uint64_t endian;
    uint64_t dev, ino, size;
    int64_t mtime_sec, mtime_nsec, ctime_sec, ctime_nsec;
    char sha256[64];
    uint32_t n_nodes, n_refs, strings_len, pad;
    uint64_t check; /* XXH3-64 of the image with this field zero: damage, not an adversary */
};

struct image_node {
    uint8_t kind, plain, pad[2];
    uint32_t line, column;
    uint32_t scalar; /* offset in the scalars, or NO_SCALAR */
    uint32_t n, n_items;
    uint32_t first; /* index of the first child reference */
};

static void header_key(struct image_header *h, const struct stat *st)
{
    h->dev = (uint64_t)st->st_dev;
    h->ino = (uint64_t)st->st_ino;
    h->size = (uint64_t)st->st_size;
    h->mtime_sec = (int64_t)st->st_mtim.tv_sec;
    h->mtime_nsec = (int64_t)st->st_mtim.tv_nsec;
    h->ctime_sec = (int64_t)st->st_ctim.tv_sec;
    h->ctime_nsec = (int64_t)st->st_ctim.tv_nsec;
}

static void header_identity(struct image_header *h)
{
    memcpy(h->magic, FORMAT, sizeof(h->magic));
    snprintf(h->build, sizeof(h->build), "%s", POSTURE_VERSION);
    h->endian = ENDIAN_MARK;
}

struct encoder {
    struct image_node *nodes;
    uint32_t *refs;
    char *strings;
    size_t n_nodes, n_refs, strings_len;
};

/* Counts what ROOT needs; false when it passes a bound. */
static bool measure(const struct pst_ynode *node, struct encoder *e)
{
    e->n_nodes++;
    e->n_refs += node->n_items;
    if (node->kind == PST_Y_SCALAR) {
        e->strings_len += strlen(node->scalar) + 1;
    }
    if (e->n_nodes > PST_YAML_MAX_NODES || e->strings_len > PST_YCACHE_MAX_BYTES) {
        return false;
    }
    for (size_t i = 0; i < node->n_items; i++) {
        if (!measure(node->items[i], e)) {
            return false;
        }
    }
    return true;
}

/* Writes NODE and its subtree in pre-order; returns NODE's index. */
static uint32_t emit(const struct pst_ynode *node, struct encoder *e)
{
    uint32_t index = (uint32_t)e->n_nodes++;
    struct image_node *out = &e->nodes[index];

    memset(out, 0, sizeof(*out));
    out->kind = (uint8_t)node->kind;
    out->plain = node->plain ? 1 : 0;
    out->line = node->line > 0 ? (uint32_t)node->line : 0;
    out->column = node->column > 0 ? (uint32_t)node->column : 0;
    out->scalar = NO_SCALAR;
    if (node->kind == PST_Y_SCALAR) {
        size_t len = strlen(node->scalar) + 1;
        out->scalar = (uint32_t)e->strings_len;
        memcpy(e->strings + e->strings_len, node->scalar, len);
        e->strings_len += len;
    }
    out->n = (uint32_t)node->n;
    out->n_items = (uint32_t)node->n_items;
    out->first = (uint32_t)e->n_refs;
    e->n_refs += node->n_items;
    for (size_t i = 0; i < node->n_items; i++) {
        e->refs[out->first + i] = emit(node->items[i], e);
    }
    return index;
}

/*
 * The image's checksum, against damage (a torn write, a bad sector). xxHash's XXH3 reads the
 * 780 KB image of the baseline in a tenth of the instructions zlib's CRC-32 took, and
 * libxxhash is a fraction of zlib's size in memory. The image is trusted only as far as its
 * directory's ownership and mode say (see pst_ycache_load), so no keyed hash is needed.
 */
static uint64_t image_check(const char *buf, size_t len)
{
    struct image_header h;
    XXH3_state_t *state = XXH3_createState();
    uint64_t sum = 0; /* no state (out of memory): a sum that never matches a sealed image */

    memcpy(&h, buf, sizeof(h));
    h.check = 0;
    if (state != NULL && XXH3_64bits_reset(state) == XXH_OK &&
        XXH3_64bits_update(state, &h, sizeof(h)) == XXH_OK &&
        XXH3_64bits_update(state, buf + sizeof(h), len - sizeof(h)) == XXH_OK) {
        sum = (uint64_t)XXH3_64bits_digest(state);
    }
    XXH3_freeState(state);
    return sum;
}

int pst_ycache_encode(const struct pst_ynode *root, const struct stat *st, const char *sha256,
                      char **out, size_t *len)
{
    struct encoder e = {0};
    struct image_header h;
    size_t total;
    char *buf;

    *out = NULL;
    *len = 0;
    if (!measure(root, &e)) {
        return PST_ETOOBIG;
    }
    total = sizeof(h) + e.n_nodes * sizeof(struct image_node) + e.n_refs * sizeof(uint32_t) +
            e.strings_len;
    if (total > PST_YCACHE_MAX_BYTES) {
        return PST_ETOOBIG;
    }
    buf = calloc(1, total);
    if (buf == NULL) {
        return PST_ENOMEM;
    }
    memset(&h, 0, sizeof(h));
    header_identity(&h);
    header_key(&h, st);
    memcpy(h.sha256, sha256, sizeof(h.sha256));
    h.n_nodes = (uint32_t)e.n_nodes;
    h.n_refs = (uint32_t)e.n_refs;
    h.strings_len = (uint32_t)e.strings_len;

    e.nodes = (struct image_node *)(buf + sizeof(h));
    e.refs = (uint32_t *)(buf + sizeof(h) + e.n_nodes * sizeof(struct image_node));
    e.strings = buf + total - e.strings_len;
    e.n_nodes = e.n_refs = e.strings_len = 0;
    emit(root, &e);

    memcpy(buf, &h, sizeof(h));
    h.check = image_check(buf, total);
    memcpy(buf, &h, sizeof(h));
    *out = buf;
    *len = total;
    return PST_OK;
}

bool pst_ycache_seal(char *buf, size_t len)
{
    struct image_header h;

    if (len < sizeof(h)) {
        return false;
    }
    memcpy(&h, buf, sizeof(h));
    header_identity(&h);
    memcpy(buf, &h, sizeof(h));
    h.check = image_check(buf, len);
    memcpy(buf, &h, sizeof(h));
    return true;
}

static bool same_key(const struct image_header *h, const struct stat *st)
{
    struct image_header want;

    header_key(&want, st);
    return h->dev == want.dev && h->ino == want.ino && h->size == want.size &&
           h->mtime_sec == want.mtime_sec && h->mtime_nsec == want.mtime_nsec &&
           h->ctime_sec == want.ctime_sec && h->ctime_nsec == want.ctime_nsec;
}

static bool valid_kind(uint8_t kind)
{
    return kind == PST_Y_SCALAR || kind == PST_Y_SEQ || kind == PST_Y_MAP;
}

/* Checks node record N (its own fields; its children are checked by the caller). */
static bool valid_node(const struct image_node *n, const struct image_header *h)
{
    if (!valid_kind(n->kind) || n->plain > 1 || n->line > INT_MAX || n->column > INT_MAX) {
        return false;
    }
    if (n->first > h->n_refs || n->n_items > h->n_refs - n->first) {
        return false;
    }
    switch ((enum pst_ynode_kind)n->kind) {
    case PST_Y_SCALAR:
        return n->scalar < h->strings_len && n->n == 0 && n->n_items == 0;
    case PST_Y_SEQ:
        return n->scalar == NO_SCALAR && n->n_items == n->n;
    case PST_Y_MAP:
        /* a broken map may end on a lone key */
        return n->scalar == NO_SCALAR &&
               (n->n_items == 2 * (size_t)n->n || n->n_items == 2 * (size_t)n->n + 1);
    }
    return false;
}

/*
 * Checks the header of the image BUF (LEN bytes): this build's, of the file ST (unless NULL),
 * counts within bounds that add up to LEN, checksum, hash and scalars well formed. Copies
 * the header to H. Returns 0, PST_ENOENT (another file or build) or PST_EPARSE.
 */
static int check_image(const char *buf, size_t len, const struct stat *st, struct image_header *h)
{
    struct image_header want;
    const char *strings;

    if (len < sizeof(*h)) {
        return PST_EPARSE;
    }
    memcpy(h, buf, sizeof(*h));
    memset(&want, 0, sizeof(want));
    header_identity(&want);
    if (memcmp(h->magic, want.magic, sizeof(h->magic)) != 0 ||
        memcmp(h->build, want.build, sizeof(h->build)) != 0 || h->endian != want.endian) {
        return PST_ENOENT;
    }
    if (st != NULL && !same_key(h, st)) {
        return PST_ENOENT;
    }
    if (h->n_nodes == 0 || h->n_nodes > PST_YAML_MAX_NODES || h->n_refs != h->n_nodes - 1 ||
        h->strings_len > PST_YCACHE_MAX_BYTES) {
        return PST_EPARSE;
    }
    if (len != sizeof(*h) + (size_t)h->n_nodes * sizeof(struct image_node) +
                   (size_t)h->n_refs * sizeof(uint32_t) + h->strings_len ||
        image_check(buf, len) != h->check) {
        return PST_EPARSE;
    }
    for (size_t i = 0; i < sizeof(h->sha256); i++) {
        if (h->sha256[i] == '\0' || strchr("0123456789abcdef", h->sha256[i]) == NULL) {
            return PST_EPARSE;
        }
    }
    strings = buf + len - h->strings_len;
    if (h->strings_len > 0 && strings[h->strings_len - 1] != '\0') {
        return PST_EPARSE;
    }
    return PST_OK;
}

/* Bytes the tree of an image with header H takes: its nodes, then its child pointers. */
static size_t tree_bytes(const struct image_header *h)
{
    return (size_t)h->n_nodes * sizeof(struct pst_ynode) +
           (size_t)h->n_refs * sizeof(struct pst_ynode *);
}

/*
 * Builds the tree of the checked image BUF (header H) in NODES (tree_bytes(H) bytes), its
 * scalars pointing into TEXT, a copy of the image's scalars that outlives the tree.
 * Returns 0, PST_EPARSE (a structure that is not a tree within bounds) or PST_ENOMEM.
 */
static int build_tree(const char *buf, const struct image_header *h, struct pst_ynode *nodes,
                      char *text)
{
    const char *node_base = buf + sizeof(*h);
    const char *ref_base = node_base + (size_t)h->n_nodes * sizeof(struct image_node);
    struct pst_ynode **items = (struct pst_ynode **)(nodes + h->n_nodes);
    unsigned char *depth = calloc(h->n_nodes, 1); /* 0: not reached; else 1 + its depth */
    int rc = PST_EPARSE;

    if (depth == NULL) {
        return PST_ENOMEM;
    }
    depth[0] = 1;
    for (uint32_t i = 0; i < h->n_nodes; i++) {
        struct image_node n;
        memcpy(&n, node_base + (size_t)i * sizeof(n), sizeof(n));
        /* pre-order: a node is reached from an earlier one before it is read */
        if (depth[i] == 0 || !valid_node(&n, h)) {
            goto out;
        }
        nodes[i] = (struct pst_ynode){
            .kind = (enum pst_ynode_kind)n.kind,
            .line = (int)n.line,
            .column = (int)n.column,
            .scalar = n.kind == PST_Y_SCALAR ? text + n.scalar : NULL,
            .plain = n.plain == 1,
            .n = n.n,
            .items = n.n_items > 0 ? items + n.first : NULL,
            .n_items = n.n_items,
        };
        for (uint32_t k = 0; k < n.n_items; k++) {
            uint32_t child;
            struct image_node c;
            memcpy(&child, ref_base + ((size_t)n.first + k) * sizeof(child), sizeof(child));
            if (child <= i || child >= h->n_nodes || depth[child] != 0 ||
                depth[i] > PST_YAML_MAX_DEPTH) {
                goto out;
            }
            memcpy(&c, node_base + (size_t)child * sizeof(c), sizeof(c));
            if (n.kind == PST_Y_MAP && k % 2 == 0 && c.kind != PST_Y_SCALAR) {
                goto out; /* a mapping's keys are scalars */
            }
            depth[child] = (unsigned char)(depth[i] + 1);
            items[n.first + k] = &nodes[child];
        }
    }
    nodes[0].arena = true;
    rc = PST_OK;
out:
    free(depth);
    return rc;
}

int pst_ycache_decode(const char *buf, size_t len, const struct stat *st, struct pst_ynode **root,
                      char *sha256)
{
    struct image_header h;
    struct pst_ynode *nodes;
    char *text;
    int rc;

    *root = NULL;
    rc = check_image(buf, len, st, &h);
    if (rc != PST_OK) {
        return rc;
    }
    /* One allocation: the nodes, the child pointers, then a copy of the scalars. */
    nodes = malloc(tree_bytes(&h) + h.strings_len);
    if (nodes == NULL) {
        return PST_ENOMEM;
    }
    text = (char *)nodes + tree_bytes(&h);
    memcpy(text, buf + len - h.strings_len, h.strings_len);
    rc = build_tree(buf, &h, nodes, text);
    if (rc != PST_OK) {
        free(nodes);
        return rc;
    }
    memcpy(sha256, h.sha256, sizeof(h.sha256));
    sha256[64] = '\0';
    *root = nodes;
    return PST_OK;
}

/* The cache file's name for PATH: a hash of the path, so that any path maps to one name. */
static void cache_name(const char *path, char name[64])
{
    unsigned char digest[32];

#if MBEDTLS_VERSION_MAJOR >= 3
    mbedtls_sha256((const unsigned char *)path, strlen(path), digest, 0);
#else
    mbedtls_sha256_ret((const unsigned char *)path, strlen(path), digest, 0);
#endif
    memcpy(name, "policy-", 7);
    for (size_t i = 0; i < 16; i++) {
        snprintf(name + 7 + 2 * i, 3, "%02x", digest[i]);
    }
    snprintf(name + 39, 64 - 39, ".tree");
}

/* True when ST belongs to root or to this user and nobody else may write it. */
static bool trusted(const struct stat *st)
{
    return (st->st_uid == 0 || st->st_uid == geteuid()) && (st->st_mode & 022) == 0;
}

static int open_dir(const char *dir, bool create)
{
    struct stat st;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

    if (fd < 0 && errno == ENOENT && create && mkdir(dir, 0755) == 0) {
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0) {
        return pst_from_errno(errno);
    }
    if (fstat(fd, &st) != 0 || !trusted(&st)) {
        close(fd);
        return PST_EACCES;
    }
    return fd;
}

/* Reads LEN bytes from FD at OFFSET; false on a short read or an error. */
static bool read_at(int fd, char *buf, size_t len, off_t offset)
{
    size_t got = 0;

    while (got < len) {
        ssize_t n = pread(fd, buf + got, len - got, offset + (off_t)got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        got += (size_t)n;
    }
    return true;
}

int pst_ycache_load(const char *dir, const char *path, const struct stat *st,
                    struct pst_ynode **root, char *sha256)
{
    struct image_header h, again;
    struct pst_ynode *block = NULL;
    char name[64], *image;
    struct stat fst;
    size_t len;
    int dfd, fd = -1, rc;

    *root = NULL;
    dfd = open_dir(dir, false);
    if (dfd < 0) {
        return dfd;
    }
    cache_name(path, name);
    fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        rc = pst_from_errno(errno);
        goto out;
    }
    if (fstat(fd, &fst) != 0 || !S_ISREG(fst.st_mode) || !trusted(&fst)) {
        rc = PST_EACCES;
        goto out;
    }
    len = (size_t)fst.st_size;
    if (fst.st_size < (off_t)sizeof(h) || (uint64_t)fst.st_size > PST_YCACHE_MAX_BYTES) {
        rc = PST_EPARSE;
        goto out;
    }
    /*
     * The tree goes in front of the image, in one allocation, and its scalars stay where the
     * image has them: no copy, and the whole tree is freed with one free().
     */
    if (!read_at(fd, (char *)&h, sizeof(h), 0)) {
        rc = PST_EIO;
        goto out;
    }
    if (h.n_nodes == 0 || h.n_nodes > PST_YAML_MAX_NODES || h.n_refs != h.n_nodes - 1) {
        rc = PST_EPARSE;
        goto out;
    }
    block = malloc(tree_bytes(&h) + len);
    if (block == NULL) {
        rc = PST_ENOMEM;
        goto out;
    }
    image = (char *)block + tree_bytes(&h);
    if (!read_at(fd, image, len, 0)) {
        rc = PST_EIO;
        goto out;
    }
    rc = check_image(image, len, st, &again);
    if (rc == PST_OK && (again.n_nodes != h.n_nodes || again.n_refs != h.n_refs)) {
        rc = PST_EPARSE; /* rewritten between the two reads */
    }
    if (rc == PST_OK) {
        rc = build_tree(image, &again, block, image + len - again.strings_len);
    }
    if (rc == PST_OK) {
        memcpy(sha256, again.sha256, sizeof(again.sha256));
        sha256[64] = '\0';
        *root = block;
        block = NULL;
    }
out:
    free(block);
    if (fd >= 0) {
        close(fd);
    }
    close(dfd);
    return rc;
}

int pst_ycache_store(const char *dir, const char *path, const struct stat *st,
                     const struct pst_ynode *root, const char *sha256)
{
    char name[64], temp[96], *image = NULL;
    size_t len = 0, done = 0;
    bool created = false;
    int dfd, fd = -1, rc;

    dfd = open_dir(dir, true);
    if (dfd < 0) {
        return dfd;
    }
    rc = pst_ycache_encode(root, st, sha256, &image, &len);
    if (rc != PST_OK) {
        goto out;
    }
    cache_name(path, name);
    snprintf(temp, sizeof(temp), ".%s.%ld.tmp", name, (long)getpid());
    fd = openat(dfd, temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = pst_from_errno(errno);
        goto out;
    }
    created = true;
    while (done < len) {
        ssize_t n = write(fd, image + done, len - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            rc = PST_EIO;
            goto out;
        }
        done += (size_t)n;
    }
    /* No fsync: a cache torn by a crash fails its checksum and is rebuilt. */
    if (close(fd) != 0 || renameat(dfd, temp, dfd, name) != 0) {
        fd = -1;
        rc = PST_EIO;
        goto out;
    }
    fd = -1;
    rc = PST_OK;
out:
    if (fd >= 0) {
        close(fd);
    }
    if (rc != PST_OK && created) {
        unlinkat(dfd, temp, 0);
    }
    free(image);
    close(dfd);
    return rc;
}
