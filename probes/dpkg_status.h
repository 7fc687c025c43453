/* SPDX-License-Identifier: Apache-2.0 */
/* dpkg's status database, parsed once per scan and shared by the package probes. */
#ifndef PST_DPKG_STATUS_H
#define PST_DPKG_STATUS_H

#include "probes/probe.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DPKG_STATUS "/var/lib/dpkg/status"
/* Largest status file read: a host with every package of Debian has about 70 MB. */
#define PST_DPKG_STATUS_LIMIT (128u * 1024u * 1024u)

/*
 * One stanza of the status file that names a package. The strings are the index's copies of
 * the values, with the bytes as dpkg wrote them (UTF-8 or not: pass them through
 * pst_json_text or pst_dpkg_text before they become facts).
 */
struct pst_dpkg_pkg {
    const char *name;    /* the Package field */
    const char *status;  /* the Status field; "" when the stanza has none */
    const char *version; /* the Version field; NULL when none */
    const char *arch;    /* the Architecture field; NULL when none */
    long line;           /* line of the Package field, from 1 */
    uint32_t name_len;
    uint32_t arch_len; /* 0 when arch is NULL */
};

/*
 * The index: every stanza of the file, and a hash table of keys "NAME:ARCH" (cut to 511
 * bytes) -> the last stanza of that name and architecture, and "NAME" -> the first stanza
 * of the name in a state other than config-files and not-installed (an instance of a
 * multi-arch package whose files are there, as dpkg-query picks one), else the last one.
 */
struct pst_dpkg_status;

/*
 * Indexes BUF[LEN], a status file's text with a NUL at BUF[LEN] and none before (as
 * pst_fs_read gives it); BUF is taken: written to while it is parsed, then freed (also on
 * failure). Returns 0 with *out, PST_ETOOBIG (4 GB or more), or PST_ENOMEM.
 */
int pst_dpkg_status_new(char *buf, size_t len, struct pst_dpkg_status **out);
void pst_dpkg_status_free(struct pst_dpkg_status *st);

/* The stanza KEY ("NAME" or "NAME:ARCH", exactly as above) resolves to, or NULL. */
const struct pst_dpkg_pkg *pst_dpkg_status_find(const struct pst_dpkg_status *st, const char *key);

/* One key of the index, as pst_dpkg_status_next gives it. */
struct pst_dpkg_entry {
    const char *name; /* the key up to its first colon (not NUL-terminated there) */
    size_t name_len;
    const struct pst_dpkg_pkg *pkg; /* the stanza the key resolves to */
};

/*
 * Iterates over the keys with a colon, in the order they were first made: each "NAME:ARCH"
 * once (a name with a colon of its own, which dpkg never writes, shows up as its own key
 * too). *pos starts at 0. Returns false at the end.
 */
bool pst_dpkg_status_next(const struct pst_dpkg_status *st, size_t *pos,
                          struct pst_dpkg_entry *entry);

/* How many stanzas name a package. */
size_t pst_dpkg_status_count(const struct pst_dpkg_status *st);

/*
 * The index of the scanned root's status file, read (bounded by PST_DPKG_STATUS_LIMIT) and
 * parsed on first use and kept in CTX (borrowed). When it cannot be read, returns NULL and
 * records the reason in OUT's errors, at each call (the failure is remembered, the file not
 * read again); *rc is then 0, or PST_ENOMEM when out of memory (nothing recorded).
 */
const struct pst_dpkg_status *pst_dpkg_status_index(struct pst_probe_ctx *ctx,
                                                    struct pst_facts *out, int *rc);

/*
 * RAW (a value of the index) as pst_json_text makes it: RAW itself when it is UTF-8, else a
 * copy in *copy with every byte from 0x80 made '?' (the caller frees *copy; NULL when RAW
 * is used as is). NULL when RAW is NULL or out of memory.
 */
const char *pst_dpkg_text(const char *raw, char **copy);

#endif
