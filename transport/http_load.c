/* SPDX-License-Identifier: Apache-2.0 */
/* Loads the delivery module on first use, so only commands that talk to a collector pay. */
#include "agent/error.h"
#include "agent/paths.h"
#include "transport/http_module.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *handle;
static const struct pst_http_module *module;

/* Loads and starts the module once: 0, or PST_EIO with the reason in WHY. */
static int load(char *why, size_t why_len)
{
    const char *path = pst_paths_http_module();
    const struct pst_http_module *m;
    const char *err;

    if (module != NULL) {
        return PST_OK;
    }
    handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        err = dlerror();
        snprintf(why, why_len, "cannot load the delivery module: %s", err ? err : path);
        return PST_EIO;
    }
    m = dlsym(handle, PST_HTTP_MODULE_SYMBOL);
    if (m == NULL || m->version == NULL || strcmp(m->version, POSTURE_VERSION) != 0 ||
        m->opts_size != sizeof(struct pst_http_opts) ||
        m->response_size != sizeof(struct pst_http_response)) {
        snprintf(why, why_len, "%s is not this posture's delivery module (posture %s)", path,
                 POSTURE_VERSION);
        goto fail;
    }
    if (m->global_init() != PST_OK) {
        snprintf(why, why_len, "cannot start libcurl");
        goto fail;
    }
    module = m;
    return PST_OK;
fail:
    dlclose(handle);
    handle = NULL;
    return PST_EIO;
}

void pst_http_global_cleanup(void)
{
    if (module != NULL) {
        module->global_cleanup();
        module = NULL;
    }
    if (handle != NULL) {
        dlclose(handle);
        handle = NULL;
    }
}

int pst_http_post(const char *url, const char *content_type, const void *body, size_t len,
                  const struct pst_http_opts *opts, struct pst_http_response *resp, char *why,
                  size_t why_len)
{
    memset(resp, 0, sizeof(*resp));
    resp->retry_after = -1;
    if (load(why, why_len) != PST_OK) {
        return PST_EIO;
    }
    return module->post(url, content_type, body, len, opts, resp, why, why_len);
}

void pst_http_response_release(struct pst_http_response *resp)
{
    free(resp->body);
    resp->body = NULL;
    resp->body_len = 0;
}

int pst_http_parse_fingerprint(const char *text, unsigned char pin[32])
{
    size_t n = 0;

    for (const char *p = text; *p != '\0';) {
        int hi, lo;
        if (*p == ':' && n > 0) {
            p++;
        }
        if (n == 32 || p[0] == '\0' || p[1] == '\0') {
            return PST_EINVAL;
        }
        char pair[3] = {p[0], p[1], '\0'};
        if (sscanf(pair, "%1x%1x", &hi, &lo) != 2 || strspn(pair, "0123456789abcdefABCDEF") != 2) {
            return PST_EINVAL;
        }
        pin[n++] = (unsigned char)(hi << 4 | lo);
        p += 2;
    }
    return n == 32 ? PST_OK : PST_EINVAL;
}
