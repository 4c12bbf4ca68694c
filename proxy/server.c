// SPDX-License-Identifier: GPL-2.0
/*
 * server.c - worker threads, listening sockets, accepting.
 *
 * Every worker has its own socket per listener, bound with SO_REUSEPORT, so the
 * kernel spreads new connections over the workers and no lock is taken on
 * accept. Sockets are bound in the main thread, before root is dropped.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "dnsbl.h"
#include "log.h"
#include "metrics.h"
#include "session.h"
#include "tunnel.h"
#include "worker.h"

#define LISTEN_BACKLOG 1024

/* ---- sessions per client address ---- */

/* Open addressing over 16-byte keys (IPv4 as ::ffff:a.b.c.d); a slot whose
 * count drops to 0 stays as a tombstone until the table is rebuilt. */
struct client_slot {
	unsigned char key[16];
	unsigned int count;
	int used;
};

static pthread_mutex_t clients_lock = PTHREAD_MUTEX_INITIALIZER;
static struct client_slot *clients;
static size_t clients_cap, clients_used;

static void client_key(const struct sockaddr_storage *ss, unsigned char *k)
{
	memset(k, 0, 16);
	if (ss->ss_family == AF_INET) {
		k[10] = k[11] = 0xff;
		memcpy(k + 12, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	} else {
		memcpy(k, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
	}
}

static size_t client_hash(const unsigned char *k)
{
	size_t h = 1469598103934665603ull, i;

	for (i = 0; i < 16; i++)
		h = (h ^ k[i]) * 1099511628211ull;
	return h;
}

static struct client_slot *client_find(const unsigned char *k, int create)
{
	size_t i, j;

	if (create && (clients_used + 1) * 2 > clients_cap) {
		size_t cap = clients_cap ? clients_cap * 2 : 1024;
		struct client_slot *n = calloc(cap, sizeof(*n));

		if (!n)
			return NULL;
		for (i = 0; i < clients_cap; i++) {
			if (!clients[i].used || !clients[i].count)
				continue; /* tombstones go */
			for (j = client_hash(clients[i].key) & (cap - 1); n[j].used;
			     j = (j + 1) & (cap - 1))
				;
			n[j] = clients[i];
		}
		clients_used = 0;
		for (i = 0; i < cap; i++)
			clients_used += n[i].used;
		free(clients);
		clients = n;
		clients_cap = cap;
	}
	if (!clients_cap)
		return NULL;
	for (i = client_hash(k) & (clients_cap - 1); clients[i].used;
	     i = (i + 1) & (clients_cap - 1))
		if (!memcmp(clients[i].key, k, 16))
			return &clients[i];
	if (!create)
		return NULL;
	memcpy(clients[i].key, k, 16);
	clients[i].used = 1;
	clients[i].count = 0;
	clients_used++;
	return &clients[i];
}

int px_client_enter(const struct sockaddr_storage *peer, unsigned int limit)
{
	unsigned char k[16];
	struct client_slot *c;
	int rc = -1;

	client_key(peer, k);
	pthread_mutex_lock(&clients_lock);
	c = client_find(k, 1);
	if (c && c->count < limit) {
		c->count++;
		rc = 0;
	}
	pthread_mutex_unlock(&clients_lock);
	return rc;
}

unsigned int px_client_count(const struct sockaddr_storage *peer)
{
	unsigned char k[16];
	struct client_slot *c;
	unsigned int n;

	client_key(peer, k);
	pthread_mutex_lock(&clients_lock);
	c = client_find(k, 0);
	n = c ? c->count : 0;
	pthread_mutex_unlock(&clients_lock);
	return n;
}

void px_client_leave(const struct sockaddr_storage *peer)
{
	unsigned char k[16];
	struct client_slot *c;

	client_key(peer, k);
	pthread_mutex_lock(&clients_lock);
	c = client_find(k, 0);
	if (c && c->count)
		c->count--;
	pthread_mutex_unlock(&clients_lock);
}

void px_refuse_busy(int fd, const struct sockaddr_storage *peer)
{
	static const char msg[] = "421 4.7.0 Too many connections, try again later\r\n";
	char who[64];

	px_format_addr((const struct sockaddr *)peer, who, sizeof(who));
	log_info("reject: client=%s reason=too many sessions", who);
	atomic_fetch_add(&px_stats.rejects[REJ_SESSIONS], 1);
	if (send(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("could not tell %s it was refused", who);
	close(fd);
}

/* ---- listening ---- */

/*
 * Is another process listening on l's address? SO_REUSEPORT lets every
 * process of the same user bind a listening address, so a second proxy
 * started by mistake (or any other root daemon) would silently share the
 * port and take half its connections. A probe bound without SO_REUSEPORT
 * fails with EADDRINUSE when anyone listens there; the workers' own sockets
 * are only bound after it, so they never trip it. A port that an outgoing
 * connection holds as its local port (ephemeral range) fails the same way,
 * and the workers' own bind would too: the message names both.
 */
static int port_taken(const struct px_listener *l, char *why, size_t why_len)
{
	int fd = socket(l->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, rc = 0;

	if (fd < 0)
		return 0; /* bind_one says why */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (l->addr.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&l->addr, l->addrlen) && errno == EADDRINUSE) {
		snprintf(why, why_len,
			 "%s: %s (held by another socket: another server listening,"
			 " or a connection using it as its local port)",
			 l->listen, strerror(EADDRINUSE));
		rc = -1;
	}
	close(fd);
	return rc;
}

static int bind_one(const struct px_listener *l, char *why, size_t why_len)
{
	int fd = socket(l->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0) {
		snprintf(why, why_len, "%s: socket: %s", l->listen, strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (l->addr.ss_family == AF_INET6) /* [::] means IPv6; list 0.0.0.0 for IPv4 too */
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&l->addr, l->addrlen) || listen(fd, LISTEN_BACKLOG)) {
		snprintf(why, why_len, "%s: %s", l->listen, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void on_accept(struct ev_loop *loop, ev_io *a, int revents)
{
	struct px_worker *w = a->data;
	size_t li = (size_t)(a - w->accept);
	struct px_config *c = w->cfg;

	(void)loop;
	(void)revents;
	for (;;) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		int fd =
		    accept4(a->fd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_warn("accept on %s: %s", c->ls[li].listen, strerror(errno));
			return;
		}
		/* The per-client slot is taken by whoever runs the connection
		 * (session_start, tunnel_start), which also gives it back. */
		if ((unsigned long long)atomic_load(&px_stats.active) >= c->lim.max_sessions) {
			px_refuse_busy(fd, &peer);
			continue;
		}
		if (c->ls[li].protocol == PX_PROTO_TCP)
			tunnel_start(w, fd, &c->ls[li], &peer);
		else
			session_start(w, fd, &c->ls[li], &peer);
	}
}

int px_server_bind(struct px_server *srv, struct px_config *cfg, int workers, char *why,
		   size_t why_len)
{
	int i;
	size_t j;

	for (j = 0; j < cfg->nls; j++)
		if (port_taken(&cfg->ls[j], why, why_len))
			return -1;
	srv->nw = workers;
	srv->w = calloc((size_t)workers, sizeof(*srv->w));
	if (!srv->w)
		return -1;
	for (i = 0; i < workers; i++) {
		struct px_worker *w = &srv->w[i];

		w->id = i;
		w->srv = srv;
		w->nfds = cfg->nls;
		w->fds = calloc(cfg->nls, sizeof(*w->fds));
		w->accept = calloc(cfg->nls, sizeof(*w->accept));
		if (!w->fds || !w->accept)
			return -1;
		for (j = 0; j < cfg->nls; j++) {
			w->fds[j] = bind_one(&cfg->ls[j], why, why_len);
			if (w->fds[j] < 0)
				return -1;
		}
	}
	return 0;
}

static void on_wake(struct ev_loop *loop, ev_async *a, int revents)
{
	struct px_worker *w = a->data;
	struct px_config *c;
	size_t j;

	(void)revents;
	pthread_mutex_lock(&w->srv->lock);
	c = w->srv->cfg;
	if (c != w->cfg) {
		if (strcmp(c->dns_servers, w->cfg->dns_servers) ||
		    c->dns_timeout != w->cfg->dns_timeout || c->dns_tries != w->cfg->dns_tries) {
			/* A new resolver for the new settings; the old one finishes
			 * the lookups running sessions wait for (c-ares cannot change
			 * servers under pending queries). */
			char why[200];
			struct px_dns *d = px_dns_new(loop, c->dns_servers, c->dns_timeout,
						      c->dns_tries, why, sizeof(why));

			if (d) {
				px_dns_retire(w->dns, d);
				w->dns = d;
			} else {
				log_warn("reload: worker %d keeps its resolver: %s", w->id, why);
			}
		}
		px_config_get(c);
		px_config_put(w->cfg);
		w->cfg = c;
	}
	pthread_mutex_unlock(&w->srv->lock);
	if (atomic_load(&w->srv->draining) && !w->draining) {
		w->draining = 1;
		for (j = 0; j < w->nfds; j++) {
			ev_io_stop(loop, &w->accept[j]);
			close(w->fds[j]);
			w->fds[j] = -1;
		}
	}
	if (atomic_load(&w->srv->force_close)) {
		while (w->sessions)
			session_shutdown(w->sessions);
		while (w->tunnels)
			tunnel_close(w->tunnels, "closed: shutting down");
	}
	px_worker_check_drained(w);
}

static void *worker_main(void *arg)
{
	struct px_worker *w = arg;
	sigset_t all;

	/* Signals are the main thread's business. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	ev_run(w->loop, 0);
	/* Every session is gone: no query has an owner left. The scorer's
	 * lookups ride on the resolver: it goes first. */
	px_dnsbl_free(w->dnsbl);
	w->dnsbl = NULL;
	px_dns_free(w->dns);
	w->dns = NULL;
	return NULL;
}

int px_server_start(struct px_server *srv)
{
	int i;
	size_t j;

	for (i = 0; i < srv->nw; i++) {
		struct px_worker *w = &srv->w[i];

		w->loop = ev_loop_new(EVFLAG_AUTO);
		if (!w->loop)
			return -1;
		px_config_get(srv->cfg);
		w->cfg = srv->cfg;
		{
			char why[200];

			/* Created here, used only on the worker's thread. */
			w->dns = px_dns_new(w->loop, w->cfg->dns_servers, w->cfg->dns_timeout,
					    w->cfg->dns_tries, why, sizeof(why));
			if (!w->dns)
				log_warn("worker %d: no resolver (%s): client names are not "
					 "looked up",
					 i, why);
			/* The cache's size is the start's: a reload keeps the
			 * scorer (and what it learned). */
			w->dnsbl = px_dnsbl_new(w->loop, w->cfg->dnsbl.cache_size);
			if (!w->dnsbl)
				log_warn("worker %d: no DNSBL scorer (out of memory): score "
					 "ranges match no client",
					 i);
		}
		ev_async_init(&w->wake, on_wake);
		w->wake.data = w;
		ev_async_start(w->loop, &w->wake);
		for (j = 0; j < w->nfds; j++) {
			ev_io_init(&w->accept[j], on_accept, w->fds[j], EV_READ);
			w->accept[j].data = w;
			ev_io_start(w->loop, &w->accept[j]);
		}
		if (pthread_create(&w->thread, NULL, worker_main, w))
			return -1;
	}
	return 0;
}

void px_server_set_config(struct px_server *srv, struct px_config *cfg)
{
	struct px_config *old;
	int i;

	pthread_mutex_lock(&srv->lock);
	old = srv->cfg;
	srv->cfg = cfg;
	pthread_mutex_unlock(&srv->lock);
	px_config_put(old);
	for (i = 0; i < srv->nw; i++)
		ev_async_send(srv->w[i].loop, &srv->w[i].wake);
}

void px_server_drain(struct px_server *srv, int force)
{
	int i;

	atomic_store(&srv->draining, 1);
	if (force)
		atomic_store(&srv->force_close, 1);
	for (i = 0; i < srv->nw; i++)
		ev_async_send(srv->w[i].loop, &srv->w[i].wake);
}

void px_server_join(struct px_server *srv)
{
	int i;

	for (i = 0; i < srv->nw; i++) {
		struct px_worker *w = &srv->w[i];

		pthread_join(w->thread, NULL);
		ev_loop_destroy(w->loop);
		px_config_put(w->cfg);
		free(w->fds);
		free(w->accept);
	}
	free(srv->w);
	srv->w = NULL;
}

size_t px_server_sessions(struct px_server *srv)
{
	(void)srv;
	return (size_t)atomic_load(&px_stats.active);
}

void px_worker_add(struct px_worker *w, struct session *s)
{
	s->next = w->sessions;
	s->prev = NULL;
	if (w->sessions)
		w->sessions->prev = s;
	w->sessions = s;
	w->nsessions++;
}

void px_worker_del(struct px_worker *w, struct session *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		w->sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	w->nsessions--;
	px_worker_check_drained(w);
}

void px_worker_check_drained(struct px_worker *w)
{
	if (w->draining && !w->nsessions && !w->ntunnels)
		ev_break(w->loop, EVBREAK_ALL);
}
