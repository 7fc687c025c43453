/* SPDX-License-Identifier: Apache-2.0 */
/* HTTPS requests to the collector over libcurl: TLS 1.2+, peer always verified, pinned CA. */
#ifndef PST_HTTP_H
#define PST_HTTP_H

#include <stddef.h>
#include <stdint.h>

/* Largest response body kept; a collector answers with small JSON documents. */
#define PST_HTTP_MAX_RESPONSE (256u * 1024u)

/* How to reach the collector. There is no option that turns peer verification off. */
struct pst_http_opts {
    const char *ca_file;               /* the pinned CA certificate (PEM), or NULL with ca_pin */
    const unsigned char *ca_pin;       /* SHA-256 of the CA certificate's DER, or NULL */
    const char *cert_file, *key_file;  /* client certificate and key for mutual TLS, or NULL */
    const char *proxy;                 /* HTTP proxy URL, or NULL (the environment is ignored) */
    long connect_timeout_s, timeout_s; /* 0: the defaults, 10 s and 60 s */
};

struct pst_http_response {
    long status; /* HTTP status, 0 when no answer came */
    char *body;  /* malloc'd, NUL-terminated, at most PST_HTTP_MAX_RESPONSE bytes */
    size_t body_len;
    long retry_after; /* seconds from a Retry-After header, -1 when none */
};

/*
 * The requests are made by the delivery module (transport/http_module.h), loaded and started
 * by the first pst_http_post. Call pst_http_global_cleanup before exiting; it does nothing
 * when no request was made.
 */
void pst_http_global_cleanup(void);

/*
 * POSTs BODY (LEN bytes, of CONTENT_TYPE) to URL. With opts->ca_pin, the server's chain
 * must contain a CA certificate of that SHA-256 and verify up to it (the chain is checked
 * as fully as with a CA file; only the trust anchor is chosen by fingerprint). Fills RESP
 * (release with pst_http_response_release) on any HTTP answer, whatever its status: 0. No
 * answer (connection, TLS, timeout, or the module cannot be loaded): PST_EIO with the reason
 * in WHY.
 */
int pst_http_post(const char *url, const char *content_type, const void *body, size_t len,
                  const struct pst_http_opts *opts, struct pst_http_response *resp, char *why,
                  size_t why_len);

void pst_http_response_release(struct pst_http_response *resp);

/*
 * Parses a CA fingerprint given on the command line: 64 hex digits, colons between byte
 * pairs allowed, case-insensitive. 0 or PST_EINVAL.
 */
int pst_http_parse_fingerprint(const char *text, unsigned char pin[32]);

#endif
