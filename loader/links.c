// SPDX-License-Identifier: GPL-2.0
/*
 * links.c - enumerate and remove the pinned XDP links.
 *
 * A pinned bpf_link keeps the program attached after the loader exits and is
 * the handle for replacing it atomically (bpf_link_update). When its interface
 * disappears the kernel detaches it and the link reports ifindex 0; such stale
 * pins are shown by status and removed by the writing verbs.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "links.h"

const char *link_mode_name(int mode)
{
	switch (mode) {
	case XDP_ATTACHED_DRV:
		return "native";
	case XDP_ATTACHED_SKB:
		return "generic";
	case XDP_ATTACHED_HW:
		return "offload";
	case XDP_ATTACHED_MULTI:
		return "multi";
	}
	return "unknown";
}

static void link_fill(int fd, struct me_link *l)
{
	struct bpf_link_info info = { 0 };
	__u32 len = sizeof(info);
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return;
	l->link_id = info.id;
	l->prog_id = info.prog_id;
	l->ifindex = (int)info.xdp.ifindex;
	if (!l->ifindex || !if_indextoname((unsigned int)l->ifindex, l->ifname)) {
		l->ifindex = 0;
		l->ifname[0] = '\0';
		return;
	}
	if (!bpf_xdp_query(l->ifindex, 0, &q))
		l->mode = q.attach_mode;
}

int links_walk(const char *pin_dir, me_link_cb cb, void *ctx)
{
	struct dirent *de;
	DIR *d;
	int rc = 0;

	d = opendir(pin_dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		struct me_link l = { 0 };
		int fd;

		if (strncmp(de->d_name, "link_", 5))
			continue;
		if (snprintf(l.pin, sizeof(l.pin), "%s/%s", pin_dir, de->d_name) >=
		    (int)sizeof(l.pin))
			continue;
		fd = bpf_obj_get(l.pin);
		if (fd < 0)
			continue;
		link_fill(fd, &l);
		close(fd);
		rc = cb(ctx, &l);
		if (rc)
			break;
	}
	closedir(d);
	return rc < 0 ? rc : 0;
}

int link_remove(const char *pin)
{
	int fd = bpf_obj_get(pin);

	if (fd >= 0) {
		/* Detach now, even if something else still holds the link. */
		bpf_link_detach(fd);
		close(fd);
	}
	if (unlink(pin) && errno != ENOENT)
		return -errno;
	return 0;
}
