// SPDX-License-Identifier: GPL-2.0
/*
 * test_proxy_harvest.c - what a running mailedge-proxy does with what it
 * learns about a client: its DNSBL/DNSWL score before the banner, its invalid
 * recipients (harvest prevention, and the ban at the edge that ends a
 * harvest), its recipients per hour, and the sender and recipient
 * dictionaries, reloaded on SIGHUP.
 *
 * Each test starts the proxy (the build under test, two workers, dropping
 * root to nobody as in production) in front of fake backends. Clients differ
 * by loopback source address. The DNSBL zones are served by a real unbound
 * of the test's own (dnslab.h); the edge maps the bans go to are a real
 * pinned set in a pin directory of the test's own (mailedge-loader init),
 * removed by .fini on every exit path. Dropping a banned client's SYN is the
 * XDP program's, tested by the edgeban suite through BPF_PROG_RUN and end to
 * end in the namespace lab by ns_harvest: here the ban is read back with
 * mailedge-loader lookup and lifted with unban.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	tenv_kept_free();
}

TestSuite(proxy_harvest, .init = pxc_setup, .fini = teardown, .timeout = 60);

/* A file in the lab's directory (readable by the proxy's user). */
static void lab_file(char *path, size_t len, const char *name, const char *text)
{
	snprintf(path, len, "%s/%s", lab.dir, name);
	cr_assert_eq(pl_write_file(path, text, strlen(text)), 0, "writing %s", path);
}

/* Connect from src and time the first reply: its code, rbuf its text. */
static int banner_after(struct pl_client *c, const char *src, double *secs)
{
	long long t0 = now_ms();
	int code;

	cr_assert_eq(pl_connect(c, src, lab.port[0]), 0, "connecting from %s: %s", src, c->err);
	code = pl_reply(c, rbuf, sizeof(rbuf), 10000);
	*secs = (double)(now_ms() - t0) / 1000.0;
	return code;
}

/* "A <reversed src>.<zone> <answer>" for the DNS lab. */
static const char *listed(const char *src, const char *zone, const char *answer)
{
	char name[256], *rec = malloc(400);

	cr_assert(rec, "out of memory");
	cr_assert_eq(dns_rev_name(name, sizeof(name), src, zone), 0, "reverse name of %s", src);
	snprintf(rec, 400, "A %s %s", name, answer);
	tenv_keep(rec);
	return rec;
}

/* The pinned maps of this test's own. */
static void edge_init(void)
{
	cr_assert_eq(tenv_sh("%s --pin-dir %s init --hosts 1024 --subnets 1024 --rate-entries 1024 "
			     "--ban-entries 1024",
			     tenv_bin("mailedge-loader"), tenv_pin_dir()),
		     0, "mailedge-loader init");
}

/* mailedge-loader lookup ADDR in the test's pin directory: its output. */
static const char *edge_lookup(const char *addr)
{
	struct run r;

	tenv_run(&r, "%s --pin-dir %s lookup %s 2>&1", tenv_bin("mailedge-loader"), tenv_pin_dir(),
		 addr);
	tenv_keep_run(&r);
	return r.out;
}

/*
 * A client on a DNSBL (weight 3, a group score_min = 3 with a reject
 * policy) gets the reject banner; one on a DNSWL (weight -2, a group
 * score_max = -1 whose policy has greet_delay 0) is greeted at once, while
 * an unlisted client waits out the global greet delay.
 */
Test(proxy_harvest, dnsbl_reject_and_dnswl_fast)
{
	const char *records[2];
	char top[4096];
	struct pl_client a, b, c;
	double t;
	int code, rc;

	records[0] = listed("127.0.0.30", "bl.test", "127.0.0.2");
	records[1] = listed("127.0.0.31", "wl.test", "127.0.0.5");
	rc = dns_start(&dns, lab.dir, records, 2);
	cr_assert_eq(rc, 0, "starting the DNS server: got %d, want 0", rc);
	fake(0, NULL);
	snprintf(top, sizeof(top),
		 TOP_DEFAULT
		 "dns = { servers = [ \"127.0.0.1:%d\" ]; timeout = 2000; tries = 1; };\n"
		 "dnsbl = { sites = [ \"bl.test*3\", \"wl.test=127.0.0.[2..10]*-2\" ]; "
		 "timeout = 2000; };\n"
		 "policies = ( { name = \"BLOCK\"; action = \"reject\"; reject_reply = \"554 5.7.1 "
		 "listed at bl.test\"; },\n"
		 "  { name = \"FAST\"; greet_delay = 0; } );\n"
		 "sender_groups = ( { name = \"BLACKLIST\"; policy = \"BLOCK\"; score_min = 3; },\n"
		 "  { name = \"WHITELIST\"; policy = \"FAST\"; score_max = -1; } );\n",
		 dns.port);
	start(top, LIM_DEFAULT "greet_delay = 1500;", NULL, NULL);

	code = banner_after(&a, "127.0.0.30", &t);
	cr_expect(code == 554 && strstr(rbuf, "listed at bl.test"),
		  "DNSBL-listed client: got %d '%s', want the reject policy's 554", code, rbuf);
	cr_expect_eq(pl_wait_close(&a, 5000), 1, "after the 554: want the connection closed");
	pl_close(&a);

	code = banner_after(&b, "127.0.0.31", &t);
	cr_expect_eq(code, 220, "DNSWL-listed client: got %d '%s', want 220", code, rbuf);
	cr_expect(t < 1.0, "DNSWL-listed client greeted after %.2f s: want no greet delay (1.5 s)",
		  t);
	ehlo(&b, "client.test");
	quit(&b);

	code = banner_after(&c, UNTRUSTED, &t);
	cr_expect_eq(code, 220, "unlisted client: got %d '%s', want 220", code, rbuf);
	cr_expect(t >= 1.4, "unlisted client greeted after %.2f s: want the 1.5 s greet delay", t);
	pl_close(&c);

	cr_expect_geq(pl_log_wait(&lab, " score=3 ", 1, 2000), 1,
		      "want the listed client's dnsbl line with score=3; log:\n%s", proxy_log());
	cr_expect_geq(pl_log_wait(&lab, " score=-2 ", 1, 100), 1,
		      "want the allow-listed client's score=-2; log:\n%s", proxy_log());
	cr_expect_eq(metric_wait(3, 3000, "mailedge_dnsbl_lookups_total"), 3,
		     "mailedge_dnsbl_lookups_total: got %lld, want 3",
		     metric("mailedge_dnsbl_lookups_total"));
	/* two zones, three clients, nothing cached before: six queries */
	cr_expect_eq(metric("mailedge_dnsbl_queries_total"), 6,
		     "mailedge_dnsbl_queries_total: got %lld, want 6",
		     metric("mailedge_dnsbl_queries_total"));
	finish();
}

/* A DNS server that never answers: the banner comes after the dnsbl timeout,
 * not later (the greet delay, shorter, ran meanwhile: both count from the
 * connection), and the unanswered sites count as unlisted (the client is
 * greeted, not rejected). */
Test(proxy_harvest, dnsbl_dead_server_bounded)
{
	char top[4096];
	struct pl_client a;
	double t;
	int port = dns_start_silent(&dns), code;

	cr_assert_gt(port, 0, "starting the silent DNS server: got %d", port);
	fake(0, NULL);
	snprintf(
	    top, sizeof(top),
	    TOP_DEFAULT
	    "dns = { servers = [ \"127.0.0.1:%d\" ]; timeout = 5000; tries = 1; };\n"
	    "dnsbl = { sites = [ \"bl.test*3\", \"other.test*3\" ]; timeout = 1000; };\n"
	    "policies = ( { name = \"BLOCK\"; action = \"reject\"; } );\n"
	    "sender_groups = ( { name = \"BLACKLIST\"; policy = \"BLOCK\"; score_min = 3; } );\n",
	    port);
	start(top, LIM_DEFAULT "greet_delay = 900;", NULL, NULL);
	code = banner_after(&a, UNTRUSTED, &t);
	cr_expect_eq(code, 220, "got %d '%s', want 220 (a dead DNSBL is unlisted)", code, rbuf);
	cr_expect(t >= 1.0 && t < 1.7,
		  "banner after %.2f s: want after the dnsbl timeout (1 s), not after it "
		  "plus the greet delay (0.9 s) nor the resolver's own timeout (5 s)",
		  t);
	ehlo(&a, "client.test");
	quit(&a);
	cr_expect_eq(pl_log_wait(&lab, "timeout=yes", 1, 1000), 1,
		     "want the dnsbl line to say the lookup timed out; log:\n%s", proxy_log());
	cr_expect_eq(metric_wait(2, 3000, "mailedge_dnsbl_sites_total{outcome=\"failed\"}"), 2,
		     "failed sites: got %lld, want 2",
		     metric("mailedge_dnsbl_sites_total{outcome=\"failed\"}"));
	cr_expect_eq(metric("mailedge_dnsbl_errors_total{kind=\"timeout\"}"), 2,
		     "zones timed out: got %lld, want 2",
		     metric("mailedge_dnsbl_errors_total{kind=\"timeout\"}"));
	finish();
}

/*
 * A harvester: the backend refuses every recipient as Postfix does ("550
 * 5.1.1 ... User unknown"). With harvest_limit 20 the 21st unknown
 * recipient ends the session with 421, the client is banned at the edge
 * (mailedge-loader lookup shows the proxy's entry, though the proxy runs as
 * nobody), and a new session's RCPT gets 550 5.7.1 and 421. unban lifts
 * the ban, and the proxy does not ban again within the hour. A whitelisted
 * client that harvests is stopped too, but never banned.
 */
Test(proxy_harvest, harvester_banned_at_edge)
{
	char top[4096];
	const char *out;
	struct pl_client a, b, w;
	int code, i, unknown = 0;

	edge_init();
	cr_assert_eq(tenv_sh("%s --pin-dir %s list add white 127.0.0.41",
			     tenv_bin("mailedge-loader"), tenv_pin_dir()),
		     0, "whitelisting 127.0.0.41");
	fake(0, "--reject-rcpt '550 5.1.1 <x@example.org>: Recipient address rejected: User "
		"unknown in local recipient table'");
	snprintf(top, sizeof(top), TOP_DEFAULT "pin_dir = \"%s\";\n", tenv_pin_dir());
	start(top, LIM_DEFAULT "harvest_limit = 20; harvest_ban = \"10m\";", NULL, NULL);
	cr_expect_eq(pl_log_wait(&lab, "edge maps: ", 1, 100), 1,
		     "want the maps opened (for bans, with no edge criteria); log:\n%s",
		     proxy_log());

	session(&a, "127.0.0.40");
	cmd(&a, "250", "MAIL FROM:<h@harvest.example>");
	/* 30 unknown recipients, one at a time, until something else is said */
	unknown = unknown_rcpts(&a, "example.org", 30, &code);
	cr_expect_eq(unknown, 21,
		     "550 5.1.1 replies: got %d, want 21 (the limit, and the one "
		     "over it)",
		     unknown);
	cr_expect(code == 421 && strstr(rbuf, "4.7.0"),
		  "past harvest_limit: got %d '%s', want 421 4.7.0; log:\n%s", code, rbuf,
		  proxy_log());
	cr_expect_eq(pl_wait_close(&a, 5000), 1, "after the 421: want the connection closed");
	pl_close(&a);
	cr_expect_eq(pl_log_wait(&lab, "result=banned", 1, 3000), 1,
		     "want the ban written to the edge; log:\n%s", proxy_log());
	out = edge_lookup("127.0.0.40");
	cr_expect(strstr(out, "proxy"), "lookup 127.0.0.40: got '%s', want the proxy's ban", out);

	/* still over the limit (a sliding hour): refused at the first RCPT */
	session(&b, "127.0.0.40");
	cmd(&b, "250", "MAIL FROM:<h@harvest.example>");
	cmd(&b, "550 5.7.1", "RCPT TO:<again@example.org>");
	code = pl_reply(&b, rbuf, sizeof(rbuf), 5000);
	cr_expect_eq(code, 421, "after the 550 5.7.1: got %d '%s', want 421", code, rbuf);
	pl_close(&b);

	cr_expect_eq(tenv_sh("%s --pin-dir %s unban 127.0.0.40", tenv_bin("mailedge-loader"),
			     tenv_pin_dir()),
		     0, "mailedge-loader unban");
	out = edge_lookup("127.0.0.40");
	cr_expect(!strstr(out, "proxy"), "lookup after unban: got '%s', want no proxy ban", out);
	/* still over the limit: refused again, but the admin's unban holds */
	session(&b, "127.0.0.40");
	cmd(&b, "250", "MAIL FROM:<h@harvest.example>");
	cmd(&b, "550 5.7.1", "RCPT TO:<again@example.org>");
	code = pl_reply(&b, rbuf, sizeof(rbuf), 5000);
	cr_expect_eq(code, 421, "after the unban, still over: got %d '%s', want 421", code, rbuf);
	pl_close(&b);
	out = edge_lookup("127.0.0.40");
	cr_expect(!strstr(out, "proxy"),
		  "lookup after unban and a new session: got '%s', want "
		  "no proxy ban (not banned again)",
		  out);

	/* whitelisted at the edge: stopped, not banned */
	session(&w, "127.0.0.41");
	cmd(&w, "250", "MAIL FROM:<h@harvest.example>");
	for (i = 0; i < 21; i++)
		cmd(&w, "550 5.1.1", "RCPT TO:<user%d@example.org>", i);
	code = pl_reply(&w, rbuf, sizeof(rbuf), 5000);
	cr_expect_eq(code, 421, "whitelisted harvester: got %d '%s', want 421", code, rbuf);
	pl_close(&w);
	cr_expect_eq(pl_log_wait(&lab, "result=whitelisted", 1, 3000), 1,
		     "want the whitelisted client not banned; log:\n%s", proxy_log());
	out = edge_lookup("127.0.0.41");
	cr_expect(!strstr(out, "proxy"), "lookup 127.0.0.41: got '%s', want no proxy ban", out);
	/* one ban, when the limit was crossed; the later sessions wrote none */
	cr_expect_eq(metric("mailedge_edge_bans_total{result=\"ok\"}"), 1,
		     "edge bans: got %lld, want 1",
		     metric("mailedge_edge_bans_total{result=\"ok\"}"));
	cr_expect_eq(metric("mailedge_edge_bans_total{result=\"error\"}"), 0,
		     "failed edge bans: got %lld, want 0 (whitelisted is no failure); log:\n%s",
		     metric("mailedge_edge_bans_total{result=\"error\"}"), proxy_log());
	finish();
}

/*
 * Dictionaries: a blocked sender (its own reply, and the default one for a
 * domain entry), a blocked recipient, and valid_recipients refusing an
 * unknown user of a relay domain from the proxy itself (the backend never
 * hears it), while other domains are not its business. A changed
 * valid_recipients file takes effect for new sessions after SIGHUP; a bad
 * one is refused with its file and line, and the running one stays.
 */
Test(proxy_harvest, dictionaries_and_reload)
{
	char top[4096], senders[256], rcpts[256], valid[256];
	struct pl_client a, b, c;

	lab_file(senders, sizeof(senders), "senders",
		 "# blocked senders\nspammer@bad.example 550 5.7.1 You are blocked\n"
		 "@junk.example\n");
	lab_file(rcpts, sizeof(rcpts), "rcpts", "ceo@example.org 550 5.7.1 Not from outside\n");
	lab_file(valid, sizeof(valid), "valid", "bob@example.org\nalice@example.org\n");
	fake(0, NULL);
	snprintf(top, sizeof(top),
		 TOP_DEFAULT "sender_dict = \"%s\";\nrecipient_dict = \"%s\";\n"
			     "valid_recipients = \"%s\";\n",
		 senders, rcpts, valid);
	start(top, NULL, NULL, NULL);

	session(&a, TRUSTED);
	cmd(&a, "550 5.7.1 You are blocked", "MAIL FROM:<spammer@bad.example>");
	cmd(&a, "550 5.7.1 Sender address rejected", "MAIL FROM:<anyone@junk.example>");
	cmd(&a, "250", "MAIL FROM:<alice@example.org>");
	cmd(&a, "550 5.7.1 Not from outside", "RCPT TO:<ceo@example.org>");
	cmd(&a, "550 5.1.1", "RCPT TO:<nobody@example.org>");
	cmd(&a, "250", "RCPT TO:<bob@example.org>");
	/* a trusted client relaying elsewhere: not the dictionary's to judge */
	cmd(&a, "250", "RCPT TO:<carol@elsewhere.example>");
	cmd(&a, "250", "RSET");
	quit(&a);

	/* add nobody@, SIGHUP: new sessions know it */
	lab_file(valid, sizeof(valid), "valid", "bob@example.org\nnobody@example.org\n");
	cr_assert_eq(pl_proxy_signal(&lab, SIGHUP), 0, "SIGHUP");
	cr_assert_eq(pl_log_wait(&lab, "configuration reloaded", 1, 5000), 1,
		     "want the reload done; log:\n%s", proxy_log());
	session(&b, UNTRUSTED);
	cmd(&b, "250", "MAIL FROM:<x@example.net>");
	cmd(&b, "250", "RCPT TO:<nobody@example.org>");
	cmd(&b, "550 5.1.1", "RCPT TO:<alice@example.org>");
	quit(&b);

	/* a bad line: the reload is refused, naming the file and line */
	lab_file(valid, sizeof(valid), "valid", "bob@example.org\n\nbad@ 250 fine\n");
	cr_assert_eq(pl_proxy_signal(&lab, SIGHUP), 0, "SIGHUP");
	snprintf(msg, sizeof(msg), "%s:3:", valid);
	cr_expect_eq(pl_log_wait(&lab, msg, 1, 5000), 1,
		     "want the reload refused with '%s'; log:\n%s", msg, proxy_log());
	session(&c, UNTRUSTED);
	cmd(&c, "250", "MAIL FROM:<x@example.net>");
	cmd(&c, "250", "RCPT TO:<nobody@example.org>");
	quit(&c);
	cr_expect_eq(seen_count(0, "rcpt", "to", "alice@example.org"), 0,
		     "the backend heard of alice@ %d times: want 0 (refused by the proxy)",
		     seen_count(0, "rcpt", "to", "alice@example.org"));
	cr_expect_eq(seen_count(0, "mail", "from", "spammer@bad.example"), 0,
		     "the backend heard of the blocked sender: want not");
	/* nobody@ before the reload, alice@ after: counted for harvest_limit */
	cr_expect_eq(metric("mailedge_invalid_recipients_total"), 2,
		     "invalid recipients: got %lld, want 2",
		     metric("mailedge_invalid_recipients_total"));
	cr_expect_eq(metric("mailedge_rejects_total{reason=\"sender_dict\"}"), 2,
		     "sender_dict rejects: got %lld, want 2",
		     metric("mailedge_rejects_total{reason=\"sender_dict\"}"));
	finish();
}

/* -t names a missing dictionary file and exits 2. */
Test(proxy_harvest, missing_dictionary_is_config_error)
{
	char conf[4096], path[256];
	struct run r;

	snprintf(conf, sizeof(conf),
		 "hostname = \"mx.test\";\nvalid_recipients = \"%s/none.txt\";\n"
		 "listeners = ( { listen = \"127.0.0.1:2525\"; } );\n"
		 "pools = ( { name = \"p\"; members = ( \"127.0.0.1:25\" ); } );\n",
		 lab.dir);
	lab_file(path, sizeof(path), "t.conf", conf);
	tenv_run(&r, "%s -t -c %s", tenv_bin("mailedge-proxy"), path);
	tenv_keep_run(&r);
	cr_expect_eq(r.status, 2, "-t with a missing dictionary: got status %d, want 2", r.status);
	cr_expect(strstr(r.err, "valid_recipients") && strstr(r.err, "none.txt"),
		  "got '%s', want the key and the file named", r.err);
}

/* recipients_per_hour counts a client's accepted recipients across its
 * sessions (and workers); another client has its own count. */
Test(proxy_harvest, recipients_per_hour_across_sessions)
{
	struct pl_client a, b, c;

	fake(0, NULL);
	start(NULL, LIM_DEFAULT "recipients_per_hour = 3;", NULL, NULL);
	session(&a, "127.0.0.50");
	cmd(&a, "250", "MAIL FROM:<alice@example.org>");
	cmd(&a, "250", "RCPT TO:<bob@example.org>");
	cmd(&a, "250", "RCPT TO:<carol@example.org>");
	quit(&a);
	session(&b, "127.0.0.50");
	cmd(&b, "250", "MAIL FROM:<alice@example.org>");
	cmd(&b, "250", "RCPT TO:<dave@example.org>");
	cmd(&b, "452 4.5.3", "RCPT TO:<erin@example.org>");
	quit(&b);
	session(&c, UNTRUSTED);
	cmd(&c, "250", "MAIL FROM:<alice@example.org>");
	cmd(&c, "250", "RCPT TO:<erin@example.org>");
	quit(&c);
	cr_expect_eq(metric("mailedge_rejects_total{reason=\"recipients_per_hour\"}"), 1,
		     "recipients_per_hour rejects: got %lld, want 1",
		     metric("mailedge_rejects_total{reason=\"recipients_per_hour\"}"));
	finish();
}
