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

static int kernel_collect(struct pst_probe_ctx *ctx, const json_t *args, struct pst_facts *out)
{
    const json_t *index;
    const char *key;
    json_t *entry;
    json_t *images = json_array();
    json_t *pkgs = json_array();
    const char *newest_name = NULL, *newest_version = NULL;
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
    rc = PST_OK;
    if (index == NULL) {
        const char *why = json_string_value(json_object_get(ctx->memo, DPKG_STATUS));
        pst_facts_error(out, DPKG_STATUS, "read %s: %s", DPKG_STATUS, why ? why : "failed");
    } else {
        json_object_foreach((json_t *)index, key, entry)
        {
            const char *status = json_string_value(json_object_get(entry, "status"));
            const char *version = json_string_value(json_object_get(entry, "version"));
            const char *release;
            const char *state;
            char name[256];
            const char *colon = strchr(key, ':');
            if (colon == NULL || status == NULL || version == NULL) {
                continue;
            }
            snprintf(name, sizeof(name), "%.*s", (int)(colon - key), key);
            state = strrchr(status, ' ') ? strrchr(status, ' ') + 1 : status;
            release = image_release(name);
            if (release == NULL || strcmp(state, "not-installed") == 0 ||
                strcmp(state, "config-files") == 0) {
                continue;
            }
            json_array_append_new(images, json_string(release));
            if (newest_name != NULL) {
                bool ok;
                int c = pst_debversion_compare(version, newest_version, &ok);
                if (!ok) {
                    continue;
                }
                if (c == 0) {
                    c = pst_debversion_compare(release, newest_release, &ok);
                }
                if (c <= 0) {
                    continue;
                }
            }
            newest_name = key;
            newest_version = version;
            snprintf(newest_release, sizeof(newest_release), "%s", release);
            snprintf(newest_source, sizeof(newest_source), "%s:%lld", DPKG_STATUS,
                     (long long)json_integer_value(json_object_get(entry, "line")));
        }
        if (pst_facts_set(out, "images", json_incref(images), DPKG_STATUS) != 0 ||
            pst_facts_set(out, "images_count", json_integer((json_int_t)json_array_size(images)),
                          DPKG_STATUS) != 0) {
            rc = PST_ENOMEM;
            goto out;
        }
        {
            char package[256] = "";
            char release[256] = "";
            if (newest_name != NULL) {
                snprintf(package, sizeof(package), "%.*s", (int)strcspn(newest_name, ":"),
                         newest_name);
                snprintf(release, sizeof(release), "%s", newest_release);
            }
            if (pst_facts_set(out, "newest_image_release",
                              newest_name ? json_string(release) : json_null(),
                              newest_source) != 0 ||
                pst_facts_set(out, "newest_image_package",
                              newest_name ? json_string(package) : json_null(),
                              newest_source) != 0 ||
                pst_facts_set(out, "newest_image_version",
                              newest_name ? pst_json_text(newest_version) : json_null(),
                              newest_source) != 0) {
                rc = PST_ENOMEM;
                goto out;
            }
            if (live && pst_facts_set(out, "running_is_newest",
                                      newest_name ? json_boolean(strcmp(release, uts.release) == 0)
                                                  : json_null(),
                                      newest_source) != 0) {
                rc = PST_ENOMEM;
                goto out;
            }
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
