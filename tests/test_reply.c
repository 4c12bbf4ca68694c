// SPDX-License-Identifier: GPL-2.0
/*
 * test_reply.c - SMTP replies from a backend: taking complete (multi-line)
 * replies off the front of a buffer, the EHLO capabilities, and the last line
 * for logs.
 *
 * A reply is taken whole or not at all: 1 (taken), 0 (incomplete, nothing
 * consumed) or -1 (not SMTP). However the bytes arrive, the same replies come
 * out: every stream is also fed split in two at every byte.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>

#include "../proxy/reply.h"
#include "lib/held.h"

static struct buf in;

static void release(void)
{
	buf_free(&in);
}

TestSuite(reply, .fini = release);

static void fill(const char *s, size_t n)
{
	buf_free(&in);
	buf_init(&in, 0);
	cr_assert_eq(buf_add(&in, s, n), 0);
}

static const char *show(const char *p, size_t n)
{
	return th_show(p, n, 400);
}

/* Take one reply from s; check rc, code, lines, text and what is left. */
static void take_is(const char *s, int want_rc, int want_code, int want_lines,
		    const char *want_left)
{
	static struct px_reply r;
	size_t n = strlen(s), left;
	int rc;

	fill(s, n);
	rc = px_reply_take(&in, &r);
	cr_assert_eq(rc, want_rc, "'%s': got rc %d, want %d", show(s, n), rc, want_rc);
	left = buf_avail(&in);
	if (rc != 1) {
		cr_assert_eq(left, n, "'%s': got %zu bytes consumed, want none", show(s, n),
			     n - left);
		return;
	}
	cr_assert_eq(r.code, want_code, "'%s': got code %d, want %d", show(s, n), r.code,
		     want_code);
	cr_assert_eq(r.lines, want_lines, "'%s': got %d lines, want %d", show(s, n), r.lines,
		     want_lines);
	cr_assert_eq(r.truncated, 0, "'%s': got truncated", show(s, n));
	cr_assert_eq(r.len, n - left, "'%s': got text length %zu, consumed %zu", show(s, n), r.len,
		     n - left);
	cr_assert(!memcmp(r.text, s, r.len) && r.text[r.len] == '\0',
		  "'%s': got text '%s', want the reply as received", show(s, n),
		  show(r.text, r.len));
	cr_assert(left == strlen(want_left) && !memcmp(buf_ptr(&in), want_left, left),
		  "'%s': got '%s' left, want '%s'", show(s, n), show(buf_ptr(&in), left),
		  show(want_left, strlen(want_left)));
}

Test(reply, single_line)
{
	take_is("220 mx.example.org ESMTP Postfix\r\n", 1, 220, 1, "");
	take_is("250 2.1.0 Ok\r\n", 1, 250, 1, "");
	take_is("354 End data with <CR><LF>.<CR><LF>\r\n", 1, 354, 1, "");
	take_is("550 5.7.1 <a@example.org>: Relay access denied\n", 1, 550, 1, "");
	take_is("421 4.3.2 Service shutting down\r\nMORE", 1, 421, 1, "MORE");
}

Test(reply, bare_code)
{
	take_is("250\r\n", 1, 250, 1, "");
	take_is("250\n", 1, 250, 1, "");
	take_is("250 \r\n", 1, 250, 1, "");
	take_is("250-\r\n250\r\n", 1, 250, 2, "");
	take_is("250-first\r\n250\r\n354 x\r\n", 1, 250, 2, "354 x\r\n");
}

Test(reply, multi_line)
{
	take_is("250-mx.example.org\r\n250-PIPELINING\r\n250 8BITMIME\r\n", 1, 250, 3, "");
	take_is("250-a\r\n250-b\r\n250 c\r\n250 d\r\n", 1, 250, 3, "250 d\r\n");
	take_is("220-mx.example.org ESMTP\r\n220-no UCE\r\n220 \r\n", 1, 220, 3, "");
}

Test(reply, incomplete)
{
	take_is("2", 0, 0, 0, "");
	take_is("250", 0, 0, 0, "");
	take_is("250 ok", 0, 0, 0, "");
	take_is("250 ok\r", 0, 0, 0, "");
	take_is("250-a\r\n", 0, 0, 0, "");
	take_is("250-a\r\n250-b\r\n", 0, 0, 0, "");
	take_is("250-a\r\n250-b\r\n250 c", 0, 0, 0, "");
}

/* An empty buffer, or one that never held anything: nothing to take (and no
 * undefined behaviour on the way: UBSan is on). */
Test(reply, empty)
{
	static struct px_reply r;

	fill("250 ok\r\n", 8);
	cr_assert_eq(px_reply_take(&in, &r), 1);
	cr_assert_eq(buf_avail(&in), 0);
	cr_assert_eq(px_reply_take(&in, &r), 0, "got a reply from a drained buffer");
}

/* Appending nothing to a buffer that holds nothing yet is no undefined
 * behaviour either (memcpy to NULL). */
Test(reply, buf_add_nothing)
{
	struct buf b;

	buf_init(&b, 0);
	cr_assert_eq(buf_add(&b, "", 0), 0);
	cr_assert_eq(buf_avail(&b), 0);
	buf_free(&b);
}

Test(reply, never_filled)
{
	static struct px_reply r;
	struct buf b;
	int rc;

	buf_init(&b, 0);
	rc = px_reply_take(&b, &r);
	cr_assert_eq(rc, 0, "got %d from an empty buffer, want 0", rc);
}

Test(reply, malformed)
{
	take_is("hello\r\n", -1, 0, 0, "");
	take_is("\r\n", -1, 0, 0, "");
	take_is("\n", -1, 0, 0, "");
	take_is("25\r\n", -1, 0, 0, "");
	take_is("25 ok\r\n", -1, 0, 0, "");
	take_is("2x0 ok\r\n", -1, 0, 0, "");
	take_is("250x\r\n", -1, 0, 0, "");
	take_is("2500 ok\r\n", -1, 0, 0, "");
	take_is(" 250 ok\r\n", -1, 0, 0, "");
	take_is("250-a\r\nxyz\r\n", -1, 0, 0, "");
	/* the code changes between lines */
	take_is("250-a\r\n251 b\r\n", -1, 0, 0, "");
	take_is("250-a\r\n250-b\r\n550 c\r\n", -1, 0, 0, "");
	/* a garbage line after a complete reply is the next one's problem */
	take_is("250 a\r\nxyz\r\n", 1, 250, 1, "xyz\r\n");
}

/* A code that changes from "000" changes too: 0 is a code like any other,
 * not "no code yet". */
Test(reply, code_changes_from_000)
{
	take_is("000-a\r\n000 b\r\n", 1, 0, 2, "");
	take_is("000-a\r\n250 b\r\n", -1, 0, 0, "");
	take_is("000-a\r\n000-b\r\n354 c\r\n", -1, 0, 0, "");
}

Test(reply, two_in_a_row)
{
	static const char s[] = "250 2.1.0 Ok\r\n250-2.1.5 Ok\r\n250 2.1.5 more\r\n354 go\r\n";
	static struct px_reply r;

	fill(s, sizeof(s) - 1);
	cr_assert_eq(px_reply_take(&in, &r), 1);
	cr_assert_eq(r.code, 250);
	cr_assert_eq(r.lines, 1, "got %d lines, want 1", r.lines);
	cr_assert_str_eq(r.text, "250 2.1.0 Ok\r\n");
	cr_assert_eq(px_reply_take(&in, &r), 1);
	cr_assert_eq(r.code, 250);
	cr_assert_eq(r.lines, 2, "got %d lines, want 2", r.lines);
	cr_assert_str_eq(r.text, "250-2.1.5 Ok\r\n250 2.1.5 more\r\n");
	cr_assert_eq(px_reply_take(&in, &r), 1);
	cr_assert_eq(r.code, 354);
	cr_assert_str_eq(r.text, "354 go\r\n");
	cr_assert_eq(px_reply_take(&in, &r), 0, "got a fourth reply");
	cr_assert_eq(buf_avail(&in), 0, "got %zu bytes left", buf_avail(&in));
}

/* n-byte line "250 xxx...\r\n" (CRLF included) into p. */
static size_t line(char *p, size_t n, char sep)
{
	memcpy(p, "250", 3);
	p[3] = sep;
	memset(p + 4, 'x', n - 6);
	memcpy(p + n - 2, "\r\n", 2);
	return n;
}

Test(reply, long_lines)
{
	static char s[4096];
	static struct px_reply r;
	size_t n;
	int rc;

	/* 1000 bytes of text and its CRLF: taken */
	n = line(s, 1002, ' ');
	fill(s, n);
	rc = px_reply_take(&in, &r);
	cr_assert_eq(rc, 1, "got %d for a 1000-byte line, want 1", rc);
	/* longer: not SMTP */
	for (size_t len = 1003; len < 1010; len++) {
		n = line(s, len, ' ');
		fill(s, n);
		rc = px_reply_take(&in, &r);
		cr_assert_eq(rc, -1, "got %d for a %zu-byte line, want -1", rc, len);
	}
	/* a line that has no end within the limit is not waited for */
	memset(s, 'x', 2000);
	memcpy(s, "250 ", 4);
	fill(s, 2000);
	rc = px_reply_take(&in, &r);
	cr_assert_eq(rc, -1, "got %d for 2000 bytes without a line end, want -1", rc);
	/* in the middle of a multi-line reply too */
	n = line(s, 20, '-');
	n += line(s + n, 1500, ' ');
	fill(s, n);
	rc = px_reply_take(&in, &r);
	cr_assert_eq(rc, -1, "got %d for a 1500-byte second line, want -1", rc);
}

/*
 * Whether a line is too long does not depend on how it arrives: a line that
 * is taken when it arrives whole is waited for when it arrives in parts.
 */
Test(reply, long_line_any_split)
{
	static char s[4096];
	static struct px_reply r;

	for (size_t len = 995; len <= 1006; len++) {
		size_t n = line(s, len, ' ');
		int whole, part;

		fill(s, n);
		whole = px_reply_take(&in, &r);
		for (size_t k = 1; k < n; k++) {
			fill(s, k);
			part = px_reply_take(&in, &r);
			cr_assert(!(whole == 1 && part != 0),
				  "%zu-byte line: got %d with its first %zu bytes, want 0 (it is "
				  "taken when whole)",
				  len, part, k);
			cr_assert(!(whole == -1 && part == 1),
				  "%zu-byte line: got a reply from "
				  "%zu bytes",
				  len, k);
		}
	}
}

/* Replies longer than the text buffer: every line counted, the text cut. */
Test(reply, truncated)
{
	static char s[8192];
	static struct px_reply r;
	size_t n = 0;

	for (int i = 0; i < 5; i++)
		n += line(s + n, 900, i < 4 ? '-' : ' ');
	fill(s, n);
	cr_assert_eq(px_reply_take(&in, &r), 1);
	cr_assert_eq(r.lines, 5, "got %d lines, want 5", r.lines);
	cr_assert_eq(r.truncated, 1, "got truncated %d, want 1", r.truncated);
	cr_assert_lt(r.len, (size_t)PX_REPLY_TEXT);
	cr_assert_eq(r.text[r.len], '\0');
	cr_assert(!memcmp(r.text, s, r.len), "got text not the start of the reply");
	cr_assert_eq(r.len % 900, 0, "got %zu bytes of text: a line cut in the middle", r.len);
	cr_assert_eq(buf_avail(&in), 0, "got %zu left, want the whole reply consumed",
		     buf_avail(&in));
	cr_assert_eq(r.code, 250);
}

/* "(cut if longer)": the text is the reply's start, never lines after a gap. */
Test(reply, truncated_is_a_prefix)
{
	static char s[8192];
	static struct px_reply r;
	size_t n = 0;

	n += line(s + n, 1000, '-');
	n += line(s + n, 1000, '-');
	n += line(s + n, 100, '-'); /* does not fit in the 2048 */
	n += line(s + n, 20, ' ');  /* would fit, after the gap */
	fill(s, n);
	cr_assert_eq(px_reply_take(&in, &r), 1);
	cr_assert_eq(r.lines, 4, "got %d lines, want 4", r.lines);
	cr_assert_eq(r.truncated, 1, "got truncated %d, want 1", r.truncated);
	cr_assert(!memcmp(r.text, s, r.len),
		  "got %zu bytes of text that are not the reply's first %zu (a line skipped)",
		  r.len, r.len);
}

/* Text that exactly fills the buffer but its terminator. */
Test(reply, text_just_fits)
{
	static char s[4096];
	static struct px_reply r;
	size_t n = 0;

	n += line(s + n, 1000, '-');
	n += line(s + n, 1000, '-');
	n += line(s + n, PX_REPLY_TEXT - 1 - 2000, ' ');
	fill(s, n);
	cr_assert_eq(px_reply_take(&in, &r), 1);
	cr_assert_eq(r.truncated, 0, "got truncated for %zu bytes", n);
	cr_assert_eq(r.len, n, "got %zu, want %zu", r.len, n);
	cr_assert(!memcmp(r.text, s, n) && r.text[n] == '\0', "got text not the reply");
}

/* The stream, split in two at every byte: the same replies, the same error. */
Test(reply, any_split)
{
	static const char *const streams[] = {
		"220 mx.example.org ESMTP\r\n250-mx.example.org\r\n250-PIPELINING\r\n"
		"250-SIZE 10240000\r\n250 CHUNKING\r\n250 2.1.0 Ok\r\n354 go\r\n",
		"250-a\n250 b\n221 bye\r\n",
		"250-a\r\n251 b\r\n250 c\r\n",
		"250 ok\r\nxyz\r\n",
		"250\r\n250\n250-\r\n250 \r\n",
	};
	static struct px_reply r;
	static char got[2][16][PX_REPLY_TEXT + 16];
	int ngot[2], last[2];

	for (size_t i = 0; i < sizeof(streams) / sizeof(streams[0]); i++) {
		const char *s = streams[i];
		size_t n = strlen(s);

		for (size_t k = 1; k <= n; k++) {
			for (int pass = 0; pass < 2; pass++) {
				/* pass 0: whole; pass 1: k bytes, then the rest */
				size_t cuts[2] = { pass ? k : n, n }, pos = 0;

				buf_free(&in);
				buf_init(&in, 0);
				ngot[pass] = 0;
				last[pass] = 0;
				for (int c = 0; c < 2 && last[pass] != -1; c++) {
					int rc;

					if (cuts[c] > pos)
						buf_add(&in, s + pos, cuts[c] - pos);
					pos = cuts[c];
					while ((rc = px_reply_take(&in, &r)) == 1) {
						cr_assert_lt(ngot[pass], 16);
						snprintf(got[pass][ngot[pass]++],
							 PX_REPLY_TEXT + 16, "%d %s", r.code,
							 r.text);
					}
					last[pass] = rc;
				}
			}
			cr_assert_eq(ngot[1], ngot[0],
				     "stream %zu split at %zu: got %d replies, "
				     "want %d",
				     i, k, ngot[1], ngot[0]);
			for (int j = 0; j < ngot[0]; j++)
				cr_assert_str_eq(got[1][j], got[0][j],
						 "stream %zu split at %zu: reply %d", i, k, j);
			cr_assert_eq(last[1], last[0],
				     "stream %zu split at %zu: got rc %d, want %d", i, k, last[1],
				     last[0]);
		}
	}
}

/* ---- the last line ---- */

Test(reply, last_line)
{
	static struct px_reply r;
	char b[64];

	fill("250-mx.example.org\r\n250-SIZE 100\r\n250 CHUNKING\r\n", 48);
	cr_assert_eq(px_reply_take(&in, &r), 1);
	cr_assert_str_eq(px_reply_last(&r, b, sizeof(b)), "CHUNKING");
	fill("550 5.1.1 <a@example.org>: Recipient address rejected\r\n", 56);
	cr_assert_eq(px_reply_take(&in, &r), 1);
	cr_assert_str_eq(px_reply_last(&r, b, sizeof(b)),
			 "5.1.1 <a@example.org>: Recipient address rejected");
	cr_assert_str_eq(px_reply_last(&r, b, 6), "5.1.1", "got '%s' cut to 6", b);
	fill("250\r\n", 5);
	cr_assert_eq(px_reply_take(&in, &r), 1);
	cr_assert_str_eq(px_reply_last(&r, b, sizeof(b)), "");
	fill("421 x\n", 6);
	cr_assert_eq(px_reply_take(&in, &r), 1);
	cr_assert_str_eq(px_reply_last(&r, b, sizeof(b)), "x");
}

/* ---- EHLO capabilities ---- */

static void caps_of(const char *ehlo, struct px_caps *c)
{
	static struct px_reply r;
	int rc;

	fill(ehlo, strlen(ehlo));
	rc = px_reply_take(&in, &r);
	cr_assert_eq(rc, 1, "got rc %d for the EHLO reply", rc);
	memset(c, 0x5a, sizeof(*c));
	px_caps_parse(&r, c);
	cr_assert(memchr(c->auth, '\0', sizeof(c->auth)), "got auth unterminated");
}

Test(reply, caps_postfix)
{
	struct px_caps c;

	caps_of("250-mail.example.org\r\n"
		"250-PIPELINING\r\n"
		"250-SIZE 10240000\r\n"
		"250-VRFY\r\n"
		"250-ETRN\r\n"
		"250-STARTTLS\r\n"
		"250-AUTH PLAIN LOGIN\r\n"
		"250-AUTH=PLAIN LOGIN\r\n"
		"250-ENHANCEDSTATUSCODES\r\n"
		"250-8BITMIME\r\n"
		"250-DSN\r\n"
		"250-SMTPUTF8\r\n"
		"250-XCLIENT NAME ADDR PROTO HELO REVERSE_NAME PORT LOGIN DESTADDR DESTPORT\r\n"
		"250 CHUNKING\r\n",
		&c);
	cr_assert_eq(c.bits,
		     PX_CAP_PIPELINING | PX_CAP_SIZE | PX_CAP_8BITMIME | PX_CAP_SMTPUTF8 |
			 PX_CAP_DSN | PX_CAP_ENHANCED | PX_CAP_STARTTLS | PX_CAP_AUTH |
			 PX_CAP_XCLIENT | PX_CAP_CHUNKING,
		     "got bits 0x%x", c.bits);
	cr_assert_eq(c.size, 10240000ULL, "got size %llu, want 10240000", c.size);
	cr_assert_str_eq(c.auth, "PLAIN LOGIN", "got auth '%s'", c.auth);
}

Test(reply, caps_postfix_after_starttls_no_auth)
{
	struct px_caps c;

	caps_of("250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE\r\n250-ETRN\r\n"
		"250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250 DSN\r\n",
		&c);
	cr_assert_eq(c.bits,
		     PX_CAP_PIPELINING | PX_CAP_SIZE | PX_CAP_ENHANCED | PX_CAP_8BITMIME |
			 PX_CAP_DSN,
		     "got bits 0x%x", c.bits);
	cr_assert_eq(c.size, 0, "got size %llu, want 0 (SIZE without a value)", c.size);
	cr_assert_str_eq(c.auth, "");
}

Test(reply, caps_exim)
{
	struct px_caps c;

	caps_of("250-mx.example.net Hello client.example.org [192.0.2.10]\r\n"
		"250-SIZE 52428800\r\n250-8BITMIME\r\n250-PIPELINING\r\n250-PIPE_CONNECT\r\n"
		"250-AUTH PLAIN LOGIN CRAM-MD5\r\n250-CHUNKING\r\n250-STARTTLS\r\n250-PRDR\r\n"
		"250 HELP\r\n",
		&c);
	cr_assert_eq(c.bits,
		     PX_CAP_SIZE | PX_CAP_8BITMIME | PX_CAP_PIPELINING | PX_CAP_AUTH |
			 PX_CAP_CHUNKING | PX_CAP_STARTTLS,
		     "got bits 0x%x", c.bits);
	cr_assert_eq(c.size, 52428800ULL);
	cr_assert_str_eq(c.auth, "PLAIN LOGIN CRAM-MD5");
}

Test(reply, caps_odd)
{
	struct px_caps c;

	/* one line: a name, no capabilities, even if it reads like one */
	caps_of("250 PIPELINING\r\n", &c);
	cr_assert_eq(c.bits, 0, "got bits 0x%x from the name line", c.bits);
	caps_of("250-SIZE 10\r\n250 8BITMIME\r\n", &c);
	cr_assert_eq(c.bits, PX_CAP_8BITMIME, "got bits 0x%x", c.bits);
	cr_assert_eq(c.size, 0, "got size %llu from the name line", c.size);
	/* lower case, bare LF, old AUTH= form alone */
	caps_of("250-x\n250-pipelining\n250-auth=LOGIN\n250 starttls\n", &c);
	cr_assert_eq(c.bits, PX_CAP_PIPELINING | PX_CAP_AUTH | PX_CAP_STARTTLS, "got 0x%x", c.bits);
	cr_assert_str_eq(c.auth, "LOGIN");
	/* prefixes and longer words are other keywords */
	caps_of("250-x\r\n250-PIPELININGX\r\n250-SIZES 5\r\n250-DSNX\r\n250 XCLIENTS\r\n", &c);
	cr_assert_eq(c.bits, 0, "got bits 0x%x", c.bits);
	cr_assert_eq(c.size, 0);
	/* AUTH without mechanisms is no AUTH */
	caps_of("250-x\r\n250 AUTH\r\n", &c);
	cr_assert_eq(c.bits & PX_CAP_AUTH, 0, "got AUTH without mechanisms");
	/* a long AUTH list is cut, terminated */
	{
		static char ehlo[1024];
		size_t n = (size_t)snprintf(ehlo, sizeof(ehlo), "250-x\r\n250 AUTH");

		for (int i = 0; i < 40; i++)
			n += (size_t)snprintf(ehlo + n, sizeof(ehlo) - n, " MECH%02d", i);
		snprintf(ehlo + n, sizeof(ehlo) - n, "\r\n");
		caps_of(ehlo, &c);
		cr_assert_eq(strlen(c.auth), sizeof(c.auth) - 1, "got %zu bytes of auth",
			     strlen(c.auth));
		cr_assert(!strncmp(c.auth, "MECH00 MECH01", 13), "got auth '%s'", c.auth);
	}
	/* SIZE too big for its type: no crash, some value */
	caps_of("250-x\r\n250 SIZE 99999999999999999999999999\r\n", &c);
	cr_assert_eq(c.bits, PX_CAP_SIZE);
}
