/* SPDX-License-Identifier: Apache-2.0 */
/* A reader of nft's configuration syntax (nftables.conf) for the firewall model: never a guess. */
#include "probes/firewall.h"

#include "agent/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKENS_MAX 600000
#define DEFINES_MAX 256
#define TOKEN_MAX 128
#define INCLUDE_DEPTH_MAX 16
#define VALUES_MAX 512

enum tok_kind { T_WORD, T_STRING, T_LBRACE, T_RBRACE, T_SEMI, T_COMMA, T_NL, T_END };

struct token {
    enum tok_kind kind;
    char text[TOKEN_MAX];
    long line;
};

struct define {
    char name[TOKEN_MAX];
    size_t first, count; /* a slice of the defines' token store */
};

struct parser {
    struct pst_fw_ruleset *rs;
    const char *source;
    struct token *toks;
    size_t n, cap, pos;
    struct token *dtoks; /* tokens of define values */
    size_t dn, dcap;
    struct define defines[DEFINES_MAX];
    char (*items)[TOKEN_MAX]; /* the values of one match, VALUES_MAX of them */
    size_t n_defines;
    int (*include)(void *state, const char *path, int depth, const void *scope);
    void *state;
    int depth;
    const struct parser *parent; /* the including file: its defines are seen here */
};

static int fail(struct parser *p, long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct parser *p, long line, const char *fmt, ...)
{
    va_list ap;
    int k = snprintf(p->rs->error, sizeof(p->rs->error), "%s:%ld: ", p->source, line);

    va_start(ap, fmt);
    if (k > 0 && (size_t)k < sizeof(p->rs->error)) {
        vsnprintf(p->rs->error + k, sizeof(p->rs->error) - (size_t)k, fmt, ap);
    }
    va_end(ap);
    return PST_EPARSE;
}

static int push(struct token **toks, size_t *n, size_t *cap, const struct token *t)
{
    if (*n >= TOKENS_MAX) {
        return PST_ETOOBIG;
    }
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 256;
        struct token *grown = realloc(*toks, c * sizeof(*grown));
        if (grown == NULL) {
            return PST_ENOMEM;
        }
        *toks = grown;
        *cap = c;
    }
    (*toks)[(*n)++] = *t;
    return PST_OK;
}

/* A define of this file or of the files that include it; *owner gets the file's parser. */
static const struct define *find_define(const struct parser *p, const char *name,
                                        const struct parser **owner)
{
    for (; p != NULL; p = p->parent) {
        for (size_t i = p->n_defines; i-- > 0;) {
            if (strcmp(p->defines[i].name, name) == 0) {
                *owner = p;
                return &p->defines[i];
            }
        }
    }
    return NULL;
}

/* Splits TEXT into tokens; "$name" expands to the tokens of its define. */
static int tokenize(struct parser *p, const char *text)
{
    long line = 1;
    const char *s = text;
    bool in_define = false;
    int rc;

    for (;;) {
        struct token t = {.line = line};
        size_t len;
        s += strspn(s, " \t\r");
        if (*s == '\0') {
            break;
        }
        if (*s == '#') {
            s += strcspn(s, "\n");
            continue;
        }
        if (*s == '\\' && s[1] == '\n') {
            s += 2;
            line++;
            continue;
        }
        switch (*s) {
        case '\n':
            t.kind = T_NL;
            line++;
            s++;
            break;
        case '{':
            t.kind = T_LBRACE;
            s++;
            break;
        case '}':
            t.kind = T_RBRACE;
            s++;
            break;
        case ';':
            t.kind = T_SEMI;
            s++;
            break;
        case ',':
            t.kind = T_COMMA;
            s++;
            break;
        case '"': {
            const char *end = strchr(s + 1, '"');
            if (end == NULL || memchr(s + 1, '\n', (size_t)(end - s - 1)) != NULL) {
                return fail(p, line, "unterminated string");
            }
            len = (size_t)(end - s - 1);
            if (len >= TOKEN_MAX) {
                return fail(p, line, "string longer than %d bytes", TOKEN_MAX - 1);
            }
            t.kind = T_STRING;
            memcpy(t.text, s + 1, len);
            t.text[len] = '\0';
            s = end + 1;
            break;
        }
        default:
            len = strcspn(s, " \t\r\n{};,\"#");
            if (len >= TOKEN_MAX) {
                return fail(p, line, "word longer than %d bytes", TOKEN_MAX - 1);
            }
            t.kind = T_WORD;
            memcpy(t.text, s, len);
            t.text[len] = '\0';
            s += len;
            break;
        }
        if (t.kind == T_WORD && t.text[0] == '$') {
            const struct parser *owner = NULL;
            const struct define *d = find_define(p, t.text + 1, &owner);
            if (d == NULL) {
                return fail(p, line, "undefined variable '%s'", t.text);
            }
            for (size_t i = 0; i < d->count; i++) {
                struct token e = owner->dtoks[d->first + i];
                e.line = line;
                rc = push(&p->toks, &p->n, &p->cap, &e);
                if (rc != PST_OK) {
                    return rc;
                }
            }
            continue;
        }
        /* "define NAME = value": the value's tokens up to the end of the line */
        if (t.kind == T_WORD && strcmp(t.text, "define") == 0 &&
            (p->n == 0 || p->toks[p->n - 1].kind == T_NL || p->toks[p->n - 1].kind == T_SEMI)) {
            in_define = true;
            continue;
        }
        if (in_define) {
            struct define *d;
            int braces = 0;
            const char *v;
            if (t.kind != T_WORD || p->n_defines >= DEFINES_MAX) {
                return fail(p, line, "a define needs a name (at most %d defines)", DEFINES_MAX);
            }
            d = &p->defines[p->n_defines];
            snprintf(d->name, sizeof(d->name), "%s", t.text);
            s += strspn(s, " \t");
            if (*s != '=') {
                return fail(p, line, "define %s: '=' expected", t.text);
            }
            s++;
            d->first = p->dn;
            /* the value: words and braces up to the end of the line outside braces */
            for (;;) {
                struct token e = {.line = line};
                s += strspn(s, " \t\r");
                v = s;
                if (*v == '\0' || ((*v == '\n' || *v == ';' || *v == '#') && braces == 0)) {
                    break;
                }
                if (*v == '\n') {
                    line++;
                    s++;
                    continue;
                }
                if (*v == '{' || *v == '}' || *v == ',') {
                    e.kind = *v == '{' ? T_LBRACE : *v == '}' ? T_RBRACE : T_COMMA;
                    braces += *v == '{' ? 1 : *v == '}' ? -1 : 0;
                    s++;
                } else if (*v == '"') {
                    const char *end = strchr(v + 1, '"');
                    if (end == NULL || (size_t)(end - v - 1) >= TOKEN_MAX) {
                        return fail(p, line, "define %s: bad string", d->name);
                    }
                    e.kind = T_STRING;
                    memcpy(e.text, v + 1, (size_t)(end - v - 1));
                    s = end + 1;
                } else {
                    len = strcspn(v, " \t\r\n{};,\"#");
                    if (len >= TOKEN_MAX || len == 0) {
                        return fail(p, line, "define %s: bad value", d->name);
                    }
                    e.kind = T_WORD;
                    memcpy(e.text, v, len);
                    s += len;
                    if (e.text[0] == '$') {
                        const struct parser *owner = NULL;
                        const struct define *inner = find_define(p, e.text + 1, &owner);
                        if (inner == NULL) {
                            return fail(p, line, "undefined variable '%s'", e.text);
                        }
                        for (size_t i = 0; i < inner->count; i++) {
                            struct token x = owner->dtoks[inner->first + i];
                            rc = push(&p->dtoks, &p->dn, &p->dcap, &x);
                            if (rc != PST_OK) {
                                return rc;
                            }
                        }
                        continue;
                    }
                }
                rc = push(&p->dtoks, &p->dn, &p->dcap, &e);
                if (rc != PST_OK) {
                    return rc;
                }
            }
            d->count = p->dn - d->first;
            p->n_defines++;
            in_define = false;
            continue;
        }
        rc = push(&p->toks, &p->n, &p->cap, &t);
        if (rc != PST_OK) {
            return rc;
        }
    }
    {
        struct token end = {.kind = T_END, .line = line};
        return push(&p->toks, &p->n, &p->cap, &end);
    }
}

static const struct token *peek(const struct parser *p)
{
    return &p->toks[p->pos];
}

static const struct token *next(struct parser *p)
{
    const struct token *t = &p->toks[p->pos];
    if (t->kind != T_END) {
        p->pos++;
    }
    return t;
}

static bool is_word(const struct token *t, const char *w)
{
    return t->kind == T_WORD && strcmp(t->text, w) == 0;
}

static bool at_rule_end(const struct parser *p)
{
    enum tok_kind k = peek(p)->kind;
    return k == T_NL || k == T_SEMI || k == T_RBRACE || k == T_END;
}

static void skip_separators(struct parser *p)
{
    while (peek(p)->kind == T_NL || peek(p)->kind == T_SEMI) {
        p->pos++;
    }
}

/* Skips a balanced { ... } block that starts at the current token. */
static int skip_block(struct parser *p)
{
    int depth = 0;

    do {
        const struct token *t = next(p);
        if (t->kind == T_END) {
            return fail(p, t->line, "unbalanced braces");
        }
        depth += t->kind == T_LBRACE ? 1 : t->kind == T_RBRACE ? -1 : 0;
    } while (depth > 0);
    return PST_OK;
}

static bool is_family(const char *w)
{
    static const char *const families[] = {"ip", "ip6", "inet", "arp", "bridge", "netdev"};
    for (size_t i = 0; i < PST_COUNT(families); i++) {
        if (strcmp(w, families[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* "[family] name": the family defaults to ip, as nft's does. */
static int family_and_name(struct parser *p, char *family, char *name)
{
    const struct token *t = next(p);

    if (t->kind == T_WORD && is_family(t->text) && peek(p)->kind == T_WORD) {
        snprintf(family, TOKEN_MAX, "%s", t->text);
        t = next(p);
    } else {
        snprintf(family, TOKEN_MAX, "ip");
    }
    if (t->kind != T_WORD && t->kind != T_STRING) {
        return fail(p, t->line, "a table name was expected");
    }
    snprintf(name, TOKEN_MAX, "%s", t->text);
    return PST_OK;
}

/* ---- values ------------------------------------------------------------------------------ */

/* An optional relational operator. Sets *neg, or a port bound for <, >, <=, >=. */
static int read_op(struct parser *p, bool *neg, int *relation)
{
    const struct token *t = peek(p);

    *neg = false;
    *relation = 0;
    if (t->kind != T_WORD) {
        return PST_OK;
    }
    if (strcmp(t->text, "==") == 0 || strcmp(t->text, "eq") == 0) {
        p->pos++;
    } else if (strcmp(t->text, "!=") == 0 || strcmp(t->text, "ne") == 0) {
        *neg = true;
        p->pos++;
    } else if (strcmp(t->text, "<") == 0 || strcmp(t->text, "lt") == 0) {
        *relation = 1;
        p->pos++;
    } else if (strcmp(t->text, "<=") == 0 || strcmp(t->text, "le") == 0) {
        *relation = 2;
        p->pos++;
    } else if (strcmp(t->text, ">") == 0 || strcmp(t->text, "gt") == 0) {
        *relation = 3;
        p->pos++;
    } else if (strcmp(t->text, ">=") == 0 || strcmp(t->text, "ge") == 0) {
        *relation = 4;
        p->pos++;
    }
    return PST_OK;
}

/* The value(s) after a selector: one word, or a { a, b, c-d } set. Words go to ITEMS. */
static int read_values(struct parser *p, char (*items)[TOKEN_MAX], size_t max, size_t *n,
                       bool *named_set)
{
    const struct token *t = next(p);

    *n = 0;
    *named_set = false;
    if (t->kind == T_WORD && t->text[0] == '@') {
        *named_set = true;
        return PST_OK;
    }
    if (t->kind == T_WORD || t->kind == T_STRING) {
        /* "established,related" is one word to the tokenizer: split at commas later */
        snprintf(items[(*n)++], TOKEN_MAX, "%s", t->text);
        while (peek(p)->kind == T_COMMA) {
            p->pos++;
            t = next(p);
            if ((t->kind != T_WORD && t->kind != T_STRING) || *n >= max) {
                return fail(p, t->line, "a value list was expected");
            }
            snprintf(items[(*n)++], TOKEN_MAX, "%s", t->text);
        }
        return PST_OK;
    }
    if (t->kind != T_LBRACE) {
        return fail(p, t->line, "a value was expected");
    }
    for (;;) {
        t = next(p);
        if (t->kind == T_RBRACE) {
            return PST_OK;
        }
        if (t->kind == T_COMMA || t->kind == T_NL) {
            continue;
        }
        if ((t->kind != T_WORD && t->kind != T_STRING) || *n >= max) {
            return fail(p, t->line, "a set of at most %zu values was expected", max);
        }
        snprintf(items[(*n)++], TOKEN_MAX, "%s", t->text);
    }
}

static int add_range(struct pst_fw_cond *c, uint32_t lo, uint32_t hi)
{
    struct pst_fw_range *grown;

    if (c->n_ranges >= PST_FW_PORTS_MAX) {
        return PST_ETOOBIG;
    }
    grown = realloc(c->ranges, (c->n_ranges + 1) * sizeof(*grown));
    if (grown == NULL) {
        return PST_ENOMEM;
    }
    c->ranges = grown;
    c->ranges[c->n_ranges++] = (struct pst_fw_range){lo, hi};
    return PST_OK;
}

static int add(struct parser *p, struct pst_fw_rule *r, struct pst_fw_cond *c, long line)
{
    int rc = pst_fw_rule_add(r, c);
    memset(c, 0, sizeof(*c));
    if (rc == PST_ETOOBIG) {
        return fail(p, line, "more than %d matches in one rule", PST_FW_CONDS_MAX);
    }
    return rc;
}

/* Ports or protocols: numbers, names, ranges "a-b", or a relation ("< 1024"). */
static int numeric_cond(struct parser *p, struct pst_fw_rule *r, enum pst_fw_cond_kind kind,
                        uint32_t proto, long line)
{
    char(*items)[TOKEN_MAX] = p->items;
    struct pst_fw_cond c = {.kind = kind, .value = proto};
    size_t n;
    bool named;
    int relation, rc;

    rc = read_op(p, &c.neg, &relation);
    if (rc == PST_OK) {
        rc = read_values(p, items, VALUES_MAX, &n, &named);
    }
    if (rc != PST_OK) {
        return rc;
    }
    if (named) {
        struct pst_fw_cond u = {.kind = PST_FW_UNKNOWN};
        return add(p, r, &u, line);
    }
    for (size_t i = 0; i < n && rc == PST_OK; i++) {
        char *dash = strchr(items[i], '-');
        uint32_t lo, hi;
        int (*number)(const char *, uint32_t *) =
            kind == PST_FW_DPORT ? pst_fw_port_number : pst_fw_proto_number;
        if (dash != NULL && dash != items[i] && number(items[i], &lo) != PST_OK) {
            *dash = '\0';
            if (number(items[i], &lo) != PST_OK || number(dash + 1, &hi) != PST_OK) {
                rc = fail(p, line, "'%s-%s' is not a range", items[i], dash + 1);
                break;
            }
        } else if (number(items[i], &lo) != PST_OK) {
            rc = fail(p, line, "'%s' is not a %s", items[i],
                      kind == PST_FW_DPORT ? "port" : "protocol");
            break;
        } else {
            hi = lo;
        }
        switch (relation) {
        case 1: /* < */
            if (lo == 0) {
                rc = fail(p, line, "'< 0' matches nothing");
                continue;
            }
            hi = lo - 1;
            lo = 0;
            break;
        case 2:
            hi = lo;
            lo = 0;
            break;
        case 3:
            lo = lo + 1;
            hi = kind == PST_FW_DPORT ? 65535 : 255;
            break;
        case 4:
            hi = kind == PST_FW_DPORT ? 65535 : 255;
            break;
        default:
            break;
        }
        rc = add_range(&c, lo, hi);
    }
    if (rc != PST_OK) {
        free(c.ranges);
        return rc;
    }
    if (kind == PST_FW_L4PROTO && c.n_ranges == 1 && c.ranges[0].lo == c.ranges[0].hi) {
        c.value = c.ranges[0].lo;
        free(c.ranges);
        c.ranges = NULL;
        c.n_ranges = 0;
    }
    return add(p, r, &c, line);
}

static int ctstate_cond(struct parser *p, struct pst_fw_rule *r, long line)
{
    static const char *const names[] = {"invalid", "established", "related", "new", "",
                                        "",        "untracked"};
    char(*items)[TOKEN_MAX] = p->items;
    struct pst_fw_cond c = {.kind = PST_FW_CTSTATE};
    size_t n;
    bool named;
    int relation;
    int rc = read_op(p, &c.neg, &relation);

    if (rc == PST_OK) {
        rc = read_values(p, items, VALUES_MAX, &n, &named);
    }
    if (rc != PST_OK) {
        return rc;
    }
    if (named || relation != 0) {
        return fail(p, line, "ct state: only a list or set of states is understood");
    }
    for (size_t i = 0; i < n; i++) {
        /* "established,related" may arrive as one word */
        char *item = items[i];
        while (item != NULL) {
            char *comma = strchr(item, ',');
            size_t k;
            if (comma != NULL) {
                *comma++ = '\0';
            }
            for (k = 0; k < PST_COUNT(names); k++) {
                if (names[k][0] != '\0' && strcmp(item, names[k]) == 0) {
                    c.value |= 1u << k;
                    break;
                }
            }
            if (k == PST_COUNT(names)) {
                return fail(p, line, "'%s' is not a conntrack state", item);
            }
            item = comma;
        }
    }
    return add(p, r, &c, line);
}

static int iface_cond(struct parser *p, struct pst_fw_rule *r, long line, bool input)
{
    char(*items)[TOKEN_MAX] = p->items;
    struct pst_fw_cond c = {.kind = PST_FW_IIF};
    size_t n;
    bool named, lo = false, other = false;
    int relation;
    int rc = read_op(p, &c.neg, &relation);

    if (rc == PST_OK) {
        rc = read_values(p, items, VALUES_MAX, &n, &named);
    }
    if (rc != PST_OK || !input) {
        return rc; /* the output interface does not decide input verdicts */
    }
    if (named || relation != 0) {
        c.kind = PST_FW_UNKNOWN;
        return add(p, r, &c, line);
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(items[i], "lo") == 0) {
            lo = true;
        } else {
            other = true;
        }
    }
    if (lo && other) {
        /* "lo" and others together: every interface, as far as these packets go */
        return PST_OK;
    }
    c.lo = lo;
    return add(p, r, &c, line);
}

static int addr_cond(struct parser *p, struct pst_fw_rule *r, long line, int family, bool source)
{
    char(*items)[TOKEN_MAX] = p->items;
    struct pst_fw_cond c = {0};
    size_t n;
    bool named, neg;
    int relation;
    int rc = read_op(p, &neg, &relation);

    if (rc == PST_OK) {
        rc = read_values(p, items, VALUES_MAX, &n, &named);
    }
    if (rc != PST_OK || !source) {
        return rc; /* an input packet is addressed to this host: a destination test holds */
    }
    if (named || n != 1 || relation != 0 || strchr(items[0], '-') != NULL) {
        c.kind = PST_FW_UNKNOWN; /* a source set or range: not "any source" */
        return add(p, r, &c, line);
    }
    if (pst_fw_parse_prefix(items[0], family, &c) != PST_OK) {
        return fail(p, line, "'%s' is not an IPv%d address or prefix", items[0], family);
    }
    c.neg = neg;
    return add(p, r, &c, line);
}

static int nfproto(struct parser *p, struct pst_fw_rule *r, int family, long line)
{
    struct pst_fw_cond c = {.kind = PST_FW_NFPROTO, .value = (uint32_t)family};
    return add(p, r, &c, line);
}

/* Skips an operator and a value or set: the argument of a match posture does not evaluate. */
static int unknown_match(struct parser *p, struct pst_fw_rule *r, long line)
{
    char(*items)[TOKEN_MAX] = p->items;
    struct pst_fw_cond c = {.kind = PST_FW_UNKNOWN};
    size_t n;
    bool named, neg;
    int relation;
    int rc = read_op(p, &neg, &relation);

    if (rc == PST_OK) {
        rc = read_values(p, items, VALUES_MAX, &n, &named);
    }
    return rc == PST_OK ? add(p, r, &c, line) : rc;
}

/* A key of a verdict map: a conntrack state, or a port or protocol (a range a-b too). */
static int vmap_key(struct parser *p, enum pst_fw_cond_kind key, char *text, uint32_t *lo,
                    uint32_t *hi, long line)
{
    static const char *const states[] = {"invalid", "established", "related", "new", "",
                                         "",        "untracked"};
    int (*number)(const char *, uint32_t *) =
        key == PST_FW_DPORT ? pst_fw_port_number : pst_fw_proto_number;
    char *dash = strchr(text, '-');

    if (key == PST_FW_CTSTATE) {
        for (size_t k = 0; k < PST_COUNT(states); k++) {
            if (states[k][0] != '\0' && strcmp(text, states[k]) == 0) {
                *lo = *hi = 1u << k;
                return PST_OK;
            }
        }
        return fail(p, line, "'%s' is not a conntrack state", text);
    }
    if (number(text, lo) == PST_OK) {
        *hi = *lo;
        return PST_OK;
    }
    if (dash != NULL && dash != text) {
        *dash = '\0';
        if (number(text, lo) == PST_OK && number(dash + 1, hi) == PST_OK && *lo <= *hi) {
            return PST_OK;
        }
        *dash = '-';
    }
    return fail(p, line, "'%s' is not a %s", text, key == PST_FW_DPORT ? "port" : "protocol");
}

/* `vmap { KEY : VERDICT, ... }` after a selector: the rule's verdict map. */
static int parse_vmap(struct parser *p, struct pst_fw_rule *r, enum pst_fw_cond_kind key,
                      uint32_t proto, long line)
{
    const struct token *t;

    p->pos++; /* vmap */
    t = next(p);
    if (t->kind == T_WORD && t->text[0] == '@') {
        struct pst_fw_cond c = {.kind = PST_FW_UNKNOWN};
        return add(p, r, &c, line); /* a named map: not read */
    }
    if (t->kind != T_LBRACE) {
        return fail(p, t->line, "vmap: '{' expected");
    }
    for (;;) {
        char keytext[TOKEN_MAX], *colon;
        const char *verdict_word;
        enum pst_fw_verdict v;
        const char *target = NULL;
        uint32_t lo, hi;
        int rc;
        t = next(p);
        if (t->kind == T_RBRACE) {
            return PST_OK;
        }
        if (t->kind == T_COMMA || t->kind == T_NL) {
            continue;
        }
        if (t->kind != T_WORD) {
            return fail(p, t->line, "vmap: a key was expected");
        }
        /* "established : accept", "established: accept" or "established:accept" */
        snprintf(keytext, sizeof(keytext), "%s", t->text);
        colon = strchr(keytext, ':');
        verdict_word = NULL;
        if (colon != NULL) {
            *colon = '\0';
            verdict_word = colon[1] != '\0' ? t->text + (colon - keytext) + 1 : NULL;
        } else if (is_word(peek(p), ":")) {
            p->pos++;
        } else {
            return fail(p, t->line, "vmap: ':' expected after '%s'", keytext);
        }
        rc = vmap_key(p, key, keytext, &lo, &hi, t->line);
        if (rc != PST_OK) {
            return rc;
        }
        if (verdict_word == NULL) {
            t = next(p);
            if (t->kind != T_WORD) {
                return fail(p, t->line, "vmap: a verdict was expected");
            }
            verdict_word = t->text;
        }
        if (strcmp(verdict_word, "accept") == 0) {
            v = PST_FW_ACCEPT;
        } else if (strcmp(verdict_word, "drop") == 0 || strcmp(verdict_word, "reject") == 0) {
            v = PST_FW_DROP;
        } else if (strcmp(verdict_word, "return") == 0) {
            v = PST_FW_RETURN;
        } else if (strcmp(verdict_word, "continue") == 0) {
            v = PST_FW_NONE;
        } else if (strcmp(verdict_word, "jump") == 0 || strcmp(verdict_word, "goto") == 0) {
            v = verdict_word[0] == 'j' ? PST_FW_JUMP : PST_FW_GOTO;
            t = next(p);
            if (t->kind != T_WORD && t->kind != T_STRING) {
                return fail(p, t->line, "vmap: a chain name was expected");
            }
            target = t->text;
        } else {
            return fail(p, line, "vmap: '%s' is not a verdict", verdict_word);
        }
        rc = pst_fw_vmap_add(r, key, proto, lo, hi, v, target);
        if (rc != PST_OK) {
            return rc == PST_ETOOBIG ? fail(p, line, "vmap: more than %d keys", PST_FW_PORTS_MAX)
                                     : rc;
        }
    }
}

/* Skips one word or string of the current rule; never the end of the rule. */
static void skip_value(struct parser *p)
{
    if (peek(p)->kind == T_WORD || peek(p)->kind == T_STRING) {
        p->pos++;
    }
}

static bool statement_word(const char *w)
{
    static const char *const words[] = {"accept", "drop",    "reject", "jump",    "goto",
                                        "return", "counter", "log",    "comment", "continue",
                                        "limit",  "notrack", "queue"};
    for (size_t i = 0; i < PST_COUNT(words); i++) {
        if (strcmp(w, words[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* One rule's words, up to the end of the rule, into RULE. */
static int parse_rule(struct parser *p, const char *table_family, struct pst_fw_rule *rule)
{
    bool dual = strcmp(table_family, "inet") == 0 || strcmp(table_family, "bridge") == 0 ||
                strcmp(table_family, "netdev") == 0;
    int rc = PST_OK;

    while (rc == PST_OK && !at_rule_end(p)) {
        const struct token *t = next(p);
        long line = t->line;
        char w[TOKEN_MAX];

        if (t->kind != T_WORD) {
            return fail(p, line, "unexpected '%s' in a rule", t->kind == T_LBRACE ? "{" : ",");
        }
        snprintf(w, sizeof(w), "%s", t->text);
        if (strcmp(w, "meta") == 0) {
            t = next(p);
            if (t->kind != T_WORD) {
                return fail(p, line, "meta: a key was expected");
            }
            snprintf(w, sizeof(w), "%s", t->text);
            if (strcmp(w, "nfproto") == 0) {
                bool neg;
                int relation;
                t = (read_op(p, &neg, &relation), next(p));
                if (!is_word(t, "ipv4") && !is_word(t, "ipv6")) {
                    return fail(p, line, "meta nfproto: ipv4 or ipv6 was expected");
                }
                struct pst_fw_cond c = {
                    .kind = PST_FW_NFPROTO, .value = is_word(t, "ipv4") ? 4 : 6, .neg = neg};
                rc = add(p, rule, &c, line);
                continue;
            }
            if (strcmp(w, "l4proto") == 0) {
                rc = is_word(peek(p), "vmap") ? parse_vmap(p, rule, PST_FW_L4PROTO, 0, line)
                                              : numeric_cond(p, rule, PST_FW_L4PROTO, 0, line);
                continue;
            }
            if (strcmp(w, "iif") != 0 && strcmp(w, "iifname") != 0 && strcmp(w, "oif") != 0 &&
                strcmp(w, "oifname") != 0) {
                rc = unknown_match(p, rule, line); /* mark, pkttype, skuid... */
                continue;
            }
        }
        if (strcmp(w, "iif") == 0 || strcmp(w, "iifname") == 0) {
            rc = iface_cond(p, rule, line, true);
        } else if (strcmp(w, "oif") == 0 || strcmp(w, "oifname") == 0) {
            rc = iface_cond(p, rule, line, false);
        } else if (strcmp(w, "ip") == 0 || strcmp(w, "ip6") == 0) {
            int family = w[2] == '6' ? 6 : 4;
            t = next(p);
            if (t->kind != T_WORD) {
                return fail(p, line, "%s: a field was expected", w);
            }
            if (dual) {
                rc = nfproto(p, rule, family, line);
            }
            if (rc != PST_OK) {
                break;
            }
            if (is_word(t, family == 4 ? "protocol" : "nexthdr")) {
                rc = numeric_cond(p, rule, PST_FW_L4PROTO, 0, line);
            } else if (is_word(t, "saddr") || is_word(t, "daddr")) {
                rc = addr_cond(p, rule, line, family, is_word(t, "saddr"));
            } else {
                rc = unknown_match(p, rule, line);
            }
        } else if (strcmp(w, "tcp") == 0 || strcmp(w, "udp") == 0 || strcmp(w, "th") == 0 ||
                   strcmp(w, "sctp") == 0) {
            uint32_t proto = w[0] == 't' ? (w[1] == 'c' ? 6 : 0) : w[0] == 'u' ? 17 : 132;
            struct pst_fw_cond c = {.kind = PST_FW_L4PROTO, .value = proto};
            t = next(p);
            if (proto != 0 && (rc = add(p, rule, &c, line)) != PST_OK) {
                break;
            }
            if (is_word(t, "dport") && is_word(peek(p), "vmap")) {
                rc = parse_vmap(p, rule, PST_FW_DPORT, proto, line);
            } else if (is_word(t, "dport")) {
                rc = numeric_cond(p, rule, PST_FW_DPORT, proto, line);
            } else if (t->kind == T_WORD) {
                rc = unknown_match(p, rule, line); /* sport, flags... */
            } else {
                return fail(p, line, "%s: a field was expected", w);
            }
        } else if (strcmp(w, "icmp") == 0 || strcmp(w, "icmpv6") == 0) {
            struct pst_fw_cond c = {.kind = PST_FW_L4PROTO, .value = w[4] == 'v' ? 58 : 1};
            t = next(p);
            if (t->kind != T_WORD) {
                return fail(p, line, "%s: a field was expected", w);
            }
            if (dual) {
                rc = nfproto(p, rule, w[4] == 'v' ? 6 : 4, line);
            }
            if (rc == PST_OK) {
                rc = add(p, rule, &c, line);
            }
            if (rc == PST_OK) {
                rc = unknown_match(p, rule, line);
            }
        } else if (strcmp(w, "ct") == 0) {
            t = next(p);
            if (is_word(t, "state") && is_word(peek(p), "vmap")) {
                rc = parse_vmap(p, rule, PST_FW_CTSTATE, 0, line);
            } else if (is_word(t, "state")) {
                rc = ctstate_cond(p, rule, line);
            } else if (t->kind == T_WORD) {
                rc = unknown_match(p, rule, line); /* status, mark, helper... */
            } else {
                return fail(p, line, "ct: a key was expected");
            }
        } else if (strcmp(w, "fib") == 0) {
            /* reverse path filters: fib saddr . iif oif missing drop */
            struct pst_fw_cond c = {.kind = PST_FW_UNKNOWN};
            while (!at_rule_end(p) && !(peek(p)->kind == T_WORD && statement_word(peek(p)->text))) {
                p->pos++;
            }
            rc = add(p, rule, &c, line);
        } else if (strcmp(w, "limit") == 0) {
            /* limit rate [over] N/unit [burst N packets|bytes]: a match that stops matching */
            struct pst_fw_cond c = {.kind = PST_FW_UNKNOWN};
            while (!at_rule_end(p) && !(peek(p)->kind == T_WORD && statement_word(peek(p)->text))) {
                p->pos++;
            }
            rc = add(p, rule, &c, line);
        } else if (strcmp(w, "counter") == 0) {
            while (is_word(peek(p), "packets") || is_word(peek(p), "bytes")) {
                p->pos++;
                skip_value(p);
            }
        } else if (strcmp(w, "log") == 0) {
            while (is_word(peek(p), "prefix") || is_word(peek(p), "level") ||
                   is_word(peek(p), "group") || is_word(peek(p), "snaplen") ||
                   is_word(peek(p), "queue-threshold") || is_word(peek(p), "flags")) {
                p->pos++;
                skip_value(p);
            }
        } else if (strcmp(w, "comment") == 0) {
            skip_value(p);
        } else if (strcmp(w, "notrack") == 0) {
            continue;
        } else if (strcmp(w, "accept") == 0 || strcmp(w, "drop") == 0 || strcmp(w, "reject") == 0 ||
                   strcmp(w, "return") == 0 || strcmp(w, "continue") == 0 ||
                   strcmp(w, "queue") == 0) {
            rule->verdict = w[0] == 'a'                  ? PST_FW_ACCEPT
                            : w[0] == 'r' && w[2] == 't' ? PST_FW_RETURN
                            : w[0] == 'c'                ? PST_FW_NONE
                                                         : PST_FW_DROP;
            /* reject with tcp reset | with icmp[x|v6] [type] CODE: words of this rule only */
            if (strcmp(w, "reject") == 0 && is_word(peek(p), "with")) {
                p->pos++;
                for (int k = 0; k < 3 && peek(p)->kind == T_WORD && !statement_word(peek(p)->text);
                     k++) {
                    p->pos++;
                }
            }
        } else if (strcmp(w, "jump") == 0 || strcmp(w, "goto") == 0) {
            t = next(p);
            if (t->kind != T_WORD && t->kind != T_STRING) {
                return fail(p, line, "%s: a chain name was expected", w);
            }
            rule->verdict = w[0] == 'j' ? PST_FW_JUMP : PST_FW_GOTO;
            free(rule->target);
            rule->target = strdup(t->text);
            if (rule->target == NULL) {
                return PST_ENOMEM;
            }
        } else {
            return fail(p, line, "'%s' is not understood by posture's nft reader", w);
        }
    }
    return rc;
}

static int priority_of(struct parser *p, int *prio)
{
    static const struct {
        const char *name;
        int value;
    } names[] = {{"raw", -300}, {"mangle", -150}, {"dstnat", -100},
                 {"filter", 0}, {"security", 50}, {"srcnat", 100}};
    const struct token *t = next(p);
    char *end;
    long v;
    size_t i;

    for (i = 0; i < PST_COUNT(names); i++) {
        if (is_word(t, names[i].name)) {
            *prio = names[i].value;
            break;
        }
    }
    if (i == PST_COUNT(names)) {
        errno = 0;
        v = strtol(t->text, &end, 10);
        if (t->kind != T_WORD || errno != 0 || *end != '\0' || end == t->text || v < -100000 ||
            v > 100000) {
            return fail(p, t->line, "'%s' is not a chain priority", t->text);
        }
        *prio = (int)v;
        return PST_OK;
    }
    /* "filter + 10", "filter - 5" */
    if (is_word(peek(p), "+") || is_word(peek(p), "-")) {
        bool minus = is_word(next(p), "-");
        t = next(p);
        errno = 0;
        v = strtol(t->text, &end, 10);
        if (errno != 0 || *end != '\0' || end == t->text || v < 0 || v > 100000) {
            return fail(p, t->line, "'%s' is not a priority offset", t->text);
        }
        *prio += minus ? -(int)v : (int)v;
    }
    return PST_OK;
}

static int chain_body(struct parser *p, const char *family, const char *table, const char *name)
{
    struct pst_fw_chain *chain = pst_fw_chain_get(p->rs, family, table, name, true);
    int rc = PST_OK;

    if (chain == NULL) {
        return p->rs->n_chains >= PST_FW_CHAINS_MAX ? PST_ETOOBIG : PST_ENOMEM;
    }
    for (;;) {
        const struct token *t;
        long line;
        skip_separators(p);
        t = peek(p);
        line = t->line;
        if (t->kind == T_RBRACE) {
            p->pos++;
            return PST_OK;
        }
        if (t->kind == T_END) {
            return fail(p, line, "chain %s: '}' expected", name);
        }
        if (is_word(t, "type")) {
            char where[600];
            const struct token *type, *hook;
            p->pos++;
            type = next(p);
            if (!is_word(next(p), "hook")) {
                return fail(p, line, "chain %s: 'type TYPE hook HOOK priority N' expected", name);
            }
            hook = next(p);
            chain->filter = is_word(type, "filter");
            chain->hook = is_word(hook, "input")     ? PST_FW_HOOK_INPUT
                          : is_word(hook, "forward") ? PST_FW_HOOK_FORWARD
                                                     : PST_FW_HOOK_OTHER;
            if (is_word(peek(p), "device")) {
                p->pos++;
                skip_value(p);
            }
            if (!is_word(next(p), "priority")) {
                return fail(p, line, "chain %s: 'priority' expected", name);
            }
            rc = priority_of(p, &chain->priority);
            if (rc != PST_OK) {
                return rc;
            }
            snprintf(where, sizeof(where), "%s:%ld", p->source, line);
            free(chain->source);
            chain->source = strdup(where);
            if (chain->source == NULL) {
                return PST_ENOMEM;
            }
            continue;
        }
        if (is_word(t, "policy")) {
            p->pos++;
            t = next(p);
            if (!is_word(t, "accept") && !is_word(t, "drop")) {
                return fail(p, line, "chain %s: policy is accept or drop", name);
            }
            chain->policy = is_word(t, "drop") ? PST_FW_DROP : PST_FW_ACCEPT;
            continue;
        }
        if (is_word(t, "comment") || is_word(t, "flags") || is_word(t, "devices")) {
            while (!at_rule_end(p)) {
                p->pos++;
            }
            continue;
        }
        {
            struct pst_fw_rule rule = {0};
            char where[600];
            rc = parse_rule(p, family, &rule);
            if (rc == PST_OK) {
                snprintf(where, sizeof(where), "%s:%ld", p->source, line);
                rule.source = strdup(where);
                rc = rule.source ? pst_fw_chain_append(p->rs, chain, &rule) : PST_ENOMEM;
            }
            pst_fw_rule_clear(&rule);
            if (rc != PST_OK) {
                return rc;
            }
            /* parse_rule may have moved chain's storage? no: chains only grow elsewhere */
        }
    }
}

static bool ip_family(const char *family)
{
    return strcmp(family, "ip") == 0 || strcmp(family, "ip6") == 0 || strcmp(family, "inet") == 0;
}

static int table_body(struct parser *p, const char *family, const char *table)
{
    int rc;

    if (next(p)->kind != T_LBRACE) {
        return fail(p, peek(p)->line, "table %s: '{' expected", table);
    }
    for (;;) {
        const struct token *t;
        skip_separators(p);
        t = peek(p);
        if (t->kind == T_RBRACE) {
            p->pos++;
            return PST_OK;
        }
        if (t->kind == T_END) {
            return fail(p, t->line, "table %s: '}' expected", table);
        }
        if (is_word(t, "chain") && ip_family(family)) {
            char name[TOKEN_MAX];
            p->pos++;
            t = next(p);
            if (t->kind != T_WORD && t->kind != T_STRING) {
                return fail(p, t->line, "a chain name was expected");
            }
            snprintf(name, sizeof(name), "%s", t->text);
            if (next(p)->kind != T_LBRACE) {
                return fail(p, t->line, "chain %s: '{' expected", name);
            }
            rc = chain_body(p, family, table, name);
        } else if (is_word(t, "flags") || is_word(t, "comment")) {
            while (!at_rule_end(p)) {
                p->pos++;
            }
            rc = PST_OK;
        } else {
            /* sets, maps, flowtables, named objects, and every chain of arp/bridge/netdev */
            while (peek(p)->kind != T_LBRACE && !at_rule_end(p)) {
                p->pos++;
            }
            rc = peek(p)->kind == T_LBRACE ? skip_block(p) : fail(p, t->line, "'{' expected");
        }
        if (rc != PST_OK) {
            return rc;
        }
    }
}

static int flush_table(struct parser *p, const char *family, const char *table)
{
    for (size_t i = 0; i < p->rs->n_chains; i++) {
        struct pst_fw_chain *c = &p->rs->chains[i];
        if (strcmp(c->family, family) == 0 && strcmp(c->table, table) == 0) {
            for (size_t j = 0; j < c->n_rules; j++) {
                pst_fw_rule_clear(&c->rules[j]);
            }
            p->rs->n_rules -= c->n_rules;
            c->n_rules = 0;
        }
    }
    return PST_OK;
}

static int statement(struct parser *p)
{
    const struct token *t = next(p);
    char family[TOKEN_MAX], table[TOKEN_MAX];
    long line = t->line;
    int rc;

    if (is_word(t, "flush") && is_word(peek(p), "ruleset")) {
        /* the file replaces what was loaded before it: drop what earlier files set */
        p->pos++;
        for (size_t i = 0; i < p->rs->n_chains; i++) {
            rc = flush_table(p, p->rs->chains[i].family, p->rs->chains[i].table);
            (void)rc;
        }
        for (size_t i = 0; i < p->rs->n_chains; i++) {
            p->rs->chains[i].hook = PST_FW_HOOK_NONE; /* deleted: no longer on a hook */
            p->rs->chains[i].filter = false;
        }
        return PST_OK;
    }
    if (is_word(t, "include")) {
        t = next(p);
        if (t->kind != T_STRING) {
            return fail(p, line, "include: a quoted path was expected");
        }
        if (p->depth + 1 > INCLUDE_DEPTH_MAX) {
            return fail(p, line, "includes nested deeper than %d", INCLUDE_DEPTH_MAX);
        }
        if (p->include == NULL) {
            return fail(p, line, "include \"%s\": includes are not read here", t->text);
        }
        return p->include(p->state, t->text, p->depth + 1, p);
    }
    if (is_word(t, "add") || is_word(t, "create") || is_word(t, "table") || is_word(t, "flush") ||
        is_word(t, "chain") || is_word(t, "rule")) {
        const char *what = t->text;
        if (is_word(t, "add") || is_word(t, "create") || is_word(t, "flush")) {
            bool flush = is_word(t, "flush");
            t = next(p);
            if (flush && is_word(t, "table")) {
                rc = family_and_name(p, family, table);
                return rc == PST_OK ? flush_table(p, family, table) : rc;
            }
            what = t->text;
            if (flush) {
                return fail(p, line, "flush %s is not understood by posture's nft reader", what);
            }
        }
        if (strcmp(what, "table") == 0) {
            rc = family_and_name(p, family, table);
            if (rc == PST_OK && peek(p)->kind == T_LBRACE) {
                rc = table_body(p, family, table);
            }
            return rc;
        }
        if (strcmp(what, "chain") == 0 || strcmp(what, "rule") == 0) {
            char name[TOKEN_MAX];
            rc = family_and_name(p, family, table);
            if (rc != PST_OK) {
                return rc;
            }
            t = next(p);
            if (t->kind != T_WORD && t->kind != T_STRING) {
                return fail(p, line, "a chain name was expected");
            }
            snprintf(name, sizeof(name), "%s", t->text);
            if (!ip_family(family)) {
                while (!at_rule_end(p)) {
                    p->pos += peek(p)->kind == T_LBRACE ? 0 : 1;
                    if (peek(p)->kind == T_LBRACE && (rc = skip_block(p)) != PST_OK) {
                        return rc;
                    }
                }
                return PST_OK;
            }
            if (strcmp(what, "chain") == 0) {
                if (peek(p)->kind == T_LBRACE) {
                    p->pos++;
                    return chain_body(p, family, table, name);
                }
                return pst_fw_chain_get(p->rs, family, table, name, true) ? PST_OK : PST_ENOMEM;
            }
            {
                struct pst_fw_chain *chain = pst_fw_chain_get(p->rs, family, table, name, false);
                struct pst_fw_rule rule = {0};
                char where[600];
                if (chain == NULL) {
                    return fail(p, line, "rule for chain %s %s %s, which does not exist", family,
                                table, name);
                }
                rc = parse_rule(p, family, &rule);
                if (rc == PST_OK) {
                    snprintf(where, sizeof(where), "%s:%ld", p->source, line);
                    rule.source = strdup(where);
                    rc = rule.source ? pst_fw_chain_append(p->rs, chain, &rule) : PST_ENOMEM;
                }
                pst_fw_rule_clear(&rule);
                return rc;
            }
        }
        if (strcmp(what, "set") == 0 || strcmp(what, "map") == 0 || strcmp(what, "element") == 0) {
            while (!at_rule_end(p)) {
                if (peek(p)->kind == T_LBRACE) {
                    rc = skip_block(p);
                    if (rc != PST_OK) {
                        return rc;
                    }
                    continue;
                }
                p->pos++;
            }
            return PST_OK;
        }
    }
    return fail(p, line, "'%s' is not understood by posture's nft reader",
                t->kind == T_WORD || t->kind == T_STRING ? t->text : "punctuation");
}

int pst_fw_parse_nft(struct pst_fw_ruleset *rs, const char *text, const char *source,
                     int (*include)(void *state, const char *path, int depth, const void *scope),
                     void *state, int depth, const void *scope)
{
    struct parser *p = calloc(1, sizeof(*p));
    int rc;

    if (p == NULL) {
        return PST_ENOMEM;
    }
    p->rs = rs;
    p->source = source;
    p->include = include;
    p->state = state;
    p->depth = depth;
    p->parent = scope;
    p->items = calloc(VALUES_MAX, TOKEN_MAX);
    rc = p->items != NULL ? tokenize(p, text) : PST_ENOMEM;
    while (rc == PST_OK) {
        skip_separators(p);
        if (peek(p)->kind == T_END) {
            break;
        }
        rc = statement(p);
        if (rc == PST_OK && !at_rule_end(p)) {
            rc = fail(p, peek(p)->line, "unexpected '%s' after a statement", peek(p)->text);
        }
    }
    if (rc == PST_ETOOBIG && rs->error[0] == '\0') {
        snprintf(rs->error, sizeof(rs->error), "%s: more than %d tokens, chains or rules", source,
                 TOKENS_MAX);
    }
    free(p->toks);
    free(p->dtoks);
    free(p->items);
    free(p);
    return rc;
}
