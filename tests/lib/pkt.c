// SPDX-License-Identifier: GPL-2.0
/*
 * pkt.c - test frame builder.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "pkt.h"

static const uint8_t mac_dst[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t mac_src[6] = { 0x02, 0, 0, 0, 0, 0x02 };

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

uint16_t pkt_csum(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t pseudo_sum(int family, const uint8_t *s, const uint8_t *d, uint8_t proto,
			   size_t len)
{
	uint32_t sum = 0;
	size_t alen = family == AF_INET ? 4 : 16, i;

	for (i = 0; i < alen; i += 2) {
		sum += (uint32_t)(s[i] << 8 | s[i + 1]);
		sum += (uint32_t)(d[i] << 8 | d[i + 1]);
	}
	sum += proto;
	sum += (uint32_t)len;
	return sum;
}

uint16_t pkt_tcp_csum(int family, const uint8_t *saddr, const uint8_t *daddr, const uint8_t *l4,
		      size_t len)
{
	return pkt_csum(l4, len, pseudo_sum(family, saddr, daddr, IPPROTO_TCP, len));
}

size_t pkt_l3_off(const struct pkt_spec *s)
{
	return 14 + 4 * (size_t)s->vlans;
}

static size_t l3_len(const struct pkt_spec *s)
{
	if (s->family == AF_INET)
		return 20 + (size_t)s->ip_opts_len;
	return 40 + 8 * (size_t)s->v6_ext_hdrs + (s->v6_frag_hdr ? 8 : 0);
}

size_t pkt_l4_off(const struct pkt_spec *s)
{
	return pkt_l3_off(s) + l3_len(s);
}

static size_t l4_hdr_len(const struct pkt_spec *s, int l4)
{
	if (l4 == IPPROTO_TCP)
		return 20 + (size_t)s->tcp_opts_len;
	return 8; /* UDP, ICMP, ICMPv6 */
}

size_t pkt_build(const struct pkt_spec *s, uint8_t *buf, size_t cap)
{
	int l4 = s->l4 ? s->l4 : IPPROTO_TCP;
	uint8_t saddr[16] = { 0 }, daddr[16] = { 0 };
	size_t off = 12, l3, l4off, l4len = 0, total, i;
	uint16_t etype;
	uint8_t *p;

	if (s->family == AF_INET)
		etype = 0x0800;
	else if (s->family == AF_INET6)
		etype = 0x86dd;
	else
		etype = s->ethertype ? s->ethertype : 0x0806;

	l3 = pkt_l3_off(s);
	if (!s->family) {
		total = l3 + 28; /* an ARP-sized body */
		if (total > cap)
			return 0;
		memset(buf, 0, total);
	} else {
		l4off = pkt_l4_off(s);
		l4len = l4_hdr_len(s, l4) + (size_t)s->payload_len;
		total = l4off + l4len;
		if (total > cap)
			return 0;
		memset(buf, 0, total);
		if (inet_pton(s->family, s->src, saddr) != 1 ||
		    inet_pton(s->family, s->dst, daddr) != 1)
			return 0;
	}

	memcpy(buf, mac_dst, 6);
	memcpy(buf + 6, mac_src, 6);
	for (i = 0; i < (size_t)s->vlans; i++) {
		put16(buf + off, s->vlan_proto[i] ? s->vlan_proto[i] : 0x8100);
		put16(buf + off + 2, (uint16_t)(100 + i)); /* VLAN id */
		off += 4;
	}
	put16(buf + off, etype);
	if (!s->family)
		return total;

	p = buf + l3;
	if (s->family == AF_INET) {
		size_t hl = l3_len(s);
		uint16_t frag = (uint16_t)(s->frag_offset & 0x1fff);

		if (s->more_frags)
			frag |= 0x2000;
		p[0] = (uint8_t)(0x40 | (hl / 4));
		put16(p + 2, (uint16_t)(hl + l4len));
		put16(p + 4, 0x1234);
		put16(p + 6, frag);
		p[8] = 64;
		p[9] = (uint8_t)l4;
		memcpy(p + 12, saddr, 4);
		memcpy(p + 16, daddr, 4);
		for (i = 20; i < hl; i++)
			p[i] = 1; /* NOP options */
		put16(p + 10, pkt_csum(p, hl, 0));
	} else {
		uint8_t *h = p + 40;
		uint8_t next = (uint8_t)l4;
		int n;

		p[0] = 0x60;
		put16(p + 4, (uint16_t)(l3_len(s) - 40 + l4len));
		p[7] = 64;
		memcpy(p + 8, saddr, 16);
		memcpy(p + 24, daddr, 16);
		/* Chain: [dest-opts]* [fragment] L4 */
		p[6] = s->v6_ext_hdrs ? 60 : (s->v6_frag_hdr ? 44 : next);
		for (n = 0; n < s->v6_ext_hdrs; n++) {
			h[0] = (n + 1 < s->v6_ext_hdrs) ? 60 : (s->v6_frag_hdr ? 44 : next);
			h[1] = 0; /* 8 bytes */
			h[2] = 1; /* PadN */
			h[3] = 4;
			h += 8;
		}
		if (s->v6_frag_hdr) {
			h[0] = next;
			put16(h + 2, (uint16_t)((s->frag_offset << 3) | (s->more_frags ? 1 : 0)));
			put32(h + 4, 0xabcd);
		}
	}

	p = buf + pkt_l4_off(s);
	if (l4 == IPPROTO_TCP) {
		size_t hl = 20 + (size_t)s->tcp_opts_len;

		put16(p, s->sport);
		put16(p + 2, s->dport);
		put32(p + 4, s->seq);
		put32(p + 8, s->ack);
		p[12] = (uint8_t)((hl / 4) << 4);
		p[13] = s->tcp_flags;
		put16(p + 14, 64240);
		for (i = 20; i < hl; i++)
			p[i] = 1; /* NOP options */
		for (i = hl; i < l4len; i++)
			p[i] = (uint8_t)i;
		put16(p + 16, pkt_tcp_csum(s->family, saddr, daddr, p, l4len));
	} else if (l4 == IPPROTO_UDP) {
		put16(p, s->sport);
		put16(p + 2, s->dport);
		put16(p + 4, (uint16_t)l4len);
		put16(p + 6, pkt_csum(p, l4len,
				      pseudo_sum(s->family, saddr, daddr, IPPROTO_UDP, l4len)));
	} else {
		p[0] = s->family == AF_INET ? 8 : 128; /* echo request */
		put16(p + 2, pkt_csum(p, l4len, 0));
	}
	return total;
}
