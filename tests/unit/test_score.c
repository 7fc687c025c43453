/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of the secure score (Defender for Cloud's formula) and the compliance percent. */
#include "helpers.h"

#include "agent/error.h"
#include "agent/score.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static struct pst_control controls[4] = {
    {.id = "mgmt", .title = "Management ports", .max_score = 8},
    {.id = "access", .title = "Access", .max_score = 4},
    {.id = "logging", .title = "Logging", .max_score = 1},
    {.id = "updates", .title = "Updates", .max_score = 6},
};
static struct pst_control *control_list[4] = {&controls[0], &controls[1], &controls[2],
                                              &controls[3]};
static struct pst_exemption mitigated = {.kind = PST_EXEMPT_MITIGATED};
static struct pst_exemption waiver = {.kind = PST_EXEMPT_WAIVER};

static void test_defender_formula(void **state)
{
    struct pst_recommendation recs[8];
    struct pst_result results[8];
    struct pst_policy_set set = {.controls = control_list, .n_controls = 4};
    struct pst_control_result out[4];
    size_t n = 0;
    struct pst_score score;
    /* control, status, exemption */
    static const struct {
        int control;
        enum pst_status status;
        const struct pst_exemption *ex;
    } rows[8] = {
        {0, PST_STATUS_PASS, NULL}, /* mgmt: pass + mitigated -> healthy 8/8 */
        {0, PST_STATUS_EXEMPT, &mitigated},
        {1, PST_STATUS_PASS, NULL}, /* access: pass + fail -> unhealthy 0/4 */
        {1, PST_STATUS_FAIL, NULL},
        {2, PST_STATUS_PASS, NULL}, /* logging: pass + error -> unhealthy 0/1 */
        {2, PST_STATUS_ERROR, NULL},
        {3, PST_STATUS_NOT_APPLICABLE, NULL}, /* updates: n/a + waiver -> out of the score */
        {3, PST_STATUS_EXEMPT, &waiver},
    };

    (void)state;
    memset(recs, 0, sizeof(recs));
    memset(results, 0, sizeof(results));
    for (int i = 0; i < 8; i++) {
        recs[i].control = &controls[rows[i].control];
        results[i].rec = &recs[i];
        results[i].status = rows[i].status;
        results[i].exemption = rows[i].ex;
    }
    assert_int_equal(pst_score_compute(&set, results, 8, out, &n, &score), PST_OK);
    assert_int_equal(n, 4);
    /* order: potential increase (access 4, logging 1), then in score, then id */
    assert_string_equal(out[0].control->id, "access");
    assert_int_equal(out[0].potential_increase, 4);
    assert_false(out[0].healthy);
    assert_string_equal(out[1].control->id, "logging");
    assert_int_equal(out[1].potential_increase, 1);
    assert_string_equal(out[2].control->id, "mgmt");
    assert_true(out[2].healthy);
    assert_int_equal(out[2].current, 8);
    assert_int_equal(out[2].potential_increase, 0);
    assert_string_equal(out[3].control->id, "updates");
    assert_false(out[3].in_score);
    assert_int_equal(score.current, 8);
    assert_int_equal(score.max, 13);
    assert_true(score.has_percent);
    assert_true(score.percent == 61.54); /* 100 x 8 / 13, rounded to two decimals */
    assert_int_equal(score.pass, 3);
    assert_int_equal(score.fail, 1);
    assert_int_equal(score.error, 1);
    assert_int_equal(score.exempt, 2);
    assert_int_equal(score.mitigated, 1);
    assert_int_equal(score.not_applicable, 1);
    /* (3 pass + 1 mitigated) / (3 + 1 + 1 fail + 1 error) */
    assert_true(score.compliance_percent == 66.67);
    pst_score_release(out, n);
}

static void test_nothing_scored(void **state)
{
    struct pst_recommendation rec = {.control = &controls[0]};
    struct pst_result result = {.rec = &rec, .status = PST_STATUS_NOT_APPLICABLE};
    struct pst_policy_set set = {.controls = control_list, .n_controls = 4};
    struct pst_control_result out[4];
    size_t n = 0;
    struct pst_score score;

    (void)state;
    assert_int_equal(pst_score_compute(&set, &result, 1, out, &n, &score), PST_OK);
    assert_int_equal(n, 1); /* controls without results are not reported */
    assert_false(score.has_percent);
    assert_false(score.has_compliance);
    assert_int_equal(score.max, 0);
    pst_score_release(out, n);
}

/* Posture rounds without libm: the same answers as round() at every half and around it. */
static void test_round_as_libm(void **state)
{
    static const double edges[] = {0.0,
                                   0.5,
                                   1.5,
                                   2.5,
                                   -0.5,
                                   -1.5,
                                   0.49999999999999994,
                                   -0.49999999999999994,
                                   4503599627370495.5,
                                   1e300,
                                   -1e300};
    unsigned seed = 42;

    (void)state;
    for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
        assert_true(pst_score_round(edges[i] / 100.0) == round(edges[i] / 100.0 * 100.0) / 100.0);
    }
    for (int i = 0; i <= 100000; i++) {
        /* every percent with three decimals, and as many random ones */
        double p = i / 1000.0, q = (double)rand_r(&seed) / RAND_MAX * 200.0 - 50.0;
        assert_true(pst_score_round(p) == round(p * 100.0) / 100.0);
        assert_true(pst_score_round(q) == round(q * 100.0) / 100.0);
    }
    for (int i = 0; i < 2000; i++) {
        double h = (i - 1000) + 0.5; /* halves go away from zero */
        assert_true(pst_score_round(h / 100.0) == round(h / 100.0 * 100.0) / 100.0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defender_formula),
        cmocka_unit_test(test_nothing_scored),
        cmocka_unit_test(test_round_as_libm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
