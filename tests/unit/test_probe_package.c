/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of the package probe against a hand-made dpkg status file. */
#include "helpers.h"

#include <string.h>

static const char status_file[] = "Package: openssh-server\n"
                                  "Status: install ok installed\n"
                                  "Priority: optional\n"
                                  "Architecture: amd64\n"
                                  "Version: 1:9.2p1-2+deb12u3\n"
                                  "Description: secure shell (SSH) server\n"
                                  " continuation line\n"
                                  "\n"
                                  "Package: telnetd\n"
                                  "Status: deinstall ok config-files\n"
                                  "Architecture: amd64\n"
                                  "Version: 0.17+2.4-2\n"
                                  "\n"
                                  "Package: libc6\n"
                                  "Status: install ok installed\n"
                                  "Architecture: i386\n"
                                  "Version: 2.36-9\n"
                                  "\n"
                                  "Package: libc6\n"
                                  "Status: install ok installed\n"
                                  "Architecture: amd64\n"
                                  "Version: 2.36-9+deb12u4\n"
                                  "\n"
                                  "Package: broken\n"
                                  "Status: install reinstreq half-installed\n"
                                  "Architecture: all\n"
                                  "Version: 1.0\n"
                                  "\n"
                                  "Package: nis\n"
                                  "Status: install ok triggers-pending\n"
                                  "Architecture: amd64\n"
                                  "Version: 4.17.1-3\n"
                                  "\n"
                                  "Package: telnetd-new\n"
                                  "Status: install ok unpacked\n"
                                  "Architecture: amd64\n"
                                  "Version: 0.18\n";

static void test_status(void **state)
{
    char *root = tmproot_new();
    json_t *r;

    (void)state;
    tmproot_write(root, "/var/lib/dpkg/status", status_file, 0644);
    r = probe_run(root, "package", "{\"name\": \"openssh-server\"}");
    assert_true(json_is_true(fact_value(r, "installed")));
    assert_true(json_is_true(fact_value(r, "configured")));
    assert_string_equal(json_string_value(fact_value(r, "version")), "1:9.2p1-2+deb12u3");
    assert_string_equal(json_string_value(fact_value(r, "architecture")), "amd64");
    assert_string_equal(fact_source(r, "installed"), "/var/lib/dpkg/status:1");
    json_decref(r);

    /* removed but not purged: not installed */
    r = probe_run(root, "package", "{\"name\": \"telnetd\"}");
    assert_true(json_is_false(fact_value(r, "installed")));
    assert_true(json_is_false(fact_value(r, "configured")));
    assert_string_equal(json_string_value(fact_value(r, "state")), "config-files");
    /* dpkg still records the version whose configuration files remain */
    assert_string_equal(json_string_value(fact_value(r, "version")), "0.17+2.4-2");
    json_decref(r);

    /* files on disk, not (yet) configured: installed for every "not installed" check */
    r = probe_run(root, "package", "{\"name\": \"nis\"}");
    assert_true(json_is_true(fact_value(r, "installed")));
    assert_true(json_is_false(fact_value(r, "configured")));
    assert_string_equal(json_string_value(fact_value(r, "state")), "triggers-pending");
    json_decref(r);
    r = probe_run(root, "package", "{\"name\": \"telnetd-new\"}");
    assert_true(json_is_true(fact_value(r, "installed")));
    json_decref(r);

    r = probe_run(root, "package", "{\"name\": \"libc6:amd64\"}");
    assert_string_equal(json_string_value(fact_value(r, "version")), "2.36-9+deb12u4");
    json_decref(r);
    r = probe_run(root, "package", "{\"name\": \"libc6:i386\"}");
    assert_string_equal(json_string_value(fact_value(r, "version")), "2.36-9");
    json_decref(r);

    r = probe_run(root, "package", "{\"name\": \"broken\"}");
    assert_true(json_is_true(fact_value(r, "installed")));
    assert_true(json_is_false(fact_value(r, "configured")));
    assert_string_equal(json_string_value(fact_value(r, "state")), "half-installed");
    json_decref(r);

    r = probe_run(root, "package", "{\"name\": \"nosuch\"}");
    assert_true(json_is_false(fact_value(r, "installed")));
    assert_string_equal(json_string_value(fact_value(r, "state")), "not-installed");
    json_decref(r);
    tmproot_free(root);
}

static void test_missing_status(void **state)
{
    char *root = tmproot_new();
    json_t *r;

    (void)state;
    r = probe_run(root, "package", "{\"name\": \"bash\"}");
    assert_null(fact_value(r, "installed"));
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(r, "errors"), 0), "message")),
                        "read /var/lib/dpkg/status: no such file or directory");
    json_decref(r);
    tmproot_free(root);
}

static void test_not_utf8(void **state)
{
    char *root = tmproot_new();
    json_t *r;

    (void)state;
    /* CRLF lines, no final newline; values that are not UTF-8 reported with '?' for each byte */
    tmproot_write(root, "/var/lib/dpkg/status",
                  "Package: other\r\nStatus: install ok installed\r\n\r\n"
                  "Package: odd\r\nStatus: install \xc3\xa9 unpacked\xff\r\n"
                  "Architecture: amd\xff\r\nVersion: 1.0\xfe",
                  0644);
    r = probe_run(root, "package", "{\"name\": \"odd\"}");
    assert_string_equal(json_string_value(fact_value(r, "status")), "install ?? unpacked?");
    assert_string_equal(json_string_value(fact_value(r, "state")), "unpacked?");
    assert_true(json_is_true(fact_value(r, "installed")));
    assert_true(json_is_false(fact_value(r, "configured")));
    assert_string_equal(json_string_value(fact_value(r, "version")), "1.0?");
    assert_string_equal(json_string_value(fact_value(r, "architecture")), "amd?");
    assert_string_equal(fact_source(r, "state"), "/var/lib/dpkg/status:4");
    json_decref(r);
    /* the "NAME:ARCH" key keeps the architecture's own bytes */
    r = probe_run(root, "package", "{\"name\": \"other:\"}");
    assert_string_equal(json_string_value(fact_value(r, "state")), "installed");
    assert_null(json_string_value(fact_value(r, "version")));
    json_decref(r);
    tmproot_free(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status),
        cmocka_unit_test(test_missing_status),
        cmocka_unit_test(test_not_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
