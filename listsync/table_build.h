/* SPDX-License-Identifier: GPL-2.0 */
/*
 * table_build.h - list sync writes its tables (layout: mailedge_abi.h).
 */
#ifndef ME_TABLE_BUILD_H
#define ME_TABLE_BUILD_H

#include <stddef.h>

#include "synctab.h"
#include "union.h"

/* The distinct (list, entry) pairs of a union: what table slots point at. */
struct me_tabdict {
	struct me_tab_val v[ME_TAB_VALS];
	__u32 n;
};

/* The index of (list, e), added if new; -ENOSPC past ME_TAB_VALS. */
int me_tabdict_index(struct me_tabdict *d, int list, const struct me_entry *e);

/* A new table map of kind with nelem elements, mapped read-write, its header
 * and dictionary written; fixed: made for a slot whose template fixes the
 * size (ME_TAB_FLAGS_FIXED). why says what failed. */
int me_tab_create(struct me_tabmap *t, enum me_tab_kind kind, __u32 nelem, int fixed,
		  const struct me_tabdict *d, char *why, size_t why_len);
/* Unmap and close a table made by me_tab_create. */
void me_tab_destroy(struct me_tabmap *t);

/* Which dictionary index each union record has (parallel to u->v). */
int me_tabdict_of_union(const struct me_union *u, struct me_tabdict *d, __u8 *idx, char *why,
			size_t why_len);

/*
 * Build the host table of one family (v6 0 or 1) from the union's host records,
 * every slot live in both generations. White entries go in first; a black entry
 * for a host the whitelist has is left out (the whitelist wins anyway). Picks a
 * new seed, then a larger table, until every entry has a place in one of its two
 * buckets. nelem, if not 0, is the size the slot's template fixes (the IPv4
 * host table: me_host4_elems): the table has exactly that many elements and
 * uses as many buckets as it needs of them. *t is the table, ready to install.
 */
int me_hostab_build(const struct me_union *u, const __u8 *idx, const struct me_tabdict *d, int v6,
		    __u32 nelem, struct me_tabmap *t, char *why, size_t why_len);

/* The subnet table of one family, painted (see mailedge_abi.h). */
int me_nettab_build(const struct me_union *u, const __u8 *idx, const struct me_tabdict *d, int v6,
		    struct me_tabmap *t, char *why, size_t why_len);

/* In-place edits of a live host table, for a refresh. They only touch the
 * bits of generation gen, which no packet reads while the caller works.
 * A position is bucket * 16 + slot. */
/* The position of addr's slot live in generation gen, or -ENOENT. */
int me_hostab_locate(const struct me_tabmap *t, const __u8 *addr, __u32 gen);
/* A slot's position, as the functions below take and return it: its bucket
 * times ME_HOSTAB_POS_PER_BUCKET, plus its slot in the bucket. */
#define ME_HOSTAB_POS_PER_BUCKET 16
#define ME_HOSTAB_POS_BUCKET(p)	 ((__u32)(p) / ME_HOSTAB_POS_PER_BUCKET)

/* Put (addr, val) in a free slot (dead in both generations) of its buckets,
 * live in gen only; returns its position, or -ENOSPC if both buckets are full
 * (entries are never moved under readers). */
int me_hostab_add(struct me_tabmap *t, const __u8 *addr, __u8 val, __u32 gen);
/* Room in addr's buckets, made by copying one entry that movable() allows (and
 * that is live in both generations) to a free slot of its other bucket, live
 * in both at once. Returns the position of the original, which the caller
 * frees (me_hostab_free) and then takes (me_hostab_put) only after a grace
 * period: a packet may have looked in the other bucket before the copy and be
 * about to look here. *to is the copy's position. -ENOSPC if nothing moves. */
typedef int (*me_hostab_movable_fn)(void *ctx, int pos);
int me_hostab_make_room(struct me_tabmap *t, const __u8 *addr, me_hostab_movable_fn movable,
			void *ctx, int *to);
/* Make the slot at pos dead in both generations. */
void me_hostab_free(struct me_tabmap *t, int pos);
/* Put (addr, val) in the free slot at pos, live in gen only. */
int me_hostab_put(struct me_tabmap *t, int pos, const __u8 *addr, __u8 val, __u32 gen);
/* Make the slot at pos dead in gen. */
void me_hostab_kill(struct me_tabmap *t, int pos, __u32 gen);
/* The dictionary index of the slot at pos. */
__u8 me_hostab_val(const struct me_tabmap *t, int pos);
/* Make the other generation's bits equal gen's (after the flip to gen and a
 * grace period, or to undo an unfinished refresh). Returns the slots changed. */
size_t me_hostab_settle(struct me_tabmap *t, __u32 gen);
/* The same for buckets b[0..n) only: those a refresh in place wrote, which
 * are all that can differ when the table was settled before it began. */
size_t me_hostab_settle_buckets(struct me_tabmap *t, __u32 gen, const __u32 *b, size_t n);
/*
 * A settle only where one is due: a walk of every bucket is 20 ms at 8M
 * hosts, and a table is unsettled only while a refresh writes it (or after
 * one died doing so). me_hostab_settled settles t to gen if it may be
 * unsettled; me_hostab_begin, before a refresh in place writes the bits of
 * generation nxt, makes them start as the generation in use and marks the
 * table unsettled until the next me_hostab_settle.
 */
void me_hostab_settled(struct me_tabmap *t, __u32 gen);
void me_hostab_begin(struct me_tabmap *t, __u32 nxt);
/* Recount h->count[] from the slots live in gen. */
void me_hostab_recount(struct me_tabmap *t, __u32 gen);

#endif
