/* SPDX-License-Identifier: Apache-2.0 */
/* The collector's certificate authority: creation, the server certificate, and enrollment CSRs. */
#ifndef PST_COLLECTOR_CA_H
#define PST_COLLECTOR_CA_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

/* Files of a state directory. */
#define PST_CA_KEY_FILE "ca.key"
#define PST_CA_CERT_FILE "ca.crt"
#define PST_SERVER_KEY_FILE "server.key"
#define PST_SERVER_CERT_FILE "server.crt"

/* Largest CSR accepted, PEM bytes. */
#define PST_CSR_MAX 8192u
/* Validity, in days, of what the CA issues. */
#define PST_CA_DAYS 3650
#define PST_SERVER_DAYS 825
#define PST_HOST_DAYS 825

struct pst_ca {
    mbedtls_pk_context key;
    mbedtls_x509_crt crt;
    char *pem; /* the CA certificate as PEM, NUL-terminated */
    char issuer[256];
};

/* A host certificate issued at enrollment. */
struct pst_issued {
    char host_id[37];     /* random UUID, the certificate's CN */
    char serial[41];      /* hex */
    char fingerprint[65]; /* hex SHA-256 of the certificate's DER */
    char kid[65];         /* hex SHA-256 of its SubjectPublicKeyInfo (the JWS kid) */
    char *pem;            /* malloc'd */
};

/*
 * Creates DIR (mode 0700 when missing), the CA (EC P-256, key mode 0600) and the server
 * certificate for NAMES (DNS names or IP addresses, the first also the CN). Refuses
 * (PST_EINVAL, reason in WHY) when DIR already holds a CA. Returns 0 or a PST_E* code.
 */
int pst_ca_init(const char *dir, const char *const *names, size_t n_names, time_t now, char *why,
                size_t why_len);

/* Loads DIR's CA into *out (caller pst_ca_free's it). Returns 0 or a PST_E* code. */
int pst_ca_load(const char *dir, struct pst_ca **out);
void pst_ca_free(struct pst_ca *ca);

/*
 * Checks a PEM CSR (EC P-256 key, valid self-signature) and issues a client certificate with
 * CN = a new host id, valid from NOW. Not thread-safe for one CA: the caller serialises.
 * Returns 0, PST_EPARSE/PST_EINVAL for a CSR that is refused (reason in WHY), or PST_ENOMEM.
 * On success OUT's pem belongs to the caller (pst_issued_release).
 */
int pst_ca_issue(struct pst_ca *ca, const char *csr_pem, size_t len, time_t now,
                 struct pst_issued *out, char *why, size_t why_len);
void pst_issued_release(struct pst_issued *issued);

/*
 * Writes LEN bytes to DIR/NAME atomically (temporary file, fsync, rename, fsync of DIR) with
 * MODE, never following a symlink at NAME. Returns 0 or a PST_E* code (logged with the path).
 */
int pst_ca_write_file(const char *dir, const char *name, const void *data, size_t len, mode_t mode);

/* Reads DIR/NAME (at most MAX bytes) into a malloc'd NUL-terminated buffer. */
int pst_ca_read_file(const char *dir, const char *name, size_t max, char **out, size_t *len);

/* Hex SHA-256 of DER bytes (a certificate's fingerprint). */
void pst_ca_fingerprint(const unsigned char *der, size_t len, char hex[65]);

#endif
