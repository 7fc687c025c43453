/* SPDX-License-Identifier: Apache-2.0 */
/* The collector's CA: EC P-256 keys, the CA and server certificates, and signing of host CSRs. */
#include "collector/ca.h"

#include "agent/error.h"
#include "probes/fs.h"
#include "transport/jws.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/asn1write.h>
#include <mbedtls/ecp.h>
#include <mbedtls/md.h>
#include <mbedtls/oid.h>
#include <mbedtls/pem.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509_csr.h>

#define CA_SUBJECT "CN=posture collector CA,O=posture"
#define PEM_MAX 8192
#define NAME_MAX_LEN 253

static void set_why(char *why, size_t why_len, const char *text)
{
    if (why != NULL && why_len > 0) {
        snprintf(why, why_len, "%s", text);
    }
}

void pst_ca_fingerprint(const unsigned char *der, size_t len, char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    unsigned char digest[32];

#if MBEDTLS_VERSION_MAJOR >= 3
    mbedtls_sha256(der, len, digest, 0);
#else
    mbedtls_sha256_ret(der, len, digest, 0);
#endif
    for (size_t i = 0; i < sizeof(digest); i++) {
        hex[2 * i] = digits[digest[i] >> 4];
        hex[2 * i + 1] = digits[digest[i] & 0x0f];
    }
    hex[64] = '\0';
}

int pst_ca_write_file(const char *dir, const char *name, const void *data, size_t len, mode_t mode)
{
    char tmp[4096], path[4096];
    int fd = -1, dfd = -1, rc = PST_OK;
    const unsigned char *p = data;

    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path) ||
        (size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name) >= sizeof(tmp)) {
        return PST_EINVAL;
    }
    (void)unlink(tmp);
    /* O_EXCL|O_NOFOLLOW: the temporary name is ours, never a link someone planted. */
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) {
        rc = pst_from_errno(errno);
        fprintf(stderr, "posture-collector: %s: %s\n", tmp, strerror(errno));
        goto out;
    }
    if (fchmod(fd, mode) != 0) {
        rc = pst_from_errno(errno);
        goto out;
    }
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            rc = PST_EIO;
            fprintf(stderr, "posture-collector: %s: %s\n", tmp, strerror(errno));
            goto out;
        }
        p += n;
        len -= (size_t)n;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        fd = -1;
        rc = PST_EIO;
        fprintf(stderr, "posture-collector: %s: %s\n", tmp, strerror(errno));
        goto out;
    }
    fd = -1;
    /* rename replaces a symlink at PATH itself, never what it points to. */
    if (rename(tmp, path) != 0) {
        rc = pst_from_errno(errno);
        fprintf(stderr, "posture-collector: %s: %s\n", path, strerror(errno));
        goto out;
    }
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) != 0) {
        rc = PST_EIO;
        fprintf(stderr, "posture-collector: %s: %s\n", dir, strerror(errno));
    }
out:
    if (fd >= 0) {
        close(fd);
    }
    if (dfd >= 0) {
        close(dfd);
    }
    if (rc != PST_OK) {
        (void)unlink(tmp);
    }
    return rc;
}

int pst_ca_read_file(const char *dir, const char *name, size_t max, char **out, size_t *len)
{
    char path[4096];
    size_t n = 0;

    *out = NULL;
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path)) {
        return PST_EINVAL;
    }
    return pst_file_read(path, max, true, out, len != NULL ? len : &n);
}

static int new_key(mbedtls_pk_context *key)
{
    if (mbedtls_pk_setup(key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) != 0 ||
        mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*key), pst_jws_random, NULL) !=
            0) {
        return PST_ENOMEM;
    }
    return PST_OK;
}

/* Writes KEY as PEM to DIR/NAME with mode 0600; the PEM buffer is wiped. */
static int write_key(const char *dir, const char *name, mbedtls_pk_context *key)
{
    unsigned char pem[PEM_MAX];
    int rc = PST_EINVAL;

    if (mbedtls_pk_write_key_pem(key, pem, sizeof(pem)) == 0) {
        rc = pst_ca_write_file(dir, name, pem, strlen((char *)pem), 0600);
    }
    mbedtls_platform_zeroize(pem, sizeof(pem));
    return rc;
}

/* A random positive serial of 16 bytes (RFC 5280 allows up to 20). */
static int random_serial(mbedtls_mpi *serial)
{
    unsigned char bytes[16];

    if (pst_jws_random(NULL, bytes, sizeof(bytes)) != 0) {
        return PST_EIO;
    }
    bytes[0] &= 0x7f;
    bytes[0] |= 0x40; /* never zero, never negative, always 16 bytes */
    return mbedtls_mpi_read_binary(serial, bytes, sizeof(bytes)) == 0 ? PST_OK : PST_ENOMEM;
}

static int set_validity(mbedtls_x509write_cert *w, time_t now, int days)
{
    char from[16], to[16];
    time_t start = now - 300; /* five minutes of clock skew between hosts */
    time_t end = now + (time_t)days * 86400;
    struct tm a, b;

    if (gmtime_r(&start, &a) == NULL || gmtime_r(&end, &b) == NULL ||
        strftime(from, sizeof(from), "%Y%m%d%H%M%S", &a) != 14 ||
        strftime(to, sizeof(to), "%Y%m%d%H%M%S", &b) != 14) {
        return PST_EINVAL;
    }
    return mbedtls_x509write_crt_set_validity(w, from, to) == 0 ? PST_OK : PST_EINVAL;
}

/* The extendedKeyUsage extension with one purpose (serverAuth or clientAuth). */
static int set_eku(mbedtls_x509write_cert *w, const char *oid, size_t oid_len)
{
    unsigned char buf[64], *p = buf + sizeof(buf);
    int len = 0, n;

    if ((n = mbedtls_asn1_write_oid(&p, buf, oid, oid_len)) < 0) {
        return PST_EINVAL;
    }
    len += n;
    if ((n = mbedtls_asn1_write_len(&p, buf, (size_t)len)) < 0) {
        return PST_EINVAL;
    }
    len += n;
    if ((n = mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)) <
        0) {
        return PST_EINVAL;
    }
    len += n;
    return mbedtls_x509write_crt_set_extension(w, MBEDTLS_OID_EXTENDED_KEY_USAGE,
                                               MBEDTLS_OID_SIZE(MBEDTLS_OID_EXTENDED_KEY_USAGE), 0,
                                               p, (size_t)len) == 0
               ? PST_OK
               : PST_EINVAL;
}

/*
 * The subjectAltName extension: each name an iPAddress when it parses as IPv4 or IPv6, else
 * a dNSName (mbedTLS 2.28 has no setter for it, so the DER is written here).
 */
static int set_san(mbedtls_x509write_cert *w, const char *const *names, size_t n_names, char *why,
                   size_t why_len)
{
    unsigned char buf[4096], *p = buf + sizeof(buf);
    size_t total = 0;
    int n;

    for (size_t i = n_names; i-- > 0;) {
        unsigned char addr[16];
        size_t alen = 0, nlen = strlen(names[i]);
        unsigned char tag;
        const unsigned char *value;

        if (inet_pton(AF_INET, names[i], addr) == 1) {
            alen = 4;
        } else if (inet_pton(AF_INET6, names[i], addr) == 1) {
            alen = 16;
        }
        if (alen > 0) {
            tag = MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7;
            value = addr;
        } else {
            if (nlen == 0 || nlen > NAME_MAX_LEN ||
                strspn(names[i],
                       "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-*") !=
                    nlen) {
                set_why(why, why_len, "a --name is neither an IP address nor a DNS name");
                return PST_EINVAL;
            }
            tag = MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2;
            value = (const unsigned char *)names[i];
            alen = nlen;
        }
        if ((n = mbedtls_asn1_write_raw_buffer(&p, buf, value, alen)) < 0) {
            goto too_long;
        }
        total += (size_t)n;
        if ((n = mbedtls_asn1_write_len(&p, buf, alen)) < 0) {
            goto too_long;
        }
        total += (size_t)n;
        if ((n = mbedtls_asn1_write_tag(&p, buf, tag)) < 0) {
            goto too_long;
        }
        total += (size_t)n;
    }
    if ((n = mbedtls_asn1_write_len(&p, buf, total)) < 0) {
        goto too_long;
    }
    total += (size_t)n;
    if ((n = mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)) <
        0) {
        goto too_long;
    }
    total += (size_t)n;
    return mbedtls_x509write_crt_set_extension(w, MBEDTLS_OID_SUBJECT_ALT_NAME,
                                               MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0, p,
                                               total) == 0
               ? PST_OK
               : PST_EINVAL;
too_long:
    set_why(why, why_len, "the --name list is too long");
    return PST_ETOOBIG;
}

/* Writes W as PEM into a malloc'd string. */
static int crt_pem(mbedtls_x509write_cert *w, char **out)
{
    unsigned char *buf = malloc(PEM_MAX);
    int rc = PST_OK;

    *out = NULL;
    if (buf == NULL) {
        return PST_ENOMEM;
    }
    if (mbedtls_x509write_crt_pem(w, buf, PEM_MAX, pst_jws_random, NULL) != 0) {
        free(buf);
        return PST_EINVAL;
    }
    *out = (char *)buf;
    return rc;
}

int pst_ca_init(const char *dir, const char *const *names, size_t n_names, time_t now, char *why,
                size_t why_len)
{
    mbedtls_pk_context ca_key, server_key;
    mbedtls_x509write_cert w;
    mbedtls_mpi serial;
    char path[4096], subject[NAME_MAX_LEN + 16];
    char *ca_pem = NULL, *server_pem = NULL;
    struct stat st;
    int rc;

    mbedtls_pk_init(&ca_key);
    mbedtls_pk_init(&server_key);
    mbedtls_x509write_crt_init(&w);
    mbedtls_mpi_init(&serial);
    if (n_names == 0) {
        set_why(why, why_len, "init needs at least one --name");
        rc = PST_EINVAL;
        goto out;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        rc = pst_from_errno(errno);
        set_why(why, why_len, "cannot create the state directory");
        goto out;
    }
    snprintf(path, sizeof(path), "%s/%s", dir, PST_CA_KEY_FILE);
    if (lstat(path, &st) == 0) {
        set_why(why, why_len, "the state directory already holds a CA");
        rc = PST_EINVAL;
        goto out;
    }
    rc = new_key(&ca_key);
    if (rc == PST_OK) {
        rc = new_key(&server_key);
    }
    if (rc != PST_OK) {
        goto out;
    }

    /* The CA: self-signed, may sign end-entity certificates only (pathlen 0). */
    mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&w, &ca_key);
    mbedtls_x509write_crt_set_issuer_key(&w, &ca_key);
    rc = PST_EINVAL;
    if (random_serial(&serial) != PST_OK || mbedtls_x509write_crt_set_serial(&w, &serial) != 0 ||
        set_validity(&w, now, PST_CA_DAYS) != PST_OK ||
        mbedtls_x509write_crt_set_subject_name(&w, CA_SUBJECT) != 0 ||
        mbedtls_x509write_crt_set_issuer_name(&w, CA_SUBJECT) != 0 ||
        mbedtls_x509write_crt_set_basic_constraints(&w, 1, 0) != 0 ||
        mbedtls_x509write_crt_set_key_usage(&w, MBEDTLS_X509_KU_KEY_CERT_SIGN |
                                                    MBEDTLS_X509_KU_CRL_SIGN) != 0 ||
        mbedtls_x509write_crt_set_subject_key_identifier(&w) != 0 ||
        mbedtls_x509write_crt_set_authority_key_identifier(&w) != 0 ||
        crt_pem(&w, &ca_pem) != PST_OK) {
        set_why(why, why_len, "cannot write the CA certificate");
        goto out;
    }
    mbedtls_x509write_crt_free(&w);
    mbedtls_x509write_crt_init(&w);

    /* The server certificate, for the names agents will connect to. */
    snprintf(subject, sizeof(subject), "CN=%s", names[0]);
    mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&w, &server_key);
    mbedtls_x509write_crt_set_issuer_key(&w, &ca_key);
    rc = set_san(&w, names, n_names, why, why_len);
    if (rc != PST_OK) {
        goto out;
    }
    rc = PST_EINVAL;
    if (strchr(names[0], ',') != NULL || strchr(names[0], '=') != NULL ||
        random_serial(&serial) != PST_OK || mbedtls_x509write_crt_set_serial(&w, &serial) != 0 ||
        set_validity(&w, now, PST_SERVER_DAYS) != PST_OK ||
        mbedtls_x509write_crt_set_subject_name(&w, subject) != 0 ||
        mbedtls_x509write_crt_set_issuer_name(&w, CA_SUBJECT) != 0 ||
        mbedtls_x509write_crt_set_basic_constraints(&w, 0, -1) != 0 ||
        mbedtls_x509write_crt_set_key_usage(&w, MBEDTLS_X509_KU_DIGITAL_SIGNATURE) != 0 ||
        set_eku(&w, MBEDTLS_OID_SERVER_AUTH, MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH)) != PST_OK ||
        mbedtls_x509write_crt_set_subject_key_identifier(&w) != 0 ||
        mbedtls_x509write_crt_set_authority_key_identifier(&w) != 0 ||
        crt_pem(&w, &server_pem) != PST_OK) {
        set_why(why, why_len, "cannot write the server certificate");
        goto out;
    }

    /* Keys first: a certificate on disk always has its key. */
    rc = write_key(dir, PST_CA_KEY_FILE, &ca_key);
    if (rc == PST_OK) {
        rc = write_key(dir, PST_SERVER_KEY_FILE, &server_key);
    }
    if (rc == PST_OK) {
        rc = pst_ca_write_file(dir, PST_CA_CERT_FILE, ca_pem, strlen(ca_pem), 0644);
    }
    if (rc == PST_OK) {
        rc = pst_ca_write_file(dir, PST_SERVER_CERT_FILE, server_pem, strlen(server_pem), 0644);
    }
    if (rc != PST_OK) {
        set_why(why, why_len, "cannot write the state directory");
    }
out:
    mbedtls_x509write_crt_free(&w);
    mbedtls_mpi_free(&serial);
    mbedtls_pk_free(&ca_key);
    mbedtls_pk_free(&server_key);
    free(ca_pem);
    free(server_pem);
    return rc;
}

int pst_ca_load(const char *dir, struct pst_ca **out)
{
    struct pst_ca *ca = calloc(1, sizeof(*ca));
    char *key_pem = NULL;
    size_t key_len = 0, pem_len = 0;
    int rc;

    *out = NULL;
    if (ca == NULL) {
        return PST_ENOMEM;
    }
    mbedtls_pk_init(&ca->key);
    mbedtls_x509_crt_init(&ca->crt);
    rc = pst_ca_read_file(dir, PST_CA_KEY_FILE, PEM_MAX, &key_pem, &key_len);
    if (rc == PST_OK) {
        rc = pst_ca_read_file(dir, PST_CA_CERT_FILE, PEM_MAX, &ca->pem, &pem_len);
    }
    if (rc != PST_OK) {
        goto out;
    }
    /* PEM parsing wants the terminating NUL counted. */
    if (mbedtls_pk_parse_key(&ca->key, (unsigned char *)key_pem, key_len + 1, NULL, 0) != 0 ||
        mbedtls_x509_crt_parse(&ca->crt, (unsigned char *)ca->pem, pem_len + 1) != 0 ||
        mbedtls_x509_dn_gets(ca->issuer, sizeof(ca->issuer), &ca->crt.subject) < 0) {
        rc = PST_EPARSE;
        goto out;
    }
    *out = ca;
    ca = NULL;
out:
    if (key_pem != NULL) {
        mbedtls_platform_zeroize(key_pem, key_len);
        free(key_pem);
    }
    pst_ca_free(ca);
    return rc;
}

void pst_ca_free(struct pst_ca *ca)
{
    if (ca == NULL) {
        return;
    }
    mbedtls_pk_free(&ca->key);
    mbedtls_x509_crt_free(&ca->crt);
    free(ca->pem);
    free(ca);
}

/* A random (version 4) UUID. */
static int new_host_id(char out[37])
{
    unsigned char b[16];

    if (pst_jws_random(NULL, b, sizeof(b)) != 0) {
        return PST_EIO;
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
    return PST_OK;
}

/* Checks that CSR proves possession of its key: its signature verifies with that key. */
static bool csr_signature_ok(mbedtls_x509_csr *csr)
{
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(csr->sig_md);
    unsigned char hash[MBEDTLS_MD_MAX_SIZE];

    if (md == NULL || mbedtls_md(md, csr->cri.p, csr->cri.len, hash) != 0) {
        return false;
    }
    return mbedtls_pk_verify_ext(csr->sig_pk, csr->sig_opts, &csr->pk, csr->sig_md, hash,
                                 mbedtls_md_get_size(md), csr->sig.p, csr->sig.len) == 0;
}

int pst_ca_issue(struct pst_ca *ca, const char *csr_pem, size_t len, time_t now,
                 struct pst_issued *out, char *why, size_t why_len)
{
    mbedtls_x509_csr csr;
    mbedtls_x509write_cert w;
    mbedtls_x509_crt crt;
    mbedtls_mpi serial;
    char *buf = NULL, subject[64];
    size_t n = 0;
    int rc = PST_EPARSE;

    memset(out, 0, sizeof(*out));
    mbedtls_x509_csr_init(&csr);
    mbedtls_x509write_crt_init(&w);
    mbedtls_x509_crt_init(&crt);
    mbedtls_mpi_init(&serial);
    if (len == 0 || len > PST_CSR_MAX || memchr(csr_pem, '\0', len) != NULL) {
        set_why(why, why_len, "the CSR is empty, too large or not text");
        goto out;
    }
    buf = malloc(len + 1);
    if (buf == NULL) {
        rc = PST_ENOMEM;
        goto out;
    }
    memcpy(buf, csr_pem, len);
    buf[len] = '\0';
    if (strstr(buf, "-----BEGIN CERTIFICATE REQUEST-----") == NULL ||
        mbedtls_x509_csr_parse(&csr, (unsigned char *)buf, len + 1) != 0) {
        set_why(why, why_len, "the CSR is not a PEM certificate request");
        goto out;
    }
    if (!mbedtls_pk_can_do(&csr.pk, MBEDTLS_PK_ECKEY) ||
        mbedtls_pk_ec(csr.pk)->grp.id != MBEDTLS_ECP_DP_SECP256R1) {
        set_why(why, why_len, "the CSR's key is not an EC P-256 key");
        rc = PST_EINVAL;
        goto out;
    }
    if (!csr_signature_ok(&csr)) {
        set_why(why, why_len, "the CSR's signature does not verify with its key");
        rc = PST_EINVAL;
        goto out;
    }
    rc = new_host_id(out->host_id);
    if (rc == PST_OK) {
        rc = random_serial(&serial);
    }
    if (rc != PST_OK) {
        goto out;
    }
    /* Only the key is taken from the CSR: the collector names the host. */
    snprintf(subject, sizeof(subject), "CN=%s", out->host_id);
    mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&w, &csr.pk);
    mbedtls_x509write_crt_set_issuer_key(&w, &ca->key);
    rc = PST_EINVAL;
    if (mbedtls_x509write_crt_set_serial(&w, &serial) != 0 ||
        set_validity(&w, now, PST_HOST_DAYS) != PST_OK ||
        mbedtls_x509write_crt_set_subject_name(&w, subject) != 0 ||
        mbedtls_x509write_crt_set_issuer_name(&w, ca->issuer) != 0 ||
        mbedtls_x509write_crt_set_basic_constraints(&w, 0, -1) != 0 ||
        mbedtls_x509write_crt_set_key_usage(&w, MBEDTLS_X509_KU_DIGITAL_SIGNATURE) != 0 ||
        set_eku(&w, MBEDTLS_OID_CLIENT_AUTH, MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH)) != PST_OK ||
        mbedtls_x509write_crt_set_subject_key_identifier(&w) != 0 ||
        mbedtls_x509write_crt_set_authority_key_identifier(&w) != 0 ||
        crt_pem(&w, &out->pem) != PST_OK) {
        set_why(why, why_len, "cannot issue the certificate");
        goto out;
    }
    n = strlen(out->pem);
    if (mbedtls_x509_crt_parse(&crt, (unsigned char *)out->pem, n + 1) != 0 ||
        mbedtls_mpi_write_string(&serial, 16, out->serial, sizeof(out->serial), &n) != 0) {
        set_why(why, why_len, "cannot read back the issued certificate");
        goto out;
    }
    pst_ca_fingerprint(crt.raw.p, crt.raw.len, out->fingerprint);
    pst_jws_kid(&crt, out->kid);
    rc = PST_OK;
out:
    if (rc != PST_OK) {
        pst_issued_release(out);
    }
    free(buf);
    mbedtls_x509_csr_free(&csr);
    mbedtls_x509write_crt_free(&w);
    mbedtls_x509_crt_free(&crt);
    mbedtls_mpi_free(&serial);
    return rc;
}

void pst_issued_release(struct pst_issued *issued)
{
    free(issued->pem);
    issued->pem = NULL;
}
