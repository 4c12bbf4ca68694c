// SPDX-License-Identifier: GPL-2.0
/*
 * synctab.c - reading list sync's tables from userspace.
 *
 * A table is read through its mmap, not through bpf_map_lookup_elem: a walk of
 * eight million hosts is then a walk of memory. Nothing here trusts a header:
 * every index taken from a table is checked against the map's real size first,
 * so a damaged table gives an error, never a read out of bounds.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <netinet/in.h>
#include <bpf/bpf.h>

#include "synctab.h"

_Static_assert(sizeof(struct me_tab_hdr) == 64, "header is one cache line");
_Static_assert(sizeof(struct me_tab_val) == 16, "dictionary entry");
_Static_assert(sizeof(struct me_hb4) == 64, "an IPv4 bucket is one cache line");
_Static_assert(sizeof(struct me_hb6) == 64, "an IPv6 bucket is one cache line");
_Static_assert(sizeof(struct me_tab_pfx) == 32, "prefix record");

static __u32 kind_elem_size(__u32 kind)
{
	switch (kind) {
	case ME_TAB_HOST4:
	case ME_TAB_HOST6:
		return 64;
	case ME_TAB_NET4:
		return sizeof(struct me_tn4);
	case ME_TAB_NET6:
		return sizeof(struct me_tn6);
	}
	return 0;
}

static __u32 root_elems(__u32 kind)
{
	return kind == ME_TAB_NET4 ? (1u << ME_TN4_STRIDE) / ME_TN_FANOUT
				   : (1u << ME_TN6_STRIDE) / ME_TN_FANOUT;
}

int me_tab_check(const struct me_tab_hdr *h, __u32 elem_size, __u32 nelem)
{
	__u64 end;

	if (h->magic != ME_TAB_MAGIC || !kind_elem_size(h->kind) ||
	    kind_elem_size(h->kind) != elem_size || h->elem_size != elem_size ||
	    h->nelem != nelem || h->nvals > ME_TAB_VALS ||
	    h->base != me_tab_head_elems(elem_size))
		return -EUCLEAN;
	if (h->kind == ME_TAB_HOST4 || h->kind == ME_TAB_HOST6)
		return (__u64)h->base + h->nbuckets <= nelem ? 0 : -EUCLEAN;
	if (!h->nprefixes)
		return 0;
	end = (__u64)h->pfx_base +
	      ((__u64)h->nprefixes * sizeof(struct me_tab_pfx) + elem_size - 1) / elem_size;
	if (h->chunk_base < (__u64)h->base + root_elems(h->kind) ||
	    (__u64)h->chunk_base + h->nchunks > h->pfx_base || end > nelem)
		return -EUCLEAN;
	return 0;
}

int me_tab_map(int fd, int writable, struct me_tabmap *t)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	void *mem;
	int rc;

	memset(t, 0, sizeof(*t));
	t->fd = -1;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.type != BPF_MAP_TYPE_ARRAY || !(info.map_flags & BPF_F_MMAPABLE) ||
	    info.value_size < sizeof(struct me_tab_hdr) || (info.value_size & 7))
		return -EUCLEAN;
	t->size = ((size_t)info.value_size * info.max_entries + page - 1) / page * page;
	mem = mmap(NULL, t->size, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED)
		return -errno;
	t->mem = mem;
	t->h = mem;
	t->fd = fd;
	rc = me_tab_check(t->h, info.value_size, info.max_entries);
	if (rc)
		me_tab_unmap(t);
	return rc;
}

void me_tab_unmap(struct me_tabmap *t)
{
	if (t->mem)
		munmap(t->mem, t->size);
	t->mem = NULL;
	t->h = NULL;
}

int me_hostab_lookup(const struct me_tabmap *t, const struct me_prefix *p, __u32 gen)
{
	__u32 b[2], k = 0;
	__u64 hash;
	int i, slot;

	if (!t->h->nbuckets)
		return -1;
	if (t->h->kind == ME_TAB_HOST4) {
		memcpy(&k, p->addr, 4);
		hash = me_tab_hash4(k, t->h->seed);
	} else {
		__u32 w[4];

		memcpy(w, p->addr, 16);
		hash = me_tab_hash6(w, t->h->seed);
	}
	b[0] = me_tab_bucket1(hash, t->h->nbuckets);
	b[1] = me_tab_bucket2(hash, t->h->nbuckets);
	for (i = 0; i < 2; i++) {
		const void *bk = me_tab_elem(t, t->h->base + b[i]);

		if (t->h->kind == ME_TAB_HOST4) {
			slot = me_hb4_find(bk, k, gen);
			if (slot >= 0)
				return ((const struct me_hb4 *)bk)->val[slot];
		} else {
			__u32 w[4];

			memcpy(w, p->addr, 16);
			slot = me_hb6_find(bk, w, gen);
			if (slot >= 0)
				return ((const struct me_hb6 *)bk)->val[slot];
		}
	}
	return -1;
}

/* Entry i of trie element el (a root element or a chunk). */
static __u32 tn_entry(const struct me_tabmap *t, __u32 el, __u32 i)
{
	if (t->h->kind == ME_TAB_NET4)
		return ((const struct me_tn4 *)me_tab_elem(t, el))->e[i];
	return ((const struct me_tn6 *)me_tab_elem(t, el))->e[i];
}

int me_nettab_lookup(const struct me_tabmap *t, const struct me_prefix *addr)
{
	const struct me_tab_hdr *h = t->h;
	int v4 = h->kind == ME_TAB_NET4;
	__u32 stride = v4 ? ME_TN4_STRIDE : ME_TN6_STRIDE;
	__u32 chunk_bit = v4 ? ME_TN4_CHUNK : ME_TN6_CHUNK;
	__u32 root = 0, e, pos;

	if (!h->nprefixes)
		return -1;
	for (pos = 0; pos < stride; pos += 8)
		root = root << 8 | addr->addr[pos / 8];
	e = tn_entry(t, h->base + root / ME_TN_FANOUT, root % ME_TN_FANOUT);
	for (pos = stride; e & chunk_bit; pos += 8) {
		__u32 c = e & ~chunk_bit;

		if (c >= h->nchunks || pos >= (v4 ? 32u : 128u))
			return -1; /* damaged: me_tab_walk reports it */
		e = tn_entry(t, h->chunk_base + c, addr->addr[pos / 8]);
	}
	return e ? (int)e - 1 : -1;
}

static void key_prefix(int v6, const void *key, struct me_prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->family = v6 ? AF_INET6 : AF_INET;
	p->len = v6 ? 128 : 32;
	memcpy(p->addr, key, v6 ? 16 : 4);
}

static int walk_hosts(const struct me_tabmap *t, __u32 gen, me_tab_cb cb, void *ctx)
{
	int v6 = t->h->kind == ME_TAB_HOST6;
	__u32 nslots = v6 ? ME_HB6_SLOTS : ME_HB4_SLOTS, b, i;
	struct me_prefix p;
	int rc;

	for (b = 0; b < t->h->nbuckets; b++) {
		const void *bk = me_tab_elem(t, t->h->base + b);
		__u32 vis = me_tab_vis(v6 ? ((const struct me_hb6 *)bk)->vis
					  : ((const struct me_hb4 *)bk)->vis,
				       gen);

		for (i = 0; i < nslots; i++) {
			const struct me_tab_val *v;
			__u8 val;

			if (!(vis & (1u << i)))
				continue;
			if (v6) {
				key_prefix(1, &((const struct me_hb6 *)bk)->key[i], &p);
				val = ((const struct me_hb6 *)bk)->val[i];
			} else {
				key_prefix(0, &((const struct me_hb4 *)bk)->key[i], &p);
				val = ((const struct me_hb4 *)bk)->val[i];
			}
			if (val >= t->h->nvals)
				return -EUCLEAN;
			v = me_tab_val(t, val);
			rc = cb(ctx, (int)v->list, &p, &v->e);
			if (rc)
				return rc;
		}
	}
	return 0;
}

static int walk_nets(const struct me_tabmap *t, me_tab_cb cb, void *ctx)
{
	const struct me_tab_pfx *rec = me_tab_elem(t, t->h->pfx_base);
	int v6 = t->h->kind == ME_TAB_NET6;
	struct me_prefix p;
	__u32 i;
	int rc;

	for (i = 0; i < t->h->nprefixes; i++) {
		const struct me_tab_val *v;

		if (rec[i].val >= t->h->nvals || rec[i].len > (v6 ? 128 : 32))
			return -EUCLEAN;
		key_prefix(v6, rec[i].addr, &p);
		p.len = rec[i].len;
		v = me_tab_val(t, rec[i].val);
		rc = cb(ctx, (int)v->list, &p, &v->e);
		if (rc)
			return rc;
	}
	return 0;
}

int me_tab_walk(const struct me_tabmap *t, __u32 gen, me_tab_cb cb, void *ctx)
{
	if (t->h->kind == ME_TAB_HOST4 || t->h->kind == ME_TAB_HOST6)
		return walk_hosts(t, gen, cb, ctx);
	return walk_nets(t, cb, ctx);
}

static me_synctab_opener opener;
static void *opener_ctx;

void me_synctab_set_opener(me_synctab_opener open_id, void *ctx)
{
	opener = open_id;
	opener_ctx = ctx;
}

int me_sync_open_id(__u32 id)
{
	int fd;

	if (opener)
		return opener(id, opener_ctx);
	fd = bpf_map_get_fd_by_id(id);
	return fd < 0 ? -errno : fd;
}

int me_sync_inner_fd(struct me_edge *e, enum me_map_id outer, __u32 slot)
{
	__u32 id;

	if (bpf_map_lookup_elem(e->fd[outer], &slot, &id))
		return -ENOENT;
	return me_sync_open_id(id);
}

static int open_current(struct me_edge *e, int family, int is_net, int writable,
			struct me_tabmap *t, __u32 *gen)
{
	struct me_config cfg;
	__u32 zero = 0;
	int fd, rc;

	memset(t, 0, sizeof(*t));
	t->fd = -1;
	if (bpf_map_lookup_elem(e->fd[ME_M_CONFIG], &zero, &cfg))
		return -errno;
	*gen = cfg.sync_gen & 1;
	fd = me_sync_inner_fd(e, me_sync_map(family, is_net), *gen);
	if (fd < 0)
		return fd;
	rc = me_tab_map(fd, writable, t);
	if (rc)
		close(fd);
	return rc;
}

int me_synctab_open(struct me_edge *e, int family, int is_net, struct me_tabmap *t, __u32 *gen)
{
	return open_current(e, family, is_net, 0, t, gen);
}

int me_synctab_open_rw(struct me_edge *e, int family, int is_net, struct me_tabmap *t,
		       __u32 *gen)
{
	return open_current(e, family, is_net, 1, t, gen);
}

void me_synctab_close(struct me_tabmap *t)
{
	me_tab_unmap(t);
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}
