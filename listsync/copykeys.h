/* SPDX-License-Identifier: GPL-2.0 */
/*
 * copykeys.h - a source's entries as sorted keys, for the +/- counts of a
 * fetch and a refresh worked out from them (incr.h), and their file next to
 * the saved copy.
 *
 * Counting what a fetch added and removed needs the previous copy's entries in
 * order. Parsing the previous copy again (8M lines: a second or more) and
 * sorting it was most of a refresh; instead each fetch leaves its entries'
 * sorted keys in sources/NAME.keys, and the next fetch reads them back. The
 * file names the hash of the copy it was made from, and the source's state
 * (NAME.json) the hash of the copy saved: a keys file that does not match (a
 * crash between the writes, an older version) is ignored, and the copy is
 * parsed as before. A rebuild never reads them: it merges the copies.
 *
 * Hosts are kept apart from the other prefixes, as 4-byte keys: 8M of them
 * are most of the memory and of the time a refresh spends on keys.
 */
#ifndef LS_COPYKEYS_H
#define LS_COPYKEYS_H

#include <stddef.h>
#include <sys/uio.h>
#include <linux/types.h>

#include "addr.h"
#include "radix.h"

struct ls_keys {
	__u32 *h4; /* IPv4 hosts (/32s), ascending, in host byte order */
	size_t nh4;
	int h4_borrowed; /* h4 is the array given to ls_keys_make: not freed here */
	__u64 *k4;	 /* the other IPv4 prefixes: address << 8 | length, ascending */
	size_t n4;
	struct me_prefix *v6; /* IPv6 entries, in address then length order */
	size_t n6;
};

/*
 * The sorted keys of v[0..n) and of the IPv4 hosts h4[0..nh4) (host order;
 * sorted in place). When v has no IPv4 /32 of its own, k->h4 is h4 itself
 * (h4_borrowed: 8M hosts are not copied) and k must be freed before h4; else
 * the hosts are copied. 0 or -ENOMEM.
 */
int ls_keys_make(const struct me_prefix *v, size_t n, __u32 *h4, size_t nh4, struct ls_keys *k);
void ls_keys_free(struct ls_keys *k);

/*
 * What a fetch changed, against the previous copy's keys file (its bytes, as
 * read or mapped; NULL and 0: there was no previous copy). Walked in place,
 * never decoded: one pass over the file and the new keys gives the counts and
 * the hosts that came or went.
 */
struct ls_keys_delta {
	size_t added, removed;
	__u32 *hosts; /* the IPv4 hosts only one of the copies has, ascending */
	__u64 *came;  /* bit i: hosts[i] is the new copy's (else the old one's) */
	size_t nhosts;
	int hosts_only; /* nothing but IPv4 hosts changed (a refresh from keys can do it) */
};

/* 0; -EINVAL when buf is not a well-formed keys file for the copy with
 * old_hash (the caller then makes the old copy's keys and encodes them);
 * -ENOMEM. */
int ls_keys_delta(const char *buf, size_t len, __u64 old_hash, const struct ls_keys *new,
		  struct ls_keys_delta *d);
void ls_keys_delta_free(struct ls_keys_delta *d);


/*
 * The file of k, for the copy whose hash is data_hash, as the pieces to write
 * in order (iov[0..3), len bytes in all). The hosts' piece is k->h4 itself
 * (on a little-endian machine): 32 MB at 8M hosts, not copied, so k->h4 must
 * stay until the file is written. ls_keys_file_free frees the rest.
 */
struct ls_keys_file {
	struct iovec iov[3];
	size_t len;
	char *own;    /* header, prefixes, IPv6 records */
	void *own_h4; /* the hosts in the file's byte order, where that is not ours */
};
int ls_keys_file_make(const struct ls_keys *k, __u64 data_hash, struct ls_keys_file *f);
void ls_keys_file_free(struct ls_keys_file *f);

/* The same bytes in one buffer (free *buf). */
int ls_keys_encode(const struct ls_keys *k, __u64 data_hash, char **buf, size_t *len);
/* Back from the file's bytes: 0, or -EINVAL when they are not a well-formed
 * keys file for the copy with data_hash (which is then parsed instead).
 * k->h4 may point into buf (h4_borrowed): buf must outlive k. */
int ls_keys_decode(const char *buf, size_t len, __u64 data_hash, struct ls_keys *k);

#endif
