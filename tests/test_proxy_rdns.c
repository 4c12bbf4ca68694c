// SPDX-License-Identifier: GPL-2.0
/*
 * test_proxy_rdns.c - the proxy's forward-confirmed reverse lookup
 * (px_dns_reverse, proxy/dns.c) and what it tells apart: a name (ok), an
 * answer without one (unknown: NXDOMAIN, NODATA, a name that is not the
 * client's or no host name at all) and no answer (tempfail: timeout,
 * SERVFAIL, REFUSED, a reply that cannot be read), at the PTR step and at
 * the forward step. A dead DNS must never look like a nameless client.
 *
 * The answers come from real servers on loopback: unbound with exact records
 * (tests/lib/dnslab.h), its silent and garbage servers, and, for what unbound
 * will not say (SERVFAIL; a PTR with octets no host name has; a server that
 * answers PTR queries and drops the rest), a small scripted responder of this
 * file in a child process. Lookups run on a libev loop of the test's own,
 * until the callback or a 10 s guard. The last tests run "mailedge-proxy
 * explain" against the same servers: the outcome as an operator sees it.
 *
 * .fini stops every server, frees the resolver and removes the directory.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <criterion/criterion.h>
#include <ev.h>

#include "../proxy/dns.h"
#include "lib/dnslab.h"
#include "lib/evrun.h"
#include "lib/proxylab.h"
#include "lib/testenv.h"
#include "lib/traffic.h"

#define TIMEOUT_MS 300 /* per try, one try: a dead server costs 0.3 s a lookup */

static char parent[64];
static struct dns_lab lab, silent, garbage;
static pid_t fake_pid = -1;
static struct ev_loop *loop;
static struct px_dns *dns;

static void fake_stop(void)
{
	if (fake_pid > 0) {
		kill(fake_pid, SIGKILL);
		waitpid(fake_pid, NULL, 0);
	}
	fake_pid = -1;
}

static void setup(void)
{
	snprintf(parent, sizeof(parent), "/tmp/mailedge-test-rdns-XXXXXX");
	if (!mkdtemp(parent)) {
		parent[0] = '\0';
		cr_assert_fail("setup: mkdtemp: got errno %d, want a directory", errno);
	}
	lab.pid = silent.pid = garbage.pid = -1;
	fake_pid = -1;
	loop = ev_loop_new(EVFLAG_AUTO);
	cr_assert_not_null(loop);
	dns = NULL;
}

static void teardown(void)
{
	char *out;

	px_dns_free(dns);
	dns = NULL;
	if (loop)
		ev_loop_destroy(loop);
	loop = NULL;
	dns_stop(&lab);
	dns_stop(&silent);
	dns_stop(&garbage);
	fake_stop();
	tenv_kept_free();
	if (parent[0] && !getenv("PL_KEEP")) {
		pl_sh(&out, 10000, "rm -rf %s", parent);
		free(out);
	}
	parent[0] = '\0';
}

TestSuite(rdns, .init = setup, .fini = teardown, .timeout = 60);

/* ---- the scripted responder ---- */

#define T_PTR 12
#define DROP  -1

/* What the responder says: to PTR queries a PTR with ptr (labels split at
 * '.', any other octet kept as it is) or, with ptr NULL, ptr_rcode; to every
 * other query other_rcode, or nothing at all (DROP). */
struct script {
	const char *ptr;
	int ptr_rcode;
	int other_rcode;
};

/* A reply to the query q (n bytes) into r as the script says; its length,
 * or 0 for none. */
static size_t script_reply(const struct script *s, const unsigned char *q, size_t n,
			   unsigned char *r, size_t cap)
{
	size_t qend, o, lab_at;
	int qtype, rcode;
	const char *p;

	if (n < 17 || n > cap)
		return 0;
	for (qend = 12; qend < n && q[qend]; qend += q[qend] + 1u)
		;
	qend += 5; /* the root label, type and class */
	if (qend > n)
		return 0;
	qtype = q[qend - 4] << 8 | q[qend - 3];
	rcode = qtype == T_PTR ? (s->ptr ? 0 : s->ptr_rcode) : s->other_rcode;
	if (rcode == DROP)
		return 0;
	memcpy(r, q, qend);
	r[2] = 0x80 | (q[2] & 0x01); /* QR, and RD as asked */
	r[3] = 0x80 | (unsigned char)rcode;
	memcpy(r + 4, "\0\1\0\0\0\0\0\0", 8);
	if (qtype != T_PTR || !s->ptr)
		return qend;
	r[7] = 1; /* one answer: the question's name, PTR, IN, TTL 0 */
	memcpy(r + qend, "\xc0\x0c\0\x0c\0\x01\0\0\0\0\0\0", 12);
	o = qend + 12;
	lab_at = o++;
	for (p = s->ptr; *p && o + 2 < cap; p++) {
		if (*p == '.') {
			r[lab_at] = (unsigned char)(o - lab_at - 1);
			lab_at = o++;
		} else {
			r[o++] = (unsigned char)*p;
		}
	}
	r[lab_at] = (unsigned char)(o - lab_at - 1);
	r[o++] = 0;
	r[qend + 10] = (unsigned char)((o - qend - 12) >> 8);
	r[qend + 11] = (unsigned char)(o - qend - 12);
	return o;
}

/* Start the responder on a UDP port of 127.0.0.1 in a child process (killed
 * in .fini, and with the test process); returns the port. */
static int fake_start(const struct script *s)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	pid_t parent_pid = getpid();
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0, "socket: errno %d", errno);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "bind: errno %d", errno);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	fake_pid = fork();
	cr_assert_geq(fake_pid, 0, "fork: errno %d", errno);
	if (fake_pid == 0) {
		unsigned char q[512], r[1024];
		struct sockaddr_storage from;
		socklen_t flen;
		ssize_t n;
		size_t rn;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent_pid)
			_exit(1);
		signal(SIGTERM, SIG_DFL);
		for (;;) {
			flen = sizeof(from);
			n = recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *)&from, &flen);
			if (n <= 0)
				continue;
			rn = script_reply(s, q, (size_t)n, r, sizeof(r));
			if (rn)
				sendto(fd, r, rn, 0, (struct sockaddr *)&from, flen);
		}
	}
	close(fd);
	return ntohs(sa.sin_port);
}

/* ---- lookups ---- */

struct done {
	int called;
	struct px_rdns_result r;
	long long at;
};

static void on_done(void *arg, const struct px_rdns_result *r)
{
	struct done *d = arg;

	d->called++;
	d->r = *r;
	d->at = now_ms();
	ev_break(loop, EVBREAK_ALL);
}

static void resolver(int port)
{
	char servers[64], why[256];

	px_dns_free(dns);
	snprintf(servers, sizeof(servers), "127.0.0.1:%d", port);
	dns = px_dns_new(loop, servers, TIMEOUT_MS, 1, why, sizeof(why));
	cr_assert_not_null(dns, "px_dns_new: %s", why);
}

static struct sockaddr_storage addr_of(const char *s)
{
	struct sockaddr_storage ss;

	cr_assert_eq(dns_client_addr(s, &ss), 0, "not an address: %s", s);
	return ss;
}

/* One FCrDNS lookup of client, run to its end; its wall time in ms. */
static long long reverse(const char *client, struct done *d)
{
	struct sockaddr_storage ss = addr_of(client);
	struct px_dns_query *q;
	long long t0 = now_ms();

	memset(d, 0, sizeof(*d));
	q = px_dns_reverse(dns, (struct sockaddr *)&ss, on_done, d);
	cr_assert_not_null(q, "%s: px_dns_reverse: got NULL", client);
	cr_assert_eq(d->called, 0, "%s: the callback ran inside px_dns_reverse", client);
	ev_run_for(loop, 10);
	cr_assert_eq(d->called, 1, "%s: callbacks: got %d, want 1 (within 10 s)", client,
		     d->called);
	return d->at - t0;
}

struct rcase {
	const char *client;
	enum px_rdns want;
	const char *reverse; /* the PTR name kept, "" for none */
	const char *why;
};

static void expect_case(const struct rcase *c, const struct done *d)
{
	cr_expect_eq(d->r.status, c->want, "%s (%s): got %s, want %s", c->client, c->why,
		     px_rdns_name(d->r.status), px_rdns_name(c->want));
	cr_expect_str_eq(d->r.reverse, c->reverse, "%s (%s): PTR name '%s', want '%s'", c->client,
			 c->why, d->r.reverse, c->reverse);
	cr_expect_str_eq(d->r.name, c->want == PX_RDNS_OK ? c->reverse : "",
			 "%s (%s): verified name '%s'", c->client, c->why, d->r.name);
}

static const char *const records[] = {
	"PTR 127.0.0.18 mx.trusted.example",
	"A mx.trusted.example 127.0.0.18",
	"PTR 127.0.0.19 liar.example", /* nothing for liar.example: NXDOMAIN */
	"PTR 127.0.0.20 mx.trusted.example",
	/* 127.0.0.21: no PTR, NXDOMAIN */
	"A 22.0.0.127.in-addr.arpa 127.0.0.1", /* the name exists, no PTR: NODATA */
	"REFUSED 23.0.0.127.in-addr.arpa",
	"PTR 127.0.0.24 mx.refused.example",
	"REFUSED refused.example",
	"PTR 127.0.0.25 127.0.0.25", /* numeric: confirms itself without DNS */
	"PTR 127.0.0.26 v6only.example",
	"AAAA v6only.example ::1",
	"PTR 2001:db8::5 mx6.example",
	"AAAA mx6.example 2001:db8::5",
	"A mx6.example 127.0.0.27",
	"PTR 2001:db8::6 v4only.example",
	"A v4only.example 127.0.0.28",
};

/* Every answer unbound gives, in one table: the PTR step, the forward step,
 * v4, v6 and a v4 client on a dual-stack socket. */
Test(rdns, answers)
{
	static const struct rcase cases[] = {
		{ "127.0.0.18", PX_RDNS_OK, "mx.trusted.example", "PTR and A" },
		{ "::ffff:127.0.0.18", PX_RDNS_OK, "mx.trusted.example", "v4-mapped" },
		{ "127.0.0.19", PX_RDNS_UNKNOWN, "liar.example", "PTR, name NXDOMAIN" },
		{ "127.0.0.20", PX_RDNS_UNKNOWN, "mx.trusted.example", "name of another address" },
		{ "127.0.0.21", PX_RDNS_UNKNOWN, "", "PTR NXDOMAIN" },
		{ "127.0.0.22", PX_RDNS_UNKNOWN, "", "PTR NODATA" },
		{ "127.0.0.23", PX_RDNS_TEMPFAIL, "", "PTR REFUSED" },
		{ "127.0.0.24", PX_RDNS_TEMPFAIL, "mx.refused.example", "forward REFUSED" },
		{ "127.0.0.25", PX_RDNS_UNKNOWN, "", "numeric PTR" },
		{ "127.0.0.26", PX_RDNS_UNKNOWN, "v6only.example", "name has AAAA only" },
		{ "2001:db8::5", PX_RDNS_OK, "mx6.example", "v6 PTR and AAAA" },
		{ "2001:db8::6", PX_RDNS_UNKNOWN, "v4only.example", "v6 client, name has A only" },
	};
	struct done d;
	size_t i;
	int rc = dns_start(&lab, parent, records, sizeof(records) / sizeof(records[0]));

	cr_assert_eq(rc, 0, "dns_start: got %d, want 0", rc);
	resolver(lab.port);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		reverse(cases[i].client, &d);
		expect_case(&cases[i], &d);
	}
}

/* The defect this suite is for: a server that never answers is tempfail,
 * after the timeout (not "no name" at once, nor a wait beyond it). */
Test(rdns, dead_server)
{
	static const struct rcase c = { "127.0.0.18", PX_RDNS_TEMPFAIL, "", "PTR timeout" };
	int port = dns_start_silent(&silent);
	struct done d;
	long long ms;

	cr_assert_gt(port, 0, "dns_start_silent: got %d", port);
	resolver(port);
	ms = reverse(c.client, &d);
	expect_case(&c, &d);
	cr_expect(ms >= TIMEOUT_MS - 50 && ms < 3000, "answered after %lld ms, want ~%d", ms,
		  TIMEOUT_MS);
	/* v6 too: its own query name, the same failure. */
	reverse("2001:db8::5", &d);
	cr_expect_eq(d.r.status, PX_RDNS_TEMPFAIL, "v6: got %s, want tempfail",
		     px_rdns_name(d.r.status));
}

/* Everything the scripted responder can say, one responder per row. */
Test(rdns, scripted)
{
	static const struct {
		struct script s;
		struct rcase c;
	} rows[] = {
		{ { NULL, 2, 2 }, { "127.0.0.18", PX_RDNS_TEMPFAIL, "", "PTR SERVFAIL" } },
		{ { NULL, 5, 5 }, { "127.0.0.18", PX_RDNS_TEMPFAIL, "", "PTR REFUSED" } },
		{ { NULL, 3, 3 }, { "127.0.0.18", PX_RDNS_UNKNOWN, "", "PTR NXDOMAIN" } },
		{ { NULL, 0, 0 }, { "127.0.0.18", PX_RDNS_UNKNOWN, "", "PTR NODATA" } },
		{ { "mx.example", 0, 2 },
		  { "127.0.0.18", PX_RDNS_TEMPFAIL, "mx.example", "forward SERVFAIL" } },
		{ { "mx.example", 0, DROP },
		  { "127.0.0.18", PX_RDNS_TEMPFAIL, "mx.example", "forward timeout" } },
		{ { "mx.example", 0, 3 },
		  { "127.0.0.18", PX_RDNS_UNKNOWN, "mx.example", "forward NXDOMAIN" } },
		/* An octet c-ares lets through (RFC 2317 names) and no host
		 * name has. */
		{ { "mx/24.example", 0, 3 }, { "127.0.0.18", PX_RDNS_UNKNOWN, "", "a '/'" } },
		/* Octets c-ares 1.18 itself refuses: it reports a misformatted
		 * reply, which cannot be told from a broken server's. */
		{ { "bad name.example", 0, 3 },
		  { "127.0.0.18", PX_RDNS_TEMPFAIL, "", "a space (c-ares: bad reply)" } },
		{ { "mx\x01.example", 0, 3 },
		  { "127.0.0.18", PX_RDNS_TEMPFAIL, "", "a control byte (c-ares: bad reply)" } },
	};
	struct done d;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		resolver(fake_start(&rows[i].s));
		reverse(rows[i].c.client, &d);
		expect_case(&rows[i].c, &d);
		fake_stop();
	}
}

/* A reply that reaches the resolver and cannot be read: the DNS failed us,
 * the client did nothing wrong. */
Test(rdns, malformed_reply)
{
	static const struct rcase c = { "127.0.0.18", PX_RDNS_TEMPFAIL, "", "malformed reply" };
	int port = dns_start_garbage(&garbage);
	struct done d;

	cr_assert_gt(port, 0, "dns_start_garbage: got %d", port);
	resolver(port);
	reverse(c.client, &d);
	expect_case(&c, &d);
}

/* A cancelled lookup never calls back, whichever step it is in, and frees
 * itself when c-ares is done (ASan sees a leak or a use after free); the
 * resolver freed with a lookup still running frees that one too. */
Test(rdns, cancel_and_free)
{
	static const struct script fwd_drop = { "mx.example", 0, DROP };
	struct sockaddr_storage ss = addr_of("127.0.0.18");
	struct px_dns_query *q;
	struct done d = { 0 };
	int port = dns_start_silent(&silent);

	cr_assert_gt(port, 0);
	/* In the PTR step: cancelled at once, then c-ares times out. */
	resolver(port);
	q = px_dns_reverse(dns, (struct sockaddr *)&ss, on_done, &d);
	cr_assert_not_null(q);
	px_dns_cancel(q);
	ev_run_for(loop, (TIMEOUT_MS + 300) / 1000.0);
	/* In the forward step: cancelled once the PTR is in. */
	resolver(fake_start(&fwd_drop));
	q = px_dns_reverse(dns, (struct sockaddr *)&ss, on_done, &d);
	cr_assert_not_null(q);
	ev_run_for(loop, 0.1);
	px_dns_cancel(q);
	ev_run_for(loop, (TIMEOUT_MS + 300) / 1000.0);
	cr_expect_eq(d.called, 0, "a cancelled lookup called back %d times", d.called);
	/* Freed while running: no callback either. */
	q = px_dns_reverse(dns, (struct sockaddr *)&ss, on_done, &d);
	cr_assert_not_null(q);
	px_dns_free(dns);
	dns = NULL;
	cr_expect_eq(d.called, 0, "a lookup of a freed resolver called back");
}

/* ---- as the operator sees it: mailedge-proxy explain ---- */

/* explain ADDR with dns servers at port and groups that want the name:
 * its rdns line must be rdns, and its group, group. */
static void want_explained(int port, const char *client, const char *rdns, const char *group)
{
	char path[128], want[64], *line;
	struct run r;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/proxy.conf", parent);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(
	    f,
	    "dns = { servers = [ \"127.0.0.1:%d\" ]; timeout = %d; tries = 1; };\n"
	    "listeners = ( { listen = \"127.0.0.1:2525\"; pool = \"mx\"; } );\n"
	    "pools = ( { name = \"mx\"; members = ( \"127.0.0.1:2526\" ); } );\n"
	    "policies = ( { name = \"LATER\"; banner = \"mx.test later\"; },\n"
	    "  { name = \"NONAME\"; action = \"reject\"; }, { name = \"DEF\"; } );\n"
	    "sender_groups = ( { name = \"TEMP\"; policy = \"LATER\"; rdns = [ \"tempfail\" ]; },\n"
	    "  { name = \"NONE\"; policy = \"NONAME\"; rdns = [ \"none\", \"unverified\" ]; },\n"
	    "  { name = \"REST\"; policy = \"DEF\"; default = true; } );\n",
	    port, TIMEOUT_MS);
	fclose(f);
	tenv_run(&r, "%s explain -c %s --pin-dir /sys/fs/bpf/mailedge-test-rdns-none %s",
		 tenv_bin("mailedge-proxy"), path, client);
	tenv_keep_run(&r);
	cr_assert_eq(r.status, 0, "explain %s: status %d\n%s", client, r.status, r.err);
	n = (size_t)snprintf(want, sizeof(want), "\nrdns      %s", rdns);
	line = strstr(r.out, want);
	cr_expect(line && (line[n] == '\n' || line[n] == ','), "explain %s: want '%s':\n%s", client,
		  want + 1, r.out);
	snprintf(want, sizeof(want), "\ngroup     %s (", group);
	cr_expect(strstr(r.out, want), "explain %s: want group %s:\n%s", client, group, r.out);
}

Test(rdns, explain)
{
	int port = dns_start_silent(&silent), rc;

	cr_assert_gt(port, 0);
	want_explained(port, "127.0.0.18", "tempfail", "TEMP");
	rc = dns_start(&lab, parent, records, sizeof(records) / sizeof(records[0]));
	cr_assert_eq(rc, 0, "dns_start: got %d, want 0", rc);
	want_explained(lab.port, "127.0.0.21", "unknown", "NONE");
	want_explained(lab.port, "127.0.0.23", "tempfail", "TEMP");
	want_explained(lab.port, "127.0.0.18", "ok", "REST");
}
