/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dns.h - asynchronous DNS for the workers: c-ares on the worker's libev loop.
 *
 * A worker never blocks on DNS: queries go out through c-ares, whose sockets
 * and timeout are watched by the worker's own loop, and the answer comes back
 * as a callback on that loop. One resolver per worker (a c-ares channel is not
 * shared between threads).
 *
 * What the proxy asks today is the client's forward-confirmed reverse name
 * (FCrDNS, what Postfix's smtpd calls the verified client name): the PTR name
 * of its address, accepted only when that name resolves back to the address.
 * /etc/hosts is not consulted and no search domains are appended: a
 * gateway's host file must not name its clients.
 */
#ifndef PX_DNS_H
#define PX_DNS_H

#include <stddef.h>
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
	PX_RDNS_OK,	  /* verified: name is the client's */
	PX_RDNS_UNKNOWN,  /* no PTR, or a name that does not resolve back */
	PX_RDNS_TEMPFAIL, /* the DNS did not answer (timeout, SERVFAIL) */
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

#endif
