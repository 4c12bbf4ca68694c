/* SPDX-License-Identifier: GPL-2.0 */
/*
 * table.h - the arithmetic of the list-sync tables, for both sides.
 *
 * The XDP program (bpf/lists.bpf.h) and userspace (list sync's builder, the
 * loader's lookup and list show) include this one file, so the hash, the choice
 * of buckets and the reading of a bucket or a trie entry cannot drift apart.
 * Everything here works on memory the caller has found: the program gets its
 * elements from bpf_map_lookup_elem, userspace from the table's mmap.
 * See "List-sync tables" in mailedge_abi.h for the layout.
 */
#ifndef ME_TABLE_H
#define ME_TABLE_H

#include <linux/types.h>

#include "mailedge_abi.h"

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

#if defined(__clang__)
#define ME_UNROLL _Pragma("unroll")
#else
#define ME_UNROLL _Pragma("GCC unroll 16")
#endif

/* splitmix64's finalizer: every input bit moves every output bit, at the cost
 * of two multiplications, which the program can afford per packet. */
static __always_inline __u64 me_tab_mix(__u64 x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/* Two multiplicative hashes of key ^ seed, one a half: the high 32 bits of a
 * 64-bit product, which every bit of the key reaches. The two multiplications
 * do not depend on each other, so this is one multiply's latency on the
 * packet path where me_tab_mix takes two in a row and three shifts; a
 * thirty-two-bit key needs no more mixing for two-choice buckets. */
static __always_inline __u64 me_tab_hash4(__u32 key, __u32 seed)
{
	__u64 x = key ^ seed;

	return (x * 0x9e3779b97f4a7c15ULL) >> 32 | ((x * 0xc2b2ae3d27d4eb4fULL) & 0xffffffff00000000ULL);
}

static __always_inline __u64 me_tab_hash6(const __u32 *w, __u32 seed)
{
	__u64 h = me_tab_mix(((__u64)w[0] << 32 | w[1]) ^ ((__u64)seed * 0x9e3779b97f4a7c15ULL));

	return me_tab_mix(h ^ ((__u64)w[2] << 32 | w[3]));
}

/* The two buckets of a hash: each half scaled to [0, nbuckets) by a multiply
 * and a shift (no division on the packet path). */
static __always_inline __u32 me_tab_bucket1(__u64 h, __u32 nbuckets)
{
	return (__u32)(((h & 0xffffffffULL) * nbuckets) >> 32);
}

static __always_inline __u32 me_tab_bucket2(__u64 h, __u32 nbuckets)
{
	return (__u32)(((h >> 32) * nbuckets) >> 32);
}

/* The visibility bits of generation gen, shifted down to bit 0 = slot 0. */
static __always_inline __u32 me_tab_vis(__u32 vis, __u32 gen)
{
	return (vis >> ((gen & 1) * ME_VIS_SHIFT)) & 0xffffu;
}

/* The slot of key in bucket b that is live in generation gen, or -1. */
static __always_inline int me_hb4_find(const struct me_hb4 *b, __u32 key, __u32 gen)
{
	__u32 vis = me_tab_vis(b->vis, gen);
	int i;

	/* The key first: it rarely matches, so a slot costs one compare. */
	ME_UNROLL
	for (i = 0; i < ME_HB4_SLOTS; i++)
		if (b->key[i] == key && (vis & (1u << i)))
			return i;
	return -1;
}

static __always_inline int me_hb6_find(const struct me_hb6 *b, const __u32 *w, __u32 gen)
{
	__u32 vis = me_tab_vis(b->vis, gen);
	int i;

	ME_UNROLL
	for (i = 0; i < ME_HB6_SLOTS; i++)
		if ((vis & (1u << i)) && b->key[i].w[0] == w[0] && b->key[i].w[1] == w[1] &&
		    b->key[i].w[2] == w[2] && b->key[i].w[3] == w[3])
			return i;
	return -1;
}

/* Dictionary index v: the element that holds it and its place in there. */
static __always_inline __u32 me_tab_val_elem(const struct me_tab_hdr *h, __u32 v)
{
	return 1 + v / (h->elem_size / (__u32)sizeof(struct me_tab_val));
}

static __always_inline __u32 me_tab_val_slot(const struct me_tab_hdr *h, __u32 v)
{
	return v % (h->elem_size / (__u32)sizeof(struct me_tab_val));
}

/* Trie entries: a leaf (0 = nothing, else dictionary index + 1) or a chunk. */
static __always_inline int me_tn4_is_chunk(__u16 e)
{
	return (e & ME_TN4_CHUNK) != 0;
}

static __always_inline int me_tn6_is_chunk(__u32 e)
{
	return (e & ME_TN6_CHUNK) != 0;
}

/* Elements a table needs before its buckets or its root: header and dictionary. */
static __always_inline __u32 me_tab_head_elems(__u32 elem_size)
{
	return 1 + ME_TAB_VAL_BYTES / elem_size;
}

/*
 * The IPv4 host table's size, fixed when the program is loaded: its inner map
 * template names the number of elements, so that the verifier can inline the
 * program's four lookups in it (array arithmetic, no helper call). Room for
 * hosts at the builder's fill target, and 10% more for builds that retry with
 * more buckets; a table uses the buckets it needs and leaves the rest unread.
 */
#define ME_HOST4_LOAD_PCT 85  /* fill target: slots in use, in % */
#define ME_HOST4_ROOM_PCT 110 /* buckets there are, in % of those at the target */

static __always_inline __u32 me_host4_buckets_max(__u32 hosts)
{
	__u64 per = (__u64)ME_HB4_SLOTS * ME_HOST4_LOAD_PCT;

	return (__u32)(((__u64)hosts * ME_HOST4_ROOM_PCT + per - 1) / per) + 1;
}

static __always_inline __u32 me_host4_elems(__u32 hosts)
{
	return me_tab_head_elems(sizeof(struct me_hb4)) + me_host4_buckets_max(hosts);
}

#endif /* ME_TABLE_H */
