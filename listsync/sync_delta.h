/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sync_delta.h - a refresh written into the live tables, in proportion to what
 * changed.
 */
#ifndef ME_SYNC_DELTA_H
#define ME_SYNC_DELTA_H

#include <stddef.h>

#include "synctab.h"
#include "union.h"

struct me_delta_stats {
	size_t kept, added, removed, moved;
	long long count[2]; /* the table's hosts per list: after less before
			     * (me_delta_hosts_chg keeps it; the other recounts) */
	__u32 *touched;	    /* me_delta_hosts_chg: the buckets it wrote (NULL:
			     * unknown, settle them all); the caller frees it */
	size_t ntouched, touched_cap;
};

/*
 * Make the slots of host table t that are live in generation nxt hold exactly
 * the union's hosts of its family (whitelist winning over blacklist), touching
 * only nxt's bits: the generation in use (nxt ^ 1) sees nothing of it until the
 * caller flips. New dictionary entries are appended (the dictionary is shared
 * by both generations; no slot of the old one names them). -EAGAIN with why
 * set when only a rebuild will do (no room in a host's two buckets, a full
 * dictionary, a table far too large for the new data); nxt's bits are then
 * put back as they were.
 */
int me_delta_hosts(struct me_tabmap *t, const struct me_union *u, __u32 nxt,
		   struct me_delta_stats *ds, char *why, size_t why_len);

/* One IPv4 host whose table entry a refresh changes (incr.h). */
struct me_hostchg {
	__u8 addr[16];	     /* network order, IPv4 in the first 4 (the rest 0) */
	int list;	     /* ME_LIST_WHITE or ME_LIST_BLACK; -1: no entry any more */
	struct me_entry val; /* with list >= 0 */
};

/*
 * The same as me_delta_hosts for IPv4 host table t, but from the list of the
 * hosts whose entry changes, in proportion to it: every other slot keeps what
 * the generation in use has. The caller vouches that the table held the
 * union these changes start from. -EAGAIN as for me_delta_hosts.
 */
int me_delta_hosts_chg(struct me_tabmap *t, const struct me_hostchg *c, size_t n, __u32 nxt,
		       struct me_delta_stats *ds, char *why, size_t why_len);

/* Does subnet table t hold exactly the union's subnets of its family, with the
 * same entries? Then a refresh keeps it. */
int me_nettab_same(const struct me_tabmap *t, const struct me_union *u);

#endif
