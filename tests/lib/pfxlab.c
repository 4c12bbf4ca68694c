// SPDX-License-Identifier: GPL-2.0
/*
 * pfxlab.c - a private Postfix instance for a test (see pfxlab.h).
 *
 * Start-up cost is what matters, so the helper does by hand what "postfix
 * start" does with shell scripts: "postfix check" and "post-install
 * set-permissions" take about three seconds here, while creating the dozen
 * queue directories with the owners and modes post-install gives them is a
 * few system calls. master(8) is then run directly: it stays in the
 * foreground without "-d" (only "-w" forks), and it leads a session, so the
 * whole instance is one process group.
 *
 * Who owns the processes: a keeper, forked by the test, marks itself child
 * subreaper and forks master. When master dies its daemons become the
 * keeper's children, not init's, and the keeper reaps them all, then exits:
 * once pfx_stop has waited for the keeper, no process of the instance is
 * left, not even a zombie (init in a container may take seconds to reap
 * one). If the test dies (a crash, Criterion's timeout), the keeper gets
 * SIGTERM (PR_SET_PDEATHSIG) and kills master's group before it goes.
 *
 * Master's own start-up errors (a port taken between pl_free_port() and its
 * bind) go to syslog, not to the maillog: postlogd is not running yet, and
 * /dev/log may not exist. When master exits before answering, pfx_start
 * therefore tries the port itself and starts again on another one if it is
 * taken.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "pfxlab.h"
#include "proxylab.h"
#include "traffic.h"

#define PFX_MASTER "/usr/lib/postfix/sbin/master"
/* Up to this long for master to answer its first 220: it takes ~100 ms, but
 * a loaded machine running two suites with sanitizers is slower. */
#define PFX_START_MS 15000
/* How long one probe waits for the greeting (smtpd is spawned on demand). */
#define PFX_PROBE_MS 3000
/* Start again this many times when the port was taken under master. */
#define PFX_PORT_TRIES 4
/* The keeper has this long to reap everything after master's group got
 * SIGKILL; then it is killed too and the rest swept. */
#define PFX_STOP_MS 5000

/* A PROXY v2 header with the LOCAL command and no addresses: what a health
 * check sends; Postfix then uses the connection's own addresses. */
static const char v2_local[16] = "\r\n\r\n\0\r\nQUIT\n\x20\x00\x00\x00";

/* Can a listener bind the port now (as master does, with SO_REUSEADDR)? */
static int port_taken(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, taken;

	if (fd < 0)
		return 0;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	taken = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 1);
	close(fd);
	return taken;
}

/* ---- directories and configuration ---- */

static int mkdir_own(const char *dir, const char *sub, mode_t mode, uid_t uid, gid_t gid)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	if (mkdir(path, 0700) && errno != EEXIST)
		return -errno;
	/* mkdir's mode went through the umask. */
	if (chown(path, uid, gid) || chmod(path, mode))
		return -errno;
	return 0;
}

/* The layout post-install's postfix-files gives a queue (and data)
 * directory, which the daemons check: public/ and maildrop/ are group
 * postdrop, everything else belongs to the mail owner and nobody else. */
static int make_dirs(const char *dir)
{
	static const char *const owned[] = { "spool/active", "spool/bounce",   "spool/corrupt",
					     "spool/defer",  "spool/deferred", "spool/flush",
					     "spool/hold",   "spool/incoming", "spool/private",
					     "spool/saved",  "spool/trace",    "data" };
	struct passwd *pw = getpwnam("postfix");
	struct group *gr = getgrnam("postdrop");
	size_t i;
	int rc;

	if (!pw || !gr) {
		fprintf(stderr, "pfx_start: got no %s, want the postfix package's accounts\n",
			pw ? "group postdrop" : "user postfix");
		return -ENOENT;
	}
	rc = mkdir_own(dir, "etc", 0755, 0, 0);
	if (!rc)
		rc = mkdir_own(dir, "spool", 0755, 0, 0);
	if (!rc)
		rc = mkdir_own(dir, "spool/pid", 0755, 0, 0);
	if (!rc)
		rc = mkdir_own(dir, "spool/public", 0710, pw->pw_uid, gr->gr_gid);
	if (!rc)
		rc = mkdir_own(dir, "spool/maildrop", 0730, pw->pw_uid, gr->gr_gid);
	for (i = 0; !rc && i < sizeof(owned) / sizeof(owned[0]); i++)
		rc = mkdir_own(dir, owned[i], 0700, pw->pw_uid, 0);
	return rc;
}

/*
 * Close a configuration file dated a minute back. Postfix reads main.cf
 * through dict_load_fp(), which takes a file modified within the last second
 * for one still being written and reads it again every 300 ms until it is
 * older: a fresh main.cf cost master, and then each daemon it starts, up to
 * two seconds.
 */
static int close_cooled(FILE *f)
{
	struct timespec t[2];
	int bad;

	clock_gettime(CLOCK_REALTIME, &t[0]);
	t[0].tv_sec -= 60;
	t[1] = t[0];
	bad = fflush(f) || ferror(f) || futimens(fileno(f), t);
	if (fclose(f) || bad)
		return -EIO;
	return 0;
}

static int write_main_cf(const struct pfx *p, const struct pfx_opts *o)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/etc/main.cf", p->dir);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f,
		"# Written by tests/lib/pfxlab.c for one test; see pfxlab.h.\n"
		/* As Debian's main.cf.proto: today's defaults, no warnings. */
		"compatibility_level = 3.7\n"
		"queue_directory = %s/spool\n"
		"data_directory = %s/data\n"
		"maillog_file = %s\n"
		/* postlogd writes only under these prefixes. */
		"maillog_file_prefixes = %s\n"
		"inet_interfaces = 127.0.0.1\n"
		"inet_protocols = ipv4\n"
		"myhostname = backend.test\n"
		"mydestination =\n"
		"mynetworks = 127.0.0.0/8\n"
		"relay_domains = example.org\n"
		/* Every address class is dropped after queueing. */
		"relay_transport = discard\n"
		"default_transport = discard\n"
		"local_transport = discard\n"
		"virtual_transport = discard\n"
		/* No /etc/aliases: local(8) never runs. */
		"alias_maps =\n"
		"alias_database =\n"
		/* Not passwd through proxymap: smtpd opens it before its first
		 * greeting, and a proxymap started on demand doubled the
		 * start-up time. Only local-class addresses (user@[127.0.0.1])
		 * would be checked, and they are discarded anyway. */
		"local_recipient_maps =\n"
		/* Hermetic and fast: no reverse DNS of (PROXY, XCLIENT) clients. */
		"smtpd_peername_lookup = no\n",
		p->dir, p->dir, p->maillog, p->dir);
	if (o->proxy_protocol)
		fprintf(f, "smtpd_upstream_proxy_protocol = haproxy\n");
	if (o->xclient)
		fprintf(f, "smtpd_authorized_xclient_hosts = 127.0.0.0/8\n");
	if (o->tls_cert)
		fprintf(f,
			"smtpd_tls_security_level = may\n"
			"smtpd_tls_cert_file = %s\n"
			/* Postfix's default: the key is in the certificate's file. */
			"smtpd_tls_key_file = %s\n"
			"smtpd_tls_loglevel = 1\n",
			o->tls_cert, o->tls_key ? o->tls_key : o->tls_cert);
	if (o->extra_main_cf)
		fprintf(f, "%s\n", o->extra_main_cf);
	return close_cooled(f);
}

static int write_master_cf(const struct pfx *p, const struct pfx_opts *o)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/etc/master.cf", p->dir);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	/* Debian's master.cf minus pickup, showq, the SMTP client and the
	 * delivery agents, with chroot off everywhere (the chroot would need
	 * a copy of /etc and the libraries in the queue directory). */
	fprintf(f,
		"# service type  private unpriv chroot wakeup maxproc command\n"
		"127.0.0.1:%d inet n - n - - smtpd%s\n"
		"cleanup   unix  n - n -     0 cleanup\n"
		"qmgr      unix  n - n 300   1 qmgr\n"
		"tlsmgr    unix  - - n 1000? 1 tlsmgr\n"
		"rewrite   unix  - - n -     - trivial-rewrite\n"
		"bounce    unix  - - n -     0 bounce\n"
		"defer     unix  - - n -     0 bounce\n"
		"trace     unix  - - n -     0 bounce\n"
		"verify    unix  - - n -     1 verify\n"
		"flush     unix  n - n 1000? 0 flush\n"
		"proxymap  unix  - - n -     - proxymap\n"
		"error     unix  - - n -     - error\n"
		"retry     unix  - - n -     - error\n"
		"discard   unix  - - n -     - discard\n"
		"anvil     unix  - - n -     1 anvil\n"
		"scache    unix  - - n -     1 scache\n"
		/* maillog_file needs postlogd. */
		"postlog   unix-dgram n - n - 1 postlogd\n",
		p->port,
		o->tls_wrapper ? " -o smtpd_tls_wrappermode=yes -o smtpd_tls_security_level=encrypt"
			       : "");
	return close_cooled(f);
}

/* ---- processes ---- */

/* The master the keeper looks after, for its SIGTERM handler. */
static volatile pid_t keeper_master;

static void keeper_on_term(int sig)
{
	(void)sig;
	if (keeper_master > 1)
		kill(-keeper_master, SIGKILL);
}

/* What the keeper's child does: become master, in a group of its own. */
static void __attribute__((noreturn))
exec_master(const sigset_t *mask, int ofd, int nfd, const char *conf, char *const envp[])
{
	/* The group exists from the first instant, so that the keeper's kill
	 * reaches it (master's own setsid() then finds it done, which it
	 * accepts). */
	setsid();
	sigprocmask(SIG_SETMASK, mask, NULL);
	dup2(nfd, 0);
	dup2(ofd, 1);
	dup2(ofd, 2);
	/* Not the test's sockets, pipes and files. */
	if (close_range(3, ~0U, 0))
		for (int fd = 3; fd < 1024; fd++)
			close(fd);
	execle(PFX_MASTER, "master", "-c", conf, (char *)NULL, envp);
	_exit(127);
}

/*
 * The keeper (see the file header); it never returns. It learns of the
 * test's death by SIGTERM (PR_SET_PDEATHSIG), which it turns into SIGKILL
 * for master's whole group: master itself cannot be given a parent-death
 * signal, because the kernel clears it whenever the effective uid changes,
 * as it does in master when it creates its lock file as the mail owner.
 */
static void __attribute__((noreturn))
keeper(pid_t parent, int ofd, int nfd, int wfd, const char *conf, char *const envp[])
{
	struct sigaction sa = { .sa_handler = keeper_on_term };
	sigset_t term, old;
	int st, mst = 0;
	pid_t m, w;

	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, &old); /* until keeper_master is known */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(1); /* the test died before prctl */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	m = fork();
	if (m == 0)
		exec_master(&old, ofd, nfd, conf, envp);
	keeper_master = m;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (write(wfd, &m, sizeof(m)) != sizeof(m) || m < 0)
		_exit(1);
	close(wfd);
	for (;;) {
		w = waitpid(-1, &st, 0);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			break; /* ECHILD: every descendant reaped */
		if (w == m)
			mst = st;
	}
	_exit(WIFEXITED(mst) ? WEXITSTATUS(mst) : 128 + WTERMSIG(mst));
}

/* Fork the keeper, which forks master. Everything the children need is
 * prepared here: after fork only async-signal-safe calls. */
static int spawn(struct pfx *p)
{
	char conf[PATH_MAX], env_conf[PATH_MAX + 16], out[PATH_MAX];
	char *const envp[] = { env_conf, "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C", NULL };
	pid_t parent = getpid(), m = -1;
	int pfd[2], ofd, nfd;

	snprintf(conf, sizeof(conf), "%s/etc", p->dir);
	/* Master and every daemon get it: pfx_procs finds them by it. */
	snprintf(env_conf, sizeof(env_conf), "MAIL_CONFIG=%s", conf);
	snprintf(out, sizeof(out), "%s/master.out", p->dir);
	ofd = open(out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	nfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (ofd < 0 || nfd < 0 || pipe2(pfd, O_CLOEXEC)) {
		int e = -errno;

		if (ofd >= 0)
			close(ofd);
		if (nfd >= 0)
			close(nfd);
		return e;
	}
	p->keeper = fork();
	if (p->keeper == 0)
		keeper(parent, ofd, nfd, pfd[1], conf, envp);
	close(pfd[1]);
	close(ofd);
	close(nfd);
	if (p->keeper < 0) {
		close(pfd[0]);
		p->keeper = -1;
		return -EAGAIN;
	}
	while (read(pfd[0], &m, sizeof(m)) < 0 && errno == EINTR)
		;
	close(pfd[0]);
	p->master = m;
	return m > 0 ? 0 : -ECHILD;
}

/* One session as a client would have it: the PROXY header or the TLS
 * handshake the port needs first, then the greeting; its code, or -1. */
static int probe(const struct pfx *p, const struct pfx_opts *o)
{
	struct pl_client c;
	char text[512];
	int code = -1;

	if (pl_connect(&c, NULL, p->port))
		return -1;
	if (o->proxy_protocol && pl_write(&c, v2_local, sizeof(v2_local)))
		goto out;
	if (o->tls_wrapper && pl_tls(&c, NULL, 0))
		goto out;
	code = pl_reply(&c, text, sizeof(text), PFX_PROBE_MS);
	if (code == 220)
		pl_cmd(&c, text, sizeof(text), "QUIT");
out:
	pl_close(&c);
	return code;
}

/* Until the port greets (0), master exits (-ECHILD), a daemon dies at
 * start (-EIO: master would only throttle it and retry) or time is up. */
static int wait_ready(struct pfx *p, const struct pfx_opts *o)
{
	long long deadline = now_ms() + PFX_START_MS;

	while (now_ms() < deadline) {
		if (waitpid(p->keeper, NULL, WNOHANG) == p->keeper) {
			p->keeper = -1;
			return -ECHILD;
		}
		if (probe(p, o) == 220)
			return 0;
		if (pfx_log_wait(p, "fatal: ", 1, 0))
			return -EIO;
		pl_sleep_ms(5);
	}
	return -ETIMEDOUT;
}

/* Does /proc/pid/environ hold exactly this "NAME=value" string? */
static int environ_has(pid_t pid, const char *var)
{
	char path[64], buf[16384];
	size_t k = strlen(var) + 1; /* with its NUL */
	ssize_t n, i;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	for (i = 0; i < n; i += (ssize_t)strlen(buf + i) + 1)
		if ((size_t)(n - i) >= k && !memcmp(buf + i, var, k))
			return 1;
	return 0;
}

/* The process group of a process (field 5 of /proc/pid/stat), or -1. */
static pid_t pgid_of(pid_t pid)
{
	char path[64], buf[512], *rp;
	int fd, pgid = -1;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	rp = strrchr(buf, ')'); /* the command name may hold spaces */
	if (!rp || sscanf(rp + 1, " %*c %*d %d", &pgid) != 1)
		return -1;
	return pgid;
}

int pfx_procs(const struct pfx *p, pid_t *pids, int max)
{
	char var[PATH_MAX + 32];
	struct dirent *de;
	DIR *d;
	int n = 0;

	if (!p->dir[0])
		return 0;
	snprintf(var, sizeof(var), "MAIL_CONFIG=%s/etc", p->dir);
	d = opendir("/proc");
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		pid_t pid;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = (pid_t)atoi(de->d_name);
		if ((p->master > 1 && pgid_of(pid) == p->master) || environ_has(pid, var)) {
			if (n < max)
				pids[n] = pid;
			n++;
		}
	}
	closedir(d);
	return n;
}

void pfx_stop(struct pfx *p)
{
	pid_t left[64];
	int i, n;

	if (p->keeper > 0) {
		long long deadline = now_ms() + PFX_STOP_MS;
		int gone = 0;

		/* No graceful stop: the queue is thrown away with the directory. */
		if (p->master > 1)
			kill(-p->master, SIGKILL);
		while (!gone && now_ms() < deadline) {
			gone = waitpid(p->keeper, NULL, WNOHANG) == p->keeper;
			if (!gone)
				pl_sleep_ms(5);
		}
		if (!gone) {
			fprintf(stderr,
				"pfx_stop: %s: the keeper still waits for processes after %d ms\n",
				p->dir, PFX_STOP_MS);
			kill(p->keeper, SIGKILL);
			waitpid(p->keeper, NULL, 0);
		}
		p->keeper = -1;
	}
	/* Anything that left the process group, found by its environment. */
	if (p->dir[0]) {
		n = pfx_procs(p, left, 64);
		for (i = 0; i < n && i < 64; i++)
			kill(left[i], SIGKILL);
	}
}

/* ---- start ---- */

/* Why it did not start: the maillog, and postconf's complaints about the
 * configuration (read-only, unlike "postfix check", and fast). */
static void report(const struct pfx *p, const char *what, int rc)
{
	char *log = pfx_log(p), *conf = NULL;

	pl_sh(&conf, 10000, "postconf -c %s/etc -n >/dev/null; postconf -c %s/etc -M >/dev/null",
	      p->dir, p->dir);
	fprintf(stderr,
		"pfx_start: %s: got %s (%d), want a 220 on 127.0.0.1:%d\n"
		"postconf:\n%s\nmaillog:\n%s\n",
		p->dir, what, rc, p->port, conf && *conf ? conf : "(nothing to say)\n",
		log ? log : "(none)");
	free(conf);
	free(log);
}

int pfx_start(struct pfx *p, const char *parent_dir, const struct pfx_opts *o)
{
	static const struct pfx_opts none;
	int i, rc, try;

	memset(p, 0, sizeof(*p));
	p->master = p->keeper = -1;
	if (!o)
		o = &none;
	if (o->tls_wrapper && !o->tls_cert)
		return -EINVAL;
	/* pfx0, pfx1...: several instances may share a test directory. */
	for (i = 0; i < 100; i++) {
		snprintf(p->dir, sizeof(p->dir), "%s/pfx%d", parent_dir, i);
		if (!mkdir(p->dir, 0755))
			break;
		if (errno != EEXIST) {
			rc = -errno;
			goto fail;
		}
	}
	if (i == 100) {
		rc = -EEXIST;
		goto fail;
	}
	chmod(p->dir, 0755); /* the daemons run as postfix */
	snprintf(p->maillog, sizeof(p->maillog), "%s/maillog", p->dir);
	rc = make_dirs(p->dir);
	if (rc)
		goto fail;
	for (try = 0; try < PFX_PORT_TRIES; try++) {
		p->port = pl_free_port();
		if (p->port <= 0) {
			rc = -EADDRNOTAVAIL;
			goto fail;
		}
		rc = write_main_cf(p, o);
		if (!rc)
			rc = write_master_cf(p, o);
		if (!rc)
			rc = spawn(p);
		if (!rc)
			rc = wait_ready(p, o);
		if (!rc)
			return 0;
		if (rc != -ECHILD)
			break;
		pfx_stop(p);
		if (!port_taken(p->port))
			break; /* master's own fault: see the report */
	}
	/* Master logs why to syslog only (see the file header). */
	if (rc == -ECHILD)
		report(p, "master exited (bad main.cf or master.cf, or the port taken)", rc);
	else
		report(p, rc == -EIO ? "a fatal error" : "no greeting", rc);
	pfx_stop(p);
	return rc;
fail:
	fprintf(stderr, "pfx_start: %s: %s\n", p->dir, strerror(-rc));
	pfx_stop(p);
	return rc;
}

/* ---- the maillog ---- */

char *pfx_log(const struct pfx *p)
{
	return p->maillog[0] ? pl_read_file(p->maillog) : NULL;
}

int pfx_log_wait(const struct pfx *p, const char *needle, int n, int ms)
{
	long long deadline = now_ms() + ms;
	int k;

	for (;;) {
		char *log = pfx_log(p);

		k = pl_count_str(log, needle);
		free(log);
		if (k >= n || now_ms() >= deadline)
			return k;
		pl_sleep_ms(20);
	}
}

char *pfx_log_line(const struct pfx *p, const char *a, const char *b)
{
	char *log = pfx_log(p), *line, *nl, *found = NULL;

	for (line = log; line && *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (strstr(line, a) && (!b || strstr(line, b))) {
			found = strdup(line);
			break;
		}
		if (!nl)
			break;
	}
	free(log);
	return found;
}
