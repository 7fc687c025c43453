/* SPDX-License-Identifier: Apache-2.0 */
/* A report payload read without a JSON tree: strict validation plus the few fields ingest keeps. */
#include "collector/payload.h"

#include "agent/error.h"
#include "transport/jws.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/*
 * Jansson parsing the whole payload into a tree (an allocation per value, a hash table per
 * object) was half of the collector's work per report, for a handful of fields. This reader
 * validates as json_loadb does and keeps only those fields; decoded strings go to one growing
 * buffer, and duplicate keys are found with one hash table over all the objects' keys.
 */

/* Where a value sits, for the fields that are kept. */
enum ctx {
    CTX_NONE,
    CTX_TOP,
    CTX_HOST,
    CTX_SCORE,
    CTX_SECURE,
    CTX_CONTROLS,
    CTX_CONTROL,
};

/* Which kept field a value is. */
enum field {
    F_NONE,
    F_SCHEMA,
    F_HOST_ID,
    F_SEQ,
    F_HOSTNAME,
    F_CURRENT,
    F_MAX,
    F_PERCENT,
    F_C_ID,
    F_C_TITLE,
    F_C_MAX_SCORE,
    F_C_IN_SCORE,
    F_C_HEALTHY,
    F_COUNT,
};

/* A value while parsing: strings are offsets into the text buffer, which may move. */
struct slot {
    enum pst_jv_kind kind;
    size_t off;
    int64_t integer;
    double real;
};

/* One key of one object in the duplicate table; len 0 and obj 0 mark a free entry. */
struct key_entry {
    uint64_t hash;
    uint32_t obj;
    uint32_t len;
    size_t off;
};

struct parser {
    const unsigned char *p, *end;
    char *text;
    size_t text_len, text_cap;
    struct key_entry *keys;
    size_t keys_cap, keys_used; /* keys_cap: a power of two */
    uint32_t objects;
    struct slot slots[F_COUNT];
    json_t *controls;
    int rc;
};

static void skip_ws(struct parser *ps)
{
    while (ps->p < ps->end &&
           (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')) {
        ps->p++;
    }
}

static bool fail(struct parser *ps, int rc)
{
    if (ps->rc == PST_OK) {
        ps->rc = rc;
    }
    return false;
}

/* Makes room for N more bytes of decoded text. */
static bool text_reserve(struct parser *ps, size_t n)
{
    size_t cap;
    char *t;

    if (ps->text_cap - ps->text_len >= n) {
        return true;
    }
    cap = ps->text_cap > 0 ? ps->text_cap : 256;
    while (cap - ps->text_len < n) {
        if (cap > SIZE_MAX / 2) {
            return fail(ps, PST_ENOMEM);
        }
        cap *= 2;
    }
    t = realloc(ps->text, cap);
    if (t == NULL) {
        return fail(ps, PST_ENOMEM);
    }
    ps->text = t;
    ps->text_cap = cap;
    return true;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* The four hex digits after "\u" at P, or -1. */
static long hex4(const unsigned char *p, const unsigned char *end)
{
    long v = 0;

    if (end - p < 4) {
        return -1;
    }
    for (int i = 0; i < 4; i++) {
        int h = hexval(p[i]);
        if (h < 0) {
            return -1;
        }
        v = v << 4 | h;
    }
    return v;
}

/* Length of the valid UTF-8 sequence at P (as Jansson's utf8_check_full), or 0. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned char c = p[0];
    size_t n;
    unsigned long v;

    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        v = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        v = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        v = c & 0x07;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n) {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }
        v = v << 6 | (p[i] & 0x3f);
    }
    if ((n == 3 && (v < 0x800 || (v >= 0xd800 && v <= 0xdfff))) ||
        (n == 4 && (v < 0x10000 || v > 0x10ffff))) {
        return 0;
    }
    return n;
}

static size_t put_utf8(unsigned long v, char *out)
{
    if (v < 0x80) {
        out[0] = (char)v;
        return 1;
    }
    if (v < 0x800) {
        out[0] = (char)(0xc0 | v >> 6);
        out[1] = (char)(0x80 | (v & 0x3f));
        return 2;
    }
    if (v < 0x10000) {
        out[0] = (char)(0xe0 | v >> 12);
        out[1] = (char)(0x80 | ((v >> 6) & 0x3f));
        out[2] = (char)(0x80 | (v & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | v >> 18);
    out[1] = (char)(0x80 | ((v >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((v >> 6) & 0x3f));
    out[3] = (char)(0x80 | (v & 0x3f));
    return 4;
}

/*
 * Reads the string at ps->p (after its opening quote has been checked) and appends its decoded
 * bytes and a NUL to the text buffer; *off and *len say where. The rules are Jansson's: no
 * control character, valid UTF-8, the JSON escapes only, \u surrogates in pairs, no \u0000.
 */
static bool parse_string(struct parser *ps, size_t *off, size_t *len)
{
    const unsigned char *p = ps->p + 1;

    *off = ps->text_len;
    for (;;) {
        const unsigned char *run = p;
        size_t n;

        /* Plain bytes are copied a run at a time. */
        while (p < ps->end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') {
            p++;
        }
        n = (size_t)(p - run);
        if (n > 0) {
            if (!text_reserve(ps, n)) {
                return false;
            }
            memcpy(ps->text + ps->text_len, run, n);
            ps->text_len += n;
        }
        if (p >= ps->end || *p < 0x20) {
            return fail(ps, PST_EPARSE);
        }
        if (*p == '"') {
            break;
        }
        if (!text_reserve(ps, 4)) {
            return false;
        }
        if (*p >= 0x80) {
            n = utf8_len(p, ps->end);
            if (n == 0) {
                return fail(ps, PST_EPARSE);
            }
            memcpy(ps->text + ps->text_len, p, n);
            ps->text_len += n;
            p += n;
            continue;
        }
        /* An escape. */
        if (ps->end - p < 2) {
            return fail(ps, PST_EPARSE);
        }
        switch (p[1]) {
        case '"':
        case '\\':
        case '/':
            ps->text[ps->text_len++] = (char)p[1];
            break;
        case 'b':
            ps->text[ps->text_len++] = '\b';
            break;
        case 'f':
            ps->text[ps->text_len++] = '\f';
            break;
        case 'n':
            ps->text[ps->text_len++] = '\n';
            break;
        case 'r':
            ps->text[ps->text_len++] = '\r';
            break;
        case 't':
            ps->text[ps->text_len++] = '\t';
            break;
        case 'u': {
            long v = hex4(p + 2, ps->end), v2;
            if (v < 0) {
                return fail(ps, PST_EPARSE);
            }
            if (v >= 0xd800 && v <= 0xdbff) {
                if (ps->end - (p + 6) < 2 || p[6] != '\\' || p[7] != 'u' ||
                    (v2 = hex4(p + 8, ps->end)) < 0xdc00 || v2 > 0xdfff) {
                    return fail(ps, PST_EPARSE);
                }
                v = 0x10000 + ((v - 0xd800) << 10) + (v2 - 0xdc00);
                p += 6;
            } else if ((v >= 0xdc00 && v <= 0xdfff) || v == 0) {
                return fail(ps, PST_EPARSE);
            }
            ps->text_len += put_utf8((unsigned long)v, ps->text + ps->text_len);
            p += 4;
            break;
        }
        default:
            return fail(ps, PST_EPARSE);
        }
        p += 2;
    }
    if (!text_reserve(ps, 1)) {
        return false;
    }
    ps->text[ps->text_len++] = '\0';
    *len = ps->text_len - 1 - *off;
    ps->p = p + 1;
    return true;
}

/* Seeded once per process, so that keys colliding on purpose cannot be made in advance. */
static uint64_t hash_seed(void)
{
    static uint64_t seed;
    static int ready;
    uint64_t s = __atomic_load_n(&seed, __ATOMIC_RELAXED);

    if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE)) {
        if (pst_jws_random(NULL, (unsigned char *)&s, sizeof(s)) != 0) {
            s = 0x9e3779b97f4a7c15ull;
        }
        __atomic_store_n(&seed, s, __ATOMIC_RELAXED);
        __atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
    }
    return s;
}

static uint64_t key_hash(const char *key, size_t len, uint32_t obj, uint64_t seed)
{
    uint64_t h = seed ^ 0xcbf29ce484222325ull ^ ((uint64_t)obj * 0x100000001b3ull);

    for (size_t i = 0; i < len; i++) {
        h = (h ^ (unsigned char)key[i]) * 0x100000001b3ull;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

/* Records the key at text+OFF (LEN bytes) of object OBJ; false if that object has it already. */
static bool add_key(struct parser *ps, uint32_t obj, size_t off, size_t len)
{
    uint64_t seed = hash_seed(), h = key_hash(ps->text + off, len, obj, seed);
    size_t mask, i;

    if (len > UINT32_MAX) {
        return fail(ps, PST_EPARSE);
    }
    if ((ps->keys_used + 1) * 2 > ps->keys_cap) {
        size_t cap = ps->keys_cap > 0 ? ps->keys_cap * 2 : 64;
        struct key_entry *k = calloc(cap, sizeof(*k));
        if (k == NULL) {
            return fail(ps, PST_ENOMEM);
        }
        for (size_t j = 0; j < ps->keys_cap; j++) {
            if (ps->keys[j].obj != 0) {
                size_t at = ps->keys[j].hash & (cap - 1);
                while (k[at].obj != 0) {
                    at = (at + 1) & (cap - 1);
                }
                k[at] = ps->keys[j];
            }
        }
        free(ps->keys);
        ps->keys = k;
        ps->keys_cap = cap;
    }
    mask = ps->keys_cap - 1;
    for (i = h & mask; ps->keys[i].obj != 0; i = (i + 1) & mask) {
        const struct key_entry *e = &ps->keys[i];
        if (e->hash == h && e->obj == obj && e->len == len &&
            memcmp(ps->text + e->off, ps->text + off, len) == 0) {
            return fail(ps, PST_EPARSE);
        }
    }
    ps->keys[i] = (struct key_entry){.hash = h, .obj = obj, .len = (uint32_t)len, .off = off};
    ps->keys_used++;
    return true;
}

/* The field or context of the member KEY of an object in context CTX. */
static enum field member_field(enum ctx ctx, const char *key)
{
    static const struct {
        enum ctx ctx;
        const char *key;
        enum field field;
    } map[] = {
        {CTX_TOP, "schema", F_SCHEMA},
        {CTX_TOP, "host_id", F_HOST_ID},
        {CTX_TOP, "seq", F_SEQ},
        {CTX_HOST, "hostname", F_HOSTNAME},
        {CTX_SECURE, "current", F_CURRENT},
        {CTX_SECURE, "max", F_MAX},
        {CTX_SECURE, "percent", F_PERCENT},
        {CTX_CONTROL, "id", F_C_ID},
        {CTX_CONTROL, "title", F_C_TITLE},
        {CTX_CONTROL, "max_score", F_C_MAX_SCORE},
        {CTX_CONTROL, "in_score", F_C_IN_SCORE},
        {CTX_CONTROL, "healthy", F_C_HEALTHY},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (map[i].ctx == ctx && strcmp(map[i].key, key) == 0) {
            return map[i].field;
        }
    }
    return F_NONE;
}

static enum ctx member_ctx(enum ctx ctx, const char *key)
{
    if (ctx == CTX_TOP) {
        return strcmp(key, "host") == 0       ? CTX_HOST
               : strcmp(key, "score") == 0    ? CTX_SCORE
               : strcmp(key, "controls") == 0 ? CTX_CONTROLS
                                              : CTX_NONE;
    }
    return ctx == CTX_SCORE && strcmp(key, "secure") == 0 ? CTX_SECURE : CTX_NONE;
}

/*
 * After a number or a literal, Jansson's lexer has read one character ahead and put it back;
 * a NUL byte put back is taken for its own "nothing buffered" mark and skipped. Read the same
 * way, so that both accept exactly the same texts.
 */
static void skip_lookahead_nul(struct parser *ps)
{
    if (ps->p < ps->end && *ps->p == '\0') {
        ps->p++;
    }
}

/*
 * A number, as Jansson's lexer reads it: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?; an
 * integer (no fraction, no exponent) must fit int64, a real must not overflow a double.
 */
static bool parse_number(struct parser *ps, struct slot *out)
{
    const unsigned char *start = ps->p, *p = ps->p;
    bool integer = true;
    char small[64], *copy;
    size_t n;

    if (p < ps->end && *p == '-') {
        p++;
    }
    if (p < ps->end && *p == '0') {
        p++;
        if (p < ps->end && *p >= '0' && *p <= '9') {
            return fail(ps, PST_EPARSE);
        }
    } else if (p < ps->end && *p >= '1' && *p <= '9') {
        while (p < ps->end && *p >= '0' && *p <= '9') {
            p++;
        }
    } else {
        return fail(ps, PST_EPARSE);
    }
    if (p < ps->end && *p == '.') {
        integer = false;
        p++;
        if (p >= ps->end || *p < '0' || *p > '9') {
            return fail(ps, PST_EPARSE);
        }
        while (p < ps->end && *p >= '0' && *p <= '9') {
            p++;
        }
    }
    if (p < ps->end && (*p == 'e' || *p == 'E')) {
        integer = false;
        p++;
        if (p < ps->end && (*p == '+' || *p == '-')) {
            p++;
        }
        if (p >= ps->end || *p < '0' || *p > '9') {
            return fail(ps, PST_EPARSE);
        }
        while (p < ps->end && *p >= '0' && *p <= '9') {
            p++;
        }
    }
    ps->p = p;
    skip_lookahead_nul(ps);
    n = (size_t)(p - start);
    if (integer) {
        /* Digit by digit with the bounds of int64, as strtoll's ERANGE. */
        bool neg = *start == '-';
        uint64_t v = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
        for (const unsigned char *d = start + neg; d < p; d++) {
            unsigned digit = (unsigned)(*d - '0');
            if (v > (limit - digit) / 10) {
                return fail(ps, PST_EPARSE);
            }
            v = v * 10 + digit;
        }
        out->kind = PST_JV_INTEGER;
        out->integer = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
        return true;
    }
    copy = n < sizeof(small) ? small : malloc(n + 1);
    if (copy == NULL) {
        return fail(ps, PST_ENOMEM);
    }
    memcpy(copy, start, n);
    copy[n] = '\0';
    errno = 0;
    out->real = strtod(copy, NULL);
    if (copy != small) {
        free(copy);
    }
    /* Jansson refuses an overflow (HUGE_VAL with ERANGE), not an underflow. */
    if ((out->real == HUGE_VAL || out->real == -HUGE_VAL) && errno == ERANGE) {
        return fail(ps, PST_EPARSE);
    }
    out->kind = PST_JV_REAL;
    return true;
}

static bool literal(struct parser *ps, const char *word, size_t n)
{
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0) {
        return fail(ps, PST_EPARSE);
    }
    ps->p += n;
    skip_lookahead_nul(ps);
    return true;
}

static bool parse_value(struct parser *ps, enum ctx ctx, struct slot *out, size_t depth);

/* The element of controls[] that is an object, kept as a small Jansson object. */
static bool add_control(struct parser *ps)
{
    static const struct {
        enum field field;
        const char *key;
    } keep[] = {{F_C_ID, "id"},
                {F_C_TITLE, "title"},
                {F_C_MAX_SCORE, "max_score"},
                {F_C_IN_SCORE, "in_score"},
                {F_C_HEALTHY, "healthy"}};
    json_t *c = json_object();

    if (c == NULL || json_array_append_new(ps->controls, c) != 0) {
        return fail(ps, PST_ENOMEM);
    }
    for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
        struct slot *s = &ps->slots[keep[i].field];
        json_t *v = NULL;
        switch (s->kind) {
        case PST_JV_STRING:
            v = json_string_nocheck(ps->text + s->off);
            break;
        case PST_JV_INTEGER:
            v = json_integer(s->integer);
            break;
        case PST_JV_TRUE:
            v = json_true();
            break;
        case PST_JV_FALSE:
            v = json_false();
            break;
        default:
            continue; /* what the fleet score does not read, it does not need */
        }
        if (v == NULL || json_object_set_new_nocheck(c, keep[i].key, v) != 0) {
            return fail(ps, PST_ENOMEM);
        }
    }
    return true;
}

static bool parse_object(struct parser *ps, enum ctx ctx, size_t depth)
{
    uint32_t obj = ++ps->objects;

    if (obj == 0) {
        return fail(ps, PST_EPARSE);
    }
    if (ctx == CTX_CONTROL) {
        for (int f = F_C_ID; f <= F_C_HEALTHY; f++) {
            ps->slots[f].kind = PST_JV_ABSENT;
        }
    }
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
        return ctx != CTX_CONTROL || add_control(ps);
    }
    for (;;) {
        size_t off, len, mark;
        enum field field;
        enum ctx child;
        struct slot scratch;

        if (ps->p >= ps->end || *ps->p != '"') {
            return fail(ps, PST_EPARSE);
        }
        if (!parse_string(ps, &off, &len) || !add_key(ps, obj, off, len)) {
            return false;
        }
        field = ctx == CTX_NONE ? F_NONE : member_field(ctx, ps->text + off);
        child = ctx == CTX_NONE ? CTX_NONE : member_ctx(ctx, ps->text + off);
        skip_ws(ps);
        if (ps->p >= ps->end || *ps->p != ':') {
            return fail(ps, PST_EPARSE);
        }
        ps->p++;
        skip_ws(ps);
        mark = ps->text_len;
        if (!parse_value(ps, child, field != F_NONE ? &ps->slots[field] : &scratch, depth)) {
            return false;
        }
        if (field == F_NONE && child == CTX_NONE) {
            /* Decoded strings of values nobody reads are dropped; keys stay for the table. */
            ps->text_len = mark;
        }
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            skip_ws(ps);
            continue;
        }
        if (ps->p < ps->end && *ps->p == '}') {
            ps->p++;
            return ctx != CTX_CONTROL || add_control(ps);
        }
        return fail(ps, PST_EPARSE);
    }
}

static bool parse_array(struct parser *ps, enum ctx ctx, size_t depth)
{
    ps->p++;
    skip_ws(ps);
    if (ctx == CTX_CONTROLS) {
        ps->controls = json_array();
        if (ps->controls == NULL) {
            return fail(ps, PST_ENOMEM);
        }
    }
    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
        return true;
    }
    for (;;) {
        struct slot element;
        enum ctx child =
            ctx == CTX_CONTROLS && ps->p < ps->end && *ps->p == '{' ? CTX_CONTROL : CTX_NONE;
        size_t mark = ps->text_len;

        if (!parse_value(ps, child, &element, depth)) {
            return false;
        }
        /* Nothing decoded inside an element is read later (a control is copied already). */
        ps->text_len = mark;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            skip_ws(ps);
            continue;
        }
        if (ps->p < ps->end && *ps->p == ']') {
            ps->p++;
            return true;
        }
        return fail(ps, PST_EPARSE);
    }
}

/* One value at ps->p (no leading space); DEPTH counts values as Jansson's parse_value does. */
static bool parse_value(struct parser *ps, enum ctx ctx, struct slot *out, size_t depth)
{
    size_t off, len;

    if (++depth > JSON_PARSER_MAX_DEPTH || ps->p >= ps->end) {
        return fail(ps, PST_EPARSE);
    }
    switch (*ps->p) {
    case '{':
        out->kind = PST_JV_OBJECT;
        return parse_object(ps, ctx, depth);
    case '[':
        out->kind = PST_JV_ARRAY;
        return parse_array(ps, ctx, depth);
    case '"':
        if (!parse_string(ps, &off, &len)) {
            return false;
        }
        out->kind = PST_JV_STRING;
        out->off = off;
        return true;
    case 't':
        out->kind = PST_JV_TRUE;
        return literal(ps, "true", 4);
    case 'f':
        out->kind = PST_JV_FALSE;
        return literal(ps, "false", 5);
    case 'n':
        out->kind = PST_JV_NULL;
        return literal(ps, "null", 4);
    default:
        return parse_number(ps, out);
    }
}

static void resolve(const struct slot *s, struct pst_jv *out, const char *text)
{
    out->kind = s->kind;
    out->string = s->kind == PST_JV_STRING ? text + s->off : NULL;
    out->integer = s->kind == PST_JV_INTEGER ? s->integer : 0;
    out->real = s->kind == PST_JV_REAL ? s->real : 0.0;
}

int pst_payload_read(const char *text, size_t len, struct pst_payload *out)
{
    struct parser ps = {
        .p = (const unsigned char *)text, .end = (const unsigned char *)text + len, .rc = PST_OK};
    struct slot top = {0};

    memset(out, 0, sizeof(*out));
    skip_ws(&ps);
    /* Jansson without JSON_DECODE_ANY: an object or an array at the top, then nothing. */
    if (ps.p >= ps.end || (*ps.p != '{' && *ps.p != '[')) {
        fail(&ps, PST_EPARSE);
        goto out;
    }
    if (!parse_value(&ps, *ps.p == '{' ? CTX_TOP : CTX_NONE, &top, 0)) {
        goto out;
    }
    skip_ws(&ps);
    if (ps.p != ps.end) {
        fail(&ps, PST_EPARSE);
        goto out;
    }
    out->is_object = top.kind == PST_JV_OBJECT;
    out->text = ps.text;
    ps.text = NULL;
    out->controls = ps.controls;
    ps.controls = NULL;
    resolve(&ps.slots[F_SCHEMA], &out->schema, out->text);
    resolve(&ps.slots[F_HOST_ID], &out->host_id, out->text);
    resolve(&ps.slots[F_SEQ], &out->seq, out->text);
    resolve(&ps.slots[F_HOSTNAME], &out->hostname, out->text);
    resolve(&ps.slots[F_CURRENT], &out->score_current, out->text);
    resolve(&ps.slots[F_MAX], &out->score_max, out->text);
    resolve(&ps.slots[F_PERCENT], &out->percent, out->text);
out:
    free(ps.text);
    free(ps.keys);
    json_decref(ps.controls);
    return ps.rc;
}

void pst_payload_release(struct pst_payload *p)
{
    if (p == NULL) {
        return;
    }
    free(p->text);
    json_decref(p->controls);
    memset(p, 0, sizeof(*p));
}
