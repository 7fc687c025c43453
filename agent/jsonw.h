/* SPDX-License-Identifier: Apache-2.0 */
/* A JSON writer for jansson trees that prints what json_dumps prints, in one pass and buffer. */
#ifndef PST_JSONW_H
#define PST_JSONW_H

#include <jansson.h>
#include <stddef.h>

/* Containers nested deeper than this are refused (PST_ETOOBIG). It is jansson's own parser
 * limit (JSON_PARSER_MAX_DEPTH), so every document jansson loads fits; a tree with a cycle
 * reaches it and fails as json_dumps fails on one. */
#define PST_JSONW_MAX_DEPTH 2048

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

#endif
