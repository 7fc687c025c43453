/* SPDX-License-Identifier: Apache-2.0 */
/*
 * apt's own data, read without apt: apt.conf, sources, Release files, preferences (pins),
 * and the candidate version of each installed package as apt's policy chooses it.
 * Parsers work on buffers; probe_packages.c reads the files through the fs layer.
 */
#ifndef PST_APT_H
#define PST_APT_H

#include "probes/debversion.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Bounds of hostile input. */
#define PST_APT_MAX_VERSIONS 10000 /* versions of one package across all lists */
#define PST_APT_MAX_PINS 1000      /* preference stanzas */
#define PST_APT_MAX_FILES 512      /* Packages lists */
#define PST_APT_MAX_DEPTH 64       /* nesting of apt.conf blocks */

/* ---- apt.conf --------------------------------------------------------------------------- */

/*
 * Configuration as apt resolves it from its files read in order: VALUES maps a lowercased
 * full key ("apt::periodic::unattended-upgrade") to {value, source}; LISTS maps a key to
 * the list of its unnamed items ({"value", "source"} objects). Later files override.
 */
struct pst_aptconf {
    json_t *values;
    json_t *lists;
};

int pst_aptconf_init(struct pst_aptconf *c);
void pst_aptconf_release(struct pst_aptconf *c);

/*
 * Adds the statements of apt.conf text BUF (modified) read from PATH. Errors (unbalanced
 * braces, a missing ';', too deep) are returned as PST_EPARSE with "PATH:LINE: why" in
 * ERR; statements before the error are kept, as apt keeps them. #include is not followed.
 */
int pst_aptconf_parse(struct pst_aptconf *c, char *buf, const char *path, char *err, size_t n);

/* The value of KEY (any case), or NULL; SOURCE (when not NULL) gets "file:line". */
const char *pst_aptconf_get(const struct pst_aptconf *c, const char *key, const char **source);

/* ---- sources ---------------------------------------------------------------------------- */

/*
 * Appends the "deb" entries of a one-line sources.list (DEB822 false) or a deb822 .sources
 * file (DEB822 true) to ENTRIES: objects {uri, suite, components [..], archs [..] or null,
 * source "file:line"}. Malformed entries are skipped with a message appended to ERRORS
 * (strings), as apt would refuse them. Returns 0 or PST_ENOMEM.
 */
int pst_apt_sources_parse(char *buf, const char *path, bool deb822, json_t *entries,
                          json_t *errors);

/* The file name apt gives a URI in /var/lib/apt/lists (URItoFileName); caller frees. */
char *pst_apt_uri_to_filename(const char *uri);

/* ---- Release files ---------------------------------------------------------------------- */

struct pst_apt_release {
    char origin[128], label[128], suite[128], codename[128], version[64];
    long long date; /* seconds since the epoch; 0 when the file has no Date */
    bool not_automatic, but_automatic_upgrades;
};

/*
 * Parses a Release or InRelease text (the signed body of a clearsigned file; the signature
 * is not verified: apt did that when it fetched the file). Returns 0, or PST_EPARSE when
 * no field was found, or a clearsigned message has no body.
 */
int pst_apt_release_parse(const char *buf, size_t len, struct pst_apt_release *out);

/* Parses an RFC 1123 date ("Sat, 21 Nov 2026 00:53:02 UTC"). Returns 0 or PST_EPARSE. */
int pst_apt_date_parse(const char *text, long long *out);

/* ---- preferences ------------------------------------------------------------------------ */

enum pst_apt_pin_type { PST_PIN_VERSION, PST_PIN_RELEASE, PST_PIN_ORIGIN };

struct pst_apt_pin;

/*
 * Appends the pins of preferences text BUF (modified) read from PATH to PINS (a growing
 * array owned by the caller, freed with pst_apt_pins_free). Stanzas apt ignores (no Pin,
 * priority 0, an unknown pin type) are skipped with a message in ERRORS, as apt warns.
 * Returns 0, PST_ETOOBIG (more than PST_APT_MAX_PINS) or PST_ENOMEM.
 */
int pst_apt_pins_parse(char *buf, const char *path, struct pst_apt_pin **pins, size_t *n,
                       json_t *errors);

/* Adds APT::Default-Release's pin (priority 990, before every other), as apt does. */
int pst_apt_pins_default_release(const char *release, struct pst_apt_pin **pins, size_t *n);

void pst_apt_pins_free(struct pst_apt_pin *pins, size_t n);

/* ---- candidates ------------------------------------------------------------------------- */

/* One Packages list in use: where it comes from, what its Release file says. */
struct pst_apt_list {
    char path[512];
    char site[256]; /* host part of the URI, for "Pin: origin" */
    char component[64];
    char arch[32];
    struct pst_apt_release release;
    bool has_release;
    bool security; /* a security suite: Suite or Codename ends in -security, or the
                      label is Debian-Security */
    int priority;  /* filled by pst_apt_db_resolve */
};

struct pst_apt_db;

/* A database of installed packages for native architecture NATIVE. Caller frees. */
int pst_apt_db_new(const char *native, struct pst_apt_db **out);
void pst_apt_db_free(struct pst_apt_db *db);

/* Records an installed package (its files are on disk); ARCH "all" counts as native. */
int pst_apt_db_add_installed(struct pst_apt_db *db, const char *name, const char *arch,
                             const char *version, const char *status, long line);

/*
 * Records that list LIST offers VERSION of NAME:ARCH. Ignored unless that package is
 * installed. PHASED is the Phased-Update-Percentage (100 when absent). Returns 0,
 * PST_EPARSE (a version dpkg rejects: ignored), PST_ETOOBIG (too many versions) or
 * PST_ENOMEM.
 */
int pst_apt_db_add_available(struct pst_apt_db *db, const char *name, const char *arch,
                             const char *version, size_t list, int phased);

/* True when NAME:ARCH is installed (ARCH "all" = native). */
bool pst_apt_db_has(const struct pst_apt_db *db, const char *name, const char *arch);

/* What the policy decided for one installed package. */
struct pst_apt_result {
    const char *name, *arch, *installed, *candidate; /* candidate == installed: no update */
    const char *status;
    long line; /* of the package's stanza in dpkg's status */
    bool upgradable, security;
    int phased;  /* the candidate's Phased-Update-Percentage */
    size_t list; /* index of the best list offering the candidate (if any) */
    bool from_list;
    long long oldest_date; /* oldest Release Date among the candidate's lists (0: none) */
    int priority;          /* the candidate's pin priority */
};

/*
 * Applies apt's policy: list priorities (500, 1 for NotAutomatic, 100 with
 * ButAutomaticUpgrades, generic pins, APT::Default-Release 990), package pins, and the
 * candidate rule (highest priority, then highest version; the installed version at 100 and
 * no downgrade below 1000). Calls VISIT for every installed package in name order.
 * Returns 0, PST_ENOMEM, or the first non-zero VISIT return.
 */
int pst_apt_db_resolve(struct pst_apt_db *db, struct pst_apt_list *lists, size_t n_lists,
                       const struct pst_apt_pin *pins, size_t n_pins,
                       int (*visit)(const struct pst_apt_result *r, void *arg), void *arg);

/* Installed packages recorded. */
size_t pst_apt_db_count(const struct pst_apt_db *db);

#endif
