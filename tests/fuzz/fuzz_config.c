/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the agent configuration loader (exemptions, dates, parameters). */
#include "agent/error.h"
#include "config/config.h"

#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pst_config *config = NULL;
    struct pst_diag diag = {0};
    char path[64];
    int fd = memfd_create("posture.yaml", MFD_CLOEXEC);

    if (fd < 0 || write(fd, data, size) != (ssize_t)size) {
        if (fd >= 0) {
            close(fd);
        }
        return 0;
    }
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    if (pst_config_load(path, &config, &diag) == PST_OK && config->n_exemptions > 0 &&
        config->exemptions[0].recommendation == NULL) {
        __builtin_trap();
    }
    pst_config_free(config);
    pst_diag_release(&diag);
    close(fd);
    return 0;
}
