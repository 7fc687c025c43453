/* SPDX-License-Identifier: Apache-2.0 */
/* Probe "keyvalue": one key of a KEY VALUE or KEY=VALUE configuration file. */
#include "probes/probe.h"

#include "agent/error.h"
#include "probes/text.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const separator_choices[] = {"auto", "space", "equals", NULL};
static const char *const match_choices[] = {"first", "last", NULL};

static const struct pst_probe_arg keyvalue_args[] = {
    {.name = "path",
     .type = PST_TYPE_STRING,
     .required = true,
     .path = true,
     .description = "absolute path of the configuration file inside the scanned root"},
    {.name = "key", .type = PST_TYPE_STRING, .required = true, .description = "the key to read"},
    {.name = "separator",
     .type = PST_TYPE_STRING,
     .default_value = "auto",
     .choices = separator_choices,
     .description = "space (login.defs), equals (/etc/default/*, sysctl.conf) or auto (either)"},
    {.name = "match",
     .type = PST_TYPE_STRING,
     .default_value = "last",
     .choices = match_choices,
     .description = "which assignment wins when the key repeats: first or last"},
    {.name = "ignore_case",
     .type = PST_TYPE_BOOL,
     .default_value = "false",
     .description = "compare keys without regard to case"},
};

static const struct pst_probe_field keyvalue_fields[] = {
    {"exists", PST_TYPE_BOOL, "the file exists"},
    {"present", PST_TYPE_BOOL, "the key is assigned in the file"},
    {"value", PST_TYPE_STRING, "the winning value, surrounding quotes removed; null if absent"},
    {"number", PST_TYPE_INT,
     "the winning value as a C-style integer (0x hex, leading-0 octal), as login.defs is read; "
     "null if absent or not one"},
    {"occurrences", PST_TYPE_INT, "how many times the key is assigned"},
};

/*
 * Splits LINE into key and value by the separator rule; returns false when the line assigns
 * nothing. A key with no value after blanks is ignored, as shadow ignores it in login.defs;
 * "KEY=" assigns the empty string, as a shell does.
 */
static bool split_assignment(char *line, const char *separator, char **key, char **value)
{
    char *k = pst_text_skip_blanks(line);
    bool explicit_equals = false;
    char *end;

    if (*k == '\0' || *k == '#' || *k == ';') {
        return false;
    }
    if (strcmp(separator, "equals") == 0) {
        end = strchr(k, '=');
        if (end == NULL) {
            return false;
        }
        *value = end + 1;
        *end = '\0';
        explicit_equals = true;
        pst_text_rstrip(k);
    } else {
        end = k + strcspn(k, strcmp(separator, "space") == 0 ? " \t" : " \t=");
        if (*end == '\0') {
            return false; /* a bare key */
        }
        explicit_equals = *end == '=';
        *end = '\0';
        *value = pst_text_skip_blanks(end + 1);
        if (!explicit_equals && strcmp(separator, "auto") == 0 && **value == '=') {
            explicit_equals = true;
            (*value)++;
        }
    }
    *key = k;
    *value = pst_text_skip_blanks(*value);
    pst_text_rstrip(*value);
    pst_text_unquote(*value);
    return **key != '\0' && (explicit_equals || **value != '\0');
}

static int keyvalue_collect(struct pst_probe_ctx *ctx, const json_t *args, struct pst_facts *out)
{
    const char *path = json_string_value(json_object_get(args, "path"));
    const char *want = json_string_value(json_object_get(args, "key"));
    const char *separator = json_string_value(json_object_get(args, "separator"));
    bool last = strcmp(json_string_value(json_object_get(args, "match")), "last") == 0;
    bool icase = json_is_true(json_object_get(args, "ignore_case"));
    const char *value = NULL;
    long value_line = 0, lineno = 0, occurrences = 0;
    char *buf = NULL;
    char *cursor;
    char *line;
    json_t *number = NULL;
    int rc = pst_probe_read_text(ctx, out, path, PST_FS_TEXT_LIMIT, &buf);

    if (rc != PST_OK && rc != PST_ENOENT) {
        return rc == PST_ENOMEM ? rc : PST_OK;
    }
    cursor = buf;
    while ((line = pst_text_next_line(&cursor, &lineno)) != NULL) {
        char *key, *val;
        if (!split_assignment(line, separator, &key, &val)) {
            continue;
        }
        if ((icase ? strcasecmp(key, want) : strcmp(key, want)) != 0) {
            continue;
        }
        occurrences++;
        if (value == NULL || last) {
            value = val;
            value_line = lineno;
        }
    }
    if (value != NULL) {
        char *end;
        long long n;
        errno = 0;
        /* C-style, as shadow's getdef_num reads login.defs: 0x10 is 16, 027 is octal 23. */
        n = strtoll(value, &end, 0);
        number = (*value != '\0' && *end == '\0' && errno == 0) ? json_integer(n) : json_null();
    } else {
        number = json_null();
    }
    if (pst_facts_set_at(out, "present", json_boolean(value != NULL), path, value_line) != 0 ||
        pst_facts_set_at(out, "value", value ? pst_json_text(value) : json_null(), path,
                         value_line) != 0 ||
        pst_facts_set_at(out, "number", number, path, value_line) != 0 ||
        pst_facts_set_at(out, "occurrences", json_integer(occurrences), path, value_line) != 0) {
        rc = PST_ENOMEM;
    } else {
        rc = PST_OK;
    }
    free(buf);
    return rc;
}

const struct pst_probe pst_probe_keyvalue = {
    .name = "keyvalue",
    .summary = "one key of a KEY VALUE or KEY=VALUE file, with the line that set it",
    .args = keyvalue_args,
    .n_args = PST_COUNT(keyvalue_args),
    .fields = keyvalue_fields,
    .n_fields = PST_COUNT(keyvalue_fields),
    .collect = keyvalue_collect,
};
