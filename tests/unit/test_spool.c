/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of the agent state (sequence, files) and the spool (order, bounds, drops, temp files). */
#include "helpers.h"

#include "agent/error.h"
#include "transport/spool.h"
#include "transport/state.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct pst_state *open_state(const char *dir, const char *sub)
{
    char path[512];
    struct pst_state *st = NULL;

    snprintf(path, sizeof(path), "%s%s", dir, sub);
    assert_int_equal(pst_state_open(path, true, &st), PST_OK);
    assert_int_equal(pst_state_lock(st), PST_OK);
    return st;
}

static void put(struct pst_state *st, const struct pst_spool_limits *lim, uint64_t seq, size_t size,
                uint64_t carried, uint64_t *dropped)
{
    char *body = malloc(size + 1);
    assert_non_null(body);
    memset(body, 'a', size);
    body[size] = '\0';
    assert_int_equal(pst_spool_put(st, lim, seq, body, size, carried, dropped), PST_OK);
    free(body);
}

static void expect_seqs(int dirfd, const uint64_t *want, size_t n)
{
    struct pst_spool_entry *e = NULL;
    size_t got = 0;

    assert_int_equal(pst_spool_list(dirfd, &e, &got), PST_OK);
    assert_int_equal(got, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(e[i].seq, want[i]);
    }
    free(e);
}

static void test_state_open(void **unused)
{
    char *dir = tmproot_new();
    char path[512];
    struct pst_state *st = NULL;
    struct stat sb;

    (void)unused;
    snprintf(path, sizeof(path), "%s/missing", dir);
    assert_int_equal(pst_state_open(path, false, &st), PST_ENOENT);
    assert_null(st);
    /* A symlink in place of the state directory is refused, never followed. */
    tmproot_mkdir(dir, "/elsewhere", 0700);
    tmproot_symlink(dir, "/link", "elsewhere");
    snprintf(path, sizeof(path), "%s/link", dir);
    assert_int_equal(pst_state_open(path, true, &st), PST_ETYPE);
    st = open_state(dir, "/state");
    snprintf(path, sizeof(path), "%s/state", dir);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 07777, 0700);
    snprintf(path, sizeof(path), "%s/state/spool", dir);
    assert_int_equal(stat(path, &sb), 0);
    snprintf(path, sizeof(path), "%s/state/dead-letter", dir);
    assert_int_equal(stat(path, &sb), 0);
    /* The key is written 0600 whatever the umask says. */
    mode_t old = umask(0);
    assert_int_equal(pst_state_write_text(st, PST_STATE_KEY, "secret"), PST_OK);
    umask(old);
    snprintf(path, sizeof(path), "%s/state/key.pem", dir);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 07777, 0600);
    pst_state_free(st);
    pst_state_free(NULL);
    tmproot_free(dir);
}

static void test_seq_durable(void **unused)
{
    char *dir = tmproot_new();
    struct pst_state *st;
    uint64_t seq = 0;
    char *text = NULL;

    (void)unused;
    st = open_state(dir, "/s");
    assert_int_equal(pst_state_next_seq(st, &seq), PST_OK);
    assert_int_equal(seq, 1);
    assert_int_equal(pst_state_next_seq(st, &seq), PST_OK);
    assert_int_equal(seq, 2);
    pst_state_free(st);
    /* Another process (a restart) goes on from the stored number. */
    st = open_state(dir, "/s");
    assert_int_equal(pst_state_next_seq(st, &seq), PST_OK);
    assert_int_equal(seq, 3);
    assert_int_equal(pst_state_read_text(st, PST_STATE_SEQ, &text), PST_OK);
    assert_string_equal(text, "3");
    free(text);
    /* A corrupt counter is an error, never a silent restart at 1. */
    tmproot_write(dir, "/s/seq", "12x\n", 0644);
    assert_int_equal(pst_state_next_seq(st, &seq), PST_EPARSE);
    tmproot_write(dir, "/s/seq", "-4\n", 0644);
    assert_int_equal(pst_state_next_seq(st, &seq), PST_EPARSE);
    tmproot_write(dir, "/s/seq", "9223372036854775807\n", 0644);
    assert_int_equal(pst_state_next_seq(st, &seq), PST_ETOOBIG);
    pst_state_free(st);
    tmproot_free(dir);
}

static void test_spool_order_and_temp(void **unused)
{
    char *dir = tmproot_new();
    struct pst_spool_limits lim = {.max_reports = 100, .max_bytes = 1u << 20};
    struct pst_state *st = open_state(dir, "/s");
    struct pst_spool_entry *e = NULL;
    size_t n = 0, len = 0;
    char *jws = NULL;

    (void)unused;
    put(st, &lim, 10, 5, 0, NULL);
    put(st, &lim, 9, 5, 0, NULL);
    put(st, &lim, 100, 5, 0, NULL);
    /* Leftovers of a killed process: a temp file, odd names, a symlink, a directory. */
    tmproot_write(dir, "/s/spool/.tmp-00000000000000000011.jws", "partial", 0600);
    tmproot_write(dir, "/s/spool/00000000000000000012.jws.tmp", "x", 0600);
    tmproot_write(dir, "/s/spool/12.jws", "x", 0600);
    tmproot_symlink(dir, "/s/spool/00000000000000000013.jws", "/etc/passwd");
    tmproot_mkdir(dir, "/s/spool/00000000000000000014.jws", 0700);
    expect_seqs(st->spoolfd, (const uint64_t[]){9, 10, 100}, 3);
    assert_int_equal(pst_spool_clean(st), PST_OK);
    assert_int_equal(faccessat(st->spoolfd, ".tmp-00000000000000000011.jws", F_OK, 0), -1);
    assert_int_equal(pst_spool_list(st->spoolfd, &e, &n), PST_OK);
    assert_string_equal(e[0].name, "00000000000000000009.jws");
    assert_int_equal(e[0].size, 5);
    assert_int_equal(pst_spool_read(st, &e[0], &jws, &len), PST_OK);
    assert_string_equal(jws, "aaaaa");
    free(jws);
    assert_int_equal(pst_spool_remove(st, &e[0]), PST_OK);
    assert_int_equal(pst_spool_dead_letter(st, &e[1], "HTTP 403 revoked"), PST_OK);
    free(e);
    expect_seqs(st->spoolfd, (const uint64_t[]){100}, 1);
    expect_seqs(st->deadfd, (const uint64_t[]){10}, 1);
    assert_int_equal(
        pst_file_read_at(st->deadfd, "00000000000000000010.jws.reason", 100, &jws, &len), PST_OK);
    assert_string_equal(jws, "HTTP 403 revoked");
    free(jws);
    pst_state_free(st);
    tmproot_free(dir);
}

static void test_spool_bounds(void **unused)
{
    char *dir = tmproot_new();
    struct pst_spool_limits lim = {.max_reports = 3, .max_bytes = 1000};
    struct pst_state *st = open_state(dir, "/s");
    uint64_t dropped = 99, counter = 0;

    (void)unused;
    for (uint64_t seq = 1; seq <= 3; seq++) {
        put(st, &lim, seq, 100, 0, &dropped);
        assert_int_equal(dropped, 0);
    }
    /* The count bound: the fourth report drops the oldest. */
    put(st, &lim, 4, 100, 0, &dropped);
    assert_int_equal(dropped, 1);
    expect_seqs(st->spoolfd, (const uint64_t[]){2, 3, 4}, 3);
    assert_int_equal(pst_state_read_counter(st, PST_STATE_DROPPED, &counter), PST_OK);
    assert_int_equal(counter, 1);
    /* Count and bytes: four reports, then 100 + 100 + 850 > 1000: two go; it carries 1. */
    put(st, &lim, 5, 850, 1, &dropped);
    assert_int_equal(dropped, 2);
    expect_seqs(st->spoolfd, (const uint64_t[]){4, 5}, 2);
    assert_int_equal(pst_state_read_counter(st, PST_STATE_DROPPED, &counter), PST_OK);
    assert_int_equal(counter, 2);
    /* A report larger than the bound on its own is kept: the newest is never dropped. */
    put(st, &lim, 6, 2000, 2, &dropped);
    assert_int_equal(dropped, 2);
    expect_seqs(st->spoolfd, (const uint64_t[]){6}, 1);
    assert_int_equal(pst_state_read_counter(st, PST_STATE_DROPPED, &counter), PST_OK);
    assert_int_equal(counter, 2);
    put(st, &lim, 7, 10, 2, &dropped);
    assert_int_equal(dropped, 1);
    assert_int_equal(pst_state_read_counter(st, PST_STATE_DROPPED, &counter), PST_OK);
    assert_int_equal(counter, 1);
    pst_state_free(st);
    tmproot_free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_state_open),
        cmocka_unit_test(test_seq_durable),
        cmocka_unit_test(test_spool_order_and_temp),
        cmocka_unit_test(test_spool_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
