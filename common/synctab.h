/* SPDX-License-Identifier: GPL-2.0 */
/*
 * synctab.h - list sync's tables as userspace reads them: mapped into memory,
 * checked, looked up and walked with the same arithmetic the program uses.
 */
#ifndef ME_SYNCTAB_H
#define ME_SYNCTAB_H

#include <stddef.h>
#include <linux/types.h>

#include "addr.h"
#include "edge.h"
#include "table.h"

/* One table, mapped. */
struct me_tabmap {
	int fd;
	void *mem;
	size_t size; /* bytes mapped */
	struct me_tab_hdr *h;
};

/* Map the table behind fd (PROT_READ, or read-write with writable) and check
 * that its header describes the map it is in. The fd stays the caller's. */
int me_tab_map(int fd, int writable, struct me_tabmap *t);
void me_tab_unmap(struct me_tabmap *t);

/* Check a header against the map it claims to describe: -EUCLEAN if it does
 * not (a table list sync did not finish, or another program's map). */
int me_tab_check(const struct me_tab_hdr *h, __u32 elem_size, __u32 nelem);

static inline void *me_tab_elem(const struct me_tabmap *t, __u32 i)
{
	return (char *)t->mem + (size_t)i * t->h->elem_size;
}

static inline const struct me_tab_val *me_tab_val(const struct me_tabmap *t, __u32 v)
{
	return (const struct me_tab_val *)me_tab_elem(t, me_tab_val_elem(t->h, v)) +
	       me_tab_val_slot(t->h, v);
}

/* The dictionary index live for generation gen under a host, or -1. p must be
 * a host prefix of the table's family. */
int me_hostab_lookup(const struct me_tabmap *t, const struct me_prefix *p, __u32 gen);

/* The dictionary index a subnet table paints addr with, or -1: what the program
 * would find. addr is a host prefix of the table's family. */
int me_nettab_lookup(const struct me_tabmap *t, const struct me_prefix *addr);

/* Every entry of a table live in generation gen (hosts) or listed (subnets).
 * cb returns non-zero to stop, which me_tab_walk returns. */
typedef int (*me_tab_cb)(void *ctx, int list, const struct me_prefix *p, const struct me_entry *e);
int me_tab_walk(const struct me_tabmap *t, __u32 gen, me_tab_cb cb, void *ctx);

/* The table list sync has in use for a family and kind, mapped read-only:
 * -ENOENT before the first sync. *gen is the generation it was read at.
 * me_synctab_close unmaps it and closes its fd. */
int me_synctab_open(struct me_edge *e, int family, int is_net, struct me_tabmap *t, __u32 *gen);
/* The same, mapped read-write: for list sync, which alone writes it. */
int me_synctab_open_rw(struct me_edge *e, int family, int is_net, struct me_tabmap *t,
		       __u32 *gen);
void me_synctab_close(struct me_tabmap *t);

/* The inner map of a list-sync slot, as a new fd the caller closes, or -ENOENT
 * if the slot is empty. The outer map gives the table's map ID, and turning
 * an ID into an fd (bpf_map_get_fd_by_id) takes CAP_SYS_ADMIN; see below. */
int me_sync_inner_fd(struct me_edge *e, enum me_map_id outer, __u32 slot);
/* A table by its map ID, through the opener below: a new fd, or -errno. */
int me_sync_open_id(__u32 id);

/*
 * Who turns a table's map ID into an fd, for a process that reads the tables
 * after dropping root (the proxy): open_id returns a new fd the caller owns,
 * or -errno. The fd must be one me_tab_map can map: the kernel refuses to
 * mmap a map fd opened BPF_F_RDONLY, even for reading. NULL restores
 * bpf_map_get_fd_by_id. Process-wide, and not locked: set it before any
 * thread reads a table, and clear it only once none does.
 */
typedef int (*me_synctab_opener)(__u32 id, void *ctx);
void me_synctab_set_opener(me_synctab_opener open_id, void *ctx);

#endif
