/* SPDX-License-Identifier: Apache-2.0 */
/* Reading listening sockets from the kernel's /proc/net tables. */
#ifndef PST_SOCKETS_H
#define PST_SOCKETS_H

#include <stdbool.h>
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

#endif
