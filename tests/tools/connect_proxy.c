/* SPDX-License-Identifier: Apache-2.0 */
/* An HTTP CONNECT proxy for the transport tests: tunnels to loopback ports and logs each tunnel. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * Usage: connect_proxy PORT LOG
 * Listens on 127.0.0.1:PORT; each client's "CONNECT 127.0.0.1:N HTTP/1.1" request line goes
 * to LOG, the client gets "200 Connection established" and bytes are relayed both ways until
 * one side closes. Only 127.0.0.1 is tunnelled to: anything else gets 403.
 */
static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n <= 0) {
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static void tunnel(int client, const char *log)
{
    char head[8192], line[256];
    size_t got = 0;
    unsigned port = 0;
    struct sockaddr_in to = {.sin_family = AF_INET};
    int server;

    while (got < sizeof(head) - 1) {
        ssize_t n = read(client, head + got, sizeof(head) - 1 - got);
        if (n <= 0) {
            return;
        }
        got += (size_t)n;
        head[got] = '\0';
        if (strstr(head, "\r\n\r\n") != NULL) {
            break;
        }
    }
    snprintf(line, sizeof(line), "%.*s", (int)strcspn(head, "\r\n"), head);
    FILE *f = fopen(log, "a");
    if (f != NULL) {
        fprintf(f, "%s\n", line);
        fclose(f);
    }
    if (sscanf(line, "CONNECT 127.0.0.1:%u HTTP/1.1", &port) != 1 || port == 0 || port > 65535) {
        write_all(client, "HTTP/1.1 403 Forbidden\r\n\r\n", 26);
        return;
    }
    to.sin_port = htons((unsigned short)port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    server = socket(AF_INET, SOCK_STREAM, 0);
    if (server < 0 || connect(server, (struct sockaddr *)&to, sizeof(to)) != 0) {
        write_all(client, "HTTP/1.1 502 Bad Gateway\r\n\r\n", 28);
        return;
    }
    if (write_all(client, "HTTP/1.1 200 Connection established\r\n\r\n", 39) != 0) {
        return;
    }
    struct pollfd fds[2] = {{.fd = client, .events = POLLIN}, {.fd = server, .events = POLLIN}};
    for (;;) {
        char buf[16384];
        if (poll(fds, 2, 30000) <= 0) {
            break;
        }
        for (int i = 0; i < 2; i++) {
            if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
                ssize_t n = read(fds[i].fd, buf, sizeof(buf));
                if (n <= 0 || write_all(fds[1 - i].fd, buf, (size_t)n) != 0) {
                    close(server);
                    return;
                }
            }
        }
    }
    close(server);
}

int main(int argc, char **argv)
{
    struct sockaddr_in addr = {.sin_family = AF_INET};
    int one = 1, fd;

    if (argc != 3) {
        fprintf(stderr, "usage: connect_proxy PORT LOG\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGCHLD, SIG_IGN); /* no zombies */
    addr.sin_port = htons((unsigned short)strtol(argv[1], NULL, 10));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(fd, 16) != 0) {
        perror("connect_proxy: listen");
        return 1;
    }
    for (;;) {
        int c = accept(fd, NULL, NULL);
        if (c < 0) {
            continue;
        }
        if (fork() == 0) {
            close(fd);
            tunnel(c, argv[2]);
            close(c);
            _exit(0);
        }
        close(c);
    }
}
