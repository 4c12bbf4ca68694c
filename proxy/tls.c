// SPDX-License-Identifier: GPL-2.0
/*
 * tls.c - TLS contexts.
 */
#include <stdio.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "keeper.h"
#include "log.h"
#include "tls.h"

/* Mozilla "intermediate" (v5.7) for TLS 1.2; TLS 1.3 suites are all AEAD. */
#define PX_CIPHERS                                                                                 \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                               \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                               \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"                               \
	"DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384"

const char *px_ssl_error(const char *fallback)
{
	/* Per thread: the workers' connections fail on their own threads. */
	static __thread char buf[160];
	unsigned long e = ERR_get_error();

	if (!e)
		return fallback;
	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return buf;
}

/* A daemon has no one to ask for a passphrase: an encrypted key fails. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* The key from what the keeper read (on a reload, as root), else the file. */
static int use_key(SSL_CTX *ctx, const char *key)
{
	size_t len;
	const char *pem = px_keeper_key(key, &len);
	EVP_PKEY *pk;
	BIO *b;
	int rc;

	if (!pem)
		return SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM);
	b = BIO_new_mem_buf(pem, (int)len);
	if (!b)
		return 0;
	pk = PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL);
	BIO_free(b);
	if (!pk)
		return 0;
	rc = SSL_CTX_use_PrivateKey(ctx, pk);
	EVP_PKEY_free(pk);
	return rc;
}

SSL_CTX *px_tls_server_ctx(const char *cert, const char *key, const char *chain, char *why,
			   size_t why_len)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	X509 *x;
	int days = 0, secs = 0;

	if (!ctx) {
		snprintf(why, why_len, "TLS: %s", px_ssl_error("unknown error"));
		return NULL;
	}
	SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
				     SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"mailedge", 8);
	if (!SSL_CTX_set_cipher_list(ctx, PX_CIPHERS)) {
		snprintf(why, why_len, "TLS ciphers: %s", px_ssl_error("unknown error"));
		goto err;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		snprintf(why, why_len, "certificate %s: %s", cert, px_ssl_error("unknown error"));
		goto err;
	}
	if (chain && *chain) {
		FILE *f = fopen(chain, "r");
		X509 *c;

		if (!f) {
			snprintf(why, why_len, "chain %s: cannot open", chain);
			goto err;
		}
		while ((c = PEM_read_X509(f, NULL, NULL, NULL)))
			if (!SSL_CTX_add_extra_chain_cert(ctx, c)) {
				X509_free(c);
				fclose(f);
				snprintf(why, why_len, "chain %s: %s", chain,
					 px_ssl_error("unknown error"));
				goto err;
			}
		fclose(f);
		ERR_clear_error(); /* the end of the file */
	}
	if (use_key(ctx, key) != 1) {
		snprintf(why, why_len, "key %s: %s", key, px_ssl_error("unknown error"));
		goto err;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(why, why_len, "key %s does not match certificate %s", key, cert);
		goto err;
	}
	x = SSL_CTX_get0_certificate(ctx);
	if (x && ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x))) {
		if (days < 0 || (days == 0 && secs <= 0)) {
			snprintf(why, why_len, "certificate %s has expired", cert);
			goto err;
		}
		if (days < 30)
			log_warn("certificate %s expires in %d days", cert, days);
	}
	return ctx;
err:
	SSL_CTX_free(ctx);
	return NULL;
}
