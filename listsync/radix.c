// SPDX-License-Identifier: GPL-2.0
/*
 * radix.c - LSD radix sort of (key, index) pairs, 8 bits a pass.
 *
 * 8-bit digits keep the scatter to 256 write streams, which the caches and
 * TLB follow; 16-bit digits would halve the passes but scatter to 65536
 * places at once, which at 8M pairs is slower on the machines we measured.
 */
#include <errno.h>
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
 * along (a copy's sorted keys). */
#define RADIX_BARE(name, type, bytes)                                                             \
	int name(type *v, size_t n)                                                               \
	{                                                                                         \
		size_t(*count)[256], i, d;                                                        \
		type *tmp, *src = v, *dst;                                                        \
                                                                                                  \
		if (n < 2)                                                                        \
			return 0;                                                                 \
		count = calloc(bytes, sizeof(*count));                                            \
		tmp = malloc(n * sizeof(*tmp));                                                   \
		me_hugepages(tmp, n * sizeof(*tmp));                                              \
		if (!count || !tmp) {                                                             \
			free(count);                                                              \
			free(tmp);                                                                \
			return -ENOMEM;                                                           \
		}                                                                                 \
		for (i = 0; i < n; i++)                                                           \
			for (d = 0; d < (bytes); d++)                                             \
				count[d][(v[i] >> (8 * d)) & 0xff]++;                             \
		dst = tmp;                                                                        \
		for (d = 0; d < (bytes); d++) {                                                   \
			size_t sum = 0, c, b;                                                     \
                                                                                                  \
			if (count[d][(v[0] >> (8 * d)) & 0xff] == n)                              \
				continue;                                                         \
			for (b = 0; b < 256; b++) {                                               \
				c = count[d][b];                                                  \
				count[d][b] = sum;                                                \
				sum += c;                                                         \
			}                                                                         \
			for (i = 0; i < n; i++)                                                   \
				dst[count[d][(src[i] >> (8 * d)) & 0xff]++] = src[i];             \
			dst = src;                                                                \
			src = src == v ? tmp : v;                                                 \
		}                                                                                 \
		if (src != v)                                                                     \
			memcpy(v, src, n * sizeof(*v));                                           \
		free(tmp);                                                                        \
		free(count);                                                                      \
		return 0;                                                                         \
	}

RADIX_BARE(ls_radix_sort_u64, __u64, 8)
RADIX_BARE(ls_radix_sort_u32, __u32, 4)
