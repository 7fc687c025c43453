/* SPDX-License-Identifier: Apache-2.0 */
/* Delivery of the spool to the collector: in sequence order, over mutual TLS, with backoff. */
#ifndef PST_DELIVER_H
#define PST_DELIVER_H

#include "transport/http.h"
#include "transport/spool.h"
#include "transport/state.h"

#include <stdint.h>

/* Backoff defaults of DESIGN.md: base 5 s, cap 10 min. */
#define PST_BACKOFF_DEFAULT_BASE_MS 5000u
#define PST_BACKOFF_DEFAULT_CAP_MS 600000u

/* The collector settings of posture.yaml, after defaults. */
struct pst_transport_settings {
    const char *url;       /* NULL: the URL stored at enrollment */
    const char *ca_file;   /* NULL: the CA stored at enrollment */
    const char *proxy;     /* NULL: no proxy */
    const char *state_dir; /* NULL: PST_STATE_DEFAULT_DIR */
    long connect_timeout_s, timeout_s;
    struct pst_spool_limits limits;
    uint64_t backoff_base_ms, backoff_cap_ms;
};

/* Fills S with the defaults. */
void pst_transport_settings_default(struct pst_transport_settings *s);

struct pst_delivery {
    size_t delivered;  /* acknowledged (2xx) and deleted */
    size_t duplicates; /* 409: the collector had them already; deleted */
    size_t dead;       /* refused for good: moved to dead-letter */
    size_t left;       /* still in the spool */
    long retry_after;  /* the collector's Retry-After in seconds, -1 none */
    char why[512];     /* why delivery stopped (when left > 0) */
};

/*
 * Delivers what STATE's spool holds, oldest sequence first, one request each. 2xx and 409
 * delete the report; 400/401/403/413 move it to dead-letter (WHY logged to stderr); any other
 * status or no answer stops the pass, so that a later report never overtakes an earlier one.
 * Call with the state's lock held. Returns 0 when the pass ran (RES says what is left), or a
 * PST_E* code for a local failure.
 */
int pst_deliver_spool(const struct pst_state *state, const struct pst_transport_settings *s,
                      struct pst_delivery *res);

/*
 * Delay before retry ATTEMPT (0 for the first retry): full jitter, a uniform draw in
 * [0, min(cap, base x 2^attempt)] from RANDOM, and never less than RETRY_AFTER_S seconds
 * (-1: none) when the collector asked for that.
 */
uint64_t pst_backoff_delay_ms(unsigned attempt, uint64_t base_ms, uint64_t cap_ms,
                              long retry_after_s, uint64_t random);

#endif
