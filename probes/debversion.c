/* SPDX-License-Identifier: Apache-2.0 */
/* Debian package versions: dpkg's parsing rules and its ordering (epoch, upstream, revision). */
#include "probes/debversion.h"

#include "agent/error.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* The C locale's classes, as dpkg uses them (c_isdigit...), whatever the locale. */
static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_blank(int c)
{
    return c == ' ' || c == '\t';
}

int pst_debversion_parse(const char *text, struct pst_debversion *out, const char **warning,
                         const char **error)
{
    const char *start = text;
    const char *end;
    const char *p;
    const char *colon;
    const char *hyphen = NULL;
    const char *why = NULL;

    if (warning != NULL) {
        *warning = NULL;
    }
    memset(out, 0, sizeof(*out));
    while (is_blank(*start)) {
        start++;
    }
    if (*start == '\0') {
        why = "version string is empty";
        goto bad;
    }
    for (end = start; *end != '\0' && !is_blank(*end); end++) {
    }
    for (p = end; is_blank(*p); p++) {
    }
    if (*p != '\0') {
        why = "version string has embedded spaces";
        goto bad;
    }
    colon = memchr(start, ':', (size_t)(end - start));
    if (colon != NULL) {
        /* strtol as dpkg calls it: it may take a sign; anything else before ':' is bad */
        char digits[32];
        char *stop;
        long epoch;
        size_t n = (size_t)(colon - start);
        if (n == 0) {
            why = "epoch in version is empty";
            goto bad;
        }
        if (n >= sizeof(digits)) {
            n = sizeof(digits) - 1; /* longer than any long: too big or not a number */
        }
        memcpy(digits, start, n);
        digits[n] = '\0';
        errno = 0;
        epoch = strtol(digits, &stop, 10);
        if (stop == digits) {
            why = "epoch in version is empty";
            goto bad;
        }
        if (*stop != '\0' || (size_t)(colon - start) >= sizeof(digits)) {
            /* 31 or more characters: a number that long is out of range; else not a number */
            if (*stop == '\0' && strspn(start, "0123456789+-") >= (size_t)(colon - start)) {
                why = "epoch in version is too big";
            } else {
                why = "epoch in version is not number";
            }
            goto bad;
        }
        if (epoch < 0) {
            why = "epoch in version is negative";
            goto bad;
        }
        if (epoch > INT_MAX || errno == ERANGE) {
            why = "epoch in version is too big";
            goto bad;
        }
        if (colon + 1 == end) {
            why = "nothing after colon in version number";
            goto bad;
        }
        out->epoch = epoch;
        start = colon + 1;
    }
    for (p = start; p < end; p++) {
        if (*p == '-') {
            hyphen = p;
        }
    }
    out->upstream = start;
    out->upstream_len = (size_t)((hyphen ? hyphen : end) - start);
    out->revision = hyphen ? hyphen + 1 : end;
    out->revision_len = hyphen ? (size_t)(end - hyphen - 1) : 0;
    if (hyphen != NULL && out->revision_len == 0) {
        why = "revision number is empty";
        goto bad;
    }
    if (out->upstream_len == 0) {
        why = "version number is empty";
        goto bad;
    }
    if (warning != NULL) {
        if (!is_digit(out->upstream[0])) {
            *warning = "version number does not start with digit";
        } else if (strspn(out->upstream, "0123456789abcdefghijklmnopqrstuvwxyz"
                                         "ABCDEFGHIJKLMNOPQRSTUVWXYZ.-+~:") < out->upstream_len) {
            *warning = "invalid character in version number";
        } else if (strspn(out->revision, "0123456789abcdefghijklmnopqrstuvwxyz"
                                         "ABCDEFGHIJKLMNOPQRSTUVWXYZ.+~") < out->revision_len) {
            *warning = "invalid character in revision number";
        }
    }
    if (error != NULL) {
        *error = NULL;
    }
    return PST_OK;
bad:
    if (error != NULL) {
        *error = why;
    }
    return PST_EPARSE;
}

/* dpkg's weight of a character in a non-digit run: '~' first, then the end, letters, others. */
static int order(int c)
{
    if (is_digit(c)) {
        return 0;
    }
    if (is_alpha(c)) {
        return c;
    }
    if (c == '~') {
        return -1;
    }
    if (c != 0) {
        return c + 256;
    }
    return 0;
}

/* dpkg's verrevcmp over two counted strings: alternating non-digit and digit runs. */
static int verrevcmp(const char *a, const char *a_end, const char *b, const char *b_end)
{
#define AT(p, e) ((p) < (e) ? (unsigned char)*(p) : 0)
    while (a < a_end || b < b_end) {
        int first_diff = 0;

        while ((a < a_end && !is_digit(AT(a, a_end))) || (b < b_end && !is_digit(AT(b, b_end)))) {
            int ac = order(AT(a, a_end));
            int bc = order(AT(b, b_end));
            if (ac != bc) {
                return ac - bc;
            }
            a++;
            b++;
        }
        while (a < a_end && *a == '0') {
            a++;
        }
        while (b < b_end && *b == '0') {
            b++;
        }
        while (is_digit(AT(a, a_end)) && is_digit(AT(b, b_end))) {
            if (first_diff == 0) {
                first_diff = AT(a, a_end) - AT(b, b_end);
            }
            a++;
            b++;
        }
        if (is_digit(AT(a, a_end))) {
            return 1;
        }
        if (is_digit(AT(b, b_end))) {
            return -1;
        }
        if (first_diff != 0) {
            return first_diff;
        }
    }
    return 0;
#undef AT
}

int pst_debversion_cmp(const struct pst_debversion *a, const struct pst_debversion *b)
{
    int rc;

    if (a->epoch != b->epoch) {
        return a->epoch > b->epoch ? 1 : -1;
    }
    rc = verrevcmp(a->upstream, a->upstream + a->upstream_len, b->upstream,
                   b->upstream + b->upstream_len);
    if (rc != 0) {
        return rc;
    }
    return verrevcmp(a->revision, a->revision + a->revision_len, b->revision,
                     b->revision + b->revision_len);
}

int pst_debversion_compare(const char *a, const char *b, bool *ok)
{
    struct pst_debversion va, vb;
    bool good = pst_debversion_parse(a, &va, NULL, NULL) == PST_OK &&
                pst_debversion_parse(b, &vb, NULL, NULL) == PST_OK;

    if (ok != NULL) {
        *ok = good;
    }
    return good ? pst_debversion_cmp(&va, &vb) : 0;
}
