/* SPDX-License-Identifier: Apache-2.0 */
/* Report writers: the JSON report (posture.report/v1) and the text report for people. */
#ifndef PST_REPORT_H
#define PST_REPORT_H

#include "agent/scan.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#define PST_REPORT_SCHEMA "posture.report/v1"

/* Builds the JSON report of SCAN. Returns a new reference, or NULL when out of memory. */
json_t *pst_report_json(const struct pst_scan *scan);

/* Writes the text report of SCAN to OUT, with ANSI colour when COLOR. 0 or PST_EIO. */
int pst_report_text(const struct pst_scan *scan, FILE *out, bool color);

#endif
