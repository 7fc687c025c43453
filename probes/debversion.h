/* SPDX-License-Identifier: Apache-2.0 */
/* Debian package versions: parsed and compared exactly as dpkg does. */
#ifndef PST_DEBVERSION_H
#define PST_DEBVERSION_H

#include <stdbool.h>
#include <stddef.h>

/*
 * A parsed version: views into the caller's string, nothing allocated. The upstream part
 * is [upstream, upstream + upstream_len), the revision [revision, revision + revision_len)
 * (empty when the version has no hyphen).
 */
struct pst_debversion {
    long epoch;
    const char *upstream;
    size_t upstream_len;
    const char *revision;
    size_t revision_len;
};

/*
 * Parses TEXT as dpkg's parseversion() does. Returns 0 on success; *warning is set (when
 * WARNING is not NULL) to a text when dpkg would warn but still use the version (an
 * upstream part not starting with a digit, a character outside dpkg's set). Returns
 * PST_EPARSE for what dpkg rejects (empty, embedded blanks, a bad or too big epoch,
 * nothing after the colon, an empty revision), with the reason in *error when ERROR is not
 * NULL. Texts are static.
 */
int pst_debversion_parse(const char *text, struct pst_debversion *out, const char **warning,
                         const char **error);

/* dpkg's order of two parsed versions: <0, 0 or >0. */
int pst_debversion_cmp(const struct pst_debversion *a, const struct pst_debversion *b);

/*
 * Compares two version strings as `dpkg --compare-versions` does. *ok (when not NULL) is
 * false when either is rejected by pst_debversion_parse; the result is then 0.
 */
int pst_debversion_compare(const char *a, const char *b, bool *ok);

#endif
