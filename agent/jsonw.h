/* SPDX-License-Identifier: Apache-2.0 */
/* A JSON writer that prints what json_dumps prints, from jansson trees or token by token. */
#ifndef PST_JSONW_H
#define PST_JSONW_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Containers nested deeper than this are refused (PST_ETOOBIG). It is jansson's own parser
 * limit (JSON_PARSER_MAX_DEPTH), so every document jansson loads fits; a tree with a cycle
 * reaches it and fails as json_dumps fails on one. */
#define PST_JSONW_MAX_DEPTH 2048

/* Containers a stream may open (pst_jsonw_begin_*) around each other; a tree written into a
 * stream with pst_jsonw_value may nest further, up to PST_JSONW_MAX_DEPTH in all. */
#define PST_JSONW_STREAM_DEPTH 64

/* The json_dumps flags this writer takes: JSON_INDENT(n), JSON_COMPACT, JSON_ENCODE_ANY,
 * JSON_REAL_PRECISION(n) and JSON_PRESERVE_ORDER (a no-op since jansson 2.8). The others
 * (JSON_SORT_KEYS, JSON_ENSURE_ASCII, JSON_ESCAPE_SLASH, JSON_EMBED) are refused. */
#define PST_JSONW_FLAGS                                                                            \
    ((size_t)JSON_MAX_INDENT | JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER |              \
     JSON_REAL_PRECISION(0x1F))

/* Serializes JSON with FLAGS into a new NUL-terminated buffer, byte for byte as
 * json_dumps(JSON, FLAGS) does: objects in insertion order, jansson's escapes and number
 * texts, its separators and indentation. It fails where json_dumps fails (a string or key
 * that is not valid UTF-8, a root that is not an array or object without JSON_ENCODE_ANY, a
 * cycle) and, unlike it, on nesting deeper than PST_JSONW_MAX_DEPTH. On success *OUT
 * (owned by the caller, free()) holds the text and *LEN its length without the NUL; the
 * buffer may be larger than *LEN + 1. Returns PST_OK, PST_EINVAL (flags, root), PST_EPARSE
 * (invalid UTF-8), PST_ETOOBIG (depth, size) or PST_ENOMEM; on failure *OUT is NULL. */
int pst_jsonw_dumps(const json_t *json, size_t flags, char **out, size_t *len);

/*
 * A document written token by token into one growing buffer, without building a tree: the
 * bytes json_dumps(TREE, FLAGS) gives for the tree those tokens describe. A caller keeps the
 * struct (on its stack), starts it with pst_jsonw_init, makes the calls in document order
 * and ends with pst_jsonw_finish (the text) or pst_jsonw_release (nothing). The members
 * are the writer's own.
 *
 * Errors are sticky: the first failure is kept in the struct, every later call does
 * nothing and returns it, and pst_jsonw_finish reports it; so a sequence of calls is checked
 * once at its end. Each call returns PST_OK or that first error: PST_EINVAL (a call out of
 * place: a key outside an object, a value without its key, an unbalanced end, a second
 * root), PST_EPARSE (a string that is not valid UTF-8), PST_ETOOBIG (nesting, size) or
 * PST_ENOMEM.
 */
struct pst_jsonw {
    char *buf;
    size_t len;
    size_t cap;
    unsigned indent; /* spaces per level, 0 for one line */
    bool compact;    /* no space after ',' and ':' */
    int precision;   /* significant digits of reals */
    unsigned depth;  /* containers open in the stream */
    uint64_t object; /* bit D: the container at depth D + 1 is an object */
    bool first;      /* the innermost open container has no member yet */
    bool keyed;      /* a key is written; its value comes next */
    int error;       /* the first failure, PST_OK while there is none */
};

/* Starts W empty, for FLAGS as pst_jsonw_dumps takes them (JSON_ENCODE_ANY changes nothing:
 * a stream may hold any root). PST_OK, or PST_EINVAL for a flag outside PST_JSONW_FLAGS
 * (kept as W's error). */
int pst_jsonw_init(struct pst_jsonw *w, size_t flags);

/* Frees W's buffer; W may be initialized again. */
void pst_jsonw_release(struct pst_jsonw *w);

/* Empties W (initialized with flags it takes) for a new document with the same flags,
 * keeping its buffer; a failure is forgotten. */
void pst_jsonw_reset(struct pst_jsonw *w);

/* The text written so far, NUL-terminated, still W's (valid until its next call); NULL when
 * W failed or holds nothing. For a short document used in place, as a scratch buffer. */
const char *pst_jsonw_text(struct pst_jsonw *w);

/* Hands the document over: *OUT (caller frees) holds it NUL-terminated and *LEN its length
 * without the NUL (the buffer may be larger). Fails with W's error, or PST_EINVAL when a
 * container is still open or nothing was written; then *OUT is NULL. W is released either
 * way. */
int pst_jsonw_finish(struct pst_jsonw *w, char **out, size_t *len);

int pst_jsonw_begin_object(struct pst_jsonw *w);
int pst_jsonw_end_object(struct pst_jsonw *w);
int pst_jsonw_begin_array(struct pst_jsonw *w);
int pst_jsonw_end_array(struct pst_jsonw *w);

/* The key of the next member of the innermost object (a C string, UTF-8). */
int pst_jsonw_key(struct pst_jsonw *w, const char *key);

/* A string value from a C string (UTF-8, checked as json_dumps checks it); NULL writes
 * null, as pst_json_string_or_null stores it. */
int pst_jsonw_string(struct pst_jsonw *w, const char *s);

/* One string value made of the N C strings PARTS[0..N-1] one after the other (each UTF-8),
 * without joining them in memory first. */
int pst_jsonw_string_parts(struct pst_jsonw *w, const char *const *parts, size_t n);

int pst_jsonw_integer(struct pst_jsonw *w, json_int_t value);

/* A real as json_real would hold it: a NaN or infinity is PST_EINVAL. */
int pst_jsonw_real(struct pst_jsonw *w, double value);

int pst_jsonw_bool(struct pst_jsonw *w, bool value);
int pst_jsonw_null(struct pst_jsonw *w);

/* VALUE (not changed, not kept) as the tree writer prints it at this place; NULL writes
 * null. */
int pst_jsonw_value(struct pst_jsonw *w, const json_t *value);

#endif
