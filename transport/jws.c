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
#include <nettle/bignum.h>
#include <nettle/ecc-curve.h>
#include <nettle/ecc.h>
#include <nettle/ecdsa.h>
#include <nettle/hmac.h>
#include <nettle/sha2.h>

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

/*
 * nettle's SHA-256 rather than mbedTLS's: Debian builds nettle "fat", so it picks the CPU's
 * SHA extensions at run time where there are any, and hashing a whole report was a third of
 * signing it in mbedTLS's portable C.
 */
void pst_jws_sha256(const void *in, size_t len, unsigned char out[32])
{
    struct sha256_ctx ctx;

    sha256_init(&ctx);
    sha256_update(&ctx, len, in);
    sha256_digest(&ctx, SHA256_DIGEST_SIZE, out);
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

/* Length of the unpadded base64url text of LEN bytes. */
static size_t b64url_len(size_t len)
{
    return len / 3 * 4 + (len % 3 == 0 ? 0 : len % 3 + 1);
}

/*
 * Writes the base64url text of IN into OUT (b64url_len(LEN) bytes, no terminator). A table
 * walk, as pst_b64url_decode: mbedtls_base64_encode is constant-time (meant for secrets) and
 * took a quarter of signing a report. What is encoded here is public.
 */
static void b64url_into(const unsigned char *in, size_t len, char *out)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t n = 0, i = 0;

    for (; i + 3 <= len; i += 3) {
        unsigned long v = (unsigned long)in[i] << 16 | (unsigned long)in[i + 1] << 8 | in[i + 2];
        out[n++] = alphabet[v >> 18];
        out[n++] = alphabet[(v >> 12) & 0x3f];
        out[n++] = alphabet[(v >> 6) & 0x3f];
        out[n++] = alphabet[v & 0x3f];
    }
    /* The last one or two bytes, without padding (RFC 7515 section 2). */
    if (len - i == 1) {
        out[n++] = alphabet[in[i] >> 2];
        out[n++] = alphabet[(in[i] & 0x03) << 4];
    } else if (len - i == 2) {
        out[n++] = alphabet[in[i] >> 2];
        out[n++] = alphabet[(in[i] & 0x03) << 4 | in[i + 1] >> 4];
        out[n++] = alphabet[(in[i + 1] & 0x0f) << 2];
    }
}

int pst_b64url_encode(const unsigned char *in, size_t len, char **out, size_t *out_len)
{
    size_t n;
    char *buf;

    *out = NULL;
    if (len > PST_JWS_MAX) {
        return PST_ETOOBIG;
    }
    n = b64url_len(len);
    buf = malloc(n + 1);
    if (buf == NULL) {
        return PST_ENOMEM;
    }
    b64url_into(in, len, buf);
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

    pst_jws_sha256(crt->pk_raw.p, crt->pk_raw.len, digest);
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
    pst_jws_sha256(der + sizeof(der) - (size_t)n, (size_t)n, digest);
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

/* P-256's group order q, big-endian (SEC 2 section 2.4.2). */
static const unsigned char p256_q[COORD_LEN] = {
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
};

/* Limbs of a P-256 number: 4 of 64 bits here. */
#define P256_LIMBS ((COORD_LEN * 8 + GMP_NUMB_BITS - 1) / GMP_NUMB_BITS)
/* Bound on ecc_ecdsa_sign_itch for P-256 (44 limbs with nettle 3.8), checked at run time. */
#define SIGN_SCRATCH_LIMBS 128

/*
 * 1 when 0 < X < q, else 0, in time independent of X (X is the secret nonce): X - q borrows
 * exactly when X < q.
 */
static int in_range(const unsigned char x[COORD_LEN])
{
    unsigned borrow = 0, any = 0;

    for (size_t i = COORD_LEN; i-- > 0;) {
        unsigned d = (unsigned)x[i] - p256_q[i] - borrow;
        borrow = (d >> 8) & 1;
        any |= x[i];
    }
    return (int)(borrow & (unsigned)((any | (0u - any)) >> 8 & 1));
}

/* X mod q for a public X below 2^256 (< 2q): one subtraction at most. */
static void reduce_q(unsigned char x[COORD_LEN])
{
    unsigned char d[COORD_LEN];
    unsigned borrow = 0;

    for (size_t i = COORD_LEN; i-- > 0;) {
        unsigned v = (unsigned)x[i] - p256_q[i] - borrow;
        d[i] = (unsigned char)v;
        borrow = (v >> 8) & 1;
    }
    if (borrow == 0) {
        memcpy(x, d, COORD_LEN);
    }
}

/* Big-endian bytes to little-endian GMP limbs, and back. */
static void to_limbs(const unsigned char be[COORD_LEN], mp_limb_t limbs[P256_LIMBS])
{
    memset(limbs, 0, P256_LIMBS * sizeof(mp_limb_t));
    for (size_t i = 0; i < COORD_LEN; i++) {
        size_t bit = 8 * i;
        limbs[bit / GMP_NUMB_BITS] |= (mp_limb_t)be[COORD_LEN - 1 - i] << (bit % GMP_NUMB_BITS);
    }
}

static void from_limbs(const mp_limb_t limbs[P256_LIMBS], unsigned char be[COORD_LEN])
{
    for (size_t i = 0; i < COORD_LEN; i++) {
        size_t bit = 8 * i;
        be[COORD_LEN - 1 - i] =
            (unsigned char)(limbs[bit / GMP_NUMB_BITS] >> (bit % GMP_NUMB_BITS));
    }
}

/* HMAC-SHA256 under KEY of A || [SEP] || B || C (SEP < 0: none), RFC 6979's building block. */
static void hmac(const unsigned char key[32], const unsigned char *a, int sep,
                 const unsigned char *b, const unsigned char *c, unsigned char out[32])
{
    struct hmac_sha256_ctx ctx;
    uint8_t s = (uint8_t)sep;

    hmac_sha256_set_key(&ctx, 32, key);
    hmac_sha256_update(&ctx, 32, a);
    if (sep >= 0) {
        hmac_sha256_update(&ctx, 1, &s);
    }
    if (b != NULL) {
        hmac_sha256_update(&ctx, COORD_LEN, b);
        hmac_sha256_update(&ctx, COORD_LEN, c);
    }
    hmac_sha256_digest(&ctx, SHA256_DIGEST_SIZE, out);
    mbedtls_platform_zeroize(&ctx, sizeof(ctx));
}

/*
 * ES256 signature of DIGEST with the private scalar D (big-endian): deterministic ECDSA as
 * RFC 6979 section 3.2 makes its nonce (HMAC-SHA256, qlen = hlen = 256), so the same key and
 * digest give the signature mbedtls_ecdsa_sign_det_ext gives (tests/unit/test_jws.c checks
 * it). The curve arithmetic is nettle's (side-channel silent): mbedTLS 2.28's took a fifth of
 * signing a report. Returns 0, or PST_EINVAL when D is not a valid scalar.
 */
static int sign_p256(const unsigned char d[COORD_LEN], const unsigned char digest[32],
                     unsigned char sig[SIG_LEN])
{
    const struct ecc_curve *curve = nettle_get_secp_256r1();
    mp_limb_t z[P256_LIMBS], k[P256_LIMBS], r[P256_LIMBS], s[P256_LIMBS];
    mp_limb_t scratch[SIGN_SCRATCH_LIMBS];
    unsigned char key[32], v[32], h1[COORD_LEN], t[COORD_LEN];
    int rc = PST_EINVAL;

    if (ecc_size(curve) != P256_LIMBS || ecc_ecdsa_sign_itch(curve) > SIGN_SCRATCH_LIMBS ||
        !in_range(d)) {
        goto out;
    }
    to_limbs(d, z);
    /* h1 = bits2octets(H(m)): the digest mod q. */
    memcpy(h1, digest, COORD_LEN);
    reduce_q(h1);
    /* Steps b to g: V = 0x01..., K = 0x00..., two HMAC rounds over V || sep || x || h1. */
    memset(v, 0x01, sizeof(v));
    memset(key, 0x00, sizeof(key));
    hmac(key, v, 0x00, d, h1, key);
    hmac(key, v, -1, NULL, NULL, v);
    hmac(key, v, 0x01, d, h1, key);
    hmac(key, v, -1, NULL, NULL, v);
    /* Step h: candidates until one is in [1, q-1] and gives r, s != 0 (almost always the first). */
    for (int tries = 0; tries < 64; tries++) {
        hmac(key, v, -1, NULL, NULL, v);
        memcpy(t, v, COORD_LEN);
        if (in_range(t)) {
            unsigned char rb[COORD_LEN], sb[COORD_LEN], any_r = 0, any_s = 0;
            to_limbs(t, k);
            ecc_ecdsa_sign(curve, z, k, 32, digest, r, s, scratch);
            from_limbs(r, rb);
            from_limbs(s, sb);
            for (size_t i = 0; i < COORD_LEN; i++) {
                any_r |= rb[i];
                any_s |= sb[i];
            }
            if (any_r != 0 && any_s != 0) {
                memcpy(sig, rb, COORD_LEN);
                memcpy(sig + COORD_LEN, sb, COORD_LEN);
                rc = PST_OK;
                goto out;
            }
        }
        hmac(key, v, 0x00, NULL, NULL, key);
        hmac(key, v, -1, NULL, NULL, v);
    }
out:
    mbedtls_platform_zeroize(z, sizeof(z));
    mbedtls_platform_zeroize(k, sizeof(k));
    mbedtls_platform_zeroize(scratch, sizeof(scratch));
    mbedtls_platform_zeroize(key, sizeof(key));
    mbedtls_platform_zeroize(v, sizeof(v));
    mbedtls_platform_zeroize(t, sizeof(t));
    return rc;
}

int pst_jws_es256(mbedtls_pk_context *key, const unsigned char digest[32],
                  unsigned char sig[SIG_LEN])
{
    mbedtls_ecp_keypair *ec = p256_of(key);
    unsigned char d[COORD_LEN];
    int rc = PST_EINVAL;

    if (ec != NULL && mbedtls_mpi_write_binary(&ec->d, d, sizeof(d)) == 0) {
        rc = sign_p256(d, digest, sig);
    }
    mbedtls_platform_zeroize(d, sizeof(d));
    return rc;
}

int pst_jws_sign(const unsigned char *payload, size_t len, mbedtls_pk_context *key, const char *kid,
                 char **out, size_t *out_len)
{
    mbedtls_ecp_keypair *ec = p256_of(key);
    json_t *header = NULL;
    char *header_json = NULL, *jws = NULL;
    size_t header_len, h64_len, p64_len, s64_len, total;
    unsigned char digest[32], sig[SIG_LEN];
    struct sha256_ctx sha;
    int rc = PST_OK;

    *out = NULL;
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
    header_len = strlen(header_json);
    h64_len = b64url_len(header_len);
    p64_len = b64url_len(len);
    s64_len = b64url_len(SIG_LEN);
    total = h64_len + 1 + p64_len + 1 + s64_len;
    if (header_len > PST_JWS_HEADER_MAX || total > PST_JWS_MAX) {
        rc = PST_ETOOBIG;
        goto out;
    }
    /* header64 '.' payload64 are written in place, hashed there, and the signature appended. */
    jws = malloc(total + 1);
    if (jws == NULL) {
        rc = PST_ENOMEM;
        goto out;
    }
    b64url_into((const unsigned char *)header_json, header_len, jws);
    jws[h64_len] = '.';
    b64url_into(payload, len, jws + h64_len + 1);
    sha256_init(&sha);
    sha256_update(&sha, h64_len + 1 + p64_len, (const uint8_t *)jws);
    sha256_digest(&sha, SHA256_DIGEST_SIZE, digest);
    rc = pst_jws_es256(key, digest, sig);
    if (rc != PST_OK) {
        goto out;
    }
    jws[h64_len + 1 + p64_len] = '.';
    b64url_into(sig, sizeof(sig), jws + h64_len + 1 + p64_len + 1);
    jws[total] = '\0';
    *out = jws;
    jws = NULL;
    if (out_len != NULL) {
        *out_len = total;
    }
out:
    json_decref(header);
    free(header_json);
    free(jws);
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
    pst_jws_sha256(parts.signing_input, parts.signing_input_len, digest);
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
