/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Probe "accounts": the account databases (/etc/passwd, /etc/shadow, /etc/group), the
 * defaults of /etc/login.defs and /etc/default/useradd, root's PATH and the default umask.
 * /etc/shadow is read only to classify each password field (empty, locked, a hash) and its
 * aging fields; no hash is ever kept, printed or put in evidence, and the buffer that held
 * the file is wiped before it is freed.
 */
#include "probes/probe.h"

#include "agent/error.h"
#include "probes/findings.h"
#include "probes/text.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* Most entries read from one account file; more is an error, not a silent cut. */
#define ACCOUNTS_MAX 200000

static const struct pst_probe_arg accounts_args[] = {
    {.name = "max_days",
     .type = PST_TYPE_INT,
     .default_value = "365",
     .description = "most days a password may be used (shadow field 5) before it must change"},
    {.name = "min_days",
     .type = PST_TYPE_INT,
     .default_value = "1",
     .description = "fewest days between password changes (shadow field 4)"},
    {.name = "warn_days",
     .type = PST_TYPE_INT,
     .default_value = "7",
     .description = "fewest days of warning before a password expires (shadow field 6)"},
    {.name = "inactive_days",
     .type = PST_TYPE_INT,
     .default_value = "45",
     .description = "most days after expiry before the account locks (shadow field 7)"},
    {.name = "umask",
     .type = PST_TYPE_MODE,
     .default_value = "0027",
     .description =
         "the least restrictive umask accepted: a setting that masks fewer bits is weak"},
    {.name = "max_findings",
     .type = PST_TYPE_INT,
     .default_value = "20",
     .description = "findings kept as evidence per field; the counts count them all"},
};

static const struct pst_probe_field accounts_fields[] = {
    {"accounts", PST_TYPE_INT, "entries of /etc/passwd"},
    {"groups", PST_TYPE_INT, "entries of /etc/group"},
    {"malformed", PST_TYPE_FINDINGS,
     "lines of passwd, shadow or group that are not valid entries {file, line, problem}"},
    {"malformed_count", PST_TYPE_INT, "how many"},
    {"uid0", PST_TYPE_LIST, "accounts with uid 0 (source: the first one not named root)"},
    {"gid0", PST_TYPE_LIST, "groups with gid 0 (source: the first one not named root)"},
    {"gid0_accounts", PST_TYPE_LIST,
     "accounts whose primary group is gid 0 (source: the first one not named root)"},
    {"not_shadowed", PST_TYPE_FINDINGS,
     "accounts whose /etc/passwd password field is not \"x\" {user, line}"},
    {"not_shadowed_count", PST_TYPE_INT, "how many"},
    {"no_shadow_entry", PST_TYPE_FINDINGS, "accounts with no /etc/shadow entry {user}"},
    {"no_shadow_entry_count", PST_TYPE_INT, "how many"},
    {"empty_password", PST_TYPE_FINDINGS,
     "accounts whose /etc/shadow password field is empty {user, line}"},
    {"empty_password_count", PST_TYPE_INT, "how many"},
    {"system_login_shells", PST_TYPE_FINDINGS,
     "accounts below UID_MIN (and nobody), other than root, sync, shutdown and halt, with a "
     "login shell from /etc/shells {user, uid, shell}"},
    {"system_login_shells_count", PST_TYPE_INT, "how many"},
    {"invalid_shell_unlocked", PST_TYPE_FINDINGS,
     "accounts other than root whose shell is not a valid shell of /etc/shells (nologin does "
     "not count) and whose password passwd -S does not report locked {user, shell, status}"},
    {"invalid_shell_unlocked_count", PST_TYPE_INT, "how many"},
    {"root_password_status", PST_TYPE_STRING,
     "root's password as passwd -S reports it: P (usable), L (locked: ! or *), NP (empty); "
     "from /etc/passwd when /etc/shadow has no root entry; null if there is no root"},
    {"duplicate_uids", PST_TYPE_FINDINGS, "uids shared by accounts {uid, users}"},
    {"duplicate_uids_count", PST_TYPE_INT, "how many"},
    {"duplicate_gids", PST_TYPE_FINDINGS, "gids shared by groups {gid, groups}"},
    {"duplicate_gids_count", PST_TYPE_INT, "how many"},
    {"duplicate_user_names", PST_TYPE_FINDINGS, "account names listed twice {user}"},
    {"duplicate_user_names_count", PST_TYPE_INT, "how many"},
    {"duplicate_group_names", PST_TYPE_FINDINGS, "group names listed twice {group}"},
    {"duplicate_group_names_count", PST_TYPE_INT, "how many"},
    {"missing_groups", PST_TYPE_FINDINGS,
     "accounts whose primary gid is no group of /etc/group {user, gid}"},
    {"missing_groups_count", PST_TYPE_INT, "how many"},
    {"shadow_group_members", PST_TYPE_LIST,
     "members of the shadow group, and accounts whose primary group it is"},
    {"max_days_exceeded", PST_TYPE_FINDINGS,
     "accounts with a password whose maximum age is unset, below 1 or above max_days "
     "{user, max_days}"},
    {"max_days_exceeded_count", PST_TYPE_INT, "how many"},
    {"min_days_short", PST_TYPE_FINDINGS,
     "accounts with a password whose minimum age is below min_days {user, min_days}"},
    {"min_days_short_count", PST_TYPE_INT, "how many"},
    {"warn_days_short", PST_TYPE_FINDINGS,
     "accounts with a password warned fewer than warn_days before expiry {user, warn_days}"},
    {"warn_days_short_count", PST_TYPE_INT, "how many"},
    {"inactive_unset", PST_TYPE_FINDINGS,
     "accounts with a password that never lock after expiry, or only after more than "
     "inactive_days {user, inactive}"},
    {"inactive_unset_count", PST_TYPE_INT, "how many"},
    {"last_change_future", PST_TYPE_FINDINGS,
     "accounts whose last password change lies in the future {user}"},
    {"last_change_future_count", PST_TYPE_INT, "how many"},
    {"pass_max_days", PST_TYPE_INT,
     "PASS_MAX_DAYS of /etc/login.defs (last one wins); null if unset"},
    {"pass_min_days", PST_TYPE_INT, "PASS_MIN_DAYS of /etc/login.defs; null if unset"},
    {"pass_warn_age", PST_TYPE_INT, "PASS_WARN_AGE of /etc/login.defs; null if unset"},
    {"encrypt_method", PST_TYPE_STRING, "ENCRYPT_METHOD of /etc/login.defs; null if unset"},
    {"uid_min", PST_TYPE_INT, "UID_MIN of /etc/login.defs, 1000 by default"},
    {"inactive_default", PST_TYPE_INT,
     "INACTIVE of /etc/default/useradd (useradd -D), -1 (never) when unset"},
    {"umask", PST_TYPE_STRING,
     "the umask a login shell ends up with: the last of login.defs UMASK, pam_umask's umask=, "
     "/etc/bash.bashrc, /etc/profile, /etc/profile.d/*.sh; null if none sets one"},
    {"umask_weak", PST_TYPE_FINDINGS,
     "umask settings in those files that mask fewer bits than the umask argument "
     "{source, umask}"},
    {"umask_weak_count", PST_TYPE_INT, "how many"},
    {"root_path_problems", PST_TYPE_FINDINGS,
     "entries of root's PATH assignments (login.defs ENV_SUPATH, /etc/environment, "
     "/etc/profile, root's shell start-up files) that are empty, relative, not directories, "
     "writable by group or others, or not owned by root {source, entry, problem}"},
    {"root_path_problems_count", PST_TYPE_INT, "how many"},
    {"root_umask_weak", PST_TYPE_FINDINGS,
     "umask commands in root's start-up files (/root/.profile, .bash_profile, .bash_login, "
     ".bashrc) that mask fewer bits than the umask argument {source, umask}"},
    {"root_umask_weak_count", PST_TYPE_INT, "how many"},
};

/* One /etc/passwd entry; strings point into the file's buffer. */
struct account {
    const char *name;
    const char *password;
    const char *shell;
    long uid;
    long gid;
    long line;
};

/* The classification of one /etc/shadow entry: never the hash itself. */
struct shadow_entry {
    const char *name; /* points into the shadow buffer, which is wiped at the end */
    long line;
    bool empty, locked;
    long lastchg, min, max, warn, inactive; /* -1: the field is empty */
};

struct setting {
    char value[256];
    long line;
    bool set;
};

enum defs { D_PASS_MAX, D_PASS_MIN, D_PASS_WARN, D_ENCRYPT, D_UID_MIN, D_UMASK, D_SUPATH, N_DEFS };
static const char *const defs_keys[N_DEFS] = {"PASS_MAX_DAYS",  "PASS_MIN_DAYS", "PASS_WARN_AGE",
                                              "ENCRYPT_METHOD", "UID_MIN",       "UMASK",
                                              "ENV_SUPATH"};

enum list {
    MALFORMED,
    NOT_SHADOWED,
    NO_SHADOW,
    EMPTY_PW,
    SYS_SHELLS,
    INVALID_SHELL,
    DUP_UIDS,
    DUP_GIDS,
    DUP_UNAMES,
    DUP_GNAMES,
    MISSING_GROUPS,
    MAX_DAYS,
    MIN_DAYS,
    WARN_DAYS,
    INACTIVE,
    FUTURE,
    UMASK_WEAK,
    ROOT_PATH,
    ROOT_UMASK,
    N_LISTS
};
static const char *const list_fields[N_LISTS] = {"malformed",
                                                 "not_shadowed",
                                                 "no_shadow_entry",
                                                 "empty_password",
                                                 "system_login_shells",
                                                 "invalid_shell_unlocked",
                                                 "duplicate_uids",
                                                 "duplicate_gids",
                                                 "duplicate_user_names",
                                                 "duplicate_group_names",
                                                 "missing_groups",
                                                 "max_days_exceeded",
                                                 "min_days_short",
                                                 "warn_days_short",
                                                 "inactive_unset",
                                                 "last_change_future",
                                                 "umask_weak",
                                                 "root_path_problems",
                                                 "root_umask_weak"};

struct scan {
    struct pst_probe_ctx *ctx;
    struct pst_facts *out;
    const json_t *args;
    struct pst_findings lists[N_LISTS];
    struct setting defs[N_DEFS];
    unsigned umask_limit;
    int rc;
};

static void add(struct scan *s, enum list kind, json_t *item)
{
    if (s->rc == PST_OK) {
        s->rc = pst_findings_add(&s->lists[kind], item);
    } else {
        json_decref(item);
    }
}

static long arg_int(const struct scan *s, const char *name)
{
    return (long)json_integer_value(json_object_get(s->args, name));
}

/* Splits LINE at ':' into at most MAX fields; returns how many it had (MAX+1 for more). */
static int split_fields(char *line, char **field, int max)
{
    int n = 0;
    char *p = line;

    for (;;) {
        if (n == max) {
            return max + 1;
        }
        field[n++] = p;
        p = strchr(p, ':');
        if (p == NULL) {
            return n;
        }
        *p++ = '\0';
    }
}

/* A decimal id or count: digits only, no sign, no blanks. */
static bool parse_number(const char *text, long *value)
{
    char *end;

    if (text[0] < '0' || text[0] > '9') {
        return false;
    }
    errno = 0;
    *value = strtol(text, &end, 10);
    return errno == 0 && *end == '\0';
}

static void malformed(struct scan *s, const char *file, long line, const char *problem)
{
    pst_facts_error(s->out, file, "%s:%ld: %s", file, line, problem);
    add(s, MALFORMED,
        json_pack("{s:s, s:I, s:s}", "file", file, "line", (json_int_t)line, "problem", problem));
}

/* Reads PATH; a missing file leaves *buf NULL and returns PST_ENOENT, silently. */
static int read_file(struct scan *s, const char *path, char **buf, bool required)
{
    size_t len;
    int rc = pst_fs_read(s->ctx->fs, path, PST_FS_TEXT_LIMIT, true, buf, &len);

    if (rc != PST_OK) {
        *buf = NULL;
        if (rc == PST_ENOMEM) {
            s->rc = rc;
        } else if (rc != PST_ENOENT || required) {
            pst_facts_error(s->out, path, "read %s: %s", path, pst_strerror(rc));
        }
    }
    return rc;
}

/* Appends the LEN bytes at NAME to LIST as text. Returns 0 or -1. */
static int append_name(json_t *list, const char *name, size_t len)
{
    char copy[1024];

    snprintf(copy, sizeof(copy), "%.*s", (int)(len < sizeof(copy) ? len : sizeof(copy) - 1), name);
    return json_array_append_new(list, pst_json_text(copy));
}

/* Adds NAME to the JSON array at KEY of MAP (created on first use). */
static int map_append(json_t *map, const char *key, const char *name)
{
    json_t *names = json_object_get(map, key);

    if (names == NULL) {
        names = json_array();
        if (names == NULL || json_object_set_new_nocheck(map, key, names) != 0) {
            return PST_ENOMEM;
        }
    }
    return json_array_append_new(names, pst_json_text(name)) == 0 ? PST_OK : PST_ENOMEM;
}

/* Every key of MAP holding more than one name becomes a finding {KEYNAME, NAMESKEY}. */
static void report_duplicates(struct scan *s, json_t *map, enum list kind, const char *keyname,
                              const char *nameskey, bool numeric_key)
{
    const char *key;
    json_t *names;

    json_object_foreach(map, key, names)
    {
        if (json_array_size(names) < 2) {
            continue;
        }
        if (numeric_key) {
            add(s, kind,
                json_pack("{s:I, s:O}", keyname, (json_int_t)strtol(key, NULL, 10), nameskey,
                          names));
        } else {
            add(s, kind, json_pack("{s:o}", keyname, pst_json_text(key)));
        }
    }
}

static void read_login_defs(struct scan *s)
{
    char *buf = NULL, *cursor, *line;
    long lineno = 0;

    if (read_file(s, "/etc/login.defs", &buf, false) != PST_OK) {
        return;
    }
    cursor = buf;
    while ((line = pst_text_next_line(&cursor, &lineno)) != NULL) {
        char *key = pst_text_skip_blanks(line);
        char *value = key + strcspn(key, " \t");
        if (*key == '#' || *value == '\0') {
            continue;
        }
        *value++ = '\0';
        value = pst_text_skip_blanks(value);
        pst_text_rstrip(value);
        pst_text_unquote(value);
        for (int i = 0; i < N_DEFS; i++) {
            /* shadow's getdef keeps the last assignment of a key */
            if (strcmp(key, defs_keys[i]) == 0 && *value != '\0') {
                snprintf(s->defs[i].value, sizeof(s->defs[i].value), "%s", value);
                s->defs[i].line = lineno;
                s->defs[i].set = true;
            }
        }
    }
    free(buf);
}

/* A login.defs number the way shadow's getdef_num reads it: C notation (0x.., 0..). */
static json_t *defs_number(const struct setting *d)
{
    char *end;
    long long v;

    if (!d->set) {
        return json_null();
    }
    errno = 0;
    v = strtoll(d->value, &end, 0);
    return (errno == 0 && *end == '\0') ? json_integer(v) : json_null();
}

static int set_def(struct scan *s, const char *field, enum defs d, json_t *value)
{
    return pst_facts_set_at(s->out, field, value, s->defs[d].set ? "/etc/login.defs" : "default",
                            s->defs[d].line);
}

/* ---- umask ---------------------------------------------------------------------------- */

/* Parses an octal umask ("027", "0027") or a symbolic one ("u=rwx,g=rx,o="). */
static bool parse_umask(const char *text, unsigned *mask)
{
    if (text[0] >= '0' && text[0] <= '7') {
        return pst_mode_parse(text, mask) == PST_OK && *mask <= 0777;
    }
    unsigned allowed = 0777;
    const char *p = text;
    while (*p != '\0') {
        unsigned who = 0, perms = 0;
        for (; *p == 'u' || *p == 'g' || *p == 'o' || *p == 'a'; p++) {
            who |= *p == 'u' ? 0700 : *p == 'g' ? 0070 : *p == 'o' ? 0007 : 0777;
        }
        if (who == 0 || *p != '=') {
            return false;
        }
        for (p++; *p == 'r' || *p == 'w' || *p == 'x'; p++) {
            perms |= *p == 'r' ? 0444 : *p == 'w' ? 0222 : 0111;
        }
        allowed = (allowed & ~who) | (perms & who);
        if (*p == ',') {
            p++;
        } else if (*p != '\0') {
            return false;
        }
    }
    *mask = ~allowed & 0777;
    return true;
}

struct umask_state {
    char value[8];
    char source[PATH_MAX + 32];
    bool set;
};

static void umask_setting(struct scan *s, struct umask_state *u, const char *path, long line,
                          const char *text, enum list weak)
{
    unsigned mask;
    char source[PATH_MAX + 32];

    snprintf(source, sizeof(source), "%s:%ld", path, line);
    if (!parse_umask(text, &mask)) {
        pst_facts_error(s->out, path, "%s: cannot read umask '%s'", source, text);
        return;
    }
    snprintf(u->value, sizeof(u->value), "%04o", mask);
    snprintf(u->source, sizeof(u->source), "%s", source);
    u->set = true;
    if ((mask & s->umask_limit) != s->umask_limit) {
        add(s, weak, json_pack("{s:o, s:s}", "source", pst_json_text(source), "umask", u->value));
    }
}

/* `umask VALUE` commands of a shell start-up file, wherever they stand. */
static void umask_in_shell_file(struct scan *s, struct umask_state *u, const char *path)
{
    char *buf = NULL, *cursor, *line;
    long lineno = 0;

    if (read_file(s, path, &buf, false) != PST_OK) {
        return;
    }
    cursor = buf;
    while ((line = pst_text_next_line(&cursor, &lineno)) != NULL) {
        char *p = pst_text_skip_blanks(line);
        if (strncmp(p, "umask", 5) != 0 || (p[5] != ' ' && p[5] != '\t')) {
            continue;
        }
        p = pst_text_skip_blanks(p + 5);
        p[strcspn(p, " \t;#&|")] = '\0';
        if (*p != '\0' && *p != '-') {
            umask_setting(s, u, path, lineno, p, UMASK_WEAK);
        }
    }
    free(buf);
}

/* umask= of pam_umask in the session stacks. */
static void umask_in_pam(struct scan *s, struct umask_state *u, const char *path)
{
    char *buf = NULL, *cursor, *line;
    long lineno = 0;

    if (read_file(s, path, &buf, false) != PST_OK) {
        return;
    }
    cursor = buf;
    while ((line = pst_text_next_line(&cursor, &lineno)) != NULL) {
        char *p = pst_text_skip_blanks(line);
        char *arg;
        if (*p == '#' || strstr(p, "pam_umask.so") == NULL || (arg = strstr(p, "umask=")) == NULL) {
            continue;
        }
        arg += 6;
        arg[strcspn(arg, " \t")] = '\0';
        umask_setting(s, u, path, lineno, arg, UMASK_WEAK);
    }
    free(buf);
}

static void collect_umask(struct scan *s)
{
    struct umask_state u = {.set = false};
    json_t *names = NULL;
    size_t i;
    json_t *name;

    if (s->defs[D_UMASK].set) {
        umask_setting(s, &u, "/etc/login.defs", s->defs[D_UMASK].line, s->defs[D_UMASK].value,
                      UMASK_WEAK);
    }
    umask_in_pam(s, &u, "/etc/pam.d/common-session");
    umask_in_pam(s, &u, "/etc/pam.d/common-session-noninteractive");
    umask_in_shell_file(s, &u, "/etc/bash.bashrc");
    umask_in_shell_file(s, &u, "/etc/profile");
    if (pst_fs_list(s->ctx->fs, "/etc/profile.d", &names) == PST_OK) {
        json_array_foreach(names, i, name)
        {
            const char *n = json_string_value(name);
            size_t len = strlen(n);
            char path[PATH_MAX];
            /* /etc/profile sources only the *.sh files */
            if (len > 3 && strcmp(n + len - 3, ".sh") == 0 &&
                snprintf(path, sizeof(path), "/etc/profile.d/%s", n) < (int)sizeof(path)) {
                umask_in_shell_file(s, &u, path);
            }
        }
        json_decref(names);
    }
    if (s->rc == PST_OK &&
        pst_facts_set(s->out, "umask", u.set ? json_string(u.value) : json_null(),
                      u.set ? u.source : "default") != PST_OK) {
        s->rc = PST_ENOMEM;
    }
}

/* ---- root's PATH ---------------------------------------------------------------------- */

static void check_path_value(struct scan *s, const char *source, char *value)
{
    char *entry = value;

    pst_text_unquote(value);
    for (;;) {
        char *colon = strchr(entry, ':');
        const char *problem = NULL;
        if (colon != NULL) {
            *colon = '\0';
        }
        if (entry[0] == '\0') {
            problem = "empty entry (the current directory)";
        } else if (strchr(entry, '$') != NULL || strchr(entry, '`') != NULL) {
            problem = NULL; /* $PATH or another expansion: not resolved statically */
        } else if (entry[0] != '/') {
            problem = "relative entry";
        } else {
            struct stat st;
            if (pst_fs_stat(s->ctx->fs, entry, true, &st) == PST_OK) {
                if (!S_ISDIR(st.st_mode)) {
                    problem = "not a directory";
                } else if (st.st_mode & (S_IWGRP | S_IWOTH)) {
                    problem = "writable by group or others";
                } else if (st.st_uid != 0) {
                    problem = "not owned by root";
                }
            }
        }
        if (problem != NULL) {
            add(s, ROOT_PATH,
                json_pack("{s:o, s:o, s:s}", "source", pst_json_text(source), "entry",
                          pst_json_text(entry), "problem", problem));
        }
        if (colon == NULL) {
            break;
        }
        entry = colon + 1;
    }
}

/* PATH=... assignments (plain, or after export) of a shell file or /etc/environment. */
static int root_path_in_file(struct scan *s, const char *path)
{
    char *buf = NULL, *cursor, *line;
    long lineno = 0;
    int rc = read_file(s, path, &buf, false);

    if (rc != PST_OK) {
        return rc;
    }
    cursor = buf;
    while ((line = pst_text_next_line(&cursor, &lineno)) != NULL) {
        char *p = pst_text_skip_blanks(line);
        char source[PATH_MAX + 32];
        if (strncmp(path, "/root/", 6) == 0 && strncmp(p, "umask", 5) == 0 &&
            (p[5] == ' ' || p[5] == '\t')) {
            /* root's own start-up files may set a umask for root alone */
            struct umask_state u = {.set = false};
            char *v = pst_text_skip_blanks(p + 5);
            v[strcspn(v, " \t;#&|")] = '\0';
            if (*v != '\0' && *v != '-') {
                umask_setting(s, &u, path, lineno, v, ROOT_UMASK);
            }
            continue;
        }
        if (strncmp(p, "export", 6) == 0 && (p[6] == ' ' || p[6] == '\t')) {
            p = pst_text_skip_blanks(p + 6);
        }
        if (strncmp(p, "PATH=", 5) != 0) {
            continue;
        }
        p += 5;
        /* the value ends at the first blank or ';' outside quotes */
        char quote = 0;
        char *end = p;
        for (; *end != '\0'; end++) {
            if (quote != 0) {
                quote = *end == quote ? 0 : quote;
            } else if (*end == '"' || *end == '\'') {
                quote = *end;
            } else if (*end == ' ' || *end == '\t' || *end == ';' || *end == '#') {
                break;
            }
        }
        *end = '\0';
        for (char *q = p; *q != '\0'; q++) {
            if (*q == '"' || *q == '\'') {
                memmove(q, q + 1, strlen(q));
                q--;
            }
        }
        snprintf(source, sizeof(source), "%s:%ld", path, lineno);
        check_path_value(s, source, p);
    }
    free(buf);
    return PST_OK;
}

/* False when a file that may assign root's PATH could not be read. */
static bool collect_root_path(struct scan *s)
{
    static const char *const files[] = {"/etc/environment",  "/etc/profile",
                                        "/root/.profile",    "/root/.bash_profile",
                                        "/root/.bash_login", "/root/.bashrc"};

    if (s->defs[D_SUPATH].set) {
        char source[64];
        char *value = s->defs[D_SUPATH].value;
        snprintf(source, sizeof(source), "/etc/login.defs:%ld", s->defs[D_SUPATH].line);
        if (strncmp(value, "PATH=", 5) == 0) {
            value += 5;
        }
        check_path_value(s, source, value);
    }
    for (size_t i = 0; i < PST_COUNT(files); i++) {
        int rc = root_path_in_file(s, files[i]);
        if (rc != PST_OK && rc != PST_ENOENT) {
            return false; /* one reason is enough: the rest of /root is as closed */
        }
    }
    return true;
}

/* ---- the account files ---------------------------------------------------------------- */

/*
 * The shells of /etc/shells: a login shell maps to true; false and the like to false (CIS
 * counts them valid, but nobody logs in with them); nologin is left out, as CIS leaves it out
 * of the valid shells.
 */
static json_t *login_shells(struct scan *s)
{
    json_t *shells = json_object();
    char *buf = NULL, *cursor, *line;
    long lineno = 0;

    if (shells == NULL || read_file(s, "/etc/shells", &buf, false) != PST_OK) {
        return shells;
    }
    cursor = buf;
    while ((line = pst_text_next_line(&cursor, &lineno)) != NULL) {
        line = pst_text_skip_blanks(line);
        pst_text_rstrip(line);
        const char *base = strrchr(line, '/');
        if (line[0] != '/' || strcmp(base + 1, "nologin") == 0) {
            continue;
        }
        json_object_set_new_nocheck(
            shells, line,
            json_boolean(strstr(line, "nologin") == NULL && strstr(line, "/false") == NULL));
    }
    free(buf);
    return shells;
}

static int parse_passwd(struct scan *s, char *buf, struct account **accounts, size_t *n)
{
    char *cursor = buf, *line;
    long lineno = 0;
    size_t cap = 0;

    *accounts = NULL;
    *n = 0;
    while ((line = pst_text_next_line(&cursor, &lineno)) != NULL) {
        char *f[8];
        long uid, gid;
        if (line[0] == '\0' || line[0] == '+' || line[0] == '-') {
            continue; /* NIS compat entries are no local accounts */
        }
        if (split_fields(line, f, 7) != 7) {
            malformed(s, "/etc/passwd", lineno, "not 7 colon-separated fields");
            continue;
        }
        if (f[0][0] == '\0' || !parse_number(f[2], &uid) || !parse_number(f[3], &gid)) {
            malformed(s, "/etc/passwd", lineno, "empty name or uid/gid not a number");
            continue;
        }
        if (*n == ACCOUNTS_MAX) {
            pst_facts_error(s->out, "/etc/passwd", "/etc/passwd: more than %d entries",
                            ACCOUNTS_MAX);
            return PST_ETOOBIG;
        }
        if (*n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            struct account *grown = realloc(*accounts, ncap * sizeof(**accounts));
            if (grown == NULL) {
                return PST_ENOMEM;
            }
            *accounts = grown;
            cap = ncap;
        }
        (*accounts)[(*n)++] = (struct account){
            .name = f[0], .password = f[1], .shell = f[6], .uid = uid, .gid = gid, .line = lineno};
    }
    return PST_OK;
}

static long shadow_number(const char *text, bool *ok)
{
    long v;

    if (text[0] == '\0') {
        return -1;
    }
    if (text[0] == '-' && parse_number(text + 1, &v)) {
        return -v; /* -1 is written by some tools for "unset" */
    }
    if (!parse_number(text, &v)) {
        *ok = false;
    }
    return v;
}

/* Classifies every /etc/shadow entry into SHADOW (name -> index into *entries). */
static int parse_shadow(struct scan *s, char *buf, json_t *index, struct shadow_entry **entries,
                        size_t *n)
{
    char *cursor = buf, *line;
    long lineno = 0;
    size_t cap = 0;

    *entries = NULL;
    *n = 0;
    while ((line = pst_text_next_line(&cursor, &lineno)) != NULL) {
        char *f[10];
        bool ok = true;
        struct shadow_entry e = {.name = line, .line = lineno};
        if (line[0] == '\0' || line[0] == '+' || line[0] == '-') {
            continue;
        }
        if (split_fields(line, f, 9) != 9 || f[0][0] == '\0') {
            malformed(s, "/etc/shadow", lineno, "not 9 colon-separated fields");
            continue;
        }
        e.empty = f[1][0] == '\0';
        e.locked = f[1][0] == '!' || f[1][0] == '*';
        e.lastchg = shadow_number(f[2], &ok);
        e.min = shadow_number(f[3], &ok);
        e.max = shadow_number(f[4], &ok);
        e.warn = shadow_number(f[5], &ok);
        e.inactive = shadow_number(f[6], &ok);
        if (!ok) {
            malformed(s, "/etc/shadow", lineno, "an aging field is not a number");
            continue;
        }
        if (*n == ACCOUNTS_MAX) {
            pst_facts_error(s->out, "/etc/shadow", "/etc/shadow: more than %d entries",
                            ACCOUNTS_MAX);
            return PST_ETOOBIG;
        }
        if (*n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            struct shadow_entry *grown = realloc(*entries, ncap * sizeof(**entries));
            if (grown == NULL) {
                return PST_ENOMEM;
            }
            *entries = grown;
            cap = ncap;
        }
        if (json_object_get(index, f[0]) == NULL &&
            json_object_set_new_nocheck(index, f[0], json_integer((json_int_t)*n)) != 0) {
            return PST_ENOMEM;
        }
        (*entries)[(*n)++] = e;
    }
    return PST_OK;
}

/* A password field as passwd -S reports it (shadow's pw_status): L, NP or P. */
static const char *password_status(const char *password)
{
    return password[0] == '!' || password[0] == '*' ? "L" : password[0] == '\0' ? "NP" : "P";
}

static const char *entry_status(const struct shadow_entry *e)
{
    return e->locked ? "L" : e->empty ? "NP" : "P";
}

/* Password aging of one account that has a usable password. */
static void check_aging(struct scan *s, const char *user, const struct shadow_entry *e, long today)
{
    long max_days = arg_int(s, "max_days"), min_days = arg_int(s, "min_days");
    long warn_days = arg_int(s, "warn_days"), inactive_days = arg_int(s, "inactive_days");

#define AGE(v) ((v) < 0 ? json_null() : json_integer(v))
    if (e->max < 1 || e->max > max_days) {
        add(s, MAX_DAYS,
            json_pack("{s:o, s:o}", "user", pst_json_text(user), "max_days", AGE(e->max)));
    }
    if (e->min < min_days) {
        add(s, MIN_DAYS,
            json_pack("{s:o, s:o}", "user", pst_json_text(user), "min_days", AGE(e->min)));
    }
    if (e->warn < warn_days) {
        add(s, WARN_DAYS,
            json_pack("{s:o, s:o}", "user", pst_json_text(user), "warn_days", AGE(e->warn)));
    }
    if (e->inactive < 0 || e->inactive > inactive_days) {
        add(s, INACTIVE,
            json_pack("{s:o, s:o}", "user", pst_json_text(user), "inactive", AGE(e->inactive)));
    }
#undef AGE
    if (e->lastchg > today) {
        add(s, FUTURE, json_pack("{s:o}", "user", pst_json_text(user)));
    }
}

static int collect_groups(struct scan *s, char *buf, json_t *gids, long *groups,
                          json_t *shadow_members, long *shadow_gid)
{
    char *cursor = buf, *line;
    long lineno = 0, gid0_line = 0;
    json_t *by_gid = json_object(), *by_name = json_object(), *gid0 = json_array();
    int rc = PST_ENOMEM;

    *groups = 0;
    *shadow_gid = -1;
    if (by_gid == NULL || by_name == NULL || gid0 == NULL) {
        goto out;
    }
    while ((line = pst_text_next_line(&cursor, &lineno)) != NULL) {
        char *f[5];
        long gid;
        char key[32];
        if (line[0] == '\0' || line[0] == '+' || line[0] == '-') {
            continue;
        }
        if (split_fields(line, f, 4) != 4 || f[0][0] == '\0' || !parse_number(f[2], &gid)) {
            malformed(s, "/etc/group", lineno, "not 4 colon-separated fields with a numeric gid");
            continue;
        }
        if (++*groups > ACCOUNTS_MAX) {
            pst_facts_error(s->out, "/etc/group", "/etc/group: more than %d entries", ACCOUNTS_MAX);
            rc = PST_ETOOBIG;
            goto out;
        }
        snprintf(key, sizeof(key), "%ld", gid);
        if (map_append(by_gid, key, f[0]) != PST_OK || map_append(by_name, f[0], f[0]) != PST_OK ||
            json_object_set_new(gids, key, json_true()) != 0) {
            goto out;
        }
        if (gid == 0 && json_array_append_new(gid0, pst_json_text(f[0])) != 0) {
            goto out;
        }
        if (gid == 0 && gid0_line == 0 && strcmp(f[0], "root") != 0) {
            gid0_line = lineno;
        }
        if (strcmp(f[0], "shadow") == 0 && *shadow_gid < 0) {
            *shadow_gid = gid;
            for (char *m = f[3]; *m != '\0';) {
                size_t len = strcspn(m, ",");
                if (len > 0 && append_name(shadow_members, m, len) != 0) {
                    goto out;
                }
                m += len + (m[len] == ',');
            }
        }
    }
    report_duplicates(s, by_gid, DUP_GIDS, "gid", "groups", true);
    report_duplicates(s, by_name, DUP_GNAMES, "group", NULL, false);
    rc = pst_facts_set_at(s->out, "gid0", json_incref(gid0), "/etc/group", gid0_line);
out:
    json_decref(by_gid);
    json_decref(by_name);
    json_decref(gid0);
    return rc;
}

static int accounts_collect(struct pst_probe_ctx *ctx, const json_t *args, struct pst_facts *out)
{
    struct scan s = {.ctx = ctx, .out = out, .args = args, .rc = PST_OK};
    char *passwd = NULL, *shadow = NULL, *group = NULL, *useradd = NULL;
    size_t shadow_len = 0;
    struct account *acc = NULL;
    struct shadow_entry *sh = NULL;
    size_t n_acc = 0, n_sh = 0;
    json_t *shadow_index = json_object(), *by_uid = json_object(), *by_name = json_object();
    json_t *gids = json_object(), *shadow_members = json_array(), *uid0 = json_array();
    json_t *gid0_accounts = json_array();
    json_t *shells = NULL;
    long groups = 0, shadow_gid = -1, uid_min = 1000, inactive_default = -1, inactive_line = 0;
    long uid0_line = 0, gid0_line = 0, root_line = 0;
    const char *root_status = NULL, *root_source = "/etc/passwd";
    long today = (long)(time(NULL) / 86400);
    bool have_shadow = false, have_group = false;
    int rc;

    for (int k = 0; k < N_LISTS; k++) {
        if (pst_findings_init(&s.lists[k], (long)json_integer_value(
                                               json_object_get(args, "max_findings"))) != PST_OK) {
            s.rc = PST_ENOMEM;
        }
    }
    if (s.rc != PST_OK || shadow_index == NULL || by_uid == NULL || by_name == NULL ||
        gids == NULL || shadow_members == NULL || uid0 == NULL || gid0_accounts == NULL) {
        s.rc = PST_ENOMEM;
        goto out;
    }
    pst_mode_parse(json_string_value(json_object_get(args, "umask")), &s.umask_limit);
    read_login_defs(&s);
    if (s.defs[D_UID_MIN].set) {
        json_t *v = defs_number(&s.defs[D_UID_MIN]);
        if (json_is_integer(v)) {
            uid_min = (long)json_integer_value(v);
        }
        json_decref(v);
    }

    rc = read_file(&s, "/etc/passwd", &passwd, true);
    if (rc != PST_OK) {
        goto settings; /* the account facts stay out, with the reason in errors */
    }
    rc = parse_passwd(&s, passwd, &acc, &n_acc);
    if (rc != PST_OK) {
        s.rc = rc == PST_ENOMEM ? rc : s.rc;
        goto settings;
    }
    /* the shadow file is read only to classify each entry; its buffer is wiped below */
    rc = pst_fs_read(ctx->fs, "/etc/shadow", PST_FS_TEXT_LIMIT, true, &shadow, &shadow_len);
    if (rc == PST_OK) {
        have_shadow = true;
        rc = parse_shadow(&s, shadow, shadow_index, &sh, &n_sh);
        if (rc != PST_OK) {
            s.rc = rc == PST_ENOMEM ? rc : s.rc;
            have_shadow = false;
        }
    } else if (rc == PST_ENOMEM) {
        s.rc = rc;
        goto out;
    } else {
        pst_facts_error(out, "/etc/shadow", "read /etc/shadow: %s", pst_strerror(rc));
        shadow = NULL;
    }
    if (read_file(&s, "/etc/group", &group, true) == PST_OK) {
        have_group =
            collect_groups(&s, group, gids, &groups, shadow_members, &shadow_gid) == PST_OK;
    }
    shells = login_shells(&s);
    if (shells == NULL || s.rc != PST_OK) {
        s.rc = PST_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n_acc && s.rc == PST_OK; i++) {
        const struct account *a = &acc[i];
        char key[32];
        snprintf(key, sizeof(key), "%ld", a->uid);
        if (map_append(by_uid, key, a->name) != PST_OK ||
            map_append(by_name, a->name, a->name) != PST_OK ||
            (a->uid == 0 && json_array_append_new(uid0, pst_json_text(a->name)) != 0)) {
            s.rc = PST_ENOMEM;
            break;
        }
        if (a->uid == 0 && uid0_line == 0 && strcmp(a->name, "root") != 0) {
            uid0_line = a->line;
        }
        if (a->gid == 0) {
            if (json_array_append_new(gid0_accounts, pst_json_text(a->name)) != 0) {
                s.rc = PST_ENOMEM;
                break;
            }
            if (gid0_line == 0 && strcmp(a->name, "root") != 0) {
                gid0_line = a->line;
            }
        }
        if (strcmp(a->password, "x") != 0) {
            add(&s, NOT_SHADOWED,
                json_pack("{s:o, s:I}", "user", pst_json_text(a->name), "line",
                          (json_int_t)a->line));
        }
        if (have_group) {
            snprintf(key, sizeof(key), "%ld", a->gid);
            if (json_object_get(gids, key) == NULL) {
                add(&s, MISSING_GROUPS,
                    json_pack("{s:o, s:I}", "user", pst_json_text(a->name), "gid",
                              (json_int_t)a->gid));
            }
            if (a->gid == shadow_gid &&
                json_array_append_new(shadow_members, pst_json_text(a->name)) != 0) {
                s.rc = PST_ENOMEM;
            }
        }
        if ((a->uid < uid_min || a->uid == 65534) && strcmp(a->name, "root") != 0 &&
            strcmp(a->name, "sync") != 0 && strcmp(a->name, "shutdown") != 0 &&
            strcmp(a->name, "halt") != 0 && json_is_true(json_object_get(shells, a->shell))) {
            add(&s, SYS_SHELLS,
                json_pack("{s:o, s:I, s:o}", "user", pst_json_text(a->name), "uid",
                          (json_int_t)a->uid, "shell", pst_json_text(a->shell)));
        }
        if (have_shadow) {
            /* passwd -S reads the first shadow entry of the name, else the passwd field */
            const json_t *at = json_object_get(shadow_index, a->name);
            const struct shadow_entry *e = at != NULL ? &sh[(size_t)json_integer_value(at)] : NULL;
            const char *status = e != NULL ? entry_status(e) : password_status(a->password);
            if (e == NULL) {
                add(&s, NO_SHADOW, json_pack("{s:o}", "user", pst_json_text(a->name)));
            }
            if (strcmp(a->name, "root") != 0) {
                if (json_object_get(shells, a->shell) == NULL && strcmp(status, "L") != 0) {
                    add(&s, INVALID_SHELL,
                        json_pack("{s:o, s:o, s:s}", "user", pst_json_text(a->name), "shell",
                                  pst_json_text(a->shell), "status", status));
                }
            } else if (root_status == NULL) {
                root_status = status;
                root_source = e != NULL ? "/etc/shadow" : "/etc/passwd";
                root_line = e != NULL ? e->line : a->line;
            }
        }
    }
    /* password state and aging: one finding per /etc/shadow entry */
    for (size_t i = 0; i < n_sh && s.rc == PST_OK; i++) {
        const struct shadow_entry *e = &sh[i];
        if (e->empty) {
            add(&s, EMPTY_PW,
                json_pack("{s:o, s:I}", "user", pst_json_text(e->name), "line",
                          (json_int_t)e->line));
        } else if (!e->locked) {
            check_aging(&s, e->name, e, today);
        }
    }
    report_duplicates(&s, by_uid, DUP_UIDS, "uid", "users", true);
    report_duplicates(&s, by_name, DUP_UNAMES, "user", NULL, false);
    if (s.rc != PST_OK) {
        goto out;
    }
    if (pst_facts_set(out, "accounts", json_integer((json_int_t)n_acc), "/etc/passwd") != PST_OK ||
        pst_facts_set_at(out, "uid0", json_incref(uid0), "/etc/passwd", uid0_line) != PST_OK ||
        pst_facts_set_at(out, "gid0_accounts", json_incref(gid0_accounts), "/etc/passwd",
                         gid0_line) != PST_OK ||
        pst_findings_set(out, "not_shadowed", &s.lists[NOT_SHADOWED], "/etc/passwd") != PST_OK ||
        pst_findings_set(out, "system_login_shells", &s.lists[SYS_SHELLS], "/etc/passwd") !=
            PST_OK ||
        pst_findings_set(out, "duplicate_uids", &s.lists[DUP_UIDS], "/etc/passwd") != PST_OK ||
        pst_findings_set(out, "duplicate_user_names", &s.lists[DUP_UNAMES], "/etc/passwd") !=
            PST_OK) {
        s.rc = PST_ENOMEM;
        goto out;
    }
    if (have_group &&
        (pst_facts_set(out, "groups", json_integer(groups), "/etc/group") != PST_OK ||
         pst_facts_set(out, "shadow_group_members", json_incref(shadow_members), "/etc/group") !=
             PST_OK ||
         pst_findings_set(out, "duplicate_gids", &s.lists[DUP_GIDS], "/etc/group") != PST_OK ||
         pst_findings_set(out, "duplicate_group_names", &s.lists[DUP_GNAMES], "/etc/group") !=
             PST_OK ||
         pst_findings_set(out, "missing_groups", &s.lists[MISSING_GROUPS], "/etc/group") !=
             PST_OK)) {
        s.rc = PST_ENOMEM;
        goto out;
    }
    if (have_shadow) {
        static const enum list shadow_lists[] = {NO_SHADOW, EMPTY_PW, MAX_DAYS, MIN_DAYS,
                                                 WARN_DAYS, INACTIVE, FUTURE};
        for (size_t k = 0; k < PST_COUNT(shadow_lists); k++) {
            if (pst_findings_set(out, list_fields[shadow_lists[k]], &s.lists[shadow_lists[k]],
                                 "/etc/shadow") != PST_OK) {
                s.rc = PST_ENOMEM;
                goto out;
            }
        }
        if (pst_findings_set(out, "invalid_shell_unlocked", &s.lists[INVALID_SHELL],
                             "/etc/passwd, /etc/shells, /etc/shadow") != PST_OK ||
            pst_facts_set_at(out, "root_password_status", pst_json_string_or_null(root_status),
                             root_source, root_line) != PST_OK) {
            s.rc = PST_ENOMEM;
            goto out;
        }
    }

settings:
    if (s.rc != PST_OK) {
        goto out;
    }
    if (read_file(&s, "/etc/default/useradd", &useradd, false) == PST_OK) {
        char *cursor = useradd, *line;
        long lineno = 0;
        while ((line = pst_text_next_line(&cursor, &lineno)) != NULL) {
            char *p = pst_text_skip_blanks(line);
            long v;
            if (strncmp(p, "INACTIVE=", 9) != 0) {
                continue;
            }
            p += 9;
            pst_text_rstrip(p);
            pst_text_unquote(p);
            /* useradd reads the last INACTIVE= line */
            if (parse_number(p, &v) || (p[0] == '-' && parse_number(p + 1, &v) && (v = -v, 1))) {
                inactive_default = v;
                inactive_line = lineno;
            } else {
                pst_facts_error(out, "/etc/default/useradd",
                                "/etc/default/useradd:%ld: INACTIVE is not a number", lineno);
            }
        }
    }
    collect_umask(&s);
    bool root_path_complete = collect_root_path(&s);
    if (s.rc != PST_OK) {
        goto out;
    }
    if (set_def(&s, "pass_max_days", D_PASS_MAX, defs_number(&s.defs[D_PASS_MAX])) != PST_OK ||
        set_def(&s, "pass_min_days", D_PASS_MIN, defs_number(&s.defs[D_PASS_MIN])) != PST_OK ||
        set_def(&s, "pass_warn_age", D_PASS_WARN, defs_number(&s.defs[D_PASS_WARN])) != PST_OK ||
        set_def(&s, "encrypt_method", D_ENCRYPT,
                s.defs[D_ENCRYPT].set ? pst_json_text(s.defs[D_ENCRYPT].value) : json_null()) !=
            PST_OK ||
        set_def(&s, "uid_min", D_UID_MIN, json_integer(uid_min)) != PST_OK ||
        pst_facts_set_at(out, "inactive_default", json_integer(inactive_default),
                         inactive_line > 0 ? "/etc/default/useradd" : "default",
                         inactive_line) != PST_OK ||
        pst_findings_set(out, "umask_weak", &s.lists[UMASK_WEAK], NULL) != PST_OK ||
        (root_path_complete &&
         (pst_findings_set(out, "root_path_problems", &s.lists[ROOT_PATH], NULL) != PST_OK ||
          pst_findings_set(out, "root_umask_weak", &s.lists[ROOT_UMASK], NULL) != PST_OK)) ||
        pst_findings_set(out, "malformed", &s.lists[MALFORMED], NULL) != PST_OK) {
        s.rc = PST_ENOMEM;
    }
out:
    if (shadow != NULL) {
        explicit_bzero(shadow, shadow_len);
        free(shadow);
    }
    for (int k = 0; k < N_LISTS; k++) {
        pst_findings_release(&s.lists[k]);
    }
    json_decref(shadow_index);
    json_decref(by_uid);
    json_decref(by_name);
    json_decref(gids);
    json_decref(shadow_members);
    json_decref(uid0);
    json_decref(gid0_accounts);
    json_decref(shells);
    free(acc);
    free(sh);
    free(passwd);
    free(group);
    free(useradd);
    return s.rc;
}

const struct pst_probe pst_probe_accounts = {
    .name = "accounts",
    .summary = "account databases, password aging, login.defs and useradd defaults, root's "
               "PATH and the default umask",
    .args = accounts_args,
    .n_args = PST_COUNT(accounts_args),
    .fields = accounts_fields,
    .n_fields = PST_COUNT(accounts_fields),
    .collect = accounts_collect,
};
