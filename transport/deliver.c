/* SPDX-License-Identifier: Apache-2.0 */
/* Delivery of the spool to the collector: in sequence order, over mutual TLS, with backoff. */
#include "transport/deliver.h"

#include "agent/error.h"
#include "probes/text.h"
#include "transport/enroll.h"

#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pst_transport_settings_default(struct pst_transport_settings *s)
{
    memset(s, 0, sizeof(*s));
    s->connect_timeout_s = 10;
    s->timeout_s = 60;
    s->limits.max_reports = PST_SPOOL_DEFAULT_MAX_REPORTS;
    s->limits.max_bytes = PST_SPOOL_DEFAULT_MAX_BYTES;
    s->backoff_base_ms = PST_BACKOFF_DEFAULT_BASE_MS;
    s->backoff_cap_ms = PST_BACKOFF_DEFAULT_CAP_MS;
}

uint64_t pst_backoff_delay_ms(unsigned attempt, uint64_t base_ms, uint64_t cap_ms,
                              long retry_after_s, uint64_t random)
{
    uint64_t ceiling = base_ms;
    uint64_t delay;

    for (unsigned i = 0; i < attempt && ceiling < cap_ms; i++) {
        ceiling = ceiling > UINT64_MAX / 2 ? UINT64_MAX : ceiling * 2;
    }
    if (ceiling > cap_ms) {
        ceiling = cap_ms;
    }
    delay = ceiling == UINT64_MAX ? random : random % (ceiling + 1);
    if (retry_after_s > 0 && (uint64_t)retry_after_s * 1000u > delay) {
        delay = (uint64_t)retry_after_s * 1000u;
    }
    return delay;
}

/* "HTTP 403 revoked: message" from the collector's JSON error body. */
static void describe(const struct pst_http_response *resp, char *why, size_t why_len)
{
    json_t *doc = json_loadb(resp->body, resp->body_len, 0, NULL);
    char *err = pst_text_printable(json_string_value(json_object_get(doc, "error")));
    char *msg = pst_text_printable(json_string_value(json_object_get(doc, "message")));

    snprintf(why, why_len, "HTTP %ld%s%s%s%s", resp->status, err ? " " : "", err ? err : "",
             msg ? ": " : "", msg ? msg : "");
    free(err);
    free(msg);
    json_decref(doc);
}

int pst_deliver_spool(const struct pst_state *state, const struct pst_transport_settings *s,
                      struct pst_delivery *res)
{
    struct pst_spool_entry *list = NULL;
    struct pst_http_opts http = {0};
    char url[2048], cert[PATH_MAX], key[PATH_MAX], ca[PATH_MAX];
    char *stored_url = NULL;
    size_t n = 0, i = 0;
    int rc;

    memset(res, 0, sizeof(*res));
    res->retry_after = -1;
    rc = pst_spool_clean(state);
    if (rc == PST_OK) {
        rc = pst_spool_list(state->spoolfd, &list, &n);
    }
    if (rc != PST_OK || n == 0) {
        goto out;
    }
    if (s->url == NULL && pst_state_read_text(state, PST_STATE_URL, &stored_url) != PST_OK) {
        snprintf(res->why, sizeof(res->why), "no collector URL: enroll, or set collector.url");
        rc = PST_EINVAL;
        goto out;
    }
    if (pst_enroll_endpoint(s->url ? s->url : stored_url, "/v1/reports", url, sizeof(url)) !=
            PST_OK ||
        pst_state_path(state, PST_STATE_CERT, cert, sizeof(cert)) != PST_OK ||
        pst_state_path(state, PST_STATE_KEY, key, sizeof(key)) != PST_OK ||
        pst_state_path(state, PST_STATE_CA, ca, sizeof(ca)) != PST_OK) {
        snprintf(res->why, sizeof(res->why), "the collector URL must be https://HOST[:PORT]");
        rc = PST_EINVAL;
        goto out;
    }
    http.ca_file = s->ca_file ? s->ca_file : ca;
    http.cert_file = cert;
    http.key_file = key;
    http.proxy = s->proxy;
    http.connect_timeout_s = s->connect_timeout_s;
    http.timeout_s = s->timeout_s;
    for (i = 0; i < n; i++) {
        struct pst_http_response resp;
        char *jws = NULL;
        size_t len = 0;
        char why[512];

        rc = pst_spool_read(state, &list[i], &jws, &len);
        if (rc == PST_ENOENT) {
            continue; /* delivered and deleted by a process that held the lock before */
        }
        if (rc != PST_OK) {
            snprintf(res->why, sizeof(res->why), "%s/%s/%s: %s", state->dir, PST_STATE_SPOOL,
                     list[i].name, pst_strerror(rc));
            goto out;
        }
        rc = pst_http_post(url, "application/jose", jws, len, &http, &resp, why, sizeof(why));
        free(jws);
        if (rc == PST_EIO) {
            snprintf(res->why, sizeof(res->why), "no answer from %.200s: %.280s", url, why);
            rc = PST_OK;
            break;
        }
        if (rc != PST_OK) {
            snprintf(res->why, sizeof(res->why), "%s", why);
            goto out;
        }
        long st = resp.status;
        describe(&resp, why, sizeof(why));
        res->retry_after = resp.retry_after;
        pst_http_response_release(&resp);
        if ((st >= 200 && st < 300) || st == 409) {
            rc = pst_spool_remove(state, &list[i]);
            if (st == 409) {
                res->duplicates++;
            } else {
                res->delivered++;
            }
        } else if (st == 400 || st == 401 || st == 403 || st == 413) {
            fprintf(stderr,
                    "posture: the collector refused report %" PRIu64 " (%s); moved to %s/%s\n",
                    list[i].seq, why, state->dir, PST_STATE_DEAD);
            rc = pst_spool_dead_letter(state, &list[i], why);
            res->dead++;
        } else {
            snprintf(res->why, sizeof(res->why), "%s", why);
            break;
        }
        if (rc != PST_OK) {
            snprintf(res->why, sizeof(res->why), "%s: %s", state->dir, pst_strerror(rc));
            goto out;
        }
    }
    rc = PST_OK;
out:
    res->left = n - (i < n ? i : n);
    free(stored_url);
    free(list);
    return rc;
}
