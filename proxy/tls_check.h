/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tls_check.h - what is checked about a certificate before it is served, and
 * the lines "-t" prints about it (IronPort's certificate page, as text).
 */
#ifndef PX_TLS_CHECK_H
#define PX_TLS_CHECK_H

#include <openssl/x509.h>

#include "buf.h"
#include "config.h"
#include "material.h"

/* The chain as served: each certificate issued (and signed) by the next, so
 * the leaf verifies up through its own intermediates; none expired. A root at
 * the end is allowed (pointless, not wrong). 0, or -1 with why. */
int px_tls_check_chain(X509 *leaf, STACK_OF(X509) * chain, const char *file, char *why,
		       size_t why_len);
/* Certificates this close to their end are announced at every start and
 * reload (IronPort warns at 30 days too). */
#define PX_TLS_EXPIRY_WARN_DAYS 30

/* Whole days until the certificate expires; -1 once it has (or before it is
 * valid). */
int px_tls_days_left(X509 *x);
/* Subject, names, issuer, key, chain, expiry, as indented lines. */
void px_tls_describe(struct buf *rep, const struct px_tls_cert *c, X509 *leaf,
		     STACK_OF(X509) * chain, EVP_PKEY *key, int days);
/* The DNS names a certificate carries (subjectAltName, else its CN), each
 * given to add(p, name); 0 or what add returned. */
int px_tls_cert_names(X509 *x, struct px_tls_profile *p,
		      int (*add)(struct px_tls_profile *p, const char *name));
/* The OCSP response in f: successful, about p's first certificate, signed by
 * its issuer, current. Kept in p for stapling; described in rep. 0 or -1. */
int px_tls_ocsp_check(struct px_tls_profile *p, const struct px_file *f, struct buf *rep, char *why,
		      size_t why_len);

#endif
