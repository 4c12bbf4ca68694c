// SPDX-License-Identifier: GPL-2.0
/*
 * test_proxy_policy.c - sender groups and policies in a running mailedge-proxy.
 *
 * Each test starts the proxy (the build under test) in front of two fake
 * backends, fake 0 in pool "one" and fake 1 in pool "two", with a host access
 * table written for it. Clients differ by their loopback source address
 * (127.0.0.0/8 is all loopback), so one proxy serves clients of several
 * groups side by side: what one group's policy does must not leak into
 * another's. What the backends saw is read from the fakes' logs; which group
 * a client fell in, from the proxy's "classify" lines.
 *
 * The edge test makes a real pinned map set in a pin directory of its own
 * (mailedge-loader init, list add), and .fini removes it on every exit path.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>

#include "lib/dnslab.h"
#include "lib/proxylab.h"
#include "lib/pxcase.h"
#include "lib/testenv.h"
#include "lib/traffic.h"

static struct dns_lab dns;

static void teardown(void)
{
	dns_stop(&dns);
	pxc_teardown();
	tenv_pin_dir_remove();
}

TestSuite(policy_proxy, .init = pxc_setup, .fini = teardown, .timeout = 60);

#define POOLS2                                                                                     \
	"{ name = \"one\"; members = ( \"127.0.0.1:@F0@\" ); " HEALTH " },"                        \
	"{ name = \"two\"; members = ( \"127.0.0.1:@F1@\" ); " HEALTH " }"
#define LISTEN_ONE "{ listen = \"127.0.0.1:@P0@\"; pool = \"one\"; }"

/* Fakes 0 and 1, and the proxy with the default top level plus the table. */
static void start_policy(const char *table, const char *limits, const char *listeners)
{
	char top[8192];

	fake(0, NULL);
	fake(1, NULL);
	snprintf(top, sizeof(top), "%s%s", TOP_DEFAULT, table);
	start(top, limits, listeners ? listeners : LISTEN_ONE, POOLS2);
}

/* The proxy logged a classify line for this client with this group. */
static void want_classified(const char *client, const char *group)
{
	char needle[160];

	snprintf(needle, sizeof(needle), "client=%s:", client);
	for (int tries = 0; tries < 50; tries++) {
		char *log = pl_read_file(lab.proxy_log), *p;
		int found = 0;

		for (p = log ? strstr(log, "classify ") : NULL; p; p = strstr(p + 1, "classify ")) {
			char *eol = strchr(p, '\n'), want[96];

			snprintf(want, sizeof(want), "group=%s ", group);
			if (eol)
				*eol = '\0';
			found = strstr(p, needle) && strstr(p, want);
			if (eol)
				*eol = '\n';
			if (found)
				break;
		}
		free(log);
		if (found)
			return;
		pl_sleep_ms(100);
	}
	cr_assert_fail("want a classify line for %s with group=%s; log:\n%s", client, group,
		       proxy_log());
}

/* Nothing at all is said to this client: the connection just closes. */
static void want_silent_close(const char *src)
{
	struct pl_client c;
	int rc = pl_connect(&c, src, lab.port[0]), code;

	cr_assert_eq(rc, 0, "connecting from %s: got %d (%s)", src, rc, c.err);
	code = pl_reply(&c, rbuf, sizeof(rbuf), 5000);
	cr_expect_eq(code, -EPIPE, "%s: got %d '%s', want the connection closed without a word",
		     src, code, code > 0 ? rbuf : "");
	cr_expect_eq(c.len, 0, "%s: got %zu bytes, want none", src, c.len);
	pl_close(&c);
}

/* A client matched by network is served by pool two; the rest by the
 * listener's pool one. */
Test(policy_proxy, network_selects_pool)
{
	struct pl_client a, b;

	start_policy("policies = ( { name = \"TWO\"; pool = \"two\"; }, { name = \"DEF\"; } );\n"
		     "sender_groups = ( { name = \"NET\"; policy = \"TWO\"; networks = [ "
		     "\"127.0.0.5/32\" ]; },\n"
		     "  { name = \"REST\"; policy = \"DEF\"; default = true; } );\n",
		     NULL, NULL);
	session(&a, "127.0.0.5");
	deliver(&a, "alice@example.org", "bob@example.org", "Subject: a\r\n\r\nfor two\r\n");
	quit(&a);
	session(&b, UNTRUSTED);
	deliver(&b, "alice@example.org", "bob@example.org", "Subject: b\r\n\r\nfor one\r\n");
	quit(&b);
	cr_expect_eq(seen_count(1, "message", NULL, NULL), 1,
		     "messages at pool two: got %d, want 1 (127.0.0.5's)",
		     seen_count(1, "message", NULL, NULL));
	cr_expect_eq(seen_count(0, "message", NULL, NULL), 1,
		     "messages at pool one: got %d, want 1 (127.0.0.3's)",
		     seen_count(0, "message", NULL, NULL));
	want_classified("127.0.0.5", "NET");
	want_classified(UNTRUSTED, "REST");
	finish();
}

/* reject: the policy's 554 instead of the banner, then close; refuse: no
 * word; ban: no word, and the ban step named in the log. No backend hears of
 * any of them, and a client of no such group is greeted as ever. */
Test(policy_proxy, reject_refuse_ban)
{
	struct pl_client c;
	char table[2048];
	int code;

	/* A pin directory of the test's own with nothing pinned: the ban is
	 * only logged, and never reaches the machine's real maps. */
	snprintf(table, sizeof(table),
		 "pin_dir = \"%s\";\n"
		 "policies = ( { name = \"NO\"; action = \"reject\"; reject_reply = \"554 5.7.1 "
		 "You are not welcome here\"; },\n"
		 "  { name = \"SHUT\"; action = \"refuse\"; },\n"
		 "  { name = \"BAN\"; action = \"ban\"; ban_time = \"10m\"; } );\n"
		 "sender_groups = ( { name = \"R\"; policy = \"NO\"; networks = [ "
		 "\"127.0.0.6\" ]; },\n"
		 "  { name = \"F\"; policy = \"SHUT\"; networks = [ \"127.0.0.7\" ]; },\n"
		 "  { name = \"B\"; policy = \"BAN\"; networks = [ \"127.0.0.8\" ]; } );\n",
		 tenv_pin_dir());
	start_policy(table, NULL, NULL);
	cr_assert_eq(pl_connect(&c, "127.0.0.6", lab.port[0]), 0, "connecting: %s", c.err);
	code = pl_reply(&c, rbuf, sizeof(rbuf), 5000);
	cr_expect_eq(code, 554, "rejected client: got %d '%s', want 554", code, rbuf);
	cr_expect(strstr(rbuf, "You are not welcome here"), "got '%s', want the policy's text",
		  rbuf);
	cr_expect_eq(pl_wait_close(&c, 5000), 1, "after the 554: want the connection closed");
	pl_close(&c);
	want_silent_close("127.0.0.7");
	want_silent_close("127.0.0.8");
	cr_expect_eq(pl_log_wait(&lab, "ban: client=127.0.0.8:", 1, 3000), 1,
		     "want the ban step logged for 127.0.0.8; log:\n%s", proxy_log());
	cr_expect_eq(pl_log_wait(&lab, "seconds=600", 1, 100), 1, "want ban_time 600 s logged");
	cr_expect_eq(pl_log_wait(&lab, "result=no-edge-maps", 1, 100), 1,
		     "want the ban logged as not written (no maps pinned)");
	/* the rest: greeted and served */
	session(&c, UNTRUSTED);
	deliver(&c, "alice@example.org", "bob@example.org", "Subject: ok\r\n\r\nok\r\n");
	quit(&c);
	want_classified("127.0.0.6", "R");
	want_classified("127.0.0.7", "F");
	cr_expect_eq(seen_count(0, "message", NULL, NULL), 1,
		     "messages at pool one: got %d, want 1", seen_count(0, "message", NULL, NULL));
	finish();
}

/* starttls = required for one group: MAIL before STARTTLS is refused for
 * those clients only, and accepted after it; another group on the same
 * listener is not asked for TLS; a third (off) is not even offered it. */
Test(policy_proxy, tls_required_for_one_group)
{
	struct pl_client a, b, o;
	int rc = pl_make_certs(&lab);

	cr_assert_eq(rc, 0, "making the test CA and certificate: got %d, want 0", rc);
	snprintf(ca_path, sizeof(ca_path), "%s/ca.pem", lab.tls);
	start_policy("policies = ( { name = \"STRICT\"; starttls = \"required\"; },\n"
		     "  { name = \"PLAIN\"; starttls = \"off\"; }, { name = \"DEF\"; } );\n"
		     "sender_groups = ( { name = \"S\"; policy = \"STRICT\"; networks = [ "
		     "\"127.0.0.9\" ]; },\n"
		     "  { name = \"O\"; policy = \"PLAIN\"; networks = [ \"127.0.0.10\" ]; },\n"
		     "  { name = \"D\"; policy = \"DEF\"; default = true; } );\n",
		     NULL,
		     "{ listen = \"127.0.0.1:@P0@\"; starttls = \"optional\"; pool = \"one\"; "
		     "auth_requires_tls = false; " TLS_FILES " }");
	session(&a, "127.0.0.9");
	cmd(&a, "530 5.7.0", "MAIL FROM:<alice@example.org>");
	starttls(&a);
	ehlo(&a, "client.test");
	deliver(&a, "alice@example.org", "bob@example.org", "Subject: tls\r\n\r\nover TLS\r\n");
	quit(&a);

	session(&b, UNTRUSTED);
	cr_expect(strstr(rbuf, "STARTTLS"), "optional group: EHLO got '%s', want STARTTLS offered",
		  rbuf);
	deliver(&b, "alice@example.org", "bob@example.org", "Subject: plain\r\n\r\nplain\r\n");
	quit(&b);

	session(&o, "127.0.0.10");
	cr_expect(!strstr(rbuf, "STARTTLS"), "starttls off: EHLO got '%s', want no STARTTLS", rbuf);
	cmd(&o, "5", "STARTTLS");
	deliver(&o, "alice@example.org", "bob@example.org", "Subject: off\r\n\r\nno TLS\r\n");
	quit(&o);
	cr_expect_eq(seen_count(0, "message", NULL, NULL), 3, "messages: got %d, want 3",
		     seen_count(0, "message", NULL, NULL));
	cr_expect_eq(seen_count(0, "mail", "from", "alice@example.org"), 3,
		     "MAILs the backend saw: got %d, want 3 (the refused one never reached it)",
		     seen_count(0, "mail", "from", "alice@example.org"));
	finish();
}

/* A client mapped to group:2 at the edge (mailedge-loader list add ...
 * --action group:2, real pinned maps) is served by the pool of the policy
 * of the sender group that names group:2. */
Test(policy_proxy, edge_group_selects_pool)
{
	char table[2048];
	struct pl_client a, b;

	cr_assert_eq(tenv_sh("%s --pin-dir %s init --hosts 1024 --subnets 1024 --rate-entries 1024 "
			     "--ban-entries 1024",
			     tenv_bin("mailedge-loader"), tenv_pin_dir()),
		     0, "mailedge-loader init");
	cr_assert_eq(tenv_sh("%s --pin-dir %s list add white 127.0.0.11 --action group:2",
			     tenv_bin("mailedge-loader"), tenv_pin_dir()),
		     0, "mailedge-loader list add");
	snprintf(table, sizeof(table),
		 "pin_dir = \"%s\";\n"
		 "policies = ( { name = \"SG2\"; pool = \"two\"; }, { name = \"DEF\"; } );\n"
		 "sender_groups = ( { name = \"G2\"; policy = \"SG2\"; edge = [ \"group:2\" ]; },\n"
		 "  { name = \"REST\"; policy = \"DEF\"; default = true; } );\n",
		 tenv_pin_dir());
	start_policy(table, NULL, NULL);
	cr_expect_eq(pl_log_wait(&lab, "edge maps: ", 1, 100), 1, "want the maps opened; log:\n%s",
		     proxy_log());
	session(&a, "127.0.0.11");
	deliver(&a, "alice@example.org", "bob@example.org", "Subject: g2\r\n\r\ngroup 2\r\n");
	quit(&a);
	session(&b, UNTRUSTED);
	deliver(&b, "alice@example.org", "bob@example.org", "Subject: rest\r\n\r\nthe rest\r\n");
	quit(&b);
	cr_expect_eq(seen_count(1, "message", NULL, NULL), 1, "pool two: got %d, want 1",
		     seen_count(1, "message", NULL, NULL));
	cr_expect_eq(seen_count(0, "message", NULL, NULL), 1, "pool one: got %d, want 1",
		     seen_count(0, "message", NULL, NULL));
	want_classified("127.0.0.11", "G2");
	want_classified(UNTRUSTED, "REST");
	finish();
}

/* Nothing pinned: the proxy starts, warns, and edge criteria match no one. */
Test(policy_proxy, edge_maps_missing)
{
	char table[2048];
	struct pl_client a;

	snprintf(table, sizeof(table),
		 "pin_dir = \"%s\";\n"
		 "policies = ( { name = \"NO\"; action = \"reject\"; }, { name = \"DEF\"; } );\n"
		 "sender_groups = ( { name = \"W\"; policy = \"NO\"; edge = [ \"listed\" ]; },\n"
		 "  { name = \"REST\"; policy = \"DEF\"; default = true; } );\n",
		 tenv_pin_dir());
	start_policy(table, NULL, NULL);
	cr_expect_eq(pl_log_wait(&lab, "edge criteria match no client", 1, 100), 1,
		     "want a warning about the missing maps; log:\n%s", proxy_log());
	session(&a, UNTRUSTED);
	quit(&a);
	want_classified(UNTRUSTED, "REST");
	finish();
}

/* A policy's own limits, relay and greeting: messages per session, relay
 * for a client relay_networks does not trust, a banner of its own, a greet
 * delay that catches a pre-greeter. The global limits stay for the rest. */
Test(policy_proxy, limits_relay_greeting)
{
	struct pl_client a, b, p;
	int code;

	start_policy("policies = ( { name = \"ONE\"; relay = \"yes\"; banner = \"mx.test policy "
		     "ONE\"; limits = { messages = 1; }; },\n"
		     "  { name = \"SLOW\"; greet_delay = 1500; pregreet = \"reject\"; } );\n"
		     "sender_groups = ( { name = \"A\"; policy = \"ONE\"; networks = [ "
		     "\"127.0.0.12\" ]; },\n"
		     "  { name = \"P\"; policy = \"SLOW\"; networks = [ \"127.0.0.13\" ]; } );\n",
		     NULL, NULL);
	cr_assert_eq(pl_connect(&a, "127.0.0.12", lab.port[0]), 0, "connecting: %s", a.err);
	code = pl_reply(&a, rbuf, sizeof(rbuf), 5000);
	cr_expect(code == 220 && strstr(rbuf, "mx.test policy ONE"),
		  "banner: got %d '%s', want the policy's", code, rbuf);
	ehlo(&a, "client.test");
	deliver(&a, "alice@example.org", "carol@elsewhere.example",
		"Subject: relay\r\n\r\nrelayed by policy\r\n");
	cmd(&a, "421 4.7.0", "MAIL FROM:<alice@example.org>");
	cr_expect_eq(pl_wait_close(&a, 5000), 1, "after the 421: want the connection closed");
	pl_close(&a);

	/* the default: relay denied, more than one message */
	session(&b, UNTRUSTED);
	cmd(&b, "250", "MAIL FROM:<alice@example.org>");
	cmd(&b, "554 5.7.1", "RCPT TO:<carol@elsewhere.example>");
	cmd(&b, "250", "RSET");
	deliver(&b, "alice@example.org", "bob@example.org", "Subject: 1\r\n\r\none\r\n");
	deliver(&b, "alice@example.org", "bob@example.org", "Subject: 2\r\n\r\ntwo\r\n");
	quit(&b);

	/* talks first, inside its policy's greet delay: rejected */
	cr_assert_eq(pl_connect(&p, "127.0.0.13", lab.port[0]), 0, "connecting: %s", p.err);
	cr_assert_eq(pl_send(&p, "EHLO early.test\r\n"), 0, "sending early");
	code = pl_reply(&p, rbuf, sizeof(rbuf), 5000);
	cr_expect(code == 554 && strstr(rbuf, "talking before the greeting"),
		  "pre-greeter: got %d '%s', want 554 ... talking before the greeting", code, rbuf);
	pl_close(&p);
	cr_expect_eq(seen_count(0, "rcpt", "to", "carol@elsewhere.example"), 1,
		     "relayed RCPTs at the backend: got %d, want 1 (policy ONE's)",
		     seen_count(0, "rcpt", "to", "carol@elsewhere.example"));
	cr_expect_eq(seen_count(0, "message", NULL, NULL), 3, "messages: got %d, want 3",
		     seen_count(0, "message", NULL, NULL));
	finish();
}

/* Sessions per client: a policy may allow fewer than the global limit, or
 * more; each client is held to its own. */
Test(policy_proxy, sessions_per_client)
{
	struct pl_client few[2], many[3], other[3];
	int code, i;

	start_policy("policies = ( { name = \"FEW\"; limits = { max_per_client = 1; }; },\n"
		     "  { name = \"MANY\"; limits = { max_per_client = 3; }; } );\n"
		     "sender_groups = ( { name = \"F\"; policy = \"FEW\"; networks = [ "
		     "\"127.0.0.14\" ]; },\n"
		     "  { name = \"M\"; policy = \"MANY\"; networks = [ \"127.0.0.15\" ]; } );\n",
		     LIM_DEFAULT "max_per_client = 2;", NULL);
	open_client(&few[0], "127.0.0.14");
	cr_assert_eq(pl_connect(&few[1], "127.0.0.14", lab.port[0]), 0, "connecting");
	code = pl_reply(&few[1], rbuf, sizeof(rbuf), 5000);
	cr_expect_eq(code, 421,
		     "second session of a max_per_client = 1 client: got %d '%s', want "
		     "421",
		     code, rbuf);
	for (i = 0; i < 3; i++)
		open_client(&many[i], "127.0.0.15");
	open_client(&other[0], UNTRUSTED);
	open_client(&other[1], UNTRUSTED);
	/* no group: the global limit, though accept let up to 3 in */
	cr_assert_eq(pl_connect(&other[2], UNTRUSTED, lab.port[0]), 0, "connecting");
	code = pl_reply(&other[2], rbuf, sizeof(rbuf), 5000);
	cr_expect_eq(code, 421,
		     "third session of a client of no group (global max_per_client = "
		     "2): got %d '%s', want 421",
		     code, rbuf);
	pl_close(&other[2]);
	for (i = 0; i < 3; i++)
		quit(&many[i]);
	quit(&few[0]);
	pl_close(&few[1]);
	quit(&other[0]);
	quit(&other[1]);
	finish();
}

/* SIGHUP: a new table takes the new sessions. */
Test(policy_proxy, reload_changes_groups)
{
	char conf[16384], top[4096];
	struct pl_client a, b;

	start_policy("policies = ( { name = \"TWO\"; pool = \"two\"; } );\n"
		     "sender_groups = ( { name = \"NET\"; policy = \"TWO\"; networks = [ "
		     "\"127.0.0.16\" ]; } );\n",
		     NULL, NULL);
	session(&a, "127.0.0.16");
	deliver(&a, "alice@example.org", "bob@example.org", "Subject: 1\r\n\r\nbefore\r\n");
	quit(&a);
	snprintf(top, sizeof(top), "%s%s", TOP_DEFAULT,
		 "policies = ( { name = \"NO\"; action = \"reject\"; } );\n"
		 "sender_groups = ( { name = \"NET\"; policy = \"NO\"; networks = [ "
		 "\"127.0.0.16\" ]; } );\n");
	make_conf(conf, sizeof(conf), top, NULL, LISTEN_ONE, POOLS2);
	cr_assert_eq(pl_conf_write(&lab, conf), 0, "rewriting the configuration");
	cr_assert_eq(pl_proxy_signal(&lab, SIGHUP), 0, "SIGHUP");
	cr_assert_eq(pl_log_wait(&lab, "configuration reloaded", 1, 5000), 1,
		     "want the reload done; log:\n%s", proxy_log());
	cr_assert_eq(pl_connect(&b, "127.0.0.16", lab.port[0]), 0, "connecting");
	cr_expect_eq(pl_reply(&b, rbuf, sizeof(rbuf), 5000), 554,
		     "after the reload: got '%s', want the reject policy's 554", rbuf);
	pl_close(&b);
	cr_expect_eq(seen_count(1, "message", NULL, NULL), 1, "pool two: got %d, want 1",
		     seen_count(1, "message", NULL, NULL));
	finish();
}

/* Groups that ask for the client's name: the banner waits for the FCrDNS
 * lookup, then a verified name under a domain, no PTR, and a PTR that does
 * not resolve back each land in their group; a network group before them
 * still wins. A DNS server of the test's own answers exactly these records. */
Test(policy_proxy, rdns_before_banner)
{
	static const char *const records[] = {
		"PTR 127.0.0.18 mx.trusted.example", "A mx.trusted.example 127.0.0.18",
		"PTR 127.0.0.19 liar.example",	     /* no A: not confirmed */
		"PTR 127.0.0.20 mx.trusted.example", /* resolves to .18, not .20 */
	};
	char table[4096];
	struct pl_client a, b, c;
	int code, rc;

	rc = dns_start(&dns, lab.dir, records, 4);
	cr_assert_eq(rc, 0, "starting the DNS server: got %d, want 0", rc);
	snprintf(table, sizeof(table),
		 "dns = { servers = [ \"127.0.0.1:%d\" ]; timeout = 2000; tries = 1; };\n"
		 "policies = ( { name = \"TWO\"; pool = \"two\"; },\n"
		 "  { name = \"NO\"; action = \"reject\"; reject_reply = \"554 5.7.1 no PTR\"; },\n"
		 "  { name = \"UNV\"; banner = \"mx.test unverified\"; } );\n"
		 "sender_groups = ( { name = \"NET\"; policy = \"TWO\"; networks = [ "
		 "\"127.0.0.21\" ]; },\n"
		 "  { name = \"NAMED\"; policy = \"TWO\"; hosts = [ \".trusted.example\" ]; },\n"
		 "  { name = \"NOPTR\"; policy = \"NO\"; rdns = [ \"none\" ]; },\n"
		 "  { name = \"UNVER\"; policy = \"UNV\"; rdns = [ \"unverified\" ]; } );\n",
		 dns.port);
	start_policy(table, NULL, NULL);
	session(&a, "127.0.0.18");
	deliver(&a, "alice@example.org", "bob@example.org", "Subject: n\r\n\r\nnamed\r\n");
	quit(&a);
	session(&a, "127.0.0.21");
	deliver(&a, "alice@example.org", "bob@example.org", "Subject: n\r\n\r\nnet\r\n");
	quit(&a);
	cr_assert_eq(pl_connect(&b, UNTRUSTED, lab.port[0]), 0, "connecting");
	code = pl_reply(&b, rbuf, sizeof(rbuf), 5000);
	cr_expect(code == 554 && strstr(rbuf, "no PTR"), "no PTR: got %d '%s', want 554 no PTR",
		  code, rbuf);
	pl_close(&b);
	cr_assert_eq(pl_connect(&c, "127.0.0.19", lab.port[0]), 0, "connecting");
	code = pl_reply(&c, rbuf, sizeof(rbuf), 5000);
	cr_expect(code == 220 && strstr(rbuf, "mx.test unverified"),
		  "PTR without A: got %d '%s', want the UNV banner", code, rbuf);
	pl_close(&c);
	cr_assert_eq(pl_connect(&c, "127.0.0.20", lab.port[0]), 0, "connecting");
	code = pl_reply(&c, rbuf, sizeof(rbuf), 5000);
	cr_expect(code == 220 && strstr(rbuf, "mx.test unverified"),
		  "PTR to another address: got %d '%s', want the UNV banner", code, rbuf);
	pl_close(&c);
	want_classified("127.0.0.18", "NAMED");
	want_classified("127.0.0.21", "NET");
	cr_expect_eq(seen_count(1, "message", NULL, NULL), 2, "pool two: got %d, want 2",
		     seen_count(1, "message", NULL, NULL));
	finish();
}

/* A DNS server that never answers: the banner comes once the lookup gives
 * up (timeout x tries), and the client is judged "tempfail", never "none":
 * our DNS outage is not the client's missing name (Postfix answers 450, not
 * 550, for the same reason). */
Test(policy_proxy, rdns_dead_server)
{
	char table[2048];
	struct pl_client a;
	long long t0;
	double waited;
	int port = dns_start_silent(&dns), code;

	cr_assert_gt(port, 0, "starting the silent DNS server: got %d", port);
	snprintf(
	    table, sizeof(table),
	    "dns = { servers = [ \"127.0.0.1:%d\" ]; timeout = 400; tries = 1; };\n"
	    "policies = ( { name = \"TEMP\"; banner = \"mx.test nameless\"; },\n"
	    "  { name = \"NO\"; action = \"reject\"; reject_reply = \"554 5.7.1 no PTR\"; } );\n"
	    "sender_groups = ( { name = \"T\"; policy = \"TEMP\"; rdns = [ \"tempfail\" ]; },\n"
	    "  { name = \"N\"; policy = \"NO\"; rdns = [ \"none\" ]; } );\n",
	    port);
	start_policy(table, NULL, NULL);
	t0 = now_ms();
	cr_assert_eq(pl_connect(&a, UNTRUSTED, lab.port[0]), 0, "connecting");
	code = pl_reply(&a, rbuf, sizeof(rbuf), 10000);
	waited = (double)(now_ms() - t0) / 1000.0;
	cr_expect(code == 220 && strstr(rbuf, "mx.test nameless"),
		  "got %d '%s', want the tempfail group's banner", code, rbuf);
	want_classified(UNTRUSTED, "T");
	cr_expect(waited >= 0.3 && waited < 5.0,
		  "banner after %.2f s: want it after the DNS timeout (0.4 s), and not much later",
		  waited);
	ehlo(&a, "client.test");
	quit(&a);
	finish();
}
