/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of base64url and of compact JWS signing and verification (ES256). */
#include "helpers.h"

#include "agent/error.h"
#include "transport/jws.h"

#include <stdlib.h>
#include <string.h>

#include <mbedtls/base64.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509_crt.h>

static void new_key(mbedtls_pk_context *pk)
{
    mbedtls_pk_init(pk);
    assert_int_equal(mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)), 0);
    assert_int_equal(
        mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*pk), pst_jws_random, NULL), 0);
}

static char *encode(const char *text)
{
    char *out = NULL;
    assert_int_equal(pst_b64url_encode((const unsigned char *)text, strlen(text), &out, NULL),
                     PST_OK);
    return out;
}

/* The encoder against mbedTLS's (standard alphabet, translated, padding dropped). */
static void test_b64url_against_mbedtls(void **state)
{
    unsigned char bytes[300];
    unsigned int seed = 12345;

    (void)state;
    for (size_t i = 0; i < sizeof(bytes); i++) {
        seed = seed * 1103515245u + 12345u;
        bytes[i] = (unsigned char)(seed >> 16);
    }
    for (size_t len = 0; len <= sizeof(bytes); len++) {
        char ref[512], *ours = NULL;
        size_t n = 0, ours_len = 0;
        unsigned char *back = NULL;
        size_t back_len = 0;
        assert_int_equal(mbedtls_base64_encode((unsigned char *)ref, sizeof(ref), &n, bytes, len),
                         0);
        while (n > 0 && ref[n - 1] == '=') {
            n--;
        }
        for (size_t k = 0; k < n; k++) {
            ref[k] = ref[k] == '+' ? '-' : ref[k] == '/' ? '_' : ref[k];
        }
        ref[n] = '\0';
        assert_int_equal(pst_b64url_encode(bytes, len, &ours, &ours_len), PST_OK);
        assert_string_equal(ours, ref);
        assert_int_equal(ours_len, n);
        assert_int_equal(pst_b64url_decode(ours, ours_len, &back, &back_len), PST_OK);
        assert_int_equal(back_len, len);
        assert_memory_equal(back, bytes, len);
        free(back);
        free(ours);
    }
}

static void test_b64url(void **state)
{
    /* RFC 4648 section 10 vectors, unpadded, and the two URL-safe characters. */
    static const struct {
        const char *plain, *coded;
    } vectors[] = {
        {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
        {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}, {"\xfb\xff", "-_8"},
    };
    static const char *bad[] = {"Zg==", "Zm9v!", "Z", "Zm9vY", "Zh", "Zm9", "Zm+v", "Zm/v", "Zm v"};
    unsigned char *dec = NULL;
    size_t n = 0;

    (void)state;
    for (size_t i = 0; i < PST_COUNT(vectors); i++) {
        char *enc = encode(vectors[i].plain);
        assert_string_equal(enc, vectors[i].coded);
        free(enc);
        assert_int_equal(pst_b64url_decode(vectors[i].coded, strlen(vectors[i].coded), &dec, &n),
                         PST_OK);
        assert_int_equal(n, strlen(vectors[i].plain));
        assert_memory_equal(dec, vectors[i].plain, n);
        free(dec);
    }
    for (size_t i = 0; i < PST_COUNT(bad); i++) {
        /* "Zh" and "Zm9" carry non-zero unused bits: a second spelling of "f" and "fo". */
        assert_int_equal(pst_b64url_decode(bad[i], strlen(bad[i]), &dec, &n), PST_EPARSE);
        assert_null(dec);
    }
}

/* A self-signed certificate for KEY, parsed into CRT. */
static void self_signed(mbedtls_pk_context *key, mbedtls_x509_crt *crt)
{
    mbedtls_x509write_cert w;
    mbedtls_mpi serial;
    unsigned char der[2048];
    int n;

    mbedtls_x509write_crt_init(&w);
    mbedtls_mpi_init(&serial);
    mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&w, key);
    mbedtls_x509write_crt_set_issuer_key(&w, key);
    assert_int_equal(mbedtls_x509write_crt_set_subject_name(&w, "CN=test"), 0);
    assert_int_equal(mbedtls_x509write_crt_set_issuer_name(&w, "CN=test"), 0);
    assert_int_equal(mbedtls_mpi_lset(&serial, 7), 0);
    assert_int_equal(mbedtls_x509write_crt_set_serial(&w, &serial), 0);
    assert_int_equal(mbedtls_x509write_crt_set_validity(&w, "20250101000000", "20350101000000"), 0);
    n = mbedtls_x509write_crt_der(&w, der, sizeof(der), pst_jws_random, NULL);
    assert_true(n > 0);
    mbedtls_x509_crt_init(crt);
    assert_int_equal(mbedtls_x509_crt_parse_der(crt, der + sizeof(der) - n, (size_t)n), 0);
    mbedtls_x509write_crt_free(&w);
    mbedtls_mpi_free(&serial);
}

static void test_kid(void **state)
{
    mbedtls_pk_context key;
    mbedtls_x509_crt crt;
    char a[65], b[65];

    (void)state;
    new_key(&key);
    self_signed(&key, &crt);
    assert_int_equal(pst_jws_kid(&crt, a), PST_OK);
    assert_int_equal(pst_jws_kid_pk(&key, b), PST_OK);
    assert_int_equal(strlen(a), 64);
    assert_string_equal(a, b);
    /* The certificate's key verifies what the private key signed. */
    {
        const char *payload = "{\"seq\":1}";
        char *jws = NULL, *kid = NULL;
        unsigned char *out = NULL;
        size_t n = 0;
        assert_int_equal(
            pst_jws_sign((const unsigned char *)payload, strlen(payload), &key, a, &jws, NULL),
            PST_OK);
        assert_int_equal(pst_jws_verify(jws, strlen(jws), &crt.pk, &out, &n, &kid, NULL, 0),
                         PST_OK);
        assert_string_equal((char *)out, payload);
        assert_string_equal(kid, a);
        free(jws);
        free(kid);
        free(out);
    }
    mbedtls_x509_crt_free(&crt);
    mbedtls_pk_free(&key);
}

struct fixture {
    mbedtls_pk_context key, other;
    char kid[65];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    new_key(&f->key);
    new_key(&f->other);
    pst_jws_kid_pk(&f->key, f->kid);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    mbedtls_pk_free(&f->key);
    mbedtls_pk_free(&f->other);
    free(f);
    return 0;
}

static char *sign(struct fixture *f, const char *payload)
{
    char *jws = NULL;
    size_t len = 0;
    assert_int_equal(
        pst_jws_sign((const unsigned char *)payload, strlen(payload), &f->key, f->kid, &jws, &len),
        PST_OK);
    assert_int_equal(len, strlen(jws));
    return jws;
}

/* Verifies JWS with KEY and checks the return code; the outputs are NULL unless it is 0. */
static void expect_verify(const char *jws, mbedtls_pk_context *key, int want, const char *why)
{
    unsigned char *payload = NULL;
    size_t n = 7;
    char *kid = NULL, reason[128] = "";

    assert_int_equal(
        pst_jws_verify(jws, strlen(jws), key, &payload, &n, &kid, reason, sizeof(reason)), want);
    if (want != PST_OK) {
        assert_null(payload);
        assert_null(kid);
        assert_int_equal(n, 0);
        assert_string_equal(reason, why);
    }
    free(payload);
    free(kid);
}

static void test_sign_layout(void **state)
{
    struct fixture *f = *state;
    char *jws = sign(f, "{\"a\":1}");
    char *dot1 = strchr(jws, '.'), *dot2 = strrchr(jws, '.');
    unsigned char *header = NULL, *sig = NULL, *payload = NULL;
    size_t n = 0;
    char want[256], *kid = NULL;

    (void)state;
    assert_int_equal(pst_b64url_decode(jws, (size_t)(dot1 - jws), &header, &n), PST_OK);
    snprintf(want, sizeof(want),
             "{\"alg\":\"ES256\",\"typ\":\"posture-report+jws\",\"kid\":\"%s\"}", f->kid);
    assert_string_equal((char *)header, want);
    assert_int_equal(pst_b64url_decode(dot2 + 1, strlen(dot2 + 1), &sig, &n), PST_OK);
    assert_int_equal(n, 64);
    assert_int_equal(strncmp(dot1 + 1, "eyJhIjoxfQ", 10), 0);
    assert_int_equal(pst_jws_verify(jws, strlen(jws), &f->key, &payload, &n, &kid, NULL, 0),
                     PST_OK);
    assert_int_equal(n, 7);
    assert_string_equal((char *)payload, "{\"a\":1}");
    assert_string_equal(kid, f->kid);
    free(header);
    free(sig);
    free(payload);
    free(kid);
    free(jws);
}

/* Builds HEADER64.PAYLOAD64.SIG64 from the given texts (signature bytes as they are). */
static char *compose(const char *header, const char *payload, const char *sig64)
{
    char *h = encode(header), *p = encode(payload);
    size_t len = strlen(h) + strlen(p) + strlen(sig64) + 3;
    char *out = malloc(len);
    snprintf(out, len, "%s.%s.%s", h, p, sig64);
    free(h);
    free(p);
    return out;
}

static void test_refusals(void **state)
{
    struct fixture *f = *state;
    char *good = sign(f, "{\"host_id\":\"h1\",\"seq\":3}");
    const char *sig64 = strrchr(good, '.') + 1;
    char header[256], *jws;

    /* The signature of another key. */
    expect_verify(good, &f->other, PST_EBADSIG,
                  "the JWS signature does not verify with the certificate's key");

    /* Payload changed, signature kept. */
    snprintf(header, sizeof(header),
             "{\"alg\":\"ES256\",\"typ\":\"posture-report+jws\",\"kid\":\"%s\"}", f->kid);
    jws = compose(header, "{\"host_id\":\"h1\",\"seq\":4}", sig64);
    expect_verify(jws, &f->key, PST_EBADSIG,
                  "the JWS signature does not verify with the certificate's key");
    free(jws);

    /* Header changed (another kid), signature kept. */
    jws = compose("{\"alg\":\"ES256\",\"typ\":\"posture-report+jws\",\"kid\":\"x\"}",
                  "{\"host_id\":\"h1\",\"seq\":3}", sig64);
    expect_verify(jws, &f->key, PST_EBADSIG,
                  "the JWS signature does not verify with the certificate's key");
    free(jws);

    /* alg none with an empty signature, HS256, a missing alg: refused before any key is used. */
    jws = compose("{\"alg\":\"none\",\"typ\":\"posture-report+jws\",\"kid\":\"x\"}", "{}", "");
    expect_verify(jws, &f->key, PST_EPARSE, "the JWS alg is not ES256");
    free(jws);
    jws = compose("{\"alg\":\"HS256\",\"typ\":\"posture-report+jws\",\"kid\":\"x\"}", "{}", sig64);
    expect_verify(jws, &f->key, PST_EPARSE, "the JWS alg is not ES256");
    free(jws);
    jws = compose("{\"typ\":\"posture-report+jws\",\"kid\":\"x\"}", "{}", sig64);
    expect_verify(jws, &f->key, PST_EPARSE, "the JWS alg is not ES256");
    free(jws);
    jws = compose("{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"x\"}", "{}", sig64);
    expect_verify(jws, &f->key, PST_EPARSE, "the JWS typ is not posture-report+jws");
    free(jws);
    jws = compose("{\"alg\":\"ES256\",\"typ\":\"posture-report+jws\"}", "{}", sig64);
    expect_verify(jws, &f->key, PST_EPARSE, "the JWS header has no usable kid");
    free(jws);
    jws = compose(
        "{\"alg\":\"ES256\",\"typ\":\"posture-report+jws\",\"kid\":\"x\",\"crit\":[\"b64\"]}", "{}",
        sig64);
    expect_verify(jws, &f->key, PST_EPARSE, "the JWS header has crit extensions");
    free(jws);
    /* Duplicate keys: a second alg must not be read past the first. */
    jws =
        compose("{\"alg\":\"ES256\",\"alg\":\"none\",\"typ\":\"posture-report+jws\",\"kid\":\"x\"}",
                "{}", sig64);
    expect_verify(jws, &f->key, PST_EPARSE, "the JWS header is not a JSON object");
    free(jws);
    jws = compose("[1]", "{}", sig64);
    expect_verify(jws, &f->key, PST_EPARSE, "the JWS header is not a JSON object");
    free(jws);
    jws = compose(header, "{}", "AAAA");
    expect_verify(jws, &f->key, PST_EPARSE, "an ES256 signature is 64 bytes");
    free(jws);

    /* Shapes: two parts, four parts, padding, characters outside the alphabet. */
    expect_verify("abc.def", &f->key, PST_EPARSE, "a compact JWS has exactly three parts");
    expect_verify("a.b.c.d", &f->key, PST_EPARSE, "a compact JWS has exactly three parts");
    expect_verify("", &f->key, PST_EPARSE, "a compact JWS has exactly three parts");
    expect_verify("eyJ9.e30=.AAAA", &f->key, PST_EPARSE, "a JWS part is not base64url");
    expect_verify("eyJ9.e3 0.AAAA", &f->key, PST_EPARSE, "a JWS part is not base64url");
    free(good);
}

static void test_bounds(void **state)
{
    struct fixture *f = *state;
    size_t big = PST_JWS_MAX + 1;
    char *text = malloc(big + 1);
    unsigned char *payload = NULL;
    size_t n = 0;
    char *kid = NULL, *jws = NULL;

    memset(text, 'A', big);
    text[big] = '\0';
    text[10] = '.';
    text[20] = '.';
    assert_int_equal(pst_jws_verify(text, big, &f->key, &payload, &n, &kid, NULL, 0), PST_ETOOBIG);
    /* A payload whose encoding would pass the bound is refused at signing. */
    assert_int_equal(
        pst_jws_sign((const unsigned char *)text, PST_JWS_MAX, &f->key, f->kid, &jws, NULL),
        PST_ETOOBIG);
    assert_null(jws);
    /* No kid. */
    assert_int_equal(pst_jws_sign((const unsigned char *)"{}", 2, &f->key, "", &jws, NULL),
                     PST_EINVAL);
    free(text);
}

/* Fills BUF with LEN pseudo-random bytes from SEED (reproducible). */
static void fill(unsigned char *buf, size_t len, unsigned int seed)
{
    for (size_t i = 0; i < len; i++) {
        seed = seed * 1103515245u + 12345u;
        buf[i] = (unsigned char)(seed >> 16);
    }
}

static void mbedtls_digest(const unsigned char *in, size_t len, unsigned char out[32])
{
#if MBEDTLS_VERSION_MAJOR >= 3
    assert_int_equal(mbedtls_sha256(in, len, out, 0), 0);
#else
    assert_int_equal(mbedtls_sha256_ret(in, len, out, 0), 0);
#endif
}

/* nettle's SHA-256 (SHA extensions where the CPU has them) against mbedTLS's portable one. */
static void test_sha256_against_mbedtls(void **state)
{
    size_t big = (1u << 20) + 7;
    unsigned char *bytes = malloc(big), ours[32], ref[32];
    /* FIPS 180-2's "abc": ba7816bf 8f01cfea 414140de 5dae2223 b00361a3 96177a9c b410ff61 f20015ad
     */
    static const unsigned char abc[32] = {
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
        0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
        0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
    };

    (void)state;
    assert_non_null(bytes);
    fill(bytes, big, 99);
    pst_jws_sha256("abc", 3, ours);
    assert_memory_equal(ours, abc, 32);
    /* Every length across several blocks (padding edges at 55, 56, 63, 64), then a large one. */
    for (size_t len = 0; len <= 300; len++) {
        pst_jws_sha256(bytes, len, ours);
        mbedtls_digest(bytes, len, ref);
        assert_memory_equal(ours, ref, 32);
    }
    pst_jws_sha256(bytes, big, ours);
    mbedtls_digest(bytes, big, ref);
    assert_memory_equal(ours, ref, 32);
    free(bytes);
}

/* r || s from mbedTLS's deterministic ECDSA (RFC 6979) of DIGEST with KEY. */
static void mbedtls_es256(mbedtls_pk_context *key, const unsigned char digest[32],
                          unsigned char sig[64])
{
    mbedtls_ecp_keypair *ec = mbedtls_pk_ec(*key);
    mbedtls_mpi r, s;

    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    assert_int_equal(mbedtls_ecdsa_sign_det_ext(&ec->grp, &r, &s, &ec->d, digest, 32,
                                                MBEDTLS_MD_SHA256, pst_jws_random, NULL),
                     0);
    assert_int_equal(mbedtls_mpi_write_binary(&r, sig, 32), 0);
    assert_int_equal(mbedtls_mpi_write_binary(&s, sig + 32, 32), 0);
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&s);
}

/*
 * The signer (nettle's curve arithmetic, RFC 6979's nonce made here) gives exactly the bytes
 * mbedTLS's deterministic ECDSA gives, for many keys and payloads; and mbedTLS verifies them.
 */
static void test_sign_matches_mbedtls(void **state)
{
    static const size_t sizes[] = {0, 1, 2, 3, 47, 48, 1000, 65537, 300000};
    unsigned char *payload = malloc(300000);

    (void)state;
    assert_non_null(payload);
    for (unsigned k = 0; k < 12; k++) {
        mbedtls_pk_context key;
        char kid[65];

        new_key(&key);
        assert_int_equal(pst_jws_kid_pk(&key, kid), PST_OK);
        for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
            char *jws = NULL, *got_kid = NULL;
            unsigned char digest[32], ref[64], *sig = NULL, *back = NULL;
            size_t len = 0, n = 0;
            const char *dot2;

            fill(payload, sizes[i], k * 31 + (unsigned)i);
            assert_int_equal(pst_jws_sign(payload, sizes[i], &key, kid, &jws, &len), PST_OK);
            dot2 = strrchr(jws, '.');
            mbedtls_digest((const unsigned char *)jws, (size_t)(dot2 - jws), digest);
            mbedtls_es256(&key, digest, ref);
            assert_int_equal(pst_b64url_decode(dot2 + 1, strlen(dot2 + 1), &sig, &n), PST_OK);
            assert_int_equal(n, 64);
            assert_memory_equal(sig, ref, 64);
            assert_int_equal(pst_jws_verify(jws, len, &key, &back, &n, &got_kid, NULL, 0), PST_OK);
            assert_int_equal(n, sizes[i]);
            assert_memory_equal(back, payload, sizes[i]);
            free(back);
            free(got_kid);
            free(sig);
            free(jws);
        }
        mbedtls_pk_free(&key);
    }
    free(payload);
}

/* RFC 6979 appendix A.2.5: P-256, SHA-256, messages "sample" and "test". */
static void test_rfc6979_vectors(void **state)
{
    static const struct {
        const char *message, *r, *s;
    } vectors[] = {
        {"sample", "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716",
         "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8"},
        {"test", "F1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367",
         "019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083"},
    };
    mbedtls_pk_context key;
    mbedtls_ecp_keypair *ec;
    mbedtls_mpi want;

    (void)state;
    mbedtls_pk_init(&key);
    mbedtls_mpi_init(&want);
    assert_int_equal(mbedtls_pk_setup(&key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)), 0);
    ec = mbedtls_pk_ec(key);
    assert_int_equal(mbedtls_ecp_group_load(&ec->grp, MBEDTLS_ECP_DP_SECP256R1), 0);
    assert_int_equal(
        mbedtls_mpi_read_string(&ec->d, 16,
                                "C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721"),
        0);
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        unsigned char digest[32], sig[64], part[32];
        pst_jws_sha256(vectors[i].message, strlen(vectors[i].message), digest);
        assert_int_equal(pst_jws_es256(&key, digest, sig), PST_OK);
        assert_int_equal(mbedtls_mpi_read_string(&want, 16, vectors[i].r), 0);
        assert_int_equal(mbedtls_mpi_write_binary(&want, part, 32), 0);
        assert_memory_equal(sig, part, 32);
        assert_int_equal(mbedtls_mpi_read_string(&want, 16, vectors[i].s), 0);
        assert_int_equal(mbedtls_mpi_write_binary(&want, part, 32), 0);
        assert_memory_equal(sig + 32, part, 32);
    }
    /* A scalar out of range ([1, q-1]) is refused, not used. */
    assert_int_equal(mbedtls_mpi_lset(&ec->d, 0), 0);
    {
        unsigned char digest[32] = {0}, sig[64];
        assert_int_equal(pst_jws_es256(&key, digest, sig), PST_EINVAL);
        assert_int_equal(mbedtls_mpi_copy(&ec->d, &ec->grp.N), 0);
        assert_int_equal(pst_jws_es256(&key, digest, sig), PST_EINVAL);
    }
    mbedtls_mpi_free(&want);
    mbedtls_pk_free(&key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64url),
        cmocka_unit_test(test_b64url_against_mbedtls),
        cmocka_unit_test(test_kid),
        cmocka_unit_test(test_sha256_against_mbedtls),
        cmocka_unit_test(test_sign_matches_mbedtls),
        cmocka_unit_test(test_rfc6979_vectors),
        cmocka_unit_test_setup_teardown(test_sign_layout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bounds, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
