/* SPDX-License-Identifier: Apache-2.0 */
/* The posture command line: scan, probe, explain, policy lint, version. */
#include "agent/error.h"
#include "agent/report.h"
#include "agent/scan.h"
#include "config/config.h"
#include "config/policy.h"
#include "probes/probe.h"
#include "probes/text.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Exit codes of DESIGN.md. */
enum {
    EXIT_OK = 0,
    EXIT_BELOW = 1,
    EXIT_USAGE = 2,
    EXIT_OUTPUT = 3,
};

#define MAX_REPEATED 64

static const char usage_text[] =
    "usage: posture COMMAND [OPTIONS]\n"
    "\n"
    "  scan    [--root DIR] [--config FILE] [--policy FILE|DIR]... [--format text|json]\n"
    "          [--output FILE] [--fail-under PERCENT] [--only ID]...\n"
    "  probe   NAME [--root DIR] [--arg KEY=VALUE]... [--format text|json]\n"
    "  probe   --list | NAME --describe\n"
    "  explain ID [--policy FILE|DIR]...\n"
    "  policy  lint FILE...\n"
    "  version\n"
    "\n"
    "exit codes: 0 success (score at least --fail-under), 1 score below --fail-under,\n"
    "            2 usage, config or policy error (nothing scanned), 3 report not written\n";

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "posture: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n%s", usage_text);
    return EXIT_USAGE;
}

/* Options shared by the commands that load policies. */
struct policy_opts {
    const char *paths[MAX_REPEATED];
    size_t n;
};

static bool add_repeated(const char **list, size_t *n, const char *value)
{
    if (*n == MAX_REPEATED) {
        return false;
    }
    list[(*n)++] = value;
    return true;
}

/*
 * The default policy directory: the build tree's config/policies when this binary runs
 * from the build tree, else the installed one.
 */
static const char *default_policy_dir(void)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

    if (n > 0) {
        self[n] = '\0';
        if (strncmp(self, POSTURE_BUILD_DIR "/", strlen(POSTURE_BUILD_DIR) + 1) == 0) {
            return POSTURE_SOURCE_POLICIES;
        }
    }
    return POSTURE_INSTALLED_POLICIES;
}

/* Loads config and policies; prints every error. Returns 0 or EXIT_USAGE. */
static int load_inputs(const char *config_path, struct policy_opts *po, struct pst_config **config,
                       struct pst_policy_set **set)
{
    struct pst_diag diag = {0};
    int rc;

    *set = NULL;
    rc = pst_config_load(config_path, config, &diag);
    if (rc == PST_OK) {
        if (po->n == 0) {
            po->paths[po->n++] = default_policy_dir();
        }
        rc = pst_policy_load(po->paths, po->n, *config, set, &diag);
    }
    pst_diag_print(&diag, stderr);
    pst_diag_release(&diag);
    if (rc != PST_OK) {
        fprintf(stderr, "posture: %s; nothing was scanned\n",
                rc == PST_EPARSE ? "configuration or policy errors" : pst_strerror(rc));
        pst_config_free(*config);
        *config = NULL;
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

static int write_all(int fd, const char *data, size_t len)
{
    for (size_t off = 0; off < len;) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return pst_from_errno(errno);
        }
        off += (size_t)n;
    }
    return PST_OK;
}

/*
 * Writes DATA to PATH. A regular file (or a new one) is replaced atomically: a temp file
 * beside it, fsync, rename, so that readers never see half a report. A character device or
 * a FIFO (/dev/stdout, /dev/null, a pipe) is written in place, never replaced; anything else
 * (a directory, a block device) is refused.
 */
static int write_report_file(const char *path, const char *data, size_t len)
{
    char tmp[PATH_MAX];
    struct stat st;
    int fd;
    int rc;

    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        if (!S_ISCHR(st.st_mode) && !S_ISFIFO(st.st_mode)) {
            return PST_ETYPE;
        }
        fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
            return pst_from_errno(errno);
        }
        rc = write_all(fd, data, len);
        if (close(fd) != 0 && rc == PST_OK) {
            rc = pst_from_errno(errno);
        }
        return rc;
    }
    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp)) {
        return PST_EINVAL;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (fd < 0) {
        return pst_from_errno(errno);
    }
    rc = write_all(fd, data, len);
    if (rc == PST_OK && fsync(fd) != 0) {
        rc = pst_from_errno(errno);
    }
    if (close(fd) != 0 && rc == PST_OK) {
        rc = pst_from_errno(errno);
    }
    if (rc == PST_OK && rename(tmp, path) != 0) {
        rc = pst_from_errno(errno);
    }
    if (rc != PST_OK) {
        unlink(tmp);
    }
    return rc;
}

/* Renders the report into memory, then prints it or writes it to OUTPUT. */
static int emit_report(const struct pst_scan *scan, bool json, const char *output)
{
    char *data = NULL;
    size_t len = 0;
    int rc = PST_OK;

    if (json) {
        json_t *report = pst_report_json(scan);
        data = report ? json_dumps(report, JSON_INDENT(2) | JSON_REAL_PRECISION(17)) : NULL;
        json_decref(report);
        if (data == NULL) {
            return PST_ENOMEM;
        }
        len = strlen(data);
        char *nl = realloc(data, len + 2);
        if (nl == NULL) {
            free(data);
            return PST_ENOMEM;
        }
        data = nl;
        data[len++] = '\n';
        data[len] = '\0';
    } else {
        FILE *mem = open_memstream(&data, &len);
        bool color = output == NULL && isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL;
        if (mem == NULL) {
            return PST_ENOMEM;
        }
        rc = pst_report_text(scan, mem, color);
        if (fclose(mem) != 0 && rc == PST_OK) {
            rc = PST_ENOMEM;
        }
    }
    if (rc == PST_OK) {
        if (output != NULL) {
            rc = write_report_file(output, data, len);
        } else if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0) {
            rc = PST_EIO;
        }
    }
    free(data);
    return rc;
}

static int cmd_scan(int argc, char **argv)
{
    static const struct option options[] = {
        {"root", required_argument, NULL, 'r'},
        {"config", required_argument, NULL, 'c'},
        {"policy", required_argument, NULL, 'p'},
        {"format", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'},
        {"fail-under", required_argument, NULL, 'u'},
        {"only", required_argument, NULL, 'O'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct policy_opts po = {0};
    const char *only[MAX_REPEATED];
    size_t n_only = 0;
    const char *root = NULL, *config_path = NULL, *output = NULL;
    bool json = false;
    double fail_under = -1;
    struct pst_config *config = NULL;
    struct pst_policy_set *set = NULL;
    struct pst_scan *scan = NULL;
    char *error = NULL;
    int opt, rc, status = EXIT_OK;

    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'r':
            root = optarg;
            break;
        case 'c':
            config_path = optarg;
            break;
        case 'p':
            if (!add_repeated(po.paths, &po.n, optarg)) {
                return usage_error("too many --policy options");
            }
            break;
        case 'f':
            if (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0) {
                return usage_error("--format must be text or json, not '%s'", optarg);
            }
            json = strcmp(optarg, "json") == 0;
            break;
        case 'o':
            output = optarg;
            break;
        case 'u': {
            char *end;
            errno = 0;
            fail_under = strtod(optarg, &end);
            if (errno != 0 || end == optarg || *end != '\0' ||
                !(fail_under >= 0 && fail_under <= 100)) {
                return usage_error("--fail-under takes a percentage from 0 to 100, not '%s'",
                                   optarg);
            }
            break;
        }
        case 'O':
            if (!add_repeated(only, &n_only, optarg)) {
                return usage_error("too many --only options");
            }
            break;
        case 'h':
            fputs(usage_text, stdout);
            return EXIT_OK;
        default:
            return usage_error("invalid option for scan");
        }
    }
    if (optind != argc) {
        return usage_error("unexpected argument '%s'", argv[optind]);
    }
    if (load_inputs(config_path, &po, &config, &set) != EXIT_OK) {
        return EXIT_USAGE;
    }
    rc = pst_scan_run(set, config, root, only, n_only, &scan, &error);
    if (rc != PST_OK) {
        fprintf(stderr, "posture: %s\n", error ? error : pst_strerror(rc));
        status = rc == PST_ENOMEM ? EXIT_OUTPUT : EXIT_USAGE;
        goto out;
    }
    rc = emit_report(scan, json, output);
    if (rc != PST_OK) {
        fprintf(stderr, "posture: cannot write the report%s%s: %s\n", output ? " to " : "",
                output ? output : "", pst_strerror(rc));
        status = EXIT_OUTPUT;
        goto out;
    }
    if (fail_under >= 0) {
        /* Compare the exact ratio: 99.996% rounds to 100.00 but is below --fail-under 100. */
        const struct pst_score *sc = &scan->score;
        double exact = sc->has_percent ? 100.0 * (double)sc->current / (double)sc->max : 0.0;
        if (!sc->has_percent && fail_under > 0) {
            fprintf(stderr,
                    "posture: no control is in the secure score, which cannot meet "
                    "--fail-under %.2f%%\n",
                    fail_under);
            status = EXIT_BELOW;
        } else if (exact < fail_under) {
            fprintf(stderr, "posture: secure score %.2f%% is below --fail-under %.2f%%\n",
                    sc->percent, fail_under);
            status = EXIT_BELOW;
        }
    }
out:
    free(error);
    pst_scan_free(scan);
    pst_policy_set_free(set);
    pst_config_free(config);
    return status;
}

static void print_probe_tables(const struct pst_probe *p)
{
    printf("%s: %s\n\narguments:\n", p->name, p->summary);
    if (p->n_args == 0) {
        printf("  (none)\n");
    }
    for (size_t i = 0; i < p->n_args; i++) {
        const struct pst_probe_arg *a = &p->args[i];
        printf("  %-14s %-8s %s%s%s%s\n", a->name, pst_type_name(a->type), a->description,
               a->required ? " (required)" : "", a->default_value ? "; default " : "",
               a->default_value ? a->default_value : "");
    }
    printf("\nfields:\n");
    for (size_t i = 0; i < p->n_fields; i++) {
        printf("  %-18s %-8s %s\n", p->fields[i].name, pst_type_name(p->fields[i].type),
               p->fields[i].description);
    }
}

/* `field value` lines, like sshd -T prints its configuration; never a control character. */
static void print_facts_text(const json_t *result)
{
    const char *field;
    const json_t *fact;
    size_t i;
    const json_t *e;

    json_object_foreach(json_object_get(result, "facts"), field, fact)
    {
        const json_t *v = json_object_get(fact, "value");
        char *text = NULL;
        if (json_is_string(v)) {
            text = strdup(json_string_value(v));
        } else if (json_is_array(v) && !json_is_object(json_array_get(v, 0))) {
            size_t k, len = 0;
            const json_t *item;
            FILE *mem = open_memstream(&text, &len);
            json_array_foreach(v, k, item)
            {
                if (mem != NULL) {
                    fprintf(mem, "%s%s", k ? " " : "",
                            json_string_value(item) ? json_string_value(item) : "?");
                }
            }
            if (mem != NULL) {
                fclose(mem);
            }
        } else {
            text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        }
        char *safe = pst_text_printable(text);
        printf("%s %s\n", field, safe ? safe : "?");
        free(safe);
        free(text);
    }
    json_array_foreach(json_object_get(result, "errors"), i, e)
    {
        char *safe = pst_text_printable(json_string_value(json_object_get(e, "message")));
        fprintf(stderr, "error: %s\n", safe ? safe : "?");
        free(safe);
    }
}

static int cmd_probe(int argc, char **argv)
{
    static const struct option options[] = {
        {"root", required_argument, NULL, 'r'},
        {"arg", required_argument, NULL, 'a'},
        {"format", required_argument, NULL, 'f'},
        {"list", no_argument, NULL, 'l'},
        {"describe", no_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *root = NULL;
    const char *args[MAX_REPEATED];
    size_t n_args = 0;
    bool json = false, describe = false;
    const struct pst_probe *probe;
    struct pst_fs *fs = NULL;
    struct pst_probe_ctx ctx = {0};
    json_t *given = NULL;
    const json_t *result;
    int opt, rc, status = EXIT_OK;

    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'r':
            root = optarg;
            break;
        case 'a':
            if (!add_repeated(args, &n_args, optarg)) {
                return usage_error("too many --arg options");
            }
            break;
        case 'f':
            if (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0) {
                return usage_error("--format must be text or json, not '%s'", optarg);
            }
            json = strcmp(optarg, "json") == 0;
            break;
        case 'l':
            for (size_t i = 0; i < pst_probes_count; i++) {
                printf("%-12s %s\n", pst_probes[i]->name, pst_probes[i]->summary);
            }
            return EXIT_OK;
        case 'd':
            describe = true;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return EXIT_OK;
        default:
            return usage_error("invalid option for probe");
        }
    }
    if (optind + 1 != argc) {
        return usage_error("probe takes one probe name (see posture probe --list)");
    }
    probe = pst_probe_find(argv[optind]);
    if (probe == NULL) {
        return usage_error("unknown probe '%s' (see posture probe --list)", argv[optind]);
    }
    if (describe) {
        print_probe_tables(probe);
        return EXIT_OK;
    }
    given = json_object();
    if (given == NULL) {
        return EXIT_OUTPUT;
    }
    for (size_t i = 0; i < n_args; i++) {
        char key[64];
        const char *eq = strchr(args[i], '=');
        const struct pst_probe_arg *a;
        json_t *value;
        if (eq == NULL || (size_t)(eq - args[i]) >= sizeof(key)) {
            status = usage_error("--arg takes KEY=VALUE, not '%s'", args[i]);
            goto out;
        }
        snprintf(key, sizeof(key), "%.*s", (int)(eq - args[i]), args[i]);
        a = pst_probe_find_arg(probe, key);
        if (a == NULL) {
            status = usage_error("probe takes no argument '%s'", key);
            goto out;
        }
        value = pst_value_from_text(a->type, eq + 1);
        if (value == NULL) {
            status = usage_error("--arg %s: not a valid %s", args[i], pst_type_name(a->type));
            goto out;
        }
        char why[512];
        if (!pst_probe_check_arg(probe, a, value, why, sizeof(why))) {
            json_decref(value);
            status = usage_error("--arg %s: %s", args[i], why);
            goto out;
        }
        json_object_set_new(given, key, value);
    }
    rc = pst_fs_new(root, &fs);
    if (rc != PST_OK) {
        fprintf(stderr, "posture: --root %s: %s\n", root, pst_strerror(rc));
        status = EXIT_USAGE;
        goto out;
    }
    rc = pst_probe_ctx_init(&ctx, fs);
    if (rc == PST_OK) {
        rc = pst_probe_call(&ctx, probe, given, &result);
    }
    if (rc == PST_EINVAL) {
        status = usage_error("probe '%s' is missing a required --arg", probe->name);
        goto out;
    }
    if (rc != PST_OK) {
        fprintf(stderr, "posture: %s\n", pst_strerror(rc));
        status = EXIT_OUTPUT;
        goto out;
    }
    if (json) {
        if (json_dumpf(result, stdout, JSON_INDENT(2)) != 0) {
            status = EXIT_OUTPUT;
        }
        putchar('\n');
    } else {
        print_facts_text(result);
    }
out:
    pst_probe_ctx_release(&ctx);
    pst_fs_free(fs);
    json_decref(given);
    return status;
}

static void print_check(const struct pst_check *check, int depth)
{
    static const char *const group_names[] = {"all of:", "any of:", "not:"};

    if (check->kind != PST_CHECK_LEAF) {
        printf("%*s%s\n", 2 + depth * 2, "", group_names[check->kind]);
        for (size_t i = 0; i < check->n; i++) {
            print_check(check->children[i], depth + 1);
        }
        return;
    }
    char *args = pst_eval_args_text(check->args);
    char *expected = pst_eval_expected(check);
    printf("%*s%s%s %s\n", 2 + depth * 2, "", check->fact, args ? args : "",
           expected ? expected : "");
    free(args);
    free(expected);
}

static int cmd_explain(int argc, char **argv)
{
    static const struct option options[] = {
        {"policy", required_argument, NULL, 'p'},
        {"config", required_argument, NULL, 'c'},
        {NULL, 0, NULL, 0},
    };
    struct policy_opts po = {0};
    const char *config_path = NULL;
    struct pst_config *config = NULL;
    struct pst_policy_set *set = NULL;
    const struct pst_recommendation *rec;
    const struct pst_control *control;
    int opt, status = EXIT_OK;

    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (opt == 'p') {
            if (!add_repeated(po.paths, &po.n, optarg)) {
                return usage_error("too many --policy options");
            }
        } else if (opt == 'c') {
            config_path = optarg;
        } else {
            return usage_error("invalid option for explain");
        }
    }
    if (optind + 1 != argc) {
        return usage_error("explain takes one control or recommendation id");
    }
    if (load_inputs(config_path, &po, &config, &set) != EXIT_OK) {
        return EXIT_USAGE;
    }
    rec = pst_policy_find_recommendation(set, argv[optind]);
    control = pst_policy_find_control(set, argv[optind]);
    if (rec != NULL) {
        const char *key;
        const json_t *value;
        printf("%s\n  %s\n\ncontrol:   %s (%s, max score %ld)\nseverity:  %s\npolicy:    %s v%ld\n",
               rec->id, rec->title, rec->control->title, rec->control->id, rec->control->max_score,
               pst_severity_name(rec->severity), rec->policy->id, rec->policy->version);
        json_object_foreach(rec->references, key, value)
        {
            printf("reference: %s %s\n", key, json_string_value(value));
        }
        printf("\nwhy it matters:\n  %s\n\nhow to fix:\n  %s\n", rec->rationale, rec->remediation);
        if (rec->applies != NULL) {
            printf("\napplies when:\n");
            print_check(rec->applies, 0);
        }
        printf("\ncheck:\n");
        print_check(rec->check, 0);
    } else if (control != NULL) {
        printf("%s\n  %s (max score %ld)\n\nrecommendations:\n", control->id, control->title,
               control->max_score);
        for (size_t i = 0; i < set->n_recommendations; i++) {
            if (set->recommendations[i]->control == control) {
                printf("  %-40s %s\n", set->recommendations[i]->id, set->recommendations[i]->title);
            }
        }
    } else {
        fprintf(stderr, "posture: no control or recommendation '%s'\n", argv[optind]);
        status = EXIT_USAGE;
    }
    pst_policy_set_free(set);
    pst_config_free(config);
    return status;
}

static int cmd_policy(int argc, char **argv)
{
    struct pst_diag diag = {0};
    struct pst_policy_set *set = NULL;
    int rc;

    if (argc < 3 || strcmp(argv[1], "lint") != 0) {
        return usage_error("usage: posture policy lint FILE...");
    }
    rc = pst_policy_load((const char *const *)argv + 2, (size_t)argc - 2, NULL, &set, &diag);
    pst_diag_print(&diag, stderr);
    pst_diag_release(&diag);
    if (rc != PST_OK) {
        fprintf(stderr, "posture: %s\n",
                rc == PST_EPARSE ? "policy errors found" : pst_strerror(rc));
        return EXIT_USAGE;
    }
    for (size_t i = 0; i < set->n_policies; i++) {
        size_t n_recs = 0;
        for (size_t r = 0; r < set->n_recommendations; r++) {
            n_recs += set->recommendations[r]->policy == set->policies[i];
        }
        printf("%s: ok (policy %s v%ld, %zu recommendations)\n", set->policies[i]->path,
               set->policies[i]->id, set->policies[i]->version, n_recs);
    }
    pst_policy_set_free(set);
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    /*
     * A fixed threshold: large, short-lived buffers (a cached policy tree, the report's text)
     * go back to the system when freed. glibc would otherwise raise its threshold to the
     * largest such block and keep the next ones in the heap, which adds to the peak RSS.
     */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    if (argc < 2) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    /* Each command parses its own options, with argv[0] = the command. */
    argc--;
    argv++;
    if (strcmp(cmd, "scan") == 0) {
        return cmd_scan(argc, argv);
    }
    if (strcmp(cmd, "probe") == 0) {
        return cmd_probe(argc, argv);
    }
    if (strcmp(cmd, "explain") == 0) {
        return cmd_explain(argc, argv);
    }
    if (strcmp(cmd, "policy") == 0) {
        return cmd_policy(argc, argv);
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("posture %s\n", POSTURE_VERSION);
        return EXIT_OK;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        fputs(usage_text, stdout);
        return EXIT_OK;
    }
    return usage_error("unknown command '%s'", cmd);
}
