/* SPDX-License-Identifier: GPL-2.0 */
/*
 * io.h - one connection, plain or TLS, as a stream of events.
 *
 * The session layer never touches a socket or OpenSSL: it reads from io_in(),
 * writes with io_write(), and reacts to events (OpenSMTPD's ioev.h is the
 * model). TLS is part of the connection from the start, so STARTTLS is one call
 * and the session code is the same before and after it.
 */
#ifndef PX_IO_H
#define PX_IO_H

#include <stddef.h>
#include <sys/socket.h>
#include <ev.h>
#include <openssl/ssl.h>

#include "buf.h"

enum io_event {
	IO_CONNECTED,	 /* an outgoing connection is up */
	IO_DATAIN,	 /* new bytes in io_in() */
	IO_LOWAT,	 /* everything written has left */
	IO_TLSREADY,	 /* the TLS handshake is complete */
	IO_TIMEOUT,	 /* the timer set with io_set_timeout() fired */
	IO_DISCONNECTED, /* the peer closed the connection */
	IO_ERROR,	 /* see io_strerror() */
};

struct io;
typedef void (*io_cb)(struct io *io, enum io_event ev, void *arg);

/* Take over a connected, non-blocking socket (accept4 with SOCK_NONBLOCK).
 * in_limit bounds the unread input it buffers. */
struct io *io_new(struct ev_loop *loop, int fd, io_cb cb, void *arg, size_t in_limit);
/* Start connecting to sa; IO_CONNECTED or IO_ERROR follow. NULL (errno set)
 * when the connection fails at once. */
struct io *io_connect(struct ev_loop *loop, const struct sockaddr *sa, socklen_t salen, io_cb cb,
		      void *arg, size_t in_limit);
/* Close the socket and free everything; safe from inside the callback. */
void io_free(struct io *io);

struct buf *io_in(struct io *io);
/* Drop n bytes of input (and read again if the buffer was full). */
void io_consume(struct io *io, size_t n);
int io_write(struct io *io, const void *p, size_t n);
/* Append to the output buffer directly (a producer that writes into it in
 * place, saving the copy io_write makes), then io_flush(). Never NULL. */
struct buf *io_out(struct io *io);
/* Send what io_out() gained, as io_write would have. */
void io_flush(struct io *io);
int io_printf(struct io *io, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
size_t io_pending(const struct io *io);
/* Try once, without waiting, to write what is pending (before io_free, for a
 * last QUIT that would otherwise be lost with the buffer). */
void io_flush_now(struct io *io);

void io_pause_read(struct io *io);
void io_resume_read(struct io *io);
/* IO_TIMEOUT after secs; 0 stops the timer. */
void io_set_timeout(struct io *io, double secs);

/*
 * Become the TLS server side with ssl (made by the caller from the listener's
 * context; the io owns it from here, whatever happens): every byte of input
 * buffered so far is discarded (returned in *discarded; after "220 Ready to
 * start TLS" any plaintext is an injection attempt, RFC 3207 and
 * CVE-2011-0411), nothing more is read as plaintext, and the handshake starts
 * once the pending output has left. For implicit TLS, call it at once.
 */
int io_starttls_server(struct io *io, SSL *ssl, size_t *discarded);
/* The same as the client (toward a backend): after its 220 to STARTTLS, or
 * right after IO_CONNECTED for implicit TLS. IO_TLSREADY, or IO_ERROR. */
int io_starttls_client(struct io *io, SSL *ssl);

const char *io_tls_version(const struct io *io);
const char *io_tls_cipher(const struct io *io);

const char *io_strerror(const struct io *io);
/* Why a connection ended, for a log: "timed out", "closed the connection",
 * or io_strerror() (for IO_TIMEOUT, IO_DISCONNECTED, IO_ERROR). */
const char *io_end_text(const struct io *io, enum io_event ev);
/* The connection's own address (getsockname): 0, or -1 with errno. */
int io_local_addr(const struct io *io, struct sockaddr_storage *ss);
unsigned long long io_bytes_in(const struct io *io);
unsigned long long io_bytes_out(const struct io *io);

#endif
