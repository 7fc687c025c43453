/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the collector's payload reader, checked against Jansson on every input. */
#include "agent/error.h"
#include "collector/payload.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Stops the run when the reader and Jansson disagree: that is the bug this target looks for. */
#define AGREE(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_payload: disagrees with Jansson: %s\n", #cond);                  \
            __builtin_trap();                                                                      \
        }                                                                                          \
    } while (0)

/* VALUE as the reader should have kept it. */
static void same(const json_t *value, const struct pst_jv *jv)
{
    if (value == NULL) {
        AGREE(jv->kind == PST_JV_ABSENT);
    } else if (json_is_string(value)) {
        AGREE(jv->kind == PST_JV_STRING && strcmp(jv->string, json_string_value(value)) == 0);
    } else if (json_is_integer(value)) {
        AGREE(jv->kind == PST_JV_INTEGER && jv->integer == json_integer_value(value));
    } else if (json_is_real(value)) {
        double a = json_real_value(value);
        AGREE(jv->kind == PST_JV_REAL && (a == jv->real || (isnan(a) && isnan(jv->real))));
    } else if (json_is_true(value)) {
        AGREE(jv->kind == PST_JV_TRUE);
    } else if (json_is_false(value)) {
        AGREE(jv->kind == PST_JV_FALSE);
    } else if (json_is_null(value)) {
        AGREE(jv->kind == PST_JV_NULL);
    } else if (json_is_object(value)) {
        AGREE(jv->kind == PST_JV_OBJECT);
    } else {
        AGREE(jv->kind == PST_JV_ARRAY);
    }
}

/* A control member as the reader keeps it: strings, integers and booleans only. */
static void same_member(const json_t *ref, const json_t *ours, const char *key)
{
    const json_t *a = json_object_get(ref, key), *b = json_object_get(ours, key);

    if (json_is_string(a) || json_is_integer(a) || json_is_boolean(a)) {
        AGREE(b != NULL && json_equal((json_t *)a, (json_t *)b));
    } else {
        AGREE(b == NULL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t err;
    json_t *ref = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &err);
    struct pst_payload p;
    int rc = pst_payload_read((const char *)data, size, &p);

    AGREE((ref != NULL) == (rc == PST_OK));
    if (ref != NULL) {
        const json_t *secure = json_object_get(json_object_get(ref, "score"), "secure");
        const json_t *controls = json_object_get(ref, "controls");
        size_t n = 0, i;
        const json_t *c;

        AGREE(p.is_object == json_is_object(ref));
        same(json_object_get(ref, "schema"), &p.schema);
        same(json_object_get(ref, "host_id"), &p.host_id);
        same(json_object_get(ref, "seq"), &p.seq);
        same(json_object_get(json_object_get(ref, "host"), "hostname"), &p.hostname);
        same(json_object_get(secure, "current"), &p.score_current);
        same(json_object_get(secure, "max"), &p.score_max);
        same(json_object_get(secure, "percent"), &p.percent);
        AGREE(json_is_array(controls) == (p.controls != NULL));
        json_array_foreach(controls, i, c)
        {
            const json_t *ours;
            if (!json_is_object(c)) {
                continue;
            }
            ours = json_array_get(p.controls, n++);
            AGREE(ours != NULL);
            same_member(c, ours, "id");
            same_member(c, ours, "title");
            same_member(c, ours, "max_score");
            same_member(c, ours, "in_score");
            same_member(c, ours, "healthy");
        }
        AGREE(n == json_array_size(p.controls));
    }
    pst_payload_release(&p);
    json_decref(ref);
    return 0;
}
