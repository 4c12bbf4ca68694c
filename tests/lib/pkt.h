/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pkt.h - build test frames byte by byte: Ethernet, VLAN tags, IPv4 (with options
 * and fragments) or IPv6 (with extension headers), TCP/UDP/ICMP, with correct
 * checksums. Used by the BPF_PROG_RUN tables and the benchmarks.
 */
#ifndef ME_TEST_PKT_H
#define ME_TEST_PKT_H

#include <stddef.h>
#include <stdint.h>

#define PKT_MAX 2048

/* TCP flag bits as in the header's 13th byte. */
#define TF_FIN 0x01
#define TF_SYN 0x02
#define TF_RST 0x04
#define TF_PSH 0x08
#define TF_ACK 0x10

struct pkt_spec {
	int vlans;		/* 0-3 VLAN tags */
	uint16_t vlan_proto[3]; /* TPID of each tag; 0 = 0x8100 */
	uint16_t ethertype;	/* when not IP (e.g. 0x0806 ARP); 0 = from family */
	int family;		/* AF_INET or AF_INET6; 0 = non-IP */
	const char *src, *dst;	/* addresses as text */
	int l4;			/* IPPROTO_TCP, _UDP, _ICMP, _ICMPV6; 0 = TCP */
	uint16_t sport, dport;
	uint8_t tcp_flags;
	uint32_t seq, ack;
	int tcp_opts_len;	/* bytes of TCP options (multiple of 4) */
	int payload_len;	/* bytes of payload after the L4 header */
	int ip_opts_len;	/* IPv4 options (multiple of 4, <= 40) */
	int frag_offset;	/* IPv4/IPv6 fragment offset in 8-byte units */
	int more_frags;		/* MF flag */
	int v6_frag_hdr;	/* IPv6: add a fragment header */
	int v6_ext_hdrs;	/* IPv6: destination-options headers before L4 */
};

/* Build the frame into buf; returns its length, or 0 if it does not fit. */
size_t pkt_build(const struct pkt_spec *s, uint8_t *buf, size_t cap);

/* Offsets of the headers in a frame built from s. */
size_t pkt_l3_off(const struct pkt_spec *s);
size_t pkt_l4_off(const struct pkt_spec *s);

/* One's complement checksum helpers, for checking replies. */
uint16_t pkt_csum(const void *data, size_t len, uint32_t sum);
/* TCP checksum of the segment at l4 (len bytes) with the IPv4/IPv6 pseudo-header. */
uint16_t pkt_tcp_csum(int family, const uint8_t *saddr, const uint8_t *daddr, const uint8_t *l4,
		      size_t len);

#endif
