// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_smtp_command.c - libFuzzer target for the SMTP command parser:
 * sp_frame, sp_command, sp_parse_path.
 *
 * The input is what a client sends. It is framed (limit 512) the way the
 * session frames it: a buffer that grows at the end, sp_frame() called until it
 * needs more, *consumed dropped from the front; once whole and once in chunks
 * whose size the first byte picks. Both must give the same lines and
 * SP_TOO_LONG events. Every line goes to sp_command, and to sp_parse_path as a
 * MAIL and as a RCPT argument (the line itself, and the command's argument).
 *
 * Invariants (violations abort): consumed never exceeds what the caller holds;
 * a line is shorter than the limit and ends in LF or CRLF; a parsed path has a
 * NUL-terminated addr of at most 256 bytes made of exactly its local part,
 * '@' and its domain (no byte of it lost), local_len <= 64, domain "" or inside
 * addr after the '@', utf8 set exactly for non-ASCII; parameters are
 * terminated, at most 16, with keys and values of their grammar; and the
 * command the proxy rebuilds from the result ("FROM:<addr> key=value ...")
 * parses back to the same path.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_LINE 512
#define MAX_EV	 4096

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_smtp_command: %s\n", what);
	abort();
}

/* The events of one framing: lines (offset into the input, length) and
 * SP_TOO_LONG (length -1). */
struct events {
	size_t n;
	size_t off[MAX_EV];
	long len[MAX_EV];
};

static int in_grammar_key(const char *k)
{
	if (!*k)
		return 0;
	if (!((*k >= 'A' && *k <= 'Z') || (*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9')))
		return 0;
	for (; *k; k++)
		if (!((*k >= 'A' && *k <= 'Z') || (*k >= 'a' && *k <= 'z') ||
		      (*k >= '0' && *k <= '9') || *k == '-'))
			return 0;
	return 1;
}

static void check_path(const struct sp_path *p, int rc, const char *why, int is_rcpt, int depth);

/* Rebuild the argument the way the proxy rebuilds the command, and parse it. */
static void round_trip(const struct sp_path *p, int is_rcpt, int depth)
{
	static char arg[2][4096];
	static struct sp_path again[2];
	char *a = arg[depth];
	const char *why = NULL;
	size_t n;
	int rc;

	n = (size_t)snprintf(a, sizeof(arg[0]), "%s<%s>", is_rcpt ? "TO:" : "FROM:", p->addr);
	for (int i = 0; i < p->nparams && n < sizeof(arg[0]); i++)
		n += (size_t)snprintf(a + n, sizeof(arg[0]) - n, " %s%s%s", p->params[i].key,
				      p->params[i].has_value ? "=" : "", p->params[i].value);
	if (n >= sizeof(arg[0]))
		fail("rebuilt argument too long");
	rc = sp_parse_path(a, n, is_rcpt, &again[depth], &why);
	if (rc != SP_PATH_OK)
		fail("the rebuilt argument does not parse");
	check_path(&again[depth], rc, why, is_rcpt, depth + 1);
	if (strcmp(again[depth].addr, p->addr) || again[depth].local_len != p->local_len ||
	    strcmp(again[depth].domain, p->domain) || again[depth].null_path != p->null_path ||
	    again[depth].utf8 != p->utf8 || again[depth].nparams != p->nparams)
		fail("the rebuilt argument parses to another path");
	for (int i = 0; i < p->nparams; i++)
		if (strcmp(again[depth].params[i].key, p->params[i].key) ||
		    strcmp(again[depth].params[i].value, p->params[i].value) ||
		    again[depth].params[i].has_value != p->params[i].has_value)
			fail("the rebuilt argument parses to other parameters");
}

static void check_path(const struct sp_path *p, int rc, const char *why, int is_rcpt, int depth)
{
	size_t alen, dlen;
	int hi = 0;

	if (rc < SP_PATH_OK || rc > SP_PATH_PARAM)
		fail("sp_parse_path returned an unknown code");
	if (rc != SP_PATH_OK) {
		if (!why || !*why)
			fail("an error without a reason");
		return;
	}
	if (!memchr(p->addr, '\0', sizeof(p->addr)))
		fail("addr not NUL-terminated");
	alen = strlen(p->addr);
	if (alen > SP_PATH_MAX)
		fail("addr longer than 256");
	if (p->local_len > SP_LOCAL_MAX)
		fail("local_len over 64");
	if (!p->domain)
		fail("domain NULL");
	dlen = strlen(p->domain);
	if (dlen > SP_DOMAIN_MAX)
		fail("domain longer than 255");
	if (p->null_path) {
		if (is_rcpt)
			fail("a null path for RCPT");
		if (alen || p->local_len || dlen)
			fail("a null path with an address");
	} else if (dlen) {
		if (p->domain <= p->addr || p->domain > p->addr + alen || p->domain[-1] != '@')
			fail("domain not inside addr after an '@'");
		if (p->local_len + 1 + dlen != alen || p->domain != p->addr + p->local_len + 1)
			fail("addr is not local part, '@', domain (a byte of it lost)");
	} else {
		/* <postmaster> */
		if (!is_rcpt || alen != 10 || p->local_len != 10)
			fail("an address without a domain that is not RCPT <postmaster>");
	}
	for (size_t i = 0; i < alen; i++) {
		unsigned char c = (unsigned char)p->addr[i];

		if (c < 0x20 || c == 0x7f)
			fail("a control byte in addr");
		if (c >= 0x80)
			hi = 1;
	}
	if (hi != p->utf8)
		fail("utf8 does not say whether addr is ASCII");
	if (p->nparams < 0 || p->nparams > SP_PARAMS_MAX)
		fail("nparams out of range");
	for (int i = 0; i < p->nparams; i++) {
		const struct sp_param *pr = &p->params[i];

		if (!memchr(pr->key, '\0', sizeof(pr->key)) ||
		    !memchr(pr->value, '\0', sizeof(pr->value)))
			fail("a parameter not NUL-terminated");
		if (!in_grammar_key(pr->key))
			fail("a parameter key outside esmtp-keyword");
		if (pr->has_value != (pr->value[0] != '\0'))
			fail("has_value disagrees with the value");
		for (const char *v = pr->value; *v; v++)
			if ((unsigned char)*v <= ' ' || *v == '=' || *v == 0x7f)
				fail("a parameter value outside esmtp-value");
	}
	if (depth < 1)
		round_trip(p, is_rcpt, depth);
}

static void parse_line(const char *line, size_t len)
{
	static struct sp_path p;
	struct sp_cmd c;
	const char *why;
	char *exact;
	int rc;

	/* The line alone, in an exact-size copy. */
	exact = malloc(len ? len : 1);
	if (!exact)
		return;
	if (len)
		memcpy(exact, line, len);

	for (int is_rcpt = 0; is_rcpt < 2; is_rcpt++) {
		why = NULL;
		rc = sp_parse_path(exact, len, is_rcpt, &p, &why);
		check_path(&p, rc, why, is_rcpt, 0);
	}
	rc = sp_command(exact, len, &c);
	if (rc != 0 && rc != -1)
		fail("sp_command returned neither 0 nor -1");
	if (!rc) {
		size_t nl;

		if (!memchr(c.name, '\0', sizeof(c.name)))
			fail("verb name not NUL-terminated");
		nl = strlen(c.name);
		if (!nl)
			fail("an empty verb accepted");
		for (size_t i = 0; i < nl; i++)
			if (c.name[i] < 'A' || c.name[i] > 'Z')
				fail("a verb name that is not upper-case letters");
		if (c.verb != sp_verb_lookup(c.name))
			fail("verb and name disagree");
		if (c.arg < exact || c.arg + c.arg_len > exact + len)
			fail("argument outside the line");
		if (c.arg_len && (c.arg[0] == ' ' || c.arg[0] == '\t' ||
				  c.arg[c.arg_len - 1] == ' ' || c.arg[c.arg_len - 1] == '\t'))
			fail("argument with blanks around it");
		for (size_t i = 0; i < len; i++)
			if (((unsigned char)exact[i] < 0x20 && exact[i] != '\t') ||
			    exact[i] == 0x7f)
				fail("a line with a control byte accepted");
		for (int is_rcpt = 0; is_rcpt < 2; is_rcpt++) {
			why = NULL;
			rc = sp_parse_path(c.arg, c.arg_len, is_rcpt, &p, &why);
			check_path(&p, rc, why, is_rcpt, 0);
		}
	}
	free(exact);
}

/*
 * Frame data[0..size) arriving in chunks of `step` bytes (0: all at once), as
 * the session does. Events are recorded as offsets into data: the caller's
 * buffer holds data[base..base+held).
 */
static void frame(const char *data, size_t size, size_t step, struct events *ev, int parse)
{
	struct sp_framer f;
	size_t base = 0, held = 0, fed = 0;

	sp_framer_init(&f, MAX_LINE);
	ev->n = 0;
	do {
		size_t add = step ? step : size;

		if (add > size - fed)
			add = size - fed;
		held += add;
		fed += add;
		for (;;) {
			size_t line_len = (size_t)-7, used = (size_t)-7;
			char *exact = malloc(held ? held : 1);
			int rc;

			if (!exact)
				abort();
			if (held)
				memcpy(exact, data + base, held);
			rc = sp_frame(&f, exact, held, &line_len, &used);
			if (rc != SP_AGAIN && rc != SP_LINE && rc != SP_TOO_LONG)
				fail("sp_frame returned an unknown code");
			if (used > held)
				fail("consumed more than the caller holds");
			if (rc == SP_LINE) {
				if (line_len >= MAX_LINE)
					fail("a line as long as the limit");
				if (!used || exact[used - 1] != '\n')
					fail("a line not ended by LF");
				if (used != line_len + 1 &&
				    !(used == line_len + 2 && exact[line_len] == '\r'))
					fail("consumed is not the line and its end");
				if (parse)
					parse_line(exact, line_len);
			}
			if ((rc == SP_LINE || rc == SP_TOO_LONG) && !used)
				fail("an event without progress");
			if (rc == SP_AGAIN && !used && held >= MAX_LINE)
				fail("SP_AGAIN with a full line's worth held");
			if (rc != SP_AGAIN) {
				if (ev->n == MAX_EV)
					fail("too many events");
				ev->off[ev->n] = base;
				ev->len[ev->n] = rc == SP_LINE ? (long)line_len : -1;
				ev->n++;
			}
			free(exact);
			base += used;
			held -= used;
			if (rc == SP_AGAIN && !used)
				break;
		}
	} while (fed < size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct events whole, chunked;
	size_t step;

	if (!size)
		return 0;
	/* The first byte: the chunk size (1..255, or 0 for byte by byte too). */
	step = data[0] ? data[0] : 1;
	data++;
	size--;
	frame((const char *)data, size, 0, &whole, 1);
	frame((const char *)data, size, step, &chunked, 0);
	if (whole.n != chunked.n)
		fail("chunked framing gives another number of events");
	for (size_t i = 0; i < whole.n; i++)
		if (whole.len[i] != chunked.len[i] ||
		    (whole.len[i] >= 0 && whole.off[i] != chunked.off[i]))
			fail("chunked framing gives other lines");
	return 0;
}
