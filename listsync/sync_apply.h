/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sync_apply.h - make the list-sync maps hold exactly a union, atomically.
 */
#ifndef ME_SYNC_APPLY_H
#define ME_SYNC_APPLY_H

#include <stddef.h>

#include "edge.h"
#include "synctab.h"
#include "union.h"

struct me_apply_stats {
	struct me_union_counts counts;
	double build_s; /* creating and filling the new generation */
	int in_place;	/* the host tables took the changes in place */
	size_t kept, added, removed; /* host slots, in place */
	int nets_rebuilt;	     /* subnet tables rebuilt, in place */
	int warm;	/* the IPv4 hosts written through a warm mapping (warm.h) */
	double swap_s;	/* flip, grace period, emptying the old generation */
	__u32 gen;	/* the generation now in use */
};

/*
 * Make the list-sync tables hold the merged union u: written in place into
 * the generation not in use where the tables allow (see sync_apply.c), else
 * built anew and installed in its slots; then flip me_config.sync_gen, wait
 * for every packet that may still be judged against the old generation (an
 * RCU grace period), and make both generations agree. A packet is judged
 * entirely by the old union or entirely by the new one. The caller holds the
 * pin-directory lock. On failure nothing visible changed and why says what
 * went wrong (a capacity exceeded, most likely).
 */
int me_sync_apply(struct me_edge *e, const struct me_union *u, struct me_apply_stats *st,
		  char *why, size_t why_len);
/* The same; with full, new tables are built even where a refresh in place
 * would do (mailedge-listsync run --rebuild). A refresh in place writes the
 * IPv4 hosts through warm's mapping when it is of the table in use (warm.h;
 * warm may be NULL). */
struct ls_warm;
int me_sync_apply_mode(struct me_edge *e, const struct me_union *u, int full,
		       struct ls_warm *warm, struct me_apply_stats *st, char *why, size_t why_len);

/*
 * A refresh of the IPv4 hosts only, from the hosts whose entry changes
 * (incr.h), in place and atomic as above; the subnet and IPv6 tables stay.
 * counts are the union's after the change (for the capacities and stats).
 * -EAGAIN with why set when only me_sync_apply will do. warm as above.
 */
struct me_hostchg;
int me_sync_apply_hosts4(struct me_edge *e, const struct me_hostchg *c, size_t n,
			 const struct me_union_counts *counts, struct ls_warm *warm,
			 struct me_apply_stats *st, char *why, size_t why_len);

/* The four tables of a merged union, indexed by family * 2 + is_net (IPv4
 * hosts, IPv4 subnets, IPv6 hosts, IPv6 subnets), created and filled but not
 * installed; the IPv4 host table has host4_elems elements (0: as many as it
 * needs, for a table no program reads). The caller destroys them
 * (me_tab_destroy) on success; on failure none is left. */
int me_sync_build(const struct me_union *u, __u32 host4_elems, struct me_tabmap *t, char *why,
		  size_t why_len);

/*
 * May the subnet tables of a generation hold white prefixes (its bit of
 * me_config.sync_white_nets)? Each of t's subnet tables where it was built,
 * else cur's (the one in use; cur may be NULL). Read from the tables' own
 * headers, not from counts kept elsewhere: a wrong "no" would let a synced
 * black host win over a white subnet. Any doubt is a "yes".
 */
int me_sync_white_nets(const struct me_tabmap *t, const struct me_tabmap *cur);
/* Bit gen of cfg->sync_white_nets made white, written to the map if it
 * changed. 0, or -errno with why. */
int me_sync_set_white_nets(struct me_edge *e, struct me_config *cfg, __u32 gen, int white,
			   char *why, size_t why_len);

/* Wait until every XDP program run that started before the call has ended. */
void me_rcu_grace(void);

#endif
