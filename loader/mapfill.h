/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mapfill.h - how many entries each map holds, and what its capacity means.
 *
 * Shared by status (the MAP table) and metrics. The manual list maps and the
 * threshold's maps have a capacity fixed at attach time, so entries/capacity
 * is a fill level worth watching. A list-sync map does not: list sync creates
 * each generation's inner map sized to what it loads, so it is always "100%
 * full" and the number says nothing; for those only the entry count is shown.
 */
#ifndef ME_LOADER_MAPFILL_H
#define ME_LOADER_MAPFILL_H

#include <linux/types.h>

#include "edge.h"

enum mapfill_kind {
	MF_MANUAL, /* admin's list map: fixed capacity */
	MF_SYNCED, /* list-sync inner map of the generation in use: sized to content */
	MF_STATE,  /* threshold state (rates, bans): fixed capacity, LRU */
};

struct mapfill {
	const char *name;   /* "black_host4", "sync_black_net6", "rates", ... */
	const char *list;   /* "white", "black", or NULL for state maps */
	const char *family; /* "ipv4", "ipv6", or NULL */
	enum mapfill_kind kind;
	__u64 entries;
	__u32 capacity; /* 0: no inner map in the slot (synced), or unreadable */
};

/* 8 manual + 8 synced + rates + bans */
#define MAPFILL_MAX 18

/* Fill f (MAPFILL_MAX entries) for the maps of e; returns how many. */
int mapfill_read(struct me_edge *e, struct mapfill *f);

const char *mapfill_kind_name(enum mapfill_kind k);

#endif
