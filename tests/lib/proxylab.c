// SPDX-License-Identifier: GPL-2.0
/*
 * proxylab.c - processes, files and an SMTP client for the mailedge-proxy suite.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <openssl/err.h>

#include "proxylab.h"
#include "testenv.h"
#include "traffic.h"

void pl_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

char *pl_read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!f)
		return NULL;
	n = getdelim(&buf, &cap, '\0', f);
	fclose(f);
	if (n < 0) {
		free(buf);
		return strdup("");
	}
	return buf;
}

int pl_write_file(const char *path, const char *text, size_t len)
{
	char tmp[PATH_MAX];
	int fd, ok;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	ok = write(fd, text, len) == (ssize_t)len;
	fchmod(fd, 0644);
	close(fd);
	if (!ok || rename(tmp, path))
		return -EIO;
	return 0;
}

int pl_count_str(const char *hay, const char *needle)
{
	int n = 0;
	size_t k = strlen(needle);

	if (!hay || !k)
		return 0;
	for (hay = strstr(hay, needle); hay; hay = strstr(hay + k, needle))
		n++;
	return n;
}

int pl_sh(char **out, int ms, const char *fmt, ...)
{
	char cmd[8192], path[] = "/tmp/mailedge-test-sh-XXXXXX";
	long long deadline = now_ms() + ms;
	va_list ap;
	int fd, st = 0, rc = -ETIMEDOUT;
	pid_t pid;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (out)
		*out = NULL;
	fd = mkstemp(path);
	if (fd < 0)
		return -errno;
	pid = fork();
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		setpgid(0, 0);
		dup2(devnull, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		execl("/bin/bash", "bash", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(fd);
	while (pid > 0 && now_ms() < deadline) {
		if (waitpid(pid, &st, WNOHANG) == pid) {
			rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			break;
		}
		pl_sleep_ms(10);
	}
	if (pid > 0 && rc == -ETIMEDOUT) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
	if (out)
		*out = pl_read_file(path);
	unlink(path);
	return rc;
}

/* Clients not closed when a test fails half-way: pl_fini closes them. */
static struct {
	int fd;
	SSL *ssl;
	SSL_CTX *ctx;
} open_clients[64];

static void track(int fd, SSL *ssl, SSL_CTX *ctx, int add)
{
	size_t i;

	for (i = 0; i < sizeof(open_clients) / sizeof(open_clients[0]); i++) {
		if (add && !open_clients[i].fd) {
			open_clients[i].fd = fd + 1;
			return;
		}
		if (open_clients[i].fd != fd + 1)
			continue;
		if (add < 0) { /* TLS started */
			open_clients[i].ssl = ssl;
			open_clients[i].ctx = ctx;
		} else if (!add) {
			memset(&open_clients[i], 0, sizeof(open_clients[i]));
		}
		return;
	}
}

static void close_tracked(void)
{
	size_t i;

	for (i = 0; i < sizeof(open_clients) / sizeof(open_clients[0]); i++) {
		if (!open_clients[i].fd)
			continue;
		SSL_free(open_clients[i].ssl);
		SSL_CTX_free(open_clients[i].ctx);
		close(open_clients[i].fd - 1);
		memset(&open_clients[i], 0, sizeof(open_clients[i]));
	}
}

/* ---- ports ---- */

/* The same port on [::1] too (a test may listen there): its socket, or
 * -errno when the port is taken on IPv6. */
static int reserve_v6(int port)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6,
				   .sin6_addr = IN6ADDR_LOOPBACK_INIT,
				   .sin6_port = htons((unsigned short)port) };
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

/* A port nobody else will get: bound (not listening) with SO_REUSEPORT, so
 * that the proxy, also root and also SO_REUSEPORT, can bind it too. */
static int reserve_port(int *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    getsockname(fd, (struct sockaddr *)&sa, &len)) {
		int e = -errno;

		close(fd);
		return e;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

int pl_free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

	if (fd < 0)
		return -errno;
	if (!bind(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
	    !getsockname(fd, (struct sockaddr *)&sa, &len))
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

pid_t pl_spawn_logged(const char *log, char *const argv[])
{
	pid_t parent = getpid(), pid = fork();

	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent) /* the test died before prctl */
			_exit(1);
		dup2(devnull, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid < 0 ? -errno : pid;
}

int pl_init(struct pl *l)
{
	int i, rc;

	memset(l, 0, sizeof(*l));
	l->proxy = -1;
	l->proxy_status = -1;
	for (i = 0; i < PL_NFAKE; i++)
		l->fake[i].pid = -1, l->fake[i].in_fd = -1;
	for (i = 0; i < PL_NSINK; i++)
		l->sink[i].pid = -1, l->sink[i].in_fd = -1;
	for (i = 0; i < PL_NLISTEN; i++)
		l->hold[i] = l->hold6[i] = -1;
	snprintf(l->dir, sizeof(l->dir), "/tmp/mailedge-test-px-XXXXXX");
	if (!mkdtemp(l->dir)) {
		l->dir[0] = '\0';
		return -errno;
	}
	chmod(l->dir, 0755); /* the proxy (reload) and the sinks run as nobody */
	snprintf(l->conf, sizeof(l->conf), "%s/proxy.conf", l->dir);
	snprintf(l->proxy_log, sizeof(l->proxy_log), "%s/proxy.log", l->dir);
	snprintf(l->tls, sizeof(l->tls), "%s/tls", l->dir);
	for (i = 0; i < PL_NLISTEN; i++) {
		int tries;

		/* Free on 127.0.0.1 and on [::1] alike: a test may listen on
		 * either, and nothing else may have it meanwhile. */
		for (tries = 0; tries < 20; tries++) {
			rc = reserve_port(&l->port[i]);
			if (rc < 0)
				return rc;
			l->hold[i] = rc;
			l->hold6[i] = reserve_v6(l->port[i]);
			if (l->hold6[i] >= 0)
				break;
			close(l->hold[i]);
			l->hold[i] = -1;
		}
		if (l->hold6[i] < 0)
			return -EADDRINUSE;
	}
	l->metrics_port = pl_free_port();
	return l->metrics_port > 0 ? 0 : -EADDRINUSE;
}

void pl_child_kill(struct pl_child *c, int sig)
{
	if (c->pid > 0) {
		kill(c->pid, sig);
		if (sig == SIGKILL || sig == SIGTERM) {
			int k;

			for (k = 0; k < 200 && waitpid(c->pid, NULL, WNOHANG) == 0; k++)
				pl_sleep_ms(10);
			if (k == 200) {
				kill(c->pid, SIGKILL);
				waitpid(c->pid, NULL, 0);
			}
			c->pid = -1;
		}
	}
	if (c->pid < 0 && c->in_fd >= 0) {
		close(c->in_fd);
		c->in_fd = -1;
	}
}

void pl_fini(struct pl *l)
{
	char *out;
	int i;

	close_tracked();
	if (l->proxy > 0) {
		kill(l->proxy, SIGKILL);
		waitpid(l->proxy, NULL, 0);
		l->proxy = -1;
	}
	for (i = 0; i < PL_NFAKE; i++)
		pl_child_kill(&l->fake[i], SIGKILL);
	for (i = 0; i < PL_NSINK; i++)
		pl_child_kill(&l->sink[i], SIGKILL);
	for (i = 0; i < PL_NLISTEN; i++) {
		if (l->hold[i] >= 0)
			close(l->hold[i]);
		if (l->hold6[i] >= 0)
			close(l->hold6[i]);
		l->hold[i] = l->hold6[i] = -1;
	}
	if (l->dir[0] && !getenv("PL_KEEP")) {
		pl_sh(&out, 10000, "rm -rf %s", l->dir);
		free(out);
	}
	l->dir[0] = '\0';
}

/* The placeholders of pl_proxy_start's configuration, replaced. */
static void expand(const struct pl *l, const char *in, char *out, size_t len)
{
	size_t o = 0, i = 0;

	while (in[i] && o + 1 < len) {
		char rep[256];
		int k = -1;

		rep[0] = '\0';
		if (in[i] == '@' && in[i + 1] == 'M' && in[i + 2] == '@') {
			snprintf(rep, sizeof(rep), "%d", l->metrics_port);
			k = 3;
		} else if (in[i] == '@' && in[i + 1] && in[i + 2] >= '0' && in[i + 2] <= '3' &&
			   in[i + 3] == '@' && strchr("PFS", in[i + 1])) {
			int n = in[i + 2] - '0';

			snprintf(rep, sizeof(rep), "%d",
				 in[i + 1] == 'P'   ? l->port[n]
				 : in[i + 1] == 'F' ? l->fake[n].port
						    : l->sink[n].port);
			k = 4;
		} else if (!strncmp(in + i, "@DIR@", 5)) {
			snprintf(rep, sizeof(rep), "%s", l->dir);
			k = 5;
		} else if (!strncmp(in + i, "@TLS@", 5)) {
			snprintf(rep, sizeof(rep), "%s", l->tls);
			k = 5;
		}
		if (k < 0) {
			out[o++] = in[i++];
			continue;
		}
		i += (size_t)k;
		o += (size_t)snprintf(out + o, len - o, "%s", rep);
		if (o >= len)
			o = len - 1;
	}
	out[o] = '\0';
}

/* The command prefix that runs a program in l's namespace ("" for ours). */
static const char *in_netns(const struct pl *l)
{
	static __thread char pre[96];

	if (!l->netns[0])
		return "";
	snprintf(pre, sizeof(pre), "nsenter --net=/var/run/netns/%s", l->netns);
	return pre;
}

int pl_fake_start(struct pl *l, int i, const char *fmt, ...)
{
	char args[2048], cmd[4096], line[64], dir[64];
	struct pl_child *c = &l->fake[i];
	va_list ap;
	int pid;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(dir, sizeof(dir), "%s", l->dir); /* (c is inside l) */
	snprintf(c->log, sizeof(c->log), "%s/fake%d.jsonl", dir, i);
	snprintf(c->ctl, sizeof(c->ctl), "%s/fake%d.ctl", dir, i);
	snprintf(cmd, sizeof(cmd),
		 "exec %s %s %s/tests/lib/fakesmtp.py serve --log %s --control %s %s 2>>%s/fake%d.err",
		 in_netns(l), tenv_python(), tenv_src(), c->log, c->ctl, args, l->dir, i);
	pid = tenv_spawn(cmd, &c->in_fd, line, sizeof(line), 10000);
	if (pid < 0)
		return pid;
	c->pid = pid;
	c->port = atoi(line);
	return c->port > 0 ? 0 : -EPROTO;
}

int pl_fake_control(struct pl *l, int i, const char *json)
{
	return pl_write_file(l->fake[i].ctl, json, strlen(json));
}

json_object *pl_jsonl(const char *path)
{
	char *text = pl_read_file(path), *p, *nl;
	json_object *arr;

	if (!text)
		return NULL;
	arr = json_object_new_array();
	for (p = text; *p; p = nl + 1) {
		json_object *o;

		nl = strchr(p, '\n');
		if (!nl)
			break; /* a line being written */
		*nl = '\0';
		o = json_tokener_parse(p);
		if (o)
			json_object_array_add(arr, o);
	}
	free(text);
	return arr;
}

json_object *pl_fake_events(const struct pl *l, int i)
{
	json_object *arr = pl_jsonl(l->fake[i].log);

	return arr ? arr : json_object_new_array(); /* none logged yet */
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !v)
		return NULL;
	return json_object_get_string(v);
}

int pl_count(json_object *events, const char *ev, const char *key, const char *needle)
{
	size_t i, n = json_object_array_length(events);
	int k = 0;

	for (i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(events, i);
		const char *e = jstr(o, "ev"), *v;

		if (ev && (!e || strcmp(e, ev)))
			continue;
		if (key) {
			v = jstr(o, key);
			if (!v || (needle && !strstr(v, needle)))
				continue;
		}
		k++;
	}
	return k;
}

int pl_mail_conns(json_object *events)
{
	size_t i, n = json_object_array_length(events);
	int k = 0;
	char seen[4096] = { 0 };

	for (i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(events, i), *v;
		const char *e = jstr(o, "ev");
		int c;

		if (!e || strcmp(e, "mail") || !json_object_object_get_ex(o, "conn", &v))
			continue;
		c = json_object_get_int(v);
		if (c >= 0 && c < (int)sizeof(seen) && !seen[c]) {
			seen[c] = 1;
			k++;
		}
	}
	return k;
}

int pl_fake_settle(const struct pl *l, int i, int ms)
{
	long long deadline = now_ms() + ms;

	for (;;) {
		json_object *a = pl_fake_events(l, i);
		int open = pl_count(a, "connect", NULL, NULL) - pl_count(a, "close", NULL, NULL);

		json_object_put(a);
		if (!open)
			return 0;
		if (now_ms() >= deadline)
			return -ETIMEDOUT;
		pl_sleep_ms(20);
	}
}

int pl_fake_wait(const struct pl *l, int i, const char *ev, int n, int ms)
{
	long long deadline = now_ms() + ms;
	int k;

	for (;;) {
		json_object *a = pl_fake_events(l, i);

		k = pl_count(a, ev, NULL, NULL);
		json_object_put(a);
		if (k >= n || now_ms() >= deadline)
			return k;
		pl_sleep_ms(20);
	}
}

/* Connect and read a 220 within ms: the server is up. */
static int smtp_up(int port, int ms)
{
	struct pl_client c;
	char text[512];
	int code = -1;

	if (!pl_connect(&c, NULL, port))
		code = pl_reply(&c, text, sizeof(text), ms);
	pl_close(&c);
	return code == 220;
}

int pl_sink_start(struct pl *l, int i, const char *extra)
{
	struct pl_child *c = &l->sink[i];
	long long deadline;
	char cmd[1024];
	int try;

	char dir[64];

	snprintf(dir, sizeof(dir), "%s", l->dir); /* (c is inside l) */
	snprintf(c->dir, sizeof(c->dir), "%s/sink%d", dir, i);
	if (mkdir(c->dir, 0777) && errno != EEXIST)
		return -errno;
	chmod(c->dir, 0777); /* smtp-sink writes as nobody */
	for (try = 0; try < 5; try++) {
		c->port = pl_free_port();
		if (c->port <= 0)
			return -EADDRINUSE;
		snprintf(cmd, sizeof(cmd),
			 "exec smtp-sink -u nobody %s -d %s/%%M. 127.0.0.1:%d 256 2>>%s/sink%d.err",
			 extra ? extra : "", c->dir, c->port, l->dir, i);
		c->pid = fork();
		if (c->pid == 0) {
			int devnull = open("/dev/null", O_RDWR);

			prctl(PR_SET_PDEATHSIG, SIGKILL);
			dup2(devnull, 0);
			dup2(devnull, 1);
			execl("/bin/bash", "bash", "-c", cmd, (char *)NULL);
			_exit(127);
		}
		if (c->pid < 0)
			return -EAGAIN;
		deadline = now_ms() + 5000;
		while (now_ms() < deadline) {
			if (waitpid(c->pid, NULL, WNOHANG) == c->pid) {
				c->pid = -1; /* the port was taken after all: again */
				break;
			}
			if (smtp_up(c->port, 500))
				return 0;
			pl_sleep_ms(20);
		}
		if (c->pid > 0)
			pl_child_kill(c, SIGKILL);
	}
	return -ETIMEDOUT;
}

/* ---- the proxy ---- */

int pl_conf_write(struct pl *l, const char *conf)
{
	size_t cap = strlen(conf) * 2 + 4096;
	char *text = malloc(cap);
	int rc;

	if (!text)
		return -ENOMEM;
	expand(l, conf, text, cap);
	rc = pl_write_file(l->conf, text, strlen(text));
	free(text);
	return rc;
}

int pl_log_wait(const struct pl *l, const char *needle, int n, int ms)
{
	long long deadline = now_ms() + ms;
	int k;

	for (;;) {
		char *log = pl_read_file(l->proxy_log);

		k = pl_count_str(log, needle);
		free(log);
		if (k >= n || now_ms() >= deadline)
			return k;
		pl_sleep_ms(20);
	}
}

static int proxy_exec(struct pl *l, const char *args);

int pl_proxy_start(struct pl *l, const char *conf)
{
	char args[512];
	int rc = pl_conf_write(l, conf);

	if (rc)
		return rc;
	snprintf(args, sizeof(args), "-c %s", l->conf);
	return proxy_exec(l, args);
}

int pl_proxy_run(struct pl *l, const char *args)
{
	return proxy_exec(l, args);
}

static int proxy_exec(struct pl *l, const char *args)
{
	char cmd[2048];
	long long deadline;
	int st;

	snprintf(cmd, sizeof(cmd), "exec %s %s %s", in_netns(l), tenv_bin("mailedge-proxy"), args);
	l->proxy_status = -1;
	l->proxy = fork();
	if (l->proxy == 0) {
		int fd = open(l->proxy_log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		int devnull = open("/dev/null", O_RDWR);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(devnull, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		setenv("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=1:halt_on_error=1", 0);
		setenv("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1", 0);
		execl("/bin/bash", "bash", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	if (l->proxy < 0)
		return -EAGAIN;
	deadline = now_ms() + 15000;
	while (now_ms() < deadline) {
		if (waitpid(l->proxy, &st, WNOHANG) == l->proxy) {
			l->proxy_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			l->proxy = -1;
			return -1;
		}
		if (pl_log_wait(l, "ready:", 1, 0))
			return 0;
		pl_sleep_ms(10);
	}
	return -ETIMEDOUT;
}

int pl_proxy_signal(struct pl *l, int sig)
{
	if (l->proxy <= 0)
		return -ESRCH;
	return kill(l->proxy, sig) ? -errno : 0;
}

int pl_proxy_wait(struct pl *l, int ms)
{
	long long deadline = now_ms() + ms;
	int st;

	if (l->proxy <= 0)
		return l->proxy_status;
	for (;;) {
		if (waitpid(l->proxy, &st, WNOHANG) == l->proxy) {
			l->proxy_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			l->proxy = -1;
			return l->proxy_status;
		}
		if (now_ms() >= deadline)
			return -ETIMEDOUT;
		pl_sleep_ms(10);
	}
}

int pl_sanitizer(const char *text)
{
	return text && (strstr(text, "ERROR: AddressSanitizer") || strstr(text, "runtime error:") ||
			strstr(text, "ERROR: LeakSanitizer") ||
			strstr(text, "LeakSanitizer has encountered") ||
			strstr(text, "SUMMARY: UndefinedBehaviorSanitizer") ||
			strstr(text, "ThreadSanitizer"));
}

int pl_make_certs(struct pl *l)
{
	char *out;
	int rc = pl_sh(
	    &out, 30000,
	    "set -e; mkdir -p %s && cd %s; "
	    "openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
	    "-keyout ca.key -out ca.pem -days 60 -subj '/CN=mailedge proxy test CA' 2>/dev/null; "
	    "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
	    "-keyout srv.key -out srv.csr -subj '/CN=mx.test' 2>/dev/null; "
	    "printf 'subjectAltName=DNS:mx.test,IP:127.0.0.1\\nbasicConstraints=CA:FALSE\\n"
	    "keyUsage=digitalSignature\\nextendedKeyUsage=serverAuth\\n' > ext.cnf; "
	    "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
	    "-out srv.pem -days 60 -extfile ext.cnf 2>/dev/null; chmod 0644 *",
	    l->tls, l->tls);

	if (rc)
		fprintf(stderr, "pl_make_certs: %s\n", out ? out : "");
	free(out);
	return rc;
}

/* ---- HTTP and metrics ---- */

char *pl_http_get(int port, const char *path)
{
	struct pl_client c;
	char req[512], *body, *res;
	size_t cap = 1 << 20, n = 0;
	long long deadline = now_ms() + 5000;

	if (pl_connect(&c, NULL, port))
		return NULL;
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
	if (pl_write(&c, req, strlen(req))) {
		pl_close(&c);
		return NULL;
	}
	res = malloc(cap + 1);
	while (res && n < cap && now_ms() < deadline) {
		struct pollfd p = { .fd = c.fd, .events = POLLIN };
		const char *h, *cl;
		ssize_t r;

		if (poll(&p, 1, 200) <= 0)
			continue;
		r = read(c.fd, res + n, cap - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		res[n] = '\0';
		/* Done at Content-Length, as a scraper is: a server that keeps
		 * the connection is a separate matter (test metrics_close). */
		h = strstr(res, "\r\n\r\n");
		cl = strstr(res, "Content-Length: ");
		if (h && cl && cl < h && n >= (size_t)(h + 4 - res) + strtoul(cl + 16, NULL, 10))
			break;
	}
	pl_close(&c);
	if (!res)
		return NULL;
	res[n] = '\0';
	body = strstr(res, "\r\n\r\n");
	if (!body || strncmp(res, "HTTP/1.0 200", 12)) {
		free(res);
		return NULL;
	}
	body = strdup(body + 4);
	free(res);
	return body;
}

long long pl_metric(const char *text, const char *series)
{
	size_t k = strlen(series);
	const char *p = text;

	while (p && *p) {
		if (!strncmp(p, series, k) && p[k] == ' ')
			return strtoll(p + k + 1, NULL, 10);
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

/* ---- the client ---- */

int pl_connect_to(struct pl_client *c, const char *src, const char *dst, int port)
{
	struct sockaddr_storage sa, la;
	socklen_t len, llen;
	struct timeval tv = { 15, 0 };
	int one = 1, family = strchr(dst, ':') ? AF_INET6 : AF_INET;

	memset(c, 0, sizeof(*c));
	memset(&sa, 0, sizeof(sa));
	memset(&la, 0, sizeof(la));
	if (family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&sa,
				    *l6 = (struct sockaddr_in6 *)&la;

		s6->sin6_family = l6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		inet_pton(AF_INET6, dst, &s6->sin6_addr);
		if (src)
			inet_pton(AF_INET6, src, &l6->sin6_addr);
		len = llen = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&sa, *l4 = (struct sockaddr_in *)&la;

		s4->sin_family = l4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, dst, &s4->sin_addr);
		if (src)
			inet_pton(AF_INET, src, &l4->sin_addr);
		len = llen = sizeof(*s4);
	}
	c->fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* A backstop: a blocking TLS read never hangs a test forever. */
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (src && bind(c->fd, (struct sockaddr *)&la, llen))
		goto err;
	if (connect(c->fd, (struct sockaddr *)&sa, len))
		goto err;
	llen = sizeof(la);
	if (!getsockname(c->fd, (struct sockaddr *)&la, &llen))
		c->lport = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&la)->sin6_port
						    : ((struct sockaddr_in *)&la)->sin_port);
	track(c->fd, NULL, NULL, 1);
	return 0;
err:
	snprintf(c->err, sizeof(c->err), "connect: %s", strerror(errno));
	close(c->fd);
	c->fd = -1;
	return -ECONNREFUSED;
}

int pl_connect(struct pl_client *c, const char *src, int port)
{
	return pl_connect_to(c, src, "127.0.0.1", port);
}

void pl_close(struct pl_client *c)
{
	if (c->fd >= 0)
		track(c->fd, NULL, NULL, 0);
	if (c->ssl) {
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->ctx) {
		SSL_CTX_free(c->ctx);
		c->ctx = NULL;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

int pl_write(struct pl_client *c, const void *p, size_t n)
{
	const char *b = p;

	if (c->fd < 0)
		return -EBADF;
	while (c->ssl && n) {
		int w = SSL_write(c->ssl, b, (int)n);

		if (w <= 0) {
			int e = SSL_get_error(c->ssl, w);

			if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
				return -EPIPE;
			continue;
		}
		b += w;
		n -= (size_t)w;
	}
	if (c->ssl)
		return 0;
	while (n) {
		ssize_t w = send(c->fd, b, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -EPIPE;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

int pl_send(struct pl_client *c, const char *fmt, ...)
{
	char buf[65536];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -EINVAL;
	return pl_write(c, buf, (size_t)n);
}

/* Read more into c->in within ms: >0 bytes, 0 timeout, -EPIPE closed. */
static int fill(struct pl_client *c, int ms)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	ssize_t n;

	if (c->fd < 0)
		return -EPIPE;
	if (c->len >= sizeof(c->in))
		return -ENOBUFS;
	if (!(c->ssl && SSL_pending(c->ssl))) {
		int r = poll(&p, 1, ms);

		if (r == 0)
			return 0;
		if (r < 0)
			return errno == EINTR ? 0 : -EPIPE;
	}
	if (c->ssl) {
		int r = SSL_read(c->ssl, c->in + c->len, (int)(sizeof(c->in) - c->len));

		if (r <= 0) {
			int e = SSL_get_error(c->ssl, r);

			return e == SSL_ERROR_WANT_READ ? 0 : -EPIPE;
		}
		n = r;
	} else {
		n = recv(c->fd, c->in + c->len, sizeof(c->in) - c->len, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			return 0;
		if (n <= 0)
			return -EPIPE;
	}
	c->len += (size_t)n;
	return (int)n;
}

/* A complete reply at the front of c->in: its length, or 0. */
static size_t reply_len(const struct pl_client *c)
{
	size_t off = 0;

	for (;;) {
		const char *l = c->in + off, *lf = memchr(l, '\n', c->len - off);
		size_t n;

		if (!lf)
			return 0;
		n = (size_t)(lf - l) + 1;
		off += n;
		if (n < 5 || l[3] != '-')
			return off;
	}
}

int pl_reply(struct pl_client *c, char *text, size_t len, int ms)
{
	long long deadline = now_ms() + ms;
	size_t n;

	if (text && len)
		text[0] = '\0';
	while (!(n = reply_len(c))) {
		long long left = deadline - now_ms();
		int r;

		if (left <= 0)
			return -ETIMEDOUT;
		r = fill(c, (int)left);
		if (r < 0)
			return r;
	}
	if (text && len)
		snprintf(text, len, "%.*s", (int)n, c->in);
	{
		int code = atoi(c->in);

		memmove(c->in, c->in + n, c->len - n);
		c->len -= n;
		return code;
	}
}

int pl_cmd(struct pl_client *c, char *text, size_t len, const char *fmt, ...)
{
	char buf[8192];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf) - 2)
		return -EINVAL;
	memcpy(buf + n, "\r\n", 2);
	if (pl_write(c, buf, (size_t)n + 2))
		return -EPIPE;
	return pl_reply(c, text, len, 10000);
}

int pl_tls(struct pl_client *c, const char *ca, int version)
{
	c->ctx = SSL_CTX_new(TLS_client_method());
	if (!c->ctx)
		goto err;
	/* A read that finds only a TLS 1.3 session ticket returns (WANT_READ)
	 * instead of blocking for application data: pl_reply's deadline holds. */
	SSL_CTX_clear_mode(c->ctx, SSL_MODE_AUTO_RETRY);
	if (version) {
		SSL_CTX_set_min_proto_version(c->ctx, version);
		SSL_CTX_set_max_proto_version(c->ctx, version);
		if (version < TLS1_2_VERSION)
			SSL_CTX_set_security_level(c->ctx, 0); /* so that we would offer it */
	}
	if (ca) {
		if (SSL_CTX_load_verify_locations(c->ctx, ca, NULL) != 1)
			goto err;
		SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	}
	c->ssl = SSL_new(c->ctx);
	if (!c->ssl)
		goto err;
	SSL_set_fd(c->ssl, c->fd);
	SSL_set_tlsext_host_name(c->ssl, "mx.test");
	if (ca)
		SSL_set1_host(c->ssl, "mx.test");
	track(c->fd, c->ssl, c->ctx, -1);
	if (SSL_connect(c->ssl) != 1)
		goto err;
	return 0;
err:
	snprintf(c->err, sizeof(c->err), "TLS: %s", ERR_error_string(ERR_get_error(), NULL));
	ERR_clear_error();
	if (c->ssl) {
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0)
		track(c->fd, NULL, c->ctx, -1);
	return -1;
}

int pl_wait_close(struct pl_client *c, int ms)
{
	long long deadline = now_ms() + ms;

	for (;;) {
		long long left = deadline - now_ms();
		int r;

		if (left <= 0)
			return 0;
		r = fill(c, (int)left);
		if (r == -EPIPE)
			return 1;
		if (r < 0)
			return 0;
	}
}
