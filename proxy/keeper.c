// SPDX-License-Identifier: GPL-2.0
/*
 * keeper.c - the privileged reader of TLS files for reloads (see keeper.h).
 *
 * The proxy and the keeper share a socketpair. The proxy writes one byte, "R";
 * the keeper answers with a status word and then either a message (status 1)
 * or a count of records, each a file's path and contents. Every length is a
 * 32-bit word in host order (both ends are the same binary) and bounded on
 * reading, so neither end trusts the other's sizes.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <openssl/crypto.h>

#include "keeper.h"
#include "material.h"
#include "log.h"
#include "str.h"

#define PATH_MAX_ 4096
#define WAIT_SECS 15 /* reading a configuration and its files */

static int kfd = -1;
static pid_t kpid;
static int klost; /* it was there, and stopped answering */

static int put_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int get_all(int fd, void *p, size_t n)
{
	char *c = p;

	while (n) {
		ssize_t r = read(fd, c, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

static int put_blob(int fd, const void *p, uint32_t n)
{
	return put_all(fd, &n, sizeof(n)) || put_all(fd, p, n) ? -1 : 0;
}

/* A length-prefixed blob of at most max bytes, NUL-terminated for use as a
 * string; *out is NULL after a failure. */
static int get_blob(int fd, uint32_t max, char **out, uint32_t *len)
{
	*out = NULL;
	if (get_all(fd, len, sizeof(*len)) || *len > max)
		return -1;
	*out = malloc((size_t)*len + 1);
	if (!*out)
		return -1;
	if (get_all(fd, *out, *len)) {
		free(*out);
		*out = NULL;
		return -1;
	}
	(*out)[*len] = '\0';
	return 0;
}

/* ---- the keeper ---- */

static void answer_error(int fd, const char *why)
{
	uint32_t status = 1;

	if (!put_all(fd, &status, sizeof(status)))
		put_blob(fd, why, (uint32_t)strlen(why));
}

/* Parse the configuration as it is on disk now (pure: nothing is built, no
 * name resolved) and send the bytes of every TLS file it names. */
static void answer(int fd, const struct px_flags *flags)
{
	char why[512];
	struct px_config *c = px_config_parse(flags, NULL, why, sizeof(why));
	struct px_material m = { 0 };
	uint32_t status = 0, n;
	size_t i;
	int rc;

	if (!c) {
		answer_error(fd, why);
		return;
	}
	rc = px_config_tls_paths(c, &m);
	px_config_put(c);
	if (rc)
		px_material_strerror(rc, why, sizeof(why));
	else
		rc = px_material_read_root(&m, why, sizeof(why));
	if (rc) {
		answer_error(fd, why);
		px_material_free(&m);
		return;
	}
	/* root's files only: the proxy reads the rest itself */
	for (i = n = 0; i < m.n; i++)
		n += m.f[i].data != NULL;
	if (!put_all(fd, &status, sizeof(status)) && !put_all(fd, &n, sizeof(n)))
		for (i = 0; i < m.n; i++)
			if (m.f[i].data &&
			    (put_blob(fd, m.f[i].path, (uint32_t)strlen(m.f[i].path)) ||
			     put_blob(fd, m.f[i].data, (uint32_t)m.f[i].len)))
				break;
	px_material_free(&m);
}

static void __attribute__((noreturn))
keeper_main(int fd, const struct px_flags *flags, pid_t parent)
{
	char req;

	/* It lives exactly as long as the proxy: killed when the proxy dies,
	 * and deaf to the signals meant for the proxy (a reload, a drain). */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	prctl(PR_SET_NAME, "mailedge-keeper");
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	/* What the configuration says is the proxy's to log, once. */
	log_set_level(ME_LOG_ERR);
	for (;;) {
		ssize_t r = read(fd, &req, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			_exit(0);
		if (req == 'R')
			answer(fd, flags);
	}
}

int px_keeper_start(const struct px_flags *flags)
{
	struct timeval tv = { .tv_sec = WAIT_SECS };
	pid_t parent = getpid();
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -1;
	kpid = fork();
	if (kpid < 0) {
		int e = errno;

		close(sv[0]);
		close(sv[1]);
		errno = e;
		return -1;
	}
	if (!kpid) {
		close(sv[0]);
		keeper_main(sv[1], flags, parent);
	}
	close(sv[1]);
	kfd = sv[0];
	setsockopt(kfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return 0;
}

/* ---- the proxy's side ---- */

/* The keeper is of no more use: it may be stuck (a read that never ends), so
 * it is killed, not asked. */
static void gone(void)
{
	close(kfd);
	kfd = -1;
	kill(kpid, SIGKILL);
	waitpid(kpid, NULL, 0);
	klost = 1;
}

int px_keeper_fetch(struct px_material *m, char *why, size_t why_len)
{
	uint32_t status, n, len, i;
	char *msg, *path, *data;

	if (kfd < 0) {
		snprintf(why, why_len, "%s",
			 klost ? "the key keeper stopped answering earlier; restart the proxy to "
				 "have one again"
			       : "no key keeper (the proxy was not started as root)");
		return -1;
	}
	if (put_all(kfd, "R", 1) || get_all(kfd, &status, sizeof(status)))
		goto lost;
	if (status) {
		if (get_blob(kfd, 4096, &msg, &len))
			goto lost;
		me_strlcpy(why, msg, why_len);
		free(msg);
		return -1;
	}
	if (get_all(kfd, &n, sizeof(n)) || n > PX_MATERIAL_FILES)
		goto lost;
	for (i = 0; i < n; i++) {
		uint32_t dlen;
		int rc;

		if (get_blob(kfd, PATH_MAX_, &path, &len))
			goto lost;
		if (get_blob(kfd, PX_MATERIAL_FILE_MAX, &data, &dlen)) {
			free(path);
			goto lost;
		}
		rc = px_material_set(m, path, data, dlen);
		OPENSSL_cleanse(data, dlen);
		free(data);
		free(path);
		if (rc)
			goto lost; /* the rest of the answer is still in the pipe */
	}
	return 0;
lost:
	gone();
	snprintf(why, why_len, "the key keeper stopped answering");
	return -1;
}

void px_keeper_stop(void)
{
	if (kfd < 0)
		return;
	close(kfd); /* the keeper reads the end of the stream and exits */
	kfd = -1;
	waitpid(kpid, NULL, 0);
}
