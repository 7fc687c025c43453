/* SPDX-License-Identifier: Apache-2.0 */
/* A bounded list of findings with a count that counts them all, for list-valued fields. */
#ifndef PST_FINDINGS_H
#define PST_FINDINGS_H

#include "agent/error.h"
#include "probes/probe.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

struct pst_findings {
    json_t *list; /* owned; at most MAX items */
    long count;   /* every finding added */
    long max;
};

/* Starts an empty list keeping at most MAX items. Returns 0 or PST_ENOMEM. */
static inline int pst_findings_init(struct pst_findings *f, long max)
{
    f->list = json_array();
    f->count = 0;
    f->max = max;
    return f->list != NULL ? PST_OK : PST_ENOMEM;
}

/* Counts ITEM (stolen) and keeps it while there is room. Returns 0 or PST_ENOMEM. */
static inline int pst_findings_add(struct pst_findings *f, json_t *item)
{
    f->count++;
    if (item == NULL) {
        return PST_ENOMEM;
    }
    if ((long)json_array_size(f->list) >= f->max) {
        json_decref(item);
        return PST_OK;
    }
    return json_array_append_new(f->list, item) == 0 ? PST_OK : PST_ENOMEM;
}

/* Records FIELD (the list) and FIELD_count in OUT with SOURCE. Returns 0 or PST_ENOMEM. */
static inline int pst_findings_set(struct pst_facts *out, const char *field,
                                   const struct pst_findings *f, const char *source)
{
    char count[128];

    snprintf(count, sizeof(count), "%s_count", field);
    if (pst_facts_set(out, field, json_incref(f->list), source) != PST_OK ||
        pst_facts_set(out, count, json_integer(f->count), source) != PST_OK) {
        return PST_ENOMEM;
    }
    return PST_OK;
}

static inline void pst_findings_release(struct pst_findings *f)
{
    json_decref(f->list);
    f->list = NULL;
}

#endif
