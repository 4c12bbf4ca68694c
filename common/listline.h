/* SPDX-License-Identifier: GPL-2.0 */
/*
 * listline.h - the admin's list file: the plain format plus per-line options.
 *
 * A line is what the plain format (listfile.h) accepts, one ADDR[/LEN], or
 *
 *     [black|white] ADDR[/LEN] [action=ACTION] [expires=WHEN] [source=NAME]
 *
 * which is what "mailedge-loader list save" writes and "list show" prints, so
 * both read back with "list import" and "list restore". WHEN is "never" or a UTC
 * time YYYY-MM-DDTHH:MM:SSZ: wall-clock, because the maps count expiry in
 * seconds since boot and those restart at every boot. source= is informational
 * (what put the entry there) and any name of 1-31 printable bytes is accepted.
 * A line whose first word is LIST is the header "list show" prints; it is
 * skipped. Comments, blanks and the all-or-nothing rule are as for plain files.
 */
#ifndef ME_LISTLINE_H
#define ME_LISTLINE_H

#include <stddef.h>

#include "addr.h"
#include "edge.h"
#include "listfile.h"

struct me_list_line {
	struct me_prefix pfx;
	int list;	/* ME_LIST_BLACK or ME_LIST_WHITE; -1 when not named */
	int has_action; /* val.action and val.group come from action= */
	struct me_entry val;
	int has_expires;   /* expires comes from expires= */
	long long expires; /* unix time; 0 = never */
	char source[32];   /* "" when there was no source= */
};

typedef int (*me_listline_cb)(void *ctx, const struct me_list_line *l, unsigned long line);

/* Parse buf (len bytes, not NUL-terminated); flags as for me_listfile_parse.
 * Returns 0, -EINVAL with *err filled for bad input, or the callback's error. */
int me_listline_parse(const char *buf, size_t len, unsigned int flags, me_listline_cb cb, void *ctx,
		      struct me_parse_err *err);

/* "2026-12-04T21:00:00Z" for a unix time; -1 when t cannot be written so. */
#define ME_UTC_STRLEN 21
int me_utc_format(long long t, char *buf, size_t len);
/* The reverse, exactly that form, years 1970-9999; -1 when s is not one. */
int me_utc_parse(const char *s, size_t len, long long *t);

#endif
