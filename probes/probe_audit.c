/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Probe "audit": the Linux audit rules and auditd's configuration. The persisted rules are
 * the .rules files of /etc/audit/rules.d merged as augenrules merges them (files in version order,
 * `ls -1v`; comments and blank lines dropped; the last -e, -D, -b and -f kept); on a running system
 * the loaded rules come from `auditctl -l`, run without a shell and with a timeout. Both sets are
 * checked for the events the CIS Debian 12 benchmark (6.2.3) asks to audit.
 */
#include "probes/probe.h"

#include "agent/error.h"
#include "probes/exec.h"
#include "probes/findings.h"
#include "probes/text.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

/* Most rules kept from one set; more is an error, not a silent cut. */
#define AUDIT_RULES_MAX 20000
/* Most bytes of `auditctl -l` output read, and how long it may take. */
#define AUDITCTL_OUTPUT_MAX (4u * 1024u * 1024u)
#define AUDITCTL_TIMEOUT_MS 5000

static const struct pst_probe_arg audit_args[] = {
    {.name = "max_findings",
     .type = PST_TYPE_INT,
     .default_value = "30",
     .description = "findings kept as evidence per field; the counts count them all"},
};

static const struct pst_probe_field audit_fields[] = {
    {"rules_files", PST_TYPE_LIST, "the files of /etc/audit/rules.d merged, in augenrules' order"},
    {"rules", PST_TYPE_INT, "watch and syscall rules in the merged persisted set"},
    {"enable_flag", PST_TYPE_INT,
     "the -e value augenrules puts last (2: the configuration is immutable); null if none"},
    {"missing_events", PST_TYPE_FINDINGS,
     "CIS events the persisted rules do not audit {event, missing: [rules]}"},
    {"missing_events_count", PST_TYPE_INT, "how many"},
    {"loaded_rules", PST_TYPE_INT,
     "rules loaded in the kernel (auditctl -l); an offline root: the persisted set"},
    {"loaded_missing_events", PST_TYPE_FINDINGS,
     "CIS events the loaded rules do not audit {event, missing: [rules]}"},
    {"loaded_missing_events_count", PST_TYPE_INT, "how many"},
    {"exec_rule_paths", PST_TYPE_LIST,
     "programs whose executions the persisted rules record (-a always,exit -F path=P with perm "
     "x, or -w P -p x), as CIS 6.2.3.6 asks for each SUID/SGID program"},
    {"loaded_exec_rule_paths", PST_TYPE_LIST,
     "the same in the loaded rules (auditctl -l); an offline root: the persisted set"},
    {"conf_exists", PST_TYPE_BOOL, "/etc/audit/auditd.conf exists"},
    {"max_log_file", PST_TYPE_INT, "auditd.conf max_log_file in MiB (default 8)"},
    {"max_log_file_action", PST_TYPE_STRING, "auditd.conf max_log_file_action, lower case"},
    {"space_left_action", PST_TYPE_STRING, "auditd.conf space_left_action, lower case"},
    {"admin_space_left_action", PST_TYPE_STRING, "auditd.conf admin_space_left_action, lower case"},
    {"disk_full_action", PST_TYPE_STRING, "auditd.conf disk_full_action, lower case"},
    {"disk_error_action", PST_TYPE_STRING, "auditd.conf disk_error_action, lower case"},
    {"enabled", PST_TYPE_BOOL,
     "auditd.service is wanted by multi-user.target in /etc/systemd/system (the symlink "
     "systemctl enable makes)"},
};

/*
 * The events of CIS Debian 12 6.2.3: each a list of requirements. "w:PATH" a watch with
 * write and attribute permissions (-w PATH -p wa, or -F path= / -F dir= with perm=wa);
 * "x:PATH" executions of PATH (-F path=PATH -F perm=x); "s:SYSCALL[:FIELD]" an always,exit
 * rule for that syscall, on both b64 and b32, with FIELD among its -F / -C conditions.
 */
static const struct {
    const char *event;
    const char *requirements;
} audit_events[] = {
    {"sudoers", "w:/etc/sudoers w:/etc/sudoers.d"},
    {"user-emulation", "s:execve:euid!=uid"},
    {"sudo-log", "w:/var/log/sudo.log"},
    {"time-change", "s:adjtimex s:settimeofday s:clock_settime w:/etc/localtime"},
    {"system-locale", "s:sethostname s:setdomainname w:/etc/issue w:/etc/issue.net w:/etc/hosts "
                      "w:/etc/networks w:/etc/network"},
    {"access", "s:creat:exit=-EACCES s:open:exit=-EACCES s:openat:exit=-EACCES "
               "s:truncate:exit=-EACCES s:ftruncate:exit=-EACCES s:creat:exit=-EPERM "
               "s:open:exit=-EPERM s:openat:exit=-EPERM s:truncate:exit=-EPERM "
               "s:ftruncate:exit=-EPERM"},
    {"identity", "w:/etc/group w:/etc/passwd w:/etc/gshadow w:/etc/shadow "
                 "w:/etc/security/opasswd w:/etc/nsswitch.conf w:/etc/pam.conf w:/etc/pam.d"},
    {"perm-mod", "s:chmod s:fchmod s:fchmodat s:chown s:fchown s:lchown s:fchownat s:setxattr "
                 "s:lsetxattr s:fsetxattr s:removexattr s:lremovexattr s:fremovexattr"},
    {"mounts", "s:mount"},
    {"session", "w:/var/run/utmp w:/var/log/wtmp w:/var/log/btmp"},
    {"logins", "w:/var/log/lastlog w:/var/run/faillock"},
    {"delete", "s:unlink s:unlinkat s:rename s:renameat"},
    {"mac-policy", "w:/etc/apparmor w:/etc/apparmor.d"},
    {"chcon", "x:/usr/bin/chcon"},
    {"setfacl", "x:/usr/bin/setfacl"},
    {"chacl", "x:/usr/bin/chacl"},
    {"usermod", "x:/usr/sbin/usermod"},
    {"kernel-modules", "s:init_module s:finit_module s:delete_module x:/usr/bin/kmod"},
};

/* One parsed rule: a watch (path + perms) or a syscall rule. Strings are owned. */
struct rule {
    char *path;     /* -w PATH, or -F path= / -F dir= */
    char *perms;    /* -p PERMS or -F perm= */
    char *arch;     /* b64 / b32 from -F arch=, or NULL */
    char *syscalls; /* ",a,b," from every -S, or NULL */
    char *fields;   /* " f1 f2 " every -F and -C condition */
    bool exit_always;
    bool listed; /* an -a/-A rule (-w is a watch): it records only as always,exit */
};

struct rule_set {
    struct rule *rules;
    size_t n, cap;
    long enable_flag; /* -1: none */
};

static void rule_set_free(struct rule_set *set)
{
    for (size_t i = 0; i < set->n; i++) {
        free(set->rules[i].path);
        free(set->rules[i].perms);
        free(set->rules[i].arch);
        free(set->rules[i].syscalls);
        free(set->rules[i].fields);
    }
    free(set->rules);
    set->rules = NULL;
    set->n = set->cap = 0;
}

/* Appends ", TEXT," style pieces: *dst grows; returns 0 or PST_ENOMEM. */
static int append(char **dst, const char *sep, const char *text)
{
    char *joined;

    if (asprintf(&joined, "%s%s%s", *dst != NULL ? *dst : sep, text, sep) < 0) {
        return PST_ENOMEM;
    }
    free(*dst);
    *dst = joined;
    return PST_OK;
}

static int set_string(char **dst, const char *text)
{
    free(*dst);
    *dst = strdup(text);
    return *dst != NULL ? PST_OK : PST_ENOMEM;
}

/* A watched path without its trailing slashes: -w /etc/apparmor/ watches /etc/apparmor. */
static int set_path(char **dst, const char *text)
{
    size_t len = strlen(text);

    while (len > 1 && text[len - 1] == '/') {
        len--;
    }
    free(*dst);
    *dst = strndup(text, len);
    return *dst != NULL ? PST_OK : PST_ENOMEM;
}

/*
 * Parses one auditctl rule line (as in rules.d or as `auditctl -l` prints it) into SET.
 * Control lines (-D, -b, -f, -r, --backlog_wait_time...) are ignored, -e is remembered.
 * Returns 0, PST_EPARSE (with *why), PST_ETOOBIG or PST_ENOMEM.
 */
static int parse_rule(struct rule_set *set, char *line, const char **why)
{
    struct rule r = {0};
    char *save = NULL, *tok;
    bool is_rule = false;
    int rc = PST_OK;

    for (tok = strtok_r(line, " \t", &save); tok != NULL && rc == PST_OK;
         tok = strtok_r(NULL, " \t", &save)) {
        char *arg = NULL;
        bool takes_arg = strcmp(tok, "-w") == 0 || strcmp(tok, "-p") == 0 ||
                         strcmp(tok, "-k") == 0 || strcmp(tok, "-a") == 0 ||
                         strcmp(tok, "-A") == 0 || strcmp(tok, "-F") == 0 ||
                         strcmp(tok, "-C") == 0 || strcmp(tok, "-S") == 0 ||
                         strcmp(tok, "-e") == 0 || strcmp(tok, "-W") == 0;
        if (takes_arg) {
            arg = strtok_r(NULL, " \t", &save);
            if (arg == NULL) {
                *why = "option without its value";
                rc = PST_EPARSE;
                break;
            }
        }
        if (strcmp(tok, "-w") == 0) {
            is_rule = true;
            rc = set_path(&r.path, arg);
        } else if (strcmp(tok, "-p") == 0) {
            rc = set_string(&r.perms, arg);
        } else if (strcmp(tok, "-a") == 0 || strcmp(tok, "-A") == 0) {
            is_rule = true;
            r.listed = true;
            r.exit_always = strcmp(arg, "always,exit") == 0 || strcmp(arg, "exit,always") == 0;
        } else if (strcmp(tok, "-S") == 0) {
            rc = append(&r.syscalls, ",", arg);
        } else if (strcmp(tok, "-F") == 0 || strcmp(tok, "-C") == 0) {
            if (strncmp(arg, "arch=", 5) == 0) {
                rc = set_string(&r.arch, arg + 5);
            } else if (strncmp(arg, "path=", 5) == 0 || strncmp(arg, "dir=", 4) == 0) {
                rc = set_path(&r.path, strchr(arg, '=') + 1);
            } else if (strncmp(arg, "perm=", 5) == 0) {
                rc = set_string(&r.perms, arg + 5);
            } else {
                rc = append(&r.fields, " ", arg);
            }
        } else if (strcmp(tok, "-e") == 0) {
            char *end;
            errno = 0;
            long v = strtol(arg, &end, 10);
            if (*end != '\0' || errno != 0 || v < 0 || v > 2) {
                *why = "-e takes 0, 1 or 2";
                rc = PST_EPARSE;
            } else {
                set->enable_flag = v;
            }
        } else if (strcmp(tok, "-W") == 0 || strcmp(tok, "-k") == 0) {
            /* a removal or a key: no effect on coverage */
        } else if (!is_rule && tok == line) {
            break; /* -D, -b 8192, -f 1, --loginuid-immutable...: not rules */
        }
    }
    if (rc == PST_OK && is_rule) {
        if (set->n == AUDIT_RULES_MAX) {
            rc = PST_ETOOBIG;
        } else {
            if (set->n == set->cap) {
                size_t ncap = set->cap ? set->cap * 2 : 64;
                struct rule *grown = realloc(set->rules, ncap * sizeof(*grown));
                if (grown == NULL) {
                    rc = PST_ENOMEM;
                    goto out;
                }
                set->rules = grown;
                set->cap = ncap;
            }
            set->rules[set->n++] = r;
            return PST_OK;
        }
    }
out:
    free(r.path);
    free(r.perms);
    free(r.arch);
    free(r.syscalls);
    free(r.fields);
    return rc;
}

static bool perms_have(const char *perms, const char *want)
{
    for (; *want != '\0'; want++) {
        if (perms == NULL || strchr(perms, *want) == NULL) {
            return false;
        }
    }
    return true;
}

/* Whether SET audits requirement REQ ("w:...", "x:...", "s:NAME[:FIELD]") on ARCH. */
static bool covered(const struct rule_set *set, const char *kind, const char *what,
                    const char *field, const char *arch)
{
    char needle[128];

    snprintf(needle, sizeof(needle), ",%s,", what);
    for (size_t i = 0; i < set->n; i++) {
        const struct rule *r = &set->rules[i];
        if (kind[0] == 'w' || kind[0] == 'x') {
            if (r->path != NULL && strcmp(r->path, what) == 0 &&
                perms_have(r->perms, kind[0] == 'w' ? "wa" : "x") &&
                (!r->listed || r->exit_always)) {
                return true;
            }
            continue;
        }
        if (!r->exit_always || r->syscalls == NULL ||
            (strstr(r->syscalls, needle) == NULL && strstr(r->syscalls, ",all,") == NULL)) {
            continue;
        }
        /* a rule without arch= applies to the native architecture, b64 here */
        if (strcmp(r->arch != NULL ? r->arch : "b64", arch) != 0) {
            continue;
        }
        if (field != NULL) {
            char f[128];
            snprintf(f, sizeof(f), " %s ", field);
            if (r->fields == NULL || strstr(r->fields, f) == NULL) {
                continue;
            }
        }
        return true;
    }
    return false;
}

/* The paths of SET's rules that record executions, each once, in rule order. */
static json_t *exec_rule_paths(const struct rule_set *set)
{
    json_t *paths = json_array(), *seen = json_object();

    if (paths == NULL || seen == NULL) {
        goto fail;
    }
    for (size_t i = 0; i < set->n; i++) {
        const struct rule *r = &set->rules[i];
        if (r->path == NULL || !perms_have(r->perms, "x") || (r->listed && !r->exit_always) ||
            json_object_get(seen, r->path) != NULL) {
            continue;
        }
        if (json_object_set_new_nocheck(seen, r->path, json_true()) != 0 ||
            json_array_append_new(paths, pst_json_text(r->path)) != 0) {
            goto fail;
        }
    }
    json_decref(seen);
    return paths;
fail:
    json_decref(paths);
    json_decref(seen);
    return NULL;
}

/* One finding per event SET does not fully audit. */
static int check_events(const struct rule_set *set, struct pst_findings *findings)
{
    for (size_t e = 0; e < PST_COUNT(audit_events); e++) {
        char reqs[512];
        char *save = NULL, *req;
        json_t *missing = json_array();
        if (missing == NULL) {
            return PST_ENOMEM;
        }
        snprintf(reqs, sizeof(reqs), "%s", audit_events[e].requirements);
        for (req = strtok_r(reqs, " ", &save); req != NULL; req = strtok_r(NULL, " ", &save)) {
            char *what = req + 2;
            char *field = req[0] == 's' ? strchr(what, ':') : NULL;
            if (field != NULL) {
                *field++ = '\0';
            }
            if (req[0] != 's') {
                /* a missing requirement is written as the rule that would meet it */
                if (!covered(set, req, what, NULL, NULL)) {
                    json_array_append_new(
                        missing, req[0] == 'w'
                                     ? json_sprintf("-w %s -p wa", what)
                                     : json_sprintf("-a always,exit -F path=%s -F perm=x", what));
                }
                continue;
            }
            for (int a = 0; a < 2; a++) {
                const char *arch = a == 0 ? "b64" : "b32";
                if (!covered(set, "s", what, field, arch)) {
                    json_array_append_new(
                        missing, json_sprintf("-a always,exit -F arch=%s -S %s%s%s", arch, what,
                                              field == NULL                    ? ""
                                              : strncmp(field, "euid", 4) == 0 ? " -C "
                                                                               : " -F ",
                                              field ? field : ""));
                }
            }
        }
        if (json_array_size(missing) == 0) {
            json_decref(missing);
            continue;
        }
        if (pst_findings_add(findings, json_pack("{s:s, s:o}", "event", audit_events[e].event,
                                                 "missing", missing)) != PST_OK) {
            return PST_ENOMEM;
        }
    }
    return PST_OK;
}

/* Parses the lines of BUF (named NAME) into SET; errors name NAME:LINE. */
static int parse_rules_text(struct pst_facts *out, const char *name, char *buf,
                            struct rule_set *set, bool *bad)
{
    char *cursor = buf, *line;
    long lineno = 0;

    while ((line = pst_text_next_line(&cursor, &lineno)) != NULL) {
        const char *why = NULL;
        char *p = pst_text_skip_blanks(line);
        int rc;
        if (*p == '\0' || *p == '#' || strcmp(p, "No rules") == 0) {
            continue;
        }
        rc = parse_rule(set, p, &why);
        if (rc == PST_ENOMEM) {
            return rc;
        }
        if (rc == PST_ETOOBIG) {
            pst_facts_error(out, name, "%s: more than %d audit rules", name, AUDIT_RULES_MAX);
            *bad = true;
            return PST_OK;
        }
        if (rc != PST_OK) {
            pst_facts_error(out, name, "%s:%ld: %s", name, lineno, why);
            *bad = true;
        }
    }
    return PST_OK;
}

static int by_version(const void *a, const void *b)
{
    return strverscmp(*(const char *const *)a, *(const char *const *)b);
}

/* The persisted rules of /etc/audit/rules.d, merged as augenrules does. */
static int persisted_rules(struct pst_probe_ctx *ctx, struct pst_facts *out, struct rule_set *set,
                           json_t *files, bool *bad)
{
    json_t *names = NULL;
    const char **sorted = NULL;
    size_t n = 0;
    int rc = pst_fs_list(ctx->fs, "/etc/audit/rules.d", &names);

    if (rc == PST_ENOENT) {
        return PST_OK;
    }
    if (rc != PST_OK) {
        pst_facts_error(out, "/etc/audit/rules.d", "list /etc/audit/rules.d: %s", pst_strerror(rc));
        *bad = true;
        return rc == PST_ENOMEM ? rc : PST_OK;
    }
    sorted = calloc(json_array_size(names) + 1, sizeof(*sorted));
    if (sorted == NULL) {
        rc = PST_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < json_array_size(names); i++) {
        const char *nm = json_string_value(json_array_get(names, i));
        size_t len = strlen(nm);
        if (len >= 6 && strcmp(nm + len - 6, ".rules") == 0) {
            sorted[n++] = nm;
        }
    }
    qsort(sorted, n, sizeof(*sorted), by_version);
    for (size_t i = 0; i < n && rc == PST_OK; i++) {
        char path[PATH_MAX], *buf = NULL;
        size_t len;
        snprintf(path, sizeof(path), "/etc/audit/rules.d/%s", sorted[i]);
        rc = pst_fs_read(ctx->fs, path, PST_FS_TEXT_LIMIT, true, &buf, &len);
        if (rc != PST_OK) {
            pst_facts_error(out, path, "read %s: %s", path, pst_strerror(rc));
            *bad = true;
            rc = rc == PST_ENOMEM ? rc : PST_OK;
            continue;
        }
        if (json_array_append_new(files, pst_json_text(path)) != 0) {
            rc = PST_ENOMEM;
        } else {
            rc = parse_rules_text(out, path, buf, set, bad);
        }
        free(buf);
    }
out:
    free(sorted);
    json_decref(names);
    return rc;
}

/* The auditctl program of the running system, or NULL. */
static const char *auditctl_path(void)
{
    static const char *const candidates[] = {"/usr/sbin/auditctl", "/sbin/auditctl"};
    for (size_t i = 0; i < PST_COUNT(candidates); i++) {
        if (access(candidates[i], X_OK) == 0) {
            return candidates[i];
        }
    }
    return NULL;
}

#define AUDITCTL_KEY "auditctl -l"

/* Starts `auditctl -l` ahead (a probe's prepare), on a running system that has it. */
static int audit_prepare(struct pst_probe_ctx *ctx, const json_t *args)
{
    const char *bin = auditctl_path();
    struct pst_exec proc;
    char why[256];
    (void)args;
    if (!pst_fs_is_live(ctx->fs) || bin == NULL ||
        json_object_get(ctx->started, AUDITCTL_KEY) != NULL) {
        return PST_OK;
    }
    const char *const argv[] = {bin, "-l", NULL};
    return pst_exec_start(argv, &proc, why, sizeof why) == 0
               ? pst_probe_started_put(ctx, AUDITCTL_KEY, &proc)
               : PST_OK;
}

/*
 * Runs `auditctl -l` (no shell, empty stdin; probes/exec.c), or collects the run prepare
 * started, and reads its output, at most AUDITCTL_OUTPUT_MAX bytes within
 * AUDITCTL_TIMEOUT_MS. Returns 0 with *text (caller frees), or PST_E* with a reason in WHY.
 */
static int run_auditctl(struct pst_probe_ctx *ctx, char **text, char *why, size_t n)
{
    const char *bin = auditctl_path();
    struct pst_exec proc;
    char *err = NULL;
    int status = 0, rc;

    *text = NULL;
    if (bin == NULL) {
        snprintf(why, n, "auditctl is not installed");
        return PST_ENOENT;
    }
    const char *const argv[] = {bin, "-l", NULL};
    if (!pst_probe_started_take(ctx, AUDITCTL_KEY, &proc) &&
        pst_exec_start(argv, &proc, why, n) != 0) {
        return PST_EIO;
    }
    rc = pst_exec_finish(&proc, AUDITCTL_KEY, AUDITCTL_TIMEOUT_MS, AUDITCTL_OUTPUT_MAX, text, &err,
                         &status, why, n);
    free(err);
    if (rc == PST_OK && status != 0) {
        snprintf(why, n, "%s -l failed (exit status %d): the audit rules cannot be read here%s",
                 bin, status, geteuid() != 0 ? " (a complete assessment needs root)" : "");
        free(*text);
        *text = NULL;
        rc = PST_EIO;
    }
    return rc;
}

/* auditd.conf: "key = value", keys and values compared without case. */
static int auditd_conf(struct pst_probe_ctx *ctx, struct pst_facts *out)
{
    static const struct {
        const char *key;
        const char *def;
        bool number;
    } keys[] = {
        {"max_log_file", "8", true},
        {"max_log_file_action", "rotate", false},
        {"space_left_action", "syslog", false},
        {"admin_space_left_action", "suspend", false},
        {"disk_full_action", "suspend", false},
        {"disk_error_action", "syslog", false},
    };
    const char *path = "/etc/audit/auditd.conf";
    char values[PST_COUNT(keys)][64];
    long lines[PST_COUNT(keys)] = {0};
    char *buf = NULL, *cursor, *line;
    size_t len;
    long lineno = 0;
    int rc = pst_fs_read(ctx->fs, path, PST_FS_TEXT_LIMIT, true, &buf, &len);

    if (rc == PST_ENOENT) {
        return pst_facts_set(out, "conf_exists", json_false(), path);
    }
    if (rc != PST_OK) {
        pst_facts_error(out, path, "read %s: %s", path, pst_strerror(rc));
        return rc == PST_ENOMEM ? rc : PST_OK;
    }
    for (size_t i = 0; i < PST_COUNT(keys); i++) {
        snprintf(values[i], sizeof(values[i]), "%s", keys[i].def);
    }
    cursor = buf;
    while ((line = pst_text_next_line(&cursor, &lineno)) != NULL) {
        char *key = pst_text_skip_blanks(line);
        char *eq = strchr(key, '=');
        if (*key == '#' || eq == NULL) {
            continue;
        }
        *eq = '\0';
        pst_text_rstrip(key);
        char *value = pst_text_skip_blanks(eq + 1);
        pst_text_rstrip(value);
        for (size_t i = 0; i < PST_COUNT(keys); i++) {
            if (strcasecmp(key, keys[i].key) == 0) {
                snprintf(values[i], sizeof(values[i]), "%s", value);
                for (char *c = values[i]; *c != '\0'; c++) {
                    *c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
                }
                lines[i] = lineno;
            }
        }
    }
    free(buf);
    rc = pst_facts_set(out, "conf_exists", json_true(), path);
    for (size_t i = 0; i < PST_COUNT(keys) && rc == PST_OK; i++) {
        json_t *v;
        if (keys[i].number) {
            char *end;
            long num = strtol(values[i], &end, 10);
            v = (*end == '\0' && values[i][0] != '\0') ? json_integer(num) : NULL;
            if (v == NULL) {
                pst_facts_error(out, path, "%s:%ld: %s is not a number", path, lines[i],
                                keys[i].key);
                continue;
            }
        } else {
            v = pst_json_text(values[i]);
        }
        rc = pst_facts_set_at(out, keys[i].key, v, lines[i] > 0 ? path : "default", lines[i]);
    }
    return rc;
}

static int audit_collect(struct pst_probe_ctx *ctx, const json_t *args, struct pst_facts *out)
{
    long max = (long)json_integer_value(json_object_get(args, "max_findings"));
    struct rule_set persisted = {.enable_flag = -1}, loaded = {.enable_flag = -1};
    struct pst_findings missing = {0}, loaded_missing = {0};
    json_t *files = json_array();
    bool bad = false;
    struct stat st;
    int rc = PST_ENOMEM;

    if (files == NULL || pst_findings_init(&missing, max) != PST_OK ||
        pst_findings_init(&loaded_missing, max) != PST_OK) {
        goto out;
    }
    rc = persisted_rules(ctx, out, &persisted, files, &bad);
    if (rc != PST_OK) {
        goto out;
    }
    if (!bad) {
        if (check_events(&persisted, &missing) != PST_OK ||
            pst_facts_set(out, "rules_files", json_incref(files), "/etc/audit/rules.d") != PST_OK ||
            pst_facts_set(out, "rules", json_integer((json_int_t)persisted.n),
                          "/etc/audit/rules.d") != PST_OK ||
            pst_facts_set(out, "enable_flag",
                          persisted.enable_flag >= 0 ? json_integer(persisted.enable_flag)
                                                     : json_null(),
                          "/etc/audit/rules.d") != PST_OK ||
            pst_findings_set(out, "missing_events", &missing, "/etc/audit/rules.d") != PST_OK ||
            pst_facts_set(out, "exec_rule_paths", exec_rule_paths(&persisted),
                          "/etc/audit/rules.d") != PST_OK) {
            rc = PST_ENOMEM;
            goto out;
        }
    }
    if (pst_fs_is_live(ctx->fs)) {
        char *text = NULL;
        char why[512];
        bool loaded_bad = false;
        rc = run_auditctl(ctx, &text, why, sizeof(why));
        if (rc != PST_OK) {
            pst_facts_error(out, "auditctl -l", "%s", why);
        } else {
            rc = parse_rules_text(out, "auditctl -l", text, &loaded, &loaded_bad);
            free(text);
            if (rc != PST_OK) {
                goto out;
            }
            if (!loaded_bad &&
                (check_events(&loaded, &loaded_missing) != PST_OK ||
                 pst_facts_set(out, "loaded_rules", json_integer((json_int_t)loaded.n),
                               "auditctl -l") != PST_OK ||
                 pst_findings_set(out, "loaded_missing_events", &loaded_missing, "auditctl -l") !=
                     PST_OK ||
                 pst_facts_set(out, "loaded_exec_rule_paths", exec_rule_paths(&loaded),
                               "auditctl -l") != PST_OK)) {
                rc = PST_ENOMEM;
                goto out;
            }
        }
    } else if (!bad) {
        /* an offline root loads at boot what its rules.d holds */
        if (pst_facts_set(out, "loaded_rules", json_integer((json_int_t)persisted.n),
                          "/etc/audit/rules.d (offline root: the persisted rules)") != PST_OK ||
            pst_findings_set(out, "loaded_missing_events", &missing,
                             "/etc/audit/rules.d (offline root: the persisted rules)") != PST_OK ||
            pst_facts_set(out, "loaded_exec_rule_paths", exec_rule_paths(&persisted),
                          "/etc/audit/rules.d (offline root: the persisted rules)") != PST_OK) {
            rc = PST_ENOMEM;
            goto out;
        }
    }
    rc = auditd_conf(ctx, out);
    if (rc == PST_OK) {
        const char *link = "/etc/systemd/system/multi-user.target.wants/auditd.service";
        rc = pst_facts_set(out, "enabled",
                           json_boolean(pst_fs_stat(ctx->fs, link, false, &st) == PST_OK), link);
    }
out:
    rule_set_free(&persisted);
    rule_set_free(&loaded);
    pst_findings_release(&missing);
    pst_findings_release(&loaded_missing);
    json_decref(files);
    return rc;
}

const struct pst_probe pst_probe_audit = {
    .name = "audit",
    .summary = "audit rules (rules.d merged as augenrules does, and auditctl -l live) against "
               "the CIS events; auditd.conf; whether auditd is enabled",
    .args = audit_args,
    .n_args = PST_COUNT(audit_args),
    .fields = audit_fields,
    .n_fields = PST_COUNT(audit_fields),
    .collect = audit_collect,
    .prepare = audit_prepare,
};
