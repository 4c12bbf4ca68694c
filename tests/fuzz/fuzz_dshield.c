// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_dshield.c - libFuzzer target for me_fmt_dshield (DShield block.txt).
 *
 * The input is the downloaded file, parsed as it is (an exact-size heap copy,
 * not NUL-terminated: the parser takes a length), with ME_PFX_CLEAR_HOST as
 * list sync uses it and without. Every prefix handed to the callback must be
 * well formed (AF_INET or AF_INET6, length within the family, no host bits
 * left) and come with a line number that is >= 1, never decreasing and within
 * the input; a parse error must come with NUL-terminated, printable text and a
 * non-empty reason. Clearing host bits may only let more through. Violations
 * abort.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "listfile.h"
#include "listfmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fctx {
	unsigned long last_line;
	unsigned long max_line; /* lines in the input */
	unsigned long calls;
	unsigned int flags;
};

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_dshield: %s\n", what);
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned int flag_sets[] = { ME_PFX_CLEAR_HOST, 0 };
	unsigned long lines = 0;
	unsigned long calls[2] = { 0, 0 };
	int rcs[2] = { 0, 0 };
	char *buf;
	size_t i;

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
		rc = me_fmt_dshield(buf, size, flag_sets[i], cb, &f, &err);
		if (rc != 0 && rc != -EINVAL)
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
