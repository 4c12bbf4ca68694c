// SPDX-License-Identifier: GPL-2.0
/*
 * tls_check.c - certificate checks and the -t report.
 *
 * A certificate that would fail in clients should fail here, at start or at a
 * reload that keeps the running one: a key that is not the certificate's, an
 * intermediate missing or out of order (clients that do not fetch
 * intermediates then fail, the classic broken mail server), an expired one,
 * or a stale OCSP response that would make strict clients hang up.
 */
#include <stdio.h>
#include <string.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "tls_check.h"

/* An OCSP response this close to its nextUpdate is announced, as a
 * certificate near its end is. */
#define OCSP_SLACK_SECONDS 300

static void name_text(const X509_NAME *n, char *out, size_t len)
{
	BIO *b = BIO_new(BIO_s_mem());
	int r;

	out[0] = '\0';
	if (!b)
		return;
	X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
	r = BIO_read(b, out, (int)len - 1);
	out[r > 0 ? r : 0] = '\0';
	BIO_free(b);
}

int px_tls_days_left(X509 *x)
{
	int days = 0, secs = 0;

	if (X509_cmp_current_time(X509_get0_notBefore(x)) > 0)
		return -1;
	if (!ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x)))
		return -1;
	if (days < 0 || secs < 0 || (days == 0 && secs == 0))
		return -1;
	return days;
}

int px_tls_check_chain(X509 *leaf, STACK_OF(X509) * chain, const char *file, char *why,
		       size_t why_len)
{
	X509 *cur = leaf;
	char sub[256], iss[256];
	int i, n = sk_X509_num(chain);

	for (i = 0; i < n; i++) {
		X509 *up = sk_X509_value(chain, i);
		EVP_PKEY *k = X509_get0_pubkey(up);

		if (X509_check_issued(up, cur) != X509_V_OK) {
			name_text(X509_get_issuer_name(cur), iss, sizeof(iss));
			name_text(X509_get_subject_name(up), sub, sizeof(sub));
			snprintf(why, why_len,
				 "certificate %s: chain out of order: certificate %d is '%s', but "
				 "the one before was issued by '%s'",
				 file, i + 2, sub, iss);
			return -1;
		}
		if (!k || X509_verify(cur, k) != 1) {
			ERR_clear_error();
			name_text(X509_get_subject_name(cur), sub, sizeof(sub));
			snprintf(why, why_len,
				 "certificate %s: the signature on '%s' does not verify with its "
				 "issuer's key",
				 file, sub);
			return -1;
		}
		if (px_tls_days_left(up) < 0) {
			name_text(X509_get_subject_name(up), sub, sizeof(sub));
			snprintf(why, why_len, "certificate %s: intermediate '%s' %s", file, sub,
				 X509_cmp_current_time(X509_get0_notBefore(up)) > 0
				     ? "is not valid yet"
				     : "has expired");
			return -1;
		}
		cur = up;
	}
	return 0;
}

static void san_list(X509 *x, struct buf *rep)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	int i, n = gens ? sk_GENERAL_NAME_num(gens) : 0, shown = 0;

	for (i = 0; i < n; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);

		if (g->type == GEN_DNS) {
			buf_printf(rep, "%s%.*s", shown++ ? ", " : "", ASN1_STRING_length(g->d.ia5),
				   (const char *)ASN1_STRING_get0_data(g->d.ia5));
		} else if (g->type == GEN_IPADD) {
			char ip[64] = "?";
			const unsigned char *a = ASN1_STRING_get0_data(g->d.ip);
			int l = ASN1_STRING_length(g->d.ip);

			if (l == 4)
				snprintf(ip, sizeof(ip), "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
			else if (l == 16)
				snprintf(ip, sizeof(ip), "an IPv6 address");
			buf_printf(rep, "%sIP %s", shown++ ? ", " : "", ip);
		}
	}
	if (!shown)
		buf_printf(rep, "(none: clients that check names will fail)");
	GENERAL_NAMES_free(gens);
}

static void key_text(struct buf *rep, EVP_PKEY *key)
{
	char group[64];
	size_t glen = 0;

	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_EC:
		if (!EVP_PKEY_get_group_name(key, group, sizeof(group), &glen))
			snprintf(group, sizeof(group), "?");
		buf_printf(rep, "ECDSA %s", group);
		return;
	case EVP_PKEY_RSA:
		buf_printf(rep, "RSA %d", EVP_PKEY_get_bits(key));
		return;
	default:
		buf_printf(rep, "%s", OBJ_nid2sn(EVP_PKEY_get_base_id(key)));
	}
}

void px_tls_describe(struct buf *rep, const struct px_tls_cert *c, X509 *leaf,
		     STACK_OF(X509) * chain, EVP_PKEY *key, int days)
{
	char sub[256], iss[256], date[64] = "?";
	BIO *b = BIO_new(BIO_s_mem());
	int n = sk_X509_num(chain), r;

	if (b) {
		ASN1_TIME_print(b, X509_get0_notAfter(leaf));
		r = BIO_read(b, date, (int)sizeof(date) - 1);
		date[r > 0 ? r : 0] = '\0';
		BIO_free(b);
	}
	name_text(X509_get_subject_name(leaf), sub, sizeof(sub));
	name_text(X509_get_issuer_name(leaf), iss, sizeof(iss));
	buf_printf(rep, "  certificate %s (", c->cert);
	key_text(rep, key);
	buf_printf(rep, ")\n");
	buf_printf(rep, "    subject:  %s\n    names:    ", sub);
	san_list(leaf, rep);
	buf_printf(rep, "\n    issuer:   %s\n", iss);
	if (n) {
		X509 *top = sk_X509_value(chain, n - 1);

		name_text(X509_get_issuer_name(top), iss, sizeof(iss));
		buf_printf(rep, "    chain:    %d more, in order, each signed by the next; ", n);
		if (X509_check_issued(top, top) == X509_V_OK)
			buf_printf(rep, "ends with the root '%s' itself\n", iss);
		else
			buf_printf(rep, "clients must trust '%s'\n", iss);
	} else {
		buf_printf(rep, "    chain:    none sent: clients must know '%s'\n", iss);
	}
	buf_printf(rep, "    key:      %s matches the certificate\n", c->key);
	buf_printf(rep, "    expires:  %s (%d days)%s\n", date, days,
		   days < PX_TLS_EXPIRY_WARN_DAYS ? "  WARNING: less than 30 days" : "");
}

int px_tls_cert_names(X509 *x, struct px_tls_profile *p,
		      int (*add)(struct px_tls_profile *p, const char *name))
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	int i, n = gens ? sk_GENERAL_NAME_num(gens) : 0, rc = 0, found = 0;

	for (i = 0; i < n && !rc; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		char name[256];
		int l;

		if (g->type != GEN_DNS)
			continue;
		l = ASN1_STRING_length(g->d.ia5);
		if (l <= 0 || l >= (int)sizeof(name))
			continue;
		memcpy(name, ASN1_STRING_get0_data(g->d.ia5), (size_t)l);
		name[l] = '\0';
		if (strlen(name) != (size_t)l)
			continue; /* an embedded NUL: no name at all */
		rc = add(p, name);
		found = 1;
	}
	GENERAL_NAMES_free(gens);
	if (!found && !rc) {
		/* No subjectAltName: the CN, which RFC 6125 still allows. */
		char cn[256];

		if (X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn,
					      sizeof(cn)) > 0)
			rc = add(p, cn);
	}
	return rc;
}

int px_tls_ocsp_check(struct px_tls_profile *p, const struct px_file *f, struct buf *rep, char *why,
		      size_t why_len)
{
	const unsigned char *der = (const unsigned char *)f->data;
	OCSP_RESPONSE *resp = d2i_OCSP_RESPONSE(NULL, &der, (long)f->len);
	OCSP_BASICRESP *basic = NULL;
	OCSP_CERTID *id = NULL;
	ASN1_GENERALIZEDTIME *this_upd, *next_upd, *rev;
	int status, reason, rc = -1;
	char date[64] = "?";

	if (!resp || OCSP_response_status(resp) != OCSP_RESPONSE_STATUS_SUCCESSFUL ||
	    !(basic = OCSP_response_get1_basic(resp))) {
		snprintf(why, why_len, "tls profile %s: ocsp %s is not a successful OCSP response",
			 p->name, p->ocsp);
		goto out;
	}
	if (!p->ocsp_issuer) {
		snprintf(why, why_len,
			 "tls profile %s: ocsp %s: the certificate's chain does not hold its "
			 "issuer, which the response is checked against",
			 p->name, p->ocsp);
		goto out;
	}
	/* The certificate's id is hashed with SHA-1 by most responders, with
	 * SHA-256 by some: either will do. */
	id = OCSP_cert_to_id(NULL, p->ocsp_cert, p->ocsp_issuer);
	if (id && !OCSP_resp_find_status(basic, id, &status, &reason, &rev, &this_upd, &next_upd)) {
		OCSP_CERTID_free(id);
		id = OCSP_cert_to_id(EVP_sha256(), p->ocsp_cert, p->ocsp_issuer);
		if (id && !OCSP_resp_find_status(basic, id, &status, &reason, &rev, &this_upd,
						 &next_upd)) {
			OCSP_CERTID_free(id);
			id = NULL;
		}
	}
	if (!id) {
		snprintf(why, why_len, "tls profile %s: ocsp %s is not about certificate %s",
			 p->name, p->ocsp, p->certs[0].cert);
		goto out;
	}
	{
		/* Signed by the issuer (or a responder it delegated to): checked
		 * with the issuer as the only trust, as a client would; the
		 * issuer is an intermediate, not a root, hence PARTIAL_CHAIN. */
		STACK_OF(X509) *certs = sk_X509_new_null();
		X509_STORE *st = X509_STORE_new();
		int ok =
		    certs && st && sk_X509_push(certs, p->ocsp_issuer) &&
		    X509_STORE_add_cert(st, p->ocsp_issuer) &&
		    OCSP_basic_verify(basic, certs, st, OCSP_TRUSTOTHER | OCSP_PARTIAL_CHAIN) == 1;

		sk_X509_free(certs);
		X509_STORE_free(st);
		if (!ok) {
			ERR_clear_error();
			snprintf(
			    why, why_len,
			    "tls profile %s: ocsp %s is not signed by the certificate's issuer",
			    p->name, p->ocsp);
			goto out;
		}
	}
	if (status != V_OCSP_CERTSTATUS_GOOD) {
		snprintf(why, why_len, "tls profile %s: ocsp %s says the certificate is %s",
			 p->name, p->ocsp, OCSP_cert_status_str(status));
		goto out;
	}
	if (!OCSP_check_validity(this_upd, next_upd, OCSP_SLACK_SECONDS, -1)) {
		ERR_clear_error();
		snprintf(why, why_len,
			 "tls profile %s: ocsp %s is out of date (fetch a new one and reload)",
			 p->name, p->ocsp);
		goto out;
	}
	if (next_upd) {
		BIO *b = BIO_new(BIO_s_mem());

		if (b) {
			int r;

			ASN1_GENERALIZEDTIME_print(b, next_upd);
			r = BIO_read(b, date, (int)sizeof(date) - 1);
			date[r > 0 ? r : 0] = '\0';
			BIO_free(b);
		}
	}
	p->ocsp_der = OPENSSL_memdup(f->data, f->len);
	if (!p->ocsp_der) {
		snprintf(why, why_len, "out of memory");
		goto out;
	}
	p->ocsp_len = f->len;
	buf_printf(rep, "  ocsp %s: good, for %s, next update %s\n", p->ocsp, p->certs[0].cert,
		   date);
	rc = 0;
out:
	OCSP_CERTID_free(id);
	OCSP_BASICRESP_free(basic);
	OCSP_RESPONSE_free(resp);
	return rc;
}
