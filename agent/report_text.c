/* SPDX-License-Identifier: Apache-2.0 */
/* The text report: both scores, then controls with what fails first, evidence and fixes. */
#include "agent/report.h"

#include "agent/error.h"
#include "probes/text.h"

#include <stdlib.h>
#include <string.h>

struct style {
    const char *red, *green, *yellow, *cyan, *dim, *bold, *reset;
};

static const struct style colors = {"\033[31m", "\033[32m", "\033[33m", "\033[36m",
                                    "\033[2m",  "\033[1m",  "\033[0m"};
static const struct style plain = {"", "", "", "", "", "", ""};

static const char *status_color(const struct style *st, enum pst_status s)
{
    switch (s) {
    case PST_STATUS_PASS:
        return st->green;
    case PST_STATUS_FAIL:
        return st->red;
    case PST_STATUS_ERROR:
        return st->yellow;
    case PST_STATUS_EXEMPT:
        return st->cyan;
    case PST_STATUS_NOT_APPLICABLE:
        return st->dim;
    }
    return "";
}

static const char *const status_tags[] = {
    [PST_STATUS_PASS] = "PASS",           [PST_STATUS_FAIL] = "FAIL",
    [PST_STATUS_NOT_APPLICABLE] = "N/A ", [PST_STATUS_EXEMPT] = "EXEMPT",
    [PST_STATUS_ERROR] = "ERROR",
};

/* Prints TEXT after LABEL, continuation lines aligned under the first. */
static void print_indented(FILE *out, const char *label, const char *text, int indent)
{
    int pad = indent;
    const char *p = text;

    for (bool first = true; p != NULL && *p != '\0'; first = false) {
        const char *nl = strchr(p, '\n');
        int n = nl ? (int)(nl - p) : (int)strlen(p);
        fprintf(out, "%*s%s%.*s\n", pad, "", first ? label : "", n, p);
        pad = indent + (int)strlen(label);
        p = nl ? nl + 1 : NULL;
    }
}

/* A value for the terminal: strings quoted, others as JSON, never a control character. */
static char *render(const json_t *v)
{
    char *raw = NULL;
    char *safe;

    if (v == NULL) {
        return strdup("(not seen)");
    }
    if (json_is_string(v)) {
        if (asprintf(&raw, "\"%s\"", json_string_value(v)) < 0) {
            return NULL;
        }
    } else {
        raw = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    }
    safe = raw != NULL ? pst_text_printable(raw) : NULL;
    free(raw);
    return safe;
}

/* Prints PREFIX, then S made printable, then SUFFIX. */
static void print_safe(FILE *out, const char *prefix, const char *s, const char *suffix)
{
    char *safe = pst_text_printable(s);

    fprintf(out, "%s%s%s", prefix, safe != NULL ? safe : "?", suffix);
    free(safe);
}

static void print_evidence(FILE *out, const struct style *st, const struct pst_result *r)
{
    for (size_t i = 0; i < r->n_evidence; i++) {
        const struct pst_evidence *ev = &r->evidence[i];
        const char *outcome = pst_outcome_name(ev->outcome);
        const char *color = ev->outcome == PST_OUTCOME_PASS   ? st->green
                            : ev->outcome == PST_OUTCOME_FAIL ? st->red
                                                              : st->yellow;
        fprintf(out, "        %s%-5s%s %s", color, outcome, st->reset, ev->leaf->fact);
        char *args = pst_eval_args_text(ev->leaf->args);
        fputs(args ? args : "", out);
        free(args);
        if (ev->error != NULL) {
            print_safe(out, ": ", ev->error, "\n");
            continue;
        }
        /* an item without a value (an error without its message) prints as the report's null */
        const json_t *value = ev->observed != NULL ? ev->observed : json_null();
        bool findings = json_is_array(value) && json_is_object(json_array_get(value, 0));
        char *observed = findings ? NULL : render(value);
        const char *expected = ev->leaf->expected;
        if (findings) {
            /* a list of findings: one a line, so that each file can be read */
            fprintf(out, ": observed %zu finding%s, expected %s", json_array_size(value),
                    json_array_size(value) == 1 ? "" : "s", expected);
        } else {
            fprintf(out, ": observed %s, expected %s", observed ? observed : "?", expected);
        }
        free(observed);
        if (ev->source != NULL) {
            fputs(st->dim, out);
            print_safe(out, " (", ev->source, ")");
            fputs(st->reset, out);
        }
        fputc('\n', out);
        if (json_array_size(ev->offending) > 0) {
            char *names = render(ev->offending);
            print_safe(out, "              not allowed: ", names ? names : "?", "\n");
            free(names);
        }
        size_t k;
        const json_t *finding;
        json_array_foreach(findings ? value : NULL, k, finding)
        {
            char *line = render(finding);
            fprintf(out, "              %s\n", line ? line : "?");
            free(line);
        }
    }
}

static void print_result(FILE *out, const struct style *st, const struct pst_result *r)
{
    const struct pst_recommendation *rec = r->rec;

    fprintf(out, "    %s%-6s%s %-8s %s%s%s  %s\n", status_color(st, r->status),
            status_tags[r->status], st->reset, pst_severity_name(rec->severity), st->bold, rec->id,
            st->reset, rec->title);
    switch (r->status) {
    case PST_STATUS_FAIL:
        print_evidence(out, st, r);
        if (r->evidence_omitted > 0) {
            fprintf(out, "        (%zu more evidence items in the JSON report)\n",
                    r->evidence_omitted);
        }
        print_indented(out, "fix: ", rec->remediation, 8);
        break;
    case PST_STATUS_ERROR:
        print_safe(out, "        could not assess: ", r->reason ? r->reason : "unknown", "\n");
        break;
    case PST_STATUS_EXEMPT:
        fprintf(out, "        %s: %s%s%s\n", pst_exemption_kind_name(r->exemption->kind),
                r->exemption->reason, r->exemption->expires[0] ? ", until " : "",
                r->exemption->expires);
        break;
    case PST_STATUS_NOT_APPLICABLE:
        if (r->reason != NULL) {
            fputs(st->dim, out);
            print_safe(out, "        ", r->reason, "");
            fprintf(out, "%s\n", st->reset);
        }
        break;
    case PST_STATUS_PASS:
        break;
    }
}

int pst_report_text(const struct pst_scan *scan, FILE *out, bool color)
{
    const struct style *st = color ? &colors : &plain;
    const struct pst_score *s = &scan->score;
    const char *host = json_string_value(json_object_get(scan->host, "hostname"));
    const char *pretty =
        json_string_value(json_object_get(json_object_get(scan->host, "os"), "pretty_name"));

    char *where = pst_text_printable(scan->root ? scan->root : host ? host : "?");
    char *os = pst_text_printable(pretty ? pretty : "unknown OS");
    fprintf(out, "%sposture %s%s  %s %s (%s)\n", st->bold, POSTURE_VERSION, st->reset,
            scan->root ? "root" : "host", where ? where : "?", os ? os : "?");
    free(where);
    free(os);
    for (size_t i = 0; i < scan->policies->n_policies; i++) {
        fprintf(out, "policy %s v%ld (%s)\n", scan->policies->policies[i]->id,
                scan->policies->policies[i]->version, scan->policies->policies[i]->path);
    }
    if (s->has_percent) {
        fprintf(out, "%sSecure score: %ld of %ld (%.2f%%)%s\n", st->bold, s->current, s->max,
                s->percent, st->reset);
    } else {
        fprintf(out, "%sSecure score: n/a (no control in the score)%s\n", st->bold, st->reset);
    }
    if (s->has_compliance) {
        fprintf(out,
                "Compliance: %.2f%% (%zu pass, %zu fail, %zu error, %zu exempt, %zu not "
                "applicable)\n",
                s->compliance_percent, s->pass, s->fail, s->error, s->exempt, s->not_applicable);
    } else {
        fprintf(out, "Compliance: n/a (nothing assessed)\n");
    }
    for (size_t c = 0; c < scan->n_controls; c++) {
        const struct pst_control_result *cr = &scan->controls[c];
        const char *state = !cr->in_score ? "not scored" : cr->healthy ? "healthy" : "unhealthy";
        fprintf(out, "\n%s%s%s  %s%s%s  %ld/%ld", st->bold, cr->control->title, st->reset,
                !cr->in_score ? st->dim
                : cr->healthy ? st->green
                              : st->red,
                state, st->reset, cr->current, cr->control->max_score);
        if (cr->potential_increase > 0) {
            fprintf(out, "  (potential increase +%ld)", cr->potential_increase);
        }
        fputc('\n', out);
        for (size_t i = 0; i < cr->n_results; i++) {
            print_result(out, st, &scan->results[cr->results[i]]);
        }
    }
    fputc('\n', out);
    size_t i;
    const json_t *w;
    json_array_foreach(scan->warnings, i, w)
    {
        fprintf(out, "%swarning:%s ", st->yellow, st->reset);
        print_safe(out, "", json_string_value(w), "\n");
    }
    if (s->error > 0) {
        fprintf(out, "%zu recommendation%s could not be assessed (see ERROR above)%s\n", s->error,
                s->error == 1 ? "" : "s",
                scan->needs_root > 0 ? "; a complete assessment needs root" : "");
    } else {
        fprintf(out, "Every applicable recommendation was assessed.\n");
    }
    return ferror(out) ? PST_EIO : PST_OK;
}
