/* SPDX-License-Identifier: Apache-2.0 */
/* The evaluator: check trees against probe facts, statuses, evidence and exemptions. */
#include "agent/eval.h"

#include "agent/error.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const status_names[] = {
    [PST_STATUS_PASS] = "pass",
    [PST_STATUS_FAIL] = "fail",
    [PST_STATUS_NOT_APPLICABLE] = "not_applicable",
    [PST_STATUS_EXEMPT] = "exempt",
    [PST_STATUS_ERROR] = "error",
};

const char *pst_status_name(enum pst_status status)
{
    return status_names[status];
}

/* Three-valued outcome of a check node: the evidence's, under shorter names. */
enum outcome {
    OUT_PASS = PST_OUTCOME_PASS,
    OUT_FAIL = PST_OUTCOME_FAIL,
    OUT_ERROR = PST_OUTCOME_ERROR,
};

static const char *const outcome_names[] = {
    [PST_OUTCOME_PASS] = "pass",
    [PST_OUTCOME_FAIL] = "fail",
    [PST_OUTCOME_ERROR] = "error",
};

const char *pst_outcome_name(enum pst_outcome outcome)
{
    return outcome_names[outcome];
}

/* What one evaluation collects while it walks a tree. */
struct walk {
    struct pst_eval_ctx *ctx;
    struct pst_result *result;
    char *first_error;   /* first error reason met, for the result's reason */
    size_t evidence_cap; /* the items result->evidence holds */
    bool nomem;
};

/* Renders a value for people: strings bare, everything else as compact JSON. */
static char *render(const json_t *value)
{
    if (json_is_string(value)) {
        return strdup(json_string_value(value));
    }
    return json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
}

char *pst_eval_args_text(const json_t *args)
{
    const char *key;
    const json_t *value;
    char *text = strdup("");

    json_object_foreach((json_t *)args, key, value)
    {
        char *v = render(value);
        char *joined = NULL;
        if (text == NULL || v == NULL || asprintf(&joined, "%s %s=%s", text, key, v) < 0) {
            free(v);
            free(text);
            return NULL;
        }
        free(v);
        free(text);
        text = joined;
    }
    return text;
}

static bool list_has(const json_t *list, const json_t *value)
{
    size_t i;
    const json_t *item;

    json_array_foreach(list, i, item)
    {
        if (json_equal(item, value)) {
            return true;
        }
    }
    return false;
}

static bool is_empty(const json_t *v)
{
    return json_is_null(v) || (json_is_array(v) && json_array_size(v) == 0) ||
           (json_is_string(v) && json_string_length(v) == 0) ||
           (json_is_object(v) && json_object_size(v) == 0);
}

/* Text of OBSERVED for regex matching: strings as is, integers in decimal. */
static char *match_text(const json_t *observed)
{
    if (json_is_string(observed)) {
        return strdup(json_string_value(observed));
    }
    if (json_is_integer(observed)) {
        char *s = NULL;
        return asprintf(&s, "%lld", (long long)json_integer_value(observed)) < 0 ? NULL : s;
    }
    return NULL;
}

/* Applies LEAF's operator; absent (null) facts follow the rules of docs/policy-format.md. */
static enum outcome compare(const struct pst_check *leaf, const json_t *observed)
{
    const json_t *operand = leaf->operand;
    bool absent = json_is_null(observed);
    bool ok = false;

    switch (leaf->op) {
    case PST_OP_EQUALS:
        ok = json_equal(observed, operand);
        break;
    case PST_OP_NOT_EQUALS:
        ok = !json_equal(observed, operand);
        break;
    case PST_OP_IN:
        ok = !absent && list_has(operand, observed);
        break;
    case PST_OP_NOT_IN:
        ok = absent || !list_has(operand, observed);
        break;
    case PST_OP_MATCHES:
    case PST_OP_NOT_MATCHES: {
        char *text = match_text(observed);
        bool matched = text != NULL && regexec(&leaf->regex, text, 0, NULL, 0) == 0;
        free(text);
        ok = leaf->op == PST_OP_MATCHES ? matched : !matched;
        break;
    }
    case PST_OP_LT:
    case PST_OP_LE:
    case PST_OP_GT:
    case PST_OP_GE: {
        if (!json_is_integer(observed)) {
            ok = false;
            break;
        }
        json_int_t a = json_integer_value(observed), b = json_integer_value(operand);
        ok = leaf->op == PST_OP_LT   ? a < b
             : leaf->op == PST_OP_LE ? a <= b
             : leaf->op == PST_OP_GT ? a > b
                                     : a >= b;
        break;
    }
    case PST_OP_EXISTS:
        ok = !absent == json_is_true(operand);
        break;
    case PST_OP_EMPTY:
        ok = is_empty(observed) == json_is_true(operand);
        break;
    case PST_OP_CONTAINS:
        if (json_is_array(observed)) {
            ok = list_has(observed, operand);
        } else if (json_is_string(observed)) {
            ok = strstr(json_string_value(observed), json_string_value(operand)) != NULL;
        }
        break;
    case PST_OP_SUBSET_OF:
    case PST_OP_DISJOINT_FROM: {
        size_t i;
        const json_t *item;
        bool subset = true, disjoint = true;
        json_array_foreach(observed, i, item)
        {
            if (list_has(operand, item)) {
                disjoint = false;
            } else {
                subset = false;
            }
        }
        ok = leaf->op == PST_OP_SUBSET_OF ? subset : disjoint;
        break;
    }
    case PST_OP_MODE_AT_MOST: {
        unsigned have, allowed;
        ok = json_is_string(observed) &&
             pst_mode_parse(json_string_value(observed), &have) == PST_OK &&
             pst_mode_parse(json_string_value(operand), &allowed) == PST_OK &&
             (have & ~allowed) == 0;
        break;
    }
    }
    return ok ? OUT_PASS : OUT_FAIL;
}

/* Joins the probe's error messages into one reason. */
static char *errors_text(const json_t *errors)
{
    size_t i;
    const json_t *e;
    char *text = NULL;

    json_array_foreach(errors, i, e)
    {
        const char *msg = json_string_value(json_object_get(e, "message"));
        char *joined = NULL;
        if (asprintf(&joined, "%s%s%s", text ? text : "", text ? "; " : "", msg ? msg : "?") < 0) {
            free(text);
            return NULL;
        }
        free(text);
        text = joined;
    }
    return text;
}

/* The items of OBSERVED (an array) that failed LEAF, a subset_of or disjoint_from: those
 * outside its set, or those inside it. A new array, or NULL when out of memory. */
static json_t *offending_items(const struct pst_check *leaf, const json_t *observed)
{
    json_t *offending = json_array();
    size_t i;
    const json_t *value;

    json_array_foreach(observed, i, value)
    {
        bool in = list_has(leaf->operand, value);
        if (offending != NULL && in == (leaf->op == PST_OP_DISJOINT_FROM) &&
            json_array_append(offending, (json_t *)value) != 0) {
            json_decref(offending);
            offending = NULL;
        }
    }
    return offending;
}

/*
 * Keeps the evidence of LEAF: a reference to OBSERVED (NULL: none was read), copies of SOURCE
 * (UTF-8, or NULL) and ERROR. Past PST_EVIDENCE_MAX items it only counts.
 */
static void add_evidence(struct walk *w, const struct pst_check *leaf, const json_t *observed,
                         const char *source, enum outcome outcome, const char *error)
{
    struct pst_result *r = w->result;
    struct pst_evidence *ev;

    if (r->n_evidence >= w->evidence_cap) {
        r->evidence_omitted++;
        return;
    }
    ev = &r->evidence[r->n_evidence++];
    ev->leaf = leaf;
    ev->outcome = (enum pst_outcome)outcome;
    ev->observed = observed != NULL ? json_incref((json_t *)observed) : NULL;
    if ((source != NULL && (ev->source = strdup(source)) == NULL) ||
        (error != NULL && (ev->error = strdup(error)) == NULL)) {
        w->nomem = true;
    }
    if (outcome == OUT_FAIL && json_is_array(observed) &&
        (leaf->op == PST_OP_SUBSET_OF || leaf->op == PST_OP_DISJOINT_FROM)) {
        /* name the items that failed the leaf */
        ev->offending = offending_items(leaf, observed);
        w->nomem = w->nomem || ev->offending == NULL;
    }
}

static enum outcome eval_leaf(struct walk *w, const struct pst_check *leaf)
{
    const struct pst_call *call = NULL;
    const struct pst_fact *fact;
    enum outcome outcome;
    int rc = pst_probe_call(w->ctx->probes, leaf->probe, leaf->args, &call);

    if (rc != PST_OK) {
        w->nomem = w->nomem || rc == PST_ENOMEM;
        add_evidence(w, leaf, NULL, NULL, OUT_ERROR, pst_strerror(rc));
        return OUT_ERROR;
    }
    fact = pst_call_fact(call, leaf->field);
    if (fact == NULL) {
        const json_t *errors = call->errors;
        char *why = json_array_size(errors) > 0 ? errors_text(errors) : NULL;
        if (why != NULL && geteuid() != 0 && strstr(why, pst_strerror(PST_EACCES)) != NULL) {
            w->result->needs_root = true;
        }
        if (json_array_size(errors) == 0) {
            /* The probe ran and did not see the field at all: an absent fact. */
            outcome = compare(leaf, json_null());
            add_evidence(w, leaf, json_null(), NULL, outcome, NULL);
            free(why);
            return outcome;
        }
        add_evidence(w, leaf, NULL, NULL, OUT_ERROR, why);
        if (w->first_error == NULL) {
            w->first_error = why;
        } else {
            free(why);
        }
        return OUT_ERROR;
    }
    outcome = compare(leaf, fact->value);
    add_evidence(w, leaf, fact->value, fact->source, outcome, NULL);
    return outcome;
}

/* Every child is evaluated, even after the verdict is known, so that all evidence shows. */
static enum outcome eval_check(struct walk *w, const struct pst_check *check)
{
    enum outcome result;

    switch (check->kind) {
    case PST_CHECK_LEAF:
        return eval_leaf(w, check);
    case PST_CHECK_NOT:
        result = eval_check(w, check->children[0]);
        return result == OUT_ERROR ? OUT_ERROR : result == OUT_PASS ? OUT_FAIL : OUT_PASS;
    case PST_CHECK_ALL:
    case PST_CHECK_ANY: {
        bool any_pass = false, any_fail = false, any_error = false;
        for (size_t i = 0; i < check->n; i++) {
            enum outcome o = eval_check(w, check->children[i]);
            any_pass = any_pass || o == OUT_PASS;
            any_fail = any_fail || o == OUT_FAIL;
            any_error = any_error || o == OUT_ERROR;
        }
        if (check->kind == PST_CHECK_ALL) {
            return any_fail ? OUT_FAIL : any_error ? OUT_ERROR : OUT_PASS;
        }
        return any_pass ? OUT_PASS : any_error ? OUT_ERROR : OUT_FAIL;
    }
    }
    return OUT_ERROR;
}

/* The exemption in force for REC, if any; an expired one is reported and ignored. */
static const struct pst_exemption *find_exemption(struct pst_eval_ctx *ctx,
                                                  const struct pst_recommendation *rec)
{
    if (ctx->config == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < ctx->config->n_exemptions; i++) {
        const struct pst_exemption *ex = &ctx->config->exemptions[i];
        if (strcmp(ex->recommendation, rec->id) != 0) {
            continue;
        }
        if (ex->expires[0] != '\0' && strcmp(ex->expires, ctx->today) < 0) {
            json_array_append_new(ctx->warnings,
                                  json_sprintf("exemption for %s expired on %s (%s:%d); ignored",
                                               rec->id, ex->expires, ctx->config->path, ex->line));
            return NULL;
        }
        return ex;
    }
    return NULL;
}

/* Whether the policy's applies_to.os names this host's ID or one of its ID_LIKE. */
static enum outcome os_matches(struct walk *w, const struct pst_policy *policy, char **reason)
{
    extern const struct pst_probe pst_probe_os;
    const struct pst_call *call = NULL;
    const json_t *id, *like;
    size_t i;
    const json_t *item;

    if (policy->os == NULL) {
        return OUT_PASS;
    }
    if (pst_probe_call(w->ctx->probes, &pst_probe_os, NULL, &call) != PST_OK) {
        w->nomem = true;
        return OUT_ERROR;
    }
    id = pst_call_value(call, "id");
    like = pst_call_value(call, "id_like");
    if (!json_is_string(id)) {
        char *why = errors_text(call->errors);
        if (asprintf(reason, "cannot tell the operating system: %s", why ? why : "no ID") < 0) {
            *reason = NULL;
        }
        free(why);
        return OUT_ERROR;
    }
    if (list_has(policy->os, id)) {
        return OUT_PASS;
    }
    json_array_foreach(like, i, item)
    {
        if (list_has(policy->os, item)) {
            return OUT_PASS;
        }
    }
    char *wanted = render(policy->os);
    if (asprintf(reason, "policy %s applies to %s; this host is %s", policy->id,
                 wanted ? wanted : "?", json_string_value(id)) < 0) {
        *reason = NULL;
    }
    free(wanted);
    return OUT_FAIL;
}

/* "fact (args) is observed, not expected", from the first failing evidence item. */
static char *applies_reason(const struct pst_result *result)
{
    char *reason = NULL;

    for (size_t i = 0; i < result->n_evidence; i++) {
        const struct pst_evidence *ev = &result->evidence[i];
        if (ev->outcome != PST_OUTCOME_FAIL) {
            continue;
        }
        char *args = pst_eval_args_text(ev->leaf->args);
        char *observed = render(ev->observed != NULL ? ev->observed : json_null());
        if (asprintf(&reason, "%s%s is %s (the recommendation applies when %s)", ev->leaf->fact,
                     args ? args : "", observed ? observed : "null", ev->leaf->expected) < 0) {
            reason = NULL;
        }
        free(args);
        free(observed);
        return reason;
    }
    return strdup("the applies condition is not met");
}

/* The leaves of CHECK (NULL: none), up to LIMIT: the evidence items its evaluation makes. */
static size_t count_leaves(const struct pst_check *check, size_t limit)
{
    size_t n = 0;

    if (check == NULL || limit == 0) {
        return 0;
    }
    if (check->kind == PST_CHECK_LEAF) {
        return 1;
    }
    /* each child's count is within what is left of LIMIT */
    for (size_t i = 0; i < check->n && n < limit; i++) {
        n += count_leaves(check->children[i], limit - n);
    }
    return n;
}

int pst_eval_recommendation(struct pst_eval_ctx *ctx, const struct pst_recommendation *rec,
                            struct pst_result *out)
{
    struct walk w = {.ctx = ctx, .result = out};
    enum outcome applies = OUT_PASS, verdict;
    char *reason = NULL;

    memset(out, 0, sizeof(*out));
    out->rec = rec;
    /* one array for all the items: each leaf is evaluated once at most */
    w.evidence_cap = count_leaves(rec->applies, PST_EVIDENCE_MAX);
    w.evidence_cap += count_leaves(rec->check, PST_EVIDENCE_MAX - w.evidence_cap);
    if (w.evidence_cap > 0 &&
        (out->evidence = calloc(w.evidence_cap, sizeof(*out->evidence))) == NULL) {
        return PST_ENOMEM;
    }
    applies = os_matches(&w, rec->policy, &reason);
    if (applies == OUT_PASS && rec->applies != NULL) {
        applies = eval_check(&w, rec->applies);
        if (applies == OUT_FAIL) {
            reason = applies_reason(out);
        }
    }
    if (applies == OUT_FAIL) {
        out->status = PST_STATUS_NOT_APPLICABLE;
        out->reason = reason;
        goto out;
    }
    if (applies == OUT_ERROR) {
        /* Unknown applicability is an error, unless an admin exempted the recommendation. */
        verdict = OUT_ERROR;
        if (reason == NULL) {
            reason = w.first_error != NULL ? w.first_error
                                           : strdup("the applies condition could not be evaluated");
            w.first_error = NULL;
        }
    } else {
        free(reason);
        reason = NULL;
        verdict = eval_check(&w, rec->check);
        if (verdict == OUT_ERROR) {
            reason =
                w.first_error != NULL ? w.first_error : strdup("the check could not be evaluated");
            w.first_error = NULL;
        }
    }
    out->exemption = find_exemption(ctx, rec);
    if (out->exemption != NULL) {
        out->status = PST_STATUS_EXEMPT;
        out->reason = strdup(out->exemption->reason);
        free(reason);
    } else if (verdict == OUT_ERROR) {
        out->status = PST_STATUS_ERROR;
        out->reason = reason;
    } else {
        out->status = verdict == OUT_PASS ? PST_STATUS_PASS : PST_STATUS_FAIL;
        free(reason);
    }
out:
    free(w.first_error);
    return w.nomem ? PST_ENOMEM : PST_OK;
}

void pst_result_release(struct pst_result *result)
{
    for (size_t i = 0; i < result->n_evidence; i++) {
        struct pst_evidence *ev = &result->evidence[i];
        json_decref(ev->observed);
        json_decref(ev->offending);
        free(ev->source);
        free(ev->error);
    }
    free(result->evidence);
    free(result->reason);
    result->evidence = NULL;
    result->n_evidence = 0;
    result->reason = NULL;
}
