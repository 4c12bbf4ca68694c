// SPDX-License-Identifier: GPL-2.0
/*
 * edge.bpf.c - the mailedge XDP edge filter.
 *
 * Judges every frame on the gateway interface by its source address, in this
 * order, before the kernel allocates anything for it:
 *
 *   non-IP                      -> pass
 *   malformed headers           -> drop
 *   whitelisted host            -> pass            (nothing below applies)
 *   whitelisted subnet          -> pass
 *   blacklisted host            -> entry's action
 *   blacklisted subnet          -> entry's action
 *   banned by the threshold     -> drop
 *   new TCP connection to a protected port over the per-source rate
 *                               -> drop (and optionally ban the source)
 *   otherwise                   -> pass
 *
 * Actions: drop; reset (a TCP segment without RST is answered with a RST by
 * XDP_TX, as RFC 9293 answers one for a closed port; a RST, a later fragment and
 * anything not TCP are dropped: see reset.bpf.h);
 * pass and group:N (let through; a blacklisted source that is let through is
 * still subject to the connection threshold, a whitelisted one is not).
 *
 * Every frame is counted once in stats[reason][verdict] and, when a list entry
 * or a ban decided its verdict, once in list_hits[entry source] (a ban counts
 * as ME_SRC_THRESHOLD). A pass/group entry decides only if the frame then
 * passes: a SYN it lets through that the threshold drops is the threshold's.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "mailedge_abi.h"
#include "maps.bpf.h"
#include "parse.bpf.h"
#include "lists.bpf.h"
#include "threshold.bpf.h"
#include "reset.bpf.h"

char LICENSE[] SEC("license") = "GPL";

int mailedge_xdp(struct xdp_md *ctx); /* the entry point, for -Wmissing-prototypes */

#define ME_NO_SRC 0xffffffffu /* no list entry matched */

static __always_inline void me_count(void *map, __u32 key, __u32 len)
{
	struct me_counter *c = bpf_map_lookup_elem(map, &key);

	if (c) {
		c->packets++;
		c->bytes += len;
	}
}

static __always_inline int me_verdict(__u32 reason, __u32 verdict, __u32 len)
{
	me_count(&stats, ME_STAT_KEY(reason, verdict), len);
	if (verdict == ME_V_DROP)
		return XDP_DROP;
	if (verdict == ME_V_RESET)
		return XDP_TX;
	return XDP_PASS;
}

/* A verdict decided by a list entry (or a ban): counted for its source too. */
static __always_inline int me_listed(__u32 src, __u32 reason, __u32 verdict, __u32 len)
{
	me_count(&list_hits, src, len);
	return me_verdict(reason, verdict, len);
}

/* Passed at the end: by a pass/group entry (src) if one matched. */
static __always_inline int me_passed(__u32 src, __u32 reason, __u32 len)
{
	if (src != ME_NO_SRC)
		me_count(&list_hits, src, len);
	return me_verdict(reason, ME_V_PASS, len);
}

/* A SYN without ACK: the first packet of a new connection. */
static __always_inline int me_is_syn(const struct tcphdr *th)
{
	return th && th->syn && !th->ack;
}

SEC("xdp")
int mailedge_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 len = ctx->data_end - ctx->data;
	struct me_clock clk = {};
	struct me_pkt p = {};
	struct me_match m = {};
	struct me_src_key key;
	struct me_config *cfg;
	struct tcphdr *th;
	__u32 zero = 0, src = ME_NO_SRC;
	int rc, truncated;

	rc = me_parse(data, end, &p);
	if (rc == ME_PARSE_NONIP)
		return me_verdict(ME_R_NONIP, ME_V_PASS, len);
	if (rc != ME_PARSE_OK)
		return me_verdict(ME_R_MALFORMED, ME_V_DROP, len);
	/* A TCP header that does not fit is malformed whatever the source: the
	 * kernel would drop it anyway, and a short first fragment is the classic
	 * way to hide flags from filters (RFC 1858). */
	th = me_tcp(&p, end, &truncated);
	if (truncated)
		return me_verdict(ME_R_MALFORMED, ME_V_DROP, len);

	cfg = bpf_map_lookup_elem(&config, &zero);
	if (!cfg) /* cannot happen: an array always has element 0 */
		return XDP_PASS;

	if (p.family == ME_AF_INET)
		me_lists4(&p, cfg, &clk, &m);
	else
		me_lists6(&p, cfg, &clk, &m);

	if (m.e) {
		src = m.e->src;
		if (m.reason == ME_R_WHITE_HOST || m.reason == ME_R_WHITE_NET)
			return me_listed(src, m.reason, ME_V_PASS, len);
		if (m.e->action == ME_ACT_DROP)
			return me_listed(src, m.reason, ME_V_DROP, len);
		if (m.e->action == ME_ACT_RESET) {
			me_count(&list_hits, src, len);
			if (!me_rst_answers(th))
				return me_verdict(m.reason, ME_V_DROP, len);
			if (me_build_reset(ctx, &p, th, end, len)) {
				me_event(ME_EV_RESET_FAILED);
				return me_verdict(m.reason, ME_V_DROP, len);
			}
			return me_verdict(m.reason, ME_V_RESET, len);
		}
		/* pass / group: listed but let through; the threshold still applies */
	}

	if (!cfg->thr_rate && !cfg->thr_ban_secs)
		return me_passed(src, m.reason, len);

	me_src_key(&p, cfg, &key);
	if (cfg->thr_ban_secs && me_banned(&key, me_now(&clk)))
		return me_listed(ME_SRC_THRESHOLD, ME_R_BANNED, ME_V_DROP, len);
	if (!cfg->thr_rate || !me_is_syn(th) || !me_port_protected(bpf_ntohs(th->dest)))
		return me_passed(src, m.reason, len);
	if (me_rate_allow(&key, cfg, me_now(&clk)))
		return me_passed(src, m.reason, len);
	if (cfg->thr_ban_secs)
		me_ban(&key, cfg, me_now(&clk));
	return me_verdict(ME_R_THRESHOLD, ME_V_DROP, len);
}
