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

#include "grow.h"
#include "incr.h"
#include "radix.h"

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
	struct ls_kv *g = me_grow(*v, *n, cap, sizeof(*g), 1024);

	if (!g)
		return -ENOMEM;
	*v = g;
	(*v)[*n].key = key;
	(*v)[(*n)++].idx = idx;
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
 * from the keys now: hosts-only changes leave them as they were. */
static int subnets_of(const struct ls_incr_src *s, size_t nsrc, int list, struct subnets *sn)
{
	size_t i, j, cap = 0, out = 0;

	memset(sn, 0, sizeof(*sn));
	for (i = 0; i < nsrc; i++) {
		const struct ls_keys *k = or_empty(s[i].keys);

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

/* Where each source's walk has got to: its hosts now, and its changes. */
struct cursor {
	size_t now, chg;
};

/* Whether a source's copy had addr when the maps were made (in[0]) and has
 * it now (in[1]). A host its delta names changed, and the delta says which
 * way; only a host changed in another source needs a search of this one's. */
static void in_copies(const struct ls_keys *k, const struct ls_keys_delta *d, struct cursor *c,
		      __u32 addr, int in[2])
{
	if (d) {
		c->chg = skip_below(d->hosts, d->nhosts, c->chg, addr);
		if (c->chg < d->nhosts && d->hosts[c->chg] == addr) {
			in[1] = (int)(d->came[c->chg / 64] >> (c->chg % 64) & 1);
			in[0] = !in[1];
			return;
		}
	}
	c->now = skip_below(k->h4, k->nh4, c->now, addr);
	in[1] = c->now < k->nh4 && k->h4[c->now] == addr;
	in[0] = in[1];
}

/* What the maps were made from (v 0) and what there is now (v 1) say about
 * an address: per list, the source whose host record survives the merge
 * (-1: none). */
static void resolve(const struct ls_incr_src *s, size_t nsrc, struct cursor *cur,
		    const int *cover, __u32 addr, int win[2][2])
{
	size_t i;
	int v;

	win[0][0] = win[0][1] = win[1][0] = win[1][1] = -1;
	for (i = 0; i < nsrc; i++) {
		int in[2];

		in_copies(or_empty(s[i].keys), s[i].delta, &cur[i], addr, in);
		for (v = 0; v < 2; v++)
			if (in[v] && win[v][s[i].list & 1] < 0)
				win[v][s[i].list & 1] = (int)i;
	}
	for (v = 0; v < 2; v++)
		for (i = 0; i < 2; i++)
			if (win[v][i] >= 0 && cover[i] >= 0 &&
			    same_verdict(&s[cover[i]].val, &s[win[v][i]].val))
				win[v][i] = -1; /* the covering subnet already says it */
}

/* The host table's choice: the white entry first. */
static int table_pick(const int *win)
{
	return win[ME_LIST_WHITE] >= 0 ? win[ME_LIST_WHITE] : win[ME_LIST_BLACK];
}

int ls_incr_resolve(const struct ls_incr_src *s, size_t nsrc, struct ls_incr *out)
{
	struct subnets sn[2] = { { 0 }, { 0 } };
	struct cursor *cur = NULL;
	__u32 *addrs = NULL;
	size_t i, j, n = 0, m = 0;
	int rc = 0, l;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < nsrc; i++) {
		if (s[i].list != ME_LIST_WHITE && s[i].list != ME_LIST_BLACK)
			return -EAGAIN;
		if (s[i].delta && !s[i].delta->hosts_only)
			return -EAGAIN;
		n += s[i].delta ? s[i].delta->nhosts : 0;
	}
	addrs = malloc((n ? n : 1) * sizeof(*addrs));
	cur = calloc(nsrc ? nsrc : 1, sizeof(*cur));
	out->chg = malloc((n ? n : 1) * sizeof(*out->chg));
	if (!addrs || !cur || !out->chg) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0, n = 0; i < nsrc; i++)
		if (s[i].delta && s[i].delta->nhosts) {
			memcpy(addrs + n, s[i].delta->hosts, s[i].delta->nhosts * sizeof(*addrs));
			n += s[i].delta->nhosts;
		}
	if (ls_radix_sort_u32(addrs, n)) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) /* the same host changed in two sources */
		if (!m || addrs[m - 1] != addrs[i])
			addrs[m++] = addrs[i];
	out->changed = m;
	for (l = 0; l < 2 && !rc; l++)
		rc = subnets_of(s, nsrc, l, &sn[l]);
	if (rc)
		goto out;
	for (j = 0; j < m; j++) {
		__u32 addr = addrs[j];
		int cover[2], win[2][2], was, now;
		struct me_hostchg *c;

		for (l = 0; l < 2; l++)
			cover[l] = covering(&sn[l], addr);
		resolve(s, nsrc, cur, cover, addr, win);
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
	free(cur);
	free(addrs);
	free(sn[0].v);
	free(sn[1].v);
	if (rc)
		ls_incr_free(out);
	return rc;
}

void ls_incr_free(struct ls_incr *in)
{
	free(in->chg);
	memset(in, 0, sizeof(*in));
}
