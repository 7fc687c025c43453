/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Probe "mac": mandatory access control. AppArmor: whether the kernel enforces it (live:
 * /sys/module/apparmor/parameters/enabled) and its profiles by mode (live: the kernel's
 * list in securityfs; an offline root: the profiles /etc/apparmor.d would load). SELinux:
 * its mode (live: selinuxfs; else /etc/selinux/config).
 */
#include "probes/probe.h"

#include "agent/error.h"
#include "probes/text.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Most profile files read from /etc/apparmor.d. */
#define APPARMOR_FILES_MAX 5000

static const struct pst_probe_field mac_fields[] = {
    {"apparmor_enabled", PST_TYPE_BOOL,
     "the running kernel enforces AppArmor (/sys/module/apparmor/parameters/enabled); for an "
     "offline root, no boot parameter (apparmor=0, security=OTHER) turns it off"},
    {"apparmor_profiles", PST_TYPE_INT,
     "AppArmor profiles: loaded in the kernel (live), or defined in /etc/apparmor.d and not "
     "disabled (offline root)"},
    {"apparmor_enforce", PST_TYPE_INT, "of those, in enforce mode"},
    {"apparmor_complain", PST_TYPE_INT, "of those, in complain mode"},
    {"apparmor_other", PST_TYPE_INT, "of those, in another mode (kill, unconfined, prompt)"},
    {"apparmor_not_enforced", PST_TYPE_LIST, "names of profiles not in enforce mode (at most 20)"},
    {"selinux_mode", PST_TYPE_STRING,
     "enforcing, permissive or disabled; null when SELinux is neither running nor configured"},
};

struct counts {
    long total, enforce, complain, other;
    json_t *not_enforced;
};

static void count_profile(struct counts *c, const char *name, const char *mode)
{
    c->total++;
    if (strcmp(mode, "enforce") == 0) {
        c->enforce++;
        return;
    }
    if (strcmp(mode, "complain") == 0) {
        c->complain++;
    } else {
        c->other++;
    }
    if (json_array_size(c->not_enforced) < PST_FINDINGS_MAX) {
        char text[1024];
        snprintf(text, sizeof(text), "%s (%s)", name, mode);
        json_array_append_new(c->not_enforced, pst_json_text(text));
    }
}

/* Live: "name (mode)" lines of the kernel's profile list. */
static int kernel_profiles(struct pst_probe_ctx *ctx, struct pst_facts *out, struct counts *c,
                           bool enabled)
{
    const char *path = "/sys/kernel/security/apparmor/profiles";
    char *buf = NULL, *cursor, *line;
    size_t len;
    long lineno = 0;
    int rc = pst_fs_read(ctx->fs, path, PST_FS_TEXT_LIMIT, true, &buf, &len);

    if (rc == PST_ENOENT && !enabled) {
        return PST_OK; /* AppArmor is off: no profile is loaded */
    }
    if (rc != PST_OK) {
        pst_facts_error(out, path, "read %s: %s", path, pst_strerror(rc));
        return rc;
    }
    cursor = buf;
    while ((line = pst_text_next_line(&cursor, &lineno)) != NULL) {
        char *open = strrchr(line, '(');
        char *close = open != NULL ? strchr(open, ')') : NULL;
        if (open == NULL || close == NULL || open == line) {
            continue;
        }
        *close = '\0';
        open[-1] = '\0';
        count_profile(c, line, open + 1);
    }
    free(buf);
    return PST_OK;
}

/* Offline: every profile file of /etc/apparmor.d that is not disabled. */
static int file_profiles(struct pst_probe_ctx *ctx, struct pst_facts *out, struct counts *c)
{
    json_t *names = NULL;
    size_t i;
    json_t *name;
    int rc = pst_fs_list(ctx->fs, "/etc/apparmor.d", &names);

    if (rc == PST_ENOENT) {
        return PST_OK;
    }
    if (rc != PST_OK) {
        pst_facts_error(out, "/etc/apparmor.d", "list /etc/apparmor.d: %s", pst_strerror(rc));
        return rc;
    }
    if (json_array_size(names) > APPARMOR_FILES_MAX) {
        pst_facts_error(out, "/etc/apparmor.d", "/etc/apparmor.d holds more than %d entries",
                        APPARMOR_FILES_MAX);
        json_decref(names);
        return PST_ETOOBIG;
    }
    json_array_foreach(names, i, name)
    {
        const char *n = json_string_value(name);
        char path[PATH_MAX], other[PATH_MAX];
        struct stat st;
        char *buf = NULL;
        size_t len;
        /* apparmor_parser skips these names, as its init script does */
        if (n[0] == '.' || strstr(n, ".dpkg-") != NULL || n[strlen(n) - 1] == '~' ||
            strcmp(n, "README") == 0 ||
            snprintf(path, sizeof(path), "/etc/apparmor.d/%s", n) >= (int)sizeof(path) ||
            pst_fs_stat(ctx->fs, path, true, &st) != PST_OK || !S_ISREG(st.st_mode)) {
            continue;
        }
        snprintf(other, sizeof(other), "/etc/apparmor.d/disable/%s", n);
        if (pst_fs_stat(ctx->fs, other, false, &st) == PST_OK) {
            continue;
        }
        rc = pst_fs_read(ctx->fs, path, PST_FS_TEXT_LIMIT, true, &buf, &len);
        if (rc != PST_OK) {
            pst_facts_error(out, path, "read %s: %s", path, pst_strerror(rc));
            json_decref(names);
            return rc;
        }
        snprintf(other, sizeof(other), "/etc/apparmor.d/force-complain/%s", n);
        bool complain = pst_fs_stat(ctx->fs, other, false, &st) == PST_OK;
        bool is_profile = strstr(buf, "profile ") != NULL || strchr(buf, '{') != NULL;
        /* flags=(complain) or flags=(..., complain) on the profile's header */
        char *flags = strstr(buf, "flags=(");
        if (flags != NULL) {
            char *end = strchr(flags, ')');
            if (end != NULL) {
                *end = '\0';
                complain = complain || strstr(flags, "complain") != NULL;
            }
        }
        if (is_profile) {
            count_profile(c, n, complain ? "complain" : "enforce");
        }
        free(buf);
    }
    json_decref(names);
    return PST_OK;
}

static int selinux_fact(struct pst_probe_ctx *ctx, struct pst_facts *out)
{
    char *buf = NULL, *cursor, *line;
    size_t len;
    long lineno = 0;
    json_t *mode = NULL;
    const char *cfg = "/etc/selinux/config";
    char source[64] = "";

    if (pst_fs_is_live(ctx->fs) &&
        pst_fs_read(ctx->fs, "/sys/fs/selinux/enforce", 64, true, &buf, &len) == PST_OK) {
        mode = json_string(buf[0] == '1' ? "enforcing" : "permissive");
        free(buf);
        return pst_facts_set(out, "selinux_mode", mode, "/sys/fs/selinux/enforce");
    }
    if (pst_fs_read(ctx->fs, cfg, PST_FS_TEXT_LIMIT, true, &buf, &len) != PST_OK) {
        return pst_facts_set(out, "selinux_mode", json_null(), cfg);
    }
    cursor = buf;
    while ((line = pst_text_next_line(&cursor, &lineno)) != NULL) {
        char *p = pst_text_skip_blanks(line);
        if (strncmp(p, "SELINUX=", 8) == 0) {
            p += 8;
            pst_text_rstrip(p);
            pst_text_unquote(p);
            json_decref(mode);
            mode = pst_json_text(p);
            snprintf(source, sizeof(source), "%s:%ld", cfg, lineno);
        }
    }
    free(buf);
    return pst_facts_set(out, "selinux_mode", mode != NULL ? mode : json_null(),
                         source[0] ? source : cfg);
}

/*
 * An offline root: the kernel enables AppArmor at boot (Debian's and Ubuntu's kernels do by
 * default) unless a boot parameter turns it off: apparmor=0, or security= naming another
 * module, on the default command line or a linux line of grub.cfg.
 */
static int boot_enables_apparmor(struct pst_probe_ctx *ctx, struct pst_facts *out)
{
    static const char *const fields[] = {"default_kernel_params", "grub_cfg_kernel_params"};
    const struct pst_call *boot = NULL;
    const char *off = NULL;
    int rc = pst_probe_call(ctx, pst_probe_find("bootloader"), NULL, &boot);

    if (rc != PST_OK) {
        return rc;
    }
    for (size_t f = 0; f < PST_COUNT(fields) && off == NULL; f++) {
        const json_t *params = pst_call_value(boot, fields[f]);
        size_t i;
        const json_t *p;
        json_array_foreach(params, i, p)
        {
            const char *w = json_string_value(p);
            if (strcmp(w, "apparmor=0") == 0 || (strncmp(w, "security=", 9) == 0 &&
                                                 strcmp(w + 9, "apparmor") != 0 && w[9] != '\0')) {
                off = w;
                break;
            }
        }
    }
    return pst_facts_set(out, "apparmor_enabled", json_boolean(off == NULL),
                         off != NULL ? "boot parameters (offline root)"
                                     : "no boot parameter disables it (offline root)");
}

static int mac_collect(struct pst_probe_ctx *ctx, const json_t *args, struct pst_facts *out)
{
    struct counts c = {0};
    bool live = pst_fs_is_live(ctx->fs), enabled = false;
    const char *source = live ? "/sys/kernel/security/apparmor/profiles" : "/etc/apparmor.d";
    int rc;

    (void)args;
    c.not_enforced = json_array();
    if (c.not_enforced == NULL) {
        return PST_ENOMEM;
    }
    if (live) {
        const char *path = "/sys/module/apparmor/parameters/enabled";
        char *buf = NULL;
        size_t len;
        rc = pst_fs_read(ctx->fs, path, 64, true, &buf, &len);
        if (rc == PST_OK || rc == PST_ENOENT) {
            enabled = rc == PST_OK && buf[0] == 'Y';
            rc = pst_facts_set(out, "apparmor_enabled", json_boolean(rc == PST_OK && buf[0] == 'Y'),
                               path);
        } else {
            pst_facts_error(out, path, "read %s: %s", path, pst_strerror(rc));
            rc = rc == PST_ENOMEM ? rc : PST_OK;
        }
        free(buf);
    } else {
        rc = boot_enables_apparmor(ctx, out);
    }
    if (rc != PST_OK) {
        goto out;
    }
    rc = live ? kernel_profiles(ctx, out, &c, enabled) : file_profiles(ctx, out, &c);
    if (rc == PST_ENOMEM) {
        goto out;
    }
    if (rc == PST_OK) {
        if (pst_facts_set(out, "apparmor_profiles", json_integer(c.total), source) != PST_OK ||
            pst_facts_set(out, "apparmor_enforce", json_integer(c.enforce), source) != PST_OK ||
            pst_facts_set(out, "apparmor_complain", json_integer(c.complain), source) != PST_OK ||
            pst_facts_set(out, "apparmor_other", json_integer(c.other), source) != PST_OK ||
            pst_facts_set(out, "apparmor_not_enforced", json_incref(c.not_enforced), source) !=
                PST_OK) {
            rc = PST_ENOMEM;
            goto out;
        }
    }
    rc = selinux_fact(ctx, out);
out:
    json_decref(c.not_enforced);
    return rc;
}

const struct pst_probe pst_probe_mac = {
    .name = "mac",
    .summary = "mandatory access control: AppArmor enforcement and profile modes, SELinux mode",
    .args = NULL,
    .n_args = 0,
    .fields = mac_fields,
    .n_fields = PST_COUNT(mac_fields),
    .collect = mac_collect,
};
