// SPDX-License-Identifier: GPL-2.0
/*
 * test_radix.c - list sync's radix sort against qsort: random keys, keys that
 * share bytes (the skipped passes), equal keys (stability), tiny inputs; and
 * the sorted keys of its saved copies (copykeys.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <criterion/criterion.h>

#include "addr.h"
#include "../listsync/copyhash.h"
#include "../listsync/copykeys.h"
#include "../listsync/radix.h"

#define HEAD 40 /* a keys file's magic, hash, nh4, n4, n6 */

static void put_le(char *p, __u64 v, int bytes)
{
	int i;

	for (i = 0; i < bytes; i++)
		p[i] = (char)(v >> (8 * i));
}

/* A keys file with the header of file (magic, hash) and these sections. */
static size_t keys_file(char *out, const char *file, __u64 nh4, const __u32 *h, __u64 n4,
			const __u64 *k, __u64 n6, unsigned char v6len)
{
	char *p = out + HEAD;
	__u64 i;

	memcpy(out, file, 16);
	put_le(out + 16, nh4, 8);
	put_le(out + 24, n4, 8);
	put_le(out + 32, n6, 8);
	for (i = 0; i < nh4; i++, p += 4)
		put_le(p, h[i], 4);
	for (i = 0; i < n4; i++, p += 8)
		put_le(p, k[i], 8);
	for (i = 0; i < n6; i++, p += 17) {
		memset(p, 0x20, 16);
		p[16] = (char)v6len;
	}
	return (size_t)(p - out);
}

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

/* The counts of the delta from old (through its file) to new. */
static void keys_diff(const struct ls_keys *old, const struct ls_keys *new, size_t *added,
		      size_t *removed)
{
	struct ls_keys_delta d;
	size_t len;
	char *buf;

	cr_assert_eq(ls_keys_encode(old, 42, &buf, &len), 0);
	cr_assert_eq(ls_keys_delta(buf, len, 42, new, &d), 0);
	*added = d.added;
	*removed = d.removed;
	ls_keys_delta_free(&d);
	free(buf);
}

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
	struct ls_keys_delta d;
	size_t i, added, removed, len;
	char *buf;

	for (i = 0; i < 5; i++)
		pfx(&o[i], olds[i]);
	for (i = 0; i < 6; i++)
		pfx(&n[i], news[i]);
	cr_assert_eq(ls_keys_make(o, 5, NULL, 0, &ko), 0);
	cr_assert_eq(ls_keys_make(n, 6, NULL, 0, &kn), 0);
	keys_diff(&ko, &kn, &added, &removed);
	/* gone: 192.0.2.0/24, 2001:db8::1; new: 203.0.113.5, 2001:db8::2, ::/32 */
	cr_assert_eq(removed, 2);
	cr_assert_eq(added, 3);

	cr_assert_eq(ls_keys_encode(&kn, 0x1234, &buf, &len), 0);
	cr_assert_eq(ls_keys_decode(buf, len, 0x1234, &back), 0);
	keys_diff(&kn, &back, &added, &removed);
	cr_assert(added == 0 && removed == 0 && back.nh4 == 3 && back.n4 == 0 && back.n6 == 3);
	ls_keys_free(&back);
	/* another copy's keys, short, long, unsorted, a bad length */
	cr_assert_eq(ls_keys_decode(buf, len, 0x1235, &back), -EINVAL);
	cr_assert_eq(ls_keys_decode(buf, len - 1, 0x1234, &back), -EINVAL);
	cr_assert_eq(ls_keys_decode(buf, 10, 0x1234, &back), -EINVAL);
	{
		char *b2 = malloc(len + 8);

		memcpy(b2, buf, len);
		memset(b2 + len, 0, 8);
		cr_assert_eq(ls_keys_decode(b2, len + 8, 0x1234, &back), -EINVAL);
		/* hand-made files: counts, then the sections they say */
		{
			static const struct {
				__u64 nh4, n4, n6;
				__u32 h[2];
				__u64 k[2];
				unsigned char v6len;
				size_t cut;
				const char *what;
			} bad[] = {
				{ 2, 0, 0, { 0x0a000001u, 0x0a000000u }, { 0 }, 0, 0, "hosts out of order" },
				{ 0, 1, 0, { 0 }, { 0x0a000000ull << 8 | 33 }, 0, 0, "length 33" },
				{ 0, 1, 0, { 0 }, { 0x0a000000ull << 8 | 32 }, 0, 0, "a host as a prefix" },
				{ 0, 1, 0, { 0 }, { 1ull << 40 | 24 }, 0, 0, "address past 2^32" },
				{ 0, 2, 0, { 0 }, { 0x0a000100ull << 8 | 24, 0x0a000000ull << 8 | 24 },
				  0, 0, "prefixes out of order" },
				{ 0, 0, 1, { 0 }, { 0 }, 129, 0, "IPv6 length 129" },
				{ 2, 0, 0, { 1, 2 }, { 0 }, 0, 1, "cut short" },
			};
			char *b3 = malloc(HEAD + 64);
			size_t c, fl;

			for (c = 0; c < sizeof(bad) / sizeof(bad[0]); c++) {
				fl = keys_file(b3, buf, bad[c].nh4, bad[c].h, bad[c].n4, bad[c].k,
					      bad[c].n6, bad[c].v6len);
				cr_assert_eq(ls_keys_decode(b3, fl - bad[c].cut, 0x1234, &back),
					     -EINVAL, "%s: decoded", bad[c].what);
				cr_assert_eq(ls_keys_delta(b3, fl - bad[c].cut, 0x1234, &kn, &d),
					     -EINVAL, "%s: walked", bad[c].what);
			}
			/* and well formed: 10.0.0.0/32, then 10.0.0.0/24 */
			fl = keys_file(b3, buf, 1, (const __u32[]){ 0x0a000000u }, 1,
				      (const __u64[]){ 0x0a000000ull << 8 | 24 }, 0, 0);
			cr_assert_eq(ls_keys_decode(b3, fl, 0x1234, &back), 0);
			cr_assert(back.n4 == 1 && back.k4[0] == (0x0a000000ull << 8 | 24) &&
				      back.nh4 == 1 && back.h4[0] == 0x0a000000u,
				  "well formed: wrong keys");
			ls_keys_free(&back);
			/* read where it is, or copied where it is not aligned */
			memmove(b3 + 1, b3, fl);
			cr_assert_eq(ls_keys_decode(b3 + 1, fl, 0x1234, &back), 0);
			cr_assert(!back.h4_borrowed && back.nh4 == 1 && back.h4[0] == 0x0a000000u);
			ls_keys_free(&back);
			free(b3);
		}
		/* a count that would overflow the size arithmetic */
		memcpy(b2, buf, len);
		memset(b2 + 16, 0xff, 8);
		cr_assert_eq(ls_keys_decode(b2, len, 0x1234, &back), -EINVAL);
		memcpy(b2, buf, len);
		memset(b2 + 24, 0xff, 8);
		cr_assert_eq(ls_keys_decode(b2, len, 0x1234, &back), -EINVAL);
		memcpy(b2, buf, len);
		memset(b2 + 32, 0xff, 8);
		cr_assert_eq(ls_keys_decode(b2, len, 0x1234, &back), -EINVAL);
		free(b2);
	}
	cr_assert_neq(ls_copy_hash("abc", 3), ls_copy_hash("abd", 3));
	cr_assert_neq(ls_copy_hash("abc\0", 4), ls_copy_hash("abc", 3));
	{ /* every byte counts, in every lane, and so does where each word is */
		char c[101], e[101];
		__u64 h;
		int j;

		for (j = 0; j < 101; j++)
			c[j] = (char)('0' + j % 10);
		h = ls_copy_hash(c, sizeof(c));
		for (j = 0; j < 101; j++) {
			memcpy(e, c, sizeof(e));
			e[j] ^= 1;
			cr_assert_neq(ls_copy_hash(e, sizeof(e)), h, "byte %d", j);
		}
		memcpy(e, c, sizeof(e));
		memcpy(e, c + 8, 8);
		memcpy(e + 8, c + 16, 8); /* words 1 and 2 moved down a lane */
		memcpy(e + 16, c, 8);
		cr_assert_neq(ls_copy_hash(e, sizeof(e)), h);
	}
	free(buf);
	ls_keys_free(&ko);
	ls_keys_free(&kn);
}

static int u32_cmp(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

static int u64_cmp(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

/* The bare-key sorts against qsort, with bytes all keys share (skipped
 * passes) and duplicates. */
Test(radix, bare_keys_sort_as_qsort)
{
	size_t n = 5000, i;
	__u32 *a = malloc(n * 4), *b = malloc(n * 4);
	__u64 *c = malloc(n * 8), *d = malloc(n * 8);
	unsigned int seed = 99;

	for (i = 0; i < n; i++) {
		a[i] = b[i] =
		    (i % 3 ? (__u32)rand_r(&seed) : 0x0a000000u | (__u32)(rand_r(&seed) % 64));
		c[i] = d[i] = ((__u64)(__u32)rand_r(&seed) << 8 | (i % 5 ? 32 : 24)) &
			      (i % 7 ? ~0ull : 0xff00ull);
	}
	cr_assert_eq(ls_radix_sort_u32(a, n), 0);
	qsort(b, n, 4, u32_cmp);
	cr_assert(!memcmp(a, b, n * 4), "ls_radix_sort_u32 differs from qsort");
	cr_assert_eq(ls_radix_sort_u64(c, n), 0);
	qsort(d, n, 8, u64_cmp);
	cr_assert(!memcmp(c, d, n * 8), "ls_radix_sort_u64 differs from qsort");
	free(a);
	free(b);
	free(c);
	free(d);
}

/* n keys of each of the shapes key makes from (shape, index, random) sort as
 * qsort sorts them. */
static void sorts_as_qsort(size_t n, unsigned int seed, int shapes,
			   __u32 (*key)(int shape, size_t i, __u32 r))
{
	__u32 *a = malloc(n * 4), *b = malloc(n * 4);
	size_t i;
	int shape;

	cr_assert(a && b);
	for (shape = 0; shape < shapes; shape++) {
		for (i = 0; i < n; i++)
			a[i] = b[i] = key(shape, i,
					  (__u32)rand_r(&seed) << 16 ^ (__u32)rand_r(&seed));
		cr_assert_eq(ls_radix_sort_u32(a, n), 0);
		qsort(b, n, 4, u32_cmp);
		cr_assert(!memcmp(a, b, n * 4), "shape %d: ls_radix_sort_u32 differs from qsort",
			  shape);
	}
	free(a);
	free(b);
}

/* Random keys, keys sharing their top bytes (scattered by a lower one), few
 * distinct keys, a top byte holding most keys (the share between the threads
 * is uneven), keys differing in their last byte only, and one key repeated. */
static __u32 key_basic(int shape, size_t i, __u32 r)
{
	return shape == 0   ? r
	       : shape == 1 ? 0xc6330000u | (r & 0xffffu)
	       : shape == 2 ? (r % 5) << 24 | (r % 3)
	       : shape == 3 ? (i % 10 ? 0x7f000000u | (r & 0xffffffu) : r)
	       : shape == 4 ? 0x0a0b0c00u | (r & 0xffu)
			    : 0xc0000201u;
}

/* A list within one /8 with 1% elsewhere (as the bench's refresh), runs
 * dominant at two levels (198.51/16 inside 198/8), and a dominant run whose
 * keys are all one (nothing left to split). */
static __u32 key_dominant(int shape, size_t i, __u32 r)
{
	if (shape == 0)
		return i % 100 ? 0xc6330000u + (__u32)i : 0x0b000000u | (r & 0xffffffu);
	if (shape == 1)
		return i % 20 == 0 ? r
		       : i % 10	   ? 0xc6330000u | (r & 0xffffu)
				   : 0xc6000000u | (r & 0xffffffu);
	return i % 50 ? 0xcb007101u : r;
}

/* Big arrays take the two-thread sort. */
Test(radix, big_u32_sorts_as_qsort)
{
	sorts_as_qsort((1u << 20) + 12345, 7, 6, key_basic);
}

/* Runs that hold most of the keys are split again on both threads, down
 * through the bytes: at 2.6M keys a dominant run is itself big. */
Test(radix, big_u32_dominant_runs_sort_as_qsort)
{
	sorts_as_qsort((5u << 19) + 777, 11, 3, key_dominant);
}

/* Keys made from fast-path hosts and general entries are the keys of the same
 * entries all given as prefixes. */
Test(radix, keys_from_hosts_and_prefixes)
{
	struct me_prefix all[600], gen[200];
	__u32 h4[400];
	struct ls_keys k1, k2;
	unsigned int seed = 5;
	size_t i, ng = 0, nh = 0, added, removed;

	for (i = 0; i < 600; i++) {
		struct me_prefix *p = &all[i];
		__u32 a = 0xc0000200u + (__u32)(rand_r(&seed) % 256), be = htonl(a);

		memset(p, 0, sizeof(*p));
		p->family = AF_INET;
		p->len = i % 3 ? 32 : 24 + (unsigned int)(rand_r(&seed) % 8);
		memcpy(p->addr, &be, 4);
		if (p->len == 32 && nh < 400)
			h4[nh++] = a;
		else
			gen[ng++] = *p;
	}
	cr_assert_eq(ls_keys_make(all, 600, NULL, 0, &k1), 0);
	cr_assert_eq(ls_keys_make(gen, ng, h4, nh, &k2), 0);
	cr_assert(!k1.h4_borrowed, "hosts among the prefixes: copied");
	cr_assert(k2.h4_borrowed && k2.h4 == h4, "hosts given apart: sorted where they are");
	cr_assert(k1.n4 == k2.n4 && k1.nh4 == k2.nh4 && k1.nh4 == 400);
	cr_assert(!memcmp(k1.k4, k2.k4, k1.n4 * 8), "prefix keys differ");
	cr_assert(!memcmp(k1.h4, k2.h4, k1.nh4 * 4), "host keys differ");
	for (i = 1; i < k2.n4; i++)
		cr_assert(k2.k4[i - 1] <= k2.k4[i], "keys not ascending at %zu", i);
	for (i = 1; i < k2.nh4; i++)
		cr_assert(k2.h4[i - 1] <= k2.h4[i], "hosts not ascending at %zu", i);
	keys_diff(&k1, &k2, &added, &removed);
	cr_assert(!added && !removed);
	ls_keys_free(&k1);
	ls_keys_free(&k2); /* h4 is on the stack: freeing it would abort under ASan */
}

/* Hosts given apart and hosts among the prefixes too: one sorted copy of both,
 * and the file made from them reads back the same. */
Test(radix, keys_mixed_hosts_round_trip)
{
	struct me_prefix gen[3];
	__u32 h4[] = { 0xc0000205u, 0xc0000201u };
	struct ls_keys k, back;
	size_t added, removed, len;
	char *buf;

	pfx(&gen[0], "192.0.2.3");
	pfx(&gen[1], "192.0.2.0/24");
	pfx(&gen[2], "192.0.2.2");
	cr_assert_eq(ls_keys_make(gen, 3, h4, 2, &k), 0);
	cr_assert(!k.h4_borrowed && k.nh4 == 4 && k.n4 == 1);
	cr_assert(k.h4[0] == 0xc0000201u && k.h4[1] == 0xc0000202u && k.h4[2] == 0xc0000203u &&
		  k.h4[3] == 0xc0000205u, "hosts not merged in order");
	cr_assert_eq(ls_keys_encode(&k, 7, &buf, &len), 0);
	cr_assert_eq(ls_keys_decode(buf, len, 7, &back), 0);
	cr_assert(back.nh4 == 4 && back.n4 == 1 && back.k4[0] == (0xc00002ull << 16 | 24));
	keys_diff(&k, &back, &added, &removed);
	cr_assert(!added && !removed);
	ls_keys_free(&k);
	ls_keys_free(&back);
	free(buf);
}

/* The delta against a model: random copies of a few hundred addresses, with
 * duplicates, subnets and IPv6 entries in some rounds. The counts are the
 * line-by-line difference; the hosts are exactly those whose presence
 * changed; hosts_only says whether anything else changed. */
static int u32_has(const __u32 *v, size_t n, __u32 a)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i] == a)
			return 1;
	return 0;
}

/* The hosts of a[] that b[] lacks, noted once in chg; 1 when a has some
 * other key b lacks. */
static int only_in(const __u64 *a, size_t na, const __u64 *b, size_t nb, __u32 *chg,
		   size_t *nchg)
{
	size_t x, y;
	int other = 0;

	for (x = 0; x < na; x++) {
		int in_b = 0;

		for (y = 0; y < nb; y++)
			in_b |= b[y] == a[x];
		if (!in_b && (a[x] & 0xff) == 32 && !u32_has(chg, *nchg, (__u32)(a[x] >> 8)))
			chg[(*nchg)++] = (__u32)(a[x] >> 8);
		other |= !in_b && (a[x] & 0xff) != 32;
	}
	return other;
}

static void random_copy(unsigned int *seed, int round, struct me_prefix *v, size_t *n,
			__u32 *h4, size_t *nh4)
{
	size_t i, want = 50 + (size_t)(rand_r(seed) % 200);

	*n = *nh4 = 0;
	for (i = 0; i < want; i++) {
		__u32 a = 0xc6336400u + (__u32)(rand_r(seed) % 300), be = htonl(a);
		int kind = rand_r(seed) % 10;

		if (kind < 6 || round % 3 == 0) {
			h4[(*nh4)++] = a; /* fast-path hosts, duplicates and all */
			continue;
		}
		memset(&v[*n], 0, sizeof(v[*n]));
		if (kind < 8) { /* a host or a subnet among the prefixes */
			v[*n].family = AF_INET;
			v[*n].len = kind == 6 ? 32 : 24;
			be = htonl(kind == 6 ? a : a & ~0xffu);
			memcpy(v[*n].addr, &be, 4);
		} else {
			v[*n].family = AF_INET6;
			v[*n].len = 128;
			v[*n].addr[0] = 0x20;
			v[*n].addr[1] = 0x01;
			v[*n].addr[2] = 0x0d;
			v[*n].addr[3] = 0xb8;
			v[*n].addr[15] = (unsigned char)(rand_r(seed) % 8);
		}
		(*n)++;
	}
}

Test(radix, keys_delta_matches_model)
{
	static struct me_prefix v[2][300];
	static __u32 h4[2][300];
	unsigned int seed = 77;
	int round;

	for (round = 0; round < 200; round++) {
		struct ls_keys k[2];
		struct ls_keys_delta d;
		size_t n[2], nh[2], i, len, added = 0, removed = 0, nchg = 0;
		__u32 chg[600], prev = 0;
		int other = 0, side;
		char *buf;

		for (side = 0; side < 2; side++) {
			random_copy(&seed, round, v[side], &n[side], h4[side], &nh[side]);
			cr_assert_eq(ls_keys_make(v[side], n[side], h4[side], nh[side], &k[side]), 0);
		}
		/* The model: multiset counts over the merged key streams... */
		{
			size_t a = 0, b = 0;
			__u64 ka[600], kb[600];
			size_t na = 0, nb = 0, x;

			for (side = 0; side < 2; side++) {
				__u64 *kk = side ? kb : ka;
				size_t *nn = side ? &nb : &na;

				for (x = 0; x < k[side].nh4; x++)
					kk[(*nn)++] = (__u64)k[side].h4[x] << 8 | 32;
				for (x = 0; x < k[side].n4; x++)
					kk[(*nn)++] = k[side].k4[x];
				qsort(kk, *nn, 8, u64_cmp);
			}
			while (a < na || b < nb) {
				int c = a == na ? 1 : b == nb ? -1 : ka[a] < kb[b] ? -1 : ka[a] > kb[b];

				removed += c < 0;
				added += c > 0;
				a += c <= 0;
				b += c >= 0;
			}
			/* ...and set difference for the hosts and the rest. */
			other |= only_in(ka, na, kb, nb, chg, &nchg);
			other |= only_in(kb, nb, ka, na, chg, &nchg);
		}
		for (i = 0; i < k[0].n6 || i < k[1].n6; i++) { /* IPv6: any difference */
			if (i >= k[0].n6 || i >= k[1].n6 ||
			    memcmp(k[0].v6[i].addr, k[1].v6[i].addr, 16)) {
				other = 1;
				break;
			}
		}
		cr_assert_eq(ls_keys_encode(&k[0], 9, &buf, &len), 0);
		cr_assert_eq(ls_keys_delta(buf, len, 9, &k[1], &d), 0);
		if (!other) /* the IPv6 counts are the model's only when none differ */
			cr_assert(d.added == added && d.removed == removed,
				  "round %d: +%zu -%zu, model +%zu -%zu", round, d.added, d.removed,
				  added, removed);
		cr_assert_eq(d.hosts_only, !other, "round %d: hosts_only %d", round, d.hosts_only);
		cr_assert_eq(d.nhosts, nchg, "round %d: %zu hosts changed, model %zu", round,
			     d.nhosts, nchg);
		for (i = 0; i < d.nhosts; i++) {
			cr_assert(u32_has(chg, nchg, d.hosts[i]), "round %d: %08x not changed",
				  round, d.hosts[i]);
			cr_assert(!i || d.hosts[i] > prev, "round %d: hosts not ascending", round);
			cr_assert_eq((int)(d.came[i / 64] >> (i % 64) & 1),
				     u32_has(k[1].h4, k[1].nh4, d.hosts[i]),
				     "round %d: %08x said to be the %s copy's", round, d.hosts[i],
				     d.came[i / 64] >> (i % 64) & 1 ? "new" : "old");
			prev = d.hosts[i];
		}
		/* A copy against itself: nothing; against no copy: all of it. */
		ls_keys_delta_free(&d);
		cr_assert_eq(ls_keys_delta(buf, len, 9, &k[0], &d), 0);
		cr_assert(!d.added && !d.removed && !d.nhosts && d.hosts_only);
		ls_keys_delta_free(&d);
		cr_assert_eq(ls_keys_delta(NULL, 0, 0, &k[0], &d), 0);
		cr_assert_eq(d.added, k[0].nh4 + k[0].n4 + k[0].n6);
		ls_keys_delta_free(&d);
		/* The wrong copy's file, and a damaged one, are refused. */
		cr_assert_eq(ls_keys_delta(buf, len, 10, &k[0], &d), -EINVAL);
		cr_assert_eq(ls_keys_delta(buf, len - 1, 9, &k[0], &d), -EINVAL);
		free(buf);
		ls_keys_free(&k[0]);
		ls_keys_free(&k[1]);
	}
}

/* Long runs of hosts on both sides, as in a refresh of a big list, with the
 * changes placed at the edges of the stretches the delta passes over whole;
 * and a damaged file whose fault lies just past such a stretch. */
Test(radix, keys_delta_long_runs)
{
	enum { N = 4000 };
	static const size_t at[] = { 0, 1, 15, 16, 17, 31, 32, 33, 48, 1000, 1017, N - 2, N - 1 };
	static __u32 o[N], nw[N + 8];
	struct ls_keys ko = { 0 }, kn = { 0 };
	struct ls_keys_delta d;
	size_t i, j, nn = 0, len, c, added = 0, removed = 0;
	char *buf;

	for (i = 0; i < N; i++)
		o[i] = 0x0a000000u + 4 * (__u32)i;
	/* the new copy: o less the hosts at "at", with one new host after
	 * each of them, and one of the old ones twice */
	for (i = 0, c = 0; i < N; i++) {
		if (c < sizeof(at) / sizeof(at[0]) && at[c] == i) {
			nw[nn++] = o[i] + 1;
			removed++;
			added++;
			c++;
			continue;
		}
		nw[nn++] = o[i];
		if (i == 500) {
			nw[nn++] = o[i]; /* listed twice: counted, not a host's change */
			added++;
		}
	}
	ko.h4 = o;
	ko.nh4 = N;
	ko.h4_borrowed = 1;
	kn.h4 = nw;
	kn.nh4 = nn;
	kn.h4_borrowed = 1;
	cr_assert_eq(ls_keys_encode(&ko, 3, &buf, &len), 0);
	cr_assert_eq(ls_keys_delta(buf, len, 3, &kn, &d), 0);
	cr_assert(d.added == added && d.removed == removed, "+%zu -%zu, want +%zu -%zu", d.added,
		  d.removed, added, removed);
	cr_assert_eq(d.nhosts, 2 * (sizeof(at) / sizeof(at[0])));
	for (i = 0, j = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		cr_assert_eq(d.hosts[j++], o[at[i]], "removed host %zu", i);
		cr_assert_eq(d.hosts[j++], o[at[i]] + 1, "added host %zu", i);
	}
	cr_assert(d.hosts_only);
	ls_keys_delta_free(&d);
	/* an old host out of order right after a passed-over stretch, and
	 * inside one (which then differs from the new copy) */
	for (i = 17; i <= 40; i += 23) {
		char saved[4];

		memcpy(saved, buf + HEAD + 4 * i, 4);
		put_le(buf + HEAD + 4 * i, 0x09000000u, 4);
		cr_assert_eq(ls_keys_delta(buf, len, 3, &ko, &d), -EINVAL, "host %zu", i);
		memcpy(buf + HEAD + 4 * i, saved, 4);
	}
	cr_assert_eq(ls_keys_delta(buf, len, 3, &ko, &d), 0);
	cr_assert(!d.added && !d.removed && !d.nhosts);
	ls_keys_delta_free(&d);
	free(buf);
}
