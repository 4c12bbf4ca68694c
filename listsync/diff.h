/* SPDX-License-Identifier: GPL-2.0 */
/*
 * diff.h - what a list-sync run would change in the maps (run --dry-run).
 */
#ifndef LS_DIFF_H
#define LS_DIFF_H

#include <stdio.h>

#include "edge.h"
#include "union.h"

struct ls_diff_counts {
	size_t added[2], removed[2]; /* by list: ME_LIST_WHITE, ME_LIST_BLACK */
};

/*
 * Compare the merged union u with the list-sync entries the maps of e hold now
 * (e NULL: there are no maps yet, so everything is an add) and print one line
 * per change to out, sorted by list and address:
 *
 *   + black 203.0.113.0/24 drop source=spamhaus-drop
 *   - white 192.0.2.7 pass source=local-white
 *
 * An entry whose action or source changes is a '-' of the old and a '+' of the
 * new. names[i] is the name of source id ids[i] (for entries not in the maps
 * yet); entries already in the maps are named by the maps' own source table.
 * Then one summary line, "diff: black +A -R, white +A -R". Returns 0 or -errno.
 */
int ls_diff_print(struct me_edge *e, const struct me_union *u, const char *const *names,
		  const unsigned char *ids, size_t nsrc, FILE *out, struct ls_diff_counts *c);

#endif
