/* SPDX-License-Identifier: Apache-2.0 */
/* Enrollment: a new key and CSR, exchanged with a token for a certificate from the collector. */
#include "transport/enroll.h"

#include "agent/error.h"
#include "probes/text.h"
#include "transport/identity.h"
#include "transport/jws.h"

#include <jansson.h>
#include <mbedtls/ecp.h>
#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509_csr.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PEM_MAX 4096

int pst_enroll_endpoint(const char *base, const char *endpoint, char *buf, size_t size)
{
    size_t len = strlen(base);

    while (len > 0 && base[len - 1] == '/') {
        len--;
    }
    if (len == 0 || strncmp(base, "https://", 8) != 0) {
        return PST_EINVAL;
    }
    int n = snprintf(buf, size, "%.*s%s", (int)len, base, endpoint);
    return n < 0 || (size_t)n >= size ? PST_EINVAL : PST_OK;
}

static int make_key_and_csr(mbedtls_pk_context *key, unsigned char *csr_pem, size_t size)
{
    mbedtls_x509write_csr csr;
    int rc = PST_EINVAL;

    mbedtls_x509write_csr_init(&csr);
    if (mbedtls_pk_setup(key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) != 0 ||
        mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*key), pst_jws_random, NULL) !=
            0) {
        goto out;
    }
    mbedtls_x509write_csr_set_md_alg(&csr, MBEDTLS_MD_SHA256);
    mbedtls_x509write_csr_set_key(&csr, key);
    /* The collector names the host in the certificate it issues; this CN is only a hint. */
    if (mbedtls_x509write_csr_set_subject_name(&csr, "CN=posture-agent") != 0 ||
        mbedtls_x509write_csr_pem(&csr, csr_pem, size, pst_jws_random, NULL) != 0) {
        goto out;
    }
    rc = PST_OK;
out:
    mbedtls_x509write_csr_free(&csr);
    return rc;
}

/* The collector's error body {"error", "message"} as one printable line. */
static void refusal(const struct pst_http_response *resp, char *why, size_t why_len)
{
    json_t *doc = json_loadb(resp->body, resp->body_len, 0, NULL);
    const char *msg = json_string_value(json_object_get(doc, "message"));
    const char *err = json_string_value(json_object_get(doc, "error"));
    char *safe = pst_text_printable(msg ? msg : err ? err : "no error message");

    snprintf(why, why_len, "the collector answered %ld: %s", resp->status, safe ? safe : "?");
    free(safe);
    json_decref(doc);
}

/* Checks that CA is the pinned CA: same DER as the CA file, or the pinned SHA-256. */
static int check_pinned_ca(const mbedtls_x509_crt *ca, const struct pst_http_opts *http, char *why,
                           size_t why_len)
{
    if (http->ca_pin != NULL) {
        unsigned char md[32];
        mbedtls_sha256_ret(ca->raw.p, ca->raw.len, md, 0);
        if (memcmp(md, http->ca_pin, sizeof(md)) != 0) {
            snprintf(why, why_len, "the collector sent a CA that is not the pinned fingerprint");
            return PST_EACCES;
        }
        return PST_OK;
    }
    mbedtls_x509_crt pinned;
    int rc = PST_OK;
    mbedtls_x509_crt_init(&pinned);
    if (mbedtls_x509_crt_parse_file(&pinned, http->ca_file) != 0) {
        snprintf(why, why_len, "%s: not a PEM certificate", http->ca_file);
        rc = PST_EPARSE;
    } else if (pinned.raw.len != ca->raw.len || memcmp(pinned.raw.p, ca->raw.p, ca->raw.len) != 0) {
        snprintf(why, why_len, "the collector sent a CA that is not the one in %s", http->ca_file);
        rc = PST_EACCES;
    }
    mbedtls_x509_crt_free(&pinned);
    return rc;
}

void pst_enroll_answer_release(struct pst_enroll_answer *ans)
{
    free(ans->host_id);
    free(ans->cert_pem);
    free(ans->ca_pem);
    mbedtls_x509_crt_free(&ans->cert);
    mbedtls_x509_crt_free(&ans->ca);
    memset(ans, 0, sizeof(*ans));
}

int pst_enroll_parse_answer(const char *body, size_t len, struct pst_enroll_answer *ans, char *why,
                            size_t why_len)
{
    json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    const char *id = json_string_value(json_object_get(doc, "host_id"));
    const char *cert_pem = json_string_value(json_object_get(doc, "certificate"));
    const char *ca_pem = json_string_value(json_object_get(doc, "ca"));
    int rc = PST_EPARSE;

    memset(ans, 0, sizeof(*ans));
    mbedtls_x509_crt_init(&ans->cert);
    mbedtls_x509_crt_init(&ans->ca);
    if (id == NULL || cert_pem == NULL || ca_pem == NULL) {
        snprintf(why, why_len, "the collector's answer lacks host_id, certificate or ca");
        goto out;
    }
    if (!pst_identity_host_id_valid(id)) {
        snprintf(why, why_len, "the collector chose a host id this agent cannot keep");
        goto out;
    }
    /* Both must be PEM: mbedtls_x509_crt_parse would also take DER, which a string is not. */
    if (strstr(cert_pem, "-----BEGIN CERTIFICATE-----") == NULL ||
        strstr(ca_pem, "-----BEGIN CERTIFICATE-----") == NULL ||
        mbedtls_x509_crt_parse(&ans->ca, (const unsigned char *)ca_pem, strlen(ca_pem) + 1) != 0 ||
        mbedtls_x509_crt_parse(&ans->cert, (const unsigned char *)cert_pem, strlen(cert_pem) + 1) !=
            0) {
        snprintf(why, why_len, "the collector's certificate or CA is not PEM");
        goto out;
    }
    if (ans->ca.next != NULL || ans->cert.next != NULL) {
        snprintf(why, why_len, "the collector's certificate and CA must be one certificate each");
        goto out;
    }
    ans->host_id = strdup(id);
    ans->cert_pem = strdup(cert_pem);
    ans->ca_pem = strdup(ca_pem);
    rc = ans->host_id && ans->cert_pem && ans->ca_pem ? PST_OK : PST_ENOMEM;
out:
    if (rc != PST_OK) {
        pst_enroll_answer_release(ans);
    }
    json_decref(doc);
    return rc;
}

int pst_enroll(struct pst_state *state, const struct pst_enroll_opts *opts, char **host_id,
               char *why, size_t why_len)
{
    mbedtls_pk_context key;
    struct pst_enroll_answer ans;
    unsigned char csr_pem[PEM_MAX];
    unsigned char key_pem[PEM_MAX];
    char url[2048];
    char cn[256];
    char *body = NULL;
    json_t *req = NULL;
    struct pst_http_response resp = {0};
    const char *id, *cert_pem, *ca_pem;
    uint32_t flags = 0;
    int rc;

    *host_id = NULL;
    mbedtls_pk_init(&key);
    memset(&ans, 0, sizeof(ans));
    mbedtls_x509_crt_init(&ans.cert);
    mbedtls_x509_crt_init(&ans.ca);
    memset(key_pem, 0, sizeof(key_pem));
    rc = pst_enroll_endpoint(opts->url, "/v1/enroll", url, sizeof(url));
    if (rc != PST_OK) {
        snprintf(why, why_len, "the collector URL must be https://HOST[:PORT], not '%s'",
                 opts->url);
        goto out;
    }
    rc = make_key_and_csr(&key, csr_pem, sizeof(csr_pem));
    if (rc != PST_OK) {
        snprintf(why, why_len, "cannot generate the key and the certificate request");
        goto out;
    }
    req = json_pack("{s:s, s:s}", "token", opts->token, "csr", (const char *)csr_pem);
    body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    if (body == NULL) {
        rc = PST_ENOMEM;
        goto out;
    }
    rc = pst_http_post(url, "application/json", body, strlen(body), &opts->http, &resp, why,
                       why_len);
    if (rc != PST_OK) {
        goto out;
    }
    if (resp.status != 200 && resp.status != 201) {
        refusal(&resp, why, why_len);
        rc = resp.status == 401 || resp.status == 403 ? PST_EACCES : PST_EINVAL;
        goto out;
    }
    rc = pst_enroll_parse_answer(resp.body, resp.body_len, &ans, why, why_len);
    if (rc != PST_OK) {
        goto out;
    }
    id = ans.host_id;
    cert_pem = ans.cert_pem;
    ca_pem = ans.ca_pem;
    rc = check_pinned_ca(&ans.ca, &opts->http, why, why_len);
    if (rc != PST_OK) {
        goto out;
    }
    rc = PST_EINVAL;
    if (mbedtls_x509_crt_verify(&ans.cert, &ans.ca, NULL, NULL, &flags, NULL, NULL) != 0) {
        snprintf(why, why_len, "the issued certificate does not verify with the CA (flags %#x)",
                 (unsigned)flags);
        goto out;
    }
    if (mbedtls_pk_check_pair(&ans.cert.pk, &key) != 0) {
        snprintf(why, why_len, "the issued certificate does not carry this host's key");
        goto out;
    }
    if (pst_identity_cert_cn(&ans.cert, cn, sizeof(cn)) != PST_OK || strcmp(cn, id) != 0) {
        snprintf(why, why_len, "the issued certificate's CN is not the host id %s", id);
        goto out;
    }
    if (mbedtls_pk_write_key_pem(&key, key_pem, sizeof(key_pem)) != 0) {
        snprintf(why, why_len, "cannot write the key");
        goto out;
    }
    /* A new host id starts a new sequence; the same one keeps counting upwards. */
    char *previous = NULL;
    bool same = pst_state_read_text(state, PST_STATE_HOST_ID, &previous) == PST_OK &&
                strcmp(previous, id) == 0;
    free(previous);
    rc = pst_file_write_at(state->dirfd, PST_STATE_KEY, key_pem, strlen((char *)key_pem), 0600);
    if (rc == PST_OK) {
        rc = pst_file_write_at(state->dirfd, PST_STATE_CERT, cert_pem, strlen(cert_pem), 0644);
    }
    if (rc == PST_OK) {
        rc = pst_file_write_at(state->dirfd, PST_STATE_CA, ca_pem, strlen(ca_pem), 0644);
    }
    if (rc == PST_OK && !same) {
        rc = pst_state_write_counter(state, PST_STATE_SEQ, 0);
    }
    if (rc == PST_OK) {
        rc = pst_state_write_text(state, PST_STATE_URL, opts->url);
    }
    /* The host id last: it is what marks the state as enrolled. */
    if (rc == PST_OK) {
        rc = pst_state_write_text(state, PST_STATE_HOST_ID, id);
    }
    if (rc != PST_OK) {
        snprintf(why, why_len, "cannot write the identity into %s: %s", state->dir,
                 pst_strerror(rc));
        goto out;
    }
    *host_id = strdup(id);
    rc = *host_id != NULL ? PST_OK : PST_ENOMEM;
out:
    mbedtls_platform_zeroize(key_pem, sizeof(key_pem));
    if (body != NULL) {
        mbedtls_platform_zeroize(body, strlen(body)); /* it holds the token */
        free(body);
    }
    json_decref(req);
    pst_http_response_release(&resp);
    pst_enroll_answer_release(&ans);
    mbedtls_pk_free(&key);
    return rc;
}
