// SPDX-License-Identifier: GPL-2.0
/*
 * listfmt.c - the format registry and the line iterator the parsers share.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "listfmt.h"

static int plain(const char *buf, size_t len, unsigned int flags, me_listfile_cb cb, void *ctx,
		 struct me_parse_err *err)
{
	return me_listfile_parse(buf, len, flags, cb, ctx, err);
}

/* Spamhaus asks for at most one download an hour (a floor a config cannot
 * lower); the others publish hourly or less often, and there is nothing to gain
 * by asking more often than that (a default). */
static const struct me_fmt formats[] = {
	{ "plain", plain, 3600, 0, "one ADDR[/LEN] a line, '#' and ';' comments" },
	{ "netset", plain, 3600, 0, "FireHOL .netset/.ipset (same as plain)" },
	{ "firehol", plain, 3600, 0, "FireHOL (same as plain)" },
	{ "blocklist-de", plain, 3600, 0, "blocklist.de lists (same as plain)" },
	{ "spamhaus-json", me_fmt_spamhaus_json, 3600, 1, "Spamhaus DROP JSON (records checked)" },
	{ "spamhaus-text", me_fmt_spamhaus_text, 3600, 1, "Spamhaus DROP text ('; EOF' checked)" },
	{ "dshield", me_fmt_dshield, 3600, 0, "DShield block.txt" },
	{ "ipset-save", me_fmt_ipset_save, 3600, 0, "output of 'ipset save' (hash:ip, hash:net)" },
	{ NULL, NULL, 0, 0, NULL },
};

const struct me_fmt *me_fmt_find(const char *name)
{
	const struct me_fmt *f;

	for (f = formats; f->name; f++)
		if (!strcmp(f->name, name))
			return f;
	return NULL;
}

const struct me_fmt *me_fmt_list(void)
{
	return formats;
}

int me_parse_fail(struct me_parse_err *err, unsigned long line, const char *text, size_t tlen,
		  const char *why)
{
	err->line = line;
	me_escape(text, tlen, err->text, sizeof(err->text));
	snprintf(err->why, sizeof(err->why), "%s", why);
	return -EINVAL;
}

int me_fmt_prefix(const char *word, size_t wlen, unsigned int flags, struct me_prefix *p,
		  unsigned long line, struct me_parse_err *err, const char *too_long)
{
	char buf[ME_PREFIX_STRLEN + 1];
	int rc;

	if (!wlen || wlen >= sizeof(buf))
		return me_parse_fail(err, line, word, wlen, too_long);
	memcpy(buf, word, wlen);
	buf[wlen] = '\0';
	rc = me_prefix_parse(buf, p, flags);
	if (rc)
		return me_parse_fail(err, line, word, wlen, me_addr_strerror(rc));
	return 0;
}

int me_fmt_emit(const char *word, size_t wlen, unsigned int flags, me_listfile_cb cb, void *ctx,
		unsigned long line, struct me_parse_err *err, const char *too_long)
{
	struct me_prefix p;
	int rc;

	rc = me_fmt_prefix(word, wlen, flags, &p, line, err, too_long);
	if (rc)
		return rc;
	return cb(ctx, &p, line);
}

int me_lines_next(struct me_lines *it, const char **line, size_t *llen, struct me_parse_err *err)
{
	const char *l, *nl;
	size_t n;

	if (it->pos >= it->len)
		return 0;
	l = it->buf + it->pos;
	nl = memchr(l, '\n', it->len - it->pos);
	n = nl ? (size_t)(nl - l) : it->len - it->pos;
	it->pos += n + (nl ? 1 : 0);
	it->no++;
	if (n > ME_LISTFILE_MAX_LINE)
		return me_parse_fail(err, it->no, l, n, "line longer than 1024 bytes");
	if (memchr(l, '\0', n))
		return me_parse_fail(err, it->no, l, n, "NUL byte: not a text list");
	if (n && l[n - 1] == '\r')
		n--;
	*line = l;
	*llen = n;
	return 1;
}

void me_trim(const char **s, size_t *len)
{
	while (*len && (**s == ' ' || **s == '\t' || **s == '\r'))
		(*s)++, (*len)--;
	while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t' || (*s)[*len - 1] == '\r'))
		(*len)--;
}
