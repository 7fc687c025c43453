/* SPDX-License-Identifier: Apache-2.0 */
/* Compact JWS with ES256: signing on the agent, strict parsing and verification at the collector.
 */
#include "transport/jws.h"

#include "agent/error.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <jansson.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/entropy.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>

/* Raw ES256 signature: r and s, 32 bytes each (RFC 7518 section 3.4). */
#define SIG_LEN 64
#define COORD_LEN 32

int pst_jws_random(void *ctx, unsigned char *out, size_t len)
{
    (void)ctx;
    while (len > 0) {
        ssize_t n = getrandom(out, len, 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
        }
        out += n;
        len -= (size_t)n;
    }
    return 0;
}

static void sha256(const unsigned char *in, size_t len, unsigned char out[32])
{
#if MBEDTLS_VERSION_MAJOR >= 3
    mbedtls_sha256(in, len, out, 0);
#else
    mbedtls_sha256_ret(in, len, out, 0);
#endif
}

static void hex(const unsigned char *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0x0f];
    }
    out[2 * len] = '\0';
}

static void set_why(char *why, size_t why_len, const char *text)
{
    if (why != NULL && why_len > 0) {
        snprintf(why, why_len, "%s", text);
    }
}

int pst_b64url_encode(const unsigned char *in, size_t len, char **out, size_t *out_len)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t n = 0, i = 0;
    char *buf;

    *out = NULL;
    if (len > PST_JWS_MAX) {
        return PST_ETOOBIG;
    }
    /*
     * A table walk, as pst_b64url_decode: mbedtls_base64_encode is constant-time (meant for
     * secrets) and took a quarter of signing a report. What is encoded here is public.
     */
    buf = malloc(4 * ((len + 2) / 3) + 1);
    if (buf == NULL) {
        return PST_ENOMEM;
    }
    for (; i + 3 <= len; i += 3) {
        unsigned long v = (unsigned long)in[i] << 16 | (unsigned long)in[i + 1] << 8 | in[i + 2];
        buf[n++] = alphabet[v >> 18];
        buf[n++] = alphabet[(v >> 12) & 0x3f];
        buf[n++] = alphabet[(v >> 6) & 0x3f];
        buf[n++] = alphabet[v & 0x3f];
    }
    /* The last one or two bytes, without padding (RFC 7515 section 2). */
    if (len - i == 1) {
        buf[n++] = alphabet[in[i] >> 2];
        buf[n++] = alphabet[(in[i] & 0x03) << 4];
    } else if (len - i == 2) {
        buf[n++] = alphabet[in[i] >> 2];
        buf[n++] = alphabet[(in[i] & 0x03) << 4 | in[i + 1] >> 4];
        buf[n++] = alphabet[(in[i + 1] & 0x0f) << 2];
    }
    buf[n] = '\0';
    *out = buf;
    if (out_len != NULL) {
        *out_len = n;
    }
    return PST_OK;
}

/* The 6-bit value of each base64url character, -1 for every other byte. */
static const signed char b64url_values[256] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1, -1, 0,  1,  2,  3,  4,  5,  6,
    7,  8,  9,  10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, 63,
    -1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48,
    49, 50, 51, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

int pst_b64url_decode(const char *in, size_t len, unsigned char **out, size_t *out_len)
{
    const unsigned char *p = (const unsigned char *)in;
    unsigned char *buf;
    size_t n = 0, i = 0;

    *out = NULL;
    *out_len = 0;
    if (len > PST_JWS_MAX) {
        return PST_ETOOBIG;
    }
    if (len % 4 == 1) {
        return PST_EPARSE;
    }
    /*
     * A table walk rather than mbedtls_base64_decode: the standard alphabet would need a
     * translated copy, and its constant-time decoding (meant for secrets) cost a sixth of
     * the collector's ingest time. What is decoded here is public.
     */
    buf = malloc(len / 4 * 3 + 3);
    if (buf == NULL) {
        return PST_ENOMEM;
    }
    for (; i + 4 <= len; i += 4) {
        int a = b64url_values[p[i]], b = b64url_values[p[i + 1]];
        int c = b64url_values[p[i + 2]], d = b64url_values[p[i + 3]];
        if ((a | b | c | d) < 0) {
            goto bad;
        }
        buf[n++] = (unsigned char)(a << 2 | b >> 4);
        buf[n++] = (unsigned char)((b & 0x0f) << 4 | c >> 2);
        buf[n++] = (unsigned char)((c & 0x03) << 6 | d);
    }
    if (len - i >= 2) {
        int a = b64url_values[p[i]], b = b64url_values[p[i + 1]];
        int c = len - i == 3 ? b64url_values[p[i + 2]] : 0;
        /* Unused low bits of the last character must be zero, or two texts decode alike. */
        if ((a | b | c) < 0 || (len - i == 2 && (b & 0x0f) != 0) ||
            (len - i == 3 && (c & 0x03) != 0)) {
            goto bad;
        }
        buf[n++] = (unsigned char)(a << 2 | b >> 4);
        if (len - i == 3) {
            buf[n++] = (unsigned char)((b & 0x0f) << 4 | c >> 2);
        }
    }
    buf[n] = '\0';
    *out = buf;
    *out_len = n;
    return PST_OK;
bad:
    free(buf);
    return PST_EPARSE;
}

int pst_jws_kid(const mbedtls_x509_crt *crt, char kid[65])
{
    unsigned char digest[32];

    sha256(crt->pk_raw.p, crt->pk_raw.len, digest);
    hex(digest, sizeof(digest), kid);
    return PST_OK;
}

int pst_jws_kid_pk(mbedtls_pk_context *key, char kid[65])
{
    unsigned char der[256], digest[32];
    /* mbedtls_pk_write_pubkey_der writes at the end of the buffer. */
    int n = mbedtls_pk_write_pubkey_der(key, der, sizeof(der));

    if (n <= 0) {
        kid[0] = '\0';
        return PST_EINVAL;
    }
    sha256(der + sizeof(der) - (size_t)n, (size_t)n, digest);
    hex(digest, sizeof(digest), kid);
    return PST_OK;
}

/* The P-256 key pair inside KEY, or NULL when KEY is not an EC P-256 key. */
static mbedtls_ecp_keypair *p256_of(const mbedtls_pk_context *key)
{
    mbedtls_ecp_keypair *ec;

    if (key == NULL || !mbedtls_pk_can_do(key, MBEDTLS_PK_ECDSA)) {
        return NULL;
    }
    ec = mbedtls_pk_ec(*key);
    if (ec == NULL || ec->grp.id != MBEDTLS_ECP_DP_SECP256R1) {
        return NULL;
    }
    return ec;
}

int pst_jws_sign(const unsigned char *payload, size_t len, mbedtls_pk_context *key, const char *kid,
                 char **out, size_t *out_len)
{
    mbedtls_ecp_keypair *ec = p256_of(key);
    json_t *header = NULL;
    char *header_json = NULL, *h64 = NULL, *p64 = NULL, *s64 = NULL, *jws = NULL;
    size_t h64_len = 0, p64_len = 0, s64_len = 0, total;
    unsigned char digest[32], sig[SIG_LEN];
    mbedtls_mpi r, s;
    mbedtls_sha256_context sha;
    int rc = PST_OK;

    *out = NULL;
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    mbedtls_sha256_init(&sha);
    if (ec == NULL || kid == NULL || kid[0] == '\0') {
        rc = PST_EINVAL;
        goto out;
    }
    if (len > PST_JWS_MAX / 4 * 3) {
        rc = PST_ETOOBIG;
        goto out;
    }
    header = json_pack("{s:s, s:s, s:s}", "alg", "ES256", "typ", PST_JWS_TYP, "kid", kid);
    header_json = header ? json_dumps(header, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    if (header_json == NULL) {
        rc = PST_ENOMEM;
        goto out;
    }
    rc = pst_b64url_encode((const unsigned char *)header_json, strlen(header_json), &h64, &h64_len);
    if (rc == PST_OK) {
        rc = pst_b64url_encode(payload, len, &p64, &p64_len);
    }
    if (rc != PST_OK) {
        goto out;
    }
    /* The signing input is ASCII(header64 '.' payload64), hashed without copying it. */
#if MBEDTLS_VERSION_MAJOR >= 3
    mbedtls_sha256_starts(&sha, 0);
    mbedtls_sha256_update(&sha, (const unsigned char *)h64, h64_len);
    mbedtls_sha256_update(&sha, (const unsigned char *)".", 1);
    mbedtls_sha256_update(&sha, (const unsigned char *)p64, p64_len);
    mbedtls_sha256_finish(&sha, digest);
#else
    mbedtls_sha256_starts_ret(&sha, 0);
    mbedtls_sha256_update_ret(&sha, (const unsigned char *)h64, h64_len);
    mbedtls_sha256_update_ret(&sha, (const unsigned char *)".", 1);
    mbedtls_sha256_update_ret(&sha, (const unsigned char *)p64, p64_len);
    mbedtls_sha256_finish_ret(&sha, digest);
#endif
    if (mbedtls_ecdsa_sign_det_ext(&ec->grp, &r, &s, &ec->d, digest, sizeof(digest),
                                   MBEDTLS_MD_SHA256, pst_jws_random, NULL) != 0 ||
        mbedtls_mpi_write_binary(&r, sig, COORD_LEN) != 0 ||
        mbedtls_mpi_write_binary(&s, sig + COORD_LEN, COORD_LEN) != 0) {
        rc = PST_EINVAL;
        goto out;
    }
    rc = pst_b64url_encode(sig, sizeof(sig), &s64, &s64_len);
    if (rc != PST_OK) {
        goto out;
    }
    total = h64_len + 1 + p64_len + 1 + s64_len;
    if (total > PST_JWS_MAX) {
        rc = PST_ETOOBIG;
        goto out;
    }
    jws = malloc(total + 1);
    if (jws == NULL) {
        rc = PST_ENOMEM;
        goto out;
    }
    memcpy(jws, h64, h64_len);
    jws[h64_len] = '.';
    memcpy(jws + h64_len + 1, p64, p64_len);
    jws[h64_len + 1 + p64_len] = '.';
    memcpy(jws + h64_len + 1 + p64_len + 1, s64, s64_len);
    jws[total] = '\0';
    *out = jws;
    if (out_len != NULL) {
        *out_len = total;
    }
out:
    mbedtls_sha256_free(&sha);
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&s);
    json_decref(header);
    free(header_json);
    free(h64);
    free(p64);
    free(s64);
    return rc;
}

/* Checks the protected header; on success *kid_out is a malloc'd copy of its kid. */
static int check_header(const unsigned char *text, size_t len, char **kid_out, char *why,
                        size_t why_len)
{
    json_error_t err;
    json_t *header = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, &err);
    const char *alg, *typ, *kid;
    int rc = PST_EPARSE;

    if (header == NULL || !json_is_object(header)) {
        set_why(why, why_len, "the JWS header is not a JSON object");
        goto out;
    }
    alg = json_string_value(json_object_get(header, "alg"));
    typ = json_string_value(json_object_get(header, "typ"));
    kid = json_string_value(json_object_get(header, "kid"));
    if (alg == NULL || strcmp(alg, "ES256") != 0) {
        /* Only ES256: `none`, HMAC and every other algorithm are refused outright. */
        set_why(why, why_len, "the JWS alg is not ES256");
        goto out;
    }
    if (typ == NULL || strcmp(typ, PST_JWS_TYP) != 0) {
        set_why(why, why_len, "the JWS typ is not " PST_JWS_TYP);
        goto out;
    }
    if (kid == NULL || kid[0] == '\0' || strlen(kid) > 256) {
        set_why(why, why_len, "the JWS header has no usable kid");
        goto out;
    }
    if (json_object_get(header, "crit") != NULL) {
        /* RFC 7515 section 4.1.11: extensions we do not understand make the JWS invalid. */
        set_why(why, why_len, "the JWS header has crit extensions");
        goto out;
    }
    *kid_out = strdup(kid);
    rc = *kid_out != NULL ? PST_OK : PST_ENOMEM;
out:
    json_decref(header);
    return rc;
}

int pst_jws_parse(const char *jws, size_t len, struct pst_jws *out, char *why, size_t why_len)
{
    const char *dot1, *dot2;
    unsigned char *header = NULL, *sig = NULL;
    size_t header_len = 0, sig_len = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    if (len > PST_JWS_MAX) {
        set_why(why, why_len, "the JWS is larger than the limit");
        return PST_ETOOBIG;
    }
    dot1 = jws != NULL ? memchr(jws, '.', len) : NULL;
    dot2 = dot1 != NULL ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - jws)) : NULL;
    if (dot2 == NULL || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - jws)) != NULL) {
        set_why(why, why_len, "a compact JWS has exactly three parts");
        return PST_EPARSE;
    }
    if ((size_t)(dot1 - jws) > 4 * PST_JWS_HEADER_MAX / 3 + 4) {
        set_why(why, why_len, "the JWS header is larger than the limit");
        return PST_ETOOBIG;
    }
    rc = pst_b64url_decode(jws, (size_t)(dot1 - jws), &header, &header_len);
    if (rc == PST_OK) {
        rc = pst_b64url_decode(dot2 + 1, len - (size_t)(dot2 + 1 - jws), &sig, &sig_len);
    }
    if (rc == PST_OK) {
        rc = pst_b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), &out->payload,
                               &out->payload_len);
    }
    if (rc != PST_OK) {
        set_why(why, why_len, "a JWS part is not base64url");
        goto out;
    }
    rc = check_header(header, header_len, &out->kid, why, why_len);
    if (rc != PST_OK) {
        goto out;
    }
    if (sig_len != SIG_LEN) {
        set_why(why, why_len, "an ES256 signature is 64 bytes");
        rc = PST_EPARSE;
        goto out;
    }
    memcpy(out->sig, sig, SIG_LEN);
    out->signing_input = jws;
    out->signing_input_len = (size_t)(dot2 - jws);
out:
    if (rc != PST_OK) {
        pst_jws_release(out);
    }
    free(header);
    free(sig);
    return rc;
}

void pst_jws_release(struct pst_jws *jws)
{
    free(jws->payload);
    free(jws->kid);
    memset(jws, 0, sizeof(*jws));
}

int pst_jws_verify(const char *jws, size_t len, const mbedtls_pk_context *pub,
                   unsigned char **payload, size_t *payload_len, char **kid_out, char *why,
                   size_t why_len)
{
    struct pst_jws parts;
    unsigned char digest[32];
    mbedtls_ecp_keypair *ec = p256_of(pub);
    mbedtls_mpi r, s;
    int rc;

    *payload = NULL;
    *payload_len = 0;
    *kid_out = NULL;
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    memset(&parts, 0, sizeof(parts));
    if (ec == NULL) {
        set_why(why, why_len, "the verification key is not an EC P-256 key");
        rc = PST_EINVAL;
        goto out;
    }
    rc = pst_jws_parse(jws, len, &parts, why, why_len);
    if (rc != PST_OK) {
        goto out;
    }
    sha256((const unsigned char *)parts.signing_input, parts.signing_input_len, digest);
    if (mbedtls_mpi_read_binary(&r, parts.sig, COORD_LEN) != 0 ||
        mbedtls_mpi_read_binary(&s, parts.sig + COORD_LEN, COORD_LEN) != 0) {
        rc = PST_ENOMEM;
        goto out;
    }
    /* Verification reads the group and the public point only; r and s are range-checked. */
    if (mbedtls_ecdsa_verify(&ec->grp, digest, sizeof(digest), &ec->Q, &r, &s) != 0) {
        set_why(why, why_len, "the JWS signature does not verify with the certificate's key");
        rc = PST_EBADSIG;
        goto out;
    }
    *payload = parts.payload;
    *payload_len = parts.payload_len;
    *kid_out = parts.kid;
    parts.payload = NULL;
    parts.kid = NULL;
    rc = PST_OK;
out:
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&s);
    pst_jws_release(&parts);
    return rc;
}
