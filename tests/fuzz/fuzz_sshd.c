/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the sshd configuration parser (keywords, quoting, Include globs, Match
 * blocks for a connection spec), the reader of `sshd -T` output and the host key parsers.
 * The input is split at lines "----" into /etc/ssh/sshd_config, two drop-ins of
 * /etc/ssh/sshd_config.d/ and a host public key; its first line, when it starts with "C:",
 * is also tried as a connection spec. The whole input is also the root's /usr/sbin/sshd, whose
 * release read in the probe's windows must be the one a single window over it finds.
 */
#include "agent/error.h"
#include "probes/probe.h"
#include "probes/sshd_config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char root[64];

static const char *const files[] = {
    "/etc/ssh/sshd_config",
    "/etc/ssh/sshd_config.d/10-a.conf",
    "/etc/ssh/sshd_config.d/20-b.conf",
    "/etc/ssh/ssh_host_ed25519_key.pub",
    "/usr/sbin/sshd",
};

static void put(const char *rel, const char *data, size_t size)
{
    char path[256];
    snprintf(path, sizeof(path), "%s%s", root, rel);
    FILE *f = fopen(path, "w");
    if (f == NULL || (size > 0 && fwrite(data, 1, size, f) != size)) {
        abort();
    }
    fclose(f);
}

static void remove_root(void)
{
    char path[256];
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s%s", root, files[i]);
        remove(path);
    }
    static const char *const dirs[] = {"/etc/ssh/sshd_config.d", "/etc/ssh", "/etc",
                                       "/usr/sbin", "/usr", ""};
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        snprintf(path, sizeof(path), "%s%s", root, dirs[i]);
        remove(path);
    }
}

static void setup_root(void)
{
    static const char *const dirs[] = {"",    "/etc",     "/etc/ssh", "/etc/ssh/sshd_config.d",
                                       "/usr", "/usr/sbin"};
    char path[256];
    snprintf(root, sizeof(root), "/tmp/posture-fuzz-sshd-%ld", (long)getpid());
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        snprintf(path, sizeof(path), "%s%s", root, dirs[i]);
        mkdir(path, 0755);
    }
    atexit(remove_root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    struct pst_fs *fs = NULL;
    struct pst_probe_ctx ctx;
    if (text == NULL) {
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    if (root[0] == '\0') {
        setup_root();
    }
    /* the parts between "----" lines, as the files of the root */
    const char *part = text;
    for (size_t i = 0; i + 1 < sizeof(files) / sizeof(files[0]); i++) {
        const char *end = part != NULL ? strstr(part, "\n----\n") : NULL;
        size_t len = part == NULL ? 0 : end != NULL ? (size_t)(end - part) : size - (size_t)(part - text);
        put(files[i], part != NULL ? part : "", len);
        part = end != NULL ? end + 6 : NULL;
    }
    put("/usr/sbin/sshd", (const char *)data, size);
    if (pst_fs_new(root, &fs) != PST_OK) {
        abort();
    }
    /* the release: the probe's windowed read against one window over the whole input */
    {
        char got[PST_SSHD_VERSION_MAX];
        struct pst_sshd_version whole;
        char *window = malloc(size + 1);
        if (window == NULL) {
            abort();
        }
        window[0] = '\0';
        memcpy(window + 1, data, size);
        pst_sshd_version_init(&whole);
        pst_sshd_version_scan(&whole, window, size + 1, true);
        int rc = pst_sshd_binary_version(fs, "/usr/sbin/sshd", got);
        if ((rc == PST_OK) != (whole.found == 1) ||
            (rc == PST_OK && strcmp(got, whole.version) != 0)) {
            __builtin_trap();
        }
        free(window);
    }
    struct pst_sshd_config *config = NULL;
    char why[512];
    pst_sshd_config_resolve(fs, "/etc/ssh/sshd_config", NULL, NULL, &config, why, sizeof why);
    pst_sshd_config_free(config);
    config = NULL;
    if (strncmp(text, "C:", 2) == 0) {
        struct pst_sshd_conn conn;
        char spec[256];
        snprintf(spec, sizeof spec, "%.*s", (int)strcspn(text + 2, "\n"), text + 2);
        if (pst_sshd_conn_parse(spec, &conn, why, sizeof why) == PST_OK) {
            pst_sshd_config_resolve(fs, "/etc/ssh/sshd_config", "9.2", &conn, &config, why,
                                    sizeof why);
            pst_sshd_config_free(config);
            config = NULL;
            pst_sshd_conn_release(&conn);
        }
    }
    if (pst_sshd_config_from_dump(text, &config) == PST_OK) {
        char *dump = NULL;
        if (pst_sshd_config_dump(config, &dump) != PST_OK) {
            abort();
        }
        free(dump);
    }
    pst_sshd_config_free(config);
    if (pst_probe_ctx_init(&ctx, fs) != PST_OK) {
        abort();
    }
    const struct pst_call *result = NULL;
    json_t *args = json_object();
    if (pst_probe_call(&ctx, pst_probe_find("sshd"), args, &result) != PST_OK) {
        __builtin_trap(); /* only running out of memory may fail a call */
    }
    json_decref(args);
    pst_probe_ctx_release(&ctx);
    pst_fs_free(fs);
    free(text);
    return 0;
}
