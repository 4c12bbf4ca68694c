/* SPDX-License-Identifier: GPL-2.0 */
/*
 * worker.h - event-loop threads, their listening sockets, and the limits on
 * sessions that span them.
 */
#ifndef PX_WORKER_H
#define PX_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <ev.h>

#include "config.h"

struct session;
struct tunnel;
struct px_server;
struct px_dnsbl;
struct px_harvest;

struct px_worker {
	int id;
	struct ev_loop *loop;
	pthread_t thread;
	struct px_server *srv;
	ev_io *accept; /* one per listener */
	int *fds;
	size_t nfds;
	ev_async wake;	       /* configuration changed, or drain */
	struct px_config *cfg; /* for new sessions; sessions hold their own reference */
	struct px_dns *dns;    /* this loop's resolver; NULL if it could not start */
	struct px_dnsbl *dnsbl;		  /* this loop's DNSBL scorer and its cache; NULL without */
	struct px_dnsbl_stats dnsbl_seen; /* its counters already added to px_stats */
	unsigned long long next_id;
	int draining;
	size_t nsessions;
	struct session *sessions; /* all of this worker's sessions, for drain */
	size_t ntunnels;
	struct tunnel *tunnels; /* and its protocol = tcp connections */
};

struct px_server {
	pthread_mutex_t lock;
	struct px_config *cfg;
	struct px_worker *w;
	int nw;
	atomic_int draining;
	atomic_int force_close;
	struct px_harvest *harvest; /* hourly counts per client, every worker's (harvest.h) */
};

/* Bind every listener once per worker (SO_REUSEPORT); before dropping root. */
int px_server_bind(struct px_server *srv, struct px_config *cfg, int workers, char *why,
		   size_t why_len);
int px_server_start(struct px_server *srv);
/* Give every worker the new configuration for its new sessions. */
void px_server_set_config(struct px_server *srv, struct px_config *cfg);
/* Stop accepting; sessions finish; force closes the rest with 421. */
void px_server_drain(struct px_server *srv, int force);
void px_server_join(struct px_server *srv);
size_t px_server_sessions(struct px_server *srv);

/* Sessions from one client address: -1 (and nothing counted) past the limit.
 * The file that enters for a connection leaves for it too. */
int px_client_enter(const struct sockaddr_storage *peer, unsigned int limit);
void px_client_leave(const struct sockaddr_storage *peer);
/* A connection turned away for load: 421 if it can be said at once, logged,
 * counted, closed. */
void px_refuse_busy(int fd, const struct sockaddr_storage *peer);
/* Sessions from this address now (for a policy's own, lower, limit). */
unsigned int px_client_count(const struct sockaddr_storage *peer);

void px_worker_add(struct px_worker *w, struct session *s);
void px_worker_del(struct px_worker *w, struct session *s);
/* A session or tunnel of a draining worker ended: stop when none is left. */
void px_worker_check_drained(struct px_worker *w);

#endif
