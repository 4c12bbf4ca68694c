// SPDX-License-Identifier: GPL-2.0
/*
 * bench.bpf.c - XDP programs used only by the benchmarks.
 *
 * gen_tx: a traffic generator for BPF_PROG_RUN in live-frames mode. Each run
 * rewrites the IPv4 source of the template frame to the next of nsrc addresses
 * (base + i), then returns XDP_TX, which the kernel turns into a transmit on the
 * ingress interface: line-rate traffic into a veth pair without a userspace
 * copy per packet (hping3 manages ~150 kpps). The IPv4 header checksum is fixed
 * incrementally so the receiving stack does not discard the frames.
 *
 * drop_all: XDP_DROP with a per-CPU counter: the floor any filter can reach.
 *
 * floor_line: the floor of a verdict at full size (issue 10): parse the source
 * address, hash it as the list-sync tables hash a host (table.h), read ONE
 * cache line of a large array at that hash, return XDP_PASS. Over frames from
 * distinct random sources, every frame reads a line no earlier frame read: the
 * cost of one random memory read on this machine (at 256 MB a TLB miss too, as
 * for the edge's big tables), in the same BPF_PROG_RUN harness as the edge
 * program, so that "x floor" is a machine-independent figure. The
 * array is 1 element in the object (gen and drop-attach load this object too
 * and must not pay 256 MB for it); bench-xdp progrun sizes it before load.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "table.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 src_base = 0; /* host order */
const volatile __u32 nsrc = 1;

__u64 next_src = 0;

/* floor_line: lines in floor_table (set with its max_entries before load),
 * and a byte no line holds (the array is zeroed), so that the read is used
 * and the compiler cannot drop it, yet every frame passes. */
const volatile __u32 floor_lines = 1;
const volatile __u8 floor_magic = 1;

struct floor_cl {
	__u8 b[64];
};

/* Mmap-able, like the list-sync tables: the same kind of kernel memory,
 * mapped the same way (4 KB pages), so a read costs what theirs do. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct floor_cl);
} floor_table SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/* Program entry points, declared for -Wmissing-prototypes. */
int gen_tx(struct xdp_md *ctx);
int drop_all(struct xdp_md *ctx);
int floor_line(struct xdp_md *ctx);

static __always_inline __u16 csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

SEC("xdp")
int gen_tx(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	__u32 old, new, sum;
	__u64 i;

	if ((void *)(iph + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_TX;
	i = __sync_fetch_and_add(&next_src, 1);
	old = iph->saddr;
	new = bpf_htonl(src_base + (__u32)(i % nsrc));
	iph->saddr = new;
	/* RFC 1624: HC' = ~(~HC + ~m + m') over the two 16-bit halves. */
	sum = (__u16)~iph->check;
	sum += (__u16)~(old & 0xffff) + (__u16)~(old >> 16);
	sum += (new & 0xffff) + (new >> 16);
	iph->check = csum_fold(sum);
	return XDP_TX;
}

SEC("xdp")
int drop_all(struct xdp_md *ctx)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&drops, &zero);

	(void)ctx;
	if (n)
		*n += 1;
	return XDP_DROP;
}

SEC("xdp")
int floor_line(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct floor_cl *l;
	__u64 h;
	__u32 k;

	if ((void *)(eth + 1) > end)
		return XDP_PASS;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = (void *)(eth + 1);

		if ((void *)(iph + 1) > end)
			return XDP_PASS;
		h = me_tab_hash4(iph->saddr, 0);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end)
			return XDP_PASS;
		h = me_tab_hash6(ip6->saddr.in6_u.u6_addr32, 0);
	} else {
		return XDP_PASS;
	}
	/* Scaled by a multiply and a shift, as the host tables pick a bucket. */
	k = me_tab_bucket1(h, floor_lines);
	l = bpf_map_lookup_elem(&floor_table, &k);
	if (l && l->b[0] == floor_magic)
		return XDP_DROP;
	return XDP_PASS;
}
