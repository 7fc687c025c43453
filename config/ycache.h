/* SPDX-License-Identifier: Apache-2.0 */
/* A cache of parsed policy files: the YAML tree and the file's SHA-256, kept beside the state. */
#ifndef PST_YCACHE_H
#define PST_YCACHE_H

#include "config/yaml.h"

#include <sys/stat.h>

/* Bound on a cache file: a policy file's tree is a few times the size of its text. */
#define PST_YCACHE_MAX_BYTES (4u * PST_YAML_MAX_BYTES)

/*
 * Serialises the tree ROOT of the file whose stat(2) was ST and whose bytes hash to SHA256
 * (64 hex digits) into a cache image. *out is malloc'd (caller frees), *len its size.
 * Returns 0, PST_ETOOBIG (the image would pass PST_YCACHE_MAX_BYTES) or PST_ENOMEM.
 */
int pst_ycache_encode(const struct pst_ynode *root, const struct stat *st, const char *sha256,
                      char **out, size_t *len);

/*
 * Rebuilds a tree from the cache image BUF of LEN bytes. The image must be of this build of
 * posture, intact (an XXH3 checksum), well formed (a tree in pre-order, every bound of yaml.h
 * kept), and, when ST is not NULL, made from a file with the same device, inode, size, modification
 * and change times. On success *root is the tree, one allocation that pst_ynode_free() releases,
 * and SHA256 (65 bytes) receives the file's hash. Returns 0, PST_ENOENT (the image is of
 * another file or another build: a miss), PST_EPARSE (a damaged image) or PST_ENOMEM.
 */
int pst_ycache_decode(const char *buf, size_t len, const struct stat *st, struct pst_ynode **root,
                      char *sha256);

/*
 * Stamps the image BUF of LEN bytes with this build's identity and recomputes its checksum,
 * so that tests and the fuzz target can reach the structural checks of pst_ycache_decode.
 * Returns false when LEN is too short to hold the header.
 */
bool pst_ycache_seal(char *buf, size_t len);

/*
 * Looks up the tree of the policy file PATH, whose stat(2) is ST, in the cache directory DIR.
 * The directory and the cache file must belong to root or to this user and be writable by
 * nobody else, else they are not used. Returns 0 with *root and SHA256 set (as
 * pst_ycache_decode), or a negative PST_E* code for a miss of any kind.
 */
int pst_ycache_load(const char *dir, const char *path, const struct stat *st,
                    struct pst_ynode **root, char *sha256);

/*
 * Stores the tree of PATH in DIR (created, mode 0755, when its parent exists), written to a
 * temporary file and renamed into place, so that readers see the old image or the new one.
 * Returns 0 or a negative PST_E* code; a cache that cannot be written only costs speed.
 */
int pst_ycache_store(const char *dir, const char *path, const struct stat *st,
                     const struct pst_ynode *root, const char *sha256);

#endif
