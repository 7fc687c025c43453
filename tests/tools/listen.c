/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Listens on every PROTO/ADDRESS/PORT given (tcp/0.0.0.0/22, udp/::1/161), prints "ready"
 * when all are bound, and waits to be killed: the sockets the sockets probe must find.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        char spec[128];
        char *proto = spec, *addr, *port;
        struct sockaddr_storage ss = {0};
        socklen_t len;
        int fd, one = 1;
        bool tcp;

        snprintf(spec, sizeof(spec), "%s", argv[i]);
        addr = strchr(spec, '/');
        port = strrchr(spec, '/');
        if (addr == NULL || port == addr) {
            fprintf(stderr, "listen: %s is not PROTO/ADDRESS/PORT\n", argv[i]);
            return 2;
        }
        *addr++ = '\0';
        *port++ = '\0';
        tcp = strcmp(proto, "tcp") == 0;
        if (strchr(addr, ':') != NULL) {
            struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
            s6->sin6_family = AF_INET6;
            s6->sin6_port = htons((uint16_t)strtol(port, NULL, 10));
            if (inet_pton(AF_INET6, addr, &s6->sin6_addr) != 1) {
                return 2;
            }
            len = sizeof(*s6);
        } else {
            struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
            s4->sin_family = AF_INET;
            s4->sin_port = htons((uint16_t)strtol(port, NULL, 10));
            if (inet_pton(AF_INET, addr, &s4->sin_addr) != 1) {
                return 2;
            }
            len = sizeof(*s4);
        }
        fd = socket(ss.ss_family, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
        if (fd < 0) {
            perror("socket");
            return 1;
        }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (ss.ss_family == AF_INET6) {
            /* a :: socket for IPv6 only, so that 0.0.0.0 on the same port can be tested too */
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        }
        if (bind(fd, (struct sockaddr *)&ss, len) != 0 || (tcp && listen(fd, 8) != 0)) {
            perror(argv[i]);
            return 1;
        }
    }
    printf("ready\n");
    fflush(stdout);
    for (;;) {
        pause();
    }
}
