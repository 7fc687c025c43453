/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The effective sshd configuration, resolved with OpenSSH's own rules (servconf.c of the
 * Debian and Ubuntu builds: PAM, Kerberos and GSSAPI key exchange compiled in): the first
 * value obtained wins except where sshd says otherwise, Include globs relative to /etc/ssh,
 * Match blocks for an `sshd -T -C` connection spec, the compiled-in defaults of the version,
 * and `sshd -T`'s printed form of every value.
 */
#include "probes/sshd_config.h"
#include "probes/sshd_keywords.h"

#include "agent/error.h"
#include "probes/probe.h"
#include "probes/text.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* ---- the keywords sshd -T prints ------------------------------------------------------ */

/* Index of each printed keyword in pst_sshd_keywords (the order sshd -T prints them in). */
#define SLOT(name, shape, since, until, description) S_##name,
enum slot {
    PST_SSHD_KEYWORDS(SLOT) S_COUNT,
    S_NONE = -1, /* a keyword that sets nothing sshd -T prints */
};
#undef SLOT

#define KEYWORD(name, shape, since, until, description)                                            \
    [S_##name] = {#name, PST_SSHD_##shape, since, until, description},
const struct pst_sshd_keyword pst_sshd_keywords[] = {PST_SSHD_KEYWORDS(KEYWORD)};
#undef KEYWORD
const size_t pst_sshd_keywords_count = S_COUNT;

/* ---- versions ------------------------------------------------------------------------- */

const char *const pst_sshd_versions[] = {"8.4", "9.2", "10.0", NULL};

/* What differs between the OpenSSH versions with a table (Debian's builds of each). */
struct profile {
    const char *version;
    int number;                                  /* 804, 902, 1000 */
    const char *kex, *pk, *cipher, *mac, *casig; /* default lists, as sshd -T prints them */
    const char *all_cipher, *all_mac, *all_kex, *all_key, *all_sig; /* ssh -Q order */
    const char *ipqos;                                              /* IPQoS default */
};

static const char all_cipher_92[] =
    "3des-cbc,aes128-cbc,aes192-cbc,aes256-cbc,aes128-ctr,aes192-ctr,aes256-ctr,"
    "aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com";
static const char all_mac_92[] =
    "hmac-sha1,hmac-sha1-96,hmac-sha2-256,hmac-sha2-512,hmac-md5,hmac-md5-96,"
    "umac-64@openssh.com,umac-128@openssh.com,hmac-sha1-etm@openssh.com,"
    "hmac-sha1-96-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,"
    "hmac-md5-etm@openssh.com,hmac-md5-96-etm@openssh.com,umac-64-etm@openssh.com,"
    "umac-128-etm@openssh.com";
static const char all_kex_92[] =
    "diffie-hellman-group1-sha1,diffie-hellman-group14-sha1,diffie-hellman-group14-sha256,"
    "diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,"
    "diffie-hellman-group-exchange-sha1,diffie-hellman-group-exchange-sha256,"
    "ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,curve25519-sha256,"
    "curve25519-sha256@libssh.org,sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com";
static const char all_key_92[] =
    "ssh-ed25519,ssh-ed25519-cert-v01@openssh.com,sk-ssh-ed25519@openssh.com,"
    "sk-ssh-ed25519-cert-v01@openssh.com,ecdsa-sha2-nistp256,"
    "ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384,"
    "ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521,"
    "ecdsa-sha2-nistp521-cert-v01@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,"
    "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,webauthn-sk-ecdsa-sha2-nistp256@openssh.com,"
    "ssh-dss,ssh-dss-cert-v01@openssh.com,ssh-rsa,ssh-rsa-cert-v01@openssh.com,rsa-sha2-256,"
    "rsa-sha2-256-cert-v01@openssh.com,rsa-sha2-512,rsa-sha2-512-cert-v01@openssh.com";
static const char all_sig_92[] =
    "ssh-ed25519,sk-ssh-ed25519@openssh.com,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,"
    "ecdsa-sha2-nistp521,sk-ecdsa-sha2-nistp256@openssh.com,"
    "webauthn-sk-ecdsa-sha2-nistp256@openssh.com,ssh-dss,ssh-rsa,rsa-sha2-256,rsa-sha2-512";

static const char pk_92[] =
    "ssh-ed25519-cert-v01@openssh.com,ecdsa-sha2-nistp256-cert-v01@openssh.com,"
    "ecdsa-sha2-nistp384-cert-v01@openssh.com,"
    "ecdsa-sha2-nistp521-cert-v01@openssh.com,sk-ssh-ed25519-cert-v01@openssh.com,"
    "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,rsa-sha2-512-cert-v01@openssh.com,"
    "rsa-sha2-256-cert-v01@openssh.com,ssh-ed25519,ecdsa-sha2-nistp256,"
    "ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ssh-ed25519@openssh.com,"
    "sk-ecdsa-sha2-nistp256@openssh.com,rsa-sha2-512,rsa-sha2-256";
static const char mac_default[] =
    "umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,"
    "hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,"
    "umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1";
static const char casig_92[] =
    "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,"
    "sk-ssh-ed25519@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,rsa-sha2-512,"
    "rsa-sha2-256";

/* Debian's builds: 8.4 (Debian 11), 9.2 (Debian 12), 10.0 (Debian 13), oldest first. */
static const struct profile profiles[] = {
    {
        .version = "8.4",
        .number = 804,
        .kex = "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,"
               "ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,"
               "diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,"
               "diffie-hellman-group14-sha256",
        .pk = "ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384-cert-v01@openssh.com,"
              "ecdsa-sha2-nistp521-cert-v01@openssh.com,"
              "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,ssh-ed25519-cert-v01@openssh.com,"
              "sk-ssh-ed25519-cert-v01@openssh.com,rsa-sha2-512-cert-v01@openssh.com,"
              "rsa-sha2-256-cert-v01@openssh.com,ssh-rsa-cert-v01@openssh.com,"
              "ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,"
              "sk-ecdsa-sha2-nistp256@openssh.com,ssh-ed25519,sk-ssh-ed25519@openssh.com,"
              "rsa-sha2-512,rsa-sha2-256,ssh-rsa",
        .cipher = "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,"
                  "aes128-gcm@openssh.com,aes256-gcm@openssh.com",
        .mac = mac_default,
        .casig = "ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,"
                 "sk-ecdsa-sha2-nistp256@openssh.com,ssh-ed25519,sk-ssh-ed25519@openssh.com,"
                 "rsa-sha2-512,rsa-sha2-256",
        .all_cipher = "3des-cbc,aes128-cbc,aes192-cbc,aes256-cbc,rijndael-cbc@lysator.liu.se,"
                      "aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,"
                      "aes256-gcm@openssh.com,chacha20-poly1305@openssh.com",
        .all_mac = all_mac_92,
        .all_kex = "diffie-hellman-group1-sha1,diffie-hellman-group14-sha1,"
                   "diffie-hellman-group14-sha256,diffie-hellman-group16-sha512,"
                   "diffie-hellman-group18-sha512,diffie-hellman-group-exchange-sha1,"
                   "diffie-hellman-group-exchange-sha256,ecdh-sha2-nistp256,ecdh-sha2-nistp384,"
                   "ecdh-sha2-nistp521,curve25519-sha256,curve25519-sha256@libssh.org,"
                   "sntrup4591761x25519-sha512@tinyssh.org",
        .all_key = "ssh-ed25519,ssh-ed25519-cert-v01@openssh.com,sk-ssh-ed25519@openssh.com,"
                   "sk-ssh-ed25519-cert-v01@openssh.com,ssh-rsa,rsa-sha2-256,rsa-sha2-512,"
                   "ssh-dss,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,"
                   "sk-ecdsa-sha2-nistp256@openssh.com,"
                   "webauthn-sk-ecdsa-sha2-nistp256@openssh.com,ssh-rsa-cert-v01@openssh.com,"
                   "rsa-sha2-256-cert-v01@openssh.com,rsa-sha2-512-cert-v01@openssh.com,"
                   "ssh-dss-cert-v01@openssh.com,ecdsa-sha2-nistp256-cert-v01@openssh.com,"
                   "ecdsa-sha2-nistp384-cert-v01@openssh.com,"
                   "ecdsa-sha2-nistp521-cert-v01@openssh.com,"
                   "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
        .all_sig = "ssh-ed25519,sk-ssh-ed25519@openssh.com,ssh-rsa,rsa-sha2-256,rsa-sha2-512,"
                   "ssh-dss,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,"
                   "sk-ecdsa-sha2-nistp256@openssh.com,webauthn-sk-ecdsa-sha2-nistp256@openssh.com",
        .ipqos = "lowdelay throughput",
    },
    {
        .version = "9.2",
        .number = 902,
        .kex = "sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com,curve25519-sha256,"
               "curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,"
               "ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,"
               "diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,"
               "diffie-hellman-group14-sha256",
        .pk = pk_92,
        .cipher = "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,"
                  "aes128-gcm@openssh.com,aes256-gcm@openssh.com",
        .mac = mac_default,
        .casig = casig_92,
        .all_cipher = all_cipher_92,
        .all_mac = all_mac_92,
        .all_kex = all_kex_92,
        .all_key = all_key_92,
        .all_sig = all_sig_92,
        .ipqos = "lowdelay throughput",
    },
    {
        .version = "10.0",
        .number = 1000,
        .kex = "mlkem768x25519-sha256,sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com,"
               "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,"
               "ecdh-sha2-nistp384,ecdh-sha2-nistp521",
        .pk = pk_92,
        .cipher = "chacha20-poly1305@openssh.com,aes128-gcm@openssh.com,aes256-gcm@openssh.com,"
                  "aes128-ctr,aes192-ctr,aes256-ctr",
        .mac = mac_default,
        .casig = casig_92,
        .all_cipher = all_cipher_92,
        .all_mac = all_mac_92,
        .all_kex = "diffie-hellman-group1-sha1,diffie-hellman-group14-sha1,"
                   "diffie-hellman-group14-sha256,diffie-hellman-group16-sha512,"
                   "diffie-hellman-group18-sha512,diffie-hellman-group-exchange-sha1,"
                   "diffie-hellman-group-exchange-sha256,ecdh-sha2-nistp256,ecdh-sha2-nistp384,"
                   "ecdh-sha2-nistp521,curve25519-sha256,curve25519-sha256@libssh.org,"
                   "sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com,"
                   "mlkem768x25519-sha256",
        .all_key = "ssh-ed25519,ssh-ed25519-cert-v01@openssh.com,sk-ssh-ed25519@openssh.com,"
                   "sk-ssh-ed25519-cert-v01@openssh.com,ecdsa-sha2-nistp256,"
                   "ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384,"
                   "ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521,"
                   "ecdsa-sha2-nistp521-cert-v01@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,"
                   "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,"
                   "webauthn-sk-ecdsa-sha2-nistp256@openssh.com,ssh-rsa,"
                   "ssh-rsa-cert-v01@openssh.com,rsa-sha2-256,rsa-sha2-256-cert-v01@openssh.com,"
                   "rsa-sha2-512,rsa-sha2-512-cert-v01@openssh.com",
        .all_sig = "ssh-ed25519,sk-ssh-ed25519@openssh.com,ecdsa-sha2-nistp256,"
                   "ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ecdsa-sha2-nistp256@openssh.com,"
                   "webauthn-sk-ecdsa-sha2-nistp256@openssh.com,ssh-rsa,rsa-sha2-256,rsa-sha2-512",
        .ipqos = "ef cs1",
    },
};

/* "9.2", "9.2p1", "OpenSSH_9.2p1 Debian-2+deb12u3" -> 902; 0 when it is none of those. */
static int version_number(const char *version)
{
    const char *v = strncmp(version, "OpenSSH_", 8) == 0 ? version + 8 : version;
    char *end;
    long major = strtol(v, &end, 10);
    if (end == v || *end != '.' || major < 1 || major > 99) {
        return 0;
    }
    const char *m = end + 1;
    long minor = strtol(m, &end, 10);
    if (end == m || minor < 0 || minor > 99) {
        return 0;
    }
    return (int)(major * 100 + minor);
}

/*
 * The table for VERSION: its own, or else the newest older one (the oldest for older
 * versions); *exact says which. NULL VERSION: the newest table.
 */
static const struct profile *profile_find(const char *version, bool *exact)
{
    const struct profile *best = NULL;
    int number = version != NULL ? version_number(version) : 0;
    *exact = false;
    if (number == 0) {
        return &profiles[PST_COUNT(profiles) - 1];
    }
    for (size_t i = 0; i < PST_COUNT(profiles); i++) {
        if (profiles[i].number == number) {
            *exact = true;
            return &profiles[i];
        }
        if (profiles[i].number < number) {
            best = &profiles[i];
        }
    }
    return best != NULL ? best : &profiles[0];
}

/* ---- keywords sshd accepts ------------------------------------------------------------ */

enum kind {
    K_FLAG,
    K_MULTI,
    K_INT,
    K_TIME,
    K_PATH,
    K_STRING,
    K_LOCALUSER,
    K_COMMAND,
    K_REST,
    K_ALGOS,
    K_KEYALGOS,
    K_GSSKEX,
    K_USERS,
    K_GROUPS,
    K_ACCEPTENV,
    K_SETENV,
    K_HOSTKEY,
    K_HOSTCERT,
    K_PORT,
    K_LISTEN,
    K_PERMITUSERENV,
    K_REKEY,
    K_LOGLEVEL,
    K_FACILITY,
    K_LOGVERBOSE,
    K_SUBSYSTEM,
    K_MAXSTARTUPS,
    K_NETBLOCK,
    K_PSMAXSTARTUPS,
    K_AUTHKEYSFILE,
    K_PRINCIPALSFILE,
    K_TUNNEL,
    K_INCLUDE,
    K_MATCH,
    K_PERMITOPEN,
    K_PERMITLISTEN,
    K_SKPROVIDER,
    K_IPQOS,
    K_VERSIONADDENDUM,
    K_AUTHMETHODS,
    K_BINDMASK,
    K_FPHASH,
    K_RDOMAIN,
    K_CHANNELTIMEOUT,
    K_UNUSEDTIMEOUT,
    K_HOSTKEYAGENT,
    K_PUBKEYOPTS,
    K_PENALTIES,
    K_EXEMPTLIST,
    K_DEPRECATED,
    K_UNSUPPORTED,
    K_IGNORE,
};

#define GLOBAL 1u
#define MATCH 2u
#define ALL (GLOBAL | MATCH)

struct choice {
    const char *word;
    const char *printed; /* how sshd -T prints the value the word sets */
};

static const struct choice flag_choices[] = {{"yes", "yes"}, {"no", "no"}, {NULL, NULL}};
static const struct choice rhosts_choices[] = {
    {"yes", "yes"}, {"no", "no"}, {"shosts-only", "shosts-only"}, {NULL, NULL}};
static const struct choice family_choices[] = {
    {"inet", "inet"}, {"inet6", "inet6"}, {"any", "any"}, {NULL, NULL}};
static const struct choice rootlogin_choices[] = {{"without-password", "without-password"},
                                                  {"prohibit-password", "without-password"},
                                                  {"forced-commands-only", "forced-commands-only"},
                                                  {"yes", "yes"},
                                                  {"no", "no"},
                                                  {NULL, NULL}};
static const struct choice compression_choices[] = {
    {"yes", "yes"}, {"delayed", "yes"}, {"no", "no"}, {NULL, NULL}};
static const struct choice gatewayports_choices[] = {
    {"clientspecified", "clientspecified"}, {"yes", "yes"}, {"no", "no"}, {NULL, NULL}};
static const struct choice forwarding_choices[] = {{"yes", "yes"},     {"all", "yes"},
                                                   {"no", "no"},       {"remote", "remote"},
                                                   {"local", "local"}, {NULL, NULL}};

struct keyword {
    const char *name;
    enum kind kind;
    int slot;
    unsigned flags;
    const struct choice *choices;
    int since, until; /* versions (902 = 9.2) that know the keyword; 0 = no bound */
};

/*
 * servconf.c keywords[] of the Debian build (PAM, KRB5 without AFS, GSSAPI key exchange),
 * sorted by name for a binary search (names are unique, so order carries no meaning).
 */
static const struct keyword keywords[] = {
    {"acceptenv", K_ACCEPTENV, S_acceptenv, ALL, NULL, 0, 0},
    {"addressfamily", K_MULTI, S_addressfamily, GLOBAL, family_choices, 0, 0},
    {"afstokenpassing", K_UNSUPPORTED, S_NONE, GLOBAL, NULL, 0, 0},
    {"allowagentforwarding", K_FLAG, S_allowagentforwarding, ALL, flag_choices, 0, 0},
    {"allowgroups", K_GROUPS, S_allowgroups, ALL, NULL, 0, 0},
    {"allowstreamlocalforwarding", K_MULTI, S_allowstreamlocalforwarding, ALL, forwarding_choices,
     0, 0},
    {"allowtcpforwarding", K_MULTI, S_allowtcpforwarding, ALL, forwarding_choices, 0, 0},
    {"allowusers", K_USERS, S_allowusers, ALL, NULL, 0, 0},
    {"authenticationmethods", K_AUTHMETHODS, S_authenticationmethods, ALL, NULL, 0, 0},
    {"authorizedkeyscommand", K_COMMAND, S_authorizedkeyscommand, ALL, NULL, 0, 0},
    {"authorizedkeyscommanduser", K_LOCALUSER, S_authorizedkeyscommanduser, ALL, NULL, 0, 0},
    {"authorizedkeysfile", K_AUTHKEYSFILE, S_authorizedkeysfile, ALL, NULL, 0, 0},
    {"authorizedkeysfile2", K_DEPRECATED, S_NONE, ALL, NULL, 0, 0},
    {"authorizedprincipalscommand", K_COMMAND, S_authorizedprincipalscommand, ALL, NULL, 0, 0},
    {"authorizedprincipalscommanduser", K_LOCALUSER, S_authorizedprincipalscommanduser, ALL, NULL,
     0, 0},
    {"authorizedprincipalsfile", K_PRINCIPALSFILE, S_authorizedprincipalsfile, ALL, NULL, 0, 0},
    {"banner", K_PATH, S_banner, ALL, NULL, 0, 0},
    {"casignaturealgorithms", K_KEYALGOS, S_casignaturealgorithms, ALL, NULL, 0, 0},
    {"challengeresponseauthentication", K_FLAG, S_kbdinteractiveauthentication, ALL, flag_choices,
     0, 0},
    {"channeltimeout", K_CHANNELTIMEOUT, S_channeltimeout, ALL, NULL, 902, 0},
    {"checkmail", K_DEPRECATED, S_NONE, GLOBAL, NULL, 0, 0},
    {"chrootdirectory", K_STRING, S_chrootdirectory, ALL, NULL, 0, 0},
    {"ciphers", K_ALGOS, S_ciphers, GLOBAL, NULL, 0, 0},
    {"clientalivecountmax", K_INT, S_clientalivecountmax, ALL, NULL, 0, 0},
    {"clientaliveinterval", K_TIME, S_clientaliveinterval, ALL, NULL, 0, 0},
    {"compression", K_MULTI, S_compression, GLOBAL, compression_choices, 0, 0},
    {"debianbanner", K_FLAG, S_debianbanner, GLOBAL, flag_choices, 0, 0},
    {"denygroups", K_GROUPS, S_denygroups, ALL, NULL, 0, 0},
    {"denyusers", K_USERS, S_denyusers, ALL, NULL, 0, 0},
    {"disableforwarding", K_FLAG, S_disableforwarding, ALL, flag_choices, 0, 0},
    {"dsaauthentication", K_FLAG, S_pubkeyauthentication, GLOBAL, flag_choices, 0, 0},
    {"exposeauthinfo", K_FLAG, S_exposeauthinfo, ALL, flag_choices, 0, 0},
    {"fingerprinthash", K_FPHASH, S_fingerprinthash, GLOBAL, NULL, 0, 0},
    {"forcecommand", K_REST, S_forcecommand, ALL, NULL, 0, 0},
    {"gatewayports", K_MULTI, S_gatewayports, ALL, gatewayports_choices, 0, 0},
    {"gssapiauthentication", K_FLAG, S_gssapiauthentication, ALL, flag_choices, 0, 0},
    {"gssapicleanupcredentials", K_FLAG, S_gssapicleanupcredentials, GLOBAL, flag_choices, 0, 0},
    {"gssapicleanupcreds", K_FLAG, S_gssapicleanupcredentials, GLOBAL, flag_choices, 0, 0},
    {"gssapikexalgorithms", K_GSSKEX, S_gssapikexalgorithms, GLOBAL, NULL, 0, 0},
    {"gssapikeyexchange", K_FLAG, S_gssapikeyexchange, GLOBAL, flag_choices, 0, 0},
    {"gssapistorecredentialsonrekey", K_FLAG, S_gssapistorecredentialsonrekey, GLOBAL, flag_choices,
     0, 0},
    {"gssapistrictacceptorcheck", K_FLAG, S_gssapistrictacceptorcheck, GLOBAL, flag_choices, 0, 0},
    {"gssapiusesessioncredcache", K_UNSUPPORTED, S_NONE, GLOBAL, NULL, 0, 0},
    {"gssusesessionccache", K_UNSUPPORTED, S_NONE, GLOBAL, NULL, 0, 0},
    {"hostbasedacceptedalgorithms", K_KEYALGOS, S_hostbasedacceptedalgorithms, ALL, NULL, 902, 0},
    {"hostbasedacceptedkeytypes", K_KEYALGOS, S_hostbasedacceptedalgorithms, ALL, NULL, 0, 0},
    {"hostbasedauthentication", K_FLAG, S_hostbasedauthentication, ALL, flag_choices, 0, 0},
    {"hostbasedusesnamefrompacketonly", K_FLAG, S_hostbasedusesnamefrompacketonly, ALL,
     flag_choices, 0, 0},
    {"hostcertificate", K_HOSTCERT, S_hostcertificate, GLOBAL, NULL, 0, 0},
    {"hostdsakey", K_HOSTKEY, S_hostkey, GLOBAL, NULL, 0, 0},
    {"hostkey", K_HOSTKEY, S_hostkey, GLOBAL, NULL, 0, 0},
    {"hostkeyagent", K_HOSTKEYAGENT, S_hostkeyagent, GLOBAL, NULL, 0, 0},
    {"hostkeyalgorithms", K_KEYALGOS, S_hostkeyalgorithms, GLOBAL, NULL, 0, 0},
    {"ignorerhosts", K_MULTI, S_ignorerhosts, ALL, rhosts_choices, 0, 0},
    {"ignoreuserknownhosts", K_FLAG, S_ignoreuserknownhosts, GLOBAL, flag_choices, 0, 0},
    {"include", K_INCLUDE, S_NONE, ALL, NULL, 0, 0},
    {"ipqos", K_IPQOS, S_ipqos, ALL, NULL, 0, 0},
    {"kbdinteractiveauthentication", K_FLAG, S_kbdinteractiveauthentication, ALL, flag_choices, 0,
     0},
    {"keepalive", K_FLAG, S_tcpkeepalive, GLOBAL, flag_choices, 0, 0},
    {"kerberosauthentication", K_FLAG, S_kerberosauthentication, ALL, flag_choices, 0, 0},
    {"kerberosgetafstoken", K_UNSUPPORTED, S_NONE, GLOBAL, NULL, 0, 0},
    {"kerberosorlocalpasswd", K_FLAG, S_kerberosorlocalpasswd, GLOBAL, flag_choices, 0, 0},
    {"kerberostgtpassing", K_UNSUPPORTED, S_NONE, GLOBAL, NULL, 0, 0},
    {"kerberosticketcleanup", K_FLAG, S_kerberosticketcleanup, GLOBAL, flag_choices, 0, 0},
    {"kexalgorithms", K_ALGOS, S_kexalgorithms, GLOBAL, NULL, 0, 0},
    {"keyregenerationinterval", K_DEPRECATED, S_NONE, GLOBAL, NULL, 0, 0},
    {"listenaddress", K_LISTEN, S_listenaddress, GLOBAL, NULL, 0, 0},
    {"logingracetime", K_TIME, S_logingracetime, GLOBAL, NULL, 0, 0},
    {"loglevel", K_LOGLEVEL, S_loglevel, ALL, NULL, 0, 0},
    {"logverbose", K_LOGVERBOSE, S_logverbose, ALL, NULL, 902, 0},
    {"macs", K_ALGOS, S_macs, GLOBAL, NULL, 0, 0},
    {"match", K_MATCH, S_NONE, ALL, NULL, 0, 0},
    {"maxauthtries", K_INT, S_maxauthtries, ALL, NULL, 0, 0},
    {"maxsessions", K_INT, S_maxsessions, ALL, NULL, 0, 0},
    {"maxstartups", K_MAXSTARTUPS, S_maxstartups, GLOBAL, NULL, 0, 0},
    {"modulifile", K_PATH, S_modulifile, GLOBAL, NULL, 902, 0},
    {"pamauthenticationviakbdint", K_DEPRECATED, S_NONE, GLOBAL, NULL, 0, 0},
    {"pamservicename", K_STRING, S_pamservicename, ALL, NULL, 1000, 0},
    {"passwordauthentication", K_FLAG, S_passwordauthentication, ALL, flag_choices, 0, 0},
    {"permitblacklistedkeys", K_DEPRECATED, S_NONE, GLOBAL, NULL, 0, 0},
    {"permitemptypasswords", K_FLAG, S_permitemptypasswords, ALL, flag_choices, 0, 0},
    {"permitlisten", K_PERMITLISTEN, S_permitlisten, ALL, NULL, 0, 0},
    {"permitopen", K_PERMITOPEN, S_permitopen, ALL, NULL, 0, 0},
    {"permitrootlogin", K_MULTI, S_permitrootlogin, ALL, rootlogin_choices, 0, 0},
    {"permittty", K_FLAG, S_permittty, ALL, flag_choices, 0, 0},
    {"permittunnel", K_TUNNEL, S_permittunnel, ALL, NULL, 0, 0},
    {"permituserenvironment", K_PERMITUSERENV, S_permituserenvironment, GLOBAL, NULL, 0, 0},
    {"permituserrc", K_FLAG, S_permituserrc, ALL, flag_choices, 0, 0},
    {"persourcemaxstartups", K_PSMAXSTARTUPS, S_persourcemaxstartups, GLOBAL, NULL, 902, 0},
    {"persourcenetblocksize", K_NETBLOCK, S_persourcenetblocksize, GLOBAL, NULL, 902, 0},
    {"persourcepenalties", K_PENALTIES, S_persourcepenalties, GLOBAL, NULL, 1000, 0},
    {"persourcepenaltyexemptlist", K_EXEMPTLIST, S_persourcepenaltyexemptlist, GLOBAL, NULL, 1000,
     0},
    {"pidfile", K_PATH, S_pidfile, GLOBAL, NULL, 0, 0},
    {"port", K_PORT, S_port, GLOBAL, NULL, 0, 0},
    {"printlastlog", K_FLAG, S_printlastlog, GLOBAL, flag_choices, 0, 0},
    {"printmotd", K_FLAG, S_printmotd, GLOBAL, flag_choices, 0, 0},
    {"protocol", K_IGNORE, S_NONE, GLOBAL, NULL, 0, 0},
    {"pubkeyacceptedalgorithms", K_KEYALGOS, S_pubkeyacceptedalgorithms, ALL, NULL, 902, 0},
    {"pubkeyacceptedkeytypes", K_KEYALGOS, S_pubkeyacceptedalgorithms, ALL, NULL, 0, 0},
    {"pubkeyauthentication", K_FLAG, S_pubkeyauthentication, ALL, flag_choices, 0, 0},
    {"pubkeyauthoptions", K_PUBKEYOPTS, S_pubkeyauthoptions, ALL, NULL, 0, 0},
    {"rdomain", K_RDOMAIN, S_NONE, ALL, NULL, 0, 0},
    {"refuseconnection", K_FLAG, S_refuseconnection, ALL, flag_choices, 1000, 0},
    {"rekeylimit", K_REKEY, S_rekeylimit, ALL, NULL, 0, 0},
    {"requiredrsasize", K_INT, S_requiredrsasize, ALL, NULL, 902, 0},
    {"reversemappingcheck", K_DEPRECATED, S_NONE, GLOBAL, NULL, 0, 0},
    {"revokedkeys", K_PATH, S_revokedkeys, ALL, NULL, 0, 0},
    {"rhostsauthentication", K_DEPRECATED, S_NONE, GLOBAL, NULL, 0, 0},
    {"rhostsrsaauthentication", K_DEPRECATED, S_NONE, ALL, NULL, 0, 0},
    {"rsaauthentication", K_DEPRECATED, S_NONE, ALL, NULL, 0, 0},
    {"securitykeyprovider", K_SKPROVIDER, S_securitykeyprovider, GLOBAL, NULL, 0, 0},
    {"serverkeybits", K_DEPRECATED, S_NONE, GLOBAL, NULL, 0, 0},
    {"setenv", K_SETENV, S_setenv, ALL, NULL, 0, 0},
    {"skeyauthentication", K_FLAG, S_kbdinteractiveauthentication, ALL, flag_choices, 0, 0},
    {"sshdauthpath", K_PATH, S_sshdauthpath, GLOBAL, NULL, 1000, 0},
    {"sshdsessionpath", K_PATH, S_sshdsessionpath, GLOBAL, NULL, 1000, 0},
    {"streamlocalbindmask", K_BINDMASK, S_streamlocalbindmask, ALL, NULL, 0, 0},
    {"streamlocalbindunlink", K_FLAG, S_streamlocalbindunlink, ALL, flag_choices, 0, 0},
    {"strictmodes", K_FLAG, S_strictmodes, GLOBAL, flag_choices, 0, 0},
    {"subsystem", K_SUBSYSTEM, S_subsystem, GLOBAL, NULL, 0, 0},
    {"syslogfacility", K_FACILITY, S_syslogfacility, GLOBAL, NULL, 0, 0},
    {"tcpkeepalive", K_FLAG, S_tcpkeepalive, GLOBAL, flag_choices, 0, 0},
    {"trustedusercakeys", K_PATH, S_trustedusercakeys, ALL, NULL, 0, 0},
    {"unusedconnectiontimeout", K_UNUSEDTIMEOUT, S_unusedconnectiontimeout, ALL, NULL, 902, 0},
    {"usedns", K_FLAG, S_usedns, GLOBAL, flag_choices, 0, 0},
    {"uselogin", K_DEPRECATED, S_NONE, GLOBAL, NULL, 0, 0},
    {"usepam", K_FLAG, S_usepam, GLOBAL, flag_choices, 0, 0},
    {"useprivilegeseparation", K_DEPRECATED, S_NONE, GLOBAL, NULL, 0, 0},
    {"verifyreversemapping", K_DEPRECATED, S_NONE, GLOBAL, NULL, 0, 0},
    {"versionaddendum", K_VERSIONADDENDUM, S_versionaddendum, GLOBAL, NULL, 0, 0},
    {"x11displayoffset", K_INT, S_x11displayoffset, ALL, NULL, 0, 0},
    {"x11forwarding", K_FLAG, S_x11forwarding, ALL, flag_choices, 0, 0},
    {"x11uselocalhost", K_FLAG, S_x11uselocalhost, ALL, flag_choices, 0, 0},
    {"xauthlocation", K_PATH, S_xauthlocation, GLOBAL, NULL, 0, 0},
};

/* ---- parse state ---------------------------------------------------------------------- */

struct value {
    char *text;
    const char *file; /* interned in struct parse's files */
    long line;
};

/* The values of one printed keyword; scalars have one. */
struct setting {
    struct value *v;
    size_t n;
};

struct queued_listen {
    char *addr; /* NULL: any address */
    int port;   /* 0: every Port */
    const char *file;
    long line;
};

/* One set of options being filled (sshd's ServerOptions). */
struct options {
    struct setting s[S_COUNT];
    struct queued_listen *listens;
    size_t n_listens;
    /* keywords whose parts sshd keeps apart */
    bool rekey_limit_set, rekey_interval_set;
    long long rekey_limit;
    int rekey_interval;
    const char *rekey_file;
    long rekey_line;
    /* PerSourcePenalties (OpenSSH 10): each part first-wins, -1 unset */
    int penalty[11];
    int penalties_enabled;
    const char *penalty_file;
    long penalty_line;
};

/* The account data Match Group needs, from the scanned root. */
struct accounts {
    char *passwd, *group; /* file contents, NULL when unreadable */
    bool loaded;
};

struct parse {
    struct pst_fs *fs;
    const struct profile *profile;
    const char *release;              /* "OpenSSH_10.0p2 Debian-7", for Match Version */
    const struct pst_sshd_conn *conn; /* the match pass's connection, NULL in the first */
    struct pst_sshd_conn none;        /* sshd -T's connection when -C is not given */
    json_t *files;                    /* interned file names (a JSON array keeps them) */
    json_t *contents;                 /* path -> text read, for the second pass (as sshd) */
    json_t *globs;                    /* include pattern -> its matches, likewise */
    json_t *match_settings;           /* what Match blocks set, see pst_sshd_config */
    char block[256];                  /* the current Match block's criteria (first pass) */
    char block_source[PATH_MAX + 32];
    json_t *notes;
    struct accounts accounts;
    size_t files_read, bytes_read;
    const char *stack[PST_SSHD_MAX_DEPTH + 2]; /* files being parsed, for loop reports */
    int depth;
    char *why;
    size_t why_n;
    const char *file; /* current position */
    long line;
};

static long convtime_of(const char *s, bool strict);

static long convtime(const struct parse *p, const char *s)
{
    return convtime_of(s, p->profile->number >= 1000);
}

static const char *intern(struct parse *p, const char *file)
{
    size_t i;
    json_t *v;
    json_array_foreach(p->files, i, v)
    {
        if (strcmp(json_string_value(v), file) == 0) {
            return json_string_value(v);
        }
    }
    /* a name of the scanned system, kept as its bytes; reported through pst_json_text */
    if (json_array_append_new(p->files, json_string_nocheck(file)) != 0) {
        return NULL;
    }
    return json_string_value(json_array_get(p->files, json_array_size(p->files) - 1));
}

/* Records why sshd would refuse the configuration; returns PST_EPARSE. */
__attribute__((format(printf, 2, 3))) static int refuse(struct parse *p, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (p->file != NULL) {
        snprintf(p->why, p->why_n, "%s:%ld: %s", p->file, p->line, msg);
    } else {
        snprintf(p->why, p->why_n, "%s", msg);
    }
    return PST_EPARSE;
}

__attribute__((format(printf, 2, 3))) static int note(struct parse *p, const char *fmt, ...)
{
    char msg[512], where[PATH_MAX + 32];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(where, sizeof where, "%s:%ld", p->file != NULL ? p->file : "", p->line);
    json_t *n =
        json_pack("{s:o, s:o}", "source", pst_json_text(where), "message", pst_json_text(msg));
    if (n == NULL || json_array_append_new(p->notes, n) != 0) {
        return PST_ENOMEM;
    }
    return 0;
}

static void setting_clear(struct setting *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].text);
    }
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

static void options_release(struct options *o)
{
    for (int i = 0; i < S_COUNT; i++) {
        setting_clear(&o->s[i]);
    }
    for (size_t i = 0; i < o->n_listens; i++) {
        free(o->listens[i].addr);
    }
    free(o->listens);
    memset(o, 0, sizeof *o);
}

/* Appends TEXT (copied) to setting SLOT, from the current position. */
static int add_value(struct parse *p, struct options *o, int slot, const char *text)
{
    struct setting *s = &o->s[slot];
    struct value *grown = realloc(s->v, (s->n + 1) * sizeof *grown);
    if (grown == NULL) {
        return PST_ENOMEM;
    }
    s->v = grown;
    s->v[s->n].text = strdup(text);
    if (s->v[s->n].text == NULL) {
        return PST_ENOMEM;
    }
    s->v[s->n].file = p->file;
    s->v[s->n].line = p->line;
    s->n++;
    return 0;
}

/* Sets scalar SLOT to TEXT unless a value was obtained already (sshd's first-wins rule). */
static int set_first(struct parse *p, struct options *o, int slot, const char *text, bool active)
{
    if (!active || o->s[slot].n > 0) {
        return 0;
    }
    return add_value(p, o, slot, text);
}

/* Replaces scalar SLOT with TEXT: the keywords for which the last value wins. */
static int set_last(struct parse *p, struct options *o, int slot, const char *text, bool active)
{
    if (!active) {
        return 0;
    }
    setting_clear(&o->s[slot]);
    return add_value(p, o, slot, text);
}

/* ---- sshd's tokenising (misc.c strdelim and argv_split) -------------------------------- */

#define WHITESPACE " \t\r\n"

/* strdelim(): the next word of *S, splitting at whitespace, a quote or (EQUALS) one '='. */
static char *next_word_split(char **s, bool equals)
{
    char *old = *s;
    bool wspace = false;
    if (*s == NULL) {
        return NULL;
    }
    *s = strpbrk(*s, equals ? WHITESPACE "\"=" : WHITESPACE "\"");
    if (*s == NULL) {
        return old;
    }
    if (**s == '"') {
        memmove(*s, *s + 1, strlen(*s));
        *s = strpbrk(*s, "\"");
        if (*s == NULL) {
            return NULL; /* no closing quote */
        }
        **s = '\0';
        *s += strspn(*s + 1, WHITESPACE) + 1;
        return old;
    }
    if (**s == '=') {
        wspace = true;
    }
    **s = '\0';
    *s += strspn(*s + 1, WHITESPACE) + 1;
    if (equals && **s == '=' && !wspace) {
        *s += strspn(*s + 1, WHITESPACE) + 1;
    }
    return old;
}

static char *next_word(char **s)
{
    return next_word_split(s, true);
}

struct args {
    char **v;
    int n, next;
};

static void args_release(struct args *a)
{
    for (int i = 0; i < a->n; i++) {
        free(a->v[i]);
    }
    free(a->v);
    memset(a, 0, sizeof *a);
}

/* argv_split() with comments ending the line. Returns 0, PST_EPARSE (open quote), ENOMEM. */
static int split_args(const char *s, struct args *a)
{
    memset(a, 0, sizeof *a);
    for (size_t i = 0; s[i] != '\0'; i++) {
        if (s[i] == ' ' || s[i] == '\t') {
            continue;
        }
        if (s[i] == '#') {
            break;
        }
        char **grown = realloc(a->v, (size_t)(a->n + 1) * sizeof *grown);
        char *arg = malloc(strlen(s + i) + 1);
        if (grown == NULL || arg == NULL) {
            free(arg);
            if (grown != NULL) {
                a->v = grown;
            }
            return PST_ENOMEM;
        }
        a->v = grown;
        a->v[a->n++] = arg;
        char quote = 0;
        size_t j = 0;
        for (; s[i] != '\0'; i++) {
            if (s[i] == '\\') {
                if (s[i + 1] == '\'' || s[i + 1] == '"' || s[i + 1] == '\\' ||
                    (quote == 0 && s[i + 1] == ' ')) {
                    i++;
                }
                arg[j++] = s[i];
            } else if (quote == 0 && (s[i] == ' ' || s[i] == '\t')) {
                break;
            } else if (quote == 0 && (s[i] == '"' || s[i] == '\'')) {
                quote = s[i];
            } else if (quote != 0 && s[i] == quote) {
                quote = 0;
            } else {
                arg[j++] = s[i];
            }
        }
        arg[j] = '\0';
        if (s[i] == '\0') {
            if (quote != 0) {
                return PST_EPARSE;
            }
            break;
        }
    }
    return 0;
}

/*
 * OpenSSH 8.4 split every argument with strdelim(): blanks, one '=' (not for SetEnv, which
 * used strdelimw()), double quotes only.
 */
static int split_words(const char *s, struct args *a, bool equals)
{
    char *copy = strdup(s), *cursor = copy, *word;
    memset(a, 0, sizeof *a);
    if (copy == NULL) {
        return PST_ENOMEM;
    }
    while ((word = next_word_split(&cursor, equals)) != NULL && (*word != '\0' || cursor != NULL)) {
        char **grown = realloc(a->v, (size_t)(a->n + 1) * sizeof *grown);
        if (grown == NULL) {
            free(copy);
            return PST_ENOMEM;
        }
        a->v = grown;
        if ((a->v[a->n] = strdup(word)) == NULL) {
            free(copy);
            return PST_ENOMEM;
        }
        a->n++;
    }
    /* an unclosed quote ends the words with NULL while text remains */
    int rc = word == NULL && cursor != NULL ? PST_EPARSE : 0;
    free(copy);
    return rc;
}

static const char *arg_next(struct args *a)
{
    return a->next < a->n ? a->v[a->next++] : NULL;
}

static void args_consume(struct args *a)
{
    a->next = a->n;
}

/* ---- value syntax (misc.c) ------------------------------------------------------------ */

/* convtime(): "1h30m" -> seconds, or -1. STRICT (OpenSSH 10): digits only, no sign or blank. */
static long convtime_of(const char *s, bool strict)
{
    long total = 0;
    if (s == NULL || *s == '\0') {
        return -1;
    }
    while (*s != '\0') {
        if (strict && !isdigit((unsigned char)*s)) {
            return -1;
        }
        char *end;
        errno = 0;
        long secs = strtol(s, &end, 10);
        if (end == s || (errno == ERANGE && (secs == LONG_MIN || secs == LONG_MAX)) || secs < 0) {
            return -1;
        }
        long mult = 1;
        switch (*end) {
        case '\0':
            break;
        case 's':
        case 'S':
            end++;
            break;
        case 'm':
        case 'M':
            mult = 60;
            end++;
            break;
        case 'h':
        case 'H':
            mult = 3600;
            end++;
            break;
        case 'd':
        case 'D':
            mult = 86400;
            end++;
            break;
        case 'w':
        case 'W':
            mult = 604800;
            end++;
            break;
        default:
            return -1;
        }
        if (secs > INT_MAX / mult) {
            return -1;
        }
        secs *= mult;
        if (total > INT_MAX - secs) {
            return -1;
        }
        total += secs;
        s = end;
    }
    return total;
}

/* strtonum(s, min, max): 0 with *out, or -1. */
static int to_number(const char *s, long long min, long long max, long long *out)
{
    char *end;
    if (s == NULL || *s == '\0') {
        return -1;
    }
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end != '\0' || errno != 0 || v < min || v > max) {
        return -1;
    }
    *out = v;
    return 0;
}

/* a2port(): a port number or a service name, -1 when neither, 0 for "0". */
static int to_port(const char *s)
{
    long long v;
    if (to_number(s, 0, 65535, &v) == 0) {
        return (int)v;
    }
    struct servent se, *res = NULL;
    char buf[1024];
    if (getservbyname_r(s, "tcp", &se, buf, sizeof buf, &res) == 0 && res != NULL) {
        return ntohs((uint16_t)res->s_port);
    }
    return -1;
}

/* scan_scaled(): "1G", "1.5M", "512" -> bytes; 0 or -1. */
static int scan_scaled(const char *s, long long *out)
{
    static const char units[] = "BKMGTPE";
    long long whole = 0, fract = 0, fdiv = 1;
    const char *p = s;
    bool dot = false, digits = false;
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    if (*p == '-' || *p == '+') {
        return -1; /* sshd takes no sign here that matters: a negative limit is refused */
    }
    for (; isdigit((unsigned char)*p) || *p == '.'; p++) {
        if (*p == '.') {
            if (dot) {
                return -1;
            }
            dot = true;
            continue;
        }
        digits = true;
        int d = *p - '0';
        if (dot) {
            if (fdiv < 1000000000000LL) {
                fract = fract * 10 + d;
                fdiv *= 10;
            }
        } else {
            if (whole > (LLONG_MAX - d) / 10) {
                return -1;
            }
            whole = whole * 10 + d;
        }
    }
    if (!digits) {
        return -1;
    }
    if (*p == '\0') {
        *out = whole;
        return 0;
    }
    const char *u = strchr(units, toupper((unsigned char)*p));
    if (u == NULL || *u == '\0' || isalnum((unsigned char)p[1])) {
        return -1;
    }
    long long scale = 1;
    for (long i = 0; i < u - units; i++) {
        scale *= 1024;
    }
    if (whole > LLONG_MAX / scale) {
        return -1;
    }
    *out = whole * scale + (fract * scale) / fdiv;
    return 0;
}

/* sshd's IPQoS names, in its table's order (the first name of a value is the one printed). */
static const struct {
    const char *name;
    int value;
} ipqos_names[] = {
    {"none", INT_MAX},     {"af11", 0x28}, {"af12", 0x30}, {"af13", 0x38},     {"af21", 0x48},
    {"af22", 0x50},        {"af23", 0x58}, {"af31", 0x68}, {"af32", 0x70},     {"af33", 0x78},
    {"af41", 0x88},        {"af42", 0x90}, {"af43", 0x98}, {"cs0", 0x00},      {"cs1", 0x20},
    {"cs2", 0x40},         {"cs3", 0x60},  {"cs4", 0x80},  {"cs5", 0xa0},      {"cs6", 0xc0},
    {"cs7", 0xe0},         {"ef", 0xb8},   {"le", 0x04},   {"lowdelay", 0x10}, {"throughput", 0x08},
    {"reliability", 0x04},
};

/* The old ToS names (lowdelay, throughput, reliability), which OpenSSH 10 turns into none. */
static bool ipqos_tos_name(size_t i)
{
    return ipqos_names[i].value == 0x10 || ipqos_names[i].value == 0x08 ||
           strcmp(ipqos_names[i].name, "reliability") == 0;
}

/* parse_ipqos(); MODERN (OpenSSH 10): ToS names mean none, numbers are decimal. */
static int parse_ipqos(const char *s, bool modern)
{
    for (size_t i = 0; i < PST_COUNT(ipqos_names); i++) {
        if (strcasecmp(s, ipqos_names[i].name) == 0) {
            return modern && ipqos_tos_name(i) ? INT_MAX : ipqos_names[i].value;
        }
    }
    if (modern) {
        long long d;
        return to_number(s, 0, 255, &d) == 0 ? (int)d : -1;
    }
    char *end;
    long v = strtol(s, &end, 0);
    if (*s == '\0' || *end != '\0' || v < 0 || v > 255) {
        return -1;
    }
    return (int)v;
}

static void format_ipqos(int v, bool modern, char *buf, size_t n)
{
    for (size_t i = 0; i < PST_COUNT(ipqos_names); i++) {
        if (ipqos_names[i].value == v && !(modern && ipqos_tos_name(i))) {
            snprintf(buf, n, "%s", ipqos_names[i].name);
            return;
        }
    }
    snprintf(buf, n, "0x%02x", (unsigned)v);
}

static const char *const log_levels[][2] = {
    /* name accepted, name printed for its level */
    {"SILENT", "SILENT"}, {"QUIET", "SILENT"},    {"FATAL", "FATAL"},  {"ERROR", "ERROR"},
    {"INFO", "INFO"},     {"VERBOSE", "VERBOSE"}, {"DEBUG", "DEBUG1"}, {"DEBUG1", "DEBUG1"},
    {"DEBUG2", "DEBUG2"}, {"DEBUG3", "DEBUG3"},
};

static const char *const facilities[] = {"DAEMON", "USER",   "AUTH",   "AUTHPRIV",
                                         "LOCAL0", "LOCAL1", "LOCAL2", "LOCAL3",
                                         "LOCAL4", "LOCAL5", "LOCAL6", "LOCAL7"};

/* ---- pattern lists (match.c, addrmatch.c) --------------------------------------------- */

/* match_pattern(): '*' and '?' wildcards. */
static bool match_pattern(const char *s, const char *pattern)
{
    for (;;) {
        if (*pattern == '\0') {
            return *s == '\0';
        }
        if (*pattern == '*') {
            while (*pattern == '*') {
                pattern++;
            }
            if (*pattern == '\0') {
                return true;
            }
            for (; *s != '\0'; s++) {
                if ((*pattern == '?' || *s == *pattern) && match_pattern(s + 1, pattern + 1)) {
                    return true;
                }
            }
            return false;
        }
        if (*s == '\0' || (*pattern != '?' && *pattern != *s)) {
            return false;
        }
        s++;
        pattern++;
    }
}

/* match_pattern_list(): 1 on a positive match, -1 on a negated one (which wins), else 0. */
static int match_list(const char *s, const char *list, bool lower)
{
    int found = 0;
    const char *p = list;
    while (*p != '\0') {
        bool negated = *p == '!';
        if (negated) {
            p++;
        }
        char sub[1024];
        size_t n = 0;
        while (*p != '\0' && *p != ',' && n < sizeof sub - 1) {
            sub[n++] = lower ? (char)tolower((unsigned char)*p) : *p;
            p++;
        }
        if (n >= sizeof sub - 1) {
            return 0;
        }
        sub[n] = '\0';
        if (*p == ',') {
            p++;
        }
        if (match_pattern(s, sub)) {
            if (negated) {
                return -1;
            }
            found = 1;
        }
    }
    return found;
}

struct xaddr {
    int family;
    unsigned char a[16];
};

static bool parse_addr(const char *s, struct xaddr *x)
{
    memset(x, 0, sizeof *x);
    struct in_addr v4;
    if (inet_pton(AF_INET6, s, x->a) == 1) {
        x->family = AF_INET6;
        return true;
    }
    /* getaddrinfo(AI_NUMERICHOST) takes the inet_aton forms too ("10.1") */
    if (inet_aton(s, &v4) == 1) {
        x->family = AF_INET;
        memcpy(x->a, &v4, 4);
        return true;
    }
    return false;
}

/* addr_pton_cidr(): 0 parsed, -1 not an address, -2 host bits set beyond the mask. */
static int parse_cidr(const char *s, struct xaddr *x, unsigned *masklen)
{
    char buf[128];
    if (strlen(s) >= sizeof buf) {
        return -1;
    }
    snprintf(buf, sizeof buf, "%s", s);
    char *slash = strchr(buf, '/');
    long long len = -1;
    if (slash != NULL) {
        *slash = '\0';
        if (to_number(slash + 1, 0, 128, &len) != 0) {
            return -1;
        }
    }
    if (!parse_addr(buf, x)) {
        return -1;
    }
    unsigned max = x->family == AF_INET ? 32 : 128;
    if (len < 0) {
        len = max;
    } else if ((unsigned)len > max) {
        return -1;
    }
    for (unsigned bit = (unsigned)len; bit < max; bit++) {
        if (x->a[bit / 8] & (0x80 >> (bit % 8))) {
            return -2;
        }
    }
    *masklen = (unsigned)len;
    return 0;
}

static bool net_match(const struct xaddr *host, const struct xaddr *net, unsigned masklen)
{
    if (host->family != net->family) {
        return false;
    }
    for (unsigned bit = 0; bit < masklen; bit++) {
        unsigned char m = (unsigned char)(0x80 >> (bit % 8));
        if ((host->a[bit / 8] & m) != (net->a[bit / 8] & m)) {
            return false;
        }
    }
    return true;
}

/* addr_match_list(): 1 match, 0 none, -1 negated match, -2 invalid list. ADDR may be NULL. */
static int match_addr_list(const char *addr, const char *list)
{
    struct xaddr try;
    if (addr != NULL && !parse_addr(addr, &try)) {
        return 0;
    }
    char *copy = strdup(list), *cursor = copy, *cp;
    int ret = 0;
    if (copy == NULL) {
        return -1;
    }
    while ((cp = strsep(&cursor, ",")) != NULL) {
        bool neg = *cp == '!';
        if (neg) {
            cp++;
        }
        if (*cp == '\0') {
            ret = -2;
            break;
        }
        struct xaddr net;
        unsigned masklen;
        int r = parse_cidr(cp, &net, &masklen);
        bool hit;
        if (r == -2) {
            ret = -2;
            break;
        } else if (r == 0) {
            hit = addr != NULL && net_match(&try, &net, masklen);
        } else {
            hit = addr != NULL && match_pattern(addr, cp);
        }
        if (hit) {
            if (neg) {
                ret = -1;
                break;
            }
            ret = 1;
        }
    }
    free(copy);
    return ret;
}

/* ---- algorithm lists (kex.c kex_assemble_names, match.c filter_list) ------------------- */

static bool list_has(const char *list, const char *name, size_t len)
{
    const char *p = list;
    while (p != NULL && *p != '\0') {
        const char *comma = strchr(p, ',');
        size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);
        if (n == len && strncmp(p, name, len) == 0) {
            return true;
        }
        p = comma != NULL ? comma + 1 : NULL;
    }
    return false;
}

/* A growing comma-separated list. */
struct names {
    char *s;
    size_t len, cap;
};

static int names_add(struct names *out, const char *name, size_t len)
{
    if (out->s != NULL && list_has(out->s, name, len)) {
        return 0;
    }
    if (out->len + len + 2 > out->cap) {
        size_t cap = (out->len + len + 2) * 2;
        char *grown = realloc(out->s, cap);
        if (grown == NULL) {
            return PST_ENOMEM;
        }
        out->s = grown;
        out->cap = cap;
    }
    if (out->len > 0) {
        out->s[out->len++] = ',';
    }
    memcpy(out->s + out->len, name, len);
    out->len += len;
    out->s[out->len] = '\0';
    return 0;
}

/* Appends the names of PROPOSAL that FILTER (a pattern list) keeps, or drops when DENY. */
static int names_filter(struct names *out, const char *proposal, const char *filter, bool deny)
{
    const char *p = proposal;
    while (*p != '\0') {
        const char *comma = strchr(p, ',');
        size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);
        char name[256];
        if (n < sizeof name) {
            memcpy(name, p, n);
            name[n] = '\0';
            int r = match_list(name, filter, false);
            if ((deny && r != 1) || (!deny && r == 1)) {
                if (names_add(out, name, n) != 0) {
                    return PST_ENOMEM;
                }
            }
        }
        if (comma == NULL) {
            break;
        }
        p = comma + 1;
    }
    return 0;
}

/* kex_assemble_names(): SPEC (NULL = default) against DEF and ALL. 0, -1 empty/invalid. */
static int assemble(const char *spec, const char *def, const char *all, char **out)
{
    struct names res = {0};
    struct names list = {0};
    int rc = 0;
    *out = NULL;
    if (spec == NULL || *spec == '\0') {
        *out = strdup(def);
        return *out != NULL ? 0 : PST_ENOMEM;
    }
    if (*spec == '-') {
        rc = names_filter(&res, def, spec + 1, true);
        if (rc == 0) {
            *out = res.s != NULL ? res.s : strdup("");
            res.s = NULL;
            rc = *out != NULL ? 0 : PST_ENOMEM;
        }
        goto out;
    }
    const char *first = *spec == '+' ? def : spec + (*spec == '^');
    const char *second = *spec == '+' ? spec + 1 : *spec == '^' ? def : NULL;
    const char *parts[] = {first, second};
    for (size_t i = 0; i < 2 && rc == 0; i++) {
        const char *p = parts[i];
        while (p != NULL && *p != '\0') {
            const char *comma = strchr(p, ',');
            size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);
            if ((rc = names_add(&list, p, n)) != 0) {
                goto out;
            }
            p = comma != NULL ? comma + 1 : NULL;
        }
    }
    /* each name of the list is a pattern over ALL, expanded in ALL's order */
    char *copy = list.s != NULL ? strdup(list.s) : NULL;
    char *cursor = copy, *cp;
    if (list.s != NULL && copy == NULL) {
        rc = PST_ENOMEM;
        goto out;
    }
    while (copy != NULL && (cp = strsep(&cursor, ",")) != NULL) {
        if (*cp == '!') {
            rc = -1;
            break;
        }
        if ((rc = names_filter(&res, all, cp, false)) != 0) {
            break;
        }
    }
    free(copy);
    if (rc == 0 && (res.s == NULL || *res.s == '\0')) {
        rc = -1;
    }
    if (rc == 0) {
        *out = res.s;
        res.s = NULL;
    }
out:
    free(res.s);
    free(list.s);
    return rc;
}

/* Whether every name of LIST is one of ALL (exact: ciphers_valid, mac_valid...). */
static bool names_valid(const char *list, const char *all, bool wildcards)
{
    const char *p = list;
    if (*p == '\0') {
        return false;
    }
    /* like sshd's strsep() loops, the check stops at the first empty name */
    while (p != NULL && *p != '\0' && *p != ',') {
        const char *comma = strchr(p, ',');
        size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);
        char name[256];
        if (n >= sizeof name) {
            return false;
        }
        memcpy(name, p, n);
        name[n] = '\0';
        if (wildcards) {
            struct names m = {0};
            const char *pat = name[0] == '!' ? name + 1 : name;
            bool ok = names_filter(&m, all, pat, false) == 0 && m.s != NULL;
            free(m.s);
            if (!ok) {
                return false;
            }
        } else if (!list_has(all, name, n)) {
            return false;
        }
        p = comma != NULL ? comma + 1 : NULL;
    }
    return true;
}

static const char gss_kex_names[] =
    "gss-gex-sha1-,gss-group1-sha1-,gss-group14-sha1-,gss-group14-sha256-,gss-group16-sha512-,"
    "gss-nistp256-sha256-,gss-curve25519-sha256-";

/* ---- accounts for Match Group ---------------------------------------------------------- */

/* Finds field FIELD (0-based) of the ':' line of FILE whose field 0 is NAME. */
static bool account_field(const char *file, const char *name, int field, char *out, size_t n)
{
    size_t len = strlen(name);
    for (const char *line = file; line != NULL && *line != '\0';) {
        const char *end = strchr(line, '\n');
        size_t linelen = end != NULL ? (size_t)(end - line) : strlen(line);
        if (linelen > len && strncmp(line, name, len) == 0 && line[len] == ':') {
            const char *f = line;
            for (int i = 0; i < field && f != NULL; i++) {
                f = memchr(f, ':', linelen - (size_t)(f - line));
                f = f != NULL ? f + 1 : NULL;
            }
            if (f == NULL) {
                return false;
            }
            const char *fend = memchr(f, ':', linelen - (size_t)(f - line));
            size_t flen = fend != NULL ? (size_t)(fend - f) : linelen - (size_t)(f - line);
            if (flen >= n) {
                return false;
            }
            memcpy(out, f, flen);
            out[flen] = '\0';
            return true;
        }
        line = end != NULL ? end + 1 : NULL;
    }
    return false;
}

static void accounts_load(struct parse *p)
{
    size_t len;
    if (p->accounts.loaded) {
        return;
    }
    p->accounts.loaded = true;
    if (pst_fs_read(p->fs, "/etc/passwd", 8u << 20, true, &p->accounts.passwd, &len) != 0) {
        p->accounts.passwd = NULL;
    }
    if (pst_fs_read(p->fs, "/etc/group", 8u << 20, true, &p->accounts.group, &len) != 0) {
        p->accounts.group = NULL;
    }
}

/* ga_match_pattern_list(): whether USER's groups match LIST (a negated match wins). */
static bool user_in_groups(struct parse *p, const char *user, const char *list)
{
    char gid[32], buf[256];
    accounts_load(p);
    if (p->accounts.passwd == NULL || p->accounts.group == NULL ||
        !account_field(p->accounts.passwd, user, 3, gid, sizeof gid)) {
        return false;
    }
    bool found = false;
    for (const char *line = p->accounts.group; line != NULL && *line != '\0';) {
        const char *end = strchr(line, '\n');
        size_t linelen = end != NULL ? (size_t)(end - line) : strlen(line);
        if (linelen < sizeof buf) {
            memcpy(buf, line, linelen);
            buf[linelen] = '\0';
            char *f[4] = {buf, NULL, NULL, NULL};
            for (int i = 1; i < 4 && f[i - 1] != NULL; i++) {
                char *c = strchr(f[i - 1], ':');
                if (c != NULL) {
                    *c = '\0';
                    f[i] = c + 1;
                }
            }
            bool member = f[2] != NULL && strcmp(f[2], gid) == 0;
            for (char *m = f[3], *save = NULL, *tok; !member && m != NULL;) {
                tok = strtok_r(m, ",", &save);
                m = NULL;
                while (tok != NULL && !member) {
                    member = strcmp(tok, user) == 0;
                    tok = strtok_r(NULL, ",", &save);
                }
            }
            if (member && f[1] != NULL) {
                int r = match_list(buf, list, false);
                if (r == -1) {
                    return false;
                }
                found = found || r == 1;
            }
        }
        line = end != NULL ? end + 1 : NULL;
    }
    return found;
}

/* ---- Match ---------------------------------------------------------------------------- */

/*
 * match_cfg_line(): evaluates the criteria in *LINE for CONN (NULL: the first pass, where
 * only "all" matches). Returns 1, 0, or PST_EPARSE when sshd would refuse the line.
 */
static int match_line(struct parse *p, char **line, const struct pst_sshd_conn *conn)
{
    int result = 1, attributes = 0;
    char *cp = *line, *attrib;
    while ((attrib = next_word(&cp)) != NULL && *attrib != '\0') {
        if (*attrib == '#') {
            cp = NULL;
            break;
        }
        char *arg = NULL;
        attributes++;
        bool modern = p->profile->number >= 1000;
        char *eq = modern ? strchr(attrib, '=') : NULL;
        if (eq != NULL) {
            *eq = '\0'; /* 10.0 also takes criterion=argument */
        }
        if (modern && strcasecmp(attrib, "invalid-user") == 0 && eq == NULL) {
            if (conn == NULL || !conn->invalid_user) {
                result = 0;
            }
            continue;
        }
        if (strcasecmp(attrib, "all") == 0) {
            if (attributes > 1 || ((arg = next_word(&cp)) != NULL && *arg != '\0' && *arg != '#')) {
                return refuse(p, "'all' cannot be combined with other Match attributes");
            }
            if (arg != NULL && *arg == '#') {
                cp = NULL;
            }
            *line = cp;
            return 1;
        }
        if (eq != NULL) {
            arg = eq + 1;
        } else if ((arg = next_word(&cp)) == NULL || *arg == '\0' || *arg == '#') {
            return refuse(p, "Missing Match criteria for %s", attrib);
        }
        if (modern && strcasecmp(attrib, "version") == 0) {
            /* compared with sshd's own release, with or without a connection */
            if (p->release == NULL || match_list(p->release, arg, false) != 1) {
                result = 0;
            }
            continue;
        }
        if (strcasecmp(attrib, "user") == 0 || strcasecmp(attrib, "group") == 0) {
            bool group = strcasecmp(attrib, "group") == 0;
            if (conn == NULL || conn->user == NULL) {
                result = 0;
                continue;
            }
            if (group ? !user_in_groups(p, conn->user, arg)
                      : match_list(conn->user, arg, false) != 1) {
                result = 0;
            }
        } else if (strcasecmp(attrib, "host") == 0) {
            if (conn == NULL || conn->host == NULL) {
                result = 0;
                continue;
            }
            char host[NI_MAXHOST];
            snprintf(host, sizeof host, "%s", conn->host);
            for (char *h = host; *h != '\0'; h++) {
                *h = (char)tolower((unsigned char)*h);
            }
            if (match_list(host, arg, true) != 1) {
                result = 0;
            }
        } else if (strcasecmp(attrib, "address") == 0 || strcasecmp(attrib, "localaddress") == 0) {
            bool local = strcasecmp(attrib, "localaddress") == 0;
            const char *addr = conn == NULL ? NULL : local ? conn->laddr : conn->addr;
            if (addr == NULL) {
                if (match_addr_list(NULL, arg) != 0) {
                    return refuse(p, "Invalid Match %s argument '%s'",
                                  local ? "localaddress" : "address", arg);
                }
                result = 0;
                continue;
            }
            int r = match_addr_list(addr, arg);
            if (r == -2) {
                return refuse(p, "Bad Match condition");
            }
            if (r != 1) {
                result = 0;
            }
        } else if (strcasecmp(attrib, "localport") == 0) {
            int port = to_port(arg);
            if (port <= 0) {
                return refuse(p, "Invalid LocalPort '%s' on Match line", arg);
            }
            if (conn == NULL) {
                result = 0;
                continue;
            }
            if (conn->lport == 0) {
                return refuse(p, "'Match LocalPort' in configuration but 'lport' not in "
                                 "connection test specification.");
            }
            if (port != conn->lport) {
                result = 0;
            }
        } else if (strcasecmp(attrib, "rdomain") == 0) {
            if (conn == NULL || conn->rdomain == NULL) {
                result = 0;
                continue;
            }
            if (match_list(conn->rdomain, arg, false) != 1) {
                result = 0;
            }
        } else {
            return refuse(p, "Unsupported Match attribute %s", attrib);
        }
    }
    if (attributes == 0) {
        return refuse(p, "One or more attributes required for Match");
    }
    *line = cp;
    return result;
}

/* ---- include globs inside the root ----------------------------------------------------- */

static bool has_magic(const char *s)
{
    return strpbrk(s, "*?[") != NULL;
}

static int glob_walk(struct parse *p, const char *dir, const char *rest, json_t *out)
{
    while (*rest == '/') {
        rest++;
    }
    if (*rest == '\0') {
        return json_array_append_new(out, json_string_nocheck(dir[0] != '\0' ? dir : "/")) == 0
                   ? 0
                   : PST_ENOMEM;
    }
    const char *slash = strchr(rest, '/');
    size_t n = slash != NULL ? (size_t)(slash - rest) : strlen(rest);
    char comp[NAME_MAX + 1];
    if (n > NAME_MAX) {
        return 0;
    }
    memcpy(comp, rest, n);
    comp[n] = '\0';
    const char *after = rest + n;
    char path[PATH_MAX];
    if (!has_magic(comp)) {
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, comp) >= sizeof path) {
            return 0;
        }
        struct stat st;
        if (pst_fs_stat(p->fs, path, *after == '\0' ? false : true, &st) != 0) {
            return 0; /* glob(3) skips what does not exist */
        }
        return glob_walk(p, path, after, out);
    }
    json_t *names = NULL;
    if (pst_fs_list(p->fs, dir[0] != '\0' ? dir : "/", &names) != 0) {
        return 0; /* glob(3) without GLOB_ERR skips unreadable directories */
    }
    size_t i;
    json_t *name;
    int rc = 0;
    json_array_foreach(names, i, name)
    {
        const char *s = json_string_value(name);
        if (fnmatch(comp, s, FNM_PERIOD) != 0) {
            continue;
        }
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, s) >= sizeof path) {
            continue;
        }
        if (*after != '\0') {
            struct stat st;
            if (pst_fs_stat(p->fs, path, true, &st) != 0 || !S_ISDIR(st.st_mode)) {
                continue;
            }
        }
        if ((rc = glob_walk(p, path, after, out)) != 0) {
            break;
        }
        if (json_array_size(out) > PST_SSHD_FILES_MAX) {
            break;
        }
    }
    json_decref(names);
    return rc;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

/* glob(3) of PATTERN (absolute) inside the root: matches sorted as glob sorts them. */
static int glob_root(struct parse *p, const char *pattern, json_t **out)
{
    json_t *cached = json_object_get(p->globs, pattern);
    if (cached != NULL) {
        *out = json_incref(cached);
        return 0;
    }
    *out = json_array();
    if (*out == NULL) {
        return PST_ENOMEM;
    }
    int rc = glob_walk(p, "", pattern, *out);
    if (rc != 0) {
        return rc;
    }
    size_t n = json_array_size(*out);
    if (n > PST_SSHD_FILES_MAX) {
        return refuse(p, "include \"%s\" matches more than %d files", pattern, PST_SSHD_FILES_MAX);
    }
    json_t **items = calloc(n + 1, sizeof *items);
    if (items == NULL) {
        return PST_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        items[i] = json_incref(json_array_get(*out, i));
    }
    qsort(items, n, sizeof *items, compare_strings);
    json_array_clear(*out);
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(*out, items[i]);
    }
    free(items);
    return json_object_set_nocheck(p->globs, pattern, *out) == 0 ? 0 : PST_ENOMEM;
}

/* ---- one line ------------------------------------------------------------------------- */

/* Flags of the file being parsed (servconf.c SSHCFG_NEVERMATCH and SSHCFG_MATCH_ONLY). */
#define NEVERMATCH 4u
#define MATCH_ONLY 8u

static int parse_file(struct parse *p, struct options *o, const char *path, unsigned flags,
                      bool *active);

static int keyword_compare(const void *name, const void *entry)
{
    return strcasecmp(name, ((const struct keyword *)entry)->name);
}

/* Keywords whose meaning changed: 8.4's own challenge-response option, 10.0's Subsystem. */
static const struct keyword challenge_84 = {"challengeresponseauthentication",
                                            K_FLAG,
                                            S_challengeresponseauthentication,
                                            GLOBAL,
                                            flag_choices,
                                            0,
                                            0};
static const struct keyword skey_84 = {
    "skeyauthentication", K_DEPRECATED, S_NONE, GLOBAL, NULL, 0, 0};
static const struct keyword subsystem_100 = {
    "subsystem", K_SUBSYSTEM, S_subsystem, ALL, NULL, 0, 0};

/* The keyword NAME (any case) as this version knows it, or NULL. */
static const struct keyword *keyword_find(const struct parse *p, const char *name)
{
    const struct keyword *k =
        bsearch(name, keywords, PST_COUNT(keywords), sizeof keywords[0], keyword_compare);
    if (k != NULL && p->profile->number < 807 && k->slot == S_kbdinteractiveauthentication &&
        strcmp(k->name, "kbdinteractiveauthentication") != 0) {
        k = strcmp(k->name, "skeyauthentication") == 0 ? &skey_84 : &challenge_84;
    }
    if (k != NULL && p->profile->number >= 1000 && k->kind == K_SUBSYSTEM) {
        k = &subsystem_100;
    }
    if (k == NULL || (k->since != 0 && p->profile->number < k->since) ||
        (k->until != 0 && p->profile->number > k->until)) {
        return NULL;
    }
    return k;
}

/* derelativise_path(): "none", absolute, "~/" of root, or relative to sshd's "/" cwd. */
static int absolute_path(const char *arg, char *out, size_t n)
{
    if (strcasecmp(arg, "none") == 0) {
        snprintf(out, n, "none");
    } else if (arg[0] == '/') {
        snprintf(out, n, "%s", arg);
    } else if (arg[0] == '~' && (arg[1] == '/' || arg[1] == '\0')) {
        snprintf(out, n, "/root%s", arg + 1);
    } else {
        snprintf(out, n, "//%s", arg);
    }
    return strlen(out) + 1 < n ? 0 : -1;
}

/*
 * Notes what a Match block sets (first pass: every block is inactive then, except
 * `Match all`), in sshd -T's printed form, for the keywords whose values are words or numbers.
 */
static int record_match_setting(struct parse *p, const struct keyword *kw, const char *arg)
{
    char printed[64];
    const char *value = NULL;
    if (kw->kind == K_FLAG || kw->kind == K_MULTI) {
        for (const struct choice *c = kw->choices; c->word != NULL && value == NULL; c++) {
            value = strcasecmp(arg, c->word) == 0 ? c->printed : NULL;
        }
    } else if (kw->kind == K_INT || kw->kind == K_TUNNEL) {
        value = arg;
    } else if (kw->kind == K_TIME) {
        snprintf(printed, sizeof printed, "%ld", convtime(p, arg));
        value = printed;
    }
    if (value == NULL) {
        return 0;
    }
    char source[PATH_MAX + 32];
    snprintf(source, sizeof source, "%s:%ld", p->file, p->line);
    json_t *item = json_pack("{s:o, s:o, s:s, s:o}", "match", pst_json_text(p->block), "source",
                             pst_json_text(source), "keyword", pst_sshd_keywords[kw->slot].name,
                             "value", pst_json_text(value));
    return item != NULL && json_array_append_new(p->match_settings, item) == 0 ? 0 : PST_ENOMEM;
}

static int set_int_first(struct parse *p, struct options *o, int slot, long v, bool active)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%ld", v);
    return set_first(p, o, slot, buf, active);
}

/* Adds each argument to array SLOT: accumulating keywords (AllowUsers, AcceptEnv...). */
static int add_all(struct parse *p, struct options *o, int slot, const char *arg, bool active)
{
    return active ? add_value(p, o, slot, arg) : 0;
}

/*
 * process_server_config_line_depth(): one line of FILE. ACTIVE says whether the line's block
 * applies; FLAGS are the file's include flags. Returns 0 or PST_EPARSE/PST_ENOMEM.
 */
static int parse_line(struct parse *p, struct options *o, char *line, unsigned *flags, bool *active)
{
    size_t len = strlen(line);
    struct args a = {0};
    int rc = 0;
    char value[PATH_MAX + 64];

    while (len > 0 && strchr(WHITESPACE "\f", line[len - 1]) != NULL) {
        line[--len] = '\0';
    }
    char *str = line;
    char *keyword = next_word(&str);
    if (keyword != NULL && *keyword == '\0') {
        keyword = next_word(&str);
    }
    if (keyword == NULL || *keyword == '\0' || *keyword == '#') {
        return 0;
    }
    if (str == NULL || *str == '\0') {
        return refuse(p, "no argument after keyword \"%s\"", keyword);
    }
    const struct keyword *kw = keyword_find(p, keyword);
    if (kw == NULL) {
        return refuse(p, "Bad configuration option: %s", keyword);
    }
    if ((rc = p->profile->number < 900 ? split_words(str, &a, kw->kind != K_SETENV)
                                       : split_args(str, &a)) != 0) {
        if (rc == PST_EPARSE) {
            rc = refuse(p, "invalid quotes");
        }
        goto out;
    }
    if (!*active && !(kw->flags & MATCH)) {
        if (p->conn == NULL) {
            rc = refuse(p, "Directive '%s' is not allowed within a Match block", keyword);
        }
        goto out; /* the match pass: a global directive, already processed */
    }
    const char *arg;
    long long num;
    switch (kw->kind) {
    case K_FLAG:
    case K_MULTI: {
        arg = arg_next(&a);
        if (arg == NULL || *arg == '\0') {
            rc = refuse(p, "missing argument.");
            goto out;
        }
        const struct choice *c = kw->choices;
        while (c->word != NULL && strcasecmp(arg, c->word) != 0) {
            c++;
        }
        if (c->word == NULL) {
            rc = refuse(p, "unsupported option \"%s\".", arg);
            goto out;
        }
        if (kw->slot != S_NONE) {
            rc = set_first(p, o, kw->slot, c->printed, *active);
        }
        break;
    }
    case K_INT:
        arg = arg_next(&a);
        if (to_number(arg, 0, INT_MAX, &num) != 0) {
            rc = refuse(p, "%s integer value %s.", keyword, arg == NULL ? "missing" : "invalid");
            goto out;
        }
        rc = set_int_first(p, o, kw->slot, (long)num, *active);
        break;
    case K_TIME:
        arg = arg_next(&a);
        if (arg == NULL || *arg == '\0') {
            rc = refuse(p, "missing time value.");
            goto out;
        }
        if ((num = convtime(p, arg)) < 0) {
            rc = refuse(p, "invalid time value.");
            goto out;
        }
        rc = set_int_first(p, o, kw->slot, (long)num, *active);
        break;
    case K_UNUSEDTIMEOUT:
        if (a.n > 0 && strcasecmp(a.v[0], "none") == 0) {
            arg_next(&a);
            rc = set_first(p, o, kw->slot, "none", *active);
            break;
        }
        arg = arg_next(&a);
        if (arg == NULL || *arg == '\0' || (num = convtime(p, arg)) < 0) {
            rc = refuse(p, arg == NULL ? "missing time value." : "invalid time value.");
            goto out;
        }
        if (num == 0) {
            rc = set_first(p, o, kw->slot, "none", *active);
        } else {
            rc = set_int_first(p, o, kw->slot, (long)num, *active);
        }
        break;
    case K_PATH:
    case K_HOSTKEYAGENT:
        arg = arg_next(&a);
        if (arg == NULL || *arg == '\0') {
            rc = refuse(p, "missing file name.");
            goto out;
        }
        if (kw->kind == K_HOSTKEYAGENT && strcmp(arg, "SSH_AUTH_SOCK") == 0) {
            snprintf(value, sizeof value, "%s", arg);
        } else if (absolute_path(arg, value, sizeof value) != 0) {
            rc = refuse(p, "path too long");
            goto out;
        }
        rc = set_first(p, o, kw->slot, value, *active);
        break;
    case K_SKPROVIDER:
        arg = arg_next(&a);
        if (arg == NULL || *arg == '\0') {
            rc = refuse(p, "%s missing argument.", keyword);
            goto out;
        }
        if (strcasecmp(arg, "internal") == 0) {
            snprintf(value, sizeof value, "%s", arg);
        } else if (absolute_path(arg, value, sizeof value) != 0) {
            rc = refuse(p, "path too long");
            goto out;
        }
        rc = set_first(p, o, kw->slot, value, *active);
        break;
    case K_PRINCIPALSFILE:
        arg = arg_next(&a);
        if (arg == NULL || *arg == '\0') {
            rc = refuse(p, "%s missing argument.", keyword);
            goto out;
        }
        if (arg[0] == '~' && (arg[1] == '/' || arg[1] == '\0')) {
            snprintf(value, sizeof value, "/root%s", arg + 1);
            arg = value;
        }
        rc = set_first(p, o, kw->slot, arg, *active);
        break;
    case K_STRING:
    case K_LOCALUSER:
        arg = arg_next(&a);
        if (arg == NULL || *arg == '\0') {
            rc = refuse(p, "%s missing argument.", keyword);
            goto out;
        }
        rc = set_first(p, o, kw->slot, arg, *active);
        break;
    case K_REST:
        str += strspn(str, WHITESPACE);
        rc = set_first(p, o, kw->slot, str, *active);
        args_consume(&a);
        break;
    case K_COMMAND:
        str += strspn(str, WHITESPACE);
        if (str[0] != '/' && strcasecmp(str, "none") != 0) {
            rc = refuse(p, "%s must be an absolute path", keyword);
            goto out;
        }
        /* sshd tests the AuthorizedKeysCommand slot for both commands (servconf.c) */
        if (*active && o->s[S_authorizedkeyscommand].n == 0) {
            setting_clear(&o->s[kw->slot]);
            rc = add_value(p, o, kw->slot, str);
        }
        args_consume(&a);
        break;
    case K_VERSIONADDENDUM:
        /* sshd means to cut a comment here but looks for it in the keyword: it stays */
        str += strspn(str, WHITESPACE);
        if (strchr(str, '\r') != NULL) {
            rc = refuse(p, "Invalid %s argument", keyword);
            goto out;
        }
        rc = set_first(p, o, kw->slot, strcasecmp(str, "none") == 0 ? "none" : str, *active);
        args_consume(&a);
        break;
    case K_ALGOS:
    case K_KEYALGOS:
    case K_GSSKEX: {
        arg = arg_next(&a);
        if (arg == NULL || *arg == '\0') {
            rc = refuse(p, "%s missing argument.", keyword);
            goto out;
        }
        const char *all = kw->slot == S_ciphers                 ? p->profile->all_cipher
                          : kw->slot == S_macs                  ? p->profile->all_mac
                          : kw->slot == S_kexalgorithms         ? p->profile->all_kex
                          : kw->slot == S_casignaturealgorithms ? p->profile->all_sig
                          : kw->slot == S_gssapikexalgorithms   ? gss_kex_names
                                                                : p->profile->all_key;
        const char *names = kw->kind != K_GSSKEX && (*arg == '+' || *arg == '^') ? arg + 1 : arg;
        if ((kw->kind == K_GSSKEX || *arg != '-') &&
            !names_valid(names, all, kw->kind == K_KEYALGOS)) {
            rc = refuse(p, "Bad %s '%s'.", keyword, arg);
            goto out;
        }
        /* the global-only algorithm keywords are set even where the block is not active */
        rc = set_first(p, o, kw->slot, arg, kw->kind == K_KEYALGOS ? *active : true);
        break;
    }
    case K_USERS:
    case K_GROUPS:
        if (p->profile->number >= 1000 && a.n == 0) {
            rc = refuse(p, "no %s specified", keyword);
            goto out;
        }
        while ((arg = arg_next(&a)) != NULL) {
            if (*arg == '\0') {
                rc = refuse(p, "empty %s pattern", keyword);
                goto out;
            }
            if (kw->kind == K_USERS) {
                /* 10.0 splits user@host at the last '@', earlier versions at the first */
                const char *at = p->profile->number >= 1000 ? strrchr(arg, '@') : strchr(arg, '@');
                if (at != NULL && match_addr_list(NULL, at + 1) == -2) {
                    rc = refuse(p, "invalid %s pattern: \"%s\"", keyword, arg);
                    goto out;
                }
            }
            if ((rc = add_all(p, o, kw->slot, arg, *active)) != 0) {
                goto out;
            }
        }
        break;
    case K_ACCEPTENV:
        if (p->profile->number >= 1000 && a.n == 0) {
            rc = refuse(p, "no %s specified", keyword);
            goto out;
        }
        while ((arg = arg_next(&a)) != NULL) {
            if (*arg == '\0' || strchr(arg, '=') != NULL) {
                rc = refuse(p, "Invalid environment name.");
                goto out;
            }
            if ((rc = add_all(p, o, kw->slot, arg, *active)) != 0) {
                goto out;
            }
        }
        break;
    case K_SETENV: {
        size_t had = o->s[kw->slot].n;
        if (p->profile->number >= 1000 && a.n == 0) {
            rc = refuse(p, "no %s specified", keyword);
            goto out;
        }
        while ((arg = arg_next(&a)) != NULL) {
            if (*arg == '\0' || strchr(arg, '=') == NULL) {
                rc = refuse(p, "Invalid environment.");
                goto out;
            }
            if (!*active || had != 0) {
                continue;
            }
            size_t namelen = (size_t)(strchr(arg, '=') - arg);
            bool dup = false;
            /* 9.2 and later keep the first value of a name; 8.4 kept every one */
            for (size_t i = 0; p->profile->number >= 900 && i < o->s[kw->slot].n && !dup; i++) {
                const char *t = o->s[kw->slot].v[i].text;
                dup = strncmp(t, arg, namelen) == 0 && t[namelen] == '=';
            }
            if (!dup && (rc = add_value(p, o, kw->slot, arg)) != 0) {
                goto out;
            }
        }
        break;
    }
    case K_HOSTKEY:
    case K_HOSTCERT:
        arg = arg_next(&a);
        if (arg == NULL || *arg == '\0') {
            rc = refuse(p, "missing file name.");
            goto out;
        }
        if (absolute_path(arg, value, sizeof value) != 0) {
            rc = refuse(p, "path too long");
            goto out;
        }
        rc = add_all(p, o, kw->slot, value, *active);
        break;
    case K_PORT: {
        arg = arg_next(&a);
        if (arg == NULL || *arg == '\0') {
            rc = refuse(p, "missing port number.");
            goto out;
        }
        int port = to_port(arg);
        if (port <= 0) {
            rc = refuse(p, "Badly formatted port number.");
            goto out;
        }
        if (o->s[S_port].n >= 256) {
            rc = refuse(p, "too many ports.");
            goto out;
        }
        snprintf(value, sizeof value, "%d", port);
        /* the first pass adds ports whether or not a Match block is active */
        rc = add_value(p, o, S_port, value);
        break;
    }
    case K_LISTEN: {
        arg = arg_next(&a);
        if (arg == NULL || *arg == '\0') {
            rc = refuse(p, "missing address");
            goto out;
        }
        char host[NI_MAXHOST];
        int port = 0;
        const char *colon = strchr(arg, ':');
        if (strchr(arg, '[') == NULL && colon != NULL && strchr(colon + 1, ':') != NULL) {
            snprintf(host, sizeof host, "%s", arg); /* a bare IPv6 address */
        } else if (arg[0] == '[') {
            const char *close = strchr(arg, ']');
            if (close == NULL || (close[1] != '\0' && close[1] != ':')) {
                rc = refuse(p, "bad address:port usage");
                goto out;
            }
            snprintf(host, sizeof host, "%.*s", (int)(close - arg - 1), arg + 1);
            if (close[1] == ':' && (port = to_port(close + 2)) <= 0) {
                rc = refuse(p, "bad port number");
                goto out;
            }
        } else {
            snprintf(host, sizeof host, "%.*s",
                     colon != NULL ? (int)(colon - arg) : (int)strlen(arg), arg);
            if (colon != NULL && (port = to_port(colon + 1)) <= 0) {
                rc = refuse(p, "bad port number");
                goto out;
            }
        }
        if ((arg = arg_next(&a)) != NULL) {
            rc = refuse(p, "setting a routing domain is not supported on this platform");
            goto out;
        }
        struct queued_listen *grown = realloc(o->listens, (o->n_listens + 1) * sizeof *grown);
        if (grown == NULL) {
            rc = PST_ENOMEM;
            goto out;
        }
        o->listens = grown;
        o->listens[o->n_listens] = (struct queued_listen){strdup(host), port, p->file, p->line};
        if (o->listens[o->n_listens].addr == NULL) {
            rc = PST_ENOMEM;
            goto out;
        }
        o->n_listens++;
        break;
    }
    case K_PERMITUSERENV:
        arg = arg_next(&a);
        if (arg == NULL || *arg == '\0') {
            rc = refuse(p, "%s missing argument.", keyword);
            goto out;
        }
        rc = set_first(p, o, kw->slot, arg, *active);
        break;
    case K_REKEY:
        arg = arg_next(&a);
        if (arg == NULL || *arg == '\0') {
            rc = refuse(p, "%s missing argument.", keyword);
            goto out;
        }
        if (strcmp(arg, "default") == 0) {
            num = 0;
        } else if (scan_scaled(arg, &num) != 0 || (num != 0 && num < 16)) {
            rc = refuse(p, "Bad %s number '%s'", keyword, arg);
            goto out;
        }
        if (*active && !o->rekey_limit_set) {
            o->rekey_limit_set = true;
            o->rekey_limit = num;
            o->rekey_file = p->file;
            o->rekey_line = p->line;
        }
        if ((arg = arg_next(&a)) != NULL && strcmp(arg, "none") != 0) {
            if ((num = convtime(p, arg)) < 0) {
                rc = refuse(p, "invalid time value.");
                goto out;
            }
            if (*active && !o->rekey_interval_set) {
                o->rekey_interval_set = true;
                o->rekey_interval = (int)num;
                o->rekey_file = p->file;
                o->rekey_line = p->line;
            }
        }
        break;
    case K_LOGLEVEL:
    case K_FACILITY: {
        arg = arg_next(&a);
        const char *printed = NULL;
        if (kw->kind == K_LOGLEVEL) {
            for (size_t i = 0; arg != NULL && i < PST_COUNT(log_levels); i++) {
                if (strcasecmp(arg, log_levels[i][0]) == 0) {
                    printed = log_levels[i][1];
                }
            }
        } else {
            for (size_t i = 0; arg != NULL && i < PST_COUNT(facilities); i++) {
                if (strcasecmp(arg, facilities[i]) == 0) {
                    printed = facilities[i];
                }
            }
        }
        if (printed == NULL) {
            rc = refuse(p, "unsupported log %s '%s'", kw->kind == K_LOGLEVEL ? "level" : "facility",
                        arg != NULL ? arg : "<NONE>");
            goto out;
        }
        rc = set_first(p, o, kw->slot, printed, kw->kind == K_FACILITY ? true : *active);
        break;
    }
    case K_LOGVERBOSE:
    case K_CHANNELTIMEOUT:
    case K_AUTHMETHODS:
    case K_AUTHKEYSFILE: {
        size_t had = o->s[kw->slot].n;
        int i = 0;
        bool any = false, got = false;
        if (p->profile->number < 900 && had != 0 &&
            (kw->kind == K_AUTHMETHODS || kw->kind == K_AUTHKEYSFILE)) {
            args_consume(&a); /* 8.4 did not even read a later line */
            break;
        }
        if (p->profile->number >= 1000 && a.n == 0) {
            rc = refuse(p, "no %s specified", keyword);
            goto out;
        }
        while ((arg = arg_next(&a)) != NULL) {
            if (kw->kind == K_AUTHMETHODS) {
                if (strcmp(arg, "any") == 0) {
                    /* 9.2 looks at the values set so far, 10.0 at this line's */
                    if (p->profile->number >= 1000 ? i > 0 : o->s[kw->slot].n > 0) {
                        rc = refuse(p, "\"any\" must appear alone in %s", keyword);
                        goto out;
                    }
                    any = true;
                } else if (any) {
                    rc = refuse(p, "\"any\" must appear alone in %s", keyword);
                    goto out;
                } else {
                    static const char *const methods[] = {
                        "gssapi-with-mic", "gssapi-keyex",         "none",     "publickey",
                        "password",        "keyboard-interactive", "hostbased"};
                    char m[256];
                    snprintf(m, sizeof m, "%s", arg);
                    for (char *save = NULL, *tok = strtok_r(m, ",", &save); tok != NULL;
                         tok = strtok_r(NULL, ",", &save)) {
                        char *colon = strchr(tok, ':');
                        if (colon != NULL) {
                            *colon = '\0';
                        }
                        bool known = false;
                        for (size_t j = 0; j < PST_COUNT(methods) && !known; j++) {
                            known = strcmp(tok, methods[j]) == 0 && strcmp(tok, "none") != 0;
                        }
                        if (!known) {
                            rc = refuse(p, "invalid %s method list.", keyword);
                            goto out;
                        }
                    }
                }
                got = true;
            } else if (*arg == '\0') {
                rc = refuse(p, "keyword %s empty argument", keyword);
                goto out;
            } else if (kw->kind != K_AUTHKEYSFILE && strcasecmp(arg, "none") == 0) {
                if (i > 0 || a.next < a.n) {
                    rc = refuse(p, "keyword %s \"none\" argument must appear alone.", keyword);
                    goto out;
                }
            } else if (kw->kind == K_CHANNELTIMEOUT) {
                const char *eq = strchr(arg, '=');
                if (eq == NULL || eq == arg || convtime(p, eq + 1) < 0) {
                    rc = refuse(p, "invalid channel timeout %s", arg);
                    goto out;
                }
            }
            i++;
            if (!*active || had != 0) {
                continue;
            }
            if (kw->kind == K_AUTHKEYSFILE && arg[0] == '~' && (arg[1] == '/' || arg[1] == '\0')) {
                snprintf(value, sizeof value, "/root%s", arg + 1);
                arg = value;
            }
            if ((rc = add_value(p, o, kw->slot, arg)) != 0) {
                goto out;
            }
        }
        if (kw->kind == K_AUTHMETHODS && !got) {
            rc = refuse(p, "no %s specified", keyword);
            goto out;
        }
        break;
    }
    case K_SUBSYSTEM: {
        if (o->s[S_subsystem].n >= 256) {
            rc = refuse(p, "too many subsystems defined.");
            goto out;
        }
        const char *name = arg_next(&a);
        if (name == NULL || *name == '\0') {
            rc = refuse(p, "%s missing argument.", keyword);
            goto out;
        }
        bool modern = p->profile->number >= 1000;
        if (!*active) {
            if (modern) {
                args_consume(&a);
            } else {
                arg_next(&a);
            }
            break;
        }
        size_t namelen = strlen(name);
        for (size_t i = 0; i < o->s[S_subsystem].n; i++) {
            const char *t = o->s[S_subsystem].v[i].text;
            if (strncmp(t, name, namelen) == 0 && t[namelen] == ' ') {
                if (modern) { /* 10.0 keeps the first definition */
                    args_consume(&a);
                    goto out;
                }
                rc = refuse(p, "Subsystem '%s' already defined.", name);
                goto out;
            }
        }
        arg = arg_next(&a);
        if (arg == NULL || *arg == '\0') {
            rc = refuse(p, "Missing subsystem command.");
            goto out;
        }
        int used = snprintf(value, sizeof value, "%s ", name);
        /* 10.0 quotes the words again as argv_assemble() does; earlier versions join them */
        for (; arg != NULL && used >= 0 && (size_t)used < sizeof value; arg = arg_next(&a)) {
            bool blank = modern && strpbrk(arg, " \t") != NULL;
            if (value[used - 1] != ' ') {
                value[used++] = ' ';
            }
            if (blank && (size_t)used < sizeof value) {
                value[used++] = '"';
            }
            for (const char *c = arg; *c != '\0' && (size_t)used + 2 < sizeof value; c++) {
                if (modern && (*c == '\\' || *c == '\'' || *c == '"')) {
                    value[used++] = '\\';
                }
                value[used++] = *c;
            }
            if (blank && (size_t)used < sizeof value) {
                value[used++] = '"';
            }
            if ((size_t)used >= sizeof value - 2) {
                used = -1;
                break;
            }
            value[used] = '\0';
        }
        if (used < 0 || (size_t)used >= sizeof value) {
            rc = refuse(p, "subsystem command too long");
            goto out;
        }
        rc = add_value(p, o, S_subsystem, value);
        break;
    }
    case K_MAXSTARTUPS: {
        arg = arg_next(&a);
        if (arg == NULL || *arg == '\0') {
            rc = refuse(p, "%s missing argument.", keyword);
            goto out;
        }
        int begin = 0, rate = 0, full = 0;
        char tail;
        int n = sscanf(arg, "%d:%d:%d%c", &begin, &rate, &full, &tail);
        if (n >= 3) {
            if (begin > full || rate > 100 || rate < 1) {
                rc = refuse(p, "Invalid %s spec.", keyword);
                goto out;
            }
        } else if (n == 1) {
            full = begin;
            rate = -1; /* sshd keeps the rate it had: the default 30 */
        } else {
            rc = refuse(p, "Invalid %s spec.", keyword);
            goto out;
        }
        if (full <= 0 || begin <= 0) {
            rc = refuse(p, "Invalid %s spec.", keyword);
            goto out;
        }
        if (rate == -1) {
            rate = 30;
            if (o->s[S_maxstartups].n > 0) {
                sscanf(o->s[S_maxstartups].v[0].text, "%*d:%d", &rate);
            }
        }
        snprintf(value, sizeof value, "%d:%d:%d", begin, rate, full);
        /* sshd overwrites MaxStartups on every line, active or not */
        rc = set_last(p, o, kw->slot, value, true);
        break;
    }
    case K_NETBLOCK: {
        arg = arg_next(&a);
        if (arg == NULL || *arg == '\0') {
            rc = refuse(p, "%s missing argument.", keyword);
            goto out;
        }
        int v4 = 0, v6 = 128;
        int n = sscanf(arg, "%d:%d", &v4, &v6);
        if ((n != 1 && n != 2) || v4 < 0 || v4 > 32 || v6 < 0 || v6 > 128) {
            rc = refuse(p, "Invalid %s spec.", keyword);
            goto out;
        }
        snprintf(value, sizeof value, "%d:%d", v4, v6);
        rc = set_last(p, o, kw->slot, value, *active);
        break;
    }
    case K_PSMAXSTARTUPS:
        arg = arg_next(&a);
        if (arg == NULL || *arg == '\0') {
            rc = refuse(p, "%s missing argument.", keyword);
            goto out;
        }
        if (strcmp(arg, "none") != 0 && to_number(arg, 0, INT_MAX, &num) != 0) {
            rc = refuse(p, "%s integer value invalid.", keyword);
            goto out;
        }
        if (strcmp(arg, "none") != 0 && num == INT_MAX) {
            arg = "none";
        }
        /* the last value wins in 9.2, the first from 10.0 */
        rc = (p->profile->number >= 1000 ? set_first : set_last)(
            p, o, kw->slot, strcmp(arg, "none") == 0 ? "none" : arg, *active);
        break;
    case K_TUNNEL: {
        static const char *const modes[] = {"no", "point-to-point", "ethernet", "yes"};
        arg = arg_next(&a);
        if (arg == NULL || *arg == '\0') {
            rc = refuse(p, "%s missing argument.", keyword);
            goto out;
        }
        const char *mode = NULL;
        for (size_t i = 0; i < PST_COUNT(modes); i++) {
            if (strcmp(arg, modes[i]) == 0) {
                mode = modes[i];
            }
        }
        if (mode == NULL) {
            rc = refuse(p, "bad %s argument %s", keyword, arg);
            goto out;
        }
        rc = set_first(p, o, kw->slot, mode, *active);
        break;
    }
    case K_INCLUDE: {
        int count = 0;
        while ((arg = arg_next(&a)) != NULL) {
            if (*arg == '\0') {
                rc = refuse(p, "keyword %s empty argument", keyword);
                goto out;
            }
            count++;
            char pattern[PATH_MAX];
            if (arg[0] == '~' && (arg[1] == '/' || arg[1] == '\0')) {
                snprintf(pattern, sizeof pattern, "/root%s", arg + 1);
            } else if (arg[0] != '/' && arg[0] != '~') {
                snprintf(pattern, sizeof pattern, "/etc/ssh/%s", arg);
            } else {
                snprintf(pattern, sizeof pattern, "%s", arg);
            }
            json_t *matches = NULL;
            if ((rc = glob_root(p, pattern, &matches)) != 0) {
                json_decref(matches);
                goto out;
            }
            if (json_array_size(matches) == 0 &&
                (rc = note(p, "include \"%s\" matches no file: sshd ignores it", pattern)) != 0) {
                json_decref(matches);
                goto out;
            }
            bool outer = *active;
            char outer_block[sizeof p->block], outer_source[sizeof p->block_source];
            memcpy(outer_block, p->block, sizeof outer_block);
            memcpy(outer_source, p->block_source, sizeof outer_source);
            unsigned inc = (*flags & MATCH_ONLY) ? MATCH_ONLY : (outer ? 0 : NEVERMATCH);
            size_t i;
            json_t *m;
            const char *file = p->file;
            long lineno = p->line;
            json_array_foreach(matches, i, m)
            {
                rc = parse_file(p, o, json_string_value(m), inc, active);
                p->file = file;
                p->line = lineno;
                *active = outer;
                memcpy(p->block, outer_block, sizeof p->block);
                memcpy(p->block_source, outer_source, sizeof p->block_source);
                if (rc != 0) {
                    break;
                }
            }
            json_decref(matches);
            if (rc != 0) {
                goto out;
            }
        }
        if (count == 0) {
            rc = refuse(p, "%s missing filename argument", keyword);
            goto out;
        }
        break;
    }
    case K_MATCH: {
        if (p->conn == NULL) {
            /* the criteria as written, for the report of what Match blocks change */
            char *c = str + strspn(str, WHITESPACE);
            snprintf(p->block, sizeof p->block, "%.*s", (int)strcspn(c, "#"), c);
            pst_text_rstrip(p->block);
            snprintf(p->block_source, sizeof p->block_source, "%s:%ld", p->file, p->line);
        }
        int r = match_line(p, &str, (*flags & NEVERMATCH) ? NULL : p->conn);
        if (r < 0) {
            rc = r;
            goto out;
        }
        *active = (*flags & NEVERMATCH) ? false : r == 1;
        *flags &= ~MATCH_ONLY;
        if (str == NULL || *str == '\0') {
            args_consume(&a);
        } else {
            args_release(&a);
            if ((rc = split_args(str, &a)) != 0) {
                goto out;
            }
        }
        break;
    }
    case K_PERMITOPEN:
    case K_PERMITLISTEN: {
        arg = arg_next(&a);
        if (arg == NULL || *arg == '\0') {
            rc = refuse(p, "%s missing argument.", keyword);
            goto out;
        }
        size_t had = o->s[kw->slot].n;
        if (strcmp(arg, "any") == 0 || strcmp(arg, "none") == 0) {
            if (*active && had == 0) {
                rc = add_value(p, o, kw->slot, arg);
            }
            break;
        }
        for (; arg != NULL && *arg != '\0'; arg = arg_next(&a)) {
            const char *portpart;
            if (kw->kind == K_PERMITLISTEN && strchr(arg, ':') == NULL) {
                snprintf(value, sizeof value, "*:%s", arg);
                portpart = arg;
            } else {
                snprintf(value, sizeof value, "%s", arg);
                const char *h = arg;
                if (h[0] == '[') {
                    const char *close = strchr(h, ']');
                    portpart = close != NULL && close[1] == ':' ? close + 2 : NULL;
                    if (close == NULL) {
                        rc = refuse(p, "%s missing host", keyword);
                        goto out;
                    }
                } else {
                    const char *colon = strchr(h, ':');
                    portpart = colon != NULL ? colon + 1 : NULL;
                }
            }
            if (portpart == NULL || (strcmp(portpart, "*") != 0 && to_port(portpart) <= 0)) {
                rc = refuse(p, "%s bad port number", keyword);
                goto out;
            }
            if (*active && had == 0 && (rc = add_value(p, o, kw->slot, value)) != 0) {
                goto out;
            }
        }
        break;
    }
    case K_IPQOS: {
        arg = arg_next(&a);
        if (arg == NULL || *arg == '\0') {
            rc = refuse(p, "%s missing argument.", keyword);
            goto out;
        }
        bool modern = p->profile->number >= 1000;
        int v1 = parse_ipqos(arg, modern), v2;
        if (v1 == -1) {
            rc = refuse(p, "Bad %s value: %s", keyword, arg);
            goto out;
        }
        arg = arg_next(&a);
        v2 = arg == NULL ? v1 : parse_ipqos(arg, modern);
        if (v2 == -1) {
            rc = refuse(p, "Bad %s value: %s", keyword, arg);
            goto out;
        }
        char q1[16], q2[16];
        format_ipqos(v1, modern, q1, sizeof q1);
        format_ipqos(v2, modern, q2, sizeof q2);
        snprintf(value, sizeof value, "%s %s", q1, q2);
        rc = set_last(p, o, kw->slot, value, *active);
        break;
    }
    case K_BINDMASK: {
        arg = arg_next(&a);
        if (arg == NULL || *arg == '\0') {
            rc = refuse(p, "%s missing argument.", keyword);
            goto out;
        }
        char *end;
        long mask = strtol(arg, &end, 8);
        if (end == arg || mask < 0 || mask > 0777) {
            rc = refuse(p, "Invalid %s.", keyword);
            goto out;
        }
        snprintf(value, sizeof value, "0%lo", mask);
        rc = set_last(p, o, kw->slot, value, *active);
        break;
    }
    case K_FPHASH:
        arg = arg_next(&a);
        if (arg == NULL || *arg == '\0') {
            rc = refuse(p, "%s missing argument.", keyword);
            goto out;
        }
        if (strcasecmp(arg, "md5") != 0 && strcasecmp(arg, "sha1") != 0 &&
            strcasecmp(arg, "sha256") != 0 && strcasecmp(arg, "sha384") != 0 &&
            strcasecmp(arg, "sha512") != 0) {
            rc = refuse(p, "Invalid %s algorithm \"%s\".", keyword, arg);
            goto out;
        }
        for (size_t i = 0; arg[i] != '\0' && i < sizeof value - 1; i++) {
            value[i] = (char)toupper((unsigned char)arg[i]);
            value[i + 1] = '\0';
        }
        rc = set_last(p, o, kw->slot, value, *active);
        break;
    case K_PUBKEYOPTS: {
        bool touch = false, verify = false;
        while ((arg = arg_next(&a)) != NULL) {
            if (strcasecmp(arg, "none") == 0) {
                continue;
            }
            if (strcasecmp(arg, "touch-required") == 0) {
                touch = true;
            } else if (strcasecmp(arg, "verify-required") == 0) {
                verify = true;
            } else {
                rc = refuse(p, "unsupported %s option %s", keyword, arg);
                goto out;
            }
        }
        snprintf(value, sizeof value, "%s%s%s", !touch && !verify ? "none" : "",
                 touch ? (verify ? "touch-required " : "touch-required") : "",
                 verify ? "verify-required" : "");
        rc = set_first(p, o, kw->slot, value, *active);
        break;
    }
    case K_EXEMPTLIST:
        arg = arg_next(&a);
        if (arg == NULL || *arg == '\0') {
            rc = refuse(p, "missing argument.");
            goto out;
        }
        if (match_addr_list(NULL, arg) != 0) {
            rc = refuse(p, "keyword %s invalid address argument.", keyword);
            goto out;
        }
        rc = set_first(p, o, kw->slot, arg, *active);
        break;
    case K_PENALTIES: {
        /* crash authfail noauth grace-exceeded refuseconnection max min (times), then
         * max-sources4 max-sources6 (numbers), overflow overflow6 (0 permissive, 1 deny-all) */
        static const char *const parts[] = {
            "crash:", "authfail:", "noauth:",       "grace-exceeded:", "refuseconnection:",
            "max:",   "min:",      "max-sources4:", "max-sources6:"};
        bool found = false;
        while ((arg = arg_next(&a)) != NULL) {
            found = true;
            if (strcasecmp(arg, "no") == 0 || strcasecmp(arg, "yes") == 0) {
                if (a.next < a.n) {
                    rc = refuse(p, "keyword %s \"%s\" argument must appear alone.", keyword, arg);
                    goto out;
                }
                if (*active && o->penalties_enabled == -1) {
                    o->penalties_enabled = strcasecmp(arg, "yes") == 0;
                }
                continue;
            }
            int part = -1;
            long v = -1;
            for (size_t i = 0; i < PST_COUNT(parts) && part < 0; i++) {
                size_t plen = strlen(parts[i]);
                if (strncmp(arg, parts[i], plen) == 0) {
                    part = (int)i;
                    if (i >= 7) {
                        if (to_number(arg + plen, 0, INT_MAX, &num) != 0) {
                            rc = refuse(p, "%s value invalid.", keyword);
                            goto out;
                        }
                        v = (long)num;
                    } else if ((v = convtime(p, arg + plen)) < 0) {
                        rc = refuse(p, "invalid %s time value.", keyword);
                        goto out;
                    }
                }
            }
            if (part < 0) {
                static const char *const overflows[] = {"overflow:permissive", "overflow:deny-all",
                                                        "overflow6:permissive",
                                                        "overflow6:deny-all"};
                for (size_t i = 0; i < PST_COUNT(overflows) && part < 0; i++) {
                    if (strcmp(arg, overflows[i]) == 0) {
                        part = 9 + (int)(i / 2);
                        v = (long)(i % 2);
                    }
                }
            }
            if (part < 0) {
                rc = refuse(p, "unsupported %s keyword %s", keyword, arg);
                goto out;
            }
            if (*active && o->penalty[part] == -1) {
                o->penalty[part] = (int)v;
                o->penalties_enabled = 1; /* any part enables penalties */
                if (o->penalty_file == NULL) {
                    o->penalty_file = p->file;
                    o->penalty_line = p->line;
                }
            }
        }
        if (!found) {
            rc = refuse(p, "no %s specified", keyword);
            goto out;
        }
        break;
    }
    case K_RDOMAIN:
        rc = refuse(p, "setting RDomain not supported on this platform.");
        goto out;
    case K_DEPRECATED:
    case K_UNSUPPORTED:
        rc = note(p, "%s option %s", kw->kind == K_UNSUPPORTED ? "Unsupported" : "Deprecated",
                  keyword);
        args_consume(&a);
        break;
    case K_IGNORE:
        args_consume(&a);
        break;
    }
    if (rc == 0 && a.next < a.n) {
        rc = refuse(p, "keyword %s extra arguments at end of line", keyword);
    }
    if (rc == 0 && p->conn == NULL && !*active && p->block[0] != '\0' && kw->slot != S_NONE &&
        a.n > 0) {
        rc = record_match_setting(p, kw, a.v[0]);
    }
out:
    args_release(&a);
    return rc;
}

/* ---- files ---------------------------------------------------------------------------- */

/* parse_server_config_depth(): every line of PATH, under include FLAGS. */
static int parse_file(struct parse *p, struct options *o, const char *path, unsigned flags,
                      bool *active)
{
    char *buf = NULL;
    size_t len = 0;
    int rc;
    const char *file = intern(p, path);
    if (file == NULL) {
        return PST_ENOMEM;
    }
    for (int i = 0; i < p->depth; i++) {
        if (strcmp(p->stack[i], file) == 0) {
            return refuse(p,
                          "include loop: %s includes itself (sshd refuses: too many recursive "
                          "configuration includes)",
                          file);
        }
    }
    if (p->depth > PST_SSHD_MAX_DEPTH) {
        return refuse(p, "Too many recursive configuration includes");
    }
    if (++p->files_read > PST_SSHD_FILES_MAX) {
        return refuse(p, "more than %d configuration files read", PST_SSHD_FILES_MAX);
    }
    const json_t *cached = json_object_get(p->contents, file);
    if (cached != NULL) {
        len = json_string_length(cached);
        buf = malloc(len + 1);
        if (buf == NULL) {
            return PST_ENOMEM;
        }
        memcpy(buf, json_string_value(cached), len + 1);
        rc = 0;
    } else {
        rc = pst_fs_read(p->fs, path, PST_SSHD_FILE_MAX, true, &buf, &len);
        struct stat st;
        if (rc == PST_ETYPE && pst_fs_stat(p->fs, path, true, &st) == 0 && S_ISDIR(st.st_mode)) {
            /* fopen() of a directory works and getline() then fails: an empty file to sshd */
            buf = strdup("");
            len = 0;
            rc = buf == NULL ? PST_ENOMEM
                             : note(p, "%s is a directory: sshd reads it as an empty file", path);
        }
        if (rc == 0 &&
            json_object_set_new_nocheck(p->contents, file, json_stringn_nocheck(buf, len)) != 0) {
            free(buf);
            return PST_ENOMEM;
        }
    }
    if (rc != 0) {
        const char *at = p->file;
        p->file = NULL;
        refuse(p, "%s: %s", path, rc == PST_ETOOBIG ? "larger than 4 MiB" : pst_strerror(rc));
        p->file = at;
        return rc == PST_ENOMEM ? rc : rc == PST_EBINARY ? PST_EPARSE : rc;
    }
    p->bytes_read += len;
    if (p->bytes_read > PST_SSHD_BYTES_MAX) {
        free(buf);
        return refuse(p, "configuration files larger than 32 MiB in all");
    }
    p->stack[p->depth++] = file;
    char *cursor = buf;
    long lineno = 0;
    while (cursor != NULL) {
        char *line = cursor;
        char *nl = strchr(cursor, '\n');
        if (nl != NULL) {
            *nl = '\0';
            cursor = nl + 1;
        } else {
            cursor = NULL;
            if (*line == '\0') {
                break;
            }
        }
        lineno++;
        line += strspn(line, " \t\r"); /* load_server_config() strips leading blanks */
        if (p->profile->number < 900) {
            /* OpenSSH 8.4 cut every line at its first '#', inside quotes too */
            char *hash = strchr(line, '#');
            if (hash != NULL) {
                *hash = '\0';
            }
        }
        p->file = file;
        p->line = lineno;
        if ((rc = parse_line(p, o, line, &flags, active)) != 0) {
            break;
        }
    }
    p->depth--;
    free(buf);
    return rc;
}

/* ---- defaults and the final form ------------------------------------------------------- */

static const struct {
    int slot;
    const char *value;
} defaults[] = {
    {S_addressfamily, "any"},
    {S_usepam, "no"},
    {S_logingracetime, "120"},
    {S_x11displayoffset, "10"},
    {S_maxauthtries, "6"},
    {S_maxsessions, "10"},
    {S_clientaliveinterval, "0"},
    {S_clientalivecountmax, "3"},
    {S_requiredrsasize, "1024"},
    {S_streamlocalbindmask, "0177"},
    {S_unusedconnectiontimeout, "none"},
    {S_permitrootlogin, "without-password"},
    {S_ignorerhosts, "yes"},
    {S_ignoreuserknownhosts, "no"},
    {S_hostbasedauthentication, "no"},
    {S_hostbasedusesnamefrompacketonly, "no"},
    {S_pubkeyauthentication, "yes"},
    {S_kerberosauthentication, "no"},
    {S_kerberosorlocalpasswd, "yes"},
    {S_kerberosticketcleanup, "yes"},
    {S_gssapiauthentication, "no"},
    {S_gssapicleanupcredentials, "yes"},
    {S_gssapikeyexchange, "no"},
    {S_gssapistrictacceptorcheck, "yes"},
    {S_gssapistorecredentialsonrekey, "no"},
    {S_gssapikexalgorithms, "gss-group14-sha256-,gss-group16-sha512-,gss-nistp256-sha256-,"
                            "gss-curve25519-sha256-,gss-group14-sha1-,gss-gex-sha1-"},
    {S_passwordauthentication, "yes"},
    {S_kbdinteractiveauthentication, "yes"},
    {S_printmotd, "yes"},
    {S_printlastlog, "yes"},
    {S_x11forwarding, "no"},
    {S_x11uselocalhost, "yes"},
    {S_permittty, "yes"},
    {S_permituserrc, "yes"},
    {S_strictmodes, "yes"},
    {S_tcpkeepalive, "yes"},
    {S_permitemptypasswords, "no"},
    {S_compression, "yes"},
    {S_gatewayports, "no"},
    {S_usedns, "no"},
    {S_allowtcpforwarding, "yes"},
    {S_allowagentforwarding, "yes"},
    {S_disableforwarding, "no"},
    {S_allowstreamlocalforwarding, "yes"},
    {S_streamlocalbindunlink, "no"},
    {S_fingerprinthash, "SHA256"},
    {S_exposeauthinfo, "no"},
    {S_pidfile, "/run/sshd.pid"},
    {S_modulifile, "/etc/ssh/moduli"},
    {S_xauthlocation, "/usr/bin/xauth"},
    {S_banner, "none"},
    {S_forcecommand, "none"},
    {S_chrootdirectory, "none"},
    {S_trustedusercakeys, "none"},
    {S_revokedkeys, "none"},
    {S_securitykeyprovider, "internal"},
    {S_authorizedprincipalsfile, "none"},
    {S_versionaddendum, "none"},
    {S_authorizedkeyscommand, "none"},
    {S_authorizedkeyscommanduser, "none"},
    {S_authorizedprincipalscommand, "none"},
    {S_authorizedprincipalscommanduser, "none"},
    {S_hostkeyagent, "none"},
    {S_loglevel, "INFO"},
    {S_syslogfacility, "AUTH"},
    {S_authenticationmethods, "any"},
    {S_maxstartups, "10:30:100"},
    {S_persourcemaxstartups, "none"},
    {S_persourcenetblocksize, "32:128"},
    {S_permittunnel, "no"},
    {S_pamservicename, "sshd"},
    {S_refuseconnection, "no"},
    {S_debianbanner, "yes"},
    {S_sshdsessionpath, "/usr/lib/openssh/sshd-session"},
    {S_sshdauthpath, "/usr/lib/openssh/sshd-auth"},
    {S_persourcepenaltyexemptlist, "none"},
    {S_challengeresponseauthentication, "yes"},
    {S_permitopen, "any"},
    {S_permitlisten, "any"},
    {S_permituserenvironment, "no"},
    {S_pubkeyauthoptions, "none"},
};

static int set_default(struct parse *p, struct options *o, int slot, const char *value)
{
    if (o->s[slot].n > 0) {
        return 0;
    }
    const char *file = p->file;
    p->file = NULL;
    p->line = 0;
    int rc = add_value(p, o, slot, value);
    p->file = file;
    return rc;
}

/* Lowercase "none" for the path keywords sshd clears on none (CLEAR_ON_NONE). */
static int clear_on_none(struct options *o, int slot)
{
    struct setting *s = &o->s[slot];
    for (size_t i = 0; i < s->n; i++) {
        if (strcasecmp(s->v[i].text, "none") == 0 && strcmp(s->v[i].text, "none") != 0) {
            char *none = strdup("none");
            if (none == NULL) {
                return PST_ENOMEM;
            }
            free(s->v[i].text);
            s->v[i].text = none;
        }
    }
    return 0;
}

/* The ListenAddress lines: queued addresses with every Port, as sshd -T orders them. */
static int listen_addresses(struct parse *p, struct options *o)
{
    const char *family = o->s[S_addressfamily].v[0].text;
    int af = strcmp(family, "inet") == 0    ? AF_INET
             : strcmp(family, "inet6") == 0 ? AF_INET6
                                            : AF_UNSPEC;
    struct queued_listen any = {NULL, 0, NULL, 0};
    size_t n = o->n_listens > 0 ? o->n_listens : 1;
    for (size_t i = 0; i < n; i++) {
        const struct queued_listen *q = o->n_listens > 0 ? &o->listens[i] : &any;
        size_t nports = q->port > 0 ? 1 : o->s[S_port].n;
        for (size_t j = 0; j < nports; j++) {
            int port = q->port > 0 ? q->port : atoi(o->s[S_port].v[j].text);
            char text[NI_MAXHOST + 16];
            struct xaddr x;
            const char *file = p->file;
            p->file = q->file;
            p->line = q->line;
            if (q->addr == NULL) {
                /* getaddrinfo(NULL, AI_PASSIVE) gives 0.0.0.0 then ::, printed in reverse */
                int rc = 0;
                if (af != AF_INET) {
                    snprintf(text, sizeof text, "[::]:%d", port);
                    rc = add_value(p, o, S_listenaddress, text);
                }
                if (rc == 0 && af != AF_INET6) {
                    snprintf(text, sizeof text, "0.0.0.0:%d", port);
                    rc = add_value(p, o, S_listenaddress, text);
                }
                p->file = file;
                if (rc != 0) {
                    return rc;
                }
                continue;
            }
            if (!parse_addr(q->addr, &x)) {
                /* a name: sshd resolves it when it starts; a scan never queries DNS */
                snprintf(text, sizeof text, "%s:%d", q->addr, port);
                int rc = note(p, "ListenAddress %s is a name: not resolved by the scan", q->addr);
                if (rc == 0) {
                    rc = add_value(p, o, S_listenaddress, text);
                }
                p->file = file;
                if (rc != 0) {
                    return rc;
                }
                continue;
            }
            if ((af == AF_INET && x.family != AF_INET) ||
                (af == AF_INET6 && x.family != AF_INET6)) {
                int rc = refuse(
                    p, "bad addr or host: %s (Address family for hostname not supported)", q->addr);
                p->file = file;
                return rc;
            }
            char addr[INET6_ADDRSTRLEN];
            inet_ntop(x.family, x.a, addr, sizeof addr);
            snprintf(text, sizeof text, x.family == AF_INET6 ? "[%s]:%d" : "%s:%d", addr, port);
            int rc = add_value(p, o, S_listenaddress, text);
            p->file = file;
            if (rc != 0) {
                return rc;
            }
        }
    }
    return 0;
}

/* fill_default_server_options() for what the first pass left unset. */
static int fill_defaults(struct parse *p, struct options *o)
{
    int rc = 0;
    if (o->s[S_hostkey].n == 0) {
        static const char *const keys[] = {"/etc/ssh/ssh_host_rsa_key",
                                           "/etc/ssh/ssh_host_ecdsa_key",
                                           "/etc/ssh/ssh_host_ed25519_key"};
        for (size_t i = 0; i < PST_COUNT(keys) && rc == 0; i++) {
            const char *file = p->file;
            p->file = NULL;
            rc = add_value(p, o, S_hostkey, keys[i]);
            p->file = file;
        }
    }
    if (rc == 0 && o->s[S_port].n == 0) {
        rc = set_default(p, o, S_port, "22");
    }
    if (rc == 0) {
        rc = set_default(p, o, S_ipqos, p->profile->ipqos);
    }
    if (rc == 0 && p->profile->number < 807) {
        rc = set_default(p, o, S_kbdinteractiveauthentication, "no");
    }
    for (size_t i = 0; i < PST_COUNT(defaults) && rc == 0; i++) {
        rc = set_default(p, o, defaults[i].slot, defaults[i].value);
    }
    if (rc == 0 && o->s[S_authorizedkeysfile].n == 0) {
        rc = set_default(p, o, S_authorizedkeysfile, ".ssh/authorized_keys");
        const char *file = p->file;
        p->file = NULL;
        if (rc == 0) {
            rc = add_value(p, o, S_authorizedkeysfile, ".ssh/authorized_keys2");
        }
        p->file = file;
    }
    if (rc == 0) {
        rc = listen_addresses(p, o);
    }
    static const int nones[] = {S_pidfile,           S_xauthlocation,   S_banner,
                                S_trustedusercakeys, S_revokedkeys,     S_authorizedprincipalsfile,
                                S_forcecommand,      S_chrootdirectory, S_hostkeyagent,
                                S_hostkey,           S_hostcertificate};
    for (size_t i = 0; i < PST_COUNT(nones) && rc == 0; i++) {
        rc = clear_on_none(o, nones[i]);
    }
    /* CLEAR_ON_NONE_ARRAY: a global "ChannelTimeout none" leaves no timeout */
    struct setting *ct = &o->s[S_channeltimeout];
    if (ct->n == 1 && strcasecmp(ct->v[0].text, "none") == 0) {
        setting_clear(ct);
    }
    /* 8.4's sshd.c: challenge-response on turns keyboard-interactive on */
    struct setting *cr = &o->s[S_challengeresponseauthentication];
    if (rc == 0 && p->profile->number < 807 && cr->n > 0 && strcmp(cr->v[0].text, "yes") == 0) {
        struct setting *kbd = &o->s[S_kbdinteractiveauthentication];
        const char *file = cr->v[0].file;
        long line = cr->v[0].line;
        setting_clear(kbd);
        const char *at = p->file;
        p->file = file;
        p->line = line;
        rc = add_value(p, o, S_kbdinteractiveauthentication, "yes");
        p->file = at;
    }
    return rc;
}

/* The keywords copy_set_server_options() takes from a matching Match block. */
static const int match_copied[] = {
    S_passwordauthentication,
    S_gssapiauthentication,
    S_pubkeyauthentication,
    S_pubkeyauthoptions,
    S_kerberosauthentication,
    S_hostbasedauthentication,
    S_hostbasedusesnamefrompacketonly,
    S_kbdinteractiveauthentication,
    S_permitrootlogin,
    S_permitemptypasswords,
    S_ignorerhosts,
    S_allowtcpforwarding,
    S_allowstreamlocalforwarding,
    S_allowagentforwarding,
    S_disableforwarding,
    S_exposeauthinfo,
    S_permittunnel,
    S_gatewayports,
    S_streamlocalbindunlink,
    S_x11displayoffset,
    S_x11forwarding,
    S_x11uselocalhost,
    S_permittty,
    S_permituserrc,
    S_maxsessions,
    S_maxauthtries,
    S_clientalivecountmax,
    S_clientaliveinterval,
    S_ipqos,
    S_loglevel,
    S_requiredrsasize,
    S_unusedconnectiontimeout,
    S_streamlocalbindmask,
    S_banner,
    S_trustedusercakeys,
    S_revokedkeys,
    S_authorizedkeyscommand,
    S_authorizedkeyscommanduser,
    S_authorizedprincipalsfile,
    S_authorizedprincipalscommand,
    S_authorizedprincipalscommanduser,
    S_hostbasedacceptedalgorithms,
    S_pubkeyacceptedalgorithms,
    S_casignaturealgorithms,
    S_authorizedkeysfile,
    S_allowusers,
    S_denyusers,
    S_allowgroups,
    S_denygroups,
    S_acceptenv,
    S_setenv,
    S_authenticationmethods,
    S_permitopen,
    S_permitlisten,
    S_channeltimeout,
    S_logverbose,
    S_forcecommand,
    S_chrootdirectory,
};

static void move_setting(struct setting *dst, struct setting *src)
{
    setting_clear(dst);
    *dst = *src;
    src->v = NULL;
    src->n = 0;
}

/* And those OpenSSH 10 added to them. */
static const int match_copied_100[] = {S_refuseconnection, S_pamservicename, S_subsystem};

/* copy_set_server_options(): the match pass's values override the first pass's. */
static void copy_matched(const struct parse *p, struct options *dst, struct options *src)
{
    for (size_t i = 0; i < PST_COUNT(match_copied); i++) {
        if (src->s[match_copied[i]].n > 0) {
            move_setting(&dst->s[match_copied[i]], &src->s[match_copied[i]]);
        }
    }
    for (size_t i = 0; p->profile->number >= 1000 && i < PST_COUNT(match_copied_100); i++) {
        if (src->s[match_copied_100[i]].n > 0) {
            move_setting(&dst->s[match_copied_100[i]], &src->s[match_copied_100[i]]);
        }
    }
    if (src->rekey_limit_set) {
        dst->rekey_limit = src->rekey_limit;
        dst->rekey_limit_set = true;
        dst->rekey_file = src->rekey_file;
        dst->rekey_line = src->rekey_line;
    }
    if (src->rekey_interval_set) {
        dst->rekey_interval = src->rekey_interval;
        dst->rekey_interval_set = true;
        dst->rekey_file = src->rekey_file;
        dst->rekey_line = src->rekey_line;
    }
}

/* assemble_algorithms(): every algorithm keyword from its spec, default and supported set. */
static int assemble_all(struct parse *p, struct options *o)
{
    const struct profile *f = p->profile;
    const struct {
        int slot;
        const char *def, *all;
    } lists[] = {
        {S_ciphers, f->cipher, f->all_cipher},
        {S_macs, f->mac, f->all_mac},
        {S_kexalgorithms, f->kex, f->all_kex},
        {S_hostkeyalgorithms, f->pk, f->all_key},
        {S_hostbasedacceptedalgorithms, f->pk, f->all_key},
        {S_pubkeyacceptedalgorithms, f->pk, f->all_key},
        {S_casignaturealgorithms, f->casig, f->all_sig},
    };
    for (size_t i = 0; i < PST_COUNT(lists); i++) {
        struct setting *s = &o->s[lists[i].slot];
        char *result = NULL;
        struct names def = {0};
        /* the default list holds only what this build supports */
        if (names_filter(&def, lists[i].def, lists[i].all, false) != 0) {
            return PST_ENOMEM;
        }
        int rc = assemble(s->n > 0 ? s->v[0].text : NULL, def.s != NULL ? def.s : "", lists[i].all,
                          &result);
        free(def.s);
        if (rc == PST_ENOMEM) {
            return rc;
        }
        if (rc != 0) {
            const char *file = p->file;
            long line = p->line;
            if (s->n > 0) {
                p->file = s->v[0].file;
                p->line = s->v[0].line;
            }
            rc = refuse(p, "%s: no algorithm left", pst_sshd_keywords[lists[i].slot].name);
            p->file = file;
            p->line = line;
            return rc;
        }
        if (s->n > 0) {
            free(s->v[0].text);
            s->v[0].text = result;
        } else {
            rc = set_default(p, o, lists[i].slot, result);
            free(result);
            if (rc != 0) {
                return rc;
            }
        }
    }
    return 0;
}

/* The names OpenSSH before 8.5 printed for two keywords that were renamed. */
static const char *const old_names[][2] = {
    {"hostbasedacceptedalgorithms", "hostbasedacceptedkeytypes"},
    {"pubkeyacceptedalgorithms", "pubkeyacceptedkeytypes"},
};

static int config_add(struct pst_sshd_config *c, const struct pst_sshd_keyword *kw,
                      const char *value, const char *file, long line)
{
    if (c->n == c->cap) {
        size_t cap = c->cap > 0 ? c->cap * 2 : 128;
        struct pst_sshd_setting *grown = realloc(c->settings, cap * sizeof *grown);
        if (grown == NULL) {
            return PST_ENOMEM;
        }
        c->settings = grown;
        c->cap = cap;
    }
    struct pst_sshd_setting *s = &c->settings[c->n];
    s->keyword = kw;
    s->name = kw->name;
    for (size_t i = 0; c->version != NULL && i < PST_COUNT(old_names); i++) {
        if (version_number(c->version) < 805 && strcmp(kw->name, old_names[i][0]) == 0) {
            s->name = old_names[i][1];
        }
    }
    s->value = strdup(value);
    s->file = file != NULL ? strdup(file) : NULL;
    s->line = line;
    if (s->value == NULL || (file != NULL && s->file == NULL)) {
        free(s->value);
        free(s->file);
        return PST_ENOMEM;
    }
    c->n++;
    return 0;
}

static struct pst_sshd_config *config_new(void)
{
    struct pst_sshd_config *c = calloc(1, sizeof *c);
    if (c == NULL) {
        return NULL;
    }
    c->notes = json_array();
    if (c->notes == NULL) {
        free(c);
        return NULL;
    }
    return c;
}

/* dump_config(): the final settings, as sshd -T prints them. */
static int render(struct parse *p, struct options *o, struct pst_sshd_config *c)
{
    int rc = 0;
    for (int slot = 0; slot < S_COUNT && rc == 0; slot++) {
        const struct pst_sshd_keyword *kw = &pst_sshd_keywords[slot];
        struct setting *s = &o->s[slot];
        if ((kw->since != 0 && p->profile->number < kw->since) ||
            (kw->until != 0 && p->profile->number > kw->until)) {
            continue;
        }
        if (slot == S_persourcepenalties) {
            static const int defaults_100[] = {90, 5, 1, 10, 10, 600, 15, 65536, 65536, 0, -1};
            static const char *const names[] = {
                "crash", "authfail", "noauth",       "grace-exceeded", "refuseconnection",
                "max",   "min",      "max-sources4", "max-sources6"};
            char text[320];
            int v[11];
            for (size_t i = 0; i < 11; i++) {
                v[i] = o->penalty[i] != -1 ? o->penalty[i] : defaults_100[i];
            }
            if (v[10] == -1) {
                v[10] = v[9]; /* overflow6 follows overflow */
            }
            if (o->penalties_enabled == 0) {
                snprintf(text, sizeof text, "no");
            } else {
                int at = 0;
                for (size_t i = 0; i < PST_COUNT(names); i++) {
                    at += snprintf(text + at, sizeof text - (size_t)at, "%s%s:%d", i > 0 ? " " : "",
                                   names[i], v[i]);
                }
                snprintf(text + at, sizeof text - (size_t)at, " overflow:%s overflow6:%s",
                         v[9] ? "deny-all" : "permissive", v[10] ? "deny-all" : "permissive");
            }
            rc = config_add(c, kw, text, o->penalty_file, o->penalty_line);
            continue;
        }
        if (slot == S_channeltimeout && s->n == 0 && p->profile->number >= 1000) {
            rc = config_add(c, kw, "none", NULL, 0); /* 10.0 prints the default */
            continue;
        }
        if (slot == S_rekeylimit) {
            char text[64];
            snprintf(text, sizeof text, "%lld %d", o->rekey_limit_set ? o->rekey_limit : 0,
                     o->rekey_interval_set ? o->rekey_interval : 0);
            bool set = o->rekey_limit_set || o->rekey_interval_set;
            rc = config_add(c, kw, text, set ? o->rekey_file : NULL, set ? o->rekey_line : 0);
            continue;
        }
        if (kw->shape == PST_SSHD_WORDS) {
            /* one line: the values joined by spaces; channeltimeout none is not printed */
            if (s->n == 0) {
                continue;
            }
            size_t len = 0;
            for (size_t i = 0; i < s->n; i++) {
                len += strlen(s->v[i].text) + 1;
            }
            char *text = malloc(len + 1);
            if (text == NULL) {
                return PST_ENOMEM;
            }
            text[0] = '\0';
            size_t at = 0;
            for (size_t i = 0; i < s->n; i++) {
                at += (size_t)snprintf(text + at, len + 1 - at, "%s%s", i > 0 ? " " : "",
                                       s->v[i].text);
            }
            if (slot == S_authenticationmethods && strcmp(text, "any") == 0) {
                rc = config_add(c, kw, text, s->v[0].file, s->v[0].line);
            } else {
                rc = config_add(c, kw, text, s->v[0].file, s->v[0].line);
            }
            free(text);
            continue;
        }
        if (slot == S_permituserenvironment && s->n > 0 && strcmp(s->v[0].text, "yes") != 0 &&
            strcmp(s->v[0].text, "no") != 0) {
            rc = config_add(c, kw, s->v[0].text, s->v[0].file, s->v[0].line);
            continue;
        }
        for (size_t i = 0; i < s->n && rc == 0; i++) {
            rc = config_add(c, kw, s->v[i].text, s->v[i].file, s->v[i].line);
        }
    }
    return rc;
}

int pst_sshd_config_resolve(struct pst_fs *fs, const char *path, const char *version,
                            const struct pst_sshd_conn *conn, struct pst_sshd_config **out,
                            char *why, size_t n)
{
    struct parse p = {.fs = fs, .why = why, .why_n = n};
    struct options main = {0}, matched = {0};
    for (size_t i = 0; i < PST_COUNT(main.penalty); i++) {
        main.penalty[i] = matched.penalty[i] = -1;
    }
    main.penalties_enabled = matched.penalties_enabled = -1;
    struct pst_sshd_config *c = NULL;
    bool active = true;
    int rc = PST_ENOMEM;

    *out = NULL;
    why[0] = '\0';
    bool exact;
    p.profile = profile_find(version, &exact);
    p.release = version != NULL && strncmp(version, "OpenSSH_", 8) == 0 ? version : NULL;
    p.files = json_array();
    p.contents = json_object();
    p.globs = json_object();
    p.match_settings = json_array();
    c = config_new();
    if (p.files == NULL || p.contents == NULL || p.globs == NULL || p.match_settings == NULL ||
        c == NULL) {
        goto out;
    }
    p.notes = c->notes;
    if (!exact) {
        char msg[160];
        snprintf(msg, sizeof msg, "no table of defaults for OpenSSH %.40s: those of %s are used",
                 version != NULL ? version : "(version unknown)", p.profile->version);
        if (json_array_append_new(
                p.notes, json_pack("{s:s, s:s}", "source", "default", "message", msg)) != 0) {
            goto out;
        }
    }
    c->version = strdup(p.profile->version);
    if (c->version == NULL) {
        goto out;
    }
    /* the first pass: the global section and Match all blocks */
    if ((rc = parse_file(&p, &main, path, 0, &active)) != 0 ||
        (rc = fill_defaults(&p, &main)) != 0) {
        goto out;
    }
    if (conn != NULL && conn->invalid_user && p.profile->number < 1000) {
        snprintf(why, n, "Invalid test mode specification invalid-user (OpenSSH %s)",
                 p.profile->version);
        rc = PST_EPARSE;
        goto out;
    }
    /* the match pass sshd -T always makes, for -C's connection (or none) */
    p.conn = conn != NULL ? conn : &p.none;
    p.files_read = 0;
    p.bytes_read = 0;
    active = false;
    json_t *before = json_copy(p.notes);
    if (before == NULL) {
        rc = PST_ENOMEM;
        goto out;
    }
    if ((rc = parse_file(&p, &matched, path, MATCH_ONLY, &active)) != 0) {
        json_decref(before);
        goto out;
    }
    /* the second pass notes again what the first noted */
    json_array_clear(p.notes);
    json_array_extend(p.notes, before);
    json_decref(before);
    copy_matched(&p, &main, &matched);
    if ((rc = assemble_all(&p, &main)) != 0) {
        goto out;
    }
    rc = render(&p, &main, c);
    if (rc == 0) {
        c->files = json_incref(p.files);
        c->match_settings = json_incref(p.match_settings);
    }
out:
    if (rc == 0) {
        *out = c;
        c = NULL;
    } else if (rc == PST_ENOMEM && why[0] == '\0') {
        snprintf(why, n, "out of memory");
    }
    pst_sshd_config_free(c);
    options_release(&main);
    options_release(&matched);
    free(p.accounts.passwd);
    free(p.accounts.group);
    json_decref(p.files);
    json_decref(p.contents);
    json_decref(p.globs);
    json_decref(p.match_settings);
    return rc;
}

/* ---- sshd -T output ------------------------------------------------------------------- */

int pst_sshd_config_from_dump(const char *text, struct pst_sshd_config **out)
{
    struct pst_sshd_config *c = config_new();
    char *copy = strdup(text);
    int rc = PST_ENOMEM;
    *out = NULL;
    if (c == NULL || copy == NULL) {
        goto out;
    }
    rc = 0;
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line != NULL && rc == 0;
         line = strtok_r(NULL, "\n", &save)) {
        char *space = strchr(line, ' ');
        if (space == NULL) {
            rc = PST_EPARSE;
            break;
        }
        *space = '\0';
        const struct pst_sshd_keyword *kw = NULL;
        const char *name = line;
        for (size_t i = 0; i < PST_COUNT(old_names); i++) {
            if (strcmp(line, old_names[i][1]) == 0) {
                name = old_names[i][0];
            }
        }
        for (size_t i = 0; i < pst_sshd_keywords_count && kw == NULL; i++) {
            if (strcmp(name, pst_sshd_keywords[i].name) == 0) {
                kw = &pst_sshd_keywords[i];
            }
        }
        if (kw == NULL) {
            char msg[160];
            snprintf(msg, sizeof msg, "sshd -T printed a keyword posture does not know: %.100s",
                     line);
            json_t *nt =
                json_pack("{s:s, s:o}", "source", "sshd -T", "message", pst_json_text(msg));
            if (nt == NULL || json_array_append_new(c->notes, nt) != 0) {
                rc = PST_ENOMEM;
            }
            continue;
        }
        rc = config_add(c, kw, space + 1, NULL, 0);
        if (rc == 0) {
            c->settings[c->n - 1].name =
                strcmp(name, line) != 0
                    ? (kw == &pst_sshd_keywords[S_hostbasedacceptedalgorithms] ? old_names[0][1]
                                                                               : old_names[1][1])
                    : kw->name;
        }
    }
    if (rc == 0 && c->n == 0) {
        rc = PST_EPARSE;
    }
out:
    free(copy);
    if (rc == 0) {
        *out = c;
    } else {
        pst_sshd_config_free(c);
    }
    return rc;
}

const struct pst_sshd_setting *pst_sshd_config_find(const struct pst_sshd_config *config,
                                                    const char *name, size_t *count)
{
    const struct pst_sshd_setting *first = NULL;
    *count = 0;
    for (size_t i = 0; i < config->n; i++) {
        const char *kn = config->settings[i].keyword->name;
        /* callers mostly pass the table's own name; the first letter rejects most others */
        if (kn == name || (kn[0] == name[0] && strcmp(kn, name) == 0)) {
            if (first == NULL) {
                first = &config->settings[i];
            }
            (*count)++;
        } else if (first != NULL) {
            break;
        }
    }
    return first;
}

int pst_sshd_config_dump(const struct pst_sshd_config *config, char **text)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL) {
        return PST_ENOMEM;
    }
    for (size_t i = 0; i < config->n; i++) {
        fprintf(f, "%s %s\n", config->settings[i].name, config->settings[i].value);
    }
    if (fclose(f) != 0) {
        free(buf);
        return PST_ENOMEM;
    }
    *text = buf;
    return 0;
}

void pst_sshd_config_free(struct pst_sshd_config *config)
{
    if (config == NULL) {
        return;
    }
    for (size_t i = 0; i < config->n; i++) {
        free(config->settings[i].value);
        free(config->settings[i].file);
    }
    free(config->settings);
    free(config->version);
    json_decref(config->notes);
    json_decref(config->files);
    json_decref(config->match_settings);
    free(config);
}

/* ---- connection specs ----------------------------------------------------------------- */

int pst_sshd_conn_parse(const char *spec, struct pst_sshd_conn *conn, char *why, size_t n)
{
    memset(conn, 0, sizeof *conn);
    char *copy = strdup(spec), *cursor = copy, *item;
    int rc = 0;
    if (copy == NULL) {
        return PST_ENOMEM;
    }
    while ((item = strsep(&cursor, ",")) != NULL && *item != '\0' && rc == 0) {
        static const char *const keys[] = {"user=", "host=", "addr=", "laddr=", "rdomain="};
        char **slots[] = {&conn->user, &conn->host, &conn->addr, &conn->laddr, &conn->rdomain};
        bool done = false;
        for (size_t i = 0; i < PST_COUNT(keys) && !done; i++) {
            size_t klen = strlen(keys[i]);
            if (strncmp(item, keys[i], klen) == 0) {
                free(*slots[i]);
                *slots[i] = strdup(item + klen);
                rc = *slots[i] != NULL ? 0 : PST_ENOMEM;
                done = true;
            }
        }
        if (!done && strcmp(item, "invalid-user") == 0) {
            conn->invalid_user = true;
            done = true;
        }
        if (!done && strncmp(item, "lport=", 6) == 0) {
            conn->lport = to_port(item + 6);
            if (conn->lport <= 0) {
                snprintf(why, n, "invalid port '%s' in connection spec", item + 6);
                rc = PST_EINVAL;
            }
            done = true;
        }
        if (!done) {
            snprintf(why, n,
                     "invalid connection spec item '%s' (user=, host=, addr=, laddr=, "
                     "lport=, rdomain=, invalid-user)",
                     item);
            rc = PST_EINVAL;
        }
    }
    free(copy);
    if (rc != 0) {
        pst_sshd_conn_release(conn);
    }
    return rc;
}

void pst_sshd_conn_release(struct pst_sshd_conn *conn)
{
    free(conn->user);
    free(conn->host);
    free(conn->addr);
    free(conn->laddr);
    free(conn->rdomain);
    memset(conn, 0, sizeof *conn);
}
