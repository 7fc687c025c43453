/* SPDX-License-Identifier: Apache-2.0 */
/* The probe registry: adding a probe is one file in probes/ and one line here. */
#include "probes/probe.h"

extern const struct pst_probe pst_probe_accounts;
extern const struct pst_probe pst_probe_audit;
extern const struct pst_probe pst_probe_bootloader;
extern const struct pst_probe pst_probe_dpkg_verify;
extern const struct pst_probe pst_probe_file;
extern const struct pst_probe pst_probe_firewall;
extern const struct pst_probe pst_probe_fswalk;
extern const struct pst_probe pst_probe_homes;
extern const struct pst_probe pst_probe_kernel;
extern const struct pst_probe pst_probe_keyvalue;
extern const struct pst_probe pst_probe_lines;
extern const struct pst_probe pst_probe_logging;
extern const struct pst_probe pst_probe_mac;
extern const struct pst_probe pst_probe_os;
extern const struct pst_probe pst_probe_package;
extern const struct pst_probe pst_probe_packages;
extern const struct pst_probe pst_probe_sockets;
extern const struct pst_probe pst_probe_sshd;
extern const struct pst_probe pst_probe_sysctl;
extern const struct pst_probe pst_probe_kmod;
extern const struct pst_probe pst_probe_mount;
extern const struct pst_probe pst_probe_systemd;
extern const struct pst_probe pst_probe_pam;
extern const struct pst_probe pst_probe_sudo;

const struct pst_probe *const pst_probes[] = {
    &pst_probe_accounts, &pst_probe_audit,    &pst_probe_bootloader, &pst_probe_dpkg_verify,
    &pst_probe_file,     &pst_probe_firewall, &pst_probe_fswalk,     &pst_probe_homes,
    &pst_probe_kernel,   &pst_probe_keyvalue, &pst_probe_kmod,       &pst_probe_lines,
    &pst_probe_logging,  &pst_probe_mac,      &pst_probe_mount,      &pst_probe_os,
    &pst_probe_package,  &pst_probe_packages, &pst_probe_pam,        &pst_probe_sockets,
    &pst_probe_sshd,     &pst_probe_sudo,     &pst_probe_sysctl,     &pst_probe_systemd,
};

const size_t pst_probes_count = PST_COUNT(pst_probes);
