// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_listfile.c - libFuzzer target for me_listfile_parse.
 *
 * The input is a list file, parsed as it is (not NUL-terminated: the parser
 * takes a length), with and without ME_PFX_CLEAR_HOST. Every prefix handed to
 * the callback must be well formed and arrive with a line number that is >= 1,
 * never decreasing and within the input; a parse error must come with a line
 * number in range and NUL-terminated text and reason. Violations abort.
 *
 * The same input also goes through me_listline_parse, the admin's format with
 * list names and per-line options (listline.h): the same rules hold, and a
 * file the plain parser accepts must give it the same number of entries.
 *
 * The plain parser's dotted-quad fast path is checked against its general
 * path (ME_LISTFILE_NO_FAST): the same return code, the same prefixes with the
 * same line numbers in the same order, the same error record; and, with the
 * hosts going into an array that fills up part way, the same entries.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "listfile.h"
#include "listline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fctx {
	unsigned long last_line;
	unsigned long max_line; /* lines in the input */
	unsigned long calls;
	unsigned int flags;
	uint64_t seq; /* every prefix and its line, in order */
	uint64_t set; /* every prefix, in any order */
};

static uint64_t mix(uint64_t h, uint64_t w)
{
	h ^= w;
	h *= 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 29);
}

static uint64_t pfx_hash(const struct me_prefix *p)
{
	uint64_t a, b;

	memcpy(&a, p->addr, 8);
	memcpy(&b, p->addr + 8, 8);
	return mix(mix(mix(1, a), b), (uint64_t)p->family | (uint64_t)p->len << 16 |
					      (uint64_t)!!p->host_bits_fixed << 32);
}

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_listfile: %s\n", what);
	abort();
}

static int cb(void *ctx, const struct me_prefix *p, unsigned long line)
{
	struct fctx *f = ctx;
	char text[ME_PREFIX_STRLEN];
	struct me_prefix copy = *p, back;

	if (line < 1)
		fail("line number 0");
	if (line < f->last_line)
		fail("line numbers went backwards");
	if (line == f->last_line)
		fail("two addresses reported for one line");
	if (line > f->max_line)
		fail("line number past the end of the input");
	f->last_line = line;
	f->calls++;
	f->seq = mix(mix(f->seq, pfx_hash(p)), line);
	f->set += pfx_hash(p);

	if (p->family != AF_INET && p->family != AF_INET6)
		fail("family is neither AF_INET nor AF_INET6");
	if (p->len > me_prefix_maxlen(p->family))
		fail("prefix length longer than the family allows");
	if (me_prefix_mask(&copy))
		fail("host bits set after the prefix length");
	if (p->host_bits_fixed && !(f->flags & ME_PFX_CLEAR_HOST))
		fail("host_bits_fixed set without ME_PFX_CLEAR_HOST");
	me_prefix_format(p, text, sizeof(text));
	if (me_prefix_parse(text, &back, 0))
		fail("formatted prefix does not parse back");
	if (back.family != p->family || back.len != p->len ||
	    memcmp(back.addr, p->addr, sizeof(p->addr)))
		fail("re-parsed prefix differs");
	return 0;
}

static int line_cb(void *ctx, const struct me_list_line *l, unsigned long line)
{
	char t[ME_UTC_STRLEN];
	long long back;

	if (l->list != -1 && l->list != ME_LIST_BLACK && l->list != ME_LIST_WHITE)
		fail("listline: list is neither black, white nor unset");
	if (l->has_expires && l->expires) {
		if (me_utc_format(l->expires, t, sizeof(t)) ||
		    me_utc_parse(t, strlen(t), &back) || back != l->expires)
			fail("listline: expires= does not format and parse back");
	}
	if (memchr(l->source, '\0', sizeof(l->source)) == NULL)
		fail("listline: source not NUL-terminated");
	return cb(ctx, &l->pfx, line);
}

static void check_err(const struct me_parse_err *err, unsigned long max_line)
{
	const char *nul;

	if (err->line < 1 || err->line > max_line)
		fail("error line number out of range");
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
	static const unsigned int flag_sets[] = { 0, ME_PFX_CLEAR_HOST };
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
		rc = me_listfile_parse(buf, size, flag_sets[i], cb, &f, &err);
		if (rc != 0 && rc != -EINVAL)
			fail("unexpected return code");
		if (rc == -EINVAL)
			check_err(&err, lines);
		rcs[i] = rc;
		calls[i] = f.calls;
	}
	{
		struct fctx f = { .flags = 0, .max_line = lines };
		struct me_parse_err err;
		int rc;

		memset(&err, 0x5a, sizeof(err));
		rc = me_listline_parse(buf, size, 0, line_cb, &f, &err);
		if (rc != 0 && rc != -EINVAL)
			fail("listline: unexpected return code");
		if (rc == -EINVAL)
			check_err(&err, lines);
		if (!rcs[0] && (rc || f.calls != calls[0]))
			fail("listline refused or changed a file the plain parser accepts");
	}
	/* The fast path against the general one, and into an array. */
	for (i = 0; i < 2; i++) {
		struct fctx ff = { .flags = flag_sets[i], .max_line = lines };
		struct fctx fg = { .flags = flag_sets[i], .max_line = lines };
		struct fctx fa = { .flags = flag_sets[i], .max_line = lines };
		struct me_parse_err ef, eg, ea;
		uint32_t h[8];
		struct me_hosts4 h4 = { h, 0, size % 9 };
		int rf, rg, ra;
		size_t k;

		memset(&ef, 0, sizeof(ef));
		memset(&eg, 0, sizeof(eg));
		memset(&ea, 0, sizeof(ea));
		rf = me_listfile_parse_fast(buf, size, flag_sets[i], cb, &ff, NULL, &ef);
		rg = me_listfile_parse_fast(buf, size, flag_sets[i] | ME_LISTFILE_NO_FAST, cb, &fg,
					    NULL, &eg);
		if (rf != rg || ff.calls != fg.calls || ff.seq != fg.seq)
			fail("fast path and general path differ");
		if (rg &&
		    (ef.line != eg.line || strcmp(ef.text, eg.text) || strcmp(ef.why, eg.why)))
			fail("fast path and general path report another error");
		ra = me_listfile_parse_fast(buf, size, flag_sets[i], cb, &fa, &h4, &ea);
		if (ra != rg || (rg && (ea.line != eg.line || strcmp(ea.why, eg.why))))
			fail("fast path into an array: another result");
		for (k = 0; k < h4.n; k++) {
			struct me_prefix p = { .family = AF_INET, .len = 32 };

			p.addr[0] = (uint8_t)(h[k] >> 24);
			p.addr[1] = (uint8_t)(h[k] >> 16);
			p.addr[2] = (uint8_t)(h[k] >> 8);
			p.addr[3] = (uint8_t)h[k];
			fa.set += pfx_hash(&p);
		}
		if (!rg && (fa.calls + h4.n != fg.calls || fa.set != fg.set))
			fail("fast path into an array: other entries");
	}
	/* Clearing host bits can only let more lines through. */
	if (!rcs[0] && (rcs[1] || calls[1] != calls[0]))
		fail("ME_PFX_CLEAR_HOST refused a file accepted without it");
	free(buf);
	return 0;
}
