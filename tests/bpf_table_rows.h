/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bpf_table_rows.h - the data of test_bpf_table.c: the list entries the fixture
 * loads, and the table of frames with the verdict each must get.
 *
 * Only documentation prefixes are used: 192.0.2.0/24, 198.51.100.0/24,
 * 203.0.113.0/24 and 2001:db8::/32. Every source address a row uses is named
 * below, next to what the fixture lists it as, so a row reads as "this kind of
 * frame from this kind of source".
 *
 * Included by test_bpf_table.c (the kernel's verdicts), lib/bpffix.c (the
 * fixture), and test_loader_ops.c (the same rows judged by common/verdict.c).
 */
#ifndef ME_TEST_BPF_TABLE_ROWS_H
#define ME_TEST_BPF_TABLE_ROWS_H

#include <linux/bpf.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "mailedge_abi.h"
#include "lib/pkt.h"

/* ------------------------------------------------------------------------ */
/* Addresses                                                                 */
/* ------------------------------------------------------------------------ */

/* The tables below are laid out by hand, one row per entry or frame. */
// clang-format off

/* Every frame goes to the gateway unless a row says otherwise. */
#define GW4 "192.0.2.1"
#define GW6 "2001:db8::1"

/* list_hits index of list-sync entries ("src" of their me_entry). */
#define SRC_SYNC0 20 /* entries in the generation-0 inner maps */
#define SRC_SYNC1 21 /* entries in the generation-1 inner maps */

/* IPv4 sources. */
#define CLEAN4	       "192.0.2.10"	/* in no list */
#define CLEAN4_B       "192.0.2.11"	/* in no list */
#define BLACK_DROP4    "192.0.2.66"	/* manual black host, drop */
#define BLACK_RESET4   "192.0.2.77"	/* manual black host, reset */
#define BLACK_PASS4    "192.0.2.88"	/* manual black host, pass; sync gen 0: drop */
#define BLACK_GROUP4   "192.0.2.99"	/* manual black host, group:7 */
#define EXPIRED4       "192.0.2.111"	/* manual black host, drop, expired */
#define TEMP4	       "192.0.2.112"	/* manual black host, drop, expires in 1 h, src proxy */
#define SYNC0_HOST4    "192.0.2.120"	/* sync gen 0 black host, drop */
#define SYNC1_HOST4    "192.0.2.121"	/* sync gen 1 black host, drop */
#define SYNC_WHITE4    "192.0.2.130"	/* sync gen 0 white host; also manual black host, drop */
#define SYNC_WNET4     "192.0.2.165"	/* in sync gen 0 white net 192.0.2.160/28 */
#define SYNC0_NET4     "192.0.2.200"	/* in sync gen 0 black net 192.0.2.192/27, drop */
#define SYNC1_NET4     "192.0.2.230"	/* in sync gen 1 black net 192.0.2.224/27, drop */
#define BNET4	       "198.51.100.50"	/* in manual black net 198.51.100.0/24, drop */
#define WHITE4	       "198.51.100.7"	/* manual white host, inside that black net */
#define EXPIRED_WHITE4 "198.51.100.8"	/* manual white host, expired, inside the black net */
#define WNET4	       "198.51.100.140" /* in manual white net 198.51.100.128/28 */
#define WNET_BLACK4    "198.51.100.130" /* in that white net, and a manual black host, drop */
#define RNET4	       "203.0.113.5"	/* in manual black net 203.0.113.0/24, reset */
#define SHADOW4	       "203.0.113.70"	/* in an expired 203.0.113.64/26 (drop) and the /24 */

/* IPv6 sources: the same kinds. */
#define CLEAN6	       "2001:db8:1::10"
#define CLEAN6_SAME64  "2001:db8:1::11" /* same /64 as CLEAN6 */
#define CLEAN6_B       "2001:db8:2::10" /* another /64 */
#define BLACK_DROP6    "2001:db8:a::66"
#define BLACK_RESET6   "2001:db8:a::77"
#define BLACK_PASS6    "2001:db8:a::88"
#define BLACK_GROUP6   "2001:db8:a::99"
#define EXPIRED6       "2001:db8:a::111"
#define TEMP6	       "2001:db8:a::112"
#define SYNC0_HOST6    "2001:db8:a::120"
#define SYNC1_HOST6    "2001:db8:a::121"
#define SYNC_WHITE6    "2001:db8:a::130"
#define SYNC_WNET6     "2001:db8:e::5"	 /* in sync gen 0 white net 2001:db8:e::/48 */
#define SYNC0_NET6     "2001:db8:d::5"	 /* in sync gen 0 black net 2001:db8:d::/48, drop */
#define SYNC1_NET6     "2001:db8:f::5"	 /* in sync gen 1 black net 2001:db8:f::/48, drop */
#define BNET6	       "2001:db8:b::50"	 /* in manual black net 2001:db8:b::/48, drop */
#define WHITE6	       "2001:db8:b::7"	 /* manual white host inside that black net */
#define EXPIRED_WHITE6 "2001:db8:b::8"	 /* manual white host, expired */
#define WNET6	       "2001:db8:b:1::40" /* in manual white net 2001:db8:b:1::/64 */
#define WNET_BLACK6    "2001:db8:b:1::30" /* in that white net, and a manual black host */
#define RNET6	       "2001:db8:c::5"	 /* in manual black net 2001:db8:c::/48, reset */
#define SHADOW6	       "2001:db8:c:1::5" /* in an expired 2001:db8:c:1::/64 (drop) and the /48 */

// clang-format on

/* ------------------------------------------------------------------------ */
/* The fixture's list entries                                                */
/* ------------------------------------------------------------------------ */

enum entry_map {
	IN_MANUAL = 0, /* the admin's map (white_host4, black_net6, ...) */
	IN_SYNC_GEN0,  /* the list-sync inner map of generation 0 */
	IN_SYNC_GEN1,  /* the list-sync inner map of generation 1 */
};

enum entry_expiry {
	NEVER = 0,
	EXPIRED,    /* expires = now - 1 s: must be treated as absent */
	IN_AN_HOUR, /* a live temporary entry */
};

struct fixture_entry {
	const char *prefix; /* host or subnet, as an admin would type it */
	int list;	    /* ME_LIST_WHITE or ME_LIST_BLACK */
	enum entry_map map;
	__u8 action; /* enum me_action */
	__u8 src;    /* list_hits index */
	__u16 group;
	enum entry_expiry expiry;
};

// clang-format off
static const struct fixture_entry fixture_entries[] = {
	/* IPv4, manual */
	{ BLACK_DROP4, ME_LIST_BLACK, IN_MANUAL, ME_ACT_DROP, ME_SRC_MANUAL, 0, NEVER },
	{ BLACK_RESET4, ME_LIST_BLACK, IN_MANUAL, ME_ACT_RESET, ME_SRC_MANUAL, 0, NEVER },
	{ BLACK_PASS4, ME_LIST_BLACK, IN_MANUAL, ME_ACT_PASS, ME_SRC_MANUAL, 0, NEVER },
	{ BLACK_GROUP4, ME_LIST_BLACK, IN_MANUAL, ME_ACT_GROUP, ME_SRC_MANUAL, 7, NEVER },
	{ EXPIRED4, ME_LIST_BLACK, IN_MANUAL, ME_ACT_DROP, ME_SRC_MANUAL, 0, EXPIRED },
	{ TEMP4, ME_LIST_BLACK, IN_MANUAL, ME_ACT_DROP, ME_SRC_PROXY, 0, IN_AN_HOUR },
	{ SYNC_WHITE4, ME_LIST_BLACK, IN_MANUAL, ME_ACT_DROP, ME_SRC_MANUAL, 0, NEVER },
	{ "198.51.100.0/24", ME_LIST_BLACK, IN_MANUAL, ME_ACT_DROP, ME_SRC_MANUAL, 0, NEVER },
	{ WHITE4, ME_LIST_WHITE, IN_MANUAL, ME_ACT_PASS, ME_SRC_MANUAL, 0, NEVER },
	{ EXPIRED_WHITE4, ME_LIST_WHITE, IN_MANUAL, ME_ACT_PASS, ME_SRC_MANUAL, 0, EXPIRED },
	{ "198.51.100.128/28", ME_LIST_WHITE, IN_MANUAL, ME_ACT_PASS, ME_SRC_MANUAL, 0, NEVER },
	{ WNET_BLACK4, ME_LIST_BLACK, IN_MANUAL, ME_ACT_DROP, ME_SRC_MANUAL, 0, NEVER },
	{ "203.0.113.0/24", ME_LIST_BLACK, IN_MANUAL, ME_ACT_RESET, ME_SRC_MANUAL, 0, NEVER },
	{ "203.0.113.64/26", ME_LIST_BLACK, IN_MANUAL, ME_ACT_DROP, ME_SRC_MANUAL, 0, EXPIRED },
	/* IPv4, list sync */
	{ BLACK_PASS4, ME_LIST_BLACK, IN_SYNC_GEN0, ME_ACT_DROP, SRC_SYNC0, 0, NEVER },
	{ SYNC0_HOST4, ME_LIST_BLACK, IN_SYNC_GEN0, ME_ACT_DROP, SRC_SYNC0, 0, NEVER },
	{ SYNC1_HOST4, ME_LIST_BLACK, IN_SYNC_GEN1, ME_ACT_DROP, SRC_SYNC1, 0, NEVER },
	{ SYNC_WHITE4, ME_LIST_WHITE, IN_SYNC_GEN0, ME_ACT_PASS, SRC_SYNC0, 0, NEVER },
	{ "192.0.2.160/28", ME_LIST_WHITE, IN_SYNC_GEN0, ME_ACT_PASS, SRC_SYNC0, 0, NEVER },
	{ "192.0.2.192/27", ME_LIST_BLACK, IN_SYNC_GEN0, ME_ACT_DROP, SRC_SYNC0, 0, NEVER },
	{ "192.0.2.224/27", ME_LIST_BLACK, IN_SYNC_GEN1, ME_ACT_DROP, SRC_SYNC1, 0, NEVER },

	/* IPv6, manual */
	{ BLACK_DROP6, ME_LIST_BLACK, IN_MANUAL, ME_ACT_DROP, ME_SRC_MANUAL, 0, NEVER },
	{ BLACK_RESET6, ME_LIST_BLACK, IN_MANUAL, ME_ACT_RESET, ME_SRC_MANUAL, 0, NEVER },
	{ BLACK_PASS6, ME_LIST_BLACK, IN_MANUAL, ME_ACT_PASS, ME_SRC_MANUAL, 0, NEVER },
	{ BLACK_GROUP6, ME_LIST_BLACK, IN_MANUAL, ME_ACT_GROUP, ME_SRC_MANUAL, 7, NEVER },
	{ EXPIRED6, ME_LIST_BLACK, IN_MANUAL, ME_ACT_DROP, ME_SRC_MANUAL, 0, EXPIRED },
	{ TEMP6, ME_LIST_BLACK, IN_MANUAL, ME_ACT_DROP, ME_SRC_PROXY, 0, IN_AN_HOUR },
	{ SYNC_WHITE6, ME_LIST_BLACK, IN_MANUAL, ME_ACT_DROP, ME_SRC_MANUAL, 0, NEVER },
	{ "2001:db8:b::/48", ME_LIST_BLACK, IN_MANUAL, ME_ACT_DROP, ME_SRC_MANUAL, 0, NEVER },
	{ WHITE6, ME_LIST_WHITE, IN_MANUAL, ME_ACT_PASS, ME_SRC_MANUAL, 0, NEVER },
	{ EXPIRED_WHITE6, ME_LIST_WHITE, IN_MANUAL, ME_ACT_PASS, ME_SRC_MANUAL, 0, EXPIRED },
	{ "2001:db8:b:1::/64", ME_LIST_WHITE, IN_MANUAL, ME_ACT_PASS, ME_SRC_MANUAL, 0, NEVER },
	{ WNET_BLACK6, ME_LIST_BLACK, IN_MANUAL, ME_ACT_DROP, ME_SRC_MANUAL, 0, NEVER },
	{ "2001:db8:c::/48", ME_LIST_BLACK, IN_MANUAL, ME_ACT_RESET, ME_SRC_MANUAL, 0, NEVER },
	{ "2001:db8:c:1::/64", ME_LIST_BLACK, IN_MANUAL, ME_ACT_DROP, ME_SRC_MANUAL, 0, EXPIRED },
	/* IPv6, list sync */
	{ BLACK_PASS6, ME_LIST_BLACK, IN_SYNC_GEN0, ME_ACT_DROP, SRC_SYNC0, 0, NEVER },
	{ SYNC0_HOST6, ME_LIST_BLACK, IN_SYNC_GEN0, ME_ACT_DROP, SRC_SYNC0, 0, NEVER },
	{ SYNC1_HOST6, ME_LIST_BLACK, IN_SYNC_GEN1, ME_ACT_DROP, SRC_SYNC1, 0, NEVER },
	{ SYNC_WHITE6, ME_LIST_WHITE, IN_SYNC_GEN0, ME_ACT_PASS, SRC_SYNC0, 0, NEVER },
	{ "2001:db8:e::/48", ME_LIST_WHITE, IN_SYNC_GEN0, ME_ACT_PASS, SRC_SYNC0, 0, NEVER },
	{ "2001:db8:d::/48", ME_LIST_BLACK, IN_SYNC_GEN0, ME_ACT_DROP, SRC_SYNC0, 0, NEVER },
	{ "2001:db8:f::/48", ME_LIST_BLACK, IN_SYNC_GEN1, ME_ACT_DROP, SRC_SYNC1, 0, NEVER },
};
// clang-format on

/* ------------------------------------------------------------------------ */
/* Rows                                                                      */
/* ------------------------------------------------------------------------ */

/* Where a truncation is measured from. */
enum cut_from {
	CUT_NONE = 0,
	CUT_FROM_START, /* cut_len bytes of the whole frame */
	CUT_FROM_L3,	/* the IP header starts at byte 0 */
	CUT_FROM_L4,	/* the transport header starts at byte 0 */
};

/* Edits made after the frame is built (the IPv4 header checksum is redone). */
enum mangle {
	MANGLE_NONE = 0,
	MANGLE_IP_LEN,	   /* add arg to IPv4 tot_len / IPv6 payload_len */
	MANGLE_L4_LEN,	   /* IP length fields say the L4 part is arg bytes; frame cut there */
	MANGLE_TCP_DOFF,   /* TCP data offset := arg */
	MANGLE_IHL,	   /* IPv4 IHL := arg */
	MANGLE_IP_VERSION, /* IP version nibble := arg */
	MANGLE_PAD,	   /* zero-pad the frame to arg bytes (Ethernet minimum is 60) */
	/* The first extension header's type := arg: its 8 bytes read the same as
	 * a hop-by-hop (0), routing (43) or AH (51) header. */
	MANGLE_V6_EXT_TYPE,
};

/*
 * A frame, as plain data (no pointers, so a row could also be a Criterion
 * parameter, which is copied into a re-executed worker). frame_spec() in the
 * .c file turns it into a struct pkt_spec; zero means the default: the gateway
 * as destination, source port 40001, destination port 25, TCP.
 */
struct frame {
	int family; /* AF_INET, AF_INET6, or 0 for an ARP frame */
	char src[48];
	char dst[48];
	int l4; /* IPPROTO_TCP (0), IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6 */
	__u16 sport, dport;
	__u8 flags; /* TF_* */
	__u32 seq;
	int tcp_opts, payload, ip_opts;
	int vlans;
	__u16 vlan_proto[3]; /* 0 = 0x8100 */
	__u16 ethertype;     /* non-IP frames only */
	int frag_offset, more_frags;
	int v6_frag, v6_ext;
	enum mangle mangle;
	int arg;
	enum cut_from cut_from;
	int cut_len;
};

/* What must happen: the XDP action, the stats counter (reason, verdict) that
 * goes up by exactly one, and the list_hits element that goes up by exactly one
 * (the src of the list entry that matched, ME_SRC_THRESHOLD for a ban), or
 * NO_HIT when no list_hits element may move. */
#define NO_HIT ME_SRC_MAX

struct want {
	__u32 act;
	__u32 reason;
	__u32 verdict;
	__u32 hit;
};

struct row {
	char desc[96];
	struct frame f;
	struct want want;
	__u32 gen;   /* me_config.sync_gen while the row runs */
	int refused; /* the kernel refuses to run the frame (EINVAL); nothing is counted */
};

/* (reason, hit): hit is the src of the entry that matched, or NO_HIT. */
// clang-format off
#define WANT_PASS(r, h)	 { .act = XDP_PASS, .reason = (r), .verdict = ME_V_PASS, .hit = (h) }
#define WANT_DROP(r, h)	 { .act = XDP_DROP, .reason = (r), .verdict = ME_V_DROP, .hit = (h) }
#define WANT_RESET(r, h) { .act = XDP_TX, .reason = (r), .verdict = ME_V_RESET, .hit = (h) }
#define WANT_CLEAN	 WANT_PASS(ME_R_CLEAN, NO_HIT)
#define WANT_NONIP	 WANT_PASS(ME_R_NONIP, NO_HIT)
#define WANT_MALFORMED	 WANT_DROP(ME_R_MALFORMED, NO_HIT)

/* TCP option bytes and payload used by the "full SYN" rows. */
#define OPTS 20
#define DATA 32

/* Non-IP frames and clean sources. */
static const struct row rows_basic[] = {
	/* ---- non-IP ---- */
	{ .desc = "ARP",
	  .f = { .family = 0 },
	  .want = WANT_NONIP },
	{ .desc = "ARP via 1 VLAN tag",
	  .f = { .family = 0, .vlans = 1 },
	  .want = WANT_NONIP },
	{ .desc = "LLDP ethertype 0x88cc",
	  .f = { .family = 0, .ethertype = 0x88cc },
	  .want = WANT_NONIP },

	/* ---- clean sources ---- */
	{ .desc = "v4 clean SYN",
	  .f = { .family = AF_INET, .src = CLEAN4, .flags = TF_SYN },
	  .want = WANT_CLEAN },
	{ .desc = "v4 clean ACK with payload",
	  .f = { .family = AF_INET, .src = CLEAN4, .flags = TF_ACK, .payload = 100 },
	  .want = WANT_CLEAN },
	{ .desc = "v4 clean UDP",
	  .f = { .family = AF_INET, .src = CLEAN4, .l4 = IPPROTO_UDP, .dport = 53 },
	  .want = WANT_CLEAN },
	{ .desc = "v4 clean ICMP",
	  .f = { .family = AF_INET, .src = CLEAN4, .l4 = IPPROTO_ICMP },
	  .want = WANT_CLEAN },
	{ .desc = "v4 clean SYN padded to the 60-byte Ethernet minimum",
	  .f = { .family = AF_INET, .src = CLEAN4, .flags = TF_SYN, .mangle = MANGLE_PAD,
		 .arg = 60 },
	  .want = WANT_CLEAN },
	{ .desc = "v6 clean SYN",
	  .f = { .family = AF_INET6, .src = CLEAN6, .flags = TF_SYN },
	  .want = WANT_CLEAN },
	{ .desc = "v6 clean ACK with payload",
	  .f = { .family = AF_INET6, .src = CLEAN6, .flags = TF_ACK, .payload = 100 },
	  .want = WANT_CLEAN },
	{ .desc = "v6 clean UDP",
	  .f = { .family = AF_INET6, .src = CLEAN6, .l4 = IPPROTO_UDP, .dport = 53 },
	  .want = WANT_CLEAN },
	{ .desc = "v6 clean ICMPv6",
	  .f = { .family = AF_INET6, .src = CLEAN6, .l4 = IPPROTO_ICMPV6 },
	  .want = WANT_CLEAN },
};

/* Each list step, admin (manual) maps: whitelists beat blacklists, expiry. */
static const struct row rows_lists[] = {
	/* ---- v4 list steps, manual maps ---- */
	{ .desc = "v4 white host inside a black subnet",
	  .f = { .family = AF_INET, .src = WHITE4, .flags = TF_SYN },
	  .want = WANT_PASS(ME_R_WHITE_HOST, ME_SRC_MANUAL) },
	{ .desc = "v4 white subnet",
	  .f = { .family = AF_INET, .src = WNET4, .flags = TF_SYN },
	  .want = WANT_PASS(ME_R_WHITE_NET, ME_SRC_MANUAL) },
	{ .desc = "v4 white subnet beats a black host entry",
	  .f = { .family = AF_INET, .src = WNET_BLACK4, .flags = TF_SYN },
	  .want = WANT_PASS(ME_R_WHITE_NET, ME_SRC_MANUAL) },
	{ .desc = "v4 expired white host does not protect from the black subnet",
	  .f = { .family = AF_INET, .src = EXPIRED_WHITE4, .flags = TF_SYN },
	  .want = WANT_DROP(ME_R_BLACK_NET, ME_SRC_MANUAL) },
	{ .desc = "v4 black host drop, SYN",
	  .f = { .family = AF_INET, .src = BLACK_DROP4, .flags = TF_SYN },
	  .want = WANT_DROP(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v4 black host drop, ACK",
	  .f = { .family = AF_INET, .src = BLACK_DROP4, .flags = TF_ACK, .payload = 10 },
	  .want = WANT_DROP(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v4 black host drop, UDP",
	  .f = { .family = AF_INET, .src = BLACK_DROP4, .l4 = IPPROTO_UDP, .dport = 53 },
	  .want = WANT_DROP(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v4 black host drop, ICMP",
	  .f = { .family = AF_INET, .src = BLACK_DROP4, .l4 = IPPROTO_ICMP },
	  .want = WANT_DROP(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v4 black subnet drop",
	  .f = { .family = AF_INET, .src = BNET4, .flags = TF_SYN },
	  .want = WANT_DROP(ME_R_BLACK_NET, ME_SRC_MANUAL) },
	{ .desc = "v4 black subnet drop, UDP",
	  .f = { .family = AF_INET, .src = BNET4, .l4 = IPPROTO_UDP, .dport = 53 },
	  .want = WANT_DROP(ME_R_BLACK_NET, ME_SRC_MANUAL) },
	{ .desc = "v4 black host pass (manual pass wins over sync drop)",
	  .f = { .family = AF_INET, .src = BLACK_PASS4, .flags = TF_SYN },
	  .want = WANT_PASS(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v4 black host group:7",
	  .f = { .family = AF_INET, .src = BLACK_GROUP4, .flags = TF_SYN },
	  .want = WANT_PASS(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v4 expired black host is absent",
	  .f = { .family = AF_INET, .src = EXPIRED4, .flags = TF_SYN },
	  .want = WANT_CLEAN },
	{ .desc = "v4 live temporary black host (src proxy)",
	  .f = { .family = AF_INET, .src = TEMP4, .flags = TF_SYN },
	  .want = WANT_DROP(ME_R_BLACK_HOST, ME_SRC_PROXY) },
	{ .desc = "v4 expired /26 does not shadow the live /24 (ACK gets RST)",
	  .f = { .family = AF_INET, .src = SHADOW4, .flags = TF_ACK, .seq = 5000 },
	  .want = WANT_RESET(ME_R_BLACK_NET, ME_SRC_MANUAL) },
	{ .desc = "v4 expired /26 does not shadow the live /24 (SYN gets reset)",
	  .f = { .family = AF_INET, .src = SHADOW4, .flags = TF_SYN, .seq = 5000 },
	  .want = WANT_RESET(ME_R_BLACK_NET, ME_SRC_MANUAL) },

	/* ---- v6 list steps, manual maps ---- */
	{ .desc = "v6 white host inside a black subnet",
	  .f = { .family = AF_INET6, .src = WHITE6, .flags = TF_SYN },
	  .want = WANT_PASS(ME_R_WHITE_HOST, ME_SRC_MANUAL) },
	{ .desc = "v6 white subnet",
	  .f = { .family = AF_INET6, .src = WNET6, .flags = TF_SYN },
	  .want = WANT_PASS(ME_R_WHITE_NET, ME_SRC_MANUAL) },
	{ .desc = "v6 white subnet beats a black host entry",
	  .f = { .family = AF_INET6, .src = WNET_BLACK6, .flags = TF_SYN },
	  .want = WANT_PASS(ME_R_WHITE_NET, ME_SRC_MANUAL) },
	{ .desc = "v6 expired white host does not protect from the black subnet",
	  .f = { .family = AF_INET6, .src = EXPIRED_WHITE6, .flags = TF_SYN },
	  .want = WANT_DROP(ME_R_BLACK_NET, ME_SRC_MANUAL) },
	{ .desc = "v6 black host drop, SYN",
	  .f = { .family = AF_INET6, .src = BLACK_DROP6, .flags = TF_SYN },
	  .want = WANT_DROP(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v6 black host drop, UDP",
	  .f = { .family = AF_INET6, .src = BLACK_DROP6, .l4 = IPPROTO_UDP, .dport = 53 },
	  .want = WANT_DROP(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v6 black host drop, ICMPv6",
	  .f = { .family = AF_INET6, .src = BLACK_DROP6, .l4 = IPPROTO_ICMPV6 },
	  .want = WANT_DROP(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v6 black subnet drop",
	  .f = { .family = AF_INET6, .src = BNET6, .flags = TF_SYN },
	  .want = WANT_DROP(ME_R_BLACK_NET, ME_SRC_MANUAL) },
	{ .desc = "v6 black host pass (manual pass wins over sync drop)",
	  .f = { .family = AF_INET6, .src = BLACK_PASS6, .flags = TF_SYN },
	  .want = WANT_PASS(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v6 black host group:7",
	  .f = { .family = AF_INET6, .src = BLACK_GROUP6, .flags = TF_SYN },
	  .want = WANT_PASS(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v6 expired black host is absent",
	  .f = { .family = AF_INET6, .src = EXPIRED6, .flags = TF_SYN },
	  .want = WANT_CLEAN },
	{ .desc = "v6 live temporary black host (src proxy)",
	  .f = { .family = AF_INET6, .src = TEMP6, .flags = TF_SYN },
	  .want = WANT_DROP(ME_R_BLACK_HOST, ME_SRC_PROXY) },
	{ .desc = "v6 expired /64 does not shadow the live /48 (ACK gets RST)",
	  .f = { .family = AF_INET6, .src = SHADOW6, .flags = TF_ACK, .seq = 5000 },
	  .want = WANT_RESET(ME_R_BLACK_NET, ME_SRC_MANUAL) },
	{ .desc = "v6 expired /64 does not shadow the live /48 (SYN gets reset)",
	  .f = { .family = AF_INET6, .src = SHADOW6, .flags = TF_SYN, .seq = 5000 },
	  .want = WANT_RESET(ME_R_BLACK_NET, ME_SRC_MANUAL) },
};

/* List-sync inner maps, and switching generations (.gen). */
static const struct row rows_sync[] = {
	/* ---- v4 list sync ---- */
	{ .desc = "v4 sync black host, gen 0",
	  .f = { .family = AF_INET, .src = SYNC0_HOST4, .flags = TF_SYN },
	  .want = WANT_DROP(ME_R_BLACK_HOST, SRC_SYNC0) },
	{ .desc = "v4 sync gen-0 black host is clean under gen 1",
	  .f = { .family = AF_INET, .src = SYNC0_HOST4, .flags = TF_SYN },
	  .want = WANT_CLEAN, .gen = 1 },
	{ .desc = "v4 sync gen-1 black host is clean under gen 0",
	  .f = { .family = AF_INET, .src = SYNC1_HOST4, .flags = TF_SYN },
	  .want = WANT_CLEAN },
	{ .desc = "v4 sync black host, gen 1",
	  .f = { .family = AF_INET, .src = SYNC1_HOST4, .flags = TF_SYN },
	  .want = WANT_DROP(ME_R_BLACK_HOST, SRC_SYNC1), .gen = 1 },
	{ .desc = "v4 sync black subnet, gen 0",
	  .f = { .family = AF_INET, .src = SYNC0_NET4, .flags = TF_SYN },
	  .want = WANT_DROP(ME_R_BLACK_NET, SRC_SYNC0) },
	{ .desc = "v4 sync gen-0 black subnet is clean under gen 1",
	  .f = { .family = AF_INET, .src = SYNC0_NET4, .flags = TF_SYN },
	  .want = WANT_CLEAN, .gen = 1 },
	{ .desc = "v4 sync black subnet, gen 1",
	  .f = { .family = AF_INET, .src = SYNC1_NET4, .flags = TF_SYN },
	  .want = WANT_DROP(ME_R_BLACK_NET, SRC_SYNC1), .gen = 1 },
	{ .desc = "v4 sync gen-1 black subnet is clean under gen 0",
	  .f = { .family = AF_INET, .src = SYNC1_NET4, .flags = TF_SYN },
	  .want = WANT_CLEAN },
	{ .desc = "v4 sync white host beats a manual black host",
	  .f = { .family = AF_INET, .src = SYNC_WHITE4, .flags = TF_SYN },
	  .want = WANT_PASS(ME_R_WHITE_HOST, SRC_SYNC0) },
	{ .desc = "v4 manual black host applies when gen 1 has no white host",
	  .f = { .family = AF_INET, .src = SYNC_WHITE4, .flags = TF_SYN },
	  .want = WANT_DROP(ME_R_BLACK_HOST, ME_SRC_MANUAL), .gen = 1 },
	{ .desc = "v4 sync white subnet, gen 0",
	  .f = { .family = AF_INET, .src = SYNC_WNET4, .flags = TF_SYN },
	  .want = WANT_PASS(ME_R_WHITE_NET, SRC_SYNC0) },
	{ .desc = "v4 sync white subnet is gone under gen 1 (empty slot)",
	  .f = { .family = AF_INET, .src = SYNC_WNET4, .flags = TF_SYN },
	  .want = WANT_CLEAN, .gen = 1 },
	{ .desc = "v4 manual pass entry under gen 1 (no sync entry)",
	  .f = { .family = AF_INET, .src = BLACK_PASS4, .flags = TF_SYN },
	  .want = WANT_PASS(ME_R_BLACK_HOST, ME_SRC_MANUAL), .gen = 1 },

	/* ---- v6 list sync ---- */
	{ .desc = "v6 sync black host, gen 0",
	  .f = { .family = AF_INET6, .src = SYNC0_HOST6, .flags = TF_SYN },
	  .want = WANT_DROP(ME_R_BLACK_HOST, SRC_SYNC0) },
	{ .desc = "v6 sync gen-0 black host is clean under gen 1",
	  .f = { .family = AF_INET6, .src = SYNC0_HOST6, .flags = TF_SYN },
	  .want = WANT_CLEAN, .gen = 1 },
	{ .desc = "v6 sync black host, gen 1",
	  .f = { .family = AF_INET6, .src = SYNC1_HOST6, .flags = TF_SYN },
	  .want = WANT_DROP(ME_R_BLACK_HOST, SRC_SYNC1), .gen = 1 },
	{ .desc = "v6 sync gen-1 black host is clean under gen 0",
	  .f = { .family = AF_INET6, .src = SYNC1_HOST6, .flags = TF_SYN },
	  .want = WANT_CLEAN },
	{ .desc = "v6 sync black subnet, gen 0",
	  .f = { .family = AF_INET6, .src = SYNC0_NET6, .flags = TF_SYN },
	  .want = WANT_DROP(ME_R_BLACK_NET, SRC_SYNC0) },
	{ .desc = "v6 sync gen-0 black subnet is clean under gen 1",
	  .f = { .family = AF_INET6, .src = SYNC0_NET6, .flags = TF_SYN },
	  .want = WANT_CLEAN, .gen = 1 },
	{ .desc = "v6 sync black subnet, gen 1",
	  .f = { .family = AF_INET6, .src = SYNC1_NET6, .flags = TF_SYN },
	  .want = WANT_DROP(ME_R_BLACK_NET, SRC_SYNC1), .gen = 1 },
	{ .desc = "v6 sync white host beats a manual black host",
	  .f = { .family = AF_INET6, .src = SYNC_WHITE6, .flags = TF_SYN },
	  .want = WANT_PASS(ME_R_WHITE_HOST, SRC_SYNC0) },
	{ .desc = "v6 manual black host applies when gen 1 has no white host",
	  .f = { .family = AF_INET6, .src = SYNC_WHITE6, .flags = TF_SYN },
	  .want = WANT_DROP(ME_R_BLACK_HOST, ME_SRC_MANUAL), .gen = 1 },
	{ .desc = "v6 sync white subnet, gen 0",
	  .f = { .family = AF_INET6, .src = SYNC_WNET6, .flags = TF_SYN },
	  .want = WANT_PASS(ME_R_WHITE_NET, SRC_SYNC0) },
	{ .desc = "v6 sync white subnet is gone under gen 1 (empty slot)",
	  .f = { .family = AF_INET6, .src = SYNC_WNET6, .flags = TF_SYN },
	  .want = WANT_CLEAN, .gen = 1 },
};

/* VLAN tags: up to two are parsed, a third makes the frame non-IP. */
static const struct row rows_vlan[] = {
	{ .desc = "v4 black host via 1 VLAN tag (0x8100)",
	  .f = { .family = AF_INET, .src = BLACK_DROP4, .flags = TF_SYN, .vlans = 1 },
	  .want = WANT_DROP(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v4 clean via 1 VLAN tag (0x8100)",
	  .f = { .family = AF_INET, .src = CLEAN4, .flags = TF_SYN, .vlans = 1 },
	  .want = WANT_CLEAN },
	{ .desc = "v4 black subnet via 1 VLAN tag (0x88a8)",
	  .f = { .family = AF_INET, .src = BNET4, .flags = TF_SYN, .vlans = 1,
		 .vlan_proto = { 0x88a8 } },
	  .want = WANT_DROP(ME_R_BLACK_NET, ME_SRC_MANUAL) },
	{ .desc = "v4 black host via 2 VLAN tags",
	  .f = { .family = AF_INET, .src = BLACK_DROP4, .flags = TF_SYN, .vlans = 2,
		 .vlan_proto = { 0x88a8, 0x8100 } },
	  .want = WANT_DROP(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v4 clean via 2 VLAN tags",
	  .f = { .family = AF_INET, .src = CLEAN4, .flags = TF_SYN, .vlans = 2,
		 .vlan_proto = { 0x88a8, 0x8100 } },
	  .want = WANT_CLEAN },
	{ .desc = "v4 white host via 2 VLAN tags (0x8100 twice)",
	  .f = { .family = AF_INET, .src = WHITE4, .flags = TF_SYN, .vlans = 2 },
	  .want = WANT_PASS(ME_R_WHITE_HOST, ME_SRC_MANUAL) },
	{ .desc = "v6 black host via 1 VLAN tag",
	  .f = { .family = AF_INET6, .src = BLACK_DROP6, .flags = TF_SYN, .vlans = 1 },
	  .want = WANT_DROP(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v6 black subnet via 2 VLAN tags",
	  .f = { .family = AF_INET6, .src = BNET6, .flags = TF_SYN, .vlans = 2,
		 .vlan_proto = { 0x88a8, 0x8100 } },
	  .want = WANT_DROP(ME_R_BLACK_NET, ME_SRC_MANUAL) },
	{ .desc = "v6 clean via 2 VLAN tags",
	  .f = { .family = AF_INET6, .src = CLEAN6, .flags = TF_SYN, .vlans = 2,
		 .vlan_proto = { 0x88a8, 0x8100 } },
	  .want = WANT_CLEAN },
	{ .desc = "v4 black host behind 3 VLAN tags is non-IP",
	  .f = { .family = AF_INET, .src = BLACK_DROP4, .flags = TF_SYN, .vlans = 3,
		 .vlan_proto = { 0x88a8, 0x8100, 0x8100 } },
	  .want = WANT_NONIP },
	{ .desc = "v6 clean behind 3 VLAN tags is non-IP",
	  .f = { .family = AF_INET6, .src = CLEAN6, .flags = TF_SYN, .vlans = 3 },
	  .want = WANT_NONIP },
};

/* IPv4 options and fragments, IPv6 extension headers and fragments. */
static const struct row rows_frag[] = {
	/* ---- IPv4 options and fragments ---- */
	{ .desc = "v4 clean with 4 bytes of IP options",
	  .f = { .family = AF_INET, .src = CLEAN4, .flags = TF_SYN, .ip_opts = 4 },
	  .want = WANT_CLEAN },
	{ .desc = "v4 clean with 40 bytes of IP options",
	  .f = { .family = AF_INET, .src = CLEAN4, .flags = TF_SYN, .ip_opts = 40 },
	  .want = WANT_CLEAN },
	{ .desc = "v4 black host with IP options",
	  .f = { .family = AF_INET, .src = BLACK_DROP4, .flags = TF_SYN, .ip_opts = 12 },
	  .want = WANT_DROP(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v4 first fragment (MF) from a clean source",
	  .f = { .family = AF_INET, .src = CLEAN4, .flags = TF_SYN, .more_frags = 1,
		 .payload = 64 },
	  .want = WANT_CLEAN },
	{ .desc = "v4 non-first fragment from a black host",
	  .f = { .family = AF_INET, .src = BLACK_DROP4, .frag_offset = 185, .payload = 64 },
	  .want = WANT_DROP(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v4 non-first fragment from a black subnet",
	  .f = { .family = AF_INET, .src = BNET4, .frag_offset = 185, .more_frags = 1 },
	  .want = WANT_DROP(ME_R_BLACK_NET, ME_SRC_MANUAL) },
	{ .desc = "v4 non-first fragment from a clean source",
	  .f = { .family = AF_INET, .src = CLEAN4, .frag_offset = 185, .payload = 64 },
	  .want = WANT_CLEAN },
	{ .desc = "v4 non-first fragment with 8 bytes of L4 from a clean source",
	  .f = { .family = AF_INET, .src = CLEAN4, .frag_offset = 1, .mangle = MANGLE_L4_LEN,
		 .arg = 8 },
	  .want = WANT_CLEAN },
	{ .desc = "v4 non-first fragment (SYN bits inside) from a reset-listed source",
	  .f = { .family = AF_INET, .src = BLACK_RESET4, .flags = TF_SYN, .frag_offset = 3 },
	  .want = WANT_DROP(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v4 tiny first fragment (8 bytes of TCP) is malformed",
	  .f = { .family = AF_INET, .src = CLEAN4, .flags = TF_SYN, .more_frags = 1,
		 .mangle = MANGLE_L4_LEN, .arg = 8 },
	  .want = WANT_MALFORMED },

	/* ---- IPv6 extension headers and fragments ---- */
	{ .desc = "v6 clean with 1 destination-options header",
	  .f = { .family = AF_INET6, .src = CLEAN6, .flags = TF_SYN, .v6_ext = 1 },
	  .want = WANT_CLEAN },
	{ .desc = "v6 clean with 2 destination-options headers",
	  .f = { .family = AF_INET6, .src = CLEAN6, .flags = TF_SYN, .v6_ext = 2 },
	  .want = WANT_CLEAN },
	{ .desc = "v6 clean with 3 destination-options headers",
	  .f = { .family = AF_INET6, .src = CLEAN6, .flags = TF_SYN, .v6_ext = 3 },
	  .want = WANT_CLEAN },
	{ .desc = "v6 clean with 4 destination-options headers",
	  .f = { .family = AF_INET6, .src = CLEAN6, .flags = TF_SYN, .v6_ext = 4 },
	  .want = WANT_CLEAN },
	{ .desc = "v6 clean with 5 destination-options headers",
	  .f = { .family = AF_INET6, .src = CLEAN6, .flags = TF_SYN, .v6_ext = 5 },
	  .want = WANT_CLEAN },
	{ .desc = "v6 clean with 6 destination-options headers",
	  .f = { .family = AF_INET6, .src = CLEAN6, .flags = TF_SYN, .v6_ext = 6 },
	  .want = WANT_CLEAN },
	{ .desc = "v6 black host with 1 destination-options header",
	  .f = { .family = AF_INET6, .src = BLACK_DROP6, .flags = TF_SYN, .v6_ext = 1 },
	  .want = WANT_DROP(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v6 black host with 6 destination-options headers",
	  .f = { .family = AF_INET6, .src = BLACK_DROP6, .flags = TF_SYN, .v6_ext = 6 },
	  .want = WANT_DROP(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v6 clean behind a hop-by-hop header",
	  .f = { .family = AF_INET6, .src = CLEAN6, .flags = TF_SYN, .v6_ext = 1,
		 .mangle = MANGLE_V6_EXT_TYPE, .arg = 0 },
	  .want = WANT_CLEAN },
	{ .desc = "v6 clean behind a routing header and 2 dest-opts",
	  .f = { .family = AF_INET6, .src = CLEAN6, .flags = TF_SYN, .v6_ext = 3,
		 .mangle = MANGLE_V6_EXT_TYPE, .arg = 43 },
	  .want = WANT_CLEAN },
	{ .desc = "v6 clean behind AH",
	  .f = { .family = AF_INET6, .src = CLEAN6, .flags = TF_SYN, .v6_ext = 1,
		 .mangle = MANGLE_V6_EXT_TYPE, .arg = 51 },
	  .want = WANT_CLEAN },
	{ .desc = "v6 black host behind AH",
	  .f = { .family = AF_INET6, .src = BLACK_DROP6, .flags = TF_SYN, .v6_ext = 1,
		 .mangle = MANGLE_V6_EXT_TYPE, .arg = 51 },
	  .want = WANT_DROP(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v6 hop-by-hop + 6 dest-opts (7 headers) is malformed",
	  .f = { .family = AF_INET6, .src = CLEAN6, .flags = TF_SYN, .v6_ext = 7,
		 .mangle = MANGLE_V6_EXT_TYPE, .arg = 0 },
	  .want = WANT_MALFORMED },
	{ .desc = "v6 clean with next header 59 (no next header)",
	  .f = { .family = AF_INET6, .src = CLEAN6, .l4 = 59 },
	  .want = WANT_CLEAN },
	{ .desc = "v6 with 7 destination-options headers is malformed",
	  .f = { .family = AF_INET6, .src = CLEAN6, .flags = TF_SYN, .v6_ext = 7 },
	  .want = WANT_MALFORMED },
	{ .desc = "v6 black host with 7 extension headers is malformed",
	  .f = { .family = AF_INET6, .src = BLACK_DROP6, .flags = TF_SYN, .v6_ext = 7 },
	  .want = WANT_MALFORMED },
	{ .desc = "v6 with 6 destination-options + fragment header is malformed",
	  .f = { .family = AF_INET6, .src = CLEAN6, .flags = TF_SYN, .v6_ext = 6,
		 .v6_frag = 1 },
	  .want = WANT_MALFORMED },
	{ .desc = "v6 with 5 destination-options + fragment header (first)",
	  .f = { .family = AF_INET6, .src = CLEAN6, .flags = TF_SYN, .v6_ext = 5,
		 .v6_frag = 1, .more_frags = 1 },
	  .want = WANT_CLEAN },
	{ .desc = "v6 fragment header, first fragment, clean",
	  .f = { .family = AF_INET6, .src = CLEAN6, .flags = TF_SYN, .v6_frag = 1,
		 .more_frags = 1, .payload = 64 },
	  .want = WANT_CLEAN },
	{ .desc = "v6 fragment header, first fragment, black host",
	  .f = { .family = AF_INET6, .src = BLACK_DROP6, .flags = TF_SYN, .v6_frag = 1,
		 .more_frags = 1 },
	  .want = WANT_DROP(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v6 fragment header, later fragment, clean",
	  .f = { .family = AF_INET6, .src = CLEAN6, .v6_frag = 1, .frag_offset = 185,
		 .payload = 64 },
	  .want = WANT_CLEAN },
	{ .desc = "v6 fragment header, later fragment, black host",
	  .f = { .family = AF_INET6, .src = BLACK_DROP6, .v6_frag = 1, .frag_offset = 185 },
	  .want = WANT_DROP(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v6 fragment header, later fragment, black subnet",
	  .f = { .family = AF_INET6, .src = BNET6, .v6_frag = 1, .frag_offset = 185,
		 .more_frags = 1 },
	  .want = WANT_DROP(ME_R_BLACK_NET, ME_SRC_MANUAL) },
	{ .desc = "v6 2 dest-opts + later fragment, clean",
	  .f = { .family = AF_INET6, .src = CLEAN6, .v6_ext = 2, .v6_frag = 1,
		 .frag_offset = 185 },
	  .want = WANT_CLEAN },
	{ .desc = "v6 later fragment (SYN bits inside) from a reset-listed source",
	  .f = { .family = AF_INET6, .src = BLACK_RESET6, .flags = TF_SYN, .v6_frag = 1,
		 .frag_offset = 3 },
	  .want = WANT_DROP(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v6 tiny first fragment (8 bytes of TCP) is malformed",
	  .f = { .family = AF_INET6, .src = CLEAN6, .flags = TF_SYN, .v6_frag = 1,
		 .more_frags = 1, .mangle = MANGLE_L4_LEN, .arg = 8 },
	  .want = WANT_MALFORMED },
};

/* Frames cut at every header boundary and in the middle of each header. */
static const struct row rows_truncated[] = {
	/* ---- Ethernet and VLAN ---- */
	/* The kernel runs no XDP program on less than ETH_HLEN (14) bytes: the
	 * program's own "too short for Ethernet" check cannot be reached by
	 * BPF_PROG_RUN, so the row asserts the refusal instead. */
	{ .desc = "13-byte frame (kernel refuses: < ETH_HLEN)",
	  .f = { .family = AF_INET, .src = CLEAN4, .flags = TF_SYN, .cut_from = CUT_FROM_START,
		 .cut_len = 13 },
	  .refused = 1 },
	{ .desc = "v4 cut after the Ethernet header",
	  .f = { .family = AF_INET, .src = CLEAN4, .flags = TF_SYN, .cut_from = CUT_FROM_START,
		 .cut_len = 14 },
	  .want = WANT_MALFORMED },
	{ .desc = "v6 cut after the Ethernet header",
	  .f = { .family = AF_INET6, .src = CLEAN6, .flags = TF_SYN, .cut_from = CUT_FROM_START,
		 .cut_len = 14 },
	  .want = WANT_MALFORMED },
	{ .desc = "ARP cut after the Ethernet header",
	  .f = { .family = 0, .cut_from = CUT_FROM_START, .cut_len = 14 },
	  .want = WANT_NONIP },
	{ .desc = "v4 cut after the Ethernet header, before the VLAN tag",
	  .f = { .family = AF_INET, .src = CLEAN4, .flags = TF_SYN, .vlans = 1,
		 .cut_from = CUT_FROM_START, .cut_len = 14 },
	  .want = WANT_MALFORMED },
	{ .desc = "v4 cut mid VLAN tag",
	  .f = { .family = AF_INET, .src = CLEAN4, .flags = TF_SYN, .vlans = 1,
		 .cut_from = CUT_FROM_START, .cut_len = 16 },
	  .want = WANT_MALFORMED },
	{ .desc = "v4 cut after the VLAN tag",
	  .f = { .family = AF_INET, .src = CLEAN4, .flags = TF_SYN, .vlans = 1,
		 .cut_from = CUT_FROM_START, .cut_len = 18 },
	  .want = WANT_MALFORMED },
	{ .desc = "v4 cut mid second VLAN tag",
	  .f = { .family = AF_INET, .src = CLEAN4, .flags = TF_SYN, .vlans = 2,
		 .cut_from = CUT_FROM_START, .cut_len = 20 },
	  .want = WANT_MALFORMED },
	{ .desc = "v4 black host cut after the second VLAN tag",
	  .f = { .family = AF_INET, .src = BLACK_DROP4, .flags = TF_SYN, .vlans = 2,
		 .cut_from = CUT_FROM_START, .cut_len = 22 },
	  .want = WANT_MALFORMED },
	{ .desc = "ARP via 1 VLAN tag cut mid tag",
	  .f = { .family = 0, .vlans = 1, .cut_from = CUT_FROM_START, .cut_len = 15 },
	  .want = WANT_MALFORMED },

	/* ---- IPv4 ---- */
	{ .desc = "v4 cut 1 byte into the IP header",
	  .f = { .family = AF_INET, .src = CLEAN4, .flags = TF_SYN, .cut_from = CUT_FROM_L3,
		 .cut_len = 1 },
	  .want = WANT_MALFORMED },
	{ .desc = "v4 cut mid IP header (10 bytes)",
	  .f = { .family = AF_INET, .src = CLEAN4, .flags = TF_SYN, .cut_from = CUT_FROM_L3,
		 .cut_len = 10 },
	  .want = WANT_MALFORMED },
	{ .desc = "v4 cut 1 byte short of the IP header",
	  .f = { .family = AF_INET, .src = CLEAN4, .flags = TF_SYN, .cut_from = CUT_FROM_L3,
		 .cut_len = 19 },
	  .want = WANT_MALFORMED },
	{ .desc = "v4 black host cut mid IP header (16 bytes: no source address)",
	  .f = { .family = AF_INET, .src = BLACK_DROP4, .flags = TF_SYN,
		 .cut_from = CUT_FROM_L3, .cut_len = 16 },
	  .want = WANT_MALFORMED },
	{ .desc = "v4 with options cut after the fixed IP header",
	  .f = { .family = AF_INET, .src = CLEAN4, .flags = TF_SYN, .ip_opts = 8,
		 .cut_from = CUT_FROM_L3, .cut_len = 20 },
	  .want = WANT_MALFORMED },
	{ .desc = "v4 with options cut mid options",
	  .f = { .family = AF_INET, .src = CLEAN4, .flags = TF_SYN, .ip_opts = 8,
		 .cut_from = CUT_FROM_L3, .cut_len = 24 },
	  .want = WANT_MALFORMED },
	{ .desc = "v4 with options cut after the options",
	  .f = { .family = AF_INET, .src = CLEAN4, .flags = TF_SYN, .ip_opts = 8,
		 .cut_from = CUT_FROM_L4, .cut_len = 0 },
	  .want = WANT_MALFORMED },
	{ .desc = "v4 cut after the IP header",
	  .f = { .family = AF_INET, .src = CLEAN4, .flags = TF_SYN, .cut_from = CUT_FROM_L4,
		 .cut_len = 0 },
	  .want = WANT_MALFORMED },
	{ .desc = "v4 cut mid TCP header",
	  .f = { .family = AF_INET, .src = CLEAN4, .flags = TF_SYN, .cut_from = CUT_FROM_L4,
		 .cut_len = 10 },
	  .want = WANT_MALFORMED },
	{ .desc = "v4 cut 1 byte short of the TCP header",
	  .f = { .family = AF_INET, .src = CLEAN4, .flags = TF_SYN, .cut_from = CUT_FROM_L4,
		 .cut_len = 19 },
	  .want = WANT_MALFORMED },
	{ .desc = "v4 cut mid TCP options",
	  .f = { .family = AF_INET, .src = CLEAN4, .flags = TF_SYN, .tcp_opts = 12,
		 .cut_from = CUT_FROM_L4, .cut_len = 24 },
	  .want = WANT_MALFORMED },
	{ .desc = "v4 cut mid payload",
	  .f = { .family = AF_INET, .src = CLEAN4, .flags = TF_ACK, .payload = 40,
		 .cut_from = CUT_FROM_L4, .cut_len = 30 },
	  .want = WANT_MALFORMED },
	{ .desc = "v4 UDP cut mid UDP header",
	  .f = { .family = AF_INET, .src = CLEAN4, .l4 = IPPROTO_UDP, .cut_from = CUT_FROM_L4,
		 .cut_len = 4 },
	  .want = WANT_MALFORMED },
	{ .desc = "v4 via 1 VLAN tag cut mid IP header",
	  .f = { .family = AF_INET, .src = CLEAN4, .flags = TF_SYN, .vlans = 1,
		 .cut_from = CUT_FROM_L3, .cut_len = 12 },
	  .want = WANT_MALFORMED },
	{ .desc = "v4 via 2 VLAN tags cut mid TCP header",
	  .f = { .family = AF_INET, .src = CLEAN4, .flags = TF_SYN, .vlans = 2,
		 .cut_from = CUT_FROM_L4, .cut_len = 12 },
	  .want = WANT_MALFORMED },

	/* ---- IPv6 ---- */
	{ .desc = "v6 cut 1 byte into the IP header",
	  .f = { .family = AF_INET6, .src = CLEAN6, .flags = TF_SYN, .cut_from = CUT_FROM_L3,
		 .cut_len = 1 },
	  .want = WANT_MALFORMED },
	{ .desc = "v6 cut mid IP header (20 bytes)",
	  .f = { .family = AF_INET6, .src = CLEAN6, .flags = TF_SYN, .cut_from = CUT_FROM_L3,
		 .cut_len = 20 },
	  .want = WANT_MALFORMED },
	{ .desc = "v6 cut 1 byte short of the IP header",
	  .f = { .family = AF_INET6, .src = CLEAN6, .flags = TF_SYN, .cut_from = CUT_FROM_L3,
		 .cut_len = 39 },
	  .want = WANT_MALFORMED },
	{ .desc = "v6 cut after the IP header, before an extension header",
	  .f = { .family = AF_INET6, .src = CLEAN6, .flags = TF_SYN, .v6_ext = 1,
		 .cut_from = CUT_FROM_L3, .cut_len = 40 },
	  .want = WANT_MALFORMED },
	{ .desc = "v6 cut mid extension header",
	  .f = { .family = AF_INET6, .src = CLEAN6, .flags = TF_SYN, .v6_ext = 1,
		 .cut_from = CUT_FROM_L3, .cut_len = 44 },
	  .want = WANT_MALFORMED },
	{ .desc = "v6 cut 1 byte into an extension header",
	  .f = { .family = AF_INET6, .src = CLEAN6, .flags = TF_SYN, .v6_ext = 2,
		 .cut_from = CUT_FROM_L3, .cut_len = 49 },
	  .want = WANT_MALFORMED },
	{ .desc = "v6 cut after the extension headers",
	  .f = { .family = AF_INET6, .src = CLEAN6, .flags = TF_SYN, .v6_ext = 2,
		 .cut_from = CUT_FROM_L4, .cut_len = 0 },
	  .want = WANT_MALFORMED },
	{ .desc = "v6 cut mid fragment header",
	  .f = { .family = AF_INET6, .src = CLEAN6, .flags = TF_SYN, .v6_frag = 1,
		 .cut_from = CUT_FROM_L3, .cut_len = 44 },
	  .want = WANT_MALFORMED },
	{ .desc = "v6 cut after the IP header",
	  .f = { .family = AF_INET6, .src = CLEAN6, .flags = TF_SYN, .cut_from = CUT_FROM_L4,
		 .cut_len = 0 },
	  .want = WANT_MALFORMED },
	{ .desc = "v6 cut mid TCP header",
	  .f = { .family = AF_INET6, .src = CLEAN6, .flags = TF_SYN, .cut_from = CUT_FROM_L4,
		 .cut_len = 10 },
	  .want = WANT_MALFORMED },
	{ .desc = "v6 black host cut 1 byte short of the TCP header",
	  .f = { .family = AF_INET6, .src = BLACK_DROP6, .flags = TF_SYN,
		 .cut_from = CUT_FROM_L4, .cut_len = 19 },
	  .want = WANT_MALFORMED },
	{ .desc = "v6 via 1 VLAN tag cut mid IP header",
	  .f = { .family = AF_INET6, .src = CLEAN6, .flags = TF_SYN, .vlans = 1,
		 .cut_from = CUT_FROM_L3, .cut_len = 30 },
	  .want = WANT_MALFORMED },
};

/* Length and version fields that contradict the frame or each other. */
static const struct row rows_inconsistent[] = {
	{ .desc = "v4 tot_len 1 byte larger than the frame",
	  .f = { .family = AF_INET, .src = CLEAN4, .flags = TF_SYN, .mangle = MANGLE_IP_LEN,
		 .arg = 1 },
	  .want = WANT_MALFORMED },
	{ .desc = "v4 black host, tot_len larger than the frame",
	  .f = { .family = AF_INET, .src = BLACK_DROP4, .flags = TF_SYN,
		 .mangle = MANGLE_IP_LEN, .arg = 100 },
	  .want = WANT_MALFORMED },
	{ .desc = "v4 tot_len smaller than the frame (trailing padding is legal)",
	  .f = { .family = AF_INET, .src = CLEAN4, .flags = TF_ACK, .payload = 8,
		 .mangle = MANGLE_IP_LEN, .arg = -8 },
	  .want = WANT_CLEAN },
	{ .desc = "v4 tot_len ends inside the TCP header",
	  .f = { .family = AF_INET, .src = CLEAN4, .flags = TF_SYN, .mangle = MANGLE_IP_LEN,
		 .arg = -4 },
	  .want = WANT_MALFORMED },
	{ .desc = "v4 tot_len smaller than the IP header",
	  .f = { .family = AF_INET, .src = CLEAN4, .flags = TF_SYN, .mangle = MANGLE_IP_LEN,
		 .arg = -30 },
	  .want = WANT_MALFORMED },
	{ .desc = "v4 IHL 4",
	  .f = { .family = AF_INET, .src = CLEAN4, .flags = TF_SYN, .mangle = MANGLE_IHL,
		 .arg = 4 },
	  .want = WANT_MALFORMED },
	{ .desc = "v4 IHL larger than tot_len",
	  .f = { .family = AF_INET, .src = CLEAN4, .flags = TF_SYN, .mangle = MANGLE_IHL,
		 .arg = 15 },
	  .want = WANT_MALFORMED },
	{ .desc = "v4 ethertype with IP version 6",
	  .f = { .family = AF_INET, .src = CLEAN4, .flags = TF_SYN,
		 .mangle = MANGLE_IP_VERSION, .arg = 6 },
	  .want = WANT_MALFORMED },
	{ .desc = "v4 TCP doff 4",
	  .f = { .family = AF_INET, .src = CLEAN4, .flags = TF_SYN, .mangle = MANGLE_TCP_DOFF,
		 .arg = 4 },
	  .want = WANT_MALFORMED },
	{ .desc = "v4 TCP doff 0",
	  .f = { .family = AF_INET, .src = CLEAN4, .flags = TF_SYN, .mangle = MANGLE_TCP_DOFF,
		 .arg = 0 },
	  .want = WANT_MALFORMED },
	{ .desc = "v4 black host with TCP doff 4 (malformed before lists)",
	  .f = { .family = AF_INET, .src = BLACK_DROP4, .flags = TF_SYN,
		 .mangle = MANGLE_TCP_DOFF, .arg = 4 },
	  .want = WANT_MALFORMED },
	{ .desc = "v4 TCP doff past the end of the segment",
	  .f = { .family = AF_INET, .src = CLEAN4, .flags = TF_SYN, .payload = 8,
		 .mangle = MANGLE_TCP_DOFF, .arg = 15 },
	  .want = WANT_MALFORMED },
	{ .desc = "v6 payload_len 1 byte larger than the frame",
	  .f = { .family = AF_INET6, .src = CLEAN6, .flags = TF_SYN, .mangle = MANGLE_IP_LEN,
		 .arg = 1 },
	  .want = WANT_MALFORMED },
	{ .desc = "v6 payload_len smaller than the frame (trailing padding)",
	  .f = { .family = AF_INET6, .src = CLEAN6, .flags = TF_ACK, .payload = 8,
		 .mangle = MANGLE_IP_LEN, .arg = -8 },
	  .want = WANT_CLEAN },
	{ .desc = "v6 payload_len ends inside the extension headers",
	  .f = { .family = AF_INET6, .src = CLEAN6, .flags = TF_SYN, .v6_ext = 2,
		 .mangle = MANGLE_L4_LEN, .arg = -4 },
	  .want = WANT_MALFORMED },
	{ .desc = "v6 ethertype with IP version 4",
	  .f = { .family = AF_INET6, .src = CLEAN6, .flags = TF_SYN,
		 .mangle = MANGLE_IP_VERSION, .arg = 4 },
	  .want = WANT_MALFORMED },
	{ .desc = "v6 TCP doff 4",
	  .f = { .family = AF_INET6, .src = CLEAN6, .flags = TF_SYN, .mangle = MANGLE_TCP_DOFF,
		 .arg = 4 },
	  .want = WANT_MALFORMED },
	{ .desc = "v6 TCP doff past the end of the segment",
	  .f = { .family = AF_INET6, .src = CLEAN6, .flags = TF_SYN, .mangle = MANGLE_TCP_DOFF,
		 .arg = 8 },
	  .want = WANT_MALFORMED },
};

/*
 * Action reset, as RFC 9293 3.10.7.1 answers a segment for a CLOSED port (the
 * reply is checked field by field): a TCP segment without ACK gets
 * <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, one with ACK gets
 * <SEQ=SEG.ACK><CTL=RST>; a segment with RST set, a later fragment and anything
 * not TCP are dropped unanswered.
 */
static const struct row rows_reset[] = {
	{ .desc = "v4 reset host, bare SYN",
	  .f = { .family = AF_INET, .src = BLACK_RESET4, .flags = TF_SYN, .seq = 1000 },
	  .want = WANT_RESET(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v4 reset host, SYN with TCP options and payload",
	  .f = { .family = AF_INET, .src = BLACK_RESET4, .flags = TF_SYN, .seq = 0x12345678,
		 .sport = 51515, .tcp_opts = OPTS, .payload = DATA },
	  .want = WANT_RESET(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v4 reset host, SYN|FIN with payload (ACK counts both)",
	  .f = { .family = AF_INET, .src = BLACK_RESET4, .flags = TF_SYN | TF_FIN, .seq = 77,
		 .payload = 5 },
	  .want = WANT_RESET(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v4 reset host, SYN with seq 0xffffffff (ACK wraps)",
	  .f = { .family = AF_INET, .src = BLACK_RESET4, .flags = TF_SYN, .seq = 0xffffffff },
	  .want = WANT_RESET(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v4 reset host, SYN with IP options",
	  .f = { .family = AF_INET, .src = BLACK_RESET4, .flags = TF_SYN, .seq = 4242,
		 .ip_opts = 12, .tcp_opts = 8 },
	  .want = WANT_RESET(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v4 reset host, SYN padded to 60 bytes (padding is not payload)",
	  .f = { .family = AF_INET, .src = BLACK_RESET4, .flags = TF_SYN, .seq = 9,
		 .mangle = MANGLE_PAD, .arg = 60 },
	  .want = WANT_RESET(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v4 reset host, SYN via 1 VLAN tag",
	  .f = { .family = AF_INET, .src = BLACK_RESET4, .flags = TF_SYN, .seq = 31337,
		 .vlans = 1, .tcp_opts = OPTS },
	  .want = WANT_RESET(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v4 reset host, SYN via 2 VLAN tags with IP options and payload",
	  .f = { .family = AF_INET, .src = BLACK_RESET4, .flags = TF_SYN, .seq = 123,
		 .vlans = 2, .vlan_proto = { 0x88a8, 0x8100 }, .ip_opts = 4, .payload = 3 },
	  .want = WANT_RESET(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v4 reset host, SYN to another address and port",
	  .f = { .family = AF_INET, .src = BLACK_RESET4, .dst = "192.0.2.2", .flags = TF_SYN,
		 .seq = 1, .sport = 1025, .dport = 587 },
	  .want = WANT_RESET(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v4 reset subnet, SYN",
	  .f = { .family = AF_INET, .src = RNET4, .flags = TF_SYN, .seq = 555,
		 .tcp_opts = OPTS },
	  .want = WANT_RESET(ME_R_BLACK_NET, ME_SRC_MANUAL) },
	{ .desc = "v4 reset host, ACK with data gets RST with SEQ=their ACK",
	  .f = { .family = AF_INET, .src = BLACK_RESET4, .flags = TF_ACK | TF_PSH, .seq = 500,
		 .payload = 10 },
	  .want = WANT_RESET(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v4 reset host, bare ACK gets RST with SEQ=their ACK",
	  .f = { .family = AF_INET, .src = BLACK_RESET4, .flags = TF_ACK, .seq = 3 },
	  .want = WANT_RESET(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v4 reset host, SYN|ACK gets RST with SEQ=their ACK",
	  .f = { .family = AF_INET, .src = BLACK_RESET4, .flags = TF_SYN | TF_ACK, .seq = 8 },
	  .want = WANT_RESET(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v4 reset host, FIN|ACK gets RST with SEQ=their ACK",
	  .f = { .family = AF_INET, .src = BLACK_RESET4, .flags = TF_FIN | TF_ACK, .seq = 70 },
	  .want = WANT_RESET(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v4 reset host, bare FIN gets RST|ACK (ACK = SEQ + 1)",
	  .f = { .family = AF_INET, .src = BLACK_RESET4, .flags = TF_FIN, .seq = 700 },
	  .want = WANT_RESET(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v4 reset host, data without SYN or ACK gets RST|ACK (ACK = SEQ + data)",
	  .f = { .family = AF_INET, .src = BLACK_RESET4, .flags = TF_PSH, .seq = 0xfffffff0,
		 .payload = 40 },
	  .want = WANT_RESET(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v4 reset host, segment with no flags gets RST|ACK (ACK = SEQ)",
	  .f = { .family = AF_INET, .src = BLACK_RESET4, .flags = 0, .seq = 12345 },
	  .want = WANT_RESET(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v4 reset host, RST is dropped, not answered",
	  .f = { .family = AF_INET, .src = BLACK_RESET4, .flags = TF_RST },
	  .want = WANT_DROP(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v4 reset host, RST|ACK is dropped, not answered",
	  .f = { .family = AF_INET, .src = BLACK_RESET4, .flags = TF_RST | TF_ACK, .seq = 1 },
	  .want = WANT_DROP(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v4 reset host, SYN|RST is dropped, not answered",
	  .f = { .family = AF_INET, .src = BLACK_RESET4, .flags = TF_SYN | TF_RST, .seq = 1 },
	  .want = WANT_DROP(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v4 reset host, RST with data is dropped, not answered",
	  .f = { .family = AF_INET, .src = BLACK_RESET4, .flags = TF_RST | TF_PSH, .payload = 20 },
	  .want = WANT_DROP(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v4 reset host, UDP is dropped",
	  .f = { .family = AF_INET, .src = BLACK_RESET4, .l4 = IPPROTO_UDP, .dport = 53 },
	  .want = WANT_DROP(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v4 reset subnet, ICMP is dropped",
	  .f = { .family = AF_INET, .src = RNET4, .l4 = IPPROTO_ICMP },
	  .want = WANT_DROP(ME_R_BLACK_NET, ME_SRC_MANUAL) },
	{ .desc = "v4 reset subnet, ACK gets RST with SEQ=their ACK",
	  .f = { .family = AF_INET, .src = RNET4, .flags = TF_ACK, .seq = 9, .tcp_opts = 12 },
	  .want = WANT_RESET(ME_R_BLACK_NET, ME_SRC_MANUAL) },
	{ .desc = "v4 reset subnet, SYN|RST is dropped, not answered",
	  .f = { .family = AF_INET, .src = RNET4, .flags = TF_SYN | TF_RST },
	  .want = WANT_DROP(ME_R_BLACK_NET, ME_SRC_MANUAL) },
	{ .desc = "v6 reset host, bare SYN",
	  .f = { .family = AF_INET6, .src = BLACK_RESET6, .flags = TF_SYN, .seq = 1000 },
	  .want = WANT_RESET(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v6 reset host, SYN with TCP options and payload",
	  .f = { .family = AF_INET6, .src = BLACK_RESET6, .flags = TF_SYN, .seq = 0xdeadbeef,
		 .sport = 60000, .tcp_opts = OPTS, .payload = DATA },
	  .want = WANT_RESET(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v6 reset host, SYN|FIN",
	  .f = { .family = AF_INET6, .src = BLACK_RESET6, .flags = TF_SYN | TF_FIN, .seq = 5 },
	  .want = WANT_RESET(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v6 reset host, SYN with 3 extension headers and payload",
	  .f = { .family = AF_INET6, .src = BLACK_RESET6, .flags = TF_SYN, .seq = 99,
		 .v6_ext = 3, .tcp_opts = 12, .payload = 7 },
	  .want = WANT_RESET(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v6 reset host, SYN behind hop-by-hop + 2 dest-opts",
	  .f = { .family = AF_INET6, .src = BLACK_RESET6, .flags = TF_SYN, .seq = 2024,
		 .v6_ext = 3, .mangle = MANGLE_V6_EXT_TYPE, .arg = 0, .payload = 2 },
	  .want = WANT_RESET(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v6 reset host, SYN behind AH",
	  .f = { .family = AF_INET6, .src = BLACK_RESET6, .flags = TF_SYN, .seq = 51,
		 .v6_ext = 1, .mangle = MANGLE_V6_EXT_TYPE, .arg = 51 },
	  .want = WANT_RESET(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v6 reset host, SYN in a first fragment",
	  .f = { .family = AF_INET6, .src = BLACK_RESET6, .flags = TF_SYN, .seq = 4,
		 .v6_frag = 1, .more_frags = 1, .payload = 16 },
	  .want = WANT_RESET(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v6 reset host, SYN via 1 VLAN tag",
	  .f = { .family = AF_INET6, .src = BLACK_RESET6, .flags = TF_SYN, .seq = 65536,
		 .vlans = 1, .vlan_proto = { 0x88a8 }, .tcp_opts = OPTS },
	  .want = WANT_RESET(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v6 reset host, SYN via 2 VLAN tags with extension headers",
	  .f = { .family = AF_INET6, .src = BLACK_RESET6, .flags = TF_SYN, .seq = 8,
		 .vlans = 2, .v6_ext = 2, .payload = 1 },
	  .want = WANT_RESET(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v6 reset subnet, SYN",
	  .f = { .family = AF_INET6, .src = RNET6, .flags = TF_SYN, .seq = 555, .dport = 465 },
	  .want = WANT_RESET(ME_R_BLACK_NET, ME_SRC_MANUAL) },
	{ .desc = "v6 reset host, ACK with data gets RST with SEQ=their ACK",
	  .f = { .family = AF_INET6, .src = BLACK_RESET6, .flags = TF_ACK | TF_PSH, .seq = 500,
		 .payload = 10 },
	  .want = WANT_RESET(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v6 reset host, SYN|ACK behind extension headers gets RST with SEQ=their ACK",
	  .f = { .family = AF_INET6, .src = BLACK_RESET6, .flags = TF_SYN | TF_ACK, .seq = 8,
		 .v6_ext = 2 },
	  .want = WANT_RESET(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v6 reset host, FIN with data gets RST|ACK (ACK = SEQ + 1 + data)",
	  .f = { .family = AF_INET6, .src = BLACK_RESET6, .flags = TF_FIN, .seq = 0xffffffff,
		 .payload = 6 },
	  .want = WANT_RESET(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v6 reset host, RST is dropped, not answered",
	  .f = { .family = AF_INET6, .src = BLACK_RESET6, .flags = TF_RST },
	  .want = WANT_DROP(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v6 reset host, RST|ACK is dropped, not answered",
	  .f = { .family = AF_INET6, .src = BLACK_RESET6, .flags = TF_RST | TF_ACK, .seq = 1 },
	  .want = WANT_DROP(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v6 reset host, SYN|RST via a VLAN tag is dropped, not answered",
	  .f = { .family = AF_INET6, .src = BLACK_RESET6, .flags = TF_SYN | TF_RST, .vlans = 1 },
	  .want = WANT_DROP(ME_R_BLACK_HOST, ME_SRC_MANUAL) },
	{ .desc = "v6 reset subnet, SYN|RST is dropped, not answered",
	  .f = { .family = AF_INET6, .src = RNET6, .flags = TF_SYN | TF_RST },
	  .want = WANT_DROP(ME_R_BLACK_NET, ME_SRC_MANUAL) },
	{ .desc = "v6 reset subnet, UDP is dropped",
	  .f = { .family = AF_INET6, .src = RNET6, .l4 = IPPROTO_UDP, .dport = 53 },
	  .want = WANT_DROP(ME_R_BLACK_NET, ME_SRC_MANUAL) },
};

// clang-format on

#endif /* ME_TEST_BPF_TABLE_ROWS_H */
