/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Probe "sockets": listening TCP and UDP sockets from /proc/net/{tcp,tcp6,udp,udp6}, their
 * local address and port and, where /proc/PID/fd shows it, the owning process; which listen
 * beyond loopback.
 */
#include "probes/probe.h"

#include "agent/error.h"
#include "probes/findings.h"
#include "probes/sockets.h"
#include "probes/text.h"

#include <arpa/inet.h>
#include <ctype.h>
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

static const struct pst_probe_arg sockets_args[] = {
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
    return 1;
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
        json_t *fdnames = NULL;
        size_t j;
        json_t *fd;
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
        if (pst_fs_list(ctx->fs, dir, &fdnames) != PST_OK) {
            continue; /* gone, or not ours to read (non-root) */
        }
        comm[0] = '\0';
        json_array_foreach(fdnames, j, fd)
        {
            char path[96];
            char *target = NULL;
            json_t *entry;
            if (++fds > FDS_MAX) {
                break;
            }
            snprintf(path, sizeof(path), "%s/%s", dir, json_string_value(fd));
            if (pst_fs_readlink(ctx->fs, path, &target) != PST_OK) {
                continue;
            }
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
            free(target);
        }
        json_decref(fdnames);
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

/* The unique strings of SET (an object used as a set) as a sorted list. */
static json_t *sorted_keys(const json_t *set)
{
    const char *keys[4096];
    size_t n = 0;
    const char *k;
    json_t *v;
    json_t *list = json_array();

    json_object_foreach((json_t *)set, k, v)
    {
        if (n < PST_COUNT(keys)) {
            keys[n++] = k;
        }
    }
    qsort(keys, n, sizeof(keys[0]), cmp_strings);
    for (size_t i = 0; list != NULL && i < n; i++) {
        json_array_append_new(list, json_string(keys[i]));
    }
    return list;
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
    long max = (long)json_integer_value(json_object_get(args, "max_findings"));
    json_t *found = json_object(); /* inode -> socket object, in table order below */
    json_t *order = json_array();
    json_t *exposed_set = json_object(), *any_set = json_object();
    struct pst_findings listening = {0}, exposed = {0};
    size_t i;
    json_t *s;
    int rc = PST_OK;

    if (max < 0) {
        max = 0;
    }
    if (found == NULL || order == NULL || exposed_set == NULL || any_set == NULL ||
        pst_findings_init(&listening, max) != PST_OK ||
        pst_findings_init(&exposed, max) != PST_OK) {
        rc = PST_ENOMEM;
        goto out;
    }
    if (!pst_fs_is_live(ctx->fs)) {
        pst_facts_error(out, NULL, "listening sockets: not available for an offline root");
        goto out;
    }
    for (size_t t = 0; t < PST_COUNT(tables); t++) {
        char *buf = NULL, *cursor, *line;
        size_t len;
        long lineno = 0;
        rc = read_table(ctx, tables[t].path, tables[t].family, tables[t].tcp, &buf, &len);
        if (rc == PST_ENOENT) {
            rc = PST_OK; /* IPv6 disabled: no tcp6 table */
            continue;
        }
        if (rc != PST_OK) {
            if (rc != PST_ENOMEM) {
                pst_facts_error(out, tables[t].path, "%s: %s", tables[t].path, pst_strerror(rc));
                rc = PST_OK;
                continue;
            }
            goto out;
        }
        cursor = buf;
        while ((line = pst_text_next_line(&cursor, &lineno)) != NULL && rc == PST_OK) {
            struct pst_socket sock;
            char key[32], port[16];
            json_t *obj;
            int got = pst_sockets_parse_line(line, tables[t].family, tables[t].tcp, &sock);
            if (got == PST_EPARSE) {
                pst_facts_error(out, tables[t].path, "%s:%ld: not a socket line", tables[t].path,
                                lineno);
                continue;
            }
            if (got == 0) {
                continue;
            }
            obj = json_pack("{s:s, s:s, s:s, s:i, s:b}", "protocol", tables[t].tcp ? "tcp" : "udp",
                            "family", sock.family == 4 ? "ipv4" : "ipv6", "address", sock.address,
                            "port", (int)sock.port, "loopback", sock.loopback);
            snprintf(key, sizeof(key), "%lu", sock.inode);
            snprintf(port, sizeof(port), "%s/%u", tables[t].tcp ? "tcp" : "udp", sock.port);
            if (obj == NULL || json_array_append(order, obj) != 0 ||
                (sock.inode != 0 && json_object_set(found, key, obj) != 0) ||
                (!sock.loopback && json_object_set_new(exposed_set, port, json_true()) != 0) ||
                (sock.any && json_object_set_new(any_set, port, json_true()) != 0)) {
                rc = PST_ENOMEM;
            }
            json_decref(obj);
        }
        free(buf);
        if (rc != PST_OK) {
            goto out;
        }
    }
    if (json_object_size(found) > 0) {
        rc = owners(ctx, found, out);
        if (rc != PST_OK) {
            goto out;
        }
    }
    json_array_foreach(order, i, s)
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
    if (pst_findings_set(out, "listening", &listening, "/proc/net") != PST_OK ||
        pst_findings_set(out, "exposed", &exposed, "/proc/net") != PST_OK ||
        pst_facts_set(out, "exposed_ports", sorted_keys(exposed_set), "/proc/net") != PST_OK ||
        pst_facts_set(out, "all_addresses_ports", sorted_keys(any_set), "/proc/net") != PST_OK) {
        rc = PST_ENOMEM;
    }
out:
    pst_findings_release(&listening);
    pst_findings_release(&exposed);
    json_decref(found);
    json_decref(order);
    json_decref(exposed_set);
    json_decref(any_set);
    return rc;
}

const struct pst_probe pst_probe_sockets = {
    .name = "sockets",
    .summary = "listening TCP and UDP sockets from /proc/net, their owners, and which listen "
               "beyond loopback",
    .args = sockets_args,
    .n_args = PST_COUNT(sockets_args),
    .fields = sockets_fields,
    .n_fields = PST_COUNT(sockets_fields),
    .collect = sockets_collect,
};
