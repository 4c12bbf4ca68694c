// SPDX-License-Identifier: GPL-2.0
/*
 * test_smtp_data.c - the DATA line-end machine, the proxy's defence against
 * SMTP smuggling (CVE-2023-51764/5/6).
 *
 * Every vector is a message whose text "ends" in a way some server might
 * accept and mailedge must not ("\n.\n", "\r.\r", ...), followed by a smuggled
 * transaction (MAIL, RCPT, DATA, a message, a strict <CR><LF>.<CR><LF>) and a
 * pipelined QUIT. Each is fed whole, split in two at every byte, and one byte at
 * a time, in the mode the case names; every way must give the same result:
 * done, why it failed, the exact bytes forwarded, and what is left unconsumed
 * for the command parser. Whatever the split:
 *
 *   - SD_REJECT: a failed message forwards no end marker, and the smuggled
 *     commands are consumed as message content, never left as commands;
 *   - SD_NORMALIZE: what is forwarded has no bare CR or LF and ends exactly in
 *     "\r\n.\r\n" (".\r\n" for an empty message): the backend sees the end
 *     mailedge saw, so the commands after it are the ones mailedge parses.
 *     And that end is only ever a strict <CR><LF>.<CR><LF>: a line of "."
 *     beside a bare line end is content (forwarded "..\r\n"), so the smuggled
 *     transaction stays inside the carrier message, as Postfix's normalize
 *     keeps it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "../proxy/smtp_data.h"
#include "lib/held.h"

#define R SD_REJECT
#define N SD_NORMALIZE

/* ---- the harness ---- */

/* Exact-size heap copies for sd_feed (ASan sees a read past the end), freed
 * by .fini too when a failed assertion leaves the test early. */
static struct th_held held = { .cap = 4 };
static struct buf out_buf;

static void release(void)
{
	th_release(&held);
	buf_free(&out_buf);
}

TestSuite(smtp_data, .fini = release);

struct limits {
	int mode;
	size_t max_line;
	unsigned long long max_size;
};

struct result {
	int done;
	int bad;
	size_t consumed;
	unsigned long long size;
	size_t outlen;
	char out[8192];
};

/*
 * Feed in[0..len) as the session does: whatever arrived, the unconsumed rest
 * kept for the commands. The first chunk is `first` bytes (0: none of its own),
 * the rest goes in chunks of `step` bytes (0: all at once). Returns 0, or -1 if
 * sd_feed returned (size_t)-1.
 */
static int run(const struct limits *l, const char *in, size_t len, size_t first, size_t step,
	       struct result *r)
{
	struct sd_state s;
	size_t pos = 0, end;

	sd_init(&s, (enum sd_mode)l->mode, l->max_line, l->max_size);
	buf_free(&out_buf);
	buf_init(&out_buf, 0);
	while (pos < len && !s.done) {
		size_t used;
		char *exact;

		if (first && pos < first)
			end = first;
		else
			end = step ? pos + step : len;
		if (end > len)
			end = len;
		exact = th_hold(&held, in + pos, end - pos);
		used = sd_feed(&s, exact, end - pos, &out_buf);
		th_let_go(&held, exact);
		if (used == (size_t)-1)
			return -1;
		cr_assert_leq(used, end - pos, "got %zu consumed of %zu offered", used, end - pos);
		/* Short of the end marker, everything offered is taken. */
		if (!s.done)
			cr_assert_eq(used, end - pos, "got %zu consumed of %zu without done", used,
				     end - pos);
		pos += used;
	}
	/* Once done, nothing more is taken. */
	if (s.done && pos < len) {
		char *exact = th_hold(&held, in + pos, len - pos);
		size_t used = sd_feed(&s, exact, len - pos, &out_buf);

		th_let_go(&held, exact);
		cr_assert_eq(used, 0, "got %zu bytes consumed after done, want 0", used);
	}
	memset(r, 0, sizeof(*r));
	r->done = s.done;
	r->bad = (int)s.bad;
	r->consumed = pos;
	r->size = s.size;
	r->outlen = buf_avail(&out_buf);
	cr_assert_lt(r->outlen, sizeof(r->out), "got %zu bytes forwarded, more than the test holds",
		     r->outlen);
	if (r->outlen)
		memcpy(r->out, buf_ptr(&out_buf), r->outlen);
	return 0;
}

static const char *bad_name(int bad)
{
	static const char *const names[] = { "SD_OK",  "SD_BARE_LF",   "SD_BARE_CR",
					     "SD_NUL", "SD_LONG_LINE", "SD_TOO_BIG" };

	return bad >= 0 && bad <= SD_TOO_BIG ? names[bad] : "?";
}

/* Printable, for messages: CR, LF and NUL spelled out, long text cut. */
static const char *show(const char *p, size_t n)
{
	return th_show(p, n, 512);
}

static int contains(const char *hay, size_t n, const char *needle)
{
	return memmem(hay, n, needle, strlen(needle)) != NULL;
}

/* A bare CR or LF: one that is not part of a CRLF. */
static long bare_newline(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\r' && (i + 1 == n || p[i + 1] != '\n'))
			return (long)i;
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			return (long)i;
	}
	return -1;
}

/* Lines of p[0..n) that start with a dot and go on: stuffed lines. */
static size_t stuffed(const char *p, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i + 1 < n; i++)
		if ((i == 0 || p[i - 1] == '\n') && p[i] == '.' && p[i + 1] != '\r')
			k++;
	return k;
}

/* What must hold for every message, however it was split. */
static void invariants(const char *name, const char *how, const struct result *r, size_t len)
{
	long b;

	cr_assert_leq(r->consumed, len, "%s (%s): got consumed past the input", name, how);
	cr_assert_null(memchr(r->out, '\0', r->outlen), "%s (%s): got a NUL forwarded", name, how);
	if (!r->done)
		cr_assert_eq(r->consumed, len, "%s (%s): got %zu consumed of %zu, not done", name,
			     how, r->consumed, len);
	if (r->bad) {
		/* A failed message never reaches its end at the backend. */
		cr_assert(!contains(r->out, r->outlen, "\r\n.\r\n") &&
			      !(r->outlen >= 3 && !memcmp(r->out, ".\r\n", 3)),
			  "%s (%s): got an end marker forwarded for a failed message: '%s'", name,
			  how, show(r->out, r->outlen));
		return;
	}
	/* Forwarded lines end in CRLF, and nothing else does. */
	b = bare_newline(r->out, r->outlen);
	cr_assert_eq(b, -1, "%s (%s): got a bare CR/LF forwarded at %ld: '%s'", name, how, b,
		     show(r->out, r->outlen));
	if (r->done) {
		cr_assert((r->outlen == 3 && !memcmp(r->out, ".\r\n", 3)) ||
			      (r->outlen >= 5 && !memcmp(r->out + r->outlen - 5, "\r\n.\r\n", 5)),
			  "%s (%s): got '%s' forwarded, want it to end in \\r\\n.\\r\\n", name, how,
			  show(r->out, r->outlen));
		/* Exactly one end marker: the last bytes. */
		cr_assert(!contains(r->out, r->outlen - 3, "\r\n.\r\n"),
			  "%s (%s): got an end marker before the end: '%s'", name, how,
			  show(r->out, r->outlen));
		/* The size: what was forwarded but the end marker (RFC 1870 leaves
		 * out stuffing dots too, see size_excludes_stuffing_dot). */
		cr_assert(r->size <= r->outlen - 3 &&
			      r->size + stuffed(r->out, r->outlen) >= r->outlen - 3,
			  "%s (%s): got size %llu for %zu bytes forwarded", name, how, r->size,
			  r->outlen);
	}
}

static void same(const char *name, const char *how, const struct result *a,
		 const struct result *want)
{
	cr_assert_eq(a->done, want->done, "%s (%s): got done %d, want %d", name, how, a->done,
		     want->done);
	cr_assert_eq(a->bad, want->bad, "%s (%s): got bad %s, want %s", name, how, bad_name(a->bad),
		     bad_name(want->bad));
	cr_assert_eq(a->consumed, want->consumed, "%s (%s): got consumed %zu, want %zu", name, how,
		     a->consumed, want->consumed);
	cr_assert(a->outlen == want->outlen && !memcmp(a->out, want->out, a->outlen),
		  "%s (%s): got out '%s', want '%s'", name, how, show(a->out, a->outlen),
		  show(want->out, want->outlen));
}

/*
 * Run in[0..len) whole, split in two at every byte, and byte by byte; check
 * each against want (what the whole feed must give) and the invariants.
 */
static void every_split(const char *name, const struct limits *l, const char *in, size_t len,
			const struct result *want)
{
	static struct result r;
	char how[48];

	cr_assert_eq(run(l, in, len, 0, 0, &r), 0, "%s (whole): got -1", name);
	invariants(name, "whole", &r, len);
	same(name, "whole", &r, want);
	for (size_t k = 1; k < len; k++) {
		snprintf(how, sizeof(how), "split at %zu", k);
		cr_assert_eq(run(l, in, len, k, 0, &r), 0, "%s (%s): got -1", name, how);
		invariants(name, how, &r, len);
		same(name, how, &r, want);
	}
	cr_assert_eq(run(l, in, len, 0, 1, &r), 0, "%s (byte by byte): got -1", name);
	invariants(name, "byte by byte", &r, len);
	same(name, "byte by byte", &r, want);
	for (size_t step = 2; step < 8; step++) {
		snprintf(how, sizeof(how), "%zu bytes at a time", step);
		cr_assert_eq(run(l, in, len, 0, step, &r), 0, "%s (%s): got -1", name, how);
		invariants(name, how, &r, len);
		same(name, how, &r, want);
	}
}

/* ---- smuggling vectors ---- */

/* The message before the vector: its last line not yet ended. */
#define PRE "From: a@example.com\r\nTo: b@example.org\r\nSubject: t\r\n\r\nbody"
/* What a smuggler puts after a fake end: a transaction of its own. */
#define SMUGGLED                                                                                   \
	"MAIL FROM:<evil@example.com>\r\nRCPT TO:<victim@example.org>\r\nDATA\r\n"                 \
	"From: ceo@example.org\r\n\r\nsmuggled\r\n.\r\n"
#define QUIT "QUIT\r\n"
#define EVIL "MAIL FROM:<evil@"

struct vcase {
	char name[56];
	int mode;
	char in[400];
	size_t len;
	int done;
	int bad;
	char out[400];
	char rest[400]; /* left unconsumed, for the command parser */
	size_t restlen;
};

#define VEC(n, m, input, d, b, o, r)                                                               \
	{                                                                                          \
		.name = n, .mode = m, .in = input, .len = sizeof(input) - 1, .done = d, .bad = b,  \
		.out = o, .rest = r, .restlen = sizeof(r) - 1                                      \
	}

static const struct vcase vcases[] = {
	/* the proper end, for reference */
	VEC("crlf.crlf", R, PRE "\r\n.\r\n" QUIT, 1, SD_OK, PRE "\r\n.\r\n", QUIT),
	VEC("crlf.crlf", N, PRE "\r\n.\r\n" QUIT, 1, SD_OK, PRE "\r\n.\r\n", QUIT),

	/* \n.\n */
	VEC("lf.lf", R, PRE "\n.\n" SMUGGLED QUIT, 1, SD_BARE_LF, PRE, QUIT),
	VEC("lf.lf", N, PRE "\n.\n" SMUGGLED QUIT, 1, SD_OK, PRE "\r\n..\r\n" SMUGGLED, QUIT),
	/* \r.\r */
	VEC("cr.cr", R, PRE "\r.\r" SMUGGLED QUIT, 1, SD_BARE_CR, PRE, QUIT),
	VEC("cr.cr", N, PRE "\r.\r" SMUGGLED QUIT, 1, SD_OK, PRE "\r\n..\r\n" SMUGGLED, QUIT),
	/* \n.\r\n */
	VEC("lf.crlf", R, PRE "\n.\r\n" SMUGGLED QUIT, 1, SD_BARE_LF, PRE, QUIT),
	VEC("lf.crlf", N, PRE "\n.\r\n" SMUGGLED QUIT, 1, SD_OK, PRE "\r\n..\r\n" SMUGGLED, QUIT),
	/* \r\n.\n */
	VEC("crlf.lf", R, PRE "\r\n.\n" SMUGGLED QUIT, 1, SD_BARE_LF, PRE "\r\n", QUIT),
	VEC("crlf.lf", N, PRE "\r\n.\n" SMUGGLED QUIT, 1, SD_OK, PRE "\r\n..\r\n" SMUGGLED, QUIT),
	/* \r\n.\r */
	VEC("crlf.cr", R, PRE "\r\n.\r" SMUGGLED QUIT, 1, SD_BARE_CR, PRE "\r\n", QUIT),
	VEC("crlf.cr", N, PRE "\r\n.\r" SMUGGLED QUIT, 1, SD_OK, PRE "\r\n..\r\n" SMUGGLED, QUIT),
	/* \r.\r\n */
	VEC("cr.crlf", R, PRE "\r.\r\n" SMUGGLED QUIT, 1, SD_BARE_CR, PRE, QUIT),
	VEC("cr.crlf", N, PRE "\r.\r\n" SMUGGLED QUIT, 1, SD_OK, PRE "\r\n..\r\n" SMUGGLED, QUIT),
	/* \n.\r */
	VEC("lf.cr", R, PRE "\n.\r" SMUGGLED QUIT, 1, SD_BARE_LF, PRE, QUIT),
	VEC("lf.cr", N, PRE "\n.\r" SMUGGLED QUIT, 1, SD_OK, PRE "\r\n..\r\n" SMUGGLED, QUIT),
	/* \r\n.\r\r\n: the dot's line ends in a bare CR */
	VEC("crlf.cr crlf", R, PRE "\r\n.\r\r\n" SMUGGLED QUIT, 1, SD_BARE_CR, PRE "\r\n", QUIT),
	VEC("crlf.cr crlf", N, PRE "\r\n.\r\r\n" SMUGGLED QUIT, 1, SD_OK,
	    PRE "\r\n..\r\n\r\n" SMUGGLED, QUIT),
	/* NUL before and after the dot: fails in both modes */
	VEC("crlf nul.crlf", R, PRE "\r\n\0.\r\n" SMUGGLED QUIT, 1, SD_NUL, PRE "\r\n", QUIT),
	VEC("crlf nul.crlf", N, PRE "\r\n\0.\r\n" SMUGGLED QUIT, 1, SD_NUL, PRE "\r\n", QUIT),
	VEC("crlf.nul crlf", R, PRE "\r\n.\0\r\n" SMUGGLED QUIT, 1, SD_NUL, PRE "\r\n", QUIT),
	VEC("crlf.nul crlf", N, PRE "\r\n.\0\r\n" SMUGGLED QUIT, 1, SD_NUL, PRE "\r\n", QUIT),
	VEC("lf nul.lf", N, PRE "\n\0.\n" SMUGGLED QUIT, 1, SD_NUL, PRE "\r\n", QUIT),
	VEC("lf.nul lf", N, PRE "\n.\0\n" SMUGGLED QUIT, 1, SD_NUL, PRE "\r\n", QUIT),
	VEC("nul at the start", R, "\0.\r\n" SMUGGLED QUIT, 1, SD_NUL, "", QUIT),
	VEC("nul at the start", N, ".\0\r\n" SMUGGLED QUIT, 1, SD_NUL, "", QUIT),
	/* normalised, a bare CR ends the dot's line (content), then the NUL fails it */
	VEC("crlf.cr nul", R, PRE "\r\n.\r\0" SMUGGLED QUIT, 1, SD_BARE_CR, PRE "\r\n", QUIT),
	VEC("crlf.cr nul", N, PRE "\r\n.\r\0" SMUGGLED QUIT, 1, SD_NUL, PRE "\r\n..\r\n", QUIT),
	/* a NUL, then a proper end: the message fails, what follows is commands */
	VEC("nul then crlf.crlf", R, PRE "\0\r\n.\r\n" QUIT, 1, SD_NUL, PRE, QUIT),
	VEC("nul then crlf.crlf", N, PRE "\0\r\n.\r\n" QUIT, 1, SD_NUL, PRE, QUIT),
	/* a NUL after a CR */
	VEC("cr nul", R, "a\r\0b\r\n.\r\n" QUIT, 1, SD_BARE_CR, "a", QUIT),
	VEC("cr nul", N, "a\r\0b\r\n.\r\n" QUIT, 1, SD_NUL, "a\r\n", QUIT),

	/* .\r\n at the very start: an empty message */
	VEC("empty message", R, ".\r\n" QUIT, 1, SD_OK, ".\r\n", QUIT),
	VEC("empty message", N, ".\r\n" QUIT, 1, SD_OK, ".\r\n", QUIT),
	VEC("empty message, bare lf", R, ".\n" SMUGGLED QUIT, 1, SD_BARE_LF, "", QUIT),
	VEC("empty message, bare lf", N, ".\n" SMUGGLED QUIT, 1, SD_OK, "..\r\n" SMUGGLED, QUIT),
	VEC("bare lf first", R, "\n.\r\n" SMUGGLED QUIT, 1, SD_BARE_LF, "", QUIT),
	VEC("bare lf first", N, "\n.\r\n" SMUGGLED QUIT, 1, SD_OK, "\r\n..\r\n" SMUGGLED, QUIT),
	VEC("bare cr first", R, "\r.\r\n" SMUGGLED QUIT, 1, SD_BARE_CR, "", QUIT),
	VEC("bare cr first", N, "\r.\r\n" SMUGGLED QUIT, 1, SD_OK, "\r\n..\r\n" SMUGGLED, QUIT),

	/* dots that are not the end, forwarded as they came */
	VEC("stuffing", R, PRE "\r\n..\r\n...\r\nx.\r\n.x\r\n. \r\n.\r\n" QUIT, 1, SD_OK,
	    PRE "\r\n..\r\n...\r\nx.\r\n.x\r\n. \r\n.\r\n", QUIT),
	VEC("stuffing", N, PRE "\r\n..\r\n...\r\nx.\r\n.x\r\n. \r\n.\r\n" QUIT, 1, SD_OK,
	    PRE "\r\n..\r\n...\r\nx.\r\n.x\r\n. \r\n.\r\n", QUIT),
	VEC("stuffed line first", R, "..\r\n.\r\n" QUIT, 1, SD_OK, "..\r\n.\r\n", QUIT),
	VEC("stuffed, bare lf", N, "..\n...\nx.\n.\n\r\n.\r\n" QUIT, 1, SD_OK,
	    "..\r\n...\r\nx.\r\n..\r\n\r\n.\r\n", QUIT),
	/* a line of "." after a bare line end, then a strict end right after it */
	VEC("lf.crlf then end", N, "a\n.\r\n.\r\n" QUIT, 1, SD_OK, "a\r\n..\r\n.\r\n", QUIT),
	VEC("lf.lf.crlf", N, "a\n.\n.\r\n" QUIT, 0, SD_OK, "a\r\n..\r\n..\r\nQUIT\r\n", ""),
	VEC("stuffed, bare lf", R, "..\n.\r\n" SMUGGLED QUIT, 1, SD_BARE_LF, "..", QUIT),

	/* bare line ends inside the text */
	VEC("bare lf in text", R, "line1\nline2\r\n.\r\n" QUIT, 1, SD_BARE_LF, "line1", QUIT),
	VEC("bare lf in text", N, "line1\nline2\r\n.\r\n" QUIT, 1, SD_OK, "line1\r\nline2\r\n.\r\n",
	    QUIT),
	VEC("bare cr in text", R, "line1\rline2\r\n.\r\n" QUIT, 1, SD_BARE_CR, "line1", QUIT),
	VEC("bare cr in text", N, "line1\rline2\r\n.\r\n" QUIT, 1, SD_OK, "line1\r\nline2\r\n.\r\n",
	    QUIT),
	VEC("cr cr lf", R, "a\r\r\n.\r\n" QUIT, 1, SD_BARE_CR, "a", QUIT),
	VEC("cr cr lf", N, "a\r\r\n.\r\n" QUIT, 1, SD_OK, "a\r\n\r\n.\r\n", QUIT),
	VEC("lf cr", N, "a\n\rb\r\n.\r\n" QUIT, 1, SD_OK, "a\r\n\r\nb\r\n.\r\n", QUIT),
	VEC("empty lines", R, "\r\n\r\n.\r\n" QUIT, 1, SD_OK, "\r\n\r\n.\r\n", QUIT),
	VEC("empty lines", N, "\n\r\n\r.\r\n.\r\n" QUIT, 1, SD_OK, "\r\n\r\n\r\n..\r\n.\r\n", QUIT),

	/* not ended yet: everything taken, nothing ended early */
	VEC("no end yet", R, PRE, 0, SD_OK, PRE, ""),
	VEC("no end yet", N, PRE, 0, SD_OK, PRE, ""),
	VEC("dot cr pending", R, "abc\r\n.\r", 0, SD_OK, "abc\r\n", ""),
	VEC("dot cr pending", N, "abc\r\n.\r", 0, SD_OK, "abc\r\n", ""),
	VEC("cr pending", N, "abc\r", 0, SD_OK, "abc", ""),
	VEC("failed, no strict end yet", R, PRE "\n.\nMAIL FROM:<evil@example.com>\r\n", 0,
	    SD_BARE_LF, PRE, ""),
};

ParameterizedTestParameters(smtp_data, vectors)
{
	return cr_make_param_array(struct vcase, vcases, sizeof(vcases) / sizeof(vcases[0]));
}

ParameterizedTest(const struct vcase *c, smtp_data, vectors)
{
	struct limits l = { c->mode, 1000, 0 };
	static struct result want;
	char name[80];

	snprintf(name, sizeof(name), "%s (%s)", c->name, c->mode == R ? "reject" : "normalize");
	memset(&want, 0, sizeof(want));
	want.done = c->done;
	want.bad = c->bad;
	want.consumed = c->len - c->restlen;
	want.outlen = strlen(c->out);
	memcpy(want.out, c->out, want.outlen);
	/* The table's own rest is what follows the consumed part. */
	cr_assert(!memcmp(c->in + want.consumed, c->rest, c->restlen),
		  "%s: the table's rest is not the end of its input", name);
	every_split(name, &l, c->in, c->len, &want);

	/* Smuggled commands are never left for the command parser, in either mode. */
	cr_assert(!contains(c->in + want.consumed, c->restlen, EVIL),
		  "%s: got the smuggled MAIL left as a command", name);
}

/* ---- limits ---- */

#define X10  "xxxxxxxxxx"
#define X100 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10
#define X900 X100 X100 X100 X100 X100 X100 X100 X100 X100

/* n 'x' into p; returns p + n. */
static char *xs(char *p, size_t n)
{
	memset(p, 'x', n);
	return p + n;
}

/* One message: lines of the given lengths, each ended by eol, the end marker
 * "\r\n.\r\n"-style (".\r\n" after the last CRLF), then QUIT. */
static size_t message(char *buf, size_t cap, const size_t *lens, int n, const char *eol,
		      const char *lead)
{
	char *p = buf;

	for (int i = 0; i < n; i++) {
		cr_assert_lt((size_t)(p - buf) + lens[i] + 16, cap);
		if (lead && lens[i]) {
			size_t ll = strlen(lead);

			memcpy(p, lead, ll);
			p = xs(p + ll, lens[i] - ll);
		} else {
			p = xs(p, lens[i]);
		}
		memcpy(p, eol, strlen(eol));
		p += strlen(eol);
	}
	memcpy(p, ".\r\n" QUIT, 9);
	return (size_t)(p - buf) + 9;
}

static char big[8192];

/* A message fed every way: bad and done as wanted, all of it consumed up to
 * QUIT, and when it passes, forwarded exactly. */
static void limit_case(const char *name, const struct limits *l, const char *in, size_t len,
		       int want_bad)
{
	static struct result r, want;
	static char norm[sizeof(big) * 2];
	size_t nlen = 0;
	char how[48];

	/* What would be forwarded if it passed: bare CR/LF made CRLF. */
	for (size_t i = 0; i < len; i++) {
		if (l->mode == N && in[i] == '\n' && (i == 0 || in[i - 1] != '\r'))
			norm[nlen++] = '\r';
		norm[nlen++] = in[i];
		if (l->mode == N && in[i] == '\r' && (i + 1 == len || in[i + 1] != '\n'))
			norm[nlen++] = '\n';
	}
	memset(&want, 0, sizeof(want));
	want.done = 1;
	want.bad = want_bad;
	want.consumed = len - strlen(QUIT);
	if (!want_bad) {
		want.outlen = len - strlen(QUIT);
		memcpy(want.out, in, want.outlen);
		every_split(name, l, in, len, &want);
		return;
	}
	/* Failed: what was forwarded before the failure is the message's start,
	 * never its end (that it is the same for every split is checked below,
	 * in split_independent). */
	for (size_t k = 0; k < len; k++) {
		snprintf(how, sizeof(how), k ? "split at %zu" : "whole", k);
		cr_assert_eq(run(l, in, len, k, 0, &r), 0);
		invariants(name, how, &r, len);
		cr_assert_eq(r.done, 1, "%s (%s): got done %d, want 1", name, how, r.done);
		cr_assert_eq(r.bad, want_bad, "%s (%s): got bad %s, want %s", name, how,
			     bad_name(r.bad), bad_name(want_bad));
		cr_assert_eq(r.consumed, want.consumed, "%s (%s): got consumed %zu, want %zu", name,
			     how, r.consumed, want.consumed);
		cr_assert(r.outlen < nlen && !memcmp(r.out, norm, r.outlen),
			  "%s (%s): got out '%s', not a start of the message", name, how,
			  show(r.out, r.outlen));
	}
}

Test(smtp_data, line_998_passes)
{
	struct limits l = { R, 1000, 0 };
	size_t lens[] = { 10, 998, 0, 998 };
	size_t n = message(big, sizeof(big), lens, 4, "\r\n", NULL);

	limit_case("998 reject", &l, big, n, SD_OK);
	l.mode = N;
	limit_case("998 normalize", &l, big, n, SD_OK);
}

Test(smtp_data, line_999_fails)
{
	struct limits l = { R, 1000, 0 };
	size_t lens[] = { 10, 999, 5 };
	size_t n = message(big, sizeof(big), lens, 3, "\r\n", NULL);

	limit_case("999 reject", &l, big, n, SD_LONG_LINE);
	l.mode = N;
	limit_case("999 normalize", &l, big, n, SD_LONG_LINE);
}

Test(smtp_data, line_limit_bare_lf_normalized)
{
	struct limits l = { N, 1000, 0 };
	static struct result r;
	size_t n;
	char *p;

	/* A bare LF becomes CRLF: the line is 998 + 2, at the limit. (The
	 * last line ends in a real CRLF: only that can precede the end.) */
	p = xs(big, 998);
	*p++ = '\n';
	p = xs(p, 998);
	memcpy(p, "\r\n.\r\n" QUIT, 11);
	n = (size_t)(p - big) + 11;
	cr_assert_eq(run(&l, big, n, 0, 0, &r), 0);
	cr_assert_eq(r.bad, SD_OK, "got bad %s, want SD_OK", bad_name(r.bad));
	cr_assert_eq(r.done, 1, "got done %d, want 1", r.done);
	cr_assert_eq(r.outlen, 2 * 1000 + 3, "got %zu bytes out, want 2003", r.outlen);
	/* 999 and a bare LF: over. (The end is strict once a message has failed:
	 * a CRLF before the dot.) */
	p = xs(big, 998);
	*p++ = '\n';
	p = xs(p, 999);
	memcpy(p, "\n\r\n.\r\n" QUIT, 12);
	limit_case("999 bare lf normalize", &l, big, (size_t)(p - big) + 12, SD_LONG_LINE);
}

/* RFC 5321 4.5.3.1.6: 1000 octets with the CRLF "not counting the leading dot
 * duplicated for transparency". A 998-character line that starts with a dot
 * goes out as 999 characters and must pass. */
Test(smtp_data, line_limit_excludes_stuffing_dot)
{
	struct limits l = { R, 1000, 0 };
	size_t lens[] = { 999, 3 };
	size_t n = message(big, sizeof(big), lens, 2, "\r\n", "..");

	limit_case("stuffed 998 reject", &l, big, n, SD_OK);
	l.mode = N;
	limit_case("stuffed 998 normalize", &l, big, n, SD_OK);
	/* and one more is over */
	lens[0] = 1000;
	n = message(big, sizeof(big), lens, 2, "\r\n", "..");
	limit_case("stuffed 999 reject", &l, big, n, SD_LONG_LINE);
}

Test(smtp_data, no_line_limit)
{
	struct limits l = { R, 0, 0 };
	size_t lens[] = { 5000 };
	size_t n = message(big, sizeof(big), lens, 1, "\r\n", NULL);
	static struct result r;

	cr_assert_eq(run(&l, big, n, 0, 0, &r), 0);
	cr_assert_eq(r.bad, SD_OK, "got bad %s, want SD_OK without a limit", bad_name(r.bad));
	cr_assert_eq(r.outlen, n - strlen(QUIT), "got %zu out, want %zu", r.outlen,
		     n - strlen(QUIT));
}

/* Content is every byte before the end marker, CRLFs included. */
Test(smtp_data, size_at_and_over)
{
	static const char msg[] = "abc\r\nde\r\n\r\n.\r\n" QUIT; /* 11 bytes of content */
	struct limits l = { R, 1000, 11 };

	limit_case("size 11 of 11", &l, msg, sizeof(msg) - 1, SD_OK);
	l.mode = N;
	limit_case("size 11 of 11 normalize", &l, msg, sizeof(msg) - 1, SD_OK);
	l.max_size = 10;
	limit_case("size 11 of 10", &l, msg, sizeof(msg) - 1, SD_TOO_BIG);
	l.mode = R;
	limit_case("size 11 of 10 reject", &l, msg, sizeof(msg) - 1, SD_TOO_BIG);
}

Test(smtp_data, size_normalized_counts_crlf)
{
	static const char msg[] = "abc\nde\r\n.\r\n" QUIT; /* "abc\r\nde\r\n": 9 */
	struct limits l = { N, 1000, 9 };
	static struct result r;

	cr_assert_eq(run(&l, msg, sizeof(msg) - 1, 0, 0, &r), 0);
	cr_assert_eq(r.bad, SD_OK, "got bad %s, want SD_OK at 9 of 9", bad_name(r.bad));
	cr_assert_eq(r.size, 9, "got size %llu, want 9", r.size);
	l.max_size = 8;
	limit_case("size 9 of 8 normalize", &l, msg, sizeof(msg) - 1, SD_TOO_BIG);
}

Test(smtp_data, size_empty_message)
{
	struct limits l = { R, 1000, 1 };
	static struct result r;

	cr_assert_eq(run(&l, ".\r\n", 3, 0, 0, &r), 0);
	cr_assert_eq(r.bad, SD_OK, "got bad %s, want SD_OK", bad_name(r.bad));
	cr_assert_eq(r.size, 0, "got size %llu, want 0 (the end marker is not content)", r.size);
}

/* RFC 1870 4: the size excludes "the SMTP DATA command's terminating dot or
 * doubled quoting dots". "..\r\n" is 3 bytes of content. */
Test(smtp_data, size_excludes_stuffing_dot)
{
	static const char msg[] = "..\r\n.\r\n" QUIT;
	struct limits l = { R, 1000, 3 };

	limit_case("stuffed size 3 of 3", &l, msg, sizeof(msg) - 1, SD_OK);
}

/* A message that fails keeps being consumed to its strict end, so the commands
 * after it are still found where they are. */
Test(smtp_data, failed_message_consumed_to_its_end)
{
	static const char msg[] = "abcdefghij\r\n.\r\n" QUIT;
	struct limits l = { R, 1000, 4 };
	static struct result r;

	cr_assert_eq(run(&l, msg, sizeof(msg) - 1, 0, 1, &r), 0);
	cr_assert_eq(r.bad, SD_TOO_BIG, "got bad %s, want SD_TOO_BIG", bad_name(r.bad));
	cr_assert_eq(r.done, 1, "got done %d, want 1", r.done);
	cr_assert_eq(r.consumed, sizeof(msg) - 1 - strlen(QUIT), "got consumed %zu, want %zu",
		     r.consumed, sizeof(msg) - 1 - strlen(QUIT));
	cr_assert_str_eq(sd_bad_reply((enum sd_bad)r.bad),
			 "552 5.3.4 Message size exceeds the fixed maximum message size");
}

/*
 * A failed message ends where a good one would: only at a strict
 * <CR><LF>.<CR><LF>, in both modes, so "\n.\n" after a failure is content too.
 */
Test(smtp_data, failed_message_ends_only_strictly)
{
	struct limits l = { N, 1000, 4 };

	limit_case("too big, lf.lf normalize", &l, "abcdefgh\n.\n" SMUGGLED QUIT,
		   sizeof("abcdefgh\n.\n" SMUGGLED QUIT) - 1, SD_TOO_BIG);
	limit_case("too big, cr.cr normalize", &l, "abcdefgh\r.\r" SMUGGLED QUIT,
		   sizeof("abcdefgh\r.\r" SMUGGLED QUIT) - 1, SD_TOO_BIG);
	l.max_size = 0;
	l.max_line = 8;
	limit_case("long line, lf.lf normalize", &l, "abcdefghij\n.\n" SMUGGLED QUIT,
		   sizeof("abcdefghij\n.\n" SMUGGLED QUIT) - 1, SD_LONG_LINE);
	l.max_line = 1000;
	limit_case("nul, lf.lf normalize", &l, "a\0b\n.\n" SMUGGLED QUIT,
		   sizeof("a\0b\n.\n" SMUGGLED QUIT) - 1, SD_NUL);
	l.mode = R;
	l.max_size = 4;
	limit_case("too big, lf.lf reject", &l, "abcdefgh\r\n.\n" SMUGGLED QUIT,
		   sizeof("abcdefgh\r\n.\n" SMUGGLED QUIT) - 1, SD_TOO_BIG);
}

/*
 * "The machine is resumable at any byte": the result of a failed message does
 * not depend on how its bytes arrived either: neither why it failed (the reply
 * the client gets) nor what was forwarded before it did.
 */
Test(smtp_data, split_independent_failure)
{
	static const struct {
		const char *name;
		const char *in;
		struct limits l;
	} cases[] = {
		/* line limit crossed at the 7th byte, size at the 11th */
		{ "line before size", "abcdefghijkl\r\n.\r\n" QUIT, { R, 8, 10 } },
		{ "size before line", "ab\r\ncdefghijkl\r\n.\r\n" QUIT, { N, 10, 6 } },
		{ "line 999",
		  X900 X10 X10 X10 X10 X10 X10 X10 X10 X10 "xxxxxxxxx\r\n.\r\n" QUIT,
		  { R, 1000, 0 } },
		{ "size in a long run", "hello world, hello world\r\n.\r\n" QUIT, { R, 1000, 12 } },
	};
	static struct result whole, r;
	char how[48];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *in = cases[i].in;
		size_t len = strlen(in);

		cr_assert_eq(run(&cases[i].l, in, len, 0, 0, &whole), 0);
		cr_assert_neq(whole.bad, SD_OK, "%s: got SD_OK, want a failure", cases[i].name);
		for (size_t k = 1; k < len; k++) {
			snprintf(how, sizeof(how), "split at %zu", k);
			cr_assert_eq(run(&cases[i].l, in, len, k, 0, &r), 0);
			same(cases[i].name, how, &r, &whole);
		}
		cr_assert_eq(run(&cases[i].l, in, len, 0, 1, &r), 0);
		same(cases[i].name, "byte by byte", &r, &whole);
	}
}

/* The first reason seen is the one reported: the line limit is crossed at the
 * 7th byte of the line, the size limit only at the 11th. */
Test(smtp_data, first_reason_reported)
{
	static const char msg[] = "abcdefghijkl\r\n.\r\n" QUIT;
	struct limits l = { R, 8, 10 };
	static struct result r;

	cr_assert_eq(run(&l, msg, sizeof(msg) - 1, 0, 0, &r), 0);
	cr_assert_eq(r.bad, SD_LONG_LINE, "got bad %s, want SD_LONG_LINE (crossed first)",
		     bad_name(r.bad));
	cr_assert_eq(run(&l, msg, sizeof(msg) - 1, 0, 1, &r), 0);
	cr_assert_eq(r.bad, SD_LONG_LINE, "byte by byte: got bad %s, want SD_LONG_LINE",
		     bad_name(r.bad));
}

/* ---- the output buffer ---- */

Test(smtp_data, out_refuses)
{
	static const char msg[] = "hello world, this is a message\r\n.\r\n";
	struct sd_state s;
	struct buf small;
	size_t used;

	buf_init(&small, 8);
	sd_init(&s, SD_REJECT, 1000, 0);
	used = sd_feed(&s, msg, sizeof(msg) - 1, &small);
	buf_free(&small);
	cr_assert_eq(used, (size_t)-1, "got %zu, want (size_t)-1 when out refuses bytes", used);

	/* the end marker refused, in both modes */
	for (int m = R; m <= N; m++) {
		buf_init(&small, 2);
		sd_init(&s, (enum sd_mode)m, 1000, 0);
		used = sd_feed(&s, ".\r\n", 3, &small);
		buf_free(&small);
		cr_assert_eq(used, (size_t)-1, "mode %d: got %zu, want (size_t)-1 for the marker",
			     m, used);
	}
	/* a normalised line end refused */
	buf_init(&small, 3);
	sd_init(&s, SD_NORMALIZE, 1000, 0);
	used = sd_feed(&s, "abc\n", 4, &small);
	buf_free(&small);
	cr_assert_eq(used, (size_t)-1, "got %zu, want (size_t)-1 for the CRLF", used);

	/* exactly enough room */
	buf_init(&small, 8);
	sd_init(&s, SD_REJECT, 1000, 0);
	used = sd_feed(&s, "abc\r\n.\r\nQUIT", 12, &small);
	cr_assert_eq(used, 8, "got %zu, want 8 with exactly 8 bytes of room", used);
	cr_assert_eq(buf_avail(&small), 8, "got %zu bytes out, want 8", buf_avail(&small));
	buf_free(&small);
}

/* A failed message forwards nothing more: out is never asked for room again. */
Test(smtp_data, failed_message_forwards_nothing)
{
	static const char msg[] = "ab\ncdefghijklmnopqrstuvwxyz\r\n.\r\n";
	struct sd_state s;
	struct buf small;
	size_t used;

	buf_init(&small, 4);
	sd_init(&s, SD_REJECT, 1000, 0);
	used = sd_feed(&s, msg, sizeof(msg) - 1, &small);
	cr_assert_eq(used, sizeof(msg) - 1, "got %zu, want %zu", used, sizeof(msg) - 1);
	cr_assert_eq(s.bad, SD_BARE_LF, "got bad %s, want SD_BARE_LF", bad_name((int)s.bad));
	cr_assert_eq(buf_avail(&small), 2, "got %zu bytes out, want 2 (\"ab\")", buf_avail(&small));
	buf_free(&small);
}

Test(smtp_data, done_takes_nothing_more)
{
	struct sd_state s;
	size_t used;

	buf_init(&out_buf, 0);
	sd_init(&s, SD_NORMALIZE, 1000, 0);
	used = sd_feed(&s, ".\r\nMAIL", 7, &out_buf);
	cr_assert_eq(used, 3, "got %zu, want 3", used);
	cr_assert_eq(s.done, 1);
	used = sd_feed(&s, "MAIL", 4, &out_buf);
	cr_assert_eq(used, 0, "got %zu after done, want 0", used);
	used = sd_feed(&s, "", 0, &out_buf);
	cr_assert_eq(used, 0, "got %zu for nothing, want 0", used);
}

Test(smtp_data, bad_replies)
{
	static const struct {
		int bad;
		const char *prefix;
	} cases[] = {
		{ SD_OK, "250 " },
		{ SD_BARE_LF, "550 5.5.2 " },
		{ SD_BARE_CR, "550 5.5.2 " },
		{ SD_NUL, "550 5.6.0 " },
		{ SD_LONG_LINE, "550 5.5.2 " },
		{ SD_TOO_BIG, "552 5.3.4 " },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *r = sd_bad_reply((enum sd_bad)cases[i].bad);

		cr_assert(r && !strncmp(r, cases[i].prefix, strlen(cases[i].prefix)),
			  "%s: got '%s', want it to start with '%s'", bad_name(cases[i].bad),
			  r ? r : "(null)", cases[i].prefix);
		cr_assert_null(strpbrk(r, "\r\n"), "got a line end in the reply '%s'", r);
	}
}

/*
 * A long message, every smuggling vector in its text, fed in chunks of every
 * size from 1 to 64: in reject mode it fails at the first vector, in normalize
 * mode it passes; in both it ends only at the first strict end (inside the
 * first smuggled transaction, which is content).
 */
Test(smtp_data, many_vectors_any_chunks)
{
	static const char *const vec[] = { "\n.\n",   "\r.\r",	 "\n.\r\n",    "\r\n.\n",
					   "\r\n.\r", "\r.\r\n", "\r\n.\r\r\n" };
	static char msg[4096];
	static struct result r, first;
	size_t n = 0;

	for (int rep = 0; rep < 4; rep++)
		for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++)
			n += (size_t)snprintf(msg + n, sizeof(msg) - n, "line %d %zu%s" SMUGGLED,
					      rep, i, vec[i]);
	n += (size_t)snprintf(msg + n, sizeof(msg) - n, "last\r\n.\r\n" QUIT);

	for (int m = R; m <= N; m++) {
		struct limits l = { m, 1000, 0 };

		cr_assert_eq(run(&l, msg, n, 0, 0, &first), 0);
		for (size_t step = 1; step <= 64; step++) {
			char how[32];

			snprintf(how, sizeof(how), "chunks of %zu", step);
			cr_assert_eq(run(&l, msg, n, 0, step, &r), 0);
			invariants("many vectors", how, &r, n);
			same("many vectors", how, &r, &first);
		}
		/* the strict end: the first "\r\n.\r\n" of the stream */
		cr_assert_eq(first.consumed,
			     (size_t)((const char *)memmem(msg, n, "\r\n.\r\n", 5) - msg) + 5,
			     "mode %d: got consumed %zu", m, first.consumed);
		if (m == R) {
			cr_assert_eq(first.bad, SD_BARE_LF, "got bad %s, want SD_BARE_LF",
				     bad_name(first.bad));
			cr_assert_str_eq(first.out, "line 0 0", "got out '%s'",
					 show(first.out, first.outlen));
		} else {
			cr_assert_eq(first.bad, SD_OK, "got bad %s, want SD_OK",
				     bad_name(first.bad));
			cr_assert_str_eq(first.out, "line 0 0\r\n..\r\n" SMUGGLED, "got out '%s'",
					 show(first.out, first.outlen));
		}
	}
}
