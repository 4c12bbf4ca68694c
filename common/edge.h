/* SPDX-License-Identifier: GPL-2.0 */
/*
 * edge.h - the edge filter's maps as userspace holds them.
 *
 * struct me_edge is a set of open map fds, either the pinned maps under a pin
 * directory (what the loader and list sync work on) or the private maps of a
 * freshly loaded program (what the BPF tests and benchmarks work on). Code that
 * edits lists takes a struct me_edge and never cares which.
 *
 * Writers serialise on an flock() of the pin directory, as xdp-tools does.
 */
#ifndef ME_EDGE_H
#define ME_EDGE_H

#include <linux/types.h>
#include "mailedge_abi.h"

enum me_map_id {
	ME_M_WHITE_HOST4,
	ME_M_WHITE_HOST6,
	ME_M_WHITE_NET4,
	ME_M_WHITE_NET6,
	ME_M_BLACK_HOST4,
	ME_M_BLACK_HOST6,
	ME_M_BLACK_NET4,
	ME_M_BLACK_NET6,
	ME_M_SYNC_HOST4,
	ME_M_SYNC_HOST6,
	ME_M_SYNC_NET4,
	ME_M_SYNC_NET6,
	ME_M_CONFIG,
	ME_M_PORTS,
	ME_M_RATES,
	ME_M_BANS,
	ME_M_STATS,
	ME_M_LIST_HITS,
	ME_M_EVENTS,
	ME_M_SOURCES,
	ME_M_ADMIN_USED,
	ME_M_COUNT,
};

/* Capacities chosen at attach time; 0 means "default, or what is pinned". */
struct me_sizes {
	__u32 hosts;	   /* blacklist host maps */
	__u32 white_hosts; /* whitelist host maps; 0 = min(hosts, 65536) */
	__u32 subnets;
	__u32 rate_entries;
	__u32 ban_entries;
};

struct me_edge {
	int fd[ME_M_COUNT];
	int dir_fd;	/* pin directory, for flock(); -1 for private maps */
	int locked;
	struct me_sizes sizes; /* actual capacities; hosts: list sync's limit */
	__u32 sync_hosts_req;  /* list sync's limit asked for when the maps were made */
	__u32 host4_elems;     /* elements of an IPv4 host table (table.h me_host4_elems) */
	char pin_dir[256];
};

const char *me_map_name(enum me_map_id id);

/* Manual (admin) map of a list for an address family and kind. */
enum me_map_id me_manual_map(int list, int family, int is_net);
/* The admin_used slot of a manual map (ME_ADMIN_SLOT); -1 for other maps. */
int me_admin_slot(enum me_map_id id);
/* Outer list-sync map for a family and kind. */
enum me_map_id me_sync_map(int family, int is_net);

void me_edge_init(struct me_edge *e);
void me_edge_close(struct me_edge *e);

/*
 * Open the maps pinned under pin_dir. Returns 0, -ENOENT when nothing is pinned
 * there (not attached yet), -EPROTO for maps of another ABI version (*what is
 * then "abi"; me_abi_check says more), -EACCES/-EPERM without privileges, or
 * another -errno.
 * On failure *what names the map or directory that failed (for the message).
 */
int me_edge_open(struct me_edge *e, const char *pin_dir, const char **what);

/* For the failures of me_edge_open that every program explains alike (maps
 * of another ABI version, a private mount namespace): 1 with the one-line
 * reason in why, else 0 (the caller words the others itself). */
int me_edge_open_why(int rc, const char *pin_dir, char *why, size_t why_len);

/* Take or release the pin-directory lock; waits up to timeout_ms, then -EBUSY. */
int me_edge_lock(struct me_edge *e, int timeout_ms);
void me_edge_unlock(struct me_edge *e);

/* Take an exclusive flock() on fd, trying every pause_ms for up to timeout_ms:
 * 0, -EBUSY when the time is up, or -errno. After a second of waiting, logs
 * that it waits for what to be released, unless what is NULL. */
int me_flock_wait(int fd, int timeout_ms, int pause_ms, const char *what);

/* Make sure pin_dir's filesystem is bpffs, mounting /sys/fs/bpf if it is the
 * unmounted default; create the directory when create is set (then *created,
 * if given, says whether this call made it). -EXDEV when bpffs would have to be
 * mounted in a private mount namespace, where it would not outlive the caller
 * (ME_PRIVATE_MNT_HINT says what to do). */
#define ME_PRIVATE_MNT_HINT                                                                \
	"this process runs in a private mount namespace without bpffs at /sys/fs/bpf "     \
	"(as under 'ip netns exec', which mounts a fresh /sys): a bpffs mounted here "     \
	"would vanish when the command exits, and the filter with it. Enter only the "     \
	"network namespace instead: nsenter --net=/var/run/netns/NS mailedge-loader ..."
int me_pin_dir_prepare(const char *pin_dir, int create, int *created);

/* The pin path of map id, or of a link on ifindex, under pin_dir. */
int me_pin_path(char *buf, size_t len, const char *pin_dir, const char *name);

/* The ABI version pinned under pin_dir: 0 and *version, -ENOENT when there is no
 * marker (maps of version 1, or no maps), or -errno. */
int me_abi_read(const char *pin_dir, __u32 *version);
/* Pin the marker of ME_ABI_VERSION under pin_dir (a fresh set of maps). */
int me_abi_pin(const char *pin_dir);
/* 0 when the maps under pin_dir are of ME_ABI_VERSION, else -EPROTO with a
 * one-line reason (what was found, and what to do) in why, if why is given. */
int me_abi_check(const char *pin_dir, char *why, size_t why_len);

/* max_entries of a map, 0 if it cannot be read. */
__u32 me_map_capacity(int fd);
void me_edge_read_sizes(struct me_edge *e);

/* Defaults applied to a fresh config/ports map. */
int me_edge_defaults(struct me_edge *e);

#endif
