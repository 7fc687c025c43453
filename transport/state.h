/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's state directory: identity files, host id, report sequence, spool folders. */
#ifndef PST_STATE_H
#define PST_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PST_STATE_DEFAULT_DIR "/var/lib/posture"

/* File names inside the state directory. */
#define PST_STATE_KEY "key.pem"           /* the agent's EC P-256 private key, mode 0600 */
#define PST_STATE_CERT "cert.pem"         /* its certificate, issued by the collector */
#define PST_STATE_CA "ca.pem"             /* the collector's CA, pinned at enrollment */
#define PST_STATE_HOST_ID "host_id"       /* the host id the collector chose (CN) */
#define PST_STATE_URL "collector_url"     /* the collector enrolled with */
#define PST_STATE_SEQ "seq"               /* the last sequence number handed out */
#define PST_STATE_DROPPED "spool_dropped" /* reports dropped from the full spool, not yet told */
#define PST_STATE_LOCK "lock"             /* flock()ed while the spool is changed */
#define PST_STATE_SPOOL "spool"
#define PST_STATE_DEAD "dead-letter"

/* Bound on a small state file (host id, seq, certificates). */
#define PST_STATE_MAX_FILE (64u * 1024u)

struct pst_state {
    char *dir;
    int dirfd;   /* the state directory, O_PATH-free: openat() base for every file */
    int spoolfd; /* PST_STATE_SPOOL */
    int deadfd;  /* PST_STATE_DEAD */
    int lockfd;  /* -1 until pst_state_lock() */
};

/*
 * Opens the state directory DIR (PST_STATE_DEFAULT_DIR when NULL); with CREATE, makes it
 * (mode 0700) and its spool folders when missing. Symlinks are not followed for the
 * directories themselves. Returns 0, PST_ENOENT (missing and !CREATE), or another PST_E*
 * code; the caller frees *out with pst_state_free().
 */
int pst_state_open(const char *dir, bool create, struct pst_state **out);
void pst_state_free(struct pst_state *state);

/*
 * Takes the state directory's exclusive lock (blocking), so that two posture processes
 * never change the spool or the sequence at once. A killed process's lock goes with it.
 * Released by pst_state_free(). Returns 0 or a PST_E* code.
 */
int pst_state_lock(struct pst_state *state);

/* Releases the lock (a long-running agent holds it only while it changes the spool). */
void pst_state_unlock(struct pst_state *state);

/*
 * Reads file NAME of directory DIRFD, at most MAX bytes (PST_ETOOBIG beyond). *data is
 * malloc'd and NUL-terminated (caller frees). Never follows a symlink.
 */
int pst_file_read_at(int dirfd, const char *name, size_t max, char **data, size_t *len);

/*
 * Writes file NAME of directory DIRFD durably and atomically: a temp file (".tmp-NAME"),
 * fsync, rename over NAME, fsync of the directory. A crash leaves the old or the new file,
 * never a partial one. MODE is applied at creation (0600 for keys).
 */
int pst_file_write_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode);

/* fsync() of the directory DIRFD, after a rename or an unlink in it. */
int pst_dir_sync(int dirfd);

/* Reads a state file as trimmed text (host id, url). *out malloc'd; PST_ENOENT if absent. */
int pst_state_read_text(const struct pst_state *state, const char *name, char **out);

/* Writes a state file as one line of text, atomically (mode 0644, 0600 for the key). */
int pst_state_write_text(const struct pst_state *state, const char *name, const char *text);

/*
 * Hands out the next report sequence number: reads PST_STATE_SEQ (0 when absent), adds one
 * and writes it back durably before returning, so that a crash after this call never hands
 * the same number out again. Call with the lock held. Returns 0 or a PST_E* code.
 */
int pst_state_next_seq(const struct pst_state *state, uint64_t *seq);

/* Reads a counter file (PST_STATE_SEQ, PST_STATE_DROPPED); 0 when absent. */
int pst_state_read_counter(const struct pst_state *state, const char *name, uint64_t *value);

/* Writes a counter file durably. */
int pst_state_write_counter(const struct pst_state *state, const char *name, uint64_t value);

/* Full path of NAME in the state directory into BUF; PST_EINVAL when it does not fit. */
int pst_state_path(const struct pst_state *state, const char *name, char *buf, size_t size);

#endif
