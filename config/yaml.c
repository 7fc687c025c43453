/* SPDX-License-Identifier: Apache-2.0 */
/* A small YAML document tree built with libyaml, every node keeping its line and column. */
#include "config/yaml.h"

#include "agent/blocks.h"
#include "agent/error.h"
#include "agent/hashtab.h"
#include "probes/fs.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

/*
 * The parser lays the block out as libyaml's events come: nodes get their pre-order index
 * when they start, a container's child references are written when it ends, and scalars
 * are appended to the strings. The node part grows in place (the head in front of it) and
 * becomes the block; the references and the strings are appended to it at the end.
 */
struct level {
    size_t node;             /* the container's index */
    size_t first;            /* where its children start in the builder's kids */
    struct pst_hashtab keys; /* a mapping's keys -> line, once it has KEYS_SCANNED of them */
    bool hashed;             /* the keys are in the table */
};

/* Up to this many keys, a mapping's keys are compared one by one to find a duplicate. */
#define KEYS_SCANNED 16

struct builder {
    const char *file;
    struct pst_diag *diag;
    struct pst_ytree_head *block; /* the head, then n_nodes nodes */
    size_t n_nodes, cap_nodes;
    uint32_t *refs;
    size_t n_refs, cap_refs;
    char *strings;
    size_t strings_len, cap_strings;
    uint32_t *kids; /* the children of the open containers, the innermost's last */
    size_t n_kids, cap_kids;
    struct level stack[PST_YAML_MAX_DEPTH + 1];
    int depth;
    struct pst_blocks key_text; /* the tables' keys: the strings move as they grow */
    bool failed;
};

/* Makes room for MORE items of SIZE bytes in *ARRAY of *CAP; false when out of memory. */
static bool reserve(void **array, size_t *cap, size_t used, size_t more, size_t size, size_t base)
{
    size_t want = used + more, ncap = *cap;
    void *grown;

    if (want <= *cap) {
        return true;
    }
    while (ncap < want) {
        ncap = ncap ? 2 * ncap : want;
    }
    grown = realloc(*array, base + ncap * size);
    if (grown == NULL) {
        return false;
    }
    *array = grown;
    *cap = ncap;
    return true;
}

static struct pst_ynode *node_at(struct builder *b, size_t index)
{
    return (struct pst_ynode *)(void *)(b->block + 1) + index;
}

static const char *text_at(const struct builder *b, const struct pst_ynode *node)
{
    return b->strings + node->off; /* while building, a scalar's off is its place in strings */
}

/* Records the line of KEY, not in LEVEL's table yet, for duplicate checks beyond KEYS_SCANNED. */
static bool remember_key(struct builder *b, struct level *level, size_t key)
{
    const struct pst_ynode *node = node_at(b, key);
    size_t len = strlen(text_at(b, node));
    const char *text = pst_blocks_text(&b->key_text, text_at(b, node), len);
    struct pst_hashtab_entry *e;

    if (text == NULL ||
        pst_hashtab_add(&level->keys, pst_hashtab_hash(text, len), text, len, &e) != PST_OK) {
        return false;
    }
    e->value.count = (size_t)node->line;
    return true;
}

/* Adds node INDEX to the current container (or makes it the root). */
static bool attach(struct builder *b, size_t index)
{
    const struct pst_ynode *node = node_at(b, index);
    struct level *level;
    struct pst_ynode *parent;
    size_t used;

    if (b->depth == 0) {
        return true; /* the root: node 0 */
    }
    level = &b->stack[b->depth - 1];
    parent = node_at(b, level->node);
    used = b->n_kids - level->first;
    if (parent->kind == PST_Y_MAP && used % 2 == 0) {
        /* A key: must be a scalar, and must not repeat. */
        if (node->kind != PST_Y_SCALAR) {
            pst_diag_add(b->diag, b->file, node->line, node->column,
                         "a mapping key must be a scalar");
            return false;
        }
        const char *text = text_at(b, node);
        int first = 0;
        if (!level->hashed) {
            for (size_t k = level->first; k < b->n_kids; k += 2) {
                const struct pst_ynode *other = node_at(b, b->kids[k]);
                if (strcmp(text_at(b, other), text) == 0) {
                    first = other->line;
                    break;
                }
            }
        } else {
            size_t len = strlen(text);
            const struct pst_hashtab_entry *e =
                pst_hashtab_find(&level->keys, pst_hashtab_hash(text, len), text, len);
            first = e != NULL ? (int)e->value.count : 0;
        }
        if (first != 0) {
            pst_diag_add(b->diag, b->file, node->line, node->column,
                         "duplicate key '%s' (first at line %d)", text, first);
            return false;
        }
        if (!level->hashed && used / 2 + 1 == KEYS_SCANNED) {
            /* a large mapping: its keys go in a hash table from here on */
            level->hashed = true;
            for (size_t k = level->first; k < b->n_kids; k += 2) {
                if (!remember_key(b, level, b->kids[k])) {
                    pst_diag_add(b->diag, b->file, 0, 0, "out of memory");
                    return false;
                }
            }
        }
        if (level->hashed && !remember_key(b, level, index)) {
            pst_diag_add(b->diag, b->file, 0, 0, "out of memory");
            return false;
        }
    }
    if (!reserve((void **)&b->kids, &b->cap_kids, b->n_kids, 1, sizeof(*b->kids), 0)) {
        pst_diag_add(b->diag, b->file, 0, 0, "out of memory");
        return false;
    }
    b->kids[b->n_kids++] = (uint32_t)index;
    used++;
    parent->n_items = (uint32_t)used;
    parent->n = (uint32_t)(parent->kind == PST_Y_MAP ? used / 2 : used);
    return true;
}

/* Starts a node of KIND at EV; returns its index, or SIZE_MAX (reported). */
static size_t new_node(struct builder *b, enum pst_ynode_kind kind, const yaml_event_t *ev)
{
    if (b->n_nodes >= PST_YAML_MAX_NODES) {
        pst_diag_add(b->diag, b->file, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
                     "more than %d nodes", PST_YAML_MAX_NODES);
        return SIZE_MAX;
    }
    if (!reserve((void **)&b->block, &b->cap_nodes, b->n_nodes, 1, sizeof(struct pst_ynode),
                 sizeof(*b->block))) {
        pst_diag_add(b->diag, b->file, 0, 0, "out of memory");
        return SIZE_MAX;
    }
    *node_at(b, b->n_nodes) = (struct pst_ynode){
        .kind = (uint8_t)kind,
        .line = (int32_t)ev->start_mark.line + 1,
        .column = (int32_t)ev->start_mark.column + 1,
    };
    return b->n_nodes++;
}

/* Ends the innermost container: its children's references go in place. */
static bool end_container(struct builder *b)
{
    struct level *level = &b->stack[--b->depth];
    size_t count = b->n_kids - level->first;

    pst_hashtab_release(&level->keys);
    level->hashed = false;
    if (!reserve((void **)&b->refs, &b->cap_refs, b->n_refs, count, sizeof(*b->refs), 0)) {
        pst_diag_add(b->diag, b->file, 0, 0, "out of memory");
        return false;
    }
    node_at(b, level->node)->off = (uint32_t)b->n_refs; /* while building: its first reference */
    for (size_t k = 0; k < count; k++) {
        b->refs[b->n_refs++] = (uint32_t)(b->kids[level->first + k] - level->node);
    }
    b->n_kids = level->first;
    return true;
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

/* Appends the LEN bytes of TEXT, and a NUL, to the strings as scalar node INDEX's text. */
static bool add_text(struct builder *b, size_t index, const char *text, size_t len)
{
    if (!reserve((void **)&b->strings, &b->cap_strings, b->strings_len, len + 1, 1, 0)) {
        pst_diag_add(b->diag, b->file, 0, 0, "out of memory");
        return false;
    }
    memcpy(b->strings + b->strings_len, text, len);
    b->strings[b->strings_len + len] = '\0';
    node_at(b, index)->off = (uint32_t)b->strings_len; /* while building: its place in strings */
    b->strings_len += len + 1;
    return true;
}

static bool handle_event(struct builder *b, const yaml_event_t *ev, int *documents)
{
    size_t index;

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
    case YAML_SCALAR_EVENT: {
        const char *text = (const char *)ev->data.scalar.value;
        size_t len = ev->data.scalar.length;
        if (!check_event_extras(b, ev->data.scalar.anchor, ev->data.scalar.tag, ev)) {
            return false;
        }
        index = new_node(b, PST_Y_SCALAR, ev);
        if (index == SIZE_MAX) {
            return false;
        }
        if (memchr(text, '\0', len) != NULL) {
            pst_diag_add(b->diag, b->file, node_at(b, index)->line, node_at(b, index)->column,
                         "NUL character in a scalar");
            return false;
        }
        node_at(b, index)->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        return add_text(b, index, text, len) && attach(b, index);
    }
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
        index = new_node(b, seq ? PST_Y_SEQ : PST_Y_MAP, ev);
        if (index == SIZE_MAX || !attach(b, index)) {
            return false;
        }
        b->stack[b->depth++] = (struct level){.node = index, .first = b->n_kids};
        return true;
    }
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        return end_container(b);
    default:
        return true;
    }
}

/*
 * Turns what B built into the block: the head in front, the references and the strings
 * appended after the nodes, every off made relative to its node. Returns the root or NULL.
 */
static struct pst_ynode *finish(struct builder *b)
{
    struct pst_ytree_head h = {.n_nodes = (uint32_t)b->n_nodes,
                               .n_refs = (uint32_t)b->n_refs,
                               .strings_len = (uint32_t)b->strings_len};
    size_t refs = b->n_nodes * sizeof(struct pst_ynode),
           strings = refs + b->n_refs * sizeof(uint32_t);
    struct pst_ytree_head *block = realloc(b->block, pst_ytree_bytes(&h));
    struct pst_ynode *nodes;

    if (block == NULL) {
        return NULL;
    }
    b->block = block;
    *block = h;
    nodes = (struct pst_ynode *)(void *)(block + 1);
    if (b->n_refs > 0) {
        memcpy((char *)nodes + refs, b->refs, b->n_refs * sizeof(uint32_t));
    }
    memcpy((char *)nodes + strings, b->strings, b->strings_len);
    for (size_t i = 0; i < b->n_nodes; i++) {
        size_t pos = i * sizeof(struct pst_ynode);
        if (nodes[i].kind == PST_Y_SCALAR) {
            nodes[i].off = (uint32_t)(strings + nodes[i].off - pos);
        } else {
            nodes[i].off = (uint32_t)(refs + nodes[i].off * sizeof(uint32_t) - pos);
        }
    }
    return nodes;
}

struct pst_ynode *pst_yaml_parse(const char *file, const char *buf, size_t len,
                                 struct pst_diag *diag)
{
    struct pst_ynode *tree = NULL;
    struct builder b = {
        .file = file, .diag = diag, .key_text = {.block_bytes = 4096 - PST_BLOCKS_OVERHEAD}};
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
    /*
     * Room for what a file of LEN bytes holds, given at once: growing by doubling would copy
     * every part a few times, and a large allocation takes pages only as they are written.
     * The strings are at most the text plus a NUL a node; most nodes take 16 bytes or more.
     */
    if (!reserve((void **)&b.block, &b.cap_nodes, 0, len / 16 + 16, sizeof(struct pst_ynode),
                 sizeof(*b.block)) ||
        !reserve((void **)&b.refs, &b.cap_refs, 0, len / 16 + 16, sizeof(*b.refs), 0) ||
        !reserve((void **)&b.strings, &b.cap_strings, 0, len + 1, 1, 0)) {
        b.failed = true;
        pst_diag_add(diag, file, 0, 0, "out of memory");
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
    while (!done && !b.failed) {
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
        pst_hashtab_release(&b.stack[--b.depth].keys);
    }
    pst_blocks_release(&b.key_text);
    if (!b.failed && b.n_nodes == 0) {
        pst_diag_add(diag, file, 0, 0, "empty file");
    } else if (!b.failed) {
        tree = finish(&b);
        if (tree == NULL) {
            pst_diag_add(diag, file, 0, 0, "out of memory");
        }
    }
    if (tree == NULL) {
        free(b.block);
    }
    free(b.refs);
    free(b.strings);
    free(b.kids);
    return tree;
}

bool pst_ymap_check_get(struct pst_diag *diag, const char *file, const struct pst_ynode *node,
                        const char *what, const struct pst_ykey *keys, size_t n_keys,
                        const struct pst_ynode **values)
{
    bool present[PST_YKEYS_MAX] = {false};
    size_t next = 0;

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
        size_t k = n_keys;
        /* files list keys mostly in the table's order: look from after the last one found */
        for (size_t j = 0; j < n_keys; j++) {
            size_t c = (next + j) % n_keys;
            if (keys[c].name[0] == name[0] && strcmp(keys[c].name, name) == 0) {
                k = c;
                next = c + 1;
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
