// SPDX-License-Identifier: GPL-2.0
/*
 * pxcase.c - the vocabulary the mailedge-proxy suites are written in (see
 * pxcase.h): one lab per test, configurations from parts, a client that
 * asserts on every reply, and what the backends and the metrics saw.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include <json-c/json.h>

#include "dnslab.h"
#include "proxylab.h"
#include "pxcase.h"
#include "testenv.h"
#include "traffic.h"

/* What most tests run with; each test may give its own. */

struct pl lab;
char msg[131072]; /* assertion text, built before freeing what it quotes */
char rbuf[16384]; /* the last reply */

/* ---- fixtures ---- */

/* From the LeakSanitizer runtime when there is one (SAN=1 builds). */
void __lsan_disable(void) __attribute__((weak));

void pxc_setup(void)
{
	int rc;

	/* What is under test is the proxy, whose leaks its own LeakSanitizer
	 * reports (and finish() turns into failures). A failed assertion here
	 * leaves the test's buffers unfreed: not worth a report of their own. */
	if (__lsan_disable && !getenv("PL_LSAN"))
		__lsan_disable();
	rc = pl_init(&lab);

	if (rc) {
		pl_fini(&lab);
		cr_assert_fail("setup: pl_init: got %d, want 0", rc);
	}
}

static struct dns_lab no_names = { .pid = -1 };

const char *pxc_dns_none(void)
{
	static char line[128];
	int rc;

	if (no_names.pid <= 0) {
		rc = dns_start(&no_names, lab.dir, NULL, 0);
		cr_assert_eq(rc, 0, "starting a resolver that knows no name: got %d, want 0", rc);
	}
	snprintf(line, sizeof(line), "dns = { servers = [ \"127.0.0.1:%d\" ]; };\n",
		 no_names.port);
	return line;
}

void pxc_teardown(void)
{
	char *log = lab.dir[0] ? pl_read_file(lab.proxy_log) : NULL;

	dns_stop(&no_names);

	/* Not an assertion (those do not count in .fini): shown for the record. */
	if (pl_sanitizer(log))
		fprintf(stderr, "%s: sanitizer report in the proxy's log:\n%s\n",
			criterion_current_test->name, log);
	free(log);
	pl_fini(&lab);
}

/* The proxy's log, for a failure message (static, truncated at the front). */
const char *proxy_log(void)
{
	static char tail[8192];
	char *log = pl_read_file(lab.proxy_log);
	size_t n = log ? strlen(log) : 0;

	snprintf(tail, sizeof(tail), "%s", log ? log + (n > 8000 ? n - 8000 : 0) : "(none)");
	free(log);
	return tail;
}

void fake(int i, const char *args)
{
	int rc = pl_fake_start(&lab, i, "%s", args ? args : "");

	cr_assert_eq(rc, 0, "starting fakesmtp.py %d (%s): got %d, want 0", i, args ? args : "",
		     rc);
}

void sink(int i)
{
	int rc = pl_sink_start(&lab, i, NULL);

	cr_assert_eq(rc, 0, "starting smtp-sink %d: got %d, want 0", i, rc);
}

void start_conf(const char *conf)
{
	int rc = pl_proxy_start(&lab, conf);

	if (rc) {
		snprintf(
		    msg, sizeof(msg),
		    "starting mailedge-proxy: got %d (exit status %d), want it ready; log:\n%s", rc,
		    lab.proxy_status, proxy_log());
		cr_assert_fail("%s", msg);
	}
}

/* A configuration from its parts (NULL: the default part). */
void make_conf(char *out, size_t len, const char *top, const char *limits, const char *listeners,
	       const char *pools)
{
	snprintf(out, len,
		 "# written by test_proxy\nhostname = \"mx.test\";\nuser = \"nobody\";\n"
		 "workers = 2;\nmetrics = \"127.0.0.1:@M@\";\n%s\nlimits = { %s };\n"
		 "listeners = ( %s );\npools = ( %s );\n",
		 top ? top : TOP_DEFAULT, limits ? limits : LIM_DEFAULT,
		 listeners ? listeners : LISTEN0, pools ? pools : POOL_F0);
}

void start(const char *top, const char *limits, const char *listeners, const char *pools)
{
	char conf[16384];

	make_conf(conf, sizeof(conf), top, limits, listeners, pools);
	start_conf(conf);
}

/* The end of every test: the proxy drains on SIGTERM, exits 0, and its log
 * holds no sanitizer report. */
void finish(void)
{
	int st = lab.proxy_status;
	char *log;

	if (lab.proxy > 0) {
		pl_proxy_signal(&lab, SIGTERM);
		st = pl_proxy_wait(&lab, 1500);
		/* A session still open (draining itself is sigterm_drains' to test):
		 * the second signal closes them all. */
		if (st == -ETIMEDOUT) {
			pl_proxy_signal(&lab, SIGTERM);
			st = pl_proxy_wait(&lab, 10000);
		}
	}
	log = pl_read_file(lab.proxy_log);
	if (pl_sanitizer(log)) {
		snprintf(msg, sizeof(msg), "proxy log: got a sanitizer report, want none:\n%s",
			 log);
		free(log);
		cr_assert_fail("%s", msg);
	}
	free(log);
	cr_assert_eq(st, 0, "proxy exit status after SIGTERM: got %d, want 0; log:\n%s", st,
		     proxy_log());
}

/* ---- the client side ---- */

void open_at(struct pl_client *c, const char *src, int port)
{
	int rc = pl_connect(c, src, port), code;

	cr_assert_eq(rc, 0, "connecting to 127.0.0.1:%d from %s: got %d (%s), want 0", port,
		     src ? src : "127.0.0.1", rc, c->err);
	code = pl_reply(c, rbuf, sizeof(rbuf), 10000);
	cr_assert_eq(code, 220, "banner on port %d: got %d '%s', want 220", port, code, rbuf);
}

void open_client(struct pl_client *c, const char *src)
{
	open_at(c, src, lab.port[0]);
}

int starts(const char *text, const char *want)
{
	return !strncmp(text, want, strlen(want));
}

/* Read a reply; it must start with want ("250", "554 5.7.1"). */
const char *expect(struct pl_client *c, const char *want, const char *what)
{
	int code = pl_reply(c, rbuf, sizeof(rbuf), 10000);

	if (code < 0)
		snprintf(rbuf, sizeof(rbuf), "%s",
			 code == -EPIPE ? "(connection closed)" : "(no reply)");
	cr_assert(starts(rbuf, want), "%s: got '%s', want '%s ...'", what, rbuf, want);
	return rbuf;
}

/* Send a command (CRLF added); its reply must start with want. */
const char *cmd(struct pl_client *c, const char *want, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

const char *cmd(struct pl_client *c, const char *want, const char *fmt, ...)
{
	char line[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	cr_assert_eq(pl_send(c, "%s\r\n", line), 0, "sending '%.60s': got a closed connection",
		     line);
	snprintf(msg, sizeof(msg), "reply to '%.200s'", line);
	return expect(c, want, msg);
}

void ehlo(struct pl_client *c, const char *name)
{
	cmd(c, "250", "EHLO %s", name);
}

/* What most tests begin with: a connection from src, greeted as client.test. */
int unknown_rcpts(struct pl_client *c, const char *domain, int max, int *last)
{
	int i, n = 0;

	*last = 0;
	for (i = 0; i < max; i++) {
		if (pl_send(c, "RCPT TO:<user%d@%s>\r\n", i, domain))
			break;
		*last = pl_reply(c, rbuf, sizeof(rbuf), 5000);
		if (*last != 550 || !strstr(rbuf, "5.1.1"))
			break;
		n++;
	}
	return n;
}

void session(struct pl_client *c, const char *src)
{
	open_client(c, src);
	ehlo(c, "client.test");
}

/* The rest of a message after the 354, then its end: the reply must start
 * with want. */
void body(struct pl_client *c, const char *text, const char *want)
{
	cr_assert_eq(pl_send(c, "%s.\r\n", text), 0, "sending a message: connection closed");
	expect(c, want, "reply to the end of the message");
}

/* A whole transaction that must be accepted. */
/* MAIL (with params such as "SIZE=100" after it, unless NULL), RCPT and
 * DATA, each accepted: the client may send the message. */
void start_data_params(struct pl_client *c, const char *from, const char *params, const char *to)
{
	cmd(c, "250", "MAIL FROM:<%s>%s%s", from, params ? " " : "", params ? params : "");
	cmd(c, "250", "RCPT TO:<%s>", to);
	cmd(c, "354", "DATA");
}

void start_data(struct pl_client *c, const char *from, const char *to)
{
	start_data_params(c, from, NULL, to);
}

void deliver(struct pl_client *c, const char *from, const char *to, const char *text)
{
	start_data(c, from, to);
	body(c, text, "250");
}

void quit(struct pl_client *c)
{
	cmd(c, "221", "QUIT");
	pl_close(c);
}

/* Every reply until a 221 or the connection closes (or ms pass), as text. */
const char *read_all(struct pl_client *c, int ms)
{
	static char all[65536];
	long long deadline = now_ms() + ms;
	size_t o = 0;
	int code = 0;

	all[0] = '\0';
	while (code != 221 && now_ms() < deadline) {
		code = pl_reply(c, rbuf, sizeof(rbuf), (int)(deadline - now_ms()));
		if (code < 0)
			break;
		o += (size_t)snprintf(all + o, sizeof(all) - o, "%s", rbuf);
		if (o >= sizeof(all))
			o = sizeof(all) - 1;
	}
	if (code < 0 && c->len) /* a partial reply before the close */
		snprintf(all + o, sizeof(all) - o, "%.*s", (int)c->len, c->in);
	c->len = 0;
	return all;
}

/* Replies in a transcript: lines "CODE " (the last line of each reply). */
int final_replies(const char *all)
{
	int n = 0;

	for (const char *l = all; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l))
		if (strlen(l) >= 4 && l[0] >= '2' && l[0] <= '5' && l[3] == ' ')
			n++;
	return n;
}

/* ---- what the backends saw ---- */

/* The fake's events once its connections are over (json_object_put them). */
json_object *seen(int i)
{
	int rc = pl_fake_settle(&lab, i, 5000);

	cr_assert_eq(rc, 0, "fake %d: got connections still open after 5 s, want all closed", i);
	return pl_fake_events(&lab, i);
}

int seen_count(int i, const char *ev, const char *key, const char *needle)
{
	json_object *a = seen(i);
	int n = pl_count(a, ev, key, needle);

	json_object_put(a);
	return n;
}

/* The n-th (0-based) event of kind ev, or NULL; borrowed from a. */
json_object *nth(json_object *a, const char *ev, int n)
{
	size_t i, len = json_object_array_length(a);

	for (i = 0; i < len; i++) {
		json_object *o = json_object_array_get_idx(a, i), *v;

		if (json_object_object_get_ex(o, "ev", &v) &&
		    !strcmp(json_object_get_string(v), ev) && n-- == 0)
			return o;
	}
	return NULL;
}

const char *field(json_object *o, const char *key)
{
	json_object *v;

	return o && json_object_object_get_ex(o, key, &v) && v ? json_object_get_string(v) : "";
}

long long ifield(json_object *o, const char *key)
{
	json_object *v;

	return o && json_object_object_get_ex(o, key, &v) && v ? json_object_get_int64(v) : -1;
}

/* Wait until the proxy offers cap in EHLO (the first health check is in). */
void wait_cap(const char *cap)
{
	long long deadline = now_ms() + 5000;
	char want[64];

	snprintf(want, sizeof(want), "250-%s", cap);
	for (;;) {
		struct pl_client c;
		int ok = 0;

		open_client(&c, NULL);
		if (pl_cmd(&c, rbuf, sizeof(rbuf), "EHLO wait.test") == 250) {
			ok = strstr(rbuf, want) != NULL;
			want[3] = ' ';
			ok = ok || strstr(rbuf, want);
			want[3] = '-';
		}
		pl_close(&c);
		if (ok)
			return;
		cr_assert_lt(now_ms(), deadline, "EHLO: got '%s', want %s offered within 5 s", rbuf,
			     cap);
		usleep(50 * 1000);
	}
}

static int get_metrics(void *arg)
{
	*(char **)arg = pl_http_get(lab.metrics_port, "/metrics");
	return 0;
}

char *metrics(void)
{
	char *m = NULL;

	if (lab.netns[0])
		ns_enter(lab.netns, get_metrics, &m);
	else
		get_metrics(&m);

	cr_assert_not_null(m, "GET /metrics on 127.0.0.1:%d: got no answer, want metrics",
			   lab.metrics_port);
	return m;
}

long long metric(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

long long metric(const char *fmt, ...)
{
	char series[512], *m = metrics();
	long long v;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(series, sizeof(series), fmt, ap);
	va_end(ap);
	v = pl_metric(m, series);
	free(m);
	return v;
}

/* Wait until the series has the value; returns the last value seen. */
long long metric_wait(long long want, int ms, const char *series)
{
	long long deadline = now_ms() + ms, v;

	for (;;) {
		v = metric("%s", series);
		if (v == want || now_ms() >= deadline)
			return v;
		usleep(50 * 1000);
	}
}

const char *b64_plain(const char *user, const char *pass)
{
	static char out[256];
	static const char tbl[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char in[200];
	size_t n = 0, i, o = 0;

	in[n++] = 0;
	memcpy(in + n, user, strlen(user));
	n += strlen(user);
	in[n++] = 0;
	memcpy(in + n, pass, strlen(pass));
	n += strlen(pass);
	for (i = 0; i < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) |
			     (i + 2 < n ? in[i + 2] : 0);

		out[o++] = tbl[v >> 18 & 63];
		out[o++] = tbl[v >> 12 & 63];
		out[o++] = i + 1 < n ? tbl[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? tbl[v & 63] : '=';
	}
	out[o] = '\0';
	return out;
}

char ca_path[256];

void start_tls(const char *fake_args, const char *limits)
{
	int rc = pl_make_certs(&lab);

	cr_assert_eq(rc, 0, "making the test CA and certificate: got %d, want 0", rc);
	snprintf(ca_path, sizeof(ca_path), "%s/ca.pem", lab.tls);
	fake(0, fake_args);
	start(NULL, limits, LISTEN_TLS, NULL);
}

/* STARTTLS on an open client: 220, handshake (verified), EHLO again. */
void starttls(struct pl_client *c)
{
	int rc;

	cmd(c, "220", "STARTTLS");
	cr_assert_eq(c->len, 0, "plaintext after the 220 to STARTTLS: '%.*s'", (int)c->len, c->in);
	rc = pl_tls(c, ca_path, 0);
	cr_assert_eq(rc, 0, "TLS handshake: got %d (%s), want 0", rc, c->err);
}

const char *pki(void)
{
	static char path[256];
	const char *env = getenv("MAILEDGE_PKI");
	char *out = NULL, probe[300];
	int rc;

	if (env && *env) {
		snprintf(probe, sizeof(probe), "%s/root.pem", env);
		if (!access(probe, R_OK))
			return env;
	}
	snprintf(path, sizeof(path), "%s/pki", lab.dir);
	snprintf(probe, sizeof(probe), "%s/root.pem", path);
	if (!access(probe, R_OK))
		return path;
	rc = pl_sh(&out, 60000, "bash %s/tests/lib/mkpki.sh %s 2>&1", tenv_src(), path);
	cr_assert_eq(rc, 0, "mkpki.sh: got status %d, want 0: %s", rc, out ? out : "");
	free(out);
	return path;
}

const char *sclient(int *status, const char *input, const char *fmt, ...)
{
	static char *out;
	char args[2048];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	free(out);
	out = NULL;
	/* -ign_eof: s_client ends when the server closes (after the QUIT or
	 * LOGOUT every input ends with), not when its input does, so nothing
	 * the server says (a session ticket, the last reply) is cut off. */
	st = pl_sh(&out, 20000,
		   "printf '%s' | timeout 10 openssl s_client -ign_eof %s -CAfile %s/root.pem 2>&1",
		   input ? input : "", args, pki());
	if (status)
		*status = st;
	return out ? out : "";
}
