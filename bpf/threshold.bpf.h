/* SPDX-License-Identifier: GPL-2.0 */
/*
 * threshold.bpf.h - per-source limit on new TCP connections, and temporary bans.
 *
 * The limit is a GCRA (the single-timestamp form of a token bucket): each source
 * has a "theoretical arrival time" (TAT); a SYN is allowed when, after adding one
 * emission interval (1/rate), the TAT is no further ahead of now than burst
 * intervals. A quiet source can therefore open `burst` connections at once and
 * `rate` per second after that. One u64 per source, updated with compare-and-
 * swap, so CPUs racing on the same source never lose or double an update and no
 * lock is needed (LRU hashes cannot hold a bpf_spin_lock).
 *
 * IPv4 sources are counted per /thr_v4_prefix (default 32), IPv6 per
 * /thr_v6_prefix (default 64: one host usually owns a whole /64, and counting per
 * /128 would let it rotate addresses past the limit).
 */
#ifndef MAILEDGE_THRESHOLD_BPF_H
#define MAILEDGE_THRESHOLD_BPF_H

#include "maps.bpf.h"
#include "parse.bpf.h"

#define ME_NSEC_PER_SEC 1000000000ULL
#define ME_CAS_TRIES	4

static __always_inline void me_event(__u32 ev)
{
	__u64 *v = bpf_map_lookup_elem(&events, &ev);

	if (v)
		*v += 1;
}

/* Network-order mask for word i (0..3) of a 128-bit prefix of length plen. */
static __always_inline __u32 me_mask_word(__u32 plen, int i)
{
	__u32 bits = plen > (__u32)i * 32 ? plen - i * 32 : 0;

	if (bits >= 32)
		return 0xffffffff;
	if (bits == 0)
		return 0;
	return bpf_htonl(0xffffffff << (32 - bits));
}

/* The key a source is counted and banned under. */
static __always_inline void me_src_key(const struct me_pkt *p, const struct me_config *cfg,
				       struct me_src_key *k)
{
	if (p->family == ME_AF_INET) {
		k->w[0] = 0;
		k->w[1] = 0;
		k->w[2] = bpf_htonl(0xffff);
		k->w[3] = p->saddr[0] & me_mask_word(cfg->thr_v4_prefix, 0);
		return;
	}
	k->w[0] = p->saddr[0] & me_mask_word(cfg->thr_v6_prefix, 0);
	k->w[1] = p->saddr[1] & me_mask_word(cfg->thr_v6_prefix, 1);
	k->w[2] = p->saddr[2] & me_mask_word(cfg->thr_v6_prefix, 2);
	k->w[3] = p->saddr[3] & me_mask_word(cfg->thr_v6_prefix, 3);
}

/* Is the source under a ban that has not ended? */
static __always_inline int me_banned(const struct me_src_key *k, __u64 now)
{
	__u64 *until = bpf_map_lookup_elem(&bans, k);

	return until && *until > now;
}

static __always_inline int me_port_protected(__u16 dport_host)
{
	__u32 zero = 0;
	struct me_ports *pp = bpf_map_lookup_elem(&ports, &zero);

	if (!pp)
		return 0;
	return pp->bits[(dport_host >> 3) & 0x1fff] & (1 << (dport_host & 7));
}

/* Account one new connection from k; returns 1 if it is within the limit. */
static __always_inline int me_rate_allow(const struct me_src_key *k, const struct me_config *cfg,
					 __u64 now)
{
	__u64 interval = ME_NSEC_PER_SEC / cfg->thr_rate;
	__u64 burst = cfg->thr_burst ? cfg->thr_burst : 1;
	__u64 tol = interval * burst;
	__u64 *tat, old, next;
	int i;

	tat = bpf_map_lookup_elem(&rates, k);
	if (!tat) {
		next = now + interval;
		/* Two CPUs may both miss; the loser's insert fails with EEXIST
		 * and its SYN is simply allowed, as the first of a burst. */
		if (!bpf_map_update_elem(&rates, k, &next, BPF_NOEXIST))
			me_event(ME_EV_RATE_INSERT);
		return 1;
	}

#pragma unroll
	for (i = 0; i < ME_CAS_TRIES; i++) {
		old = *(volatile __u64 *)tat;
		next = (old > now ? old : now) + interval;
		if (next - now > tol)
			return 0;
		if (__sync_val_compare_and_swap(tat, old, next) == old)
			return 1;
	}
	/* Lost every race: heavy contention on one source is itself a flood. */
	return 0;
}

static __always_inline void me_ban(const struct me_src_key *k, const struct me_config *cfg,
				   __u64 now)
{
	__u64 until = now + (__u64)cfg->thr_ban_secs * ME_NSEC_PER_SEC;

	if (!bpf_map_update_elem(&bans, k, &until, BPF_ANY))
		me_event(ME_EV_BAN_INSERT);
}

#endif /* MAILEDGE_THRESHOLD_BPF_H */
