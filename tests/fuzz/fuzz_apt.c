/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: apt's data as posture parses it: Debian versions, apt.conf, sources
 * (one-line and deb822), Release and InRelease files, preferences, and Packages lists read
 * through the streaming decompressors (the input as plain text, and as gzip, xz and lz4
 * data), with candidates resolved.
 */
#include "agent/error.h"
#include "probes/apt.h"
#include "probes/zread.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int visit(const struct pst_apt_result *r, void *arg)
{
    (void)r;
    (void)arg;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    char *copy = malloc(size + 1);
    struct pst_aptconf conf;
    struct pst_apt_pin *pins = NULL;
    size_t n_pins = 0;
    struct pst_apt_release release;
    struct pst_apt_list list;
    struct pst_apt_db *db = NULL;
    json_t *entries = json_array();
    json_t *errors = json_array();
    char err[256];

    if (text == NULL || copy == NULL || entries == NULL || errors == NULL) {
        abort();
    }
    memcpy(text, data, size);
    text[size] = '\0';

    /* versions: the input's first line against its second */
    {
        char *nl = strchr(text, '\n');
        if (nl != NULL) {
            *nl = '\0';
            (void)pst_debversion_compare(text, nl + 1, NULL);
            *nl = '\n';
        }
    }
    memcpy(copy, text, size + 1);
    if (pst_aptconf_init(&conf) == PST_OK) {
        (void)pst_aptconf_parse(&conf, copy, "apt.conf", err, sizeof(err));
        (void)pst_aptconf_get(&conf, "APT::Default-Release", NULL);
        pst_aptconf_release(&conf);
    }
    memcpy(copy, text, size + 1);
    (void)pst_apt_sources_parse(copy, "sources.list", false, entries, errors);
    memcpy(copy, text, size + 1);
    (void)pst_apt_sources_parse(copy, "debian.sources", true, entries, errors);
    memcpy(copy, text, size + 1);
    (void)pst_apt_pins_parse(copy, "preferences", &pins, &n_pins, errors);
    (void)pst_apt_release_parse(text, size, &release);
    {
        char *name = pst_apt_uri_to_filename(text);
        free(name);
    }

    /* the input as a Packages list of every kind, offering versions of installed packages */
    memset(&list, 0, sizeof(list));
    list.release = release;
    list.has_release = true;
    if (pst_apt_db_new("amd64", &db) == PST_OK) {
        static const enum pst_zkind kinds[] = {PST_Z_PLAIN, PST_Z_GZIP, PST_Z_XZ, PST_Z_LZ4};
        (void)pst_apt_db_add_installed(db, "bash", "amd64", "5.2-1", "install ok installed", 1);
        (void)pst_apt_db_add_installed(db, "tzdata", "all", "2024a-0", "hold ok installed", 9);
        for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
            struct pst_zread *z = NULL;
            char *line;
            size_t len;
            char name[64] = "", version[64] = "";
            if (pst_zread_open_mem(data, size, kinds[k], 1u << 24, &z) != PST_OK) {
                continue;
            }
            for (int got; (got = pst_zread_line(z, &line, &len)) > 0;) {
                if (got != 1) {
                    continue;
                }
                if (strncmp(line, "Package: ", 9) == 0) {
                    snprintf(name, sizeof(name), "%s", line + 9);
                } else if (strncmp(line, "Version: ", 9) == 0) {
                    snprintf(version, sizeof(version), "%s", line + 9);
                    (void)pst_apt_db_add_available(db, name, "amd64", version, 0, 100);
                }
            }
            pst_zread_free(z);
        }
        (void)pst_apt_db_resolve(db, &list, 1, pins, n_pins, visit, NULL);
        pst_apt_db_free(db);
    }
    pst_apt_pins_free(pins, n_pins);
    json_decref(entries);
    json_decref(errors);
    free(text);
    free(copy);
    return 0;
}
