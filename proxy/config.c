// SPDX-License-Identifier: GPL-2.0
/*
 * config.c - read /etc/mailedge/proxy.conf (libconfig syntax) and the flags.
 *
 *   hostname = "mx.example.org";
 *   relay_domains = [ "example.org", ".example.org" ];
 *   relay_networks = [ "192.0.2.0/24" ];
 *   limits = { recipients = 100; message_size = "25M"; };
 *   listeners = ( { listen = "0.0.0.0:25"; starttls = "optional";
 *                   cert = "/etc/mailedge/mx.pem"; key = "/etc/mailedge/mx.key";
 *                   pool = "mx"; } );
 *   pools = ( { name = "mx"; balance = "roundrobin";
 *               members = ( "198.51.100.10:25", { address = "198.51.100.11:25"; weight = 2; } ); }
 * );
 *
 * Every setting, its default, bounds and meaning: the tables below, printed by
 * mailedge-proxy --help-config.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <libconfig.h>

#include "conf.h"
#include "config.h"
#include "log.h"
#include "passclient.h"
#include "pool.h"
#include "str.h"
#include "tls.h"

#define FIELD(t, f) offsetof(struct t, f), sizeof(((struct t *)0)->f)

static const struct me_conf_item top_items[] = {
	{ "hostname", ME_CONF_STR, FIELD(px_config, hostname), 0, 0, "",
	  "name in the banner and EHLO reply; empty = the system's host name" },
	{ "user", ME_CONF_STR, FIELD(px_config, user), 0, 0, "nobody",
	  "after binding and loading keys, run as this user (when started as root)" },
	{ "workers", ME_CONF_UINT, FIELD(px_config, workers), 0, 256, "0",
	  "event loops (threads); 0 = one per CPU" },
	{ "metrics", ME_CONF_STR, FIELD(px_config, metrics), 0, 0, "",
	  "ADDR:PORT for Prometheus text metrics (keep it local); empty = off" },
	{ "bare_newline", ME_CONF_STR, FIELD(px_config, bare_newline), 0, 0, "reject",
	  "a bare CR or LF in DATA: reject the message, or normalize it to CRLF" },
	{ "deny_reply", ME_CONF_STR, FIELD(px_config, deny_reply), 0, 0,
	  "502 5.5.1 Command not implemented", "reply to a denied command" },
	ME_CONF_END,
};

static const struct me_conf_item limit_items[] = {
	{ "command_line", ME_CONF_UINT, FIELD(px_limits, command_line), 512, 65536, "512",
	  "longest command line, CRLF included (RFC 5321 4.5.3.1.4)" },
	{ "text_line", ME_CONF_UINT, FIELD(px_limits, text_line), 0, 1048576, "1000",
	  "longest message line, CRLF included (RFC 5321 4.5.3.1.6); 0 = no limit" },
	{ "recipients", ME_CONF_UINT, FIELD(px_limits, recipients), 1, 100000, "100",
	  "recipients per message; more get 452 (RFC 5321 4.5.3.1.8 asks for 100)" },
	{ "recipient_overshoot", ME_CONF_UINT, FIELD(px_limits, recipient_overshoot), 0, 1000000,
	  "1000",
	  "recipients past the limit in one message before each also counts as an error "
	  "(Postfix's smtpd_recipient_overshoot_limit)" },
	{ "message_size", ME_CONF_SIZE, FIELD(px_limits, message_size), 1024, 4ull << 30, "25M",
	  "largest message, advertised as SIZE and enforced while it streams" },
	{ "errors_soft", ME_CONF_UINT, FIELD(px_limits, errors_soft), 0, 10000, "10",
	  "errors after which every error reply is delayed by error_delay (Postfix: 10)" },
	{ "errors_hard", ME_CONF_UINT, FIELD(px_limits, errors_hard), 1, 10000, "20",
	  "errors after which the session ends with 421 (Postfix: 20)" },
	{ "error_delay", ME_CONF_UINT, FIELD(px_limits, error_delay), 0, 60000, "1000",
	  "milliseconds each error reply waits past errors_soft" },
	{ "commands", ME_CONF_UINT, FIELD(px_limits, commands), 0, 10000000, "10000",
	  "commands per session; 0 = no limit" },
	{ "command_timeout", ME_CONF_DURATION, FIELD(px_limits, command_timeout), 1, 86400, "5m",
	  "waiting for a command (RFC 5321 4.5.3.2.7: at least 5 minutes)" },
	{ "data_timeout", ME_CONF_DURATION, FIELD(px_limits, data_timeout), 1, 86400, "3m",
	  "waiting for the next block of a message (RFC 5321 4.5.3.2.6)" },
	{ "data_min_rate", ME_CONF_UINT, FIELD(px_limits, data_min_rate), 0, 1u << 30, "500",
	  "bytes per second a message must average after data_rate_grace (Postfix: "
	  "500); 0 = off" },
	{ "data_rate_grace", ME_CONF_DURATION, FIELD(px_limits, data_rate_grace), 0, 86400, "30s",
	  "time before data_min_rate is checked" },
	{ "session_timeout", ME_CONF_DURATION, FIELD(px_limits, session_timeout), 0, 7 * 86400,
	  "1h", "longest session; 0 = no limit" },
	{ "max_sessions", ME_CONF_UINT, FIELD(px_limits, max_sessions), 1, 10000000, "100000",
	  "sessions at once, all clients" },
	{ "max_per_client", ME_CONF_UINT, FIELD(px_limits, max_per_client), 1, 1000000, "50",
	  "sessions at once from one client address" },
	{ "backend_timeout", ME_CONF_DURATION, FIELD(px_limits, backend_timeout), 1, 86400, "5m",
	  "waiting for a backend's reply to a command" },
	{ "backend_data_timeout", ME_CONF_DURATION, FIELD(px_limits, backend_data_timeout), 1,
	  86400, "10m",
	  "waiting for a backend's reply to the end of a message (RFC 5321 "
	  "4.5.3.2.8)" },
	{ "connect_timeout", ME_CONF_DURATION, FIELD(px_limits, connect_timeout), 1, 3600, "10s",
	  "connecting to a backend" },
	{ "greet_delay", ME_CONF_UINT, FIELD(px_limits, greet_delay), 0, 60000, "0",
	  "milliseconds to wait before the banner; a client that talks first is a "
	  "pre-greeter (see the listeners' pregreet); 0 = greet at once" },
	{ "tls_handshake_timeout", ME_CONF_DURATION, FIELD(px_limits, tls_handshake_timeout), 1,
	  600, "30s", "a TLS handshake must finish in this time" },
	{ "drain_timeout", ME_CONF_DURATION, FIELD(px_limits, drain_timeout), 0, 3600, "30s",
	  "after SIGTERM, running sessions get this long to finish; then each hears "
	  "421 4.3.2 and is closed" },
	ME_CONF_END,
};

struct listener_text {
	char listen[128], starttls[16], cert[256], key[256], chain[256], pool[32], banner[256],
	    pregreet[16];
	int auth, auth_requires_tls;
};

static const struct me_conf_item listener_items[] = {
	{ "listen", ME_CONF_STR, FIELD(listener_text, listen), 0, 0, NULL,
	  "ADDR:PORT or [IPv6]:PORT to accept on" },
	{ "starttls", ME_CONF_STR, FIELD(listener_text, starttls), 0, 0, "",
	  "off, optional or required; default optional with a cert, off without. A "
	  "public MX on port 25 must not require TLS (RFC 3207)" },
	{ "cert", ME_CONF_STR, FIELD(listener_text, cert), 0, 0, "", "certificate (PEM)" },
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
	ME_CONF_END,
};

struct pool_text {
	char name[32], balance[16], pass_client[16];
	unsigned int hc_interval, hc_timeout, rise, fall;
};

static const struct me_conf_item pool_items[] = {
	{ "name", ME_CONF_STR, FIELD(pool_text, name), 0, 0, NULL, "the pool's name" },
	{ "balance", ME_CONF_STR, FIELD(pool_text, balance), 0, 0, "roundrobin",
	  "roundrobin or leastconn, both weighted by the members' weight" },
	{ "pass_client", ME_CONF_STR, FIELD(pool_text, pass_client), 0, 0, "none",
	  "tell members the client's address: none, xclient (when a member offers "
	  "it), proxy-v1 or proxy-v2" },
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

void px_config_get(struct px_config *c)
{
	atomic_fetch_add(&c->refs, 1);
}

static void config_free(struct px_config *c)
{
	size_t i;

	for (i = 0; i < c->ndomains; i++)
		free(c->domains[i]);
	free(c->domains);
	free(c->relay_nets);
	for (i = 0; i < c->nls; i++)
		SSL_CTX_free(c->ls[i].ssl);
	free(c->ls);
	for (i = 0; i < c->npools; i++) {
		px_pool_fini(&c->pools[i]);
		free(c->pools[i].m);
	}
	free(c->pools);
	free(c);
}

void px_config_put(struct px_config *c)
{
	if (c && atomic_fetch_sub(&c->refs, 1) == 1)
		config_free(c);
}

int px_parse_hostport(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[128];
	const char *colon;
	unsigned long port;
	char *end;
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST, .ai_socktype = SOCK_STREAM }, *ai;

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':' || (size_t)(rb - s - 1) >= sizeof(host))
			return -1;
		memcpy(host, s + 1, (size_t)(rb - s - 1));
		host[rb - s - 1] = '\0';
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || (size_t)(colon - s) >= sizeof(host) || strchr(s, ':') != colon)
			return -1;
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
	}
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || !colon[1] || port > 65535)
		return -1;
	if (getaddrinfo(host, NULL, &hints, &ai))
		return -1;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((unsigned short)port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons((unsigned short)port);
	return 0;
}

void px_format_addr(const struct sockaddr *sa, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";
	unsigned int port;

	if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6) {
		snprintf(buf, len, "?");
		return;
	}
	px_addr_port(sa, a, sizeof(a), &port);
	snprintf(buf, len, sa->sa_family == AF_INET ? "%s:%u" : "[%s]:%u", a, port);
}

/* Is s a list of strings, [ "a", "b" ] or ( "a", "b" )? Checked whole before
 * any element is used, so a bad element anywhere is reported first. */
static int string_list_ok(config_setting_t *s, char *why, size_t why_len)
{
	int i, len = config_setting_is_aggregate(s) ? config_setting_length(s) : -1;

	for (i = 0; i < len; i++)
		if (!config_setting_get_string_elem(s, i))
			break;
	if (i == len)
		return 0;
	snprintf(why, why_len, "%s:%d: %s must be a list of strings", config_setting_source_file(s),
		 config_setting_source_line(s), config_setting_name(s));
	return -EINVAL;
}

struct name_value {
	const char *name;
	int value;
};

/* The value named name in the table t (ending with a NULL name), or -1. */
static int lookup_name(const struct name_value *t, const char *name)
{
	for (; t->name; t++)
		if (!strcmp(t->name, name))
			return t->value;
	return -1;
}

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

static const struct name_value starttls_names[] = {
	{ "off", PX_TLS_OFF },
	{ "optional", PX_TLS_OPTIONAL },
	{ "required", PX_TLS_REQUIRED },
	{ NULL, 0 },
};

static const struct name_value pregreet_names[] = {
	{ "ignore", PX_PREGREET_IGNORE },
	{ "log", PX_PREGREET_LOG },
	{ "reject", PX_PREGREET_REJECT },
	{ NULL, 0 },
};

static const struct name_value bare_newline_names[] = {
	{ "reject", SD_REJECT },
	{ "normalize", SD_NORMALIZE },
	{ NULL, 0 },
};

static int add_domain(struct px_config *c, const char *d, char *why, size_t why_len)
{
	char **g;
	size_t i, n = strlen(d);

	if (!n || n > SP_DOMAIN_MAX) {
		snprintf(why, why_len, "relay domain '%.40s' is empty or too long", d);
		return -EINVAL;
	}
	for (i = 0; i < n; i++)
		if (!(isalnum((unsigned char)d[i]) || d[i] == '.' || d[i] == '-' ||
		      (unsigned char)d[i] >= 0x80)) {
			snprintf(why, why_len, "relay domain '%.40s' is not a domain name", d);
			return -EINVAL;
		}
	g = realloc(c->domains, (c->ndomains + 1) * sizeof(*g));
	if (!g)
		return -ENOMEM;
	c->domains = g;
	g[c->ndomains] = strdup(d);
	if (!g[c->ndomains])
		return -ENOMEM;
	c->ndomains++;
	return 0;
}

static int add_net(struct px_config *c, const char *s, char *why, size_t why_len)
{
	struct me_prefix p, *g;
	int rc = me_prefix_parse(s, &p, 0);

	if (rc) {
		snprintf(why, why_len, "relay network '%.60s': %s", s, me_addr_strerror(rc));
		return -EINVAL;
	}
	g = realloc(c->relay_nets, (c->nrelay_nets + 1) * sizeof(*g));
	if (!g)
		return -ENOMEM;
	c->relay_nets = g;
	g[c->nrelay_nets++] = p;
	return 0;
}

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
	struct px_pool *g = realloc(c->pools, (c->npools + 1) * sizeof(*g));

	if (!g)
		return NULL;
	c->pools = g;
	memset(&g[c->npools], 0, sizeof(g[0]));
	return &g[c->npools++];
}

static struct px_listener *new_listener(struct px_config *c)
{
	struct px_listener *g = realloc(c->ls, (c->nls + 1) * sizeof(*g));

	if (!g)
		return NULL;
	c->ls = g;
	memset(&g[c->nls], 0, sizeof(g[0]));
	return &g[c->nls++];
}

static int pool_from_text(struct px_pool *p, const struct pool_text *t, char *why, size_t why_len)
{
	int v;

	me_strlcpy(p->name, t->name, sizeof(p->name));
	if ((v = lookup_name(balance_names, t->balance)) < 0) {
		snprintf(why, why_len, "pool %s: balance must be roundrobin or leastconn", p->name);
		return -EINVAL;
	}
	p->balance = (enum px_balance)v;
	if ((v = lookup_name(pass_names, t->pass_client)) < 0) {
		snprintf(why, why_len,
			 "pool %s: pass_client must be none, xclient, proxy-v1 or proxy-v2",
			 p->name);
		return -EINVAL;
	}
	p->pass = (enum px_pass)v;
	p->hc_interval = t->hc_interval;
	p->hc_timeout = t->hc_timeout;
	p->rise = t->rise;
	p->fall = t->fall;
	return 0;
}

static int read_pools(struct px_config *c, config_setting_t *list, char *why, size_t why_len)
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
					 "\"ADDR:PORT\"; "
					 "weight = 1-1000; }",
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

static int listener_from_text(struct px_listener *l, const struct listener_text *t, char *why,
			      size_t why_len)
{
	int v;

	me_strlcpy(l->listen, t->listen, sizeof(l->listen));
	if (px_parse_hostport(t->listen, &l->addr, &l->addrlen)) {
		snprintf(why, why_len, "listener '%.60s': not ADDR:PORT or [IPv6]:PORT", t->listen);
		return -EINVAL;
	}
	me_strlcpy(l->cert, t->cert, sizeof(l->cert));
	me_strlcpy(l->key, t->key, sizeof(l->key));
	me_strlcpy(l->chain, t->chain, sizeof(l->chain));
	if (!t->starttls[0])
		l->starttls = t->cert[0] ? PX_TLS_OPTIONAL : PX_TLS_OFF;
	else if ((v = lookup_name(starttls_names, t->starttls)) >= 0)
		l->starttls = (enum px_starttls)v;
	else {
		snprintf(why, why_len, "listener %s: starttls must be off, optional or required",
			 l->listen);
		return -EINVAL;
	}
	if (l->starttls != PX_TLS_OFF && (!l->cert[0] || !l->key[0])) {
		snprintf(why, why_len, "listener %s: starttls needs cert and key", l->listen);
		return -EINVAL;
	}
	if ((v = lookup_name(pregreet_names, t->pregreet)) < 0) {
		snprintf(why, why_len, "listener %s: pregreet must be ignore, log or reject",
			 l->listen);
		return -EINVAL;
	}
	l->pregreet = (enum px_pregreet)v;
	me_strlcpy(l->pool_name, t->pool, sizeof(l->pool_name));
	me_strlcpy(l->banner, t->banner, sizeof(l->banner));
	l->auth = t->auth;
	l->auth_requires_tls = t->auth_requires_tls;
	return 0;
}

static int read_listeners(struct px_config *c, config_setting_t *list, char *why, size_t why_len)
{
	int i, n = config_setting_length(list), rc;

	for (i = 0; i < n; i++) {
		config_setting_t *g = config_setting_get_elem(list, (unsigned int)i);
		struct listener_text t;
		struct px_listener *l;

		if (!config_setting_is_group(g)) {
			snprintf(why, why_len, "%s:%d: each listener must be a group { ... }",
				 c->path, config_setting_source_line(g));
			return -EINVAL;
		}
		me_conf_defaults(listener_items, &t);
		rc = me_conf_read(g, listener_items, NULL, &t, why, why_len);
		if (rc)
			return rc;
		if (!t.listen[0]) {
			snprintf(why, why_len, "%s:%d: a listener needs listen = \"ADDR:PORT\"",
				 c->path, config_setting_source_line(g));
			return -EINVAL;
		}
		l = new_listener(c);
		if (!l)
			return -ENOMEM;
		rc = listener_from_text(l, &t, why, why_len);
		if (rc)
			return rc;
	}
	return 0;
}

static int read_file(struct px_config *c, const char *path, char *why, size_t why_len)
{
	static const char *const skip[] = {
		"limits",	  "listeners",	   "pools", "relay_domains",
		"relay_networks", "deny_commands", NULL
	};
	config_setting_t *root, *s;
	config_t cf;
	int rc, i;

	me_strlcpy(c->path, path, sizeof(c->path));
	config_init(&cf);
	if (!config_read_file(&cf, path)) {
		if (config_error_type(&cf) == CONFIG_ERR_FILE_IO)
			snprintf(why, why_len, "cannot read %s: %s", path, strerror(errno));
		else
			snprintf(why, why_len, "%s:%d: %s",
				 config_error_file(&cf) ? config_error_file(&cf) : path,
				 config_error_line(&cf), config_error_text(&cf));
		config_destroy(&cf);
		return -EINVAL;
	}
	root = config_root_setting(&cf);
	rc = me_conf_read(root, top_items, skip, c, why, why_len);
	if (!rc && (s = config_setting_get_member(root, "limits")))
		rc = me_conf_read(s, limit_items, NULL, &c->lim, why, why_len);
	if (!rc && (s = config_setting_get_member(root, "relay_domains"))) {
		rc = string_list_ok(s, why, why_len);
		for (i = 0; !rc && i < config_setting_length(s); i++)
			rc = add_domain(c, config_setting_get_string_elem(s, i), why, why_len);
	}
	if (!rc && (s = config_setting_get_member(root, "relay_networks"))) {
		rc = string_list_ok(s, why, why_len);
		for (i = 0; !rc && i < config_setting_length(s); i++)
			rc = add_net(c, config_setting_get_string_elem(s, i), why, why_len);
	}
	if (!rc && (s = config_setting_get_member(root, "deny_commands"))) {
		memset(c->deny, 0, sizeof(c->deny));
		rc = string_list_ok(s, why, why_len);
		for (i = 0; !rc && i < config_setting_length(s); i++) {
			const char *name = config_setting_get_string_elem(s, i);
			enum sp_verb v = sp_verb_lookup(name);

			if (v == SP_UNKNOWN || v == SP_HELO || v == SP_EHLO || v == SP_QUIT) {
				snprintf(why, why_len, "deny_commands: '%.20s' cannot be denied",
					 name);
				rc = -EINVAL;
			} else {
				c->deny[v] = 1;
			}
		}
	}
	if (!rc && (s = config_setting_get_member(root, "pools")))
		rc = read_pools(c, s, why, why_len);
	if (!rc && (s = config_setting_get_member(root, "listeners")))
		rc = read_listeners(c, s, why, why_len);
	config_destroy(&cf);
	return rc;
}

static int apply_flags(struct px_config *c, const struct px_flags *f, char *why, size_t why_len)
{
	struct listener_text t;
	struct px_pool *p = NULL;
	int i, rc;

	if (f->hostname)
		me_strlcpy(c->hostname, f->hostname, sizeof(c->hostname));
	if (f->user)
		me_strlcpy(c->user, f->user, sizeof(c->user));
	if (f->workers >= 0)
		c->workers = (unsigned int)f->workers;
	for (i = 0; i < f->ndomain; i++)
		if ((rc = add_domain(c, f->domain[i], why, why_len)))
			return rc;
	if (f->nbackend) {
		struct pool_text pt;

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
	}
	for (i = 0; i < f->nlisten; i++) {
		struct px_listener *l;

		me_conf_defaults(listener_items, &t);
		me_strlcpy(t.listen, f->listen[i], sizeof(t.listen));
		if (f->starttls)
			me_strlcpy(t.starttls, f->starttls, sizeof(t.starttls));
		if (f->cert)
			me_strlcpy(t.cert, f->cert, sizeof(t.cert));
		if (f->key)
			me_strlcpy(t.key, f->key, sizeof(t.key));
		if (f->chain)
			me_strlcpy(t.chain, f->chain, sizeof(t.chain));
		if (p)
			me_strlcpy(t.pool, p->name, sizeof(t.pool));
		l = new_listener(c);
		if (!l)
			return -ENOMEM;
		if ((rc = listener_from_text(l, &t, why, why_len)))
			return rc;
	}
	return 0;
}

/* Cross-checks, and the TLS contexts. */
static int finish(struct px_config *c, char *why, size_t why_len)
{
	size_t i, j;
	int v;

	if (!c->hostname[0] && gethostname(c->hostname, sizeof(c->hostname) - 1))
		snprintf(c->hostname, sizeof(c->hostname), "localhost");
	if ((v = lookup_name(bare_newline_names, c->bare_newline)) < 0) {
		snprintf(why, why_len, "bare_newline must be reject or normalize");
		return -EINVAL;
	}
	c->data_mode = (enum sd_mode)v;
	if (c->deny_reply[0] < '4' || c->deny_reply[0] > '5' || strlen(c->deny_reply) < 4 ||
	    c->deny_reply[3] != ' ' || strchr(c->deny_reply, '\r') || strchr(c->deny_reply, '\n')) {
		snprintf(why, why_len, "deny_reply must be a one-line 4xx or 5xx reply");
		return -EINVAL;
	}
	if (c->lim.errors_soft > c->lim.errors_hard) {
		snprintf(why, why_len, "limits: errors_soft (%u) is above errors_hard (%u)",
			 c->lim.errors_soft, c->lim.errors_hard);
		return -EINVAL;
	}
	if (c->metrics[0] && px_parse_hostport(c->metrics, &c->metrics_addr, &c->metrics_addrlen)) {
		snprintf(why, why_len, "metrics '%.60s': not ADDR:PORT", c->metrics);
		return -EINVAL;
	}
	if (!c->npools) {
		snprintf(why, why_len, "no backend pool: configure pools or give --backend");
		return -EINVAL;
	}
	if (!c->nls) {
		snprintf(why, why_len, "no listener: configure listeners or give --listen");
		return -EINVAL;
	}
	for (i = 0; i < c->npools; i++) {
		if (!c->pools[i].nm || c->pools[i].nm > PX_POOL_MAX_MEMBERS) {
			snprintf(why, why_len, "pool %s has %zu members (1-%d)", c->pools[i].name,
				 c->pools[i].nm, PX_POOL_MAX_MEMBERS);
			return -EINVAL;
		}
		if (px_pool_init(&c->pools[i]))
			return -ENOMEM;
		for (j = 0; j < i; j++)
			if (!strcmp(c->pools[i].name, c->pools[j].name)) {
				snprintf(why, why_len, "two pools are named %s", c->pools[i].name);
				return -EINVAL;
			}
	}
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
		if (l->starttls != PX_TLS_OFF) {
			l->ssl = px_tls_server_ctx(l->cert, l->key, l->chain, why, why_len);
			if (!l->ssl)
				return -EINVAL;
		}
		for (j = 0; j < i; j++)
			if (c->ls[j].addrlen == l->addrlen &&
			    !memcmp(&c->ls[j].addr, &l->addr, l->addrlen)) {
				snprintf(why, why_len, "two listeners on %s", l->listen);
				return -EINVAL;
			}
	}
	return 0;
}

struct px_config *px_config_load(const struct px_flags *f, char *why, size_t why_len)
{
	struct px_config *c = calloc(1, sizeof(*c));
	static const char *const def_deny[] = { "VRFY", "EXPN", "TURN", "ETRN" };
	size_t i;
	int rc = 0;

	if (!c) {
		snprintf(why, why_len, "out of memory");
		return NULL;
	}
	atomic_init(&c->refs, 1);
	me_conf_defaults(top_items, c);
	me_conf_defaults(limit_items, &c->lim);
	for (i = 0; i < sizeof(def_deny) / sizeof(def_deny[0]); i++)
		c->deny[sp_verb_lookup(def_deny[i])] = 1;
	if (f->config)
		rc = read_file(c, f->config, why, why_len);
	if (!rc)
		rc = apply_flags(c, f, why, why_len);
	if (!rc)
		rc = finish(c, why, why_len);
	if (rc) {
		if (rc == -ENOMEM)
			snprintf(why, why_len, "out of memory");
		config_free(c);
		return NULL;
	}
	return c;
}

int px_relay_allowed(const struct px_config *c, const struct sockaddr *addr)
{
	struct me_prefix client = { 0 };
	size_t i;

	if (addr->sa_family == AF_INET) {
		client.family = AF_INET;
		client.len = 32;
		memcpy(client.addr, &((const struct sockaddr_in *)addr)->sin_addr, 4);
	} else {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)addr;

		client.family = AF_INET6;
		client.len = 128;
		memcpy(client.addr, &s6->sin6_addr, 16);
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			client.family = AF_INET;
			client.len = 32;
			memcpy(client.addr, client.addr + 12, 4);
		}
	}
	for (i = 0; i < c->nrelay_nets; i++)
		if (me_prefix_contains(&c->relay_nets[i], &client))
			return 1;
	return 0;
}

void px_config_help(FILE *f)
{
	fprintf(f, "Top level:\n\n");
	me_conf_print(f, top_items, "  ");
	fprintf(f, "  relay_domains = [ ... ];\n      recipient domains accepted from anyone "
		   "(\".example.org\" = its subdomains)\n");
	fprintf(f, "  relay_networks = [ ... ];\n      clients (CIDR) that may relay to any "
		   "domain; default none\n");
	fprintf(f, "  deny_commands = [ \"VRFY\", \"EXPN\", \"TURN\", \"ETRN\" ];\n      "
		   "commands answered with deny_reply and never forwarded\n");
	fprintf(f, "\nlimits = { ... }:\n\n");
	me_conf_print(f, limit_items, "  ");
	fprintf(f, "\nlisteners = ( { ... }, ... ):\n\n");
	me_conf_print(f, listener_items, "  ");
	fprintf(
	    f,
	    "\npools = ( { ... }, ... ), members = ( \"ADDR:PORT\" | { address; weight; } ):\n\n");
	me_conf_print(f, pool_items, "  ");
	fprintf(f, "  health = { ... }:\n");
	me_conf_print(f, health_items, "    ");
}
