/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Probe "sshd": the effective configuration of the SSH daemon, one field per keyword that
 * `sshd -T` prints. On a running system sshd itself is asked (`sshd -T`, an argument vector,
 * no shell) and posture's own parser runs too; a difference between them is reported. With
 * --root, or when sshd is missing or fails, the parser's answer is used. Also the host keys
 * the configuration names: their types, sizes and permissions.
 */
#include "probes/probe.h"

#include "agent/error.h"
#include "probes/exec.h"
#include "probes/findings.h"
#include "probes/sshd_config.h"
#include "probes/sshd_keywords.h"

#include <mbedtls/base64.h>
#include <mbedtls/platform_util.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SSHD_BINARY "/usr/sbin/sshd"
#define SSHD_TIMEOUT_MS 5000
#define SSHD_OUTPUT_MAX (1u << 20)
#define KEY_FILE_MAX (64u * 1024u)

static const struct pst_probe_arg sshd_args[] = {
    {.name = "config",
     .type = PST_TYPE_STRING,
     .default_value = "/etc/ssh/sshd_config",
     .description = "the sshd_config file sshd reads",
     .path = true},
    {.name = "connection",
     .type = PST_TYPE_STRING,
     .description = "a connection to evaluate Match blocks for, as sshd -C takes it: "
                    "user=NAME,host=NAME,addr=IP[,laddr=IP,lport=PORT,rdomain=NAME]; "
                    "null: the global section (and Match all), as sshd -T prints"},
    {.name = "rsa_min_bits",
     .type = PST_TYPE_INT,
     .default_value = "3072",
     .description = "RSA host keys smaller than this are weak"},
};

#define TYPE_OF_TEXT PST_TYPE_STRING
#define TYPE_OF_INT PST_TYPE_INT
#define TYPE_OF_COMMA PST_TYPE_LIST
#define TYPE_OF_WORDS PST_TYPE_LIST
#define TYPE_OF_LINES PST_TYPE_LIST
#define FIELD(name, shape, since, until, description) {#name, TYPE_OF_##shape, description},
static const struct pst_probe_field sshd_fields[] = {
    PST_SSHD_KEYWORDS(FIELD){
        "match_settings", PST_TYPE_FINDINGS,
        "what Match blocks set, whichever connection they match {match, source, keyword, value}"},
    {"match_settings_count", PST_TYPE_INT, "how many"},
    {"match_permitrootlogin", PST_TYPE_LIST, "PermitRootLogin values Match blocks set"},
    {"match_passwordauthentication", PST_TYPE_LIST,
     "PasswordAuthentication values Match blocks set"},
    {"match_permitemptypasswords", PST_TYPE_LIST, "PermitEmptyPasswords values Match blocks set"},
    {"match_hostbasedauthentication", PST_TYPE_LIST,
     "HostbasedAuthentication values Match blocks set"},
    {"match_ignorerhosts", PST_TYPE_LIST, "IgnoreRhosts values Match blocks set"},
    {"match_x11forwarding", PST_TYPE_LIST, "X11Forwarding values Match blocks set"},
    {"match_allowtcpforwarding", PST_TYPE_LIST, "AllowTcpForwarding values Match blocks set"},
    {"match_disableforwarding", PST_TYPE_LIST, "DisableForwarding values Match blocks set"},
    {"match_permittunnel", PST_TYPE_LIST, "PermitTunnel values Match blocks set"},
    {"match_gatewayports", PST_TYPE_LIST, "GatewayPorts values Match blocks set"},
    {"maxstartups_begin", PST_TYPE_INT,
     "MaxStartups: unauthenticated connections before sshd starts refusing some"},
    {"maxstartups_rate", PST_TYPE_INT, "MaxStartups: percent refused from there on"},
    {"maxstartups_full", PST_TYPE_INT,
     "MaxStartups: unauthenticated connections beyond which all are refused"},
    {"version", PST_TYPE_STRING,
     "OpenSSH version whose rules resolved the configuration (the sshd binary's release, as "
     "sshd -V names it, or the package's)"},
    {"resolved_by", PST_TYPE_STRING, "\"sshd -T\" (the daemon itself) or \"parser\" (posture's)"},
    {"differences", PST_TYPE_FINDINGS,
     "keywords where sshd -T and posture's parser disagree {keyword, sshd, parser, source}"},
    {"differences_count", PST_TYPE_INT, "how many"},
    {"notes", PST_TYPE_FINDINGS,
     "deprecated or unsupported keywords, includes that match nothing... {source, message}"},
    {"notes_count", PST_TYPE_INT, "how many"},
    {"config_files", PST_TYPE_FINDINGS,
     "every configuration file sshd reads {path, mode, owner, group}"},
    {"config_files_bad_permissions", PST_TYPE_FINDINGS,
     "configuration files not owned by root or with a mode beyond 0600 {path, mode, owner, "
     "group}"},
    {"config_files_bad_permissions_count", PST_TYPE_INT, "how many"},
    {"host_keys", PST_TYPE_FINDINGS,
     "host keys of the HostKey lines {path, type, bits, mode, owner, group, public_mode, "
     "public_owner}"},
    {"host_keys_weak", PST_TYPE_FINDINGS,
     "DSA keys, RSA keys under rsa_min_bits, keys whose size cannot be read {path, type, bits, "
     "reason}"},
    {"host_keys_weak_count", PST_TYPE_INT, "how many"},
    {"host_keys_private_bad_permissions", PST_TYPE_FINDINGS,
     "private host keys not owned by root, or with a mode beyond 0600 (0640 for group "
     "ssh_keys) {path, mode, owner, group}"},
    {"host_keys_private_bad_permissions_count", PST_TYPE_INT, "how many"},
    {"host_keys_public_bad_permissions", PST_TYPE_FINDINGS,
     "public host keys not owned by root, or with a mode beyond 0644 {path, mode, owner}"},
    {"host_keys_public_bad_permissions_count", PST_TYPE_INT, "how many"},
};
#undef FIELD

/* ---- values ----------------------------------------------------------------------------- */

/* The JSON value of the settings of one keyword, as its shape says. */
static json_t *keyword_value(const struct pst_sshd_keyword *kw, const struct pst_sshd_setting *s,
                             size_t count)
{
    if (kw->shape == PST_SSHD_TEXT || kw->shape == PST_SSHD_INT) {
        if (count == 0) {
            return json_null();
        }
        if (kw->shape == PST_SSHD_INT) {
            char *end;
            long long v = strtoll(s->value, &end, 10);
            return *end == '\0' && end != s->value ? json_integer(v) : pst_json_text(s->value);
        }
        return pst_json_text(s->value);
    }
    json_t *list = json_array();
    for (size_t i = 0; list != NULL && i < count; i++) {
        if (kw->shape == PST_SSHD_LINES) {
            if (json_array_append_new(list, pst_json_text(s[i].value)) != 0) {
                json_decref(list);
                return NULL;
            }
            continue;
        }
        char *copy = strdup(s[i].value), *save = NULL;
        if (copy == NULL) {
            json_decref(list);
            return NULL;
        }
        const char *sep = kw->shape == PST_SSHD_COMMA ? "," : " ";
        for (char *tok = strtok_r(copy, sep, &save); tok != NULL;
             tok = strtok_r(NULL, sep, &save)) {
            if (json_array_append_new(list, pst_json_text(tok)) != 0) {
                json_decref(list);
                list = NULL;
                break;
            }
        }
        free(copy);
    }
    return list;
}

/* Whether the COUNT values at A and the BCOUNT values at B are the same, in order. */
static bool same_values(const struct pst_sshd_setting *a, size_t count,
                        const struct pst_sshd_setting *b, size_t bcount)
{
    if (count != bcount) {
        return false;
    }
    for (size_t i = 0; i < count; i++) {
        if (strcmp(a[i].value, b[i].value) != 0) {
            return false;
        }
    }
    return true;
}

/* All values of keyword NAME joined by newlines, to show how two resolutions differ. */
static char *joined(const struct pst_sshd_config *c, const char *name)
{
    size_t count, len = 1, at = 0;
    const struct pst_sshd_setting *s = pst_sshd_config_find(c, name, &count);
    for (size_t i = 0; i < count; i++) {
        len += strlen(s[i].value) + 1;
    }
    char *text = calloc(1, len);
    for (size_t i = 0; text != NULL && i < count; i++) {
        at += (size_t)snprintf(text + at, len - at, "%s%s", i > 0 ? "\n" : "", s[i].value);
    }
    return text;
}

/* ---- host keys ---------------------------------------------------------------------------- */

struct wire {
    const unsigned char *p;
    size_t left;
};

/* One SSH wire-format string (uint32 length and bytes). */
static bool wire_string(struct wire *w, const unsigned char **s, size_t *len)
{
    if (w->left < 4) {
        return false;
    }
    uint32_t n =
        (uint32_t)w->p[0] << 24 | (uint32_t)w->p[1] << 16 | (uint32_t)w->p[2] << 8 | w->p[3];
    if (n > w->left - 4) {
        return false;
    }
    *s = w->p + 4;
    *len = n;
    w->p += 4 + n;
    w->left -= 4 + n;
    return true;
}

static long mpint_bits(const unsigned char *s, size_t len)
{
    while (len > 0 && *s == 0) {
        s++;
        len--;
    }
    if (len == 0) {
        return 0;
    }
    long bits = (long)len * 8;
    for (unsigned char top = *s; (top & 0x80) == 0; top <<= 1) {
        bits--;
    }
    return bits;
}

/* The type and size of public key BLOB (SSH wire format). */
static bool key_blob_size(const unsigned char *blob, size_t len, char *type, size_t tn, long *bits)
{
    struct wire w = {blob, len};
    const unsigned char *name, *a, *b;
    size_t nl, al, bl;
    if (!wire_string(&w, &name, &nl) || nl >= tn) {
        return false;
    }
    memcpy(type, name, nl);
    type[nl] = '\0';
    if (strcmp(type, "ssh-rsa") == 0) {
        if (!wire_string(&w, &a, &al) || !wire_string(&w, &b, &bl)) { /* e, then n */
            return false;
        }
        *bits = mpint_bits(b, bl);
        return true;
    }
    if (strcmp(type, "ssh-dss") == 0) {
        if (!wire_string(&w, &a, &al)) { /* p */
            return false;
        }
        *bits = mpint_bits(a, al);
        return true;
    }
    static const struct {
        const char *type;
        long bits;
    } fixed[] = {{"ssh-ed25519", 256},
                 {"ecdsa-sha2-nistp256", 256},
                 {"ecdsa-sha2-nistp384", 384},
                 {"ecdsa-sha2-nistp521", 521},
                 {"sk-ssh-ed25519@openssh.com", 256},
                 {"sk-ecdsa-sha2-nistp256@openssh.com", 256}};
    for (size_t i = 0; i < PST_COUNT(fixed); i++) {
        if (strcmp(type, fixed[i].type) == 0) {
            *bits = fixed[i].bits;
            return true;
        }
    }
    return false;
}

/* Decodes base64 TEXT (whitespace ignored) into *out (caller frees). */
static bool decode64(const char *text, size_t len, unsigned char **out, size_t *outlen)
{
    char *clean = malloc(len + 1);
    size_t n = 0;
    if (clean == NULL) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (text[i] != '\n' && text[i] != '\r' && text[i] != ' ' && text[i] != '\t') {
            clean[n++] = text[i];
        }
    }
    size_t need = 0;
    mbedtls_base64_decode(NULL, 0, &need, (const unsigned char *)clean, n);
    *out = malloc(need + 1);
    bool ok = *out != NULL &&
              mbedtls_base64_decode(*out, need, outlen, (const unsigned char *)clean, n) == 0;
    free(clean);
    if (!ok) {
        free(*out);
        *out = NULL;
    }
    return ok;
}

/* Type and size from an OpenSSH public key line ("ssh-rsa AAAA... comment"). */
static bool public_line_size(const char *text, char *type, size_t tn, long *bits)
{
    const char *b64 = strchr(text, ' ');
    if (b64 == NULL) {
        return false;
    }
    b64++;
    size_t len = strcspn(b64, " \t\r\n");
    unsigned char *blob = NULL;
    size_t bloblen = 0;
    bool ok = decode64(b64, len, &blob, &bloblen) && key_blob_size(blob, bloblen, type, tn, bits);
    free(blob);
    return ok;
}

/* Type and size from the public part of an "OPENSSH PRIVATE KEY" file (never the secret). */
static bool private_file_size(char *text, char *type, size_t tn, long *bits)
{
    static const char begin[] = "-----BEGIN OPENSSH PRIVATE KEY-----";
    static const char end[] = "-----END OPENSSH PRIVATE KEY-----";
    char *b = strstr(text, begin);
    char *e = b != NULL ? strstr(b, end) : NULL;
    unsigned char *raw = NULL;
    size_t rawlen = 0;
    bool ok = false;
    if (e == NULL ||
        !decode64(b + sizeof begin - 1, (size_t)(e - b) - (sizeof begin - 1), &raw, &rawlen)) {
        return false;
    }
    static const char magic[] = "openssh-key-v1";
    if (rawlen > sizeof magic && memcmp(raw, magic, sizeof magic) == 0) {
        struct wire w = {raw + sizeof magic, rawlen - sizeof magic};
        const unsigned char *s;
        size_t sl;
        /* cipher, kdf, kdf options, number of keys, then the first public key */
        if (wire_string(&w, &s, &sl) && wire_string(&w, &s, &sl) && wire_string(&w, &s, &sl) &&
            w.left >= 4) {
            w.p += 4;
            w.left -= 4;
            ok = wire_string(&w, &s, &sl) && key_blob_size(s, sl, type, tn, bits);
        }
    }
    mbedtls_platform_zeroize(raw, rawlen);
    free(raw);
    return ok;
}

static json_t *owner_json(struct pst_probe_ctx *ctx, long id, bool group)
{
    const char *name = group ? pst_probe_group_name(ctx, id) : pst_probe_user_name(ctx, id);
    if (name != NULL) {
        return pst_json_text(name);
    }
    char buf[32];
    snprintf(buf, sizeof buf, "%ld", id);
    return json_string(buf);
}

struct key_lists {
    json_t *keys, *weak, *bad_private, *bad_public;
};

static int host_key(struct pst_probe_ctx *ctx, struct pst_facts *out, const char *path,
                    long rsa_min, struct key_lists *l)
{
    struct stat st, pst;
    char pub[PATH_MAX], type[64] = "unknown", mode[8], pmode[8];
    long bits = -1;
    char *text = NULL;
    size_t len;
    int rc = pst_fs_stat(ctx->fs, path, true, &st);
    if (rc == PST_ENOENT) {
        return 0; /* sshd skips a HostKey file that does not exist */
    }
    if (rc != 0) {
        pst_facts_error(out, path, "cannot inspect host key %s: %s", path, pst_strerror(rc));
        return rc == PST_ENOMEM ? rc : 0;
    }
    snprintf(pub, sizeof pub, "%s.pub", path);
    bool have_pub = pst_fs_stat(ctx->fs, pub, true, &pst) == 0;
    bool sized = false;
    if (have_pub && pst_fs_read(ctx->fs, pub, KEY_FILE_MAX, true, &text, &len) == 0) {
        sized = public_line_size(text, type, sizeof type, &bits);
        free(text);
        text = NULL;
    }
    if (!sized && pst_fs_read(ctx->fs, path, KEY_FILE_MAX, true, &text, &len) == 0) {
        sized = private_file_size(text, type, sizeof type, &bits);
        mbedtls_platform_zeroize(text, len);
        free(text);
    }
    pst_mode_format(st.st_mode & 07777, mode);
    pst_mode_format(have_pub ? pst.st_mode & 07777 : 0, pmode);
    json_t *key = json_pack("{s:o, s:s, s:o, s:s, s:o, s:o, s:o, s:o}", "path", pst_json_text(path),
                            "type", type, "bits", sized ? json_integer(bits) : json_null(), "mode",
                            mode, "owner", owner_json(ctx, (long)st.st_uid, false), "group",
                            owner_json(ctx, (long)st.st_gid, true), "public_mode",
                            have_pub ? json_string(pmode) : json_null(), "public_owner",
                            have_pub ? owner_json(ctx, (long)pst.st_uid, false) : json_null());
    if (key == NULL || json_array_append_new(l->keys, key) != 0) {
        return PST_ENOMEM;
    }
    const char *reason =
        !sized                         ? "its type and size cannot be read"
        : strcmp(type, "ssh-dss") == 0 ? "DSA keys are limited to 1024 bits and SHA-1"
        : strcmp(type, "ssh-rsa") == 0 && bits < rsa_min ? "RSA key below the minimum size"
                                                         : NULL;
    if (reason != NULL &&
        json_array_append_new(l->weak,
                              json_pack("{s:o, s:s, s:o, s:s}", "path", pst_json_text(path), "type",
                                        type, "bits", sized ? json_integer(bits) : json_null(),
                                        "reason", reason)) != 0) {
        return PST_ENOMEM;
    }
    /* root-only, or 0640 with the group RHEL-like systems give ssh-keysign (ssh_keys) */
    const char *group = pst_probe_group_name(ctx, (long)st.st_gid);
    bool keys_group = group != NULL && strcmp(group, "ssh_keys") == 0;
    unsigned allowed = keys_group ? 0640 : 0600;
    if ((st.st_uid != 0 || (st.st_mode & 07777 & ~allowed) != 0) &&
        json_array_append_new(l->bad_private,
                              json_pack("{s:o, s:s, s:o, s:o}", "path", pst_json_text(path), "mode",
                                        mode, "owner", owner_json(ctx, (long)st.st_uid, false),
                                        "group", owner_json(ctx, (long)st.st_gid, true))) != 0) {
        return PST_ENOMEM;
    }
    if (have_pub && (pst.st_uid != 0 || (pst.st_mode & 07777 & ~0644u) != 0) &&
        json_array_append_new(
            l->bad_public, json_pack("{s:o, s:s, s:o}", "path", pst_json_text(pub), "mode", pmode,
                                     "owner", owner_json(ctx, (long)pst.st_uid, false))) != 0) {
        return PST_ENOMEM;
    }
    return 0;
}

/* A findings field with its count beside it (probes/findings.h). LIST is stolen. */
static int set_findings(struct pst_facts *out, const char *field, json_t *list)
{
    struct pst_findings f;
    size_t i;
    json_t *item;
    int rc = list != NULL ? pst_findings_init(&f, PST_FINDINGS_MAX) : PST_ENOMEM;
    if (rc == PST_OK) {
        json_array_foreach(list, i, item)
        {
            if (rc == PST_OK) {
                rc = pst_findings_add(&f, json_incref(item));
            }
        }
        rc = rc == PST_OK ? pst_findings_set(out, field, &f, NULL) : rc;
        pst_findings_release(&f);
    }
    json_decref(list);
    return rc;
}

static int config_files(struct pst_probe_ctx *ctx, struct pst_facts *out, const json_t *files)
{
    json_t *all = json_array(), *bad = json_array();
    size_t i;
    const json_t *f;
    if (all == NULL || bad == NULL) {
        json_decref(all);
        json_decref(bad);
        return PST_ENOMEM;
    }
    json_array_foreach(files, i, f)
    {
        struct stat st;
        char mode[8];
        if (pst_fs_stat(ctx->fs, json_string_value(f), true, &st) != 0) {
            continue;
        }
        pst_mode_format(st.st_mode & 07777, mode);
        json_t *item =
            json_pack("{s:o, s:s, s:o, s:o}", "path", pst_json_text(json_string_value(f)), "mode",
                      mode, "owner", owner_json(ctx, (long)st.st_uid, false), "group",
                      owner_json(ctx, (long)st.st_gid, true));
        bool wrong =
            S_ISREG(st.st_mode) && (st.st_uid != 0 || st.st_gid != 0 || (st.st_mode & 0177) != 0);
        if (item == NULL || (wrong && json_array_append(bad, item) != 0) ||
            json_array_append_new(all, item) != 0) {
            json_decref(all);
            json_decref(bad);
            return PST_ENOMEM;
        }
    }
    int rc = pst_facts_set(out, "config_files", all, NULL);
    return rc != 0 ? (json_decref(bad), rc)
                   : set_findings(out, "config_files_bad_permissions", bad);
}

/* match_settings, and for some keywords the distinct values Match blocks give them. */
static int match_fields(struct pst_facts *out, const json_t *settings)
{
    size_t i;
    const json_t *item;
    int rc = PST_OK;
    for (size_t f = 0; f < PST_COUNT(sshd_fields) && rc == PST_OK; f++) {
        const char *name = sshd_fields[f].name;
        if (strncmp(name, "match_", 6) != 0 || sshd_fields[f].type != PST_TYPE_LIST) {
            continue;
        }
        json_t *values = json_array();
        const char *source = NULL;
        json_array_foreach(settings, i, item)
        {
            const json_t *v = json_object_get(item, "value");
            bool seen = false;
            size_t k;
            const json_t *have;
            if (strcmp(json_string_value(json_object_get(item, "keyword")), name + 6) != 0) {
                continue;
            }
            json_array_foreach(values, k, have)
            {
                seen = seen || json_equal(have, v);
            }
            if (!seen && values != NULL && json_array_append(values, (json_t *)v) != 0) {
                json_decref(values);
                values = NULL;
            }
            source = source != NULL ? source : json_string_value(json_object_get(item, "source"));
        }
        rc = pst_facts_set(out, name, values, source);
    }
    json_t *all = json_deep_copy(settings);
    return rc != PST_OK ? rc : set_findings(out, "match_settings", all != NULL ? all : NULL);
}

/* ---- the daemon itself -------------------------------------------------------------------- */

/* "1:9.2p1-2+deb12u10" (dpkg) or "OpenSSH_9.2, OpenSSL..." (sshd -V) -> "9.2". */
static void short_version(const char *v, char *out, size_t n)
{
    const char *p = strchr(v, '_') != NULL   ? strchr(v, '_') + 1
                    : strchr(v, ':') != NULL ? strchr(v, ':') + 1
                                             : v;
    size_t len = strspn(p, "0123456789.");
    snprintf(out, n, "%.*s", (int)len, p);
}

static void package_version(struct pst_probe_ctx *ctx, char *out, size_t n)
{
    const struct pst_call *result = NULL;
    json_t *args = json_pack("{s:s}", "name", "openssh-server");
    out[0] = '\0';
    if (args != NULL && pst_probe_call(ctx, pst_probe_find("package"), args, &result) == 0) {
        const json_t *v = pst_call_value(result, "version");
        if (json_is_string(v)) {
            short_version(json_string_value(v), out, n);
        }
    }
    json_decref(args);
}

/* The key under which prepare leaves sshd -T for collect. */
static void started_key(const char *config, const char *spec, char *t, size_t tn)
{
    snprintf(t, tn, "sshd -T -f %s -C %s", config, spec != NULL ? spec : "");
}

static bool ask_live(struct pst_probe_ctx *ctx)
{
    struct stat st;
    return pst_fs_is_live(ctx->fs) && pst_fs_stat(ctx->fs, SSHD_BINARY, true, &st) == 0;
}

/*
 * Learns the daemon's release once a scan: from the binary's own strings, or, when they do
 * not say, from sshd -V, started to run alongside sshd -T.
 */
static int start_version(struct pst_probe_ctx *ctx)
{
    const char *vargv[] = {SSHD_BINARY, "-V", NULL};
    char version[PST_SSHD_VERSION_MAX], why[256];
    struct pst_exec proc;

    if (json_object_get(ctx->memo, "sshd version asked") != NULL) {
        return PST_OK;
    }
    if (json_object_set_new(ctx->memo, "sshd version asked", json_true()) != 0) {
        return PST_ENOMEM;
    }
    if (pst_sshd_binary_version(ctx->fs, SSHD_BINARY, version) == PST_OK) {
        return json_object_set_new(ctx->memo, "sshd version", json_string(version)) == 0
                   ? PST_OK
                   : PST_ENOMEM;
    }
    if (pst_exec_start(vargv, &proc, why, sizeof why) == 0) {
        return pst_probe_started_put(ctx, "sshd -V", &proc);
    }
    return PST_OK;
}

/* Starts sshd -T unless already started, and learns the daemon's release. */
static int start_sshd(struct pst_probe_ctx *ctx, const char *config, const char *spec)
{
    const char *argv[] = {SSHD_BINARY, "-T", "-f", config, spec != NULL ? "-C" : NULL, spec, NULL};
    char tkey[PATH_MAX + 600], why[256];
    struct pst_exec proc;
    int rc = PST_OK;

    started_key(config, spec, tkey, sizeof tkey);
    if (json_object_get(ctx->started, tkey) == NULL &&
        pst_exec_start(argv, &proc, why, sizeof why) == 0) {
        rc = pst_probe_started_put(ctx, tkey, &proc);
    }
    return rc == PST_OK ? start_version(ctx) : rc;
}

static int sshd_prepare(struct pst_probe_ctx *ctx, const json_t *args)
{
    const char *spec = json_string_value(json_object_get(args, "connection"));
    struct pst_sshd_conn conn;
    char why[256];
    if (!ask_live(ctx)) {
        return PST_OK;
    }
    /* a spec collect will refuse is not worth a program */
    if (spec != NULL) {
        if (pst_sshd_conn_parse(spec, &conn, why, sizeof why) != PST_OK) {
            return PST_OK;
        }
        pst_sshd_conn_release(&conn);
    }
    return start_sshd(ctx, json_string_value(json_object_get(args, "config")), spec);
}

/* Asks sshd (or collects what prepare started). Returns its configuration, or NULL. */
static struct pst_sshd_config *ask_sshd(struct pst_probe_ctx *ctx, const char *config,
                                        const char *spec, char *version, size_t vn, char *why,
                                        size_t n)
{
    char *sout = NULL, *serr = NULL, vwhy[256], tkey[PATH_MAX + 600];
    int status;
    struct pst_sshd_config *c = NULL;
    struct pst_exec t, v;

    if (start_sshd(ctx, config, spec) != PST_OK) {
        snprintf(why, n, "out of memory");
        return NULL;
    }
    started_key(config, spec, tkey, sizeof tkey);
    if (pst_probe_started_take(ctx, "sshd -V", &v)) {
        if (pst_exec_finish(&v, "sshd -V", SSHD_TIMEOUT_MS, 4096, &sout, &serr, &status, vwhy,
                            sizeof vwhy) == 0 &&
            strncmp(serr, "OpenSSH_", 8) == 0) {
            short_version(serr, version, vn);
            /* the release sshd -V names, for the other calls of this scan */
            json_object_set_new(ctx->memo, "sshd version", json_string(version));
        }
        free(sout);
        free(serr);
        sout = serr = NULL;
    } else if (json_is_string(json_object_get(ctx->memo, "sshd version"))) {
        snprintf(version, vn, "%s", json_string_value(json_object_get(ctx->memo, "sshd version")));
    }
    if (!pst_probe_started_take(ctx, tkey, &t)) {
        snprintf(why, n, "cannot run %s", SSHD_BINARY);
        return NULL;
    }
    if (pst_exec_finish(&t, "sshd -T", SSHD_TIMEOUT_MS, SSHD_OUTPUT_MAX, &sout, &serr, &status, why,
                        n) != 0) {
        goto out;
    }
    if (status != 0) {
        size_t len = strlen(serr);
        while (len > 0 && serr[len - 1] == '\n') {
            serr[--len] = '\0';
        }
        const char *last = strrchr(serr, '\n') != NULL ? strrchr(serr, '\n') + 1 : serr;
        snprintf(why, n, "sshd -T exited with status %d: %.300s", status, last);
        goto out;
    }
    if (pst_sshd_config_from_dump(sout, &c) != 0) {
        snprintf(why, n, "sshd -T printed something posture cannot read");
    }
out:
    free(sout);
    free(serr);
    return c;
}

static int note_finding(json_t *notes, const char *source, const char *message)
{
    json_t *n = json_pack("{s:s, s:o}", "source", source, "message", pst_json_text(message));
    return n != NULL && json_array_append_new(notes, n) == 0 ? 0 : PST_ENOMEM;
}

/* ---- collect -------------------------------------------------------------------------------- */

static int sshd_collect(struct pst_probe_ctx *ctx, const json_t *args, struct pst_facts *out)
{
    const char *config = json_string_value(json_object_get(args, "config"));
    const char *spec = json_string_value(json_object_get(args, "connection"));
    long rsa_min = (long)json_integer_value(json_object_get(args, "rsa_min_bits"));
    struct pst_sshd_conn conn;
    struct pst_sshd_config *parsed = NULL, *live = NULL;
    char version[32], why[1024], live_why[1024] = "";
    struct key_lists keys = {json_array(), json_array(), json_array(), json_array()};
    json_t *differences = json_array();
    int rc = PST_ENOMEM;

    if (keys.keys == NULL || keys.weak == NULL || keys.bad_private == NULL ||
        keys.bad_public == NULL || differences == NULL) {
        goto out;
    }
    if (spec != NULL && pst_sshd_conn_parse(spec, &conn, why, sizeof why) != 0) {
        pst_facts_error(out, NULL, "connection: %s", why);
        rc = 0;
        goto out;
    }
    package_version(ctx, version, sizeof version);
    if (ask_live(ctx)) {
        live = ask_sshd(ctx, config, spec, version, sizeof version, live_why, sizeof live_why);
    }
    rc = pst_sshd_config_resolve(ctx->fs, config, version[0] != '\0' ? version : NULL,
                                 spec != NULL ? &conn : NULL, &parsed, why, sizeof why);
    if (spec != NULL) {
        pst_sshd_conn_release(&conn);
    }
    if (rc == PST_ENOMEM) {
        goto out;
    }
    if (rc != 0 && live == NULL) {
        if (rc == PST_EPARSE) {
            pst_facts_error(out, config, "sshd would refuse this configuration: %s", why);
        } else {
            pst_facts_error(out, config, "%s", why);
        }
        if (live_why[0] != '\0') {
            pst_facts_error(out, SSHD_BINARY, "%s", live_why);
        }
        rc = 0;
        goto out;
    }
    const struct pst_sshd_config *used = live != NULL ? live : parsed;
    json_t *notes = parsed != NULL ? json_copy(parsed->notes) : json_array();
    if (notes == NULL) {
        rc = PST_ENOMEM;
        goto out;
    }
    if (live == NULL && live_why[0] != '\0') {
        rc = note_finding(notes, SSHD_BINARY, live_why);
    } else if (live != NULL && parsed == NULL) {
        char msg[1200];
        snprintf(msg, sizeof msg, "posture's parser refused what sshd accepts: %s", why);
        rc = note_finding(notes, config, msg);
    }
    if (rc == 0 && live != NULL && json_array_extend(notes, live->notes) != 0) {
        rc = PST_ENOMEM;
    }
    if (rc != 0) {
        json_decref(notes);
        goto out;
    }
    if ((rc = set_findings(out, "notes", notes)) != 0) {
        goto out;
    }
    /* one fact per keyword, with the file:line posture's parser saw it set at */
    for (size_t k = 0; k < pst_sshd_keywords_count && rc == 0; k++) {
        const struct pst_sshd_keyword *kw = &pst_sshd_keywords[k];
        size_t count = 0, pcount = 0;
        const struct pst_sshd_setting *s = pst_sshd_config_find(used, kw->name, &count);
        const struct pst_sshd_setting *ps =
            parsed != NULL ? pst_sshd_config_find(parsed, kw->name, &pcount) : NULL;
        char source[PATH_MAX + 600];
        const char *src = NULL;
        size_t lcount = count;
        const struct pst_sshd_setting *ls =
            live != NULL && live != used ? pst_sshd_config_find(live, kw->name, &lcount) : s;
        if (live != NULL && parsed != NULL && !same_values(ls, lcount, ps, pcount)) {
            char *a = joined(live, kw->name), *b = joined(parsed, kw->name);
            if (a == NULL || b == NULL) {
                free(a);
                free(b);
                rc = PST_ENOMEM;
                break;
            }
            {
                char where[PATH_MAX + 32];
                snprintf(where, sizeof where, "%s:%ld",
                         ps != NULL && ps->file != NULL ? ps->file : "default",
                         ps != NULL ? ps->line : 0L);
                json_t *d = json_pack("{s:s, s:o, s:o, s:s}", "keyword", kw->name, "sshd",
                                      pst_json_text(a), "parser", pst_json_text(b), "source",
                                      ps != NULL && ps->file != NULL ? where : "default");
                if (d == NULL || json_array_append_new(differences, d) != 0) {
                    rc = PST_ENOMEM;
                }
                snprintf(source, sizeof source, "sshd -T (posture's parser: %.200s, from %.300s)",
                         b, ps != NULL && ps->file != NULL ? where : "default");
                src = source;
            }
            free(a);
            free(b);
        }
        if (src == NULL && ps != NULL) {
            if (ps->file != NULL) {
                snprintf(source, sizeof source, "%s:%ld", ps->file, ps->line);
                src = source;
            } else {
                src = "default";
            }
        } else if (src == NULL) {
            src = live != NULL ? "sshd -T" : "default";
        }
        json_t *value = keyword_value(kw, s, count);
        if (value == NULL) {
            rc = PST_ENOMEM;
        } else if (json_is_null(value)) {
            json_decref(value); /* a keyword this version does not print: no fact */
        } else {
            rc = pst_facts_set(out, kw->name, value, src);
        }
    }
    if (rc != 0) {
        goto out;
    }
    size_t n_ms;
    const struct pst_sshd_setting *ms = pst_sshd_config_find(used, "maxstartups", &n_ms);
    int begin, rate, full;
    if (n_ms == 1 && sscanf(ms->value, "%d:%d:%d", &begin, &rate, &full) == 3) {
        const char *parts[] = {"maxstartups_begin", "maxstartups_rate", "maxstartups_full"};
        int values[] = {begin, rate, full};
        /* where the value came from, as the maxstartups fact says */
        const struct pst_fact *set = pst_facts_get(out, "maxstartups");
        const char *where = set != NULL ? set->source : NULL; /* kept with the call */
        for (size_t i = 0; i < 3 && rc == 0; i++) {
            rc = pst_facts_set(out, parts[i], json_integer(values[i]), where);
        }
    }
    if (rc != 0) {
        goto out;
    }
    rc = pst_facts_set(out, "version", json_string(parsed != NULL ? parsed->version : version),
                       NULL);
    if (rc == 0) {
        rc = pst_facts_set(out, "resolved_by", json_string(live != NULL ? "sshd -T" : "parser"),
                           NULL);
    }
    if (rc == 0) {
        rc = set_findings(out, "differences", differences);
        differences = NULL;
    }
    if (rc == 0 && parsed != NULL) {
        rc = config_files(ctx, out, parsed->files);
    }
    if (rc == 0 && parsed != NULL) {
        rc = match_fields(out, parsed->match_settings);
    }
    size_t count;
    const struct pst_sshd_setting *hk = pst_sshd_config_find(used, "hostkey", &count);
    for (size_t i = 0; i < count && rc == 0; i++) {
        rc = host_key(ctx, out, hk[i].value, rsa_min, &keys);
    }
    if (rc == 0) {
        rc = pst_facts_set(out, "host_keys", keys.keys, NULL);
        keys.keys = NULL;
    }
    if (rc == 0) {
        rc = set_findings(out, "host_keys_weak", keys.weak);
        keys.weak = NULL;
    }
    if (rc == 0) {
        rc = set_findings(out, "host_keys_private_bad_permissions", keys.bad_private);
        keys.bad_private = NULL;
    }
    if (rc == 0) {
        rc = set_findings(out, "host_keys_public_bad_permissions", keys.bad_public);
        keys.bad_public = NULL;
    }
out:
    json_decref(keys.keys);
    json_decref(keys.weak);
    json_decref(keys.bad_private);
    json_decref(keys.bad_public);
    json_decref(differences);
    pst_sshd_config_free(parsed);
    pst_sshd_config_free(live);
    return rc;
}

const struct pst_probe pst_probe_sshd = {
    .name = "sshd",
    .summary = "the SSH daemon's effective configuration (sshd -T and posture's own parser), "
               "its configuration files and host keys",
    .args = sshd_args,
    .n_args = PST_COUNT(sshd_args),
    .fields = sshd_fields,
    .n_fields = PST_COUNT(sshd_fields),
    .collect = sshd_collect,
    .prepare = sshd_prepare,
};
