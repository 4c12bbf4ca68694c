// SPDX-License-Identifier: GPL-2.0
/*
 * backend.c - the session's connection to a pool member.
 *
 * Opened when a client first needs it (MAIL, or AUTH), never at client connect:
 * clients rejected before that cost the backends nothing. Opening means: pick a
 * member, connect, send a PROXY header if the pool wants one, read the 220,
 * EHLO, and XCLIENT (then EHLO again) if the pool wants that and the member
 * offers it. A member that fails any of this is reported to the pool (passive
 * health) and the next one is tried, before the client hears anything.
 *
 * After that, one command at a time: bk_command sends a line and calls back
 * with the reply. If the connection breaks, the pending callback hears ok = 0.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "passclient.h"
#include "pool.h"
#include "session.h"
#include "tls.h"
#include "worker.h"

#define BK_IN_LIMIT (64 * 1024)

static void bk_io(struct io *io, enum io_event ev, void *arg);
static void bk_try_next(struct session *s, const char *why);

int bk_ready(const struct session *s)
{
	return s->bk.io && s->bk.step == BK_READY;
}

static void bk_release(struct session *s)
{
	if (s->bk.io) {
		io_free(s->bk.io);
		s->bk.io = NULL;
	}
	if (s->bk.counted) {
		px_member_conn(s->bk.pool, s->bk.member, -1);
		s->bk.counted = 0;
	}
	s->bk.step = BK_NONE;
	s->bk.tls = 0;
}

/* Hand the pending callback its result (it may issue the next command). */
static void bk_finish(struct session *s, int ok, const struct px_reply *r, const char *err)
{
	bk_cb cb = s->bk.cb;

	s->bk.cb = NULL;
	s->bk.waiting = 0;
	if (cb)
		cb(s, ok, r, err);
}

/* Gone after it was opened: the transaction with it is lost, and the
 * pending callback hears why. */
static void bk_lost(struct session *s, const char *why)
{
	s->bk.failed = 1;
	bk_release(s);
	bk_finish(s, 0, NULL, why);
}

/* "backend id=... client=... member=POOL/MEMBER event=... error=..." */
static void bk_log(const struct session *s, const char *what, const char *why)
{
	struct me_kv kv;

	if (log_get_level() < ME_LOG_INFO)
		return;
	session_kv(s, &kv, "backend");
	me_kv_str(&kv, "member", s->bk.name);
	me_kv_str(&kv, "event", what);
	me_kv_str(&kv, "error", why);
	log_info("%s", kv.buf);
}

static void bk_connect_member(struct session *s)
{
	const struct px_member *m = &s->bk.pool->m[s->bk.member];

	snprintf(s->bk.name, sizeof(s->bk.name), "%s/%s", s->bk.pool->name, m->name);
	s->bk.io = io_connect(s->w->loop, (const struct sockaddr *)&m->addr, m->addrlen, bk_io, s,
			      BK_IN_LIMIT);
	if (!s->bk.io) {
		char why[160];

		snprintf(why, sizeof(why), "connect: %s", strerror(errno));
		bk_try_next(s, why);
		return;
	}
	px_member_conn(s->bk.pool, s->bk.member, 1);
	s->bk.counted = 1;
	atomic_fetch_add(&px_stats.backend_connects, 1);
	s->bk.step = BK_CONNECTING;
	io_set_timeout(s->bk.io, s->lim.connect_timeout);
}

/* The member failed while being opened: blame it, try another. */
static void bk_try_next(struct session *s, const char *why)
{
	int next;

	bk_log(s, "failed", why);
	atomic_fetch_add(&px_stats.backend_failures, 1);
	px_member_result(s->bk.pool, s->bk.member, 0, 0, why);
	bk_release(s);
	next = px_pool_pick(s->bk.pool, s->bk.tried);
	if (next < 0) {
		bk_finish(s, 0, NULL, "no backend member could be reached");
		return;
	}
	s->bk.member = next;
	s->bk.tried |= 1ull << next;
	bk_connect_member(s);
}

void bk_open(struct session *s, bk_cb cb)
{
	int i;

	s->bk.pool = s->pool;
	s->bk.tried = 0;
	s->bk.cb = cb;
	s->bk.waiting = 1;
	s->bk.failed = 0;
	i = px_pool_pick(s->bk.pool, 0);
	if (i < 0) {
		bk_finish(s, 0, NULL, "the pool has no members");
		return;
	}
	s->bk.member = i;
	s->bk.tried = 1ull << i;
	bk_connect_member(s);
}

static void bk_send_ehlo(struct session *s, enum bk_step next)
{
	if (next == BK_EHLO2 && s->helo[0])
		/* After XCLIENT, Postfix expects the client's own HELO/EHLO
		 * (XCLIENT_README): with ours, the backend would log and stamp
		 * the gateway's name in place of the HELO it was just told. */
		io_printf(s->bk.io, "%s %s\r\n", s->esmtp ? "EHLO" : "HELO", s->helo);
	else
		io_printf(s->bk.io, "EHLO %s\r\n", s->cfg->hostname);
	s->bk.step = next;
}

/* TLS toward the member, with the pool's context and the member's name to
 * verify; the handshake follows (IO_TLSREADY or IO_ERROR). 0 or -1. */
static int bk_tls_start(struct session *s)
{
	return px_tls_client_start(s->bk.io, s->bk.pool, &s->bk.pool->m[s->bk.member]);
}

/* After the EHLO reply: STARTTLS to the member when the pool wants TLS.
 * 1 when it was sent, 0 to go on in plaintext, -1 when the member cannot
 * give the TLS the pool requires (why says so). */
static int bk_want_starttls(struct session *s, char *why, size_t why_len)
{
	const struct px_pool *p = s->bk.pool;

	if (p->tls == PX_BTLS_NONE || p->tls_implicit || s->bk.tls)
		return 0;
	if (!(s->bk.caps.bits & PX_CAP_STARTTLS)) {
		if (p->tls == PX_BTLS_OPTIONAL)
			return 0;
		snprintf(why, why_len, "does not offer STARTTLS (backend_tls %s)",
			 p->tls == PX_BTLS_VERIFY ? "verify" : "required");
		return -1;
	}
	io_write(s->bk.io, "STARTTLS\r\n", 10);
	s->bk.step = BK_STARTTLS;
	return 1;
}

/* What XCLIENT says of the client's name, from the session's lookup. */
static void rdns_attrs(const struct session *s, struct xclient_attrs *a)
{
	switch (s->rdns.status) {
	case PX_RDNS_OK:
		a->name = s->rdns.name;
		a->reverse = s->rdns.reverse;
		break;
	case PX_RDNS_TEMPFAIL:
		a->name = a->reverse = "[TEMPUNAVAIL]";
		break;
	default: /* unknown, or never looked up */
		a->name = "[UNAVAILABLE]";
		a->reverse = s->rdns.reverse[0] ? s->rdns.reverse : "[UNAVAILABLE]";
		break;
	}
}

/* XCLIENT to the member (step BK_XCLIENT), or wait for the client's name
 * (BK_RDNS) first. 0 when there is nothing to send: go on without it. */
static int bk_send_xclient(struct session *s)
{
	char line[XCLIENT_MAX + 1];
	struct xclient_attrs a = {
		.offered = s->bk.caps.xclient,
		.addr = (struct sockaddr *)&s->peer,
		.helo = s->helo,
		.proto = s->esmtp ? "ESMTP" : "SMTP",
	};

	if (s->rdns_q && (s->bk.caps.xclient & (XA_NAME | XA_REVERSE_NAME))) {
		/* session_rdns_done() comes back here; a DNS that never answers
		 * costs the budget of two lookups, not the member its health. */
		s->bk.step = BK_RDNS;
		io_set_timeout(s->bk.io, s->cfg->dns_timeout / 1000.0 * s->cfg->dns_tries * 2 + 1);
		return 1;
	}
	rdns_attrs(s, &a);
	if (xclient_line(&a, line, sizeof(line)) <= 0)
		return 0;
	io_write(s->bk.io, line, strlen(line));
	s->bk.step = BK_XCLIENT;
	return 1;
}

static void bk_opened(struct session *s, const struct px_reply *r)
{
	s->bk.step = BK_READY;
	io_set_timeout(s->bk.io, 0);
	px_member_result(s->bk.pool, s->bk.member, 1, 0, NULL);
	bk_finish(s, 1, r, NULL);
}

static void bk_rdns_done_now(struct session *s)
{
	static const struct px_reply none = { .code = 250 };

	if (s->bk.step == BK_RDNS && !bk_send_xclient(s))
		bk_opened(s, &none);
}

void bk_rdns_done(struct session *s)
{
	if (s->bk.io && s->bk.step == BK_RDNS)
		io_set_timeout(s->bk.io, s->lim.backend_timeout);
	bk_rdns_done_now(s);
}

static void bk_send_pass(struct session *s)
{
	px_pool_send_proxy_header(s->bk.pool, s->bk.member, s->bk.io, (struct sockaddr *)&s->peer,
				  (struct sockaddr *)&s->local);
}

/* A reply arrived while opening: move on, or give up on this member. */
static void bk_opening_reply(struct session *s, const struct px_reply *r)
{
	char why[200];

	switch (s->bk.step) {
	case BK_GREETING:
		if (px_reply_expect(r, 220, "greeting", why, sizeof(why))) {
			bk_try_next(s, why);
			return;
		}
		bk_send_ehlo(s, BK_EHLO);
		return;
	case BK_EHLO:
	case BK_EHLO2:
		if (px_reply_expect(r, 250, "EHLO answered", why, sizeof(why))) {
			bk_try_next(s, why);
			return;
		}
		/* A HELO after XCLIENT (the client's choice) answers with no
		 * capabilities: those of the first EHLO stand. */
		if (s->bk.step == BK_EHLO || s->esmtp)
			px_caps_parse(r, &s->bk.caps);
		if (s->bk.step == BK_EHLO) {
			int t = bk_want_starttls(s, why, sizeof(why));

			if (t < 0)
				bk_try_next(s, why);
			if (t)
				return;
		}
		if (s->bk.step == BK_EHLO && s->bk.pool->pass == PX_PASS_XCLIENT &&
		    (s->bk.caps.bits & PX_CAP_XCLIENT) && bk_send_xclient(s))
			return;
		bk_opened(s, r);
		return;
	case BK_STARTTLS:
		if (px_reply_expect(r, 220, "STARTTLS answered", why, sizeof(why))) {
			bk_try_next(s, why);
			return;
		}
		if (bk_tls_start(s))
			bk_try_next(s, "TLS: out of memory");
		return;
	case BK_XCLIENT:
		/* XCLIENT answers with a new greeting (220); the session starts over. */
		if (px_reply_expect(r, 220, "XCLIENT answered", why, sizeof(why))) {
			bk_try_next(s, why);
			return;
		}
		bk_send_ehlo(s, BK_EHLO2);
		return;
	default:
		return;
	}
}

static void bk_event(struct io *io, enum io_event ev, struct session *s)
{
	struct px_reply r;
	char why[200];
	int rc;

	if (s->dying)
		return;
	switch (ev) {
	case IO_CONNECTED:
		s->bk.step = BK_GREETING;
		bk_send_pass(s); /* a PROXY header precedes even implicit TLS */
		io_set_timeout(s->bk.io, s->lim.backend_timeout);
		if (s->bk.pool->tls != PX_BTLS_NONE && s->bk.pool->tls_implicit && bk_tls_start(s))
			bk_try_next(s, "TLS: out of memory");
		return;
	case IO_DATAIN:
		while (!s->dying && s->bk.io && (rc = px_reply_take(io_in(s->bk.io), &r)) != 0) {
			if (rc < 0) {
				if (s->bk.step < BK_READY) {
					bk_try_next(s, "answered something that is not SMTP");
				} else {
					bk_lost(s,
						"the backend answered something that is not SMTP");
				}
				return;
			}
			if (s->bk.step < BK_READY) {
				bk_opening_reply(s, &r);
				continue;
			}
			if (s->bk.step == BK_WAIT) {
				s->bk.step = BK_READY;
				io_set_timeout(s->bk.io, 0);
				bk_finish(s, 1, &r, NULL);
				continue;
			}
			/* A reply nobody asked for (a 421 before closing, say). */
			if (r.code == 421) {
				bk_lost(s, "the backend is shutting down (421)");
				return;
			}
		}
		return;
	case IO_LOWAT:
		if (s->bk.step == BK_DATA)
			session_data_backend_drained(s);
		return;
	case IO_TIMEOUT:
	case IO_DISCONNECTED:
	case IO_ERROR:
		snprintf(why, sizeof(why), "%s", io_end_text(io, ev));
		if (ev == IO_TIMEOUT && s->bk.step == BK_RDNS) {
			/* The name did not come in time: XCLIENT says so. */
			px_dns_cancel(s->rdns_q);
			s->rdns_q = NULL;
			s->rdns.status = PX_RDNS_TEMPFAIL;
			io_set_timeout(s->bk.io, s->lim.backend_timeout);
			bk_rdns_done_now(s);
			return;
		}
		if (s->bk.step < BK_READY) {
			bk_try_next(s, why);
			return;
		}
		/* Gone mid-session: the member is suspect, the session must know. */
		atomic_fetch_add(&px_stats.backend_failures, 1);
		px_member_result(s->bk.pool, s->bk.member, 0, 0, why);
		bk_log(s, "lost", why);
		bk_lost(s, why);
		return;
	case IO_TLSREADY:
		s->bk.tls = 1;
		/* Implicit: the greeting follows. STARTTLS: the session starts
		 * over, so EHLO again (RFC 3207 4.2), now inside TLS. */
		if (s->bk.step == BK_STARTTLS)
			bk_send_ehlo(s, BK_EHLO);
		return;
	}
}

static void bk_io(struct io *io, enum io_event ev, void *arg)
{
	struct session *s = arg;

	session_hold(s);
	bk_event(io, ev, s);
	session_release(s);
}

void bk_command(struct session *s, const char *line, bk_cb cb, double timeout)
{
	if (!bk_ready(s)) {
		s->bk.waiting = 0;
		cb(s, 0, NULL, "no backend connection");
		return;
	}
	s->bk.cb = cb;
	s->bk.waiting = 1;
	s->bk.step = BK_WAIT;
	io_write(s->bk.io, line, strlen(line));
	io_set_timeout(s->bk.io, timeout);
}

void bk_wait_reply(struct session *s, bk_cb cb, double timeout)
{
	if (!s->bk.io) {
		s->bk.waiting = 0;
		cb(s, 0, NULL, "no backend connection");
		return;
	}
	s->bk.cb = cb;
	s->bk.waiting = 1;
	s->bk.step = BK_WAIT;
	io_set_timeout(s->bk.io, timeout);
}

void bk_close(struct session *s, int quit)
{
	if (!s->bk.io)
		return;
	/* A polite QUIT when idle; mid-message, closing without one is the
	 * point: the backend must discard the message, not deliver it. */
	if (quit && s->bk.step == BK_READY) {
		io_write(s->bk.io, "QUIT\r\n", 6);
		io_flush_now(s->bk.io);
	}
	s->bk.cb = NULL;
	s->bk.waiting = 0;
	bk_release(s);
}
