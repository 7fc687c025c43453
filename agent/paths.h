/* SPDX-License-Identifier: Apache-2.0 */
/* Where posture's own files are: the build tree's when it runs from there, else installed. */
#ifndef PST_PATHS_H
#define PST_PATHS_H

/* The default policy directory. */
const char *pst_paths_policy_dir(void);

/* The absolute path of the delivery module (transport/http_module.h). */
const char *pst_paths_http_module(void);

#endif
