/* SPDX-License-Identifier: GPL-2.0 */
/*
 * radix.h - sort 64-bit keys that carry an index, by bytes, least significant
 * first.
 *
 * List sync sorts millions of entries on every run (the union, and each
 * source's old and new copies for the +/- counts). A comparison sort spends
 * most of that time in its comparator and in moving 28-byte records; sorting
 * 16-byte (key, index) pairs by radix is a few sequential passes, and a byte
 * that is the same in every key (the prefix length of a list of hosts, the
 * high bytes of a list of /24s) costs no pass at all.
 */
#ifndef LS_RADIX_H
#define LS_RADIX_H

#include <stddef.h>
#include <linux/types.h>

struct ls_kv {
	__u64 key;
	__u64 idx;
};

/* Sort v[0..n) by key, stably (equal keys keep their order). 0, or -ENOMEM
 * (v untouched) when the scratch copy cannot be had. */
int ls_radix_sort(struct ls_kv *v, size_t n);

/* Bare keys, ascending. 0 or -ENOMEM. From a million 32-bit keys up, on two
 * threads (radix.c). */
int ls_radix_sort_u64(__u64 *v, size_t n);
int ls_radix_sort_u32(__u32 *v, size_t n);

#endif
