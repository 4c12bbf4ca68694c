/* SPDX-License-Identifier: GPL-2.0 */
/*
 * listfile.h - parse a plain address list: one address or CIDR a line.
 *
 * Accepted: blank lines; comments from '#' or ';' to the end of the line; leading
 * and trailing blanks; CRLF line ends. Each non-comment line holds exactly one
 * ADDR[/LEN]. Anything else (a second word, a NUL byte, a line over 1 KiB, an
 * address that does not parse) is an error naming the line, and the caller gets
 * no entries at all from a file that has one: a half-read list is worse than none.
 */
#ifndef ME_LISTFILE_H
#define ME_LISTFILE_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define ME_LISTFILE_MAX_LINE 1024

struct me_parse_err {
	unsigned long line; /* 1-based */
	char text[80];	    /* the offending text, escaped and truncated */
	char why[96];
};

/* Called once per address; returns 0 to go on, or -errno to abort. */
typedef int (*me_listfile_cb)(void *ctx, const struct me_prefix *p, unsigned long line);

/*
 * Parse buf (len bytes, not NUL-terminated). flags are ME_PFX_* for the address
 * parser. Returns 0, -EINVAL with *err filled for bad input, or the callback's
 * error.
 */
int me_listfile_parse(const char *buf, size_t len, unsigned int flags, me_listfile_cb cb,
		      void *ctx, struct me_parse_err *err);

/*
 * The same, faster for what big lists are made of. A line that is exactly a
 * dotted quad "a.b.c.d" (then LF, or the end of buf) is read without the
 * general path: into h4 while it has room (host order; cb never sees it),
 * else handed to cb as the /32 it is, as me_listfile_parse does. Any other
 * line goes through the general path, so every error, line number and
 * refusal is the one me_listfile_parse gives. flags may also hold
 * ME_LISTFILE_NO_FAST: every line takes the general path (the reference the
 * tests and the fuzz target compare with).
 */
#define ME_LISTFILE_NO_FAST 0x10000u
struct me_hosts4 {
	uint32_t *v;
	size_t n, cap;
};
int me_listfile_parse_fast(const char *buf, size_t len, unsigned int flags, me_listfile_cb cb,
			   void *ctx, struct me_hosts4 *h4, struct me_parse_err *err);
/* The same for a part of a file that starts after its first_line lines (buf
 * at the start of a line): line numbers are the whole file's. */
int me_listfile_parse_part(const char *buf, size_t len, unsigned long first_line,
			   unsigned int flags, me_listfile_cb cb, void *ctx, struct me_hosts4 *h4,
			   struct me_parse_err *err);

/* Copy untrusted text into out (size outlen) with non-printables escaped. */
void me_escape(const char *in, size_t inlen, char *out, size_t outlen);

/* The same, but a backslash stays as it is: for a message that may quote text
 * me_escape already made safe, which would otherwise show its escapes escaped
 * again ("\x5cxe0"). Control bytes and non-ASCII still cannot get through. */
void me_escape_ctl(const char *in, size_t inlen, char *out, size_t outlen);

/* Read a whole file (at most max bytes) into a malloc'd buffer. */
int me_read_file(const char *path, size_t max, char **buf, size_t *len);

#endif
