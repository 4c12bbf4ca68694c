// SPDX-License-Identifier: GPL-2.0
/*
 * config_dnsbl.c - the dnsbl = { ... } group: the sites and how they are
 * asked (see dnsbl.h).
 *
 * Kept apart from config.c so that the policy code can read a dnsbl group
 * wherever it puts one, and so that the settings, their bounds and their
 * defaults are in one table (common/conf.h) that --help-config prints too.
 * The sites are a list of postscreen-style strings, each checked by the pure
 * parser in dnsbl_spec.c, with this file adding where it was written.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "dnsbl.h"

/* What the table fills in, before on_failure is turned into its enum. */
struct dnsbl_text {
	unsigned int timeout, cache_size, cache_max_ttl, negative_ttl;
	char on_failure[16];
};

#define FIELD(f) offsetof(struct dnsbl_text, f), sizeof(((struct dnsbl_text *)0)->f)

static const struct me_conf_item dnsbl_items[] = {
	{ "timeout", ME_CONF_UINT, FIELD(timeout), 100, 30000, "2000",
	  "milliseconds one client's lookup may take, every zone together; the zones "
	  "still silent then have failed (see on_failure). The banner waits for it, so "
	  "keep it near the greet delay" },
	{ "on_failure", ME_CONF_STR, FIELD(on_failure), 0, 0, "unlisted",
	  "a zone that times out or fails (SERVFAIL, REFUSED) counts as \"unlisted\" "
	  "or as \"listed\"; listed applies to positive weights only: a failing allow "
	  "list never lowers a score" },
	{ "cache_size", ME_CONF_UINT, FIELD(cache_size), 0, 1000000, "10000",
	  "answers kept per worker, by query name; past it the least recently used "
	  "goes; 0 = no cache" },
	{ "cache_max_ttl", ME_CONF_DURATION, FIELD(cache_max_ttl), 0, 86400, "1h",
	  "a listed answer is kept for its TTL, at most this long" },
	{ "negative_ttl", ME_CONF_DURATION, FIELD(negative_ttl), 0, 86400, "60s",
	  "an NXDOMAIN or NODATA answer (not listed) is kept this long; 0 = never" },
	ME_CONF_END,
};

void px_dnsbl_conf_defaults(struct px_dnsbl_conf *c)
{
	struct dnsbl_text t;

	me_conf_defaults(dnsbl_items, &t);
	memset(c, 0, sizeof(*c));
	c->timeout_ms = t.timeout;
	c->on_failure = PX_DNSBL_FAIL_UNLISTED;
	c->cache_size = t.cache_size;
	c->cache_max_ttl = t.cache_max_ttl;
	c->negative_ttl = t.negative_ttl;
}

static const char *where(const config_setting_t *s)
{
	const char *f = config_setting_source_file(s);

	return f ? f : "-";
}

static int read_sites(const config_setting_t *list, struct px_dnsbl_conf *c, char *why,
		      size_t why_len)
{
	const char *one = config_setting_get_string(list);
	int i, n;

	if (one) {
		n = 1;
	} else if (config_setting_is_aggregate(list) && !config_setting_is_group(list)) {
		n = config_setting_length(list);
	} else {
		snprintf(why, why_len, "%s:%d: sites: want a list of strings, [ \"zone*weight\" ]",
			 where(list), config_setting_source_line(list));
		return -EINVAL;
	}
	if (n > PX_DNSBL_SITES_MAX) {
		snprintf(why, why_len, "%s:%d: sites: %d of them, at most %d", where(list),
			 config_setting_source_line(list), n, PX_DNSBL_SITES_MAX);
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		const config_setting_t *e = one ? list : config_setting_get_elem(list, (unsigned)i);
		const char *text = one ? one : config_setting_get_string(e);
		int line = config_setting_source_line(e);
		char msg[200];

		if (!line)
			line = config_setting_source_line(list);
		if (!text) {
			snprintf(why, why_len, "%s:%d: sites: element %d is not a string",
				 where(list), line, i + 1);
			return -EINVAL;
		}
		if (px_dnsbl_site_parse(text, &c->site[i], msg, sizeof(msg))) {
			snprintf(why, why_len, "%s:%d: dnsbl site '%.60s': %s", where(list), line,
				 text, msg);
			return -EINVAL;
		}
	}
	c->nsites = (unsigned int)n;
	return 0;
}

int px_dnsbl_conf_parse(const config_setting_t *g, struct px_dnsbl_conf *c, char *why,
			size_t why_len)
{
	static const char *const skip[] = { "sites", NULL };
	const config_setting_t *sites;
	struct dnsbl_text t;
	int rc;

	px_dnsbl_conf_defaults(c);
	if (!g)
		return 0;
	if (!config_setting_is_group(g)) {
		snprintf(why, why_len, "%s:%d: %s: want a group, { sites = [ ... ]; ... }",
			 where(g), config_setting_source_line(g),
			 config_setting_name(g) ? config_setting_name(g) : "dnsbl");
		return -EINVAL;
	}
	me_conf_defaults(dnsbl_items, &t);
	rc = me_conf_read(g, dnsbl_items, skip, &t, why, why_len);
	if (rc)
		return rc;
	if (!strcmp(t.on_failure, "unlisted")) {
		c->on_failure = PX_DNSBL_FAIL_UNLISTED;
	} else if (!strcmp(t.on_failure, "listed")) {
		c->on_failure = PX_DNSBL_FAIL_LISTED;
	} else {
		const config_setting_t *s = config_setting_get_member(g, "on_failure");

		snprintf(why, why_len,
			 "%s:%d: on_failure: '%.40s' is not \"unlisted\" or \"listed\"", where(s),
			 config_setting_source_line(s), t.on_failure);
		return -EINVAL;
	}
	c->timeout_ms = t.timeout;
	c->cache_size = t.cache_size;
	c->cache_max_ttl = t.cache_max_ttl;
	c->negative_ttl = t.negative_ttl;
	sites = config_setting_get_member(g, "sites");
	if (sites)
		return read_sites(sites, c, why, why_len);
	return 0;
}

void px_dnsbl_conf_help(FILE *f, const char *indent)
{
	fprintf(f,
		"%ssites\n%s    DNSBL/DNSWL sites, postscreen style: \"zone[=filter][*weight]\",\n"
		"%s    e.g. \"zen.example*3\", \"bl.example=127.0.0.[2..11;20]\",\n"
		"%s    \"wl.example=127.0.[0..255].[1..3]*-2\"; at most %d. Without a filter\n"
		"%s    any 127.0.0.0/8 reply lists; 127.255.255.x (the list refusing to\n"
		"%s    answer) never does. Default: none.\n",
		indent, indent, indent, indent, PX_DNSBL_SITES_MAX, indent, indent);
	me_conf_print(f, dnsbl_items, indent);
}
