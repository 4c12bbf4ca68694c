// SPDX-License-Identifier: GPL-2.0
/*
 * links.c - enumerate and remove the pinned XDP links.
 *
 * A pinned bpf_link keeps the program attached after the loader exits and is
 * the handle for replacing it atomically (bpf_link_update). When its interface
 * disappears the kernel detaches it and the link reports ifindex 0; such stale
 * pins are shown by status and removed by the writing verbs.
 *
 * The kernel's link info names the interface by ifindex alone, so the network
 * namespace comes from the pin name. To show the name and mode of a link in
 * another namespace, the walker enters that namespace for the two queries when
 * it has a name under /var/run/netns, and comes back.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "links.h"

#define NETNS_RUN_DIR "/var/run/netns"

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

__u64 link_netns_self(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) ? 0 : (__u64)st.st_ino;
}

int link_pin_path(char *buf, size_t len, const char *pin_dir, int ifindex)
{
	int n = snprintf(buf, len, "%s/link_%" PRIu64 "_%d", pin_dir, (uint64_t)link_netns_self(),
			 ifindex);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* link_<netns>_<ifindex>; a pin of an older loader is link_<ifindex>, whose
 * namespace is unknown (0). Returns -1 for a name that is not a link. */
static int parse_pin_name(const char *name, __u64 *netns)
{
	unsigned long long ns;
	int ifindex, used = 0;

	if (sscanf(name, "link_%llu_%d%n", &ns, &ifindex, &used) == 2 && !name[used]) {
		*netns = ns;
		return 0;
	}
	if (sscanf(name, "link_%d%n", &ifindex, &used) == 1 && !name[used]) {
		*netns = 0;
		return 0;
	}
	return -1;
}

/* The name under /var/run/netns of the namespace with inode netns. */
static void netns_name(__u64 netns, char *buf, size_t len)
{
	struct dirent *de;
	char path[PATH_MAX];
	struct stat st;
	DIR *d;

	buf[0] = '\0';
	d = opendir(NETNS_RUN_DIR);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", NETNS_RUN_DIR, de->d_name);
		if (!stat(path, &st) && (__u64)st.st_ino == netns) {
			snprintf(buf, len, "%s", de->d_name);
			break;
		}
	}
	closedir(d);
}

/* Interface name and XDP mode of l->ifindex, in the caller's namespace. */
static void query_iface(struct me_link *l)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (!if_indextoname((unsigned int)l->ifindex, l->ifname)) {
		l->ifname[0] = '\0';
		return;
	}
	if (!bpf_xdp_query(l->ifindex, 0, &q))
		l->mode = q.attach_mode;
}

/* The same, from inside the link's own namespace; best effort, for display. */
static void query_iface_in(struct me_link *l)
{
	char path[PATH_MAX];
	int self, other;

	snprintf(path, sizeof(path), "%s/%s", NETNS_RUN_DIR, l->ns_name);
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	other = open(path, O_RDONLY | O_CLOEXEC);
	if (self >= 0 && other >= 0 && !setns(other, CLONE_NEWNET)) {
		query_iface(l);
		if (setns(self, CLONE_NEWNET)) {
			/* Staying in the other namespace would make every later
			 * step act on the wrong interfaces. */
			perror("mailedge-loader: cannot return to the original network namespace");
			abort();
		}
	}
	if (self >= 0)
		close(self);
	if (other >= 0)
		close(other);
}

static void link_fill(int fd, struct me_link *l, __u64 self)
{
	struct bpf_link_info info = { 0 };
	__u32 len = sizeof(info);

	l->here = l->netns && l->netns == self;
	if (l->netns && !l->here)
		netns_name(l->netns, l->ns_name, sizeof(l->ns_name));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return;
	l->link_id = info.id;
	l->prog_id = info.prog_id;
	l->ifindex = (int)info.xdp.ifindex;
	if (!l->ifindex)
		return;
	if (l->here)
		query_iface(l);
	else if (l->ns_name[0])
		query_iface_in(l);
}

int links_walk(const char *pin_dir, me_link_cb cb, void *ctx)
{
	__u64 self = link_netns_self();
	struct dirent *de;
	DIR *d;
	int rc = 0;

	d = opendir(pin_dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		struct me_link l = { 0 };
		int fd;

		if (parse_pin_name(de->d_name, &l.netns))
			continue;
		if (snprintf(l.pin, sizeof(l.pin), "%s/%s", pin_dir, de->d_name) >=
		    (int)sizeof(l.pin))
			continue;
		fd = bpf_obj_get(l.pin);
		if (fd < 0)
			continue;
		link_fill(fd, &l, self);
		close(fd);
		rc = cb(ctx, &l);
		if (rc)
			break;
	}
	closedir(d);
	return rc < 0 ? rc : 0;
}

const char *link_where(const struct me_link *l, char *buf, size_t len)
{
	if (l->ns_name[0])
		snprintf(buf, len, "netns %s", l->ns_name);
	else if (l->netns)
		snprintf(buf, len, "netns inode %" PRIu64, (uint64_t)l->netns);
	else
		snprintf(buf, len, "an unknown netns (pinned by an older loader)");
	return buf;
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
