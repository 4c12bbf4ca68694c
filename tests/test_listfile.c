// SPDX-License-Identifier: GPL-2.0
/*
 * test_listfile.c - the plain list parser (me_listfile_parse) and me_escape.
 *
 * Valid files: every address reaches the callback with its 1-based line number.
 * Invalid files: -EINVAL, the number of the first bad line, the offending text
 * (escaped) and a reason. A callback error stops the parse and is returned.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "addr.h"
#include "listfile.h"
#include "lib/seen.h"

#define MAX_WANT 8

/* Inline arrays only: Criterion copies parameters into re-executed workers. */
struct valid_case {
	char name[32];
	char in[256];
	unsigned int flags;
	int nwant;
	char want[MAX_WANT][ME_PREFIX_STRLEN];
	unsigned long want_line[MAX_WANT];
};

static const struct valid_case valid_cases[] = {
	{ "empty file", "", 0, 0, { "" }, { 0 } },
	{ "only comments and blanks",
	  "# a\n; b\n\n   \n\t\n#192.0.2.1\n;192.0.2.2",
	  0,
	  0,
	  { "" },
	  { 0 } },
	{ "comments", "# header\n; second header\n192.0.2.1\n", 0, 1, { "192.0.2.1" }, { 3 } },
	{ "blank lines",
	  "\n\n192.0.2.1\n\n\n198.51.100.0/24\n\n",
	  0,
	  2,
	  { "192.0.2.1", "198.51.100.0/24" },
	  { 3, 6 } },
	{ "crlf",
	  "# dos\r\n192.0.2.1\r\n\r\n198.51.100.0/24\r\n",
	  0,
	  2,
	  { "192.0.2.1", "198.51.100.0/24" },
	  { 2, 4 } },
	{ "tabs and spaces",
	  "\t192.0.2.1\t\n  \t 2001:db8::/32 \t\n\v198.51.100.7\f\n",
	  0,
	  3,
	  { "192.0.2.1", "2001:db8::/32", "198.51.100.7" },
	  { 1, 2, 3 } },
	{ "trailing ; comment", "192.0.2.1 ; SBL123\n", 0, 1, { "192.0.2.1" }, { 1 } },
	{ "trailing # comment", "198.51.100.0/24 # x\n", 0, 1, { "198.51.100.0/24" }, { 1 } },
	{ "comment without blank",
	  "192.0.2.1;SBL1\n198.51.100.0/24#x y z\n",
	  0,
	  2,
	  { "192.0.2.1", "198.51.100.0/24" },
	  { 1, 2 } },
	{ "trailing comment and crlf",
	  "198.51.100.0/24 ; SBL9 two words\r\n",
	  0,
	  1,
	  { "198.51.100.0/24" },
	  { 1 } },
	{ "mixed v4 and v6",
	  "192.0.2.1\n2001:db8::1\n198.51.100.0/24\n2001:db8:1::/48\n",
	  0,
	  4,
	  { "192.0.2.1", "2001:db8::1", "198.51.100.0/24", "2001:db8:1::/48" },
	  { 1, 2, 3, 4 } },
	{ "last line without newline",
	  "192.0.2.1\n198.51.100.7",
	  0,
	  2,
	  { "192.0.2.1", "198.51.100.7" },
	  { 1, 2 } },
	{ "last line crlf-less comment", "192.0.2.1\n# end", 0, 1, { "192.0.2.1" }, { 1 } },
	{ "spamhaus drop text",
	  "; Spamhaus DROP List 2026/11/24\n; Last-Modified: Mon, 24 Nov 2026\n"
	  "1.10.16.0/20 ; SBL256894\n2.56.192.0/22 ; SBL459831\n",
	  0,
	  2,
	  { "1.10.16.0/20", "2.56.192.0/22" },
	  { 3, 4 } },
	{ "ipv4-mapped ipv6", "::ffff:192.0.2.1\n", 0, 1, { "192.0.2.1" }, { 1 } },
	{ "host bits cleared with flag",
	  "192.0.2.1/24\n2001:db8::1/64\n",
	  ME_PFX_CLEAR_HOST,
	  2,
	  { "192.0.2.0/24", "2001:db8::/64" },
	  { 1, 2 } },
	{ "a /32 is a host",
	  "192.0.2.1/32\n2001:db8::1/128\n",
	  0,
	  2,
	  { "192.0.2.1", "2001:db8::1" },
	  { 1, 2 } },
};

ParameterizedTestParameters(listfile, valid)
{
	return cr_make_param_array(struct valid_case, valid_cases,
				   sizeof(valid_cases) / sizeof(valid_cases[0]));
}

ParameterizedTest(const struct valid_case *c, listfile, valid)
{
	struct seen s = { 0 };
	struct me_parse_err err = { 0 };
	int rc, i;

	rc = me_listfile_parse(c->in, strlen(c->in), c->flags, seen_collect, &s, &err);
	cr_assert_eq(rc, 0, "%s: got rc %d (line %lu '%s': %s), want 0", c->name, rc, err.line,
		     err.text, err.why);
	cr_assert_eq(s.n, c->nwant, "%s: got %d addresses, want %d", c->name, s.n, c->nwant);
	for (i = 0; i < c->nwant; i++) {
		cr_assert_str_eq(s.text[i], c->want[i], "%s: address %d: got %s, want %s", c->name,
				 i, s.text[i], c->want[i]);
		cr_assert_eq(s.line[i], c->want_line[i], "%s: address %d: got line %lu, want %lu",
			     c->name, i, s.line[i], c->want_line[i]);
	}
}

struct invalid_case {
	char name[40];
	char in[256];
	size_t len; /* 0: strlen(in); set for inputs holding NUL bytes */
	unsigned int flags;
	int nbefore; /* addresses reported before the bad line */
	unsigned long want_line;
	char want_why[48];  /* substring of err.why */
	char want_text[64]; /* substring of err.text */
};

static const struct invalid_case invalid_cases[] = {
	{ "two words", "192.0.2.1\n192.0.2.2 192.0.2.3\n", 0, 0, 1, 2, "more than one word",
	  "192.0.2.2 192.0.2.3" },
	{ "two words, tab", "192.0.2.2\t198.51.100.1 ; c\n", 0, 0, 0, 1, "more than one word",
	  "192.0.2.2\\x09198.51.100.1" },
	{ "word then garbage", "192.0.2.1 SBL123\n", 0, 0, 0, 1, "more than one word",
	  "192.0.2.1 SBL123" },
	{ "nul byte",
	  "192.0.2.1\n19\0"
	  "2.0.2.2\n",
	  21, 0, 1, 2, "NUL", "19\\x00" },
	{ "nul byte in a comment", "# a\n192.0.2.1 ; x\0y\n", 20, 0, 0, 2, "NUL", "" },
	{ "not an address", "192.0.2.1\n\nbogus\n", 0, 0, 1, 3, "not an IPv4 or IPv6 address",
	  "bogus" },
	{ "octet out of range", "192.0.2.256\n", 0, 0, 0, 1, "not an IPv4 or IPv6 address",
	  "192.0.2.256" },
	{ "three octets", "192.0.2\n", 0, 0, 0, 1, "not an IPv4 or IPv6 address", "192.0.2" },
	{ "hostname", "mail.example.org\n", 0, 0, 0, 1, "not an IPv4 or IPv6 address",
	  "mail.example.org" },
	{ "v4 host bits", "198.51.100.0/24\n192.0.2.1/24\n", 0, 0, 1, 2, "host bits",
	  "192.0.2.1/24" },
	{ "v6 host bits", "2001:db8::1/64\n", 0, 0, 0, 1, "host bits", "2001:db8::1/64" },
	{ "prefix /33", "192.0.2.0/33\n", 0, 0, 0, 1, "prefix length", "192.0.2.0/33" },
	{ "prefix /129", "2001:db8::/129\n", 0, 0, 0, 1, "prefix length", "2001:db8::/129" },
	{ "empty prefix", "192.0.2.0/\n", 0, 0, 0, 1, "prefix length", "192.0.2.0/" },
	{ "truncated last line", "192.0.2.1\n198.51.100.7\n192.0.2.", 0, 0, 2, 3,
	  "not an IPv4 or IPv6 address", "192.0.2." },
	{ "truncated cidr at end", "192.0.2.0/2", 0, 0, 0, 1, "host bits", "192.0.2.0/2" },
	{ "line numbers count crlf lines", "\r\n# x\r\n192.0.2.1\r\nbogus\r\n", 0, 0, 1, 4,
	  "not an IPv4 or IPv6 address", "bogus" },
	{ "control character",
	  "\x01"
	  "192.0.2.1\n",
	  0, 0, 0, 1, "not an IPv4 or IPv6 address", "\\x01192.0.2.1" },
	{ "word longer than any address",
	  "2001:0db8:0000:0000:0000:0000:0000:0001:0000:0000:0000/128\n", 0, 0, 0, 1,
	  "not an IPv4 or IPv6 address", "2001:0db8:0000" },
	{ "bad line after host bits fixed", "192.0.2.1/24\n192.0.2.300\n", 0, ME_PFX_CLEAR_HOST, 1,
	  2, "not an IPv4 or IPv6 address", "192.0.2.300" },
};

ParameterizedTestParameters(listfile, invalid)
{
	return cr_make_param_array(struct invalid_case, invalid_cases,
				   sizeof(invalid_cases) / sizeof(invalid_cases[0]));
}

ParameterizedTest(const struct invalid_case *c, listfile, invalid)
{
	size_t len = c->len ? c->len : strlen(c->in);
	struct seen s = { 0 };
	struct me_parse_err err;
	int rc;

	memset(&err, 0x5a, sizeof(err));
	rc = me_listfile_parse(c->in, len, c->flags, seen_collect, &s, &err);
	cr_assert_eq(rc, -EINVAL, "%s: got rc %d, want -EINVAL", c->name, rc);
	cr_assert_eq(err.line, c->want_line, "%s: got line %lu, want %lu", c->name, err.line,
		     c->want_line);
	cr_assert(memchr(err.text, '\0', sizeof(err.text)),
		  "%s: got err.text unterminated, "
		  "want a NUL within %zu bytes",
		  c->name, sizeof(err.text));
	cr_assert(memchr(err.why, '\0', sizeof(err.why)),
		  "%s: got err.why unterminated, "
		  "want a NUL within %zu bytes",
		  c->name, sizeof(err.why));
	cr_assert(strstr(err.why, c->want_why), "%s: got why '%s', want it to mention '%s'",
		  c->name, err.why, c->want_why);
	cr_assert(strstr(err.text, c->want_text), "%s: got text '%s', want it to contain '%s'",
		  c->name, err.text, c->want_text);
	cr_assert_eq(s.n, c->nbefore, "%s: got %d addresses before the error, want %d", c->name,
		     s.n, c->nbefore);
}

/* A line of exactly 1024 bytes is fine; 1025 is an error naming that line. */
Test(listfile, line_1024_ok)
{
	char *line = pad_line(ME_LISTFILE_MAX_LINE, "192.0.2.1", ' ', "");
	char *buf;
	struct seen s = { 0 };
	struct me_parse_err err = { 0 };
	int rc;

	cr_assert_eq(asprintf(&buf, "198.51.100.1\n%s\n", line) > 0, 1);
	rc = me_listfile_parse(buf, strlen(buf), 0, seen_collect, &s, &err);
	cr_assert_eq(rc, 0, "got rc %d (line %lu: %s), want 0 for a 1024-byte line", rc, err.line,
		     err.why);
	cr_assert_eq(s.n, 2, "got %d addresses, want 2", s.n);
	cr_assert_str_eq(s.text[1], "192.0.2.1", "got %s, want 192.0.2.1", s.text[1]);
	free(buf);
	free(line);
}

Test(listfile, line_1025_refused)
{
	char *line = pad_line(ME_LISTFILE_MAX_LINE + 1, "192.0.2.1", ' ', "");
	char *buf;
	struct seen s = { 0 };
	struct me_parse_err err;
	int rc;

	memset(&err, 0x5a, sizeof(err));
	cr_assert_eq(asprintf(&buf, "198.51.100.1\n%s\n192.0.2.2\n", line) > 0, 1);
	rc = me_listfile_parse(buf, strlen(buf), 0, seen_collect, &s, &err);
	cr_assert_eq(rc, -EINVAL, "got rc %d, want -EINVAL for a 1025-byte line", rc);
	cr_assert_eq(err.line, 2, "got line %lu, want 2", err.line);
	cr_assert(strstr(err.why, "1024"), "got why '%s', want it to mention 1024", err.why);
	cr_assert(memchr(err.text, '\0', sizeof(err.text)), "got err.text unterminated");
	cr_assert(strstr(err.text, "192.0.2.1"), "got text '%s', want the line's start", err.text);
	cr_assert_eq(s.n, 1, "got %d addresses, want 1 (only the line before)", s.n);
	free(buf);
	free(line);
}

/* The parser takes a length, not a string: nothing past len is read. */
Test(listfile, honours_len)
{
	const char buf[] = "192.0.2.1\n198.51.100.7\nbogus\n";
	struct seen s = { 0 };
	struct me_parse_err err = { 0 };
	size_t len = strlen("192.0.2.1\n198.51.100.7");
	int rc;

	/* An exact-size heap copy without a terminator: ASan catches overreads. */
	rc = seen_parse(me_listfile_parse, buf, len, 0, &s, &err);
	cr_assert_eq(rc, 0, "got rc %d (line %lu: %s), want 0", rc, err.line, err.why);
	cr_assert_eq(s.n, 2, "got %d addresses, want 2", s.n);
	cr_assert_str_eq(s.text[1], "198.51.100.7", "got %s, want 198.51.100.7", s.text[1]);
}

Test(listfile, callback_error_stops_parse)
{
	const char *in = "192.0.2.1\n192.0.2.2\n192.0.2.3\nbogus\n";
	struct seen s = { .fail_at = 2, .fail_rc = -ENOMEM };
	struct me_parse_err err = { 0 };
	int rc;

	rc = me_listfile_parse(in, strlen(in), 0, seen_collect, &s, &err);
	cr_assert_eq(rc, -ENOMEM, "got rc %d, want -ENOMEM from the callback", rc);
	cr_assert_eq(s.n, 2, "got %d callback calls, want 2 (stop at the failing one)", s.n);
}

Test(listfile, callback_error_first_entry)
{
	const char *in = "# x\n2001:db8::1\n192.0.2.2\n";
	struct seen s = { .fail_at = 1, .fail_rc = -E2BIG };
	struct me_parse_err err = { 0 };
	int rc;

	rc = me_listfile_parse(in, strlen(in), 0, seen_collect, &s, &err);
	cr_assert_eq(rc, -E2BIG, "got rc %d, want -E2BIG from the callback", rc);
	cr_assert_eq(s.n, 1, "got %d callback calls, want 1", s.n);
}

Test(listfile, error_text_escaped_and_bounded)
{
	char buf[1000];
	struct seen s = { 0 };
	struct me_parse_err err;
	size_t i;
	int rc;

	/* 900 bytes of binary junk on one line (no NUL, no LF). */
	for (i = 0; i < 900; i++) {
		unsigned char c = (unsigned char)(0x80 + i % 100);

		buf[i] = (char)c;
	}
	memset(&err, 0x5a, sizeof(err));
	rc = me_listfile_parse(buf, 900, 0, seen_collect, &s, &err);
	cr_assert_eq(rc, -EINVAL, "got rc %d, want -EINVAL", rc);
	cr_assert_eq(err.line, 1, "got line %lu, want 1", err.line);
	cr_assert(memchr(err.text, '\0', sizeof(err.text)), "got err.text unterminated");
	for (i = 0; err.text[i]; i++)
		cr_assert(err.text[i] >= 0x20 && err.text[i] < 0x7f,
			  "got a non-printable byte %#x at %zu in err.text, want only printable",
			  (unsigned char)err.text[i], i);
	cr_assert(strncmp(err.text, "\\x80\\x81", 8) == 0, "got text '%s', want \\x80\\x81...",
		  err.text);
	cr_assert(strstr(err.text, "..."), "got text '%s', want truncation marked with ...",
		  err.text);
}

/* ---- me_escape ---- */

/* The full escaped form of in, for comparison. */
static void escape_ref(const char *in, size_t inlen, char *out)
{
	size_t i, o = 0;

	for (i = 0; i < inlen; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			out[o++] = (char)c;
		else
			o += (size_t)sprintf(out + o, "\\x%02x", c);
	}
	out[o] = '\0';
}

struct esc_case {
	char name[24];
	char in[32];
	size_t len; /* 0: strlen(in) */
	char want[64];
};

static const struct esc_case esc_cases[] = {
	{ "printable", "192.0.2.1 ; x", 0, "192.0.2.1 ; x" },
	{ "empty", "", 0, "" },
	{ "control chars",
	  "a\x01"
	  "b\tc\r",
	  0, "a\\x01b\\x09c\\x0d" },
	{ "newline", "a\nb", 0, "a\\x0ab" },
	{ "nul", "a\0b", 3, "a\\x00b" },
	{ "del and high", "\x7f\xff\x80", 0, "\\x7f\\xff\\x80" },
	{ "backslash", "a\\x01", 0, "a\\x5cx01" },
};

ParameterizedTestParameters(listfile, escape)
{
	return cr_make_param_array(struct esc_case, esc_cases,
				   sizeof(esc_cases) / sizeof(esc_cases[0]));
}

ParameterizedTest(const struct esc_case *c, listfile, escape)
{
	char out[128];

	memset(out, 0x5a, sizeof(out));
	me_escape(c->in, c->len ? c->len : strlen(c->in), out, sizeof(out));
	cr_assert_str_eq(out, c->want, "%s: got '%s', want '%s'", c->name, out, c->want);
}

/*
 * Small output buffers: for every outlen 0..8 and a set of inputs, me_escape
 * writes nothing past outlen, always leaves a NUL-terminated string (outlen > 0),
 * never cuts an escape sequence, and marks a truncation with "..." whenever
 * "..." fits (outlen >= 4).
 */
Test(listfile, escape_small_buffers)
{
	static const struct {
		const char *s;
		size_t len;
	} ins[] = {
		{ "abcdefghij", 10 },
		{ "abc", 3 },
		{ "\x01\x02\x03", 3 },
		{ "a\x01"
		  "bc",
		  4 },
		{ "ab\x01"
		  "cdef",
		  7 },
		{ "\x01"
		  "abcdef",
		  7 },
		{ "a\0b", 3 },
		{ "", 0 },
		{ "\xff\xfe", 2 },
	};
	size_t k, outlen;

	for (k = 0; k < sizeof(ins) / sizeof(ins[0]); k++) {
		char full[64];

		escape_ref(ins[k].s, ins[k].len, full);
		for (outlen = 0; outlen <= 8; outlen++) {
			char out[32];
			size_t i, olen, keep;

			memset(out, 0x5a, sizeof(out));
			me_escape(ins[k].s, ins[k].len, out, outlen);
			for (i = outlen; i < sizeof(out); i++)
				cr_assert_eq((unsigned char)out[i], 0x5a,
					     "input %zu, outlen %zu: got a write at byte %zu, want "
					     "none past outlen",
					     k, outlen, i);
			if (!outlen)
				continue;
			cr_assert(memchr(out, '\0', outlen),
				  "input %zu, outlen %zu: got no NUL within outlen, want one", k,
				  outlen);
			olen = strlen(out);
			if (!strcmp(out, full))
				continue; /* complete */
			/* Truncated: a prefix of the full form, cut between sequences,
			 * then "..." when it fits. */
			keep = olen >= 3 && !strcmp(out + olen - 3, "...") ? olen - 3 : olen;
			cr_assert(!strncmp(out, full, keep),
				  "input %zu, outlen %zu: got '%s', want a prefix of '%s'", k,
				  outlen, out, full);
			cr_assert(full[keep] != 'x' || keep == 0 || full[keep - 1] != '\\',
				  "input %zu, outlen %zu: got '%s', an escape cut in half", k,
				  outlen, out);
			if (outlen >= 4)
				cr_assert(keep != olen,
					  "input %zu, outlen %zu: got '%s' for '%s', want the "
					  "truncation marked with '...'",
					  k, outlen, out, full);
		}
	}
}

/* The case found by escape_small_buffers, spelled out: an escape sequence
 * that ends the copied part must still be followed by the "..." marker. */
Test(listfile, escape_truncation_after_escape_is_marked)
{
	char out[8];

	memset(out, 0x5a, sizeof(out));
	me_escape("a\x01"
		  "bc",
		  4, out, sizeof(out));
	cr_assert(memchr(out, '\0', sizeof(out)), "got no NUL within 8 bytes");
	cr_assert(strlen(out) >= 3 && !strcmp(out + strlen(out) - 3, "..."),
		  "got '%s' for 'a\\x01bc' in 8 bytes, want it to end in '...' (truncated)", out);
}

Test(listfile, escape_exact_fit)
{
	char out[64];

	/* Plenty of room: the whole input, no marker. */
	me_escape("192.0.2.1", 9, out, sizeof(out));
	cr_assert_str_eq(out, "192.0.2.1", "got '%s', want '192.0.2.1'", out);
}

/* ---- the dotted-quad fast path against the general path ---- */

struct trace {
	char text[4096];
	size_t o;
	int stop_at; /* the callback fails on this call (1-based), 0: never */
	int calls;
};

static int trace_cb(void *ctx, const struct me_prefix *p, unsigned long line)
{
	struct trace *t = ctx;
	char a[ME_PREFIX_STRLEN];

	if (++t->calls == t->stop_at)
		return -E2BIG;
	me_prefix_format(p, a, sizeof(a));
	t->o += (size_t)snprintf(t->text + t->o, sizeof(t->text) - t->o, "%s fixed=%d @%lu\n", a,
				 p->host_bits_fixed, line);
	return 0;
}

/* The fast parser and the general one must agree on everything: return
 * code, each prefix with its line, and the error record. */
static void same_as_general(const char *in, size_t len, unsigned int flags, int stop_at)
{
	struct trace fast = { .stop_at = stop_at }, gen = { .stop_at = stop_at };
	struct me_parse_err ef, eg;
	int rf, rg;

	memset(&ef, 0, sizeof(ef));
	memset(&eg, 0, sizeof(eg));
	rf = me_listfile_parse_fast(in, len, flags, trace_cb, &fast, NULL, &ef);
	rg = me_listfile_parse_fast(in, len, flags | ME_LISTFILE_NO_FAST, trace_cb, &gen, NULL,
				    &eg);
	cr_assert_eq(rf, rg, "'%.*s': fast path returned %d, general %d", (int)len, in, rf, rg);
	cr_assert_str_eq(fast.text, gen.text, "'%.*s': fast path gave\n%s, general\n%s", (int)len,
			 in, fast.text, gen.text);
	if (rg == -EINVAL) {
		cr_assert_eq(ef.line, eg.line, "'%.*s': error on line %lu, general %lu", (int)len,
			     in, ef.line, eg.line);
		cr_assert_str_eq(ef.text, eg.text, "'%.*s': error text", (int)len, in);
		cr_assert_str_eq(ef.why, eg.why, "'%.*s': error reason", (int)len, in);
	}
}

/* sizeof, not strlen: some hold a NUL byte. */
#define T(x) { x, sizeof(x) - 1 }
static const struct {
	const char *s;
	size_t len;
} tricky[] = {
	T("1.2.3.4\n"),
	T("1.2.3.4"),
	T("0.0.0.0\n255.255.255.255\n"),
	T("01.2.3.4\n"),
	T("1.02.3.4\n"),
	T("1.2.3.00\n"),
	T("1.2.3.4 # comment\n"),
	T("1.2.3.4#c\n"),
	T("1.2.3.4;c\n"),
	T("1.2.3.4\r\n"),
	T("1.2.3.4\r"),
	T("256.1.1.1\n"),
	T("1.2.3.256\n"),
	T("1.2.3.2555\n"),
	T("1.2.3.1000\n"),
	T("1.2.3\n"),
	T("1.2.3.\n"),
	T(".1.2.3\n"),
	T("1..2.3\n"),
	T("1.2.3.4.5\n"),
	T("1.2.3.4 \n"),
	T(" 1.2.3.4\n"),
	T("1.2.3.4\t\n"),
	T("1.2.3.4/32\n"),
	T("1.2.3.4/024\n"),
	T("1.2.3.4/24\n"),
	T("1.2.3.4 5.6.7.8\n"),
	T("1.2.3.4x\n"),
	T("1.2.3.4\0\n"),
	T("1.2.3.4\n\0\n"),
	T("1.2.3.4\n\n\n5.6.7.8"),
	T("::ffff:1.2.3.4\n"),
	T("2001:db8::1\n1.2.3.4\n"),
	T("1.2.3.4\n1.2.3.4\n"),
	T("9.9.9.9\n0.0.0.0/0\n"),
	T("\n"),
	T(""),
	T("1.2.3.4\n\v\n"),
	T("+1.2.3.4\n"),
	T("1.2.3.-4\n"),
	T("1.2.3.4\n5.6.7.8 extra\n"),
};

Test(listfile, fast_path_same_as_general)
{
	size_t i;

	for (i = 0; i < sizeof(tricky) / sizeof(tricky[0]); i++) {
		same_as_general(tricky[i].s, tricky[i].len, 0, 0);
		same_as_general(tricky[i].s, tricky[i].len, ME_PFX_CLEAR_HOST, 0);
		/* the callback refuses the first entry */
		same_as_general(tricky[i].s, tricky[i].len, 0, 1);
	}
}

/* A line over 1 KiB ends in a dotted quad: still refused, on its line. */
Test(listfile, fast_path_overlong_line)
{
	char buf[1200];

	memset(buf, ' ', sizeof(buf));
	memcpy(buf, "1.2.3.4\n", 8);
	memcpy(buf + sizeof(buf) - 8, "5.6.7.8\n", 8);
	same_as_general(buf, sizeof(buf), 0, 0);
}

/* Random lines from pieces of addresses: the two paths never differ. */
Test(listfile, fast_path_random_lines)
{
	static const char *const piece[] = { "1", "0", "00", "255", "256", "7", ".", ".", ".",
					     "\n", "\r", " ", "#", "/", "24", "012", "9" };
	unsigned int seed = 7;
	char buf[256];
	int round;

	for (round = 0; round < 20000; round++) {
		size_t o = 0;

		while (o < 64) {
			const char *p = piece[rand_r(&seed) % (sizeof(piece) / sizeof(piece[0]))];

			memcpy(buf + o, p, strlen(p));
			o += strlen(p);
		}
		same_as_general(buf, o, ME_PFX_CLEAR_HOST, 0);
	}
}

struct h4_cb_count {
	int calls;
	unsigned long line;
};

static int h4_count(void *ctx, const struct me_prefix *p, unsigned long line)
{
	struct h4_cb_count *c = ctx;

	(void)p;
	c->calls++;
	c->line = line;
	return 0;
}

/* Dotted quads go to the array (host order) while it has room, the rest to
 * the callback with the right line numbers; a full array hands the rest of the
 * quads to the callback. */
Test(listfile, fast_path_into_array)
{
	const char *in = "10.0.0.1\n# c\n192.0.2.255\n1.2.3.4\r\n198.51.100.0/24\n10.0.0.2";
	struct h4_cb_count c = { 0 };
	struct me_parse_err err;
	uint32_t v[2];
	struct me_hosts4 h4 = { v, 0, 2 };

	cr_assert_eq(me_listfile_parse_fast(in, strlen(in), 0, h4_count, &c, &h4, &err), 0);
	cr_assert_eq(h4.n, 2, "hosts in the array: got %zu, want 2", h4.n);
	cr_assert_eq(v[0], 0x0a000001u, "first host: got %08x", v[0]);
	cr_assert_eq(v[1], 0xc00002ffu, "second host: got %08x", v[1]);
	/* 1.2.3.4\r\n and the subnet by the general path, then 10.0.0.2 with
	 * the array full. */
	cr_assert_eq(c.calls, 3, "callback calls: got %d, want 3", c.calls);
	cr_assert_eq(c.line, 6, "last callback line: got %lu, want 6", c.line);
}
