/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of the collector's storage: token verdicts, the seq rule, revocation, the fleet score. */
#include "helpers.h"

#include "agent/error.h"
#include "collector/server.h"
#include "collector/store.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fixture {
    char *dir;
    struct pst_store *st;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char path[4096];

    f->dir = tmproot_new();
    snprintf(path, sizeof(path), "%s/collector.db", f->dir);
    assert_int_equal(pst_store_open(path, &f->st), PST_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    pst_store_free(f->st);
    tmproot_free(f->dir);
    free(f);
    return 0;
}

/* A host as enrollment records it: id HOST, fingerprint and kid derived from it. */
static void add_host(struct pst_store *st, const char *host)
{
    struct pst_issued issued = {0};
    enum pst_token_verdict v;
    char hash[65];

    snprintf(issued.host_id, sizeof(issued.host_id), "%s", host);
    snprintf(issued.fingerprint, sizeof(issued.fingerprint), "fp-%s", host);
    snprintf(issued.kid, sizeof(issued.kid), "kid-%s", host);
    snprintf(issued.serial, sizeof(issued.serial), "01");
    snprintf(hash, sizeof(hash), "token-%s", host);
    assert_int_equal(pst_store_token_add(st, hash, 100, 200, 1), PST_OK);
    assert_int_equal(pst_store_enroll(st, hash, 150, &issued, &v), PST_OK);
    assert_int_equal(v, PST_TOKEN_OK);
}

static void test_tokens(void **state)
{
    struct fixture *f = *state;
    struct pst_issued a = {.host_id = "a", .fingerprint = "fa", .kid = "ka", .serial = "1"};
    struct pst_issued b = {.host_id = "b", .fingerprint = "fb", .kid = "kb", .serial = "2"};
    struct pst_issued c = {.host_id = "c", .fingerprint = "fc", .kid = "kc", .serial = "3"};
    struct pst_host_ref ref;
    enum pst_token_verdict v;
    bool found;

    assert_int_equal(pst_store_token_add(f->st, "h2", 100, 1000, 2), PST_OK);
    assert_int_equal(pst_store_enroll(f->st, "nope", 500, &a, &v), PST_OK);
    assert_int_equal(v, PST_TOKEN_UNKNOWN);
    /* At the expiry second itself the token is already expired. */
    assert_int_equal(pst_store_enroll(f->st, "h2", 1000, &a, &v), PST_OK);
    assert_int_equal(v, PST_TOKEN_EXPIRED);
    assert_int_equal(pst_store_enroll(f->st, "h2", 999, &a, &v), PST_OK);
    assert_int_equal(v, PST_TOKEN_OK);
    assert_int_equal(pst_store_enroll(f->st, "h2", 999, &b, &v), PST_OK);
    assert_int_equal(v, PST_TOKEN_OK);
    assert_int_equal(pst_store_enroll(f->st, "h2", 999, &c, &v), PST_OK);
    assert_int_equal(v, PST_TOKEN_USED_UP);
    /* Refused enrollments record no host. */
    assert_int_equal(pst_store_host_by_fingerprint(f->st, "fc", &ref, &found), PST_OK);
    assert_false(found);
    assert_int_equal(pst_store_host_by_fingerprint(f->st, "fb", &ref, &found), PST_OK);
    assert_true(found);
    assert_string_equal(ref.host_id, "b");
    assert_string_equal(ref.kid, "kb");
    assert_false(ref.revoked);
}

static void test_seq_and_revocation(void **state)
{
    struct fixture *f = *state;
    struct pst_report_summary s = {.host_id = "h", .seq = 3};
    enum pst_report_verdict v;
    struct pst_host_ref ref;
    int64_t last, count;
    bool found;

    add_host(f->st, "h");
    assert_int_equal(pst_store_report(f->st, &s, "jws3", 4, 10, &v, &last), PST_OK);
    assert_int_equal(v, PST_REPORT_STORED);
    assert_int_equal(last, 3);
    s.seq = 3;
    assert_int_equal(pst_store_report(f->st, &s, "jws3b", 5, 11, &v, &last), PST_OK);
    assert_int_equal(v, PST_REPORT_REPLAY);
    assert_int_equal(last, 3);
    s.seq = 2;
    assert_int_equal(pst_store_report(f->st, &s, "jws2", 4, 12, &v, &last), PST_OK);
    assert_int_equal(v, PST_REPORT_REPLAY);
    s.seq = 4;
    assert_int_equal(pst_store_report(f->st, &s, "jws4", 4, 13, &v, &last), PST_OK);
    assert_int_equal(v, PST_REPORT_STORED);
    s.host_id = "ghost";
    assert_int_equal(pst_store_report(f->st, &s, "jws", 3, 14, &v, &last), PST_OK);
    assert_int_equal(v, PST_REPORT_UNKNOWN);
    assert_int_equal(pst_store_revoke(f->st, "h", 20, &found), PST_OK);
    assert_true(found);
    assert_int_equal(pst_store_revoke(f->st, "ghost", 20, &found), PST_OK);
    assert_false(found);
    s.host_id = "h";
    s.seq = 9;
    assert_int_equal(pst_store_report(f->st, &s, "jws9", 4, 21, &v, &last), PST_OK);
    assert_int_equal(v, PST_REPORT_REVOKED);
    assert_int_equal(pst_store_host_by_fingerprint(f->st, "fp-h", &ref, &found), PST_OK);
    assert_true(ref.revoked);
    assert_int_equal(pst_store_count_reports(f->st, &count), PST_OK);
    assert_int_equal(count, 2);
}

/* Stores a report for HOST with controls TEXT (a JSON array). */
static void store_report(struct pst_store *st, const char *host, int64_t seq, const char *text)
{
    json_error_t err;
    json_t *controls = json_loads(text, 0, &err);
    struct pst_report_summary s = {.host_id = host, .seq = seq, .controls = controls};
    enum pst_report_verdict v;
    int64_t last;

    assert_non_null(controls);
    assert_int_equal(pst_store_report(st, &s, "x", 1, seq, &v, &last), PST_OK);
    assert_int_equal(v, PST_REPORT_STORED);
    json_decref(controls);
}

static double num(const json_t *o, const char *key)
{
    return json_number_value(json_object_get(o, key));
}

static void test_fleet(void **state)
{
    struct fixture *f = *state;
    json_t *fleet = NULL, *c;

    add_host(f->st, "h1");
    add_host(f->st, "h2");
    add_host(f->st, "h3");
    /* h1 and h2 disagree on "a"'s weight (two policy versions): each counts with its own. */
    store_report(
        f->st, "h1", 1,
        "[{\"id\":\"a\",\"title\":\"A\",\"max_score\":4,\"healthy\":true,\"in_score\":true},"
        "{\"id\":\"b\",\"title\":\"B\",\"max_score\":2,\"healthy\":false,\"in_score\":true},"
        "{\"id\":\"c\",\"title\":\"C\",\"max_score\":9,\"healthy\":false,\"in_score\":false}]");
    store_report(
        f->st, "h2", 1,
        "[{\"id\":\"a\",\"title\":\"A\",\"max_score\":6,\"healthy\":false,\"in_score\":true},"
        "{\"id\":\"b\",\"title\":\"B\",\"max_score\":2,\"healthy\":true,\"in_score\":true}]");
    /* h3's only report has no control in its score; then h3 is revoked anyway. */
    store_report(
        f->st, "h3", 1,
        "[{\"id\":\"a\",\"title\":\"A\",\"max_score\":4,\"healthy\":true,\"in_score\":true}]");
    bool found;
    assert_int_equal(pst_store_revoke(f->st, "h3", 5, &found), PST_OK);
    assert_int_equal(pst_store_fleet(f->st, &fleet), PST_OK);
    /*
     * a: hosts h1 (4, healthy), h2 (6, unhealthy): max (4 + 6) / 2 = 5, current 4 / 2 = 2,
     *    potential 3. b: 2 x 1/2 = 1, potential 1. c is in no host's score.
     * overall: 100 x (2 + 1) / (5 + 2) = 42.86.
     */
    assert_int_equal(json_integer_value(json_object_get(fleet, "hosts")), 2);
    assert_true(fabs(num(json_object_get(fleet, "score"), "percent") - 42.86) < 1e-9);
    assert_true(fabs(num(json_object_get(fleet, "score"), "current") - 3.0) < 1e-9);
    assert_true(fabs(num(json_object_get(fleet, "score"), "max") - 7.0) < 1e-9);
    assert_int_equal(json_array_size(json_object_get(fleet, "controls")), 2);
    c = json_array_get(json_object_get(fleet, "controls"), 0);
    assert_string_equal(json_string_value(json_object_get(c, "id")), "a");
    assert_true(fabs(num(c, "max_score") - 5.0) < 1e-9);
    assert_true(fabs(num(c, "current") - 2.0) < 1e-9);
    assert_true(fabs(num(c, "potential_increase") - 3.0) < 1e-9);
    assert_int_equal(json_integer_value(json_object_get(c, "healthy_hosts")), 1);
    c = json_array_get(json_object_get(fleet, "controls"), 1);
    assert_string_equal(json_string_value(json_object_get(c, "id")), "b");
    assert_true(fabs(num(c, "current") - 1.0) < 1e-9);
    json_decref(fleet);

    /* A later report replaces the host's controls: h1's b becomes healthy. */
    store_report(
        f->st, "h1", 2,
        "[{\"id\":\"a\",\"title\":\"A\",\"max_score\":4,\"healthy\":true,\"in_score\":true},"
        "{\"id\":\"b\",\"title\":\"B\",\"max_score\":2,\"healthy\":true,\"in_score\":true}]");
    assert_int_equal(pst_store_fleet(f->st, &fleet), PST_OK);
    /* 100 x (2 + 2) / (5 + 2) = 57.14 */
    assert_true(fabs(num(json_object_get(fleet, "score"), "percent") - 57.14) < 1e-9);
    json_decref(fleet);
}

static void test_listen(void **state)
{
    struct sockaddr_storage a;
    static const char *bad[] = {
        "",        "127.0.0.1", "127.0.0.1:",   "127.0.0.1:65536", "1.2.3:80",
        "[::1]80", "[::1:80",   "localhost:80", "127.0.0.1:8x",    ":80"};

    (void)state;
    assert_int_equal(pst_server_parse_listen("127.0.0.1:8443", &a), PST_OK);
    assert_int_equal(a.ss_family, AF_INET);
    assert_int_equal(ntohs(((struct sockaddr_in *)&a)->sin_port), 8443);
    assert_int_equal(pst_server_parse_listen("[::1]:0", &a), PST_OK);
    assert_int_equal(a.ss_family, AF_INET6);
    assert_int_equal(pst_server_parse_listen("0.0.0.0:443", &a), PST_OK);
    for (size_t i = 0; i < PST_COUNT(bad); i++) {
        assert_int_equal(pst_server_parse_listen(bad[i], &a), PST_EINVAL);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seq_and_revocation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fleet, setup, teardown),
        cmocka_unit_test(test_listen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
