// SPDX-License-Identifier: GPL-2.0
/*
 * dnslab.c - unbound with a test's records, a silent UDP port, and one
 * that answers garbage (see dnslab.h).
 *
 * The records become unbound local-data in a static local zone "." (so
 * everything else is NXDOMAIN and nothing is ever asked upstream). unbound
 * shuffles its 64K outgoing ports at start, ~90 ms of getrandom calls; this
 * server never sends a query, so all but one port are avoided and it answers
 * ~25 ms after exec. The port is picked free by the kernel (TCP and UDP) and
 * may be taken before unbound binds it (so-reuseport is off, so that it cannot
 * share one): a start that loses the race is retried on a new port.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "dnslab.h"
#include "proxylab.h"
#include "traffic.h"

#define DNS_START_MS 10000 /* until it answers; ~25 ms */
#define DNS_TRIES    5	   /* starts on fresh ports after losing a port race */
#define DNS_TERM_MS  2000  /* for it to exit on SIGTERM before SIGKILL */
#define DNS_CONF_MAX 65536 /* the configuration: ~100 bytes a record */

/* A port free right now on 127.0.0.1 for both TCP and UDP, or -errno. */
static int free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int t = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int port = -EADDRINUSE;

	if (t >= 0 && u >= 0 && !bind(t, (struct sockaddr *)&sa, sizeof(sa)) &&
	    !getsockname(t, (struct sockaddr *)&sa, &len) &&
	    !bind(u, (struct sockaddr *)&sa, sizeof(sa)))
		port = ntohs(sa.sin_port);
	if (t >= 0)
		close(t);
	if (u >= 0)
		close(u);
	return port;
}

int dns_rev_name(char *out, size_t len, const char *addr, const char *zone)
{
	unsigned char b[16];
	size_t o = 0;
	int i, k;

	if (inet_pton(AF_INET, addr, b) == 1) {
		k = snprintf(out, len, "%u.%u.%u.%u.%s", b[3], b[2], b[1], b[0],
			     zone ? zone : "in-addr.arpa");
		return k > 0 && (size_t)k < len ? 0 : -EINVAL;
	}
	if (inet_pton(AF_INET6, addr, b) != 1)
		return -EINVAL;
	for (i = 15; i >= 0; i--) {
		k = snprintf(out + o, len - o, "%x.%x.", b[i] & 0xf, b[i] >> 4);
		if (k < 0 || (size_t)k >= len - o)
			return -EINVAL;
		o += (size_t)k;
	}
	k = snprintf(out + o, len - o, "%s", zone ? zone : "ip6.arpa");
	return k > 0 && (size_t)k < len - o ? 0 : -EINVAL;
}

/* A name as it may go into unbound's configuration: plain characters only,
 * the final dot added. 0 or -EINVAL. */
static int fqdn(char *out, size_t len, const char *name)
{
	const char *p;
	size_t n = strlen(name);
	int k;

	if (!n || n > 253)
		return -EINVAL;
	for (p = name; *p; p++)
		if (!strchr("._-", *p) && !(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
		    !(*p >= '0' && *p <= '9'))
			return -EINVAL;
	k = snprintf(out, len, "%s%s", name, name[n - 1] == '.' ? "" : ".");
	return k > 0 && (size_t)k < len ? 0 : -EINVAL;
}

/* The optional " ttl=N" after an A, AAAA or PTR record's data: N, 0 when
 * there is none, -1 when it is not 0..86400. */
static long record_ttl(const char *rest)
{
	const char *t = strstr(rest, " ttl=");
	char *end;
	long v;

	if (!t)
		return 0;
	v = strtol(t + 5, &end, 10);
	return end != t + 5 && (!*end || *end == ' ') && v >= 0 && v <= 86400 ? v : -1;
}

/* One record line as unbound configuration, appended to conf. 0 or -EINVAL. */
static int record(char *conf, size_t cap, const char *line)
{
	char type[16], a[256], b[256], name[300], rev[300];
	const char *rest;
	size_t o = strlen(conf);
	unsigned char ip[16];
	int k = 0, off = 0;
	long ttl;

	if (sscanf(line, "%15s %255s %n", type, a, &off) != 2)
		return -EINVAL;
	rest = line + off;
	if (!strcmp(type, "A") || !strcmp(type, "AAAA")) {
		int v6 = type[1] == 'A';

		ttl = record_ttl(rest);
		if (sscanf(rest, "%255s", b) != 1 || fqdn(name, sizeof(name), a) ||
		    inet_pton(v6 ? AF_INET6 : AF_INET, b, ip) != 1 || ttl < 0)
			return -EINVAL;
		k = snprintf(conf + o, cap - o, "  local-data: \"%s %ld IN %s %s\"\n", name, ttl,
			     type, b);
	} else if (!strcmp(type, "PTR")) {
		ttl = record_ttl(rest);
		if (sscanf(rest, "%255s", b) != 1 || fqdn(name, sizeof(name), b) ||
		    dns_rev_name(rev, sizeof(rev), a, NULL) || ttl < 0)
			return -EINVAL;
		k = snprintf(conf + o, cap - o, "  local-data: \"%s. %ld IN PTR %s\"\n", rev, ttl,
			     name);
	} else if (!strcmp(type, "TXT")) {
		const char *p;

		if (fqdn(name, sizeof(name), a) || !*rest || strlen(rest) > 255)
			return -EINVAL;
		for (p = rest; *p; p++)
			if (*p == '"' || *p == '\'' || *p == '\\' || (unsigned char)*p < 0x20)
				return -EINVAL;
		k = snprintf(conf + o, cap - o, "  local-data: '%s 0 IN TXT \"%s\"'\n", name, rest);
	} else if (!strcmp(type, "NXDOMAIN") || !strcmp(type, "REFUSED")) {
		if (fqdn(name, sizeof(name), a) || *rest)
			return -EINVAL;
		k = snprintf(conf + o, cap - o, "  local-zone: \"%s\" %s\n", name,
			     type[0] == 'N' ? "always_nxdomain" : "always_refuse");
	} else {
		return -EINVAL;
	}
	return k > 0 && (size_t)k < cap - o ? 0 : -ENOBUFS;
}

static int write_conf(const struct dns_lab *d, const char *path, const char *const *records, int n)
{
	char *conf = malloc(DNS_CONF_MAX);
	int i, rc = 0;

	if (!conf)
		return -ENOMEM;
	snprintf(conf, DNS_CONF_MAX,
		 "# Written by tests/lib/dnslab.c for one test: see dnslab.h.\n"
		 "server:\n"
		 "  interface: 127.0.0.1@%d\n"
		 "  do-ip6: no\n"
		 "  so-reuseport: no\n"
		 "  do-daemonize: no\n"
		 "  username: \"\"\n"
		 "  chroot: \"\"\n"
		 "  directory: \"%s\"\n"
		 "  pidfile: \"\"\n"
		 "  use-syslog: no\n"
		 "  logfile: \"%s/unbound.log\"\n"
		 "  log-queries: yes\n"
		 "  verbosity: 1\n"
		 "  num-threads: 1\n"
		 "  access-control: 127.0.0.0/8 allow\n"
		 "  # Never a query out: no validator, one outgoing port (no shuffle).\n"
		 "  module-config: \"iterator\"\n"
		 "  outgoing-port-avoid: \"0-65535\"\n"
		 "  outgoing-port-permit: %d\n"
		 "  msg-cache-size: 256k\n"
		 "  rrset-cache-size: 256k\n"
		 "  local-zone: \".\" static\n",
		 d->port, d->dir, d->dir, d->port);
	for (i = 0; i < n && !rc; i++) {
		rc = record(conf, DNS_CONF_MAX, records[i]);
		if (rc)
			fprintf(stderr, "dns_start: record \"%.200s\": not understood\n",
				records[i]);
	}
	if (!rc && strlen(conf) + 64 >= DNS_CONF_MAX)
		rc = -ENOBUFS;
	if (!rc) {
		strcat(conf, "remote-control:\n  control-enable: no\n");
		rc = pl_write_file(path, conf, strlen(conf));
	}
	free(conf);
	return rc;
}

/* Does 127.0.0.1:port answer a query (any answer, over UDP) within ms? */
static int answers(int port, int ms)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	/* id 0x4d45, RD, one question: "probe.invalid" A IN */
	static const unsigned char q[] = { 0x4d, 0x45, 0x01, 0x00, 0,	1,   0,	  0, 0,	  0,   0,
					   0,	 5,    'p',  'r',  'o', 'b', 'e', 7, 'i', 'n', 'v',
					   'a',	 'l',  'i',  'd',  0,	0,   1,	  0, 1 };
	struct pollfd p;
	unsigned char r[512];
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ok = 0;

	if (fd < 0)
		return 0;
	p.fd = fd;
	p.events = POLLIN;
	/* An answer has QR set: the port is free until unbound binds it, and
	 * the probe's own ephemeral port may be that very port (a socket
	 * connected to itself), which hears its own query back. */
	if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
	    send(fd, q, sizeof(q), 0) == (ssize_t)sizeof(q) && poll(&p, 1, ms) == 1)
		ok = recv(fd, r, sizeof(r), 0) >= 3 && r[0] == q[0] && r[1] == q[1] &&
		     (r[2] & 0x80);
	close(fd);
	return ok;
}

static void print_log(const struct dns_lab *d, const char *why)
{
	char path[PATH_MAX], *log;

	snprintf(path, sizeof(path), "%s/unbound.log", d->dir);
	log = pl_read_file(path);
	fprintf(stderr, "dns_start: %s; %s:\n%.4000s\n", why, path, log ? log : "(none)");
	free(log);
}

/* One start on a fresh port: 0, -EADDRINUSE (try again), or -errno. */
static int start_once(struct dns_lab *d, const char *conf, const char *err,
		      const char *const *records, int n)
{
	long long deadline;
	char *log;
	int rc, st;

	d->port = free_port();
	if (d->port < 0)
		return d->port;
	rc = write_conf(d, conf, records, n);
	if (rc)
		return rc;
	{
		char *argv[] = { "unbound", "-d", "-c", (char *)conf, NULL };

		d->pid = pl_spawn_logged(err, argv);
	}
	if (d->pid < 0) {
		rc = d->pid;
		d->pid = -1;
		return rc;
	}
	deadline = now_ms() + DNS_START_MS;
	while (now_ms() < deadline) {
		if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
			d->pid = -1;
			if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
				return -ENOENT; /* no unbound binary */
			log = pl_read_file(err);
			rc = log && strstr(log, "Address already in use") ? -EADDRINUSE : -EIO;
			free(log);
			if (rc != -EADDRINUSE)
				print_log(d, "unbound exited (its stderr is unbound.err)");
			return rc;
		}
		if (answers(d->port, 5))
			return 0;
	}
	print_log(d, "no answer in time");
	return -ETIMEDOUT;
}

int dns_start(struct dns_lab *d, const char *parent_dir, const char *const *records, int n)
{
	char conf[PATH_MAX], err[PATH_MAX];
	int rc = -EADDRINUSE, try;

	memset(d, 0, sizeof(*d));
	d->pid = -1;
	if (!parent_dir || strlen(parent_dir) > 200 || strpbrk(parent_dir, "\"\n") || n < 0)
		return -EINVAL;
	snprintf(d->dir, sizeof(d->dir), "%s/dns-XXXXXX", parent_dir);
	if (!mkdtemp(d->dir)) {
		rc = -errno;
		d->dir[0] = '\0';
		return rc;
	}
	snprintf(conf, sizeof(conf), "%s/unbound.conf", d->dir);
	snprintf(err, sizeof(err), "%s/unbound.err", d->dir);
	for (try = 0; try < DNS_TRIES; try++) {
		rc = start_once(d, conf, err, records, n);
		if (rc != -EADDRINUSE)
			break;
	}
	if (rc == -EADDRINUSE)
		print_log(d, "every port was taken");
	if (rc)
		dns_stop(d);
	return rc;
}

/*
 * A UDP port bound on 127.0.0.1 and a child process that serves it with
 * serve(fd) (the child exits 127 if that ever returns). A process, not a
 * socket in the test: nothing of the test's state to keep, and it goes with
 * the test whatever the test's end. Returns the port, or -errno.
 */
static int start_udp_child(struct dns_lab *d, void (*serve)(int fd))
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	pid_t parent = getpid();
	int fd, rc;

	memset(d, 0, sizeof(*d));
	d->pid = -1;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    getsockname(fd, (struct sockaddr *)&sa, &len)) {
		rc = -errno;
		close(fd);
		return rc;
	}
	d->port = ntohs(sa.sin_port);
	d->pid = fork();
	if (d->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		serve(fd);
		_exit(127);
	}
	rc = d->pid < 0 ? -errno : d->port;
	close(fd);
	if (d->pid < 0) {
		d->pid = -1;
		d->port = 0;
	}
	return rc;
}

/* The silent server: the bound socket, never read, held by sleep. */
static void silent_serve(int fd)
{
	dup2(fd, 0); /* (dup2 clears close-on-exec on the copy) */
	execlp("sleep", "sleep", "infinity", (char *)NULL);
}

int dns_start_silent(struct dns_lab *d)
{
	return start_udp_child(d, silent_serve);
}

/* The garbage server's loop, in its own process: echo the header and the
 * question, announce one answer, and send only its name, type and class. */
static void garbage_serve(int fd)
{
	unsigned char q[512], r[600];
	struct sockaddr_storage from;
	socklen_t flen;
	ssize_t n;
	size_t qend;

	signal(SIGTERM, SIG_DFL); /* not the test runner's handler */
	for (;;) {
		flen = sizeof(from);
		n = recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *)&from, &flen);
		if (n < 17)
			continue;
		/* The question: labels up to the root, then type and class. */
		for (qend = 12; qend < (size_t)n && q[qend]; qend += q[qend] + 1u)
			;
		qend += 5;
		if (qend > (size_t)n)
			continue;
		memcpy(r, q, qend);
		r[2] = 0x81; /* QR, RD */
		r[3] = 0x80; /* RA, NOERROR */
		/* One question, one answer announced, no others... */
		memcpy(r + 4, "\0\1\0\1\0\0\0\0", 8);
		/* ...and the answer cut after its class: no TTL, no data. */
		memcpy(r + qend, "\xc0\x0c\0\1\0\1", 6);
		sendto(fd, r, qend + 6, 0, (struct sockaddr *)&from, flen);
	}
}

int dns_start_garbage(struct dns_lab *d)
{
	return start_udp_child(d, garbage_serve);
}

void dns_stop(struct dns_lab *d)
{
	long long deadline;

	if (d->pid <= 0)
		return;
	kill(d->pid, SIGTERM);
	deadline = now_ms() + DNS_TERM_MS;
	while (waitpid(d->pid, NULL, WNOHANG) == 0) {
		if (now_ms() >= deadline) {
			kill(d->pid, SIGKILL);
			waitpid(d->pid, NULL, 0);
			break;
		}
		pl_sleep_ms(2);
	}
	d->pid = -1;
}

int dns_client_addr(const char *addr, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(addr, ':')) {
		ss->ss_family = AF_INET6;
		return inet_pton(AF_INET6, addr, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1 ? 0
											       : -1;
	}
	ss->ss_family = AF_INET;
	return inet_pton(AF_INET, addr, &((struct sockaddr_in *)ss)->sin_addr) == 1 ? 0 : -1;
}
