#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs everything posture needs to build and to run its test suite, from Debian's
# packages. Idempotent: what is installed already is left alone, and the package lists are
# refreshed only when something is missing. Run as root (or through sudo).
set -euo pipefail

packages=(
    # build
    build-essential cmake pkg-config
    libyaml-dev libjansson-dev libmbedtls-dev
    # apt lists as apt keeps them: lz4, gzip, xz (the libraries are loaded when needed)
    liblz4-dev zlib1g-dev liblzma-dev
    # the policy cache's checksum: xxHash's XXH3
    libxxhash-dev
    # tests: unit tests, JSON assertions, a real Debian root, memory checks, fuzzing
    libcmocka-dev jq debootstrap valgrind clang libclang-rt-14-dev util-linux
    # the reference for the sshd probe: sshd -T
    openssh-server
    # tests: reading lz4 lists from the shell
    lz4
    # reference tools the host probes are compared with: visudo, augenrules and auditctl
    sudo auditd
    # benchmarks: GNU time for peak RSS
    time
    # the host probes' references: systemd-sysctl, systemctl, modprobe
    systemd kmod
    # the firewall probe reads the kernel's nftables ruleset over netlink (libmnl, libnftnl)
    libmnl-dev libnftnl-dev
    # firewall and sockets tests: rulesets loaded into network namespaces with nft,
    # iptables-nft/-legacy and ufw's own ufw-init (ufw stays disabled: ENABLED=no), ip and ss
    nftables iptables ufw iproute2
    # tests: which files a scan opens (the policy cache must spare the policy file)
    strace
    # the collector: HTTPS server (libmicrohttpd over GnuTLS), storage (SQLite)
    libmicrohttpd-dev libgnutls28-dev libsqlite3-dev
    # collector tests: independent clients (openssl, curl), the database read back (sqlite3),
    # libcurl for the ingest benchmark's load generator
    openssl curl sqlite3 libcurl4-openssl-dev
    # the agent's transport: HTTPS delivery over libcurl with OpenSSL (the pinned-CA
    # fingerprint check is an OpenSSL verify callback, hence the OpenSSL headers)
    libssl-dev
    # report signatures: nettle's SHA-256 (SHA extensions) and P-256 signing and verification
    # (hogweed over GMP), for the agent and the collector
    nettle-dev libgmp-dev
)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f '${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "setup: all ${#packages[@]} packages are installed"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "setup: run as root to install: ${missing[*]}" >&2
    exit 1
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
