/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of the transport helpers: backoff with full jitter, CA fingerprints, URLs, settings. */
#include "helpers.h"

#include "agent/error.h"
#include "agent/jsonw.h"
#include "config/config.h"
#include "transport/deliver.h"
#include "transport/enroll.h"
#include "transport/http.h"

#include "transport/identity.h"
#include "transport/jws.h"
#include "transport/state.h"

#include <mbedtls/ecp.h>
#include <mbedtls/x509_crt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A self-signed certificate with CN=CN for KEY (PEM into OUT). */
static void self_signed(mbedtls_pk_context *key, const char *cn, unsigned char *out, size_t size)
{
    mbedtls_x509write_cert crt;
    mbedtls_mpi serial;
    char name[128];

    mbedtls_x509write_crt_init(&crt);
    mbedtls_mpi_init(&serial);
    mbedtls_pk_init(key);
    assert_int_equal(mbedtls_pk_setup(key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)), 0);
    assert_int_equal(
        mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*key), pst_jws_random, NULL),
        0);
    snprintf(name, sizeof(name), "CN=%s", cn);
    mbedtls_x509write_crt_set_subject_key(&crt, key);
    mbedtls_x509write_crt_set_issuer_key(&crt, key);
    mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
    mbedtls_mpi_lset(&serial, 7);
    assert_int_equal(mbedtls_x509write_crt_set_subject_name(&crt, name), 0);
    assert_int_equal(mbedtls_x509write_crt_set_issuer_name(&crt, name), 0);
    assert_int_equal(mbedtls_x509write_crt_set_serial(&crt, &serial), 0);
    assert_int_equal(mbedtls_x509write_crt_set_validity(&crt, "20250101000000", "20350101000000"),
                     0);
    assert_int_equal(mbedtls_x509write_crt_pem(&crt, out, size, pst_jws_random, NULL), 0);
    mbedtls_mpi_free(&serial);
    mbedtls_x509write_crt_free(&crt);
}

static void test_backoff(void **unused)
{
    (void)unused;
    /* Full jitter: a draw in [0, min(cap, base x 2^attempt)]. */
    assert_int_equal(pst_backoff_delay_ms(0, 5000, 600000, -1, 0), 0);
    assert_int_equal(pst_backoff_delay_ms(0, 5000, 600000, -1, 5000), 5000);
    assert_int_equal(pst_backoff_delay_ms(0, 5000, 600000, -1, 5001), 0);
    assert_int_equal(pst_backoff_delay_ms(3, 5000, 600000, -1, 40000), 40000);
    assert_int_equal(pst_backoff_delay_ms(3, 5000, 600000, -1, 40001), 0);
    /* The cap, even after many attempts (no overflow). */
    assert_int_equal(pst_backoff_delay_ms(7, 5000, 600000, -1, 600000), 600000);
    assert_int_equal(pst_backoff_delay_ms(200, 5000, 600000, -1, 600001), 0);
    assert_int_equal(pst_backoff_delay_ms(200, 5000, 600000, -1, 1234567), 1234567 % 600001);
    /* Retry-After is a floor. */
    assert_int_equal(pst_backoff_delay_ms(0, 5000, 600000, 30, 100), 30000);
    assert_int_equal(pst_backoff_delay_ms(5, 5000, 600000, 30, 100000), 100000);
    /* Every draw stays within the bound. */
    for (uint64_t r = 0; r < 100000; r += 7) {
        assert_true(pst_backoff_delay_ms(2, 5000, 600000, -1, r * 7919) <= 20000);
    }
}

static void test_fingerprint(void **unused)
{
    unsigned char pin[32];
    const char *hex = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";

    (void)unused;
    assert_int_equal(pst_http_parse_fingerprint(hex, pin), PST_OK);
    assert_int_equal(pin[0], 0x00);
    assert_int_equal(pin[5], 0x55);
    assert_int_equal(pin[31], 0xff);
    assert_int_equal(pst_http_parse_fingerprint(
                         "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:"
                         "77:88:99:aa:bb:cc:dd:ee:ff",
                         pin),
                     PST_OK);
    assert_int_equal(pin[10], 0xaa);
    assert_int_equal(pst_http_parse_fingerprint("0011", pin), PST_EINVAL);
    assert_int_equal(pst_http_parse_fingerprint("", pin), PST_EINVAL);
    assert_int_equal(pst_http_parse_fingerprint(":00", pin), PST_EINVAL);
    assert_int_equal(pst_http_parse_fingerprint(
                         "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00", pin),
                     PST_EINVAL);
    assert_int_equal(pst_http_parse_fingerprint(
                         "0g112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", pin),
                     PST_EINVAL);
    assert_int_equal(pst_http_parse_fingerprint(
                         "+0112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", pin),
                     PST_EINVAL);
}

static void test_endpoint(void **unused)
{
    char buf[64];

    (void)unused;
    assert_int_equal(pst_enroll_endpoint("https://127.0.0.1:8443", "/v1/reports", buf, sizeof(buf)),
                     PST_OK);
    assert_string_equal(buf, "https://127.0.0.1:8443/v1/reports");
    assert_int_equal(pst_enroll_endpoint("https://c.example//", "/v1/enroll", buf, sizeof(buf)),
                     PST_OK);
    assert_string_equal(buf, "https://c.example/v1/enroll");
    assert_int_equal(pst_enroll_endpoint("http://c.example", "/v1/enroll", buf, sizeof(buf)),
                     PST_EINVAL);
    assert_int_equal(pst_enroll_endpoint("https://a-very-long-host-name.example.org:8443",
                                         "/v1/enroll", buf, 48),
                     PST_EINVAL);
}

static void test_settings(void **unused)
{
    static const char *const want[] = {
        ":5:3: unknown key 'retries' in the collector settings",
        ":3:8: the collector url must start with https://, not 'http://c'",
        ":4:12: timeout must be a positive duration such as 30, 30s, 10m or 1h, not '0'",
        ":2:38: max_bytes must be a positive number such as 1000 or 100MiB, not '10 MiB'",
        ":6:12: the backoff cap is below its base",
    };
    char *dir = tmproot_new();
    char path[512];
    struct pst_config *config = NULL;
    struct pst_diag d = {0};

    (void)unused;
    assert_int_equal(pst_config_load(NULL, &config, &d), PST_OK);
    assert_int_equal(config->collector.timeout_s, 60);
    assert_int_equal(config->collector.backoff_base_ms, 5000);
    assert_int_equal(config->collector.backoff_cap_ms, 600000);
    assert_int_equal(config->collector.spool_max_reports, 1000);
    assert_null(config->collector.url);
    pst_config_free(config);
    tmproot_write(dir, "/posture.yaml",
                  "state_dir: /srv/posture\n"
                  "collector:\n"
                  "  url: https://collector.example:8443\n"
                  "  ca_file: /etc/posture/ca.pem\n"
                  "  proxy: http://proxy.example:3128\n"
                  "  connect_timeout: 5s\n"
                  "  timeout: 2m\n"
                  "  interval: 1h\n"
                  "  spool: {max_reports: 50, max_bytes: 10MiB}\n"
                  "  backoff: {base: 2s, cap: 5m}\n",
                  0644);
    snprintf(path, sizeof(path), "%s/posture.yaml", dir);
    assert_int_equal(pst_config_load(path, &config, &d), PST_OK);
    assert_string_equal(config->collector.url, "https://collector.example:8443");
    assert_string_equal(config->collector.ca_file, "/etc/posture/ca.pem");
    assert_string_equal(config->collector.proxy, "http://proxy.example:3128");
    assert_string_equal(config->state_dir, "/srv/posture");
    assert_int_equal(config->collector.connect_timeout_s, 5);
    assert_int_equal(config->collector.timeout_s, 120);
    assert_int_equal(config->collector.interval_s, 3600);
    assert_int_equal(config->collector.spool_max_reports, 50);
    assert_int_equal(config->collector.spool_max_bytes, 10 * 1024 * 1024);
    assert_int_equal(config->collector.backoff_base_ms, 2000);
    assert_int_equal(config->collector.backoff_cap_ms, 300000);
    pst_config_free(config);
    tmproot_write(dir, "/bad.yaml",
                  "collector:\n"
                  "  spool: {max_reports: 3, max_bytes: 10 MiB}\n"
                  "  url: http://c\n"
                  "  timeout: 0\n"
                  "  retries: 3\n"
                  "  backoff: {base: 10m, cap: 1m}\n",
                  0644);
    snprintf(path, sizeof(path), "%s/bad.yaml", dir);
    assert_int_equal(pst_config_load(path, &config, &d), PST_EPARSE);
    expect_diag(&d, path, want, sizeof(want) / sizeof(want[0]));
    pst_diag_release(&d);
    tmproot_free(dir);
}

static void test_enroll_answer(void **unused)
{
    mbedtls_pk_context key;
    unsigned char pem[4096];
    struct pst_enroll_answer ans;
    char why[256];
    json_t *doc;
    char *text;

    (void)unused;
    self_signed(&key, "host-1", pem, sizeof(pem));
    doc = json_pack("{s:s, s:s, s:s}", "host_id", "host-1", "certificate", (char *)pem, "ca",
                    (char *)pem);
    text = json_dumps(doc, 0);
    assert_int_equal(pst_enroll_parse_answer(text, strlen(text), &ans, why, sizeof(why)), PST_OK);
    assert_string_equal(ans.host_id, "host-1");
    assert_string_equal(ans.ca_pem, (char *)pem);
    assert_null(ans.cert.next);
    pst_enroll_answer_release(&ans);
    free(text);
    /* Refused: a host id that is not a safe file content, two certificates, not PEM, missing. */
    static const char *const bad_ids[] = {"../etc", "", "a b", "h\n"};
    for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
        json_object_set_new(doc, "host_id", json_string(bad_ids[i]));
        text = json_dumps(doc, 0);
        assert_int_equal(pst_enroll_parse_answer(text, strlen(text), &ans, why, sizeof(why)),
                         PST_EPARSE);
        assert_string_equal(why, "the collector chose a host id this agent cannot keep");
        free(text);
    }
    json_object_set_new(doc, "host_id", json_string("host-1"));
    char two[8192];
    snprintf(two, sizeof(two), "%s%s", (char *)pem, (char *)pem);
    json_object_set_new(doc, "ca", json_string(two));
    text = json_dumps(doc, 0);
    assert_int_equal(pst_enroll_parse_answer(text, strlen(text), &ans, why, sizeof(why)),
                     PST_EPARSE);
    assert_string_equal(why, "the collector's certificate and CA must be one certificate each");
    free(text);
    json_object_set_new(doc, "ca", json_string("MIIB"));
    text = json_dumps(doc, 0);
    assert_int_equal(pst_enroll_parse_answer(text, strlen(text), &ans, why, sizeof(why)),
                     PST_EPARSE);
    assert_string_equal(why, "the collector's certificate or CA is not PEM");
    free(text);
    json_object_del(doc, "ca");
    text = json_dumps(doc, 0);
    assert_int_equal(pst_enroll_parse_answer(text, strlen(text), &ans, why, sizeof(why)),
                     PST_EPARSE);
    free(text);
    assert_int_equal(pst_enroll_parse_answer("{\"host_id\": 1", 14, &ans, why, sizeof(why)),
                     PST_EPARSE);
    json_decref(doc);
    mbedtls_pk_free(&key);
}

/* The signed report: payload = report + host_id, seq, spool_dropped; verifies with the key. */

/* A payload writer that fails, as one out of memory does. */
static int write_no_payload(void *arg, const char *host_id, uint64_t seq, uint64_t dropped,
                            char **text, size_t *len)
{
    (void)arg, (void)host_id, (void)seq, (void)dropped;
    *text = NULL;
    *len = 0;
    return PST_ENOMEM;
}

static void test_signed_report(void **unused)
{
    char *dir = tmproot_new();
    mbedtls_pk_context key;
    unsigned char pem[4096];
    struct pst_state *st = NULL;
    struct pst_identity *id = NULL;
    char path[512], why[256] = "";
    char *jws = NULL, *kid = NULL;
    unsigned char *payload = NULL;
    size_t len = 0, payload_len = 0;

    (void)unused;
    snprintf(path, sizeof(path), "%s/state", dir);
    assert_int_equal(pst_state_open(path, true, &st), PST_OK);
    /* Not enrolled yet. */
    assert_int_equal(pst_identity_load(st, &id, why, sizeof(why)), PST_ENOENT);
    self_signed(&key, "host-7", pem, sizeof(pem));
    assert_int_equal(pst_file_write_at(st->dirfd, PST_STATE_CERT, pem, strlen((char *)pem), 0644),
                     PST_OK);
    assert_int_equal(mbedtls_pk_write_key_pem(&key, pem, sizeof(pem)), 0);
    assert_int_equal(pst_file_write_at(st->dirfd, PST_STATE_KEY, pem, strlen((char *)pem), 0600),
                     PST_OK);
    /* A host id that is not the certificate's CN is refused. */
    assert_int_equal(pst_state_write_text(st, PST_STATE_HOST_ID, "host-8"), PST_OK);
    assert_int_equal(pst_identity_load(st, &id, why, sizeof(why)), PST_EINVAL);
    assert_int_equal(pst_state_write_text(st, PST_STATE_HOST_ID, "host-7"), PST_OK);
    assert_int_equal(pst_identity_load(st, &id, why, sizeof(why)), PST_OK);
    json_t *report = json_pack("{s:s, s:{s:s}, s:f}", "schema", "posture.report/v1", "policy", "id",
                               "p", "percent", 66.666666666666671);
    const struct pst_payload_writer writer = {pst_test_tree_payload, report};
    const struct pst_payload_writer failing = {write_no_payload, NULL};
    assert_int_equal(pst_identity_sign_report(id, &writer, 42, 3, &jws, &len), PST_OK);
    assert_int_equal(
        pst_jws_verify(jws, len, &id->cert.pk, &payload, &payload_len, &kid, why, sizeof(why)),
        PST_OK);
    assert_string_equal(kid, id->kid);
    json_t *doc = json_loads((char *)payload, 0, NULL);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "host_id")), "host-7");
    assert_int_equal(json_integer_value(json_object_get(doc, "seq")), 42);
    assert_int_equal(json_integer_value(json_object_get(doc, "spool_dropped")), 3);
    assert_string_equal(json_string_value(json_object_get(doc, "schema")), "posture.report/v1");
    /* The report given is not changed. */
    assert_null(json_object_get(report, "seq"));
    /* The payload is the text json_dumps gives for the report with the three members added. */
    assert_int_equal(json_object_set_new(report, "host_id", json_string("host-7")), 0);
    assert_int_equal(json_object_set_new(report, "seq", json_integer(42)), 0);
    assert_int_equal(json_object_set_new(report, "spool_dropped", json_integer(3)), 0);
    char *want = json_dumps(report, JSON_COMPACT | JSON_REAL_PRECISION(17));
    assert_int_equal(payload_len, strlen(want));
    assert_memory_equal(payload, want, payload_len);
    free(want);
    /* The writer's failure is the signer's; numbers a JSON integer cannot hold are refused. */
    free(jws);
    assert_int_equal(pst_identity_sign_report(id, &failing, 42, 3, &jws, &len), PST_ENOMEM);
    assert_null(jws);
    assert_int_equal(pst_identity_sign_report(id, &writer, (uint64_t)INT64_MAX + 1, 3, &jws, &len),
                     PST_EINVAL);
    assert_null(jws);
    assert_int_equal(pst_identity_sign_report(id, &writer, 1, UINT64_MAX, &jws, &len), PST_EINVAL);
    assert_null(jws);
    json_decref(doc);
    json_decref(report);
    free(payload);
    free(kid);
    free(jws);
    pst_identity_free(id);
    pst_state_free(st);
    mbedtls_pk_free(&key);
    tmproot_free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff),       cmocka_unit_test(test_fingerprint),
        cmocka_unit_test(test_endpoint),      cmocka_unit_test(test_settings),
        cmocka_unit_test(test_enroll_answer), cmocka_unit_test(test_signed_report),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
