// SPDX-License-Identifier: GPL-2.0
/*
 * test_union.c - merging list-sync entries (me_union_*).
 *
 * After me_union_merge a union holds one entry per (list, prefix), the one of
 * the source with the lowest priority number, and no prefix whose nearest
 * covering prefix (same list, same family) already gives it the same verdict.
 * A prefix with another verdict than its cover stays: the kernel's longest
 * match makes it mean something. Whitelist and blacklist, IPv4 and IPv6 never
 * merge with each other.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "addr.h"
#include "mailedge_abi.h"
#include "../listsync/copykeys.h"
#include "../listsync/incr.h"
#include "../listsync/union.h"

#define MAX_ENT 10

#define W     ME_LIST_WHITE
#define B     ME_LIST_BLACK
#define DROP  ME_ACT_DROP
#define RESET ME_ACT_RESET
#define PASS  ME_ACT_PASS
#define GROUP ME_ACT_GROUP

/* One entry: inline strings only (Criterion copies parameters into workers). */
struct uent {
	int list;
	char cidr[48];
	int action;
	int group;
	int src;
	int prio; /* in: priority; want: ignored */
};

struct merge_case {
	char name[96];
	int nin;
	struct uent in[MAX_ENT];
	int nwant;
	struct uent want[MAX_ENT]; /* in merged (sorted) order */
};

static void add(struct me_union *u, const struct uent *e)
{
	struct me_prefix p;
	struct me_entry v = { 0 };
	int rc;

	rc = me_prefix_parse(e->cidr, &p, 0);
	cr_assert_eq(rc, 0, "test table: '%s' does not parse (%d)", e->cidr, rc);
	v.action = (__u8)e->action;
	v.group = (__u16)e->group;
	v.src = (__u8)e->src;
	cr_assert_eq(me_union_add(u, e->list, &p, &v, (unsigned int)e->prio), 0,
		     "me_union_add(%s) failed", e->cidr);
}

/* A new union holding the n entries of in (added in that order, not merged). */
static void build(struct me_union *u, const struct uent *in, size_t n)
{
	size_t i;

	me_union_init(u);
	for (i = 0; i < n; i++)
		add(u, &in[i]);
}

static void describe(const struct me_urec *r, char *buf, size_t len)
{
	struct me_prefix p;
	char pfx[ME_PREFIX_STRLEN];

	me_urec_prefix(r, &p);
	me_prefix_format(&p, pfx, sizeof(pfx));
	snprintf(buf, len, "%s %s action %u group %u src %u", r->list == W ? "white" : "black", pfx,
		 r->val.action, r->val.group, r->val.src);
}

static const struct merge_case merge_cases[] = {
	{ "duplicate: lowest prio's action and src",
	  2,
	  { { B, "192.0.2.0/24", RESET, 0, 17, 1 }, { B, "192.0.2.0/24", DROP, 0, 16, 0 } },
	  1,
	  { { B, "192.0.2.0/24", DROP, 0, 16, 0 } } },
	{ "duplicate: lowest prio wins when added first",
	  3,
	  { { B, "192.0.2.7", PASS, 0, 20, 0 },
	    { B, "192.0.2.7", RESET, 0, 21, 1 },
	    { B, "192.0.2.7", DROP, 0, 22, 2 } },
	  1,
	  { { B, "192.0.2.7", PASS, 0, 20, 0 } } },
	{ "duplicate: same action, src of the lowest prio",
	  3,
	  { { B, "2001:db8::/32", DROP, 0, 18, 2 },
	    { B, "2001:db8::/32", DROP, 0, 17, 1 },
	    { B, "2001:db8::/32", DROP, 0, 19, 3 } },
	  1,
	  { { B, "2001:db8::/32", DROP, 0, 17, 0 } } },
	{ "host inside a subnet, same action",
	  2,
	  { { B, "192.0.2.7", DROP, 0, 17, 1 }, { B, "192.0.2.0/24", DROP, 0, 16, 0 } },
	  1,
	  { { B, "192.0.2.0/24", DROP, 0, 16, 0 } } },
	{ "host inside a subnet, same action, higher prio subnet",
	  2,
	  { { B, "192.0.2.7", DROP, 0, 16, 0 }, { B, "192.0.2.0/24", DROP, 0, 17, 1 } },
	  1,
	  { { B, "192.0.2.0/24", DROP, 0, 17, 0 } } },
	{ "/25 inside /24, same action",
	  3,
	  { { B, "192.0.2.128/25", RESET, 0, 16, 0 },
	    { B, "192.0.2.0/24", RESET, 0, 16, 0 },
	    { B, "192.0.2.0/25", RESET, 0, 17, 1 } },
	  1,
	  { { B, "192.0.2.0/24", RESET, 0, 16, 0 } } },
	{ "v6 /64 inside /48, same action",
	  2,
	  { { B, "2001:db8:bad:1::/64", DROP, 0, 16, 0 },
	    { B, "2001:db8:bad::/48", DROP, 0, 17, 1 } },
	  1,
	  { { B, "2001:db8:bad::/48", DROP, 0, 17, 0 } } },
	{ "different action kept",
	  3,
	  { { B, "192.0.2.0/24", DROP, 0, 16, 0 },
	    { B, "192.0.2.7", RESET, 0, 17, 1 },
	    { B, "192.0.2.128/25", PASS, 0, 18, 2 } },
	  3,
	  { { B, "192.0.2.0/24", DROP, 0, 16, 0 },
	    { B, "192.0.2.7", RESET, 0, 17, 0 },
	    { B, "192.0.2.128/25", PASS, 0, 18, 0 } } },
	{ "v6 different action kept",
	  2,
	  { { B, "2001:db8:bad::/48", DROP, 0, 16, 0 }, { B, "2001:db8:bad::25", PASS, 0, 17, 1 } },
	  2,
	  { { B, "2001:db8:bad::/48", DROP, 0, 16, 0 },
	    { B, "2001:db8:bad::25", PASS, 0, 17, 0 } } },
	{ "covered higher-prio duplicate decides (A /8 drop p1, B1 drop p0, B2 reset p2)",
	  3,
	  { { B, "10.0.0.0/8", DROP, 0, 17, 1 },
	    { B, "10.1.0.0/16", DROP, 0, 16, 0 },
	    { B, "10.1.0.0/16", RESET, 0, 18, 2 } },
	  1,
	  { { B, "10.0.0.0/8", DROP, 0, 17, 0 } } },
	{ "same, added in the other order",
	  3,
	  { { B, "10.1.0.0/16", RESET, 0, 18, 2 },
	    { B, "10.1.0.0/16", DROP, 0, 16, 0 },
	    { B, "10.0.0.0/8", DROP, 0, 17, 1 } },
	  1,
	  { { B, "10.0.0.0/8", DROP, 0, 17, 0 } } },
	{ "kept higher-prio duplicate decides (B1 reset p0, B2 drop p2)",
	  3,
	  { { B, "10.0.0.0/8", DROP, 0, 17, 1 },
	    { B, "10.1.0.0/16", RESET, 0, 16, 0 },
	    { B, "10.1.0.0/16", DROP, 0, 18, 2 } },
	  2,
	  { { B, "10.0.0.0/8", DROP, 0, 17, 0 }, { B, "10.1.0.0/16", RESET, 0, 16, 0 } } },
	{ "nearest cover decides, not the outermost",
	  5,
	  { { B, "0.0.0.0/0", DROP, 0, 16, 0 },
	    { B, "10.0.0.0/8", RESET, 0, 16, 0 },
	    { B, "10.1.0.0/16", DROP, 0, 16, 0 },
	    { B, "10.1.2.0/24", DROP, 0, 16, 0 },
	    { B, "10.1.2.3", RESET, 0, 16, 0 } },
	  4,
	  { { B, "0.0.0.0/0", DROP, 0, 16, 0 },
	    { B, "10.0.0.0/8", RESET, 0, 16, 0 },
	    { B, "10.1.0.0/16", DROP, 0, 16, 0 },
	    { B, "10.1.2.3", RESET, 0, 16, 0 } } },
	{ "a dropped prefix is no one's cover",
	  3,
	  { { B, "10.0.0.0/8", DROP, 0, 16, 0 },
	    { B, "10.1.0.0/16", DROP, 0, 16, 0 },
	    { B, "10.1.2.0/24", RESET, 0, 16, 0 } },
	  2,
	  { { B, "10.0.0.0/8", DROP, 0, 16, 0 }, { B, "10.1.2.0/24", RESET, 0, 16, 0 } } },
	{ "a sibling is not a cover",
	  4,
	  { { B, "10.0.0.0/8", DROP, 0, 16, 0 },
	    { B, "10.0.0.0/16", RESET, 0, 16, 0 },
	    { B, "10.0.5.0/24", RESET, 0, 16, 0 },
	    { B, "10.1.0.0/16", DROP, 0, 16, 0 } },
	  2,
	  { { B, "10.0.0.0/8", DROP, 0, 16, 0 }, { B, "10.0.0.0/16", RESET, 0, 16, 0 } } },
	{ "a sibling with a different action is kept",
	  3,
	  { { B, "192.0.2.0/25", DROP, 0, 16, 0 },
	    { B, "192.0.2.128/25", RESET, 0, 16, 0 },
	    { B, "192.0.2.200", DROP, 0, 16, 0 } },
	  3,
	  { { B, "192.0.2.0/25", DROP, 0, 16, 0 },
	    { B, "192.0.2.128/25", RESET, 0, 16, 0 },
	    { B, "192.0.2.200", DROP, 0, 16, 0 } } },
	{ "white and black never merge",
	  4,
	  { { B, "192.0.2.0/24", PASS, 0, 16, 0 },
	    { W, "192.0.2.7", PASS, 0, 17, 1 },
	    { W, "198.51.100.0/24", PASS, 0, 17, 1 },
	    { B, "198.51.100.0/24", PASS, 0, 16, 0 } },
	  4,
	  { { W, "192.0.2.7", PASS, 0, 17, 0 },
	    { W, "198.51.100.0/24", PASS, 0, 17, 0 },
	    { B, "192.0.2.0/24", PASS, 0, 16, 0 },
	    { B, "198.51.100.0/24", PASS, 0, 16, 0 } } },
	{ "whitelist covered prefix with same action dropped",
	  2,
	  { { W, "192.0.2.0/24", PASS, 0, 16, 0 }, { W, "192.0.2.7", PASS, 0, 17, 1 } },
	  1,
	  { { W, "192.0.2.0/24", PASS, 0, 16, 0 } } },
	{ "v4 and v6 never merge",
	  4,
	  { { B, "10.0.0.0/8", DROP, 0, 16, 0 },
	    { B, "a00::1", DROP, 0, 16, 0 },
	    { B, "a00::/8", DROP, 0, 16, 0 },
	    { B, "10.0.0.1", DROP, 0, 16, 0 } },
	  2,
	  { { B, "10.0.0.0/8", DROP, 0, 16, 0 }, { B, "a00::/8", DROP, 0, 16, 0 } } },
	{ "v4 /0 and v6 /0 both kept",
	  4,
	  { { B, "0.0.0.0/0", DROP, 0, 16, 0 },
	    { B, "::/0", DROP, 0, 16, 0 },
	    { B, "::1", DROP, 0, 16, 0 },
	    { B, "0.0.0.1", RESET, 0, 16, 0 } },
	  3,
	  { { B, "0.0.0.0/0", DROP, 0, 16, 0 },
	    { B, "0.0.0.1", RESET, 0, 16, 0 },
	    { B, "::/0", DROP, 0, 16, 0 } } },
	{ "same group merges",
	  2,
	  { { W, "192.0.2.0/24", GROUP, 3, 16, 0 }, { W, "192.0.2.7", GROUP, 3, 17, 1 } },
	  1,
	  { { W, "192.0.2.0/24", GROUP, 3, 16, 0 } } },
	{ "other group kept",
	  2,
	  { { W, "192.0.2.0/24", GROUP, 3, 16, 0 }, { W, "192.0.2.7", GROUP, 4, 17, 1 } },
	  2,
	  { { W, "192.0.2.0/24", GROUP, 3, 16, 0 }, { W, "192.0.2.7", GROUP, 4, 17, 0 } } },
	{ "group 0 and pass differ",
	  2,
	  { { W, "192.0.2.0/24", PASS, 0, 16, 0 }, { W, "192.0.2.7", GROUP, 0, 17, 1 } },
	  2,
	  { { W, "192.0.2.0/24", PASS, 0, 16, 0 }, { W, "192.0.2.7", GROUP, 0, 17, 0 } } },
	{ "duplicate of another group: lowest prio's group",
	  2,
	  { { W, "2001:db8::/32", GROUP, 9, 17, 1 }, { W, "2001:db8::/32", GROUP, 5, 16, 0 } },
	  1,
	  { { W, "2001:db8::/32", GROUP, 5, 16, 0 } } },
	{ "v6 nesting",
	  4,
	  { { B, "2001:db8::/32", DROP, 0, 16, 0 },
	    { B, "2001:db8:1::/48", RESET, 0, 16, 0 },
	    { B, "2001:db8:1:2::/64", RESET, 0, 16, 0 },
	    { B, "2001:db8:1:2::25", DROP, 0, 16, 0 } },
	  3,
	  { { B, "2001:db8::/32", DROP, 0, 16, 0 },
	    { B, "2001:db8:1::/48", RESET, 0, 16, 0 },
	    { B, "2001:db8:1:2::25", DROP, 0, 16, 0 } } },
	{ "nothing to merge: sorted output",
	  3,
	  { { B, "203.0.113.0/24", DROP, 0, 16, 0 },
	    { B, "2001:db8::1", DROP, 0, 16, 0 },
	    { B, "192.0.2.1", DROP, 0, 16, 0 } },
	  3,
	  { { B, "192.0.2.1", DROP, 0, 16, 0 },
	    { B, "203.0.113.0/24", DROP, 0, 16, 0 },
	    { B, "2001:db8::1", DROP, 0, 16, 0 } } },
};

ParameterizedTestParameters(union, merge)
{
	return cr_make_param_array(struct merge_case, merge_cases,
				   sizeof(merge_cases) / sizeof(merge_cases[0]));
}

ParameterizedTest(const struct merge_case *c, union, merge)
{
	struct me_union u;
	size_t removed = 12345;
	int i;

	build(&u, c->in, (size_t)c->nin);
	cr_assert_eq(u.n, (size_t)c->nin, "%s: got %zu entries before merge, want %d", c->name, u.n,
		     c->nin);
	me_union_merge(&u, &removed);
	cr_assert(u.merged, "%s: got merged 0 after me_union_merge", c->name);
	if (u.n != (size_t)c->nwant) {
		char got[1024] = "", one[128];
		size_t k;

		for (k = 0; k < u.n; k++) {
			describe(&u.v[k], one, sizeof(one));
			snprintf(got + strlen(got), sizeof(got) - strlen(got), "\n  %s", one);
		}
		cr_assert_fail("%s: got %zu entries, want %d:%s", c->name, u.n, c->nwant, got);
	}
	cr_assert_eq(removed, (size_t)(c->nin - c->nwant), "%s: got removed %zu, want %d", c->name,
		     removed, c->nin - c->nwant);
	for (i = 0; i < c->nwant; i++) {
		const struct me_urec *r = &u.v[i];
		const struct uent *w = &c->want[i];
		struct me_prefix p;
		char pfx[ME_PREFIX_STRLEN], got[128];

		describe(r, got, sizeof(got));
		me_urec_prefix(r, &p);
		me_prefix_format(&p, pfx, sizeof(pfx));
		cr_assert_str_eq(pfx, w->cidr, "%s: entry %d: got %s, want %s", c->name, i, got,
				 w->cidr);
		cr_assert_eq(r->list, w->list, "%s: entry %d: got %s, want list %d", c->name, i,
			     got, w->list);
		cr_assert_eq(r->val.action, w->action, "%s: entry %d: got %s, want action %d",
			     c->name, i, got, w->action);
		cr_assert_eq(r->val.group, w->group, "%s: entry %d: got %s, want group %d", c->name,
			     i, got, w->group);
		cr_assert_eq(r->val.src, w->src, "%s: entry %d: got %s, want src %d", c->name, i,
			     got, w->src);
	}
	me_union_free(&u);
}

Test(union, merge_empty)
{
	struct me_union u;
	struct me_union_counts c;
	size_t removed = 99;
	size_t l, f, n;

	me_union_init(&u);
	me_union_merge(&u, &removed);
	cr_assert_eq(removed, 0, "got removed %zu, want 0", removed);
	cr_assert_eq(u.n, 0, "got %zu entries, want 0", u.n);
	cr_assert(u.merged, "got merged 0, want 1");
	me_union_counts(&u, &c);
	for (l = 0; l < 2; l++)
		for (f = 0; f < 2; f++)
			for (n = 0; n < 2; n++)
				cr_assert_eq(c.n[l][f][n], 0,
					     "got count [%zu][%zu][%zu] = %zu, want 0", l, f, n,
					     c.n[l][f][n]);
	/* Merging again is harmless. */
	me_union_merge(&u, &removed);
	cr_assert_eq(removed, 0, "got removed %zu on a second merge, want 0", removed);
	me_union_free(&u);
	cr_assert_null(u.v, "got v %p after free, want NULL", (void *)u.v);
	cr_assert_eq(u.n, 0);
}

Test(union, merge_twice_is_stable)
{
	static const struct uent in[] = {
		{ B, "10.0.0.0/8", DROP, 0, 16, 0 },   { B, "10.1.0.0/16", DROP, 0, 17, 1 },
		{ B, "10.1.2.0/24", RESET, 0, 17, 1 }, { B, "10.1.2.3", RESET, 0, 18, 2 },
		{ W, "192.0.2.1", PASS, 0, 19, 3 },    { B, "2001:db8::/32", DROP, 0, 16, 0 },
	};
	struct me_union u;
	size_t removed, n1;
	__u64 d1;

	build(&u, in, sizeof(in) / sizeof(in[0]));
	me_union_merge(&u, &removed);
	cr_assert_eq(removed, 2, "got removed %zu, want 2", removed);
	n1 = u.n;
	d1 = me_union_digest(&u);
	me_union_merge(&u, &removed);
	cr_assert_eq(removed, 0, "got removed %zu on the second merge, want 0", removed);
	cr_assert_eq(u.n, n1, "got %zu entries, want %zu", u.n, n1);
	cr_assert_eq(me_union_digest(&u), d1, "got another digest after merging again");
	me_union_free(&u);
}

Test(union, add_clears_merged)
{
	static const struct uent e = { B, "192.0.2.1", DROP, 0, 16, 0 };
	struct me_union u;
	size_t removed;

	build(&u, &e, 1);
	me_union_merge(&u, &removed);
	cr_assert(u.merged);
	add(&u, &e);
	cr_assert(!u.merged, "got merged 1 after an add, want 0");
	me_union_free(&u);
}

/* Many entries (past the first 4096-entry allocation) under one cover. */
Test(union, large_merge)
{
	struct me_union u;
	struct me_prefix p;
	struct me_entry v = { .action = DROP, .src = 16 };
	struct me_entry r = { .action = RESET, .src = 16 };
	size_t removed;
	unsigned int i;

	me_union_init(&u);
	for (i = 0; i < 20000; i++) {
		char a[32];

		snprintf(a, sizeof(a), "10.%u.%u.%u", (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
		cr_assert_eq(me_prefix_parse(a, &p, 0), 0);
		cr_assert_eq(me_union_add(&u, B, &p, i % 100 ? &v : &r, i % 3), 0);
	}
	cr_assert_eq(me_prefix_parse("10.0.0.0/8", &p, 0), 0);
	cr_assert_eq(me_union_add(&u, B, &p, &v, 5), 0);
	me_union_merge(&u, &removed);
	/* The /8 and the 200 hosts with another action stay. */
	cr_assert_eq(u.n, 201, "got %zu entries, want 201", u.n);
	cr_assert_eq(removed, 19800, "got removed %zu, want 19800", removed);
	me_union_free(&u);
}

/* ---- counts ---- */

Test(union, counts)
{
	static const struct uent in[] = {
		{ W, "192.0.2.1", PASS, 0, 16, 0 },
		{ W, "192.0.2.2", PASS, 0, 16, 0 },
		{ W, "198.51.100.0/24", PASS, 0, 16, 0 },
		{ W, "2001:db8::1", PASS, 0, 16, 0 },
		{ W, "2001:db8:1::/48", PASS, 0, 16, 0 },
		{ W, "2001:db8:2::/48", PASS, 0, 16, 0 },
		{ W, "2001:db8:3::/48", PASS, 0, 16, 0 },
		{ B, "203.0.113.0/24", DROP, 0, 17, 1 },
		{ B, "203.0.113.7", DROP, 0, 17, 1 }, /* merged away */
		{ B, "192.0.2.1", DROP, 0, 17, 1 },
		{ B, "2001:db8::25", RESET, 0, 17, 1 },
		{ B, "2001:db8::26", RESET, 0, 17, 1 },
		{ B, "2001:db8::27", RESET, 0, 17, 1 },
		{ B, "2001:db8::28", RESET, 0, 17, 1 },
		{ B, "2001:db8:bad::/48", DROP, 0, 17, 1 },
		{ B, "2001:db8:bad::/48", RESET, 0, 18, 2 }, /* duplicate */
	};
	/* [list][family v4=0 v6=1][host=0 net=1] */
	static const size_t want[2][2][2] = {
		[W] = { { 2, 1 }, { 1, 3 } },
		[B] = { { 1, 1 }, { 4, 1 } },
	};
	struct me_union u;
	struct me_union_counts c;
	size_t removed, l, f, n;

	build(&u, in, sizeof(in) / sizeof(in[0]));
	me_union_merge(&u, &removed);
	cr_assert_eq(removed, 2, "got removed %zu, want 2", removed);
	memset(&c, 0x5a, sizeof(c));
	me_union_counts(&u, &c);
	for (l = 0; l < 2; l++)
		for (f = 0; f < 2; f++)
			for (n = 0; n < 2; n++)
				cr_assert_eq(c.n[l][f][n], want[l][f][n],
					     "%s IPv%s %s: got %zu, want %zu",
					     l == W ? "white" : "black", f ? "6" : "4",
					     n ? "subnets" : "hosts", c.n[l][f][n], want[l][f][n]);
	me_union_free(&u);
}

/* A /32 and a /128 are hosts; a /31 and a /127 are subnets. */
Test(union, counts_host_boundary)
{
	static const struct uent in[] = {
		{ B, "192.0.2.1/32", DROP, 0, 16, 0 },
		{ B, "192.0.2.4/31", RESET, 0, 16, 0 },
		{ B, "2001:db8::1/128", DROP, 0, 16, 0 },
		{ B, "2001:db8::4/127", RESET, 0, 16, 0 },
	};
	struct me_union u;
	struct me_union_counts c;
	size_t removed;

	build(&u, in, sizeof(in) / sizeof(in[0]));
	me_union_merge(&u, &removed);
	me_union_counts(&u, &c);
	cr_assert_eq(c.n[B][0][0], 1, "IPv4 hosts: got %zu, want 1", c.n[B][0][0]);
	cr_assert_eq(c.n[B][0][1], 1, "IPv4 subnets: got %zu, want 1", c.n[B][0][1]);
	cr_assert_eq(c.n[B][1][0], 1, "IPv6 hosts: got %zu, want 1", c.n[B][1][0]);
	cr_assert_eq(c.n[B][1][1], 1, "IPv6 subnets: got %zu, want 1", c.n[B][1][1]);
	me_union_free(&u);
}

/* ---- digest ---- */

static const struct uent digest_base[] = {
	{ B, "10.0.0.0/8", DROP, 0, 16, 0 },	{ B, "10.1.0.0/16", RESET, 0, 17, 1 },
	{ B, "10.1.2.3", RESET, 0, 17, 1 }, /* merged away */
	{ W, "192.0.2.0/24", GROUP, 7, 18, 2 }, { W, "192.0.2.1", PASS, 0, 18, 2 },
	{ B, "2001:db8::/32", DROP, 0, 16, 0 }, { B, "2001:db8::25", PASS, 0, 17, 1 },
	{ B, "203.0.113.9", DROP, 0, 16, 0 },
};
#define NBASE (sizeof(digest_base) / sizeof(digest_base[0]))

/* Build and merge from digest_base in the order given, with changes applied. */
static __u64 digest_of(const size_t *order, size_t n, const struct uent *extra)
{
	struct me_union u;
	size_t removed, i;
	__u64 d;

	me_union_init(&u);
	for (i = 0; i < n; i++)
		add(&u, &digest_base[order[i]]);
	if (extra)
		add(&u, extra);
	me_union_merge(&u, &removed);
	d = me_union_digest(&u);
	me_union_free(&u);
	return d;
}

Test(union, digest_order_independent)
{
	size_t fwd[NBASE], rev[NBASE], mix[NBASE], i;
	__u64 d0, d1, d2;
	unsigned int seed = 12345;

	for (i = 0; i < NBASE; i++) {
		fwd[i] = i;
		rev[i] = NBASE - 1 - i;
		mix[i] = i;
	}
	d0 = digest_of(fwd, NBASE, NULL);
	d1 = digest_of(rev, NBASE, NULL);
	cr_assert_eq(d1, d0, "got digest %#llx added in reverse, want %#llx",
		     (unsigned long long)d1, (unsigned long long)d0);
	for (int round = 0; round < 20; round++) {
		for (i = NBASE - 1; i > 0; i--) {
			size_t j, t;

			seed = seed * 1103515245u + 12345u;
			j = (seed >> 16) % (i + 1);
			t = mix[i];
			mix[i] = mix[j];
			mix[j] = t;
		}
		d2 = digest_of(mix, NBASE, NULL);
		cr_assert_eq(d2, d0, "round %d: got digest %#llx for a shuffled order, want %#llx",
			     round, (unsigned long long)d2, (unsigned long long)d0);
	}
	/* An entry merged away does not change the merged content. */
	{
		static const struct uent covered = { B, "10.0.0.99", DROP, 0, 16, 0 };

		d2 = digest_of(fwd, NBASE, &covered);
		cr_assert_eq(d2, d0, "got another digest after adding a covered prefix");
	}
}

Test(union, digest_ignores_prio)
{
	struct me_union a, b;
	size_t removed, i;

	build(&a, digest_base, NBASE);
	me_union_init(&b);
	for (i = 0; i < NBASE; i++) {
		struct uent e = digest_base[i];

		e.prio += 7;
		add(&b, &e);
	}
	me_union_merge(&a, &removed);
	me_union_merge(&b, &removed);
	cr_assert_eq(me_union_digest(&a), me_union_digest(&b),
		     "got different digests for the same content under other priorities");
	me_union_free(&a);
	me_union_free(&b);
}

Test(union, digest_differs_for_other_content)
{
	static const struct {
		const char *what;
		size_t index; /* entry of digest_base to replace */
		struct uent with;
	} changes[] = {
		{ "other action", 0, { B, "10.0.0.0/8", RESET, 0, 16, 0 } },
		{ "other group", 3, { W, "192.0.2.0/24", GROUP, 8, 18, 2 } },
		{ "other src", 7, { B, "203.0.113.9", DROP, 0, 20, 0 } },
		{ "other list", 7, { W, "203.0.113.9", DROP, 0, 16, 0 } },
		{ "other length", 1, { B, "10.1.0.0/17", RESET, 0, 17, 1 } },
		{ "other address", 7, { B, "203.0.113.10", DROP, 0, 16, 0 } },
		{ "other family", 7, { B, "cb00:7109::", DROP, 0, 16, 0 } },
	};
	size_t order[NBASE], i, k;
	__u64 d0;

	for (i = 0; i < NBASE; i++)
		order[i] = i;
	d0 = digest_of(order, NBASE, NULL);
	for (k = 0; k < sizeof(changes) / sizeof(changes[0]); k++) {
		struct me_union u;
		size_t removed;
		__u64 d;

		me_union_init(&u);
		for (i = 0; i < NBASE; i++)
			add(&u, i == changes[k].index ? &changes[k].with : &digest_base[i]);
		me_union_merge(&u, &removed);
		d = me_union_digest(&u);
		me_union_free(&u);
		cr_assert_neq(d, d0, "%s: got the same digest %#llx, want another", changes[k].what,
			      (unsigned long long)d);
	}
	/* One entry more, one entry less. */
	{
		static const struct uent extra = { B, "198.51.100.0/24", DROP, 0, 16, 0 };

		cr_assert_neq(digest_of(order, NBASE, &extra), d0, "one entry more: same digest");
		cr_assert_neq(digest_of(order, NBASE - 1, NULL), d0, "one entry less: same digest");
	}
	/* Empty unions agree with each other and differ from a non-empty one. */
	{
		struct me_union e1, e2;
		size_t removed;

		me_union_init(&e1);
		me_union_init(&e2);
		me_union_merge(&e1, &removed);
		cr_assert_eq(me_union_digest(&e1), me_union_digest(&e2),
			     "got different digests for two empty unions");
		cr_assert_neq(me_union_digest(&e1), d0, "got an empty union's digest for content");
	}
}

Test(union, urec_prefix_round_trip)
{
	static const char *const cidrs[] = { "192.0.2.1",     "198.51.100.0/24", "0.0.0.0/0",
					     "2001:db8::/32", "2001:db8::25",	 "::/0" };
	size_t i;

	for (i = 0; i < sizeof(cidrs) / sizeof(cidrs[0]); i++) {
		struct me_union u;
		struct me_prefix p, back;
		struct me_entry v = { 0 };
		char text[ME_PREFIX_STRLEN];

		me_union_init(&u);
		cr_assert_eq(me_prefix_parse(cidrs[i], &p, 0), 0);
		cr_assert_eq(me_union_add(&u, B, &p, &v, 0), 0);
		cr_assert_eq(u.v[0].family, p.family == AF_INET ? 4 : 6, "%s: got family %u",
			     cidrs[i], u.v[0].family);
		me_urec_prefix(&u.v[0], &back);
		me_prefix_format(&back, text, sizeof(text));
		cr_assert_str_eq(text, cidrs[i], "got %s back, want %s", text, cidrs[i]);
		cr_assert_eq(back.family, p.family, "%s: got family %d back, want %d", cidrs[i],
			     back.family, p.family);
		me_union_free(&u);
	}
}

Test(union, prio_clamped_to_255)
{
	static const struct uent lo = { B, "192.0.2.0/24", DROP, 0, 16, 254 };
	struct me_union u;
	struct me_prefix p;
	struct me_entry v = { .action = RESET, .src = 17 };
	size_t removed;

	me_union_init(&u);
	cr_assert_eq(me_prefix_parse("192.0.2.0/24", &p, 0), 0);
	cr_assert_eq(me_union_add(&u, B, &p, &v, 1000), 0);
	cr_assert_eq(u.v[0].prio, 255, "got prio %u for 1000, want 255", u.v[0].prio);
	add(&u, &lo);
	me_union_merge(&u, &removed);
	cr_assert_eq(u.n, 1);
	cr_assert_eq(u.v[0].val.action, DROP, "got action %u, want the prio 254 entry's drop",
		     u.v[0].val.action);
	me_union_free(&u);
}

/* ---- a refresh from sorted keys (incr.h) against merging the union ---- */

#define IQ_POOL	  256 /* hosts 10.0.0.0-255 */
#define IQ_MAXSRC 4

/* What the host table holds for each pool address after merging: the white
 * entry first, else the black one; list -1 for none. */
struct iq_slot {
	int list;
	struct me_entry val;
};

static const char *const iq_nets[] = { "10.0.0.0/25",	"10.0.0.0/26", "10.0.0.64/26",
				       "10.0.0.128/28", "10.0.0.0/24", "10.0.0.192/27" };
#define IQ_NNETS (sizeof(iq_nets) / sizeof(iq_nets[0]))

struct iq_src {
	int list;
	struct me_entry val;
	unsigned char host[IQ_POOL];
	unsigned char net[IQ_NNETS];
};

static void iq_prefixes(const struct iq_src *s, struct me_prefix *v, size_t *n)
{
	size_t i;

	*n = 0;
	for (i = 0; i < IQ_NNETS; i++)
		if (s->net[i])
			cr_assert_eq(me_prefix_parse(iq_nets[i], &v[(*n)++], 0), 0);
	for (i = 0; i < IQ_POOL; i++)
		if (s->host[i]) {
			struct me_prefix *p = &v[(*n)++];

			memset(p, 0, sizeof(*p));
			p->family = AF_INET;
			p->len = 32;
			p->addr[0] = 10;
			p->addr[3] = (uint8_t)i;
		}
}

/* Merge the union of srcs; the pool's host table and the union's counts. */
static void iq_merge(const struct iq_src *srcs, int nsrc, struct iq_slot *tab,
		     struct me_union_counts *c)
{
	struct me_prefix v[IQ_POOL + IQ_NNETS];
	struct me_union u;
	size_t n, i, gone;
	int k;

	me_union_init(&u);
	for (k = 0; k < nsrc; k++) {
		iq_prefixes(&srcs[k], v, &n);
		for (i = 0; i < n; i++)
			cr_assert_eq(
			    me_union_add(&u, srcs[k].list, &v[i], &srcs[k].val, (unsigned int)k),
			    0);
	}
	me_union_merge(&u, &gone);
	me_union_counts(&u, c);
	for (i = 0; i < IQ_POOL; i++)
		tab[i].list = -1;
	for (i = 0; i < u.n; i++) {
		const struct me_urec *r = &u.v[i];

		if (r->family != 4 || r->len != 32 || tab[r->addr[3]].list == ME_LIST_WHITE)
			continue;
		if (r->list == ME_LIST_WHITE || tab[r->addr[3]].list < 0) {
			tab[r->addr[3]].list = r->list;
			tab[r->addr[3]].val = r->val;
		}
	}
	me_union_free(&u);
}

static void iq_keys(const struct iq_src *s, struct ls_keys *k)
{
	struct me_prefix v[IQ_POOL + IQ_NNETS];
	__u32 h4[1];
	size_t n;

	iq_prefixes(s, v, &n);
	cr_assert_eq(ls_keys_make(v, n, h4, 0, k), 0);
}

/*
 * Random sources (lists, verdicts, shared hosts, nested subnets of both
 * lists), then hosts flipped in some of them: the changes the keys give,
 * applied to the old host table, make the new one, and the counts move as
 * the union's do. A subnet changed is refused (-EAGAIN).
 */
Test(union, refresh_from_keys_matches_merge)
{
	static const int acts[] = { ME_ACT_DROP, ME_ACT_RESET, ME_ACT_PASS, ME_ACT_GROUP };
	unsigned int seed = 4242;
	int trial;

	for (trial = 0; trial < 300; trial++) {
		struct iq_src old[IQ_MAXSRC], now[IQ_MAXSRC];
		struct ls_keys ko[IQ_MAXSRC], kn[IQ_MAXSRC];
		struct ls_keys_delta kd[IQ_MAXSRC];
		struct ls_incr_src is[IQ_MAXSRC];
		struct iq_slot to[IQ_POOL], tn[IQ_POOL];
		struct me_union_counts co, cn;
		struct ls_incr inc;
		int nsrc = 1 + (int)(rand_r(&seed) % IQ_MAXSRC), k, i, l, rc;
		int net_change = trial % 10 == 9;
		size_t j;

		memset(old, 0, sizeof(old));
		for (k = 0; k < nsrc; k++) {
			old[k].list = rand_r(&seed) % 3 ? ME_LIST_BLACK : ME_LIST_WHITE;
			old[k].val.action = (__u8)acts[rand_r(&seed) % 4];
			old[k].val.group =
			    old[k].val.action == ME_ACT_GROUP ? (__u16)(1 + rand_r(&seed) % 2) : 0;
			old[k].val.src = (__u8)(ME_SRC_SYNC_FIRST + k);
			for (i = 0; i < IQ_POOL; i++)
				old[k].host[i] = rand_r(&seed) % 4 == 0;
			for (j = 0; j < IQ_NNETS; j++)
				old[k].net[j] = rand_r(&seed) % 3 == 0;
		}
		memcpy(now, old, sizeof(old));
		for (k = 0; k < nsrc; k++) {
			if (rand_r(&seed) % 2)
				continue; /* unchanged */
			for (i = 0; i < 20; i++) {
				int a = rand_r(&seed) % IQ_POOL;

				now[k].host[a] = !now[k].host[a];
			}
		}
		if (net_change)
			now[0].net[0] = !now[0].net[0];
		iq_merge(old, nsrc, to, &co);
		iq_merge(now, nsrc, tn, &cn);
		for (k = 0; k < nsrc; k++) {
			int same = !memcmp(&old[k], &now[k], sizeof(old[k]));

			iq_keys(&old[k], &ko[k]);
			iq_keys(&now[k], &kn[k]);
			is[k].list = old[k].list;
			is[k].val = old[k].val;
			is[k].keys = same ? &ko[k] : &kn[k];
			is[k].delta = NULL;
			memset(&kd[k], 0, sizeof(kd[k]));
			if (!same) { /* fetched: the delta from the old copy's file */
				char *buf;
				size_t len;

				cr_assert_eq(ls_keys_encode(&ko[k], 5, &buf, &len), 0);
				cr_assert_eq(ls_keys_delta(buf, len, 5, &kn[k], &kd[k]), 0);
				free(buf);
				is[k].delta = &kd[k];
			}
		}
		rc = ls_incr_resolve(is, (size_t)nsrc, &inc);
		if (net_change) {
			cr_assert_eq(rc, -EAGAIN,
				     "trial %d: a subnet changed: got %d, want -EAGAIN", trial, rc);
			goto next;
		}
		cr_assert_eq(rc, 0, "trial %d: got %d, want 0", trial, rc);
		for (j = 0; j < inc.n; j++) {
			const struct me_hostchg *c = &inc.chg[j];

			cr_assert(c->addr[0] == 10 && !c->addr[1] && !c->addr[2],
				  "trial %d: a change outside the pool", trial);
			cr_assert(j == 0 || memcmp(inc.chg[j - 1].addr, c->addr, 4) < 0,
				  "trial %d: changes not ascending", trial);
			to[c->addr[3]].list = c->list;
			memset(&to[c->addr[3]].val, 0, sizeof(to[c->addr[3]].val));
			if (c->list >= 0)
				to[c->addr[3]].val = c->val;
		}
		for (i = 0; i < IQ_POOL; i++) {
			cr_assert_eq(to[i].list, tn[i].list,
				     "trial %d: 10.0.0.%d: list %d from the keys, %d merged", trial,
				     i, to[i].list, tn[i].list);
			if (tn[i].list >= 0)
				cr_assert(!memcmp(&to[i].val, &tn[i].val, sizeof(tn[i].val)),
					  "trial %d: 10.0.0.%d: action %d src %d from the keys, "
					  "action %d src %d merged",
					  trial, i, to[i].val.action, to[i].val.src,
					  tn[i].val.action, tn[i].val.src);
		}
		for (l = 0; l < 2; l++)
			cr_assert_eq((long long)co.n[l][0][0] + inc.delta[l],
				     (long long)cn.n[l][0][0],
				     "trial %d: list %d hosts: %zu%+lld from the keys, %zu merged",
				     trial, l, co.n[l][0][0], inc.delta[l], cn.n[l][0][0]);
		ls_incr_free(&inc);
	next:
		for (k = 0; k < nsrc; k++) {
			ls_keys_free(&ko[k]);
			ls_keys_free(&kn[k]);
			ls_keys_delta_free(&kd[k]);
		}
	}
}
