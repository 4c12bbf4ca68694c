// SPDX-License-Identifier: GPL-2.0
/*
 * listfile.c - the plain one-address-a-line list format.
 */
#include <errno.h>
#include <fcntl.h>
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

int me_listfile_parse(const char *buf, size_t len, unsigned int flags, me_listfile_cb cb,
		      void *ctx, struct me_parse_err *err)
{
	struct me_lines it = { .buf = buf, .len = len };
	const char *l;
	size_t llen;
	int more;

	while ((more = me_lines_next(&it, &l, &llen, err)) > 0) {
		size_t a = 0, b, e;
		int rc;

		/* Cut the comment, then the blanks around the one word. */
		for (e = 0; e < llen && l[e] != '#' && l[e] != ';'; e++)
			;
		while (a < e && is_blank(l[a]))
			a++;
		while (e > a && is_blank(l[e - 1]))
			e--;
		if (a == e)
			continue;
		for (b = a; b < e && !is_blank(l[b]); b++)
			;
		if (b != e)
			return me_parse_fail(err, it.no, l + a, e - a,
					     "more than one word on the line");
		rc = me_fmt_emit(l + a, e - a, flags, cb, ctx, it.no, err,
				 "not an IPv4 or IPv6 address");
		if (rc)
			return rc;
	}
	return more < 0 ? more : 0;
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
	if (!fstat(fd, &st) && S_ISDIR(st.st_mode)) {
		rc = -EISDIR;
		goto out;
	}
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
