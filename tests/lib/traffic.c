// SPDX-License-Identifier: GPL-2.0
/*
 * traffic.c - background traffic generators and counters for lab tests.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "testenv.h"
#include "traffic.h"

long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int bg_start(struct bgproc *b, const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	int fd;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(b->out, sizeof(b->out), "/tmp/mailedge-test-bg-XXXXXX");
	fd = mkstemp(b->out);
	if (fd < 0)
		return -errno;
	b->pid = fork();
	if (b->pid < 0) {
		close(fd);
		return -errno;
	}
	if (b->pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(devnull, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		execl("/bin/bash", "bash", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(fd);
	return 0;
}

int bg_finish(struct bgproc *b, int stop, int ms, char *buf, size_t len)
{
	long long deadline = now_ms() + ms;
	int st = 0, rc = -ETIMEDOUT;
	size_t n = 0;
	FILE *f;

	if (b->pid <= 0)
		return -ECHILD;
	if (stop)
		kill(b->pid, SIGINT);
	while (now_ms() < deadline) {
		if (waitpid(b->pid, &st, WNOHANG) == b->pid) {
			rc = 0;
			break;
		}
		usleep(20000);
	}
	if (rc) {
		kill(b->pid, SIGKILL);
		waitpid(b->pid, &st, 0);
	}
	b->pid = -1;
	f = fopen(b->out, "r");
	if (f && len)
		n = fread(buf, 1, len - 1, f);
	if (len)
		buf[n] = '\0';
	if (f)
		fclose(f);
	unlink(b->out);
	return rc;
}

void bg_kill(struct bgproc *b)
{
	if (b->pid > 0) {
		kill(b->pid, SIGKILL);
		waitpid(b->pid, NULL, 0);
		unlink(b->out);
	}
	b->pid = -1;
}

int hping_start(struct bgproc *b, const char *ns, const char *args)
{
	return bg_start(b, "exec ip netns exec %s hping3 %s", ns, args);
}

long hping_sent(const char *output)
{
	const char *p = strstr(output, " packets transmitted");

	if (!p)
		return -1;
	while (p > output && p[-1] >= '0' && p[-1] <= '9')
		p--;
	return strtol(p, NULL, 10);
}

long long nft_counter(const char *ns, const char *family, const char *table, const char *name)
{
	struct run r;
	long long n = -1;
	char *p;

	tenv_run(&r, "ip netns exec %s nft list counter %s %s %s", ns, family, table, name);
	if (!r.status && r.out && (p = strstr(r.out, "packets ")))
		n = strtoll(p + 8, NULL, 10);
	tenv_run_free(&r);
	return n;
}

int nft_count_saddr(const char *ns, const char *table, const char *counter, const char *saddr)
{
	return tenv_sh("ip netns exec %s nft 'add table inet %s; add counter inet %s %s; "
		       "add chain inet %s pre { type filter hook prerouting priority -500 ; "
		       "policy accept ; }; add rule inet %s pre ip saddr %s counter name %s'",
		       ns, table, table, counter, table, table, saddr, counter);
}

long long if_stat(const char *ns, const char *ifname, const char *stat)
{
	struct run r;
	long long n = -1;

	tenv_run(&r, "ip netns exec %s cat /sys/class/net/%s/statistics/%s", ns, ifname, stat);
	if (!r.status && r.out)
		n = strtoll(r.out, NULL, 10);
	tenv_run_free(&r);
	return n;
}
