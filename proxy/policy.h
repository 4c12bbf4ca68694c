/* SPDX-License-Identifier: GPL-2.0 */
/*
 * policy.h - the proxy's host access table: sender groups and the policies
 * they name (Cisco IronPort's HAT, A10's per-client service groups).
 *
 * A client is classified once per session, at connect, before the banner:
 * the facts known about it (its address, its entry at the edge, its verified
 * name, its DNSBL score) are gathered into a struct px_facts, and
 * px_classify, a pure function of the configuration and the facts, picks the
 * first sender group that matches, in the order of the configuration; the
 * default group (if any) catches the rest. The group's policy then says what
 * the session does: accept, reject, refuse or ban, which pool serves it, its
 * STARTTLS mode, whether it may relay, its greeting and its limits.
 *
 * Keeping the decision a pure function over a struct is what makes it
 * table-testable and explainable ("why this group?") without a network: the
 * session only gathers facts and applies the answer.
 */
#ifndef PX_POLICY_H
#define PX_POLICY_H

#include <stddef.h>
#include <sys/socket.h>

#include "addr.h"
#include "config.h"
#include "dns.h"

struct me_edge;
struct me_vresult;

enum px_pol_action {
	PX_POL_ACCEPT, /* go on to the banner */
	PX_POL_REJECT, /* the policy's 554 reply instead of a banner, then close */
	PX_POL_REFUSE, /* close without a word */
	PX_POL_BAN,    /* close, and ban the client at the edge for ban_time */
};

/* A policy setting that is not given: the listener's (or the global) value. */
#define PX_POL_INHERIT (-1)

struct px_policy {
	char name[64];
	int line; /* where it is configured, for messages */
	enum px_pol_action action;
	char reject_reply[256]; /* "554 5.7.1 ..." for reject */
	unsigned int ban_time;	/* seconds, for ban */
	char pool_name[32];	/* "" = the listener's pool */
	struct px_pool *pool;	/* resolved; NULL = the listener's */
	int starttls;		/* enum px_starttls (off/optional/required) or inherit */
	int relay;		/* 1, 0, or inherit (relay_networks decide) */
	int pregreet;		/* enum px_pregreet or inherit */
	char banner[256];	/* "" = the listener's */
	/* The global limits with this policy's over them (greet_delay too). */
	struct px_limits lim;
};

/* Edge criteria of a group (bits). */
#define PX_EDGE_WHITE  0x1 /* judged by a whitelist entry */
#define PX_EDGE_BLACK  0x2 /* judged by a blacklist entry (it let the client through) */
#define PX_EDGE_PASS   0x4 /* listed with action pass */
#define PX_EDGE_LISTED 0x8 /* any live entry */
#define PX_EDGE_GROUPS 16  /* group:N values one group may name */

/* Reverse-DNS criteria of a group (bits). */
#define PX_RD_VERIFIED	 0x1 /* a forward-confirmed name (FCrDNS) */
#define PX_RD_UNVERIFIED 0x2 /* a PTR name that does not resolve back */
#define PX_RD_NONE	 0x4 /* no PTR record */
#define PX_RD_TEMPFAIL	 0x8 /* the DNS did not answer */

struct px_sender_group {
	char name[64];
	int line;
	char policy_name[64];
	struct px_policy *policy; /* resolved */
	int is_default;		  /* catches every client no other group matched */
	struct me_prefix *nets;
	size_t nnets;
	unsigned int edge; /* PX_EDGE_* */
	unsigned int edge_group[PX_EDGE_GROUPS];
	int nedge_groups;
	unsigned int rdns;  /* PX_RD_* */
	char (*hosts)[256]; /* verified names: "mx.example.org", or ".example.org" */
	size_t nhosts;
	int has_score; /* score_min or score_max given */
	int score_min, score_max;
};

/* Everything px_classify looks at. */
struct px_facts {
	struct me_prefix addr; /* the client, a host prefix (IPv4-mapped as IPv4) */
	/* the edge maps: edge_known = they could be read for this client */
	int edge_known;
	int edge_list;		 /* ME_LIST_WHITE/BLACK of the entry that judged it, or -1 */
	int edge_action;	 /* enum me_action of that entry */
	unsigned int edge_group; /* its group, for ME_ACT_GROUP */
	/* reverse DNS */
	enum px_rdns rdns;
	int has_ptr;		    /* a PTR name, verified or not */
	char name[PX_DNS_NAME_MAX]; /* the verified name (rdns OK) */
	/* the DNSBL/DNSWL score: no DNSBL configured is score 0, known */
	int score;
	int score_known;
};

struct px_class {
	const struct px_sender_group *group; /* NULL: no groups, or none matched and no default */
	const struct px_policy *policy;	     /* NULL: today's behaviour (the listener's) */
	char why[160];			     /* which criterion matched, for the log */
};

/* Facts with nothing known but the address (no edge, no name, score 0). */
void px_facts_init(struct px_facts *f, const struct sockaddr *peer);
/* Fill the edge part of f from the maps with the XDP program's verdict order
 * (me_verdict_judge, winner only). 0, or -errno (edge_known stays 0). */
int px_facts_edge(struct px_facts *f, struct me_edge *e);
/* The same from a judgement the caller already has (explain's). */
void px_facts_edge_result(struct px_facts *f, const struct me_vresult *r);
/* Fill the reverse-DNS part from the session's FCrDNS answer. */
void px_facts_rdns(struct px_facts *f, const struct px_rdns_result *r);

/* Pick the sender group and policy for f: pure, no I/O. */
void px_classify(const struct px_config *c, const struct px_facts *f, struct px_class *out);

/* Does any group need the client's name (rdns, hosts)? the edge maps? */
int px_policy_needs_rdns(const struct px_config *c);
int px_policy_needs_edge(const struct px_config *c);

/* Does a policy (or the global limits) ban at the edge: action ban, or
 * harvest_ban? Then the maps are opened, for writing, even with no edge
 * criteria. */
int px_policy_needs_ban(const struct px_config *c);
/* Does any group have a score range, with DNSBL sites to ask? */
int px_policy_needs_score(const struct px_config *c);

/* How long a ban waits for the pin-directory lock (list sync or the loader
 * may hold it for a swap): a worker's loop stalls at most this long. */
#define PX_BAN_LOCK_MS 100

/* Put the client in the edge's temporary ban map for secs seconds
 * (common/edgeban.h: its IPv4 address or IPv6 /64), and log it with reason.
 * A client the edge whitelists is never banned (-EPERM); without maps it is
 * only logged (-ENOENT). An enum me_edgeban_outcome, or -errno. */
int px_policy_ban(const struct sockaddr *peer, unsigned int secs, const char *reason);

/* The edge maps the proxy reads, opened by main before it drops privileges
 * (px_policy_edge_open); NULL when none are pinned (edge criteria then never
 * match). Shared read-only by every worker. */
int px_policy_edge_open(const char *pin_dir, char *why, size_t why_len);
struct me_edge *px_policy_edge(void);
void px_policy_edge_close(void);

const char *px_pol_action_name(enum px_pol_action a);

#endif
