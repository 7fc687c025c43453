/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's state directory: durable small files, the report sequence, the lock. */
#include "transport/state.h"

#include "agent/error.h"
#include "agent/io.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* Opens (with CREATE, makes) directory NAME under DIRFD without following a symlink. */
static int open_dir_at(int dirfd, const char *name, bool create, int *out)
{
    int fd;

    if (create && mkdirat(dirfd, name, 0700) != 0 && errno != EEXIST) {
        return pst_from_errno(errno);
    }
    fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        /* A symlink in NAME's place: ELOOP, or ENOTDIR with O_DIRECTORY. */
        return errno == ELOOP || errno == ENOTDIR ? PST_ETYPE : pst_from_errno(errno);
    }
    *out = fd;
    return PST_OK;
}

int pst_state_open(const char *dir, bool create, struct pst_state **out)
{
    struct pst_state *state = calloc(1, sizeof(*state));
    int rc;

    *out = NULL;
    if (state == NULL) {
        return PST_ENOMEM;
    }
    state->dirfd = state->spoolfd = state->deadfd = state->lockfd = -1;
    state->dir = strdup(dir != NULL ? dir : PST_STATE_DEFAULT_DIR);
    if (state->dir == NULL) {
        rc = PST_ENOMEM;
        goto fail;
    }
    rc = open_dir_at(AT_FDCWD, state->dir, create, &state->dirfd);
    if (rc == PST_OK) {
        rc = open_dir_at(state->dirfd, PST_STATE_SPOOL, create, &state->spoolfd);
    }
    if (rc == PST_OK) {
        rc = open_dir_at(state->dirfd, PST_STATE_DEAD, create, &state->deadfd);
    }
    if (rc != PST_OK) {
        goto fail;
    }
    *out = state;
    return PST_OK;
fail:
    pst_state_free(state);
    return rc;
}

void pst_state_free(struct pst_state *state)
{
    if (state == NULL) {
        return;
    }
    /* Closing the lock file's descriptor releases the flock. */
    int fds[] = {state->lockfd, state->deadfd, state->spoolfd, state->dirfd};
    for (size_t i = 0; i < PST_COUNT(fds); i++) {
        if (fds[i] >= 0) {
            close(fds[i]);
        }
    }
    free(state->dir);
    free(state);
}

int pst_state_lock(struct pst_state *state)
{
    if (state->lockfd >= 0) {
        return PST_OK;
    }
    int fd = openat(state->dirfd, PST_STATE_LOCK, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        return pst_from_errno(errno);
    }
    while (flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            int rc = pst_from_errno(errno);
            close(fd);
            return rc;
        }
    }
    state->lockfd = fd;
    return PST_OK;
}

void pst_state_unlock(struct pst_state *state)
{
    if (state->lockfd >= 0) {
        close(state->lockfd);
        state->lockfd = -1;
    }
}

int pst_file_read_at(int dirfd, const char *name, size_t max, char **data, size_t *len)
{
    struct stat st;
    char *buf = NULL;
    size_t got = 0;
    int rc = PST_OK;
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);

    *data = NULL;
    if (fd < 0) {
        return pst_from_errno(errno);
    }
    if (fstat(fd, &st) != 0) {
        rc = pst_from_errno(errno);
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = PST_ETYPE;
        goto out;
    }
    if ((uint64_t)st.st_size > max) {
        rc = PST_ETOOBIG;
        goto out;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        rc = PST_ENOMEM;
        goto out;
    }
    /* Read to the end, not to st_size: a file may change size, and the bound still holds. */
    for (;;) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size + 1 - got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            rc = pst_from_errno(errno);
            goto out;
        }
        if (n == 0) {
            break;
        }
        got += (size_t)n;
        if (got > (size_t)st.st_size) {
            rc = PST_ETOOBIG;
            goto out;
        }
    }
    buf[got] = '\0';
    *data = buf;
    if (len != NULL) {
        *len = got;
    }
    buf = NULL;
out:
    free(buf);
    close(fd);
    return rc;
}

int pst_dir_sync(int dirfd)
{
    return fsync(dirfd) == 0 ? PST_OK : pst_from_errno(errno);
}

int pst_file_write_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode)
{
    char tmp[256];
    int fd, rc = PST_OK;

    if (snprintf(tmp, sizeof(tmp), ".tmp-%s", name) >= (int)sizeof(tmp)) {
        return PST_EINVAL;
    }
    /* A temp file left by a killed process is stale: the caller holds the lock or owns NAME. */
    if (unlinkat(dirfd, tmp, 0) != 0 && errno != ENOENT) {
        return pst_from_errno(errno);
    }
    fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) {
        return pst_from_errno(errno);
    }
    rc = pst_io_write_all(fd, data, len);
    /* The umask may have narrowed MODE; a key must be exactly 0600, a certificate 0644. */
    if (rc == PST_OK && fchmod(fd, mode) != 0) {
        rc = pst_from_errno(errno);
    }
    if (rc == PST_OK && fsync(fd) != 0) {
        rc = pst_from_errno(errno);
    }
    if (close(fd) != 0 && rc == PST_OK) {
        rc = pst_from_errno(errno);
    }
    if (rc == PST_OK && renameat(dirfd, tmp, dirfd, name) != 0) {
        rc = pst_from_errno(errno);
    }
    if (rc != PST_OK) {
        unlinkat(dirfd, tmp, 0);
        return rc;
    }
    return pst_dir_sync(dirfd);
}

int pst_state_read_text(const struct pst_state *state, const char *name, char **out)
{
    size_t len;
    int rc = pst_file_read_at(state->dirfd, name, PST_STATE_MAX_FILE, out, &len);

    if (rc != PST_OK) {
        return rc;
    }
    while (len > 0 && ((*out)[len - 1] == '\n' || (*out)[len - 1] == ' ')) {
        (*out)[--len] = '\0';
    }
    if (len == 0 || strlen(*out) != len) {
        free(*out);
        *out = NULL;
        return PST_EPARSE;
    }
    return PST_OK;
}

int pst_state_write_text(const struct pst_state *state, const char *name, const char *text)
{
    char *line = NULL;
    int rc;

    if (asprintf(&line, "%s\n", text) < 0) {
        return PST_ENOMEM;
    }
    rc = pst_file_write_at(state->dirfd, name, line, strlen(line),
                           strcmp(name, PST_STATE_KEY) == 0 ? 0600 : 0644);
    free(line);
    return rc;
}

int pst_state_read_counter(const struct pst_state *state, const char *name, uint64_t *value)
{
    char *text = NULL, *end;
    int rc = pst_state_read_text(state, name, &text);

    *value = 0;
    if (rc == PST_ENOENT) {
        return PST_OK;
    }
    if (rc != PST_OK) {
        return rc;
    }
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-') {
        rc = PST_EPARSE;
    } else {
        *value = (uint64_t)v;
    }
    free(text);
    return rc;
}

int pst_state_write_counter(const struct pst_state *state, const char *name, uint64_t value)
{
    char text[32];

    snprintf(text, sizeof(text), "%" PRIu64, value);
    return pst_state_write_text(state, name, text);
}

int pst_state_next_seq(const struct pst_state *state, uint64_t *seq)
{
    uint64_t last;
    int rc = pst_state_read_counter(state, PST_STATE_SEQ, &last);

    if (rc != PST_OK) {
        return rc;
    }
    if (last == UINT64_MAX || last >= (uint64_t)INT64_MAX) {
        return PST_ETOOBIG; /* JSON integers are signed 64-bit */
    }
    rc = pst_state_write_counter(state, PST_STATE_SEQ, last + 1);
    if (rc == PST_OK) {
        *seq = last + 1;
    }
    return rc;
}

int pst_state_path(const struct pst_state *state, const char *name, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%s/%s", state->dir, name);
    return n < 0 || (size_t)n >= size ? PST_EINVAL : PST_OK;
}
