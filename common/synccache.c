// SPDX-License-Identifier: GPL-2.0
/*
 * synccache.c - list sync's tables, mapped once per process (synccache.h).
 *
 * The cache is slots[kind][generation]: the table each slot of the four
 * outer maps named when it was last asked for. After a swap both slots name
 * the same table and share one entry (its refs count both). A hit is an ID
 * compare under the mutex; a miss maps the new table, then drops every cached
 * table whose slot no longer names it, of every kind: a rebuild replaces all
 * four tables at once, and the first judgement after it lets all the old ones
 * go, whichever kinds the later judgements ask for.
 *
 * The prefix index of a subnet table (me_synccache_net_find) is an open
 * addressing hash of its prefix records by (length, address), and a bitmap
 * of the lengths present: finding which prefix painted an address is one
 * probe per length present, longest first, instead of a walk of them all.
 * It is built once per table, under the mutex, by the first caller that
 * needs it, and never changes afterwards.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <bpf/bpf.h>

#include "synccache.h"

#define KINDS 4 /* IPv4 hosts, IPv4 subnets, IPv6 hosts, IPv6 subnets */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct me_tabref *slots[KINDS][ME_SYNC_SLOTS];

struct me_pfxidx {
	__u32 mask;    /* buckets - 1 (a power of two, at least twice the records) */
	__u32 *b;      /* record index + 1; 0 = empty */
	__u64 lens[3]; /* bit L: some record has length L (0..128) */
};

static int kind_of(int family, int is_net)
{
	return (family == AF_INET6) * 2 + !!is_net;
}

static enum me_map_id outer_of(int k)
{
	return me_sync_map(k / 2 ? AF_INET6 : AF_INET, k % 2);
}

static void idx_free(struct me_pfxidx *x)
{
	if (!x)
		return;
	free(x->b);
	free(x);
}

/* Lock held. */
static void unref(struct me_tabref *r)
{
	if (!r || --r->refs)
		return;
	me_tab_unmap(&r->t);
	idx_free(r->idx);
	free(r);
}

/* Lock held: map table id, with one reference (the caller's slot's). */
static int map_id(__u32 id, struct me_tabref **out)
{
	struct me_tabref *r = calloc(1, sizeof(*r));
	int fd, rc;

	if (!r)
		return -ENOMEM;
	fd = me_sync_open_id(id);
	if (fd < 0) {
		free(r);
		return fd;
	}
	rc = me_tab_map(fd, 0, &r->t);
	close(fd); /* the mapping holds the map from here on */
	if (rc) {
		free(r);
		return rc;
	}
	r->t.fd = -1;
	r->id = id;
	/* me_tab_map checked these against the map's own sizes */
	r->elem_size = r->t.h->elem_size;
	r->nelem = r->t.h->nelem;
	r->refs = 1;
	*out = r;
	return 0;
}

/* Lock held: drop every cached table its slot no longer names. */
static void evict(struct me_edge *e)
{
	__u32 g, id;
	int k;

	for (k = 0; k < KINDS; k++)
		for (g = 0; g < ME_SYNC_SLOTS; g++) {
			struct me_tabref *r = slots[k][g];

			if (!r)
				continue;
			if (e->fd[outer_of(k)] >= 0 &&
			    !bpf_map_lookup_elem(e->fd[outer_of(k)], &g, &id) && id == r->id)
				continue;
			slots[k][g] = NULL;
			unref(r);
		}
}

int me_synccache_get(struct me_edge *e, int family, int is_net, __u32 gen, struct me_tabref **out)
{
	int k = kind_of(family, is_net), rc = 0;
	struct me_tabref *r = NULL;
	__u32 id, g;

	*out = NULL;
	gen &= 1;
	/* As me_sync_inner_fd: a slot that cannot be read is an empty one. */
	if (bpf_map_lookup_elem(e->fd[outer_of(k)], &gen, &id))
		return -ENOENT;
	pthread_mutex_lock(&lock);
	for (g = 0; g < ME_SYNC_SLOTS && !r; g++)
		if (slots[k][g] && slots[k][g]->id == id)
			r = slots[k][g];
	if (r && slots[k][gen] != r) { /* the other slot's table, now in this one too */
		unref(slots[k][gen]);
		slots[k][gen] = r;
		r->refs++;
	}
	if (r) {
		r->refs++; /* the caller's */
	} else {
		rc = map_id(id, &r);
		if (rc)
			goto out;
		unref(slots[k][gen]);
		slots[k][gen] = r;
		/* The caller's reference first: if the slot changed again
		 * since it was read, evict lets the slot's go, and the caller
		 * still reads the table it asked for, once. */
		r->refs++;
		evict(e);
	}
	/* Still the map the header was checked against: cheap, and a table
	 * written in place keeps its geometry, so this fails only on damage. */
	rc = me_tab_check(r->t.h, r->elem_size, r->nelem);
	if (rc) {
		unref(r);
		goto out;
	}
	*out = r;
out:
	pthread_mutex_unlock(&lock);
	return rc;
}

void me_synccache_put(struct me_tabref *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&lock);
	unref(r);
	pthread_mutex_unlock(&lock);
}

void me_synccache_flush(void)
{
	int k, g;

	pthread_mutex_lock(&lock);
	for (k = 0; k < KINDS; k++)
		for (g = 0; g < ME_SYNC_SLOTS; g++) {
			unref(slots[k][g]);
			slots[k][g] = NULL;
		}
	pthread_mutex_unlock(&lock);
}

/* ---- which prefix painted an address ---- */

static __u32 pfx_hash(unsigned int len, const __u8 *addr)
{
	__u32 h = 2166136261u ^ len; /* FNV-1a */
	int i;

	for (i = 0; i < 16; i++)
		h = (h ^ addr[i]) * 16777619u;
	return h ^ h >> 15;
}

static const struct me_tab_pfx *pfx_rec(const struct me_tabmap *t, __u32 i)
{
	return (const struct me_tab_pfx *)me_tab_elem(t, t->h->pfx_base) + i;
}

/* A record's prefix, masked (list sync writes them masked; a table is not
 * trusted to be). */
static void rec_prefix(const struct me_tabmap *t, const struct me_tab_pfx *rec, struct me_prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->family = t->h->kind == ME_TAB_NET6 ? AF_INET6 : AF_INET;
	p->len = rec->len;
	memcpy(p->addr, rec->addr, p->family == AF_INET6 ? 16 : 4);
	me_prefix_mask(p);
}

static int idx_build(const struct me_tabmap *t, struct me_pfxidx **out)
{
	unsigned int max = t->h->kind == ME_TAB_NET6 ? 128 : 32;
	struct me_pfxidx *x = calloc(1, sizeof(*x));
	__u32 n = t->h->nprefixes, size = 16, i, h;
	struct me_prefix p;

	if (!x)
		return -ENOMEM;
	while (size < 2 * (__u64)n)
		size *= 2;
	x->mask = size - 1;
	x->b = calloc(size, sizeof(*x->b));
	if (!x->b) {
		idx_free(x);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		const struct me_tab_pfx *rec = pfx_rec(t, i);

		if (rec->len > max || rec->val >= t->h->nvals) {
			idx_free(x);
			return -EUCLEAN; /* as me_tab_walk says of it */
		}
		rec_prefix(t, rec, &p);
		for (h = pfx_hash(p.len, p.addr) & x->mask; x->b[h]; h = (h + 1) & x->mask)
			;
		x->b[h] = i + 1;
		x->lens[p.len / 64] |= 1ull << (p.len % 64);
	}
	*out = x;
	return 0;
}

/* The record of prefix (len, masked addr) that names dictionary entry v. */
static int idx_find(const struct me_tabmap *t, const struct me_pfxidx *x, const struct me_prefix *a,
		    __u32 v)
{
	struct me_prefix p;
	__u32 h;

	for (h = pfx_hash(a->len, a->addr) & x->mask; x->b[h]; h = (h + 1) & x->mask) {
		const struct me_tab_pfx *rec = pfx_rec(t, x->b[h] - 1);

		if (rec->len != a->len || rec->val != v)
			continue;
		rec_prefix(t, rec, &p);
		if (!memcmp(p.addr, a->addr, sizeof(p.addr)))
			return 1;
	}
	return 0;
}

int me_synccache_net_find(struct me_tabref *r, const struct me_prefix *addr, struct me_prefix *pfx)
{
	const struct me_tabmap *t = &r->t;
	struct me_pfxidx *x;
	struct me_prefix a;
	int v, len, rc;

	v = me_nettab_lookup(t, addr);
	if (v < 0)
		return -ENOENT;
	if ((__u32)v >= t->h->nvals)
		return -EUCLEAN;
	pthread_mutex_lock(&lock);
	if (!r->idx && !r->idx_rc)
		r->idx_rc = idx_build(t, &r->idx);
	x = r->idx;
	rc = r->idx_rc;
	pthread_mutex_unlock(&lock);
	if (rc)
		return rc;
	for (len = (int)addr->len; len >= 0; len--) {
		if (!(x->lens[len / 64] & 1ull << (len % 64)))
			continue;
		memset(&a, 0, sizeof(a));
		a.family = addr->family;
		a.len = (unsigned int)len;
		memcpy(a.addr, addr->addr, addr->family == AF_INET6 ? 16 : 4);
		me_prefix_mask(&a);
		if (idx_find(t, x, &a, (__u32)v)) {
			*pfx = a;
			return v;
		}
	}
	return -ESRCH;
}
