/* SPDX-License-Identifier: Apache-2.0 */
/* Whole-buffer writes to file descriptors, for every program's files (reports, caches, state). */
#ifndef PST_IO_H
#define PST_IO_H

#include <stddef.h>

/*
 * Writes the LEN bytes at DATA to FD, going on after short writes and EINTR. Returns 0, or
 * the PST_E* code of the write's errno (PST_EIO when a write wrote nothing without one).
 */
int pst_io_write_all(int fd, const void *data, size_t len);

#endif
