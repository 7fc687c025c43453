/* SPDX-License-Identifier: Apache-2.0 */
/* Drop-in configuration directories (sysctl.d, modprobe.d, unit.d) merged as systemd and kmod do.
 */
#ifndef PST_CONFDIRS_H
#define PST_CONFDIRS_H

#include "probes/fs.h"

#include <jansson.h>
#include <stddef.h>

/*
 * Lists the configuration files of DIRS (N_DIRS absolute directories inside the root,
 * highest precedence first) whose names end in one of SUFFIXES (NULL-terminated): a name
 * found in an earlier directory shadows the same name in later ones (a symlink to /dev/null
 * or an empty file so masks it), hidden names and directories are skipped, and the result
 * is ordered by file name, as systemd's conf_files_list() and kmod order them. A directory
 * that does not exist is skipped. *files is a JSON array of full paths owned by the caller.
 * Returns 0, or a PST_E* code with the directory that could not be listed in WHY[N].
 */
int pst_confdirs_list(struct pst_fs *fs, const char *const *dirs, size_t n_dirs,
                      const char *const *suffixes, json_t **files, char *why, size_t n);

/*
 * Reads the files pst_confdirs_list() lists, in its order, and hands each one's text to
 * PARSE(STATE, text, path), which may modify the text; PARSE returns 0 to go on, anything
 * else to stop (PST_ENOMEM is passed up). A dangling symlink is skipped, and so is a link to
 * /dev/null (the name is masked, it sets nothing). A directory that cannot be listed or a
 * file that cannot be read stops the reading with the reason in *error (caller frees).
 * Returns 0 or PST_ENOMEM.
 */
int pst_confdirs_read(struct pst_fs *fs, const char *const *dirs, size_t n_dirs,
                      const char *const *suffixes,
                      int (*parse)(void *state, char *text, const char *path), void *state,
                      char **error);

#endif
