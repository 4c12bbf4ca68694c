// SPDX-License-Identifier: GPL-2.0
/*
 * incr.c - a refresh resolved from sorted keys (incr.h).
 *
 * Why this is the same as merging the union: a host (a /32) never covers
 * another entry, so removing or adding one changes nothing but its own record.
 * Its record survives the merge unless the deepest kept prefix of its list
 * covering it has the same verdict; a covering prefix the merge dropped had
 * the verdict of the kept one above it, so "the longest covering subnet, as
 * its first source states it" decides the same. The subnets themselves are
 * unchanged (that is the condition), so they are looked up once per host.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "incr.h"
#include "radix.h"

#define KEY_ADDR(k) ((__u32)((k) >> 8))
#define KEY_LEN(k)  ((unsigned int)((k)&0xff))

static const struct ls_keys empty;

static const struct ls_keys *or_empty(const struct ls_keys *k)
{
	return k ? k : &empty;
}

/* The subnets of one list: keys (address << 8 | length) ascending, each with
 * the first source stating it. */
struct subnets {
	struct ls_kv *v; /* key, idx = source index */
	size_t n;
	__u64 lens; /* bit len set: some subnet has that length */
};

static int push(struct ls_kv **v, size_t *n, size_t *cap, __u64 key, __u64 idx)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 1024;
		struct ls_kv *g = realloc(*v, c * sizeof(*g));

		if (!g)
			return -ENOMEM;
		*v = g;
		*cap = c;
	}
	(*v)[*n].key = key;
	(*v)[(*n)++].idx = idx;
	return 0;
}

static int same_v6(const struct ls_keys *a, const struct ls_keys *b)
{
	size_t i;

	if (a->n6 != b->n6)
		return 0;
	for (i = 0; i < a->n6; i++)
		if (a->v6[i].len != b->v6[i].len ||
		    memcmp(a->v6[i].addr, b->v6[i].addr, sizeof(a->v6[i].addr)))
			return 0;
	return 1;
}

/* The hosts only one of old and new has, appended (as keys, idx 0);
 * -EAGAIN when anything else differs. */
static int diff_hosts(const struct ls_keys *o, const struct ls_keys *n, struct ls_kv **v,
		      size_t *cnt, size_t *cap)
{
	size_t i = 0, j = 0;
	__u32 a;

	if (!same_v6(o, n) || o->n4 != n->n4 ||
	    (o->n4 && memcmp(o->k4, n->k4, o->n4 * sizeof(*o->k4))))
		return -EAGAIN;
	while (i < o->nh4 || j < n->nh4) {
		if (j == n->nh4 || (i < o->nh4 && o->h4[i] < n->h4[j]))
			a = o->h4[i++];
		else if (i == o->nh4 || n->h4[j] < o->h4[i])
			a = n->h4[j++];
		else {
			i++, j++;
			continue;
		}
		if (push(v, cnt, cap, (__u64)a << 8 | 32, 0))
			return -ENOMEM;
	}
	return 0;
}

static int kv_cmp(const void *a, const void *b)
{
	const struct ls_kv *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Every source's subnets of list, first source first for a prefix. Taken
 * from the new keys: hosts-only changes leave them as the old ones. */
static int subnets_of(const struct ls_incr_src *s, size_t nsrc, int list, struct subnets *sn)
{
	size_t i, j, cap = 0, out = 0;

	memset(sn, 0, sizeof(*sn));
	for (i = 0; i < nsrc; i++) {
		const struct ls_keys *k = or_empty(s[i].new);

		if (s[i].list != list)
			continue;
		for (j = 0; j < k->n4; j++)
			if (push(&sn->v, &sn->n, &cap, k->k4[j], i))
				return -ENOMEM;
	}
	if (sn->n > 1)
		qsort(sn->v, sn->n, sizeof(*sn->v), kv_cmp);
	for (i = 0; i < sn->n; i++) {
		if (out && sn->v[out - 1].key == sn->v[i].key)
			continue; /* a later source's copy of the same prefix */
		sn->v[out++] = sn->v[i];
		sn->lens |= 1ull << KEY_LEN(sn->v[i].key);
	}
	sn->n = out;
	return 0;
}

/* The source index of the longest subnet of sn covering addr, or -1. */
static int covering(const struct subnets *sn, __u32 addr)
{
	int len;

	for (len = 31; len >= 0; len--) {
		__u32 mask = len ? ~0u << (32 - len) : 0;
		__u64 key = (__u64)(addr & mask) << 8 | (unsigned int)len;
		size_t lo = 0, hi = sn->n;

		if (!(sn->lens >> len & 1))
			continue;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (sn->v[mid].key < key)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < sn->n && sn->v[lo].key == key)
			return (int)sn->v[lo].idx;
	}
	return -1;
}

static int same_verdict(const struct me_entry *a, const struct me_entry *b)
{
	return a->action == b->action && (a->action != ME_ACT_GROUP || a->group == b->group);
}

/* What one view (old or new) says about an address: per list, the source
 * whose host record survives the merge (-1: none). */
struct view {
	const struct ls_keys **k; /* per source */
	size_t *cur;		  /* per source: first key not below the last asked */
};

/* The first index from c on whose host is not below addr. Galloping: the
 * changes are few and far apart in 8M hosts, so each skip is long. */
static size_t skip_below(const __u32 *h, size_t n, size_t c, __u32 addr)
{
	size_t step = 1, lo = c, hi;

	if (c == n || h[c] >= addr)
		return c;
	while (c + step < n && h[c + step] < addr) {
		lo = c + step;
		step *= 2;
	}
	hi = c + step < n ? c + step : n; /* h[lo] < addr <= h[hi], or hi == n */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (h[mid] < addr)
			lo = mid;
		else
			hi = mid;
	}
	return hi;
}

static void resolve(const struct ls_incr_src *s, size_t nsrc, struct view *w, const int *cover,
		    __u32 addr, int *win)
{
	size_t i;

	win[0] = win[1] = -1;
	for (i = 0; i < nsrc; i++) {
		const struct ls_keys *k = w->k[i];
		size_t c = w->cur[i];

		c = skip_below(k->h4, k->nh4, c, addr);
		w->cur[i] = c;
		if (c < k->nh4 && k->h4[c] == addr && win[s[i].list & 1] < 0)
			win[s[i].list & 1] = (int)i;
	}
	for (i = 0; i < 2; i++)
		if (win[i] >= 0 && cover[i] >= 0 && same_verdict(&s[cover[i]].val, &s[win[i]].val))
			win[i] = -1; /* the covering subnet already says it */
}

/* The host table's choice: the white entry first. */
static int table_pick(const int *win)
{
	return win[ME_LIST_WHITE] >= 0 ? win[ME_LIST_WHITE] : win[ME_LIST_BLACK];
}

int ls_incr_resolve(const struct ls_incr_src *s, size_t nsrc, struct ls_incr *out)
{
	struct subnets sn[2] = { { 0 }, { 0 } };
	struct ls_kv *keys = NULL;
	struct view w[2] = { { 0 }, { 0 } };
	size_t i, j, n = 0, cap = 0, m = 0;
	int rc = 0, v, l;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < nsrc && !rc; i++) {
		if (s[i].list != ME_LIST_WHITE && s[i].list != ME_LIST_BLACK)
			rc = -EAGAIN;
		else if (s[i].old != s[i].new)
			rc = diff_hosts(or_empty(s[i].old), or_empty(s[i].new), &keys, &n, &cap);
	}
	if (rc)
		goto out;
	if (ls_radix_sort(keys, n)) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) /* the same host changed in two sources */
		if (!m || keys[m - 1].key != keys[i].key)
			keys[m++] = keys[i];
	out->changed = m;
	for (l = 0; l < 2 && !rc; l++)
		rc = subnets_of(s, nsrc, l, &sn[l]);
	for (v = 0; v < 2 && !rc; v++) {
		w[v].k = calloc(nsrc ? nsrc : 1, sizeof(*w[v].k));
		w[v].cur = calloc(nsrc ? nsrc : 1, sizeof(*w[v].cur));
		if (!w[v].k || !w[v].cur)
			rc = -ENOMEM;
		for (i = 0; i < nsrc && !rc; i++)
			w[v].k[i] = or_empty(v ? s[i].new : s[i].old);
	}
	out->chg = malloc((m ? m : 1) * sizeof(*out->chg));
	if (!rc && !out->chg)
		rc = -ENOMEM;
	if (rc)
		goto out;
	for (j = 0; j < m; j++) {
		__u32 addr = KEY_ADDR(keys[j].key);
		int cover[2], win[2][2], was, now;
		struct me_hostchg *c;

		for (l = 0; l < 2; l++)
			cover[l] = covering(&sn[l], addr);
		for (v = 0; v < 2; v++)
			resolve(s, nsrc, &w[v], cover, addr, win[v]);
		for (l = 0; l < 2; l++)
			out->delta[l] += (win[1][l] >= 0) - (win[0][l] >= 0);
		was = table_pick(win[0]);
		now = table_pick(win[1]);
		if (was == now || (was >= 0 && now >= 0 && s[was].list == s[now].list &&
				   !memcmp(&s[was].val, &s[now].val, sizeof(s[now].val))))
			continue; /* the table says the same either way */
		c = &out->chg[out->n++];
		memset(c, 0, sizeof(*c));
		c->addr[0] = (__u8)(addr >> 24);
		c->addr[1] = (__u8)(addr >> 16);
		c->addr[2] = (__u8)(addr >> 8);
		c->addr[3] = (__u8)addr;
		c->list = now >= 0 ? s[now].list : -1;
		if (now >= 0)
			c->val = s[now].val;
	}
out:
	for (v = 0; v < 2; v++) {
		free(w[v].k);
		free(w[v].cur);
	}
	free(sn[0].v);
	free(sn[1].v);
	free(keys);
	if (rc)
		ls_incr_free(out);
	return rc;
}

void ls_incr_free(struct ls_incr *in)
{
	free(in->chg);
	memset(in, 0, sizeof(*in));
}
