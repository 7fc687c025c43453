/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of the probe framework: facts of a call, their order and sources, the call cache. */
#include "helpers.h"

#include "agent/error.h"
#include "probes/probe.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* How many times each test probe's collect ran: what the call cache spares. */
static int runs;

static const struct pst_probe_arg test_args[] = {
    {.name = "tag", .type = PST_TYPE_STRING, .default_value = "x", .description = "a tag"},
    {.name = "count", .type = PST_TYPE_INT, .default_value = "3", .description = "a number"},
};

static const struct pst_probe_field test_fields[] = {
    {"alpha", PST_TYPE_STRING, "first declared"},
    {"beta", PST_TYPE_INT, "second declared"},
    {"gamma", PST_TYPE_BOOL, "third declared"},
    {"delta", PST_TYPE_STRING, "never set"},
};

/* Sets fields out of their declared order, one of them twice. */
static int order_collect(struct pst_probe_ctx *ctx, const json_t *args, struct pst_facts *out)
{
    (void)ctx;
    runs++;
    if (pst_facts_set(out, "gamma", json_true(), "/etc/g") != PST_OK ||
        pst_facts_set_at(out, "alpha", json_string(json_string_value(json_object_get(args, "tag"))),
                         "/etc/a", 7) != PST_OK ||
        pst_facts_set(out, "gamma", json_false(), "/etc/g2") != PST_OK ||
        pst_facts_set(out, "beta", json_integer(json_integer_value(json_object_get(args, "count"))),
                      NULL) != PST_OK) {
        return PST_ENOMEM;
    }
    /* what a probe set so far, as probes read it back */
    assert_true(json_is_false(pst_facts_get(out, "gamma")->value));
    assert_string_equal(pst_facts_get(out, "gamma")->source, "/etc/g2");
    assert_null(pst_facts_get(out, "delta"));
    assert_null(pst_facts_get(out, "nosuch"));
    return PST_OK;
}

static const struct pst_probe order_probe = {
    .name = "order",
    .summary = "sets its fields out of order",
    .args = test_args,
    .n_args = PST_COUNT(test_args),
    .fields = test_fields,
    .n_fields = PST_COUNT(test_fields),
    .collect = order_collect,
};

static void test_order_and_values(void **state)
{
    struct pst_probe_ctx ctx;
    const struct pst_call *call = NULL;
    json_t *json;
    char *text;

    (void)state;
    runs = 0;
    assert_int_equal(pst_probe_ctx_init(&ctx, NULL), PST_OK);
    assert_int_equal(pst_probe_call(&ctx, &order_probe, NULL, &call), PST_OK);
    assert_int_equal(call->n_set, 3);
    /* a field set twice keeps its first place with its last value, as json_object_set does */
    json = pst_call_json(call);
    text = json_dumps(json, JSON_COMPACT);
    assert_string_equal(text, "{\"probe\":\"order\",\"args\":{\"tag\":\"x\",\"count\":3},\"facts\":"
                              "{\"gamma\":{\"value\":false,\"source\":\"/etc/g2\"},"
                              "\"alpha\":{\"value\":\"x\",\"source\":\"/etc/a:7\"},"
                              "\"beta\":{\"value\":3,\"source\":null}},\"errors\":[]}");
    free(text);
    /* the reference: the same sets on a Jansson object, as facts were kept before */
    json_t *ref = json_object();
    json_object_set_new(ref, "gamma", json_true());
    json_object_set_new(ref, "alpha", json_string("x"));
    json_object_set_new(ref, "gamma", json_false());
    json_object_set_new(ref, "beta", json_integer(3));
    void *at = json_object_iter(json_object_get(json, "facts"));
    void *ref_at = json_object_iter(ref);
    for (; ref_at != NULL; ref_at = json_object_iter_next(ref, ref_at)) {
        assert_non_null(at);
        assert_string_equal(json_object_iter_key(at), json_object_iter_key(ref_at));
        assert_true(json_equal(json_object_get(json_object_iter_value(at), "value"),
                               json_object_iter_value(ref_at)));
        at = json_object_iter_next(json_object_get(json, "facts"), at);
    }
    assert_null(at);
    json_decref(ref);
    json_decref(json);

    assert_string_equal(pst_call_fact(call, &test_fields[0])->source, "/etc/a:7");
    assert_string_equal(json_string_value(pst_call_fact(call, &test_fields[0])->value), "x");
    assert_null(pst_call_fact(call, &test_fields[1])->source);
    assert_null(pst_call_fact(call, &test_fields[3]));
    assert_int_equal(pst_call_fact(call, &test_fields[2])->order, 0);
    assert_int_equal(pst_call_fact(call, &test_fields[0])->order, 1);
    assert_int_equal(json_integer_value(pst_call_value(call, "beta")), 3);
    assert_null(pst_call_value(call, "delta"));
    assert_null(pst_call_value(call, "nosuch"));
    assert_null(pst_call_fact_named(call, "nosuch"));
    pst_probe_ctx_release(&ctx);
}

static void test_cache_runs_each_call_once(void **state)
{
    struct pst_probe_ctx ctx;
    const struct pst_call *first = NULL, *call = NULL;
    json_t *given;

    (void)state;
    runs = 0;
    assert_int_equal(pst_probe_ctx_init(&ctx, NULL), PST_OK);
    assert_int_equal(pst_probe_call(&ctx, &order_probe, NULL, &first), PST_OK);
    /* the defaults spelled out are the same call */
    given = json_pack("{s:s, s:i}", "tag", "x", "count", 3);
    assert_int_equal(pst_probe_call(&ctx, &order_probe, given, &call), PST_OK);
    json_decref(given);
    assert_ptr_equal(call, first);
    assert_int_equal(runs, 1);

    /* an argument the probe does not declare (the loaders refuse them) makes another call */
    given = json_pack("{s:i, s:s}", "zzz", 1, "tag", "x");
    assert_int_equal(pst_probe_call(&ctx, &order_probe, given, &call), PST_OK);
    json_decref(given);
    assert_ptr_not_equal(call, first);
    assert_int_equal(runs, 2);

    given = json_pack("{s:s}", "tag", "y");
    assert_int_equal(pst_probe_call(&ctx, &order_probe, given, &call), PST_OK);
    json_decref(given);
    assert_ptr_not_equal(call, first);
    assert_string_equal(json_string_value(pst_call_value(call, "alpha")), "y");
    assert_int_equal(runs, 3);

    /* enough distinct calls to grow the table several times, each still found as itself */
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 1000; i++) {
            given = json_pack("{s:i}", "count", i);
            assert_int_equal(pst_probe_call(&ctx, &order_probe, given, &call), PST_OK);
            json_decref(given);
            assert_int_equal(json_integer_value(pst_call_value(call, "beta")), i);
        }
    }
    assert_int_equal(runs, 3 + 999); /* count 3 is the first call's */
    pst_probe_ctx_release(&ctx);
}

/* Sources as probes meet them, bytes that are not UTF-8 among them. */
static const char *const sources[] = {
    "/etc/plain",
    "/etc/caf\xc3\xa9",          /* UTF-8: kept */
    "/etc/caf\xe9",              /* Latin-1 */
    "/etc/\xc3\xa9\xff",         /* UTF-8, then a byte that never is */
    "/etc/\xed\xa0\x80",         /* a surrogate */
    "/etc/\xf4\x90\x80\x80",     /* past U+10FFFF */
    "/etc/\xc0\xaf",             /* overlong "/" */
    "/etc/\xe2\x82",             /* cut short */
    "/etc/\xf0\x9f\x94\x92 key", /* four bytes: kept */
};
static char long_source[20000]; /* longer than a block of the call cache */

static int sources_collect(struct pst_probe_ctx *ctx, const json_t *args, struct pst_facts *out)
{
    json_int_t i = json_integer_value(json_object_get(args, "count"));

    (void)ctx;
    runs++;
    return pst_facts_set(out, "alpha", json_true(),
                         i < (json_int_t)PST_COUNT(sources) ? sources[i] : long_source);
}

static const struct pst_probe sources_probe = {
    .name = "sources",
    .summary = "one fact with a source read from the system",
    .args = test_args,
    .n_args = PST_COUNT(test_args),
    .fields = test_fields,
    .n_fields = PST_COUNT(test_fields),
    .collect = sources_collect,
};

static void test_sources_are_utf8(void **state)
{
    struct pst_probe_ctx ctx;
    const struct pst_call *call = NULL;

    (void)state;
    memset(long_source, 'a', sizeof(long_source) - 2);
    long_source[0] = '/';
    long_source[sizeof(long_source) - 2] = '\xfe';
    assert_int_equal(pst_probe_ctx_init(&ctx, NULL), PST_OK);
    for (size_t i = 0; i <= PST_COUNT(sources); i++) {
        const char *source = i < PST_COUNT(sources) ? sources[i] : long_source;
        json_t *given = json_pack("{s:i}", "count", (json_int_t)i);
        /* the reference: what the report showed when sources were made by pst_json_text */
        json_t *want = pst_json_text(source);
        assert_int_equal(pst_probe_call(&ctx, &sources_probe, given, &call), PST_OK);
        assert_string_equal(pst_call_fact(call, &test_fields[0])->source, json_string_value(want));
        json_decref(want);
        json_decref(given);
    }
    pst_probe_ctx_release(&ctx);
    /* and what that is */
    json_t *latin = pst_json_text(sources[2]);
    assert_string_equal(json_string_value(latin), "/etc/caf?");
    json_decref(latin);
    json_t *mixed = pst_json_text(sources[3]);
    assert_string_equal(json_string_value(mixed), "/etc/???");
    json_decref(mixed);
}

/*
 * The N bytes at S against Jansson's own check, which the report's strings have always passed;
 * continuation bytes follow them, for a check that would read past N to take.
 */
static void check_utf8(const char *s, size_t n)
{
    char buf[16];
    json_t *v;
    bool valid;

    memset(buf, 0x80, sizeof(buf));
    memcpy(buf, s, n);
    v = json_stringn(buf, n);
    valid = pst_utf8_valid(buf, n);
    if (valid != (v != NULL)) {
        char hex[64] = "";
        for (size_t i = 0; i < n; i++) {
            snprintf(hex + strlen(hex), sizeof(hex) - strlen(hex), "%02x ", (unsigned char)s[i]);
        }
        fail_msg("%s: posture says %s, Jansson says %s", hex, valid ? "UTF-8" : "not UTF-8",
                 v != NULL ? "UTF-8" : "not UTF-8");
    }
    json_decref(v);
}

static void test_utf8_as_jansson(void **state)
{
    /* every lead byte, followed by the bytes where the rules change */
    static const unsigned char after[] = {0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0,
                                          0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xf0, 0xf4, 0xff};
    char s[4];

    (void)state;
    for (unsigned lead = 0; lead < 256; lead++) {
        s[0] = (char)lead;
        check_utf8(s, 1);
        for (size_t a = 0; a < sizeof(after); a++) {
            s[1] = (char)after[a];
            check_utf8(s, 2);
            for (size_t b = 0; b < sizeof(after); b++) {
                s[2] = (char)after[b];
                check_utf8(s, 3);
                for (size_t c = 0; c < sizeof(after); c++) {
                    s[3] = (char)after[c];
                    check_utf8(s, 4);
                }
            }
        }
    }
    /* the edges of each length, and of the surrogates */
    static const char *const edges[] = {
        "\xc2\x80",         "\xdf\xbf",         "\xe0\xa0\x80",     "\xe0\x9f\xbf",
        "\xed\x9f\xbf",     "\xed\xa0\x80",     "\xed\xbf\xbf",     "\xee\x80\x80",
        "\xef\xbf\xbf",     "\xf0\x90\x80\x80", "\xf0\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf",
        "\xf4\x90\x80\x80", "a\xc3\xa9z",
    };
    for (size_t i = 0; i < PST_COUNT(edges); i++) {
        check_utf8(edges[i], strlen(edges[i]));
    }
    assert_true(pst_utf8_valid("", 0));
}

/* Sets a field its probe does not declare, after one it does. */
static int undeclared_collect(struct pst_probe_ctx *ctx, const json_t *args, struct pst_facts *out)
{
    (void)ctx;
    (void)args;
    if (pst_facts_set(out, "alpha", json_string("a"), "/etc/a") != PST_OK) {
        return PST_ENOMEM;
    }
    return pst_facts_set(out, "exists", json_true(), "/etc/a");
}

static const struct pst_probe undeclared_probe = {
    .name = "undeclared",
    .summary = "sets a field it does not declare",
    .fields = test_fields,
    .n_fields = PST_COUNT(test_fields),
    .collect = undeclared_collect,
};

static void test_undeclared_field(void **state)
{
    struct pst_probe_ctx ctx;
    const struct pst_call *call = NULL;
    int status;
    pid_t pid;

    (void)state;
    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct rlimit none = {0, 0};
        setrlimit(RLIMIT_CORE, &none);
        if (pst_probe_ctx_init(&ctx, NULL) != PST_OK ||
            pst_probe_call(&ctx, &undeclared_probe, NULL, &call) != PST_OK) {
            _exit(2);
        }
        /* a build without assertions goes on, the bug in the call's errors */
        json_t *json = pst_call_json(call);
        char *text = json_dumps(json, JSON_COMPACT);
        int same = strcmp(text, "{\"probe\":\"undeclared\",\"args\":{},\"facts\":{\"alpha\":"
                                "{\"value\":\"a\",\"source\":\"/etc/a\"}},\"errors\":[{\"source\":"
                                "null,\"message\":\"probe 'undeclared' sets field 'exists', "
                                "which it does not declare\"}]}");
        free(text);
        json_decref(json);
        pst_probe_ctx_release(&ctx);
        _exit(same == 0 ? 0 : 3);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
#ifdef NDEBUG
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
#else
    /* a build with assertions, as tests and fuzzing run, stops at once */
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
#endif
}

/* Calls the order probe from its own collect: the key buffer and the table serve both. */
static int nested_collect(struct pst_probe_ctx *ctx, const json_t *args, struct pst_facts *out)
{
    const struct pst_call *inner = NULL;
    json_t *given = json_pack("{s:s}", "tag", "inner");
    int rc = pst_probe_call(ctx, &order_probe, given, &inner);

    (void)args;
    json_decref(given);
    if (rc != PST_OK) {
        return rc;
    }
    return pst_facts_set(out, "alpha", json_incref((json_t *)pst_call_value(inner, "alpha")),
                         pst_call_fact_named(inner, "alpha")->source);
}

static const struct pst_probe nested_probe = {
    .name = "nested",
    .summary = "calls another probe",
    .args = test_args,
    .n_args = PST_COUNT(test_args),
    .fields = test_fields,
    .n_fields = PST_COUNT(test_fields),
    .collect = nested_collect,
};

static void test_nested_call(void **state)
{
    struct pst_probe_ctx ctx;
    const struct pst_call *outer = NULL, *inner = NULL;
    json_t *given = json_pack("{s:s}", "tag", "inner");

    (void)state;
    runs = 0;
    assert_int_equal(pst_probe_ctx_init(&ctx, NULL), PST_OK);
    assert_int_equal(pst_probe_call(&ctx, &nested_probe, NULL, &outer), PST_OK);
    assert_int_equal(pst_probe_call(&ctx, &order_probe, given, &inner), PST_OK);
    assert_int_equal(runs, 1);
    assert_string_equal(json_string_value(pst_call_value(outer, "alpha")), "inner");
    assert_string_equal(pst_call_fact_named(outer, "alpha")->source, "/etc/a:7");
    assert_ptr_equal(pst_call_value(outer, "alpha"), pst_call_value(inner, "alpha"));
    json_decref(given);
    pst_probe_ctx_release(&ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_and_values), cmocka_unit_test(test_cache_runs_each_call_once),
        cmocka_unit_test(test_sources_are_utf8), cmocka_unit_test(test_utf8_as_jansson),
        cmocka_unit_test(test_undeclared_field), cmocka_unit_test(test_nested_call),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
