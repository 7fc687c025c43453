/* SPDX-License-Identifier: Apache-2.0 */
/* apt's configuration, sources, Release files and pins, and its choice of candidate versions. */
#include "probes/apt.h"

#include "agent/error.h"
#include "probes/probe.h"
#include "probes/text.h"

#include <ctype.h>
#include <stddef.h>
#include <fnmatch.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- apt.conf --------------------------------------------------------------------------- */

int pst_aptconf_init(struct pst_aptconf *c)
{
    c->values = json_object();
    c->lists = json_object();
    if (c->values == NULL || c->lists == NULL) {
        pst_aptconf_release(c);
        return PST_ENOMEM;
    }
    return PST_OK;
}

void pst_aptconf_release(struct pst_aptconf *c)
{
    json_decref(c->values);
    json_decref(c->lists);
    c->values = NULL;
    c->lists = NULL;
}

enum tok_kind { TOK_END, TOK_WORD, TOK_STRING, TOK_OPEN, TOK_CLOSE, TOK_SEMI };

struct lexer {
    char *p;
    long line;
    char pending; /* a delimiter that ended the previous word, not yet returned */
};

/* A string token starting at P (just after its opening quote). */
static enum tok_kind string_token(struct lexer *lx, char *p, char **text)
{
    char *end = strchr(p, '"');

    *text = p;
    if (end == NULL) {
        end = p + strlen(p);
    }
    for (char *q = p; q < end; q++) {
        lx->line += *q == '\n';
    }
    lx->p = *end != '\0' ? end + 1 : end;
    *end = '\0';
    return TOK_STRING;
}

/* The next token of apt.conf syntax; words and strings are NUL-terminated in place. */
static enum tok_kind next_token(struct lexer *lx, char **text, long *line)
{
    char *p = lx->p;

    if (lx->pending != '\0') {
        char c = lx->pending;
        lx->pending = '\0';
        *line = lx->line;
        if (c == '"') {
            return string_token(lx, p, text);
        }
        return c == '{' ? TOK_OPEN : c == '}' ? TOK_CLOSE : TOK_SEMI;
    }
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
            lx->line += *p == '\n';
            p++;
        }
        if (p[0] == '/' && p[1] == '/') {
            p += strcspn(p, "\n");
        } else if (p[0] == '/' && p[1] == '*') {
            char *end = strstr(p + 2, "*/");
            char *stop = end ? end : p + strlen(p);
            for (char *q = p; q < stop; q++) {
                lx->line += *q == '\n';
            }
            p = end ? end + 2 : stop;
        } else if (p[0] == '#' && strncmp(p, "#clear", 6) != 0 && strncmp(p, "#include", 8) != 0) {
            p += strcspn(p, "\n");
        } else {
            break;
        }
    }
    *line = lx->line;
    if (*p == '\0') {
        lx->p = p;
        return TOK_END;
    }
    if (*p == '{' || *p == '}' || *p == ';') {
        char c = *p;
        lx->p = p + 1;
        return c == '{' ? TOK_OPEN : c == '}' ? TOK_CLOSE : TOK_SEMI;
    }
    if (*p == '"') {
        return string_token(lx, p + 1, text);
    }
    *text = p;
    p += strcspn(p, " \t\r\n{};\"");
    if (*p != '\0') {
        if (*p == '\n') {
            lx->line++;
        } else if (*p != ' ' && *p != '\t' && *p != '\r') {
            lx->pending = *p;
        }
        *p++ = '\0';
    }
    lx->p = p;
    return TOK_WORD;
}

static void lower(char *s)
{
    for (; *s != '\0'; s++) {
        *s = (char)tolower((unsigned char)*s);
    }
}

/* PREFIX::NAME, lowercased, into BUF[N]; false when too long. */
static bool full_key(char *buf, size_t n, const char *prefix, const char *name)
{
    int w = snprintf(buf, n, "%s%s%s", prefix, *prefix && *name ? "::" : "", name);
    if (w < 0 || (size_t)w >= n) {
        return false;
    }
    lower(buf);
    return true;
}

static int conf_set(struct pst_aptconf *c, const char *key, const char *value, const char *path,
                    long line)
{
    char source[600];
    json_t *v;

    snprintf(source, sizeof(source), "%s:%ld", path, line);
    v = json_pack("{s:o, s:s}", "value", pst_json_text(value), "source", source);
    if (v == NULL || json_object_set_new(c->values, key, v) != 0) {
        return PST_ENOMEM;
    }
    return PST_OK;
}

static int conf_append(struct pst_aptconf *c, const char *key, const char *value, const char *path,
                       long line)
{
    char source[600];
    json_t *list = json_object_get(c->lists, key);

    if (list == NULL) {
        list = json_array();
        if (list == NULL || json_object_set_new(c->lists, key, list) != 0) {
            return PST_ENOMEM;
        }
    }
    snprintf(source, sizeof(source), "%s:%ld", path, line);
    if (json_array_append_new(
            list, json_pack("{s:o, s:s}", "value", pst_json_text(value), "source", source)) != 0) {
        return PST_ENOMEM;
    }
    return PST_OK;
}

/* #clear KEY: forgets KEY, its list and everything below it. */
static void conf_clear(struct pst_aptconf *c, const char *key)
{
    size_t n = strlen(key);
    const char *k;
    json_t *v;
    void *tmp;

    json_object_del(c->values, key);
    json_object_del(c->lists, key);
    json_object_foreach_safe(c->values, tmp, k, v)
    {
        if (strncmp(k, key, n) == 0 && k[n] == ':' && k[n + 1] == ':') {
            json_object_del(c->values, k);
        }
    }
    json_object_foreach_safe(c->lists, tmp, k, v)
    {
        if (strncmp(k, key, n) == 0 && k[n] == ':' && k[n + 1] == ':') {
            json_object_del(c->lists, k);
        }
    }
}

int pst_aptconf_parse(struct pst_aptconf *c, char *buf, const char *path, char *err, size_t n)
{
    struct lexer lx = {buf, 1, '\0'};
    char prefix[PST_APT_MAX_DEPTH][512];
    size_t depth = 0;
    int rc = PST_OK;

    prefix[0][0] = '\0';
    err[0] = '\0';
    for (;;) {
        char *t1 = NULL, *t2 = NULL;
        char key[512];
        long line, line2;
        enum tok_kind k1 = next_token(&lx, &t1, &line);
        enum tok_kind k2;
        const char *cur = depth > 0 ? prefix[depth - 1] : "";

        if (k1 == TOK_END) {
            if (depth > 0) {
                snprintf(err, n, "%s:%ld: a block is not closed", path, line);
                rc = PST_EPARSE;
            }
            break;
        }
        if (k1 == TOK_SEMI) {
            continue;
        }
        if (k1 == TOK_CLOSE) {
            if (depth == 0) {
                snprintf(err, n, "%s:%ld: '}' without a block", path, line);
                rc = PST_EPARSE;
                break;
            }
            depth--;
            continue;
        }
        if (k1 == TOK_OPEN) {
            snprintf(err, n, "%s:%ld: a block without a name", path, line);
            rc = PST_EPARSE;
            break;
        }
        if (k1 == TOK_WORD && (strcmp(t1, "#clear") == 0 || strcmp(t1, "#include") == 0)) {
            bool clear = strcmp(t1, "#clear") == 0;
            while ((k2 = next_token(&lx, &t2, &line2)) == TOK_WORD || k2 == TOK_STRING) {
                if (clear && full_key(key, sizeof(key), cur, t2)) {
                    conf_clear(c, key);
                }
            }
            if (k2 != TOK_SEMI) {
                snprintf(err, n, "%s:%ld: %s without ';'", path, line,
                         clear ? "#clear" : "#include");
                rc = PST_EPARSE;
                break;
            }
            continue;
        }
        k2 = next_token(&lx, &t2, &line2);
        if (k2 == TOK_OPEN) {
            if (depth + 1 >= PST_APT_MAX_DEPTH) {
                snprintf(err, n, "%s:%ld: blocks nested deeper than %d", path, line,
                         PST_APT_MAX_DEPTH);
                rc = PST_EPARSE;
                break;
            }
            if (!full_key(prefix[depth], sizeof(prefix[depth]), cur, t1)) {
                snprintf(err, n, "%s:%ld: key too long", path, line);
                rc = PST_EPARSE;
                break;
            }
            depth++;
            continue;
        }
        if (k2 == TOK_SEMI) {
            if (k1 == TOK_STRING) {
                rc = conf_append(c, cur[0] ? cur : "", t1, path, line);
            } else if (full_key(key, sizeof(key), cur, t1)) {
                rc = conf_set(c, key, "", path, line);
            }
            if (rc != PST_OK) {
                break;
            }
            continue;
        }
        if (k2 == TOK_WORD || k2 == TOK_STRING) {
            char *t3 = NULL;
            long line3;
            enum tok_kind k3 = next_token(&lx, &t3, &line3);
            if (!full_key(key, sizeof(key), cur, t1)) {
                snprintf(err, n, "%s:%ld: key too long", path, line);
                rc = PST_EPARSE;
                break;
            }
            rc = conf_set(c, key, t2, path, line);
            if (rc != PST_OK) {
                break;
            }
            if (k3 == TOK_SEMI) {
                continue;
            }
            if (k3 == TOK_OPEN && depth + 1 < PST_APT_MAX_DEPTH) {
                /* Key "value" { ... }: apt allows a value and a block at once */
                snprintf(prefix[depth], sizeof(prefix[depth]), "%s", key);
                depth++;
                continue;
            }
            snprintf(err, n, "%s:%ld: ';' expected after the value of %s", path, line3, key);
            rc = PST_EPARSE;
            break;
        }
        snprintf(err, n, "%s:%ld: ';' expected after %s", path, line2, t1);
        rc = PST_EPARSE;
        break;
    }
    return rc;
}

const char *pst_aptconf_get(const struct pst_aptconf *c, const char *key, const char **source)
{
    char k[512];
    const json_t *v;

    snprintf(k, sizeof(k), "%s", key);
    lower(k);
    v = json_object_get(c->values, k);
    if (source != NULL) {
        *source = v ? json_string_value(json_object_get(v, "source")) : NULL;
    }
    return v ? json_string_value(json_object_get(v, "value")) : NULL;
}

/* ---- sources ---------------------------------------------------------------------------- */

/* Splits S at blanks into a JSON array of strings. */
static json_t *words(const char *s, const char *seps)
{
    json_t *list = json_array();

    while (list != NULL && *s != '\0') {
        size_t skip = strspn(s, seps);
        size_t n;
        s += skip;
        n = strcspn(s, seps);
        if (n > 0 && json_array_append_new(list, json_stringn(s, n)) != 0) {
            json_decref(list);
            return NULL;
        }
        s += n;
    }
    return list;
}

static int add_entries(json_t *entries, json_t *uris, json_t *suites, json_t *components,
                       json_t *archs, const char *path, long line, json_t *errors)
{
    char source[600];
    size_t i, j;
    json_t *uri, *suite;

    snprintf(source, sizeof(source), "%s:%ld", path, line);
    json_array_foreach(uris, i, uri)
    {
        json_array_foreach(suites, j, suite)
        {
            const char *s = json_string_value(suite);
            bool flat = s != NULL && s[0] != '\0' && s[strlen(s) - 1] == '/';
            json_t *e;
            if (s == NULL || json_string_value(uri) == NULL) {
                continue; /* not UTF-8: apt could not reach it either */
            }
            if (!flat && json_array_size(components) == 0) {
                json_array_append_new(errors,
                                      json_sprintf("%s: suite %s has no components", source, s));
                continue;
            }
            e = json_pack("{s:O, s:O, s:O, s:O, s:s}", "uri", uri, "suite", suite, "components",
                          components, "archs", archs ? archs : json_null(), "source", source);
            if (flat && e != NULL && json_object_set_new(e, "components", json_array()) != 0) {
                json_decref(e);
                e = NULL;
            }
            if (e == NULL || json_array_append_new(entries, e) != 0) {
                return PST_ENOMEM;
            }
        }
    }
    return PST_OK;
}

/* One "deb [options] uri suite components..." line. */
static int parse_one_line(char *line, const char *path, long lineno, json_t *entries,
                          json_t *errors)
{
    json_t *archs = NULL, *uris = NULL, *suites = NULL, *comps = NULL;
    char *p = pst_text_skip_blanks(line);
    int rc = PST_OK;
    char *hash = strchr(p, '#');
    char *tok;

    if (hash != NULL) {
        *hash = '\0';
    }
    pst_text_rstrip(p);
    if (*p == '\0') {
        return PST_OK;
    }
    tok = p;
    p += strcspn(p, " \t");
    if (*p != '\0') {
        *p++ = '\0';
    }
    if (strcmp(tok, "deb") != 0) {
        if (strcmp(tok, "deb-src") != 0) {
            json_array_append_new(
                errors, json_sprintf("%s:%ld: unknown source type '%s'", path, lineno, tok));
        }
        return PST_OK;
    }
    p = pst_text_skip_blanks(p);
    if (*p == '[') {
        char *end = strchr(p, ']');
        if (end == NULL) {
            json_array_append_new(errors,
                                  json_sprintf("%s:%ld: options without ']'", path, lineno));
            return PST_OK;
        }
        *end = '\0';
        for (char *opt = p + 1; *opt != '\0';) {
            size_t n;
            opt += strspn(opt, " \t");
            n = strcspn(opt, " \t");
            if (n > 5 && strncmp(opt, "arch=", 5) == 0) {
                char save = opt[n];
                opt[n] = '\0';
                json_decref(archs);
                archs = words(opt + 5, ",");
                opt[n] = save;
            }
            opt += n;
        }
        p = pst_text_skip_blanks(end + 1);
    }
    tok = p;
    p += strcspn(p, " \t");
    if (*p != '\0') {
        *p++ = '\0';
    }
    uris = json_array();
    if (uris == NULL || json_array_append_new(uris, json_string(tok)) != 0) {
        rc = PST_ENOMEM;
        goto out;
    }
    p = pst_text_skip_blanks(p);
    tok = p;
    p += strcspn(p, " \t");
    if (*p != '\0') {
        *p++ = '\0';
    }
    if (*tok == '\0' || json_array_size(uris) == 0 ||
        json_string_value(json_array_get(uris, 0)) == NULL) {
        json_array_append_new(
            errors, json_sprintf("%s:%ld: a deb line needs a URI and a suite", path, lineno));
        goto out;
    }
    suites = json_array();
    comps = words(p, " \t");
    if (suites == NULL || comps == NULL || json_array_append_new(suites, json_string(tok)) != 0) {
        rc = PST_ENOMEM;
        goto out;
    }
    rc = add_entries(entries, uris, suites, comps, archs, path, lineno, errors);
out:
    json_decref(archs);
    json_decref(uris);
    json_decref(suites);
    json_decref(comps);
    return rc;
}

/* One deb822 stanza: its fields joined across continuation lines. */
struct deb822 {
    char types[256], uris[2048], suites[1024], components[1024], archs[256], enabled[16];
    long line;
    bool any;
};

static void deb822_append(char *dst, size_t n, const char *text)
{
    size_t len = strlen(dst);
    snprintf(dst + len, n - len, "%s%s", len ? " " : "", text);
}

static int deb822_flush(struct deb822 *st, const char *path, json_t *entries, json_t *errors)
{
    json_t *types = NULL, *uris = NULL, *suites = NULL, *comps = NULL, *archs = NULL;
    int rc = PST_OK;
    bool deb = false;
    size_t i;
    json_t *t;

    if (!st->any) {
        goto out;
    }
    if (strcasecmp(st->enabled, "no") == 0) {
        goto out;
    }
    types = words(st->types, " \t");
    uris = words(st->uris, " \t");
    suites = words(st->suites, " \t");
    comps = words(st->components, " \t");
    archs = st->archs[0] ? words(st->archs, " \t") : NULL;
    if (types == NULL || uris == NULL || suites == NULL || comps == NULL ||
        (st->archs[0] && archs == NULL)) {
        rc = PST_ENOMEM;
        goto out;
    }
    json_array_foreach(types, i, t)
    {
        deb = deb || strcmp(json_string_value(t), "deb") == 0;
    }
    if (!deb) {
        goto out;
    }
    if (json_array_size(uris) == 0 || json_array_size(suites) == 0) {
        json_array_append_new(
            errors, json_sprintf("%s:%ld: a stanza without URIs or Suites", path, st->line));
        goto out;
    }
    rc = add_entries(entries, uris, suites, comps, archs, path, st->line, errors);
out:
    json_decref(types);
    json_decref(uris);
    json_decref(suites);
    json_decref(comps);
    json_decref(archs);
    memset(st, 0, sizeof(*st));
    return rc;
}

int pst_apt_sources_parse(char *buf, const char *path, bool deb822, json_t *entries, json_t *errors)
{
    struct deb822 st;
    char *cursor = buf;
    char *line;
    char *field = NULL; /* the field continuation lines extend */
    size_t field_size = 0;
    long lineno = 0;
    int rc = PST_OK;

    memset(&st, 0, sizeof(st));
    while (rc == PST_OK && (line = pst_text_next_line(&cursor, &lineno)) != NULL) {
        if (!deb822) {
            rc = parse_one_line(line, path, lineno, entries, errors);
            continue;
        }
        if (line[0] == '#') {
            continue;
        }
        if (*pst_text_skip_blanks(line) == '\0') {
            rc = deb822_flush(&st, path, entries, errors);
            field = NULL;
            continue;
        }
        if (line[0] == ' ' || line[0] == '\t') {
            if (field != NULL) {
                deb822_append(field, field_size, pst_text_skip_blanks(line));
            }
            continue;
        }
        char *colon = strchr(line, ':');
        if (colon == NULL) {
            json_array_append_new(errors, json_sprintf("%s:%ld: not a field", path, lineno));
            field = NULL;
            continue;
        }
        *colon = '\0';
        char *value = pst_text_skip_blanks(colon + 1);
        pst_text_rstrip(value);
        if (!st.any) {
            st.line = lineno;
            st.any = true;
        }
        static const struct {
            const char *name;
            size_t offset, size;
        } known[] = {
            {"Types", offsetof(struct deb822, types), sizeof(st.types)},
            {"URIs", offsetof(struct deb822, uris), sizeof(st.uris)},
            {"Suites", offsetof(struct deb822, suites), sizeof(st.suites)},
            {"Components", offsetof(struct deb822, components), sizeof(st.components)},
            {"Architectures", offsetof(struct deb822, archs), sizeof(st.archs)},
            {"Enabled", offsetof(struct deb822, enabled), sizeof(st.enabled)},
        };
        field = NULL;
        for (size_t i = 0; i < PST_COUNT(known); i++) {
            if (strcasecmp(line, known[i].name) == 0) {
                field = (char *)&st + known[i].offset;
                field_size = known[i].size;
                field[0] = '\0';
                deb822_append(field, field_size, value);
            }
        }
    }
    if (rc == PST_OK && deb822) {
        rc = deb822_flush(&st, path, entries, errors);
    }
    return rc;
}

char *pst_apt_uri_to_filename(const char *uri)
{
    static const char bad[] = "\\|{}[]<>\"^~_=!@#$%^&*";
    const char *p = strstr(uri, "://");
    const char *at;
    size_t n;
    char *out, *o;

    /* drop the scheme and any user:password@, as apt does */
    if (p != NULL) {
        p += 3;
    } else if ((p = strchr(uri, ':')) != NULL) {
        p += 1; /* "file:/srv/repo" */
    } else {
        p = uri;
    }
    at = strchr(p, '@');
    if (at != NULL && at < p + strcspn(p, "/")) {
        p = at + 1;
    }
    n = strlen(p);
    out = malloc(n * 3 + 1);
    if (out == NULL) {
        return NULL;
    }
    o = out;
    for (; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= 0x20 || c >= 0x7f || strchr(bad, c) != NULL) {
            static const char hex[] = "0123456789abcdef";
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        } else {
            *o++ = c == '/' ? '_' : (char)c;
        }
    }
    *o = '\0';
    /* "file:/srv/repo" gives "_srv_repo": apt drops the leading separator too */
    return out;
}

/* ---- Release files ---------------------------------------------------------------------- */

int pst_apt_date_parse(const char *text, long long *out)
{
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;
    char month[4] = "";
    char zone[16] = "";
    const char *p = text;
    int day, year, hour, min, sec;
    time_t t;

    memset(&tm, 0, sizeof(tm));
    if (strchr(p, ',') != NULL) {
        p = strchr(p, ',') + 1;
    }
    if (sscanf(p, "%d %3s %d %d:%d:%d %15s", &day, month, &year, &hour, &min, &sec, zone) < 6) {
        return PST_EPARSE;
    }
    tm.tm_mon = -1;
    for (int i = 0; i < 12; i++) {
        if (strcmp(month, months[i]) == 0) {
            tm.tm_mon = i;
        }
    }
    if (tm.tm_mon < 0 || day < 1 || day > 31 || year < 1970 || year > 9999 || hour < 0 ||
        hour > 23 || min < 0 || min > 59 || sec < 0 || sec > 60) {
        return PST_EPARSE;
    }
    /* apt writes UTC ("UTC", "GMT", "+0000"); another zone is accepted as UTC too */
    tm.tm_mday = day;
    tm.tm_year = year - 1900;
    tm.tm_hour = hour;
    tm.tm_min = min;
    tm.tm_sec = sec;
    t = timegm(&tm);
    if (t == (time_t)-1) {
        return PST_EPARSE;
    }
    *out = (long long)t;
    return PST_OK;
}

static void copy_field(char *dst, size_t n, const char *value, size_t len)
{
    if (len >= n) {
        len = n - 1;
    }
    memcpy(dst, value, len);
    dst[len] = '\0';
}

int pst_apt_release_parse(const char *buf, size_t len, struct pst_apt_release *out)
{
    const char *p = buf;
    const char *end = buf + len;
    bool any = false;

    memset(out, 0, sizeof(*out));
    if (len >= 34 && strncmp(buf, "-----BEGIN PGP SIGNED MESSAGE-----", 34) == 0) {
        /* the armor headers (Hash: ...) end at the first empty line; the body follows */
        const char *body = strstr(buf, "\n\n");
        const char *sig;
        if (body == NULL) {
            return PST_EPARSE;
        }
        p = body + 2;
        sig = strstr(p, "\n-----BEGIN PGP SIGNATURE-----");
        end = sig != NULL ? sig + 1 : end;
    }
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = nl ? nl : end;
        const char *colon = memchr(p, ':', (size_t)(line_end - p));
        size_t n = (size_t)(line_end - p);
        if (n > 2 && p[0] == '-' && p[1] == ' ') {
            p += 2; /* dash-escaped line of a clearsigned body */
        }
        if (colon != NULL && p[0] != ' ' && p[0] != '\t') {
            static const struct {
                const char *name;
                size_t offset, size;
            } fields[] = {
                {"Origin", offsetof(struct pst_apt_release, origin), sizeof(out->origin)},
                {"Label", offsetof(struct pst_apt_release, label), sizeof(out->label)},
                {"Suite", offsetof(struct pst_apt_release, suite), sizeof(out->suite)},
                {"Codename", offsetof(struct pst_apt_release, codename), sizeof(out->codename)},
                {"Version", offsetof(struct pst_apt_release, version), sizeof(out->version)},
            };
            size_t klen = (size_t)(colon - p);
            const char *v = colon + 1;
            size_t vlen;
            while (v < line_end && (*v == ' ' || *v == '\t')) {
                v++;
            }
            vlen = (size_t)(line_end - v);
            while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t' || v[vlen - 1] == '\r')) {
                vlen--;
            }
            for (size_t i = 0; i < PST_COUNT(fields); i++) {
                if (strlen(fields[i].name) == klen && strncasecmp(p, fields[i].name, klen) == 0) {
                    copy_field((char *)out + fields[i].offset, fields[i].size, v, vlen);
                    any = true;
                }
            }
            if (klen == 4 && strncasecmp(p, "Date", 4) == 0) {
                char date[64];
                copy_field(date, sizeof(date), v, vlen);
                if (pst_apt_date_parse(date, &out->date) != PST_OK) {
                    out->date = 0;
                }
                any = true;
            } else if (klen == 12 && strncasecmp(p, "NotAutomatic", 12) == 0) {
                out->not_automatic = vlen == 3 && strncasecmp(v, "yes", 3) == 0;
            } else if (klen == 20 && strncasecmp(p, "ButAutomaticUpgrades", 20) == 0) {
                out->but_automatic_upgrades = vlen == 3 && strncasecmp(v, "yes", 3) == 0;
            }
        }
        p = nl ? nl + 1 : end;
    }
    return any ? PST_OK : PST_EPARSE;
}

/* ---- preferences ------------------------------------------------------------------------ */

struct pst_apt_pin {
    json_t *names; /* NULL: a generic pin (Package: *); else package names or patterns */
    enum pst_apt_pin_type type;
    char *data; /* what follows the pin type */
    int priority;
    char source[600];
};

int pst_apt_pins_default_release(const char *release, struct pst_apt_pin **pins, size_t *n)
{
    struct pst_apt_pin *grown = realloc(*pins, (*n + 1) * sizeof(**pins));

    if (grown == NULL) {
        return PST_ENOMEM;
    }
    *pins = grown;
    memmove(grown + 1, grown, *n * sizeof(*grown));
    memset(grown, 0, sizeof(*grown));
    grown->type = PST_PIN_RELEASE;
    grown->data = strdup(release);
    grown->priority = 990;
    snprintf(grown->source, sizeof(grown->source), "APT::Default-Release");
    if (grown->data == NULL) {
        memmove(grown, grown + 1, *n * sizeof(*grown));
        return PST_ENOMEM;
    }
    (*n)++;
    return PST_OK;
}

void pst_apt_pins_free(struct pst_apt_pin *pins, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        json_decref(pins[i].names);
        free(pins[i].data);
    }
    free(pins);
}

struct pref_stanza {
    char *package, *pin, *priority;
    long line;
};

static int pin_flush(struct pref_stanza *st, const char *path, struct pst_apt_pin **pins, size_t *n,
                     json_t *errors)
{
    struct pst_apt_pin pin;
    struct pst_apt_pin *grown;
    char *type, *data, *end;
    long priority;
    int rc = PST_OK;

    memset(&pin, 0, sizeof(pin));
    if (st->package == NULL && st->pin == NULL && st->priority == NULL) {
        goto out;
    }
    if (st->package == NULL) {
        json_array_append_new(errors, json_sprintf("%s:%ld: a preferences record without "
                                                   "Package (apt refuses the file)",
                                                   path, st->line));
        goto out;
    }
    if (st->pin == NULL) {
        goto out; /* apt skips it silently */
    }
    type = st->pin;
    data = type + strcspn(type, " \t");
    if (*data != '\0') {
        *data++ = '\0';
    }
    data = pst_text_skip_blanks(data);
    priority = st->priority ? strtol(st->priority, &end, 10) : 0;
    if (priority == 0 || priority < -32768 || priority > 32767) {
        json_array_append_new(errors, json_sprintf("%s:%ld: no priority (or zero) for the pin: "
                                                   "ignored, as apt does",
                                                   path, st->line));
        goto out;
    }
    if (strcasecmp(type, "release") == 0) {
        pin.type = PST_PIN_RELEASE;
    } else if (strcasecmp(type, "origin") == 0) {
        pin.type = PST_PIN_ORIGIN;
    } else if (strcasecmp(type, "version") == 0 && strcmp(st->package, "*") != 0) {
        pin.type = PST_PIN_VERSION;
    } else {
        json_array_append_new(errors, json_sprintf("%s:%ld: pin type '%s' not understood: "
                                                   "ignored, as apt does",
                                                   path, st->line, type));
        goto out;
    }
    if (*n >= PST_APT_MAX_PINS) {
        rc = PST_ETOOBIG;
        goto out;
    }
    pin.priority = (int)priority;
    pin.data = strdup(data);
    pin.names = strcmp(st->package, "*") == 0 ? NULL : words(st->package, " \t");
    snprintf(pin.source, sizeof(pin.source), "%s:%ld", path, st->line);
    if (pin.data == NULL || (strcmp(st->package, "*") != 0 && pin.names == NULL)) {
        rc = PST_ENOMEM;
        goto out;
    }
    grown = realloc(*pins, (*n + 1) * sizeof(**pins));
    if (grown == NULL) {
        rc = PST_ENOMEM;
        goto out;
    }
    *pins = grown;
    grown[(*n)++] = pin;
    memset(&pin, 0, sizeof(pin));
out:
    json_decref(pin.names);
    free(pin.data);
    memset(st, 0, sizeof(*st));
    return rc;
}

int pst_apt_pins_parse(char *buf, const char *path, struct pst_apt_pin **pins, size_t *n,
                       json_t *errors)
{
    struct pref_stanza st;
    char *cursor = buf;
    char *line;
    long lineno = 0;
    int rc = PST_OK;

    memset(&st, 0, sizeof(st));
    while (rc == PST_OK && (line = pst_text_next_line(&cursor, &lineno)) != NULL) {
        char *colon;
        if (line[0] == '#') {
            continue; /* apt allows comments anywhere in preferences */
        }
        if (*pst_text_skip_blanks(line) == '\0') {
            rc = pin_flush(&st, path, pins, n, errors);
            continue;
        }
        if (line[0] == ' ' || line[0] == '\t') {
            continue; /* continuation of a field we do not read (Explanation) */
        }
        colon = strchr(line, ':');
        if (colon == NULL) {
            json_array_append_new(errors, json_sprintf("%s:%ld: not a field", path, lineno));
            continue;
        }
        *colon = '\0';
        char *value = pst_text_skip_blanks(colon + 1);
        pst_text_rstrip(value);
        if (st.package == NULL && st.pin == NULL && st.priority == NULL) {
            st.line = lineno;
        }
        if (strcasecmp(line, "Package") == 0) {
            st.package = value;
        } else if (strcasecmp(line, "Pin") == 0) {
            st.pin = value;
        } else if (strcasecmp(line, "Pin-Priority") == 0) {
            st.priority = value;
        }
    }
    if (rc == PST_OK) {
        rc = pin_flush(&st, path, pins, n, errors);
    }
    return rc;
}

/* apt's ExpressionMatches: /regex/ (extended, any case) or a glob (any case). */
static bool expression_matches(const char *pattern, const char *text)
{
    size_t n = strlen(pattern);

    if (text == NULL) {
        return false;
    }
    if (n > 1 && pattern[0] == '/' && pattern[n - 1] == '/') {
        regex_t re;
        char *inner = strndup(pattern + 1, n - 2);
        bool match = false;
        if (inner != NULL && regcomp(&re, inner, REG_EXTENDED | REG_ICASE | REG_NOSUB) == 0) {
            match = regexec(&re, text, 0, NULL, 0) == 0;
            regfree(&re);
        }
        free(inner);
        return match;
    }
    return fnmatch(pattern, text, FNM_CASEFOLD) == 0;
}

/* Does a release pin's DATA ("a=stable,o=Debian", or an old-style "stable") match LIST? */
static bool release_matches(const char *data, const struct pst_apt_list *list)
{
    const struct pst_apt_release *r = &list->release;
    char copy[512];
    char *frag, *next;

    if (strcmp(data, "*") == 0 || data[0] == '\0') {
        return true;
    }
    if (!list->has_release) {
        return false;
    }
    if (strchr(data, '=') == NULL) {
        /* a release number (starts with a digit) or an archive/codename */
        if (isdigit((unsigned char)data[0])) {
            return expression_matches(data, r->version);
        }
        return expression_matches(data, r->suite) || expression_matches(data, r->codename);
    }
    snprintf(copy, sizeof(copy), "%s", data);
    for (frag = copy; frag != NULL; frag = next) {
        char *eq;
        const char *field = NULL;
        next = strchr(frag, ',');
        if (next != NULL) {
            *next++ = '\0';
        }
        frag = pst_text_skip_blanks(frag);
        pst_text_rstrip(frag);
        eq = strchr(frag, '=');
        if (eq == NULL || eq != frag + 1) {
            continue;
        }
        switch (frag[0]) {
        case 'a':
            field = r->suite;
            break;
        case 'n':
            field = r->codename;
            break;
        case 'v':
            field = r->version;
            break;
        case 'o':
            field = r->origin;
            break;
        case 'l':
            field = r->label;
            break;
        case 'c':
            field = list->component;
            break;
        case 'b':
            field = list->arch;
            break;
        default:
            continue;
        }
        if (!expression_matches(eq + 1, field)) {
            return false;
        }
    }
    return true;
}

static bool pin_matches_list(const struct pst_apt_pin *pin, const struct pst_apt_list *list)
{
    if (pin->type == PST_PIN_RELEASE) {
        return release_matches(pin->data, list);
    }
    if (pin->type == PST_PIN_ORIGIN) {
        char site[256];
        size_t n = strlen(pin->data);
        if (n >= 2 && pin->data[0] == '"' && pin->data[n - 1] == '"') {
            snprintf(site, sizeof(site), "%.*s", (int)(n - 2), pin->data + 1);
        } else {
            snprintf(site, sizeof(site), "%s", pin->data);
        }
        return expression_matches(site, list->site);
    }
    return false;
}

/* Does a package pin name NAME (exact, glob, /regex/, or NAME:ARCH)? */
static bool pin_names(const struct pst_apt_pin *pin, const char *name, const char *arch)
{
    size_t i;
    json_t *v;

    json_array_foreach(pin->names, i, v)
    {
        const char *pattern = json_string_value(v);
        const char *colon = strchr(pattern, ':');
        char base[256];
        if (colon != NULL && pattern[0] != '/') {
            if (strcmp(colon + 1, arch) != 0 && strcmp(colon + 1, "any") != 0) {
                continue;
            }
            snprintf(base, sizeof(base), "%.*s", (int)(colon - pattern), pattern);
            pattern = base;
        }
        if (strpbrk(pattern, "*?[") != NULL || pattern[0] == '/') {
            if (expression_matches(pattern, name)) {
                return true;
            }
        } else if (strcmp(pattern, name) == 0) {
            return true;
        }
    }
    return false;
}

/* ---- candidates ------------------------------------------------------------------------- */

struct offer {
    char *version;
    struct pst_debversion parsed;
    uint32_t list;
    int phased;
};

struct pkg {
    char *name, *arch, *version, *status;
    struct pst_debversion parsed;
    long line;
    struct offer *offers;
    size_t n_offers, cap_offers;
};

struct pst_apt_db {
    char native[32];
    struct pkg **slots; /* open addressing, power of two */
    size_t n_slots, count;
};

static uint64_t hash_key(const char *name, const char *arch)
{
    uint64_t h = 1469598103934665603ull;
    for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++) {
        h = (h ^ *p) * 1099511628211ull;
    }
    h = (h ^ ':') * 1099511628211ull;
    for (const unsigned char *p = (const unsigned char *)arch; *p != '\0'; p++) {
        h = (h ^ *p) * 1099511628211ull;
    }
    return h;
}

int pst_apt_db_new(const char *native, struct pst_apt_db **out)
{
    struct pst_apt_db *db = calloc(1, sizeof(*db));

    *out = NULL;
    if (db == NULL) {
        return PST_ENOMEM;
    }
    snprintf(db->native, sizeof(db->native), "%s", native);
    db->n_slots = 1024;
    db->slots = calloc(db->n_slots, sizeof(*db->slots));
    if (db->slots == NULL) {
        free(db);
        return PST_ENOMEM;
    }
    *out = db;
    return PST_OK;
}

static void pkg_free(struct pkg *p)
{
    if (p == NULL) {
        return;
    }
    for (size_t i = 0; i < p->n_offers; i++) {
        free(p->offers[i].version);
    }
    free(p->offers);
    free(p->name);
    free(p->arch);
    free(p->version);
    free(p->status);
    free(p);
}

void pst_apt_db_free(struct pst_apt_db *db)
{
    if (db == NULL) {
        return;
    }
    for (size_t i = 0; i < db->n_slots; i++) {
        pkg_free(db->slots[i]);
    }
    free(db->slots);
    free(db);
}

size_t pst_apt_db_count(const struct pst_apt_db *db)
{
    return db->count;
}

static const char *effective_arch(const struct pst_apt_db *db, const char *arch)
{
    return arch == NULL || arch[0] == '\0' || strcmp(arch, "all") == 0 ? db->native : arch;
}

static struct pkg **find_slot(const struct pst_apt_db *db, const char *name, const char *arch)
{
    size_t mask = db->n_slots - 1;
    size_t i = (size_t)hash_key(name, arch) & mask;

    while (db->slots[i] != NULL &&
           (strcmp(db->slots[i]->name, name) != 0 || strcmp(db->slots[i]->arch, arch) != 0)) {
        i = (i + 1) & mask;
    }
    return &db->slots[i];
}

static int grow(struct pst_apt_db *db)
{
    struct pkg **old = db->slots;
    size_t n_old = db->n_slots;

    db->slots = calloc(n_old * 2, sizeof(*db->slots));
    if (db->slots == NULL) {
        db->slots = old;
        return PST_ENOMEM;
    }
    db->n_slots = n_old * 2;
    for (size_t i = 0; i < n_old; i++) {
        if (old[i] != NULL) {
            *find_slot(db, old[i]->name, old[i]->arch) = old[i];
        }
    }
    free(old);
    return PST_OK;
}

bool pst_apt_db_has(const struct pst_apt_db *db, const char *name, const char *arch)
{
    return *find_slot(db, name, effective_arch(db, arch)) != NULL;
}

int pst_apt_db_add_installed(struct pst_apt_db *db, const char *name, const char *arch,
                             const char *version, const char *status, long line)
{
    struct pkg *p;
    struct pkg **slot;

    if ((db->count + 1) * 2 > db->n_slots && grow(db) != PST_OK) {
        return PST_ENOMEM;
    }
    arch = effective_arch(db, arch);
    slot = find_slot(db, name, arch);
    if (*slot != NULL) {
        return PST_OK; /* a duplicate stanza: the first one counts */
    }
    p = calloc(1, sizeof(*p));
    if (p == NULL) {
        return PST_ENOMEM;
    }
    p->name = strdup(name);
    p->arch = strdup(arch);
    p->version = strdup(version);
    p->status = strdup(status);
    p->line = line;
    if (p->name == NULL || p->arch == NULL || p->version == NULL || p->status == NULL) {
        pkg_free(p);
        return PST_ENOMEM;
    }
    if (pst_debversion_parse(p->version, &p->parsed, NULL, NULL) != PST_OK) {
        pkg_free(p);
        return PST_EPARSE;
    }
    *slot = p;
    db->count++;
    return PST_OK;
}

int pst_apt_db_add_available(struct pst_apt_db *db, const char *name, const char *arch,
                             const char *version, size_t list, int phased)
{
    struct pkg *p = *find_slot(db, name, effective_arch(db, arch));
    struct offer *o;

    if (p == NULL) {
        return PST_OK;
    }
    if (p->n_offers >= PST_APT_MAX_VERSIONS) {
        return PST_ETOOBIG;
    }
    if (p->n_offers == p->cap_offers) {
        size_t cap = p->cap_offers ? p->cap_offers * 2 : 4;
        struct offer *grown = realloc(p->offers, cap * sizeof(*grown));
        if (grown == NULL) {
            return PST_ENOMEM;
        }
        p->offers = grown;
        p->cap_offers = cap;
    }
    o = &p->offers[p->n_offers];
    o->version = strdup(version);
    if (o->version == NULL) {
        return PST_ENOMEM;
    }
    if (pst_debversion_parse(o->version, &o->parsed, NULL, NULL) != PST_OK) {
        free(o->version);
        return PST_EPARSE;
    }
    o->list = (uint32_t)list;
    o->phased = phased;
    p->n_offers++;
    return PST_OK;
}

static int offer_cmp_desc(const void *a, const void *b)
{
    const struct offer *x = a, *y = b;
    int rc = pst_debversion_cmp(&y->parsed, &x->parsed);
    return rc != 0 ? rc : (x->list > y->list) - (x->list < y->list);
}

static int pkg_cmp_name(const void *a, const void *b)
{
    const struct pkg *x = *(const struct pkg *const *)a, *y = *(const struct pkg *const *)b;
    int rc = strcmp(x->name, y->name);
    return rc != 0 ? rc : strcmp(x->arch, y->arch);
}

/* One version of a package: the offers [first, first + n) of equal version, or installed. */
struct group {
    const struct pst_debversion *parsed;
    const char *version;
    size_t first, n;
    bool installed;
    int priority;
};

/* The priority apt gives version group G of P: its package pin, else its best list. */
static int group_priority(const struct pkg *p, const struct group *g,
                          const struct pst_apt_list *lists, const struct pst_apt_pin *pins,
                          size_t n_pins)
{
    int best = g->installed ? 100 : -32768;

    for (size_t i = 0; i < n_pins; i++) {
        const struct pst_apt_pin *pin = &pins[i];
        bool match = false;
        if (pin->names == NULL || !pin_names(pin, p->name, p->arch)) {
            continue;
        }
        if (pin->type == PST_PIN_VERSION) {
            /* a version pin matches the version string as a glob (1.2*) or exactly */
            match = expression_matches(pin->data, g->version);
        } else {
            for (size_t j = g->first; j < g->first + g->n && !match; j++) {
                match = pin_matches_list(pin, &lists[p->offers[j].list]);
            }
        }
        if (match) {
            return pin->priority; /* the first matching record for the package rules */
        }
    }
    for (size_t j = g->first; j < g->first + g->n; j++) {
        int prio = lists[p->offers[j].list].priority;
        best = prio > best ? prio : best;
    }
    return best;
}

static int resolve_one(const struct pkg *p, struct pst_apt_list *lists,
                       const struct pst_apt_pin *pins, size_t n_pins, bool status_override,
                       struct pst_apt_result *r)
{
    struct group *groups = calloc(p->n_offers + 1, sizeof(*groups));
    size_t n_groups = 0;
    bool have_installed = false;
    const struct group *pref = NULL;
    const struct group *pref_alt = NULL;
    int max = 0, max_alt = 0;

    if (groups == NULL) {
        return PST_ENOMEM;
    }
    /* offers are sorted by version, highest first: group equal versions (apt merges them) */
    for (size_t i = 0; i < p->n_offers;) {
        size_t j = i + 1;
        while (j < p->n_offers &&
               pst_debversion_cmp(&p->offers[i].parsed, &p->offers[j].parsed) == 0) {
            j++;
        }
        struct group *g = &groups[n_groups++];
        g->parsed = &p->offers[i].parsed;
        g->version = p->offers[i].version;
        g->first = i;
        g->n = j - i;
        i = j;
    }
    /* the installed version: an offered one, or the status file's alone, in order */
    for (size_t i = 0; i <= n_groups && !have_installed; i++) {
        int c = i < n_groups ? pst_debversion_cmp(&p->parsed, groups[i].parsed) : 1;
        if (c == 0) {
            groups[i].installed = true;
            have_installed = true;
        } else if (c > 0) {
            memmove(&groups[i + 1], &groups[i], (n_groups - i) * sizeof(*groups));
            memset(&groups[i], 0, sizeof(groups[i]));
            groups[i].parsed = &p->parsed;
            groups[i].version = p->version;
            groups[i].first = 0;
            groups[i].n = 0;
            groups[i].installed = true;
            n_groups++;
            have_installed = true;
        }
    }
    for (size_t i = 0; i < n_groups; i++) {
        struct group *g = &groups[i];
        g->priority = group_priority(p, g, lists, pins, n_pins);
        if (g->priority > max) {
            pref = g;
            max = g->priority;
        }
        if (g->priority > max_alt) {
            pref_alt = g;
            max_alt = g->priority;
        }
        if (g->installed && max < 1000) {
            /* keeping the installed version beats anything but a downgrade pin (>= 1000) */
            if (pref == NULL) {
                pref = g;
            }
            max = 999;
            if (!status_override) {
                break;
            }
        }
    }
    if (pref == NULL && max_alt > 0) {
        pref = pref_alt;
    }
    memset(r, 0, sizeof(*r));
    r->name = p->name;
    r->arch = p->arch;
    r->installed = p->version;
    r->status = p->status;
    r->line = p->line;
    r->candidate = pref != NULL ? pref->version : p->version;
    r->priority = pref != NULL ? pref->priority : 100;
    r->phased = 100;
    r->upgradable = pref != NULL && pst_debversion_cmp(pref->parsed, &p->parsed) > 0;
    if (pref != NULL) {
        int best = -32769;
        for (size_t j = pref->first; j < pref->first + pref->n; j++) {
            const struct offer *o = &p->offers[j];
            const struct pst_apt_list *l = &lists[o->list];
            r->security = r->security || l->security;
            /* the best list shows as origin and suite; a security suite wins a tie */
            if (l->priority > best ||
                (l->priority == best && l->security && !lists[r->list].security)) {
                best = l->priority;
                r->list = o->list;
                r->from_list = true;
                r->phased = o->phased;
            }
            if (l->release.date > 0 && (r->oldest_date == 0 || l->release.date < r->oldest_date)) {
                r->oldest_date = l->release.date;
            }
        }
    }
    if (!r->upgradable) {
        r->security = false;
    }
    free(groups);
    return PST_OK;
}

int pst_apt_db_resolve(struct pst_apt_db *db, struct pst_apt_list *lists, size_t n_lists,
                       const struct pst_apt_pin *pins, size_t n_pins,
                       int (*visit)(const struct pst_apt_result *r, void *arg), void *arg)
{
    struct pkg **order = NULL;
    bool status_override = false;
    size_t n = 0;
    int rc = PST_OK;

    /* list priorities: defaults by the Release flags, then the first generic pin matching */
    for (size_t i = 0; i < n_lists; i++) {
        struct pst_apt_list *l = &lists[i];
        l->priority = 500;
        if (l->release.not_automatic) {
            l->priority = l->release.but_automatic_upgrades ? 100 : 1;
        }
        for (size_t j = 0; j < n_pins; j++) {
            if (pins[j].names == NULL && pin_matches_list(&pins[j], l)) {
                l->priority = pins[j].priority;
                break;
            }
        }
        status_override = status_override || l->priority >= 1000;
    }
    for (size_t j = 0; j < n_pins; j++) {
        status_override = status_override || pins[j].priority >= 1000;
    }
    order = malloc((db->count + 1) * sizeof(*order));
    if (order == NULL) {
        return PST_ENOMEM;
    }
    for (size_t i = 0; i < db->n_slots; i++) {
        struct pkg *p = db->slots[i];
        if (p != NULL) {
            order[n++] = p;
            if (p->n_offers > 1) {
                qsort(p->offers, p->n_offers, sizeof(*p->offers), offer_cmp_desc);
            }
        }
    }
    qsort(order, n, sizeof(*order), pkg_cmp_name);
    for (size_t i = 0; i < n && rc == PST_OK; i++) {
        struct pst_apt_result r;
        rc = resolve_one(order[i], lists, pins, n_pins, status_override, &r);
        if (rc == PST_OK) {
            rc = visit(&r, arg);
        }
    }
    free(order);
    return rc;
}
