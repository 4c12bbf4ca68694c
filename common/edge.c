// SPDX-License-Identifier: GPL-2.0
/*
 * edge.c - open the pinned maps, lock the pin directory, map naming.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>
#include <netinet/in.h>
#include <bpf/bpf.h>

#include "edge.h"
#include "log.h"

/* Must match the variable names in bpf/maps.bpf.h: they are also the pin names. */
static const char *const map_names[ME_M_COUNT] = {
	[ME_M_WHITE_HOST4] = "white_host4", [ME_M_WHITE_HOST6] = "white_host6",
	[ME_M_WHITE_NET4] = "white_net4",   [ME_M_WHITE_NET6] = "white_net6",
	[ME_M_BLACK_HOST4] = "black_host4", [ME_M_BLACK_HOST6] = "black_host6",
	[ME_M_BLACK_NET4] = "black_net4",   [ME_M_BLACK_NET6] = "black_net6",
	[ME_M_SYNC_HOST4] = "sync_host4",   [ME_M_SYNC_HOST6] = "sync_host6",
	[ME_M_SYNC_NET4] = "sync_net4",	    [ME_M_SYNC_NET6] = "sync_net6",
	[ME_M_CONFIG] = "config",	    [ME_M_PORTS] = "ports",
	[ME_M_RATES] = "rates",		    [ME_M_BANS] = "bans",
	[ME_M_STATS] = "stats",		    [ME_M_LIST_HITS] = "list_hits",
	[ME_M_EVENTS] = "events",	    [ME_M_SOURCES] = "sources",
};

const char *me_map_name(enum me_map_id id)
{
	return id < ME_M_COUNT ? map_names[id] : "?";
}

enum me_map_id me_manual_map(int list, int family, int is_net)
{
	int base = list == ME_LIST_WHITE ? ME_M_WHITE_HOST4 : ME_M_BLACK_HOST4;

	return (enum me_map_id)(base + (is_net ? 2 : 0) + (family == AF_INET6 ? 1 : 0));
}

enum me_map_id me_sync_map(int family, int is_net)
{
	return (enum me_map_id)(ME_M_SYNC_HOST4 + (is_net ? 2 : 0) + (family == AF_INET6 ? 1 : 0));
}

void me_edge_init(struct me_edge *e)
{
	int i;

	memset(e, 0, sizeof(*e));
	for (i = 0; i < ME_M_COUNT; i++)
		e->fd[i] = -1;
	e->dir_fd = -1;
}

void me_edge_close(struct me_edge *e)
{
	int i;

	me_edge_unlock(e);
	for (i = 0; i < ME_M_COUNT; i++)
		if (e->fd[i] >= 0)
			close(e->fd[i]);
	if (e->dir_fd >= 0)
		close(e->dir_fd);
	me_edge_init(e);
}

int me_pin_path(char *buf, size_t len, const char *pin_dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", pin_dir, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int is_bpffs(const char *path)
{
	struct statfs st;

	if (statfs(path, &st))
		return -errno;
	return st.f_type == BPF_FS_MAGIC;
}

int me_pin_dir_prepare(const char *pin_dir, int create, int *created)
{
	char parent[PATH_MAX];
	char *slash;
	int rc;

	if (snprintf(parent, sizeof(parent), "%s", pin_dir) >= (int)sizeof(parent))
		return -ENAMETOOLONG;
	slash = strrchr(parent, '/');
	if (!slash || slash == parent)
		return -EINVAL;
	*slash = '\0';

	rc = is_bpffs(parent);
	if (rc < 0)
		return rc;
	if (!rc) {
		/* The usual cause is a fresh system where nothing mounted bpffs
		 * yet; mount it where everyone expects it, and only there. */
		if (strcmp(parent, "/sys/fs/bpf"))
			return -ENOTSUP;
		if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700"))
			return -errno;
		log_debug("mounted bpffs on /sys/fs/bpf");
	}
	if (created)
		*created = 0;
	if (create) {
		if (!mkdir(pin_dir, 0700)) {
			if (created)
				*created = 1;
		} else if (errno != EEXIST) {
			return -errno;
		}
	}
	return 0;
}

__u32 me_map_capacity(int fd)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.max_entries;
}

void me_edge_read_sizes(struct me_edge *e)
{
	e->sizes.hosts = me_map_capacity(e->fd[ME_M_BLACK_HOST4]);
	e->sizes.white_hosts = me_map_capacity(e->fd[ME_M_WHITE_HOST4]);
	e->sizes.subnets = me_map_capacity(e->fd[ME_M_BLACK_NET4]);
	e->sizes.rate_entries = me_map_capacity(e->fd[ME_M_RATES]);
	e->sizes.ban_entries = me_map_capacity(e->fd[ME_M_BANS]);
}

int me_edge_open(struct me_edge *e, const char *pin_dir, const char **what)
{
	char path[PATH_MAX];
	int i, rc;

	me_edge_init(e);
	snprintf(e->pin_dir, sizeof(e->pin_dir), "%s", pin_dir);
	*what = pin_dir;
	rc = me_pin_dir_prepare(pin_dir, 0, NULL);
	if (rc)
		return rc;
	e->dir_fd = open(pin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (e->dir_fd < 0)
		return -errno;

	for (i = 0; i < ME_M_COUNT; i++) {
		rc = me_pin_path(path, sizeof(path), pin_dir, map_names[i]);
		if (rc)
			goto err;
		e->fd[i] = bpf_obj_get(path);
		if (e->fd[i] < 0) {
			rc = -errno;
			*what = map_names[i];
			goto err;
		}
	}

	me_edge_read_sizes(e);
	return 0;
err:
	me_edge_close(e);
	snprintf(e->pin_dir, sizeof(e->pin_dir), "%s", pin_dir);
	return rc;
}

int me_flock_wait(int fd, int timeout_ms, int pause_ms, const char *what)
{
	struct timespec pause = { pause_ms / 1000, (long)(pause_ms % 1000) * 1000 * 1000 };
	int waited = 0, told = !what;

	/* Polling rather than a blocking flock(): a blocking one cannot time out
	 * without a signal, and the holder normally lets go within milliseconds. */
	while (flock(fd, LOCK_EX | LOCK_NB)) {
		if (errno != EWOULDBLOCK)
			return -errno;
		if (waited >= timeout_ms)
			return -EBUSY;
		if (!told && waited >= 1000) {
			log_info("waiting for another mailedge program to release %s", what);
			told = 1;
		}
		nanosleep(&pause, NULL);
		waited += pause_ms;
	}
	return 0;
}

int me_edge_lock(struct me_edge *e, int timeout_ms)
{
	int rc;

	if (e->dir_fd < 0 || e->locked)
		return 0;
	rc = me_flock_wait(e->dir_fd, timeout_ms, 20, e->pin_dir);
	if (rc)
		return rc;
	e->locked = 1;
	return 0;
}

void me_edge_unlock(struct me_edge *e)
{
	if (e->locked && e->dir_fd >= 0)
		flock(e->dir_fd, LOCK_UN);
	e->locked = 0;
}

int me_edge_defaults(struct me_edge *e)
{
	static const __u16 def_ports[] = ME_DEF_PORTS;
	struct me_config cfg = { 0 };
	struct me_ports ports;
	__u32 zero = 0;
	size_t i;

	cfg.thr_v4_prefix = 32;
	cfg.thr_v6_prefix = 64;
	cfg.thr_burst = 1;
	if (bpf_map_update_elem(e->fd[ME_M_CONFIG], &zero, &cfg, BPF_ANY))
		return -errno;
	memset(&ports, 0, sizeof(ports));
	for (i = 0; i < sizeof(def_ports) / sizeof(def_ports[0]); i++)
		ports.bits[def_ports[i] >> 3] |= (__u8)(1 << (def_ports[i] & 7));
	if (bpf_map_update_elem(e->fd[ME_M_PORTS], &zero, &ports, BPF_ANY))
		return -errno;
	return 0;
}
