/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reads "A B" version pairs, one a line, and prints "A OP B" with OP lt, eq or gt as
 * posture orders them, or "A bad B" when either is rejected: a line that
 * `dpkg --compare-versions A OP B` must accept (exit 0), or reject (exit 2) for "bad".
 */
#include "probes/debversion.h"

#include <stdio.h>
#include <string.h>

int main(void)
{
    char line[8192];

    while (fgets(line, sizeof(line), stdin) != NULL) {
        char *a = line;
        char *b;
        bool ok;
        int rc;

        line[strcspn(line, "\n")] = '\0';
        b = strchr(line, ' ');
        if (b == NULL) {
            continue;
        }
        *b++ = '\0';
        rc = pst_debversion_compare(a, b, &ok);
        printf("%s %s %s\n", a, !ok ? "bad" : rc < 0 ? "lt" : rc == 0 ? "eq" : "gt", b);
    }
    return 0;
}
