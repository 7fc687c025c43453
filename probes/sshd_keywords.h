/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The keywords `sshd -T` prints, in its order: X(name, shape, description). One list makes
 * the parser's settings, the sshd probe's fields and the docs' field table.
 */
#ifndef PST_SSHD_KEYWORDS_H
#define PST_SSHD_KEYWORDS_H

#define PST_SSHD_KEYWORDS(X) \
    X(port, LINES, "ports sshd listens on") \
    X(addressfamily, TEXT, "any, inet or inet6") \
    X(listenaddress, LINES, "address:port pairs sshd listens on") \
    X(usepam, TEXT, "yes when PAM is used") \
    X(logingracetime, INT, "seconds to authenticate before disconnect") \
    X(x11displayoffset, INT, "first X11 display number") \
    X(maxauthtries, INT, "authentication attempts per connection") \
    X(maxsessions, INT, "sessions per network connection") \
    X(clientaliveinterval, INT, "seconds between keepalive probes") \
    X(clientalivecountmax, INT, "unanswered probes before disconnect") \
    X(requiredrsasize, INT, "smallest RSA key accepted, in bits") \
    X(streamlocalbindmask, TEXT, "umask of forwarded Unix sockets") \
    X(unusedconnectiontimeout, TEXT, "seconds, or none") \
    X(permitrootlogin, TEXT, "yes, no, without-password (prohibit-password) or forced-commands-only") \
    X(ignorerhosts, TEXT, "yes, no or shosts-only") \
    X(ignoreuserknownhosts, TEXT, "yes or no") \
    X(hostbasedauthentication, TEXT, "yes or no") \
    X(hostbasedusesnamefrompacketonly, TEXT, "yes or no") \
    X(pubkeyauthentication, TEXT, "yes or no") \
    X(kerberosauthentication, TEXT, "yes or no") \
    X(kerberosorlocalpasswd, TEXT, "yes or no") \
    X(kerberosticketcleanup, TEXT, "yes or no") \
    X(gssapiauthentication, TEXT, "yes or no") \
    X(gssapicleanupcredentials, TEXT, "yes or no") \
    X(gssapikeyexchange, TEXT, "yes or no") \
    X(gssapistrictacceptorcheck, TEXT, "yes or no") \
    X(gssapistorecredentialsonrekey, TEXT, "yes or no") \
    X(gssapikexalgorithms, COMMA, "GSSAPI key exchange algorithms") \
    X(passwordauthentication, TEXT, "yes or no") \
    X(kbdinteractiveauthentication, TEXT, "yes or no") \
    X(printmotd, TEXT, "yes or no") \
    X(printlastlog, TEXT, "yes or no") \
    X(x11forwarding, TEXT, "yes or no") \
    X(x11uselocalhost, TEXT, "yes or no") \
    X(permittty, TEXT, "yes or no") \
    X(permituserrc, TEXT, "yes or no") \
    X(strictmodes, TEXT, "yes or no") \
    X(tcpkeepalive, TEXT, "yes or no") \
    X(permitemptypasswords, TEXT, "yes or no") \
    X(compression, TEXT, "yes (delayed) or no") \
    X(gatewayports, TEXT, "yes, no or clientspecified") \
    X(usedns, TEXT, "yes or no") \
    X(allowtcpforwarding, TEXT, "yes (all), no, local or remote") \
    X(allowagentforwarding, TEXT, "yes or no") \
    X(disableforwarding, TEXT, "yes or no") \
    X(allowstreamlocalforwarding, TEXT, "yes (all), no, local or remote") \
    X(streamlocalbindunlink, TEXT, "yes or no") \
    X(fingerprinthash, TEXT, "SHA256 or MD5") \
    X(exposeauthinfo, TEXT, "yes or no") \
    X(pidfile, TEXT, "path, or none") \
    X(modulifile, TEXT, "path") \
    X(xauthlocation, TEXT, "path, or none") \
    X(ciphers, COMMA, "ciphers offered, in order") \
    X(macs, COMMA, "MACs offered, in order") \
    X(banner, TEXT, "path, or none") \
    X(forcecommand, TEXT, "command, or none") \
    X(chrootdirectory, TEXT, "path, or none") \
    X(trustedusercakeys, TEXT, "path, or none") \
    X(revokedkeys, TEXT, "path, or none") \
    X(securitykeyprovider, TEXT, "internal or a library path") \
    X(authorizedprincipalsfile, TEXT, "path, or none") \
    X(versionaddendum, TEXT, "text, or none") \
    X(authorizedkeyscommand, TEXT, "command, or none") \
    X(authorizedkeyscommanduser, TEXT, "user, or none") \
    X(authorizedprincipalscommand, TEXT, "command, or none") \
    X(authorizedprincipalscommanduser, TEXT, "user, or none") \
    X(hostkeyagent, TEXT, "socket, or none") \
    X(kexalgorithms, COMMA, "key exchange algorithms offered, in order") \
    X(casignaturealgorithms, COMMA, "CA signature algorithms") \
    X(hostbasedacceptedalgorithms, COMMA, "host-based key algorithms accepted") \
    X(hostkeyalgorithms, COMMA, "host key algorithms offered") \
    X(pubkeyacceptedalgorithms, COMMA, "public key algorithms accepted") \
    X(loglevel, TEXT, "QUIET (printed SILENT) ... DEBUG3") \
    X(syslogfacility, TEXT, "AUTH, AUTHPRIV, LOCAL0...") \
    X(authorizedkeysfile, WORDS, "authorized_keys paths") \
    X(hostkey, LINES, "host private key files") \
    X(hostcertificate, LINES, "host certificate files") \
    X(allowusers, LINES, "user patterns allowed to log in (empty: all)") \
    X(denyusers, LINES, "user patterns denied") \
    X(allowgroups, LINES, "group patterns allowed to log in (empty: all)") \
    X(denygroups, LINES, "group patterns denied") \
    X(acceptenv, LINES, "environment variables accepted from clients") \
    X(setenv, LINES, "NAME=VALUE set for sessions") \
    X(authenticationmethods, WORDS, "required method lists, or any") \
    X(logverbose, WORDS, "code locations logged verbosely") \
    X(channeltimeout, WORDS, "type=interval timeouts of channels") \
    X(subsystem, LINES, "NAME COMMAND of each subsystem") \
    X(maxstartups, TEXT, "start:rate:full of unauthenticated connections") \
    X(persourcemaxstartups, TEXT, "per source limit, or none") \
    X(persourcenetblocksize, TEXT, "IPv4:IPv6 prefix lengths") \
    X(permittunnel, TEXT, "yes, no, point-to-point or ethernet") \
    X(ipqos, TEXT, "interactive and bulk IP QoS") \
    X(rekeylimit, TEXT, "bytes and seconds between rekeys") \
    X(permitopen, WORDS, "host:port forwarding destinations, or any") \
    X(permitlisten, WORDS, "host:port remote listen addresses, or any") \
    X(permituserenvironment, TEXT, "yes, no, or a pattern list") \
    X(pubkeyauthoptions, WORDS, "none, touch-required, verify-required")

#endif
