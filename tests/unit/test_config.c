/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of the agent configuration: exemptions, dates, unknown keys, defaults. */
#include "helpers.h"

#include "agent/error.h"
#include "config/config.h"

#include <stdio.h>
#include <string.h>

static void test_exemptions(void **state)
{
    char *dir = tmproot_new();
    char path[512];
    struct pst_config *config = NULL;
    struct pst_diag d = {0};

    (void)state;
    tmproot_write(dir, "/posture.yaml",
                  "parameters: {a: 1}\n"
                  "exemptions:\n"
                  "  - recommendation: ssh-password-auth-disabled\n"
                  "    kind: mitigated\n"
                  "    reason: VPN only\n"
                  "    expires: 2027-06-30\n"
                  "  - {recommendation: aide-installed, kind: waiver, reason: EDR instead}\n",
                  0644);
    snprintf(path, sizeof(path), "%s/posture.yaml", dir);
    assert_int_equal(pst_config_load(path, &config, &d), PST_OK);
    assert_int_equal(config->n_exemptions, 2);
    assert_string_equal(config->exemptions[0].recommendation, "ssh-password-auth-disabled");
    assert_int_equal(config->exemptions[0].kind, PST_EXEMPT_MITIGATED);
    assert_string_equal(config->exemptions[0].expires, "2027-06-30");
    assert_int_equal(config->exemptions[0].line, 3);
    assert_int_equal(config->exemptions[1].kind, PST_EXEMPT_WAIVER);
    assert_string_equal(config->exemptions[1].expires, "");
    assert_non_null(pst_ymap_get(config->parameters, "a"));
    pst_config_free(config);
    tmproot_free(dir);
}

static void test_errors(void **state)
{
    static const char *const want[] = {
        ":1:1: unknown key 'colour' in the agent configuration",
        ":3:12: exemption kind must be mitigated or waiver, not 'ignore'",
        ":4:59: expires must be a date YYYY-MM-DD, not '2027-02-30'",
        ":5:47: an exemption needs a reason",
        ":6:5: an exemption is missing required key 'reason'",
    };
    char *dir = tmproot_new();
    char path[512];
    struct pst_config *config = NULL;
    struct pst_diag d = {0};

    (void)state;
    tmproot_write(dir, "/posture.yaml",
                  "colour: red\n"
                  "exemptions:\n"
                  "  - {kind: ignore, recommendation: a, reason: r}\n"
                  "  - {recommendation: b, kind: waiver, reason: r, expires: 2027-02-30}\n"
                  "  - {recommendation: c, kind: waiver, reason: \"\"}\n"
                  "  - {recommendation: d, kind: waiver}\n",
                  0644);
    snprintf(path, sizeof(path), "%s/posture.yaml", dir);
    assert_int_equal(pst_config_load(path, &config, &d), PST_EPARSE);
    assert_null(config);
    expect_diag(&d, path, want, PST_COUNT(want));
    pst_diag_release(&d);
    snprintf(path, sizeof(path), "%s/missing.yaml", dir);
    assert_int_equal(pst_config_load(path, &config, &d), PST_EPARSE);
    assert_int_equal(d.count, 1);
    pst_diag_release(&d);
    tmproot_free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exemptions),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
