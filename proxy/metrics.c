// SPDX-License-Identifier: GPL-2.0
/*
 * metrics.c - Prometheus text exposition (format 0.0.4) on a local address.
 *
 * Just enough HTTP: read a request head (4 KiB at most, 5 s), answer any GET
 * with the metrics and close. Meant for 127.0.0.1 or a management network, not
 * the world: there is no authentication.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "io.h"
#include "log.h"
#include "metrics.h"
#include "pool.h"

struct px_stats px_stats;

static const char *const rej_names[REJ_MAX] = {
	[REJ_RELAY] = "relay",
	[REJ_DENIED] = "denied_command",
	[REJ_UNKNOWN] = "unknown_command",
	[REJ_SYNTAX] = "syntax",
	[REJ_SEQUENCE] = "sequence",
	[REJ_TLS_REQUIRED] = "tls_required",
	[REJ_RECIPIENTS] = "too_many_recipients",
	[REJ_ERRORS] = "too_many_errors",
	[REJ_COMMANDS] = "too_many_commands",
	[REJ_PREGREET] = "pregreet",
	[REJ_BARE_NEWLINE] = "bare_newline",
	[REJ_SIZE] = "message_size",
	[REJ_LINE] = "line_too_long",
	[REJ_TIMEOUT] = "timeout",
	[REJ_SLOW] = "data_too_slow",
	[REJ_SESSIONS] = "too_many_sessions",
	[REJ_AUTH] = "auth",
	[REJ_BACKEND] = "backend",
	[REJ_HARVEST] = "harvest",
	[REJ_RATE] = "recipients_per_hour",
	[REJ_SENDER] = "sender_dict",
	[REJ_RECIPIENT] = "recipient_dict",
	[REJ_INVALID] = "invalid_recipient",
};

const char *px_rej_name(enum px_rej r)
{
	return r < REJ_MAX ? rej_names[r] : "?";
}

struct px_metrics {
	struct ev_loop *loop;
	int fd;
	ev_io w;
	struct px_config *cfg;
};

/* A label value with backslash, quote and newline escaped. */
static void label(struct buf *b, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			buf_printf(b, "\\%c", *v);
		else if (*v == '\n')
			buf_add(b, "\\n", 2);
		else
			buf_add(b, v, 1);
	}
}

static void metric(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

enum member_value { MV_UP, MV_CONNS, MV_FAILURES };

/* One sample per pool member: name{pool="...",member="..."} value. */
static void per_member(struct buf *b, const struct px_config *c, const char *name,
		       enum member_value v)
{
	size_t i, j;

	for (i = 0; i < c->npools; i++)
		for (j = 0; j < c->pools[i].nm; j++) {
			struct px_mstate *st = &c->pools[i].st->m[j];

			buf_printf(b, "%s{pool=\"", name);
			label(b, c->pools[i].name);
			buf_printf(b, "\",member=\"");
			label(b, c->pools[i].m[j].name);
			if (v == MV_FAILURES)
				buf_printf(b, "\"} %llu\n", atomic_load(&st->failures));
			else
				buf_printf(b, "\"} %d\n",
					   atomic_load(v == MV_UP ? &st->up : &st->conns));
		}
}

/* Only members that are down have a sample: the series says which and why. */
static void down_reasons(struct buf *b, const struct px_config *c)
{
	char why[160];

	for (size_t i = 0; i < c->npools; i++)
		for (size_t j = 0; j < c->pools[i].nm; j++) {
			if (atomic_load(&c->pools[i].st->m[j].up))
				continue;
			px_member_why(&c->pools[i], (int)j, why, sizeof(why));
			buf_printf(b, "mailedge_backend_down_reason{pool=\"");
			label(b, c->pools[i].name);
			buf_printf(b, "\",member=\"");
			label(b, c->pools[i].m[j].name);
			buf_printf(b, "\",reason=\"%s\"} 1\n", px_fail_class(why));
		}
}

static void render(struct px_metrics *m, struct buf *b)
{
	struct px_config *c = m->cfg;
	int r;

	metric(b, "mailedge_sessions_total", "counter", "Client sessions accepted.");
	buf_printf(b, "mailedge_sessions_total %llu\n", atomic_load(&px_stats.sessions));
	metric(b, "mailedge_sessions_active", "gauge", "Client sessions open now.");
	buf_printf(b, "mailedge_sessions_active %lld\n", atomic_load(&px_stats.active));
	metric(b, "mailedge_tls_sessions_total", "counter", "Sessions that completed STARTTLS.");
	buf_printf(b, "mailedge_tls_sessions_total %llu\n", atomic_load(&px_stats.tls));
	metric(b, "mailedge_commands_total", "counter", "Commands read from clients.");
	buf_printf(b, "mailedge_commands_total %llu\n", atomic_load(&px_stats.commands));
	metric(b, "mailedge_rejects_total", "counter", "Commands and sessions refused, by reason.");
	for (r = 0; r < REJ_MAX; r++)
		buf_printf(b, "mailedge_rejects_total{reason=\"%s\"} %llu\n", rej_names[r],
			   atomic_load(&px_stats.rejects[r]));
	metric(b, "mailedge_bytes_total", "counter",
	       "Bytes to and from clients (closed sessions).");
	buf_printf(b, "mailedge_bytes_total{direction=\"in\"} %llu\n",
		   atomic_load(&px_stats.bytes_in));
	buf_printf(b, "mailedge_bytes_total{direction=\"out\"} %llu\n",
		   atomic_load(&px_stats.bytes_out));
	metric(b, "mailedge_messages_total", "counter", "Messages by outcome of DATA.");
	buf_printf(b, "mailedge_messages_total{outcome=\"accepted\"} %llu\n",
		   atomic_load(&px_stats.data_ok));
	buf_printf(b, "mailedge_messages_total{outcome=\"failed\"} %llu\n",
		   atomic_load(&px_stats.data_failed));
	buf_printf(b, "mailedge_messages_total{outcome=\"refused\"} %llu\n",
		   atomic_load(&px_stats.data_refused));
	metric(b, "mailedge_backend_connects_total", "counter", "Connections opened to members.");
	buf_printf(b, "mailedge_backend_connects_total %llu\n",
		   atomic_load(&px_stats.backend_connects));
	metric(b, "mailedge_backend_failures_total", "counter",
	       "Member connections that failed or broke.");
	buf_printf(b, "mailedge_backend_failures_total %llu\n",
		   atomic_load(&px_stats.backend_failures));
	metric(b, "mailedge_dnsbl_lookups_total", "counter",
	       "Clients scored against the DNSBL/DNSWL sites.");
	buf_printf(b, "mailedge_dnsbl_lookups_total %llu\n", atomic_load(&px_stats.dnsbl_lookups));
	metric(b, "mailedge_dnsbl_sites_total", "counter",
	       "Site answers of those lookups: listed (a weight applied), failed (timeout, "
	       "tempfail), bad (malformed or oversized, counted unlisted).");
	buf_printf(b, "mailedge_dnsbl_sites_total{outcome=\"listed\"} %llu\n",
		   atomic_load(&px_stats.dnsbl_listed));
	buf_printf(b, "mailedge_dnsbl_sites_total{outcome=\"failed\"} %llu\n",
		   atomic_load(&px_stats.dnsbl_failed));
	buf_printf(b, "mailedge_dnsbl_sites_total{outcome=\"bad\"} %llu\n",
		   atomic_load(&px_stats.dnsbl_bad));
	metric(b, "mailedge_dnsbl_queries_total", "counter",
	       "DNS queries the DNSBL scorers sent (answers from their caches are not queries).");
	buf_printf(b, "mailedge_dnsbl_queries_total %llu\n", atomic_load(&px_stats.dnsbl_queries));
	metric(b, "mailedge_dnsbl_cache_total", "counter", "DNSBL cache lookups by result.");
	buf_printf(b, "mailedge_dnsbl_cache_total{result=\"hit\"} %llu\n",
		   atomic_load(&px_stats.dnsbl_cache_hits));
	buf_printf(b, "mailedge_dnsbl_cache_total{result=\"miss\"} %llu\n",
		   atomic_load(&px_stats.dnsbl_cache_misses));
	metric(b, "mailedge_dnsbl_errors_total", "counter",
	       "DNSBL zones without a usable answer: timeout, tempfail (SERVFAIL, REFUSED), "
	       "malformed or oversized replies, errcode (127.255.255.x, the list refusing).");
	buf_printf(b, "mailedge_dnsbl_errors_total{kind=\"timeout\"} %llu\n",
		   atomic_load(&px_stats.dnsbl_timeouts));
	buf_printf(b, "mailedge_dnsbl_errors_total{kind=\"tempfail\"} %llu\n",
		   atomic_load(&px_stats.dnsbl_tempfails));
	buf_printf(b, "mailedge_dnsbl_errors_total{kind=\"malformed\"} %llu\n",
		   atomic_load(&px_stats.dnsbl_malformed));
	buf_printf(b, "mailedge_dnsbl_errors_total{kind=\"oversized\"} %llu\n",
		   atomic_load(&px_stats.dnsbl_oversized));
	buf_printf(b, "mailedge_dnsbl_errors_total{kind=\"errcode\"} %llu\n",
		   atomic_load(&px_stats.dnsbl_errcodes));
	metric(b, "mailedge_invalid_recipients_total", "counter",
	       "Recipients refused as unknown (backend 550 5.1.1 class, or valid_recipients), "
	       "counted toward harvest_limit.");
	buf_printf(b, "mailedge_invalid_recipients_total %llu\n",
		   atomic_load(&px_stats.invalid_rcpts));
	metric(b, "mailedge_edge_bans_total", "counter",
	       "Clients the proxy banned at the edge (ok), or failed to (error).");
	buf_printf(b, "mailedge_edge_bans_total{result=\"ok\"} %llu\n",
		   atomic_load(&px_stats.edge_bans));
	buf_printf(b, "mailedge_edge_bans_total{result=\"error\"} %llu\n",
		   atomic_load(&px_stats.edge_ban_errors));
	metric(b, "mailedge_backend_up", "gauge", "1 when a pool member is healthy.");
	per_member(b, c, "mailedge_backend_up", MV_UP);
	metric(b, "mailedge_backend_connections", "gauge", "Open connections per member.");
	per_member(b, c, "mailedge_backend_connections", MV_CONNS);
	metric(b, "mailedge_backend_check_failures_total", "counter",
	       "Failed health checks and connections per member.");
	per_member(b, c, "mailedge_backend_check_failures_total", MV_FAILURES);
	metric(b, "mailedge_backend_down_reason", "gauge",
	       "1 for each member that is down, labelled with why (connect, timeout, greeting, "
	       "starttls, tls, tls_verify, protocol).");
	down_reasons(b, c);
}

struct http_conn {
	struct px_metrics *m;
	struct io *io;
	int answered;
};

static void http_io(struct io *io, enum io_event ev, void *arg)
{
	struct http_conn *h = arg;
	struct buf body;

	switch (ev) {
	case IO_DATAIN:
		if (h->answered)
			return;
		if (!memmem(buf_ptr(io_in(io)), buf_avail(io_in(io)), "\r\n\r\n", 4)) {
			if (buf_avail(io_in(io)) >= 4096)
				goto close;
			return;
		}
		if (strncmp(buf_ptr(io_in(io)), "GET ", 4)) {
			io_printf(io,
				  "HTTP/1.0 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n");
		} else {
			buf_init(&body, 0);
			render(h->m, &body);
			io_printf(io,
				  "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
				  "Content-Length: %zu\r\nConnection: close\r\n\r\n",
				  buf_avail(&body));
			io_write(io, buf_ptr(&body), buf_avail(&body));
			buf_free(&body);
		}
		h->answered = 1;
		return;
	case IO_LOWAT:
		if (h->answered)
			goto close;
		return;
	default:
		goto close;
	}
close:
	io_free(io);
	free(h);
}

static void on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	struct px_metrics *m = w->data;
	int fd;

	(void)revents;
	while ((fd = accept4(m->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		struct http_conn *h = calloc(1, sizeof(*h));

		if (!h) {
			close(fd);
			continue;
		}
		h->m = m;
		h->io = io_new(loop, fd, http_io, h, 8192);
		if (!h->io) {
			close(fd);
			free(h);
			continue;
		}
		io_set_timeout(h->io, 5);
	}
}

struct px_metrics *px_metrics_start(struct ev_loop *loop, struct px_config *c, char *why,
				    size_t why_len)
{
	struct px_metrics *m;
	int one = 1;

	if (!c->metrics[0])
		return NULL;
	m = calloc(1, sizeof(*m));
	if (!m) {
		snprintf(why, why_len, "out of memory");
		return NULL;
	}
	m->fd = socket(c->metrics_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (m->fd < 0)
		goto err;
	setsockopt(m->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(m->fd, (struct sockaddr *)&c->metrics_addr, c->metrics_addrlen) ||
	    listen(m->fd, 16))
		goto err;
	m->loop = loop;
	m->cfg = c;
	px_config_get(c);
	ev_io_init(&m->w, on_accept, m->fd, EV_READ);
	m->w.data = m;
	ev_io_start(loop, &m->w);
	return m;
err:
	snprintf(why, why_len, "metrics on %s: %s", c->metrics, strerror(errno));
	if (m->fd >= 0)
		close(m->fd);
	free(m);
	return NULL;
}

void px_metrics_set_config(struct px_metrics *m, struct px_config *c)
{
	if (!m)
		return;
	px_config_get(c);
	px_config_put(m->cfg);
	m->cfg = c;
}

void px_metrics_stop(struct px_metrics *m)
{
	if (!m)
		return;
	ev_io_stop(m->loop, &m->w);
	close(m->fd);
	px_config_put(m->cfg);
	free(m);
}
