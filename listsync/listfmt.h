/* SPDX-License-Identifier: GPL-2.0 */
/*
 * listfmt.h - the list formats mailedge reads, behind one interface.
 *
 *   plain          one ADDR[/LEN] a line, '#' and ';' comments (admin lists,
 *                  FireHOL .netset/.ipset, blocklist.de)
 *   spamhaus-json  Spamhaus DROP JSON: one object a line, a last "metadata"
 *                  object whose "records" count must match what was read
 *   spamhaus-text  Spamhaus DROP text: "CIDR ; SBLnnn", must end with "; EOF"
 *   dshield        DShield block.txt: tab-separated start, end, prefix length
 *   ipset-save     the output of "ipset save" (hash:ip and hash:net sets)
 *
 * Every parser checks its format's own completeness marker where it has one, so
 * a download cut short is an error and not a silently shorter list.
 */
#ifndef ME_LISTFMT_H
#define ME_LISTFMT_H

#include <stddef.h>

#include "listparse.h"

typedef int (*me_fmt_parse_fn)(const char *buf, size_t len, unsigned int flags,
			       me_listfile_cb cb, void *ctx, struct me_parse_err *err);

/* The same, with IPv4 hosts read on the fast path into h4, for a part of the
 * file after first_line lines (listfile.h's me_listfile_parse_part). */
typedef int (*me_fmt_parse4_fn)(const char *buf, size_t len, unsigned long first_line,
				unsigned int flags, me_listfile_cb cb, void *ctx,
				struct me_hosts4 *h4, struct me_parse_err *err);

struct me_fmt {
	const char *name;
	me_fmt_parse_fn parse;
	unsigned int min_interval; /* seconds between fetches the publisher asks for */
	int interval_floor;	   /* min_interval is the publisher's terms: a config
				    * cannot go below it, only above */
	const char *what;	   /* one line for --help */
	me_fmt_parse4_fn parse4;   /* NULL: the format has no fast path */
};

/* The format called name (aliases included), or NULL. */
const struct me_fmt *me_fmt_find(const char *name);
/* All formats, NULL-terminated by name (for --help). */
const struct me_fmt *me_fmt_list(void);

int me_fmt_spamhaus_json(const char *buf, size_t len, unsigned int flags, me_listfile_cb cb,
			 void *ctx, struct me_parse_err *err);
int me_fmt_spamhaus_text(const char *buf, size_t len, unsigned int flags, me_listfile_cb cb,
			 void *ctx, struct me_parse_err *err);
int me_fmt_dshield(const char *buf, size_t len, unsigned int flags, me_listfile_cb cb, void *ctx,
		   struct me_parse_err *err);
int me_fmt_ipset_save(const char *buf, size_t len, unsigned int flags, me_listfile_cb cb,
		      void *ctx, struct me_parse_err *err);

#endif
