/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's identity (key, certificate, host id) and the signed report built with it. */
#include "transport/identity.h"

#include "agent/error.h"
#include "transport/jws.h"

#include <mbedtls/oid.h>
#include <mbedtls/platform_util.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool pst_identity_host_id_valid(const char *host_id)
{
    size_t len = strlen(host_id);
    return len > 0 && len <= 128 &&
           strspn(host_id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") ==
               len;
}

int pst_identity_cert_cn(const mbedtls_x509_crt *crt, char *buf, size_t size)
{
    for (const mbedtls_x509_name *n = &crt->subject; n != NULL; n = n->next) {
        if (MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) == 0) {
            if (n->val.len >= size || memchr(n->val.p, '\0', n->val.len) != NULL) {
                return PST_EPARSE;
            }
            memcpy(buf, n->val.p, n->val.len);
            buf[n->val.len] = '\0';
            return PST_OK;
        }
    }
    return PST_EPARSE;
}

int pst_identity_load(const struct pst_state *state, struct pst_identity **out, char *why,
                      size_t why_len)
{
    struct pst_identity *id = calloc(1, sizeof(*id));
    char *pem = NULL;
    size_t len = 0;
    char cn[256];
    int rc;

    *out = NULL;
    if (id == NULL) {
        return PST_ENOMEM;
    }
    mbedtls_pk_init(&id->key);
    mbedtls_x509_crt_init(&id->cert);
    rc = pst_state_read_text(state, PST_STATE_HOST_ID, &id->host_id);
    if (rc != PST_OK) {
        snprintf(why, why_len, "%s/%s: %s (enroll first: posture enroll)", state->dir,
                 PST_STATE_HOST_ID, pst_strerror(rc));
        goto fail;
    }
    rc = pst_file_read_at(state->dirfd, PST_STATE_KEY, PST_STATE_MAX_FILE, &pem, &len);
    if (rc == PST_OK &&
        mbedtls_pk_parse_key(&id->key, (unsigned char *)pem, len + 1, NULL, 0) != 0) {
        rc = PST_EPARSE;
    }
    if (pem != NULL) {
        mbedtls_platform_zeroize(pem, len);
        free(pem);
        pem = NULL;
    }
    if (rc != PST_OK) {
        snprintf(why, why_len, "%s/%s: %s", state->dir, PST_STATE_KEY, pst_strerror(rc));
        goto fail;
    }
    rc = pst_file_read_at(state->dirfd, PST_STATE_CERT, PST_STATE_MAX_FILE, &pem, &len);
    if (rc == PST_OK && mbedtls_x509_crt_parse(&id->cert, (unsigned char *)pem, len + 1) != 0) {
        rc = PST_EPARSE;
    }
    free(pem);
    if (rc != PST_OK) {
        snprintf(why, why_len, "%s/%s: %s", state->dir, PST_STATE_CERT, pst_strerror(rc));
        goto fail;
    }
    if (mbedtls_pk_check_pair(&id->cert.pk, &id->key) != 0) {
        snprintf(why, why_len, "%s: the certificate does not carry the key's public half",
                 state->dir);
        rc = PST_EINVAL;
        goto fail;
    }
    if (pst_identity_cert_cn(&id->cert, cn, sizeof(cn)) != PST_OK || strcmp(cn, id->host_id) != 0) {
        snprintf(why, why_len, "%s: the certificate's CN is not the host id %s", state->dir,
                 id->host_id);
        rc = PST_EINVAL;
        goto fail;
    }
    pst_jws_kid(&id->cert, id->kid);
    *out = id;
    return PST_OK;
fail:
    pst_identity_free(id);
    return rc;
}

void pst_identity_free(struct pst_identity *id)
{
    if (id == NULL) {
        return;
    }
    mbedtls_pk_free(&id->key); /* zeroizes the private scalar */
    mbedtls_x509_crt_free(&id->cert);
    free(id->host_id);
    free(id);
}

int pst_identity_sign_report(struct pst_identity *id, const struct pst_payload_writer *payload,
                             uint64_t seq, uint64_t spool_dropped, char **jws, size_t *len)
{
    char *text = NULL;
    size_t text_len = 0;
    int rc = PST_EINVAL;

    *jws = NULL;
    *len = 0;
    if (seq > (uint64_t)INT64_MAX || spool_dropped > (uint64_t)INT64_MAX) {
        goto out;
    }
    rc = payload->write(payload->arg, id->host_id, seq, spool_dropped, &text, &text_len);
    if (rc != PST_OK) {
        goto out;
    }
    rc = pst_jws_sign((const unsigned char *)text, text_len, &id->key, id->kid, jws, len);
out:
    free(text);
    return rc;
}
