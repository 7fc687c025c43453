/* SPDX-License-Identifier: Apache-2.0 */
/* Probe "package": whether a Debian package is installed, and its version, from dpkg's status. */
#include "probes/probe.h"

#include "agent/error.h"
#include "probes/dpkg_status.h"
#include "probes/text.h"

#include <stdlib.h>
#include <string.h>

static const struct pst_probe_arg package_args[] = {
    {.name = "name",
     .type = PST_TYPE_STRING,
     .required = true,
     .description = "package name, optionally with :architecture"},
};

static const struct pst_probe_field package_fields[] = {
    {"installed", PST_TYPE_BOOL,
     "the package's files are on the system: any dpkg state but not-installed and config-files"},
    {"configured", PST_TYPE_BOOL, "dpkg's state is \"installed\": unpacked and configured"},
    {"state", PST_TYPE_STRING,
     "dpkg's state: installed, unpacked, half-configured, triggers-pending, config-files... "
     "or not-installed"},
    {"status", PST_TYPE_STRING, "the whole Status line (want flag state)"},
    {"version", PST_TYPE_STRING, "the Version dpkg records for it; null when it has none"},
    {"architecture", PST_TYPE_STRING, "package architecture"},
};

/* dpkg states in which none of the package's files (but conffiles) are on the system. */
static bool files_absent(const char *state)
{
    return strcmp(state, "not-installed") == 0 || strcmp(state, "config-files") == 0;
}

static int package_collect(struct pst_probe_ctx *ctx, const json_t *args, struct pst_facts *out)
{
    const char *name = json_string_value(json_object_get(args, "name"));
    const struct pst_dpkg_status *index;
    const struct pst_dpkg_pkg *pkg;
    json_t *status = NULL;
    const char *state;
    char source[64];
    int rc;

    index = pst_dpkg_status_index(ctx, out, &rc);
    if (index == NULL) {
        return rc; /* the reason is among the errors */
    }
    pkg = pst_dpkg_status_find(index, name);
    if (pkg == NULL) {
        if (pst_facts_set(out, "installed", json_false(), DPKG_STATUS) != 0 ||
            pst_facts_set(out, "configured", json_false(), DPKG_STATUS) != 0 ||
            pst_facts_set(out, "state", json_string("not-installed"), DPKG_STATUS) != 0 ||
            pst_facts_set(out, "status", json_null(), DPKG_STATUS) != 0 ||
            pst_facts_set(out, "version", json_null(), DPKG_STATUS) != 0 ||
            pst_facts_set(out, "architecture", json_null(), DPKG_STATUS) != 0) {
            return PST_ENOMEM;
        }
        return PST_OK;
    }
    snprintf(source, sizeof(source), "%s:%ld", DPKG_STATUS, pkg->line);
    /* the state is read from the status as reported, bytes that are not UTF-8 made '?' */
    status = pst_json_text(pkg->status);
    if (status == NULL) {
        return PST_ENOMEM;
    }
    state = strrchr(json_string_value(status), ' ');
    state = state ? state + 1 : json_string_value(status);
    if (*state == '\0') {
        state = "unknown";
    }
    if (pst_facts_set(out, "installed", json_boolean(!files_absent(state)), source) != 0 ||
        pst_facts_set(out, "configured", json_boolean(strcmp(state, "installed") == 0), source) !=
            0 ||
        pst_facts_set(out, "state", json_string(state), source) != 0 ||
        pst_facts_set(out, "status", json_incref(status), source) != 0 ||
        pst_facts_set(out, "version", pkg->version ? pst_json_text(pkg->version) : json_null(),
                      source) != 0 ||
        pst_facts_set(out, "architecture", pkg->arch ? pst_json_text(pkg->arch) : json_null(),
                      source) != 0) {
        rc = PST_ENOMEM;
    }
    json_decref(status);
    return rc;
}

const struct pst_probe pst_probe_package = {
    .name = "package",
    .summary = "whether a Debian package is installed, and its version (dpkg status)",
    .args = package_args,
    .n_args = PST_COUNT(package_args),
    .fields = package_fields,
    .n_fields = PST_COUNT(package_fields),
    .collect = package_collect,
};
