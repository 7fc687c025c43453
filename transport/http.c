/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The delivery module, posture-http.so: HTTPS requests to the collector over libcurl
 * (OpenSSL), verification always on. posture loads it only to talk to a collector
 * (transport/http_load.c).
 */
#include "transport/http_module.h"

#include "agent/error.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Verification with a CA chosen by fingerprint: the server's chain must carry a CA
 * certificate whose DER has the pinned SHA-256, and the leaf must verify up to it exactly as
 * OpenSSL verifies against a CA file (signatures, validity, CA flags, purpose). Only the trust
 * anchor comes from the pin; the host name is still checked by libcurl afterwards.
 */
static int pin_verify(X509_STORE_CTX *sctx, void *arg)
{
    const unsigned char *pin = arg;
    X509 *leaf = X509_STORE_CTX_get0_cert(sctx);
    STACK_OF(X509) *chain = X509_STORE_CTX_get0_untrusted(sctx);
    X509 *anchor = NULL;
    X509_STORE *store = NULL;
    X509_STORE_CTX *check = NULL;
    int ok = 0;

    for (int i = 0; chain != NULL && i < sk_X509_num(chain); i++) {
        X509 *c = sk_X509_value(chain, i);
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int md_len = 0;
        if (X509_digest(c, EVP_sha256(), md, &md_len) == 1 && md_len == 32 &&
            CRYPTO_memcmp(md, pin, 32) == 0 && X509_check_ca(c) > 0) {
            anchor = c;
            break;
        }
    }
    if (anchor == NULL || leaf == NULL) {
        X509_STORE_CTX_set_error(sctx, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
        goto out;
    }
    store = X509_STORE_new();
    check = X509_STORE_CTX_new();
    if (store == NULL || check == NULL || X509_STORE_add_cert(store, anchor) != 1 ||
        X509_STORE_CTX_init(check, store, leaf, chain) != 1) {
        X509_STORE_CTX_set_error(sctx, X509_V_ERR_OUT_OF_MEM);
        goto out;
    }
    X509_VERIFY_PARAM_set1(X509_STORE_CTX_get0_param(check), X509_STORE_CTX_get0_param(sctx));
    X509_STORE_CTX_set_purpose(check, X509_PURPOSE_SSL_SERVER);
    ok = X509_verify_cert(check) == 1;
    X509_STORE_CTX_set_error(sctx, ok ? X509_V_OK : X509_STORE_CTX_get_error(check));
out:
    X509_STORE_CTX_free(check);
    X509_STORE_free(store);
    return ok;
}

static CURLcode pin_ctx(CURL *curl, void *ssl_ctx, void *pin)
{
    (void)curl;
    SSL_CTX_set_cert_verify_callback(ssl_ctx, pin_verify, pin);
    return CURLE_OK;
}

struct sink {
    char *buf;
    size_t len;
    bool oom;
};

/* Keeps the first PST_HTTP_MAX_RESPONSE bytes of the body and discards the rest. */
static size_t sink_write(char *data, size_t size, size_t nmemb, void *arg)
{
    struct sink *s = arg;
    size_t n = size * nmemb;
    size_t keep = n;

    if (s->len + keep > PST_HTTP_MAX_RESPONSE) {
        keep = PST_HTTP_MAX_RESPONSE - s->len;
    }
    if (keep > 0 && !s->oom) {
        char *nb = realloc(s->buf, s->len + keep + 1);
        if (nb == NULL) {
            s->oom = true;
            return 0;
        }
        s->buf = nb;
        memcpy(s->buf + s->len, data, keep);
        s->len += keep;
        s->buf[s->len] = '\0';
    }
    return n;
}

static int post(const char *url, const char *content_type, const void *body, size_t len,
                const struct pst_http_opts *opts, struct pst_http_response *resp, char *why,
                size_t why_len)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    char header[128];
    struct curl_slist *headers = NULL;
    struct sink sink = {0};
    CURL *curl = NULL;
    CURLcode cc;
    int rc = PST_OK;

    memset(resp, 0, sizeof(*resp));
    resp->retry_after = -1;
    if ((opts->ca_file == NULL) == (opts->ca_pin == NULL)) {
        snprintf(why, why_len, "the collector's CA is pinned by a file or by a fingerprint");
        return PST_EINVAL;
    }
    snprintf(header, sizeof(header), "Content-Type: %s", content_type);
    curl = curl_easy_init();
    headers = curl_slist_append(NULL, header);
    if (curl == NULL || headers == NULL) {
        rc = PST_ENOMEM;
        snprintf(why, why_len, "out of memory");
        goto out;
    }
    /* Expect: 100-continue would cost a round trip on every report for nothing. */
    struct curl_slist *more = curl_slist_append(headers, "Expect:");
    if (more == NULL) {
        rc = PST_ENOMEM;
        snprintf(why, why_len, "out of memory");
        goto out;
    }
    headers = more;
    cc = curl_easy_setopt(curl, CURLOPT_URL, url);
    /* Only HTTPS, never a redirect, never the environment's proxy unless configured. */
    if (cc == CURLE_OK) {
        cc = curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
    }
    if (cc == CURLE_OK) {
        cc = curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    }
    if (cc == CURLE_OK) {
        cc = curl_easy_setopt(curl, CURLOPT_PROXY, opts->proxy != NULL ? opts->proxy : "");
    }
    if (cc == CURLE_OK) {
        cc = curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    }
    if (cc == CURLE_OK) {
        cc = curl_easy_setopt(curl, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    }
    if (cc == CURLE_OK) {
        cc = curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    }
    if (cc == CURLE_OK) {
        cc = curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    }
    /* Only the pinned CA is trusted: never the system's CA directory or bundle. */
    if (cc == CURLE_OK) {
        cc = curl_easy_setopt(curl, CURLOPT_CAPATH, NULL);
    }
    if (cc == CURLE_OK) {
        cc = curl_easy_setopt(curl, CURLOPT_CAINFO, opts->ca_file);
    }
    if (cc == CURLE_OK && opts->ca_pin != NULL) {
        cc = curl_easy_setopt(curl, CURLOPT_SSL_CTX_FUNCTION, pin_ctx);
        if (cc == CURLE_OK) {
            cc = curl_easy_setopt(curl, CURLOPT_SSL_CTX_DATA, (void *)opts->ca_pin);
        }
    }
    if (cc == CURLE_OK && opts->cert_file != NULL) {
        cc = curl_easy_setopt(curl, CURLOPT_SSLCERT, opts->cert_file);
        if (cc == CURLE_OK) {
            cc = curl_easy_setopt(curl, CURLOPT_SSLKEY, opts->key_file);
        }
    }
    if (cc == CURLE_OK) {
        cc = curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT,
                              opts->connect_timeout_s > 0 ? opts->connect_timeout_s : 10L);
    }
    if (cc == CURLE_OK) {
        cc = curl_easy_setopt(curl, CURLOPT_TIMEOUT, opts->timeout_s > 0 ? opts->timeout_s : 60L);
    }
    if (cc == CURLE_OK) {
        cc = curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    }
    if (cc == CURLE_OK) {
        cc = curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    }
    if (cc == CURLE_OK) {
        cc = curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    if (cc == CURLE_OK) {
        cc = curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, sink_write);
    }
    if (cc == CURLE_OK) {
        cc = curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
    }
    if (cc == CURLE_OK) {
        cc = curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    }
    if (cc != CURLE_OK) {
        snprintf(why, why_len, "libcurl: %s", curl_easy_strerror(cc));
        rc = PST_EINVAL;
        goto out;
    }
    cc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
    /*
     * A server may answer early (413 to a body over its limit) and close while the body is
     * still being sent: the send then fails, but the answer came and counts. Without one,
     * the failure is no answer.
     */
    if (cc != CURLE_OK &&
        !((cc == CURLE_SEND_ERROR || cc == CURLE_RECV_ERROR) && resp->status >= 400)) {
        snprintf(why, why_len, "%s", errbuf[0] ? errbuf : curl_easy_strerror(cc));
        resp->status = 0;
        rc = sink.oom ? PST_ENOMEM : PST_EIO;
        goto out;
    }
    curl_off_t retry = -1;
    if (curl_easy_getinfo(curl, CURLINFO_RETRY_AFTER, &retry) == CURLE_OK && retry > 0) {
        resp->retry_after = (long)(retry > 86400 ? 86400 : retry);
    }
    if (sink.buf == NULL) {
        sink.buf = strdup("");
        if (sink.buf == NULL) {
            rc = PST_ENOMEM;
            goto out;
        }
    }
    resp->body = sink.buf;
    resp->body_len = sink.len;
    sink.buf = NULL;
out:
    free(sink.buf);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return rc;
}

static int global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? PST_OK : PST_EIO;
}

static void global_cleanup(void)
{
    curl_global_cleanup();
}

/* The one symbol the module exports (see CMakeLists.txt: everything else is hidden). */
__attribute__((visibility("default"))) const struct pst_http_module pst_http_module_v1 = {
    .version = POSTURE_VERSION,
    .opts_size = sizeof(struct pst_http_opts),
    .response_size = sizeof(struct pst_http_response),
    .global_init = global_init,
    .global_cleanup = global_cleanup,
    .post = post,
};
