/* SPDX-License-Identifier: Apache-2.0 */
/* Probe framework: value coercion, the per-scan call cache, fact helpers, account names. */
#include "probes/probe.h"

#include "agent/blocks.h"
#include "agent/error.h"
#include "agent/hashtab.h"
#include "probes/dpkg_status.h"
#include "probes/firewall.h"
#include "probes/exec.h"
#include "probes/text.h"

#include <errno.h>
#include <grp.h>
#include <stdint.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <pwd.h>
#include <limits.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const type_names[] = {
    [PST_TYPE_STRING] = "string", [PST_TYPE_INT] = "integer", [PST_TYPE_BOOL] = "boolean",
    [PST_TYPE_MODE] = "mode",     [PST_TYPE_LIST] = "list",   [PST_TYPE_FINDINGS] = "findings",
    [PST_TYPE_OBJECT] = "object",
};

const char *pst_type_name(enum pst_type type)
{
    return type_names[type];
}

/* The registry is sorted by name (tests/unit/test_policy.c checks it): a binary search. */
const struct pst_probe *pst_probe_find(const char *name)
{
    size_t lo = 0, hi = pst_probes_count;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(pst_probes[mid]->name, name);
        if (c == 0) {
            return pst_probes[mid];
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return NULL;
}

/* Argument and field tables are short and in the order they are described: a scan that
 * tests the first byte before calling strcmp. */
const struct pst_probe_arg *pst_probe_find_arg(const struct pst_probe *p, const char *name)
{
    for (size_t i = 0; i < p->n_args; i++) {
        if (p->args[i].name[0] == name[0] && strcmp(p->args[i].name, name) == 0) {
            return &p->args[i];
        }
    }
    return NULL;
}

const struct pst_probe_field *pst_probe_find_field(const struct pst_probe *p, const char *name)
{
    for (size_t i = 0; i < p->n_fields; i++) {
        if (p->fields[i].name[0] == name[0] && strcmp(p->fields[i].name, name) == 0) {
            return &p->fields[i];
        }
    }
    return NULL;
}

/* YAML 1.1 spellings of booleans, which admins write in policies and configs. */
static const struct {
    const char *text;
    bool value;
} bool_words[] = {
    {"true", true}, {"yes", true}, {"on", true}, {"false", false}, {"no", false}, {"off", false},
};

int pst_mode_parse(const char *text, unsigned *mode)
{
    char *end;
    unsigned long v;

    if (text[0] == '\0' || strlen(text) > 5 || strspn(text, "01234567") != strlen(text)) {
        return PST_EINVAL;
    }
    errno = 0;
    v = strtoul(text, &end, 8);
    if (errno != 0 || *end != '\0' || v > 07777) {
        return PST_EINVAL;
    }
    *mode = (unsigned)v;
    return PST_OK;
}

void pst_mode_format(unsigned mode, char buf[8])
{
    snprintf(buf, 8, "%04o", mode & 07777);
}

json_t *pst_value_from_text(enum pst_type type, const char *text)
{
    switch (type) {
    case PST_TYPE_STRING:
        return json_string(text);
    case PST_TYPE_LIST: {
        /* "a,b,c" on the command line and in defaults; "" is the empty list */
        json_t *list = json_array();
        const char *p = text;
        while (list != NULL && *p != '\0') {
            size_t n = strcspn(p, ",");
            if (n > 0 && json_array_append_new(list, json_stringn(p, n)) != 0) {
                json_decref(list);
                return NULL;
            }
            p += n + (p[n] == ',');
        }
        return list;
    }
    case PST_TYPE_INT: {
        char *end;
        long long v;
        errno = 0;
        v = strtoll(text, &end, 10);
        /* strtoll would skip blanks and take "+": an operand is written plainly or not at all */
        if (text[0] == '\0' || text[0] == ' ' || text[0] == '\t' || text[0] == '+' ||
            *end != '\0' || errno != 0) {
            return NULL;
        }
        return json_integer(v);
    }
    case PST_TYPE_BOOL:
        for (size_t i = 0; i < PST_COUNT(bool_words); i++) {
            if (strcasecmp(text, bool_words[i].text) == 0) {
                return json_boolean(bool_words[i].value);
            }
        }
        return NULL;
    case PST_TYPE_MODE: {
        unsigned mode;
        char buf[8];
        if (pst_mode_parse(text, &mode) != PST_OK) {
            return NULL;
        }
        pst_mode_format(mode, buf);
        return json_string(buf);
    }
    case PST_TYPE_FINDINGS:
    case PST_TYPE_OBJECT:
        return NULL;
    }
    return NULL;
}

bool pst_probe_check_arg(const struct pst_probe *probe, const struct pst_probe_arg *arg,
                         const json_t *value, char *why, size_t n)
{
    const char *text = json_string_value(value);

    if (text == NULL) {
        return true; /* only strings have rules beyond their type */
    }
    if (arg->required && text[0] == '\0') {
        snprintf(why, n, "argument '%s' of probe '%s' cannot be empty", arg->name, probe->name);
        return false;
    }
    if (arg->path && text[0] != '/') {
        snprintf(why, n, "argument '%s' of probe '%s' must be an absolute path, not '%s'",
                 arg->name, probe->name, text);
        return false;
    }
    if (arg->choices != NULL) {
        char list[256] = "";
        bool ok = false;
        for (size_t i = 0; arg->choices[i] != NULL; i++) {
            ok = ok || strcmp(arg->choices[i], text) == 0;
            snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
                     arg->choices[i]);
        }
        if (!ok) {
            snprintf(why, n, "argument '%s' of probe '%s' cannot be '%s' (one of: %s)", arg->name,
                     probe->name, text, list);
            return false;
        }
    }
    if (arg->regex) {
        regex_t re;
        char message[256];
        int rc = regcomp(&re, text, REG_EXTENDED | REG_NOSUB);
        if (rc != 0) {
            regerror(rc, &re, message, sizeof(message));
            snprintf(why, n, "regex '%s' does not compile: %s", text, message);
            return false;
        }
        regfree(&re);
    }
    return true;
}

/* The text of a probe call's cache key, grown as it is built. */
struct keybuf {
    char *s;
    size_t len, cap;
    bool nomem;
};

/* The key text of an argument's default, made once per scan: most calls rely on defaults. */
struct default_key {
    size_t len;
    char text[];
};

/*
 * The scan's probe calls, by their key: a hash table over calls that live, with their keys
 * and sources, in blocks freed all at once with the context. A fact costs no allocation of
 * its own; the scan's thousand facts fit in a few blocks.
 */
struct pst_call_cache {
    struct pst_hashtab calls;    /* key text -> struct pst_call */
    struct pst_blocks blocks;    /* calls, keys and sources, default keys */
    struct keybuf key;           /* the key of the call being looked up, reused call after call */
    struct pst_hashtab defaults; /* struct pst_probe_arg (its address) -> struct default_key */
};

/* What a block of calls holds, its header and malloc's own header included in 8 KiB. */
#define BLOCK_DATA (8192 - PST_BLOCKS_OVERHEAD)

/* The call of KEY in CACHE, or NULL when there is none yet. */
static struct pst_call *cache_find(const struct pst_call_cache *cache, uint64_t hash,
                                   const char *key, size_t key_len)
{
    const struct pst_hashtab_entry *e = pst_hashtab_find(&cache->calls, hash, key, key_len);

    return e != NULL ? e->value.ptr : NULL;
}

/* Drops CALL's references to its arguments, errors and values (its memory is the cache's). */
static void call_clear(struct pst_call *call)
{
    json_decref(call->args);
    json_decref(call->errors);
    for (size_t i = 0; i < call->probe->n_fields; i++) {
        json_decref(call->facts[i].value);
    }
}

int pst_probe_ctx_init(struct pst_probe_ctx *ctx, struct pst_fs *fs)
{
    ctx->fs = fs;
    ctx->calls = calloc(1, sizeof(*ctx->calls));
    ctx->memo = json_object();
    ctx->started = json_object();
    ctx->dpkg = NULL; /* read when a probe first asks */
    ctx->firewall = NULL;
    if (ctx->calls == NULL || ctx->memo == NULL || ctx->started == NULL) {
        pst_probe_ctx_release(ctx);
        return PST_ENOMEM;
    }
    ctx->calls->blocks.block_bytes = BLOCK_DATA;
    return PST_OK;
}

void pst_probe_ctx_release(struct pst_probe_ctx *ctx)
{
    const char *key;
    json_t *entry;
    struct pst_call_cache *cache = ctx->calls;

    /* programs started ahead that no probe call took back: stop them, leave no zombie */
    json_object_foreach(ctx->started, key, entry)
    {
        pid_t pid = (pid_t)json_integer_value(json_object_get(entry, "pid"));
        kill(pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
        }
        close((int)json_integer_value(json_object_get(entry, "out")));
        close((int)json_integer_value(json_object_get(entry, "err")));
    }
    json_decref(ctx->started);
    ctx->started = NULL;
    if (cache != NULL) {
        for (size_t i = 0; i < cache->calls.cap; i++) {
            if (cache->calls.entries[i].key != NULL) {
                call_clear(cache->calls.entries[i].value.ptr);
            }
        }
        pst_blocks_release(&cache->blocks);
        pst_hashtab_release(&cache->calls);
        free(cache->key.s);
        pst_hashtab_release(&cache->defaults);
        free(cache);
    }
    json_decref(ctx->memo);
    pst_dpkg_status_free(ctx->dpkg);
    pst_fw_scan_free(ctx->firewall);
    ctx->firewall = NULL;
    ctx->calls = NULL;
    ctx->memo = NULL;
    ctx->dpkg = NULL;
}

static void key_add(struct keybuf *b, const char *p, size_t n)
{
    if (b->nomem) {
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 128;
        while (cap < b->len + n + 1) {
            cap *= 2;
        }
        char *s = realloc(b->s, cap);
        if (s == NULL) {
            b->nomem = true;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
    memcpy(b->s + b->len, p, n);
    b->len += n;
    b->s[b->len] = '\0';
}

/* Appends TAG, the decimal digits of V and END, as "%c%lld%c" would: snprintf's reading of its
 * format costs more than the rest of a key. */
static void key_number(struct keybuf *b, char tag, long long v, char end)
{
    char buf[PST_TEXT_DECIMAL_MAX + 2]; /* tag, sign, 19 digits, end */
    char *p = buf + sizeof(buf);

    *--p = end;
    p = pst_text_decimal(p, v);
    *--p = tag;
    key_add(b, p, (size_t)(buf + sizeof(buf) - p));
}

/*
 * Appends an unambiguous text of V: a type letter, and lengths before strings and lists, so
 * that no two different values give the same text. Objects (rare in arguments) are written
 * as canonical JSON.
 */
static void key_value(struct keybuf *b, const json_t *v)
{
    char head[48];
    size_t i;
    const json_t *item;

    switch (json_typeof(v)) {
    case JSON_STRING:
        key_number(b, 's', (long long)json_string_length(v), ':');
        key_add(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        key_number(b, 'i', json_integer_value(v), ';');
        break;
    case JSON_TRUE:
    case JSON_FALSE:
    case JSON_NULL:
        key_add(b, json_is_true(v) ? "t" : json_is_false(v) ? "f" : "n", 1);
        break;
    case JSON_ARRAY:
        key_number(b, 'a', (long long)json_array_size(v), ':');
        json_array_foreach(v, i, item)
        {
            key_value(b, item);
        }
        break;
    default: {
        char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        if (text == NULL) {
            b->nomem = true;
            return;
        }
        snprintf(head, sizeof(head), "o%zu:", strlen(text));
        key_add(b, head, strlen(head));
        key_add(b, text, strlen(text));
        free(text);
        break;
    }
    }
}

/*
 * The call's cache key: the probe's name and each declared argument in declaration order,
 * given or defaulted, so that calls that mean the same share one result. Arguments a probe
 * does not declare (the loaders refuse them) are keyed too, as canonical JSON.
 */
/* Appends the key text of ARG's default, from CACHE's table or made and entered there. */
static void key_default(struct pst_call_cache *cache, const struct pst_probe_arg *arg)
{
    struct keybuf *b = &cache->key;
    uint64_t hash = pst_hashtab_hash_address(arg);
    struct pst_hashtab_entry *e = pst_hashtab_find(&cache->defaults, hash, arg, 0);
    struct default_key *d;
    size_t start = b->len;
    json_t *def;

    if (e != NULL) {
        d = e->value.ptr;
        key_add(b, d->text, d->len);
        return;
    }
    def = arg->default_value ? pst_value_from_text(arg->type, arg->default_value) : json_null();
    if (def == NULL) {
        b->nomem = true;
        return;
    }
    key_value(b, def);
    json_decref(def);
    if (b->nomem) {
        return;
    }
    /* kept when there is memory for it; made again next time when there is not */
    d = pst_blocks_alloc(&cache->blocks, sizeof(*d) + b->len - start, _Alignof(struct default_key));
    if (d != NULL && pst_hashtab_add(&cache->defaults, hash, arg, 0, &e) == PST_OK) {
        d->len = b->len - start;
        memcpy(d->text, b->s + start, d->len);
        e->value.ptr = d;
    }
}

static int call_key(struct pst_call_cache *cache, const struct pst_probe *probe, const json_t *args)
{
    struct keybuf *b = &cache->key;
    size_t given = args != NULL ? json_object_size(args) : 0;
    size_t declared = 0;

    b->len = 0;
    b->nomem = false;
    key_add(b, probe->name, strlen(probe->name));
    for (size_t i = 0; i < probe->n_args; i++) {
        const struct pst_probe_arg *a = &probe->args[i];
        /* once every given argument is found, the others are defaults: no lookup */
        const json_t *v = declared < given ? json_object_get(args, a->name) : NULL;
        key_add(b, "\n", 1);
        if (v != NULL) {
            declared++;
            key_value(b, v);
            continue;
        }
        if (a->required) {
            return PST_EINVAL;
        }
        key_default(cache, a);
    }
    if (given != declared) {
        key_add(b, "\n+", 2);
        key_value(b, args);
    }
    return b->nomem ? PST_ENOMEM : PST_OK;
}

/*
 * ARGS with every default filled in, as the probe's collect and prepare functions take them:
 * ARGS itself when it lacks none, or a copy sharing its values. Nothing changes a call's
 * arguments once it is made, neither the caller (a policy's leaf, a probe's request) nor the
 * probe, which takes them const.
 */
static int call_args(const struct pst_probe *probe, const json_t *args, json_t **full)
{
    size_t given = 0;

    for (size_t i = 0; args != NULL && i < probe->n_args; i++) {
        given += json_object_get(args, probe->args[i].name) != NULL;
    }
    if (args != NULL && given == probe->n_args) {
        *full = json_incref((json_t *)args);
        return PST_OK;
    }
    *full = args != NULL ? json_copy((json_t *)args) : json_object();
    if (*full == NULL) {
        return PST_ENOMEM;
    }
    for (size_t i = 0; i < probe->n_args; i++) {
        const struct pst_probe_arg *a = &probe->args[i];
        if (json_object_get(*full, a->name) != NULL) {
            continue;
        }
        json_t *def =
            a->default_value ? pst_value_from_text(a->type, a->default_value) : json_null();
        if (def == NULL || json_object_set_new(*full, a->name, def) != 0) {
            json_decref(*full);
            *full = NULL;
            return PST_ENOMEM;
        }
    }
    return PST_OK;
}

int pst_probe_prepare(struct pst_probe_ctx *ctx, const struct pst_probe *probe, const json_t *args)
{
    struct pst_call_cache *cache = ctx->calls;
    json_t *full = NULL;
    int rc;

    if (probe->prepare == NULL) {
        return PST_OK;
    }
    rc = call_key(cache, probe, args);
    if (rc == PST_OK && cache_find(cache, pst_hashtab_hash(cache->key.s, cache->key.len),
                                   cache->key.s, cache->key.len) == NULL) {
        /* a placeholder keeps a second prepare of the same call from starting it again */
        char prepared[PATH_MAX];
        snprintf(prepared, sizeof(prepared), "prepared %s", cache->key.s);
        if (json_object_get(ctx->memo, prepared) == NULL) {
            rc = json_object_set_new(ctx->memo, prepared, json_true()) != 0
                     ? PST_ENOMEM
                     : call_args(probe, args, &full);
            rc = rc != PST_OK ? rc : probe->prepare(ctx, full);
        }
    }
    json_decref(full);
    return rc;
}

int pst_probe_started_put(struct pst_probe_ctx *ctx, const char *key, const struct pst_exec *proc)
{
    json_t *entry =
        json_pack("{s:i, s:i, s:i}", "pid", proc->pid, "out", proc->out, "err", proc->err);
    return entry != NULL && json_object_set_new(ctx->started, key, entry) == 0 ? PST_OK
                                                                               : PST_ENOMEM;
}

bool pst_probe_started_take(struct pst_probe_ctx *ctx, const char *key, struct pst_exec *proc)
{
    const json_t *entry = json_object_get(ctx->started, key);
    if (entry == NULL) {
        return false;
    }
    proc->pid = (int)json_integer_value(json_object_get(entry, "pid"));
    proc->out = (int)json_integer_value(json_object_get(entry, "out"));
    proc->err = (int)json_integer_value(json_object_get(entry, "err"));
    json_object_del(ctx->started, key);
    return true;
}

int pst_probe_call(struct pst_probe_ctx *ctx, const struct pst_probe *probe, const json_t *args,
                   const struct pst_call **result)
{
    struct pst_call_cache *cache = ctx->calls;
    struct pst_call *call = NULL;
    struct pst_hashtab_entry *entry;
    struct pst_facts facts;
    const char *key;
    size_t key_len;
    uint64_t hash;
    int rc;

    *result = NULL;
    rc = call_key(cache, probe, args);
    if (rc != PST_OK) {
        goto out;
    }
    key_len = cache->key.len;
    hash = pst_hashtab_hash(cache->key.s, key_len);
    *result = cache_find(cache, hash, cache->key.s, key_len);
    if (*result != NULL) {
        goto out;
    }
    /* the key is kept apart: the key buffer serves the calls this probe makes in turn */
    key = pst_blocks_text(&cache->blocks, cache->key.s, key_len);
    call =
        pst_blocks_alloc(&cache->blocks, sizeof(*call) + probe->n_fields * sizeof(call->facts[0]),
                         _Alignof(struct pst_call));
    if (key == NULL || call == NULL) {
        call = NULL;
        rc = PST_ENOMEM;
        goto out;
    }
    memset(call, 0, sizeof(*call) + probe->n_fields * sizeof(call->facts[0]));
    call->probe = probe;
    rc = call_args(probe, args, &call->args);
    if (rc != PST_OK) {
        goto out;
    }
    facts = (struct pst_facts){.call = call, .cache = cache};
    rc = probe->collect(ctx, call->args, &facts);
    if (rc != PST_OK) {
        goto out;
    }
    /* a call's collect may make other calls, never its own: the key is still not there */
    rc = pst_hashtab_add(&cache->calls, hash, key, key_len, &entry);
    if (rc == PST_OK) {
        entry->value.ptr = call;
        *result = call;
        call = NULL;
    }
out:
    if (call != NULL) {
        call_clear(call);
    }
    return rc;
}

const struct pst_fact *pst_call_fact(const struct pst_call *call,
                                     const struct pst_probe_field *field)
{
    const struct pst_fact *fact = &call->facts[field - call->probe->fields];

    return fact->value != NULL ? fact : NULL;
}

const struct pst_fact *pst_call_fact_named(const struct pst_call *call, const char *name)
{
    const struct pst_probe_field *field = pst_probe_find_field(call->probe, name);

    return field != NULL ? pst_call_fact(call, field) : NULL;
}

const json_t *pst_call_value(const struct pst_call *call, const char *name)
{
    const struct pst_fact *fact = pst_call_fact_named(call, name);

    return fact != NULL ? fact->value : NULL;
}

json_t *pst_call_json(const struct pst_call *call)
{
    const struct pst_probe *probe = call->probe;
    json_t *result = json_object();
    json_t *facts = json_object();
    size_t *by_order = calloc(call->n_set + 1, sizeof(*by_order));
    bool ok = result != NULL && facts != NULL && by_order != NULL;

    /* the facts in the order the probe first set them, as `posture probe` has always shown */
    for (size_t i = 0; ok && i < probe->n_fields; i++) {
        if (call->facts[i].value != NULL) {
            by_order[call->facts[i].order] = i;
        }
    }
    for (unsigned k = 0; ok && k < call->n_set; k++) {
        const struct pst_fact *fact = &call->facts[by_order[k]];
        json_t *item = json_object();
        ok = item != NULL && json_object_set_nocheck(item, "value", fact->value) == 0 &&
             json_object_set_new_nocheck(item, "source",
                                         fact->source != NULL ? json_string_nocheck(fact->source)
                                                              : json_null()) == 0;
        ok = json_object_set_new_nocheck(facts, probe->fields[by_order[k]].name, item) == 0 && ok;
    }
    ok =
        ok && json_object_set_new_nocheck(result, "probe", json_string(probe->name)) == 0 &&
        json_object_set_nocheck(result, "args", call->args) == 0 &&
        json_object_set_nocheck(result, "facts", facts) == 0 &&
        json_object_set_new_nocheck(
            result, "errors", call->errors != NULL ? json_incref(call->errors) : json_array()) == 0;
    free(by_order);
    json_decref(facts);
    if (!ok) {
        json_decref(result);
        result = NULL;
    }
    return result;
}

/* The index of FIELD among OUT's probe's fields, n_fields if none: looked for from the one
 * after the last set, since probes mostly set their fields in the order they declare them. */
static size_t field_index(const struct pst_facts *out, const char *field)
{
    const struct pst_probe *probe = out->call->probe;
    size_t i = out->next;

    for (size_t k = 0; k < probe->n_fields; k++, i++) {
        if (i >= probe->n_fields) {
            i = 0;
        }
        if (strcmp(probe->fields[i].name, field) == 0) {
            return i;
        }
    }
    return probe->n_fields;
}

/* SOURCE kept for OUT's call, as valid UTF-8; the last one kept again when it is the same. */
static const char *keep_source(struct pst_facts *out, const char *source)
{
    size_t n;
    char *copy;

    if (out->last_source != NULL && strcmp(out->last_source, source) == 0) {
        return out->last_source;
    }
    n = strlen(source);
    copy = pst_blocks_text(&out->cache->blocks, source, n);
    if (copy == NULL) {
        return NULL;
    }
    /* a source names a file of the scanned system: its bytes need not be UTF-8 */
    if (!pst_utf8_valid(copy, n)) {
        for (char *p = copy; *p != '\0'; p++) {
            if ((unsigned char)*p >= 0x80) {
                *p = '?';
            }
        }
    }
    out->last_source = copy;
    return copy;
}

int pst_facts_set(struct pst_facts *out, const char *field, json_t *value, const char *source)
{
    struct pst_call *call = out->call;
    struct pst_fact *fact;
    const char *kept = NULL;
    size_t i;

    if (value == NULL) {
        return PST_ENOMEM;
    }
    i = field_index(out, field);
    if (i == call->probe->n_fields) {
        /* a probe's fields are its contract with policies: setting another one is a bug */
#ifndef NDEBUG
        fprintf(stderr, "posture: probe '%s' sets field '%s', which it does not declare\n",
                call->probe->name, field);
        abort();
#endif
        json_decref(value);
        pst_facts_error(out, NULL, "probe '%s' sets field '%s', which it does not declare",
                        call->probe->name, field);
        return PST_OK;
    }
    if (source != NULL && (kept = keep_source(out, source)) == NULL) {
        json_decref(value);
        return PST_ENOMEM;
    }
    fact = &call->facts[i];
    if (fact->value == NULL) {
        fact->order = call->n_set++;
    } else {
        json_decref(fact->value); /* set again: the first place, the last value */
    }
    fact->value = value;
    fact->source = kept;
    out->next = i + 1;
    return PST_OK;
}

const struct pst_fact *pst_facts_get(const struct pst_facts *out, const char *field)
{
    return pst_call_fact_named(out->call, field);
}

int pst_facts_set_at(struct pst_facts *out, const char *field, json_t *value, const char *path,
                     long line)
{
    char source[PATH_MAX + 32];

    if (line > 0) {
        snprintf(source, sizeof(source), "%s:%ld", path, line);
    } else {
        snprintf(source, sizeof(source), "%s", path);
    }
    return pst_facts_set(out, field, value, source);
}

json_t *pst_facts_errors(struct pst_facts *out)
{
    if (out->call->errors == NULL) {
        out->call->errors = json_array();
    }
    return out->call->errors;
}

void pst_facts_error(struct pst_facts *out, const char *source, const char *fmt, ...)
{
    char message[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    /* messages quote what the system holds: never lose one to a byte that is not UTF-8 */
    json_array_append_new(pst_facts_errors(out),
                          json_pack("{s:o?, s:o}", "source",
                                    source != NULL ? pst_json_text(source) : NULL, "message",
                                    pst_json_text(message)));
}

/*
 * Parses a colon-separated account file (/etc/passwd, /etc/group) of the scanned root into
 * an object id -> name, memoised per scan. Names come from the root, never from this
 * host's NSS, so that an offline root reports its own owners.
 */
static const json_t *account_map(struct pst_probe_ctx *ctx, const char *path)
{
    json_t *map = json_object_get(ctx->memo, path);
    char *buf = NULL;
    size_t len;

    if (map != NULL) {
        return map;
    }
    map = json_object();
    if (map == NULL) {
        return NULL;
    }
    if (pst_fs_read(ctx->fs, path, PST_FS_TEXT_LIMIT, true, &buf, &len) == PST_OK) {
        char *line = buf;
        while (line != NULL && *line != '\0') {
            char *next = strchr(line, '\n');
            char *colon1, *colon2, *colon3;
            if (next != NULL) {
                *next++ = '\0';
            }
            colon1 = strchr(line, ':');
            colon2 = colon1 ? strchr(colon1 + 1, ':') : NULL;
            colon3 = colon2 ? strchr(colon2 + 1, ':') : NULL;
            if (colon1 != NULL && colon3 != NULL && line[0] != '#' && line[0] != '+' &&
                line[0] != '-') {
                char *end;
                long id;
                *colon1 = '\0';
                *colon3 = '\0';
                errno = 0;
                id = strtol(colon2 + 1, &end, 10);
                if (errno == 0 && end != colon2 + 1 && *end == '\0' && id >= 0) {
                    char idkey[32];
                    snprintf(idkey, sizeof(idkey), "%ld", id);
                    /* First entry wins, as getpwuid() returns the first match. */
                    if (json_object_get(map, idkey) == NULL) {
                        json_object_set_new(map, idkey, pst_json_text(line));
                    }
                }
            }
            line = next;
        }
    }
    free(buf);
    if (json_object_set_new(ctx->memo, path, map) != 0) {
        return NULL;
    }
    return map;
}

static const char *account_name(struct pst_probe_ctx *ctx, const char *path, long id)
{
    json_t *map = (json_t *)account_map(ctx, path); /* the scan's memo: ours to extend */
    const json_t *name;
    char idkey[32];

    if (map == NULL) {
        return NULL;
    }
    snprintf(idkey, sizeof(idkey), "%ld", id);
    name = json_object_get(map, idkey);
    if (name == NULL && pst_fs_is_live(ctx->fs)) {
        /* On the running system accounts may also come from LDAP or SSSD, through NSS. */
        char buf[8192];
        const char *found = NULL;
        if (strcmp(path, "/etc/passwd") == 0) {
            struct passwd pw, *res = NULL;
            if (getpwuid_r((uid_t)id, &pw, buf, sizeof(buf), &res) == 0 && res != NULL) {
                found = res->pw_name;
            }
        } else {
            struct group gr, *res = NULL;
            if (getgrgid_r((gid_t)id, &gr, buf, sizeof(buf), &res) == 0 && res != NULL) {
                found = res->gr_name;
            }
        }
        /* remembered either way (null: no such account) */
        json_object_set_new(map, idkey, found ? pst_json_text(found) : json_null());
        name = json_object_get(map, idkey);
    }
    return json_string_value(name);
}

const char *pst_probe_user_name(struct pst_probe_ctx *ctx, long uid)
{
    return account_name(ctx, "/etc/passwd", uid);
}

const char *pst_probe_group_name(struct pst_probe_ctx *ctx, long gid)
{
    return account_name(ctx, "/etc/group", gid);
}

int pst_probe_read_text(struct pst_probe_ctx *ctx, struct pst_facts *out, const char *path,
                        size_t limit, char **buf)
{
    size_t len;
    int rc = pst_fs_read(ctx->fs, path, limit, true, buf, &len);

    if (rc == PST_ENOENT) {
        return pst_facts_set(out, "exists", json_false(), path) == PST_OK ? PST_ENOENT : PST_ENOMEM;
    }
    if (rc == PST_ENOMEM) {
        return rc;
    }
    if (rc != PST_OK) {
        pst_facts_error(out, path, "read %s: %s", path, pst_strerror(rc));
        return rc;
    }
    if (pst_facts_set(out, "exists", json_true(), path) != PST_OK) {
        free(*buf);
        *buf = NULL;
        return PST_ENOMEM;
    }
    return PST_OK;
}

bool pst_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *end = p + n;

    while (p < end) {
        unsigned c = *p, cp, min;
        size_t len;
        if (c < 0x80) {
            p++;
            continue;
        }
        /* the lead byte gives the length; C0, C1 and F5-FF never start a sequence */
        if (c >= 0xc2 && c <= 0xdf) {
            len = 2, cp = c & 0x1f, min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3, cp = c & 0x0f, min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if ((size_t)(end - p) < len) {
            return false;
        }
        for (size_t i = 1; i < len; i++) {
            if ((p[i] & 0xc0) != 0x80) {
                return false;
            }
            cp = cp << 6 | (p[i] & 0x3f);
        }
        /* no overlong form, no surrogate, nothing past U+10FFFF */
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            return false;
        }
        p += len;
    }
    return true;
}

json_t *pst_json_string_or_null(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}

json_t *pst_json_text(const char *s)
{
    json_t *v = json_string(s);
    char *copy;

    if (v != NULL || s == NULL) {
        return v;
    }
    /* Not UTF-8: keep the text readable and the report valid JSON. */
    copy = strdup(s);
    if (copy == NULL) {
        return NULL;
    }
    for (unsigned char *p = (unsigned char *)copy; *p != '\0'; p++) {
        if (*p >= 0x80) {
            *p = '?';
        }
    }
    v = json_string(copy);
    free(copy);
    return v;
}
