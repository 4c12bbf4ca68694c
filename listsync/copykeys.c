// SPDX-License-Identifier: GPL-2.0
/*
 * copykeys.c - sorted keys of a source's entries (copykeys.h).
 *
 * The file: "MEKEYS3\n", then little-endian u64s: the copy's hash, nh4, n4,
 * n6; the nh4 IPv4 hosts as little-endian u32s, ascending (a host listed twice
 * is there twice); the n4 other IPv4 keys as little-endian u64s (address << 8
 * | length), ascending; then n6 records of 16 address bytes and a length,
 * ascending. Exactly that long.
 *
 * Why the hosts as they are in memory: the file is written on every fetch and
 * read on the next one, and an array written as it is needs no encoding (the
 * writer takes it in place) and no decoding (the next run maps the file and
 * walks it). Varint deltas made it a third of the size and cost 80 ms a
 * refresh at 8M hosts, to write and to read, for 20 MB of disk less.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "grow.h"
#include "copykeys.h"
#include "hugemem.h"

#define MAGIC	 "MEKEYS3\n"
#define HEAD_LEN (8 + 4 * 8)
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

static __u32 ld32(const unsigned char *p)
{
	__u32 v;

	memcpy(&v, p, 4);
	return le32toh(v);
}

static int little_endian(void)
{
	return __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__;
}

void ls_keys_file_free(struct ls_keys_file *f)
{
	free(f->own);
	free(f->own_h4);
	memset(f, 0, sizeof(*f));
}

int ls_keys_file_make(const struct ls_keys *k, __u64 data_hash, struct ls_keys_file *f)
{
	size_t i, tail = k->n4 * 8 + k->n6 * REC6_LEN;
	char *p;

	memset(f, 0, sizeof(*f));
	f->own = malloc(HEAD_LEN + tail);
	if (!f->own)
		return -ENOMEM;
	/* Not checked here: the reader checks every key it is given. */
	memcpy(f->own, MAGIC, 8);
	put64(f->own + 8, data_hash);
	put64(f->own + 16, k->nh4);
	put64(f->own + 24, k->n4);
	put64(f->own + 32, k->n6);
	p = f->own + HEAD_LEN;
	for (i = 0; i < k->n4; i++, p += 8)
		put64(p, k->k4[i]);
	for (i = 0; i < k->n6; i++, p += REC6_LEN) {
		memcpy(p, k->v6[i].addr, 16);
		p[16] = (char)k->v6[i].len;
	}
	f->iov[0].iov_base = f->own;
	f->iov[0].iov_len = HEAD_LEN;
	f->iov[1].iov_base = k->h4;
	f->iov[1].iov_len = k->nh4 * 4;
	f->iov[2].iov_base = f->own + HEAD_LEN;
	f->iov[2].iov_len = tail;
	if (!little_endian() && k->nh4) { /* the file's byte order, in a copy */
		__u32 *h = malloc(k->nh4 * sizeof(*h));

		if (!h) {
			ls_keys_file_free(f);
			return -ENOMEM;
		}
		for (i = 0; i < k->nh4; i++)
			h[i] = htole32(k->h4[i]);
		f->own_h4 = h;
		f->iov[1].iov_base = h;
	}
	f->len = HEAD_LEN + k->nh4 * 4 + tail;
	return 0;
}

int ls_keys_encode(const struct ls_keys *k, __u64 data_hash, char **buf, size_t *len)
{
	struct ls_keys_file f;
	char *b, *p;
	int i, rc;

	rc = ls_keys_file_make(k, data_hash, &f);
	if (rc)
		return rc;
	b = malloc(f.len);
	if (!b) {
		ls_keys_file_free(&f);
		return -ENOMEM;
	}
	me_hugepages(b, f.len);
	for (i = 0, p = b; i < 3; i++) {
		if (f.iov[i].iov_len)
			memcpy(p, f.iov[i].iov_base, f.iov[i].iov_len);
		p += f.iov[i].iov_len;
	}
	*buf = b;
	*len = f.len;
	ls_keys_file_free(&f);
	return 0;
}

/* A keys file, its header checked and its parts found; the keys themselves
 * are checked as they are read (ascending, in range). */
struct kfile {
	const unsigned char *h4, *k4, *v6;
	size_t nh4, n4, n6;
};

static int kf_open(const char *buf, size_t len, __u64 data_hash, struct kfile *kf)
{
	__u64 nh4, n4, n6;

	if (len < HEAD_LEN || memcmp(buf, MAGIC, 8) || get64(buf + 8) != data_hash)
		return -EINVAL;
	nh4 = get64(buf + 16);
	n4 = get64(buf + 24);
	n6 = get64(buf + 32);
	len -= HEAD_LEN;
	/* Each count bounded by what is left before it is multiplied. */
	if (nh4 > len / 4 || n4 > (len - nh4 * 4) / 8 || n6 > (len - nh4 * 4 - n4 * 8) / REC6_LEN ||
	    nh4 * 4 + n4 * 8 + n6 * REC6_LEN != len)
		return -EINVAL;
	kf->nh4 = (size_t)nh4;
	kf->n4 = (size_t)n4;
	kf->n6 = (size_t)n6;
	kf->h4 = (const unsigned char *)buf + HEAD_LEN;
	kf->k4 = kf->h4 + kf->nh4 * 4;
	kf->v6 = kf->k4 + kf->n4 * 8;
	return 0;
}

/* Prefix key i of the file, or -EINVAL (not ascending, or a length that is
 * not a prefix's); prev is the one before it. */
static int kf_key4(const struct kfile *kf, size_t i, __u64 prev, __u64 *key)
{
	*key = get64((const char *)kf->k4 + 8 * i);
	if ((*key & 0xff) >= 32 || *key >> 40 || (i && *key < prev))
		return -EINVAL;
	return 0;
}

/* IPv6 record i of the file into *v, or -EINVAL (see kf_key4). */
static int kf_rec6(const struct kfile *kf, size_t i, const struct me_prefix *prev,
		   struct me_prefix *v)
{
	const unsigned char *p = kf->v6 + i * REC6_LEN;

	memset(v, 0, sizeof(*v));
	v->family = AF_INET6;
	memcpy(v->addr, p, 16);
	v->len = p[16];
	if (v->len > 128 || (i && pfx_cmp(prev, v) > 0))
		return -EINVAL;
	return 0;
}

int ls_keys_decode(const char *buf, size_t len, __u64 data_hash, struct ls_keys *k)
{
	struct kfile kf;
	size_t i;
	int borrow;

	memset(k, 0, sizeof(*k));
	if (kf_open(buf, len, data_hash, &kf))
		return -EINVAL;
	/* The hosts are read where they are when they are in this machine's
	 * order and aligned for it, as a mapped or allocated file is. */
	borrow = little_endian() && !((unsigned long)kf.h4 & 3);
	if (keys_alloc(k, kf.nh4, kf.n4, kf.n6, borrow))
		return -ENOMEM;
	if (borrow)
		k->h4 = (__u32 *)(void *)kf.h4;
	else
		for (i = 0; i < kf.nh4; i++)
			k->h4[i] = ld32(kf.h4 + 4 * i);
	k->nh4 = kf.nh4;
	for (i = 1; i < kf.nh4; i++)
		if (k->h4[i] < k->h4[i - 1])
			goto bad;
	for (i = 0; i < kf.n4; i++)
		if (kf_key4(&kf, i, i ? k->k4[i - 1] : 0, &k->k4[i]))
			goto bad;
	k->n4 = kf.n4;
	for (i = 0; i < kf.n6; i++)
		if (kf_rec6(&kf, i, i ? &k->v6[i - 1] : NULL, &k->v6[i]))
			goto bad;
	k->n6 = kf.n6;
	return 0;
bad:
	ls_keys_free(k);
	return -EINVAL;
}

void ls_keys_delta_free(struct ls_keys_delta *d)
{
	free(d->hosts);
	free(d->came);
	memset(d, 0, sizeof(*d));
}

/* cap counts hosts; came has room for cap bits, in whole words. */
static int host_push(struct ls_keys_delta *d, size_t *cap, __u32 a, int came)
{
	size_t had = *cap;
	__u32 *g = me_grow(d->hosts, d->nhosts, cap, sizeof(*g), 1024);

	if (!g)
		return -ENOMEM;
	d->hosts = g;
	if (*cap != had || !d->came) {
		size_t from = d->came ? (had + 63) / 64 : 0, to = (*cap + 63) / 64;
		__u64 *c = realloc(d->came, to * sizeof(*c));

		if (!c)
			return -ENOMEM;
		memset(c + from, 0, (to - from) * sizeof(*c));
		d->came = c;
	}
	if (came)
		d->came[d->nhosts / 64] |= 1ull << (d->nhosts % 64);
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
	return host_push(d, cap, (__u32)(key >> 8), added);
}

/* The hosts of the two copies side by side. Most of them are on both sides,
 * in runs as long as the distance between changes: on a little-endian
 * machine the file's bytes are the array's, so a run is passed over sixteen
 * hosts a compare. */
static int delta_hosts(const struct kfile *kf, const struct ls_keys *new, struct ls_keys_delta *d,
		       size_t *cap)
{
	const __u32 *nw = new->h4;
	size_t i = 0, j = 0, no = kf->nh4, nn = new->nh4, r;
	__u64 last_o = ~0ull, last_n = ~0ull; /* ~0: no host is that */
	int le = little_endian(), rc = 0;
	__u32 o = 0;

	while (!rc && (i < no || j < nn)) {
		if (i < no) {
			o = ld32(kf->h4 + 4 * i);
			if (i && o < ld32(kf->h4 + 4 * (i - 1)))
				return -EINVAL;
		}
		if (i < no && j < nn && o == nw[j]) {
			/* Sixteen equal to the new (ascending) hosts are
			 * ascending too: the check above covers a run's first. */
			for (r = 1; le && r + 16 <= no - i && r + 16 <= nn - j &&
				    !memcmp(kf->h4 + 4 * (i + r), nw + j + r, 64);
			     r += 16)
				;
			last_o = last_n = nw[j + r - 1];
			i += r;
			j += r;
		} else if (j == nn || (i < no && o < nw[j])) {
			rc = delta_one(d, cap, (__u64)o << 8 | 32, 0, o == last_n);
			last_o = o;
			i++;
		} else {
			rc = delta_one(d, cap, (__u64)nw[j] << 8 | 32, 1, nw[j] == last_o);
			last_n = nw[j];
			j++;
		}
	}
	return rc;
}

/* The other IPv4 prefixes: counted, and any change is not a host's. */
static int delta_prefixes4(const struct kfile *kf, const struct ls_keys *new,
			   struct ls_keys_delta *d, size_t *cap)
{
	size_t i = 0, j = 0;
	__u64 o = 0, last_o = ~0ull, last_n = ~0ull;
	int rc = 0;

	while (!rc && (i < kf->n4 || j < new->n4)) {
		if (i < kf->n4 && kf_key4(kf, i, o, &o))
			return -EINVAL;
		if (i < kf->n4 && j < new->n4 && o == new->k4[j]) {
			last_o = last_n = o;
			i++;
			j++;
		} else if (j == new->n4 || (i < kf->n4 && o < new->k4[j])) {
			rc = delta_one(d, cap, o, 0, o == last_n);
			last_o = o;
			i++;
		} else {
			rc = delta_one(d, cap, new->k4[j], 1, new->k4[j] == last_o);
			last_n = new->k4[j];
			j++;
		}
	}
	return rc;
}

static int delta_v6(const struct kfile *kf, const struct ls_keys *new, struct ls_keys_delta *d)
{
	struct me_prefix o6 = { 0 }, p6 = { 0 };
	size_t i = 0, j = 0;
	int c;

	while (i < kf->n6 || j < new->n6) {
		if (i < kf->n6 && kf_rec6(kf, i, &p6, &o6))
			return -EINVAL;
		c = i == kf->n6 ? 1 : j == new->n6 ? -1 : pfx_cmp(&o6, &new->v6[j]);
		if (c) {
			d->hosts_only = 0;
			if (c < 0)
				d->removed++;
			else
				d->added++;
		}
		if (c >= 0)
			j++;
		if (c <= 0) {
			p6 = o6;
			i++;
		}
	}
	return 0;
}

int ls_keys_delta(const char *buf, size_t len, __u64 old_hash, const struct ls_keys *new,
		  struct ls_keys_delta *d)
{
	static const char empty[HEAD_LEN] = MAGIC;
	struct kfile kf;
	size_t cap = 0;
	int rc;

	memset(d, 0, sizeof(*d));
	d->hosts_only = 1;
	if (kf_open(buf ? buf : empty, buf ? len : sizeof(empty), buf ? old_hash : 0, &kf))
		return -EINVAL;
	if (!buf && new->nh4) {
		/* No copy before (a file of nothing, whose hash is 0): every
		 * host came, room for them at once rather than by doubling. */
		d->hosts = malloc(new->nh4 * sizeof(*d->hosts));
		if (!d->hosts)
			return -ENOMEM;
		me_hugepages(d->hosts, new->nh4 * sizeof(*d->hosts));
		cap = new->nh4;
	}
	rc = delta_hosts(&kf, new, d, &cap);
	if (!rc)
		rc = delta_prefixes4(&kf, new, d, &cap);
	if (!rc)
		rc = delta_v6(&kf, new, d);
	if (rc)
		ls_keys_delta_free(d);
	return rc;
}
