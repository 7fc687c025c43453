/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the JSON writer against json_dumps, on loaded documents and raw strings. */
#include "agent/error.h"
#include "agent/jsonw.h"

#include <jansson.h>
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

/* Both writers print JSON alike, or both fail. */
static void compare(const json_t *json, size_t flags)
{
    char *want = json_dumps(json, flags), *got = NULL;
    size_t len = 0;
    int rc = pst_jsonw_dumps(json, flags, &got, &len);

    if ((want == NULL) != (rc != PST_OK)) {
        __builtin_trap();
    }
    if (want != NULL && (len != strlen(want) || memcmp(want, got, len) != 0)) {
        __builtin_trap();
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
