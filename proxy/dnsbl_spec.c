// SPDX-License-Identifier: GPL-2.0
/*
 * dnsbl_spec.c - the pure part of DNSBL scoring: a site's text
 * ("zone=127.0.0.[2..11]*3") into a struct, a reply address against its
 * filter, the score of a set of answers, and the query name of a client.
 *
 * Nothing here does I/O, so the parser is fuzzed as it is
 * (tests/fuzz/fuzz_dnsbl_spec.c) and the arithmetic is tested as a table.
 *
 * The filter is kept as four 256-bit sets, one per octet, rather than as the
 * list of ranges it was written as: matching is then four bit tests, and a
 * filter cannot cost more than that however it is written.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnsbl.h"

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* A number 0..255 at *p (1 to 3 digits); the cursor moves past it. */
static int octet_number(const char **p, unsigned int *v)
{
	unsigned int n = 0;
	int k = 0;

	while (is_digit(**p)) {
		if (++k > 3)
			return -1;
		n = n * 10 + (unsigned int)(**p - '0');
		(*p)++;
	}
	if (!k || n > 255)
		return -1;
	*v = n;
	return 0;
}

static void set_bits(uint8_t *set, unsigned int from, unsigned int to)
{
	unsigned int v;

	for (v = from; v <= to; v++)
		set[v / 8] |= (uint8_t)(1u << (v % 8));
}

/* One octet of a filter at *p: "N" or "[N;A..B;...]". -1 with why. */
static int octet_pattern(const char **p, uint8_t *set, int idx, char *why, size_t why_len)
{
	unsigned int a, b;

	if (**p != '[') {
		if (octet_number(p, &a)) {
			snprintf(why, why_len,
				 "octet %d of the filter: want a number 0..255 or a [list]",
				 idx + 1);
			return -1;
		}
		set_bits(set, a, a);
		return 0;
	}
	(*p)++;
	for (;;) {
		if (octet_number(p, &a)) {
			snprintf(why, why_len,
				 "octet %d of the filter: want numbers 0..255 in the [list], "
				 "separated by ';'",
				 idx + 1);
			return -1;
		}
		b = a;
		if ((*p)[0] == '.' && (*p)[1] == '.') {
			*p += 2;
			if (octet_number(p, &b)) {
				snprintf(why, why_len,
					 "octet %d of the filter: a range is N..M, both 0..255",
					 idx + 1);
				return -1;
			}
			if (b < a) {
				snprintf(why, why_len,
					 "octet %d of the filter: range %u..%u is empty", idx + 1,
					 a, b);
				return -1;
			}
		}
		set_bits(set, a, b);
		if (**p == ']') {
			(*p)++;
			return 0;
		}
		if (**p != ';') {
			snprintf(why, why_len,
				 "octet %d of the filter: want ';' or ']' after %u, got '%c'",
				 idx + 1, b, **p ? **p : '?');
			return -1;
		}
		(*p)++;
	}
}

/* The zone: letters, digits, '-', '_', labels of 1..63, one final dot
 * allowed (and dropped). Lower-cased into s->zone. */
static int parse_zone(const char *z, size_t n, struct px_dnsbl_site *s, char *why, size_t why_len)
{
	size_t i, label = 0;

	if (n && z[n - 1] == '.')
		n--;
	if (!n) {
		snprintf(why, why_len, "no zone: want zone[=filter][*weight]");
		return -1;
	}
	if (n >= sizeof(s->zone)) {
		snprintf(why, why_len, "zone is longer than %zu characters", sizeof(s->zone) - 1);
		return -1;
	}
	for (i = 0; i < n; i++) {
		char c = z[i];

		if (c == '.') {
			if (!label) {
				snprintf(why, why_len, "zone '%.*s' has an empty label", (int)n, z);
				return -1;
			}
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
			   c == '-' || c == '_') {
			if (++label > 63) {
				snprintf(why, why_len,
					 "zone '%.80s...' has a label longer than 63 characters",
					 z);
				return -1;
			}
		} else {
			snprintf(why, why_len,
				 "zone '%.*s': a zone is letters, digits, '-', '_' and dots",
				 (int)(n > 80 ? 80 : n), z);
			return -1;
		}
		s->zone[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	if (!label) { /* "zone.." : one final dot is the root, two are not */
		snprintf(why, why_len, "zone '%.*s.' has an empty label", (int)n, z);
		return -1;
	}
	s->zone[n] = '\0';
	return 0;
}

static int parse_weight(const char *p, struct px_dnsbl_site *s, char *why, size_t why_len)
{
	const char *q = p;
	long w = 0;
	int neg = 0, k = 0;

	if (*q == '-' || *q == '+')
		neg = *q++ == '-';
	while (is_digit(*q) && k < 6) {
		w = w * 10 + (*q++ - '0');
		k++;
	}
	if (!k || *q || w > PX_DNSBL_WEIGHT_MAX) {
		snprintf(why, why_len, "weight '%.20s': want an integer from -%d to %d", p,
			 PX_DNSBL_WEIGHT_MAX, PX_DNSBL_WEIGHT_MAX);
		return -1;
	}
	s->weight = (int)(neg ? -w : w);
	return 0;
}

int px_dnsbl_site_parse(const char *text, struct px_dnsbl_site *s, char *why, size_t why_len)
{
	const char *b = text, *e, *p, *z;
	size_t n;
	int i;

	memset(s, 0, sizeof(*s));
	s->weight = 1;
	while (is_blank(*b))
		b++;
	e = b + strlen(b);
	while (e > b && is_blank(e[-1]))
		e--;
	n = (size_t)(e - b);
	if (!n) {
		snprintf(why, why_len, "empty site: want zone[=filter][*weight]");
		return -EINVAL;
	}
	if (n >= sizeof(s->text)) {
		snprintf(why, why_len, "site is longer than %zu characters", sizeof(s->text) - 1);
		return -EINVAL;
	}
	memcpy(s->text, b, n);
	s->text[n] = '\0';
	for (p = s->text; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f) {
			snprintf(why, why_len,
				 "site '%.80s': no blanks or control characters inside", s->text);
			return -EINVAL;
		}
	z = s->text;
	p = z + strcspn(z, "=*");
	if (parse_zone(z, (size_t)(p - z), s, why, why_len))
		return -EINVAL;
	if (*p == '=') {
		p++;
		s->filtered = 1;
		for (i = 0; i < 4; i++) {
			if (octet_pattern(&p, s->octet[i], i, why, why_len))
				return -EINVAL;
			if (i < 3 && *p++ != '.') {
				snprintf(why, why_len,
					 "filter: want four octets like 127.0.0.[2..11], "
					 "separated by dots");
				return -EINVAL;
			}
		}
		if (*p && *p != '*') {
			snprintf(why, why_len,
				 "filter: unexpected '%c' after the fourth octet (the weight is "
				 "*N)",
				 *p);
			return -EINVAL;
		}
	}
	if (*p == '*') {
		if (strchr(p, '=')) {
			snprintf(why, why_len, "the filter (=...) comes before the weight (*N)");
			return -EINVAL;
		}
		if (parse_weight(p + 1, s, why, why_len))
			return -EINVAL;
	}
	return 0;
}

int px_dnsbl_is_errcode(struct in_addr a)
{
	return (ntohl(a.s_addr) & 0xffffff00u) == 0x7fffff00u;
}

int px_dnsbl_site_match(const struct px_dnsbl_site *s, struct in_addr a)
{
	uint32_t h = ntohl(a.s_addr);
	int i;

	if (px_dnsbl_is_errcode(a))
		return 0;
	if (!s->filtered)
		return (h >> 24) == 127;
	for (i = 0; i < 4; i++) {
		unsigned int v = (h >> (24 - 8 * i)) & 0xff;

		if (!(s->octet[i][v / 8] & (1u << (v % 8))))
			return 0;
	}
	return 1;
}

const char *px_dnsbl_outcome_name(enum px_dnsbl_outcome o)
{
	switch (o) {
	case PX_DNSBL_UNLISTED:
		return "unlisted";
	case PX_DNSBL_LISTED:
		return "listed";
	case PX_DNSBL_FILTERED:
		return "filtered";
	case PX_DNSBL_ERRCODE:
		return "errcode";
	case PX_DNSBL_FAILED:
		return "failed";
	default:
		return "badreply";
	}
}

/* One site's answer into its detail (outcome, applied, addr). */
static void score_one(const struct px_dnsbl_conf *c, const struct px_dnsbl_site *s,
		      const struct px_dns_a_result *a, struct px_dnsbl_detail *d)
{
	unsigned int i;
	int other = -1;

	d->applied = 0;
	d->addr.s_addr = 0;
	if (!a || a->status == PX_DNS_A_TEMPFAIL) {
		d->outcome = PX_DNSBL_FAILED;
		/* Listed on failure is for block lists: a failing allow list
		 * must not lower a score. */
		if (c->on_failure == PX_DNSBL_FAIL_LISTED && s->weight > 0)
			d->applied = s->weight;
		return;
	}
	if (a->status == PX_DNS_A_BAD) {
		d->outcome = PX_DNSBL_BADREPLY;
		return;
	}
	if (a->status != PX_DNS_A_OK || !a->naddr) {
		d->outcome = PX_DNSBL_UNLISTED;
		return;
	}
	for (i = 0; i < a->naddr && i < PX_DNS_A_MAX; i++) {
		if (px_dnsbl_site_match(s, a->addr[i])) {
			d->outcome = PX_DNSBL_LISTED;
			d->addr = a->addr[i];
			d->applied = s->weight;
			return;
		}
		if (other < 0 && !px_dnsbl_is_errcode(a->addr[i]))
			other = (int)i;
	}
	d->outcome = other < 0 ? PX_DNSBL_ERRCODE : PX_DNSBL_FILTERED;
	d->addr = a->addr[other < 0 ? 0 : other];
}

void px_dnsbl_score(const struct px_dnsbl_conf *c, const struct px_dns_a_result *const *answers,
		    struct px_dnsbl_result *r)
{
	unsigned int i;

	r->score = 0;
	r->listed = r->failed = r->bad = 0;
	r->nsites = c->nsites < PX_DNSBL_SITES_MAX ? c->nsites : PX_DNSBL_SITES_MAX;
	for (i = 0; i < r->nsites; i++) {
		struct px_dnsbl_detail *d = &r->d[i];

		score_one(c, &c->site[i], answers[i], d);
		r->score += d->applied;
		r->listed += d->applied != 0;
		r->failed += d->outcome == PX_DNSBL_FAILED;
		r->bad += d->outcome == PX_DNSBL_BADREPLY;
	}
}

int px_dnsbl_format(const struct px_dnsbl_conf *c, const struct px_dnsbl_result *r, char *buf,
		    size_t len)
{
	size_t o = 0;
	unsigned int i;
	int k;

#define PUT(...)                                                                                   \
	do {                                                                                       \
		k = snprintf(buf ? buf + (o < len ? o : len) : NULL, buf && o < len ? len - o : 0, \
			     __VA_ARGS__);                                                         \
		if (k > 0)                                                                         \
			o += (size_t)k;                                                            \
	} while (0)
	PUT("score=%d", r->score);
	for (i = 0; i < r->nsites && i < c->nsites; i++) {
		const struct px_dnsbl_detail *d = &r->d[i];
		char a[INET_ADDRSTRLEN];

		PUT("%s%s:%s", i ? "," : " dnsbl=", c->site[i].zone,
		    px_dnsbl_outcome_name(d->outcome));
		if (d->addr.s_addr && inet_ntop(AF_INET, &d->addr, a, sizeof(a)))
			PUT(":%s", a);
		if (d->applied)
			PUT(":%+d", d->applied);
		if (d->cached)
			PUT(":cached");
		if (d->timed_out)
			PUT(":timeout");
	}
#undef PUT
	return (int)o;
}

int px_dnsbl_query_name(char *out, size_t len, const struct sockaddr *addr, const char *zone)
{
	const unsigned char *b;
	size_t o = 0;
	int i, k;

	if (addr->sa_family == AF_INET6) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)addr)->sin6_addr;

		b = a6->s6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a6)) {
			b += 12;
			goto v4;
		}
		for (i = 15; i >= 0; i--) {
			k = snprintf(out + o, len - o, "%x.%x.", b[i] & 0xf, b[i] >> 4);
			if (k < 0 || (size_t)k >= len - o)
				return -EINVAL;
			o += (size_t)k;
		}
		k = snprintf(out + o, len - o, "%s", zone);
		return k >= 0 && (size_t)k < len - o ? 0 : -EINVAL;
	}
	if (addr->sa_family != AF_INET)
		return -EINVAL;
	b = (const unsigned char *)&((const struct sockaddr_in *)addr)->sin_addr;
v4:
	k = snprintf(out, len, "%u.%u.%u.%u.%s", b[3], b[2], b[1], b[0], zone);
	return k > 0 && (size_t)k < len ? 0 : -EINVAL;
}
