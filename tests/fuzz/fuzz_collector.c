/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: what the collector parses from clients (enroll bodies, JWS, report payloads).
 */
#include "agent/error.h"
#include "collector/ca.h"
#include "collector/ingest.h"
#include "collector/store.h"
#include "transport/jws.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/ecp.h>
#include <mbedtls/x509_crt.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What every input shares: a CA, a database with one enrolled host, its key and peer. */
struct world {
    struct pst_ingest in;
    mbedtls_pk_context key;
    struct pst_peer peer;
};

static struct world w;
static char dir[] = "/tmp/fuzz-collector-XXXXXX";

/* Removes the state directory at exit: the database first, then its files. */
static void cleanup(void)
{
    DIR *d;
    struct dirent *de;

    pst_store_free(w.in.store);
    w.in.store = NULL;
    d = opendir(dir);
    while (d != NULL && (de = readdir(d)) != NULL) {
        if (de->d_name[0] != '.' || strncmp(de->d_name, ".ca", 3) == 0) {
            unlinkat(dirfd(d), de->d_name, 0);
        }
    }
    if (d != NULL) {
        closedir(d);
    }
    rmdir(dir);
}

static struct world *world(void)
{
    static int ready;
    char path[256], why[128];
    const char *names[] = {"localhost"};
    mbedtls_x509write_cert cw;
    mbedtls_mpi serial;
    unsigned char der[2048];
    struct pst_issued issued = {0};
    enum pst_token_verdict v;
    int n;

    if (ready) {
        return &w;
    }
    if (mkdtemp(dir) == NULL || pst_ca_init(dir, names, 1, 1700000000, why, sizeof(why)) != 0 ||
        pst_ca_load(dir, &w.in.ca) != 0) {
        __builtin_trap();
    }
    atexit(cleanup);
    snprintf(path, sizeof(path), "%s/collector.db", dir);
    if (pst_store_open(path, &w.in.store) != 0) {
        __builtin_trap();
    }
    pthread_mutex_init(&w.in.ca_lock, NULL);
    /* The host's key and a certificate for it; the host is enrolled under its fingerprint. */
    mbedtls_pk_init(&w.key);
    mbedtls_pk_setup(&w.key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
    mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(w.key), pst_jws_random, NULL);
    mbedtls_x509write_crt_init(&cw);
    mbedtls_mpi_init(&serial);
    mbedtls_mpi_lset(&serial, 1);
    mbedtls_x509write_crt_set_md_alg(&cw, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&cw, &w.key);
    mbedtls_x509write_crt_set_issuer_key(&cw, &w.key);
    mbedtls_x509write_crt_set_subject_name(&cw, "CN=fuzz-host");
    mbedtls_x509write_crt_set_issuer_name(&cw, "CN=fuzz-host");
    mbedtls_x509write_crt_set_serial(&cw, &serial);
    mbedtls_x509write_crt_set_validity(&cw, "20250101000000", "20350101000000");
    n = mbedtls_x509write_crt_der(&cw, der, sizeof(der), pst_jws_random, NULL);
    if (n <= 0 || pst_peer_init(&w.peer, der + sizeof(der) - n, (size_t)n) != 0) {
        __builtin_trap();
    }
    mbedtls_x509write_crt_free(&cw);
    mbedtls_mpi_free(&serial);
    snprintf(issued.host_id, sizeof(issued.host_id), "fuzz-host");
    snprintf(issued.fingerprint, sizeof(issued.fingerprint), "%s", w.peer.fingerprint);
    snprintf(issued.kid, sizeof(issued.kid), "%s", w.peer.kid);
    snprintf(issued.serial, sizeof(issued.serial), "01");
    if (pst_store_token_add(w.in.store, "t", 0, 4000000000, 1) != 0 ||
        pst_store_enroll(w.in.store, "t", 1, &issued, &v) != 0 || v != PST_TOKEN_OK) {
        __builtin_trap();
    }
    ready = 1;
    return &w;
}

/*
 * The first byte picks what the rest is: 0 an enroll body, 1 a report body (a JWS as sent),
 * 2 a report payload, signed by the enrolled host's key before ingest.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct world *wd = world();
    struct pst_answer ans;
    static int64_t now = 1700000000;

    if (size < 1) {
        return 0;
    }
    now++;
    if (data[0] % 3 == 0) {
        pst_ingest_enroll(&wd->in, (const char *)data + 1, size - 1, now, &ans);
        /* Without a stored token's text, nothing can enroll. */
        if (ans.status == 201) {
            __builtin_trap();
        }
    } else if (data[0] % 3 == 1) {
        pst_ingest_report(&wd->in, &wd->peer, (const char *)data + 1, size - 1, now, &ans);
        /* Nothing unsigned by the host's key is ever stored. */
        if (ans.status == 201) {
            __builtin_trap();
        }
    } else {
        char *jws = NULL;
        size_t len = 0;
        if (pst_jws_sign(data + 1, size - 1, &wd->key, wd->peer.kid, &jws, &len) != 0) {
            return 0;
        }
        pst_ingest_report(&wd->in, &wd->peer, jws, len, now, &ans);
        free(jws);
    }
    if (ans.status < 200 || ans.status > 599) {
        __builtin_trap();
    }
    free(pst_answer_text(&ans));
    pst_answer_release(&ans);
    return 0;
}
