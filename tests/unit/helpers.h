/* SPDX-License-Identifier: Apache-2.0 */
/* Test helpers: temporary fixture roots and policy files, built and removed per test. */
#ifndef PST_TEST_HELPERS_H
#define PST_TEST_HELPERS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <sys/types.h>

/* Creates an empty temporary directory; returns its malloc'd path. */
char *tmproot_new(void);
/* Writes CONTENT to ROOT/PATH (parents created) with MODE. */
void tmproot_write(const char *root, const char *path, const char *content, mode_t mode);
/* Writes LEN bytes. */
void tmproot_write_bytes(const char *root, const char *path, const void *data, size_t len,
                         mode_t mode);
void tmproot_mkdir(const char *root, const char *path, mode_t mode);
void tmproot_symlink(const char *root, const char *path, const char *target);
void tmproot_chown(const char *root, const char *path, uid_t uid, gid_t gid);
/* Removes ROOT recursively and frees the string. */
void tmproot_free(char *root);

#include <jansson.h>

#include "config/diag.h"

/*
 * Asserts that D holds exactly the N messages of WANT, each expected as FILE followed by
 * the item (":LINE:COLUMN: message"); a "FILE" inside an item stands for FILE too.
 */
void expect_diag(const struct pst_diag *d, const char *file, const char *const *want, size_t n);

/*
 * Runs probe NAME on ROOT with ARGS (JSON object text) and returns a copy of its result
 * {"probe", "args", "facts", "errors"} (caller json_decref's it).
 */
json_t *probe_run(const char *root, const char *name, const char *args);

/* The value of FIELD in a probe result (borrowed), or NULL when absent. */
const json_t *fact_value(const json_t *result, const char *field);
/* The source of FIELD in a probe result, or NULL. */
const char *fact_source(const json_t *result, const char *field);

/* Asserts that VALUE equals the JSON value written in TEXT (a fact is NULL: fails). */
void expect_json(const json_t *value, const char *text);
/* The messages of a probe result's errors, joined with "; " (static buffer). */
const char *probe_errors(const json_t *result);

/* A payload writer (transport/identity.h's pst_payload_writer) for a report held as a tree
 * (ARG): its members, then the trailer, streamed as the agent streams its report. */
int pst_test_tree_payload(void *arg, const char *host_id, uint64_t seq, uint64_t dropped,
                          char **text, size_t *len);

#endif
