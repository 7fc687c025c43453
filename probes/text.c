/* SPDX-License-Identifier: Apache-2.0 */
/* Line-oriented helpers shared by the probes that read configuration files. */
#include "probes/text.h"

#include <stdlib.h>
#include <string.h>

char *pst_text_next_line(char **cursor, long *lineno)
{
    char *line = *cursor;
    char *nl;
    size_t len;

    if (line == NULL || *line == '\0') {
        return NULL;
    }
    nl = strchr(line, '\n');
    if (nl != NULL) {
        *nl = '\0';
        *cursor = nl + 1;
        len = (size_t)(nl - line);
    } else {
        len = strlen(line);
        *cursor = line + len;
    }
    if (len > 0 && line[len - 1] == '\r') {
        line[len - 1] = '\0';
    }
    (*lineno)++;
    return line;
}

char *pst_text_skip_blanks(char *s)
{
    return s + strspn(s, " \t");
}

void pst_text_rstrip(char *s)
{
    size_t len = strlen(s);

    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t')) {
        s[--len] = '\0';
    }
}

void pst_text_unquote(char *s)
{
    size_t len = strlen(s);

    if (len >= 2 && (s[0] == '"' || s[0] == '\'') && s[len - 1] == s[0]) {
        memmove(s, s + 1, len - 2);
        s[len - 2] = '\0';
    }
}

char *pst_text_printable(const char *s)
{
    char *copy = strdup(s != NULL ? s : "");

    if (copy == NULL) {
        return NULL;
    }
    for (unsigned char *p = (unsigned char *)copy; *p != '\0'; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            *p = '?';
        } else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
            p[0] = '?';
            p[1] = '?';
            p++;
        }
    }
    return copy;
}

char *pst_text_decimal(char *end, long long v)
{
    char *p = end;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0) {
        *--p = '-';
    }
    return p;
}
