/* SPDX-License-Identifier: Apache-2.0 */
/* Load generator of bench/collector.sh: concurrent hosts POSTing signed reports over mutual TLS. */
#include "agent/error.h"
#include "probes/fs.h"
#include "transport/jws.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

static const char usage[] =
    "usage: collector_load URL CA_FILE HOSTS_DIR HOSTS REPORTS_PER_HOST TEMPLATE_JSON [fresh]\n"
    "HOSTS_DIR holds h1.key, h1.crt, h1.id ... (enrolled hosts). Every host sends its reports\n"
    "one after another (seq 1, 2, ...), all hosts at once; the reports are signed before the\n"
    "clock starts. \"fresh\" makes a new TLS connection per report. Prints reports/s and\n"
    "latency percentiles.\n";

struct host {
    char key[4096], crt[4096];
    char **jws; /* one signed report per seq */
    size_t *jws_len;
    size_t next;
    CURL *easy;
    long status;
};

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Signs REPORTS reports of host H (seq 1..REPORTS) from TEMPLATE. */
static int prepare(struct host *h, const char *dir, int index, size_t reports, json_t *template)
{
    mbedtls_pk_context key;
    mbedtls_x509_crt crt;
    char path[4096], *id = NULL, kid[65];
    size_t id_len = 0;
    int rc = 1;

    mbedtls_pk_init(&key);
    mbedtls_x509_crt_init(&crt);
    snprintf(h->key, sizeof(h->key), "%s/h%d.key", dir, index);
    snprintf(h->crt, sizeof(h->crt), "%s/h%d.crt", dir, index);
    snprintf(path, sizeof(path), "%s/h%d.id", dir, index);
    if (mbedtls_pk_parse_keyfile(&key, h->key, NULL) != 0 ||
        mbedtls_x509_crt_parse_file(&crt, h->crt) != 0 ||
        pst_file_read(path, 256, true, &id, &id_len) != PST_OK) {
        fprintf(stderr, "collector_load: cannot read host %d in %s\n", index, dir);
        goto out;
    }
    while (id_len > 0 && (id[id_len - 1] == '\n' || id[id_len - 1] == ' ')) {
        id[--id_len] = '\0';
    }
    pst_jws_kid(&crt, kid);
    h->jws = calloc(reports, sizeof(*h->jws));
    h->jws_len = calloc(reports, sizeof(*h->jws_len));
    if (h->jws == NULL || h->jws_len == NULL) {
        goto out;
    }
    for (size_t s = 0; s < reports; s++) {
        char *payload;
        json_object_set_new(template, "host_id", json_string(id));
        json_object_set_new(template, "seq", json_integer((json_int_t)s + 1));
        payload = json_dumps(template, JSON_COMPACT);
        if (payload == NULL || pst_jws_sign((unsigned char *)payload, strlen(payload), &key, kid,
                                            &h->jws[s], &h->jws_len[s]) != PST_OK) {
            free(payload);
            goto out;
        }
        free(payload);
    }
    rc = 0;
out:
    free(id);
    mbedtls_pk_free(&key);
    mbedtls_x509_crt_free(&crt);
    return rc;
}

static void start(CURLM *multi, struct host *h, const char *url, const char *ca, bool fresh,
                  struct curl_slist *headers)
{
    curl_easy_setopt(h->easy, CURLOPT_URL, url);
    curl_easy_setopt(h->easy, CURLOPT_CAINFO, ca);
    curl_easy_setopt(h->easy, CURLOPT_SSLCERT, h->crt);
    curl_easy_setopt(h->easy, CURLOPT_SSLKEY, h->key);
    curl_easy_setopt(h->easy, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    curl_easy_setopt(h->easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h->easy, CURLOPT_POSTFIELDS, h->jws[h->next]);
    curl_easy_setopt(h->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)h->jws_len[h->next]);
    curl_easy_setopt(h->easy, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h->easy, CURLOPT_PRIVATE, h);
    curl_easy_setopt(h->easy, CURLOPT_TIMEOUT, 60L);
    if (fresh) {
        curl_easy_setopt(h->easy, CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(h->easy, CURLOPT_FORBID_REUSE, 1L);
    }
    curl_multi_add_handle(multi, h->easy);
}

int main(int argc, char **argv)
{
    struct host *hosts = NULL;
    json_t *template = NULL;
    json_error_t jerr;
    CURLM *multi = NULL;
    struct curl_slist *headers = NULL;
    double *latency = NULL, t0, elapsed;
    long n_hosts, reports;
    size_t done = 0, failed = 0, total;
    bool fresh = argc > 7 && strcmp(argv[7], "fresh") == 0;
    int running = 0, status = 1;

    if (argc < 7 || argc > 8) {
        fputs(usage, stderr);
        return 2;
    }
    n_hosts = strtol(argv[4], NULL, 10);
    reports = strtol(argv[5], NULL, 10);
    if (n_hosts < 1 || n_hosts > 1000 || reports < 1 || reports > 100000) {
        fputs(usage, stderr);
        return 2;
    }
    total = (size_t)n_hosts * (size_t)reports;
    template = json_load_file(argv[6], 0, &jerr);
    hosts = calloc((size_t)n_hosts, sizeof(*hosts));
    latency = calloc(total, sizeof(*latency));
    if (template == NULL || hosts == NULL || latency == NULL) {
        fprintf(stderr, "collector_load: cannot load %s\n", argv[6]);
        goto out;
    }
    for (long i = 0; i < n_hosts; i++) {
        if (prepare(&hosts[i], argv[3], (int)i + 1, (size_t)reports, template) != 0) {
            goto out;
        }
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    multi = curl_multi_init();
    headers = curl_slist_append(NULL, "Content-Type: application/jose");
    headers = curl_slist_append(headers, "Expect:");
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)n_hosts);
    t0 = now_seconds();
    for (long i = 0; i < n_hosts; i++) {
        hosts[i].easy = curl_easy_init();
        start(multi, &hosts[i], argv[1], argv[2], fresh, headers);
    }
    do {
        CURLMsg *msg;
        int left;
        curl_multi_perform(multi, &running);
        while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
            struct host *h;
            curl_off_t t = 0;
            if (msg->msg != CURLMSG_DONE) {
                continue;
            }
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&h);
            curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &h->status);
            curl_easy_getinfo(msg->easy_handle, CURLINFO_TOTAL_TIME_T, &t);
            latency[done++] = (double)t / 1000.0;
            if (msg->data.result != CURLE_OK || h->status != 201) {
                if (failed++ < 5) {
                    fprintf(stderr, "collector_load: seq %zu: %s, status %ld\n", h->next + 1,
                            curl_easy_strerror(msg->data.result), h->status);
                }
            }
            curl_multi_remove_handle(multi, msg->easy_handle);
            if (++h->next < (size_t)reports) {
                start(multi, h, argv[1], argv[2], fresh, headers);
                running++;
            }
        }
        if (running > 0) {
            curl_multi_poll(multi, NULL, 0, 1000, NULL);
        }
    } while (running > 0);
    elapsed = now_seconds() - t0;
    qsort(latency, done, sizeof(*latency), by_value);
    printf("reports %zu failed %zu seconds %.3f reports_per_s %.1f p50_ms %.2f p99_ms %.2f "
           "max_ms %.2f body_bytes %zu\n",
           done, failed, elapsed, (double)done / elapsed, latency[done / 2],
           latency[(size_t)((double)done * 0.99)], latency[done - 1], hosts[0].jws_len[0]);
    status = failed == 0 && done == total ? 0 : 1;
out:
    for (long i = 0; hosts != NULL && i < n_hosts; i++) {
        for (long s = 0; hosts[i].jws != NULL && s < reports; s++) {
            free(hosts[i].jws[s]);
        }
        free(hosts[i].jws);
        free(hosts[i].jws_len);
        if (hosts[i].easy != NULL) {
            curl_easy_cleanup(hosts[i].easy);
        }
    }
    free(hosts);
    free(latency);
    curl_slist_free_all(headers);
    if (multi != NULL) {
        curl_multi_cleanup(multi);
    }
    json_decref(template);
    return status;
}
