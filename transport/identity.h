/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's identity (key, certificate, host id) and the signed report built with it. */
#ifndef PST_IDENTITY_H
#define PST_IDENTITY_H

#include "transport/state.h"

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
 * What writes a signed report's payload: WRITE puts into *TEXT (malloc'd; the signer frees
 * it) and *LEN the posture.report/v1 object as compact JSON whose last top-level members
 * are host_id, seq and spool_dropped, in that order, with the values it is given
 * (docs/protocol.md). It returns PST_OK or a PST_E* code. ARG is the caller's, passed on.
 */
struct pst_payload_writer {
    int (*write)(void *arg, const char *host_id, uint64_t seq, uint64_t spool_dropped, char **text,
                 size_t *len);
    void *arg;
};

/*
 * Signs the report PAYLOAD writes, for this identity's host id, SEQ and SPOOL_DROPPED (both
 * at most INT64_MAX), as a compact JWS. *jws malloc'd (caller frees). Returns PST_OK,
 * PST_EINVAL (a number too large), the writer's code, or a signing error.
 */
int pst_identity_sign_report(struct pst_identity *id, const struct pst_payload_writer *payload,
                             uint64_t seq, uint64_t spool_dropped, char **jws, size_t *len);

/* The host id as the certificate's subject CN says it, into BUF. 0 or PST_EPARSE. */
int pst_identity_cert_cn(const mbedtls_x509_crt *crt, char *buf, size_t size);

/* True when a host id is safe to keep and print: 1..128 of [A-Za-z0-9._-]. */
bool pst_identity_host_id_valid(const char *host_id);

#endif
