/* SPDX-License-Identifier: Apache-2.0 */
/* Diagnostics: every error of a load, as FILE:LINE:COLUMN: message, reported in one run. */
#ifndef PST_DIAG_H
#define PST_DIAG_H

#include <stddef.h>
#include <stdio.h>

#define PST_DIAG_MAX 200

struct pst_diag {
    char *messages[PST_DIAG_MAX];
    size_t count;   /* messages kept */
    size_t dropped; /* errors past PST_DIAG_MAX, counted only */
};

/* Records "FILE:LINE:COLUMN: message" (LINE 0: "FILE: message"). */
void pst_diag_add(struct pst_diag *d, const char *file, int line, int column, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Total number of errors recorded. */
size_t pst_diag_errors(const struct pst_diag *d);

/* Prints every message, one a line, to OUT. */
void pst_diag_print(const struct pst_diag *d, FILE *out);

/* Frees the messages; D itself is the caller's. */
void pst_diag_release(struct pst_diag *d);

#endif
