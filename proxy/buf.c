// SPDX-License-Identifier: GPL-2.0
/*
 * buf.c - byte buffers for the proxy's connections.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

void buf_init(struct buf *b, size_t limit)
{
	memset(b, 0, sizeof(*b));
	b->limit = limit;
}

void buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b, b->limit);
}

void buf_reset(struct buf *b)
{
	b->off = b->len = 0;
}

/* Make room for n more bytes at the end, compacting first. */
static int grow(struct buf *b, size_t n)
{
	size_t need, cap;
	char *g;

	if (b->limit && buf_avail(b) + n > b->limit)
		return -ENOBUFS;
	if (b->off && (b->off > b->cap / 2 || b->len + n > b->cap)) {
		memmove(b->data, b->data + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
	}
	need = b->len + n;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 512;
	while (cap < need)
		cap *= 2;
	g = realloc(b->data, cap);
	if (!g)
		return -ENOMEM;
	b->data = g;
	b->cap = cap;
	return 0;
}

int buf_add(struct buf *b, const void *p, size_t n)
{
	int rc;

	if (!n)
		return 0; /* memcpy to a NULL buffer is undefined even for 0 bytes */
	rc = grow(b, n);

	if (rc)
		return rc;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= sizeof(tmp))
		n = sizeof(tmp) - 1; /* replies are short; a longer one is cut */
	return buf_add(b, tmp, (size_t)n);
}

void buf_consume(struct buf *b, size_t n)
{
	if (n >= buf_avail(b)) {
		b->off = b->len = 0;
		return;
	}
	b->off += n;
}

char *buf_reserve(struct buf *b, size_t want, size_t *got)
{
	size_t left = b->limit ? (b->limit > buf_avail(b) ? b->limit - buf_avail(b) : 0) : want;

	if (b->limit && !left)
		return NULL;
	if (want > left)
		want = left;
	if (grow(b, want))
		return NULL;
	*got = b->cap - b->len;
	if (b->limit && *got > left)
		*got = left;
	return b->data + b->len;
}

void buf_commit(struct buf *b, size_t n)
{
	b->len += n;
}
