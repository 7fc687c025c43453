/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of the kernel probe: installed images from a hand-made dpkg status, pending reboots. */
#include "helpers.h"

#include <string.h>

static const char status_file[] =
    "Package: linux-image-6.1.0-25-amd64\nStatus: install ok installed\nArchitecture: amd64\n"
    "Version: 6.1.106-3\n\n"
    "Package: linux-image-6.1.0-27-amd64\nStatus: deinstall ok config-files\nArchitecture: amd64\n"
    "Version: 6.1.115-1\n\n"
    "Package: linux-image-6.1.0-26-amd64\nStatus: install ok installed\nArchitecture: amd64\n"
    "Version: 6.1.112-1\n\n"
    "Package: linux-image-unsigned-6.1.0-26-cloud-amd64\nStatus: install ok installed\n"
    "Architecture: amd64\nVersion: 6.1.112-1\n\n"
    "Package: linux-image-amd64\nStatus: install ok installed\nArchitecture: amd64\n"
    "Version: 6.1.999-1\n\n";

static void test_images(void **state)
{
    char *root = tmproot_new();
    json_t *r;

    (void)state;
    tmproot_write(root, "/var/lib/dpkg/status", status_file, 0644);
    r = probe_run(root, "kernel", "{}");
    /* the metapackage and the removed image are not images; a version tie goes to the release */
    assert_int_equal(json_integer_value(fact_value(r, "images_count")), 3);
    assert_string_equal(json_string_value(fact_value(r, "newest_image_package")),
                        "linux-image-unsigned-6.1.0-26-cloud-amd64");
    assert_string_equal(json_string_value(fact_value(r, "newest_image_release")),
                        "6.1.0-26-cloud-amd64");
    assert_string_equal(json_string_value(fact_value(r, "newest_image_version")), "6.1.112-1");
    assert_string_equal(fact_source(r, "newest_image_release"), "/var/lib/dpkg/status:16");
    /* an offline root has no running kernel */
    assert_null(fact_value(r, "running_release"));
    assert_null(fact_value(r, "running_is_newest"));
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(r, "errors"), 0), "message")),
                        "running kernel: not available for an offline root");
    assert_true(json_is_false(fact_value(r, "reboot_required")));
    assert_int_equal(json_array_size(fact_value(r, "reboot_required_packages")), 0);
    json_decref(r);

    tmproot_mkdir(root, "/run", 0755);
    tmproot_symlink(root, "/var/run", "/run");
    tmproot_write(root, "/run/reboot-required", "*** System restart required ***\n", 0644);
    tmproot_write(root, "/run/reboot-required.pkgs", "libc6\nlinux-image-6.1.0-26-amd64\nlibc6\n",
                  0644);
    r = probe_run(root, "kernel", "{}");
    assert_true(json_is_true(fact_value(r, "reboot_required")));
    assert_int_equal(json_array_size(fact_value(r, "reboot_required_packages")), 2);
    assert_string_equal(
        json_string_value(json_array_get(fact_value(r, "reboot_required_packages"), 1)),
        "linux-image-6.1.0-26-amd64");
    json_decref(r);
    tmproot_free(root);
}

static void test_no_images(void **state)
{
    char *root = tmproot_new();
    json_t *r;

    (void)state;
    tmproot_write(root, "/var/lib/dpkg/status",
                  "Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5\n",
                  0644);
    r = probe_run(root, "kernel", "{}");
    assert_int_equal(json_integer_value(fact_value(r, "images_count")), 0);
    assert_true(json_is_null(fact_value(r, "newest_image_release")));
    json_decref(r);
    tmproot_free(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_images),
        cmocka_unit_test(test_no_images),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
