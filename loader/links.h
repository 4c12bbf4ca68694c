/* SPDX-License-Identifier: GPL-2.0 */
/*
 * links.h - the XDP links the loader pinned, one per attached interface.
 *
 * An ifindex only means something inside one network namespace: ifindex 2 is
 * a different interface in every namespace. A link is therefore pinned as
 * link_<netns>_<ifindex>, netns being the inode number of the namespace the
 * interface was in at attach (what "ls -iL /proc/self/ns/net" prints), and the
 * verbs act only on links of their own namespace.
 */
#ifndef ME_LOADER_LINKS_H
#define ME_LOADER_LINKS_H

#include <limits.h>
#include <net/if.h>
#include <linux/types.h>

struct me_link {
	char pin[PATH_MAX];	    /* pin path of the link */
	__u64 netns;		    /* namespace inode from the pin name; 0 if unknown */
	int here;		    /* netns is the caller's own namespace */
	char ns_name[NAME_MAX + 1]; /* name under /var/run/netns, "" if none */
	int ifindex;		    /* 0 when the interface is gone */
	char ifname[IF_NAMESIZE];   /* "" when the interface is gone or unknown */
	__u32 link_id;
	__u32 prog_id;
	int mode;		    /* XDP_ATTACHED_DRV / _SKB, 0 if unknown */
};

/* The caller's network namespace (its inode number), 0 if it cannot be read. */
__u64 link_netns_self(void);

/* Pin path of the link for ifindex in the caller's namespace. */
int link_pin_path(char *buf, size_t len, const char *pin_dir, int ifindex);

/* Visit every pinned link; cb returns non-zero to stop. */
typedef int (*me_link_cb)(void *ctx, const struct me_link *l);
int links_walk(const char *pin_dir, me_link_cb cb, void *ctx);

/* "netns NAME" or "netns inode N" (or "an unknown netns") for messages. */
const char *link_where(const struct me_link *l, char *buf, size_t len);

const char *link_mode_name(int mode);

/* Detach a pinned link and remove its pin. */
int link_remove(const char *pin);

#endif
