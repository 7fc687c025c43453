/* SPDX-License-Identifier: Apache-2.0 */
/* Enrollment: a new key and CSR, exchanged with a token for a certificate from the collector. */
#ifndef PST_ENROLL_H
#define PST_ENROLL_H

#include "transport/http.h"
#include "transport/state.h"

#include <mbedtls/x509_crt.h>

struct pst_enroll_opts {
    const char *url;           /* the collector's base URL, https://HOST:PORT */
    const char *token;         /* the enrollment token; wiped from memory we own after use */
    struct pst_http_opts http; /* ca_file or ca_pin; no client certificate */
};

/*
 * Enrolls this host: generates an EC P-256 key (mbedTLS), builds a CSR, POSTs
 * {token, csr} to URL/v1/enroll while verifying the collector against the pinned CA, and
 * checks the answer (the CA is the pinned one, the certificate is signed by it, carries our
 * key and names the host id). Then writes key (0600), certificate, CA, host id and URL into
 * STATE. Returns 0; PST_EACCES when the collector refused the token (WHY says its message);
 * PST_EIO when it could not be reached or its TLS identity is not the pinned one; another
 * PST_E* code otherwise. *host_id (malloc'd) is the id chosen by the collector.
 */
int pst_enroll(struct pst_state *state, const struct pst_enroll_opts *opts, char **host_id,
               char *why, size_t why_len);

/* The collector's answer to an enrollment, parsed but not yet checked against our key. */
struct pst_enroll_answer {
    char *host_id;  /* malloc'd, a valid host id */
    char *cert_pem; /* malloc'd */
    char *ca_pem;   /* malloc'd */
    mbedtls_x509_crt cert, ca;
};

/*
 * Parses the collector's enrollment answer BODY (LEN bytes, outside input):
 * {"host_id", "certificate", "ca"} with a host id of 1..128 [A-Za-z0-9._-] and two PEM
 * certificates. Returns 0 (release ANS with pst_enroll_answer_release) or PST_EPARSE with
 * the reason in WHY; ANS is released on failure.
 */
int pst_enroll_parse_answer(const char *body, size_t len, struct pst_enroll_answer *ans, char *why,
                            size_t why_len);
void pst_enroll_answer_release(struct pst_enroll_answer *ans);

/* URL of ENDPOINT ("/v1/reports") on the collector BASE into BUF. 0 or PST_EINVAL. */
int pst_enroll_endpoint(const char *base, const char *endpoint, char *buf, size_t size);

#endif
