/* SPDX-License-Identifier: Apache-2.0 */
/* The interface between posture and its delivery module, posture-http.so (libcurl). */
#ifndef PST_HTTP_MODULE_H
#define PST_HTTP_MODULE_H

#include "transport/http.h"

/*
 * libcurl, OpenSSL and their dependencies are some forty shared libraries. Loading them
 * costs every command several milliseconds, so they live in a module that posture loads
 * only when it talks to a collector. The module exports one table of this type under the
 * name PST_HTTP_MODULE_SYMBOL. A module from another build is refused: the table carries
 * the build's version and the layouts it was compiled with.
 */
#define PST_HTTP_MODULE_SYMBOL "pst_http_module_v1"
#define PST_HTTP_MODULE_FILE "posture-http.so"

struct pst_http_module {
    const char *version; /* POSTURE_VERSION of the build */
    size_t opts_size, response_size;
    int (*global_init)(void);
    void (*global_cleanup)(void);
    int (*post)(const char *url, const char *content_type, const void *body, size_t len,
                const struct pst_http_opts *opts, struct pst_http_response *resp, char *why,
                size_t why_len);
};

#endif
