// SPDX-License-Identifier: GPL-2.0
/*
 * reply.c - parse SMTP replies.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "passclient.h"
#include "reply.h"

#define REPLY_LINE_MAX 1000

int px_reply_take(struct buf *in, struct px_reply *r)
{
	const char *p = buf_ptr(in), *end = p + buf_avail(in);
	size_t off = 0;
	int code = -1;

	memset(r, 0, sizeof(*r));
	for (;;) {
		const char *l = p + off, *lf = memchr(l, '\n', (size_t)(end - l));
		size_t n;
		int c;

		/* The same bound whether or not the line end has arrived yet. */
		if (!lf)
			return (size_t)(end - l) > REPLY_LINE_MAX + 2 ? -1 : 0;
		n = (size_t)(lf - l) + 1;
		if (n > REPLY_LINE_MAX + 2 || n < 4 || !isdigit((unsigned char)l[0]) ||
		    !isdigit((unsigned char)l[1]) || !isdigit((unsigned char)l[2]) ||
		    (n > 4 && l[3] != ' ' && l[3] != '-' && l[3] != '\r'))
			return -1;
		c = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
		if (code >= 0 && c != code)
			return -1;
		code = c;
		/* Cut at the first line that does not fit: never a line skipped. */
		if (!r->truncated && r->len + n < sizeof(r->text)) {
			memcpy(r->text + r->len, l, n);
			r->len += n;
		} else {
			r->truncated = 1;
		}
		r->lines++;
		off += n;
		if (n == 4 || l[3] != '-')
			break; /* "250 ..." or a bare "250\r\n": the last line */
	}
	r->text[r->len] = '\0';
	r->code = code;
	buf_consume(in, off);
	return 1;
}

void px_caps_parse(const struct px_reply *r, struct px_caps *c)
{
	const char *l = r->text;
	int first = 1;

	memset(c, 0, sizeof(*c));
	while (*l) {
		const char *lf = strchr(l, '\n');
		char kw[32];
		size_t n = lf ? (size_t)(lf - l) : strlen(l), k;
		const char *arg;

		if (n && l[n - 1] == '\r')
			n--;
		if (first || n < 4) { /* the first line is the server's name */
			first = 0;
			goto next;
		}
		arg = l + 4;
		n -= 4;
		for (k = 0; k < n && k < sizeof(kw) - 1 && arg[k] != ' ' && arg[k] != '='; k++)
			kw[k] = (char)toupper((unsigned char)arg[k]);
		kw[k] = '\0';
		if (!strcmp(kw, "PIPELINING"))
			c->bits |= PX_CAP_PIPELINING;
		else if (!strcmp(kw, "SIZE")) {
			c->bits |= PX_CAP_SIZE;
			if (k < n)
				c->size = strtoull(arg + k + 1, NULL, 10);
		} else if (!strcmp(kw, "8BITMIME"))
			c->bits |= PX_CAP_8BITMIME;
		else if (!strcmp(kw, "SMTPUTF8"))
			c->bits |= PX_CAP_SMTPUTF8;
		else if (!strcmp(kw, "DSN"))
			c->bits |= PX_CAP_DSN;
		else if (!strcmp(kw, "ENHANCEDSTATUSCODES"))
			c->bits |= PX_CAP_ENHANCED;
		else if (!strcmp(kw, "STARTTLS"))
			c->bits |= PX_CAP_STARTTLS;
		else if (!strcmp(kw, "XCLIENT")) {
			c->bits |= PX_CAP_XCLIENT;
			c->xclient =
			    xclient_attr_bits(k < n ? arg + k + 1 : "", k < n ? n - k - 1 : 0);
		} else if (!strcmp(kw, "CHUNKING"))
			c->bits |= PX_CAP_CHUNKING;
		else if (!strcmp(kw, "AUTH") && k < n) {
			size_t m = n - k - 1;

			c->bits |= PX_CAP_AUTH;
			if (m >= sizeof(c->auth))
				m = sizeof(c->auth) - 1;
			memcpy(c->auth, arg + k + 1, m);
			c->auth[m] = '\0';
		}
	next:
		if (!lf)
			break;
		l = lf + 1;
	}
}

const char *px_reply_last(const struct px_reply *r, char *buf, size_t len)
{
	const char *last = r->text, *p;
	size_t n;

	for (p = r->text; *p; p++)
		if (p[0] == '\n' && p[1])
			last = p + 1;
	n = strcspn(last, "\r\n");
	if (n > 4) {
		last += 4;
		n -= 4;
	} else {
		n = 0;
	}
	snprintf(buf, len, "%.*s", (int)n, last);
	return buf;
}

int px_reply_expect(const struct px_reply *r, int want, const char *what, char *why, size_t why_len)
{
	char last[120];

	if (r->code == want)
		return 0;
	snprintf(why, why_len, "%s %d %s", what, r->code, px_reply_last(r, last, sizeof(last)));
	return -1;
}
