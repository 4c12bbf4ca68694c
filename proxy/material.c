// SPDX-License-Identifier: GPL-2.0
/*
 * material.c - TLS files, read once, handed over as bytes (see material.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
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

static int read_one(struct px_file *f, char *why, size_t why_len)
{
	int fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
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
		if (!m->f[i].data && read_one(&m->f[i], why, why_len))
			return -1;
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
