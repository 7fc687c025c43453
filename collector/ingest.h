/* SPDX-License-Identifier: Apache-2.0 */
/* What the collector's endpoints decide, apart from HTTP: enrollment and report ingest checks. */
#ifndef PST_COLLECTOR_INGEST_H
#define PST_COLLECTOR_INGEST_H

#include <pthread.h>
#include <stddef.h>
#include <time.h>

#include <gnutls/abstract.h>
#include <openssl/evp.h>
#include <jansson.h>

#include "collector/ca.h"
#include "collector/store.h"

/* Default and largest body of POST /v1/reports, and the body limit of POST /v1/enroll. */
#define PST_INGEST_MAX_BODY (4u * 1024u * 1024u)
#define PST_ENROLL_MAX_BODY (64u * 1024u)
/* Longest enrollment token accepted. */
#define PST_TOKEN_MAX 256u

struct pst_ingest {
    struct pst_store *store;
    struct pst_ca *ca;
    pthread_mutex_t ca_lock; /* issuing signs with the CA key: one at a time */
};

/* The answer to a request: an HTTP status and either BODY or an error body. */
struct pst_answer {
    unsigned status;
    char error[32];    /* a stable word: "replay", "revoked", ... */
    char message[256]; /* one sentence for people */
    json_t *body;      /* the success body (owned), NULL for errors */
};

/*
 * The client certificate of a TLS connection, read once per connection: a connection's
 * peer cannot change, and parsing it again for every report cost more than the report.
 */
struct pst_peer {
    unsigned char *der; /* malloc'd */
    size_t der_len;
    char fingerprint[65]; /* hex SHA-256 of the DER */
    char kid[65];         /* hex SHA-256 of its SubjectPublicKeyInfo, "" without a P-256 key */
    /*
     * A verification context of its key (OpenSSL's libcrypto) when EC P-256, else NULL.
     * Used by one request at a time: a connection's requests come one after another.
     */
    EVP_PKEY_CTX *verify;
};

/* Takes a copy of DER into PEER. Returns 0 or PST_ENOMEM. */
int pst_peer_init(struct pst_peer *peer, const unsigned char *der, size_t len);
void pst_peer_release(struct pst_peer *peer);

/* Sets ANS to an error answer. */
void pst_answer_error(struct pst_answer *ans, unsigned status, const char *error,
                      const char *message);
/* The JSON text to send for ANS (malloc'd), {"error": ..., "message": ...} for an error. */
char *pst_answer_text(const struct pst_answer *ans);
void pst_answer_release(struct pst_answer *ans);

/* Hex SHA-256 of a token's text, as tokens are stored. */
void pst_ingest_token_hash(const char *token, size_t len, char hash[65]);

/*
 * POST /v1/enroll: BODY is {"token", "csr"}. 201 {host_id, certificate, ca}; 400 bad JSON or
 * CSR; 401 unknown or expired token; 403 used-up token; 500 storage failure.
 */
void pst_ingest_enroll(struct pst_ingest *in, const char *body, size_t len, time_t now,
                       struct pst_answer *ans);

/*
 * POST /v1/reports: PEER is the client certificate the TLS layer verified against the CA
 * (NULL when the client sent none), BODY the compact JWS. 201 {host_id, seq}; 400 bad JWS or
 * report; 401 no or unknown certificate; 403 revoked, signature not by the certificate's key,
 * kid or host_id not the certificate's; 409 seq not above the last stored; 413 too large;
 * 500 storage failure. Nothing is stored unless the answer is 201.
 */
void pst_ingest_report(struct pst_ingest *in, const struct pst_peer *peer, const char *body,
                       size_t len, time_t now, struct pst_answer *ans);

#endif
