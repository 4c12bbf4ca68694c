/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sync_apply.h - make the list-sync maps hold exactly a union, atomically.
 */
#ifndef ME_SYNC_APPLY_H
#define ME_SYNC_APPLY_H

#include <stddef.h>

#include "edge.h"
#include "union.h"

struct me_apply_stats {
	struct me_union_counts counts;
	double build_s; /* creating and filling the new generation */
	double swap_s;	/* flip, grace period, emptying the old generation */
	__u32 gen;	/* the generation now in use */
};

/*
 * Build the merged union u into fresh inner maps for the inactive generation,
 * flip me_config.sync_gen, wait for every packet that may still be judged
 * against the old generation (an RCU grace period), then empty the old slots.
 * A packet is judged entirely by the old union or entirely by the new one. The
 * caller holds the pin-directory lock. On failure nothing visible changed and
 * why says what went wrong (a capacity exceeded, most likely).
 */
int me_sync_apply(struct me_edge *e, const struct me_union *u, struct me_apply_stats *st,
		  char *why, size_t why_len);

/* Wait until every XDP program run that started before the call has ended. */
void me_rcu_grace(void);

#endif
