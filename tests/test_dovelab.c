// SPDX-License-Identifier: GPL-2.0
/*
 * test_dovelab.c - the Dovecot lab itself (tests/lib/dovelab.c): before a
 * proxy test relies on a real IMAP/POP3 backend, prove that it is one. Each
 * test starts its own instance, speaks to it with the raw client of
 * proxylab.c and with curl, and .fini stops it and removes the directory
 * (PL_KEEP=1 keeps it, for debugging).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <criterion/criterion.h>
#include <criterion/logging.h>

#include "lib/dovelab.h"
#include "lib/proxylab.h"
#include "lib/traffic.h"

static char parent[64];
static struct dl dove;
static char buf[65536];
static char logbuf[65536]; /* the log, for a failure's message */

static void setup(void)
{
	snprintf(parent, sizeof(parent), "/tmp/mailedge-test-dl-XXXXXX");
	if (!mkdtemp(parent)) {
		parent[0] = '\0';
		cr_assert_fail("setup: mkdtemp: got errno %d, want a directory", errno);
	}
	chmod(parent, 0755); /* Dovecot's processes run as dovecot, dovenull, nobody */
	dove.pid = -1;
}

static void teardown(void)
{
	char *out;

	dl_stop(&dove);
	if (parent[0] && !getenv("PL_KEEP")) {
		pl_sh(&out, 10000, "rm -rf %s", parent);
		free(out);
	}
	parent[0] = '\0';
}

TestSuite(dovelab, .init = setup, .fini = teardown, .timeout = 30);

static void start(int haproxy)
{
	struct dl_opts o = { .haproxy = haproxy };
	long long t0 = now_ms();
	int rc = dl_start(&dove, parent, &o);

	cr_assert_eq(rc, 0, "dl_start: got %d, want 0", rc);
	cr_log_info("dovelab: both ports greet %lld ms after dl_start", now_ms() - t0);
}

/* Until the log holds needle, or ms pass: Dovecot's log process writes
 * behind the sessions. */
static int log_has(const char *needle, int ms)
{
	long long deadline = now_ms() + ms;

	for (;;) {
		char *log = pl_read_file(dove.log);
		int found = log && strstr(log, needle);

		snprintf(logbuf, sizeof(logbuf), "%s", log ? log : "(none)");
		free(log);
		if (found || now_ms() >= deadline)
			return found;
		usleep(20000);
	}
}

/* One IMAP command and everything up to its tagged reply, which must be OK. */
static void imap(struct pl_client *c, const char *tag, const char *cmd)
{
	char want[64];
	int rc;

	cr_assert_eq(pl_send(c, "%s %s\r\n", tag, cmd), 0, "send %s: got an error, want 0", cmd);
	snprintf(want, sizeof(want), "%s ", tag);
	rc = dl_read_until(c, want, buf, sizeof(buf), 5000);
	cr_assert_eq(rc, 0, "%s: got %d (\"%s\"), want a tagged reply", cmd, rc, buf);
	snprintf(want, sizeof(want), "%s OK", tag);
	cr_assert(strstr(buf, want), "%s: got \"%s\", want \"%s\"", cmd, buf, want);
}

/* A POP3 command with a one-line reply, which must start with want. */
static void pop3(struct pl_client *c, const char *cmd, const char *want)
{
	int rc = pl_cmd(c, buf, sizeof(buf), "%s", cmd);

	cr_assert(rc >= 0 && !strncmp(buf, want, strlen(want)), "%s: got %d \"%s\", want \"%s\"",
		  cmd, rc, buf, want);
}

static void greeting(struct pl_client *c, const char *want)
{
	int rc = dl_read_until(c, want, buf, sizeof(buf), 5000);

	cr_assert_eq(rc, 0, "greeting: got %d \"%s\", want \"%s...\"", rc, buf, want);
}

static void imap_session(struct pl_client *c)
{
	char want[64];

	imap(c, "a1", "LOGIN " DL_USER " " DL_PASS);
	imap(c, "a2", "SELECT INBOX");
	cr_assert(strstr(buf, "* 1 EXISTS\r\n"), "SELECT: got \"%s\", want \"* 1 EXISTS\"", buf);
	imap(c, "a3", "FETCH 1 BODY[]");
	snprintf(want, sizeof(want), "BODY[] {%zu}\r\n", strlen(DL_MESSAGE));
	cr_assert(strstr(buf, want), "FETCH: got \"%s\", want a literal \"%s\"", buf, want);
	cr_assert(strstr(buf, DL_MESSAGE), "FETCH: got \"%s\", want the message \"%s\"", buf,
		  DL_MESSAGE);
	imap(c, "a4", "LOGOUT");
	cr_assert(strstr(buf, "* BYE"), "LOGOUT: got \"%s\", want \"* BYE\"", buf);
}

Test(dovelab, imap)
{
	struct pl_client c;

	start(0);
	cr_assert_eq(pl_connect(&c, NULL, dove.imap_port), 0, "connect: got %s, want 0", c.err);
	greeting(&c, "* OK");
	imap_session(&c);
	pl_close(&c);
}

Test(dovelab, imap_wrong_password)
{
	struct pl_client c;

	start(0);
	cr_assert_eq(pl_connect(&c, NULL, dove.imap_port), 0, "connect: got %s, want 0", c.err);
	greeting(&c, "* OK");
	pl_send(&c, "a1 LOGIN " DL_USER " wrong\r\n");
	cr_assert_eq(dl_read_until(&c, "a1 ", buf, sizeof(buf), 10000), 0,
		     "LOGIN: got \"%s\", want a tagged reply", buf);
	cr_assert(strstr(buf, "a1 NO"), "LOGIN with a wrong password: got \"%s\", want \"a1 NO\"",
		  buf);
	pl_close(&c);
}

Test(dovelab, pop3)
{
	char want[64];
	struct pl_client c;
	int rc;

	start(0);
	cr_assert_eq(pl_connect(&c, NULL, dove.pop3_port), 0, "connect: got %s, want 0", c.err);
	greeting(&c, "+OK");
	pop3(&c, "USER " DL_USER, "+OK");
	pop3(&c, "PASS " DL_PASS, "+OK");
	snprintf(want, sizeof(want), "+OK 1 %zu\r\n", strlen(DL_MESSAGE));
	pop3(&c, "STAT", want);
	pl_send(&c, "RETR 1\r\n");
	rc = dl_read_until(&c, ".\r\n", buf, sizeof(buf), 5000);
	cr_assert_eq(rc, 0, "RETR 1: got %d \"%s\", want a multi-line reply", rc, buf);
	cr_assert(!strncmp(buf, "+OK", 3) && strstr(buf, "\r\n" DL_MESSAGE ".\r\n"),
		  "RETR 1: got \"%s\", want +OK, the message, \".\"", buf);
	pop3(&c, "QUIT", "+OK");
	pl_close(&c);
}

/* The v1 header from the brief: Dovecot takes the client from it. */
Test(dovelab, haproxy_v1_imap)
{
	struct pl_client c;

	start(1);
	cr_assert_eq(pl_connect(&c, NULL, dove.imap_port), 0, "connect: got %s, want 0", c.err);
	pl_send(&c, "PROXY TCP4 198.51.100.9 127.0.0.1 40000 143\r\n");
	greeting(&c, "* OK");
	imap_session(&c);
	pl_close(&c);
	cr_assert(log_has("rip=198.51.100.9,", 3000), "log: got \"%s\", want rip=198.51.100.9",
		  logbuf);
}

/* A binary v2 header in front of POP3. */
Test(dovelab, haproxy_v2_pop3)
{
	static const char sig[12] = "\r\n\r\n\0\r\nQUIT\n";
	unsigned char h[28];
	struct in_addr src, dst;
	uint16_t sport = htons(40001), dport = htons(110), len = htons(12);
	struct pl_client c;

	start(1);
	inet_pton(AF_INET, "198.51.100.10", &src);
	inet_pton(AF_INET, "127.0.0.1", &dst);
	memcpy(h, sig, 12);
	h[12] = 0x21; /* version 2, PROXY */
	h[13] = 0x11; /* TCP over IPv4 */
	memcpy(h + 14, &len, 2);
	memcpy(h + 16, &src, 4);
	memcpy(h + 20, &dst, 4);
	memcpy(h + 24, &sport, 2);
	memcpy(h + 26, &dport, 2);
	cr_assert_eq(pl_connect(&c, NULL, dove.pop3_port), 0, "connect: got %s, want 0", c.err);
	pl_write(&c, h, sizeof(h));
	greeting(&c, "+OK");
	pop3(&c, "USER " DL_USER, "+OK");
	pop3(&c, "PASS " DL_PASS, "+OK");
	pop3(&c, "QUIT", "+OK");
	pl_close(&c);
	cr_assert(log_has("rip=198.51.100.10,", 3000), "log: got \"%s\", want rip=198.51.100.10",
		  logbuf);
}

/* With haproxy on, a connection without a header gets no session. */
Test(dovelab, haproxy_requires_header)
{
	struct pl_client c;
	int rc;

	start(1);
	cr_assert_eq(pl_connect(&c, NULL, dove.imap_port), 0, "connect: got %s, want 0", c.err);
	pl_send(&c, "a1 LOGIN " DL_USER " " DL_PASS "\r\n");
	rc = dl_read_until(&c, "a1 OK", buf, sizeof(buf), 5000);
	cr_assert_neq(rc, 0, "LOGIN without a PROXY header: got \"%s\", want no session", buf);
	pl_close(&c);
}

Test(dovelab, curl_imap)
{
	char *out;
	int rc;

	start(0);
	rc = pl_sh(&out, 10000,
		   "curl -sS --max-time 5 --user %s:%s 'imap://127.0.0.1:%d/INBOX;MAILINDEX=1'",
		   DL_USER, DL_PASS, dove.imap_port);
	cr_assert(rc == 0 && out && !strcmp(out, DL_MESSAGE),
		  "curl imap MAILINDEX=1: got %d \"%s\", want 0 and the message", rc, out);
	free(out);
	/* A custom command: curl prints the untagged reply, not the literal. */
	rc = pl_sh(&out, 10000,
		   "curl -sS --max-time 5 --user %s:%s imap://127.0.0.1:%d/INBOX "
		   "-X 'FETCH 1 BODY[]'",
		   DL_USER, DL_PASS, dove.imap_port);
	cr_assert(rc == 0 && out && strstr(out, "* 1 FETCH") && strstr(out, "BODY[] {"),
		  "curl imap -X FETCH: got %d \"%s\", want 0 and \"* 1 FETCH ... BODY[] {\"", rc,
		  out);
	free(out);
}

Test(dovelab, curl_pop3)
{
	char want[64], *out;
	int rc;

	start(0);
	rc = pl_sh(&out, 10000, "curl -sS --max-time 5 --user %s:%s pop3://127.0.0.1:%d/1", DL_USER,
		   DL_PASS, dove.pop3_port);
	cr_assert(rc == 0 && out && !strcmp(out, DL_MESSAGE),
		  "curl pop3 /1: got %d \"%s\", want 0 and the message", rc, out);
	free(out);
	rc = pl_sh(&out, 10000, "curl -sS --max-time 5 --user %s:%s pop3://127.0.0.1:%d/", DL_USER,
		   DL_PASS, dove.pop3_port);
	snprintf(want, sizeof(want), "1 %zu\r\n", strlen(DL_MESSAGE));
	cr_assert(rc == 0 && out && !strcmp(out, want),
		  "curl pop3 LIST: got %d \"%s\", want 0 and \"%s\"", rc, out, want);
	free(out);
}

/* Stopped with a session logged in (a mail process running), nothing of the
 * instance is left; a second stop is harmless. */
Test(dovelab, stop_leaves_nothing)
{
	struct pl_client c;
	long long t0;
	int n;

	start(0);
	cr_assert_eq(pl_connect(&c, NULL, dove.imap_port), 0, "connect: got %s, want 0", c.err);
	greeting(&c, "* OK");
	imap(&c, "a1", "LOGIN " DL_USER " " DL_PASS);
	imap(&c, "a2", "SELECT INBOX");
	n = dl_procs(&dove);
	/* master, log, config, anvil, imap-login, auth, stats, imap at least */
	cr_assert_geq(n, 5, "processes of the instance while running: got %d, want >= 5", n);
	t0 = now_ms();
	dl_stop(&dove);
	cr_log_info("dovelab: dl_stop took %lld ms", now_ms() - t0);
	n = dl_procs(&dove);
	cr_assert_eq(n, 0, "processes of the instance after dl_stop: got %d, want 0", n);
	cr_assert_eq(dove.pid, -1, "pid after dl_stop: got %d, want -1", (int)dove.pid);
	cr_assert(pl_wait_close(&c, 2000), "the session after dl_stop: got open, want closed");
	cr_assert(strstr(c.in, "* BYE"), "the session's last words: got \"%.*s\", want \"* BYE\"",
		  (int)c.len, c.in);
	pl_close(&c);
	/* The log is complete: the session's end was written before the stop. */
	cr_assert(log_has("Disconnected: Server shutting down", 0),
		  "log after dl_stop: got \"%s\", want the session's end", logbuf);
	dl_stop(&dove);
	n = dl_procs(&dove);
	cr_assert_eq(n, 0, "processes after a second dl_stop: got %d, want 0", n);
}

/* Two instances side by side: their own ports, their own processes. */
Test(dovelab, two_instances)
{
	struct dl other;
	int rc, n;

	start(0);
	rc = dl_start(&other, parent, NULL);
	if (rc)
		dl_stop(&other);
	cr_assert_eq(rc, 0, "second dl_start: got %d, want 0", rc);
	cr_expect(other.imap_port != dove.imap_port && other.pop3_port != dove.pop3_port,
		  "ports: got %d/%d for both, want different", other.imap_port, other.pop3_port);
	dl_stop(&other);
	n = dl_procs(&dove);
	cr_expect_geq(n, 1,
		      "the first instance after stopping the second: got %d processes, "
		      "want >= 1",
		      n);
	n = dl_procs(&other);
	cr_expect_eq(n, 0, "the second instance after dl_stop: got %d processes, want 0", n);
}
