// SPDX-License-Identifier: GPL-2.0
/*
 * config_policy.c - reading the host access table: policies and sender groups.
 *
 *   policies = (
 *     { name = "TRUSTED"; relay = "yes"; limits = { recipients = 1000; }; },
 *     { name = "BLOCKED"; action = "reject"; },
 *     { name = "THROTTLED"; greet_delay = 5000; pregreet = "reject";
 *       limits = { messages = 1; recipients = 5; max_per_client = 2; }; }
 *   );
 *   sender_groups = (
 *     { name = "WHITELIST"; policy = "TRUSTED"; networks = [ "192.0.2.0/24" ];
 *       edge = [ "white" ]; },
 *     { name = "BLACKLIST"; policy = "BLOCKED"; score_min = 5; },
 *     { name = "UNKNOWNLIST"; policy = "ACCEPTED"; default = true; }
 *   );
 *
 * A policy starts as the listener and the global limits say and changes only
 * what it names, so a policy of one line ("relay = yes") means exactly that.
 * Every name is checked here, once, with the file and line in the message;
 * names that point elsewhere (pools, policies) are checked in
 * px_finish_policies, when everything is read.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_int.h"
#include "policy.h"
#include "str.h"

/* Past these, a score criterion is surely a typo: postscreen's weights are
 * single digits and its thresholds a few tens. */
#define SCORE_BOUND 100000

/* What a policy reads as text, before it is checked. */
struct policy_text {
	char name[64], action[16], reject[256], pool[32], starttls[16], relay[8], pregreet[16],
	    banner[256];
	unsigned int ban_time;
};

/* limits.greet_delay's bound, for a policy's own */
#define GREET_DELAY_MAX 60000

static const struct me_conf_item policy_items[] = {
	{ "name", ME_CONF_STR, FIELD(policy_text, name), 0, 0, "",
	  "the policy's name, which sender groups give as their policy" },
	{ "action", ME_CONF_STR, FIELD(policy_text, action), 0, 0, "accept",
	  "accept (go on to the banner), reject (reject_reply instead of a banner, then "
	  "close), refuse (close without a word), or ban (close, and ban the client at the "
	  "edge for ban_time)" },
	{ "reject_reply", ME_CONF_STR, FIELD(policy_text, reject), 0, 0, "554 5.7.1 Access denied",
	  "what action = reject says: a one-line 5xx reply" },
	{ "ban_time", ME_CONF_DURATION, FIELD(policy_text, ban_time), 1, 30 * 86400, "1h",
	  "how long action = ban keeps the client out at the edge" },
	{ "pool", ME_CONF_STR, FIELD(policy_text, pool), 0, 0, "",
	  "the backend pool serving these clients (A10's service group); empty = the "
	  "listener's" },
	{ "starttls", ME_CONF_STR, FIELD(policy_text, starttls), 0, 0, "",
	  "off (not offered), optional, or required (MAIL refused before STARTTLS) for "
	  "these clients; empty = the listener's. Only on listeners that have a "
	  "certificate; an implicit-TLS listener stays as it is" },
	{ "relay", ME_CONF_STR, FIELD(policy_text, relay), 0, 0, "",
	  "yes: these clients may relay to any domain; no: only to relay_domains; empty "
	  "= as relay_networks says" },
	{ "pregreet", ME_CONF_STR, FIELD(policy_text, pregreet), 0, 0, "",
	  "a client that talks before the banner: ignore, log or reject; empty = the "
	  "listener's" },
	{ "banner", ME_CONF_STR, FIELD(policy_text, banner), 0, 0, "",
	  "the text after 220 for these clients; empty = the listener's" },
	ME_CONF_END,
};

/* The limits a policy may set: those about one client. The rest (line
 * lengths, timeouts of the protocol, max_sessions) are the gateway's. */
static const char *const policy_limits[] = {
	"messages",	   "recipients",	  "recipient_overshoot",
	"message_size",	   "max_per_client",	  "errors_soft",
	"errors_hard",	   "error_delay",	  "commands",
	"session_timeout", "data_min_rate",	  "harvest_limit",
	"harvest_ban",	   "recipients_per_hour", NULL,
};

struct group_text {
	char name[64], policy[64];
	int is_default;
};

static const struct me_conf_item group_items[] = {
	{ "name", ME_CONF_STR, FIELD(group_text, name), 0, 0, "", "the group's name, for logs" },
	{ "policy", ME_CONF_STR, FIELD(group_text, policy), 0, 0, "",
	  "the policy applied to the clients of this group" },
	{ "default", ME_CONF_BOOL, FIELD(group_text, is_default), 0, 1, "false",
	  "this group takes every client no other group matched (one group at most; its "
	  "place in the list does not matter)" },
	ME_CONF_END,
};

static const struct name_value action_names[] = {
	{ "accept", PX_POL_ACCEPT },
	{ "reject", PX_POL_REJECT },
	{ "refuse", PX_POL_REFUSE },
	{ "ban", PX_POL_BAN },
	{ NULL, 0 },
};

static const struct name_value starttls_names[] = {
	{ "", PX_POL_INHERIT },		 { "off", PX_TLS_OFF }, { "optional", PX_TLS_OPTIONAL },
	{ "required", PX_TLS_REQUIRED }, { NULL, 0 },
};

static const struct name_value relay_names[] = {
	{ "", PX_POL_INHERIT },
	{ "yes", 1 },
	{ "no", 0 },
	{ NULL, 0 },
};

static const struct name_value pregreet_names[] = {
	{ "", PX_POL_INHERIT },
	{ "ignore", PX_PREGREET_IGNORE },
	{ "log", PX_PREGREET_LOG },
	{ "reject", PX_PREGREET_REJECT },
	{ NULL, 0 },
};

static const struct name_value edge_names[] = {
	{ "white", PX_EDGE_WHITE },
	{ "black", PX_EDGE_BLACK },
	{ "pass", PX_EDGE_PASS },
	{ "listed", PX_EDGE_LISTED },
	{ NULL, 0 },
};

static const struct name_value rdns_names[] = {
	{ "verified", PX_RD_VERIFIED },
	{ "unverified", PX_RD_UNVERIFIED },
	{ "none", PX_RD_NONE },
	{ "tempfail", PX_RD_TEMPFAIL },
	{ NULL, 0 },
};

static int is_reply(const char *r, char first)
{
	return r[0] == first && r[1] >= '0' && r[1] <= '9' && r[2] >= '0' && r[2] <= '9' &&
	       r[3] == ' ' && r[4] && !strpbrk(r, "\r\n");
}

static int policy_limits_read(struct px_config *c, struct px_policy *p, config_setting_t *lg,
			      char *why, size_t why_len)
{
	int i, j, rc;

	if (!config_setting_is_group(lg)) {
		snprintf(why, why_len, "%s:%d: policy %s: limits must be a group { ... }", c->path,
			 config_setting_source_line(lg), p->name);
		return -EINVAL;
	}
	for (i = 0; i < config_setting_length(lg); i++) {
		config_setting_t *s = config_setting_get_elem(lg, (unsigned int)i);
		const char *n = config_setting_name(s);

		for (j = 0; policy_limits[j] && strcmp(policy_limits[j], n); j++)
			;
		if (!policy_limits[j]) {
			snprintf(why, why_len,
				 "%s:%d: policy %s: limits.%.40s is not a per-client limit (see "
				 "--help-config)",
				 c->path, config_setting_source_line(s), p->name, n);
			return -EINVAL;
		}
	}
	rc = me_conf_read(lg, px_limit_items, NULL, &p->lim, why, why_len);
	if (rc)
		return rc;
	if (p->lim.errors_soft > p->lim.errors_hard) {
		snprintf(why, why_len,
			 "%s:%d: policy %s: errors_soft (%u) is above errors_hard (%u)", c->path,
			 config_setting_source_line(lg), p->name, p->lim.errors_soft,
			 p->lim.errors_hard);
		return -EINVAL;
	}
	return 0;
}

static int policy_read(struct px_config *c, struct px_policy *p, config_setting_t *g, char *why,
		       size_t why_len)
{
	static const char *const skip[] = { "limits", "greet_delay", NULL };
	struct policy_text t;
	config_setting_t *lg, *gd;
	int line = config_setting_source_line(g), v, rc;

	if (!config_setting_is_group(g)) {
		snprintf(why, why_len, "%s:%d: a policy must be a group { name = ...; }", c->path,
			 line);
		return -EINVAL;
	}
	me_conf_defaults(policy_items, &t);
	rc = me_conf_read(g, policy_items, skip, &t, why, why_len);
	if (rc)
		return rc;
	p->line = line;
	p->lim = c->lim;
	if (!t.name[0]) {
		snprintf(why, why_len, "%s:%d: a policy needs a name", c->path, line);
		return -EINVAL;
	}
	me_strlcpy(p->name, t.name, sizeof(p->name));
	if ((v = px_conf_lookup(action_names, t.action)) < 0) {
		snprintf(why, why_len,
			 "%s:%d: policy %s: action '%.20s' is not accept, reject, refuse or ban",
			 c->path, line, p->name, t.action);
		return -EINVAL;
	}
	p->action = (enum px_pol_action)v;
	if (!is_reply(t.reject, '5')) {
		snprintf(why, why_len,
			 "%s:%d: policy %s: reject_reply must be one line, a 5xx code and text",
			 c->path, line, p->name);
		return -EINVAL;
	}
	me_strlcpy(p->reject_reply, t.reject, sizeof(p->reject_reply));
	p->ban_time = t.ban_time;
	me_strlcpy(p->pool_name, t.pool, sizeof(p->pool_name));
	if ((p->starttls = px_conf_lookup(starttls_names, t.starttls)) == -1 && t.starttls[0]) {
		snprintf(why, why_len,
			 "%s:%d: policy %s: starttls must be off, optional or required", c->path,
			 line, p->name);
		return -EINVAL;
	}
	if ((p->relay = px_conf_lookup(relay_names, t.relay)) == -1 && t.relay[0]) {
		snprintf(why, why_len, "%s:%d: policy %s: relay must be yes or no", c->path, line,
			 p->name);
		return -EINVAL;
	}
	if ((p->pregreet = px_conf_lookup(pregreet_names, t.pregreet)) == -1 && t.pregreet[0]) {
		snprintf(why, why_len, "%s:%d: policy %s: pregreet must be ignore, log or reject",
			 c->path, line, p->name);
		return -EINVAL;
	}
	if (strpbrk(t.banner, "\r\n")) {
		snprintf(why, why_len, "%s:%d: policy %s: banner must be one line", c->path, line,
			 p->name);
		return -EINVAL;
	}
	me_strlcpy(p->banner, t.banner, sizeof(p->banner));
	if ((gd = config_setting_get_member(g, "greet_delay"))) {
		long long ms = config_setting_type(gd) == CONFIG_TYPE_INT ||
				       config_setting_type(gd) == CONFIG_TYPE_INT64
				   ? config_setting_get_int64(gd)
				   : -1;

		if (ms < 0 || ms > GREET_DELAY_MAX) {
			snprintf(why, why_len,
				 "%s:%d: policy %s: greet_delay must be between 0 and %d "
				 "(milliseconds)",
				 c->path, config_setting_source_line(gd), p->name, GREET_DELAY_MAX);
			return -EINVAL;
		}
		p->lim.greet_delay = (unsigned int)ms;
	}
	if ((lg = config_setting_get_member(g, "limits")))
		return policy_limits_read(c, p, lg, why, why_len);
	return 0;
}

int px_read_policies(struct px_config *c, config_setting_t *list, char *why, size_t why_len)
{
	int i, rc;

	if (!config_setting_is_list(list) && !config_setting_is_array(list)) {
		snprintf(why, why_len, "%s:%d: policies must be a list ( { ... }, ... )", c->path,
			 config_setting_source_line(list));
		return -EINVAL;
	}
	for (i = 0; i < config_setting_length(list); i++) {
		struct px_policy *p = px_conf_grow(&c->policies, &c->npolicies, sizeof(*p));

		if (!p)
			return -ENOMEM;
		rc =
		    policy_read(c, p, config_setting_get_elem(list, (unsigned int)i), why, why_len);
		if (rc)
			return rc;
	}
	return 0;
}

/* A list of strings, each through fn. */
static int each_string(struct px_config *c, struct px_sender_group *g, config_setting_t *s,
		       int (*fn)(struct px_config *, struct px_sender_group *, const char *, int,
				 char *, size_t),
		       char *why, size_t why_len)
{
	int i, rc = px_conf_string_list(s, why, why_len);

	for (i = 0; !rc && i < config_setting_length(s); i++)
		rc = fn(c, g, config_setting_get_string_elem(s, i), config_setting_source_line(s),
			why, why_len);
	return rc;
}

static int add_network(struct px_config *c, struct px_sender_group *g, const char *v, int line,
		       char *why, size_t why_len)
{
	struct me_prefix p, *n;
	int rc = me_prefix_parse(v, &p, 0);

	if (rc) {
		snprintf(why, why_len, "%s:%d: sender group %s: network '%.60s': %s", c->path, line,
			 g->name, v, me_addr_strerror(rc));
		return -EINVAL;
	}
	n = px_conf_grow(&g->nets, &g->nnets, sizeof(*n));
	if (!n)
		return -ENOMEM;
	*n = p;
	return 0;
}

static int add_edge(struct px_config *c, struct px_sender_group *g, const char *v, int line,
		    char *why, size_t why_len)
{
	int bit = px_conf_lookup(edge_names, v);
	unsigned long n;
	char *end;

	if (bit > 0) {
		g->edge |= (unsigned int)bit;
		return 0;
	}
	if (!strncmp(v, "group:", 6) && v[6] >= '0' && v[6] <= '9') {
		errno = 0;
		n = strtoul(v + 6, &end, 10);
		if (!errno && !*end && n <= 65535 && g->nedge_groups < PX_EDGE_GROUPS) {
			g->edge_group[g->nedge_groups++] = (unsigned int)n;
			return 0;
		}
	}
	snprintf(why, why_len,
		 "%s:%d: sender group %s: edge '%.40s' is not white, black, pass, listed or "
		 "group:N (0-65535, at most %d)",
		 c->path, line, g->name, v, PX_EDGE_GROUPS);
	return -EINVAL;
}

static int add_rdns(struct px_config *c, struct px_sender_group *g, const char *v, int line,
		    char *why, size_t why_len)
{
	int bit = px_conf_lookup(rdns_names, v);

	if (bit > 0) {
		g->rdns |= (unsigned int)bit;
		return 0;
	}
	snprintf(why, why_len,
		 "%s:%d: sender group %s: rdns '%.40s' is not verified, unverified, none or "
		 "tempfail",
		 c->path, line, g->name, v);
	return -EINVAL;
}

static int add_host(struct px_config *c, struct px_sender_group *g, const char *v, int line,
		    char *why, size_t why_len)
{
	char(*h)[256];
	size_t i, n = strlen(v);

	for (i = 0; i < n; i++)
		if (!(((v[i] | 0x20) >= 'a' && (v[i] | 0x20) <= 'z') ||
		      (v[i] >= '0' && v[i] <= '9') || v[i] == '-' || v[i] == '.' || v[i] == '_'))
			break;
	if (!n || n > 253 || i < n || !strcmp(v, ".")) {
		snprintf(why, why_len,
			 "%s:%d: sender group %s: host '%.60s' is not a host name (or "
			 ".domain for its subdomains)",
			 c->path, line, g->name, v);
		return -EINVAL;
	}
	h = px_conf_grow(&g->hosts, &g->nhosts, sizeof(*h));
	if (!h)
		return -ENOMEM;
	me_strlcpy(*h, v, sizeof(*h));
	return 0;
}

static int score_read(struct px_config *c, struct px_sender_group *g, config_setting_t *gs,
		      const char *key, int *out, char *why, size_t why_len)
{
	config_setting_t *s = config_setting_get_member(gs, key);
	long long v;

	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64) {
		snprintf(why, why_len, "%s:%d: sender group %s: %s must be a whole number", c->path,
			 config_setting_source_line(s), g->name, key);
		return -EINVAL;
	}
	v = config_setting_get_int64(s);
	if (v < -SCORE_BOUND || v > SCORE_BOUND) {
		snprintf(why, why_len, "%s:%d: sender group %s: %s must be between %d and %d",
			 c->path, config_setting_source_line(s), g->name, key, -SCORE_BOUND,
			 SCORE_BOUND);
		return -EINVAL;
	}
	*out = (int)v;
	g->has_score = 1;
	return 0;
}

static int group_read(struct px_config *c, struct px_sender_group *g, config_setting_t *gs,
		      char *why, size_t why_len)
{
	static const char *const skip[] = { "networks",	 "edge",      "rdns", "hosts",
					    "score_min", "score_max", NULL };
	struct group_text t;
	config_setting_t *s;
	int line = config_setting_source_line(gs), rc = 0;

	if (!config_setting_is_group(gs)) {
		snprintf(why, why_len, "%s:%d: a sender group must be a group { name = ...; }",
			 c->path, line);
		return -EINVAL;
	}
	me_conf_defaults(group_items, &t);
	rc = me_conf_read(gs, group_items, skip, &t, why, why_len);
	if (rc)
		return rc;
	g->line = line;
	if (!t.name[0] || !t.policy[0]) {
		snprintf(why, why_len, "%s:%d: a sender group needs a name and a policy", c->path,
			 line);
		return -EINVAL;
	}
	me_strlcpy(g->name, t.name, sizeof(g->name));
	me_strlcpy(g->policy_name, t.policy, sizeof(g->policy_name));
	g->is_default = t.is_default;
	g->score_min = -SCORE_BOUND;
	g->score_max = SCORE_BOUND;
	if ((s = config_setting_get_member(gs, "networks")))
		rc = each_string(c, g, s, add_network, why, why_len);
	if (!rc && (s = config_setting_get_member(gs, "edge")))
		rc = each_string(c, g, s, add_edge, why, why_len);
	if (!rc && (s = config_setting_get_member(gs, "rdns")))
		rc = each_string(c, g, s, add_rdns, why, why_len);
	if (!rc && (s = config_setting_get_member(gs, "hosts")))
		rc = each_string(c, g, s, add_host, why, why_len);
	if (!rc)
		rc = score_read(c, g, gs, "score_min", &g->score_min, why, why_len);
	if (!rc)
		rc = score_read(c, g, gs, "score_max", &g->score_max, why, why_len);
	if (rc)
		return rc;
	if (g->score_min > g->score_max) {
		snprintf(why, why_len,
			 "%s:%d: sender group %s: score_min (%d) is above score_max (%d)", c->path,
			 line, g->name, g->score_min, g->score_max);
		return -EINVAL;
	}
	if (g->is_default &&
	    (g->nnets || g->edge || g->nedge_groups || g->rdns || g->nhosts || g->has_score)) {
		snprintf(why, why_len,
			 "%s:%d: sender group %s: the default group takes no criteria (it "
			 "matches every client the others did not)",
			 c->path, line, g->name);
		return -EINVAL;
	}
	if (!g->is_default && !g->nnets && !g->edge && !g->nedge_groups && !g->rdns && !g->nhosts &&
	    !g->has_score) {
		snprintf(why, why_len,
			 "%s:%d: sender group %s matches no client: give networks, edge, rdns, "
			 "hosts or a score range, or default = true",
			 c->path, line, g->name);
		return -EINVAL;
	}
	return 0;
}

int px_read_groups(struct px_config *c, config_setting_t *list, char *why, size_t why_len)
{
	int i, rc;

	if (!config_setting_is_list(list) && !config_setting_is_array(list)) {
		snprintf(why, why_len, "%s:%d: sender_groups must be a list ( { ... }, ... )",
			 c->path, config_setting_source_line(list));
		return -EINVAL;
	}
	for (i = 0; i < config_setting_length(list); i++) {
		struct px_sender_group *g = px_conf_grow(&c->groups, &c->ngroups, sizeof(*g));

		if (!g)
			return -ENOMEM;
		rc = group_read(c, g, config_setting_get_elem(list, (unsigned int)i), why, why_len);
		if (rc)
			return rc;
	}
	return 0;
}

int px_finish_policies(struct px_config *c, char *why, size_t why_len)
{
	const struct px_sender_group *def = NULL;
	size_t i, j;

	c->max_per_client_any = c->lim.max_per_client;
	for (i = 0; i < c->npolicies; i++) {
		struct px_policy *p = &c->policies[i];

		for (j = 0; j < i; j++)
			if (!strcmp(p->name, c->policies[j].name)) {
				snprintf(why, why_len, "%s:%d: a second policy named %s", c->path,
					 p->line, p->name);
				return -EINVAL;
			}
		if (p->pool_name[0]) {
			for (j = 0; j < c->npools && strcmp(c->pools[j].name, p->pool_name); j++)
				;
			if (j == c->npools) {
				snprintf(why, why_len, "%s:%d: policy %s: there is no pool %s",
					 c->path, p->line, p->name, p->pool_name);
				return -EINVAL;
			}
			p->pool = &c->pools[j];
		}
	}
	for (i = 0; i < c->ngroups; i++) {
		struct px_sender_group *g = &c->groups[i];

		for (j = 0; j < i; j++)
			if (!strcmp(g->name, c->groups[j].name)) {
				snprintf(why, why_len, "%s:%d: a second sender group named %s",
					 c->path, g->line, g->name);
				return -EINVAL;
			}
		for (j = 0; j < c->npolicies && strcmp(c->policies[j].name, g->policy_name); j++)
			;
		if (j == c->npolicies) {
			snprintf(why, why_len, "%s:%d: sender group %s: there is no policy %s",
				 c->path, g->line, g->name, g->policy_name);
			return -EINVAL;
		}
		g->policy = &c->policies[j];
		/* Accept admits up to the highest limit a client may have: that
		 * of a policy some group applies. */
		if (g->policy->lim.max_per_client > c->max_per_client_any)
			c->max_per_client_any = g->policy->lim.max_per_client;
		if (g->is_default && def) {
			snprintf(why, why_len,
				 "%s:%d: sender groups %s and %s are both the default: one at most",
				 c->path, g->line, def->name, g->name);
			return -EINVAL;
		}
		if (g->is_default)
			def = g;
	}
	if (c->pin_dir[0] != '/') {
		snprintf(why, why_len, "pin_dir must be an absolute path");
		return -EINVAL;
	}
	return 0;
}

void px_free_policies(struct px_config *c)
{
	size_t i;

	for (i = 0; i < c->ngroups; i++) {
		free(c->groups[i].nets);
		free(c->groups[i].hosts);
	}
	free(c->groups);
	free(c->policies);
}

void px_help_policies(FILE *f)
{
	struct me_conf_item lim[16];
	const struct me_conf_item *it;
	size_t n = 0, j;

	for (it = px_limit_items; it->name; it++)
		for (j = 0; policy_limits[j]; j++)
			if (!strcmp(policy_limits[j], it->name) && n < 15)
				lim[n++] = *it;
	lim[n] = (struct me_conf_item)ME_CONF_END;
	fprintf(f, "\npolicies = ( { ... }, ... ): what happens to the clients of a sender "
		   "group\n\n");
	me_conf_print(f, policy_items, "  ");
	fprintf(f,
		"  greet_delay = MS;\n      milliseconds before the banner for these "
		"clients, 0 to %d; default limits.greet_delay\n",
		GREET_DELAY_MAX);
	fprintf(f, "  limits = { ... };\n      these limits, over the global ones, for these "
		   "clients (defaults: the global limits):\n\n");
	me_conf_print(f, lim, "    ");
	fprintf(f,
		"\nsender_groups = ( { ... }, ... ): who a client is, decided once at connect,\n"
		"before the banner. The first group that matches wins; a group matches when any\n"
		"of its criteria does. With no groups, every client is served as its listener\n"
		"says.\n\n");
	me_conf_print(f, group_items, "  ");
	fprintf(f,
		"  networks = [ \"192.0.2.0/24\", \"2001:db8::/32\", \"198.51.100.7\" ];\n"
		"      client addresses (CIDR, IPv4 or IPv6)\n"
		"  edge = [ \"white\", \"black\", \"pass\", \"listed\", \"group:N\" ];\n"
		"      the client's entry in the edge maps (pin_dir), judged in the XDP\n"
		"      program's order: whitelisted, blacklisted (let through: action pass or\n"
		"      group), listed with action pass, any entry, or mapped to group N\n"
		"      (mailedge-loader list add ADDR --action group:N)\n"
		"  rdns = [ \"verified\", \"unverified\", \"none\", \"tempfail\" ];\n"
		"      the client's reverse DNS: a forward-confirmed name, a PTR name that does\n"
		"      not resolve back, no PTR at all, or no answer from the DNS\n"
		"  hosts = [ \"mx.example.org\", \".example.org\" ];\n"
		"      the client's verified name, or (leading dot) any name under a domain\n"
		"  score_min = N; score_max = N;\n"
		"      the client's DNSBL/DNSWL score (-%d to %d) lies in this range; with\n"
		"      no DNSBL configured every client scores 0\n",
		SCORE_BOUND, SCORE_BOUND);
}
