// SPDX-License-Identifier: GPL-2.0
/*
 * state.c - the state directory of mailedge-listsync.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-c/json.h>

#include "atomicfile.h"
#include "edge.h"
#include "listfile.h"
#include "mailedge_abi.h"
#include "state.h"

/* The last good copy can be as large as max_size allows. */
#define STATE_MAX_DATA (4ull << 30)

static int mkdirs(const char *dir)
{
	char p[PATH_MAX], *s;

	if (snprintf(p, sizeof(p), "%s/sources", dir) >= (int)sizeof(p))
		return -ENAMETOOLONG;
	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(p, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

int ls_state_open(const char *dir, int *lock_fd, unsigned int lock_timeout, char *why,
		  size_t why_len)
{
	char path[PATH_MAX];
	int fd, rc;

	rc = mkdirs(dir);
	if (rc) {
		snprintf(why, why_len, "cannot create state directory %s: %s", dir, strerror(-rc));
		return rc;
	}
	snprintf(path, sizeof(path), "%s/lock", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(why, why_len, "cannot open %s: %s", path, strerror(errno));
		return -errno;
	}
	/* lock_timeout is at most 3600 s (config.c), so the milliseconds fit an int. */
	if (me_flock_wait(fd, (int)lock_timeout * 1000, 100, NULL)) {
		snprintf(why, why_len, "another mailedge-listsync run holds %s", path);
		close(fd);
		return -EBUSY;
	}
	*lock_fd = fd;
	return 0;
}

void ls_state_close(int lock_fd)
{
	if (lock_fd >= 0)
		close(lock_fd); /* releases the flock */
}

static void path_of(char *buf, size_t len, const char *dir, const char *name, const char *ext)
{
	snprintf(buf, len, "%s/sources/%s.%s", dir, name, ext);
}

static void get_str(json_object *o, const char *key, char *dst, size_t cap)
{
	json_object *v;

	dst[0] = '\0';
	if (json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
		snprintf(dst, cap, "%s", json_object_get_string(v));
}

static __u64 get_u64(json_object *o, const char *key)
{
	json_object *v;

	if (json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_int) &&
	    json_object_get_int64(v) > 0)
		return (__u64)json_object_get_int64(v);
	return 0;
}

int ls_state_load(const char *dir, const char *name, struct ls_state *st)
{
	char path[PATH_MAX], hash[24];
	struct stat sb;
	json_object *o;

	memset(st, 0, sizeof(*st));
	path_of(path, sizeof(path), dir, name, "json");
	o = json_object_from_file(path);
	if (!o)
		return 0; /* never fetched (or unreadable: start over) */
	get_str(o, "url", st->url, sizeof(st->url));
	get_str(o, "format", st->format, sizeof(st->format));
	get_str(o, "etag", st->etag, sizeof(st->etag));
	get_str(o, "last_modified", st->last_modified, sizeof(st->last_modified));
	get_str(o, "last_error", st->last_error, sizeof(st->last_error));
	st->last_ok = get_u64(o, "last_ok");
	st->last_try = get_u64(o, "last_try");
	st->next_try = get_u64(o, "next_try");
	st->failures = (unsigned int)get_u64(o, "failures");
	st->failures_total = get_u64(o, "failures_total");
	st->entries = get_u64(o, "entries");
	get_str(o, "data_hash", hash, sizeof(hash));
	st->data_hash = strtoull(hash, NULL, 16);
	json_object_put(o);
	path_of(path, sizeof(path), dir, name, "data");
	st->have_data = !stat(path, &sb) && st->last_ok;
	return 0;
}

int ls_state_save(const char *dir, const char *name, const struct ls_state *st)
{
	char path[PATH_MAX], hash[24];
	json_object *o = json_object_new_object();
	const char *text;
	int rc;

	json_object_object_add(o, "url", json_object_new_string(st->url));
	json_object_object_add(o, "format", json_object_new_string(st->format));
	json_object_object_add(o, "etag", json_object_new_string(st->etag));
	json_object_object_add(o, "last_modified", json_object_new_string(st->last_modified));
	json_object_object_add(o, "last_error", json_object_new_string(st->last_error));
	json_object_object_add(o, "last_ok", json_object_new_int64((int64_t)st->last_ok));
	json_object_object_add(o, "last_try", json_object_new_int64((int64_t)st->last_try));
	json_object_object_add(o, "next_try", json_object_new_int64((int64_t)st->next_try));
	json_object_object_add(o, "failures", json_object_new_int64(st->failures));
	json_object_object_add(o, "failures_total",
			       json_object_new_int64((int64_t)st->failures_total));
	json_object_object_add(o, "entries", json_object_new_int64((int64_t)st->entries));
	/* hex: JSON numbers are not safe past 2^53 */
	snprintf(hash, sizeof(hash), "%016llx", (unsigned long long)st->data_hash);
	json_object_object_add(o, "data_hash", json_object_new_string(hash));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY);
	path_of(path, sizeof(path), dir, name, "json");
	rc = me_file_replace_buf(path, 0600, text, strlen(text));
	json_object_put(o);
	return rc;
}

int ls_state_file_read(const char *dir, const char *name, const char *ext, char **buf,
		       size_t *len)
{
	char path[PATH_MAX];

	path_of(path, sizeof(path), dir, name, ext);
	return me_read_file(path, STATE_MAX_DATA, buf, len);
}

int ls_state_file_write(const char *dir, const char *name, const char *ext, const char *buf,
			size_t len)
{
	char path[PATH_MAX];

	path_of(path, sizeof(path), dir, name, ext);
	return me_file_replace_buf(path, 0600, buf, len);
}

int ls_state_file_map(const char *dir, const char *name, const char *ext, const char **buf,
		      size_t *len)
{
	char path[PATH_MAX];
	struct stat sb;
	void *m;
	int fd, rc = 0;

	path_of(path, sizeof(path), dir, name, ext);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb))
		rc = -errno;
	else if (!S_ISREG(sb.st_mode) || sb.st_size <= 0 ||
		 (unsigned long long)sb.st_size > STATE_MAX_DATA)
		rc = -EINVAL;
	if (!rc) {
		m = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (m == MAP_FAILED) {
			rc = -errno;
		} else {
			/* Read once, front to back. */
			madvise(m, (size_t)sb.st_size, MADV_SEQUENTIAL);
			*buf = m;
			*len = (size_t)sb.st_size;
		}
	}
	close(fd);
	return rc;
}

void ls_state_file_unmap(const char *buf, size_t len)
{
	if (buf)
		munmap((void *)buf, len);
}

/* own goes with the last of the writer's and the caller's references. */
static void drop_own(struct ls_state_write *w)
{
	if (w->own && !__atomic_sub_fetch(&w->refs, 1, __ATOMIC_ACQ_REL))
		free(w->own);
}

void ls_state_file_release(struct ls_state_write *w)
{
	if (!w->released) {
		w->released = 1;
		drop_own(w);
	}
}

/* A piece worth writing around the page cache: big, page-aligned in memory
 * and in the file. */
#define DIRECT_MIN ((size_t)1 << 20)

/*
 * The aligned head of a big piece at file offset pos, written with O_DIRECT:
 * the bytes it took, 0 if it took none (the caller writes them through the
 * page cache). A 110 MB download written through the page cache and synced
 * cost 240 ms of system time on the 2-vCPU VM we measure on, taken from the
 * parse and the sort beside it; straight from the buffer, 45 ms, and the
 * disk finishes in less than half the time. The file system may refuse
 * O_DIRECT (tmpfs): then nothing is lost but the saving.
 */
static size_t write_direct(int fd, const char *p, size_t len, size_t pos)
{
	size_t head = len & ~(size_t)(LS_DIRECT_ALIGN - 1), off = 0;
	int fl = fcntl(fd, F_GETFL);
	ssize_t n;

	if (len < DIRECT_MIN || ((uintptr_t)p | pos) & (LS_DIRECT_ALIGN - 1) || fl < 0 ||
	    fcntl(fd, F_SETFL, fl | O_DIRECT))
		return 0;
	while (off < head) {
		n = write(fd, p + off, head - off);
		if (n < 0 && errno == EINTR)
			continue;
		/* Refused (EINVAL: the device's block is larger; or an error
		 * the page cache then meets again and reports): the rest goes
		 * through the cache, as does all after a short, unaligned one. */
		if (n <= 0)
			break;
		off += (size_t)n;
		if ((size_t)n & (LS_DIRECT_ALIGN - 1))
			break;
	}
	(void)fcntl(fd, F_SETFL, fl);
	return off;
}

static void *write_tmp(void *arg)
{
	struct ls_state_write *w = arg;
	size_t off, pos = 0;
	ssize_t n;
	int fd, k;

	fd = mkostemp(w->tmp, O_CLOEXEC);
	if (fd < 0) {
		w->rc = -errno;
		w->tmp[0] = '\0';
		drop_own(w);
		return NULL;
	}
	for (k = 0; k < w->niov && !w->rc; k++) {
		off = write_direct(fd, w->iov[k].iov_base, w->iov[k].iov_len, pos);
		while (off < w->iov[k].iov_len) {
			n = write(fd, (const char *)w->iov[k].iov_base + off,
				  w->iov[k].iov_len - off);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				w->rc = n < 0 ? -errno : -EIO;
				break;
			}
			off += (size_t)n;
		}
		pos += off;
	}
	drop_own(w); /* in the page cache now */
	if (!w->rc && fsync(fd))
		w->rc = -errno;
	if (close(fd) && !w->rc)
		w->rc = -errno;
	return NULL;
}

void ls_state_file_startv(const char *dir, const char *name, const char *ext,
			  const struct iovec *iov, int niov, void *own, struct ls_state_write *w)
{
	memset(w, 0, sizeof(*w));
	w->own = own;
	w->refs = 2;
	path_of(w->path, sizeof(w->path), dir, name, ext);
	/* Next to the file (the same file system, for the rename), named as
	 * atomicfile.c names its temporaries. */
	snprintf(w->tmp, sizeof(w->tmp), "%s/sources/.%s.%s.XXXXXX", dir, name, ext);
	if (niov > LS_WRITE_PIECES) {
		w->rc = -EINVAL;
		w->tmp[0] = '\0';
		drop_own(w); /* the writer's reference: there is no writer */
		return;
	}
	memcpy(w->iov, iov, (size_t)niov * sizeof(*iov));
	w->niov = niov;
	if (pthread_create(&w->th, NULL, write_tmp, w))
		write_tmp(w); /* no thread: the same work, here */
	else
		w->started = 1;
}


static void *unlink_old(void *arg)
{
	struct ls_state_write *w = arg;

	unlink(w->old);
	return NULL;
}

/*
 * A second name for the file about to be replaced, so that the rename frees
 * none of its blocks: freeing a 110 MB copy's took 34 ms of the rename on
 * ext4, on the way to the maps. ls_state_file_drop_old unlinks it in a
 * thread, once the caller has synced what must come first (the journal
 * commit of an fsync would otherwise wait for the freeing), beside the apply
 * that follows; ls_state_file_reap waits for it. Without the link (no file
 * yet, a file system without hard links) the rename frees them, as before.
 */
static void keep_old(struct ls_state_write *w)
{
	const char *base = strrchr(w->path, '/');
	int dlen = base ? (int)(base - w->path) : 0;

	/* One name a file, ".NAME.EXT.old" beside it: what a killed run left
	 * there goes first, so that no more than one can ever pile up. */
	snprintf(w->old, sizeof(w->old), "%.*s/.%s.old", dlen, w->path, base ? base + 1 : w->path);
	unlink(w->old);
	if (link(w->path, w->old))
		w->old[0] = '\0';
}

void ls_state_file_drop_old(struct ls_state_write *w)
{
	if (!w->old[0] || w->reaping)
		return;
	w->reaping = !pthread_create(&w->reaper, NULL, unlink_old, w);
	if (!w->reaping) {
		unlink(w->old); /* no thread: here */
		w->old[0] = '\0';
	}
}

int ls_state_file_finish(struct ls_state_write *w, int commit)
{
	if (w->started)
		pthread_join(w->th, NULL);
	w->started = 0;
	ls_state_file_release(w);
	if (!w->rc && commit) {
		keep_old(w);
		if (rename(w->tmp, w->path)) {
			w->rc = -errno;
			if (w->old[0])
				unlink(w->old); /* the file is still there */
			w->old[0] = '\0';
		}
	}
	if ((w->rc || !commit) && w->tmp[0])
		unlink(w->tmp);
	w->tmp[0] = '\0';
	return w->rc;
}

void ls_state_file_reap(struct ls_state_write *w)
{
	ls_state_file_drop_old(w);
	if (w->reaping)
		pthread_join(w->reaper, NULL);
	w->reaping = 0;
	w->old[0] = '\0';
}

int ls_state_ids(const char *dir, const char *const *names, size_t n, unsigned char *ids, int save)
{
	unsigned char used[ME_SRC_MAX] = { 0 };
	char path[PATH_MAX];
	json_object *o, *v;
	const char *text;
	size_t i;
	int id, rc = 0, dirty = 0;

	snprintf(path, sizeof(path), "%s/ids.json", dir);
	o = json_object_from_file(path);
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = json_object_new_object();
		dirty = 1;
	}
	json_object_object_foreach(o, key, val)
	{
		(void)key;
		id = json_object_get_int(val);
		if (id >= ME_SRC_SYNC_FIRST && id < ME_SRC_MAX)
			used[id] = 1;
	}
	for (i = 0; i < n; i++) {
		if (json_object_object_get_ex(o, names[i], &v)) {
			id = json_object_get_int(v);
			if (id >= ME_SRC_SYNC_FIRST && id < ME_SRC_MAX) {
				ids[i] = (unsigned char)id;
				continue;
			}
		}
		for (id = ME_SRC_SYNC_FIRST; id < ME_SRC_MAX && used[id]; id++)
			;
		if (id == ME_SRC_MAX && save) {
			/* Forget names no longer configured, then try again. */
			json_object_put(o);
			unlink(path);
			return ls_state_ids(dir, names, n, ids, save);
		}
		if (id == ME_SRC_MAX) {
			/* A dry run may not forget names: count from an empty table,
			 * as the real run would after forgetting. */
			json_object_put(o);
			for (i = 0; i < n; i++)
				ids[i] = (unsigned char)(ME_SRC_SYNC_FIRST + i);
			return 0;
		}
		used[id] = 1;
		ids[i] = (unsigned char)id;
		json_object_object_add(o, names[i], json_object_new_int(id));
		dirty = 1;
	}
	/* Only a change is written: a write is an fsync, and most runs assign nothing. */
	if (dirty && save) {
		text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY);
		rc = me_file_replace_buf(path, 0600, text, strlen(text));
	}
	json_object_put(o);
	return rc;
}

int ls_state_applied_get(const char *dir, struct ls_applied *a)
{
	unsigned long long d, ud, n[8];
	char path[PATH_MAX], *buf;
	size_t len;
	int rc, got, i;

	memset(a, 0, sizeof(*a));
	snprintf(path, sizeof(path), "%s/applied", dir);
	rc = me_read_file(path, 512, &buf, &len);
	if (rc)
		return rc;
	got = sscanf(buf, "%llx %llx %llu %llu %llu %llu %llu %llu %llu %llu", &d, &ud, &n[0],
		     &n[1], &n[2], &n[3], &n[4], &n[5], &n[6], &n[7]);
	free(buf);
	if (got < 1)
		return -EINVAL;
	a->digest = d;
	a->union_digest = got >= 2 ? ud : 0;
	/* An older file has a digest alone: no counts to start a refresh
	 * from the keys, so the next one merges the union. */
	a->have_counts = got == 10;
	for (i = 0; i < 8 && a->have_counts; i++)
		a->counts.n[i >> 2][(i >> 1) & 1][i & 1] = n[i];
	return 0;
}

int ls_state_applied_set(const char *dir, const struct ls_applied *a)
{
	char path[PATH_MAX], text[256];
	const size_t(*n)[2][2] = a->counts.n;

	snprintf(path, sizeof(path), "%s/applied", dir);
	snprintf(text, sizeof(text), "%016llx %016llx %zu %zu %zu %zu %zu %zu %zu %zu\n",
		 (unsigned long long)a->digest, (unsigned long long)a->union_digest, n[0][0][0],
		 n[0][0][1], n[0][1][0], n[0][1][1],
		 n[1][0][0], n[1][0][1], n[1][1][0], n[1][1][1]);
	/* What the maps hold: a power loss empties them, and the next run
	 * finds their slots empty (maps_hold_union) and this file not
	 * trusted, whatever a crash left of it. No fsync, then, on a path
	 * that waits for it after the maps changed. */
	return me_file_replace_buf_nosync(path, 0600, text, strlen(text));
}
