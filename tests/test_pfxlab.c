// SPDX-License-Identifier: GPL-2.0
/*
 * test_pfxlab.c - the Postfix backend lab (tests/lib/pfxlab.c) against the
 * real Postfix 3.7, and a record of what that Postfix does with what the
 * proxy may send it: PROXY v1 and v2 headers, XCLIENT, STARTTLS.
 *
 * The PROXY tests assert what Postfix 3.7.11 (Debian 12) was seen to do, with
 * its maillog lines quoted beside them: if a Postfix update changes any of it,
 * the failure says so before the proxy's own suites do.
 *
 * Each test uses its own source address in 127.0.0.0/8, so that its maillog
 * lines are told apart from the start-up probe's (127.0.0.1). The test
 * directory is proxylab's (pl_init); .fini stops the instances and removes it.
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>

#include "lib/pfxlab.h"
#include "lib/proxylab.h"
#include "lib/traffic.h"

static struct pl plab;
static struct pfx pfx, pfx2;

static void setup(void)
{
	int rc = pl_init(&plab);

	if (rc) {
		pl_fini(&plab);
		cr_assert_fail("setup: pl_init: got %d, want 0", rc);
	}
}

static void teardown(void)
{
	pfx_stop(&pfx);
	pfx_stop(&pfx2);
	pl_fini(&plab);
}

TestSuite(pfxlab, .init = setup, .fini = teardown, .timeout = 40);

static void start(struct pfx *p, const struct pfx_opts *o)
{
	int rc = pfx_start(p, plab.dir, o);

	cr_assert_eq(rc, 0, "pfx_start: got %d (%s), want 0 (the reason is on stderr)", rc,
		     strerror(-rc));
}

/* Connect from src and take the greeting (after a PROXY header, if any). */
static void greet(struct pl_client *c, const char *src, const struct pfx *p, const void *hdr,
		  size_t len)
{
	char text[512];
	int code;

	cr_assert_eq(pl_connect(c, src, p->port), 0, "connect from %s to %d: %s", src, p->port,
		     c->err);
	if (hdr)
		cr_assert_eq(pl_write(c, hdr, len), 0, "sending the PROXY header");
	code = pl_reply(c, text, sizeof(text), 10000);
	cr_assert_eq(code, 220, "greeting: got %d '%s', want 220", code, text);
}

static void expect(struct pl_client *c, int want, const char *cmd)
{
	char text[4096];
	int code = pl_cmd(c, text, sizeof(text), "%s", cmd);

	cr_assert_eq(code, want, "%s: got %d '%s', want %d", cmd, code, text, want);
}

/* DATA with a known Message-ID; the queue id from "250 2.0.0 Ok: queued as ID". */
static void data(struct pl_client *c, const char *msgid, char id[32])
{
	char text[512];
	const char *q;
	int code;

	expect(c, 354, "DATA");
	cr_assert_eq(pl_send(c,
			     "From: <alice@example.com>\r\nTo: <bob@example.org>\r\n"
			     "Subject: pfxlab\r\nMessage-ID: <%s>\r\n\r\nhello\r\n.\r\n",
			     msgid),
		     0, "sending the message");
	code = pl_reply(c, text, sizeof(text), 10000);
	q = strstr(text, "queued as ");
	cr_assert(code == 250 && q, "end of DATA: got %d '%s', want 250 ... queued as ID", code,
		  text);
	cr_assert_eq(sscanf(q + 10, "%31[0-9A-Za-z]", id), 1, "no queue id in '%s'", text);
}

/* The first maillog line with a and b must exist (waiting up to 5 s for it);
 * it must also hold want. */
static void log_line_has(const struct pfx *p, const char *a, const char *b, const char *want)
{
	char *line = NULL, *log;
	long long deadline = now_ms() + 5000;
	int ok;

	while (!(line = pfx_log_line(p, a, b)) && now_ms() < deadline)
		usleep(20000);
	ok = line && (!want || strstr(line, want));
	if (!ok) {
		log = pfx_log(p);
		fprintf(stderr, "pfxlab: maillog:\n%s\n", log ? log : "(none)");
		free(log);
	}
	cr_assert(ok, "maillog line with '%s'%s%s: got '%s', want one%s%s", a, b ? " and " : "",
		  b ? b : "", line ? line : "(none)", want ? " holding " : "", want ? want : "");
	free(line);
}

/* ====================================================================== */

/* A message from a client in mynetworks is queued and "delivered" by
 * discard, for the relay domain and for any other: nothing leaves. */
Test(pfxlab, plain_message_queued_and_discarded)
{
	struct pl_client c;
	char id[32], want[128];
	long long t0 = now_ms();

	start(&pfx, NULL);
	fprintf(stderr, "pfxlab: pfx_start took %lld ms\n", now_ms() - t0);
	greet(&c, "127.0.0.4", &pfx, NULL, 0);
	expect(&c, 250, "EHLO client.test");
	expect(&c, 250, "MAIL FROM:<alice@example.com>");
	expect(&c, 250, "RCPT TO:<bob@example.org>");
	expect(&c, 250, "RCPT TO:<carol@elsewhere.example>");
	data(&c, "pfxlab-plain@example.com", id);
	expect(&c, 221, "QUIT");
	pl_close(&c);

	snprintf(want, sizeof(want), "%s: client=unknown[127.0.0.4]", id);
	log_line_has(&pfx, want, NULL, "postfix/smtpd[");
	snprintf(want, sizeof(want), "%s: message-id=<pfxlab-plain@example.com>", id);
	log_line_has(&pfx, want, NULL, "postfix/cleanup[");
	snprintf(want, sizeof(want), "%s: from=<alice@example.com>", id);
	log_line_has(&pfx, want, NULL, "postfix/qmgr[");
	snprintf(want, sizeof(want), "%s: to=<bob@example.org>", id);
	log_line_has(&pfx, want, "status=sent", "postfix/discard[");
	snprintf(want, sizeof(want), "%s: to=<carol@elsewhere.example>", id);
	log_line_has(&pfx, want, "status=sent", "postfix/discard[");
}

/* ---- PROXY protocol ---- */

/* v1 TCP4: accepted, and the client is the header's source address:
 *   postfix/smtpd[N]: connect from unknown[198.51.100.7]
 *   postfix/smtpd[N]: disconnect from unknown[198.51.100.7] ehlo=1 quit=1 commands=2
 * The connection's own source, 127.0.0.4, appears nowhere. */
Test(pfxlab, proxy_v1_tcp4)
{
	static const char hdr[] = "PROXY TCP4 198.51.100.7 127.0.0.1 40000 25\r\n";
	struct pfx_opts o = { .proxy_protocol = 1 };
	struct pl_client c;

	start(&pfx, &o);
	greet(&c, "127.0.0.4", &pfx, hdr, strlen(hdr));
	expect(&c, 250, "EHLO client.test");
	expect(&c, 221, "QUIT");
	pl_close(&c);
	log_line_has(&pfx, "connect from unknown[198.51.100.7]", NULL, "postfix/smtpd[");
	log_line_has(&pfx, "disconnect from unknown[198.51.100.7]", NULL, "ehlo=1 quit=1");
	cr_assert_eq(pfx_log_wait(&pfx, "[127.0.0.4]", 1, 0), 0,
		     "maillog lines naming 127.0.0.4: got some, want none");
}

/* v1 UNKNOWN (valid in the PROXY spec: "use the connection's addresses") is
 * REFUSED by Postfix 3.7: a 421 and the connection closed, with
 *   postfix/smtpd[N]: warning: haproxy read: bad or missing protocol type: PROXY UNKNOWN\r\n
 *   postfix/smtpd[N]: connect from unknown[127.0.0.6]
 *   postfix/smtpd[N]: disconnect from unknown[127.0.0.6] commands=0/0
 * ("\r\n" is written as four characters in the log). A proxy health check
 * must therefore send TCP4/TCP6 with real addresses, or v2 LOCAL. */
Test(pfxlab, proxy_v1_unknown_is_refused)
{
	struct pfx_opts o = { .proxy_protocol = 1 };
	struct pl_client c;
	char text[512];
	int code;

	start(&pfx, &o);
	cr_assert_eq(pl_connect(&c, "127.0.0.6", pfx.port), 0, "connect: %s", c.err);
	cr_assert_eq(pl_send(&c, "PROXY UNKNOWN\r\n"), 0, "sending the header");
	code = pl_reply(&c, text, sizeof(text), 10000);
	cr_assert_eq(code, 421, "after PROXY UNKNOWN: got %d '%s', want 421", code, text);
	cr_assert(strstr(text, "421 4.3.0 backend.test Server local error"),
		  "after PROXY UNKNOWN: got '%s', want '421 4.3.0 backend.test Server local error'",
		  text);
	cr_assert_eq(pl_wait_close(&c, 5000), 1,
		     "after the 421: got an open connection, want it closed");
	pl_close(&c);
	log_line_has(&pfx,
		     "warning: haproxy read: bad or missing protocol type: PROXY UNKNOWN\\r\\n",
		     NULL, "postfix/smtpd[");
	log_line_has(&pfx, "disconnect from unknown[127.0.0.6]", NULL, "commands=0/0");
}

/* v2 LOCAL (signature, then 0x20 0x00 0x00 0x00: version 2, command LOCAL,
 * no family, no addresses) is ACCEPTED, and the session goes on with the
 * connection's own addresses, as the spec says:
 *   postfix/smtpd[N]: connect from unknown[127.0.0.5]
 *   postfix/smtpd[N]: disconnect from unknown[127.0.0.5] ehlo=1 quit=1 commands=2 */
Test(pfxlab, proxy_v2_local_is_accepted)
{
	static const char hdr[16] = "\r\n\r\n\0\r\nQUIT\n\x20\x00\x00\x00";
	struct pfx_opts o = { .proxy_protocol = 1 };
	struct pl_client c;

	start(&pfx, &o);
	greet(&c, "127.0.0.5", &pfx, hdr, sizeof(hdr));
	expect(&c, 250, "EHLO client.test");
	expect(&c, 221, "QUIT");
	pl_close(&c);
	log_line_has(&pfx, "connect from unknown[127.0.0.5]", NULL, "postfix/smtpd[");
	log_line_has(&pfx, "disconnect from unknown[127.0.0.5]", NULL, "ehlo=1 quit=1");
}

/* ---- XCLIENT ---- */

/* XCLIENT from an authorized host replaces the client for everything that
 * follows: the log, and the relay decision (198.51.100.8 is not in
 * mynetworks, so only the relay domain is accepted). There is no new
 * "connect from" line; the session's last line counts the XCLIENT that
 * worked as not successful (Postfix 3.7.11):
 *   disconnect from client.example[198.51.100.8] ehlo=2 xclient=0/1 mail=1
 *   rcpt=1/2 data=1 quit=1 commands=6/8 */
Test(pfxlab, xclient)
{
	struct pfx_opts o = { .xclient = 1 };
	struct pl_client c;
	char text[4096], id[32], want[128];
	int code;

	start(&pfx, &o);
	greet(&c, "127.0.0.7", &pfx, NULL, 0);
	code = pl_cmd(&c, text, sizeof(text), "EHLO proxy.test");
	cr_assert(code == 250 && strstr(text, "250-XCLIENT "),
		  "EHLO: got %d '%s', want 250 with XCLIENT", code, text);
	expect(&c, 220, "XCLIENT ADDR=198.51.100.8 NAME=client.example HELO=helo.example");
	expect(&c, 250, "EHLO helo.example");
	expect(&c, 250, "MAIL FROM:<alice@example.com>");
	code = pl_cmd(&c, text, sizeof(text), "RCPT TO:<carol@elsewhere.example>");
	cr_assert(
	    code == 454 && strstr(text, "Relay access denied"),
	    "RCPT to a foreign domain after XCLIENT: got %d '%s', want 454 Relay access denied",
	    code, text);
	expect(&c, 250, "RCPT TO:<bob@example.org>");
	data(&c, "pfxlab-xclient@example.com", id);
	expect(&c, 221, "QUIT");
	pl_close(&c);

	snprintf(want, sizeof(want), "%s: client=client.example[198.51.100.8]", id);
	log_line_has(&pfx, want, NULL, "postfix/smtpd[");
	log_line_has(&pfx, "NOQUEUE: reject: RCPT from client.example[198.51.100.8]",
		     "<carol@elsewhere.example>", "helo=<helo.example>");
	log_line_has(&pfx, "disconnect from client.example[198.51.100.8]", NULL, NULL);
	snprintf(want, sizeof(want), "%s: to=<bob@example.org>", id);
	log_line_has(&pfx, want, "status=sent", "postfix/discard[");
}

/* ---- TLS ---- */

static void certs(struct pfx_opts *o, char *cert, char *key, char *ca, size_t len)
{
	int rc = pl_make_certs(&plab);

	cr_assert_eq(rc, 0, "pl_make_certs: got %d, want 0", rc);
	snprintf(cert, len, "%s/srv.pem", plab.tls);
	snprintf(key, len, "%s/srv.key", plab.tls);
	snprintf(ca, len, "%s/ca.pem", plab.tls);
	o->tls_cert = cert;
	o->tls_key = key;
}

Test(pfxlab, starttls)
{
	struct pfx_opts o = { 0 };
	struct pl_client c;
	char cert[256], key[256], ca[256], text[4096];
	int code;

	certs(&o, cert, key, ca, sizeof(cert));
	start(&pfx, &o);
	greet(&c, "127.0.0.8", &pfx, NULL, 0);
	code = pl_cmd(&c, text, sizeof(text), "EHLO client.test");
	cr_assert(code == 250 && strstr(text, "250-STARTTLS"),
		  "EHLO: got %d '%s', want 250 with STARTTLS", code, text);
	expect(&c, 220, "STARTTLS");
	cr_assert_eq(pl_tls(&c, ca, 0), 0, "handshake verified against the test CA: %s", c.err);
	code = pl_cmd(&c, text, sizeof(text), "EHLO client.test");
	cr_assert(code == 250 && !strstr(text, "STARTTLS"),
		  "EHLO inside TLS: got %d '%s', want 250 without STARTTLS", code, text);
	expect(&c, 221, "QUIT");
	pl_close(&c);
	log_line_has(&pfx, "TLS connection established from unknown[127.0.0.8]", NULL,
		     "postfix/smtpd[");
}

Test(pfxlab, tls_wrapper)
{
	struct pfx_opts o = { .tls_wrapper = 1 };
	struct pl_client c;
	char cert[256], key[256], ca[256], text[4096];
	int code;

	certs(&o, cert, key, ca, sizeof(cert));
	start(&pfx, &o);
	cr_assert_eq(pl_connect(&c, "127.0.0.9", pfx.port), 0, "connect: %s", c.err);
	cr_assert_eq(pl_tls(&c, ca, 0), 0, "implicit TLS, verified against the test CA: %s", c.err);
	code = pl_reply(&c, text, sizeof(text), 10000);
	cr_assert_eq(code, 220, "greeting inside TLS: got %d '%s', want 220", code, text);
	code = pl_cmd(&c, text, sizeof(text), "EHLO client.test");
	cr_assert(code == 250 && !strstr(text, "STARTTLS"),
		  "EHLO: got %d '%s', want 250 without STARTTLS", code, text);
	expect(&c, 221, "QUIT");
	pl_close(&c);
	log_line_has(&pfx, "TLS connection established from unknown[127.0.0.9]", NULL,
		     "postfix/smtpd[");
}

/* ---- processes ---- */

/* Processes whose command line mentions dir (master's "-c DIR/etc"): a check
 * that does not rely on pfx_procs. */
static int cmdline_mentions(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir("/proc");
	int n = 0;

	while (d && (de = readdir(d))) {
		char path[300], buf[4096];
		ssize_t k, i;
		int fd;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		k = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (k <= 0)
			continue;
		for (i = 0; i < k; i++)
			if (!buf[i])
				buf[i] = ' ';
		buf[k] = '\0';
		n += strstr(buf, dir) != NULL;
	}
	if (d)
		closedir(d);
	return n;
}

/* After a message went through (smtpd, cleanup, trivial-rewrite, qmgr,
 * discard, postlogd... all ran), pfx_stop leaves no process and no zombie
 * (pfx_procs counts zombies of master's group too),
 * the port is closed, and stopping again, or a never-started one, is
 * harmless. */
Test(pfxlab, stop_leaves_nothing)
{
	static struct pfx never;
	struct pl_client c;
	char id[32], want[128];
	pid_t pids[64];
	int n;

	start(&pfx, NULL);
	greet(&c, "127.0.0.10", &pfx, NULL, 0);
	expect(&c, 250, "EHLO client.test");
	expect(&c, 250, "MAIL FROM:<alice@example.com>");
	expect(&c, 250, "RCPT TO:<bob@example.org>");
	data(&c, "pfxlab-stop@example.com", id);
	snprintf(want, sizeof(want), "%s: removed", id);
	cr_assert_eq(pfx_log_wait(&pfx, want, 1, 5000), 1, "'%s' in the maillog: got none, want 1",
		     want);
	/* The session stays open: its smtpd must die too. */
	n = pfx_procs(&pfx, pids, 64);
	cr_assert_geq(n, 5, "processes of the running instance: got %d, want 5 or more", n);
	n = cmdline_mentions(pfx.dir);
	cr_assert_geq(n, 1, "processes naming %s: got %d, want master at least", pfx.dir, n);

	pfx_stop(&pfx);
	n = pfx_procs(&pfx, pids, 64);
	cr_assert_eq(n, 0,
		     "processes of the stopped instance (group %d, MAIL_CONFIG): got %d "
		     "(first %d), want 0",
		     pfx.master, n, n ? pids[0] : 0);
	n = cmdline_mentions(pfx.dir);
	cr_assert_eq(n, 0, "processes naming %s after pfx_stop: got %d, want 0", pfx.dir, n);
	cr_assert_eq(kill(pfx.master, 0), -1, "master %d after pfx_stop: got alive, want gone",
		     pfx.master);
	cr_assert_eq(pl_wait_close(&c, 2000), 1, "the open session: got open, want closed");
	pl_close(&c);
	cr_assert_neq(pl_connect(&c, NULL, pfx.port), 0,
		      "port %d after pfx_stop: got a connection, want refused", pfx.port);
	pfx_stop(&pfx);
	pfx_stop(&never);
}

/* Two instances at once (as two tests in parallel have them): their own
 * ports, queues and logs; stopping one leaves the other serving. */
Test(pfxlab, two_instances)
{
	struct pfx_opts o = { .xclient = 1 };
	struct pl_client c;
	char text[4096];
	int code;

	start(&pfx, NULL);
	start(&pfx2, &o);
	cr_assert_neq(pfx.port, pfx2.port, "ports: got %d twice, want two", pfx.port);
	cr_assert_str_neq(pfx.dir, pfx2.dir, "directories: got %s twice, want two", pfx.dir);
	pfx_stop(&pfx);
	greet(&c, "127.0.0.11", &pfx2, NULL, 0);
	code = pl_cmd(&c, text, sizeof(text), "EHLO client.test");
	cr_assert(code == 250 && strstr(text, "XCLIENT"),
		  "EHLO to the second instance: got %d '%s', want 250 with XCLIENT", code, text);
	expect(&c, 221, "QUIT");
	pl_close(&c);
	log_line_has(&pfx2, "disconnect from unknown[127.0.0.11]", NULL, NULL);
	cr_assert_eq(pfx_log_wait(&pfx, "[127.0.0.11]", 1, 0), 0,
		     "the first instance's maillog names 127.0.0.11: got yes, want no");
}
