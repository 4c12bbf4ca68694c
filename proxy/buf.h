/* SPDX-License-Identifier: GPL-2.0 */
/*
 * buf.h - a byte buffer with a read offset: append at the end, consume from the
 * front, compact when the consumed part dominates. Bounded by a limit so that
 * no peer can make a session grow without end.
 */
#ifndef PX_BUF_H
#define PX_BUF_H

#include <stddef.h>

struct buf {
	char *data;
	size_t off; /* first unconsumed byte */
	size_t len; /* end of data */
	size_t cap;
	size_t limit; /* most bytes it may hold unconsumed; 0 = no limit */
};

void buf_init(struct buf *b, size_t limit);
void buf_free(struct buf *b);

static inline size_t buf_avail(const struct buf *b)
{
	return b->len - b->off;
}

/* Never NULL, even for a buffer that holds no memory (it is given back when
 * empty): memchr/memcpy of zero bytes from NULL is undefined behaviour. */
static inline const char *buf_ptr(const struct buf *b)
{
	return b->data ? b->data + b->off : "";
}

/* Append; -ENOBUFS past the limit (nothing appended), -ENOMEM. */
int buf_add(struct buf *b, const void *p, size_t n);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_consume(struct buf *b, size_t n);
void buf_reset(struct buf *b);
/* Room to read into directly: returns a pointer to at least want bytes. */
char *buf_reserve(struct buf *b, size_t want, size_t *got);
void buf_commit(struct buf *b, size_t n);

#endif
