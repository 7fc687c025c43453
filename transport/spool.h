/* SPDX-License-Identifier: Apache-2.0 */
/* The durable spool of signed reports: written before delivery, deleted once acknowledged. */
#ifndef PST_SPOOL_H
#define PST_SPOOL_H

#include "transport/state.h"

#include <stddef.h>
#include <stdint.h>

#define PST_SPOOL_DEFAULT_MAX_REPORTS 1000u
#define PST_SPOOL_DEFAULT_MAX_BYTES (256u * 1024u * 1024u)

struct pst_spool_limits {
    uint64_t max_reports; /* at least 1 */
    uint64_t max_bytes;
};

/* One spooled report: file "<seq, 20 digits>.jws" in the spool folder. */
struct pst_spool_entry {
    uint64_t seq;
    uint64_t size;
    char name[32];
};

/*
 * Lists the reports in the spool (DIRFD: state->spoolfd) or dead-letter folder
 * (state->deadfd), oldest sequence first. Temp files and anything not named as a report are
 * never listed, so a partial file is never delivered. *entries is malloc'd (caller frees).
 */
int pst_spool_list(int dirfd, struct pst_spool_entry **entries, size_t *n);

/*
 * Spools the signed report JWS of sequence SEQ durably (temp file, fsync, rename, fsync of
 * the folder), then keeps the spool within LIMITS by dropping the oldest reports (never the
 * one just written). CARRIED is the drop count the report carries in its spool_dropped
 * field: it is taken off the state's drop counter, and the reports dropped now are added to
 * it, for the next report to carry. A crash between the steps may make a drop be counted
 * twice, never lost. *dropped_now (may be NULL) gets the number dropped. Call with the lock.
 */
int pst_spool_put(const struct pst_state *state, const struct pst_spool_limits *limits,
                  uint64_t seq, const char *jws, size_t len, uint64_t carried,
                  uint64_t *dropped_now);

/* Reads a spooled report (bounded by the JWS size limit). *jws malloc'd, NUL-terminated. */
int pst_spool_read(const struct pst_state *state, const struct pst_spool_entry *entry, char **jws,
                   size_t *len);

/* Deletes an acknowledged report durably. */
int pst_spool_remove(const struct pst_state *state, const struct pst_spool_entry *entry);

/*
 * Moves a report the collector refused for good to the dead-letter folder, with WHY in a
 * "<name>.reason" file beside it.
 */
int pst_spool_dead_letter(const struct pst_state *state, const struct pst_spool_entry *entry,
                          const char *why);

/* Removes temp files a killed process left in the spool. Call with the lock held. */
int pst_spool_clean(const struct pst_state *state);

#endif
