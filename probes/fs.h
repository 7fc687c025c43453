/* SPDX-License-Identifier: Apache-2.0 */
/* Root-aware file access: every path a probe opens resolves inside the scanned root. */
#ifndef PST_FS_H
#define PST_FS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

/* Default bound for configuration files read as text. */
#define PST_FS_TEXT_LIMIT (4u * 1024u * 1024u)

struct pst_fs;

/*
 * Creates an access layer for ROOT (NULL or "/" for the running system). Paths given to
 * the functions below are absolute paths as seen inside the root; with an offline root,
 * symlinks (absolute ones and "..") resolve as they would inside it (openat2
 * RESOLVE_IN_ROOT, or the same rules applied component by component where the kernel lacks
 * openat2) and never leave it. The caller owns *out and frees it with pst_fs_free().
 * Returns 0, or a PST_E* code (root missing, not a directory).
 */
int pst_fs_new(const char *root, struct pst_fs **out);
void pst_fs_free(struct pst_fs *fs);

/*
 * Makes FS resolve paths of an offline root in userspace, as it does by itself on kernels
 * without openat2 (before 5.6) or under valgrind. For tests of that resolver.
 */
void pst_fs_disable_openat2(struct pst_fs *fs);

/* True when the running system is assessed (no --root). */
bool pst_fs_is_live(const struct pst_fs *fs);

/* The offline root as given (absolute), or NULL for the running system. */
const char *pst_fs_root(const struct pst_fs *fs);

/* Opens PATH with FLAGS (O_CLOEXEC and O_NOCTTY are added). Returns 0 and *fd, or PST_E*. */
int pst_fs_open(struct pst_fs *fs, const char *path, int flags, int *fd);

/* stat (FOLLOW) or lstat of PATH inside the root. Returns 0 or PST_E*. */
int pst_fs_stat(struct pst_fs *fs, const char *path, bool follow, struct stat *st);

/*
 * Reads the regular file PATH whole, up to LIMIT bytes; a larger file is PST_ETOOBIG, a
 * non-regular one PST_ETYPE (a FIFO is never read) and, when TEXT is set, one holding a NUL
 * byte PST_EBINARY. *buf is NUL-terminated and owned by the caller (free()).
 */
int pst_fs_read(struct pst_fs *fs, const char *path, size_t limit, bool text, char **buf,
                size_t *len);

/*
 * Opens PATH for reading only when it is a regular file (looked at first through an O_PATH
 * descriptor, so that devices and FIFOs are never opened). Returns 0 with *fd (the caller
 * closes it) and *st, PST_ETYPE for anything else, or another PST_E* code.
 */
int pst_fs_open_regular(struct pst_fs *fs, const char *path, int *fd, struct stat *st);

/* The same bounded read from an open descriptor FD (not closed). */
int pst_fd_read_all(int fd, size_t limit, bool text, char **buf, size_t *len);

/* The same bounded read of a file of the agent's own (config, policy), outside any root. */
int pst_file_read(const char *path, size_t limit, bool text, char **buf, size_t *len);

/*
 * Lists the names in directory PATH (no "." or ".."), sorted bytewise. *names is a JSON
 * array of strings owned by the caller (json_decref); a name keeps its bytes, UTF-8 or not,
 * so output must pass it through pst_json_text. Returns 0 or PST_E*.
 */
int pst_fs_list(struct pst_fs *fs, const char *path, json_t **names);

/* Every path the scan tried to read, in first-use order (borrowed; lives as long as FS). */
const json_t *pst_fs_touched(const struct pst_fs *fs);

#endif
