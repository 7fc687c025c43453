/* SPDX-License-Identifier: Apache-2.0 */
/* HTTP plumbing of the collector: routes, bounded bodies, client certificates, JSON answers. */
#include <sys/socket.h>

#include "collector/server.h"

#include "agent/error.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>

/* TLS 1.2 and 1.3 only, GnuTLS's default suites otherwise. */
#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

enum route {
    ROUTE_NONE,
    ROUTE_ENROLL,
    ROUTE_REPORTS,
};

/* One request being read. */
struct request {
    enum route route;
    char *body;
    size_t len, cap, limit;
    bool too_large;
    size_t seen;  /* body bytes received, kept or dropped */
    bool refused; /* refusal holds the answer, sent once the body is drained */
    struct pst_answer refusal;
};

static const struct pst_answer too_large_answer = {
    .status = 413, .error = "too_large", .message = "the body is larger than the limit"};

/* One TLS connection: its client certificate, verified once. */
struct connection {
    bool checked;      /* the certificate was looked at */
    bool cert_refused; /* a certificate was sent that the CA did not issue */
    bool has_cert;
    struct pst_peer peer;
};

struct server {
    struct pst_ingest *in;
    const struct pst_server_options *opt;
};

static void request_free(struct request *r)
{
    if (r == NULL) {
        return;
    }
    free(r->body);
    pst_answer_release(&r->refusal);
    free(r);
}

static enum MHD_Result send_answer(struct MHD_Connection *c, const char *url,
                                   const struct pst_answer *ans)
{
    char *text = pst_answer_text(ans);
    struct MHD_Response *resp;
    enum MHD_Result ret;

    /* Refusals are logged (a replay is routine for a retrying agent); never a body or token. */
    if (ans->status >= 400 && ans->status != 409) {
        /* A path of the client's own is not echoed: it could hold control characters. */
        bool known = strcmp(url, "/v1/enroll") == 0 || strcmp(url, "/v1/reports") == 0;
        fprintf(stderr, "posture-collector: %s refused (%u %s): %s\n", known ? url : "request",
                ans->status, ans->error, ans->message);
    }
    if (text == NULL) {
        return MHD_NO;
    }
    resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (resp == NULL) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    if (ans->status >= 400 && ans->status != 409) {
        /*
         * A refused client starts afresh; nothing it sends after an error is read. A replay
         * is routine (an agent whose answer was lost) and keeps its connection.
         */
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    }
    ret = MHD_queue_response(c, ans->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *c, const char *url, unsigned status,
                                  const char *error, const char *message)
{
    struct pst_answer ans = {0};
    pst_answer_error(&ans, status, error, message);
    return send_answer(c, url, &ans);
}

/*
 * The client certificate of connection C, when GnuTLS verifies it against the CA (trust set
 * by MHD_OPTION_HTTPS_MEM_TRUST), once per connection: a TLS connection's peer does not
 * change. A client with no certificate leaves has_cert false; one the CA did not issue sets
 * cert_refused.
 */
static struct connection *client_cert(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ctx =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    const union MHD_ConnectionInfo *info;
    struct connection *conn = ctx != NULL ? ctx->socket_context : NULL;
    gnutls_session_t session;
    const gnutls_datum_t *certs;
    unsigned int n = 0, status = 0;

    if (conn == NULL || conn->checked) {
        return conn;
    }
    conn->checked = true;
    info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (info == NULL || info->tls_session == NULL) {
        return conn;
    }
    session = (gnutls_session_t)info->tls_session;
    certs = gnutls_certificate_get_peers(session, &n);
    if (certs == NULL || n == 0) {
        return conn;
    }
    if (gnutls_certificate_verify_peers2(session, &status) != GNUTLS_E_SUCCESS || status != 0) {
        conn->cert_refused = true;
        return conn;
    }
    conn->has_cert = pst_peer_init(&conn->peer, certs[0].data, certs[0].size) == PST_OK;
    return conn;
}

static void connection_event(void *cls, struct MHD_Connection *c, void **socket_context,
                             enum MHD_ConnectionNotificationCode toe)
{
    (void)cls;
    (void)c;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        *socket_context = calloc(1, sizeof(struct connection));
    } else if (*socket_context != NULL) {
        struct connection *conn = *socket_context;
        pst_peer_release(&conn->peer);
        free(conn);
        *socket_context = NULL;
    }
}

/* Appends upload data to R's body, up to its limit. */
static void append(struct request *r, const char *data, size_t n)
{
    if (r->too_large || n > r->limit - r->len) {
        r->too_large = true;
        return;
    }
    if (r->len + n + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : 16384;
        char *body;
        while (cap < r->len + n + 1) {
            cap *= 2;
        }
        if (cap > r->limit + 1) {
            cap = r->limit + 1;
        }
        body = realloc(r->body, cap);
        if (body == NULL) {
            r->too_large = true;
            return;
        }
        r->body = body;
        r->cap = cap;
    }
    memcpy(r->body + r->len, data, n);
    r->len += n;
    r->body[r->len] = '\0';
}

/* The request's Content-Length when it has one that parses; SIZE_MAX when it is absurd. */
static bool content_length(struct MHD_Connection *c, size_t *out)
{
    const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    char *end;
    unsigned long long n;

    if (v == NULL) {
        return false;
    }
    errno = 0;
    n = strtoull(v, &end, 10);
    *out = (errno != 0 || end == v || n > SIZE_MAX) ? SIZE_MAX : (size_t)n;
    return true;
}

/*
 * Most bytes of a refused request's body read and dropped before the refusal is sent. Closing
 * a socket with unread data makes the kernel reset the connection, and a client still
 * uploading then sees the reset instead of the answer; within this bound the body is drained
 * so that the client reads its 401 or 413. Above it the answer goes at once.
 */
#define DRAIN_MAX (16u * 1024u * 1024u)

/* Records a refusal to send once the body has been drained. */
static enum MHD_Result refuse(struct request *r, unsigned status, const char *error,
                              const char *message)
{
    pst_answer_error(&r->refusal, status, error, message);
    r->refused = true;
    return MHD_YES;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls)
{
    struct server *srv = cls;
    struct request *r = *con_cls;
    struct pst_answer ans = {0};
    enum MHD_Result ret;
    size_t declared = 0;
    bool has_length;

    (void)version;
    if (r == NULL) {
        /* First call: headers only. What can be refused now is decided now. */
        r = calloc(1, sizeof(*r));
        if (r == NULL) {
            return MHD_NO;
        }
        *con_cls = r;
        has_length = content_length(c, &declared);
        if (strcmp(url, "/v1/enroll") == 0) {
            r->route = ROUTE_ENROLL;
            r->limit = PST_ENROLL_MAX_BODY;
        } else if (strcmp(url, "/v1/reports") == 0) {
            r->route = ROUTE_REPORTS;
            r->limit = srv->opt->max_body;
        }
        if (has_length && declared > r->limit && declared - r->limit > DRAIN_MAX) {
            return send_error(c, url, 413, "too_large", "the body is larger than the limit");
        }
        if (r->route == ROUTE_NONE) {
            return refuse(r, 404, "not_found", "no such endpoint");
        }
        if (strcmp(method, MHD_HTTP_METHOD_POST) != 0) {
            return refuse(r, 405, "method_not_allowed", "this endpoint takes POST");
        }
        if (has_length && declared > r->limit) {
            return refuse(r, 413, "too_large", "the body is larger than the limit");
        }
        if (r->route == ROUTE_REPORTS) {
            struct connection *conn = client_cert(c);
            if (conn == NULL) {
                return MHD_NO;
            }
            if (conn->cert_refused) {
                return refuse(r, 401, "unknown_certificate",
                              "the client certificate was not issued by this collector");
            }
            if (!conn->has_cert) {
                return refuse(r, 401, "no_certificate",
                              "reports need the client certificate issued at enrollment");
            }
        }
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        /* A refused request's body is dropped, up to DRAIN_MAX; past it, the answer goes. */
        r->seen += *upload_data_size;
        if (r->refused || r->too_large) {
            *upload_data_size = 0;
            if (r->seen > (size_t)DRAIN_MAX + r->limit) {
                return send_answer(c, url, r->refused ? &r->refusal : &too_large_answer);
            }
            return MHD_YES;
        }
        append(r, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (r->refused) {
        return send_answer(c, url, &r->refusal);
    }
    if (r->too_large) {
        return send_answer(c, url, &too_large_answer);
    }
    if (r->route == ROUTE_ENROLL) {
        pst_ingest_enroll(srv->in, r->body ? r->body : "", r->len, time(NULL), &ans);
    } else {
        struct connection *conn = client_cert(c);
        pst_ingest_report(srv->in, conn != NULL && conn->has_cert ? &conn->peer : NULL,
                          r->body ? r->body : "", r->len, time(NULL), &ans);
    }
    ret = send_answer(c, url, &ans);
    pst_answer_release(&ans);
    return ret;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    request_free(*con_cls);
    *con_cls = NULL;
}

__attribute__((format(printf, 2, 0))) static void log_mhd(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    fputs("posture-collector: http: ", stderr);
    vfprintf(stderr, fmt, ap);
}

int pst_server_parse_listen(const char *text, struct sockaddr_storage *addr)
{
    char host[INET6_ADDRSTRLEN + 2];
    const char *colon, *port_text;
    char *end;
    long port;
    size_t n;

    memset(addr, 0, sizeof(*addr));
    if (text == NULL) {
        return PST_EINVAL;
    }
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (close == NULL || close[1] != ':') {
            return PST_EINVAL;
        }
        n = (size_t)(close - text - 1);
        port_text = close + 2;
        if (n >= sizeof(host)) {
            return PST_EINVAL;
        }
        memcpy(host, text + 1, n);
    } else {
        colon = strrchr(text, ':');
        if (colon == NULL) {
            return PST_EINVAL;
        }
        n = (size_t)(colon - text);
        port_text = colon + 1;
        if (n >= sizeof(host)) {
            return PST_EINVAL;
        }
        memcpy(host, text, n);
    }
    host[n] = '\0';
    errno = 0;
    port = strtol(port_text, &end, 10);
    if (errno != 0 || end == port_text || *end != '\0' || port < 0 || port > 65535) {
        return PST_EINVAL;
    }
    if (text[0] == '[') {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)addr;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        return inet_pton(AF_INET6, host, &a6->sin6_addr) == 1 ? PST_OK : PST_EINVAL;
    }
    struct sockaddr_in *a4 = (struct sockaddr_in *)addr;
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    return inet_pton(AF_INET, host, &a4->sin_addr) == 1 ? PST_OK : PST_EINVAL;
}

int pst_server_run(struct pst_ingest *in, const char *cert_pem, const char *key_pem,
                   const char *ca_pem, const struct pst_server_options *opt)
{
    struct server srv = {.in = in, .opt = opt};
    struct sockaddr_storage addr;
    struct MHD_Daemon *d;
    const union MHD_DaemonInfo *info;
    char host[INET6_ADDRSTRLEN];
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS |
                     MHD_USE_ERROR_LOG | MHD_USE_AUTO;
    sigset_t set;
    int sig = 0;

    if (pst_server_parse_listen(opt->listen, &addr) != PST_OK) {
        fprintf(stderr, "posture-collector: --listen %s: not ADDR:PORT\n", opt->listen);
        return PST_EINVAL;
    }
    if (addr.ss_family == AF_INET6) {
        flags |= MHD_USE_IPv6;
    }
    /* The logger first, so that what MHD says while parsing the rest goes through it. */
    d = MHD_start_daemon(
        flags, 0, NULL, NULL, handle, &srv, MHD_OPTION_EXTERNAL_LOGGER, log_mhd, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_HTTPS_MEM_KEY, key_pem,
        MHD_OPTION_HTTPS_MEM_CERT, cert_pem, MHD_OPTION_HTTPS_MEM_TRUST, ca_pem,
        MHD_OPTION_HTTPS_PRIORITIES, TLS_PRIORITIES, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned int)opt->timeout, MHD_OPTION_CONNECTION_LIMIT, (unsigned int)opt->max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)opt->per_ip,
        /* Request line and headers must fit in this; bigger ones get 431 or 414. */
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024), MHD_OPTION_NOTIFY_COMPLETED,
        completed, NULL, MHD_OPTION_NOTIFY_CONNECTION, connection_event, NULL, MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "posture-collector: cannot listen on %s\n", opt->listen);
        return PST_EIO;
    }
    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    if (addr.ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&addr)->sin6_addr, host, sizeof(host));
        printf("posture-collector: listening on [%s]:%u\n", host, info ? (unsigned)info->port : 0u);
    } else {
        inet_ntop(AF_INET, &((struct sockaddr_in *)&addr)->sin_addr, host, sizeof(host));
        printf("posture-collector: listening on %s:%u\n", host, info ? (unsigned)info->port : 0u);
    }
    fflush(stdout);
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigwait(&set, &sig);
    fprintf(stderr, "posture-collector: stopping (%s)\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    /* Connections still open finish (and may still log) before this returns; "stopped" is
     * then the last line the collector writes. */
    MHD_stop_daemon(d);
    fprintf(stderr, "posture-collector: stopped\n");
    return PST_OK;
}
