// SPDX-License-Identifier: GPL-2.0
/*
 * dovelab.c - a private Dovecot instance per test (see dovelab.h).
 *
 * Everything Dovecot would otherwise keep in system places is redirected into
 * the instance directory: base_dir (sockets, master.pid), state_dir, the log,
 * and the mail; the instance name (dl-XXXXXX, the directory's own name) tags
 * every child process's title, which is how dl_procs finds them. Ports are
 * picked free by the kernel and may be taken by someone else before Dovecot
 * binds them: a start that fails with "Address already in use" is retried on
 * new ports.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
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

#include "dovelab.h"
#include "proxylab.h"
#include "traffic.h"

#define DL_START_MS   10000 /* to greet on both ports; Dovecot takes ~110 ms */
#define DL_TRIES      5	    /* starts on fresh ports after losing a port race */
#define DL_TERM_MS    5000  /* for the master's services to stop on SIGTERM; ~30 ms */
#define DL_DRAIN_MS   20    /* for the log process to write what it was sent */
#define DL_GONE_MS    2000  /* for the children to exit once the master is gone */
#define DL_PARENT_MAX 64    /* a longer parent path: socket paths too long */

/* Paths go into Dovecot's configuration unquoted, where '%' expands and
 * spaces split: only plain characters are accepted. */
static int plain_path(const char *p)
{
	for (; *p; p++)
		if (!strchr("/._-", *p) && !(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
		    !(*p >= '0' && *p <= '9'))
			return 0;
	return 1;
}

static int write_text(const char *path, const char *text)
{
	return pl_write_file(path, text, strlen(text));
}

/* alice's maildir with DL_MESSAGE in new/, all owned by the mail user. */
static int make_maildir(const struct dl *d, uid_t uid, gid_t gid)
{
	static const char *const sub[] = { "mail", "mail/" DL_USER, "mail/" DL_USER "/cur",
					   "mail/" DL_USER "/new", "mail/" DL_USER "/tmp" };
	char path[PATH_MAX];
	size_t i;
	int rc;

	for (i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", d->dir, sub[i]);
		if (mkdir(path, 0700) || chown(path, uid, gid))
			return -errno;
	}
	/* A maildir name as a delivery agent would make it: time.Mmicro.Ppid.host */
	snprintf(path, sizeof(path), "%s/mail/%s/new/1767225600.M1P1.dovelab", d->dir, DL_USER);
	rc = write_text(path, DL_MESSAGE);
	if (rc)
		return rc;
	return chown(path, uid, gid) ? -errno : 0;
}

static int write_conf(const struct dl *d, const char *conf, const struct dl_opts *o)
{
	const char *name = strrchr(d->dir, '/') + 1, *hp = o && o->haproxy ? "yes" : "no";
	char text[4096];

	snprintf(text, sizeof(text),
		 "# Written by tests/lib/dovelab.c for one test: see dovelab.h.\n"
		 "instance_name = %s\n"
		 "base_dir = %s/run\n"
		 "state_dir = %s/state\n"
		 "log_path = %s\n"
		 "protocols = imap pop3\n"
		 "listen = 127.0.0.1\n"
		 "# Plain text logins without TLS: loopback only, a test user.\n"
		 "ssl = no\n"
		 "disable_plaintext_auth = no\n"
		 "auth_mechanisms = plain login\n"
		 "auth_verbose = yes\n"
		 "# A wrong password is answered at once, not after 2 s: tests wait.\n"
		 "auth_failure_delay = 0\n"
		 "# The users the Debian packages create; mail as nobody, as Dovecot\n"
		 "# refuses uid 0 for mail access.\n"
		 "default_internal_user = dovecot\n"
		 "default_internal_group = dovecot\n"
		 "default_login_user = dovenull\n"
		 "passdb {\n"
		 "  driver = passwd-file\n"
		 "  args = %s/users\n"
		 "}\n"
		 "userdb {\n"
		 "  driver = static\n"
		 "  args = uid=nobody gid=nogroup home=%s/mail/%%u\n"
		 "}\n"
		 "mail_location = maildir:%s/mail/%%u\n"
		 "haproxy_trusted_networks = 127.0.0.0/8\n"
		 "service imap-login {\n"
		 "  inet_listener imap {\n"
		 "    address = 127.0.0.1\n"
		 "    port = %d\n"
		 "    haproxy = %s\n"
		 "  }\n"
		 "  inet_listener imaps {\n"
		 "    port = 0\n"
		 "  }\n"
		 "}\n"
		 "service pop3-login {\n"
		 "  inet_listener pop3 {\n"
		 "    address = 127.0.0.1\n"
		 "    port = %d\n"
		 "    haproxy = %s\n"
		 "  }\n"
		 "  inet_listener pop3s {\n"
		 "    port = 0\n"
		 "  }\n"
		 "}\n",
		 name, d->dir, d->dir, d->log, d->dir, d->dir, d->dir, d->imap_port, hp,
		 d->pop3_port, hp);
	return write_text(conf, text);
}

/* Connect and read the greeting: does it start with want? With haproxy on,
 * every connection must open with a PROXY header, this one too. */
static int greets(int port, const char *want, int haproxy)
{
	struct pl_client c;
	char text[512];
	int ok = 0;

	if (pl_connect(&c, NULL, port))
		return 0;
	if (!haproxy || !pl_send(&c, "PROXY TCP4 127.0.0.1 127.0.0.1 %d %d\r\n", c.lport, port))
		ok = pl_reply(&c, text, sizeof(text), 1000) >= 0 &&
		     !strncmp(text, want, strlen(want));
	pl_close(&c);
	return ok;
}

static void print_log(const struct dl *d, const char *why)
{
	char *log = pl_read_file(d->log);

	fprintf(stderr, "dl_start: %s; %s:\n%.4000s\n", why, d->log, log ? log : "(none)");
	free(log);
}

/* One start on fresh ports: 0, -EADDRINUSE (try again), or -errno. */
static int start_once(struct dl *d, const char *conf, const struct dl_opts *o)
{
	int haproxy = o && o->haproxy, rc, st;
	long long deadline;
	char *log;

	d->imap_port = pl_free_port();
	d->pop3_port = pl_free_port();
	if (d->imap_port < 0 || d->pop3_port < 0)
		return -EADDRINUSE;
	if (d->imap_port == d->pop3_port)
		return -EADDRINUSE;
	rc = write_conf(d, conf, o);
	if (rc)
		return rc;
	{
		/* Errors before Dovecot's log process is up go to stderr: the log. */
		char *argv[] = { "dovecot", "-F", "-c", (char *)conf, NULL };

		d->pid = pl_spawn_logged(d->log, argv);
	}
	if (d->pid < 0) {
		rc = d->pid;
		d->pid = -1;
		return rc;
	}
	deadline = now_ms() + DL_START_MS;
	while (now_ms() < deadline) {
		if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
			d->pid = -1;
			log = pl_read_file(d->log);
			rc = log && strstr(log, "Address already in use") ? -EADDRINUSE : -EIO;
			free(log);
			if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
				rc = -ENOENT; /* no dovecot binary */
			if (rc != -EADDRINUSE)
				print_log(d, "dovecot exited");
			return rc;
		}
		if (greets(d->imap_port, "* OK", haproxy) && greets(d->pop3_port, "+OK", haproxy))
			return 0;
		pl_sleep_ms(10);
	}
	print_log(d, "no greeting in time");
	return -ETIMEDOUT;
}

int dl_start(struct dl *d, const char *parent_dir, const struct dl_opts *o)
{
	char conf[PATH_MAX], path[PATH_MAX];
	struct passwd *pw;
	struct group *gr;
	struct stat st;
	int rc, try;
	uid_t uid;
	gid_t gid;

	memset(d, 0, sizeof(*d));
	d->pid = -1;
	/* base_dir's sockets are PARENT/dl-XXXXXX/run/ plus up to ~25
	 * characters, and a socket's path has room for 107. */
	if (!parent_dir || !plain_path(parent_dir) || strlen(parent_dir) > DL_PARENT_MAX)
		return -EINVAL;
	if (stat(parent_dir, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (!(st.st_mode & S_IXOTH)) {
		fprintf(stderr, "dl_start: %s must be searchable by others (dovecot, nobody)\n",
			parent_dir);
		return -EACCES;
	}
	/* (getpwnam's result lives until the next call: keep what is needed) */
	if (!getpwnam("dovecot") || !getpwnam("dovenull"))
		return -ENOENT; /* Dovecot's packages are not installed */
	pw = getpwnam("nobody");
	gr = getgrnam("nogroup");
	if (!pw || !gr)
		return -ENOENT;
	uid = pw->pw_uid;
	gid = gr->gr_gid;

	snprintf(d->dir, sizeof(d->dir), "%s/dl-XXXXXX", parent_dir);
	if (!mkdtemp(d->dir)) {
		rc = -errno;
		d->dir[0] = '\0';
		return rc;
	}
	/* The auth process (dovecot) reads users, the mail processes (nobody)
	 * the maildir. */
	chmod(d->dir, 0755);
	snprintf(d->log, sizeof(d->log), "%s/dovecot.log", d->dir);
	snprintf(conf, sizeof(conf), "%s/dovecot.conf", d->dir);
	snprintf(path, sizeof(path), "%s/users", d->dir);
	rc = write_text(path, DL_USER ":{PLAIN}" DL_PASS "::::::\n");
	if (rc)
		goto out;
	rc = make_maildir(d, uid, gid);
	if (rc)
		goto out;
	for (try = 0; try < DL_TRIES; try++) {
		rc = start_once(d, conf, o);
		if (rc != -EADDRINUSE)
			break;
	}
	if (rc == -EADDRINUSE)
		print_log(d, "every port pair was taken");
out:
	if (rc)
		dl_stop(d);
	return rc;
}

/* Which of an instance's processes scan() looks for. */
enum dl_which {
	DL_ALL,	    /* the master and its children */
	DL_BUSY,    /* children but the log process, which goes last */
	DL_SESSION, /* imap and pop3: the logged-in sessions */
};

/* Is this command line (NUL-separated, k bytes) one of d's processes? The
 * master is "dovecot -F -c DIR/dovecot.conf"; a child's title is
 * "dovecot-INSTANCE/SERVICE", then maybe " [what it does]". */
static int is_ours(const struct dl *d, const char *title, const char *cmd, size_t k,
		   enum dl_which which)
{
	const char *svc = cmd + strlen(title);
	size_t n;

	if (strncmp(cmd, title, strlen(title)))
		return which == DL_ALL &&
		       (!strcmp(cmd, "dovecot") || !strcmp(cmd, "/usr/sbin/dovecot")) &&
		       memmem(cmd, k, d->dir, strlen(d->dir));
	n = strcspn(svc, " ");
	if (which == DL_BUSY)
		return !(n == 3 && !strncmp(svc, "log", 3));
	if (which == DL_SESSION)
		return n == 4 && (!strncmp(svc, "imap", 4) || !strncmp(svc, "pop3", 4));
	return 1;
}

/* The pids of d's processes of one kind (up to max); how many there are. */
static int scan(const struct dl *d, enum dl_which which, pid_t *pids, int max)
{
	char title[64], path[64], cmd[4096];
	const char *name;
	struct dirent *e;
	DIR *proc;
	int n = 0;

	if (!d->dir[0] || !(name = strrchr(d->dir, '/')))
		return 0;
	snprintf(title, sizeof(title), "dovecot-%s/", name + 1);
	proc = opendir("/proc");
	if (!proc)
		return 0;
	while ((e = readdir(proc))) {
		pid_t pid = (pid_t)atoi(e->d_name);
		ssize_t k;
		int fd;

		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		k = read(fd, cmd, sizeof(cmd) - 1);
		close(fd);
		if (k <= 0)
			continue;
		cmd[k] = '\0';
		if (!is_ours(d, title, cmd, (size_t)k, which))
			continue;
		if (n < max)
			pids[n] = pid;
		n++;
	}
	closedir(proc);
	return n;
}

int dl_procs(const struct dl *d)
{
	return scan(d, DL_ALL, NULL, 0);
}

/* SIGTERM to the sessions: they say "* BYE" and exit at once. Dovecot's
 * master leaves them to notice its end, which takes them ~10 s. */
static void end_sessions(const struct dl *d)
{
	pid_t pids[64];
	int n = scan(d, DL_SESSION, pids, 64), i;

	for (i = 0; i < n && i < 64; i++)
		kill(pids[i], SIGTERM);
}

void dl_stop(struct dl *d)
{
	long long deadline;
	pid_t pids[64];
	int n, i;

	if (d->pid > 0) {
		/* The master stops its services and, once they are gone, its
		 * log process; then it sleeps a fixed second before exiting.
		 * When only the log process is left, everything there was to
		 * log is in its pipes: a moment to write it out, and the
		 * master's second is not waited for. */
		end_sessions(d);
		kill(d->pid, SIGTERM);
		deadline = now_ms() + DL_TERM_MS;
		while (waitpid(d->pid, NULL, WNOHANG) == 0 && now_ms() < deadline) {
			if (!scan(d, DL_BUSY, NULL, 0))
				break;
			end_sessions(d);
			pl_sleep_ms(5);
		}
		pl_sleep_ms(DL_DRAIN_MS);
		kill(d->pid, SIGKILL);
		waitpid(d->pid, NULL, 0);
		d->pid = -1;
	}
	/* The children exit when the master's pipe to them closes (also
	 * when the master was killed outright, by PR_SET_PDEATHSIG). */
	deadline = now_ms() + DL_GONE_MS;
	while ((n = scan(d, DL_ALL, pids, 64)) && now_ms() < deadline) {
		end_sessions(d);
		pl_sleep_ms(10);
	}
	for (i = 0; i < n && i < 64; i++)
		kill(pids[i], SIGKILL);
}

int dl_read_until(struct pl_client *c, const char *end, char *text, size_t len, int ms)
{
	long long deadline = now_ms() + ms;
	size_t used = 0, k = strlen(end);
	char chunk[16384];

	if (len)
		text[0] = '\0';
	for (;;) {
		long long left = deadline - now_ms();
		const char *l;
		size_t n;
		int rc;

		if (left <= 0)
			return -ETIMEDOUT;
		/* One line (pl_reply joins SMTP-style "xyz-" continuations: all
		 * lines of the chunk are looked at). An empty chunk is an error:
		 * the code is the text's number otherwise. */
		rc = pl_reply(c, chunk, sizeof(chunk), (int)left);
		if (!chunk[0])
			return rc < 0 ? rc : -EPIPE;
		n = strlen(chunk);
		if (used + n >= len)
			return -ENOBUFS;
		memcpy(text + used, chunk, n + 1);
		used += n;
		for (l = chunk; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
			if (!strncmp(l, end, k))
				return 0;
	}
}
