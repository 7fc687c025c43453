/* SPDX-License-Identifier: Apache-2.0 */
/* The posture-collector command line: init, token create, serve, hosts, score, revoke. */
#include "agent/error.h"
#include "collector/ca.h"
#include "collector/ingest.h"
#include "collector/server.h"
#include "collector/store.h"
#include "transport/jws.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <mbedtls/platform_util.h>

enum {
    EXIT_OK = 0,
    EXIT_FAIL = 1,
    EXIT_USAGE = 2,
};

#define DEFAULT_STATE_DIR "/var/lib/posture-collector"
#define MAX_NAMES 32
#define TOKEN_BYTES 32

static const char usage_text[] =
    "usage: posture-collector COMMAND [OPTIONS]\n"
    "\n"
    "  init         --name DNS|IP [--name ...] [--state-dir DIR]\n"
    "  token create [--ttl DURATION] [--uses N] [--state-dir DIR]\n"
    "  serve        --listen ADDR:PORT [--state-dir DIR] [--max-body BYTES]\n"
    "               [--timeout SECONDS] [--max-connections N] [--per-ip N]\n"
    "  hosts        [--format text|json] [--state-dir DIR]\n"
    "  score        [--format text|json] [--state-dir DIR]\n"
    "  revoke       HOST_ID [--state-dir DIR]\n"
    "  version\n"
    "\n"
    "DIR defaults to " DEFAULT_STATE_DIR "; DURATION is a number with s, m, h or d (24h).\n"
    "exit codes: 0 success, 1 failure (reason on stderr), 2 usage\n";

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "posture-collector: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n%s", usage_text);
    return EXIT_USAGE;
}

/* Parses a positive integer no larger than MAX. */
static bool parse_count(const char *text, long long max, long long *out)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < 1 || v > max) {
        return false;
    }
    *out = v;
    return true;
}

/* Parses a duration: a number of seconds with an optional s, m, h or d suffix. */
static bool parse_duration(const char *text, long long *seconds)
{
    static const struct {
        char suffix;
        long long scale;
    } units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
    char *end;
    long long v, scale = 1;

    errno = 0;
    v = strtoll(text, &end, 10);
    if (errno != 0 || end == text || v < 1) {
        return false;
    }
    if (*end != '\0') {
        size_t i;
        for (i = 0; i < PST_COUNT(units); i++) {
            if (end[0] == units[i].suffix && end[1] == '\0') {
                scale = units[i].scale;
                break;
            }
        }
        if (i == PST_COUNT(units)) {
            return false;
        }
    }
    if (v > 3650LL * 86400 / scale) {
        return false;
    }
    *seconds = v * scale;
    return true;
}

static int open_store(const char *dir, struct pst_store **st)
{
    char path[4096];

    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, PST_STORE_FILE) >= sizeof(path)) {
        fprintf(stderr, "posture-collector: --state-dir is too long\n");
        return PST_EINVAL;
    }
    return pst_store_open(path, st);
}

static int cmd_init(int argc, char **argv)
{
    static const struct option options[] = {
        {"state-dir", required_argument, NULL, 'd'},
        {"name", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dir = DEFAULT_STATE_DIR, *names[MAX_NAMES];
    size_t n_names = 0;
    struct pst_store *st = NULL;
    char why[160] = "";
    int opt, rc;

    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'd':
            dir = optarg;
            break;
        case 'n':
            if (n_names == MAX_NAMES) {
                return usage_error("too many --name options");
            }
            names[n_names++] = optarg;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return EXIT_OK;
        default:
            return usage_error("invalid option for init");
        }
    }
    if (optind != argc) {
        return usage_error("unexpected argument '%s'", argv[optind]);
    }
    if (n_names == 0) {
        return usage_error("init needs --name (the DNS name or IP agents connect to)");
    }
    rc = pst_ca_init(dir, names, n_names, time(NULL), why, sizeof(why));
    if (rc != PST_OK) {
        fprintf(stderr, "posture-collector: init %s: %s\n", dir, why[0] ? why : pst_strerror(rc));
        return EXIT_FAIL;
    }
    rc = open_store(dir, &st);
    pst_store_free(st);
    if (rc != PST_OK) {
        return EXIT_FAIL;
    }
    printf("posture-collector: CA and server certificate written to %s\n", dir);
    return EXIT_OK;
}

static int cmd_token(int argc, char **argv)
{
    static const struct option options[] = {
        {"state-dir", required_argument, NULL, 'd'},
        {"ttl", required_argument, NULL, 't'},
        {"uses", required_argument, NULL, 'u'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dir = DEFAULT_STATE_DIR;
    long long ttl = 86400, uses = 1;
    unsigned char raw[TOKEN_BYTES];
    char *token = NULL, hash[65];
    size_t len = 0;
    struct pst_store *st = NULL;
    time_t now = time(NULL);
    int opt, status = EXIT_FAIL;

    if (argc < 2 || strcmp(argv[1], "create") != 0) {
        return usage_error("token takes the subcommand create");
    }
    argc--;
    argv++;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'd':
            dir = optarg;
            break;
        case 't':
            if (!parse_duration(optarg, &ttl)) {
                return usage_error("--ttl takes a duration such as 30m, 24h or 7d, not '%s'",
                                   optarg);
            }
            break;
        case 'u':
            if (!parse_count(optarg, 1000000, &uses)) {
                return usage_error("--uses takes a number from 1 to 1000000, not '%s'", optarg);
            }
            break;
        case 'h':
            fputs(usage_text, stdout);
            return EXIT_OK;
        default:
            return usage_error("invalid option for token create");
        }
    }
    if (optind != argc) {
        return usage_error("unexpected argument '%s'", argv[optind]);
    }
    if (open_store(dir, &st) != PST_OK) {
        goto out;
    }
    /* 256 random bits; only their hash is stored, the token itself is printed once. */
    if (pst_jws_random(NULL, raw, sizeof(raw)) != 0 ||
        pst_b64url_encode(raw, sizeof(raw), &token, &len) != PST_OK) {
        fprintf(stderr, "posture-collector: cannot make a token\n");
        goto out;
    }
    pst_ingest_token_hash(token, len, hash);
    if (pst_store_token_add(st, hash, now, (int64_t)now + ttl, uses) != PST_OK) {
        goto out;
    }
    printf("%s\n", token);
    status = EXIT_OK;
out:
    mbedtls_platform_zeroize(raw, sizeof(raw));
    if (token != NULL) {
        mbedtls_platform_zeroize(token, len);
        free(token);
    }
    pst_store_free(st);
    return status;
}

static int cmd_serve(int argc, char **argv)
{
    static const struct option options[] = {
        {"state-dir", required_argument, NULL, 'd'},
        {"listen", required_argument, NULL, 'l'},
        {"max-body", required_argument, NULL, 'b'},
        {"timeout", required_argument, NULL, 't'},
        {"max-connections", required_argument, NULL, 'c'},
        {"per-ip", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct pst_server_options so = {
        .max_body = PST_INGEST_MAX_BODY, .timeout = 30, .max_connections = 256, .per_ip = 64};
    const char *dir = DEFAULT_STATE_DIR;
    struct pst_ingest in = {0};
    char *cert = NULL, *key = NULL, *chain = NULL;
    size_t key_len = 0, chain_len = 0;
    long long v;
    sigset_t set;
    int opt, status = EXIT_FAIL;

    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'd':
            dir = optarg;
            break;
        case 'l':
            so.listen = optarg;
            break;
        case 'b':
            if (!parse_count(optarg, PST_INGEST_MAX_BODY, &v)) {
                return usage_error("--max-body takes a byte count from 1 to %u",
                                   PST_INGEST_MAX_BODY);
            }
            so.max_body = (size_t)v;
            break;
        case 't':
            if (!parse_count(optarg, 3600, &v)) {
                return usage_error("--timeout takes seconds from 1 to 3600");
            }
            so.timeout = (unsigned)v;
            break;
        case 'c':
            if (!parse_count(optarg, 65536, &v)) {
                return usage_error("--max-connections takes a number from 1 to 65536");
            }
            so.max_connections = (unsigned)v;
            break;
        case 'p':
            if (!parse_count(optarg, 65536, &v)) {
                return usage_error("--per-ip takes a number from 1 to 65536");
            }
            so.per_ip = (unsigned)v;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return EXIT_OK;
        default:
            return usage_error("invalid option for serve");
        }
    }
    if (optind != argc) {
        return usage_error("unexpected argument '%s'", argv[optind]);
    }
    if (so.listen == NULL) {
        return usage_error("serve needs --listen ADDR:PORT");
    }
    /* Every thread the server starts inherits this mask; only sigwait sees the signals. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    pthread_mutex_init(&in.ca_lock, NULL);
    if (pst_ca_load(dir, &in.ca) != PST_OK ||
        pst_ca_read_file(dir, PST_SERVER_CERT_FILE, 65536, &cert, NULL) != PST_OK ||
        pst_ca_read_file(dir, PST_SERVER_KEY_FILE, 65536, &key, &key_len) != PST_OK) {
        fprintf(stderr, "posture-collector: %s: no CA and server certificate (run init first)\n",
                dir);
        goto out;
    }
    if (open_store(dir, &in.store) != PST_OK) {
        goto out;
    }
    /*
     * The server presents its certificate and the CA's: an agent that pins the CA by its
     * fingerprint finds the anchor in the chain (one that pins the CA file needs only the leaf).
     */
    chain_len = strlen(cert) + strlen(in.ca->pem) + 2;
    chain = malloc(chain_len);
    if (chain == NULL) {
        goto out;
    }
    snprintf(chain, chain_len, "%s%s%s", cert, cert[strlen(cert) - 1] == '\n' ? "" : "\n",
             in.ca->pem);
    if (pst_server_run(&in, chain, key, in.ca->pem, &so) == PST_OK) {
        status = EXIT_OK;
    }
out:
    if (key != NULL) {
        mbedtls_platform_zeroize(key, key_len);
        free(key);
    }
    free(cert);
    free(chain);
    pst_store_free(in.store);
    pst_ca_free(in.ca);
    pthread_mutex_destroy(&in.ca_lock);
    return status;
}

/* Parses [--format text|json] [--state-dir DIR] for the read-only commands. */
static int read_opts(int argc, char **argv, const char *cmd, const char **dir, bool *json,
                     const char **arg)
{
    static const struct option options[] = {
        {"state-dir", required_argument, NULL, 'd'},
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;

    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'd':
            *dir = optarg;
            break;
        case 'f':
            if (json == NULL) {
                return usage_error("%s takes no --format", cmd);
            }
            if (strcmp(optarg, "json") == 0 || strcmp(optarg, "text") == 0) {
                *json = strcmp(optarg, "json") == 0;
            } else {
                return usage_error("--format must be text or json, not '%s'", optarg);
            }
            break;
        case 'h':
            fputs(usage_text, stdout);
            return -1;
        default:
            return usage_error("invalid option for %s", cmd);
        }
    }
    if (arg != NULL) {
        if (optind + 1 != argc) {
            return usage_error("%s takes one argument", cmd);
        }
        *arg = argv[optind];
    } else if (optind != argc) {
        return usage_error("unexpected argument '%s'", argv[optind]);
    }
    return EXIT_OK;
}

/*
 * V's text for a terminal, or DFLT: hostnames and control titles come from the hosts' reports,
 * so control characters (escape sequences) become '?'. BUF holds the result.
 */
static const char *text_or(const json_t *v, const char *dflt, char *buf, size_t size)
{
    const char *t = json_is_string(v) ? json_string_value(v) : dflt;
    size_t i = 0;

    for (; t[i] != '\0' && i + 1 < size; i++) {
        unsigned char c = (unsigned char)t[i];
        buf[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    buf[i] = '\0';
    return buf;
}

static int cmd_hosts(int argc, char **argv)
{
    const char *dir = DEFAULT_STATE_DIR;
    bool json = false;
    struct pst_store *st = NULL;
    json_t *hosts = NULL, *h;
    size_t i;
    int status = read_opts(argc, argv, "hosts", &dir, &json, NULL);

    if (status != EXIT_OK) {
        return status < 0 ? EXIT_OK : status;
    }
    status = EXIT_FAIL;
    if (open_store(dir, &st) != PST_OK || pst_store_hosts(st, &hosts) != PST_OK) {
        goto out;
    }
    if (json) {
        json_dumpf(hosts, stdout, JSON_INDENT(2));
        putchar('\n');
    } else {
        printf("%-36s  %-20s  %-20s  %8s  %8s  %s\n", "HOST", "HOSTNAME", "LAST SEEN", "SEQ",
               "SCORE", "STATE");
        json_array_foreach(hosts, i, h)
        {
            const json_t *pct = json_object_get(json_object_get(h, "score"), "percent");
            char score[16] = "-";
            if (json_is_number(pct)) {
                snprintf(score, sizeof(score), "%.2f%%", json_number_value(pct));
            }
            char id[64], name[256], seen[32];
            printf("%-36s  %-20s  %-20s  %8" JSON_INTEGER_FORMAT "  %8s  %s\n",
                   text_or(json_object_get(h, "host_id"), "-", id, sizeof(id)),
                   text_or(json_object_get(h, "hostname"), "-", name, sizeof(name)),
                   text_or(json_object_get(h, "last_seen"), "never", seen, sizeof(seen)),
                   json_integer_value(json_object_get(h, "last_seq")), score,
                   json_is_string(json_object_get(h, "revoked")) ? "revoked" : "active");
        }
    }
    status = EXIT_OK;
out:
    json_decref(hosts);
    pst_store_free(st);
    return status;
}

static int cmd_score(int argc, char **argv)
{
    const char *dir = DEFAULT_STATE_DIR;
    bool json = false;
    struct pst_store *st = NULL;
    json_t *fleet = NULL, *c;
    size_t i;
    int status = read_opts(argc, argv, "score", &dir, &json, NULL);

    if (status != EXIT_OK) {
        return status < 0 ? EXIT_OK : status;
    }
    status = EXIT_FAIL;
    if (open_store(dir, &st) != PST_OK || pst_store_fleet(st, &fleet) != PST_OK) {
        goto out;
    }
    if (json) {
        json_dumpf(fleet, stdout, JSON_INDENT(2));
        putchar('\n');
    } else {
        const json_t *score = json_object_get(fleet, "score");
        const json_t *pct = json_object_get(score, "percent");
        printf("Fleet secure score: ");
        if (json_is_number(pct)) {
            printf("%.2f%% (%.2f of %.2f)", json_number_value(pct),
                   json_number_value(json_object_get(score, "current")),
                   json_number_value(json_object_get(score, "max")));
        } else {
            printf("none yet");
        }
        printf(" over %" JSON_INTEGER_FORMAT " hosts\n\n",
               json_integer_value(json_object_get(fleet, "hosts")));
        printf("%-40s  %9s  %9s  %13s  %9s\n", "CONTROL", "MAX", "CURRENT", "HEALTHY/HOSTS",
               "POTENTIAL");
        json_array_foreach(json_object_get(fleet, "controls"), i, c)
        {
            char ratio[32], title[256];
            snprintf(ratio, sizeof(ratio), "%" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT,
                     json_integer_value(json_object_get(c, "healthy_hosts")),
                     json_integer_value(json_object_get(c, "hosts")));
            printf("%-40.40s  %9.2f  %9.2f  %13s  %9.2f\n",
                   text_or(json_object_get(c, "title"), "-", title, sizeof(title)),
                   json_number_value(json_object_get(c, "max_score")),
                   json_number_value(json_object_get(c, "current")), ratio,
                   json_number_value(json_object_get(c, "potential_increase")));
        }
    }
    status = EXIT_OK;
out:
    json_decref(fleet);
    pst_store_free(st);
    return status;
}

static int cmd_revoke(int argc, char **argv)
{
    const char *dir = DEFAULT_STATE_DIR, *host_id = NULL;
    struct pst_store *st = NULL;
    bool found = false;
    int status = read_opts(argc, argv, "revoke", &dir, NULL, &host_id);

    if (status != EXIT_OK) {
        return status < 0 ? EXIT_OK : status;
    }
    status = EXIT_FAIL;
    if (open_store(dir, &st) != PST_OK ||
        pst_store_revoke(st, host_id, (int64_t)time(NULL), &found) != PST_OK) {
        goto out;
    }
    if (!found) {
        fprintf(stderr, "posture-collector: no host %s\n", host_id);
        goto out;
    }
    printf("posture-collector: host %s revoked\n", host_id);
    status = EXIT_OK;
out:
    pst_store_free(st);
    return status;
}

int main(int argc, char **argv)
{
    const char *cmd;

    if (argc < 2) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    /* The database and anything else written in the state directory: owner only. */
    umask(077);
    cmd = argv[1];
    argc--;
    argv++;
    if (strcmp(cmd, "init") == 0) {
        return cmd_init(argc, argv);
    }
    if (strcmp(cmd, "token") == 0) {
        return cmd_token(argc, argv);
    }
    if (strcmp(cmd, "serve") == 0) {
        return cmd_serve(argc, argv);
    }
    if (strcmp(cmd, "hosts") == 0) {
        return cmd_hosts(argc, argv);
    }
    if (strcmp(cmd, "score") == 0) {
        return cmd_score(argc, argv);
    }
    if (strcmp(cmd, "revoke") == 0) {
        return cmd_revoke(argc, argv);
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("posture-collector %s\n", POSTURE_VERSION);
        return EXIT_OK;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        fputs(usage_text, stdout);
        return EXIT_OK;
    }
    return usage_error("unknown command '%s'", cmd);
}
