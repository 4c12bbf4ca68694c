/* SPDX-License-Identifier: GPL-2.0 */
/*
 * reset.bpf.h - answer a TCP segment with a RST from the driver (action "reset").
 *
 * A dropped SYN makes the client retransmit for a minute or more; a RST makes it
 * fail at once and move on to its next MX. A listed source is treated as if
 * every port of ours were CLOSED, so the answer is RFC 9293 3.10.7.1's:
 *
 *   RST set              no answer (the caller drops it: a RST never answers a
 *                        RST, or two filters could reset each other forever)
 *   ACK clear (a SYN)    <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, SEG.LEN
 *                        counting SYN and FIN one each besides the payload
 *   ACK set              <SEQ=SEG.ACK><CTL=RST>: the one sequence number the
 *                        peer accepts a RST at (RFC 5961), for a connection
 *                        opened before the source was listed, or a SYN|ACK
 *
 * Anything not TCP, and a later fragment (no TCP header to answer), is dropped.
 * The reply is never longer than the segment it answers, so it cannot amplify a
 * spoofed flood. It is built in place: the frame keeps its Ethernet and VLAN
 * headers (MACs swapped), gets a fresh 20-byte IPv4 or 40-byte IPv6 header (any
 * options or extension headers of the segment are dropped, so they cannot be
 * reflected) and a 20-byte TCP header, and the tail is trimmed.
 */
#ifndef MAILEDGE_RESET_BPF_H
#define MAILEDGE_RESET_BPF_H

#include "parse.bpf.h"

#define ME_RST_TTL 64

/* One's complement sum of n 16-bit words, in whatever byte order they are
 * stored: the folded result is correct when stored back the same way. */
static __always_inline __u32 me_csum_words(const void *buf, int n, __u32 sum)
{
	const __u16 *w = buf;
	int i;

#pragma unroll
	for (i = 0; i < n; i++)
		sum += w[i];
	return sum;
}

static __always_inline __u16 me_csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* Whether a segment gets an answer: TCP with a header to read, RST clear. */
static __always_inline int me_rst_answers(const struct tcphdr *th)
{
	return th && !th->rst;
}

/* Fill *th with the RST answering the segment *in, which carries seg_len bytes
 * of payload (see the table above). The checksum is left for the caller (it
 * needs the pseudo-header). */
static __always_inline void me_rst_tcp(struct tcphdr *th, const struct tcphdr *in, __u32 seg_len)
{
	__u32 ack = bpf_ntohl(in->seq) + seg_len + in->syn + in->fin;

	__builtin_memset(th, 0, sizeof(*th));
	th->source = in->dest;
	th->dest = in->source;
	th->doff = sizeof(*th) / 4;
	th->rst = 1;
	if (in->ack) {
		th->seq = in->ack_seq; /* already in network order */
		return;
	}
	th->ack_seq = bpf_htonl(ack);
	th->ack = 1;
}

static __always_inline void me_swap_mac(struct ethhdr *eth)
{
	__u8 tmp[ETH_ALEN];

	__builtin_memcpy(tmp, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, tmp, ETH_ALEN);
}

/*
 * Rewrite the segment at p (a frame of frame_len bytes ending at end; in is its
 * TCP header, one that me_rst_answers) into its RST and trim the frame. Returns
 * 0 when the frame is ready for XDP_TX, -1 when it could not be built (the
 * caller drops). All packet pointers are invalid afterwards.
 */
static __always_inline int me_build_reset(struct xdp_md *ctx, struct me_pkt *p, struct tcphdr *in,
					  void *end, __u32 frame_len)
{
	__u32 seg_len = in->doff * 4 <= p->l4_len ? p->l4_len - in->doff * 4 : 0;
	struct tcphdr th;
	__u32 sum, l3_off, new_len;
	__u16 tcp_len = bpf_htons(sizeof(struct tcphdr));

	me_rst_tcp(&th, in, seg_len);
	l3_off = p->l3_off;

	if (p->family == ME_AF_INET) {
		struct iphdr *old = p->l3;
		struct iphdr ip = {};

		if ((void *)((__u8 *)old + sizeof(ip) + sizeof(th)) > end)
			return -1;
		ip.version = 4;
		ip.ihl = 5;
		ip.tot_len = bpf_htons(sizeof(ip) + sizeof(th));
		ip.frag_off = bpf_htons(0x4000); /* DF */
		ip.ttl = ME_RST_TTL;
		ip.protocol = IPPROTO_TCP;
		ip.saddr = old->daddr;
		ip.daddr = old->saddr;
		ip.check = me_csum_fold(me_csum_words(&ip, sizeof(ip) / 2, 0));

		sum = me_csum_words(&ip.saddr, 4, 0);
		sum += bpf_htons(IPPROTO_TCP) + tcp_len;
		th.check = me_csum_fold(me_csum_words(&th, sizeof(th) / 2, sum));

		__builtin_memcpy(old, &ip, sizeof(ip));
		__builtin_memcpy((__u8 *)old + sizeof(ip), &th, sizeof(th));
		new_len = l3_off + sizeof(ip) + sizeof(th);
	} else {
		struct ipv6hdr *old = p->l3;
		struct ipv6hdr ip6 = {};

		if ((void *)((__u8 *)old + sizeof(ip6) + sizeof(th)) > end)
			return -1;
		ip6.version = 6;
		ip6.payload_len = tcp_len;
		ip6.nexthdr = IPPROTO_TCP;
		ip6.hop_limit = ME_RST_TTL;
		ip6.saddr = old->daddr;
		ip6.daddr = old->saddr;

		sum = me_csum_words(&ip6.saddr, 16, 0);
		sum += tcp_len + bpf_htons(IPPROTO_TCP); /* 32-bit length and next header */
		th.check = me_csum_fold(me_csum_words(&th, sizeof(th) / 2, sum));

		__builtin_memcpy(old, &ip6, sizeof(ip6));
		__builtin_memcpy((__u8 *)old + sizeof(ip6), &th, sizeof(th));
		new_len = l3_off + sizeof(ip6) + sizeof(th);
	}

	me_swap_mac(p->eth);
	if (bpf_xdp_adjust_tail(ctx, (int)new_len - (int)frame_len))
		return -1;
	return 0;
}

#endif /* MAILEDGE_RESET_BPF_H */
