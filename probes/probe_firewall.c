/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Probe "firewall": the effective default verdicts of the input and forward hooks for IPv4 and
 * IPv6, as the kernel combines every base chain on a hook, from the kernel's ruleset (nftables
 * over netlink, iptables-legacy) or, for an offline root, from the persisted configuration.
 */
#include "probes/probe.h"

#include "agent/error.h"
#include "probes/exec.h"
#include "probes/firewall.h"
#include "probes/firewall_netlink.h"
#include "probes/text.h"

#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FILE_LIMIT (16u * 1024u * 1024u)
#define SAVE_LIMIT (64u * 1024u * 1024u)
#define SAVE_TIMEOUT_MS 10000
#define PORTS_MAX 64
#define INCLUDES_MAX 256

static const char *const protocol_choices[] = {"tcp", "udp", NULL};

static const struct pst_probe_arg firewall_args[] = {
    {.name = "port",
     .type = PST_TYPE_INT,
     .description = "a port to ask about (port_open_ipv4/ipv6); null asks nothing"},
    {.name = "protocol",
     .type = PST_TYPE_STRING,
     .default_value = "tcp",
     .choices = protocol_choices,
     .description = "the protocol of port: tcp or udp"},
    {.name = "ports",
     .type = PST_TYPE_LIST,
     .default_value = "tcp/22",
     .description = "ports (tcp/N, udp/N) that open_ports_ipv4/ipv6 report when open to all"},
};

#define FAMILY_FIELDS(f)                                                                           \
    {"filtering_" f, PST_TYPE_BOOL,                                                                \
     "the input hook drops some new " f " connections for sure: of another protocol, to a TCP "    \
     "or UDP port no rule singles out, or to one of the ports asked about"},                       \
        {"input_default_" f, PST_TYPE_STRING,                                                      \
         "what the input hook does with a new " f " packet no specific rule targets: accept or "   \
         "drop (every base chain on the hook must accept it)"},                                    \
        {"input_decided_by_" f, PST_TYPE_LIST,                                                     \
         "the base chains that decided input_default_" f ", with the rule or policy"},             \
        {"forward_default_" f, PST_TYPE_STRING, "the same for the forward hook"},                  \
        {"forward_decided_by_" f, PST_TYPE_LIST, "the chains that decided forward_default_" f},    \
        {"loopback_accepted_" f, PST_TYPE_BOOL, "new connections on the lo interface pass input"}, \
        {"spoofed_loopback_dropped_" f, PST_TYPE_BOOL,                                             \
         "packets from a loopback source address arriving on another interface are dropped"},      \
        {"established_accepted_" f, PST_TYPE_BOOL,                                                 \
         "packets of established and related connections pass input"},                             \
        {"open_ports_" f, PST_TYPE_LIST,                                                           \
         "those of the ports argument where a new connection from any source passes input"},       \
    {                                                                                              \
        "port_open_" f, PST_TYPE_BOOL,                                                             \
            "a new connection from any source to the port argument passes input; null "            \
            "without one"                                                                          \
    }

static const struct pst_probe_field firewall_fields[] = {
    {"frontend", PST_TYPE_STRING,
     "the front end that loads the firewall at boot: nftables, ufw, firewalld, "
     "iptables-persistent, none, or multiple"},
    {"frontends", PST_TYPE_LIST, "every front end installed and enabled"},
    {"sources", PST_TYPE_LIST,
     "where the ruleset was read: the kernel (nftables netlink, iptables-legacy-save) or files"},
    {"base_chains", PST_TYPE_LIST,
     "filter base chains on input and forward: family table chain, hook, priority, policy"},
    FAMILY_FIELDS("ipv4"),
    FAMILY_FIELDS("ipv6"),
};

/* The front ends: package, unit, and for ufw the file that turns it on. */
static const struct frontend {
    const char *name;
    const char *package;
    const char *unit;
} frontends[] = {
    {"nftables", "nftables", "nftables.service"},
    {"ufw", "ufw", "ufw.service"},
    {"firewalld", "firewalld", "firewalld.service"},
    {"iptables-persistent", "iptables-persistent", "netfilter-persistent.service"},
};

struct collect {
    struct pst_probe_ctx *ctx;
    struct pst_facts *out;
    struct pst_fw_ruleset *rs;
    json_t *sources;
    bool enabled[PST_COUNT(frontends)];
    int includes;
};

static bool probe_bool(struct pst_probe_ctx *ctx, const char *probe, const char *arg,
                       const char *value, const char *field)
{
    const struct pst_call *result = NULL;
    json_t *args = json_pack("{s:s}", arg, value);
    bool on = false;

    if (args != NULL && pst_probe_call(ctx, pst_probe_find(probe), args, &result) == PST_OK) {
        on = json_is_true(pst_call_value(result, field));
    }
    json_decref(args);
    return on;
}

/* A KEY=value line of a shell-style file (ufw.conf, /etc/default/ufw); *value owned. */
static int shell_value(struct collect *c, const char *path, const char *key, char **value,
                       long *line_of)
{
    char *buf = NULL, *cursor, *line;
    size_t len;
    long lineno = 0;
    int rc = pst_fs_read(c->ctx->fs, path, FILE_LIMIT, true, &buf, &len);

    *value = NULL;
    if (rc != PST_OK) {
        return rc;
    }
    cursor = buf;
    while ((line = pst_text_next_line(&cursor, &lineno)) != NULL) {
        line = pst_text_skip_blanks(line);
        if (strncmp(line, key, strlen(key)) == 0 && line[strlen(key)] == '=') {
            char *v = line + strlen(key) + 1;
            pst_text_rstrip(v);
            pst_text_unquote(v);
            free(*value);
            *value = strdup(v);
            *line_of = lineno;
            if (*value == NULL) {
                rc = PST_ENOMEM;
                break;
            }
        }
    }
    free(buf);
    return rc;
}

static int detect_frontends(struct collect *c)
{
    json_t *list = json_array();
    const char *chosen = "none";
    size_t n = 0;
    int rc = PST_OK;

    if (list == NULL) {
        return PST_ENOMEM;
    }
    for (size_t i = 0; i < PST_COUNT(frontends); i++) {
        const struct frontend *f = &frontends[i];
        bool on = probe_bool(c->ctx, "package", "name", f->package, "installed") &&
                  probe_bool(c->ctx, "systemd", "unit", f->unit, "enabled");
        if (on && strcmp(f->name, "ufw") == 0) {
            /* ufw.service runs at boot either way; ENABLED=yes makes it load the rules */
            char *v = NULL;
            long line = 0;
            rc = shell_value(c, "/etc/ufw/ufw.conf", "ENABLED", &v, &line);
            on = rc == PST_OK && v != NULL && strcasecmp(v, "yes") == 0;
            free(v);
            if (rc == PST_ENOMEM) {
                break;
            }
            rc = PST_OK;
        }
        c->enabled[i] = on;
        if (on) {
            chosen = n++ == 0 ? f->name : "multiple";
            if (json_array_append_new(list, json_string(f->name)) != 0) {
                rc = PST_ENOMEM;
                break;
            }
        }
    }
    if (rc == PST_OK && (pst_facts_set(c->out, "frontend", json_string(chosen),
                                       "installed packages and enabled units") != PST_OK ||
                         pst_facts_set(c->out, "frontends", json_incref(list),
                                       "installed packages and enabled units") != PST_OK)) {
        rc = PST_ENOMEM;
    }
    json_decref(list);
    return rc;
}

static int add_source(struct collect *c, const char *what)
{
    return json_array_append_new(c->sources, pst_json_text(what)) == 0 ? PST_OK : PST_ENOMEM;
}

/* ---- live ------------------------------------------------------------------------------ */

/* iptables-legacy's filter tables, when the legacy modules hold one in this namespace. */
static int read_legacy(struct collect *c, int family, char *why, size_t n)
{
    const char *names = family == 4 ? "/proc/net/ip_tables_names" : "/proc/net/ip6_tables_names";
    const char *save =
        family == 4 ? "/usr/sbin/iptables-legacy-save" : "/usr/sbin/ip6tables-legacy-save";
    const char *argv[] = {save, "-t", "filter", NULL};
    char *buf = NULL, *sout = NULL, *serr = NULL;
    size_t len;
    int status = 0;
    int rc = pst_fs_read(c->ctx->fs, names, 65536, true, &buf, &len);

    if (rc != PST_OK) {
        /* no legacy module loaded: no legacy table can hold a rule */
        free(buf);
        return rc == PST_ENOMEM ? rc : PST_OK;
    }
    bool filter = false;
    for (char *cur = buf, *line; (line = strsep(&cur, "\n")) != NULL;) {
        filter = filter || strcmp(line, "filter") == 0;
    }
    free(buf);
    if (!filter) {
        return PST_OK;
    }
    rc = pst_exec_capture(argv, SAVE_TIMEOUT_MS, SAVE_LIMIT, &sout, &serr, &status, why, n);
    if (rc == PST_OK && status != 0) {
        snprintf(why, n, "%s exited with %d: %.200s", save, status, serr ? serr : "");
        rc = PST_EIO;
    } else if (rc == PST_OK) {
        rc = pst_fw_parse_iptables(c->rs, family, sout, save, "filter-legacy");
        if (rc == PST_OK) {
            rc = add_source(c, save);
        } else if (rc != PST_ENOMEM) {
            snprintf(why, n, "%s", c->rs->error);
        }
    } else if (rc == PST_EIO && why[0] != '\0') {
        char reason[256];
        snprintf(reason, sizeof(reason), "%s", why);
        snprintf(why, n, "iptables-legacy tables are loaded but %s", reason);
    }
    free(sout);
    free(serr);
    return rc;
}

static int collect_live(struct collect *c, char *why, size_t n)
{
    int rc = pst_fw_read_kernel(c->rs, why, n);

    if (rc == PST_OK) {
        rc = add_source(c, "kernel: nftables ruleset over netlink");
    }
    if (rc == PST_OK) {
        rc = read_legacy(c, 4, why, n);
    }
    if (rc == PST_OK) {
        rc = read_legacy(c, 6, why, n);
    }
    return rc;
}

/* ---- offline ---------------------------------------------------------------------------- */

static int read_file(struct collect *c, const char *path, char **buf, char *why, size_t n)
{
    size_t len;
    int rc = pst_fs_read(c->ctx->fs, path, FILE_LIMIT, true, buf, &len);

    if (rc != PST_OK && rc != PST_ENOMEM) {
        snprintf(why, n, "%s: %s", path, pst_strerror(rc));
    }
    return rc;
}

static int nft_file(struct collect *c, const char *path, int depth, const void *scope, char *why,
                    size_t n);

/* The reason a reader of PATH stopped with RC: its own message, or the bound it hit. */
static void too_big(struct collect *c, int rc, const char *path, char *why, size_t n)
{
    if (rc == PST_OK || rc == PST_ENOMEM) {
        return;
    }
    if (c->rs->error[0] != '\0') {
        snprintf(why, n, "%s", c->rs->error);
    } else if (rc == PST_ETOOBIG) {
        snprintf(why, n, "%s: more than %d rules, %d chains or %d matches in a rule", path,
                 PST_FW_RULES_MAX, PST_FW_CHAINS_MAX, PST_FW_CONDS_MAX);
    } else {
        snprintf(why, n, "%s: %s", path, pst_strerror(rc));
    }
}

struct include_state {
    struct collect *c;
    char *why;
    size_t n;
};

/* nft's include: absolute, or under /etc (its default include path); '*' in the last part. */
static int nft_include(void *state, const char *path, int depth, const void *scope)
{
    struct include_state *s = state;
    char full[PATH_MAX];
    const char *slash;
    json_t *names = NULL;
    size_t i;
    json_t *name;
    int rc;

    if (++s->c->includes > INCLUDES_MAX) {
        snprintf(s->c->rs->error, sizeof(s->c->rs->error), "more than %d included files",
                 INCLUDES_MAX);
        return PST_EPARSE;
    }
    snprintf(full, sizeof(full), "%s%s", path[0] == '/' ? "" : "/etc/", path);
    slash = strrchr(full, '/');
    if (strpbrk(full, "*?[") == NULL) {
        return nft_file(s->c, full, depth, scope, s->why, s->n);
    }
    if (strpbrk(full, "*?[") < slash) {
        snprintf(s->c->rs->error, sizeof(s->c->rs->error),
                 "include \"%s\": a wildcard in a directory name is not read", path);
        return PST_EPARSE;
    }
    {
        char dir[PATH_MAX];
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - full), full);
        rc = pst_fs_list(s->c->ctx->fs, dir[0] ? dir : "/", &names);
        if (rc == PST_ENOENT) {
            return PST_OK; /* nft: a wildcard that matches nothing is no error */
        }
        if (rc != PST_OK) {
            snprintf(s->c->rs->error, sizeof(s->c->rs->error), "%.400s: %s", dir, pst_strerror(rc));
            return rc == PST_ENOMEM ? rc : PST_EPARSE;
        }
        json_array_foreach(names, i, name)
        {
            char file[PATH_MAX + 256];
            if (fnmatch(slash + 1, json_string_value(name), FNM_PERIOD) != 0) {
                continue;
            }
            snprintf(file, sizeof(file), "%s/%s", dir, json_string_value(name));
            rc = nft_file(s->c, file, depth, scope, s->why, s->n);
            if (rc != PST_OK) {
                break;
            }
        }
        json_decref(names);
    }
    return rc;
}

static int nft_file(struct collect *c, const char *path, int depth, const void *scope, char *why,
                    size_t n)
{
    struct include_state s = {c, why, n};
    char *buf = NULL;
    int rc = read_file(c, path, &buf, why, n);

    if (rc == PST_OK) {
        rc = add_source(c, path);
    }
    if (rc == PST_OK) {
        rc = pst_fw_parse_nft(c->rs, buf, path, nft_include, &s, depth, scope);
        if (why[0] == '\0') {
            too_big(c, rc, path, why, n);
        }
    }
    free(buf);
    return rc;
}

static int ipt_file(struct collect *c, const char *path, int family, bool optional, char *why,
                    size_t n)
{
    char *buf = NULL;
    int rc = read_file(c, path, &buf, why, n);

    if (rc == PST_ENOENT && optional) {
        why[0] = '\0';
        return PST_OK;
    }
    if (rc == PST_OK) {
        rc = add_source(c, path);
    }
    if (rc == PST_OK) {
        rc = pst_fw_parse_iptables(c->rs, family, buf, path, NULL);
        too_big(c, rc, path, why, n);
    }
    free(buf);
    return rc;
}

/* Text in iptables-restore form that ufw-init pipes itself, parsed like the files. */
static int ufw_text(struct collect *c, int family, const char *text, char *why, size_t n)
{
    char *copy = strdup(text);
    int rc;

    if (copy == NULL) {
        return PST_ENOMEM;
    }
    rc = pst_fw_parse_iptables(c->rs, family, copy, "ufw-init", NULL);
    if (rc != PST_OK && rc != PST_ENOMEM) {
        snprintf(why, n, "%s", c->rs->error);
    }
    free(copy);
    return rc;
}

/* A ufw policy (ACCEPT, DROP, REJECT) from /etc/default/ufw, checked. *policy owned. */
static int ufw_policy(struct collect *c, const char *key, char **policy, long *line, char *why,
                      size_t n)
{
    int rc = shell_value(c, "/etc/default/ufw", key, policy, line);

    if (rc == PST_ENOMEM) {
        return rc;
    }
    if (rc != PST_OK || *policy == NULL ||
        (strcmp(*policy, "ACCEPT") != 0 && strcmp(*policy, "DROP") != 0 &&
         strcmp(*policy, "REJECT") != 0)) {
        snprintf(why, n, "/etc/default/ufw: %s %s", key,
                 rc != PST_OK      ? pst_strerror(rc)
                 : *policy == NULL ? "is not set"
                                   : "is not ACCEPT, DROP or REJECT");
        free(*policy);
        *policy = NULL;
        return PST_EPARSE;
    }
    return PST_OK;
}

/*
 * ufw at boot: what ufw_start() of /lib/ufw/ufw-init-functions (ufw 0.36) loads for one
 * family, in its order: the primary chains and their jumps from INPUT and FORWARD, the
 * skip-to-policy chains, before.rules, after.rules, user.rules, the jumps to the user chains,
 * and last the default policies of /etc/default/ufw.
 */
static int ufw_family(struct collect *c, int family, char *why, size_t n)
{
    static const char *const files4[] = {"/etc/ufw/before.rules", "/etc/ufw/after.rules",
                                         "/etc/ufw/user.rules"};
    static const char *const files6[] = {"/etc/ufw/before6.rules", "/etc/ufw/after6.rules",
                                         "/etc/ufw/user6.rules"};
    static const char *const kinds[] = {"before-logging", "before", "after",
                                        "after-logging",  "reject", "track"};
    const char *const *files = family == 4 ? files4 : files6;
    const char *t = family == 4 ? "ufw" : "ufw6";
    char *in = NULL, *fwd = NULL;
    long in_line = 0, fwd_line = 0;
    char text[8192];
    size_t k = 0;
    int rc;

    rc = ufw_policy(c, "DEFAULT_INPUT_POLICY", &in, &in_line, why, n);
    if (rc == PST_OK) {
        rc = ufw_policy(c, "DEFAULT_FORWARD_POLICY", &fwd, &fwd_line, why, n);
    }
    if (rc != PST_OK) {
        goto out;
    }
    k += (size_t)snprintf(text + k, sizeof(text) - k, "*filter\n");
    for (size_t i = 0; i < PST_COUNT(kinds); i++) {
        k += (size_t)snprintf(text + k, sizeof(text) - k,
                              ":%s-%s-input - [0:0]\n"
                              ":%s-%s-forward - [0:0]\n",
                              t, kinds[i], t, kinds[i]);
    }
    for (size_t i = 0; i < PST_COUNT(kinds); i++) {
        k += (size_t)snprintf(text + k, sizeof(text) - k,
                              "-A INPUT -j %s-%s-input\n-A FORWARD -j %s-%s-forward\n", t, kinds[i],
                              t, kinds[i]);
    }
    if (strcmp(in, "REJECT") == 0) {
        k += (size_t)snprintf(text + k, sizeof(text) - k, "-A %s-reject-input -j REJECT\n", t);
    }
    if (strcmp(fwd, "REJECT") == 0) {
        k += (size_t)snprintf(text + k, sizeof(text) - k, "-A %s-reject-forward -j REJECT\n", t);
    }
    if (strcmp(in, "ACCEPT") == 0) {
        k += (size_t)snprintf(text + k, sizeof(text) - k,
                              "-A %s-track-input -p tcp -m conntrack --ctstate NEW -j ACCEPT\n"
                              "-A %s-track-input -p udp -m conntrack --ctstate NEW -j ACCEPT\n",
                              t, t);
    }
    if (strcmp(fwd, "ACCEPT") == 0) {
        k += (size_t)snprintf(text + k, sizeof(text) - k,
                              "-A %s-track-forward -p tcp -m conntrack --ctstate NEW -j ACCEPT\n"
                              "-A %s-track-forward -p udp -m conntrack --ctstate NEW -j ACCEPT\n",
                              t, t);
    }
    k += (size_t)snprintf(text + k, sizeof(text) - k,
                          ":%s-logging-deny - [0:0]\n:%s-logging-allow - [0:0]\n"
                          ":%s-skip-to-policy-input - [0:0]\n"
                          ":%s-skip-to-policy-forward - [0:0]\n"
                          "-A %s-skip-to-policy-input -j %s\n"
                          "-A %s-skip-to-policy-forward -j %s\n"
                          ":%s-user-input - [0:0]\n:%s-user-forward - [0:0]\n"
                          ":%s-user-logging-input - [0:0]\n:%s-user-logging-forward - [0:0]\n"
                          ":%s-user-limit - [0:0]\n:%s-user-limit-accept - [0:0]\nCOMMIT\n",
                          t, t, t, t, t, in, t, fwd, t, t, t, t, t, t);
    rc = k < sizeof(text) ? ufw_text(c, family, text, why, n) : PST_ETOOBIG;
    for (size_t i = 0; i < PST_COUNT(files4) && rc == PST_OK; i++) {
        rc = ipt_file(c, files[i], family, false, why, n);
    }
    if (rc == PST_OK) {
        snprintf(text, sizeof(text),
                 "*filter\n-A %s-before-input -j %s-user-input\n"
                 "-A %s-before-forward -j %s-user-forward\n"
                 ":INPUT %s [0:0]\n:FORWARD %s [0:0]\nCOMMIT\n",
                 t, t, t, t, strcmp(in, "ACCEPT") == 0 ? "ACCEPT" : "DROP",
                 strcmp(fwd, "ACCEPT") == 0 ? "ACCEPT" : "DROP");
        rc = ufw_text(c, family, text, why, n);
    }
    if (rc == PST_OK) {
        /* the policies' evidence: the line of /etc/default/ufw that set them */
        const char *fam = family == 4 ? "ip" : "ip6";
        struct pst_fw_chain *ch = pst_fw_chain_get(c->rs, fam, "filter", "INPUT", false);
        char where[64];
        for (int h = 0; h < 2 && ch != NULL; h++) {
            snprintf(where, sizeof(where), "/etc/default/ufw:%ld", h == 0 ? in_line : fwd_line);
            free(ch->source);
            ch->source = strdup(where);
            ch = h == 0 ? pst_fw_chain_get(c->rs, fam, "filter", "FORWARD", false) : NULL;
        }
    }
out:
    free(in);
    free(fwd);
    return rc;
}

static int collect_offline(struct collect *c, char *why, size_t n)
{
    int rc = PST_OK;

    for (size_t i = 0; i < PST_COUNT(frontends) && rc == PST_OK; i++) {
        if (!c->enabled[i]) {
            continue;
        }
        switch (i) {
        case 0:
            rc = nft_file(c, "/etc/nftables.conf", 0, NULL, why, n);
            break;
        case 1: {
            char *ipv6 = NULL;
            long line = 0;
            rc = ufw_family(c, 4, why, n);
            if (rc == PST_OK) {
                rc = shell_value(c, "/etc/default/ufw", "IPV6", &ipv6, &line);
            }
            if (rc == PST_OK && ipv6 != NULL && strcasecmp(ipv6, "yes") == 0) {
                rc = ufw_family(c, 6, why, n);
            } else if (rc == PST_OK) {
                /* IPV6=no: ufw-init closes IPv6 but for loopback */
                rc = ufw_text(c, 6,
                              "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n"
                              "-A INPUT -i lo -j ACCEPT\nCOMMIT\n",
                              why, n);
            }
            free(ipv6);
            break;
        }
        case 2:
            snprintf(why, n, "firewalld's zones (/etc/firewalld) are not read for an offline root");
            rc = PST_ENOTSUP;
            break;
        default:
            rc = ipt_file(c, "/etc/iptables/rules.v4", 4, true, why, n);
            if (rc == PST_OK) {
                rc = ipt_file(c, "/etc/iptables/rules.v6", 6, true, why, n);
            }
            break;
        }
    }
    if (rc == PST_OK && json_array_size(c->sources) == 0) {
        rc = add_source(c, "no firewall front end is enabled: nothing is loaded at boot");
    }
    return rc;
}

/* ---- facts ----------------------------------------------------------------------------- */

static int set_outcome(struct collect *c, const char *field, const char *decided_field,
                       const struct pst_fw_outcome *o, const char *source)
{
    json_t *list = json_array();
    int rc;

    if (list == NULL) {
        return PST_ENOMEM;
    }
    for (size_t i = 0; i < o->n_decided; i++) {
        json_array_append_new(list, pst_json_text(o->decided_by[i]));
    }
    if (!o->any_chain) {
        json_array_append_new(list, json_string("no base chain on the hook: the kernel accepts"));
    }
    rc = pst_facts_set(c->out, field, json_string(o->accepted ? "accept" : "drop"), source);
    if (rc == PST_OK) {
        rc = pst_facts_set(c->out, decided_field, list, source);
    } else {
        json_decref(list);
    }
    return rc;
}

/*
 * Sets FIELD to VALUE (stolen), or, when the outcome O that gave it is not known because of a
 * rule that tests the destination address, to null with an error saying so.
 */
static int set_known(struct collect *c, const char *field, json_t *value,
                     const struct pst_fw_outcome *o, const char *source)
{
    if (o != NULL && o->undecided[0] != '\0') {
        json_decref(value);
        pst_facts_error(c->out, source, "%s: not known: %s", field, o->undecided);
        return pst_facts_set(c->out, field, json_null(), source);
    }
    return pst_facts_set(c->out, field, value, source);
}

/* The packets that stand for "any new connection": another protocol, and TCP and UDP to a
 * port no rule singles out (witness ports, so that `tcp dport != 23 accept` counts). */
struct witnesses {
    struct pst_fw_packet p[3];
};

static void witnesses_make(const struct collect *c, const struct pst_fw_packet *base,
                           struct witnesses *w)
{
    for (size_t i = 0; i < 3; i++) {
        w->p[i] = *base;
    }
    w->p[1].l4proto = 6;
    w->p[1].dport = pst_fw_witness_port(c->rs, 6);
    w->p[2].l4proto = 17;
    w->p[2].dport = pst_fw_witness_port(c->rs, 17);
}

/*
 * The outcome of HOOK for every packet of W: accepted when one of them is (with that one's
 * evidence), undecided when one of them is.
 */
static void ask_all(const struct collect *c, enum pst_fw_hook hook, const struct witnesses *w,
                    struct pst_fw_outcome *out, bool *any_dropped)
{
    struct pst_fw_outcome o;
    char undecided[sizeof(o.undecided)] = "";
    bool have = false;

    *any_dropped = false;
    for (size_t i = 0; i < 3; i++) {
        pst_fw_evaluate(c->rs, hook, &w->p[i], &o);
        if (undecided[0] == '\0') {
            memcpy(undecided, o.undecided, sizeof(undecided));
        }
        if (!o.accepted && o.undecided[0] == '\0') {
            *any_dropped = true;
        }
        if (!have || (o.accepted && !out->accepted)) {
            *out = o;
            have = true;
        }
    }
    memcpy(out->undecided, undecided, sizeof(undecided));
}

static int family_facts(struct collect *c, int family, const json_t *ports, long port,
                        unsigned proto, const char *source)
{
    const char *f = family == 4 ? "ipv4" : "ipv6";
    struct pst_fw_packet any = {.family = family, .ctstate = PST_FW_CT_NEW, .dport = -1};
    struct pst_fw_packet pkt;
    struct pst_fw_outcome o, o2, in;
    struct witnesses w;
    char field[64], decided[64];
    json_t *open;
    size_t i;
    const json_t *item;
    bool dropped, filtering = false, undecided_filtering = false, spoof_dropped;
    struct pst_fw_outcome spoof = {0};
    int rc = PST_OK;

    witnesses_make(c, &any, &w);
    for (int hook = 0; hook < 2 && rc == PST_OK; hook++) {
        ask_all(c, hook == 0 ? PST_FW_HOOK_INPUT : PST_FW_HOOK_FORWARD, &w, &o, &dropped);
        if (hook == 0) {
            in = o;
            filtering = dropped;
            undecided_filtering = o.undecided[0] != '\0';
        }
        snprintf(field, sizeof(field), "%s_default_%s", hook == 0 ? "input" : "forward", f);
        snprintf(decided, sizeof(decided), "%s_decided_by_%s", hook == 0 ? "input" : "forward", f);
        if (o.undecided[0] != '\0') {
            rc = set_known(c, field, json_null(), &o, source);
        } else {
            rc = set_outcome(c, field, decided, &o, source);
        }
    }
    if (rc != PST_OK) {
        return rc;
    }
    pkt = any;
    pkt.lo = true;
    pkt.saddr_loopback = true;
    pst_fw_evaluate(c->rs, PST_FW_HOOK_INPUT, &pkt, &o);
    snprintf(field, sizeof(field), "loopback_accepted_%s", f);
    rc = set_known(c, field, json_boolean(o.accepted), &o, source);

    /* a loopback source from outside: dropped only if dropped whatever it is sent to */
    pkt = any;
    pkt.saddr_loopback = true;
    {
        struct witnesses sw;
        bool one_dropped;
        witnesses_make(c, &pkt, &sw);
        ask_all(c, PST_FW_HOOK_INPUT, &sw, &spoof, &one_dropped);
        spoof_dropped = !spoof.accepted;
    }

    pkt = any;
    pkt.ctstate = PST_FW_CT_ESTABLISHED;
    pst_fw_evaluate(c->rs, PST_FW_HOOK_INPUT, &pkt, &o);
    pkt.ctstate = PST_FW_CT_RELATED;
    pst_fw_evaluate(c->rs, PST_FW_HOOK_INPUT, &pkt, &o2);
    snprintf(field, sizeof(field), "established_accepted_%s", f);
    if (rc == PST_OK) {
        rc = set_known(c, field, json_boolean(o.accepted && o2.accepted), o.undecided[0] ? &o : &o2,
                       source);
    }

    open = json_array();
    if (open == NULL) {
        return PST_ENOMEM;
    }
    o2 = (struct pst_fw_outcome){0};
    json_array_foreach(ports, i, item)
    {
        struct pst_fw_outcome so;
        pkt = any;
        if (pst_fw_port_parse(json_string_value(item), &pkt.l4proto, &pkt.dport) != PST_OK) {
            continue; /* reported once by the caller */
        }
        pst_fw_evaluate(c->rs, PST_FW_HOOK_INPUT, &pkt, &o);
        if (o.accepted) {
            json_array_append_new(open, json_string(json_string_value(item)));
        }
        if (o.undecided[0] != '\0' && o2.undecided[0] == '\0') {
            o2 = o; /* the first port whose answer is not known */
        }
        if (!o.accepted && o.undecided[0] == '\0') {
            filtering = true;
        }
        pkt.saddr_loopback = true;
        pst_fw_evaluate(c->rs, PST_FW_HOOK_INPUT, &pkt, &so);
        spoof_dropped = spoof_dropped && !so.accepted;
        if (so.undecided[0] != '\0' && spoof.undecided[0] == '\0') {
            memcpy(spoof.undecided, so.undecided, sizeof(so.undecided));
        }
    }
    snprintf(field, sizeof(field), "open_ports_%s", f);
    if (rc == PST_OK) {
        rc = set_known(c, field, open, &o2, source);
    } else {
        json_decref(open);
    }
    if (port >= 0) {
        pkt = any;
        pkt.l4proto = proto;
        pkt.dport = port;
        pst_fw_evaluate(c->rs, PST_FW_HOOK_INPUT, &pkt, &o);
        snprintf(field, sizeof(field), "port_open_%s", f);
        if (rc == PST_OK) {
            rc = set_known(c, field, json_boolean(o.accepted), &o, source);
        }
        if (!o.accepted && o.undecided[0] == '\0') {
            filtering = true;
        }
        pkt.saddr_loopback = true;
        pst_fw_evaluate(c->rs, PST_FW_HOOK_INPUT, &pkt, &o2);
        spoof_dropped = spoof_dropped && !o2.accepted;
        if (o2.undecided[0] != '\0' && spoof.undecided[0] == '\0') {
            memcpy(spoof.undecided, o2.undecided, sizeof(o2.undecided));
        }
    } else if (rc == PST_OK) {
        snprintf(field, sizeof(field), "port_open_%s", f);
        rc = pst_facts_set(c->out, field, json_null(), source);
    }
    snprintf(field, sizeof(field), "spoofed_loopback_dropped_%s", f);
    if (rc == PST_OK) {
        rc = set_known(c, field, json_boolean(spoof_dropped), &spoof, source);
    }
    /* filtering: some input traffic of the family is dropped for sure, by the hook's default
     * or for one of the ports asked about; drops elsewhere (forward, unused chains) do not
     * count */
    snprintf(field, sizeof(field), "filtering_%s", f);
    if (rc == PST_OK) {
        rc = set_known(c, field, json_boolean(filtering),
                       filtering || !undecided_filtering ? NULL : &in, source);
    }
    return rc;
}

static int chains_fact(struct collect *c, const char *source)
{
    json_t *list = json_array();

    if (list == NULL) {
        return PST_ENOMEM;
    }
    for (size_t i = 0; i < c->rs->n_chains; i++) {
        const struct pst_fw_chain *ch = &c->rs->chains[i];
        char text[600];
        if (!ch->filter || (ch->hook != PST_FW_HOOK_INPUT && ch->hook != PST_FW_HOOK_FORWARD)) {
            continue;
        }
        snprintf(text, sizeof(text), "%s %s %s: hook %s priority %d policy %s (%zu rules)",
                 ch->family, ch->table, ch->name,
                 ch->hook == PST_FW_HOOK_INPUT ? "input" : "forward", ch->priority,
                 ch->policy == PST_FW_DROP ? "drop" : "accept", ch->n_rules);
        json_array_append_new(list, pst_json_text(text));
    }
    return pst_facts_set(c->out, "base_chains", list, source);
}

/*
 * The ruleset as a scan reads it once for every call (the calls differ only in the ports
 * they ask about), so that they answer from one snapshot: each kernel read is a confirmed
 * double read (firewall_netlink.c), not worth repeating.
 */
struct pst_fw_scan {
    struct pst_fw_ruleset *rs;
    json_t *sources;
    int rc; /* PST_OK, or why the ruleset is unknown (WHY says how) */
    char why[1024];
};

void pst_fw_scan_free(struct pst_fw_scan *scan)
{
    if (scan == NULL) {
        return;
    }
    pst_fw_ruleset_free(scan->rs);
    json_decref(scan->sources);
    free(scan);
}

/* Reads the ruleset C's front ends load into *OUT. PST_OK, or PST_ENOMEM (nothing kept). */
static int read_ruleset(struct collect *c, struct pst_fw_scan **out)
{
    struct pst_fw_scan *scan = calloc(1, sizeof(*scan));

    if (scan == NULL || (scan->rs = pst_fw_ruleset_new()) == NULL ||
        (scan->sources = json_array()) == NULL) {
        pst_fw_scan_free(scan);
        return PST_ENOMEM;
    }
    c->rs = scan->rs;
    c->sources = scan->sources;
    scan->rc = pst_fs_is_live(c->ctx->fs) ? collect_live(c, scan->why, sizeof(scan->why))
                                          : collect_offline(c, scan->why, sizeof(scan->why));
    if (scan->rc == PST_ENOMEM) {
        pst_fw_scan_free(scan);
        return PST_ENOMEM;
    }
    *out = scan;
    return PST_OK;
}

static int firewall_collect(struct pst_probe_ctx *ctx, const json_t *args, struct pst_facts *out)
{
    struct collect c = {.ctx = ctx, .out = out};
    const json_t *ports = json_object_get(args, "ports");
    const json_t *port_arg = json_object_get(args, "port");
    const char *protocol = json_string_value(json_object_get(args, "protocol"));
    long port = json_is_integer(port_arg) ? (long)json_integer_value(port_arg) : -1;
    char source[128];
    size_t i;
    const json_t *item;
    int rc;

    if (port_arg != NULL && !json_is_null(port_arg) && (port < 1 || port > 65535)) {
        pst_facts_error(out, NULL, "port %ld is not between 1 and 65535", port);
        return PST_OK;
    }
    if (json_array_size(ports) > PORTS_MAX) {
        pst_facts_error(out, NULL, "more than %d ports asked about", PORTS_MAX);
        return PST_OK;
    }
    json_array_foreach(ports, i, item)
    {
        unsigned pr;
        long pt;
        if (pst_fw_port_parse(json_string_value(item), &pr, &pt) != PST_OK) {
            pst_facts_error(out, NULL, "'%s' is not tcp/PORT or udp/PORT", json_string_value(item));
            return PST_OK;
        }
    }
    rc = detect_frontends(&c);
    if (rc != PST_OK) {
        return rc;
    }
    if (ctx->firewall == NULL) {
        rc = read_ruleset(&c, &ctx->firewall);
        if (rc != PST_OK) {
            return rc;
        }
    }
    c.rs = ctx->firewall->rs;
    c.sources = ctx->firewall->sources;
    if (ctx->firewall->rc != PST_OK) {
        /* the ruleset is unknown: no verdict is better than a wrong one */
        const char *why = ctx->firewall->why;
        pst_facts_error(out, NULL, "%s", why[0] ? why : pst_strerror(ctx->firewall->rc));
        return PST_OK;
    }
    snprintf(source, sizeof(source), "%s",
             json_array_size(c.sources) == 1 ? json_string_value(json_array_get(c.sources, 0))
             : pst_fs_is_live(ctx->fs)       ? "kernel"
                                             : "persisted configuration");
    rc = pst_facts_set(out, "sources", json_incref(c.sources), source);
    if (rc == PST_OK) {
        rc = chains_fact(&c, source);
    }
    if (rc == PST_OK) {
        rc = family_facts(&c, 4, ports, port, strcmp(protocol, "udp") == 0 ? 17 : 6, source);
    }
    if (rc == PST_OK) {
        rc = family_facts(&c, 6, ports, port, strcmp(protocol, "udp") == 0 ? 17 : 6, source);
    }
    return rc;
}

const struct pst_probe pst_probe_firewall = {
    .name = "firewall",
    .summary = "default verdicts of the input and forward hooks for IPv4 and IPv6, as the kernel "
               "combines every base chain, from the live ruleset or the persisted one",
    .args = firewall_args,
    .n_args = PST_COUNT(firewall_args),
    .fields = firewall_fields,
    .n_fields = PST_COUNT(firewall_fields),
    .collect = firewall_collect,
};
