/* SPDX-License-Identifier: Apache-2.0 */
/* Running a reference program of the scanned system: posix_spawn, pipes, a deadline. */
#include "probes/exec.h"

#include "agent/error.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct sink {
    int fd;
    char *buf;
    size_t len;
};

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads what the sink's descriptor has: 1 at end of file, 0 for more, PST_ETOOBIG, ENOMEM. */
static int drain(struct sink *s, size_t limit)
{
    char chunk[4096];
    ssize_t got = read(s->fd, chunk, sizeof chunk);
    if (got < 0) {
        return errno == EINTR || errno == EAGAIN ? 0 : 1;
    }
    if (got == 0) {
        return 1;
    }
    if (s->len + (size_t)got > limit) {
        return PST_ETOOBIG;
    }
    if (memchr(chunk, '\0', (size_t)got) != NULL) {
        return PST_EBINARY; /* the programs run here print text */
    }
    char *grown = realloc(s->buf, s->len + (size_t)got + 1);
    if (grown == NULL) {
        return PST_ENOMEM;
    }
    s->buf = grown;
    memcpy(s->buf + s->len, chunk, (size_t)got);
    s->len += (size_t)got;
    s->buf[s->len] = '\0';
    return 0;
}

int pst_exec_start(const char *const argv[], struct pst_exec *proc, char *why, size_t n)
{
    static char *const env[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL};
    int outp[2] = {-1, -1}, errp[2] = {-1, -1};
    posix_spawn_file_actions_t actions;
    pid_t pid = -1;
    int rc = PST_EIO;

    proc->pid = -1;
    proc->out = proc->err = -1;
    if (pipe2(outp, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0) {
        snprintf(why, n, "cannot run %s: %s", argv[0], strerror(errno));
        goto out;
    }
    if (posix_spawn_file_actions_init(&actions) != 0) {
        snprintf(why, n, "cannot run %s", argv[0]);
        goto out;
    }
    int e = posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    if (e == 0) {
        e = posix_spawn_file_actions_adddup2(&actions, outp[1], 1);
    }
    if (e == 0) {
        e = posix_spawn_file_actions_adddup2(&actions, errp[1], 2);
    }
    if (e == 0) {
        e = posix_spawn(&pid, argv[0], &actions, NULL, (char *const *)argv, env);
    }
    posix_spawn_file_actions_destroy(&actions);
    if (e != 0) {
        snprintf(why, n, "cannot run %s: %s", argv[0], strerror(e));
        goto out;
    }
    proc->pid = pid;
    proc->out = outp[0];
    proc->err = errp[0];
    outp[0] = errp[0] = -1;
    rc = 0;
out:
    for (int i = 0; i < 2; i++) {
        if (outp[i] >= 0) {
            close(outp[i]);
        }
        if (errp[i] >= 0) {
            close(errp[i]);
        }
    }
    return rc;
}

int pst_exec_finish(struct pst_exec *proc, const char *name, int timeout_ms, size_t limit,
                    char **out, char **err, int *status, char *why, size_t n)
{
    struct sink sinks[2] = {{proc->out, NULL, 0}, {proc->err, NULL, 0}};
    long deadline = now_ms() + timeout_ms;
    int open_sinks = 2, rc = 0, wstatus = 0;

    *out = *err = NULL;
    *status = -1;
    while (open_sinks > 0 && rc == 0) {
        struct pollfd fds[2];
        int which[2];
        nfds_t nfds = 0;
        for (int i = 0; i < 2; i++) {
            if (sinks[i].fd >= 0) {
                fds[nfds] = (struct pollfd){.fd = sinks[i].fd, .events = POLLIN};
                which[nfds++] = i;
            }
        }
        long left = deadline - now_ms();
        if (left <= 0) {
            snprintf(why, n, "%s did not finish within %d ms", name, timeout_ms);
            rc = PST_EIO;
            break;
        }
        if (poll(fds, nfds, (int)left) < 0 && errno != EINTR) {
            snprintf(why, n, "waiting for %s: %s", name, strerror(errno));
            rc = PST_EIO;
            break;
        }
        for (nfds_t k = 0; k < nfds && rc == 0; k++) {
            if (fds[k].revents == 0) {
                continue;
            }
            int r = drain(&sinks[which[k]], limit);
            if (r == 1) {
                close(sinks[which[k]].fd);
                sinks[which[k]].fd = -1;
                open_sinks--;
            } else if (r < 0) {
                rc = r;
                if (r == PST_ETOOBIG) {
                    snprintf(why, n, "%s printed more than %zu bytes", name, limit);
                } else if (r == PST_EBINARY) {
                    snprintf(why, n, "%s printed binary content", name);
                }
            }
        }
    }
    if (rc != 0) {
        kill(proc->pid, SIGKILL);
    }
    while (waitpid(proc->pid, &wstatus, 0) < 0 && errno == EINTR) {
    }
    *status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
    for (int i = 0; i < 2; i++) {
        if (sinks[i].fd >= 0) {
            close(sinks[i].fd);
        }
    }
    proc->pid = proc->out = proc->err = -1;
    if (rc == 0) {
        *out = sinks[0].buf != NULL ? sinks[0].buf : strdup("");
        *err = sinks[1].buf != NULL ? sinks[1].buf : strdup("");
        sinks[0].buf = sinks[1].buf = NULL;
        if (*out == NULL || *err == NULL) {
            free(*out);
            free(*err);
            *out = *err = NULL;
            rc = PST_ENOMEM;
        }
    }
    free(sinks[0].buf);
    free(sinks[1].buf);
    return rc;
}

int pst_exec_capture(const char *const argv[], int timeout_ms, size_t limit, char **out, char **err,
                     int *status, char *why, size_t n)
{
    struct pst_exec proc;
    *out = *err = NULL;
    *status = -1;
    int rc = pst_exec_start(argv, &proc, why, n);
    return rc != 0 ? rc
                   : pst_exec_finish(&proc, argv[0], timeout_ms, limit, out, err, status, why, n);
}
