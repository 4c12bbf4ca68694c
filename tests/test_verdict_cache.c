// SPDX-License-Identifier: GPL-2.0
/*
 * test_verdict_cache.c - the proxy's cheap edge lookup: me_verdict_judge with
 * winner_only, and list sync's tables from the process-wide mapping cache
 * (common/synccache.h).
 *
 * winner_only must name the same winner as a full judgement (the verdict,
 * reason, list_hits element, the winning entry with its prefix, and the
 * threshold fields), while taking list sync's subnets from the painted index
 * instead of a walk. Held to that:
 *   - on every row of the BPF table's fixture (lib/bpffix.c: manual and synced
 *     entries of both generations, expired ones included);
 *   - on tables of a few thousand random, deeply nested v4 and v6 prefixes and
 *     hosts of both lists, put in by list sync's own apply (me_sync_apply) on
 *     private maps of the loaded program, plus admin entries, over thousands of
 *     addresses; each address also goes through the program (BPF_PROG_RUN),
 *     whose XDP action must be the judged verdict's;
 *   - on synced prefixes that expired, where the painted entry is not the
 *     winner and winner_only must fall back to the walk.
 * The cache: tables are mapped once and reused across judgements (counted in
 * /proc/self/maps), follow a refresh in place (same map IDs) and a rebuild
 * (new IDs; the old tables let go), and hold up under threads judging while
 * list sync swaps generations: no judgement may mix the hosts of one state
 * with the subnets of another, and nothing stays mapped after a flush.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "counters.h"
#include "edge_load.h"
#include "lists.h"
#include "synccache.h"
#include "verdict.h"
#include "../listsync/sync_apply.h"
#include "../listsync/union.h"
#include "lib/bpffix.h"
#include "lib/pkt.h"
#include "bpf_table_rows.h"

static struct me_prog prog;
static struct me_edge edge;

static void teardown(void)
{
	me_synccache_flush();
	bpffix_close(&prog, &edge);
	memset(&prog, 0, sizeof(prog));
}

TestSuite(verdict_cache, .fini = teardown, .timeout = 120);

/* ---- comparing the two modes ---- */

static int same_prefix(const struct me_prefix *a, const struct me_prefix *b)
{
	return a->family == b->family && a->len == b->len && !memcmp(a->addr, b->addr, 16);
}

static int same_entry(const struct me_entry *a, const struct me_entry *b)
{
	return a->action == b->action && a->src == b->src && a->group == b->group &&
	       a->expires == b->expires;
}

/* Does fast name the same winner as full? why says what differs. */
static int same_winner(const struct me_vresult *full, const struct me_vresult *fast, char *why,
		       size_t len)
{
	const struct me_vmatch *a, *b;
	char pa[ME_PREFIX_STRLEN], pb[ME_PREFIX_STRLEN];

	if (full->verdict != fast->verdict || full->reason != fast->reason ||
	    full->hit != fast->hit) {
		snprintf(why, len, "full %s/%s hit %u, winner_only %s/%s hit %u",
			 me_verdict_name(full->verdict), me_reason_name(full->reason), full->hit,
			 me_verdict_name(fast->verdict), me_reason_name(fast->reason), fast->hit);
		return 0;
	}
	if ((full->winner < 0) != (fast->winner < 0)) {
		snprintf(why, len, "full winner %d, winner_only winner %d", full->winner,
			 fast->winner);
		return 0;
	}
	if (full->ban_until_ns != fast->ban_until_ns || full->ban_live != fast->ban_live ||
	    full->limited != fast->limited || full->counted_len != fast->counted_len ||
	    memcmp(&full->key, &fast->key, sizeof(full->key))) {
		snprintf(why, len, "threshold fields differ");
		return 0;
	}
	if (fast->n > full->n) {
		snprintf(why, len, "winner_only listed %zu entries, full only %zu", fast->n,
			 full->n);
		return 0;
	}
	if (full->winner < 0)
		return 1;
	a = &full->m[full->winner];
	b = &fast->m[fast->winner];
	me_prefix_format(&a->rec.pfx, pa, sizeof(pa));
	me_prefix_format(&b->rec.pfx, pb, sizeof(pb));
	if (a->rec.list != b->rec.list || !same_prefix(&a->rec.pfx, &b->rec.pfx) ||
	    !same_entry(&a->rec.val, &b->rec.val) || a->reason != b->reason ||
	    a->synced != b->synced || a->expired != b->expired) {
		snprintf(why, len,
			 "full winner %s list %d action %u group %u synced %d, winner_only %s "
			 "list %d action %u group %u synced %d",
			 pa, a->rec.list, a->rec.val.action, a->rec.val.group, a->synced, pb,
			 b->rec.list, b->rec.val.action, b->rec.val.group, b->synced);
		return 0;
	}
	return 1;
}

struct pair {
	struct me_vresult full, fast;
};

/* Judge src both ways, as the proxy and lookup ask (a SYN to port 25); fails
 * the test if either errs or they disagree. */
static void judge_both(struct pair *p, const struct me_prefix *src, const char *what)
{
	struct me_vquery q = { .src = *src, .syn = 1, .answerable = 1, .dport = 25 };
	char addr[ME_PREFIX_STRLEN], why[512];
	int rc;

	me_prefix_format(src, addr, sizeof(addr));
	rc = me_verdict_judge(&edge, &q, &p->full);
	cr_assert_eq(rc, 0, "%s %s: full judgement: %s", what, addr, strerror(-rc));
	q.winner_only = 1;
	rc = me_verdict_judge(&edge, &q, &p->fast);
	cr_assert_eq(rc, 0, "%s %s: winner_only judgement: %s", what, addr, strerror(-rc));
	cr_assert(same_winner(&p->full, &p->fast, why, sizeof(why)), "%s %s: %s", what, addr, why);
}

static void parse(const char *s, struct me_prefix *p)
{
	cr_assert_eq(me_prefix_parse(s, p, 0), 0, "prefix %s", s);
}

/* ---- the BPF table's fixture ---- */

static void set_gen(__u32 gen)
{
	struct me_config c;
	__u32 zero = 0;

	cr_assert_eq(bpf_map_lookup_elem(edge.fd[ME_M_CONFIG], &zero, &c), 0, "reading config");
	c.sync_gen = gen;
	cr_assert_eq(bpf_map_update_elem(edge.fd[ME_M_CONFIG], &zero, &c, BPF_ANY), 0,
		     "writing config: %s", strerror(errno));
}

Test(verdict_cache, winner_only_matches_full_on_bpf_fixture)
{
	struct pair *p = calloc(1, sizeof(*p));
	size_t t, i, judged = 0, net_wins = 0;

	cr_assert_not_null(p);
	bpffix_load_lists(&prog, &edge);
	for (t = 0; t < bpffix_ntables; t++)
		for (i = 0; i < bpffix_tables[t].n; i++) {
			const struct row *r = &bpffix_tables[t].rows[i];
			struct me_prefix src;
			char what[160];

			if (r->refused || r->want.reason == ME_R_NONIP ||
			    r->want.reason == ME_R_MALFORMED)
				continue; /* the frame decides, not its source */
			parse(r->f.src, &src);
			set_gen(r->gen);
			snprintf(what, sizeof(what), "%s '%s'", bpffix_tables[t].name, r->desc);
			judge_both(p, &src, what);
			judged++;
			net_wins +=
			    p->fast.winner >= 0 && p->fast.m[p->fast.winner].synced &&
			    (p->fast.reason == ME_R_WHITE_NET || p->fast.reason == ME_R_BLACK_NET);
		}
	free(p);
	cr_expect_geq(judged, 100, "judged %zu rows, want most of the table", judged);
	cr_expect_gt(net_wins, 0, "no row was won by a synced subnet: the fast path went untested");
}

/* ---- random nested lists through list sync's apply ---- */

static __u32 rng_state = 0x9e3779b9u;

static __u32 rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static const struct me_sizes sizes = {
	.hosts = 8192,
	.white_hosts = 8192,
	.subnets = 8192,
	.rate_entries = 1024,
	.ban_entries = 1024,
};

static void load_maps(void)
{
	char why[256] = "";
	int created = 0;

	cr_assert_eq(me_prog_load(&prog, NULL, &sizes, &edge, &created, why, sizeof(why)), 0,
		     "loading the XDP program: %s", why);
	cr_assert_eq(me_edge_defaults(&edge), 0, "writing the default config: %s", strerror(errno));
}

static void apply(const struct me_union *u, int full, struct me_apply_stats *st)
{
	struct me_apply_stats own;
	char why[256] = "";
	int rc;

	rc = me_sync_apply_mode(&edge, u, full, NULL, st ? st : &own, why, sizeof(why));
	cr_assert_eq(rc, 0, "me_sync_apply: %s", why);
}

static void manual(int list, const char *pfx, __u8 action, __u16 group, int expired)
{
	struct me_rec r = { .list = list,
			    .val = { .action = action,
				     .src = ME_SRC_MANUAL,
				     .group = group,
				     .expires = expired ? me_boot_seconds() - 1 : 0 } };
	enum me_map_id full;

	parse(pfx, &r.pfx);
	cr_assert_eq(me_manual_apply(&edge, &r, 1, &full), 0, "manual entry %s", pfx);
}

static void rand_entry(struct me_entry *e, int list)
{
	static const __u8 actions[] = { ME_ACT_DROP, ME_ACT_RESET, ME_ACT_PASS, ME_ACT_GROUP };

	memset(e, 0, sizeof(*e));
	e->action = list == ME_LIST_WHITE && rnd() % 2 ? ME_ACT_PASS : actions[rnd() % 4];
	e->group = e->action == ME_ACT_GROUP ? (__u16)(1 + rnd() % 5) : 0;
	e->src = (__u8)(ME_SRC_SYNC_FIRST + rnd() % 3);
}

/* A random v4 address in 10.0.0.0/12, or a v6 one in 2001:db8::/32 whose
 * bits 32..63 take few values: both regions dense with nested prefixes. */
static void rand_addr(int v6, struct me_prefix *p)
{
	__u32 w;
	int i;

	memset(p, 0, sizeof(*p));
	if (!v6) {
		p->family = AF_INET;
		p->len = 32;
		w = htonl(0x0a000000u | (rnd() & 0x000fffffu));
		memcpy(p->addr, &w, 4);
		return;
	}
	p->family = AF_INET6;
	p->len = 128;
	parse("2001:db8::", p);
	p->len = 128;
	p->addr[4] = (__u8)(rnd() % 3);
	p->addr[5] = (__u8)(rnd() % 4);
	p->addr[6] = (__u8)(rnd() % 2);
	p->addr[7] = (__u8)(rnd() % 16);
	for (i = 8; i < 16; i++)
		p->addr[i] = (__u8)rnd();
}

/* Addresses to judge: the listed ones' neighbourhoods and the region. */
struct pool {
	struct me_prefix *v;
	size_t n, cap;
};

static void pool_add(struct pool *pl, const struct me_prefix *p)
{
	if (pl->n == pl->cap) {
		pl->cap = pl->cap ? pl->cap * 2 : 1024;
		pl->v = realloc(pl->v, pl->cap * sizeof(*pl->v));
		cr_assert_not_null(pl->v);
	}
	pl->v[pl->n++] = *p;
}

/* A host inside p (random host bits). */
static void host_in(const struct me_prefix *p, struct me_prefix *h)
{
	unsigned int max = me_prefix_maxlen(p->family), b;

	*h = *p;
	h->len = max;
	for (b = p->len; b < max; b++)
		if (rnd() & 1)
			h->addr[b / 8] |= (__u8)(0x80 >> (b % 8));
}

static void fill_random(struct me_union *u, struct pool *hosts, struct pool *nets)
{
	struct me_prefix p;
	struct me_entry e;
	size_t dropped;
	int i, v6, list;

	me_union_init(u);
	for (v6 = 0; v6 < 2; v6++) {
		for (i = 0; i < (v6 ? 600 : 1500); i++) {
			/* Whites short enough to cover much would leave the black
			 * steps nothing to win: they are /20 (v4) or /64 (v6) and
			 * longer, blacks of any length. */
			rand_addr(v6, &p);
			list = (int)(rnd() % 2);
			if (v6)
				p.len = list == ME_LIST_WHITE ? 64 + rnd() % 64 : 32 + rnd() % 96;
			else
				p.len = list == ME_LIST_WHITE ? 20 + rnd() % 12 : 12 + rnd() % 20;
			me_prefix_mask(&p);
			rand_entry(&e, list);
			cr_assert_eq(me_union_add(u, list, &p, &e, 0), 0);
			pool_add(nets, &p);
		}
		for (i = 0; i < (v6 ? 200 : 600); i++) {
			rand_addr(v6, &p);
			list = (int)(rnd() % 2);
			rand_entry(&e, list);
			cr_assert_eq(me_union_add(u, list, &p, &e, 0), 0);
			pool_add(hosts, &p);
		}
	}
	me_union_merge(u, &dropped);
}

static __u32 xdp_of(__u32 verdict)
{
	return verdict == ME_V_DROP ? XDP_DROP : verdict == ME_V_RESET ? XDP_TX : XDP_PASS;
}

/* The program's XDP action for a SYN from src to port 25. */
static __u32 kernel_action(const struct me_prefix *src)
{
	char addr[ME_PREFIX_STRLEN];
	struct pkt_spec s = { .family = src->family,
			      .src = addr,
			      .dst = src->family == AF_INET6 ? GW6 : GW4,
			      .tcp_flags = TF_SYN,
			      .sport = 40001,
			      .dport = 25 };
	__u8 in[PKT_MAX], out[PKT_MAX + 256];
	size_t len;

	me_prefix_format(src, addr, sizeof(addr));
	len = pkt_build(&s, in, sizeof(in));
	cr_assert_gt(len, 0, "building a frame from %s", addr);
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = (__u32)len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);
	cr_assert_eq(bpf_prog_test_run_opts(me_prog_fd(&prog), &o), 0, "BPF_PROG_RUN: %s",
		     strerror(errno));
	return o.retval;
}

Test(verdict_cache, winner_only_matches_full_on_random_nested_lists)
{
	struct pool hosts = { 0 }, nets = { 0 }, probe = { 0 };
	struct pair *p = calloc(1, sizeof(*p));
	size_t i, by_reason[ME_R_MAX] = { 0 }, synced_nets = 0;
	struct me_prefix a;
	struct me_union u;
	int v6;

	cr_assert_not_null(p);
	load_maps();
	/* The admin's entries, some expired, over and under synced ones. */
	manual(ME_LIST_WHITE, "10.1.2.3", ME_ACT_PASS, 0, 0);
	manual(ME_LIST_BLACK, "10.1.2.4", ME_ACT_DROP, 0, 0);
	manual(ME_LIST_BLACK, "10.1.2.5", ME_ACT_DROP, 0, 1);
	manual(ME_LIST_BLACK, "10.2.0.0/16", ME_ACT_RESET, 0, 0);
	manual(ME_LIST_BLACK, "10.2.3.0/24", ME_ACT_DROP, 0, 1);
	manual(ME_LIST_WHITE, "10.3.0.0/20", ME_ACT_PASS, 0, 0);
	manual(ME_LIST_WHITE, "2001:db8:1::1", ME_ACT_PASS, 0, 0);
	manual(ME_LIST_BLACK, "2001:db8:1:2::/64", ME_ACT_GROUP, 3, 0);
	manual(ME_LIST_BLACK, "2001:db8:2::/48", ME_ACT_DROP, 0, 0);
	fill_random(&u, &hosts, &nets);
	apply(&u, 0, NULL);

	for (i = 0; i < hosts.n; i += 2)
		pool_add(&probe, &hosts.v[i]);
	for (i = 0; i < nets.n; i++) {
		host_in(&nets.v[i], &a);
		pool_add(&probe, &a);
	}
	for (i = 0; i < 1500; i++) {
		rand_addr(i % 3 == 0, &a);
		pool_add(&probe, &a);
	}
	/* the admin's entries, their neighbours, and addresses in no list */
	static const char *const fixed[] = {
		"10.1.2.3",	 "10.1.2.4",	   "10.1.2.5",	      "10.2.3.9",
		"10.2.200.1",	 "10.3.15.1",	   "11.0.0.1",	      "2001:db8:1::1",
		"2001:db8:1:2::7", "2001:db8:2:5::1", "2001:db9::1",
	};
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		parse(fixed[i], &a);
		pool_add(&probe, &a);
	}

	for (i = 0; i < probe.n; i++) {
		char addr[ME_PREFIX_STRLEN];
		__u32 act;

		judge_both(p, &probe.v[i], "random lists");
		by_reason[p->fast.reason < ME_R_MAX ? p->fast.reason : 0]++;
		synced_nets +=
		    p->fast.winner >= 0 && p->fast.m[p->fast.winner].synced &&
		    (p->fast.reason == ME_R_WHITE_NET || p->fast.reason == ME_R_BLACK_NET);
		act = kernel_action(&probe.v[i]);
		me_prefix_format(&probe.v[i], addr, sizeof(addr));
		cr_assert_eq(act, xdp_of(p->fast.verdict),
			     "%s: the program gave XDP action %u, winner_only judged %s/%s", addr,
			     act, me_verdict_name(p->fast.verdict), me_reason_name(p->fast.reason));
	}
	/* Not vacuous: every step won somewhere, most of all synced subnets. */
	for (v6 = 0; v6 < 4; v6++) {
		static const __u32 steps[] = { ME_R_WHITE_HOST, ME_R_WHITE_NET, ME_R_BLACK_HOST,
					       ME_R_BLACK_NET };

		cr_expect_gt(by_reason[steps[v6]], 0, "no address was judged %s",
			     me_reason_name(steps[v6]));
	}
	cr_expect_gt(by_reason[ME_R_CLEAN], 0, "no address was clean");
	cr_expect_geq(synced_nets, 1000, "only %zu addresses won by a synced subnet", synced_nets);
	cr_log_info("%zu addresses judged both ways and by the program; %zu won by synced subnets",
		    probe.n, synced_nets);
	me_union_free(&u);
	free(hosts.v);
	free(nets.v);
	free(probe.v);
	free(p);
}

/* ---- synced prefixes that expired: the painted entry is not the winner ---- */

static void add_sync(struct me_union *u, int list, const char *pfx, __u8 action, __u16 group,
		     int expired)
{
	struct me_entry e = { .action = action,
			      .src = ME_SRC_SYNC_FIRST,
			      .group = group,
			      .expires = expired ? me_boot_seconds() - 1 : 0 };
	struct me_prefix p;

	parse(pfx, &p);
	cr_assert_eq(me_union_add(u, list, &p, &e, 0), 0);
}

Test(verdict_cache, winner_only_walks_when_painted_entry_expired)
{
	static const struct {
		const char *addr;
		__u32 reason;
		const char *winner; /* prefix of the winning entry */
	} cases[] = {
		/* painted by the expired white /24: the live white /16 wins */
		{ "10.50.1.5", ME_R_WHITE_NET, "10.50.0.0/16" },
		{ "10.50.1.100", ME_R_WHITE_NET, "10.50.0.0/16" },
		/* painted by the /16 itself */
		{ "10.50.2.1", ME_R_WHITE_NET, "10.50.0.0/16" },
		/* painted by the expired black /24: the live black /16 wins */
		{ "10.60.1.1", ME_R_BLACK_NET, "10.60.0.0/16" },
		{ "10.60.9.1", ME_R_BLACK_NET, "10.60.0.0/16" },
		{ "2001:db8:5:1::1", ME_R_WHITE_NET, "2001:db8:5::/48" },
		{ "10.70.0.1", ME_R_CLEAN, NULL },
	};
	struct pair *p = calloc(1, sizeof(*p));
	struct me_union u;
	size_t i, dropped;

	cr_assert_not_null(p);
	load_maps();
	me_union_init(&u);
	add_sync(&u, ME_LIST_WHITE, "10.50.0.0/16", ME_ACT_GROUP, 4, 0);
	add_sync(&u, ME_LIST_WHITE, "10.50.1.0/24", ME_ACT_GROUP, 6, 1);
	add_sync(&u, ME_LIST_BLACK, "10.50.1.0/28", ME_ACT_DROP, 0, 0);
	add_sync(&u, ME_LIST_BLACK, "10.60.0.0/16", ME_ACT_DROP, 0, 0);
	add_sync(&u, ME_LIST_BLACK, "10.60.1.0/24", ME_ACT_RESET, 0, 1);
	add_sync(&u, ME_LIST_WHITE, "2001:db8:5::/48", ME_ACT_PASS, 0, 0);
	add_sync(&u, ME_LIST_WHITE, "2001:db8:5:1::/64", ME_ACT_GROUP, 2, 1);
	me_union_merge(&u, &dropped);
	apply(&u, 0, NULL);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct me_prefix a, w;

		parse(cases[i].addr, &a);
		judge_both(p, &a, "expired synced prefixes");
		cr_expect_eq(p->fast.reason, cases[i].reason, "%s: got reason %s, want %s",
			     cases[i].addr, me_reason_name(p->fast.reason),
			     me_reason_name(cases[i].reason));
		if (!cases[i].winner) {
			cr_expect_eq(p->fast.winner, -1, "%s: want no winner", cases[i].addr);
			continue;
		}
		parse(cases[i].winner, &w);
		cr_assert_geq(p->fast.winner, 0, "%s: want a winner", cases[i].addr);
		cr_expect(same_prefix(&p->fast.m[p->fast.winner].rec.pfx, &w),
			  "%s: want the winner %s", cases[i].addr, cases[i].winner);
	}
	me_union_free(&u);
	free(p);
}

/* ---- the cache ---- */

/* Mappings of BPF maps in this process (the loaded program's own global
 * data included: compare differences). */
static int bpf_mappings(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int n = 0;

	cr_assert_not_null(f, "/proc/self/maps: %s", strerror(errno));
	while (fgets(line, sizeof(line), f))
		n += strstr(line, "bpf-map") != NULL;
	fclose(f);
	return n;
}

/* The table ID in generation gen's slot of an outer map. */
static __u32 slot_id(enum me_map_id outer, __u32 gen)
{
	__u32 id = 0;

	cr_assert_eq(bpf_map_lookup_elem(edge.fd[outer], &gen, &id), 0, "outer slot %u", gen);
	return id;
}

static __u32 cur_gen(void)
{
	struct me_config c;
	__u32 zero = 0;

	cr_assert_eq(bpf_map_lookup_elem(edge.fd[ME_M_CONFIG], &zero, &c), 0, "reading config");
	return c.sync_gen & 1;
}

/* Wait until no map has this ID (its last holder gone): 1, or 0. */
static int id_gone(__u32 id)
{
	for (int tries = 0; tries < 200; tries++) {
		int fd = bpf_map_get_fd_by_id(id);

		if (fd < 0 && errno == ENOENT)
			return 1;
		if (fd >= 0)
			close(fd);
		usleep(10000);
	}
	return 0;
}

/* One state of the lists: host H and subnet N around it. */
#define H "10.9.8.7"
#define N "10.9.8.0/24"

static void state(struct me_union *u, int host_list, __u16 host_group, int net_list,
		  __u16 net_group)
{
	size_t dropped;

	me_union_init(u);
	add_sync(u, host_list, H, ME_ACT_GROUP, host_group, 0);
	add_sync(u, net_list, N, ME_ACT_GROUP, net_group, 0);
	me_union_merge(u, &dropped);
}

/* The winner's list and group for addr, winner_only. */
static void judged(const char *addr, int *list, int *group, __u32 *reason)
{
	struct me_vquery q = { .winner_only = 1 };
	struct me_vresult *r = calloc(1, sizeof(*r));
	int rc;

	cr_assert_not_null(r);
	parse(addr, &q.src);
	rc = me_verdict_judge(&edge, &q, r);
	cr_assert_eq(rc, 0, "judging %s: %s", addr, strerror(-rc));
	*list = r->winner >= 0 ? r->m[r->winner].rec.list : -1;
	*group = r->winner >= 0 ? r->m[r->winner].rec.val.group : -1;
	*reason = r->reason;
	free(r);
}

Test(verdict_cache, tables_mapped_once_follow_refresh_and_rebuild)
{
	struct me_union s1, s2, s3;
	struct me_apply_stats st;
	__u32 host_id, net_id, reason;
	int base, list, group, i;

	load_maps();
	state(&s1, ME_LIST_WHITE, 1, ME_LIST_BLACK, 5);
	apply(&s1, 0, NULL);
	base = bpf_mappings();

	judged(H, &list, &group, &reason);
	cr_expect(list == ME_LIST_WHITE && group == 1, "state 1, " H ": got list %d group %d", list,
		  group);
	judged("10.9.8.1", &list, &group, &reason);
	cr_expect(list == ME_LIST_BLACK && group == 5 && reason == ME_R_BLACK_NET,
		  "state 1, 10.9.8.1: got list %d group %d", list, group);
	cr_expect_eq(bpf_mappings(), base + 2, "after judging: got %d table mappings, want 2",
		     bpf_mappings() - base);
	for (i = 0; i < 500; i++)
		judged(i % 2 ? H : "10.9.8.1", &list, &group, &reason);
	cr_expect_eq(bpf_mappings(), base + 2,
		     "after 500 more judgements: got %d table mappings, want the same 2",
		     bpf_mappings() - base);

	/* a refresh in place: the host table takes the change, same map ID */
	host_id = slot_id(ME_M_SYNC_HOST4, cur_gen());
	net_id = slot_id(ME_M_SYNC_NET4, cur_gen());
	state(&s2, ME_LIST_BLACK, 2, ME_LIST_BLACK, 5);
	apply(&s2, 0, &st);
	cr_assert(st.in_place, "want a refresh in place");
	cr_assert_eq(slot_id(ME_M_SYNC_HOST4, cur_gen()), host_id, "host table replaced");
	judged(H, &list, &group, &reason);
	cr_expect(list == ME_LIST_BLACK && group == 2 && reason == ME_R_BLACK_HOST,
		  "state 2 (in place), " H ": got list %d group %d reason %s", list, group,
		  me_reason_name(reason));
	cr_expect_eq(bpf_mappings(), base + 2, "after the refresh: got %d table mappings, want 2",
		     bpf_mappings() - base);

	/* a rebuild: new tables, and the old ones let go at the first miss */
	state(&s3, ME_LIST_BLACK, 2, ME_LIST_WHITE, 3);
	apply(&s3, 1, &st);
	cr_assert(!st.in_place, "want a rebuild");
	cr_assert_neq(slot_id(ME_M_SYNC_HOST4, cur_gen()), host_id, "host table kept");
	judged(H, &list, &group, &reason);
	cr_expect(list == ME_LIST_WHITE && group == 3 && reason == ME_R_WHITE_NET,
		  "state 3 (rebuilt), " H ": got list %d group %d reason %s", list, group,
		  me_reason_name(reason));
	cr_expect_eq(bpf_mappings(), base + 2, "after the rebuild: got %d table mappings, want 2",
		     bpf_mappings() - base);
	cr_expect(id_gone(host_id), "replaced host table id=%u: still held", host_id);
	cr_expect(id_gone(net_id), "replaced subnet table id=%u: still held", net_id);

	me_synccache_flush();
	cr_expect_eq(bpf_mappings(), base, "after a flush: got %d table mappings, want none",
		     bpf_mappings() - base);
	me_union_free(&s1);
	me_union_free(&s2);
	me_union_free(&s3);
}

/* Threads judge H while list sync swaps between two states:
 *   A: H white host group 1, N black group 5  -> white host, group 1
 *   B: H black host group 2, N white group 3  -> white net, group 3
 * B's hosts with A's subnets would judge H black host, group 2: a mixed state. */
#define THREADS 3
#define SWAPS	8 /* even: the last state is a */

struct worker {
	pthread_t t;
	atomic_int *stop;
	long seen_a, seen_b, mixed, again, errors;
	int last_rc;
};

static void *judge_loop(void *arg)
{
	struct worker *w = arg;
	struct me_vresult *r = calloc(1, sizeof(*r));
	struct me_vquery q = { 0 };
	long n = 0;

	if (!r)
		return NULL;
	me_prefix_parse(H, &q.src, 0);
	while (!atomic_load(w->stop)) {
		int rc;

		q.winner_only = (int)(n++ % 2);
		rc = me_verdict_judge(&edge, &q, r);
		if (rc == -EAGAIN) {
			w->again++;
			continue;
		}
		if (rc) {
			w->errors++;
			w->last_rc = rc;
			continue;
		}
		if (r->reason == ME_R_WHITE_HOST && r->m[r->winner].rec.val.group == 1)
			w->seen_a++;
		else if (r->reason == ME_R_WHITE_NET && r->m[r->winner].rec.val.group == 3)
			w->seen_b++;
		else
			w->mixed++;
	}
	free(r);
	return NULL;
}

Test(verdict_cache, threads_never_judge_half_swapped_lists)
{
	struct worker w[THREADS];
	struct me_union a, b;
	atomic_int stop = 0;
	int base, i, list, group;
	long total = 0, total_a = 0, total_b = 0;
	__u32 reason;

	load_maps();
	state(&a, ME_LIST_WHITE, 1, ME_LIST_BLACK, 5);
	state(&b, ME_LIST_BLACK, 2, ME_LIST_WHITE, 3);
	apply(&a, 0, NULL);
	base = bpf_mappings();
	memset(w, 0, sizeof(w));
	for (i = 0; i < THREADS; i++) {
		w[i].stop = &stop;
		cr_assert_eq(pthread_create(&w[i].t, NULL, judge_loop, &w[i]), 0, "pthread_create");
	}
	/* rebuilds and refreshes in place, alternating the states */
	for (i = 0; i < SWAPS; i++)
		apply(i % 2 ? &a : &b, i % 3 == 0, NULL);
	usleep(20000);
	atomic_store(&stop, 1);
	for (i = 0; i < THREADS; i++) {
		pthread_join(w[i].t, NULL);
		total_a += w[i].seen_a;
		total_b += w[i].seen_b;
		cr_expect_eq(w[i].mixed, 0, "thread %d: %ld judgements of a half-swapped state", i,
			     w[i].mixed);
		cr_expect_eq(w[i].errors, 0, "thread %d: %ld errors, the last %s", i, w[i].errors,
			     strerror(-w[i].last_rc));
		cr_expect_gt(w[i].seen_a + w[i].seen_b, 0, "thread %d judged nothing", i);
		cr_expect_leq(w[i].again, (w[i].seen_a + w[i].seen_b) / 10 + 1,
			      "thread %d: %ld judgements gave up (-EAGAIN)", i, w[i].again);
	}
	total = total_a + total_b;
	/* Both states were judged: the swaps happened under the threads. */
	cr_expect(total_a > 0 && total_b > 0, "judged state a %ld times, b %ld times: want both",
		  total_a, total_b);
	cr_log_info("%ld judgements while list sync swapped %d times", total, SWAPS);
	/* the last state is a's */
	judged(H, &list, &group, &reason);
	cr_expect(list == ME_LIST_WHITE && group == 1 && reason == ME_R_WHITE_HOST,
		  "after the swaps: got list %d group %d reason %s", list, group,
		  me_reason_name(reason));
	me_synccache_flush();
	cr_expect_eq(bpf_mappings(), base, "after a flush: %d table mappings left",
		     bpf_mappings() - base);
	me_union_free(&a);
	me_union_free(&b);
}
