/* SPDX-License-Identifier: Apache-2.0 */
/* A report payload read without a JSON tree: strict validation plus the few fields ingest keeps. */
#ifndef PST_COLLECTOR_PAYLOAD_H
#define PST_COLLECTOR_PAYLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* The JSON type of a field read from the payload; PST_JV_ABSENT when the key is not there. */
enum pst_jv_kind {
    PST_JV_ABSENT,
    PST_JV_STRING,
    PST_JV_INTEGER,
    PST_JV_REAL,
    PST_JV_TRUE,
    PST_JV_FALSE,
    PST_JV_NULL,
    PST_JV_OBJECT,
    PST_JV_ARRAY,
};

struct pst_jv {
    enum pst_jv_kind kind;
    const char *string; /* PST_JV_STRING: decoded, NUL-terminated, owned by the payload */
    int64_t integer;    /* PST_JV_INTEGER */
    double real;        /* PST_JV_REAL */
};

struct pst_payload {
    bool is_object; /* the top-level value is an object (else an array) */
    struct pst_jv schema, host_id, seq, hostname;    /* top level, host.hostname */
    struct pst_jv score_current, score_max, percent; /* score.secure.{current,max,percent} */
    /*
     * controls[] when it is an array: one object per element that is an object, holding only
     * the members the fleet score reads (id, title, max_score, in_score, healthy) when they are
     * strings, integers or booleans. NULL otherwise.
     */
    json_t *controls;
    char *text; /* storage of the decoded strings */
};

/*
 * Reads TEXT (LEN bytes) as json_loadb(JSON_REJECT_DUPLICATES) would, accepting and refusing
 * exactly the same texts (RFC 8259 grammar, valid UTF-8, no \u0000, paired surrogates, no
 * duplicate key in any object, integers within int64, no real overflow, nesting up to
 * JSON_PARSER_MAX_DEPTH, an object or array at the top, nothing after it), without building a
 * tree: only the fields of struct pst_payload are kept. tests/fuzz/fuzz_payload.c compares it
 * with Jansson. Returns 0, PST_EPARSE (OUT then holds nothing) or PST_ENOMEM.
 */
int pst_payload_read(const char *text, size_t len, struct pst_payload *out);
void pst_payload_release(struct pst_payload *p);

#endif
