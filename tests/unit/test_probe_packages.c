/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of apt's data as the packages probe reads it: apt.conf, sources, Release files,
 * preferences, the streaming decompressors, and the probe on small hand-made roots.
 * integration/packages compares the probe with apt itself.
 */
#include "helpers.h"

#include "agent/error.h"
#include "probes/apt.h"
#include "probes/zread.h"

#include <lz4frame.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static void test_aptconf(void **state)
{
    struct pst_aptconf c;
    char err[256];
    char text[] = "// comment\n"
                  "APT::Periodic::Update-Package-Lists \"1\";\n"
                  "APT { Periodic { Unattended-Upgrade \"1\"; }; };\n"
                  "# a hash comment\n"
                  "Unattended-Upgrade::Origins-Pattern {\n"
                  "  \"origin=Debian,label=Debian-Security\"; /* block\n comment */\n"
                  "  \"o=Other\";\n"
                  "};\n"
                  "#clear Unattended-Upgrade::Origins-Pattern;\n"
                  "Unattended-Upgrade::Origins-Pattern { \"o=Kept\"; };\n"
                  "apt::default-release stable;\n";
    char second[] = "APT::Periodic::Update-Package-Lists \"0\";\n";
    char broken[] = "A::B \"1\";\nC { D \"2\";\n";
    char unbalanced[] = "A::B \"1\"; };\n";
    const char *source = NULL;
    const json_t *list;

    (void)state;
    assert_int_equal(pst_aptconf_init(&c), PST_OK);
    assert_int_equal(pst_aptconf_parse(&c, text, "/etc/apt/apt.conf.d/a", err, sizeof(err)),
                     PST_OK);
    assert_string_equal(pst_aptconf_get(&c, "APT::Periodic::Update-Package-Lists", &source), "1");
    assert_string_equal(source, "/etc/apt/apt.conf.d/a:2");
    assert_string_equal(pst_aptconf_get(&c, "apt::periodic::unattended-upgrade", NULL), "1");
    assert_string_equal(pst_aptconf_get(&c, "APT::Default-Release", &source), "stable");
    assert_string_equal(source, "/etc/apt/apt.conf.d/a:12");
    list = json_object_get(c.lists, "unattended-upgrade::origins-pattern");
    assert_int_equal(json_array_size(list), 1); /* #clear dropped the first two */
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "value")),
                        "o=Kept");
    /* a later file wins */
    assert_int_equal(pst_aptconf_parse(&c, second, "/etc/apt/apt.conf.d/b", err, sizeof(err)),
                     PST_OK);
    assert_string_equal(pst_aptconf_get(&c, "APT::Periodic::Update-Package-Lists", NULL), "0");
    /* errors name the file and line; what came before is kept */
    assert_int_equal(pst_aptconf_parse(&c, broken, "/x", err, sizeof(err)), PST_EPARSE);
    assert_string_equal(err, "/x:3: a block is not closed");
    assert_string_equal(pst_aptconf_get(&c, "A::B", NULL), "1");
    assert_int_equal(pst_aptconf_parse(&c, unbalanced, "/y", err, sizeof(err)), PST_EPARSE);
    assert_string_equal(err, "/y:1: '}' without a block");
    pst_aptconf_release(&c);
}

static void test_aptconf_depth(void **state)
{
    struct pst_aptconf c;
    char err[256];
    char *deep = malloc(200 * 4 + 1);

    (void)state;
    deep[0] = '\0';
    for (int i = 0; i < 200; i++) {
        memcpy(deep + i * 4, "a { ", 5);
    }
    assert_int_equal(pst_aptconf_init(&c), PST_OK);
    assert_int_equal(pst_aptconf_parse(&c, deep, "/deep", err, sizeof(err)), PST_EPARSE);
    assert_string_equal(err, "/deep:1: blocks nested deeper than 64");
    pst_aptconf_release(&c);
    free(deep);
}

static void test_sources(void **state)
{
    char one[] =
        "# comment\n"
        "deb [arch=amd64,i386 signed-by=/k.gpg] http://deb.debian.org/debian bookworm main "
        "contrib # trailing\n"
        "deb-src http://deb.debian.org/debian bookworm main\n"
        "deb http://example.org/repo ./\n"
        "deb http://example.org/nocomp bookworm\n"
        "rpm http://example.org/x y z\n";
    char deb822[] = "Types: deb deb-src\n"
                    "URIs: http://a.example/debian\n"
                    "  http://b.example/debian\n"
                    "Suites: bookworm bookworm-updates\n"
                    "Components: main\n"
                    "\n"
                    "# disabled\n"
                    "Types: deb\n"
                    "URIs: http://c.example/debian\n"
                    "Suites: x\n"
                    "Components: main\n"
                    "Enabled: no\n";
    json_t *entries = json_array();
    json_t *errors = json_array();
    json_t *e;

    (void)state;
    assert_int_equal(pst_apt_sources_parse(one, "/etc/apt/sources.list", false, entries, errors),
                     PST_OK);
    assert_int_equal(json_array_size(entries), 2);
    e = json_array_get(entries, 0);
    assert_string_equal(json_string_value(json_object_get(e, "uri")),
                        "http://deb.debian.org/debian");
    assert_string_equal(json_string_value(json_object_get(e, "suite")), "bookworm");
    assert_int_equal(json_array_size(json_object_get(e, "components")), 2);
    assert_int_equal(json_array_size(json_object_get(e, "archs")), 2);
    assert_string_equal(json_string_value(json_object_get(e, "source")), "/etc/apt/sources.list:2");
    e = json_array_get(entries, 1);
    assert_string_equal(json_string_value(json_object_get(e, "suite")), "./");
    assert_true(json_is_null(json_object_get(e, "archs")));
    assert_int_equal(json_array_size(errors), 2);
    assert_string_equal(json_string_value(json_array_get(errors, 0)),
                        "/etc/apt/sources.list:5: suite bookworm has no components");
    assert_string_equal(json_string_value(json_array_get(errors, 1)),
                        "/etc/apt/sources.list:6: unknown source type 'rpm'");
    json_array_clear(entries);
    json_array_clear(errors);
    assert_int_equal(pst_apt_sources_parse(deb822, "/d.sources", true, entries, errors), PST_OK);
    assert_int_equal(json_array_size(entries), 4); /* two URIs times two suites */
    assert_string_equal(json_string_value(json_object_get(json_array_get(entries, 3), "uri")),
                        "http://b.example/debian");
    assert_int_equal(json_array_size(errors), 0);
    json_decref(entries);
    json_decref(errors);
}

static void test_uri_to_filename(void **state)
{
    char *name;

    (void)state;
    name = pst_apt_uri_to_filename("http://deb.debian.org/debian/dists/bookworm/InRelease");
    assert_string_equal(name, "deb.debian.org_debian_dists_bookworm_InRelease");
    free(name);
    name = pst_apt_uri_to_filename("https://user:pw@example.org:8080/a~b_c/Packages");
    assert_string_equal(name, "example.org:8080_a%7eb%5fc_Packages");
    free(name);
}

static void test_release(void **state)
{
    static const char inrelease[] = "-----BEGIN PGP SIGNED MESSAGE-----\n"
                                    "Hash: SHA256\n"
                                    "\n"
                                    "Origin: Debian\n"
                                    "Label: Debian-Security\n"
                                    "Suite: oldstable-security\n"
                                    "Codename: bookworm-security\n"
                                    "Version: 12\n"
                                    "Date: Sat, 21 Nov 2026 00:53:02 UTC\n"
                                    "NotAutomatic: yes\n"
                                    "ButAutomaticUpgrades: yes\n"
                                    "MD5Sum:\n"
                                    " 0000 1 main/Origin: fake\n"
                                    "-----BEGIN PGP SIGNATURE-----\n"
                                    "\n"
                                    "Suite: forged\n"
                                    "-----END PGP SIGNATURE-----\n";
    struct pst_apt_release r;
    long long t;

    (void)state;
    assert_int_equal(pst_apt_release_parse(inrelease, strlen(inrelease), &r), PST_OK);
    assert_string_equal(r.origin, "Debian");
    assert_string_equal(r.label, "Debian-Security");
    assert_string_equal(r.suite, "oldstable-security"); /* not the text after the signature */
    assert_string_equal(r.codename, "bookworm-security");
    assert_string_equal(r.version, "12");
    assert_true(r.not_automatic);
    assert_true(r.but_automatic_upgrades);
    assert_int_equal(r.date, 1795222382LL);
    assert_int_equal(pst_apt_release_parse("garbage", 7, &r), PST_EPARSE);
    assert_int_equal(pst_apt_release_parse("-----BEGIN PGP SIGNED MESSAGE-----\nHash: x", 43, &r),
                     PST_EPARSE);
    assert_int_equal(pst_apt_date_parse("Thu, 01 Jan 1970 00:00:10 UTC", &t), PST_OK);
    assert_int_equal(t, 10);
    assert_int_equal(pst_apt_date_parse("Thu, 01 Foo 1970 00:00:10 UTC", &t), PST_EPARSE);
    assert_int_equal(pst_apt_date_parse("yesterday", &t), PST_EPARSE);
}

static void test_pins(void **state)
{
    char prefs[] = "Package: *\n"
                   "Pin: release a=stable\n"
                   "Pin-Priority: 700\n"
                   "\n"
                   "# no priority: apt warns and skips it\n"
                   "Package: foo\n"
                   "Pin: version 1.0\n"
                   "\n"
                   "Package: foo\n"
                   "Pin: bogus x\n"
                   "Pin-Priority: 5\n"
                   "\n"
                   "Pin: release a=x\n"
                   "Pin-Priority: 5\n";
    struct pst_apt_pin *pins = NULL;
    size_t n = 0;
    json_t *errors = json_array();

    (void)state;
    assert_int_equal(pst_apt_pins_parse(prefs, "/etc/apt/preferences", &pins, &n, errors), PST_OK);
    assert_int_equal(n, 1);
    assert_int_equal(json_array_size(errors), 3);
    assert_string_equal(json_string_value(json_array_get(errors, 0)),
                        "/etc/apt/preferences:6: no priority (or zero) for the pin: ignored, as "
                        "apt does");
    assert_string_equal(json_string_value(json_array_get(errors, 1)),
                        "/etc/apt/preferences:9: pin type 'bogus' not understood: ignored, as "
                        "apt does");
    assert_string_equal(json_string_value(json_array_get(errors, 2)),
                        "/etc/apt/preferences:13: a preferences record without Package (apt "
                        "refuses the file)");
    assert_int_equal(pst_apt_pins_default_release("stable", &pins, &n), PST_OK);
    assert_int_equal(n, 2);
    pst_apt_pins_free(pins, n);
    json_decref(errors);
}

static int collect(const struct pst_apt_result *r, void *arg)
{
    json_t *list = arg;
    char line[256];

    snprintf(line, sizeof(line), "%s:%s %s%s", r->name, r->arch, r->candidate,
             r->upgradable ? (r->security ? " security" : " upgrade") : "");
    json_array_append_new(list, json_string(line));
    return 0;
}

static void test_candidates(void **state)
{
    struct pst_apt_db *db = NULL;
    struct pst_apt_list lists[3];
    json_t *out = json_array();
    char prefs[] = "Package: pinned\nPin: version 1.5*\nPin-Priority: 1001\n\n"
                   "Package: down\nPin: version 0.9\nPin-Priority: 1001\n";
    struct pst_apt_pin *pins = NULL;
    size_t n_pins = 0;
    json_t *errors = json_array();

    (void)state;
    memset(lists, 0, sizeof(lists));
    lists[0].has_release = true;
    snprintf(lists[0].release.suite, sizeof(lists[0].release.suite), "stable");
    lists[1].has_release = true;
    snprintf(lists[1].release.suite, sizeof(lists[1].release.suite), "stable-security");
    lists[1].security = true;
    lists[2].has_release = true;
    snprintf(lists[2].release.suite, sizeof(lists[2].release.suite), "experimental");
    lists[2].release.not_automatic = true;
    assert_int_equal(pst_apt_pins_parse(prefs, "/p", &pins, &n_pins, errors), PST_OK);
    assert_int_equal(pst_apt_db_new("amd64", &db), PST_OK);
    assert_int_equal(pst_apt_db_add_installed(db, "a", "amd64", "1.0", "install ok installed", 1),
                     PST_OK);
    assert_int_equal(pst_apt_db_add_installed(db, "b", "all", "1:1.0", "install ok installed", 2),
                     PST_OK);
    assert_int_equal(pst_apt_db_add_installed(db, "pinned", "amd64", "1.0", "i ok installed", 3),
                     PST_OK);
    assert_int_equal(pst_apt_db_add_installed(db, "down", "amd64", "1.0", "i ok installed", 4),
                     PST_OK);
    assert_int_equal(pst_apt_db_add_installed(db, "bad", "amd64", "1:", "i ok installed", 5),
                     PST_EPARSE);
    assert_true(pst_apt_db_has(db, "b", "amd64"));
    assert_true(pst_apt_db_has(db, "b", "all"));
    assert_false(pst_apt_db_has(db, "b", "i386"));
    /* a: security 1.1 and main 1.1 merge; experimental 2.0 stays at priority 1 */
    assert_int_equal(pst_apt_db_add_available(db, "a", "amd64", "1.1", 0, 100), PST_OK);
    assert_int_equal(pst_apt_db_add_available(db, "a", "amd64", "1.1", 1, 100), PST_OK);
    assert_int_equal(pst_apt_db_add_available(db, "a", "amd64", "2.0", 2, 100), PST_OK);
    /* b: an epochless 2.0 is older than 1:1.0; a tilde release is older than its release */
    assert_int_equal(pst_apt_db_add_available(db, "b", "all", "2.0", 0, 100), PST_OK);
    assert_int_equal(pst_apt_db_add_available(db, "b", "amd64", "1:1.0~rc1", 0, 100), PST_OK);
    assert_int_equal(pst_apt_db_add_available(db, "b", "amd64", "1:", 0, 100), PST_EPARSE);
    assert_int_equal(pst_apt_db_add_available(db, "pinned", "amd64", "1.6", 0, 100), PST_OK);
    assert_int_equal(pst_apt_db_add_available(db, "pinned", "amd64", "1.5.2", 0, 100), PST_OK);
    assert_int_equal(pst_apt_db_add_available(db, "down", "amd64", "0.9", 0, 100), PST_OK);
    assert_int_equal(pst_apt_db_add_available(db, "down", "amd64", "1.2", 0, 100), PST_OK);
    assert_int_equal(pst_apt_db_add_available(db, "notinstalled", "amd64", "9", 0, 100), PST_OK);
    assert_int_equal(pst_apt_db_resolve(db, lists, 3, pins, n_pins, collect, out), PST_OK);
    assert_int_equal(json_array_size(out), 4);
    assert_string_equal(json_string_value(json_array_get(out, 0)), "a:amd64 1.1 security");
    assert_string_equal(json_string_value(json_array_get(out, 1)), "b:amd64 1:1.0");
    /* a pin of 1001 on 0.9: a downgrade, not an upgrade */
    assert_string_equal(json_string_value(json_array_get(out, 2)), "down:amd64 0.9");
    assert_string_equal(json_string_value(json_array_get(out, 3)), "pinned:amd64 1.5.2 upgrade");
    assert_int_equal(lists[2].priority, 1);
    assert_int_equal(lists[0].priority, 500);
    pst_apt_db_free(db);
    pst_apt_pins_free(pins, n_pins);
    json_decref(out);
    json_decref(errors);
}

/* Reads every line of DATA through the decompressor KIND into one string. */
static char *read_all(const void *data, size_t size, enum pst_zkind kind, int *rc)
{
    struct pst_zread *z = NULL;
    size_t cap = 1 << 16, used = 0;
    char *all = calloc(1, cap);
    char *line;
    size_t len;
    int got;

    *rc = pst_zread_open_mem(data, size, kind, 4 << 20, &z);
    assert_int_equal(*rc, PST_OK);
    while ((got = pst_zread_line(z, &line, &len)) > 0) {
        if (got == 2) {
            len = 4;
            line = "LONG";
        }
        assert_true(used + len + 2 < cap);
        memcpy(all + used, line, len);
        used += len;
        all[used++] = '|';
        all[used] = '\0';
    }
    *rc = got;
    pst_zread_free(z);
    return all;
}

static void test_zread(void **state)
{
    static const char text[] = "Package: a\r\nVersion: 1\n\nPackage: b\nVersion: 2";
    unsigned char gz[512], xzbuf[512], lz[512];
    size_t gz_len, xz_len = 0, lz_len;
    z_stream zs;
    char *all;
    int rc;

    (void)state;
    memset(&zs, 0, sizeof(zs));
    assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    zs.next_in = (unsigned char *)text;
    zs.avail_in = sizeof(text) - 1;
    zs.next_out = gz;
    zs.avail_out = sizeof(gz);
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    gz_len = sizeof(gz) - zs.avail_out;
    deflateEnd(&zs);
    assert_int_equal(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, NULL, (const uint8_t *)text,
                                             sizeof(text) - 1, xzbuf, &xz_len, sizeof(xzbuf)),
                     LZMA_OK);
    lz_len = LZ4F_compressFrame(lz, sizeof(lz), text, sizeof(text) - 1, NULL);
    assert_false(LZ4F_isError(lz_len));

    const struct {
        const void *data;
        size_t size;
        enum pst_zkind kind;
    } cases[] = {
        {text, sizeof(text) - 1, PST_Z_PLAIN},
        {gz, gz_len, PST_Z_GZIP},
        {xzbuf, xz_len, PST_Z_XZ},
        {lz, lz_len, PST_Z_LZ4},
    };
    for (size_t i = 0; i < PST_COUNT(cases); i++) {
        all = read_all(cases[i].data, cases[i].size, cases[i].kind, &rc);
        if (rc != 0) {
            fail_msg("kind %d: %d", (int)cases[i].kind, rc);
        }
        assert_string_equal(all, "Package: a|Version: 1||Package: b|Version: 2|");
        free(all);
        if (cases[i].kind != PST_Z_PLAIN) {
            /* cut short: an error, never a silently shorter list */
            all = read_all(cases[i].data, cases[i].size - 6, cases[i].kind, &rc);
            assert_int_equal(rc, PST_EPARSE);
            free(all);
        }
    }
    assert_int_equal(pst_zread_kind("x_Packages.lz4"), PST_Z_LZ4);
    assert_int_equal(pst_zread_kind("x_Packages.gz"), PST_Z_GZIP);
    assert_int_equal(pst_zread_kind("x_Packages.xz"), PST_Z_XZ);
    assert_int_equal(pst_zread_kind("x_Packages"), PST_Z_PLAIN);
}

static void test_zread_long_line_and_limit(void **state)
{
    size_t n = PST_ZREAD_LINE_MAX + 100;
    char *big = malloc(n + 64);
    struct pst_zread *z = NULL;
    char *line;
    size_t len;
    char *all;
    int rc;

    (void)state;
    memcpy(big, "first\n", 6);
    memset(big + 6, 'x', n);
    memcpy(big + 6 + n, "\nlast\n", 6);
    all = read_all(big, n + 12, PST_Z_PLAIN, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(all, "first|LONG|last|");
    free(all);
    /* more bytes than the limit: an error */
    assert_int_equal(pst_zread_open_mem(big, n + 12, PST_Z_PLAIN, 1000, &z), PST_OK);
    while ((rc = pst_zread_line(z, &line, &len)) > 0) {
    }
    assert_int_equal(rc, PST_ETOOBIG);
    pst_zread_free(z);
    free(big);
}

static void test_probe(void **state)
{
    char *root = tmproot_new();
    json_t *r;

    (void)state;
    tmproot_write(
        root, "/var/lib/dpkg/status",
        "Package: dpkg\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.21\n\n"
        "Package: bash\nStatus: hold ok installed\nArchitecture: amd64\nVersion: 5.2-1\n\n"
        "Package: vim\nStatus: install reinstreq half-installed\nArchitecture: amd64\n"
        "Version: 2:9.0-1\n\n"
        "Package: noversion\nStatus: install ok installed\nArchitecture: amd64\n",
        0644);
    /* no sources: the lists are missing, nothing is upgradable */
    r = probe_run(root, "packages", "{}");
    assert_true(json_is_true(fact_value(r, "lists_missing")));
    assert_true(json_is_null(fact_value(r, "list_age_days")));
    assert_int_equal(json_integer_value(fact_value(r, "installed_count")), 3);
    assert_int_equal(json_integer_value(fact_value(r, "held_count")), 1);
    assert_int_equal(json_integer_value(fact_value(r, "broken_count")), 1);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(fact_value(r, "broken"), 0), "state")),
        "reinstreq");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(r, "errors"), 0), "message")),
                        "/var/lib/dpkg/status:16: noversion has no Version");
    json_decref(r);

    tmproot_write(root, "/etc/apt/sources.list", "deb http://deb.example.org/debian stable main\n",
                  0644);
    tmproot_write(
        root, "/var/lib/apt/lists/deb.example.org_debian_dists_stable_main_binary-amd64_Packages",
        "Package: bash\nVersion: 5.2-2\nArchitecture: amd64\nPhased-Update-Percentage: 10\n\n"
        "Package: vim\nVersion: 2:9.0-2\nArchitecture: amd64\n",
        0644);
    r = probe_run(root, "packages", "{\"max_findings\": 1}");
    assert_int_equal(json_integer_value(fact_value(r, "upgradable_count")), 2);
    assert_int_equal(json_array_size(fact_value(r, "upgradable")), 1); /* bounded */
    {
        const json_t *bash = json_array_get(fact_value(r, "upgradable"), 0);
        assert_string_equal(json_string_value(json_object_get(bash, "name")), "bash");
        assert_true(json_is_true(json_object_get(bash, "held")));
        assert_int_equal(json_integer_value(json_object_get(bash, "phased")), 10);
        assert_true(json_is_null(json_object_get(bash, "suite")));
    }
    assert_int_equal(json_integer_value(fact_value(r, "missing_lists_count")), 0);
    assert_true(json_is_false(fact_value(r, "lists_missing")));
    /* no Release file: said, and the list is still used */
    assert_non_null(strstr(json_string_value(json_object_get(
                               json_array_get(json_object_get(r, "errors"), 1), "message")),
                           "no Release file for deb.example.org_debian_dists_stable_"));
    json_decref(r);
    tmproot_free(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aptconf),
        cmocka_unit_test(test_aptconf_depth),
        cmocka_unit_test(test_sources),
        cmocka_unit_test(test_uri_to_filename),
        cmocka_unit_test(test_release),
        cmocka_unit_test(test_pins),
        cmocka_unit_test(test_candidates),
        cmocka_unit_test(test_zread),
        cmocka_unit_test(test_zread_long_line_and_limit),
        cmocka_unit_test(test_probe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
