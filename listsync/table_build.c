// SPDX-License-Identifier: GPL-2.0
/*
 * table_build.c - list sync's host and subnet tables, written in memory.
 *
 * A table is a BPF array map list sync maps into its own memory: filling it is
 * a loop of stores, where the kernel's hash maps took a syscall batch and an
 * allocation per entry (126 bytes of kernel memory each, against 64 / 12 / 0.94
 * = 5.7 bytes for an IPv4 host here).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "hugemem.h"
#include "radix.h"
#include "table_build.h"

/* Fill targets, as fractions of the slots: a two-choice cuckoo table with 12
 * slots a bucket takes random inserts well past 0.99, with 3 past 0.95. IPv4
 * stays at 0.85 so that a refresh in place finds free slots for its new hosts
 * (still 6.3 bytes a host); IPv6 at 0.90 to keep within 24 bytes a host, and
 * its refreshes move entries to make room more often. Each failed build grows
 * the table 5%. The IPv4 table list sync installs has a fixed size (table.h,
 * me_host4_elems) with 10% more buckets than 0.85 at capacity, and uses all
 * of them. */
#define LOAD4	     (ME_HOST4_LOAD_PCT / 100.0)
#define LOAD6	     0.90
#define ATTEMPTS     8
#define MAX_KICKS    1000
#define PREFETCH_AHEAD 16
/* A subnet table may not grow past this (a quarter of a gigabyte): only
 * thousands of long, scattered IPv6 prefixes could get there. */
#define NET_MAX_BYTES (256u << 20)

int me_tabdict_index(struct me_tabdict *d, int list, const struct me_entry *e)
{
	__u32 i;

	for (i = 0; i < d->n; i++)
		if (d->v[i].list == (__u32)list && !memcmp(&d->v[i].e, e, sizeof(*e)))
			return (int)i;
	if (d->n == ME_TAB_VALS)
		return -ENOSPC;
	memset(&d->v[d->n], 0, sizeof(d->v[d->n]));
	d->v[d->n].e = *e;
	d->v[d->n].list = (__u32)list;
	return (int)d->n++;
}

int me_tabdict_of_union(const struct me_union *u, struct me_tabdict *d, __u8 *idx, char *why,
			size_t why_len)
{
	int last = -1;
	size_t i;

	memset(d, 0, sizeof(*d));
	for (i = 0; i < u->n; i++) {
		const struct me_urec *r = &u->v[i];
		int k;

		/* Neighbours mostly come from one source: try the last one first. */
		if (last >= 0 && d->v[last].list == r->list &&
		    !memcmp(&d->v[last].e, &r->val, sizeof(r->val))) {
			idx[i] = (__u8)last;
			continue;
		}
		k = me_tabdict_index(d, r->list, &r->val);
		if (k < 0) {
			snprintf(why, why_len,
				 "the lists carry more than %d distinct list, action and source "
				 "combinations",
				 ME_TAB_VALS);
			return k;
		}
		idx[i] = (__u8)k;
		last = k;
	}
	return 0;
}

static __u32 elem_size_of(enum me_tab_kind kind)
{
	if (kind == ME_TAB_NET4)
		return sizeof(struct me_tn4);
	if (kind == ME_TAB_NET6)
		return sizeof(struct me_tn6);
	return 64;
}

int me_tab_create(struct me_tabmap *t, enum me_tab_kind kind, __u32 nelem, int fixed,
		  const struct me_tabdict *d, char *why, size_t why_len)
{
	static const char *const names[] = { "", "me_sync_host4", "me_sync_host6",
					      "me_sync_net4", "me_sync_net6" };
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = fixed ? ME_TAB_FLAGS_FIXED : ME_TAB_FLAGS);
	__u32 esize = elem_size_of(kind), i;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	void *mem;
	int fd;

	memset(t, 0, sizeof(*t));
	t->fd = -1;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, names[kind], sizeof(__u32), esize, nelem, &o);
	if (fd < 0) {
		snprintf(why, why_len, "cannot create %s of %u elements (%.1f MB): %s",
			 names[kind], nelem, (double)esize * nelem / 1e6, strerror(errno));
		return -errno;
	}
	t->size = ((size_t)esize * nelem + page - 1) / page * page;
	mem = mmap(NULL, t->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED) {
		snprintf(why, why_len, "cannot map %s: %s", names[kind], strerror(errno));
		close(fd);
		return -errno;
	}
	t->fd = fd;
	t->mem = mem;
	t->h = mem;
	t->h->magic = ME_TAB_MAGIC;
	t->h->kind = kind;
	t->h->elem_size = esize;
	t->h->nelem = nelem;
	t->h->base = me_tab_head_elems(esize);
	t->h->nvals = d->n;
	for (i = 0; i < d->n; i++)
		*(struct me_tab_val *)me_tab_val(t, i) = d->v[i];
	return 0;
}

void me_tab_destroy(struct me_tabmap *t)
{
	me_tab_unmap(t);
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}

/* ---- host tables ---- */

static int is_host(const struct me_urec *r, int v6)
{
	return r->family == (v6 ? 6 : 4) && r->len == (v6 ? 128 : 32);
}

static __u32 *bk_vis(void *bk, int v6)
{
	return v6 ? &((struct me_hb6 *)bk)->vis : &((struct me_hb4 *)bk)->vis;
}

static int nslots(int v6)
{
	return v6 ? ME_HB6_SLOTS : ME_HB4_SLOTS;
}

static __u32 slot_bits(int i, __u32 gens) /* gens: bit 0 = gen 0, bit 1 = gen 1 */
{
	return ((gens & 1) ? 1u << i : 0) | ((gens & 2) ? 1u << (ME_VIS_SHIFT + i) : 0);
}

static int slot_free(void *bk, int v6, int i)
{
	return !(*bk_vis(bk, v6) & slot_bits(i, 3));
}

/* Slots live in either generation, as a mask. */
static __u32 used_mask(void *bk, int v6)
{
	__u32 v = *bk_vis(bk, v6);

	return (v | v >> ME_VIS_SHIFT) & ((1u << nslots(v6)) - 1);
}

/* The slot holding key live in any generation, or -1. Word compares, not
 * memcmp: this runs for every entry of every build. */
static int find_any(void *bk, int v6, const __u8 *key)
{
	__u32 m = used_mask(bk, v6), w[4];
	int i;

	memcpy(w, key, v6 ? 16 : 4);
	for (; m; m &= m - 1) {
		i = __builtin_ctz(m);
		if (v6) {
			const __u32 *k = ((struct me_hb6 *)bk)->key[i].w;

			if (k[0] == w[0] && k[1] == w[1] && k[2] == w[2] && k[3] == w[3])
				return i;
		} else if (((struct me_hb4 *)bk)->key[i] == w[0]) {
			return i;
		}
	}
	return -1;
}

static int first_free(void *bk, int v6)
{
	__u32 m = ~used_mask(bk, v6) & ((1u << nslots(v6)) - 1);

	return m ? __builtin_ctz(m) : -1;
}

static int used_slots(void *bk, int v6)
{
	return __builtin_popcount(used_mask(bk, v6));
}

/* Key and value first, then (a release store) the bits that make them live:
 * a packet that sees a bit sees what it guards. */
static void put(void *bk, int v6, int i, const __u8 *key, __u8 val, __u32 gens)
{
	if (v6) {
		memcpy(&((struct me_hb6 *)bk)->key[i], key, 16);
		((struct me_hb6 *)bk)->val[i] = val;
	} else {
		memcpy(&((struct me_hb4 *)bk)->key[i], key, 4);
		((struct me_hb4 *)bk)->val[i] = val;
	}
	__atomic_store_n(bk_vis(bk, v6), *bk_vis(bk, v6) | slot_bits(i, gens), __ATOMIC_RELEASE);
}

static void take(void *bk, int v6, int i, __u8 *key, __u8 *val)
{
	if (v6) {
		memcpy(key, &((struct me_hb6 *)bk)->key[i], 16);
		*val = ((struct me_hb6 *)bk)->val[i];
	} else {
		memcpy(key, &((struct me_hb4 *)bk)->key[i], 4);
		*val = ((struct me_hb4 *)bk)->val[i];
	}
}

static void buckets_of(const struct me_tabmap *t, int v6, const __u8 *key, __u32 b[2])
{
	__u64 h;

	if (v6) {
		__u32 w[4];

		memcpy(w, key, 16);
		h = me_tab_hash6(w, t->h->seed);
	} else {
		__u32 k;

		memcpy(&k, key, 4);
		h = me_tab_hash4(k, t->h->seed);
	}
	b[0] = me_tab_bucket1(h, t->h->nbuckets);
	b[1] = me_tab_bucket2(h, t->h->nbuckets);
}

static void *bucket(const struct me_tabmap *t, __u32 b)
{
	return me_tab_elem(t, t->h->base + b);
}

static __u32 xorshift(__u32 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/*
 * Insert into a table no packet reads yet (live in both generations), moving
 * entries as cuckoo hashing does when both buckets are full. -EEXIST if the
 * key is there; -ENOSPC if the random walk gave up, with one entry (maybe
 * another than key) lost: the caller starts over with another seed.
 */
static int insert_fresh(struct me_tabmap *t, int v6, const __u8 *key_in, __u8 val, __u32 *rng,
			int unique)
{
	__u8 key[16], vkey[16], vval;
	__u32 b[2], cur;
	void *bk[2];
	int i, k, kick;

	buckets_of(t, v6, key_in, b);
	bk[0] = bucket(t, b[0]);
	bk[1] = bucket(t, b[1]);
	if (!unique && (find_any(bk[0], v6, key_in) >= 0 || find_any(bk[1], v6, key_in) >= 0))
		return -EEXIST;
	/* Two choices: the emptier bucket, which keeps the load even. */
	k = used_slots(bk[1], v6) < used_slots(bk[0], v6);
	for (i = 0; i < 2; i++, k ^= 1) {
		int s = first_free(bk[k], v6);

		if (s >= 0) {
			put(bk[k], v6, s, key_in, val, 3);
			return 0;
		}
	}
	memcpy(key, key_in, v6 ? 16 : 4);
	cur = b[xorshift(rng) & 1];
	for (kick = 0; kick < MAX_KICKS; kick++) {
		void *cb = bucket(t, cur);
		int s = (int)(xorshift(rng) % (__u32)nslots(v6)), f;

		take(cb, v6, s, vkey, &vval);
		put(cb, v6, s, key, val, 3);
		memcpy(key, vkey, 16);
		val = vval;
		buckets_of(t, v6, key, b);
		cur = b[0] == cur ? b[1] : b[0];
		f = first_free(bucket(t, cur), v6);
		if (f >= 0) {
			put(bucket(t, cur), v6, f, key, val, 3);
			return 0;
		}
	}
	return -ENOSPC;
}

static void prefetch_rec(const struct me_tabmap *t, int v6, const struct me_urec *r)
{
	__u32 b[2];

	if (!is_host(r, v6))
		return;
	buckets_of(t, v6, r->addr, b);
	__builtin_prefetch(bucket(t, b[0]), 1);
	__builtin_prefetch(bucket(t, b[1]), 1);
}

static int fill_hosts(struct me_tabmap *t, const struct me_union *u, const __u8 *idx, int v6,
		      __u32 *rng)
{
	int pass, rc;
	size_t i;

	/* Whitelist first: a host on both lists keeps its white entry. */
	for (pass = ME_LIST_WHITE; pass <= ME_LIST_BLACK; pass++)
		for (i = 0; i < u->n; i++) {
			const struct me_urec *r = &u->v[i];

			/* Only this pass's hosts: the other list's would be
			 * fetched for nothing (the union is sorted by list). */
			if (i + PREFETCH_AHEAD < u->n && u->v[i + PREFETCH_AHEAD].list == pass)
				prefetch_rec(t, v6, &u->v[i + PREFETCH_AHEAD]);
			if (r->list != pass || !is_host(r, v6))
				continue;
			rc = insert_fresh(t, v6, r->addr, idx[i], rng, 0);
			if (rc == -EEXIST)
				continue;
			if (rc)
				return rc;
			t->h->count[pass]++;
		}
	return 0;
}

/*
 * The IPv4 hosts of a fresh table, in bucket order. Inserted in the union's
 * order, every host is a random read of the table (two, with the second
 * choice), and at 8M hosts in a 48 MB table each is a cache and TLB miss: it
 * was a third of a full sync. Sorted by first bucket, the hosts fill the table
 * front to back, and only those whose first bucket is full (about 5% at this
 * load) take the random path, two choices and cuckoo moves.
 *
 * A host on both lists keeps its white entry, as fill_hosts does: the union
 * holds each list's IPv4 hosts sorted by address, so a walk of the two side by
 * side finds them without looking into the table.
 */
static int fill_hosts4(struct me_tabmap *t, const struct me_union *u, const __u8 *idx, size_t n,
		       __u32 *rng)
{
	size_t i, w = 0, m = 0, over = 0, wbeg = u->n, wend = u->n;
	struct ls_kv *kv;
	__u32 b[2], a;
	int rc = 0;

	for (i = 0; i < u->n; i++)
		if (u->v[i].list == ME_LIST_WHITE && is_host(&u->v[i], 0)) {
			if (wbeg == u->n)
				wbeg = i;
			wend = i + 1;
		}
	kv = malloc((n ? n : 1) * sizeof(*kv));
	if (!kv)
		return -ENOMEM;
	me_hugepages(kv, n * sizeof(*kv));
	w = wbeg;
	for (i = 0; i < u->n; i++) {
		const struct me_urec *r = &u->v[i];

		if (!is_host(r, 0))
			continue;
		if (r->list == ME_LIST_BLACK) {
			while (w < wend && (!is_host(&u->v[w], 0) ||
					    memcmp(u->v[w].addr, r->addr, 4) < 0))
				w++;
			if (w < wend && !memcmp(u->v[w].addr, r->addr, 4))
				continue; /* whitelisted: the white entry stays */
		}
		buckets_of(t, 0, r->addr, b);
		memcpy(&a, r->addr, 4);
		kv[m].key = b[0];
		kv[m++].idx = (__u64)a << 32 | (__u64)r->list << 8 | idx[i];
	}
	if (ls_radix_sort(kv, m)) {
		free(kv);
		return -ENOMEM;
	}
	/* First choices, front to back; the rest collect at the array's start. */
	for (i = 0; i < m; i++) {
		void *bk = bucket(t, (__u32)kv[i].key);
		int s = first_free(bk, 0);

		if (i + PREFETCH_AHEAD < m)
			__builtin_prefetch(bucket(t, (__u32)kv[i + PREFETCH_AHEAD].key), 1);
		a = (__u32)(kv[i].idx >> 32);
		if (s < 0) {
			kv[over++] = kv[i];
			continue;
		}
		put(bk, 0, s, (const __u8 *)&a, (__u8)kv[i].idx, 3);
		t->h->count[(kv[i].idx >> 8) & 1]++;
	}
	for (i = 0; i < over && !rc; i++) {
		a = (__u32)(kv[i].idx >> 32);
		rc = insert_fresh(t, 0, (const __u8 *)&a, (__u8)kv[i].idx, rng, 1);
		if (!rc)
			t->h->count[(kv[i].idx >> 8) & 1]++;
	}
	free(kv);
	return rc;
}

int me_hostab_build(const struct me_union *u, const __u8 *idx, const struct me_tabdict *d, int v6,
		    __u32 nelem, struct me_tabmap *t, char *why, size_t why_len)
{
	__u32 head = me_tab_head_elems(64), room = nelem > head ? nelem - head : 0;
	double per_bucket = nslots(v6) * (v6 ? LOAD6 : LOAD4);
	__u32 rng = (__u32)time(NULL) | 1, nb;
	size_t i, n = 0;
	int attempt, rc;

	for (i = 0; i < u->n; i++)
		n += is_host(&u->v[i], v6);
	for (attempt = 0; attempt < ATTEMPTS; attempt++) {
		double want = (double)n / per_bucket * (1.0 + 0.05 * attempt) + 1;

		if (want > (double)(UINT32_MAX / 2)) {
			snprintf(why, why_len, "%zu hosts are too many for one table", n);
			return -E2BIG;
		}
		nb = n ? (__u32)want : 0;
		/* A fixed table is all allocated anyway: every bucket of it is
		 * used, which leaves a refresh in place more free slots (73.7%
		 * full at capacity rather than 85%); retries take another seed. */
		if (nelem && n)
			nb = room;
		rc = me_tab_create(t, v6 ? ME_TAB_HOST6 : ME_TAB_HOST4,
				   nelem ? nelem : head + (nb ? nb : 1), nelem != 0, d, why, why_len);
		if (rc)
			return rc;
		t->h->nbuckets = nb;
		t->h->seed = xorshift(&rng);
		t->h->max_probe = 2;
		t->h->settled = ME_TAB_SETTLED; /* every host is put in both generations */
		if (!n)
			return 0;
		rc = v6 ? fill_hosts(t, u, idx, v6, &rng) : fill_hosts4(t, u, idx, n, &rng);
		if (!rc)
			return 0;
		me_tab_destroy(t);
		if (rc == -ENOMEM) {
			snprintf(why, why_len, "out of memory placing %zu IPv%d hosts", n, v6 ? 6 : 4);
			return rc;
		}
	}
	snprintf(why, why_len, "could not place %zu IPv%d hosts in %u buckets after %d attempts", n,
		 v6 ? 6 : 4, nb, ATTEMPTS);
	return -ENOSPC;
}

#define POS(b, s)     ((int)((b) * ME_HOSTAB_POS_PER_BUCKET + (__u32)(s)))
#define POS_BUCKET(p) ME_HOSTAB_POS_BUCKET(p)
#define POS_SLOT(p)   ((int)((__u32)(p) % ME_HOSTAB_POS_PER_BUCKET))

int me_hostab_locate(const struct me_tabmap *t, const __u8 *addr, __u32 gen)
{
	int v6 = t->h->kind == ME_TAB_HOST6, i, s;
	__u32 b[2], w[4], k;

	if (!t->h->nbuckets)
		return -ENOENT;
	buckets_of(t, v6, addr, b);
	memcpy(w, addr, 16);
	memcpy(&k, addr, 4);
	for (i = 0; i < 2; i++) {
		const void *bk = bucket(t, b[i]);

		s = v6 ? me_hb6_find(bk, w, gen) : me_hb4_find(bk, k, gen);
		if (s >= 0)
			return POS(b[i], s);
	}
	return -ENOENT;
}

int me_hostab_add(struct me_tabmap *t, const __u8 *addr, __u8 val, __u32 gen)
{
	int v6 = t->h->kind == ME_TAB_HOST6, i, s;
	__u32 b[2];

	if (!t->h->nbuckets)
		return -ENOSPC;
	buckets_of(t, v6, addr, b);
	for (i = 0; i < 2; i++) {
		s = first_free(bucket(t, b[i]), v6);
		if (s >= 0) {
			put(bucket(t, b[i]), v6, s, addr, val, 1u << (gen & 1));
			return POS(b[i], s);
		}
	}
	return -ENOSPC;
}

int me_hostab_make_room(struct me_tabmap *t, const __u8 *addr, me_hostab_movable_fn movable,
			void *ctx, int *to)
{
	int v6 = t->h->kind == ME_TAB_HOST6, i, s, f;
	__u8 key[16] = { 0 }, val;
	__u32 b[2], vb[2], alt;

	if (!t->h->nbuckets)
		return -ENOSPC;
	buckets_of(t, v6, addr, b);
	for (i = 0; i < 2; i++) {
		void *bk = bucket(t, b[i]);

		for (s = 0; s < nslots(v6); s++) {
			if ((*bk_vis(bk, v6) & slot_bits(s, 3)) != slot_bits(s, 3) ||
			    !movable(ctx, POS(b[i], s)))
				continue;
			take(bk, v6, s, key, &val);
			buckets_of(t, v6, key, vb);
			alt = vb[0] == b[i] ? vb[1] : vb[0];
			if (alt == b[i])
				continue;
			f = first_free(bucket(t, alt), v6);
			if (f < 0)
				continue;
			put(bucket(t, alt), v6, f, key, val, 3);
			*to = POS(alt, f);
			return POS(b[i], s);
		}
	}
	return -ENOSPC;
}

void me_hostab_free(struct me_tabmap *t, int pos)
{
	int v6 = t->h->kind == ME_TAB_HOST6;
	__u32 *vis = bk_vis(bucket(t, POS_BUCKET(pos)), v6);

	__atomic_store_n(vis, *vis & ~slot_bits(POS_SLOT(pos), 3), __ATOMIC_RELEASE);
}

int me_hostab_put(struct me_tabmap *t, int pos, const __u8 *addr, __u8 val, __u32 gen)
{
	void *bk = bucket(t, POS_BUCKET(pos));
	int v6 = t->h->kind == ME_TAB_HOST6;

	if (!slot_free(bk, v6, POS_SLOT(pos)))
		return -EBUSY;
	put(bk, v6, POS_SLOT(pos), addr, val, 1u << (gen & 1));
	return pos;
}

void me_hostab_kill(struct me_tabmap *t, int pos, __u32 gen)
{
	int v6 = t->h->kind == ME_TAB_HOST6;
	__u32 *vis = bk_vis(bucket(t, POS_BUCKET(pos)), v6);

	__atomic_store_n(vis, *vis & ~slot_bits(POS_SLOT(pos), 1u << (gen & 1)), __ATOMIC_RELEASE);
}

__u8 me_hostab_val(const struct me_tabmap *t, int pos)
{
	void *bk = bucket(t, POS_BUCKET(pos));

	if (t->h->kind == ME_TAB_HOST6)
		return ((struct me_hb6 *)bk)->val[POS_SLOT(pos)];
	return ((struct me_hb4 *)bk)->val[POS_SLOT(pos)];
}

/* Bucket b's other generation's bits made equal gen's: the slots changed. */
static size_t settle_bucket(struct me_tabmap *t, int v6, __u32 b, __u32 gen)
{
	__u32 mask = (1u << nslots(v6)) - 1, *vis = bk_vis(bucket(t, b), v6);
	__u32 live = me_tab_vis(*vis, gen) & mask;
	__u32 want = live | live << ME_VIS_SHIFT;
	size_t changed = (size_t)__builtin_popcount((*vis ^ want) & (mask | mask << ME_VIS_SHIFT));

	if (changed)
		__atomic_store_n(vis, want, __ATOMIC_RELEASE);
	return changed;
}

size_t me_hostab_settle(struct me_tabmap *t, __u32 gen)
{
	int v6 = t->h->kind == ME_TAB_HOST6;
	size_t changed = 0;
	__u32 b;

	for (b = 0; b < t->h->nbuckets; b++)
		changed += settle_bucket(t, v6, b, gen);
	t->h->settled = ME_TAB_SETTLED;
	return changed;
}

size_t me_hostab_settle_buckets(struct me_tabmap *t, __u32 gen, const __u32 *b, size_t n)
{
	int v6 = t->h->kind == ME_TAB_HOST6;
	size_t changed = 0, i;

	for (i = 0; i < n; i++)
		if (b[i] < t->h->nbuckets)
			changed += settle_bucket(t, v6, b[i], gen);
	t->h->settled = ME_TAB_SETTLED;
	return changed;
}

void me_hostab_settled(struct me_tabmap *t, __u32 gen)
{
	if (t->h->settled != ME_TAB_SETTLED)
		me_hostab_settle(t, gen);
}

void me_hostab_begin(struct me_tabmap *t, __u32 nxt)
{
	me_hostab_settled(t, nxt ^ 1);
	__atomic_store_n(&t->h->settled, 0, __ATOMIC_RELEASE);
}

void me_hostab_recount(struct me_tabmap *t, __u32 gen)
{
	int v6 = t->h->kind == ME_TAB_HOST6, i;
	__u32 b, count[2] = { 0, 0 };

	for (b = 0; b < t->h->nbuckets; b++) {
		void *bk = bucket(t, b);
		__u32 live = me_tab_vis(*bk_vis(bk, v6), gen);

		for (i = 0; i < nslots(v6); i++) {
			__u8 v;

			if (!(live & (1u << i)))
				continue;
			v = me_hostab_val(t, POS(b, i));
			if (v < t->h->nvals)
				count[me_tab_val(t, v)->list & 1]++;
		}
	}
	t->h->count[0] = count[0];
	t->h->count[1] = count[1];
}

/* ---- subnet tables ---- */

/* A trie under construction, in plain memory: the root's entries, and chunks
 * of ME_TN_FANOUT entries, each entry w bytes. Apart, so that growing the
 * chunks never copies the IPv4 root's 32 MB. */
struct trie {
	int v6;
	__u32 w, stride, chunk_bit, max_chunks;
	unsigned char *mem; /* the root */
	unsigned char *chunks;
	size_t root_n, nchunks, cap_chunks;
};

static unsigned char *ent_ptr(struct trie *tr, size_t node, __u32 i) /* node 0 = root */
{
	if (!node)
		return tr->mem + (size_t)i * tr->w;
	return tr->chunks + ((node - 1) * ME_TN_FANOUT + i) * tr->w;
}

static __u32 ent_get(struct trie *tr, size_t node, __u32 i)
{
	const unsigned char *p = ent_ptr(tr, node, i);

	if (tr->w == 2) {
		__u16 v;

		memcpy(&v, p, 2);
		return v;
	}
	__u32 v;

	memcpy(&v, p, 4);
	return v;
}

static void ent_set(struct trie *tr, size_t node, __u32 i, __u32 v)
{
	unsigned char *p = ent_ptr(tr, node, i);

	if (tr->w == 2) {
		__u16 x = (__u16)v;

		memcpy(p, &x, 2);
	} else {
		memcpy(p, &v, 4);
	}
}

/* Set an entry to leaf v; a chunk below it gets v everywhere (a prefix painted
 * later covers all the longer ones painted before it inside its range). */
static void paint_entry(struct trie *tr, size_t node, __u32 i, __u32 v)
{
	__u32 e = ent_get(tr, node, i), j;

	if (!(e & tr->chunk_bit)) {
		ent_set(tr, node, i, v);
		return;
	}
	for (j = 0; j < ME_TN_FANOUT; j++)
		paint_entry(tr, (e & ~tr->chunk_bit) + 1, j, v);
}

/* The chunk under entry i of node, made (filled with the entry's leaf) if new. */
static int descend(struct trie *tr, size_t node, __u32 i, size_t *child)
{
	__u32 e = ent_get(tr, node, i), j;

	if (e & tr->chunk_bit) {
		*child = (e & ~tr->chunk_bit) + 1;
		return 0;
	}
	if (tr->nchunks == tr->max_chunks)
		return -E2BIG;
	if (tr->nchunks == tr->cap_chunks) {
		size_t cap = tr->cap_chunks ? tr->cap_chunks * 2 : 64;
		unsigned char *m;

		if (cap > tr->max_chunks)
			cap = tr->max_chunks;
		m = realloc(tr->chunks, cap * ME_TN_FANOUT * tr->w);
		if (!m)
			return -ENOMEM;
		tr->chunks = m;
		tr->cap_chunks = cap;
	}
	*child = ++tr->nchunks;
	for (j = 0; j < ME_TN_FANOUT; j++)
		ent_set(tr, *child, j, e);
	ent_set(tr, node, i, (__u32)(*child - 1) | tr->chunk_bit);
	return 0;
}

static int paint(struct trie *tr, const __u8 *addr, __u32 len, __u32 v)
{
	__u32 first = 0, pos, i, n;
	size_t node = 0;
	int rc;

	for (pos = 0; pos < tr->stride; pos += 8)
		first = first << 8 | addr[pos / 8];
	if (len <= tr->stride) {
		n = 1u << (tr->stride - len);
		first &= ~(n - 1);
		for (i = 0; i < n; i++)
			paint_entry(tr, 0, first + i, v);
		return 0;
	}
	rc = descend(tr, 0, first, &node);
	for (pos = tr->stride; !rc; pos += 8) {
		__u32 byte = addr[pos / 8];

		if (len <= pos + 8) {
			n = 1u << (pos + 8 - len);
			byte &= ~(n - 1);
			for (i = 0; i < n; i++)
				paint_entry(tr, node, byte + i, v);
			return 0;
		}
		rc = descend(tr, node, byte, &node);
	}
	return rc;
}

/* Black before white, then shortest first: the order of painting. */
static int paint_cmp(const void *a, const void *b, void *ctx)
{
	const struct me_union *u = ctx;
	const struct me_urec *x = &u->v[*(const size_t *)a];
	const struct me_urec *y = &u->v[*(const size_t *)b];

	if (x->list != y->list)
		return x->list == ME_LIST_BLACK ? -1 : 1;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return 0;
}

int me_nettab_build(const struct me_union *u, const __u8 *idx, const struct me_tabdict *d, int v6,
		    struct me_tabmap *t, char *why, size_t why_len)
{
	struct trie tr = { .v6 = v6 };
	__u32 esize = v6 ? sizeof(struct me_tn6) : sizeof(struct me_tn4);
	size_t i, n = 0, *order, pfx_elems, nelem, per_elem = esize / sizeof(struct me_tab_pfx);
	struct me_tab_pfx *rec;
	int rc = 0;

	tr.w = v6 ? 4 : 2;
	tr.stride = v6 ? ME_TN6_STRIDE : ME_TN4_STRIDE;
	tr.chunk_bit = v6 ? ME_TN6_CHUNK : ME_TN4_CHUNK;
	tr.root_n = (size_t)1 << tr.stride;
	tr.max_chunks = v6 ? NET_MAX_BYTES / esize : ME_TN4_CHUNK - 1;
	for (i = 0; i < u->n; i++)
		n += u->v[i].family == (v6 ? 6 : 4) && !is_host(&u->v[i], v6);
	if (!n)
		return me_tab_create(t, v6 ? ME_TAB_NET6 : ME_TAB_NET4, me_tab_head_elems(esize), 0, d,
				     why, why_len);
	order = malloc(n * sizeof(*order));
	tr.mem = calloc(tr.root_n, tr.w);
	if (!order || !tr.mem) {
		free(order);
		free(tr.mem);
		snprintf(why, why_len, "out of memory for the IPv%d subnet table", v6 ? 6 : 4);
		return -ENOMEM;
	}
	n = 0;
	for (i = 0; i < u->n; i++)
		if (u->v[i].family == (v6 ? 6 : 4) && !is_host(&u->v[i], v6))
			order[n++] = i;
	qsort_r(order, n, sizeof(*order), paint_cmp, (void *)u);
	for (i = 0; i < n && !rc; i++)
		rc = paint(&tr, u->v[order[i]].addr, u->v[order[i]].len, idx[order[i]] + 1u);
	if (rc) {
		snprintf(why, why_len,
			 rc == -E2BIG ? "the IPv%d subnets need more than %u trie chunks"
				      : "out of memory painting the IPv%d subnets (%u chunks)",
			 v6 ? 6 : 4, tr.max_chunks);
		goto out;
	}
	pfx_elems = (n + per_elem - 1) / per_elem;
	nelem = me_tab_head_elems(esize) + tr.root_n / ME_TN_FANOUT + tr.nchunks + pfx_elems;
	rc = me_tab_create(t, v6 ? ME_TAB_NET6 : ME_TAB_NET4, (__u32)nelem, 0, d, why, why_len);
	if (rc)
		goto out;
	t->h->chunk_base = t->h->base + (__u32)(tr.root_n / ME_TN_FANOUT);
	t->h->nchunks = (__u32)tr.nchunks;
	t->h->pfx_base = t->h->chunk_base + t->h->nchunks;
	t->h->max_probe = v6 ? 1 + ME_TN6_LEVELS : 2;
	memcpy(me_tab_elem(t, t->h->base), tr.mem, tr.root_n * tr.w);
	if (tr.nchunks)
		memcpy(me_tab_elem(t, t->h->chunk_base), tr.chunks, tr.nchunks * ME_TN_FANOUT * tr.w);
	rec = me_tab_elem(t, t->h->pfx_base);
	for (i = 0; i < n; i++) {
		const struct me_urec *r = &u->v[order[i]];

		memcpy(rec[i].addr, r->addr, 16);
		rec[i].len = r->len;
		rec[i].val = idx[order[i]];
		t->h->count[r->list]++;
	}
	t->h->nprefixes = (__u32)n;
out:
	free(order);
	free(tr.mem);
	free(tr.chunks);
	return rc;
}
