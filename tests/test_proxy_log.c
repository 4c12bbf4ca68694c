// SPDX-License-Identifier: GPL-2.0
/*
 * test_proxy_log.c - what mailedge-proxy logs about a session, read back the
 * way a log tool would (tests/lib/kvparse.c).
 *
 * Clients choose much of what is logged: HELO names, addresses (a quoted local
 * part may hold spaces, quotes and "="), and the replies that quote them. None
 * of it may turn into a field of its own: every line about a session carries
 * exactly one id and one client, in one format, and the values come back as
 * they were sent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>

#include "lib/kvparse.h"
#include "lib/proxylab.h"
#include "lib/pxcase.h"

TestSuite(proxy_log, .init = pxc_setup, .fini = pxc_teardown, .timeout = 40);

/* The address a forger hopes will read as two more fields. */
#define FORGED_LOCAL "\"x\\\" reason=ok client=10.9.9.9\""

/* Every line of the proxy's log that is about a session ("id=" in it), parsed. */
static int session_lines(const char *log, struct kv_line *out, int max)
{
	const char *l, *nl;
	int n = 0;

	for (l = log; *l && n < max; l = nl + 1) {
		char line[4096];

		nl = strchr(l, '\n');
		if (!nl)
			break;
		snprintf(line, sizeof(line), "%.*s", (int)(nl - l), l);
		if (!strstr(line, " id="))
			continue;
		cr_assert_eq(kv_parse(line, &out[n]), 0, "got a log line that does not parse: %s",
			     line);
		n++;
	}
	return n;
}

Test(proxy_log, client_text_cannot_forge_fields)
{
	static struct kv_line lines[64];
	struct pl_client c;
	const char *from = FORGED_LOCAL "@example.org";
	const char *to = FORGED_LOCAL "@elsewhere.example";
	int n, i, rejects = 0, sessions = 0;
	char *log;

	fake(0, NULL);
	start(NULL, NULL, NULL, NULL);
	open_client(&c, UNTRUSTED);
	cmd(&c, "250", "EHLO \"helo\"reason=ok");
	cmd(&c, "250", "MAIL FROM:<%s>", from);
	cmd(&c, "554 5.7.1", "RCPT TO:<%s>", to); /* relay denied: a reject line */
	quit(&c);
	finish();
	log = pl_read_file(lab.proxy_log);
	cr_assert_not_null(log);
	n = session_lines(log, lines, 64);
	free(log);
	for (i = 0; i < n; i++) {
		struct kv_line *k = &lines[i];

		cr_assert_eq(kv_count(k, "id"), 1, "%s line: got %d id fields, want 1", k->event,
			     kv_count(k, "id"));
		cr_assert_eq(kv_count(k, "client"), 1, "%s line: got %d client fields, want 1",
			     k->event, kv_count(k, "client"));
		cr_assert(starts(kv_show(k, "client"), UNTRUSTED ":"), "%s line: got client %s",
			  k->event, kv_show(k, "client"));
		cr_assert_leq(kv_count(k, "reason"), 1, "%s line: got a forged reason field",
			      k->event);
		if (!strcmp(k->event, "reject")) {
			rejects++;
			cr_assert_str_eq(kv_show(k, "reason"), "relay", "reject: got reason %s",
					 kv_show(k, "reason"));
			cr_assert_str_eq(kv_show(k, "helo"), "\"helo\"reason=ok",
					 "reject: got helo %s", kv_show(k, "helo"));
			cr_assert_str_eq(kv_show(k, "from"), from, "reject: got from %s",
					 kv_show(k, "from"));
			cr_assert_str_eq(kv_show(k, "to"), to, "reject: got to %s",
					 kv_show(k, "to"));
			cr_assert(starts(kv_show(k, "reply"), "554 5.7.1"), "reject: got reply %s",
				  kv_show(k, "reply"));
		}
		if (!strcmp(k->event, "session")) {
			sessions++;
			cr_assert_str_eq(kv_show(k, "from"), from, "session: got from %s",
					 kv_show(k, "from"));
		}
	}
	cr_assert_eq(rejects, 1, "got %d reject lines, want 1", rejects);
	cr_assert_eq(sessions, 1, "got %d session lines, want 1", sessions);
}

/* The session line carries the backend's reply to the last message: its
 * queue id, the thread to follow into the backend's own log. */
Test(proxy_log, session_line_has_queue_id)
{
	static struct kv_line lines[64];
	struct pl_client c;
	int n, i, found = 0;
	char *log;

	fake(0, NULL);
	start(NULL, NULL, NULL, NULL);
	session(&c, UNTRUSTED);
	deliver(&c, "alice@example.org", "bob@example.org", "Subject: q\r\n\r\nqueued\r\n");
	quit(&c);
	finish();
	log = pl_read_file(lab.proxy_log);
	cr_assert_not_null(log, "got no proxy log");
	n = session_lines(log, lines, 64);
	free(log);
	for (i = 0; i < n; i++)
		if (!strcmp(lines[i].event, "session")) {
			found = 1;
			cr_assert(strstr(kv_show(&lines[i], "reply"), "queued as FAKE"),
				  "session: got reply %s, want the backend's 'queued as'",
				  kv_show(&lines[i], "reply"));
		}
	cr_assert(found, "session lines: got none, want one");
}
