/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dnslab.h - a DNS server on loopback that answers exactly the records a test
 * gives it (reverse DNS, forward confirmation, DNSBL zones), and a dead one
 * that never answers, for timeouts.
 *
 * The server is unbound (Debian package unbound), run in the foreground with
 * a configuration of its own in the test's directory, on 127.0.0.1 over UDP
 * and TCP, with PR_SET_PDEATHSIG. Everything not given is NXDOMAIN (a static
 * local zone "."): no recursion, no upstream. A name that has records, but not
 * of the type asked, is NOERROR with no answer (NODATA), as on a real server.
 *
 * Why unbound and not dnsmasq (which starts as fast: ~25 ms both): dnsmasq
 * adds a PTR for every address it is given (--host-record), or, with
 * --dns-rr, answers NXDOMAIN for the other types of a name that exists, and
 * REFUSED outside its local domains. A lab that must show a name without a
 * PTR, or a PTR whose name does not resolve back, needs exact answers.
 */
#ifndef ME_TEST_DNSLAB_H
#define ME_TEST_DNSLAB_H

#include <stddef.h>
#include <sys/types.h>

struct dns_lab {
	int port;      /* 127.0.0.1, UDP and TCP */
	pid_t pid;     /* -1 when nothing runs */
	char dir[256]; /* the server's configuration and log; "" for none */
};

/*
 * Start a server on 127.0.0.1:port (UDP and TCP) in PARENT_DIR/dns-XXXXXX
 * that answers only these records, one per string:
 *
 *   "A name 192.0.2.1"          "AAAA name 2001:db8::1"
 *   "A name 192.0.2.1 ttl=5"     the same with a TTL of 5 s (A, AAAA, PTR;
 *                                0 to 86400; give the records of one name
 *                                and type the same TTL)
 *   "PTR 192.0.2.1 name"         the reverse name is made from the address
 *                                (in-addr.arpa, or ip6.arpa nibbles)
 *   "TXT name some text"         the rest of the line, one string (no quotes
 *                                or backslashes in it)
 *   "NXDOMAIN name"              the name and everything under it, even
 *                                where records are given
 *   "REFUSED name"               REFUSED for the name and everything under it
 *                                (a server that will not serve: tempfail)
 *
 * Everything else is NXDOMAIN; other types of a name that exists, NODATA.
 * TTLs are 0 unless ttl=N says otherwise: nothing caches an answer beyond the
 * test. Names are plain (letters, digits, '-', '_', '.'), with or without the
 * final dot. Every query is logged to dir/unbound.log (log-queries). 0 once
 * it answers, or -errno (-EINVAL for a record it does not understand, said on
 * stderr).
 */
int dns_start(struct dns_lab *d, const char *parent_dir, const char *const *records, int n);

/*
 * A dead DNS server: a UDP socket bound to 127.0.0.1 (held by a child process,
 * "sleep infinity" with the socket as its standard input, killed with the
 * test) that receives queries and never answers, so a resolver times out
 * instead of being refused. Returns the port (also in d->port), or -errno.
 */
int dns_start_silent(struct dns_lab *d);

/*
 * A broken DNS server: a process on a UDP port of 127.0.0.1 that answers
 * every query at once with its own ID and question, NOERROR, one answer
 * announced, and that answer cut short after its type and class: a reply
 * that reaches the resolver and that no parser can read (a malformed
 * reply). Returns the port (also in d->port), or -errno.
 */
int dns_start_garbage(struct dns_lab *d);

/* Stop whichever of the three runs; safe twice, and on a struct that is all
 * zeroes. The files stay, for the test to read and its directory's owner to
 * remove. */
void dns_stop(struct dns_lab *d);

/*
 * The name to look addr up under in zone: "3.0.0.127.in-addr.arpa" for
 * ("127.0.0.3", NULL), "2.0.0.127.zen.test" for ("127.0.0.2", "zen.test"),
 * nibbles for IPv6 ("1.0.0...8.b.d.0.1.0.0.2.ip6.arpa"). 0 or -EINVAL.
 */
int dns_rev_name(char *out, size_t len, const char *addr, const char *zone);

/* A client's address (v4 or v6 text) as the sockaddr a lookup is given:
 * 0, or -1 when it is not one. */
struct sockaddr_storage;
int dns_client_addr(const char *addr, struct sockaddr_storage *ss);

#endif
