// SPDX-License-Identifier: GPL-2.0
/*
 * keeper.c - the privileged reader of TLS files for reloads, and opener of
 * list sync's tables (see keeper.h).
 *
 * The proxy and the keeper share a socketpair, and the proxy asks one
 * question at a time (a mutex: workers ask for tables from their threads,
 * the main thread for TLS files). For TLS files the proxy writes one byte,
 * "R"; the keeper answers with a status word and then either a message
 * (status 1) or a count of records, each a file's path and contents. For a
 * table it writes "M" and the map ID; the keeper answers with a status word,
 * 0 or an errno, and with status 0 the table's fd rides along (SCM_RIGHTS).
 * Every length is a 32-bit word in host order (both ends are the same
 * binary) and bounded on reading, so neither end trusts the other's sizes.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
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
#include <bpf/bpf.h>

#include "edge.h"
#include "edgefd.h"
#include "keeper.h"
#include "material.h"
#include "log.h"
#include "str.h"

#define PATH_MAX_ 4096
#define WAIT_SECS 15 /* reading a configuration and its files */

static int kfd = -1;
static pid_t kpid;
static int klost; /* it was there, and stopped answering */
/* One question in flight: the answers share one stream. */
static pthread_mutex_t klock = PTHREAD_MUTEX_INITIALIZER;

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

/* ---- the keeper: list sync's tables ---- */

/* list sync's outer maps, as the keeper holds them, and where they are */
static const enum me_map_id sync_maps[] = { ME_M_SYNC_HOST4, ME_M_SYNC_HOST6, ME_M_SYNC_NET4,
					    ME_M_SYNC_NET6 };
#define NSYNC (sizeof(sync_maps) / sizeof(sync_maps[0]))
static int outer[NSYNC] = { -1, -1, -1, -1 };
static char pin_dir[256];

/* The pin directory of the configuration the proxy starts with (a pure
 * parse, as for "R"): the proxy opens its maps there at start and keeps
 * them until it restarts, whatever a reload says, and so does the keeper. */
static void read_pin_dir(const struct px_flags *flags)
{
	char why[512];
	struct px_config *c = px_config_parse(flags, NULL, why, sizeof(why));

	if (!c)
		return; /* every table refused: the proxy refuses to start anyway */
	me_strlcpy(pin_dir, c->pin_dir, sizeof(pin_dir));
	px_config_put(c);
}

/* Open (read-only) whatever outer map is not open yet: at start, and again
 * when asked, for maps pinned after the proxy started. Only an array of
 * maps is kept: another kind of map pinned under that name names no table. */
static void open_outer(void)
{
	LIBBPF_OPTS(bpf_obj_get_opts, ro, .file_flags = BPF_F_RDONLY);
	char path[512];
	size_t i;

	for (i = 0; i < NSYNC && pin_dir[0]; i++) {
		struct bpf_map_info info = { 0 };
		__u32 len = sizeof(info);
		int fd;

		if (outer[i] >= 0 ||
		    me_pin_path(path, sizeof(path), pin_dir, me_map_name(sync_maps[i])))
			continue;
		fd = bpf_obj_get_opts(path, &ro);
		if (fd < 0)
			continue;
		if (bpf_obj_get_info_by_fd(fd, &info, &len) ||
		    info.type != BPF_MAP_TYPE_ARRAY_OF_MAPS) {
			close(fd);
			continue;
		}
		outer[i] = fd;
	}
}

/* Does a slot of an outer map hold id now? The whole point of the keeper's
 * check: an ID from the proxy is only a number it asks about. */
static int table_current(__u32 id)
{
	__u32 slot, cur;
	size_t i;

	open_outer();
	for (i = 0; i < NSYNC; i++)
		for (slot = 0; outer[i] >= 0 && slot < ME_SYNC_SLOTS; slot++)
			if (!bpf_map_lookup_elem(outer[i], &slot, &cur) && cur == id)
				return 1;
	return 0;
}

/* The status word, and with status 0 the fd (SCM_RIGHTS). */
static void send_fd(int sock, uint32_t status, int fd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { .iov_base = &status, .iov_len = sizeof(status) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;

	if (!status) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	while (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 && errno == EINTR)
		;
}

/* "M" and a map ID: the table, if it is list sync's now. IDs are handed out
 * cyclically and never reused while a map lives, so the map opened by that
 * ID right after the check is the table checked, or is gone (ENOENT). Not
 * BPF_F_RDONLY, which would be the least to give: a read-only fd cannot be
 * mmapped (keeper.h says why that is acceptable). */
static int answer_map(int sock)
{
	__u32 id;
	int fd;

	if (get_all(sock, &id, sizeof(id)))
		return -1;
	if (!table_current(id)) {
		send_fd(sock, EPERM, -1);
		return 0;
	}
	fd = bpf_map_get_fd_by_id(id);
	if (fd < 0) {
		send_fd(sock, errno > 0 && errno < 4096 ? (uint32_t)errno : EIO, -1);
		return 0;
	}
	send_fd(sock, 0, fd);
	close(fd);
	return 0;
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
	read_pin_dir(flags);
	open_outer();
	for (;;) {
		ssize_t r = read(fd, &req, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			_exit(0);
		if (req == 'R')
			answer(fd, flags);
		else if (req == 'M' && answer_map(fd))
			_exit(0); /* the proxy is gone mid-question */
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
	px_edgefd_install();
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

static int fetch(struct px_material *m, char *why, size_t why_len)
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

int px_keeper_fetch(struct px_material *m, char *why, size_t why_len)
{
	int rc;

	pthread_mutex_lock(&klock);
	rc = fetch(m, why, why_len);
	pthread_mutex_unlock(&klock);
	return rc;
}

/* The status word of an "M" answer and the fd riding with it: 0 and *fd, a
 * positive errno (no fd), or -1 when the stream is no longer usable. */
static int recv_fd(uint32_t *status, int *fd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { .iov_base = status, .iov_len = sizeof(*status) };
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl.buf,
		.msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *c;
	ssize_t r;

	*fd = -1;
	do
		r = recvmsg(kfd, &mh, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		return -1;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int)) && *fd < 0)
			memcpy(fd, CMSG_DATA(c), sizeof(int));
	/* The fd comes with the first byte; the rest of the word may lag. */
	if ((size_t)r < sizeof(*status) &&
	    get_all(kfd, (char *)status + r, sizeof(*status) - (size_t)r))
		goto bad;
	if ((mh.msg_flags & MSG_CTRUNC) || (!*status) != (*fd >= 0) || *status > 4095)
		goto bad;
	return 0;
bad:
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	return -1;
}

int px_keeper_map_fd(__u32 id)
{
	char req[1 + sizeof(id)] = { 'M' };
	uint32_t status;
	int fd = -ENOTCONN;

	memcpy(req + 1, &id, sizeof(id));
	pthread_mutex_lock(&klock);
	if (kfd < 0)
		goto out;
	if (put_all(kfd, req, sizeof(req)) || recv_fd(&status, &fd)) {
		gone();
		log_err("edge: the keeper stopped answering: list sync's tables cannot be "
			"read until a restart");
		fd = -ENOTCONN;
		goto out;
	}
	if (status)
		fd = -(int)status;
out:
	pthread_mutex_unlock(&klock);
	return fd;
}

void px_keeper_stop(void)
{
	px_edgefd_uninstall();
	pthread_mutex_lock(&klock);
	if (kfd >= 0) {
		close(kfd); /* the keeper reads the end of the stream and exits */
		kfd = -1;
		waitpid(kpid, NULL, 0);
	}
	pthread_mutex_unlock(&klock);
}
