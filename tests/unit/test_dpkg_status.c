/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of dpkg's status index: fields in place, names resolved as dpkg-query resolves them. */
#include "helpers.h"

#include "probes/dpkg_status.h"

#include <stdlib.h>
#include <string.h>

/* The index of TEXT (copied: the index takes its buffer). */
static struct pst_dpkg_status *index_of(const char *text, size_t len)
{
    struct pst_dpkg_status *st = NULL;
    char *buf = malloc(len + 1);

    assert_non_null(buf);
    memcpy(buf, text, len);
    buf[len] = '\0';
    assert_int_equal(pst_dpkg_status_new(buf, len, &st), PST_OK);
    assert_non_null(st);
    return st;
}

static void assert_pkg(const struct pst_dpkg_status *st, const char *key, const char *status,
                       const char *version, const char *arch, long line)
{
    const struct pst_dpkg_pkg *p = pst_dpkg_status_find(st, key);

    assert_non_null(p);
    assert_string_equal(p->status, status);
    if (version == NULL) {
        assert_null(p->version);
    } else {
        assert_string_equal(p->version, version);
    }
    if (arch == NULL) {
        assert_null(p->arch);
        assert_int_equal(p->arch_len, 0);
    } else {
        assert_string_equal(p->arch, arch);
        assert_int_equal(p->arch_len, strlen(arch));
    }
    assert_int_equal(p->name_len, strlen(p->name));
    assert_int_equal(p->line, line);
}

/* The keys with a colon as the iteration gives them: "NAME=LINE,..." */
static void assert_keys(const struct pst_dpkg_status *st, const char *want)
{
    char got[1024] = "";
    size_t at = 0, pos = 0;
    struct pst_dpkg_entry e;

    while (pst_dpkg_status_next(st, &pos, &e)) {
        at += (size_t)snprintf(got + at, sizeof(got) - at, "%s%.*s=%ld", at ? "," : "",
                               (int)e.name_len, e.name, e.pkg->line);
        assert_true(at < sizeof(got));
    }
    assert_string_equal(got, want);
}

static void test_fields(void **state)
{
    static const char text[] =
        "Package: openssh-server\n"           /* 1 */
        "Status: install ok installed\n"      /* 2 */
        "Priority: optional\n"                /* 3 */
        "Architecture: amd64\n"               /* 4 */
        "Version: 1:9.2p1-2+deb12u3\n"        /* 5 */
        "Description: secure shell\n"         /* 6 */
        " Package: not-a-package\n"           /* 7: a continuation line */
        "\tVersion: 0\n"                      /* 8 */
        "\n"                                  /* 9 */
        "Status: install ok installed\n"      /* 10: a stanza without Package */
        "Version: 9\n"                        /* 11 */
        "\n"                                  /* 12 */
        "\n"                                  /* 13: blank lines in a row */
        "Package:nospace\n"                   /* 14 */
        "Version:\t \t2.0 \n"                 /* 15: blanks before the value go, after it stay */
        "\n"                                  /* 16 */
        "Package: renamed\n"                  /* 17 */
        "Package: twice\n"                    /* 18: the later field of a stanza counts */
        "Packages: not-a-field\n"             /* 19 */
        "Status: deinstall ok config-files\n" /* 20 */
        "\n"                                  /* 21 */
        "Package: last\n"                     /* 22 */
        "Status: install ok unpacked\n"       /* 23 */
        "Version: 3";                         /* 24: no final newline */
    struct pst_dpkg_status *st;

    (void)state;
    st = index_of(text, sizeof(text) - 1);
    assert_int_equal(pst_dpkg_status_count(st), 4);
    assert_pkg(st, "openssh-server", "install ok installed", "1:9.2p1-2+deb12u3", "amd64", 1);
    assert_pkg(st, "openssh-server:amd64", "install ok installed", "1:9.2p1-2+deb12u3", "amd64", 1);
    assert_null(pst_dpkg_status_find(st, "not-a-package"));
    assert_null(pst_dpkg_status_find(st, "openssh-server:i386"));
    assert_null(pst_dpkg_status_find(st, "openssh"));
    assert_null(pst_dpkg_status_find(st, "openssh-server:"));
    /* without Architecture the key is "NAME:", without Status the status is "" */
    assert_pkg(st, "nospace", "", "2.0 ", NULL, 14);
    assert_pkg(st, "nospace:", "", "2.0 ", NULL, 14);
    assert_pkg(st, "twice", "deinstall ok config-files", NULL, NULL, 18);
    assert_null(pst_dpkg_status_find(st, "renamed"));
    assert_pkg(st, "last", "install ok unpacked", "3", NULL, 22);
    assert_keys(st, "openssh-server=1,nospace=14,twice=18,last=22");
    pst_dpkg_status_free(st);
}

static void test_crlf(void **state)
{
    static const char text[] = "Package: a\r\nStatus: install ok installed\r\nVersion: 1\r\n"
                               "Architecture: amd64\r\nDescription: d\r\n cont\r\n\r\n"
                               "Package: b\r\nStatus: install ok unpacked\r\nVersion: 2\r\n"
                               "Architecture: all\r";
    struct pst_dpkg_status *st;

    (void)state;
    st = index_of(text, sizeof(text) - 1);
    assert_pkg(st, "a:amd64", "install ok installed", "1", "amd64", 1);
    assert_pkg(st, "b", "install ok unpacked", "2", "all", 8);
    assert_pkg(st, "b:all", "install ok unpacked", "2", "all", 8);
    assert_keys(st, "a=1,b=8");
    pst_dpkg_status_free(st);

    /* one stanza, no blank line after it; and a file with no stanza at all */
    st = index_of("Package: solo\nVersion: 3.0\n", 27);
    assert_pkg(st, "solo", "", "3.0", NULL, 1);
    pst_dpkg_status_free(st);
    st = index_of("", 0);
    assert_int_equal(pst_dpkg_status_count(st), 0);
    assert_null(pst_dpkg_status_find(st, "solo"));
    assert_keys(st, "");
    pst_dpkg_status_free(st);
}

static void test_multiarch(void **state)
{
    static const char text[] = "Package: libfoo\nStatus: deinstall ok config-files\n"
                               "Architecture: i386\nVersion: 1.0\n\n" /* 1 */
                               "Package: libfoo\nStatus: install ok installed\n"
                               "Architecture: amd64\nVersion: 1.1\n\n" /* 6 */
                               "Package: libfoo\nStatus: install ok installed\n"
                               "Architecture: arm64\nVersion: 1.2\n\n" /* 11 */
                               "Package: gone\nStatus: purge ok config-files\n"
                               "Architecture: amd64\nVersion: 1\n\n" /* 16 */
                               "Package: gone\nStatus: purge ok not-installed\n"
                               "Architecture: i386\nVersion: 2\n\n" /* 21 */
                               "Package: twice\nStatus: install ok installed\n"
                               "Architecture: amd64\nVersion: 1\n\n" /* 26 */
                               "Package: twice\nStatus: install ok half-configured\n"
                               "Architecture: amd64\nVersion: 2\n"; /* 31 */
    struct pst_dpkg_status *st;

    (void)state;
    st = index_of(text, sizeof(text) - 1);
    /* the bare name: the first instance whose files are there, as dpkg-query picks it */
    assert_pkg(st, "libfoo", "install ok installed", "1.1", "amd64", 6);
    assert_pkg(st, "libfoo:i386", "deinstall ok config-files", "1.0", "i386", 1);
    assert_pkg(st, "libfoo:arm64", "install ok installed", "1.2", "arm64", 11);
    /* none installed: the last one */
    assert_pkg(st, "gone", "purge ok not-installed", "2", "i386", 21);
    /* the same name and architecture twice: the later stanza, but the name keeps the first */
    assert_pkg(st, "twice", "install ok installed", "1", "amd64", 26);
    assert_pkg(st, "twice:amd64", "install ok half-configured", "2", "amd64", 31);
    assert_keys(st, "libfoo=1,libfoo=6,libfoo=11,gone=16,gone=21,twice=31");
    pst_dpkg_status_free(st);
}

static void test_odd_names(void **state)
{
    char text[2048];
    char key[700];
    struct pst_dpkg_status *st;
    int n;

    (void)state;
    /* a name with a colon of its own (dpkg never writes one) is a key like any other */
    n = snprintf(text, sizeof(text),
                 "Package: a:b\nStatus: install ok installed\nVersion: 1\n\n"
                 "Package: a\nArchitecture: b\nStatus: install ok installed\nVersion: 2\n\n"
                 "Package: \xff\xfe\nArchitecture: amd64\nStatus: install \xc3\xa9 \xff\n"
                 "Version: 1\xff\n\n"
                 "Package: %0600d\nArchitecture: amd64\nVersion: 4\n",
                 0);
    st = index_of(text, (size_t)n);
    assert_pkg(st, "a:b", "install ok installed", "2", "b", 5); /* the later key took it */
    assert_pkg(st, "a:b:", "install ok installed", "1", NULL, 1);
    assert_pkg(st, "a", "install ok installed", "2", "b", 5);
    /* names are kept as they are, UTF-8 or not */
    assert_pkg(st, "\xff\xfe", "install \xc3\xa9 \xff", "1\xff", "amd64", 10);
    assert_pkg(st, "\xff\xfe:amd64", "install \xc3\xa9 \xff", "1\xff", "amd64", 10);
    /* "NAME:ARCH" is cut to 511 bytes; the bare name is whole */
    snprintf(key, sizeof(key), "%0600d", 0);
    assert_pkg(st, key, "", "4", "amd64", 15);
    key[511] = '\0';
    assert_pkg(st, key, "", "4", "amd64", 15);
    key[510] = '\0';
    assert_null(pst_dpkg_status_find(st, key));
    assert_keys(st, "a=1,a=5,\xff\xfe=10");
    pst_dpkg_status_free(st);
}

static void test_text(void **state)
{
    char *copy;

    (void)state;
    assert_string_equal(pst_dpkg_text("1.0-1", &copy), "1.0-1");
    assert_null(copy);
    assert_string_equal(pst_dpkg_text("caf\xc3\xa9", &copy), "caf\xc3\xa9");
    assert_null(copy);
    /* as pst_json_text: every byte from 0x80 of a text that is not UTF-8 */
    assert_string_equal(pst_dpkg_text("\xc3\xa9 \xff", &copy), "?? ?");
    assert_non_null(copy);
    free(copy);
    assert_null(pst_dpkg_text(NULL, &copy));
    assert_null(copy);
}

static void test_unreadable(void **state)
{
    char *root = tmproot_new();
    json_t *r;

    (void)state;
    /* a directory where the file should be: every probe of the scan reports it */
    tmproot_mkdir(root, "/var/lib/dpkg/status", 0755);
    r = probe_run(root, "kernel", "{}");
    assert_null(fact_value(r, "images"));
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(r, "errors"), 1), "message")),
                        "read /var/lib/dpkg/status: wrong file type");
    json_decref(r);
    tmproot_free(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields),    cmocka_unit_test(test_crlf),
        cmocka_unit_test(test_multiarch), cmocka_unit_test(test_odd_names),
        cmocka_unit_test(test_text),      cmocka_unit_test(test_unreadable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
