/* SPDX-License-Identifier: GPL-2.0 */
/*
 * synccache.h - list sync's tables, mapped once per process and kept while
 * they are in use: the read side of me_verdict_judge for a caller that judges
 * often (the proxy judges every client at connect).
 *
 * Mapping a table costs a map-ID-to-fd open (a round trip to the proxy's
 * keeper when it runs as nobody), an mmap, a munmap and a close; looking a
 * host up costs two cache lines. So a table is mapped the first time its map
 * ID is seen in a slot of the outer map, and reused while that slot still
 * names it. Reading the slot is one bpf_map_lookup_elem per table per
 * judgement: the cache never answers from a table list sync has replaced.
 *
 * Why an ID is enough: a mapping holds its map, so a cached table's ID cannot
 * be given to another map while it is cached. A refresh in place (sync_delta)
 * keeps the host tables and their IDs, and writes them through the shared
 * mapping as it writes them for the XDP program (under the generation bits
 * the caller passes); a subnet table is never changed once installed.
 *
 * One cache for the process, not one per thread: a worker that stays idle
 * after list sync rebuilt the tables would otherwise keep the old ones, and a
 * table can be hundreds of megabytes. A table is let go when the slots no
 * longer name it and nobody holds it: on the first miss after a rebuild every
 * stale table of every kind is dropped, and the last me_synccache_put of a
 * judgement in flight unmaps it. A mutex covers the cache; it is held for a
 * handful of pointer operations per table, and over the mapping only on a
 * miss (once per table per rebuild).
 */
#ifndef ME_SYNCCACHE_H
#define ME_SYNCCACHE_H

#include <linux/types.h>

#include "addr.h"
#include "edge.h"
#include "synctab.h"

struct me_pfxidx;

/* One cached table. t is read-only and stays mapped until the reference is
 * put; t.fd is -1 (the mapping alone holds the map). */
struct me_tabref {
	struct me_tabmap t;
	/* the cache's own */
	__u32 id;	 /* map ID */
	__u32 elem_size; /* the map's, as checked when it was mapped */
	__u32 nelem;
	int refs;	       /* cache slots and callers holding it */
	struct me_pfxidx *idx; /* subnets: prefix index, built on first need */
	int idx_rc;	       /* its build's error, once tried */
};

/* The table list sync has in generation gen's slot for a family and kind, as
 * a reference the caller puts back: 0, -ENOENT if the slot is empty (before
 * the first sync), -EUCLEAN if its header does not describe the map, or
 * another -errno. The map ID turns into an fd through synctab.h's opener. */
int me_synccache_get(struct me_edge *e, int family, int is_net, __u32 gen, struct me_tabref **out);
void me_synccache_put(struct me_tabref *r);

/* Drop every cached table (each unmapped once its last holder puts it):
 * before the maps are closed, and at exit. */
void me_synccache_flush(void);

/*
 * The entry a subnet table paints addr with, and which of its prefixes that
 * is: what me_nettab_lookup finds (the XDP program's answer: the longest
 * white prefix covering addr, else the longest black one), plus *pfx, the
 * longest prefix covering addr whose record names that entry (masked, of
 * addr's family). Without a walk of the prefixes: an index of them by length
 * and address is built on the first call for a table and kept with it.
 * Returns the dictionary index (< t.h->nvals), -ENOENT when nothing covers
 * addr, -ESRCH when no record names the painted entry (a table that
 * contradicts itself: walk it instead), or -ENOMEM / -EUCLEAN.
 */
int me_synccache_net_find(struct me_tabref *r, const struct me_prefix *addr, struct me_prefix *pfx);

#endif
