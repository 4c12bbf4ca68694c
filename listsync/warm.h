/* SPDX-License-Identifier: GPL-2.0 */
/*
 * warm.h - the IPv4 host table in use, mapped early and written ahead of a
 * refresh in place, at idle priority.
 *
 * On a hypervisor that shadows the guest's page tables, the first write
 * through a new mapping to each page of a BPF table exits to the host to set
 * the page's dirty bit: about 5 us a page measured on our 2-vCPU test VM, 80 ms
 * for a 64 MB table, and a 1% refresh of 8M hosts writes nearly every page.
 * The pages are written ahead (an atomic add of zero: no reader sees a
 * change) by a SCHED_IDLE thread while the run fetches, parses and sorts,
 * which leave a core idle for much of the time; the apply then writes
 * through the same mapping. Where the dirty bit is set by the hardware the
 * pass costs about a millisecond of otherwise idle CPU.
 */
#ifndef LS_WARM_H
#define LS_WARM_H

#include <pthread.h>
#include <stdatomic.h>

#include "edge.h"
#include "synctab.h"

struct ls_warm {
	struct me_tabmap t; /* the table, mapped read-write; t.mem NULL: none */
	__u32 id;	    /* its map ID: the mapping serves that map only */
	pthread_t th;
	int running;
	atomic_int stop;
	atomic_size_t pages; /* written so far */
};

/* Map the current generation's IPv4 host table and start writing its pages
 * ahead. Best effort: without it (no maps, no table, no thread) w simply
 * holds no mapping, and the apply maps the table itself. */
void ls_warm_start(struct ls_warm *w, struct me_edge *e);
/* Stop writing ahead (at once, wherever it got to), before the apply writes. */
void ls_warm_stop(struct ls_warm *w);
/* w's mapping, if it is of the map behind fd (the generation may have moved
 * on since), its writing ahead stopped; else NULL. w may be NULL. */
const struct me_tabmap *ls_warm_for(struct ls_warm *w, int fd);
/* Stop, unmap, close. */
void ls_warm_free(struct ls_warm *w);

#endif
