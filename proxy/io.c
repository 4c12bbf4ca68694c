// SPDX-License-Identifier: GPL-2.0
/*
 * io.c - libev + OpenSSL connections.
 *
 * One ev_io watcher per connection, interested in reading while there is room
 * in the input buffer (and reading is not paused), and in writing while output
 * is pending; OpenSSL's WANT_READ/WANT_WRITE add the other direction when a TLS
 * operation needs it. The callback may free the io; that is deferred until the
 * callback returns.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>

#include "io.h"
#include "tls.h"

/* Reads start small (an idle session should cost little) and double, up to
 * the largest, while they keep filling what was offered. */
#define IO_READ_FIRST 4096
#define IO_READ_MAX   65536
/* An emptied buffer is given back: most sessions are idle most of the time,
 * and an idle session should cost its struct and little else. */

enum io_state {
	ST_CONNECTING,
	ST_PLAIN,
	ST_TLS_PENDING, /* STARTTLS: waiting for the output to flush */
	ST_HANDSHAKE,
	ST_TLS,
	ST_CLOSED,
};

struct io {
	struct ev_loop *loop;
	ev_io w;
	ev_timer t;
	ev_idle lowat; /* never started: only fed, see write_through() */
	int fd;
	enum io_state st;
	SSL *ssl;
	SSL *pending;	/* given by io_starttls_*, until the output has left */
	int tls_client; /* the handshake is ours to start */
	int tls_eof;	/* the peer ended TLS properly (close_notify) */
	struct buf in, out;
	io_cb cb;
	void *arg;
	int paused;
	int tls_want_write; /* an SSL_read needs the socket writable */
	int in_cb, freed;
	unsigned long long nin, nout;
	size_t chunk; /* the next read's size */
	char err[160];
};

static void update(struct io *io);
static void write_through(struct io *io);

/* Deliver an event; returns 1 if the io is gone afterwards. */
static int emit(struct io *io, enum io_event ev)
{
	io->in_cb++;
	io->cb(io, ev, io->arg);
	io->in_cb--;
	if (io->freed && !io->in_cb) {
		free(io);
		return 1;
	}
	return io->freed;
}

static int fail(struct io *io, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct io *io, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(io->err, sizeof(io->err), fmt, ap);
	va_end(ap);
	io->st = ST_CLOSED;
	ev_io_stop(io->loop, &io->w);
	return emit(io, IO_ERROR);
}

/* What went wrong with TLS, for a message: no OpenSSL error means the peer
 * just went away. */
static const char *ssl_reason(void)
{
	return px_ssl_error("connection closed during TLS");
}

/* Every socket given to io_alloc() is already non-blocking (accept4 and
 * socket with SOCK_NONBLOCK): only Nagle is left to switch off. */
static void set_nodelay(int fd)
{
	int one = 1;

	/* Replies are small and already batched per pipelined group. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void on_timer(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct io *io = (struct io *)((char *)t - offsetof(struct io, t));

	(void)loop;
	(void)revents;
	if (!emit(io, IO_TIMEOUT))
		update(io); /* the handler may have written (a 421) */
}

/* Read what is available; returns 1 if the io is gone. */
static int do_read(struct io *io)
{
	for (;;) {
		size_t room;
		char *p;
		ssize_t n;

		if (!io->chunk)
			io->chunk = IO_READ_FIRST;
		p = buf_reserve(&io->in, io->chunk, &room);
		if (!p)
			break; /* full: update() stops reading until io_consume() */
		if (room > io->chunk)
			room = io->chunk;
		if (io->ssl) {
			int r;

			ERR_clear_error();
			r = SSL_read(io->ssl, p, room > 0x7fffffff ? 0x7fffffff : (int)room);
			if (r <= 0) {
				int e = SSL_get_error(io->ssl, r);

				if (e == SSL_ERROR_WANT_READ)
					break;
				if (e == SSL_ERROR_WANT_WRITE) {
					io->tls_want_write = 1;
					break;
				}
				if (e == SSL_ERROR_ZERO_RETURN) {
					io->st = ST_CLOSED;
					io->tls_eof = 1;
					return emit(io, IO_DISCONNECTED);
				}
				return fail(io, "TLS read: %s", ssl_reason());
			}
			n = r;
		} else {
			n = recv(io->fd, p, room, 0);
			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR)
					break;
				return fail(io, "read: %s", strerror(errno));
			}
			if (n == 0) {
				io->st = ST_CLOSED;
				ev_io_stop(io->loop, &io->w);
				return emit(io, IO_DISCONNECTED);
			}
		}
		buf_commit(&io->in, (size_t)n);
		io->nin += (unsigned long long)n;
		if ((size_t)n == room && io->chunk < IO_READ_MAX)
			io->chunk *= 2;
		if (emit(io, IO_DATAIN))
			return 1;
		if (io->st != ST_PLAIN && io->st != ST_TLS)
			break; /* STARTTLS or close from the callback */
		if (io->paused)
			break;
		/* A short read drained the socket (and OpenSSL holds nothing
		 * decrypted): asking again would only fetch EAGAIN, one wasted
		 * syscall per event, a third of a proxied command's syscalls.
		 * Whatever arrives later wakes the (level-triggered) watcher. */
		if ((size_t)n < room && (!io->ssl || !SSL_has_pending(io->ssl)))
			break;
	}
	/* Nothing left unread: an idle connection holds no buffer. */
	if (!buf_avail(&io->in))
		buf_free(&io->in);
	return 0;
}

/*
 * One write of the pending output (SSL_write or send), counted and consumed
 * as far as it went. Returns what SSL_write/send returned: the callers differ
 * only in what they make of a failure.
 */
static ssize_t out_once(struct io *io, int flags)
{
	size_t len = buf_avail(&io->out);
	ssize_t n;

	if (io->ssl) {
		ERR_clear_error();
		n = SSL_write(io->ssl, buf_ptr(&io->out), len > INT_MAX ? INT_MAX : (int)len);
	} else {
		n = send(io->fd, buf_ptr(&io->out), len, flags);
	}
	if (n > 0) {
		buf_consume(&io->out, (size_t)n);
		io->nout += (unsigned long long)n;
	}
	return n;
}

/* Write what is pending; returns 1 if the io is gone. */
static int do_write(struct io *io)
{
	while (buf_avail(&io->out)) {
		ssize_t n = out_once(io, MSG_NOSIGNAL);

		if (n > 0)
			continue;
		if (io->ssl) {
			int e = SSL_get_error(io->ssl, (int)n);

			if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ)
				return 0;
			return fail(io, "TLS write: %s", ssl_reason());
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			return fail(io, "write: %s", strerror(errno));
		}
	}
	buf_free(&io->out);
	return emit(io, IO_LOWAT);
}

/* IO_LOWAT for output write_through() sent, unless more is pending by now
 * (then do_write() raises it when that has left). */
static void on_lowat(struct ev_loop *loop, ev_idle *w, int revents)
{
	struct io *io = (struct io *)((char *)w - offsetof(struct io, lowat));

	(void)loop;
	(void)revents;
	if ((io->st == ST_PLAIN || io->st == ST_TLS) && !buf_avail(&io->out) &&
	    !emit(io, IO_LOWAT)) {
		/* The handler may have written (the next DATA chunk, say), and
		 * io_flush() waits for callbacks to return: send it now. */
		if (buf_avail(&io->out))
			write_through(io);
		update(io);
	}
}

/*
 * Send what is pending now, without waiting for the loop: saves a loop
 * iteration (and two epoll_ctl calls) per reply, which is most of a proxy's
 * added latency. It raises no event itself, so no callback ever runs inside
 * the code that wrote: a failure is left for the watcher to find on the next
 * iteration, and IO_LOWAT (a closing session waits for it to free itself) is
 * fed to the loop as a pending event. The loop runs it right after the current
 * callback, with no poll in between; the watcher is never started, so nothing
 * but io_free() takes the pending event back.
 */
static void write_through(struct io *io)
{
	if ((io->st != ST_PLAIN && io->st != ST_TLS) || io->tls_want_write)
		return;
	while (buf_avail(&io->out)) {
		if (out_once(io, MSG_NOSIGNAL | MSG_DONTWAIT) <= 0) {
			if (io->ssl)
				ERR_clear_error();
			return;
		}
	}
	buf_free(&io->out);
	ev_feed_event(io->loop, &io->lowat, EV_CUSTOM);
}

static int start_handshake(struct io *io)
{
	io->ssl = io->pending;
	io->pending = NULL;
	/* The output buffer compacts between retries of a write; idle
	 * connections give their record buffers back (some 30 kB each). */
	SSL_set_mode(io->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
				  SSL_MODE_RELEASE_BUFFERS);
	if (!SSL_set_fd(io->ssl, io->fd)) {
		fail(io, "TLS: %s", ssl_reason());
		return -1; /* gone or closed: nothing more to drive either way */
	}
	if (io->tls_client)
		SSL_set_connect_state(io->ssl);
	else
		SSL_set_accept_state(io->ssl);
	io->st = ST_HANDSHAKE;
	return 0;
}

/* Drive the handshake; returns 1 if the io is gone. */
static int do_handshake(struct io *io)
{
	int r, e;

	ERR_clear_error();
	r = SSL_do_handshake(io->ssl);
	if (r == 1) {
		io->st = ST_TLS;
		if (emit(io, IO_TLSREADY))
			return 1;
		/* Application data may have come with the handshake's last flight. */
		return io->st == ST_TLS ? do_read(io) : 0;
	}
	e = SSL_get_error(io->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		io->tls_want_write = e == SSL_ERROR_WANT_WRITE;
		return 0;
	}
	if (io->tls_client && SSL_get_verify_result(io->ssl) != X509_V_OK) {
		/* Say which check failed, not just that one did. */
		ERR_clear_error();
		return fail(io, "TLS handshake: certificate verify failed: %s",
			    X509_verify_cert_error_string(SSL_get_verify_result(io->ssl)));
	}
	return fail(io, "TLS handshake: %s", ssl_reason());
}

static void on_io(struct ev_loop *loop, ev_io *w, int revents)
{
	struct io *io = (struct io *)((char *)w - offsetof(struct io, w));
	int err = 0;
	socklen_t len = sizeof(err);

	(void)loop;
	switch (io->st) {
	case ST_CONNECTING:
		getsockopt(io->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err) {
			fail(io, "connect: %s", strerror(err));
			return;
		}
		io->st = ST_PLAIN;
		if (emit(io, IO_CONNECTED))
			return;
		break;
	case ST_HANDSHAKE:
		if (do_handshake(io))
			return;
		break;
	case ST_PLAIN:
	case ST_TLS:
		if ((revents & EV_WRITE) || io->tls_want_write) {
			io->tls_want_write = 0;
			if (buf_avail(&io->out) && do_write(io))
				return;
		}
		if ((revents & EV_READ) && (io->st == ST_PLAIN || io->st == ST_TLS) &&
		    !io->paused && do_read(io))
			return;
		break;
	case ST_TLS_PENDING:
		/* No SSL yet: this is the plaintext 220 going out. */
		if ((revents & EV_WRITE) && buf_avail(&io->out) && out_once(io, MSG_NOSIGNAL) < 0 &&
		    errno != EAGAIN && errno != EINTR) {
			fail(io, "write: %s", strerror(errno));
			return;
		}
		if (!buf_avail(&io->out) && (start_handshake(io) || do_handshake(io)))
			return;
		break;
	case ST_CLOSED:
		break;
	}
	if (io->freed)
		return;
	/* Replies queued by the callbacks go out now, not after another loop. */
	if (buf_avail(&io->out))
		write_through(io);
	update(io);
}

/* (Re)arm the watcher for what the connection is waiting for. */
static void update(struct io *io)
{
	int ev = 0;

	switch (io->st) {
	case ST_CONNECTING:
		ev = EV_WRITE;
		break;
	case ST_TLS_PENDING:
		ev = EV_WRITE; /* flush the 220; read nothing as plaintext */
		break;
	case ST_HANDSHAKE:
		ev = EV_READ | (io->tls_want_write ? EV_WRITE : 0);
		break;
	case ST_PLAIN:
	case ST_TLS:
		if (!io->paused && (!io->in.limit || buf_avail(&io->in) < io->in.limit))
			ev |= EV_READ;
		if (buf_avail(&io->out) || io->tls_want_write)
			ev |= EV_WRITE;
		break;
	case ST_CLOSED:
		break;
	}
	if (!ev_is_active(&io->w) || (io->w.events & (EV_READ | EV_WRITE)) != ev) {
		ev_io_stop(io->loop, &io->w);
		if (ev) {
			ev_io_set(&io->w, io->fd, ev);
			ev_io_start(io->loop, &io->w);
		}
	}
	/* Bytes OpenSSL already holds (a record read in part while reading was
	 * paused or the buffer full) make no socket readable: without this
	 * they would wait for the peer to send something more. */
	if ((ev & EV_READ) && io->ssl && SSL_has_pending(io->ssl))
		ev_feed_event(io->loop, &io->w, EV_READ);
}

static struct io *io_alloc(struct ev_loop *loop, int fd, io_cb cb, void *arg, size_t in_limit)
{
	struct io *io = calloc(1, sizeof(*io));

	if (!io)
		return NULL;
	io->loop = loop;
	io->fd = fd;
	io->cb = cb;
	io->arg = arg;
	buf_init(&io->in, in_limit);
	buf_init(&io->out, 0);
	ev_io_init(&io->w, on_io, fd, EV_READ);
	ev_timer_init(&io->t, on_timer, 0, 0);
	ev_idle_init(&io->lowat, on_lowat);
	set_nodelay(fd);
	return io;
}

struct io *io_new(struct ev_loop *loop, int fd, io_cb cb, void *arg, size_t in_limit)
{
	struct io *io = io_alloc(loop, fd, cb, arg, in_limit);

	if (!io)
		return NULL;
	io->st = ST_PLAIN;
	update(io);
	return io;
}

struct io *io_connect(struct ev_loop *loop, const struct sockaddr *sa, socklen_t salen, io_cb cb,
		      void *arg, size_t in_limit)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct io *io;

	if (fd < 0)
		return NULL;
	io = io_alloc(loop, fd, cb, arg, in_limit);
	if (!io) {
		close(fd);
		return NULL;
	}
	io->st = ST_CONNECTING;
	if (connect(fd, sa, salen) && errno != EINPROGRESS) {
		int e = errno;

		close(fd);
		free(io);
		errno = e;
		return NULL; /* the caller tries the next member at once */
	}
	update(io);
	return io;
}

void io_free(struct io *io)
{
	if (!io || io->freed)
		return;
	ev_io_stop(io->loop, &io->w);
	ev_timer_stop(io->loop, &io->t);
	ev_idle_stop(io->loop, &io->lowat); /* takes back a pending IO_LOWAT */
	if (io->ssl) {
		/* Best effort close_notify, after a finished handshake only
		 * (OpenSSL refuses otherwise). A session that did not end so is
		 * dropped from the cache by SSL_free, a guard against truncation:
		 * a peer that ended it properly keeps it resumable. */
		if (io->st == ST_TLS)
			SSL_shutdown(io->ssl);
		else if (io->tls_eof)
			SSL_set_shutdown(io->ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
		SSL_free(io->ssl);
		ERR_clear_error();
	}
	SSL_free(io->pending);
	close(io->fd);
	buf_free(&io->in);
	buf_free(&io->out);
	io->st = ST_CLOSED;
	io->freed = 1;
	if (!io->in_cb)
		free(io);
}

struct buf *io_in(struct io *io)
{
	return &io->in;
}

void io_consume(struct io *io, size_t n)
{
	buf_consume(&io->in, n);
	if (!buf_avail(&io->in))
		buf_free(&io->in);
	if (!io->in_cb)
		update(io);
}

int io_write(struct io *io, const void *p, size_t n)
{
	int rc;

	if (io->st == ST_CLOSED)
		return -EPIPE;
	rc = buf_add(&io->out, p, n);
	if (!rc && !io->in_cb) {
		write_through(io);
		update(io);
	}
	return rc;
}

struct buf *io_out(struct io *io)
{
	return &io->out;
}

void io_flush(struct io *io)
{
	if (io->st != ST_CLOSED && !io->in_cb) {
		write_through(io);
		update(io);
	}
}

int io_printf(struct io *io, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	return io_write(io, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

size_t io_pending(const struct io *io)
{
	return buf_avail(&io->out);
}

void io_flush_now(struct io *io)
{
	if (!buf_avail(&io->out) || (io->st != ST_PLAIN && io->st != ST_TLS))
		return;
	out_once(io, MSG_NOSIGNAL); /* best effort: a failure is io_free()'s to clean up */
}

void io_pause_read(struct io *io)
{
	io->paused = 1;
	if (!io->in_cb)
		update(io);
}

void io_resume_read(struct io *io)
{
	io->paused = 0;
	if (!io->in_cb)
		update(io);
	/* Input may already be buffered: let the owner see it again. */
}

void io_set_timeout(struct io *io, double secs)
{
	ev_timer_stop(io->loop, &io->t);
	if (secs > 0) {
		ev_timer_set(&io->t, secs, 0);
		ev_timer_start(io->loop, &io->t);
	}
}

static int tls_pending(struct io *io, SSL *ssl, int client)
{
	if (!ssl)
		return -ENOMEM;
	if (io->ssl || io->pending || io->st != ST_PLAIN) {
		SSL_free(ssl);
		return -EINVAL;
	}
	io->pending = ssl;
	io->tls_client = client;
	io->st = ST_TLS_PENDING;
	if (!io->in_cb)
		update(io);
	return 0;
}

int io_starttls_server(struct io *io, SSL *ssl, size_t *discarded)
{
	*discarded = buf_avail(&io->in);
	buf_reset(&io->in);
	return tls_pending(io, ssl, 0);
}

int io_starttls_client(struct io *io, SSL *ssl)
{
	int rc = tls_pending(io, ssl, 1);

	/* A server that sent more than its 220 before the handshake: that is
	 * not TLS, and never a reply to anything of ours. */
	if (!rc)
		buf_reset(&io->in);
	return rc;
}

const char *io_tls_version(const struct io *io)
{
	return io->ssl ? SSL_get_version(io->ssl) : "";
}

const char *io_tls_cipher(const struct io *io)
{
	return io->ssl ? SSL_get_cipher_name(io->ssl) : "";
}

const char *io_strerror(const struct io *io)
{
	return io->err;
}

const char *io_end_text(const struct io *io, enum io_event ev)
{
	return ev == IO_TIMEOUT	       ? "timed out"
	       : ev == IO_DISCONNECTED ? "closed the connection"
				       : io->err;
}

int io_local_addr(const struct io *io, struct sockaddr_storage *ss)
{
	socklen_t len = sizeof(*ss);

	return getsockname(io->fd, (struct sockaddr *)ss, &len);
}

unsigned long long io_bytes_in(const struct io *io)
{
	return io->nin;
}

unsigned long long io_bytes_out(const struct io *io)
{
	return io->nout;
}
