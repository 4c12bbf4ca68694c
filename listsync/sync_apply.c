// SPDX-License-Identifier: GPL-2.0
/*
 * sync_apply.c - put a whole list-sync union into the kernel at once.
 *
 * Why a generation flip rather than editing entries one by one: an update of N
 * entries shows packets N half-applied states. There are four tables (hosts
 * and subnets, IPv4 and IPv6) that must change together, so each generation
 * has its own four slots, the XDP program reads the generation once per
 * packet, and one 4-byte write switches all of them.
 *
 * A refresh is written in place where it can be (sync_delta.c): the host
 * tables take the changes in the bits of the generation not in use, a subnet
 * table is rebuilt only if its subnets changed, and memory grows by what
 * changed, not by a second copy of everything. A first sync, --rebuild, and a
 * refresh the tables have no room for build new tables instead.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/membarrier.h>
#include <netinet/in.h>
#include <bpf/bpf.h>

#include "lists.h"
#include "sync_delta.h"
#include "table_build.h"
#include "log.h"
#include "sync_apply.h"
#include "warm.h"

void me_rcu_grace(void)
{
	/* MEMBARRIER_CMD_GLOBAL is synchronize_rcu(), and XDP programs run
	 * inside an RCU read-side section (as the BPF selftests rely on). It is
	 * refused on nohz_full kernels; then wait far longer than any program
	 * run takes. */
	if (syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0)) {
		struct timespec ts = { 0, 200 * 1000 * 1000 };

		log_debug("membarrier unavailable (%s); waiting 200 ms instead", strerror(errno));
		nanosleep(&ts, NULL);
	}
}

/* The four tables, indexed by TAB(fam, net). */
#define NTABS	      4
#define TAB(fam, net) ((fam)*2 + (net))

static int outer_fd(const struct me_edge *e, int k)
{
	return e->fd[me_sync_map(k / 2 ? AF_INET6 : AF_INET, k % 2)];
}

/* Refuse what the admin's capacities (attach --hosts, --white-hosts,
 * --subnets) do not allow, as the kernel's maps refused it before. */
static int check_capacity(const struct me_edge *e, const struct me_union_counts *c, char *why,
			  size_t why_len)
{
	static const char *const names[2][2][2] = {
		{ { "sync_w_host4", "sync_w_net4" }, { "sync_w_host6", "sync_w_net6" } },
		{ { "sync_b_host4", "sync_b_net4" }, { "sync_b_host6", "sync_b_net6" } },
	};
	int list, fam, net;

	for (list = 0; list < 2; list++)
		for (fam = 0; fam < 2; fam++)
			for (net = 0; net < 2; net++) {
				__u32 cap = net ? e->sizes.subnets
					    : list == ME_LIST_WHITE ? e->sizes.white_hosts
								    : e->sizes.hosts;
				size_t n = c->n[list][fam][net];

				if (n <= cap)
					continue;
				snprintf(why, why_len,
					 "list sync has %zu entries for %s, more than its capacity "
					 "of %u (attach --%s)",
					 n, names[list][fam][net], cap,
					 net ? "subnets"
					 : list == ME_LIST_WHITE ? "white-hosts"
								 : "hosts");
				return -ENOSPC;
			}
	return 0;
}

int me_sync_build(const struct me_union *u, __u32 host4_elems, struct me_tabmap *t, char *why,
		  size_t why_len)
{
	struct me_tabdict *d = malloc(sizeof(*d));
	__u8 *idx = malloc(u->n ? u->n : 1);
	int k, rc;

	for (k = 0; k < NTABS; k++) {
		memset(&t[k], 0, sizeof(t[k]));
		t[k].fd = -1;
	}
	if (!d || !idx) {
		snprintf(why, why_len, "out of memory for the table dictionary");
		rc = -ENOMEM;
		goto out;
	}
	rc = me_tabdict_of_union(u, d, idx, why, why_len);
	for (k = 0; k < NTABS && !rc; k++)
		rc = k % 2 ? me_nettab_build(u, idx, d, k / 2, &t[k], why, why_len)
			   : me_hostab_build(u, idx, d, k / 2, k / 2 ? 0 : host4_elems,
					     &t[k], why, why_len);
out:
	if (rc)
		for (k = 0; k < NTABS; k++)
			me_tab_destroy(&t[k]);
	free(d);
	free(idx);
	return rc;
}

/* Point slot at the tables in fds (or empty it where fd < 0). */
static int install(const struct me_edge *e, const int *fds, __u32 slot)
{
	int k;

	for (k = 0; k < NTABS; k++) {
		if (fds[k] < 0)
			bpf_map_delete_elem(outer_fd(e, k), &slot);
		else if (bpf_map_update_elem(outer_fd(e, k), &slot, &fds[k], BPF_ANY))
			return -errno;
	}
	return 0;
}

/* One subnet table of the union (a refresh in place rebuilds only these, and
 * only when they changed). */
static int build_net(const struct me_union *u, int v6, struct me_tabmap *t, char *why,
		     size_t why_len)
{
	struct me_tabdict *d = malloc(sizeof(*d));
	__u8 *idx = malloc(u->n ? u->n : 1);
	int rc = -ENOMEM;

	t->fd = -1;
	t->mem = NULL;
	if (d && idx)
		rc = me_tabdict_of_union(u, d, idx, why, why_len);
	else
		snprintf(why, why_len, "out of memory for the table dictionary");
	if (!rc)
		rc = me_nettab_build(u, idx, d, v6, t, why, why_len);
	free(d);
	free(idx);
	return rc;
}

/* The tables of the generation in use, mapped read-write (the IPv4 hosts'
 * through warm's mapping where it is of that table); 0 if a refresh in place
 * can start from them. */
static int map_current(const int *old_fds, int nets, struct ls_warm *warm, struct me_tabmap *cur)
{
	const struct me_tabmap *w;
	int k;

	for (k = 0; k < NTABS; k++) {
		cur[k].fd = -1;
		cur[k].mem = NULL;
		cur[k].h = NULL;
	}
	for (k = 0; k < NTABS; k += nets ? 1 : 2) {
		if (old_fds[k] < 0)
			return -ENOENT;
		w = k == TAB(0, 0) ? ls_warm_for(warm, old_fds[k]) : NULL;
		if (w)
			cur[k] = *w;
		else if (me_tab_map(old_fds[k], 1, &cur[k]))
			return -ENOENT;
	}
	return 0;
}

/* Whether t is warm's mapping (map_current took it). */
static int is_warms(const struct me_tabmap *t, const struct ls_warm *warm)
{
	return warm && warm->t.mem && t->mem == warm->t.mem;
}

/* Undo map_current: warm's mapping stays warm's. */
static void unmap_current(struct me_tabmap *cur, const struct ls_warm *warm)
{
	int k;

	for (k = 0; k < NTABS; k++)
		if (!is_warms(&cur[k], warm))
			me_tab_unmap(&cur[k]);
}

/* Write the union into the host tables in use, for generation nxt, and
 * decide which subnet tables must be rebuilt. On -EAGAIN (only a rebuild will
 * do; why says why) nothing is left changed. */
static int prepare_in_place(const struct me_union *u, struct me_tabmap *cur, struct me_tabmap *t,
			    const int *old_fds, int *fds, __u32 nxt, struct me_apply_stats *st,
			    char *why, size_t why_len)
{
	struct me_delta_stats ds;
	int k, rc = 0, done = 0;

	for (k = 0; k < NTABS && !rc; k += 2) {
		rc = me_delta_hosts(&cur[k], u, nxt, &ds, why, why_len);
		if (rc)
			break;
		done = k + 1;
		fds[k] = old_fds[k];
		st->kept += ds.kept;
		st->added += ds.added;
		st->removed += ds.removed;
	}
	for (k = 1; k < NTABS && !rc; k += 2) {
		if (me_nettab_same(&cur[k], u)) {
			fds[k] = old_fds[k];
			continue;
		}
		rc = build_net(u, k / 2, &t[k], why, why_len);
		fds[k] = t[k].fd;
		st->nets_rebuilt++;
	}
	if (rc)
		for (k = 0; k < done; k += 2)
			me_hostab_settle(&cur[k], nxt ^ 1);
	return rc;
}

int me_sync_white_nets(const struct me_tabmap *t, const struct me_tabmap *cur)
{
	const struct me_tabmap *n;
	int k;

	for (k = TAB(0, 1); k < NTABS; k += 2) {
		n = t[k].mem ? &t[k] : cur ? &cur[k] : NULL;
		if (!n || !n->mem || n->h->count[ME_LIST_WHITE])
			return 1;
	}
	return 0;
}

int me_sync_set_white_nets(struct me_edge *e, struct me_config *cfg, __u32 gen, int white,
			   char *why, size_t why_len)
{
	__u32 zero = 0, bits = (cfg->sync_white_nets & ~(1u << gen)) | (white ? 1u << gen : 0);

	if (bits == cfg->sync_white_nets)
		return 0;
	cfg->sync_white_nets = bits;
	if (bpf_map_update_elem(e->fd[ME_M_CONFIG], &zero, cfg, BPF_ANY)) {
		snprintf(why, why_len, "cannot write the configuration: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

/*
 * Install fds as generation cfg->sync_gen ^ 1, flip to it, wait out the
 * packets of the old one, and make both agree. cur (NULL after a rebuild) are
 * the host tables refreshed in place, settled after the grace period, their
 * hosts per list counted again. Or, with ds4, a refresh of the IPv4 hosts
 * alone: only the buckets of that table it wrote are settled, its counts
 * moved by what it kept. white: the new subnet tables may hold white
 * prefixes. On failure the slot of the generation not in use is put back to
 * old_fds.
 */
static int commit(struct me_edge *e, struct me_config *cfg, const int *fds, const int *old_fds,
		  struct me_tabmap *cur, const struct me_delta_stats *ds4, int white,
		  struct me_apply_stats *st, char *why, size_t why_len)
{
	__u32 zero = 0, old_gen = cfg->sync_gen & 1, new_gen = old_gen ^ 1, old_white;
	double t0;
	int k, rc;

	/* The new generation's white-subnet bit, written while no packet reads
	 * that generation: a separate write from the flip, so that no packet
	 * sees the new generation with the bit of the one before. */
	old_white = cfg->sync_white_nets;
	rc = me_sync_set_white_nets(e, cfg, new_gen, white, why, why_len);
	if (rc)
		return rc;
	rc = install(e, fds, new_gen);
	if (rc) {
		snprintf(why, why_len, "cannot install the new tables: %s", strerror(-rc));
		goto undo;
	}
	t0 = me_mono_seconds();
	cfg->sync_gen = new_gen;
	if (bpf_map_update_elem(e->fd[ME_M_CONFIG], &zero, cfg, BPF_ANY)) {
		rc = -errno;
		snprintf(why, why_len, "cannot switch generations: %s", strerror(errno));
		goto undo;
	}
	st->gen = new_gen;
	/* No packet may still be reading the old generation when the tables
	 * change under it: its host slots are made to agree with the new one,
	 * its slots point at the new tables, so that the next refresh in place
	 * starts from one state under either generation. */
	me_rcu_grace();
	for (k = 0; cur && !ds4 && k < NTABS; k += 2) {
		me_hostab_settle(&cur[k], new_gen);
		me_hostab_recount(&cur[k], new_gen); /* a walk of every slot: 20 ms at 8M */
	}
	if (ds4) {
		struct me_tabmap *t4 = &cur[TAB(0, 0)];

		if (ds4->touched)
			me_hostab_settle_buckets(t4, new_gen, ds4->touched, ds4->ntouched);
		else
			me_hostab_settle(t4, new_gen);
		t4->h->count[0] = (__u32)(t4->h->count[0] + ds4->count[0]);
		t4->h->count[1] = (__u32)(t4->h->count[1] + ds4->count[1]);
	}
	rc = install(e, fds, old_gen);
	if (rc)
		snprintf(why, why_len, "cannot retire the old tables: %s", strerror(-rc));
	else /* the slot holds the new tables now: its bit follows them */
		rc = me_sync_set_white_nets(e, cfg, old_gen, white, why, why_len);
	st->swap_s = me_mono_seconds() - t0;
	return rc;
undo:
	install(e, old_fds, new_gen); /* as it was: no packet reads that slot */
	cfg->sync_white_nets = old_white;
	bpf_map_update_elem(e->fd[ME_M_CONFIG], &zero, cfg, BPF_ANY);
	for (k = 0; cur && k < NTABS; k += 2)
		me_hostab_settle(&cur[k], old_gen);
	return rc;
}

int me_sync_apply_mode(struct me_edge *e, const struct me_union *u, int full,
		       struct ls_warm *warm, struct me_apply_stats *st, char *why, size_t why_len)
{
	struct me_tabmap t[NTABS], cur[NTABS];
	struct me_config cfg;
	__u32 zero = 0, old_gen, new_gen;
	double t0 = me_mono_seconds();
	int k, rc, in_place = 0, fds[NTABS], old_fds[NTABS];
	char delta_why[160] = "";

	memset(st, 0, sizeof(*st));
	for (k = 0; k < NTABS; k++) {
		t[k].fd = cur[k].fd = -1;
		t[k].mem = cur[k].mem = NULL;
		old_fds[k] = -1;
	}
	if (!u->merged) {
		snprintf(why, why_len, "internal error: union not merged");
		return -EINVAL;
	}
	if (bpf_map_lookup_elem(e->fd[ME_M_CONFIG], &zero, &cfg)) {
		snprintf(why, why_len, "cannot read the configuration: %s", strerror(errno));
		return -errno;
	}
	old_gen = cfg.sync_gen & 1;
	new_gen = old_gen ^ 1;
	me_union_counts(u, &st->counts);
	rc = check_capacity(e, &st->counts, why, why_len);
	if (rc)
		return rc;
	for (k = 0; k < NTABS; k++)
		old_fds[k] = me_sync_inner_fd(e, me_sync_map(k / 2 ? AF_INET6 : AF_INET, k % 2),
					      old_gen);

	if (!full && !map_current(old_fds, 1, warm, cur)) {
		st->warm = is_warms(&cur[TAB(0, 0)], warm);
		rc = prepare_in_place(u, cur, t, old_fds, fds, new_gen, st, delta_why,
				      sizeof(delta_why));
		if (!rc)
			in_place = 1;
		else if (rc != -EAGAIN) {
			snprintf(why, why_len, "%s", delta_why);
			goto out;
		} else {
			log_info("list sync: rebuilding the tables: %s", delta_why);
			for (k = 0; k < NTABS; k++)
				me_tab_destroy(&t[k]);
			memset(st, 0, sizeof(*st));
			me_union_counts(u, &st->counts);
		}
	}
	if (!in_place) {
		rc = me_sync_build(u, e->host4_elems, t, why, why_len);
		if (rc)
			goto out;
		for (k = 0; k < NTABS; k++)
			fds[k] = t[k].fd;
	}
	st->in_place = in_place;
	st->build_s = me_mono_seconds() - t0;
	rc = commit(e, &cfg, fds, old_fds, in_place ? cur : NULL, NULL, me_sync_white_nets(t, cur), st, why,
		    why_len);
out:
	unmap_current(cur, warm);
	for (k = 0; k < NTABS; k++) {
		me_tab_destroy(&t[k]);
		if (old_fds[k] >= 0)
			close(old_fds[k]);
	}
	return rc;
}

int me_sync_apply(struct me_edge *e, const struct me_union *u, struct me_apply_stats *st,
		  char *why, size_t why_len)
{
	return me_sync_apply_mode(e, u, 0, NULL, st, why, why_len);
}

int me_sync_apply_hosts4(struct me_edge *e, const struct me_hostchg *c, size_t n,
			 const struct me_union_counts *counts, struct ls_warm *warm,
			 struct me_apply_stats *st, char *why, size_t why_len)
{
	struct me_tabmap cur[NTABS];
	struct me_delta_stats ds = { 0 };
	struct me_config cfg;
	__u32 zero = 0, old_gen;
	double t0 = me_mono_seconds();
	int k, rc, old_fds[NTABS];

	memset(st, 0, sizeof(*st));
	for (k = 0; k < NTABS; k++) {
		cur[k].fd = -1;
		cur[k].mem = NULL;
		old_fds[k] = -1;
	}
	st->counts = *counts;
	if (bpf_map_lookup_elem(e->fd[ME_M_CONFIG], &zero, &cfg)) {
		snprintf(why, why_len, "cannot read the configuration: %s", strerror(errno));
		return -errno;
	}
	old_gen = cfg.sync_gen & 1;
	rc = check_capacity(e, counts, why, why_len);
	if (rc)
		return rc;
	for (k = 0; k < NTABS; k++)
		old_fds[k] = me_sync_inner_fd(e, me_sync_map(k / 2 ? AF_INET6 : AF_INET, k % 2),
					      old_gen);
	if (map_current(old_fds, 0, warm, cur)) {
		snprintf(why, why_len, "the tables in use cannot be mapped");
		rc = -EAGAIN;
		goto out;
	}
	/* The IPv6 hosts do not change, but a refresh killed half-way may have
	 * left its bits in the generation about to be flipped to. */
	me_hostab_settled(&cur[TAB(1, 0)], old_gen);
	st->warm = is_warms(&cur[TAB(0, 0)], warm);
	rc = me_delta_hosts_chg(&cur[TAB(0, 0)], c, n, old_gen ^ 1, &ds, why, why_len);
	if (rc)
		goto out;
	st->in_place = 1;
	st->kept = ds.kept;
	st->added = ds.added;
	st->removed = ds.removed;
	st->build_s = me_mono_seconds() - t0;
	/* The subnet tables stay as they are, and so does their bit. */
	rc = commit(e, &cfg, old_fds, old_fds, cur, &ds, (cfg.sync_white_nets >> old_gen) & 1, st,
		    why, why_len);
out:
	free(ds.touched);
	unmap_current(cur, warm);
	for (k = 0; k < NTABS; k++)
		if (old_fds[k] >= 0)
			close(old_fds[k]);
	return rc;
}
