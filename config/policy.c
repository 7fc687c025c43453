/* SPDX-License-Identifier: Apache-2.0 */
/* Strict loading of policies: structure, ids, probe tables, operators and parameters. */
#include "config/policy.h"

#include "agent/error.h"
#include "agent/hashtab.h"
#include "agent/jsonw.h"
#include "config/ycache.h"

#include <dirent.h>
#include <stdint.h>
#include <errno.h>
#include <mbedtls/sha256.h>
#include <mbedtls/version.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define MAX_CHECK_DEPTH 16

#define T(x) (1u << PST_TYPE_##x)
#define SCALAR_TYPES (T(STRING) | T(INT) | T(BOOL) | T(MODE))

/* What an operator's operand must be. */
enum operand_shape {
    OPERAND_VALUE,   /* a value of the field's type */
    OPERAND_LIST,    /* a list of values of the field's (element) type */
    OPERAND_INT,     /* an integer */
    OPERAND_BOOL,    /* true or false */
    OPERAND_REGEX,   /* a POSIX extended regex */
    OPERAND_MODE,    /* a file mode "0640" */
    OPERAND_ELEMENT, /* one string: a list element or a substring */
};

static const struct {
    const char *name;
    unsigned field_types;
    enum operand_shape shape;
} op_table[] = {
    [PST_OP_EQUALS] = {"equals", SCALAR_TYPES | T(LIST), OPERAND_VALUE},
    [PST_OP_NOT_EQUALS] = {"not_equals", SCALAR_TYPES | T(LIST), OPERAND_VALUE},
    [PST_OP_IN] = {"in", SCALAR_TYPES, OPERAND_LIST},
    [PST_OP_NOT_IN] = {"not_in", SCALAR_TYPES, OPERAND_LIST},
    [PST_OP_MATCHES] = {"matches", T(STRING) | T(INT) | T(MODE), OPERAND_REGEX},
    [PST_OP_NOT_MATCHES] = {"not_matches", T(STRING) | T(INT) | T(MODE), OPERAND_REGEX},
    [PST_OP_LT] = {"lt", T(INT), OPERAND_INT},
    [PST_OP_LE] = {"le", T(INT), OPERAND_INT},
    [PST_OP_GT] = {"gt", T(INT), OPERAND_INT},
    [PST_OP_GE] = {"ge", T(INT), OPERAND_INT},
    [PST_OP_EXISTS] = {"exists", ~0u, OPERAND_BOOL},
    [PST_OP_EMPTY] = {"empty", T(STRING) | T(LIST) | T(FINDINGS) | T(OBJECT), OPERAND_BOOL},
    [PST_OP_CONTAINS] = {"contains", T(STRING) | T(LIST), OPERAND_ELEMENT},
    [PST_OP_SUBSET_OF] = {"subset_of", T(LIST), OPERAND_LIST},
    [PST_OP_DISJOINT_FROM] = {"disjoint_from", T(LIST), OPERAND_LIST},
    [PST_OP_MODE_AT_MOST] = {"mode_at_most", T(MODE), OPERAND_MODE},
};

static const char *const severity_names[] = {
    [PST_SEV_CRITICAL] = "critical", [PST_SEV_HIGH] = "high", [PST_SEV_MEDIUM] = "medium",
    [PST_SEV_LOW] = "low",           [PST_SEV_INFO] = "info",
};

const char *pst_op_name(enum pst_op op)
{
    return op_table[op].name;
}

const char *pst_severity_name(enum pst_severity sev)
{
    return severity_names[sev];
}

/* Each key table has an enum of its indexes, for pst_ymap_check_get(). */
enum { TOP_POLICY, TOP_PARAMETERS, TOP_CONTROLS, TOP_RECOMMENDATIONS, TOP_N };
static const struct pst_ykey top_keys[] = {
    {"policy", PST_Y_MAP, true},
    {"parameters", PST_Y_MAP, false},
    {"controls", PST_Y_SEQ, false},
    {"recommendations", PST_Y_SEQ, true},
};

enum { POL_ID, POL_VERSION, POL_TITLE, POL_DESCRIPTION, POL_APPLIES_TO, POL_N };
static const struct pst_ykey policy_keys[] = {
    {"id", PST_Y_SCALAR, true},       {"version", PST_Y_SCALAR, true},
    {"title", PST_Y_SCALAR, true},    {"description", PST_Y_SCALAR, false},
    {"applies_to", PST_Y_MAP, false},
};

static const struct pst_ykey applies_to_keys[] = {
    {"os", PST_Y_SEQ, true},
};

enum { CTL_ID, CTL_TITLE, CTL_MAX_SCORE, CTL_MCSB, CTL_DESCRIPTION, CTL_N };
static const struct pst_ykey control_keys[] = {
    {"id", PST_Y_SCALAR, true},           {"title", PST_Y_SCALAR, true},
    {"max_score", PST_Y_SCALAR, true},    {"mcsb", PST_Y_SEQ, false},
    {"description", PST_Y_SCALAR, false},
};

enum {
    REC_ID,
    REC_CONTROL,
    REC_TITLE,
    REC_SEVERITY,
    REC_RATIONALE,
    REC_REMEDIATION,
    REC_REFERENCES,
    REC_APPLIES,
    REC_CHECK,
    REC_N
};
static const struct pst_ykey recommendation_keys[] = {
    {"id", PST_Y_SCALAR, true},        {"control", PST_Y_SCALAR, true},
    {"title", PST_Y_SCALAR, true},     {"severity", PST_Y_SCALAR, true},
    {"rationale", PST_Y_SCALAR, true}, {"remediation", PST_Y_SCALAR, true},
    {"references", PST_Y_MAP, false},  {"applies", PST_Y_MAP, false},
    {"check", PST_Y_MAP, true},
};

/* A fact resolved to its probe and field; policies ask about the same facts many times. */
struct fact_slot {
    const char *fact; /* in the set's text */
    const struct pst_probe *probe;
    const struct pst_probe_field *field;
};

#define FACT_SLOTS 128

/* State of one file's load. */
struct loader {
    struct pst_diag *diag;
    const char *file;
    const struct pst_config *config;
    const struct pst_ynode *parameters; /* this policy's defaults, or NULL */
    struct pst_policy_set *set;
    json_t *declared;        /* names of the parameters every loaded policy declares */
    json_t *control_files;   /* control id -> file that declared it first */
    json_t *no_args;         /* the arguments of every leaf that is given none (never changed) */
    struct pending *pending; /* controls not declared yet: resolved at the end */
    size_t n_pending, cap_pending;
    struct pst_hashtab ids;             /* recommendation id -> how many recommendations had it */
    struct fact_slot facts[FACT_SLOTS]; /* facts resolved so far, by hash (a cache) */
    struct pst_jsonw scratch;           /* the compact JSON of an operand, for its leaf's text */
    bool nomem;
};

/* A recommendation's control that no file had declared when it was read. */
struct pending {
    size_t rec;
    const char *control, *file;
    int line, column;
};

/* The blocks the model's strings are kept in: 32 KiB of them to an allocation. */
#define TEXT_BLOCK_BYTES (32u * 1024u)

static bool valid_id(const char *id)
{
    return id[0] != '\0' && strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen(id);
}

/* A copy of S in the set's text blocks (freed with the set), or NULL (out of memory). */
static const char *keep_text(struct loader *l, const char *s)
{
    const char *copy = pst_blocks_text(&l->set->text, s, strlen(s));

    l->nomem = l->nomem || copy == NULL;
    return copy;
}

/* The hash of a recommendation id, or of a fact, for the tables that find them. */
static uint64_t hash_text(const char *text)
{
    return pst_hashtab_hash(text, strlen(text));
}

/*
 * Counts one more recommendation with ID (kept in the set's text, so it outlives the
 * table). Returns how many had it before, or 0 when out of memory (flagged).
 */
static size_t count_id(struct loader *l, const char *id)
{
    struct pst_hashtab_entry *e;

    /* the table holds at most one entry a recommendation, which the YAML's nodes bound */
    if (pst_hashtab_put(&l->ids, hash_text(id), id, strlen(id), &e) != PST_OK) {
        l->nomem = true;
        return 0;
    }
    return e->value.count++;
}

/* Where a value comes from: the node itself, or the parameter it names. */
struct source {
    const struct pst_ynode *node;
    const char *file;
    const char *parameter;
};

/* Resolves "$name" against the config's overrides, then the policy's defaults. */
static bool resolve(struct loader *l, const struct pst_ynode *node, struct source *src)
{
    src->node = node;
    src->file = l->file;
    src->parameter = NULL;
    /* "$name" is a parameter; "$$..." is a literal that starts with one '$'. */
    if (node->kind != PST_Y_SCALAR || pst_ynode_text(node)[0] != '$' ||
        pst_ynode_text(node)[1] == '$') {
        return true;
    }
    const char *name = pst_ynode_text(node) + 1;
    const struct pst_ynode *def = pst_ymap_get(l->parameters, name);
    if (def == NULL) {
        pst_ydiag(l->diag, l->file, node, "unknown parameter '$%s' (declare it under parameters)",
                  name);
        return false;
    }
    src->parameter = name;
    if (l->config != NULL && pst_ymap_get(l->config->parameters, name) != NULL) {
        src->node = pst_ymap_get(l->config->parameters, name);
        src->file = l->config->path;
    } else {
        src->node = def;
    }
    return true;
}

/* Coerces scalar NODE to TYPE; reports and returns NULL when it does not fit. */
static json_t *scalar_value(struct loader *l, const struct source *src,
                            const struct pst_ynode *node, enum pst_type type, const char *what)
{
    json_t *v;

    if (node->kind != PST_Y_SCALAR) {
        pst_ydiag(l->diag, src->file, node, "%s must be a scalar, not %s", what,
                  pst_ynode_kind_name(node->kind));
        return NULL;
    }
    if (pst_ynode_text(node)[0] == '$' && pst_ynode_text(node)[1] != '$') {
        pst_ydiag(l->diag, src->file, node,
                  "%s: a parameter stands for a whole operand or argument, not a list item", what);
        return NULL;
    }
    v = pst_value_from_text(type == PST_TYPE_LIST ? PST_TYPE_STRING : type,
                            pst_ynode_text(node)[0] == '$' ? pst_ynode_text(node) + 1
                                                           : pst_ynode_text(node));
    if (v == NULL) {
        pst_ydiag(l->diag, src->file, node, "%s: '%s' is not %s %s%s%s%s", what,
                  pst_ynode_text(node), type == PST_TYPE_INT ? "an" : "a", pst_type_name(type),
                  src->parameter ? " (parameter $" : "", src->parameter ? src->parameter : "",
                  src->parameter ? ")" : "");
    }
    return v;
}

static json_t *list_value(struct loader *l, const struct source *src, enum pst_type type,
                          const char *what)
{
    const struct pst_ynode *node = src->node;
    json_t *list;

    if (node->kind != PST_Y_SEQ) {
        pst_ydiag(l->diag, src->file, node, "%s must be a list, not %s", what,
                  pst_ynode_kind_name(node->kind));
        return NULL;
    }
    list = json_array();
    if (list == NULL) {
        l->nomem = true;
        return NULL;
    }
    for (size_t i = 0; i < node->n; i++) {
        json_t *v = scalar_value(l, src, pst_ynode_item(node, i), type, what);
        if (v == NULL) {
            json_decref(list);
            return NULL;
        }
        json_array_append_new(list, v);
    }
    return list;
}

static bool is_null_word(const struct pst_ynode *node)
{
    return node->kind == PST_Y_SCALAR && node->plain &&
           (strcmp(pst_ynode_text(node), "null") == 0 || strcmp(pst_ynode_text(node), "~") == 0);
}

static bool compile_regex(struct loader *l, const struct source *src, regex_t *re)
{
    char message[256];
    int rc = regcomp(re, pst_ynode_text(src->node), REG_EXTENDED | REG_NOSUB);

    if (rc != 0) {
        regerror(rc, re, message, sizeof(message));
        pst_ydiag(l->diag, src->file, src->node, "regex '%s' does not compile: %s",
                  pst_ynode_text(src->node), message);
        return false;
    }
    return true;
}

static bool load_operand(struct loader *l, struct pst_check *leaf, const struct pst_ynode *node)
{
    enum pst_type type = leaf->field->type;
    const char *what = op_table[leaf->op].name;
    struct source src;

    if (!resolve(l, node, &src)) {
        return false;
    }
    if (src.parameter != NULL) {
        leaf->parameter = keep_text(l, src.parameter);
    }
    switch (op_table[leaf->op].shape) {
    case OPERAND_VALUE:
        if (is_null_word(src.node)) {
            leaf->operand = json_null();
        } else if (type == PST_TYPE_LIST) {
            leaf->operand = list_value(l, &src, type, what);
        } else {
            leaf->operand = scalar_value(l, &src, src.node, type, what);
        }
        break;
    case OPERAND_LIST:
        leaf->operand = list_value(l, &src, type, what);
        break;
    case OPERAND_INT:
        leaf->operand = scalar_value(l, &src, src.node, PST_TYPE_INT, what);
        break;
    case OPERAND_BOOL:
        leaf->operand = scalar_value(l, &src, src.node, PST_TYPE_BOOL, what);
        break;
    case OPERAND_MODE:
        leaf->operand = scalar_value(l, &src, src.node, PST_TYPE_MODE, what);
        break;
    case OPERAND_ELEMENT:
        leaf->operand = scalar_value(l, &src, src.node, PST_TYPE_STRING, what);
        break;
    case OPERAND_REGEX:
        leaf->operand = scalar_value(l, &src, src.node, PST_TYPE_STRING, what);
        if (leaf->operand != NULL) {
            leaf->has_regex = compile_regex(l, &src, &leaf->regex);
            return leaf->has_regex;
        }
        break;
    }
    return leaf->operand != NULL;
}

/*
 * The text of LEAF's expected side, kept in the set's text: the reports and the reasons of
 * the evaluator show it for every evidence item of the leaf, so it is made once here.
 */
static const char *expected_text(struct loader *l, const struct pst_check *leaf)
{
    const char *operand = json_string_value(leaf->operand);
    const char *parts[6];
    size_t n = 0, len = 0;
    char *text, *at;

    if (operand == NULL) {
        pst_jsonw_reset(&l->scratch);
        pst_jsonw_value(&l->scratch, leaf->operand);
        operand = pst_jsonw_text(&l->scratch);
    }
    if (operand == NULL) {
        /* the operand is a value the loader made, which JSON always writes: only memory fails */
        l->nomem = true;
        return NULL;
    }
    parts[n++] = pst_op_name(leaf->op);
    parts[n++] = " ";
    parts[n++] = operand;
    if (leaf->parameter != NULL) {
        parts[n++] = " ($";
        parts[n++] = leaf->parameter;
        parts[n++] = ")";
    }
    for (size_t i = 0; i < n; i++) {
        len += strlen(parts[i]);
    }
    text = pst_blocks_alloc(&l->set->text, len + 1, 1);
    if (text == NULL) {
        l->nomem = true;
        return NULL;
    }
    at = text;
    for (size_t i = 0; i < n; i++) {
        size_t k = strlen(parts[i]);
        memcpy(at, parts[i], k);
        at += k;
    }
    *at = '\0';
    return text;
}

static bool load_arg(struct loader *l, struct pst_check *leaf, const struct pst_ynode *key,
                     const struct pst_ynode *value)
{
    const struct pst_probe_arg *arg = pst_probe_find_arg(leaf->probe, pst_ynode_text(key));
    struct source src;
    json_t *v;

    if (arg == NULL) {
        pst_ydiag(l->diag, l->file, key,
                  "'%s' is neither an operator nor an argument of probe '%s'", pst_ynode_text(key),
                  leaf->probe->name);
        return false;
    }
    if (!resolve(l, value, &src)) {
        return false;
    }
    v = arg->type == PST_TYPE_LIST
            ? list_value(l, &src, arg->type, pst_ynode_text(key))
            : scalar_value(l, &src, src.node, arg->type, pst_ynode_text(key));
    if (v == NULL) {
        return false;
    }
    char why[512];
    if (!pst_probe_check_arg(leaf->probe, arg, v, why, sizeof(why))) {
        pst_ydiag(l->diag, src.file, src.node, "%s", why);
        json_decref(v);
        return false;
    }
    if (leaf->args == NULL && (leaf->args = json_object()) == NULL) {
        json_decref(v);
        l->nomem = true;
        return false;
    }
    /* the name is the probe table's own ASCII, so it needs no UTF-8 check */
    if (json_object_set_new_nocheck(leaf->args, arg->name, v) != 0) {
        l->nomem = true;
        return false;
    }
    return true;
}

static void check_free(struct pst_check *check);

static struct pst_check *load_check(struct loader *l, const struct pst_ynode *node, int depth);

static bool load_leaf(struct loader *l, struct pst_check *leaf, const struct pst_ynode *node)
{
    const struct pst_ynode *fact = pst_ymap_get(node, "fact");
    const struct pst_ynode *op_key = NULL, *op_value = NULL;
    bool ok = true;
    char probe_name[64];
    const char *dot;

    leaf->kind = PST_CHECK_LEAF;
    if (fact == NULL || fact->kind != PST_Y_SCALAR) {
        pst_ydiag(l->diag, l->file, fact ? fact : node,
                  "a check is all, any, not, or a leaf with 'fact: PROBE.FIELD'");
        return false;
    }
    dot = strchr(pst_ynode_text(fact), '.');
    if (dot == NULL || (size_t)(dot - pst_ynode_text(fact)) >= sizeof(probe_name)) {
        pst_ydiag(l->diag, l->file, fact, "fact must be PROBE.FIELD, not '%s'",
                  pst_ynode_text(fact));
        return false;
    }
    memcpy(probe_name, pst_ynode_text(fact), (size_t)(dot - pst_ynode_text(fact)));
    probe_name[dot - pst_ynode_text(fact)] = '\0';
    struct fact_slot *slot = &l->facts[hash_text(pst_ynode_text(fact)) % FACT_SLOTS];
    if (slot->fact != NULL && strcmp(slot->fact, pst_ynode_text(fact)) == 0) {
        /* the same fact as an earlier leaf: its probe, field and text */
        leaf->probe = slot->probe;
        leaf->field = slot->field;
        leaf->fact = slot->fact;
    } else {
        leaf->probe = pst_probe_find(probe_name);
        if (leaf->probe == NULL) {
            pst_ydiag(l->diag, l->file, fact, "unknown probe '%s'", probe_name);
            return false;
        }
        leaf->field = pst_probe_find_field(leaf->probe, dot + 1);
        if (leaf->field == NULL) {
            pst_ydiag(l->diag, l->file, fact, "probe '%s' has no field '%s'", probe_name, dot + 1);
            return false;
        }
        leaf->fact = keep_text(l, pst_ynode_text(fact));
        if (leaf->fact != NULL) {
            *slot = (struct fact_slot){leaf->fact, leaf->probe, leaf->field};
        }
    }
    for (size_t i = 0; i < node->n; i++) {
        const struct pst_ynode *key = pst_ynode_item(node, 2 * i);
        const struct pst_ynode *value = pst_ynode_item(node, 2 * i + 1);
        bool is_op = false;
        if (pst_ynode_text(key)[0] == 'f' && strcmp(pst_ynode_text(key), "fact") == 0) {
            continue;
        }
        for (size_t o = 0; o < PST_COUNT(op_table); o++) {
            if (op_table[o].name[0] == pst_ynode_text(key)[0] &&
                strcmp(op_table[o].name, pst_ynode_text(key)) == 0) {
                is_op = true;
                if (op_key != NULL) {
                    pst_ydiag(l->diag, l->file, key,
                              "a leaf takes exactly one operator ('%s' and '%s')",
                              pst_ynode_text(op_key), pst_ynode_text(key));
                    ok = false;
                } else {
                    op_key = key;
                    op_value = value;
                    leaf->op = (enum pst_op)o;
                }
            }
        }
        if (!is_op &&
            (strcmp(pst_ynode_text(key), "all") == 0 || strcmp(pst_ynode_text(key), "any") == 0 ||
             strcmp(pst_ynode_text(key), "not") == 0) &&
            pst_probe_find_arg(leaf->probe, pst_ynode_text(key)) == NULL) {
            pst_ydiag(l->diag, l->file, key, "'%s' cannot stand beside 'fact' in one node",
                      pst_ynode_text(key));
            ok = false;
        } else if (!is_op && !load_arg(l, leaf, key, value)) {
            ok = false; /* reported; go on to find every error of the node */
        }
    }
    for (size_t a = 0; a < leaf->probe->n_args; a++) {
        if (leaf->probe->args[a].required &&
            json_object_get(leaf->args, leaf->probe->args[a].name) == NULL &&
            pst_ymap_get(node, leaf->probe->args[a].name) == NULL) {
            pst_ydiag(l->diag, l->file, node, "probe '%s' needs argument '%s'", probe_name,
                      leaf->probe->args[a].name);
            ok = false;
        }
    }
    if (leaf->args == NULL) {
        leaf->args = json_incref(l->no_args); /* shared: nothing adds to a leaf's args later */
    }
    if (op_key == NULL) {
        pst_ydiag(l->diag, l->file, node, "leaf on '%s' has no operator", pst_ynode_text(fact));
        return false;
    }
    if ((op_table[leaf->op].field_types & (1u << leaf->field->type)) == 0) {
        pst_ydiag(l->diag, l->file, op_key, "operator '%s' does not apply to %s field '%s'",
                  pst_ynode_text(op_key), pst_type_name(leaf->field->type), pst_ynode_text(fact));
        return false;
    }
    if (!load_operand(l, leaf, op_value)) {
        return false;
    }
    leaf->expected = expected_text(l, leaf);
    return ok && leaf->expected != NULL;
}

static struct pst_check *load_check(struct loader *l, const struct pst_ynode *node, int depth)
{
    struct pst_check *check;
    const struct pst_ynode *group;
    bool ok = true;

    if (node->kind != PST_Y_MAP) {
        pst_ydiag(l->diag, l->file, node, "a check must be a mapping, not %s",
                  pst_ynode_kind_name(node->kind));
        return NULL;
    }
    if (depth > MAX_CHECK_DEPTH) {
        pst_ydiag(l->diag, l->file, node, "checks nest deeper than %d levels", MAX_CHECK_DEPTH);
        return NULL;
    }
    check = calloc(1, sizeof(*check));
    if (check == NULL) {
        l->nomem = true;
        return NULL;
    }
    if (node->n == 1 && (group = pst_ymap_get(node, "not")) != NULL) {
        check->kind = PST_CHECK_NOT;
        check->children = calloc(1, sizeof(*check->children));
        if (check->children == NULL) {
            l->nomem = true;
            ok = false;
        } else {
            check->children[0] = load_check(l, group, depth + 1);
            check->n = check->children[0] != NULL;
            ok = check->n == 1;
        }
    } else if (node->n == 1 && ((group = pst_ymap_get(node, "all")) != NULL ||
                                (group = pst_ymap_get(node, "any")) != NULL)) {
        check->kind = pst_ymap_get(node, "all") ? PST_CHECK_ALL : PST_CHECK_ANY;
        if (group->kind != PST_Y_SEQ || group->n == 0) {
            pst_ydiag(l->diag, l->file, group, "'%s' takes a non-empty list of checks",
                      pst_ynode_text(pst_ynode_item(node, 0)));
            ok = false;
        } else {
            check->children = calloc(group->n, sizeof(*check->children));
            if (check->children == NULL) {
                l->nomem = true;
                ok = false;
            }
            for (size_t i = 0; ok && i < group->n; i++) {
                struct pst_check *child = load_check(l, pst_ynode_item(group, i), depth + 1);
                if (child == NULL) {
                    ok = false;
                    /* keep loading the siblings to report all their errors */
                    for (size_t j = i + 1; j < group->n; j++) {
                        check_free(load_check(l, pst_ynode_item(group, j), depth + 1));
                    }
                    break;
                }
                check->children[check->n++] = child;
            }
        }
    } else {
        ok = load_leaf(l, check, node);
    }
    if (!ok) {
        check_free(check);
        return NULL;
    }
    return check;
}

static void check_free(struct pst_check *check)
{
    if (check == NULL) {
        return;
    }
    for (size_t i = 0; i < check->n; i++) {
        check_free(check->children[i]);
    }
    free(check->children);
    json_decref(check->args);
    json_decref(check->operand);
    if (check->has_regex) {
        regfree(&check->regex);
    }
    free(check);
}

static bool parse_long(struct loader *l, const struct pst_ynode *node, const char *what, long min,
                       long *out)
{
    json_t *v = pst_value_from_text(PST_TYPE_INT, pst_ynode_text(node));
    bool ok = v != NULL && json_integer_value(v) >= min && json_integer_value(v) <= 1000000;

    if (!ok) {
        pst_ydiag(l->diag, l->file, node, "%s must be an integer from %ld to 1000000, not '%s'",
                  what, min, pst_ynode_text(node));
    } else {
        *out = (long)json_integer_value(v);
    }
    json_decref(v);
    return ok;
}

static json_t *scalar_list(struct loader *l, const struct pst_ynode *seq, const char *what)
{
    struct source src = {.node = seq, .file = l->file};
    return list_value(l, &src, PST_TYPE_STRING, what);
}

static void load_control(struct loader *l, const struct pst_ynode *node)
{
    struct pst_policy_set *set = l->set;
    const struct pst_ynode *v[CTL_N], *id, *max, *mcsb;
    struct pst_control *control;

    if (!pst_ymap_check_get(l->diag, l->file, node, "a control", control_keys, CTL_N, v)) {
        return;
    }
    id = v[CTL_ID];
    max = v[CTL_MAX_SCORE];
    mcsb = v[CTL_MCSB];
    if (id == NULL || max == NULL || v[CTL_TITLE] == NULL) {
        return;
    }
    if (!valid_id(pst_ynode_text(id))) {
        pst_ydiag(l->diag, l->file, id, "control id '%s' must match [a-z0-9-]+",
                  pst_ynode_text(id));
        return;
    }
    const struct pst_control *known = pst_policy_find_control(set, pst_ynode_text(id));
    if (known != NULL) {
        long max_score = -1;
        json_t *score = pst_value_from_text(PST_TYPE_INT, pst_ynode_text(max));
        if (score != NULL) {
            max_score = (long)json_integer_value(score);
            json_decref(score);
        }
        /* Policies that extend a baseline may repeat its controls, but not change them. */
        if (strcmp(known->title, pst_ynode_text(v[CTL_TITLE])) != 0 ||
            known->max_score != max_score) {
            pst_ydiag(l->diag, l->file, id,
                      "control '%s' is already declared in %s with another title or max_score",
                      pst_ynode_text(id),
                      json_string_value(json_object_get(l->control_files, pst_ynode_text(id))));
        }
        return;
    }
    control = calloc(1, sizeof(*control));
    if (control == NULL) {
        l->nomem = true;
        return;
    }
    set->controls[set->n_controls++] = control;
    control->id = keep_text(l, pst_ynode_text(id));
    if (json_object_set_new(l->control_files, pst_ynode_text(id), json_string(l->file)) != 0) {
        l->nomem = true;
    }
    control->title = keep_text(l, pst_ynode_text(v[CTL_TITLE]));
    control->mcsb = mcsb ? scalar_list(l, mcsb, "mcsb") : json_array();
    parse_long(l, max, "max_score", 0, &control->max_score);
}

/* Keeps recommendation REC's reference to control NODE of FILE to resolve at the end. */
static void add_pending(struct loader *l, size_t rec, const struct pst_ynode *node,
                        const char *file)
{
    if (l->n_pending == l->cap_pending) {
        size_t cap = l->cap_pending ? 2 * l->cap_pending : 16;
        struct pending *grown = realloc(l->pending, cap * sizeof(*grown));
        if (grown == NULL) {
            l->nomem = true;
            return;
        }
        l->pending = grown;
        l->cap_pending = cap;
    }
    l->pending[l->n_pending++] = (struct pending){
        .rec = rec,
        .control = keep_text(l, pst_ynode_text(node)),
        .file = file,
        .line = node->line,
        .column = node->column,
    };
}

static void load_recommendation(struct loader *l, const struct pst_policy *policy,
                                const struct pst_ynode *node)
{
    struct pst_policy_set *set = l->set;
    const struct pst_ynode *v[REC_N], *id, *control, *severity, *references;
    struct pst_recommendation *rec;
    size_t s;

    if (!pst_ymap_check_get(l->diag, l->file, node, "a recommendation", recommendation_keys, REC_N,
                            v)) {
        return;
    }
    id = v[REC_ID];
    control = v[REC_CONTROL];
    severity = v[REC_SEVERITY];
    references = v[REC_REFERENCES];
    rec = calloc(1, sizeof(*rec));
    if (rec == NULL) {
        l->nomem = true;
        return;
    }
    set->recommendations[set->n_recommendations++] = rec;
    rec->policy = policy;
    if (id != NULL) {
        rec->id = keep_text(l, pst_ynode_text(id));
        /* every earlier recommendation of the same id is reported, as a scan of them would */
        size_t earlier = rec->id != NULL ? count_id(l, rec->id) : 0;
        if (!valid_id(pst_ynode_text(id))) {
            pst_ydiag(l->diag, l->file, id, "recommendation id '%s' must match [a-z0-9-]+",
                      pst_ynode_text(id));
        } else {
            for (size_t i = 0; i < earlier; i++) {
                pst_ydiag(l->diag, l->file, id, "duplicate recommendation id '%s'",
                          pst_ynode_text(id));
            }
        }
    }
    /* A control no file declared yet is looked up again once every file is loaded. */
    if (control != NULL) {
        rec->control = pst_policy_find_control(set, pst_ynode_text(control));
        if (rec->control == NULL) {
            add_pending(l, set->n_recommendations - 1, control, policy->path);
        }
    }
    if (severity != NULL) {
        for (s = 0; s < PST_COUNT(severity_names); s++) {
            if (severity_names[s][0] == pst_ynode_text(severity)[0] &&
                strcmp(severity_names[s], pst_ynode_text(severity)) == 0) {
                break;
            }
        }
        if (s == PST_COUNT(severity_names)) {
            pst_ydiag(l->diag, l->file, severity,
                      "severity must be critical, high, medium, low or info, not '%s'",
                      pst_ynode_text(severity));
        } else {
            rec->severity = (enum pst_severity)s;
        }
    }
    rec->references = json_object();
    if (rec->references == NULL) {
        l->nomem = true;
    }
    for (size_t i = 0; references != NULL && rec->references != NULL && i < references->n; i++) {
        const struct pst_ynode *value = pst_ynode_item(references, 2 * i + 1);
        if (value->kind != PST_Y_SCALAR) {
            pst_ydiag(l->diag, l->file, value, "a reference must be a scalar, not %s",
                      pst_ynode_kind_name(value->kind));
            continue;
        }
        json_object_set_new(rec->references, pst_ynode_text(pst_ynode_item(references, 2 * i)),
                            json_string(pst_ynode_text(value)));
    }
    if (v[REC_TITLE] != NULL) {
        rec->title = keep_text(l, pst_ynode_text(v[REC_TITLE]));
    }
    if (v[REC_RATIONALE] != NULL) {
        rec->rationale = keep_text(l, pst_ynode_text(v[REC_RATIONALE]));
    }
    if (v[REC_REMEDIATION] != NULL) {
        rec->remediation = keep_text(l, pst_ynode_text(v[REC_REMEDIATION]));
    }
    if (v[REC_APPLIES] != NULL) {
        rec->applies = load_check(l, v[REC_APPLIES], 0);
    }
    if (v[REC_CHECK] != NULL) {
        rec->check = load_check(l, v[REC_CHECK], 0);
    }
}

static void policy_free(struct pst_policy *policy)
{
    if (policy == NULL) {
        return;
    }
    json_decref(policy->os);
    free(policy);
}

static void load_header(struct loader *l, struct pst_policy *policy, const struct pst_ynode *node)
{
    const struct pst_ynode *v[POL_N], *id, *version, *applies_to, *os;

    if (!pst_ymap_check_get(l->diag, l->file, node, "the policy header", policy_keys, POL_N, v)) {
        return;
    }
    id = v[POL_ID];
    version = v[POL_VERSION];
    applies_to = v[POL_APPLIES_TO];
    if (id != NULL) {
        if (!valid_id(pst_ynode_text(id))) {
            pst_ydiag(l->diag, l->file, id, "policy id '%s' must match [a-z0-9-]+",
                      pst_ynode_text(id));
        }
        for (size_t i = 0; i < l->set->n_policies; i++) {
            if (l->set->policies[i] != policy && l->set->policies[i]->id != NULL &&
                strcmp(l->set->policies[i]->id, pst_ynode_text(id)) == 0) {
                pst_ydiag(l->diag, l->file, id, "duplicate policy id '%s' (also in %s)",
                          pst_ynode_text(id), l->set->policies[i]->path);
            }
        }
        policy->id = keep_text(l, pst_ynode_text(id));
    }
    if (version != NULL) {
        parse_long(l, version, "version", 1, &policy->version);
    }
    if (v[POL_TITLE] != NULL) {
        policy->title = keep_text(l, pst_ynode_text(v[POL_TITLE]));
    }
    if (applies_to != NULL &&
        pst_ymap_check(l->diag, l->file, applies_to, "applies_to", applies_to_keys,
                       PST_COUNT(applies_to_keys)) &&
        (os = pst_ymap_get_kind(applies_to, "os", PST_Y_SEQ)) != NULL) {
        policy->os = scalar_list(l, os, "applies_to.os");
    }
}

static bool grow(void **array, size_t used, size_t more, size_t size)
{
    void *grown = realloc(*array, (used + more + 1) * size);
    if (grown == NULL) {
        return false;
    }
    *array = grown;
    return true;
}

/* Hex SHA-256 of LEN bytes at BYTES into HEX (65 bytes). */
static void sha256_hex(const char *bytes, size_t len, char *hex)
{
    unsigned char digest[32];

#if MBEDTLS_VERSION_MAJOR >= 3
    mbedtls_sha256((const unsigned char *)(bytes ? bytes : ""), len, digest, 0);
#else
    mbedtls_sha256_ret((const unsigned char *)(bytes ? bytes : ""), len, digest, 0);
#endif
    for (size_t i = 0; i < sizeof(digest); i++) {
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    }
}

static bool same_file_state(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
           a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/*
 * The tree of the policy file PATH and the hash of its bytes, from the cache in the state
 * directory when the file is unchanged since it was cached, else parsed (and then cached).
 * A file changed in the last seconds is not cached: a second change within the file system's
 * timestamp granularity, to the same size, would not change the key.
 */
static struct pst_ynode *read_policy(struct loader *l, const char *path, char *sha256)
{
    const char *dir = l->config != NULL ? l->config->cache_dir : NULL;
    struct stat before, after;
    struct pst_ynode *root = NULL;
    char *bytes = NULL;
    size_t len = 0;
    bool keyed = dir != NULL && stat(path, &before) == 0 && S_ISREG(before.st_mode);

    if (keyed && pst_ycache_load(dir, path, &before, &root, sha256) == PST_OK) {
        return root;
    }
    root = pst_yaml_load_file(path, l->diag, &bytes, &len);
    sha256_hex(bytes, len, sha256);
    free(bytes);
    if (root != NULL && keyed && stat(path, &after) == 0 && same_file_state(&before, &after) &&
        time(NULL) - after.st_ctim.tv_sec >= 2 && time(NULL) - after.st_mtim.tv_sec >= 2) {
        pst_ycache_store(dir, path, &after, root, sha256);
    }
    return root;
}

static void load_file(struct loader *l, const char *path)
{
    struct pst_policy_set *set = l->set;
    struct pst_policy *policy = NULL;
    struct pst_ynode *root;
    const struct pst_ynode *v[TOP_N], *controls, *recs;
    char sha256[65];

    l->file = path;
    root = read_policy(l, path, sha256);
    if (root == NULL) {
        goto out;
    }
    if (!pst_ymap_check_get(l->diag, path, root, "a policy file", top_keys, TOP_N, v)) {
        goto out;
    }
    policy = calloc(1, sizeof(*policy));
    if (policy == NULL || !grow((void **)&set->policies, set->n_policies, 1, sizeof(policy))) {
        policy_free(policy);
        l->nomem = true;
        goto out;
    }
    set->policies[set->n_policies++] = policy;
    policy->path = keep_text(l, path);
    memcpy(policy->sha256, sha256, sizeof(policy->sha256));
    if (v[TOP_POLICY] != NULL) {
        load_header(l, policy, v[TOP_POLICY]);
    }
    l->parameters = v[TOP_PARAMETERS];
    for (size_t i = 0; l->parameters != NULL && i < l->parameters->n; i++) {
        const struct pst_ynode *value = pst_ynode_item(l->parameters, 2 * i + 1);
        bool flat = value->kind == PST_Y_SCALAR;
        for (size_t k = 0; value->kind == PST_Y_SEQ && k < value->n; k++) {
            flat = pst_ynode_item(value, k)->kind == PST_Y_SCALAR;
            if (!flat) {
                break;
            }
        }
        if (value->kind == PST_Y_SEQ && value->n == 0) {
            flat = true;
        }
        if (!flat) {
            pst_ydiag(l->diag, path, value, "parameter '%s' must be a scalar or a list of scalars",
                      pst_ynode_text(pst_ynode_item(l->parameters, 2 * i)));
        }
        if (json_object_set_new(l->declared, pst_ynode_text(pst_ynode_item(l->parameters, 2 * i)),
                                json_true()) != 0) {
            l->nomem = true;
        }
    }
    controls = v[TOP_CONTROLS];
    recs = v[TOP_RECOMMENDATIONS];
    if (controls != NULL) {
        if (!grow((void **)&set->controls, set->n_controls, controls->n, sizeof(void *))) {
            l->nomem = true;
            goto out;
        }
        for (size_t i = 0; i < controls->n; i++) {
            load_control(l, pst_ynode_item(controls, i));
        }
    }
    if (recs != NULL) {
        if (!grow((void **)&set->recommendations, set->n_recommendations, recs->n,
                  sizeof(void *))) {
            l->nomem = true;
            goto out;
        }
        for (size_t i = 0; i < recs->n; i++) {
            load_recommendation(l, policy, pst_ynode_item(recs, i));
        }
    }
out:
    /* The overrides of the config are checked against every loaded policy's parameters. */
    if (root != NULL && l->config != NULL && l->config->parameters != NULL) {
        const struct pst_ynode *params = pst_ymap_get_kind(root, "parameters", PST_Y_MAP);
        for (size_t i = 0; params != NULL && i < params->n; i++) {
            const char *name = pst_ynode_text(pst_ynode_item(params, 2 * i));
            const struct pst_ynode *over = pst_ymap_get(l->config->parameters, name);
            if (over != NULL && over->kind != pst_ynode_item(params, 2 * i + 1)->kind) {
                pst_ydiag(l->diag, l->config->path, over,
                          "parameter '%s' must be %s, as the policy %s declares it", name,
                          pst_ynode_kind_name(pst_ynode_item(params, 2 * i + 1)->kind), path);
            }
        }
    }
    l->parameters = NULL;
    pst_ynode_free(root);
}

static int cmp_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_policy_name(const char *name)
{
    size_t n = strlen(name);
    return name[0] != '.' && ((n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
                              (n > 4 && strcmp(name + n - 4, ".yml") == 0));
}

/* Loads every policy file of directory DIR in name order. */
static void load_directory(struct loader *l, const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char **names = NULL;
    size_t n = 0;

    if (d == NULL) {
        pst_diag_add(l->diag, dir, 0, 0, "cannot open policy directory: %s",
                     pst_strerror(pst_from_errno(errno)));
        return;
    }
    while ((de = readdir(d)) != NULL) {
        char *path;
        if (!is_policy_name(de->d_name)) {
            continue;
        }
        if (!grow((void **)&names, n, 1, sizeof(*names)) ||
            asprintf(&path, "%s/%s", dir, de->d_name) < 0) {
            l->nomem = true;
            break;
        }
        names[n++] = path;
    }
    closedir(d);
    if (n == 0 && !l->nomem) {
        pst_diag_add(l->diag, dir, 0, 0, "no policy files (*.yaml, *.yml) in this directory");
    }
    if (n > 0) {
        qsort(names, n, sizeof(*names), cmp_strings);
    }
    for (size_t i = 0; i < n; i++) {
        load_file(l, names[i]);
        free(names[i]);
    }
    free(names);
}

/* Points every recommendation at its control, now that all files have declared theirs. */
static void resolve_controls(struct loader *l)
{
    for (size_t i = 0; i < l->n_pending; i++) {
        const struct pending *p = &l->pending[i];
        struct pst_recommendation *rec = l->set->recommendations[p->rec];
        rec->control = pst_policy_find_control(l->set, p->control);
        if (rec->control == NULL) {
            pst_diag_add(l->diag, p->file, p->line, p->column,
                         "recommendation names no existing control '%s'", p->control);
        }
    }
}

/* Every override and exemption in the config must name something a loaded policy has. */
static void check_config_refs(struct loader *l)
{
    const struct pst_config *config = l->config;

    if (config == NULL || config->path == NULL) {
        return;
    }
    for (size_t i = 0; config->parameters != NULL && i < config->parameters->n; i++) {
        const struct pst_ynode *key = pst_ynode_item(config->parameters, 2 * i);
        if (json_object_get(l->declared, pst_ynode_text(key)) == NULL) {
            pst_ydiag(l->diag, config->path, key, "no loaded policy declares parameter '%s'",
                      pst_ynode_text(key));
        }
    }
    for (size_t i = 0; i < config->n_exemptions; i++) {
        const struct pst_exemption *ex = &config->exemptions[i];
        if (pst_policy_find_recommendation(l->set, ex->recommendation) == NULL) {
            pst_diag_add(l->diag, config->path, ex->line, ex->column,
                         "exemption names no loaded recommendation '%s'", ex->recommendation);
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(config->exemptions[j].recommendation, ex->recommendation) == 0) {
                pst_diag_add(l->diag, config->path, ex->line, ex->column,
                             "recommendation '%s' is already exempted at line %d",
                             ex->recommendation, config->exemptions[j].line);
            }
        }
    }
}

const struct pst_recommendation *pst_policy_find_recommendation(const struct pst_policy_set *set,
                                                                const char *id)
{
    for (size_t i = 0; i < set->n_recommendations; i++) {
        if (set->recommendations[i]->id != NULL && strcmp(set->recommendations[i]->id, id) == 0) {
            return set->recommendations[i];
        }
    }
    return NULL;
}

const struct pst_control *pst_policy_find_control(const struct pst_policy_set *set, const char *id)
{
    for (size_t i = 0; i < set->n_controls; i++) {
        if (strcmp(set->controls[i]->id, id) == 0) {
            return set->controls[i];
        }
    }
    return NULL;
}

void pst_policy_set_free(struct pst_policy_set *set)
{
    if (set == NULL) {
        return;
    }
    for (size_t i = 0; i < set->n_recommendations; i++) {
        struct pst_recommendation *rec = set->recommendations[i];
        json_decref(rec->references);
        check_free(rec->applies);
        check_free(rec->check);
        free(rec);
    }
    for (size_t i = 0; i < set->n_controls; i++) {
        json_decref(set->controls[i]->mcsb);
        free(set->controls[i]);
    }
    for (size_t i = 0; i < set->n_policies; i++) {
        policy_free(set->policies[i]);
    }
    free(set->recommendations);
    free(set->controls);
    free(set->policies);
    pst_blocks_release(&set->text);
    free(set);
}

int pst_policy_load(const char *const *paths, size_t n_paths, const struct pst_config *config,
                    struct pst_policy_set **out, struct pst_diag *diag)
{
    struct loader l = {.diag = diag, .config = config};
    size_t errors_before = pst_diag_errors(diag);
    int rc = PST_OK;

    *out = NULL;
    pst_jsonw_init(&l.scratch, JSON_COMPACT | JSON_ENCODE_ANY);
    l.set = calloc(1, sizeof(*l.set));
    l.declared = json_object();
    l.control_files = json_object();
    l.no_args = json_object();
    if (l.set == NULL || l.declared == NULL || l.control_files == NULL || l.no_args == NULL) {
        rc = PST_ENOMEM;
        goto out;
    }
    l.set->text.block_bytes = TEXT_BLOCK_BYTES;
    for (size_t i = 0; i < n_paths && !l.nomem; i++) {
        struct stat st;
        if (stat(paths[i], &st) != 0) {
            pst_diag_add(diag, paths[i], 0, 0, "cannot read policy: %s",
                         pst_strerror(pst_from_errno(errno)));
        } else if (S_ISDIR(st.st_mode)) {
            load_directory(&l, paths[i]);
        } else {
            load_file(&l, paths[i]);
        }
    }
    if (!l.nomem) {
        resolve_controls(&l);
        check_config_refs(&l);
    }
    if (l.nomem) {
        rc = PST_ENOMEM;
    } else if (pst_diag_errors(diag) > errors_before) {
        rc = PST_EPARSE;
    }
out:
    json_decref(l.declared);
    json_decref(l.control_files);
    json_decref(l.no_args);
    free(l.pending);
    pst_hashtab_release(&l.ids);
    pst_jsonw_release(&l.scratch);
    if (rc != PST_OK) {
        pst_policy_set_free(l.set);
        return rc;
    }
    *out = l.set;
    return PST_OK;
}
