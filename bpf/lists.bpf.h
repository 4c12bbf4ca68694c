/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lists.bpf.h - white/black list lookups for one source address.
 *
 * Each step of the verdict order looks in the admin's (manual) map first, then in
 * the list-sync map of the current generation, so an admin's entry for a host
 * wins over a synced one. Hosts are hash lookups; subnets are LPM lookups.
 *
 * The four list-sync inner maps of a family are fetched together, from one read
 * of the generation, before any lookup (see mailedge_abi.h for the swap). If a
 * slot is empty and the generation moved while we read, list sync is emptying the
 * old generation under us: read everything again from the new one.
 */
#ifndef MAILEDGE_LISTS_BPF_H
#define MAILEDGE_LISTS_BPF_H

#include "maps.bpf.h"
#include "parse.bpf.h"
#include "threshold.bpf.h"

/* The current time, read at most once per packet and only if an entry expires. */
struct me_clock {
	__u64 now;
};

static __always_inline __u64 me_now(struct me_clock *c)
{
	if (!c->now)
		c->now = bpf_ktime_get_boot_ns();
	return c->now;
}

static __always_inline int me_live(const struct me_entry *e, struct me_clock *c)
{
	return !e->expires || (__u64)e->expires * ME_NSEC_PER_SEC > me_now(c);
}

/* The list-sync inner maps of one family, from one generation. */
struct me_sync {
	void *white_host;
	void *black_host;
	void *white_net;
	void *black_net;
};

static __always_inline int me_sync_get(void *outer_host, void *outer_net, __u32 gen,
				       struct me_sync *s)
{
	__u32 k;

	gen &= 1;
	k = ME_SYNC_SLOT(gen, ME_LIST_WHITE);
	s->white_host = bpf_map_lookup_elem(outer_host, &k);
	s->white_net = bpf_map_lookup_elem(outer_net, &k);
	k = ME_SYNC_SLOT(gen, ME_LIST_BLACK);
	s->black_host = bpf_map_lookup_elem(outer_host, &k);
	s->black_net = bpf_map_lookup_elem(outer_net, &k);
	return !s->white_host || !s->white_net || !s->black_host || !s->black_net;
}

static __always_inline void me_sync_load(void *outer_host, void *outer_net,
					 struct me_config *cfg, struct me_sync *s)
{
	__u32 gen = cfg->sync_gen;

	if (!me_sync_get(outer_host, outer_net, gen, s))
		return;
	/* A slot is empty: normal before the first sync, or a swap in flight. */
	if (*(volatile __u32 *)&cfg->sync_gen != gen) {
		me_event(ME_EV_SYNC_RETRY);
		me_sync_get(outer_host, outer_net, cfg->sync_gen, s);
	}
}

static __always_inline struct me_entry *me_host_lookup(void *manual, void *sync, const void *key,
						       struct me_clock *c)
{
	struct me_entry *e = bpf_map_lookup_elem(manual, key);

	if (e && me_live(e, c))
		return e;
	if (sync) {
		e = bpf_map_lookup_elem(sync, key);
		if (e && me_live(e, c))
			return e;
	}
	return NULL;
}

/*
 * Longest-prefix lookup that skips expired entries. An expired prefix would
 * otherwise shadow a shorter live one, so it is deleted (by its own length,
 * which the value carries: an LPM delete needs the exact prefix) and the lookup
 * repeated. key is the lookup key (struct me_lpm4 or me_lpm6, prefixlen first)
 * and is restored before returning. Two rounds: an expired prefix nested in
 * another expired one waits for the next packet.
 */
static __always_inline struct me_entry *me_net_lookup_one(void *trie, void *key, struct me_clock *c)
{
	struct me_net_entry *ne;
	__u32 *plen = key;
	__u32 full = *plen; /* the address's full length: 32 or 128 */
	int i;

#pragma unroll
	for (i = 0; i < 2; i++) {
		ne = bpf_map_lookup_elem(trie, key);
		if (!ne || me_live(&ne->e, c))
			return ne ? &ne->e : NULL;
		*plen = ne->prefixlen;
		bpf_map_delete_elem(trie, key);
		*plen = full;
	}
	return NULL;
}

static __always_inline struct me_entry *me_net_lookup(void *manual, void *sync, void *key,
						      struct me_clock *c)
{
	struct me_entry *e = me_net_lookup_one(manual, key, c);

	if (!e && sync)
		e = me_net_lookup_one(sync, key, c);
	return e;
}

/* Outcome of the list steps. */
struct me_match {
	struct me_entry *e;
	__u32 reason; /* ME_R_WHITE_HOST ... ME_R_BLACK_NET, or ME_R_CLEAN */
};

static __always_inline void me_lists4(const struct me_pkt *p, struct me_config *cfg,
				      struct me_clock *c, struct me_match *m)
{
	struct me_lpm4 lpm = { .prefixlen = 32, .addr = p->saddr[0] };
	__u32 host = p->saddr[0];
	struct me_sync s;

	me_sync_load(&sync_host4, &sync_net4, cfg, &s);

	m->reason = ME_R_WHITE_HOST;
	m->e = me_host_lookup(&white_host4, s.white_host, &host, c);
	if (m->e)
		return;
	m->reason = ME_R_WHITE_NET;
	m->e = me_net_lookup(&white_net4, s.white_net, &lpm, c);
	if (m->e)
		return;
	m->reason = ME_R_BLACK_HOST;
	m->e = me_host_lookup(&black_host4, s.black_host, &host, c);
	if (m->e)
		return;
	m->reason = ME_R_BLACK_NET;
	m->e = me_net_lookup(&black_net4, s.black_net, &lpm, c);
	if (m->e)
		return;
	m->reason = ME_R_CLEAN;
}

static __always_inline void me_lists6(const struct me_pkt *p, struct me_config *cfg,
				      struct me_clock *c, struct me_match *m)
{
	struct me_lpm6 lpm = { .prefixlen = 128 };
	struct me_addr6 host;
	struct me_sync s;

	host.w[0] = lpm.w[0] = p->saddr[0];
	host.w[1] = lpm.w[1] = p->saddr[1];
	host.w[2] = lpm.w[2] = p->saddr[2];
	host.w[3] = lpm.w[3] = p->saddr[3];
	me_sync_load(&sync_host6, &sync_net6, cfg, &s);

	m->reason = ME_R_WHITE_HOST;
	m->e = me_host_lookup(&white_host6, s.white_host, &host, c);
	if (m->e)
		return;
	m->reason = ME_R_WHITE_NET;
	m->e = me_net_lookup(&white_net6, s.white_net, &lpm, c);
	if (m->e)
		return;
	m->reason = ME_R_BLACK_HOST;
	m->e = me_host_lookup(&black_host6, s.black_host, &host, c);
	if (m->e)
		return;
	m->reason = ME_R_BLACK_NET;
	m->e = me_net_lookup(&black_net6, s.black_net, &lpm, c);
	if (m->e)
		return;
	m->reason = ME_R_CLEAN;
}

#endif /* MAILEDGE_LISTS_BPF_H */
