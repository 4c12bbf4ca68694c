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
#include "table.h"
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
	[ME_M_ADMIN_USED] = "admin_used",
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

_Static_assert(ME_M_BLACK_NET6 - ME_M_WHITE_HOST4 == ME_ADMIN_SLOT(ME_LIST_BLACK, 1, 1) &&
		       ME_M_WHITE_NET4 - ME_M_WHITE_HOST4 == ME_ADMIN_SLOT(ME_LIST_WHITE, 1, 0) &&
		       ME_M_BLACK_HOST6 - ME_M_WHITE_HOST4 == ME_ADMIN_SLOT(ME_LIST_BLACK, 0, 1),
	       "manual map ids must follow ME_ADMIN_SLOT");

int me_admin_slot(enum me_map_id id)
{
	/* The map ids of the manual maps are in ME_ADMIN_SLOT's order. */
	if (id < ME_M_WHITE_HOST4 || id > ME_M_BLACK_NET6)
		return -1;
	return (int)(id - ME_M_WHITE_HOST4);
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

/* Inode of /proc/PID/ns/mnt (PID 0: self); 0 when it cannot be read. */
static ino_t mnt_ns_of(pid_t pid)
{
	char path[64];
	struct stat st;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/ns/mnt");
	return stat(path, &st) ? 0 : st.st_ino;
}

static pid_t parent_of(pid_t pid)
{
	char path[64], buf[512], *p;
	int ppid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	/* "pid (comm) state ppid ...": comm may hold spaces and parentheses,
	 * so read from the last ')'. */
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')))
		sscanf(p + 1, " %*c %d", &ppid);
	fclose(f);
	return (pid_t)ppid;
}

/* 1 when this process runs in another mount namespace than the system's (as
 * under "ip netns exec", which unshares the mount namespace and mounts a fresh
 * sysfs, or in a sandboxed service), else 0. The system's namespace is PID 1's;
 * where that cannot be read (a PID 1 that is not dumpable, as in some
 * sandboxes), it is the outermost readable ancestor's. */
static int private_mount_ns(void)
{
	ino_t self = mnt_ns_of(0), init = mnt_ns_of(1), anc;
	pid_t pid = getppid();
	int hops;

	if (!self)
		return 0;
	if (init)
		return self != init;
	for (hops = 0; pid > 1 && hops < 64; hops++) {
		anc = mnt_ns_of(pid);
		if (!anc)
			break;
		if (anc != self)
			return 1;
		pid = parent_of(pid);
	}
	return 0;
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
		/* A bpffs mounted in a mount namespace that dies with this
		 * process would take every pin, and so the filter, with it:
		 * the command would report success and leave nothing. */
		if (private_mount_ns() > 0)
			return -EXDEV;
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
	struct me_config cfg;
	__u32 zero = 0;

	e->sizes.hosts = me_map_capacity(e->fd[ME_M_BLACK_HOST4]);
	if (!bpf_map_lookup_elem(e->fd[ME_M_CONFIG], &zero, &cfg) && cfg.sync_hosts)
		e->sizes.hosts = cfg.sync_hosts;
	e->sizes.white_hosts = me_map_capacity(e->fd[ME_M_WHITE_HOST4]);
	e->sizes.subnets = me_map_capacity(e->fd[ME_M_BLACK_NET4]);
	e->sizes.rate_entries = me_map_capacity(e->fd[ME_M_RATES]);
	e->sizes.ban_entries = me_map_capacity(e->fd[ME_M_BANS]);
	/* The attach that made the maps sized the table by the same limit. */
	e->host4_elems = me_host4_elems(e->sizes.hosts);
}

int me_abi_read(const char *pin_dir, __u32 *version)
{
	char path[PATH_MAX];
	__u32 key = 0;
	int fd, rc = 0;

	rc = me_pin_path(path, sizeof(path), pin_dir, ME_ABI_PIN);
	if (rc)
		return rc;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	if (bpf_map_lookup_elem(fd, &key, version))
		rc = -errno;
	close(fd);
	return rc;
}

int me_abi_pin(const char *pin_dir)
{
	char path[PATH_MAX];
	__u32 key = 0, ver = ME_ABI_VERSION;
	int fd, rc;

	rc = me_pin_path(path, sizeof(path), pin_dir, ME_ABI_PIN);
	if (rc)
		return rc;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "mailedge_abi", sizeof(key), sizeof(ver), 1,
			    NULL);
	if (fd < 0)
		return -errno;
	/* A marker left without maps (an interrupted destroy) means nothing. */
	unlink(path);
	/* Frozen, so that nothing can rewrite the version under a reader. */
	if (bpf_map_update_elem(fd, &key, &ver, BPF_ANY) || bpf_map_freeze(fd) ||
	    bpf_obj_pin(fd, path))
		rc = -errno;
	close(fd);
	return rc;
}

int me_abi_check(const char *pin_dir, char *why, size_t why_len)
{
	__u32 ver = 1;
	int rc = me_abi_read(pin_dir, &ver);

	if (rc && rc != -ENOENT) {
		if (why)
			snprintf(why, why_len, "cannot read the ABI version of the maps at %s: %s",
				 pin_dir, strerror(-rc));
		return rc;
	}
	if (ver == ME_ABI_VERSION)
		return 0;
	if (why)
		snprintf(why, why_len,
			 "the maps at %s are of mailedge ABI version %u and this program reads "
			 "version %u: it refuses them rather than misread them. Save the manual "
			 "lists with the mailedge that made them ('list save FILE'; before "
			 "version 2, 'list show'), then run 'mailedge-loader destroy', attach "
			 "again and 'mailedge-loader list restore FILE'",
			 pin_dir, ver, ME_ABI_VERSION);
	return -EPROTO;
}

int me_edge_open_why(int rc, const char *pin_dir, char *why, size_t why_len)
{
	if (rc == -EPROTO)
		return me_abi_check(pin_dir, why, why_len) != 0;
	if (rc == -EXDEV) {
		snprintf(why, why_len, "cannot see the maps at %s: %s", pin_dir,
			 ME_PRIVATE_MNT_HINT);
		return 1;
	}
	return 0;
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
	rc = me_abi_check(pin_dir, NULL, 0);
	if (rc) {
		*what = ME_ABI_PIN;
		goto err;
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
	cfg.sync_hosts = e->sync_hosts_req ? e->sync_hosts_req : ME_DEF_HOSTS;
	if (bpf_map_update_elem(e->fd[ME_M_CONFIG], &zero, &cfg, BPF_ANY))
		return -errno;
	e->sizes.hosts = cfg.sync_hosts;
	memset(&ports, 0, sizeof(ports));
	for (i = 0; i < sizeof(def_ports) / sizeof(def_ports[0]); i++)
		ports.bits[def_ports[i] >> 3] |= (__u8)(1 << (def_ports[i] & 7));
	if (bpf_map_update_elem(e->fd[ME_M_PORTS], &zero, &ports, BPF_ANY))
		return -errno;
	return 0;
}
