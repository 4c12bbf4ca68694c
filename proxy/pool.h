/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pool.h - backend pools at run time: which members are up, how busy they are,
 * what they offer, and which one gets the next connection.
 *
 * The state is shared by every worker thread: counters are atomics, the rest
 * sits behind the pool's mutex, taken once per new backend connection.
 */
#ifndef PX_POOL_H
#define PX_POOL_H

#include <pthread.h>
#include <stdatomic.h>

#include "config.h"
#include "reply.h"

#define PX_POOL_MAX_MEMBERS 64 /* a "tried" bitmask per connection attempt */

struct px_mstate {
	atomic_int up;	     /* 1 when healthy */
	atomic_int ok_run;   /* good checks in a row */
	atomic_int fail_run; /* failures in a row (checks and real connections) */
	atomic_int conns;    /* backend connections open now */
	atomic_ullong failures;
	int cw;		     /* smooth weighted round robin, under the pool lock */
	struct px_caps caps; /* from the last good health check, under the lock */
	int have_caps;
	char why[160]; /* the last failure, under the lock (health status) */
};

struct px_pstate {
	pthread_mutex_t lock;
	struct px_mstate *m;
};

int px_pool_init(struct px_pool *p);
/* Carry health across a reload: members with the same address keep their state. */
void px_pool_inherit(struct px_pool *p, const struct px_pool *old);
void px_pool_fini(struct px_pool *p);

/*
 * The member for the next connection, or -1. Members in tried (a bitmask of
 * indexes) are skipped; up members are preferred, by the pool's balance
 * (weighted round robin, or fewest connections per unit of weight); when none
 * is up, the down ones are tried anyway, least recently failed first, since a
 * health check can be behind the truth.
 */
int px_pool_pick(struct px_pool *p, unsigned long long tried);

void px_member_conn(struct px_pool *p, int i, int delta);
/* A check or a real connection succeeded or failed; returns 1 when this
 * changed the member's up/down state. */
int px_member_result(struct px_pool *p, int i, int ok, int from_check, const char *why);
void px_member_set_caps(struct px_pool *p, int i, const struct px_caps *c);
/* Why member i last failed ("" if it has not), into out. */
void px_member_why(struct px_pool *p, int i, char *out, size_t len);
/* That reason as a short class for a metric label: connect, timeout, tls,
 * tls_verify, starttls, greeting or protocol. */
const char *px_fail_class(const char *why);

/* What the pool offers clients: capabilities every up member has (all members
 * when none is up; pipelining and 8BITMIME when nothing is known yet). */
void px_pool_caps(struct px_pool *p, struct px_caps *out);

struct io;
/* Send on io, a new connection to member i, the PROXY header (v1 or v2) the
 * pool's pass_client asks for, if any: for the client src (and the address
 * dst it connected to), or, src NULL, for the proxy's own connection (a
 * health check): v2 LOCAL, and in v1 the connection itself ("PROXY UNKNOWN"
 * is refused by Postfix, so a pool of Postfix members would stay down). */
void px_pool_send_proxy_header(const struct px_pool *p, int i, struct io *io,
			       const struct sockaddr *src, const struct sockaddr *dst);

#endif
