// SPDX-License-Identifier: GPL-2.0
/*
 * listfmt.c - the registry of the formats list sync reads.
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
	{ "plain", plain, 3600, 0, "one ADDR[/LEN] a line, '#' and ';' comments",
	  me_listfile_parse_part },
	{ "netset", plain, 3600, 0, "FireHOL .netset/.ipset (same as plain)",
	  me_listfile_parse_part },
	{ "firehol", plain, 3600, 0, "FireHOL (same as plain)",
	  me_listfile_parse_part },
	{ "blocklist-de", plain, 3600, 0, "blocklist.de lists (same as plain)",
	  me_listfile_parse_part },
	{ "spamhaus-json", me_fmt_spamhaus_json, 3600, 1, "Spamhaus DROP JSON (records checked)",
	  NULL },
	{ "spamhaus-text", me_fmt_spamhaus_text, 3600, 1, "Spamhaus DROP text ('; EOF' checked)",
	  NULL },
	{ "dshield", me_fmt_dshield, 3600, 0, "DShield block.txt", NULL },
	{ "ipset-save", me_fmt_ipset_save, 3600, 0, "output of 'ipset save' (hash:ip, hash:net)",
	  NULL },
	{ NULL, NULL, 0, 0, NULL, NULL },
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
