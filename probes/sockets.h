/* SPDX-License-Identifier: Apache-2.0 */
/* Listening sockets, from the kernel's sock_diag netlink interface or its /proc/net tables. */
#ifndef PST_SOCKETS_H
#define PST_SOCKETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pst_socket {
    int family;       /* 4 or 6 */
    char address[64]; /* as inet_ntop prints it */
    unsigned port;
    unsigned long inode;
    bool loopback; /* 127.0.0.0/8, ::1, ::ffff:127.0.0.0/104 */
    bool any;      /* 0.0.0.0 or :: */
};

/*
 * Parses one line of /proc/net/tcp, tcp6, udp or udp6 (FAMILY 4 or 6). Returns 1 with *out
 * filled for a listening socket (TCP state LISTEN; an unconnected UDP socket), 0 for another
 * socket or the header line, PST_EPARSE for a line that is neither.
 */
int pst_sockets_parse_line(const char *line, int family, bool tcp, struct pst_socket *out);

/*
 * Fills out->family, address, loopback and any from ADDR (4 bytes for FAMILY 4, 16 for 6,
 * in network order). 0 or PST_EPARSE.
 */
int pst_sockets_classify(int family, const uint8_t addr[16], struct pst_socket *out);

/*
 * Calls FN(socket, ARG) for every listening socket of FAMILY (4 or 6), TCP or UDP, that the
 * kernel's sock_diag lists (the caller's network namespace), stopping at FN's first error,
 * which it returns. More than MAX sockets: PST_ETOOBIG; a malformed answer: PST_EPARSE. When
 * sock_diag cannot answer (no netlink, no inet_diag module for the protocol): PST_ENOTSUP
 * with the system's errno in *SYS_ERRNO.
 */
int pst_sockdiag_listening(int family, bool tcp, size_t max,
                           int (*fn)(const struct pst_socket *s, void *arg), void *arg,
                           int *sys_errno);

#endif
