// SPDX-License-Identifier: GPL-2.0
/*
 * union.c - merge list-sync entries.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "grow.h"
#include "hugemem.h"
#include "radix.h"
#include "union.h"

void me_union_init(struct me_union *u)
{
	memset(u, 0, sizeof(*u));
}

void me_union_free(struct me_union *u)
{
	free(u->v);
	me_union_init(u);
}

int me_union_reserve(struct me_union *u, size_t more)
{
	struct me_urec *g;

	if (u->cap - u->n >= more)
		return 0;
	g = realloc(u->v, (u->n + more) * sizeof(*g));
	if (!g)
		return -ENOMEM;
	me_hugepages(g, (u->n + more) * sizeof(*g));
	u->v = g;
	u->cap = u->n + more;
	return 0;
}

int me_union_add(struct me_union *u, int list, const struct me_prefix *p,
		 const struct me_entry *val, unsigned int prio)
{
	struct me_urec *r = me_grow(u->v, u->n, &u->cap, sizeof(*r), 4096);

	if (!r)
		return -ENOMEM;
	u->v = r;
	r = &u->v[u->n++];
	memcpy(r->addr, p->addr, sizeof(r->addr));
	r->len = (__u8)p->len;
	r->family = p->family == AF_INET ? 4 : 6;
	r->list = (__u8)list;
	r->prio = (__u8)(prio > 255 ? 255 : prio);
	r->val = *val;
	u->merged = 0;
	return 0;
}

void me_urec_prefix(const struct me_urec *r, struct me_prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->family = r->family == 4 ? AF_INET : AF_INET6;
	p->len = r->len;
	memcpy(p->addr, r->addr, sizeof(p->addr));
}

/* list, family, address, length (shorter first), priority: a covering prefix
 * sorts right before everything it covers. */
static int urec_cmp(const void *pa, const void *pb)
{
	const struct me_urec *a = pa, *b = pb;
	int d;

	if (a->list != b->list)
		return a->list - b->list;
	if (a->family != b->family)
		return a->family - b->family;
	d = memcmp(a->addr, b->addr, sizeof(a->addr));
	if (d)
		return d;
	if (a->len != b->len)
		return a->len - b->len;
	return a->prio - b->prio;
}

/* The order urec_cmp defines, within one list's IPv4 entries, as a number:
 * address (network order read big-endian), length, priority. */
static __u64 v4_key(const struct me_urec *r)
{
	__u32 a = (__u32)r->addr[0] << 24 | (__u32)r->addr[1] << 16 | (__u32)r->addr[2] << 8 |
		  r->addr[3];

	return (__u64)a << 16 | (__u64)r->len << 8 | r->prio;
}

/* Sort by urec_cmp. The records are regrouped by list and family into a new
 * array; each list's IPv4 entries (the millions) are ordered by radix sort of
 * v4_key, IPv6 entries, which do not fit a 64-bit key, by qsort. Without
 * memory for that, qsort of the whole array in place gives the same order. */
static void sort_union(struct me_union *u)
{
	struct me_urec *out = NULL;
	struct ls_kv *kv = NULL;
	size_t i, j, o = 0, m;
	int list, v6;

	if (u->n < 2)
		return;
	out = malloc(u->n * sizeof(*out));
	kv = malloc(u->n * sizeof(*kv));
	if (!out || !kv)
		goto fallback;
	me_hugepages(out, u->n * sizeof(*out));
	me_hugepages(kv, u->n * sizeof(*kv));
	for (list = ME_LIST_WHITE; list <= ME_LIST_BLACK; list++)
		for (v6 = 0; v6 < 2; v6++) {
			__u8 fam = v6 ? 6 : 4;

			m = 0;
			for (i = 0; i < u->n; i++)
				if (u->v[i].list == list && u->v[i].family == fam) {
					kv[m].key = v6 ? 0 : v4_key(&u->v[i]);
					kv[m++].idx = i;
				}
			if (!v6 && ls_radix_sort(kv, m))
				goto fallback;
			for (j = 0; j < m; j++)
				out[o + j] = u->v[kv[j].idx];
			if (v6 && m > 1)
				qsort(out + o, m, sizeof(*out), urec_cmp);
			o += m;
		}
	if (o != u->n) /* a list or family outside the four groups */
		goto fallback;
	free(kv);
	free(u->v);
	u->v = out;
	u->cap = u->n;
	return;
fallback:
	free(out);
	free(kv);
	qsort(u->v, u->n, sizeof(*u->v), urec_cmp);
}

static int urec_contains(const struct me_urec *a, const struct me_urec *b)
{
	unsigned int full = a->len / 8, rest = a->len % 8;

	if (a->list != b->list || a->family != b->family || a->len > b->len)
		return 0;
	if (memcmp(a->addr, b->addr, full))
		return 0;
	return !rest || !((a->addr[full] ^ b->addr[full]) & (0xff << (8 - rest)));
}

static int same_verdict(const struct me_urec *a, const struct me_urec *b)
{
	return a->val.action == b->val.action &&
	       (a->val.action != ME_ACT_GROUP || a->val.group == b->val.group);
}

/* Prefix nesting is at most 129 deep (one per length). */
#define MERGE_DEPTH 130

static int same_prefix(const struct me_urec *a, const struct me_urec *b)
{
	return a->list == b->list && a->family == b->family && a->len == b->len &&
	       !memcmp(a->addr, b->addr, sizeof(a->addr));
}

void me_union_merge(struct me_union *u, size_t *removed)
{
	size_t stack[MERGE_DEPTH];
	size_t i, out = 0, depth = 0;
	struct me_urec prev;

	sort_union(u);
	for (i = 0; i < u->n; i++) {
		struct me_urec cur = u->v[i], *r = &cur;
		int dup = i && same_prefix(&prev, r);

		prev = cur;
		/* Duplicates sort by priority: the first one decided, whether it
		 * was kept or found redundant. */
		if (dup)
			continue;
		while (depth && !urec_contains(&u->v[stack[depth - 1]], r))
			depth--;
		if (depth && same_verdict(&u->v[stack[depth - 1]], r))
			continue; /* the covering prefix already says the same */
		u->v[out] = *r;
		if (depth < MERGE_DEPTH)
			stack[depth++] = out;
		out++;
	}
	*removed = u->n - out;
	u->n = out;
	u->merged = 1;
}

void me_union_counts(const struct me_union *u, struct me_union_counts *c)
{
	size_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < u->n; i++) {
		const struct me_urec *r = &u->v[i];
		int fam = r->family == 6, net = r->len != (fam ? 128 : 32);

		c->n[r->list][fam][net]++;
	}
}

/* A 64-bit hash of the merged (sorted) records, whose order is canonical after
 * merge: each record's fields but the priority (which source won does not
 * change the maps) folded in as two words, multiply-xorshift mixed. Only ever
 * compared with a digest this same code made (the state file's), so a change
 * of the function costs one rebuild after an upgrade, nothing more. */
static __u64 mix(__u64 h, __u64 w)
{
	h ^= w;
	h *= 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 29);
}

__u64 me_union_digest(const struct me_union *u)
{
	__u64 h = 0xcbf29ce484222325ull, a, b;
	size_t i;

	for (i = 0; i < u->n; i++) {
		const struct me_urec *r = &u->v[i];

		memcpy(&a, r->addr, 8);
		memcpy(&b, r->addr + 8, 8);
		h = mix(h, a);
		h = mix(h, b);
		h = mix(h, (__u64)r->len | (__u64)r->family << 8 | (__u64)r->list << 16 |
			       (__u64)r->val.action << 24 | (__u64)r->val.src << 32 |
			       (__u64)r->val.group << 40);
		h = mix(h, r->val.expires);
	}
	return h;
}
