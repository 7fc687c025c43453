/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the enrollment answer and CA fingerprints, as the agent reads them. */
#include "agent/error.h"
#include "transport/enroll.h"
#include "transport/http.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pst_enroll_answer ans;
    unsigned char pin[32];
    char why[256];
    char *text = malloc(size + 1);

    if (text == NULL) {
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    if (pst_enroll_parse_answer(text, size, &ans, why, sizeof(why)) == PST_OK) {
        /* What was accepted is what the agent will keep: a safe host id, one certificate each. */
        if (ans.host_id == NULL || ans.host_id[0] == '\0' || strlen(ans.host_id) > 128 ||
            ans.cert.next != NULL || ans.ca.next != NULL) {
            __builtin_trap();
        }
        pst_enroll_answer_release(&ans);
    }
    if (pst_http_parse_fingerprint(text, pin) == PST_OK && strlen(text) < 64) {
        __builtin_trap(); /* 32 bytes take 64 hex digits at least */
    }
    free(text);
    return 0;
}
