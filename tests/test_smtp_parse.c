// SPDX-License-Identifier: GPL-2.0
/*
 * test_smtp_parse.c - the SMTP command parser of the proxy: the line framer,
 * the verb splitter, the MAIL/RCPT path grammar (RFC 5321 4.1.2) and the
 * relay-domain matcher.
 *
 * The framer is fed the way the session feeds it: a buffer that grows at the
 * end, sp_frame() called until it needs more, *consumed dropped from the front.
 * Every input is fed whole, split in two at every byte, and one byte at a time;
 * the lines and SP_TOO_LONG events must be the same each time, and the same as
 * the table says. Every call gets an exact-size heap copy of the buffer, so
 * ASan catches a read past what the caller holds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "../proxy/smtp_parse.h"
#include "lib/held.h"

/* Long strings, spelled out by the preprocessor. */
#define S10(c)	c c c c c c c c c c
#define S60(c)	S10(c) S10(c) S10(c) S10(c) S10(c) S10(c)
#define S100(c) S10(c) S10(c) S10(c) S10(c) S10(c) S10(c) S10(c) S10(c) S10(c) S10(c)
#define S500(c) S100(c) S100(c) S100(c) S100(c) S100(c)
#define L63	S60("l") "lll"
#define L64	S60("l") "llll"
#define L65	L64 "l"
#define D63	S60("d") "ddd"
#define D62	S60("d") "dd"
#define D61	S60("d") "d"
#define D60	S60("d")
/* Domains of 188 to 256 characters, every label at most 63. */
#define DOM188 D63 "." D63 "." D60
#define DOM189 D63 "." D63 "." D61
#define DOM190 D63 "." D63 "." D62
#define DOM252 D63 "." D63 "." D63 "." D60
#define DOM253 D63 "." D63 "." D63 "." D61
#define DOM254 D63 "." D63 "." D63 "." D62
#define DOM256 D63 "." D63 "." D63 "." D62 ".x"
#define V199   S100("v") S60("v") S10("v") S10("v") S10("v") "vvvvvvvvv"

/* Heap copies the tests hand to the parser are exact-size (ASan sees a read
 * past the end); .fini frees what a failed assertion left held. */
static struct th_held held = { .cap = 8 };

static void release(void)
{
	th_release(&held);
}

TestSuite(smtp_parse, .fini = release);

/* ---- framing ---- */

#define MAX_EV	16
#define EV_TEXT 520

struct frame_ev {
	int rc; /* SP_LINE or SP_TOO_LONG */
	char text[EV_TEXT];
};

/* Inline arrays only: Criterion copies parameters into re-executed workers. */
struct frame_case {
	char name[48];
	size_t max;
	char in[2048];
	int nev;
	struct frame_ev ev[MAX_EV];
	char rest[64]; /* what stays in the caller's buffer at the end */
};

/* What a caller saw. */
struct frame_log {
	int n;
	int rc[MAX_EV + 4];
	size_t len[MAX_EV + 4];
	char text[MAX_EV + 4][EV_TEXT];
};

/* A caller that keeps a buffer, as the session does. */
struct caller {
	struct sp_framer f;
	char buf[4096];
	size_t len;
	struct frame_log *log;
};

static void caller_init(struct caller *c, size_t max, struct frame_log *log)
{
	c->len = 0;
	sp_framer_init(&c->f, max);
	memset(log, 0, sizeof(*log));
	c->log = log;
}

/* Append n bytes, then frame until the framer needs more. */
static void caller_feed(struct caller *c, const char *p, size_t n)
{
	cr_assert_leq(c->len + n, sizeof(c->buf));
	memcpy(c->buf + c->len, p, n);
	c->len += n;
	for (int guard = 0;; guard++) {
		/* An exact-size copy: a read past c->len is an ASan report. */
		char *exact = th_hold(&held, c->buf, c->len);
		size_t line_len = 12345, used = 12345;
		int rc;

		cr_assert_lt(guard, 100000, "got no end to the framing loop, want one");
		rc = sp_frame(&c->f, exact, c->len, &line_len, &used);
		cr_assert(rc == SP_AGAIN || rc == SP_LINE || rc == SP_TOO_LONG,
			  "got rc %d, want SP_AGAIN, SP_LINE or SP_TOO_LONG", rc);
		cr_assert_leq(used, c->len, "got consumed %zu, want at most the %zu bytes held",
			      used, c->len);
		if (rc == SP_LINE || rc == SP_TOO_LONG) {
			struct frame_log *l = c->log;

			cr_assert_gt(used, 0, "got rc %d with nothing consumed, want progress", rc);
			cr_assert_lt(l->n, MAX_EV + 4, "got more than %d events", MAX_EV + 4);
			l->rc[l->n] = rc;
			l->len[l->n] = 0;
			l->text[l->n][0] = '\0';
			if (rc == SP_LINE) {
				cr_assert_lt(line_len, c->f.max,
					     "got line length %zu, want less than max %zu",
					     line_len, c->f.max);
				cr_assert_lt(line_len, used, "got line length %zu, consumed %zu",
					     line_len, used);
				cr_assert_lt(line_len, (size_t)EV_TEXT);
				memcpy(l->text[l->n], exact, line_len);
				l->text[l->n][line_len] = '\0';
				l->len[l->n] = line_len;
				/* The line end was consumed with it: CRLF or a bare LF. */
				cr_assert_eq(exact[used - 1], '\n', "got line not ended by LF");
				cr_assert(used == line_len + 1 ||
					      (used == line_len + 2 && exact[line_len] == '\r'),
					  "got line %zu consumed %zu, want the line and its end",
					  line_len, used);
			}
			l->n++;
		}
		th_let_go(&held, exact);
		memmove(c->buf, c->buf + used, c->len - used);
		c->len -= used;
		if (rc == SP_AGAIN && !used)
			break;
	}
}

static void check_log(const struct frame_case *c, const struct frame_log *l, const char *how)
{
	cr_assert_eq(l->n, c->nev, "%s (%s): got %d events, want %d", c->name, how, l->n, c->nev);
	for (int i = 0; i < c->nev; i++) {
		cr_assert_eq(l->rc[i], c->ev[i].rc, "%s (%s): event %d: got rc %d, want %d",
			     c->name, how, i, l->rc[i], c->ev[i].rc);
		cr_assert_str_eq(l->text[i], c->ev[i].text,
				 "%s (%s): event %d: got line '%.60s' (%zu), want '%.60s' (%zu)",
				 c->name, how, i, l->text[i], strlen(l->text[i]), c->ev[i].text,
				 strlen(c->ev[i].text));
	}
}

static void check_rest(const struct frame_case *c, const struct caller *k, const char *how)
{
	size_t want = strlen(c->rest);

	cr_assert(k->len == want && !memcmp(k->buf, c->rest, want),
		  "%s (%s): got %zu bytes left '%.*s', want '%s'", c->name, how, k->len,
		  (int)(k->len > 60 ? 60 : k->len), k->buf, c->rest);
}

#define LN(t)                                                                                      \
	{                                                                                          \
		SP_LINE, t                                                                         \
	}
#define TL                                                                                         \
	{                                                                                          \
		SP_TOO_LONG, ""                                                                    \
	}

static const struct frame_case frame_cases[] = {
	{ "pipelined crlf",
	  512,
	  "EHLO client.example.org\r\nMAIL FROM:<a@example.org> SIZE=120\r\n"
	  "RCPT TO:<b@example.net>\r\nRCPT TO:<c@example.net>\r\nDATA\r\n",
	  5,
	  { LN("EHLO client.example.org"), LN("MAIL FROM:<a@example.org> SIZE=120"),
	    LN("RCPT TO:<b@example.net>"), LN("RCPT TO:<c@example.net>"), LN("DATA") },
	  "" },
	{ "bare lf endings",
	  512,
	  "EHLO x\nMAIL FROM:<a@example.org>\nRCPT TO:<b@example.net>\r\nDATA\n",
	  4,
	  { LN("EHLO x"), LN("MAIL FROM:<a@example.org>"), LN("RCPT TO:<b@example.net>"),
	    LN("DATA") },
	  "" },
	{ "empty lines",
	  512,
	  "\r\n\nNOOP\r\n\r\n\n\rQUIT\r\n",
	  6,
	  { LN(""), LN(""), LN("NOOP"), LN(""), LN(""), LN("\rQUIT") },
	  "" },
	{ "incomplete last line",
	  512,
	  "RSET\r\nNOOP\r\nQUI",
	  2,
	  { LN("RSET"), LN("NOOP") },
	  "QUI" },
	{ "cr without lf is not a line end", 512, "NOOP\rNOOP\r\n", 1, { LN("NOOP\rNOOP") }, "" },
	{ "over-long line between good ones",
	  512,
	  "EHLO x\r\nMAIL FROM:<" S500("a") "@example.org>\r\nRCPT TO:<b@example.net>\r\nQUIT\r\n",
	  4,
	  { LN("EHLO x"), TL, LN("RCPT TO:<b@example.net>"), LN("QUIT") },
	  "" },
	{ "over-long line, bare lf",
	  512,
	  "NOOP\n" S500("b") S10("b") "bb\nNOOP\n",
	  3,
	  { LN("NOOP"), TL, LN("NOOP") },
	  "" },
	{ "two over-long lines in a row",
	  512,
	  S500("c") "cccccccccccc\r\n" S500("d") "dddddddddddd\r\nQUIT\r\n",
	  3,
	  { TL, TL, LN("QUIT") },
	  "" },
	{ "input ends inside an over-long line",
	  512,
	  "NOOP\r\n" S500("e") S100("e"),
	  2,
	  { LN("NOOP"), TL },
	  "" },
	{ "510 + crlf is exactly 512",
	  512,
	  S500("f") "ffffffffff\r\nQUIT\r\n",
	  2,
	  { LN(S500("f") "ffffffffff"), LN("QUIT") },
	  "" },
	{ "511 + lf is exactly 512",
	  512,
	  S500("g") "ggggggggggg\nQUIT\r\n",
	  2,
	  { LN(S500("g") "ggggggggggg"), LN("QUIT") },
	  "" },
	{ "511 + crlf is 513",
	  512,
	  S500("h") "hhhhhhhhhhh\r\nQUIT\r\n",
	  2,
	  { TL, LN("QUIT") },
	  "" },
	{ "small limit, exactly at it",
	  8,
	  "123456\r\n1234567\n1234567\r\n12345678\nok\r\n",
	  5,
	  { LN("123456"), LN("1234567"), TL, TL, LN("ok") },
	  "" },
	{ "small limit, long tail left", 8, "ok\r\n12345678", 2, { LN("ok"), TL }, "" },
	{ "small limit, short tail kept", 8, "ok\r\n1234567", 1, { LN("ok") }, "1234567" },
	{ "over-long then empty line", 8, "123456789\r\n\r\nx\n", 3, { TL, LN(""), LN("x") }, "" },
	{ "binary bytes are the caller's business",
	  512,
	  "NOOP \x01\x7f\xff\r\nQUIT\r\n",
	  2,
	  { LN("NOOP \x01\x7f\xff"), LN("QUIT") },
	  "" },
};

ParameterizedTestParameters(smtp_parse, frame)
{
	return cr_make_param_array(struct frame_case, frame_cases,
				   sizeof(frame_cases) / sizeof(frame_cases[0]));
}

ParameterizedTest(const struct frame_case *c, smtp_parse, frame)
{
	size_t len = strlen(c->in);
	static struct frame_log log_, *log = &log_;
	static struct caller k;
	char how[64];

	/* Whole. */
	caller_init(&k, c->max, log);
	caller_feed(&k, c->in, len);
	check_log(c, log, "whole");
	check_rest(c, &k, "whole");

	/* Split in two at every byte. */
	for (size_t at = 0; at <= len; at++) {
		snprintf(how, sizeof(how), "split at %zu", at);
		caller_init(&k, c->max, log);
		caller_feed(&k, c->in, at);
		caller_feed(&k, c->in + at, len - at);
		check_log(c, log, how);
		check_rest(c, &k, how);
	}

	/* One byte at a time. */
	caller_init(&k, c->max, log);
	for (size_t i = 0; i < len; i++)
		caller_feed(&k, c->in + i, 1);
	check_log(c, log, "byte by byte");
	check_rest(c, &k, "byte by byte");

	/* Split in three: the 64 first and last positions against each other. */
	for (size_t a = 0; a <= len && a < 64; a++)
		for (size_t b = len > 64 ? len - 64 : a; b <= len; b++) {
			if (b < a)
				continue;
			snprintf(how, sizeof(how), "split at %zu and %zu", a, b);
			caller_init(&k, c->max, log);
			caller_feed(&k, c->in, a);
			caller_feed(&k, c->in + a, b - a);
			caller_feed(&k, c->in + b, len - b);
			check_log(c, log, how);
			check_rest(c, &k, how);
		}
}

/*
 * The contract callers must honour: after the rest of an over-long line is
 * dropped, SP_AGAIN comes back with consumed > 0 and the lines behind it are
 * still in the buffer, returned by the next call. (A caller that stops at the
 * first SP_AGAIN strands them.)
 */
Test(smtp_parse, frame_skip_then_again_with_progress)
{
	static const char first[] = "123456789";
	static const char rest[] = "0\r\nQUIT\r\n";
	struct sp_framer f;
	size_t line_len, used;
	int rc;

	sp_framer_init(&f, 8);
	rc = sp_frame(&f, first, strlen(first), &line_len, &used);
	cr_assert_eq(rc, SP_TOO_LONG, "got rc %d, want SP_TOO_LONG", rc);
	cr_assert_eq(used, strlen(first), "got consumed %zu, want %zu", used, strlen(first));
	rc = sp_frame(&f, rest, strlen(rest), &line_len, &used);
	cr_assert_eq(rc, SP_AGAIN, "got rc %d, want SP_AGAIN (the skipped end)", rc);
	cr_assert_eq(used, 3, "got consumed %zu, want 3 (\"0\\r\\n\")", used);
	rc = sp_frame(&f, rest + 3, strlen(rest) - 3, &line_len, &used);
	cr_assert_eq(rc, SP_LINE, "got rc %d, want SP_LINE", rc);
	cr_assert_eq(line_len, 4, "got line length %zu, want 4", line_len);
	cr_assert_eq(used, 6, "got consumed %zu, want 6", used);
}

/* SP_TOO_LONG is reported once per line, however it arrives. */
Test(smtp_parse, frame_too_long_once)
{
	struct sp_framer f;
	size_t line_len, used;
	int rc, too_long = 0;

	sp_framer_init(&f, 16);
	for (int i = 0; i < 1000; i++) {
		rc = sp_frame(&f, "xxxxxxxxxxxxxxxxxxxx", 20, &line_len, &used);
		cr_assert_eq(used, 20, "got consumed %zu, want 20 (all skipped)", used);
		too_long += rc == SP_TOO_LONG;
		cr_assert_neq(rc, SP_LINE, "got a line from inside an over-long one");
	}
	cr_assert_eq(too_long, 1, "got %d SP_TOO_LONG, want 1", too_long);
	rc = sp_frame(&f, "x\r\nNOOP\r\n", 9, &line_len, &used);
	cr_assert_eq(rc, SP_AGAIN, "got rc %d, want SP_AGAIN", rc);
	cr_assert_eq(used, 3, "got consumed %zu, want 3", used);
	rc = sp_frame(&f, "NOOP\r\n", 6, &line_len, &used);
	cr_assert_eq(rc, SP_LINE, "got rc %d, want SP_LINE", rc);
	cr_assert_eq(line_len, 4, "got line length %zu, want 4", line_len);
}

Test(smtp_parse, frame_empty_input)
{
	struct sp_framer f;
	size_t line_len = 1, used = 1;

	sp_framer_init(&f, 512);
	cr_assert_eq(sp_frame(&f, "", 0, &line_len, &used), SP_AGAIN);
	cr_assert_eq(used, 0, "got consumed %zu, want 0", used);
	cr_assert_eq(line_len, 0, "got line length %zu, want 0", line_len);
}

/* ---- commands ---- */

/* An argument holding NUL bytes, and its length. */
#define NUL_ARG(s) s, sizeof(s) - 1

struct cmd_case {
	char name[48];
	char line[64];
	size_t len; /* 0: strlen(line) */
	int rc;
	int verb;
	char vname[16];
	char arg[48];
};

static const struct cmd_case cmd_cases[] = {
	{ "ehlo", "EHLO client.example.org", 0, 0, SP_EHLO, "EHLO", "client.example.org" },
	{ "lower case", "ehlo client.example.org", 0, 0, SP_EHLO, "EHLO", "client.example.org" },
	{ "mixed case", "MaIl FROM:<a@example.org>", 0, 0, SP_MAIL, "MAIL",
	  "FROM:<a@example.org>" },
	{ "rcpt", "RCPT TO:<b@example.net>", 0, 0, SP_RCPT, "RCPT", "TO:<b@example.net>" },
	{ "no argument", "DATA", 0, 0, SP_DATA, "DATA", "" },
	{ "quit", "quit", 0, 0, SP_QUIT, "QUIT", "" },
	{ "trailing blanks only", "RSET  \t ", 0, 0, SP_RSET, "RSET", "" },
	{ "several blanks", "HELO   \t  host  ", 0, 0, SP_HELO, "HELO", "host" },
	{ "tab separator", "NOOP\tx y", 0, 0, SP_NOOP, "NOOP", "x y" },
	{ "blanks inside kept", "VRFY a  b", 0, 0, SP_VRFY, "VRFY", "a  b" },
	{ "starttls", "STARTTLS", 0, 0, SP_STARTTLS, "STARTTLS", "" },
	{ "auth", "AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=", 0, 0, SP_AUTH, "AUTH",
	  "PLAIN dGVzdAB0ZXN0AHRlc3Q=" },
	{ "bdat", "BDAT 100 LAST", 0, 0, SP_BDAT, "BDAT", "100 LAST" },
	{ "xclient", "XCLIENT ADDR=1.2.3.4", 0, 0, SP_XCLIENT, "XCLIENT", "ADDR=1.2.3.4" },
	{ "xforward", "xforward NAME=x", 0, 0, SP_XFORWARD, "XFORWARD", "NAME=x" },
	{ "etrn", "ETRN example.org", 0, 0, SP_ETRN, "ETRN", "example.org" },
	{ "expn help turn", "EXPN list", 0, 0, SP_EXPN, "EXPN", "list" },
	{ "help", "HELP", 0, 0, SP_HELP, "HELP", "" },
	{ "turn", "TURN", 0, 0, SP_TURN, "TURN", "" },
	{ "unknown verb", "FOO bar", 0, 0, SP_UNKNOWN, "FOO", "bar" },
	{ "15 letters", "ABCDEFGHIJKLMNO x", 0, 0, SP_UNKNOWN, "ABCDEFGHIJKLMNO", "x" },
	{ "8bit argument", "HELO h\xc3\xa9llo", 0, 0, SP_HELO, "HELO", "h\xc3\xa9llo" },
	{ "prefix of a verb", "MAILX a", 0, 0, SP_UNKNOWN, "MAILX", "a" },
	/* refused */
	{ "16 letters", "ABCDEFGHIJKLMNOP x", 0, -1, 0, "", "" },
	{ "16 letters alone", "ABCDEFGHIJKLMNOP", 0, -1, 0, "", "" },
	{ "empty", "", 0, -1, 0, "", "" },
	{ "blanks only", "   ", 0, -1, 0, "", "" },
	{ "leading blank", " MAIL FROM:<a@b>", 0, -1, 0, "", "" },
	{ "digit in verb", "EHLO1 x", 0, -1, 0, "", "" },
	{ "digit first", "8BITMIME", 0, -1, 0, "", "" },
	{ "colon after verb", "MAIL:FROM", 0, -1, 0, "", "" },
	{ "nul in argument", NUL_ARG("MAIL FROM:<a@b>\0x"), -1, 0, "", "" },
	{ "nul in verb", NUL_ARG("MA\0L x"), -1, 0, "", "" },
	{ "nul alone", NUL_ARG("\0"), -1, 0, "", "" },
	{ "del", "NOOP \x7f", 0, -1, 0, "", "" },
	{ "cr inside", "NOOP a\rb", 0, -1, 0, "", "" },
	{ "lf inside", "NOOP a\nb", 0, -1, 0, "", "" },
	{ "escape", "HELO \x1b[2J", 0, -1, 0, "", "" },
	{ "control 0x1f", "HELO a\x1f", 0, -1, 0, "", "" },
	{ "8bit verb", "\xc3\xa9HLO x", 0, -1, 0, "", "" },
};

ParameterizedTestParameters(smtp_parse, command)
{
	return cr_make_param_array(struct cmd_case, cmd_cases,
				   sizeof(cmd_cases) / sizeof(cmd_cases[0]));
}

ParameterizedTest(const struct cmd_case *c, smtp_parse, command)
{
	size_t len = c->len ? c->len : strlen(c->line);
	char *exact = th_hold(&held, c->line, len);
	struct sp_cmd cmd;
	int rc;

	memset(&cmd, 0x5a, sizeof(cmd));
	rc = sp_command(exact, len, &cmd);
	cr_assert_eq(rc, c->rc, "%s: got rc %d, want %d", c->name, rc, c->rc);
	if (!rc) {
		cr_assert_eq((int)cmd.verb, c->verb, "%s: got verb %d, want %d", c->name,
			     (int)cmd.verb, c->verb);
		cr_assert(memchr(cmd.name, '\0', sizeof(cmd.name)), "%s: got name unterminated",
			  c->name);
		cr_assert_str_eq(cmd.name, c->vname, "%s: got name %s, want %s", c->name, cmd.name,
				 c->vname);
		cr_assert(cmd.arg >= exact && cmd.arg + cmd.arg_len <= exact + len,
			  "%s: got arg outside the line", c->name);
		cr_assert(cmd.arg_len == strlen(c->arg) && !memcmp(cmd.arg, c->arg, cmd.arg_len),
			  "%s: got arg '%.*s', want '%s'", c->name, (int)cmd.arg_len, cmd.arg,
			  c->arg);
	}
	th_let_go(&held, exact);
}

Test(smtp_parse, verb_names)
{
	for (int v = 1; v < SP_VERB_MAX; v++) {
		const char *n = sp_verb_name((enum sp_verb)v);
		char lower[16];
		size_t i;

		cr_assert_neq(strcmp(n, "?"), 0, "got no name for verb %d", v);
		cr_assert_eq((int)sp_verb_lookup(n), v, "got %d for %s, want %d",
			     (int)sp_verb_lookup(n), n, v);
		for (i = 0; n[i] && i < sizeof(lower) - 1; i++)
			lower[i] = (char)(n[i] | 0x20);
		lower[i] = '\0';
		cr_assert_eq((int)sp_verb_lookup(lower), v, "got %d for %s, want %d",
			     (int)sp_verb_lookup(lower), lower, v);
	}
	cr_assert_str_eq(sp_verb_name(SP_UNKNOWN), "?");
	cr_assert_str_eq(sp_verb_name(SP_VERB_MAX), "?");
	cr_assert_str_eq(sp_verb_name((enum sp_verb)1000), "?");
	cr_assert_eq(sp_verb_lookup("MAI"), SP_UNKNOWN);
	cr_assert_eq(sp_verb_lookup(""), SP_UNKNOWN);
	cr_assert_eq(sp_verb_lookup("?"), SP_UNKNOWN);
}

/* ---- paths ---- */

#define MAIL	  0
#define RCPT	  1
#define MAX_PWANT 4

struct want_param {
	char key[24];
	char value[200];
	int has_value;
};

struct path_case {
	char name[48];
	int is_rcpt;
	char arg[400];
	size_t len; /* 0: strlen(arg); set for arguments holding NUL */
	int rc;
	/* checked when rc is SP_PATH_OK */
	char addr[SP_PATH_MAX + 1];
	size_t local_len;
	char domain[SP_PATH_MAX + 1];
	int null_path;
	int utf8;
	int nparams;
	struct want_param params[MAX_PWANT];
};

/* Designated initializers: a case names only what it checks. */
#define OK(n, r, a, ad, ll, dom, ...)                                                              \
	{                                                                                          \
		.name = n, .is_rcpt = r, .arg = a, .rc = SP_PATH_OK, .addr = ad, .local_len = ll,  \
		.domain = dom, __VA_ARGS__                                                         \
	}
#define BAD(n, r, a, want)                                                                         \
	{                                                                                          \
		.name = n, .is_rcpt = r, .arg = a, .rc = want                                      \
	}
/* An argument holding NUL bytes: its length is the literal's. */
#define BADN(n, r, a, want)                                                                        \
	{                                                                                          \
		.name = n, .is_rcpt = r, .arg = a, .len = sizeof(a) - 1, .rc = want                \
	}
#define P(k, v)                                                                                    \
	{                                                                                          \
		k, v, 1                                                                            \
	}
#define KW(k)                                                                                      \
	{                                                                                          \
		k, "", 0                                                                           \
	}

static const struct path_case path_cases[] = {
	/* valid */
	OK("plain", MAIL, "FROM:<user@example.org>", "user@example.org", 4, "example.org"),
	OK("plain rcpt", RCPT, "TO:<User.Name+tag@Sub.Example.ORG>",
	   "User.Name+tag@Sub.Example.ORG", 13, "Sub.Example.ORG"),
	OK("keyword in lower case", MAIL, "from:<a@example.org>", "a@example.org", 1,
	   "example.org"),
	OK("rcpt keyword mixed case", RCPT, "To:<a@example.org>", "a@example.org", 1,
	   "example.org"),
	OK("blanks after the colon", MAIL, "FROM:   <a@example.org>", "a@example.org", 1,
	   "example.org"),
	OK("blank after the colon, rcpt", RCPT, "TO: <a@example.org>", "a@example.org", 1,
	   "example.org"),
	OK("atext specials", MAIL, "FROM:<!#$%&'*+-/=?^_`{|}~@example.org>",
	   "!#$%&'*+-/=?^_`{|}~@example.org", 19, "example.org"),
	OK("quoted local part with spaces", MAIL, "FROM:<\"john smith\"@example.org>",
	   "\"john smith\"@example.org", 12, "example.org"),
	OK("quoted local part with escapes", RCPT, "TO:<\"a\\\"b\\\\c\"@example.org>",
	   "\"a\\\"b\\\\c\"@example.org", 9, "example.org"),
	OK("quoted local part with > and @", RCPT, "TO:<\"a>b@c\"@example.org>",
	   "\"a>b@c\"@example.org", 7, "example.org"),
	OK("empty quoted local part", MAIL, "FROM:<\"\"@example.org>", "\"\"@example.org", 2,
	   "example.org"),
	OK("address literal v4", RCPT, "TO:<postmaster@[192.0.2.1]>", "postmaster@[192.0.2.1]", 10,
	   "[192.0.2.1]"),
	OK("address literal v6", MAIL, "FROM:<user@[IPv6:2001:db8::1]>", "user@[IPv6:2001:db8::1]",
	   4, "[IPv6:2001:db8::1]"),
	OK("source route dropped", RCPT, "TO:<@a.example,@b.example:user@d.example>",
	   "user@d.example", 4, "d.example"),
	OK("one-hop source route", MAIL, "FROM:<@relay.example:u@example.org>", "u@example.org", 1,
	   "example.org"),
	OK("null path", MAIL, "FROM:<>", "", 0, "", .null_path = 1),
	OK("null path with params", MAIL, "FROM:<> SIZE=1000 BODY=7BIT", "", 0, "", .null_path = 1,
	   .nparams = 2, .params = { P("SIZE", "1000"), P("BODY", "7BIT") }),
	OK("postmaster", RCPT, "TO:<postmaster>", "postmaster", 10, ""),
	OK("postmaster any case", RCPT, "TO:<PostMaster>", "PostMaster", 10, ""),
	OK("postmaster at a domain", MAIL, "FROM:<postmaster@example.org>",
	   "postmaster@example.org", 10, "example.org"),
	OK("params", MAIL, "FROM:<a@example.org> SIZE=10 BODY=8BITMIME SMTPUTF8", "a@example.org",
	   1, "example.org", .nparams = 3,
	   .params = { P("SIZE", "10"), P("BODY", "8BITMIME"), KW("SMTPUTF8") }),
	OK("dsn params", MAIL, "FROM:<a@example.org> RET=HDRS ENVID=QQ314159", "a@example.org", 1,
	   "example.org", .nparams = 2, .params = { P("RET", "HDRS"), P("ENVID", "QQ314159") }),
	OK("rcpt dsn params", RCPT,
	   "TO:<b@example.org> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b@example.org", "b@example.org",
	   1, "example.org", .nparams = 2,
	   .params = { P("NOTIFY", "SUCCESS,FAILURE"), P("ORCPT", "rfc822;b@example.org") }),
	OK("params, several blanks", MAIL, "FROM:<a@example.org>   SIZE=1    X-Y-1=z  ",
	   "a@example.org", 1, "example.org", .nparams = 2,
	   .params = { P("SIZE", "1"), P("X-Y-1", "z") }),
	OK("utf-8 address", MAIL,
	   "FROM:<j\xc3\xb6rg@b\xc3\xbc"
	   "cher.example> SMTPUTF8",
	   "j\xc3\xb6rg@b\xc3\xbc"
	   "cher.example",
	   5,
	   "b\xc3\xbc"
	   "cher.example",
	   .utf8 = 1, .nparams = 1, .params = { KW("SMTPUTF8") }),
	OK("utf-8 in a quoted local part", RCPT, "TO:<\"\xe7\x94\xa8 \xe6\x88\xb7\"@example.org>",
	   "\"\xe7\x94\xa8 \xe6\x88\xb7\"@example.org", 9, "example.org", .utf8 = 1),
	OK("utf-8 param value", MAIL, "FROM:<a@example.org> ENVID=\xc3\xa9t\xc3\xa9",
	   "a@example.org", 1, "example.org", .nparams = 1,
	   .params = { P("ENVID", "\xc3\xa9t\xc3\xa9") }),
	OK("hyphens inside labels", RCPT, "TO:<a@mail-1.ex--ample.org>", "a@mail-1.ex--ample.org",
	   1, "mail-1.ex--ample.org"),
	OK("single-label domain", RCPT, "TO:<a@localhost>", "a@localhost", 1, "localhost"),
	OK("local part 64", MAIL, "FROM:<" L64 "@example.org>", L64 "@example.org", 64,
	   "example.org"),
	OK("label 63", RCPT, "TO:<a@" D63 ".org>", "a@" D63 ".org", 1, D63 ".org"),
	/* RFC 5321 4.5.3.1.3: 256 octets with the angle brackets */
	OK("path 256", MAIL, "FROM:<" L64 "@" DOM189 ">", L64 "@" DOM189, 64, DOM189),
	OK("domain 252 in a path of 256", RCPT, "TO:<a@" DOM252 ">", "a@" DOM252, 1, DOM252),
	OK("16 params", MAIL, "FROM:<a@example.org> A B C D E F G H I J K L M N O P=16",
	   "a@example.org", 1, "example.org", .nparams = 16,
	   .params = { KW("A"), KW("B"), KW("C"), KW("D") }),
	OK("param key 23", MAIL, "FROM:<a@example.org> KKKKKKKKKKKKKKKKKKKKKKK=v", "a@example.org",
	   1, "example.org", .nparams = 1, .params = { P("KKKKKKKKKKKKKKKKKKKKKKK", "v") }),
	OK("param value 199", MAIL, "FROM:<a@example.org> ENVID=" V199, "a@example.org", 1,
	   "example.org", .nparams = 1, .params = { P("ENVID", V199) }),

	/* invalid */
	BAD("no brackets", MAIL, "FROM:user@example.org", SP_PATH_SYNTAX),
	BAD("no brackets rcpt", RCPT, "TO:user@example.org", SP_PATH_SYNTAX),
	BAD("missing >", MAIL, "FROM:<user@example.org", SP_PATH_SYNTAX),
	BAD("missing > with params", MAIL, "FROM:<user@example.org SIZE=10", SP_PATH_SYNTAX),
	BAD("nothing after the colon", MAIL, "FROM:", SP_PATH_SYNTAX),
	BAD("blanks only after the colon", RCPT, "TO:   ", SP_PATH_SYNTAX),
	BAD("empty argument", MAIL, "", SP_PATH_SYNTAX),
	BAD("no colon", MAIL, "FROM <a@example.org>", SP_PATH_SYNTAX),
	BAD("blank before the colon", RCPT, "TO :<a@example.org>", SP_PATH_SYNTAX),
	BAD("TO: for MAIL", MAIL, "TO:<a@example.org>", SP_PATH_SYNTAX),
	BAD("FROM: for RCPT", RCPT, "FROM:<a@example.org>", SP_PATH_SYNTAX),
	BAD("local part 65", MAIL, "FROM:<" L65 "@example.org>", SP_PATH_TOO_LONG),
	BAD("quoted local part 65", RCPT, "TO:<\"" L63 "\"@example.org>", SP_PATH_TOO_LONG),
	BAD("domain 256", RCPT, "TO:<a@" DOM256 ">", SP_PATH_TOO_LONG),
	BAD("path 257", MAIL, "FROM:<" L64 "@" DOM190 ">", SP_PATH_TOO_LONG),
	BAD("domain 253 in a path of 257", RCPT, "TO:<a@" DOM253 ">", SP_PATH_TOO_LONG),
	BAD("domain 254", RCPT, "TO:<a@" DOM254 ">", SP_PATH_TOO_LONG),
	BAD("path 257 by its source route", RCPT, "TO:<@" D63 ":a@" DOM188 ">", SP_PATH_TOO_LONG),
	BAD("label 64", RCPT, "TO:<a@" D63 "d.org>", SP_PATH_SYNTAX),
	BAD("double dot local", MAIL, "FROM:<a..b@example.org>", SP_PATH_SYNTAX),
	BAD("double dot domain", MAIL, "FROM:<a@example..org>", SP_PATH_SYNTAX),
	BAD("leading dot local", RCPT, "TO:<.a@example.org>", SP_PATH_SYNTAX),
	BAD("leading dot domain", RCPT, "TO:<a@.example.org>", SP_PATH_SYNTAX),
	BAD("trailing dot local", RCPT, "TO:<a.@example.org>", SP_PATH_SYNTAX),
	BAD("trailing dot domain", RCPT, "TO:<a@example.org.>", SP_PATH_SYNTAX),
	BAD("trailing hyphen label", RCPT, "TO:<a@example-.org>", SP_PATH_SYNTAX),
	BAD("trailing hyphen last label", RCPT, "TO:<a@example.org->", SP_PATH_SYNTAX),
	BAD("leading hyphen label", RCPT, "TO:<a@-example.org>", SP_PATH_SYNTAX),
	BAD("underscore in domain", RCPT, "TO:<a@ex_ample.org>", SP_PATH_SYNTAX),
	BAD("blank in local part", MAIL, "FROM:<a b@example.org>", SP_PATH_SYNTAX),
	BAD("two @", MAIL, "FROM:<a@b@example.org>", SP_PATH_SYNTAX),
	BAD("empty domain", MAIL, "FROM:<a@>", SP_PATH_SYNTAX),
	BAD("empty local part", MAIL, "FROM:<@example.org>", SP_PATH_SYNTAX),
	BAD("empty rcpt", RCPT, "TO:<>", SP_PATH_SYNTAX),
	BAD("null path with params for rcpt", RCPT, "TO:<> NOTIFY=NEVER", SP_PATH_SYNTAX),
	BAD("no domain, mail", MAIL, "FROM:<user>", SP_PATH_SYNTAX),
	BAD("no domain, rcpt", RCPT, "TO:<user>", SP_PATH_SYNTAX),
	BAD("postmaster without domain for mail", MAIL, "FROM:<postmaster>", SP_PATH_SYNTAX),
	BAD("postmaster prefix", RCPT, "TO:<postmasterx>", SP_PATH_SYNTAX),
	BAD("quoted postmaster", RCPT, "TO:<\"postmaster\">", SP_PATH_SYNTAX),
	BAD("source route without colon", RCPT, "TO:<@a.example,@b.example>", SP_PATH_SYNTAX),
	/* Path = "<" [ A-d-l ":" ] Mailbox ">": after a route, a mailbox is required. */
	BAD("source route to nothing, mail", MAIL, "FROM:<@a.example:>", SP_PATH_SYNTAX),
	BAD("source route to nothing, rcpt", RCPT, "TO:<@a.example:>", SP_PATH_SYNTAX),
	BAD("unterminated quote", MAIL, "FROM:<\"abc@example.org>", SP_PATH_SYNTAX),
	BAD("text after the quote", MAIL, "FROM:<\"a\"b@example.org>", SP_PATH_SYNTAX),
	BAD("tab in quotes", MAIL, "FROM:<\"a\tb\"@example.org>", SP_PATH_SYNTAX),
	BAD("escaped control in quotes", MAIL, "FROM:<\"a\\\x01\"@example.org>", SP_PATH_SYNTAX),
	BADN("nul in local part", MAIL, "FROM:<a\0b@example.org>", SP_PATH_SYNTAX),
	BADN("nul in quoted local part", MAIL, "FROM:<\"a\0b\"@example.org>", SP_PATH_SYNTAX),
	BADN("nul in domain", RCPT, "TO:<a@exam\0ple.org>", SP_PATH_SYNTAX),
	BADN("nul in address literal", RCPT, "TO:<a@[192.0.2.1\0]>", SP_PATH_SYNTAX),
	BAD("empty address literal", RCPT, "TO:<a@[]>", SP_PATH_SYNTAX),
	BAD("unclosed address literal", RCPT, "TO:<a@[192.0.2.1>", SP_PATH_SYNTAX),
	BAD("blank in address literal", RCPT, "TO:<a@[192.0.2. 1]>", SP_PATH_SYNTAX),
	BAD("control in local part", MAIL, "FROM:<a\x01@example.org>", SP_PATH_SYNTAX),
	BAD("param without a key", MAIL, "FROM:<a@example.org> =10", SP_PATH_PARAM),
	BAD("param with an empty value", MAIL, "FROM:<a@example.org> SIZE=", SP_PATH_PARAM),
	BAD("param with a colon", MAIL, "FROM:<a@example.org> SIZE:10", SP_PATH_PARAM),
	BAD("param key starting with -", MAIL, "FROM:<a@example.org> -SIZE=1", SP_PATH_PARAM),
	BAD("param key with _", MAIL, "FROM:<a@example.org> X_Y=1", SP_PATH_PARAM),
	/* RFC 5321 4.1.1.2: "MAIL FROM:" Reverse-path [SP Mail-parameters]. */
	BAD("param glued to >", MAIL, "FROM:<a@example.org>SIZE=10", SP_PATH_PARAM),
	BAD("17 params", MAIL, "FROM:<a@example.org> A B C D E F G H I J K L M N O P Q",
	    SP_PATH_PARAM),
	BAD("param key 24", MAIL, "FROM:<a@example.org> KKKKKKKKKKKKKKKKKKKKKKKK=v", SP_PATH_PARAM),
	BAD("param value 200", MAIL, "FROM:<a@example.org> ENVID=" V199 "v", SP_PATH_PARAM),
	BAD("param value with =", MAIL, "FROM:<a@example.org> ENVID=a=b", SP_PATH_PARAM),
	BAD("param value with a control", MAIL, "FROM:<a@example.org> ENVID=a\x01b", SP_PATH_PARAM),
	BAD("param value with del", MAIL, "FROM:<a@example.org> ENVID=a\x7f", SP_PATH_PARAM),
	BAD("param value with tab", RCPT, "TO:<a@example.org> NOTIFY=NEVER\tX=1", SP_PATH_PARAM),
	BADN("param value with nul", MAIL, "FROM:<a@example.org> ENVID=a\0b", SP_PATH_PARAM),
	BAD("tab between params", MAIL, "FROM:<a@example.org> SIZE=1\tBODY=7BIT", SP_PATH_PARAM),
	/* RFC 6531 addresses must be well-formed UTF-8 (RFC 3629) */
	OK("utf-8, 4 bytes", RCPT, "TO:<\xf0\x9f\x93\xa7@example.org>", "\xf0\x9f\x93\xa7@example.org",
	   4, "example.org", .utf8 = 1),
	OK("utf-8, U+10FFFF", RCPT, "TO:<\xf4\x8f\xbf\xbf@example.org>", "\xf4\x8f\xbf\xbf@example.org",
	   4, "example.org", .utf8 = 1),
	OK("utf-8, U+0800", RCPT, "TO:<\xe0\xa0\x80@example.org>", "\xe0\xa0\x80@example.org", 3,
	   "example.org", .utf8 = 1),
	OK("utf-8, U+D7FF", RCPT, "TO:<\xed\x9f\xbf@example.org>", "\xed\x9f\xbf@example.org", 3,
	   "example.org", .utf8 = 1),
	OK("utf-8, U+E000", RCPT, "TO:<\xee\x80\x80@example.org>", "\xee\x80\x80@example.org", 3,
	   "example.org", .utf8 = 1),
	OK("utf-8, U+10000", RCPT, "TO:<\xf0\x90\x80\x80@example.org>",
	   "\xf0\x90\x80\x80@example.org", 4, "example.org", .utf8 = 1),
	BAD("lone continuation byte", RCPT, "TO:<a\x80@example.org>", SP_PATH_SYNTAX),
	BAD("latin-1, not utf-8", RCPT, "TO:<j\xf6rg@example.org>", SP_PATH_SYNTAX),
	BAD("overlong /", RCPT, "TO:<\xc0\xaf@example.org>", SP_PATH_SYNTAX),
	BAD("overlong 3 bytes", RCPT, "TO:<\xe0\x80\xaf@example.org>", SP_PATH_SYNTAX),
	BAD("overlong 4 bytes", RCPT, "TO:<\xf0\x80\x80\xaf@example.org>", SP_PATH_SYNTAX),
	BAD("surrogate", RCPT, "TO:<\xed\xa0\x80@example.org>", SP_PATH_SYNTAX),
	BAD("past U+10FFFF", RCPT, "TO:<\xf4\x90\x80\x80@example.org>", SP_PATH_SYNTAX),
	BAD("0xff", MAIL, "FROM:<a\xff@example.org>", SP_PATH_SYNTAX),
	BAD("truncated at the @", RCPT, "TO:<a\xc3@example.org>", SP_PATH_SYNTAX),
	BAD("truncated at the end", RCPT, "TO:<a@example.or\xe2\x82>", SP_PATH_SYNTAX),
	BAD("bad utf-8 in the domain", RCPT, "TO:<a@b\xfc" "cher.example>", SP_PATH_SYNTAX),
	BAD("bad utf-8 in quotes", RCPT, "TO:<\"\xc3\x28\"@example.org>", SP_PATH_SYNTAX),
};

ParameterizedTestParameters(smtp_parse, path)
{
	return cr_make_param_array(struct path_case, path_cases,
				   sizeof(path_cases) / sizeof(path_cases[0]));
}

ParameterizedTest(const struct path_case *c, smtp_parse, path)
{
	size_t len = c->len ? c->len : strlen(c->arg);
	char *exact = th_hold(&held, c->arg, len);
	const char *why = NULL;
	struct sp_path p;
	int rc;

	memset(&p, 0x5a, sizeof(p));
	rc = sp_parse_path(exact, len, c->is_rcpt, &p, &why);
	cr_assert_eq(rc, c->rc, "%s: got rc %d (%s, addr '%s'), want %d", c->name, rc,
		     rc ? (why ? why : "no why") : "ok", rc ? "" : p.addr, c->rc);
	if (rc) {
		cr_assert_not_null(why, "%s: got no reason, want one", c->name);
		cr_assert_gt(strlen(why), 0, "%s: got an empty reason", c->name);
		th_let_go(&held, exact);
		return;
	}
	cr_assert(memchr(p.addr, '\0', sizeof(p.addr)), "%s: got addr unterminated", c->name);
	cr_assert_str_eq(p.addr, c->addr, "%s: got addr '%s', want '%s'", c->name, p.addr, c->addr);
	cr_assert_eq(p.local_len, c->local_len, "%s: got local_len %zu, want %zu", c->name,
		     p.local_len, c->local_len);
	/* Into addr, after the '@'; "" when there is none. */
	cr_assert(!*p.domain || (p.domain > p.addr && p.domain <= p.addr + strlen(p.addr) &&
				 p.domain[-1] == '@'),
		  "%s: got domain '%s' outside addr '%s'", c->name, p.domain, p.addr);
	cr_assert_str_eq(p.domain, c->domain, "%s: got domain '%s', want '%s'", c->name, p.domain,
			 c->domain);
	cr_assert_eq(p.null_path, c->null_path, "%s: got null_path %d, want %d", c->name,
		     p.null_path, c->null_path);
	cr_assert_eq(p.utf8, c->utf8, "%s: got utf8 %d, want %d", c->name, p.utf8, c->utf8);
	cr_assert_eq(p.nparams, c->nparams, "%s: got %d params, want %d", c->name, p.nparams,
		     c->nparams);
	for (int i = 0; i < c->nparams && i < MAX_PWANT; i++) {
		const struct want_param *w = &c->params[i];

		if (!w->key[0])
			break;
		cr_assert_str_eq(p.params[i].key, w->key, "%s: param %d: got key %s, want %s",
				 c->name, i, p.params[i].key, w->key);
		cr_assert_str_eq(p.params[i].value, w->value,
				 "%s: param %d: got value '%s', want '%s'", c->name, i,
				 p.params[i].value, w->value);
		cr_assert_eq(p.params[i].has_value, w->has_value,
			     "%s: param %d: got has_value %d, want %d", c->name, i,
			     p.params[i].has_value, w->has_value);
	}
	th_let_go(&held, exact);
}

Test(smtp_parse, param_lookup)
{
	static const char arg[] = "FROM:<a@example.org> SIZE=10 body=8BITMIME SMTPUTF8";
	const char *why = NULL, *v;
	struct sp_path p;
	int present = -1;

	cr_assert_eq(sp_parse_path(arg, strlen(arg), 0, &p, &why), SP_PATH_OK, "got %s", why);
	v = sp_param(&p, "size", &present);
	cr_assert(v && !strcmp(v, "10") && present == 1, "got SIZE '%s' present %d, want 10 1",
		  v ? v : "(null)", present);
	v = sp_param(&p, "BODY", &present);
	cr_assert(v && !strcmp(v, "8BITMIME") && present == 1,
		  "got BODY '%s' present %d, want 8BITMIME 1", v ? v : "(null)", present);
	v = sp_param(&p, "SmtpUtf8", &present);
	cr_assert(v && !strcmp(v, "") && present == 1, "got SMTPUTF8 '%s' present %d, want '' 1",
		  v ? v : "(null)", present);
	v = sp_param(&p, "RET", &present);
	cr_assert(!v && present == 0, "got RET '%s' present %d, want NULL 0", v ? v : "(null)",
		  present);
	cr_assert_null(sp_param(&p, "SIZ", NULL), "got a value for a key prefix");
	cr_assert_null(sp_param(&p, "SIZE=10", NULL), "got a value for key=value");

	static const char many[] = "FROM:<a@example.org> A B C D E F G H I J K L M N O P=16";

	cr_assert_eq(sp_parse_path(many, strlen(many), 0, &p, &why), SP_PATH_OK, "got %s", why);
	v = sp_param(&p, "p", &present);
	cr_assert(v && !strcmp(v, "16") && present == 1, "got P '%s', want 16", v ? v : "(null)");
}

/* A reused struct: a second, shorter parse leaves nothing of the first. */
Test(smtp_parse, path_reuse)
{
	static const char a1[] = "FROM:<" L64 "@example.org> SIZE=1 BODY=7BIT";
	static const char a2[] = "FROM:<>";
	const char *why = NULL;
	struct sp_path p;

	cr_assert_eq(sp_parse_path(a1, strlen(a1), 0, &p, &why), SP_PATH_OK);
	cr_assert_eq(sp_parse_path(a2, strlen(a2), 0, &p, &why), SP_PATH_OK);
	cr_assert_str_eq(p.addr, "", "got addr '%s', want ''", p.addr);
	cr_assert_eq(p.nparams, 0, "got %d params, want 0", p.nparams);
	cr_assert_eq(p.null_path, 1, "got null_path %d, want 1", p.null_path);
	cr_assert_str_eq(p.domain, "", "got domain '%s', want ''", p.domain);
	cr_assert_null(sp_param(&p, "SIZE", NULL), "got SIZE from the earlier parse");
}

/* Every prefix of valid arguments: never a crash, never an overread (exact
 * copies), and a result that is either an error or a well-formed path. */
Test(smtp_parse, path_prefixes)
{
	for (size_t k = 0; k < sizeof(path_cases) / sizeof(path_cases[0]); k++) {
		const struct path_case *c = &path_cases[k];
		size_t len = c->len ? c->len : strlen(c->arg);

		for (size_t n = 0; n <= len; n++) {
			char *exact = th_hold(&held, c->arg, n);
			const char *why = NULL;
			struct sp_path p;
			int rc;

			rc = sp_parse_path(exact, n, c->is_rcpt, &p, &why);
			cr_assert(rc >= SP_PATH_OK && rc <= SP_PATH_PARAM, "%s[..%zu]: got rc %d",
				  c->name, n, rc);
			if (!rc) {
				cr_assert_leq(strlen(p.addr), (size_t)SP_PATH_MAX);
				cr_assert_leq(p.local_len, (size_t)SP_LOCAL_MAX);
				cr_assert(!*p.domain || (p.domain > p.addr &&
							 p.domain <= p.addr + strlen(p.addr)),
					  "%s[..%zu]: got domain '%s' outside addr '%s'", c->name,
					  n, p.domain, p.addr);
			} else {
				cr_assert(why && *why, "%s[..%zu]: got no reason", c->name, n);
			}
			th_let_go(&held, exact);
		}
	}
}

/* ---- domain matching ---- */

Test(smtp_parse, domain_match)
{
	static const char *const list[] = { "example.org", ".example.net", "EXAMPLE.COM" };
	static const struct {
		const char *domain;
		int want;
	} cases[] = {
		{ "example.org", 1 },
		{ "EXAMPLE.ORG", 1 },
		{ "example.org.", 1 },	 /* trailing dot: the same domain */
		{ "mx.example.org", 0 }, /* no leading dot: the domain only */
		{ "xexample.org", 0 },
		{ "example.org.evil", 0 },
		{ "example.or", 0 },
		{ "example.net", 0 }, /* leading dot: subdomains only */
		{ "example.net.", 0 },
		{ "mx.example.net", 1 },
		{ "a.b.EXAMPLE.net", 1 },
		{ "mx.example.net.", 1 },
		{ "badexample.net", 0 },
		{ ".example.net", 0 }, /* the entry itself is no domain */
		{ "example.com", 1 },  /* entries are case-insensitive too */
		{ "Example.Com.", 1 },
		{ "mail.example.com", 0 },
		{ "", 0 },
		{ ".", 0 },
		{ "org", 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got = sp_domain_match(cases[i].domain, list, 3);

		cr_assert_eq(got, cases[i].want, "'%s': got %d, want %d", cases[i].domain, got,
			     cases[i].want);
	}
	cr_assert_eq(sp_domain_match("example.org", list, 0), 0, "got a match in an empty list");
	cr_assert_eq(sp_domain_match("example.org", list + 1, 2), 0,
		     "got a match against entries not in the list");
}

/* Every address the parser accepts can be looked up as it parsed it. */
Test(smtp_parse, domain_match_parsed)
{
	static const char *const list[] = { ".example.org", "[192.0.2.1]" };
	static const char *const args[] = { "TO:<a@mx.Example.org>", "TO:<b@[192.0.2.1]>" };
	static const char *const no[] = { "TO:<a@example.org>", "TO:<postmaster>" };

	for (size_t i = 0; i < 2; i++) {
		const char *why = NULL;
		struct sp_path p;

		cr_assert_eq(sp_parse_path(args[i], strlen(args[i]), 1, &p, &why), SP_PATH_OK);
		cr_assert_eq(sp_domain_match(p.domain, list, 2), 1, "got no match for %s",
			     p.domain);
		cr_assert_eq(sp_parse_path(no[i], strlen(no[i]), 1, &p, &why), SP_PATH_OK);
		cr_assert_eq(sp_domain_match(p.domain, list, 2), 0, "got a match for '%s'",
			     p.domain);
	}
}
