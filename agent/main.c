/* SPDX-License-Identifier: Apache-2.0 */
/* The posture command line: scan, probe, explain, policy lint, enroll, send, verify, version. */
#include "agent/error.h"
#include "agent/io.h"
#include "agent/jsonw.h"
#include "agent/paths.h"
#include "agent/report.h"
#include "agent/scan.h"
#include "config/config.h"
#include "config/policy.h"
#include "probes/probe.h"
#include "probes/text.h"
#include "transport/deliver.h"
#include "transport/enroll.h"
#include "transport/identity.h"
#include "transport/jws.h"
#include "transport/spool.h"
#include "transport/state.h"

#include <inttypes.h>
#include <mbedtls/platform_util.h>
#include <signal.h>
#include <sys/random.h>
#include <time.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Exit codes of DESIGN.md. */
enum {
    EXIT_OK = 0,
    EXIT_BELOW = 1,
    EXIT_USAGE = 2,
    EXIT_OUTPUT = 3,
};

#define MAX_REPEATED 64

static const char usage_text[] =
    "usage: posture COMMAND [OPTIONS]\n"
    "\n"
    "  scan    [--root DIR] [--config FILE] [--policy FILE|DIR]... [--format text|json]\n"
    "          [--output FILE] [--fail-under PERCENT] [--only ID]...\n"
    "          [--send] [--state-dir DIR]\n"
    "  probe   NAME [--root DIR] [--arg KEY=VALUE]... [--format text|json]\n"
    "  probe   --list | NAME --describe\n"
    "  explain ID [--policy FILE|DIR]...\n"
    "  policy  lint FILE...\n"
    "  enroll  --collector URL --token TOKEN (--ca-file PEM | --ca-fingerprint SHA256)\n"
    "          [--state-dir DIR] [--config FILE] [--proxy URL]\n"
    "  send    [--config FILE] [--state-dir DIR]\n"
    "  verify  FILE [--cert PEM] [--state-dir DIR]\n"
    "  run     [--config FILE] [--state-dir DIR] [--root DIR] [--policy FILE|DIR]...\n"
    "  version\n"
    "\n"
    "exit codes: 0 success (score at least --fail-under), 1 score below --fail-under,\n"
    "            2 usage, config or policy error (nothing scanned), 3 report not written\n"
    "            or not delivered (it stays in the spool)\n";

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "posture: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n%s", usage_text);
    return EXIT_USAGE;
}

/* Options shared by the commands that load policies. */
struct policy_opts {
    const char *paths[MAX_REPEATED];
    size_t n;
};

static bool add_repeated(const char **list, size_t *n, const char *value)
{
    if (*n == MAX_REPEATED) {
        return false;
    }
    list[(*n)++] = value;
    return true;
}

/* Loads the configuration at PATH (NULL: the default) into *config; prints every error.
 * Returns 0 or EXIT_USAGE (then *config is NULL). */
static int load_config(const char *path, struct pst_config **config)
{
    struct pst_diag diag = {0};
    int rc = pst_config_load(path, config, &diag);

    pst_diag_print(&diag, stderr);
    pst_diag_release(&diag);
    if (rc != PST_OK) {
        fprintf(stderr, "posture: configuration errors\n");
        pst_config_free(*config);
        *config = NULL;
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/*
 * Loads config and policies, with STATE_DIR (--state-dir, or NULL) over the configured state
 * directory; prints every error. Returns 0 or EXIT_USAGE.
 */
static int load_inputs(const char *config_path, const char *state_dir, struct policy_opts *po,
                       struct pst_config **config, struct pst_policy_set **set)
{
    struct pst_diag diag = {0};
    int rc;

    *set = NULL;
    rc = pst_config_load(config_path, config, &diag);
    if (rc == PST_OK && state_dir != NULL) {
        rc = pst_config_set_state_dir(*config, state_dir);
    }
    if (rc == PST_OK) {
        if (po->n == 0) {
            po->paths[po->n++] = pst_paths_policy_dir();
        }
        rc = pst_policy_load(po->paths, po->n, *config, set, &diag);
    }
    pst_diag_print(&diag, stderr);
    pst_diag_release(&diag);
    if (rc != PST_OK) {
        fprintf(stderr, "posture: %s; nothing was scanned\n",
                rc == PST_EPARSE ? "configuration or policy errors" : pst_strerror(rc));
        pst_config_free(*config);
        *config = NULL;
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/*
 * Writes DATA to PATH. A regular file (or a new one) is replaced atomically: a temp file
 * beside it, fsync, rename, so that readers never see half a report. A character device or
 * a FIFO (/dev/stdout, /dev/null, a pipe) is written in place, never replaced; anything else
 * (a directory, a block device) is refused.
 */
static int write_report_file(const char *path, const char *data, size_t len)
{
    char tmp[PATH_MAX];
    struct stat st;
    int fd;
    int rc;

    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        if (!S_ISCHR(st.st_mode) && !S_ISFIFO(st.st_mode)) {
            return PST_ETYPE;
        }
        fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
            return pst_from_errno(errno);
        }
        rc = pst_io_write_all(fd, data, len);
        if (close(fd) != 0 && rc == PST_OK) {
            rc = pst_from_errno(errno);
        }
        return rc;
    }
    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp)) {
        return PST_EINVAL;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (fd < 0) {
        return pst_from_errno(errno);
    }
    rc = pst_io_write_all(fd, data, len);
    if (rc == PST_OK && fsync(fd) != 0) {
        rc = pst_from_errno(errno);
    }
    if (close(fd) != 0 && rc == PST_OK) {
        rc = pst_from_errno(errno);
    }
    if (rc == PST_OK && rename(tmp, path) != 0) {
        rc = pst_from_errno(errno);
    }
    if (rc != PST_OK) {
        unlink(tmp);
    }
    return rc;
}

/*
 * What a one-shot command leaves to the kernel as it exits: freeing a scan, its policies and
 * their JSON object by object took a tenth of a scan's instructions, for a process about to
 * end. The pointers stay here, so that leak checkers (valgrind, LeakSanitizer) see that
 * memory as reachable rather than lost; `posture run`, which scans again and again, frees
 * each scan. Secrets are never left: the identity's key is wiped and freed as before. The
 * struct is volatile because nothing reads it: the compiler would drop the stores, and the
 * memory would show as lost.
 */
static volatile struct {
    struct pst_scan *scan;
    struct pst_policy_set *set;
    struct pst_config *config;
} left_at_exit;

static void leave_at_exit(struct pst_scan *scan, struct pst_policy_set *set,
                          struct pst_config *config)
{
    left_at_exit.scan = scan;
    left_at_exit.set = set;
    left_at_exit.config = config;
}

/* Renders the report into memory, then prints it or writes it to OUTPUT. */
static int emit_report(const struct pst_scan *scan, bool json, const char *output)
{
    char *data = NULL;
    size_t len = 0;
    int rc = PST_OK;

    if (json) {
        /* json_dumps's text, written straight from the scan (agent/report.h) */
        rc = pst_report_json(scan, JSON_INDENT(2) | JSON_REAL_PRECISION(17), NULL, &data, &len);
        if (rc != PST_OK) {
            return rc;
        }
        char *nl = realloc(data, len + 2);
        if (nl == NULL) {
            free(data);
            return PST_ENOMEM;
        }
        data = nl;
        data[len++] = '\n';
        data[len] = '\0';
    } else {
        FILE *mem = open_memstream(&data, &len);
        bool color = output == NULL && isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL;
        if (mem == NULL) {
            return PST_ENOMEM;
        }
        rc = pst_report_text(scan, mem, color);
        if (fclose(mem) != 0 && rc == PST_OK) {
            rc = PST_ENOMEM;
        }
    }
    if (rc == PST_OK) {
        if (output != NULL) {
            rc = write_report_file(output, data, len);
        } else if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0) {
            rc = PST_EIO;
        }
    }
    free(data);
    return rc;
}

/* The transport settings: posture.yaml's collector section, --state-dir over it. */
static void transport_settings(const struct pst_config *config, const char *state_dir,
                               struct pst_transport_settings *s)
{
    const struct pst_collector_config *c = &config->collector;

    pst_transport_settings_default(s);
    s->url = c->url;
    s->ca_file = c->ca_file;
    s->proxy = c->proxy;
    s->state_dir = state_dir != NULL ? state_dir : config->state_dir;
    s->connect_timeout_s = c->connect_timeout_s;
    s->timeout_s = c->timeout_s;
    s->limits.max_reports = c->spool_max_reports;
    s->limits.max_bytes = c->spool_max_bytes;
    s->backoff_base_ms = c->backoff_base_ms;
    s->backoff_cap_ms = c->backoff_cap_ms;
}

/* Opens the state directory of an enrolled agent; prints why not. 0 or EXIT_USAGE. */
static int open_enrolled(const struct pst_transport_settings *s, struct pst_state **state,
                         struct pst_identity **id)
{
    char why[512] = "";
    int rc = pst_state_open(s->state_dir, false, state);

    if (rc != PST_OK) {
        fprintf(stderr, "posture: state directory %s: %s (enroll first: posture enroll)\n",
                s->state_dir ? s->state_dir : PST_STATE_DEFAULT_DIR, pst_strerror(rc));
        return EXIT_USAGE;
    }
    rc = pst_identity_load(*state, id, why, sizeof(why));
    if (rc != PST_OK) {
        fprintf(stderr, "posture: %s\n", why);
        pst_state_free(*state);
        *state = NULL;
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* Prints what a delivery pass did; returns EXIT_OK when nothing is left undelivered. */
static int delivery_status(const struct pst_state *state, const struct pst_delivery *res)
{
    if (res->delivered + res->duplicates + res->dead + res->left == 0) {
        fprintf(stderr, "posture: the spool is empty\n");
        return EXIT_OK;
    }
    fprintf(stderr, "posture: delivered %zu report(s)", res->delivered);
    if (res->duplicates > 0) {
        fprintf(stderr, ", %zu already held by the collector", res->duplicates);
    }
    if (res->dead > 0) {
        fprintf(stderr, ", %zu refused (moved to %s/%s)", res->dead, state->dir, PST_STATE_DEAD);
    }
    if (res->left > 0) {
        fprintf(stderr, ", %zu left in %s/%s", res->left, state->dir, PST_STATE_SPOOL);
    }
    fputc('\n', stderr);
    if (res->left > 0) {
        fprintf(stderr, "posture: delivery stopped: %s%s\n", res->why,
                res->retry_after > 0 ? " (the collector asks to retry later)" : "");
    }
    return res->left == 0 && res->dead == 0 ? EXIT_OK : EXIT_OUTPUT;
}

/* The signed payload (transport/identity.h): the report of the scan ARG, compact, with the
 * trailing members the signer gives. */
static int write_payload(void *arg, const char *host_id, uint64_t seq, uint64_t spool_dropped,
                         char **text, size_t *len)
{
    const struct pst_report_trailer trailer = {host_id, seq, spool_dropped};

    return pst_report_json(arg, JSON_COMPACT | JSON_REAL_PRECISION(17), &trailer, text, len);
}

/*
 * Signs the report of SCAN with the next sequence number and spools it, under the state's
 * lock (kept). Returns 0 and the number in *seq, or a PST_E* code (printed).
 */
static int spool_report(struct pst_state *state, struct pst_identity *id,
                        const struct pst_transport_settings *s, const struct pst_scan *scan,
                        uint64_t *seq)
{
    const struct pst_payload_writer payload = {write_payload, (void *)scan};
    uint64_t dropped = 0, dropped_now = 0;
    char *jws = NULL;
    size_t len = 0;
    int rc;

    rc = pst_state_lock(state);
    if (rc == PST_OK) {
        rc = pst_state_read_counter(state, PST_STATE_DROPPED, &dropped);
    }
    /* The sequence number is durable before the report that carries it exists. */
    if (rc == PST_OK) {
        rc = pst_state_next_seq(state, seq);
    }
    if (rc == PST_OK) {
        rc = pst_identity_sign_report(id, &payload, *seq, dropped, &jws, &len);
    }
    if (rc == PST_OK) {
        rc = pst_spool_put(state, &s->limits, *seq, jws, len, dropped, &dropped_now);
    }
    free(jws);
    if (rc != PST_OK) {
        fprintf(stderr, "posture: cannot sign and spool the report in %s: %s\n", state->dir,
                pst_strerror(rc));
        return rc;
    }
    if (dropped_now > 0) {
        fprintf(stderr, "posture: the spool is full: dropped the %" PRIu64 " oldest report(s)\n",
                dropped_now);
    }
    return PST_OK;
}

/*
 * Signs the report of SCAN with the next sequence number, spools it, then delivers the spool
 * once.
 * Returns EXIT_OK when the spool is empty afterwards, else EXIT_OUTPUT (the report stays
 * spooled for `posture send`).
 */
static int send_report(struct pst_state *state, struct pst_identity *id,
                       const struct pst_transport_settings *s, const struct pst_scan *scan)
{
    struct pst_delivery res = {.retry_after = -1};
    uint64_t seq = 0;
    int rc = spool_report(state, id, s, scan, &seq);

    if (rc != PST_OK) {
        return EXIT_OUTPUT;
    }
    rc = pst_deliver_spool(state, s, &res);
    if (rc != PST_OK) {
        fprintf(stderr, "posture: report %" PRIu64 " is spooled but was not sent: %s\n", seq,
                res.why[0] ? res.why : pst_strerror(rc));
        return EXIT_OUTPUT;
    }
    int status = delivery_status(state, &res);
    char name[32];
    snprintf(name, sizeof(name), "%020" PRIu64 ".jws", seq);
    if (faccessat(state->deadfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
        fprintf(stderr, "posture: report %" PRIu64 " was refused by the collector: see %s/%s/%s\n",
                seq, state->dir, PST_STATE_DEAD, name);
    } else if (faccessat(state->spoolfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
        fprintf(stderr,
                "posture: report %" PRIu64 " could not be delivered; it is spooled in %s/%s "
                "and `posture send` delivers it\n",
                seq, state->dir, PST_STATE_SPOOL);
    }
    return status;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Waits MS milliseconds; true when SIGTERM or SIGINT (blocked, in SET) asks to stop. */
static bool wait_or_stop(const sigset_t *set, uint64_t ms)
{
    struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L};
    for (;;) {
        int sig = sigtimedwait(set, NULL, &ts);
        if (sig == SIGTERM || sig == SIGINT) {
            return true;
        }
        if (sig < 0 && errno == EINTR) {
            continue; /* another signal; the remaining time is not tracked, a shorter wait */
        }
        return false;
    }
}

/*
 * The agent: scans every collector.interval, spools each report and delivers the spool,
 * retrying with capped exponential backoff and full jitter (at least Retry-After) while
 * something is left. SIGTERM or SIGINT ends it cleanly (exit 0).
 */
static int cmd_run(int argc, char **argv)
{
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},
        {"state-dir", required_argument, NULL, 's'},
        {"root", required_argument, NULL, 'r'},
        {"policy", required_argument, NULL, 'p'},
        {NULL, 0, NULL, 0},
    };
    struct policy_opts po = {0};
    const char *config_path = NULL, *state_dir = NULL, *root = NULL;
    struct pst_transport_settings ts;
    struct pst_config *config = NULL;
    struct pst_policy_set *set = NULL;
    struct pst_state *state = NULL;
    struct pst_identity *id = NULL;
    sigset_t stop;
    uint64_t next_scan = 0;
    unsigned attempt = 0;
    int opt, status;

    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'c':
            config_path = optarg;
            break;
        case 's':
            state_dir = optarg;
            break;
        case 'r':
            root = optarg;
            break;
        case 'p':
            if (!add_repeated(po.paths, &po.n, optarg)) {
                return usage_error("too many --policy options");
            }
            break;
        default:
            return usage_error("invalid option for run");
        }
    }
    if (optind != argc) {
        return usage_error("unexpected argument '%s'", argv[optind]);
    }
    if (load_inputs(config_path, state_dir, &po, &config, &set) != EXIT_OK) {
        return EXIT_USAGE;
    }
    transport_settings(config, state_dir, &ts);
    status = open_enrolled(&ts, &state, &id);
    if (status != EXIT_OK) {
        goto out;
    }
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigprocmask(SIG_BLOCK, &stop, NULL);
    fprintf(stderr, "posture: running as host %s, a scan every %" PRIu64 " s\n", id->host_id,
            config->collector.interval_s);
    for (;;) {
        struct pst_delivery res = {.retry_after = -1};
        uint64_t wait_ms, now = now_ms();
        if (now >= next_scan) {
            struct pst_scan *scan = NULL;
            char *error = NULL;
            uint64_t seq;
            next_scan = now + config->collector.interval_s * 1000u;
            int rc = pst_scan_run(set, config, root, NULL, 0, &scan, &error);
            if (rc != PST_OK) {
                fprintf(stderr, "posture: scan failed: %s\n", error ? error : pst_strerror(rc));
            } else if (spool_report(state, id, &ts, scan, &seq) == PST_OK) {
                fprintf(stderr, "posture: report %" PRIu64 " spooled (secure score %.2f%%)\n", seq,
                        scan->score.percent);
            }
            free(error);
            pst_scan_free(scan);
        }
        if (pst_state_lock(state) == PST_OK && pst_deliver_spool(state, &ts, &res) == PST_OK &&
            res.left == 0) {
            if (res.delivered + res.duplicates + res.dead > 0) {
                delivery_status(state, &res);
            }
            attempt = 0;
            now = now_ms();
            wait_ms = next_scan > now ? next_scan - now : 0;
        } else {
            uint64_t random = 0;
            if (getrandom(&random, sizeof(random), 0) != (ssize_t)sizeof(random)) {
                random = now_ms();
            }
            wait_ms = pst_backoff_delay_ms(attempt, ts.backoff_base_ms, ts.backoff_cap_ms,
                                           res.retry_after, random);
            attempt += attempt < 64;
            fprintf(stderr, "posture: delivery stopped (%s); retry %u in %" PRIu64 " ms\n", res.why,
                    attempt, wait_ms);
        }
        pst_state_unlock(state);
        if (wait_or_stop(&stop, wait_ms)) {
            fprintf(stderr, "posture: stopping\n");
            break;
        }
    }
out:
    pst_identity_free(id);
    pst_state_free(state);
    pst_policy_set_free(set);
    pst_config_free(config);
    return status;
}

static int cmd_enroll(int argc, char **argv)
{
    static const struct option options[] = {
        {"collector", required_argument, NULL, 'u'},
        {"token", required_argument, NULL, 't'},
        {"ca-file", required_argument, NULL, 'a'},
        {"ca-fingerprint", required_argument, NULL, 'f'},
        {"state-dir", required_argument, NULL, 's'},
        {"config", required_argument, NULL, 'c'},
        {"proxy", required_argument, NULL, 'p'},
        {NULL, 0, NULL, 0},
    };
    struct pst_enroll_opts eo = {0};
    struct pst_transport_settings ts;
    struct pst_config *config = NULL;
    struct pst_state *state = NULL;
    const char *fingerprint = NULL, *state_dir = NULL, *config_path = NULL, *proxy = NULL;
    char *token = NULL;
    unsigned char pin[32];
    char *host_id = NULL;
    char why[1024] = "";
    int opt, rc, status = EXIT_OK;

    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'u':
            eo.url = optarg;
            break;
        case 't':
            /* A copy for the request; the argument itself is blanked from ps and /proc. */
            free(token);
            token = strdup(optarg);
            if (token == NULL) {
                status = EXIT_OUTPUT;
                goto out;
            }
            mbedtls_platform_zeroize(optarg, strlen(optarg));
            eo.token = token;
            break;
        case 'a':
            eo.http.ca_file = optarg;
            break;
        case 'f':
            fingerprint = optarg;
            break;
        case 's':
            state_dir = optarg;
            break;
        case 'c':
            config_path = optarg;
            break;
        case 'p':
            proxy = optarg;
            break;
        default:
            status = usage_error("invalid option for enroll");
            goto out;
        }
    }
    if (optind != argc) {
        status = usage_error("unexpected argument '%s'", argv[optind]);
        goto out;
    }
    if (eo.url == NULL || eo.token == NULL || eo.token[0] == '\0') {
        status = usage_error("enroll needs --collector URL and --token TOKEN");
        goto out;
    }
    if ((eo.http.ca_file == NULL) == (fingerprint == NULL)) {
        status =
            usage_error("enroll needs exactly one of --ca-file PEM and --ca-fingerprint SHA256");
        goto out;
    }
    if (fingerprint != NULL) {
        if (pst_http_parse_fingerprint(fingerprint, pin) != PST_OK) {
            status = usage_error("--ca-fingerprint takes the CA certificate's SHA-256: 64 hex "
                                 "digits, colons allowed");
            goto out;
        }
        eo.http.ca_pin = pin;
    }
    status = load_config(config_path, &config);
    if (status != EXIT_OK) {
        goto out;
    }
    transport_settings(config, state_dir, &ts);
    eo.http.proxy = proxy != NULL ? proxy : ts.proxy;
    eo.http.connect_timeout_s = ts.connect_timeout_s;
    eo.http.timeout_s = ts.timeout_s;
    rc = pst_state_open(ts.state_dir, true, &state);
    if (rc != PST_OK) {
        fprintf(stderr, "posture: state directory %s: %s\n",
                ts.state_dir ? ts.state_dir : PST_STATE_DEFAULT_DIR, pst_strerror(rc));
        status = EXIT_USAGE;
        goto out;
    }
    rc = pst_state_lock(state);
    if (rc == PST_OK) {
        rc = pst_enroll(state, &eo, &host_id, why, sizeof(why));
    }
    if (rc != PST_OK) {
        fprintf(stderr, "posture: enrollment failed: %s\n", why[0] ? why : pst_strerror(rc));
        status = EXIT_OUTPUT;
        goto out;
    }
    printf("enrolled with %s as host %s; identity in %s\n", eo.url, host_id, state->dir);
out:
    if (token != NULL) {
        mbedtls_platform_zeroize(token, strlen(token));
        free(token);
    }
    free(host_id);
    pst_state_free(state);
    pst_config_free(config);
    return status;
}

static int cmd_send(int argc, char **argv)
{
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},
        {"state-dir", required_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    const char *config_path = NULL, *state_dir = NULL;
    struct pst_transport_settings ts;
    struct pst_config *config = NULL;
    struct pst_state *state = NULL;
    struct pst_identity *id = NULL;
    struct pst_delivery res = {.retry_after = -1};
    int opt, rc, status;

    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (opt == 'c') {
            config_path = optarg;
        } else if (opt == 's') {
            state_dir = optarg;
        } else {
            return usage_error("invalid option for send");
        }
    }
    if (optind != argc) {
        return usage_error("unexpected argument '%s'", argv[optind]);
    }
    if (load_config(config_path, &config) != EXIT_OK) {
        return EXIT_USAGE;
    }
    transport_settings(config, state_dir, &ts);
    status = open_enrolled(&ts, &state, &id);
    if (status != EXIT_OK) {
        goto out;
    }
    rc = pst_state_lock(state);
    if (rc == PST_OK) {
        rc = pst_deliver_spool(state, &ts, &res);
    }
    if (rc != PST_OK) {
        fprintf(stderr, "posture: cannot deliver the spool: %s\n",
                rc != PST_OK && res.why[0] ? res.why : pst_strerror(rc));
        status = EXIT_OUTPUT;
        goto out;
    }
    status = delivery_status(state, &res);
out:
    pst_identity_free(id);
    pst_state_free(state);
    pst_config_free(config);
    return status;
}

/*
 * Checks a signed report offline: the JWS verifies with the certificate's key, its kid is
 * that key's, and the payload's host_id is the certificate's CN. Exit 0 valid, 1 invalid,
 * 2 usage or unreadable input.
 */
static int cmd_verify(int argc, char **argv)
{
    static const struct option options[] = {
        {"cert", required_argument, NULL, 'c'},
        {"state-dir", required_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    const char *cert_path = NULL, *state_dir = NULL;
    mbedtls_x509_crt cert;
    char path[PATH_MAX], kid[65], cn[256], why[256] = "";
    char *jws = NULL, *kid_in = NULL;
    unsigned char *payload = NULL;
    size_t len = 0, payload_len = 0;
    json_t *doc = NULL;
    int opt, rc, status = EXIT_USAGE;

    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (opt == 'c') {
            cert_path = optarg;
        } else if (opt == 's') {
            state_dir = optarg;
        } else {
            return usage_error("invalid option for verify");
        }
    }
    if (optind + 1 != argc) {
        return usage_error("verify takes one signed report file");
    }
    mbedtls_x509_crt_init(&cert);
    if (cert_path == NULL) {
        snprintf(path, sizeof(path), "%s/%s", state_dir ? state_dir : PST_STATE_DEFAULT_DIR,
                 PST_STATE_CERT);
        cert_path = path;
    }
    if (mbedtls_x509_crt_parse_file(&cert, cert_path) != 0) {
        fprintf(stderr, "posture: %s: not a readable PEM certificate\n", cert_path);
        goto out;
    }
    rc = pst_file_read_at(AT_FDCWD, argv[optind], PST_JWS_MAX, &jws, &len);
    if (rc != PST_OK) {
        fprintf(stderr, "posture: %s: %s\n", argv[optind], pst_strerror(rc));
        goto out;
    }
    while (len > 0 && (jws[len - 1] == '\n' || jws[len - 1] == '\r')) {
        jws[--len] = '\0';
    }
    status = 1;
    rc = pst_jws_verify(jws, len, &cert.pk, &payload, &payload_len, &kid_in, why, sizeof(why));
    if (rc != PST_OK) {
        printf("invalid: %s\n", why[0] ? why : pst_strerror(rc));
        goto out;
    }
    pst_jws_kid(&cert, kid);
    if (strcmp(kid, kid_in) != 0) {
        printf("invalid: the kid is not the certificate's key\n");
        goto out;
    }
    doc = json_loadb((const char *)payload, payload_len, JSON_REJECT_DUPLICATES, NULL);
    const char *host_id = json_string_value(json_object_get(doc, "host_id"));
    const json_t *seq = json_object_get(doc, "seq");
    const char *policy = json_string_value(json_object_get(json_object_get(doc, "policy"), "id"));
    if (host_id == NULL || !json_is_integer(seq) || json_integer_value(seq) < 1) {
        printf("invalid: the payload lacks host_id or seq\n");
        goto out;
    }
    if (pst_identity_cert_cn(&cert, cn, sizeof(cn)) != PST_OK || strcmp(cn, host_id) != 0) {
        char *safe = pst_text_printable(host_id);
        printf("invalid: the payload's host_id %s is not the certificate's CN\n",
               safe ? safe : "?");
        free(safe);
        goto out;
    }
    char *safe_policy = pst_text_printable(policy ? policy : "(none)");
    printf("host_id %s\nseq %" JSON_INTEGER_FORMAT "\npolicy %s\nkid %s\nvalid\n", host_id,
           json_integer_value(seq), safe_policy ? safe_policy : "?", kid);
    free(safe_policy);
    status = EXIT_OK;
out:
    json_decref(doc);
    free(payload);
    free(kid_in);
    free(jws);
    mbedtls_x509_crt_free(&cert);
    return status;
}

static int cmd_scan(int argc, char **argv)
{
    static const struct option options[] = {
        {"root", required_argument, NULL, 'r'},
        {"config", required_argument, NULL, 'c'},
        {"policy", required_argument, NULL, 'p'},
        {"format", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'},
        {"fail-under", required_argument, NULL, 'u'},
        {"only", required_argument, NULL, 'O'},
        {"send", no_argument, NULL, 'S'},
        {"state-dir", required_argument, NULL, 'D'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct policy_opts po = {0};
    const char *only[MAX_REPEATED];
    size_t n_only = 0;
    const char *root = NULL, *config_path = NULL, *output = NULL, *state_dir = NULL;
    bool json = false, send = false;
    struct pst_transport_settings ts;
    struct pst_state *state = NULL;
    struct pst_identity *id = NULL;
    double fail_under = -1;
    struct pst_config *config = NULL;
    struct pst_policy_set *set = NULL;
    struct pst_scan *scan = NULL;
    char *error = NULL;
    int opt, rc, status = EXIT_OK;

    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'r':
            root = optarg;
            break;
        case 'c':
            config_path = optarg;
            break;
        case 'p':
            if (!add_repeated(po.paths, &po.n, optarg)) {
                return usage_error("too many --policy options");
            }
            break;
        case 'f':
            if (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0) {
                return usage_error("--format must be text or json, not '%s'", optarg);
            }
            json = strcmp(optarg, "json") == 0;
            break;
        case 'o':
            output = optarg;
            break;
        case 'u': {
            char *end;
            errno = 0;
            fail_under = strtod(optarg, &end);
            if (errno != 0 || end == optarg || *end != '\0' ||
                !(fail_under >= 0 && fail_under <= 100)) {
                return usage_error("--fail-under takes a percentage from 0 to 100, not '%s'",
                                   optarg);
            }
            break;
        }
        case 'O':
            if (!add_repeated(only, &n_only, optarg)) {
                return usage_error("too many --only options");
            }
            break;
        case 'S':
            send = true;
            break;
        case 'D':
            state_dir = optarg;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return EXIT_OK;
        default:
            return usage_error("invalid option for scan");
        }
    }
    if (optind != argc) {
        return usage_error("unexpected argument '%s'", argv[optind]);
    }
    if (load_inputs(config_path, state_dir, &po, &config, &set) != EXIT_OK) {
        return EXIT_USAGE;
    }
    /* An agent that cannot send is told so before it scans, not after. */
    if (send) {
        transport_settings(config, state_dir, &ts);
        status = open_enrolled(&ts, &state, &id);
        if (status != EXIT_OK) {
            goto out;
        }
    }
    rc = pst_scan_run(set, config, root, only, n_only, &scan, &error);
    if (rc != PST_OK) {
        fprintf(stderr, "posture: %s\n", error ? error : pst_strerror(rc));
        status = rc == PST_ENOMEM ? EXIT_OUTPUT : EXIT_USAGE;
        goto out;
    }
    rc = emit_report(scan, json, output);
    if (rc != PST_OK) {
        fprintf(stderr, "posture: cannot write the report%s%s: %s\n", output ? " to " : "",
                output ? output : "", pst_strerror(rc));
        status = EXIT_OUTPUT;
        goto out;
    }
    if (fail_under >= 0) {
        /* Compare the exact ratio: 99.996% rounds to 100.00 but is below --fail-under 100. */
        const struct pst_score *sc = &scan->score;
        double exact = sc->has_percent ? 100.0 * (double)sc->current / (double)sc->max : 0.0;
        if (!sc->has_percent && fail_under > 0) {
            fprintf(stderr,
                    "posture: no control is in the secure score, which cannot meet "
                    "--fail-under %.2f%%\n",
                    fail_under);
            status = EXIT_BELOW;
        } else if (exact < fail_under) {
            fprintf(stderr, "posture: secure score %.2f%% is below --fail-under %.2f%%\n",
                    sc->percent, fail_under);
            status = EXIT_BELOW;
        }
    }
    if (send) {
        int sent = send_report(state, id, &ts, scan);
        /* Not delivered outweighs below --fail-under: the report itself is at stake. */
        if (sent != EXIT_OK) {
            status = sent;
        }
    }
out:
    pst_identity_free(id); /* wipes the key */
    pst_state_free(state);
    free(error);
    leave_at_exit(scan, set, config);
    return status;
}

static void print_probe_tables(const struct pst_probe *p)
{
    printf("%s: %s\n\narguments:\n", p->name, p->summary);
    if (p->n_args == 0) {
        printf("  (none)\n");
    }
    for (size_t i = 0; i < p->n_args; i++) {
        const struct pst_probe_arg *a = &p->args[i];
        printf("  %-14s %-8s %s%s%s%s\n", a->name, pst_type_name(a->type), a->description,
               a->required ? " (required)" : "", a->default_value ? "; default " : "",
               a->default_value ? a->default_value : "");
    }
    printf("\nfields:\n");
    for (size_t i = 0; i < p->n_fields; i++) {
        printf("  %-18s %-8s %s\n", p->fields[i].name, pst_type_name(p->fields[i].type),
               p->fields[i].description);
    }
}

/* `field value` lines, like sshd -T prints its configuration; never a control character. */
static void print_facts_text(const json_t *result)
{
    const char *field;
    const json_t *fact;
    size_t i;
    const json_t *e;

    json_object_foreach(json_object_get(result, "facts"), field, fact)
    {
        const json_t *v = json_object_get(fact, "value");
        char *text = NULL;
        if (json_is_string(v)) {
            text = strdup(json_string_value(v));
        } else if (json_is_array(v) && !json_is_object(json_array_get(v, 0))) {
            size_t k, len = 0;
            const json_t *item;
            FILE *mem = open_memstream(&text, &len);
            json_array_foreach(v, k, item)
            {
                if (mem != NULL) {
                    fprintf(mem, "%s%s", k ? " " : "",
                            json_string_value(item) ? json_string_value(item) : "?");
                }
            }
            if (mem != NULL) {
                fclose(mem);
            }
        } else {
            text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        }
        char *safe = pst_text_printable(text);
        printf("%s %s\n", field, safe ? safe : "?");
        free(safe);
        free(text);
    }
    json_array_foreach(json_object_get(result, "errors"), i, e)
    {
        char *safe = pst_text_printable(json_string_value(json_object_get(e, "message")));
        fprintf(stderr, "error: %s\n", safe ? safe : "?");
        free(safe);
    }
}

static int cmd_probe(int argc, char **argv)
{
    static const struct option options[] = {
        {"root", required_argument, NULL, 'r'},
        {"arg", required_argument, NULL, 'a'},
        {"format", required_argument, NULL, 'f'},
        {"list", no_argument, NULL, 'l'},
        {"describe", no_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *root = NULL;
    const char *args[MAX_REPEATED];
    size_t n_args = 0;
    bool json = false, describe = false;
    const struct pst_probe *probe;
    struct pst_fs *fs = NULL;
    struct pst_probe_ctx ctx = {0};
    json_t *given = NULL;
    json_t *result = NULL;
    const struct pst_call *call = NULL;
    int opt, rc, status = EXIT_OK;

    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'r':
            root = optarg;
            break;
        case 'a':
            if (!add_repeated(args, &n_args, optarg)) {
                return usage_error("too many --arg options");
            }
            break;
        case 'f':
            if (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0) {
                return usage_error("--format must be text or json, not '%s'", optarg);
            }
            json = strcmp(optarg, "json") == 0;
            break;
        case 'l':
            for (size_t i = 0; i < pst_probes_count; i++) {
                printf("%-12s %s\n", pst_probes[i]->name, pst_probes[i]->summary);
            }
            return EXIT_OK;
        case 'd':
            describe = true;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return EXIT_OK;
        default:
            return usage_error("invalid option for probe");
        }
    }
    if (optind + 1 != argc) {
        return usage_error("probe takes one probe name (see posture probe --list)");
    }
    probe = pst_probe_find(argv[optind]);
    if (probe == NULL) {
        return usage_error("unknown probe '%s' (see posture probe --list)", argv[optind]);
    }
    if (describe) {
        print_probe_tables(probe);
        return EXIT_OK;
    }
    given = json_object();
    if (given == NULL) {
        return EXIT_OUTPUT;
    }
    for (size_t i = 0; i < n_args; i++) {
        char key[64];
        const char *eq = strchr(args[i], '=');
        const struct pst_probe_arg *a;
        json_t *value;
        if (eq == NULL || (size_t)(eq - args[i]) >= sizeof(key)) {
            status = usage_error("--arg takes KEY=VALUE, not '%s'", args[i]);
            goto out;
        }
        snprintf(key, sizeof(key), "%.*s", (int)(eq - args[i]), args[i]);
        a = pst_probe_find_arg(probe, key);
        if (a == NULL) {
            status = usage_error("probe takes no argument '%s'", key);
            goto out;
        }
        value = pst_value_from_text(a->type, eq + 1);
        if (value == NULL) {
            status = usage_error("--arg %s: not a valid %s", args[i], pst_type_name(a->type));
            goto out;
        }
        char why[512];
        if (!pst_probe_check_arg(probe, a, value, why, sizeof(why))) {
            json_decref(value);
            status = usage_error("--arg %s: %s", args[i], why);
            goto out;
        }
        json_object_set_new(given, key, value);
    }
    rc = pst_fs_new(root, &fs);
    if (rc != PST_OK) {
        fprintf(stderr, "posture: --root %s: %s\n", root, pst_strerror(rc));
        status = EXIT_USAGE;
        goto out;
    }
    rc = pst_probe_ctx_init(&ctx, fs);
    if (rc == PST_OK) {
        rc = pst_probe_call(&ctx, probe, given, &call);
    }
    if (rc == PST_OK && (result = pst_call_json(call)) == NULL) {
        rc = PST_ENOMEM;
    }
    if (rc == PST_EINVAL) {
        status = usage_error("probe '%s' is missing a required --arg", probe->name);
        goto out;
    }
    if (rc != PST_OK) {
        fprintf(stderr, "posture: %s\n", pst_strerror(rc));
        status = EXIT_OUTPUT;
        goto out;
    }
    if (json) {
        if (json_dumpf(result, stdout, JSON_INDENT(2)) != 0) {
            status = EXIT_OUTPUT;
        }
        putchar('\n');
    } else {
        print_facts_text(result);
    }
out:
    json_decref(result);
    pst_probe_ctx_release(&ctx);
    pst_fs_free(fs);
    json_decref(given);
    return status;
}

static void print_check(const struct pst_check *check, int depth)
{
    static const char *const group_names[] = {"all of:", "any of:", "not:"};

    if (check->kind != PST_CHECK_LEAF) {
        printf("%*s%s\n", 2 + depth * 2, "", group_names[check->kind]);
        for (size_t i = 0; i < check->n; i++) {
            print_check(check->children[i], depth + 1);
        }
        return;
    }
    char *args = pst_eval_args_text(check->args);
    printf("%*s%s%s %s\n", 2 + depth * 2, "", check->fact, args ? args : "", check->expected);
    free(args);
}

static int cmd_explain(int argc, char **argv)
{
    static const struct option options[] = {
        {"policy", required_argument, NULL, 'p'},
        {"config", required_argument, NULL, 'c'},
        {NULL, 0, NULL, 0},
    };
    struct policy_opts po = {0};
    const char *config_path = NULL;
    struct pst_config *config = NULL;
    struct pst_policy_set *set = NULL;
    const struct pst_recommendation *rec;
    const struct pst_control *control;
    int opt, status = EXIT_OK;

    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (opt == 'p') {
            if (!add_repeated(po.paths, &po.n, optarg)) {
                return usage_error("too many --policy options");
            }
        } else if (opt == 'c') {
            config_path = optarg;
        } else {
            return usage_error("invalid option for explain");
        }
    }
    if (optind + 1 != argc) {
        return usage_error("explain takes one control or recommendation id");
    }
    if (load_inputs(config_path, NULL, &po, &config, &set) != EXIT_OK) {
        return EXIT_USAGE;
    }
    rec = pst_policy_find_recommendation(set, argv[optind]);
    control = pst_policy_find_control(set, argv[optind]);
    if (rec != NULL) {
        const char *key;
        const json_t *value;
        printf("%s\n  %s\n\ncontrol:   %s (%s, max score %ld)\nseverity:  %s\npolicy:    %s v%ld\n",
               rec->id, rec->title, rec->control->title, rec->control->id, rec->control->max_score,
               pst_severity_name(rec->severity), rec->policy->id, rec->policy->version);
        json_object_foreach(rec->references, key, value)
        {
            printf("reference: %s %s\n", key, json_string_value(value));
        }
        printf("\nwhy it matters:\n  %s\n\nhow to fix:\n  %s\n", rec->rationale, rec->remediation);
        if (rec->applies != NULL) {
            printf("\napplies when:\n");
            print_check(rec->applies, 0);
        }
        printf("\ncheck:\n");
        print_check(rec->check, 0);
    } else if (control != NULL) {
        printf("%s\n  %s (max score %ld)\n\nrecommendations:\n", control->id, control->title,
               control->max_score);
        for (size_t i = 0; i < set->n_recommendations; i++) {
            if (set->recommendations[i]->control == control) {
                printf("  %-40s %s\n", set->recommendations[i]->id, set->recommendations[i]->title);
            }
        }
    } else {
        fprintf(stderr, "posture: no control or recommendation '%s'\n", argv[optind]);
        status = EXIT_USAGE;
    }
    pst_policy_set_free(set);
    pst_config_free(config);
    return status;
}

static int cmd_policy(int argc, char **argv)
{
    struct pst_diag diag = {0};
    struct pst_policy_set *set = NULL;
    int rc;

    if (argc < 3 || strcmp(argv[1], "lint") != 0) {
        return usage_error("usage: posture policy lint FILE...");
    }
    rc = pst_policy_load((const char *const *)argv + 2, (size_t)argc - 2, NULL, &set, &diag);
    pst_diag_print(&diag, stderr);
    pst_diag_release(&diag);
    if (rc != PST_OK) {
        fprintf(stderr, "posture: %s\n",
                rc == PST_EPARSE ? "policy errors found" : pst_strerror(rc));
        return EXIT_USAGE;
    }
    for (size_t i = 0; i < set->n_policies; i++) {
        size_t n_recs = 0;
        for (size_t r = 0; r < set->n_recommendations; r++) {
            n_recs += set->recommendations[r]->policy == set->policies[i];
        }
        printf("%s: ok (policy %s v%ld, %zu recommendations)\n", set->policies[i]->path,
               set->policies[i]->id, set->policies[i]->version, n_recs);
    }
    pst_policy_set_free(set);
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    /*
     * A fixed threshold: large, short-lived buffers (a cached policy tree, the report's text)
     * go back to the system when freed. glibc would otherwise raise its threshold to the
     * largest such block and keep the next ones in the heap, which adds to the peak RSS.
     */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    if (argc < 2) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    /* Each command parses its own options, with argv[0] = the command. */
    argc--;
    argv++;
    if (strcmp(cmd, "scan") == 0) {
        int status = cmd_scan(argc, argv);
        pst_http_global_cleanup();
        return status;
    }
    if (strcmp(cmd, "probe") == 0) {
        return cmd_probe(argc, argv);
    }
    if (strcmp(cmd, "explain") == 0) {
        return cmd_explain(argc, argv);
    }
    if (strcmp(cmd, "policy") == 0) {
        return cmd_policy(argc, argv);
    }
    if (strcmp(cmd, "enroll") == 0 || strcmp(cmd, "send") == 0 || strcmp(cmd, "verify") == 0 ||
        strcmp(cmd, "run") == 0) {
        int status = cmd[0] == 'e'   ? cmd_enroll(argc, argv)
                     : cmd[0] == 's' ? cmd_send(argc, argv)
                     : cmd[0] == 'r' ? cmd_run(argc, argv)
                                     : cmd_verify(argc, argv);
        pst_http_global_cleanup();
        return status;
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("posture %s\n", POSTURE_VERSION);
        return EXIT_OK;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        fputs(usage_text, stdout);
        return EXIT_OK;
    }
    return usage_error("unknown command '%s'", cmd);
}
