// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_smtp_data.c - libFuzzer target for the DATA line-end machine
 * (sd_init/sd_feed), the SMTP-smuggling defence.
 *
 * Input: byte 0 picks the mode (bit 0: SD_REJECT or SD_NORMALIZE) and the
 * chunk size (bits 1-7: 1..128 bytes); byte 1 picks the limits (none, the real
 * 1000-byte line, a small line, or a small line and a small size); the rest is what the client
 * sends after "354". It is fed whole and in chunks, as the session feeds it (the unconsumed rest
 * stays for the command parser).
 *
 * Invariants (violations abort):
 *   - chunked gives the same done, bad, forwarded bytes and consumed count as
 *     whole ("the machine is resumable at any byte");
 *   - consumed <= input; short of done, everything offered is consumed; once
 *     done, nothing more is;
 *   - nothing forwarded holds a NUL;
 *   - a failed message forwards no end marker ("\r\n.\r\n", or ".\r\n" first);
 *   - a message that passes forwards no bare CR or LF, and when done ends in
 *     exactly one end marker, the last bytes;
 *   - in both modes, the message ends right after the first "\r\n.\r\n" of
 *     the stream (or a ".\r\n" it starts with) and nowhere else: a bare CR
 *     or LF never takes part in an end (SMTP smuggling through normalize);
 *   - SD_REJECT against a model: without limits it fails exactly when that part holds a bare CR, a
 *     bare LF or a NUL, for the first of them, and otherwise is forwarded
 *     byte for byte.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_smtp_data: %s\n", what);
	abort();
}

struct result {
	int done;
	int bad;
	size_t consumed;
	struct buf out;
};

static void run(int mode, size_t max_line, unsigned long long max_size, const char *in, size_t len,
		size_t step, struct result *r)
{
	struct sd_state s;
	size_t pos = 0;

	sd_init(&s, (enum sd_mode)mode, max_line, max_size);
	buf_init(&r->out, 0);
	while (pos < len && !s.done) {
		size_t n = step && step < len - pos ? step : len - pos, used;
		char *exact = malloc(n);

		if (!exact)
			abort();
		memcpy(exact, in + pos, n);
		used = sd_feed(&s, exact, n, &r->out);
		free(exact);
		if (used == (size_t)-1)
			fail("sd_feed returned -1 with an unlimited out");
		if (used > n)
			fail("consumed more than offered");
		if (!s.done && used != n)
			fail("not done, yet not everything consumed");
		pos += used;
	}
	if (s.done && pos < len) {
		char *exact = malloc(len - pos);

		if (!exact)
			abort();
		memcpy(exact, in + pos, len - pos);
		if (sd_feed(&s, exact, len - pos, &r->out) != 0)
			fail("consumed bytes after done");
		free(exact);
	}
	r->done = s.done;
	r->bad = (int)s.bad;
	r->consumed = pos;
}

static int bare_newline(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\r' && (i + 1 == n || p[i + 1] != '\n'))
			return 1;
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			return 1;
	}
	return 0;
}

/* The forwarded bytes ("" when there are none). */
static const char *out_ptr(const struct result *r)
{
	return buf_avail(&r->out) ? buf_ptr(&r->out) : "";
}

static void invariants(const struct result *r, size_t len)
{
	const char *o = out_ptr(r);
	size_t n = buf_avail(&r->out);

	if (r->consumed > len)
		fail("consumed past the input");
	if (!r->done && r->consumed != len)
		fail("not done, yet input left");
	if (n && memchr(o, '\0', n))
		fail("a NUL forwarded");
	if (r->bad) {
		if ((n && memmem(o, n, "\r\n.\r\n", 5)) || (n >= 3 && !memcmp(o, ".\r\n", 3)))
			fail("an end marker forwarded for a failed message");
		return;
	}
	if (bare_newline(o, n))
		fail("a bare CR or LF forwarded");
	if (r->done) {
		if (!(n == 3 && !memcmp(o, ".\r\n", 3)) &&
		    !(n >= 5 && !memcmp(o + n - 5, "\r\n.\r\n", 5)))
			fail("done, but what was forwarded does not end in the end marker");
		if (n > 3 && memmem(o, n - 3, "\r\n.\r\n", 5))
			fail("an end marker forwarded before the end");
	}
}

/* Where a message ends (both modes), and why SD_REJECT fails it without
 * limits (the first bare CR, bare LF or NUL before its end). */
static void end_model(const char *in, size_t len, int *done, size_t *end, int *bad)
{
	const char *m;
	size_t i;

	*done = 0;
	*end = len;
	if (len >= 3 && !memcmp(in, ".\r\n", 3)) {
		*done = 1;
		*end = 3;
	} else if (len && (m = memmem(in, len, "\r\n.\r\n", 5))) {
		*done = 1;
		*end = (size_t)(m - in) + 5;
	}
	*bad = SD_OK;
	for (i = 0; i < *end; i++) {
		if (in[i] == '\0') {
			*bad = SD_NUL;
			return;
		}
		if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r')) {
			*bad = SD_BARE_LF;
			return;
		}
		/* A CR at the very end of the input is not known to be bare yet. */
		if (in[i] == '\r' && i + 1 < len && in[i + 1] != '\n') {
			*bad = SD_BARE_CR;
			return;
		}
	}
}

/* A good message not ended yet: the bytes at its end the machine cannot
 * forward before it sees more (a CR, a "." or ".\r" at the start of a line). */
static size_t held_back(const char *in, size_t len, int done)
{
	if (done || !len)
		return 0;
	if (len >= 2 && in[len - 2] == '.' && in[len - 1] == '\r' &&
	    (len == 2 || (len >= 4 && in[len - 3] == '\n' && in[len - 4] == '\r')))
		return 2;
	if (in[len - 1] == '\r')
		return 1;
	if (in[len - 1] == '.' &&
	    (len == 1 || (len >= 3 && in[len - 2] == '\n' && in[len - 3] == '\r')))
		return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct result whole, chunked;
	unsigned long long max_size = 0;
	size_t max_line = 0, step, len, end;
	const char *in;
	int mode, done, bad;

	if (size < 2)
		return 0;
	mode = data[0] & 1 ? SD_NORMALIZE : SD_REJECT;
	step = 1 + (data[0] >> 1);
	switch (data[1] & 3) {
	case 0:
		break;
	case 1:
		max_line = 1000;
		break;
	case 2:
		max_line = 3 + (data[1] >> 2);
		break;
	case 3:
		/* both small: which is crossed first matters */
		max_size = (unsigned long long)(data[1] >> 2) * 2;
		max_line = 3 + (data[1] >> 4);
		break;
	}
	in = (const char *)data + 2;
	len = size - 2;

	run(mode, max_line, max_size, in, len, 0, &whole);
	run(mode, max_line, max_size, in, len, step, &chunked);
	invariants(&whole, len);
	invariants(&chunked, len);
	if (whole.done != chunked.done)
		fail("chunked: another done");
	if (whole.bad != chunked.bad)
		fail("chunked: another reason to fail");
	if (whole.consumed != chunked.consumed)
		fail("chunked: another consumed count");
	if (buf_avail(&whole.out) != buf_avail(&chunked.out) ||
	    memcmp(out_ptr(&whole), out_ptr(&chunked), buf_avail(&whole.out)))
		fail("chunked: other bytes forwarded");

	/* Both modes: only the first strict <CR><LF>.<CR><LF> ends a message. */
	end_model(in, len, &done, &end, &bad);
	if (whole.done != done || whole.consumed != end)
		fail("the message does not end after the first CRLF.CRLF");
	if (mode == SD_REJECT) {
		if (!max_line && !max_size) {
			if (whole.bad != bad)
				fail("reject: another reason to fail than the model's");
			if (!bad && (buf_avail(&whole.out) != end - held_back(in, len, done) ||
				     memcmp(out_ptr(&whole), in, buf_avail(&whole.out))))
				fail("reject: a good message not forwarded byte for byte");
		} else if (bad && !whole.bad) {
			fail("reject: a bare CR/LF or NUL passed with limits set");
		}
		if (buf_avail(&whole.out) > end ||
		    memcmp(out_ptr(&whole), in, buf_avail(&whole.out)))
			fail("reject: forwarded bytes are not the message's start");
	}
	buf_free(&whole.out);
	buf_free(&chunked.out);
	return 0;
}
