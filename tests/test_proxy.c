// SPDX-License-Identifier: GPL-2.0
/*
 * test_proxy.c - mailedge-proxy end to end, with real peers on loopback.
 *
 * Every test starts its own proxy (the build under test, ASan in build/san),
 * with a configuration written for it, in front of its own backends: fake
 * ones (tests/lib/fakesmtp.py, which logs every byte it receives as JSON lines
 * so a test can prove what a backend did and did not see) or Postfix's
 * smtp-sink with dump directories. Clients are a raw-socket SMTP client
 * (tests/lib/proxylab.c: exact bytes, exact writes, TLS through OpenSSL),
 * swaks, openssl s_client, and fakesmtp.py's load client.
 *
 * Trusted and untrusted clients differ by source address: the whole of
 * 127.0.0.0/8 is loopback, relay_networks trusts 127.0.0.2 only, and the
 * untrusted client comes from 127.0.0.3.
 *
 * Every test ends with finish(): SIGTERM, the proxy must exit 0 and its
 * stderr must hold no sanitizer report. .fini kills whatever is left and
 * removes the test's directory (PL_KEEP=1 keeps it, for debugging).
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <json-c/json.h>
#include <openssl/evp.h>

#include "lib/proxylab.h"
#include "lib/pxcase.h"
#include "lib/testenv.h"
#include "lib/traffic.h"

TestSuite(proxy, .init = pxc_setup, .fini = pxc_teardown, .timeout = 40);
TestSuite(proxy_cfg, .init = pxc_setup, .fini = pxc_teardown, .timeout = 30);
TestSuite(proxy_tls, .init = pxc_setup, .fini = pxc_teardown, .timeout = 40);
TestSuite(proxy_pool, .init = pxc_setup, .fini = pxc_teardown, .timeout = 60);
TestSuite(proxy_load, .init = pxc_setup, .fini = pxc_teardown, .timeout = 120);

/* ====================================================================== */
/* Relay control: the truth table                                          */
/* ====================================================================== */

enum { CL_TRUSTED, CL_UNTRUSTED, CL_AUTH };

struct relay_case {
	int sender_local, rcpt_local, client;
};

static const struct relay_case relay_cases[] = {
	{ 1, 1, CL_TRUSTED },	{ 1, 0, CL_TRUSTED },	{ 0, 1, CL_TRUSTED },
	{ 0, 0, CL_TRUSTED },	{ 1, 1, CL_UNTRUSTED }, { 1, 0, CL_UNTRUSTED },
	{ 0, 1, CL_UNTRUSTED }, { 0, 0, CL_UNTRUSTED }, { 1, 1, CL_AUTH },
	{ 1, 0, CL_AUTH },	{ 0, 1, CL_AUTH },	{ 0, 0, CL_AUTH },
};

ParameterizedTestParameters(proxy, relay_truth_table)
{
	return cr_make_param_array(struct relay_case, relay_cases,
				   sizeof(relay_cases) / sizeof(relay_cases[0]));
}

/* The sender plays no part; a foreign recipient needs a trusted or an
 * authenticated client; and a refused recipient never reaches the backend. */
ParameterizedTest(const struct relay_case *t, proxy, relay_truth_table)
{
	static const char *const who[] = { "trusted", "untrusted", "authenticated" };
	const char *from = t->sender_local ? "alice@example.org" : "mallory@foreign.example";
	const char *to = t->rcpt_local ? "bob@example.org" : "carol@elsewhere.example";
	int allowed = t->rcpt_local || t->client != CL_UNTRUSTED;
	struct pl_client c;
	char what[256];

	snprintf(what, sizeof(what), "%s client, sender %s, recipient %s", who[t->client], from,
		 to);
	fake(0, "--auth user:secret");
	start(NULL, NULL, NULL, NULL);
	if (t->client == CL_AUTH)
		wait_cap("AUTH");
	session(&c, t->client == CL_TRUSTED ? TRUSTED : UNTRUSTED);
	if (t->client == CL_AUTH)
		cmd(&c, "235", "AUTH PLAIN %s", b64_plain("user", "secret"));
	cmd(&c, "250", "MAIL FROM:<%s>", from);
	cr_assert_eq(pl_send(&c, "RCPT TO:<%s>\r\n", to), 0, "sending RCPT");
	pl_reply(&c, rbuf, sizeof(rbuf), 10000);
	cr_assert(starts(rbuf, allowed ? "250" : "554 5.7.1"), "%s: RCPT got '%s', want '%s'", what,
		  rbuf, allowed ? "250" : "554 5.7.1 ... Relay access denied");
	if (allowed) {
		cmd(&c, "354", "DATA");
		body(&c, "Subject: relay\r\n\r\nrelay table\r\n", "250");
	} else {
		cmd(&c, "554 5.5.1", "DATA"); /* no valid recipients */
	}
	quit(&c);
	cr_assert_eq(seen_count(0, "rcpt", "to", to), allowed,
		     "%s: RCPTs for %s the backend saw: got %d, want %d", what, to,
		     seen_count(0, "rcpt", "to", to), allowed);
	cr_assert_eq(seen_count(0, "message", NULL, NULL), allowed,
		     "%s: messages the backend got: got %d, want %d", what,
		     seen_count(0, "message", NULL, NULL), allowed);
	finish();
}

/* Around the table: subdomains, postmaster, case, a trailing dot, source
 * routes; a refused address costs an error but not the transaction. */
Test(proxy, relay_domain_matching)
{
	static const struct {
		const char *rcpt, *want, *at_backend;
	} cases[] = {
		{ "bob@example.org", "250", "bob@example.org" },
		{ "BOB@EXAMPLE.ORG", "250", "BOB@EXAMPLE.ORG" },
		{ "bob@example.org.", "501 5.1.3", NULL }, /* RFC 5321 Domain: no final dot */
		{ "x@a.sub.example.org", "250", "x@a.sub.example.org" },
		{ "x@sub.example.org", "554 5.7.1", NULL }, /* ".sub" is its subdomains only */
		{ "x@notexample.org", "554 5.7.1", NULL },
		{ "x@example.org.evil.example", "554 5.7.1", NULL },
		{ "postmaster", "250", "postmaster" },
		{ "@example.org:carol@elsewhere.example", "554 5.7.1", NULL }, /* source route */
	};
	struct pl_client c;
	json_object *a;
	size_t i;

	fake(0, NULL);
	start(NULL, NULL, NULL, NULL);
	session(&c, UNTRUSTED);
	cmd(&c, "250", "MAIL FROM:<alice@example.net>");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cmd(&c, cases[i].want, "RCPT TO:<%s>", cases[i].rcpt);
	cmd(&c, "354", "DATA");
	body(&c, "Subject: domains\r\n\r\nx\r\n", "250");
	quit(&c);
	a = seen(0); /* the session is over: what the backend saw stays as it is */
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *to = cases[i].at_backend;
		size_t k, n = json_object_array_length(a);
		int hits = 0;

		for (k = 0; k < n; k++) {
			json_object *o = json_object_array_get_idx(a, k);

			if (!strcmp(field(o, "ev"), "rcpt") &&
			    !strcmp(field(o, "to"), to ? to : "(none)"))
				hits++;
		}
		cr_assert_eq(hits, to ? 1 : 0, "RCPT TO:<%s>: the backend saw it %d times, want %d",
			     cases[i].rcpt, hits, to ? 1 : 0);
	}
	json_object_put(a);
	cr_assert_eq(seen_count(0, "rcpt", NULL, NULL), 4,
		     "RCPTs at the backend: got %d, want 4 (the accepted ones only)",
		     seen_count(0, "rcpt", NULL, NULL));
	cr_assert_eq(seen_count(0, "rcpt", "to", "elsewhere"), 0,
		     "a source-routed foreign recipient reached the backend %d times, want 0",
		     seen_count(0, "rcpt", "to", "elsewhere"));
	finish();
}

/* Failed AUTH does not open relaying. */
Test(proxy, relay_after_failed_auth_denied)
{
	struct pl_client c;

	fake(0, "--auth user:secret");
	start(NULL, NULL, NULL, NULL);
	wait_cap("AUTH");
	session(&c, UNTRUSTED);
	cmd(&c, "535", "AUTH PLAIN %s", b64_plain("user", "wrong"));
	cmd(&c, "250", "MAIL FROM:<user@example.org>");
	cmd(&c, "554 5.7.1", "RCPT TO:<carol@elsewhere.example>");
	quit(&c);
	cr_assert_eq(seen_count(0, "rcpt", NULL, NULL), 0, "RCPTs at the backend: got %d, want 0",
		     seen_count(0, "rcpt", NULL, NULL));
	finish();
}

/* ====================================================================== */
/* Filtered commands                                                       */
/* ====================================================================== */

Test(proxy, filtered_commands_default)
{
	static const char *const denied[] = { "VRFY bob", "EXPN staff", "TURN", "ETRN example.org",
					      "VRFY <bob@example.org>" };
	struct pl_client c;
	json_object *a;
	size_t i;

	fake(0, "--xclient --chunking --dsn");
	start(NULL, LIM_DEFAULT "errors_soft = 50; errors_hard = 100;", NULL, NULL);
	wait_cap("DSN");
	session(&c, UNTRUSTED);
	cr_assert_null(strstr(rbuf, "CHUNKING"), "EHLO: got '%s', want no CHUNKING", rbuf);
	cr_assert_null(strstr(rbuf, "XCLIENT"), "EHLO: got '%s', want no XCLIENT", rbuf);
	cr_assert_null(strstr(rbuf, "STARTTLS"), "EHLO: got '%s', want no STARTTLS (no cert)",
		       rbuf);
	/* Before and inside a transaction (when a backend connection is open). */
	for (i = 0; i < sizeof(denied) / sizeof(denied[0]); i++)
		cmd(&c, "502 5.5.1", "%s", denied[i]);
	cmd(&c, "250", "MAIL FROM:<alice@example.org>");
	for (i = 0; i < sizeof(denied) / sizeof(denied[0]); i++)
		cmd(&c, "502 5.5.1", "%s", denied[i]);
	cmd(&c, "550 5.7.0", "XCLIENT ADDR=192.0.2.66 NAME=spoofed.example");
	cmd(&c, "550 5.7.0", "XFORWARD ADDR=192.0.2.66");
	cmd(&c, "502 5.5.1", "BDAT 12 LAST");
	cmd(&c, "502 5.5.1", "STARTTLS"); /* no TLS on this listener */
	cmd(&c, "250", "RCPT TO:<bob@example.org>");
	cmd(&c, "354", "DATA");
	body(&c, "Subject: filtered\r\n\r\nstill fine\r\n", "250");
	quit(&c);
	a = seen(0);
	for (i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
		char verb[8];

		snprintf(verb, sizeof(verb), "%.4s", denied[i]);
		cr_assert_eq(pl_count(a, "cmd", "line", verb), 0,
			     "%s: the backend saw it %d times, want never", verb,
			     pl_count(a, "cmd", "line", verb));
	}
	cr_assert_eq(pl_count(a, "cmd", "line", "XCLIENT"), 0,
		     "XCLIENT from the client reached the backend");
	cr_assert_eq(pl_count(a, "cmd", "line", "XFORWARD"), 0, "XFORWARD reached the backend");
	cr_assert_eq(pl_count(a, "cmd", "line", "BDAT"), 0, "BDAT reached the backend");
	cr_assert_eq(pl_count(a, "cmd", "line", "spoofed"), 0,
		     "the spoofed name reached the backend");
	cr_assert_eq(pl_count(a, "message", NULL, NULL), 1, "messages: got %d, want 1",
		     pl_count(a, "message", NULL, NULL));
	json_object_put(a);
	finish();
}

Test(proxy, filtered_commands_custom)
{
	struct pl_client c;
	json_object *a;

	fake(0, NULL);
	start(TOP_DEFAULT "deny_commands = [ \"VRFY\", \"HELP\", \"NOOP\", \"ETRN\" ];\n"
			  "deny_reply = \"550 5.7.1 Not on this gateway\";\n",
	      NULL, NULL, NULL);
	session(&c, UNTRUSTED);
	cmd(&c, "550 5.7.1 Not on this gateway", "HELP");
	cmd(&c, "550 5.7.1 Not on this gateway", "NOOP");
	cmd(&c, "550 5.7.1 Not on this gateway", "VRFY bob");
	cmd(&c, "550 5.7.1 Not on this gateway", "ETRN example.org");
	/* Off the list: refused all the same (EXPN, TURN), or answered by the
	 * proxy itself without revealing anything (VRFY is on the list here). */
	cmd(&c, "502 5.5.1", "EXPN staff");
	cmd(&c, "502 5.5.1", "TURN");
	deliver(&c, "alice@example.org", "bob@example.org", "Subject: x\r\n\r\ny\r\n");
	quit(&c);
	a = seen(0);
	cr_assert_eq(pl_count(a, "cmd", "line", "HELP") + pl_count(a, "cmd", "line", "NOOP") +
			 pl_count(a, "cmd", "line", "VRFY") + pl_count(a, "cmd", "line", "EXPN") +
			 pl_count(a, "cmd", "line", "ETRN") + pl_count(a, "cmd", "line", "TURN"),
		     0, "denied commands at the backend: got some, want none");
	json_object_put(a);
	finish();
}

/* VRFY off the deny list is answered by the proxy, never the backend. */
Test(proxy, vrfy_allowed_answered_locally)
{
	struct pl_client c;

	fake(0, NULL);
	start(TOP_DEFAULT "deny_commands = [ \"EXPN\" ];\n", NULL, NULL, NULL);
	session(&c, UNTRUSTED);
	cmd(&c, "252", "VRFY bob");
	cmd(&c, "250", "MAIL FROM:<alice@example.org>");
	cmd(&c, "252", "VRFY bob@example.org");
	cmd(&c, "502 5.5.1", "ETRN example.org"); /* not denied, never relayed */
	quit(&c);
	cr_assert_eq(seen_count(0, "cmd", "line", "VRFY"), 0, "VRFY at the backend: got %d, want 0",
		     seen_count(0, "cmd", "line", "VRFY"));
	cr_assert_eq(seen_count(0, "cmd", "line", "ETRN"), 0, "ETRN at the backend: got %d, want 0",
		     seen_count(0, "cmd", "line", "ETRN"));
	finish();
}

/* ====================================================================== */
/* Limits                                                                  */
/* ====================================================================== */

/* A NOOP line of exactly total bytes, CRLF included. */
static const char *noop_line(size_t total)
{
	static char line[70000];

	memcpy(line, "NOOP ", 5);
	memset(line + 5, 'x', total - 7);
	memcpy(line + total - 2, "\r\n", 3);
	return line;
}

Test(proxy, limit_command_line)
{
	struct pl_client c;
	char mail[600];
	int n;

	fake(0, NULL);
	start(NULL, NULL, NULL, NULL);
	session(&c, UNTRUSTED);
	pl_write(&c, noop_line(511), 511);
	expect(&c, "250", "a 511-byte command line");
	pl_write(&c, noop_line(512), 512);
	expect(&c, "250", "a 512-byte command line");
	pl_write(&c, noop_line(513), 513);
	expect(&c, "500 5.5.2", "a 513-byte command line");
	/* 512 again, in two writes: the limit is on the line, not a read. */
	pl_write(&c, noop_line(512), 300);
	usleep(100 * 1000);
	pl_write(&c, noop_line(512) + 300, 212);
	expect(&c, "250", "a 512-byte command line in two writes");
	/* A huge one, then a good command: the session goes on. */
	pl_write(&c, noop_line(20000), 20000);
	expect(&c, "500 5.5.2", "a 20000-byte command line");
	cmd(&c, "250", "NOOP");
	/* A MAIL over the limit never reaches the backend. */
	n = snprintf(mail, sizeof(mail), "MAIL FROM:<%0*d@example.org>\r\n", 513 - 26, 0);
	cr_assert_eq(n, 513, "test bug: MAIL line of %d bytes, want 513", n);
	pl_write(&c, mail, (size_t)n);
	expect(&c, "500 5.5.2", "a 513-byte MAIL line");
	quit(&c);
	cr_assert_eq(seen_count(0, "mail", NULL, NULL), 0, "MAILs at the backend: got %d, want 0",
		     seen_count(0, "mail", NULL, NULL));
	finish();
}

Test(proxy, limit_text_line)
{
	static char text[4096];
	struct pl_client c;
	json_object *a;

	fake(0, NULL);
	start(NULL, NULL, NULL, NULL);
	session(&c, UNTRUSTED);
	/* 998 characters and CRLF: 1000, the limit, accepted. */
	memcpy(text, "Subject: long\r\n\r\n", 17);
	memset(text + 17, 'a', 998);
	memcpy(text + 17 + 998, "\r\n", 3);
	deliver(&c, "alice@example.org", "bob@example.org", text);
	/* 999 and CRLF: refused, and the backend never gets it. */
	memset(text + 17, 'b', 999);
	memcpy(text + 17 + 999, "\r\n", 3);
	start_data(&c, "alice@example.org", "bob@example.org");
	body(&c, text, "550 5.5.2");
	/* The session is still good. */
	deliver(&c, "alice@example.org", "bob@example.org", "Subject: after\r\n\r\nshort\r\n");
	quit(&c);
	a = seen(0);
	cr_assert_eq(pl_count(a, "message", NULL, NULL), 2,
		     "messages at the backend: got %d, want 2", pl_count(a, "message", NULL, NULL));
	cr_assert_eq(ifield(nth(a, "message", 0), "size"), 17 + 1000,
		     "first message size at the backend: got %lld, want %d",
		     ifield(nth(a, "message", 0), "size"), 17 + 1000);
	cr_assert_eq(pl_count(a, "message", "data", "bbbbbbbbbbbb"), 0,
		     "the refused message reached the backend as a message");
	json_object_put(a);
	finish();
}

Test(proxy, limit_recipients)
{
	struct pl_client c;
	json_object *a, *m, *r;

	fake(0, NULL);
	start(NULL, LIM_DEFAULT "recipients = 3;", NULL, NULL);
	session(&c, UNTRUSTED);
	cmd(&c, "250", "MAIL FROM:<alice@example.org>");
	cmd(&c, "250", "RCPT TO:<r1@example.org>");
	cmd(&c, "250", "RCPT TO:<r2@example.org>");
	cmd(&c, "250", "RCPT TO:<r3@example.org>");
	cmd(&c, "452 4.5.3", "RCPT TO:<r4@example.org>");
	cmd(&c, "452 4.5.3", "RCPT TO:<r5@example.org>");
	cmd(&c, "354", "DATA");
	body(&c, "Subject: three\r\n\r\nfor three\r\n", "250");
	/* The limit is per message: the next one gets three again. */
	cmd(&c, "250", "MAIL FROM:<alice@example.org>");
	cmd(&c, "250", "RCPT TO:<r6@example.org>");
	cmd(&c, "250", "RCPT TO:<r7@example.org>");
	cmd(&c, "250", "RCPT TO:<r8@example.org>");
	cmd(&c, "452 4.5.3", "RCPT TO:<r9@example.org>");
	quit(&c);
	a = seen(0);
	m = nth(a, "message", 0);
	cr_assert_not_null(m, "the backend got no message, want one for three recipients");
	json_object_object_get_ex(m, "rcpts", &r);
	cr_assert_eq(json_object_array_length(r), 3, "recipients of the message: got %s, want 3",
		     json_object_to_json_string(r));
	cr_assert_eq(pl_count(a, "rcpt", "to", "r4@") + pl_count(a, "rcpt", "to", "r5@") +
			 pl_count(a, "rcpt", "to", "r9@"),
		     0, "recipients over the limit reached the backend");
	json_object_put(a);
	finish();
}

/* A message of about n bytes (CRLF lines of 78). */
static const char *big_text(size_t n, char fill)
{
	static char text[1 << 20];
	size_t o = (size_t)snprintf(text, sizeof(text), "Subject: big\r\n\r\n");

	while (o + 80 < n && o + 80 < sizeof(text)) {
		memset(text + o, fill, 78);
		memcpy(text + o + 78, "\r\n", 2);
		o += 80;
	}
	text[o] = '\0';
	return text;
}

/*
 * A client with more recipients than the limit (a mailing list): 100 are
 * accepted, the rest get 452 and are no errors, so the default errors_hard
 * (20) does not end the session and the message goes to the 100. Only past
 * recipient_overshoot do they count.
 */
Test(proxy, limit_recipients_not_errors)
{
	struct pl_client c;
	json_object *a, *m, *r;
	int i;

	fake(0, NULL);
	start(NULL, NULL, NULL, NULL);
	session(&c, UNTRUSTED);
	cmd(&c, "250", "MAIL FROM:<list@example.org>");
	for (i = 0; i < 150; i++)
		cmd(&c, i < 100 ? "250" : "452 4.5.3", "RCPT TO:<r%d@example.org>", i);
	cmd(&c, "354", "DATA");
	body(&c, "Subject: many\r\n\r\nfor a hundred\r\n", "250");
	quit(&c);
	a = seen(0);
	m = nth(a, "message", 0);
	cr_assert_not_null(m, "the backend got no message, want one for 100 recipients");
	cr_assert(json_object_object_get_ex(m, "rcpts", &r), "the message has no recipients");
	cr_assert_eq(json_object_array_length(r), 100,
		     "recipients of the message: got %zu, want 100", json_object_array_length(r));
	json_object_put(a);

	finish();
}

/* Past recipient_overshoot in one message, each one is an error again. */
Test(proxy, limit_recipient_overshoot)
{
	struct pl_client c;
	int i;

	fake(0, NULL);
	start(NULL,
	      LIM_DEFAULT "recipients = 2; recipient_overshoot = 3; errors_hard = 3; "
			  "errors_soft = 3;",
	      NULL, NULL);
	session(&c, UNTRUSTED);
	cmd(&c, "250", "MAIL FROM:<list@example.org>");
	cmd(&c, "250", "RCPT TO:<r1@example.org>");
	cmd(&c, "250", "RCPT TO:<r2@example.org>");
	for (i = 0; i < 6; i++)
		cmd(&c, "452 4.5.3", "RCPT TO:<x%d@example.org>", i);
	expect(&c, "421 4.7.0",
	       "after 3 free recipients past the limit and 3 more (errors_hard 3)");
	pl_close(&c);
	finish();
}

Test(proxy, limit_message_size)
{
	struct pl_client c;
	json_object *a;

	fake(0, NULL);
	start(NULL, LIM_DEFAULT "message_size = \"4K\";", NULL, NULL);
	wait_cap("SIZE");
	session(&c, UNTRUSTED);
	cr_assert_not_null(strstr(rbuf, "250-SIZE 4096\r\n"), "EHLO: got '%s', want SIZE 4096",
			   rbuf);
	cmd(&c, "552 5.3.4", "MAIL FROM:<alice@example.org> SIZE=4097");
	cmd(&c, "552 5.3.4", "MAIL FROM:<alice@example.org> SIZE=99999999999");
	start_data_params(&c, "alice@example.org", "SIZE=4000", "bob@example.org");
	body(&c, big_text(3800, 's'), "250");
	/* Over the limit while streaming (no SIZE given): 552, never stored. */
	start_data(&c, "alice@example.org", "bob@example.org");
	body(&c, big_text(20000, 'B'), "552 5.3.4");
	/* And a lie: SIZE=100, then 20 KB. */
	start_data_params(&c, "alice@example.org", "SIZE=100", "bob@example.org");
	body(&c, big_text(20000, 'L'), "552 5.3.4");
	quit(&c);
	a = seen(0);
	cr_assert_eq(pl_count(a, "message", NULL, NULL), 1,
		     "messages at the backend: got %d, want 1 (the small one)",
		     pl_count(a, "message", NULL, NULL));
	cr_assert_eq(pl_count(a, "message", "data", "BBBBBBBB") +
			 pl_count(a, "message", "data", "LLLLLLLL"),
		     0, "an oversized message was stored by the backend");
	cr_assert_eq(pl_count(a, "mail", "params", "SIZE=4097"), 0,
		     "a refused MAIL SIZE=4097 reached the backend");
	json_object_put(a);
	finish();
}

/* At errors_hard the session ends: the error's own reply, 421, and the door. */
Test(proxy, limit_errors_hard)
{
	struct pl_client c;
	int closed;

	fake(0, NULL);
	start(NULL, LIM_DEFAULT "errors_soft = 4; errors_hard = 4; error_delay = 0;", NULL, NULL);
	session(&c, UNTRUSTED);
	cmd(&c, "500 5.5.2", "BOGUS");
	cmd(&c, "500 5.5.2", "FROB x");
	cmd(&c, "501", "HELO");			   /* no name */
	cmd(&c, "250", "NOOP");			   /* not an error */
	cmd(&c, "503", "RCPT TO:<x@example.org>"); /* the fourth */
	expect(&c, "421 4.7.0", "after errors_hard (4) errors");
	closed = pl_wait_close(&c, 3000);
	pl_close(&c);
	cr_assert_geq(metric("mailedge_rejects_total{reason=\"too_many_errors\"}"), 1,
		      "too_many_errors rejects: got %lld, want 1",
		      metric("mailedge_rejects_total{reason=\"too_many_errors\"}"));
	cr_assert(closed, "after the 421 for too many errors: got the connection open 3 s later, "
			  "want it closed");
	finish();
}

/* Past errors_soft, every error reply waits error_delay (config.c: "errors
 * after which every error reply is delayed by error_delay"). */
Test(proxy, limit_errors_soft_delay)
{
	struct pl_client c;
	long long t0, dt[5];
	int i;

	fake(0, NULL);
	start(NULL, LIM_DEFAULT "errors_soft = 2; errors_hard = 50; error_delay = 600;", NULL,
	      NULL);
	session(&c, UNTRUSTED);
	for (i = 1; i <= 4; i++) {
		t0 = now_ms();
		cmd(&c, "500 5.5.2", "BOGUS");
		dt[i] = now_ms() - t0;
	}
	cr_assert(
	    dt[1] < 400 && dt[2] < 400,
	    "errors 1 and 2 (up to errors_soft=2): replies after %lld and %lld ms, want no delay",
	    dt[1], dt[2]);
	cr_assert(dt[3] >= 500 && dt[4] >= 500,
		  "errors 3 and 4 (past errors_soft=2): replies after %lld and %lld ms, want each "
		  ">= 600 ms (error_delay)",
		  dt[3], dt[4]);
	quit(&c);
	finish();
}

/* A valid command is not an error: it is not slowed down. */
Test(proxy, limit_errors_soft_spares_good_commands)
{
	struct pl_client c;
	long long t0, dt;

	fake(0, NULL);
	start(NULL, LIM_DEFAULT "errors_soft = 1; errors_hard = 50; error_delay = 800;", NULL,
	      NULL);
	session(&c, UNTRUSTED);
	cmd(&c, "500", "BOGUS1");
	cmd(&c, "500", "BOGUS2"); /* past errors_soft */
	t0 = now_ms();
	cmd(&c, "250", "NOOP");
	dt = now_ms() - t0;
	cr_assert_lt(dt, 500, "NOOP after errors: reply after %lld ms, want no error delay", dt);
	quit(&c);
	finish();
}

Test(proxy, limit_commands)
{
	struct pl_client c;
	int i;

	fake(0, NULL);
	start(NULL, LIM_DEFAULT "commands = 5;", NULL, NULL);
	session(&c, UNTRUSTED);
	for (i = 2; i <= 5; i++)
		cmd(&c, "250", "NOOP");
	cmd(&c, "421 4.7.0", "NOOP");
	cr_assert(pl_wait_close(&c, 3000),
		  "after too many commands: got the connection open, want it closed");
	pl_close(&c);
	finish();
}

Test(proxy, limit_command_timeout)
{
	struct pl_client c;
	long long t0, dt;

	fake(0, NULL);
	start(NULL, LIM_DEFAULT "command_timeout = \"2s\";", NULL, NULL);
	session(&c, UNTRUSTED);
	t0 = now_ms();
	expect(&c, "421 4.4.2", "an idle client");
	dt = now_ms() - t0;
	cr_assert(dt >= 1700 && dt <= 4000, "421 for an idle client after %lld ms, want about 2000",
		  dt);
	cr_assert(pl_wait_close(&c, 3000),
		  "after the timeout: got the connection open, want it closed");
	pl_close(&c);
	/* Activity keeps a session alive: 3 s of commands, 0.5 s apart. */
	open_client(&c, UNTRUSTED);
	for (t0 = now_ms(); now_ms() - t0 < 3000;) {
		cmd(&c, "250", "NOOP");
		usleep(500 * 1000);
	}
	quit(&c);
	finish();
}

Test(proxy, limit_data_timeout)
{
	struct pl_client c;
	long long t0, dt;

	fake(0, NULL);
	start(NULL, LIM_DEFAULT "data_timeout = \"2s\"; data_min_rate = 0;", NULL, NULL);
	session(&c, UNTRUSTED);
	start_data(&c, "alice@example.org", "bob@example.org");
	pl_send(&c, "Subject: stalled\r\n\r\nhalf a mess");
	t0 = now_ms();
	expect(&c, "421 4.4.2", "a client silent in DATA");
	dt = now_ms() - t0;
	cr_assert(dt >= 1700 && dt <= 4500, "421 in DATA after %lld ms, want about 2000", dt);
	pl_close(&c);
	cr_assert_eq(seen_count(0, "message", NULL, NULL), 0,
		     "messages at the backend: got %d, want 0 (never finished)",
		     seen_count(0, "message", NULL, NULL));
	finish();
}

Test(proxy, limit_data_min_rate)
{
	struct pl_client c;
	long long t0, dt;
	int code, i;

	fake(0, NULL);
	start(NULL, LIM_DEFAULT "data_min_rate = 2000; data_rate_grace = \"1s\";", NULL, NULL);
	session(&c, UNTRUSTED);
	/* A fast message first: not affected. */
	deliver(&c, "alice@example.org", "bob@example.org", big_text(8000, 'f'));
	start_data(&c, "alice@example.org", "bob@example.org");
	pl_send(&c, "Subject: slow\r\n\r\n");
	t0 = now_ms();
	code = -1;
	/* 20 bytes every 100 ms: 200 B/s, a tenth of the minimum. */
	for (i = 0; i < 60 && code < 0; i++) {
		if (pl_send(&c, "slowloris line %03d\r\n", i))
			break;
		code = pl_reply(&c, rbuf, sizeof(rbuf), 100);
		if (code == -ETIMEDOUT)
			code = -1;
	}
	if (code < 0)
		code = pl_reply(&c, rbuf, sizeof(rbuf), 2000);
	dt = now_ms() - t0;
	cr_assert(starts(rbuf, "421 4.4.2"), "a slow sender: got '%s' (code %d), want 421 4.4.2",
		  rbuf, code);
	cr_assert(dt >= 900 && dt <= 4000, "421 for a slow sender after %lld ms, want 1-3 s", dt);
	cr_assert(pl_wait_close(&c, 3000), "after 421: got the connection open, want it closed");
	pl_close(&c);
	cr_assert_eq(seen_count(0, "message", NULL, NULL), 1,
		     "messages at the backend: got %d, want 1 (the slow one never)",
		     seen_count(0, "message", NULL, NULL));
	cr_assert_eq(seen_count(0, "message", "data", "slowloris"), 0,
		     "the slow message was stored by the backend");
	finish();
}

Test(proxy, limit_session_timeout)
{
	struct pl_client c;
	long long t0, dt;
	int code = -1;

	fake(0, NULL);
	start(NULL, LIM_DEFAULT "session_timeout = \"2s\";", NULL, NULL);
	open_client(&c, UNTRUSTED);
	t0 = now_ms();
	ehlo(&c, "client.test");
	/* Busy all along: the session ends anyway. */
	while (now_ms() - t0 < 6000) {
		if (pl_send(&c, "NOOP\r\n"))
			break;
		code = pl_reply(&c, rbuf, sizeof(rbuf), 2000);
		if (code != 250)
			break;
		usleep(250 * 1000);
	}
	dt = now_ms() - t0;
	cr_assert(starts(rbuf, "421 4.4.2"),
		  "a session past session_timeout: got '%s' (%d), want 421 4.4.2", rbuf, code);
	cr_assert(dt >= 1700 && dt <= 3500, "421 for a long session after %lld ms, want about 2000",
		  dt);
	pl_close(&c);
	finish();
}

Test(proxy, limit_max_per_client)
{
	struct pl_client a, b, x, y;
	long long deadline;
	int ok = 0;

	fake(0, NULL);
	start(NULL, LIM_DEFAULT "max_per_client = 2;", NULL, NULL);
	open_client(&a, UNTRUSTED);
	open_client(&b, UNTRUSTED);
	cr_assert_eq(pl_connect(&x, UNTRUSTED, lab.port[0]), 0, "third connection: %s", x.err);
	expect(&x, "421 4.7.0", "a third session from one address");
	cr_assert(pl_wait_close(&x, 2000),
		  "after the 421: got the connection open, want it closed");
	pl_close(&x);
	open_client(&y, "127.0.0.4"); /* another address: its own count */
	quit(&y);
	/* One ends: room for one more. */
	quit(&a);
	for (deadline = now_ms() + 3000; !ok && now_ms() < deadline;) {
		pl_connect(&x, UNTRUSTED, lab.port[0]);
		ok = pl_reply(&x, rbuf, sizeof(rbuf), 2000) == 220;
		if (!ok) {
			pl_close(&x);
			usleep(50 * 1000);
		}
	}
	cr_assert(ok, "after a session ended: got '%s', want 220", rbuf);
	quit(&x);
	quit(&b);
	finish();
}

Test(proxy, limit_max_sessions)
{
	struct pl_client a, b, x;

	fake(0, NULL);
	start(NULL, LIM_DEFAULT "max_sessions = 2;", NULL, NULL);
	open_client(&a, "127.0.0.5");
	open_client(&b, "127.0.0.6");
	cr_assert_eq(pl_connect(&x, "127.0.0.7", lab.port[0]), 0, "third connection: %s", x.err);
	expect(&x, "421 4.7.0", "a session past max_sessions");
	pl_close(&x);
	cr_assert_geq(metric("mailedge_rejects_total{reason=\"too_many_sessions\"}"), 1,
		      "rejects for too many sessions: got %lld, want >= 1",
		      metric("mailedge_rejects_total{reason=\"too_many_sessions\"}"));
	quit(&a);
	quit(&b);
	finish();
}

/* ====================================================================== */
/* Pre-greet                                                               */
/* ====================================================================== */

#define LISTEN_PREGREET                                                                            \
	"{ listen = \"127.0.0.1:@P0@\"; pregreet = \"reject\"; },"                                 \
	"{ listen = \"127.0.0.1:@P1@\"; pregreet = \"log\"; }"

Test(proxy, pregreet_reject_and_log)
{
	struct pl_client c;
	long long t0, dt;
	int closed;

	fake(0, NULL);
	start(NULL, LIM_DEFAULT "greet_delay = 1000;", LISTEN_PREGREET, NULL);
	/* A patient client gets the banner after the delay. */
	t0 = now_ms();
	open_at(&c, UNTRUSTED, lab.port[0]);
	dt = now_ms() - t0;
	cr_assert(dt >= 900 && dt < 3000, "banner after %lld ms, want about 1000 (greet_delay)",
		  dt);
	ehlo(&c, "patient.test");
	quit(&c);
	/* On pregreet=log: logged, then served as usual (its EHLO answered
	 * after the banner). */
	cr_assert_eq(pl_connect(&c, UNTRUSTED, lab.port[1]), 0, "connect: %s", c.err);
	pl_send(&c, "EHLO eager.test\r\n");
	expect(&c, "220", "the banner for a pre-greeter (pregreet=log)");
	expect(&c, "250", "the pre-greeter's EHLO");
	deliver(&c, "alice@example.org", "bob@example.org", "Subject: eager\r\n\r\nhi\r\n");
	quit(&c);
	/* Talking first on pregreet=reject: 554 and the door. */
	cr_assert_eq(pl_connect(&c, UNTRUSTED, lab.port[0]), 0, "connect: %s", c.err);
	pl_send(&c, "EHLO eager.test\r\n");
	t0 = now_ms();
	expect(&c, "554 5.7.1", "a client talking before the banner (pregreet=reject)");
	closed = pl_wait_close(&c, 2000);
	cr_assert_null(strstr(c.in, "220"), "a rejected pre-greeter also got a banner: '%.*s'",
		       (int)c.len, c.in);
	pl_close(&c);
	cr_assert_eq(pl_log_wait(&lab, "pregreet id=", 2, 2000), 2,
		     "pregreet log lines: got %d, want 2; log:\n%s",
		     pl_log_wait(&lab, "pregreet id=", 2, 0), proxy_log());
	cr_assert_eq(seen_count(0, "message", NULL, NULL), 1, "messages: got %d, want 1",
		     seen_count(0, "message", NULL, NULL));
	cr_assert(closed, "after the 554 to a pre-greeter: got the connection open 2 s later, "
			  "want it closed");
	finish();
}

/* ====================================================================== */
/* SMTP smuggling                                                          */
/* ====================================================================== */

struct smuggle_case {
	char name[16];
	char end[8]; /* the fake end of data */
	int len;
	int split; /* 1: one byte per write */
};

#define V(n, s, split)                                                                             \
	{                                                                                          \
		n, s, sizeof(s) - 1, split                                                         \
	}
static const struct smuggle_case smuggle_cases[] = {
	V("LF.LF", "\n.\n", 0),		  V("CR.CR", "\r.\r", 0),
	V("LF.CRLF", "\n.\r\n", 0),	  V("CRLF.LF", "\r\n.\n", 0),
	V("CRLF.CR", "\r\n.\r", 0),	  V("CR.CRLF", "\r.\r\n", 0),
	V("NUL.", "\r\n\0.\r\n", 0),	  V(".NUL", "\r\n.\0\r\n", 0),
	V("LF.LF/split", "\n.\n", 1),	  V("CR.CR/split", "\r.\r", 1),
	V("CRLF.LF/split", "\r\n.\n", 1), V("CRLF.CR/split", "\r\n.\r", 1),
};
#undef V

#define SMUGGLED                                                                                   \
	"MAIL FROM:<smuggler@evil.example>\r\nRCPT TO:<victim@example.org>\r\nDATA\r\n"            \
	"From: smuggler@evil.example\r\nSubject: smuggled\r\n\r\nsmuggled body\r\n"

/* The message with the fake end and the smuggled transaction, then a real end. */
static size_t smuggle_payload(const struct smuggle_case *t, char *out)
{
	static const char head[] = "From: alice@example.org\r\nSubject: carrier\r\n\r\nhello";
	size_t n = 0;

	memcpy(out + n, head, sizeof(head) - 1);
	n += sizeof(head) - 1;
	memcpy(out + n, t->end, (size_t)t->len);
	n += (size_t)t->len;
	memcpy(out + n, SMUGGLED, sizeof(SMUGGLED) - 1);
	n += sizeof(SMUGGLED) - 1;
	memcpy(out + n, "\r\n.\r\n", 5);
	return n + 5;
}

static void write_payload(struct pl_client *c, const char *p, size_t n, int split)
{
	size_t i;

	if (!split) {
		pl_write(c, p, n);
		return;
	}
	for (i = 0; i < n; i++) {
		pl_write(c, p + i, 1);
		if (i % 8 == 0)
			usleep(1000);
	}
}

ParameterizedTestParameters(proxy, smuggling_rejected)
{
	return cr_make_param_array(struct smuggle_case, smuggle_cases,
				   sizeof(smuggle_cases) / sizeof(smuggle_cases[0]));
}

/* bare_newline = reject (the default): the client hears 550, the backend (one
 * that would itself end DATA at a bare line end) never stores the message,
 * never sees the smuggled sender, and the session goes on. */
ParameterizedTest(const struct smuggle_case *t, proxy, smuggling_rejected)
{
	char payload[1024];
	size_t n = smuggle_payload(t, payload);
	struct pl_client c;
	json_object *a;

	fake(0, "--lenient-dot");
	start(NULL, NULL, NULL, NULL);
	session(&c, UNTRUSTED);
	start_data(&c, "alice@example.org", "bob@example.org");
	write_payload(&c, payload, n, t->split);
	pl_reply(&c, rbuf, sizeof(rbuf), 10000);
	cr_assert(starts(rbuf, "550 5.5.2") || starts(rbuf, "550 5.6.0"),
		  "%s: end of the message got '%s', want 550 5.5.2 or 550 5.6.0", t->name, rbuf);
	/* Nothing more: the smuggled commands were message content. */
	cr_assert_eq(pl_reply(&c, rbuf, sizeof(rbuf), 300), -ETIMEDOUT,
		     "%s: after the 550 got another reply '%s', want none", t->name, rbuf);
	deliver(&c, "alice@example.org", "bob@example.org", "Subject: next\r\n\r\nnext one\r\n");
	quit(&c);
	a = seen(0);
	cr_assert_eq(pl_count(a, NULL, "line", "smuggler") +
			 pl_count(a, "mail", "from", "smuggler") +
			 pl_count(a, "rcpt", "to", "victim"),
		     0, "%s: the backend saw the smuggled transaction", t->name);
	cr_assert_eq(pl_count(a, "message", "data", "smuggled") +
			 pl_count(a, "message", "data", "carrier"),
		     0, "%s: the backend stored the refused message", t->name);
	cr_assert_eq(pl_count(a, "message", NULL, NULL), 1,
		     "%s: messages at the backend: got %d, want 1 (the next one)", t->name,
		     pl_count(a, "message", NULL, NULL));
	json_object_put(a);
	finish();
}

ParameterizedTestParameters(proxy, smuggling_normalized)
{
	return cr_make_param_array(struct smuggle_case, smuggle_cases,
				   sizeof(smuggle_cases) / sizeof(smuggle_cases[0]));
}

/*
 * bare_newline = normalize, in front of a backend that would itself end DATA
 * at a bare line end (the vulnerable kind): only <CR><LF>.<CR><LF> ends the
 * message, so the fake end and the smuggled transaction are content of the one
 * carrier message. The backend never sees the smuggler's MAIL or RCPT as
 * commands, stores exactly one message (none when a NUL fails it), gets
 * nothing but CRLF line ends, and the client hears one reply for it.
 */
ParameterizedTest(const struct smuggle_case *t, proxy, smuggling_normalized)
{
	char payload[1024];
	size_t n = smuggle_payload(t, payload), i, len;
	struct pl_client c;
	const char *all;
	json_object *a;
	int nul = memchr(t->end, '\0', (size_t)t->len) != NULL;

	fake(0, "--lenient-dot");
	start(TOP_DEFAULT "bare_newline = \"normalize\";\n", NULL, NULL, NULL);
	session(&c, UNTRUSTED);
	start_data(&c, "alice@example.org", "bob@example.org");
	write_payload(&c, payload, n, t->split);
	pl_send(&c, "QUIT\r\n");
	all = read_all(&c, 5000);
	pl_close(&c);
	a = seen(0);
	len = json_object_array_length(a);
	cr_assert_eq(pl_count(a, "mail", "from", "smuggler") + pl_count(a, "rcpt", "to", "victim"),
		     0, "%s: the backend got the smuggled MAIL/RCPT as commands; client:\n%s",
		     t->name, all);
	cr_assert_eq(pl_count(a, "message", NULL, NULL), nul ? 0 : 1,
		     "%s: the backend stored %d messages, want %d; client transcript:\n%s", t->name,
		     pl_count(a, "message", NULL, NULL), nul ? 0 : 1, all);
	cr_assert_eq(pl_count_str(all, "queued as"), pl_count(a, "message", NULL, NULL),
		     "%s: the client heard 'queued as' %d times, the backend stored %d messages; "
		     "client transcript:\n%s",
		     t->name, pl_count_str(all, "queued as"), pl_count(a, "message", NULL, NULL),
		     all);
	/* The one reply to the message, then the 221: nothing for the smuggled
	 * MAIL, RCPT or DATA, which the proxy never ran either. */
	cr_assert(starts(all, nul ? "550 " : "250 ") && final_replies(all) == 2,
		  "%s: want one reply to the message, then 221; client transcript:\n%s", t->name,
		  all);
	if (nul)
		cr_assert(strstr(all, "550 5.6.0"), "%s: got '%s', want 550 5.6.0 for a NUL",
			  t->name, all);
	else
		cr_assert_eq(pl_count(a, "message", "data", "smuggled body"), 1,
			     "%s: the smuggled text is not content of the stored message", t->name);
	for (i = 0; i < len; i++) {
		json_object *o = json_object_array_get_idx(a, i);

		if (strcmp(field(o, "ev"), "message"))
			continue;
		cr_assert(
		    ifield(o, "bare_cr") == 0 && ifield(o, "bare_lf") == 0 && ifield(o, "nul") == 0,
		    "%s: a message at the backend has bare CR %lld, bare LF %lld, NUL %lld; want "
		    "CRLF only: %s",
		    t->name, ifield(o, "bare_cr"), ifield(o, "bare_lf"), ifield(o, "nul"),
		    field(o, "data"));
	}
	json_object_put(a);
	finish();
}

/* Normalize: the exact bytes the backend gets. */
Test(proxy, bare_newline_normalize_bytes)
{
	struct pl_client c;
	json_object *a;

	fake(0, NULL);
	start(TOP_DEFAULT "bare_newline = \"normalize\";\n", NULL, NULL, NULL);
	session(&c, UNTRUSTED);
	start_data(&c, "alice@example.org", "bob@example.org");
	pl_send(&c, "Subject: mixed\nX-A: cr\rX-B: crlf\r\n\r\nline1\nline2\rline3\r\n..dot\n"
		    ".\nlast\r\n.\r\n");
	expect(&c, "250", "a message with bare line ends (normalize)");
	quit(&c);
	a = seen(0);
	cr_assert_str_eq(field(nth(a, "message", 0), "data"),
			 "Subject: mixed\r\nX-A: cr\r\nX-B: crlf\r\n\r\nline1\r\nline2\r\nline3\r\n"
			 "..dot\r\n..\r\nlast\r\n",
			 "bytes at the backend: got '%s', want every line end CRLF, dot-stuffing "
			 "kept, and the lone dot after a bare LF content",
			 field(nth(a, "message", 0), "data"));
	json_object_put(a);
	finish();
}

/* Reject (default): a bare LF anywhere fails the message, even without any
 * dot, and a dot-stuffed line passes as it came. */
Test(proxy, bare_newline_reject_plain)
{
	struct pl_client c;
	json_object *a;

	fake(0, NULL);
	start(NULL, NULL, NULL, NULL);
	session(&c, UNTRUSTED);
	start_data(&c, "alice@example.org", "bob@example.org");
	body(&c, "Subject: lf\r\n\r\none\ntwo\r\n", "550 5.5.2");
	start_data(&c, "alice@example.org", "bob@example.org");
	body(&c, "Subject: cr\r\n\r\none\rtwo\r\n", "550 5.5.2");
	deliver(&c, "alice@example.org", "bob@example.org",
		"Subject: dots\r\n\r\n..stuffed\r\n...\r\n..\r\n");
	quit(&c);
	a = seen(0);
	cr_assert_eq(pl_count(a, "message", NULL, NULL), 1, "messages: got %d, want 1",
		     pl_count(a, "message", NULL, NULL));
	cr_assert_str_eq(field(nth(a, "message", 0), "data"),
			 "Subject: dots\r\n\r\n..stuffed\r\n...\r\n..\r\n", /* stuffing kept */
			 "bytes at the backend: got '%s'", field(nth(a, "message", 0), "data"));
	json_object_put(a);
	finish();
}

/* ====================================================================== */
/* Pipelining                                                              */
/* ====================================================================== */

/* Replies for a pipelined group, in order: each must start with want[i]. */
static void expect_group(struct pl_client *c, const char *const *want, int n, const char *what)
{
	char label[256];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(label, sizeof(label), "%s, reply %d of %d", what, i + 1, n);
		expect(c, want[i], label);
	}
}

Test(proxy, pipelining_group)
{
	static const char *const g1[] = { "250-mx.test", "250 2.1.0", "250 2.1.5",
					  "250 2.1.5",	 "250 2.1.5", "354" };
	static const char *const g2[] = { "250 2.0.0", "250 2.1.0", "250 2.1.5", "354" };
	static const char *const g3[] = { "250 2.0.0", "221" };
	struct pl_client c;
	json_object *a, *m, *r;

	fake(0, NULL);
	start(NULL, NULL, NULL, NULL);
	open_client(&c, UNTRUSTED);
	pl_send(&c, "EHLO client.test\r\nMAIL FROM:<alice@example.org>\r\n"
		    "RCPT TO:<r1@example.org>\r\nRCPT TO:<r2@example.org>\r\n"
		    "RCPT TO:<r3@example.org>\r\nDATA\r\n");
	expect_group(&c, g1, 6, "EHLO/MAIL/RCPT x3/DATA in one write");
	cr_assert_eq(c.len, 0, "extra bytes after the 354: '%.*s'", (int)c.len, c.in);
	/* The end of a message and the next transaction in one write. */
	pl_send(&c, "Subject: one\r\n\r\nfirst\r\n.\r\nMAIL FROM:<second@example.org>\r\n"
		    "RCPT TO:<r4@example.org>\r\nDATA\r\n");
	expect_group(&c, g2, 4, "end of data + MAIL/RCPT/DATA in one write");
	pl_send(&c, "Subject: two\r\n\r\nsecond\r\n.\r\nQUIT\r\n");
	expect_group(&c, g3, 2, "end of data + QUIT in one write");
	pl_close(&c);
	a = seen(0);
	m = nth(a, "message", 0);
	cr_assert_not_null(m, "the backend got no first message");
	json_object_object_get_ex(m, "rcpts", &r);
	cr_assert_eq(json_object_array_length(r), 3, "first message's recipients: got %s, want 3",
		     json_object_to_json_string(r));
	cr_assert_str_eq(field(m, "data"), "Subject: one\r\n\r\nfirst\r\n",
			 "first message: got '%s'", field(m, "data"));
	m = nth(a, "message", 1);
	cr_assert_str_eq(field(m, "from"), "second@example.org", "second message from: got '%s'",
			 field(m, "from"));
	cr_assert_str_eq(field(m, "data"), "Subject: two\r\n\r\nsecond\r\n",
			 "second message: got '%s'", field(m, "data"));
	json_object_put(a);
	finish();
}

Test(proxy, pipelining_rset)
{
	static const char *const g[] = { "250 2.1.0", "250 2.1.5", "250 2.0.0", "250 2.1.0",
					 "250 2.1.5", "554 5.7.1", "354" };
	struct pl_client c;
	json_object *a;

	fake(0, NULL);
	start(NULL, NULL, NULL, NULL);
	session(&c, UNTRUSTED);
	pl_send(&c, "MAIL FROM:<first@example.org>\r\nRCPT TO:<r1@example.org>\r\nRSET\r\n"
		    "MAIL FROM:<second@example.org>\r\nRCPT TO:<r2@example.org>\r\n"
		    "RCPT TO:<nope@elsewhere.example>\r\nDATA\r\n");
	expect_group(&c, g, 7, "MAIL/RCPT/RSET/MAIL/RCPT/RCPT/DATA in one write");
	body(&c, "Subject: after rset\r\n\r\nx\r\n", "250");
	quit(&c);
	a = seen(0);
	cr_assert_eq(pl_count(a, "message", NULL, NULL), 1, "messages: got %d, want 1",
		     pl_count(a, "message", NULL, NULL));
	cr_assert_str_eq(field(nth(a, "message", 0), "from"), "second@example.org",
			 "message sender: got '%s', want the one after RSET",
			 field(nth(a, "message", 0), "from"));
	cr_assert_eq(pl_count(a, "cmd", "line", "RSET"), 1, "RSET at the backend: got %d, want 1",
		     pl_count(a, "cmd", "line", "RSET"));
	cr_assert_eq(pl_count(a, "rcpt", "to", "elsewhere"), 0,
		     "a denied RCPT reached the backend");
	json_object_put(a);
	finish();
}

/* ====================================================================== */
/* STARTTLS                                                                */
/* ====================================================================== */

Test(proxy_tls, optional_swaks_plain_and_tls)
{
	char *out = NULL;
	int st;

	start_tls(NULL, NULL);
	st = pl_sh(
	    &out, 20000,
	    "swaks --server 127.0.0.1 --port %d --from alice@example.org --to bob@example.org "
	    "--h-Subject swaks-plain --ehlo plain.test",
	    lab.port[0]);
	cr_assert_eq(st, 0, "swaks without TLS: got status %d, want 0; output:\n%s", st, out);
	free(out);
	st = pl_sh(
	    &out, 20000,
	    "swaks --server 127.0.0.1 --port %d --from alice@example.org --to bob@example.org "
	    "--h-Subject swaks-tls --ehlo tls.test --tls",
	    lab.port[0]);
	cr_assert_eq(st, 0, "swaks --tls: got status %d, want 0; output:\n%s", st, out);
	cr_assert(strstr(out, "TLS started"), "swaks --tls: got\n%s\nwant 'TLS started'", out);
	free(out);
	cr_assert_eq(seen_count(0, "message", "data", "swaks-plain"), 1,
		     "plain swaks message at the backend: got %d, want 1",
		     seen_count(0, "message", "data", "swaks-plain"));
	cr_assert_eq(seen_count(0, "message", "data", "swaks-tls"), 1,
		     "TLS swaks message at the backend: got %d, want 1",
		     seen_count(0, "message", "data", "swaks-tls"));
	cr_assert_eq(metric("mailedge_tls_sessions_total"), 1, "TLS sessions: got %lld, want 1",
		     metric("mailedge_tls_sessions_total"));
	finish();
}

Test(proxy_tls, required)
{
	struct pl_client c;

	start_tls("--auth user:secret", NULL);
	open_at(&c, UNTRUSTED, lab.port[1]);
	cmd(&c, "250", "EHLO client.test");
	cr_assert(strstr(rbuf, "250-STARTTLS"), "EHLO before TLS: got '%s', want STARTTLS", rbuf);
	cr_assert_null(strstr(rbuf, "AUTH"), "EHLO before TLS: got '%s', want no AUTH", rbuf);
	cmd(&c, "530 5.7.0", "MAIL FROM:<alice@example.org>");
	cmd(&c, "530 5.7.0", "RCPT TO:<bob@example.org>");
	cmd(&c, "530 5.7.0", "DATA");
	cmd(&c, "530 5.7.0", "AUTH PLAIN %s", b64_plain("user", "secret"));
	cmd(&c, "250", "NOOP");
	cmd(&c, "250", "RSET");
	starttls(&c);
	cmd(&c, "250", "EHLO client.test");
	cr_assert_null(strstr(rbuf, "STARTTLS"), "EHLO inside TLS: got '%s', want no STARTTLS",
		       rbuf);
	cr_assert(strstr(rbuf, "250-AUTH PLAIN LOGIN"), "EHLO inside TLS: got '%s', want AUTH",
		  rbuf);
	cmd(&c, "554 5.5.1", "STARTTLS"); /* a second one: refused */
	cmd(&c, "235", "AUTH PLAIN %s", b64_plain("user", "secret"));
	deliver(&c, "alice@example.org", "carol@elsewhere.example",
		"Subject: required\r\n\r\nover TLS\r\n");
	quit(&c);
	cr_assert_eq(seen_count(0, "mail", NULL, NULL), 1,
		     "MAILs at the backend: got %d, want 1 (after TLS)",
		     seen_count(0, "mail", NULL, NULL));
	cr_assert_eq(seen_count(0, "auth", NULL, NULL), 1,
		     "AUTHs at the backend: got %d, want 1 (after TLS)",
		     seen_count(0, "auth", NULL, NULL));
	finish();
}

struct inject_case {
	char name[16];
	char tail[96];	 /* what follows STARTTLS\r\n in the same write */
	char marker[32]; /* must never reach the backend */
};

static const struct inject_case inject_cases[] = {
	{ "noop", "NOOP\r\n", "" },
	{ "ehlo+mail", "EHLO injected.test\r\nMAIL FROM:<injected@evil.example>\r\n", "injected" },
	{ "rset+noop", "RSET\r\nNOOP\r\nNOOP\r\n", "" },
};

ParameterizedTestParameters(proxy_tls, starttls_injection)
{
	return cr_make_param_array(struct inject_case, inject_cases,
				   sizeof(inject_cases) / sizeof(inject_cases[0]));
}

/* CVE-2011-0411: plaintext pipelined after STARTTLS must not be executed
 * inside TLS; and RFC 3207 4.2: the HELO is forgotten. */
ParameterizedTest(const struct inject_case *t, proxy_tls, starttls_injection)
{
	struct pl_client c;
	int rc, code;

	start_tls(NULL, NULL);
	session(&c, UNTRUSTED);
	pl_send(&c, "STARTTLS\r\n%s", t->tail);
	expect(&c, "220", "STARTTLS with commands after it in one write");
	code = pl_reply(&c, rbuf, sizeof(rbuf), 300);
	cr_assert_eq(code, -ETIMEDOUT, "%s: got plaintext '%s' after the 220, want nothing",
		     t->name, rbuf);
	rc = pl_tls(&c, ca_path, 0);
	cr_assert_eq(rc, 0, "%s: TLS handshake: got %d (%s), want 0", t->name, rc, c.err);
	code = pl_reply(&c, rbuf, sizeof(rbuf), 700);
	cr_assert_eq(code, -ETIMEDOUT,
		     "%s: inside TLS got '%s' nobody asked for, want nothing (the injected "
		     "commands ran: vulnerable)",
		     t->name, rbuf);
	cmd(&c, "503", "MAIL FROM:<alice@example.org>"); /* no EHLO since TLS */
	ehlo(&c, "client.test");
	deliver(&c, "alice@example.org", "bob@example.org", "Subject: after\r\n\r\nclean\r\n");
	quit(&c);
	cr_assert_eq(seen_count(0, "mail", NULL, NULL), 1,
		     "%s: MAILs at the backend: got %d, want 1", t->name,
		     seen_count(0, "mail", NULL, NULL));
	if (t->marker[0])
		cr_assert_eq(seen_count(0, NULL, "line", t->marker), 0,
			     "%s: injected commands reached the backend", t->name);
	cr_assert_geq(pl_log_wait(&lab, "starttls id=", 1, 2000), 1,
		      "%s: proxy log: got no line about discarded plaintext; log:\n%s", t->name,
		      proxy_log());
	finish();
}

/* A STARTTLS alone, then the plaintext in a separate write before the
 * handshake: that is not TLS, the handshake fails, nothing is executed. */
Test(proxy_tls, starttls_plaintext_in_handshake)
{
	struct pl_client c;

	start_tls(NULL, NULL);
	session(&c, UNTRUSTED);
	cmd(&c, "220", "STARTTLS");
	pl_send(&c, "NOOP\r\nMAIL FROM:<injected@evil.example>\r\n");
	{
		const char *got = read_all(&c, 3000);

		cr_assert_null(strstr(got, "250"), "plaintext after STARTTLS got '%s', want no 250",
			       got);
	}
	pl_close(&c);
	cr_assert_eq(seen_count(0, "mail", NULL, NULL), 0, "MAILs at the backend: got %d, want 0",
		     seen_count(0, "mail", NULL, NULL));
	finish();
}

/* Only TLS 1.2 and 1.3. */
Test(proxy_tls, versions)
{
	static const struct {
		const char *flag, *proto;
		int ok;
	} v[] = {
		{ "-tls1_3", "TLSv1.3", 1 },
		{ "-tls1_2", "TLSv1.2", 1 },
		{ "-tls1_1 -cipher DEFAULT@SECLEVEL=0", "TLSv1.1", 0 },
		{ "-tls1 -cipher DEFAULT@SECLEVEL=0", "TLSv1", 0 },
	};
	struct pl_client c;
	char *out, want[64];
	size_t i;
	int st, rc;

	start_tls(NULL, NULL);
	/* All at once (each waits for the server to close after its QUIT). */
	st = pl_sh(&out, 30000,
		   "cd %s; for i in 0 1 2 3; do case $i in 0) f='%s';; 1) f='%s';; 2) f='%s';; 3) "
		   "f='%s';; "
		   "esac; (printf 'EHLO sclient.test\\nQUIT\\n' | openssl s_client -starttls smtp "
		   "-connect 127.0.0.1:%d $f -CAfile %s -verify_return_error -servername mx.test "
		   "-verify_hostname mx.test -crlf -ign_eof > sc$i.out 2>&1; echo $? > sc$i.st) & "
		   "done; wait",
		   lab.dir, v[0].flag, v[1].flag, v[2].flag, v[3].flag, lab.port[0], ca_path);
	free(out);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char path[300], *stx;

		snprintf(path, sizeof(path), "%s/sc%zu.st", lab.dir, i);
		stx = pl_read_file(path);
		st = stx ? atoi(stx) : -1;
		free(stx);
		snprintf(path, sizeof(path), "%s/sc%zu.out", lab.dir, i);
		out = pl_read_file(path);
		if (!out)
			out = strdup("(no output)");
		snprintf(want, sizeof(want), "Protocol  : %s\n", v[i].proto);
		if (v[i].ok) {
			cr_assert(
			    st == 0 && strstr(out, want) &&
				strstr(out, "Verify return code: 0 (ok)") && strstr(out, "221"),
			    "openssl s_client %s: got status %d and\n%s\nwant %s, verified, 221",
			    v[i].flag, st, out, v[i].proto);
		} else {
			cr_assert(st != 0 && strstr(out, "Cipher is (NONE)"),
				  "openssl s_client %s: got status %d and\n%s\nwant the handshake "
				  "refused",
				  v[i].flag, st, out);
		}
		free(out);
	}
	/* The same with our own client, which would accept 1.1. */
	session(&c, UNTRUSTED);
	cmd(&c, "220", "STARTTLS");
	rc = pl_tls(&c, NULL, TLS1_1_VERSION);
	cr_assert_neq(rc, 0, "a TLS 1.1 handshake: got it accepted, want it refused");
	pl_close(&c);
	finish();
}

/* EHLO until AUTH is offered: the proxy offers it once a health check has
 * seen the pool's AUTH (5 s at most). */
static void ehlo_until_auth(struct pl_client *c)
{
	long long deadline = now_ms() + 5000;

	for (;;) {
		cmd(c, "250", "EHLO client.test");
		if (strstr(rbuf, "250-AUTH"))
			break;
		cr_assert_lt(now_ms(), deadline, "EHLO: got '%s', want AUTH offered", rbuf);
		usleep(50 * 1000);
	}
}

Test(proxy_tls, auth_requires_tls)
{
	struct pl_client c;

	start_tls("--auth user:secret", NULL);
	wait_cap("STARTTLS"); /* the listener is up; now the pool's AUTH */
	open_at(&c, UNTRUSTED, lab.port[2]);
	ehlo_until_auth(&c); /* auth_requires_tls = false here: offered once checked */
	quit(&c);
	session(&c, UNTRUSTED); /* auth_requires_tls = true (the default) */
	cr_assert_null(strstr(rbuf, "AUTH"), "EHLO before TLS: got '%s', want no AUTH", rbuf);
	cmd(&c, "530 5.7.0", "AUTH PLAIN %s", b64_plain("user", "secret"));
	starttls(&c);
	cmd(&c, "250", "EHLO client.test");
	cr_assert(strstr(rbuf, "250-AUTH PLAIN LOGIN"), "EHLO inside TLS: got '%s', want AUTH",
		  rbuf);
	cmd(&c, "235", "AUTH PLAIN %s", b64_plain("user", "secret"));
	cmd(&c, "503", "AUTH PLAIN %s", b64_plain("user", "secret")); /* already */
	deliver(&c, "alice@example.org", "carol@elsewhere.example", "Subject: sub\r\n\r\nx\r\n");
	quit(&c);
	cr_assert_eq(seen_count(0, "auth", "user", "user"), 1,
		     "AUTHs at the backend: got %d, want 1", seen_count(0, "auth", "user", "user"));
	finish();
}

/* RFC 3207 4.2: after STARTTLS the server discards what it learned from the
 * client before, authentication included (RFC 4954 4: a SASL state is not
 * carried into TLS); and the backend connection that held it is closed. */
Test(proxy_tls, auth_forgotten_after_starttls)
{
	struct pl_client c;

	start_tls("--auth user:secret", NULL);
	open_at(&c, UNTRUSTED, lab.port[2]);
	ehlo_until_auth(&c);
	cmd(&c, "235", "AUTH PLAIN %s", b64_plain("user", "secret"));
	starttls(&c);
	cmd(&c, "250", "EHLO client.test");
	cmd(&c, "250", "MAIL FROM:<user@example.org>");
	pl_send(&c, "RCPT TO:<carol@elsewhere.example>\r\n");
	pl_reply(&c, rbuf, sizeof(rbuf), 10000);
	cr_assert(starts(rbuf, "554 5.7.1"),
		  "RCPT to a foreign domain after AUTH then STARTTLS (no AUTH inside TLS): got "
		  "'%s', want 554 5.7.1 (the pre-TLS authentication must be forgotten)",
		  rbuf);
	quit(&c);
	finish();
}

Test(proxy_tls, handshake_timeout)
{
	struct pl_client c;
	long long t0, dt;

	start_tls(NULL, LIM_DEFAULT "tls_handshake_timeout = \"1s\";");
	session(&c, UNTRUSTED);
	cmd(&c, "220", "STARTTLS");
	t0 = now_ms();
	cr_assert(pl_wait_close(&c, 5000), "a client that never starts the handshake: got the "
					   "connection open after 5 s, want it closed");
	dt = now_ms() - t0;
	cr_assert(dt >= 800 && dt <= 3500, "closed after %lld ms, want about 1000", dt);
	pl_close(&c);
	finish();
}

/* ====================================================================== */
/* Telling the backend who the client is                                  */
/* ====================================================================== */

#define POOL_PASS(pass)                                                                            \
	"{ name = \"main\"; pass_client = \"" pass "\"; members = ( \"127.0.0.1:@F0@\" ); " HEALTH \
	" }"

/* One delivery from 127.0.0.3 with EHLO client.test; c->lport is its port. */
static void one_session(struct pl_client *c)
{
	session(c, UNTRUSTED);
	deliver(c, "alice@example.org", "bob@example.org", "Subject: who\r\n\r\nx\r\n");
	quit(c);
}

/* The connection that carried the session's MAIL. */
static long long mail_conn(json_object *a)
{
	json_object *m = nth(a, "mail", 0);

	cr_assert_not_null(m, "the backend saw no MAIL");
	return ifield(m, "conn");
}

Test(proxy_pool, xclient)
{
	struct pl_client c;
	json_object *a, *x, *attrs;
	long long conn;
	size_t i, n;
	int order = 0;
	char port[16], top[512];

	fake(0, "--xclient");
	snprintf(top, sizeof(top), "%s%s", TOP_DEFAULT, pxc_dns_none());
	start(top, NULL, NULL, POOL_PASS("xclient"));
	wait_cap("PIPELINING");
	pl_fake_wait(&lab, 0, "ehlo", 1, 3000); /* checked, so XCLIENT is known */
	one_session(&c);
	a = seen(0);
	conn = mail_conn(a);
	x = NULL;
	n = json_object_array_length(a);
	/* On the session's connection: EHLO, XCLIENT, EHLO again, then MAIL. */
	for (i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(a, i);
		const char *ev = field(o, "ev");

		if (ifield(o, "conn") != conn)
			continue;
		if (!strcmp(ev, "ehlo") && (order == 0 || order == 2))
			order++;
		else if (!strcmp(ev, "xclient") && order == 1) {
			order++;
			x = o;
		} else if (!strcmp(ev, "mail") && order == 3)
			order++;
	}
	cr_assert_eq(order, 4,
		     "session at the backend: got %d of EHLO, XCLIENT, EHLO, MAIL in order; "
		     "events: %s",
		     order, json_object_to_json_string(a));
	json_object_object_get_ex(x, "attrs", &attrs);
	snprintf(port, sizeof(port), "%d", c.lport);
	cr_assert_str_eq(field(attrs, "ADDR"), UNTRUSTED, "XCLIENT ADDR: got '%s', want %s",
			 field(attrs, "ADDR"), UNTRUSTED);
	cr_assert_str_eq(field(attrs, "PORT"), port, "XCLIENT PORT: got '%s', want %s",
			 field(attrs, "PORT"), port);
	cr_assert_str_eq(field(attrs, "HELO"), "client.test", "XCLIENT HELO: got '%s'",
			 field(attrs, "HELO"));
	cr_assert_str_eq(field(attrs, "PROTO"), "ESMTP", "XCLIENT PROTO: got '%s'",
			 field(attrs, "PROTO"));
	cr_assert_str_eq(field(attrs, "NAME"), "[UNAVAILABLE]", "XCLIENT NAME: got '%s'",
			 field(attrs, "NAME"));
	cr_assert_eq(pl_count(a, "proxy", NULL, NULL), 0,
		     "a PROXY header with pass_client=xclient");
	json_object_put(a);
	finish();
}

struct pp_case {
	char pass[16];
	int version;
};

static const struct pp_case pp_cases[] = { { "proxy-v2", 2 }, { "proxy-v1", 1 } };

ParameterizedTestParameters(proxy_pool, proxy_protocol)
{
	return cr_make_param_array(struct pp_case, pp_cases,
				   sizeof(pp_cases) / sizeof(pp_cases[0]));
}

ParameterizedTest(const struct pp_case *t, proxy_pool, proxy_protocol)
{
	char pools[512];
	struct pl_client c;
	json_object *a, *p;
	long long conn;
	size_t i, n;

	fake(0, "--expect-proxy --xclient");
	snprintf(pools, sizeof(pools), POOL_PASS("%s"), t->pass);
	start(NULL, NULL, NULL, pools);
	one_session(&c);
	a = seen(0);
	conn = mail_conn(a);
	p = NULL;
	n = json_object_array_length(a);
	for (i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(a, i);

		if (ifield(o, "conn") == conn && !strcmp(field(o, "ev"), "proxy"))
			p = o;
	}
	cr_assert_not_null(p, "%s: the session's connection had no PROXY header; events: %s",
			   t->pass, json_object_to_json_string(a));
	cr_assert_eq(ifield(p, "version"), t->version, "%s: version: got %lld, want %d", t->pass,
		     ifield(p, "version"), t->version);
	cr_assert_str_eq(field(p, "command"), "PROXY", "%s: command: got '%s'", t->pass,
			 field(p, "command"));
	cr_assert_str_eq(field(p, "family"), "TCP4", "%s: family: got '%s'", t->pass,
			 field(p, "family"));
	cr_assert_str_eq(field(p, "src"), UNTRUSTED, "%s: source: got '%s', want %s", t->pass,
			 field(p, "src"), UNTRUSTED);
	cr_assert_eq(ifield(p, "sport"), c.lport, "%s: source port: got %lld, want %d", t->pass,
		     ifield(p, "sport"), c.lport);
	cr_assert_str_eq(field(p, "dst"), "127.0.0.1", "%s: destination: got '%s'", t->pass,
			 field(p, "dst"));
	cr_assert_eq(ifield(p, "dport"), lab.port[0], "%s: destination port: got %lld, want %d",
		     t->pass, ifield(p, "dport"), lab.port[0]);
	/* Health checks carry a header too, and no XCLIENT: v2 LOCAL, and in v1
	 * one that names the check's own connection (Postfix refuses "PROXY
	 * UNKNOWN"): to the member's own port. */
	if (t->version == 2) {
		cr_assert_geq(pl_count(a, "proxy", "command", "LOCAL"), 1,
			      "%s: health checks sent no LOCAL header", t->pass);
	} else {
		int checks = 0;

		for (i = 0; i < n; i++) {
			json_object *o = json_object_array_get_idx(a, i);

			checks += !strcmp(field(o, "ev"), "proxy") &&
				  !strcmp(field(o, "command"), "PROXY") &&
				  !strcmp(field(o, "src"), "127.0.0.1") &&
				  ifield(o, "dport") == lab.fake[0].port;
		}
		cr_assert_geq(checks, 1,
			      "%s: no health check sent 'PROXY TCP4 127.0.0.1 127.0.0.1 PORT %d'",
			      t->pass, lab.fake[0].port);
		cr_assert_eq(pl_count(a, "proxy", "command", "UNKNOWN"), 0,
			     "%s: a health check sent PROXY UNKNOWN", t->pass);
	}
	cr_assert_eq(pl_count(a, "proxy_missing", NULL, NULL), 0,
		     "%s: a connection came without a PROXY header", t->pass);
	cr_assert_eq(pl_count(a, "xclient", NULL, NULL), 0, "%s: XCLIENT sent too", t->pass);
	json_object_put(a);
	finish();
}

/* pass_client = none: the backend learns nothing, even when it offers XCLIENT. */
Test(proxy_pool, pass_none)
{
	struct pl_client c;
	json_object *a;

	fake(0, "--xclient");
	start(NULL, NULL, NULL, NULL);
	pl_fake_wait(&lab, 0, "ehlo", 1, 3000);
	one_session(&c);
	a = seen(0);
	mail_conn(a);
	cr_assert_eq(pl_count(a, "xclient", NULL, NULL) + pl_count(a, "proxy", NULL, NULL), 0,
		     "pass_client none: the backend got XCLIENT or PROXY: %s",
		     json_object_to_json_string(a));
	cr_assert_eq(pl_count(a, NULL, "line", UNTRUSTED), 0,
		     "pass_client none: the client address reached the backend");
	json_object_put(a);
	finish();
}

/* A real PROXY v2 parser agrees: haproxy accepts the proxy's header and
 * passes what it understood on to the fake, as its own v2 header. */
Test(proxy_pool, proxy_v2_understood_by_haproxy)
{
	char cfg[1024], path[256], *out;
	struct bgproc ha;
	struct pl_client c;
	json_object *a, *p = NULL;
	int hport = lab.port[3], st;
	long long deadline;
	size_t i, n;

	fake(0, "--expect-proxy");
	snprintf(path, sizeof(path), "%s/haproxy.cfg", lab.dir);
	snprintf(cfg, sizeof(cfg),
		 "global\n  maxconn 100\ndefaults\n  mode tcp\n  timeout connect 2s\n"
		 "  timeout client 20s\n  timeout server 20s\n"
		 "frontend f\n  bind 127.0.0.1:%d accept-proxy\n  default_backend b\n"
		 "backend b\n  server s 127.0.0.1:%d send-proxy-v2\n",
		 hport, lab.fake[0].port);
	close(lab.hold[3]); /* haproxy binds it without SO_REUSEPORT */
	lab.hold[3] = -1;
	cr_assert_eq(pl_write_file(path, cfg, strlen(cfg)), 0, "writing %s", path);
	/* In the foreground, so that it dies with the test (PR_SET_PDEATHSIG),
	 * a failed assertion included. */
	st = bg_start(&ha, "exec haproxy -db -f %s", path);
	cr_assert_eq(st, 0, "starting haproxy: got %d, want 0", st);
	for (deadline = now_ms() + 5000;;) {
		st = pl_sh(&out, 2000, "ss -Hltn 'sport = :%d' | grep -q .", hport);
		free(out);
		if (!st)
			break;
		if (now_ms() >= deadline) {
			out = pl_read_file(ha.out);
			snprintf(msg, sizeof(msg),
				 "haproxy: not listening on port %d after 5 s; its output:\n%s",
				 hport, out ? out : "");
			free(out);
			cr_assert_fail("%s", msg);
		}
		usleep(20 * 1000);
	}
	start(NULL, NULL, NULL,
	      "{ name = \"main\"; pass_client = \"proxy-v2\"; members = ( \"127.0.0.1:@P3@\" "
	      "); " HEALTH " }");
	one_session(&c);
	bg_kill(&ha);
	a = seen(0);
	n = json_object_array_length(a);
	for (i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(a, i);

		if (!strcmp(field(o, "ev"), "proxy") && !strcmp(field(o, "command"), "PROXY") &&
		    !strcmp(field(o, "src"), UNTRUSTED))
			p = o;
	}
	cr_assert_not_null(p, "haproxy passed on no client %s; events: %s", UNTRUSTED,
			   json_object_to_json_string(a));
	cr_assert_eq(ifield(p, "sport"), c.lport, "source port via haproxy: got %lld, want %d",
		     ifield(p, "sport"), c.lport);
	cr_assert_eq(ifield(p, "dport"), lab.port[0],
		     "destination port via haproxy: got %lld, want %d", ifield(p, "dport"),
		     lab.port[0]);
	json_object_put(a);
	finish();
}

/* ====================================================================== */
/* Health checks                                                           */
/* ====================================================================== */

Test(proxy_pool, health_down_and_up)
{
	char up0[128];
	struct pl_client c;
	long long v, t0;
	int i, before;
	json_object *a;

	fake(0, NULL);
	fake(1, NULL);
	start(NULL, NULL, NULL,
	      "{ name = \"main\"; members = ( \"127.0.0.1:@F0@\", \"127.0.0.1:@F1@\" ); "
	      "health = { interval = 200; timeout = 500; rise = 2; fall = 2; }; }");
	snprintf(up0, sizeof(up0), "mailedge_backend_up{pool=\"main\",member=\"127.0.0.1:%d\"}",
		 lab.fake[0].port);
	pl_fake_wait(&lab, 0, "ehlo", 2, 3000);
	cr_assert_eq(metric("%s", up0), 1, "member 0 before: got up=%lld, want 1",
		     metric("%s", up0));
	/* Member 0 starts answering 421: down after fall (2) checks. */
	pl_fake_control(&lab, 0, "{\"greeting\": \"421 4.3.2 Service shutting down\"}");
	t0 = now_ms();
	v = metric_wait(0, 4000, up0);
	cr_assert_eq(v, 0, "member answering 421: got up=%lld after 4 s, want 0; log:\n%s", v,
		     proxy_log());
	cr_assert_geq(now_ms() - t0, 150, "down after %lld ms: sooner than two checks",
		      now_ms() - t0);
	cr_assert_geq(pl_log_wait(&lab, "is down", 1, 1000), 1, "proxy log: no 'is down' line");
	a = seen(0);
	before = pl_mail_conns(a);
	json_object_put(a);
	for (i = 0; i < 6; i++)
		one_session(&c);
	cr_assert_eq(seen_count(0, "mail", NULL, NULL), before,
		     "sessions sent to the down member: got %d, want 0",
		     seen_count(0, "mail", NULL, NULL) - before);
	cr_assert_eq(seen_count(1, "message", NULL, NULL), 6,
		     "messages at the healthy member: got %d, want 6",
		     seen_count(1, "message", NULL, NULL));
	/* It recovers: up again after rise (2) good checks. */
	pl_fake_control(&lab, 0, "{}");
	v = metric_wait(1, 4000, up0);
	cr_assert_eq(v, 1, "recovered member: got up=%lld after 4 s, want 1", v);
	cr_assert_geq(pl_log_wait(&lab, "is up", 1, 1000), 1, "proxy log: no 'is up' line");
	for (i = 0; i < 6; i++)
		one_session(&c);
	cr_assert_eq(seen_count(0, "message", NULL, NULL), 3,
		     "messages at the recovered member: got %d, want 3 of 6 (round robin)",
		     seen_count(0, "message", NULL, NULL));
	finish();
}

/* A member that refuses connections is down after fall failures, from real
 * connections too; the session is not failed, it goes to the next member. */
Test(proxy_pool, failover_on_connect_refused)
{
	struct pl_client c;
	int i;

	fake(0, NULL);
	/* Member 0: a port nobody listens on. */
	start(NULL, NULL, NULL,
	      "{ name = \"main\"; members = ( \"127.0.0.1:1\", \"127.0.0.1:@F0@\" ); "
	      "health = { interval = 5000; timeout = 1000; rise = 1; fall = 2; }; }");
	for (i = 0; i < 4; i++)
		one_session(&c);
	cr_assert_eq(seen_count(0, "message", NULL, NULL), 4, "messages: got %d, want 4",
		     seen_count(0, "message", NULL, NULL));
	cr_assert_eq(metric("mailedge_backend_up{pool=\"main\",member=\"127.0.0.1:1\"}"), 0,
		     "refusing member: got up=%lld, want 0",
		     metric("mailedge_backend_up{pool=\"main\",member=\"127.0.0.1:1\"}"));
	finish();
}

/* A greeting of 421 at session time (before the checks noticed): the next
 * member takes the session. */
Test(proxy_pool, failover_on_421_greeting)
{
	struct pl_client c;
	int i;

	fake(0, NULL);
	fake(1, NULL);
	start(NULL, NULL, NULL,
	      "{ name = \"main\"; members = ( \"127.0.0.1:@F0@\", \"127.0.0.1:@F1@\" ); "
	      "health = { interval = 60000; timeout = 1000; rise = 1; fall = 5; }; }");
	pl_fake_wait(&lab, 0, "ehlo", 1, 3000);
	pl_fake_control(&lab, 0, "{\"greeting\": \"421 4.3.2 Service shutting down\"}");
	for (i = 0; i < 4; i++)
		one_session(&c);
	cr_assert_eq(seen_count(1, "message", NULL, NULL), 4,
		     "messages at member 1: got %d, want 4", seen_count(1, "message", NULL, NULL));
	cr_assert_eq(seen_count(0, "mail", NULL, NULL), 0,
		     "MAILs at the 421 member: got %d, want 0", seen_count(0, "mail", NULL, NULL));
	finish();
}

/* ====================================================================== */
/* Backend failures                                                        */
/* ====================================================================== */

/* The backend dies in the middle of a message: 451 after the client's end of
 * data, never 250; the session goes on with another connection. */
Test(proxy_pool, backend_dies_in_data)
{
	struct pl_client c;

	fake(0, NULL);
	start(NULL, NULL, NULL, NULL);
	pl_fake_control(&lab, 0, "{\"die_in_data\": true}");
	session(&c, UNTRUSTED);
	start_data(&c, "alice@example.org", "bob@example.org");
	pl_send(&c, "Subject: doomed\r\n\r\nfirst part\r\n");
	usleep(300 * 1000); /* the backend reads it and dies */
	body(&c, big_text(3000, 'd'), "451");
	pl_fake_control(&lab, 0, "{}");
	deliver(&c, "alice@example.org", "bob@example.org", "Subject: again\r\n\r\nretry\r\n");
	quit(&c);
	cr_assert_eq(seen_count(0, "died", NULL, NULL), 1, "backend deaths: got %d, want 1",
		     seen_count(0, "died", NULL, NULL));
	cr_assert_eq(seen_count(0, "message", "data", "doomed"), 0,
		     "the doomed message was stored");
	cr_assert_eq(seen_count(0, "message", NULL, NULL), 1,
		     "messages: got %d, want 1 (the retry)", seen_count(0, "message", NULL, NULL));
	finish();
}

/* The backend takes the whole message but does not answer its end within
 * backend_data_timeout: 451 (it may or may not have it), never 250. */
Test(proxy_pool, backend_end_reply_timeout)
{
	struct pl_client c;
	long long t0;

	fake(0, "--delay data_end=3000");
	start(NULL, LIM_DEFAULT "backend_data_timeout = \"1s\";", NULL, NULL);
	session(&c, UNTRUSTED);
	start_data(&c, "alice@example.org", "bob@example.org");
	t0 = now_ms();
	body(&c, "Subject: slow backend\r\n\r\nx\r\n", "451");
	cr_assert_lt(now_ms() - t0, 2900,
		     "451 after %lld ms, want it at backend_data_timeout (1 s)", now_ms() - t0);
	quit(&c);
	finish();
}

Test(proxy_pool, no_backend_available)
{
	struct pl_client c;

	start(NULL, NULL, NULL,
	      "{ name = \"main\"; members = ( \"127.0.0.1:1\", \"127.0.0.1:2\" ); " HEALTH " }");
	session(&c, UNTRUSTED);
	cmd(&c, "451 4.4.1", "MAIL FROM:<alice@example.org>");
	cmd(&c, "503", "RCPT TO:<bob@example.org>");
	cmd(&c, "451 4.4.1", "MAIL FROM:<alice@example.org>");
	quit(&c);
	cr_assert_geq(metric("mailedge_rejects_total{reason=\"backend\"}"), 2,
		      "backend rejects: got %lld, want >= 2",
		      metric("mailedge_rejects_total{reason=\"backend\"}"));
	finish();
}

/* A backend's own refusals reach the client as they are. */
Test(proxy_pool, backend_reply_relayed)
{
	struct pl_client c;

	fake(0, "--reject-rcpt \"550 5.1.1 <nobody@example.org>: Recipient address rejected\"");
	start(NULL, NULL, NULL, NULL);
	session(&c, UNTRUSTED);
	cmd(&c, "250", "MAIL FROM:<alice@example.org>");
	cmd(&c, "550 5.1.1 <nobody@example.org>: Recipient address rejected",
	    "RCPT TO:<nobody@example.org>");
	cmd(&c, "554 5.5.1", "DATA");
	quit(&c);
	finish();
}

/* ====================================================================== */
/* Balancing                                                               */
/* ====================================================================== */

Test(proxy_pool, roundrobin_weights)
{
	struct pl_client c;
	int i, n0, n1;

	fake(0, NULL);
	fake(1, NULL);
	start(NULL, NULL, NULL,
	      "{ name = \"main\"; balance = \"roundrobin\"; members = ( "
	      "{ address = \"127.0.0.1:@F0@\"; weight = 1; }, "
	      "{ address = \"127.0.0.1:@F1@\"; weight = 3; } ); " HEALTH " }");
	for (i = 0; i < 40; i++) {
		session(&c, UNTRUSTED);
		cmd(&c, "250", "MAIL FROM:<alice@example.org>");
		quit(&c);
	}
	n0 = seen_count(0, "mail", NULL, NULL);
	n1 = seen_count(1, "mail", NULL, NULL);
	cr_assert_eq(n0 + n1, 40, "backend sessions: got %d + %d, want 40", n0, n1);
	cr_assert(n0 >= 8 && n0 <= 12 && n1 >= 28 && n1 <= 32,
		  "weights 1:3 over 40 sessions: got %d:%d, want about 10:30", n0, n1);
	finish();
}

Test(proxy_pool, leastconn)
{
	struct pl_client c[6];
	json_object *a;
	int i, n0, n1;

	fake(0, NULL);
	fake(1, NULL);
	start(NULL, NULL, NULL,
	      "{ name = \"main\"; balance = \"leastconn\"; members = ( \"127.0.0.1:@F0@\", "
	      "\"127.0.0.1:@F1@\" ); " HEALTH " }");
	/* Four sessions held open: two on each member. */
	for (i = 0; i < 4; i++) {
		session(&c[i], UNTRUSTED);
		cmd(&c[i], "250", "MAIL FROM:<held%d@example.org>", i);
	}
	a = pl_fake_events(&lab, 0);
	n0 = pl_mail_conns(a);
	json_object_put(a);
	a = pl_fake_events(&lab, 1);
	n1 = pl_mail_conns(a);
	json_object_put(a);
	cr_assert(n0 == 2 && n1 == 2, "four held sessions: got %d:%d, want 2:2", n0, n1);
	/* The two on member 0 end; the next two both go to member 0. */
	a = pl_fake_events(&lab, 0);
	for (i = 0; i < 4; i++) {
		char who[32];

		snprintf(who, sizeof(who), "held%d@", i);
		if (pl_count(a, "mail", "from", who))
			quit(&c[i]);
	}
	json_object_put(a);
	pl_fake_settle(&lab, 0, 3000); /* their backend connections are closed */
	for (i = 4; i < 6; i++) {
		session(&c[i], UNTRUSTED);
		cmd(&c[i], "250", "MAIL FROM:<new%d@example.org>", i);
	}
	a = pl_fake_events(&lab, 0); /* (the sessions are still open) */
	n0 = pl_count(a, "mail", "from", "new");
	json_object_put(a);
	cr_assert_eq(n0, 2, "leastconn: new sessions on the emptied member: got %d, want 2", n0);
	for (i = 0; i < 6; i++)
		if (c[i].fd >= 0)
			quit(&c[i]);
	finish();
}

/* ====================================================================== */
/* Failover under load                                                     */
/* ====================================================================== */

/* Message ids (X-Load-Id) in the sinks' dumps, as one string " id id ... ". */
static char *stored_ids(int nsinks)
{
	char *out = NULL, dirs[1024] = "";
	size_t o = 0;
	int i, st;

	for (i = 0; i < nsinks; i++)
		o += (size_t)snprintf(dirs + o, sizeof(dirs) - o, " %s", lab.sink[i].dir);
	st = pl_sh(&out, 20000,
		   "grep -rhaoE '^X-Load-Id: [A-Za-z0-9-]+' %s | sed 's/^X-Load-Id: / /; s/$/ /' | "
		   "sort -u | tr -d '\\n'",
		   dirs);
	cr_assert(st == 0 || st == 1, "reading the sinks' dumps: got %d", st);
	return out;
}

Test(proxy_load, failover_sink_killed_mid_load)
{
	struct bgproc load;
	char cmdline[1024], loadlog[256], *ids, want[64];
	json_object *events, *done = NULL;
	long long deadline;
	int acked = 0, fails_5xx = 0, missing = 0, i;
	char missing_ids[1024] = "";
	size_t k, n;

	for (i = 0; i < 3; i++)
		sink(i);
	start(NULL, LIM_DEFAULT "max_per_client = 100000;", NULL,
	      "{ name = \"main\"; members = ( \"127.0.0.1:@S0@\", \"127.0.0.1:@S1@\", "
	      "\"127.0.0.1:@S2@\" ); health = { interval = 200; timeout = 500; rise = 2; fall = 1; "
	      "}; }");
	snprintf(loadlog, sizeof(loadlog), "%s/load.jsonl", lab.dir);
	snprintf(cmdline, sizeof(cmdline),
		 "exec %s %s/tests/lib/fakesmtp.py load --port %d --sessions 8 "
		 "--messages 800 --per-session 5 --lines 200 --tag m --deadline 60 --log %s",
		 tenv_python(), tenv_src(), lab.port[0], loadlog);
	cr_assert_eq(bg_start(&load, "%s", cmdline), 0, "starting the load client");
	/* Let a quarter through, then kill a sink outright. */
	for (deadline = now_ms() + 30000; now_ms() < deadline;) {
		char *t = pl_read_file(loadlog);

		acked = pl_count_str(t, "\"ack\"");
		free(t);
		if (acked >= 200)
			break;
		usleep(10 * 1000);
	}
	cr_assert_geq(acked, 200, "load before the kill: got %d acked in 30 s, want 200", acked);
	pl_child_kill(&lab.sink[1], SIGKILL);
	i = bg_finish(&load, 0, 70000, cmdline, sizeof(cmdline));
	cr_assert_eq(i, 0, "load client: got it still running after 70 s, want it done; output: %s",
		     cmdline);
	/* Every 250 the load client heard is in some sink's dump. */
	ids = stored_ids(3);
	events = pl_jsonl(loadlog);
	cr_assert_not_null(events, "the load log %s", loadlog);
	acked = 0;
	for (k = 0, n = json_object_array_length(events); k < n; k++) {
		json_object *o = json_object_array_get_idx(events, k);
		const char *ev = field(o, "ev");

		if (!strcmp(ev, "ack")) {
			acked++;
			snprintf(want, sizeof(want), " %s ", field(o, "id"));
			if (!strstr(ids, want)) {
				missing++;
				if (strlen(missing_ids) < 900)
					strcat(missing_ids, want);
			}
		} else if (!strcmp(ev, "fail") && field(o, "reply")[0] == '5') {
			fails_5xx++;
		} else if (!strcmp(ev, "done")) {
			done = json_object_get(o);
		}
	}
	json_object_put(events);
	free(ids);
	cr_assert_eq(missing, 0,
		     "messages acknowledged with 250 but in no sink's dump: got %d (%s), want 0",
		     missing, missing_ids);
	cr_assert_not_null(done, "the load client did not finish");
	cr_assert_eq(ifield(done, "acked"), 800, "messages delivered: got %lld of 800 (%s)",
		     ifield(done, "acked"), json_object_to_json_string(done));
	cr_assert_eq(acked, 800, "acks in the log: got %d, want 800", acked);
	cr_assert_eq(fails_5xx, 0, "failed attempts answered 5xx: got %d, want 0 (4xx only)",
		     fails_5xx);
	json_object_put(done);
	/* No session stuck (15 s: more than the closing grace of a session). */
	cr_assert_eq(metric_wait(0, 15000, "mailedge_sessions_active"), 0,
		     "active sessions 15 s after the load: got %lld, want 0",
		     metric("mailedge_sessions_active"));
	snprintf(want, sizeof(want), "member 127.0.0.1:%d is down", lab.sink[1].port);
	cr_assert_geq(pl_log_wait(&lab, want, 1, 3000), 1, "proxy log: no '%s'", want);
	finish();
}

/* ====================================================================== */
/* Metrics                                                                 */
/* ====================================================================== */

Test(proxy_pool, metrics)
{
	struct pl_client c;
	char series[256], *m;
	int i;

	fake(0, NULL);
	fake(1, NULL);
	start(NULL, NULL, NULL,
	      "{ name = \"main\"; members = ( \"127.0.0.1:@F0@\", \"127.0.0.1:@F1@\" ); " HEALTH
	      " }");
	session(&c, UNTRUSTED);
	cmd(&c, "250", "MAIL FROM:<alice@example.org>");
	for (i = 0; i < 3; i++)
		cmd(&c, "554 5.7.1", "RCPT TO:<r%d@elsewhere.example>", i);
	cmd(&c, "250", "RCPT TO:<bob@example.org>");
	cmd(&c, "354", "DATA");
	body(&c, "Subject: m\r\n\r\nx\r\n", "250");
	cmd(&c, "502", "VRFY bob");
	quit(&c);
	session(&c, TRUSTED);
	deliver(&c, "alice@example.org", "carol@elsewhere.example", "Subject: m2\r\n\r\ny\r\n");
	quit(&c);
	pl_fake_settle(&lab, 0, 3000);
	m = metrics();
	cr_assert_eq(pl_metric(m, "mailedge_sessions_total"), 2, "sessions_total: got %lld, want 2",
		     pl_metric(m, "mailedge_sessions_total"));
	cr_assert_eq(pl_metric(m, "mailedge_rejects_total{reason=\"relay\"}"), 3,
		     "relay rejects: got %lld, want 3",
		     pl_metric(m, "mailedge_rejects_total{reason=\"relay\"}"));
	cr_assert_eq(pl_metric(m, "mailedge_rejects_total{reason=\"denied_command\"}"), 1,
		     "denied_command rejects: got %lld, want 1",
		     pl_metric(m, "mailedge_rejects_total{reason=\"denied_command\"}"));
	cr_assert_eq(pl_metric(m, "mailedge_messages_total{outcome=\"accepted\"}"), 2,
		     "accepted messages: got %lld, want 2",
		     pl_metric(m, "mailedge_messages_total{outcome=\"accepted\"}"));
	for (i = 0; i < 2; i++) {
		snprintf(series, sizeof(series),
			 "mailedge_backend_up{pool=\"main\",member=\"127.0.0.1:%d\"}",
			 lab.fake[i].port);
		cr_assert_eq(pl_metric(m, series), 1, "%s: got %lld, want 1", series,
			     pl_metric(m, series));
	}
	cr_assert(strstr(m, "# TYPE mailedge_sessions_total counter"),
		  "no TYPE line for sessions_total");
	free(m);
	finish();
}

/* ====================================================================== */
/* Configuration                                                           */
/* ====================================================================== */

/* mailedge-proxy -c FILE ARGS with the configuration text. */
static int run_proxy(char **out, const char *conf, const char *args)
{
	cr_assert_eq(pl_conf_write(&lab, conf), 0, "writing %s", lab.conf);
	return pl_sh(out, 15000, "%s -c %s %s", tenv_bin("mailedge-proxy"), lab.conf, args);
}

Test(proxy_cfg, check_valid)
{
	char conf[8192], *out;
	int st;

	make_conf(conf, sizeof(conf), NULL, NULL, NULL, NULL);
	st = run_proxy(&out, conf, "-t");
	cr_assert(
	    st == 0 && strstr(out, "configuration OK"),
	    "-t on a valid configuration: got status %d and '%s', want 0 and 'configuration OK'",
	    st, out);
	cr_assert(!pl_sanitizer(out), "-t: a sanitizer report:\n%s", out);
	free(out);
}

/* The user the proxy runs as must exist: -t says so rather than OK, and a
 * start fails before it binds anything. */
Test(proxy_cfg, user_must_exist)
{
	char *out;
	int st, mode;

	for (mode = 0; mode < 2; mode++) {
		st = run_proxy(&out,
			       "hostname = \"mx.test\";\nuser = \"no-such-user-mailedge\";\n"
			       "listeners = ( { listen = \"127.0.0.1:@P0@\"; } );\n"
			       "pools = ( { name = \"p\"; members = ( \"127.0.0.1:25\" ); } );\n",
			       mode ? "" : "-t");
		cr_assert(st == 2 && strstr(out, "user 'no-such-user-mailedge' does not exist"),
			  "%s with a missing user: got status %d and '%s', want 2 and 'does not "
			  "exist'",
			  mode ? "a start" : "-t", st, out);
		free(out);
	}
}

struct cfg_case {
	char name[24];
	char conf[768]; /* a whole configuration; @TLS@ etc. expanded */
	char want[96];	/* in the error */
	int line;	/* the file:line it must name, 0: none */
};

#define CFG_BASE                                                                                   \
	"hostname = \"mx.test\";\nlisteners = ( { listen = \"127.0.0.1:@P0@\"; } );\n"             \
	"pools = ( { name = \"p\"; members = ( \"127.0.0.1:25\" ); } );\n"

static const struct cfg_case cfg_cases[] = {
	{ "syntax", CFG_BASE "limits = { recipients = ; };\nuser = \"x\";\n", "syntax error", 4 },
	{ "unknown top", CFG_BASE "frobnicate = 1;\n", "unknown setting 'frobnicate'", 4 },
	{ "unknown limit", CFG_BASE "limits = {\n  recipients = 5;\n  max_cats = 3;\n};\n",
	  "unknown setting 'max_cats'", 6 },
	{ "bad limit", CFG_BASE "limits = { command_line = 100; };\n", "command_line", 0 },
	{ "bad duration", CFG_BASE "limits = { command_timeout = \"soon\"; };\n", "command_timeout",
	  0 },
	{ "starttls no cert",
	  "listeners = ( { listen = \"127.0.0.1:@P0@\"; starttls = \"required\"; } );\n"
	  "pools = ( { name = \"p\"; members = ( \"127.0.0.1:25\" ); } );\n",
	  "TLS needs tls_profile, or cert and key", 0 },
	{ "missing cert",
	  "listeners = ( { listen = \"127.0.0.1:@P0@\"; starttls = \"optional\"; "
	  "cert = \"/nonexistent/mx.pem\"; key = \"/nonexistent/mx.key\"; } );\n"
	  "pools = ( { name = \"p\"; members = ( \"127.0.0.1:25\" ); } );\n",
	  "/nonexistent/mx.pem", 0 },
	{ "no pool", "listeners = ( { listen = \"127.0.0.1:@P0@\"; } );\n", "no backend pool", 0 },
	{ "unknown pool",
	  "listeners = ( { listen = \"127.0.0.1:@P1@\"; pool = \"nope\"; } );\n"
	  "pools = ( { name = \"p\"; members = ( \"127.0.0.1:25\" ); } );\n",
	  "no pool named nope", 0 },
	{ "bad member",
	  "listeners = ( { listen = \"127.0.0.1:@P0@\"; } );\n"
	  "pools = ( { name = \"p\"; members = ( \"mx.example.org\" ); } );\n",
	  "not ADDR:PORT", 0 },
	{ "bad pass_client",
	  "listeners = ( { listen = \"127.0.0.1:@P0@\"; } );\n"
	  "pools = ( { name = \"p\"; pass_client = \"smoke\"; members = ( \"127.0.0.1:25\" ); } "
	  ");\n",
	  "pass_client", 0 },
	{ "deny EHLO", CFG_BASE "deny_commands = [ \"EHLO\" ];\n", "cannot be denied", 0 },
	{ "deny_reply 2xx", CFG_BASE "deny_reply = \"250 sure\";\n", "deny_reply", 0 },
	{ "bad relay net", CFG_BASE "relay_networks = [ \"10.0.0.0/33\" ];\n", "10.0.0.0/33", 0 },
	{ "errors soft>hard", CFG_BASE "limits = { errors_soft = 30; errors_hard = 20; };\n",
	  "errors_soft", 0 },
};

ParameterizedTestParameters(proxy_cfg, config_error)
{
	return cr_make_param_array(struct cfg_case, cfg_cases,
				   sizeof(cfg_cases) / sizeof(cfg_cases[0]));
}

ParameterizedTest(const struct cfg_case *t, proxy_cfg, config_error)
{
	char where[300], *out;
	int st, mode;

	for (mode = 0; mode < 2; mode++) { /* with -t, and starting for real */
		st = run_proxy(&out, t->conf, mode ? "--user nobody" : "-t");
		cr_assert_eq(st, 2, "%s (%s): got status %d, want 2; output:\n%s", t->name,
			     mode ? "start" : "-t", st, out);
		cr_assert(strstr(out, t->want), "%s (%s): got '%s', want it to say '%s'", t->name,
			  mode ? "start" : "-t", out, t->want);
		if (t->line) {
			snprintf(where, sizeof(where), "%s:%d", lab.conf, t->line);
			cr_assert(strstr(out, where), "%s: got '%s', want the place '%s'", t->name,
				  out, where);
		}
		cr_assert(!pl_sanitizer(out), "%s: a sanitizer report:\n%s", t->name, out);
		free(out);
	}
}

Test(proxy_cfg, flags_only)
{
	struct pl_client c;
	char *out, args[512];
	int st;

	fake(0, NULL);
	close(lab.hold[0]); /* bound by the flags' listener, not through the lab */
	lab.hold[0] = -1;
	snprintf(args, sizeof(args),
		 "--listen 127.0.0.1:%d --backend 127.0.0.1:%d --domain example.org --hostname "
		 "flags.test "
		 "--user nobody --workers 1",
		 lab.port[0], lab.fake[0].port);
	st = pl_sh(&out, 10000, "%s %s -t", tenv_bin("mailedge-proxy"), args);
	cr_assert(st == 0 && strstr(out, "configuration OK"), "flags with -t: got %d, want 0: %s",
		  st, out);
	free(out);
	st = pl_sh(&out, 10000, "%s --starttls required --backend 127.0.0.1:25",
		   tenv_bin("mailedge-proxy"));
	cr_assert_eq(st, 2, "--starttls without --listen: got %d, want 2: %s", st, out);
	free(out);
	st = pl_sh(&out, 10000,
		   "%s --listen 127.0.0.1:%d --backend 127.0.0.1:25 --starttls required -t",
		   tenv_bin("mailedge-proxy"), lab.port[0]);
	cr_assert(st == 2 && strstr(out, "cert"), "--starttls required without --cert: got %d: %s",
		  st, out);
	free(out);
	/* And for real: mail for --domain passes, no relaying anywhere else. */
	st = pl_proxy_run(&lab, args);
	cr_assert_eq(st, 0, "starting with flags only: got %d; log:\n%s", st, proxy_log());
	open_client(&c, TRUSTED);
	cr_assert(starts(rbuf, "220 flags.test ESMTP"),
		  "banner: got '%s', want '220 flags.test ESMTP'", rbuf);
	ehlo(&c, "client.test");
	cmd(&c, "250", "MAIL FROM:<alice@example.net>");
	cmd(&c, "554 5.7.1", "RCPT TO:<carol@elsewhere.example>");
	cmd(&c, "250", "RCPT TO:<bob@example.org>");
	cmd(&c, "354", "DATA");
	body(&c, "Subject: flags\r\n\r\nx\r\n", "250");
	quit(&c);
	cr_assert_eq(seen_count(0, "message", NULL, NULL), 1, "messages: got %d, want 1",
		     seen_count(0, "message", NULL, NULL));
	finish();
}

/* ====================================================================== */
/* Signals: SIGHUP reloads, SIGTERM drains                                 */
/* ====================================================================== */

Test(proxy, sighup_reload)
{
	char conf[8192];
	struct pl_client old, c;

	fake(0, NULL);
	make_conf(conf, sizeof(conf), "relay_domains = [ \"example.org\" ];\n", NULL, NULL, NULL);
	start_conf(conf);
	session(&c, UNTRUSTED);
	cmd(&c, "250", "MAIL FROM:<alice@example.net>");
	cmd(&c, "554 5.7.1", "RCPT TO:<x@new.example>");
	quit(&c);
	/* A session open across the reload. */
	open_client(&old, UNTRUSTED);
	ehlo(&old, "old.test");
	cmd(&old, "250", "MAIL FROM:<alice@example.net>");
	make_conf(conf, sizeof(conf), "relay_domains = [ \"example.org\", \"new.example\" ];\n",
		  NULL, NULL, NULL);
	cr_assert_eq(pl_conf_write(&lab, conf), 0, "rewriting the configuration");
	pl_proxy_signal(&lab, SIGHUP);
	cr_assert_eq(pl_log_wait(&lab, "configuration reloaded", 1, 5000), 1,
		     "after SIGHUP: got no 'configuration reloaded'; log:\n%s", proxy_log());
	session(&c, UNTRUSTED);
	deliver(&c, "alice@example.net", "x@new.example", "Subject: new rule\r\n\r\nx\r\n");
	quit(&c);
	/* The old session keeps its configuration, and works. */
	cmd(&old, "250", "RCPT TO:<bob@example.org>");
	cmd(&old, "354", "DATA");
	body(&old, "Subject: across\r\n\r\nacross the reload\r\n", "250");
	quit(&old);
	/* A broken configuration is refused; the running one stays. */
	cr_assert_eq(pl_conf_write(&lab, "this is { not a configuration"), 0, "rewriting");
	pl_proxy_signal(&lab, SIGHUP);
	cr_assert_eq(pl_log_wait(&lab, "reload refused", 1, 5000), 1,
		     "a broken configuration: got no 'reload refused'; log:\n%s", proxy_log());
	session(&c, UNTRUSTED);
	cmd(&c, "250", "MAIL FROM:<alice@example.net>");
	cmd(&c, "250", "RCPT TO:<y@new.example>");
	cmd(&c, "554 5.7.1", "RCPT TO:<y@other.example>");
	quit(&c);
	cr_assert_eq(seen_count(0, "message", "data", "across the reload"), 1,
		     "the message across the reload: got %d at the backend, want 1",
		     seen_count(0, "message", "data", "across the reload"));
	finish();
}

Test(proxy, sigterm_drains)
{
	struct pl_client a, b;
	int rc, st;

	fake(0, NULL);
	start(NULL, NULL, NULL, NULL);
	session(&a, UNTRUSTED);
	cmd(&a, "250", "MAIL FROM:<alice@example.org>");
	cmd(&a, "250", "RCPT TO:<bob@example.org>");
	pl_proxy_signal(&lab, SIGTERM);
	cr_assert_eq(pl_log_wait(&lab, "draining", 1, 3000), 1,
		     "after SIGTERM: no 'draining' in the log");
	usleep(200 * 1000);
	rc = pl_connect(&b, UNTRUSTED, lab.port[0]);
	if (!rc) {
		int code = pl_reply(&b, rbuf, sizeof(rbuf), 2000);

		cr_assert_neq(code, 220, "a new session while draining: got '%s', want no banner",
			      rbuf);
	}
	pl_close(&b);
	cr_assert_eq(pl_proxy_wait(&lab, 300), -ETIMEDOUT,
		     "the proxy exited (status %d) with a session in a transaction",
		     lab.proxy_status);
	cmd(&a, "354", "DATA");
	body(&a, "Subject: drained\r\n\r\nfinished while draining\r\n", "250");
	quit(&a);
	st = pl_proxy_wait(&lab, 5000);
	cr_assert_eq(st, 0, "exit status after draining: got %d, want 0; log:\n%s", st,
		     proxy_log());
	cr_assert_eq(seen_count(0, "message", "data", "while draining"), 1,
		     "the drained message at the backend: got %d, want 1",
		     seen_count(0, "message", "data", "while draining"));
	finish();
}

/* At the end of the drain, a session still open hears why it is closed:
 * 421 4.3.2, in plain SMTP and inside TLS alike, and the proxy exits 0. */
Test(proxy, sigterm_drain_deadline_says_421)
{
	struct pl_client a, b;
	long long t0;
	int st;

	start_tls(NULL, LIM_DEFAULT "drain_timeout = \"1s\";");
	session(&a, UNTRUSTED);
	session(&b, UNTRUSTED);
	starttls(&b);
	ehlo(&b, "client.test");
	cmd(&a, "250", "MAIL FROM:<alice@example.org>");
	t0 = now_ms();
	pl_proxy_signal(&lab, SIGTERM);
	expect(&a, "421 4.3.2", "a session in a transaction at the drain deadline");
	cr_assert_geq(now_ms() - t0, 800,
		      "the 421 came after %lld ms, want it at the deadline (1 s)", now_ms() - t0);
	expect(&b, "421 4.3.2", "a TLS session at the drain deadline");
	cr_assert(pl_wait_close(&a, 2000),
		  "after the 421: got the connection open, want it closed");
	pl_close(&a);
	pl_close(&b);
	st = pl_proxy_wait(&lab, 5000);
	cr_assert_eq(st, 0, "exit status after the drain: got %d, want 0; log:\n%s", st,
		     proxy_log());
	finish();
}

/* A second proxy on a port the first one listens on refuses to start, as
 * nginx and Postfix do, instead of sharing it through SO_REUSEPORT; the
 * first one's workers still share theirs (it runs with two). */
Test(proxy, second_instance_refused)
{
	struct pl_client c;
	char *out = NULL, want[96];
	int st;

	fake(0, NULL);
	start(NULL, NULL, NULL, NULL);
	/* Without the metrics port, which would also clash: it is the
	 * listener the second one must stumble on. */
	st =
	    pl_sh(&out, 20000, "sed '/^metrics/d' %s > %s/second.conf && %s -c %s/second.conf 2>&1",
		  lab.conf, lab.dir, tenv_bin("mailedge-proxy"), lab.dir);
	snprintf(want, sizeof(want), "127.0.0.1:%d: Address already in use (held by another socket",
		 lab.port[0]);
	cr_assert(st == 2 && strstr(out, want),
		  "a second proxy on the same port: got status %d and '%s', want 2 and '%s'", st,
		  out, want);
	free(out);
	session(&c, UNTRUSTED); /* the first one still serves */
	quit(&c);
	finish();
}

/* The metrics endpoint answers and closes ("Connection: close"): a scrape
 * does not hold a connection open. */
Test(proxy_pool, metrics_close)
{
	struct pl_client c;
	long long t0;
	int closed;

	fake(0, NULL);
	start(NULL, NULL, NULL, NULL);
	cr_assert_eq(pl_connect(&c, NULL, lab.metrics_port), 0, "connecting to the metrics port");
	pl_send(&c, "GET /metrics HTTP/1.0\r\n\r\n");
	t0 = now_ms();
	closed = pl_wait_close(&c, 4000);
	cr_assert(strstr(c.in, "HTTP/1.0 200 OK") && strstr(c.in, "mailedge_sessions_total"),
		  "GET /metrics: got '%.200s', want 200 and the metrics", c.in);
	cr_assert(closed,
		  "metrics connection: got it still open %lld ms after the answer, want it "
		  "closed (Connection: close)",
		  now_ms() - t0);
	pl_close(&c);
	finish();
}

/* After the last reply (221, 421) the connection closes at once, and the
 * session is gone: it no longer counts against max_per_client. */
Test(proxy, closes_after_last_reply)
{
	struct pl_client c;
	long long t0;
	int i;

	fake(0, NULL);
	start(NULL, LIM_DEFAULT "max_per_client = 1;", NULL, NULL);
	for (i = 0; i < 3; i++) {
		session(&c, UNTRUSTED);
		cmd(&c, "221", "QUIT");
		t0 = now_ms();
		cr_assert(pl_wait_close(&c, 3000),
			  "after 221: got the connection open 3 s later, want it "
			  "closed");
		cr_assert_lt(now_ms() - t0, 1000, "closed %lld ms after the 221, want at once",
			     now_ms() - t0);
		pl_close(&c);
	}
	finish();
}

/* ====================================================================== */
/* More of the data path                                                   */
/* ====================================================================== */

struct big_case {
	int tls;
};

static const struct big_case big_cases[] = { { 0 }, { 1 } };

ParameterizedTestParameters(proxy_tls, large_message_streamed)
{
	return cr_make_param_array(struct big_case, big_cases, 2);
}

/* 6 MB through a backend that reads slowly: the proxy's flow control pauses
 * the client and resumes it, and the backend gets every byte, in order. */
ParameterizedTest(const struct big_case *t, proxy_tls, large_message_streamed)
{
	size_t n = 6u << 20, o = 0, i;
	char *text = malloc(n + 1), hex[65], size[32];
	unsigned char md[32];
	unsigned int mdlen = 0;
	struct pl_client c;
	json_object *a, *m;

	cr_assert_not_null(text);
	o = (size_t)snprintf(text, n, "Subject: large\r\n\r\n");
	for (i = 0; o + 80 <= n; i++) {
		int k = snprintf(text + o, n - o, "%08zu ", i);

		memset(text + o + k, 'a' + (char)(i % 26), 78 - (size_t)k);
		memcpy(text + o + 78, "\r\n", 2);
		o += 80;
	}
	text[o] = '\0';
	EVP_Digest(text, o, md, &mdlen, EVP_sha256(), NULL);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	start_tls(NULL, LIM_DEFAULT "data_timeout = \"20s\";");
	pl_fake_control(&lab, 0, "{\"read_delay_ms\": 15}");
	session(&c, UNTRUSTED);
	if (t->tls) {
		starttls(&c);
		ehlo(&c, "client.test");
	}
	snprintf(size, sizeof(size), "SIZE=%zu", o);
	start_data_params(&c, "alice@example.org", size, "bob@example.org");
	for (i = 0; i < o; i += 65536)
		cr_assert_eq(pl_write(&c, text + i, o - i < 65536 ? o - i : 65536), 0,
			     "writing the message at %zu: connection closed", i);
	free(text);
	body(&c, "", "250");
	quit(&c);
	a = seen(0);
	m = nth(a, "message", 0);
	cr_assert_eq(ifield(m, "size"), (long long)o, "size at the backend: got %lld, want %zu",
		     ifield(m, "size"), o);
	cr_assert_str_eq(field(m, "sha256"), hex, "SHA-256 at the backend: got %s, want %s",
			 field(m, "sha256"), hex);
	json_object_put(a);
	finish();
}

Test(proxy, auth_login_and_cancel)
{
	struct pl_client c;

	fake(0, "--auth user:secret");
	start(NULL, NULL, NULL, NULL);
	wait_cap("AUTH");
	session(&c, UNTRUSTED);
	/* PLAIN without an initial response, cancelled with "*". */
	cmd(&c, "334", "AUTH PLAIN");
	cmd(&c, "501", "*");
	/* A malformed answer: refused here, not relayed. */
	cmd(&c, "334", "AUTH LOGIN");
	cmd(&c, "501 5.5.2", "not base64!");
	/* LOGIN, step by step. */
	cmd(&c, "334 VXNlcm5hbWU6", "AUTH LOGIN");
	cmd(&c, "334 UGFzc3dvcmQ6", "dXNlcg==");
	cmd(&c, "235", "c2VjcmV0");
	/* Authenticated: relays to a foreign domain. */
	deliver(&c, "user@example.org", "carol@elsewhere.example", "Subject: login\r\n\r\nx\r\n");
	quit(&c);
	cr_assert_eq(seen_count(0, "cmd", "line", "not base64"), 0,
		     "a malformed SASL answer reached the backend");
	cr_assert_eq(seen_count(0, "auth", "user", "user"), 1,
		     "good AUTHs at the backend: got %d, want 1",
		     seen_count(0, "auth", "user", "user"));
	finish();
}

/* The backend closes an idle connection between two transactions: the next
 * MAIL gets a new connection, and the client notices nothing. */
Test(proxy_pool, backend_closes_between_transactions)
{
	struct pl_client c;

	fake(0, NULL);
	start(NULL, NULL, NULL, NULL);
	pl_fake_control(&lab, 0, "{\"close_after_data\": true}");
	session(&c, UNTRUSTED);
	deliver(&c, "alice@example.org", "bob@example.org", "Subject: one\r\n\r\nx\r\n");
	pl_fake_wait(&lab, 0, "closing", 1, 2000);
	usleep(200 * 1000);
	deliver(&c, "alice@example.org", "bob@example.org", "Subject: two\r\n\r\ny\r\n");
	quit(&c);
	cr_assert_eq(seen_count(0, "message", NULL, NULL), 2, "messages: got %d, want 2",
		     seen_count(0, "message", NULL, NULL));
	finish();
}

/* The backend's answer to the end of data is the client's answer. */
Test(proxy_pool, backend_refuses_message)
{
	struct pl_client c;

	fake(0, NULL);
	start(NULL, NULL, NULL, NULL);
	pl_fake_control(&lab, 0, "{\"data_end_reply\": \"452 4.3.1 Insufficient system storage\"}");
	session(&c, UNTRUSTED);
	start_data(&c, "alice@example.org", "bob@example.org");
	body(&c, "Subject: full\r\n\r\nx\r\n", "452 4.3.1 Insufficient system storage");
	quit(&c);
	cr_assert_eq(metric("mailedge_messages_total{outcome=\"accepted\"}"), 0,
		     "accepted messages: got %lld, want 0",
		     metric("mailedge_messages_total{outcome=\"accepted\"}"));
	finish();
}

Test(proxy_tls, starttls_in_transaction_refused)
{
	struct pl_client c;

	start_tls(NULL, NULL);
	session(&c, UNTRUSTED);
	cmd(&c, "250", "MAIL FROM:<alice@example.org>");
	cmd(&c, "503", "STARTTLS");
	cmd(&c, "501", "STARTTLS now");
	cmd(&c, "250", "RSET");
	starttls(&c);
	ehlo(&c, "client.test");
	deliver(&c, "alice@example.org", "bob@example.org", "Subject: t\r\n\r\nx\r\n");
	quit(&c);
	finish();
}

/* smtp-source through the proxy to two smtp-sinks: everything sent lands. */
Test(proxy_load, smtp_source_to_sinks)
{
	char *out;
	int st, n0, n1;

	sink(0);
	sink(1);
	/* (max_per_client high: what is tested is delivery, and sessions that
	 * linger after QUIT are closes_after_last_reply's business.) */
	start(NULL, LIM_DEFAULT "max_per_client = 100000;", NULL,
	      "{ name = \"main\"; members = ( \"127.0.0.1:@S0@\", \"127.0.0.1:@S1@\" ); " HEALTH
	      " }");
	st = pl_sh(&out, 60000,
		   "smtp-source -s 10 -m 300 -l 2000 -t to@example.org -f from@example.net "
		   "-M source.test 127.0.0.1:%d",
		   lab.port[0]);
	cr_assert_eq(st, 0, "smtp-source: got status %d, want 0: %s", st, out);
	free(out);
	pl_sh(&out, 5000, "ls %s | wc -l", lab.sink[0].dir);
	n0 = atoi(out);
	free(out);
	pl_sh(&out, 5000, "ls %s | wc -l", lab.sink[1].dir);
	n1 = atoi(out);
	free(out);
	cr_assert_eq(n0 + n1, 300, "messages in the sinks: got %d + %d, want 300", n0, n1);
	cr_assert(n0 >= 100 && n1 >= 100, "balance over two sinks: got %d:%d, want about even", n0,
		  n1);
	cr_assert_eq(metric("mailedge_messages_total{outcome=\"accepted\"}"), 300,
		     "accepted messages: got %lld, want 300",
		     metric("mailedge_messages_total{outcome=\"accepted\"}"));
	finish();
}

/* ====================================================================== */
/* IPv6                                                                    */
/* ====================================================================== */

#define LISTEN_V4_V6 "{ listen = \"127.0.0.1:@P0@\"; }, { listen = \"[::1]:@P3@\"; }"

struct v6_case {
	char pass[16];
};

static const struct v6_case v6_cases[] = { { "proxy-v2" }, { "proxy-v1" }, { "xclient" } };

ParameterizedTestParameters(proxy_pool, ipv6_client)
{
	return cr_make_param_array(struct v6_case, v6_cases,
				   sizeof(v6_cases) / sizeof(v6_cases[0]));
}

/* A client on [::1]: trusted by an IPv6 relay network, and described to the
 * backend as an IPv6 client (TCP6 header, or XCLIENT ADDR=IPV6:...). */
ParameterizedTest(const struct v6_case *t, proxy_pool, ipv6_client)
{
	int xclient = !strcmp(t->pass, "xclient");
	char pools[512], port[16], top[512];
	struct pl_client c;
	json_object *a, *p = NULL, *attrs;
	size_t i, n;

	fake(0, xclient ? "--xclient" : "--expect-proxy");
	snprintf(pools, sizeof(pools), POOL_PASS("%s"), t->pass);
	snprintf(top, sizeof(top), "relay_domains = [ \"example.org\" ];\n"
				   "relay_networks = [ \"::1/128\" ];\n%s",
		 xclient ? pxc_dns_none() : "");
	start(top, NULL, LISTEN_V4_V6, pools);
	if (xclient)
		pl_fake_wait(&lab, 0, "ehlo", 1, 3000);
	/* IPv4 127.0.0.3: not in ::1/128. */
	open_client(&c, UNTRUSTED);
	ehlo(&c, "v4.test");
	cmd(&c, "250", "MAIL FROM:<alice@example.org>");
	cmd(&c, "554 5.7.1", "RCPT TO:<carol@elsewhere.example>");
	quit(&c);
	cr_assert_eq(pl_connect_to(&c, "::1", "::1", lab.port[3]), 0, "connect to [::1]: %s",
		     c.err);
	expect(&c, "220", "banner on [::1]");
	ehlo(&c, "v6.test");
	deliver(&c, "alice@example.org", "carol@elsewhere.example", "Subject: v6\r\n\r\nx\r\n");
	quit(&c);
	a = seen(0);
	n = json_object_array_length(a);
	for (i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(a, i);

		if (!strcmp(field(o, "ev"), xclient ? "xclient" : "proxy") &&
		    (xclient || !strcmp(field(o, "family"), "TCP6")))
			p = o;
	}
	cr_assert_not_null(p, "%s: no IPv6 client description at the backend: %s", t->pass,
			   json_object_to_json_string(a));
	snprintf(port, sizeof(port), "%d", c.lport);
	if (xclient) {
		json_object_object_get_ex(p, "attrs", &attrs);
		cr_assert_str_eq(field(attrs, "ADDR"), "IPV6:::1",
				 "XCLIENT ADDR: got '%s', want IPV6:::1", field(attrs, "ADDR"));
		cr_assert_str_eq(field(attrs, "PORT"), port, "XCLIENT PORT: got '%s', want %s",
				 field(attrs, "PORT"), port);
	} else {
		cr_assert_str_eq(field(p, "src"), "::1", "%s source: got '%s'", t->pass,
				 field(p, "src"));
		cr_assert_str_eq(field(p, "dst"), "::1", "%s destination: got '%s'", t->pass,
				 field(p, "dst"));
		cr_assert_eq(ifield(p, "sport"), c.lport, "%s source port: got %lld, want %d",
			     t->pass, ifield(p, "sport"), c.lport);
		cr_assert_eq(ifield(p, "dport"), lab.port[3],
			     "%s destination port: got %lld, want %d", t->pass, ifield(p, "dport"),
			     lab.port[3]);
	}
	json_object_put(a);
	finish();
}

/* A reload that adds a member: new sessions use it; the kept member keeps
 * its health state. */
Test(proxy_pool, reload_adds_member)
{
	char conf[8192];
	struct pl_client c;
	int i;

	fake(0, NULL);
	fake(1, NULL);
	make_conf(conf, sizeof(conf), NULL, NULL, NULL, POOL_F0);
	start_conf(conf);
	for (i = 0; i < 2; i++)
		one_session(&c);
	make_conf(conf, sizeof(conf), NULL, NULL, NULL,
		  "{ name = \"main\"; members = ( \"127.0.0.1:@F0@\", \"127.0.0.1:@F1@\" ); " HEALTH
		  " }");
	cr_assert_eq(pl_conf_write(&lab, conf), 0, "rewriting the configuration");
	pl_proxy_signal(&lab, SIGHUP);
	cr_assert_eq(pl_log_wait(&lab, "configuration reloaded", 1, 5000), 1,
		     "after SIGHUP: no 'configuration reloaded'; log:\n%s", proxy_log());
	for (i = 0; i < 4; i++)
		one_session(&c);
	cr_assert_eq(seen_count(0, "message", NULL, NULL), 4,
		     "messages at member 0: got %d, want 4", seen_count(0, "message", NULL, NULL));
	cr_assert_eq(seen_count(1, "message", NULL, NULL), 2,
		     "messages at the new member: got %d, want 2",
		     seen_count(1, "message", NULL, NULL));
	cr_assert_eq(
	    metric("mailedge_backend_up{pool=\"main\",member=\"127.0.0.1:%d\"}", lab.fake[1].port),
	    1, "the new member in the metrics: got %lld, want up=1",
	    metric("mailedge_backend_up{pool=\"main\",member=\"127.0.0.1:%d\"}", lab.fake[1].port));
	finish();
}

/* The keys are read as root at start (systemd unit: "Binds its ports and
 * reads its keys as root, then runs as the configured user"); a reload must
 * work with such a key too, not only with one that nobody can read. */
Test(proxy_tls, sighup_reload_with_root_only_key)
{
	char conf[8192], *out;
	struct pl_client c;
	int n_ok, n_refused;

	cr_assert_eq(pl_make_certs(&lab), 0, "making the test CA");
	snprintf(ca_path, sizeof(ca_path), "%s/ca.pem", lab.tls);
	pl_sh(&out, 5000, "chmod 0600 %s/srv.key", lab.tls);
	free(out);
	fake(0, NULL);
	make_conf(conf, sizeof(conf), "relay_domains = [ \"example.org\" ];\n", NULL, LISTEN_TLS,
		  NULL);
	start_conf(conf);
	make_conf(conf, sizeof(conf), "relay_domains = [ \"example.org\", \"new.example\" ];\n",
		  NULL, LISTEN_TLS, NULL);
	cr_assert_eq(pl_conf_write(&lab, conf), 0, "rewriting the configuration");
	pl_proxy_signal(&lab, SIGHUP);
	pl_log_wait(&lab, "reload", 1, 5000);
	n_ok = pl_log_wait(&lab, "configuration reloaded", 1, 500);
	n_refused = pl_log_wait(&lab, "reload refused", 1, 0);
	cr_assert(
	    n_ok == 1 && !n_refused,
	    "SIGHUP with a 0600 root key: got reloaded=%d refused=%d, want reloaded; log:\n%s",
	    n_ok, n_refused, proxy_log());
	session(&c, UNTRUSTED);
	/* the key the keeper read for the reload is the one TLS now uses */
	starttls(&c);
	ehlo(&c, "client.test");
	cmd(&c, "250", "MAIL FROM:<alice@example.net>");
	cmd(&c, "250", "RCPT TO:<x@new.example>");
	quit(&c);
	finish();
}

/*
 * RFC 6531: a non-ASCII mailbox only in a transaction that said SMTPUTF8 (for
 * the recipients as for the sender), and then only as well-formed UTF-8;
 * neither kind of refusal reaches the backend.
 */
Test(proxy, smtputf8_addresses)
{
	struct pl_client c;
	json_object *a;

	fake(0, "--smtputf8");
	start(NULL, NULL, NULL, NULL);
	wait_cap("SMTPUTF8");
	session(&c, UNTRUSTED);
	cmd(&c, "553 5.6.7", "MAIL FROM:<j\xc3\xb6rg@example.org>");
	cmd(&c, "250", "MAIL FROM:<alice@example.org>");
	cmd(&c, "553 5.6.7",
	    "RCPT TO:<b\xc3\xa9"
	    "a@example.org>");
	cmd(&c, "250", "RSET");
	cmd(&c, "250", "MAIL FROM:<j\xc3\xb6rg@example.org> SMTPUTF8");
	cmd(&c, "501 5.1.3",
	    "RCPT TO:<b\xe9"
	    "a@example.org>");					    /* latin-1 */
	cmd(&c, "501 5.1.3", "RCPT TO:<\xc0\xafx@example.org>");    /* overlong */
	cmd(&c, "501 5.1.3", "RCPT TO:<\xed\xa0\x80@example.org>"); /* surrogate */
	cmd(&c, "250",
	    "RCPT TO:<b\xc3\xa9"
	    "a@example.org>");
	cmd(&c, "354", "DATA");
	body(&c, "Subject: utf8\r\n\r\nok\r\n", "250");
	quit(&c);
	a = seen(0);
	cr_assert_eq(pl_count(a, "rcpt", NULL, NULL), 1,
		     "RCPTs at the backend: got %d, want 1 (the well-formed one, in SMTPUTF8)",
		     pl_count(a, "rcpt", NULL, NULL));
	/* The fake logs bytes as latin-1: b, 0xc3, 0xa9, a is "bÃ©a" in its log. */
	cr_assert_eq(pl_count(a, "rcpt", "to",
			      "b\xc3\x83\xc2\xa9"
			      "a@example.org"),
		     1,
		     "the RCPT at the backend is not b\xc3\xa9"
		     "a@example.org");
	cr_assert_eq(pl_count(a, "mail", NULL, NULL), 2,
		     "MAILs at the backend: got %d, want 2 (the ASCII one, the SMTPUTF8 one)",
		     pl_count(a, "mail", NULL, NULL));
	json_object_put(a);
	finish();
}

/* Routing hidden in the local part of a recipient in a local domain: Postfix
 * (allow_percent_hack, swap_bangpath, resolve_dequoted_address: all on by
 * default) resolves these to the remote domain, and a backend that trusts the
 * proxy's address would relay them. The proxy must judge them the way the
 * backend's own reject_unauth_destination would: as relaying. */
Test(proxy, relay_routing_in_local_part_denied)
{
	static const char *const rcpts[] = {
		"carol%elsewhere.example@example.org",
		"elsewhere.example!carol@example.org",
		"\"carol@elsewhere.example\"@example.org",
	};
	struct pl_client c;
	char got[3][256];
	size_t i;
	int bad = 0;

	fake(0, NULL);
	start(NULL, NULL, NULL, NULL);
	session(&c, UNTRUSTED);
	cmd(&c, "250", "MAIL FROM:<mallory@foreign.example>");
	for (i = 0; i < 3; i++) {
		pl_send(&c, "RCPT TO:<%s>\r\n", rcpts[i]);
		pl_reply(&c, rbuf, sizeof(rbuf), 10000);
		snprintf(got[i], sizeof(got[i]), "%.*s", (int)strcspn(rbuf, "\r\n"), rbuf);
		bad += starts(rbuf, "250");
	}
	quit(&c);
	cr_assert_eq(
	    bad, 0,
	    "untrusted client, RCPT with routing in the local part:\n  <%s>: %s\n  <%s>: %s\n"
	    "  <%s>: %s\nwant each 554 5.7.1 (relaying), not 250",
	    rcpts[0], got[0], rcpts[1], got[1], rcpts[2], got[2]);
	finish();
}
