// SPDX-License-Identifier: GPL-2.0
/*
 * listfmt_target.h - the shared body of the four list-format fuzz targets
 * (fuzz_dshield, fuzz_ipset_save, fuzz_spamhaus_text, fuzz_spamhaus_json).
 *
 * Every me_fmt_* parser makes the same promises (see each target's header), so
 * one set of checks serves them all; a target only names itself and its parser.
 * Not named fuzz_*.c: the Makefile builds every one of those as a target.
 */
#ifndef LISTFMT_TARGET_H
#define LISTFMT_TARGET_H

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "listfile.h"
#include "listfmt.h"

/* The target's name, for the abort message. */
static const char *fuzz_name;

struct fctx {
	unsigned long last_line;
	unsigned long max_line; /* lines in the input */
	unsigned long calls;
	unsigned int flags;
};

static void fail(const char *what)
{
	fprintf(stderr, "%s: %s\n", fuzz_name, what);
	abort();
}

static int cb(void *ctx, const struct me_prefix *p, unsigned long line)
{
	struct fctx *f = ctx;
	struct me_prefix copy = *p;

	if (line < 1)
		fail("line number 0");
	if (line < f->last_line)
		fail("line numbers went backwards");
	if (line > f->max_line)
		fail("line number past the end of the input");
	f->last_line = line;
	f->calls++;

	if (p->family != AF_INET && p->family != AF_INET6)
		fail("family is neither AF_INET nor AF_INET6");
	if (p->len > me_prefix_maxlen(p->family))
		fail("prefix length longer than the family allows");
	if (me_prefix_mask(&copy))
		fail("host bits set after the prefix length");
	if (p->host_bits_fixed && !(f->flags & ME_PFX_CLEAR_HOST))
		fail("host_bits_fixed set without ME_PFX_CLEAR_HOST");
	return 0;
}

static void check_err(const struct me_parse_err *err, unsigned long max_line)
{
	const char *nul;

	/* A missing end marker is reported on the line after the last one. */
	if (err->line > max_line + 1)
		fail("error line number past the end of the input");
	nul = memchr(err->text, '\0', sizeof(err->text));
	if (!nul)
		fail("err.text not NUL-terminated");
	for (const char *c = err->text; c < nul; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
			fail("err.text holds a non-printable byte");
	nul = memchr(err->why, '\0', sizeof(err->why));
	if (!nul)
		fail("err.why not NUL-terminated");
	if (nul == err->why)
		fail("err.why is empty");
}

/*
 * Parse data with and without ME_PFX_CLEAR_HOST and abort on any broken
 * promise. enomem_ok: the parser allocates, so -ENOMEM is a legal outcome.
 */
static int listfmt_fuzz_one(const uint8_t *data, size_t size, const char *name,
			    me_fmt_parse_fn parse, int enomem_ok)
{
	static const unsigned int flag_sets[] = { ME_PFX_CLEAR_HOST, 0 };
	unsigned long lines = 0;
	unsigned long calls[2] = { 0, 0 };
	int rcs[2] = { 0, 0 };
	char *buf;
	size_t i;

	fuzz_name = name;
	/* An exact-size heap copy, so ASan catches a read past the end. */
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	if (size)
		memcpy(buf, data, size);
	for (i = 0; i < size; i++)
		if (buf[i] == '\n')
			lines++;
	if (size && buf[size - 1] != '\n')
		lines++;

	for (i = 0; i < 2; i++) {
		struct fctx f = { .flags = flag_sets[i], .max_line = lines };
		struct me_parse_err err;
		int rc;

		memset(&err, 0x5a, sizeof(err));
		rc = parse(buf, size, flag_sets[i], cb, &f, &err);
		if (rc != 0 && rc != -EINVAL && !(enomem_ok && rc == -ENOMEM))
			fail("unexpected return code");
		if (rc == -EINVAL)
			check_err(&err, lines);
		rcs[i] = rc;
		calls[i] = f.calls;
	}
	/* Clearing host bits can only let more lines through. */
	if (!rcs[1] && (rcs[0] || calls[0] != calls[1]))
		fail("ME_PFX_CLEAR_HOST refused a file accepted without it");
	free(buf);
	return 0;
}

#endif /* LISTFMT_TARGET_H */
