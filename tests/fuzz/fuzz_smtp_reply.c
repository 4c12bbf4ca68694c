// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_smtp_reply.c - libFuzzer target for the backend reply parser:
 * px_reply_take, px_caps_parse, px_reply_last.
 *
 * Input: bytes 0-1 a split position; the rest is what a server sends. It goes
 * into a buffer whole, replies are taken until px_reply_take returns 0 or -1,
 * and each is checked and parsed as an EHLO reply. Then the same again with the
 * bytes arriving in two parts, split where bytes 0-1 say.
 *
 * Invariants (violations abort): rc is 1, 0 or -1; 0 and -1 consume nothing;
 * 1 consumes whole lines, each starting with the reply's 3-digit code, every
 * one but the last with '-' after it; the text is NUL-terminated, shorter than
 * PX_REPLY_TEXT, and the start of what was consumed ("as received, cut if
 * longer"), cut only if it had to be; the caps have only known bits, a SIZE
 * value only with the SIZE bit, AUTH mechanisms terminated; the last line's
 * text fits any buffer given; and the replies and the final rc do not depend on
 * how the bytes arrived.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_REPLIES 4096

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_smtp_reply: %s\n", what);
	abort();
}

struct seen {
	int n;
	int code[MAX_REPLIES];
	size_t consumed[MAX_REPLIES];
	int last_rc;
};

static void check_reply(const struct px_reply *r, const char *raw, size_t consumed)
{
	static const unsigned int known =
	    PX_CAP_PIPELINING | PX_CAP_SIZE | PX_CAP_8BITMIME | PX_CAP_SMTPUTF8 | PX_CAP_DSN |
	    PX_CAP_ENHANCED | PX_CAP_STARTTLS | PX_CAP_AUTH | PX_CAP_XCLIENT | PX_CAP_CHUNKING;
	struct px_caps caps;
	char last[PX_REPLY_TEXT];
	size_t off = 0;
	int lines = 0;

	if (r->code < 0 || r->code > 999)
		fail("code out of range");
	if (r->len >= sizeof(r->text) || r->text[r->len] != '\0')
		fail("text length out of range or not terminated");
	if (r->len > consumed || memcmp(r->text, raw, r->len))
		fail("text is not the start of what was consumed");
	if (!r->truncated && r->len != consumed)
		fail("text cut without truncated set");
	if (r->truncated && consumed < sizeof(r->text) - 1)
		fail("truncated though it would have fitted");
	/* The consumed bytes: whole lines of this code, '-' on all but the last. */
	while (off < consumed) {
		const char *l = raw + off, *lf = memchr(l, '\n', consumed - off);
		size_t n;

		if (!lf)
			fail("consumed a part of a line");
		n = (size_t)(lf - l) + 1;
		if (n < 4 || !isdigit((unsigned char)l[0]) || !isdigit((unsigned char)l[1]) ||
		    !isdigit((unsigned char)l[2]))
			fail("consumed a line without a code");
		if ((l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0') != r->code)
			fail("consumed a line of another code");
		off += n;
		lines++;
		if ((off < consumed) != (n > 4 && l[3] == '-'))
			fail("a continuation line is not marked, or the last one is");
	}
	if (lines != r->lines || !lines)
		fail("line count wrong");

	memset(&caps, 0x5a, sizeof(caps));
	px_caps_parse(r, &caps);
	if (caps.bits & ~known)
		fail("unknown capability bits");
	if (caps.size && !(caps.bits & PX_CAP_SIZE))
		fail("a SIZE value without SIZE");
	if (!memchr(caps.auth, '\0', sizeof(caps.auth)))
		fail("auth not terminated");
	if (caps.auth[0] && !(caps.bits & PX_CAP_AUTH))
		fail("AUTH mechanisms without AUTH");

	for (size_t len = 1; len < 8; len++) {
		const char *s = px_reply_last(r, last, len);

		if (s != last || strlen(last) >= len)
			fail("px_reply_last overran its buffer");
	}
	px_reply_last(r, last, sizeof(last));
	if (strchr(last, '\n') || strchr(last, '\r'))
		fail("px_reply_last kept a line end");
}

/* Take replies from in until 0 or -1; record them. */
static void take_all(struct buf *in, struct seen *s)
{
	static struct px_reply r;

	for (;;) {
		size_t before = buf_avail(in);
		const char *raw;
		int rc;

		if (!before) { /* px_reply_take is called with something to look at */
			s->last_rc = 0;
			return;
		}
		raw = buf_ptr(in);
		rc = px_reply_take(in, &r);
		if (rc != 1 && rc != 0 && rc != -1)
			fail("rc neither 1, 0 nor -1");
		if (rc != 1) {
			if (buf_avail(in) != before)
				fail("consumed without a reply");
			s->last_rc = rc;
			return;
		}
		if (buf_avail(in) >= before)
			fail("a reply that consumed nothing");
		check_reply(&r, raw, before - buf_avail(in));
		if (s->n == MAX_REPLIES)
			fail("too many replies");
		s->code[s->n] = r.code;
		s->consumed[s->n] = before - buf_avail(in);
		s->n++;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct seen whole, split;
	struct buf in;
	size_t k;

	if (size < 3)
		return 0;
	k = (size_t)(data[0] | data[1] << 8) % (size - 2);
	data += 2;
	size -= 2;

	/* Whole. */
	memset(&whole, 0, sizeof(whole));
	buf_init(&in, 0);
	if (buf_add(&in, data, size))
		abort();
	take_all(&in, &whole);
	buf_free(&in);

	/* In two parts: k bytes, then the rest. */
	memset(&split, 0, sizeof(split));
	buf_init(&in, 0);
	if (k) {
		if (buf_add(&in, data, k))
			abort();
		take_all(&in, &split);
	}
	if (split.last_rc != -1) {
		if (buf_add(&in, data + k, size - k))
			abort();
		take_all(&in, &split);
	}
	buf_free(&in);

	if (whole.n != split.n || whole.last_rc != split.last_rc)
		fail("the replies depend on how the bytes arrived");
	for (int i = 0; i < whole.n; i++)
		if (whole.code[i] != split.code[i] || whole.consumed[i] != split.consumed[i])
			fail("the replies depend on how the bytes arrived");
	return 0;
}
