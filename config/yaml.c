/* SPDX-License-Identifier: Apache-2.0 */
/* A small YAML document tree built with libyaml, every node keeping its line and column. */
#include "config/yaml.h"

#include "agent/error.h"
#include "probes/fs.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <jansson.h>
#include <yaml.h>

const char *pst_ynode_kind_name(enum pst_ynode_kind kind)
{
    switch (kind) {
    case PST_Y_SCALAR:
        return "a scalar";
    case PST_Y_SEQ:
        return "a list";
    case PST_Y_MAP:
        return "a mapping";
    }
    return "a node";
}

void pst_ynode_free(struct pst_ynode *node)
{
    struct pst_ytree_head *h;

    if (node == NULL) {
        return;
    }
    h = (struct pst_ytree_head *)(void *)node - 1;
    if (h->mapped) {
        munmap(h, pst_ytree_bytes(h));
    } else {
        free(h);
    }
}

/*
 * The parser's own tree, built node by node as libyaml's events come, then laid out in one
 * block (flatten) and freed.
 */
struct pnode {
    enum pst_ynode_kind kind;
    int line, column;
    bool plain;
    char *scalar;
    size_t len;
    struct pnode **items;
    uint32_t n, n_items;
};

static void pnode_free(struct pnode *node)
{
    if (node == NULL) {
        return;
    }
    for (size_t i = 0; i < node->n_items; i++) {
        pnode_free(node->items[i]);
    }
    free(node->items);
    free(node->scalar);
    free(node);
}

const struct pst_ynode *pst_ymap_get(const struct pst_ynode *map, const char *key)
{
    if (map == NULL || map->kind != PST_Y_MAP) {
        return NULL;
    }
    /* Most keys differ in their first byte: test it before calling strcmp. */
    for (size_t i = 0; i < map->n; i++) {
        const char *name = pst_ynode_text(pst_ynode_item(map, 2 * i));
        if (name[0] == key[0] && strcmp(name, key) == 0) {
            return pst_ynode_item(map, 2 * i + 1);
        }
    }
    return NULL;
}

const struct pst_ynode *pst_ymap_get_kind(const struct pst_ynode *map, const char *key,
                                          enum pst_ynode_kind kind)
{
    const struct pst_ynode *value = pst_ymap_get(map, key);

    return value != NULL && value->kind == kind ? value : NULL;
}

struct builder {
    const char *file;
    struct pst_diag *diag;
    struct pnode *stack[PST_YAML_MAX_DEPTH + 1];
    size_t slots[PST_YAML_MAX_DEPTH + 1]; /* items used in the container at that depth */
    size_t caps[PST_YAML_MAX_DEPTH + 1];
    json_t *keys[PST_YAML_MAX_DEPTH + 1]; /* a mapping's keys -> line, for duplicates in O(1) */
    int depth;
    size_t nodes, strings_len;
    struct pnode *root;
    bool failed;
};

/* Adds NODE to the current container (or makes it the root). Takes ownership. */
static bool attach(struct builder *b, struct pnode *node)
{
    struct pnode *parent;
    size_t *used, *cap;

    if (b->depth == 0) {
        b->root = node;
        return true;
    }
    parent = b->stack[b->depth - 1];
    used = &b->slots[b->depth - 1];
    cap = &b->caps[b->depth - 1];
    if (parent->kind == PST_Y_MAP && *used % 2 == 0) {
        /* A key: must be a scalar, and must not repeat. */
        if (node->kind != PST_Y_SCALAR) {
            pst_diag_add(b->diag, b->file, node->line, node->column,
                         "a mapping key must be a scalar");
            pnode_free(node);
            return false;
        }
        json_t *keys = b->keys[b->depth - 1];
        const json_t *first = json_object_get(keys, node->scalar);
        if (first != NULL) {
            pst_diag_add(b->diag, b->file, node->line, node->column,
                         "duplicate key '%s' (first at line %d)", node->scalar,
                         (int)json_integer_value(first));
            pnode_free(node);
            return false;
        }
        if (json_object_set_new_nocheck(keys, node->scalar, json_integer(node->line)) != 0) {
            pst_diag_add(b->diag, b->file, 0, 0, "out of memory");
            pnode_free(node);
            return false;
        }
    }
    if (*used == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        struct pnode **grown = realloc(parent->items, ncap * sizeof(*grown));
        if (grown == NULL) {
            pst_diag_add(b->diag, b->file, 0, 0, "out of memory");
            pnode_free(node);
            return false;
        }
        parent->items = grown;
        *cap = ncap;
    }
    parent->items[(*used)++] = node;
    parent->n_items = (uint32_t)*used;
    parent->n = (uint32_t)(parent->kind == PST_Y_MAP ? *used / 2 : *used);
    return true;
}

static struct pnode *new_node(struct builder *b, enum pst_ynode_kind kind, const yaml_event_t *ev)
{
    struct pnode *node;

    if (++b->nodes > PST_YAML_MAX_NODES) {
        pst_diag_add(b->diag, b->file, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
                     "more than %d nodes", PST_YAML_MAX_NODES);
        return NULL;
    }
    node = calloc(1, sizeof(*node));
    if (node == NULL) {
        pst_diag_add(b->diag, b->file, 0, 0, "out of memory");
        return NULL;
    }
    node->kind = kind;
    node->line = (int)ev->start_mark.line + 1;
    node->column = (int)ev->start_mark.column + 1;
    return node;
}

/* Tags a configuration file has no use for, and anchors, would only hide what is meant. */
static bool check_event_extras(struct builder *b, const yaml_char_t *anchor, const yaml_char_t *tag,
                               const yaml_event_t *ev)
{
    if (anchor != NULL) {
        pst_diag_add(b->diag, b->file, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
                     "anchors and aliases are not supported");
        return false;
    }
    static const char *const core_tags[] = {
        "tag:yaml.org,2002:str",   "tag:yaml.org,2002:int",  "tag:yaml.org,2002:bool",
        "tag:yaml.org,2002:float", "tag:yaml.org,2002:null", "tag:yaml.org,2002:seq",
        "tag:yaml.org,2002:map",
    };
    bool core = false;

    for (size_t i = 0; tag != NULL && i < sizeof(core_tags) / sizeof(core_tags[0]); i++) {
        core = core || strcmp((const char *)tag, core_tags[i]) == 0;
    }
    if (tag != NULL && !core) {
        pst_diag_add(b->diag, b->file, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
                     "unsupported tag '%s'", (const char *)tag);
        return false;
    }
    return true;
}

static bool handle_event(struct builder *b, const yaml_event_t *ev, int *documents)
{
    struct pnode *node;

    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (++*documents > 1) {
            pst_diag_add(b->diag, b->file, (int)ev->start_mark.line + 1,
                         (int)ev->start_mark.column + 1, "only one YAML document is allowed");
            return false;
        }
        return true;
    case YAML_ALIAS_EVENT:
        pst_diag_add(b->diag, b->file, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
                     "anchors and aliases are not supported");
        return false;
    case YAML_SCALAR_EVENT:
        if (!check_event_extras(b, ev->data.scalar.anchor, ev->data.scalar.tag, ev)) {
            return false;
        }
        node = new_node(b, PST_Y_SCALAR, ev);
        if (node == NULL) {
            return false;
        }
        node->scalar = strndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
        node->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        if (node->scalar == NULL || strlen(node->scalar) != ev->data.scalar.length) {
            pst_diag_add(b->diag, b->file, node->line, node->column,
                         node->scalar ? "NUL character in a scalar" : "out of memory");
            pnode_free(node);
            return false;
        }
        node->len = ev->data.scalar.length;
        b->strings_len += node->len + 1;
        return attach(b, node);
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
        bool seq = ev->type == YAML_SEQUENCE_START_EVENT;
        if (!check_event_extras(
                b, seq ? ev->data.sequence_start.anchor : ev->data.mapping_start.anchor,
                seq ? ev->data.sequence_start.tag : ev->data.mapping_start.tag, ev)) {
            return false;
        }
        if (b->depth == PST_YAML_MAX_DEPTH) {
            pst_diag_add(b->diag, b->file, (int)ev->start_mark.line + 1,
                         (int)ev->start_mark.column + 1, "nesting deeper than %d levels",
                         PST_YAML_MAX_DEPTH);
            return false;
        }
        node = new_node(b, seq ? PST_Y_SEQ : PST_Y_MAP, ev);
        if (node == NULL || !attach(b, node)) {
            return false;
        }
        b->stack[b->depth] = node;
        b->slots[b->depth] = 0;
        b->caps[b->depth] = 0;
        b->keys[b->depth] = seq ? NULL : json_object();
        if (!seq && b->keys[b->depth] == NULL) {
            pst_diag_add(b->diag, b->file, 0, 0, "out of memory");
            return false;
        }
        b->depth++;
        return true;
    }
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        b->depth--;
        json_decref(b->keys[b->depth]);
        b->keys[b->depth] = NULL;
        return true;
    default:
        return true;
    }
}

/* Where flatten() writes: the nodes, the child references, the scalars of one block. */
struct layout {
    struct pst_ynode *nodes;
    uint32_t *refs;
    char *strings;
    size_t n_nodes, n_refs, strings_len;
};

/* Lays NODE and its subtree out in pre-order from L's next node on; returns NODE's index. */
static size_t flatten(const struct pnode *node, struct layout *l)
{
    size_t index = l->n_nodes++;
    struct pst_ynode *out = &l->nodes[index];

    *out = (struct pst_ynode){
        .kind = (uint8_t)node->kind,
        .plain = node->plain ? 1 : 0,
        .line = node->line,
        .column = node->column,
        .n = node->n,
        .n_items = node->n_items,
    };
    if (node->kind == PST_Y_SCALAR) {
        out->off = (uint32_t)(l->strings + l->strings_len - (char *)out);
        memcpy(l->strings + l->strings_len, node->scalar, node->len + 1);
        l->strings_len += node->len + 1;
        return index;
    }
    size_t first = l->n_refs;
    out->off = (uint32_t)((char *)(l->refs + first) - (char *)out);
    l->n_refs += node->n_items;
    for (size_t i = 0; i < node->n_items; i++) {
        l->refs[first + i] = (uint32_t)(flatten(node->items[i], l) - index);
    }
    return index;
}

/* The tree ROOT (of N_NODES nodes, STRINGS_LEN bytes of scalars) as one block, or NULL. */
static struct pst_ynode *make_block(const struct pnode *root, size_t n_nodes, size_t strings_len)
{
    struct pst_ytree_head h = {.n_nodes = (uint32_t)n_nodes,
                               .n_refs = (uint32_t)(n_nodes - 1),
                               .strings_len = (uint32_t)strings_len};
    struct pst_ytree_head *block = calloc(1, pst_ytree_bytes(&h));
    struct layout l;

    if (block == NULL) {
        return NULL;
    }
    *block = h;
    l.nodes = (struct pst_ynode *)(void *)(block + 1);
    l.refs = (uint32_t *)(void *)(l.nodes + h.n_nodes);
    l.strings = (char *)(l.refs + h.n_refs);
    l.n_nodes = l.n_refs = l.strings_len = 0;
    flatten(root, &l);
    return l.nodes;
}

struct pst_ynode *pst_yaml_parse(const char *file, const char *buf, size_t len,
                                 struct pst_diag *diag)
{
    struct pst_ynode *tree = NULL;
    struct builder b = {.file = file, .diag = diag};
    yaml_parser_t parser;
    yaml_event_t event;
    int documents = 0;
    bool done = false;

    if (len > PST_YAML_MAX_BYTES) {
        pst_diag_add(diag, file, 0, 0, "file is larger than %u bytes", PST_YAML_MAX_BYTES);
        return NULL;
    }
    if (memchr(buf, '\0', len) != NULL) {
        pst_diag_add(diag, file, 0, 0, "binary content (NUL byte), not a YAML file");
        return NULL;
    }
    if (!yaml_parser_initialize(&parser)) {
        pst_diag_add(diag, file, 0, 0, "out of memory");
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
    while (!done) {
        if (!yaml_parser_parse(&parser, &event)) {
            pst_diag_add(diag, file, (int)parser.problem_mark.line + 1,
                         (int)parser.problem_mark.column + 1, "YAML syntax error: %s%s%s",
                         parser.problem ? parser.problem : "unknown problem",
                         parser.context ? " " : "", parser.context ? parser.context : "");
            b.failed = true;
            break;
        }
        done = event.type == YAML_STREAM_END_EVENT;
        if (!handle_event(&b, &event, &documents)) {
            b.failed = true;
            done = true;
        }
        yaml_event_delete(&event);
    }
    yaml_parser_delete(&parser);
    while (b.depth > 0) {
        json_decref(b.keys[--b.depth]);
    }
    if (b.failed) {
        pnode_free(b.root);
        return NULL;
    }
    if (b.root == NULL) {
        pst_diag_add(diag, file, 0, 0, "empty file");
        return NULL;
    }
    tree = make_block(b.root, b.nodes, b.strings_len);
    if (tree == NULL) {
        pst_diag_add(diag, file, 0, 0, "out of memory");
    }
    pnode_free(b.root);
    return tree;
}

bool pst_ymap_check_get(struct pst_diag *diag, const char *file, const struct pst_ynode *node,
                        const char *what, const struct pst_ykey *keys, size_t n_keys,
                        const struct pst_ynode **values)
{
    bool present[PST_YKEYS_MAX] = {false};

    for (size_t k = 0; k < n_keys && values != NULL; k++) {
        values[k] = NULL;
    }
    if (node->kind != PST_Y_MAP) {
        pst_ydiag(diag, file, node, "%s must be a mapping, not %s", what,
                  pst_ynode_kind_name(node->kind));
        return false;
    }
    /* One pass over the mapping's keys; the parser let no key repeat. */
    for (size_t i = 0; i < node->n; i++) {
        const struct pst_ynode *key = pst_ynode_item(node, 2 * i);
        const struct pst_ynode *value = pst_ynode_item(node, 2 * i + 1);
        const char *name = pst_ynode_text(key);
        size_t k;
        for (k = 0; k < n_keys; k++) {
            if (keys[k].name[0] == name[0] && strcmp(keys[k].name, name) == 0) {
                break;
            }
        }
        if (k == n_keys) {
            pst_ydiag(diag, file, key, "unknown key '%s' in %s", name, what);
            continue;
        }
        if (k < PST_YKEYS_MAX) {
            present[k] = true;
        }
        if (value->kind != keys[k].kind) {
            pst_ydiag(diag, file, value, "'%s' in %s must be %s, not %s", name, what,
                      pst_ynode_kind_name(keys[k].kind), pst_ynode_kind_name(value->kind));
        } else if (values != NULL) {
            values[k] = value;
        }
    }
    for (size_t k = 0; k < n_keys; k++) {
        bool found = k < PST_YKEYS_MAX ? present[k] : pst_ymap_get(node, keys[k].name) != NULL;
        if (keys[k].required && !found) {
            pst_ydiag(diag, file, node, "%s is missing required key '%s'", what, keys[k].name);
        }
    }
    return true;
}

bool pst_ymap_check(struct pst_diag *diag, const char *file, const struct pst_ynode *node,
                    const char *what, const struct pst_ykey *keys, size_t n_keys)
{
    return pst_ymap_check_get(diag, file, node, what, keys, n_keys, NULL);
}

struct pst_ynode *pst_yaml_load_file(const char *path, struct pst_diag *diag, char **bytes,
                                     size_t *len)
{
    struct pst_ynode *root;
    char *buf = NULL;
    size_t n = 0;
    int rc = pst_file_read(path, PST_YAML_MAX_BYTES, false, &buf, &n);

    if (rc == PST_ETOOBIG) {
        pst_diag_add(diag, path, 0, 0, "file is larger than %u bytes", PST_YAML_MAX_BYTES);
        return NULL;
    }
    if (rc != PST_OK) {
        pst_diag_add(diag, path, 0, 0, "cannot read: %s", pst_strerror(rc));
        return NULL;
    }
    root = pst_yaml_parse(path, buf, n, diag);
    if (bytes != NULL) {
        *bytes = buf;
        *len = n;
    } else {
        free(buf);
    }
    return root;
}
