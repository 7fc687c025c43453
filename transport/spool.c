/* SPDX-License-Identifier: Apache-2.0 */
/* The durable spool of signed reports: write-then-deliver, bounded, drop-oldest. */
#include "transport/spool.h"

#include "agent/error.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A report's size bound in the spool: the JWS limit of the protocol (8 MiB). */
#define SPOOL_MAX_REPORT (8u * 1024u * 1024u)
#define SEQ_DIGITS 20

/* True when NAME is "<20 digits>.jws"; *seq gets the number. */
static bool parse_name(const char *name, uint64_t *seq)
{
    uint64_t v = 0;

    for (int i = 0; i < SEQ_DIGITS; i++) {
        if (name[i] < '0' || name[i] > '9') {
            return false;
        }
        if (v > (UINT64_MAX - 9) / 10) {
            return false;
        }
        v = v * 10 + (uint64_t)(name[i] - '0');
    }
    if (strcmp(name + SEQ_DIGITS, ".jws") != 0) {
        return false;
    }
    *seq = v;
    return true;
}

static int by_seq(const void *a, const void *b)
{
    const struct pst_spool_entry *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* A directory stream of DIRFD from its start, on a descriptor of its own. 0 or an error. */
static int open_stream(int dirfd, DIR **dir)
{
    int fd = dup(dirfd);

    *dir = NULL;
    if (fd < 0) {
        return pst_from_errno(errno);
    }
    *dir = fdopendir(fd);
    if (*dir == NULL) {
        close(fd);
        return pst_from_errno(errno);
    }
    rewinddir(*dir);
    return PST_OK;
}

int pst_spool_list(int dirfd, struct pst_spool_entry **entries, size_t *n)
{
    struct pst_spool_entry *list = NULL;
    size_t count = 0, cap = 0;
    struct dirent *de;
    DIR *dir;
    int rc;

    *entries = NULL;
    *n = 0;
    rc = open_stream(dirfd, &dir);
    if (rc != PST_OK) {
        return rc;
    }
    while ((errno = 0, de = readdir(dir)) != NULL) {
        struct pst_spool_entry e = {0};
        struct stat st;
        if (!parse_name(de->d_name, &e.seq)) {
            continue;
        }
        /* Only regular files: a symlink planted in the spool is never followed or sent. */
        if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) {
            continue;
        }
        e.size = (uint64_t)st.st_size;
        memcpy(e.name, de->d_name, SEQ_DIGITS + 5); /* parse_name checked the length: 24 + NUL */
        if (count == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct pst_spool_entry *nl = realloc(list, ncap * sizeof(*list));
            if (nl == NULL) {
                rc = PST_ENOMEM;
                goto out;
            }
            list = nl;
            cap = ncap;
        }
        list[count++] = e;
    }
    if (errno != 0) {
        rc = pst_from_errno(errno);
        goto out;
    }
    if (count > 0) {
        qsort(list, count, sizeof(*list), by_seq);
    }
    *entries = list;
    *n = count;
    list = NULL;
out:
    free(list);
    closedir(dir);
    return rc;
}

int pst_spool_put(const struct pst_state *state, const struct pst_spool_limits *limits,
                  uint64_t seq, const char *jws, size_t len, uint64_t carried,
                  uint64_t *dropped_now)
{
    struct pst_spool_entry *list = NULL;
    size_t n = 0, drop = 0;
    uint64_t counter, before, bytes = 0,
                              max_reports = limits->max_reports ? limits->max_reports : 1;
    char name[32];
    int rc;

    if (dropped_now != NULL) {
        *dropped_now = 0;
    }
    if (len > SPOOL_MAX_REPORT) {
        return PST_ETOOBIG;
    }
    snprintf(name, sizeof(name), "%0*" PRIu64 ".jws", SEQ_DIGITS, seq);
    rc = pst_file_write_at(state->spoolfd, name, jws, len, 0600);
    if (rc != PST_OK) {
        return rc;
    }
    rc = pst_state_read_counter(state, PST_STATE_DROPPED, &counter);
    if (rc != PST_OK) {
        return rc;
    }
    before = counter;
    counter -= carried < counter ? carried : counter;
    rc = pst_spool_list(state->spoolfd, &list, &n);
    if (rc != PST_OK) {
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        bytes += list[i].size;
    }
    /* Oldest first, never the report just written (the newest, the last entry). */
    while (drop + 1 < n && (n - drop > max_reports || bytes > limits->max_bytes)) {
        bytes -= list[drop].size;
        drop++;
    }
    /*
     * The counter goes up before the files go: a crash in between counts twice, never zero.
     * Unchanged (the usual case: nothing carried, nothing dropped), it is not rewritten.
     */
    if (counter + drop != before) {
        rc = pst_state_write_counter(state, PST_STATE_DROPPED, counter + drop);
    }
    for (size_t i = 0; rc == PST_OK && i < drop; i++) {
        if (unlinkat(state->spoolfd, list[i].name, 0) != 0 && errno != ENOENT) {
            rc = pst_from_errno(errno);
        }
    }
    if (rc == PST_OK && drop > 0) {
        rc = pst_dir_sync(state->spoolfd);
    }
    if (rc == PST_OK && dropped_now != NULL) {
        *dropped_now = drop;
    }
    free(list);
    return rc;
}

int pst_spool_read(const struct pst_state *state, const struct pst_spool_entry *entry, char **jws,
                   size_t *len)
{
    return pst_file_read_at(state->spoolfd, entry->name, SPOOL_MAX_REPORT, jws, len);
}

int pst_spool_remove(const struct pst_state *state, const struct pst_spool_entry *entry)
{
    if (unlinkat(state->spoolfd, entry->name, 0) != 0 && errno != ENOENT) {
        return pst_from_errno(errno);
    }
    return pst_dir_sync(state->spoolfd);
}

int pst_spool_dead_letter(const struct pst_state *state, const struct pst_spool_entry *entry,
                          const char *why)
{
    char reason[64];
    int rc;

    snprintf(reason, sizeof(reason), "%s.reason", entry->name);
    /* The reason first: a crash after it leaves the report in the spool, to be sent again. */
    rc = pst_file_write_at(state->deadfd, reason, why, strlen(why), 0644);
    if (rc != PST_OK) {
        return rc;
    }
    if (renameat(state->spoolfd, entry->name, state->deadfd, entry->name) != 0) {
        return pst_from_errno(errno);
    }
    rc = pst_dir_sync(state->deadfd);
    return rc == PST_OK ? pst_dir_sync(state->spoolfd) : rc;
}

int pst_spool_clean(const struct pst_state *state)
{
    struct dirent *de;
    DIR *dir;
    int rc = open_stream(state->spoolfd, &dir);

    if (rc != PST_OK) {
        return rc;
    }
    while ((de = readdir(dir)) != NULL) {
        if (strncmp(de->d_name, ".tmp-", 5) == 0 && unlinkat(state->spoolfd, de->d_name, 0) != 0 &&
            errno != ENOENT) {
            rc = pst_from_errno(errno);
        }
    }
    closedir(dir);
    return rc;
}
