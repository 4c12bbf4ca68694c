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

#include "config_int.h"
#include "dict.h"
#include "harvest.h"
#include "material.h"
#include "log.h"
#include "mailedge_abi.h"
#include "passclient.h"
#include "pool.h"
#include "str.h"
#include "tls.h"

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
	{ "tls_ticket_rotation", ME_CONF_DURATION, FIELD(px_config, tls_ticket_rotation), 60,
	  7 * 86400, "1h",
	  "a new key for TLS session tickets this often; a ticket stays good for two "
	  "periods. The keys live in the process: every worker and every reload shares "
	  "them, a restart makes new ones" },
	{ "pin_dir", ME_CONF_STR, FIELD(px_config, pin_dir), 0, 0, ME_PIN_DIR_DEFAULT,
	  "where mailedge-loader pinned the edge maps, read by sender groups' edge "
	  "criteria (opened at start, as root; a change needs a restart)" },
	{ "deny_reply", ME_CONF_STR, FIELD(px_config, deny_reply), 0, 0,
	  "502 5.5.1 Command not implemented", "reply to a denied command" },
	{ "harvest_clients", ME_CONF_UINT, FIELD(px_config, harvest_clients), PX_HV_MIN_CLIENTS,
	  PX_HV_MAX_CLIENTS, "16384",
	  "clients the process-wide table of hourly counts (harvest_limit, "
	  "recipients_per_hour) holds, ~272 bytes each; past it the least recently seen "
	  "go first. Read at start only" },
	{ "sender_dict", ME_CONF_STR, FIELD(px_config, sender_dict_path), 0, 0, "",
	  "a dictionary file of blocked senders (addresses, domain, @domain, .domain, "
	  "each with an optional reply): MAIL FROM found there gets its reply or "
	  "sender_dict_reply; empty = none. Reloaded on SIGHUP" },
	{ "sender_dict_reply", ME_CONF_STR, FIELD(px_config, sender_dict_reply), 0, 0,
	  "550 5.7.1 Sender address rejected", "the reply to a blocked sender without its own" },
	{ "recipient_dict", ME_CONF_STR, FIELD(px_config, recipient_dict_path), 0, 0, "",
	  "a dictionary file of blocked recipients: RCPT TO found there gets its reply or "
	  "recipient_dict_reply; empty = none. Reloaded on SIGHUP" },
	{ "recipient_dict_reply", ME_CONF_STR, FIELD(px_config, recipient_dict_reply), 0, 0,
	  "550 5.7.1 Recipient address rejected",
	  "the reply to a blocked recipient without its own" },
	{ "valid_recipients", ME_CONF_STR, FIELD(px_config, valid_rcpt_path), 0, 0, "",
	  "a dictionary file of the recipients that exist: RCPT TO a domain of "
	  "relay_domains that is not there gets 550 5.1.1 from the proxy itself, counted "
	  "as an invalid recipient (harvest_limit); other domains are not checked; empty "
	  "= every recipient goes to the backend. Reloaded on SIGHUP" },
	ME_CONF_END,
};

const struct me_conf_item px_limit_items[] = {
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
	{ "messages", ME_CONF_UINT, FIELD(px_limits, messages), 0, 1000000, "0",
	  "messages per session; past it, MAIL gets 421 and the session ends (IronPort's "
	  "messages per connection); 0 = no limit" },
	{ "tls_handshake_timeout", ME_CONF_DURATION, FIELD(px_limits, tls_handshake_timeout), 1,
	  600, "30s", "a TLS handshake must finish in this time" },
	{ "drain_timeout", ME_CONF_DURATION, FIELD(px_limits, drain_timeout), 0, 3600, "30s",
	  "after SIGTERM, running sessions get this long to finish; then each hears "
	  "421 4.3.2 and is closed" },
	{ "harvest_limit", ME_CONF_UINT, FIELD(px_limits, harvest_limit), 0, 1000000, "0",
	  "invalid recipients (a backend's 550 5.1.1, 5.1.0 or 5.1.10, or valid_recipients "
	  "refusing) one client (IPv4 address, IPv6 /64) may send in a sliding hour; past "
	  "it the session ends with 421 4.7.0 and the client's RCPTs get 550 5.7.1 "
	  "(IronPort's directory harvest prevention); 0 = off" },
	{ "harvest_ban", ME_CONF_DURATION, FIELD(px_limits, harvest_ban), 0, 30 * 86400, "0",
	  "when a client goes past harvest_limit, ban it at the edge (the XDP filter drops "
	  "its SYNs) for this long, unless the edge whitelists it; needs the maps at "
	  "pin_dir; 0 = no ban" },
	{ "recipients_per_hour", ME_CONF_UINT, FIELD(px_limits, recipients_per_hour), 0, 100000000,
	  "0",
	  "recipients one client (IPv4 address, IPv6 /64) may have accepted in a sliding "
	  "hour, across its sessions; past it RCPT gets 452 4.5.3; 0 = no limit" },
	ME_CONF_END,
};

struct dns_text {
	unsigned int timeout, tries;
};

static const struct me_conf_item dns_items[] = {
	{ "timeout", ME_CONF_UINT, FIELD(dns_text, timeout), 100, 60000, "2000",
	  "milliseconds to wait for a DNS server's answer, per try" },
	{ "tries", ME_CONF_UINT, FIELD(dns_text, tries), 1, 10, "2",
	  "tries per query (each server in turn)" },
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
	free(c->ls);
	px_free_pools(c);
	px_free_tls(c);
	px_free_policies(c);
	px_dict_put(c->sender_dict);
	px_dict_put(c->recipient_dict);
	px_dict_put(c->valid_rcpt);
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

int px_conf_string_list(const config_setting_t *s, char *why, size_t why_len)
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

int px_conf_strings(const config_setting_t *s, char *out, size_t len, int max, char *why,
		    size_t why_len)
{
	const char *one = config_setting_get_string(s);
	int i, n;

	if (one) {
		n = 1;
	} else {
		if (px_conf_string_list(s, why, why_len))
			return -EINVAL;
		n = config_setting_length(s);
	}
	if (n < 1 || n > max) {
		snprintf(why, why_len, "%s:%d: %s: 1 to %d names", config_setting_source_file(s),
			 config_setting_source_line(s), config_setting_name(s), max);
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		const char *v = one ? one : config_setting_get_string_elem(s, i);

		if (!*v || strlen(v) >= len) {
			snprintf(why, why_len, "%s:%d: %s: '%.40s' is empty or too long",
				 config_setting_source_file(s), config_setting_source_line(s),
				 config_setting_name(s), v);
			return -EINVAL;
		}
		memcpy(out + (size_t)i * len, v, strlen(v) + 1);
	}
	return n;
}

void *px_conf_grow(void *arr, size_t *n, size_t size)
{
	void **a = arr;
	char *g = realloc(*a, (*n + 1) * size);

	if (!g)
		return NULL;
	*a = g;
	memset(g + *n * size, 0, size);
	return g + (*n)++ * size;
}

int px_conf_lookup(const struct name_value *t, const char *name)
{
	for (; t->name; t++)
		if (!strcmp(t->name, name))
			return t->value;
	return -1;
}

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

/* dns = { servers = [ "ADDR", "[V6]:PORT" ]; timeout = MS; tries = N; } */
static int read_dns(struct px_config *c, config_setting_t *g, char *why, size_t why_len)
{
	static const char *const skip[] = { "servers", NULL };
	config_setting_t *list;
	struct dns_text t;
	size_t n = 0;
	int rc, i;

	me_conf_defaults(dns_items, &t);
	rc = me_conf_read(g, dns_items, skip, &t, why, why_len);
	if (rc)
		return rc;
	c->dns_timeout = t.timeout;
	c->dns_tries = t.tries;
	list = config_setting_get_member(g, "servers");
	if (!list)
		return 0;
	rc = px_conf_string_list(list, why, why_len);
	for (i = 0; !rc && i < config_setting_length(list); i++) {
		const char *srv = config_setting_get_string_elem(list, i);
		struct sockaddr_storage ss;
		socklen_t len;
		char probe[160];

		/* c-ares takes "ADDR" or "ADDR:PORT" ("[V6]:PORT"): check the
		 * form here, where the error can name the setting. */
		snprintf(probe, sizeof(probe), "%s", srv);
		if (px_parse_hostport(probe, &ss, &len)) {
			snprintf(probe, sizeof(probe), strchr(srv, ':') ? "[%s]:53" : "%s:53", srv);
			if (px_parse_hostport(probe, &ss, &len)) {
				snprintf(why, why_len,
					 "%s:%d: dns server '%.60s' is not ADDR, ADDR:PORT or "
					 "[IPv6]:PORT",
					 c->path, config_setting_source_line(list), srv);
				return -EINVAL;
			}
		}
		n += (size_t)snprintf(c->dns_servers + n, sizeof(c->dns_servers) - n, "%s%s",
				      n ? "," : "", srv);
		if (n >= sizeof(c->dns_servers)) {
			snprintf(why, why_len, "dns servers: too many");
			return -EINVAL;
		}
	}
	return rc;
}

static int read_file(struct px_config *c, const char *path, const char *text, char *why,
		     size_t why_len)
{
	static const char *const skip[] = {
		"limits",	  "listeners",	   "pools", "relay_domains",
		"relay_networks", "deny_commands", "dns",   "tls",
		"policies",	  "sender_groups", "dnsbl", NULL
	};
	config_setting_t *root, *s;
	config_t cf;
	int rc, i;

	me_strlcpy(c->path, path, sizeof(c->path));
	config_init(&cf);
	if (!(text ? config_read_string(&cf, text) : config_read_file(&cf, path))) {
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
	if (!rc)
		rc = px_read_dict_keys(c, root, why, why_len);
	if (!rc && (s = config_setting_get_member(root, "limits")))
		rc = me_conf_read(s, px_limit_items, NULL, &c->lim, why, why_len);
	if (!rc && (s = config_setting_get_member(root, "relay_domains"))) {
		rc = px_conf_string_list(s, why, why_len);
		for (i = 0; !rc && i < config_setting_length(s); i++)
			rc = add_domain(c, config_setting_get_string_elem(s, i), why, why_len);
	}
	if (!rc && (s = config_setting_get_member(root, "relay_networks"))) {
		rc = px_conf_string_list(s, why, why_len);
		for (i = 0; !rc && i < config_setting_length(s); i++)
			rc = add_net(c, config_setting_get_string_elem(s, i), why, why_len);
	}
	if (!rc && (s = config_setting_get_member(root, "deny_commands"))) {
		memset(c->deny, 0, sizeof(c->deny));
		rc = px_conf_string_list(s, why, why_len);
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
	if (!rc && (s = config_setting_get_member(root, "dns")))
		rc = read_dns(c, s, why, why_len);
	/* Profiles first: listeners name them. */
	if (!rc && (s = config_setting_get_member(root, "tls")))
		rc = px_read_tls(c, s, why, why_len);
	if (!rc && (s = config_setting_get_member(root, "pools")))
		rc = px_read_pools(c, s, why, why_len);
	if (!rc && (s = config_setting_get_member(root, "listeners")))
		rc = px_read_listeners(c, s, why, why_len);
	/* After limits: a policy starts from the global ones. */
	if (!rc && (s = config_setting_get_member(root, "policies")))
		rc = px_read_policies(c, s, why, why_len);
	if (!rc && (s = config_setting_get_member(root, "sender_groups")))
		rc = px_read_groups(c, s, why, why_len);
	/* NULL (no dnsbl group) gives the defaults: no sites. */
	if (!rc)
		rc = px_dnsbl_conf_parse(config_setting_get_member(root, "dnsbl"), &c->dnsbl, why,
					 why_len);
	config_destroy(&cf);
	return rc;
}

static int apply_flags(struct px_config *c, const struct px_flags *f, char *why, size_t why_len)
{
	int i, rc;

	if (f->hostname)
		me_strlcpy(c->hostname, f->hostname, sizeof(c->hostname));
	if (f->user)
		me_strlcpy(c->user, f->user, sizeof(c->user));
	if (f->pin_dir &&
	    me_strlcpy(c->pin_dir, f->pin_dir, sizeof(c->pin_dir)) >= sizeof(c->pin_dir)) {
		snprintf(why, why_len, "--pin-dir: too long");
		return -EINVAL;
	}
	if (f->workers >= 0)
		c->workers = (unsigned int)f->workers;
	for (i = 0; i < f->ndomain; i++)
		if ((rc = add_domain(c, f->domain[i], why, why_len)))
			return rc;
	rc = px_flags_pool(c, f, why, why_len);
	return rc ? rc : px_flags_listeners(c, f, why, why_len);
}

/* Cross-checks: everything that needs the whole configuration. */
static int finish(struct px_config *c, char *why, size_t why_len)
{
	int v, rc;

	if (!c->hostname[0] && gethostname(c->hostname, sizeof(c->hostname) - 1))
		snprintf(c->hostname, sizeof(c->hostname), "localhost");
	if ((v = px_conf_lookup(bare_newline_names, c->bare_newline)) < 0) {
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
	rc = px_finish_listeners(c, why, why_len);
	if (!rc)
		rc = px_finish_pools(c, why, why_len);
	return rc ? rc : px_finish_policies(c, why, why_len);
}

struct px_config *px_config_parse(const struct px_flags *f, const char *text, char *why,
				  size_t why_len)
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
	px_dnsbl_conf_defaults(&c->dnsbl);
	me_conf_defaults(px_limit_items, &c->lim);
	{
		struct dns_text t;

		me_conf_defaults(dns_items, &t);
		c->dns_timeout = t.timeout;
		c->dns_tries = t.tries;
	}
	for (i = 0; i < sizeof(def_deny) / sizeof(def_deny[0]); i++)
		c->deny[sp_verb_lookup(def_deny[i])] = 1;
	if (f->config || text)
		rc = read_file(c, f->config ? f->config : "(text)", text, why, why_len);
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

struct px_config *px_config_load(const struct px_flags *f, char *why, size_t why_len)
{
	struct px_material m = { 0 };
	struct px_config *c = px_config_parse(f, NULL, why, why_len);
	int rc;

	if (!c)
		return NULL;
	rc = px_config_tls_paths(c, &m);
	if (rc)
		px_material_strerror(rc, why, why_len);
	else
		rc = px_material_read(&m, why, why_len);
	if (!rc)
		rc = px_config_tls(c, &m, why, why_len);
	if (!rc)
		rc = px_config_dicts(c, why, why_len);
	px_material_free(&m);
	if (rc) {
		px_config_put(c);
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
	fprintf(f, "\ndns = { ... }: the resolver for client names (XCLIENT NAME)\n\n");
	fprintf(f, "  servers = [ \"ADDR[:PORT]\", ... ];\n      DNS servers; default those of "
		   "/etc/resolv.conf\n");
	me_conf_print(f, dns_items, "  ");
	fprintf(f, "\nlimits = { ... }:\n\n");
	me_conf_print(f, px_limit_items, "  ");
	px_help_tls(f);
	px_help_listeners(f);
	px_help_pools(f);
	px_help_policies(f);
	fprintf(f, "\ndnsbl = { ... }: DNSBL/DNSWL scoring of clients, asked at connect only when\n"
		   "a sender group has score_min or score_max (the banner waits for it, at most\n"
		   "timeout)\n\n");
	px_dnsbl_conf_help(f, "  ");
	fprintf(f, "\nDictionaries (sender_dict, recipient_dict, valid_recipients): one entry a\n"
		   "line: user@domain, @domain or domain (the whole domain), .domain (its\n"
		   "subdomains), optionally followed by its own reply (\"550 5.7.1 text\");\n"
		   "'#' comments. A bad line makes -t (and a reload) fail with FILE:LINE.\n");
}
