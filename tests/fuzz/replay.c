/* SPDX-License-Identifier: Apache-2.0 */
/* Runs a fuzz target over files and directories of inputs, without libFuzzer (ctest uses it). */
#include "agent/error.h"
#include "probes/fs.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    char *buf = NULL;
    size_t len = 0;
    int rc = pst_file_read(path, 64u * 1024u * 1024u, false, &buf, &len);

    if (rc != PST_OK) {
        fprintf(stderr, "%s: %s\n", path, pst_strerror(rc));
        return 1;
    }
    LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
    free(buf);
    return 0;
}

int main(int argc, char **argv)
{
    int failed = 0, count = 0;

    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            return 1;
        }
        if (!S_ISDIR(st.st_mode)) {
            failed |= run_file(argv[i]);
            count++;
            continue;
        }
        DIR *d = opendir(argv[i]);
        struct dirent *de;
        while (d != NULL && (de = readdir(d)) != NULL) {
            char path[4096];
            if (de->d_name[0] == '.') {
                continue;
            }
            snprintf(path, sizeof(path), "%s/%s", argv[i], de->d_name);
            failed |= run_file(path);
            count++;
        }
        if (d != NULL) {
            closedir(d);
        }
    }
    printf("%d inputs replayed\n", count);
    return failed || count == 0;
}
