/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the firewall's readers of outside input (iptables-restore text, nft
 * syntax, /proc/net socket lines) and the evaluation of what they read. The first byte picks
 * the reader; the rest is its input.
 */
#include "agent/error.h"
#include "probes/firewall.h"
#include "probes/sockets.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An include reads nothing more: one file's worth of input is the whole test. */
static int no_include(void *state, const char *path, int depth, const void *scope)
{
    (void)state;
    (void)path;
    (void)depth;
    (void)scope;
    return PST_OK;
}

static void evaluate(const struct pst_fw_ruleset *rs)
{
    static const unsigned states[] = {PST_FW_CT_NEW, PST_FW_CT_ESTABLISHED, PST_FW_CT_RELATED};
    struct pst_fw_outcome o;

    for (int family = 4; family <= 6; family += 2) {
        for (size_t s = 0; s < sizeof(states) / sizeof(states[0]); s++) {
            struct pst_fw_packet p = {.family = family, .ctstate = states[s], .dport = -1};
            pst_fw_evaluate(rs, PST_FW_HOOK_INPUT, &p, &o);
            p.lo = true;
            p.saddr_loopback = true;
            pst_fw_evaluate(rs, PST_FW_HOOK_FORWARD, &p, &o);
            p.lo = false;
            p.l4proto = 6;
            p.dport = 22;
            pst_fw_evaluate(rs, PST_FW_HOOK_INPUT, &p, &o);
        }
        (void)pst_fw_filtering(rs, family);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pst_fw_ruleset *rs;
    char *text;
    uint8_t mode;

    if (size < 1) {
        return 0;
    }
    mode = data[0] % 4;
    text = malloc(size);
    if (text == NULL) {
        return 0;
    }
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    if (mode == 3) {
        struct pst_socket s;
        char *line = text;
        while (line != NULL) {
            char *nl = strchr(line, '\n');
            if (nl != NULL) {
                *nl = '\0';
            }
            (void)pst_sockets_parse_line(line, 4, true, &s);
            (void)pst_sockets_parse_line(line, 6, false, &s);
            line = nl ? nl + 1 : NULL;
        }
        free(text);
        return 0;
    }
    rs = pst_fw_ruleset_new();
    if (rs != NULL) {
        if (mode == 2) {
            (void)pst_fw_parse_nft(rs, text, "fuzz.nft", no_include, NULL, 0, NULL);
        } else {
            (void)pst_fw_parse_iptables(rs, mode == 0 ? 4 : 6, text, "fuzz.rules", NULL);
        }
        evaluate(rs);
        pst_fw_ruleset_free(rs);
    }
    free(text);
    return 0;
}
