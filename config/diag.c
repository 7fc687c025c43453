/* SPDX-License-Identifier: Apache-2.0 */
/* Diagnostics: every error of a load, as FILE:LINE:COLUMN: message, reported in one run. */
#include "config/diag.h"

#include <stdarg.h>
#include <stdlib.h>

void pst_diag_add(struct pst_diag *d, const char *file, int line, int column, const char *fmt, ...)
{
    char message[1024];
    char *full = NULL;
    va_list ap;
    int n;

    if (d->count == PST_DIAG_MAX) {
        d->dropped++;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    if (line > 0) {
        n = asprintf(&full, "%s:%d:%d: %s", file, line, column, message);
    } else {
        n = asprintf(&full, "%s: %s", file, message);
    }
    if (n < 0) {
        d->dropped++;
        return;
    }
    d->messages[d->count++] = full;
}

size_t pst_diag_errors(const struct pst_diag *d)
{
    return d->count + d->dropped;
}

void pst_diag_print(const struct pst_diag *d, FILE *out)
{
    for (size_t i = 0; i < d->count; i++) {
        fprintf(out, "%s\n", d->messages[i]);
    }
    if (d->dropped > 0) {
        fprintf(out, "... and %zu more errors\n", d->dropped);
    }
}

void pst_diag_release(struct pst_diag *d)
{
    for (size_t i = 0; i < d->count; i++) {
        free(d->messages[i]);
    }
    d->count = 0;
    d->dropped = 0;
}
