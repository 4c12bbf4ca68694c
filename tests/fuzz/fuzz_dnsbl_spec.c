// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_dnsbl_spec.c - libFuzzer target for the DNSBL site parser
 * (proxy/dnsbl_spec.c): a configuration's "zone=filter*weight" strings are an
 * admin's, but the parser must still never read past its input or accept a
 * site it cannot format. What it accepts must be consistent: a zone that is
 * a plain name, a weight within bounds, and a filter that never lists an
 * error code; and a reparse of the zone alone must give the same zone.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "dnsbl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct px_dnsbl_site s, z;
	struct px_dnsbl_conf c;
	struct px_dnsbl_result r;
	struct px_dns_a_result a;
	const struct px_dns_a_result *ap = &a;
	char text[600], why[256], out[1024];
	size_t n = size < sizeof(text) - 1 ? size : sizeof(text) - 1;
	const char *p;

	memcpy(text, data, n);
	text[n] = '\0';
	if (px_dnsbl_site_parse(text, &s, why, sizeof(why))) {
		if (!memchr(why, '\0', sizeof(why)) || !why[0])
			abort(); /* an error always says why */
		return 0;
	}
	if (!s.zone[0] || strlen(s.zone) >= sizeof(s.zone) || s.weight > PX_DNSBL_WEIGHT_MAX ||
	    s.weight < -PX_DNSBL_WEIGHT_MAX)
		abort();
	for (p = s.zone; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      *p == '_' || *p == '.'))
			abort();
	if (px_dnsbl_site_parse(s.zone, &z, why, sizeof(why)) || strcmp(z.zone, s.zone))
		abort();
	/* Whatever the filter, an error code never lists. */
	memset(&a, 0, sizeof(a));
	a.status = PX_DNS_A_OK;
	a.naddr = 2;
	a.addr[0].s_addr = htonl(0x7fffff00u | (size ? data[0] : 0));
	a.addr[1].s_addr = htonl(0x7f000002u);
	if (px_dnsbl_site_match(&s, a.addr[0]))
		abort();
	memset(&c, 0, sizeof(c));
	c.nsites = 1;
	c.site[0] = s;
	px_dnsbl_score(&c, &ap, &r);
	if (r.score != r.d[0].applied || (r.d[0].applied && r.d[0].applied != s.weight))
		abort();
	if (px_dnsbl_format(&c, &r, out, sizeof(out)) < 0)
		abort();
	return 0;
}
