// SPDX-License-Identifier: GPL-2.0
/*
 * sync_delta.c - a refresh in place: the live host tables take the changes.
 *
 * Rebuilding an eight-million-host table to change 1% of it costs a whole
 * table of memory and time. Instead, the new state is written into the bits of
 * the generation no packet reads (see "Host slots carry one visibility bit per
 * generation" in mailedge_abi.h): an entry that stays is left alone, one that
 * goes is made dead there, one that comes takes a free slot there. The flip
 * then switches every packet to it at once, as a rebuild would.
 *
 * A packet of the generation in use may be reading any slot, so an entry is
 * never moved the way a cuckoo insert moves it. A new host whose two buckets
 * are full gets room by copying one neighbour to its other bucket, waiting a
 * grace period, then taking the neighbour's old slot (make_room). Only when
 * that fails too, or the table would be too full or far too large for what it
 * holds now, does the caller rebuild.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "hugemem.h"
#include "radix.h"
#include "sync_apply.h"
#include "sync_delta.h"
#include "table_build.h"

#define DELTA_MAX_LOAD 0.97 /* beyond this, adds start to fail: rebuild first */
#define DELTA_MIN_LOAD 0.25 /* below this, a rebuild gives memory back */
#define PREFETCH_AHEAD 16

static int is_host(const struct me_urec *r, int v6)
{
	return r->family == (v6 ? 6 : 4) && r->len == (v6 ? 128 : 32);
}

/* What a dictionary is extended with: item j's list (-1: none, skipped) and
 * its entry. */
typedef int (*dict_item)(const void *ctx, size_t j, const struct me_entry **val);

/* Table t's dictionary, extended with the entries of n items; idx[j] is item
 * j's index. -EAGAIN when the dictionary is full. Equal neighbours (sorted
 * input repeats an entry) cost one compare, not a search. */
static int dict_extend(struct me_tabmap *t, size_t n, dict_item item, const void *ctx, __u8 *idx)
{
	struct me_tabdict *d = calloc(1, sizeof(*d));
	const struct me_entry *val;
	__u32 i, old = t->h->nvals;
	int last = -1, k, list;
	size_t j;

	if (!d)
		return -ENOMEM;
	for (i = 0; i < old; i++)
		d->v[i] = *me_tab_val(t, i);
	d->n = old;
	for (j = 0; j < n; j++) {
		list = item(ctx, j, &val);
		if (list < 0)
			continue;
		if (last >= 0 && d->v[last].list == (__u32)list &&
		    !memcmp(&d->v[last].e, val, sizeof(*val))) {
			idx[j] = (__u8)last;
			continue;
		}
		k = me_tabdict_index(d, list, val);
		if (k < 0) {
			free(d);
			return -EAGAIN;
		}
		idx[j] = (__u8)(last = k);
	}
	/* Appended before any slot names them; the count last. */
	for (i = old; i < d->n; i++)
		*(struct me_tab_val *)me_tab_val(t, i) = d->v[i];
	__atomic_store_n(&t->h->nvals, d->n, __ATOMIC_RELEASE);
	free(d);
	return 0;
}

struct union_items {
	const struct me_union *u;
	int v6;
};

static int union_item(const void *ctx, size_t j, const struct me_entry **val)
{
	const struct union_items *ui = ctx;
	const struct me_urec *r = &ui->u->v[j];

	if (!is_host(r, ui->v6))
		return -1;
	*val = &r->val;
	return r->list;
}

/* The table's dictionary, extended with the union's new values; idx[i] is
 * record i's index (for the hosts of this family). */
static int extend_dict(struct me_tabmap *t, const struct me_union *u, int v6, __u8 *idx, char *why,
		       size_t why_len)
{
	struct union_items ui = { u, v6 };
	int rc = dict_extend(t, u->n, union_item, &ui, idx);

	if (rc == -EAGAIN)
		snprintf(why, why_len, "the table's dictionary is full");
	return rc;
}

static void prefetch_locate(const struct me_tabmap *t, int v6, const struct me_urec *r)
{
	__u64 h;

	if (!is_host(r, v6))
		return;
	if (v6) {
		__u32 w[4];

		memcpy(w, r->addr, 16);
		h = me_tab_hash6(w, t->h->seed);
	} else {
		__u32 k;

		memcpy(&k, r->addr, 4);
		h = me_tab_hash4(k, t->h->seed);
	}
	__builtin_prefetch(me_tab_elem(t, t->h->base + me_tab_bucket1(h, t->h->nbuckets)), 1);
	__builtin_prefetch(me_tab_elem(t, t->h->base + me_tab_bucket2(h, t->h->nbuckets)), 1);
}

#define MARK(m, pos)   ((m)[(__u32)(pos) / 64] |= 1ull << ((__u32)(pos) % 64))
#define MARKED(m, pos) (((m)[(__u32)(pos) / 64] >> ((__u32)(pos) % 64)) & 1)

/* Hosts that found both buckets full, waiting for room to be made. */
struct pending {
	size_t *rec; /* union index */
	int *slot;   /* the slot freed for it */
	size_t n, cap;
};

static int pending_push(struct pending *p, size_t i)
{
	size_t cap = p->cap; /* both arrays grow to the same room */
	size_t *r = me_grow(p->rec, p->n, &cap, sizeof(*r), 256);
	int *s;

	if (!r)
		return -ENOMEM;
	p->rec = r;
	s = me_grow(p->slot, p->n, &p->cap, sizeof(*s), 256);
	if (!s)
		return -ENOMEM;
	p->slot = s;
	p->rec[p->n++] = i;
	return 0;
}

/* A host's first bucket (IPv4 hosts are walked in its order). */
static __u32 first_bucket(const struct me_tabmap *t, const struct me_urec *r)
{
	__u32 k;

	memcpy(&k, r->addr, 4);
	return me_tab_bucket1(me_tab_hash4(k, t->h->seed), t->h->nbuckets);
}

/*
 * The order the hosts are applied in: white before black for the same host
 * (it keeps its white entry: the mark says so when the black one comes).
 * IPv4 hosts go in the order of their first bucket, white first within a
 * bucket: a locate per host at 8M hosts is a random miss each in union order,
 * a walk front to back of the table in this one. IPv6 hosts, fewer, keep the
 * union's order, white ones first.
 */
static struct ls_kv *apply_order(const struct me_tabmap *t, const struct me_union *u, int v6,
				 size_t *n)
{
	struct ls_kv *kv;
	size_t i, m = 0;

	for (i = 0; i < u->n; i++)
		m += is_host(&u->v[i], v6);
	kv = malloc((m ? m : 1) * sizeof(*kv));
	if (!kv)
		return NULL;
	me_hugepages(kv, m * sizeof(*kv));
	m = 0;
	for (i = 0; i < u->n; i++) {
		const struct me_urec *r = &u->v[i];

		if (!is_host(r, v6))
			continue;
		kv[m].key = (v6 ? 0 : (__u64)first_bucket(t, r) << 1) | r->list;
		kv[m++].idx = i;
	}
	if (ls_radix_sort(kv, m)) {
		free(kv);
		return NULL;
	}
	*n = m;
	return kv;
}

/*
 * Is the white entry of r's host waiting for room? Then r, a black entry for
 * the same host, must not go in: the white one will (the mark that says "white
 * already" only comes when it does). White comes before black for a host, so
 * it is among the pending already; IPv4 hosts go in bucket order, so the
 * search stops at the first pending host of another bucket.
 */
static int white_pending(const struct me_tabmap *t, const struct me_union *u,
			 const struct pending *p, const struct me_urec *r, int v6)
{
	size_t i;

	for (i = p->n; i-- > 0;) {
		const struct me_urec *w = &u->v[p->rec[i]];

		if (!v6 && first_bucket(t, w) != first_bucket(t, r))
			return 0;
		if (w->list == ME_LIST_WHITE && !memcmp(w->addr, r->addr, sizeof(r->addr)))
			return 1;
	}
	return 0;
}

static int apply_records(struct me_tabmap *t, const struct me_union *u, const __u8 *idx, int v6,
			 __u32 nxt, __u64 *marks, struct pending *pend, struct me_delta_stats *ds)
{
	struct ls_kv *order;
	size_t k, n = 0, i;
	int pos, rc = 0;

	order = apply_order(t, u, v6, &n);
	if (!order)
		return -ENOMEM;
	for (k = 0; k < n; k++) {
		const struct me_urec *r;

		/* The record two distances ahead, then (once it has arrived) its
		 * buckets one distance ahead. */
		if (k + 2 * PREFETCH_AHEAD < n)
			__builtin_prefetch(&u->v[order[k + 2 * PREFETCH_AHEAD].idx]);
		if (k + PREFETCH_AHEAD < n)
			prefetch_locate(t, v6, &u->v[order[k + PREFETCH_AHEAD].idx]);
		i = order[k].idx;
		r = &u->v[i];
		pos = me_hostab_locate(t, r->addr, nxt);
		if (pos >= 0) {
			if (MARKED(marks, pos))
				continue; /* white already, this refresh */
			if (me_hostab_val(t, pos) == idx[i]) {
				MARK(marks, pos);
				ds->kept++;
				continue;
			}
			me_hostab_kill(t, pos, nxt); /* its entry changed */
			ds->removed++;
		}
		if (r->list == ME_LIST_BLACK && white_pending(t, u, pend, r, v6))
			continue;
		pos = me_hostab_add(t, r->addr, idx[i], nxt);
		if (pos == -ENOSPC) {
			if (pending_push(pend, i)) {
				rc = -ENOMEM;
				break;
			}
			continue;
		}
		if (pos < 0) {
			rc = pos;
			break;
		}
		MARK(marks, pos);
		ds->added++;
	}
	free(order);
	return rc;
}

/* An entry that stays (marked) may move to make room. */
static int movable(void *ctx, int pos)
{
	return (int)MARKED((const __u64 *)ctx, pos);
}

/*
 * Room for the hosts whose buckets were full: one entry of their buckets
 * moves to its other bucket (a copy, live at once), then a grace period, then
 * the original goes and the new host takes its slot. The grace period is what
 * makes the move safe: a packet that looked in the copy's bucket before the
 * copy existed may be about to look in the original's.
 */
static int make_room(struct me_tabmap *t, const struct me_union *u, const __u8 *idx, __u32 nxt,
		     __u64 *marks, struct pending *pend, struct me_delta_stats *ds)
{
	size_t i;
	int to, pos;

	for (i = 0; i < pend->n; i++) {
		pos = me_hostab_make_room(t, u->v[pend->rec[i]].addr, movable, marks, &to);
		if (pos < 0)
			return pos;
		/* the copy stays; the original is spoken for */
		marks[(__u32)pos / 64] &= ~(1ull << ((__u32)pos % 64));
		MARK(marks, to);
		pend->slot[i] = pos;
		ds->moved++;
	}
	if (!pend->n)
		return 0;
	me_rcu_grace();
	for (i = 0; i < pend->n; i++) {
		me_hostab_free(t, pend->slot[i]);
		pos = me_hostab_put(t, pend->slot[i], u->v[pend->rec[i]].addr, idx[pend->rec[i]], nxt);
		if (pos < 0)
			return pos;
		MARK(marks, pos);
		ds->added++;
	}
	return 0;
}

/* What nxt still has that the union does not: dead in nxt. */
static void sweep(struct me_tabmap *t, int v6, __u32 nxt, const __u64 *marks,
		  struct me_delta_stats *ds)
{
	int nslots = v6 ? ME_HB6_SLOTS : ME_HB4_SLOTS, s;
	__u32 b;

	for (b = 0; b < t->h->nbuckets; b++) {
		const void *bk = me_tab_elem(t, t->h->base + b);
		__u32 live = me_tab_vis(v6 ? ((const struct me_hb6 *)bk)->vis
					   : ((const struct me_hb4 *)bk)->vis,
					nxt);

		for (s = 0; s < nslots; s++)
			if ((live & (1u << s)) && !MARKED(marks, b * ME_HOSTAB_POS_PER_BUCKET + (__u32)s)) {
				me_hostab_kill(t, (int)(b * ME_HOSTAB_POS_PER_BUCKET + (__u32)s), nxt);
				ds->removed++;
			}
	}
}

int me_delta_hosts(struct me_tabmap *t, const struct me_union *u, __u32 nxt,
		   struct me_delta_stats *ds, char *why, size_t why_len)
{
	int v6 = t->h->kind == ME_TAB_HOST6, rc;
	double slots = (double)t->h->nbuckets * (v6 ? ME_HB6_SLOTS : ME_HB4_SLOTS);
	struct pending pend = { 0 };
	__u64 *marks = NULL;
	__u8 *idx = NULL;
	size_t i, n = 0;

	memset(ds, 0, sizeof(*ds));
	for (i = 0; i < u->n; i++)
		n += is_host(&u->v[i], v6);
	if (!n && !t->h->nbuckets)
		return 0; /* none before, none now */
	/* An IPv4 host table has the size the load fixed (table.h): a rebuild
	 * would give nothing back. */
	if (!t->h->nbuckets || n > slots * DELTA_MAX_LOAD ||
	    (v6 && n < slots * DELTA_MIN_LOAD && slots > 1024)) {
		snprintf(why, why_len, "%zu IPv%d hosts for a table of %.0f slots", n, v6 ? 6 : 4,
			 slots);
		return -EAGAIN;
	}
	idx = malloc(u->n ? u->n : 1);
	marks = calloc(((size_t)t->h->nbuckets * ME_HOSTAB_POS_PER_BUCKET + 63) / 64, sizeof(*marks));
	if (!idx || !marks) {
		rc = -ENOMEM;
		snprintf(why, why_len, "out of memory for a refresh in place");
		goto out;
	}
	rc = extend_dict(t, u, v6, idx, why, why_len);
	if (rc)
		goto out;
	/* nxt's bits start as the generation in use: a refresh that died half-way
	 * (killed, crashed) must not leave its leftovers in. */
	me_hostab_begin(t, nxt);
	rc = apply_records(t, u, idx, v6, nxt, marks, &pend, ds);
	if (!rc)
		rc = make_room(t, u, idx, nxt, marks, &pend, ds);
	if (rc) {
		snprintf(why, why_len, "no room in place for an IPv%d host (both buckets full, no neighbour movable)",
			 v6 ? 6 : 4);
		me_hostab_settle(t, nxt ^ 1);
		rc = -EAGAIN;
		goto out;
	}
	sweep(t, v6, nxt, marks, ds);
out:
	free(idx);
	free(marks);
	free(pend.rec);
	free(pend.slot);
	return rc;
}

/* A subnet as both sides can state it. */
struct netrec {
	__u8 addr[16];
	__u8 len;
	__u8 list;
	struct me_entry e;
};

static int netrec_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct netrec));
}

int me_nettab_same(const struct me_tabmap *t, const struct me_union *u)
{
	int v6 = t->h->kind == ME_TAB_NET6, same;
	const struct me_tab_pfx *rec = me_tab_elem(t, t->h->pfx_base);
	struct netrec *a, *b;
	size_t i, n = 0;

	for (i = 0; i < u->n; i++)
		n += u->v[i].family == (v6 ? 6 : 4) && !is_host(&u->v[i], v6);
	if (n != t->h->nprefixes)
		return 0;
	if (!n)
		return 1;
	a = calloc(n, sizeof(*a));
	b = calloc(n, sizeof(*b));
	if (!a || !b) {
		free(a);
		free(b);
		return 0;
	}
	n = 0;
	for (i = 0; i < u->n; i++) {
		const struct me_urec *r = &u->v[i];

		if (r->family != (v6 ? 6 : 4) || is_host(r, v6))
			continue;
		memcpy(a[n].addr, r->addr, 16);
		a[n].len = r->len;
		a[n].list = r->list;
		a[n].e = r->val;
		n++;
	}
	for (i = 0; i < n; i++) {
		const struct me_tab_val *v;

		if (rec[i].val >= t->h->nvals) {
			free(a);
			free(b);
			return 0;
		}
		v = me_tab_val(t, rec[i].val);
		memcpy(b[i].addr, rec[i].addr, 16);
		b[i].len = rec[i].len;
		b[i].list = (__u8)v->list;
		b[i].e = v->e;
	}
	qsort(a, n, sizeof(*a), netrec_cmp);
	qsort(b, n, sizeof(*b), netrec_cmp);
	same = !memcmp(a, b, n * sizeof(*a));
	free(a);
	free(b);
	return same;
}

static int chg_item(const void *ctx, size_t j, const struct me_entry **val)
{
	const struct me_hostchg *c = (const struct me_hostchg *)ctx + j;

	*val = &c->val;
	return c->list;
}

/* The dictionary index of each change's entry, new ones appended to t's. */
static int chg_dict(struct me_tabmap *t, const struct me_hostchg *c, size_t n, __u8 *idx)
{
	return dict_extend(t, n, chg_item, c, idx);
}

/* Bucket of slot pos written: for the settle after the flip. Without memory
 * for the list, the list goes and the settle walks every bucket. */
static void touched(struct me_delta_stats *ds, int pos)
{
	__u32 *g;

	if (ds->ntouched == SIZE_MAX)
		return;
	g = me_grow(ds->touched, ds->ntouched, &ds->touched_cap, sizeof(*g), 4096);
	if (!g) {
		free(ds->touched);
		ds->touched = NULL;
		ds->ntouched = SIZE_MAX;
		return;
	}
	ds->touched = g;
	ds->touched[ds->ntouched++] = ME_HOSTAB_POS_BUCKET(pos);
}

/* Not a slot already spoken for by an earlier make_room of this refresh. */
static int not_spoken(void *ctx, int pos)
{
	return !MARKED((const __u64 *)ctx, pos);
}

int me_delta_hosts_chg(struct me_tabmap *t, const struct me_hostchg *c, size_t n, __u32 nxt,
		       struct me_delta_stats *ds, char *why, size_t why_len)
{
	double slots = (double)t->h->nbuckets * ME_HB4_SLOTS;
	struct pending pend = { 0 };
	__u64 *spoken = NULL;
	__u8 *idx = NULL;
	size_t i, adds = 0;
	int pos, rc;

	memset(ds, 0, sizeof(*ds));
	for (i = 0; i < n; i++)
		adds += c[i].list >= 0;
	if (t->h->kind != ME_TAB_HOST4 || !t->h->nbuckets ||
	    (double)t->h->count[0] + t->h->count[1] + (double)adds > slots * DELTA_MAX_LOAD) {
		snprintf(why, why_len, "%zu more IPv4 hosts for a table of %.0f slots", adds,
			 slots);
		return -EAGAIN;
	}
	idx = malloc(n ? n : 1);
	spoken = calloc(((size_t)t->h->nbuckets * ME_HOSTAB_POS_PER_BUCKET + 63) / 64, sizeof(*spoken));
	if (!idx || !spoken) {
		rc = -ENOMEM;
		snprintf(why, why_len, "out of memory for a refresh in place");
		goto out;
	}
	rc = chg_dict(t, c, n, idx);
	if (rc) {
		snprintf(why, why_len, "the table's dictionary is full");
		goto out;
	}
	/* As in me_delta_hosts: a refresh that died half-way leaves nothing. */
	me_hostab_begin(t, nxt);
	for (i = 0; i < n && !rc; i++) {
		if (i + PREFETCH_AHEAD < n) {
			__u32 k, nb = t->h->nbuckets;
			__u64 h;

			memcpy(&k, c[i + PREFETCH_AHEAD].addr, 4);
			h = me_tab_hash4(k, t->h->seed);
			__builtin_prefetch(me_tab_elem(t, t->h->base + me_tab_bucket1(h, nb)), 1);
			__builtin_prefetch(me_tab_elem(t, t->h->base + me_tab_bucket2(h, nb)), 1);
		}
		pos = me_hostab_locate(t, c[i].addr, nxt);
		if (pos >= 0) {
			__u8 was = me_hostab_val(t, pos);

			if (c[i].list >= 0 && was == idx[i]) {
				ds->kept++;
				continue;
			}
			me_hostab_kill(t, pos, nxt);
			touched(ds, pos);
			ds->removed++;
			if (was < t->h->nvals)
				ds->count[me_tab_val(t, was)->list & 1]--;
		}
		if (c[i].list < 0)
			continue;
		ds->count[c[i].list & 1]++; /* now, or in the room made below */
		pos = me_hostab_add(t, c[i].addr, idx[i], nxt);
		if (pos == -ENOSPC)
			rc = pending_push(&pend, i);
		else if (pos < 0)
			rc = pos;
		else {
			touched(ds, pos);
			ds->added++;
		}
	}
	/* Room for the hosts whose buckets were full (see make_room). */
	for (i = 0; i < pend.n && !rc; i++) {
		int to;

		pos = me_hostab_make_room(t, c[pend.rec[i]].addr, not_spoken, spoken, &to);
		if (pos < 0)
			rc = pos;
		else {
			MARK(spoken, pos);
			pend.slot[i] = pos;
			ds->moved++;
		}
	}
	if (!rc && pend.n)
		me_rcu_grace();
	for (i = 0; i < pend.n && !rc; i++) {
		me_hostab_free(t, pend.slot[i]);
		pos = me_hostab_put(t, pend.slot[i], c[pend.rec[i]].addr, idx[pend.rec[i]], nxt);
		if (pos < 0)
			rc = pos;
		else {
			touched(ds, pos);
			ds->added++;
		}
	}
	if (rc) {
		snprintf(why, why_len, "no room in place for an IPv4 host (both buckets full, "
			 "no neighbour movable)");
		me_hostab_settle(t, nxt ^ 1);
		rc = -EAGAIN;
	}
out:
	free(idx);
	free(spoken);
	free(pend.rec);
	free(pend.slot);
	return rc;
}
