/* SPDX-License-Identifier: GPL-2.0 */
/*
 * metrics.h - counters of the whole proxy (every worker), and the Prometheus
 * text endpoint that exposes them.
 */
#ifndef PX_METRICS_H
#define PX_METRICS_H

#include <stdatomic.h>
#include <ev.h>

#include "config.h"

/* Why a command or session was refused (the "reason" label). */
enum px_rej {
	REJ_RELAY,	  /* relay access denied */
	REJ_DENIED,	  /* a command on the deny list */
	REJ_UNKNOWN,	  /* unknown command */
	REJ_SYNTAX,	  /* bad syntax */
	REJ_SEQUENCE,	  /* bad sequence of commands */
	REJ_TLS_REQUIRED, /* before STARTTLS where it is required */
	REJ_RECIPIENTS,	  /* over the recipient limit */
	REJ_ERRORS,	  /* too many errors */
	REJ_COMMANDS,	  /* too many commands */
	REJ_PREGREET,	  /* talked before the banner */
	REJ_BARE_NEWLINE, /* bare CR/LF or NUL in a message */
	REJ_SIZE,	  /* message too big */
	REJ_LINE,	  /* line too long */
	REJ_TIMEOUT,	  /* idle or command timeout */
	REJ_SLOW,	  /* DATA below the minimum rate */
	REJ_SESSIONS,	  /* too many sessions (total or per client) */
	REJ_AUTH,	  /* AUTH refused here (not offered, needs TLS) */
	REJ_BACKEND,	  /* refused or failed by the backend */
	REJ_HARVEST,	  /* over harvest_limit: invalid recipients per hour */
	REJ_RATE,	  /* over recipients_per_hour */
	REJ_SENDER,	  /* MAIL FROM in sender_dict */
	REJ_RECIPIENT,	  /* RCPT TO in recipient_dict */
	REJ_INVALID,	  /* RCPT TO not in valid_recipients */
	REJ_MAX,
};

struct px_stats {
	atomic_ullong sessions;
	atomic_llong active;
	atomic_ullong tls;
	atomic_ullong commands;
	atomic_ullong rejects[REJ_MAX];
	atomic_ullong bytes_in, bytes_out;
	atomic_ullong data_ok, data_failed, data_refused;
	atomic_ullong backend_connects, backend_failures;
	/* DNSBL scoring (session.c): lookups, and sites by outcome */
	atomic_ullong dnsbl_lookups, dnsbl_listed, dnsbl_failed, dnsbl_bad;
	/* the workers' scorers (dnsbl.h px_dnsbl_stats), added by each worker
	 * as its lookups end: the scorers themselves are not shared */
	atomic_ullong dnsbl_queries, dnsbl_cache_hits, dnsbl_cache_misses;
	atomic_ullong dnsbl_timeouts, dnsbl_tempfails, dnsbl_malformed, dnsbl_oversized;
	atomic_ullong dnsbl_errcodes;
	/* harvest prevention (session_policy.c) */
	atomic_ullong invalid_rcpts;		  /* counted toward harvest_limit */
	atomic_ullong edge_bans, edge_ban_errors; /* bans written to the edge, and not */
};

extern struct px_stats px_stats;

const char *px_rej_name(enum px_rej r);

struct px_metrics;
/* Serve GET /metrics on addr (from c) on loop; NULL if c has no metrics address. */
struct px_metrics *px_metrics_start(struct ev_loop *loop, struct px_config *c, char *why,
				    size_t why_len);
void px_metrics_set_config(struct px_metrics *m, struct px_config *c);
void px_metrics_stop(struct px_metrics *m);

#endif
