/* SPDX-License-Identifier: GPL-2.0 */
/*
 * parse.bpf.h - bounds-checked header parsing for the edge filter.
 *
 * One pass over Ethernet, up to two VLAN tags, IPv4 or IPv6 (with a bounded walk
 * over extension headers), recording where the transport header starts. Every
 * access is checked against data_end before it is made; a header that does not
 * fit, or whose length fields contradict the frame, makes the packet MALFORMED,
 * which the caller drops and counts. The transport header itself is only checked
 * by the code that needs it (RST replies, the SYN threshold), so a blacklisted
 * source is dropped on its IP header alone, fragments and all.
 */
#ifndef MAILEDGE_PARSE_BPF_H
#define MAILEDGE_PARSE_BPF_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* 802.1Q and 802.1ad: a tag is TCI then the encapsulated EtherType. */
struct me_vlan_hdr {
	__be16 tci;
	__be16 proto;
};

/* IPv6 extension headers walked before giving up. RFC 8200 recommends one of
 * each at most; six covers hop-by-hop, destination (twice), routing, fragment and
 * AH. Anything deeper is treated as malformed: a SYN hidden behind more headers
 * than we walk would otherwise dodge the threshold. */
#define ME_MAX_EXTHDR 6
#define ME_MAX_VLAN   2

#ifndef IPPROTO_HOPOPTS
#define IPPROTO_HOPOPTS 0
#endif
#ifndef IPPROTO_ROUTING
#define IPPROTO_ROUTING 43
#endif
#ifndef IPPROTO_FRAGMENT
#define IPPROTO_FRAGMENT 44
#endif
#ifndef IPPROTO_DSTOPTS
#define IPPROTO_DSTOPTS 60
#endif
#define ME_IP_OFFSET_MASK 0x1fff
#define ME_IP6_OFFSET_MASK 0xfff8

enum me_parse {
	ME_PARSE_OK = 0,
	ME_PARSE_NONIP,
	ME_PARSE_MALFORMED,
};

/* What the verdict code needs to know about a packet. */
struct me_pkt {
	struct ethhdr *eth;
	void *l3;	 /* struct iphdr or struct ipv6hdr */
	void *l4;	 /* transport header; NULL in a non-first fragment */
	__u32 l4_len;	 /* bytes from l4 to the end of the IP payload */
	__u16 family;	 /* AF_INET / AF_INET6 values: 2 / 10 */
	__u8 l4_proto;
	__u8 l3_off;	 /* bytes before the IP header: 14 + 4 per VLAN tag */
	__u32 saddr[4];	 /* IPv4 in saddr[0]; IPv6 in all four words */
};

#define ME_AF_INET  2
#define ME_AF_INET6 10

struct me_ip6_opt {
	__u8 nexthdr;
	__u8 hdrlen;
};

struct me_ip6_frag {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;
	__be32 id;
};

static __always_inline int me_parse_eth(void **pos, void *end, struct me_pkt *p, __be16 *proto)
{
	struct ethhdr *eth = *pos;
	struct me_vlan_hdr *vh;
	__be16 type;
	int i;

	if ((void *)(eth + 1) > end)
		return ME_PARSE_MALFORMED;
	p->eth = eth;
	p->l3_off = sizeof(*eth);
	type = eth->h_proto;
	vh = (void *)(eth + 1);

#pragma unroll
	for (i = 0; i < ME_MAX_VLAN; i++) {
		if (type != bpf_htons(ETH_P_8021Q) && type != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(vh + 1) > end)
			return ME_PARSE_MALFORMED;
		type = vh->proto;
		vh++;
		p->l3_off += sizeof(*vh);
	}
	*pos = vh;
	*proto = type;
	return ME_PARSE_OK;
}

static __always_inline int me_parse_ip4(__u8 *pos, void *end, struct me_pkt *p)
{
	struct iphdr *iph = (void *)pos;
	__u32 hlen, tot;

	if ((void *)(iph + 1) > end)
		return ME_PARSE_MALFORMED;
	if (iph->version != 4)
		return ME_PARSE_MALFORMED;
	hlen = iph->ihl * 4;
	if (hlen < sizeof(*iph))
		return ME_PARSE_MALFORMED;
	tot = bpf_ntohs(iph->tot_len);
	/* Trailing padding after tot_len is legal (short frames); a tot_len
	 * longer than what arrived is not. */
	if (tot < hlen || (void *)(pos + tot) > end)
		return ME_PARSE_MALFORMED;

	p->family = ME_AF_INET;
	p->l3 = iph;
	p->saddr[0] = iph->saddr;
	p->l4_proto = iph->protocol;
	p->l4_len = tot - hlen;
	if (bpf_ntohs(iph->frag_off) & ME_IP_OFFSET_MASK)
		p->l4 = NULL;
	else
		p->l4 = pos + hlen;
	return ME_PARSE_OK;
}

static __always_inline int me_parse_ip6(__u8 *pos, void *end, struct me_pkt *p)
{
	struct ipv6hdr *ip6h = (void *)pos;
	__u8 *payload_end;
	__u8 nexthdr;
	int i;

	if ((void *)(ip6h + 1) > end)
		return ME_PARSE_MALFORMED;
	if (ip6h->version != 6)
		return ME_PARSE_MALFORMED;
	payload_end = (__u8 *)(ip6h + 1) + bpf_ntohs(ip6h->payload_len);
	if ((void *)payload_end > end)
		return ME_PARSE_MALFORMED;

	p->family = ME_AF_INET6;
	p->l3 = ip6h;
	p->saddr[0] = ip6h->saddr.in6_u.u6_addr32[0];
	p->saddr[1] = ip6h->saddr.in6_u.u6_addr32[1];
	p->saddr[2] = ip6h->saddr.in6_u.u6_addr32[2];
	p->saddr[3] = ip6h->saddr.in6_u.u6_addr32[3];
	nexthdr = ip6h->nexthdr;
	pos = (__u8 *)(ip6h + 1);

#pragma unroll
	for (i = 0; i < ME_MAX_EXTHDR; i++) {
		struct me_ip6_opt *opt = (void *)pos;
		struct me_ip6_frag *frag = (void *)pos;

		switch (nexthdr) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if ((void *)(opt + 1) > end)
				return ME_PARSE_MALFORMED;
			nexthdr = opt->nexthdr;
			pos += (opt->hdrlen + 1) * 8;
			break;
		case IPPROTO_AH:
			if ((void *)(opt + 1) > end)
				return ME_PARSE_MALFORMED;
			nexthdr = opt->nexthdr;
			pos += (opt->hdrlen + 2) * 4;
			break;
		case IPPROTO_FRAGMENT:
			if ((void *)(frag + 1) > end)
				return ME_PARSE_MALFORMED;
			if (frag->frag_off & bpf_htons(ME_IP6_OFFSET_MASK)) {
				/* Later fragment: no transport header here. */
				p->l4_proto = frag->nexthdr;
				p->l4 = NULL;
				p->l4_len = 0;
				return ME_PARSE_OK;
			}
			nexthdr = frag->nexthdr;
			pos = (__u8 *)(frag + 1);
			break;
		default:
			goto done;
		}
	}
	/* Still inside extension headers after the walk budget. */
	if (nexthdr == IPPROTO_HOPOPTS || nexthdr == IPPROTO_ROUTING ||
	    nexthdr == IPPROTO_DSTOPTS || nexthdr == IPPROTO_AH || nexthdr == IPPROTO_FRAGMENT)
		return ME_PARSE_MALFORMED;
done:
	if (pos > payload_end)
		return ME_PARSE_MALFORMED;
	p->l4_proto = nexthdr;
	p->l4 = pos;
	p->l4_len = payload_end - pos;
	return ME_PARSE_OK;
}

static __always_inline int me_parse(void *data, void *end, struct me_pkt *p)
{
	void *pos = data;	/* advanced by me_parse_eth */
	__be16 proto;
	int rc;

	rc = me_parse_eth(&pos, end, p, &proto);
	if (rc != ME_PARSE_OK)
		return rc;
	if (proto == bpf_htons(ETH_P_IP))
		return me_parse_ip4(pos, end, p);
	if (proto == bpf_htons(ETH_P_IPV6))
		return me_parse_ip6(pos, end, p);
	return ME_PARSE_NONIP;
}

/* The TCP header of a packet, or NULL if it is not TCP, is a later fragment, or
 * does not fit. *truncated tells the last case apart. */
static __always_inline struct tcphdr *me_tcp(struct me_pkt *p, void *end, int *truncated)
{
	struct tcphdr *th = p->l4;

	*truncated = 0;
	if (p->l4_proto != IPPROTO_TCP || !th)
		return NULL;
	if ((void *)(th + 1) > end || th->doff < 5 || (__u32)th->doff * 4 > p->l4_len) {
		*truncated = 1;
		return NULL;
	}
	return th;
}

#endif /* MAILEDGE_PARSE_BPF_H */
