// SPDX-License-Identifier: GPL-2.0
/*
 * test_table.c - list sync's own tables: built by listsync/table_build.c, read
 * by common/synctab.c (layout: "List-sync tables" in mailedge_abi.h).
 *
 * The tables are real BPF array maps (BPF_F_MMAPABLE), created as root with no
 * program loaded; every check reads them back through a second, read-only
 * mapping made by me_tab_map, as the loader does.
 *
 * Each answer is checked against one computed here, independently of the
 * table: a host must be found with its own list and entry, and nothing else
 * found; a subnet lookup must equal a brute-force scan of the prefixes for the
 * longest white one covering the address, else the longest black one. The
 * random data come from a seed that the failure messages print; set
 * MAILEDGE_TEST_SEED to replay it (the builder's own hash seed varies anyway).
 *
 * Hostile input: a damaged header must make me_tab_map refuse the table
 * (-EUCLEAN), and damaged trie entries or slots must give "not found" or
 * -EUCLEAN, never a read outside the map.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <bpf/bpf.h>

#include "addr.h"
#include "mailedge_abi.h"
#include "synctab.h"
#include "table.h"
#include "../listsync/sync_apply.h"
#include "../listsync/table_build.h"
#include "../listsync/union.h"

TestSuite(table, .timeout = 120);

#define W ME_LIST_WHITE
#define B ME_LIST_BLACK

/* ---- random data ---- */

static __u32 seed;
static __u64 rng;

static void seed_init(void)
{
	const char *s = getenv("MAILEDGE_TEST_SEED");

	seed = s ? (__u32)strtoul(s, NULL, 0) : (__u32)time(NULL) ^ (__u32)getpid() << 16;
	rng = seed;
}

/* splitmix64 */
static __u64 rnd(void)
{
	__u64 z = (rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static __u32 rnd_below(__u32 n)
{
	return (__u32)(rnd() % n);
}

/* murmur3's finalizers: bijections, so distinct inputs give distinct hosts. */
static __u32 fmix32(__u32 h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	return h ^ (h >> 16);
}

static __u64 fmix64(__u64 k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ULL;
	return k ^ (k >> 33);
}

/* Host number i of a family: distinct for distinct i (below 2^32). */
static void host_addr(int v6, __u64 i, __u8 *addr)
{
	memset(addr, 0, 16);
	if (!v6) {
		__u32 a = fmix32((__u32)i ^ seed);

		memcpy(addr, &a, 4);
	} else {
		__u64 hi = fmix64(i ^ (__u64)seed << 32), lo = fmix64(hi + seed);

		memcpy(addr, &hi, 8);
		memcpy(addr + 8, &lo, 8);
	}
}

/* An entry as list sync would carry it: whitelists pass or name a group. */
static struct me_entry pick_entry(int list)
{
	static const __u32 expiry[] = { 0, 0, 4000000000u, 123456 };
	struct me_entry e = { 0 };

	if (list == W) {
		e.action = rnd_below(2) ? ME_ACT_PASS : ME_ACT_GROUP;
		e.group = e.action == ME_ACT_GROUP ? (__u16)(1 + rnd_below(3)) : 0;
	} else {
		e.action = (__u8)rnd_below(3); /* drop, reset, pass */
	}
	e.src = (__u8)(ME_SRC_SYNC_FIRST + rnd_below(4));
	e.expires = expiry[rnd_below(4)];
	return e;
}

static struct me_prefix mkprefix(int v6, const __u8 *addr, unsigned int len)
{
	struct me_prefix p;

	memset(&p, 0, sizeof(p));
	p.family = v6 ? AF_INET6 : AF_INET;
	p.len = len;
	memcpy(p.addr, addr, v6 ? 16 : 4);
	return p;
}

static struct me_prefix mkhost(int v6, const __u8 *addr)
{
	return mkprefix(v6, addr, v6 ? 128 : 32);
}

static const char *fmt_addr(int v6, const __u8 *addr, unsigned int len, char *buf)
{
	struct me_prefix p = mkprefix(v6, addr, len);

	me_prefix_format(&p, buf, ME_PREFIX_STRLEN);
	return buf;
}

static void add_rec(struct me_union *u, int list, const struct me_prefix *p,
		    const struct me_entry *e, unsigned int prio)
{
	cr_assert_eq(me_union_add(u, list, p, e, prio), 0, "me_union_add failed");
}

/* The dictionary and index of a merged union, then its tables' builder. */
struct built {
	struct me_tabdict *d;
	__u8 *idx;
	struct me_tabmap t;  /* as the builder made it: read-write, owns the fd */
	struct me_tabmap ro; /* the same map through me_tab_map, read-only */
};

static void build_table(struct me_union *u, int v6, int net, struct built *b)
{
	char why[256] = "";
	int rc;

	b->d = malloc(sizeof(*b->d));
	b->idx = malloc(u->n ? u->n : 1);
	cr_assert(b->d && b->idx, "out of memory");
	rc = me_tabdict_of_union(u, b->d, b->idx, why, sizeof(why));
	cr_assert_eq(rc, 0, "me_tabdict_of_union: got %d (%s), want 0 (seed %u)", rc, why, seed);
	rc = net ? me_nettab_build(u, b->idx, b->d, v6, &b->t, why, sizeof(why))
		 : me_hostab_build(u, b->idx, b->d, v6, 0, &b->t, why, sizeof(why));
	cr_assert_eq(rc, 0, "building the IPv%d %s table: got %d (%s), want 0 (seed %u)",
		     v6 ? 6 : 4, net ? "subnet" : "host", rc, why, seed);
	rc = me_tab_map(b->t.fd, 0, &b->ro);
	cr_assert_eq(rc, 0, "me_tab_map on a table just built: got %d, want 0 (seed %u)", rc, seed);
	cr_assert_eq(
	    b->ro.h->kind,
	    (__u32)(net ? (v6 ? ME_TAB_NET6 : ME_TAB_NET4) : (v6 ? ME_TAB_HOST6 : ME_TAB_HOST4)),
	    "kind: got %u", b->ro.h->kind);
	cr_assert_eq(b->ro.h->nvals, b->d->n, "nvals: got %u, want %u", b->ro.h->nvals, b->d->n);
}

static void built_free(struct built *b)
{
	me_tab_unmap(&b->ro);
	me_tab_destroy(&b->t);
	free(b->d);
	free(b->idx);
}

static int entry_eq(const struct me_entry *a, const struct me_entry *b)
{
	return a->action == b->action && a->src == b->src && a->group == b->group &&
	       a->expires == b->expires;
}

/* ---- 1, 2: host tables ---- */

/* What a host must be found with. */
struct hrec {
	__u8 addr[16];
	int list;
	struct me_entry e;
	int seen;
};

static int hrec_cmp(const void *a, const void *b)
{
	return memcmp(((const struct hrec *)a)->addr, ((const struct hrec *)b)->addr, 16);
}

static struct hrec *hrec_find(struct hrec *v, size_t n, const __u8 *addr)
{
	struct hrec key;

	memcpy(key.addr, addr, 16);
	return bsearch(&key, v, n, sizeof(*v), hrec_cmp);
}

struct hwalk {
	int v6;
	__u32 gen;
	struct hrec *v;
	size_t n, visits;
};

/* Every host the walk reports must be expected, with its list and entry, once. */
static int hwalk_cb(void *ctx, int list, const struct me_prefix *p, const struct me_entry *e)
{
	struct hwalk *w = ctx;
	char a[ME_PREFIX_STRLEN];
	__u8 addr[16] = { 0 };
	struct hrec *r;

	memcpy(addr, p->addr, w->v6 ? 16 : 4);
	fmt_addr(w->v6, addr, w->v6 ? 128 : 32, a);
	cr_assert_eq(p->len, w->v6 ? 128u : 32u, "walk gen %u: %s with length %u", w->gen, a,
		     p->len);
	r = hrec_find(w->v, w->n, addr);
	cr_assert(r, "walk gen %u: got %s, which the table should not hold (seed %u)", w->gen, a,
		  seed);
	cr_assert_eq(r->seen, 0, "walk gen %u: got %s twice (seed %u)", w->gen, a, seed);
	r->seen = 1;
	cr_assert_eq(list, r->list, "walk gen %u: %s: got list %d, want %d (seed %u)", w->gen, a,
		     list, r->list, seed);
	cr_assert(entry_eq(e, &r->e), "walk gen %u: %s: got another entry than was given (seed %u)",
		  w->gen, a, seed);
	w->visits++;
	return 0;
}

static void check_host_walk(const struct me_tabmap *t, int v6, __u32 gen, struct hrec *v, size_t n)
{
	struct hwalk w = { .v6 = v6, .gen = gen, .v = v, .n = n };
	size_t i;
	int rc;

	for (i = 0; i < n; i++)
		v[i].seen = 0;
	rc = me_tab_walk(t, gen, hwalk_cb, &w);
	cr_assert_eq(rc, 0, "me_tab_walk gen %u: got %d, want 0", gen, rc);
	cr_assert_eq(w.visits, n, "me_tab_walk gen %u: got %zu hosts, want %zu (seed %u)", gen,
		     w.visits, n, seed);
}

/* A host must be found in generation gen with r's list and entry. */
static void check_host_found(const struct me_tabmap *t, int v6, const struct hrec *r, __u32 gen)
{
	struct me_prefix p = mkhost(v6, r->addr);
	const struct me_tab_val *val;
	char a[ME_PREFIX_STRLEN];
	int v = me_hostab_lookup(t, &p, gen);

	fmt_addr(v6, r->addr, v6 ? 128 : 32, a);
	cr_assert(v >= 0 && (__u32)v < t->h->nvals,
		  "lookup %s gen %u: got %d, want an entry of list %d (seed %u)", a, gen, v,
		  r->list, seed);
	val = me_tab_val(t, (__u32)v);
	cr_assert_eq(val->list, (__u32)r->list, "lookup %s gen %u: got list %u, want %d (seed %u)",
		     a, gen, val->list, r->list, seed);
	cr_assert(entry_eq(&val->e, &r->e),
		  "lookup %s gen %u: got action %u src %u group %u expires %u, want %u %u %u %u "
		  "(seed %u)",
		  a, gen, val->e.action, val->e.src, val->e.group, val->e.expires, r->e.action,
		  r->e.src, r->e.group, r->e.expires, seed);
}

struct host_case {
	char name[48];
	int v6;
	unsigned int n;	   /* distinct hosts */
	unsigned int both; /* every both-th white host is blacklisted too; 0: none */
	double min_load;   /* entries / slots at least; 0: too few hosts to say */
	double max_bytes;  /* kernel bytes per host at most; 0: not checked */
};

/* The load rows have no host on both lists: the builder sizes the table by
 * host records, so a host listed twice costs a slot's worth of room (logged,
 * not checked, by the "both lists" rows). */
static struct host_case host_cases[] = {
	{ "IPv4, no host", 0, 0, 0, 0, 0 },
	{ "IPv4, one host", 0, 1, 1, 0, 0 },
	{ "IPv4, 1000 hosts", 0, 1000, 50, 0, 0 },
	{ "IPv4, 200k hosts", 0, 200000, 0, 0.85, 8 },
	{ "IPv4, 20k hosts, 1 in 10 white on both", 0, 20000, 10, 0, 0 },
	{ "IPv6, no host", 1, 0, 0, 0, 0 },
	{ "IPv6, one host", 1, 1, 1, 0, 0 },
	{ "IPv6, 1000 hosts", 1, 1000, 50, 0, 0 },
	{ "IPv6, 50k hosts", 1, 50000, 0, 0.80, 24 },
	{ "IPv6, 20k hosts, 1 in 10 white on both", 1, 20000, 10, 0, 0 },
};

#define MISSES 100000

/*
 * n distinct hosts, a third white; some white hosts are blacklisted too (the
 * table must keep their white entry). A few hosts and a subnet of the other
 * family and a subnet of this one ride along: the host table must ignore them.
 */
static void host_case_run(const struct host_case *c)
{
	unsigned int slots = c->v6 ? ME_HB6_SLOTS : ME_HB4_SLOTS;
	struct hrec *want = calloc(c->n ? c->n : 1, sizeof(*want));
	__u32 count[2] = { 0, 0 }, g, nb;
	struct me_union u;
	struct built b;
	struct bpf_map_info info = { 0 };
	__u32 ilen = sizeof(info);
	__u8 addr[16];
	size_t i, removed;

	cr_assert(want, "out of memory");
	me_union_init(&u);
	for (i = 0; i < c->n; i++) {
		struct hrec *r = &want[i];
		struct me_prefix p;

		host_addr(c->v6, i, r->addr);
		p = mkhost(c->v6, r->addr);
		r->list = rnd_below(3) ? B : W;
		r->e = pick_entry(r->list);
		/* Black hosts never pass: the black subnet below does, so the union
		 * cannot merge a host it happens to cover into it. */
		if (r->list == B && r->e.action == ME_ACT_PASS)
			r->e.action = ME_ACT_DROP;
		add_rec(&u, r->list, &p, &r->e, rnd_below(4));
		if (r->list == W && c->both && i % c->both == 0) {
			struct me_entry be = pick_entry(B);

			add_rec(&u, B, &p, &be, 0);
		}
		count[r->list]++;
	}
	for (i = 0; i < 5; i++) {
		struct me_entry e = pick_entry(B);
		struct me_prefix p;

		host_addr(!c->v6, 0x7fff0000u + i, addr);
		p = mkhost(!c->v6, addr);
		add_rec(&u, B, &p, &e, 0);
	}
	{
		struct me_entry e = { .action = ME_ACT_PASS, .src = ME_SRC_SYNC_FIRST };
		struct me_prefix p;

		host_addr(c->v6, 0x7ffff000u, addr);
		p = mkprefix(c->v6, addr, c->v6 ? 64 : 24);
		me_prefix_mask(&p);
		add_rec(&u, B, &p, &e, 0);
	}
	me_union_merge(&u, &removed);
	build_table(&u, c->v6, 0, &b);

	cr_assert_eq(b.ro.h->max_probe, 2u, "%s: max_probe: got %u, want 2", c->name,
		     b.ro.h->max_probe);
	cr_assert_eq(b.ro.h->count[W], count[W], "%s: count[white]: got %u, want %u (seed %u)",
		     c->name, b.ro.h->count[W], count[W], seed);
	cr_assert_eq(b.ro.h->count[B], count[B], "%s: count[black]: got %u, want %u (seed %u)",
		     c->name, b.ro.h->count[B], count[B], seed);
	cr_assert_eq(bpf_obj_get_info_by_fd(b.t.fd, &info, &ilen), 0, "map info");
	cr_assert_eq(info.max_entries, b.ro.h->nelem, "%s: map of %u elements, header says %u",
		     c->name, info.max_entries, b.ro.h->nelem);
	cr_assert_eq(info.value_size, 64u, "%s: element of %u bytes, want 64", c->name,
		     info.value_size);
	cr_assert(info.map_flags & BPF_F_MMAPABLE, "%s: map is not mmap-able", c->name);

	for (g = 0; g < 2; g++)
		for (i = 0; i < c->n; i++)
			check_host_found(&b.ro, c->v6, &want[i], g);
	for (i = 0; i < MISSES; i++) {
		struct me_prefix p;
		char a[ME_PREFIX_STRLEN];

		host_addr(c->v6, c->n + i, addr);
		p = mkhost(c->v6, addr);
		for (g = 0; g < 2; g++) {
			int v = me_hostab_lookup(&b.ro, &p, g);

			cr_assert_eq(v, -1,
				     "%s: lookup %s (never inserted) gen %u: got %d, want -1 "
				     "(seed %u)",
				     c->name, fmt_addr(c->v6, addr, c->v6 ? 128 : 32, a), g, v,
				     seed);
		}
	}
	qsort(want, c->n, sizeof(*want), hrec_cmp);
	for (g = 0; g < 2; g++)
		check_host_walk(&b.ro, c->v6, g, want, c->n);

	nb = b.ro.h->nbuckets;
	if (c->min_load > 0) {
		double load = (double)c->n / ((double)nb * slots);

		/* The builder rounds the bucket count up by one; allow that bucket. */
		cr_expect_geq((double)c->n, c->min_load * (double)(nb - 1) * slots,
			      "%s: load factor %.4f (%u hosts in %u buckets of %u slots), want at "
			      "least %.2f",
			      c->name, load, c->n, nb, slots, c->min_load);
	}
	if (c->n >= 1000)
		cr_log_info("%s: load factor %.4f, %.2f kernel bytes per host", c->name,
			    (double)c->n / ((double)nb * slots), (double)b.ro.h->nelem * 64 / c->n);
	if (c->max_bytes > 0) {
		double per = (double)b.ro.h->nelem * 64 / c->n;

		cr_expect_leq(
		    per, c->max_bytes,
		    "%s: %.2f kernel bytes per host (%u elements of 64), want at most %.0f",
		    c->name, per, b.ro.h->nelem, c->max_bytes);
	}
	built_free(&b);
	me_union_free(&u);
	free(want);
}

Test(table, hosts)
{
	size_t i;

	seed_init();
	for (i = 0; i < sizeof(host_cases) / sizeof(host_cases[0]); i++)
		host_case_run(&host_cases[i]);
}

/* A host on both lists: the table holds its white entry only, whatever the
 * order the sources came in. */
Test(table, white_wins_host)
{
	static const struct {
		const char *addr;
		int white, black;
	} hosts[] = {
		{ "192.0.2.1", 1, 1 },	  { "192.0.2.2", 1, 0 },   { "192.0.2.3", 0, 1 },
		{ "198.51.100.9", 1, 1 }, { "2001:db8::1", 1, 1 }, { "2001:db8::2", 0, 1 },
		{ "2001:db8::3", 1, 0 },
	};
	struct me_entry we = { .action = ME_ACT_GROUP, .src = 17, .group = 5 };
	struct me_entry be = { .action = ME_ACT_RESET, .src = 18 };
	struct me_union u;
	size_t i, removed;
	int v6;

	seed_init();
	me_union_init(&u);
	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		struct me_prefix p;

		cr_assert_eq(me_prefix_parse(hosts[i].addr, &p, 0), 0);
		/* The blacklist first, from the source of higher priority. */
		if (hosts[i].black)
			add_rec(&u, B, &p, &be, 0);
		if (hosts[i].white)
			add_rec(&u, W, &p, &we, 1);
	}
	me_union_merge(&u, &removed);
	for (v6 = 0; v6 < 2; v6++) {
		struct hrec want[8];
		size_t n = 0;
		__u32 count[2] = { 0, 0 }, g;
		struct built b;

		build_table(&u, v6, 0, &b);
		for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
			struct me_prefix p;

			me_prefix_parse(hosts[i].addr, &p, 0);
			if ((p.family == AF_INET6) != v6)
				continue;
			memset(&want[n], 0, sizeof(want[n]));
			memcpy(want[n].addr, p.addr, 16);
			want[n].list = hosts[i].white ? W : B;
			want[n].e = hosts[i].white ? we : be;
			count[want[n].list]++;
			for (g = 0; g < 2; g++)
				check_host_found(&b.ro, v6, &want[n], g);
			n++;
		}
		cr_assert_eq(b.ro.h->count[W], count[W], "IPv%d count[white]: got %u, want %u",
			     v6 ? 6 : 4, b.ro.h->count[W], count[W]);
		cr_assert_eq(b.ro.h->count[B], count[B], "IPv%d count[black]: got %u, want %u",
			     v6 ? 6 : 4, b.ro.h->count[B], count[B]);
		qsort(want, n, sizeof(want[0]), hrec_cmp);
		check_host_walk(&b.ro, v6, 0, want, n);
		check_host_walk(&b.ro, v6, 1, want, n);
		built_free(&b);
	}
	me_union_free(&u);
}

/* ---- 3: subnet tables ---- */

static int covers(const __u8 *pfx, unsigned int len, const __u8 *a)
{
	unsigned int full = len / 8, rest = len % 8;

	if (memcmp(pfx, a, full))
		return 0;
	return !rest || !((pfx[full] ^ a[full]) & (0xffu << (8 - rest)) & 0xffu);
}

/* A subnet record of the merged union, as the brute force sees it. */
struct nrec {
	__u8 addr[16];
	unsigned int len;
	int list;
	__u8 idx;
};

/* Longer first, so that the first cover found is the longest. */
static int nrec_by_len(const void *a, const void *b)
{
	const struct nrec *x = a, *y = b;

	return x->len == y->len ? 0 : x->len > y->len ? -1 : 1;
}

struct truth {
	int v6;
	struct nrec *v[2]; /* per list, longest first */
	size_t n[2];
};

static void truth_of(const struct me_union *u, const __u8 *idx, int v6, struct truth *tr)
{
	size_t i;
	int l;

	memset(tr, 0, sizeof(*tr));
	tr->v6 = v6;
	for (l = 0; l < 2; l++) {
		tr->v[l] = calloc(u->n ? u->n : 1, sizeof(struct nrec));
		cr_assert(tr->v[l], "out of memory");
	}
	for (i = 0; i < u->n; i++) {
		const struct me_urec *r = &u->v[i];
		struct nrec *n;

		if (r->family != (v6 ? 6 : 4) || r->len == (v6 ? 128 : 32))
			continue;
		n = &tr->v[r->list][tr->n[r->list]++];
		memcpy(n->addr, r->addr, 16);
		n->len = r->len;
		n->list = r->list;
		n->idx = idx[i];
	}
	for (l = 0; l < 2; l++)
		qsort(tr->v[l], tr->n[l], sizeof(struct nrec), nrec_by_len);
}

static void truth_free(struct truth *tr)
{
	free(tr->v[0]);
	free(tr->v[1]);
}

/* The longest white prefix covering a, else the longest black one, or NULL. */
static const struct nrec *brute(const struct truth *tr, const __u8 *a)
{
	int l;
	size_t i;

	for (l = W; l <= B; l++)
		for (i = 0; i < tr->n[l]; i++)
			if (covers(tr->v[l][i].addr, tr->v[l][i].len, a))
				return &tr->v[l][i];
	return NULL;
}

static void check_net_addr(const struct me_tabmap *t, const struct truth *tr, const __u8 *a,
			   const char *why)
{
	struct me_prefix p = mkhost(tr->v6, a);
	const struct nrec *want = brute(tr, a);
	char as[ME_PREFIX_STRLEN], ws[ME_PREFIX_STRLEN];
	int got = me_nettab_lookup(t, &p);

	if (got == (want ? want->idx : -1))
		return;
	fmt_addr(tr->v6, a, tr->v6 ? 128 : 32, as);
	if (want)
		fmt_addr(tr->v6, want->addr, want->len, ws);
	cr_assert_fail("lookup %s (%s): got dictionary index %d, want %d (%s %s) (seed %u)", as,
		       why, got, want ? want->idx : -1,
		       want ? (want->list == W ? "white" : "black") : "", want ? ws : "nothing",
		       seed);
}

/* Address arithmetic on the first nbytes bytes, big-endian. */
static void addr_add(__u8 *a, int nbytes, int delta)
{
	int i;

	for (i = nbytes - 1; i >= 0; i--) {
		int v = a[i] + delta;

		a[i] = (__u8)v;
		if (v >= 0 && v <= 255)
			return;
	}
}

static void addr_last(__u8 *a, int nbytes, unsigned int len)
{
	int i;

	for (i = 0; i < nbytes; i++) {
		unsigned int bit0 = (unsigned int)i * 8;

		if (len <= bit0)
			a[i] = 0xff;
		else if (len < bit0 + 8)
			a[i] |= (__u8)(0xffu >> (len - bit0));
	}
}

/* a: the prefix with random bits after len. */
static void addr_inside(const __u8 *pfx, unsigned int len, int nbytes, __u8 *a)
{
	__u64 r[2] = { rnd(), rnd() };
	const __u8 *rb = (const __u8 *)r;
	int i;

	memset(a, 0, 16);
	for (i = 0; i < nbytes; i++) {
		unsigned int bit0 = (unsigned int)i * 8;
		__u8 keep = len >= bit0 + 8 ? 0xff
			    : len <= bit0   ? 0
					    : (__u8)(0xffu << (8 - (len - bit0)));

		a[i] = (__u8)((pfx[i] & keep) | (rb[i] & ~keep));
	}
}

struct nwalk {
	int v6;
	const struct me_tabdict *d;
	struct nrec *all; /* both lists, sorted by nrec_full_cmp */
	int *seen;
	size_t n, visits;
};

static int nrec_full_cmp(const void *a, const void *b)
{
	const struct nrec *x = a, *y = b;
	int c = memcmp(x->addr, y->addr, 16);

	if (c)
		return c;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->list - y->list;
}

static int nwalk_cb(void *ctx, int list, const struct me_prefix *p, const struct me_entry *e)
{
	struct nwalk *w = ctx;
	struct nrec key, *r;
	char a[ME_PREFIX_STRLEN];

	memset(&key, 0, sizeof(key));
	memcpy(key.addr, p->addr, w->v6 ? 16 : 4);
	key.len = p->len;
	key.list = list;
	fmt_addr(w->v6, key.addr, key.len, a);
	r = bsearch(&key, w->all, w->n, sizeof(*r), nrec_full_cmp);
	cr_assert(r, "walk: got %s on list %d, which was not given (seed %u)", a, list, seed);
	cr_assert_eq(w->seen[r - w->all], 0, "walk: got %s twice (seed %u)", a, seed);
	w->seen[r - w->all] = 1;
	cr_assert(entry_eq(e, &w->d->v[r->idx].e),
		  "walk: %s: got another entry than was given (seed %u)", a, seed);
	w->visits++;
	return 0;
}

static void check_net_walk(const struct me_tabmap *t, const struct truth *tr,
			   const struct me_tabdict *d)
{
	struct nwalk w = { .v6 = tr->v6, .d = d };
	int rc;

	w.n = tr->n[0] + tr->n[1];
	w.all = malloc((w.n ? w.n : 1) * sizeof(*w.all));
	w.seen = calloc(w.n ? w.n : 1, sizeof(*w.seen));
	cr_assert(w.all && w.seen, "out of memory");
	memcpy(w.all, tr->v[0], tr->n[0] * sizeof(*w.all));
	memcpy(w.all + tr->n[0], tr->v[1], tr->n[1] * sizeof(*w.all));
	qsort(w.all, w.n, sizeof(*w.all), nrec_full_cmp);
	rc = me_tab_walk(t, 0, nwalk_cb, &w);
	cr_assert_eq(rc, 0, "me_tab_walk: got %d, want 0", rc);
	cr_assert_eq(w.visits, w.n, "me_tab_walk: got %zu prefixes, want %zu (seed %u)", w.visits,
		     w.n, seed);
	free(w.all);
	free(w.seen);
}

struct net_case {
	char name[32];
	int v6;
	unsigned int roots;  /* prefixes anywhere */
	unsigned int nested; /* prefixes inside one made before, either list */
};

static struct net_case net_cases[] = {
	{ "IPv4", 0, 300, 300 },
	{ "IPv6", 1, 300, 300 },
};

ParameterizedTestParameters(table, nets_random)
{
	return cr_make_param_array(struct net_case, net_cases,
				   sizeof(net_cases) / sizeof(net_cases[0]));
}

/* A random length, rarely a short one: one short white prefix would answer
 * most random addresses alone (and an IPv4 /1 paints 8M root entries). The /0
 * of either list is in nest_cases. IPv4 often goes past the root's 24 bits,
 * IPv6 anywhere down to /127. */
static unsigned int random_len(int v6)
{
	__u32 r = rnd_below(100);

	if (v6)
		return r < 2 ? 1 + rnd_below(15) : 16 + rnd_below(112);
	if (r < 1)
		return 1 + rnd_below(7);
	if (r < 40)
		return 8 + rnd_below(16);
	return 24 + rnd_below(8);
}

#define NET_QUERIES 200000

ParameterizedTest(const struct net_case *c, table, nets_random)
{
	int nbytes = c->v6 ? 16 : 4;
	unsigned int maxlen = c->v6 ? 128 : 32, total = c->roots + c->nested, i;
	struct me_prefix *made = calloc(total, sizeof(*made));
	struct truth tr;
	struct me_union u;
	struct built b;
	__u8 a[16];
	size_t removed, k;
	int l;

	seed_init();
	cr_assert(made, "out of memory");
	me_union_init(&u);
	for (i = 0; i < total; i++) {
		struct me_prefix *p = &made[i];
		int list = rnd_below(2) ? W : B, tries;
		struct me_entry e = pick_entry(list);
		const struct me_prefix *up = NULL;

		/* Inside an earlier prefix that has room for a longer one. */
		for (tries = 0; i >= c->roots && !up && tries < 20; tries++) {
			up = &made[rnd_below(i)];
			if (up->len >= maxlen - 1)
				up = NULL;
		}
		if (up) {
			addr_inside(up->addr, up->len, nbytes, a);
			*p = mkprefix(c->v6, a, up->len + 1 + rnd_below(maxlen - 1 - up->len));
		} else {
			host_addr(c->v6, 1000000 + i, a);
			*p = mkprefix(c->v6, a, random_len(c->v6));
		}
		me_prefix_mask(p);
		add_rec(&u, list, p, &e, rnd_below(4));
	}
	/* Hosts of this family and subnets of the other: not this table's. */
	for (i = 0; i < 20; i++) {
		struct me_entry e = pick_entry(i % 2 ? W : B);
		struct me_prefix p;

		addr_inside(made[i].addr, made[i].len, nbytes, a);
		p = mkhost(c->v6, a);
		add_rec(&u, i % 2 ? W : B, &p, &e, 0);
		host_addr(!c->v6, i, a);
		p = mkprefix(!c->v6, a, 20);
		me_prefix_mask(&p);
		add_rec(&u, B, &p, &e, 0);
	}
	me_union_merge(&u, &removed);
	build_table(&u, c->v6, 1, &b);
	truth_of(&u, b.idx, c->v6, &tr);
	cr_assert_eq(b.ro.h->count[W], tr.n[W], "%s count[white]: got %u, want %zu (seed %u)",
		     c->name, b.ro.h->count[W], tr.n[W], seed);
	cr_assert_eq(b.ro.h->count[B], tr.n[B], "%s count[black]: got %u, want %zu (seed %u)",
		     c->name, b.ro.h->count[B], tr.n[B], seed);
	cr_assert_eq(b.ro.h->nprefixes, tr.n[W] + tr.n[B], "%s nprefixes: got %u, want %zu",
		     c->name, b.ro.h->nprefixes, tr.n[W] + tr.n[B]);
	cr_assert_eq(b.ro.h->max_probe, c->v6 ? 1u + ME_TN6_LEVELS : 2u, "%s max_probe: got %u",
		     c->name, b.ro.h->max_probe);
	/* The data must hold what the test is about: prefixes of each list
	 * inside prefixes of the other. */
	{
		size_t nest[2] = { 0, 0 }, x, y;

		for (l = 0; l < 2; l++)
			for (x = 0; x < tr.n[l]; x++)
				for (y = 0; y < tr.n[!l]; y++)
					nest[l] += tr.v[!l][y].len > tr.v[l][x].len &&
						   covers(tr.v[l][x].addr, tr.v[l][x].len,
							  tr.v[!l][y].addr);
		cr_assert(nest[W] > 10 && nest[B] > 10,
			  "%s: %zu black prefixes inside white ones, %zu white inside black: too "
			  "few for the test to mean much (seed %u)",
			  c->name, nest[W], nest[B], seed);
	}

	/* The edges of every prefix: first, last, and the addresses beside them. */
	for (l = 0; l < 2; l++)
		for (k = 0; k < tr.n[l]; k++) {
			const struct nrec *r = &tr.v[l][k];

			memcpy(a, r->addr, 16);
			check_net_addr(&b.ro, &tr, a, "first of a prefix");
			addr_add(a, nbytes, -1);
			check_net_addr(&b.ro, &tr, a, "before a prefix");
			memcpy(a, r->addr, 16);
			addr_last(a, nbytes, r->len);
			check_net_addr(&b.ro, &tr, a, "last of a prefix");
			addr_add(a, nbytes, 1);
			check_net_addr(&b.ro, &tr, a, "after a prefix");
		}
	for (i = 0; i < NET_QUERIES; i++) {
		if (i % 4 == 0) {
			__u64 r[2] = { rnd(), rnd() };

			memset(a, 0, 16);
			memcpy(a, r, (size_t)nbytes);
			check_net_addr(&b.ro, &tr, a, "random");
		} else {
			const struct me_prefix *p = &made[rnd_below(total)];

			addr_inside(p->addr, p->len, nbytes, a);
			check_net_addr(&b.ro, &tr, a, "inside a prefix");
		}
	}
	check_net_walk(&b.ro, &tr, b.d);
	truth_free(&tr);
	built_free(&b);
	me_union_free(&u);
	free(made);
}

/* Nested prefixes of both lists, with the answers written out by hand. */
struct nent {
	int list;
	char cidr[48];
	int action;
};

struct nprobe {
	char addr[48];
	char want[48]; /* "" = nothing */
	int list;
};

struct nest_case {
	char name[64];
	int nin;
	struct nent in[20];
	int np;
	struct nprobe pr[40];
};

/* Each IPv4 table costs a 32 MB root, so the IPv4 groups that do not cover
 * each other share one table, each group in a range of its own. */
static struct nest_case nest_cases[] = {
	{ "IPv4 nesting of both lists",
	  16,
	  { /* white /16 over black /24 */
	    { W, "172.16.0.0/16", ME_ACT_PASS },
	    { B, "172.16.2.0/24", ME_ACT_DROP },
	    /* white /24 inside black /16 */
	    { B, "172.17.0.0/16", ME_ACT_DROP },
	    { W, "172.17.2.0/24", ME_ACT_PASS },
	    /* black /8 /20 /27 /31: the longest wins */
	    { B, "10.0.0.0/8", ME_ACT_DROP },
	    { B, "10.16.0.0/20", ME_ACT_RESET },
	    { B, "10.16.1.32/27", ME_ACT_DROP },
	    { B, "10.16.1.62/31", ME_ACT_RESET },
	    /* white /25 in black /24 in white /16 in black /8 */
	    { B, "11.0.0.0/8", ME_ACT_DROP },
	    { W, "11.1.0.0/16", ME_ACT_PASS },
	    { B, "11.1.2.0/24", ME_ACT_RESET },
	    { W, "11.1.2.128/25", ME_ACT_GROUP },
	    /* around the root's 24 bits */
	    { B, "192.0.2.0/23", ME_ACT_DROP },
	    { B, "192.0.3.0/24", ME_ACT_RESET },
	    { W, "192.0.3.128/26", ME_ACT_PASS },
	    /* a white /31 at the very top */
	    { W, "255.255.255.254/31", ME_ACT_PASS } },
	  35,
	  { { "172.16.2.3", "172.16.0.0/16", W },
	    { "172.16.2.0", "172.16.0.0/16", W },
	    { "172.16.255.255", "172.16.0.0/16", W },
	    { "172.18.0.0", "", 0 },
	    { "172.15.255.255", "", 0 },
	    { "172.17.2.3", "172.17.2.0/24", W },
	    { "172.17.2.255", "172.17.2.0/24", W },
	    { "172.17.1.255", "172.17.0.0/16", B },
	    { "172.17.3.0", "172.17.0.0/16", B },
	    { "10.16.1.62", "10.16.1.62/31", B },
	    { "10.16.1.63", "10.16.1.62/31", B },
	    { "10.16.1.61", "10.16.1.32/27", B },
	    { "10.16.1.31", "10.16.0.0/20", B },
	    { "10.16.1.64", "10.16.0.0/20", B },
	    { "10.16.15.255", "10.16.0.0/20", B },
	    { "10.16.16.0", "10.0.0.0/8", B },
	    { "10.255.255.255", "10.0.0.0/8", B },
	    { "9.255.255.255", "", 0 },
	    { "11.1.2.200", "11.1.2.128/25", W },
	    { "11.1.2.128", "11.1.2.128/25", W },
	    { "11.1.2.255", "11.1.2.128/25", W },
	    { "11.1.2.127", "11.1.0.0/16", W },
	    { "11.1.3.1", "11.1.0.0/16", W },
	    { "11.2.0.0", "11.0.0.0/8", B },
	    { "12.0.0.0", "", 0 },
	    { "192.0.2.0", "192.0.2.0/23", B },
	    { "192.0.2.255", "192.0.2.0/23", B },
	    { "192.0.3.0", "192.0.3.0/24", B },
	    { "192.0.3.127", "192.0.3.0/24", B },
	    { "192.0.3.128", "192.0.3.128/26", W },
	    { "192.0.3.191", "192.0.3.128/26", W },
	    { "192.0.3.192", "192.0.3.0/24", B },
	    { "192.0.4.0", "", 0 },
	    { "255.255.255.255", "255.255.255.254/31", W },
	    { "255.255.255.253", "", 0 } } },
	{ "IPv4 black /0, a white /31 at the top, a white host",
	  3,
	  { { B, "0.0.0.0/0", ME_ACT_DROP },
	    { W, "255.255.255.254/31", ME_ACT_PASS },
	    { W, "1.2.3.4", ME_ACT_PASS } },
	  5,
	  { { "255.255.255.255", "255.255.255.254/31", W },
	    { "255.255.255.254", "255.255.255.254/31", W },
	    { "255.255.255.253", "0.0.0.0/0", B },
	    { "0.0.0.0", "0.0.0.0/0", B },
	    { "1.2.3.4", "0.0.0.0/0", B } } },
	{ "IPv4 white /0 wins over every black prefix",
	  3,
	  { { W, "0.0.0.0/0", ME_ACT_PASS },
	    { B, "192.0.2.0/24", ME_ACT_DROP },
	    { B, "192.0.2.64/26", ME_ACT_RESET } },
	  2,
	  { { "192.0.2.65", "0.0.0.0/0", W }, { "8.8.8.8", "0.0.0.0/0", W } } },
	{ "IPv6 /32 /48 /64 /127",
	  4,
	  { { B, "2001:db8::/32", ME_ACT_DROP },
	    { W, "2001:db8:1::/48", ME_ACT_PASS },
	    { B, "2001:db8:1:2::/64", ME_ACT_RESET },
	    { W, "2001:db8:1:2::fffe/127", ME_ACT_GROUP } },
	  6,
	  { { "2001:db8:1:2::ffff", "2001:db8:1:2::fffe/127", W },
	    { "2001:db8:1:2::fffe", "2001:db8:1:2::fffe/127", W },
	    { "2001:db8:1:2::fffd", "2001:db8:1::/48", W },
	    { "2001:db8:2::1", "2001:db8::/32", B },
	    { "2001:db9::", "", 0 },
	    { "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", "", 0 } } },
	{ "IPv6 around the root's 16 bits",
	  5,
	  { { B, "2000::/15", ME_ACT_DROP },
	    { W, "2001::/16", ME_ACT_PASS },
	    { B, "2001:ff00::/24", ME_ACT_RESET },
	    { B, "3000::/16", ME_ACT_DROP },
	    { W, "3000:8000::/17", ME_ACT_GROUP } },
	  8,
	  { { "2000::1", "2000::/15", B },
	    { "2001::1", "2001::/16", W },
	    { "2001:ff00::1", "2001::/16", W },
	    { "2002::", "", 0 },
	    { "1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "", 0 },
	    { "3000:8000::", "3000:8000::/17", W },
	    { "3000:7fff:ffff:ffff:ffff:ffff:ffff:ffff", "3000::/16", B },
	    { "3001::", "", 0 } } },
	{ "IPv6 black ::/0 and a white host",
	  2,
	  { { B, "::/0", ME_ACT_DROP }, { W, "::1", ME_ACT_PASS } },
	  2,
	  { { "::1", "::/0", B }, { "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::/0", B } } },
};

static void nest_case_run(const struct nest_case *c)
{
	struct me_union u;
	struct built b;
	size_t removed;
	int i, j, v6 = strchr(c->in[0].cidr, ':') != NULL;

	me_union_init(&u);
	for (i = 0; i < c->nin; i++) {
		struct me_entry e = { .action = (__u8)c->in[i].action, .src = (__u8)(16 + i) };
		struct me_prefix p;

		e.group = c->in[i].action == ME_ACT_GROUP ? 9 : 0;
		cr_assert_eq(me_prefix_parse(c->in[i].cidr, &p, 0), 0, "%s: bad row %s", c->name,
			     c->in[i].cidr);
		add_rec(&u, c->in[i].list, &p, &e, 0);
	}
	me_union_merge(&u, &removed);
	cr_assert_eq(removed, 0u, "%s: the union dropped %zu of the rows", c->name, removed);
	build_table(&u, v6, 1, &b);
	for (i = 0; i < c->np; i++) {
		const struct nprobe *pr = &c->pr[i];
		struct me_prefix p;
		int got, want = -1;

		cr_assert_eq(me_prefix_parse(pr->addr, &p, 0), 0);
		for (j = 0; pr->want[0] && j < c->nin; j++)
			if (!strcmp(c->in[j].cidr, pr->want) && c->in[j].list == pr->list)
				want = j;
		cr_assert(!pr->want[0] || want >= 0, "%s: bad probe row %s", c->name, pr->want);
		got = me_nettab_lookup(&b.ro, &p);
		if (want < 0) {
			cr_assert_eq(got, -1, "%s: lookup %s: got index %d, want nothing", c->name,
				     pr->addr, got);
			continue;
		}
		cr_assert(got >= 0 && (__u32)got < b.ro.h->nvals, "%s: lookup %s: got %d, want %s",
			  c->name, pr->addr, got, pr->want);
		cr_assert(me_tab_val(&b.ro, (__u32)got)->list == (__u32)pr->list &&
			      me_tab_val(&b.ro, (__u32)got)->e.src == 16 + want,
			  "%s: lookup %s: got list %u source %u, want %s (list %d source %d)",
			  c->name, pr->addr, me_tab_val(&b.ro, (__u32)got)->list,
			  me_tab_val(&b.ro, (__u32)got)->e.src, pr->want, pr->list, 16 + want);
	}
	built_free(&b);
	me_union_free(&u);
}

/* One test, not one per row: every row builds a 32 MB IPv4 root anyway. */
Test(table, nets_nested)
{
	size_t i;

	for (i = 0; i < sizeof(nest_cases) / sizeof(nest_cases[0]); i++)
		nest_case_run(&nest_cases[i]);
}

/* ---- 4: in-place edits ---- */

/* The two buckets of addr, and whether either has a slot free in both gens. */
static void buckets_of(const struct me_tabmap *t, int v6, const __u8 *addr, __u32 bk[2])
{
	__u64 h;

	if (v6) {
		__u32 w[4];

		memcpy(w, addr, 16);
		h = me_tab_hash6(w, t->h->seed);
	} else {
		__u32 k;

		memcpy(&k, addr, 4);
		h = me_tab_hash4(k, t->h->seed);
	}
	bk[0] = me_tab_bucket1(h, t->h->nbuckets);
	bk[1] = me_tab_bucket2(h, t->h->nbuckets);
}

static int bucket_full(const struct me_tabmap *t, int v6, __u32 bucket)
{
	const void *e = me_tab_elem(t, t->h->base + bucket);
	__u32 vis = v6 ? ((const struct me_hb6 *)e)->vis : ((const struct me_hb4 *)e)->vis;
	__u32 used = (vis | vis >> ME_VIS_SHIFT) & 0xffffu;
	unsigned int slots = v6 ? ME_HB6_SLOTS : ME_HB4_SLOTS;

	return used == (1u << slots) - 1;
}

/* The refresh path's removal: the slot live in gen, made dead in gen only. */
static int hostab_del(struct me_tabmap *t, const __u8 *addr, __u32 gen)
{
	int pos = me_hostab_locate(t, addr, gen);

	if (pos < 0)
		return pos;
	me_hostab_kill(t, pos, gen);
	return 0;
}

/* One host across a refresh: its dictionary index before and after (-1: absent). */
struct edit {
	__u8 addr[16];
	int before, after;
	int flips; /* visibility bits settle must change for it */
};

static void check_edits_gen(const struct me_tabmap *t, int v6, const struct edit *ed, size_t n,
			    __u32 gen, int after, const char *when)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct me_prefix p = mkhost(v6, ed[i].addr);
		int want = after ? ed[i].after : ed[i].before;
		int got = me_hostab_lookup(t, &p, gen);
		char a[ME_PREFIX_STRLEN];

		cr_assert_eq(got, want, "%s: lookup %s gen %u: got %d, want %d (seed %u)", when,
			     fmt_addr(v6, ed[i].addr, v6 ? 128 : 32, a), gen, got, want, seed);
	}
}

static void check_edits_walk(const struct me_tabmap *t, int v6, const struct edit *ed, size_t n,
			     __u32 gen, int after)
{
	struct hrec *want = calloc(n ? n : 1, sizeof(*want));
	size_t i, k = 0;

	cr_assert(want, "out of memory");
	for (i = 0; i < n; i++) {
		int v = after ? ed[i].after : ed[i].before;

		if (v < 0)
			continue;
		memcpy(want[k].addr, ed[i].addr, 16);
		want[k].list = (int)me_tab_val(t, (__u32)v)->list;
		want[k].e = me_tab_val(t, (__u32)v)->e;
		k++;
	}
	qsort(want, k, sizeof(*want), hrec_cmp);
	check_host_walk(t, v6, gen, want, k);
	free(want);
}

struct edit_case {
	char name[32];
	int v6;
	__u32 gen; /* the generation in use */
};

static struct edit_case edit_cases[] = {
	{ "IPv4 in gen 0", 0, 0 },
	{ "IPv4 in gen 1", 0, 1 },
	{ "IPv6 in gen 0", 1, 0 },
	{ "IPv6 in gen 1", 1, 1 },
};

#define EDIT_HOSTS 3000
#define EDIT_NEW   150

/*
 * A refresh: of EDIT_HOSTS hosts, every 20th is deleted and every
 * 20th + 1 changes its entry; EDIT_NEW new hosts come in. All of it in the
 * generation not in use (g ^ 1), which must show the new state while g still
 * shows the old one, until me_hostab_settle makes both show the new one.
 */
static void edit_case_run(const struct edit_case *c)
{
	__u32 g = c->gen, ng = c->gen ^ 1, count[2] = { 0, 0 };
	size_t n = EDIT_HOSTS + EDIT_NEW, i, flips = 0, settled, nospace = 0;
	struct edit *ed = calloc(n, sizeof(*ed));
	struct me_union u;
	struct built b;
	size_t removed;

	cr_assert(ed, "out of memory");
	me_union_init(&u);
	for (i = 0; i < EDIT_HOSTS; i++) {
		int list = rnd_below(2) ? W : B;
		struct me_entry e = pick_entry(list);
		struct me_prefix p;

		host_addr(c->v6, i, ed[i].addr);
		p = mkhost(c->v6, ed[i].addr);
		add_rec(&u, list, &p, &e, 0);
	}
	me_union_merge(&u, &removed);
	build_table(&u, c->v6, 0, &b);
	for (i = 0; i < EDIT_HOSTS; i++) {
		struct me_prefix p = mkhost(c->v6, ed[i].addr);

		ed[i].before = me_hostab_lookup(&b.ro, &p, g);
		cr_assert_geq(ed[i].before, 0, "host %zu not found after the build", i);
		ed[i].after = ed[i].before;
	}
	for (i = EDIT_HOSTS; i < n; i++) {
		host_addr(c->v6, i, ed[i].addr);
		ed[i].before = ed[i].after = -1;
	}

	for (i = 0; i < n; i++) {
		int v = (int)rnd_below(b.d->n), rc;
		__u32 bk[2];

		if (i < EDIT_HOSTS && i % 20 > 1)
			continue;
		if (i < EDIT_HOSTS) {
			rc = hostab_del(&b.t, ed[i].addr, ng);
			cr_assert_eq(rc, 0, "delete host %zu in gen %u: got %d", i, ng, rc);
			ed[i].after = -1;
			ed[i].flips++;
			if (i % 20 == 0)
				continue;
		}
		/* A new entry (a new host, or a changed one): a free slot of its
		 * buckets, live in ng only, or -ENOSPC when both are full. */
		buckets_of(&b.t, c->v6, ed[i].addr, bk);
		rc = me_hostab_add(&b.t, ed[i].addr, (__u8)v, ng);
		if (rc == -ENOSPC) {
			cr_assert(bucket_full(&b.t, c->v6, bk[0]) &&
				      bucket_full(&b.t, c->v6, bk[1]),
				  "add host %zu: got -ENOSPC with a free slot in bucket %u or %u",
				  i, bk[0], bk[1]);
			nospace++;
			continue;
		}
		cr_assert_geq(rc, 0, "add host %zu: got %d", i, rc);
		cr_assert((__u32)rc / 16 == bk[0] || (__u32)rc / 16 == bk[1],
			  "add host %zu: got position %d, outside its buckets %u and %u", i, rc,
			  bk[0], bk[1]);
		cr_assert_eq(me_hostab_val(&b.t, rc), v, "add host %zu: slot value %u, want %d", i,
			     me_hostab_val(&b.t, rc), v);
		cr_assert_eq(me_hostab_locate(&b.t, ed[i].addr, ng), rc,
			     "add host %zu: locate gen %u disagrees with the add", i, ng);
		ed[i].after = v;
		ed[i].flips++;
	}
	cr_log_info("%s: %zu of %d new entries found both buckets full", c->name, nospace,
		    EDIT_NEW + EDIT_HOSTS / 20);

	/* Before the flip: g is untouched, ng is the new state. */
	check_edits_gen(&b.ro, c->v6, ed, n, g, 0, "before settle");
	check_edits_gen(&b.ro, c->v6, ed, n, ng, 1, "before settle");
	check_edits_walk(&b.ro, c->v6, ed, n, g, 0);
	check_edits_walk(&b.ro, c->v6, ed, n, ng, 1);

	for (i = 0; i < n; i++)
		flips += (size_t)ed[i].flips;
	settled = me_hostab_settle(&b.t, ng);
	cr_assert_eq(settled, flips, "%s: settle changed %zu slots, want %zu", c->name, settled,
		     flips);
	check_edits_gen(&b.ro, c->v6, ed, n, g, 1, "after settle");
	check_edits_gen(&b.ro, c->v6, ed, n, ng, 1, "after settle");
	check_edits_walk(&b.ro, c->v6, ed, n, g, 1);
	check_edits_walk(&b.ro, c->v6, ed, n, ng, 1);
	cr_assert_eq(me_hostab_settle(&b.t, ng), 0u, "a second settle changed slots");

	for (i = 0; i < n; i++)
		if (ed[i].after >= 0)
			count[me_tab_val(&b.ro, (__u32)ed[i].after)->list]++;
	me_hostab_recount(&b.t, ng);
	cr_assert_eq(b.ro.h->count[W], count[W], "recount white: got %u, want %u", b.ro.h->count[W],
		     count[W]);
	cr_assert_eq(b.ro.h->count[B], count[B], "recount black: got %u, want %u", b.ro.h->count[B],
		     count[B]);
	built_free(&b);
	me_union_free(&u);
	free(ed);
}

Test(table, edits)
{
	size_t i;

	seed_init();
	for (i = 0; i < sizeof(edit_cases) / sizeof(edit_cases[0]); i++)
		edit_case_run(&edit_cases[i]);
}

/*
 * Full buckets: a table of one host is filled through me_hostab_add until
 * every slot is taken; then every add is -ENOSPC. A slot deleted in the
 * generation not in use is still taken (a packet of the other one may read
 * it) until settle frees it.
 */
Test(table, edits_full)
{
	int v6;

	seed_init();
	for (v6 = 0; v6 < 2; v6++) {
		unsigned int slots = v6 ? ME_HB6_SLOTS : ME_HB4_SLOTS;
		__u8 addr[16], victim[16];
		struct me_union u;
		struct me_entry e = { .action = ME_ACT_DROP, .src = 16 };
		struct me_prefix p;
		struct built b;
		size_t removed, total, added = 0, tries;
		__u32 bk[2], vb;
		int rc, pos;

		host_addr(v6, 0, addr);
		p = mkhost(v6, addr);
		me_union_init(&u);
		add_rec(&u, B, &p, &e, 0);
		me_union_merge(&u, &removed);
		build_table(&u, v6, 0, &b);
		total = (size_t)b.t.h->nbuckets * slots;
		cr_assert_leq(total, 64, "IPv%d: a table of one host has %zu slots", v6 ? 6 : 4,
			      total);
		for (tries = 1; added + 1 < total && tries < 100000; tries++) {
			host_addr(v6, tries, addr);
			buckets_of(&b.t, v6, addr, bk);
			rc = me_hostab_add(&b.t, addr, 0, 1);
			if (rc >= 0) {
				added++;
				continue;
			}
			cr_assert_eq(rc, -ENOSPC, "add: got %d", rc);
			cr_assert(bucket_full(&b.t, v6, bk[0]) && bucket_full(&b.t, v6, bk[1]),
				  "IPv%d: -ENOSPC with a free slot in bucket %u or %u", v6 ? 6 : 4,
				  bk[0], bk[1]);
		}
		cr_assert_eq(added + 1, total, "IPv%d: filled %zu of %zu slots", v6 ? 6 : 4,
			     added + 1, total);
		for (tries = 0; tries < 200; tries++) {
			host_addr(v6, 500000 + tries, addr);
			rc = me_hostab_add(&b.t, addr, 0, 1);
			cr_assert_eq(rc, -ENOSPC,
				     "IPv%d: add to a full table: got %d, want -ENOSPC", v6 ? 6 : 4,
				     rc);
		}
		/* The original host, live in both: deleted in gen 1 only. */
		host_addr(v6, 0, victim);
		pos = me_hostab_locate(&b.t, victim, 1);
		cr_assert_geq(pos, 0, "IPv%d: the built host not located", v6 ? 6 : 4);
		me_hostab_kill(&b.t, pos, 1);
		vb = (__u32)pos / 16;
		cr_assert(bucket_full(&b.t, v6, vb), "IPv%d: a slot live in gen 0 counts as free",
			  v6 ? 6 : 4);
		for (tries = 0; tries < 100000; tries++) {
			host_addr(v6, 700000 + tries, addr);
			buckets_of(&b.t, v6, addr, bk);
			if (bk[0] == vb || bk[1] == vb)
				break;
		}
		cr_assert(bk[0] == vb || bk[1] == vb, "no address for bucket %u", vb);
		rc = me_hostab_add(&b.t, addr, 0, 1);
		cr_assert_eq(rc, -ENOSPC, "IPv%d: add reused a slot still live in gen 0: got %d",
			     v6 ? 6 : 4, rc);
		cr_assert_eq(me_hostab_settle(&b.t, 1), total,
			     "IPv%d: settle gen 1: want every slot's gen-0 bit changed",
			     v6 ? 6 : 4);
		p = mkhost(v6, victim);
		cr_assert_eq(me_hostab_lookup(&b.ro, &p, 0), -1,
			     "deleted host still live in gen 0");
		/* Its slot is the one free in the table now. */
		rc = me_hostab_add(&b.t, addr, 0, 0);
		cr_assert_eq(rc, pos, "IPv%d: add after settle: got %d, want the freed slot %d",
			     v6 ? 6 : 4, rc, pos);
		built_free(&b);
		me_union_free(&u);
	}
}

static int move_any(void *ctx, int pos)
{
	(void)ctx;
	(void)pos;
	return 1;
}

static int move_none(void *ctx, int pos)
{
	(void)ctx;
	(void)pos;
	return 0;
}

/*
 * The refresh path for a host whose buckets are full: me_hostab_make_room
 * copies a neighbour to its other bucket (live in both generations at once),
 * the caller frees the neighbour's old slot and puts the new host there, live
 * in the generation not in use only. The neighbour stays findable throughout.
 */
Test(table, edits_make_room)
{
	int v6;

	seed_init();
	for (v6 = 0; v6 < 2; v6++) {
		__u8 addr[16], moved[16];
		struct me_union u;
		struct built b;
		size_t i, removed;
		int done = 0;

		me_union_init(&u);
		for (i = 0; i < 3000; i++) {
			struct me_entry e = pick_entry(B);
			struct me_prefix p;

			host_addr(v6, i, addr);
			p = mkhost(v6, addr);
			add_rec(&u, B, &p, &e, 0);
		}
		me_union_merge(&u, &removed);
		build_table(&u, v6, 0, &b);
		for (i = 0; !done && i < 100000; i++) {
			struct me_prefix p, mp;
			__u32 bk[2], mb[2];
			int pos, to, put, mv;

			host_addr(v6, 3000 + i, addr);
			buckets_of(&b.t, v6, addr, bk);
			if (!bucket_full(&b.t, v6, bk[0]) || !bucket_full(&b.t, v6, bk[1]))
				continue;
			cr_assert_eq(me_hostab_make_room(&b.t, addr, move_none, NULL, &to), -ENOSPC,
				     "IPv%d: make_room moved an entry movable() refused",
				     v6 ? 6 : 4);
			pos = me_hostab_make_room(&b.t, addr, move_any, NULL, &to);
			if (pos == -ENOSPC)
				continue; /* no neighbour has room in its other bucket */
			cr_assert_geq(pos, 0, "IPv%d: make_room: got %d", v6 ? 6 : 4, pos);
			cr_assert((__u32)pos / 16 == bk[0] || (__u32)pos / 16 == bk[1],
				  "IPv%d: make_room freed position %d, outside buckets %u and %u",
				  v6 ? 6 : 4, pos, bk[0], bk[1]);
			/* The neighbour: the key at pos, now also at to, in its other bucket. */
			memset(moved, 0, sizeof(moved));
			if (v6)
				memcpy(moved,
				       &((struct me_hb6 *)me_tab_elem(&b.t, b.t.h->base +
										(__u32)pos / 16))
					    ->key[pos % 16],
				       16);
			else
				memcpy(moved,
				       &((struct me_hb4 *)me_tab_elem(&b.t, b.t.h->base +
										(__u32)pos / 16))
					    ->key[pos % 16],
				       4);
			buckets_of(&b.t, v6, moved, mb);
			cr_assert((__u32)to / 16 != (__u32)pos / 16 &&
				      ((__u32)to / 16 == mb[0] || (__u32)to / 16 == mb[1]),
				  "IPv%d: copy at %d is not in the neighbour's other bucket",
				  v6 ? 6 : 4, to);
			cr_assert_eq(me_hostab_val(&b.t, to), me_hostab_val(&b.t, pos),
				     "IPv%d: the copy has another value", v6 ? 6 : 4);
			mp = mkhost(v6, moved);
			mv = me_hostab_val(&b.t, pos);
			me_hostab_free(&b.t, pos);
			cr_assert_eq(me_hostab_lookup(&b.ro, &mp, 0), mv,
				     "moved host lost in gen 0");
			cr_assert_eq(me_hostab_lookup(&b.ro, &mp, 1), mv,
				     "moved host lost in gen 1");
			put = me_hostab_put(&b.t, pos, addr, 3, 1);
			cr_assert_eq(put, pos, "IPv%d: put into the freed slot: got %d, want %d",
				     v6 ? 6 : 4, put, pos);
			cr_assert_eq(me_hostab_put(&b.t, pos, addr, 3, 1), -EBUSY,
				     "IPv%d: put into a taken slot", v6 ? 6 : 4);
			p = mkhost(v6, addr);
			cr_assert_eq(me_hostab_lookup(&b.ro, &p, 1), 3,
				     "new host not live in gen 1");
			cr_assert_eq(me_hostab_lookup(&b.ro, &p, 0), -1, "new host live in gen 0");
			cr_assert_eq(me_hostab_lookup(&b.ro, &mp, 0), mv,
				     "moved host lost after put");
			done = 1;
		}
		cr_assert(done, "IPv%d: no full pair of buckets could be made room in (seed %u)",
			  v6 ? 6 : 4, seed);
		built_free(&b);
		me_union_free(&u);
	}
}

/* ---- 5: damaged and hostile tables ---- */

enum damage {
	D_MAGIC,
	D_KIND,
	D_ELEM_SIZE,
	D_NELEM,
	D_NVALS,
	D_BASE,
	D_NBUCKETS_PAST,
	D_NBUCKETS_HUGE,
	D_NPREFIXES_PAST,
	D_NPREFIXES_HUGE,
	D_CHUNK_IN_ROOT,
	D_CHUNK_AT_BASE,
	D_CHUNKS_OVER_PFX,
	D_PFX_PAST,
};

struct damage_case {
	char name[48];
	enum me_tab_kind kind;
	enum damage how;
};

static struct damage_case damage_cases[] = {
	{ "host4 wrong magic", ME_TAB_HOST4, D_MAGIC },
	{ "host4 kind of a subnet table", ME_TAB_HOST4, D_KIND },
	{ "host4 element size", ME_TAB_HOST4, D_ELEM_SIZE },
	{ "host4 nelem", ME_TAB_HOST4, D_NELEM },
	{ "host4 nvals past the dictionary", ME_TAB_HOST4, D_NVALS },
	{ "host4 base", ME_TAB_HOST4, D_BASE },
	{ "host4 nbuckets past nelem", ME_TAB_HOST4, D_NBUCKETS_PAST },
	{ "host4 nbuckets 2^32-1", ME_TAB_HOST4, D_NBUCKETS_HUGE },
	{ "host6 wrong magic", ME_TAB_HOST6, D_MAGIC },
	{ "host6 nbuckets past nelem", ME_TAB_HOST6, D_NBUCKETS_PAST },
	{ "host6 element size", ME_TAB_HOST6, D_ELEM_SIZE },
	{ "net4 wrong magic", ME_TAB_NET4, D_MAGIC },
	{ "net4 kind of a host table", ME_TAB_NET4, D_KIND },
	{ "net4 nprefixes past the map", ME_TAB_NET4, D_NPREFIXES_PAST },
	{ "net4 nprefixes 2^32-1", ME_TAB_NET4, D_NPREFIXES_HUGE },
	{ "net4 chunk_base inside the root", ME_TAB_NET4, D_CHUNK_IN_ROOT },
	{ "net4 chunk_base at the root", ME_TAB_NET4, D_CHUNK_AT_BASE },
	{ "net4 chunks over the prefixes", ME_TAB_NET4, D_CHUNKS_OVER_PFX },
	{ "net4 prefix list past the map", ME_TAB_NET4, D_PFX_PAST },
	{ "net6 nprefixes past the map", ME_TAB_NET6, D_NPREFIXES_PAST },
	{ "net6 chunk_base inside the root", ME_TAB_NET6, D_CHUNK_IN_ROOT },
	{ "net6 chunks over the prefixes", ME_TAB_NET6, D_CHUNKS_OVER_PFX },
	{ "net6 prefix list past the map", ME_TAB_NET6, D_PFX_PAST },
	{ "net6 nvals past the dictionary", ME_TAB_NET6, D_NVALS },
};

/* A small table of a kind: a few hosts, or nested prefixes down to /30 and
 * /120, so that subnet tables have chunks. */
static void small_table(enum me_tab_kind kind, struct me_union *u, struct built *b)
{
	static const char *const v4[] = { "192.0.2.1", "192.0.2.2", "10.0.0.0/8", "10.1.2.0/24",
					  "10.1.2.4/30" };
	static const char *const v6[] = { "3fff::1", "3fff::2", "2001:db8::/32", "2001:db8:1::/48",
					  "2001:db8:1::100/120" };
	int is6 = kind == ME_TAB_HOST6 || kind == ME_TAB_NET6;
	int net = kind == ME_TAB_NET4 || kind == ME_TAB_NET6;
	size_t i, removed;

	me_union_init(u);
	for (i = 0; i < 5; i++) {
		struct me_entry e = { .action = (__u8)(i % 2 ? ME_ACT_RESET : ME_ACT_DROP),
				      .src = (__u8)(16 + i) };
		struct me_prefix p;

		cr_assert_eq(me_prefix_parse(is6 ? v6[i] : v4[i], &p, 0), 0);
		add_rec(u, B, &p, &e, 0);
	}
	me_union_merge(u, &removed);
	cr_assert_eq(removed, 0u, "the small table's union dropped %zu records", removed);
	build_table(u, is6, net, b);
	if (net)
		cr_assert_gt(b->t.h->nchunks, 0u, "the small subnet table has no chunk");
}

/* Damage the header of b's table as c says, check that me_tab_map refuses it,
 * then repair it. */
static void damage_run(const struct damage_case *c, struct built *b)
{
	struct me_tab_hdr *h = b->t.h, saved = *h;
	__u32 per = h->elem_size / (__u32)sizeof(struct me_tab_pfx);
	struct me_tabmap ro;
	int rc;

	switch (c->how) {
	case D_MAGIC:
		h->magic ^= 1;
		break;
	case D_KIND:
		h->kind = h->kind == ME_TAB_HOST4 ? ME_TAB_NET4 : ME_TAB_HOST4;
		break;
	case D_ELEM_SIZE:
		h->elem_size *= 2;
		break;
	case D_NELEM:
		h->nelem += 1;
		break;
	case D_NVALS:
		h->nvals = ME_TAB_VALS + 1;
		break;
	case D_BASE:
		h->base += 1;
		break;
	case D_NBUCKETS_PAST:
		h->nbuckets = h->nelem - h->base + 1;
		break;
	case D_NBUCKETS_HUGE:
		h->nbuckets = 0xffffffffu;
		break;
	case D_NPREFIXES_PAST:
		h->nprefixes = (h->nelem - h->pfx_base) * per + 1;
		break;
	case D_NPREFIXES_HUGE:
		h->nprefixes = 0xffffffffu;
		break;
	case D_CHUNK_IN_ROOT:
		h->chunk_base -= 1;
		break;
	case D_CHUNK_AT_BASE:
		h->chunk_base = h->base;
		break;
	case D_CHUNKS_OVER_PFX:
		h->nchunks += 1;
		break;
	case D_PFX_PAST:
		h->pfx_base = h->nelem;
		break;
	}
	rc = me_tab_map(b->t.fd, 0, &ro);
	cr_assert_eq(rc, -EUCLEAN, "%s: me_tab_map got %d, want -EUCLEAN (%d)", c->name, rc,
		     -EUCLEAN);
	cr_assert_null(ro.mem, "%s: a refused table stays mapped", c->name);
	*h = saved;
	rc = me_tab_map(b->t.fd, 0, &ro);
	cr_assert_eq(rc, 0, "%s: the repaired table: got %d, want 0", c->name, rc);
	me_tab_unmap(&ro);
}

/* One table of each kind, damaged one way after another. */
Test(table, damaged_header)
{
	static const enum me_tab_kind kinds[] = { ME_TAB_HOST4, ME_TAB_HOST6, ME_TAB_NET4,
						  ME_TAB_NET6 };
	size_t k, i;

	for (k = 0; k < 4; k++) {
		struct me_union u;
		struct built b;

		small_table(kinds[k], &u, &b);
		for (i = 0; i < sizeof(damage_cases) / sizeof(damage_cases[0]); i++)
			if (damage_cases[i].kind == kinds[k])
				damage_run(&damage_cases[i], &b);
		built_free(&b);
		me_union_free(&u);
	}
}

/* Maps that are not tables: me_tab_map refuses them without reading them. */
Test(table, foreign_maps)
{
	static const struct {
		const char *name;
		enum bpf_map_type type;
		__u32 key, value, n, flags;
	} maps[] = {
		{ "array, not mmap-able", BPF_MAP_TYPE_ARRAY, 4, 64, 16, 0 },
		{ "mmap-able array of 8-byte values", BPF_MAP_TYPE_ARRAY, 4, 8, 16,
		  BPF_F_MMAPABLE },
		{ "hash", BPF_MAP_TYPE_HASH, 4, 64, 16, 0 },
		{ "empty mmap-able array", BPF_MAP_TYPE_ARRAY, 4, 64, 16, BPF_F_MMAPABLE },
	};
	size_t i;

	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = maps[i].flags);
		struct me_tabmap t;
		int fd = bpf_map_create(maps[i].type, "me_test_foreign", maps[i].key, maps[i].value,
					maps[i].n, &o);
		int rc;

		cr_assert_geq(fd, 0, "%s: bpf_map_create: %s", maps[i].name, strerror(errno));
		rc = me_tab_map(fd, 0, &t);
		cr_assert_eq(rc, -EUCLEAN, "%s: me_tab_map got %d, want -EUCLEAN", maps[i].name,
			     rc);
		cr_assert_null(t.mem, "%s: left mapped", maps[i].name);
		close(fd);
	}
}

/* Trie entries that point past the chunks, or round in a loop: "not found". */
Test(table, damaged_trie)
{
	int v6;

	for (v6 = 0; v6 < 2; v6++) {
		enum me_tab_kind kind = v6 ? ME_TAB_NET6 : ME_TAB_NET4;
		const char *probe = v6 ? "2001:db8:1::105" : "10.1.2.5";
		const char *other = v6 ? "2001:db8:7::1" : "10.7.0.1";
		struct me_prefix p, q;
		struct me_union u;
		struct built b;
		__u32 root, qroot, bad[3];
		int k, got;

		small_table(kind, &u, &b);
		cr_assert_eq(me_prefix_parse(probe, &p, 0), 0);
		cr_assert_eq(me_prefix_parse(other, &q, 0), 0);
		cr_assert_geq(me_nettab_lookup(&b.ro, &p), 0, "IPv%d: %s not found undamaged",
			      v6 ? 6 : 4, probe);
		root = v6 ? (__u32)p.addr[0] << 8 | p.addr[1]
			  : (__u32)p.addr[0] << 16 | (__u32)p.addr[1] << 8 | p.addr[2];
		qroot = v6 ? (__u32)q.addr[0] << 8 | q.addr[1]
			   : (__u32)q.addr[0] << 16 | (__u32)q.addr[1] << 8 | q.addr[2];
		bad[0] = b.t.h->nchunks;	     /* one past the last chunk */
		bad[1] = v6 ? 0x7fffffffu : 0x7fffu; /* the largest number there is */
		bad[2] = b.t.h->nchunks + 1000;
		for (k = 0; k < 3; k++) {
			__u32 el = b.t.h->base + root / ME_TN_FANOUT, i = root % ME_TN_FANOUT;

			if (v6) {
				struct me_tn6 *tn = me_tab_elem(&b.t, el);
				__u32 keep = tn->e[i];

				tn->e[i] = ME_TN6_CHUNK | bad[k];
				got = me_nettab_lookup(&b.ro, &p);
				tn->e[i] = keep;
			} else {
				struct me_tn4 *tn = me_tab_elem(&b.t, el);
				__u16 keep = tn->e[i];

				tn->e[i] = (__u16)(ME_TN4_CHUNK | bad[k]);
				got = me_nettab_lookup(&b.ro, &p);
				tn->e[i] = keep;
			}
			cr_assert_eq(got, -1,
				     "IPv%d: root entry naming chunk %u of %u: got %d, "
				     "want -1",
				     v6 ? 6 : 4, bad[k], b.t.h->nchunks, got);
		}
		/* A loop: every entry of chunk 0 names chunk 0, and the root entry
		 * of another address leads there. The lookup must stop at the
		 * address's last bit. */
		{
			__u32 el = b.t.h->base + qroot / ME_TN_FANOUT, i = qroot % ME_TN_FANOUT, j;

			for (j = 0; j < ME_TN_FANOUT; j++)
				if (v6)
					((struct me_tn6 *)me_tab_elem(&b.t, b.t.h->chunk_base))
					    ->e[j] = ME_TN6_CHUNK;
				else
					((struct me_tn4 *)me_tab_elem(&b.t, b.t.h->chunk_base))
					    ->e[j] = ME_TN4_CHUNK;
			if (v6)
				((struct me_tn6 *)me_tab_elem(&b.t, el))->e[i] = ME_TN6_CHUNK;
			else
				((struct me_tn4 *)me_tab_elem(&b.t, el))->e[i] = ME_TN4_CHUNK;
			got = me_nettab_lookup(&b.ro, &q);
			cr_assert_eq(got, -1, "IPv%d: a chunk naming itself: got %d, want -1",
				     v6 ? 6 : 4, got);
		}
		built_free(&b);
		me_union_free(&u);
	}
}

static int count_cb(void *ctx, int list, const struct me_prefix *p, const struct me_entry *e)
{
	(void)list;
	(void)p;
	(void)e;
	return ++*(int *)ctx == 2 ? 77 : 0;
}

/* A slot or prefix record naming a dictionary entry past nvals, or a prefix
 * longer than its family: the walk reports -EUCLEAN. */
Test(table, damaged_walk)
{
	static const enum me_tab_kind kinds[] = { ME_TAB_HOST4, ME_TAB_HOST6, ME_TAB_NET4,
						  ME_TAB_NET6 };
	size_t k;

	for (k = 0; k < 4; k++) {
		int net = kinds[k] == ME_TAB_NET4 || kinds[k] == ME_TAB_NET6;
		int v6 = kinds[k] == ME_TAB_HOST6 || kinds[k] == ME_TAB_NET6;
		struct me_union u;
		struct built b;
		int rc, seen = 0;

		small_table(kinds[k], &u, &b);
		/* A callback's non-zero answer stops the walk and is returned. */
		rc = me_tab_walk(&b.ro, 0, count_cb, &seen);
		cr_assert_eq(rc, 77, "kind %d: walk returned %d, want the callback's 77", kinds[k],
			     rc);
		cr_assert_eq(seen, 2, "kind %d: the walk went on after the callback stopped it",
			     kinds[k]);
		if (net) {
			struct me_tab_pfx *rec = me_tab_elem(&b.t, b.t.h->pfx_base);
			__u8 keep = rec[1].val;

			rec[1].val = (__u8)b.t.h->nvals;
			seen = 0;
			rc = me_tab_walk(&b.ro, 0, count_cb, &seen);
			cr_assert_eq(rc, -EUCLEAN, "kind %d: prefix naming value %u of %u: got %d",
				     kinds[k], rec[1].val, b.t.h->nvals, rc);
			rec[1].val = keep;
			keep = rec[0].len;
			rec[0].len = v6 ? 129 : 33;
			rc = me_tab_walk(&b.ro, 0, count_cb, &seen);
			cr_assert_eq(rc, -EUCLEAN, "kind %d: prefix of length %u: got %d", kinds[k],
				     rec[0].len, rc);
			rec[0].len = keep;
		} else {
			struct me_prefix p;
			__u8 *val;
			void *bk;
			int pos, g;

			cr_assert_eq(me_prefix_parse(v6 ? "3fff::2" : "192.0.2.2", &p, 0), 0);
			pos = me_hostab_locate(&b.t, p.addr, 1);
			cr_assert_geq(pos, 0, "kind %d: host not located", kinds[k]);
			/* The slot's value byte, through the table's own memory. */
			bk = me_tab_elem(&b.t, b.t.h->base + (__u32)pos / 16);
			val = v6 ? &((struct me_hb6 *)bk)->val[pos % 16]
				 : &((struct me_hb4 *)bk)->val[pos % 16];
			*val = (__u8)b.t.h->nvals;
			for (g = 0; g < 2; g++) {
				seen = 0;
				rc = me_tab_walk(&b.ro, (__u32)g, count_cb, &seen);
				cr_assert_eq(rc, -EUCLEAN,
					     "kind %d gen %d: slot naming value %u of %u: got %d",
					     kinds[k], g, *val, b.t.h->nvals, rc);
			}
		}
		built_free(&b);
		me_union_free(&u);
	}
}

/* The dictionary holds 256 distinct (list, entry) pairs; the 257th is refused
 * with a reason, and me_sync_build leaves no table behind. */
Test(table, dictionary_full)
{
	struct me_tabdict *d = malloc(sizeof(*d));
	__u8 idx[257];
	struct me_tabmap t[4];
	struct me_union u;
	char why[256] = "";
	size_t removed;
	int i, rc;

	cr_assert(d, "out of memory");
	me_union_init(&u);
	for (i = 0; i < 257; i++) {
		struct me_entry e = { .action = ME_ACT_DROP,
				      .src = 16,
				      .expires = 1000u + (__u32)i };
		__u8 a[16] = { 192, 0, 2, 0 };
		struct me_prefix p;

		a[2] = (__u8)(i / 256);
		a[3] = (__u8)i;
		p = mkhost(0, a);
		add_rec(&u, B, &p, &e, 0);
		if (i == 255) {
			me_union_merge(&u, &removed);
			rc = me_tabdict_of_union(&u, d, idx, why, sizeof(why));
			cr_assert_eq(rc, 0, "256 distinct entries: got %d (%s), want 0", rc, why);
			cr_assert_eq(d->n, 256u, "256 distinct entries: dictionary of %u", d->n);
		}
	}
	me_union_merge(&u, &removed);
	why[0] = 0;
	rc = me_tabdict_of_union(&u, d, idx, why, sizeof(why));
	cr_assert_eq(rc, -ENOSPC, "257 distinct entries: got %d, want -ENOSPC", rc);
	cr_assert(strstr(why, "256"), "257 distinct entries: reason \"%s\" does not name the limit",
		  why);
	why[0] = 0;
	rc = me_sync_build(&u, 0, t, why, sizeof(why));
	cr_assert_eq(rc, -ENOSPC, "me_sync_build: got %d, want -ENOSPC", rc);
	cr_assert(why[0], "me_sync_build failed without a reason");
	for (i = 0; i < 4; i++)
		cr_assert(t[i].fd < 0 && !t[i].mem, "me_sync_build left table %d behind", i);
	/* One entry more of a kind already there: fits again. */
	{
		struct me_entry e = { .action = ME_ACT_DROP, .src = 16, .expires = 1000u };
		struct me_tabdict small;

		memset(&small, 0, sizeof(small));
		for (i = 0; i < ME_TAB_VALS; i++) {
			e.expires = (__u32)i;
			cr_assert_eq(me_tabdict_index(&small, B, &e), i, "index of new entry %d",
				     i);
		}
		e.expires = 5;
		cr_assert_eq(me_tabdict_index(&small, B, &e), 5, "an entry already there");
		cr_assert_eq(me_tabdict_index(&small, W, &e), -ENOSPC,
			     "the same entry on the other list is another pair");
	}
	me_union_free(&u);
	free(d);
}

/* me_sync_build: four tables, one per family and kind, each holding its part. */
Test(table, sync_build)
{
	static const struct {
		const char *cidr;
		int list;
		int k; /* table: family * 2 + is_net */
	} rows[] = {
		{ "192.0.2.7", B, 0 },	       { "198.51.100.0/24", B, 1 }, { "2001:db8::7", W, 2 },
		{ "2001:db8:bad::/48", B, 3 }, { "192.0.2.8", W, 0 },	    { "10.0.0.0/8", W, 1 },
	};
	static const enum me_tab_kind kinds[] = { ME_TAB_HOST4, ME_TAB_NET4, ME_TAB_HOST6,
						  ME_TAB_NET6 };
	struct me_tabmap t[4];
	struct me_union u;
	char why[256] = "";
	size_t i, removed;
	int k, rc;

	me_union_init(&u);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct me_entry e = { .action = ME_ACT_PASS, .src = (__u8)(16 + i) };
		struct me_prefix p;

		cr_assert_eq(me_prefix_parse(rows[i].cidr, &p, 0), 0);
		add_rec(&u, rows[i].list, &p, &e, 0);
	}
	me_union_merge(&u, &removed);
	rc = me_sync_build(&u, 0, t, why, sizeof(why));
	cr_assert_eq(rc, 0, "me_sync_build: got %d (%s)", rc, why);
	for (k = 0; k < 4; k++)
		cr_assert_eq(t[k].h->kind, (__u32)kinds[k], "table %d: kind %u, want %d", k,
			     t[k].h->kind, kinds[k]);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct me_prefix p;
		const struct me_tabmap *tt = &t[rows[i].k];
		int v;

		me_prefix_parse(rows[i].cidr, &p, 0);
		if (rows[i].k % 2) {
			p.len = p.family == AF_INET ? 32 : 128;
			v = me_nettab_lookup(tt, &p);
		} else {
			v = me_hostab_lookup(tt, &p, 0);
		}
		cr_assert(v >= 0 && (__u32)v < tt->h->nvals, "%s: got %d", rows[i].cidr, v);
		cr_assert_eq(me_tab_val(tt, (__u32)v)->e.src, 16 + i, "%s: got source %u, want %zu",
			     rows[i].cidr, me_tab_val(tt, (__u32)v)->e.src, 16 + i);
		cr_assert_eq(me_tab_val(tt, (__u32)v)->list, (__u32)rows[i].list, "%s: got list %u",
			     rows[i].cidr, me_tab_val(tt, (__u32)v)->list);
	}
	for (k = 0; k < 4; k++)
		me_tab_destroy(&t[k]);
	me_union_free(&u);
}

/*
 * A refresh killed half-way leaves bits of the generation not in use: the
 * next refresh must start from the generation in use, not from them. A
 * settled table (as built, or after a settle) is marked so, and a refresh
 * marks it unsettled before it writes; only an unsettled one is walked.
 */
Test(table, refresh_after_a_killed_one_starts_clean)
{
	__u8 addr[16], extra[16];
	struct me_union u;
	struct me_prefix p;
	struct built b;
	size_t removed, i;
	__u32 g = 0, ng = 1;
	int pos;

	me_union_init(&u);
	for (i = 0; i < 500; i++) {
		struct me_entry e = pick_entry(B);

		host_addr(0, i, addr);
		p = mkhost(0, addr);
		add_rec(&u, B, &p, &e, 0);
	}
	me_union_merge(&u, &removed);
	build_table(&u, 0, 0, &b);
	cr_assert_eq(b.ro.h->settled, ME_TAB_SETTLED, "a fresh table: not marked settled");

	/* the refresh that gets killed: one host gone, one new, in ng only */
	me_hostab_begin(&b.t, ng);
	cr_assert_eq(b.ro.h->settled, 0u, "a refresh under way: still marked settled");
	host_addr(0, 7, addr);
	p = mkhost(0, addr);
	pos = me_hostab_locate(&b.t, addr, ng);
	cr_assert_geq(pos, 0);
	me_hostab_kill(&b.t, pos, ng);
	/* a new host whose buckets have room (the seed is the build's own) */
	for (i = 100000, pos = -ENOSPC; pos == -ENOSPC && i < 101000; i++) {
		host_addr(0, i, extra);
		pos = me_hostab_add(&b.t, extra, 0, ng);
	}
	cr_assert_geq(pos, 0, "no new host found room: %d", pos);
	cr_assert_lt(me_hostab_lookup(&b.ro, &p, ng), 0, "the killed refresh's delete not in ng");

	/* the next refresh: ng starts as g again */
	me_hostab_begin(&b.t, ng);
	cr_assert_geq(me_hostab_lookup(&b.ro, &p, ng), 0, "a deleted host left deleted in ng");
	cr_assert_lt(me_hostab_locate(&b.t, extra, ng), 0, "an added host left in ng");
	cr_assert_lt(me_hostab_locate(&b.t, extra, g), 0, "an added host in g");
	cr_assert_eq(me_hostab_settle(&b.t, ng), 0u, "the restart left ng unlike g");
	cr_assert_eq(b.ro.h->settled, ME_TAB_SETTLED, "after a settle: not marked settled");
	built_free(&b);
	me_union_free(&u);
}
