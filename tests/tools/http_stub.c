/* SPDX-License-Identifier: Apache-2.0 */
/* A stand-in collector for the transport tests: an HTTPS server with one fixed answer. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/*
 * Usage: http_stub PORT CERT KEY STATUS RETRY_AFTER LOG
 * Listens on 127.0.0.1:PORT with CERT/KEY (PEM), reads each request whole (headers and a
 * Content-Length body), answers STATUS with a JSON error body and, when RETRY_AFTER is not
 * "-", a Retry-After header, and appends "<monotonic ms> <request line>" to LOG.
 */
static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void serve(SSL *ssl, const char *status, const char *retry_after, const char *log)
{
    char head[16384];
    size_t got = 0;
    char *end = NULL;
    long body = 0;

    while (got < sizeof(head) - 1 && end == NULL) {
        int n = SSL_read(ssl, head + got, (int)(sizeof(head) - 1 - got));
        if (n <= 0) {
            return;
        }
        got += (size_t)n;
        head[got] = '\0';
        end = strstr(head, "\r\n\r\n");
    }
    if (end == NULL) {
        return;
    }
    char *cl = strcasestr(head, "\r\nContent-Length:");
    if (cl != NULL) {
        body = strtol(cl + 17, NULL, 10);
    }
    body -= (long)(got - (size_t)(end + 4 - head));
    while (body > 0) {
        char buf[16384];
        int n = SSL_read(ssl, buf, (int)(body < (long)sizeof(buf) ? body : (long)sizeof(buf)));
        if (n <= 0) {
            return;
        }
        body -= n;
    }
    FILE *f = fopen(log, "a");
    if (f != NULL) {
        fprintf(f, "%ld %.*s\n", now_ms(), (int)strcspn(head, "\r\n"), head);
        fclose(f);
    }
    char answer[512];
    const char *json = "{\"error\": \"busy\", \"message\": \"the stub always answers this\"}";
    int n = snprintf(answer, sizeof(answer),
                     "HTTP/1.1 %s Stub\r\nContent-Type: application/json\r\n%s%s%s"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                     status, strcmp(retry_after, "-") ? "Retry-After: " : "",
                     strcmp(retry_after, "-") ? retry_after : "",
                     strcmp(retry_after, "-") ? "\r\n" : "", strlen(json), json);
    SSL_write(ssl, answer, n);
}

int main(int argc, char **argv)
{
    struct sockaddr_in addr = {.sin_family = AF_INET};
    int one = 1, fd;
    SSL_CTX *ctx;

    if (argc != 7) {
        fprintf(stderr, "usage: http_stub PORT CERT KEY STATUS RETRY_AFTER LOG\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL || SSL_CTX_use_certificate_chain_file(ctx, argv[2]) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, argv[3], SSL_FILETYPE_PEM) != 1) {
        ERR_print_errors_fp(stderr);
        return 1;
    }
    addr.sin_port = htons((unsigned short)strtol(argv[1], NULL, 10));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(fd, 16) != 0) {
        perror("http_stub: listen");
        return 1;
    }
    for (;;) {
        int c = accept(fd, NULL, NULL);
        if (c < 0) {
            continue;
        }
        SSL *ssl = SSL_new(ctx);
        SSL_set_fd(ssl, c);
        if (SSL_accept(ssl) == 1) {
            serve(ssl, argv[4], argv[5], argv[6]);
            SSL_shutdown(ssl);
        }
        SSL_free(ssl);
        close(c);
    }
}
