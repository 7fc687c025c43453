/* SPDX-License-Identifier: Apache-2.0 */
/* SQLite storage of the collector: schema, prepared statements, and one lock per database. */
#include "collector/store.h"

#include "agent/error.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS tokens("
    " hash TEXT PRIMARY KEY, created INTEGER NOT NULL, expires INTEGER NOT NULL,"
    " uses_left INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS hosts("
    " host_id TEXT PRIMARY KEY, fingerprint TEXT NOT NULL UNIQUE, serial TEXT NOT NULL,"
    " kid TEXT NOT NULL, enrolled INTEGER NOT NULL, revoked INTEGER,"
    " last_seq INTEGER NOT NULL DEFAULT 0, last_seen INTEGER, hostname TEXT,"
    " score_current INTEGER, score_max INTEGER, score_percent REAL);"
    "CREATE TABLE IF NOT EXISTS reports("
    " host_id TEXT NOT NULL, seq INTEGER NOT NULL, received INTEGER NOT NULL,"
    " jws TEXT NOT NULL, PRIMARY KEY(host_id, seq)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS host_controls("
    " host_id TEXT NOT NULL, control TEXT NOT NULL, title TEXT NOT NULL,"
    " max_score INTEGER NOT NULL, healthy INTEGER NOT NULL,"
    " PRIMARY KEY(host_id, control)) WITHOUT ROWID;";

/* The statements ingest runs for every report, prepared once. */
enum stmt {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_HOST_BY_FP,
    ST_HOST_STATE,
    ST_REPORT_INSERT,
    ST_HOST_UPDATE,
    ST_CONTROLS_DELETE,
    ST_CONTROL_INSERT,
    ST_COUNT,
};

static const char *const stmt_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_HOST_BY_FP] = "SELECT host_id, kid, revoked FROM hosts WHERE fingerprint = ?1",
    [ST_HOST_STATE] = "SELECT last_seq, revoked FROM hosts WHERE host_id = ?1",
    [ST_REPORT_INSERT] = "INSERT INTO reports(host_id, seq, received, jws) VALUES(?1, ?2, ?3, ?4)",
    [ST_HOST_UPDATE] = ("UPDATE hosts SET last_seq = ?2, last_seen = ?3, hostname = ?4,"
                        " score_current = ?5, score_max = ?6, score_percent = ?7"
                        " WHERE host_id = ?1"),
    [ST_CONTROLS_DELETE] = "DELETE FROM host_controls WHERE host_id = ?1",
    [ST_CONTROL_INSERT] = ("INSERT OR REPLACE INTO host_controls(host_id, control, title,"
                           " max_score, healthy) VALUES(?1, ?2, ?3, ?4, ?5)"),
};

struct report_job;

struct pst_store {
    sqlite3 *db;
    pthread_mutex_t lock; /* the connection and its statements */
    sqlite3_stmt *stmt[ST_COUNT];
    /*
     * A second, read-only connection for the certificate lookup of every request: with WAL
     * it reads while the writer commits, instead of waiting for the fsync.
     */
    sqlite3 *rdb;
    pthread_mutex_t rlock;
    sqlite3_stmt *by_fingerprint;
    /* Reports waiting for the next group commit (pst_store_report). */
    pthread_mutex_t queue_lock;
    pthread_cond_t queue_done;
    struct report_job *queue, **queue_tail;
    bool committing;
};

static int db_error(struct pst_store *st, const char *what)
{
    fprintf(stderr, "posture-collector: database: %s: %s\n", what, sqlite3_errmsg(st->db));
    return PST_EIO;
}

/* Resets and returns the cached statement S. */
static sqlite3_stmt *stmt(struct pst_store *st, enum stmt s)
{
    sqlite3_reset(st->stmt[s]);
    sqlite3_clear_bindings(st->stmt[s]);
    return st->stmt[s];
}

static int run(struct pst_store *st, enum stmt s)
{
    int rc = sqlite3_step(stmt(st, s));
    sqlite3_reset(st->stmt[s]);
    return rc == SQLITE_DONE ? PST_OK : db_error(st, stmt_sql[s]);
}

int pst_store_open(const char *path, struct pst_store **out)
{
    struct pst_store *st = calloc(1, sizeof(*st));
    char *err = NULL;
    int rc = PST_EIO;

    *out = NULL;
    if (st == NULL) {
        return PST_ENOMEM;
    }
    pthread_mutex_init(&st->lock, NULL);
    pthread_mutex_init(&st->rlock, NULL);
    pthread_mutex_init(&st->queue_lock, NULL);
    pthread_cond_init(&st->queue_done, NULL);
    st->queue_tail = &st->queue;
    if (sqlite3_open_v2(path, &st->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW |
                            SQLITE_OPEN_FULLMUTEX,
                        NULL) != SQLITE_OK) {
        fprintf(stderr, "posture-collector: %s: %s\n", path,
                st->db ? sqlite3_errmsg(st->db) : "cannot open");
        goto out;
    }
    /* Other processes (the CLI while serve runs) wait for the lock instead of failing. */
    sqlite3_busy_timeout(st->db, 10000);
    /* WAL, and a commit is on disk (fsync'd) before ingest answers 2xx. */
    if (sqlite3_exec(st->db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
                     NULL, NULL, &err) != SQLITE_OK ||
        sqlite3_exec(st->db, schema, NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "posture-collector: %s: %s\n", path, err ? err : "schema");
        goto out;
    }
    for (int i = 0; i < ST_COUNT; i++) {
        if (sqlite3_prepare_v2(st->db, stmt_sql[i], -1, &st->stmt[i], NULL) != SQLITE_OK) {
            db_error(st, stmt_sql[i]);
            goto out;
        }
    }
    if (sqlite3_open_v2(path, &st->rdb, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOFOLLOW, NULL) !=
            SQLITE_OK ||
        sqlite3_prepare_v2(st->rdb, stmt_sql[ST_HOST_BY_FP], -1, &st->by_fingerprint, NULL) !=
            SQLITE_OK) {
        fprintf(stderr, "posture-collector: %s: %s\n", path,
                st->rdb ? sqlite3_errmsg(st->rdb) : "cannot open");
        goto out;
    }
    sqlite3_busy_timeout(st->rdb, 10000);
    *out = st;
    st = NULL;
    rc = PST_OK;
out:
    sqlite3_free(err);
    pst_store_free(st);
    return rc;
}

void pst_store_free(struct pst_store *st)
{
    if (st == NULL) {
        return;
    }
    for (int i = 0; i < ST_COUNT; i++) {
        sqlite3_finalize(st->stmt[i]);
    }
    sqlite3_finalize(st->by_fingerprint);
    sqlite3_close(st->rdb);
    sqlite3_close(st->db);
    pthread_mutex_destroy(&st->lock);
    pthread_mutex_destroy(&st->rlock);
    pthread_mutex_destroy(&st->queue_lock);
    pthread_cond_destroy(&st->queue_done);
    free(st);
}

int pst_store_token_add(struct pst_store *st, const char *hash, int64_t now, int64_t expires,
                        int64_t uses)
{
    sqlite3_stmt *s = NULL;
    int rc = PST_EIO;

    pthread_mutex_lock(&st->lock);
    if (sqlite3_prepare_v2(st->db,
                           "INSERT INTO tokens(hash, created, expires, uses_left)"
                           " VALUES(?1, ?2, ?3, ?4)",
                           -1, &s, NULL) != SQLITE_OK) {
        db_error(st, "token");
        goto out;
    }
    sqlite3_bind_text(s, 1, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, now);
    sqlite3_bind_int64(s, 3, expires);
    sqlite3_bind_int64(s, 4, uses);
    rc = sqlite3_step(s) == SQLITE_DONE ? PST_OK : db_error(st, "token");
out:
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->lock);
    return rc;
}

int pst_store_enroll(struct pst_store *st, const char *hash, int64_t now,
                     const struct pst_issued *issued, enum pst_token_verdict *verdict)
{
    sqlite3_stmt *sel = NULL, *spend = NULL, *host = NULL;
    int rc = PST_EIO, step;
    bool open = false;

    *verdict = PST_TOKEN_UNKNOWN;
    pthread_mutex_lock(&st->lock);
    if (sqlite3_prepare_v2(st->db, "SELECT expires, uses_left FROM tokens WHERE hash = ?1", -1,
                           &sel, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(st->db, "UPDATE tokens SET uses_left = uses_left - 1 WHERE hash = ?1",
                           -1, &spend, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(st->db,
                           "INSERT INTO hosts(host_id, fingerprint, serial, kid, enrolled)"
                           " VALUES(?1, ?2, ?3, ?4, ?5)",
                           -1, &host, NULL) != SQLITE_OK) {
        db_error(st, "enroll");
        goto out;
    }
    if (run(st, ST_BEGIN) != PST_OK) {
        goto out;
    }
    open = true;
    sqlite3_bind_text(sel, 1, hash, -1, SQLITE_STATIC);
    step = sqlite3_step(sel);
    if (step == SQLITE_ROW) {
        if (sqlite3_column_int64(sel, 0) <= now) {
            *verdict = PST_TOKEN_EXPIRED;
        } else if (sqlite3_column_int64(sel, 1) <= 0) {
            *verdict = PST_TOKEN_USED_UP;
        } else {
            *verdict = PST_TOKEN_OK;
        }
    } else if (step != SQLITE_DONE) {
        db_error(st, "enroll");
        goto out;
    }
    if (*verdict != PST_TOKEN_OK) {
        rc = PST_OK;
        goto out;
    }
    sqlite3_bind_text(spend, 1, hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(host, 1, issued->host_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(host, 2, issued->fingerprint, -1, SQLITE_STATIC);
    sqlite3_bind_text(host, 3, issued->serial, -1, SQLITE_STATIC);
    sqlite3_bind_text(host, 4, issued->kid, -1, SQLITE_STATIC);
    sqlite3_bind_int64(host, 5, now);
    if (sqlite3_step(spend) != SQLITE_DONE || sqlite3_step(host) != SQLITE_DONE) {
        db_error(st, "enroll");
        goto out;
    }
    rc = run(st, ST_COMMIT);
    open = false;
out:
    sqlite3_finalize(sel);
    sqlite3_finalize(spend);
    sqlite3_finalize(host);
    if (open) {
        /* A refused token changed nothing; a failed write is undone. */
        run(st, ST_ROLLBACK);
    }
    if (rc != PST_OK) {
        *verdict = PST_TOKEN_UNKNOWN;
    }
    pthread_mutex_unlock(&st->lock);
    return rc;
}

int pst_store_host_by_fingerprint(struct pst_store *st, const char *fingerprint,
                                  struct pst_host_ref *out, bool *found)
{
    sqlite3_stmt *s;
    int rc = PST_OK, step;

    memset(out, 0, sizeof(*out));
    *found = false;
    pthread_mutex_lock(&st->rlock);
    s = st->by_fingerprint;
    sqlite3_reset(s);
    sqlite3_bind_text(s, 1, fingerprint, -1, SQLITE_STATIC);
    step = sqlite3_step(s);
    if (step == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(s, 0);
        const char *kid = (const char *)sqlite3_column_text(s, 1);
        snprintf(out->host_id, sizeof(out->host_id), "%s", id ? id : "");
        snprintf(out->kid, sizeof(out->kid), "%s", kid ? kid : "");
        out->revoked = sqlite3_column_type(s, 2) != SQLITE_NULL;
        *found = true;
    } else if (step != SQLITE_DONE) {
        fprintf(stderr, "posture-collector: database: host: %s\n", sqlite3_errmsg(st->rdb));
        rc = PST_EIO;
    }
    sqlite3_reset(s);
    pthread_mutex_unlock(&st->rlock);
    return rc;
}

/* Replaces the host's controls in the score by those of its latest report. */
static int store_controls(struct pst_store *st, const char *host_id, const json_t *controls)
{
    sqlite3_stmt *s = stmt(st, ST_CONTROLS_DELETE);
    size_t i;
    const json_t *c;

    sqlite3_bind_text(s, 1, host_id, -1, SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_DONE) {
        return db_error(st, "controls");
    }
    json_array_foreach(controls, i, c)
    {
        const char *id = json_string_value(json_object_get(c, "id"));
        const char *title = json_string_value(json_object_get(c, "title"));
        const json_t *max = json_object_get(c, "max_score");
        /* Only controls in this host's score count in the fleet's (DESIGN.md "Scores"). */
        if (id == NULL || !json_is_integer(max) || !json_is_true(json_object_get(c, "in_score"))) {
            continue;
        }
        s = stmt(st, ST_CONTROL_INSERT);
        sqlite3_bind_text(s, 1, host_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, title ? title : id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 4, json_integer_value(max));
        sqlite3_bind_int(s, 5, json_is_true(json_object_get(c, "healthy")) ? 1 : 0);
        if (sqlite3_step(s) != SQLITE_DONE) {
            return db_error(st, "controls");
        }
    }
    return PST_OK;
}

/* One report waiting for the next group commit. */
struct report_job {
    const struct pst_report_summary *summary;
    const char *jws;
    size_t len;
    int64_t now;
    enum pst_report_verdict verdict;
    int64_t last_seq;
    int rc;
    bool done;
    struct report_job *next;
};

/* Most reports one transaction takes. */
#define BATCH_MAX 256

/*
 * Checks and writes one report inside the open transaction: its verdict and the host's last
 * seq into JOB. Returns 0, or PST_EIO when a statement failed (the batch is rolled back).
 */
static int write_report(struct pst_store *st, struct report_job *job)
{
    const struct pst_report_summary *summary = job->summary;
    sqlite3_stmt *s;
    int step;

    job->verdict = PST_REPORT_UNKNOWN;
    job->last_seq = 0;
    /* The seq and revocation checks read inside the write transaction: no race with revoke. */
    s = stmt(st, ST_HOST_STATE);
    sqlite3_bind_text(s, 1, summary->host_id, -1, SQLITE_STATIC);
    step = sqlite3_step(s);
    if (step == SQLITE_DONE) {
        return PST_OK;
    }
    if (step != SQLITE_ROW) {
        return db_error(st, "host");
    }
    job->last_seq = sqlite3_column_int64(s, 0);
    if (sqlite3_column_type(s, 1) != SQLITE_NULL) {
        job->verdict = PST_REPORT_REVOKED;
        return PST_OK;
    }
    if (summary->seq <= job->last_seq) {
        job->verdict = PST_REPORT_REPLAY;
        return PST_OK;
    }
    sqlite3_reset(s);
    s = stmt(st, ST_REPORT_INSERT);
    sqlite3_bind_text(s, 1, summary->host_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, summary->seq);
    sqlite3_bind_int64(s, 3, job->now);
    sqlite3_bind_text(s, 4, job->jws, (int)job->len, SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_DONE) {
        return db_error(st, "report");
    }
    s = stmt(st, ST_HOST_UPDATE);
    sqlite3_bind_text(s, 1, summary->host_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, summary->seq);
    sqlite3_bind_int64(s, 3, job->now);
    if (summary->hostname != NULL) {
        sqlite3_bind_text(s, 4, summary->hostname, -1, SQLITE_STATIC);
    }
    if (summary->has_score) {
        sqlite3_bind_int64(s, 5, summary->score_current);
        sqlite3_bind_int64(s, 6, summary->score_max);
        if (summary->score_max > 0) {
            sqlite3_bind_double(s, 7, summary->score_percent);
        }
    }
    if (sqlite3_step(s) != SQLITE_DONE) {
        return db_error(st, "host");
    }
    if (store_controls(st, summary->host_id, summary->controls) != PST_OK) {
        return PST_EIO;
    }
    job->verdict = PST_REPORT_STORED;
    job->last_seq = summary->seq;
    return PST_OK;
}

/*
 * Writes BATCH (a list of jobs) in one transaction and one fsync. A failed statement or
 * commit fails every job of the batch: none of them was stored.
 */
static void write_batch(struct pst_store *st, struct report_job *batch)
{
    int rc;

    pthread_mutex_lock(&st->lock);
    rc = run(st, ST_BEGIN);
    for (struct report_job *j = batch; rc == PST_OK && j != NULL; j = j->next) {
        rc = write_report(st, j);
        for (int i = ST_HOST_STATE; i < ST_COUNT; i++) {
            sqlite3_reset(st->stmt[i]);
        }
    }
    if (rc == PST_OK) {
        rc = run(st, ST_COMMIT);
    }
    if (rc != PST_OK && !sqlite3_get_autocommit(st->db)) {
        run(st, ST_ROLLBACK);
    }
    pthread_mutex_unlock(&st->lock);
    for (struct report_job *j = batch; j != NULL; j = j->next) {
        j->rc = rc;
        if (rc != PST_OK) {
            j->verdict = PST_REPORT_UNKNOWN;
        }
    }
}

int pst_store_report(struct pst_store *st, const struct pst_report_summary *summary,
                     const char *jws, size_t len, int64_t now, enum pst_report_verdict *verdict,
                     int64_t *last_seq)
{
    struct report_job job = {.summary = summary, .jws = jws, .len = len, .now = now};

    /*
     * Group commit: the reports that arrive while a transaction is being written wait, and
     * the next thread to find no commit in progress writes them all in one transaction with
     * one fsync. Every report is still on disk before its own answer; concurrent clients
     * share the cost of the fsync instead of queueing behind one each.
     */
    pthread_mutex_lock(&st->queue_lock);
    *st->queue_tail = &job;
    st->queue_tail = &job.next;
    while (!job.done) {
        if (!st->committing) {
            struct report_job *batch = st->queue, **cut = &st->queue;
            int n = 0;
            while (*cut != NULL && n < BATCH_MAX) {
                cut = &(*cut)->next;
                n++;
            }
            st->queue = *cut;
            if (st->queue == NULL) {
                st->queue_tail = &st->queue;
            }
            *cut = NULL;
            st->committing = true;
            pthread_mutex_unlock(&st->queue_lock);
            write_batch(st, batch);
            pthread_mutex_lock(&st->queue_lock);
            for (struct report_job *j = batch; j != NULL;) {
                struct report_job *next = j->next;
                j->done = true; /* after this, j belongs to its own thread again */
                j = next;
            }
            st->committing = false;
            pthread_cond_broadcast(&st->queue_done);
        } else {
            pthread_cond_wait(&st->queue_done, &st->queue_lock);
        }
    }
    pthread_mutex_unlock(&st->queue_lock);
    *verdict = job.verdict;
    *last_seq = job.last_seq;
    return job.rc;
}

int pst_store_revoke(struct pst_store *st, const char *host_id, int64_t now, bool *found)
{
    sqlite3_stmt *s = NULL;
    int rc = PST_EIO;

    *found = false;
    pthread_mutex_lock(&st->lock);
    if (sqlite3_prepare_v2(st->db,
                           "UPDATE hosts SET revoked = coalesce(revoked, ?2) WHERE host_id = ?1",
                           -1, &s, NULL) != SQLITE_OK) {
        db_error(st, "revoke");
        goto out;
    }
    sqlite3_bind_text(s, 1, host_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, now);
    if (sqlite3_step(s) != SQLITE_DONE) {
        db_error(st, "revoke");
        goto out;
    }
    *found = sqlite3_changes(st->db) > 0;
    rc = PST_OK;
out:
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->lock);
    return rc;
}

/* RFC 3339 UTC text of a Unix time column, or JSON null. */
static json_t *time_value(sqlite3_stmt *s, int col)
{
    char buf[32];
    time_t t;
    struct tm tm;

    if (sqlite3_column_type(s, col) == SQLITE_NULL) {
        return json_null();
    }
    t = (time_t)sqlite3_column_int64(s, col);
    if (gmtime_r(&t, &tm) == NULL || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        return json_null();
    }
    return json_string(buf);
}

static json_t *text_value(sqlite3_stmt *s, int col)
{
    const unsigned char *t = sqlite3_column_text(s, col);
    return t != NULL ? json_string((const char *)t) : json_null();
}

/* X rounded to two decimals, as the agent's reports give percents. */
static double round2(double x)
{
    return round(x * 100.0) / 100.0;
}

int pst_store_hosts(struct pst_store *st, json_t **out)
{
    sqlite3_stmt *s = NULL;
    json_t *hosts = json_array();
    int rc = PST_EIO, step;

    *out = NULL;
    pthread_mutex_lock(&st->lock);
    if (hosts == NULL ||
        sqlite3_prepare_v2(st->db,
                           "SELECT host_id, hostname, enrolled, last_seen, last_seq, score_current,"
                           " score_max, score_percent, revoked FROM hosts ORDER BY host_id",
                           -1, &s, NULL) != SQLITE_OK) {
        db_error(st, "hosts");
        goto out;
    }
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        json_t *score = json_null();
        if (sqlite3_column_type(s, 5) != SQLITE_NULL) {
            score = json_pack("{s:I, s:I, s:o}", "current", sqlite3_column_int64(s, 5), "max",
                              sqlite3_column_int64(s, 6), "percent",
                              sqlite3_column_type(s, 7) == SQLITE_NULL
                                  ? json_null()
                                  : json_real(round2(sqlite3_column_double(s, 7))));
        }
        if (json_array_append_new(hosts, json_pack("{s:o, s:o, s:o, s:o, s:I, s:o, s:o}", "host_id",
                                                   text_value(s, 0), "hostname", text_value(s, 1),
                                                   "enrolled", time_value(s, 2), "last_seen",
                                                   time_value(s, 3), "last_seq",
                                                   sqlite3_column_int64(s, 4), "score", score,
                                                   "revoked", time_value(s, 8))) != 0) {
            rc = PST_ENOMEM;
            goto out;
        }
    }
    if (step != SQLITE_DONE) {
        db_error(st, "hosts");
        goto out;
    }
    *out = hosts;
    hosts = NULL;
    rc = PST_OK;
out:
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->lock);
    json_decref(hosts);
    return rc;
}

/* Orders controls by potential increase, largest first, then by id. */
static int control_order(const void *a, const void *b)
{
    const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
    double px = json_real_value(json_object_get(x, "potential_increase"));
    double py = json_real_value(json_object_get(y, "potential_increase"));

    if (px != py) {
        return px > py ? -1 : 1;
    }
    return strcmp(json_string_value(json_object_get(x, "id")),
                  json_string_value(json_object_get(y, "id")));
}

int pst_store_fleet(struct pst_store *st, json_t **out)
{
    sqlite3_stmt *s = NULL;
    json_t *controls = json_array(), *fleet = NULL, **sorted = NULL;
    double sum_current = 0, sum_max = 0;
    int64_t n_hosts = 0;
    int rc = PST_EIO, step;
    size_t n;

    *out = NULL;
    pthread_mutex_lock(&st->lock);
    if (controls == NULL ||
        sqlite3_prepare_v2(st->db,
                           "SELECT count(*) FROM hosts WHERE revoked IS NULL AND last_seq > 0", -1,
                           &s, NULL) != SQLITE_OK ||
        sqlite3_step(s) != SQLITE_ROW) {
        db_error(st, "fleet");
        goto out;
    }
    n_hosts = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    s = NULL;
    /*
     * Per control, over the hosts whose latest report has it in the score: current =
     * max_score x healthy / hosts. Should hosts disagree on a control's max_score (two
     * policy versions), each host weighs in with its own, which is the same formula when
     * they agree.
     */
    if (sqlite3_prepare_v2(st->db,
                           "SELECT c.control, max(c.title), count(*), sum(c.healthy),"
                           " sum(c.max_score), sum(c.max_score * c.healthy)"
                           " FROM host_controls c JOIN hosts h ON h.host_id = c.host_id"
                           " WHERE h.revoked IS NULL GROUP BY c.control",
                           -1, &s, NULL) != SQLITE_OK) {
        db_error(st, "fleet");
        goto out;
    }
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        double hosts = (double)sqlite3_column_int64(s, 2);
        double max_score = (double)sqlite3_column_int64(s, 4) / hosts;
        double current = (double)sqlite3_column_int64(s, 5) / hosts;
        sum_current += current;
        sum_max += max_score;
        if (json_array_append_new(
                controls, json_pack("{s:o, s:o, s:f, s:I, s:I, s:f, s:f}", "id", text_value(s, 0),
                                    "title", text_value(s, 1), "max_score", round2(max_score),
                                    "hosts", sqlite3_column_int64(s, 2), "healthy_hosts",
                                    sqlite3_column_int64(s, 3), "current", round2(current),
                                    "potential_increase", round2(max_score - current))) != 0) {
            rc = PST_ENOMEM;
            goto out;
        }
    }
    if (step != SQLITE_DONE) {
        db_error(st, "fleet");
        goto out;
    }
    n = json_array_size(controls);
    sorted = calloc(n + 1, sizeof(*sorted));
    if (sorted == NULL) {
        rc = PST_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        sorted[i] = json_incref(json_array_get(controls, i));
    }
    qsort(sorted, n, sizeof(*sorted), control_order);
    json_array_clear(controls);
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(controls, sorted[i]);
    }
    fleet = json_pack("{s:I, s:{s:f, s:f, s:o}, s:O}", "hosts", n_hosts, "score", "current",
                      round2(sum_current), "max", round2(sum_max), "percent",
                      sum_max > 0 ? json_real(round2(100.0 * sum_current / sum_max)) : json_null(),
                      "controls", controls);
    if (fleet == NULL) {
        rc = PST_ENOMEM;
        goto out;
    }
    *out = fleet;
    rc = PST_OK;
out:
    free(sorted);
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->lock);
    json_decref(controls);
    return rc;
}

int pst_store_count_reports(struct pst_store *st, int64_t *count)
{
    sqlite3_stmt *s = NULL;
    int rc = PST_EIO;

    *count = 0;
    pthread_mutex_lock(&st->lock);
    if (sqlite3_prepare_v2(st->db, "SELECT count(*) FROM reports", -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW) {
        *count = sqlite3_column_int64(s, 0);
        rc = PST_OK;
    } else {
        db_error(st, "reports");
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&st->lock);
    return rc;
}
