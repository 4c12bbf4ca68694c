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
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 src_base = 0; /* host order */
const volatile __u32 nsrc = 1;

__u64 next_src = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/* Program entry points, declared for -Wmissing-prototypes. */
int gen_tx(struct xdp_md *ctx);
int drop_all(struct xdp_md *ctx);

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
