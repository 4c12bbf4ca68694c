// SPDX-License-Identifier: GPL-2.0
/*
 * tunnel.c - TLS offload for other protocols (see tunnel.h).
 *
 *   accept -> [TLS handshake] -> pick a member, connect (the next member when
 *   one fails, as SMTP sessions do) -> [PROXY header] -> [TLS to the member]
 *   -> relay both ways until either side ends.
 *
 * Bytes the client sends before the member is up stay in its input buffer,
 * bounded, with reading paused. Each direction has a high-water mark: when
 * more than that waits to go out on one side, reading from the other pauses,
 * so a slow peer costs a bounded buffer, never memory without end.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io.h"
#include "kvlog.h"
#include "log.h"
#include "metrics.h"
#include "passclient.h"
#include "pool.h"
#include "tls.h"
#include "tunnel.h"
#include "worker.h"

#define TUNNEL_IN_LIMIT	  (64 * 1024)
#define TUNNEL_HIGH_WATER (256 * 1024) /* unsent bytes on one side before the other pauses */

struct tunnel {
	struct tunnel *next, *prev; /* the worker's list */
	struct px_worker *w;
	struct px_config *cfg;
	struct px_listener *l;
	struct io *c, *b; /* client, member */
	unsigned long long id;
	struct sockaddr_storage peer, local;
	char peer_text[64];
	double start;
	int member, counted, up; /* up: the member's side is ready for bytes */
	unsigned long long tried;
	int c_paused, b_paused;
	int closing; /* one side ended: the other's last bytes are leaving */
	int refs, dying;
	char tls_info[96];
	char member_name[192];
	char outcome[128];
};

static void t_client(struct io *io, enum io_event ev, void *arg);
static void t_member(struct io *io, enum io_event ev, void *arg);
static void connect_member(struct tunnel *t);

static void link_worker(struct tunnel *t)
{
	struct px_worker *w = t->w;

	t->next = w->tunnels;
	if (w->tunnels)
		w->tunnels->prev = t;
	w->tunnels = t;
	w->ntunnels++;
}

static void unlink_worker(struct tunnel *t)
{
	struct px_worker *w = t->w;

	if (t->prev)
		t->prev->next = t->next;
	else
		w->tunnels = t->next;
	if (t->next)
		t->next->prev = t->prev;
	w->ntunnels--;
	px_worker_check_drained(w);
}

static void t_log(const struct tunnel *t)
{
	struct me_kv kv;

	if (log_get_level() < ME_LOG_INFO)
		return;
	me_kv_init(&kv, "tunnel");
	me_kv_fmt(&kv, "id", "%llx", t->id);
	me_kv_str(&kv, "client", t->peer_text);
	me_kv_str(&kv, "listener", t->l->listen);
	me_kv_str(&kv, "tls", t->tls_info[0] ? t->tls_info : "no");
	me_kv_str(&kv, "backend", t->member_name[0] ? t->member_name : "-");
	me_kv_fmt(&kv, "in", "%llu", t->c ? io_bytes_in(t->c) : 0);
	me_kv_fmt(&kv, "out", "%llu", t->c ? io_bytes_out(t->c) : 0);
	me_kv_fmt(&kv, "duration", "%.3fs", ev_time() - t->start);
	me_kv_str(&kv, "outcome", t->outcome[0] ? t->outcome : "closed");
	log_info("%s", kv.buf);
}

static void destroy(struct tunnel *t)
{
	t_log(t);
	/* The slot and count go back before the sockets close (a client that
	 * sees the close may come back at once, to another worker). */
	px_client_leave(&t->peer);
	atomic_fetch_sub(&px_stats.active, 1);
	if (t->c) {
		atomic_fetch_add(&px_stats.bytes_in, io_bytes_in(t->c));
		atomic_fetch_add(&px_stats.bytes_out, io_bytes_out(t->c));
		io_free(t->c);
	}
	io_free(t->b); /* NULL is fine */
	if (t->counted)
		px_member_conn(t->l->pool, t->member, -1);
	unlink_worker(t);
	px_config_put(t->cfg);
	free(t);
}

void tunnel_close(struct tunnel *t, const char *outcome)
{
	if (outcome && !t->outcome[0])
		snprintf(t->outcome, sizeof(t->outcome), "%s", outcome);
	if (t->refs) {
		t->dying = 1;
		return;
	}
	destroy(t);
}

static void hold(struct tunnel *t)
{
	t->refs++;
}

static void release(struct tunnel *t)
{
	if (--t->refs == 0 && t->dying)
		destroy(t);
}

/* Move what one side sent to the other; pause the sender when the receiver
 * is too far behind (resumed on the receiver's IO_LOWAT). */
static void relay(struct tunnel *t, struct io *from, struct io *to, int *from_paused)
{
	struct buf *in = io_in(from);

	if (buf_avail(in)) {
		io_write(to, buf_ptr(in), buf_avail(in));
		io_consume(from, buf_avail(in));
	}
	if (io_pending(to) > TUNNEL_HIGH_WATER && !*from_paused) {
		*from_paused = 1;
		io_pause_read(from);
	}
	io_set_timeout(from, t->l->idle_timeout);
	io_set_timeout(to, t->l->idle_timeout);
}

/* One side ended: the other gets what is still on its way, then both close.
 * (Half-close is not relayed: IMAP and POP3 clients end by closing, after
 * LOGOUT or QUIT, and what the member says after that is for no one.) */
static void side_ended(struct tunnel *t, struct io *ended, struct io *other, const char *outcome)
{
	if (!t->outcome[0])
		snprintf(t->outcome, sizeof(t->outcome), "%s", outcome);
	if (!other || !io_pending(other)) {
		tunnel_close(t, NULL);
		return;
	}
	t->closing = 1;
	io_set_timeout(ended, 0); /* its idle timer must not cut the drain short */
	io_pause_read(other);
	io_set_timeout(other, 10); /* a peer that does not read is not waited for */
}

static void member_failed(struct tunnel *t, const char *why)
{
	struct me_kv kv;
	int next;

	if (log_get_level() >= ME_LOG_INFO) {
		me_kv_init(&kv, "backend");
		me_kv_fmt(&kv, "id", "%llx", t->id);
		me_kv_str(&kv, "client", t->peer_text);
		me_kv_str(&kv, "member", t->member_name);
		me_kv_str(&kv, "event", "failed");
		me_kv_str(&kv, "error", why);
		log_info("%s", kv.buf);
	}
	atomic_fetch_add(&px_stats.backend_failures, 1);
	px_member_result(t->l->pool, t->member, 0, 0, why);
	io_free(t->b);
	t->b = NULL;
	if (t->counted) {
		px_member_conn(t->l->pool, t->member, -1);
		t->counted = 0;
	}
	next = px_pool_pick(t->l->pool, t->tried);
	if (next < 0) {
		tunnel_close(t, "no backend member could be reached");
		return;
	}
	t->member = next;
	t->tried |= 1ull << next;
	connect_member(t);
}

/* The member's side is ready: what the client sent meanwhile goes now. */
static void member_up(struct tunnel *t)
{
	t->up = 1;
	io_set_timeout(t->b, t->l->idle_timeout);
	px_member_result(t->l->pool, t->member, 1, 0, NULL);
	if (t->c_paused) {
		t->c_paused = 0;
		io_resume_read(t->c);
	}
	relay(t, t->c, t->b, &t->c_paused);
}

static void member_event(struct tunnel *t, struct io *io, enum io_event ev)
{
	char why[200];

	switch (ev) {
	case IO_CONNECTED: {
		px_pool_send_proxy_header(t->l->pool, t->member, io, (struct sockaddr *)&t->peer,
					  (struct sockaddr *)&t->local);
		if (t->l->pool->tls != PX_BTLS_NONE) {
			if (px_tls_client_start(io, t->l->pool, &t->l->pool->m[t->member]))
				member_failed(t, "TLS: out of memory");
			return;
		}
		member_up(t);
		return;
	}
	case IO_TLSREADY:
		member_up(t);
		return;
	case IO_DATAIN:
		if (!t->closing)
			relay(t, io, t->c, &t->b_paused);
		return;
	case IO_LOWAT:
		if (t->closing) {
			tunnel_close(t, NULL);
			return;
		}
		if (t->c_paused && t->up) {
			t->c_paused = 0;
			io_resume_read(t->c);
		}
		return;
	case IO_TIMEOUT:
	case IO_DISCONNECTED:
	case IO_ERROR:
		snprintf(why, sizeof(why), "%s", io_end_text(io, ev));
		if (!t->up) {
			member_failed(t, why);
			return;
		}
		if (ev == IO_TIMEOUT && !t->closing) {
			tunnel_close(t, "idle timeout");
			return;
		}
		if (t->closing) { /* the client was gone and this one did not read */
			tunnel_close(t, NULL);
			return;
		}
		/* The io stays until the end (closed, it does nothing more). */
		side_ended(t, io, t->c,
			   ev == IO_DISCONNECTED ? "backend closed" : "backend failed");
		return;
	}
}

static void t_member(struct io *io, enum io_event ev, void *arg)
{
	struct tunnel *t = arg;

	hold(t);
	if (!t->dying)
		member_event(t, io, ev);
	release(t);
}

static void connect_member(struct tunnel *t)
{
	const struct px_member *m = &t->l->pool->m[t->member];
	char why[160];

	snprintf(t->member_name, sizeof(t->member_name), "%s/%s", t->l->pool->name, m->name);
	t->b = io_connect(t->w->loop, (const struct sockaddr *)&m->addr, m->addrlen, t_member, t,
			  TUNNEL_IN_LIMIT);
	if (!t->b) {
		snprintf(why, sizeof(why), "connect: %s", strerror(errno));
		member_failed(t, why);
		return;
	}
	px_member_conn(t->l->pool, t->member, 1);
	t->counted = 1;
	atomic_fetch_add(&px_stats.backend_connects, 1);
	io_set_timeout(t->b, t->cfg->lim.connect_timeout);
}

static void open_member(struct tunnel *t)
{
	int i = px_pool_pick(t->l->pool, 0);

	if (i < 0) {
		tunnel_close(t, "the pool has no members");
		return;
	}
	t->member = i;
	t->tried = 1ull << i;
	connect_member(t);
}

static void client_event(struct tunnel *t, struct io *io, enum io_event ev)
{
	switch (ev) {
	case IO_TLSREADY:
		atomic_fetch_add(&px_stats.tls, 1);
		snprintf(t->tls_info, sizeof(t->tls_info), "%s/%s", io_tls_version(io),
			 io_tls_cipher(io));
		io_set_timeout(io, t->l->idle_timeout);
		open_member(t);
		return;
	case IO_DATAIN:
		if (t->closing)
			return;
		if (!t->up) {
			/* Kept (bounded by the input limit) until the member is up. */
			t->c_paused = 1;
			io_pause_read(io);
			return;
		}
		relay(t, io, t->b, &t->c_paused);
		return;
	case IO_LOWAT:
		if (t->closing) {
			tunnel_close(t, NULL);
			return;
		}
		if (t->b_paused && t->b) {
			t->b_paused = 0;
			io_resume_read(t->b);
		}
		return;
	case IO_TIMEOUT:
		tunnel_close(t, t->closing ? NULL
				: t->up	   ? "idle timeout"
					   : "timeout before the backend was up");
		return;
	case IO_DISCONNECTED:
	case IO_ERROR:
		if (ev == IO_ERROR && !t->outcome[0])
			snprintf(t->outcome, sizeof(t->outcome), "client %.100s", io_strerror(io));
		if (!t->up || t->closing) {
			tunnel_close(t, "client left before the backend was up");
			return;
		}
		/* Its io stays until the end (closed, it does nothing more). */
		side_ended(t, io, t->b, "client closed");
		return;
	case IO_CONNECTED:
		return;
	}
}

static void t_client(struct io *io, enum io_event ev, void *arg)
{
	struct tunnel *t = arg;

	hold(t);
	if (!t->dying)
		client_event(t, io, ev);
	release(t);
}

void tunnel_start(struct px_worker *w, int fd, struct px_listener *l,
		  const struct sockaddr_storage *peer)
{
	struct tunnel *t;
	socklen_t len;

	/* The slot goes back in destroy(). */
	if (px_client_enter(peer, w->cfg->lim.max_per_client)) {
		px_refuse_busy(fd, peer);
		return;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		px_client_leave(peer);
		close(fd);
		return;
	}
	len = sizeof(t->local);
	t->w = w;
	t->cfg = w->cfg;
	px_config_get(t->cfg);
	t->l = l;
	t->id = ((unsigned long long)w->id << 48) | ++w->next_id;
	t->peer = *peer;
	t->start = ev_time();
	getsockname(fd, (struct sockaddr *)&t->local, &len);
	px_format_addr((const struct sockaddr *)peer, t->peer_text, sizeof(t->peer_text));
	t->c = io_new(w->loop, fd, t_client, t, TUNNEL_IN_LIMIT);
	if (!t->c) {
		px_client_leave(peer);
		close(fd);
		px_config_put(t->cfg);
		free(t);
		return;
	}
	link_worker(t);
	atomic_fetch_add(&px_stats.sessions, 1);
	atomic_fetch_add(&px_stats.active, 1);
	if (l->starttls == PX_TLS_IMPLICIT) {
		size_t none;

		if (px_tls_server_start(t->c, &l->tls, &none)) {
			tunnel_close(t, "TLS: out of memory");
			return;
		}
		io_set_timeout(t->c, t->cfg->lim.tls_handshake_timeout);
		return;
	}
	io_set_timeout(t->c, l->idle_timeout);
	open_member(t);
}
