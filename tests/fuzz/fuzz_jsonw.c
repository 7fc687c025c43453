/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the JSON writer, from trees and as a stream, against json_dumps. */
#include "agent/error.h"
#include "agent/jsonw.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The report's flags, the signed payload's, and the other combinations the writer takes. */
static const size_t flag_sets[] = {
    JSON_INDENT(2) | JSON_REAL_PRECISION(17),
    JSON_COMPACT | JSON_REAL_PRECISION(17),
    0,
    JSON_INDENT(1) | JSON_COMPACT | JSON_ENCODE_ANY,
    JSON_INDENT(31) | JSON_REAL_PRECISION(3) | JSON_ENCODE_ANY,
};

/* Writes JSON into the stream W token by token, every third member (and what the stream's
 * C-string calls cannot say, and nesting past its bound) as a tree. False when a key holds a
 * NUL, which no C-string call writes. */
static bool stream(struct pst_jsonw *w, const json_t *json, size_t nth)
{
    bool ok = true;
    size_t i = 0;

    if (nth % 3 == 2 || w->depth + 1 >= PST_JSONW_STREAM_DEPTH) {
        pst_jsonw_value(w, json);
        return true;
    }
    if (json_is_object(json)) {
        const char *key;
        size_t key_len;
        json_t *value;
        pst_jsonw_begin_object(w);
        json_object_keylen_foreach((json_t *)json, key, key_len, value)
        {
            ok = ok && memchr(key, '\0', key_len) == NULL;
            pst_jsonw_key(w, key);
            ok = stream(w, value, i++) && ok;
        }
        pst_jsonw_end_object(w);
    } else if (json_is_array(json)) {
        json_t *value;
        pst_jsonw_begin_array(w);
        json_array_foreach(json, i, value)
        {
            ok = stream(w, value, i) && ok;
        }
        pst_jsonw_end_array(w);
    } else if (json_is_string(json) &&
               memchr(json_string_value(json), '\0', json_string_length(json)) == NULL) {
        pst_jsonw_string(w, json_string_value(json));
    } else if (json_is_integer(json)) {
        pst_jsonw_integer(w, json_integer_value(json));
    } else if (json_is_real(json)) {
        pst_jsonw_real(w, json_real_value(json));
    } else if (json_is_boolean(json)) {
        pst_jsonw_bool(w, json_is_true(json));
    } else if (json_is_null(json)) {
        pst_jsonw_null(w);
    } else {
        pst_jsonw_value(w, json);
    }
    return ok;
}

/* Both writers print JSON alike, or both fail; and the stream prints what json_dumps does. */
static void compare(const json_t *json, size_t flags)
{
    char *want = json_dumps(json, flags), *got = NULL;
    size_t len = 0;
    int rc = pst_jsonw_dumps(json, flags, &got, &len);
    struct pst_jsonw w;

    if ((want == NULL) != (rc != PST_OK)) {
        __builtin_trap();
    }
    if (want != NULL && (len != strlen(want) || memcmp(want, got, len) != 0)) {
        __builtin_trap();
    }
    free(got);
    got = NULL;
    if (want != NULL && pst_jsonw_init(&w, flags) == PST_OK) {
        bool comparable = stream(&w, json, 0);
        rc = pst_jsonw_finish(&w, &got, &len);
        if (comparable && (rc != PST_OK || len != strlen(want) || memcmp(want, got, len) != 0)) {
            __builtin_trap();
        }
    }
    free(want);
    free(got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *doc, *raw;

    /* bounded: jansson limits the nesting, this the size */
    if (size > 1024 * 1024) {
        return 0;
    }
    doc = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (doc != NULL) {
        for (size_t i = 0; i < sizeof(flag_sets) / sizeof(flag_sets[0]); i++) {
            compare(doc, flag_sets[i]);
        }
        json_decref(doc);
    }
    /* the input's bytes as one string value, unchecked as a _nocheck constructor takes them:
     * escapes and UTF-8 validation against jansson's */
    raw = json_array();
    if (raw != NULL &&
        json_array_append_new(raw, json_stringn_nocheck((const char *)data, size)) == 0) {
        compare(raw, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
        compare(raw, JSON_COMPACT);
    }
    json_decref(raw);
    return 0;
}
