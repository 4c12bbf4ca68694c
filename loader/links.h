/* SPDX-License-Identifier: GPL-2.0 */
/*
 * links.h - the XDP links the loader pinned, one per attached interface.
 */
#ifndef ME_LOADER_LINKS_H
#define ME_LOADER_LINKS_H

#include <limits.h>
#include <net/if.h>
#include <linux/types.h>

struct me_link {
	char pin[PATH_MAX];	    /* pin path of the link */
	int ifindex;		    /* 0 when the interface is gone */
	char ifname[IF_NAMESIZE];   /* "" when the interface is gone */
	__u32 link_id;
	__u32 prog_id;
	int mode;		    /* XDP_ATTACHED_DRV / _SKB, 0 if unknown */
};

/* Visit every pinned link; cb returns non-zero to stop. */
typedef int (*me_link_cb)(void *ctx, const struct me_link *l);
int links_walk(const char *pin_dir, me_link_cb cb, void *ctx);

const char *link_mode_name(int mode);

/* Detach a pinned link and remove its pin. */
int link_remove(const char *pin);

#endif
