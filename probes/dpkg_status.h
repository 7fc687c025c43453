/* SPDX-License-Identifier: Apache-2.0 */
/* dpkg's status database, parsed once per scan and shared by the package probes. */
#ifndef PST_DPKG_STATUS_H
#define PST_DPKG_STATUS_H

#include "probes/probe.h"

#define DPKG_STATUS "/var/lib/dpkg/status"

/*
 * dpkg's status file as an object {"NAME:ARCH" -> entry, "NAME" -> the installed instance
 * or the first stanza}, entry {status, version, architecture, line}, parsed once per scan
 * into CTX's memo (borrowed). NULL when it cannot be read: *rc says why (PST_ENOMEM, or
 * the read error, whose text the memo keeps under DPKG_STATUS).
 */
const json_t *pst_dpkg_status_index(struct pst_probe_ctx *ctx, struct pst_facts *out, int *rc);

#endif
