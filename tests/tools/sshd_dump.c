/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Prints the effective sshd configuration that posture's own parser resolves, in the form
 * `sshd -T` prints it, so that tests can compare the two line for line.
 * Usage: sshd_dump [--root DIR] [--version 9.2] [-C user=...,host=...,addr=...] [--bench N] FILE
 *        sshd_dump [--root DIR] --binary-version
 * --bench N resolves the file N times and prints the median time of one resolution (bench/).
 * --binary-version prints the release DIR's /usr/sbin/sshd holds, as the probe reads it.
 * Exit 0 with the configuration on stdout, 255 with the reason on stderr when sshd would
 * refuse the configuration (as sshd -T exits 255), 2 on usage errors.
 */
#include "probes/sshd_config.h"

#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    const char *root = "/", *version = NULL, *spec = NULL, *file = NULL;
    long bench = 0;
    bool binary = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--root") == 0 && i + 1 < argc) {
            root = argv[++i];
        } else if (strcmp(argv[i], "--version") == 0 && i + 1 < argc) {
            version = argv[++i];
        } else if (strcmp(argv[i], "--bench") == 0 && i + 1 < argc) {
            bench = strtol(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--binary-version") == 0) {
            binary = true;
        } else if (strcmp(argv[i], "-C") == 0 && i + 1 < argc) {
            spec = argv[++i];
        } else if (file == NULL && argv[i][0] == '/') {
            file = argv[i];
        } else {
            fprintf(stderr, "usage: sshd_dump [--root DIR] [--version V] [-C SPEC] FILE\n");
            return 2;
        }
    }
    if (binary) {
        struct pst_fs *bfs = NULL;
        char release[PST_SSHD_VERSION_MAX];
        int rc = pst_fs_new(root, &bfs);
        rc = rc == 0 ? pst_sshd_binary_version(bfs, "/usr/sbin/sshd", release) : rc;
        pst_fs_free(bfs);
        if (rc != 0) {
            fprintf(stderr, "sshd_dump: no release read from %s/usr/sbin/sshd (%d)\n", root, rc);
            return 1;
        }
        printf("%s\n", release);
        return 0;
    }
    if (file == NULL) {
        fprintf(stderr, "usage: sshd_dump [--root DIR] [--version V] [-C SPEC] FILE\n");
        return 2;
    }
    struct pst_fs *fs = NULL;
    struct pst_sshd_conn conn;
    struct pst_sshd_config *config = NULL;
    char why[1024];
    int status = 255;
    if (pst_fs_new(root, &fs) != 0) {
        fprintf(stderr, "sshd_dump: cannot use root %s\n", root);
        return 2;
    }
    if (spec != NULL && pst_sshd_conn_parse(spec, &conn, why, sizeof why) != 0) {
        fprintf(stderr, "sshd_dump: %s\n", why);
        pst_fs_free(fs);
        return 2;
    }
    if (bench > 0) {
        long *ns = calloc((size_t)bench, sizeof *ns);
        for (long i = 0; ns != NULL && i < bench; i++) {
            struct timespec a, b;
            clock_gettime(CLOCK_MONOTONIC, &a);
            pst_sshd_config_resolve(fs, file, version, spec != NULL ? &conn : NULL, &config, why,
                                    sizeof why);
            clock_gettime(CLOCK_MONOTONIC, &b);
            pst_sshd_config_free(config);
            config = NULL;
            ns[i] = (b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec);
        }
        for (long i = 1; ns != NULL && i < bench; i++) { /* insertion sort: N is small */
            for (long j = i; j > 0 && ns[j - 1] > ns[j]; j--) {
                long t = ns[j];
                ns[j] = ns[j - 1];
                ns[j - 1] = t;
            }
        }
        if (ns != NULL) {
            printf("%.3f\n", (double)ns[bench / 2] / 1e6);
        }
        free(ns);
        status = 0;
    } else if (pst_sshd_config_resolve(fs, file, version, spec != NULL ? &conn : NULL, &config,
                                       why, sizeof why) != 0) {
        fprintf(stderr, "%s\n", why);
    } else {
        char *text = NULL;
        if (pst_sshd_config_dump(config, &text) == 0) {
            fputs(text, stdout);
            status = 0;
        }
        free(text);
        size_t i;
        json_t *n;
        json_array_foreach(config->notes, i, n) {
            fprintf(stderr, "note: %s: %s\n", json_string_value(json_object_get(n, "source")),
                    json_string_value(json_object_get(n, "message")));
        }
    }
    pst_sshd_config_free(config);
    if (spec != NULL) {
        pst_sshd_conn_release(&conn);
    }
    pst_fs_free(fs);
    return status;
}
