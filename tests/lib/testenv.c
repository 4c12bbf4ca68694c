// SPDX-License-Identifier: GPL-2.0
/*
 * testenv.c - process, pin-directory and namespace helpers for the test suites.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testenv.h"

/* The loader refuses drop entries covering this machine's own addresses and
 * subnets (test_loader_lists checks that, with this unset); the other suites
 * blacklist lab addresses on purpose, on machines whose addresses vary. */
__attribute__((constructor)) static void tenv_list_force(void)
{
	setenv("MAILEDGE_LIST_FORCE", "1", 1);
}

const char *tenv_bin(const char *name)
{
	static char path[PATH_MAX];
	const char *b = getenv("MAILEDGE_BUILD");

	snprintf(path, sizeof(path), "%s/%s", b && *b ? b : "build/san", name);
	return path;
}

const char *tenv_src(void)
{
	const char *s = getenv("MAILEDGE_SRC");

	return s && *s ? s : ".";
}

static char *slurp(int fd)
{
	size_t cap = 4096, n = 0;
	char *b = malloc(cap + 1);
	ssize_t r;

	if (!b)
		return NULL;
	while ((r = read(fd, b + n, cap - n)) > 0 || (r < 0 && errno == EINTR)) {
		if (r < 0)
			continue;
		n += (size_t)r;
		if (n == cap) {
			char *g = realloc(b, cap * 2 + 1);

			if (!g)
				break;
			b = g;
			cap *= 2;
		}
	}
	b[n] = '\0';
	return b;
}

void tenv_run(struct run *r, const char *fmt, ...)
{
	char cmd[8192], errpath[] = "/tmp/mailedge-test-err-XXXXXX";
	va_list ap;
	int pfd[2], efd, st;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);

	efd = mkstemp(errpath);
	if (efd < 0 || pipe(pfd)) {
		r->status = -1;
		return;
	}
	unlink(errpath);
	pid = fork();
	if (pid == 0) {
		dup2(pfd[1], 1);
		dup2(efd, 2);
		close(pfd[0]);
		execl("/bin/bash", "bash", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	r->out = slurp(pfd[0]);
	close(pfd[0]);
	waitpid(pid, &st, 0);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	lseek(efd, 0, SEEK_SET);
	r->err = slurp(efd);
	close(efd);
}

void tenv_run_free(struct run *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

/* What tenv_keep holds: grown as needed, so that a test never has to count
 * its runs; each test is a process of its own, so one list serves. */
static void **kept;
static size_t nkept, capkept;

void tenv_keep(void *p)
{
	if (!p)
		return;
	if (nkept == capkept) {
		size_t cap = capkept ? capkept * 2 : 64;
		void **g = realloc(kept, cap * sizeof(*g));

		/* A test out of memory has nothing better to do. */
		if (!g) {
			fprintf(stderr, "tenv_keep: out of memory\n");
			abort();
		}
		kept = g;
		capkept = cap;
	}
	kept[nkept++] = p;
}

void tenv_keep_run(struct run *r)
{
	tenv_keep(r->out);
	tenv_keep(r->err);
	if (!r->out)
		r->out = "";
	if (!r->err)
		r->err = "";
}

void tenv_kept_free(void)
{
	while (nkept)
		free(kept[--nkept]);
	free(kept);
	kept = NULL;
	capkept = 0;
}

const char *tenv_python(void)
{
	return access("/usr/bin/python3", X_OK) ? "python3" : "/usr/bin/python3";
}

int tenv_spawn(const char *cmd, int *in_fd, char *line, size_t cap, int ms)
{
	int in[2], out[2];
	size_t got = 0;
	pid_t pid;

	line[0] = '\0';
	if (pipe2(in, O_CLOEXEC))
		return -errno;
	if (pipe2(out, O_CLOEXEC)) {
		close(in[0]);
		close(in[1]);
		return -errno;
	}
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(in[0], 0);
		dup2(out[1], 1);
		execl("/bin/bash", "bash", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	if (pid < 0) {
		close(in[1]);
		close(out[0]);
		return -EAGAIN;
	}
	*in_fd = in[1];
	while (got < cap - 1 && !memchr(line, '\n', got)) {
		struct pollfd p = { .fd = out[0], .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, ms) <= 0)
			break;
		n = read(out[0], line + got, cap - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	line[got] = '\0';
	close(out[0]);
	return pid;
}

const char *tenv_pin_dir(void)
{
	static char dir[64];

	snprintf(dir, sizeof(dir), "/sys/fs/bpf/mailedge-test-%d", (int)getpid());
	return dir;
}

void tenv_pin_dir_remove(void)
{
	struct run r;

	tenv_run(&r, "rm -rf %s", tenv_pin_dir());
	tenv_run_free(&r);
}

int tenv_sh(const char *fmt, ...)
{
	char cmd[4096];
	struct run r;
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	tenv_run(&r, "%s", cmd);
	st = r.status;
	if (st)
		fprintf(stderr, "tenv_sh: '%s' failed (%d): %s", cmd, st, r.err ? r.err : "");
	tenv_run_free(&r);
	return st;
}

int lab_up(struct lab *l)
{
	int id = (int)getpid() % 100000;

	memset(l, 0, sizeof(*l));
	snprintf(l->tag, sizeof(l->tag), "met%d", id);
	snprintf(l->gw_ns, sizeof(l->gw_ns), "%s-gw", l->tag);
	snprintf(l->cl_ns, sizeof(l->cl_ns), "%s-cl", l->tag);
	snprintf(l->gw_if, sizeof(l->gw_if), "%sg", l->tag);
	snprintf(l->cl_if, sizeof(l->cl_if), "%sc", l->tag);
	l->up = 1; /* from here on, lab_down must clean up */

	if (tenv_sh("ip netns add %s && ip netns add %s", l->gw_ns, l->cl_ns) ||
	    tenv_sh("ip link add %s netns %s type veth peer name %s netns %s", l->gw_if, l->gw_ns,
		    l->cl_if, l->cl_ns) ||
	    tenv_sh("ip -n %s link set lo up && ip -n %s link set lo up", l->gw_ns, l->cl_ns) ||
	    tenv_sh("ip -n %s addr add 192.0.2.1/24 dev %s && "
		    "ip -n %s addr add 198.51.100.1/24 dev %s && "
		    "ip -n %s addr add 203.0.113.1/24 dev %s && "
		    "ip -n %s addr add 2001:db8::1/64 dev %s nodad",
		    l->gw_ns, l->gw_if, l->gw_ns, l->gw_if, l->gw_ns, l->gw_if, l->gw_ns,
		    l->gw_if) ||
	    tenv_sh("ip -n %s addr add 192.0.2.10/24 dev %s", l->cl_ns, l->cl_if) ||
	    tenv_sh("ip -n %s link set %s up && ip -n %s link set %s up", l->gw_ns, l->gw_if,
		    l->cl_ns, l->cl_if) ||
	    tenv_sh("ip netns exec %s ethtool -K %s tx off >/dev/null && "
		    "ip netns exec %s ethtool -K %s tx off >/dev/null",
		    l->cl_ns, l->cl_if, l->gw_ns, l->gw_if) ||
	    /* The client end must run XDP for XDP_TX replies to reach it (see
	     * tests/lib/xdp_pass.bpf.c). */
	    tenv_sh("ip -n %s link set dev %s xdpdrv obj %s/build/bpf/xdp_pass.bpf.o sec xdp",
		    l->cl_ns, l->cl_if, tenv_src()))
		return -1;
	return 0;
}

void lab_down(struct lab *l)
{
	struct run r;

	if (!l->up)
		return;
	/* Deleting a namespace destroys its veth end, and with it the peer. */
	tenv_run(&r, "ip netns del %s; ip netns del %s", l->gw_ns, l->cl_ns);
	tenv_run_free(&r);
	l->up = 0;
}

int lab_addr(struct lab *l, const char *cidr)
{
	return tenv_sh("ip -n %s addr add %s dev %s %s", l->cl_ns, cidr, l->cl_if,
		       strchr(cidr, ':') ? "nodad" : "");
}

void tenv_vloader(struct run *r, char *args, size_t cap, const char *fmt, va_list ap)
{
	vsnprintf(args, cap, fmt, ap);
	tenv_run(r, "%s --pin-dir %s %s", tenv_bin("mailedge-loader"), tenv_pin_dir(), args);
}

void tenv_loader(struct run *r, const char *fmt, ...)
{
	char args[4096];
	va_list ap;

	va_start(ap, fmt);
	tenv_vloader(r, args, sizeof(args), fmt, ap);
	va_end(ap);
}

void lab_loader(struct lab *l, struct run *r, const char *fmt, ...)
{
	char args[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	tenv_run(r, "nsenter --net=/var/run/netns/%s %s --pin-dir %s %s", l->gw_ns,
		 tenv_bin("mailedge-loader"), tenv_pin_dir(), args);
}

int ns_enter(const char *ns, int (*fn)(void *), void *arg)
{
	char path[PATH_MAX];
	int self, target, rc;

	snprintf(path, sizeof(path), "/var/run/netns/%s", ns);
	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	target = open(path, O_RDONLY | O_CLOEXEC);
	if (self < 0 || target < 0 || setns(target, CLONE_NEWNET)) {
		rc = -errno;
		goto out;
	}
	rc = fn(arg);
	if (setns(self, CLONE_NEWNET))
		abort(); /* a test thread stranded in another namespace would lie */
out:
	if (self >= 0)
		close(self);
	if (target >= 0)
		close(target);
	return rc;
}

struct sock_args {
	const char *addr;
	int port;
	int family;
};

static int fill_addr(const char *a, int port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, a, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*len = sizeof(*s4);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, a, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*s6);
		return AF_INET6;
	}
	return -EINVAL;
}

static int make_socket(void *arg)
{
	struct sock_args *a = arg;
	int fd = socket(a->family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	return fd < 0 ? -errno : fd;
}

int ns_listen(const char *ns, const char *addr, int port)
{
	struct sock_args a = { .addr = addr, .port = port };
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	a.family = fill_addr(addr, port, &ss, &len);
	if (a.family < 0)
		return a.family;
	fd = ns_enter(ns, make_socket, &a);
	if (fd < 0)
		return fd;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 1024)) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

int ns_connect(const char *ns, const char *src, const char *dst, int port, int timeout_ms)
{
	struct sock_args a = { .addr = dst, .port = port };
	struct sockaddr_storage sd, ss;
	socklen_t ld, ls;
	struct pollfd pfd;
	int fd, rc, err = 0;
	socklen_t elen = sizeof(err);

	a.family = fill_addr(dst, port, &sd, &ld);
	if (a.family < 0 || fill_addr(src, 0, &ss, &ls) != a.family)
		return -EINVAL;
	fd = ns_enter(ns, make_socket, &a);
	if (fd < 0)
		return fd;
	if (bind(fd, (struct sockaddr *)&ss, ls)) {
		rc = -errno;
		goto out;
	}
	fcntl(fd, F_SETFL, O_NONBLOCK);
	if (!connect(fd, (struct sockaddr *)&sd, ld)) {
		rc = 0;
		goto out;
	}
	if (errno != EINPROGRESS) {
		rc = -errno;
		goto out;
	}
	pfd.fd = fd;
	pfd.events = POLLOUT;
	rc = poll(&pfd, 1, timeout_ms);
	if (rc == 0) {
		rc = -ETIMEDOUT;
		goto out;
	}
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
	rc = -err;
out:
	close(fd);
	return rc;
}
