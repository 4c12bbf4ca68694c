// SPDX-License-Identifier: GPL-2.0
/*
 * test_ns_policy.c - the edge and the proxy as one system, in the namespace
 * lab: what the edge knows about a client chooses the proxy's policy for it
 * (a group:N entry selects pool N), and what the proxy learns reaches the
 * edge (a harvester banned by the proxy has its next SYN dropped by XDP).
 *
 * The gateway namespace has mailedge attached natively on its veth end and
 * runs the proxy (the build under test, dropping root to nobody) with a fake
 * backend on its own loopback. The proxy is started with nsenter --net, as
 * the README and the demo start it: it reads and writes the pinned maps of
 * this test's pin directory. Clients speak SMTP from the client namespace,
 * from documentation addresses, through the filter.
 *
 * What a harvester sees is checked on the wire (its recipients refused, the
 * 421, then silence: a dropped SYN), and what the edge did in its own
 * counters (mailedge-loader status --json: the hits of the proxy's source,
 * and the drops by reason), so that the ban is shown to be the XDP program's
 * work and not the proxy's refusing a connection it accepted. Lifting the
 * ban (mailedge-loader unban) lets the next SYN through again.
 *
 * An IPv6 client is counted and banned under its /64: a neighbour in the
 * same /64 is dropped with it, one in another /64 is not.
 *
 * .fini stops the proxy and the fake, and removes the lab and the pin
 * directory, on every exit path.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include <json-c/json.h>

#include "lib/labcheck.h"
#include "lib/proxylab.h"
#include "lib/pxcase.h"
#include "lib/testenv.h"
#include "lib/tjson.h"

#define SRC_PROXY 2	   /* enum me_src: ME_SRC_PROXY */
#define DROP_MS	  1500	   /* a dropped SYN: the wait that must end in silence */
#define LIMIT	  10	   /* harvest_limit */
#define GW6_OTHER "2001:db8:1::1"

static struct lab nsl;

static void setup(void)
{
	int rc;

	pxc_setup();
	rc = lab_up(&nsl);
	if (rc) {
		lab_down(&nsl);
		pxc_teardown();
		cr_assert_fail("lab_up: got %d, want 0 (the failing command is on stderr)", rc);
	}
	snprintf(lab.netns, sizeof(lab.netns), "%s", nsl.gw_ns);
}

static void teardown(void)
{
	pxc_teardown(); /* the proxy first: it holds the maps */
	lab_down(&nsl);
	tenv_pin_dir_remove();
	tenv_kept_free();
}

TestSuite(ns_policy, .init = setup, .fini = teardown, .timeout = 90);

/* ---- the lab ---- */

/* Attach with small maps, give the client its addresses, start fake 0 (pool
 * "main") and fake 1 (pool "two") and the proxy: valid_recipients knows
 * bob@example.org only, and an edge entry group:2 selects policy SG2, whose
 * pool is "two". */
static void lab_start(void)
{
	char top[4096], path[256];
	const char *users = "bob@example.org\n";

	struct run r;

	lab_loader(&nsl, &r,
		   "attach %s --mode native --hosts 1024 --white-hosts 1024 --subnets 1024 "
		   "--rate-entries 1024 --ban-entries 1024",
		   nsl.gw_if);
	tenv_keep_run(&r);
	cr_assert_eq(r.status, 0, "attach in the gateway: got %d, want 0; %s", r.status, r.err);
	cr_assert_eq(tenv_sh("ip -n %s addr add %s/64 dev %s nodad", nsl.gw_ns, GW6_OTHER,
			     nsl.gw_if),
		     0, "a second IPv6 /64 on the gateway");
	lab_addr_ok(&nsl, "192.0.2.77/24");
	lab_addr_ok(&nsl, "2001:db8::10/64");
	lab_addr_ok(&nsl, "2001:db8:1::77/64");
	lab_addr_ok(&nsl, "2001:db8:1::99/64");

	snprintf(path, sizeof(path), "%s/valid-recipients", lab.dir);
	cr_assert_eq(pl_write_file(path, users, strlen(users)), 0, "writing %s", path);
	fake(0, "");
	fake(1, "");
	snprintf(top, sizeof(top),
		 "relay_domains = [ \"example.org\" ];\npin_dir = \"%s\";\n"
		 "valid_recipients = \"%s\";\n"
		 "policies = ( { name = \"SG2\"; pool = \"two\"; }, { name = \"DEF\"; } );\n"
		 "sender_groups = ( { name = \"G2\"; policy = \"SG2\"; edge = [ \"group:2\" ]; },\n"
		 "  { name = \"REST\"; policy = \"DEF\"; default = true; } );\n",
		 tenv_pin_dir(), path);
	start(top, "connect_timeout = \"2s\"; harvest_limit = 10; harvest_ban = \"10m\";",
	      "{ listen = \"0.0.0.0:@P0@\"; auth_requires_tls = false; },"
	      "{ listen = \"[2001:db8::1]:@P0@\"; auth_requires_tls = false; },"
	      "{ listen = \"[" GW6_OTHER "]:@P0@\"; auth_requires_tls = false; }",
	      POOL_F0 ", { name = \"two\"; members = ( \"127.0.0.1:@F1@\" ); " HEALTH " }");
	cr_assert_eq(pl_log_wait(&lab, "edge maps: ", 1, 2000), 1,
		     "want the proxy to open the edge maps; log:\n%s", proxy_log());
}

struct cl_conn {
	struct pl_client *c;
	const char *src, *dst;
	int port;
};

static int cl_connect(void *arg)
{
	struct cl_conn *a = arg;

	return pl_connect_to(a->c, a->src, a->dst, a->port);
}

/* An SMTP session from src (in the client namespace) to dst, greeted. */
static void cl_session(struct pl_client *c, const char *src, const char *dst)
{
	struct cl_conn a = { c, src, dst, lab.port[0] };
	int rc = ns_enter(nsl.cl_ns, cl_connect, &a);

	cr_assert_eq(rc, 0, "connecting from %s to [%s]:%d: got %d (%s), want 0", src, dst,
		     lab.port[0], rc, c->err);
	expect(c, "220", "banner");
	cmd(c, "250", "EHLO client.test");
}

/* What a SYN from src to dst meets: connected (0), silence (-ETIMEDOUT)... */
static void expect_syn(const char *src, const char *dst, int want, const char *why)
{
	int rc = ns_connect(nsl.cl_ns, src, dst, lab.port[0], want ? DROP_MS : 3000);

	cr_assert_eq(rc, want, "%s: a SYN from %s to [%s]:%d got %s, want %s", why, src, dst,
		     lab.port[0], conn_name(rc), conn_name(want));
}

/* Harvest from src: unknown recipients until the proxy stops answering
 * 550 5.1.1; the 550 5.1.1 replies counted (the limit's, and the one that
 * crossed it). The session must end in 421, and be closed. */
static int harvest(const char *src, const char *dst)
{
	struct pl_client c;
	int code, unknown;

	cl_session(&c, src, dst);
	cmd(&c, "250", "MAIL FROM:<h@harvest.example>");
	unknown = unknown_rcpts(&c, "example.org", 30, &code);
	cr_assert(code == 421 && strstr(rbuf, "4.7.0"),
		  "%s past harvest_limit: got %d '%s', want 421 4.7.0; log:\n%s", src, code, rbuf,
		  proxy_log());
	cr_expect_eq(pl_wait_close(&c, 5000), 1, "%s after the 421: want the connection closed",
		     src);
	pl_close(&c);
	return unknown;
}

/* The edge's counters: hits of the proxy's bans, drops of the admin's
 * blacklists (reason black-host or black-net, verdict drop). */
struct edge_count {
	long long proxy_hits, drops_host, drops_net;
};

static void edge_counts(struct edge_count *ec)
{
	const char *out = loader_expect(0, "--pin-dir %s status --json", tenv_pin_dir());
	json_object *root = json_tokener_parse(out), *a;
	size_t i;

	memset(ec, 0, sizeof(*ec));
	cr_assert_not_null(root, "status --json: got '%s', want JSON", out);
	if (json_object_object_get_ex(root, "lists", &a))
		for (i = 0; i < json_object_array_length(a); i++) {
			json_object *o = json_object_array_get_idx(a, i);

			if (jint(o, "id") == SRC_PROXY)
				ec->proxy_hits = jint_null0(o, "hits");
		}
	if (json_object_object_get_ex(root, "verdicts", &a))
		for (i = 0; i < json_object_array_length(a); i++) {
			json_object *o = json_object_array_get_idx(a, i);
			const char *r = jstr(o, "reason"), *v = jstr(o, "verdict");

			if (!r || !v || strcmp(v, "drop"))
				continue;
			if (!strcmp(r, "black-host"))
				ec->drops_host = jint_null0(o, "packets");
			else if (!strcmp(r, "black-net"))
				ec->drops_net = jint_null0(o, "packets");
		}
	json_object_put(root);
}

/* mailedge-loader lookup ADDR: its output. */
static const char *lookup(const char *addr)
{
	return loader_expect(0, "--pin-dir %s lookup %s", tenv_pin_dir(), addr);
}

/* A message from src to bob@example.org, accepted. */
static void send_one(const char *src, const char *dst, const char *subject)
{
	struct pl_client c;
	char text[256];

	snprintf(text, sizeof(text), "Subject: %s\r\n\r\nfrom %s\r\n", subject, src);
	cl_session(&c, src, dst);
	deliver(&c, "alice@client.example", "bob@example.org", text);
	quit(&c);
}

/* ---- tests ---- */

/*
 * The edge's entries choose what the proxy does: 198.51.100.0/24 is listed
 * with action group:2, so XDP lets it through and the proxy serves it from
 * pool "two"; 203.0.113.9 is blacklisted (drop) and never reaches the proxy;
 * 192.0.2.10, listed nowhere, is served from the default pool.
 */
Test(ns_policy, edge_group_served_by_its_pool)
{
	struct run r;

	lab_start();
	lab_addr_ok(&nsl, "198.51.100.7/24");
	lab_addr_ok(&nsl, "203.0.113.9/24");
	lab_loader(&nsl, &r, "list add black 198.51.100.0/24 --action group:2");
	tenv_keep_run(&r);
	cr_assert_eq(r.status, 0, "list add group:2: got %d, want 0; %s", r.status, r.err);
	lab_loader(&nsl, &r, "list add black 203.0.113.9");
	tenv_keep_run(&r);
	cr_assert_eq(r.status, 0, "list add: got %d, want 0; %s", r.status, r.err);

	send_one("198.51.100.7", "198.51.100.1", "group 2");
	send_one("192.0.2.10", "192.0.2.1", "unlisted");
	expect_syn("203.0.113.9", "203.0.113.1", -ETIMEDOUT, "blacklisted");
	cr_expect_eq(seen_count(1, "message", NULL, NULL), 1,
		     "pool two (group:2): got %d messages, want 1",
		     seen_count(1, "message", NULL, NULL));
	cr_expect_eq(seen_count(0, "message", NULL, NULL), 1,
		     "pool main (the rest): got %d messages, want 1",
		     seen_count(0, "message", NULL, NULL));
	cr_expect_eq(pl_log_wait(&lab, "group=G2", 1, 1000), 1,
		     "want 198.51.100.7 classified G2; log:\n%s", proxy_log());
	finish();
}

/*
 * A harvester at 192.0.2.77: its unknown recipients are refused one by one,
 * and the one past LIMIT ends the session with 421; the proxy bans it at the
 * edge, and its next SYN is dropped by the XDP program (silence, and the
 * proxy's source counts the hit), while another client still gets through.
 * unban restores it.
 */
Test(ns_policy, ipv4_harvester_dropped_at_the_edge)
{
	struct edge_count before, after, freed;
	struct pl_client c;
	const char *out;
	int unknown;

	lab_start();
	expect_syn("192.0.2.77", "192.0.2.1", 0, "before any harvest");

	unknown = harvest("192.0.2.77", "192.0.2.1");
	cr_expect_eq(unknown, LIMIT + 1,
		     "550 5.1.1 replies: got %d, want %d (harvest_limit, and the one over it)",
		     unknown, LIMIT + 1);
	cr_assert_eq(pl_log_wait(&lab, "result=banned", 1, 3000), 1,
		     "want the ban written to the edge; log:\n%s", proxy_log());
	out = lookup("192.0.2.77");
	cr_expect(strstr(out, "proxy") && strstr(out, "drop"),
		  "lookup 192.0.2.77: got '%s', want a drop by the proxy's ban", out);

	edge_counts(&before);
	expect_syn("192.0.2.77", "192.0.2.1", -ETIMEDOUT, "banned harvester");
	edge_counts(&after);
	cr_expect_gt(after.proxy_hits, before.proxy_hits,
		     "hits of the proxy's bans: got %lld then %lld, want more (the XDP drop)",
		     before.proxy_hits, after.proxy_hits);
	cr_expect_gt(after.drops_host, before.drops_host,
		     "black-host drops: got %lld then %lld, want more", before.drops_host,
		     after.drops_host);

	/* the ban is the harvester's alone */
	cl_session(&c, "192.0.2.10", "192.0.2.1");
	cmd(&c, "250", "MAIL FROM:<a@client.example>");
	cmd(&c, "250", "RCPT TO:<bob@example.org>");
	quit(&c);

	loader_expect(0, "--pin-dir %s unban 192.0.2.77", tenv_pin_dir());
	expect_syn("192.0.2.77", "192.0.2.1", 0, "after unban");
	edge_counts(&freed);
	cr_expect_eq(freed.proxy_hits, after.proxy_hits,
		     "hits of the proxy's bans after unban: got %lld, want %lld (no more drops)",
		     freed.proxy_hits, after.proxy_hits);
	finish();
}

/*
 * An IPv6 harvester is counted and banned as its /64: 2001:db8:1::77
 * harvests, then both it and 2001:db8:1::99 (the same /64, never seen
 * before) are dropped at the edge, while 2001:db8::10 (another /64) and the
 * IPv4 clients are served. unban of any address in the /64 lifts it.
 */
Test(ns_policy, ipv6_harvester_banned_as_its_64)
{
	struct edge_count before, after;
	struct pl_client c;
	const char *out;
	int unknown;

	lab_start();
	unknown = harvest("2001:db8:1::77", GW6_OTHER);
	cr_expect_eq(unknown, LIMIT + 1, "550 5.1.1 replies: got %d, want %d", unknown,
		     LIMIT + 1);
	cr_assert_eq(pl_log_wait(&lab, "result=banned", 1, 3000), 1,
		     "want the ban written to the edge; log:\n%s", proxy_log());
	out = lookup("2001:db8:1::99");
	cr_expect(strstr(out, "2001:db8:1::/64") && strstr(out, "proxy"),
		  "lookup of a neighbour: got '%s', want the proxy's ban of 2001:db8:1::/64", out);

	edge_counts(&before);
	expect_syn("2001:db8:1::77", GW6_OTHER, -ETIMEDOUT, "banned harvester");
	expect_syn("2001:db8:1::99", GW6_OTHER, -ETIMEDOUT, "its /64 neighbour");
	edge_counts(&after);
	cr_expect_geq(after.proxy_hits - before.proxy_hits, 2,
		      "hits of the proxy's bans: got %lld then %lld, want 2 more at least",
		      before.proxy_hits, after.proxy_hits);
	cr_expect_gt(after.drops_net, before.drops_net,
		     "black-net drops: got %lld then %lld, want more (a /64 is a subnet entry)",
		     before.drops_net, after.drops_net);

	cl_session(&c, "2001:db8::10", "2001:db8::1");
	cmd(&c, "250", "MAIL FROM:<a@client.example>");
	cmd(&c, "250", "RCPT TO:<bob@example.org>");
	quit(&c);
	expect_syn("192.0.2.77", "192.0.2.1", 0, "an IPv4 client");

	loader_expect(0, "--pin-dir %s unban 2001:db8:1::99", tenv_pin_dir());
	expect_syn("2001:db8:1::77", GW6_OTHER, 0, "after unban");
	finish();
}
