/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of Debian version parsing and ordering. The same cases, and 10,000 more drawn from
 * this machine's apt lists, are checked against dpkg itself by integration/debversion.
 */
#include "helpers.h"

#include "agent/error.h"
#include "probes/debversion.h"

#include <string.h>

static void test_order(void **state)
{
    static const struct {
        const char *a, *b;
        int sign;
    } cases[] = {
        {"1.0", "1.0", 0},
        {"1.0", "1.0-0", 0},    /* an absent revision is "0" */
        {"0:1.0", "1.0", 0},    /* epoch 0 is no epoch */
        {"1:0.1", "0:9.9", 1},  /* the epoch counts first */
        {"10:1", "9:1", 1},     /* numerically */
        {"1.0~rc1", "1.0", -1}, /* ~ sorts before the end */
        {"1.0~~", "1.0~", -1},  /* and before another ~ */
        {"1.0~rc1", "1.0~rc2", -1},
        {"1.0", "1.0+", -1},        /* the end before anything but ~ */
        {"1.0a", "1.0+", -1},       /* letters before other characters */
        {"1.0A", "1.0a", -1},       /* upper case before lower case */
        {"1.0.", "1.0+", 1},        /* '.' after '+' in ASCII */
        {"1.2.10", "1.2.3", 1},     /* digit runs numerically */
        {"1.002", "1.2", 0},        /* leading zeros ignored */
        {"1.0-1", "1.0-1~bpo1", 1}, /* backports below the release */
        {"2.36-9+deb12u13", "2.36-9+deb12u10", 1},
        {"1.0-a-b", "1.0-a", 1}, /* the last hyphen splits the revision */
        {"1:1:1", "1:1", 1},     /* a colon may follow the epoch's */
        {"9", "10", -1},
    };
    (void)state;
    for (size_t i = 0; i < PST_COUNT(cases); i++) {
        bool ok = false;
        int rc = pst_debversion_compare(cases[i].a, cases[i].b, &ok);
        int back = pst_debversion_compare(cases[i].b, cases[i].a, NULL);
        assert_true(ok);
        if ((rc > 0) - (rc < 0) != cases[i].sign || (back > 0) - (back < 0) != -cases[i].sign) {
            fail_msg("%s vs %s: got %d, expected sign %d", cases[i].a, cases[i].b, rc,
                     cases[i].sign);
        }
    }
}

static void test_rejected(void **state)
{
    static const struct {
        const char *version, *why;
    } cases[] = {
        {"", "version string is empty"},
        {"  ", "version string is empty"},
        {"1 2", "version string has embedded spaces"},
        {"1:", "nothing after colon in version number"},
        {":1", "epoch in version is empty"},
        {"x:1", "epoch in version is empty"},
        {"1x:1", "epoch in version is not number"},
        {"-1:1", "epoch in version is negative"},
        {"2147483648:1", "epoch in version is too big"},
        {"99999999999999999999999999999999999:1", "epoch in version is too big"},
        {"1.0-", "revision number is empty"},
        {"1:-1", "version number is empty"},
    };
    (void)state;
    for (size_t i = 0; i < PST_COUNT(cases); i++) {
        struct pst_debversion v;
        const char *why = NULL;
        bool ok = true;
        assert_int_equal(pst_debversion_parse(cases[i].version, &v, NULL, &why), PST_EPARSE);
        assert_non_null(why);
        if (strcmp(why, cases[i].why) != 0) {
            fail_msg("'%s': got '%s', expected '%s'", cases[i].version, why, cases[i].why);
        }
        assert_int_equal(pst_debversion_compare(cases[i].version, "1", &ok), 0);
        assert_false(ok);
    }
}

static void test_warnings(void **state)
{
    struct pst_debversion v;
    const char *warning = NULL;
    (void)state;
    /* dpkg warns about these but still compares them */
    assert_int_equal(pst_debversion_parse("a1", &v, &warning, NULL), PST_OK);
    assert_string_equal(warning, "version number does not start with digit");
    assert_int_equal(pst_debversion_parse("1.0_b", &v, &warning, NULL), PST_OK);
    assert_string_equal(warning, "invalid character in version number");
    assert_int_equal(pst_debversion_parse("1.0-a_b", &v, &warning, NULL), PST_OK);
    assert_string_equal(warning, "invalid character in revision number");
    assert_int_equal(pst_debversion_parse(" 7:1.2-3 ", &v, &warning, NULL), PST_OK);
    assert_null(warning);
    assert_int_equal(v.epoch, 7);
    assert_int_equal(v.upstream_len, 3);
    assert_memory_equal(v.upstream, "1.2", 3);
    assert_int_equal(v.revision_len, 1);
    assert_memory_equal(v.revision, "3", 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order),
        cmocka_unit_test(test_rejected),
        cmocka_unit_test(test_warnings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
