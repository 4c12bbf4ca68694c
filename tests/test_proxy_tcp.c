// SPDX-License-Identifier: GPL-2.0
/*
 * test_proxy_tcp.c - TLS offload for IMAP and POP3 ("protocol = tcp"
 * listeners) in front of a real Dovecot (tests/lib/dovelab.c), from stock
 * clients: curl (imaps://, pop3s://) and openssl s_client.
 *
 * The listeners terminate TLS and relay the bytes; the pools are checked in
 * the members' own protocol (IMAP "* OK", POP3 "+OK"), and can pass the
 * client's address with PROXY v1/v2, which Dovecot then logs as rip=.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>

#include "lib/dovelab.h"
#include "lib/proxylab.h"
#include "lib/pxcase.h"
#include "lib/traffic.h"

static struct dl dove;

static void setup(void)
{
	pxc_setup();
	memset(&dove, 0, sizeof(dove));
}

static void teardown(void)
{
	dl_stop(&dove);
	pxc_teardown();
}

TestSuite(proxy_tcp, .init = setup, .fini = teardown, .timeout = 90);

/* Dovecot, and the proxy with 993 (P0) -> 143 and 995 (P1) -> 110, pools
 * passing the client as pass (NULL: none). */
static void start_offload(int haproxy, const char *pass)
{
	struct dl_opts o = { .haproxy = haproxy };
	char top[1024], ls[1024], pools[1024];
	const char *d = pki();
	int rc = dl_start(&dove, lab.dir, &o);

	cr_assert_eq(rc, 0, "starting Dovecot: got %d, want 0", rc);
	snprintf(top, sizeof(top),
		 TOP_DEFAULT "tls = ( { name = \"mx\"; cert = \"%s/mx-ec.pem\"; key = "
			     "\"%s/mx-ec.key\"; } );\n",
		 d, d);
	snprintf(ls, sizeof(ls),
		 "{ listen = \"127.0.0.1:@P0@\"; protocol = \"tcp\"; tls = \"implicit\"; "
		 "tls_profile = \"mx\"; pool = \"imap\"; },"
		 "{ listen = \"127.0.0.1:@P1@\"; protocol = \"tcp\"; tls_profile = \"mx\"; "
		 "pool = \"pop3\"; }");
	snprintf(pools, sizeof(pools),
		 "{ name = \"imap\"; check = \"imap\"; pass_client = \"%s\"; members = ( "
		 "\"127.0.0.1:%d\" ); " HEALTH " },"
		 "{ name = \"pop3\"; check = \"pop3\"; pass_client = \"%s\"; members = ( "
		 "\"127.0.0.1:%d\" ); " HEALTH " }",
		 pass ? pass : "none", dove.imap_port, pass ? pass : "none", dove.pop3_port);
	start(top, NULL, ls, pools);
}

static char *run(int *status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static char *run(int *status, const char *fmt, ...)
{
	char cmdline[2048], *out = NULL;
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmdline, sizeof(cmdline), fmt, ap);
	va_end(ap);
	st = pl_sh(&out, 30000, "%s", cmdline);
	if (status)
		*status = st;
	return out ? out : strdup("");
}

/* curl fetches alice's message over imaps:// and pop3s:// through the
 * proxy, verifying the proxy's certificate; both members show up. */
Test(proxy_tcp, imaps_and_pop3s_with_curl)
{
	char *out;
	int st;

	start_offload(0, NULL);
	out = run(&st,
		  "curl -sS --max-time 10 --cacert %s/root.pem --resolve mx.test:%d:127.0.0.1 "
		  "--user %s:%s 'imaps://mx.test:%d/INBOX;UID=1' 2>&1",
		  pki(), lab.port[0], DL_USER, DL_PASS, lab.port[0]);
	cr_assert(st == 0 && strstr(out, "Subject: dovelab message"),
		  "curl imaps://: got status %d and\n%s\nwant the message", st, out);
	free(out);
	out = run(&st,
		  "curl -sS --max-time 10 --cacert %s/root.pem --resolve mx.test:%d:127.0.0.1 "
		  "--user %s:%s 'pop3s://mx.test:%d/1' 2>&1",
		  pki(), lab.port[1], DL_USER, DL_PASS, lab.port[1]);
	cr_assert(st == 0 && strstr(out, "Hello Alice, this is the one message"),
		  "curl pop3s://: got status %d and\n%s\nwant the message", st, out);
	free(out);
	snprintf(msg, sizeof(msg), "mailedge_backend_up{pool=\"imap\",member=\"127.0.0.1:%d\"}",
		 dove.imap_port);
	cr_assert_eq(metric_wait(1, 3000, msg), 1, "%s: the IMAP member is not up", msg);
	snprintf(msg, sizeof(msg), "mailedge_backend_up{pool=\"pop3\",member=\"127.0.0.1:%d\"}",
		 dove.pop3_port);
	cr_assert_eq(metric_wait(1, 3000, msg), 1, "%s: the POP3 member is not up", msg);
	cr_assert_geq(pl_log_wait(&lab, "tunnel id=", 2, 3000), 2,
		      "no tunnel lines in the log:\n%s", proxy_log());
	finish();
}

/* An IMAP session by hand, through s_client: the greeting, LOGIN, SELECT,
 * FETCH with its literal, LOGOUT and the member's BYE, in order. */
Test(proxy_tcp, imap_session_bytes_as_they_are)
{
	const char *out;

	start_offload(0, NULL);
	out = sclient(NULL,
		      "a1 LOGIN alice secret\\r\\na2 SELECT INBOX\\r\\na3 FETCH 1 BODY[]\\r\\n"
		      "a4 LOGOUT\\r\\n",
		      "-quiet -connect 127.0.0.1:%d", lab.port[0]);
	{
		static const char *const order[] = { "* OK",	   "a1 OK",
						     "* 1 EXISTS", "Subject: dovelab message",
						     "a3 OK",	   "* BYE",
						     "a4 OK" };
		const char *at = out;

		for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
			const char *next = strstr(at, order[k]);

			cr_assert_not_null(next, "the IMAP session: got\n%s\nwant '%s' after '%s'",
					   out, order[k], k ? order[k - 1] : "(the start)");
			at = next + strlen(order[k]);
		}
	}
	finish();
}

/* PROXY v1 and v2 to Dovecot: it logs the real client (rip=), and the
 * checks' own headers (v1 naming the check's connection, v2 LOCAL) pass. */
static void pass_client(const char *version)
{
	char *out, needle[64];
	int st;

	start_offload(1, version);
	snprintf(msg, sizeof(msg), "mailedge_backend_up{pool=\"imap\",member=\"127.0.0.1:%d\"}",
		 dove.imap_port);
	cr_assert_eq(metric_wait(1, 3000, msg), 1,
		     "%s: the IMAP member is not up (its checks "
		     "were refused); dovecot log:\n%s",
		     version, pl_read_file(dove.log));
	out = run(&st,
		  "curl -sS --max-time 10 --interface 127.0.0.3 --cacert %s/root.pem "
		  "--resolve mx.test:%d:127.0.0.1 --user %s:%s 'imaps://mx.test:%d/INBOX;UID=1' "
		  "2>&1",
		  pki(), lab.port[0], DL_USER, DL_PASS, lab.port[0]);
	cr_assert(st == 0 && strstr(out, "Subject: dovelab message"), "%s: curl got %d and\n%s",
		  version, st, out);
	free(out);
	snprintf(needle, sizeof(needle), "rip=%s", UNTRUSTED);
	out = pl_read_file(dove.log);
	cr_assert(out && strstr(out, needle), "%s: Dovecot did not log %s:\n%s", version, needle,
		  out ? out : "(no log)");
	free(out);
	finish();
}

Test(proxy_tcp, proxy_v1_to_dovecot)
{
	pass_client("proxy-v1");
}

Test(proxy_tcp, proxy_v2_to_dovecot)
{
	pass_client("proxy-v2");
}

/* A large message both ways through the tunnel (back-pressure, partial
 * writes): 8 MB fetched whole, byte for byte. */
Test(proxy_tcp, large_fetch)
{
	struct passwd *pw = getpwnam("nobody");
	char path[512], tmp[512], *out;
	FILE *f;
	int st;

	start_offload(0, NULL);
	/* Delivered as a delivery agent would: written in tmp/, renamed into
	 * new/, so Dovecot never sees half a message. */
	snprintf(tmp, sizeof(tmp), "%s/mail/%s/tmp/1767225601.M2P2.big", dove.dir, DL_USER);
	snprintf(path, sizeof(path), "%s/mail/%s/new/1767225601.M2P2.big", dove.dir, DL_USER);
	f = fopen(tmp, "w");
	cr_assert_not_null(f, "writing %s", tmp);
	fprintf(f, "From: big@example.org\r\nSubject: big\r\n\r\n");
	for (int i = 0; i < 8 * 1024 * 1024 / 64; i++)
		fprintf(f, "%062d\r\n", i);
	cr_assert_eq(fclose(f), 0, "writing %s", tmp);
	if (pw && chown(tmp, pw->pw_uid, pw->pw_gid))
		cr_assert_fail("chown %s", tmp);
	cr_assert_eq(rename(tmp, path), 0, "rename %s %s", tmp, path);
	/* The file's sum first: Dovecot moves it to cur/ once the box is read. */
	out = run(&st,
		  "set -o pipefail; sha256sum < %s; curl -sS --max-time 30 --cacert %s/root.pem "
		  "--resolve "
		  "mx.test:%d:127.0.0.1 --user %s:%s 'imaps://mx.test:%d/INBOX;UID=2' 2>&1 | "
		  "sha256sum",
		  path, pki(), lab.port[0], DL_USER, DL_PASS, lab.port[0]);
	cr_assert(st == 0 && strlen(out) > 130 && !strncmp(out, out + strcspn(out, "\n") + 1, 64),
		  "an 8 MB message through the tunnel: got status %d, sums\n%s\ndovecot log:\n%s",
		  st, out, pl_read_file(dove.log));
	free(out);
	finish();
}

/* The member goes away: checks take it down and say why; a client then gets
 * its connection closed rather than a hang. */
Test(proxy_tcp, member_down)
{
	long long t0;
	int st;
	char *out;

	start_offload(0, NULL);
	snprintf(msg, sizeof(msg),
		 "mailedge_backend_down_reason{pool=\"imap\",member=\"127.0.0.1:%d\","
		 "reason=\"connect\"}",
		 dove.imap_port);
	dl_stop(&dove);
	cr_assert_eq(metric_wait(1, 5000, msg), 1, "%s: want 1", msg);
	t0 = now_ms();
	out = run(&st,
		  "curl -sS --max-time 10 --cacert %s/root.pem --resolve mx.test:%d:127.0.0.1 "
		  "--user %s:%s 'imaps://mx.test:%d/INBOX;UID=1' 2>&1",
		  pki(), lab.port[0], DL_USER, DL_PASS, lab.port[0]);
	/* curl 28 is its own timeout: a hang, not a refusal */
	cr_assert(st > 0 && st != 28 && now_ms() - t0 < 8000,
		  "curl with the member gone: got status %d after %lld ms and\n%s\nwant a "
		  "connection closed at once",
		  st, now_ms() - t0, out);
	free(out);
	finish();
}

/* max_per_client holds for tunnels too: a second connection from the same
 * address gets 421 and is closed, another address is served, and the slot
 * comes back when the first tunnel ends. */
Test(proxy_tcp, max_per_client)
{
	struct pl_client a, b, o;
	int code;

	fake(0, NULL);
	start(NULL, LIM_DEFAULT "max_per_client = 1;",
	      "{ listen = \"127.0.0.1:@P0@\"; protocol = \"tcp\"; pool = \"main\"; }", NULL);
	open_client(&a, "127.0.0.5"); /* the backend's own 220, through the tunnel */
	cr_assert_eq(pl_connect(&b, "127.0.0.5", lab.port[0]), 0, "connecting: %s", b.err);
	code = pl_reply(&b, rbuf, sizeof(rbuf), 5000);
	cr_expect(code == 421 && strstr(rbuf, "Too many connections"),
		  "second tunnel from 127.0.0.5: got %d '%s', want 421", code, rbuf);
	cr_expect_eq(pl_wait_close(&b, 3000), 1, "the refused connection: want it closed");
	pl_close(&b);
	open_client(&o, "127.0.0.6");
	quit(&o);
	quit(&a);
	cr_expect_eq(pl_log_wait(&lab, "tunnel id=", 2, 3000), 2,
		     "want both tunnels ended in the log:\n%s", proxy_log());
	open_client(&b, "127.0.0.5"); /* its slot is back */
	quit(&b);
	finish();
}
