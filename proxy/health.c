// SPDX-License-Identifier: GPL-2.0
/*
 * health.c - connect, read the 220, EHLO (learning what the member offers),
 * QUIT; every interval, per member. A greeting other than 220 (a 421 from a
 * member shutting down, say), a timeout, or anything unparseable is a failure;
 * rise good checks bring a member up, fall failures take it down (pool.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "health.h"
#include "io.h"
#include "log.h"
#include "passclient.h"
#include "pool.h"
#include "reply.h"
#include "str.h"

enum hc_step { HC_IDLE, HC_GREETING, HC_EHLO, HC_QUIT };

struct hc {
	struct px_health *h;
	struct px_pool *pool;
	int member;
	struct io *io;
	enum hc_step step;
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
	ev_timer_set(&c->next, c->pool->hc_interval / 1000.0, 0);
	ev_timer_start(c->h->loop, &c->next);
}

static void hc_io(struct io *io, enum io_event ev, void *arg)
{
	struct hc *c = arg;
	struct px_reply r;
	char why[200];
	int rc;

	switch (ev) {
	case IO_CONNECTED: {
		/* A v1 header names the check's own connection (from this socket
		 * to the member): "PROXY UNKNOWN" is refused by Postfix, so a
		 * pool of Postfix members would stay down for ever. v2 has a
		 * command for the proxy's own connections: LOCAL. */
		const struct px_member *m = &c->pool->m[c->member];
		unsigned char hdr[PP_V2_MAX + PP_V1_MAX];
		struct sockaddr_storage self;
		int n = -1;

		if (c->pool->pass == PX_PASS_PROXY_V1 && !io_local_addr(io, &self))
			n = px_pool_proxy_header(c->pool, (struct sockaddr *)&self,
						 (const struct sockaddr *)&m->addr, 0, hdr,
						 sizeof(hdr));
		else
			n = px_pool_proxy_header(c->pool, NULL, NULL, 1, hdr, sizeof(hdr));
		if (n > 0)
			io_write(io, hdr, (size_t)n);
	}
		return;
	case IO_DATAIN:
		if (c->step == HC_QUIT) {
			/* The 221 (or anything): the member said goodbye properly. */
			hc_done(c, 1, NULL);
			return;
		}
		rc = px_reply_take(io_in(io), &r);
		if (rc == 0)
			return;
		if (rc < 0) {
			hc_done(c, 0, "answer is not an SMTP reply");
			return;
		}
		if (c->step == HC_GREETING) {
			if (px_reply_expect(&r, 220, "greeting", why, sizeof(why))) {
				hc_done(c, 0, why);
				return;
			}
			io_printf(io, "EHLO %s\r\n", c->h->cfg->hostname);
			c->step = HC_EHLO;
			return;
		}
		if (px_reply_expect(&r, 250, "EHLO answered", why, sizeof(why))) {
			hc_done(c, 0, why);
			return;
		}
		{
			struct px_caps caps;

			px_caps_parse(&r, &caps);
			px_member_set_caps(c->pool, c->member, &caps);
		}
		/* Say goodbye, so that members do not log a lost connection. */
		io_write(io, "QUIT\r\n", 6);
		c->step = HC_QUIT;
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
	case IO_TLSREADY:
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
	c->step = HC_GREETING;
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
