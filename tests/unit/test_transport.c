/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of the transport helpers: backoff with full jitter, CA fingerprints, URLs, settings. */
#include "helpers.h"

#include "agent/error.h"
#include "config/config.h"
#include "transport/deliver.h"
#include "transport/enroll.h"
#include "transport/http.h"

#include <stdio.h>
#include <string.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_fingerprint),
        cmocka_unit_test(test_endpoint),
        cmocka_unit_test(test_settings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
