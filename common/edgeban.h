/* SPDX-License-Identifier: GPL-2.0 */
/*
 * edgeban.h - the proxy's temporary bans at the edge (issue 9, harvest
 * prevention).
 *
 * A proxy ban is an ordinary entry of the ADMIN's blacklist maps, told apart by
 * its source: { action drop, src ME_SRC_PROXY, expires now + secs }. The XDP
 * program already treats an expired entry as absent and counts the drops of a
 * live one in list_hits[ME_SRC_PROXY], so nothing in the kernel knows about
 * the proxy; list show, lookup and status show the bans by source name, and
 * "mailedge-loader unban ADDR" lifts them.
 *
 * A client is banned under the prefix it is counted under everywhere: an IPv4
 * address as its /32 (the host map), an IPv6 address as its /64 (the subnet
 * map: one host usually owns a /64 and could rotate through it). An
 * IPv4-mapped IPv6 address is the IPv4 client it stands for.
 *
 * Rules, so that the proxy can never undo the admin's work:
 *  - an entry of another source (manual, or an imported one) under the same
 *    prefix is never overwritten: -EEXIST;
 *  - a longer ban extends a live proxy ban, a shorter one leaves it as it is;
 *  - an expired proxy ban is replaced as if it were absent.
 * Every change is made under the pin-directory lock (the one the loader and
 * list sync take), and in this process under a mutex: sessions of one client
 * run on different worker threads, and flock() does not tell threads sharing
 * one descriptor apart.
 */
#ifndef ME_EDGEBAN_H
#define ME_EDGEBAN_H

#include <sys/socket.h>
#include <linux/types.h>

#include "addr.h"
#include "edge.h"

/* Prefix lengths a client is banned (and counted, by proxy/harvest.c) under. */
#define ME_EDGEBAN_V4_LEN 32
#define ME_EDGEBAN_V6_LEN 64

/* Ten years: a typo guard, as for list add --expires, not a policy. */
#define ME_EDGEBAN_MAX_SECS 315360000u

enum me_edgeban_outcome {
	ME_EDGEBAN_NEW = 0,	 /* no live proxy ban before; there is one now */
	ME_EDGEBAN_EXTENDED = 1, /* a live proxy ban now ends later */
	ME_EDGEBAN_KEPT = 2,	 /* a live proxy ban already lasted at least as long */
};

/* The prefix the client at sa is banned and counted under. 0, or -EAFNOSUPPORT
 * for a family other than AF_INET/AF_INET6. */
int me_edgeban_client(const struct sockaddr *sa, struct me_prefix *out);

/* The same for an address or prefix as the admin types it (any length: the
 * address is folded to /32 or /64). */
void me_edgeban_fold(const struct me_prefix *addr, struct me_prefix *out);

/*
 * Ban the client of addr for secs (1..ME_EDGEBAN_MAX_SECS) seconds. Waits up to
 * lock_ms for the pin-directory lock (a proxy on its event loop passes a small
 * value; -EBUSY when it is held longer). Unless NULL, *until receives the ban's
 * end (CLOCK_BOOTTIME seconds, as me_entry.expires) and *pfx the prefix banned.
 * Returns an enum me_edgeban_outcome, or -EEXIST (another source's entry holds
 * the prefix; left alone), -ENOSPC (the admin's map is full), -EINVAL, -EBUSY or
 * another -errno.
 */
int me_edgeban_add(struct me_edge *e, const struct me_prefix *addr, __u32 secs, int lock_ms,
		   __u32 *until, struct me_prefix *pfx);

/*
 * Lift the proxy ban covering addr: the entry under its fold (above), and for
 * IPv6 also a proxy host entry of exactly that address. Entries of other
 * sources stay. Returns the number of live bans lifted (0: none; expired ones
 * are removed too but not counted), or -errno. *pfx, unless NULL, receives the
 * folded prefix.
 */
int me_edgeban_lift(struct me_edge *e, const struct me_prefix *addr, int lock_ms,
		    struct me_prefix *pfx);

/* Is v a live proxy ban at now (CLOCK_BOOTTIME seconds)? */
int me_edgeban_live(const struct me_entry *v, __u32 now);

/* Count the live proxy bans in the admin's maps; *soonest receives the
 * earliest end among them (0 when none). 0 or -errno. */
int me_edgeban_count(struct me_edge *e, __u64 *live, __u32 *soonest);

#endif
