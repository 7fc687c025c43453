/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Probe "packages": pending updates and security updates of the installed packages, from
 * dpkg's status and the lists apt keeps (never by running apt), with apt's candidate policy;
 * held and broken packages; the age of the lists; unattended-upgrades' settings.
 */
#include "probes/probe.h"

#include "agent/error.h"
#include "probes/apt.h"
#include "probes/dpkg_status.h"
#include "probes/text.h"
#include "probes/zread.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LISTS_DIR "/var/lib/apt/lists"
#define LIST_LIMIT ((size_t)4 << 30)        /* decompressed bytes of one Packages list */
#define RELEASE_LIMIT (16u * 1024u * 1024u) /* a Release file */
#define CONF_LIMIT (1024u * 1024u)          /* one apt.conf, sources or preferences file */
#define CONF_FILES_MAX 1000                 /* files in one .d directory */

static const struct pst_probe_arg packages_args[] = {
    {.name = "max_findings",
     .type = PST_TYPE_INT,
     .default_value = "20",
     .description = "findings kept as evidence per field; the counts count them all"},
};

static const struct pst_probe_field packages_fields[] = {
    {"installed_count", PST_TYPE_INT, "installed packages (their files are on the system)"},
    {"upgradable", PST_TYPE_FINDINGS,
     "installed packages whose candidate version is newer {name, arch, installed, candidate, "
     "origin, suite, security; held, phased when so}"},
    {"upgradable_count", PST_TYPE_INT, "how many"},
    {"security_upgradable", PST_TYPE_FINDINGS,
     "upgradable packages whose candidate comes from a security suite (same objects)"},
    {"security_upgradable_count", PST_TYPE_INT, "how many"},
    {"upgradable_oldest_days", PST_TYPE_INT,
     "days the oldest pending update has been published at least (from the Release dates of "
     "the lists offering it); 0 when nothing is pending"},
    {"held", PST_TYPE_FINDINGS, "packages on hold {name, arch, version}"},
    {"held_count", PST_TYPE_INT, "how many"},
    {"broken", PST_TYPE_FINDINGS,
     "packages half-installed, unpacked, half-configured, awaiting triggers or needing "
     "reinstallation {name, arch, version, state}"},
    {"broken_count", PST_TYPE_INT, "how many"},
    {"lists_missing", PST_TYPE_BOOL,
     "no package list is in use: no source is configured, or none of their lists is on the "
     "system (apt update never ran, or the lists were removed)"},
    {"lists_count", PST_TYPE_INT, "package lists in use"},
    {"security_lists_count", PST_TYPE_INT, "package lists of a security suite in use"},
    {"missing_lists", PST_TYPE_FINDINGS,
     "package lists the sources name that are not on the system {list, source}"},
    {"missing_lists_count", PST_TYPE_INT, "how many"},
    {"list_age_days", PST_TYPE_INT,
     "days since the newest list in use was published (its Release Date); null without lists"},
    {"lists", PST_TYPE_FINDINGS,
     "the package lists in use {list, origin, suite, codename, date, priority, security}"},
    {"default_release", PST_TYPE_STRING, "APT::Default-Release, or null"},
    {"unattended_upgrades_installed", PST_TYPE_BOOL,
     "the unattended-upgrades package is installed"},
    {"unattended_upgrades_enabled", PST_TYPE_BOOL,
     "installed, and APT::Periodic::Update-Package-Lists and ::Unattended-Upgrade are set and "
     "not 0 (nor APT::Periodic::Enable 0)"},
    {"unattended_upgrades_origins", PST_TYPE_LIST,
     "Unattended-Upgrade::Origins-Pattern and ::Allowed-Origins entries"},
    {"unattended_upgrades_security", PST_TYPE_BOOL,
     "enabled, and an allowed origin names a security suite"},
    {"update_package_lists", PST_TYPE_STRING, "APT::Periodic::Update-Package-Lists, or null"},
    {"unattended_upgrade", PST_TYPE_STRING, "APT::Periodic::Unattended-Upgrade, or null"},
};

/* Everything one collect call builds. */
struct scan {
    struct pst_probe_ctx *ctx;
    struct pst_facts *out;
    long max_findings;
    char native[32];
    json_t *archs;   /* accepted architectures (strings) */
    json_t *sources; /* entries of sources.list and sources.list.d */
    struct pst_aptconf conf;
    struct pst_apt_pin *pins;
    size_t n_pins;
    struct pst_apt_list *lists;
    size_t n_lists;
    json_t *missing; /* findings */
    size_t n_missing;
    struct pst_apt_db *db;
    json_t *upgradable, *security, *held, *broken;
    long n_upgradable, n_security, n_held, n_broken;
    long long now, oldest;
};

/* apt's rule for files in a .d directory: [A-Za-z0-9_.-], and no extension or EXT. */
static bool part_name_ok(const char *name, const char *ext, bool no_ext_ok)
{
    const char *dot = strrchr(name, '.');

    if (name[0] == '.' || strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                       "0123456789_.-") != strlen(name)) {
        return false;
    }
    if (dot == NULL) {
        return no_ext_ok;
    }
    /* EXT may name several extensions: "list,sources" */
    for (const char *e = ext; *e != '\0'; e += strcspn(e, ",") + (e[strcspn(e, ",")] == ',')) {
        size_t n = strcspn(e, ",");
        if (strlen(dot + 1) == n && strncmp(dot + 1, e, n) == 0) {
            return true;
        }
    }
    return false;
}

/*
 * Reads every file of DIR accepted by part_name_ok, in name order, then FILE (may be NULL);
 * calls FN on each text. A missing file or directory is no error.
 */
static int read_parts(struct scan *s, const char *file_first, const char *dir, const char *ext,
                      bool no_ext_ok, const char *file_last,
                      int (*fn)(struct scan *s, char *buf, const char *path))
{
    json_t *names = NULL;
    size_t i;
    json_t *name;
    int rc = PST_OK;
    const char *singles[2] = {file_first, file_last};

    for (int pass = 0; pass < 3 && rc != PST_ENOMEM; pass++) {
        if (pass == 1) {
            rc = pst_fs_list(s->ctx->fs, dir, &names);
            if (rc == PST_ENOENT) {
                rc = PST_OK;
                continue;
            }
            if (rc != PST_OK) {
                pst_facts_error(s->out, dir, "list %s: %s", dir, pst_strerror(rc));
                rc = rc == PST_ENOMEM ? rc : PST_OK;
                continue;
            }
            if (json_array_size(names) > CONF_FILES_MAX) {
                pst_facts_error(s->out, dir, "%s holds more than %d files", dir, CONF_FILES_MAX);
                continue;
            }
            json_array_foreach(names, i, name)
            {
                char path[4096];
                char *buf = NULL;
                size_t len;
                const char *n = json_string_value(name);
                if (n == NULL || !part_name_ok(n, ext, no_ext_ok)) {
                    continue;
                }
                snprintf(path, sizeof(path), "%s/%s", dir, n);
                rc = pst_fs_read(s->ctx->fs, path, CONF_LIMIT, true, &buf, &len);
                if (rc == PST_OK) {
                    rc = fn(s, buf, path);
                } else if (rc != PST_ENOMEM && rc != PST_ETYPE) {
                    pst_facts_error(s->out, path, "read %s: %s", path, pst_strerror(rc));
                    rc = PST_OK;
                } else if (rc == PST_ETYPE) {
                    rc = PST_OK; /* a directory or a device in a parts directory: apt skips it */
                }
                free(buf);
                if (rc == PST_ENOMEM) {
                    break;
                }
            }
            continue;
        }
        const char *single = singles[pass / 2];
        if (single == NULL) {
            continue;
        }
        char *buf = NULL;
        size_t len;
        rc = pst_fs_read(s->ctx->fs, single, CONF_LIMIT, true, &buf, &len);
        if (rc == PST_OK) {
            rc = fn(s, buf, single);
        } else if (rc == PST_ENOENT) {
            rc = PST_OK;
        } else if (rc != PST_ENOMEM) {
            pst_facts_error(s->out, single, "read %s: %s", single, pst_strerror(rc));
            rc = PST_OK;
        }
        free(buf);
    }
    json_decref(names);
    return rc;
}

static int conf_file(struct scan *s, char *buf, const char *path)
{
    char err[700];
    int rc = pst_aptconf_parse(&s->conf, buf, path, err, sizeof(err));

    if (rc == PST_EPARSE) {
        pst_facts_error(s->out, path, "%s", err);
        return PST_OK;
    }
    return rc;
}

static int prefs_file(struct scan *s, char *buf, const char *path)
{
    json_t *errors = pst_facts_errors(s->out);
    int rc =
        errors != NULL ? pst_apt_pins_parse(buf, path, &s->pins, &s->n_pins, errors) : PST_ENOMEM;

    if (rc == PST_ETOOBIG) {
        pst_facts_error(s->out, path, "more than %d preference records", PST_APT_MAX_PINS);
        return PST_OK;
    }
    return rc;
}

static int sources_file(struct scan *s, char *buf, const char *path)
{
    size_t n = strlen(path);
    bool deb822 = n > 8 && strcmp(path + n - 8, ".sources") == 0;
    json_t *errors = json_array();
    size_t i;
    json_t *e;
    int rc;

    if (errors == NULL) {
        return PST_ENOMEM;
    }
    rc = pst_apt_sources_parse(buf, path, deb822, s->sources, errors);
    json_array_foreach(errors, i, e)
    {
        pst_facts_error(s->out, path, "%s", json_string_value(e));
    }
    json_decref(errors);
    return rc;
}

/* The host of a URI ("deb.debian.org"), for "Pin: origin". */
static void uri_site(const char *uri, char *site, size_t n)
{
    const char *p = strstr(uri, "://");
    const char *at;
    size_t len;

    if (p == NULL) {
        site[0] = '\0';
        return;
    }
    p += 3;
    len = strcspn(p, "/");
    at = memchr(p, '@', len);
    if (at != NULL) {
        len -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    snprintf(site, n, "%.*s", (int)len, p);
}

/* Finds LISTS_DIR/BASE with any compression apt may keep; NAME gets the file's name. */
static bool find_list(struct scan *s, const char *base, char *path, size_t n)
{
    static const char *const exts[] = {"", ".lz4", ".gz", ".xz", ".zst"};
    struct stat st;

    for (size_t i = 0; i < PST_COUNT(exts); i++) {
        snprintf(path, n, "%s/%s%s", LISTS_DIR, base, exts[i]);
        if (pst_fs_stat(s->ctx->fs, path, true, &st) == PST_OK && S_ISREG(st.st_mode)) {
            return true;
        }
    }
    return false;
}

static int add_missing(struct scan *s, const char *base, const char *source)
{
    s->n_missing++;
    if ((long)json_array_size(s->missing) >= s->max_findings) {
        return PST_OK;
    }
    return json_array_append_new(s->missing, json_pack("{s:o, s:s}", "list", pst_json_text(base),
                                                       "source", source)) == 0
               ? PST_OK
               : PST_ENOMEM;
}

/* Reads the Release file of a suite into L (InRelease first, as apt prefers it). */
static void read_release(struct scan *s, const char *release_base, struct pst_apt_list *l)
{
    static const char *const names[] = {"InRelease", "Release"};

    for (size_t i = 0; i < PST_COUNT(names); i++) {
        char path[1024];
        char *buf = NULL;
        size_t len;
        struct stat st;
        int rc;
        snprintf(path, sizeof(path), "%s/%s%s", LISTS_DIR, release_base, names[i]);
        rc = pst_fs_read(s->ctx->fs, path, RELEASE_LIMIT, true, &buf, &len);
        if (rc == PST_ENOENT) {
            continue;
        }
        if (rc == PST_OK && pst_apt_release_parse(buf, len, &l->release) == PST_OK) {
            l->has_release = true;
            if (l->release.date == 0 && pst_fs_stat(s->ctx->fs, path, true, &st) == PST_OK) {
                l->release.date = (long long)st.st_mtime; /* no Date: when it was fetched */
            }
        } else {
            pst_facts_error(s->out, path, "read %s: %s", path,
                            rc == PST_OK ? "no Release fields" : pst_strerror(rc));
        }
        free(buf);
        return;
    }
    pst_facts_error(s->out, LISTS_DIR,
                    "no Release file for %s: its lists are used without origin or suite, as "
                    "apt does for a source it trusts without one",
                    release_base);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* The lists every "deb" entry names, found in LISTS_DIR (missing ones recorded). */
static int plan_lists(struct scan *s)
{
    size_t i;
    json_t *e;

    json_array_foreach(s->sources, i, e)
    {
        const char *uri = json_string_value(json_object_get(e, "uri"));
        const char *suite = json_string_value(json_object_get(e, "suite"));
        const char *source = json_string_value(json_object_get(e, "source"));
        const json_t *comps = json_object_get(e, "components");
        const json_t *archs = json_object_get(e, "archs");
        bool flat = ends_with(suite, "/");
        char prefix[2048];
        char *release_base = NULL;
        struct pst_apt_release release;
        bool release_read = false;
        size_t n_comps = flat ? 1 : json_array_size(comps);

        if (!json_is_array(archs)) {
            archs = s->archs;
        }
        if (flat) {
            bool dot = strcmp(suite, "/") == 0 || strcmp(suite, "./") == 0;
            snprintf(prefix, sizeof(prefix), "%s%s%s", uri, ends_with(uri, "/") ? "" : "/",
                     dot ? "" : suite);
        } else {
            snprintf(prefix, sizeof(prefix), "%s%sdists/%s/", uri, ends_with(uri, "/") ? "" : "/",
                     suite);
        }
        release_base = pst_apt_uri_to_filename(prefix);
        if (release_base == NULL) {
            return PST_ENOMEM;
        }
        memset(&release, 0, sizeof(release));
        for (size_t c = 0; c < n_comps; c++) {
            size_t k;
            json_t *arch;
            const char *comp = flat ? "" : json_string_value(json_array_get(comps, c));
            json_array_foreach(archs, k, arch)
            {
                char target[4096], path[4096];
                char *base;
                struct pst_apt_list *l;
                bool dup = false;
                if (flat && k > 0) {
                    break; /* a flat repository has one Packages file for every architecture */
                }
                if (flat) {
                    snprintf(target, sizeof(target), "%sPackages", prefix);
                } else {
                    snprintf(target, sizeof(target), "%s%s/binary-%s/Packages", prefix, comp,
                             json_string_value(arch));
                }
                base = pst_apt_uri_to_filename(target);
                if (base == NULL) {
                    free(release_base);
                    return PST_ENOMEM;
                }
                if (!find_list(s, base, path, sizeof(path))) {
                    int rc = add_missing(s, base, source);
                    free(base);
                    if (rc != PST_OK) {
                        free(release_base);
                        return rc;
                    }
                    continue;
                }
                free(base);
                for (size_t j = 0; j < s->n_lists; j++) {
                    dup = dup || strcmp(s->lists[j].path, path) == 0;
                }
                if (dup) {
                    continue; /* named twice in the sources: apt reads it once */
                }
                if (strlen(path) >= sizeof(s->lists[0].path)) {
                    pst_facts_error(s->out, source, "list name too long: %s", path);
                    continue;
                }
                if (s->n_lists >= PST_APT_MAX_FILES) {
                    pst_facts_error(s->out, source, "more than %d package lists",
                                    PST_APT_MAX_FILES);
                    continue;
                }
                struct pst_apt_list *grown = realloc(s->lists, (s->n_lists + 1) * sizeof(*grown));
                if (grown == NULL) {
                    free(release_base);
                    return PST_ENOMEM;
                }
                s->lists = grown;
                l = &s->lists[s->n_lists++];
                memset(l, 0, sizeof(*l));
                memcpy(l->path, path, strlen(path) + 1);
                uri_site(uri, l->site, sizeof(l->site));
                snprintf(l->component, sizeof(l->component), "%s", comp);
                snprintf(l->arch, sizeof(l->arch), "%s", json_string_value(arch));
                if (!release_read) {
                    struct pst_apt_list tmp;
                    memset(&tmp, 0, sizeof(tmp));
                    read_release(s, release_base, &tmp);
                    release = tmp.release;
                    release_read = true;
                    l->has_release = tmp.has_release;
                } else {
                    l->has_release = release.suite[0] || release.origin[0] || release.date;
                }
                l->release = release;
                l->security = ends_with(release.suite, "-security") ||
                              ends_with(release.codename, "-security") ||
                              strcmp(release.label, "Debian-Security") == 0;
            }
        }
        free(release_base);
    }
    return PST_OK;
}

/* A stanza of a Packages list being read. */
struct offer_stanza {
    char package[256], version[256], arch[64];
    int phased;
    bool bad; /* a field we need was too long */
    long line;
};

static bool arch_accepted(const struct scan *s, const char *arch)
{
    size_t i;
    json_t *a;

    if (strcmp(arch, "all") == 0) {
        return true;
    }
    json_array_foreach(s->archs, i, a)
    {
        if (strcmp(json_string_value(a), arch) == 0) {
            return true;
        }
    }
    return false;
}

static int offer_flush(struct scan *s, struct offer_stanza *st, size_t list, long *bad_versions)
{
    int rc = PST_OK;

    if (st->package[0] != '\0' && st->version[0] != '\0' && !st->bad &&
        arch_accepted(s, st->arch[0] ? st->arch : s->native)) {
        rc = pst_apt_db_add_available(s->db, st->package, st->arch, st->version, list, st->phased);
        if (rc == PST_EPARSE) {
            (*bad_versions)++;
            rc = PST_OK;
        } else if (rc == PST_ETOOBIG) {
            pst_facts_error(s->out, s->lists[list].path, "%s:%ld: more than %d versions of %s",
                            s->lists[list].path, st->line, PST_APT_MAX_VERSIONS, st->package);
            rc = PST_OK;
        }
    }
    memset(st, 0, sizeof(*st));
    st->phased = 100;
    return rc;
}

static void field_copy(struct offer_stanza *st, char *dst, size_t n, const char *value)
{
    size_t len = strlen(value);

    if (len >= n) {
        st->bad = true;
        return;
    }
    memcpy(dst, value, len + 1);
    pst_text_rstrip(dst);
}

/* Streams one Packages list, recording the versions it offers of installed packages. */
static int read_list(struct scan *s, size_t index)
{
    const char *path = s->lists[index].path;
    struct pst_zread *z = NULL;
    struct offer_stanza st;
    long bad_versions = 0, long_lines = 0, garbled = 0, first_garbled = 0;
    bool failed = false;
    char *line;
    size_t len;
    int rc;

    if (ends_with(path, ".zst")) {
        pst_facts_error(s->out, path, "read %s: zstd-compressed lists are not read", path);
        return PST_OK;
    }
    rc = pst_zread_open(s->ctx->fs, path, pst_zread_kind(path), LIST_LIMIT, &z);
    if (rc != PST_OK) {
        if (rc != PST_ENOMEM) {
            pst_facts_error(s->out, path, "read %s: %s", path, pst_strerror(rc));
            rc = PST_OK;
        }
        return rc;
    }
    memset(&st, 0, sizeof(st));
    st.phased = 100;
    for (;;) {
        int got = pst_zread_line(z, &line, &len);
        if (got == 0) {
            break;
        }
        if (got == 2) {
            /* an over-long line: if it was a field we need, the stanza is unusable */
            long_lines++;
            st.bad = true;
            continue;
        }
        if (got < 0) {
            pst_facts_error(s->out, path, "read %s near line %ld: %s", path, pst_zread_lineno(z),
                            pst_strerror(got));
            failed = true;
            break;
        }
        /* the four fields read start with P, V or A: one test skips the other lines */
        if (len == 0) {
            rc = offer_flush(s, &st, index, &bad_versions);
        } else if (line[0] == ' ' || line[0] == '\t') {
            continue;
        } else if (line[0] == 'P' && len > 8 && memcmp(line, "Package:", 8) == 0) {
            st.line = pst_zread_lineno(z);
            field_copy(&st, st.package, sizeof(st.package), pst_text_skip_blanks(line + 8));
        } else if (line[0] == 'V' && len > 8 && memcmp(line, "Version:", 8) == 0) {
            field_copy(&st, st.version, sizeof(st.version), pst_text_skip_blanks(line + 8));
        } else if (line[0] == 'A' && len > 13 && memcmp(line, "Architecture:", 13) == 0) {
            field_copy(&st, st.arch, sizeof(st.arch), pst_text_skip_blanks(line + 13));
        } else if (line[0] == 'P' && len > 25 &&
                   memcmp(line, "Phased-Update-Percentage:", 25) == 0) {
            char *end;
            long v = strtol(line + 25, &end, 10);
            st.phased = v >= 0 && v <= 100 ? (int)v : 100;
        } else if (memchr(line, ':', len) == NULL) {
            if (garbled++ == 0) {
                first_garbled = pst_zread_lineno(z);
            }
        }
        if (rc != PST_OK) {
            break;
        }
    }
    if (rc == PST_OK && !failed) {
        rc = offer_flush(s, &st, index, &bad_versions);
    }
    if (garbled > 0) {
        pst_facts_error(s->out, path, "%s:%ld: %ld lines that are not fields (ignored)", path,
                        first_garbled, garbled);
    }
    if (long_lines > 0) {
        pst_facts_error(s->out, path, "%s: %ld lines longer than %u bytes (their stanzas ignored)",
                        path, long_lines, PST_ZREAD_LINE_MAX);
    }
    if (bad_versions > 0) {
        pst_facts_error(s->out, path, "%s: %ld versions dpkg would reject (ignored)", path,
                        bad_versions);
    }
    pst_zread_free(z);
    return rc;
}

/* The three words of dpkg's Status: want, error flag, state ("install ok installed"). */
static void status_words(const char *status, char want[64], char eflag[64], char state[64])
{
    char *const dst[3] = {want, eflag, state};
    const char *p = status;

    for (int i = 0; i < 3; i++) {
        size_t n;
        p += strspn(p, " ");
        n = strcspn(p, " ");
        snprintf(dst[i], 64, "%.*s", (int)(n < 63 ? n : 63), p);
        p += n;
    }
}

static int add_finding(json_t *list, long max, json_t *item)
{
    if (item == NULL) {
        return PST_ENOMEM;
    }
    if ((long)json_array_size(list) >= max) {
        json_decref(item);
        return PST_OK;
    }
    return json_array_append_new(list, item) == 0 ? PST_OK : PST_ENOMEM;
}

/* One instance of a package from the index: held, broken, or installed for apt's view. */
static int read_stanza(struct scan *s, const struct pst_dpkg_entry *e, const char *status,
                       const char *version, const char *arch)
{
    long line = e->pkg->line;
    char name[256];
    char want[64], eflag[64], state[64];
    int rc = PST_OK;

    snprintf(name, sizeof(name), "%.*s", (int)e->name_len, e->name);
    status_words(status, want, eflag, state);
    if (strcmp(state, "not-installed") == 0 || strcmp(state, "config-files") == 0 ||
        state[0] == '\0') {
        return PST_OK;
    }
    if (strcmp(want, "hold") == 0) {
        s->n_held++;
        rc = add_finding(s->held, s->max_findings,
                         json_pack("{s:o, s:o, s:o}", "name", pst_json_text(name), "arch",
                                   pst_json_text(arch ? arch : ""), "version",
                                   pst_json_text(version ? version : "")));
    }
    if (rc == PST_OK && (strcmp(state, "installed") != 0 || strcmp(eflag, "reinstreq") == 0)) {
        s->n_broken++;
        rc = add_finding(
            s->broken, s->max_findings,
            json_pack("{s:o, s:o, s:o, s:o}", "name", pst_json_text(name), "arch",
                      pst_json_text(arch ? arch : ""), "version",
                      pst_json_text(version ? version : ""), "state",
                      pst_json_text(strcmp(eflag, "reinstreq") == 0 ? "reinstreq" : state)));
    }
    if (rc != PST_OK) {
        return rc;
    }
    if (version == NULL) {
        pst_facts_error(s->out, DPKG_STATUS, "%s:%ld: %s has no Version", DPKG_STATUS, line, name);
        return PST_OK;
    }
    rc = pst_apt_db_add_installed(s->db, name, arch, version, status, line);
    if (rc == PST_EPARSE) {
        pst_facts_error(s->out, DPKG_STATUS, "%s:%ld: version '%s' of %s is invalid", DPKG_STATUS,
                        line, version, name);
        rc = PST_OK;
    }
    return rc;
}

/* Installed, held and broken packages from dpkg's status index. */
static int read_status(struct scan *s, const struct pst_dpkg_status *index)
{
    struct pst_dpkg_entry e;
    size_t pos = 0;
    int rc = PST_OK;

    while (rc == PST_OK && pst_dpkg_status_next(index, &pos, &e)) {
        /* the values as reported, bytes that are not UTF-8 made '?' */
        char *copies[3];
        const char *status = pst_dpkg_text(e.pkg->status, &copies[0]);
        const char *version = pst_dpkg_text(e.pkg->version, &copies[1]);
        const char *arch = pst_dpkg_text(e.pkg->arch, &copies[2]);

        if (status == NULL || (version == NULL && e.pkg->version != NULL) ||
            (arch == NULL && e.pkg->arch != NULL)) {
            rc = PST_ENOMEM;
        } else {
            rc = read_stanza(s, &e, status, version, arch);
        }
        for (size_t i = 0; i < PST_COUNT(copies); i++) {
            free(copies[i]);
        }
    }
    return rc;
}

static int visit_result(const struct pst_apt_result *r, void *arg)
{
    struct scan *s = arg;
    const struct pst_apt_list *l = r->from_list ? &s->lists[r->list] : NULL;
    json_t *item;
    int rc;

    if (!r->upgradable) {
        return PST_OK;
    }
    s->n_upgradable++;
    if (r->oldest_date > 0 && (s->oldest == 0 || r->oldest_date < s->oldest)) {
        s->oldest = r->oldest_date;
    }
    item = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:b}", "name", pst_json_text(r->name), "arch",
                     pst_json_text(r->arch), "installed", pst_json_text(r->installed), "candidate",
                     pst_json_text(r->candidate), "origin",
                     l && l->has_release ? pst_json_text(l->release.origin) : json_null(), "suite",
                     l && l->has_release ? pst_json_text(l->release.suite) : json_null(),
                     "security", r->security);
    if (item == NULL) {
        return PST_ENOMEM;
    }
    if (strncmp(r->status, "hold ", 5) == 0) {
        json_object_set_new(item, "held", json_true());
    }
    if (r->phased < 100) {
        /* apt may keep a phased update back on this host: see docs/packages.md */
        json_object_set_new(item, "phased", json_integer(r->phased));
    }
    if (r->security) {
        s->n_security++;
        rc = add_finding(s->security, s->max_findings, json_incref(item));
        if (rc != PST_OK) {
            json_decref(item);
            return rc;
        }
    }
    return add_finding(s->upgradable, s->max_findings, item);
}

/* An APT::Periodic interval that turns the job on: set, and not 0. */
static bool periodic_on(const char *value)
{
    char *end;
    long v;

    if (value == NULL || value[0] == '\0') {
        return false;
    }
    if (strcmp(value, "always") == 0) {
        return true;
    }
    v = strtol(value, &end, 10);
    return end != value && v != 0;
}

static int unattended_facts(struct scan *s, const struct pst_dpkg_status *index)
{
    static const char *const keys[] = {"unattended-upgrade::origins-pattern",
                                       "unattended-upgrade::allowed-origins"};
    const struct pst_dpkg_pkg *uu = pst_dpkg_status_find(index, "unattended-upgrades");
    /* only its words' ASCII matters: as dpkg wrote it */
    const char *status = uu ? uu->status : NULL;
    char want[64], eflag[64], state[64];
    bool installed;
    const char *upd_src = NULL, *uu_src = NULL;
    const char *upd = pst_aptconf_get(&s->conf, "APT::Periodic::Update-Package-Lists", &upd_src);
    const char *run = pst_aptconf_get(&s->conf, "APT::Periodic::Unattended-Upgrade", &uu_src);
    const char *enable = pst_aptconf_get(&s->conf, "APT::Periodic::Enable", NULL);
    bool enabled;
    bool security = false;
    json_t *origins = json_array();
    const char *origins_src = NULL;

    if (origins == NULL) {
        return PST_ENOMEM;
    }
    status_words(status ? status : "", want, eflag, state);
    installed = strcmp(state, "installed") == 0;
    /* APT::Periodic::Enable "0" turns every periodic job off (apt's daily script reads it) */
    enabled = installed && periodic_on(upd) && periodic_on(run) &&
              (enable == NULL || periodic_on(enable));
    for (size_t k = 0; k < PST_COUNT(keys); k++) {
        size_t i;
        json_t *item;
        json_array_foreach(json_object_get(s->conf.lists, keys[k]), i, item)
        {
            const char *v = json_string_value(json_object_get(item, "value"));
            origins_src =
                origins_src ? origins_src : json_string_value(json_object_get(item, "source"));
            security = security || strstr(v, "-security") != NULL ||
                       strstr(v, "Security") != NULL || strstr(v, "security") != NULL;
            json_array_append_new(origins, json_string(v));
        }
    }
    if (pst_facts_set(s->out, "unattended_upgrades_installed", json_boolean(installed),
                      DPKG_STATUS) != 0 ||
        pst_facts_set(s->out, "unattended_upgrades_enabled", json_boolean(enabled),
                      uu_src    ? uu_src
                      : upd_src ? upd_src
                                : "default") != 0 ||
        pst_facts_set(s->out, "unattended_upgrades_origins", origins,
                      origins_src ? origins_src : "default") != 0 ||
        pst_facts_set(s->out, "unattended_upgrades_security", json_boolean(enabled && security),
                      origins_src ? origins_src : "default") != 0 ||
        pst_facts_set(s->out, "update_package_lists", upd ? json_string(upd) : json_null(),
                      upd_src ? upd_src : "default") != 0 ||
        pst_facts_set(s->out, "unattended_upgrade", run ? json_string(run) : json_null(),
                      uu_src ? uu_src : "default") != 0) {
        return PST_ENOMEM;
    }
    return PST_OK;
}

static int packages_collect(struct pst_probe_ctx *ctx, const json_t *args, struct pst_facts *out)
{
    struct scan s;
    const struct pst_dpkg_status *index;
    const char *default_release;
    const char *dr_source = NULL;
    long long newest = 0;
    json_t *lists = NULL;
    struct timespec now;
    int rc;

    memset(&s, 0, sizeof(s));
    s.ctx = ctx;
    s.out = out;
    s.max_findings = (long)json_integer_value(json_object_get(args, "max_findings"));
    clock_gettime(CLOCK_REALTIME, &now);
    s.now = (long long)now.tv_sec;
    index = pst_dpkg_status_index(ctx, out, &rc);
    if (index == NULL) {
        return rc; /* the reason is among the errors */
    }
    rc = pst_aptconf_init(&s.conf);
    if (rc != PST_OK) {
        return rc;
    }
    s.archs = json_array();
    s.sources = json_array();
    s.missing = json_array();
    s.upgradable = json_array();
    s.security = json_array();
    s.held = json_array();
    s.broken = json_array();
    lists = json_array();
    if (s.archs == NULL || s.sources == NULL || s.missing == NULL || s.upgradable == NULL ||
        s.security == NULL || s.held == NULL || s.broken == NULL || lists == NULL) {
        rc = PST_ENOMEM;
        goto out;
    }
    /* apt's configuration: the parts in name order, then apt.conf */
    rc = read_parts(&s, NULL, "/etc/apt/apt.conf.d", "conf", true, "/etc/apt/apt.conf", conf_file);
    if (rc != PST_OK) {
        goto out;
    }
    /* the native architecture is dpkg's own, unless APT::Architecture says otherwise */
    {
        const struct pst_dpkg_pkg *dpkg = pst_dpkg_status_find(index, "dpkg");
        const char *arch = pst_aptconf_get(&s.conf, "APT::Architecture", NULL);
        char *copy = NULL;
        if (arch == NULL && dpkg != NULL) {
            arch = pst_dpkg_text(dpkg->arch, &copy);
        }
        snprintf(s.native, sizeof(s.native), "%s", arch ? arch : "amd64");
        free(copy);
    }
    rc = pst_apt_db_new(s.native, &s.db);
    if (rc == PST_OK) {
        rc = read_status(&s, index);
    }
    if (rc != PST_OK) {
        goto out;
    }
    /* architectures: native, then dpkg's foreign ones */
    json_array_append_new(s.archs, json_string(s.native));
    {
        char *buf = NULL;
        size_t len;
        if (pst_fs_read(ctx->fs, "/var/lib/dpkg/arch", CONF_LIMIT, true, &buf, &len) == PST_OK) {
            char *cursor = buf, *line;
            long lineno = 0;
            while ((line = pst_text_next_line(&cursor, &lineno)) != NULL) {
                line = pst_text_skip_blanks(line);
                pst_text_rstrip(line);
                if (line[0] != '\0' && strcmp(line, s.native) != 0 && strlen(line) < 32 &&
                    json_array_size(s.archs) < 32) {
                    json_array_append_new(s.archs, json_string(line));
                }
            }
        }
        free(buf);
    }
    rc = read_parts(&s, "/etc/apt/sources.list", "/etc/apt/sources.list.d", "list,sources", false,
                    NULL, sources_file);
    if (rc != PST_OK) {
        goto out;
    }
    default_release = pst_aptconf_get(&s.conf, "APT::Default-Release", &dr_source);
    rc = read_parts(&s, "/etc/apt/preferences", "/etc/apt/preferences.d", "pref", true, NULL,
                    prefs_file);
    if (rc == PST_OK && default_release != NULL && default_release[0] != '\0') {
        rc = pst_apt_pins_default_release(default_release, &s.pins, &s.n_pins);
    }
    if (rc != PST_OK) {
        goto out;
    }
    rc = plan_lists(&s);
    for (size_t i = 0; rc == PST_OK && i < s.n_lists; i++) {
        rc = read_list(&s, i);
    }
    if (rc != PST_OK) {
        goto out;
    }
    rc = pst_apt_db_resolve(s.db, s.lists, s.n_lists, s.pins, s.n_pins, visit_result, &s);
    if (rc != PST_OK) {
        goto out;
    }
    for (size_t i = 0; i < s.n_lists; i++) {
        const struct pst_apt_list *l = &s.lists[i];
        newest = l->release.date > newest ? l->release.date : newest;
        if ((long)json_array_size(lists) < s.max_findings * 5) {
            json_array_append_new(lists,
                                  json_pack("{s:s, s:o, s:o, s:o, s:I, s:i, s:b}", "list", l->path,
                                            "origin", pst_json_text(l->release.origin), "suite",
                                            pst_json_text(l->release.suite), "codename",
                                            pst_json_text(l->release.codename), "date",
                                            (json_int_t)l->release.date, "priority", l->priority,
                                            "security", l->security));
        }
    }
    {
        long security_lists = 0;
        for (size_t i = 0; i < s.n_lists; i++) {
            security_lists += s.lists[i].security;
        }
        long age = newest > 0 ? (long)((s.now - newest) / 86400) : -1;
        long oldest = s.oldest > 0 ? (long)((s.now - s.oldest) / 86400) : 0;
        if (pst_facts_set(out, "installed_count", json_integer((json_int_t)pst_apt_db_count(s.db)),
                          DPKG_STATUS) != 0 ||
            pst_facts_set(out, "upgradable", json_incref(s.upgradable), LISTS_DIR) != 0 ||
            pst_facts_set(out, "upgradable_count", json_integer(s.n_upgradable), LISTS_DIR) != 0 ||
            pst_facts_set(out, "security_upgradable", json_incref(s.security), LISTS_DIR) != 0 ||
            pst_facts_set(out, "security_upgradable_count", json_integer(s.n_security),
                          LISTS_DIR) != 0 ||
            pst_facts_set(out, "upgradable_oldest_days", json_integer(oldest < 0 ? 0 : oldest),
                          LISTS_DIR) != 0 ||
            pst_facts_set(out, "held", json_incref(s.held), DPKG_STATUS) != 0 ||
            pst_facts_set(out, "held_count", json_integer(s.n_held), DPKG_STATUS) != 0 ||
            pst_facts_set(out, "broken", json_incref(s.broken), DPKG_STATUS) != 0 ||
            pst_facts_set(out, "broken_count", json_integer(s.n_broken), DPKG_STATUS) != 0 ||
            pst_facts_set(out, "lists_missing", json_boolean(s.n_lists == 0), LISTS_DIR) != 0 ||
            pst_facts_set(out, "lists_count", json_integer((json_int_t)s.n_lists), LISTS_DIR) !=
                0 ||
            pst_facts_set(out, "security_lists_count", json_integer(security_lists), LISTS_DIR) !=
                0 ||
            pst_facts_set(out, "missing_lists", json_incref(s.missing), LISTS_DIR) != 0 ||
            pst_facts_set(out, "missing_lists_count", json_integer((json_int_t)s.n_missing),
                          LISTS_DIR) != 0 ||
            pst_facts_set(out, "list_age_days", age >= 0 ? json_integer(age) : json_null(),
                          LISTS_DIR) != 0 ||
            pst_facts_set(out, "lists", json_incref(lists), LISTS_DIR) != 0 ||
            pst_facts_set(out, "default_release",
                          default_release ? json_string(default_release) : json_null(),
                          dr_source ? dr_source : "default") != 0) {
            rc = PST_ENOMEM;
            goto out;
        }
    }
    rc = unattended_facts(&s, index);
out:
    pst_aptconf_release(&s.conf);
    pst_apt_pins_free(s.pins, s.n_pins);
    pst_apt_db_free(s.db);
    free(s.lists);
    json_decref(s.archs);
    json_decref(s.sources);
    json_decref(s.missing);
    json_decref(s.upgradable);
    json_decref(s.security);
    json_decref(s.held);
    json_decref(s.broken);
    json_decref(lists);
    return rc;
}

const struct pst_probe pst_probe_packages = {
    .name = "packages",
    .summary = "pending updates and security updates (dpkg status, apt lists and pins), held and "
               "broken packages, unattended-upgrades",
    .args = packages_args,
    .n_args = PST_COUNT(packages_args),
    .fields = packages_fields,
    .n_fields = PST_COUNT(packages_fields),
    .collect = packages_collect,
};
