// SPDX-License-Identifier: GPL-2.0
/*
 * copyhash.c - the hash that names a copy (copyhash.h).
 *
 * Eight bytes at a time, multiply-xorshift mixed, in four lanes: one chain
 * waits on its multiply for every word, four independent ones keep the
 * multiplier busy (a 110 MB copy in a quarter of the time). The lanes, then
 * the tail and the length, are folded in last. Not a cryptographic hash: it
 * tells our own copy from our own older one.
 */
#include <string.h>

#include "copyhash.h"

static __u64 mix(__u64 h, __u64 w)
{
	h = (h ^ w) * 0xff51afd7ed558ccdull;
	return h ^ (h >> 32);
}

__u64 ls_copy_hash(const char *buf, size_t len)
{
	__u64 h[4], w, r;
	size_t i;
	int k;

	for (k = 0; k < 4; k++)
		h[k] = 0x9e3779b97f4a7c15ull + (__u64)k;
	for (i = 0; i + 32 <= len; i += 32)
		for (k = 0; k < 4; k++) {
			memcpy(&w, buf + i + 8 * k, 8);
			h[k] = mix(h[k], w);
		}
	r = h[0];
	for (k = 1; k < 4; k++)
		r = mix(r, h[k]);
	for (; i + 8 <= len; i += 8) {
		memcpy(&w, buf + i, 8);
		r = mix(r, w);
	}
	w = 0;
	memcpy(&w, buf + i, len - i);
	r = (r ^ w ^ (__u64)len) * 0xc4ceb9fe1a85ec53ull;
	return r ^ (r >> 29);
}
