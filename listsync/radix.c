// SPDX-License-Identifier: GPL-2.0
/*
 * radix.c - LSD radix sort of (key, index) pairs, 8 bits a pass; big arrays of
 * bare 32-bit keys most significant byte first, on two threads.
 *
 * 8-bit digits keep the scatter to 256 write streams, which the caches and
 * TLB follow; 16-bit digits would halve the passes but scatter to 65536
 * places at once, which at 8M pairs is slower on the machines we measured.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "hugemem.h"
#include "radix.h"

int ls_radix_sort(struct ls_kv *v, size_t n)
{
	size_t(*count)[256], i, d;
	struct ls_kv *tmp, *src = v, *dst;

	if (n < 2)
		return 0;
	count = calloc(8, sizeof(*count));
	tmp = malloc(n * sizeof(*tmp));
	me_hugepages(tmp, n * sizeof(*tmp));
	if (!count || !tmp) {
		free(count);
		free(tmp);
		return -ENOMEM;
	}
	/* Every digit's histogram in one pass over the keys. */
	for (i = 0; i < n; i++)
		for (d = 0; d < 8; d++)
			count[d][(v[i].key >> (8 * d)) & 0xff]++;
	dst = tmp;
	for (d = 0; d < 8; d++) {
		size_t sum = 0, c, b;

		/* A digit all keys share does not reorder anything. */
		if (count[d][(v[0].key >> (8 * d)) & 0xff] == n)
			continue;
		for (b = 0; b < 256; b++) {
			c = count[d][b];
			count[d][b] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			dst[count[d][(src[i].key >> (8 * d)) & 0xff]++] = src[i];
		dst = src;
		src = src == v ? tmp : v;
	}
	if (src != v)
		memcpy(v, src, n * sizeof(*v));
	free(tmp);
	free(count);
	return 0;
}

/* The same passes for bare keys: half the bytes to move when no index rides
 * along (a copy's sorted keys). name##_into sorts the n keys of src into dst
 * by their nb lowest bytes (the keys equal above them), src the scratch:
 * the whole of a small array, or one run of a big one (below). */
#define RADIX_BARE(name, type)                                                                    \
	static void name##_into(type *src, type *dst, size_t n, int nb)                           \
	{                                                                                         \
		size_t count[sizeof(type)][256] = { { 0 } }, i;                                   \
		type *from = src, *to = dst, *t;                                                  \
		int d;                                                                            \
                                                                                                  \
		for (i = 0; i < n; i++)                                                           \
			for (d = 0; d < nb; d++)                                                  \
				count[d][(src[i] >> (8 * d)) & 0xff]++;                           \
		for (d = 0; d < nb; d++) {                                                        \
			size_t sum = 0, c, b;                                                     \
                                                                                                  \
			if (!n || count[d][(src[0] >> (8 * d)) & 0xff] == n)                      \
				continue; /* a byte they all share */                             \
			for (b = 0; b < 256; b++) {                                               \
				c = count[d][b];                                                  \
				count[d][b] = sum;                                                \
				sum += c;                                                         \
			}                                                                         \
			for (i = 0; i < n; i++)                                                   \
				to[count[d][(from[i] >> (8 * d)) & 0xff]++] = from[i];            \
			t = from;                                                                 \
			from = to;                                                                \
			to = t;                                                                   \
		}                                                                                 \
		if (from != dst)                                                                  \
			memcpy(dst, from, n * sizeof(*dst));                                      \
	}                                                                                         \
                                                                                                  \
	static int name(type *v, size_t n)                                                        \
	{                                                                                         \
		type *tmp;                                                                        \
                                                                                                  \
		if (n < 2)                                                                        \
			return 0;                                                                 \
		tmp = malloc(n * sizeof(*tmp));                                                   \
		if (!tmp)                                                                         \
			return -ENOMEM;                                                           \
		me_hugepages(tmp, n * sizeof(*tmp));                                              \
		memcpy(tmp, v, n * sizeof(*v));                                                   \
		name##_into(tmp, v, n, (int)sizeof(type));                                        \
		free(tmp);                                                                        \
		return 0;                                                                         \
	}

RADIX_BARE(lsd_u64, __u64)
RADIX_BARE(lsd_u32, __u32)

int ls_radix_sort_u64(__u64 *v, size_t n)
{
	return lsd_u64(v, n);
}

/*
 * Big arrays of 32-bit keys (a copy's 8M hosts, on every refresh) are sorted
 * most significant byte first, on both cores: each half of the array is
 * counted and scattered by one thread, by the highest byte the keys do not
 * all share (a list within one /8 has one top byte), and then each thread
 * sorts the runs of its half of those bytes on the bytes below. A run of 8M
 * random keys is 32k keys (128 KB): its passes stay in the L2 cache, where
 * the single-threaded LSD sort streams all 32 MB four times.
 */
#define PAR_MIN (1u << 20)

struct msd_part {
	__u32 *v, *tmp;
	size_t lo, hi;	      /* phase 1: the part of v this thread scatters */
	__u32 or, and;	      /* its keys ORed, ANDed */
	size_t cnt[256];      /* its keys per value of byte d */
	int d;		      /* the byte scattered by */
	size_t *at;	      /* phase 1: where its keys of each byte value go */
	const size_t *start;  /* phase 2: where each byte value's run begins (257) */
	int b0, b1;	      /* phase 2: the byte values whose runs it sorts */
	int skip;	      /* phase 2: but not this one's (-1: none), sorted after */
};

/* Which bits differ among its keys: those set in some and clear in others. */
static void *msd_span(void *arg)
{
	struct msd_part *p = arg;
	__u32 or = 0, and = ~0u;
	size_t i;

	for (i = p->lo; i < p->hi; i++) {
		or |= p->v[i];
		and &= p->v[i];
	}
	p->or = or;
	p->and = and;
	return NULL;
}

static void *msd_count(void *arg)
{
	struct msd_part *p = arg;
	size_t i;

	for (i = p->lo; i < p->hi; i++)
		p->cnt[(p->v[i] >> (8 * p->d)) & 0xff]++;
	return NULL;
}

static void *msd_scatter(void *arg)
{
	struct msd_part *p = arg;
	size_t i;

	for (i = p->lo; i < p->hi; i++)
		p->tmp[p->at[(p->v[i] >> (8 * p->d)) & 0xff]++] = p->v[i];
	return NULL;
}

/* The runs of byte values b0..b1-1, from tmp back into v, sorted. */
static void *msd_runs(void *arg)
{
	struct msd_part *p = arg;
	int b;

	for (b = p->b0; b < p->b1; b++)
		if (b != p->skip)
			lsd_u32_into(p->tmp + p->start[b], p->v + p->start[b],
				     p->start[b + 1] - p->start[b], p->d);
	return NULL;
}

/* fn on p[1] in a thread and on p[0] here; both done on return. Without a
 * thread, both here. */
static void both(void *(*fn)(void *), struct msd_part *p)
{
	pthread_t th;
	int threaded = !pthread_create(&th, NULL, fn, &p[1]);

	fn(&p[0]);
	if (threaded)
		pthread_join(th, NULL);
	else
		fn(&p[1]);
}

/*
 * v's n keys sorted, tmp n keys of scratch. A run holding more than half of
 * the keys (a list mostly within one /8, say) would leave one thread sorting
 * it while the other waits: it is split again by the bytes below, on both,
 * once the other runs are done. Each level takes a byte the run's keys share,
 * so there are at most four.
 */
static void par_sort(__u32 *v, __u32 *tmp, size_t n)
{
	struct msd_part p[2];
	size_t start[257], at[2][256], sum = 0, big_len = 0, acc = 0;
	__u32 diff;
	int b, k, d, half, big = -1;

	memset(p, 0, sizeof(p));
	for (k = 0; k < 2; k++) {
		p[k].v = v;
		p[k].tmp = tmp;
		p[k].lo = k ? n / 2 : 0;
		p[k].hi = k ? n : n / 2;
		p[k].at = at[k];
		p[k].start = start;
	}
	both(msd_span, p);
	diff = (p[0].or | p[1].or) ^ (p[0].and & p[1].and);
	if (!diff)
		return; /* all the same key */
	for (d = 3; !(diff >> (8 * d)); d--)
		;
	for (k = 0; k < 2; k++)
		p[k].d = d;
	both(msd_count, p);
	/* Each byte value's run begins where the smaller ones' end; within
	 * it, the first half's keys come first. */
	for (b = 0; b < 256; b++) {
		start[b] = sum;
		at[0][b] = sum;
		at[1][b] = sum + p[0].cnt[b];
		sum += p[0].cnt[b] + p[1].cnt[b];
		if (sum - start[b] > n / 2) {
			big = b;
			big_len = sum - start[b];
		}
	}
	start[256] = sum;
	/* Split again only where it pays: a run big enough for two threads,
	 * with a byte below to split by. Else it is a run like the others. */
	if (big_len < PAR_MIN || !d) {
		big = -1;
		big_len = 0;
	}
	both(msd_scatter, p);
	/* The other runs shared out by keys, not by byte values: the first
	 * thread takes values until it has about half of them. */
	for (half = 0; half < 256; half++) {
		acc += half == big ? 0 : start[half + 1] - start[half];
		if (acc > (n - big_len) / 2)
			break;
	}
	p[0].b0 = 0;
	p[0].b1 = p[1].b0 = half;
	p[1].b1 = 256;
	p[0].skip = p[1].skip = big;
	both(msd_runs, p);
	if (big < 0)
		return;
	memcpy(v + start[big], tmp + start[big], big_len * sizeof(*v));
	par_sort(v + start[big], tmp + start[big], big_len);
}

int ls_radix_sort_u32(__u32 *v, size_t n)
{
	__u32 *tmp;

	if (n < PAR_MIN)
		return lsd_u32(v, n);
	tmp = malloc(n * sizeof(*tmp));
	if (!tmp)
		return -ENOMEM;
	me_hugepages(tmp, n * sizeof(*tmp));
	par_sort(v, tmp, n);
	free(tmp);
	return 0;
}
