/* SPDX-License-Identifier: GPL-2.0 */
/*
 * incr.h - a refresh resolved from sorted keys, without the union.
 *
 * When the sources that changed changed only IPv4 hosts, what the maps must
 * change is decided key by key: for every host some source added or removed,
 * the entry a full rebuild would give it (union.c's rules: the first source in
 * the configuration wins a duplicate, a host goes when the longest subnet of
 * its list covering it has the same verdict, and the host table holds the
 * white entry before the black one) is worked out from every source's sorted
 * keys now and, for the sources fetched, what changed since (copykeys.h's
 * delta: the copy before is the keys now with those hosts toggled). Only the hosts whose entry differs reach the tables,
 * and the union's counts move by what changed. Anything else (a subnet or an
 * IPv6 entry added or removed) is -EAGAIN: the caller merges the union.
 */
#ifndef LS_INCR_H
#define LS_INCR_H

#include <stddef.h>

#include "copykeys.h"
#include "mailedge_abi.h"
#include "sync_delta.h"

struct ls_incr_src {
	int list;		/* ME_LIST_WHITE or ME_LIST_BLACK */
	struct me_entry val;	/* its src set to the source's id */
	const struct ls_keys *keys; /* the keys it has now; NULL: none */
	/* What changed since the copy the maps hold (a host is in that copy
	 * when it is in exactly one of keys and delta->hosts); NULL: nothing. */
	const struct ls_keys_delta *delta;
};

struct ls_incr {
	struct me_hostchg *chg; /* ascending by address */
	size_t n;
	long long delta[2]; /* the union's IPv4 hosts, per list: new minus old */
	size_t changed;	    /* keys added or removed by some source */
};

/* Sources in configuration order. 0, -EAGAIN (not hosts only), or -ENOMEM. */
int ls_incr_resolve(const struct ls_incr_src *s, size_t nsrc, struct ls_incr *out);
void ls_incr_free(struct ls_incr *in);

#endif
