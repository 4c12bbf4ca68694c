// SPDX-License-Identifier: GPL-2.0
/*
 * listfile.c - the plain one-address-a-line list format.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hugemem.h"
#include "listfile.h"
#include "listparse.h"

static void escape(const char *in, size_t inlen, char *out, size_t outlen, int backslash)
{
	/* A cut is marked with "..." when the whole marker fits; a buffer too
	 * small for it gets a plain prefix. */
	size_t mark = outlen >= 4 ? 3 : 0;
	size_t o = 0, i;

	if (!outlen)
		return;
	for (i = 0; i < inlen; i++) {
		unsigned char c = (unsigned char)in[i];
		int plain = c >= 0x20 && c < 0x7f && (c != '\\' || !backslash);
		size_t need = plain ? 1 : 4;
		/* Room for the terminator and, unless this is the last byte, for
		 * the marker: an escape is never cut in half. */
		size_t reserve = 1 + (i + 1 < inlen ? mark : 0);

		if (o + need + reserve > outlen)
			break;
		if (plain)
			out[o] = (char)c;
		else
			snprintf(out + o, outlen - o, "\\x%02x", c);
		o += need;
	}
	if (i < inlen && mark) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

void me_escape(const char *in, size_t inlen, char *out, size_t outlen)
{
	escape(in, inlen, out, outlen, 1);
}

void me_escape_ctl(const char *in, size_t inlen, char *out, size_t outlen)
{
	escape(in, inlen, out, outlen, 0);
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/*
 * The line almost every big list is made of, "a.b.c.d" and its LF (or the end
 * of the buffer), read without the line iterator, the word splitter and
 * inet_pton. Only what inet_pton takes as it is: 1-3 digits an octet, no
 * leading zero, at most 255. Anything else (a comment, a blank, CR, a length,
 * an address written otherwise) is left to the general path, which then says
 * exactly what it always said about the line. Returns the bytes the line took
 * (LF included), 0 when it is not such a line.
 */
static inline __attribute__((always_inline)) size_t
dotted_quad_in(const char *p, const char *end, uint32_t *out, int bounded)
{
/* Whether s may be read: always, unbounded (see dotted_quad). */
#define HAVE(s) (!bounded || (s) < end)
	const char *s = p;
	uint32_t a = 0;
	int i;

	for (i = 0; i < 4; i++) {
		unsigned int v, d = 0;

		if (i) {
			if (!HAVE(s) || *s != '.')
				return 0;
			s++;
		}
		if (!HAVE(s) || (unsigned char)(*s - '0') > 9)
			return 0;
		v = (unsigned int)(*s++ - '0');
		if (v) /* "0" is an octet; "01" is not */
			for (d = 1; d < 3 && HAVE(s) && (unsigned char)(*s - '0') <= 9; d++)
				v = v * 10 + (unsigned int)(*s++ - '0');
		if (v > 255 || (HAVE(s) && (unsigned char)(*s - '0') <= 9))
			return 0;
		a = a << 8 | v;
	}
	if (HAVE(s) && *s != '\n')
		return 0;
	*out = a;
	return (size_t)(s - p) + HAVE(s);
#undef HAVE
}

/* The longest such line, "255.255.255.255" and its LF: the parse never reads
 * beyond it. With that much left in the buffer, no byte it reads needs a
 * check against the end, and the loop is that much shorter. */
#define QUAD_MAX 16

static size_t dotted_quad(const char *p, const char *end, uint32_t *out)
{
	if (end - p >= QUAD_MAX)
		return dotted_quad_in(p, end, out, 0);
	return dotted_quad_in(p, end, out, 1);
}

/* One line of the general path: 0 or an error. */
static int general_line(const char *l, size_t llen, unsigned long no, unsigned int flags,
			me_listfile_cb cb, void *ctx, struct me_parse_err *err)
{
	size_t a = 0, b, e;

	/* Cut the comment, then the blanks around the one word. */
	for (e = 0; e < llen && l[e] != '#' && l[e] != ';'; e++)
		;
	while (a < e && is_blank(l[a]))
		a++;
	while (e > a && is_blank(l[e - 1]))
		e--;
	if (a == e)
		return 0;
	for (b = a; b < e && !is_blank(l[b]); b++)
		;
	if (b != e)
		return me_parse_fail(err, no, l + a, e - a, "more than one word on the line");
	return me_fmt_emit(l + a, e - a, flags, cb, ctx, no, err, "not an IPv4 or IPv6 address");
}

int me_listfile_parse_fast(const char *buf, size_t len, unsigned int flags, me_listfile_cb cb,
			   void *ctx, struct me_hosts4 *h4, struct me_parse_err *err)
{
	return me_listfile_parse_part(buf, len, 0, flags, cb, ctx, h4, err);
}

int me_listfile_parse_part(const char *buf, size_t len, unsigned long first_line,
			   unsigned int flags, me_listfile_cb cb, void *ctx, struct me_hosts4 *h4,
			   struct me_parse_err *err)
{
	struct me_lines it = { .buf = buf, .len = len, .no = first_line };
	const char *end = buf + len, *l;
	int fast = !(flags & ME_LISTFILE_NO_FAST), more, rc;
	size_t llen, used;
	uint32_t a;

	flags &= ~(unsigned int)ME_LISTFILE_NO_FAST;
	for (;;) {
		if (fast && it.pos < len && (!h4 || h4->n < h4->cap) &&
		    (used = dotted_quad(buf + it.pos, end, &a))) {
			it.pos += used;
			it.no++;
			if (h4) {
				h4->v[h4->n++] = a;
				continue;
			}
			struct me_prefix p = { .family = AF_INET, .len = 32 };

			p.addr[0] = (uint8_t)(a >> 24);
			p.addr[1] = (uint8_t)(a >> 16);
			p.addr[2] = (uint8_t)(a >> 8);
			p.addr[3] = (uint8_t)a;
			rc = cb(ctx, &p, it.no);
			if (rc)
				return rc;
			continue;
		}
		more = me_lines_next(&it, &l, &llen, err);
		if (more <= 0)
			return more;
		rc = general_line(l, llen, it.no, flags, cb, ctx, err);
		if (rc)
			return rc;
	}
}

int me_listfile_parse(const char *buf, size_t len, unsigned int flags, me_listfile_cb cb,
		      void *ctx, struct me_parse_err *err)
{
	return me_listfile_parse_fast(buf, len, flags, cb, ctx, NULL, err);
}

int me_read_file(const char *path, size_t max, char **buf, size_t *len)
{
	struct stat st;
	size_t cap = 65536, n = 0;
	char *b = NULL, *grown;
	ssize_t r;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st))
		memset(&st, 0, sizeof(st));
	if (S_ISDIR(st.st_mode)) {
		rc = -EISDIR;
		goto out;
	}
	/* A regular file's size is room for all of it at once (one byte more
	 * sees it grow): no doubling and copying on the way to 100 MB. */
	if (S_ISREG(st.st_mode) && st.st_size > 0 && (size_t)st.st_size <= max)
		cap = (size_t)st.st_size + 1;
	for (;;) {
		if (n == cap || !b) {
			cap = b ? cap * 2 : cap;
			grown = realloc(b, cap + 1);
			if (!grown) {
				rc = -ENOMEM;
				goto out;
			}
			b = grown;
			me_hugepages(b, cap + 1);
		}
		r = read(fd, b + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			rc = -EFBIG;
			goto out;
		}
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	b = NULL;
out:
	free(b);
	close(fd);
	return rc;
}
