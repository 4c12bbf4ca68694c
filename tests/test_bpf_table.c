// SPDX-License-Identifier: GPL-2.0
/*
 * test_bpf_table.c - the XDP program under BPF_PROG_RUN, as a table of rows.
 *
 * The fixture (setup_lists, in lib/bpffix.c, which test_loader_ops.c shares)
 * loads the edge program once per test process with private maps (no pin
 * directory, small capacities), writes the default config (threshold off, ports
 * 25/465/587) and fills the lists from fixture_entries[] in bpf_table_rows.h:
 * manual entries go into the admin's maps, list-sync entries into the tables
 * of their generation, built by list sync's own builder and installed in that
 * generation's slots. setup_empty loads the same program with no list entries.
 *
 * Each row of the tables rows_*[] in bpf_table_rows.h is a description, a frame
 * (a struct pkt_spec as plain data, optionally mangled or truncated), the sync
 * generation to use, and what must happen (check_row): the XDP action; the stats
 * counter (reason, verdict) goes up by exactly one packet and the frame's bytes,
 * all others stay put; the list_hits element of the deciding entry's src goes up
 * by one, all others stay put; no reset failure or sync retry event. A passed or
 * dropped frame must come out unchanged; an XDP_TX frame must be the RST that
 * RFC 9293 3.10.7.1 answers the segment with (check_reset_reply: RST|ACK acking
 * it when it has no ACK, a bare RST at its ACK when it has). A failing row is
 * reported by its description and the table goes on with the next row, e.g.
 *   row 'v4 black host via 2 VLAN tags': got XDP_PASS (reason clean), want
 *   XDP_DROP (black-host/drop)
 *
 * To add a row: pick a source address from bpf_table_rows.h (or add one, and its
 * entry in fixture_entries[]), describe the frame in .f (zero fields are the
 * defaults: TCP to the gateway, port 40001 -> 25) and the outcome in .want with
 * WANT_PASS/DROP/RESET(reason, entry src), WANT_CLEAN, WANT_MALFORMED or
 * WANT_NONIP, in the table it belongs to. The tables run in bpf_table::verdicts,
 * ::headers and ::reset (each a process of its own: one program load, which
 * takes the verifier a second or two), and all of them again in sequence in
 * bpf_table::all_rows_counters_add_up.
 *
 * The connection threshold needs sequences of frames and its own config, so it
 * has its own Test()s (bpf_threshold::*), built on the same row checker; so do
 * the admin_used slots, which change as the admin's lists do (bpf_admin_used::*).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "counters.h"
#include "edge_load.h"
#include "lists.h"
#include "verdict.h"
#include "lib/bpffix.h"
#include "lib/pkt.h"
#include "bpf_table_rows.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- fixture (lib/bpffix.c) ---- */

static struct me_prog prog;
static struct me_edge edge;

static void setup_lists(void)
{
	bpffix_load_lists(&prog, &edge);
}

static void setup_empty(void)
{
	bpffix_load(&prog, &edge);
}

static void teardown(void)
{
	bpffix_close(&prog, &edge);
}

/* ---- config ---- */

static struct me_config config_get(void)
{
	struct me_config c;
	__u32 zero = 0;

	cr_assert_eq(bpf_map_lookup_elem(edge.fd[ME_M_CONFIG], &zero, &c), 0, "reading config");
	return c;
}

static void config_put(const struct me_config *c)
{
	__u32 zero = 0;

	cr_assert_eq(bpf_map_update_elem(edge.fd[ME_M_CONFIG], &zero, c, BPF_ANY), 0,
		     "writing config: %s", strerror(errno));
}

static void set_sync_gen(__u32 gen)
{
	struct me_config c = config_get();

	c.sync_gen = gen;
	config_put(&c);
}

static void set_threshold(__u32 rate, __u32 burst, __u32 ban_secs)
{
	struct me_config c = config_get();

	c.thr_rate = rate;
	c.thr_burst = burst;
	c.thr_ban_secs = ban_secs;
	config_put(&c);
}

/* ---- counters ---- */

struct snap {
	struct me_counter stats[ME_STAT_MAX];
	__u64 hits[ME_SRC_MAX];
	__u64 events[ME_EV_MAX];
};

static void snap_take(struct snap *s)
{
	struct me_counter c;
	__u32 k;

	for (k = 0; k < ME_STAT_MAX; k++)
		cr_assert_eq(me_counter_read(edge.fd[ME_M_STATS], k, &s->stats[k]), 0,
			     "reading stats[%u]", k);
	for (k = 0; k < ME_SRC_MAX; k++) {
		cr_assert_eq(me_counter_read(edge.fd[ME_M_LIST_HITS], k, &c), 0,
			     "reading list_hits[%u]", k);
		s->hits[k] = c.packets;
	}
	for (k = 0; k < ME_EV_MAX; k++)
		cr_assert_eq(me_event_read(edge.fd[ME_M_EVENTS], k, &s->events[k]), 0,
			     "reading events[%u]", k);
}

static __u64 event_count(enum me_event ev)
{
	__u64 v = 0;

	cr_assert_eq(me_event_read(edge.fd[ME_M_EVENTS], ev, &v), 0, "reading events");
	return v;
}

static const char *act_name(__u32 act)
{
	switch (act) {
	case XDP_ABORTED:
		return "XDP_ABORTED";
	case XDP_DROP:
		return "XDP_DROP";
	case XDP_PASS:
		return "XDP_PASS";
	case XDP_TX:
		return "XDP_TX";
	case XDP_REDIRECT:
		return "XDP_REDIRECT";
	default:
		return "XDP_?";
	}
}

/* "reason clean" for the stats key that moved, for failure messages. */
static void moved_reason(const struct snap *a, const struct snap *b, char *buf, size_t len)
{
	__u32 k, n = 0;

	snprintf(buf, len, "no counter moved");
	for (k = 0; k < ME_STAT_MAX; k++) {
		if (b->stats[k].packets == a->stats[k].packets)
			continue;
		if (n++)
			snprintf(buf, len, "several counters moved");
		else
			snprintf(buf, len, "reason %s", me_reason_name(k / ME_V_MAX));
	}
}

/* ---- frames ---- */

static __u16 get16(const __u8 *p)
{
	return (__u16)(p[0] << 8 | p[1]);
}

static __u32 get32(const __u8 *p)
{
	return (__u32)get16(p) << 16 | get16(p + 2);
}

static void put16(__u8 *p, __u16 v)
{
	p[0] = (__u8)(v >> 8);
	p[1] = (__u8)v;
}

/* Build the frame of a row, apply its mangle and cut; returns its length. */
static size_t frame_build(const char *desc, const struct frame *f, __u8 *buf, size_t cap)
{
	struct pkt_spec s;
	size_t len, l3, l4;
	__u8 *ip;

	bpffix_frame_spec(f, &s);
	len = pkt_build(&s, buf, cap);
	cr_assert_gt(len, 0, "row '%s': the frame builder refused the frame", desc);
	l3 = pkt_l3_off(&s);
	l4 = pkt_l4_off(&s);
	ip = buf + l3;

	switch (f->mangle) {
	case MANGLE_NONE:
		break;
	case MANGLE_IP_LEN:
		if (f->family == AF_INET)
			put16(ip + 2, (__u16)(get16(ip + 2) + f->arg));
		else
			put16(ip + 4, (__u16)(get16(ip + 4) + f->arg));
		break;
	case MANGLE_L4_LEN:
		if (f->family == AF_INET)
			put16(ip + 2, (__u16)((int)(l4 - l3) + f->arg));
		else
			put16(ip + 4, (__u16)((int)(l4 - l3) - 40 + f->arg));
		len = (size_t)((int)l4 + f->arg);
		break;
	case MANGLE_TCP_DOFF:
		buf[l4 + 12] = (__u8)((f->arg << 4) | (buf[l4 + 12] & 0x0f));
		break;
	case MANGLE_IHL:
		ip[0] = (__u8)((ip[0] & 0xf0) | f->arg);
		break;
	case MANGLE_IP_VERSION:
		ip[0] = (__u8)((f->arg << 4) | (ip[0] & 0x0f));
		break;
	case MANGLE_V6_EXT_TYPE:
		ip[6] = (__u8)f->arg; /* the IPv6 header's next header: the first extension */
		break;
	case MANGLE_PAD:
		cr_assert_leq((size_t)f->arg, cap, "row '%s': padding too long", desc);
		if ((size_t)f->arg > len) {
			memset(buf + len, 0, (size_t)f->arg - len);
			len = (size_t)f->arg;
		}
		break;
	}
	if (f->family == AF_INET && f->mangle != MANGLE_NONE) {
		size_t hl = l4 - l3; /* as built, whatever IHL now says */

		put16(ip + 10, 0);
		put16(ip + 10, pkt_csum(ip, hl, 0));
	}

	if (f->cut_from != CUT_NONE) {
		size_t at = (size_t)f->cut_len;

		if (f->cut_from == CUT_FROM_L3)
			at += l3;
		else if (f->cut_from == CUT_FROM_L4)
			at += l4;
		cr_assert_lt(at, len, "row '%s': cut at %zu is not inside the %zu-byte frame", desc,
			     at, len);
		len = at;
	}
	return len;
}

/* ---- the checks ---- */

/*
 * A failed expectation: report it (the test fails) and return 0 so that the
 * caller can give up on this row and go on with the next one. A table test
 * thus reports every failing row, each once, by its description.
 */
static int row_ok(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int row_ok(int ok, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (ok)
		return 1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cr_expect_fail("%s", msg);
	return 0;
}

/* The RST built from the segment `in` (spec s) must answer it exactly. */
static int check_reset_reply(const char *desc, const struct pkt_spec *s, const __u8 *in,
			     const __u8 *out, size_t out_len)
{
	int v4 = s->family == AF_INET;
	size_t l3 = pkt_l3_off(s), ip_len = v4 ? 20 : 40, alen = v4 ? 4 : 16;
	const __u8 *ip = out + l3, *th = out + l3 + ip_len;
	const __u8 *in_ip = in + l3, *in_th = in + pkt_l4_off(s);
	const __u8 *in_saddr = in_ip + (v4 ? 12 : 8), *in_daddr = in_ip + (v4 ? 16 : 24);
	const __u8 *saddr = ip + (v4 ? 12 : 8), *daddr = ip + (v4 ? 16 : 24);
	/* RFC 9293 3.10.7.1, the segment has no RST: with ACK clear the answer is
	 * <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, SYN and FIN counting one each
	 * in SEG.LEN; with ACK set, <SEQ=SEG.ACK><CTL=RST> (the ACK field zero). */
	int acked = (s->tcp_flags & TF_ACK) != 0;
	__u32 seg_len = (s->tcp_flags & TF_SYN ? 1u : 0u) + (s->tcp_flags & TF_FIN ? 1u : 0u) +
			(__u32)s->payload_len;
	__u32 want_seq = acked ? s->ack : 0, want_ack = acked ? 0 : s->seq + seg_len;
	__u8 want_flags = acked ? TF_RST : TF_RST | TF_ACK;

	if (!row_ok(out_len == l3 + ip_len + 20,
		    "row '%s': RST frame is %zu bytes, want %zu (l3_off %zu + %zu + 20)", desc,
		    out_len, l3 + ip_len + 20, l3, ip_len) ||
	    !row_ok(!memcmp(out, in + 6, 6) && !memcmp(out + 6, in, 6),
		    "row '%s': RST MAC addresses are not the SYN's swapped", desc) ||
	    !row_ok(!memcmp(out + 12, in + 12, l3 - 12),
		    "row '%s': RST VLAN tags / ethertype differ from the SYN's", desc))
		return 0;

	if (v4) {
		if (!row_ok(ip[0] == 0x45, "row '%s': RST IPv4 version/IHL %#x, want 0x45", desc,
			    ip[0]) ||
		    !row_ok(get16(ip + 2) == 40, "row '%s': RST tot_len %u, want 40", desc,
			    get16(ip + 2)) ||
		    !row_ok((get16(ip + 6) & 0x3fff) == 0, "row '%s': RST is a fragment (%#x)",
			    desc, get16(ip + 6)) ||
		    !row_ok(ip[8] > 0, "row '%s': RST TTL 0", desc) ||
		    !row_ok(ip[9] == IPPROTO_TCP, "row '%s': RST protocol %u, want TCP", desc,
			    ip[9]) ||
		    !row_ok(pkt_csum(ip, 20, 0) == 0,
			    "row '%s': RST IPv4 header checksum %#06x is wrong", desc,
			    get16(ip + 10)))
			return 0;
	} else {
		if (!row_ok(ip[0] >> 4 == 6, "row '%s': RST IP version %u, want 6", desc,
			    ip[0] >> 4) ||
		    !row_ok(get16(ip + 4) == 20, "row '%s': RST payload_len %u, want 20", desc,
			    get16(ip + 4)) ||
		    !row_ok(ip[6] == IPPROTO_TCP, "row '%s': RST nexthdr %u, want TCP", desc,
			    ip[6]) ||
		    !row_ok(ip[7] > 0, "row '%s': RST hop limit 0", desc))
			return 0;
	}
	return row_ok(!memcmp(saddr, in_daddr, alen) && !memcmp(daddr, in_saddr, alen),
		      "row '%s': RST IP addresses are not the SYN's swapped", desc) &&
	       row_ok(get16(th) == get16(in_th + 2), "row '%s': RST source port %u, want %u", desc,
		      get16(th), get16(in_th + 2)) &&
	       row_ok(get16(th + 2) == get16(in_th), "row '%s': RST dest port %u, want %u", desc,
		      get16(th + 2), get16(in_th)) &&
	       row_ok(get32(th + 4) == want_seq, "row '%s': RST seq %u, want %u", desc,
		      get32(th + 4), want_seq) &&
	       row_ok(get32(th + 8) == want_ack, "row '%s': RST ack %u, want %u", desc,
		      get32(th + 8), want_ack) &&
	       row_ok(th[12] == 5 << 4, "row '%s': RST doff/reserved byte %#x, want 0x50", desc,
		      th[12]) &&
	       row_ok(th[13] == want_flags, "row '%s': RST flags %#x, want %s (%#x)", desc, th[13],
		      acked ? "RST" : "RST|ACK", want_flags) &&
	       row_ok(pkt_tcp_csum(s->family, saddr, daddr, th, 20) == 0,
		      "row '%s': RST TCP checksum %#06x is wrong", desc, get16(th + 16));
}

/* Run one frame; returns 0 or -errno of BPF_PROG_RUN. */
static int run_frame(const __u8 *in, size_t len, __u8 *out, size_t *out_len, __u32 *act)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = (__u32)len,
		    .data_out = out, .data_size_out = (__u32)*out_len, .repeat = 1);
	int rc = bpf_prog_test_run_opts(me_prog_fd(&prog), &o);

	if (rc)
		return -errno;
	*out_len = o.data_size_out;
	*act = o.retval;
	return 0;
}

/* Every stats element but want's stays put; want's goes up by 1 and len bytes. */
static int check_stats(const struct row *r, const struct snap *a, const struct snap *b, size_t len,
		       const char *got)
{
	__u32 key = ME_STAT_KEY(r->want.reason, r->want.verdict), k;

	for (k = 0; k < ME_STAT_MAX; k++) {
		__u64 dp = b->stats[k].packets - a->stats[k].packets;
		__u64 db = b->stats[k].bytes - a->stats[k].bytes;

		if (!row_ok(dp == (k == key ? 1u : 0u),
			    "row '%s': stats[%s/%s] went up by %llu, want %d (%s)", r->desc,
			    me_reason_name(k / ME_V_MAX), me_verdict_name(k % ME_V_MAX),
			    (unsigned long long)dp, k == key, got) ||
		    !row_ok(db == (k == key ? len : 0),
			    "row '%s': stats[%s/%s] bytes went up by %llu, want %zu", r->desc,
			    me_reason_name(k / ME_V_MAX), me_verdict_name(k % ME_V_MAX),
			    (unsigned long long)db, k == key ? len : 0))
			return 0;
	}
	return 1;
}

/* Every list_hits element but want.hit's stays put; that one goes up by 1. */
static int check_hits(const struct row *r, const struct snap *a, const struct snap *b)
{
	__u32 k;

	for (k = 0; k < ME_SRC_MAX; k++) {
		__u64 d = b->hits[k] - a->hits[k];

		if (!row_ok(d == (k == r->want.hit ? 1u : 0u),
			    "row '%s': list_hits[%u] went up by %llu, want %d", r->desc, k,
			    (unsigned long long)d, k == r->want.hit))
			return 0;
	}
	return 1;
}

/* Run a row and check everything it promises; returns 1 if it all held. */
static int check_row(const struct row *r)
{
	__u8 in[PKT_MAX], out[PKT_MAX + 256];
	size_t len, out_len = sizeof(out);
	struct snap a, b;
	struct pkt_spec s;
	char got[64];
	__u32 act = ~0u, k;
	int rc;

	len = frame_build(r->desc, &r->f, in, sizeof(in));
	set_sync_gen(r->gen);
	snap_take(&a);
	rc = run_frame(in, len, out, &out_len, &act);
	snap_take(&b);

	if (r->refused) {
		if (!row_ok(rc == -EINVAL, "row '%s': BPF_PROG_RUN gave %d (%s), want EINVAL",
			    r->desc, rc, strerror(-rc)))
			return 0;
		for (k = 0; k < ME_STAT_MAX; k++)
			if (!row_ok(b.stats[k].packets == a.stats[k].packets,
				    "row '%s': a refused frame was counted", r->desc))
				return 0;
		return 1;
	}
	if (!row_ok(rc == 0, "row '%s': BPF_PROG_RUN failed: %s", r->desc, strerror(-rc)))
		return 0;

	moved_reason(&a, &b, got, sizeof(got));
	if (!row_ok(act == r->want.act, "row '%s': got %s (%s), want %s (%s/%s)", r->desc,
		    act_name(act), got, act_name(r->want.act), me_reason_name(r->want.reason),
		    me_verdict_name(r->want.verdict)) ||
	    !check_stats(r, &a, &b, len, got) || !check_hits(r, &a, &b) ||
	    !row_ok(b.events[ME_EV_RESET_FAILED] == a.events[ME_EV_RESET_FAILED],
		    "row '%s': events[%s] went up", r->desc, me_event_name(ME_EV_RESET_FAILED)) ||
	    !row_ok(b.events[ME_EV_SYNC_RETRY] == a.events[ME_EV_SYNC_RETRY],
		    "row '%s': events[%s] went up with no swap in flight", r->desc,
		    me_event_name(ME_EV_SYNC_RETRY)))
		return 0;

	if (act == XDP_TX) {
		bpffix_frame_spec(&r->f, &s);
		return check_reset_reply(r->desc, &s, in, out, out_len);
	}
	return row_ok(out_len == len && !memcmp(in, out, len),
		      "row '%s': the program changed a frame it did not send back", r->desc);
}

/* ---- the tables ---- */

/* Each row against the fixture; every failing row is reported. Rows do not
 * depend on each other: each sets its sync generation and checks deltas. */
static void run_table(const struct row *rows, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		check_row(&rows[i]);
}

/* A few tables per process: loading the program costs ~2 s of verifier time. */
Test(bpf_table, verdicts, .init = setup_lists, .fini = teardown)
{
	run_table(rows_basic, ARRAY_LEN(rows_basic));
	run_table(rows_lists, ARRAY_LEN(rows_lists));
	run_table(rows_sync, ARRAY_LEN(rows_sync));
}

Test(bpf_table, headers, .init = setup_lists, .fini = teardown)
{
	run_table(rows_vlan, ARRAY_LEN(rows_vlan));
	run_table(rows_frag, ARRAY_LEN(rows_frag));
	run_table(rows_truncated, ARRAY_LEN(rows_truncated));
	run_table(rows_inconsistent, ARRAY_LEN(rows_inconsistent));
}

Test(bpf_table, reset, .init = setup_lists, .fini = teardown)
{
	run_table(rows_reset, ARRAY_LEN(rows_reset));
}

/* Every row of every table once, in one process, checking only the action:
 * the stats count each run exactly once (packets and bytes), and list_hits
 * once per list decision. */
Test(bpf_table, all_rows_counters_add_up, .init = setup_lists, .fini = teardown)
{
	__u8 in[PKT_MAX], out[PKT_MAX + 256];
	__u64 runs = 0, bytes = 0, hits = 0, sum_p = 0, sum_b = 0, sum_h = 0;
	struct snap a, b;
	size_t t, i, len, out_len;
	__u32 k, act;
	int rc;

	snap_take(&a);
	for (t = 0; t < bpffix_ntables; t++)
		for (i = 0; i < bpffix_tables[t].n; i++) {
			const struct row *r = &bpffix_tables[t].rows[i];

			if (r->refused)
				continue;
			len = frame_build(r->desc, &r->f, in, sizeof(in));
			set_sync_gen(r->gen);
			out_len = sizeof(out);
			rc = run_frame(in, len, out, &out_len, &act);
			cr_assert_eq(rc, 0, "row '%s': BPF_PROG_RUN failed: %s", r->desc,
				     strerror(-rc));
			row_ok(act == r->want.act, "%s, row '%s' (in sequence): got %s, want %s",
			       bpffix_tables[t].name, r->desc, act_name(act),
			       act_name(r->want.act));
			runs++;
			bytes += len;
			hits += r->want.hit != NO_HIT;
		}
	snap_take(&b);
	for (k = 0; k < ME_STAT_MAX; k++) {
		sum_p += b.stats[k].packets - a.stats[k].packets;
		sum_b += b.stats[k].bytes - a.stats[k].bytes;
	}
	for (k = 0; k < ME_SRC_MAX; k++)
		sum_h += b.hits[k] - a.hits[k];
	cr_expect_eq(sum_p, runs, "stats count %llu packets for %llu runs",
		     (unsigned long long)sum_p, (unsigned long long)runs);
	cr_expect_eq(sum_b, bytes, "stats count %llu bytes for %llu bytes run",
		     (unsigned long long)sum_b, (unsigned long long)bytes);
	cr_expect_eq(sum_h, hits, "list_hits count %llu for %llu list decisions",
		     (unsigned long long)sum_h, (unsigned long long)hits);
}

/* ---- connection threshold ---- */

/*
 * Sequences of frames against a threshold config. Each scenario is a function
 * run by phase(), which first empties the rates and bans maps and puts the
 * default config back, so scenarios in one Test() (one program load) do not
 * see each other's sources. A failed step stops the Test: the steps after it
 * depend on it.
 *
 * Timing: the smallest rate is 1 connection/s, so a SYN over the burst is
 * dropped unless a whole second passes between the first SYN of the burst and
 * it; back-to-back BPF_PROG_RUN calls take microseconds.
 */

static void map_clear(int fd)
{
	struct me_src_key k;

	while (!bpf_map_get_next_key(fd, NULL, &k))
		cr_assert_eq(bpf_map_delete_elem(fd, &k), 0, "emptying a map: %s", strerror(errno));
}

static void phase(void (*scenario)(void))
{
	map_clear(edge.fd[ME_M_RATES]);
	map_clear(edge.fd[ME_M_BANS]);
	cr_assert_eq(me_edge_defaults(&edge), 0, "writing the default config");
	scenario();
}

/* A frame from src to the gateway's dport (TCP with flags, or l4) and its outcome. */
static void expect_frame(const char *desc, int family, const char *src, int l4, __u16 dport,
			 __u8 flags, struct want w)
{
	struct row r;

	memset(&r, 0, sizeof(r));
	snprintf(r.desc, sizeof(r.desc), "%s", desc);
	r.f.family = family;
	snprintf(r.f.src, sizeof(r.f.src), "%s", src);
	r.f.l4 = l4;
	r.f.dport = dport;
	r.f.flags = flags;
	r.f.seq = 1;
	r.want = w;
	if (!check_row(&r))
		cr_assert_fail("stopped after '%s': the steps that follow depend on it", desc);
}

static void expect_tcp(const char *desc, int family, const char *src, __u16 dport, __u8 flags,
		       struct want w)
{
	expect_frame(desc, family, src, IPPROTO_TCP, dport, flags, w);
}

static void expect_events(enum me_event ev, __u64 before, __u64 want, const char *what)
{
	__u64 now = event_count(ev);

	cr_assert_eq(now - before, want, "events[%s] went up by %llu, want %llu (%s)",
		     me_event_name(ev), (unsigned long long)(now - before),
		     (unsigned long long)want, what);
}

static const struct want clean = WANT_CLEAN;
static const struct want over_threshold = WANT_DROP(ME_R_THRESHOLD, NO_HIT);
static const struct want banned = WANT_DROP(ME_R_BANNED, ME_SRC_THRESHOLD);

static void set_prefixes(__u32 v4, __u32 v6)
{
	struct me_config c = config_get();

	c.thr_v4_prefix = v4;
	c.thr_v6_prefix = v6;
	config_put(&c);
}

static void threshold_off(void)
{
	__u64 inserts = event_count(ME_EV_RATE_INSERT);
	int i;

	for (i = 0; i < 10; i++)
		expect_tcp("SYN with the threshold off (default)", AF_INET, CLEAN4, 25, TF_SYN,
			   clean);
	expect_events(ME_EV_RATE_INSERT, inserts, 0, "the threshold is off");
}

static void burst_then_drop(void)
{
	__u64 inserts = event_count(ME_EV_RATE_INSERT), bans = event_count(ME_EV_BAN_INSERT);

	set_threshold(1, 3, 0);
	expect_tcp("SYN 1 of a burst of 3", AF_INET, CLEAN4, 25, TF_SYN, clean);
	expect_tcp("SYN 2 of a burst of 3", AF_INET, CLEAN4, 25, TF_SYN, clean);
	expect_tcp("SYN 3 of a burst of 3", AF_INET, CLEAN4, 25, TF_SYN, clean);
	expect_tcp("SYN 4: over the burst", AF_INET, CLEAN4, 25, TF_SYN, over_threshold);
	expect_tcp("SYN 5, to port 587, shares the budget", AF_INET, CLEAN4, 587, TF_SYN,
		   over_threshold);
	expect_tcp("SYN from another source", AF_INET, CLEAN4_B, 25, TF_SYN, clean);
	expect_tcp("SYN to unprotected port 80", AF_INET, CLEAN4, 80, TF_SYN, clean);
	expect_tcp("ACK of an open connection", AF_INET, CLEAN4, 25, TF_ACK, clean);
	expect_tcp("SYN|ACK is not a new connection", AF_INET, CLEAN4, 25, TF_SYN | TF_ACK, clean);
	expect_frame("UDP to port 25", AF_INET, CLEAN4, IPPROTO_UDP, 25, 0, clean);
	expect_events(ME_EV_RATE_INSERT, inserts, 2, "two sources");
	expect_events(ME_EV_BAN_INSERT, bans, 0, "thr_ban_secs is 0");
}

static void burst_one_v6(void)
{
	set_threshold(1, 1, 0);
	expect_tcp("v6 SYN 1", AF_INET6, CLEAN6, 465, TF_SYN, clean);
	expect_tcp("v6 SYN 2: over a burst of 1", AF_INET6, CLEAN6, 465, TF_SYN, over_threshold);
}

static void v6_sources_share_their_64(void)
{
	__u64 inserts = event_count(ME_EV_RATE_INSERT);

	set_threshold(1, 2, 0); /* default thr_v6_prefix 64 */
	expect_tcp("SYN from 2001:db8:1::10", AF_INET6, CLEAN6, 25, TF_SYN, clean);
	expect_tcp("SYN from 2001:db8:1::11 (same /64)", AF_INET6, CLEAN6_SAME64, 25, TF_SYN,
		   clean);
	expect_tcp("SYN from 2001:db8:1::12 (same /64, over)", AF_INET6, "2001:db8:1::12", 25,
		   TF_SYN, over_threshold);
	expect_tcp("SYN from 2001:db8:1:0:ffff::1 (same /64, over)", AF_INET6,
		   "2001:db8:1:0:ffff::1", 25, TF_SYN, over_threshold);
	expect_tcp("SYN from 2001:db8:2::10 (another /64)", AF_INET6, CLEAN6_B, 25, TF_SYN, clean);
	expect_events(ME_EV_RATE_INSERT, inserts, 2, "two /64s");
}

static void v6_prefix_128_counts_hosts(void)
{
	__u64 inserts = event_count(ME_EV_RATE_INSERT);

	set_prefixes(32, 128);
	set_threshold(1, 1, 0);
	expect_tcp("SYN from 2001:db8:1::10", AF_INET6, CLEAN6, 25, TF_SYN, clean);
	expect_tcp("SYN from 2001:db8:1::11 (own budget at /128)", AF_INET6, CLEAN6_SAME64, 25,
		   TF_SYN, clean);
	expect_tcp("SYN 2 from 2001:db8:1::10", AF_INET6, CLEAN6, 25, TF_SYN, over_threshold);
	expect_events(ME_EV_RATE_INSERT, inserts, 2, "two /128s");
}

static void v4_prefix_24_shares(void)
{
	__u64 inserts = event_count(ME_EV_RATE_INSERT);

	set_prefixes(24, 64);
	set_threshold(1, 2, 0);
	expect_tcp("SYN from 192.0.2.10", AF_INET, CLEAN4, 25, TF_SYN, clean);
	expect_tcp("SYN from 192.0.2.11 (same /24)", AF_INET, CLEAN4_B, 25, TF_SYN, clean);
	expect_tcp("SYN from 192.0.2.200 (same /24, over)", AF_INET, "192.0.2.200", 25, TF_SYN,
		   over_threshold);
	expect_tcp("SYN from 198.51.100.10 (another /24)", AF_INET, "198.51.100.10", 25, TF_SYN,
		   clean);
	expect_tcp("SYN from 198.51.100.99 (that /24)", AF_INET, "198.51.100.99", 25, TF_SYN,
		   clean);
	expect_tcp("SYN 2 from 198.51.100.10 (that /24, over)", AF_INET, "198.51.100.10", 25,
		   TF_SYN, over_threshold);
	expect_events(ME_EV_RATE_INSERT, inserts, 2, "two /24s");
}

static void v4_default_prefix_32(void)
{
	set_threshold(1, 1, 0);
	expect_tcp("SYN from 192.0.2.10", AF_INET, CLEAN4, 25, TF_SYN, clean);
	expect_tcp("SYN from 192.0.2.11 (own budget at /32)", AF_INET, CLEAN4_B, 25, TF_SYN, clean);
	expect_tcp("SYN 2 from 192.0.2.10", AF_INET, CLEAN4, 25, TF_SYN, over_threshold);
}

/* No list entries here, so 198.51.100.0/24 is a clean /24 too. */
Test(bpf_threshold, rate_limit, .init = setup_empty, .fini = teardown)
{
	phase(threshold_off);
	phase(burst_then_drop);
	phase(burst_one_v6);
	phase(v6_sources_share_their_64);
	phase(v6_prefix_128_counts_hosts);
	phase(v4_prefix_24_shares);
	phase(v4_default_prefix_32);
}

static void whitelist_never_limited(void)
{
	const struct want white_host = WANT_PASS(ME_R_WHITE_HOST, ME_SRC_MANUAL);
	const struct want white_net = WANT_PASS(ME_R_WHITE_NET, ME_SRC_MANUAL);
	__u64 inserts = event_count(ME_EV_RATE_INSERT);
	int i;

	set_threshold(1, 1, 60);
	for (i = 0; i < 5; i++) {
		expect_tcp("SYN from a white host", AF_INET, WHITE4, 25, TF_SYN, white_host);
		expect_tcp("SYN from a white subnet", AF_INET, WNET4, 25, TF_SYN, white_net);
		expect_tcp("SYN from a v6 white host", AF_INET6, WHITE6, 25, TF_SYN, white_host);
	}
	expect_events(ME_EV_RATE_INSERT, inserts, 0, "whitelisted sources are not counted");
}

/* A black host with action pass or group:N is let through by its entry and then
 * limited like anyone else. list_hits counts a frame once, for whatever decided
 * its verdict: the entry when the frame passes, nothing when the threshold drops
 * the SYN, the ban (ME_SRC_THRESHOLD) once the source is banned. */
static void listed_pass_still_limited(void)
{
	const struct want listed = WANT_PASS(ME_R_BLACK_HOST, ME_SRC_MANUAL);
	const struct want listed_over = WANT_DROP(ME_R_THRESHOLD, NO_HIT);

	set_threshold(1, 2, 0);
	expect_tcp("SYN 1 from a black host with action pass", AF_INET, BLACK_PASS4, 25, TF_SYN,
		   listed);
	expect_tcp("SYN 2 from a black host with action pass", AF_INET, BLACK_PASS4, 25, TF_SYN,
		   listed);
	expect_tcp("SYN 3 from a black host with action pass", AF_INET, BLACK_PASS4, 25, TF_SYN,
		   listed_over);
	expect_tcp("SYN 1 from a black host with group:7", AF_INET6, BLACK_GROUP6, 25, TF_SYN,
		   listed);
	expect_tcp("SYN 2 from a black host with group:7", AF_INET6, BLACK_GROUP6, 25, TF_SYN,
		   listed);
	expect_tcp("SYN 3 from a black host with group:7", AF_INET6, BLACK_GROUP6, 25, TF_SYN,
		   listed_over);

	/* With bans on, the pass entry's source is banned and counted as such only. */
	set_threshold(1, 1, 60);
	expect_tcp("SYN 4 from a black host with action pass: banned", AF_INET, BLACK_PASS4, 25,
		   TF_SYN, listed_over);
	expect_tcp("ACK from the banned pass-listed host: counted once, as the ban", AF_INET,
		   BLACK_PASS4, 25, TF_ACK, banned);
}

static void ban_after_limit(void)
{
	const struct want white = WANT_PASS(ME_R_WHITE_HOST, ME_SRC_MANUAL);
	__u64 bans = event_count(ME_EV_BAN_INSERT);

	set_threshold(1, 1, 60);
	expect_tcp("SYN 1", AF_INET, CLEAN4, 25, TF_SYN, clean);
	expect_tcp("SYN 2: over the limit, banned", AF_INET, CLEAN4, 25, TF_SYN, over_threshold);
	expect_events(ME_EV_BAN_INSERT, bans, 1, "one source banned");
	/* From now on everything from the source is dropped, SYN or not, and
	 * counted in list_hits[ME_SRC_THRESHOLD]. */
	expect_tcp("ACK from a banned source", AF_INET, CLEAN4, 25, TF_ACK, banned);
	expect_tcp("SYN to port 80 from a banned source", AF_INET, CLEAN4, 80, TF_SYN, banned);
	expect_frame("UDP from a banned source", AF_INET, CLEAN4, IPPROTO_UDP, 53, 0, banned);
	expect_tcp("SYN from another source", AF_INET, CLEAN4_B, 25, TF_SYN, clean);
	expect_tcp("SYN 1 from a white host", AF_INET, WHITE4, 25, TF_SYN, white);
	expect_tcp("SYN 2 from a white host", AF_INET, WHITE4, 25, TF_SYN, white);
	expect_events(ME_EV_BAN_INSERT, bans, 1, "still one source banned");
}

/* The bans map as the ABI describes it: an IPv4 source as ::ffff:a.b.c.d, the
 * value the end of the ban in CLOCK_BOOTTIME ns. */
static void put_ban(const char *v4src, __s64 from_now_ns)
{
	struct me_src_key k = { .w = { 0, 0, htonl(0xffff), 0 } };
	struct timespec ts;
	__u64 until;

	cr_assert_eq(inet_pton(AF_INET, v4src, &k.w[3]), 1);
	clock_gettime(CLOCK_BOOTTIME, &ts);
	until = (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec + (__u64)from_now_ns;
	cr_assert_eq(bpf_map_update_elem(edge.fd[ME_M_BANS], &k, &until, BPF_ANY), 0,
		     "writing a ban: %s", strerror(errno));
}

static void bans_without_rate(void)
{
	__u64 inserts = event_count(ME_EV_RATE_INSERT);

	set_threshold(0, 1, 60); /* bans enforced, no rate limit */
	put_ban(CLEAN4, 60 * 1000000000ll);
	put_ban(CLEAN4_B, -1000000000ll);
	expect_tcp("ACK from a source with a live ban", AF_INET, CLEAN4, 25, TF_ACK, banned);
	expect_tcp("SYN from a source whose ban ended", AF_INET, CLEAN4_B, 25, TF_SYN, clean);
	expect_tcp("SYN from a source never banned", AF_INET, "192.0.2.12", 25, TF_SYN, clean);
	expect_events(ME_EV_RATE_INSERT, inserts, 0, "thr_rate is 0");
}

/* A ban applies only when thr_ban_secs is set. */
static void bans_ignored_when_off(void)
{
	set_threshold(1, 5, 0);
	put_ban(CLEAN4, 60 * 1000000000ll);
	expect_tcp("SYN from a source in the bans map, bans off", AF_INET, CLEAN4, 25, TF_SYN,
		   clean);
}

Test(bpf_threshold, lists_and_bans, .init = setup_lists, .fini = teardown)
{
	phase(whitelist_never_limited);
	phase(listed_pass_still_limited);
	phase(ban_after_limit);
	phase(bans_without_rate);
	phase(bans_ignored_when_off);
}

/* ---- admin_used: the admin's maps are skipped while they are empty ----
 *
 * Each step changes the admin's lists through the functions the loader and the
 * proxy use (me_manual_apply, _delete, _flush, _purge), then checks the slots,
 * a frame through the program and the userspace verdict (lookup, the proxy):
 * an entry counts from the moment it is added, and a slot goes back to 0 only
 * when its map is empty.
 */

#define ADM_A4	"192.0.2.201"
#define ADM_B4	"192.0.2.202"
#define ADM_EXP4 "192.0.2.203"
#define ADM_NET4 "203.0.113.0/24"
#define ADM_IN4	"203.0.113.9"
#define ADM_NET6 "2001:db8:77::/48"
#define ADM_IN6	"2001:db8:77::5"

static void expect_slot(enum me_map_id id, int want, const char *when)
{
	int got = me_manual_used(&edge, id);

	cr_assert_eq(got, want, "admin_used[%s] %s: got %d, want %d", me_map_name(id), when, got,
		     want);
}

static void expect_slots(unsigned int want_mask, const char *when)
{
	int id;

	for (id = ME_M_WHITE_HOST4; id <= ME_M_BLACK_NET6; id++)
		expect_slot((enum me_map_id)id, !!(want_mask & 1u << (id - ME_M_WHITE_HOST4)),
			    when);
}

#define SLOT(id) (1u << ((id) - ME_M_WHITE_HOST4))

static struct me_rec adm_rec(int list, const char *pfx, const char *action, __u32 expires)
{
	struct me_rec r = { .list = list };

	cr_assert_eq(me_prefix_parse(pfx, &r.pfx, 0), 0, "parsing %s", pfx);
	cr_assert_eq(me_action_parse(action, &r.val), 0, "parsing %s", action);
	r.val.src = ME_SRC_MANUAL;
	r.val.expires = expires;
	return r;
}

static void adm_add(int list, const char *pfx, const char *action, __u32 expires)
{
	struct me_rec r = adm_rec(list, pfx, action, expires);
	enum me_map_id full;
	int rc = me_manual_apply(&edge, &r, 1, &full);

	cr_assert_eq(rc, 0, "adding %s: %s", pfx, strerror(-rc));
}

static void adm_del(int list, const char *pfx)
{
	struct me_rec r = adm_rec(list, pfx, "drop", 0);
	size_t missing;
	int rc = me_manual_delete(&edge, &r, 1, &missing);

	cr_assert_eq(rc, 0, "deleting %s: %s", pfx, strerror(-rc));
}

/* The userspace verdict order gives the program's answer too. */
static void expect_judged(const char *src, __u32 verdict, __u32 reason)
{
	struct me_vquery q = { 0 };
	struct me_vresult *r = calloc(1, sizeof(*r));
	int rc;

	cr_assert_not_null(r);
	cr_assert_eq(me_prefix_parse(src, &q.src, 0), 0, "parsing %s", src);
	rc = me_verdict_judge(&edge, &q, r);
	cr_assert_eq(rc, 0, "judging %s: %s", src, strerror(-rc));
	cr_expect_eq(r->verdict, verdict, "me_verdict_judge(%s): got %s, want %s", src,
		     me_verdict_name(r->verdict), me_verdict_name(verdict));
	cr_expect_eq(r->reason, reason, "me_verdict_judge(%s): got reason %s, want %s", src,
		     me_reason_name(r->reason), me_reason_name(reason));
	free(r);
}

Test(bpf_admin_used, host_counts_at_once_and_clears_after_last_delete, .init = setup_empty,
     .fini = teardown, .timeout = 60)
{
	const struct want dropped = WANT_DROP(ME_R_BLACK_HOST, ME_SRC_MANUAL);

	expect_slots(0, "with no admin entry");
	expect_tcp("A before it is listed", AF_INET, ADM_A4, 25, TF_ACK, clean);
	expect_judged(ADM_A4, ME_V_PASS, ME_R_CLEAN);

	adm_add(ME_LIST_BLACK, ADM_A4, "drop", 0);
	expect_slots(SLOT(ME_M_BLACK_HOST4), "after adding a black IPv4 host");
	expect_tcp("A right after it was added to an empty map", AF_INET, ADM_A4, 25, TF_ACK,
		   dropped);
	expect_judged(ADM_A4, ME_V_DROP, ME_R_BLACK_HOST);

	adm_add(ME_LIST_BLACK, ADM_B4, "drop", 0);
	adm_del(ME_LIST_BLACK, ADM_A4);
	expect_slots(SLOT(ME_M_BLACK_HOST4), "after deleting one of two hosts");
	expect_tcp("A after its delete", AF_INET, ADM_A4, 25, TF_ACK, clean);
	expect_tcp("B, still listed", AF_INET, ADM_B4, 25, TF_ACK, dropped);
	expect_judged(ADM_B4, ME_V_DROP, ME_R_BLACK_HOST);

	adm_del(ME_LIST_BLACK, ADM_B4);
	expect_slots(0, "after the last delete");
	expect_tcp("B after the last delete", AF_INET, ADM_B4, 25, TF_ACK, clean);
	expect_judged(ADM_B4, ME_V_PASS, ME_R_CLEAN);
}

Test(bpf_admin_used, subnets_flush_purge_and_rollback, .init = setup_empty, .fini = teardown,
     .timeout = 60)
{
	struct me_rec *many = calloc(2000, sizeof(*many));
	enum me_map_id full = ME_M_COUNT;
	char addr[INET_ADDRSTRLEN];
	__u64 removed;
	size_t i;
	int rc;

	adm_add(ME_LIST_WHITE, ADM_NET6, "pass", 0);
	adm_add(ME_LIST_BLACK, ADM_NET4, "drop", 0);
	expect_slots(SLOT(ME_M_WHITE_NET6) | SLOT(ME_M_BLACK_NET4), "after adding two subnets");
	expect_tcp("inside the white IPv6 subnet", AF_INET6, ADM_IN6, 25, TF_ACK,
		   (struct want)WANT_PASS(ME_R_WHITE_NET, ME_SRC_MANUAL));
	expect_tcp("inside the black IPv4 subnet", AF_INET, ADM_IN4, 25, TF_ACK,
		   (struct want)WANT_DROP(ME_R_BLACK_NET, ME_SRC_MANUAL));

	cr_assert_eq(me_manual_flush(&edge, ME_LIST_WHITE, &removed), 0);
	expect_slots(SLOT(ME_M_BLACK_NET4), "after flushing the whitelist");
	expect_tcp("inside the flushed white subnet", AF_INET6, ADM_IN6, 25, TF_ACK, clean);
	expect_judged(ADM_IN6, ME_V_PASS, ME_R_CLEAN);

	/* An expired entry still holds its map until a purge removes it. */
	adm_add(ME_LIST_BLACK, ADM_EXP4, "drop", me_boot_seconds() - 1);
	expect_slots(SLOT(ME_M_BLACK_NET4) | SLOT(ME_M_BLACK_HOST4), "with an expired host");
	expect_tcp("an expired black host", AF_INET, ADM_EXP4, 25, TF_ACK, clean);
	cr_assert_eq(me_manual_purge(&edge, &removed), 0);
	cr_assert_eq(removed, 1, "purge removed %llu entries, want 1", (unsigned long long)removed);
	expect_slots(SLOT(ME_M_BLACK_NET4), "after the purge");
	expect_tcp("still inside the black subnet", AF_INET, ADM_IN4, 25, TF_ACK,
		   (struct want)WANT_DROP(ME_R_BLACK_NET, ME_SRC_MANUAL));

	/* More hosts than the map holds: nothing is added, and the slot the
	 * attempt set is cleared again by the rollback. */
	cr_assert_not_null(many);
	for (i = 0; i < 2000; i++) {
		snprintf(addr, sizeof(addr), "10.9.%zu.%zu", i / 256, i % 256);
		many[i] = adm_rec(ME_LIST_BLACK, addr, "drop", 0);
	}
	rc = me_manual_apply(&edge, many, 2000, &full);
	free(many);
	cr_assert_eq(rc, -ENOSPC, "adding 2000 hosts to a map of %u: got %d, want -ENOSPC",
		     me_map_capacity(edge.fd[ME_M_BLACK_HOST4]), rc);
	cr_expect_eq(full, ME_M_BLACK_HOST4);
	expect_slots(SLOT(ME_M_BLACK_NET4), "after a rolled back import");

	cr_assert_eq(me_manual_flush(&edge, ME_LIST_BLACK, &removed), 0);
	expect_slots(0, "after flushing both lists");
	expect_tcp("inside the flushed black subnet", AF_INET, ADM_IN4, 25, TF_ACK, clean);
}

/* An entry written past me_manual_apply is ignored by the program and by the
 * userspace verdict alike, until a settle sees it: the two never disagree. */
Test(bpf_admin_used, unmarked_entry_ignored_by_both_until_settled, .init = setup_empty,
     .fini = teardown, .timeout = 60)
{
	struct me_entry v = { .action = ME_ACT_DROP, .src = ME_SRC_MANUAL };
	__u32 addr;

	cr_assert_eq(inet_pton(AF_INET, ADM_A4, &addr), 1);
	cr_assert_eq(bpf_map_update_elem(edge.fd[ME_M_BLACK_HOST4], &addr, &v, BPF_ANY), 0);
	expect_slots(0, "after a write that bypassed me_manual_apply");
	expect_tcp("an unmarked entry", AF_INET, ADM_A4, 25, TF_ACK, clean);
	expect_judged(ADM_A4, ME_V_PASS, ME_R_CLEAN);

	cr_assert_eq(me_manual_settle(&edge, ME_M_BLACK_HOST4), 0);
	expect_slots(SLOT(ME_M_BLACK_HOST4), "after settling a map that holds an entry");
	expect_tcp("the entry, once settled", AF_INET, ADM_A4, 25, TF_ACK,
		   (struct want)WANT_DROP(ME_R_BLACK_HOST, ME_SRC_MANUAL));
	expect_judged(ADM_A4, ME_V_DROP, ME_R_BLACK_HOST);

	cr_assert_eq(bpf_map_delete_elem(edge.fd[ME_M_BLACK_HOST4], &addr), 0);
	expect_slots(SLOT(ME_M_BLACK_HOST4), "a stale 1 after a raw delete");
	expect_tcp("a stale 1 costs a lookup, not a verdict", AF_INET, ADM_A4, 25, TF_ACK, clean);
	cr_assert_eq(me_manual_settle(&edge, ME_M_BLACK_HOST4), 0);
	expect_slots(0, "after settling the empty map");
}
