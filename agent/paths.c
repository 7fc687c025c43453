/* SPDX-License-Identifier: Apache-2.0 */
/* Where posture's own files are: the build tree's when it runs from there, else installed. */
#include "agent/paths.h"

#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

/*
 * True when this process's executable lies under the build directory it was built in, so a
 * build can be run and tested in place without being installed. The paths are fixed at build
 * time: nothing from the environment chooses which files a root process loads.
 */
static bool in_build_tree(void)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

    if (n <= 0) {
        return false;
    }
    self[n] = '\0';
    return strncmp(self, POSTURE_BUILD_DIR "/", strlen(POSTURE_BUILD_DIR) + 1) == 0;
}

const char *pst_paths_policy_dir(void)
{
    return in_build_tree() ? POSTURE_SOURCE_POLICIES : POSTURE_INSTALLED_POLICIES;
}

const char *pst_paths_http_module(void)
{
    return in_build_tree() ? POSTURE_BUILD_DIR "/posture-http.so" : POSTURE_INSTALLED_MODULE;
}
