// SPDX-License-Identifier: GPL-2.0
/*
 * test_radix.c - list sync's radix sort against qsort: random keys, keys that
 * share bytes (the skipped passes), equal keys (stability), tiny inputs; and
 * the sorted keys of its saved copies (copykeys.h).
 */
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>

#include <errno.h>
#include "addr.h"
#include "../listsync/copykeys.h"
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
	check(100000, ~0ull, 0, 4);	     /* every byte varies */
	check(100000, 0xffffffffull, 16, 5); /* IPv4 union keys: low and high bytes shared */
	check(100000, 0x3ull, 40, 6);	     /* many equal keys: stability */
	check(100000, 0, 0, 7);		     /* all equal: no pass at all */
	check(4096, 0xff00ff00ff00ffull, 0, 8);
}

/* The keys of list sync's saved copies: a round trip, the counts, and every
 * kind of damage refused (the copy is parsed instead). */

static void pfx(struct me_prefix *p, const char *s)
{
	cr_assert_eq(me_prefix_parse(s, p, 0), ME_ADDR_OK, "%s", s);
}

Test(radix, copykeys)
{
	const char *olds[] = { "192.0.2.1", "192.0.2.0/24", "2001:db8::1", "198.51.100.7",
			       "2001:db8::/48" };
	const char *news[] = { "198.51.100.7", "203.0.113.5", "2001:db8::/48",
			       "192.0.2.1",    "2001:db8::2", "2001:db8::/32" };
	struct me_prefix o[5], n[6];
	struct ls_keys ko, kn, back;
	size_t i, added, removed, len;
	char *buf;

	for (i = 0; i < 5; i++)
		pfx(&o[i], olds[i]);
	for (i = 0; i < 6; i++)
		pfx(&n[i], news[i]);
	cr_assert_eq(ls_keys_make(o, 5, &ko), 0);
	cr_assert_eq(ls_keys_make(n, 6, &kn), 0);
	ls_keys_diff(&ko, &kn, &added, &removed);
	/* gone: 192.0.2.0/24, 2001:db8::1; new: 203.0.113.5, 2001:db8::2, ::/32 */
	cr_assert_eq(removed, 2);
	cr_assert_eq(added, 3);

	cr_assert_eq(ls_keys_encode(&kn, 0x1234, &buf, &len), 0);
	cr_assert_eq(ls_keys_decode(buf, len, 0x1234, &back), 0);
	ls_keys_diff(&kn, &back, &added, &removed);
	cr_assert(added == 0 && removed == 0 && back.n4 == 3 && back.n6 == 3);
	ls_keys_free(&back);
	/* another copy's keys, short, long, unsorted, a bad length */
	cr_assert_eq(ls_keys_decode(buf, len, 0x1235, &back), -EINVAL);
	cr_assert_eq(ls_keys_decode(buf, len - 1, 0x1234, &back), -EINVAL);
	cr_assert_eq(ls_keys_decode(buf, 10, 0x1234, &back), -EINVAL);
	{
		char *b2 = malloc(len + 8), t;

		memcpy(b2, buf, len);
		memset(b2 + len, 0, 8);
		cr_assert_eq(ls_keys_decode(b2, len + 8, 0x1234, &back), -EINVAL);
		/* swap the first two IPv4 keys: out of order */
		memcpy(b2, buf, len);
		for (i = 0; i < 8; i++) {
			t = b2[32 + i];
			b2[32 + i] = b2[40 + i];
			b2[40 + i] = t;
		}
		cr_assert_eq(ls_keys_decode(b2, len, 0x1234, &back), -EINVAL);
		/* an IPv4 length past 32 */
		memcpy(b2, buf, len);
		b2[32] = 33;
		cr_assert_eq(ls_keys_decode(b2, len, 0x1234, &back), -EINVAL);
		/* a count that would overflow the size arithmetic */
		memcpy(b2, buf, len);
		memset(b2 + 16, 0xff, 8);
		cr_assert_eq(ls_keys_decode(b2, len, 0x1234, &back), -EINVAL);
		free(b2);
	}
	cr_assert_neq(ls_copy_hash("abc", 3), ls_copy_hash("abd", 3));
	cr_assert_neq(ls_copy_hash("abc\0", 4), ls_copy_hash("abc", 3));
	free(buf);
	ls_keys_free(&ko);
	ls_keys_free(&kn);
}
