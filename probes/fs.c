/* SPDX-License-Identifier: Apache-2.0 */
/* Root-aware file access layer: openat2 RESOLVE_IN_ROOT, size bounds, a record of paths read. */
#include "probes/fs.h"

#include "agent/error.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Most symlinks one lookup follows, as the kernel's own limit (MAXSYMLINKS). */
#define MAX_SYMLINKS 40
/* Deepest directory nesting the userspace resolver keeps descriptors for. */
#define MAX_DEPTH 256

struct pst_fs {
    int root_fd;
    bool use_openat2; /* false: kernels before 5.6, or valgrind: resolve in userspace */
    char *root;       /* NULL for the running system */
    json_t *touched;
    json_t *touched_set;
};

static long sys_openat2(int dirfd, const char *path, struct open_how *how)
{
    return syscall(SYS_openat2, dirfd, path, how, sizeof(*how));
}

int pst_fs_new(const char *root, struct pst_fs **out)
{
    int rc = PST_OK;
    struct pst_fs *fs = calloc(1, sizeof(*fs));

    *out = NULL;
    if (fs == NULL) {
        return PST_ENOMEM;
    }
    fs->root_fd = -1;
    fs->touched = json_array();
    fs->touched_set = json_object();
    if (fs->touched == NULL || fs->touched_set == NULL) {
        rc = PST_ENOMEM;
        goto fail;
    }
    if (root != NULL && strcmp(root, "/") != 0) {
        struct stat st;
        fs->root = realpath(root, NULL);
        if (fs->root == NULL) {
            rc = pst_from_errno(errno);
            goto fail;
        }
        if (stat(fs->root, &st) != 0 || !S_ISDIR(st.st_mode)) {
            rc = PST_ETYPE;
            goto fail;
        }
    }
    fs->root_fd = open(fs->root != NULL ? fs->root : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fs->root_fd < 0) {
        rc = pst_from_errno(errno);
        goto fail;
    }
    if (fs->root != NULL) {
        struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT};
        long fd = sys_openat2(fs->root_fd, ".", &how);
        if (fd >= 0) {
            fs->use_openat2 = true;
            close((int)fd);
        } else if (errno != ENOSYS && errno != EPERM) {
            /* ENOSYS: before Linux 5.6; EPERM: a seccomp filter that predates openat2. */
            rc = pst_from_errno(errno);
            goto fail;
        }
    }
    *out = fs;
    return PST_OK;
fail:
    pst_fs_free(fs);
    return rc;
}

void pst_fs_free(struct pst_fs *fs)
{
    if (fs == NULL) {
        return;
    }
    if (fs->root_fd >= 0) {
        close(fs->root_fd);
    }
    free(fs->root);
    json_decref(fs->touched);
    json_decref(fs->touched_set);
    free(fs);
}

bool pst_fs_is_live(const struct pst_fs *fs)
{
    return fs->root == NULL;
}

const char *pst_fs_root(const struct pst_fs *fs)
{
    return fs->root;
}

const json_t *pst_fs_touched(const struct pst_fs *fs)
{
    return fs->touched;
}

static void record(struct pst_fs *fs, const char *path)
{
    /* Allocation failures here only shorten the watch list; the scan itself goes on. */
    if (json_object_get(fs->touched_set, path) == NULL &&
        json_object_set_new(fs->touched_set, path, json_true()) == 0) {
        json_array_append_new(fs->touched, json_string(path));
    }
}

void pst_fs_disable_openat2(struct pst_fs *fs)
{
    fs->use_openat2 = false;
}

/*
 * Resolves REL inside the root without openat2: one component at a time with O_NOFOLLOW
 * and O_PATH descriptors, a stack of directories for "..", which stops at the root, and
 * symlinks expanded by hand (absolute ones restart at the root). No path string is ever
 * resolved by the kernel across a symlink, so nothing can lead out of the root.
 */
static int resolve_in_userspace(struct pst_fs *fs, const char *rel, int flags, int *out)
{
    int stack[MAX_DEPTH];
    int depth = 0, links = 0, rc = PST_OK;
    char *pending = strdup(rel); /* the path still to walk */
    char *cursor;

    *out = -1;
    if (pending == NULL) {
        return PST_ENOMEM;
    }
    stack[0] = fcntl(fs->root_fd, F_DUPFD_CLOEXEC, 0);
    if (stack[0] < 0) {
        free(pending);
        return pst_from_errno(errno);
    }
    cursor = pending;
    for (;;) {
        char *name = cursor + strspn(cursor, "/");
        size_t len = strcspn(name, "/");
        bool last = name[len + strspn(name + len, "/")] == '\0';
        bool slash = name[len] == '/'; /* "name/" must be a directory */
        struct stat st;
        int fd;

        if (len == 0) {
            /* the path named the directory we are in ("/", "a/.", trailing slashes) */
            fd = openat(stack[depth], ".", (flags & ~O_NOFOLLOW) | O_DIRECTORY);
            rc = fd < 0 ? pst_from_errno(errno) : PST_OK;
            *out = fd;
            break;
        }
        if (name[len] != '\0') {
            name[len] = '\0';
            cursor = name + len + 1;
        } else {
            cursor = name + len;
        }
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
            if (name[1] == '.' && depth > 0) {
                close(stack[depth--]); /* ".." never climbs above the root */
            }
            if (!last) {
                continue;
            }
            fd = openat(stack[depth], ".", flags & ~O_NOFOLLOW);
            rc = fd < 0 ? pst_from_errno(errno) : PST_OK;
            *out = fd;
            break;
        }
        fd = openat(stack[depth], name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) != 0) {
            rc = pst_from_errno(errno);
            if (fd >= 0) {
                close(fd);
            }
            break;
        }
        if (S_ISLNK(st.st_mode) && (!last || !(flags & O_NOFOLLOW))) {
            char target[PATH_MAX];
            char *joined = NULL;
            ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);
            close(fd);
            if (n < 0 || ++links > MAX_SYMLINKS) {
                rc = n < 0 ? pst_from_errno(errno) : PST_ELOOP;
                break;
            }
            target[n] = '\0';
            if (asprintf(&joined, "%s%s%s", target, *cursor != '\0' || slash ? "/" : "", cursor) <
                0) {
                rc = PST_ENOMEM;
                break;
            }
            free(pending);
            pending = joined;
            cursor = pending;
            if (target[0] == '/') {
                while (depth > 0) {
                    close(stack[depth--]);
                }
            }
            continue;
        }
        if (last && slash && !S_ISDIR(st.st_mode)) {
            close(fd);
            rc = PST_ENOENT;
            break;
        }
        if (last) {
            if (flags & O_PATH) {
                *out = fd;
            } else {
                /* Reopen the very inode found, not the name, which may have changed since. */
                char proc[64];
                snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
                *out = S_ISLNK(st.st_mode) ? -1 : open(proc, flags);
                rc = *out < 0 ? (S_ISLNK(st.st_mode) ? PST_ELOOP : pst_from_errno(errno)) : PST_OK;
                close(fd);
            }
            break;
        }
        if (!S_ISDIR(st.st_mode)) {
            close(fd);
            rc = PST_ENOENT;
            break;
        }
        if (depth + 1 == MAX_DEPTH) {
            close(fd);
            rc = PST_ETOOBIG;
            break;
        }
        stack[++depth] = fd;
    }
    while (depth >= 0) {
        close(stack[depth--]);
    }
    free(pending);
    return rc;
}

static int open_in_root(struct pst_fs *fs, const char *path, int flags, int *fd)
{
    const char *rel = path;
    long r;

    *fd = -1;
    if (path[0] != '/') {
        return PST_EINVAL;
    }
    record(fs, path);
    while (*rel == '/') {
        rel++;
    }
    if (*rel == '\0') {
        rel = ".";
    }
    /* openat2 refuses flags that O_PATH ignores, O_NOCTTY among them. */
    flags |= O_CLOEXEC | ((flags & O_PATH) ? 0 : O_NOCTTY);
    if (fs->root == NULL) {
        r = openat(fs->root_fd, rel, flags);
    } else if (!fs->use_openat2) {
        return resolve_in_userspace(fs, rel, flags, fd);
    } else {
        struct open_how how = {.flags = (unsigned)flags,
                               .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
        int tries = 0;
        /* EAGAIN: a rename raced the lookup. Retry a few times, then walk in userspace. */
        do {
            r = sys_openat2(fs->root_fd, rel, &how);
        } while (r < 0 && errno == EAGAIN && ++tries < 16);
        if (r < 0 && errno == EAGAIN) {
            return resolve_in_userspace(fs, rel, flags, fd);
        }
    }
    if (r < 0) {
        return pst_from_errno(errno);
    }
    *fd = (int)r;
    return PST_OK;
}

int pst_fs_open(struct pst_fs *fs, const char *path, int flags, int *fd)
{
    return open_in_root(fs, path, flags, fd);
}

int pst_fs_stat(struct pst_fs *fs, const char *path, bool follow, struct stat *st)
{
    int fd;
    int rc = open_in_root(fs, path, O_PATH | (follow ? 0 : O_NOFOLLOW), &fd);

    if (rc != PST_OK) {
        return rc;
    }
    if (fstatat(fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) {
        rc = pst_from_errno(errno);
    }
    close(fd);
    return rc;
}

int pst_fd_read_all(int fd, size_t limit, bool text, char **buf, size_t *len)
{
    struct stat st;
    char *data = NULL;
    size_t used = 0;
    size_t cap;
    int rc = PST_OK;

    *buf = NULL;
    *len = 0;
    if (fstat(fd, &st) != 0) {
        return pst_from_errno(errno);
    }
    if (!S_ISREG(st.st_mode)) {
        return PST_ETYPE;
    }
    if ((size_t)st.st_size > limit) {
        return PST_ETOOBIG;
    }
    /* st_size is only a hint (files under /proc report 0, files may grow): read to EOF. */
    /* Room for the whole file, its NUL and one byte more, so that EOF shows without growing. */
    cap = (size_t)st.st_size + 2 < 4096 ? 4096 : (size_t)st.st_size + 2;
    data = malloc(cap);
    if (data == NULL) {
        return PST_ENOMEM;
    }
    for (;;) {
        ssize_t n;
        if (used + 1 >= cap) {
            char *grown;
            if (cap > limit + 1) {
                rc = PST_ETOOBIG;
                goto out;
            }
            grown = realloc(data, cap * 2);
            if (grown == NULL) {
                rc = PST_ENOMEM;
                goto out;
            }
            data = grown;
            cap *= 2;
        }
        n = read(fd, data + used, cap - used - 1);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            rc = pst_from_errno(errno);
            goto out;
        }
        if (n == 0) {
            break;
        }
        used += (size_t)n;
        if (used > limit) {
            rc = PST_ETOOBIG;
            goto out;
        }
    }
    data[used] = '\0';
    if (text && memchr(data, '\0', used) != NULL) {
        rc = PST_EBINARY;
        goto out;
    }
    *buf = data;
    *len = used;
    data = NULL;
out:
    free(data);
    return rc;
}

/*
 * Opens the file behind the O_PATH descriptor PFD for reading if it is a regular file: look
 * first, then open that very inode through the descriptor, never by name again. Opening a
 * device or a FIFO for reading can have effects, or block: it is never done.
 */
static int reopen_regular(int pfd, int *fd, struct stat *st)
{
    char proc[64];

    *fd = -1;
    if (fstat(pfd, st) != 0) {
        return pst_from_errno(errno);
    }
    if (!S_ISREG(st->st_mode)) {
        return PST_ETYPE;
    }
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
    *fd = open(proc, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    return *fd < 0 ? pst_from_errno(errno) : PST_OK;
}

/* Reads the regular file behind the O_PATH descriptor PFD. */
static int read_regular(int pfd, size_t limit, bool text, char **buf, size_t *len)
{
    struct stat st;
    int fd;
    int rc = reopen_regular(pfd, &fd, &st);

    if (rc != PST_OK) {
        return rc;
    }
    rc = pst_fd_read_all(fd, limit, text, buf, len);
    close(fd);
    return rc;
}

int pst_fs_open_regular(struct pst_fs *fs, const char *path, int *fd, struct stat *st)
{
    int pfd;
    int rc = open_in_root(fs, path, O_PATH, &pfd);

    *fd = -1;
    if (rc != PST_OK) {
        return rc;
    }
    rc = reopen_regular(pfd, fd, st);
    close(pfd);
    return rc;
}

int pst_fs_read(struct pst_fs *fs, const char *path, size_t limit, bool text, char **buf,
                size_t *len)
{
    int pfd;
    int rc = open_in_root(fs, path, O_PATH, &pfd);

    *buf = NULL;
    *len = 0;
    if (rc != PST_OK) {
        return rc;
    }
    rc = read_regular(pfd, limit, text, buf, len);
    close(pfd);
    return rc;
}

int pst_file_read(const char *path, size_t limit, bool text, char **buf, size_t *len)
{
    int rc;
    int pfd = open(path, O_PATH | O_CLOEXEC);

    *buf = NULL;
    *len = 0;
    if (pfd < 0) {
        return pst_from_errno(errno);
    }
    rc = read_regular(pfd, limit, text, buf, len);
    close(pfd);
    return rc;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int pst_fs_list(struct pst_fs *fs, const char *path, json_t **names)
{
    DIR *dir = NULL;
    struct dirent *de;
    char **list = NULL;
    size_t n = 0, cap = 0;
    int fd;
    int rc = open_in_root(fs, path, O_RDONLY | O_DIRECTORY, &fd);

    *names = NULL;
    if (rc != PST_OK) {
        return rc;
    }
    dir = fdopendir(fd);
    if (dir == NULL) {
        rc = pst_from_errno(errno);
        close(fd);
        return rc;
    }
    while ((de = readdir(dir)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) {
            continue;
        }
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 32;
            char **grown;
            if (ncap > 1000000) {
                rc = PST_ETOOBIG;
                goto out;
            }
            grown = realloc(list, ncap * sizeof(*list));
            if (grown == NULL) {
                rc = PST_ENOMEM;
                goto out;
            }
            list = grown;
            cap = ncap;
        }
        list[n] = strdup(de->d_name);
        if (list[n] == NULL) {
            rc = PST_ENOMEM;
            goto out;
        }
        n++;
    }
    if (n > 0) {
        qsort(list, n, sizeof(*list), cmp_names);
    }
    *names = json_array();
    if (*names == NULL) {
        rc = PST_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        /* names as the directory holds them, not necessarily UTF-8 (pst_json_text reports) */
        if (json_array_append_new(*names, json_string_nocheck(list[i])) != 0) {
            rc = PST_ENOMEM;
            json_decref(*names);
            *names = NULL;
            goto out;
        }
    }
out:
    for (size_t i = 0; i < n; i++) {
        free(list[i]);
    }
    free(list);
    closedir(dir);
    return rc;
}
