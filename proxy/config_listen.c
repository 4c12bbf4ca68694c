// SPDX-License-Identifier: GPL-2.0
/*
 * config_listen.c - listeners: where the proxy accepts, what it speaks there
 * (SMTP, or bytes relayed after TLS), its TLS, and the pool behind it.
 *
 *   listeners = ( { listen = "0.0.0.0:25"; tls = "optional"; tls_profile = "mx";
 *                   pool = "mx"; },
 *                 { listen = "0.0.0.0:465"; tls = "implicit";
 *                   tls_profile = [ "mx", "other" ]; pool = "submission"; },
 *                 { listen = "0.0.0.0:993"; protocol = "tcp"; tls = "implicit";
 *                   tls_profile = "mx"; pool = "imap"; } );
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "str.h"

struct listener_text {
	char listen[128], protocol[8], tls[16], starttls[16], cert[256], key[256], chain[256],
	    pool[32], banner[256], pregreet[16];
	int auth, auth_requires_tls;
	unsigned int idle_timeout;
};

static const struct me_conf_item listener_items[] = {
	{ "listen", ME_CONF_STR, FIELD(listener_text, listen), 0, 0, NULL,
	  "ADDR:PORT or [IPv6]:PORT to accept on" },
	{ "protocol", ME_CONF_STR, FIELD(listener_text, protocol), 0, 0, "smtp",
	  "smtp, or tcp: terminate TLS and relay the bytes as they are (IMAP 993 -> "
	  "143, POP3 995 -> 110)" },
	{ "tls", ME_CONF_STR, FIELD(listener_text, tls), 0, 0, "",
	  "off, optional or required (STARTTLS), or implicit (TLS from the first byte, "
	  "RFC 8314: 465, 993, 995); default optional with a TLS profile, off without. "
	  "A public MX on port 25 must not require TLS (RFC 3207)" },
	{ "starttls", ME_CONF_STR, FIELD(listener_text, starttls), 0, 0, "",
	  "the older name of tls (off, optional, required)" },
	{ "cert", ME_CONF_STR, FIELD(listener_text, cert), 0, 0, "",
	  "certificate (PEM), for a listener without tls_profile" },
	{ "key", ME_CONF_STR, FIELD(listener_text, key), 0, 0, "", "its private key (PEM)" },
	{ "chain", ME_CONF_STR, FIELD(listener_text, chain), 0, 0, "",
	  "intermediate certificates (PEM); may also follow the certificate in cert" },
	{ "pool", ME_CONF_STR, FIELD(listener_text, pool), 0, 0, "",
	  "backend pool; default the only (or first) pool" },
	{ "banner", ME_CONF_STR, FIELD(listener_text, banner), 0, 0, "",
	  "text after '220 ' ; default 'HOSTNAME ESMTP'" },
	{ "pregreet", ME_CONF_STR, FIELD(listener_text, pregreet), 0, 0, "log",
	  "a client that talks before the banner: ignore, log, or reject (554 and close)" },
	{ "auth", ME_CONF_BOOL, FIELD(listener_text, auth), 0, 1, "true",
	  "offer AUTH (relayed to the pool) when the pool offers it" },
	{ "auth_requires_tls", ME_CONF_BOOL, FIELD(listener_text, auth_requires_tls), 0, 1, "true",
	  "offer and accept AUTH only inside TLS" },
	{ "idle_timeout", ME_CONF_DURATION, FIELD(listener_text, idle_timeout), 1, 86400, "30m",
	  "protocol tcp: a connection without a byte either way for this long is closed "
	  "(IMAP IDLE clients renew every 29 minutes)" },
	ME_CONF_END,
};

static const struct name_value tls_names[] = {
	{ "off", PX_TLS_OFF },
	{ "optional", PX_TLS_OPTIONAL },
	{ "required", PX_TLS_REQUIRED },
	{ "implicit", PX_TLS_IMPLICIT },
	{ NULL, 0 },
};

const char *px_starttls_name(int mode)
{
	const struct name_value *n;

	for (n = tls_names; n->name; n++)
		if (n->value == mode)
			return n->name;
	return NULL;
}

static const struct name_value proto_names[] = {
	{ "smtp", PX_PROTO_SMTP },
	{ "tcp", PX_PROTO_TCP },
	{ NULL, 0 },
};

static const struct name_value pregreet_names[] = {
	{ "ignore", PX_PREGREET_IGNORE },
	{ "log", PX_PREGREET_LOG },
	{ "reject", PX_PREGREET_REJECT },
	{ NULL, 0 },
};

/* The profile names a listener refers to, until finish resolves them. */
struct profile_names {
	char n[PX_LISTEN_PROFILES][64];
	int count;
};

static struct px_listener *new_listener(struct px_config *c)
{
	return px_conf_grow(&c->ls, &c->nls, sizeof(*c->ls));
}

static int listener_from_text(struct px_config *c, struct px_listener *l,
			      const struct listener_text *t, const struct profile_names *pn,
			      char *why, size_t why_len)
{
	const char *mode = t->tls[0] ? t->tls : t->starttls;
	int v, i;

	me_strlcpy(l->listen, t->listen, sizeof(l->listen));
	if (px_parse_hostport(t->listen, &l->addr, &l->addrlen)) {
		snprintf(why, why_len, "listener '%.60s': not ADDR:PORT or [IPv6]:PORT", t->listen);
		return -EINVAL;
	}
	if ((v = px_conf_lookup(proto_names, t->protocol)) < 0) {
		snprintf(why, why_len, "listener %s: protocol must be smtp or tcp", l->listen);
		return -EINVAL;
	}
	l->protocol = (enum px_protocol)v;
	if (t->tls[0] && t->starttls[0]) {
		snprintf(why, why_len,
			 "listener %s: tls and starttls are the same setting: give one", l->listen);
		return -EINVAL;
	}
	if (pn->count && (t->cert[0] || t->key[0] || t->chain[0])) {
		snprintf(why, why_len,
			 "listener %s: cert/key belong in the TLS profile when tls_profile is set",
			 l->listen);
		return -EINVAL;
	}
	for (i = 0; i < pn->count; i++) {
		int k = px_tls_find(c, pn->n[i]);

		if (k < 0) {
			snprintf(why, why_len, "listener %s: no TLS profile named %s", l->listen,
				 pn->n[i]);
			return -EINVAL;
		}
		l->profile[l->nprofiles++] = k;
	}
	if (t->cert[0] || t->key[0]) {
		if (!t->cert[0] || !t->key[0]) {
			snprintf(why, why_len, "listener %s: cert and key go together", l->listen);
			return -EINVAL;
		}
		v = px_tls_add_simple(c, l->listen, t->cert, t->key, t->chain, why, why_len);
		if (v < 0)
			return v;
		l->profile[l->nprofiles++] = v;
	}
	if (!mode[0])
		l->starttls = !l->nprofiles		    ? PX_TLS_OFF
			      : l->protocol == PX_PROTO_TCP ? PX_TLS_IMPLICIT
							    : PX_TLS_OPTIONAL;
	else if ((v = px_conf_lookup(tls_names, mode)) >= 0 && (t->tls[0] || v != PX_TLS_IMPLICIT))
		l->starttls = (enum px_starttls)v;
	else {
		snprintf(why, why_len, "listener %s: %s must be off, optional, required%s",
			 l->listen, t->tls[0] ? "tls" : "starttls",
			 t->tls[0] ? " or implicit" : "");
		return -EINVAL;
	}
	if (l->starttls != PX_TLS_OFF && !l->nprofiles) {
		snprintf(why, why_len, "listener %s: TLS needs tls_profile, or cert and key",
			 l->listen);
		return -EINVAL;
	}
	if (l->protocol == PX_PROTO_TCP &&
	    (l->starttls == PX_TLS_OPTIONAL || l->starttls == PX_TLS_REQUIRED)) {
		snprintf(why, why_len,
			 "listener %s: a tcp listener has no STARTTLS: tls is implicit or off",
			 l->listen);
		return -EINVAL;
	}
	if ((v = px_conf_lookup(pregreet_names, t->pregreet)) < 0) {
		snprintf(why, why_len, "listener %s: pregreet must be ignore, log or reject",
			 l->listen);
		return -EINVAL;
	}
	l->pregreet = (enum px_pregreet)v;
	me_strlcpy(l->pool_name, t->pool, sizeof(l->pool_name));
	me_strlcpy(l->banner, t->banner, sizeof(l->banner));
	l->auth = t->auth;
	l->auth_requires_tls = t->auth_requires_tls;
	l->idle_timeout = t->idle_timeout;
	return 0;
}

int px_read_listeners(struct px_config *c, config_setting_t *list, char *why, size_t why_len)
{
	static const char *const skip[] = { "tls_profile", NULL };
	int i, n = config_setting_length(list), rc;

	for (i = 0; i < n; i++) {
		config_setting_t *g = config_setting_get_elem(list, (unsigned int)i), *p;
		struct listener_text t;
		struct profile_names pn = { .count = 0 };
		struct px_listener *l;

		if (!config_setting_is_group(g)) {
			snprintf(why, why_len, "%s:%d: each listener must be a group { ... }",
				 c->path, config_setting_source_line(g));
			return -EINVAL;
		}
		me_conf_defaults(listener_items, &t);
		rc = me_conf_read(g, listener_items, skip, &t, why, why_len);
		if (rc)
			return rc;
		if ((p = config_setting_get_member(g, "tls_profile"))) {
			rc = px_conf_strings(p, pn.n[0], sizeof(pn.n[0]), PX_LISTEN_PROFILES, why,
					     why_len);
			if (rc < 0)
				return rc;
			pn.count = rc;
		}
		if (!t.listen[0]) {
			snprintf(why, why_len, "%s:%d: a listener needs listen = \"ADDR:PORT\"",
				 c->path, config_setting_source_line(g));
			return -EINVAL;
		}
		l = new_listener(c);
		if (!l)
			return -ENOMEM;
		rc = listener_from_text(c, l, &t, &pn, why, why_len);
		if (rc)
			return rc;
	}
	return 0;
}

int px_flags_listeners(struct px_config *c, const struct px_flags *f, char *why, size_t why_len)
{
	struct profile_names none = { .count = 0 };
	struct listener_text t;
	int i, rc;

	for (i = 0; i < f->nlisten; i++) {
		struct px_listener *l;

		me_conf_defaults(listener_items, &t);
		me_strlcpy(t.listen, f->listen[i], sizeof(t.listen));
		if (f->starttls)
			me_strlcpy(t.tls, f->starttls, sizeof(t.tls));
		if (f->cert)
			me_strlcpy(t.cert, f->cert, sizeof(t.cert));
		if (f->key)
			me_strlcpy(t.key, f->key, sizeof(t.key));
		if (f->chain)
			me_strlcpy(t.chain, f->chain, sizeof(t.chain));
		if (f->nbackend)
			me_strlcpy(t.pool, "default", sizeof(t.pool));
		l = new_listener(c);
		if (!l)
			return -ENOMEM;
		if ((rc = listener_from_text(c, l, &t, &none, why, why_len)))
			return rc;
	}
	return 0;
}

/* Pools and TLS profiles are known: find them, and say what does not fit. */
int px_finish_listeners(struct px_config *c, char *why, size_t why_len)
{
	size_t i, j;

	for (i = 0; i < c->nls; i++) {
		struct px_listener *l = &c->ls[i];

		if (!l->pool_name[0]) {
			l->pool = &c->pools[0];
		} else {
			for (j = 0; j < c->npools; j++)
				if (!strcmp(c->pools[j].name, l->pool_name))
					l->pool = &c->pools[j];
			if (!l->pool) {
				snprintf(why, why_len, "listener %s: no pool named %s", l->listen,
					 l->pool_name);
				return -EINVAL;
			}
		}
		if (!l->banner[0])
			snprintf(l->banner, sizeof(l->banner), "%.240s ESMTP", c->hostname);
		for (j = 0; j < i; j++)
			if (c->ls[j].addrlen == l->addrlen &&
			    !memcmp(&c->ls[j].addr, &l->addr, l->addrlen)) {
				snprintf(why, why_len, "two listeners on %s", l->listen);
				return -EINVAL;
			}
	}
	return 0;
}

void px_help_listeners(FILE *f)
{
	fprintf(f, "\nlisteners = ( { ... }, ... ):\n\n");
	me_conf_print(f, listener_items, "  ");
	fprintf(f, "  tls_profile = \"NAME\" | [ \"DEFAULT\", \"OTHER\", ... ];\n      TLS "
		   "profiles (tls = ...); the first is the default, the others are chosen "
		   "by the\n      server name a client asks for (SNI)\n");
}
