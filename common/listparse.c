// SPDX-License-Identifier: GPL-2.0
/*
 * listparse.c - the line iterator and prefix reader every list parser shares:
 * list sync's formats, the admin's plain lists and the loader's saved lists.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "listparse.h"

int me_parse_fail(struct me_parse_err *err, unsigned long line, const char *text, size_t tlen,
		  const char *why)
{
	err->line = line;
	me_escape(text, tlen, err->text, sizeof(err->text));
	snprintf(err->why, sizeof(err->why), "%s", why);
	return -EINVAL;
}

int me_fmt_prefix(const char *word, size_t wlen, unsigned int flags, struct me_prefix *p,
		  unsigned long line, struct me_parse_err *err, const char *too_long)
{
	char buf[ME_PREFIX_STRLEN + 1];
	int rc;

	if (!wlen || wlen >= sizeof(buf))
		return me_parse_fail(err, line, word, wlen, too_long);
	memcpy(buf, word, wlen);
	buf[wlen] = '\0';
	rc = me_prefix_parse(buf, p, flags);
	if (rc)
		return me_parse_fail(err, line, word, wlen, me_addr_strerror(rc));
	return 0;
}

int me_fmt_emit(const char *word, size_t wlen, unsigned int flags, me_listfile_cb cb, void *ctx,
		unsigned long line, struct me_parse_err *err, const char *too_long)
{
	struct me_prefix p;
	int rc;

	rc = me_fmt_prefix(word, wlen, flags, &p, line, err, too_long);
	if (rc)
		return rc;
	return cb(ctx, &p, line);
}

int me_lines_next(struct me_lines *it, const char **line, size_t *llen, struct me_parse_err *err)
{
	const char *l, *nl;
	size_t n;

	if (it->pos >= it->len)
		return 0;
	l = it->buf + it->pos;
	nl = memchr(l, '\n', it->len - it->pos);
	n = nl ? (size_t)(nl - l) : it->len - it->pos;
	it->pos += n + (nl ? 1 : 0);
	it->no++;
	if (n > ME_LISTFILE_MAX_LINE)
		return me_parse_fail(err, it->no, l, n, "line longer than 1024 bytes");
	if (memchr(l, '\0', n))
		return me_parse_fail(err, it->no, l, n, "NUL byte: not a text list");
	if (n && l[n - 1] == '\r')
		n--;
	*line = l;
	*llen = n;
	return 1;
}

void me_trim(const char **s, size_t *len)
{
	while (*len && (**s == ' ' || **s == '\t' || **s == '\r'))
		(*s)++, (*len)--;
	while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t' || (*s)[*len - 1] == '\r'))
		(*len)--;
}
