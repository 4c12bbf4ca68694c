/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dnsbl.h - DNSBL and DNSWL scoring of a client, asynchronous, postscreen
 * style.
 *
 * The configuration is a list of weighted sites, as Postfix's
 * postscreen_dnsbl_sites writes them:
 *
 *   zone[=FILTER][*WEIGHT]
 *
 *   zen.example*3                              listed: +3
 *   bl.example=127.0.0.[2..11;20]              only these reply codes: +1
 *   list.dnswl.example=127.0.[0..255].[1..3]*-2   an allow list: -2
 *
 * FILTER is four octets; each is a number or a bracketed list of numbers and
 * ranges (a..b) separated by ';'. With no filter, any 127.0.0.0/8 address
 * counts. 127.255.255.0/24 never counts, filter or not: it is how lists say
 * "you may not ask me" (over quota, a public resolver), not a listing.
 *
 * At connect, px_dnsbl_start() asks every zone at once (reversed IPv4 octets
 * or IPv6 nibbles under the zone, type A) through the worker's c-ares
 * resolver (dns.h), on the worker's loop: nothing blocks. The lookup ends
 * when every zone has answered or after timeout_ms, whichever is first; the
 * zones still silent then have failed. The callback gets the total score and
 * one detail per site, for the policy (score ranges) and for the log.
 *
 * A site that failed (timeout, SERVFAIL, REFUSED) counts as unlisted, or, with
 * on_failure = listed, as listed, but only when its weight is positive: a
 * failing allow list must never make a client look better. A malformed or
 * oversized reply is counted and is unlisted, whatever on_failure says.
 *
 * Sites that name the same zone (zen=127.0.0.2*3 and zen=127.0.0.4*2) share
 * one query. Answers are cached per worker by query name: positive ones for
 * their TTL (capped by cache_max_ttl), NXDOMAIN/NODATA for negative_ttl,
 * failures never; the cache holds at most cache_size names and drops the
 * least recently used past that.
 *
 * Usage (one struct px_dnsbl per worker, like its struct px_dns):
 *
 *   b = px_dnsbl_new(loop, conf->cache_size);
 *   l = px_dnsbl_start(b, dns, conf, client_addr, done_cb, session);
 *   ... done_cb(session, &result) later, from the loop, exactly once;
 *   ... or px_dnsbl_cancel(l) if the session goes first (no callback).
 *   px_dnsbl_free(b);   before its px_dns, once the sessions are gone
 */
#ifndef PX_DNSBL_H
#define PX_DNSBL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <libconfig.h>

#include "dns.h"

#define PX_DNSBL_SITES_MAX  32	/* postscreen setups use 2 to ~10 */
#define PX_DNSBL_ZONE_LEN   190 /* 253 less 64 for IPv6 nibbles, with its NUL */
#define PX_DNSBL_SPEC_LEN   256 /* one site as written, for logs */
#define PX_DNSBL_WEIGHT_MAX 1000

struct px_dnsbl_site {
	char zone[PX_DNSBL_ZONE_LEN]; /* lower case, no final dot */
	int weight;		      /* default 1; negative for allow lists */
	int filtered;		      /* a filter was given */
	uint8_t octet[4][32];	      /* the filter: bit v of octet[i] = value v allowed */
	char text[PX_DNSBL_SPEC_LEN]; /* as written */
};

enum px_dnsbl_fail {
	PX_DNSBL_FAIL_UNLISTED = 0, /* the default: DNS trouble lets mail through */
	PX_DNSBL_FAIL_LISTED,	    /* a block list that cannot answer blocks */
};

struct px_dnsbl_conf {
	unsigned int nsites;
	struct px_dnsbl_site site[PX_DNSBL_SITES_MAX];
	unsigned int timeout_ms; /* one client's lookup, all zones together */
	enum px_dnsbl_fail on_failure;
	unsigned int cache_size;    /* names per worker; 0 = no cache */
	unsigned int cache_max_ttl; /* seconds; a listed answer's TTL is capped here */
	unsigned int negative_ttl;  /* seconds an NXDOMAIN/NODATA is kept; 0 = never */
};

/* ---- the pure part (dnsbl_spec.c) ---- */

/* Parse one site, "zone[=filter][*weight]", surrounding blanks allowed.
 * 0, or -EINVAL with why (a sentence without file:line, which the caller
 * adds). */
int px_dnsbl_site_parse(const char *text, struct px_dnsbl_site *s, char *why, size_t why_len);

/* Does this reply address (network order) list the client on this site? */
int px_dnsbl_site_match(const struct px_dnsbl_site *s, struct in_addr a);

/* 127.255.255.0/24: the list refuses to answer (quota, public resolver). */
int px_dnsbl_is_errcode(struct in_addr a);

enum px_dnsbl_outcome {
	PX_DNSBL_UNLISTED = 0, /* NXDOMAIN or NODATA */
	PX_DNSBL_LISTED,       /* an address passes the filter: weight added */
	PX_DNSBL_FILTERED,     /* addresses, none passing the filter */
	PX_DNSBL_ERRCODE,      /* only 127.255.255.x: never listed */
	PX_DNSBL_FAILED,       /* no answer (timeout, SERVFAIL...): see on_failure */
	PX_DNSBL_BADREPLY,     /* malformed or oversized: unlisted */
};

struct px_dnsbl_detail {
	enum px_dnsbl_outcome outcome;
	int applied;	     /* what this site added to the score */
	struct in_addr addr; /* the reply address that decided; 0.0.0.0 if none */
	int cached;	     /* answered from the cache */
	int timed_out;	     /* FAILED because timeout_ms ran out */
};

struct px_dnsbl_result {
	int score;	     /* the sum of applied */
	unsigned int nsites; /* = conf->nsites; d[i] is conf->site[i] */
	struct px_dnsbl_detail d[PX_DNSBL_SITES_MAX];
	unsigned int listed;	 /* sites with applied != 0 */
	unsigned int failed;	 /* FAILED sites */
	unsigned int bad;	 /* BADREPLY sites */
	unsigned int elapsed_ms; /* start to callback */
};

/* The scoring arithmetic: answers[i] is site i's zone's answer (NULL: the
 * lookup gave up on it, a timeout). Fills r's score, outcomes and counts
 * (not cached, timed_out, elapsed_ms, which the caller knows). */
void px_dnsbl_score(const struct px_dnsbl_conf *c, const struct px_dns_a_result *const *answers,
		    struct px_dnsbl_result *r);

const char *px_dnsbl_outcome_name(enum px_dnsbl_outcome o);

/* The result for a log line or explain, logfmt-friendly and without blanks:
 * "score=2 zen.test=listed:127.0.0.2:+3,wl.test=listed:127.0.1.1:-1". The
 * length it needed (as snprintf). */
int px_dnsbl_format(const struct px_dnsbl_conf *c, const struct px_dnsbl_result *r, char *buf,
		    size_t len);

/* The name to ask for addr (AF_INET, AF_INET6; v4-mapped v6 is v4) under
 * zone: "2.0.0.127.zen.test". 0 or -EINVAL. */
int px_dnsbl_query_name(char *out, size_t len, const struct sockaddr *addr, const char *zone);

/* ---- the asynchronous part (dnsbl.c) ---- */

struct px_dnsbl;
struct px_dnsbl_lookup;

struct px_dnsbl_stats {
	unsigned long long lookups; /* px_dnsbl_start calls that started */
	unsigned long long queries; /* sent to the DNS */
	unsigned long long cache_hits, cache_misses, cache_evictions;
	unsigned long long timeouts;  /* zones given up on at timeout_ms */
	unsigned long long tempfails; /* zones whose DNS said SERVFAIL, REFUSED... */
	unsigned long long malformed; /* replies c-ares could not parse */
	unsigned long long oversized; /* replies too long or with too many addresses */
	unsigned long long errcodes;  /* 127.255.255.x answers */
	unsigned int cache_entries;
};

typedef void (*px_dnsbl_cb)(void *arg, const struct px_dnsbl_result *r);

/* A worker's scorer and its cache of at most cache_size names. NULL when out
 * of memory. */
struct px_dnsbl *px_dnsbl_new(struct ev_loop *loop, unsigned int cache_size);
/* Cancels every running lookup (no callbacks) and frees the cache. Call
 * before freeing the px_dns the lookups used. */
void px_dnsbl_free(struct px_dnsbl *b);

/*
 * Score client (AF_INET or AF_INET6) against conf's sites, asking dns. cb is
 * called exactly once, from the loop, never from inside this call (also when
 * every answer was cached, or when conf has no sites: score 0). conf must
 * stay valid until then (the session holds its configuration). NULL only
 * when it cannot start at all (no memory, an address family it cannot ask).
 */
struct px_dnsbl_lookup *px_dnsbl_start(struct px_dnsbl *b, struct px_dns *dns,
				       const struct px_dnsbl_conf *conf,
				       const struct sockaddr *client, px_dnsbl_cb cb, void *arg);
/* The owner is going away: no callback. Not after the callback ran. */
void px_dnsbl_cancel(struct px_dnsbl_lookup *l);

void px_dnsbl_get_stats(const struct px_dnsbl *b, struct px_dnsbl_stats *s);

/* ---- configuration (config_dnsbl.c) ---- */

/* Defaults: no sites, timeout 2000 ms, on_failure unlisted, cache 10000
 * names, cache_max_ttl 3600 s, negative_ttl 60 s. */
void px_dnsbl_conf_defaults(struct px_dnsbl_conf *c);

/*
 * dnsbl = {
 *   sites = [ "zen.example*3", "wl.example=127.0.[0..255].[1..3]*-2" ];
 *   timeout = 2000;         # ms, 100..30000
 *   on_failure = "unlisted";  # or "listed"
 *   cache_size = 10000;     # 0..1000000
 *   cache_max_ttl = "1h";   # 0..1d
 *   negative_ttl = "60s";   # 0..1d
 * };
 * g is the group; c gets the defaults first. 0, or -EINVAL with why =
 * "FILE:LINE: message".
 */
int px_dnsbl_conf_parse(const config_setting_t *g, struct px_dnsbl_conf *c, char *why,
			size_t why_len);

/* The reference of the group's settings, for --help-config. */
void px_dnsbl_conf_help(FILE *f, const char *indent);

#endif
