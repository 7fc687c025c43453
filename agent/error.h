/* SPDX-License-Identifier: Apache-2.0 */
/* Error codes shared by every module, and their texts. */
#ifndef PST_ERROR_H
#define PST_ERROR_H

/* Number of elements of an array. */
#define PST_COUNT(a) (sizeof(a) / sizeof((a)[0]))

enum {
    PST_OK = 0,
    PST_ENOMEM = -1,   /* out of memory */
    PST_EIO = -2,      /* read or write failed; errno-level detail is logged where it happened */
    PST_ENOENT = -3,   /* no such file */
    PST_EACCES = -4,   /* permission denied */
    PST_ETOOBIG = -5,  /* input exceeds a bound */
    PST_EBINARY = -6,  /* a text file holds binary content */
    PST_EPARSE = -7,   /* malformed input */
    PST_EINVAL = -8,   /* invalid argument or usage */
    PST_ENOTSUP = -9,  /* not supported here (kernel, offline root) */
    PST_ETYPE = -10,   /* wrong file type (a directory where a file was expected...) */
    PST_ELOOP = -11,   /* too many symlinks */
    PST_EXDEV = -12,   /* the path would leave the scanned root */
    PST_EBADSIG = -13, /* a well-formed signature that does not verify */
};

/* Returns a static text for a PST_E* code. */
const char *pst_strerror(int code);

/* Maps an errno value to a PST_E* code. */
int pst_from_errno(int err);

#endif
