// SPDX-License-Identifier: GPL-2.0
/*
 * addr.c - strict ADDR[/LEN] parsing for list entries.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

unsigned int me_prefix_maxlen(int family)
{
	return family == AF_INET ? 32 : 128;
}

int me_prefix_is_host(const struct me_prefix *p)
{
	return p->len == me_prefix_maxlen(p->family);
}

int me_prefix_mask(struct me_prefix *p)
{
	unsigned int bytes = me_prefix_maxlen(p->family) / 8;
	int changed = 0;
	unsigned int i;

	for (i = 0; i < bytes; i++) {
		unsigned int bit0 = i * 8;
		uint8_t keep;

		if (p->len >= bit0 + 8)
			continue;
		keep = p->len <= bit0 ? 0 : (uint8_t)(0xff << (8 - (p->len - bit0)));
		if (p->addr[i] & ~keep)
			changed = 1;
		p->addr[i] &= keep;
	}
	return changed;
}

int me_prefix_host_bits(struct me_prefix *p, unsigned int flags)
{
	if (me_prefix_mask(p)) {
		if (!(flags & ME_PFX_CLEAR_HOST))
			return ME_ADDR_HOST_BITS;
		p->host_bits_fixed = 1;
	}
	return ME_ADDR_OK;
}

/* Plain decimal only: no sign, no blank, no leading zero. "/024" is refused
 * rather than read as 24: with inet_aton and in C a leading zero means octal,
 * and a length whose meaning depends on the reader is a typo to point at, not
 * one to guess. "/0" is plain decimal; whether a /0 may be used is the
 * caller's business. */
static int parse_len(const char *s, unsigned int *len)
{
	unsigned int v = 0;
	size_t i, n = strlen(s);

	if (!n)
		return ME_ADDR_LEN;
	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return ME_ADDR_LEN;
	if (n > 1 && s[0] == '0')
		return ME_ADDR_LEN_ZERO;
	if (n > 3)
		return ME_ADDR_LEN;
	for (i = 0; i < n; i++)
		v = v * 10 + (unsigned int)(s[i] - '0');
	*len = v;
	return 0;
}

int me_prefix_parse(const char *s, struct me_prefix *out, unsigned int flags)
{
	char buf[ME_PREFIX_STRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	struct me_prefix p = { 0 };
	int has_len = slash != NULL;

	if (alen == 0 || alen >= sizeof(buf))
		return ME_ADDR_SYNTAX;
	memcpy(buf, s, alen);
	buf[alen] = '\0';

	if (inet_pton(AF_INET, buf, p.addr) == 1) {
		p.family = AF_INET;
	} else if (inet_pton(AF_INET6, buf, p.addr) == 1) {
		p.family = AF_INET6;
	} else {
		return ME_ADDR_SYNTAX;
	}
	p.len = me_prefix_maxlen(p.family);
	if (has_len) {
		int rc = parse_len(slash + 1, &p.len);

		if (rc)
			return rc;
	}
	if (p.len > me_prefix_maxlen(p.family))
		return ME_ADDR_LEN;

	if (p.family == AF_INET6 && !memcmp(p.addr, v4mapped, sizeof(v4mapped))) {
		if (has_len && p.len < 96)
			return ME_ADDR_LEN;
		memmove(p.addr, p.addr + 12, 4);
		memset(p.addr + 4, 0, 12);
		p.family = AF_INET;
		p.len -= 96;
	}

	if (me_prefix_host_bits(&p, flags))
		return ME_ADDR_HOST_BITS;
	*out = p;
	return ME_ADDR_OK;
}

const char *me_addr_strerror(int err)
{
	switch (err) {
	case ME_ADDR_OK:
		return "ok";
	case ME_ADDR_SYNTAX:
		return "not an IPv4 or IPv6 address";
	case ME_ADDR_LEN:
		return "prefix length out of range";
	case ME_ADDR_HOST_BITS:
		return "host bits set after the prefix length";
	case ME_ADDR_LEN_ZERO:
		return "prefix length has a leading zero (write /24, not /024)";
	}
	return "invalid address";
}

void me_prefix_format(const struct me_prefix *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(p->family, p->addr, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	if (me_prefix_is_host(p))
		snprintf(buf, len, "%s", a);
	else
		snprintf(buf, len, "%s/%u", a, p->len);
}

int me_prefix_contains(const struct me_prefix *a, const struct me_prefix *b)
{
	struct me_prefix t;

	if (a->family != b->family || a->len > b->len)
		return 0;
	t = *b;
	t.len = a->len;
	me_prefix_mask(&t);
	return !memcmp(t.addr, a->addr, sizeof(t.addr));
}
