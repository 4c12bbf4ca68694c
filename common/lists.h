/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lists.h - list entries as userspace handles them: records, keys, and
 * all-or-nothing changes to the admin's (manual) maps.
 */
#ifndef ME_LISTS_H
#define ME_LISTS_H

#include <stddef.h>
#include <linux/types.h>

#include "addr.h"
#include "edge.h"

/* One list entry: which list, which prefix, and its value in the map. */
struct me_rec {
	int list; /* ME_LIST_WHITE or ME_LIST_BLACK */
	struct me_prefix pfx;
	struct me_entry val;
};

/* Largest key of any list map (struct me_lpm6). */
#define ME_KEY_MAX 20

/* Largest value of any list map (struct me_net_entry). */
#define ME_VALUE_MAX sizeof(struct me_net_entry)

/* The map value for val under prefix p: a struct me_entry for a host, a
 * struct me_net_entry for a subnet. Returns its size. */
size_t me_prefix_value(const struct me_prefix *p, const struct me_entry *val, void *out);

/* The map key of a prefix; returns 1 if it belongs in a subnet (LPM) map. */
int me_prefix_key(const struct me_prefix *p, void *key);
void me_key_prefix(int family, int is_net, const void *key, struct me_prefix *out);

/* "drop", "reset", "pass", "group:N" */
int me_action_parse(const char *s, struct me_entry *val);
void me_action_format(const struct me_entry *val, char *buf, size_t len);
const char *me_list_name(int list);
void me_src_format(__u8 src, char *buf, size_t len);
/* Like me_src_format, but names list-sync sources from the "sources" map. */
void me_src_name(const struct me_edge *e, __u8 src, char *buf, size_t len);

/* "fetched", "not modified", "not due", "failed"; "-" for none, "?" beyond. */
const char *me_sync_outcome_name(__u8 outcome);

/* Is a list-sync source's data stale: last good at last_ok (unix time, 0 for
 * never), now later than stale_after seconds after it? */
static inline int me_sync_stale(__u64 now, __u64 last_ok, __u32 stale_after)
{
	return last_ok && now - last_ok > stale_after;
}

/* Is the record acceptable at all? -EINVAL with a reason otherwise. */
int me_rec_check(const struct me_rec *r, char *why, size_t why_len);

/* Seconds since boot on CLOCK_BOOTTIME, the clock of me_entry.expires. */
__u32 me_boot_seconds(void);
/* CLOCK_MONOTONIC in seconds, for measuring how long something took. */
double me_mono_seconds(void);
/* The expires value of an entry that must last at least secs seconds: the
 * current second is rounded up, or an entry could end up to a second early. */
__u32 me_expiry_after(__u32 secs);
int me_entry_expired(const struct me_entry *v, __u32 now);

/*
 * admin_used, the program's "may this admin map hold entries" (mailedge_abi.h).
 * me_manual_mark sets a map's slot: every writer calls it before putting an
 * entry in a manual map (the functions below do). me_manual_settle makes it
 * agree with the map: set if the map holds an entry (expired ones count), else
 * cleared, after which it looks again and sets it back if an entry came in
 * meanwhile; call it after deleting. me_manual_used reads it (1, 0, or -errno).
 * id must be a manual map (ME_M_WHITE_HOST4 ... ME_M_BLACK_NET6).
 */
int me_manual_mark(struct me_edge *e, enum me_map_id id);
int me_manual_settle(struct me_edge *e, enum me_map_id id);
int me_manual_used(const struct me_edge *e, enum me_map_id id);

/*
 * Write recs into the manual maps, all or nothing: on any failure every map is
 * put back as it was. Returns 0, -ENOSPC with *full set when a map is full, or
 * another -errno.
 */
int me_manual_apply(struct me_edge *e, const struct me_rec *recs, size_t n,
		    enum me_map_id *full);

/* Delete recs from the manual maps, all or nothing: -ENOENT with *missing set
 * to the index of the first record that is not there. */
int me_manual_delete(struct me_edge *e, const struct me_rec *recs, size_t n, size_t *missing);

/* Remove every manual entry of a list; *removed counts them. */
int me_manual_flush(struct me_edge *e, int list, __u64 *removed);

/* Remove expired entries from the manual maps. */
int me_manual_purge(struct me_edge *e, __u64 *removed);

/* Visit every key/value of a map (any type). cb returns > 0 to stop, < 0 to
 * stop with that error. */
typedef int (*me_walk_cb)(void *ctx, const void *key, const void *val);
int me_map_walk(int fd, me_walk_cb cb, void *ctx);
int me_map_count(int fd, __u64 *n);

/* Visit every entry of a list: the manual maps and, with synced, the list-sync
 * maps of the current generation. cb returns non-zero to stop. */
typedef int (*me_rec_cb)(void *ctx, const struct me_rec *r, int synced);
int me_list_walk(struct me_edge *e, int list, int synced, me_rec_cb cb, void *ctx);

#endif
