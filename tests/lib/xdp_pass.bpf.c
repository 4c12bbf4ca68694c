// SPDX-License-Identifier: GPL-2.0
/*
 * xdp_pass.bpf.c - XDP_PASS, for the client end of a test veth pair.
 *
 * A frame the gateway sends back with XDP_TX (our RST replies) is handed to
 * the peer veth as an XDP frame, and on this kernel it only reaches the peer's
 * stack when the peer runs an XDP program itself; enabling GRO on the peer,
 * which older kernels accepted instead, is not enough (tried on 6.18).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

int xdp_pass(struct xdp_md *ctx);

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}
