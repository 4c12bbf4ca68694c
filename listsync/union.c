// SPDX-License-Identifier: GPL-2.0
/*
 * union.c - merge list-sync entries.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

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

int me_union_add(struct me_union *u, int list, const struct me_prefix *p,
		 const struct me_entry *val, unsigned int prio)
{
	struct me_urec *r;

	if (u->n == u->cap) {
		size_t cap = u->cap ? u->cap * 2 : 4096;
		struct me_urec *g = realloc(u->v, cap * sizeof(*g));

		if (!g)
			return -ENOMEM;
		u->v = g;
		u->cap = cap;
	}
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

	if (u->n) /* qsort(NULL, 0) is undefined behaviour */
		qsort(u->v, u->n, sizeof(*u->v), urec_cmp);
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

/* FNV-1a over the merged (sorted) records: order is canonical after merge. */
__u64 me_union_digest(const struct me_union *u)
{
	__u64 h = 0xcbf29ce484222325ull;
	size_t i, k;

	for (i = 0; i < u->n; i++) {
		const unsigned char *b = (const unsigned char *)&u->v[i];

		for (k = 0; k < sizeof(u->v[i]); k++) {
			if (k == offsetof(struct me_urec, prio))
				continue; /* which source won does not change the maps */
			h ^= b[k];
			h *= 0x100000001b3ull;
		}
	}
	return h;
}
