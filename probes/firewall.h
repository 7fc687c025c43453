/* SPDX-License-Identifier: Apache-2.0 */
/* A firewall ruleset as the kernel walks it, read from nftables, iptables or persisted files. */
#ifndef PST_FIREWALL_H
#define PST_FIREWALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bounds: a ruleset beyond them is an error, never a cut that changes a verdict. */
#define PST_FW_RULES_MAX 200000
#define PST_FW_CHAINS_MAX 20000
#define PST_FW_CONDS_MAX 32
#define PST_FW_PORTS_MAX 4096
#define PST_FW_DEPTH_MAX 16 /* the kernel allows 16 nested jumps as well */
#define PST_FW_DORMANT_MAX 64
#define PST_FW_STEPS_MAX 1000000 /* rule visits for one packet: jumps can repeat chains */

/* What a rule condition tests. */
enum pst_fw_cond_kind {
    PST_FW_IIF,     /* input interface: lo, named others, or every one */
    PST_FW_NFPROTO, /* IPv4 or IPv6 (inet tables) */
    PST_FW_L4PROTO, /* transport protocol number */
    PST_FW_DPORT,   /* destination port in ranges */
    PST_FW_SADDR,   /* source address in a prefix (plen -1: a set not read) */
    PST_FW_DADDR,   /* destination address in a prefix */
    PST_FW_CTSTATE, /* conntrack state bits */
    PST_FW_UNKNOWN, /* a match posture does not evaluate: the rule never matches */
};

/* Conntrack state bits as nftables and xt_conntrack number them. */
#define PST_FW_CT_INVALID 1u
#define PST_FW_CT_ESTABLISHED 2u
#define PST_FW_CT_RELATED 4u
#define PST_FW_CT_NEW 8u
#define PST_FW_CT_UNTRACKED 64u

struct pst_fw_range {
    uint32_t lo, hi;
};

struct pst_fw_cond {
    enum pst_fw_cond_kind kind;
    bool neg;
    bool lo;        /* IIF: the interface (or a pattern of the set) is loopback */
    bool every;     /* IIF: a pattern that matches every interface ("+", "*") */
    uint32_t value; /* NFPROTO 4/6, L4PROTO number, CTSTATE mask */
    /* SADDR, DADDR: address bytes and prefix length */
    int family; /* 4 or 6 */
    uint8_t addr[16];
    int plen;
    /* DPORT and L4PROTO sets: ranges (owned) */
    struct pst_fw_range *ranges;
    size_t n_ranges;
};

enum pst_fw_verdict {
    PST_FW_NONE, /* no verdict: go on with the next rule */
    PST_FW_ACCEPT,
    PST_FW_DROP, /* drop or reject */
    PST_FW_JUMP,
    PST_FW_GOTO,
    PST_FW_RETURN,
};

/* One key of a verdict map: a conntrack state mask, or a range of ports or protocols. */
struct pst_fw_vmap_entry {
    uint32_t lo, hi;
    enum pst_fw_verdict verdict;
    char *target; /* JUMP/GOTO chain name (owned) */
};

/* A verdict map (`ct state vmap { established : accept }`): the verdict depends on a key. */
struct pst_fw_vmap {
    enum pst_fw_cond_kind key; /* PST_FW_CTSTATE, PST_FW_DPORT or PST_FW_L4PROTO */
    uint32_t proto;            /* DPORT: the protocol, 0 for any */
    struct pst_fw_vmap_entry *entries;
    size_t n;
};

struct pst_fw_rule {
    struct pst_fw_cond *conds; /* owned; at most PST_FW_CONDS_MAX */
    size_t n_conds, cap_conds;
    enum pst_fw_verdict verdict;
    char *target;             /* JUMP/GOTO chain name (owned) */
    char *source;             /* file:line or a kernel handle (owned) */
    struct pst_fw_vmap *vmap; /* owned; when set, it gives the verdict, not VERDICT */
};

enum pst_fw_hook { PST_FW_HOOK_NONE, PST_FW_HOOK_INPUT, PST_FW_HOOK_FORWARD, PST_FW_HOOK_OTHER };

struct pst_fw_chain {
    char *family; /* ip, ip6, inet (owned) */
    char *table;
    char *name;
    enum pst_fw_hook hook;
    bool filter; /* a base chain of type filter */
    int priority;
    enum pst_fw_verdict policy; /* ACCEPT or DROP for a base chain */
    char *source;               /* where the chain (or its policy) was declared */
    struct pst_fw_rule *rules;
    size_t n_rules, cap_rules;
};

/* A whole ruleset: chains of every table and family. */
struct pst_fw_ruleset {
    struct pst_fw_chain *chains;
    size_t n_chains, cap_chains;
    size_t n_rules;
    /* tables with flag dormant: the kernel runs none of their chains */
    struct {
        char family[8];
        char table[256];
    } dormant[PST_FW_DORMANT_MAX];
    size_t n_dormant;
    char error[512]; /* set by a parser that stops */
};

/* Marks (or, DORMANT false, unmarks) table FAMILY TABLE dormant. 0 or PST_ETOOBIG. */
int pst_fw_table_dormant(struct pst_fw_ruleset *rs, const char *family, const char *table,
                         bool dormant);

/* An empty ruleset; NULL when out of memory. pst_fw_ruleset_free(NULL) does nothing. */
struct pst_fw_ruleset *pst_fw_ruleset_new(void);
void pst_fw_ruleset_free(struct pst_fw_ruleset *rs);
/* The ruleset a scan reads once for all its calls of the firewall probe (probe_firewall.c). */
struct pst_fw_scan;
void pst_fw_scan_free(struct pst_fw_scan *scan);

/* Empties RS (chains, rules, dormant tables) for reading it again. */
void pst_fw_ruleset_clear(struct pst_fw_ruleset *rs);

/*
 * A digest of everything RS says (chains, rules, conditions, verdict maps, dormant tables,
 * rule sources), equal for two reads of the same ruleset: 0 or PST_ENOMEM, into *digest.
 */
int pst_fw_ruleset_digest(const struct pst_fw_ruleset *rs, uint64_t *digest);

/*
 * The chain FAMILY TABLE NAME, created (a regular chain, policy ACCEPT) when absent and
 * CREATE is set. Borrowed; NULL when absent, over PST_FW_CHAINS_MAX or out of memory.
 */
struct pst_fw_chain *pst_fw_chain_get(struct pst_fw_ruleset *rs, const char *family,
                                      const char *table, const char *name, bool create);

/* Appends RULE (its ranges and strings are taken over) to CHAIN. 0, PST_ETOOBIG, PST_ENOMEM. */
int pst_fw_chain_append(struct pst_fw_ruleset *rs, struct pst_fw_chain *chain,
                        struct pst_fw_rule *rule);

/* Releases what RULE owns and empties it. */
void pst_fw_rule_clear(struct pst_fw_rule *rule);

/*
 * Adds the key LO..HI with VERDICT (and TARGET for a jump or goto, copied) to RULE's verdict
 * map, made with KEY and PROTO when RULE has none. Returns 0, PST_ETOOBIG or PST_ENOMEM.
 */
int pst_fw_vmap_add(struct pst_fw_rule *rule, enum pst_fw_cond_kind key, uint32_t proto,
                    uint32_t lo, uint32_t hi, enum pst_fw_verdict verdict, const char *target);

/*
 * Appends condition C to RULE, taking over its ranges (freed on failure too). Returns 0,
 * PST_ETOOBIG beyond PST_FW_CONDS_MAX, or PST_ENOMEM.
 */
int pst_fw_rule_add(struct pst_fw_rule *rule, const struct pst_fw_cond *c);

/*
 * Reads iptables-save / iptables-restore text (rules.v4, ufw's rules files) for FAMILY 4 or 6
 * into RS as tables of family "ip" or "ip6", SOURCE naming the file in each rule's source.
 * Only *filter is kept. Rules whose chains come from several files merge by name. Returns 0,
 * PST_EPARSE with rs->error set ("FILE:LINE: why"), PST_ETOOBIG or PST_ENOMEM. TEXT is
 * modified. TABLE_AS, when set, names the filter table in RS (iptables-legacy's beside
 * iptables-nft's).
 */
int pst_fw_parse_iptables(struct pst_fw_ruleset *rs, int family, char *text, const char *source,
                          const char *table_as);

/*
 * Reads one file of nft syntax (nftables.conf) into RS. An `include` is handed to
 * INCLUDE(STATE, path, depth + 1, scope), which reads the file and parses it with that DEPTH
 * and SCOPE, so that it sees the defines of the files including it; DEPTH bounds nesting.
 * SCOPE is NULL for the first file. Returns 0, PST_EPARSE with rs->error set for anything the
 * reader does not know (never a guess), PST_ETOOBIG or PST_ENOMEM.
 */
int pst_fw_parse_nft(struct pst_fw_ruleset *rs, const char *text, const char *source,
                     int (*include)(void *state, const char *path, int depth, const void *scope),
                     void *state, int depth, const void *scope);

/* A synthetic packet the ruleset is asked about. */
struct pst_fw_packet {
    int family;          /* 4 or 6 */
    bool lo;             /* arrives on lo; else on an interface no rule names */
    unsigned ctstate;    /* one PST_FW_CT_* bit */
    unsigned l4proto;    /* 0 unknown (matches no protocol test) */
    long dport;          /* -1 unknown */
    bool saddr_loopback; /* source 127.0.0.1 / ::1; else a public address in no rule's prefix */
};

/* What a hook does with a packet. */
struct pst_fw_outcome {
    bool accepted;
    bool any_chain;          /* some base chain is on the hook */
    char decided_by[8][160]; /* the chains (and rules) that decided */
    size_t n_decided;
    char undecided[200]; /* set when a rule the packet may or may not match could decide */
};

/*
 * Runs PACKET through every filter base chain on HOOK for its family, in priority order, as
 * the kernel does: it passes only if every base chain accepts it. Fills OUT.
 */
void pst_fw_evaluate(const struct pst_fw_ruleset *rs, enum pst_fw_hook hook,
                     const struct pst_fw_packet *packet, struct pst_fw_outcome *out);

/*
 * A port of protocol PROTO (6, 17) that stands for the ports no rule singles out: one in the
 * largest stretch of ports that every port test of RS treats alike.
 */
long pst_fw_witness_port(const struct pst_fw_ruleset *rs, unsigned proto);

/* Whether the interface pattern NAME ("eth0", "eth+", "eth*") matches "lo" / every interface. */
void pst_fw_iface_pattern(const char *name, size_t len, bool *lo, bool *every);

/* Parses "tcp/22" or "udp/161" into *proto (6/17) and *port. 0 or PST_EINVAL. */
int pst_fw_port_parse(const char *text, unsigned *proto, long *port);

/* Shared by the readers: protocol and port by name or number, an address prefix. 0 or error. */
int pst_fw_proto_number(const char *s, uint32_t *v);
int pst_fw_port_number(const char *s, uint32_t *v);
int pst_fw_parse_prefix(const char *text, int family, struct pst_fw_cond *c);

#endif
