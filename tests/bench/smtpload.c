// SPDX-License-Identifier: GPL-2.0
/*
 * smtpload.c - an SMTP load client for the proxy benchmarks.
 *
 * smtp-source (Postfix) is the reference load generator, but it speaks no TLS
 * and reports no latency. This one does both, so that plain and STARTTLS runs
 * are measured the same way:
 *
 *   smtpload send --server ADDR:PORT [--tls] --sessions N --messages M
 *                 [--size BYTES] [--to RCPT]
 *       N threads, each one session after another, M messages in all; prints
 *       messages/s and the latency of each transaction (MAIL to the 250 that
 *       ends DATA): median, p90, p99.
 *   smtpload idle --server ADDR:PORT [--tls] --count N [--hold SECONDS]
 *       opens N sessions (greeting, EHLO, and STARTTLS if asked), prints
 *       "ready N", keeps them open until SIGTERM or --hold, then closes them.
 *   smtpload greet --server ADDR:PORT --sessions N --count M [--sources K]
 *       N threads open M sessions in all, each: connect, wait for the banner,
 *       QUIT; prints sessions/s and the banner latency (connect to the 220):
 *       median, p99. With --sources, the sessions come from K loopback
 *       addresses in turn (127.1.0.1 on; a server on 127.0.0.1), so that a
 *       per-client cache (DNSBL answers) is cold with K = M and warm with few.
 *
 * Blocking sockets and a thread per session: simple, and the cost is on this
 * side, the same for every server measured.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

struct conn {
	int fd;
	SSL *ssl;
	char buf[8192];
	size_t len;
};

static struct sockaddr_storage server;
static socklen_t server_len;
static SSL_CTX *ctx;
static int use_tls;
static const char *rcpt = "user@example.org";
static size_t msg_size = 1024;
static atomic_long next_msg;
static long total_msgs;
static double *lat;	 /* seconds per transaction */
static atomic_long nlat;
static atomic_long failures;
static long nsources; /* greet: source addresses to rotate over; 0 = the kernel's */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "smtpload: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static int c_write(struct conn *c, const char *p, size_t n)
{
	while (n) {
		ssize_t w = c->ssl ? SSL_write(c->ssl, p, (int)n) : send(c->fd, p, n, MSG_NOSIGNAL);

		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read one whole reply; returns its code, or -1. */
static int c_reply(struct conn *c)
{
	for (;;) {
		char *lf;

		while ((lf = memchr(c->buf, '\n', c->len))) {
			size_t n = (size_t)(lf - c->buf) + 1;
			int last = n >= 4 && c->buf[3] != '-', code = atoi(c->buf);

			memmove(c->buf, c->buf + n, c->len - n);
			c->len -= n;
			if (last)
				return code;
		}
		if (c->len == sizeof(c->buf))
			return -1;
		{
			ssize_t r = c->ssl ? SSL_read(c->ssl, c->buf + c->len, (int)(sizeof(c->buf) - c->len))
					   : recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);

			if (r <= 0)
				return -1;
			c->len += (size_t)r;
		}
	}
}

static int cmd(struct conn *c, const char *line, int want)
{
	if (c_write(c, line, strlen(line)))
		return -1;
	return c_reply(c) / 100 == want ? 0 : -1;
}

static int c_open(struct conn *c)
{
	int one = 1;

	memset(c, 0, sizeof(*c));
	c->fd = socket(server.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&server, server_len) || c_reply(c) != 220 ||
	    cmd(c, "EHLO load.example.net\r\n", 2))
		return -1;
	if (!use_tls)
		return 0;
	if (cmd(c, "STARTTLS\r\n", 2))
		return -1;
	c->len = 0;
	c->ssl = SSL_new(ctx);
	SSL_set_fd(c->ssl, c->fd);
	if (SSL_connect(c->ssl) != 1)
		return -1;
	return cmd(c, "EHLO load.example.net\r\n", 2);
}

static void c_close(struct conn *c)
{
	if (c->ssl) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->ssl = NULL;
}

static void *sender(void *arg)
{
	char hdr[256];
	struct conn c;
	long per_session = (long)(size_t)arg, i = 0;

	while (atomic_load(&next_msg) < total_msgs) {
		if (c_open(&c)) {
			atomic_fetch_add(&failures, 1);
			c_close(&c);
			continue;
		}
		for (i = 0; i < per_session; i++) {
			long id = atomic_fetch_add(&next_msg, 1);
			double t0;
			size_t sent = 0;

			if (id >= total_msgs)
				break;
			t0 = now();
			snprintf(hdr, sizeof(hdr), "RCPT TO:<%s>\r\n", rcpt);
			if (cmd(&c, "MAIL FROM:<load@example.net>\r\n", 2) || cmd(&c, hdr, 2) ||
			    cmd(&c, "DATA\r\n", 3)) {
				atomic_fetch_add(&failures, 1);
				break;
			}
			snprintf(hdr, sizeof(hdr),
				 "From: load@example.net\r\nTo: %s\r\nSubject: load %ld\r\n"
				 "Message-ID: <%ld@load.example.net>\r\n\r\n",
				 rcpt, id, id);
			if (c_write(&c, hdr, strlen(hdr)))
				break;
			while (sent < msg_size) {
				const char *l = "The quick brown fox jumps over the lazy dog, again.\r\n";

				if (c_write(&c, l, strlen(l)))
					break;
				sent += strlen(l);
			}
			if (cmd(&c, ".\r\n", 2)) {
				atomic_fetch_add(&failures, 1);
				break;
			}
			lat[atomic_fetch_add(&nlat, 1)] = now() - t0;
		}
		cmd(&c, "QUIT\r\n", 2);
		c_close(&c);
	}
	return NULL;
}

/* One greeting: connect (from the i-th source), read the banner, QUIT. */
static int greet_once(long i, double *took)
{
	struct sockaddr_in src = { .sin_family = AF_INET };
	struct conn c;
	double t0;
	int ok;

	memset(&c, 0, sizeof(c));
	c.fd = socket(server.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c.fd < 0)
		return -1;
	if (nsources && server.ss_family == AF_INET) {
		uint32_t n = (uint32_t)(i % nsources) + 1;

		src.sin_addr.s_addr = htonl(0x7f010000u + n);
		if (bind(c.fd, (struct sockaddr *)&src, sizeof(src))) {
			close(c.fd);
			return -1;
		}
	}
	t0 = now();
	ok = !connect(c.fd, (struct sockaddr *)&server, server_len) && c_reply(&c) == 220;
	*took = now() - t0;
	if (ok)
		cmd(&c, "QUIT\r\n", 2);
	c_close(&c);
	return ok ? 0 : -1;
}

static atomic_long next_session;
static long total_sessions;

static void *greeter(void *arg)
{
	double took;
	long i;

	(void)arg;
	while ((i = atomic_fetch_add(&next_session, 1)) < total_sessions) {
		if (greet_once(i, &took))
			atomic_fetch_add(&failures, 1);
		else
			lat[atomic_fetch_add(&nlat, 1)] = took;
	}
	return NULL;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void parse_server(const char *s)
{
	char host[128];
	const char *colon = strrchr(s, ':');
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST }, *ai;

	if (!colon || (size_t)(colon - s) >= sizeof(host))
		die("--server ADDR:PORT");
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	if (getaddrinfo(host, colon + 1, &hints, &ai))
		die("bad --server %s", s);
	memcpy(&server, ai->ai_addr, ai->ai_addrlen);
	server_len = ai->ai_addrlen;
	freeaddrinfo(ai);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, 's' }, { "tls", no_argument, NULL, 't' },
		{ "sessions", required_argument, NULL, 'n' }, { "messages", required_argument, NULL, 'm' },
		{ "size", required_argument, NULL, 'z' },   { "to", required_argument, NULL, 'r' },
		{ "count", required_argument, NULL, 'c' },  { "hold", required_argument, NULL, 'h' },
		{ "sources", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 }
	};
	long sessions = 10, count = 0, hold = 0, i, n;
	struct rlimit rl = { 200000, 200000 };
	pthread_t *th;
	double t0, t;
	int opt, idle, greet;

	if (argc < 2 ||
	    (strcmp(argv[1], "send") && strcmp(argv[1], "idle") && strcmp(argv[1], "greet")))
		die("usage: smtpload send|idle|greet --server ADDR:PORT [--tls] ...");
	idle = !strcmp(argv[1], "idle");
	greet = !strcmp(argv[1], "greet");
	optind = 2;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 's': parse_server(optarg); break;
		case 't': use_tls = 1; break;
		case 'n': sessions = atol(optarg); break;
		case 'm': total_msgs = atol(optarg); break;
		case 'z': msg_size = (size_t)atol(optarg); break;
		case 'r': rcpt = optarg; break;
		case 'c': count = atol(optarg); break;
		case 'h': hold = atol(optarg); break;
		case 'S': nsources = atol(optarg); break;
		default: die("bad option");
		}
	}
	if (!server_len)
		die("--server is required");
	setrlimit(RLIMIT_NOFILE, &rl);
	signal(SIGPIPE, SIG_IGN);
	ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL); /* a benchmark, with a test certificate */

	if (idle) {
		struct conn *c = calloc((size_t)count, sizeof(*c));

		if (!c)
			die("out of memory");
		for (i = 0; i < count; i++)
			if (c_open(&c[i]))
				die("session %ld: could not open (%s)", i, strerror(errno));
		printf("ready %ld\n", count);
		fflush(stdout);
		signal(SIGTERM, on_term);
		for (t0 = now(); !stop && (!hold || now() - t0 < hold);)
			usleep(100000);
		for (i = 0; i < count; i++)
			c_close(&c[i]);
		return 0;
	}

	if (greet) {
		if (sessions < 1 || count < 1)
			die("--sessions and --count must be positive");
		total_sessions = count;
		lat = calloc((size_t)count, sizeof(*lat));
		th = calloc((size_t)sessions, sizeof(*th));
		if (!lat || !th)
			die("out of memory");
		t0 = now();
		for (i = 0; i < sessions; i++)
			pthread_create(&th[i], NULL, greeter, NULL);
		for (i = 0; i < sessions; i++)
			pthread_join(th[i], NULL);
		t = now() - t0;
		n = atomic_load(&nlat);
		qsort(lat, (size_t)n, sizeof(*lat), cmp_d);
		printf("sessions=%ld seconds=%.3f rate=%.1f median_ms=%.3f p99_ms=%.3f failures=%ld\n",
		       n, t, n / t, n ? lat[n / 2] * 1e3 : 0, n ? lat[n * 99 / 100] * 1e3 : 0,
		       atomic_load(&failures));
		return n == count ? 0 : 1;
	}
	if (sessions < 1 || total_msgs < 1)
		die("--sessions and --messages must be positive");
	lat = calloc((size_t)total_msgs, sizeof(*lat));
	th = calloc((size_t)sessions, sizeof(*th));
	if (!lat || !th)
		die("out of memory");
	t0 = now();
	for (i = 0; i < sessions; i++)
		pthread_create(&th[i], NULL, sender, (void *)(size_t)100); /* 100 messages a session */
	for (i = 0; i < sessions; i++)
		pthread_join(th[i], NULL);
	t = now() - t0;
	n = atomic_load(&nlat);
	qsort(lat, (size_t)n, sizeof(*lat), cmp_d);
	printf("messages=%ld seconds=%.3f rate=%.1f median_ms=%.3f p90_ms=%.3f p99_ms=%.3f "
	       "failures=%ld\n",
	       n, t, n / t, n ? lat[n / 2] * 1e3 : 0, n ? lat[n * 9 / 10] * 1e3 : 0,
	       n ? lat[n * 99 / 100] * 1e3 : 0, atomic_load(&failures));
	return n == total_msgs ? 0 : 1;
}
