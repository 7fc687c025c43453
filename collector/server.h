/* SPDX-License-Identifier: Apache-2.0 */
/* The collector's HTTPS server: libmicrohttpd with GnuTLS, client certificates, body limits. */
#ifndef PST_COLLECTOR_SERVER_H
#define PST_COLLECTOR_SERVER_H

#include <stddef.h>
#include <sys/socket.h>

#include "collector/ingest.h"

struct pst_server_options {
    const char *listen;       /* ADDR:PORT, IPv6 as [ADDR]:PORT; port 0 picks a free one */
    size_t max_body;          /* largest report body, bytes */
    unsigned timeout;         /* seconds a connection may stay idle */
    unsigned max_connections; /* connections at once, all clients */
    unsigned per_ip;          /* connections at once from one address */
};

/*
 * Serves /v1/enroll and /v1/reports on OPT->listen with the server certificate CERT_PEM and
 * key KEY_PEM, asking clients for a certificate issued by CA_PEM. Prints "listening on
 * ADDR:PORT" on stdout once it accepts connections, and returns 0 when SIGINT or SIGTERM
 * arrives (the caller blocks them in every thread first), or a PST_E* code when it cannot
 * start.
 */
int pst_server_run(struct pst_ingest *in, const char *cert_pem, const char *key_pem,
                   const char *ca_pem, const struct pst_server_options *opt);

/* Parses ADDR:PORT into ADDR (an IPv4 or IPv6 socket address). Returns 0 or PST_EINVAL. */
int pst_server_parse_listen(const char *text, struct sockaddr_storage *addr);

#endif
