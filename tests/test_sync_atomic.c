// SPDX-License-Identifier: GPL-2.0
/*
 * test_sync_atomic.c - no packet is ever judged against a half-applied list.
 *
 * Two unions, U1 and U2, differ in 60,000 hosts (so that building each takes a
 * while) but agree on a few sources: 192.0.2.66 and 198.51.100.0/24 blacklisted
 * in both, 198.51.100.7 whitelisted in both, 192.0.2.10 and 2001:db8::10 in
 * neither, 2001:db8:bad::/48 blacklisted in both. Whichever union a packet sees,
 * those sources get the same verdict. Worker threads run the real XDP program
 * through BPF_PROG_RUN on every CPU, as fast as they can, with frames from those
 * sources, while the main thread swaps U1 and U2 in with me_sync_apply, again
 * and again. A single frame with the wrong verdict fails the test.
 *
 * The control test edits the live table in place instead (takes a shared entry
 * out of the generation in use and puts it back) and must catch misjudged frames, so the detector itself is
 * shown to work: a test that could not fail would prove nothing.
 *
 * sync_live repeats the experiment with real traffic through a lab gateway and
 * real mailedge-listsync runs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <stdarg.h>
#include <criterion/criterion.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "counters.h"
#include "edge_load.h"
#include "lists.h"
#include "log.h"
#include "synctab.h"
#include "../listsync/sync_apply.h"
#include "../listsync/table_build.h"
#include "table.h"
#include "../listsync/union.h"
#include "../listsync/warm.h"
#include "lib/pkt.h"
#include "lib/testenv.h"
#include "lib/traffic.h"

#define FILLER_HOSTS 60000
#define SWAPS	     100
#define WORKERS	     2

struct probe {
	const char *src;
	int family;
	__u32 want; /* XDP action */
};

static const struct probe probes[] = {
	{ "192.0.2.66", AF_INET, XDP_DROP },	/* black host in both */
	{ "198.51.100.20", AF_INET, XDP_DROP }, /* inside the black /24 in both */
	{ "198.51.100.7", AF_INET, XDP_PASS },	/* white host inside it, both */
	{ "192.0.2.10", AF_INET, XDP_PASS },	/* in neither */
	{ "2001:db8:bad::1", AF_INET6, XDP_DROP },
	{ "2001:db8::10", AF_INET6, XDP_PASS },
};
#define NPROBES (sizeof(probes) / sizeof(probes[0]))

static struct me_prog prog;
static struct me_edge edge;
static unsigned char frames[NPROBES][128];
static __u32 lens[NPROBES];
static atomic_int stop;
static atomic_ullong runs, wrong;
static atomic_int wrong_probe = -1;

static void setup(void)
{
	struct me_sizes sz = { .hosts = 262144, .white_hosts = 1024, .subnets = 1024,
			       .rate_entries = 1024, .ban_entries = 1024 };
	char why[256];
	size_t i;
	int created;

	cr_assert_eq(me_prog_load(&prog, NULL, &sz, &edge, &created, why, sizeof(why)), 0,
		     "loading the program: %s", why);
	cr_assert_eq(me_edge_defaults(&edge), 0);
	for (i = 0; i < NPROBES; i++) {
		struct pkt_spec p = { .family = probes[i].family, .src = probes[i].src,
				      .dst = probes[i].family == AF_INET ? "192.0.2.1"
									   : "2001:db8::1",
				      .l4 = 6, .sport = 40000, .dport = 25,
				      .tcp_flags = TF_SYN };

		lens[i] = (__u32)pkt_build(&p, frames[i], sizeof(frames[i]));
		cr_assert_gt(lens[i], 0u);
	}
}

static void teardown(void)
{
	me_edge_close(&edge);
	me_prog_close(&prog);
}

TestSuite(sync_atomic, .init = setup, .fini = teardown, .timeout = 120);

static void add(struct me_union *u, int list, const char *cidr, int action, int src)
{
	struct me_prefix p;
	struct me_entry v = { .action = (__u8)action, .src = (__u8)src };

	cr_assert_eq(me_prefix_parse(cidr, &p, 0), 0, "%s", cidr);
	cr_assert_eq(me_union_add(u, list, &p, &v, 0), 0);
}

/* n blacklisted IPv4 hosts from first (host byte order) on, with priority prio. */
static void add_hosts(struct me_union *u, __u32 first, __u32 n, unsigned int prio)
{
	struct me_entry v = { .action = ME_ACT_DROP, .src = 20 };
	struct me_prefix p = { .family = AF_INET, .len = 32 };
	__u32 i, a;

	for (i = 0; i < n; i++) {
		a = htonl(first + i);
		memcpy(p.addr, &a, 4);
		cr_assert_eq(me_union_add(u, ME_LIST_BLACK, &p, &v, prio), 0);
	}
}

/* The shared entries plus FILLER_HOSTS hosts numbered from base. */
static void build(struct me_union *u, __u32 base)
{
	size_t removed;

	me_union_init(u);
	add(u, ME_LIST_BLACK, "192.0.2.66", ME_ACT_DROP, 16);
	add(u, ME_LIST_BLACK, "198.51.100.0/24", ME_ACT_DROP, 16);
	add(u, ME_LIST_WHITE, "198.51.100.7", ME_ACT_PASS, 17);
	add(u, ME_LIST_BLACK, "2001:db8:bad::/48", ME_ACT_DROP, 16);
	add_hosts(u, 0x0a000000u + base, FILLER_HOSTS, 1); /* 10.x: only loaded, never sent */
	me_union_merge(u, &removed);
}

/* Run the program once on probe i's frame; its verdict in *verdict. */
static int judge(size_t i, __u32 *verdict)
{
	unsigned char out[256];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frames[i], .data_size_in = lens[i],
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);
	int rc = bpf_prog_test_run_opts(me_prog_fd(&prog), &o);

	*verdict = o.retval;
	return rc;
}

static void *worker(void *arg)
{
	unsigned long long n = 0;
	size_t i = (size_t)(long)arg;
	__u32 verdict;

	while (!atomic_load(&stop)) {
		if (judge(i % NPROBES, &verdict))
			break;
		if (verdict != probes[i % NPROBES].want) {
			atomic_fetch_add(&wrong, 1);
			atomic_store(&wrong_probe, (int)(i % NPROBES));
		}
		n++;
		i++;
	}
	atomic_fetch_add(&runs, n);
	return NULL;
}

static void start_workers(pthread_t *t)
{
	long i;

	atomic_store(&stop, 0);
	atomic_store(&runs, 0);
	atomic_store(&wrong, 0);
	for (i = 0; i < WORKERS; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, worker, (void *)i), 0);
}

static void stop_workers(pthread_t *t)
{
	int i;

	atomic_store(&stop, 1);
	for (i = 0; i < WORKERS; i++)
		pthread_join(t[i], NULL);
}

/* 100 flips, both ways list sync makes them: refreshes in place (1% of the
 * hosts changed), refreshes that change everything (no room in place: the
 * tables are rebuilt) and explicit rebuilds. */
Test(sync_atomic, swaps_never_misjudge)
{
	struct me_union u[3];
	struct me_apply_stats st;
	struct ls_warm w;
	pthread_t t[WORKERS];
	char why[256];
	int i, in_place = 0, rebuilt = 0, warmed = 0;

	build(&u[0], 0);
	build(&u[1], FILLER_HOSTS / 100);
	build(&u[2], FILLER_HOSTS);
	/* Each of the dozens of planned rebuilds says why at info level; in a
	 * log of the whole run those lines would bury what failed. */
	log_set_level(ME_LOG_WARN);
	cr_assert_eq(me_sync_apply(&edge, &u[0], &st, why, sizeof(why)), 0, "%s", why);

	start_workers(t);
	for (i = 0; i < SWAPS; i++) {
		/* u1, u0, u2, u0, ...; every fifth one an explicit rebuild */
		int next = i % 2 == 0 ? 1 + (i / 2) % 2 : 0;

		/* Every other one writes through a mapping warmed ahead
		 * (warm.h), its pass over the table racing the traffic. */
		if (i % 2)
			ls_warm_start(&w, &edge);
		cr_assert_eq(me_sync_apply_mode(&edge, &u[next], i % 5 == 4, i % 2 ? &w : NULL,
						&st, why, sizeof(why)),
			     0, "swap %d: %s", i, why);
		if (i % 2)
			ls_warm_free(&w);
		if (st.in_place)
			in_place++;
		else
			rebuilt++;
		warmed += st.warm;
	}
	stop_workers(t);
	for (i = 0; i < 3; i++)
		me_union_free(&u[i]);

	cr_log_info("%d swaps of %d entries (%d in place, %d rebuilt), %llu frames judged during "
		    "them",
		    SWAPS, FILLER_HOSTS + 4, in_place, rebuilt, (unsigned long long)atomic_load(&runs));
	cr_assert_geq(in_place, 20, "refreshes in place: got %d of %d, want >= 20", in_place, SWAPS);
	cr_assert_geq(rebuilt, 20, "rebuilds: got %d of %d, want >= 20", rebuilt, SWAPS);
	cr_assert_geq(warmed, 10, "refreshes through a warmed mapping: got %d of %d, want >= 10",
		      warmed, SWAPS);
	cr_assert_gt(atomic_load(&runs), 10000ull,
		     "frames judged during the swaps: got %llu, want > 10000 (the test must "
		     "overlap traffic with swaps)",
		     (unsigned long long)atomic_load(&runs));
	cr_assert_eq(atomic_load(&wrong), 0ull,
		     "misjudged frames during %d swaps: got %llu (last from %s), want 0", SWAPS,
		     (unsigned long long)atomic_load(&wrong),
		     atomic_load(&wrong_probe) >= 0 ? probes[atomic_load(&wrong_probe)].src : "-");
}

/* A refresh in place leaves the tables exactly as a rebuild would: every
 * entry, in every generation, and nothing else. */
Test(sync_atomic, in_place_equals_rebuild)
{
	struct me_union u[2];
	struct me_apply_stats st;
	struct me_tabmap t;
	char why[256];
	__u32 gen, a;
	int v, i;

	build(&u[0], 0);
	build(&u[1], FILLER_HOSTS / 100);
	cr_assert_eq(me_sync_apply(&edge, &u[0], &st, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(me_sync_apply(&edge, &u[1], &st, why, sizeof(why)), 0, "%s", why);
	cr_assert(st.in_place, "a 1%% change is applied in place");
	cr_assert_eq(st.added, FILLER_HOSTS / 100, "hosts added: got %zu, want %d", st.added,
		     FILLER_HOSTS / 100);
	cr_assert_eq(st.removed, FILLER_HOSTS / 100, "hosts removed: got %zu, want %d", st.removed,
		     FILLER_HOSTS / 100);
	cr_assert_eq(st.nets_rebuilt, 0, "subnet tables rebuilt: got %d, want 0 (unchanged)",
		     st.nets_rebuilt);
	cr_assert_eq(me_synctab_open(&edge, AF_INET, 0, &t, &gen), 0);
	cr_assert_eq(t.h->count[ME_LIST_BLACK], FILLER_HOSTS + 1, "black hosts counted: got %u",
		     t.h->count[ME_LIST_BLACK]);
	for (i = -1; i <= FILLER_HOSTS + FILLER_HOSTS / 100; i++) {
		struct me_prefix p = { .family = AF_INET, .len = 32 };
		int want = i >= FILLER_HOSTS / 100 && i < FILLER_HOSTS + FILLER_HOSTS / 100;
		int g;

		a = htonl(0x0a000000u + (__u32)i);
		memcpy(p.addr, &a, 4);
		for (g = 0; g < 2; g++) {
			v = me_hostab_lookup(&t, &p, (__u32)g);
			cr_assert_eq(v >= 0, want, "10.0.0.0 + %d in generation %d: got %s, want %s",
				     i, g, v >= 0 ? "listed" : "absent", want ? "listed" : "absent");
		}
	}
	me_synctab_close(&t);
	me_union_free(&u[0]);
	me_union_free(&u[1]);
}

/* Wait (up to 10 s) until w has written every page ahead; the count. */
static size_t warm_done(struct ls_warm *w)
{
	size_t all = w->t.size / (size_t)sysconf(_SC_PAGESIZE);
	int ms;

	for (ms = 0; ms < 10000 && atomic_load(&w->pages) < all; ms++)
		usleep(1000);
	return atomic_load(&w->pages);
}

/*
 * Writing a table ahead (warm.h) changes none of its bytes; a refresh in place
 * writes through that mapping only while it is of the table in use, and
 * either way leaves the tables as a rebuild would.
 */
Test(sync_atomic, warm_changes_nothing_and_follows_the_table)
{
	struct me_union u[4];
	struct me_apply_stats st;
	struct me_tabmap t;
	struct ls_warm w;
	unsigned char *before;
	char why[256];
	size_t pages;
	__u32 gen, verdict;
	size_t i;

	build(&u[0], 0);
	build(&u[1], FILLER_HOSTS / 100);
	build(&u[2], FILLER_HOSTS);
	build(&u[3], FILLER_HOSTS + FILLER_HOSTS / 100);
	cr_assert_eq(me_sync_apply(&edge, &u[0], &st, why, sizeof(why)), 0, "%s", why);

	cr_assert_eq(me_synctab_open(&edge, AF_INET, 0, &t, &gen), 0);
	before = malloc(t.size);
	cr_assert_not_null(before);
	memcpy(before, t.mem, t.size);
	ls_warm_start(&w, &edge);
	cr_assert_not_null(w.t.mem, "the IPv4 host table in use was not mapped ahead");
	pages = warm_done(&w);
	cr_assert_eq(pages, t.size / (size_t)sysconf(_SC_PAGESIZE),
		     "pages written ahead: got %zu, want all %zu", pages,
		     t.size / (size_t)sysconf(_SC_PAGESIZE));
	cr_assert(!memcmp(before, t.mem, t.size),
		  "writing the table ahead changed its contents");
	free(before);
	me_synctab_close(&t);

	/* The table it mapped is the one in use: the refresh writes through it. */
	cr_assert_eq(me_sync_apply_mode(&edge, &u[1], 0, &w, &st, why, sizeof(why)), 0, "%s",
		     why);
	cr_assert(st.in_place && st.warm, "a 1%% refresh after warming: in place %d, through "
		  "the warmed mapping %d, want both", st.in_place, st.warm);
	ls_warm_free(&w);

	/* Warmed, then the tables are rebuilt under it: its table is no longer
	 * in use, and the next refresh must map the new one. */
	ls_warm_start(&w, &edge);
	cr_assert_not_null(w.t.mem);
	cr_assert_eq(me_sync_apply_mode(&edge, &u[2], 1, NULL, &st, why, sizeof(why)), 0, "%s",
		     why);
	cr_assert_eq(me_sync_apply_mode(&edge, &u[3], 0, &w, &st, why, sizeof(why)), 0, "%s",
		     why);
	cr_assert(st.in_place && !st.warm, "a 1%% refresh after a rebuild: in place %d, "
		  "through the mapping of the table no longer in use %d, want 1 and 0",
		  st.in_place, st.warm);
	ls_warm_free(&w);
	for (i = 0; i < NPROBES; i++) {
		cr_assert_eq(judge(i, &verdict), 0);
		cr_assert_eq(verdict, probes[i].want, "%s after the refreshes: got %u, want %u",
			     probes[i].src, verdict, probes[i].want);
	}
	cr_assert_eq(me_synctab_open(&edge, AF_INET, 0, &t, &gen), 0);
	/* u[3]'s hosts, and those just outside them, in the table in use */
	for (i = FILLER_HOSTS; i < 2 * FILLER_HOSTS + 2 * (FILLER_HOSTS / 100); i += 97) {
		struct me_prefix p = { .family = AF_INET, .len = 32 };
		__u32 a = htonl(0x0a000000u + (__u32)i);
		int want = i >= FILLER_HOSTS + FILLER_HOSTS / 100 &&
			   i < 2 * FILLER_HOSTS + FILLER_HOSTS / 100;

		memcpy(p.addr, &a, 4);
		cr_assert_eq(me_hostab_lookup(&t, &p, gen) >= 0, want,
			     "10.0.0.0 + %zu after the refreshes: got %s, want %s", i,
			     want ? "absent" : "listed", want ? "listed" : "absent");
	}
	me_synctab_close(&t);
	for (i = 0; i < 4; i++)
		me_union_free(&u[i]);
}

Test(sync_atomic, control_in_place_edits_are_caught)
{
	struct me_union u;
	struct me_apply_stats st;
	struct me_config cfg;
	pthread_t t[WORKERS];
	struct timespec t0, now;
	char why[256];
	__u32 zero = 0, host, slot;
	struct me_tabmap tab;
	struct me_hb4 *bk[2];
	__u32 *vis = NULL, bit = 0;
	__u64 hash;
	int inner, i, s;

	build(&u, 0);
	cr_assert_eq(me_sync_apply(&edge, &u, &st, why, sizeof(why)), 0, "%s", why);
	me_union_free(&u);
	cr_assert_eq(bpf_map_lookup_elem(edge.fd[ME_M_CONFIG], &zero, &cfg), 0);
	slot = cfg.sync_gen & 1;
	inner = me_sync_inner_fd(&edge, ME_M_SYNC_HOST4, slot);
	cr_assert_geq(inner, 0, "the active IPv4 host table");
	cr_assert_eq(me_tab_map(inner, 1, &tab), 0, "mapping the host table");
	inet_pton(AF_INET, "192.0.2.66", &host);
	hash = me_tab_hash4(host, tab.h->seed);
	bk[0] = me_tab_elem(&tab, tab.h->base + me_tab_bucket1(hash, tab.h->nbuckets));
	bk[1] = me_tab_elem(&tab, tab.h->base + me_tab_bucket2(hash, tab.h->nbuckets));
	for (i = 0; i < 2 && !vis; i++) {
		s = me_hb4_find(bk[i], host, slot);
		if (s >= 0) {
			vis = &bk[i]->vis;
			bit = 1u << (s + (int)(slot * ME_VIS_SHIFT));
		}
	}
	cr_assert_not_null(vis, "192.0.2.66 is in the live host table");

	/* What a non-atomic refresh does: the entry is briefly absent for the
	 * generation in use. */
	start_workers(t);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		__atomic_fetch_and(vis, ~bit, __ATOMIC_SEQ_CST);
		__atomic_fetch_or(vis, bit, __ATOMIC_SEQ_CST);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (atomic_load(&wrong) == 0 && now.tv_sec - t0.tv_sec < 10);
	stop_workers(t);
	me_tab_unmap(&tab);
	close(inner);
	cr_assert_gt(atomic_load(&wrong), 0ull,
		     "misjudged frames with in-place edits: got 0 in %llu frames, want > 0 (the "
		     "detector must see a half-applied list)",
		     (unsigned long long)atomic_load(&runs));
}

Test(sync_atomic, capacity_exceeded_changes_nothing)
{
	struct me_union big, small;
	struct me_apply_stats st;
	struct me_config c0, c1;
	char why[256];
	__u32 zero = 0, verdict;
	size_t removed;
	int rc;

	build(&small, 0);
	cr_assert_eq(me_sync_apply(&edge, &small, &st, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(bpf_map_lookup_elem(edge.fd[ME_M_CONFIG], &zero, &c0), 0);
	/* 300k hosts into a 262,144-host capacity: refused before anything flips. */
	me_union_init(&big);
	add_hosts(&big, 0x0b000000u, 300000, 0);
	me_union_merge(&big, &removed);
	rc = me_sync_apply(&edge, &big, &st, why, sizeof(why));
	cr_assert_eq(rc, -ENOSPC, "apply over capacity: got %d, want -ENOSPC", rc);
	cr_assert(strstr(why, "sync_b_host4") && strstr(why, "300000"),
		  "message: got '%s', want it to name the map and the count", why);
	cr_assert_eq(bpf_map_lookup_elem(edge.fd[ME_M_CONFIG], &zero, &c1), 0);
	cr_assert_eq(c1.sync_gen, c0.sync_gen, "generation after a refused apply: got %u, want %u",
		     c1.sync_gen, c0.sync_gen);
	/* The old union still judges. */
	cr_assert_eq(judge(0, &verdict), 0);
	cr_assert_eq(verdict, XDP_DROP, "192.0.2.66 after a refused apply: got %u, want XDP_DROP",
		     verdict);
	me_union_free(&big);
	me_union_free(&small);
}

/* The IPv4 host table has the size the load fixed (so that the verifier
 * inlines the program's lookups in it): a list of exactly the capacity fits
 * it and is judged, and a table of any other size is refused by the kernel. */
Test(sync_atomic, host_table_fixed_at_capacity)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info), zero = 0, verdict, slot, nelem;
	struct me_union full;
	struct me_apply_stats st;
	struct me_config cfg;
	struct me_tabmap other;
	struct me_tabdict d = { 0 };
	char why[256];
	size_t removed;
	int inner, rc, off;

	cr_assert_eq(edge.host4_elems, me_host4_elems(262144), "host4_elems: got %u, want %u",
		     edge.host4_elems, me_host4_elems(262144));
	me_union_init(&full);
	add(&full, ME_LIST_BLACK, "192.0.2.66", ME_ACT_DROP, 16);
	add_hosts(&full, 0x0b000000u, 262144 - 1, 0);
	me_union_merge(&full, &removed);
	rc = me_sync_apply(&edge, &full, &st, why, sizeof(why));
	me_union_free(&full);
	cr_assert_eq(rc, 0, "a list of exactly the capacity: %s", why);
	cr_assert_eq(judge(0, &verdict), 0);
	cr_assert_eq(verdict, XDP_DROP, "192.0.2.66 in a full table: got %u, want XDP_DROP",
		     verdict);
	cr_assert_eq(bpf_map_lookup_elem(edge.fd[ME_M_CONFIG], &zero, &cfg), 0);
	slot = cfg.sync_gen & 1;
	inner = me_sync_inner_fd(&edge, ME_M_SYNC_HOST4, slot);
	cr_assert_geq(inner, 0, "the active IPv4 host table");
	cr_assert_eq(bpf_obj_get_info_by_fd(inner, &info, &len), 0);
	close(inner);
	cr_assert_eq(info.max_entries, edge.host4_elems, "table elements: got %u, want %u",
		     info.max_entries, edge.host4_elems);
	cr_assert_eq(info.map_flags, (__u32)ME_TAB_FLAGS_FIXED, "table flags: got %#x, want %#x",
		     info.map_flags, (unsigned)ME_TAB_FLAGS_FIXED);
	/* One element fewer or more, or sized by need: not this slot's shape. */
	for (off = -1; off <= 1; off += 2) {
		nelem = edge.host4_elems + (__u32)off;
		cr_assert_eq(me_tab_create(&other, ME_TAB_HOST4, nelem, 1, &d, why, sizeof(why)), 0,
			     "%s", why);
		rc = bpf_map_update_elem(edge.fd[ME_M_SYNC_HOST4], &slot, &other.fd, BPF_ANY);
		cr_assert_eq(rc, -EINVAL, "a table of %u elements in a slot fixed at %u: got %d, "
			     "want -EINVAL", nelem, edge.host4_elems, rc);
		me_tab_destroy(&other);
	}
	cr_assert_eq(me_tab_create(&other, ME_TAB_HOST4, edge.host4_elems, 0, &d, why, sizeof(why)),
		     0, "%s", why);
	rc = bpf_map_update_elem(edge.fd[ME_M_SYNC_HOST4], &slot, &other.fd, BPF_ANY);
	me_tab_destroy(&other);
	cr_assert_eq(rc, -EINVAL, "a table with BPF_F_INNER_MAP in a fixed slot: got %d, want "
		     "-EINVAL", rc);
	cr_assert_eq(judge(0, &verdict), 0);
	cr_assert_eq(verdict, XDP_DROP, "192.0.2.66 after the refused inserts: got %u", verdict);
}

/* Apply u (merged here), then the verdict for probe i. */
static __u32 apply_judge(struct me_union *u, int full, size_t i)
{
	struct me_apply_stats st;
	char why[256];
	size_t removed;
	__u32 verdict;

	me_union_merge(u, &removed);
	cr_assert_eq(me_sync_apply_mode(&edge, u, full, NULL, &st, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(judge(i, &verdict), 0);
	return verdict;
}

static __u32 white_bits(void)
{
	struct me_config cfg;
	__u32 zero = 0;

	cr_assert_eq(bpf_map_lookup_elem(edge.fd[ME_M_CONFIG], &zero, &cfg), 0);
	return cfg.sync_white_nets;
}

/*
 * A synced host hit skips the subnet tables only where no synced white subnet
 * could cover it (me_host_decides): a white /24 over a black host still wins,
 * through a rebuild and through a refresh in place; an expired black host
 * still falls through to the subnet under it; and a bit cleared by hand makes
 * the program wrong, so the bit is what these cases rest on.
 */
Test(sync_atomic, host_hit_skips_subnets_only_without_white_ones)
{
	struct me_entry old = { .action = ME_ACT_DROP, .src = 21, .expires = 1 };
	struct me_prefix p;
	struct me_union u;
	struct me_config cfg;
	__u32 zero = 0;

	/* 192.0.2.66 black, 192.0.2.0/24 white: pass, both bits set. */
	me_union_init(&u);
	add(&u, ME_LIST_BLACK, "192.0.2.66", ME_ACT_DROP, 16);
	add(&u, ME_LIST_WHITE, "192.0.2.0/24", ME_ACT_PASS, 17);
	add_hosts(&u, 0x0a000000u, 1000, 1);
	cr_assert_eq(apply_judge(&u, 1, 0), XDP_PASS, "a white /24 over a black host: not passed");
	cr_assert_eq(white_bits(), 3u, "sync_white_nets after a rebuild with white subnets: %#x",
		     white_bits());
	/* Hosts change in place, the white /24 stays: still pass. */
	add_hosts(&u, 0x0a100000u, 50, 1);
	cr_assert_eq(apply_judge(&u, 0, 0), XDP_PASS,
		     "a white /24 over a black host after a refresh in place: not passed");
	cr_assert_eq(white_bits(), 3u, "sync_white_nets after a refresh in place: %#x",
		     white_bits());
	/* The control: the bit cleared by hand, the program skips the /24. */
	cr_assert_eq(bpf_map_lookup_elem(edge.fd[ME_M_CONFIG], &zero, &cfg), 0);
	cfg.sync_white_nets = 0;
	cr_assert_eq(bpf_map_update_elem(edge.fd[ME_M_CONFIG], &zero, &cfg, BPF_ANY), 0);
	{
		__u32 v;

		cr_assert_eq(judge(0, &v), 0);
		cr_assert_eq(v, XDP_DROP, "control: with the bit cleared the host must decide");
	}
	me_union_free(&u);

	/* No white subnet: the bits clear, the black host drops. */
	me_union_init(&u);
	add(&u, ME_LIST_BLACK, "192.0.2.66", ME_ACT_DROP, 16);
	add(&u, ME_LIST_BLACK, "203.0.113.0/24", ME_ACT_DROP, 16);
	cr_assert_eq(apply_judge(&u, 1, 0), XDP_DROP, "a black host: not dropped");
	cr_assert_eq(white_bits(), 0u, "sync_white_nets without white subnets: %#x", white_bits());
	me_union_free(&u);

	/* An expired black host under a black /24 that resets: the /24 decides. */
	me_union_init(&u);
	cr_assert_eq(me_prefix_parse("192.0.2.66", &p, 0), 0);
	cr_assert_eq(me_union_add(&u, ME_LIST_BLACK, &p, &old, 0), 0);
	add(&u, ME_LIST_BLACK, "192.0.2.0/24", ME_ACT_RESET, 16);
	cr_assert_eq(apply_judge(&u, 1, 0), XDP_TX,
		     "an expired black host under a resetting /24: not reset");
	me_union_free(&u);
}

/*
 * The same property with real traffic and the real programs: a lab gateway,
 * two hping3 streams (from 192.0.2.66, listed in both list versions, and from
 * 192.0.2.10, in neither), and mailedge-listsync runs swapping two versions of
 * a file:// list that differ in 20,000 other hosts. nftables counters in the
 * gateway's prerouting hook (priority -500, before anything else) count what
 * XDP let through: nothing from the listed source may get there, and everything
 * the unlisted source sent must.
 */
static struct lab lab;
static struct bgproc hp_listed = { .pid = -1 }, hp_clean = { .pid = -1 };
static char tmpdir[64];

static void live_setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/mailedge-test-sync-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	if (lab_up(&lab)) {
		lab_down(&lab);
		cr_assert_fail("cannot build the lab");
	}
	lab_addr(&lab, "192.0.2.66/24");
}

static void live_teardown(void)
{
	struct run r;

	bg_kill(&hp_listed);
	bg_kill(&hp_clean);
	lab_down(&lab);
	tenv_pin_dir_remove();
	tenv_run(&r, "rm -rf %s", tmpdir);
	tenv_run_free(&r);
}

/* A setup step that must succeed; what names it in the failure. */
static void sh(const char *what, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sh(const char *what, const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = tenv_sh("%s", cmd);
	cr_assert_eq(st, 0, "%s: got status %d, want 0", what, st);
}

/* Put version ("a" or "b") in place as the list file and run mailedge-listsync once. */
static void sync_from(const char *what, const char *version)
{
	sh(what,
	   "cp %s/%s.txt %s/list.txt && %s --pin-dir %s --state-dir %s/state -q run "
	   "--source plain:file://%s/list.txt >/dev/null",
	   tmpdir, version, tmpdir, tenv_bin("mailedge-listsync"), tenv_pin_dir(), tmpdir, tmpdir);
}

/* Wait (at most ms) until the unlisted stream shows up at the gateway: hping3 is
 * sending. Nothing is asserted here; the counts at the end tell. */
static void await_clean_traffic(int ms)
{
	long long deadline = now_ms() + ms;

	while (nft_counter(lab.gw_ns, "inet", "melive", "clean") <= 0 && now_ms() < deadline)
		usleep(20 * 1000);
}

static long stop_hping(struct bgproc *b)
{
	char buf[4096];

	cr_assert_eq(bg_finish(b, 1, 5000, buf, sizeof(buf)), 0, "hping3 did not stop");
	return hping_sent(buf);
}

Test(sync_live, refreshes_under_traffic, .init = live_setup, .fini = live_teardown,
     .timeout = 180)
{
	long sent_listed, sent_clean;
	long long leaked, clean_in, txdrop0, txdrop;
	struct run r;
	int i, st;

	lab_loader(&lab, &r,
		   "-q attach %s --hosts 65536 --white-hosts 1024 --subnets 1024 "
		   "--rate-entries 1024 --ban-entries 1024",
		   lab.gw_if);
	st = r.status;
	if (st)
		cr_log_error("attach: %s", r.err ? r.err : "");
	tenv_run_free(&r);
	cr_assert_eq(st, 0, "attach: got status %d, want 0", st);
	/* Two versions: the probes in both, 20,000 different filler hosts each. */
	sh("list files", "cd %s && { echo 192.0.2.66; echo 198.51.100.0/24; "
			 "for i in $(seq 0 19999); do echo 10.1.$((i / 256)).$((i %% 256)); done; } > a.txt"
			 " && { echo 192.0.2.66; echo 198.51.100.0/24; "
			 "for i in $(seq 0 19999); do echo 10.2.$((i / 256)).$((i %% 256)); done; } > b.txt",
	   tmpdir);
	st = nft_count_saddr(lab.gw_ns, "melive", "listed", "192.0.2.66");
	if (!st)
		st = nft_count_saddr(lab.gw_ns, "melive", "clean", "192.0.2.10");
	cr_assert_eq(st, 0, "nft counters: got status %d, want 0", st);

	sync_from("first sync", "a");
	txdrop0 = if_stat(lab.cl_ns, lab.cl_if, "tx_dropped");
	cr_assert_eq(hping_start(&hp_listed, lab.cl_ns,
				 "-q -S -p 25 -i u500 -c 1000000 -a 192.0.2.66 192.0.2.1"), 0);
	cr_assert_eq(hping_start(&hp_clean, lab.cl_ns,
				 "-q -S -p 25 -i u500 -c 1000000 -a 192.0.2.10 192.0.2.1"), 0);
	await_clean_traffic(5000);
	for (i = 0; i < 8; i++)
		sync_from("refresh", i % 2 ? "a" : "b");
	usleep(300 * 1000);
	sent_listed = stop_hping(&hp_listed);
	sent_clean = stop_hping(&hp_clean);
	usleep(200 * 1000);
	leaked = nft_counter(lab.gw_ns, "inet", "melive", "listed");
	clean_in = nft_counter(lab.gw_ns, "inet", "melive", "clean");
	txdrop = if_stat(lab.cl_ns, lab.cl_if, "tx_dropped") - txdrop0;

	cr_log_info("8 refreshes of 20,002 entries under traffic: listed sent %ld, reached the "
		    "stack %lld; unlisted sent %ld, reached %lld; client tx drops %lld",
		    sent_listed, leaked, sent_clean, clean_in, txdrop);
	cr_assert_gt(sent_listed, 1000, "packets from the listed source: got %ld, want > 1000",
		     sent_listed);
	cr_assert_eq(leaked, 0,
		     "packets from the listed source that got through during refreshes: got %lld, "
		     "want 0",
		     leaked);
	cr_assert_geq(clean_in + txdrop, sent_clean,
		      "packets from the unlisted source that got through: got %lld (+%lld dropped "
		      "by the client's veth), want all %ld sent",
		      clean_in, txdrop, sent_clean);
}
