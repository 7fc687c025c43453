/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of whole-buffer writes: every byte in order across short writes and signals, errors. */
#include "helpers.h"

#include "agent/error.h"
#include "agent/io.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

/* LEN bytes that differ from place to place, so that a lost or repeated piece shows. */
static unsigned char *pattern(size_t len)
{
    unsigned char *p = malloc(len);

    assert_non_null(p);
    for (size_t i = 0; i < len; i++) {
        p[i] = (unsigned char)(i * 7 + i / 251);
    }
    return p;
}

/* Asserts that file PATH holds exactly the LEN bytes at DATA. */
static void expect_file(const char *path, const unsigned char *data, size_t len)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    unsigned char *buf;

    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(st.st_size, len);
    buf = malloc(len + 1);
    assert_non_null(buf);
    assert_int_equal(read(fd, buf, len + 1), len);
    close(fd);
    assert_memory_equal(buf, data, len);
    free(buf);
}

/* A new file "out" in ROOT, open for writing; its path in PATH[4096]. */
static int new_file(const char *root, char *path)
{
    int fd;

    snprintf(path, 4096, "%s/out", root);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    return fd;
}

static void test_file_gets_every_byte(void **state)
{
    (void)state;
    char *root = tmproot_new();
    char path[4096];
    size_t len = 3u << 20;
    unsigned char *data = pattern(len);
    int fd = new_file(root, path);

    assert_int_equal(pst_io_write_all(fd, data, len), PST_OK);
    assert_int_equal(pst_io_write_all(fd, "", 0), PST_OK);
    assert_int_equal(close(fd), 0);
    expect_file(path, data, len);
    free(data);
    tmproot_free(root);
}

/* The signals the pipe test's writer takes: enough to interrupt it, then no more, so that it
 * also ends where a signal costs more than the interval (under valgrind). */
#define ALARMS 50

static volatile sig_atomic_t alarms;
static timer_t ticker;

static void on_alarm(int sig)
{
    static const struct itimerspec off;

    (void)sig;
    if (++alarms == ALARMS) {
        timer_settime(ticker, 0, &off, NULL); /* async-signal-safe */
    }
}

/*
 * A pipe whose reader is slow, and a timer whose signal interrupts the blocked writes (no
 * SA_RESTART): the writes come back short or with EINTR, and the reader must still get every
 * byte once, in order.
 */
static void test_pipe_across_signals(void **state)
{
    (void)state;
    size_t len = 2u << 20;
    unsigned char *data = pattern(len);
    struct sigaction sa = {.sa_handler = on_alarm}, old;
    struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGALRM};
    struct itimerspec tick = {.it_interval = {0, 2000000}, .it_value = {0, 2000000}}, off = {0};
    int fds[2], status;
    pid_t reader;

    assert_int_equal(pipe(fds), 0);
    reader = fork();
    assert_true(reader >= 0);
    if (reader == 0) {
        unsigned char buf[4096];
        size_t at = 0;
        int code = 0;
        close(fds[1]);
        while (code == 0) {
            ssize_t n = read(fds[0], buf, sizeof(buf));
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                code = at == len ? 0 : 3;
                break;
            }
            if (at + (size_t)n > len || memcmp(buf, data + at, (size_t)n) != 0) {
                code = 2;
            }
            at += (size_t)n;
            if (at % (64u * 1024u) < (size_t)n) {
                usleep(1000); /* slow: the writer's pipe fills and it blocks */
            }
        }
        free(data); /* what the child allocated it frees: valgrind checks it too */
        _exit(code);
    }
    close(fds[0]);
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
    alarms = 0;
    /* a reader that stops early makes the write fail (EPIPE), not kill the test */
    void (*pipe_was)(int) = signal(SIGPIPE, SIG_IGN);
    assert_int_equal(timer_create(CLOCK_MONOTONIC, &ev, &ticker), 0);
    assert_int_equal(timer_settime(ticker, 0, &tick, NULL), 0);
    assert_int_equal(pst_io_write_all(fds[1], data, len), PST_OK);
    assert_int_equal(timer_settime(ticker, 0, &off, NULL), 0);
    timer_delete(ticker);
    signal(SIGPIPE, pipe_was);
    assert_true(alarms > 0); /* the writes were interrupted */
    sigaction(SIGALRM, &old, NULL);
    close(fds[1]);
    assert_int_equal(waitpid(reader, &status, 0), reader);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    free(data);
}

/*
 * A file size limit in the middle of the buffer: the kernel writes up to the limit (a short
 * write), the next write fails with EFBIG, which is PST_ETOOBIG; the bytes before it are there.
 */
static void test_short_write_then_error(void **state)
{
    (void)state;
    char *root = tmproot_new();
    char path[4096];
    size_t len = 100000, limit = 40000;
    unsigned char *data = pattern(len);
    struct rlimit was, small;
    void (*xfsz)(int);
    int fd;

    fd = new_file(root, path);
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &was), 0);
    small = (struct rlimit){.rlim_cur = limit, .rlim_max = was.rlim_max};
    xfsz = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
    int rc = pst_io_write_all(fd, data, len);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &was), 0);
    signal(SIGXFSZ, xfsz);
    assert_int_equal(rc, PST_ETOOBIG);
    close(fd);
    expect_file(path, data, limit);
    free(data);
    tmproot_free(root);
}

static void test_errors(void **state)
{
    (void)state;
    int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);

    /* ENOSPC and EBADF have no code of their own */
    assert_true(fd >= 0);
    assert_int_equal(pst_io_write_all(fd, "x", 1), PST_EIO);
    close(fd);
    assert_int_equal(pst_io_write_all(fd, "x", 1), PST_EIO);
    /* nothing to write: no write at all, even to a closed descriptor */
    assert_int_equal(pst_io_write_all(fd, "x", 0), PST_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_gets_every_byte),
        cmocka_unit_test(test_pipe_across_signals),
        cmocka_unit_test(test_short_write_then_error),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
