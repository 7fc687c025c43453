/* SPDX-License-Identifier: Apache-2.0 */
/* Times what the agent does per report before delivery: sequence, signature, durable spool. */
#include "agent/error.h"
#include "agent/jsonw.h"
#include "transport/identity.h"
#include "transport/jws.h"
#include "transport/spool.h"
#include "transport/state.h"
#include "tests/unit/helpers.h"

#include <jansson.h>
#include <mbedtls/ecp.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509_crt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A self-signed identity (CN bench-host) in STATE, as enrollment would leave one. */
static int make_identity(struct pst_state *state)
{
    mbedtls_pk_context key;
    mbedtls_x509write_cert crt;
    mbedtls_mpi serial;
    unsigned char pem[4096];
    int rc = PST_EINVAL;

    mbedtls_pk_init(&key);
    mbedtls_x509write_crt_init(&crt);
    mbedtls_mpi_init(&serial);
    if (mbedtls_pk_setup(&key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) != 0 ||
        mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(key), pst_jws_random, NULL) !=
            0 ||
        mbedtls_pk_write_key_pem(&key, pem, sizeof(pem)) != 0) {
        goto out;
    }
    rc = pst_file_write_at(state->dirfd, PST_STATE_KEY, pem, strlen((char *)pem), 0600);
    if (rc != PST_OK) {
        goto out;
    }
    rc = PST_EINVAL;
    mbedtls_x509write_crt_set_subject_key(&crt, &key);
    mbedtls_x509write_crt_set_issuer_key(&crt, &key);
    mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
    mbedtls_mpi_lset(&serial, 1);
    if (mbedtls_x509write_crt_set_subject_name(&crt, "CN=bench-host") != 0 ||
        mbedtls_x509write_crt_set_issuer_name(&crt, "CN=bench-host") != 0 ||
        mbedtls_x509write_crt_set_serial(&crt, &serial) != 0 ||
        mbedtls_x509write_crt_set_validity(&crt, "20250101000000", "20350101000000") != 0 ||
        mbedtls_x509write_crt_pem(&crt, pem, sizeof(pem), pst_jws_random, NULL) != 0) {
        goto out;
    }
    rc = pst_file_write_at(state->dirfd, PST_STATE_CERT, pem, strlen((char *)pem), 0644);
    if (rc == PST_OK) {
        rc = pst_state_write_text(state, PST_STATE_HOST_ID, "bench-host");
    }
out:
    mbedtls_platform_zeroize(pem, sizeof(pem));
    mbedtls_mpi_free(&serial);
    mbedtls_x509write_crt_free(&crt);
    mbedtls_pk_free(&key);
    return rc;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    struct pst_spool_limits limits = {.max_reports = 100000, .max_bytes = 1ull << 34};
    struct pst_state *state = NULL;
    struct pst_identity *id = NULL;
    json_t *report = NULL;
    double *ms = NULL;
    char why[512] = "";
    long runs;
    int status = 1;

    if (argc != 4 || (runs = strtol(argv[3], NULL, 10)) < 1 || runs > 100000) {
        fprintf(stderr, "usage: transport_bench STATE_DIR REPORT.json RUNS\n");
        return 2;
    }
    report = json_load_file(argv[2], 0, NULL);
    ms = calloc((size_t)runs, sizeof(*ms));
    if (report == NULL || ms == NULL || pst_state_open(argv[1], true, &state) != PST_OK ||
        make_identity(state) != PST_OK ||
        pst_identity_load(state, &id, why, sizeof(why)) != PST_OK ||
        pst_state_lock(state) != PST_OK) {
        fprintf(stderr, "transport_bench: cannot set up: %s\n", why);
        goto out;
    }
    size_t bytes = 0;
    const struct pst_payload_writer writer = {pst_test_tree_payload, report};
    for (long i = 0; i < runs; i++) {
        struct timespec t0, t1;
        uint64_t seq, dropped;
        char *jws = NULL;
        size_t len = 0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        /* The same steps, in the same order, as `posture scan --send` before delivery. */
        if (pst_state_read_counter(state, PST_STATE_DROPPED, &dropped) != PST_OK ||
            pst_state_next_seq(state, &seq) != PST_OK ||
            pst_identity_sign_report(id, &writer, seq, dropped, &jws, &len) != PST_OK ||
            pst_spool_put(state, &limits, seq, jws, len, dropped, NULL) != PST_OK) {
            fprintf(stderr, "transport_bench: run %ld failed\n", i);
            free(jws);
            goto out;
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        free(jws);
        bytes = len;
        ms[i] = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    }
    qsort(ms, (size_t)runs, sizeof(*ms), by_value);
    printf("reports %ld, signed report %zu bytes, per report: median %.3f ms, p99 %.3f ms, "
           "max %.3f ms\n",
           runs, bytes, ms[(runs - 1) / 2], ms[(size_t)((double)(runs - 1) * 0.99)], ms[runs - 1]);
    status = 0;
out:
    free(ms);
    json_decref(report);
    pst_identity_free(id);
    pst_state_free(state);
    return status;
}
