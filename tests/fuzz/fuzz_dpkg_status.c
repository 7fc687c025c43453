/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: dpkg's status index checked against a reference, the index as a Jansson
 * object built line by line as posture built it before: every key of the reference resolves
 * to the same stanza, every key with a colon comes in the same order, other names resolve to
 * nothing in both, and the values come out as pst_json_text makes them.
 */
#include "agent/error.h"
#include "probes/dpkg_status.h"
#include "probes/text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The reference: {"NAME:ARCH" -> entry, "NAME" -> entry}, entry {status, version, arch, line}. */
struct ref_stanza {
    const char *package, *status, *version, *arch;
    long line;
};

static bool ref_absent(const json_t *entry)
{
    const char *status = entry ? json_string_value(json_object_get(entry, "status")) : NULL;
    const char *state = status && strrchr(status, ' ') ? strrchr(status, ' ') + 1 : "";

    return strcmp(state, "not-installed") == 0 || strcmp(state, "config-files") == 0;
}

static void ref_add(json_t *index, const struct ref_stanza *s, size_t *count)
{
    json_t *entry;
    char key[512];

    if (s->package == NULL) {
        return;
    }
    (*count)++;
    entry =
        json_pack("{s:o, s:o, s:o, s:I}", "status", pst_json_text(s->status ? s->status : ""),
                  "version", s->version ? pst_json_text(s->version) : json_null(), "architecture",
                  s->arch ? pst_json_text(s->arch) : json_null(), "line", (json_int_t)s->line);
    if (entry == NULL) {
        abort();
    }
    snprintf(key, sizeof(key), "%s:%s", s->package, s->arch ? s->arch : "");
    json_object_set_nocheck(index, key, entry);
    {
        json_t *prev = json_object_get(index, s->package);
        if (prev == NULL || ref_absent(prev)) {
            json_object_set_nocheck(index, s->package, entry);
        }
    }
    json_decref(entry);
}

static json_t *ref_index(char *buf, size_t *count)
{
    json_t *index = json_object();
    struct ref_stanza s = {0};
    char *cursor = buf, *line;
    long lineno = 0;

    if (index == NULL) {
        abort();
    }
    while ((line = pst_text_next_line(&cursor, &lineno)) != NULL) {
        if (*line == '\0') {
            ref_add(index, &s, count);
            memset(&s, 0, sizeof(s));
        } else if (*line == ' ' || *line == '\t') {
            continue;
        } else if (strncmp(line, "Package:", 8) == 0) {
            s.package = pst_text_skip_blanks(line + 8);
            s.line = lineno;
        } else if (strncmp(line, "Status:", 7) == 0) {
            s.status = pst_text_skip_blanks(line + 7);
        } else if (strncmp(line, "Version:", 8) == 0) {
            s.version = pst_text_skip_blanks(line + 8);
        } else if (strncmp(line, "Architecture:", 13) == 0) {
            s.arch = pst_text_skip_blanks(line + 13);
        }
    }
    ref_add(index, &s, count);
    return index;
}

/* Whether the value RAW of the index, made text, is the reference's VALUE (a string or null). */
static bool same_text(const char *raw, const json_t *value)
{
    char *copy;
    const char *text = pst_dpkg_text(raw, &copy);
    bool same = text == NULL ? json_is_null(value)
                             : json_is_string(value) && strcmp(text, json_string_value(value)) == 0;

    free(copy);
    return same;
}

/* Whether PKG is the reference's ENTRY (the line tells stanzas apart). */
static bool same_stanza(const struct pst_dpkg_pkg *pkg, const json_t *entry)
{
    if (pkg == NULL || entry == NULL) {
        return pkg == NULL && entry == NULL;
    }
    return pkg->line == (long)json_integer_value(json_object_get(entry, "line")) &&
           same_text(pkg->status, json_object_get(entry, "status")) &&
           same_text(pkg->version, json_object_get(entry, "version")) &&
           same_text(pkg->arch, json_object_get(entry, "architecture")) &&
           strlen(pkg->name) == pkg->name_len &&
           (pkg->arch == NULL ? pkg->arch_len == 0 : strlen(pkg->arch) == pkg->arch_len);
}

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "dpkg status index differs from the reference: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* pst_fs_read refuses a file with a NUL byte: the index sees the text before one */
    size_t len = strnlen((const char *)data, size);
    char *ref_buf = malloc(len + 1);
    char *buf = malloc(len + 1);
    struct pst_dpkg_status *st = NULL;
    struct pst_dpkg_entry e;
    json_t *ref;
    const char *key;
    json_t *entry;
    size_t pos = 0;
    size_t stanzas = 0;

    if (ref_buf == NULL || buf == NULL) {
        abort();
    }
    memcpy(ref_buf, data, len);
    ref_buf[len] = '\0';
    memcpy(buf, data, len);
    buf[len] = '\0';
    ref = ref_index(ref_buf, &stanzas);
    if (pst_dpkg_status_new(buf, len, &st) != PST_OK) {
        abort();
    }
    json_object_foreach(ref, key, entry)
    {
        const char *colon = strchr(key, ':');
        /* every key resolves to the reference's stanza */
        check(same_stanza(pst_dpkg_status_find(st, key), entry), key);
        /* a name one byte longer or shorter is another key, or none, in both */
        {
            char other[600];
            size_t n = strlen(key);
            snprintf(other, sizeof(other), "%s~", key);
            check(same_stanza(pst_dpkg_status_find(st, other), json_object_get(ref, other)),
                  "longer key");
            if (n > 0 && n < sizeof(other)) {
                memcpy(other, key, n - 1);
                other[n - 1] = '\0';
                check(same_stanza(pst_dpkg_status_find(st, other), json_object_get(ref, other)),
                      "shorter key");
            }
        }
        if (colon == NULL) {
            continue;
        }
        /* the keys with a colon, in the same order, each named by what precedes its colon */
        check(pst_dpkg_status_next(st, &pos, &e), "fewer keys with a colon");
        check(e.name_len == (size_t)(colon - key) && memcmp(e.name, key, e.name_len) == 0,
              "iterated name");
        check(same_stanza(e.pkg, entry), "iterated stanza");
    }
    check(!pst_dpkg_status_next(st, &pos, &e), "more keys with a colon");
    check(pst_dpkg_status_count(st) == stanzas, "stanzas counted");
    check(same_stanza(pst_dpkg_status_find(st, ""), json_object_get(ref, "")), "empty key");
    pst_dpkg_status_free(st);
    json_decref(ref);
    free(ref_buf);
    return 0;
}
