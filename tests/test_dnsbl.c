// SPDX-License-Identifier: GPL-2.0
/*
 * test_dnsbl.c - DNSBL/DNSWL scoring (proxy/dnsbl*.c, proxy/config_dnsbl.c):
 * the site parser and the arithmetic as tables, the dnsbl = { } group through
 * libconfig, and real lookups through c-ares on a libev loop against the DNS
 * lab (tests/lib/dnslab.h): unbound on loopback with DNSBL zones, a server
 * that never answers, and one that answers garbage.
 *
 * Each lookup test runs its own loop until the callback (or a 10 s guard
 * timer) ends it. .fini stops every server, frees the resolver and removes
 * the test's directory (PL_KEEP=1 keeps it).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <ev.h>
#include <libconfig.h>

#include "../proxy/dnsbl.h"
#include "lib/dnslab.h"
#include "lib/evrun.h"
#include "lib/proxylab.h"
#include "lib/traffic.h"

static char parent[64];
static struct dns_lab lab, silent, garbage;
static struct ev_loop *loop;
static struct px_dns *dns;
static struct px_dnsbl *bl;

static void setup(void)
{
	snprintf(parent, sizeof(parent), "/tmp/mailedge-test-dnsbl-XXXXXX");
	if (!mkdtemp(parent)) {
		parent[0] = '\0';
		cr_assert_fail("setup: mkdtemp: got errno %d, want a directory", errno);
	}
	lab.pid = silent.pid = garbage.pid = -1;
	loop = NULL;
	dns = NULL;
	bl = NULL;
}

static void teardown(void)
{
	char *out;

	px_dnsbl_free(bl);
	px_dns_free(dns);
	if (loop)
		ev_loop_destroy(loop);
	bl = NULL;
	dns = NULL;
	loop = NULL;
	dns_stop(&lab);
	dns_stop(&silent);
	dns_stop(&garbage);
	if (parent[0] && !getenv("PL_KEEP")) {
		pl_sh(&out, 10000, "rm -rf %s", parent);
		free(out);
	}
	parent[0] = '\0';
}

TestSuite(dnsbl, .init = setup, .fini = teardown, .timeout = 30);

/* ---- the site parser ---- */

struct good_case {
	const char *text;
	const char *zone;
	int weight;
	const char *yes[3]; /* reply addresses that must list */
	const char *no[3];  /* and some that must not */
};

static const struct good_case good[] = {
	{ "zen.test",
	  "zen.test",
	  1,
	  { "127.0.0.2", "127.1.2.3", "127.0.0.255" },
	  { "127.255.255.254", "10.0.0.2", "128.0.0.2" } },
	{ "  Zen.Test.*3\t", "zen.test", 3, { "127.0.0.4" }, { "127.255.255.252" } },
	{ "bl.test=127.0.0.2", "bl.test", 1, { "127.0.0.2" }, { "127.0.0.3", "127.0.1.2" } },
	{ "bl.test=127.0.0.[2..11]",
	  "bl.test",
	  1,
	  { "127.0.0.2", "127.0.0.11", "127.0.0.7" },
	  { "127.0.0.1", "127.0.0.12", "127.0.0.20" } },
	{ "bl.test=127.0.0.[2..11;20]*2",
	  "bl.test",
	  2,
	  { "127.0.0.20", "127.0.0.5" },
	  { "127.0.0.19", "127.0.0.21", "127.0.0.0" } },
	{ "list.dnswl.test=127.0.[0..255].[1..3]*-2",
	  "list.dnswl.test",
	  -2,
	  { "127.0.5.1", "127.0.255.3", "127.0.0.2" },
	  { "127.0.5.0", "127.0.5.4", "127.1.5.1" } },
	{ "x.test=[1;3].[0..255].[0..255].[0..255]*+7",
	  "x.test",
	  7,
	  { "1.2.3.4", "3.0.0.0" },
	  { "2.2.3.4", "127.0.0.2" } },
	/* An explicit filter still never lists the error codes. */
	{ "q.test=127.[0..255].[0..255].[0..255]*-1000",
	  "q.test",
	  -1000,
	  { "127.0.0.2" },
	  { "127.255.255.254", "127.255.255.0" } },
	{ "w0.test*0", "w0.test", 0, { "127.0.0.2" }, { "127.255.255.1" } },
	{ "a_b-c.test=127.0.0.[002]*1000", "a_b-c.test", 1000, { "127.0.0.2" }, { "127.0.0.3" } },
};

static struct in_addr ip4(const char *s)
{
	struct in_addr a;

	cr_assert_eq(inet_pton(AF_INET, s, &a), 1, "test address '%s' does not parse", s);
	return a;
}

Test(dnsbl, site_parse_good)
{
	struct px_dnsbl_site s;
	char why[256];
	size_t i, k;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		const struct good_case *g = &good[i];
		int rc = px_dnsbl_site_parse(g->text, &s, why, sizeof(why));

		cr_assert_eq(rc, 0, "'%s': got %d (%s), want 0", g->text, rc, why);
		cr_expect_str_eq(s.zone, g->zone, "'%s': zone: got '%s', want '%s'", g->text,
				 s.zone, g->zone);
		cr_expect_eq(s.weight, g->weight, "'%s': weight: got %d, want %d", g->text,
			     s.weight, g->weight);
		for (k = 0; k < 3; k++) {
			if (g->yes[k])
				cr_expect(px_dnsbl_site_match(&s, ip4(g->yes[k])),
					  "'%s' with reply %s: got not listed, want listed",
					  g->text, g->yes[k]);
			if (g->no[k])
				cr_expect(!px_dnsbl_site_match(&s, ip4(g->no[k])),
					  "'%s' with reply %s: got listed, want not listed",
					  g->text, g->no[k]);
		}
	}
}

struct bad_case {
	const char *text;
	const char *why; /* a part of the message */
};

static const struct bad_case bad[] = {
	{ "", "empty site" },
	{ "   ", "empty site" },
	{ "=127.0.0.2", "no zone" },
	{ "*3", "no zone" },
	{ ".", "no zone" },
	{ "zen..test", "empty label" },
	{ ".zen.test", "empty label" },
	{ "zen.test..", "empty label" },
	{ "701..*2", "empty label" }, /* found by fuzz_dnsbl_spec */
	{ "zen test", "no blanks" },
	{ "zen.test\n", "no blanks" },
	{ "zen/test", "letters, digits" },
	{ "zen.test=127.0.0", "four octets" },
	{ "zen.test=127.0.0.2.3", "unexpected '.'" },
	{ "zen.test=127.0.0.256", "octet 4" },
	{ "zen.test=127.0.0.1234", "octet 4" },
	{ "zen.test=127.0.0.[2..1]", "range 2..1 is empty" },
	{ "zen.test=127.0.0.[2..]", "a range is N..M" },
	{ "zen.test=127.0.0.[]", "octet 4" },
	{ "zen.test=127.0.0.[2;]", "octet 4" },
	{ "zen.test=127.0.0.[2", "want ';' or ']'" },
	{ "zen.test=127.0.0.[2,3]", "want ';' or ']'" },
	{ "zen.test=127.x.0.2", "octet 2" },
	{ "zen.test=", "octet 1" },
	{ "zen.test*", "weight" },
	{ "zen.test*abc", "weight" },
	{ "zen.test*1001", "weight" },
	{ "zen.test*-1001", "weight" },
	{ "zen.test*3x", "weight" },
	{ "zen.test*--3", "weight" },
	{ "zen.test*3=127.0.0.2", "comes before the weight" },
	{ "zen.test*3*4", "weight" },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.test",
	  "longer than 63" },
};

Test(dnsbl, site_parse_bad)
{
	struct px_dnsbl_site s;
	char why[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc;

		why[0] = '\0';
		rc = px_dnsbl_site_parse(bad[i].text, &s, why, sizeof(why));
		cr_expect_eq(rc, -EINVAL, "'%s': got %d, want -EINVAL", bad[i].text, rc);
		cr_expect(strstr(why, bad[i].why) != NULL,
			  "'%s': got message '%s', want '%s' in it", bad[i].text, why, bad[i].why);
	}
}

/* Zones up to the limit parse; one more character does not. */
Test(dnsbl, site_parse_lengths)
{
	struct px_dnsbl_site s;
	char zone[PX_DNSBL_ZONE_LEN + 8], why[256];
	size_t i;

	for (i = 0; i < PX_DNSBL_ZONE_LEN - 1; i++)
		zone[i] = (i % 10 == 9) ? '.' : 'a';
	zone[PX_DNSBL_ZONE_LEN - 1] = '\0';
	cr_assert_eq(px_dnsbl_site_parse(zone, &s, why, sizeof(why)), 0,
		     "a zone of %d characters: got an error (%s), want 0", PX_DNSBL_ZONE_LEN - 1,
		     why);
	strcat(zone, "b");
	cr_assert_eq(px_dnsbl_site_parse(zone, &s, why, sizeof(why)), -EINVAL,
		     "a zone of %d characters: got 0, want -EINVAL", PX_DNSBL_ZONE_LEN);
	cr_assert(strstr(why, "longer than"), "got '%s', want 'longer than'", why);
}

/* The lab's ttl=N (which the cache tests rely on) is checked too. */
Test(dnsbl, lab_ttl_syntax)
{
	static const char *const bad_ttl[] = { "A a.test 127.0.0.1 ttl=x",
					       "A a.test 127.0.0.1 ttl=-1",
					       "A a.test 127.0.0.1 ttl=86401",
					       "PTR 127.0.0.1 a.test ttl=5s" };
	size_t i;

	for (i = 0; i < sizeof(bad_ttl) / sizeof(bad_ttl[0]); i++) {
		int rc = dns_start(&lab, parent, &bad_ttl[i], 1);

		cr_expect_eq(rc, -EINVAL, "dns_start with \"%s\": got %d, want -EINVAL", bad_ttl[i],
			     rc);
		dns_stop(&lab);
	}
}

/* ---- the arithmetic ---- */

static void conf_of(struct px_dnsbl_conf *c, const char *const *sites, int n, int fail_listed)
{
	char why[256];
	int i;

	px_dnsbl_conf_defaults(c);
	for (i = 0; i < n; i++)
		cr_assert_eq(px_dnsbl_site_parse(sites[i], &c->site[i], why, sizeof(why)), 0,
			     "'%s': %s", sites[i], why);
	c->nsites = (unsigned int)n;
	c->on_failure = fail_listed ? PX_DNSBL_FAIL_LISTED : PX_DNSBL_FAIL_UNLISTED;
}

static struct px_dns_a_result answer(enum px_dns_a st, const char *a1, const char *a2)
{
	struct px_dns_a_result r;

	memset(&r, 0, sizeof(r));
	r.status = st;
	if (a1)
		r.addr[r.naddr++] = ip4(a1);
	if (a2)
		r.addr[r.naddr++] = ip4(a2);
	return r;
}

Test(dnsbl, score_arithmetic)
{
	static const char *const sites[] = {
		"zen.test*3",			    /* 0 listed: +3 */
		"zen.test=127.0.0.4*5",		    /* 1 same answer, filtered out */
		"multi.test=127.0.0.[9..11]*2",	    /* 2 second address matches: +2 */
		"wl.test=127.0.[0..255].[1..3]*-2", /* 3 allow list: -2 */
		"quota.test*4",			    /* 4 127.255.255.254 only: errcode */
		"odd.test*4",			    /* 5 not 127/8: filtered */
		"clean.test*7",			    /* 6 NXDOMAIN */
		"down.test*6",			    /* 7 SERVFAIL */
		"slow.test*8",			    /* 8 timed out (NULL) */
		"slowwl.test*-5",		    /* 9 allow list timed out */
		"bad.test*9",			    /* 10 malformed */
	};
	struct px_dns_a_result a[11];
	const struct px_dns_a_result *p[11];
	struct px_dnsbl_conf c;
	struct px_dnsbl_result r;
	static const enum px_dnsbl_outcome want[] = {
		PX_DNSBL_LISTED,  PX_DNSBL_FILTERED, PX_DNSBL_LISTED,	PX_DNSBL_LISTED,
		PX_DNSBL_ERRCODE, PX_DNSBL_FILTERED, PX_DNSBL_UNLISTED, PX_DNSBL_FAILED,
		PX_DNSBL_FAILED,  PX_DNSBL_FAILED,   PX_DNSBL_BADREPLY,
	};
	static const int applied_unlisted[] = { 3, 0, 2, -2, 0, 0, 0, 0, 0, 0, 0 };
	static const int applied_listed[] = { 3, 0, 2, -2, 0, 0, 0, 6, 8, 0, 0 };
	char text[1024];
	const char *t;
	int i, mode, blanks = 0;

	a[0] = answer(PX_DNS_A_OK, "127.0.0.2", NULL);
	a[1] = a[0];
	a[2] = answer(PX_DNS_A_OK, "127.0.0.3", "127.0.0.10");
	a[3] = answer(PX_DNS_A_OK, "127.0.5.2", NULL);
	a[4] = answer(PX_DNS_A_OK, "127.255.255.254", NULL);
	a[5] = answer(PX_DNS_A_OK, "10.0.0.1", "127.255.255.252");
	a[6] = answer(PX_DNS_A_NONE, NULL, NULL);
	a[7] = answer(PX_DNS_A_TEMPFAIL, NULL, NULL);
	a[10] = answer(PX_DNS_A_BAD, NULL, NULL);
	for (i = 0; i < 11; i++)
		p[i] = (i == 8 || i == 9) ? NULL : &a[i];
	for (mode = 0; mode < 2; mode++) {
		const int *applied = mode ? applied_listed : applied_unlisted;
		int score = 0;

		conf_of(&c, sites, 11, mode);
		memset(&r, 0, sizeof(r));
		px_dnsbl_score(&c, p, &r);
		for (i = 0; i < 11; i++) {
			cr_expect_eq(
			    r.d[i].outcome, want[i], "on_failure %s, '%s': got %s, want %s",
			    mode ? "listed" : "unlisted", sites[i],
			    px_dnsbl_outcome_name(r.d[i].outcome), px_dnsbl_outcome_name(want[i]));
			cr_expect_eq(
			    r.d[i].applied, applied[i], "on_failure %s, '%s': applied %d, want %d",
			    mode ? "listed" : "unlisted", sites[i], r.d[i].applied, applied[i]);
			score += applied[i];
		}
		cr_expect_eq(r.score, score, "on_failure %s: score %d, want %d",
			     mode ? "listed" : "unlisted", r.score, score);
		cr_expect_eq(r.failed, 3, "failed: got %u, want 3", r.failed);
		cr_expect_eq(r.bad, 1, "bad: got %u, want 1", r.bad);
		cr_expect_eq(r.listed, mode ? 5u : 3u, "listed: got %u, want %u", r.listed,
			     mode ? 5u : 3u);
	}
	/* The log form names each site and what it added. */
	px_dnsbl_format(&c, &r, text, sizeof(text));
	for (t = text; *t; t++)
		blanks += *t == ' ';
	cr_expect(strstr(text, "score=17 dnsbl=zen.test:listed:127.0.0.2:+3,") &&
		      strstr(text, ",multi.test:listed:127.0.0.10:+2,") &&
		      strstr(text, ",wl.test:listed:127.0.5.2:-2,") &&
		      strstr(text, ",quota.test:errcode:127.255.255.254,") &&
		      strstr(text, ",odd.test:filtered:10.0.0.1,") &&
		      strstr(text, ",slow.test:failed:+8,") && blanks == 1,
		  "format: got '%s'", text);
	cr_expect_eq(px_dnsbl_format(&c, &r, NULL, 0), (int)strlen(text),
		     "format's length without a buffer: got %d, want %zu",
		     px_dnsbl_format(&c, &r, NULL, 0), strlen(text));
}

Test(dnsbl, query_names)
{
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	char name[256], want[256];

	inet_pton(AF_INET, "192.0.2.1", &a4.sin_addr);
	cr_assert_eq(px_dnsbl_query_name(name, sizeof(name), (struct sockaddr *)&a4, "zen.test"),
		     0);
	cr_expect_str_eq(name, "1.2.0.192.zen.test", "v4: got '%s'", name);
	inet_pton(AF_INET6, "::ffff:192.0.2.1", &a6.sin6_addr);
	cr_assert_eq(px_dnsbl_query_name(name, sizeof(name), (struct sockaddr *)&a6, "zen.test"),
		     0);
	cr_expect_str_eq(name, "1.2.0.192.zen.test", "v4-mapped: got '%s'", name);
	inet_pton(AF_INET6, "2001:db8::3", &a6.sin6_addr);
	cr_assert_eq(px_dnsbl_query_name(name, sizeof(name), (struct sockaddr *)&a6, "zen.test"),
		     0);
	cr_assert_eq(dns_rev_name(want, sizeof(want), "2001:db8::3", "zen.test"), 0);
	cr_expect_str_eq(name, want, "v6: got '%s', want '%s'", name, want);
	cr_expect_eq(px_dnsbl_query_name(name, 20, (struct sockaddr *)&a6, "zen.test"), -EINVAL,
		     "v6 into 20 bytes: want -EINVAL");
}

/* ---- the configuration group ---- */

static int parse_conf(const char *text, struct px_dnsbl_conf *c, char *why, size_t why_len)
{
	char path[300];
	config_t cf;
	int rc;

	snprintf(path, sizeof(path), "%s/proxy.conf", parent);
	cr_assert_eq(pl_write_file(path, text, strlen(text)), 0);
	config_init(&cf);
	cr_assert(config_read_file(&cf, path), "libconfig: %s at line %d", config_error_text(&cf),
		  config_error_line(&cf));
	rc = px_dnsbl_conf_parse(config_lookup(&cf, "dnsbl"), c, why, why_len);
	config_destroy(&cf);
	return rc;
}

Test(dnsbl, conf_group)
{
	struct px_dnsbl_conf c;
	char why[512];
	int rc;

	rc = parse_conf("dnsbl = {\n"
			"  sites = [ \"zen.test*3\",\n"
			"            \"wl.test=127.0.[0..255].[1..3]*-2\" ];\n"
			"  timeout = 700;\n"
			"  on_failure = \"listed\";\n"
			"  cache_size = 5;\n"
			"  cache_max_ttl = \"5m\";\n"
			"  negative_ttl = 0;\n"
			"};\n",
			&c, why, sizeof(why));
	cr_assert_eq(rc, 0, "got %d (%s), want 0", rc, why);
	cr_expect_eq(c.nsites, 2);
	cr_expect_str_eq(c.site[1].zone, "wl.test");
	cr_expect_eq(c.site[1].weight, -2);
	cr_expect_eq(c.timeout_ms, 700);
	cr_expect_eq(c.on_failure, PX_DNSBL_FAIL_LISTED);
	cr_expect_eq(c.cache_size, 5);
	cr_expect_eq(c.cache_max_ttl, 300);
	cr_expect_eq(c.negative_ttl, 0);

	/* Defaults, and one site given as a plain string. */
	rc = parse_conf("dnsbl = { sites = \"zen.test\"; };\n", &c, why, sizeof(why));
	cr_assert_eq(rc, 0, "got %d (%s), want 0", rc, why);
	cr_expect(c.nsites == 1 && c.timeout_ms == 2000 && c.on_failure == PX_DNSBL_FAIL_UNLISTED &&
		      c.cache_size == 10000 && c.cache_max_ttl == 3600 && c.negative_ttl == 60,
		  "defaults: got %u sites, timeout %u, on_failure %d, cache %u, max ttl %u, "
		  "negative %u",
		  c.nsites, c.timeout_ms, c.on_failure, c.cache_size, c.cache_max_ttl,
		  c.negative_ttl);
}

Test(dnsbl, conf_group_errors)
{
	static const struct {
		const char *text, *why;
	} cases[] = {
		{ "dnsbl = {\n  sites = [ \"zen.test\",\n  \"bad..test\" ];\n};\n",
		  "proxy.conf:3: dnsbl site 'bad..test': zone 'bad..test' has an empty label" },
		{ "dnsbl = {\n  timeout = 50;\n};\n", "proxy.conf:2: timeout must be between" },
		{ "dnsbl = {\n\n  on_failure = \"maybe\";\n};\n",
		  "proxy.conf:3: on_failure: 'maybe' is not" },
		{ "dnsbl = {\n  cache_size = 2000000;\n};\n", "proxy.conf:2: cache_size" },
		{ "dnsbl = {\n  sitez = [ ];\n};\n", "proxy.conf:2: unknown setting 'sitez'" },
		{ "dnsbl = {\n  sites = 3;\n};\n", "proxy.conf:2: sites: want a list" },
		{ "dnsbl = {\n  sites = [ 3 ];\n};\n", "not a string" },
		{ "dnsbl = [ \"zen.test\" ];\n", "proxy.conf:1: dnsbl: want a group" },
	};
	struct px_dnsbl_conf c;
	char why[512], text[4096];
	size_t i;
	int k, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		why[0] = '\0';
		cr_expect_eq(parse_conf(cases[i].text, &c, why, sizeof(why)), -EINVAL,
			     "'%s': want -EINVAL", cases[i].text);
		cr_expect(strstr(why, cases[i].why), "'%s': got '%s', want '%s' in it",
			  cases[i].text, why, cases[i].why);
	}
	/* One site more than the limit. */
	n = snprintf(text, sizeof(text), "dnsbl = { sites = [ ");
	for (k = 0; k <= PX_DNSBL_SITES_MAX; k++)
		n += snprintf(text + n, sizeof(text) - (size_t)n, "%s\"z%d.test\"", k ? ", " : "",
			      k);
	snprintf(text + n, sizeof(text) - (size_t)n, " ]; };\n");
	cr_expect_eq(parse_conf(text, &c, why, sizeof(why)), -EINVAL);
	cr_expect(strstr(why, "at most"), "too many sites: got '%s'", why);
}

/* ---- real lookups ---- */

/* The client the zones list: 127.0.0.2, as DNSBLs' own test entry. */
#define CLIENT "127.0.0.2"

static const char *const zone_records[] = {
	"A 2.0.0.127.zen.test 127.0.0.2",
	"A 2.0.0.127.multi.test 127.0.0.3",
	"A 2.0.0.127.multi.test 127.0.0.10",
	"A 2.0.0.127.wl.test 127.0.5.2",
	"A 2.0.0.127.quota.test 127.255.255.254",
	"A 2.0.0.127.odd.test 10.0.0.1",
	"REFUSED refused.test",
	"A 2.0.0.127.p1.test 127.0.0.2",
	"A 2.0.0.127.p2.test 127.0.0.3",
	"A 2.0.0.127.p3.test 127.0.0.4",
	"A 2.0.0.127.short.test 127.0.0.2 ttl=1",
	"A 2.0.0.127.long.test 127.0.0.2 ttl=300",
	/* clean.test: nothing, NXDOMAIN */
};

struct done {
	int called;
	struct px_dnsbl_result r;
	long long at; /* now_ms() of the callback */
};

static void on_done(void *arg, const struct px_dnsbl_result *r)
{
	struct done *d = arg;

	d->called++;
	d->r = *r;
	d->at = now_ms();
	ev_break(loop, EVBREAK_ALL);
}

static void start_lab(const char *const *extra, int nextra)
{
	const char *recs[128];
	int n = 0, i, rc;

	for (i = 0; i < (int)(sizeof(zone_records) / sizeof(zone_records[0])); i++)
		recs[n++] = zone_records[i];
	for (i = 0; i < nextra && n < 128; i++)
		recs[n++] = extra[i];
	rc = dns_start(&lab, parent, recs, n);
	cr_assert_eq(rc, 0, "dns_start: got %d, want 0", rc);
}

/* The resolver and scorer, on servers ("127.0.0.1:PORT,..."). */
static void make_resolver(const char *servers, unsigned int timeout_ms, unsigned int cache)
{
	char why[256];

	if (!loop)
		loop = ev_loop_new(EVFLAG_AUTO);
	cr_assert_not_null(loop);
	dns = px_dns_new(loop, servers, timeout_ms, 1, why, sizeof(why));
	cr_assert_not_null(dns, "px_dns_new: %s", why);
	bl = px_dnsbl_new(loop, cache);
	cr_assert_not_null(bl, "px_dnsbl_new: got NULL");
}

static void lab_resolver(unsigned int cache)
{
	char servers[64];

	snprintf(servers, sizeof(servers), "127.0.0.1:%d", lab.port);
	make_resolver(servers, 2000, cache);
}

static struct sockaddr_storage client_addr(const char *s)
{
	struct sockaddr_storage ss;

	cr_assert_eq(dns_client_addr(s, &ss), 0, "not an address: %s", s);
	return ss;
}

/* One lookup of client, run to its end; its elapsed wall time in *ms. */
static void lookup(const struct px_dnsbl_conf *c, const char *client, struct done *d, long long *ms)
{
	struct sockaddr_storage ss = client_addr(client);
	struct px_dnsbl_lookup *l;
	long long t0 = now_ms();

	memset(d, 0, sizeof(*d));
	l = px_dnsbl_start(bl, dns, c, (struct sockaddr *)&ss, on_done, d);
	cr_assert_not_null(l, "px_dnsbl_start: got NULL");
	cr_assert_eq(d->called, 0, "the callback ran inside px_dnsbl_start");
	ev_run_for(loop, 10);
	cr_assert_eq(d->called, 1, "callbacks: got %d, want 1 (within 10 s)", d->called);
	if (ms)
		*ms = d->at - t0;
}

static void expect_outcome(const struct px_dnsbl_conf *c, const struct done *d, unsigned int i,
			   enum px_dnsbl_outcome o, int applied)
{
	cr_expect_eq(d->r.d[i].outcome, o, "'%s': got %s, want %s", c->site[i].text,
		     px_dnsbl_outcome_name(d->r.d[i].outcome), px_dnsbl_outcome_name(o));
	cr_expect_eq(d->r.d[i].applied, applied, "'%s': applied %d, want %d", c->site[i].text,
		     d->r.d[i].applied, applied);
}

/* Every kind of answer from a real server, in one lookup. */
Test(dnsbl, lookup_outcomes)
{
	static const char *const sites[] = {
		"zen.test*3",
		"zen.test=127.0.0.4*5",
		"multi.test=127.0.0.[9..11]*2",
		"wl.test=127.0.[0..255].[1..3]*-2",
		"quota.test*4",
		"odd.test*4",
		"clean.test*7",
		"refused.test*6",
	};
	struct px_dnsbl_conf c;
	struct px_dnsbl_stats st;
	struct done d;
	char text[512], v6name[256], v6rec[300];
	const char *extra[1] = { v6rec };

	cr_assert_eq(dns_rev_name(v6name, sizeof(v6name), "2001:db8::2", "zen.test"), 0);
	snprintf(v6rec, sizeof(v6rec), "A %s 127.0.0.2", v6name);
	start_lab(extra, 1);
	lab_resolver(100);
	conf_of(&c, sites, 8, 0);
	lookup(&c, CLIENT, &d, NULL);
	px_dnsbl_format(&c, &d.r, text, sizeof(text));
	cr_log_info("%s (%u ms)", text, d.r.elapsed_ms);
	expect_outcome(&c, &d, 0, PX_DNSBL_LISTED, 3);
	expect_outcome(&c, &d, 1, PX_DNSBL_FILTERED, 0);
	expect_outcome(&c, &d, 2, PX_DNSBL_LISTED, 2);
	expect_outcome(&c, &d, 3, PX_DNSBL_LISTED, -2);
	expect_outcome(&c, &d, 4, PX_DNSBL_ERRCODE, 0);
	expect_outcome(&c, &d, 5, PX_DNSBL_FILTERED, 0);
	expect_outcome(&c, &d, 6, PX_DNSBL_UNLISTED, 0);
	expect_outcome(&c, &d, 7, PX_DNSBL_FAILED, 0);
	cr_expect_eq(d.r.score, 3, "score: got %d, want 3 (%s)", d.r.score, text);
	cr_expect(!d.r.d[7].timed_out, "REFUSED: got a timeout, want an answer");
	px_dnsbl_get_stats(bl, &st);
	cr_expect_eq(st.queries, 7, "queries: got %llu, want 7 (zen.test asked once)", st.queries);
	cr_expect_eq(st.errcodes, 1, "errcodes: got %llu, want 1", st.errcodes);
	cr_expect_eq(st.tempfails, 1, "tempfails: got %llu, want 1", st.tempfails);

	/* An IPv6 client: nibbles under the zone. And a client no zone lists. */
	conf_of(&c, sites, 1, 0);
	lookup(&c, "2001:db8::2", &d, NULL);
	expect_outcome(&c, &d, 0, PX_DNSBL_LISTED, 3);
	lookup(&c, "192.0.2.9", &d, NULL);
	expect_outcome(&c, &d, 0, PX_DNSBL_UNLISTED, 0);
}

/*
 * Three zones go out at once. The first server is the silent one, so every
 * query waits its 300 ms try there before unbound answers it: in parallel,
 * the three are done after about one such wait; one after the other, three.
 */
Test(dnsbl, lookup_parallel)
{
	static const char *const sites[] = { "p1.test*1", "p2.test*2", "p3.test*4" };
	struct px_dnsbl_conf c;
	struct done d;
	char servers[64];
	long long ms;

	start_lab(NULL, 0);
	cr_assert_gt(dns_start_silent(&silent), 0);
	snprintf(servers, sizeof(servers), "127.0.0.1:%d,127.0.0.1:%d", silent.port, lab.port);
	make_resolver(servers, 300, 0);
	conf_of(&c, sites, 3, 0);
	c.timeout_ms = 5000;
	lookup(&c, CLIENT, &d, &ms);
	cr_log_info("3 zones behind a 300 ms wait: %lld ms", ms);
	cr_expect_eq(d.r.score, 7, "score: got %d, want 7 (all three listed)", d.r.score);
	cr_expect(ms >= 280 && ms < 550,
		  "3 zones, each waiting 300 ms: got %lld ms, want about 300 (not 900)", ms);

	/* Straight to unbound: a loopback round trip, well under the wait. */
	px_dnsbl_free(bl);
	px_dns_free(dns);
	lab_resolver(0);
	lookup(&c, CLIENT, &d, &ms);
	cr_log_info("3 zones on loopback: %lld ms", ms);
	cr_expect_eq(d.r.score, 7);
	cr_expect_lt(ms, 150, "3 zones on loopback: got %lld ms, want < 150", ms);
}

/* A dead server: the lookup ends at its timeout, not the resolver's, and
 * on_failure decides; a failing allow list never lowers the score. */
Test(dnsbl, lookup_timeout)
{
	static const char *const sites[] = { "zen.test*3", "wl.test*-2", "p1.test*1" };
	struct px_dnsbl_conf c;
	struct px_dnsbl_stats st;
	struct done d;
	char servers[64];
	long long ms;
	int mode;

	cr_assert_gt(dns_start_silent(&silent), 0);
	snprintf(servers, sizeof(servers), "127.0.0.1:%d", silent.port);
	make_resolver(servers, 5000, 100);
	for (mode = 0; mode < 2; mode++) {
		conf_of(&c, sites, 3, mode);
		c.timeout_ms = 300;
		lookup(&c, CLIENT, &d, &ms);
		cr_log_info("dead server, on_failure %s: %lld ms", mode ? "listed" : "unlisted",
			    ms);
		cr_expect(ms >= 290 && ms < 300 + 150,
			  "dead server, timeout 300 ms: got %lld ms, want 300..450", ms);
		cr_expect(d.r.elapsed_ms >= 290 && d.r.elapsed_ms < 450,
			  "elapsed_ms: got %u, want 300..450", d.r.elapsed_ms);
		expect_outcome(&c, &d, 0, PX_DNSBL_FAILED, mode ? 3 : 0);
		expect_outcome(&c, &d, 1, PX_DNSBL_FAILED, 0);
		expect_outcome(&c, &d, 2, PX_DNSBL_FAILED, mode ? 1 : 0);
		cr_expect(d.r.d[0].timed_out && d.r.d[1].timed_out, "timed_out: want it set");
		cr_expect_eq(d.r.score, mode ? 4 : 0, "score: got %d, want %d", d.r.score,
			     mode ? 4 : 0);
	}
	px_dnsbl_get_stats(bl, &st);
	cr_expect_eq(st.timeouts, 6, "timeouts: got %llu, want 6", st.timeouts);
	cr_expect_eq(st.cache_entries, 0, "failures are not cached: got %u entries",
		     st.cache_entries);
}

/* A reply no parser can read, and one with too many addresses: counted,
 * unlisted, even with on_failure listed. */
Test(dnsbl, lookup_bad_replies)
{
	static const char *const sites[] = { "zen.test*3" };
	static const char *const big_sites[] = { "big.test*3", "zen.test*1" };
	const char *big[PX_DNS_A_MAX + 4];
	static char lines[PX_DNS_A_MAX + 4][64];
	struct px_dnsbl_conf c;
	struct px_dnsbl_stats st;
	struct done d;
	char servers[64];
	int i;

	cr_assert_gt(dns_start_garbage(&garbage), 0);
	snprintf(servers, sizeof(servers), "127.0.0.1:%d", garbage.port);
	make_resolver(servers, 1000, 100);
	conf_of(&c, sites, 1, 1);
	lookup(&c, CLIENT, &d, NULL);
	expect_outcome(&c, &d, 0, PX_DNSBL_BADREPLY, 0);
	cr_expect(!d.r.d[0].timed_out, "garbage: got a timeout, want an answer");
	px_dnsbl_get_stats(bl, &st);
	cr_expect_eq(st.malformed, 1, "malformed: got %llu, want 1", st.malformed);
	px_dnsbl_free(bl);
	px_dns_free(dns);
	bl = NULL;
	dns = NULL;

	/* PX_DNS_A_MAX + 1 addresses: over UDP's 512 bytes too, so c-ares
	 * takes it again over TCP, and it is still refused. */
	for (i = 0; i < PX_DNS_A_MAX + 1; i++) {
		snprintf(lines[i], sizeof(lines[i]), "A 2.0.0.127.big.test 127.0.0.%d", i + 2);
		big[i] = lines[i];
	}
	start_lab(big, PX_DNS_A_MAX + 1);
	lab_resolver(100);
	conf_of(&c, big_sites, 2, 1);
	lookup(&c, CLIENT, &d, NULL);
	expect_outcome(&c, &d, 0, PX_DNSBL_BADREPLY, 0);
	expect_outcome(&c, &d, 1, PX_DNSBL_LISTED, 1);
	px_dnsbl_get_stats(bl, &st);
	cr_expect_eq(st.oversized, 1, "oversized: got %llu, want 1", st.oversized);
}

/* What the cache tests start from: the lab, a resolver on it with a cache
 * of cache entries, and c for sites (failure as unlisted) with negative
 * answers kept negative_ttl seconds. */
static void cache_setup(struct px_dnsbl_conf *c, const char *const *sites, int n,
			unsigned int cache, unsigned int negative_ttl)
{
	start_lab(NULL, 0);
	lab_resolver(cache);
	conf_of(c, sites, n, 0);
	c->negative_ttl = negative_ttl;
}

/* The second lookup is a cache hit (unbound is not asked again); after the
 * TTL it is asked again; cache_max_ttl caps a long TTL. */
Test(dnsbl, cache_ttl)
{
	static const char *const sites[] = { "short.test*2", "long.test*1", "clean.test*5" };
	struct px_dnsbl_conf c;
	struct px_dnsbl_stats st;
	struct done d;
	int i;

	cache_setup(&c, sites, 3, 100, 2);
	c.cache_max_ttl = 2;
	lookup(&c, CLIENT, &d, NULL);
	cr_expect_eq(d.r.score, 3);
	for (i = 0; i < 3; i++)
		cr_expect(!d.r.d[i].cached, "first lookup, '%s': got cached", sites[i]);
	lookup(&c, CLIENT, &d, NULL);
	cr_expect_eq(d.r.score, 3, "from the cache: score %d, want 3", d.r.score);
	for (i = 0; i < 3; i++)
		cr_expect(d.r.d[i].cached, "second lookup, '%s': got asked, want cached", sites[i]);
	expect_outcome(&c, &d, 2, PX_DNSBL_UNLISTED, 0);
	px_dnsbl_get_stats(bl, &st);
	cr_expect(st.queries == 3 && st.cache_hits == 3 && st.cache_misses == 3,
		  "queries %llu, hits %llu, misses %llu: want 3, 3, 3", st.queries, st.cache_hits,
		  st.cache_misses);

	/* short.test's TTL (1 s) is over; long.test's 300 s is capped at 2. */
	usleep(1200 * 1000);
	lookup(&c, CLIENT, &d, NULL);
	cr_expect(!d.r.d[0].cached && d.r.d[1].cached && d.r.d[2].cached,
		  "after 1.2 s: cached %d %d %d, want 0 1 1", d.r.d[0].cached, d.r.d[1].cached,
		  d.r.d[2].cached);
	cr_expect_eq(d.r.score, 3);
	usleep(1000 * 1000);
	lookup(&c, CLIENT, &d, NULL);
	cr_expect(!d.r.d[0].cached && !d.r.d[1].cached && !d.r.d[2].cached,
		  "after 2.2 s: cached %d %d %d, want 0 0 0 (long.test capped at 2 s)",
		  d.r.d[0].cached, d.r.d[1].cached, d.r.d[2].cached);
	/* 3 at first, short.test at 1.2 s, and all three at 2.2 s (short.test's
	 * second answer had 1 s too). */
	px_dnsbl_get_stats(bl, &st);
	cr_expect_eq(st.queries, 7, "queries: got %llu, want 7", st.queries);
}

/* cache_size bounds the entries; the least recently used goes first. */
Test(dnsbl, cache_bound)
{
	static const char *const sites[] = { "clean.test*1" };
	static const char *const clients[] = { "192.0.2.1", "192.0.2.2", "192.0.2.3" };
	struct px_dnsbl_conf c;
	struct px_dnsbl_stats st;
	struct done d;
	int i;

	cache_setup(&c, sites, 1, 2, 60);
	for (i = 0; i < 3; i++)
		lookup(&c, clients[i], &d, NULL);
	px_dnsbl_get_stats(bl, &st);
	cr_expect_eq(st.cache_entries, 2, "entries: got %u, want 2 (the bound)", st.cache_entries);
	cr_expect_eq(st.cache_evictions, 1, "evictions: got %llu, want 1", st.cache_evictions);
	lookup(&c, clients[2], &d, NULL);
	cr_expect(d.r.d[0].cached, "the newest client: want a hit");
	lookup(&c, clients[0], &d, NULL);
	cr_expect(!d.r.d[0].cached, "the oldest client: want evicted, asked again");
	/* That pushed out 192.0.2.2, the least recently used. */
	lookup(&c, clients[1], &d, NULL);
	cr_expect(!d.r.d[0].cached, "192.0.2.2: want evicted");
	px_dnsbl_get_stats(bl, &st);
	cr_expect_eq(st.cache_entries, 2, "entries: got %u, want 2", st.cache_entries);
	cr_expect_eq(st.cache_evictions, 3, "evictions: got %llu, want 3", st.cache_evictions);
	cr_expect_eq(st.queries, 5, "queries: got %llu, want 5", st.queries);
}

/* No sites: score 0, still from the loop. A cancelled lookup never calls
 * back, and frees what it held (ASan checks). */
Test(dnsbl, empty_and_cancel)
{
	static const char *const sites[] = { "zen.test*3" };
	struct sockaddr_storage ss = client_addr(CLIENT);
	struct px_dnsbl_lookup *l;
	struct px_dnsbl_conf c;
	struct done d;

	cr_assert_gt(dns_start_silent(&silent), 0);
	{
		char servers[64];

		snprintf(servers, sizeof(servers), "127.0.0.1:%d", silent.port);
		make_resolver(servers, 5000, 10);
	}
	px_dnsbl_conf_defaults(&c);
	lookup(&c, CLIENT, &d, NULL);
	cr_expect(d.r.score == 0 && d.r.nsites == 0, "no sites: score %d, %u sites", d.r.score,
		  d.r.nsites);

	conf_of(&c, sites, 1, 0);
	memset(&d, 0, sizeof(d));
	l = px_dnsbl_start(bl, dns, &c, (struct sockaddr *)&ss, on_done, &d);
	cr_assert_not_null(l);
	px_dnsbl_cancel(l);
	ev_run_for(loop, 0.5);
	cr_expect_eq(d.called, 0, "a cancelled lookup called back");

	/* A lookup still running when the scorer goes: no callback either. */
	l = px_dnsbl_start(bl, dns, &c, (struct sockaddr *)&ss, on_done, &d);
	cr_assert_not_null(l);
	px_dnsbl_free(bl);
	bl = NULL;
	ev_run_for(loop, 0.5);
	cr_expect_eq(d.called, 0, "a lookup of a freed scorer called back");
}
