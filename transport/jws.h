/* SPDX-License-Identifier: Apache-2.0 */
/* Signed reports as compact JWS (RFC 7515) with ES256, shared by the agent and the collector. */
#ifndef PST_JWS_H
#define PST_JWS_H

#include <stddef.h>

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

/* Largest compact JWS accepted or produced, in bytes. */
#define PST_JWS_MAX (8u * 1024u * 1024u)
/* Largest protected header accepted, decoded, in bytes. */
#define PST_JWS_HEADER_MAX 4096u
/* The `typ` of a signed report. */
#define PST_JWS_TYP "posture-report+jws"

/*
 * An mbedTLS random callback (f_rng) over getrandom(2); ctx is unused. Returns 0, or
 * MBEDTLS_ERR_ENTROPY_SOURCE_FAILED when the kernel cannot give random bytes.
 */
int pst_jws_random(void *ctx, unsigned char *out, size_t len);

/*
 * Encodes LEN bytes as base64url without padding (RFC 7515 section 2). *out is malloc'd,
 * NUL-terminated, owned by the caller; *out_len (may be NULL) is its length. Returns 0 or
 * PST_ENOMEM / PST_ETOOBIG.
 */
int pst_b64url_encode(const unsigned char *in, size_t len, char **out, size_t *out_len);

/*
 * Decodes base64url without padding, strictly: any character outside the alphabet, a '='
 * or a length that no encoding has is refused (PST_EPARSE), and so are non-zero unused bits,
 * so one value has exactly one encoding. *out is malloc'd (NUL-terminated for convenience,
 * the terminator not counted in *out_len), owned by the caller.
 */
int pst_b64url_decode(const char *in, size_t len, unsigned char **out, size_t *out_len);

/* SHA-256 of LEN bytes (nettle: the CPU's SHA extensions where it has them). */
void pst_jws_sha256(const void *in, size_t len, unsigned char out[32]);

/* Hex SHA-256 of the certificate's DER SubjectPublicKeyInfo: the JWS `kid`. Returns 0. */
int pst_jws_kid(const mbedtls_x509_crt *crt, char kid[65]);

/* The same `kid` computed from a key (public or private) before its certificate exists. */
int pst_jws_kid_pk(mbedtls_pk_context *key, char kid[65]);

/*
 * Signs PAYLOAD as a compact JWS: header {"alg":"ES256","typ":"posture-report+jws","kid":KID},
 * signature the raw r||s (64 bytes) of RFC 7518 section 3.4, deterministic ECDSA (RFC 6979)
 * over SHA-256. KEY must be an EC P-256 private key. *out is malloc'd, NUL-terminated, owned
 * by the caller; *out_len (may be NULL) is its length. Returns 0, PST_EINVAL (not a P-256 key,
 * no kid), PST_ETOOBIG (over PST_JWS_MAX) or PST_ENOMEM.
 */
int pst_jws_sign(const unsigned char *payload, size_t len, mbedtls_pk_context *key, const char *kid,
                 char **out, size_t *out_len);

/*
 * The raw ES256 signature r || s of a SHA-256 DIGEST with KEY's private scalar: RFC 6979's
 * deterministic nonce, the same signature mbedtls_ecdsa_sign_det_ext gives. Returns 0 or
 * PST_EINVAL (not an EC P-256 private key).
 */
int pst_jws_es256(mbedtls_pk_context *key, const unsigned char digest[32], unsigned char sig[64]);

/* A compact JWS taken apart by pst_jws_parse. */
struct pst_jws {
    unsigned char *payload; /* malloc'd, NUL-terminated */
    size_t payload_len;
    char *kid;                 /* malloc'd */
    const char *signing_input; /* header64.payload64: points into the parsed text */
    size_t signing_input_len;
    unsigned char sig[64]; /* r || s, big-endian */
};

/*
 * The checks of pst_jws_verify without the signature: parts, base64url, header. On success
 * OUT's buffers belong to the caller (pst_jws_release); on failure OUT holds nothing, WHY says
 * why, and the return is PST_ETOOBIG, PST_EPARSE or PST_ENOMEM. For a verifier of another
 * library (the collector verifies with GnuTLS, which its TLS already links).
 */
int pst_jws_parse(const char *jws, size_t len, struct pst_jws *out, char *why, size_t why_len);
void pst_jws_release(struct pst_jws *jws);

/*
 * Parses and checks a compact JWS: exactly three base64url parts, a header that is a JSON
 * object without duplicate keys, alg == "ES256" (anything else, `none` and HS256 included, is
 * refused), typ == "posture-report+jws", a non-empty kid and no `crit`; then verifies the
 * signature with PUB (an EC P-256 key). On success *payload (malloc'd, NUL-terminated, length
 * in *payload_len) and *kid_out (malloc'd) belong to the caller. On failure both stay NULL, a
 * reason goes into WHY (may be NULL), and the return is PST_ETOOBIG (over PST_JWS_MAX),
 * PST_EPARSE (malformed, or a header this format does not allow), PST_EBADSIG (well formed,
 * but the signature is not PUB's) or PST_ENOMEM. The kid is not compared with PUB here: the
 * caller knows which certificate it expects.
 */
int pst_jws_verify(const char *jws, size_t len, const mbedtls_pk_context *pub,
                   unsigned char **payload, size_t *payload_len, char **kid_out, char *why,
                   size_t why_len);

#endif
