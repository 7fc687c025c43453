/* SPDX-License-Identifier: Apache-2.0 */
/* The firewall ruleset model, its evaluation as the kernel walks hooks, and the iptables reader. */
#include "probes/firewall.h"

#include "agent/error.h"
#include "probes/text.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define IPT_TOKENS_MAX 256

struct pst_fw_ruleset *pst_fw_ruleset_new(void)
{
    return calloc(1, sizeof(struct pst_fw_ruleset));
}

void pst_fw_rule_clear(struct pst_fw_rule *rule)
{
    for (size_t i = 0; i < rule->n_conds; i++) {
        free(rule->conds[i].ranges);
    }
    free(rule->conds);
    if (rule->vmap != NULL) {
        for (size_t i = 0; i < rule->vmap->n; i++) {
            free(rule->vmap->entries[i].target);
        }
        free(rule->vmap->entries);
        free(rule->vmap);
    }
    free(rule->target);
    free(rule->source);
    memset(rule, 0, sizeof(*rule));
}

int pst_fw_vmap_add(struct pst_fw_rule *rule, enum pst_fw_cond_kind key, uint32_t proto,
                    uint32_t lo, uint32_t hi, enum pst_fw_verdict verdict, const char *target)
{
    struct pst_fw_vmap *m = rule->vmap;
    struct pst_fw_vmap_entry *grown;

    if (m == NULL) {
        m = rule->vmap = calloc(1, sizeof(*m));
        if (m == NULL) {
            return PST_ENOMEM;
        }
        m->key = key;
        m->proto = proto;
    }
    if (m->n >= PST_FW_PORTS_MAX) {
        return PST_ETOOBIG;
    }
    grown = realloc(m->entries, (m->n + 1) * sizeof(*grown));
    if (grown == NULL) {
        return PST_ENOMEM;
    }
    m->entries = grown;
    m->entries[m->n] = (struct pst_fw_vmap_entry){lo, hi, verdict, NULL};
    if (target != NULL && (m->entries[m->n].target = strdup(target)) == NULL) {
        return PST_ENOMEM;
    }
    m->n++;
    return PST_OK;
}

static void chain_release(struct pst_fw_chain *c)
{
    for (size_t i = 0; i < c->n_rules; i++) {
        pst_fw_rule_clear(&c->rules[i]);
    }
    free(c->rules);
    free(c->family);
    free(c->table);
    free(c->name);
    free(c->source);
}

void pst_fw_ruleset_clear(struct pst_fw_ruleset *rs)
{
    for (size_t i = 0; i < rs->n_chains; i++) {
        chain_release(&rs->chains[i]);
    }
    rs->n_chains = 0;
    rs->n_rules = 0;
    rs->n_dormant = 0;
    rs->error[0] = '\0';
}

/* ---- digest: each field fed on its own (never a struct's padding), strings with a length */

static void feed(XXH3_state_t *st, const void *p, size_t n)
{
    XXH3_64bits_update(st, p, n);
}

static void feed_u64(XXH3_state_t *st, uint64_t v)
{
    feed(st, &v, sizeof(v));
}

static void feed_str(XXH3_state_t *st, const char *s)
{
    if (s == NULL) {
        feed_u64(st, UINT64_MAX);
        return;
    }
    size_t n = strlen(s);
    feed_u64(st, n);
    feed(st, s, n);
}

static void feed_rule(XXH3_state_t *st, const struct pst_fw_rule *r)
{
    feed_u64(st, r->n_conds);
    for (size_t i = 0; i < r->n_conds; i++) {
        const struct pst_fw_cond *c = &r->conds[i];
        feed_u64(st, (uint64_t)c->kind);
        feed_u64(st, (uint64_t)c->neg | (uint64_t)c->lo << 1 | (uint64_t)c->every << 2);
        feed_u64(st, c->value);
        feed_u64(st, (uint64_t)(int64_t)c->family);
        feed(st, c->addr, sizeof(c->addr));
        feed_u64(st, (uint64_t)(int64_t)c->plen);
        feed_u64(st, c->n_ranges);
        for (size_t k = 0; k < c->n_ranges; k++) {
            feed_u64(st, (uint64_t)c->ranges[k].lo << 32 | c->ranges[k].hi);
        }
    }
    feed_u64(st, (uint64_t)r->verdict);
    feed_str(st, r->target);
    feed_str(st, r->source);
    feed_u64(st, r->vmap != NULL ? r->vmap->n : UINT64_MAX);
    if (r->vmap != NULL) {
        feed_u64(st, (uint64_t)r->vmap->key << 32 | r->vmap->proto);
        for (size_t k = 0; k < r->vmap->n; k++) {
            const struct pst_fw_vmap_entry *e = &r->vmap->entries[k];
            feed_u64(st, (uint64_t)e->lo << 32 | e->hi);
            feed_u64(st, (uint64_t)e->verdict);
            feed_str(st, e->target);
        }
    }
}

int pst_fw_ruleset_digest(const struct pst_fw_ruleset *rs, uint64_t *digest)
{
    XXH3_state_t *st = XXH3_createState();

    if (st == NULL || XXH3_64bits_reset(st) != XXH_OK) {
        XXH3_freeState(st);
        return PST_ENOMEM;
    }
    feed_u64(st, rs->n_dormant);
    for (size_t i = 0; i < rs->n_dormant; i++) {
        feed_str(st, rs->dormant[i].family);
        feed_str(st, rs->dormant[i].table);
    }
    feed_u64(st, rs->n_chains);
    for (size_t i = 0; i < rs->n_chains; i++) {
        const struct pst_fw_chain *c = &rs->chains[i];
        feed_str(st, c->family);
        feed_str(st, c->table);
        feed_str(st, c->name);
        feed_u64(st, (uint64_t)c->hook);
        feed_u64(st, (uint64_t)c->filter);
        feed_u64(st, (uint64_t)(int64_t)c->priority);
        feed_u64(st, (uint64_t)c->policy);
        feed_str(st, c->source);
        feed_u64(st, c->n_rules);
        for (size_t k = 0; k < c->n_rules; k++) {
            feed_rule(st, &c->rules[k]);
        }
    }
    feed_str(st, rs->error);
    *digest = XXH3_64bits_digest(st);
    XXH3_freeState(st);
    return PST_OK;
}

void pst_fw_ruleset_free(struct pst_fw_ruleset *rs)
{
    if (rs == NULL) {
        return;
    }
    for (size_t i = 0; i < rs->n_chains; i++) {
        chain_release(&rs->chains[i]);
    }
    free(rs->chains);
    free(rs);
}

struct pst_fw_chain *pst_fw_chain_get(struct pst_fw_ruleset *rs, const char *family,
                                      const char *table, const char *name, bool create)
{
    struct pst_fw_chain *c;

    /* newest first: rulesets are read table by table, so the match is usually near the end */
    for (size_t i = rs->n_chains; i-- > 0;) {
        c = &rs->chains[i];
        if (strcmp(c->name, name) == 0 && strcmp(c->table, table) == 0 &&
            strcmp(c->family, family) == 0) {
            return c;
        }
    }
    if (!create || rs->n_chains >= PST_FW_CHAINS_MAX) {
        return NULL;
    }
    if (rs->n_chains == rs->cap_chains) {
        size_t cap = rs->cap_chains ? rs->cap_chains * 2 : 16;
        struct pst_fw_chain *grown = realloc(rs->chains, cap * sizeof(*grown));
        if (grown == NULL) {
            return NULL;
        }
        rs->chains = grown;
        rs->cap_chains = cap;
    }
    c = &rs->chains[rs->n_chains];
    memset(c, 0, sizeof(*c));
    c->family = strdup(family);
    c->table = strdup(table);
    c->name = strdup(name);
    c->policy = PST_FW_ACCEPT;
    if (c->family == NULL || c->table == NULL || c->name == NULL) {
        chain_release(c);
        return NULL;
    }
    rs->n_chains++;
    return c;
}

int pst_fw_chain_append(struct pst_fw_ruleset *rs, struct pst_fw_chain *chain,
                        struct pst_fw_rule *rule)
{
    if (rs->n_rules >= PST_FW_RULES_MAX) {
        return PST_ETOOBIG;
    }
    if (chain->n_rules == chain->cap_rules) {
        size_t cap = chain->cap_rules ? chain->cap_rules * 2 : 8;
        struct pst_fw_rule *grown = realloc(chain->rules, cap * sizeof(*grown));
        if (grown == NULL) {
            return PST_ENOMEM;
        }
        chain->rules = grown;
        chain->cap_rules = cap;
    }
    chain->rules[chain->n_rules++] = *rule;
    memset(rule, 0, sizeof(*rule));
    rs->n_rules++;
    return PST_OK;
}

int pst_fw_table_dormant(struct pst_fw_ruleset *rs, const char *family, const char *table,
                         bool dormant)
{
    for (size_t i = 0; i < rs->n_dormant; i++) {
        if (strcmp(rs->dormant[i].family, family) == 0 &&
            strcmp(rs->dormant[i].table, table) == 0) {
            if (!dormant) {
                rs->dormant[i] = rs->dormant[--rs->n_dormant];
            }
            return PST_OK;
        }
    }
    if (!dormant) {
        return PST_OK;
    }
    if (rs->n_dormant >= PST_FW_DORMANT_MAX || strlen(family) >= sizeof(rs->dormant[0].family) ||
        strlen(table) >= sizeof(rs->dormant[0].table)) {
        return PST_ETOOBIG;
    }
    snprintf(rs->dormant[rs->n_dormant].family, sizeof(rs->dormant[0].family), "%s", family);
    snprintf(rs->dormant[rs->n_dormant].table, sizeof(rs->dormant[0].table), "%s", table);
    rs->n_dormant++;
    return PST_OK;
}

static bool is_dormant(const struct pst_fw_ruleset *rs, const struct pst_fw_chain *c)
{
    for (size_t i = 0; i < rs->n_dormant; i++) {
        if (strcmp(rs->dormant[i].family, c->family) == 0 &&
            strcmp(rs->dormant[i].table, c->table) == 0) {
            return true;
        }
    }
    return false;
}

/* ---- evaluation ------------------------------------------------------------------------ */

static bool family_sees(const char *family, int packet_family)
{
    return strcmp(family, "inet") == 0 || strcmp(family, packet_family == 4 ? "ip" : "ip6") == 0;
}

static bool in_ranges(const struct pst_fw_cond *c, uint32_t v)
{
    for (size_t i = 0; i < c->n_ranges; i++) {
        if (v >= c->ranges[i].lo && v <= c->ranges[i].hi) {
            return true;
        }
    }
    return false;
}

static bool prefix_has(const struct pst_fw_cond *c, const uint8_t *a)
{
    int full = c->plen / 8, rest = c->plen % 8;

    if (memcmp(a, c->addr, (size_t)full) != 0) {
        return false;
    }
    if (rest != 0) {
        uint8_t mask = (uint8_t)(0xff << (8 - rest));
        return (a[full] & mask) == (c->addr[full] & mask);
    }
    return true;
}

static bool prefix_has_loopback(const struct pst_fw_cond *c)
{
    static const uint8_t v4[4] = {127, 0, 0, 1};
    static const uint8_t v6[16] = {[15] = 1};
    return prefix_has(c, c->family == 4 ? v4 : v6);
}

/* Whether prefix C lies inside PREFIX/PLEN. */
static bool prefix_within(const struct pst_fw_cond *c, const uint8_t *prefix, int plen)
{
    struct pst_fw_cond outer = {.plen = plen};

    memcpy(outer.addr, prefix, 16);
    return c->plen >= plen && prefix_has(&outer, c->addr);
}

/*
 * Whether prefix C holds no address a packet from outside is unicast to: loopback, multicast,
 * broadcast, "this network". Such a prefix never holds the local address the packet is for.
 */
static bool prefix_not_unicast(const struct pst_fw_cond *c)
{
    static const uint8_t v4_lo[16] = {127}, v4_mc[16] = {224}, v4_zero[16] = {0},
                         v4_bc[16] = {255, 255, 255, 255}, v6_lo[16] = {[15] = 1},
                         v6_mc[16] = {0xff};
    if (c->family == 4) {
        return prefix_within(c, v4_lo, 8) || prefix_within(c, v4_mc, 4) ||
               prefix_within(c, v4_zero, 8) || prefix_within(c, v4_bc, 32);
    }
    return prefix_within(c, v6_lo, 128) || prefix_within(c, v6_mc, 8);
}

enum holds { HOLDS_NO, HOLDS_YES, HOLDS_MAYBE };

/*
 * Whether condition C holds for PACKET. A test of something the packet leaves unknown (its
 * port) does not hold, negated or not. Otherwise the packet is concrete: it comes from a
 * public address in no prefix any rule names, on an interface no rule names (or lo), to a
 * local unicast address. HOLDS_MAYBE: it depends on which local address that is.
 */
static enum holds cond_holds(const struct pst_fw_cond *c, const struct pst_fw_packet *p)
{
    bool m;

    switch (c->kind) {
    case PST_FW_IIF:
        m = p->lo ? c->lo : c->every;
        break;
    case PST_FW_NFPROTO:
        m = (int)c->value == p->family;
        break;
    case PST_FW_L4PROTO:
        if (p->l4proto == 0) {
            return HOLDS_NO;
        }
        m = c->n_ranges ? in_ranges(c, p->l4proto) : c->value == p->l4proto;
        break;
    case PST_FW_DPORT:
        if (p->dport < 0 || (c->value != 0 && c->value != p->l4proto)) {
            return HOLDS_NO;
        }
        m = in_ranges(c, (uint32_t)p->dport);
        break;
    case PST_FW_SADDR:
        if (c->family != p->family) {
            return HOLDS_NO;
        }
        if (p->saddr_loopback) {
            if (c->plen < 0) {
                return HOLDS_NO; /* a set not read: whether it holds ::1 is not known */
            }
            m = prefix_has_loopback(c);
        } else {
            /* a public address in no configured prefix: only a /0 holds it */
            m = c->plen == 0;
        }
        break;
    case PST_FW_DADDR:
        if (c->family != p->family) {
            return HOLDS_NO;
        }
        if (c->plen < 0) {
            return HOLDS_MAYBE; /* a set or range not read */
        }
        if (c->plen == 0) {
            m = true;
        } else if (p->lo && p->saddr_loopback) {
            m = prefix_has_loopback(c); /* loopback traffic goes to 127.0.0.1 / ::1 */
        } else if (prefix_not_unicast(c)) {
            m = false;
        } else {
            return HOLDS_MAYBE; /* it may or may not hold the local address */
        }
        break;
    case PST_FW_CTSTATE:
        m = (c->value & p->ctstate) != 0;
        break;
    default:
        return HOLDS_NO;
    }
    return (c->neg ? !m : m) ? HOLDS_YES : HOLDS_NO;
}

static enum holds rule_holds(const struct pst_fw_rule *r, const struct pst_fw_packet *p)
{
    enum holds all = HOLDS_YES;

    for (size_t i = 0; i < r->n_conds; i++) {
        enum holds h = cond_holds(&r->conds[i], p);
        if (h == HOLDS_NO) {
            return HOLDS_NO;
        }
        if (h == HOLDS_MAYBE) {
            all = HOLDS_MAYBE;
        }
    }
    return all;
}

/* The entry of verdict map M for P; NULL when P's key is unknown or not in the map. */
static const struct pst_fw_vmap_entry *vmap_find(const struct pst_fw_vmap *m,
                                                 const struct pst_fw_packet *p)
{
    for (size_t i = 0; i < m->n; i++) {
        const struct pst_fw_vmap_entry *e = &m->entries[i];
        switch (m->key) {
        case PST_FW_CTSTATE:
            if ((e->lo & p->ctstate) != 0) {
                return e;
            }
            break;
        case PST_FW_DPORT:
            if (p->dport >= 0 && (m->proto == 0 || m->proto == p->l4proto) &&
                (uint32_t)p->dport >= e->lo && (uint32_t)p->dport <= e->hi) {
                return e;
            }
            break;
        case PST_FW_L4PROTO:
            if (p->l4proto != 0 && p->l4proto >= e->lo && p->l4proto <= e->hi) {
                return e;
            }
            break;
        default:
            return NULL;
        }
    }
    return NULL;
}

enum walk { WALK_CONTINUE, WALK_ACCEPT, WALK_DROP };

/* One packet's walk: the chains by name, the rule visits left, what decided. */
struct walker {
    const struct pst_fw_ruleset *rs;
    const struct pst_fw_packet *p;
    const struct pst_fw_chain **sorted; /* by family, table, name; NULL: scan */
    size_t steps;                       /* rule visits so far */
    const char *why, *maybe;
};

static int chain_order(const struct pst_fw_chain *a, const char *family, const char *table,
                       const char *name)
{
    int d = strcmp(a->family, family);
    if (d == 0) {
        d = strcmp(a->table, table);
    }
    return d != 0 ? d : strcmp(a->name, name);
}

static int cmp_chain(const void *x, const void *y)
{
    const struct pst_fw_chain *a = *(const struct pst_fw_chain *const *)x;
    const struct pst_fw_chain *b = *(const struct pst_fw_chain *const *)y;
    int d = chain_order(a, b->family, b->table, b->name);
    /* the same name twice (never from the readers): the first one, as the scan finds */
    return d != 0 ? d : (a < b ? -1 : a > b);
}

static const struct pst_fw_chain *find_chain(const struct walker *w,
                                             const struct pst_fw_chain *from, const char *name)
{
    const struct pst_fw_ruleset *rs = w->rs;

    if (w->sorted != NULL) {
        size_t lo = 0, hi = rs->n_chains;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (chain_order(w->sorted[mid], from->family, from->table, name) < 0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo < rs->n_chains && chain_order(w->sorted[lo], from->family, from->table, name) == 0
                   ? w->sorted[lo]
                   : NULL;
    }
    for (size_t i = 0; i < rs->n_chains; i++) {
        const struct pst_fw_chain *c = &rs->chains[i];
        if (chain_order(c, from->family, from->table, name) == 0) {
            return c;
        }
    }
    return NULL;
}

/* Walks CHAIN for the packet; w->why gets the deciding rule's source. */
static enum walk walk_chain(struct walker *w, const struct pst_fw_chain *chain, int depth)
{
    if (depth > PST_FW_DEPTH_MAX) {
        w->why = "jumps nested too deep";
        return WALK_DROP; /* the kernel refuses such a ruleset; never count it as open */
    }
    for (size_t i = 0; i < chain->n_rules; i++) {
        const struct pst_fw_rule *r = &chain->rules[i];
        const struct pst_fw_chain *to;
        enum pst_fw_verdict verdict = r->verdict;
        const char *target = r->target;
        enum walk res;
        if (++w->steps > PST_FW_STEPS_MAX) {
            return WALK_CONTINUE; /* the caller reports it */
        }
        if (r->vmap != NULL) {
            const struct pst_fw_vmap_entry *e = vmap_find(r->vmap, w->p);
            verdict = e ? e->verdict : PST_FW_NONE;
            target = e ? e->target : NULL;
        }
        if (verdict == PST_FW_NONE) {
            continue;
        }
        switch (rule_holds(r, w->p)) {
        case HOLDS_NO:
            continue;
        case HOLDS_MAYBE:
            /* a rule that may decide: the outcome is not known; go on for the evidence */
            if (w->maybe == NULL) {
                w->maybe = r->source;
            }
            continue;
        default:
            break;
        }
        switch (verdict) {
        case PST_FW_ACCEPT:
            w->why = r->source;
            return WALK_ACCEPT;
        case PST_FW_DROP:
            w->why = r->source;
            return WALK_DROP;
        case PST_FW_RETURN:
            return WALK_CONTINUE;
        case PST_FW_JUMP:
        case PST_FW_GOTO:
            to = target ? find_chain(w, chain, target) : NULL;
            res = to ? walk_chain(w, to, depth + 1) : WALK_CONTINUE;
            if (res != WALK_CONTINUE || verdict == PST_FW_GOTO || w->steps > PST_FW_STEPS_MAX) {
                return res;
            }
            break;
        default:
            break;
        }
    }
    return WALK_CONTINUE;
}

static void note(struct pst_fw_outcome *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void note(struct pst_fw_outcome *out, const char *fmt, ...)
{
    va_list ap;

    if (out->n_decided >= PST_COUNT(out->decided_by)) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(out->decided_by[out->n_decided++], sizeof(out->decided_by[0]), fmt, ap);
    va_end(ap);
}

void pst_fw_evaluate(const struct pst_fw_ruleset *rs, enum pst_fw_hook hook,
                     const struct pst_fw_packet *packet, struct pst_fw_outcome *out)
{
    const struct pst_fw_chain *order[64];
    struct walker walker = {.rs = rs, .p = packet};
    size_t n = 0;

    memset(out, 0, sizeof(*out));
    out->accepted = true;
    for (size_t i = 0; i < rs->n_chains; i++) {
        const struct pst_fw_chain *c = &rs->chains[i];
        if (c->hook == hook && c->filter && family_sees(c->family, packet->family) &&
            !is_dormant(rs, c)) {
            if (n == PST_COUNT(order)) {
                /* never a verdict from some of them only */
                snprintf(out->undecided, sizeof(out->undecided),
                         "more than %zu base chains on one hook", PST_COUNT(order));
                out->n_decided = 0;
                return;
            }
            /* insertion by priority; equal priorities keep the order read */
            size_t j = n++;
            while (j > 0 && order[j - 1]->priority > c->priority) {
                order[j] = order[j - 1];
                j--;
            }
            order[j] = c;
        }
    }
    out->any_chain = n > 0;
    walker.sorted = n > 0 ? malloc(rs->n_chains * sizeof(*walker.sorted)) : NULL;
    if (walker.sorted != NULL) {
        /* jumps find their chain by a binary search, not a scan of every chain */
        for (size_t i = 0; i < rs->n_chains; i++) {
            walker.sorted[i] = &rs->chains[i];
        }
        qsort(walker.sorted, rs->n_chains, sizeof(*walker.sorted), cmp_chain);
    }
    for (size_t i = 0; i < n; i++) {
        const struct pst_fw_chain *c = order[i];
        enum walk w;
        const char *why;
        walker.why = walker.maybe = NULL;
        w = walk_chain(&walker, c, 0);
        why = walker.why;
        if (walker.steps > PST_FW_STEPS_MAX) {
            snprintf(out->undecided, sizeof(out->undecided),
                     "the packet takes more than %d rule visits (jumps repeat chains)",
                     PST_FW_STEPS_MAX);
            out->n_decided = 0;
            break;
        }
        if (walker.maybe != NULL && out->undecided[0] == '\0') {
            snprintf(out->undecided, sizeof(out->undecided),
                     "%s tests the destination address, and which local address the traffic is "
                     "for decides",
                     walker.maybe);
        }
        if (w == WALK_CONTINUE) {
            w = c->policy == PST_FW_DROP ? WALK_DROP : WALK_ACCEPT;
            why = NULL;
        }
        if (w == WALK_DROP) {
            /* one base chain that drops decides alone: the packet goes no further */
            out->accepted = false;
            out->n_decided = 0;
            note(out, "%s %s %s: %s", c->family, c->table, c->name, why ? why : "policy drop");
            break;
        }
        note(out, "%s %s %s: %s", c->family, c->table, c->name, why ? why : "policy accept");
    }
    free(walker.sorted);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Adds the bounds of LO..HI (where port tests change their answer) to *B. */
static int add_bounds(uint32_t **b, size_t *n, size_t *cap, uint32_t lo, uint32_t hi)
{
    if (*n + 2 > *cap) {
        size_t c = *cap ? *cap * 2 : 64;
        uint32_t *grown = realloc(*b, c * sizeof(*grown));
        if (grown == NULL) {
            return PST_ENOMEM;
        }
        *b = grown;
        *cap = c;
    }
    (*b)[(*n)++] = lo;
    (*b)[(*n)++] = hi + 1;
    return PST_OK;
}

long pst_fw_witness_port(const struct pst_fw_ruleset *rs, unsigned proto)
{
    uint32_t *b = NULL;
    size_t n = 0, cap = 0;
    uint32_t best_lo = 1, best_len = 0, prev = 1;
    long port = 40000; /* out of memory: a high port few rules name */

    for (size_t i = 0; i < rs->n_chains; i++) {
        const struct pst_fw_chain *c = &rs->chains[i];
        for (size_t j = 0; j < c->n_rules; j++) {
            const struct pst_fw_rule *r = &c->rules[j];
            for (size_t k = 0; k < r->n_conds; k++) {
                const struct pst_fw_cond *d = &r->conds[k];
                if (d->kind != PST_FW_DPORT || (d->value != 0 && d->value != proto)) {
                    continue;
                }
                for (size_t m = 0; m < d->n_ranges; m++) {
                    if (add_bounds(&b, &n, &cap, d->ranges[m].lo, d->ranges[m].hi) != PST_OK) {
                        goto out;
                    }
                }
            }
            if (r->vmap != NULL && r->vmap->key == PST_FW_DPORT &&
                (r->vmap->proto == 0 || r->vmap->proto == proto)) {
                for (size_t m = 0; m < r->vmap->n; m++) {
                    if (add_bounds(&b, &n, &cap, r->vmap->entries[m].lo, r->vmap->entries[m].hi) !=
                        PST_OK) {
                        goto out;
                    }
                }
            }
        }
    }
    if (add_bounds(&b, &n, &cap, 65536, 65536) != PST_OK) {
        goto out;
    }
    qsort(b, n, sizeof(*b), cmp_u32);
    /* stretches between consecutive bounds are treated alike by every test: take the largest */
    for (size_t i = 0; i < n; i++) {
        uint32_t at = b[i] < 1 ? 1 : b[i] > 65536 ? 65536 : b[i];
        if (at > prev && at - prev > best_len) {
            best_lo = prev;
            best_len = at - prev;
        }
        if (at > prev) {
            prev = at;
        }
    }
    port = (long)best_lo + (long)best_len / 2;
out:
    free(b);
    return port;
}

void pst_fw_iface_pattern(const char *name, size_t len, bool *lo, bool *every)
{
    size_t n = strnlen(name, len);
    bool wild = n > 0 && (name[n - 1] == '+' || name[n - 1] == '*');

    if (wild) {
        n--;
    }
    *every = wild && n == 0;
    *lo = wild ? n <= 2 && strncmp(name, "lo", n) == 0 : n == 2 && strncmp(name, "lo", 2) == 0;
}

int pst_fw_port_parse(const char *text, unsigned *proto, long *port)
{
    char *end;
    long n;

    if (strncmp(text, "tcp/", 4) == 0) {
        *proto = 6;
    } else if (strncmp(text, "udp/", 4) == 0) {
        *proto = 17;
    } else {
        return PST_EINVAL;
    }
    errno = 0;
    n = strtol(text + 4, &end, 10);
    if (errno != 0 || end == text + 4 || *end != '\0' || n < 1 || n > 65535) {
        return PST_EINVAL;
    }
    *port = n;
    return PST_OK;
}

/* ---- iptables-save text ---------------------------------------------------------------- */

static int fail(struct pst_fw_ruleset *rs, const char *source, long line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(struct pst_fw_ruleset *rs, const char *source, long line, const char *fmt, ...)
{
    va_list ap;
    int k = snprintf(rs->error, sizeof(rs->error), "%s:%ld: ", source, line);

    va_start(ap, fmt);
    if (k > 0 && (size_t)k < sizeof(rs->error)) {
        vsnprintf(rs->error + k, sizeof(rs->error) - (size_t)k, fmt, ap);
    }
    va_end(ap);
    return PST_EPARSE;
}

/* Splits LINE in place into words; "..." quotes keep blanks (as iptables-restore's). */
static int split_words(char *line, char **words, size_t max, size_t *n)
{
    char *p = line;

    *n = 0;
    for (;;) {
        p += strspn(p, " \t");
        if (*p == '\0') {
            return PST_OK;
        }
        if (*n == max) {
            return PST_ETOOBIG;
        }
        if (*p == '"') {
            char *end = strchr(p + 1, '"');
            if (end == NULL) {
                return PST_EPARSE;
            }
            words[(*n)++] = p + 1;
            *end = '\0';
            p = end + 1;
            continue;
        }
        words[(*n)++] = p;
        p += strcspn(p, " \t");
        if (*p != '\0') {
            *p++ = '\0';
        }
    }
}

static int number_in(const char *s, long lo, long hi, long *v)
{
    char *end;

    errno = 0;
    *v = strtol(s, &end, 10);
    return errno == 0 && end != s && *end == '\0' && *v >= lo && *v <= hi ? PST_OK : PST_EINVAL;
}

/* A protocol by name or number, as /etc/protocols names the common ones. */
int pst_fw_proto_number(const char *s, uint32_t *v)
{
    static const struct {
        const char *name;
        uint32_t number;
    } names[] = {{"tcp", 6},    {"udp", 17},      {"icmp", 1}, {"ipv6-icmp", 58}, {"icmpv6", 58},
                 {"sctp", 132}, {"udplite", 136}, {"esp", 50}, {"ah", 51},        {"gre", 47}};
    long n;

    for (size_t i = 0; i < PST_COUNT(names); i++) {
        if (strcmp(s, names[i].name) == 0) {
            *v = names[i].number;
            return PST_OK;
        }
    }
    if (number_in(s, 0, 255, &n) == PST_OK) {
        *v = (uint32_t)n;
        return PST_OK;
    }
    return PST_EINVAL;
}

/* A port by number or by the service names firewalls write most ("ssh"). */
int pst_fw_port_number(const char *s, uint32_t *v)
{
    static const struct {
        const char *name;
        uint32_t port;
    } names[] = {
        {"ftp", 21},    {"ssh", 22},   {"telnet", 23},    {"smtp", 25},   {"domain", 53},
        {"tftp", 69},   {"http", 80},  {"sunrpc", 111},   {"ntp", 123},   {"snmp", 161},
        {"https", 443}, {"exec", 512}, {"login", 513},    {"shell", 514}, {"ms-wbt-server", 3389},
        {"rfb", 5900},  {"x11", 6000}, {"http-alt", 8080}};
    long n;

    for (size_t i = 0; i < PST_COUNT(names); i++) {
        if (strcmp(s, names[i].name) == 0) {
            *v = names[i].port;
            return PST_OK;
        }
    }
    if (number_in(s, 0, 65535, &n) == PST_OK) {
        *v = (uint32_t)n;
        return PST_OK;
    }
    return PST_EINVAL;
}

/* "a", "a:b", "a,b:c" (multiport) into C's ranges. */
static int parse_port_list(struct pst_fw_cond *c, char *text, bool list)
{
    char *item = text;

    while (item != NULL) {
        char *next = list ? strchr(item, ',') : NULL;
        char *colon;
        uint32_t lo, hi;
        struct pst_fw_range *grown;
        if (next != NULL) {
            *next++ = '\0';
        }
        colon = strchr(item, ':');
        if (colon != NULL) {
            *colon = '\0';
            if ((*item != '\0' && pst_fw_port_number(item, &lo) != PST_OK) ||
                (colon[1] != '\0' && pst_fw_port_number(colon + 1, &hi) != PST_OK)) {
                return PST_EINVAL;
            }
            if (*item == '\0') {
                lo = 0;
            }
            if (colon[1] == '\0') {
                hi = 65535;
            }
        } else if (pst_fw_port_number(item, &lo) != PST_OK) {
            return PST_EINVAL;
        } else {
            hi = lo;
        }
        if (c->n_ranges >= PST_FW_PORTS_MAX) {
            return PST_ETOOBIG;
        }
        grown = realloc(c->ranges, (c->n_ranges + 1) * sizeof(*grown));
        if (grown == NULL) {
            return PST_ENOMEM;
        }
        c->ranges = grown;
        c->ranges[c->n_ranges++] = (struct pst_fw_range){lo < hi ? lo : hi, lo < hi ? hi : lo};
        item = next;
    }
    return PST_OK;
}

/* "10.0.0.0/8", "::1/128", "192.168.1.1/255.255.255.0" into C. */
int pst_fw_parse_prefix(const char *text, int family, struct pst_fw_cond *c)
{
    char addr[64];
    const char *slash = strchr(text, '/');
    size_t len = slash ? (size_t)(slash - text) : strlen(text);
    int bits = family == 4 ? 32 : 128;
    long plen = bits;

    if (len >= sizeof(addr)) {
        return PST_EINVAL;
    }
    memcpy(addr, text, len);
    addr[len] = '\0';
    memset(c->addr, 0, sizeof(c->addr));
    if (inet_pton(family == 4 ? AF_INET : AF_INET6, addr, c->addr) != 1) {
        return PST_EINVAL;
    }
    if (slash != NULL && number_in(slash + 1, 0, bits, &plen) != PST_OK) {
        uint8_t mask[16] = {0};
        /* a dotted mask, as iptables-save never prints but hand-written files hold */
        if (family != 4 || inet_pton(AF_INET, slash + 1, mask) != 1) {
            return PST_EINVAL;
        }
        plen = 0;
        for (int i = 0; i < 4; i++) {
            for (int b = 7; b >= 0 && (mask[i] >> b) & 1; b--) {
                plen++;
            }
        }
    }
    c->kind = PST_FW_SADDR;
    c->family = family;
    c->plen = (int)plen;
    return PST_OK;
}

int pst_fw_rule_add(struct pst_fw_rule *r, const struct pst_fw_cond *c)
{
    if (r->n_conds >= PST_FW_CONDS_MAX) {
        free(c->ranges);
        return PST_ETOOBIG;
    }
    if (r->n_conds == r->cap_conds) {
        size_t cap = r->cap_conds ? r->cap_conds * 2 : 4;
        struct pst_fw_cond *grown = realloc(r->conds, cap * sizeof(*grown));
        if (grown == NULL) {
            free(c->ranges);
            return PST_ENOMEM;
        }
        r->conds = grown;
        r->cap_conds = cap;
    }
    r->conds[r->n_conds++] = *c;
    return PST_OK;
}

static int add_cond(struct pst_fw_rule *r, const struct pst_fw_cond *c)
{
    return pst_fw_rule_add(r, c);
}

static const char *const ct_names[] = {"INVALID", "ESTABLISHED", "RELATED", "NEW", "",
                                       "",        "UNTRACKED"};

static int parse_ctstates(const char *text, uint32_t *mask)
{
    char copy[256];
    char *item = copy;

    if (strlen(text) >= sizeof(copy)) {
        return PST_EINVAL;
    }
    memcpy(copy, text, strlen(text) + 1);
    *mask = 0;
    while (item != NULL) {
        char *next = strchr(item, ',');
        size_t i;
        if (next != NULL) {
            *next++ = '\0';
        }
        for (i = 0; i < PST_COUNT(ct_names); i++) {
            if (ct_names[i][0] != '\0' && strcasecmp(item, ct_names[i]) == 0) {
                *mask |= 1u << i;
                break;
            }
        }
        if (i == PST_COUNT(ct_names)) {
            return PST_EINVAL;
        }
        item = next;
    }
    return PST_OK;
}

/* Options that take one argument and do not change which packets a filter rule matches. */
static bool ignored_option(const char *opt)
{
    static const char *const names[] = {
        "--comment", "--log-prefix",   "--log-level", "--reject-with",
        "-c",        "--set-counters", "--log-uid",   "--log-tcp-options"};
    for (size_t i = 0; i < PST_COUNT(names); i++) {
        if (strcmp(opt, names[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* Targets that never decide a packet's fate: it goes on with the next rule. */
static bool passing_target(const char *name)
{
    static const char *const names[] = {
        "LOG",         "NFLOG",    "ULOG",  "MARK",       "CONNMARK", "CT",      "NOTRACK",
        "TCPMSS",      "CLASSIFY", "DSCP",  "TOS",        "TTL",      "HL",      "SECMARK",
        "CONNSECMARK", "AUDIT",    "TRACE", "IDLETIMER",  "LED",      "RATEEST", "CHECKSUM",
        "TEE",         "SET",      "HMARK", "TCPOPTSTRIP"};
    for (size_t i = 0; i < PST_COUNT(names); i++) {
        if (strcmp(name, names[i]) == 0) {
            return true;
        }
    }
    return false;
}

static enum pst_fw_hook builtin_hook(const char *name)
{
    return strcmp(name, "INPUT") == 0     ? PST_FW_HOOK_INPUT
           : strcmp(name, "FORWARD") == 0 ? PST_FW_HOOK_FORWARD
           : strcmp(name, "OUTPUT") == 0  ? PST_FW_HOOK_OTHER
                                          : PST_FW_HOOK_NONE;
}

static int ipt_rule(struct pst_fw_ruleset *rs, int family, const char *table, char **w, size_t n,
                    const char *source, long line)
{
    const char *fam = family == 4 ? "ip" : "ip6";
    struct pst_fw_rule rule = {0};
    struct pst_fw_chain *chain;
    uint32_t proto = 0;
    bool neg = false;
    int rc = PST_OK;
    char where[600];

    chain = pst_fw_chain_get(rs, fam, table, w[1], false);
    if (chain == NULL && builtin_hook(w[1]) != PST_FW_HOOK_NONE) {
        /* built-in chains exist before any file names them */
        chain = pst_fw_chain_get(rs, fam, table, w[1], true);
        if (chain == NULL) {
            return PST_ENOMEM;
        }
        chain->filter = true;
        chain->hook = builtin_hook(w[1]);
    }
    if (chain == NULL) {
        return fail(rs, source, line, "chain '%s' was not declared", w[1]);
    }
    for (size_t i = 2; i < n && rc == PST_OK; i++) {
        const char *o = w[i];
        const char *arg = i + 1 < n ? w[i + 1] : NULL;
        struct pst_fw_cond c = {.neg = neg};
        neg = false;
        if (strcmp(o, "!") == 0) {
            neg = true;
            continue;
        }
        if (strcmp(o, "-m") == 0 || strcmp(o, "--match") == 0) {
            if (arg == NULL) {
                rc = fail(rs, source, line, "-m without a module");
                break;
            }
            i++; /* the module's options follow and are read below */
            continue;
        }
        if (strcmp(o, "-j") == 0 || strcmp(o, "--jump") == 0 || strcmp(o, "-g") == 0 ||
            strcmp(o, "--goto") == 0) {
            bool go = o[1] == 'g' || strcmp(o, "--goto") == 0;
            if (arg == NULL) {
                rc = fail(rs, source, line, "%s without a target", o);
                break;
            }
            i++;
            if (strcmp(arg, "ACCEPT") == 0) {
                rule.verdict = PST_FW_ACCEPT;
            } else if (strcmp(arg, "DROP") == 0 || strcmp(arg, "REJECT") == 0) {
                rule.verdict = PST_FW_DROP;
            } else if (strcmp(arg, "RETURN") == 0) {
                rule.verdict = PST_FW_RETURN;
            } else if (pst_fw_chain_get(rs, fam, table, arg, false) != NULL) {
                rule.verdict = go ? PST_FW_GOTO : PST_FW_JUMP;
                free(rule.target);
                rule.target = strdup(arg);
                if (rule.target == NULL) {
                    rc = PST_ENOMEM;
                }
            } else if (passing_target(arg)) {
                rule.verdict = PST_FW_NONE; /* LOG, NFLOG, MARK...: the packet goes on */
            } else {
                /* iptables-restore fails on an undeclared chain; NFQUEUE, TARPIT, SYNPROXY
                 * decide in ways posture does not evaluate */
                rc = fail(rs, source, line,
                          "-j %s: neither a declared chain nor a target posture evaluates", arg);
                break;
            }
            continue;
        }
        if (arg == NULL) {
            rc = fail(rs, source, line, "option %s without a value", o);
            break;
        }
        i++;
        if (strcmp(o, "-p") == 0 || strcmp(o, "--protocol") == 0) {
            if (strcmp(arg, "all") == 0) {
                continue;
            }
            c.kind = PST_FW_L4PROTO;
            if (pst_fw_proto_number(arg, &c.value) != PST_OK) {
                c.kind = PST_FW_UNKNOWN;
            }
            proto = c.neg ? 0 : c.value;
        } else if (strcmp(o, "-s") == 0 || strcmp(o, "--source") == 0 || strcmp(o, "--src") == 0) {
            if (pst_fw_parse_prefix(arg, family, &c) != PST_OK) {
                rc = fail(rs, source, line, "'%s' is not an IPv%d address", arg, family);
                break;
            }
        } else if (strcmp(o, "-d") == 0 || strcmp(o, "--destination") == 0 ||
                   strcmp(o, "--dst") == 0) {
            if (pst_fw_parse_prefix(arg, family, &c) != PST_OK) {
                rc = fail(rs, source, line, "'%s' is not an IPv%d address", arg, family);
                break;
            }
            c.kind = PST_FW_DADDR;
        } else if (strcmp(o, "-o") == 0 || strcmp(o, "--out-interface") == 0) {
            continue; /* input packets have no output interface: iptables ignores it there */
        } else if (strcmp(o, "--dst-type") == 0) {
            /* the packets asked about are unicast to a local address */
            if ((strcmp(arg, "LOCAL") == 0 || strcmp(arg, "UNICAST") == 0) && !c.neg) {
                continue;
            }
            c.kind = PST_FW_UNKNOWN;
        } else if (strcmp(o, "-i") == 0 || strcmp(o, "--in-interface") == 0) {
            c.kind = PST_FW_IIF;
            pst_fw_iface_pattern(arg, strlen(arg), &c.lo, &c.every);
        } else if (strcmp(o, "--dport") == 0 || strcmp(o, "--destination-port") == 0 ||
                   strcmp(o, "--dports") == 0 || strcmp(o, "--destination-ports") == 0) {
            char copy[512];
            snprintf(copy, sizeof(copy), "%s", arg);
            c.kind = PST_FW_DPORT;
            c.value = proto;
            rc = parse_port_list(&c, copy, strstr(o, "ports") != NULL);
            if (rc == PST_EINVAL) {
                free(c.ranges);
                rc = fail(rs, source, line, "'%s' is not a port", arg);
                break;
            }
        } else if (strcmp(o, "--ctstate") == 0 || strcmp(o, "--state") == 0) {
            c.kind = PST_FW_CTSTATE;
            if (parse_ctstates(arg, &c.value) != PST_OK) {
                rc = fail(rs, source, line, "'%s' is not a conntrack state list", arg);
                break;
            }
        } else if (ignored_option(o)) {
            continue;
        } else if (o[0] == '-') {
            /* a match posture does not evaluate: the rule matches no packet it asks about */
            c.kind = PST_FW_UNKNOWN;
            if (arg[0] == '-') {
                i--; /* a flag without a value */
            }
        } else {
            rc = fail(rs, source, line, "unexpected word '%s'", o);
            break;
        }
        if (rc == PST_OK) {
            rc = add_cond(&rule, &c);
        }
    }
    if (rc == PST_OK) {
        snprintf(where, sizeof(where), "%s:%ld", source, line);
        rule.source = strdup(where);
        rc = rule.source ? pst_fw_chain_append(rs, chain, &rule) : PST_ENOMEM;
    }
    pst_fw_rule_clear(&rule);
    return rc;
}

int pst_fw_parse_iptables(struct pst_fw_ruleset *rs, int family, char *text, const char *source,
                          const char *table_as)
{
    const char *fam = family == 4 ? "ip" : "ip6";
    char table[64] = "";
    char *cursor = text;
    long lineno = 0;
    int rc = PST_OK;

    while (rc == PST_OK) {
        char *line = cursor;
        char *words[IPT_TOKENS_MAX];
        size_t n;
        char *nl;
        if (*line == '\0') {
            break;
        }
        nl = strchr(line, '\n');
        if (nl != NULL) {
            *nl = '\0';
            cursor = nl + 1;
        } else {
            cursor = line + strlen(line);
        }
        lineno++;
        line[strcspn(line, "\r")] = '\0';
        line += strspn(line, " \t");
        if (*line == '\0' || *line == '#') {
            continue;
        }
        if (*line == '*') {
            snprintf(table, sizeof(table), "%s", line + 1);
            pst_text_rstrip(table);
            continue;
        }
        if (strcmp(line, "COMMIT") == 0) {
            table[0] = '\0';
            continue;
        }
        if (table[0] == '\0') {
            return fail(rs, source, lineno, "a rule outside any *table ... COMMIT block");
        }
        rc = split_words(line, words, PST_COUNT(words), &n);
        if (rc == PST_EPARSE) {
            return fail(rs, source, lineno, "unterminated quote");
        }
        if (rc != PST_OK) {
            return fail(rs, source, lineno, "more than %d words", IPT_TOKENS_MAX);
        }
        if (strcmp(table, "filter") != 0 && (table_as == NULL || strcmp(table, table_as) != 0)) {
            continue; /* nat, mangle, raw: not the filter hooks' verdicts */
        }
        if (table_as != NULL) {
            snprintf(table, sizeof(table), "%s", table_as);
        }
        if (words[0][0] == ':') {
            struct pst_fw_chain *c;
            char where[600];
            if (n < 2 || words[0][1] == '\0') {
                return fail(rs, source, lineno, "a chain line needs a name and a policy");
            }
            c = pst_fw_chain_get(rs, fam, table, words[0] + 1, true);
            if (c == NULL) {
                return rs->n_chains >= PST_FW_CHAINS_MAX ? PST_ETOOBIG : PST_ENOMEM;
            }
            if (strcmp(words[1], "-") == 0) {
                /* iptables-restore --noflush empties a user chain it declares again */
                for (size_t j = 0; j < c->n_rules; j++) {
                    pst_fw_rule_clear(&c->rules[j]);
                }
                rs->n_rules -= c->n_rules;
                c->n_rules = 0;
            } else {
                const char *name = words[0] + 1;
                if (strcmp(words[1], "ACCEPT") != 0 && strcmp(words[1], "DROP") != 0) {
                    return fail(rs, source, lineno, "policy '%s' is neither ACCEPT nor DROP",
                                words[1]);
                }
                c->policy = strcmp(words[1], "DROP") == 0 ? PST_FW_DROP : PST_FW_ACCEPT;
                c->filter = true;
                c->priority = 0;
                c->hook =
                    builtin_hook(name) != PST_FW_HOOK_NONE ? builtin_hook(name) : PST_FW_HOOK_OTHER;
                snprintf(where, sizeof(where), "%s:%ld", source, lineno);
                free(c->source);
                c->source = strdup(where);
                if (c->source == NULL) {
                    return PST_ENOMEM;
                }
            }
            continue;
        }
        if ((strcmp(words[0], "-A") == 0 || strcmp(words[0], "--append") == 0) && n >= 2) {
            rc = ipt_rule(rs, family, table, words, n, source, lineno);
            continue;
        }
        return fail(rs, source, lineno, "not an iptables-restore line: '%.40s'", words[0]);
    }
    if (rc == PST_OK && table[0] != '\0') {
        /* iptables-restore then loads nothing of the file */
        return fail(rs, source, lineno, "the table ends without COMMIT");
    }
    return rc;
}
