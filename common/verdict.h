/* SPDX-License-Identifier: GPL-2.0 */
/*
 * verdict.h - the XDP program's verdict order, in userspace, over a struct me_edge.
 *
 * One implementation of "which entry judges this source, and what happens to
 * it": mailedge-loader lookup explains it to the admin, the proxy (issue 9)
 * asks it about a client, and the tests run every row of the BPF_PROG_RUN table
 * through it so that it cannot drift from bpf/edge.bpf.c. The order is the
 * kernel's:
 *
 *   whitelisted host, whitelisted subnet, blacklisted host, blacklisted subnet
 *   (each step: the admin's map if admin_used says it may hold entries, then
 *   list sync's of the current generation; subnets by longest live prefix; an
 *   expired entry is absent), then a live
 *   threshold ban (when bans are on), then the per-source rate for a SYN to a
 *   protected port, else pass.
 *
 * It only reads: an expired subnet the kernel would delete is reported as
 * expired and skipped, and the rate is predicted without being charged. Unlike
 * the kernel (two rounds per packet), any number of nested expired prefixes are
 * skipped: the answer is the one every packet gets once they are gone.
 */
#ifndef ME_VERDICT_H
#define ME_VERDICT_H

#include <linux/types.h>

#include "addr.h"
#include "edge.h"
#include "lists.h"

/* What of a frame the verdict depends on besides its source address. */
struct me_vquery {
	struct me_prefix src; /* a host address: /32 or /128 */
	int syn;	      /* a parsed TCP SYN without ACK (not a later fragment) */
	int answerable;	      /* a parsed TCP header with RST clear: a reset entry answers it */
	__u16 dport;	      /* its destination port, host order */
	int rate;	      /* also predict the per-source rate limit */
	/* Only the winner is wanted (the proxy's classification): stop at the
	 * first live entry, and take list sync's subnets from the painted index
	 * the program reads rather than walking every prefix. verdict, reason,
	 * hit, winner's entry and the threshold fields are those of a full
	 * judgement; m[] holds only the entries up to the winner. Without it
	 * (lookup, explain), m[] holds every entry that covers the address. */
	int winner_only;
};

/* One list entry that covers the address. */
struct me_vmatch {
	struct me_rec rec; /* list, prefix, value */
	__u32 reason;	   /* the step: ME_R_WHITE_HOST ... ME_R_BLACK_NET */
	int synced;	   /* from a list-sync map of the current generation */
	int expired;	   /* past its expiry: absent to the XDP program */
};

/* Host steps give at most 4 matches; subnets one per prefix length in a map. */
#define ME_VMATCH_MAX 64

/* No list_hits element counts the frame (as in the tests' NO_HIT). */
#define ME_VHIT_NONE ME_SRC_MAX

struct me_vresult {
	__u32 verdict; /* enum me_verdict */
	__u32 reason;  /* enum me_reason */
	__u32 hit;     /* list_hits index the frame is counted under, or ME_VHIT_NONE */
	int winner;    /* index in m[] of the entry that decided or let it on, or -1 */
	struct me_vmatch m[ME_VMATCH_MAX];
	size_t n;
	int truncated; /* more matches than m[] holds */

	/* The threshold, as it stands for this source. */
	struct me_config cfg;
	struct me_src_key key;	  /* what the source is counted and banned under */
	unsigned int counted_len; /* and its prefix length (v4: of the IPv4 address) */
	__u64 ban_until_ns;	  /* CLOCK_BOOTTIME ns; 0 = not in the bans map */
	int ban_live;		  /* a ban that has not ended */
	int limited;		  /* with q.rate: this SYN would be over the rate */
};

/* Judge q against the maps of e. 0, or -errno when a map cannot be read
 * (-EAGAIN: list sync kept swapping generations under it). Safe from any
 * number of threads at once: it only reads the maps, and list sync's tables
 * come from a process-wide cache (synccache.h). */
int me_verdict_judge(struct me_edge *e, const struct me_vquery *q, struct me_vresult *r);

/* The key a source address is counted and banned under (threshold.bpf.h), and
 * the prefix length that is. */
void me_verdict_src_key(const struct me_prefix *src, const struct me_config *cfg,
			struct me_src_key *k, unsigned int *plen);
/* The prefix a key of the bans or rates map stands for, at the counting
 * length cfg sets now. */
void me_verdict_key_prefix(const struct me_src_key *k, const struct me_config *cfg,
			   struct me_prefix *out);

/* CLOCK_BOOTTIME in ns: the clock of ban ends. */
__u64 me_boot_ns(void);

#endif
