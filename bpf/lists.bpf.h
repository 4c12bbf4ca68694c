/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lists.bpf.h - white/black list lookups for one source address.
 *
 * Each step of the verdict order looks in the admin's (manual) map first, then at
 * list sync's answer, so an admin's entry for a host wins over a synced one. The
 * admin's maps are hash maps and LPM tries, looked up only when admin_used says
 * they may hold entries. List sync's are its own tables
 * (mailedge_abi.h, "List-sync tables"), both taken from the generation read once
 * per packet: a host table answers in two independent cache lines, a subnet
 * table in one (IPv4 up to /24) or a short chain of them, and the answer
 * already has "whitelist wins" applied.
 */
#ifndef MAILEDGE_LISTS_BPF_H
#define MAILEDGE_LISTS_BPF_H

#include "maps.bpf.h"
#include "parse.bpf.h"
#include "threshold.bpf.h"
#include "table.h"

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

static __always_inline struct me_entry *me_host_lookup(void *map, const void *key,
						       struct me_clock *c)
{
	struct me_entry *e = bpf_map_lookup_elem(map, key);

	return e && me_live(e, c) ? e : NULL;
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

/* Dictionary entry v of a table whose elements hold per_elem of them (a
 * constant, so that the verifier can bound the offset). */
static __always_inline struct me_tab_val *me_tab_val_at(void *tab, __u32 v, __u32 per_elem)
{
	__u32 k = 1 + v / per_elem;
	struct me_tab_val *el = bpf_map_lookup_elem(tab, &k);

	if (!el)
		return NULL;
	/* Else clang may fold the offset into a select before the test, and
	 * the verifier refuses arithmetic on a pointer that may be NULL. */
	barrier_var(el);
	return el + (v & (per_elem - 1));
}

#define ME_VALS_HOST 4	/* 64-byte elements */
#define ME_VALS_NET4 32 /* 512-byte elements */
#define ME_VALS_NET6 64 /* 1024-byte elements */

static __always_inline struct me_tab_hdr *me_tab_hdr(void *tab)
{
	__u32 zero = 0;

	return tab ? bpf_map_lookup_elem(tab, &zero) : NULL;
}

/* The two buckets are looked up before either is searched: their loads do
 * not depend on each other, so a cold lookup costs one memory latency, not two. */
static __always_inline struct me_tab_val *me_sync_host4(void *tab, __u32 addr, __u32 gen)
{
	struct me_tab_hdr *h = me_tab_hdr(tab);
	struct me_hb4 *b1, *b2;
	__u32 k1, k2;
	__u64 hash;
	int i;

	if (!h || !h->nbuckets)
		return NULL;
	hash = me_tab_hash4(addr, h->seed);
	k1 = h->base + me_tab_bucket1(hash, h->nbuckets);
	k2 = h->base + me_tab_bucket2(hash, h->nbuckets);
	b1 = bpf_map_lookup_elem(tab, &k1);
	b2 = bpf_map_lookup_elem(tab, &k2);
	if (b1) {
		i = me_hb4_find(b1, addr, gen);
		if (i >= 0)
			return me_tab_val_at(tab, b1->val[i], ME_VALS_HOST);
	}
	if (b2) {
		i = me_hb4_find(b2, addr, gen);
		if (i >= 0)
			return me_tab_val_at(tab, b2->val[i], ME_VALS_HOST);
	}
	return NULL;
}

static __always_inline struct me_tab_val *me_sync_host6(void *tab, const __u32 *w, __u32 gen)
{
	struct me_tab_hdr *h = me_tab_hdr(tab);
	struct me_hb6 *b1, *b2;
	__u32 k1, k2;
	__u64 hash;
	int i;

	if (!h || !h->nbuckets)
		return NULL;
	hash = me_tab_hash6(w, h->seed);
	k1 = h->base + me_tab_bucket1(hash, h->nbuckets);
	k2 = h->base + me_tab_bucket2(hash, h->nbuckets);
	b1 = bpf_map_lookup_elem(tab, &k1);
	b2 = bpf_map_lookup_elem(tab, &k2);
	if (b1) {
		i = me_hb6_find(b1, w, gen);
		if (i >= 0)
			return me_tab_val_at(tab, b1->val[i], ME_VALS_HOST);
	}
	if (b2) {
		i = me_hb6_find(b2, w, gen);
		if (i >= 0)
			return me_tab_val_at(tab, b2->val[i], ME_VALS_HOST);
	}
	return NULL;
}

/* DIR-24-8: one read for prefixes up to /24, a second for longer ones. */
static __always_inline struct me_tab_val *me_sync_net4(void *tab, __u32 addr_be)
{
	struct me_tab_hdr *h = me_tab_hdr(tab);
	__u32 a = bpf_ntohl(addr_be), i = a >> 8, k;
	struct me_tn4 *el;
	__u16 e;

	if (!h || !h->nprefixes)
		return NULL;
	k = h->base + i / ME_TN_FANOUT;
	el = bpf_map_lookup_elem(tab, &k);
	if (!el)
		return NULL;
	e = el->e[i & (ME_TN_FANOUT - 1)];
	if (me_tn4_is_chunk(e)) {
		k = h->chunk_base + (e & ~ME_TN4_CHUNK);
		el = bpf_map_lookup_elem(tab, &k);
		if (!el)
			return NULL;
		e = el->e[a & (ME_TN_FANOUT - 1)];
	}
	if (!e || me_tn4_is_chunk(e))
		return NULL;
	return me_tab_val_at(tab, (__u32)(e - 1) & (ME_TAB_VALS - 1), ME_VALS_NET4);
}

/* Stride 16, then 8 a level: a /48 is the root and four chunks. */
static __always_inline struct me_tab_val *me_sync_net6(void *tab, const __u32 *w_be)
{
	struct me_tab_hdr *h = me_tab_hdr(tab);
	__u64 hi, lo; /* the address as two host-order halves: shifts, not a stack array */
	__u32 r, k, e, byte;
	struct me_tn6 *el;
	int d;

	if (!h || !h->nprefixes)
		return NULL;
	hi = (__u64)bpf_ntohl(w_be[0]) << 32 | bpf_ntohl(w_be[1]);
	lo = (__u64)bpf_ntohl(w_be[2]) << 32 | bpf_ntohl(w_be[3]);
	r = (__u32)(hi >> 48);
	k = h->base + r / ME_TN_FANOUT;
	el = bpf_map_lookup_elem(tab, &k);
	if (!el)
		return NULL;
	e = el->e[r & (ME_TN_FANOUT - 1)];
	for (d = 0; d < ME_TN6_LEVELS; d++) {
		if (!me_tn6_is_chunk(e))
			break;
		/* bits 16 + 8d .. 23 + 8d of the address */
		byte = (__u32)(d < 6 ? hi >> ((5 - d) * 8) : lo >> ((13 - d) * 8)) & 0xff;
		k = h->chunk_base + (e & ~ME_TN6_CHUNK);
		el = bpf_map_lookup_elem(tab, &k);
		if (!el)
			return NULL;
		e = el->e[byte];
	}
	if (!e || me_tn6_is_chunk(e))
		return NULL;
	return me_tab_val_at(tab, (e - 1) & (ME_TAB_VALS - 1), ME_VALS_NET6);
}

/* A synced entry of the list asked for, if live. */
static __always_inline struct me_entry *me_synced(struct me_tab_val *v, __u32 list,
						  struct me_clock *c)
{
	return v && v->list == list && me_live(&v->e, c) ? &v->e : NULL;
}

/*
 * Does the synced host answer sh decide the lists whatever the subnet tables
 * say, so that they need not be read? A live white host passes before any
 * subnet step. A live black host follows only the white subnet steps, and
 * the synced one cannot match when the generation's subnet tables hold no
 * white prefix (the admin's white subnets are still asked, in me_order). A
 * host hit then costs its own table's two lines, not a third.
 */
static __always_inline int me_host_decides(struct me_tab_val *sh, const struct me_config *cfg,
					   __u32 gen, struct me_clock *c)
{
	return sh && me_live(&sh->e, c) &&
	       (sh->list == ME_LIST_WHITE || !((cfg->sync_white_nets >> gen) & 1));
}

/* Outcome of the list steps. */
struct me_match {
	struct me_entry *e;
	__u32 reason; /* ME_R_WHITE_HOST ... ME_R_BLACK_NET, or ME_R_CLEAN */
};

/* May the admin map of this slot hold entries? An array lookup with a
 * constant key, which the verifier inlines: far cheaper than asking an empty
 * hash map or trie. */
static __always_inline int me_admin_used(__u32 slot)
{
	__u32 *used = bpf_map_lookup_elem(&admin_used, &slot);

	return used && *used;
}

/* The verdict order over one family's maps: each step asks the admin's map
 * (if it may hold entries), then list sync's table (whose answer for hosts
 * and for subnets was found up front, once, since one table holds both
 * lists; sn is NULL where me_host_decides made the subnet one needless). */
static __always_inline void me_order(struct me_match *m, struct me_clock *c, __u32 v6, void *wh,
				     void *wn, void *bh, void *bn, const void *host, void *lpm,
				     struct me_tab_val *sh, struct me_tab_val *sn)
{
	m->e = NULL;
	m->reason = ME_R_WHITE_HOST;
	if (me_admin_used(ME_ADMIN_SLOT(ME_LIST_WHITE, 0, v6)))
		m->e = me_host_lookup(wh, host, c);
	if (m->e || (m->e = me_synced(sh, ME_LIST_WHITE, c)))
		return;
	m->reason = ME_R_WHITE_NET;
	if (me_admin_used(ME_ADMIN_SLOT(ME_LIST_WHITE, 1, v6)))
		m->e = me_net_lookup_one(wn, lpm, c);
	if (m->e || (m->e = me_synced(sn, ME_LIST_WHITE, c)))
		return;
	m->reason = ME_R_BLACK_HOST;
	if (me_admin_used(ME_ADMIN_SLOT(ME_LIST_BLACK, 0, v6)))
		m->e = me_host_lookup(bh, host, c);
	if (m->e || (m->e = me_synced(sh, ME_LIST_BLACK, c)))
		return;
	m->reason = ME_R_BLACK_NET;
	if (me_admin_used(ME_ADMIN_SLOT(ME_LIST_BLACK, 1, v6)))
		m->e = me_net_lookup_one(bn, lpm, c);
	if (m->e || (m->e = me_synced(sn, ME_LIST_BLACK, c)))
		return;
	m->reason = ME_R_CLEAN;
}

static __always_inline void me_lists4(const struct me_pkt *p, struct me_config *cfg,
				      struct me_clock *c, struct me_match *m)
{
	struct me_lpm4 lpm = { .prefixlen = 32, .addr = p->saddr[0] };
	__u32 host = p->saddr[0], gen = cfg->sync_gen & 1;
	struct me_tab_val *sh, *sn;

	sh = me_sync_host4(bpf_map_lookup_elem(&sync_host4, &gen), host, gen);
	sn = me_host_decides(sh, cfg, gen, c) ? NULL
					      : me_sync_net4(bpf_map_lookup_elem(&sync_net4, &gen), host);
	me_order(m, c, 0, &white_host4, &white_net4, &black_host4, &black_net4, &host, &lpm, sh,
		 sn);
}

static __always_inline void me_lists6(const struct me_pkt *p, struct me_config *cfg,
				      struct me_clock *c, struct me_match *m)
{
	struct me_lpm6 lpm = { .prefixlen = 128 };
	__u32 gen = cfg->sync_gen & 1;
	struct me_tab_val *sh, *sn;
	struct me_addr6 host;

	host.w[0] = lpm.w[0] = p->saddr[0];
	host.w[1] = lpm.w[1] = p->saddr[1];
	host.w[2] = lpm.w[2] = p->saddr[2];
	host.w[3] = lpm.w[3] = p->saddr[3];
	sh = me_sync_host6(bpf_map_lookup_elem(&sync_host6, &gen), host.w, gen);
	sn = me_host_decides(sh, cfg, gen, c) ? NULL
					      : me_sync_net6(bpf_map_lookup_elem(&sync_net6, &gen), host.w);
	me_order(m, c, 1, &white_host6, &white_net6, &black_host6, &black_net6, &host, &lpm, sh,
		 sn);
}

#endif /* MAILEDGE_LISTS_BPF_H */
