// SPDX-License-Identifier: GPL-2.0
/*
 * warm.c - the IPv4 host table in use, written ahead (warm.h).
 */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "warm.h"

/* The pages written so far are published once per this many. */
#define COUNT_EVERY 64

static void *write_ahead(void *arg)
{
	struct ls_warm *w = arg;
	struct sched_param sp = { 0 };
	size_t page = (size_t)sysconf(_SC_PAGESIZE), off, n = 0;
	char *mem = w->t.mem;

	/* Only what no other thread wants: the run's own work goes first. */
	pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp);
	for (off = 0; off < w->t.size; off += page) {
		if (atomic_load_explicit(&w->stop, memory_order_relaxed))
			break;
		if (!(n % COUNT_EVERY))
			atomic_store_explicit(&w->pages, n, memory_order_relaxed);
		/* A write that changes nothing, done atomically: a packet
		 * reading the word sees the same value, and a store by another
		 * writer lands wholly before or after it, never undone. */
		__atomic_fetch_add((__u64 *)(void *)(mem + off), 0, __ATOMIC_RELAXED);
		n++;
	}
	atomic_store_explicit(&w->pages, n, memory_order_relaxed);
	return NULL;
}

static int map_id_of(int fd, __u32 *id)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	*id = info.id;
	return 0;
}

void ls_warm_start(struct ls_warm *w, struct me_edge *e)
{
	__u32 gen;

	memset(w, 0, sizeof(*w));
	w->t.fd = -1;
	atomic_init(&w->stop, 0);
	atomic_init(&w->pages, 0);
	if (me_synctab_open_rw(e, AF_INET, 0, &w->t, &gen))
		return;
	if (map_id_of(w->t.fd, &w->id)) {
		me_synctab_close(&w->t);
		return;
	}
	w->running = !pthread_create(&w->th, NULL, write_ahead, w);
}

void ls_warm_stop(struct ls_warm *w)
{
	struct sched_param sp = { 0 };

	if (!w->running)
		return;
	atomic_store_explicit(&w->stop, 1, memory_order_relaxed);
	/* At idle priority on busy CPUs it might not see the stop for a long
	 * while, and the caller waits for it with the edge lock held. */
	pthread_setschedparam(w->th, SCHED_OTHER, &sp);
	pthread_join(w->th, NULL);
	w->running = 0;
}

const struct me_tabmap *ls_warm_for(struct ls_warm *w, int fd)
{
	__u32 id = 0;

	if (!w)
		return NULL;
	ls_warm_stop(w); /* the apply writes next, through one mapping or another */
	if (!w->t.mem || map_id_of(fd, &id) || w->id != id)
		return NULL;
	return &w->t;
}

void ls_warm_free(struct ls_warm *w)
{
	ls_warm_stop(w);
	me_synctab_close(&w->t);
}
