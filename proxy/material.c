// SPDX-License-Identifier: GPL-2.0
/*
 * material.c - TLS files, read once, handed over as bytes (see material.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/openat2.h>
#include <openssl/crypto.h>

#include "material.h"

static struct px_file *find(const struct px_material *m, const char *path)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->f[i].path, path))
			return &m->f[i];
	return NULL;
}

int px_material_want(struct px_material *m, const char *path)
{
	struct px_file *g;

	if (!path || !*path || find(m, path))
		return 0;
	if (m->n == PX_MATERIAL_FILES)
		return -E2BIG;
	g = realloc(m->f, (m->n + 1) * sizeof(*g));
	if (!g)
		return -ENOMEM;
	m->f = g;
	memset(&g[m->n], 0, sizeof(g[0]));
	g[m->n].path = strdup(path);
	if (!g[m->n].path)
		return -ENOMEM;
	m->n++;
	return 0;
}

/* Read the file at path (f->path, or where its links lead) into f. A FIFO or
 * device is refused before it could block: O_NONBLOCK, then fstat. */
static int read_one(const char *path, struct px_file *f, char *why, size_t why_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	size_t got = 0;

	if (fd < 0) {
		snprintf(why, why_len, "%s: %s", f->path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > (off_t)PX_MATERIAL_FILE_MAX) {
		snprintf(why, why_len, "%s: not a regular file of at most 1 MiB", f->path);
		close(fd);
		return -1;
	}
	f->data = malloc((size_t)st.st_size + 1);
	if (!f->data) {
		snprintf(why, why_len, "%s: out of memory", f->path);
		close(fd);
		return -1;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, f->data + got, (size_t)st.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			snprintf(why, why_len, "%s: %s", f->path,
				 r ? strerror(errno) : "shorter than it was");
			close(fd);
			OPENSSL_cleanse(f->data, got);
			free(f->data);
			f->data = NULL;
			return -1;
		}
		got += (size_t)r;
	}
	close(fd);
	f->data[got] = '\0';
	f->len = got;
	return 0;
}

int px_material_read(struct px_material *m, char *why, size_t why_len)
{
	for (size_t i = 0; i < m->n; i++)
		if (!m->f[i].data && read_one(m->f[i].path, &m->f[i], why, why_len))
			return -1;
	return 0;
}

static int copy_path(char *dst, size_t len, const char *src, const char *path, char *why,
		     size_t why_len)
{
	size_t n = strlen(src);

	if (n >= len) {
		snprintf(why, why_len, "%s: %s", path, strerror(ENAMETOOLONG));
		return -1;
	}
	memcpy(dst, src, n + 1);
	return 0;
}

/*
 * path with every symbolic link on the way resolved, into out; -1 (why set)
 * when a link on the way is not root's. A proxy that may write to a directory
 * on the way (an OCSP file's, say) could otherwise plant a link there and
 * have the keeper read any file root can.
 */
static int resolve_roots_links(const char *path, char *out, size_t outlen, char *why,
			       size_t why_len)
{
	char rest[PATH_MAX], cur[PATH_MAX] = "", link[PATH_MAX], tmp[PATH_MAX * 2];
	int hops = 0;

	if (path[0] != '/') {
		snprintf(why, why_len, "%s: not an absolute path", path);
		return -1;
	}
	snprintf(rest, sizeof(rest), "%s", path);
	while (rest[0]) {
		char *comp = rest, *slash;
		struct stat st;
		ssize_t n;

		while (*comp == '/')
			comp++;
		if (!*comp)
			break;
		slash = strchr(comp, '/');
		if (slash)
			*slash = '\0';
		if (!strcmp(comp, "..")) {
			char *up = strrchr(cur, '/');

			if (up)
				*up = '\0';
		} else if (strcmp(comp, ".")) {
			snprintf(tmp, sizeof(tmp), "%s/%s", cur, comp);
			if (lstat(tmp, &st) == 0 && S_ISLNK(st.st_mode)) {
				if (st.st_uid != 0) {
					snprintf(why, why_len,
						 "%s: the link %s is not root's: not read as root",
						 path, tmp);
					return -1;
				}
				n = readlink(tmp, link, sizeof(link) - 1);
				if (n < 0 || ++hops > 40) {
					snprintf(why, why_len, "%s: %s", path,
						 n < 0 ? strerror(errno) : strerror(ELOOP));
					return -1;
				}
				link[n] = '\0';
				snprintf(tmp, sizeof(tmp), "%s%s%s", link, slash ? "/" : "",
					 slash ? slash + 1 : "");
				if (copy_path(rest, sizeof(rest), tmp, path, why, why_len))
					return -1;
				if (link[0] == '/')
					cur[0] = '\0';
				continue;
			}
			if (copy_path(cur, sizeof(cur), tmp, path, why, why_len))
				return -1;
		}
		if (!slash)
			break;
		memmove(rest, slash + 1, strlen(slash + 1) + 1);
	}
	snprintf(out, outlen, "%s", cur[0] ? cur : "/");
	return 0;
}

/* open(2) that follows no link at all (openat2 RESOLVE_NO_SYMLINKS, Linux
 * 5.6): a directory swapped for a link after resolve_roots_links() looked
 * fails the open instead of leading elsewhere. */
static int open_no_links(const char *path)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
		.resolve = RESOLVE_NO_SYMLINKS,
	};
	int fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));

	if (fd < 0 && errno == ENOSYS)
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
	return fd;
}

int px_material_read_root(struct px_material *m, char *why, size_t why_len)
{
	for (size_t i = 0; i < m->n; i++) {
		char real[PATH_MAX];
		struct stat st;
		int fd;

		if (m->f[i].data)
			continue;
		if (resolve_roots_links(m->f[i].path, real, sizeof(real), why, why_len))
			return -1;
		fd = open_no_links(real);
		if (fd < 0) {
			snprintf(why, why_len, "%s: %s", m->f[i].path, strerror(errno));
			return -1;
		}
		/* Only root's own files: the proxy reads the others itself, with
		 * its own rights, so root's never lend it more than it has. */
		if (fstat(fd, &st) || st.st_uid != 0) {
			close(fd);
			continue;
		}
		close(fd);
		if (read_one(real, &m->f[i], why, why_len))
			return -1;
	}
	return 0;
}

int px_material_set(struct px_material *m, const char *path, const char *data, size_t len)
{
	struct px_file *f;
	int rc = px_material_want(m, path);

	if (rc)
		return rc;
	f = find(m, path);
	if (f->data) {
		OPENSSL_cleanse(f->data, f->len);
		free(f->data);
	}
	f->data = malloc(len + 1);
	if (!f->data)
		return -ENOMEM;
	memcpy(f->data, data, len);
	f->data[len] = '\0';
	f->len = len;
	return 0;
}

const struct px_file *px_material_get(const struct px_material *m, const char *path)
{
	const struct px_file *f = find(m, path);

	return f && f->data ? f : NULL;
}

void px_material_strerror(int rc, char *why, size_t why_len)
{
	if (rc == -E2BIG)
		snprintf(why, why_len, "TLS files: more than %d named", PX_MATERIAL_FILES);
	else
		snprintf(why, why_len, "TLS files: %s", strerror(-rc));
}

void px_material_free(struct px_material *m)
{
	for (size_t i = 0; i < m->n; i++) {
		if (m->f[i].data) {
			OPENSSL_cleanse(m->f[i].data, m->f[i].len);
			free(m->f[i].data);
		}
		free(m->f[i].path);
	}
	free(m->f);
	m->f = NULL;
	m->n = 0;
}
