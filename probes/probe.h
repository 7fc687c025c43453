/* SPDX-License-Identifier: Apache-2.0 */
/* The probe interface: typed argument and field tables, facts, the per-scan context. */
#ifndef PST_PROBE_H
#define PST_PROBE_H

#include "agent/error.h"
#include "probes/fs.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Most findings a list-valued field keeps as evidence; its count field counts them all. */
#define PST_FINDINGS_MAX 20

/* Value types of probe arguments and fields, as the policy loader validates them. */
enum pst_type {
    PST_TYPE_STRING,   /* JSON string */
    PST_TYPE_INT,      /* JSON integer */
    PST_TYPE_BOOL,     /* JSON true/false */
    PST_TYPE_MODE,     /* JSON string of four octal digits, "0640" */
    PST_TYPE_LIST,     /* JSON array of strings */
    PST_TYPE_FINDINGS, /* JSON array of objects, with a count field beside it */
    PST_TYPE_OBJECT,   /* JSON object */
};

/* Name of a type as docs and error messages spell it. */
const char *pst_type_name(enum pst_type type);

struct pst_probe_arg {
    const char *name;
    enum pst_type type;
    bool required;
    const char *default_value; /* text form, coerced like a policy scalar; NULL = null */
    const char *description;
    const char *const *choices; /* NULL-terminated allowed values of a string, or NULL */
    bool regex;                 /* a POSIX extended regex, compiled when a policy loads */
    bool path;                  /* an absolute path inside the scanned root */
};

struct pst_probe_field {
    const char *name;
    enum pst_type type;
    const char *description;
};

/* One fact of a probe call: the value its field was seen to have, and where. */
struct pst_fact {
    json_t *value;      /* NULL: the probe did not set the field */
    const char *source; /* a path or a program, valid UTF-8; NULL: none. Lives with the call */
    unsigned order;     /* when the field was first set, 0 for the first: the facts' order */
};

/* What one probe call saw. Calls live in the scan's context until it is released. */
struct pst_call {
    const struct pst_probe *probe;
    json_t *args;            /* every declared argument, defaults applied */
    json_t *errors;          /* [{source, message}]: why some facts could not be determined;
                              * NULL: none (most calls have none, and an array costs two blocks) */
    unsigned n_set;          /* facts set */
    struct pst_fact facts[]; /* probe->n_fields, indexed like probe->fields */
};

struct pst_call_cache;
struct pst_dpkg_status;
struct pst_fw_scan;

/* What a collect function fills: the facts of its call, and errors. */
struct pst_facts {
    struct pst_call *call;
    struct pst_call_cache *cache; /* where the facts' sources are kept */
    size_t next;                  /* the field after the last one set: probes set in order */
    const char *last_source;      /* the source last kept, reused when the next is the same */
};

/* Per-scan context handed to every probe. */
struct pst_probe_ctx {
    struct pst_fs *fs;
    struct pst_call_cache *calls; /* probe call key -> call, see pst_probe_call() */
    json_t *memo;                 /* shared parsed data (passwd, mountinfo...) keyed by name */
    json_t *started; /* programs started ahead: key -> {pid, out, err}, see pst_probe_prepare */
    struct pst_dpkg_status *dpkg; /* dpkg's status index, see pst_dpkg_status_index */
    struct pst_fw_scan *firewall; /* the firewall ruleset, read at the probe's first call */
};

struct pst_probe {
    const char *name;
    const char *summary;
    const struct pst_probe_arg *args;
    size_t n_args;
    const struct pst_probe_field *fields;
    size_t n_fields;
    /*
     * Fills OUT from the system. ARGS holds every declared argument (defaults applied).
     * What cannot be determined is left unset with a reason in its errors (pst_facts_error).
     * Returns 0, or PST_ENOMEM when the facts could not be recorded at all.
     */
    int (*collect)(struct pst_probe_ctx *ctx, const json_t *args, struct pst_facts *out);
    /*
     * Optional: starts slow work that collect will need for ARGS (defaults applied), such as
     * a reference program to run, so that it proceeds while the scan does the rest. collect
     * must work whether or not prepare ran. Returns 0, or PST_ENOMEM.
     */
    int (*prepare)(struct pst_probe_ctx *ctx, const json_t *args);
};

/* The registry. */
extern const struct pst_probe *const pst_probes[];
extern const size_t pst_probes_count;
const struct pst_probe *pst_probe_find(const char *name);
const struct pst_probe_arg *pst_probe_find_arg(const struct pst_probe *p, const char *name);
const struct pst_probe_field *pst_probe_find_field(const struct pst_probe *p, const char *name);

/*
 * Converts scalar TEXT to a JSON value of TYPE (PST_TYPE_LIST: the comma-separated items,
 * "" being the empty list). Returns NULL when TEXT is not of that type.
 */
json_t *pst_value_from_text(enum pst_type type, const char *text);

/*
 * Checks VALUE, already of ARG's type, against ARG's rules: a required string is not empty,
 * a path is absolute, a choice is one of the choices, a regex compiles. Returns true, or
 * false with the reason in WHY[N].
 */
bool pst_probe_check_arg(const struct pst_probe *probe, const struct pst_probe_arg *arg,
                         const json_t *value, char *why, size_t n);

/* Initialises CTX for a scan of FS (borrowed). Returns 0 or PST_ENOMEM. */
int pst_probe_ctx_init(struct pst_probe_ctx *ctx, struct pst_fs *fs);
void pst_probe_ctx_release(struct pst_probe_ctx *ctx);

/*
 * Fills defaults into ARGS (a JSON object of given arguments) and runs PROBE once per
 * distinct argument set in this scan; later calls return the cached result. *call is
 * borrowed from the context, valid until it is released. Returns 0, PST_EINVAL (missing
 * required argument), or PST_ENOMEM.
 */
int pst_probe_call(struct pst_probe_ctx *ctx, const struct pst_probe *probe, const json_t *args,
                   const struct pst_call **call);

/* The fact of FIELD (one of CALL's probe's fields) in CALL, or NULL when it was not set. */
const struct pst_fact *pst_call_fact(const struct pst_call *call,
                                     const struct pst_probe_field *field);
/* The fact of the field named NAME, or NULL when it was not set or there is no such field. */
const struct pst_fact *pst_call_fact_named(const struct pst_call *call, const char *name);
/* The value of the field named NAME (borrowed), or NULL when it was not set. */
const json_t *pst_call_value(const struct pst_call *call, const char *name);

/*
 * CALL as `posture probe` prints it: {"probe", "args", "facts": {FIELD: {"value", "source"}}
 * in the order the probe set them, "errors"}. A new reference, or NULL when out of memory.
 */
json_t *pst_call_json(const struct pst_call *call);

/*
 * Lets PROBE start, for ARGS, what a later pst_probe_call will need (its prepare function),
 * once per distinct argument set. Returns 0, PST_EINVAL (missing argument) or PST_ENOMEM.
 */
int pst_probe_prepare(struct pst_probe_ctx *ctx, const struct pst_probe *probe, const json_t *args);

struct pst_exec;
/*
 * A program a prepare function started, kept in CTX under KEY until collect takes it back;
 * a program never taken is killed and reaped when CTX is released. 0 or PST_ENOMEM.
 */
int pst_probe_started_put(struct pst_probe_ctx *ctx, const char *key, const struct pst_exec *proc);
bool pst_probe_started_take(struct pst_probe_ctx *ctx, const char *key, struct pst_exec *proc);

/*
 * Helpers for collect functions. VALUE is stolen; SOURCE (may be NULL) is copied, its bytes
 * made UTF-8 as pst_json_text makes them. A field set again keeps its place among the facts
 * and takes the new value and source. A FIELD the probe does not declare is a bug: debug
 * builds abort, others record it in the call's errors. 0 or PST_ENOMEM.
 */
int pst_facts_set(struct pst_facts *out, const char *field, json_t *value, const char *source);
int pst_facts_set_at(struct pst_facts *out, const char *field, json_t *value, const char *path,
                     long line);
/* The fact of FIELD set so far in OUT, or NULL. */
const struct pst_fact *pst_facts_get(const struct pst_facts *out, const char *field);
/* The call's list of errors, made when first needed (borrowed); NULL when out of memory. */
json_t *pst_facts_errors(struct pst_facts *out);
/* Records an error about SOURCE (a path, or NULL). */
void pst_facts_error(struct pst_facts *out, const char *source, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Name of UID / GID from the scanned root's /etc/passwd and /etc/group; NULL if none. */
const char *pst_probe_user_name(struct pst_probe_ctx *ctx, long uid);
const char *pst_probe_group_name(struct pst_probe_ctx *ctx, long gid);

/* Formats a mode's permission bits (with setuid, setgid, sticky) as "0755" into BUF[8]. */
void pst_mode_format(unsigned mode, char buf[8]);
/* Parses "0755" / "755" (octal, at most 07777). Returns 0 or PST_EINVAL. */
int pst_mode_parse(const char *text, unsigned *mode);

/*
 * Reads text file PATH for a probe. On success sets field "exists" true and returns 0 with
 * *buf (caller frees). A missing file sets "exists" false and returns PST_ENOENT; any other
 * failure is recorded in OUT->errors and returned. PST_ENOMEM is returned as is.
 */
int pst_probe_read_text(struct pst_probe_ctx *ctx, struct pst_facts *out, const char *path,
                        size_t limit, char **buf);

/* Whether the N bytes at S are UTF-8 as Jansson takes it for a string (RFC 3629). */
bool pst_utf8_valid(const char *s, size_t n);

/* A JSON string of S, a text read from the system; bytes that are not UTF-8 become '?'. */
json_t *pst_json_text(const char *s);

/* json_string(S), or JSON null when S is NULL (as json_pack's "s?" gives). */
json_t *pst_json_string_or_null(const char *s);

#endif
