/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the probes' parsers of files they read from a host (os-release, dpkg
 * status (also as the packages and kernel probes read it), md5sums, lists and diversions,
 * passwd/group, shells, KEY VALUE files, line matching; shadow, PAM stacks and module files,
 * sudoers with includes, audit rules and auditd.conf, journald and rsyslog configuration, GRUB
 * files, AppArmor profiles, shell start-up files), through the root-aware fs layer.
 * The input becomes every one of those files in a scratch root.
 */
#include "agent/error.h"
#include "probes/probe.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char root[64];

static void put(const char *rel, const uint8_t *data, size_t size)
{
    char path[256];
    int fd;

    snprintf(path, sizeof(path), "%s%s", root, rel);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        abort();
    }
    if (size > 0 && write(fd, data, size) != (ssize_t)size) {
        abort();
    }
    close(fd);
}

static void remove_root(void)
{
    static const char *const made[] = {
        "/etc/os-release",
        "/etc/passwd",
        "/etc/group",
        "/etc/login.defs",
        "/etc/shadow",
        "/etc/shells",
        "/etc/sudoers",
        "/etc/sudoers.d/fuzz",
        "/etc/sudoers.d",
        "/etc/pam.d/common-password",
        "/etc/pam.d/common-auth",
        "/etc/pam.d/su",
        "/etc/pam.d",
        "/etc/security/pwquality.conf",
        "/etc/security/faillock.conf",
        "/etc/security/pwhistory.conf",
        "/etc/security",
        "/etc/audit/rules.d/fuzz.rules",
        "/etc/audit/rules.d",
        "/etc/audit/auditd.conf",
        "/etc/audit",
        "/etc/systemd/journald.conf",
        "/etc/systemd",
        "/etc/rsyslog.conf",
        "/etc/default/grub",
        "/etc/default",
        "/etc/apparmor.d/fuzz",
        "/etc/apparmor.d",
        "/etc/profile",
        "/etc/environment",
        "/boot/grub/grub.cfg",
        "/boot/grub",
        "/boot",
        "/var/lib/dpkg/status",
        "/var/lib/dpkg",
        "/var/lib",
        "/var",
        "/etc",
        "",
    };
    char path[256];

    for (size_t i = 0; i < sizeof(made) / sizeof(made[0]); i++) {
        snprintf(path, sizeof(path), "%s%s", root, made[i]);
        remove(path);
    }
}

static void setup_root(void)
{
    char path[256];

    snprintf(root, sizeof(root), "/tmp/posture-fuzz-%ld", (long)getpid());
    mkdir(root, 0755);
    snprintf(path, sizeof(path), "%s/etc", root);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/var", root);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/var/lib", root);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/var/lib/dpkg", root);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/var/lib/dpkg/info", root);
    mkdir(path, 0755);
    static const char *const dirs[] = {"/etc/sudoers.d", "/etc/pam.d",      "/etc/security",
                                       "/etc/audit",     "/etc/audit/rules.d", "/etc/systemd",
                                       "/etc/default",   "/etc/apparmor.d", "/boot",
                                       "/boot/grub"};
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        snprintf(path, sizeof(path), "%s%s", root, dirs[i]);
        mkdir(path, 0755);
    }
    atexit(remove_root);
}

static void run(struct pst_probe_ctx *ctx, const char *name, const char *args_text)
{
    json_t *args = json_loads(args_text, 0, NULL);
    const struct pst_call *result = NULL;

    int rc = pst_probe_call(ctx, pst_probe_find(name), args, &result);

    if (rc != PST_OK || result == NULL) {
        fprintf(stderr, "probe %s failed: %s\n", name, pst_strerror(rc));
        __builtin_trap(); /* only running out of memory may fail a call */
    }
    json_decref(args);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pst_fs *fs = NULL;
    struct pst_probe_ctx ctx;

    if (root[0] == '\0') {
        setup_root();
    }
    put("/etc/os-release", data, size);
    put("/etc/passwd", data, size);
    put("/etc/group", data, size);
    put("/etc/login.defs", data, size);
    put("/var/lib/dpkg/status", data, size);
    put("/etc/shells", data, size);
    put("/var/lib/dpkg/diversions", data, size);
    put("/var/lib/dpkg/info/fuzz.list", data, size);
    put("/var/lib/dpkg/info/fuzz.md5sums", data, size);
    put("/etc/shadow", data, size);
    put("/etc/sudoers", data, size);
    put("/etc/sudoers.d/fuzz", data, size);
    put("/etc/pam.d/common-password", data, size);
    put("/etc/pam.d/common-auth", data, size);
    put("/etc/pam.d/su", data, size);
    put("/etc/security/pwquality.conf", data, size);
    put("/etc/security/faillock.conf", data, size);
    put("/etc/security/pwhistory.conf", data, size);
    put("/etc/audit/rules.d/fuzz.rules", data, size);
    put("/etc/audit/auditd.conf", data, size);
    put("/etc/systemd/journald.conf", data, size);
    put("/etc/rsyslog.conf", data, size);
    put("/etc/default/grub", data, size);
    put("/etc/apparmor.d/fuzz", data, size);
    put("/etc/profile", data, size);
    put("/etc/environment", data, size);
    put("/boot/grub/grub.cfg", data, size);
    if (pst_fs_new(root, &fs) != PST_OK || pst_probe_ctx_init(&ctx, fs) != PST_OK) {
        abort();
    }
    run(&ctx, "os", "{}");
    run(&ctx, "file", "{\"path\": \"/etc/passwd\"}");
    run(&ctx, "keyvalue", "{\"path\": \"/etc/login.defs\", \"key\": \"PASS_MAX_DAYS\"}");
    run(&ctx, "keyvalue",
        "{\"path\": \"/etc/login.defs\", \"key\": \"A\", \"separator\": \"equals\", \"match\": "
        "\"first\"}");
    run(&ctx, "lines", "{\"path\": \"/etc/group\", \"regex\": \"^[^:]*:[^:]*:0:\"}");
    run(&ctx, "package", "{\"name\": \"openssh-server\"}");
    run(&ctx, "package", "{\"name\": \"libc6:amd64\"}");
    run(&ctx, "packages", "{}");
    run(&ctx, "kernel", "{}");
    run(&ctx, "homes", "{}");
    run(&ctx, "dpkg_verify", "{\"prefixes\": [\"/etc\", \"/var\"], \"byte_budget\": 1000000}");
    run(&ctx, "fswalk", "{\"roots\": [\"/etc\"]}");
    run(&ctx, "accounts", "{}");
    run(&ctx, "pam", "{}");
    run(&ctx, "pam", "{\"service\": \"su\"}");
    run(&ctx, "sudo", "{}");
    run(&ctx, "audit", "{}");
    run(&ctx, "logging", "{}");
    run(&ctx, "mac", "{}");
    run(&ctx, "bootloader", "{}");
    pst_probe_ctx_release(&ctx);
    pst_fs_free(fs);
    return 0;
}
