/* SPDX-License-Identifier: GPL-2.0 */
/*
 * copyparse.h - a source's copy (a download, or the saved one) parsed into
 * its entries, with the format's fast path for IPv4 hosts.
 *
 * A big copy of a format with a fast path is read in two halves on two
 * threads: 8M lines take ~150 ms on one core of the machines this runs on, and
 * a refresh of such a list is otherwise mostly this parse. Line numbers,
 * errors and entries are the ones one pass gives.
 */
#ifndef LS_COPYPARSE_H
#define LS_COPYPARSE_H

#include <stddef.h>

#include "addr.h"
#include "config.h"
#include "listfile.h"

struct prefixes {
	struct me_prefix *v;	/* what the general parser read */
	size_t nv, cap;
	struct me_hosts4 h4;	/* IPv4 hosts the fast path read (listfile.h) */
	size_t n;		/* entries: nv + h4.n */
	size_t fixed;		/* host bits cleared */
	char why[160];		/* why the callback refused an entry */
};

/* buf[0..len) in s's format into *ps (empty on failure, with why saying
 * what is wrong and where). 0, -EINVAL, -ENOMEM. */
int ls_copy_parse(const struct ls_source *s, const char *buf, size_t len, struct prefixes *ps,
		  char *why, size_t why_len);
void ls_prefixes_free(struct prefixes *ps);
/* The entries go; their count stays (it is reported). */
void ls_prefixes_drop(struct prefixes *ps);

#endif
