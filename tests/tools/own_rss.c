/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Runs a program and prints its own peak resident set (VmHWM, KiB), read as it exits: not
 * the programs it runs, which GNU time's %M would include (the largest of them).
 * Usage: own_rss OUT PROGRAM [ARGS...]; the figure (KiB) is written to the file OUT, the
 * exit status is the program's. The program is traced (ptrace) only to stop it at its exit.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* VmHWM of PID in KiB, or -1. */
static long peak_kib(pid_t pid)
{
    char path[64], line[256];
    long kib = -1;
    snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return -1;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "VmHWM:", 6) == 0) {
            kib = strtol(line + 6, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kib;
}

int main(int argc, char **argv)
{
    int status;
    long kib = -1;

    if (argc < 3) {
        fprintf(stderr, "usage: own_rss OUT PROGRAM [ARGS...]\n");
        return 2;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("own_rss: fork");
        return 2;
    }
    if (pid == 0) {
        if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0) {
            _exit(127);
        }
        execvp(argv[2], argv + 2);
        _exit(127);
    }
    /* the stop after exec */
    if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status) ||
        ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)(PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL)) !=
            0 ||
        ptrace(PTRACE_CONT, pid, NULL, NULL) != 0) {
        fprintf(stderr, "own_rss: cannot trace %s\n", argv[2]);
        return 2;
    }
    for (;;) {
        if (waitpid(pid, &status, 0) != pid) {
            if (errno == EINTR) {
                continue;
            }
            perror("own_rss: waitpid");
            return 2;
        }
        if (WIFEXITED(status) || WIFSIGNALED(status)) {
            break;
        }
        int sig = WSTOPSIG(status);
        if (sig == SIGTRAP && (status >> 16) == PTRACE_EVENT_EXIT) {
            kib = peak_kib(pid); /* its memory is still there, exiting */
            sig = 0;
        } else if (sig == SIGTRAP) {
            sig = 0;
        }
        ptrace(PTRACE_CONT, pid, NULL, (void *)(long)sig);
    }
    FILE *out = fopen(argv[1], "w");
    if (out == NULL || fprintf(out, "%ld\n", kib) < 0 || fclose(out) != 0) {
        fprintf(stderr, "own_rss: cannot write %s\n", argv[1]);
        return 2;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
