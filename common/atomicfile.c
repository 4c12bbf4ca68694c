// SPDX-License-Identifier: GPL-2.0
/*
 * atomicfile.c - replace a file atomically (see atomicfile.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"

static int replace(const char *path, mode_t mode, me_render_fn render, void *ctx, int durable)
{
	const char *slash = strrchr(path, '/');
	int dlen = slash ? (int)(slash - path + 1) : 0, fd, rc;
	char tmp[PATH_MAX];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%.*s.%s.XXXXXX", dlen, path, slash ? slash + 1 : path) >=
	    (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* mkostemp makes 0600; a reader may run as another user. */
	if (fchmod(fd, mode)) {
		rc = -errno;
		close(fd);
		goto out;
	}
	f = fdopen(fd, "w");
	if (!f) {
		rc = -errno;
		close(fd);
		goto out;
	}
	rc = render(f, ctx);
	if (fflush(f) && !rc)
		rc = -errno;
	if (!rc && ferror(f))
		rc = -EIO;
	if (!rc && durable && fsync(fileno(f)))
		rc = -errno;
	if (fclose(f) && !rc)
		rc = -errno;
	if (!rc && rename(tmp, path))
		rc = -errno;
out:
	if (rc)
		unlink(tmp);
	return rc;
}

int me_file_replace(const char *path, mode_t mode, me_render_fn render, void *ctx)
{
	return replace(path, mode, render, ctx, 1);
}

struct mem {
	const void *buf;
	size_t len;
};

static int write_mem(FILE *f, void *ctx)
{
	const struct mem *m = ctx;

	if (m->len && fwrite(m->buf, 1, m->len, f) != m->len)
		return errno ? -errno : -EIO;
	return 0;
}

int me_file_replace_buf(const char *path, mode_t mode, const void *buf, size_t len)
{
	struct mem m = { buf, len };

	return replace(path, mode, write_mem, &m, 1);
}

int me_file_replace_buf_nosync(const char *path, mode_t mode, const void *buf, size_t len)
{
	struct mem m = { buf, len };

	return replace(path, mode, write_mem, &m, 0);
}
