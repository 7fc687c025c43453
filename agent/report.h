/* SPDX-License-Identifier: Apache-2.0 */
/* Report writers: the JSON report (posture.report/v1) and the text report for people. */
#ifndef PST_REPORT_H
#define PST_REPORT_H

#include "agent/scan.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define PST_REPORT_SCHEMA "posture.report/v1"

/* The members a signed report's payload carries after the report's own, in this order
 * (docs/protocol.md): the host id, the sequence number and how many reports the spool
 * dropped. */
struct pst_report_trailer {
    const char *host_id;
    uint64_t seq;           /* at most INT64_MAX */
    uint64_t spool_dropped; /* at most INT64_MAX */
};

/*
 * Writes the JSON report of SCAN (docs/report-format.md) with the json_dumps FLAGS
 * (agent/jsonw.h): JSON_INDENT(2) | JSON_REAL_PRECISION(17) for the report people and
 * programs read, JSON_COMPACT | JSON_REAL_PRECISION(17) for the signed payload, then
 * TRAILER's members when it is not NULL. The text is what json_dumps would print for the
 * same tree, straight from the scan's structs. *OUT (caller frees) holds it NUL-terminated,
 * *LEN its length. Returns PST_OK, PST_EINVAL (flags, a trailer number above INT64_MAX),
 * PST_EPARSE (a string that is not UTF-8) or PST_ENOMEM; on failure *OUT is NULL.
 */
int pst_report_json(const struct pst_scan *scan, size_t flags,
                    const struct pst_report_trailer *trailer, char **out, size_t *len);

/* Writes the text report of SCAN to OUT, with ANSI colour when COLOR. 0 or PST_EIO. */
int pst_report_text(const struct pst_scan *scan, FILE *out, bool color);

#endif
