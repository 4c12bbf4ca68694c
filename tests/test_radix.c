// SPDX-License-Identifier: GPL-2.0
/*
 * test_radix.c - list sync's radix sort against qsort: random keys, keys that
 * share bytes (the skipped passes), equal keys (stability), tiny inputs.
 */
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>

#include "../listsync/radix.h"

static int kv_cmp(const void *pa, const void *pb)
{
	const struct ls_kv *a = pa, *b = pb;

	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	/* idx is the input position: equal keys must keep their order */
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static __u64 rnd(__u64 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Sort n keys made by mask/shift of random numbers both ways and compare. */
static void check(size_t n, __u64 mask, unsigned int shift, __u64 seed)
{
	struct ls_kv *a = calloc(n ? n : 1, sizeof(*a)), *b = calloc(n ? n : 1, sizeof(*b));
	size_t i;

	cr_assert(a && b);
	for (i = 0; i < n; i++) {
		a[i].key = (rnd(&seed) & mask) << shift;
		a[i].idx = i;
	}
	memcpy(b, a, n * sizeof(*a));
	cr_assert_eq(ls_radix_sort(a, n), 0);
	if (n)
		qsort(b, n, sizeof(*b), kv_cmp);
	for (i = 0; i < n; i++)
		cr_assert(a[i].key == b[i].key && a[i].idx == b[i].idx,
			  "n=%zu mask=%llx shift=%u: position %zu differs", n,
			  (unsigned long long)mask, shift, i);
	free(a);
	free(b);
}

Test(radix, matches_qsort)
{
	check(0, ~0ull, 0, 1);
	check(1, ~0ull, 0, 2);
	check(2, ~0ull, 0, 3);
	check(100000, ~0ull, 0, 4);	    /* every byte varies */
	check(100000, 0xffffffffull, 16, 5); /* IPv4 union keys: low and high bytes shared */
	check(100000, 0x3ull, 40, 6);	    /* many equal keys: stability */
	check(100000, 0, 0, 7);		    /* all equal: no pass at all */
	check(4096, 0xff00ff00ff00ffull, 0, 8);
}
