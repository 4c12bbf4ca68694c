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

/* k's IPv4 keys as one ascending stream, hosts and prefixes merged (the
 * file's order): the next is *key (1), or there is none (0); i and j are
 * where the two arrays have got to, moved on by v4_step. */
static int v4_peek(const struct ls_keys *k, size_t i, size_t j, __u64 *key)
{
	__u64 hk = i < k->nh4 ? (__u64)k->h4[i] << 8 | 32 : ~0ull;

	if (i == k->nh4 && j == k->n4)
		return 0;
	*key = j < k->n4 && k->k4[j] < hk ? k->k4[j] : hk;
	return 1;
}

static void v4_step(size_t *i, size_t *j, __u64 key)
{
	if ((key & 0xff) == 32)
		(*i)++;
	else
		(*j)++;
}

int ls_keys_encode(const struct ls_keys *k, __u64 data_hash, char **buf, size_t *len)
{
	size_t i = 0, j = 0, n = HEAD_LEN + (k->nh4 + k->n4) * (VARINT_MAX + 1) + k->n6 * REC6_LEN;
	char *b = malloc(n), *p;
	__u64 prev = 0, key;

	if (!b)
		return -ENOMEM;
	me_hugepages(b, n);
	memcpy(b, MAGIC, 8);
	put64(b + 8, data_hash);
	put64(b + 16, k->nh4 + k->n4);
	put64(b + 24, k->n6);
	p = b + HEAD_LEN;
	while (v4_peek(k, i, j, &key)) {
		__u64 addr = key >> 8, len4 = key & 0xff, v = (addr - prev) << 1 | (len4 != 32);

		v4_step(&i, &j, key);
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

/* Room for one more of n elements of size bytes in v (capacity *cap),
 * doubled when full: v itself, the array moved, or NULL (v kept). */
static void *room(void *v, size_t n, size_t *cap, size_t size)
{
	size_t c = *cap ? *cap * 2 : 1024;

	if (n < *cap)
		return v;
	v = realloc(v, c * size);
	if (v)
		*cap = c;
	return v;
}

/* A keys file read front to back: the header checked, then each IPv4 key and
 * IPv6 record checked as it is read (ascending, in range, not cut short). */
struct kstream {
	const unsigned char *p, *end;
	__u64 n4, n6, i4, i6, addr, last;
	struct me_prefix prev6;
};

static int ks_open(struct kstream *ks, const char *buf, size_t len, __u64 data_hash)
{
	memset(ks, 0, sizeof(*ks));
	if (len < HEAD_LEN || memcmp(buf, MAGIC, 8) || get64(buf + 8) != data_hash)
		return -EINVAL;
	ks->n4 = get64(buf + 16);
	ks->n6 = get64(buf + 24);
	/* Both counts bounded by the length (a key takes a byte at least)
	 * before they are multiplied. */
	if (ks->n4 > len || ks->n6 > len / REC6_LEN || ks->n6 * REC6_LEN > len - HEAD_LEN)
		return -EINVAL;
	ks->p = (const unsigned char *)buf + HEAD_LEN;
	ks->end = (const unsigned char *)buf + len;
	return 0;
}

/* The next IPv4 key: 1, 0 at the end of them (the IPv6 records must then
 * fill the rest exactly), -EINVAL. */
static int ks_next4(struct kstream *ks, __u64 *key)
{
	__u64 v = 0, len4 = 32;
	int sh;

	if (ks->i4 == ks->n4)
		return (size_t)(ks->end - ks->p) == ks->n6 * REC6_LEN ? 0 : -EINVAL;
	for (sh = 0;; sh += 7) {
		if (ks->p == ks->end || sh >= 7 * VARINT_MAX)
			return -EINVAL;
		v |= (__u64)(*ks->p & 0x7f) << sh;
		if (!(*ks->p++ & 0x80))
			break;
	}
	ks->addr += v >> 1;
	if (v & 1) {
		if (ks->p == ks->end || *ks->p >= 32)
			return -EINVAL; /* a 32 is never written with its byte */
		len4 = *ks->p++;
	}
	*key = ks->addr << 8 | len4;
	if (ks->addr >> 32 || (ks->i4 && *key < ks->last))
		return -EINVAL;
	ks->last = *key;
	ks->i4++;
	return 1;
}

/* The next IPv6 record (after every IPv4 key): 1, 0 at the end, -EINVAL. */
static int ks_next6(struct kstream *ks, struct me_prefix *v)
{
	if (ks->i6 == ks->n6)
		return 0;
	memset(v, 0, sizeof(*v));
	v->family = AF_INET6;
	memcpy(v->addr, ks->p, 16);
	v->len = ks->p[16];
	ks->p += REC6_LEN;
	if (v->len > 128 || (ks->i6 && pfx_cmp(&ks->prev6, v) > 0))
		return -EINVAL;
	ks->prev6 = *v;
	ks->i6++;
	return 1;
}

int ls_keys_decode(const char *buf, size_t len, __u64 data_hash, struct ls_keys *k)
{
	struct kstream ks;
	size_t cap4 = 64;
	__u64 key, *g;
	int rc;

	memset(k, 0, sizeof(*k));
	if (ks_open(&ks, buf, len, data_hash))
		return -EINVAL;
	/* Room for n4 hosts: a host list's keys are nearly all hosts. */
	if (keys_alloc(k, ks.n4, cap4, ks.n6, 0))
		return -ENOMEM;
	while ((rc = ks_next4(&ks, &key)) > 0) {
		if ((key & 0xff) == 32) {
			k->h4[k->nh4++] = (__u32)(key >> 8);
			continue;
		}
		g = room(k->k4, k->n4, &cap4, sizeof(*g));
		if (!g) {
			rc = -ENOMEM;
			break;
		}
		k->k4 = g;
		k->k4[k->n4++] = key;
	}
	if (!rc)
		while ((rc = ks_next6(&ks, &k->v6[k->n6])) > 0)
			k->n6++;
	if (rc)
		ls_keys_free(k);
	return rc;
}

void ls_keys_delta_free(struct ls_keys_delta *d)
{
	free(d->hosts);
	memset(d, 0, sizeof(*d));
}

static int host_push(struct ls_keys_delta *d, size_t *cap, __u32 a)
{
	__u32 *g = room(d->hosts, d->nhosts, cap, sizeof(*g));

	if (!g)
		return -ENOMEM;
	d->hosts = g;
	d->hosts[d->nhosts++] = a;
	return 0;
}

/* A key one side has and the other has not, at this place. Counted (the
 * +/- of the summary count every line); a host is noted only when its
 * address is not on the other side at all: twice in one copy and once in
 * the other is no change to the lists. */
static int delta_one(struct ls_keys_delta *d, size_t *cap, __u64 key, int added, int seen_other)
{
	if (added)
		d->added++;
	else
		d->removed++;
	if (seen_other)
		return 0;
	if ((key & 0xff) != 32) {
		d->hosts_only = 0;
		return 0;
	}
	if (d->nhosts && d->hosts[d->nhosts - 1] == (__u32)(key >> 8))
		return 0; /* the same host again */
	return host_push(d, cap, (__u32)(key >> 8));
}

int ls_keys_delta(const char *buf, size_t len, __u64 old_hash, const struct ls_keys *new,
		  struct ls_keys_delta *d)
{
	static const char empty[HEAD_LEN] = MAGIC;
	struct kstream ks;
	struct me_prefix o6;
	size_t i = 0, j = 0, k = 0, cap = 0;
	__u64 ok = 0, nk, last_o = ~0ull, last_n = ~0ull; /* ~0: no key is that */
	int have, rc = 0, c;

	memset(d, 0, sizeof(*d));
	d->hosts_only = 1;
	if (!buf) /* no copy before: a file of nothing (its hash is 0) */
		buf = empty, len = sizeof(empty), old_hash = 0;
	if (ks_open(&ks, buf, len, old_hash))
		return -EINVAL;
	have = ks_next4(&ks, &ok);
	while (have >= 0 && !rc) {
		int more = v4_peek(new, i, j, &nk);

		if (!more && !have)
			break;
		c = !more ? -1 : have == 0 ? 1 : ok < nk ? -1 : ok > nk;
		if (c < 0)
			rc = delta_one(d, &cap, ok, 0, ok == last_n);
		else if (c > 0)
			rc = delta_one(d, &cap, nk, 1, nk == last_o);
		if (c >= 0) {
			last_n = nk;
			v4_step(&i, &j, nk);
		}
		if (c <= 0) {
			last_o = ok;
			have = ks_next4(&ks, &ok);
		}
	}
	if (!rc && have < 0)
		rc = have;
	have = rc ? 0 : ks_next6(&ks, &o6);
	while (!rc && (have > 0 || k < new->n6)) {
		if (have < 0) {
			rc = have;
			break;
		}
		c = !have ? 1 : k == new->n6 ? -1 : pfx_cmp(&o6, &new->v6[k]);
		if (c) {
			d->hosts_only = 0;
			if (c < 0)
				d->removed++;
			else
				d->added++;
		}
		if (c >= 0)
			k++;
		if (c <= 0)
			have = ks_next6(&ks, &o6);
	}
	if (!rc && have < 0)
		rc = have;
	if (rc)
		ls_keys_delta_free(d);
	return rc;
}
