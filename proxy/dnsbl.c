// SPDX-License-Identifier: GPL-2.0
/*
 * dnsbl.c - one client's DNSBL/DNSWL lookup: every zone asked at once through
 * the worker's resolver, one deadline for all of them, and the worker's cache
 * of answers (see dnsbl.h for the rules, dnsbl_spec.c for the arithmetic).
 *
 * Why one deadline rather than c-ares's timeout alone: the resolver's timeout
 * and tries are set for reverse DNS (dns = { ... }), and a DNSBL lookup sits
 * between the connect and the banner, where its budget is the policy's; the
 * zones still silent at timeout_ms are cancelled and count as failed.
 *
 * The cache is keyed by query name ("2.0.0.127.zen.example"), not by site, so
 * two sites on one zone share an entry and a configuration reload keeps it.
 * It is a chained hash with an LRU list: lookups and inserts are O(1), an
 * expired entry is dropped when met, and past cache_size the least recently
 * used goes (counted). Per worker, so no locks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dnsbl.h"

struct centry {
	struct centry *hnext;	      /* hash chain */
	struct centry *lprev, *lnext; /* LRU: head = most recent */
	uint32_t hash;
	ev_tstamp expires;
	struct px_dns_a_result r;
	char name[]; /* the query name */
};

/* One zone of one lookup (sites on the same zone share it). */
struct zq {
	struct px_dnsbl_lookup *l;
	struct px_dns_query *q; /* running; NULL once answered or given up */
	char name[PX_DNS_NAME_MAX];
	int answered, cached, timed_out;
	struct px_dns_a_result r;
};

struct px_dnsbl_lookup {
	struct px_dnsbl_lookup *next, *prev;
	struct px_dnsbl *b;
	const struct px_dnsbl_conf *c;
	px_dnsbl_cb cb;
	void *arg;
	ev_timer deadline;
	ev_timer deliver; /* a zero timer: every answer came from the cache */
	ev_tstamp t0;
	unsigned int nzq, pending;
	int zof[PX_DNSBL_SITES_MAX]; /* site -> its zq */
	struct zq zq[PX_DNSBL_SITES_MAX];
};

struct px_dnsbl {
	struct ev_loop *loop;
	struct px_dnsbl_lookup *lookups;
	struct centry **buckets;
	uint32_t nbuckets; /* a power of two */
	unsigned int cap, n;
	struct centry *lru_head, *lru_tail;
	struct px_dnsbl_stats st;
};

/* ---- the cache ---- */

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

static void lru_unlink(struct px_dnsbl *b, struct centry *e)
{
	if (e->lprev)
		e->lprev->lnext = e->lnext;
	else
		b->lru_head = e->lnext;
	if (e->lnext)
		e->lnext->lprev = e->lprev;
	else
		b->lru_tail = e->lprev;
	e->lprev = e->lnext = NULL;
}

static void lru_push(struct px_dnsbl *b, struct centry *e)
{
	e->lprev = NULL;
	e->lnext = b->lru_head;
	if (b->lru_head)
		b->lru_head->lprev = e;
	b->lru_head = e;
	if (!b->lru_tail)
		b->lru_tail = e;
}

static void cache_drop(struct px_dnsbl *b, struct centry *e)
{
	struct centry **pp = &b->buckets[e->hash & (b->nbuckets - 1)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	lru_unlink(b, e);
	free(e);
	b->n--;
}

static struct centry *cache_get(struct px_dnsbl *b, const char *name)
{
	uint32_t h;
	struct centry *e;

	if (!b->cap)
		return NULL;
	h = name_hash(name);
	for (e = b->buckets[h & (b->nbuckets - 1)]; e; e = e->hnext)
		if (e->hash == h && !strcmp(e->name, name))
			break;
	if (!e)
		return NULL;
	if (e->expires <= ev_now(b->loop)) {
		cache_drop(b, e);
		return NULL;
	}
	lru_unlink(b, e);
	lru_push(b, e);
	return e;
}

/* Keep r for ttl seconds (0: not at all). */
static void cache_put(struct px_dnsbl *b, const char *name, const struct px_dns_a_result *r,
		      unsigned int ttl)
{
	size_t len = strlen(name) + 1;
	struct centry *e;

	if (!b->cap || !ttl)
		return;
	e = cache_get(b, name);
	if (e)
		cache_drop(b, e); /* a newer answer for the same name */
	if (b->n >= b->cap) {
		cache_drop(b, b->lru_tail);
		b->st.cache_evictions++;
	}
	e = malloc(sizeof(*e) + len);
	if (!e)
		return; /* not cached: asked again next time */
	memset(e, 0, sizeof(*e));
	memcpy(e->name, name, len);
	e->hash = name_hash(name);
	e->expires = ev_now(b->loop) + ttl;
	e->r = *r;
	e->hnext = b->buckets[e->hash & (b->nbuckets - 1)];
	b->buckets[e->hash & (b->nbuckets - 1)] = e;
	lru_push(b, e);
	b->n++;
}

/* How long an answer may be kept, by the lookup's configuration. */
static unsigned int answer_ttl(const struct px_dnsbl_conf *c, const struct px_dns_a_result *r)
{
	if (r->status == PX_DNS_A_OK)
		return r->ttl < c->cache_max_ttl ? r->ttl : c->cache_max_ttl;
	if (r->status == PX_DNS_A_NONE)
		return c->negative_ttl;
	return 0; /* failures and bad replies: ask again */
}

/* ---- the scorer ---- */

struct px_dnsbl *px_dnsbl_new(struct ev_loop *loop, unsigned int cache_size)
{
	struct px_dnsbl *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->loop = loop;
	b->cap = cache_size;
	/* About one entry per bucket when full; at least one bucket. */
	b->nbuckets = 1;
	while (b->nbuckets < cache_size && b->nbuckets < (1u << 30))
		b->nbuckets <<= 1;
	b->buckets = calloc(b->nbuckets, sizeof(*b->buckets));
	if (!b->buckets) {
		free(b);
		return NULL;
	}
	return b;
}

static void lookup_free(struct px_dnsbl_lookup *l)
{
	struct px_dnsbl *b = l->b;
	unsigned int i;

	ev_timer_stop(b->loop, &l->deadline);
	ev_timer_stop(b->loop, &l->deliver);
	for (i = 0; i < l->nzq; i++)
		if (l->zq[i].q) {
			px_dns_cancel(l->zq[i].q);
			l->zq[i].q = NULL;
		}
	if (l->prev)
		l->prev->next = l->next;
	else
		b->lookups = l->next;
	if (l->next)
		l->next->prev = l->prev;
	free(l);
}

void px_dnsbl_free(struct px_dnsbl *b)
{
	struct centry *e, *next;

	if (!b)
		return;
	while (b->lookups)
		lookup_free(b->lookups);
	for (e = b->lru_head; e; e = next) {
		next = e->lnext;
		free(e);
	}
	free(b->buckets);
	free(b);
}

void px_dnsbl_get_stats(const struct px_dnsbl *b, struct px_dnsbl_stats *s)
{
	*s = b->st;
	s->cache_entries = b->n;
}

/* Every zone answered or given up on: score, call back, free. */
static void finish(struct px_dnsbl_lookup *l)
{
	const struct px_dns_a_result *ans[PX_DNSBL_SITES_MAX];
	struct px_dnsbl_result res;
	unsigned int i;
	double ms;

	memset(&res, 0, sizeof(res));
	for (i = 0; i < l->c->nsites && i < PX_DNSBL_SITES_MAX; i++) {
		struct zq *z = &l->zq[l->zof[i]];

		ans[i] = z->answered ? &z->r : NULL;
		res.d[i].cached = z->cached;
		res.d[i].timed_out = z->timed_out;
	}
	px_dnsbl_score(l->c, ans, &res);
	ev_now_update(l->b->loop);
	ms = (ev_now(l->b->loop) - l->t0) * 1000.0;
	res.elapsed_ms = ms > 0 ? (unsigned int)ms : 0;
	l->cb(l->arg, &res);
	lookup_free(l);
}

static void count_answer(struct px_dnsbl *b, const struct px_dns_a_result *r)
{
	unsigned int i;

	if (r->status == PX_DNS_A_TEMPFAIL)
		b->st.tempfails++;
	else if (r->status == PX_DNS_A_BAD && r->oversized)
		b->st.oversized++;
	else if (r->status == PX_DNS_A_BAD)
		b->st.malformed++;
	for (i = 0; r->status == PX_DNS_A_OK && i < r->naddr; i++)
		if (px_dnsbl_is_errcode(r->addr[i])) {
			b->st.errcodes++;
			break;
		}
}

static void on_answer(void *arg, const struct px_dns_a_result *r)
{
	struct zq *z = arg;
	struct px_dnsbl_lookup *l = z->l;

	z->q = NULL;
	z->answered = 1;
	z->r = *r;
	count_answer(l->b, r);
	cache_put(l->b, z->name, r, answer_ttl(l->c, r));
	if (--l->pending == 0)
		finish(l);
}

static void on_deadline(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct px_dnsbl_lookup *l = t->data;
	unsigned int i;

	(void)loop;
	(void)revents;
	for (i = 0; i < l->nzq; i++) {
		struct zq *z = &l->zq[i];

		if (z->answered)
			continue;
		if (z->q) {
			px_dns_cancel(z->q);
			z->q = NULL;
		}
		z->timed_out = 1;
		l->b->st.timeouts++;
	}
	finish(l);
}

static void on_deliver(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)loop;
	(void)revents;
	finish(t->data);
}

struct px_dnsbl_lookup *px_dnsbl_start(struct px_dnsbl *b, struct px_dns *dns,
				       const struct px_dnsbl_conf *conf,
				       const struct sockaddr *client, px_dnsbl_cb cb, void *arg)
{
	struct px_dnsbl_lookup *l;
	unsigned int i, j,
	    n = conf->nsites < PX_DNSBL_SITES_MAX ? conf->nsites : PX_DNSBL_SITES_MAX;

	if (client->sa_family != AF_INET && client->sa_family != AF_INET6)
		return NULL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->b = b;
	l->c = conf;
	l->cb = cb;
	l->arg = arg;
	/* The loop's time may be a callback old: the deadline and the
	 * elapsed time are measured from now. */
	ev_now_update(b->loop);
	l->t0 = ev_now(b->loop);
	ev_timer_init(&l->deadline, on_deadline, conf->timeout_ms / 1000.0, 0);
	l->deadline.data = l;
	ev_timer_init(&l->deliver, on_deliver, 0, 0);
	l->deliver.data = l;
	l->next = b->lookups;
	if (b->lookups)
		b->lookups->prev = l;
	b->lookups = l;
	b->st.lookups++;

	/* One query per distinct zone. */
	for (i = 0; i < n; i++) {
		for (j = 0; j < i; j++)
			if (!strcmp(conf->site[j].zone, conf->site[i].zone))
				break;
		if (j < i) {
			l->zof[i] = l->zof[j];
			continue;
		}
		l->zof[i] = (int)l->nzq;
		l->zq[l->nzq].l = l;
		if (px_dnsbl_query_name(l->zq[l->nzq].name, sizeof(l->zq[l->nzq].name), client,
					conf->site[i].zone)) {
			lookup_free(l);
			return NULL;
		}
		l->nzq++;
	}
	for (i = 0; i < l->nzq; i++) {
		struct zq *z = &l->zq[i];
		struct centry *e = cache_get(b, z->name);

		if (e) {
			b->st.cache_hits++;
			z->answered = z->cached = 1;
			z->r = e->r;
			continue;
		}
		if (b->cap)
			b->st.cache_misses++;
		z->q = px_dns_a(dns, z->name, on_answer, z);
		if (!z->q) {
			/* The resolver cannot take it (retiring, no memory):
			 * a failure now, as a timeout would be later. */
			z->answered = 1;
			z->r.status = PX_DNS_A_TEMPFAIL;
			b->st.tempfails++;
			continue;
		}
		b->st.queries++;
		l->pending++;
	}
	if (l->pending)
		ev_timer_start(b->loop, &l->deadline);
	else
		ev_timer_start(b->loop, &l->deliver);
	return l;
}

void px_dnsbl_cancel(struct px_dnsbl_lookup *l)
{
	if (l)
		lookup_free(l);
}
