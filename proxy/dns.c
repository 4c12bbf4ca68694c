// SPDX-License-Identifier: GPL-2.0
/*
 * dns.c - c-ares on a libev loop, and the forward-confirmed reverse lookup.
 *
 * c-ares tells us which sockets it wants watched (ARES_OPT_SOCK_STATE_CB) and
 * when its next timeout is (ares_timeout); the loop watches them and hands
 * events back with ares_process_fd. Nothing here ever blocks.
 *
 * A query's result is always delivered from the loop, never from inside the
 * call that started it (c-ares may fail a query on the spot): callers can
 * start a lookup without their state being changed under them.
 *
 * Two kinds of query share that machinery: FCrDNS (PTR, then the name's
 * addresses) and plain A lookups for DNSBLs. A DNSBL reply is parsed by
 * c-ares (ares_parse_a_reply); px_dns_a_parse only bounds what it returns.
 *
 * The PTR is asked with ares_query on the in-addr.arpa / ip6.arpa name, not
 * with ares_gethostbyaddr: that one (c-ares 1.18) walks its lookup order
 * after any failure and reports the last step's "not found", so a timeout or
 * a SERVFAIL would read as "the client has no name". Here NXDOMAIN and NODATA
 * are unknown, and a DNS that did not answer is tempfail, as Postfix's
 * reject_unknown_reverse_client_hostname tells them apart (450, not 550).
 * The reply is still parsed by c-ares (ares_parse_ptr_reply), never by us.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ares.h>
#include <ares_nameser.h>

#include "dns.h"
#include "log.h"
#include "str.h"

struct sock_watch {
	struct sock_watch *next;
	struct px_dns *d;
	ev_io w;
};

struct px_dns {
	struct ev_loop *loop;
	ares_channel ch;
	ev_timer timer;
	struct sock_watch *socks;
	struct px_dns_query *queries; /* every live query, for px_dns_free */
	int retiring;		      /* replaced: freed when its queries are over */
	ev_timer reap;		      /* ...from the loop, not from c-ares */
	struct px_dns *older, *newer; /* the resolvers a reload replaced, not reaped yet */
};

struct px_dns_query {
	struct px_dns_query *next, *prev;
	struct px_dns *d;
	struct sockaddr_storage addr;
	px_rdns_cb cb;	 /* FCrDNS; or, */
	px_dns_a_cb acb; /* an A lookup (then ar is the result) */
	void *arg;
	int cancelled;
	int running; /* c-ares still holds a callback of ours */
	ev_timer deliver;
	struct px_rdns_result r;
	struct px_dns_a_result ar;
};

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static int lib_rc;

static void lib_init(void)
{
	lib_rc = ares_library_init(ARES_LIB_INIT_ALL);
}

const char *px_rdns_name(enum px_rdns s)
{
	switch (s) {
	case PX_RDNS_OK:
		return "ok";
	case PX_RDNS_UNKNOWN:
		return "unknown";
	case PX_RDNS_TEMPFAIL:
		return "tempfail";
	default:
		return "pending";
	}
}

static void on_reap(struct ev_loop *loop, ev_timer *t, int revents);

/* ---- the loop side ---- */

static void reschedule(struct px_dns *d)
{
	struct timeval tv, *tvp = ares_timeout(d->ch, NULL, &tv);

	ev_timer_stop(d->loop, &d->timer);
	if (tvp) {
		ev_timer_set(&d->timer, (double)tv.tv_sec + (double)tv.tv_usec / 1e6, 0);
		ev_timer_start(d->loop, &d->timer);
	}
}

static void on_sock(struct ev_loop *loop, ev_io *w, int revents)
{
	struct sock_watch *s = w->data;
	struct px_dns *d = s->d;
	int fd = w->fd;

	(void)loop;
	ares_process_fd(d->ch, (revents & EV_READ) ? fd : ARES_SOCKET_BAD,
			(revents & EV_WRITE) ? fd : ARES_SOCKET_BAD);
	reschedule(d);
}

static void on_timer(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct px_dns *d = t->data;

	(void)loop;
	(void)revents;
	ares_process_fd(d->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	reschedule(d);
}

/* c-ares: watch fd for these events, or (both 0) stop watching it. */
static void sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct px_dns *d = data;
	struct sock_watch **pp, *s;

	for (pp = &d->socks; (s = *pp); pp = &s->next)
		if (s->w.fd == fd)
			break;
	if (!readable && !writable) {
		if (s) {
			ev_io_stop(d->loop, &s->w);
			*pp = s->next;
			free(s);
		}
		return;
	}
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return; /* the query times out instead */
		s->d = d;
		s->w.data = s;
		ev_io_init(&s->w, on_sock, fd, 0);
		s->next = d->socks;
		d->socks = s;
	}
	ev_io_stop(d->loop, &s->w);
	ev_io_set(&s->w, fd, (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0));
	ev_io_start(d->loop, &s->w);
}

struct px_dns *px_dns_new(struct ev_loop *loop, const char *servers, unsigned int timeout_ms,
			  unsigned int tries, char *why, size_t why_len)
{
	struct ares_options o;
	struct px_dns *d;
	int rc, mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
		       ARES_OPT_LOOKUPS | ARES_OPT_FLAGS | ARES_OPT_DOMAINS;

	pthread_once(&lib_once, lib_init);
	if (lib_rc != ARES_SUCCESS) {
		snprintf(why, why_len, "c-ares: %s", ares_strerror(lib_rc));
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		snprintf(why, why_len, "out of memory");
		return NULL;
	}
	memset(&o, 0, sizeof(o));
	o.sock_state_cb = sock_state;
	o.sock_state_cb_data = d;
	o.timeout = (int)timeout_ms;
	o.tries = (int)tries;
	o.lookups = (char *)"b"; /* DNS only: not /etc/hosts */
	o.flags = ARES_FLAG_NOSEARCH;
	o.domains = NULL;
	o.ndomains = 0;
	rc = ares_init_options(&d->ch, &o, mask);
	if (rc != ARES_SUCCESS) {
		snprintf(why, why_len, "c-ares: %s", ares_strerror(rc));
		free(d);
		return NULL;
	}
	if (servers && *servers &&
	    (rc = ares_set_servers_ports_csv(d->ch, servers)) != ARES_SUCCESS) {
		snprintf(why, why_len, "dns servers '%.100s': %s", servers, ares_strerror(rc));
		ares_destroy(d->ch);
		free(d);
		return NULL;
	}
	d->loop = loop;
	ev_timer_init(&d->timer, on_timer, 0, 0);
	d->timer.data = d;
	ev_timer_init(&d->reap, on_reap, 0, 0);
	d->reap.data = d;
	return d;
}

/* ---- queries ---- */

static void query_unlink(struct px_dns_query *q)
{
	if (q->prev)
		q->prev->next = q->next;
	else
		q->d->queries = q->next;
	if (q->next)
		q->next->prev = q->prev;
}

static void query_free(struct px_dns_query *q)
{
	struct px_dns *d = q->d;

	ev_timer_stop(d->loop, &q->deliver);
	query_unlink(q);
	free(q);
	if (d->retiring && !d->queries && !ev_is_active(&d->reap))
		ev_timer_start(d->loop, &d->reap);
}

static void on_reap(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)loop;
	(void)revents;
	px_dns_free(t->data);
}

void px_dns_retire(struct px_dns *d, struct px_dns *by)
{
	if (!d)
		return;
	/* Kept on the new one's chain, so that a worker that stops before it
	 * is reaped still frees it. */
	by->older = d;
	d->newer = by;
	d->retiring = 1;
	if (!d->queries)
		ev_timer_start(d->loop, &d->reap);
}

static void on_deliver(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct px_dns_query *q = t->data;

	(void)loop;
	(void)revents;
	if (!q->cancelled) {
		if (q->acb)
			q->acb(q->arg, &q->ar);
		else
			q->cb(q->arg, &q->r);
	}
	query_free(q);
}

/* The lookup is over: deliver from the loop (a zero timer), since c-ares may
 * be inside px_dns_reverse() still. */
static void finish(struct px_dns_query *q, enum px_rdns status)
{
	q->running = 0;
	q->r.status = status;
	if (q->cancelled) {
		query_free(q);
		return;
	}
	ev_timer_start(q->d->loop, &q->deliver);
}

static enum px_rdns from_status(int status)
{
	/* No such name or no record of the type: an answer, and a definite no.
	 * Everything else (timeout, SERVFAIL, refused...) may be better later. */
	return status == ARES_ENOTFOUND || status == ARES_ENODATA ? PX_RDNS_UNKNOWN
								  : PX_RDNS_TEMPFAIL;
}

static int same_addr(const struct sockaddr *a, const struct sockaddr_storage *b)
{
	if (a->sa_family != b->ss_family)
		return 0;
	if (a->sa_family == AF_INET)
		return !memcmp(&((const struct sockaddr_in *)a)->sin_addr,
			       &((const struct sockaddr_in *)b)->sin_addr, 4);
	return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		       &((const struct sockaddr_in6 *)b)->sin6_addr, 16);
}

static void on_forward(void *arg, int status, int timeouts, struct ares_addrinfo *ai)
{
	struct px_dns_query *q = arg;
	struct ares_addrinfo_node *n;

	(void)timeouts;
	if (status == ARES_EDESTRUCTION) {
		query_free(q);
		return;
	}
	if (status != ARES_SUCCESS) {
		finish(q, from_status(status));
		return;
	}
	for (n = ai->nodes; n; n = n->ai_next)
		if (same_addr(n->ai_addr, &q->addr)) {
			me_strlcpy(q->r.name, q->r.reverse, sizeof(q->r.name));
			ares_freeaddrinfo(ai);
			finish(q, PX_RDNS_OK);
			return;
		}
	ares_freeaddrinfo(ai);
	finish(q, PX_RDNS_UNKNOWN); /* a name that is not the client's */
}

/* A name as a DNS answer may hold it, made safe to pass on: letters, digits,
 * '-', '_', '.', and no more than one label separator in a row. */
static int name_ok(const char *n)
{
	size_t i, len = strlen(n);

	if (!len || len >= PX_DNS_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		char c = n[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || (c == '.' && i && n[i - 1] != '.')))
			return 0;
	}
	return 1;
}

/* A name no host has: all digits and dots, an address written out. c-ares
 * "resolves" such a name to itself without asking (as getaddrinfo does), so a
 * PTR of 192.0.2.1 saying "192.0.2.1" would confirm itself (Postfix refuses
 * numeric host names for the same reason). No top-level domain is numeric. */
static int name_numeric(const char *n)
{
	return n[strspn(n, "0123456789.")] == '\0';
}

/* The address a query is about, as c-ares takes it. */
static const void *query_addr(const struct px_dns_query *q, int *len)
{
	if (q->addr.ss_family == AF_INET) {
		*len = 4;
		return &((const struct sockaddr_in *)&q->addr)->sin_addr;
	}
	*len = 16;
	return &((const struct sockaddr_in6 *)&q->addr)->sin6_addr;
}

/* The name the PTR of q's address is under: "4.3.2.1.in-addr.arpa", or the
 * 32 nibbles of a v6 address, lowest first, under ip6.arpa. */
static void ptr_name(const struct px_dns_query *q, char *out, size_t len)
{
	const unsigned char *b;
	size_t o = 0;
	int n, i;

	b = query_addr(q, &n);
	if (n == 4) {
		snprintf(out, len, "%u.%u.%u.%u.in-addr.arpa", b[3], b[2], b[1], b[0]);
		return;
	}
	for (i = 15; i >= 0 && o + 4 < len; i--) {
		static const char hex[] = "0123456789abcdef";

		out[o++] = hex[b[i] & 0xf];
		out[o++] = '.';
		out[o++] = hex[b[i] >> 4];
		out[o++] = '.';
	}
	snprintf(out + o, len - o, "ip6.arpa");
}

static void on_ptr(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct px_dns_query *q = arg;
	/* Only the client's own family: the A of a v4 client's name (a server
	 * that drops AAAA queries must not hold its banner) and the failure
	 * reported is that query's own. */
	struct ares_addrinfo_hints hints = { .ai_family = q->addr.ss_family };
	struct hostent *h = NULL;
	const void *a;
	int len;

	(void)timeouts;
	if (status == ARES_EDESTRUCTION) {
		query_free(q);
		return;
	}
	if (status == ARES_SUCCESS) {
		a = query_addr(q, &len);
		status = ares_parse_ptr_reply(abuf, alen, a, len, q->addr.ss_family, &h);
	}
	/* A reply c-ares cannot read is the DNS failing us (tempfail), as
	 * before. c-ares 1.18 says that (EBADRESP) of a PTR whose name has
	 * octets no host name has, too: it cannot be told from a broken
	 * server, and a client that controls its reverse zone can have
	 * tempfail anyway (a lame delegation is a SERVFAIL). */
	if (status != ARES_SUCCESS || !h || !h->h_name) {
		if (h)
			ares_free_hostent(h);
		finish(q, status == ARES_SUCCESS ? PX_RDNS_UNKNOWN : from_status(status));
		return;
	}
	/* A PTR that is not a host name (c-ares lets a '/' through, and
	 * DNS carries any octets) is no name at all. */
	if (!name_ok(h->h_name) || name_numeric(h->h_name)) {
		ares_free_hostent(h);
		finish(q, PX_RDNS_UNKNOWN);
		return;
	}
	me_strlcpy(q->r.reverse, h->h_name, sizeof(q->r.reverse));
	ares_free_hostent(h);
	ares_getaddrinfo(q->d->ch, q->r.reverse, NULL, &hints, on_forward, q);
}

/* A new query on d's list, or NULL. */
static struct px_dns_query *query_new(struct px_dns *d, void *arg)
{
	struct px_dns_query *q = calloc(1, sizeof(*q));

	if (!q)
		return NULL;
	q->d = d;
	q->arg = arg;
	ev_timer_init(&q->deliver, on_deliver, 0, 0);
	q->deliver.data = q;
	q->next = d->queries;
	if (d->queries)
		d->queries->prev = q;
	d->queries = q;
	return q;
}

struct px_dns_query *px_dns_reverse(struct px_dns *d, const struct sockaddr *addr, px_rdns_cb cb,
				    void *arg)
{
	struct px_dns_query *q;
	struct sockaddr_in v4;
	char name[80]; /* 32 nibbles and their dots, "ip6.arpa" */

	if (!d || (addr->sa_family != AF_INET && addr->sa_family != AF_INET6))
		return NULL;
	q = query_new(d, arg);
	if (!q)
		return NULL;
	q->cb = cb;
	memcpy(&q->addr, addr,
	       addr->sa_family == AF_INET ? sizeof(struct sockaddr_in)
					  : sizeof(struct sockaddr_in6));
	if (addr->sa_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&((const struct sockaddr_in6 *)addr)->sin6_addr)) {
		/* A v4 client on a dual-stack socket: its name is under in-addr.arpa. */
		memset(&v4, 0, sizeof(v4));
		v4.sin_family = AF_INET;
		memcpy(&v4.sin_addr, ((const struct sockaddr_in6 *)addr)->sin6_addr.s6_addr + 12,
		       4);
		memcpy(&q->addr, &v4, sizeof(v4));
	}
	ptr_name(q, name, sizeof(name));
	q->running = 1;
	ares_query(d->ch, name, C_IN, T_PTR, on_ptr, q);
	reschedule(d);
	return q;
}

/* ---- A lookups ---- */

const char *px_dns_a_name(enum px_dns_a s)
{
	switch (s) {
	case PX_DNS_A_OK:
		return "ok";
	case PX_DNS_A_NONE:
		return "none";
	case PX_DNS_A_TEMPFAIL:
		return "tempfail";
	default:
		return "bad";
	}
}

void px_dns_a_parse(const unsigned char *abuf, int alen, struct px_dns_a_result *r)
{
	/* One slot more than we keep: a full array means "too many". */
	struct ares_addrttl t[PX_DNS_A_MAX + 1];
	int n = PX_DNS_A_MAX + 1, rc, i;

	memset(r, 0, sizeof(*r));
	if (!abuf || alen <= 0 || alen > PX_DNS_A_REPLY_MAX) {
		r->status = PX_DNS_A_BAD;
		r->oversized = alen > PX_DNS_A_REPLY_MAX;
		return;
	}
	rc = ares_parse_a_reply(abuf, alen, NULL, t, &n);
	if (rc == ARES_ENODATA) {
		r->status = PX_DNS_A_NONE;
		return;
	}
	if (rc != ARES_SUCCESS || n < 0) {
		r->status = PX_DNS_A_BAD;
		return;
	}
	if (n > PX_DNS_A_MAX) {
		r->status = PX_DNS_A_BAD;
		r->oversized = 1;
		return;
	}
	if (n == 0) {
		r->status = PX_DNS_A_NONE;
		return;
	}
	r->status = PX_DNS_A_OK;
	r->naddr = (unsigned int)n;
	r->ttl = ~0u;
	for (i = 0; i < n; i++) {
		r->addr[i] = t[i].ipaddr;
		/* The TTL is a 32-bit field c-ares hands over as an int. */
		if (t[i].ttl < 0)
			r->ttl = 0;
		else if ((unsigned int)t[i].ttl < r->ttl)
			r->ttl = (unsigned int)t[i].ttl;
	}
}

static void on_a(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct px_dns_query *q = arg;

	(void)timeouts;
	if (status == ARES_EDESTRUCTION) {
		query_free(q);
		return;
	}
	q->running = 0;
	memset(&q->ar, 0, sizeof(q->ar));
	if (status == ARES_SUCCESS)
		px_dns_a_parse(abuf, alen, &q->ar);
	else if (status == ARES_ENOTFOUND || status == ARES_ENODATA)
		q->ar.status = PX_DNS_A_NONE;
	else if (status == ARES_EBADRESP)
		q->ar.status = PX_DNS_A_BAD;
	else
		q->ar.status = PX_DNS_A_TEMPFAIL;
	if (q->cancelled) {
		query_free(q);
		return;
	}
	ev_timer_start(q->d->loop, &q->deliver);
}

struct px_dns_query *px_dns_a(struct px_dns *d, const char *name, px_dns_a_cb cb, void *arg)
{
	struct px_dns_query *q;

	if (!d || d->retiring || !name_ok(name))
		return NULL;
	q = query_new(d, arg);
	if (!q)
		return NULL;
	q->acb = cb;
	q->running = 1;
	ares_query(d->ch, name, C_IN, T_A, on_a, q);
	reschedule(d);
	return q;
}

void px_dns_cancel(struct px_dns_query *q)
{
	if (!q)
		return;
	q->cancelled = 1;
	if (!q->running)
		query_free(q); /* done, waiting for its delivery: no more */
}

void px_dns_free(struct px_dns *d)
{
	struct px_dns_query *q;
	struct sock_watch *s;

	if (!d)
		return;
	px_dns_free(d->older); /* the chain of retired ones, oldest first */
	if (d->newer)
		d->newer->older = NULL;
	ev_timer_stop(d->loop, &d->reap);
	d->retiring = 0; /* query_free below must not schedule another reap */
	for (q = d->queries; q; q = q->next)
		q->cancelled = 1;
	/* Running queries hear ARES_EDESTRUCTION and free themselves... */
	ares_destroy(d->ch);
	/* ...and those that finished wait for a delivery that will not come. */
	while (d->queries)
		query_free(d->queries);
	ev_timer_stop(d->loop, &d->timer);
	while ((s = d->socks)) {
		d->socks = s->next;
		ev_io_stop(d->loop, &s->w);
		free(s);
	}
	free(d);
}
