/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of the JSON writer: byte for byte what jansson's json_dumps prints, on real reports. */
#include "helpers.h"

#include "agent/error.h"
#include "agent/jsonw.h"
#include "agent/report.h"
#include "agent/scan.h"
#include "config/config.h"
#include "config/policy.h"

#include <dirent.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The report's flags (agent/main.c), the signed payload's (transport/identity.c), and the
 * other combinations the writer takes: one line, compact, odd and maximal indents, other
 * precisions, scalar roots. */
static const size_t flag_sets[] = {
    JSON_INDENT(2) | JSON_REAL_PRECISION(17),
    JSON_COMPACT | JSON_REAL_PRECISION(17),
    0,
    JSON_COMPACT,
    JSON_INDENT(1),
    JSON_INDENT(2) | JSON_COMPACT | JSON_REAL_PRECISION(17),
    JSON_INDENT(31) | JSON_REAL_PRECISION(5),
    JSON_REAL_PRECISION(1) | JSON_ENCODE_ANY,
    JSON_INDENT(3) | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(31),
};

/* Where two texts first differ, for a readable failure. */
static void report_difference(const char *want, const char *got, size_t got_len, size_t flags)
{
    size_t want_len = strlen(want), i = 0;

    while (i < want_len && i < got_len && want[i] == got[i]) {
        i++;
    }
    print_error("flags 0x%zx: lengths %zu (json_dumps) and %zu, first difference at %zu: "
                "json_dumps \"%.40s\", jsonw \"%.40s\"\n",
                flags, want_len, got_len, i, want + (i < want_len ? i : want_len),
                got + (i < got_len ? i : got_len));
}

/* Texts longer than this are not written a second time as a stream: the deepest documents
 * indented by 31 make a hundred megabytes of spaces, which the tree writer's comparison
 * covers (the stream shares its code), and which would double the test's time under
 * valgrind (tests/integration/valgrind.sh). */
#define STREAM_COMPARED_MAX (1024u * 1024u)

/* Whether S (N bytes) is a C string: no NUL inside, so that the stream's C-string calls can
 * write it. */
static bool c_string(const char *s, size_t n)
{
    return memchr(s, '\0', n) == NULL;
}

/* Writes JSON into the stream W token by token: containers with begin/end, keys and scalars
 * with their own calls, and every third member (and whatever the stream cannot say: strings
 * with a NUL, nesting past its bound) as a tree with pst_jsonw_value, so that both kinds of
 * call meet at every place. False when a key holds a NUL (no C-string call writes it). */
static bool stream_tree(struct pst_jsonw *w, const json_t *json, size_t nth)
{
    bool ok = true;

    if (nth % 3 == 2 || w->depth + 1 >= PST_JSONW_STREAM_DEPTH) {
        pst_jsonw_value(w, json);
        return true;
    }
    switch (json_typeof(json)) {
    case JSON_OBJECT: {
        const char *key;
        size_t key_len, i = 0;
        json_t *value;
        pst_jsonw_begin_object(w);
        json_object_keylen_foreach((json_t *)json, key, key_len, value)
        {
            ok = ok && c_string(key, key_len);
            pst_jsonw_key(w, key);
            ok = stream_tree(w, value, i++) && ok;
        }
        pst_jsonw_end_object(w);
        break;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *value;
        pst_jsonw_begin_array(w);
        json_array_foreach(json, i, value)
        {
            ok = stream_tree(w, value, i) && ok;
        }
        pst_jsonw_end_array(w);
        break;
    }
    case JSON_STRING:
        if (c_string(json_string_value(json), json_string_length(json))) {
            pst_jsonw_string(w, json_string_value(json));
        } else {
            pst_jsonw_value(w, json);
        }
        break;
    case JSON_INTEGER:
        pst_jsonw_integer(w, json_integer_value(json));
        break;
    case JSON_REAL:
        pst_jsonw_real(w, json_real_value(json));
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        pst_jsonw_bool(w, json_is_true(json));
        break;
    case JSON_NULL:
        pst_jsonw_null(w);
        break;
    }
    return ok;
}

/* Asserts that the writer prints JSON exactly as json_dumps does with FLAGS, or fails where it
 * fails, both from the tree and as a stream of tokens. Returns whether json_dumps succeeded. */
static bool expect_same(const json_t *json, size_t flags)
{
    char *want = json_dumps(json, flags), *got = NULL;
    size_t len = 0;
    int rc = pst_jsonw_dumps(json, flags, &got, &len);
    struct pst_jsonw w;
    bool comparable;

    if (want == NULL) {
        assert_int_not_equal(rc, PST_OK);
        assert_null(got);
        return false;
    }
    if (rc != PST_OK || len != strlen(want) || memcmp(want, got, len) != 0) {
        if (rc == PST_OK) {
            report_difference(want, got, len, flags);
        }
        assert_int_equal(rc, PST_OK);
        fail();
    }
    assert_int_equal(got[len], '\0');
    free(got);
    got = NULL;
    if (len > STREAM_COMPARED_MAX) {
        free(want);
        return true;
    }
    assert_int_equal(pst_jsonw_init(&w, flags), PST_OK);
    comparable = stream_tree(&w, json, 0);
    rc = pst_jsonw_finish(&w, &got, &len);
    if (comparable && (rc != PST_OK || len != strlen(want) || memcmp(want, got, len) != 0)) {
        if (rc == PST_OK) {
            report_difference(want, got, len, flags);
        }
        print_error("the stream differs\n");
        assert_int_equal(rc, PST_OK);
        fail();
    }
    free(want);
    free(got);
    return true;
}

/* expect_same with every flag set; returns how many printed. */
static size_t expect_same_all(const json_t *json)
{
    size_t printed = 0;

    for (size_t i = 0; i < PST_COUNT(flag_sets); i++) {
        printed += expect_same(json, flag_sets[i]);
    }
    return printed;
}

/* A few texts asserted literally, so that the reference itself is pinned down. */
static void test_literal(void **state)
{
    (void)state;
    json_t *doc = json_pack("{s:[], s:{}, s:[i, f, {s:n}], s:s#}", "a", "b", "c", 1, 0.5, "d", "e",
                            "q\"\\/\x01\n\x7f\0z", (size_t)9);
    char *out = NULL;
    size_t len = 0;

    assert_non_null(doc);
    assert_int_equal(pst_jsonw_dumps(doc, JSON_INDENT(2), &out, &len), PST_OK);
    assert_string_equal(out, "{\n  \"a\": [],\n  \"b\": {},\n  \"c\": [\n    1,\n    0.5,\n"
                             "    {\n      \"d\": null\n    }\n  ],\n"
                             "  \"e\": \"q\\\"\\\\/\\u0001\\n\x7f\\u0000z\"\n}");
    assert_int_equal(len, strlen(out));
    free(out);
    assert_int_equal(pst_jsonw_dumps(doc, JSON_COMPACT, &out, &len), PST_OK);
    assert_string_equal(out, "{\"a\":[],\"b\":{},\"c\":[1,0.5,{\"d\":null}],"
                             "\"e\":\"q\\\"\\\\/\\u0001\\n\x7f\\u0000z\"}");
    free(out);
    assert_int_equal(pst_jsonw_dumps(doc, 0, &out, &len), PST_OK);
    assert_string_equal(out, "{\"a\": [], \"b\": {}, \"c\": [1, 0.5, {\"d\": null}], "
                             "\"e\": \"q\\\"\\\\/\\u0001\\n\x7f\\u0000z\"}");
    free(out);
    assert_true(expect_same_all(doc) == PST_COUNT(flag_sets));
    json_decref(doc);
}

/* Every byte below 0x80, alone and inside text, in values and keys (NUL included). */
static void test_ascii_escapes(void **state)
{
    (void)state;
    json_t *arr = json_array(), *obj = json_object();
    char all[0x80];

    for (int c = 0; c < 0x80; c++) {
        char text[3] = {'a', (char)c, 'b'};
        all[c] = (char)c;
        assert_int_equal(json_array_append_new(arr, json_stringn(text, 3)), 0);
        assert_int_equal(json_array_append_new(arr, json_stringn(text + 1, 1)), 0);
        assert_int_equal(json_object_setn_new(obj, text, 3, json_integer(c)), 0);
    }
    assert_int_equal(json_array_append_new(arr, json_stringn(all, sizeof(all))), 0);
    assert_int_equal(json_object_setn_new(obj, all, sizeof(all), json_true()), 0);
    assert_int_equal(json_array_append(arr, obj), 0);
    assert_true(expect_same_all(arr) == PST_COUNT(flag_sets));
    json_decref(obj);
    json_decref(arr);
}

/* Each kind of byte that leaves the eight-byte fast path, at every position of strings of 1
 * to 40 bytes, so that every alignment of the word scan is crossed. */
static void test_fast_path_alignment(void **state)
{
    (void)state;
    static const char *const specials[] = {
        "\"",
        "\\",
        "\x01",
        "\x1f",
        " ",
        "\x7f",
        "/",
        "\xc3\xa9",
        "\xe2\x82\xac",
        "\xf0\x9f\x98\x80",
        "\xc2\x80",
        "\xef\xbf\xbf",
    };
    json_t *arr = json_array();

    for (size_t len = 1; len <= 40; len++) {
        for (size_t pos = 0; pos < len; pos++) {
            for (size_t s = 0; s < PST_COUNT(specials); s++) {
                char text[64];
                size_t n = strlen(specials[s]);
                memset(text, 'x', sizeof(text));
                memcpy(text + pos, specials[s], n);
                assert_int_equal(json_array_append_new(arr, json_stringn(text, len + n - 1)), 0);
            }
        }
    }
    assert_true(expect_same(arr, JSON_INDENT(2) | JSON_REAL_PRECISION(17)));
    assert_true(expect_same(arr, JSON_COMPACT | JSON_REAL_PRECISION(17)));
    json_decref(arr);
}

/* Strings longer than the writer's chunk: escapes that grow sixfold, and multi-byte
 * characters across every chunk boundary. */
static void test_long_strings(void **state)
{
    (void)state;
    static const char pattern[] = "\x01\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"\\abc\n";
    json_t *arr = json_array(), *keys = json_object();
    size_t big = 3 * 4096 + 123;
    char *text = malloc(big);

    assert_non_null(text);
    memset(text, '\x02', big);
    assert_int_equal(json_array_append_new(arr, json_stringn(text, big)), 0);
    for (size_t shift = 0; shift < 16; shift++) {
        for (size_t i = 0; i < big; i++) {
            text[i] = pattern[(i + shift) % (sizeof(pattern) - 1)];
        }
        /* whole characters only: cut partial sequences at both ends */
        size_t n = big, start = 0;
        while (((unsigned char)text[start] & 0xC0) == 0x80) {
            start++;
        }
        while (n > 0 && ((unsigned char)text[n - 1] & 0xC0) == 0x80) {
            n--;
        }
        if (n > 0 && (unsigned char)text[n - 1] >= 0xC0) {
            n--;
        }
        assert_int_equal(json_array_append_new(arr, json_stringn(text + start, n - start)), 0);
        assert_int_equal(json_object_setn_new(keys, text + start, n - start, json_null()), 0);
    }
    assert_int_equal(json_array_append_new(arr, keys), 0);
    memset(text, 'a', big);
    assert_int_equal(json_array_append_new(arr, json_stringn(text, big)), 0);
    free(text);
    assert_true(expect_same_all(arr) == PST_COUNT(flag_sets));
    json_decref(arr);
}

/* Well-formed UTF-8 at the edges of each sequence length is copied; ill-formed bytes (only a
 * _nocheck constructor lets them in) fail both writers in values, and the writer in keys. */
static void test_utf8(void **state)
{
    (void)state;
    static const char *const good[] = {
        "\xc2\x80",     "\xdf\xbf",         "\xe0\xa0\x80",     "\xed\x9f\xbf",     "\xee\x80\x80",
        "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf", "\xf3\xbf\xbf\xbf",
    };
    static const char *const bad[] = {
        "\x80",
        "\xbf",
        "\xc0\x80",
        "\xc1\xbf",
        "\xc2",
        "\xc2\x41",
        "\xe0\x9f\xbf",
        "\xed\xa0\x80",
        "\xed\xbf\xbf",
        "\xe2\x82",
        "\xe2\x28\xa1",
        "\xf0\x8f\xbf\xbf",
        "\xf4\x90\x80\x80",
        "\xf5\x80\x80\x80",
        "\xff",
        "\xf0\x9f\x98",
        "\xfe",
    };

    for (size_t i = 0; i < PST_COUNT(good); i++) {
        json_t *arr = json_pack("[s, {s:i}]", good[i], good[i], 1);
        assert_non_null(arr);
        assert_true(expect_same_all(arr) == PST_COUNT(flag_sets));
        json_decref(arr);
    }
    for (size_t i = 0; i < PST_COUNT(bad); i++) {
        char text[16];
        json_t *arr = json_array(), *obj = json_object();
        char *out = NULL;
        size_t len = 0;
        int n = snprintf(text, sizeof(text), "ab%scd", bad[i]);

        assert_null(json_string(bad[i]));
        assert_int_equal(json_array_append_new(arr, json_stringn_nocheck(text, (size_t)n)), 0);
        assert_int_equal(expect_same_all(arr), 0);
        assert_int_equal(pst_jsonw_dumps(arr, JSON_INDENT(2), &out, &len), PST_EPARSE);
        assert_null(out);
        /* json_dumps ignores the failure of a key (dump.c) and prints an unterminated
         * string, {": true}: the writer refuses the key instead */
        assert_int_equal(json_object_set_new_nocheck(obj, text, json_true()), 0);
        char *broken = json_dumps(obj, JSON_COMPACT);
        assert_string_equal(broken, "{\":true}");
        free(broken);
        assert_int_equal(pst_jsonw_dumps(obj, JSON_COMPACT, &out, &len), PST_EPARSE);
        assert_null(out);
        json_decref(obj);
        json_decref(arr);
    }
}

/* Integers across the whole range, powers of ten and their neighbours. */
static void test_integers(void **state)
{
    (void)state;
    json_t *arr = json_array();
    json_int_t p = 0;

    for (int i = 0; i <= 18; i++) {
        p = i == 0 ? 1 : p * 10; /* up to 10^18, the last power below LLONG_MAX */
        json_int_t v[] = {p, p - 1, p + 1, -p, -p + 1, -p - 1};
        for (size_t k = 0; k < PST_COUNT(v); k++) {
            assert_int_equal(json_array_append_new(arr, json_integer(v[k])), 0);
        }
    }
    json_int_t edges[] = {0, LLONG_MAX, LLONG_MIN, LLONG_MIN + 1, INT32_MAX, INT32_MIN, UINT32_MAX};
    for (size_t k = 0; k < PST_COUNT(edges); k++) {
        assert_int_equal(json_array_append_new(arr, json_integer(edges[k])), 0);
    }
    assert_true(expect_same_all(arr) == PST_COUNT(flag_sets));
    json_decref(arr);
}

/* Reals as jansson prints them: named edge cases, then 20,000 bit patterns. */
static void test_reals(void **state)
{
    (void)state;
    static const double named[] = {
        0.1,       1e300,
        -0.0,      100.0,
        1e-7,      0.0,
        1.0,       -1.0,
        0.5,       1.5,
        3.0,       1e15,
        1e16,      1e17,
        1e21,      1e22,
        1e-4,      1e-5,
        0.001,     123.456,
        2e-308,    5e-324,
        DBL_MAX,   -DBL_MAX,
        DBL_MIN,   9007199254740993.0,
        1.0 / 3.0, 2.0 / 3.0,
        -1e-300,   66.666666666666671,
        99.99,     12345678901234567890.0,
        1e100,     4.35,
    };
    json_t *arr = json_array();
    uint64_t x = 0x9E3779B97F4A7C15ull;

    assert_null(json_real(NAN));
    assert_null(json_real(INFINITY));
    assert_null(json_real(-INFINITY));
    for (size_t i = 0; i < PST_COUNT(named); i++) {
        assert_int_equal(json_array_append_new(arr, json_real(named[i])), 0);
    }
    for (int i = 0; i < 20000; i++) {
        double d;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        memcpy(&d, &x, sizeof(d));
        if (isfinite(d)) {
            assert_int_equal(json_array_append_new(arr, json_real(d)), 0);
        }
        /* and values of a human scale: two decimals, as percentages are */
        assert_int_equal(json_array_append_new(arr, json_real((double)(x % 100000) / 100.0)), 0);
    }
    assert_true(expect_same_all(arr) == PST_COUNT(flag_sets));
    json_decref(arr);
}

/* Empty and nested empty containers, and scalar roots (refused without JSON_ENCODE_ANY). */
static void test_containers_and_roots(void **state)
{
    (void)state;
    static const char *const docs[] = {
        "[]",
        "{}",
        "[[]]",
        "[{}]",
        "{\"a\":{}}",
        "{\"a\":[]}",
        "[[],{},[[]],{\"\":{}}]",
        "{\"\":\"\"}",
        "[null,true,false]",
        "[[1],[2,[3,[4,{}]]]]",
    };
    static const char *const scalars[] = {"1", "\"text\"", "null", "true", "false", "-0.0"};
    char *out = NULL;
    size_t len = 0;

    for (size_t i = 0; i < PST_COUNT(docs); i++) {
        json_t *doc = json_loads(docs[i], 0, NULL);
        assert_non_null(doc);
        assert_true(expect_same_all(doc) == PST_COUNT(flag_sets));
        json_decref(doc);
    }
    for (size_t i = 0; i < PST_COUNT(scalars); i++) {
        json_t *doc = json_loads(scalars[i], JSON_DECODE_ANY, NULL);
        assert_non_null(doc);
        /* printed exactly by the flag sets with JSON_ENCODE_ANY (two of them) */
        assert_int_equal(expect_same_all(doc), 2);
        assert_int_equal(pst_jsonw_dumps(doc, JSON_INDENT(2), &out, &len), PST_EINVAL);
        assert_null(out);
        json_decref(doc);
    }
    assert_int_equal(pst_jsonw_dumps(NULL, JSON_ENCODE_ANY, &out, &len), PST_EINVAL);
}

/* The flags the writer does not implement are refused, not ignored. */
static void test_refused_flags(void **state)
{
    (void)state;
    static const size_t refused[] = {JSON_SORT_KEYS, JSON_ENSURE_ASCII, JSON_ESCAPE_SLASH,
                                     JSON_EMBED, (size_t)1 << 20};
    json_t *doc = json_pack("{s:s}", "a", "b/c");
    char *out = NULL;
    size_t len = 0;

    for (size_t i = 0; i < PST_COUNT(refused); i++) {
        assert_int_equal(pst_jsonw_dumps(doc, JSON_INDENT(2) | refused[i], &out, &len), PST_EINVAL);
        assert_null(out);
    }
    json_decref(doc);
}

/* Nesting as deep as jansson's parser allows prints; one level more, and a cycle, fail. */
static void test_depth(void **state)
{
    (void)state;
    size_t n = PST_JSONW_MAX_DEPTH;
    char *text = malloc(2 * n + 1), *out = NULL;
    size_t len = 0;
    json_t *doc, *inner, *outer;

    assert_non_null(text);
    memset(text, '[', n);
    memset(text + n, ']', n);
    text[2 * n] = '\0';
    doc = json_loads(text, 0, NULL);
    free(text);
    assert_non_null(doc);
    assert_true(expect_same_all(doc) == PST_COUNT(flag_sets));
    outer = json_array();
    assert_int_equal(json_array_append_new(outer, doc), 0);
    assert_int_equal(pst_jsonw_dumps(outer, JSON_COMPACT, &out, &len), PST_ETOOBIG);
    assert_null(out);
    json_decref(outer);

    /* objects, built by hand */
    doc = json_object();
    inner = doc;
    for (size_t i = 1; i < n; i++) {
        json_t *next = json_object();
        assert_int_equal(json_object_set_new(inner, "k", next), 0);
        inner = next;
    }
    assert_true(expect_same_all(doc) == PST_COUNT(flag_sets));
    json_decref(doc);

    /* a cycle: json_dumps detects it, the writer reaches its depth bound */
    outer = json_array();
    inner = json_array();
    assert_int_equal(json_array_append(outer, inner), 0);
    assert_int_equal(json_array_append(inner, outer), 0);
    assert_int_equal(expect_same_all(outer), 0);
    assert_int_equal(pst_jsonw_dumps(outer, JSON_ENCODE_ANY, &out, &len), PST_ETOOBIG);
    json_array_clear(inner);
    json_decref(inner);
    json_decref(outer);
}

/* A stream written call by call, asserted literally in both of the report's formats, with
 * string parts and a tree in the middle. */
static void test_stream_literal(void **state)
{
    (void)state;
    static const char *const parts[] = {"le ", "4", " ($max)", "", "\n\"\xc3\xa9"};
    static const char *const want[] = {
        "{\n  \"a\": [],\n  \"b\": {},\n  \"c\": [\n    1,\n    0.5,\n    null,\n    true\n  ],\n"
        "  \"d\": \"le 4 ($max)\\n\\\"\xc3\xa9\",\n  \"e\": {\n    \"t\": [\n      1,\n"
        "      {}\n    ]\n  },\n  \"f\": null,\n  \"g\": false\n}",
        "{\"a\":[],\"b\":{},\"c\":[1,0.5,null,true],\"d\":\"le 4 ($max)\\n\\\"\xc3\xa9\","
        "\"e\":{\"t\":[1,{}]},\"f\":null,\"g\":false}",
    };
    static const size_t flags[] = {JSON_INDENT(2) | JSON_REAL_PRECISION(17),
                                   JSON_COMPACT | JSON_REAL_PRECISION(17)};
    json_t *tree = json_pack("{s:[i, {}]}", "t", 1);

    for (size_t i = 0; i < PST_COUNT(flags); i++) {
        struct pst_jsonw w;
        char *out = NULL;
        size_t len = 0;
        assert_int_equal(pst_jsonw_init(&w, flags[i]), PST_OK);
        pst_jsonw_begin_object(&w);
        pst_jsonw_key(&w, "a");
        pst_jsonw_begin_array(&w);
        pst_jsonw_end_array(&w);
        pst_jsonw_key(&w, "b");
        pst_jsonw_begin_object(&w);
        pst_jsonw_end_object(&w);
        pst_jsonw_key(&w, "c");
        pst_jsonw_begin_array(&w);
        pst_jsonw_integer(&w, 1);
        pst_jsonw_real(&w, 0.5);
        pst_jsonw_string(&w, NULL);
        pst_jsonw_bool(&w, true);
        pst_jsonw_end_array(&w);
        pst_jsonw_key(&w, "d");
        pst_jsonw_string_parts(&w, parts, PST_COUNT(parts));
        pst_jsonw_key(&w, "e");
        pst_jsonw_value(&w, tree);
        pst_jsonw_key(&w, "f");
        pst_jsonw_value(&w, NULL);
        pst_jsonw_key(&w, "g");
        pst_jsonw_bool(&w, false);
        assert_int_equal(pst_jsonw_end_object(&w), PST_OK);
        assert_int_equal(pst_jsonw_finish(&w, &out, &len), PST_OK);
        assert_string_equal(out, want[i]);
        assert_int_equal(len, strlen(want[i]));
        assert_null(w.buf);
        free(out);
    }
    json_decref(tree);
}

/* Starts W with the report's flags and opens an object in it. */
static void open_object(struct pst_jsonw *w)
{
    assert_int_equal(pst_jsonw_init(w, JSON_INDENT(2)), PST_OK);
    assert_int_equal(pst_jsonw_begin_object(w), PST_OK);
}

/* Asserts that W failed with RC, that the failure sticks and that finishing gives nothing. */
static void expect_failed(struct pst_jsonw *w, int rc)
{
    char *out = (char *)"x";
    size_t len = 1;

    assert_int_equal(w->error, rc);
    assert_int_equal(pst_jsonw_null(w), rc);
    assert_int_equal(pst_jsonw_end_object(w), rc);
    assert_int_equal(pst_jsonw_finish(w, &out, &len), rc);
    assert_null(out);
    assert_int_equal(len, 0);
    assert_null(w->buf);
}

/* Calls out of place, bad values and bounds fail with the code the header names, and the
 * first failure is the one kept. */
static void test_stream_errors(void **state)
{
    (void)state;
    struct pst_jsonw w;
    char *out = NULL;
    size_t len = 0;
    const char *const bad_part[] = {"ok", "\xc3"};
    const char *const null_part[] = {"ok", NULL};

    /* a value in an object without its key; a key in an array; a key after a key */
    open_object(&w);
    assert_int_equal(pst_jsonw_integer(&w, 1), PST_EINVAL);
    expect_failed(&w, PST_EINVAL);
    assert_int_equal(pst_jsonw_init(&w, 0), PST_OK);
    pst_jsonw_begin_array(&w);
    assert_int_equal(pst_jsonw_key(&w, "k"), PST_EINVAL);
    expect_failed(&w, PST_EINVAL);
    open_object(&w);
    pst_jsonw_key(&w, "k");
    assert_int_equal(pst_jsonw_key(&w, "l"), PST_EINVAL);
    expect_failed(&w, PST_EINVAL);
    open_object(&w);
    assert_int_equal(pst_jsonw_key(&w, NULL), PST_EINVAL);
    expect_failed(&w, PST_EINVAL);
    /* the wrong end, an end after a key, an end with nothing open, a second root */
    open_object(&w);
    assert_int_equal(pst_jsonw_end_array(&w), PST_EINVAL);
    expect_failed(&w, PST_EINVAL);
    open_object(&w);
    pst_jsonw_key(&w, "k");
    assert_int_equal(pst_jsonw_end_object(&w), PST_EINVAL);
    expect_failed(&w, PST_EINVAL);
    assert_int_equal(pst_jsonw_init(&w, 0), PST_OK);
    assert_int_equal(pst_jsonw_end_array(&w), PST_EINVAL);
    expect_failed(&w, PST_EINVAL);
    assert_int_equal(pst_jsonw_init(&w, 0), PST_OK);
    assert_int_equal(pst_jsonw_integer(&w, 7), PST_OK);
    assert_int_equal(pst_jsonw_integer(&w, 8), PST_EINVAL);
    expect_failed(&w, PST_EINVAL);
    /* unfinished documents: a container open, a key without its value, nothing at all */
    open_object(&w);
    assert_int_equal(pst_jsonw_finish(&w, &out, &len), PST_EINVAL);
    assert_null(out);
    open_object(&w);
    pst_jsonw_key(&w, "k");
    assert_int_equal(pst_jsonw_finish(&w, &out, &len), PST_EINVAL);
    assert_int_equal(pst_jsonw_init(&w, 0), PST_OK);
    assert_int_equal(pst_jsonw_finish(&w, &out, &len), PST_EINVAL);
    assert_null(out);
    /* flags the writer does not take */
    assert_int_equal(pst_jsonw_init(&w, JSON_SORT_KEYS), PST_EINVAL);
    expect_failed(&w, PST_EINVAL);
    /* invalid UTF-8 in a key, a string, a part; a NULL part; reals jansson does not hold */
    open_object(&w);
    assert_int_equal(pst_jsonw_key(&w, "a\xff"), PST_EPARSE);
    expect_failed(&w, PST_EPARSE);
    assert_int_equal(pst_jsonw_init(&w, 0), PST_OK);
    assert_int_equal(pst_jsonw_string(&w, "\xed\xa0\x80"), PST_EPARSE);
    expect_failed(&w, PST_EPARSE);
    assert_int_equal(pst_jsonw_init(&w, 0), PST_OK);
    assert_int_equal(pst_jsonw_string_parts(&w, bad_part, 2), PST_EPARSE);
    expect_failed(&w, PST_EPARSE);
    assert_int_equal(pst_jsonw_init(&w, 0), PST_OK);
    assert_int_equal(pst_jsonw_string_parts(&w, null_part, 2), PST_EINVAL);
    expect_failed(&w, PST_EINVAL);
    assert_int_equal(pst_jsonw_init(&w, 0), PST_OK);
    assert_int_equal(pst_jsonw_real(&w, NAN), PST_EINVAL);
    expect_failed(&w, PST_EINVAL);
    /* a tree the tree writer refuses fails the stream */
    json_t *bad = json_stringn_nocheck("\xc0\x80", 2);
    assert_int_equal(pst_jsonw_init(&w, 0), PST_OK);
    assert_int_equal(pst_jsonw_value(&w, bad), PST_EPARSE);
    expect_failed(&w, PST_EPARSE);
    json_decref(bad);

    /* nesting: the stream's bound, then a tree inside it up to the tree writer's */
    assert_int_equal(pst_jsonw_init(&w, JSON_COMPACT), PST_OK);
    for (int i = 0; i < PST_JSONW_STREAM_DEPTH; i++) {
        assert_int_equal(pst_jsonw_begin_array(&w), PST_OK);
    }
    assert_int_equal(pst_jsonw_begin_object(&w), PST_ETOOBIG);
    expect_failed(&w, PST_ETOOBIG);
    size_t n = PST_JSONW_MAX_DEPTH - PST_JSONW_STREAM_DEPTH;
    char *text = malloc(2 * n + 1);
    assert_non_null(text);
    memset(text, '[', n);
    memset(text + n, ']', n);
    text[2 * n] = '\0';
    json_t *deep = json_loads(text, 0, NULL);
    assert_non_null(deep);
    for (int extra = 0; extra < 2; extra++) {
        assert_int_equal(pst_jsonw_init(&w, JSON_COMPACT), PST_OK);
        for (int i = 0; i < PST_JSONW_STREAM_DEPTH + extra; i++) {
            pst_jsonw_begin_array(&w);
        }
        if (extra == 0) {
            assert_int_equal(pst_jsonw_value(&w, deep), PST_OK);
            for (int i = 0; i < PST_JSONW_STREAM_DEPTH; i++) {
                pst_jsonw_end_array(&w);
            }
            assert_int_equal(pst_jsonw_finish(&w, &out, &len), PST_OK);
            assert_int_equal(len, 2 * PST_JSONW_MAX_DEPTH);
            free(out);
        } else {
            assert_int_equal(w.error, PST_ETOOBIG);
            pst_jsonw_release(&w);
        }
    }
    json_decref(deep);
    free(text);

    /* reset forgets a failure and keeps the buffer */
    assert_int_equal(pst_jsonw_init(&w, JSON_COMPACT), PST_OK);
    pst_jsonw_string(&w, "abc");
    assert_int_equal(pst_jsonw_string(&w, "second root"), PST_EINVAL);
    char *kept = w.buf;
    pst_jsonw_reset(&w);
    assert_int_equal(pst_jsonw_begin_array(&w), PST_OK);
    pst_jsonw_integer(&w, -3);
    assert_int_equal(pst_jsonw_end_array(&w), PST_OK);
    assert_ptr_equal(w.buf, kept);
    assert_int_equal(pst_jsonw_finish(&w, &out, &len), PST_OK);
    assert_string_equal(out, "[-3]");
    free(out);
}

/* Every file under DIR (recursively, symlinks not followed) that jansson loads is printed
 * alike; returns how many loaded. */
static size_t compare_files(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    size_t loaded = 0;

    assert_non_null(d);
    while ((de = readdir(d)) != NULL) {
        char path[4096];
        struct stat st;
        json_t *doc;
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) {
            continue;
        }
        assert_true(snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) < (int)sizeof(path));
        if (lstat(path, &st) != 0) {
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            loaded += compare_files(path);
            continue;
        }
        if (!S_ISREG(st.st_mode) || st.st_size > 8 * 1024 * 1024) {
            continue;
        }
        doc = json_load_file(path, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        if (doc != NULL) {
            expect_same_all(doc);
            json_decref(doc);
            loaded++;
        }
    }
    closedir(d);
    return loaded;
}

/* Every JSON document of the repository's test data and fuzz corpora. */
static void test_repository_json(void **state)
{
    (void)state;
    const char *data = getenv("POSTURE_TEST_DATA");
    char path[4096];
    size_t loaded;

    assert_non_null(data);
    loaded = compare_files(data);
    snprintf(path, sizeof(path), "%s/../fuzz/corpus", data);
    loaded += compare_files(path);
    print_message("%zu JSON documents compared\n", loaded);
    /* the enrollment answers (4) and the writer's own seeds (8) at least */
    assert_true(loaded >= 12);
}

/* The report of SCAN as a jansson tree, built with jansson's own calls as
 * docs/report-format.md describes it: the reference the report writer is held to. */
/*
 * The expected side of LEAF made here from its parts, as the report format says it
 * (docs/report-format.md): operator, operand (a string bare, any other value as json_dumps's
 * compact JSON), and the parameter the operand came from. Caller frees.
 */
static char *reference_expected(const struct pst_check *leaf)
{
    char *operand = json_is_string(leaf->operand)
                        ? strdup(json_string_value(leaf->operand))
                        : json_dumps(leaf->operand, JSON_COMPACT | JSON_ENCODE_ANY);
    char *text = NULL;

    assert_non_null(operand);
    assert_true(asprintf(&text, "%s %s%s%s%s", pst_op_name(leaf->op), operand,
                         leaf->parameter ? " ($" : "", leaf->parameter ? leaf->parameter : "",
                         leaf->parameter ? ")" : "") > 0);
    free(operand);
    return text;
}

static json_t *reference_report(const struct pst_scan *scan)
{
    const struct pst_policy_set *set = scan->policies;
    const struct pst_score *s = &scan->score;
    json_t *policies = json_array(), *controls = json_array(), *results = json_array();

    for (size_t i = 0; i < set->n_policies; i++) {
        const struct pst_policy *p = set->policies[i];
        json_array_append_new(policies, json_pack("{s:s, s:I, s:s, s:s}", "id", p->id, "version",
                                                  (json_int_t)p->version, "title", p->title,
                                                  "sha256", p->sha256));
    }
    for (size_t i = 0; i < scan->n_controls; i++) {
        const struct pst_control_result *cr = &scan->controls[i];
        json_t *ids = json_array();
        for (size_t k = 0; k < cr->n_results; k++) {
            json_array_append_new(ids, json_string(scan->results[cr->results[k]].rec->id));
        }
        json_array_append_new(
            controls,
            json_pack("{s:s, s:s, s:I, s:I, s:I, s:b, s:b, s:O, s:o}", "id", cr->control->id,
                      "title", cr->control->title, "max_score", (json_int_t)cr->control->max_score,
                      "current", (json_int_t)cr->current, "potential_increase",
                      (json_int_t)cr->potential_increase, "healthy", cr->healthy, "in_score",
                      cr->in_score, "mcsb", cr->control->mcsb, "recommendations", ids));
    }
    for (size_t i = 0; i < scan->n_results; i++) {
        const struct pst_result *r = &scan->results[i];
        const struct pst_recommendation *rec = r->rec;
        json_t *evidence = json_array();
        for (size_t k = 0; k < r->n_evidence; k++) {
            const struct pst_evidence *ev = &r->evidence[k];
            char *expected = reference_expected(ev->leaf);
            json_t *item =
                json_pack("{s:s, s:O, s:O, s:s?, s:s?, s:s, s:s?}", "fact", ev->leaf->fact, "args",
                          ev->leaf->args, "observed", ev->observed ? ev->observed : json_null(),
                          "expected", expected, "source", ev->source, "outcome",
                          pst_outcome_name(ev->outcome), "error", ev->error);
            assert_non_null(item);
            if (ev->offending != NULL) {
                json_object_set(item, "offending", ev->offending);
            }
            json_array_append_new(evidence, item);
            free(expected);
        }
        json_t *obj =
            json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:o, s:I, s:s, s:s, s:O, s:s}", "id",
                      rec->id, "title", rec->title, "control", rec->control->id, "severity",
                      pst_severity_name(rec->severity), "status", pst_status_name(r->status),
                      "reason", r->reason, "evidence", evidence, "evidence_omitted",
                      (json_int_t)r->evidence_omitted, "rationale", rec->rationale, "remediation",
                      rec->remediation, "references", rec->references, "policy", rec->policy->id);
        assert_non_null(obj);
        if (r->exemption != NULL) {
            json_object_set_new(obj, "exemption",
                                json_pack("{s:s, s:s, s:s?}", "kind",
                                          pst_exemption_kind_name(r->exemption->kind), "reason",
                                          r->exemption->reason, "expires",
                                          r->exemption->expires[0] ? r->exemption->expires : NULL));
        }
        json_array_append_new(results, obj);
    }
    json_t *report = json_pack(
        "{s:s, s:{s:s}, s:O, s:s?, s:O, s:o, s:s, s:s, s:{s:{s:I, s:I, s:o}, s:{s:I, s:I, s:I, "
        "s:I, s:I, s:I, s:o}}, s:o, s:o, s:O, s:{s:I, s:b}}",
        "schema", PST_REPORT_SCHEMA, "agent", "version", POSTURE_VERSION, "host", scan->host,
        "root", scan->root, "policy",
        json_array_size(policies) > 0 ? json_array_get(policies, 0) : json_null(), "policies",
        policies, "started_at", scan->started_at, "finished_at", scan->finished_at, "score",
        "secure", "current", (json_int_t)s->current, "max", (json_int_t)s->max, "percent",
        s->has_percent ? json_real(s->percent) : json_null(), "compliance", "pass",
        (json_int_t)s->pass, "fail", (json_int_t)s->fail, "not_applicable",
        (json_int_t)s->not_applicable, "exempt", (json_int_t)s->exempt, "mitigated",
        (json_int_t)s->mitigated, "error", (json_int_t)s->error, "percent",
        s->has_compliance ? json_real(s->compliance_percent) : json_null(), "controls", controls,
        "results", results, "warnings", scan->warnings, "assessment", "needs_root",
        (json_int_t)scan->needs_root, "complete", s->error == 0);
    assert_non_null(report);
    return report;
}

/* Asserts that the report writer prints with FLAGS what json_dumps prints for WANT. */
static void expect_report(const struct pst_scan *scan, size_t flags,
                          const struct pst_report_trailer *trailer, const json_t *want_tree)
{
    char *want = json_dumps(want_tree, flags), *got = NULL;
    size_t len = 0;

    assert_non_null(want);
    assert_int_equal(pst_report_json(scan, flags, trailer, &got, &len), PST_OK);
    if (len != strlen(want) || memcmp(want, got, len) != 0) {
        report_difference(want, got, len, flags);
        fail();
    }
    free(want);
    free(got);
}

/* Scans ROOT with SET and compares the report's texts: the report writer's, in the report's
 * format and as the signed payload with its trailer, with json_dumps of the reference tree;
 * and the tree writer's with every flag set. */
static void compare_report(const struct pst_policy_set *set, const struct pst_config *config,
                           const char *root)
{
    const struct pst_report_trailer trailer = {"host-7.example", 42, (uint64_t)INT64_MAX};
    struct pst_scan *scan = NULL;
    char *error = NULL, *out = NULL;
    size_t len = 0;
    json_t *report;

    int rc = pst_scan_run(set, config, root, NULL, 0, &scan, &error);

    if (rc != PST_OK) {
        print_error("scan of %s: %s\n", root, error != NULL ? error : pst_strerror(rc));
    }
    assert_int_equal(rc, PST_OK);
    report = reference_report(scan);
    assert_true(expect_same_all(report) == PST_COUNT(flag_sets));
    expect_report(scan, JSON_INDENT(2) | JSON_REAL_PRECISION(17), NULL, report);
    expect_report(scan, JSON_COMPACT | JSON_REAL_PRECISION(17), NULL, report);
    assert_int_equal(json_object_set_new(report, "host_id", json_string(trailer.host_id)), 0);
    assert_int_equal(json_object_set_new(report, "seq", json_integer(42)), 0);
    assert_int_equal(json_object_set_new(report, "spool_dropped", json_integer(INT64_MAX)), 0);
    expect_report(scan, JSON_COMPACT | JSON_REAL_PRECISION(17), &trailer, report);
    expect_report(scan, JSON_INDENT(2) | JSON_REAL_PRECISION(17), &trailer, report);
    /* numbers a JSON integer cannot hold are refused */
    const struct pst_report_trailer too_big = {"h", (uint64_t)INT64_MAX + 1, 0};
    assert_int_equal(pst_report_json(scan, JSON_COMPACT, &too_big, &out, &len), PST_EINVAL);
    assert_null(out);
    print_message("report of %s compared\n", root);
    json_decref(report);
    pst_scan_free(scan);
    free(error);
}

/* The real reports: the shipped policies on every fixture root, and on the debootstrap root
 * when it was built, as `posture scan --format json` makes them. */
static void test_reports(void **state)
{
    const char *data = getenv("POSTURE_TEST_DATA"), *cache = getenv("POSTURE_CACHE_DIR");
    const char *tmp = *state;
    char text[4200], policies[4096], dir[4096], root[4400];
    struct pst_diag diag = {0};
    struct pst_config *config = NULL;
    struct pst_policy_set *set = NULL;
    const char *paths[1] = {policies};
    size_t fixtures = 0;
    int rc;
    struct dirent *de;
    struct stat st;
    DIR *d;

    assert_non_null(data);
    snprintf(text, sizeof(text), "state_dir: %s\n", tmp);
    tmproot_write(tmp, "/posture.yaml", text, 0600);
    snprintf(text, sizeof(text), "%s/posture.yaml", tmp);
    assert_int_equal(pst_config_load(text, &config, &diag), PST_OK);
    snprintf(policies, sizeof(policies), "%s/../../config/policies", data);
    rc = pst_policy_load(paths, 1, config, &set, &diag);
    pst_diag_print(&diag, stderr);
    assert_int_equal(rc, PST_OK);
    pst_diag_release(&diag);

    snprintf(dir, sizeof(dir), "%s/roots", data);
    d = opendir(dir);
    assert_non_null(d);
    while ((de = readdir(d)) != NULL) {
        snprintf(root, sizeof(root), "%s/%s", dir, de->d_name);
        if (de->d_name[0] != '.' && lstat(root, &st) == 0 && S_ISDIR(st.st_mode)) {
            compare_report(set, config, root);
            fixtures++;
        }
    }
    closedir(d);
    /* hardened, lax, services-off, services-on, weak */
    assert_int_equal(fixtures, 5);
    snprintf(root, sizeof(root), "%s/debian-bookworm", cache != NULL ? cache : "/nonexistent");
    if (stat(root, &st) == 0 && S_ISDIR(st.st_mode)) {
        compare_report(set, config, root);
    } else {
        print_message("no debootstrap root at %s; the fixture roots only\n", root);
    }
    pst_policy_set_free(set);
    pst_config_free(config);
}

/* The state directory of test_reports, removed even when the test fails. */
static int make_state_dir(void **state)
{
    *state = tmproot_new();
    return 0;
}

static int remove_state_dir(void **state)
{
    tmproot_free(*state);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literal),
        cmocka_unit_test(test_ascii_escapes),
        cmocka_unit_test(test_fast_path_alignment),
        cmocka_unit_test(test_long_strings),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_reals),
        cmocka_unit_test(test_containers_and_roots),
        cmocka_unit_test(test_refused_flags),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_stream_literal),
        cmocka_unit_test(test_stream_errors),
        cmocka_unit_test(test_repository_json),
        cmocka_unit_test_setup_teardown(test_reports, make_state_dir, remove_state_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
