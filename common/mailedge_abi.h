/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mailedge_abi.h - the one definition of what the XDP program and userspace share.
 *
 * Everything here is ABI: the maps are pinned under the pin directory and outlive
 * every program that created them, so a layout change here means the maps must be
 * recreated (mailedge-loader destroy; attach). Keep keys and values small: the host
 * maps are sized for millions of entries and every byte is multiplied by that.
 *
 * Map layout (per address family, "4" and "6"):
 *
 *   white_host*  HASH      addr           -> me_entry   admin's whitelisted hosts
 *   white_net*   LPM_TRIE  prefix         -> me_entry   admin's whitelisted subnets
 *   black_host*  HASH      addr           -> me_entry   admin's blacklisted hosts
 *   black_net*   LPM_TRIE  prefix         -> me_entry   admin's blacklisted subnets
 *   sync_host*   ARRAY_OF_MAPS[4] of HASH              list-sync hosts, by slot
 *   sync_net*    ARRAY_OF_MAPS[4] of LPM_TRIE          list-sync subnets, by slot
 *
 * Manual entries (mailedge-loader) and list-sync entries live in different maps so
 * that neither writer can clobber the other. The sync maps are swapped as a whole:
 * list sync builds fresh inner maps into the slots of the inactive generation, then
 * flips me_config.sync_gen, then empties the old slots. A packet reads the generation
 * once and takes all four of its family's inner maps from that generation, so it is
 * judged entirely against the old union or entirely against the new one.
 */
#ifndef MAILEDGE_ABI_H
#define MAILEDGE_ABI_H

#include <linux/types.h>

#define ME_PIN_DIR_DEFAULT "/sys/fs/bpf/mailedge"

/* The version of everything in this file, as pinned maps hold it. A pin
 * directory carries it in a one-element array pinned as "abi" (written once,
 * then frozen); a program that finds another number refuses the maps instead
 * of misreading them. Bump it with any change to a map's key, value, type or
 * meaning, or to the pin names. Version 1 had no marker; version 2 pins links
 * per network namespace (link_<netns>_<ifindex>). */
#define ME_ABI_VERSION 2
#define ME_ABI_PIN     "abi"

/* Default capacities. Entries of host and subnet maps are allocated on demand
 * (BPF_F_NO_PREALLOC; an LPM trie always is), but a hash map's bucket array is
 * not: 16 bytes per power-of-two bucket at creation, 134 MB for an 8M-entry map
 * even when empty. So only the blacklist host maps get the 8M default; whitelist
 * host maps get 65,536. The per-source state maps are LRU hashes, which the
 * kernel always preallocates, so their defaults are kept modest. */
#define ME_DEF_HOSTS	    8388608u /* 2^23: "8 million hosts" (A10 PBSLB) */
#define ME_DEF_WHITE_HOSTS  65536u   /* whitelists are short; see below */
#define ME_DEF_SUBNETS	    65536u   /* > 10,000; FireHOL level1 is ~4,500 */
#define ME_DEF_RATE_ENTRIES 262144u  /* ~21 MB preallocated */
#define ME_DEF_BAN_ENTRIES  65536u

/* Slots of a sync_* outer map: slot = gen * 2 + list. */
#define ME_SYNC_SLOTS		    4
#define ME_SYNC_SLOT(gen, list) ((gen) * 2 + (list))

enum me_list {
	ME_LIST_WHITE = 0,
	ME_LIST_BLACK = 1,
};

/* What an entry asks for. Whitelist entries may only pass or map to a group. */
enum me_action {
	ME_ACT_DROP = 0,  /* drop every packet from the source */
	ME_ACT_RESET = 1, /* answer a TCP SYN with RST|ACK, drop the rest */
	ME_ACT_PASS = 2,  /* listed, but let through (monitoring) */
	ME_ACT_GROUP = 3, /* let through; the proxy picks a backend pool by group */
	ME_ACT_MAX,
};

/* Where an entry came from ("src" of me_entry, index of list_hits). */
enum me_src {
	ME_SRC_MANUAL = 0,    /* mailedge-loader list add/import */
	ME_SRC_THRESHOLD = 1, /* temporary ban by the connection threshold */
	ME_SRC_PROXY = 2,     /* temporary ban written by mailedge-proxy */
	ME_SRC_SYNC_FIRST = 16, /* list-sync sources are numbered from here */
	ME_SRC_MAX = 256,
};

/* The value of every host and subnet entry. 8 bytes: at 8M entries it matters. */
struct me_entry {
	__u8 action;	/* enum me_action */
	__u8 src;	/* enum me_src, or a list-sync source id */
	__u16 group;	/* service group for ME_ACT_GROUP */
	__u32 expires;	/* CLOCK_BOOTTIME seconds; 0 = never. Expired = absent. */
};

/* The value of a subnet (LPM trie) entry: the entry and its own prefix length.
 * An LPM lookup does not say which prefix matched, and deleting an expired one
 * (so that it stops hiding a shorter live prefix) needs the exact length. Host
 * entries do without: at millions of entries, 4 more bytes are 8 more per entry
 * once the kernel rounds values up. */
struct me_net_entry {
	struct me_entry e;
	__u32 prefixlen;
};

/* IPv6 host key. Words, not bytes, so the XDP side copies four loads. */
struct me_addr6 {
	__u32 w[4];
};

/* LPM trie keys: prefixlen first, then the address in network byte order. */
struct me_lpm4 {
	__u32 prefixlen;
	__u32 addr;
};

struct me_lpm6 {
	__u32 prefixlen;
	__u32 w[4];
};

/* Key of the per-source threshold and ban maps: an IPv4 source is stored as an
 * IPv4-mapped IPv6 address (::ffff:a.b.c.d), masked to the counting prefix. */
struct me_src_key {
	__u32 w[4];
};

/* Runtime configuration: one element of the "config" array. Written by userspace
 * under the pin-directory lock, read by the XDP program on every packet. */
struct me_config {
	__u32 sync_gen;	     /* 0 or 1: generation of sync_* slots in use */
	__u32 thr_rate;	     /* new connections per second per source; 0 = off */
	__u32 thr_burst;     /* connections a quiet source may open at once (>= 1) */
	__u32 thr_ban_secs;  /* ban a source over the threshold this long; 0 = never */
	__u32 thr_v4_prefix; /* count IPv4 sources per /N (default 32) */
	__u32 thr_v6_prefix; /* count IPv6 sources per /N (default 64) */
};

/* Destination ports the connection threshold protects: a 65536-bit bitmap. */
struct me_ports {
	__u8 bits[65536 / 8];
};

#define ME_DEF_PORTS { 25, 465, 587 }

/* Why a packet got its verdict. Counters are kept per (reason, verdict). */
enum me_reason {
	ME_R_NONIP = 0,	  /* not IPv4/IPv6, or more VLAN tags than we parse */
	ME_R_MALFORMED,	  /* truncated or inconsistent headers */
	ME_R_WHITE_HOST,
	ME_R_WHITE_NET,
	ME_R_BLACK_HOST,
	ME_R_BLACK_NET,
	ME_R_BANNED,	  /* temporary ban by the threshold */
	ME_R_THRESHOLD,	  /* SYN over the per-source rate */
	ME_R_CLEAN,	  /* no list matched */
	ME_R_MAX,
};

enum me_verdict {
	ME_V_PASS = 0,
	ME_V_DROP = 1,
	ME_V_RESET = 2, /* XDP_TX of a RST|ACK */
	ME_V_MAX,
};

#define ME_STAT_KEY(reason, verdict) ((reason) * ME_V_MAX + (verdict))
#define ME_STAT_MAX		     (ME_R_MAX * ME_V_MAX)

/* Per-CPU counter pair, summed on read. */
struct me_counter {
	__u64 packets;
	__u64 bytes;
};

/* One list-sync source as the admin sees it ("sources" array, index = source
 * id). Written by mailedge-listsync after each run, read by mailedge-loader
 * status and list show; the XDP program never touches it. */
struct me_src_status {
	char name[32];
	char format[16];
	char url[128];	      /* truncated for display */
	__u8 in_use;	      /* configured in the last run */
	__u8 list;	      /* enum me_list */
	__u8 last_outcome;    /* enum me_sync_outcome */
	__u8 pad;
	__u32 failures;	      /* consecutive failed fetches */
	__u32 entries;	      /* entries in the data in use */
	__u32 stale_after;    /* seconds */
	__u64 last_ok;	      /* unix time of the last good fetch (or 304) */
	__u64 last_try;	      /* unix time of the last attempt */
	char last_error[160]; /* "" after a success */
};

enum me_sync_outcome {
	ME_SYNC_NONE = 0,
	ME_SYNC_FETCHED,
	ME_SYNC_NOT_MODIFIED,
	ME_SYNC_NOT_DUE,
	ME_SYNC_FAILED,
};

/* Events that are not verdicts (per-CPU __u64 each, in the "events" map). */
enum me_event {
	ME_EV_RATE_INSERT = 0, /* new source in "rates": evictions = inserts - live */
	ME_EV_BAN_INSERT,      /* sources banned by the threshold */
	ME_EV_SYNC_RETRY,      /* a list-sync swap raced with a packet; retried */
	ME_EV_RESET_FAILED,    /* could not build the RST (tail adjust); dropped */
	ME_EV_MAX,
};

#endif /* MAILEDGE_ABI_H */
