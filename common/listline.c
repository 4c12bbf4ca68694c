// SPDX-License-Identifier: GPL-2.0
/*
 * listline.c - plain list lines with a list name and per-entry options.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "listparse.h"
#include "listline.h"
#include "lists.h"

int me_utc_format(long long t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t < 0 || t > 253402300799ll || !gmtime_r(&tt, &tm))
		return -1;
	if (strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return -1;
	return 0;
}

static int digits(const char *s, size_t n, int *out)
{
	size_t i;
	int v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int me_utc_parse(const char *s, size_t len, long long *t)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	struct tm tm = { 0 };
	int y, mo, d, h, mi, se;
	time_t v;

	/* Exactly YYYY-MM-DDTHH:MM:SSZ: one form, so a typo cannot be read as
	 * some other date. */
	if (len != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
	    s[16] != ':' || s[19] != 'Z')
		return -1;
	if (digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
	    digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) || digits(s + 17, 2, &se))
		return -1;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 ||
	    se > 59)
		return -1;
	if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100) || y % 400 == 0))
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	v = timegm(&tm);
	if (v == (time_t)-1)
		return -1;
	*t = (long long)v;
	return 0;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static int word_is(const char *w, size_t n, const char *s)
{
	return n == strlen(s) && !memcmp(w, s, n);
}

/* One key=value word into l; -EINVAL with err filled. */
static int option(const char *w, size_t n, struct me_list_line *l, unsigned long no,
		  struct me_parse_err *err)
{
	const char *eq = memchr(w, '=', n);
	const char *v;
	size_t vn, i;
	char tmp[32];

	if (!eq)
		return me_parse_fail(err, no, w, n,
				     "more than one word on the line; only action=, expires=, "
				     "source= may follow the address");
	v = eq + 1;
	vn = n - (size_t)(v - w);
	if (word_is(w, (size_t)(eq - w), "action")) {
		if (l->has_action)
			return me_parse_fail(err, no, w, n, "action= given twice");
		if (vn >= sizeof(tmp))
			return me_parse_fail(err, no, w, n, "unknown action");
		memcpy(tmp, v, vn);
		tmp[vn] = '\0';
		if (me_action_parse(tmp, &l->val))
			return me_parse_fail(err, no, w, n,
					     "unknown action: use drop, reset, pass or group:N");
		l->has_action = 1;
	} else if (word_is(w, (size_t)(eq - w), "expires")) {
		if (l->has_expires)
			return me_parse_fail(err, no, w, n, "expires= given twice");
		if (word_is(v, vn, "never"))
			l->expires = 0;
		else if (me_utc_parse(v, vn, &l->expires) || !l->expires)
			return me_parse_fail(err, no, w, n,
					     "expires= takes never or a UTC time "
					     "YYYY-MM-DDTHH:MM:SSZ");
		l->has_expires = 1;
	} else if (word_is(w, (size_t)(eq - w), "source")) {
		if (l->source[0])
			return me_parse_fail(err, no, w, n, "source= given twice");
		if (!vn || vn >= sizeof(l->source))
			return me_parse_fail(err, no, w, n, "source= takes a name of 1-31 bytes");
		for (i = 0; i < vn; i++)
			if ((unsigned char)v[i] <= 0x20 || (unsigned char)v[i] >= 0x7f)
				return me_parse_fail(err, no, w, n,
						     "source= takes printable ASCII only");
		memcpy(l->source, v, vn);
		l->source[vn] = '\0';
	} else {
		return me_parse_fail(err, no, w, n,
				     "unknown option: use action=, expires= or source=");
	}
	return 0;
}

int me_listline_parse(const char *buf, size_t len, unsigned int flags, me_listline_cb cb, void *ctx,
		      struct me_parse_err *err)
{
	struct me_lines it = { .buf = buf, .len = len };
	const char *l;
	size_t llen;
	int more;

	while ((more = me_lines_next(&it, &l, &llen, err)) > 0) {
		struct me_list_line ln;
		size_t e, a, b;
		int rc, idx = 0, header = 0;

		for (e = 0; e < llen && l[e] != '#' && l[e] != ';'; e++)
			;
		memset(&ln, 0, sizeof(ln));
		ln.list = -1;
		for (a = 0;; a = b, idx++) {
			while (a < e && is_blank(l[a]))
				a++;
			if (a == e)
				break;
			for (b = a; b < e && !is_blank(l[b]); b++)
				;
			if (idx == 0 && word_is(l + a, b - a, "LIST")) {
				header = 1; /* the header "list show" prints */
				break;
			}
			if (idx == 0 &&
			    (word_is(l + a, b - a, "black") || word_is(l + a, b - a, "white"))) {
				ln.list = l[a] == 'b' ? ME_LIST_BLACK : ME_LIST_WHITE;
				continue;
			}
			if (!ln.pfx.family) {
				rc = me_fmt_prefix(l + a, b - a, flags, &ln.pfx, it.no, err,
						   "not an IPv4 or IPv6 address");
				if (rc)
					return rc;
				continue;
			}
			rc = option(l + a, b - a, &ln, it.no, err);
			if (rc)
				return rc;
		}
		if (header || idx == 0)
			continue; /* blank, comment or header */
		if (!ln.pfx.family) {
			me_trim(&l, &e);
			return me_parse_fail(err, it.no, l, e, "a list name but no address");
		}
		rc = cb(ctx, &ln, it.no);
		if (rc)
			return rc;
	}
	return more < 0 ? more : 0;
}
