/* SPDX-License-Identifier: Apache-2.0 */
/* A cache of parsed policy files: the YAML tree and the file's SHA-256, kept beside the state. */
#include "config/ycache.h"

#include "agent/error.h"
#include "agent/io.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <mbedtls/sha256.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xxhash.h>

/*
 * The image is a tree's block as it is in memory (see yaml.h), in this machine's byte order
 * (a cache is never shared between machines): the head, the nodes in pre-order, the child
 * references, then the scalars, each ending in NUL. Nothing in it is a pointer, so a load is
 * a read and a check, with nothing built. Bump the format number whenever the block that
 * yaml.c lays out changes meaning.
 */
#define FORMAT "PSTYC004"
#define ENDIAN_MARK UINT64_C(0x0102030405060708)

_Static_assert(sizeof(struct pst_ytree_head) % 8 == 0, "the nodes follow the head aligned");
_Static_assert(sizeof(struct pst_ynode) == 24, "the image's node records are 24 bytes");

static void header_key(struct pst_ytree_head *h, const struct stat *st)
{
    h->dev = (uint64_t)st->st_dev;
    h->ino = (uint64_t)st->st_ino;
    h->size = (uint64_t)st->st_size;
    h->mtime_sec = (int64_t)st->st_mtim.tv_sec;
    h->mtime_nsec = (int64_t)st->st_mtim.tv_nsec;
    h->ctime_sec = (int64_t)st->st_ctim.tv_sec;
    h->ctime_nsec = (int64_t)st->st_ctim.tv_nsec;
}

static void header_identity(struct pst_ytree_head *h)
{
    memcpy(h->magic, FORMAT, sizeof(h->magic));
    memset(h->build, 0, sizeof(h->build));
    snprintf(h->build, sizeof(h->build), "%s", POSTURE_VERSION);
    h->endian = ENDIAN_MARK;
}

/*
 * The image's checksum, against damage (a torn write, a bad sector). xxHash's XXH3 reads the
 * image of the baseline in a tenth of the instructions zlib's CRC-32 took, and libxxhash is
 * a fraction of zlib's size in memory. The image is trusted only as far as its directory's
 * ownership and mode say (see pst_ycache_load), so no keyed hash is needed.
 */
static uint64_t image_sum(const struct pst_ytree_head *head, const char *body, size_t body_len)
{
    struct pst_ytree_head h = *head;
    XXH3_state_t *state = XXH3_createState();
    uint64_t sum = 0; /* no state (out of memory): a sum that never matches a sealed image */

    h.check = 0;
    if (state != NULL && XXH3_64bits_reset(state) == XXH_OK &&
        XXH3_64bits_update(state, &h, sizeof(h)) == XXH_OK &&
        XXH3_64bits_update(state, body, body_len) == XXH_OK) {
        sum = (uint64_t)XXH3_64bits_digest(state);
    }
    XXH3_freeState(state);
    return sum;
}

/* The checksum of the image BUF of LEN bytes (at least a head). */
static uint64_t image_check(const char *buf, size_t len)
{
    struct pst_ytree_head h;

    memcpy(&h, buf, sizeof(h));
    return image_sum(&h, buf + sizeof(h), len - sizeof(h));
}

/* The head of the image of ROOT, of the file ST hashing to SHA256, its checksum included. */
static void image_head(const struct pst_ynode *root, const struct stat *st, const char *sha256,
                       struct pst_ytree_head *h)
{
    *h = *pst_ytree_head_of(root);
    header_identity(h);
    header_key(h, st);
    memcpy(h->sha256, sha256, sizeof(h->sha256));
    h->mapped = 0;
    h->check = image_sum(h, (const char *)root, pst_ytree_bytes(h) - sizeof(*h));
}

int pst_ycache_encode(const struct pst_ynode *root, const struct stat *st, const char *sha256,
                      char **out, size_t *len)
{
    size_t total = pst_ytree_bytes(pst_ytree_head_of(root));
    struct pst_ytree_head h;
    char *buf;

    *out = NULL;
    *len = 0;
    if (total > PST_YCACHE_MAX_BYTES) {
        return PST_ETOOBIG;
    }
    buf = malloc(total);
    if (buf == NULL) {
        return PST_ENOMEM;
    }
    image_head(root, st, sha256, &h);
    memcpy(buf, &h, sizeof(h));
    memcpy(buf + sizeof(h), root, total - sizeof(h));
    *out = buf;
    *len = total;
    return PST_OK;
}

bool pst_ycache_seal(char *buf, size_t len)
{
    struct pst_ytree_head h;

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

static bool same_key(const struct pst_ytree_head *h, const struct stat *st)
{
    struct pst_ytree_head want;

    header_key(&want, st);
    return h->dev == want.dev && h->ino == want.ino && h->size == want.size &&
           h->mtime_sec == want.mtime_sec && h->mtime_nsec == want.mtime_nsec &&
           h->ctime_sec == want.ctime_sec && h->ctime_nsec == want.ctime_nsec;
}

/* The counts of head H are within the bounds of yaml.h and a tree (one reference a node). */
static bool valid_counts(const struct pst_ytree_head *h)
{
    return h->n_nodes > 0 && h->n_nodes <= PST_YAML_MAX_NODES && h->n_refs == h->n_nodes - 1 &&
           h->strings_len <= PST_YCACHE_MAX_BYTES;
}

/*
 * Checks the head of the image BUF (LEN bytes): this build's, of the file ST (unless NULL),
 * counts within bounds that add up to LEN, checksum, hash and scalars well formed. Copies
 * the head to H. Returns 0, PST_ENOENT (another file or build) or PST_EPARSE.
 */
static int check_image(const char *buf, size_t len, const struct stat *st, struct pst_ytree_head *h)
{
    struct pst_ytree_head want;
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
    if (!valid_counts(h) || len != pst_ytree_bytes(h) || h->mapped != 0 ||
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

/*
 * Checks that the block of head H (checked by check_image) holds a tree: every node well
 * formed (kind, flags, counts; a scalar's text within the strings, a container's references
 * within the references) and reached exactly once from an earlier one (pre-order), no
 * deeper than the parser allows, a mapping's keys scalars. Returns 0, PST_EPARSE or
 * PST_ENOMEM. One pass with the bounds hoisted: it runs on every cached load.
 */
static int check_tree(const struct pst_ytree_head *h)
{
    const struct pst_ynode *nodes = (const struct pst_ynode *)(const void *)(h + 1);
    const uint64_t refs_at = (uint64_t)h->n_nodes * sizeof(struct pst_ynode); /* from nodes */
    const uint64_t strings_at = refs_at + (uint64_t)h->n_refs * sizeof(uint32_t);
    const uint64_t strings_end = strings_at + h->strings_len;
    const uint32_t *refs = (const uint32_t *)(const void *)((const char *)nodes + refs_at);
    unsigned char *depth = calloc(h->n_nodes, 1); /* 0: not reached; else 1 + its depth */
    int rc = PST_EPARSE;

    if (depth == NULL) {
        return PST_ENOMEM;
    }
    depth[0] = 1;
    for (uint32_t i = 0; i < h->n_nodes; i++) {
        const struct pst_ynode *n = &nodes[i];
        const uint64_t target = (uint64_t)i * sizeof(*n) + n->off;
        if (depth[i] == 0 || n->plain > 1 || (n->pad[0] | n->pad[1]) != 0 || n->line < 0 ||
            n->column < 0) {
            goto out;
        }
        if (n->kind == PST_Y_SCALAR) {
            /* the strings end in NUL (check_image): a scalar is a string within them */
            if ((n->n | n->n_items) != 0 || target < strings_at || target >= strings_end) {
                goto out;
            }
            continue;
        }
        /* a broken map may end on a lone key */
        if (n->kind == PST_Y_SEQ ? n->n_items != n->n
                                 : n->kind != PST_Y_MAP || (n->n_items != 2 * (uint64_t)n->n &&
                                                            n->n_items != 2 * (uint64_t)n->n + 1)) {
            goto out;
        }
        if (target < refs_at || (target - refs_at) % sizeof(uint32_t) != 0) {
            goto out;
        }
        const uint64_t first = (target - refs_at) / sizeof(uint32_t);
        if (first > h->n_refs || n->n_items > h->n_refs - first) {
            goto out;
        }
        if (n->n_items > 0 && depth[i] > PST_YAML_MAX_DEPTH) {
            goto out;
        }
        const uint32_t *kids = refs + first;
        const unsigned char below = (unsigned char)(depth[i] + 1);
        for (uint32_t k = 0; k < n->n_items; k++) {
            const uint32_t step = kids[k];
            if (step == 0 || step >= h->n_nodes - i || depth[i + step] != 0) {
                goto out;
            }
            depth[i + step] = below;
        }
        for (uint32_t k = 0; n->kind == PST_Y_MAP && k < n->n_items; k += 2) {
            if (nodes[i + kids[k]].kind != PST_Y_SCALAR) {
                goto out; /* a mapping's keys are scalars */
            }
        }
    }
    rc = PST_OK;
out:
    free(depth);
    return rc;
}

int pst_ycache_decode(const char *buf, size_t len, const struct stat *st, struct pst_ynode **root,
                      char *sha256)
{
    struct pst_ytree_head h, *block;
    int rc;

    *root = NULL;
    rc = check_image(buf, len, st, &h);
    if (rc != PST_OK) {
        return rc;
    }
    /* a copy, aligned for its nodes, that the tree is */
    block = malloc(len);
    if (block == NULL) {
        return PST_ENOMEM;
    }
    memcpy(block, buf, len);
    rc = check_tree(block);
    if (rc != PST_OK) {
        free(block);
        return rc;
    }
    memcpy(sha256, h.sha256, sizeof(h.sha256));
    sha256[64] = '\0';
    *root = (struct pst_ynode *)(void *)(block + 1);
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

/*
 * A block of LEN bytes for a tree read from a cache file. An anonymous mapping populated at
 * once: the read fills pages the kernel has already given, instead of taking a fault for
 * each page as it copies. Returns NULL when out of memory.
 */
static struct pst_ytree_head *block_new(size_t len)
{
    void *block =
        mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

    return block != MAP_FAILED ? block : NULL;
}

int pst_ycache_load(const char *dir, const char *path, const struct stat *st,
                    struct pst_ynode **root, char *sha256)
{
    struct pst_ytree_head h, again, *block = NULL;
    char name[64];
    struct stat fst;
    size_t len = 0;
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
    if (fst.st_size < (off_t)sizeof(h) || (uint64_t)fst.st_size > PST_YCACHE_MAX_BYTES) {
        rc = PST_EPARSE;
        goto out;
    }
    len = (size_t)fst.st_size;
    /*
     * Read into memory of our own, not mapped from the file: a file truncated under a mapping
     * would kill the process (SIGBUS) wherever it next reads the tree.
     */
    block = block_new(len);
    if (block == NULL) {
        rc = PST_ENOMEM;
        goto out;
    }
    if (!read_at(fd, (char *)block, len, 0)) {
        rc = PST_EIO; /* shorter than fstat said: rewritten meanwhile */
        goto out;
    }
    rc = check_image((const char *)block, len, st, &again);
    if (rc == PST_OK) {
        rc = check_tree(block);
    }
    if (rc == PST_OK) {
        memcpy(sha256, again.sha256, sizeof(again.sha256));
        sha256[64] = '\0';
        block->mapped = 1; /* so that pst_ynode_free unmaps it */
        *root = (struct pst_ynode *)(void *)(block + 1);
        block = NULL;
    }
out:
    if (block != NULL) {
        munmap(block, len);
    }
    if (fd >= 0) {
        close(fd);
    }
    close(dfd);
    return rc;
}

int pst_ycache_store(const char *dir, const char *path, const struct stat *st,
                     const struct pst_ynode *root, const char *sha256)
{
    struct pst_ytree_head h;
    char name[64], temp[96];
    size_t len = pst_ytree_bytes(pst_ytree_head_of(root));
    bool created = false;
    int dfd, fd = -1, rc;

    if (len > PST_YCACHE_MAX_BYTES) {
        return PST_ETOOBIG;
    }
    dfd = open_dir(dir, true);
    if (dfd < 0) {
        return dfd;
    }
    /* the head, then the tree's block as it is: no copy of the image */
    image_head(root, st, sha256, &h);
    cache_name(path, name);
    snprintf(temp, sizeof(temp), ".%s.%ld.tmp", name, (long)getpid());
    fd = openat(dfd, temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = pst_from_errno(errno);
        goto out;
    }
    created = true;
    if (pst_io_write_all(fd, &h, sizeof(h)) != PST_OK ||
        pst_io_write_all(fd, root, len - sizeof(h)) != PST_OK) {
        rc = PST_EIO;
        goto out;
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
    close(dfd);
    return rc;
}
