// SPDX-License-Identifier: GPL-2.0
/*
 * sync_apply.c - swap a whole list-sync union into the kernel at once.
 *
 * Why a generation flip rather than editing the maps in place: an update of N
 * entries one by one shows packets N half-applied states, and
 * bpf_map_update_batch is no better (it is not atomic either). Replacing an
 * inner map of a map-in-map is atomic, but there are eight of them (white and
 * black, hosts and subnets, IPv4 and IPv6) and they must change together. So
 * each generation has its own eight slots, the XDP program reads the generation
 * once per packet, and one 4-byte write switches all eight.
 *
 * The price is memory: during an apply the old and new unions both exist.
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
#include "log.h"
#include "sync_apply.h"

#define FILL_BATCH 65536

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

/* The eight inner maps of a generation, indexed by TARGET(list, fam, net). */
#define NTARGETS	       8
#define TARGET(list, fam, net) ((list)*4 + (fam)*2 + (net))

struct target {
	int list, fam, net;	/* fam 0 = IPv4, 1 = IPv6 */
	size_t n, done;
	int fd;
	__u32 key_size;
	unsigned char *keys;	/* batch buffers for hash maps */
	struct me_entry *vals;
};

static const char *target_name(const struct target *t)
{
	static const char *const names[2][2][2] = {
		{ { "sync_w_host4", "sync_w_net4" }, { "sync_w_host6", "sync_w_net6" } },
		{ { "sync_b_host4", "sync_b_net4" }, { "sync_b_host6", "sync_b_net6" } },
	};

	return names[t->list][t->fam][t->net];
}

static __u32 capacity(const struct me_edge *e, const struct target *t)
{
	if (t->net)
		return e->sizes.subnets;
	return t->list == ME_LIST_WHITE ? e->sizes.white_hosts : e->sizes.hosts;
}

static int flush_batch(struct target *t, size_t cnt)
{
	__u32 c = (__u32)cnt;
	LIBBPF_OPTS(bpf_map_batch_opts, bo);

	if (!cnt)
		return 0;
	if (bpf_map_update_batch(t->fd, t->keys, t->vals, &c, &bo))
		return -errno;
	return 0;
}

/* The outer map that holds target t's inner map, one slot per (generation, list). */
static int outer_fd(const struct me_edge *e, const struct target *t)
{
	return e->fd[me_sync_map(t->fam ? AF_INET6 : AF_INET, t->net)];
}

/* Empty every slot of generation gen. */
static void clear_gen(const struct me_edge *e, const struct target *t, __u32 gen)
{
	int k;

	for (k = 0; k < NTARGETS; k++) {
		__u32 slot = ME_SYNC_SLOT(gen, t[k].list);

		bpf_map_delete_elem(outer_fd(e, &t[k]), &slot);
	}
}

static int create_target(const struct me_edge *e, struct target *t, char *why, size_t why_len)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_NO_PREALLOC);
	__u32 cap = capacity(e, t);
	enum bpf_map_type type = t->net ? BPF_MAP_TYPE_LPM_TRIE : BPF_MAP_TYPE_HASH;

	if (t->n > cap) {
		snprintf(why, why_len,
			 "list sync has %zu entries for %s, more than its capacity of %u "
			 "(attach --%s)",
			 t->n, target_name(t), cap,
			 t->net ? "subnets" : t->list == ME_LIST_WHITE ? "white-hosts" : "hosts");
		return -ENOSPC;
	}
	if (t->net)
		t->key_size = t->fam ? sizeof(struct me_lpm6) : sizeof(struct me_lpm4);
	else
		t->key_size = t->fam ? sizeof(struct me_addr6) : sizeof(__u32);
	t->fd = bpf_map_create(type, target_name(t), t->key_size,
			       t->net ? sizeof(struct me_net_entry) : sizeof(struct me_entry),
			       t->n ? (__u32)t->n : 1, &o);
	if (t->fd < 0) {
		snprintf(why, why_len, "cannot create %s for %zu entries: %s", target_name(t), t->n,
			 strerror(errno));
		return -errno;
	}
	if (!t->net) {
		t->keys = malloc((size_t)FILL_BATCH * t->key_size);
		t->vals = malloc((size_t)FILL_BATCH * sizeof(*t->vals));
		if (!t->keys || !t->vals) {
			snprintf(why, why_len, "cannot allocate fill buffers for %s",
				 target_name(t));
			return -ENOMEM;
		}
	}
	return 0;
}

int me_sync_apply(struct me_edge *e, const struct me_union *u, struct me_apply_stats *st,
		  char *why, size_t why_len)
{
	struct target t[NTARGETS];
	struct me_config cfg;
	__u32 zero = 0, old_gen, new_gen, slot;
	unsigned char key[ME_KEY_MAX];
	double t0 = me_mono_seconds();
	int k, rc = 0, flipped = 0;
	size_t i;

	memset(st, 0, sizeof(*st));
	memset(t, 0, sizeof(t));
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
	for (k = 0; k < NTARGETS; k++) {
		struct target *x = &t[k];

		x->list = k / 4;
		x->fam = k / 2 % 2;
		x->net = k % 2;
		x->fd = -1;
		x->n = st->counts.n[x->list][x->fam][x->net];
	}
	for (k = 0; k < NTARGETS && !rc; k++)
		rc = create_target(e, &t[k], why, why_len);
	if (rc)
		goto out;

	/* Fill: hosts in batches, subnets one by one (LPM tries have no batch ops). */
	for (i = 0; i < u->n; i++) {
		const struct me_urec *r = &u->v[i];
		struct me_prefix p;
		struct target *x;

		me_urec_prefix(r, &p);
		x = &t[TARGET(r->list, r->family == 6, !me_prefix_is_host(&p))];
		me_prefix_key(&p, key);
		if (x->net) {
			unsigned char val[ME_VALUE_MAX];

			me_prefix_value(&p, &r->val, val);
			if (bpf_map_update_elem(x->fd, key, val, BPF_NOEXIST)) {
				rc = -errno;
				snprintf(why, why_len, "cannot fill %s: %s", target_name(x),
					 strerror(errno));
				goto out;
			}
			continue;
		}
		memcpy(x->keys + (x->done % FILL_BATCH) * x->key_size, key, x->key_size);
		x->vals[x->done % FILL_BATCH] = r->val;
		x->done++;
		if (x->done % FILL_BATCH == 0 && (rc = flush_batch(x, FILL_BATCH))) {
			snprintf(why, why_len, "cannot fill %s: %s", target_name(x), strerror(-rc));
			goto out;
		}
	}
	for (k = 0; k < NTARGETS; k++) {
		struct target *x = &t[k];

		if (x->net)
			continue;
		rc = flush_batch(x, x->done % FILL_BATCH);
		if (rc) {
			snprintf(why, why_len, "cannot fill %s: %s", target_name(x), strerror(-rc));
			goto out;
		}
	}

	for (k = 0; k < NTARGETS; k++) {
		slot = ME_SYNC_SLOT(new_gen, t[k].list);
		if (bpf_map_update_elem(outer_fd(e, &t[k]), &slot, &t[k].fd, BPF_ANY)) {
			rc = -errno;
			snprintf(why, why_len, "cannot install %s: %s", target_name(&t[k]),
				 strerror(errno));
			goto out;
		}
	}
	st->build_s = me_mono_seconds() - t0;

	t0 = me_mono_seconds();
	cfg.sync_gen = new_gen;
	if (bpf_map_update_elem(e->fd[ME_M_CONFIG], &zero, &cfg, BPF_ANY)) {
		rc = -errno;
		snprintf(why, why_len, "cannot switch generations: %s", strerror(errno));
		goto out;
	}
	flipped = 1;
	st->gen = new_gen;
	/* No packet may still be looking at the old generation when it goes. */
	me_rcu_grace();
	clear_gen(e, t, old_gen);
	st->swap_s = me_mono_seconds() - t0;
out:
	if (rc && !flipped)
		clear_gen(e, t, new_gen); /* leave the inactive generation empty, as it was */
	for (k = 0; k < NTARGETS; k++) {
		if (t[k].fd >= 0)
			close(t[k].fd);
		free(t[k].keys);
		free(t[k].vals);
	}
	return rc;
}
