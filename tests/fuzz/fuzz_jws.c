/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the compact JWS parser and verifier, and base64url decoding. */
#include "agent/error.h"
#include "transport/jws.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/ecp.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One verification key for every input: made once, as a fuzzer keeps its process. */
static mbedtls_pk_context *fuzz_key(void)
{
    static mbedtls_pk_context key;
    static int ready;

    if (!ready) {
        mbedtls_pk_init(&key);
        if (mbedtls_pk_setup(&key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) != 0 ||
            mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(key), pst_jws_random,
                                NULL) != 0) {
            __builtin_trap();
        }
        ready = 1;
    }
    return &key;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char *payload = NULL, *dec = NULL;
    size_t payload_len = 0, dec_len = 0;
    char *kid = NULL, why[128];
    int rc = pst_jws_verify((const char *)data, size, fuzz_key(), &payload, &payload_len, &kid, why,
                            sizeof(why));

    /* Nothing here is signed by the key, so nothing may verify. */
    if (rc == PST_OK || payload != NULL || kid != NULL) {
        __builtin_trap();
    }
    if (pst_b64url_decode((const char *)data, size, &dec, &dec_len) == PST_OK) {
        char *again = NULL;
        size_t again_len = 0;
        /* Strict decoding: one value has one encoding, so re-encoding gives the input back. */
        if (pst_b64url_encode(dec, dec_len, &again, &again_len) != PST_OK || again_len != size ||
            memcmp(again, data, size) != 0) {
            __builtin_trap();
        }
        free(again);
    }
    free(dec);
    return 0;
}
