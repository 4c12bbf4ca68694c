// SPDX-License-Identifier: GPL-2.0
/*
 * config_pool.c - backend pools: members, balancing, health checks, how the
 * client is named to them, and TLS toward them.
 *
 *   pools = ( { name = "mx"; balance = "roundrobin"; pass_client = "xclient";
 *               members = ( "198.51.100.10:25", { address = "198.51.100.11:25";
 *                                                  weight = 2; } );
 *               health = { interval = 5000; };
 *               backend_tls = "verify"; backend_tls_ca = "/etc/mailedge/ca.pem";
 *               backend_tls_name = "mx.example.org"; } );
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "pool.h"
#include "str.h"

struct pool_text {
	char name[32], balance[16], pass_client[16], check[16], backend_tls[16];
	char backend_tls_ca[256], backend_tls_name[256];
	int backend_tls_implicit;
	unsigned int hc_interval, hc_timeout, rise, fall;
};

static const struct me_conf_item pool_items[] = {
	{ "name", ME_CONF_STR, FIELD(pool_text, name), 0, 0, NULL, "the pool's name" },
	{ "balance", ME_CONF_STR, FIELD(pool_text, balance), 0, 0, "roundrobin",
	  "roundrobin or leastconn, both weighted by the members' weight" },
	{ "pass_client", ME_CONF_STR, FIELD(pool_text, pass_client), 0, 0, "none",
	  "tell members the client's address: none, xclient (when a member offers "
	  "it), proxy-v1 or proxy-v2" },
	{ "check", ME_CONF_STR, FIELD(pool_text, check), 0, 0, "",
	  "health check: smtp (220, EHLO, QUIT), imap (* OK, LOGOUT), pop3 (+OK, QUIT) or "
	  "connect; default smtp, or connect for a pool only tcp listeners use" },
	{ "backend_tls", ME_CONF_STR, FIELD(pool_text, backend_tls), 0, 0, "none",
	  "TLS to the members: none, optional (STARTTLS when offered), required, or "
	  "verify (required, and the certificate must verify against backend_tls_ca "
	  "for backend_tls_name)" },
	{ "backend_tls_implicit", ME_CONF_BOOL, FIELD(pool_text, backend_tls_implicit), 0, 1,
	  "false", "TLS from the first byte (port 465, 993, 995) rather than STARTTLS" },
	{ "backend_tls_ca", ME_CONF_STR, FIELD(pool_text, backend_tls_ca), 0, 0, "",
	  "CA certificates (PEM) that verify trusts; empty = the system's" },
	{ "backend_tls_name", ME_CONF_STR, FIELD(pool_text, backend_tls_name), 0, 0, "",
	  "the name members' certificates must carry (and the SNI sent); empty = the "
	  "member's address" },
	ME_CONF_END,
};

static const struct me_conf_item health_items[] = {
	{ "interval", ME_CONF_UINT, FIELD(pool_text, hc_interval), 100, 3600000, "5000",
	  "milliseconds between health checks of a member" },
	{ "timeout", ME_CONF_UINT, FIELD(pool_text, hc_timeout), 100, 600000, "5000",
	  "milliseconds a check may take" },
	{ "rise", ME_CONF_UINT, FIELD(pool_text, rise), 1, 100, "2",
	  "good checks in a row that bring a member up" },
	{ "fall", ME_CONF_UINT, FIELD(pool_text, fall), 1, 100, "3",
	  "failures in a row (checks or real connections) that take it down" },
	ME_CONF_END,
};

static const struct name_value balance_names[] = {
	{ "roundrobin", PX_BAL_ROUNDROBIN },
	{ "leastconn", PX_BAL_LEASTCONN },
	{ NULL, 0 },
};

static const struct name_value pass_names[] = {
	{ "none", PX_PASS_NONE },
	{ "xclient", PX_PASS_XCLIENT },
	{ "proxy-v1", PX_PASS_PROXY_V1 },
	{ "proxy-v2", PX_PASS_PROXY_V2 },
	{ NULL, 0 },
};

#define CHECK_UNSET (-1) /* derived from the listeners that use the pool */

static const struct name_value check_names[] = {
	{ "smtp", PX_CHECK_SMTP },
	{ "imap", PX_CHECK_IMAP },
	{ "pop3", PX_CHECK_POP3 },
	{ "connect", PX_CHECK_CONNECT },
	{ NULL, 0 },
};

static const struct name_value btls_names[] = {
	{ "none", PX_BTLS_NONE },
	{ "optional", PX_BTLS_OPTIONAL },
	{ "required", PX_BTLS_REQUIRED },
	{ "verify", PX_BTLS_VERIFY },
	{ NULL, 0 },
};

static int add_member(struct px_pool *p, const char *addr, unsigned int weight, char *why,
		      size_t why_len)
{
	struct px_member *g = realloc(p->m, (p->nm + 1) * sizeof(*g));

	if (!g)
		return -ENOMEM;
	p->m = g;
	memset(&g[p->nm], 0, sizeof(g[0]));
	if (px_parse_hostport(addr, &g[p->nm].addr, &g[p->nm].addrlen)) {
		snprintf(why, why_len, "pool %s: member '%.80s' is not ADDR:PORT", p->name, addr);
		return -EINVAL;
	}
	me_strlcpy(g[p->nm].name, addr, sizeof(g[p->nm].name));
	g[p->nm].weight = weight ? weight : 1;
	p->nm++;
	return 0;
}

static struct px_pool *new_pool(struct px_config *c)
{
	return px_conf_grow(&c->pools, &c->npools, sizeof(*c->pools));
}

static int pool_from_text(struct px_pool *p, const struct pool_text *t, char *why, size_t why_len)
{
	int v;

	me_strlcpy(p->name, t->name, sizeof(p->name));
	if ((v = px_conf_lookup(balance_names, t->balance)) < 0) {
		snprintf(why, why_len, "pool %s: balance must be roundrobin or leastconn", p->name);
		return -EINVAL;
	}
	p->balance = (enum px_balance)v;
	if ((v = px_conf_lookup(pass_names, t->pass_client)) < 0) {
		snprintf(why, why_len,
			 "pool %s: pass_client must be none, xclient, proxy-v1 or proxy-v2",
			 p->name);
		return -EINVAL;
	}
	p->pass = (enum px_pass)v;
	if (!t->check[0]) {
		p->check = (enum px_check)CHECK_UNSET;
	} else if ((v = px_conf_lookup(check_names, t->check)) >= 0) {
		p->check = (enum px_check)v;
	} else {
		snprintf(why, why_len, "pool %s: check must be smtp, imap, pop3 or connect",
			 p->name);
		return -EINVAL;
	}
	if ((v = px_conf_lookup(btls_names, t->backend_tls)) < 0) {
		snprintf(why, why_len,
			 "pool %s: backend_tls must be none, optional, required or verify",
			 p->name);
		return -EINVAL;
	}
	p->tls = (enum px_btls)v;
	p->tls_implicit = t->backend_tls_implicit;
	me_strlcpy(p->tls_ca, t->backend_tls_ca, sizeof(p->tls_ca));
	me_strlcpy(p->tls_name, t->backend_tls_name, sizeof(p->tls_name));
	p->hc_interval = t->hc_interval;
	p->hc_timeout = t->hc_timeout;
	p->rise = t->rise;
	p->fall = t->fall;
	return 0;
}

int px_read_pools(struct px_config *c, config_setting_t *list, char *why, size_t why_len)
{
	int i, n = config_setting_length(list), rc;

	for (i = 0; i < n; i++) {
		config_setting_t *g = config_setting_get_elem(list, (unsigned int)i);
		config_setting_t *ms, *hc;
		static const char *const skip[] = { "members", "health", NULL };
		struct pool_text t;
		struct px_pool *p;
		int k, nm;

		if (!config_setting_is_group(g)) {
			snprintf(why, why_len, "%s:%d: each pool must be a group { ... }", c->path,
				 config_setting_source_line(g));
			return -EINVAL;
		}
		me_conf_defaults(pool_items, &t);
		me_conf_defaults(health_items, &t);
		rc = me_conf_read(g, pool_items, skip, &t, why, why_len);
		if (!rc && (hc = config_setting_get_member(g, "health")))
			rc = me_conf_read(hc, health_items, NULL, &t, why, why_len);
		if (rc)
			return rc;
		if (!t.name[0]) {
			snprintf(why, why_len, "%s:%d: a pool needs a name", c->path,
				 config_setting_source_line(g));
			return -EINVAL;
		}
		p = new_pool(c);
		if (!p)
			return -ENOMEM;
		rc = pool_from_text(p, &t, why, why_len);
		if (rc)
			return rc;
		ms = config_setting_get_member(g, "members");
		nm = ms ? config_setting_length(ms) : 0;
		for (k = 0; k < nm; k++) {
			config_setting_t *m = config_setting_get_elem(ms, (unsigned int)k);
			const char *addr = config_setting_get_string(m);
			int weight = 1;

			if (!addr && config_setting_is_group(m)) {
				if (!config_setting_lookup_string(m, "address", &addr))
					addr = NULL;
				config_setting_lookup_int(m, "weight", &weight);
			}
			if (!addr || weight < 1 || weight > 1000) {
				snprintf(why, why_len,
					 "%s:%d: a member is \"ADDR:PORT\" or { address = "
					 "\"ADDR:PORT\"; weight = 1-1000; }",
					 c->path, config_setting_source_line(m));
				return -EINVAL;
			}
			rc = add_member(p, addr, (unsigned int)weight, why, why_len);
			if (rc)
				return rc;
		}
	}
	return 0;
}

int px_flags_pool(struct px_config *c, const struct px_flags *f, char *why, size_t why_len)
{
	struct pool_text pt;
	struct px_pool *p;
	int i, rc;

	if (!f->nbackend)
		return 0;
	me_conf_defaults(pool_items, &pt);
	me_conf_defaults(health_items, &pt);
	snprintf(pt.name, sizeof(pt.name), "default");
	p = new_pool(c);
	if (!p)
		return -ENOMEM;
	if ((rc = pool_from_text(p, &pt, why, why_len)))
		return rc;
	for (i = 0; i < f->nbackend; i++)
		if ((rc = add_member(p, f->backend[i], 1, why, why_len)))
			return rc;
	return 0;
}

/* Does a listener of this protocol use pool p? */
static int used_by(const struct px_config *c, const struct px_pool *p, enum px_protocol proto)
{
	for (size_t i = 0; i < c->nls; i++)
		if (c->ls[i].pool == p && c->ls[i].protocol == proto)
			return 1;
	return 0;
}

/* After the listeners have found their pools. */
int px_finish_pools(struct px_config *c, char *why, size_t why_len)
{
	size_t i, j;

	for (i = 0; i < c->npools; i++) {
		struct px_pool *p = &c->pools[i];

		if (!p->nm || p->nm > PX_POOL_MAX_MEMBERS) {
			snprintf(why, why_len, "pool %s has %zu members (1-%d)", p->name, p->nm,
				 PX_POOL_MAX_MEMBERS);
			return -EINVAL;
		}
		for (j = 0; j < i; j++)
			if (!strcmp(p->name, c->pools[j].name)) {
				snprintf(why, why_len, "two pools are named %s", p->name);
				return -EINVAL;
			}
		if ((int)p->check == CHECK_UNSET)
			p->check = used_by(c, p, PX_PROTO_TCP) && !used_by(c, p, PX_PROTO_SMTP)
				       ? PX_CHECK_CONNECT
				       : PX_CHECK_SMTP;
		if (used_by(c, p, PX_PROTO_TCP) && p->pass == PX_PASS_XCLIENT) {
			snprintf(
			    why, why_len,
			    "pool %s: a tcp listener uses it, and XCLIENT is SMTP: pass_client "
			    "none, proxy-v1 or proxy-v2",
			    p->name);
			return -EINVAL;
		}
		/* STARTTLS is SMTP's: a tunnel speaks TLS from the first byte,
		 * so does an IMAP or POP3 check. */
		if (p->tls != PX_BTLS_NONE && !p->tls_implicit &&
		    (used_by(c, p, PX_PROTO_TCP) || p->check != PX_CHECK_SMTP)) {
			snprintf(why, why_len,
				 "pool %s: TLS to its members is by STARTTLS, which only SMTP "
				 "sessions speak; a tcp listener or an imap/pop3 check needs "
				 "backend_tls_implicit = true (993, 995)",
				 p->name);
			return -EINVAL;
		}
		if (p->tls == PX_BTLS_NONE && (p->tls_ca[0] || p->tls_name[0])) {
			snprintf(why, why_len, "pool %s: backend_tls_ca/_name without backend_tls",
				 p->name);
			return -EINVAL;
		}
		if (px_pool_init(p))
			return -ENOMEM;
	}
	return 0;
}

void px_free_pools(struct px_config *c)
{
	for (size_t i = 0; i < c->npools; i++) {
		px_pool_fini(&c->pools[i]);
		SSL_CTX_free(c->pools[i].tls_ctx);
		free(c->pools[i].m);
	}
	free(c->pools);
}

void px_help_pools(FILE *f)
{
	fprintf(f, "\npools = ( { ... }, ... ), members = ( \"ADDR:PORT\" | { address; weight; } "
		   "):\n\n");
	me_conf_print(f, pool_items, "  ");
	fprintf(f, "  health = { ... }:\n");
	me_conf_print(f, health_items, "    ");
}
