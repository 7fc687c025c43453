/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Probe "kernel": the running kernel release, the newest installed kernel image package,
 * whether they differ, and the reboot that Debian's packages ask for.
 */
#include "probes/probe.h"

#include "agent/error.h"
#include "probes/debversion.h"
#include "probes/dpkg_status.h"
#include "probes/text.h"

#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#define REBOOT_REQUIRED "/var/run/reboot-required"
#define REBOOT_PKGS "/var/run/reboot-required.pkgs"

static const struct pst_probe_field kernel_fields[] = {
    {"running_release", PST_TYPE_STRING,
     "release of the running kernel (uname -r); a running system only"},
    {"images", PST_TYPE_LIST, "releases of the installed kernel image packages"},
    {"images_count", PST_TYPE_INT, "how many"},
    {"newest_image_release", PST_TYPE_STRING,
     "release of the newest installed image (highest package version); null when none"},
    {"newest_image_package", PST_TYPE_STRING, "its package"},
    {"newest_image_version", PST_TYPE_STRING, "its package version"},
    {"running_is_newest", PST_TYPE_BOOL,
     "the running kernel is the newest installed image; null when no image package is "
     "installed (a container)"},
    {"reboot_required", PST_TYPE_BOOL, "/var/run/reboot-required exists"},
    {"reboot_required_packages", PST_TYPE_LIST, "packages named in /var/run/reboot-required.pkgs"},
};

/* The kernel release a package name carries: linux-image-[unsigned-]RELEASE, digits first. */
static const char *image_release(const char *name)
{
    static const char *const prefixes[] = {"linux-image-unsigned-", "linux-image-"};

    for (size_t i = 0; i < PST_COUNT(prefixes); i++) {
        size_t n = strlen(prefixes[i]);
        if (strncmp(name, prefixes[i], n) == 0 && name[n] >= '0' && name[n] <= '9') {
            return name + n;
        }
    }
    return NULL;
}

/* A Status whose last word (or whole text) is a state without the package's files. */
static bool state_absent(const char *status)
{
    const char *state = strrchr(status, ' ');

    state = state ? state + 1 : status;
    return strcmp(state, "not-installed") == 0 || strcmp(state, "config-files") == 0;
}

static int kernel_collect(struct pst_probe_ctx *ctx, const json_t *args, struct pst_facts *out)
{
    const struct pst_dpkg_status *index;
    json_t *images = json_array();
    json_t *pkgs = json_array();
    bool have_newest = false;
    char newest_name[256] = "";
    const char *newest_version = NULL;
    char *newest_copy = NULL; /* newest_version when it had to be made UTF-8 */
    char newest_release[256] = "";
    char newest_source[128] = DPKG_STATUS;
    struct utsname uts;
    bool live = pst_fs_is_live(ctx->fs);
    char *buf = NULL;
    size_t len;
    int rc;

    (void)args;
    if (images == NULL || pkgs == NULL) {
        rc = PST_ENOMEM;
        goto out;
    }
    if (!live) {
        pst_facts_error(out, NULL, "running kernel: not available for an offline root");
    } else if (uname(&uts) != 0) {
        pst_facts_error(out, NULL, "uname: failed");
        live = false;
    } else if (pst_facts_set(out, "running_release", json_string(uts.release), "uname") != 0) {
        rc = PST_ENOMEM;
        goto out;
    }
    index = pst_dpkg_status_index(ctx, out, &rc);
    if (rc == PST_ENOMEM) {
        goto out;
    }
    if (index != NULL) {
        struct pst_dpkg_entry e;
        size_t pos = 0;
        while (pst_dpkg_status_next(index, &pos, &e)) {
            const char *release;
            const char *version;
            char *copy;
            char name[256];
            if (e.pkg->version == NULL || state_absent(e.pkg->status)) {
                continue;
            }
            snprintf(name, sizeof(name), "%.*s", (int)e.name_len, e.name);
            release = image_release(name);
            if (release == NULL) {
                continue;
            }
            /* versions compare as reported, bytes that are not UTF-8 made '?' */
            version = pst_dpkg_text(e.pkg->version, &copy);
            if (version == NULL) {
                rc = PST_ENOMEM;
                goto out;
            }
            json_array_append_new(images, json_string(release));
            if (have_newest) {
                bool ok;
                int c = pst_debversion_compare(version, newest_version, &ok);
                if (ok && c == 0) {
                    c = pst_debversion_compare(release, newest_release, &ok);
                }
                if (!ok || c <= 0) {
                    free(copy);
                    continue;
                }
            }
            have_newest = true;
            snprintf(newest_name, sizeof(newest_name), "%s", name);
            free(newest_copy);
            newest_copy = copy;
            newest_version = version;
            snprintf(newest_release, sizeof(newest_release), "%s", release);
            snprintf(newest_source, sizeof(newest_source), "%s:%ld", DPKG_STATUS, e.pkg->line);
        }
        if (pst_facts_set(out, "images", json_incref(images), DPKG_STATUS) != 0 ||
            pst_facts_set(out, "images_count", json_integer((json_int_t)json_array_size(images)),
                          DPKG_STATUS) != 0) {
            rc = PST_ENOMEM;
            goto out;
        }
        if (pst_facts_set(out, "newest_image_release",
                          have_newest ? json_string(newest_release) : json_null(),
                          newest_source) != 0 ||
            pst_facts_set(out, "newest_image_package",
                          have_newest ? json_string(newest_name) : json_null(),
                          newest_source) != 0 ||
            pst_facts_set(out, "newest_image_version",
                          have_newest ? pst_json_text(newest_version) : json_null(),
                          newest_source) != 0) {
            rc = PST_ENOMEM;
            goto out;
        }
        if (live &&
            pst_facts_set(out, "running_is_newest",
                          have_newest ? json_boolean(strcmp(newest_release, uts.release) == 0)
                                      : json_null(),
                          newest_source) != 0) {
            rc = PST_ENOMEM;
            goto out;
        }
    }
    rc = pst_fs_read(ctx->fs, REBOOT_REQUIRED, PST_FS_TEXT_LIMIT, false, &buf, &len);
    free(buf);
    buf = NULL;
    if (rc == PST_OK || rc == PST_ENOENT) {
        if (pst_facts_set(out, "reboot_required", json_boolean(rc == PST_OK), REBOOT_REQUIRED) !=
            0) {
            rc = PST_ENOMEM;
            goto out;
        }
    } else if (rc == PST_ENOMEM) {
        goto out;
    } else {
        pst_facts_error(out, REBOOT_REQUIRED, "read %s: %s", REBOOT_REQUIRED, pst_strerror(rc));
    }
    rc = pst_fs_read(ctx->fs, REBOOT_PKGS, PST_FS_TEXT_LIMIT, true, &buf, &len);
    if (rc == PST_OK || rc == PST_ENOENT) {
        char *cursor = buf, *line;
        long lineno = 0;
        while (buf != NULL && (line = pst_text_next_line(&cursor, &lineno)) != NULL) {
            line = pst_text_skip_blanks(line);
            pst_text_rstrip(line);
            if (line[0] == '\0') {
                continue;
            }
            /* the file repeats a package for each trigger: list each once */
            bool seen = false;
            size_t i;
            json_t *v;
            json_array_foreach(pkgs, i, v)
            {
                seen = seen || strcmp(json_string_value(v), line) == 0;
            }
            if (!seen && json_array_size(pkgs) < 1000) {
                json_array_append_new(pkgs, pst_json_text(line));
            }
        }
        if (pst_facts_set(out, "reboot_required_packages", json_incref(pkgs), REBOOT_PKGS) != 0) {
            rc = PST_ENOMEM;
            goto out;
        }
        rc = PST_OK;
    } else if (rc != PST_ENOMEM) {
        pst_facts_error(out, REBOOT_PKGS, "read %s: %s", REBOOT_PKGS, pst_strerror(rc));
        rc = PST_OK;
    }
out:
    free(buf);
    free(newest_copy);
    json_decref(images);
    json_decref(pkgs);
    return rc;
}

const struct pst_probe pst_probe_kernel = {
    .name = "kernel",
    .summary = "running kernel against the newest installed image package, pending reboot",
    .args = NULL,
    .n_args = 0,
    .fields = kernel_fields,
    .n_fields = PST_COUNT(kernel_fields),
    .collect = kernel_collect,
};
