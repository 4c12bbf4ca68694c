// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_addr.c - libFuzzer target for me_prefix_parse.
 *
 * The input (capped at 128 bytes, NUL-terminated) is parsed with and without
 * ME_PFX_CLEAR_HOST. Whatever parses must be a well-formed prefix: a known
 * family, a length within it, no host bits, and a text form that parses back
 * to the same prefix. Any violation aborts, which libFuzzer reports as a crash.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

#define MAX_IN 128

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *in, const char *what)
{
	fprintf(stderr, "fuzz_addr: '%s': %s\n", in, what);
	abort();
}

static void check(const char *in, const struct me_prefix *p, unsigned int flags)
{
	char text[ME_PREFIX_STRLEN];
	struct me_prefix copy = *p, back;
	int rc;

	if (p->family != AF_INET && p->family != AF_INET6)
		fail(in, "family is neither AF_INET nor AF_INET6");
	if (p->len > me_prefix_maxlen(p->family))
		fail(in, "prefix length longer than the family allows");
	if (me_prefix_mask(&copy))
		fail(in, "host bits set after the prefix length");
	if (memcmp(copy.addr, p->addr, sizeof(p->addr)))
		fail(in, "masking changed the address");
	if (p->family == AF_INET) {
		static const uint8_t zero[12];

		if (memcmp(p->addr + 4, zero, sizeof(zero)))
			fail(in, "IPv4 prefix with bytes set after the first 4");
	}
	if (p->host_bits_fixed && !(flags & ME_PFX_CLEAR_HOST))
		fail(in, "host_bits_fixed set without ME_PFX_CLEAR_HOST");

	memset(text, 0x5a, sizeof(text));
	me_prefix_format(p, text, sizeof(text));
	if (!memchr(text, '\0', sizeof(text)))
		fail(in, "me_prefix_format output not NUL-terminated");
	rc = me_prefix_parse(text, &back, 0);
	if (rc) {
		fprintf(stderr, "fuzz_addr: formatted as '%s', re-parse rc %d\n", text, rc);
		fail(in, "formatted prefix does not parse back");
	}
	if (back.family != p->family || back.len != p->len ||
	    memcmp(back.addr, p->addr, sizeof(p->addr))) {
		fprintf(stderr, "fuzz_addr: formatted as '%s'\n", text);
		fail(in, "re-parsed prefix differs");
	}
	if (back.host_bits_fixed)
		fail(in, "re-parse reports fixed host bits");
}

static int parse_checked(const char *in, struct me_prefix *p, unsigned int flags)
{
	int rc;

	memset(p, 0xa5, sizeof(*p));
	rc = me_prefix_parse(in, p, flags);
	if (rc != ME_ADDR_OK && rc != ME_ADDR_SYNTAX && rc != ME_ADDR_LEN &&
	    rc != ME_ADDR_HOST_BITS && rc != ME_ADDR_LEN_ZERO)
		fail(in, "unknown return code");
	if (!me_addr_strerror(rc) || !*me_addr_strerror(rc))
		fail(in, "empty me_addr_strerror");
	if (rc == ME_ADDR_OK)
		check(in, p, flags);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct me_prefix strict, clear;
	char in[MAX_IN + 1];
	size_t n = size > MAX_IN ? MAX_IN : size;
	int rs, rc;

	memcpy(in, data, n);
	in[n] = '\0';
	rs = parse_checked(in, &strict, 0);
	rc = parse_checked(in, &clear, ME_PFX_CLEAR_HOST);

	/* ME_PFX_CLEAR_HOST changes exactly one thing: host bits are fixed. */
	if (rc == ME_ADDR_HOST_BITS)
		fail(in, "ME_PFX_CLEAR_HOST still reports host bits");
	if (rs == ME_ADDR_OK || rs == ME_ADDR_HOST_BITS) {
		if (rc != ME_ADDR_OK)
			fail(in, "parses strictly (or fails on host bits only) but not with "
				 "ME_PFX_CLEAR_HOST");
		if (clear.host_bits_fixed != (rs == ME_ADDR_HOST_BITS))
			fail(in, "host_bits_fixed does not match the strict parse");
	} else if (rc != rs) {
		fail(in, "ME_PFX_CLEAR_HOST changed a syntax or length error");
	}
	if (rs == ME_ADDR_OK && (strict.family != clear.family || strict.len != clear.len ||
				 memcmp(strict.addr, clear.addr, sizeof(strict.addr))))
		fail(in, "ME_PFX_CLEAR_HOST changed a prefix without host bits");
	return 0;
}
