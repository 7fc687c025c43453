/* SPDX-License-Identifier: Apache-2.0 */
/* Probe "lines": the lines of a text file that match a POSIX extended regex. */
#include "probes/probe.h"

#include "agent/error.h"
#include "probes/text.h"

#include <regex.h>
#include <stdlib.h>

static const struct pst_probe_arg lines_args[] = {
    {.name = "path",
     .type = PST_TYPE_STRING,
     .required = true,
     .path = true,
     .description = "absolute path of the text file inside the scanned root"},
    {.name = "regex",
     .type = PST_TYPE_STRING,
     .required = true,
     .regex = true,
     .description = "POSIX extended regex a line must match"},
    {.name = "skip_comments",
     .type = PST_TYPE_BOOL,
     .default_value = "true",
     .description = "ignore lines whose first non-blank character is '#'"},
    {.name = "ignore_case",
     .type = PST_TYPE_BOOL,
     .default_value = "false",
     .description = "match without regard to case"},
};

static const struct pst_probe_field lines_fields[] = {
    {"exists", PST_TYPE_BOOL, "the file exists"},
    {"matched", PST_TYPE_BOOL, "at least one line matches"},
    {"count", PST_TYPE_INT, "number of matching lines"},
    {"matches", PST_TYPE_FINDINGS,
     "matching lines as {line, text}, the first "
     "20"
     " of them"},
};

static int lines_collect(struct pst_probe_ctx *ctx, const json_t *args, struct pst_facts *out)
{
    const char *path = json_string_value(json_object_get(args, "path"));
    const char *pattern = json_string_value(json_object_get(args, "regex"));
    bool skip_comments = json_is_true(json_object_get(args, "skip_comments"));
    int cflags = REG_EXTENDED | REG_NOSUB;
    json_t *matches = NULL;
    char *buf = NULL;
    char *cursor;
    char *line;
    long lineno = 0, first = 0, count = 0;
    regex_t re;
    bool compiled = false;
    int rc;

    if (json_is_true(json_object_get(args, "ignore_case"))) {
        cflags |= REG_ICASE;
    }
    if (regcomp(&re, pattern, cflags) != 0) {
        pst_facts_error(out, NULL, "regex does not compile: %s", pattern);
        return PST_OK;
    }
    compiled = true;
    matches = json_array();
    if (matches == NULL) {
        rc = PST_ENOMEM;
        goto out;
    }
    rc = pst_probe_read_text(ctx, out, path, PST_FS_TEXT_LIMIT, &buf);
    if (rc != PST_OK && rc != PST_ENOENT) {
        rc = rc == PST_ENOMEM ? rc : PST_OK;
        goto out;
    }
    cursor = buf;
    while ((line = pst_text_next_line(&cursor, &lineno)) != NULL) {
        if (skip_comments && *pst_text_skip_blanks(line) == '#') {
            continue;
        }
        if (regexec(&re, line, 0, NULL, 0) != 0) {
            continue;
        }
        if (count == 0) {
            first = lineno;
        }
        count++;
        if (json_array_size(matches) < PST_FINDINGS_MAX &&
            json_array_append_new(matches, json_pack("{s:I, s:o}", "line", (json_int_t)lineno,
                                                     "text", pst_json_text(line))) != 0) {
            rc = PST_ENOMEM;
            goto out;
        }
    }
    if (pst_facts_set_at(out, "matched", json_boolean(count > 0), path, first) != PST_OK ||
        pst_facts_set_at(out, "count", json_integer(count), path, first) != PST_OK ||
        pst_facts_set_at(out, "matches", json_incref(matches), path, first) != PST_OK) {
        rc = PST_ENOMEM;
        goto out;
    }
    rc = PST_OK;
out:
    if (compiled) {
        regfree(&re);
    }
    json_decref(matches);
    free(buf);
    return rc;
}

const struct pst_probe pst_probe_lines = {
    .name = "lines",
    .summary = "lines of a text file matching a regex, with their line numbers",
    .args = lines_args,
    .n_args = PST_COUNT(lines_args),
    .fields = lines_fields,
    .n_fields = PST_COUNT(lines_fields),
    .collect = lines_collect,
};
