// SPDX-License-Identifier: GPL-2.0
/*
 * smtp_parse.c - command framing and the RFC 5321 path grammar.
 *
 * The path parser is strict where leniency helps attackers and mass mailers
 * more than anyone else: angle brackets are required, source routes are
 * accepted and dropped (RFC 5321 4.1.1.3 says to ignore them), and every length
 * limit of 4.5.3.1 is enforced. It is lenient in one place real MTAs need:
 * blanks after "FROM:" / "TO:".
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "smtp_parse.h"

void sp_framer_init(struct sp_framer *f, size_t max)
{
	memset(f, 0, sizeof(*f));
	f->max = max;
}

int sp_frame(struct sp_framer *f, const char *in, size_t len, size_t *line_len, size_t *consumed)
{
	const char *lf;
	size_t from = f->scanned < len ? f->scanned : len;

	*consumed = 0;
	*line_len = 0;
	lf = memchr(in + from, '\n', len - from);
	if (f->skipping) {
		/* Drop the rest of the over-long line, up to and with its end. */
		if (!lf) {
			*consumed = len;
			f->scanned = 0;
			return SP_AGAIN;
		}
		*consumed = (size_t)(lf - in) + 1;
		f->skipping = 0;
		f->scanned = 0;
		return SP_AGAIN;
	}
	if (!lf) {
		if (len >= f->max) {
			/* No end within the limit: a line too long. */
			f->skipping = 1;
			f->scanned = 0;
			*consumed = len;
			return SP_TOO_LONG;
		}
		f->scanned = len;
		return SP_AGAIN;
	}
	f->scanned = 0;
	if ((size_t)(lf - in) + 1 > f->max) {
		*consumed = (size_t)(lf - in) + 1;
		return SP_TOO_LONG;
	}
	*line_len = (size_t)(lf - in);
	if (*line_len && in[*line_len - 1] == '\r')
		(*line_len)--;
	*consumed = (size_t)(lf - in) + 1;
	return SP_LINE;
}

static const char *const verb_names[SP_VERB_MAX] = {
	[SP_UNKNOWN] = "?",	    [SP_HELO] = "HELO",		[SP_EHLO] = "EHLO",
	[SP_MAIL] = "MAIL",	    [SP_RCPT] = "RCPT",		[SP_DATA] = "DATA",
	[SP_BDAT] = "BDAT",	    [SP_RSET] = "RSET",		[SP_NOOP] = "NOOP",
	[SP_QUIT] = "QUIT",	    [SP_VRFY] = "VRFY",		[SP_EXPN] = "EXPN",
	[SP_HELP] = "HELP",	    [SP_STARTTLS] = "STARTTLS", [SP_AUTH] = "AUTH",
	[SP_TURN] = "TURN",	    [SP_ETRN] = "ETRN",		[SP_XCLIENT] = "XCLIENT",
	[SP_XFORWARD] = "XFORWARD",
};

const char *sp_verb_name(enum sp_verb v)
{
	return v < SP_VERB_MAX ? verb_names[v] : "?";
}

enum sp_verb sp_verb_lookup(const char *name)
{
	int v;

	for (v = 1; v < SP_VERB_MAX; v++)
		if (!strcasecmp(name, verb_names[v]))
			return (enum sp_verb)v;
	return SP_UNKNOWN;
}

int sp_command(const char *line, size_t len, struct sp_cmd *c)
{
	size_t i, v;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)line[i];

		/* Control bytes other than a tab have no place in a command. */
		if (ch < 0x20 && ch != '\t')
			return -1;
		if (ch == 0x7f)
			return -1;
	}
	for (v = 0; v < len && v < sizeof(c->name) - 1 && isalpha((unsigned char)line[v]); v++)
		c->name[v] = (char)toupper((unsigned char)line[v]);
	if (!v || (v < len && line[v] != ' ' && line[v] != '\t'))
		return -1;
	c->name[v] = '\0';
	c->verb = sp_verb_lookup(c->name);
	while (v < len && (line[v] == ' ' || line[v] == '\t'))
		v++;
	c->arg = line + v;
	c->arg_len = len - v;
	/* Trailing blanks are not part of the argument. */
	while (c->arg_len && (c->arg[c->arg_len - 1] == ' ' || c->arg[c->arg_len - 1] == '\t'))
		c->arg_len--;
	return 0;
}

/* RFC 5322 atext (RFC 5321 uses it for Atom), plus UTF-8 bytes (RFC 6531). */
static int atext(unsigned char c)
{
	/* c != 0: strchr would find the terminator. */
	return isalnum(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~", c)) || c >= 0x80;
}

/* Well-formed UTF-8 (RFC 3629 4): no overlong forms, no surrogates, nothing
 * past U+10FFFF, no truncated sequence. */
static int utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		unsigned char lo = 0x80, hi = 0xbf;
		size_t k, more;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			more = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			more = 2;
			if (c == 0xe0)
				lo = 0xa0; /* overlong */
			else if (c == 0xed)
				hi = 0x9f; /* surrogates */
		} else if (c >= 0xf0 && c <= 0xf4) {
			more = 3;
			if (c == 0xf0)
				lo = 0x90; /* overlong */
			else if (c == 0xf4)
				hi = 0x8f; /* past U+10FFFF */
		} else {
			return 0; /* 0x80-0xc1 (continuation or overlong lead), 0xf5-0xff */
		}
		if (i + more >= n)
			return 0; /* truncated */
		for (k = 1; k <= more; k++) {
			unsigned char b = s[i + k];

			if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xbf))
				return 0;
		}
		i += more + 1;
	}
	return 1;
}

/* Dot-string = Atom *("." Atom) */
static int dot_string(const char *s, size_t n)
{
	size_t i;
	int atom = 0;

	if (!n)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (!atom)
				return 0; /* leading dot or ".." */
			atom = 0;
		} else if (atext(c)) {
			atom = 1;
		} else {
			return 0;
		}
	}
	return atom;
}

/* Quoted-string = DQUOTE *QcontentSMTP DQUOTE; returns its length, 0 if bad. */
static size_t quoted_string(const char *s, size_t n)
{
	size_t i;

	if (!n || s[0] != '"')
		return 0;
	for (i = 1; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"')
			return i + 1;
		if (c == '\\') {
			if (i + 1 >= n || (unsigned char)s[i + 1] < 32 ||
			    (unsigned char)s[i + 1] > 126)
				return 0;
			i++;
			continue;
		}
		/* qtextSMTP: %d32-33 / %d35-91 / %d93-126, and UTF-8. */
		if ((c < 32 || c > 126) && c < 0x80)
			return 0;
	}
	return 0;
}

/* Domain = sub-domain *("." sub-domain), sub-domain = Let-dig [Ldh-str]. */
static int domain_ok(const char *s, size_t n)
{
	size_t i, lab = 0;

	if (!n)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (!lab || s[i - 1] == '-')
				return 0;
			lab = 0;
		} else if (isalnum(c) || c >= 0x80) {
			lab++;
		} else if (c == '-' && lab) {
			lab++;
		} else {
			return 0;
		}
		if (lab > 63)
			return 0;
	}
	return lab && s[n - 1] != '-';
}

/* address-literal = "[" ( IPv4 / "IPv6:" IPv6 / General ) "]": checked loosely
 * for form; it is never routed on, only passed on. */
static int addr_literal_ok(const char *s, size_t n)
{
	size_t i;

	if (n < 3 || s[0] != '[' || s[n - 1] != ']')
		return 0;
	for (i = 1; i + 1 < n; i++)
		if (!isalnum((unsigned char)s[i]) && !(s[i] && strchr(".:-", s[i])))
			return 0;
	return 1;
}

static int param_parse(const char *s, size_t n, struct sp_path *p)
{
	size_t i = 0;

	while (i < n) {
		struct sp_param *pr;
		size_t k0, k, v0;

		while (i < n && s[i] == ' ')
			i++;
		if (i == n)
			break;
		if (p->nparams == SP_PARAMS_MAX)
			return -1;
		pr = &p->params[p->nparams]; /* zeroed by sp_parse_path() */
		k0 = i;
		/* esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-") */
		if (!isalnum((unsigned char)s[i]))
			return -1;
		while (i < n && (isalnum((unsigned char)s[i]) || s[i] == '-'))
			i++;
		k = i - k0;
		if (k >= sizeof(pr->key))
			return -1;
		memcpy(pr->key, s + k0, k);
		if (i < n && s[i] == '=') {
			i++;
			v0 = i;
			/* esmtp-value = 1*(%d33-60 / %d62-126 / UTF-8) */
			while (i < n && s[i] != ' ' && s[i] != '=' &&
			       ((unsigned char)s[i] > 32 && (unsigned char)s[i] != 127))
				i++;
			if (i == v0 || (i < n && s[i] != ' ') || i - v0 >= sizeof(pr->value))
				return -1;
			memcpy(pr->value, s + v0, i - v0);
			pr->has_value = 1;
		} else if (i < n && s[i] != ' ') {
			return -1;
		}
		p->nparams++;
	}
	return 0;
}

int sp_parse_path(const char *arg, size_t len, int is_rcpt, struct sp_path *p, const char **why)
{
	const char *kw = is_rcpt ? "TO:" : "FROM:";
	size_t kwl = strlen(kw), i, end, at, local_len;
	const char *s, *mbox;
	size_t mlen;

	memset(p, 0, sizeof(*p));
	p->domain = "";
	if (len < kwl || strncasecmp(arg, kw, kwl)) {
		*why = is_rcpt ? "expected TO:<address>" : "expected FROM:<address>";
		return SP_PATH_SYNTAX;
	}
	i = kwl;
	while (i < len && arg[i] == ' ')
		i++;
	if (i == len || arg[i] != '<') {
		*why = "the address must be in angle brackets";
		return SP_PATH_SYNTAX;
	}
	s = arg + i + 1;
	/* The closing bracket: outside any quoted local part. */
	for (end = 0; i + 1 + end < len; end++) {
		char c = s[end];

		if (c == '"') {
			size_t q = quoted_string(s + end, len - i - 1 - end);

			if (!q) {
				*why = "unterminated quoted local part";
				return SP_PATH_SYNTAX;
			}
			end += q - 1;
			continue;
		}
		if (c == '>')
			break;
	}
	if (i + 1 + end >= len) {
		*why = "missing '>'";
		return SP_PATH_SYNTAX;
	}
	/* RFC 5321 4.5.3.1.3 counts the angle brackets too. */
	if (end + 2 > SP_PATH_MAX) {
		*why = "path longer than 256 characters";
		return SP_PATH_TOO_LONG;
	}
	mbox = s;
	mlen = end;
	/* A-d-l ":" : a source route, ignored (RFC 5321 4.1.1.3, C). */
	if (mlen && mbox[0] == '@') {
		const char *colon = memchr(mbox, ':', mlen);

		if (!colon) {
			*why = "bad source route";
			return SP_PATH_SYNTAX;
		}
		mlen -= (size_t)(colon + 1 - mbox);
		mbox = colon + 1;
		if (!mlen) {
			/* A route must lead to a mailbox; it is not a null path. */
			*why = "source route without a mailbox";
			return SP_PATH_SYNTAX;
		}
	}
	/* Parameters follow the path after a space (RFC 5321 4.1.2). */
	if (len > i + 1 + end + 1 && s[end + 1] != ' ') {
		*why = "a space must separate parameters from the address";
		return SP_PATH_PARAM;
	}
	if (param_parse(s + end + 1, len - (i + 1 + end + 1), p)) {
		*why = "bad parameter syntax";
		return SP_PATH_PARAM;
	}
	if (!mlen) {
		if (is_rcpt) {
			*why = "a recipient cannot be empty";
			return SP_PATH_SYNTAX;
		}
		p->null_path = 1;
		return SP_PATH_OK;
	}
	/* Local part: quoted or dot-string; then '@' domain. */
	if (mbox[0] == '"') {
		local_len = quoted_string(mbox, mlen);
		if (!local_len) {
			*why = "bad quoted local part";
			return SP_PATH_SYNTAX;
		}
	} else {
		for (local_len = 0; local_len < mlen && mbox[local_len] != '@'; local_len++)
			;
		if (!dot_string(mbox, local_len)) {
			*why = "bad local part";
			return SP_PATH_SYNTAX;
		}
	}
	if (local_len > SP_LOCAL_MAX) {
		*why = "local part longer than 64 characters";
		return SP_PATH_TOO_LONG;
	}
	at = local_len;
	if (at == mlen) {
		/* Only RCPT TO:<postmaster> may come without a domain. */
		if (!is_rcpt || local_len != 10 || strncasecmp(mbox, "postmaster", 10)) {
			*why = "address without a domain";
			return SP_PATH_SYNTAX;
		}
	} else {
		const char *dom = mbox + at + 1;
		size_t dlen = mlen - at - 1;

		if (mbox[at] != '@' ||
		    !(dom[0] == '[' ? addr_literal_ok(dom, dlen) : domain_ok(dom, dlen))) {
			*why = "bad domain";
			return SP_PATH_SYNTAX;
		}
		if (dlen > SP_DOMAIN_MAX) {
			*why = "domain longer than 255 characters";
			return SP_PATH_TOO_LONG;
		}
	}
	for (i = 0; i < mlen; i++)
		if ((unsigned char)mbox[i] >= 0x80)
			p->utf8 = 1;
	/* RFC 6531 3.3: non-ASCII must be UTF-8. A backend that is handed
	 * malformed bytes may cut, map or misroute them; nobody downstream
	 * should have to guess. */
	if (p->utf8 && !utf8_valid(mbox, mlen)) {
		*why = "invalid UTF-8 in the address";
		return SP_PATH_SYNTAX;
	}
	memcpy(p->addr, mbox, mlen);
	p->addr[mlen] = '\0';
	p->local_len = local_len;
	p->domain = at < mlen ? p->addr + at + 1 : p->addr + mlen;
	return SP_PATH_OK;
}

const char *sp_param(const struct sp_path *p, const char *key, int *present)
{
	int i;

	for (i = 0; i < p->nparams; i++)
		if (!strcasecmp(p->params[i].key, key)) {
			if (present)
				*present = 1;
			return p->params[i].value;
		}
	if (present)
		*present = 0;
	return NULL;
}

int sp_domain_match(const char *domain, const char *const *list, size_t n)
{
	size_t dl = strlen(domain), i;

	/* A trailing dot names the same domain. */
	if (dl && domain[dl - 1] == '.')
		dl--;
	for (i = 0; i < n; i++) {
		const char *e = list[i];
		size_t el = strlen(e);

		if (e[0] == '.') {
			if (dl > el && !strncasecmp(domain + dl - el, e, el))
				return 1;
			continue;
		}
		if (dl == el && !strncasecmp(domain, e, el))
			return 1;
	}
	return 0;
}
