// SPDX-License-Identifier: GPL-2.0
/*
 * keeper.c - the privileged key reader for reloads (see keeper.h).
 *
 * The proxy and the keeper share a socketpair. The proxy writes one byte, "R";
 * the keeper answers with a status word and then either a message (status 1)
 * or a count of records, each a key file's path and contents. Every length is
 * a 32-bit word in host order (both ends are the same binary) and bounded on
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
#include "log.h"
#include "str.h"

#define KEY_MAX	  (1u << 20) /* a key file; real ones are a few kB */
#define PATH_MAX_ 4096
#define KEYS_MAX  256 /* listeners, and so keys, in one configuration */
#define WAIT_SECS 15  /* loading a configuration resolves backend names */

struct key {
	char *path;
	char *pem;
	uint32_t len;
};

static int kfd = -1;
static pid_t kpid;
static struct key *keys;
static size_t nkeys;

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

static int read_key(const char *path, char **pem, uint32_t *len, char *why, size_t why_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st;

	*pem = NULL;
	if (fd < 0) {
		snprintf(why, why_len, "key %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > (off_t)KEY_MAX) {
		snprintf(why, why_len, "key %s: not a regular file of at most 1 MiB", path);
		close(fd);
		return -1;
	}
	*len = (uint32_t)st.st_size;
	*pem = malloc(*len ? *len : 1);
	if (!*pem || get_all(fd, *pem, *len)) {
		snprintf(why, why_len, "key %s: cannot read it", path);
		free(*pem);
		*pem = NULL;
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static void answer_error(int fd, const char *why)
{
	uint32_t status = 1;

	if (!put_all(fd, &status, sizeof(status)))
		put_blob(fd, why, (uint32_t)strlen(why));
}

/* Load the configuration as it is on disk now and send its keys. */
static void answer(int fd, const struct px_flags *flags)
{
	char why[512];
	struct px_config *c = px_config_load(flags, why, sizeof(why));
	uint32_t status = 0, n = 0;
	char *pem[KEYS_MAX] = { 0 };
	uint32_t len[KEYS_MAX];
	size_t i;
	int bad = 0;

	if (!c) {
		answer_error(fd, why);
		return;
	}
	for (i = 0; i < c->nls && i < KEYS_MAX && !bad; i++)
		if (c->ls[i].ssl)
			bad = read_key(c->ls[i].key, &pem[i], &len[i], why, sizeof(why));
	if (bad) {
		answer_error(fd, why);
	} else {
		for (i = 0; i < c->nls && i < KEYS_MAX; i++)
			n += pem[i] != NULL;
		if (!put_all(fd, &status, sizeof(status)) && !put_all(fd, &n, sizeof(n)))
			for (i = 0; i < c->nls && i < KEYS_MAX; i++)
				if (pem[i] &&
				    (put_blob(fd, c->ls[i].key, (uint32_t)strlen(c->ls[i].key)) ||
				     put_blob(fd, pem[i], len[i])))
					break;
	}
	for (i = 0; i < KEYS_MAX; i++)
		if (pem[i]) {
			OPENSSL_cleanse(pem[i], len[i]);
			free(pem[i]);
		}
	px_config_put(c);
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

static void gone(void)
{
	close(kfd);
	kfd = -1;
}

int px_keeper_fetch(char *why, size_t why_len)
{
	uint32_t status, n, len;
	char *msg;

	px_keeper_forget();
	if (kfd < 0) {
		snprintf(why, why_len, "no key keeper (the proxy was not started as root)");
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
	if (get_all(kfd, &n, sizeof(n)) || n > KEYS_MAX)
		goto lost;
	keys = calloc(n ? n : 1, sizeof(*keys));
	if (!keys)
		goto lost;
	for (nkeys = 0; nkeys < n; nkeys++) {
		struct key *k = &keys[nkeys];

		if (get_blob(kfd, PATH_MAX_, &k->path, &len) ||
		    get_blob(kfd, KEY_MAX, &k->pem, &k->len)) {
			free(k->path);
			goto lost;
		}
	}
	return 0;
lost:
	px_keeper_forget();
	gone();
	snprintf(why, why_len, "the key keeper stopped answering");
	return -1;
}

const char *px_keeper_key(const char *path, size_t *len)
{
	for (size_t i = 0; i < nkeys; i++)
		if (!strcmp(keys[i].path, path)) {
			*len = keys[i].len;
			return keys[i].pem;
		}
	return NULL;
}

void px_keeper_forget(void)
{
	for (size_t i = 0; i < nkeys; i++) {
		OPENSSL_cleanse(keys[i].pem, keys[i].len);
		free(keys[i].pem);
		free(keys[i].path);
	}
	free(keys);
	keys = NULL;
	nkeys = 0;
}

void px_keeper_stop(void)
{
	if (kfd < 0)
		return;
	gone(); /* the keeper reads the end of the stream and exits */
	waitpid(kpid, NULL, 0);
}
