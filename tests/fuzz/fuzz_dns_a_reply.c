// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_dns_a_reply.c - libFuzzer target for the DNSBL reply path
 * (px_dns_a_parse in proxy/dns.c): a DNS reply is the network's, so
 * whatever bytes arrive, c-ares's parser and our bounds on what it returns
 * must give OK with 1..PX_DNS_A_MAX addresses, NONE, or BAD, and nothing
 * else.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct px_dns_a_result r;

	px_dns_a_parse(data, (int)(size > 100000 ? 100000 : size), &r);
	switch (r.status) {
	case PX_DNS_A_OK:
		if (!r.naddr || r.naddr > PX_DNS_A_MAX || r.oversized)
			abort();
		break;
	case PX_DNS_A_NONE:
		if (r.naddr || r.oversized)
			abort();
		break;
	case PX_DNS_A_BAD:
		if (r.naddr)
			abort();
		break;
	default:
		abort(); /* TEMPFAIL is for what the resolver says, never a parse */
	}
	return 0;
}
