/* SPDX-License-Identifier: Apache-2.0 */
/* The OpenSSH release an sshd binary was built as, read from its own strings (not sshd -V). */
#include "probes/sshd_config.h"

#include "agent/error.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * sshd keeps its release as C strings: "OpenSSH_9.2", "OpenSSH_9.2p1" and
 * "OpenSSH_9.2p1 Debian-2+deb12u10" (SSH_VERSION, SSH_RELEASE). It also holds the patterns
 * its compatibility table matches peers with ("OpenSSH_7.4*", "OpenSSH_2*,OpenSSH_3*"): a
 * string with '*' or ',' is not a release. Running `sshd -V` costs a process that loads
 * some thirty libraries, and OpenSSH 8.4 has no -V at all.
 */
#define PREFIX "OpenSSH_"
#define PREFIX_LEN (sizeof(PREFIX) - 1)
/* Longest string taken for a release ("OpenSSH_" and what follows, up to its NUL). */
#define RELEASE_MAX 127
/* Largest binary read: sshd is about 1 MiB. */
#define BINARY_LIMIT (256L * 1024 * 1024)

/* Whether the string S (LEN bytes, no NUL) is a release; if so its "X.Y" goes to SHORTV. */
static bool release_of(const char *s, size_t len, char shortv[PST_SSHD_VERSION_MAX])
{
    size_t i = PREFIX_LEN, n;

    /* X.Y[.Z]: digits, then dot-separated digit groups */
    for (;;) {
        n = strspn(s + i, "0123456789");
        if (n == 0 || i + n > len) {
            return false;
        }
        i += n;
        if (i < len && s[i] == '.') {
            i++;
            continue;
        }
        break;
    }
    size_t vlen = i - PREFIX_LEN;
    if (memchr(s + PREFIX_LEN, '.', vlen) == NULL || vlen >= PST_SSHD_VERSION_MAX) {
        return false;
    }
    /* then nothing, or pN, or pN and " Vendor-Revision" */
    if (i < len && s[i] == 'p') {
        n = strspn(s + i + 1, "0123456789");
        if (n == 0 || i + 1 + n > len) {
            return false;
        }
        i += 1 + n;
        if (i < len && s[i] != ' ') {
            return false;
        }
    } else if (i < len) {
        return false;
    }
    for (; i < len; i++) {
        if (s[i] < 0x20 || s[i] > 0x7e || s[i] == '*' || s[i] == ',') {
            return false;
        }
    }
    memcpy(shortv, s + PREFIX_LEN, vlen);
    shortv[vlen] = '\0';
    return true;
}

void pst_sshd_version_init(struct pst_sshd_version *v)
{
    memset(v, 0, sizeof(*v));
}

/* Counts the string S (LEN bytes, starting with PREFIX) if it is a release. */
static void take(struct pst_sshd_version *v, const char *s, size_t len)
{
    char shortv[PST_SSHD_VERSION_MAX];

    if (len > RELEASE_MAX || !release_of(s, len, shortv)) {
        return;
    }
    if (v->found == 0) {
        memcpy(v->version, shortv, sizeof(shortv));
        v->found = 1;
    } else if (strcmp(v->version, shortv) != 0) {
        v->found = -1; /* two releases: the binary does not say which it is */
    }
}

size_t pst_sshd_version_scan(struct pst_sshd_version *v, const char *buf, size_t len, bool last)
{
    size_t from = 1;

    /* BUF[0] is the byte before the window (a NUL before the file's first byte) */
    while (len > 0 && from < len) {
        /* memchr for the rare 'O' is vectorised; memmem is several times slower on 1 MiB */
        const char *p = memchr(buf + from, 'O', len - from);
        if (p == NULL) {
            break;
        }
        size_t at = (size_t)(p - buf);
        if (len - at < PREFIX_LEN) {
            break;
        }
        if (buf[at - 1] != '\0' || memcmp(p, PREFIX, PREFIX_LEN) != 0) {
            from = at + 1;
            continue;
        }
        size_t room = len - at < RELEASE_MAX + 1 ? len - at : RELEASE_MAX + 1;
        const char *nul = memchr(p, '\0', room);
        if (nul == NULL && room <= RELEASE_MAX && !last) {
            return at - 1; /* its end is in the next window: keep from the byte before it */
        }
        if (nul != NULL) {
            take(v, p, (size_t)(nul - p));
        }
        from = at + 1;
    }
    if (last) {
        return len;
    }
    if (len <= PREFIX_LEN) {
        return 0;
    }
    /* a prefix cut by the window's end starts in its last PREFIX_LEN - 1 bytes; keep them
     * and the byte before */
    return len - PREFIX_LEN;
}

int pst_sshd_binary_version(struct pst_fs *fs, const char *path, char version[PST_SSHD_VERSION_MAX])
{
    char buf[32 * 1024 + RELEASE_MAX + 2];
    struct pst_sshd_version v;
    struct stat st;
    size_t have = 1, keep;
    off_t off = 0;
    int fd, rc;

    version[0] = '\0';
    rc = pst_fs_open_regular(fs, path, &fd, &st);
    if (rc != PST_OK) {
        return rc;
    }
    if (st.st_size > BINARY_LIMIT) {
        close(fd);
        return PST_ETOOBIG;
    }
    pst_sshd_version_init(&v);
    buf[0] = '\0';
    for (;;) {
        ssize_t n = pread(fd, buf + have, sizeof(buf) - have, off);
        if (n < 0) {
            rc = PST_EIO;
            break;
        }
        off += n;
        have += (size_t)n;
        bool last = n == 0 || off >= st.st_size;
        keep = pst_sshd_version_scan(&v, buf, have, last);
        if (last || v.found < 0) {
            break;
        }
        /* the window restarts at KEEP, whose byte plays the part of the byte before */
        memmove(buf, buf + keep, have - keep);
        have -= keep;
    }
    close(fd);
    if (rc != PST_OK) {
        return rc;
    }
    if (v.found != 1) {
        return PST_EPARSE;
    }
    memcpy(version, v.version, sizeof(v.version));
    return PST_OK;
}
