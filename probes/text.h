/* SPDX-License-Identifier: Apache-2.0 */
/* Line-oriented helpers shared by the probes that read configuration files. */
#ifndef PST_TEXT_H
#define PST_TEXT_H

#include <stddef.h>

/*
 * Iterates over the lines of BUF (modified in place: each line is NUL-terminated, a
 * trailing '\r' removed). *cursor starts at BUF; each call returns the next line and
 * advances *lineno, or NULL at the end.
 */
char *pst_text_next_line(char **cursor, long *lineno);

/* Skips leading blanks (space, tab). */
char *pst_text_skip_blanks(char *s);

/* Removes trailing blanks in place. */
void pst_text_rstrip(char *s);

/* Removes one pair of matching surrounding quotes ('..' or "..") in place. */
void pst_text_unquote(char *s);

/*
 * A copy of S safe to print on a terminal: C0 control characters (tab and newline too),
 * DEL and the UTF-8 encodings of C1 controls become '?', so that text read from a scanned
 * system cannot move the cursor, retitle the terminal or hide lines. Caller frees; NULL
 * when out of memory.
 */
char *pst_text_printable(const char *s);

/* Room pst_text_decimal needs before its END: a sign and 19 digits. */
#define PST_TEXT_DECIMAL_MAX 20

/*
 * Writes V's decimal digits, as "%lld" prints them, into the PST_TEXT_DECIMAL_MAX bytes
 * before END (no NUL); returns where they start. For the hot paths (call keys, the JSON
 * writer) where snprintf's reading of its format costs more than the digits.
 */
char *pst_text_decimal(char *end, long long v);

#endif
