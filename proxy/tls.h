/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tls.h - OpenSSL contexts for the proxy's listeners.
 */
#ifndef PX_TLS_H
#define PX_TLS_H

#include <stddef.h>
#include <openssl/ssl.h>

/*
 * A server context for cert (PEM, optionally followed by its chain), key and an
 * optional separate chain file: TLS 1.2 and 1.3 only (RFC 8996), Mozilla's
 * "intermediate" ciphers (ECDHE with AEAD), no renegotiation, no compression.
 * Refuses a key that does not match the certificate or a certificate that has
 * expired, and warns when it expires within 30 days. NULL with why on failure.
 */
SSL_CTX *px_tls_server_ctx(const char *cert, const char *key, const char *chain, char *why,
			   size_t why_len);

/* The first OpenSSL error of this thread (and the queue cleared), for a
 * message; fallback when there is none. */
const char *px_ssl_error(const char *fallback);

#endif
