/* SPDX-License-Identifier: Apache-2.0 */
/* Test client's signer: a compact JWS of a payload file, correct or spoilt in a chosen way. */
#include "agent/error.h"
#include "probes/fs.h"
#include "transport/jws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

static const char usage[] =
    "usage: jws_tool KEY_PEM CERT_PEM PAYLOAD_FILE [MODE]\n"
    "MODE: good (default), tamper-payload, tamper-header, none, hs256, kid=KID\n";

/* Base64url of TEXT, joined as H.P.S with the given parts. */
static char *join(const char *h, const char *p, const char *s)
{
    size_t n = strlen(h) + strlen(p) + strlen(s) + 3;
    char *out = malloc(n);
    if (out != NULL) {
        snprintf(out, n, "%s.%s.%s", h, p, s);
    }
    return out;
}

static char *b64(const char *text)
{
    char *out = NULL;
    pst_b64url_encode((const unsigned char *)text, strlen(text), &out, NULL);
    return out;
}

int main(int argc, char **argv)
{
    mbedtls_pk_context key;
    mbedtls_x509_crt crt;
    char *payload = NULL, *jws = NULL, *out = NULL, kid[65];
    const char *mode = argc > 4 ? argv[4] : "good";
    size_t len = 0;
    int status = 1;

    mbedtls_pk_init(&key);
    mbedtls_x509_crt_init(&crt);
    if (argc < 4 || argc > 5) {
        fputs(usage, stderr);
        return 2;
    }
    if (mbedtls_pk_parse_keyfile(&key, argv[1], NULL) != 0 ||
        mbedtls_x509_crt_parse_file(&crt, argv[2]) != 0 ||
        pst_file_read(argv[3], PST_JWS_MAX, false, &payload, &len) != PST_OK) {
        fprintf(stderr, "jws_tool: cannot read the key, certificate or payload\n");
        goto out;
    }
    pst_jws_kid(&crt, kid);
    if (strncmp(mode, "kid=", 4) == 0) {
        if (pst_jws_sign((unsigned char *)payload, len, &key, mode + 4, &jws, NULL) != PST_OK) {
            goto out;
        }
        out = jws;
        jws = NULL;
    } else if (pst_jws_sign((unsigned char *)payload, len, &key, kid, &jws, NULL) != PST_OK) {
        fprintf(stderr, "jws_tool: cannot sign\n");
        goto out;
    } else if (strcmp(mode, "good") == 0) {
        out = jws;
        jws = NULL;
    } else {
        char *dot1 = strchr(jws, '.'), *dot2 = strrchr(jws, '.');
        char header[256];
        *dot1 = '\0';
        *dot2 = '\0';
        if (strcmp(mode, "tamper-payload") == 0) {
            /* Same length, one character changed: the bytes still decode, the signature fails. */
            dot1[1] = dot1[1] == 'e' ? 'f' : 'e';
            out = join(jws, dot1 + 1, dot2 + 1);
        } else if (strcmp(mode, "tamper-header") == 0) {
            snprintf(header, sizeof(header),
                     "{\"alg\":\"ES256\",\"typ\":\"posture-report+jws\",\"kid\":\"%s\",\"x\":1}",
                     kid);
            char *h = b64(header);
            out = join(h, dot1 + 1, dot2 + 1);
            free(h);
        } else if (strcmp(mode, "none") == 0) {
            snprintf(header, sizeof(header),
                     "{\"alg\":\"none\",\"typ\":\"posture-report+jws\",\"kid\":\"%s\"}", kid);
            char *h = b64(header);
            out = join(h, dot1 + 1, "");
            free(h);
        } else if (strcmp(mode, "hs256") == 0) {
            /* An HMAC "signed" with the public key's hash as the secret: the classic confusion. */
            snprintf(header, sizeof(header),
                     "{\"alg\":\"HS256\",\"typ\":\"posture-report+jws\",\"kid\":\"%s\"}", kid);
            char *h = b64(header);
            out = join(h, dot1 + 1, "c2lnbmF0dXJlLWJ5LWhtYWMtd2l0aC10aGUtcHVibGljLWtleQ");
            free(h);
        } else {
            fputs(usage, stderr);
            status = 2;
            goto out;
        }
    }
    if (out != NULL) {
        fputs(out, stdout);
        status = 0;
    }
out:
    free(payload);
    free(jws);
    free(out);
    mbedtls_pk_free(&key);
    mbedtls_x509_crt_free(&crt);
    return status;
}
