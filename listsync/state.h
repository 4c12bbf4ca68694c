/* SPDX-License-Identifier: GPL-2.0 */
/*
 * state.h - what mailedge-listsync remembers between runs, in its state
 * directory (default /var/lib/mailedge):
 *
 *   lock                   held for a whole run
 *   ids.json               source name -> source id (stable hit counters)
 *   applied                digest of the inputs the maps were made from (every
 *                          source's copy, id, list and entry), the digest
 *                          of their union and its counts
 *   sources/NAME.data      the last good download, byte for byte
 *   sources/NAME.json      its metadata: when fetched, ETag, failures...
 *   sources/NAME.keys      its entries as sorted keys, for the next +/- counts
 *
 * Files are replaced by write-to-temp, fsync, rename: a crash leaves the old
 * copy or the new one, never half of one. "applied" skips the fsync: it
 * describes the maps, which a power loss takes with it (state.c).
 */
#ifndef LS_STATE_H
#define LS_STATE_H

#include <pthread.h>
#include <stddef.h>
#include <sys/uio.h>
#include <linux/types.h>

#include "union.h"

struct ls_state {
	char url[1024];	   /* what the last good copy was fetched from */
	char format[32];
	char etag[256];
	char last_modified[64];
	__u64 last_ok;	   /* unix time of the last good fetch or 304 */
	__u64 last_try;	   /* unix time of the last attempt */
	__u64 next_try;	   /* not before this (interval or back-off) */
	unsigned int failures;	   /* in a row; the back-off grows with it */
	unsigned long long failures_total; /* ever: a Prometheus counter, never reset */
	unsigned long long entries; /* in the last good copy */
	__u64 data_hash;	    /* ls_copy_hash of the last good copy (copykeys.h) */
	char last_error[256];
	int have_data;	   /* a last good copy exists for this url and format */
};

int ls_state_open(const char *dir, int *lock_fd, unsigned int lock_timeout, char *why,
		  size_t why_len);
void ls_state_close(int lock_fd);

int ls_state_load(const char *dir, const char *name, struct ls_state *st);
int ls_state_save(const char *dir, const char *name, const struct ls_state *st);
/* sources/NAME.EXT: "data" (the last good copy) or "keys" (its sorted keys,
 * copykeys.h). */
int ls_state_file_read(const char *dir, const char *name, const char *ext, char **buf,
		       size_t *len);
int ls_state_file_write(const char *dir, const char *name, const char *ext, const char *buf,
			size_t len);

/* The file mapped read-only (a keys file read once, front to back, needs no
 * copy of its own): 0, -ENOENT, -EINVAL (empty or too large), -errno.
 * ls_state_file_unmap undoes it. */
int ls_state_file_map(const char *dir, const char *name, const char *ext, const char **buf,
		      size_t *len);
void ls_state_file_unmap(const char *buf, size_t len);

/*
 * The same write in two halves, so that a 100 MB download reaches the disk
 * while it is being checked: start writes it to a temporary file and syncs
 * it on a thread of its own; finish waits for that, then puts the file in
 * place (commit) or throws it away. The bytes must stay as they are until
 * finish, which must be called once for every start (even a failed one).
 * The file is written from up to LS_WRITE_PIECES pieces, in order, so that
 * a large array need not be copied into one buffer. own (unless NULL)
 * is freed once it is written and ls_state_file_release says the caller is
 * done with it, whichever comes last: a 100 MB download need not stay in
 * memory until the sync and finish. finish releases it too. 0 or -errno.
 */
#define LS_WRITE_PIECES 4
/* What an O_DIRECT write asks of its memory and file offset: a piece whose
 * bytes are aligned so (a download, fetch.c) goes around the page cache. */
#define LS_DIRECT_ALIGN 4096
#define LS_STATE_PATH	4096
struct ls_state_write {
	pthread_t th;
	int started;
	int rc;
	char tmp[LS_STATE_PATH], path[LS_STATE_PATH];
	struct iovec iov[LS_WRITE_PIECES];
	int niov;
	void *own;
	int refs;     /* on own: the writer's and the caller's */
	int released; /* the caller's is gone */
	char old[LS_STATE_PATH + 16]; /* path's second name ("/." and ".old" more),
				       * the replaced file's, being unlinked */
	pthread_t reaper;
	int reaping;
};
void ls_state_file_release(struct ls_state_write *w);
void ls_state_file_startv(const char *dir, const char *name, const char *ext,
			  const struct iovec *iov, int niov, void *own, struct ls_state_write *w);
int ls_state_file_finish(struct ls_state_write *w, int commit);
/* The file a committed write replaced keeps a second name until these: drop
 * starts its unlink in a thread, reap (which drops first) waits for it. Both
 * are harmless on a write that replaced nothing. */
void ls_state_file_drop_old(struct ls_state_write *w);
void ls_state_file_reap(struct ls_state_write *w);

/* Assign stable ids to names (ME_SRC_SYNC_FIRST..255); ids[i] for names[i].
 * With save 0 (a dry run) new names get the ids they would get, and nothing is
 * written. */
int ls_state_ids(const char *dir, const char *const *names, size_t n, unsigned char *ids,
		 int save);

struct ls_applied {
	__u64 digest;	    /* of the inputs */
	__u64 union_digest; /* me_union_digest of the union; 0: not known */
	struct me_union_counts counts;
	int have_counts;
};

int ls_state_applied_get(const char *dir, struct ls_applied *a);
int ls_state_applied_set(const char *dir, const struct ls_applied *a);

#endif
