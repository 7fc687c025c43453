/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: a fact's source as a probe reads it, checked against Jansson's UTF-8. */
#include "agent/error.h"
#include "probes/probe.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *source; /* what the probe below takes as its fact's source */

static const struct pst_probe_field fields[] = {{"seen", PST_TYPE_BOOL, "always true"}};

static int collect(struct pst_probe_ctx *ctx, const json_t *args, struct pst_facts *out)
{
    (void)ctx;
    (void)args;
    /* twice, as probes set several facts from one file: the second shares the first's copy */
    if (pst_facts_set(out, "seen", json_true(), source) != PST_OK) {
        return PST_ENOMEM;
    }
    return pst_facts_set(out, "seen", json_true(), source);
}

static const struct pst_probe probe = {
    .name = "fuzz",
    .summary = "one fact whose source is the input",
    .fields = fields,
    .n_fields = 1,
    .collect = collect,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pst_probe_ctx ctx;
    const struct pst_call *call = NULL;
    char *text;
    json_t *jansson = json_stringn((const char *)data, size);

    /* the validator agrees with Jansson on every byte string, NULs included */
    if (pst_utf8_valid((const char *)data, size) != (jansson != NULL)) {
        __builtin_trap();
    }
    json_decref(jansson);
    /* a source is a C string: up to its first NUL */
    text = malloc(size + 1);
    if (text == NULL) {
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    source = text;
    if (pst_probe_ctx_init(&ctx, NULL) != PST_OK) {
        abort();
    }
    if (pst_probe_call(&ctx, &probe, NULL, &call) != PST_OK) {
        __builtin_trap(); /* only running out of memory may fail a call */
    }
    /* kept as the report always wrote it: pst_json_text's string */
    const struct pst_fact *fact = pst_call_fact(call, &fields[0]);
    json_t *want = pst_json_text(text);
    if (fact == NULL || want == NULL || strcmp(fact->source, json_string_value(want)) != 0 ||
        !pst_utf8_valid(fact->source, strlen(fact->source))) {
        __builtin_trap();
    }
    json_decref(want);
    pst_probe_ctx_release(&ctx);
    free(text);
    return 0;
}
