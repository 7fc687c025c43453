/* SPDX-License-Identifier: Apache-2.0 */
/* Writes JSON as json_dumps does, from jansson trees or token by token, into one growing buffer. */
#include "agent/jsonw.h"

#include "agent/error.h"
#include "probes/text.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* jansson's flag layout (jansson.h: JSON_INDENT, JSON_REAL_PRECISION). */
#define JSONW_INDENT(f) ((unsigned)((f)&0x1F))
#define JSONW_PRECISION(f) ((int)(((f) >> 11) & 0x1F))

/* Input bytes of a string handled per capacity check: the output of a chunk is at most six
 * bytes per input byte (\u00XX), plus a UTF-8 sequence that starts in the chunk. */
#define JSONW_CHUNK 4096u

/* Strings up to this long try the plain byte loop before the word loop of jsonw_escape. */
#define JSONW_SHORT 16u

/* What each byte below 0x80 turns into inside a string: 0 itself, 'u' \u00XX, else a
 * backslash and that letter. jansson escapes exactly '"', '\\' and the control characters,
 * with these five short forms; DEL and '/' stay as they are. */
static const char short_escape[0x80] = {
    ['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r',  ['\t'] = 't', [0x00] = 'u',
    [0x01] = 'u', [0x02] = 'u', [0x03] = 'u', [0x04] = 'u',  [0x05] = 'u', [0x06] = 'u',
    [0x07] = 'u', [0x0B] = 'u', [0x0E] = 'u', [0x0F] = 'u',  [0x10] = 'u', [0x11] = 'u',
    [0x12] = 'u', [0x13] = 'u', [0x14] = 'u', [0x15] = 'u',  [0x16] = 'u', [0x17] = 'u',
    [0x18] = 'u', [0x19] = 'u', [0x1A] = 'u', [0x1B] = 'u',  [0x1C] = 'u', [0x1D] = 'u',
    [0x1E] = 'u', [0x1F] = 'u', ['"'] = '"',  ['\\'] = '\\',
};

/* Grows the buffer to hold N more bytes and a NUL; it at least doubles, so that a document
 * costs a handful of reallocations. */
static int jsonw_grow(struct pst_jsonw *w, size_t n)
{
    size_t need, cap;
    char *nb;

    if (n > SIZE_MAX / 4 - w->len) {
        return PST_ETOOBIG;
    }
    need = w->len + n + 1;
    cap = w->cap < 4096 ? 4096 : w->cap;
    while (cap < need) {
        cap *= 2;
    }
    nb = realloc(w->buf, cap);
    if (nb == NULL) {
        return PST_ENOMEM;
    }
    w->buf = nb;
    w->cap = cap;
    return PST_OK;
}

/* Makes room for N more bytes and a NUL; inline, as it runs once or twice per token. */
static inline int jsonw_reserve(struct pst_jsonw *w, size_t n)
{
    return w->cap - w->len > n ? PST_OK : jsonw_grow(w, n);
}

/* Appends N bytes; inline, so that the punctuation's copies of one or two bytes are stores. */
static inline int jsonw_put(struct pst_jsonw *w, const char *s, size_t n)
{
    int rc = jsonw_reserve(w, n);

    if (rc == PST_OK) {
        memcpy(w->buf + w->len, s, n);
        w->len += n;
    }
    return rc;
}

/* True when one of the 8 bytes of X needs attention: below 0x20, '"', '\\' or non-ASCII. A
 * byte-wise "less than" and "equals" without branches (the borrow of a subtraction reaches
 * the high bit of a byte that was smaller); a false alarm only sends the word to the byte
 * path. */
static inline bool word_special(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t quote = x ^ (ones * '"'), bslash = x ^ (ones * '\\');
    uint64_t control = (x - ones * 0x20) & ~x;

    quote = (quote - ones) & ~quote;
    bslash = (bslash - ones) & ~bslash;
    return ((control | quote | bslash | x) & highs) != 0;
}

/* Length of the well-formed UTF-8 sequence at P (before END), or 0: the rules of jansson's
 * utf8_iterate, which are RFC 3629's (no overlong forms, no surrogates, nothing above
 * U+10FFFF). */
static size_t utf8_sequence(const unsigned char *p, const unsigned char *end)
{
    size_t avail = (size_t)(end - p), n;
    unsigned char lo = 0x80, hi = 0xBF;

    if (p[0] >= 0xC2 && p[0] <= 0xDF) {
        n = 2;
    } else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
        n = 3;
        lo = p[0] == 0xE0 ? 0xA0 : 0x80;
        hi = p[0] == 0xED ? 0x9F : 0xBF;
    } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
        n = 4;
        lo = p[0] == 0xF0 ? 0x90 : 0x80;
        hi = p[0] == 0xF4 ? 0x8F : 0xBF;
    } else {
        return 0;
    }
    if (avail < n || p[1] < lo || p[1] > hi) {
        return 0;
    }
    for (size_t i = 2; i < n; i++) {
        if (p[i] < 0x80 || p[i] > 0xBF) {
            return 0;
        }
    }
    return n;
}

/* Appends S (N bytes, NULs allowed) escaped as inside a JSON string, without the quotes.
 * Runs of plain ASCII are copied eight bytes at a time; the capacity is checked once per
 * chunk, not per byte. */
static int jsonw_escape(struct pst_jsonw *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    int rc = PST_OK;
    char *o;

    while (p < end) {
        size_t left = (size_t)(end - p);
        const unsigned char *stop = p + (left < JSONW_CHUNK ? left : JSONW_CHUNK);

        rc = jsonw_reserve(w, 6 * (size_t)(stop - p) + 8);
        if (rc != PST_OK) {
            return rc;
        }
        o = w->buf + w->len;
        while (p < stop) {
            uint64_t word;
            while (stop - p >= 8) {
                memcpy(&word, p, sizeof(word));
                if (word_special(word)) {
                    break;
                }
                memcpy(o, p, 8);
                o += 8;
                p += 8;
            }
            if (p >= stop) {
                break;
            }
            unsigned char c = *p;
            if (c >= 0x80) {
                size_t len = utf8_sequence(p, end);
                if (len == 0) {
                    return PST_EPARSE;
                }
                memcpy(o, p, len);
                o += len;
                p += len;
            } else if (short_escape[c] == 0) {
                *o++ = (char)c;
                p++;
            } else if (short_escape[c] != 'u') {
                *o++ = '\\';
                *o++ = short_escape[c];
                p++;
            } else {
                memcpy(o, "\\u00", 4);
                o[4] = hex[c >> 4];
                o[5] = hex[c & 0xF];
                o += 6;
                p++;
            }
        }
        w->len = (size_t)(o - w->buf);
    }
    return PST_OK;
}

/* Writes S (N bytes, NULs allowed) as a quoted JSON string. */
static int jsonw_string(struct pst_jsonw *w, const char *s, size_t n)
{
    int rc = jsonw_reserve(w, n + 2);
    size_t i = 0;

    if (rc != PST_OK) {
        return rc;
    }
    w->buf[w->len++] = '"';
    /* most strings are short and plain (keys, names, states): copied byte by byte with one
     * check of the capacity, the first byte that needs more handed to jsonw_escape */
    if (n <= JSONW_SHORT) {
        char *o = w->buf + w->len;
        while (i < n && (unsigned char)s[i] < 0x80 && short_escape[(unsigned char)s[i]] == 0) {
            o[i] = s[i];
            i++;
        }
        w->len += i;
    }
    rc = i < n ? jsonw_escape(w, s + i, n - i) : PST_OK;
    return rc == PST_OK ? jsonw_put(w, "\"", 1) : rc;
}

/* An integer as "%lld" prints it, without printf. */
static int jsonw_integer(struct pst_jsonw *w, json_int_t value)
{
    char text[PST_TEXT_DECIMAL_MAX];
    char *p = pst_text_decimal(text + sizeof(text), (long long)value);

    return jsonw_put(w, p, (size_t)(text + sizeof(text) - p));
}

/* A real as jansson 2.14 prints it (strconv.c, built without dtoa as Debian builds it):
 * "%.17g" (or the precision asked for), the decimal point a '.' whatever the locale, ".0"
 * after a text that would read back as an integer, and the exponent without '+' and without
 * leading zeros. */
static int jsonw_real(struct pst_jsonw *w, double value)
{
    char text[64], out[64];
    size_t o = 0;
    int n = snprintf(text, sizeof(text), "%.*g", w->precision, value);
    bool point = false, exponent = false;

    /* jansson keeps no NaN or infinity in a tree (json_real refuses them) */
    if (!isfinite(value) || n < 0 || (size_t)n >= sizeof(text)) {
        return PST_EINVAL;
    }
    for (int i = 0; i < n; i++) {
        char c = text[i];
        if (c == 'e') {
            exponent = true;
            out[o++] = 'e';
            i++;
            if (text[i] == '-') {
                out[o++] = '-';
            }
            if (text[i] == '-' || text[i] == '+') {
                i++;
            }
            while (text[i] == '0') {
                i++;
            }
            i--;
        } else if ((c >= '0' && c <= '9') || c == '-') {
            out[o++] = c;
        } else {
            /* the locale's decimal point */
            point = true;
            out[o++] = '.';
        }
    }
    if (!point && !exponent) {
        out[o++] = '.';
        out[o++] = '0';
    }
    return jsonw_put(w, out, o);
}

/* A line break and DEPTH levels of indentation, or the single space json_dumps puts after
 * ',' on one line (SPACE) unless compact. */
static int jsonw_indent(struct pst_jsonw *w, unsigned depth, bool space)
{
    int rc = PST_OK;

    if (w->indent > 0) {
        size_t n = (size_t)depth * w->indent;
        rc = jsonw_reserve(w, n + 1);
        if (rc == PST_OK) {
            w->buf[w->len++] = '\n';
            memset(w->buf + w->len, ' ', n);
            w->len += n;
        }
    } else if (space && !w->compact) {
        rc = jsonw_put(w, " ", 1);
    }
    return rc;
}

/* Writes VALUE at nesting DEPTH (the number of containers around it). */
static int jsonw_value(struct pst_jsonw *w, const json_t *value, unsigned depth)
{
    int rc = PST_EINVAL;

    if (value == NULL) {
        return PST_EINVAL;
    }
    switch (json_typeof(value)) {
    case JSON_NULL:
        return jsonw_put(w, "null", 4);
    case JSON_TRUE:
        return jsonw_put(w, "true", 4);
    case JSON_FALSE:
        return jsonw_put(w, "false", 5);
    case JSON_INTEGER:
        return jsonw_integer(w, json_integer_value(value));
    case JSON_REAL:
        return jsonw_real(w, json_real_value(value));
    case JSON_STRING:
        return jsonw_string(w, json_string_value(value), json_string_length(value));
    case JSON_ARRAY: {
        size_t n = json_array_size(value);
        if (depth >= PST_JSONW_MAX_DEPTH) {
            return PST_ETOOBIG;
        }
        if ((rc = jsonw_put(w, "[", 1)) != PST_OK) {
            return rc;
        }
        if (n == 0) {
            return jsonw_put(w, "]", 1);
        }
        rc = jsonw_indent(w, depth + 1, false);
        for (size_t i = 0; i < n && rc == PST_OK; i++) {
            rc = jsonw_value(w, json_array_get(value, i), depth + 1);
            if (rc == PST_OK && i + 1 < n) {
                rc = jsonw_put(w, ",", 1);
                rc = rc == PST_OK ? jsonw_indent(w, depth + 1, true) : rc;
            } else if (rc == PST_OK) {
                rc = jsonw_indent(w, depth, false);
            }
        }
        return rc == PST_OK ? jsonw_put(w, "]", 1) : rc;
    }
    case JSON_OBJECT: {
        void *iter = json_object_iter((json_t *)value);
        if (depth >= PST_JSONW_MAX_DEPTH) {
            return PST_ETOOBIG;
        }
        if ((rc = jsonw_put(w, "{", 1)) != PST_OK) {
            return rc;
        }
        if (iter == NULL) {
            return jsonw_put(w, "}", 1);
        }
        rc = jsonw_indent(w, depth + 1, false);
        while (iter != NULL && rc == PST_OK) {
            void *next = json_object_iter_next((json_t *)value, iter);
            rc = jsonw_string(w, json_object_iter_key(iter), json_object_iter_key_len(iter));
            if (rc == PST_OK) {
                rc = w->compact ? jsonw_put(w, ":", 1) : jsonw_put(w, ": ", 2);
            }
            if (rc == PST_OK) {
                rc = jsonw_value(w, json_object_iter_value(iter), depth + 1);
            }
            if (rc == PST_OK && next != NULL) {
                rc = jsonw_put(w, ",", 1);
                rc = rc == PST_OK ? jsonw_indent(w, depth + 1, true) : rc;
            } else if (rc == PST_OK) {
                rc = jsonw_indent(w, depth, false);
            }
            iter = next;
        }
        return rc == PST_OK ? jsonw_put(w, "}", 1) : rc;
    }
    default:
        return PST_EINVAL;
    }
}

/* Sets W's flags and empties it; PST_EINVAL for flags it does not take. */
static int jsonw_setup(struct pst_jsonw *w, size_t flags)
{
    *w = (struct pst_jsonw){
        .indent = JSONW_INDENT(flags),
        .compact = (flags & JSON_COMPACT) != 0,
        .precision = JSONW_PRECISION(flags) != 0 ? JSONW_PRECISION(flags) : 17,
    };
    return (flags & ~PST_JSONW_FLAGS) != 0 ? PST_EINVAL : PST_OK;
}

/* Keeps RC as W's error when it is the first; returns W's error. */
static int jsonw_keep(struct pst_jsonw *w, int rc)
{
    if (w->error == PST_OK) {
        w->error = rc;
    }
    return w->error;
}

int pst_jsonw_dumps(const json_t *json, size_t flags, char **out, size_t *len)
{
    struct pst_jsonw w;
    int rc = jsonw_setup(&w, flags);

    *out = NULL;
    *len = 0;
    if (rc != PST_OK || json == NULL) {
        rc = PST_EINVAL;
        goto out;
    }
    if (!(flags & JSON_ENCODE_ANY) && !json_is_array(json) && !json_is_object(json)) {
        rc = PST_EINVAL;
        goto out;
    }
    rc = jsonw_value(&w, json, 0);
    if (rc == PST_OK) {
        rc = jsonw_reserve(&w, 0);
    }
    if (rc == PST_OK) {
        w.buf[w.len] = '\0';
        *out = w.buf;
        *len = w.len;
        w.buf = NULL;
    }
out:
    free(w.buf);
    return rc;
}

int pst_jsonw_init(struct pst_jsonw *w, size_t flags)
{
    w->error = jsonw_setup(w, flags);
    return w->error;
}

void pst_jsonw_release(struct pst_jsonw *w)
{
    free(w->buf);
    w->buf = NULL;
    w->len = w->cap = 0;
}

void pst_jsonw_reset(struct pst_jsonw *w)
{
    w->len = 0;
    w->depth = 0;
    w->object = 0;
    w->first = w->keyed = false;
    w->error = PST_OK;
}

const char *pst_jsonw_text(struct pst_jsonw *w)
{
    if (w->error != PST_OK || w->len == 0 || jsonw_keep(w, jsonw_reserve(w, 0)) != PST_OK) {
        return NULL;
    }
    w->buf[w->len] = '\0';
    return w->buf;
}

int pst_jsonw_finish(struct pst_jsonw *w, char **out, size_t *len)
{
    int rc = w->error;

    *out = NULL;
    *len = 0;
    if (rc == PST_OK && (w->depth != 0 || w->keyed || w->len == 0)) {
        rc = PST_EINVAL;
    }
    if (rc == PST_OK) {
        rc = jsonw_reserve(w, 0);
    }
    if (rc == PST_OK) {
        w->buf[w->len] = '\0';
        *out = w->buf;
        *len = w->len;
        w->buf = NULL;
    }
    pst_jsonw_release(w);
    return rc;
}

/* Whether the innermost open container is an object. */
static bool jsonw_in_object(const struct pst_jsonw *w)
{
    return w->depth > 0 && (w->object >> (w->depth - 1) & 1u) != 0;
}

/* What json_dumps puts before a member of the innermost container: a line break and the
 * indentation before the first, a ',' and then the same (or one space) before the others. */
static int jsonw_member(struct pst_jsonw *w)
{
    int rc = PST_OK;

    if (!w->first) {
        rc = jsonw_put(w, ",", 1);
    }
    if (rc == PST_OK) {
        rc = jsonw_indent(w, w->depth, !w->first);
    }
    w->first = false;
    return rc;
}

/* Everything a value needs written before it: nothing after its key or as the root, the
 * member separator in an array. PST_EINVAL for a value in an object without its key, or a
 * second root. */
static int jsonw_before_value(struct pst_jsonw *w)
{
    if (w->error != PST_OK) {
        return w->error;
    }
    if (w->keyed) {
        w->keyed = false;
        return PST_OK;
    }
    if (w->depth == 0) {
        return jsonw_keep(w, w->len == 0 ? PST_OK : PST_EINVAL);
    }
    if (jsonw_in_object(w)) {
        return jsonw_keep(w, PST_EINVAL);
    }
    return jsonw_keep(w, jsonw_member(w));
}

/* Opens an object (OBJECT) or an array. */
static int jsonw_begin(struct pst_jsonw *w, bool object)
{
    int rc = jsonw_before_value(w);

    if (rc != PST_OK) {
        return rc;
    }
    if (w->depth >= PST_JSONW_STREAM_DEPTH) {
        return jsonw_keep(w, PST_ETOOBIG);
    }
    rc = jsonw_put(w, object ? "{" : "[", 1);
    if (object) {
        w->object |= (uint64_t)1 << w->depth;
    } else {
        w->object &= ~((uint64_t)1 << w->depth);
    }
    w->depth++;
    w->first = true;
    return jsonw_keep(w, rc);
}

/* Closes the innermost container, which must be an object (OBJECT) or an array. */
static int jsonw_end(struct pst_jsonw *w, bool object)
{
    int rc = PST_OK;

    if (w->error != PST_OK) {
        return w->error;
    }
    if (w->depth == 0 || w->keyed || jsonw_in_object(w) != object) {
        return jsonw_keep(w, PST_EINVAL);
    }
    if (!w->first) {
        rc = jsonw_indent(w, w->depth - 1, false);
    }
    if (rc == PST_OK) {
        rc = jsonw_put(w, object ? "}" : "]", 1);
    }
    w->depth--;
    /* the container just closed is a member of its parent */
    w->first = false;
    return jsonw_keep(w, rc);
}

int pst_jsonw_begin_object(struct pst_jsonw *w)
{
    return jsonw_begin(w, true);
}

int pst_jsonw_end_object(struct pst_jsonw *w)
{
    return jsonw_end(w, true);
}

int pst_jsonw_begin_array(struct pst_jsonw *w)
{
    return jsonw_begin(w, false);
}

int pst_jsonw_end_array(struct pst_jsonw *w)
{
    return jsonw_end(w, false);
}

int pst_jsonw_key(struct pst_jsonw *w, const char *key)
{
    int rc;

    if (w->error != PST_OK) {
        return w->error;
    }
    if (!jsonw_in_object(w) || w->keyed || key == NULL) {
        return jsonw_keep(w, PST_EINVAL);
    }
    rc = jsonw_member(w);
    if (rc == PST_OK) {
        rc = jsonw_string(w, key, strlen(key));
    }
    if (rc == PST_OK) {
        rc = w->compact ? jsonw_put(w, ":", 1) : jsonw_put(w, ": ", 2);
    }
    w->keyed = true;
    return jsonw_keep(w, rc);
}

int pst_jsonw_string(struct pst_jsonw *w, const char *s)
{
    int rc = jsonw_before_value(w);

    if (rc != PST_OK) {
        return rc;
    }
    return jsonw_keep(w, s != NULL ? jsonw_string(w, s, strlen(s)) : jsonw_put(w, "null", 4));
}

int pst_jsonw_string_parts(struct pst_jsonw *w, const char *const *parts, size_t n)
{
    int rc = jsonw_before_value(w);

    if (rc != PST_OK) {
        return rc;
    }
    rc = jsonw_put(w, "\"", 1);
    for (size_t i = 0; i < n && rc == PST_OK; i++) {
        rc = parts[i] != NULL ? jsonw_escape(w, parts[i], strlen(parts[i])) : PST_EINVAL;
    }
    if (rc == PST_OK) {
        rc = jsonw_put(w, "\"", 1);
    }
    return jsonw_keep(w, rc);
}

int pst_jsonw_integer(struct pst_jsonw *w, json_int_t value)
{
    int rc = jsonw_before_value(w);

    return rc != PST_OK ? rc : jsonw_keep(w, jsonw_integer(w, value));
}

int pst_jsonw_real(struct pst_jsonw *w, double value)
{
    int rc = jsonw_before_value(w);

    return rc != PST_OK ? rc : jsonw_keep(w, jsonw_real(w, value));
}

int pst_jsonw_bool(struct pst_jsonw *w, bool value)
{
    int rc = jsonw_before_value(w);

    if (rc != PST_OK) {
        return rc;
    }
    return jsonw_keep(w, value ? jsonw_put(w, "true", 4) : jsonw_put(w, "false", 5));
}

int pst_jsonw_null(struct pst_jsonw *w)
{
    int rc = jsonw_before_value(w);

    return rc != PST_OK ? rc : jsonw_keep(w, jsonw_put(w, "null", 4));
}

int pst_jsonw_value(struct pst_jsonw *w, const json_t *value)
{
    int rc = jsonw_before_value(w);

    if (rc != PST_OK) {
        return rc;
    }
    return jsonw_keep(w, value != NULL ? jsonw_value(w, value, w->depth) : jsonw_put(w, "null", 4));
}
