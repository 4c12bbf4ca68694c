/* SPDX-License-Identifier: GPL-2.0 */
/*
 * union.h - the merged set of list-sync entries that the sync maps must hold.
 *
 * Sources add entries in priority order (the order of the configuration); the
 * union then merges them: one entry per prefix (the first source's), and a
 * prefix dropped when a shorter one with the same action already covers it.
 * Prefixes with a different action than the one covering them stay: the longest
 * match decides in the kernel, so they still mean something.
 */
#ifndef ME_UNION_H
#define ME_UNION_H

#include <stddef.h>
#include <linux/types.h>

#include "addr.h"
#include "mailedge_abi.h"

/* One entry, 28 bytes: 8 million of them is 224 MB before merging. */
struct me_urec {
	__u8 addr[16];
	__u8 len;
	__u8 family; /* 4 or 6 */
	__u8 list;   /* ME_LIST_WHITE or ME_LIST_BLACK */
	__u8 prio;   /* position of the source in the configuration */
	struct me_entry val;
};

struct me_union {
	struct me_urec *v;
	size_t n, cap;
	int merged;
};

/* Counts per target map, after me_union_merge. Index: [list][family 0/1][net]. */
struct me_union_counts {
	size_t n[2][2][2];
};

void me_union_init(struct me_union *u);
void me_union_free(struct me_union *u);
/* Room for more records without growing (a caller that knows how many). */
int me_union_reserve(struct me_union *u, size_t more);
int me_union_add(struct me_union *u, int list, const struct me_prefix *p,
		 const struct me_entry *val, unsigned int prio);
/* Sort, drop duplicates and covered prefixes; *removed counts what went. */
void me_union_merge(struct me_union *u, size_t *removed);
void me_union_counts(const struct me_union *u, struct me_union_counts *c);
/* Order-independent digest of a merged union, to skip applying an unchanged one. */
__u64 me_union_digest(const struct me_union *u);
void me_urec_prefix(const struct me_urec *r, struct me_prefix *p);

#endif
