/* SPDX-License-Identifier: Apache-2.0 */
/* Loads a configuration and a policy once, or the configuration alone, for bench/policy_load.sh. */
#include "agent/error.h"
#include "config/config.h"
#include "config/policy.h"

#include <stdio.h>
#include <string.h>

/*
 * policy_load CONFIG POLICY [--skip]: with --skip, everything but the policy load (start-up,
 * the configuration), so that the difference of two runs is the load. Exit 0 on success.
 */
int main(int argc, char **argv)
{
    struct pst_config *config = NULL;
    struct pst_policy_set *set = NULL;
    struct pst_diag diag = {0};
    const char *path;
    int rc;

    if (argc < 3 || (argc == 4 && strcmp(argv[3], "--skip") != 0) || argc > 4) {
        fprintf(stderr, "usage: policy_load CONFIG POLICY [--skip]\n");
        return 2;
    }
    path = argv[2];
    rc = pst_config_load(argv[1], &config, &diag);
    if (rc == PST_OK && argc == 3) {
        rc = pst_policy_load(&path, 1, config, &set, &diag);
    }
    pst_diag_print(&diag, stderr);
    pst_policy_set_free(set);
    pst_config_free(config);
    pst_diag_release(&diag);
    return rc == PST_OK ? 0 : 1;
}
