/* SPDX-License-Identifier: Apache-2.0 */
/* Streaming line reader over plain, gzip, xz and lz4 files, as apt may keep its lists. */
#ifndef PST_ZREAD_H
#define PST_ZREAD_H

#include "probes/fs.h"

#include <stddef.h>

/* Longest line returned whole; a longer one is reported and skipped (2). */
#define PST_ZREAD_LINE_MAX (1024u * 1024u)

enum pst_zkind { PST_Z_PLAIN, PST_Z_GZIP, PST_Z_XZ, PST_Z_LZ4 };

struct pst_zread;

/* The compression a file name says (".lz4", ".gz", ".xz"; anything else is plain). */
enum pst_zkind pst_zread_kind(const char *name);

/*
 * Opens regular file PATH inside FS for reading lines, decompressing KIND as it goes; at
 * most LIMIT decompressed bytes are read (more is PST_ETOOBIG). Memory stays bounded
 * (about PST_ZREAD_LINE_MAX) whatever the file's size. The caller owns *out
 * (pst_zread_free). Returns 0 or a PST_E* code.
 */
int pst_zread_open(struct pst_fs *fs, const char *path, enum pst_zkind kind, size_t limit,
                   struct pst_zread **out);

/* The same over DATA[SIZE] in memory (borrowed until pst_zread_free), for tests and fuzzing. */
int pst_zread_open_mem(const void *data, size_t size, enum pst_zkind kind, size_t limit,
                       struct pst_zread **out);

/*
 * The next line, NUL-terminated, without its '\n' (and a trailing '\r' removed): valid
 * until the next call. Returns 1 with *line and *len, 0 at the end, 2 when a line longer
 * than PST_ZREAD_LINE_MAX was skipped (reading goes on), PST_ETOOBIG when LIMIT is
 * exceeded, PST_EPARSE for corrupt or truncated compressed data, PST_EIO for a read error.
 * After an error the stream is finished.
 */
int pst_zread_line(struct pst_zread *z, char **line, size_t *len);

/* Number of the line last returned (1-based). */
long pst_zread_lineno(const struct pst_zread *z);

/* Decompressed bytes read so far. */
size_t pst_zread_bytes(const struct pst_zread *z);

void pst_zread_free(struct pst_zread *z);

#endif
