/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tls.h - OpenSSL contexts: a listener's TLS profiles (server side, with SNI,
 * OCSP stapling and shared session tickets) and a pool's TLS to its members
 * (client side, verified when asked).
 *
 * Contexts are built from bytes (material.h), never from files, so the same
 * code serves a start as root and a reload fed by the keeper.
 */
#ifndef PX_TLS_H
#define PX_TLS_H

#include <stddef.h>
#include <sys/socket.h>
#include <openssl/ssl.h>

#include "config.h"
#include "material.h"

/* Mozilla "intermediate" (v5.7) for TLS 1.2: ECDHE (and DHE) with AEAD only;
 * the TLS 1.3 suites are all AEAD. */
#define PX_TLS_CIPHERS                                                                             \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                               \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                               \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"                               \
	"DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384"

/*
 * Build p->ctx (and p->sni, p->report) from the bytes of its files: TLS 1.2+
 * only (RFC 8996), no renegotiation, no compression. Refuses a key that does
 * not match its certificate, a chain that is out of order or does not verify
 * up through its own intermediates, an expired certificate, and an OCSP
 * response that is not for it; -t shows the report. 0, or -1 with why.
 */
int px_tls_profile_build(struct px_tls_profile *p, const struct px_material *m, char *why,
			 size_t why_len);
void px_tls_profile_fini(struct px_tls_profile *p);

struct io;
/* Make io the TLS server side with the listener's profiles (its default,
 * and SNI to choose the others): io_starttls_server, whose *discarded it
 * passes on. 0, or -1 when no TLS session could be made. */
int px_tls_server_start(struct io *io, const struct px_tls_server *srv, size_t *discarded);

/* A pool's client context (backend_tls): TLS 1.2+, and for verify the CAs of
 * backend_tls_ca (or the system's). NULL with why. */
SSL_CTX *px_tls_client_ctx(const struct px_pool *p, const struct px_material *m, char *why,
			   size_t why_len);
/* Make io the TLS client side toward member of pool p: the SNI, and for
 * verify the name (or the member's address) its certificate must carry;
 * io_starttls_client. 0 or -1. */
int px_tls_client_start(struct io *io, const struct px_pool *p, const struct px_member *member);

/* Session ticket keys, one set for the process (every worker, every reload):
 * made at start, rotated with px_tls_tickets_rotate() on a timer. 0 or -1. */
int px_tls_tickets_init(void);
void px_tls_tickets_rotate(void);
/* Let ctx's tickets be sealed with those keys. */
void px_tls_tickets_attach(SSL_CTX *ctx);

/* The first OpenSSL error of this thread (and the queue cleared), for a
 * message; fallback when there is none. */
const char *px_ssl_error(const char *fallback);

#endif
