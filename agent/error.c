/* SPDX-License-Identifier: Apache-2.0 */
/* Texts of the PST_E* codes and the errno mapping. */
#include "agent/error.h"

#include <errno.h>

static const struct {
    int code;
    const char *text;
} error_texts[] = {
    {PST_OK, "success"},
    {PST_ENOMEM, "out of memory"},
    {PST_EIO, "input/output error"},
    {PST_ENOENT, "no such file or directory"},
    {PST_EACCES, "permission denied"},
    {PST_ETOOBIG, "file is larger than the bound"},
    {PST_EBINARY, "binary content in a text file"},
    {PST_EPARSE, "malformed input"},
    {PST_EINVAL, "invalid argument"},
    {PST_ENOTSUP, "not supported"},
    {PST_ETYPE, "wrong file type"},
    {PST_ELOOP, "too many levels of symbolic links"},
    {PST_EXDEV, "path leaves the scanned root"},
    {PST_EBADSIG, "signature does not verify"},
};

const char *pst_strerror(int code)
{
    for (unsigned i = 0; i < sizeof(error_texts) / sizeof(error_texts[0]); i++) {
        if (error_texts[i].code == code) {
            return error_texts[i].text;
        }
    }
    return "unknown error";
}

int pst_from_errno(int err)
{
    switch (err) {
    case 0:
        return PST_OK;
    case ENOMEM:
        return PST_ENOMEM;
    case ENOENT:
    case ENOTDIR:
        return PST_ENOENT;
    case EACCES:
    case EPERM:
        return PST_EACCES;
    case EFBIG:
        return PST_ETOOBIG;
    case ELOOP:
        return PST_ELOOP;
    case EXDEV:
        return PST_EXDEV;
    case ENOSYS:
    case EOPNOTSUPP:
        return PST_ENOTSUP;
    case EISDIR:
        return PST_ETYPE;
    default:
        return PST_EIO;
    }
}
