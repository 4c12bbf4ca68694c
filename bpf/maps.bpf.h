/* SPDX-License-Identifier: GPL-2.0 */
/*
 * maps.bpf.h - the maps of the edge filter, as the XDP program sees them.
 *
 * Key and value types come from mailedge_abi.h; sizes here are defaults that the
 * loader overrides at attach time (bpf_map__set_max_entries) or takes from maps
 * that are already pinned. Pinning is done by the loader, not by libbpf's
 * LIBBPF_PIN_BY_NAME, so that it can say precisely why a pinned map cannot be
 * reused and so that tests can load the program with private, unpinned maps.
 */
#ifndef MAILEDGE_MAPS_BPF_H
#define MAILEDGE_MAPS_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "mailedge_abi.h"

/* Host maps: elements allocated on demand (see the capacity note in the ABI). */
#define ME_HOST_MAP(name, key_t, size)                                                             \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_HASH);                                                   \
		__uint(map_flags, BPF_F_NO_PREALLOC);                                              \
		__uint(max_entries, size);                                                         \
		__type(key, key_t);                                                                \
		__type(value, struct me_entry);                                                    \
	} name SEC(".maps")

/* Subnet maps: the kernel requires BPF_F_NO_PREALLOC for an LPM trie. */
#define ME_NET_MAP(name, key_t)                                                                    \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_LPM_TRIE);                                               \
		__uint(map_flags, BPF_F_NO_PREALLOC);                                              \
		__uint(max_entries, ME_DEF_SUBNETS);                                               \
		__type(key, key_t);                                                                \
		__type(value, struct me_net_entry);                                                \
	} name SEC(".maps")

ME_HOST_MAP(white_host4, __u32, ME_DEF_WHITE_HOSTS);
ME_HOST_MAP(white_host6, struct me_addr6, ME_DEF_WHITE_HOSTS);
ME_NET_MAP(white_net4, struct me_lpm4);
ME_NET_MAP(white_net6, struct me_lpm6);
ME_HOST_MAP(black_host4, __u32, ME_DEF_ADMIN_HOSTS);
ME_HOST_MAP(black_host6, struct me_addr6, ME_DEF_ADMIN_HOSTS);
ME_NET_MAP(black_net4, struct me_lpm4);
ME_NET_MAP(black_net6, struct me_lpm6);

/* Which admin maps may hold entries (ME_ADMIN_SLOT): the others are not looked
 * up at all. See "admin_used" in mailedge_abi.h for why a 0 is never wrong. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ME_ADMIN_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} admin_used SEC(".maps");

/* Inner map templates for the list-sync slots: the kernel checks type, key and
 * value size and flags of an inserted inner map. BPF_F_INNER_MAP lets each
 * table have its own number of elements, at the price of a helper call for
 * every lookup in it; without it the verifier inlines the lookups and every
 * table has the template's size. The IPv4 host table, which every packet
 * reads, is the one with a fixed size (me_host4_elems of the loader's --hosts,
 * set before load). See "List-sync tables" in the ABI. Sizes, not types:
 * clang emits a type reached only through an inner map template as a forward
 * declaration, whose size libbpf cannot know. */
#define ME_TAB_INNER(name, value_t, flags)                                                         \
	struct name {                                                                              \
		__uint(type, BPF_MAP_TYPE_ARRAY);                                                  \
		__uint(map_flags, flags);                                                          \
		__uint(max_entries, 1);                                                            \
		__uint(key_size, sizeof(__u32));                                                   \
		__uint(value_size, sizeof(value_t));                                               \
	}

ME_TAB_INNER(sync_host4_inner, struct me_hb4, ME_TAB_FLAGS_FIXED);
ME_TAB_INNER(sync_host6_inner, struct me_hb6, ME_TAB_FLAGS);
ME_TAB_INNER(sync_net4_inner, struct me_tn4, ME_TAB_FLAGS);
ME_TAB_INNER(sync_net6_inner, struct me_tn6, ME_TAB_FLAGS);

#define ME_SYNC_MAP(name, inner_t)                                                                 \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);                                          \
		__uint(max_entries, ME_SYNC_SLOTS);                                                \
		__type(key, __u32);                                                                \
		__array(values, inner_t);                                                          \
	} name SEC(".maps")

ME_SYNC_MAP(sync_host4, struct sync_host4_inner);
ME_SYNC_MAP(sync_host6, struct sync_host6_inner);
ME_SYNC_MAP(sync_net4, struct sync_net4_inner);
ME_SYNC_MAP(sync_net6, struct sync_net6_inner);

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct me_config);
} config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct me_ports);
} ports SEC(".maps");

/*
 * Per-source connection state: the GCRA "theoretical arrival time" in boot ns.
 *
 * An LRU hash, so a flood of SYNs from spoofed random sources cannot fill it:
 * every new source evicts the least recently used one instead. The price is that
 * under such a flood (more distinct sources per window than the map holds) real
 * sources are evicted too and come back with a fresh burst allowance, so the
 * threshold fails open rather than blocking legitimate clients; each insert is
 * counted (ME_EV_RATE_INSERT) so the loader can report evictions as inserts minus
 * live entries. A spoofed flood is the SYN-cookie problem, not this map's.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, ME_DEF_RATE_ENTRIES);
	__type(key, struct me_src_key);
	__type(value, __u64);
} rates SEC(".maps");

/* Sources banned by the threshold: value is the end of the ban in boot ns.
 * LRU for the same reason; a ban that gets evicted simply ends early. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, ME_DEF_BAN_ENTRIES);
	__type(key, struct me_src_key);
	__type(value, __u64);
} bans SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ME_STAT_MAX);
	__type(key, __u32);
	__type(value, struct me_counter);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ME_SRC_MAX);
	__type(key, __u32);
	__type(value, struct me_counter);
} list_hits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ME_EV_MAX);
	__type(key, __u32);
	__type(value, __u64);
} events SEC(".maps");

/* List-sync status for userspace only; pinned with the rest so that every
 * tool finds it where it finds the lists. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ME_SRC_MAX);
	__type(key, __u32);
	__type(value, struct me_src_status);
} sources SEC(".maps");

#endif /* MAILEDGE_MAPS_BPF_H */
