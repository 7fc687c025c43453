/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The keywords `sshd -T` prints, in its order: X(name, shape, since, until, description), where
 * since and until bound the OpenSSH versions that print it (902 = 9.2; 0: no bound). One list makes
 * the parser's settings, the sshd probe's fields and the docs' field table.
 */
#ifndef PST_SSHD_KEYWORDS_H
#define PST_SSHD_KEYWORDS_H

#define PST_SSHD_KEYWORDS(X)                                                                       \
    X(port, LINES, 0, 0, "ports sshd listens on")                                                  \
    X(addressfamily, TEXT, 0, 0, "any, inet or inet6")                                             \
    X(listenaddress, LINES, 0, 0, "address:port pairs sshd listens on")                            \
    X(usepam, TEXT, 0, 0, "yes when PAM is used")                                                  \
    X(pamservicename, TEXT, 1000, 0, "PAM service sshd authenticates with")                        \
    X(logingracetime, INT, 0, 0, "seconds to authenticate before disconnect")                      \
    X(x11displayoffset, INT, 0, 0, "first X11 display number")                                     \
    X(maxauthtries, INT, 0, 0, "authentication attempts per connection")                           \
    X(maxsessions, INT, 0, 0, "sessions per network connection")                                   \
    X(clientaliveinterval, INT, 0, 0, "seconds between keepalive probes")                          \
    X(clientalivecountmax, INT, 0, 0, "unanswered probes before disconnect")                       \
    X(requiredrsasize, INT, 902, 0, "smallest RSA key accepted, in bits")                          \
    X(streamlocalbindmask, TEXT, 0, 0, "umask of forwarded Unix sockets")                          \
    X(unusedconnectiontimeout, TEXT, 902, 0, "seconds, or none")                                   \
    X(permitrootlogin, TEXT, 0, 0,                                                                 \
      "yes, no, without-password (prohibit-password) or forced-commands-only")                     \
    X(ignorerhosts, TEXT, 0, 0, "yes, no or shosts-only")                                          \
    X(ignoreuserknownhosts, TEXT, 0, 0, "yes or no")                                               \
    X(hostbasedauthentication, TEXT, 0, 0, "yes or no")                                            \
    X(hostbasedusesnamefrompacketonly, TEXT, 0, 0, "yes or no")                                    \
    X(pubkeyauthentication, TEXT, 0, 0, "yes or no")                                               \
    X(kerberosauthentication, TEXT, 0, 0, "yes or no")                                             \
    X(kerberosorlocalpasswd, TEXT, 0, 0, "yes or no")                                              \
    X(kerberosticketcleanup, TEXT, 0, 0, "yes or no")                                              \
    X(gssapiauthentication, TEXT, 0, 0, "yes or no")                                               \
    X(gssapicleanupcredentials, TEXT, 0, 0, "yes or no")                                           \
    X(gssapikeyexchange, TEXT, 0, 0, "yes or no")                                                  \
    X(gssapistrictacceptorcheck, TEXT, 0, 0, "yes or no")                                          \
    X(gssapistorecredentialsonrekey, TEXT, 0, 0, "yes or no")                                      \
    X(gssapikexalgorithms, COMMA, 0, 0, "GSSAPI key exchange algorithms")                          \
    X(passwordauthentication, TEXT, 0, 0, "yes or no")                                             \
    X(kbdinteractiveauthentication, TEXT, 0, 0, "yes or no")                                       \
    X(challengeresponseauthentication, TEXT, 0, 804, "yes or no (OpenSSH before 8.7)")             \
    X(printmotd, TEXT, 0, 0, "yes or no")                                                          \
    X(printlastlog, TEXT, 0, 0, "yes or no")                                                       \
    X(x11forwarding, TEXT, 0, 0, "yes or no")                                                      \
    X(x11uselocalhost, TEXT, 0, 0, "yes or no")                                                    \
    X(permittty, TEXT, 0, 0, "yes or no")                                                          \
    X(permituserrc, TEXT, 0, 0, "yes or no")                                                       \
    X(strictmodes, TEXT, 0, 0, "yes or no")                                                        \
    X(tcpkeepalive, TEXT, 0, 0, "yes or no")                                                       \
    X(permitemptypasswords, TEXT, 0, 0, "yes or no")                                               \
    X(compression, TEXT, 0, 0, "yes (delayed) or no")                                              \
    X(gatewayports, TEXT, 0, 0, "yes, no or clientspecified")                                      \
    X(usedns, TEXT, 0, 0, "yes or no")                                                             \
    X(allowtcpforwarding, TEXT, 0, 0, "yes (all), no, local or remote")                            \
    X(allowagentforwarding, TEXT, 0, 0, "yes or no")                                               \
    X(disableforwarding, TEXT, 0, 0, "yes or no")                                                  \
    X(allowstreamlocalforwarding, TEXT, 0, 0, "yes (all), no, local or remote")                    \
    X(streamlocalbindunlink, TEXT, 0, 0, "yes or no")                                              \
    X(fingerprinthash, TEXT, 0, 0, "SHA256 or MD5")                                                \
    X(exposeauthinfo, TEXT, 0, 0, "yes or no")                                                     \
    X(refuseconnection, TEXT, 1000, 0, "yes: sshd refuses every connection")                       \
    X(debianbanner, TEXT, 1000, 0, "yes: the version banner names Debian")                         \
    X(pidfile, TEXT, 0, 0, "path, or none")                                                        \
    X(modulifile, TEXT, 902, 0, "path")                                                            \
    X(xauthlocation, TEXT, 0, 0, "path, or none")                                                  \
    X(ciphers, COMMA, 0, 0, "ciphers offered, in order")                                           \
    X(macs, COMMA, 0, 0, "MACs offered, in order")                                                 \
    X(banner, TEXT, 0, 0, "path, or none")                                                         \
    X(forcecommand, TEXT, 0, 0, "command, or none")                                                \
    X(chrootdirectory, TEXT, 0, 0, "path, or none")                                                \
    X(trustedusercakeys, TEXT, 0, 0, "path, or none")                                              \
    X(revokedkeys, TEXT, 0, 0, "path, or none")                                                    \
    X(securitykeyprovider, TEXT, 0, 0, "internal or a library path")                               \
    X(authorizedprincipalsfile, TEXT, 0, 0, "path, or none")                                       \
    X(versionaddendum, TEXT, 0, 0, "text, or none")                                                \
    X(authorizedkeyscommand, TEXT, 0, 0, "command, or none")                                       \
    X(authorizedkeyscommanduser, TEXT, 0, 0, "user, or none")                                      \
    X(authorizedprincipalscommand, TEXT, 0, 0, "command, or none")                                 \
    X(authorizedprincipalscommanduser, TEXT, 0, 0, "user, or none")                                \
    X(hostkeyagent, TEXT, 0, 0, "socket, or none")                                                 \
    X(kexalgorithms, COMMA, 0, 0, "key exchange algorithms offered, in order")                     \
    X(casignaturealgorithms, COMMA, 0, 0, "CA signature algorithms")                               \
    X(hostbasedacceptedalgorithms, COMMA, 0, 0, "host-based key algorithms accepted")              \
    X(hostkeyalgorithms, COMMA, 0, 0, "host key algorithms offered")                               \
    X(pubkeyacceptedalgorithms, COMMA, 0, 0, "public key algorithms accepted")                     \
    X(sshdsessionpath, TEXT, 1000, 0, "the sshd-session program")                                  \
    X(sshdauthpath, TEXT, 1000, 0, "the sshd-auth program")                                        \
    X(persourcepenaltyexemptlist, TEXT, 1000, 0, "addresses never penalised, or none")             \
    X(loglevel, TEXT, 0, 0, "QUIET (printed SILENT) ... DEBUG3")                                   \
    X(syslogfacility, TEXT, 0, 0, "AUTH, AUTHPRIV, LOCAL0...")                                     \
    X(authorizedkeysfile, WORDS, 0, 0, "authorized_keys paths")                                    \
    X(hostkey, LINES, 0, 0, "host private key files")                                              \
    X(hostcertificate, LINES, 0, 0, "host certificate files")                                      \
    X(allowusers, LINES, 0, 0, "user patterns allowed to log in (empty: all)")                     \
    X(denyusers, LINES, 0, 0, "user patterns denied")                                              \
    X(allowgroups, LINES, 0, 0, "group patterns allowed to log in (empty: all)")                   \
    X(denygroups, LINES, 0, 0, "group patterns denied")                                            \
    X(acceptenv, LINES, 0, 0, "environment variables accepted from clients")                       \
    X(setenv, LINES, 0, 0, "NAME=VALUE set for sessions")                                          \
    X(authenticationmethods, WORDS, 0, 0, "required method lists, or any")                         \
    X(logverbose, WORDS, 902, 0, "code locations logged verbosely")                                \
    X(channeltimeout, WORDS, 902, 0, "type=interval timeouts of channels")                         \
    X(subsystem, LINES, 0, 0, "NAME COMMAND of each subsystem")                                    \
    X(maxstartups, TEXT, 0, 0, "start:rate:full of unauthenticated connections")                   \
    X(persourcemaxstartups, TEXT, 902, 0, "per source limit, or none")                             \
    X(persourcenetblocksize, TEXT, 902, 0, "IPv4:IPv6 prefix lengths")                             \
    X(permittunnel, TEXT, 0, 0, "yes, no, point-to-point or ethernet")                             \
    X(ipqos, TEXT, 0, 0, "interactive and bulk IP QoS")                                            \
    X(rekeylimit, TEXT, 0, 0, "bytes and seconds between rekeys")                                  \
    X(permitopen, WORDS, 0, 0, "host:port forwarding destinations, or any")                        \
    X(permitlisten, WORDS, 0, 0, "host:port remote listen addresses, or any")                      \
    X(permituserenvironment, TEXT, 0, 0, "yes, no, or a pattern list")                             \
    X(pubkeyauthoptions, WORDS, 0, 0, "none, touch-required, verify-required")                     \
    X(persourcepenalties, WORDS, 1000, 0, "penalties per source address, or no")

#endif
