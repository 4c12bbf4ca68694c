/* SPDX-License-Identifier: GPL-2.0 */
/*
 * listparse.h - what every list parser shares: a line iterator that refuses
 * overlong lines and NUL bytes, one reader of ADDR[/LEN] words, and the error
 * record they fill. List sync's formats (listsync/listfmt.h), the plain list
 * format (listfile.h) and the loader's saved lists (listline.h) build on it.
 */
#ifndef ME_LISTPARSE_H
#define ME_LISTPARSE_H

#include <stddef.h>

#include "listfile.h"

/* Shared by the parsers: iterate lines; *line is not NUL-terminated. */
struct me_lines {
	const char *buf;
	size_t len, pos;
	unsigned long no;
};

/* Next line (without its LF or trailing CR); 0 at the end, -EINVAL with err
 * filled for a line over ME_LISTFILE_MAX_LINE bytes or containing NUL. */
int me_lines_next(struct me_lines *it, const char **line, size_t *llen, struct me_parse_err *err);
int me_parse_fail(struct me_parse_err *err, unsigned long line, const char *text, size_t tlen,
		  const char *why);
/* Parse one word (not NUL-terminated) as ADDR[/LEN] into *p; on failure fill err
 * and return -EINVAL, with too_long as the reason for an empty or overlong word. */
int me_fmt_prefix(const char *word, size_t wlen, unsigned int flags, struct me_prefix *p,
		  unsigned long line, struct me_parse_err *err, const char *too_long);
/* The same, then hand the prefix to cb. */
int me_fmt_emit(const char *word, size_t wlen, unsigned int flags, me_listfile_cb cb, void *ctx,
		unsigned long line, struct me_parse_err *err, const char *too_long);
/* Trim blanks at both ends. */
void me_trim(const char **s, size_t *len);

#endif
