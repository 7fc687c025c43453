/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Probe "sockets": listening TCP and UDP sockets from the kernel's sock_diag netlink interface
 * (probes/sockdiag.c) or /proc/net/{tcp,tcp6,udp,udp6}, their local address and port and,
 * where /proc/PID/fd shows it, the owning process; which listen beyond loopback.
 */
#include "probes/probe.h"

#include "agent/error.h"
#include "probes/findings.h"
#include "probes/sockets.h"
#include "probes/text.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TABLE_LIMIT (64u * 1024u * 1024u)
#define COMM_LIMIT 256
/* bounds of the walk of /proc/PID/fd: processes, and descriptors looked at in all */
#define PROCS_MAX 65536
#define FDS_MAX 1000000
/* listening sockets read per table: a bound far above any real host's */
#define SOCKETS_MAX 65536u

static const char *const source_choices[] = {"auto", "netlink", "proc", NULL};

static const struct pst_probe_arg sockets_args[] = {
    {.name = "source",
     .type = PST_TYPE_STRING,
     .default_value = "auto",
     .choices = source_choices,
     .description = "where the kernel's sockets are read: netlink (sock_diag, as ss asks: only "
                    "listening sockets are walked), proc (/proc/net/tcp, tcp6, udp, udp6), or "
                    "auto: netlink, and /proc/net for a protocol sock_diag cannot answer"},
    {.name = "max_findings",
     .type = PST_TYPE_INT,
     .default_value = "100",
     .description = "sockets kept as evidence per field; the counts count them all"},
};

static const struct pst_probe_field sockets_fields[] = {
    {"listening", PST_TYPE_FINDINGS,
     "listening sockets {protocol, family, address, port, process, pid}"},
    {"listening_count", PST_TYPE_INT, "how many"},
    {"exposed", PST_TYPE_FINDINGS, "those listening on an address other than loopback"},
    {"exposed_count", PST_TYPE_INT, "how many"},
    {"exposed_ports", PST_TYPE_LIST,
     "protocol/port of every socket listening beyond loopback (tcp/22), sorted, once each"},
    {"all_addresses_ports", PST_TYPE_LIST,
     "protocol/port of every socket listening on all addresses (0.0.0.0 or ::)"},
};

static int hexval(int c)
{
    return isdigit(c)               ? c - '0'
           : (c >= 'A' && c <= 'F') ? c - 'A' + 10
           : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                                    : -1;
}

/* N hex digits at S as a number. */
static bool hex(const char *s, size_t n, unsigned long *v)
{
    *v = 0;
    for (size_t i = 0; i < n; i++) {
        int d = hexval((unsigned char)s[i]);
        if (d < 0) {
            return false;
        }
        *v = *v << 4 | (unsigned long)d;
    }
    return true;
}

int pst_sockets_parse_line(const char *line, int family, bool tcp, struct pst_socket *out)
{
    size_t addr_len = family == 4 ? 8 : 32;
    uint8_t addr[16];
    unsigned long v, state, remote_port, inode;
    const char *p = line + strspn(line, " ");
    const char *local, *remote, *st;
    char *end;

    memset(out, 0, sizeof(*out));
    if (strncmp(p, "sl", 2) == 0) {
        return 0;
    }
    p += strspn(p, "0123456789");
    if (*p != ':') {
        return PST_EPARSE;
    }
    local = p + 1 + strspn(p + 1, " ");
    if (strlen(local) < addr_len + 5 || local[addr_len] != ':') {
        return PST_EPARSE;
    }
    remote = local + addr_len + 5;
    if (*remote != ' ') {
        return PST_EPARSE;
    }
    remote += strspn(remote, " ");
    if (strlen(remote) < addr_len + 5 + 3 || remote[addr_len] != ':') {
        return PST_EPARSE;
    }
    st = remote + addr_len + 5;
    if (*st != ' ' || !hex(st + 1, 2, &state)) {
        return PST_EPARSE;
    }
    /* the kernel prints each 32-bit word of the address in host order */
    for (size_t w = 0; w < addr_len / 8; w++) {
        uint32_t word;
        if (!hex(local + 8 * w, 8, &v)) {
            return PST_EPARSE;
        }
        word = (uint32_t)v;
        memcpy(addr + 4 * w, &word, 4);
    }
    if (!hex(local + addr_len + 1, 4, &v) || !hex(remote + addr_len + 1, 4, &remote_port)) {
        return PST_EPARSE;
    }
    out->port = (unsigned)v;
    /* fields after the state: tx:rx tr:when retrnsmt uid timeout inode */
    p = st + 3;
    for (int field = 0; field < 5; field++) {
        p += strspn(p, " ");
        p += strcspn(p, " ");
    }
    p += strspn(p, " ");
    errno = 0;
    inode = strtoul(p, &end, 10);
    if (errno != 0 || end == p) {
        return PST_EPARSE;
    }
    out->inode = inode;
    /* TCP_LISTEN is 0x0A; an unconnected UDP socket stays TCP_CLOSE (0x07) with no peer */
    if (tcp ? state != 0x0A : (state != 0x07 || remote_port != 0)) {
        return 0;
    }
    return pst_sockets_classify(family, addr, out) == PST_OK ? 1 : PST_EPARSE;
}

int pst_sockets_classify(int family, const uint8_t addr[16], struct pst_socket *out)
{
    out->family = family;
    if (inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, out->address, sizeof(out->address)) ==
        NULL) {
        return PST_EPARSE;
    }
    if (family == 4) {
        out->loopback = addr[0] == 127;
        out->any = addr[0] == 0 && addr[1] == 0 && addr[2] == 0 && addr[3] == 0;
    } else {
        static const uint8_t zero[16], one[16] = {[15] = 1},
                                       mapped[12] = {[10] = 0xff, [11] = 0xff};
        out->loopback =
            memcmp(addr, one, 16) == 0 || (memcmp(addr, mapped, 12) == 0 && addr[12] == 127);
        out->any = memcmp(addr, zero, 16) == 0;
    }
    return PST_OK;
}

/* inode -> {pid, process} from /proc/PID/fd, bounded. */
static int owners(struct pst_probe_ctx *ctx, json_t *wanted, struct pst_facts *out)
{
    json_t *pids = NULL;
    size_t i;
    json_t *pid;
    long fds = 0, procs = 0;
    int rc = pst_fs_list(ctx->fs, "/proc", &pids);

    if (rc != PST_OK) {
        pst_facts_error(out, "/proc", "/proc: %s", pst_strerror(rc));
        return rc == PST_ENOMEM ? rc : PST_OK;
    }
    json_array_foreach(pids, i, pid)
    {
        const char *name = json_string_value(pid);
        char dir[64], comm[64];
        DIR *fds_dir;
        struct dirent *e;
        int dfd;
        char *commbuf = NULL;
        size_t len;
        if (strspn(name, "0123456789") != strlen(name) || strlen(name) > 12) {
            continue;
        }
        if (++procs > PROCS_MAX || fds > FDS_MAX) {
            pst_facts_error(out, "/proc",
                            "more than %d processes or %d descriptors: owners not all "
                            "looked up",
                            PROCS_MAX, FDS_MAX);
            break;
        }
        snprintf(dir, sizeof(dir), "/proc/%s/fd", name);
        /*
         * The directory is opened through the root-aware layer once; its entries, numbers
         * the kernel names, are read relative to it: one readlinkat per descriptor.
         */
        if (pst_fs_open(ctx->fs, dir, O_RDONLY | O_DIRECTORY, &dfd) != PST_OK) {
            continue; /* gone, or not ours to read (non-root) */
        }
        fds_dir = fdopendir(dfd);
        if (fds_dir == NULL) {
            close(dfd);
            continue;
        }
        comm[0] = '\0';
        while ((e = readdir(fds_dir)) != NULL) {
            char target[64]; /* "socket:[INODE]"; longer targets are not sockets */
            json_t *entry;
            ssize_t n;
            if (e->d_name[0] == '.') {
                continue;
            }
            if (++fds > FDS_MAX) {
                break;
            }
            n = readlinkat(dirfd(fds_dir), e->d_name, target, sizeof(target) - 1);
            if (n <= 0) {
                continue;
            }
            target[n] = '\0';
            if (strncmp(target, "socket:[", 8) == 0) {
                char key[32];
                snprintf(key, sizeof(key), "%.*s", (int)strcspn(target + 8, "]"), target + 8);
                entry = json_object_get(wanted, key);
                if (entry != NULL && json_object_get(entry, "pid") == NULL) {
                    if (comm[0] == '\0') {
                        char cpath[64];
                        snprintf(cpath, sizeof(cpath), "/proc/%s/comm", name);
                        if (pst_fs_read(ctx->fs, cpath, COMM_LIMIT, true, &commbuf, &len) ==
                            PST_OK) {
                            snprintf(comm, sizeof(comm), "%.*s", (int)strcspn(commbuf, "\n"),
                                     commbuf);
                        }
                        free(commbuf);
                        commbuf = NULL;
                    }
                    json_object_set_new(entry, "pid", json_integer(strtol(name, NULL, 10)));
                    json_object_set_new(entry, "process", pst_json_text(comm));
                }
            }
        }
        closedir(fds_dir);
    }
    json_decref(pids);
    return PST_OK;
}

/*
 * Reads a /proc/net table. The kernel lists TCP's listening sockets before its established
 * hash, whose walk costs the most on a host with many connections or much memory: the TCP
 * tables are read only up to their first socket that does not listen. *buf owned.
 */
static int read_table(struct pst_probe_ctx *ctx, const char *path, int family, bool tcp, char **buf,
                      size_t *len)
{
    char *data = NULL;
    size_t used = 0, cap = 0;
    int fd = -1;
    int rc;

    if (!tcp) {
        return pst_fs_read(ctx->fs, path, TABLE_LIMIT, true, buf, len);
    }
    rc = pst_fs_open(ctx->fs, path, O_RDONLY, &fd);
    if (rc != PST_OK) {
        return rc;
    }
    for (;;) {
        ssize_t n;
        char *last_nl, *prev_nl;
        if (cap - used < 65537) {
            char *grown;
            if (cap >= TABLE_LIMIT) {
                rc = PST_ETOOBIG;
                break;
            }
            cap = cap ? cap * 2 : 131072;
            grown = realloc(data, cap);
            if (grown == NULL) {
                rc = PST_ENOMEM;
                break;
            }
            data = grown;
        }
        n = read(fd, data + used, 65536);
        if (n < 0) {
            rc = pst_from_errno(errno);
            break;
        }
        if (n == 0) {
            break;
        }
        used += (size_t)n;
        data[used] = '\0';
        /* the last complete line: when it is a socket that does not listen, stop */
        last_nl = used > 0 && data[used - 1] == '\n' ? data + used - 1 : strrchr(data, '\n');
        if (last_nl != NULL && last_nl > data) {
            struct pst_socket sock;
            char saved = *last_nl;
            *last_nl = '\0';
            prev_nl = strrchr(data, '\n');
            if (prev_nl != NULL && pst_sockets_parse_line(prev_nl + 1, family, true, &sock) == 0 &&
                strncmp(prev_nl + 1 + strspn(prev_nl + 1, " "), "sl", 2) != 0) {
                /* keep whole lines only: a cut one would read as garbage */
                *last_nl = saved;
                used = (size_t)(last_nl - data) + 1;
                data[used] = '\0';
                break;
            }
            *last_nl = saved;
        }
    }
    close(fd);
    if (rc != PST_OK) {
        free(data);
        return rc;
    }
    if (data == NULL && (data = calloc(1, 1)) == NULL) {
        return PST_ENOMEM;
    }
    *buf = data;
    *len = used;
    return PST_OK;
}

static int cmp_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The unique strings of SET (an object used as a set) as a sorted list, or NULL. */
static json_t *sorted_keys(const json_t *set)
{
    size_t n = 0, total = json_object_size(set);
    const char **keys = calloc(total ? total : 1, sizeof(*keys));
    const char *k;
    json_t *v;
    json_t *list = keys ? json_array() : NULL;

    json_object_foreach((json_t *)set, k, v)
    {
        if (keys != NULL && n < total) {
            keys[n++] = k;
        }
    }
    if (keys != NULL) {
        qsort(keys, n, sizeof(keys[0]), cmp_strings);
    }
    for (size_t i = 0; list != NULL && i < n; i++) {
        if (json_array_append_new(list, json_string(keys[i])) != 0) {
            json_decref(list);
            list = NULL;
        }
    }
    free(keys);
    return list;
}

/* The sockets found so far, in the order the kernel lists them. */
struct found {
    const char *protocol; /* of the table being read: "tcp" or "udp" */
    json_t *by_inode;     /* inode -> socket object */
    json_t *order;        /* socket objects */
    json_t *exposed_set, *any_set;
};

static int add_socket(const struct pst_socket *sock, void *arg)
{
    struct found *f = arg;
    char key[32], port[16];
    json_t *obj = json_object();

    if (json_object_set_new_nocheck(obj, "protocol", json_string(f->protocol)) != 0 ||
        json_object_set_new_nocheck(obj, "family",
                                    json_string(sock->family == 4 ? "ipv4" : "ipv6")) != 0 ||
        json_object_set_new_nocheck(obj, "address", json_string(sock->address)) != 0 ||
        json_object_set_new_nocheck(obj, "port", json_integer(sock->port)) != 0 ||
        json_object_set_new_nocheck(obj, "loopback", json_boolean(sock->loopback)) != 0) {
        json_decref(obj);
        return PST_ENOMEM;
    }
    snprintf(key, sizeof(key), "%lu", sock->inode);
    snprintf(port, sizeof(port), "%s/%u", f->protocol, sock->port);
    int rc =
        json_array_append(f->order, obj) != 0 ||
                (sock->inode != 0 && json_object_set(f->by_inode, key, obj) != 0) ||
                (!sock->loopback && json_object_set_new(f->exposed_set, port, json_true()) != 0) ||
                (sock->any && json_object_set_new(f->any_set, port, json_true()) != 0)
            ? PST_ENOMEM
            : PST_OK;
    json_decref(obj);
    return rc;
}

/* The listening sockets of one /proc/net table, given to add_socket. */
static int from_table(struct pst_probe_ctx *ctx, struct pst_facts *out, const char *path,
                      int family, bool tcp, struct found *f)
{
    char *buf = NULL, *cursor, *line;
    size_t len, n = 0;
    long lineno = 0;
    int rc = read_table(ctx, path, family, tcp, &buf, &len);

    if (rc == PST_ENOENT) {
        return PST_OK; /* IPv6 disabled: no tcp6 table */
    }
    if (rc != PST_OK) {
        if (rc != PST_ENOMEM) {
            pst_facts_error(out, path, "%s: %s", path, pst_strerror(rc));
            rc = PST_OK;
        }
        return rc;
    }
    cursor = buf;
    while ((line = pst_text_next_line(&cursor, &lineno)) != NULL && rc == PST_OK) {
        struct pst_socket sock;
        int got = pst_sockets_parse_line(line, family, tcp, &sock);
        if (got == PST_EPARSE) {
            pst_facts_error(out, path, "%s:%ld: not a socket line", path, lineno);
        } else if (got == 1 && ++n > SOCKETS_MAX) {
            pst_facts_error(out, path, "%s: more than %u listening sockets", path, SOCKETS_MAX);
            break;
        } else if (got == 1) {
            rc = add_socket(&sock, f);
        }
    }
    free(buf);
    return rc;
}

static int sockets_collect(struct pst_probe_ctx *ctx, const json_t *args, struct pst_facts *out)
{
    static const struct {
        const char *path;
        int family;
        bool tcp;
    } tables[] = {{"/proc/net/tcp", 4, true},
                  {"/proc/net/tcp6", 6, true},
                  {"/proc/net/udp", 4, false},
                  {"/proc/net/udp6", 6, false}};
    const char *source = json_string_value(json_object_get(args, "source"));
    long max = (long)json_integer_value(json_object_get(args, "max_findings"));
    struct found f = {.by_inode = json_object(),
                      .order = json_array(),
                      .exposed_set = json_object(),
                      .any_set = json_object()};
    struct pst_findings listening = {0}, exposed = {0};
    const char *where = NULL; /* the evidence's source: what was read */
    bool netlink = false, proc = false;
    size_t i;
    json_t *s;
    int rc = PST_OK;

    if (max < 0) {
        max = 0;
    }
    if (f.by_inode == NULL || f.order == NULL || f.exposed_set == NULL || f.any_set == NULL ||
        pst_findings_init(&listening, max) != PST_OK ||
        pst_findings_init(&exposed, max) != PST_OK) {
        rc = PST_ENOMEM;
        goto out;
    }
    if (!pst_fs_is_live(ctx->fs)) {
        pst_facts_error(out, NULL, "listening sockets: not available for an offline root");
        goto out;
    }
    for (size_t t = 0; t < PST_COUNT(tables) && rc == PST_OK; t++) {
        int err = 0;
        f.protocol = tables[t].tcp ? "tcp" : "udp";
        if (strcmp(source, "proc") != 0) {
            rc = pst_sockdiag_listening(tables[t].family, tables[t].tcp, SOCKETS_MAX, add_socket,
                                        &f, &err);
            if (rc == PST_OK) {
                netlink = true;
                continue;
            }
            if (rc == PST_ENOMEM) {
                goto out;
            }
            if (rc != PST_ENOTSUP || strcmp(source, "netlink") == 0) {
                char why[64];
                snprintf(why, sizeof(why), "more than %u listening sockets", SOCKETS_MAX);
                pst_facts_error(out, NULL, "sock_diag, %s over IPv%d: %s", f.protocol,
                                tables[t].family,
                                rc == PST_ENOTSUP   ? strerror(err)
                                : rc == PST_ETOOBIG ? why
                                                    : pst_strerror(rc));
                rc = PST_OK;
                continue;
            }
            /* no answer for this protocol (e.g. no udp_diag module): the /proc/net table */
            rc = PST_OK;
        }
        proc = true;
        rc = from_table(ctx, out, tables[t].path, tables[t].family, tables[t].tcp, &f);
    }
    if (rc != PST_OK) {
        goto out;
    }
    where = netlink && proc ? "sock_diag (netlink) and /proc/net"
            : proc          ? "/proc/net"
                            : "sock_diag (netlink)";
    if (json_object_size(f.by_inode) > 0) {
        rc = owners(ctx, f.by_inode, out);
        if (rc != PST_OK) {
            goto out;
        }
    }
    json_array_foreach(f.order, i, s)
    {
        bool loop = json_is_true(json_object_get(s, "loopback"));
        json_object_del(s, "loopback");
        if (json_object_get(s, "pid") == NULL) {
            json_object_set_new(s, "pid", json_null());
            json_object_set_new(s, "process", json_null());
        }
        rc = pst_findings_add(&listening, json_deep_copy(s));
        if (rc == PST_OK && !loop) {
            rc = pst_findings_add(&exposed, json_deep_copy(s));
        }
        if (rc != PST_OK) {
            goto out;
        }
    }
    if (pst_findings_set(out, "listening", &listening, where) != PST_OK ||
        pst_findings_set(out, "exposed", &exposed, where) != PST_OK ||
        pst_facts_set(out, "exposed_ports", sorted_keys(f.exposed_set), where) != PST_OK ||
        pst_facts_set(out, "all_addresses_ports", sorted_keys(f.any_set), where) != PST_OK) {
        rc = PST_ENOMEM;
    }
out:
    pst_findings_release(&listening);
    pst_findings_release(&exposed);
    json_decref(f.by_inode);
    json_decref(f.order);
    json_decref(f.exposed_set);
    json_decref(f.any_set);
    return rc;
}

const struct pst_probe pst_probe_sockets = {
    .name = "sockets",
    .summary = "listening TCP and UDP sockets (sock_diag, or /proc/net), their owners, and "
               "which listen beyond loopback",
    .args = sockets_args,
    .n_args = PST_COUNT(sockets_args),
    .fields = sockets_fields,
    .n_fields = PST_COUNT(sockets_fields),
    .collect = sockets_collect,
};
