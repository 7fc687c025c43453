/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the sshd probe and its parser on fixture roots: sources, versions, notes, errors
 * and the fields a policy reads. (tests/integration/sshd_parity.sh compares the parser with
 * the real sshd -T of each version on the whole corpus.)
 */
#include "helpers.h"

#include "agent/error.h"
#include "probes/sshd_config.h"

#include <stdlib.h>
#include <string.h>

static const char ed25519_pub[] =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl test\n";

/* Resolves ROOT's /etc/ssh/sshd_config; asserts the outcome RC and returns the config. */
static struct pst_sshd_config *resolve(const char *root, const char *version, const char *spec,
                                       int rc, char *why)
{
    struct pst_fs *fs = NULL;
    struct pst_sshd_conn conn;
    struct pst_sshd_config *c = NULL;
    assert_int_equal(pst_fs_new(root, &fs), PST_OK);
    if (spec != NULL) {
        assert_int_equal(pst_sshd_conn_parse(spec, &conn, why, 256), PST_OK);
    }
    assert_int_equal(pst_sshd_config_resolve(fs, "/etc/ssh/sshd_config", version,
                                             spec != NULL ? &conn : NULL, &c, why, 256),
                     rc);
    if (spec != NULL) {
        pst_sshd_conn_release(&conn);
    }
    pst_fs_free(fs);
    return c;
}

static const char *value(const struct pst_sshd_config *c, const char *name)
{
    size_t n;
    const struct pst_sshd_setting *s = pst_sshd_config_find(c, name, &n);
    return n > 0 ? s->value : NULL;
}

static void test_sources_and_first_value(void **state)
{
    char *root = tmproot_new();
    char why[256];
    (void)state;
    tmproot_write(root, "/etc/ssh/sshd_config",
                  "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin yes\nmaxauthtries 5\n",
                  0600);
    tmproot_write(root, "/etc/ssh/sshd_config.d/50-site.conf", "PermitRootLogin no\n", 0600);
    struct pst_sshd_config *c = resolve(root, "9.2", NULL, PST_OK, why);
    size_t n;
    const struct pst_sshd_setting *s = pst_sshd_config_find(c, "permitrootlogin", &n);
    assert_int_equal(n, 1);
    assert_string_equal(s->value, "no");
    assert_string_equal(s->file, "/etc/ssh/sshd_config.d/50-site.conf");
    assert_int_equal(s->line, 1);
    s = pst_sshd_config_find(c, "maxauthtries", &n);
    assert_string_equal(s->value, "5");
    assert_int_equal(s->line, 3);
    s = pst_sshd_config_find(c, "x11forwarding", &n);
    assert_null(s->file); /* a compiled-in default */
    assert_string_equal(json_string_value(json_array_get(c->files, 1)),
                        "/etc/ssh/sshd_config.d/50-site.conf");
    pst_sshd_config_free(c);
    tmproot_free(root);
}

static void test_versions(void **state)
{
    char *root = tmproot_new();
    char why[256];
    (void)state;
    tmproot_write(root, "/etc/ssh/sshd_config", "PermitRootLogin no\n", 0600);
    struct pst_sshd_config *c = resolve(root, "OpenSSH_10.0p2 Debian-7+deb13u4", NULL, PST_OK, why);
    assert_string_equal(c->version, "10.0");
    assert_string_equal(value(c, "ipqos"), "ef cs1");
    assert_string_equal(value(c, "channeltimeout"), "none");
    assert_int_equal(json_array_size(c->notes), 0);
    pst_sshd_config_free(c);
    /* a version that is no OpenSSH version: the newest table, and a note says so */
    c = resolve(root, "1:8.4p1-5+deb11u3", NULL, PST_OK, why);
    assert_string_equal(c->version, "10.0");
    assert_int_equal(json_array_size(c->notes), 1);
    pst_sshd_config_free(c);
    c = resolve(root, "8.4p1", NULL, PST_OK, why);
    assert_string_equal(c->version, "8.4");
    assert_null(value(c, "modulifile"));
    assert_string_equal(value(c, "challengeresponseauthentication"), "yes");
    char *dump = NULL;
    assert_int_equal(pst_sshd_config_dump(c, &dump), PST_OK);
    assert_non_null(strstr(dump, "\npubkeyacceptedkeytypes ")); /* 8.4's name */
    free(dump);
    pst_sshd_config_free(c);
    c = resolve(root, "9.6", NULL, PST_OK, why); /* no table: the nearest older one */
    assert_string_equal(c->version, "9.2");
    assert_non_null(strstr(json_string_value(json_object_get(json_array_get(c->notes, 0), "message")),
                           "no table of defaults for OpenSSH 9.6: those of 9.2 are used"));
    pst_sshd_config_free(c);
    tmproot_free(root);
}

static void test_match_and_refusals(void **state)
{
    char *root = tmproot_new();
    char why[256];
    (void)state;
    tmproot_write(root, "/etc/passwd", "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/h:/bin/sh\n", 0644);
    tmproot_write(root, "/etc/group", "root:x:0:\nalice:x:1000:\nsftp:x:1001:alice\n", 0644);
    tmproot_write(root, "/etc/ssh/sshd_config",
                  "X11Forwarding no\nMatch Group sftp\n  X11Forwarding yes\n  ChrootDirectory /srv\n", 0600);
    struct pst_sshd_config *c = resolve(root, "9.2", "user=alice,host=h,addr=192.0.2.1", PST_OK, why);
    assert_string_equal(value(c, "x11forwarding"), "yes");
    assert_string_equal(value(c, "chrootdirectory"), "/srv");
    pst_sshd_config_free(c);
    c = resolve(root, "9.2", "user=root,host=h,addr=192.0.2.1", PST_OK, why);
    assert_string_equal(value(c, "x11forwarding"), "no");
    pst_sshd_config_free(c);
    /* refusals name the file and line, as sshd does */
    tmproot_write(root, "/etc/ssh/sshd_config", "PermitRootLogin no\nMatch User x\n  Port 2\n", 0600);
    assert_null(resolve(root, "9.2", NULL, PST_EPARSE, why));
    assert_string_equal(why, "/etc/ssh/sshd_config:3: Directive 'Port' is not allowed within a Match block");
    tmproot_write(root, "/etc/ssh/sshd_config", "Include a.conf\n", 0600);
    tmproot_write(root, "/etc/ssh/a.conf", "Include /etc/ssh/sshd_config\n", 0600);
    assert_null(resolve(root, "9.2", NULL, PST_EPARSE, why));
    assert_non_null(strstr(why, "include loop: /etc/ssh/sshd_config includes itself"));
    tmproot_write(root, "/etc/ssh/sshd_config", "Ciphers aes128-ctr,blowfish-cbc\n", 0600);
    assert_null(resolve(root, "9.2", NULL, PST_EPARSE, why));
    assert_string_equal(why, "/etc/ssh/sshd_config:1: Bad Ciphers 'aes128-ctr,blowfish-cbc'.");
    struct pst_sshd_conn conn;
    assert_int_equal(pst_sshd_conn_parse("user=a,port=22", &conn, why, sizeof why), PST_EINVAL);
    assert_non_null(strstr(why, "invalid connection spec item 'port=22'"));
    assert_int_equal(pst_sshd_conn_parse("lport=99999", &conn, why, sizeof why), PST_EINVAL);
    tmproot_free(root);
}

static void test_dump_roundtrip(void **state)
{
    struct pst_sshd_config *c = NULL;
    char *text = NULL;
    (void)state;
    assert_int_equal(pst_sshd_config_from_dump("port 22\nport 2222\npubkeyacceptedkeytypes a,b\n"
                                               "futurekeyword 1\nciphers x,y\n",
                                               &c),
                     PST_OK);
    size_t n;
    pst_sshd_config_find(c, "port", &n);
    assert_int_equal(n, 2);
    assert_string_equal(value(c, "pubkeyacceptedalgorithms"), "a,b");
    assert_int_equal(json_array_size(c->notes), 1);
    assert_int_equal(pst_sshd_config_dump(c, &text), PST_OK);
    assert_string_equal(text, "port 22\nport 2222\npubkeyacceptedkeytypes a,b\nciphers x,y\n");
    free(text);
    pst_sshd_config_free(c);
    assert_int_equal(pst_sshd_config_from_dump("", &c), PST_EPARSE);
    assert_int_equal(pst_sshd_config_from_dump("nospace\n", &c), PST_EPARSE);
}

static void test_probe_fields(void **state)
{
    char *root = tmproot_new();
    (void)state;
    tmproot_write(root, "/etc/ssh/sshd_config",
                  "HostKey /etc/ssh/ssh_host_ed25519_key\nHostKey /etc/ssh/missing_key\n"
                  "Ciphers aes128-ctr,aes256-gcm@openssh.com\nAcceptEnv LANG LC_*\nMaxStartups 5:40:20\n",
                  0644);
    tmproot_write(root, "/etc/ssh/ssh_host_ed25519_key", "private, not read here\n", 0640);
    tmproot_write(root, "/etc/ssh/ssh_host_ed25519_key.pub", ed25519_pub, 0666);
    json_t *r = probe_run(root, "sshd", "{}");
    assert_int_equal(json_array_size(json_object_get(r, "errors")), 0);
    assert_string_equal(json_string_value(fact_value(r, "resolved_by")), "parser");
    assert_string_equal(json_string_value(json_array_get(fact_value(r, "ciphers"), 1)),
                        "aes256-gcm@openssh.com");
    assert_string_equal(fact_source(r, "ciphers"), "/etc/ssh/sshd_config:3");
    assert_int_equal(json_array_size(fact_value(r, "acceptenv")), 2);
    assert_int_equal(json_integer_value(fact_value(r, "maxauthtries")), 6);
    assert_string_equal(fact_source(r, "maxauthtries"), "default");
    assert_int_equal(json_integer_value(fact_value(r, "maxstartups_full")), 20);
    assert_int_equal(json_integer_value(fact_value(r, "maxstartups_rate")), 40);
    assert_int_equal(json_array_size(fact_value(r, "allowusers")), 0);
    /* the missing key is skipped as sshd skips it; the present one is judged */
    assert_int_equal(json_array_size(fact_value(r, "host_keys")), 1);
    const json_t *key = json_array_get(fact_value(r, "host_keys"), 0);
    assert_string_equal(json_string_value(json_object_get(key, "type")), "ssh-ed25519");
    assert_int_equal(json_integer_value(json_object_get(key, "bits")), 256);
    assert_int_equal(json_integer_value(fact_value(r, "host_keys_weak_count")), 0);
    assert_int_equal(json_integer_value(fact_value(r, "host_keys_private_bad_permissions_count")), 1);
    assert_int_equal(json_integer_value(fact_value(r, "host_keys_public_bad_permissions_count")), 1);
    assert_int_equal(json_integer_value(fact_value(r, "config_files_bad_permissions_count")), 1);
    json_decref(r);
    /* a configuration sshd refuses: every field is an error with the reason */
    tmproot_write(root, "/etc/ssh/sshd_config", "PermitRootLogin maybe\n", 0600);
    r = probe_run(root, "sshd", "{}");
    assert_null(fact_value(r, "permitrootlogin"));
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(r, "errors"), 0), "message")),
                        "sshd would refuse this configuration: /etc/ssh/sshd_config:1: unsupported option \"maybe\".");
    json_decref(r);
    tmproot_free(root);
}


/* The release ROOT's /usr/sbin/sshd holds, read as the probe reads it: PST_OK and "X.Y"... */
static int binary_version(const char *root, char version[PST_SSHD_VERSION_MAX])
{
    struct pst_fs *fs = NULL;
    assert_int_equal(pst_fs_new(root, &fs), PST_OK);
    int rc = pst_sshd_binary_version(fs, "/usr/sbin/sshd", version);
    pst_fs_free(fs);
    return rc;
}

/* A binary of LEN bytes of filler, with STRINGS (NUL-separated, NUL-ended) placed at AT. */
static void write_binary(const char *root, size_t len, size_t at, const char *strings, size_t n)
{
    char *b = malloc(len);
    assert_non_null(b);
    for (size_t i = 0; i < len; i++) {
        b[i] = (char)("\x7f" "ELF\x01OpenSSH\x02" "abc"[i % 16]);
    }
    assert_true(at + n <= len);
    memcpy(b + at, strings, n);
    tmproot_write_bytes(root, "/usr/sbin/sshd", b, len, 0755);
    free(b);
}

static void test_binary_version(void **state)
{
    (void)state;
    char *root = tmproot_new();
    char v[PST_SSHD_VERSION_MAX];
    /* what Debian 12's sshd holds: compatibility patterns, then its release three ways */
    static const char debian[] = "\0OpenSSH_2*,OpenSSH_3*,OpenSSH_4*\0OpenSSH_7.4*\0"
                                 "OpenSSH_9.2\0OpenSSH_9.2p1\0OpenSSH_9.2p1 Debian-2+deb12u10\0";
    tmproot_mkdir(root, "/usr", 0755);
    tmproot_mkdir(root, "/usr/sbin", 0755);

    /* wherever the strings fall against the reader's 32 KiB windows, the same answer */
    for (size_t at = 32 * 1024 - 200; at < 32 * 1024 + 40; at++) {
        write_binary(root, 70000, at, debian, sizeof(debian) - 1);
        assert_int_equal(binary_version(root, v), PST_OK);
        assert_string_equal(v, "9.2");
    }
    /* at the file's very start and very end */
    write_binary(root, sizeof(debian) - 2, 0, debian + 1, sizeof(debian) - 2);
    assert_int_equal(binary_version(root, v), PST_OK);
    assert_string_equal(v, "9.2");
    write_binary(root, 5000, 5000 - (sizeof(debian) - 1), debian, sizeof(debian) - 1);
    assert_int_equal(binary_version(root, v), PST_OK);
    assert_string_equal(v, "9.2");
    write_binary(root, 70000, 65536 - 20, "\0OpenSSH_10.0p2 Debian-7+deb13u4\0", 34);
    assert_int_equal(binary_version(root, v), PST_OK);
    assert_string_equal(v, "10.0");

    /* not releases: patterns, text after the version, a string with no NUL before it, one
     * cut by the end of the file, one too long */
    static const char *const none[] = {"\0OpenSSH_7.4*\0", "\0OpenSSH_9.2, OpenSSL\0",
                                       "\0OpenSSH_9\0", "\0OpenSSH_9.2x\0", "xOpenSSH_9.2\0",
                                       "\0OpenSSH_9.2p\0", "\0OpenSSH_.2\0"};
    for (size_t i = 0; i < PST_COUNT(none); i++) {
        write_binary(root, 4000, 1000, none[i], strlen(none[i] + 1) + 2);
        assert_int_equal(binary_version(root, v), PST_EPARSE);
        assert_string_equal(v, "");
    }
    write_binary(root, 4000, 4000 - 12, "\0OpenSSH_9.2", 12);
    assert_int_equal(binary_version(root, v), PST_EPARSE);
    char big[200] = "\0OpenSSH_9.2p1 ";
    memset(big + 15, 'a', 150);
    write_binary(root, 4000, 1000, big, 167);
    assert_int_equal(binary_version(root, v), PST_EPARSE);
    /* two releases that disagree: the binary does not say (sshd -V will) */
    static const char two[] = "\0OpenSSH_9.2\0OpenSSH_9.3p1\0";
    write_binary(root, 70000, 32760, two, sizeof(two) - 1);
    assert_int_equal(binary_version(root, v), PST_EPARSE);
    /* no binary */
    tmproot_write(root, "/usr/sbin/sshd", "", 0755);
    assert_int_equal(binary_version(root, v), PST_EPARSE);
    tmproot_free(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sources_and_first_value),
        cmocka_unit_test(test_versions),
        cmocka_unit_test(test_match_and_refusals),
        cmocka_unit_test(test_dump_roundtrip),
        cmocka_unit_test(test_probe_fields),
        cmocka_unit_test(test_binary_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
