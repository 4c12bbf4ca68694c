/* SPDX-License-Identifier: GPL-2.0 */
/*
 * harvest.h - per-client counts over a sliding hour, process-wide: invalid
 * recipients for directory-harvest prevention (DHAP, IronPort's name for it)
 * and recipients per hour per client (a policy limit), issue 9.
 *
 * A client is an IPv4 address or an IPv6 /64, as the edge bans it
 * (common/edgeban.h: one host usually owns a /64 and could rotate through
 * it); an IPv4-mapped IPv6 peer is its IPv4 client. Sessions of one client
 * run on different worker threads, so the table is shared and locked; each
 * call holds one lock stripe for a scan of PX_HV_WAYS slots and a sum of 60
 * small counters, nothing more.
 *
 * The window: 60 one-minute buckets per client and kind. A count is what was
 * noted in the current minute and the 59 before it, so an event stops
 * counting between 59 and 60 minutes after it happened: the hour is read at
 * minute granularity, which is all a per-hour limit needs, and a client costs
 * a fixed 60 x 2 bytes per kind (a bucket saturates at 65,535).
 *
 * Memory is bounded: the table has a fixed number of slots, in sets of
 * PX_HV_WAYS chosen by a seeded hash of the client. A client new to a full set
 * takes the slot of the client seen least recently there (ties: the one with
 * the smallest counts), and that is counted as an eviction: under a flood of
 * spoofed or rotating addresses the counts of quiet clients go first, and the
 * stats say it happened. A client idle for an hour holds nothing worth keeping
 * and its slot counts as free. The seed is random per table, so an attacker
 * cannot aim many addresses at one set to evict a harvester's count.
 */
#ifndef PX_HARVEST_H
#define PX_HARVEST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* What is counted per client. */
enum px_hv_kind {
	PX_HV_INVALID = 0, /* invalid recipients: a 550 5.1.1 from a backend or
			    * the proxy's own recipient checks (DHAP) */
	PX_HV_RCPT = 1,	   /* recipients accepted (recipients per hour per client) */
	PX_HV_KINDS,
};

#define PX_HV_WAYS	  8  /* slots per set: one scan, a few cache lines */
#define PX_HV_BUCKETS	  60 /* one-minute buckets: an hour */
#define PX_HV_MIN_CLIENTS PX_HV_WAYS
#define PX_HV_MAX_CLIENTS (1u << 22) /* ~1.1 GB (272 bytes a slot): a typo guard */
/* ~4.5 MB; more clients than a gateway sees harvesting in an hour. */
#define PX_HV_DEF_CLIENTS 16384u

struct px_harvest;

struct px_harvest_stats {
	size_t capacity;    /* slots (max_clients rounded up to whole sets) */
	size_t clients;	    /* slots holding a client seen in the last hour */
	uint64_t evictions; /* clients pushed out by newer ones while still counted */
	uint64_t notes;	    /* px_harvest_note calls */
};

/* A table for at least max_clients clients (PX_HV_MIN_CLIENTS..
 * PX_HV_MAX_CLIENTS, rounded up to a power of two of sets). NULL with errno
 * EINVAL or ENOMEM. */
struct px_harvest *px_harvest_new(size_t max_clients);
void px_harvest_free(struct px_harvest *h);

/*
 * Add n events of kind for the client at sa at time now (seconds of any
 * monotonic clock; CLOCK_MONOTONIC in the proxy, a fake one in the tests) and
 * return its count in the last hour including them. -EAFNOSUPPORT for a
 * family other than IPv4/IPv6, -EINVAL for a bad kind.
 */
long px_harvest_note(struct px_harvest *h, const struct sockaddr *sa, enum px_hv_kind kind,
		     unsigned int n, uint64_t now);

/* The client's count of kind in the last hour, without adding to it (0 for a
 * client not in the table), or a negative errno as for px_harvest_note. */
long px_harvest_count(struct px_harvest *h, const struct sockaddr *sa, enum px_hv_kind kind,
		      uint64_t now);

/* Forget the client's counts (after an admin lifted its ban, say). */
void px_harvest_forget(struct px_harvest *h, const struct sockaddr *sa);

void px_harvest_stats(struct px_harvest *h, uint64_t now, struct px_harvest_stats *st);

#endif
