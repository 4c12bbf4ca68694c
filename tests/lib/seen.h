/* SPDX-License-Identifier: GPL-2.0 */
/*
 * seen.h - what a list parser handed its callback, for the parser suites
 * (test_listfile.c, test_listfmt.c).
 */
#ifndef ME_TEST_SEEN_H
#define ME_TEST_SEEN_H

#include <stddef.h>

#include "addr.h"
#include "../../listsync/listfmt.h"

#define MAX_SEEN 16

/* What the callback saw. */
struct seen {
	int n;
	char text[MAX_SEEN][ME_PREFIX_STRLEN];
	unsigned long line[MAX_SEEN];
	int fixed[MAX_SEEN];
	int fail_at; /* with fail_rc: return it on this call (1-based) */
	int fail_rc;
};

/* The callback: records into the struct seen at ctx (the first MAX_SEEN). */
int seen_collect(void *ctx, const struct me_prefix *p, unsigned long line);

/* Parse an exact-size heap copy of in[0..len) (no terminator: ASan catches
 * overreads) with seen_collect. */
int seen_parse(me_fmt_parse_fn parse, const char *in, size_t len, unsigned int flags,
	       struct seen *s, struct me_parse_err *err);

/* A line of exactly total bytes: head, padding, tail (caller frees). */
char *pad_line(size_t total, const char *head, char pad, const char *tail);

#endif
