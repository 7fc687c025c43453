/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's identity (key, certificate, host id) and the signed report built with it. */
#ifndef PST_IDENTITY_H
#define PST_IDENTITY_H

#include "transport/state.h"

#include <jansson.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>
#include <stdint.h>

struct pst_identity {
    mbedtls_pk_context key;
    mbedtls_x509_crt cert;
    char kid[65];
    char *host_id;
};

/*
 * Loads the enrolled identity from STATE: the key, the certificate (which must carry the
 * key's public half and CN = the stored host id). Returns 0, PST_ENOENT (not enrolled) or
 * another PST_E* code with the reason in WHY. The caller frees with pst_identity_free(),
 * which wipes the key.
 */
int pst_identity_load(const struct pst_state *state, struct pst_identity **out, char *why,
                      size_t why_len);
void pst_identity_free(struct pst_identity *id);

/*
 * Signs REPORT (the posture.report/v1 object; not changed) as the payload of a compact JWS,
 * with the extra top-level keys host_id, seq and spool_dropped. *jws malloc'd (caller frees).
 */
int pst_identity_sign_report(struct pst_identity *id, const json_t *report, uint64_t seq,
                             uint64_t spool_dropped, char **jws, size_t *len);

/* The host id as the certificate's subject CN says it, into BUF. 0 or PST_EPARSE. */
int pst_identity_cert_cn(const mbedtls_x509_crt *crt, char *buf, size_t size);

/* True when a host id is safe to keep and print: 1..128 of [A-Za-z0-9._-]. */
bool pst_identity_host_id_valid(const char *host_id);

#endif
