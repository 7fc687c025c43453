/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Listening sockets from the kernel's sock_diag netlink interface, as ss asks for them: only
 * the sockets in the asked states are walked. Reading /proc/net/tcp instead walks every
 * bucket of the established-connections hash, whose size grows with the host's memory
 * (a quarter of a million buckets at 24 GiB), even when it holds nothing.
 */
#include "probes/sockets.h"

#include "agent/error.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* one reply datagram: a dump batch of the kernel fits 32 KiB (libmnl's dump size) */
#define DIAG_RECV_SIZE 32768u

struct walk {
    int family; /* 4 or 6 */
    bool tcp;
    size_t seen, max;
    int (*fn)(const struct pst_socket *s, void *arg);
    void *arg;
    int rc;
};

static int on_socket(const struct nlmsghdr *nlh, void *data)
{
    struct walk *w = data;
    const struct inet_diag_msg *m = mnl_nlmsg_get_payload(nlh);
    struct pst_socket s;
    uint8_t addr[16];

    if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
        nlh->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg))) {
        w->rc = PST_EPARSE;
        return MNL_CB_ERROR;
    }
    if (m->idiag_family != (w->family == 4 ? AF_INET : AF_INET6)) {
        return MNL_CB_OK;
    }
    /* TCP: LISTEN; UDP: unconnected (TCP_CLOSE, and no peer port) */
    if (w->tcp ? m->idiag_state != TCP_LISTEN
               : (m->idiag_state != TCP_CLOSE || m->id.idiag_dport != 0)) {
        return MNL_CB_OK;
    }
    if (++w->seen > w->max) {
        w->rc = PST_ETOOBIG;
        return MNL_CB_ERROR;
    }
    memcpy(addr, m->id.idiag_src, sizeof(addr));
    memset(&s, 0, sizeof(s));
    s.port = ntohs(m->id.idiag_sport);
    s.inode = m->idiag_inode;
    if (pst_sockets_classify(w->family, addr, &s) != PST_OK) {
        w->rc = PST_EPARSE;
        return MNL_CB_ERROR;
    }
    w->rc = w->fn(&s, w->arg);
    return w->rc == PST_OK ? MNL_CB_OK : MNL_CB_ERROR;
}

int pst_sockdiag_listening(int family, bool tcp, size_t max,
                           int (*fn)(const struct pst_socket *s, void *arg), void *arg,
                           int *sys_errno)
{
    struct walk w = {.family = family, .tcp = tcp, .max = max, .fn = fn, .arg = arg};
    struct mnl_socket *nl = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC);
    char *buf = malloc(DIAG_RECV_SIZE);
    struct nlmsghdr *nlh;
    struct inet_diag_req_v2 *req;
    unsigned seq = (unsigned)time(NULL), portid;
    int rc = PST_ENOTSUP;
    ssize_t n;

    *sys_errno = 0;
    if (buf == NULL) {
        rc = PST_ENOMEM;
        goto out;
    }
    if (nl == NULL || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
        *sys_errno = errno;
        goto out;
    }
    portid = mnl_socket_get_portid(nl);
    nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    nlh->nlmsg_seq = seq;
    req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
    req->sdiag_family = family == 4 ? AF_INET : AF_INET6;
    req->sdiag_protocol = tcp ? IPPROTO_TCP : IPPROTO_UDP;
    req->idiag_states = tcp ? 1u << TCP_LISTEN : 1u << TCP_CLOSE;
    if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
        *sys_errno = errno;
        goto out;
    }
    for (;;) {
        n = mnl_socket_recvfrom(nl, buf, DIAG_RECV_SIZE);
        if (n < 0) {
            *sys_errno = errno;
            rc = PST_ENOTSUP;
            break;
        }
        int ret = mnl_cb_run(buf, (size_t)n, seq, portid, on_socket, &w);
        if (ret == MNL_CB_STOP) {
            rc = PST_OK; /* NLMSG_DONE */
            break;
        }
        if (ret < 0) {
            /* our own refusal (w.rc), or the kernel's error message (errno) */
            rc = w.rc != PST_OK ? w.rc : PST_ENOTSUP;
            *sys_errno = w.rc != PST_OK ? 0 : errno;
            break;
        }
    }
out:
    if (nl != NULL) {
        mnl_socket_close(nl);
    }
    free(buf);
    return rc;
}
