/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the policy loader (YAML parsing, strict validation, check trees). */
#include "agent/error.h"
#include "config/policy.h"

#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pst_policy_set *set = NULL;
    struct pst_diag diag = {0};
    char path[64];
    const char *p = path;
    int fd = memfd_create("policy.yaml", MFD_CLOEXEC);

    if (fd < 0 || write(fd, data, size) != (ssize_t)size) {
        if (fd >= 0) {
            close(fd);
        }
        return 0;
    }
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    if (pst_policy_load(&p, 1, NULL, &set, &diag) == PST_OK) {
        /* a policy that loads must be complete */
        for (size_t i = 0; i < set->n_recommendations; i++) {
            if (set->recommendations[i]->check == NULL ||
                set->recommendations[i]->control == NULL) {
                __builtin_trap();
            }
        }
    }
    pst_policy_set_free(set);
    pst_diag_release(&diag);
    close(fd);
    return 0;
}
