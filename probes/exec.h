/* SPDX-License-Identifier: Apache-2.0 */
/* Running a reference program of the scanned system: an argument vector, never a shell. */
#ifndef PST_EXEC_H
#define PST_EXEC_H

#include <stddef.h>

/*
 * Runs ARGV[0] (an absolute path) with arguments ARGV (NULL-terminated): no shell, stdin
 * /dev/null, an environment of PATH and LC_ALL=C only. Captures stdout and stderr, each up to
 * LIMIT bytes, into *out and *err (NUL-terminated, the caller frees both). A program still
 * running after TIMEOUT_MS is killed. Returns 0 with *status set to its exit status (128 +
 * the signal when it was killed by one); PST_ETOOBIG when it printed more than LIMIT;
 * PST_EIO when it could not be started or timed out (WHY[N] says which); PST_ENOMEM.
 */
int pst_exec_capture(const char *const argv[], int timeout_ms, size_t limit, char **out, char **err,
                     int *status, char *why, size_t n);

/* A program started by pst_exec_start, for running two at once. */
struct pst_exec {
    int pid;
    int out, err; /* read ends of its stdout and stderr */
};

/* The two halves of pst_exec_capture: start ARGV, then collect it as pst_exec_capture does. */
int pst_exec_start(const char *const argv[], struct pst_exec *proc, char *why, size_t n);
int pst_exec_finish(struct pst_exec *proc, const char *name, int timeout_ms, size_t limit,
                    char **out, char **err, int *status, char *why, size_t n);

#endif
