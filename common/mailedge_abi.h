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
 *   sync_host*   ARRAY_OF_MAPS[2] of ARRAY   list-sync hosts, one table per generation
 *   sync_net*    ARRAY_OF_MAPS[2] of ARRAY   list-sync subnets, one table per generation
 *   admin_used   ARRAY[8]  slot -> __u32    "may hold entries", one per admin map
 *
 * Manual entries (mailedge-loader) and list-sync entries live in different maps so
 * that neither writer can clobber the other. The admin's maps are the kernel's
 * hash maps and LPM tries: small, edited one entry at a time. List sync's are
 * tables it builds itself in mmap-able arrays (see "List-sync tables" below):
 * millions of hosts, written at memory speed, read by the program in one or two
 * cache lines. A packet reads me_config.sync_gen once and takes its family's host
 * and subnet tables from that generation's slots, so it is judged entirely by one
 * state of the synced lists.
 *
 * The admin's maps are usually empty, and a lookup in an empty hash map still
 * hashes the key and reads a bucket (a cold line of a bucket array that is
 * sized for the map's capacity, not its contents), so admin_used says which of
 * them may hold entries and the program skips the others: an array lookup the
 * verifier inlines instead of a kernel call and a cache miss. A slot is set to
 * 1 before an entry goes in (me_manual_apply) and cleared only by a writer that
 * found the map empty, which then looks again and sets it back if an entry
 * came in meanwhile (me_manual_settle). So a slot is 0 only while its map is
 * empty, and a stale 1 merely costs the lookup. The kernel's own deletions
 * (expired prefixes) only make maps emptier. The slots are separate elements,
 * not fields of me_config, which userspace rewrites whole: a read-modify-write
 * of it racing list sync's generation flip would undo the flip.
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
 * per network namespace (link_<netns>_<ifindex>); version 3 holds list sync's
 * entries in tables of its own instead of hash maps and LPM tries; version 4
 * adds admin_used, without which the program would skip every admin map;
 * version 5 fixes the IPv4 host table's size at load, hashes its keys another
 * way, and adds me_config.sync_white_nets. */
#define ME_ABI_VERSION 5
#define ME_ABI_PIN     "abi"

/* Default capacities. Entries of host and subnet maps are allocated on demand
 * (BPF_F_NO_PREALLOC; an LPM trie always is), but a hash map's bucket array is
 * not: 16 bytes per power-of-two bucket at creation, 134 MB for an 8M-entry map
 * even when empty, and a cold read of it for every packet. List sync's millions
 * live in its own tables, so the admin's host maps default to 65,536 (attach
 * --hosts raises them); me_config.sync_hosts carries list sync's own limit
 * (--hosts, default 8M). Its IPv4 host table is made at that size, 6.9 bytes
 * a host (58 MB at 8M), whatever the lists hold: size --hosts to them. The per-source state maps are
 * LRU hashes, which the kernel always preallocates, so their defaults are kept
 * modest. */
#define ME_DEF_HOSTS	    8388608u /* 2^23: "8 million hosts" (A10 PBSLB), list sync */
#define ME_DEF_ADMIN_HOSTS  65536u   /* the admin's blacklist host maps */
#define ME_DEF_WHITE_HOSTS  65536u   /* whitelists are short; see below */
#define ME_DEF_SUBNETS	    65536u   /* > 10,000; FireHOL level1 is ~4,500 */
#define ME_DEF_RATE_ENTRIES 262144u  /* ~21 MB preallocated */
#define ME_DEF_BAN_ENTRIES  65536u

/* The admin_used slot of an admin map: list (enum me_list), subnet or host,
 * IPv6 or IPv4. The same order as the maps' ids in userspace (edge.h). */
#define ME_ADMIN_SLOT(list, is_net, is_v6) ((list) * 4 + (is_net) * 2 + (is_v6))
#define ME_ADMIN_SLOTS 8

/* Slots of a sync_* outer map: one per generation (0 and 1). */
#define ME_SYNC_SLOTS 2

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

/*
 * List-sync tables.
 *
 * Each is one BPF_MAP_TYPE_ARRAY, created BPF_F_MMAPABLE (ME_TAB_FLAGS) by
 * list sync, which maps it into its memory and writes it there directly: no
 * syscall per entry, no per-entry kernel allocation. Element 0 is the header;
 * the next elements hold the value dictionary (the distinct list and entry pairs
 * of the table, at most ME_TAB_VALS), which slots name by index. Then:
 *
 * Host tables, one 64-byte bucket per element, one cache line each: a bucketed
 * cuckoo hash with two choices. A key lives in one of two buckets, both taken
 * from one 64-bit hash of key and seed; a lookup reads those two lines (loads
 * that do not depend on each other, so the CPU overlaps them) and no others.
 * The builder proves the bound by construction: an entry that finds no room
 * in its two buckets makes it pick a new seed or a larger table, never a
 * longer probe. An IPv4 bucket holds 12 keys, an IPv6 bucket 3.
 *
 * Subnet tables: a multibit trie painted with the answer for every address,
 * IPv4 with strides 24 then 8 (DIR-24-8), IPv6 with 16 then 8 a level. An entry
 * is 0 (nothing listed), a dictionary index + 1, or, with its top bit set, the
 * number of a chunk of 256 entries that resolves the next 8 bits. "Whitelist
 * wins" is painted in: black prefixes first, shortest first, then white ones
 * over them, so an address finds the longest white prefix covering it, else the
 * longest black one, as the verdict order asks. The prefixes themselves follow
 * the chunks, for userspace (list show, lookup); the program never reads them.
 *
 * Host slots carry one visibility bit per generation: a slot is live for the
 * packets of generation g when bit (g & 1) of its bucket's vis word is set. A
 * refresh writes only the bits of the generation not in use, flips
 * me_config.sync_gen, waits for the packets of the old one, then makes the bits
 * agree again: a table changes in place and still all at once.
 */
#define ME_TAB_MAGIC	 0x3254454du /* "MET2": ABI 5's IPv4 host hash */
/* Map flags of a table: the IPv4 host table's size is fixed (see
 * me_host4_elems in table.h), the others' are their own. */
#define ME_TAB_FLAGS	   (BPF_F_MMAPABLE | BPF_F_INNER_MAP)
#define ME_TAB_FLAGS_FIXED BPF_F_MMAPABLE
#define ME_TAB_VALS	 256
#define ME_TAB_VAL_BYTES (ME_TAB_VALS * 16)

enum me_tab_kind {
	ME_TAB_HOST4 = 1,
	ME_TAB_HOST6 = 2,
	ME_TAB_NET4 = 3,
	ME_TAB_NET6 = 4,
};

/* Element 0 of every table (the first 64 bytes of it). */
struct me_tab_hdr {
	__u32 magic;	  /* ME_TAB_MAGIC */
	__u32 kind;	  /* enum me_tab_kind */
	__u32 elem_size;  /* bytes per element */
	__u32 nelem;	  /* elements in the map */
	__u32 nvals;	  /* dictionary entries in use */
	__u32 base;	  /* hosts: first bucket; subnets: first root element */
	__u32 nbuckets;	  /* hosts: buckets (0: an empty table) */
	__u32 seed;	  /* hosts: hash seed */
	__u32 chunk_base; /* subnets: first chunk element */
	__u32 nchunks;	  /* subnets: chunks in use */
	__u32 pfx_base;	  /* subnets: first element of the prefix list */
	__u32 nprefixes;  /* subnets: prefixes (0: an empty table) */
	__u32 count[2];	  /* entries per list (ME_LIST_WHITE, ME_LIST_BLACK) */
	__u32 max_probe;  /* most elements one lookup reads, as the builder proved */
	__u32 settled;	  /* hosts, for list sync only: ME_TAB_SETTLED when both
			   * generations' bits agree (no refresh left half-way) */
};
#define ME_TAB_SETTLED 0x5e771edu

/* A dictionary entry: which list, and the entry every slot naming it carries. */
struct me_tab_val {
	struct me_entry e;
	__u32 list;
	__u32 reserved;
};

#define ME_HB4_SLOTS 12
#define ME_HB6_SLOTS 3
#define ME_VIS_SHIFT 16 /* bits of generation 1 start here in a vis word */

struct me_hb4 {
	__u32 key[ME_HB4_SLOTS]; /* network order */
	__u8 val[ME_HB4_SLOTS];	 /* dictionary index */
	__u32 vis;		 /* bit slot: live in gen 0; bit 16 + slot: in gen 1 */
};

struct me_hb6 {
	struct me_addr6 key[ME_HB6_SLOTS];
	__u8 val[ME_HB6_SLOTS];
	__u8 reserved0;
	__u32 vis;
	__u32 reserved[2];
};

#define ME_TN_FANOUT  256	 /* entries per trie element (root or chunk) */
#define ME_TN4_CHUNK  0x8000u	 /* IPv4 entry: chunk number in the low 15 bits */
#define ME_TN6_CHUNK  0x80000000u /* IPv6 entry: chunk number in the low 31 bits */
#define ME_TN4_STRIDE 24	 /* bits the IPv4 root resolves */
#define ME_TN6_STRIDE 16	 /* bits the IPv6 root resolves */
#define ME_TN6_LEVELS 14	 /* IPv6 chunk levels below the root: (128 - 16) / 8 */

struct me_tn4 {
	__u16 e[ME_TN_FANOUT];
};

struct me_tn6 {
	__u32 e[ME_TN_FANOUT];
};

/* One prefix of a subnet table, as the list sync loaded it. */
struct me_tab_pfx {
	__u8 addr[16];
	__u8 len;
	__u8 val;    /* dictionary index */
	__u8 reserved[14];
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
	__u32 sync_hosts;    /* most hosts list sync may load per list and family */
	__u32 sync_white_nets; /* bit g: generation g's subnet tables may hold white
				* prefixes; without, a synced host decides alone */
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
	ME_EV_SYNC_RETRY,      /* ABI 2: a swap raced with a packet. Since ABI 3 no slot
				* is ever empty once filled, and nothing counts it. */
	ME_EV_RESET_FAILED,    /* could not build the RST (tail adjust); dropped */
	ME_EV_MAX,
};

#endif /* MAILEDGE_ABI_H */
