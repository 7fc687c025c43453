/* SPDX-License-Identifier: Apache-2.0 */
/* Whole-buffer writes to file descriptors (agent/io.h). */
#include "agent/io.h"

#include "agent/error.h"

#include <errno.h>
#include <unistd.h>

int pst_io_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;

    for (size_t off = 0; off < len;) {
        ssize_t n = write(fd, p + off, len - off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            /* a write that wrote nothing without an errno is an I/O error all the same */
            int rc = n < 0 ? pst_from_errno(errno) : PST_OK;
            return rc != PST_OK ? rc : PST_EIO;
        }
        off += (size_t)n;
    }
    return PST_OK;
}
