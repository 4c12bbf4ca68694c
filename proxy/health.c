// SPDX-License-Identifier: GPL-2.0
/*
 * health.c - active health checks of every pool member, in the member's own
 * protocol, every interval:
 *
 *   smtp     220, EHLO (learning what the member offers), STARTTLS and EHLO
 *            again when the pool wants TLS, QUIT
 *   imap     "* OK" greeting, LOGOUT
 *   pop3     "+OK" greeting, QUIT
 *   connect  the connection (and TLS, if the pool wants it) is up
 *
 * With backend_tls the check does what a real connection does, TLS and
 * certificate verification included, so a member whose certificate does not
 * verify is down and the log and metrics say why. A greeting that says no
 * (421, "* BYE", "-ERR"), a timeout, or anything unparseable is a failure;
 * rise good checks bring a member up, fall failures take it down (pool.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "health.h"
#include "io.h"
#include "log.h"
#include "passclient.h"
#include "pool.h"
#include "reply.h"
#include "str.h"
#include "tls.h"

enum hc_step { HC_IDLE, HC_CONNECT, HC_GREETING, HC_EHLO, HC_STARTTLS, HC_QUIT };

struct hc {
	struct px_health *h;
	struct px_pool *pool;
	int member;
	struct io *io;
	enum hc_step step;
	int tls; /* the check's connection is TLS now */
	ev_timer next;
};

struct px_health {
	struct ev_loop *loop;
	struct px_config *cfg;
	struct hc *v;
	size_t n;
};

static void hc_done(struct hc *c, int ok, const char *why)
{
	if (c->io) {
		io_free(c->io);
		c->io = NULL;
	}
	if (!ok)
		log_debug("health check of %s: %s", c->pool->m[c->member].name, why);
	px_member_result(c->pool, c->member, ok, 1, why);
	c->step = HC_IDLE;
	c->tls = 0;
	ev_timer_set(&c->next, c->pool->hc_interval / 1000.0, 0);
	ev_timer_start(c->h->loop, &c->next);
}

/* The header a real connection would send first: v1 names the check's own
 * connection ("PROXY UNKNOWN" is refused by Postfix, so a pool of Postfix
 * members would stay down for ever); v2 has LOCAL for exactly this. */
static void send_pass(struct hc *c)
{
	px_pool_send_proxy_header(c->pool, c->member, c->io, NULL, NULL);
}

static int start_tls(struct hc *c)
{
	return px_tls_client_start(c->io, c->pool, &c->pool->m[c->member]);
}

/* After the connection (and TLS, when implicit) is up. */
static void connected(struct hc *c)
{
	if (c->pool->check == PX_CHECK_CONNECT) {
		hc_done(c, 1, NULL);
		return;
	}
	c->step = HC_GREETING;
}

/* A line-based greeting (IMAP, POP3): the first line, once it is whole. */
static int first_line(struct io *io, char *line, size_t len)
{
	struct buf *in = io_in(io);
	const char *nl = memchr(buf_ptr(in), '\n', buf_avail(in));
	size_t n;

	if (!nl)
		return buf_avail(in) > 1000 ? -1 : 0;
	n = (size_t)(nl - buf_ptr(in));
	if (n && buf_ptr(in)[n - 1] == '\r')
		n--;
	snprintf(line, len, "%.*s", (int)n, buf_ptr(in));
	io_consume(io, (size_t)(nl - buf_ptr(in)) + 1);
	return 1;
}

static void line_greeting(struct hc *c, struct io *io)
{
	int imap = c->pool->check == PX_CHECK_IMAP;
	const char *want = imap ? "* OK" : "+OK";
	char line[256], why[300];
	int rc = first_line(io, line, sizeof(line));

	if (!rc)
		return;
	if (rc < 0 || strncasecmp(line, want, strlen(want))) {
		snprintf(why, sizeof(why), "greeting '%.100s', want '%s'",
			 rc < 0 ? "(too long)" : line, want);
		hc_done(c, 0, why);
		return;
	}
	io_write(io, imap ? "a1 LOGOUT\r\n" : "QUIT\r\n", imap ? 11 : 6);
	c->step = HC_QUIT;
}

static void smtp_reply(struct hc *c, struct io *io)
{
	struct px_reply r;
	struct px_caps caps;
	char why[200];
	int rc;

	while (c->io && (rc = px_reply_take(io_in(io), &r)) != 0) {
		if (rc < 0) {
			hc_done(c, 0, "answer is not an SMTP reply");
			return;
		}
		switch (c->step) {
		case HC_GREETING:
			if (px_reply_expect(&r, 220, "greeting", why, sizeof(why))) {
				hc_done(c, 0, why);
				return;
			}
			io_printf(io, "EHLO %s\r\n", c->h->cfg->hostname);
			c->step = HC_EHLO;
			break;
		case HC_EHLO:
			if (px_reply_expect(&r, 250, "EHLO answered", why, sizeof(why))) {
				hc_done(c, 0, why);
				return;
			}
			px_caps_parse(&r, &caps);
			if (c->pool->tls != PX_BTLS_NONE && !c->tls) {
				if (caps.bits & PX_CAP_STARTTLS) {
					io_write(io, "STARTTLS\r\n", 10);
					c->step = HC_STARTTLS;
					break;
				}
				if (c->pool->tls != PX_BTLS_OPTIONAL) {
					hc_done(
					    c, 0,
					    "does not offer STARTTLS (backend_tls requires it)");
					return;
				}
			}
			px_member_set_caps(c->pool, c->member, &caps);
			/* Say goodbye, so that members do not log a lost connection. */
			io_write(io, "QUIT\r\n", 6);
			c->step = HC_QUIT;
			return;
		case HC_STARTTLS:
			if (px_reply_expect(&r, 220, "STARTTLS answered", why, sizeof(why))) {
				hc_done(c, 0, why);
				return;
			}
			if (start_tls(c))
				hc_done(c, 0, "TLS: out of memory");
			return; /* input read before the handshake is gone */
		default:
			return;
		}
	}
}

static void hc_io(struct io *io, enum io_event ev, void *arg)
{
	struct hc *c = arg;
	char why[200];

	switch (ev) {
	case IO_CONNECTED:
		send_pass(c);
		if (c->pool->tls != PX_BTLS_NONE && c->pool->tls_implicit) {
			if (start_tls(c))
				hc_done(c, 0, "TLS: out of memory");
			return;
		}
		connected(c);
		return;
	case IO_TLSREADY:
		c->tls = 1;
		if (c->step == HC_STARTTLS) {
			/* RFC 3207 4.2: a new session, so EHLO again. */
			io_printf(io, "EHLO %s\r\n", c->h->cfg->hostname);
			c->step = HC_EHLO;
			return;
		}
		connected(c);
		return;
	case IO_DATAIN:
		if (c->step == HC_QUIT) {
			/* The 221 (or anything): the member said goodbye properly. */
			hc_done(c, 1, NULL);
			return;
		}
		if (c->pool->check == PX_CHECK_SMTP)
			smtp_reply(c, io);
		else if (c->step == HC_GREETING)
			line_greeting(c, io);
		return;
	case IO_TIMEOUT:
		hc_done(c, c->step == HC_QUIT, "timed out");
		return;
	case IO_DISCONNECTED:
		hc_done(c, c->step == HC_QUIT, "closed the connection");
		return;
	case IO_ERROR:
		me_strlcpy(why, io_strerror(io), sizeof(why));
		hc_done(c, 0, why);
		return;
	case IO_LOWAT:
		return;
	}
}

static void hc_start(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct hc *c = (struct hc *)((char *)t - offsetof(struct hc, next));
	const struct px_member *m = &c->pool->m[c->member];
	char why[200];

	(void)loop;
	(void)revents;
	c->io = io_connect(c->h->loop, (const struct sockaddr *)&m->addr, m->addrlen, hc_io, c,
			   64 * 1024);
	if (!c->io) {
		snprintf(why, sizeof(why), "connect: %s", strerror(errno));
		hc_done(c, 0, why);
		return;
	}
	io_set_timeout(c->io, c->pool->hc_timeout / 1000.0);
	c->step = HC_CONNECT;
}

struct px_health *px_health_start(struct ev_loop *loop, struct px_config *cfg)
{
	struct px_health *h = calloc(1, sizeof(*h));
	size_t i, j, k = 0;

	if (!h)
		return NULL;
	for (i = 0; i < cfg->npools; i++)
		h->n += cfg->pools[i].nm;
	h->v = calloc(h->n, sizeof(*h->v));
	if (!h->v) {
		free(h);
		return NULL;
	}
	h->loop = loop;
	h->cfg = cfg;
	px_config_get(cfg);
	for (i = 0; i < cfg->npools; i++)
		for (j = 0; j < cfg->pools[i].nm; j++, k++) {
			struct hc *c = &h->v[k];

			c->h = h;
			c->pool = &cfg->pools[i];
			c->member = (int)j;
			/* First checks at once, spread a little so they do not all
			 * land on the backends in the same millisecond. */
			ev_timer_init(&c->next, hc_start, 0.001 * (double)(k % 50), 0);
			ev_timer_start(loop, &c->next);
		}
	return h;
}

void px_health_stop(struct px_health *h)
{
	size_t i;

	if (!h)
		return;
	for (i = 0; i < h->n; i++) {
		ev_timer_stop(h->loop, &h->v[i].next);
		io_free(h->v[i].io);
	}
	px_config_put(h->cfg);
	free(h->v);
	free(h);
}
