// SPDX-License-Identifier: GPL-2.0
/*
 * edgefd.c - list sync's tables by map ID, from the keeper, cached (edgefd.h).
 *
 * Every caller of the opener gets a dup() of the cached fd and closes it as it
 * would close one from bpf_map_get_fd_by_id: the cache keeps its own, so no
 * fd is shared between a worker and the cache, and an eviction never closes
 * an fd a worker still reads. One mutex covers the table and the request to
 * the keeper: a miss is rare (once per table per rebuild), and workers that
 * miss together then ask once.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "edge.h"
#include "edgefd.h"
#include "keeper.h"
#include "log.h"
#include "policy.h"
#include "synctab.h"

/* Twice the IDs the outer maps can name at once (four maps of two slots):
 * during a rebuild, the old tables are still cached when the new ones
 * arrive, and the eviction before each miss makes room. */
#define NCACHE (2 * 4 * ME_SYNC_SLOTS)

struct cached {
	__u32 id;
	int fd; /* -1: free */
};

static struct cached cache[NCACHE];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static __u32 refused_id; /* the last ID the keeper refused, logged once */
static int installed;

/* Is id in a slot of one of the outer maps the proxy holds? With no maps
 * (none opened), nothing is current and the whole cache goes. */
static int current(const struct me_edge *e, __u32 id)
{
	static const enum me_map_id outer[] = { ME_M_SYNC_HOST4, ME_M_SYNC_HOST6, ME_M_SYNC_NET4,
						ME_M_SYNC_NET6 };
	__u32 slot, cur;
	size_t i;

	if (!e)
		return 0;
	for (i = 0; i < sizeof(outer) / sizeof(outer[0]); i++)
		for (slot = 0; slot < ME_SYNC_SLOTS; slot++)
			if (e->fd[outer[i]] >= 0 &&
			    !bpf_map_lookup_elem(e->fd[outer[i]], &slot, &cur) && cur == id)
				return 1;
	return 0;
}

/* Close every cached table the outer maps no longer name. */
static void evict(void)
{
	struct me_edge *e = px_policy_edge();
	size_t i;

	for (i = 0; i < NCACHE; i++)
		if (cache[i].fd >= 0 && !current(e, cache[i].id)) {
			log_debug("edge: table id=%u retired, closed", cache[i].id);
			close(cache[i].fd);
			cache[i].fd = -1;
		}
}

static int dup_fd(int fd)
{
	int d = fcntl(fd, F_DUPFD_CLOEXEC, 0);

	return d < 0 ? -errno : d;
}

/* synctab.h's opener: ctx is unused (the cache is process-wide). */
static int open_id(__u32 id, void *ctx)
{
	int fd, rc;
	size_t i;

	(void)ctx;
	pthread_mutex_lock(&lock);
	for (i = 0; i < NCACHE; i++)
		if (cache[i].fd >= 0 && cache[i].id == id) {
			rc = dup_fd(cache[i].fd);
			goto out;
		}
	evict();
	fd = px_keeper_map_fd(id);
	if (fd < 0) {
		if (id != refused_id)
			log_warn("edge: no fd from the keeper for list sync's table id=%u: %s", id,
				 strerror(-fd));
		refused_id = id;
		rc = fd;
		goto out;
	}
	for (i = 0; i < NCACHE && cache[i].fd >= 0; i++)
		;
	if (i == NCACHE) { /* cannot happen after evict(); served uncached */
		rc = fd;
		goto out;
	}
	cache[i].id = id;
	cache[i].fd = fd;
	log_debug("edge: table id=%u opened by the keeper", id);
	rc = dup_fd(fd);
out:
	pthread_mutex_unlock(&lock);
	return rc;
}

void px_edgefd_install(void)
{
	size_t i;

	for (i = 0; i < NCACHE; i++)
		cache[i].fd = -1;
	installed = 1;
	me_synctab_set_opener(open_id, NULL);
}

void px_edgefd_uninstall(void)
{
	size_t i;

	if (!installed)
		return;
	installed = 0;
	me_synctab_set_opener(NULL, NULL);
	pthread_mutex_lock(&lock);
	for (i = 0; i < NCACHE; i++)
		if (cache[i].fd >= 0) {
			close(cache[i].fd);
			cache[i].fd = -1;
		}
	pthread_mutex_unlock(&lock);
}
