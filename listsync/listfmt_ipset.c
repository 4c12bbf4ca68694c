// SPDX-License-Identifier: GPL-2.0
/*
 * listfmt_ipset.c - the output of "ipset save".
 *
 *   create NAME hash:net family inet hashsize 1024 maxelem 65536
 *   add NAME 192.0.2.0/24
 *   add NAME 198.51.100.7 timeout 300
 *
 * Only hash:ip and hash:net sets hold what a list is; any other set type (ports,
 * interfaces, marks) is refused rather than half-understood, and so are the
 * options that change what an element means: "nomatch" (an exception carved out
 * of the set, the opposite of an entry) and a hash:ip "netmask"/"bitmask" (its
 * elements are then networks). Other element options (timeout, comment,
 * counters) are ignored: mailedge entries get their own action and expiry.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "listfmt.h"

static int next_word(const char **l, size_t *n, const char **w, size_t *wl)
{
	me_trim(l, n);
	if (!*n)
		return 0;
	*w = *l;
	for (*wl = 0; *wl < *n && (*l)[*wl] != ' ' && (*l)[*wl] != '\t'; (*wl)++)
		;
	*l += *wl;
	*n -= *wl;
	return 1;
}

static int word_is(const char *w, size_t wl, const char *s)
{
	return wl == strlen(s) && !memcmp(w, s, wl);
}

int me_fmt_ipset_save(const char *buf, size_t len, unsigned int flags, me_listfile_cb cb,
		      void *ctx, struct me_parse_err *err)
{
	struct me_lines it = { .buf = buf, .len = len };
	const char *l, *line, *w;
	size_t n, llen, wl;
	int more, rc;

	while ((more = me_lines_next(&it, &l, &n, err)) > 0) {
		struct me_prefix p;

		line = l;
		llen = n;
		if (!next_word(&l, &n, &w, &wl) || *w == '#')
			continue;
		if (word_is(w, wl, "create")) {
			if (!next_word(&l, &n, &w, &wl) || !next_word(&l, &n, &w, &wl))
				return me_parse_fail(err, it.no, line, llen,
						     "create without a name and type");
			if (!word_is(w, wl, "hash:ip") && !word_is(w, wl, "hash:net"))
				return me_parse_fail(err, it.no, line, llen,
						     "set type is not hash:ip or hash:net");
			while (next_word(&l, &n, &w, &wl))
				if (word_is(w, wl, "netmask") || word_is(w, wl, "bitmask"))
					return me_parse_fail(err, it.no, line, llen,
							     "sets with netmask/bitmask are not supported");
			continue;
		}
		if (!word_is(w, wl, "add"))
			return me_parse_fail(err, it.no, line, llen,
					     "not a 'create' or 'add' line of ipset save");
		if (!next_word(&l, &n, &w, &wl) || !next_word(&l, &n, &w, &wl))
			return me_parse_fail(err, it.no, line, llen, "add without a set and element");
		if (wl > ME_PREFIX_STRLEN || memchr(w, '-', wl))
			return me_parse_fail(err, it.no, line, llen,
					     "element is not an address or CIDR");
		rc = me_fmt_prefix(w, wl, flags, &p, it.no, err,
				   "element is not an address or CIDR");
		if (rc)
			return rc;
		while (next_word(&l, &n, &w, &wl))
			if (word_is(w, wl, "nomatch"))
				return me_parse_fail(err, it.no, line, llen,
						     "a nomatch element is an exception, not an entry");
		rc = cb(ctx, &p, it.no);
		if (rc)
			return rc;
	}
	return more < 0 ? more : 0;
}
