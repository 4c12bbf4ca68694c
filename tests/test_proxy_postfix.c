// SPDX-License-Identifier: GPL-2.0
/*
 * test_proxy_postfix.c - mailedge-proxy in front of a real Postfix (Debian
 * 12's 3.7, tests/lib/pfxlab.c), where a fake backend would only say what
 * the test's author believes Postfix does:
 *
 *   - SMTP smuggling through bare_newline = normalize (no forged second
 *     message is ever queued);
 *   - PROXY v1/v2 health checks and sessions Postfix accepts;
 *   - XCLIENT with the client's HELO and its verified name;
 *   - TLS to the members: STARTTLS or implicit, verified against a test CA,
 *     and the members that cannot pass said to be down, and why.
 *
 * What Postfix did is read from its maillog ("qmgr ... from=<...>" for every
 * message queued, "NOQUEUE: reject" lines with helo=<...>).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>

#include "lib/dnslab.h"
#include "lib/pfxlab.h"
#include "lib/proxylab.h"
#include "lib/pxcase.h"
#include "lib/traffic.h"

static struct pfx pfx;
static struct dns_lab dns;

static void setup(void)
{
	pxc_setup();
	memset(&pfx, 0, sizeof(pfx));
	memset(&dns, 0, sizeof(dns));
}

static void teardown(void)
{
	pfx_stop(&pfx);
	dns_stop(&dns);
	pxc_teardown();
}

TestSuite(proxy_postfix, .init = setup, .fini = teardown, .timeout = 90);

static void postfix(const struct pfx_opts *o)
{
	int rc = pfx_start(&pfx, lab.dir, o);

	cr_assert_eq(rc, 0, "starting Postfix: got %d, want 0 (the reason is on stderr)", rc);
}

/* A pool of the one Postfix, with pool settings extra. */
static void pool_conf(char *out, size_t len, const char *extra)
{
	snprintf(out, len,
		 "{ name = \"pf\"; members = ( \"127.0.0.1:%d\" ); %s "
		 "health = { interval = 300; timeout = 2000; rise = 1; fall = 1; }; }",
		 pfx.port, extra ? extra : "");
}

static char *maillog(void)
{
	char *m = pfx_log(&pfx);

	return m ? m : strdup("");
}

/* Messages Postfix queued from this sender (qmgr logs each once). */
static int queued_from(const char *sender)
{
	char needle[300];
	char *m = maillog();
	int n;

	snprintf(needle, sizeof(needle), "from=<%s>, size=", sender);
	n = pl_count_str(m, needle);
	free(m);
	return n;
}

/* ---- defect: normalize was a smuggling receiver ---- */

/* Every bare-CR/LF end-of-data vector, in normalize mode, through real
 * Postfix: the carrier message is queued once (with the smuggled text inside
 * it), the smuggler's is never; a NUL still fails the message. */
Test(proxy_postfix, smuggling_normalize)
{
	static const struct {
		const char *name, *end;
		size_t len;
		int nul;
	} v[] = {
#define V(n, s, nul) { n, s, sizeof(s) - 1, nul }
		V("LF.LF", "\n.\n", 0),		  V("CR.CR", "\r.\r", 0),
		V("LF.CRLF", "\n.\r\n", 0),	  V("CRLF.LF", "\r\n.\n", 0),
		V("CRLF.CR", "\r\n.\r", 0),	  V("CR.CRLF", "\r.\r\n", 0),
		V("LF.CR", "\n.\r", 0),		  V("CRLF.CR CRLF", "\r\n.\r\r\n", 0),
		V("NUL.", "\r\n\0.\r\n", 1),	  V(".NUL", "\r\n.\0\r\n", 1),
		V("CRLF.CR NUL", "\r\n.\r\0", 1),
#undef V
	};
	char pools[512], body[1024];
	int carriers = 0;

	postfix(NULL);
	pool_conf(pools, sizeof(pools), NULL);
	start(TOP_DEFAULT "bare_newline = \"normalize\";\n", NULL, NULL, pools);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		static const char smuggled[] =
		    "MAIL FROM:<smuggler@evil.example>\r\nRCPT TO:<victim@example.org>\r\n"
		    "DATA\r\nFrom: ceo@example.org\r\nSubject: smuggled\r\n\r\nwire money\r\n";
		struct pl_client c;
		size_t n = 0;

		session(&c, UNTRUSTED);
		start_data(&c, "carrier@example.org", "bob@example.org");
		n += (size_t)snprintf(body, sizeof(body), "Subject: carrier %zu\r\n\r\nhello", i);
		memcpy(body + n, v[i].end, v[i].len);
		n += v[i].len;
		memcpy(body + n, smuggled, sizeof(smuggled) - 1);
		n += sizeof(smuggled) - 1;
		memcpy(body + n, "\r\n.\r\n", 5);
		n += 5;
		pl_write(&c, body, n);
		snprintf(msg, sizeof(msg), "%s: the end of the carrier", v[i].name);
		expect(&c, v[i].nul ? "550 5.6.0" : "250 2.0.0", msg);
		carriers += !v[i].nul;
		quit(&c);
	}
	/* A last message behind them all: once it is queued, so is anything
	 * the vectors could have made Postfix queue. */
	{
		struct pl_client c;

		session(&c, UNTRUSTED);
		deliver(&c, "sentinel@example.org", "bob@example.org",
			"Subject: last\r\n\r\nx\r\n");
		quit(&c);
	}
	cr_assert_eq(pfx_log_wait(&pfx, "from=<sentinel@example.org>, size=", 1, 10000), 1,
		     "the sentinel message: got none queued, want 1");
	cr_assert_eq(pfx_log_wait(&pfx, "from=<carrier@example.org>, size=", carriers, 10000),
		     carriers, "carriers Postfix queued: got %d, want %d",
		     queued_from("carrier@example.org"), carriers);
	cr_assert_eq(queued_from("smuggler@evil.example"), 0,
		     "forged messages Postfix queued from the smuggler: got %d, want 0",
		     queued_from("smuggler@evil.example"));
	finish();
}

/* ---- defect: proxy-v1 health checks sent PROXY UNKNOWN ---- */

/* A pool that passes the client with PROXY v1 or v2 to a Postfix that wants
 * it: checks pass (the member is up), sessions go through, and Postfix logs
 * the real client. */
static void proxy_pool_up(const char *version)
{
	struct pfx_opts o = { .proxy_protocol = 1 };
	char pools[512], extra[64], needle[64];
	struct pl_client c;

	postfix(&o);
	snprintf(extra, sizeof(extra), "pass_client = \"%s\";", version);
	pool_conf(pools, sizeof(pools), extra);
	start(NULL, NULL, NULL, pools);
	session(&c, UNTRUSTED);
	deliver(&c, "alice@example.org", "bob@example.org", "Subject: proxied\r\n\r\nx\r\n");
	quit(&c);
	snprintf(needle, sizeof(needle), "connect from unknown[%s]", UNTRUSTED);
	cr_assert_geq(pfx_log_wait(&pfx, needle, 1, 5000), 1,
		      "%s: Postfix did not see the client %s; maillog:\n%s", version, UNTRUSTED,
		      pfx_log(&pfx));
	/* Several checks by now (every 300 ms), none refused. */
	usleep(1000 * 1000);
	snprintf(needle, sizeof(needle), "mailedge_backend_up{pool=\"pf\",member=\"127.0.0.1:%d\"}",
		 pfx.port);
	cr_assert_eq(metric("%s", needle), 1, "%s: the member is down: its checks were refused",
		     version);
	cr_assert_eq(pfx_log_wait(&pfx, "haproxy read", 1, 0), 0,
		     "%s: Postfix refused a header; maillog:\n%s", version, pfx_log(&pfx));
	finish();
}

Test(proxy_postfix, proxy_v1_checks_accepted)
{
	proxy_pool_up("proxy-v1");
}

Test(proxy_postfix, proxy_v2_checks_accepted)
{
	proxy_pool_up("proxy-v2");
}

/* ---- defect: XCLIENT sent our name, never the client's ---- */

/* After XCLIENT, Postfix knows the client by its verified name and the HELO
 * it gave (the proxy's second EHLO is the client's); a name that does not
 * resolve back is not passed as verified. */
Test(proxy_postfix, xclient_names_the_client)
{
	static const char *const records[] = {
		"PTR 127.0.0.3 client.test",
		"A client.test 127.0.0.3",
		"PTR 127.0.0.4 liar.test",
		"A liar.test 127.0.0.99",
	};
	struct pfx_opts o = {
		.xclient = 1,
		.extra_main_cf =
		    "smtpd_recipient_restrictions = check_recipient_access "
		    "inline:{ { probe@example.org = REJECT probe } }, permit_mynetworks, "
		    "reject_unauth_destination",
	};
	char pools[512], top[512], *m;
	struct pl_client c;
	int rc;

	rc = dns_start(&dns, lab.dir, records, 4);
	cr_assert_eq(rc, 0, "starting the DNS lab: got %d", rc);
	postfix(&o);
	pool_conf(pools, sizeof(pools), "pass_client = \"xclient\";");
	snprintf(top, sizeof(top),
		 TOP_DEFAULT "dns = { servers = [ \"127.0.0.1:%d\" ]; timeout = 500; };\n",
		 dns.port);
	start(top, NULL, NULL, pools);
	wait_cap("PIPELINING");
	for (int k = 0; k < 2; k++) {
		open_client(&c, k ? "127.0.0.4" : UNTRUSTED);
		cmd(&c, "250", "EHLO %s", k ? "helo.liar.test" : "helo.client.test");
		cmd(&c, "250", "MAIL FROM:<alice@example.org>");
		cmd(&c, "554 5.7.1", "RCPT TO:<probe@example.org>");
		quit(&c);
	}
	pfx_log_wait(&pfx, "NOQUEUE: reject", 2, 5000);
	m = maillog();
	cr_assert(strstr(m, "RCPT from client.test[127.0.0.3]") &&
		      strstr(m, "helo=<helo.client.test>"),
		  "verified client: want 'client.test[127.0.0.3]' and its HELO in:\n%s", m);
	cr_assert(strstr(m, "RCPT from unknown[127.0.0.4]") && strstr(m, "helo=<helo.liar.test>"),
		  "unverified client: want 'unknown[127.0.0.4]' and its HELO in:\n%s", m);
	cr_assert_null(strstr(m, "helo=<mx.test>"), "Postfix saw the proxy's HELO:\n%s", m);
	free(m);
	finish();
}

/* ---- TLS to the members ---- */

static void tls_postfix(int wrapper)
{
	struct pfx_opts o = { .tls_wrapper = wrapper };
	static char cert[300], key[300];

	snprintf(cert, sizeof(cert), "%s/mx-ec.pem", pki());
	snprintf(key, sizeof(key), "%s/mx-ec.key", pki());
	o.tls_cert = cert;
	o.tls_key = key;
	postfix(&o);
}

static void down_because(const char *reason)
{
	char series[256];
	long long v;

	snprintf(series, sizeof(series),
		 "mailedge_backend_down_reason{pool=\"pf\",member=\"127.0.0.1:%d\",reason=\"%s\"}",
		 pfx.port, reason);
	v = metric_wait(1, 5000, series);
	cr_assert_eq(v, 1, "%s: got %lld, want 1; log:\n%s", series, v, proxy_log());
}

/* verify: the member's certificate checks against the test root for its
 * address (no backend_tls_name: 127.0.0.1, which the certificate carries),
 * and mail goes through inside TLS. */
Test(proxy_postfix, backend_tls_verify)
{
	char pools[1024], extra[512];
	struct pl_client c;

	tls_postfix(0);
	snprintf(extra, sizeof(extra),
		 "backend_tls = \"verify\"; backend_tls_ca = \"%s/root.pem\";", pki());
	pool_conf(pools, sizeof(pools), extra);
	start(NULL, NULL, NULL, pools);
	session(&c, UNTRUSTED);
	deliver(&c, "alice@example.org", "bob@example.org", "Subject: tls\r\n\r\ninside\r\n");
	quit(&c);
	cr_assert_geq(
	    pfx_log_wait(&pfx, "TLS connection established from unknown[127.0.0.1]", 1, 5000), 1,
	    "no TLS at Postfix; maillog:\n%s", pfx_log(&pfx));
	cr_assert_eq(pfx_log_wait(&pfx, "from=<alice@example.org>, size=", 1, 5000), 1,
		     "the message was not queued; maillog:\n%s", pfx_log(&pfx));
	finish();
}

/* verify with the wrong name: the member is down, "tls_verify" says why, and
 * a client hears 451 rather than mail going out unverified. */
Test(proxy_postfix, backend_tls_verify_refuses_wrong_name)
{
	char pools[1024], extra[512];
	struct pl_client c;

	tls_postfix(0);
	snprintf(extra, sizeof(extra),
		 "backend_tls = \"verify\"; backend_tls_ca = \"%s/root.pem\"; "
		 "backend_tls_name = \"wrong.test\";",
		 pki());
	pool_conf(pools, sizeof(pools), extra);
	start(NULL, NULL, NULL, pools);
	down_because("tls_verify");
	cr_assert_geq(pl_log_wait(&lab, "certificate verify failed", 1, 3000), 1,
		      "the log does not say why; log:\n%s", proxy_log());
	session(&c, UNTRUSTED);
	cmd(&c, "451 4.4.1", "MAIL FROM:<alice@example.org>");
	quit(&c);
	cr_assert_eq(queued_from("alice@example.org"), 0, "mail went out unverified");
	finish();
}

/* verify against a CA that did not sign the member: down, tls_verify. */
Test(proxy_postfix, backend_tls_verify_refuses_unknown_ca)
{
	char pools[1024], extra[512], *out = NULL;
	int st;

	tls_postfix(0);
	st = pl_sh(&out, 20000,
		   "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
		   "-subj /CN=another-ca -keyout %s/other-ca.key -out %s/other-ca.pem 2>&1",
		   lab.dir, lab.dir);
	cr_assert_eq(st, 0, "making another CA: got status %d, want 0: %s", st, out);
	free(out);
	snprintf(extra, sizeof(extra),
		 "backend_tls = \"verify\"; backend_tls_ca = \"%s/other-ca.pem\";", lab.dir);
	pool_conf(pools, sizeof(pools), extra);
	start(NULL, NULL, NULL, pools);
	down_because("tls_verify");
	finish();
}

/* required, and the member offers no STARTTLS: down, "starttls". */
Test(proxy_postfix, backend_tls_required_without_tls)
{
	char pools[1024];

	postfix(NULL);
	pool_conf(pools, sizeof(pools), "backend_tls = \"required\";");
	start(NULL, NULL, NULL, pools);
	down_because("starttls");
	finish();
}

/* optional, and no STARTTLS offered: plaintext, and the mail goes. */
Test(proxy_postfix, backend_tls_optional_without_tls)
{
	char pools[1024];
	struct pl_client c;

	postfix(NULL);
	pool_conf(pools, sizeof(pools), "backend_tls = \"optional\";");
	start(NULL, NULL, NULL, pools);
	session(&c, UNTRUSTED);
	deliver(&c, "plain@example.org", "bob@example.org", "Subject: plain\r\n\r\nx\r\n");
	quit(&c);
	cr_assert_eq(pfx_log_wait(&pfx, "from=<plain@example.org>, size=", 1, 5000), 1,
		     "optional TLS, no TLS offered: the message was not queued");
	finish();
}

/* Implicit TLS to a member on a wrapper-mode port (465), verified. */
Test(proxy_postfix, backend_tls_implicit)
{
	char pools[1024], extra[512];
	struct pl_client c;

	tls_postfix(1);
	snprintf(extra, sizeof(extra),
		 "backend_tls = \"verify\"; backend_tls_implicit = true; backend_tls_ca = "
		 "\"%s/root.pem\"; backend_tls_name = \"mx.test\";",
		 pki());
	pool_conf(pools, sizeof(pools), extra);
	start(NULL, NULL, NULL, pools);
	session(&c, UNTRUSTED);
	deliver(&c, "wrapped@example.org", "bob@example.org", "Subject: 465\r\n\r\nx\r\n");
	quit(&c);
	cr_assert_eq(pfx_log_wait(&pfx, "from=<wrapped@example.org>, size=", 1, 5000), 1,
		     "implicit TLS: the message was not queued; maillog:\n%s", pfx_log(&pfx));
	finish();
}

/*
 * A tcp listener (TLS offload) in front of an implicit-TLS Postfix: a client
 * that speaks first, one TLS record bigger than a read (10 kB), arrives while
 * the tunnel still waits for the member's TLS handshake, so it is paused with
 * most of the record decrypted inside OpenSSL. Once the member is up, all of
 * it must go on (Postfix answers the line), not wait for the client to send
 * more.
 */
Test(proxy_postfix, tunnel_first_record_larger_than_a_read)
{
	static char line[10000];
	char top[1024], ls[256], pools[1024], extra[512];
	const char *d = pki();
	struct pl_client c;
	int rc;

	tls_postfix(1);
	snprintf(top, sizeof(top),
		 TOP_DEFAULT "tls = ( { name = \"mx\"; cert = \"%s/mx-ec.pem\"; key = "
			     "\"%s/mx-ec.key\"; } );\n",
		 d, d);
	snprintf(ls, sizeof(ls),
		 "{ listen = \"127.0.0.1:@P0@\"; protocol = \"tcp\"; tls_profile = \"mx\"; pool = "
		 "\"pf\"; }");
	snprintf(extra, sizeof(extra),
		 "check = \"connect\"; backend_tls = \"optional\"; backend_tls_implicit = true;");
	pool_conf(pools, sizeof(pools), extra);
	start(top, NULL, ls, pools);
	rc = pl_connect(&c, UNTRUSTED, lab.port[0]);
	cr_assert_eq(rc, 0, "connect: %s", c.err);
	cr_assert_eq(pl_tls(&c, NULL, 0), 0, "handshake with the proxy: %s", c.err);
	memset(line, 'x', sizeof(line));
	memcpy(line, "NOOP ", 5);
	memcpy(line + sizeof(line) - 2, "\r\n", 2);
	cr_assert_eq(pl_write(&c, line, sizeof(line)), 0, "writing the record");
	rc = pl_reply(&c, rbuf, sizeof(rbuf), 5000);
	cr_assert_eq(rc, 220, "the member's greeting through the tunnel: got %d '%s'", rc, rbuf);
	rc = pl_reply(&c, rbuf, sizeof(rbuf), 5000);
	cr_assert(rc >= 200 && rc < 600,
		  "Postfix's answer to the 10 kB line: got %d '%s', want a reply (the line "
		  "whole)",
		  rc, rbuf);
	pl_close(&c);
	finish();
}
