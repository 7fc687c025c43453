/* SPDX-License-Identifier: Apache-2.0 */
/* The kernel's nftables ruleset read over netlink (list requests only) into the firewall model. */
#include "probes/firewall_netlink.h"

#include "agent/error.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_tables_compat.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Anonymous sets whose elements are fetched (one request each); beyond: the match is unknown. */
#define SETS_MAX 4096
#define SET_ELEMS_MAX PST_FW_PORTS_MAX
#define REGS 32
#define VMAP SIZE_MAX /* a pending lookup that fills a verdict map, not a condition */
/* the kernel fills a dump message up to the reader's buffer, at most 32 KiB */
#define RECV_SIZE (64u * 1024u)
#define READ_ATTEMPTS 4 /* reads of a ruleset that keeps changing */

enum reg_kind {
    R_NONE,
    R_IIF,
    R_IIFNAME,
    R_OUTPUT, /* oif, oifname: counted as met by every input packet */
    R_NFPROTO,
    R_L4PROTO,
    R_SADDR,
    R_DADDR,
    R_DPORT,
    R_CTSTATE,
    R_OTHER,
};

struct reg {
    enum reg_kind kind;
    bool masked;
    uint8_t mask[16];
    uint32_t len;
};

/* A lookup whose set is read after the rules: where its condition sits. */
struct pending {
    size_t chain, rule, cond;
    char family[8];
    char table[256];
    char set[256];
    enum reg_kind kind;
};

struct reader {
    struct pst_fw_ruleset *rs;
    struct mnl_socket *nl;
    uint32_t portid, seq;
    char *buf;
    /* the rule being decoded */
    struct pst_fw_rule rule;
    struct reg regs[REGS];
    int family;     /* 4, 6, or 0 for inet before a meta nfproto test */
    uint32_t proto; /* the transport protocol a port test refers to */
    int rc;
    char table_family[8];
    struct pending *pending;
    size_t n_pending, cap_pending;
    /* lookups of the current rule, placed when the rule is stored */
    struct pending rule_lookups[PST_FW_CONDS_MAX];
    size_t n_rule_lookups;
    struct pst_fw_chain *last; /* the chain of the previous rule */
    /* set elements being read */
    struct pst_fw_cond *fill;
    struct pst_fw_rule *fill_rule; /* whose verdict map is being read */
    enum reg_kind fill_kind;
    bool fill_bad; /* an element of another key length: a concatenation */
    bool intr;     /* a dump was interrupted by a change of the ruleset */
};

/* The key length of a set of KIND; a concatenation's elements are longer. */
static uint32_t key_len(enum reg_kind kind)
{
    return kind == R_DPORT ? 2 : kind == R_L4PROTO ? 1 : kind == R_CTSTATE ? 4 : 16;
}

static const char *family_name(uint32_t f)
{
    switch (f) {
    case NFPROTO_IPV4:
        return "ip";
    case NFPROTO_IPV6:
        return "ip6";
    case NFPROTO_INET:
        return "inet";
    default:
        return NULL;
    }
}

static int dump(struct reader *r, uint16_t type, uint16_t family, struct nftnl_set *set,
                mnl_cb_t cb, void *data)
{
    struct nlmsghdr *nlh;
    int ret;

    r->seq++;
    nlh = nftnl_nlmsg_build_hdr(r->buf, type, family, NLM_F_DUMP | NLM_F_ACK, r->seq);
    if (set != NULL) {
        nftnl_set_elems_nlmsg_build_payload(nlh, set);
    }
    if (mnl_socket_sendto(r->nl, nlh, nlh->nlmsg_len) < 0) {
        return -errno;
    }
    for (;;) {
        ret = (int)mnl_socket_recvfrom(r->nl, r->buf, RECV_SIZE);
        if (ret <= 0) {
            return ret < 0 ? -errno : 0;
        }
        /* a dump the kernel flags as interrupted by a change: read again */
        int left = ret;
        for (const struct nlmsghdr *h = (const struct nlmsghdr *)r->buf; mnl_nlmsg_ok(h, left);
             h = mnl_nlmsg_next(h, &left)) {
            if (h->nlmsg_flags & NLM_F_DUMP_INTR) {
                r->intr = true;
            }
        }
        ret = mnl_cb_run(r->buf, (size_t)ret, r->seq, r->portid, cb, data);
        if (ret <= MNL_CB_STOP) {
            return ret < 0 ? -errno : 0;
        }
    }
}

/* ---- generation ----------------------------------------------------------------------- */

static int gen_cb(const struct nlmsghdr *nlh, void *data)
{
    uint32_t *gen = data;
    const struct nlattr *attr;

    mnl_attr_for_each(attr, nlh, sizeof(struct nfgenmsg))
    {
        if (mnl_attr_get_type(attr) == NFTA_GEN_ID && mnl_attr_validate(attr, MNL_TYPE_U32) == 0) {
            *gen = ntohl(mnl_attr_get_u32(attr));
        }
    }
    return MNL_CB_OK;
}

/* The ruleset's generation (NFT_MSG_GETGEN): it changes with every committed change. */
static int get_gen(struct reader *r, uint32_t *gen)
{
    struct nlmsghdr *nlh;
    int ret;

    r->seq++;
    nlh = nftnl_nlmsg_build_hdr(r->buf, NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK, r->seq);
    if (mnl_socket_sendto(r->nl, nlh, nlh->nlmsg_len) < 0) {
        return -errno;
    }
    for (;;) {
        ret = (int)mnl_socket_recvfrom(r->nl, r->buf, RECV_SIZE);
        if (ret <= 0) {
            return ret < 0 ? -errno : 0;
        }
        ret = mnl_cb_run(r->buf, (size_t)ret, r->seq, r->portid, gen_cb, gen);
        if (ret <= MNL_CB_STOP) {
            return ret < 0 ? -errno : 0;
        }
    }
}

/* ---- tables --------------------------------------------------------------------------- */

static int table_cb(const struct nlmsghdr *nlh, void *data)
{
    struct reader *r = data;
    struct nftnl_table *t = nftnl_table_alloc();
    const char *fam, *name;

    if (t == NULL) {
        r->rc = PST_ENOMEM;
        return MNL_CB_ERROR;
    }
    if (nftnl_table_nlmsg_parse(nlh, t) == 0 &&
        (fam = family_name(nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY))) != NULL &&
        (name = nftnl_table_get_str(t, NFTNL_TABLE_NAME)) != NULL &&
        nftnl_table_is_set(t, NFTNL_TABLE_FLAGS) &&
        (nftnl_table_get_u32(t, NFTNL_TABLE_FLAGS) & NFT_TABLE_F_DORMANT) != 0) {
        /* a dormant table's base chains are not registered on their hooks */
        r->rc = pst_fw_table_dormant(r->rs, fam, name, true);
    }
    nftnl_table_free(t);
    return r->rc == PST_OK ? MNL_CB_OK : MNL_CB_ERROR;
}

/* ---- chains --------------------------------------------------------------------------- */

static int chain_cb(const struct nlmsghdr *nlh, void *data)
{
    struct reader *r = data;
    struct nftnl_chain *c = nftnl_chain_alloc();
    struct pst_fw_chain *chain;
    const char *fam;

    if (c == NULL) {
        r->rc = PST_ENOMEM;
        return MNL_CB_ERROR;
    }
    if (nftnl_chain_nlmsg_parse(nlh, c) < 0) {
        goto out;
    }
    fam = family_name(nftnl_chain_get_u32(c, NFTNL_CHAIN_FAMILY));
    if (fam == NULL) {
        goto out; /* arp, bridge, netdev: not on the IP input and forward hooks */
    }
    chain = pst_fw_chain_get(r->rs, fam, nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE),
                             nftnl_chain_get_str(c, NFTNL_CHAIN_NAME), true);
    if (chain == NULL) {
        r->rc = r->rs->n_chains >= PST_FW_CHAINS_MAX ? PST_ETOOBIG : PST_ENOMEM;
        nftnl_chain_free(c);
        return MNL_CB_ERROR;
    }
    if (nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM)) {
        uint32_t hook = nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM);
        const char *type = nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE);
        chain->hook = hook == NF_INET_LOCAL_IN  ? PST_FW_HOOK_INPUT
                      : hook == NF_INET_FORWARD ? PST_FW_HOOK_FORWARD
                                                : PST_FW_HOOK_OTHER;
        chain->filter = type != NULL && strcmp(type, "filter") == 0;
        chain->priority = (int)nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO);
        chain->policy = nftnl_chain_is_set(c, NFTNL_CHAIN_POLICY) &&
                                nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY) == NF_DROP
                            ? PST_FW_DROP
                            : PST_FW_ACCEPT;
        free(chain->source); /* a chain listed twice by a dump the kernel restarted */
        chain->source = strdup("kernel");
        if (chain->source == NULL) {
            r->rc = PST_ENOMEM;
        }
    }
out:
    nftnl_chain_free(c);
    return r->rc == PST_OK ? MNL_CB_OK : MNL_CB_ERROR;
}

/* ---- rules ---------------------------------------------------------------------------- */

static void add_cond(struct reader *r, const struct pst_fw_cond *c)
{
    int rc = pst_fw_rule_add(&r->rule, c);
    if (rc != PST_OK && r->rc == PST_OK) {
        r->rc = rc;
    }
}

static void unknown(struct reader *r)
{
    struct pst_fw_cond c = {.kind = PST_FW_UNKNOWN};
    add_cond(r, &c);
}

static void add_range(struct reader *r, struct pst_fw_cond *c, uint32_t lo, uint32_t hi)
{
    struct pst_fw_range *grown;

    if (c->n_ranges >= PST_FW_PORTS_MAX) {
        r->rc = r->rc ? r->rc : PST_ETOOBIG;
        return;
    }
    grown = realloc(c->ranges, (c->n_ranges + 1) * sizeof(*grown));
    if (grown == NULL) {
        r->rc = PST_ENOMEM;
        return;
    }
    c->ranges = grown;
    c->ranges[c->n_ranges++] = (struct pst_fw_range){lo, hi};
}

struct expr;
static uint32_t ex_u32(const struct expr *e, uint16_t a);

static struct reg *reg_of(struct reader *r, const struct expr *e, uint16_t attr)
{
    uint32_t n = ex_u32(e, attr);
    return n < REGS ? &r->regs[n] : NULL;
}

static uint32_t u32_of(const void *data, uint32_t len)
{
    uint32_t v = 0;
    memcpy(&v, data, len < 4 ? len : 4);
    return v;
}

static uint32_t be16_of(const uint8_t *data, uint32_t len)
{
    return len >= 2 ? (uint32_t)data[0] << 8 | data[1] : 0;
}

/* One expression's attributes, as the kernel sent them (NFTA_<EXPR>_*), and its name. */
#define EXPR_ATTRS 24
struct expr {
    const char *name;
    const struct nlattr *tb[EXPR_ATTRS];
};

static int attr_cb(const struct nlattr *attr, void *data)
{
    const struct nlattr **tb = data;
    uint16_t type = mnl_attr_get_type(attr);

    if (type < EXPR_ATTRS) {
        tb[type] = attr;
    }
    return MNL_CB_OK;
}

static bool ex_is_set(const struct expr *e, uint16_t a)
{
    return e->tb[a] != NULL;
}

/* A 32-bit attribute (network byte order on the wire); 0 when absent or short. */
static uint32_t ex_u32(const struct expr *e, uint16_t a)
{
    return e->tb[a] != NULL && mnl_attr_get_payload_len(e->tb[a]) >= 4
               ? ntohl(mnl_attr_get_u32(e->tb[a]))
               : 0;
}

/* A string attribute; NULL when absent or not NUL-terminated. */
static const char *ex_str(const struct expr *e, uint16_t a)
{
    const char *s;
    uint16_t len;

    if (e->tb[a] == NULL) {
        return NULL;
    }
    s = mnl_attr_get_payload(e->tb[a]);
    len = mnl_attr_get_payload_len(e->tb[a]);
    return len > 0 && s[len - 1] == '\0' ? s : NULL;
}

/* The NFTA_DATA_VALUE inside a data attribute (cmp, range, bitwise operands). */
static const uint8_t *ex_data(const struct expr *e, uint16_t a, uint32_t *len)
{
    const struct nlattr *inner;

    *len = 0;
    if (e->tb[a] == NULL) {
        return NULL;
    }
    mnl_attr_for_each_nested(inner, e->tb[a])
    {
        if (mnl_attr_get_type(inner) == NFTA_DATA_VALUE) {
            *len = mnl_attr_get_payload_len(inner);
            return mnl_attr_get_payload(inner);
        }
    }
    return NULL;
}

static const uint8_t *ex_bin(const struct expr *e, uint16_t a, uint32_t *len)
{
    *len = e->tb[a] ? mnl_attr_get_payload_len(e->tb[a]) : 0;
    return e->tb[a] ? mnl_attr_get_payload(e->tb[a]) : NULL;
}

static void load_meta(struct reader *r, const struct expr *e)
{
    struct reg *g;
    uint32_t key = ex_u32(e, NFTA_META_KEY);

    if (!ex_is_set(e, NFTA_META_DREG) || (g = reg_of(r, e, NFTA_META_DREG)) == NULL) {
        return; /* meta set: a statement */
    }
    memset(g, 0, sizeof(*g));
    g->kind = key == NFT_META_IIF                              ? R_IIF
              : key == NFT_META_IIFNAME                        ? R_IIFNAME
              : key == NFT_META_NFPROTO                        ? R_NFPROTO
              : key == NFT_META_L4PROTO                        ? R_L4PROTO
              : key == NFT_META_OIF || key == NFT_META_OIFNAME ? R_OUTPUT
                                                               : R_OTHER;
}

static void load_payload(struct reader *r, const struct expr *e)
{
    struct reg *g;
    uint32_t base = ex_u32(e, NFTA_PAYLOAD_BASE);
    uint32_t off = ex_u32(e, NFTA_PAYLOAD_OFFSET);
    uint32_t len = ex_u32(e, NFTA_PAYLOAD_LEN);

    if (!ex_is_set(e, NFTA_PAYLOAD_DREG) || (g = reg_of(r, e, NFTA_PAYLOAD_DREG)) == NULL) {
        return; /* payload set (mangling) */
    }
    memset(g, 0, sizeof(*g));
    g->kind = R_OTHER;
    g->len = len;
    if (base == NFT_PAYLOAD_NETWORK_HEADER && r->family == 4) {
        g->kind = off == 9 && len == 1    ? R_L4PROTO
                  : off == 12 && len <= 4 ? R_SADDR
                  : off == 16 && len <= 4 ? R_DADDR
                                          : R_OTHER;
    } else if (base == NFT_PAYLOAD_NETWORK_HEADER && r->family == 6) {
        g->kind = off == 6 && len == 1     ? R_L4PROTO
                  : off == 8 && len <= 16  ? R_SADDR
                  : off == 24 && len <= 16 ? R_DADDR
                                           : R_OTHER;
    } else if (base == NFT_PAYLOAD_TRANSPORT_HEADER && off == 2 && len == 2) {
        g->kind = R_DPORT;
    }
}

static void load_ct(struct reader *r, const struct expr *e)
{
    struct reg *g;

    if (!ex_is_set(e, NFTA_CT_DREG) || (g = reg_of(r, e, NFTA_CT_DREG)) == NULL) {
        return;
    }
    memset(g, 0, sizeof(*g));
    g->kind = ex_u32(e, NFTA_CT_KEY) == NFT_CT_STATE ? R_CTSTATE : R_OTHER;
}

static void bitwise(struct reader *r, const struct expr *e)
{
    struct reg *src = reg_of(r, e, NFTA_BITWISE_SREG);
    struct reg *dst = reg_of(r, e, NFTA_BITWISE_DREG);
    uint32_t len = 0;
    const void *mask = ex_data(e, NFTA_BITWISE_MASK, &len);

    if (src == NULL || dst == NULL) {
        return;
    }
    *dst = *src;
    if (mask == NULL ||
        (ex_is_set(e, NFTA_BITWISE_OP) && ex_u32(e, NFTA_BITWISE_OP) != NFT_BITWISE_BOOL)) {
        dst->kind = R_OTHER; /* shifts */
        return;
    }
    dst->masked = true;
    memcpy(dst->mask, mask, len < 16 ? len : 16);
}

static int prefix_len(const struct reg *g)
{
    int bits = 0;

    if (!g->masked) {
        return (int)g->len * 8;
    }
    for (uint32_t i = 0; i < g->len && i < 16; i++) {
        for (int b = 7; b >= 0 && (g->mask[i] >> b) & 1; b--) {
            bits++;
        }
    }
    return bits;
}

/*
 * An interface name as a cmp or set element holds it: NUL-padded for a name, without the NUL
 * for a wildcard ("eth*", iptables' "eth+"), which compares the prefix only.
 */
static void name_pattern(const uint8_t *d, uint32_t len, bool *lo, bool *every)
{
    char name[20];
    size_t n = 0;

    while (n < len && n + 2 < sizeof(name) && d[n] != '\0') {
        name[n] = (char)d[n];
        n++;
    }
    if (n == len) {
        name[n++] = '*'; /* no NUL: a prefix */
    }
    name[n] = '\0';
    pst_fw_iface_pattern(name, n, lo, every);
}

static void cmp(struct reader *r, const struct expr *e)
{
    struct reg *g = reg_of(r, e, NFTA_CMP_SREG);
    uint32_t op = ex_u32(e, NFTA_CMP_OP);
    uint32_t len = 0;
    const uint8_t *d = ex_data(e, NFTA_CMP_DATA, &len);
    struct pst_fw_cond c = {.neg = op == NFT_CMP_NEQ};
    bool order = op != NFT_CMP_EQ && op != NFT_CMP_NEQ;

    if (g == NULL || d == NULL) {
        unknown(r);
        return;
    }
    switch (g->kind) {
    case R_IIF:
        c.kind = PST_FW_IIF;
        c.lo = u32_of(d, len) == 1; /* loopback is ifindex 1 in every namespace */
        break;
    case R_IIFNAME:
        c.kind = PST_FW_IIF;
        name_pattern(d, len, &c.lo, &c.every);
        break;
    case R_OUTPUT:
        return;
    case R_NFPROTO:
        c.kind = PST_FW_NFPROTO;
        c.value = d[0] == NFPROTO_IPV4 ? 4 : 6;
        if (op == NFT_CMP_EQ) {
            r->family = (int)c.value;
        }
        break;
    case R_L4PROTO:
        c.kind = PST_FW_L4PROTO;
        c.value = d[0];
        if (op == NFT_CMP_EQ) {
            r->proto = c.value;
        }
        break;
    case R_DPORT: {
        uint32_t v = be16_of(d, len);
        c.kind = PST_FW_DPORT;
        c.value = r->proto;
        c.neg = false;
        switch (op) {
        case NFT_CMP_EQ:
            add_range(r, &c, v, v);
            break;
        case NFT_CMP_NEQ:
            c.neg = true;
            add_range(r, &c, v, v);
            break;
        case NFT_CMP_LT:
            if (v > 0) {
                add_range(r, &c, 0, v - 1);
            }
            break;
        case NFT_CMP_LTE:
            add_range(r, &c, 0, v);
            break;
        case NFT_CMP_GT:
            if (v < 65535) {
                add_range(r, &c, v + 1, 65535);
            }
            break;
        default:
            add_range(r, &c, v, 65535);
            break;
        }
        break;
    }
    case R_CTSTATE: {
        uint32_t v = u32_of(d, len);
        c.kind = PST_FW_CTSTATE;
        if (g->masked) {
            uint32_t mask = u32_of(g->mask, 4);
            /* ct state & MASK != 0, or == 0 for a negated set */
            c.value = mask;
            c.neg = (op == NFT_CMP_EQ && v == 0) || (op == NFT_CMP_NEQ && v != 0);
            if (v != 0 && op == NFT_CMP_EQ) {
                c.value = v;
            }
        } else {
            c.value = v;
        }
        break;
    }
    case R_SADDR:
    case R_DADDR:
        if (len > 16 || order || r->family == 0) {
            c.kind = PST_FW_UNKNOWN;
            break;
        }
        c.kind = g->kind == R_SADDR ? PST_FW_SADDR : PST_FW_DADDR;
        c.family = r->family;
        c.plen = prefix_len(g);
        memcpy(c.addr, d, len);
        break;
    default:
        c.kind = PST_FW_UNKNOWN;
        break;
    }
    if (order && c.kind != PST_FW_DPORT) {
        c.kind = PST_FW_UNKNOWN;
    }
    add_cond(r, &c);
}

static void range(struct reader *r, const struct expr *e)
{
    struct reg *g = reg_of(r, e, NFTA_RANGE_SREG);
    uint32_t l1 = 0, l2 = 0;
    const uint8_t *from = ex_data(e, NFTA_RANGE_FROM_DATA, &l1);
    const uint8_t *to = ex_data(e, NFTA_RANGE_TO_DATA, &l2);
    struct pst_fw_cond c = {.kind = PST_FW_DPORT};

    if (g != NULL && (g->kind == R_DADDR || g->kind == R_SADDR) && r->family != 0) {
        /* an address range: not read; for a source, the public address is in none */
        c.kind = g->kind == R_SADDR ? PST_FW_SADDR : PST_FW_DADDR;
        c.family = r->family;
        c.plen = -1;
        c.neg = ex_u32(e, NFTA_RANGE_OP) == NFT_RANGE_NEQ;
        add_cond(r, &c);
        return;
    }
    if (g == NULL || g->kind != R_DPORT || from == NULL || to == NULL) {
        if (g == NULL || g->kind != R_OUTPUT) {
            unknown(r);
        }
        return;
    }
    c.value = r->proto;
    c.neg = ex_u32(e, NFTA_RANGE_OP) == NFT_RANGE_NEQ;
    add_range(r, &c, be16_of(from, l1), be16_of(to, l2));
    add_cond(r, &c);
}

static void lookup(struct reader *r, const struct expr *e)
{
    struct reg *g = reg_of(r, e, NFTA_LOOKUP_SREG);
    const char *set = ex_str(e, NFTA_LOOKUP_SET);
    struct pst_fw_cond c = {0};
    struct pending *pl;

    if (g != NULL && g->kind == R_OUTPUT) {
        return;
    }
    /* a verdict map of a conntrack state, a port or a protocol: read with the sets */
    if (g != NULL && set != NULL && ex_is_set(e, NFTA_LOOKUP_DREG) &&
        ex_u32(e, NFTA_LOOKUP_DREG) == NFT_REG_VERDICT && r->rule.vmap == NULL &&
        (g->kind == R_DPORT || g->kind == R_L4PROTO || g->kind == R_CTSTATE) &&
        r->n_rule_lookups < PST_FW_CONDS_MAX) {
        r->rule.vmap = calloc(1, sizeof(*r->rule.vmap));
        if (r->rule.vmap == NULL) {
            r->rc = PST_ENOMEM;
            return;
        }
        r->rule.vmap->key = g->kind == R_DPORT     ? PST_FW_DPORT
                            : g->kind == R_CTSTATE ? PST_FW_CTSTATE
                                                   : PST_FW_L4PROTO;
        r->rule.vmap->proto = g->kind == R_DPORT ? r->proto : 0;
        pl = &r->rule_lookups[r->n_rule_lookups++];
        memset(pl, 0, sizeof(*pl));
        pl->cond = VMAP; /* an empty map until its elements are read: it decides nothing */
        pl->kind = g->kind;
        snprintf(pl->set, sizeof(pl->set), "%s", set);
        return;
    }
    if (g != NULL && (g->kind == R_DADDR || g->kind == R_SADDR) && set != NULL &&
        !ex_is_set(e, NFTA_LOOKUP_DREG) && r->family != 0 &&
        g->len == (r->family == 4 ? 4u : 16u)) {
        /* an address set: its elements are not read; for a source, the public address is in
         * none of them */
        c.kind = g->kind == R_SADDR ? PST_FW_SADDR : PST_FW_DADDR;
        c.family = r->family;
        c.plen = -1;
        c.neg = (ex_u32(e, NFTA_LOOKUP_FLAGS) & NFT_LOOKUP_F_INV) != 0;
        add_cond(r, &c);
        return;
    }
    /* a verdict map of anything else, a concatenation: not evaluated */
    if (g == NULL || set == NULL || ex_is_set(e, NFTA_LOOKUP_DREG) ||
        (g->kind != R_DPORT && g->kind != R_L4PROTO && g->kind != R_CTSTATE &&
         g->kind != R_IIFNAME) ||
        r->n_rule_lookups >= PST_FW_CONDS_MAX) {
        unknown(r);
        return;
    }
    c.kind = g->kind == R_DPORT     ? PST_FW_DPORT
             : g->kind == R_CTSTATE ? PST_FW_CTSTATE
             : g->kind == R_IIFNAME ? PST_FW_IIF
                                    : PST_FW_L4PROTO;
    c.value = g->kind == R_DPORT ? r->proto : 0;
    c.neg = (ex_u32(e, NFTA_LOOKUP_FLAGS) & NFT_LOOKUP_F_INV) != 0;
    pl = &r->rule_lookups[r->n_rule_lookups++];
    memset(pl, 0, sizeof(*pl));
    pl->cond = r->rule.n_conds;
    pl->kind = g->kind;
    snprintf(pl->set, sizeof(pl->set), "%s", set);
    add_cond(r, &c);
}

static void immediate(struct reader *r, const struct expr *e)
{
    int32_t v;

    if (ex_u32(e, NFTA_IMMEDIATE_DREG) != NFT_REG_VERDICT) {
        struct reg *g = reg_of(r, e, NFTA_IMMEDIATE_DREG);
        if (g != NULL) {
            memset(g, 0, sizeof(*g));
            g->kind = R_OTHER;
        }
        return;
    }
    /* NFTA_IMMEDIATE_DATA { NFTA_DATA_VERDICT { NFTA_VERDICT_CODE, NFTA_VERDICT_CHAIN } } */
    struct expr verdict = {0};
    const struct nlattr *inner;
    if (e->tb[NFTA_IMMEDIATE_DATA] == NULL) {
        return;
    }
    mnl_attr_for_each_nested(inner, e->tb[NFTA_IMMEDIATE_DATA])
    {
        if (mnl_attr_get_type(inner) == NFTA_DATA_VERDICT) {
            mnl_attr_parse_nested(inner, attr_cb, verdict.tb);
        }
    }
    v = (int32_t)ex_u32(&verdict, NFTA_VERDICT_CODE);
    if (verdict.tb[NFTA_VERDICT_CODE] == NULL) {
        return;
    }
    switch (v) {
    case NF_ACCEPT:
        r->rule.verdict = PST_FW_ACCEPT;
        break;
    case NF_DROP:
        r->rule.verdict = PST_FW_DROP;
        break;
    case NFT_RETURN:
        r->rule.verdict = PST_FW_RETURN;
        break;
    case NFT_JUMP:
    case NFT_GOTO: {
        const char *chain = ex_str(&verdict, NFTA_VERDICT_CHAIN);
        r->rule.verdict = v == NFT_JUMP ? PST_FW_JUMP : PST_FW_GOTO;
        free(r->rule.target);
        r->rule.target = strdup(chain ? chain : "");
        if (r->rule.target == NULL) {
            r->rc = PST_ENOMEM;
        }
        break;
    }
    default:
        r->rule.verdict = PST_FW_NONE;
        break;
    }
}

/* An xtables match of iptables-nft: the few it writes for filter rules, from their info. */
static void xt_match(struct reader *r, const struct expr *e)
{
    const char *name = ex_str(e, NFTA_MATCH_NAME);
    uint32_t rev = ex_u32(e, NFTA_MATCH_REV);
    uint32_t len = 0;
    const uint8_t *info = ex_bin(e, NFTA_MATCH_INFO, &len);
    struct pst_fw_cond c = {.kind = PST_FW_CTSTATE};

    if (name == NULL || info == NULL) {
        unknown(r);
        return;
    }
    if (strcmp(name, "comment") == 0) {
        return;
    }
    if (strcmp(name, "addrtype") == 0 && rev == 1 && len >= 8) {
        /* struct xt_addrtype_info_v1 { u16 source, dest; u32 flags }: the packets asked
         * about are unicast to a local address (XT_ADDRTYPE_UNICAST 2, LOCAL 4) */
        uint16_t src, dst;
        uint32_t flags;
        memcpy(&src, info, 2);
        memcpy(&dst, info + 2, 2);
        memcpy(&flags, info + 4, 4);
        if (src == 0 && (dst & 6u) != 0 && (flags & 2u) == 0) {
            return;
        }
        unknown(r);
        return;
    }
    if (strcmp(name, "state") == 0 && len >= 4) {
        c.value = u32_of(info, 4); /* struct xt_state_info { unsigned int statemask; } */
        add_cond(r, &c);
        return;
    }
    if (strcmp(name, "conntrack") == 0 && rev >= 1 && len >= 152) {
        /* xt_conntrack_mtinfo1..3: eight addresses (128), expires (8), l4proto and ports (10) */
        uint32_t flags, inv, state;
        if (rev == 1) {
            flags = info[146];
            inv = info[147];
            state = info[148];
        } else {
            uint16_t f, i, s;
            memcpy(&f, info + 146, 2);
            memcpy(&i, info + 148, 2);
            memcpy(&s, info + 150, 2);
            flags = f;
            inv = i;
            state = s;
        }
        /* XT_CONNTRACK_STATE (1), and XT_CONNTRACK_STATE_ALIAS (1 << 13) for -m state */
        if ((flags & ~(1u | 1u << 13)) != 0 || (flags & 1u) == 0) {
            unknown(r); /* tests beyond --ctstate */
            return;
        }
        c.value = state;
        c.neg = (inv & 1u) != 0;
        add_cond(r, &c);
        return;
    }
    if ((strcmp(name, "tcp") == 0 || strcmp(name, "udp") == 0) && len >= 8) {
        /* struct xt_tcp / xt_udp: u16 spts[2], dpts[2], ..., invflags */
        uint16_t p[4];
        memcpy(p, info, 8);
        if (p[0] != 0 || p[1] != 65535 || (strcmp(name, "tcp") == 0 && len >= 12 && info[9] != 0)) {
            unknown(r); /* source ports, tcp flags */
            return;
        }
        if (p[2] != 0 || p[3] != 65535) {
            c.kind = PST_FW_DPORT;
            c.value = name[0] == 't' ? 6 : 17;
            c.neg = (info[strcmp(name, "tcp") == 0 ? 11 : 8] & 0x02) != 0;
            add_range(r, &c, p[2], p[3]);
            add_cond(r, &c);
        }
        return;
    }
    if (strcmp(name, "multiport") == 0 && rev >= 1 && len >= 48) {
        /* struct xt_multiport_v1: flags, count, ports[15], pflags[15], invert */
        uint8_t flags = info[0], count = info[1];
        if (flags == 0 || count > 15) {
            unknown(r); /* source ports */
            return;
        }
        c.kind = PST_FW_DPORT;
        c.value = r->proto;
        c.neg = info[47] != 0;
        for (uint8_t i = 0; i < count; i++) {
            uint16_t lo, hi;
            memcpy(&lo, info + 2 + 2 * i, 2);
            hi = lo;
            if (info[32 + i] && i + 1 < count) {
                memcpy(&hi, info + 2 + 2 * (i + 1), 2);
                i++;
            }
            add_range(r, &c, lo, hi);
        }
        add_cond(r, &c);
        return;
    }
    unknown(r);
}

static void decode(struct reader *r, const struct expr *e)
{
    const char *name = e->name;

    if (strcmp(name, "meta") == 0) {
        load_meta(r, e);
    } else if (strcmp(name, "payload") == 0) {
        load_payload(r, e);
    } else if (strcmp(name, "ct") == 0) {
        load_ct(r, e);
    } else if (strcmp(name, "bitwise") == 0) {
        bitwise(r, e);
    } else if (strcmp(name, "cmp") == 0) {
        cmp(r, e);
    } else if (strcmp(name, "range") == 0) {
        range(r, e);
    } else if (strcmp(name, "lookup") == 0) {
        lookup(r, e);
    } else if (strcmp(name, "immediate") == 0) {
        immediate(r, e);
    } else if (strcmp(name, "reject") == 0) {
        r->rule.verdict = PST_FW_DROP;
    } else if (strcmp(name, "match") == 0) {
        xt_match(r, e);
    } else if (strcmp(name, "target") == 0) {
        const char *t = ex_str(e, NFTA_TARGET_NAME);
        if (t != NULL && strcmp(t, "REJECT") == 0) {
            r->rule.verdict = PST_FW_DROP;
        }
    } else if (strcmp(name, "counter") != 0 && strcmp(name, "log") != 0 &&
               strcmp(name, "notrack") != 0) {
        /* limit, fib, socket, quota...: matches posture does not evaluate */
        struct reg *g;
        if (strcmp(name, "fib") == 0 && ex_is_set(e, NFTA_FIB_DREG) &&
            (g = reg_of(r, e, NFTA_FIB_DREG)) != NULL) {
            memset(g, 0, sizeof(*g));
            g->kind = R_OTHER;
        } else {
            unknown(r);
        }
    }
}

/* Decodes the expressions of NFTA_RULE_EXPRESSIONS into r->rule. */
static void decode_all(struct reader *r, const struct nlattr *list)
{
    const struct nlattr *elem;

    mnl_attr_for_each_nested(elem, list)
    {
        const struct nlattr *etb[NFTA_EXPR_MAX + 1] = {0};
        struct expr e = {0};
        const struct nlattr *a;
        if (mnl_attr_get_type(elem) != NFTA_LIST_ELEM) {
            continue;
        }
        mnl_attr_for_each_nested(a, elem)
        {
            if (mnl_attr_get_type(a) <= NFTA_EXPR_MAX) {
                etb[mnl_attr_get_type(a)] = a;
            }
        }
        if (etb[NFTA_EXPR_NAME] == NULL) {
            continue;
        }
        e.name = mnl_attr_get_str(etb[NFTA_EXPR_NAME]);
        if (mnl_attr_get_payload_len(etb[NFTA_EXPR_NAME]) == 0 ||
            e.name[mnl_attr_get_payload_len(etb[NFTA_EXPR_NAME]) - 1] != '\0') {
            unknown(r);
            continue;
        }
        if (etb[NFTA_EXPR_DATA] != NULL) {
            mnl_attr_parse_nested(etb[NFTA_EXPR_DATA], attr_cb, e.tb);
        }
        decode(r, &e);
        if (r->rc != PST_OK) {
            return;
        }
    }
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
    struct reader *r = data;
    const struct nfgenmsg *nfg = mnl_nlmsg_get_payload(nlh);
    const struct nlattr *tb[NFTA_RULE_MAX + 1] = {0};
    const struct nlattr *a;
    struct pst_fw_chain *chain;
    const char *fam, *table, *name;
    uint64_t handle = 0;
    char where[64];

    if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*nfg)) {
        return MNL_CB_OK;
    }
    fam = family_name(nfg->nfgen_family);
    if (fam == NULL) {
        return MNL_CB_OK;
    }
    mnl_attr_for_each(a, nlh, sizeof(*nfg))
    {
        if (mnl_attr_get_type(a) <= NFTA_RULE_MAX) {
            tb[mnl_attr_get_type(a)] = a;
        }
    }
    if (tb[NFTA_RULE_TABLE] == NULL || tb[NFTA_RULE_CHAIN] == NULL ||
        mnl_attr_validate(tb[NFTA_RULE_TABLE], MNL_TYPE_NUL_STRING) < 0 ||
        mnl_attr_validate(tb[NFTA_RULE_CHAIN], MNL_TYPE_NUL_STRING) < 0) {
        return MNL_CB_OK;
    }
    table = mnl_attr_get_str(tb[NFTA_RULE_TABLE]);
    name = mnl_attr_get_str(tb[NFTA_RULE_CHAIN]);
    /* rules come chain by chain: the last chain is most often the one */
    chain = r->last != NULL && strcmp(r->last->name, name) == 0 &&
                    strcmp(r->last->table, table) == 0 && strcmp(r->last->family, fam) == 0
                ? r->last
                : pst_fw_chain_get(r->rs, fam, table, name, false);
    if (chain == NULL) {
        return MNL_CB_OK; /* a chain added since the chains were read: read again next scan */
    }
    r->last = chain;
    if (tb[NFTA_RULE_HANDLE] != NULL && mnl_attr_get_payload_len(tb[NFTA_RULE_HANDLE]) >= 8) {
        handle = be64toh(mnl_attr_get_u64(tb[NFTA_RULE_HANDLE]));
    }
    memset(&r->rule, 0, sizeof(r->rule));
    memset(r->regs, 0, sizeof(r->regs));
    r->n_rule_lookups = 0;
    r->family = strcmp(fam, "ip") == 0 ? 4 : strcmp(fam, "ip6") == 0 ? 6 : 0;
    r->proto = 0;
    if (tb[NFTA_RULE_EXPRESSIONS] != NULL) {
        decode_all(r, tb[NFTA_RULE_EXPRESSIONS]);
    }
    snprintf(where, sizeof(where), "kernel: %s %s %s handle %llu", fam, chain->table, chain->name,
             (unsigned long long)handle);
    r->rule.source = strdup(where);
    if (r->rc == PST_OK && r->rule.source == NULL) {
        r->rc = PST_ENOMEM;
    }
    for (size_t i = 0; r->rc == PST_OK && i < r->n_rule_lookups; i++) {
        struct pending *pl = &r->rule_lookups[i];
        if (r->n_pending >= SETS_MAX) {
            /* too many sets to read: the match stays unknown, a verdict map empty */
            if (pl->cond != VMAP) {
                free(r->rule.conds[pl->cond].ranges);
                r->rule.conds[pl->cond] = (struct pst_fw_cond){.kind = PST_FW_UNKNOWN};
            }
            continue;
        }
        if (r->n_pending == r->cap_pending) {
            size_t cap = r->cap_pending ? r->cap_pending * 2 : 16;
            struct pending *grown = realloc(r->pending, cap * sizeof(*grown));
            if (grown == NULL) {
                r->rc = PST_ENOMEM;
                break;
            }
            r->pending = grown;
            r->cap_pending = cap;
        }
        pl->chain = (size_t)(chain - r->rs->chains);
        pl->rule = chain->n_rules;
        snprintf(pl->family, sizeof(pl->family), "%s", fam);
        snprintf(pl->table, sizeof(pl->table), "%s", chain->table);
        r->pending[r->n_pending++] = *pl;
    }
    if (r->rc == PST_OK) {
        r->rc = pst_fw_chain_append(r->rs, chain, &r->rule);
    }
    pst_fw_rule_clear(&r->rule);
    return r->rc == PST_OK ? MNL_CB_OK : MNL_CB_ERROR;
}

/* ---- set elements --------------------------------------------------------------------- */

static int elem_cb(struct nftnl_set_elem *e, void *data)
{
    struct reader *r = data;
    uint32_t len = 0;
    const uint8_t *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
    uint32_t flags = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS)
                         ? nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS)
                         : 0;
    uint32_t v;

    if (key == NULL) {
        return 0;
    }
    if (len != key_len(r->fill_kind)) {
        r->fill_bad = true;
        return 0;
    }
    if (r->fill_kind == R_IIFNAME) {
        bool lo, every;
        if (!(flags & NFT_SET_ELEM_INTERVAL_END)) {
            name_pattern(key, len, &lo, &every);
            r->fill->lo = r->fill->lo || lo;
            r->fill->every = r->fill->every || every;
        }
        return 0;
    }
    v = r->fill_kind == R_DPORT     ? be16_of(key, len)
        : r->fill_kind == R_L4PROTO ? key[0]
                                    : u32_of(key, len);
    if (r->fill_kind == R_CTSTATE) {
        r->fill->value |= v;
        return 0;
    }
    /* interval sets hold a start element and an end element (one past the end) */
    if (flags & NFT_SET_ELEM_INTERVAL_END) {
        add_range(r, r->fill, v, UINT32_MAX); /* hi UINT32_MAX marks an end; paired below */
    } else {
        add_range(r, r->fill, v, v);
    }
    return r->rc == PST_OK ? 0 : -1;
}

static int cmp_range(const void *a, const void *b)
{
    const struct pst_fw_range *x = a, *y = b;
    /* on one key an end element (of the interval before) sorts before a start */
    return x->lo < y->lo ? -1 : x->lo > y->lo ? 1 : (y->hi == UINT32_MAX) - (x->hi == UINT32_MAX);
}

/* Pairs an interval set's start and end elements into ranges. */
static void pair_intervals(struct pst_fw_cond *c, uint32_t max)
{
    bool interval = false;
    size_t w = 0;

    for (size_t i = 0; i < c->n_ranges; i++) {
        interval = interval || c->ranges[i].hi == UINT32_MAX;
    }
    if (!interval) {
        return;
    }
    qsort(c->ranges, c->n_ranges, sizeof(c->ranges[0]), cmp_range);
    for (size_t i = 0; i < c->n_ranges; i++) {
        if (c->ranges[i].hi == UINT32_MAX) {
            continue; /* an end without a start: the elements before it covered it */
        }
        /* an interval ends before the next element, end or start of an adjacent interval
         * (the kernel keeps no end element there); the last one without an end runs to MAX */
        uint32_t lo = c->ranges[i].lo, hi = max;
        if (i + 1 < c->n_ranges) {
            hi = c->ranges[i + 1].lo - 1;
        }
        c->ranges[w++] = (struct pst_fw_range){lo, hi};
    }
    c->n_ranges = w;
}

/* One element of a verdict map: its key and verdict; an interval's end element is marked. */
static int vmap_elem_cb(struct nftnl_set_elem *e, void *data)
{
    struct reader *r = data;
    uint32_t len = 0;
    const uint8_t *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
    uint32_t flags = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS)
                         ? nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS)
                         : 0;
    const struct pst_fw_vmap *m = r->fill_rule->vmap;
    enum pst_fw_verdict v = PST_FW_NONE;
    const char *chain = NULL;
    uint32_t k;
    int rc;

    if (key == NULL || len == 0) {
        return 0;
    }
    if (len != key_len(r->fill_kind)) {
        r->fill_bad = true;
        return 0;
    }
    k = r->fill_kind == R_DPORT     ? be16_of(key, len)
        : r->fill_kind == R_L4PROTO ? key[0]
                                    : u32_of(key, len);
    if (flags & NFT_SET_ELEM_INTERVAL_END) {
        rc = pst_fw_vmap_add(r->fill_rule, m->key, m->proto, k, UINT32_MAX, PST_FW_NONE, NULL);
    } else {
        if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_VERDICT)) {
            int32_t code = (int32_t)nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_VERDICT);
            v = code == NF_ACCEPT    ? PST_FW_ACCEPT
                : code == NF_DROP    ? PST_FW_DROP
                : code == NFT_RETURN ? PST_FW_RETURN
                : code == NFT_JUMP   ? PST_FW_JUMP
                : code == NFT_GOTO   ? PST_FW_GOTO
                                     : PST_FW_NONE;
            if (v == PST_FW_JUMP || v == PST_FW_GOTO) {
                chain = nftnl_set_elem_get_str(e, NFTNL_SET_ELEM_CHAIN);
            }
        }
        rc = pst_fw_vmap_add(r->fill_rule, m->key, m->proto, k, k, v, chain);
    }
    if (rc != PST_OK && r->rc == PST_OK) {
        r->rc = rc;
    }
    return rc == PST_OK ? 0 : -1;
}

static int cmp_entry(const void *a, const void *b)
{
    const struct pst_fw_vmap_entry *x = a, *y = b;
    /* on one key an end element (of the interval before) sorts before a start */
    return x->lo < y->lo ? -1 : x->lo > y->lo ? 1 : (y->hi == UINT32_MAX) - (x->hi == UINT32_MAX);
}

/* Pairs an interval map's start and end elements into ranges (as pair_intervals). */
static void pair_vmap(struct pst_fw_vmap *m, uint32_t max)
{
    bool interval = false;
    size_t w = 0;

    for (size_t i = 0; i < m->n; i++) {
        interval = interval || m->entries[i].hi == UINT32_MAX;
    }
    if (!interval) {
        return;
    }
    qsort(m->entries, m->n, sizeof(m->entries[0]), cmp_entry);
    for (size_t i = 0; i < m->n; i++) {
        struct pst_fw_vmap_entry e = m->entries[i];
        if (e.hi == UINT32_MAX) {
            free(e.target);
            continue;
        }
        e.hi = i + 1 < m->n ? m->entries[i + 1].lo - 1 : max; /* as pair_intervals */
        m->entries[w++] = e;
    }
    m->n = w;
}

static int set_cb(const struct nlmsghdr *nlh, void *data)
{
    struct nftnl_set *s = data;
    return nftnl_set_elems_nlmsg_parse(nlh, s) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

static int read_sets(struct reader *r)
{
    for (size_t i = 0; i < r->n_pending && r->rc == PST_OK; i++) {
        struct pending *pl = &r->pending[i];
        struct pst_fw_rule *rule = &r->rs->chains[pl->chain].rules[pl->rule];
        struct pst_fw_cond *c = pl->cond == VMAP ? NULL : &rule->conds[pl->cond];
        struct nftnl_set *s = nftnl_set_alloc();
        uint32_t fam = strcmp(pl->family, "ip") == 0    ? NFPROTO_IPV4
                       : strcmp(pl->family, "ip6") == 0 ? NFPROTO_IPV6
                                                        : NFPROTO_INET;
        int ret;

        if (s == NULL) {
            return PST_ENOMEM;
        }
        nftnl_set_set_str(s, NFTNL_SET_NAME, pl->set);
        nftnl_set_set_str(s, NFTNL_SET_TABLE, pl->table);
        nftnl_set_set_u32(s, NFTNL_SET_FAMILY, fam);
        ret = dump(r, NFT_MSG_GETSETELEM, (uint16_t)fam, s, set_cb, s);
        r->fill_bad = false;
        if (ret == 0 && c == NULL) {
            r->fill_rule = rule;
            r->fill_kind = pl->kind;
            nftnl_set_elem_foreach(s, vmap_elem_cb, r);
            pair_vmap(rule->vmap, pl->kind == R_DPORT ? 65535 : 255);
        } else if (ret == 0) {
            r->fill = c;
            r->fill_kind = pl->kind;
            nftnl_set_elem_foreach(s, elem_cb, r);
            pair_intervals(c, pl->kind == R_DPORT ? 65535 : 255);
        }
        if (ret == 0 && r->fill_bad && c == NULL) {
            /* a map of a concatenation: its verdicts are not read, it decides nothing */
            for (size_t k = 0; k < rule->vmap->n; k++) {
                free(rule->vmap->entries[k].target);
            }
            rule->vmap->n = 0;
        } else if (ret == 0 && r->fill_bad) {
            free(c->ranges);
            *c = (struct pst_fw_cond){.kind = PST_FW_UNKNOWN};
        } else if (ret != 0 && c != NULL) {
            free(c->ranges);
            *c = (struct pst_fw_cond){.kind = PST_FW_UNKNOWN};
        }
        nftnl_set_free(s);
    }
    return r->rc;
}

int pst_fw_read_kernel(struct pst_fw_ruleset *rs, char *why, size_t n)
{
    struct reader r = {.rs = rs};
    int ret;

    r.buf = malloc(RECV_SIZE);
    if (r.buf == NULL) {
        return PST_ENOMEM;
    }
    r.nl = mnl_socket_open(NETLINK_NETFILTER);
    if (r.nl == NULL || mnl_socket_bind(r.nl, 0, MNL_SOCKET_AUTOPID) < 0) {
        snprintf(why, n, "netlink (nftables): %s", strerror(errno));
        r.rc = PST_EIO;
        goto out;
    }
    r.portid = mnl_socket_get_portid(r.nl);
    r.seq = (uint32_t)time(NULL);
    /* list requests only: the probe never changes the ruleset */
    /*
     * The dumps are separate requests: a change between them (or during one, which the kernel
     * flags NLM_F_DUMP_INTR) would mix two rulesets. The generation read before and after
     * tells, but not always: a commit bumps the generation just before its ruleset shows (a
     * window a preempted virtual CPU can hold open for milliseconds), so a read that starts
     * in it sees one generation and two rulesets. A read is taken only when the next one,
     * also of an unchanged generation, agrees with it (their digests); after a few reads
     * that changed, give up with an error.
     */
    uint64_t previous = 0;
    bool have_previous = false;
    int changes = 0;
    for (;;) {
        uint32_t gen_before = 0, gen_after = 0;
        r.intr = false;
        ret = get_gen(&r, &gen_before);
        if (ret == 0) {
            ret = dump(&r, NFT_MSG_GETTABLE, NFPROTO_UNSPEC, NULL, table_cb, &r);
        }
        if (ret == 0 && r.rc == PST_OK) {
            ret = dump(&r, NFT_MSG_GETCHAIN, NFPROTO_UNSPEC, NULL, chain_cb, &r);
        }
        if (ret == 0 && r.rc == PST_OK) {
            ret = dump(&r, NFT_MSG_GETRULE, NFPROTO_UNSPEC, NULL, rule_cb, &r);
        }
        if (ret == 0 && r.rc == PST_OK) {
            r.rc = read_sets(&r);
        }
        if (ret == 0 && r.rc == PST_OK) {
            ret = get_gen(&r, &gen_after);
        }
        if (ret == -EINTR) {
            r.intr = true; /* libmnl's answer to NLM_F_DUMP_INTR */
            ret = 0;
        }
        if (ret != 0 || r.rc != PST_OK) {
            break;
        }
        if (!r.intr && gen_before == gen_after) {
            uint64_t digest = 0;
            r.rc = pst_fw_ruleset_digest(rs, &digest);
            if (r.rc != PST_OK || (have_previous && digest == previous)) {
                break;
            }
            changes += have_previous; /* two whole-looking reads that disagree */
            previous = digest;
            have_previous = true;
        } else {
            changes++;
            have_previous = false;
        }
        if (changes == READ_ATTEMPTS) {
            snprintf(why, n, "netlink (nftables): the ruleset changed while it was read, %d times",
                     READ_ATTEMPTS);
            r.rc = PST_EIO;
            break;
        }
        /* a new socket: what is left of an interrupted dump is never read as an answer */
        mnl_socket_close(r.nl);
        r.nl = mnl_socket_open(NETLINK_NETFILTER);
        if (r.nl == NULL || mnl_socket_bind(r.nl, 0, MNL_SOCKET_AUTOPID) < 0) {
            snprintf(why, n, "netlink (nftables): %s", strerror(errno));
            r.rc = PST_EIO;
            break;
        }
        r.portid = mnl_socket_get_portid(r.nl);
        pst_fw_ruleset_clear(rs);
        free(r.pending);
        r.pending = NULL;
        r.n_pending = r.cap_pending = 0;
        r.last = NULL;
    }
    if (r.rc == PST_OK && ret < 0) {
        snprintf(why, n, "netlink (nftables): %s", strerror(-ret));
        r.rc = -ret == EPERM || -ret == EACCES ? PST_EACCES : PST_EIO;
    } else if (r.rc == PST_ETOOBIG) {
        snprintf(why, n,
                 "the kernel's ruleset has more than %d rules, %d chains or %d dormant tables",
                 PST_FW_RULES_MAX, PST_FW_CHAINS_MAX, PST_FW_DORMANT_MAX);
    }
out:
    pst_fw_rule_clear(&r.rule);
    free(r.pending);
    if (r.nl != NULL) {
        mnl_socket_close(r.nl);
    }
    free(r.buf);
    return r.rc;
}
