// SPDX-License-Identifier: GPL-2.0
/*
 * copykeys.c - sorted keys of a source's entries (copykeys.h).
 *
 * The file: "MEKEYS2\n", then little-endian u64s: the copy's hash, n4, n6;
 * the n4 IPv4 keys, ascending, each as a LEB128 number: the address less the
 * previous key's (the first's less 0), shifted left once, the low bit set when
 * a length byte follows (a length other than 32); then n6 records of 16
 * address bytes and a length, ascending. Exactly that long.
 *
 * Why deltas: 8 million sorted hosts are about 512 addresses apart, two bytes
 * each instead of eight, and this file is written on every fetch and read on
 * the next one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "copykeys.h"
#include "hugemem.h"

#define MAGIC	 "MEKEYS2\n"
#define VARINT_MAX 5 /* a 33-bit number */
#define HEAD_LEN (8 + 3 * 8)
#define REC6_LEN 17

static int pfx_cmp(const void *pa, const void *pb)
{
	const struct me_prefix *a = pa, *b = pb;
	int d = memcmp(a->addr, b->addr, sizeof(a->addr));

	return d ? d : (int)a->len - (int)b->len;
}

void ls_keys_free(struct ls_keys *k)
{
	if (!k->h4_borrowed)
		free(k->h4);
	free(k->k4);
	free(k->v6);
	memset(k, 0, sizeof(*k));
}

/* Room for nh4 hosts (unless borrowed), n4 other IPv4 prefixes and n6 IPv6. */
static int keys_alloc(struct ls_keys *k, size_t nh4, size_t n4, size_t n6, int borrow)
{
	memset(k, 0, sizeof(*k));
	k->h4_borrowed = borrow;
	if (!borrow) {
		k->h4 = malloc((nh4 ? nh4 : 1) * sizeof(*k->h4));
		if (k->h4)
			me_hugepages(k->h4, nh4 * sizeof(*k->h4));
	}
	k->k4 = malloc((n4 ? n4 : 1) * sizeof(*k->k4));
	k->v6 = malloc((n6 ? n6 : 1) * sizeof(*k->v6));
	if ((!borrow && !k->h4) || !k->k4 || !k->v6) {
		ls_keys_free(k);
		return -ENOMEM;
	}
	return 0;
}

int ls_keys_make(const struct me_prefix *v, size_t n, __u32 *h4, size_t nh4, struct ls_keys *k)
{
	size_t i, n4 = 0, n32 = 0;
	__u32 a;

	for (i = 0; i < n; i++) {
		n4 += v[i].family == AF_INET;
		n32 += v[i].family == AF_INET && v[i].len == 32;
	}
	if (keys_alloc(k, nh4 + n32, n4 - n32, n - n4, !n32))
		return -ENOMEM;
	if (!n32)
		k->h4 = h4;
	else if (nh4)
		memcpy(k->h4, h4, nh4 * sizeof(*h4));
	k->nh4 = nh4;
	for (i = 0; i < n; i++) {
		if (v[i].family != AF_INET) {
			k->v6[k->n6++] = v[i];
			continue;
		}
		memcpy(&a, v[i].addr, 4);
		if (v[i].len == 32)
			k->h4[k->nh4++] = ntohl(a);
		else
			k->k4[k->n4++] = (__u64)ntohl(a) << 8 | v[i].len;
	}
	if (ls_radix_sort_u32(k->h4, k->nh4) || ls_radix_sort_u64(k->k4, k->n4)) {
		ls_keys_free(k);
		return -ENOMEM;
	}
	if (k->n6 > 1)
		qsort(k->v6, k->n6, sizeof(*k->v6), pfx_cmp);
	return 0;
}

/* How many entries of sorted a and b only one of them has. */
#define COUNT_DIFF(na, nb, cmp, only_a, only_b)                                                    \
	do {                                                                                       \
		size_t i_ = 0, j_ = 0;                                                             \
		while (i_ < (na) || j_ < (nb)) {                                                   \
			int c_ = i_ == (na) ? 1 : j_ == (nb) ? -1 : (cmp);                         \
			(only_a) += c_ < 0;                                                        \
			(only_b) += c_ > 0;                                                        \
			i_ += c_ <= 0;                                                             \
			j_ += c_ >= 0;                                                             \
		}                                                                                  \
	} while (0)

static int key_cmp(__u64 a, __u64 b)
{
	return a < b ? -1 : a > b;
}

void ls_keys_diff(const struct ls_keys *old, const struct ls_keys *new, size_t *added,
		  size_t *removed)
{
	*added = *removed = 0;
	COUNT_DIFF(old->nh4, new->nh4, key_cmp(old->h4[i_], new->h4[j_]), *removed, *added);
	COUNT_DIFF(old->n4, new->n4, key_cmp(old->k4[i_], new->k4[j_]), *removed, *added);
	COUNT_DIFF(old->n6, new->n6, pfx_cmp(&old->v6[i_], &new->v6[j_]), *removed, *added);
}

/* Eight bytes at a time, multiply-xorshift mixed; the length folded in last.
 * Not a cryptographic hash: it tells our own copy from our own older one. */
__u64 ls_copy_hash(const char *buf, size_t len)
{
	__u64 h = 0x9e3779b97f4a7c15ull, w;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&w, buf + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, buf + i, len - i);
	h = (h ^ w ^ (__u64)len) * 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 29);
}

static void put64(char *p, __u64 v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (char)(v >> (8 * i));
}

static __u64 get64(const char *p)
{
	__u64 v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | (unsigned char)p[i];
	return v;
}

int ls_keys_encode(const struct ls_keys *k, __u64 data_hash, char **buf, size_t *len)
{
	size_t i = 0, j = 0, n = HEAD_LEN + (k->nh4 + k->n4) * (VARINT_MAX + 1) + k->n6 * REC6_LEN;
	char *b = malloc(n), *p;
	__u64 prev = 0;

	if (!b)
		return -ENOMEM;
	me_hugepages(b, n);
	memcpy(b, MAGIC, 8);
	put64(b + 8, data_hash);
	put64(b + 16, k->nh4 + k->n4);
	put64(b + 24, k->n6);
	p = b + HEAD_LEN;
	/* One ascending stream of both, as the file has always been. */
	while (i < k->nh4 || j < k->n4) {
		__u64 hk = i < k->nh4 ? (__u64)k->h4[i] << 8 | 32 : ~0ull, key, addr, len4, v;

		key = j < k->n4 && k->k4[j] < hk ? k->k4[j++] : (i++, hk);
		addr = key >> 8;
		len4 = key & 0xff;
		v = (addr - prev) << 1 | (len4 != 32);
		if (addr < prev || addr >> 32 || len4 > 32) { /* not what ls_keys_make makes */
			free(b);
			return -EINVAL;
		}
		prev = addr;
		while (v >= 0x80) {
			*p++ = (char)(v | 0x80);
			v >>= 7;
		}
		*p++ = (char)v;
		if (len4 != 32)
			*p++ = (char)len4;
	}
	for (i = 0; i < k->n6; i++, p += REC6_LEN) {
		memcpy(p, k->v6[i].addr, 16);
		p[16] = (char)k->v6[i].len;
	}
	*buf = b;
	*len = (size_t)(p - b);
	return 0;
}

/* Room for one more prefix in k->k4 (grown as needed: few in a host list). */
static int k4_room(struct ls_keys *k, size_t *cap)
{
	if (k->n4 == *cap) {
		size_t c = *cap * 2;
		__u64 *g = realloc(k->k4, c * sizeof(*g));

		if (!g)
			return -ENOMEM;
		k->k4 = g;
		*cap = c;
	}
	return 0;
}

int ls_keys_decode(const char *buf, size_t len, __u64 data_hash, struct ls_keys *k)
{
	const unsigned char *p, *end = (const unsigned char *)buf + len;
	__u64 n4, n6, addr = 0, last = 0;
	size_t i, cap4 = 64;
	int rc = -EINVAL;

	memset(k, 0, sizeof(*k));
	if (len < HEAD_LEN || memcmp(buf, MAGIC, 8) || get64(buf + 8) != data_hash)
		return -EINVAL;
	n4 = get64(buf + 16);
	n6 = get64(buf + 24);
	/* Both counts bounded by the length (a key takes a byte at least)
	 * before they are multiplied. */
	if (n4 > len || n6 > len / REC6_LEN || n6 * REC6_LEN > len - HEAD_LEN)
		return -EINVAL;
	/* Room for n4 hosts: a host list's keys are nearly all hosts. */
	if (keys_alloc(k, n4, cap4, n6, 0))
		return -ENOMEM;
	p = (const unsigned char *)buf + HEAD_LEN;
	for (i = 0; i < n4; i++) {
		__u64 v = 0, len4 = 32, key;
		int sh;

		for (sh = 0;; sh += 7) {
			if (p == end || sh >= 7 * VARINT_MAX)
				goto bad;
			v |= (__u64)(*p & 0x7f) << sh;
			if (!(*p++ & 0x80))
				break;
		}
		addr += v >> 1;
		if (v & 1) {
			if (p == end || *p >= 32)
				goto bad; /* a 32 is never written with its byte */
			len4 = *p++;
		}
		key = addr << 8 | len4;
		if (addr >> 32 || (i && key < last))
			goto bad;
		last = key;
		if (len4 == 32) {
			k->h4[k->nh4++] = (__u32)addr;
			continue;
		}
		if (k4_room(k, &cap4)) {
			rc = -ENOMEM;
			goto bad;
		}
		k->k4[k->n4++] = key;
	}
	if ((size_t)(end - p) != n6 * REC6_LEN)
		goto bad;
	for (i = 0; i < n6; i++, p += REC6_LEN) {
		struct me_prefix *v = &k->v6[i];

		memset(v, 0, sizeof(*v));
		v->family = AF_INET6;
		memcpy(v->addr, p, 16);
		v->len = p[16];
		if (v->len > 128 || (i && pfx_cmp(&k->v6[i - 1], v) > 0))
			goto bad;
	}
	k->n6 = n6;
	return 0;
bad:
	ls_keys_free(k);
	return rc;
}
