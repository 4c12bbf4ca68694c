// SPDX-License-Identifier: GPL-2.0
/*
 * test_dnslab.c - the DNS lab itself (tests/lib/dnslab.c): the records the
 * reverse-DNS and DNSBL tests are going to rely on, asked with dig, answer
 * exactly as given (and nothing else does); the silent server lets a query
 * time out; dns_stop leaves nothing running. .fini stops the servers and
 * removes the directory (PL_KEEP=1 keeps it).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <criterion/criterion.h>
#include <criterion/logging.h>

#include "lib/dnslab.h"
#include "lib/proxylab.h"
#include "lib/traffic.h"

static char parent[64];
static struct dns_lab dns, silent;

static void setup(void)
{
	snprintf(parent, sizeof(parent), "/tmp/mailedge-test-dns-XXXXXX");
	if (!mkdtemp(parent)) {
		parent[0] = '\0';
		cr_assert_fail("setup: mkdtemp: got errno %d, want a directory", errno);
	}
	dns.pid = silent.pid = -1;
}

static void teardown(void)
{
	char *out;

	dns_stop(&dns);
	dns_stop(&silent);
	if (parent[0] && !getenv("PL_KEEP")) {
		pl_sh(&out, 10000, "rm -rf %s", parent);
		free(out);
	}
	parent[0] = '\0';
}

TestSuite(dnslab, .init = setup, .fini = teardown, .timeout = 30);

/* What the suites to come need; the IPv6 DNSBL name is added at run time. */
static const char *const base_records[] = {
	/* forward-confirmed: PTR and A agree */
	"PTR 127.0.0.3 client.test",
	"A client.test 127.0.0.3",
	/* not confirmed: the PTR name resolves elsewhere */
	"PTR 127.0.0.4 liar.test",
	"A liar.test. 127.0.0.99",
	/* 127.0.0.5 has no PTR at all */
	/* IPv6, both ways */
	"AAAA client6.test 2001:db8::3",
	"PTR 2001:db8::3 client6.test",
	/* a DNSBL zone: 127.0.0.2 listed with a reason, 127.0.0.1 an error code */
	"A 2.0.0.127.zen.test 127.0.0.2",
	"TXT 2.0.0.127.zen.test https://example.org/lookup?ip=127.0.0.2 listed",
	"A 1.0.0.127.zen.test 127.255.255.254",
	"NXDOMAIN gone.test",
	"REFUSED refused.test",
};

struct dig_case {
	const char *query;  /* dig's arguments for the question */
	const char *status; /* NOERROR, NXDOMAIN, REFUSED */
	const char *answer; /* "TYPE DATA" in the answer section, or NULL: none */
};

static const struct dig_case cases[] = {
	{ "-x 127.0.0.3", "NOERROR", "PTR client.test." },
	{ "client.test A", "NOERROR", "A 127.0.0.3" },
	{ "client.test AAAA", "NOERROR", NULL }, /* NODATA, not NXDOMAIN */
	{ "client.test TXT", "NOERROR", NULL },
	{ "-x 127.0.0.4", "NOERROR", "PTR liar.test." },
	{ "liar.test A", "NOERROR", "A 127.0.0.99" },
	{ "-x 127.0.0.99", "NXDOMAIN", NULL }, /* no PTR made from an A */
	{ "-x 127.0.0.5", "NXDOMAIN", NULL },
	{ "client6.test AAAA", "NOERROR", "AAAA 2001:db8::3" },
	{ "-x 2001:db8::3", "NOERROR", "PTR client6.test." },
	{ "2.0.0.127.zen.test A", "NOERROR", "A 127.0.0.2" },
	{ "2.0.0.127.zen.test TXT", "NOERROR",
	  "TXT \"https://example.org/lookup?ip=127.0.0.2 listed\"" },
	{ "1.0.0.127.zen.test A", "NOERROR", "A 127.255.255.254" },
	{ "3.0.0.127.zen.test A", "NXDOMAIN", NULL },
	{ "x.2.0.0.127.zen.test A", "NXDOMAIN", NULL },
	{ "2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.zen.test A", "NOERROR",
	  "A 127.0.0.2" },
	{ "gone.test A", "NXDOMAIN", NULL },
	{ "refused.test A", "REFUSED", NULL },
	{ "example.org A", "NXDOMAIN", NULL },
	{ "+tcp client.test A", "NOERROR", "A 127.0.0.3" },
	{ "+tcp -x 127.0.0.4", "NOERROR", "PTR liar.test." },
};

static void start(const char *const *records, int n)
{
	long long t0 = now_ms();
	int rc = dns_start(&dns, parent, records, n);

	cr_assert_eq(rc, 0, "dns_start: got %d, want 0", rc);
	cr_log_info("dnslab: answering %lld ms after dns_start", now_ms() - t0);
}

static char text[16384]; /* dig's output, for the checks and their messages */

/* dig's answer to one question in text, "status: X" and the answer lines,
 * with each run of blanks made one space (dig aligns with tabs or spaces). */
static int dig(int port, const char *query)
{
	char *out;
	size_t o = 0;
	const char *p;
	int rc =
	    pl_sh(&out, 10000, "dig +tries=1 +time=2 +noall +comments +answer @127.0.0.1 -p %d %s",
		  port, query);

	for (p = out ? out : ""; *p && o + 1 < sizeof(text); p++)
		if (!(*p == ' ' || *p == '\t') || (o && text[o - 1] != ' '))
			text[o++] = *p == '\t' ? ' ' : *p;
	text[o] = '\0';
	free(out);
	return rc;
}

static void check(int port, const struct dig_case *t)
{
	char status[64], answer[300];
	const char *line;
	int rc = dig(port, t->query), k = 0;

	snprintf(status, sizeof(status), "status: %s,", t->status);
	cr_assert(rc == 0 && strstr(text, status), "dig %s: got %d \"%s\", want %s", t->query, rc,
		  text, status);
	/* The answer lines: "NAME TTL IN TYPE DATA". */
	for (line = strstr(text, " IN "); line; line = strstr(line + 4, " IN "))
		k++;
	if (!t->answer) {
		cr_assert_eq(k, 0, "dig %s: got %d answers in \"%s\", want none", t->query, k,
			     text);
		return;
	}
	snprintf(answer, sizeof(answer), " IN %s\n", t->answer);
	cr_assert(k == 1 && strstr(text, answer), "dig %s: got \"%s\", want one answer %s",
		  t->query, text, t->answer);
}

Test(dnslab, records)
{
	const char *records[sizeof(base_records) / sizeof(base_records[0]) + 1];
	char rev[256], line[320];
	size_t i, n = sizeof(base_records) / sizeof(base_records[0]);

	/* The IPv6 DNSBL name, made by the helper the tests will use. */
	cr_assert_eq(dns_rev_name(rev, sizeof(rev), "2001:db8::2", "zen.test"), 0,
		     "dns_rev_name: got an error, want 0");
	snprintf(line, sizeof(line), "A %s 127.0.0.2", rev);
	memcpy(records, base_records, sizeof(base_records));
	records[n] = line;
	start(records, (int)n + 1);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check(dns.port, &cases[i]);
}

Test(dnslab, rev_name)
{
	char out[256];

	cr_assert_eq(dns_rev_name(out, sizeof(out), "127.0.0.3", NULL), 0);
	cr_assert_str_eq(out, "3.0.0.127.in-addr.arpa", "got %s, want 3.0.0.127.in-addr.arpa", out);
	cr_assert_eq(dns_rev_name(out, sizeof(out), "127.0.0.2", "zen.test"), 0);
	cr_assert_str_eq(out, "2.0.0.127.zen.test", "got %s, want 2.0.0.127.zen.test", out);
	cr_assert_eq(dns_rev_name(out, sizeof(out), "2001:db8::1", NULL), 0);
	cr_assert_str_eq(out,
			 "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
			 "got %s, want the nibbles of 2001:db8::1", out);
	cr_assert_eq(dns_rev_name(out, sizeof(out), "192.0.2.300", NULL), -EINVAL,
		     "a bad address: got 0, want -EINVAL");
	cr_assert_eq(dns_rev_name(out, 10, "2001:db8::1", NULL), -EINVAL,
		     "a short buffer: got 0, want -EINVAL");
}

/* With no records, everything is NXDOMAIN. */
Test(dnslab, empty)
{
	static const struct dig_case none[] = {
		{ "client.test A", "NXDOMAIN", NULL },
		{ "-x 127.0.0.3", "NXDOMAIN", NULL },
	};

	start(NULL, 0);
	check(dns.port, &none[0]);
	check(dns.port, &none[1]);
}

Test(dnslab, bad_records)
{
	static const char *const bad[] = {
		"A client.test 127.0.0.300",
		"AAAA client.test 127.0.0.1",
		"PTR client.test 127.0.0.3",
		"A client.test\" 127.0.0.3",
		"TXT zen.test say \"hi\"",
		"MX client.test 10 mx.test",
		"NXDOMAIN",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = dns_start(&dns, parent, &bad[i], 1);

		cr_assert_eq(rc, -EINVAL, "dns_start with \"%s\": got %d, want -EINVAL", bad[i],
			     rc);
		cr_assert_eq(dns.pid, -1, "pid after a failed start: got %d, want -1",
			     (int)dns.pid);
	}
}

/* dig gives up on the silent server (exit 9: no reply), where a closed port
 * is refused at once; the raw query gets no answer and no ICMP refusal. */
Test(dnslab, silent)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct pollfd p;
	long long t0;
	char *out;
	int port = dns_start_silent(&silent), rc, fd;

	cr_assert_gt(port, 0, "dns_start_silent: got %d, want a port", port);
	cr_assert_eq(port, silent.port, "port: got %d, want d->port %d", port, silent.port);
	t0 = now_ms();
	rc = pl_sh(&out, 10000, "dig +tries=1 +time=1 @127.0.0.1 -p %d client.test A", port);
	cr_assert(rc == 9 && now_ms() - t0 >= 900,
		  "dig to the silent server: got %d after %lld ms "
		  "(\"%s\"), want 9 after 1 s",
		  rc, now_ms() - t0, out);
	free(out);

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	sa.sin_port = htons((uint16_t)port);
	cr_assert(fd >= 0 && !connect(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
		      send(fd, "\x12\x34\x01\x00\0\1\0\0\0\0\0\0\0\0\1\0\1", 17, 0) == 17,
		  "a query to the silent server: got an error (%s), want it sent", strerror(errno));
	p.fd = fd;
	p.events = POLLIN;
	rc = poll(&p, 1, 300);
	close(fd);
	cr_assert_eq(rc, 0,
		     "poll after a query to the silent server: got %d (an answer or a refusal), "
		     "want 0 (silence)",
		     rc);
}

/* dns_stop ends the server: its process is gone, its port answers no more;
 * a second stop is harmless. */
Test(dnslab, stop_leaves_nothing)
{
	static const char *const one[] = { "A client.test 127.0.0.3" };
	struct dns_lab s2;
	pid_t pid, spid;
	int rc;

	start(one, 1);
	pid = dns.pid;
	cr_assert_gt(dns_start_silent(&s2), 0, "dns_start_silent: got an error, want a port");
	spid = s2.pid;
	dns_stop(&s2);
	cr_assert(kill(spid, 0) && errno == ESRCH, "the silent server after dns_stop: got alive, "
						   "want gone");
	dns_stop(&dns);
	cr_assert_eq(dns.pid, -1, "pid after dns_stop: got %d, want -1", (int)dns.pid);
	cr_assert(kill(pid, 0) && errno == ESRCH, "unbound after dns_stop: got alive, want gone");
	rc = dig(dns.port, "client.test A");
	cr_assert_neq(rc, 0, "dig after dns_stop: got 0 \"%s\", want a failure", text);
	dns_stop(&dns);
	dns_stop(&s2);
}
