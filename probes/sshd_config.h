/* SPDX-License-Identifier: Apache-2.0 */
/* The effective sshd configuration: OpenSSH's own parsing rules, and `sshd -T` output. */
#ifndef PST_SSHD_CONFIG_H
#define PST_SSHD_CONFIG_H

#include "probes/fs.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Nesting of Include directives sshd accepts (servconf.c SERVCONF_MAX_DEPTH). */
#define PST_SSHD_MAX_DEPTH 16
/* Bounds of one parse: bytes of one file, files read in all, lines of `sshd -T` output. */
#define PST_SSHD_FILE_MAX (4u << 20)
#define PST_SSHD_FILES_MAX 1024
#define PST_SSHD_BYTES_MAX (32u << 20)

/* How `sshd -T` prints a keyword, and so the JSON type a probe field gives it. */
enum pst_sshd_shape {
    PST_SSHD_TEXT,  /* one line, one value: "permitrootlogin no" */
    PST_SSHD_INT,   /* one line, a decimal integer: "maxauthtries 6" */
    PST_SSHD_COMMA, /* one line, a comma-separated list: "ciphers a,b,c" */
    PST_SSHD_WORDS, /* one line, a space-separated list: "authorizedkeysfile a b" */
    PST_SSHD_LINES, /* one line per value, the keyword repeated: "port 22", "port 2222" */
};

/* One keyword `sshd -T` prints. */
struct pst_sshd_keyword {
    const char *name; /* lowercase, as printed */
    enum pst_sshd_shape shape;
    int since, until; /* the versions that print it (902 = 9.2); 0: no bound */
    const char *description;
};

/* Every keyword a supported OpenSSH version prints, in `sshd -T` order (of the newest). */
extern const struct pst_sshd_keyword pst_sshd_keywords[];
extern const size_t pst_sshd_keywords_count;

/* The connection a Match block is evaluated for: sshd's `-C` test specification. */
struct pst_sshd_conn {
    char *user, *host, *addr, *laddr, *rdomain;
    int lport;         /* 0: not given */
    bool invalid_user; /* "invalid-user" (OpenSSH 10): the user does not exist */
};

/*
 * Parses SPEC ("user=alice,host=h.example,addr=192.0.2.1,laddr=...,lport=22,rdomain=...",
 * and "invalid-user" for OpenSSH 10)
 * into CONN (owned by the caller, released with pst_sshd_conn_release). Returns 0, or
 * PST_EINVAL with the reason in WHY[N].
 */
int pst_sshd_conn_parse(const char *spec, struct pst_sshd_conn *conn, char *why, size_t n);
void pst_sshd_conn_release(struct pst_sshd_conn *conn);

/* One line of the effective configuration and where its value came from. */
struct pst_sshd_setting {
    const struct pst_sshd_keyword *keyword;
    const char *name; /* as this version prints it (8.4: pubkeyacceptedkeytypes...) */
    char *value;
    char *file; /* NULL: a compiled-in default (or `sshd -T`, which does not say) */
    long line;
};

/* An effective configuration: settings in `sshd -T` order, and what parsing noticed. */
struct pst_sshd_config {
    struct pst_sshd_setting *settings;
    size_t n, cap;
    char *version; /* the OpenSSH version whose compiled-in defaults were used, "9.2" */
    json_t *notes; /* [{"source": "FILE:LINE", "message": ...}]: deprecated keywords... */
    json_t *files; /* paths of the configuration files read, in order (parser only) */
    /* what each Match block sets, whatever the connection (parser only; sshd -T cannot say):
     * [{"match": "User alice", "source": "FILE:LINE", "keyword": ..., "value": ...}] */
    json_t *match_settings;
};

void pst_sshd_config_free(struct pst_sshd_config *config);

/*
 * Resolves the effective configuration of the sshd_config file PATH (absolute, inside FS's
 * root) as OpenSSH VERSION would ("9.2", "9.2p1", or the release sshd -V prints, such as
 * "OpenSSH_10.0p2 Debian-7+deb13u4", which Match Version compares with; a version without a
 * table of its own uses the nearest older table, noted; NULL: the newest table) for
 * `sshd -T` with connection CONN (NULL: no -C, as sshd applies the global section and
 * `Match all` blocks). On success returns 0 and *out (caller frees). A configuration sshd
 * would refuse returns PST_EPARSE with "FILE:LINE: reason" in WHY[N]; an unreadable file
 * PST_EACCES/PST_EIO/PST_ETOOBIG... with the reason in WHY.
 */
int pst_sshd_config_resolve(struct pst_fs *fs, const char *path, const char *version,
                            const struct pst_sshd_conn *conn, struct pst_sshd_config **out,
                            char *why, size_t n);

/*
 * Reads the output of `sshd -T` (TEXT) into *out (caller frees). Keywords it does not know
 * are noted, not fatal. Returns 0, PST_EPARSE (not `sshd -T` output) or PST_ENOMEM.
 */
int pst_sshd_config_from_dump(const char *text, struct pst_sshd_config **out);

/* The values of keyword NAME in CONFIG, in order; NULL when it has none. */
const struct pst_sshd_setting *pst_sshd_config_find(const struct pst_sshd_config *config,
                                                    const char *name, size_t *count);

/* Writes CONFIG as `sshd -T` prints it into *text (caller frees). 0 or PST_ENOMEM. */
int pst_sshd_config_dump(const struct pst_sshd_config *config, char **text);

/* The OpenSSH versions with a table of compiled-in defaults, newest last, NULL-terminated. */
extern const char *const pst_sshd_versions[];

/* ---- the release of an sshd binary (probes/sshd_version.c) ---- */

#define PST_SSHD_VERSION_MAX 16

/* What a scan of a binary's bytes found: one release ("9.2"), none yet, or several. */
struct pst_sshd_version {
    char version[PST_SSHD_VERSION_MAX];
    int found; /* 0: none yet; 1: one release; -1: releases that disagree */
};

void pst_sshd_version_init(struct pst_sshd_version *v);

/*
 * Scans a window of the binary: BUF[0] is the byte before the window (a NUL at the file's
 * start), BUF[1..LEN) its bytes; LAST says the file ends with it. Returns the index from
 * which the caller keeps the window's bytes for the next one (placing them at BUF[0]), so
 * that a string cut by the window's end is read whole next time.
 */
size_t pst_sshd_version_scan(struct pst_sshd_version *v, const char *buf, size_t len, bool last);

/*
 * The release ("9.2") of the sshd binary PATH in FS, as `sshd -V` would name it, from the
 * strings the binary holds. Returns 0; PST_EPARSE when it holds no release, or releases
 * that disagree (ask sshd -V then); or the error reading it.
 */
int pst_sshd_binary_version(struct pst_fs *fs, const char *path,
                            char version[PST_SSHD_VERSION_MAX]);

#endif
