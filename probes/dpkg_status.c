/* SPDX-License-Identifier: Apache-2.0 */
/* dpkg's status file indexed in one pass: each stanza's values, a hash table of names. */
#include "probes/dpkg_status.h"

#include "agent/error.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

/* "NAME:ARCH" keys are cut to this many bytes (a name that long is not dpkg's). */
#define KEY_MAX 511

/* A key of the index. Its text is not stored: it is spelled by stanza SRC's name (and arch). */
struct key {
    uint32_t hash;
    uint32_t len; /* bytes of the key's text */
    uint32_t src; /* the stanza whose fields spell the key */
    uint32_t val; /* the stanza the key resolves to */
    bool bare;    /* "NAME", not "NAME:ARCH" */
};

struct pst_dpkg_status {
    char *buf; /* the values, each NUL-terminated, in file order */
    struct pst_dpkg_pkg *pkgs;
    size_t n_pkgs;
    struct key *keys; /* in the order they were made */
    size_t n_keys;
    uint32_t *slots; /* open addressing: a key's index + 1, 0 for a free slot */
    size_t mask;
    int error; /* in a context: why the file could not be read, 0 when it was */
};

/*
 * XXH3 of the key's bytes. The status file is written by dpkg as root, so an unseeded hash
 * is enough: whoever could choose colliding names could change the packages themselves.
 */
static uint32_t hash_bytes(const char *p, size_t n)
{
    return (uint32_t)XXH3_64bits(p, n);
}

/* Whether K's text is the LEN bytes at Q. */
static bool key_equals(const struct pst_dpkg_status *st, const struct key *k, const char *q,
                       size_t len)
{
    const struct pst_dpkg_pkg *src = &st->pkgs[k->src];
    size_t n;

    if (k->len != len) {
        return false;
    }
    if (k->bare) {
        return memcmp(q, src->name, len) == 0;
    }
    n = len < src->name_len ? len : src->name_len;
    if (memcmp(q, src->name, n) != 0) {
        return false;
    }
    if (len == n) {
        return true;
    }
    return q[n] == ':' && (len == n + 1 || memcmp(q + n + 1, src->arch, len - n - 1) == 0);
}

/* The slot of the key LEN bytes at Q hashing to HASH: the key's, or the free one it would take. */
static uint32_t *key_slot(const struct pst_dpkg_status *st, uint32_t hash, const char *q,
                          size_t len)
{
    for (size_t i = hash & st->mask;; i = (i + 1) & st->mask) {
        uint32_t k = st->slots[i];
        if (k == 0 || (st->keys[k - 1].hash == hash && key_equals(st, &st->keys[k - 1], q, len))) {
            return &st->slots[i];
        }
    }
}

/* dpkg states in which none of the package's files (but conffiles) are on the system. */
static bool files_absent(const char *status)
{
    const char *state = strrchr(status, ' ');

    state = state ? state + 1 : "";
    return strcmp(state, "not-installed") == 0 || strcmp(state, "config-files") == 0;
}

/* Sets the key LEN bytes at Q, spelled by stanza SRC, to stanza VAL; returns its slot. */
static uint32_t *key_put(struct pst_dpkg_status *st, const char *q, size_t len, uint32_t src,
                         bool bare, bool *made)
{
    uint32_t hash = hash_bytes(q, len);
    uint32_t *slot = key_slot(st, hash, q, len);

    *made = *slot == 0;
    if (*made) {
        st->keys[st->n_keys] =
            (struct key){.hash = hash, .len = (uint32_t)len, .src = src, .val = src, .bare = bare};
        *slot = (uint32_t)++st->n_keys;
    }
    return slot;
}

/*
 * Makes the keys of every stanza in file order: "NAME:ARCH" takes the later stanza of a
 * name and architecture; "NAME" keeps its stanza unless that one's files are absent.
 */
static int index_keys(struct pst_dpkg_status *st)
{
    size_t cap = 8;
    char text[KEY_MAX + 1];

    while (cap < st->n_pkgs * 4) {
        cap *= 2;
    }
    st->keys = malloc((st->n_pkgs * 2 + 1) * sizeof(*st->keys));
    st->slots = calloc(cap, sizeof(*st->slots));
    if (st->keys == NULL || st->slots == NULL) {
        return PST_ENOMEM;
    }
    st->mask = cap - 1;
    for (size_t i = 0; i < st->n_pkgs; i++) {
        const struct pst_dpkg_pkg *p = &st->pkgs[i];
        size_t len = p->name_len < KEY_MAX ? p->name_len : KEY_MAX;
        uint32_t *slot;
        bool made;

        memcpy(text, p->name, len);
        if (len < KEY_MAX) {
            size_t n = p->arch_len < KEY_MAX - len - 1 ? p->arch_len : KEY_MAX - len - 1;
            text[len++] = ':';
            if (n > 0) {
                memcpy(text + len, p->arch, n);
            }
            len += n;
        }
        slot = key_put(st, text, len, (uint32_t)i, false, &made);
        st->keys[*slot - 1].val = (uint32_t)i;
        slot = key_put(st, p->name, p->name_len, (uint32_t)i, true, &made);
        if (!made && files_absent(st->pkgs[st->keys[*slot - 1].val].status)) {
            st->keys[*slot - 1].val = (uint32_t)i;
        }
    }
    return PST_OK;
}

/*
 * The value of field NAME (N bytes with its colon) on the line P..END (END after a '\r' is
 * taken off), NUL-terminated in place; NULL when the line is another field. Inlined with N
 * constant, the name is compared in one or two loads.
 */
static inline char *field_value(char *p, char *end, const char *name, size_t n)
{
    if ((size_t)(end - p) < n || memcmp(p, name, n) != 0) {
        return NULL;
    }
    p += n;
    while (p < end && (*p == ' ' || *p == '\t')) {
        p++;
    }
    *end = '\0';
    return p;
}

/* Keeps stanza CUR when it names a package. */
static int stanza_end(struct pst_dpkg_status *st, struct pst_dpkg_pkg *cur, size_t *cap)
{
    if (cur->name == NULL) {
        *cur = (struct pst_dpkg_pkg){0}; /* fields of a stanza without Package go with it */
        return PST_OK;
    }
    if (st->n_pkgs == *cap) {
        struct pst_dpkg_pkg *grown = realloc(st->pkgs, *cap * 2 * sizeof(*grown));
        if (grown == NULL) {
            return PST_ENOMEM;
        }
        st->pkgs = grown;
        *cap *= 2;
    }
    if (cur->status == NULL) {
        cur->status = "";
    }
    st->pkgs[st->n_pkgs++] = *cur;
    *cur = (struct pst_dpkg_pkg){0};
    return PST_OK;
}

/*
 * One pass over the lines: a blank line (or one of only "\r") ends a stanza, a line that
 * starts with a blank continues a field, the last of each wanted field in a stanza counts.
 * A status file is mostly lines of fields not wanted and of descriptions: each costs one
 * memchr and a look at its first byte.
 */
static int parse(struct pst_dpkg_status *st, char *buf, size_t len)
{
    struct pst_dpkg_pkg cur = {0};
    char *p = buf, *end = buf + len;
    char *nl, *eol, *v;
    size_t cap = len / 1024 + 16; /* a stanza of Debian's is most often 0.5 to 2 kB */
    long lineno = 0;
    int rc;

    st->pkgs = malloc(cap * sizeof(*st->pkgs));
    if (st->pkgs == NULL) {
        return PST_ENOMEM;
    }
    for (; p < end; p = nl != NULL ? nl + 1 : end) {
        nl = memchr(p, '\n', (size_t)(end - p));
        eol = nl != NULL ? nl : end;
        lineno++;
        if (*p == ' ') {
            continue; /* a third of the lines continue a Description or Conffiles */
        }
        switch (*p) {
        case '\n':
        case '\r':
            if (eol == p || (*p == '\r' && eol == p + 1)) {
                rc = stanza_end(st, &cur, &cap); /* a blank line */
                if (rc != PST_OK) {
                    return rc;
                }
            }
            break;
        case 'P':
            eol -= eol[-1] == '\r';
            if ((v = field_value(p, eol, "Package:", 8)) != NULL) {
                cur.name = v;
                cur.name_len = (uint32_t)(eol - v);
                cur.line = lineno;
            }
            break;
        case 'S':
            eol -= eol[-1] == '\r';
            if ((v = field_value(p, eol, "Status:", 7)) != NULL) {
                cur.status = v;
            }
            break;
        case 'V':
            eol -= eol[-1] == '\r';
            if ((v = field_value(p, eol, "Version:", 8)) != NULL) {
                cur.version = v;
            }
            break;
        case 'A':
            eol -= eol[-1] == '\r';
            if ((v = field_value(p, eol, "Architecture:", 13)) != NULL) {
                cur.arch = v;
                cur.arch_len = (uint32_t)(eol - v);
            }
            break;
        default:
            break; /* another field, or a line continuing one */
        }
    }
    return stanza_end(st, &cur, &cap);
}

/* Appends the N bytes at *VALUE and a NUL to *AT, and points *VALUE at the copy. */
static void value_move(const char **value, size_t n, char **at)
{
    memcpy(*at, *value, n);
    (*at)[n] = '\0';
    *value = *at;
    *at += n + 1;
}

/*
 * Copies the values into a buffer of their own and frees the file, which is mostly other
 * fields and descriptions (on a host of 832 packages, 43 kB of values in 752 kB): the rest of the
 * scan, and the report written after it, do not carry the file.
 */
static int keep_values(struct pst_dpkg_status *st)
{
    size_t total = 1;
    char *values, *at;

    for (size_t i = 0; i < st->n_pkgs; i++) {
        const struct pst_dpkg_pkg *p = &st->pkgs[i];
        total += p->name_len + 1 + strlen(p->status) + 1 + p->arch_len + 1;
        total += p->version ? strlen(p->version) + 1 : 0;
    }
    values = malloc(total);
    if (values == NULL) {
        return PST_ENOMEM;
    }
    at = values;
    for (size_t i = 0; i < st->n_pkgs; i++) {
        struct pst_dpkg_pkg *p = &st->pkgs[i];
        value_move(&p->name, p->name_len, &at);
        value_move(&p->status, strlen(p->status), &at);
        if (p->version != NULL) {
            value_move(&p->version, strlen(p->version), &at);
        }
        if (p->arch != NULL) {
            value_move(&p->arch, p->arch_len, &at);
        }
    }
    free(st->buf);
    st->buf = values;
    return PST_OK;
}

int pst_dpkg_status_new(char *buf, size_t len, struct pst_dpkg_status **out)
{
    struct pst_dpkg_status *st = NULL;
    int rc;

    *out = NULL;
    /* lengths and stanza numbers are kept in 32 bits */
    if (len >= UINT32_MAX / 2) {
        rc = PST_ETOOBIG;
        goto out;
    }
    st = calloc(1, sizeof(*st));
    if (st == NULL) {
        rc = PST_ENOMEM;
        goto out;
    }
    st->buf = buf;
    buf = NULL;
    rc = parse(st, st->buf, len);
    if (rc == PST_OK) {
        rc = keep_values(st);
    }
    if (rc == PST_OK) {
        rc = index_keys(st);
    }
    if (rc == PST_OK) {
        *out = st;
        st = NULL;
    }
out:
    free(buf);
    pst_dpkg_status_free(st);
    return rc;
}

void pst_dpkg_status_free(struct pst_dpkg_status *st)
{
    if (st == NULL) {
        return;
    }
    free(st->buf);
    free(st->pkgs);
    free(st->keys);
    free(st->slots);
    free(st);
}

const struct pst_dpkg_pkg *pst_dpkg_status_find(const struct pst_dpkg_status *st, const char *key)
{
    size_t len = strlen(key);
    uint32_t *slot;

    if (st->n_keys == 0 || len >= UINT32_MAX) {
        return NULL;
    }
    slot = key_slot(st, hash_bytes(key, len), key, len);
    return *slot != 0 ? &st->pkgs[st->keys[*slot - 1].val] : NULL;
}

bool pst_dpkg_status_next(const struct pst_dpkg_status *st, size_t *pos,
                          struct pst_dpkg_entry *entry)
{
    while (*pos < st->n_keys) {
        const struct key *k = &st->keys[(*pos)++];
        const struct pst_dpkg_pkg *src = &st->pkgs[k->src];
        size_t n = k->len < src->name_len ? k->len : src->name_len;
        const char *colon = memchr(src->name, ':', n);

        if (colon == NULL) {
            if (k->bare || k->len <= src->name_len) {
                continue; /* a bare name, or a key cut before its colon */
            }
            colon = src->name + src->name_len;
        }
        entry->name = src->name;
        entry->name_len = (size_t)(colon - src->name);
        entry->pkg = &st->pkgs[k->val];
        return true;
    }
    return false;
}

size_t pst_dpkg_status_count(const struct pst_dpkg_status *st)
{
    return st->n_pkgs;
}

const struct pst_dpkg_status *pst_dpkg_status_index(struct pst_probe_ctx *ctx,
                                                    struct pst_facts *out, int *rc)
{
    char *buf = NULL;
    size_t len;

    *rc = PST_OK;
    if (ctx->dpkg == NULL) {
        int err = pst_fs_read(ctx->fs, DPKG_STATUS, PST_DPKG_STATUS_LIMIT, true, &buf, &len);
        if (err == PST_OK) {
            err = pst_dpkg_status_new(buf, len, &ctx->dpkg);
        }
        if (err == PST_ENOMEM) {
            *rc = err;
            return NULL;
        }
        if (err != PST_OK) {
            /* remembered, so that every package query reports it without rereading */
            ctx->dpkg = calloc(1, sizeof(*ctx->dpkg));
            if (ctx->dpkg == NULL) {
                *rc = PST_ENOMEM;
                return NULL;
            }
            ctx->dpkg->error = err;
        }
    }
    if (ctx->dpkg->error != PST_OK) {
        pst_facts_error(out, DPKG_STATUS, "read %s: %s", DPKG_STATUS,
                        pst_strerror(ctx->dpkg->error));
        return NULL;
    }
    return ctx->dpkg;
}

const char *pst_dpkg_text(const char *raw, char **copy)
{
    size_t n;

    *copy = NULL;
    if (raw == NULL) {
        return NULL;
    }
    n = strlen(raw);
    if (pst_utf8_valid(raw, n)) {
        return raw;
    }
    /* as pst_json_text: the text stays readable, the report valid JSON */
    *copy = malloc(n + 1);
    if (*copy == NULL) {
        return NULL;
    }
    for (size_t i = 0; i <= n; i++) {
        (*copy)[i] = (unsigned char)raw[i] >= 0x80 ? '?' : raw[i];
    }
    return *copy;
}
