/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the host probes' parsers of configuration an offline root holds
 * (sysctl.d, modprobe.d, fstab, systemd unit files and drop-ins, mount units), through the
 * root-aware fs layer. The input becomes every one of those files in a scratch root.
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

static const char *const dirs[] = {
    "/etc",
    "/etc/sysctl.d",
    "/etc/modprobe.d",
    "/etc/systemd",
    "/etc/systemd/system",
    "/etc/systemd/system/multi-user.target.wants",
    "/etc/systemd/system/fuzz.service.d",
    "/usr",
    "/usr/lib",
    "/usr/lib/systemd",
    "/usr/lib/systemd/system",
};

static const char *const files[] = {
    "/etc/sysctl.d/10-fuzz.conf",
    "/etc/modprobe.d/fuzz.conf",
    "/etc/fstab",
    "/usr/lib/systemd/system/fuzz.service",
    "/usr/lib/systemd/system/fuzz@.service",
    "/etc/systemd/system/fuzz.service.d/10-fuzz.conf",
    "/etc/systemd/system/tmp.mount",
};

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
    char path[256];

    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s%s", root, files[i]);
        remove(path);
    }
    snprintf(path, sizeof(path), "%s/etc/systemd/system/multi-user.target.wants/fuzz.service",
             root);
    remove(path);
    for (size_t i = sizeof(dirs) / sizeof(dirs[0]); i > 0; i--) {
        snprintf(path, sizeof(path), "%s%s", root, dirs[i - 1]);
        remove(path);
    }
    remove(root);
}

static void setup_root(void)
{
    char path[256];

    snprintf(root, sizeof(root), "/tmp/posture-fuzz-host-%ld", (long)getpid());
    mkdir(root, 0755);
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        snprintf(path, sizeof(path), "%s%s", root, dirs[i]);
        mkdir(path, 0755);
    }
    snprintf(path, sizeof(path), "%s/etc/systemd/system/multi-user.target.wants/fuzz.service",
             root);
    if (symlink("/usr/lib/systemd/system/fuzz.service", path) != 0) {
        abort();
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
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        put(files[i], data, size);
    }
    if (pst_fs_new(root, &fs) != PST_OK || pst_probe_ctx_init(&ctx, fs) != PST_OK) {
        abort();
    }
    run(&ctx, "sysctl", "{\"key\": \"kernel.randomize_va_space\"}");
    run(&ctx, "sysctl", "{\"key\": \"net/ipv4/conf/eth0.1/rp_filter\"}");
    run(&ctx, "kmod", "{\"name\": \"usb-storage\"}");
    run(&ctx, "kmod", "{\"name\": \"cramfs\"}");
    run(&ctx, "mount", "{\"path\": \"/tmp\"}");
    run(&ctx, "mount", "{\"path\": \"/home\"}");
    run(&ctx, "systemd", "{\"unit\": \"fuzz.service\"}");
    run(&ctx, "systemd", "{\"unit\": \"fuzz@one.service\"}");
    run(&ctx, "systemd", "{\"unit\": \"fuzz@.service\"}");
    pst_probe_ctx_release(&ctx);
    pst_fs_free(fs);
    return 0;
}
