// SPDX-License-Identifier: GPL-2.0
/*
 * config_tls.c - TLS profiles ("SSL templates"), and the second step of a
 * configuration: building every TLS context from the bytes of its files.
 *
 *   tls = ( { name = "mx";
 *             certificates = ( { cert = "/etc/mailedge/mx-ecdsa.pem";
 *                                key = "/etc/mailedge/mx-ecdsa.key"; },
 *                              { cert = "/etc/mailedge/mx-rsa.pem";
 *                                key = "/etc/mailedge/mx-rsa.key"; } );
 *             ciphers = "HIGH:!aNULL:@STRENGTH"; min_protocol = "TLSv1.2";
 *             ocsp = "/var/lib/mailedge/mx.ocsp"; } );
 *
 * A profile holds one certificate or two (an ECDSA and an RSA one: OpenSSL
 * presents the one the client can use), what is negotiated, resumption, an
 * OCSP response to staple, and the server names it answers to (SNI); by
 * default the names its certificates carry.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/tls1.h>

#include "config_int.h"
#include "log.h"
#include "material.h"
#include "str.h"
#include "tls.h"

struct tls_text {
	char name[64], cert[256], key[256], chain[256], min_protocol[16], max_protocol[16],
	    ciphers[512], ciphersuites[256], groups[128], ocsp[256];
	unsigned int session_cache, session_timeout;
	int tickets;
};

static const struct me_conf_item tls_items[] = {
	{ "name", ME_CONF_STR, FIELD(tls_text, name), 0, 0, NULL,
	  "the profile's name, for listeners' tls_profile" },
	{ "cert", ME_CONF_STR, FIELD(tls_text, cert), 0, 0, "",
	  "certificate (PEM, its chain may follow), for a profile of one; or certificates" },
	{ "key", ME_CONF_STR, FIELD(tls_text, key), 0, 0, "", "its private key (PEM)" },
	{ "chain", ME_CONF_STR, FIELD(tls_text, chain), 0, 0, "",
	  "intermediate certificates (PEM), when not in cert" },
	{ "min_protocol", ME_CONF_STR, FIELD(tls_text, min_protocol), 0, 0, "TLSv1.2",
	  "TLSv1.2 or TLSv1.3 (RFC 8996: never less than 1.2)" },
	{ "max_protocol", ME_CONF_STR, FIELD(tls_text, max_protocol), 0, 0, "TLSv1.3",
	  "TLSv1.2 or TLSv1.3" },
	{ "ciphers", ME_CONF_STR, FIELD(tls_text, ciphers), 0, 0, PX_TLS_CIPHERS,
	  "TLS 1.2 ciphers, OpenSSL syntax (\"HIGH:!aNULL:@STRENGTH\"); the default is "
	  "Mozilla's intermediate: ECDHE and DHE with AEAD" },
	{ "ciphersuites", ME_CONF_STR, FIELD(tls_text, ciphersuites), 0, 0, "",
	  "TLS 1.3 suites (\"TLS_AES_256_GCM_SHA384:...\"); empty = OpenSSL's (all AEAD)" },
	{ "groups", ME_CONF_STR, FIELD(tls_text, groups), 0, 0, "",
	  "key exchange groups (\"X25519:P-256\"); empty = OpenSSL's" },
	{ "session_cache", ME_CONF_UINT, FIELD(tls_text, session_cache), 0, 10000000, "20480",
	  "sessions kept for resumption (shared by the workers); 0 = none" },
	{ "session_timeout", ME_CONF_DURATION, FIELD(tls_text, session_timeout), 1, 86400, "1h",
	  "how long a session or ticket may be resumed" },
	{ "tickets", ME_CONF_BOOL, FIELD(tls_text, tickets), 0, 1, "true",
	  "session tickets (RFC 5077/8446), their keys made by the proxy and rotated "
	  "every tls_ticket_rotation" },
	{ "ocsp", ME_CONF_STR, FIELD(tls_text, ocsp), 0, 0, "",
	  "an OCSP response (DER) for the certificate, stapled when a client asks; read "
	  "again on reload" },
	ME_CONF_END,
};

static const struct me_conf_item cert_items[] = {
	{ "cert", ME_CONF_STR, FIELD(px_tls_cert, cert), 0, 0, NULL, "certificate (PEM)" },
	{ "key", ME_CONF_STR, FIELD(px_tls_cert, key), 0, 0, NULL, "its private key (PEM)" },
	{ "chain", ME_CONF_STR, FIELD(px_tls_cert, chain), 0, 0, "", "intermediates (PEM)" },
	ME_CONF_END,
};

static int proto_version(const char *s)
{
	if (!strcasecmp(s, "TLSv1.2"))
		return TLS1_2_VERSION;
	if (!strcasecmp(s, "TLSv1.3"))
		return TLS1_3_VERSION;
	return -1;
}

static struct px_tls_profile *new_profile(struct px_config *c)
{
	return px_conf_grow(&c->tls, &c->ntls, sizeof(*c->tls));
}

int px_tls_find(const struct px_config *c, const char *name)
{
	for (size_t i = 0; i < c->ntls; i++)
		if (!strcmp(c->tls[i].name, name))
			return (int)i;
	return -1;
}

static int profile_from_text(struct px_tls_profile *p, const struct tls_text *t, char *why,
			     size_t why_len)
{
	me_strlcpy(p->name, t->name, sizeof(p->name));
	p->min_proto = proto_version(t->min_protocol);
	p->max_proto = proto_version(t->max_protocol);
	if (p->min_proto < 0 || p->max_proto < 0 || p->min_proto > p->max_proto) {
		snprintf(why, why_len,
			 "tls profile %s: min_protocol/max_protocol must be TLSv1.2 or TLSv1.3, "
			 "min at most max (RFC 8996: TLS 1.0 and 1.1 are not offered)",
			 p->name);
		return -EINVAL;
	}
	me_strlcpy(p->ciphers, t->ciphers, sizeof(p->ciphers));
	me_strlcpy(p->ciphersuites, t->ciphersuites, sizeof(p->ciphersuites));
	me_strlcpy(p->groups, t->groups, sizeof(p->groups));
	me_strlcpy(p->ocsp, t->ocsp, sizeof(p->ocsp));
	p->session_cache = t->session_cache;
	p->session_timeout = t->session_timeout;
	p->tickets = t->tickets;
	if (t->cert[0] || t->key[0]) {
		if (!t->cert[0] || !t->key[0]) {
			snprintf(why, why_len, "tls profile %s: cert and key go together", p->name);
			return -EINVAL;
		}
		me_strlcpy(p->certs[0].cert, t->cert, sizeof(p->certs[0].cert));
		me_strlcpy(p->certs[0].key, t->key, sizeof(p->certs[0].key));
		me_strlcpy(p->certs[0].chain, t->chain, sizeof(p->certs[0].chain));
		p->ncerts = 1;
	}
	return 0;
}

int px_read_tls(struct px_config *c, config_setting_t *list, char *why, size_t why_len)
{
	static const char *const skip[] = { "certificates", "server_names", NULL };
	int i, n = config_setting_length(list), rc;

	for (i = 0; i < n; i++) {
		config_setting_t *g = config_setting_get_elem(list, (unsigned int)i), *s;
		struct px_tls_profile *p;
		struct tls_text t;
		int line = config_setting_source_line(g);

		if (!config_setting_is_group(g)) {
			snprintf(why, why_len, "%s:%d: each TLS profile must be a group { ... }",
				 c->path, line);
			return -EINVAL;
		}
		me_conf_defaults(tls_items, &t);
		rc = me_conf_read(g, tls_items, skip, &t, why, why_len);
		if (rc)
			return rc;
		if (!t.name[0] || px_tls_find(c, t.name) >= 0) {
			snprintf(why, why_len, "%s:%d: a TLS profile needs a name of its own",
				 c->path, line);
			return -EINVAL;
		}
		p = new_profile(c);
		if (!p)
			return -ENOMEM;
		rc = profile_from_text(p, &t, why, why_len);
		if (rc)
			return rc;
		if ((s = config_setting_get_member(g, "certificates"))) {
			int k, nc = config_setting_is_list(s) ? config_setting_length(s) : -1;

			if (p->ncerts || nc < 1 || nc > PX_TLS_CERTS) {
				snprintf(why, why_len,
					 "%s:%d: tls profile %s: certificates is a list of 1 or 2 "
					 "{ cert; key; chain; }, instead of cert and key",
					 c->path, config_setting_source_line(s), p->name);
				return -EINVAL;
			}
			for (k = 0; k < nc; k++) {
				config_setting_t *e = config_setting_get_elem(s, (unsigned int)k);

				if (!config_setting_is_group(e)) {
					snprintf(why, why_len,
						 "%s:%d: a certificate is { cert; key; }", c->path,
						 config_setting_source_line(e));
					return -EINVAL;
				}
				me_conf_defaults(cert_items, &p->certs[k]);
				p->certs[k].cert[0] = p->certs[k].key[0] = '\0';
				rc = me_conf_read(e, cert_items, NULL, &p->certs[k], why, why_len);
				if (rc)
					return rc;
				if (!p->certs[k].cert[0] || !p->certs[k].key[0]) {
					snprintf(why, why_len,
						 "%s:%d: a certificate needs cert and key", c->path,
						 config_setting_source_line(e));
					return -EINVAL;
				}
			}
			p->ncerts = nc;
		}
		if (!p->ncerts) {
			snprintf(why, why_len, "%s:%d: tls profile %s has no certificate", c->path,
				 line, p->name);
			return -EINVAL;
		}
		if ((s = config_setting_get_member(g, "server_names"))) {
			rc = px_conf_strings(s, p->names[0], sizeof(p->names[0]), PX_TLS_NAMES, why,
					     why_len);
			if (rc < 0)
				return rc;
			p->nnames = rc;
		}
	}
	return 0;
}

int px_tls_add_simple(struct px_config *c, const char *owner, const char *cert, const char *key,
		      const char *chain, char *why, size_t why_len)
{
	struct px_tls_profile *p;
	struct tls_text t;
	int rc;

	me_conf_defaults(tls_items, &t);
	snprintf(t.name, sizeof(t.name), "listener %.50s", owner);
	me_strlcpy(t.cert, cert, sizeof(t.cert));
	me_strlcpy(t.key, key, sizeof(t.key));
	me_strlcpy(t.chain, chain ? chain : "", sizeof(t.chain));
	p = new_profile(c);
	if (!p)
		return -ENOMEM;
	rc = profile_from_text(p, &t, why, why_len);
	return rc ? rc : (int)(c->ntls - 1);
}

/* Is the profile used by a listener that speaks TLS? Others are not built:
 * a profile kept for later must not stop a start. */
static int profile_used(const struct px_config *c, size_t k)
{
	for (size_t i = 0; i < c->nls; i++)
		for (int j = 0; j < c->ls[i].nprofiles; j++)
			if (c->ls[i].profile[j] == (int)k && c->ls[i].starttls != PX_TLS_OFF)
				return 1;
	return 0;
}

int px_config_tls_paths(const struct px_config *c, struct px_material *m)
{
	int rc = 0;

	for (size_t i = 0; i < c->ntls && !rc; i++) {
		const struct px_tls_profile *p = &c->tls[i];

		if (!profile_used(c, i))
			continue; /* kept for later: its files need not exist yet */
		for (int k = 0; k < p->ncerts && !rc; k++) {
			rc = px_material_want(m, p->certs[k].cert);
			rc = rc ? rc : px_material_want(m, p->certs[k].key);
			rc = rc ? rc : px_material_want(m, p->certs[k].chain);
		}
		rc = rc ? rc : px_material_want(m, p->ocsp);
	}
	for (size_t i = 0; i < c->npools && !rc; i++)
		if (c->pools[i].tls == PX_BTLS_VERIFY)
			rc = px_material_want(m, c->pools[i].tls_ca);
	return rc;
}

/* Settings fixed before SNI is read: a profile chosen by SNI cannot change
 * them, so one that sets them otherwise misleads whoever wrote it. */
static int negotiation_differs(const struct px_tls_profile *a, const struct px_tls_profile *b)
{
	return a->min_proto != b->min_proto || a->max_proto != b->max_proto ||
	       strcmp(a->ciphers, b->ciphers) || strcmp(a->ciphersuites, b->ciphersuites) ||
	       strcmp(a->groups, b->groups) || a->tickets != b->tickets ||
	       a->session_cache != b->session_cache;
}

int px_config_tls(struct px_config *c, const struct px_material *m, char *why, size_t why_len)
{
	size_t i;

	for (i = 0; i < c->ntls; i++) {
		if (!profile_used(c, i)) {
			char note[160];

			snprintf(note, sizeof(note),
				 "tls profile %s: not used by a listener with TLS (not checked)\n",
				 c->tls[i].name);
			c->tls[i].report = strdup(note);
			continue;
		}
		if (px_tls_profile_build(&c->tls[i], m, why, why_len))
			return -EINVAL;
	}
	for (i = 0; i < c->nls; i++) {
		struct px_listener *l = &c->ls[i];

		for (int j = 0; j < l->nprofiles; j++)
			l->profiles[j] = &c->tls[l->profile[j]];
		if (l->starttls == PX_TLS_OFF)
			continue;
		l->tls.def = l->profiles[0]->ctx;
		l->tls.profiles = l->profiles;
		l->tls.nprofiles = (size_t)l->nprofiles;
		for (int j = 1; j < l->nprofiles; j++)
			if (negotiation_differs(l->profiles[0], l->profiles[j]))
				log_warn("listener %s: profile %s is chosen by SNI, but protocols, "
					 "ciphers and resumption are its default profile %s's",
					 l->listen, l->profiles[j]->name, l->profiles[0]->name);
	}
	for (i = 0; i < c->npools; i++) {
		struct px_pool *p = &c->pools[i];

		if (p->tls == PX_BTLS_NONE)
			continue;
		p->tls_ctx = px_tls_client_ctx(p, m, why, why_len);
		if (!p->tls_ctx)
			return -EINVAL;
	}
	return 0;
}

void px_free_tls(struct px_config *c)
{
	for (size_t i = 0; i < c->ntls; i++)
		px_tls_profile_fini(&c->tls[i]);
	free(c->tls);
}

void px_help_tls(FILE *f)
{
	fprintf(f, "\ntls = ( { ... }, ... ): TLS profiles, for listeners' tls_profile\n\n");
	me_conf_print(f, tls_items, "  ");
	fprintf(f, "  certificates = ( { cert; key; chain; }, ... );\n      one or two "
		   "certificates (an ECDSA and an RSA one), instead of cert and key\n");
	fprintf(f, "  server_names = [ \"mx.example.org\", \"*.example.org\" ];\n      the names "
		   "(SNI) a listener's other profiles are chosen by; default: the names "
		   "in the\n      certificates\n");
}
