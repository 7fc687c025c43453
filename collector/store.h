/* SPDX-License-Identifier: Apache-2.0 */
/* The collector's storage in SQLite (WAL): tokens, hosts, reports and the fleet's latest state. */
#ifndef PST_COLLECTOR_STORE_H
#define PST_COLLECTOR_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "collector/ca.h"

/* The database file inside a state directory. */
#define PST_STORE_FILE "collector.db"

struct pst_store;

/*
 * Opens (creating when missing) the database at PATH in WAL mode with full fsync on commit,
 * and its schema. One store may be used from many threads: every call takes its lock.
 * Returns 0 or PST_EIO (reason on stderr).
 */
int pst_store_open(const char *path, struct pst_store **out);
void pst_store_free(struct pst_store *st);

/* Stores a token's hex SHA-256 with its expiry (Unix seconds) and number of uses. */
int pst_store_token_add(struct pst_store *st, const char *hash, int64_t now, int64_t expires,
                        int64_t uses);

enum pst_token_verdict {
    PST_TOKEN_OK,
    PST_TOKEN_UNKNOWN,
    PST_TOKEN_EXPIRED,
    PST_TOKEN_USED_UP,
};

/*
 * In one transaction: checks the token whose hash is HASH, and when it is good, spends one of
 * its uses and records the host ISSUED was made for. *verdict says which. Returns 0 or PST_EIO.
 */
int pst_store_enroll(struct pst_store *st, const char *hash, int64_t now,
                     const struct pst_issued *issued, enum pst_token_verdict *verdict);

/* A host as the ingest checks see it. */
struct pst_host_ref {
    char host_id[64];
    char kid[65];
    bool revoked;
};

/* Finds the host whose certificate has FINGERPRINT; *found false when none. */
int pst_store_host_by_fingerprint(struct pst_store *st, const char *fingerprint,
                                  struct pst_host_ref *out, bool *found);

/* What ingest keeps of a report besides its JWS. */
struct pst_report_summary {
    const char *host_id;
    int64_t seq;
    const char *hostname; /* may be NULL */
    bool has_score;       /* score.secure present */
    int64_t score_current, score_max;
    double score_percent;   /* meaningful when score_max > 0 */
    const json_t *controls; /* the report's controls[] (borrowed), may be NULL */
};

enum pst_report_verdict {
    PST_REPORT_STORED,
    PST_REPORT_REPLAY,  /* seq <= the last stored one */
    PST_REPORT_REVOKED, /* revoked since the certificate was looked up */
    PST_REPORT_UNKNOWN, /* no such host */
};

/*
 * In a write transaction: checks SUMMARY's seq against the host's last one (and that the host
 * is still not revoked), and stores the JWS, the host's last seen time, seq, hostname and
 * score, and its controls in the score. Reports that arrive from other threads meanwhile share
 * the transaction (group commit); it is committed (fsync'd) before this returns
 * PST_REPORT_STORED. *last_seq is the host's last stored seq afterwards. Returns 0, or PST_EIO
 * when the transaction failed (then nothing of this report was stored).
 */
int pst_store_report(struct pst_store *st, const struct pst_report_summary *summary,
                     const char *jws, size_t len, int64_t now, enum pst_report_verdict *verdict,
                     int64_t *last_seq);

/* Marks HOST_ID revoked at NOW; *found false when there is no such host. */
int pst_store_revoke(struct pst_store *st, const char *host_id, int64_t now, bool *found);

/*
 * The hosts as a JSON array of {host_id, hostname, enrolled, last_seen, last_seq, score
 * {current, max, percent} or null, revoked (time or null)}, times RFC 3339 UTC, by host_id.
 */
int pst_store_hosts(struct pst_store *st, json_t **out);

/*
 * The fleet score (DESIGN.md "Scores") over the hosts not revoked: {hosts, score {current, max,
 * percent}, controls [{id, title, max_score, hosts, healthy_hosts, current,
 * potential_increase}]}, controls by potential increase (largest first), then id.
 */
int pst_store_fleet(struct pst_store *st, json_t **out);

/* Number of reports stored (for tests and the benchmark). */
int pst_store_count_reports(struct pst_store *st, int64_t *count);

#endif
