// SPDX-License-Identifier: GPL-2.0
/*
 * listfmt_dshield.c - DShield's block.txt (the top 20 attacking /24s).
 *
 *   # comments
 *   Start	End	Netblock	Attacks	Name	Country	email
 *   192.0.2.0	192.0.2.255	24	1234	...
 *
 * Start and prefix length make the entry; End must agree with them, which
 * catches a column shift or a line cut short.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "listfmt.h"

#define DSHIELD_MIN_FIELDS 3

/* Split l on tabs into at most max fields; returns the count. */
static int split_tabs(const char *l, size_t n, const char **f, size_t *fl, int max)
{
	int k = 0;
	size_t i, start = 0;

	for (i = 0; i <= n && k < max; i++) {
		if (i == n || l[i] == '\t') {
			f[k] = l + start;
			fl[k] = i - start;
			me_trim(&f[k], &fl[k]);
			k++;
			start = i + 1;
		}
	}
	return k;
}

static int field_ip4(const char *s, size_t n, struct in_addr *a)
{
	char b[INET_ADDRSTRLEN];

	if (!n || n >= sizeof(b))
		return -1;
	memcpy(b, s, n);
	b[n] = '\0';
	return inet_pton(AF_INET, b, a) == 1 ? 0 : -1;
}

int me_fmt_dshield(const char *buf, size_t len, unsigned int flags, me_listfile_cb cb, void *ctx,
		   struct me_parse_err *err)
{
	struct me_lines it = { .buf = buf, .len = len };
	const char *l, *f[8];
	size_t n, fl[8];
	int more, k, rc;

	while ((more = me_lines_next(&it, &l, &n, err)) > 0) {
		struct in_addr start, end;
		struct me_prefix p = { 0 };
		unsigned int plen = 0, i;
		uint32_t mask;

		me_trim(&l, &n);
		if (!n || *l == '#')
			continue;
		if (n >= 5 && !strncmp(l, "Start", 5))
			continue; /* the column header */
		k = split_tabs(l, n, f, fl, 8);
		if (k < DSHIELD_MIN_FIELDS)
			return me_parse_fail(err, it.no, l, n,
					     "expected start, end and prefix length, tab-separated");
		if (field_ip4(f[0], fl[0], &start) || field_ip4(f[1], fl[1], &end))
			return me_parse_fail(err, it.no, l, n, "start or end is not an IPv4 address");
		if (!fl[2] || fl[2] > 2)
			return me_parse_fail(err, it.no, l, n, "prefix length is not 1-32");
		for (i = 0; i < fl[2]; i++) {
			if (f[2][i] < '0' || f[2][i] > '9')
				return me_parse_fail(err, it.no, l, n, "prefix length is not 1-32");
			plen = plen * 10 + (unsigned int)(f[2][i] - '0');
		}
		if (plen < 1 || plen > 32)
			return me_parse_fail(err, it.no, l, n, "prefix length is not 1-32");
		mask = plen == 32 ? 0xffffffffu : ~(0xffffffffu >> plen);
		if ((ntohl(start.s_addr) | ~mask) != ntohl(end.s_addr))
			return me_parse_fail(err, it.no, l, n,
					     "end address does not match start and prefix length");
		p.family = AF_INET;
		p.len = plen;
		memcpy(p.addr, &start.s_addr, 4);
		if (me_prefix_host_bits(&p, flags))
			return me_parse_fail(err, it.no, l, n,
					     "host bits set after the prefix length");
		rc = cb(ctx, &p, it.no);
		if (rc)
			return rc;
	}
	return more < 0 ? more : 0;
}
