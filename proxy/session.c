// SPDX-License-Identifier: GPL-2.0
/*
 * session.c - a client session from accept to close: the command loop, the
 * limits that bound it, and the line it leaves in the log.
 *
 * With sender groups configured, a session starts by classifying its client
 * (policy.h): the facts are gathered (the edge maps at once; the client's
 * name and its DNSBL score, when a group asks for them, in parallel while
 * the client waits for the banner), px_classify picks the group, and its
 * policy is applied before anything is said. Without groups nothing is
 * looked up and nothing changes.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dnsbl.h"
#include "kvlog.h"
#include "log.h"
#include "metrics.h"
#include "policy.h"
#include "session.h"
#include "str.h"
#include "tls.h"
#include "worker.h"

/* Input buffered per client: a few pipelined groups, and DATA in flight. */
#define SESSION_IN_LIMIT (64 * 1024)

static const char *const state_names[SS_STATE_MAX] = {
	[SS_CONNECTED] = "connected",
	[SS_GREETED] = "greeted",
	[SS_READY] = "ready",
	[SS_MAIL] = "mail",
	[SS_RCPT] = "rcpt",
	[SS_DATA] = "data",
	[SS_TLS] = "tls",
	[SS_AUTH] = "auth",
	[SS_CLOSING] = "closing",
};

const char *strstate(enum ss_state s)
{
	return s < SS_STATE_MAX ? state_names[s] : "?";
}

double session_now(void)
{
	return ev_time();
}

void session_kv(const struct session *s, struct me_kv *kv, const char *event)
{
	me_kv_init(kv, event);
	me_kv_fmt(kv, "id", "%llx", s->id);
	me_kv_str(kv, "client", s->peer_text);
}

void session_log(const struct session *s, enum me_log_level level, const char *event,
		 const char *key, const char *value)
{
	struct me_kv kv;

	if (log_get_level() < level)
		return;
	session_kv(s, &kv, event);
	me_kv_str(&kv, key, value);
	log_msg(level, "%s", kv.buf);
}

void enter_state(struct session *s, enum ss_state st)
{
	if (s->state == st)
		return;
	if (log_get_level() >= ME_LOG_DEBUG) {
		struct me_kv kv;

		session_kv(s, &kv, "state");
		me_kv_str(&kv, "from", strstate(s->state));
		me_kv_str(&kv, "to", strstate(st));
		log_debug("%s", kv.buf);
	}
	s->state = st;
}

static void client_io(struct io *io, enum io_event ev, void *arg);
static void on_lifetime(struct ev_loop *loop, ev_timer *t, int revents);
static void on_rdns(void *arg, const struct px_rdns_result *r);
static void on_dnsbl(void *arg, const struct px_dnsbl_result *r);
static void greet(struct session *s);
static void classify(struct session *s);
static void session_go(struct session *s);
static int facts_start(struct session *s);
static void facts_done(struct session *s);

static void session_destroy(struct session *s);

/* Free now, or when the running callbacks return. */
static void session_free(struct session *s)
{
	if (s->refs) {
		s->dying = 1;
		return;
	}
	session_destroy(s);
}

void session_hold(struct session *s)
{
	s->refs++;
}

void session_release(struct session *s)
{
	if (--s->refs == 0 && s->dying)
		session_destroy(s);
}

static void session_destroy(struct session *s)
{
	px_dns_cancel(s->rdns_q);
	if (s->dnsbl_q)
		px_dnsbl_cancel(s->dnsbl_q);
	bk_close(s, 1);
	/* One line per session, the way Postfix logs a connection; it is not
	 * built when it would not be logged. */
	if (log_get_level() >= ME_LOG_INFO) {
		struct me_kv kv;

		session_kv(s, &kv, "session");
		me_kv_str(&kv, "listener", s->l->listen);
		me_kv_str(&kv, "tls", s->tls ? s->tls_info : "no");
		me_kv_str(&kv, "helo", s->helo);
		me_kv_str(&kv, "from", s->last_from);
		me_kv_fmt(&kv, "msgs", "%u", s->msgs_ok);
		me_kv_fmt(&kv, "failed", "%u", s->msgs_failed);
		me_kv_fmt(&kv, "rcpts", "%u", s->rcpts);
		me_kv_fmt(&kv, "rejects", "%u", s->rejects);
		me_kv_str(&kv, "backend", s->bk.name[0] ? s->bk.name : "-");
		me_kv_str(&kv, "reply", s->last_reply[0] ? s->last_reply : NULL);
		me_kv_fmt(&kv, "in", "%llu", s->io ? io_bytes_in(s->io) : 0);
		me_kv_fmt(&kv, "out", "%llu", s->io ? io_bytes_out(s->io) : 0);
		me_kv_fmt(&kv, "duration", "%.3fs", session_now() - s->start);
		me_kv_str(&kv, "outcome", s->outcome[0] ? s->outcome : "closed");
		log_info("%s", kv.buf);
	}
	/* Give the client's slot back before its socket closes: a client that
	 * has seen the close may reconnect at once, and another worker may
	 * accept it before this one would otherwise get here. */
	px_client_leave(&s->peer);
	atomic_fetch_sub(&px_stats.active, 1);
	if (s->io) {
		atomic_fetch_add(&px_stats.bytes_in, io_bytes_in(s->io));
		atomic_fetch_add(&px_stats.bytes_out, io_bytes_out(s->io));
		io_free(s->io);
	}
	ev_timer_stop(s->w->loop, &s->delay);
	ev_timer_stop(s->w->loop, &s->life);
	free(s->held_reply);
	buf_free(&s->fwd);
	px_worker_del(s->w, s);
	px_config_put(s->cfg);
	free(s);
}

void session_close(struct session *s, const char *outcome)
{
	if (s->dying)
		return;
	if (outcome && !s->outcome[0])
		me_strlcpy(s->outcome, outcome, sizeof(s->outcome));
	if (s->state != SS_CLOSING && s->io && io_pending(s->io)) {
		/* The last reply (221, 421, 554) is on its way: close after it. */
		enter_state(s, SS_CLOSING);
		bk_close(s, 1);
		io_pause_read(s->io);
		io_set_timeout(s->io, 10);
		return;
	}
	session_free(s);
}

void session_shutdown(struct session *s)
{
	/* Mid-handshake nothing plaintext may be said; a closing session has
	 * said its last word already. */
	if (s->state != SS_TLS && s->state != SS_CLOSING && !s->dying)
		session_reply(s, "421 4.3.2 %s Service shutting down, try again later",
			      s->cfg->hostname);
	session_close(s, "closed: shutting down");
}

void session_reply(struct session *s, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 3)
		n = (int)sizeof(line) - 3;
	memcpy(line + n, "\r\n", 2);
	io_write(s->io, line, (size_t)n + 2);
}

/* The error delay (past errors_soft) is over: now the reply, then go on. */
static void on_delay(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct session *s = t->data;

	(void)loop;
	(void)revents;
	session_hold(s);
	if (s->state == SS_CONNECTED) {
		/* The greet delay: time for the banner. */
		enter_state(s, SS_GREETED);
		session_reply(s, "220 %s", s->banner);
	}
	if (s->held_reply) {
		session_reply(s, "%s", s->held_reply);
		free(s->held_reply);
		s->held_reply = NULL;
	}
	s->busy = 0;
	session_next(s);
	session_release(s);
}

/* A refusal the client hears: counted under kind, logged with reason. An
 * error (is_error) also counts toward the session's error limits. */
static void refuse(struct session *s, enum px_rej kind, int is_error, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

static void refuse(struct session *s, enum px_rej kind, int is_error, const char *fmt, va_list ap)
{
	char line[600];

	atomic_fetch_add(&px_stats.rejects[kind], 1);
	vsnprintf(line, sizeof(line), fmt, ap);
	s->rejects++;
	if (log_get_level() >= ME_LOG_INFO) {
		struct me_kv kv;

		/* Everything the client said that led here, so that one line
		 * answers "who was refused, sending what, and why". */
		session_kv(s, &kv, "reject");
		me_kv_str(&kv, "reason", px_rej_name(kind));
		me_kv_str(&kv, "helo", s->helo[0] ? s->helo : NULL);
		me_kv_str(&kv, "from",
			  s->state == SS_MAIL || s->state == SS_RCPT || s->state == SS_DATA
			      ? s->from
			      : NULL);
		me_kv_str(&kv, "to", s->cur_rcpt[0] ? s->cur_rcpt : NULL);
		me_kv_str(&kv, "reply", line);
		log_info("%s", kv.buf);
	}
	if (!is_error) {
		session_reply(s, "%s", line);
		return;
	}
	s->errors++;
	if (s->errors >= s->lim.errors_hard) {
		atomic_fetch_add(&px_stats.rejects[REJ_ERRORS], 1);
		session_reply(s, "%s", line);
		session_reply(s, "421 4.7.0 %s Error: too many errors", s->cfg->hostname);
		session_close(s, "too many errors");
		return;
	}
	if (s->errors > s->lim.errors_soft && s->lim.error_delay) {
		/* Postfix's smtpd_error_sleep_time: past the soft limit, every
		 * error reply comes late, which slows a client that is guessing
		 * (and wastes a spammer's time); good commands are not slowed.
		 * Nothing more is read until the reply has gone, so no reply
		 * is held already. */
		s->held_reply = strdup(line);
		if (s->held_reply) {
			s->busy = 1;
			ev_timer_set(&s->delay, s->lim.error_delay / 1000.0, 0);
			ev_timer_start(s->w->loop, &s->delay);
			return;
		}
	}
	session_reply(s, "%s", line);
}

void session_reject(struct session *s, enum px_rej kind, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	refuse(s, kind, 1, fmt, ap);
	va_end(ap);
}

void session_refuse(struct session *s, enum px_rej kind, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	refuse(s, kind, 0, fmt, ap);
	va_end(ap);
}

int session_tls_begin(struct session *s, size_t *discarded)
{
	return px_tls_server_start(s->io, &s->l->tls, discarded);
}

void session_reset_tx(struct session *s)
{
	s->from[0] = '\0';
	s->tx_rcpts = 0;
	s->tx_overshoot = 0;
	s->smtputf8 = 0;
	if (s->state == SS_MAIL || s->state == SS_RCPT || s->state == SS_DATA)
		enter_state(s, SS_READY);
}

static int accepting_commands(const struct session *s)
{
	return s->state == SS_GREETED || s->state == SS_READY || s->state == SS_MAIL ||
	       s->state == SS_RCPT || s->state == SS_AUTH;
}

void session_next(struct session *s)
{
	static __thread int depth;
	char line[65536 + 1];

	/* Handlers that finish at once return into this loop; the loop is never
	 * entered twice for one session. */
	if (depth || s->dying)
		return;
	depth++;
	while (s->io && !s->dying && !s->busy && !s->bk.waiting && accepting_commands(s)) {
		struct buf *in = io_in(s->io);
		size_t len, used;
		int rc = sp_frame(&s->framer, buf_ptr(in), buf_avail(in), &len, &used);

		if (rc == SP_AGAIN) {
			io_consume(s->io, used);
			if (used)
				continue; /* skipped the rest of a long line: more may follow */
			break;
		}
		if (rc == SP_TOO_LONG) {
			io_consume(s->io, used);
			session_reject(s, REJ_LINE, "500 5.5.2 Error: line too long");
			continue;
		}
		memcpy(line, buf_ptr(in), len);
		line[len] = '\0';
		io_consume(s->io, used);
		s->commands++;
		atomic_fetch_add(&px_stats.commands, 1);
		if (s->lim.commands && s->commands > s->lim.commands) {
			atomic_fetch_add(&px_stats.rejects[REJ_COMMANDS], 1);
			session_reply(s, "421 4.7.0 %s Error: too many commands", s->cfg->hostname);
			session_close(s, "too many commands");
			break;
		}
		if (s->state == SS_AUTH)
			session_auth_line(s, line, len);
		else
			session_command(s, line, len);
	}
	depth--;
	if (!s->io || s->dying)
		return;
	if (s->state == SS_DATA) {
		session_data_in(s);
		return;
	}
	if (accepting_commands(s) && !s->busy && !s->bk.waiting)
		io_set_timeout(s->io, s->lim.command_timeout);
}

static void pregreet_log(struct session *s)
{
	if (s->pregreet_mode != PX_PREGREET_IGNORE)
		session_log(s, ME_LOG_INFO, "pregreet", "action",
			    s->pregreet_mode == PX_PREGREET_REJECT ? "reject" : "log");
}

static void pregreet_reject(struct session *s)
{
	session_reply(s, "554 5.7.1 %s Error: talking before the greeting", s->cfg->hostname);
	session_close(s, "pregreet");
}

static void client_event(struct session *s, enum io_event ev)
{
	char why[200];

	if (s->dying)
		return;
	switch (ev) {
	case IO_DATAIN:
		if (s->state == SS_CONNECTED) {
			if (!s->pregreet) {
				s->pregreet = 1;
				atomic_fetch_add(&px_stats.rejects[REJ_PREGREET], 1);
				/* Before the client is classified its policy's
				 * pregreet is not known: classify() acts then. */
				if (s->classified)
					pregreet_log(s);
			}
			if (s->classified && s->pregreet_mode == PX_PREGREET_REJECT)
				pregreet_reject(s);
			return; /* the input waits for the banner */
		}
		if (s->state == SS_DATA) {
			session_data_in(s);
			return;
		}
		if (s->state != SS_CLOSING)
			session_next(s);
		return;
	case IO_LOWAT:
		if (s->state == SS_CLOSING)
			session_free(s);
		return;
	case IO_TLSREADY:
		s->tls = 1;
		atomic_fetch_add(&px_stats.tls, 1);
		snprintf(s->tls_info, sizeof(s->tls_info), "%s/%s", io_tls_version(s->io),
			 io_tls_cipher(s->io));
		/* RFC 3207 4.2: everything learned before TLS is forgotten, AUTH
		 * included; the backend that knew it was closed at STARTTLS, so
		 * a kept flag would let relaying through on a fresh connection. */
		s->helo[0] = '\0';
		s->esmtp = 0;
		s->authenticated = 0;
		session_reset_tx(s);
		if (s->l->starttls == PX_TLS_IMPLICIT) {
			greet(s); /* nothing was said yet: the banner comes now */
			return;
		}
		enter_state(s, SS_GREETED);
		session_next(s);
		return;
	case IO_TIMEOUT:
		if (s->state == SS_CLOSING) {
			session_free(s);
			return;
		}
		atomic_fetch_add(&px_stats.rejects[REJ_TIMEOUT], 1);
		if (s->state == SS_TLS) {
			/* Mid-handshake a plaintext 421 can never be sent. */
			snprintf(s->outcome, sizeof(s->outcome), "timeout in TLS handshake");
			session_free(s);
			return;
		}
		session_reply(s, "421 4.4.2 %s Error: timeout exceeded", s->cfg->hostname);
		snprintf(why, sizeof(why), "timeout in state %s", strstate(s->state));
		session_close(s, why);
		return;
	case IO_DISCONNECTED:
		if (!s->outcome[0])
			snprintf(s->outcome, sizeof(s->outcome), "client disconnected in state %s",
				 strstate(s->state));
		session_free(s);
		return;
	case IO_ERROR:
		if (!s->outcome[0])
			snprintf(s->outcome, sizeof(s->outcome), "client %.80s",
				 io_strerror(s->io));
		session_free(s);
		return;
	case IO_CONNECTED:
		return;
	}
}

static void client_io(struct io *io, enum io_event ev, void *arg)
{
	struct session *s = arg;

	(void)io;
	session_hold(s);
	client_event(s, ev);
	session_release(s);
}

/* The banner, now or once the greet delay (time for a pre-greeter to show
 * itself) has passed. The delay runs from the connection, as postscreen's
 * does: while the client's name and DNSBL score were looked up it was already
 * waiting for the banner, and talking meanwhile already made it a
 * pre-greeter, so that wait counts, and a slow DNS server is not paid for
 * twice. */
static void greet(struct session *s)
{
	double left = s->lim.greet_delay / 1000.0 - (session_now() - s->start);

	if (s->policy && s->policy->action == PX_POL_REJECT) {
		/* IronPort's REJECT: the policy's 554 instead of a banner (for
		 * implicit TLS, inside TLS: here, after the handshake). */
		s->state = SS_GREETED;
		session_reply(s, "%s", s->policy->reject_reply);
		session_close(s, "policy reject");
		return;
	}
	if (s->lim.greet_delay && left > 0) {
		s->state = SS_CONNECTED;
		s->busy = 1;
		ev_timer_set(&s->delay, left, 0);
		ev_timer_start(s->w->loop, &s->delay);
		io_set_timeout(s->io, s->lim.command_timeout);
		return;
	}
	s->state = SS_GREETED;
	session_reply(s, "220 %s", s->banner);
	io_set_timeout(s->io, s->lim.command_timeout);
}

void session_start(struct px_worker *w, int fd, struct px_listener *l,
		   const struct sockaddr_storage *peer)
{
	struct session *s;
	socklen_t len;

	/* Sender groups may allow a client more than the global max_per_client
	 * (max_per_client_any): classify() checks its own limit once its
	 * policy is known. The slot goes back in session_free. */
	if (px_client_enter(peer, w->cfg->max_per_client_any)) {
		px_refuse_busy(fd, peer);
		return;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		px_client_leave(peer);
		close(fd);
		return;
	}
	len = sizeof(s->local);
	s->w = w;
	s->cfg = w->cfg;
	px_config_get(s->cfg);
	s->l = l;
	s->id = ((unsigned long long)w->id << 48) | ++w->next_id;
	s->peer = *peer;
	getsockname(fd, (struct sockaddr *)&s->local, &len);
	px_format_addr((struct sockaddr *)peer, s->peer_text, sizeof(s->peer_text));
	s->start = session_now();
	/* The listener's ways and the global limits, until a policy says more. */
	s->lim = s->cfg->lim;
	s->pool = l->pool;
	s->starttls = l->starttls;
	s->pregreet_mode = l->pregreet;
	s->banner = l->banner;
	s->classified = !s->cfg->ngroups;
	sp_framer_init(&s->framer, s->lim.command_line);
	buf_init(&s->fwd, 0);
	s->relay_ok = px_relay_allowed(s->cfg, (struct sockaddr *)peer);
	ev_timer_init(&s->delay, on_delay, 0, 0);
	s->delay.data = s;
	ev_timer_init(&s->life, on_lifetime, 0, 0);
	s->life.data = s;
	s->io = io_new(w->loop, fd, client_io, s, SESSION_IN_LIMIT);
	if (!s->io) {
		px_client_leave(peer);
		close(fd);
		px_config_put(s->cfg);
		free(s);
		return;
	}
	px_worker_add(w, s);
	atomic_fetch_add(&px_stats.sessions, 1);
	atomic_fetch_add(&px_stats.active, 1);
	session_log(s, ME_LOG_DEBUG, "connect", "listener", l->listen);
	if (s->lim.session_timeout) {
		ev_timer_set(&s->life, s->lim.session_timeout, 0);
		ev_timer_start(w->loop, &s->life);
	}
	if (!s->classified && facts_start(s))
		return; /* the banner waits for the answers */
	if (!s->classified)
		classify(s);
	else
		session_go(s);
}

/* Ask what the sender groups need to know before the banner: the client's
 * name (rdns, hosts criteria) and its DNSBL score (score ranges), both at
 * once. 1 when an answer is awaited (the callbacks classify once both are
 * in), 0 when everything is known now. A client that talks meanwhile is a
 * pre-greeter. The resolver's timeout bounds the name's wait, the dnsbl
 * timeout the score's: the banner never waits longer than the longest of
 * these two and the group's greet delay (all three run from the connection,
 * see greet()). */
static int facts_start(struct session *s)
{
	struct px_worker *w = s->w;

	if (px_policy_needs_rdns(s->cfg)) {
		if (w->dns)
			s->rdns_q =
			    px_dns_reverse(w->dns, (const struct sockaddr *)&s->peer, on_rdns, s);
		if (!s->rdns_q)
			s->rdns.status = PX_RDNS_TEMPFAIL; /* no resolver: no answer */
	}
	if (px_policy_needs_score(s->cfg)) {
		if (w->dns && w->dnsbl)
			s->dnsbl_q = px_dnsbl_start(w->dnsbl, w->dns, &s->cfg->dnsbl,
						    (const struct sockaddr *)&s->peer, on_dnsbl, s);
		/* No scorer: the score is unknown and no score range matches. */
		s->score_known = 0;
	}
	if (!s->rdns_q && !s->dnsbl_q)
		return 0;
	s->state = SS_CONNECTED;
	s->busy = 1;
	io_set_timeout(s->io, s->lim.command_timeout);
	return 1;
}

/* One of the answers facts_start waits for is in: classify once both are. */
static void facts_done(struct session *s)
{
	if (s->rdns_q || s->dnsbl_q || s->classified)
		return;
	if (s->state == SS_CONNECTED && !s->dying)
		classify(s);
	/* What a pre-greeter sent meanwhile is read now. */
	if (!s->dying && s->state == SS_GREETED && !s->busy)
		session_next(s);
}

/* Add what the worker's scorer counted since last time to the metrics. On
 * the worker's thread, the scorer's only reader. */
static void dnsbl_publish(struct px_worker *w)
{
	struct px_dnsbl_stats st, *o = &w->dnsbl_seen;

	px_dnsbl_get_stats(w->dnsbl, &st);
	atomic_fetch_add(&px_stats.dnsbl_queries, st.queries - o->queries);
	atomic_fetch_add(&px_stats.dnsbl_cache_hits, st.cache_hits - o->cache_hits);
	atomic_fetch_add(&px_stats.dnsbl_cache_misses, st.cache_misses - o->cache_misses);
	atomic_fetch_add(&px_stats.dnsbl_timeouts, st.timeouts - o->timeouts);
	atomic_fetch_add(&px_stats.dnsbl_tempfails, st.tempfails - o->tempfails);
	atomic_fetch_add(&px_stats.dnsbl_malformed, st.malformed - o->malformed);
	atomic_fetch_add(&px_stats.dnsbl_oversized, st.oversized - o->oversized);
	atomic_fetch_add(&px_stats.dnsbl_errcodes, st.errcodes - o->errcodes);
	*o = st;
}

static void on_dnsbl(void *arg, const struct px_dnsbl_result *r)
{
	struct session *s = arg;
	unsigned int i;

	session_hold(s);
	s->dnsbl_q = NULL;
	s->score = r->score;
	s->score_known = 1;
	atomic_fetch_add(&px_stats.dnsbl_lookups, 1);
	atomic_fetch_add(&px_stats.dnsbl_listed, r->listed);
	atomic_fetch_add(&px_stats.dnsbl_failed, r->failed);
	atomic_fetch_add(&px_stats.dnsbl_bad, r->bad);
	dnsbl_publish(s->w);
	for (i = 0; i < r->nsites; i++)
		if (r->d[i].timed_out)
			break;
	if (log_get_level() >= ME_LOG_INFO) {
		char text[1024];
		struct me_kv kv;

		px_dnsbl_format(&s->cfg->dnsbl, r, text, sizeof(text));
		session_kv(s, &kv, "dnsbl");
		me_kv_fmt(&kv, "score", "%d", r->score);
		me_kv_fmt(&kv, "ms", "%u", r->elapsed_ms);
		me_kv_str(&kv, "timeout", i < r->nsites ? "yes" : "no");
		me_kv_str(&kv, "sites", text);
		log_info("%s", kv.buf);
	}
	facts_done(s);
	session_release(s);
}

/* The client is who it is: on with the session (TLS first, or the banner). */
static void session_go(struct session *s)
{
	struct px_listener *l = s->l;

	/* The client's name is otherwise only needed where a backend is told
	 * it (XCLIENT NAME): looked up while the client greets, not before the
	 * banner. */
	if (s->pool->pass == PX_PASS_XCLIENT && s->w->dns && !s->rdns_q &&
	    s->rdns.status == PX_RDNS_PENDING)
		s->rdns_q =
		    px_dns_reverse(s->w->dns, (const struct sockaddr *)&s->peer, on_rdns, s);
	s->busy = 0;
	if (l->starttls == PX_TLS_IMPLICIT) {
		size_t none;

		/* RFC 8314: TLS first; the banner once it is up. */
		s->state = SS_TLS;
		if (session_tls_begin(s, &none)) {
			session_close(s, "TLS: out of memory");
			return;
		}
		io_set_timeout(s->io, s->lim.tls_handshake_timeout);
		return;
	}
	greet(s);
}

static void on_rdns(void *arg, const struct px_rdns_result *r)
{
	struct session *s = arg;

	session_hold(s);
	s->rdns_q = NULL;
	s->rdns = *r;
	session_log(s, ME_LOG_DEBUG, "rdns", "status", px_rdns_name(r->status));
	if (!s->classified)
		facts_done(s);
	else
		bk_rdns_done(s);
	session_release(s);
}

/* The edge could not be read for a client: said once per process, as it is
 * the same for every client (maps of another program, privileges). */
static void edge_warn(int rc)
{
	static atomic_int said;

	if (!atomic_exchange(&said, 1))
		log_warn("edge maps: cannot judge clients (%s): sender groups' edge criteria "
			 "do not match",
			 strerror(-rc));
}

/* Who the client is (policy.h), and what its policy makes of the session. */
static void classify(struct session *s)
{
	const struct px_policy *p;
	struct px_facts f;
	struct px_class k;
	int rc;

	px_facts_init(&f, (const struct sockaddr *)&s->peer);
	if (px_policy_needs_edge(s->cfg) && px_policy_edge()) {
		rc = px_facts_edge(&f, px_policy_edge());
		if (rc)
			edge_warn(rc);
	}
	if (s->rdns.status != PX_RDNS_PENDING)
		px_facts_rdns(&f, &s->rdns);
	if (px_policy_needs_score(s->cfg)) {
		f.score = s->score;
		f.score_known = s->score_known;
	}
	px_classify(s->cfg, &f, &k);
	s->classified = 1;
	s->group = k.group;
	s->policy = p = k.policy;
	if (log_get_level() >= ME_LOG_INFO) {
		struct me_kv kv;

		session_kv(s, &kv, "classify");
		me_kv_str(&kv, "group", k.group ? k.group->name : "-");
		me_kv_str(&kv, "policy", p ? p->name : "-");
		me_kv_str(&kv, "action", p ? px_pol_action_name(p->action) : "accept");
		me_kv_str(&kv, "why", k.why);
		log_info("%s", kv.buf);
	}
	if (p) {
		s->lim = p->lim;
		if (p->pool)
			s->pool = p->pool;
		/* A policy cannot give TLS to a listener without a certificate,
		 * nor take it from an implicit-TLS one. */
		if (p->starttls != PX_POL_INHERIT && s->l->nprofiles &&
		    s->l->starttls != PX_TLS_IMPLICIT)
			s->starttls = (enum px_starttls)p->starttls;
		if (p->relay != PX_POL_INHERIT)
			s->relay_ok = p->relay;
		if (p->pregreet != PX_POL_INHERIT)
			s->pregreet_mode = (enum px_pregreet)p->pregreet;
		if (p->banner[0])
			s->banner = p->banner;
		if (p->action == PX_POL_REFUSE || p->action == PX_POL_BAN) {
			if (p->action == PX_POL_BAN)
				session_ban(s, p->ban_time, "policy");
			session_close(s, p->action == PX_POL_BAN ? "policy ban" : "policy refuse");
			return;
		}
	}
	/* Accept admitted up to the highest per-client limit of any policy;
	 * this client's own may be lower. */
	if (s->lim.max_per_client < s->cfg->max_per_client_any &&
	    px_client_count(&s->peer) > s->lim.max_per_client) {
		atomic_fetch_add(&px_stats.rejects[REJ_SESSIONS], 1);
		session_log(s, ME_LOG_INFO, "reject", "reason", "too many sessions");
		session_reply(s, "421 4.7.0 Too many connections, try again later");
		session_close(s, "too many sessions");
		return;
	}
	if (s->pregreet) {
		pregreet_log(s);
		if (s->pregreet_mode == PX_PREGREET_REJECT) {
			pregreet_reject(s);
			return;
		}
	}
	session_go(s);
}

static void on_lifetime(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct session *s = t->data;

	(void)loop;
	(void)revents;
	session_hold(s);
	atomic_fetch_add(&px_stats.rejects[REJ_TIMEOUT], 1);
	session_reply(s, "421 4.4.2 %s Error: session too long", s->cfg->hostname);
	session_close(s, "session_timeout");
	session_release(s);
}
