// SPDX-License-Identifier: GPL-2.0
/*
 * seen.c - what a list parser handed its callback, for the parser suites.
 */
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>

#include "seen.h"

int seen_collect(void *ctx, const struct me_prefix *p, unsigned long line)
{
	struct seen *s = ctx;

	if (s->n < MAX_SEEN) {
		me_prefix_format(p, s->text[s->n], sizeof(s->text[s->n]));
		s->line[s->n] = line;
		s->fixed[s->n] = p->host_bits_fixed;
	}
	s->n++;
	if (s->fail_at && s->n == s->fail_at)
		return s->fail_rc;
	return 0;
}

int seen_parse(me_fmt_parse_fn parse, const char *in, size_t len, unsigned int flags,
	       struct seen *s, struct me_parse_err *err)
{
	char *copy = malloc(len ? len : 1);
	int rc;

	cr_assert_not_null(copy);
	memcpy(copy, in, len);
	rc = parse(copy, len, flags, seen_collect, s, err);
	free(copy);
	return rc;
}

char *pad_line(size_t total, const char *head, char pad, const char *tail)
{
	size_t hl = strlen(head), tl = strlen(tail);
	char *b = malloc(total + 1);

	cr_assert_not_null(b);
	cr_assert(hl + tl <= total);
	memcpy(b, head, hl);
	memset(b + hl, pad, total - hl - tl);
	memcpy(b + total - tl, tail, tl);
	b[total] = '\0';
	return b;
}
