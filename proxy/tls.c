// SPDX-License-Identifier: GPL-2.0
/*
 * tls.c - a TLS profile's server context: certificates from bytes, checked
 * before they are used; SNI among a listener's profiles; OCSP stapling.
 *
 * SNI switches the certificate (and its OCSP response) with SSL_set_SSL_CTX;
 * as in nginx, what was negotiable was fixed by the listener's default profile
 * before the client named a server, so protocols and ciphers are the default
 * profile's. The report px_tls_profile_build leaves is what "-t" prints.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "buf.h"
#include "io.h"
#include "log.h"
#include "tls.h"
#include "tls_check.h"

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

/* ---- the listener's profiles, on each SSL: SNI ---- */

static pthread_once_t idx_once = PTHREAD_ONCE_INIT;
static int srv_idx = -1;

static void idx_init(void)
{
	srv_idx = SSL_get_ex_new_index(0, "mailedge listener", NULL, NULL, NULL);
}

int px_tls_server_start(struct io *io, const struct px_tls_server *srv, size_t *discarded)
{
	SSL *ssl = SSL_new(srv->def);

	*discarded = 0;
	if (ssl) {
		/* The listener, for on_servername(): SNI chooses among its
		 * profiles, and only its. */
		pthread_once(&idx_once, idx_init);
		SSL_set_ex_data(ssl, srv_idx, (void *)srv);
	}
	return io_starttls_server(io, ssl, discarded) ? -1 : 0;
}

/* "*.example.org" matches one label, as RFC 6125 6.4.3 has it. */
static int name_matches(const char *pattern, const char *name)
{
	if (pattern[0] == '*' && pattern[1] == '.') {
		const char *dot = strchr(name, '.');

		return dot && dot != name && !strcasecmp(dot + 1, pattern + 2);
	}
	return !strcasecmp(pattern, name);
}

static int on_servername(SSL *ssl, int *alert, void *arg)
{
	const struct px_tls_server *srv;
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	size_t i, k;

	(void)alert;
	(void)arg;
	pthread_once(&idx_once, idx_init);
	srv = SSL_get_ex_data(ssl, srv_idx);
	if (!name || !srv)
		return SSL_TLSEXT_ERR_OK; /* the default profile */
	for (i = 0; i < srv->nprofiles; i++) {
		const struct px_tls_profile *p = srv->profiles[i];

		for (k = 0; k < p->nsni; k++)
			if (name_matches(p->sni[k], name)) {
				if (p->ctx != SSL_get_SSL_CTX(ssl))
					SSL_set_SSL_CTX(ssl, p->ctx);
				return SSL_TLSEXT_ERR_OK;
			}
	}
	/* A name none of them carries: the default profile answers, as a
	 * mail server answers every name sent to its address. */
	return SSL_TLSEXT_ERR_OK;
}

/* ---- OCSP stapling ---- */

static int on_status(SSL *ssl, void *arg)
{
	const struct px_tls_profile *p = arg;
	unsigned char *copy;

	if (!p->ocsp_der || SSL_get_certificate(ssl) != p->ocsp_cert)
		return SSL_TLSEXT_ERR_NOACK;
	copy = OPENSSL_memdup(p->ocsp_der, p->ocsp_len);
	if (!copy)
		return SSL_TLSEXT_ERR_NOACK;
	/* OpenSSL owns (and frees) the copy from here. */
	SSL_set_tlsext_status_ocsp_resp(ssl, copy, (long)p->ocsp_len);
	return SSL_TLSEXT_ERR_OK;
}

/* ---- building ---- */

static const struct px_file *need(const struct px_material *m, const char *path,
				  const char *profile, char *why, size_t why_len)
{
	const struct px_file *f = px_material_get(m, path);

	if (!f)
		snprintf(why, why_len, "tls profile %s: %s was not read", profile, path);
	return f;
}

/* Every certificate in PEM bytes: the first into *leaf (when leaf is not
 * NULL), the rest appended to chain. 0, or -1 when there is none or one does
 * not parse. */
static int read_certs(const struct px_file *f, X509 **leaf, STACK_OF(X509) * chain)
{
	BIO *b = BIO_new_mem_buf(f->data, (int)f->len);
	X509 *x;
	int n = 0;

	if (!b)
		return -1;
	while ((x = PEM_read_bio_X509(b, NULL, no_passphrase, NULL))) {
		if (leaf && !n)
			*leaf = x;
		else if (!sk_X509_push(chain, x))
			X509_free(x);
		n++;
	}
	BIO_free(b);
	/* The end of the PEM stream leaves PEM_R_NO_START_LINE: anything else
	 * is a block that did not parse, and what followed it would be lost. */
	if (ERR_peek_last_error() && ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE)
		return -1;
	ERR_clear_error();
	return n ? 0 : -1;
}

static EVP_PKEY *read_key(const struct px_file *f)
{
	BIO *b = BIO_new_mem_buf(f->data, (int)f->len);
	EVP_PKEY *k;

	if (!b)
		return NULL;
	k = PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL);
	BIO_free(b);
	return k;
}

static int add_sni(struct px_tls_profile *p, const char *name)
{
	char **g, *n;

	for (size_t i = 0; i < p->nsni; i++)
		if (!strcasecmp(p->sni[i], name))
			return 0;
	g = realloc(p->sni, (p->nsni + 1) * sizeof(*g));
	if (!g)
		return -1;
	p->sni = g;
	n = strdup(name);
	if (!n)
		return -1;
	for (char *c = n; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	p->sni[p->nsni++] = n;
	return 0;
}

/* One certificate of the profile: read, checked, described, installed. */
static int add_cert(struct px_tls_profile *p, SSL_CTX *ctx, const struct px_tls_cert *c,
		    const struct px_material *m, struct buf *rep, int *types, char *why,
		    size_t why_len)
{
	const struct px_file *cf, *kf, *chf = NULL;
	STACK_OF(X509) *chain = sk_X509_new_null();
	X509 *leaf = NULL;
	EVP_PKEY *key = NULL;
	int rc = -1, days, type;

	if (!chain) {
		snprintf(why, why_len, "out of memory");
		return -1;
	}
	if (!(cf = need(m, c->cert, p->name, why, why_len)) ||
	    !(kf = need(m, c->key, p->name, why, why_len)) ||
	    (c->chain[0] && !(chf = need(m, c->chain, p->name, why, why_len))))
		goto out;
	if (read_certs(cf, &leaf, chain)) {
		snprintf(why, why_len, "tls profile %s: %s: %s", p->name, c->cert,
			 px_ssl_error("no PEM certificate in it"));
		goto out;
	}
	if (chf && read_certs(chf, NULL, chain)) {
		snprintf(why, why_len, "tls profile %s: chain %s: %s", p->name, c->chain,
			 px_ssl_error("no PEM certificate in it"));
		goto out;
	}
	key = read_key(kf);
	if (!key) {
		snprintf(why, why_len,
			 "tls profile %s: key %s is not an unencrypted PEM private key (%s)",
			 p->name, c->key, px_ssl_error("no key found"));
		goto out;
	}
	if (X509_check_private_key(leaf, key) != 1) {
		ERR_clear_error();
		snprintf(why, why_len, "tls profile %s: key %s does not match certificate %s",
			 p->name, c->key, c->cert);
		goto out;
	}
	type = EVP_PKEY_get_base_id(key);
	for (int i = 0; i < 2; i++)
		if (types[i] == type) {
			snprintf(
			    why, why_len,
			    "tls profile %s: two certificates with %s keys: a profile holds one "
			    "of each type (ECDSA and RSA)",
			    p->name, OBJ_nid2sn(type));
			goto out;
		}
	types[types[0] ? 1 : 0] = type;
	if (px_tls_check_chain(leaf, chain, c->cert, why, why_len))
		goto out;
	days = px_tls_days_left(leaf);
	if (days < 0) {
		snprintf(why, why_len, "tls profile %s: certificate %s %s", p->name, c->cert,
			 X509_cmp_current_time(X509_get0_notBefore(leaf)) > 0 ? "is not valid yet"
									      : "has expired");
		goto out;
	}
	px_tls_describe(rep, c, leaf, chain, key, days);
	if (days < PX_TLS_EXPIRY_WARN_DAYS)
		log_warn("tls profile %s: certificate %s expires in %d days", p->name, c->cert,
			 days);
	if (SSL_CTX_use_cert_and_key(ctx, leaf, key, chain, 1) != 1) {
		snprintf(why, why_len, "tls profile %s: certificate %s: %s", p->name, c->cert,
			 px_ssl_error("refused by OpenSSL"));
		goto out;
	}
	if (!p->nnames && px_tls_cert_names(leaf, p, add_sni)) {
		snprintf(why, why_len, "out of memory");
		goto out;
	}
	if (!p->ocsp_cert) {
		/* The OCSP response (if any) is for the first certificate. */
		p->ocsp_cert = leaf;
		X509_up_ref(leaf);
		p->ocsp_issuer = sk_X509_num(chain) ? sk_X509_value(chain, 0) : NULL;
		if (p->ocsp_issuer)
			X509_up_ref(p->ocsp_issuer);
	}
	rc = 0;
out:
	X509_free(leaf);
	EVP_PKEY_free(key);
	sk_X509_pop_free(chain, X509_free);
	return rc;
}

/* What the profile negotiates; -1 with why. */
static int set_params(const struct px_tls_profile *p, SSL_CTX *ctx, char *why, size_t why_len)
{
	unsigned char sid[EVP_MAX_MD_SIZE];
	unsigned int sidlen = 0;
	char ctxname[128];
	int n;

	SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
	SSL_CTX_set_min_proto_version(ctx, p->min_proto);
	SSL_CTX_set_max_proto_version(ctx, p->max_proto);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
				     SSL_OP_CIPHER_SERVER_PREFERENCE |
				     SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION);
	/* DHE suites (in Mozilla's intermediate list) need parameters:
	 * OpenSSL's built-in RFC 7919 groups, sized to the certificate. */
	SSL_CTX_set_dh_auto(ctx, 1);
	if (!SSL_CTX_set_cipher_list(ctx, p->ciphers)) {
		snprintf(why, why_len, "tls profile %s: ciphers '%.80s': %s", p->name, p->ciphers,
			 px_ssl_error("no cipher matches"));
		return -1;
	}
	if (p->ciphersuites[0] && !SSL_CTX_set_ciphersuites(ctx, p->ciphersuites)) {
		snprintf(why, why_len, "tls profile %s: ciphersuites '%.80s': %s", p->name,
			 p->ciphersuites, px_ssl_error("no suite matches"));
		return -1;
	}
	if (p->groups[0] && !SSL_CTX_set1_groups_list(ctx, p->groups)) {
		snprintf(why, why_len, "tls profile %s: groups '%.80s': %s", p->name, p->groups,
			 px_ssl_error("unknown group"));
		return -1;
	}
	/* The session cache is the context's, so every worker thread resumes
	 * the sessions of every other; tickets use the process's keys. */
	SSL_CTX_set_session_cache_mode(ctx, p->session_cache ? SSL_SESS_CACHE_SERVER
							     : SSL_SESS_CACHE_OFF);
	if (p->session_cache)
		SSL_CTX_sess_set_cache_size(ctx, p->session_cache);
	SSL_CTX_set_timeout(ctx, (long)p->session_timeout);
	/* The profile's own context, whole (a name cut to 32 bytes could be
	 * another's): a session or ticket resumes only on a listener of the
	 * profile it was made on, never on one with another certificate or
	 * other ciphers, though ticket keys are the process's. */
	n = snprintf(ctxname, sizeof(ctxname), "mailedge%c%s", '\0', p->name);
	if (n < 0 ||
	    !EVP_Digest(ctxname, (size_t)n < sizeof(ctxname) ? (size_t)n : sizeof(ctxname), sid,
			&sidlen, EVP_sha256(), NULL) ||
	    !SSL_CTX_set_session_id_context(ctx, sid, sidlen)) {
		snprintf(why, why_len, "tls profile %s: %s", p->name,
			 px_ssl_error("no session id context"));
		return -1;
	}
	if (p->tickets) {
		px_tls_tickets_attach(ctx);
		SSL_CTX_set_num_tickets(ctx, 1); /* one is enough for a mail client */
	} else {
		SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	}
	SSL_CTX_set_tlsext_servername_callback(ctx, on_servername);
	return 0;
}

/* A cipher string may allow what no admin means to: say so (the audit of
 * testssl rates anonymous ciphers critical), but it is the admin's call. */
static void weak_ciphers(const struct px_tls_profile *p, SSL_CTX *ctx, struct buf *rep)
{
	STACK_OF(SSL_CIPHER) *sk = SSL_CTX_get_ciphers(ctx);
	int anon = 0, nofs = 0, clear = 0;

	for (int i = 0; i < sk_SSL_CIPHER_num(sk); i++) {
		const SSL_CIPHER *c = sk_SSL_CIPHER_value(sk, i);
		int kx = SSL_CIPHER_get_kx_nid(c);

		anon += SSL_CIPHER_get_auth_nid(c) == NID_auth_null;
		nofs += kx == NID_kx_rsa || kx == NID_kx_psk;
		clear += SSL_CIPHER_get_cipher_nid(c) == NID_undef;
	}
	if (clear) {
		buf_printf(rep, "  WARNING: %d ciphers without encryption allowed (eNULL)\n",
			   clear);
		log_warn("tls profile %s: ciphers allow %d without encryption", p->name, clear);
	}
	if (anon) {
		buf_printf(rep,
			   "  WARNING: %d anonymous ciphers allowed (no server authentication)\n",
			   anon);
		log_warn("tls profile %s: ciphers allow %d anonymous ciphers", p->name, anon);
	}
	if (nofs)
		buf_printf(rep, "  note: %d ciphers without forward secrecy allowed\n", nofs);
}

int px_tls_profile_build(struct px_tls_profile *p, const struct px_material *m, char *why,
			 size_t why_len)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	int types[2] = { 0, 0 };
	struct buf rep;
	int k;

	buf_init(&rep, 0);
	if (!ctx) {
		snprintf(why, why_len, "TLS: %s", px_ssl_error("unknown error"));
		return -1;
	}
	if (set_params(p, ctx, why, why_len))
		goto err;
	buf_printf(&rep, "tls profile %s:\n  protocols: %s to %s; session cache %u, tickets %s\n",
		   p->name, p->min_proto == TLS1_3_VERSION ? "TLSv1.3" : "TLSv1.2",
		   p->max_proto == TLS1_3_VERSION ? "TLSv1.3" : "TLSv1.2", p->session_cache,
		   p->tickets ? "on" : "off");
	buf_printf(&rep, "  ciphers:   %s\n", p->ciphers);
	weak_ciphers(p, ctx, &rep);
	if (p->ciphersuites[0])
		buf_printf(&rep, "  TLS 1.3:   %s\n", p->ciphersuites);
	if (p->groups[0])
		buf_printf(&rep, "  groups:    %s\n", p->groups);
	for (k = 0; k < p->ncerts; k++)
		if (add_cert(p, ctx, &p->certs[k], m, &rep, types, why, why_len))
			goto err;
	for (k = 0; k < p->nnames; k++)
		if (add_sni(p, p->names[k])) {
			snprintf(why, why_len, "out of memory");
			goto err;
		}
	if (p->ocsp[0]) {
		const struct px_file *f = need(m, p->ocsp, p->name, why, why_len);

		if (!f || px_tls_ocsp_check(p, f, &rep, why, why_len))
			goto err;
		SSL_CTX_set_tlsext_status_cb(ctx, on_status);
		SSL_CTX_set_tlsext_status_arg(ctx, p);
	}
	buf_printf(&rep, "  server names (SNI): %s", p->nsni ? "" : "(none)");
	for (size_t i = 0; i < p->nsni; i++)
		buf_printf(&rep, "%s%s", i ? ", " : "", p->sni[i]);
	buf_add(&rep, "\n", 2); /* and the terminator */
	p->report = strdup(buf_ptr(&rep));
	buf_free(&rep);
	p->ctx = ctx;
	return 0;
err:
	buf_free(&rep);
	SSL_CTX_free(ctx);
	return -1;
}

void px_tls_profile_fini(struct px_tls_profile *p)
{
	SSL_CTX_free(p->ctx);
	p->ctx = NULL;
	for (size_t i = 0; i < p->nsni; i++)
		free(p->sni[i]);
	free(p->sni);
	p->sni = NULL;
	p->nsni = 0;
	free(p->report);
	p->report = NULL;
	X509_free(p->ocsp_cert);
	X509_free(p->ocsp_issuer);
	p->ocsp_cert = p->ocsp_issuer = NULL;
	OPENSSL_free(p->ocsp_der);
	p->ocsp_der = NULL;
}
