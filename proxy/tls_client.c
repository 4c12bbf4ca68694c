// SPDX-License-Identifier: GPL-2.0
/*
 * tls_client.c - TLS from the proxy to a pool's members (backend_tls).
 *
 * "optional" and "required" encrypt without checking who answers (what
 * Postfix's smtp client calls "may" and "encrypt"); "verify" also checks the
 * certificate against backend_tls_ca (or the system's CAs) and the name it
 * must carry: backend_tls_name, or the member's own address when that is
 * empty. A member that fails verification is a failed member: health checks
 * take it down and say why.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "io.h"
#include "passclient.h"
#include "tls.h"

static int load_cas(SSL_CTX *ctx, const struct px_pool *p, const struct px_material *m, char *why,
		    size_t why_len)
{
	const struct px_file *f;
	X509_STORE *st = SSL_CTX_get_cert_store(ctx);
	BIO *b;
	X509 *x;
	int n = 0;

	if (!p->tls_ca[0]) {
		if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
			snprintf(why, why_len, "pool %s: the system's CAs: %s", p->name,
				 px_ssl_error("cannot be loaded"));
			return -1;
		}
		return 0;
	}
	f = px_material_get(m, p->tls_ca);
	if (!f) {
		snprintf(why, why_len, "pool %s: %s was not read", p->name, p->tls_ca);
		return -1;
	}
	b = BIO_new_mem_buf(f->data, (int)f->len);
	while (b && (x = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
		X509_STORE_add_cert(st, x);
		X509_free(x);
		n++;
	}
	BIO_free(b);
	ERR_clear_error();
	if (!n) {
		snprintf(why, why_len, "pool %s: backend_tls_ca %s holds no PEM certificate",
			 p->name, p->tls_ca);
		return -1;
	}
	return 0;
}

SSL_CTX *px_tls_client_ctx(const struct px_pool *p, const struct px_material *m, char *why,
			   size_t why_len)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ctx) {
		snprintf(why, why_len, "TLS: %s", px_ssl_error("unknown error"));
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
	if (p->tls == PX_BTLS_VERIFY) {
		if (load_cas(ctx, p, m, why, why_len)) {
			SSL_CTX_free(ctx);
			return NULL;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	} else {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	}
	/* Sessions resumed per member would need a cache keyed by member;
	 * backend connections are few and long, so none is kept. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	return ctx;
}

static int attach(SSL *ssl, const struct px_pool *p, const struct px_member *member)
{
	char ip[INET6_ADDRSTRLEN];
	unsigned int port;

	if (p->tls_name[0] && !SSL_set_tlsext_host_name(ssl, p->tls_name))
		return -1;
	if (p->tls != PX_BTLS_VERIFY)
		return 0;
	if (p->tls_name[0])
		return SSL_set1_host(ssl, p->tls_name) == 1 ? 0 : -1;
	px_addr_port((const struct sockaddr *)&member->addr, ip, sizeof(ip), &port);
	return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), ip) == 1 ? 0 : -1;
}

int px_tls_client_start(struct io *io, const struct px_pool *p, const struct px_member *member)
{
	SSL *ssl = SSL_new(p->tls_ctx);

	if (ssl && attach(ssl, p, member)) {
		SSL_free(ssl);
		ssl = NULL;
	}
	return io_starttls_client(io, ssl) ? -1 : 0;
}
