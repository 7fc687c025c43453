/* SPDX-License-Identifier: Apache-2.0 */
/* Reading the kernel's nftables ruleset over netlink into the firewall model. */
#ifndef PST_FIREWALL_NETLINK_H
#define PST_FIREWALL_NETLINK_H

#include "probes/firewall.h"

#include <stddef.h>

/*
 * Reads every ip, ip6 and inet chain and rule of the current network namespace (rules that
 * iptables-nft, ufw and firewalld wrote included) into RS, with list requests only. Returns
 * 0; PST_EACCES or PST_EIO with the reason in WHY[N]; PST_ETOOBIG; PST_ENOMEM.
 */
int pst_fw_read_kernel(struct pst_fw_ruleset *rs, char *why, size_t n);

#endif
