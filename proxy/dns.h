/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dns.h - asynchronous DNS for the workers: c-ares on the worker's libev loop.
 *
 * A worker never blocks on DNS: queries go out through c-ares, whose sockets
 * and timeout are watched by the worker's own loop, and the answer comes back
 * as a callback on that loop. One resolver per worker (a c-ares channel is not
 * shared between threads).
 *
 * The proxy asks two things: the client's forward-confirmed reverse name
 * (FCrDNS, what Postfix's smtpd calls the verified client name): the PTR name
 * of its address, accepted only when that name resolves back to the address;
 * and plain A lookups (DNSBL/DNSWL queries, see dnsbl.h), whose replies are
 * parsed by c-ares, never by us. /etc/hosts is not consulted and no search
 * domains are appended: a gateway's host file must not name its clients.
 */
#ifndef PX_DNS_H
#define PX_DNS_H

#include <stddef.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <ev.h>

#define PX_DNS_NAME_MAX 256

struct px_dns;

/* servers: "ADDR[:PORT],..." as c-ares takes them, or "" for resolv.conf's;
 * timeout_ms per try, tries per query. NULL with why on failure. */
struct px_dns *px_dns_new(struct ev_loop *loop, const char *servers, unsigned int timeout_ms,
			  unsigned int tries, char *why, size_t why_len);
/* Queries still running end without calling back: their owners (sessions)
 * are gone before their worker's resolver is. */
void px_dns_free(struct px_dns *d);

enum px_rdns {
	PX_RDNS_PENDING = 0,
	PX_RDNS_OK, /* verified: name is the client's */
	/* An answer, and no name: no PTR (NXDOMAIN, NODATA), a PTR that is no
	 * host name (a '/' in it, all digits), or a name whose addresses of the
	 * client's family (NXDOMAIN, NODATA, others) are not the client's. */
	PX_RDNS_UNKNOWN,
	/* No answer, at either step: timeout, SERVFAIL, REFUSED, a reply
	 * c-ares cannot read. Not the client's doing: may be better later. */
	PX_RDNS_TEMPFAIL,
};

struct px_rdns_result {
	enum px_rdns status;
	char name[PX_DNS_NAME_MAX];    /* verified name (status OK) */
	char reverse[PX_DNS_NAME_MAX]; /* the PTR name, verified or not ("" if none) */
};

typedef void (*px_rdns_cb)(void *arg, const struct px_rdns_result *r);
struct px_dns_query;

/* Start an FCrDNS lookup of addr; cb is called once, later, from the loop
 * (never from inside this call). NULL when it cannot even start. */
struct px_dns_query *px_dns_reverse(struct px_dns *d, const struct sockaddr *addr, px_rdns_cb cb,
				    void *arg);
/* The owner is going away: cb will not be called. The query itself ends (and
 * is freed) when c-ares is done with it. */
void px_dns_cancel(struct px_dns_query *q);

/* A reload made a new resolver, by: d takes no more queries and frees itself
 * once those it has are over (never inside c-ares's own calls), or with by. */
void px_dns_retire(struct px_dns *d, struct px_dns *by);

const char *px_rdns_name(enum px_rdns s);

/* ---- A lookups (DNSBL queries) ---- */

/* A DNSBL answers with one to a handful of addresses (Spamhaus ZEN: up to
 * ~4 return codes). More than this, or a reply longer than
 * PX_DNS_A_REPLY_MAX, is not a list's answer: oversized, and unlisted. */
#define PX_DNS_A_MAX	   16
#define PX_DNS_A_REPLY_MAX 4096

enum px_dns_a {
	PX_DNS_A_OK = 0,   /* addresses (1 to PX_DNS_A_MAX) */
	PX_DNS_A_NONE,	   /* NXDOMAIN, or the name has no A (NODATA) */
	PX_DNS_A_TEMPFAIL, /* no answer: timeout, SERVFAIL, REFUSED... */
	PX_DNS_A_BAD,	   /* a reply c-ares cannot parse, or an oversized one */
};

struct px_dns_a_result {
	enum px_dns_a status;
	int oversized; /* PX_DNS_A_BAD because of its size */
	unsigned int naddr;
	struct in_addr addr[PX_DNS_A_MAX];
	unsigned int ttl; /* seconds: the smallest of the answer's (CNAMEs included) */
};

typedef void (*px_dns_a_cb)(void *arg, const struct px_dns_a_result *r);

/* Start an A lookup of name (no search domains, no /etc/hosts); cb is called
 * once, later, from the loop. NULL when it cannot start (a name that is not a
 * plain host name, no memory). Cancelled with px_dns_cancel. */
struct px_dns_query *px_dns_a(struct px_dns *d, const char *name, px_dns_a_cb cb, void *arg);

/* A reply as c-ares received it (rcode NOERROR) into r: OK, NONE or BAD.
 * c-ares's own parser does the work; this only bounds and sorts what it
 * finds. Pure, for the fuzz target too. */
void px_dns_a_parse(const unsigned char *abuf, int alen, struct px_dns_a_result *r);

const char *px_dns_a_name(enum px_dns_a s);

#endif
