// SPDX-License-Identifier: GPL-2.0
/*
 * test_addr.c - ADDR[/LEN] parsing: what is accepted, normalised and refused.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>

#include "addr.h"

/* Inline strings: Criterion runs each parameter in a re-executed worker, where
 * pointers into the parent's data would not be valid. */
struct addr_case {
	char in[48];
	unsigned int flags;
	int want_rc;
	char want_text[48]; /* me_prefix_format of the result */
	int want_family;
};

static const struct addr_case cases[] = {
	{ "192.0.2.1", 0, 0, "192.0.2.1", AF_INET },
	{ "192.0.2.1/32", 0, 0, "192.0.2.1", AF_INET },
	{ "192.0.2.0/24", 0, 0, "192.0.2.0/24", AF_INET },
	{ "0.0.0.0/0", 0, 0, "0.0.0.0/0", AF_INET },
	{ "10.0.0.0/8", 0, 0, "10.0.0.0/8", AF_INET },
	{ "192.0.2.1/24", 0, ME_ADDR_HOST_BITS, "", 0 },
	{ "192.0.2.1/24", ME_PFX_CLEAR_HOST, 0, "192.0.2.0/24", AF_INET },
	{ "192.0.2.0/33", 0, ME_ADDR_LEN, "", 0 },
	{ "192.0.2.0/", 0, ME_ADDR_LEN, "", 0 },
	{ "192.0.2.0/-1", 0, ME_ADDR_LEN, "", 0 },
	{ "192.0.2.0/+8", 0, ME_ADDR_LEN, "", 0 },
	/* Plain decimal only: a leading zero is named (octal elsewhere), a sign,
	 * a blank or a fourth digit is just not a length. "/0" stays valid. */
	{ "192.0.2.0/024", 0, ME_ADDR_LEN_ZERO, "", 0 },
	{ "192.0.2.0/024", ME_PFX_CLEAR_HOST, ME_ADDR_LEN_ZERO, "", 0 },
	{ "192.0.2.0/00", 0, ME_ADDR_LEN_ZERO, "", 0 },
	{ "192.0.2.0/032", 0, ME_ADDR_LEN_ZERO, "", 0 },
	{ "192.0.2.0/0008", 0, ME_ADDR_LEN_ZERO, "", 0 },
	{ "192.0.2.0/+24", 0, ME_ADDR_LEN, "", 0 },
	{ "192.0.2.0/ 24", 0, ME_ADDR_LEN, "", 0 },
	{ "192.0.2.0/24 ", 0, ME_ADDR_LEN, "", 0 },
	{ "192.0.2.0/2 4", 0, ME_ADDR_LEN, "", 0 },
	{ "192.0.2.0/1000", 0, ME_ADDR_LEN, "", 0 },
	{ "192.0.2.0/0x18", 0, ME_ADDR_LEN, "", 0 },
	{ "192.0.2.0/08x", 0, ME_ADDR_LEN, "", 0 },
	{ "10.0.0.0/8", ME_PFX_CLEAR_HOST, 0, "10.0.0.0/8", AF_INET },
	{ "192.0.2.0/24", ME_PFX_CLEAR_HOST, 0, "192.0.2.0/24", AF_INET },
	{ "::/0", 0, 0, "::/0", AF_INET6 },
	{ "2001:db8::/032", 0, ME_ADDR_LEN_ZERO, "", 0 },
	{ "2001:db8::/0128", 0, ME_ADDR_LEN_ZERO, "", 0 },
	{ "2001:db8::1/128", 0, 0, "2001:db8::1", AF_INET6 },
	{ "::ffff:192.0.2.0/0120", 0, ME_ADDR_LEN_ZERO, "", 0 },
	{ "192.0.2.0/24/1", 0, ME_ADDR_LEN, "", 0 },
	{ "192.0.2", 0, ME_ADDR_SYNTAX, "", 0 },
	{ "192.0.2.256", 0, ME_ADDR_SYNTAX, "", 0 },
	{ " 192.0.2.1", 0, ME_ADDR_SYNTAX, "", 0 },
	{ "", 0, ME_ADDR_SYNTAX, "", 0 },
	{ "/24", 0, ME_ADDR_SYNTAX, "", 0 },
	{ "example.org", 0, ME_ADDR_SYNTAX, "", 0 },
	{ "2001:db8::1", 0, 0, "2001:db8::1", AF_INET6 },
	{ "2001:db8::/32", 0, 0, "2001:db8::/32", AF_INET6 },
	{ "2001:db8::1/64", 0, ME_ADDR_HOST_BITS, "", 0 },
	{ "2001:db8::1/64", ME_PFX_CLEAR_HOST, 0, "2001:db8::/64", AF_INET6 },
	{ "2001:db8::/129", 0, ME_ADDR_LEN, "", 0 },
	{ "2001:db8:::1", 0, ME_ADDR_SYNTAX, "", 0 },
	/* IPv4-mapped IPv6 becomes IPv4: XDP sees those clients as IPv4. */
	{ "::ffff:192.0.2.1", 0, 0, "192.0.2.1", AF_INET },
	{ "::ffff:192.0.2.0/120", 0, 0, "192.0.2.0/24", AF_INET },
	{ "::ffff:0:0/95", 0, ME_ADDR_LEN, "", 0 },
};

ParameterizedTestParameters(addr, parse)
{
	return cr_make_param_array(struct addr_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(const struct addr_case *c, addr, parse)
{
	struct me_prefix p;
	char text[ME_PREFIX_STRLEN];
	int rc = me_prefix_parse(c->in, &p, c->flags);

	cr_assert_eq(rc, c->want_rc, "'%s': got rc %d, want %d", c->in, rc, c->want_rc);
	if (rc)
		return;
	me_prefix_format(&p, text, sizeof(text));
	cr_assert_str_eq(text, c->want_text, "'%s': got %s, want %s", c->in, text, c->want_text);
	cr_assert_eq(p.family, c->want_family, "'%s': got family %d, want %d", c->in, p.family,
		     c->want_family);
	cr_assert_eq(p.host_bits_fixed, (c->flags & ME_PFX_CLEAR_HOST) && strchr(c->in, '/') &&
						strcmp(c->want_text, c->in) != 0,
		     "'%s': host_bits_fixed got %d", c->in, p.host_bits_fixed);
}

Test(addr, contains)
{
	struct me_prefix a, b;

	cr_assert_eq(me_prefix_parse("198.51.100.0/24", &a, 0), 0);
	cr_assert_eq(me_prefix_parse("198.51.100.7", &b, 0), 0);
	cr_assert(me_prefix_contains(&a, &b), "got: /24 does not contain its host, want contains");
	cr_assert(!me_prefix_contains(&b, &a), "got: host contains /24, want not");
	cr_assert_eq(me_prefix_parse("198.51.101.0/24", &b, 0), 0);
	cr_assert(!me_prefix_contains(&a, &b), "got: sibling /24 contained, want not");
	cr_assert_eq(me_prefix_parse("2001:db8::/32", &b, 0), 0);
	cr_assert(!me_prefix_contains(&a, &b), "got: IPv4 contains IPv6, want not");
}

/* The refusal of "/024" says what is wrong, not just "out of range". */
Test(addr, leading_zero_message)
{
	struct me_prefix p;
	int rc = me_prefix_parse("192.0.2.0/024", &p, 0);
	const char *why = me_addr_strerror(rc);

	cr_assert(strstr(why, "leading zero") && strstr(why, "prefix length"),
		  "'192.0.2.0/024': got message '%s', want it to name a leading zero in the "
		  "prefix length",
		  why);
}
