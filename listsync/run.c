// SPDX-License-Identifier: GPL-2.0
/*
 * run.c - one run of mailedge-listsync.
 *
 * For every source: fetch it if it is due (its interval passed, its back-off
 * over), check the download (it parses completely, its format's completeness
 * marker is there, it is not empty unless allowed, it did not shrink past
 * max_shrink), and keep it as the new last good copy, or keep the old one.
 * Then the union of all last good copies is merged and, if it differs from what
 * the maps hold, swapped in atomically (sync_apply.c). A failed source never
 * stops the others and never removes its entries: its last good copy stays.
 *
 * Most runs need less than that. The state directory records what the maps
 * were made from (every source's copy by hash, its id, list and entry: the
 * "inputs"). The same inputs again: nothing is merged, parsed or written. Only
 * IPv4 hosts added or removed, and the maps made from the previous inputs:
 * the changes are worked out from the sources' sorted keys (incr.h) and
 * written into the IPv4 host table in place, in proportion to what changed
 * rather than to the 8 million hosts that did not. Anything else (a subnet or
 * an IPv6 entry changed, a keys file missing, the maps rebuilt by someone)
 * merges the union as described above.
 *
 * --force is about fetching only: every source is asked now, whatever its
 * interval or back-off (still conditionally: a 304 is an honest "unchanged").
 * Whether the maps are rebuilt is decided by the merged data alone, so a forced
 * run over unchanged lists costs downloads, not a rebuild and swap of every
 * map; --rebuild asks for that explicitly.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>

#include "copyhash.h"
#include "copykeys.h"
#include "copyparse.h"
#include "diff.h"
#include "edge.h"
#include "fetch.h"
#include "incr.h"
#include "lists.h"
#include "log.h"
#include "metrics.h"
#include "run.h"
#include "state.h"
#include "str.h"
#include "sync_apply.h"
#include "synctab.h"
#include "union.h"
#include "warm.h"

/* Back-off after a failed fetch: 1 min doubling to 6 h, never sooner than the
 * source's own interval. */
#define BACKOFF_MIN 60u
#define BACKOFF_MAX (6u * 3600)

struct result {
	enum me_sync_outcome outcome;
	struct prefixes data;	/* the entries in use */
	size_t added, removed;	/* against the previous copy, when fetched */
	struct ls_state st;
	char error[256];
	unsigned char id;
	int loaded;		/* data.v holds the entries (not only their count) */
	int load_failed;	/* the last good copy did not load: not in the union */
	struct ls_keys nk;	/* the keys of the copy in use (hosts: data's own array,
				 * when fetched) */
	struct ls_keys_delta delta; /* fetched: what changed since the copy before */
	int have_nk, have_delta;
	struct ls_state_write data_wr; /* the download, saved while the run goes on */
	int data_writing;	       /* data_wr started, not finished: st not saved */
	struct ls_state_write keys_wr; /* its keys file, written while the run goes on */
	struct ls_keys_file keys_file; /* its pieces */
	int keys_writing;	       /* keys_wr started, not finished */
	__u32 *keys_hold;	       /* the hosts' piece, kept from being freed */
	const char *keys_map;	       /* the keys file nk was read from, mapped */
	size_t keys_map_len;
	int old_have_data;	/* the copy before this run: there was one */
	__u64 old_hash;		/* and its hash */
};

static int is_file(const struct ls_source *s)
{
	return !strncmp(s->url, "file://", 7);
}

/* Check a fresh download; on success *ps holds its entries. */
static int validate(const struct ls_source *s, const struct ls_state *st, const char *body,
		    size_t len, struct prefixes *ps, char *why, size_t why_len)
{
	if (!is_file(s) && len && body[len - 1] != '\n') {
		snprintf(why, why_len, "does not end with a newline: the download was cut short");
		return -EINVAL;
	}
	if (ls_copy_parse(s, body, len, ps, why, why_len))
		return -EINVAL;
	if (!ps->n && !s->may_be_empty) {
		snprintf(why, why_len, "no entries (set may_be_empty if this list can be empty)");
		goto bad;
	}
	/* An empty list the source may publish is not a shrink to refuse. */
	if (ps->n && st->have_data && st->entries && s->max_shrink < 100 &&
	    ps->n * 100 < st->entries * (100 - s->max_shrink)) {
		snprintf(why, why_len, "shrank from %llu to %zu entries, more than max_shrink %u%%",
			 st->entries, ps->n, s->max_shrink);
		goto bad;
	}
	return 0;
bad:
	ls_prefixes_free(ps);
	return -EINVAL;
}

static void failed(const struct ls_source *s, struct result *r, __u64 now, const char *why)
{
	unsigned int backoff = BACKOFF_MIN << (r->st.failures < 9 ? r->st.failures : 9);

	if (backoff > BACKOFF_MAX)
		backoff = BACKOFF_MAX;
	if (backoff < s->min_interval)
		backoff = s->min_interval;
	if (is_file(s))
		backoff = 0; /* the admin's own file: try again next run */
	r->st.failures++;
	r->st.failures_total++;
	r->st.next_try = now + backoff;
	snprintf(r->st.last_error, sizeof(r->st.last_error), "%s", why);
	snprintf(r->error, sizeof(r->error), "%s", why);
	r->outcome = ME_SYNC_FAILED;
}

/* The saved copy of source s, parsed into ps; on failure why says which step
 * failed and ps is empty. */
static int load_copy(const struct ls_config *cfg, const struct ls_source *s, struct prefixes *ps,
		     char *why, size_t why_len)
{
	char pwhy[256], *buf;
	size_t len;
	int rc;

	memset(ps, 0, sizeof(*ps));
	rc = ls_state_file_read(cfg->state_dir, s->name, "data", &buf, &len);
	if (rc) {
		snprintf(why, why_len, "last good copy unreadable");
		return rc;
	}
	rc = ls_copy_parse(s, buf, len, ps, pwhy, sizeof(pwhy));
	if (rc)
		snprintf(why, why_len, "last good copy no longer parses: %.200s", pwhy);
	free(buf);
	return rc;
}

/* What changed since the previous copy: against its keys file when that is
 * the copy's, else against keys made by parsing the copy. -errno when neither
 * works (the counts are then unknown). */
static int old_delta(const struct ls_config *cfg, const struct ls_source *s,
		     const struct ls_state *st, const struct ls_keys *nk, struct ls_keys_delta *d)
{
	struct prefixes old;
	struct ls_keys ok;
	char why[256], *buf;
	const char *mbuf;
	size_t len;
	int rc;

	if (!ls_state_file_map(cfg->state_dir, s->name, "keys", &mbuf, &len)) {
		rc = ls_keys_delta(mbuf, len, st->data_hash, nk, d);
		ls_state_file_unmap(mbuf, len);
		if (rc != -EINVAL)
			return rc;
	}
	rc = load_copy(cfg, s, &old, why, sizeof(why));
	if (rc)
		return rc;
	rc = ls_keys_make(old.v, old.nv, old.h4.v, old.h4.n, &ok);
	if (!rc)
		rc = ls_keys_encode(&ok, st->data_hash, &buf, &len);
	ls_keys_free(&ok);
	ls_prefixes_free(&old);
	if (rc)
		return rc;
	rc = ls_keys_delta(buf, len, st->data_hash, nk, d);
	free(buf);
	return rc;
}

/* The copy's hash, worked out on another core while its keys are made. */
struct hash_job {
	const char *buf;
	size_t len;
	__u64 hash;
};

static void *hash_copy(void *arg)
{
	struct hash_job *j = arg;

	j->hash = ls_copy_hash(j->buf, j->len);
	return NULL;
}

/*
 * Every download still being written, in place, and then its source's state
 * (which names the copy's hash): the number that could not be saved. Such a
 * source keeps its previous copy and state; the next run fetches it again.
 */
static size_t copies_saved(const struct ls_config *cfg, struct result *res, size_t n)
{
	size_t i, bad = 0;
	int rc;

	for (i = 0; i < n; i++) {
		if (!res[i].data_writing)
			continue;
		res[i].data_writing = 0;
		rc = ls_state_file_finish(&res[i].data_wr, 1);
		if (rc) {
			log_err("source %s: cannot save the download in %s: %s", cfg->src[i].name,
				cfg->state_dir, strerror(-rc));
			bad++;
			continue;
		}
		ls_state_save(cfg->state_dir, cfg->src[i].name, &res[i].st);
		ls_state_file_drop_old(&res[i].data_wr); /* the replaced copy, beside the apply */
	}
	return bad;
}

/* Every keys file still being written, in place (a failure leaves the old
 * one, which names another copy and is then not used). */
static void keys_written(struct result *res, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!res[i].keys_writing)
			continue;
		ls_state_file_finish(&res[i].keys_wr, 1);
		ls_keys_file_free(&res[i].keys_file);
		free(res[i].keys_hold);
		res[i].keys_hold = NULL;
		res[i].keys_writing = 0;
	}
}

/* The array a keys file is being written from, if p is it: kept (freed by
 * keys_written) and taken from its owner. */
static int keys_piece(struct result *r, const void *p)
{
	if (!r->keys_writing || !p || p != r->keys_file.iov[1].iov_base)
		return 0;
	r->keys_hold = (__u32 *)(void *)p;
	return 1;
}

/* The copy's keys go, as they are no longer needed. */
static void release_keys(struct result *r)
{
	if (!r->nk.h4_borrowed && keys_piece(r, r->nk.h4))
		r->nk.h4_borrowed = 1;
	ls_keys_free(&r->nk);
	ls_state_file_unmap(r->keys_map, r->keys_map_len);
	r->keys_map = NULL;
}

/* The copy's entries go; their count stays. */
static void release_data(struct result *r)
{
	if (keys_piece(r, r->data.h4.v))
		r->data.h4.v = NULL;
	ls_prefixes_drop(&r->data);
}

/* A good download: saved as the source's copy (with its keys), counted against
 * the previous one, and what the source contributes from now on. */
static void fetched(const struct ls_config *cfg, const struct ls_opts *o,
		    const struct ls_source *s, struct result *r, const struct ls_fetch_res *res,
		    struct prefixes *fresh, __u64 now)
{
	struct ls_keys nk = { 0 };
	struct ls_keys_delta d = { 0 };
	struct hash_job hj = { res->body, res->len, 0 };
	int have_delta = 0, have_new, hashing;
	pthread_t th;
	__u64 hash;

	hashing = !pthread_create(&th, NULL, hash_copy, &hj);
	have_new = !ls_keys_make(fresh->v, fresh->nv, fresh->h4.v, fresh->h4.n, &nk);
	/* Against the previous copy's keys, read before they are replaced. */
	if (have_new)
		have_delta = !(r->st.have_data ? old_delta(cfg, s, &r->st, &nk, &d)
					       : ls_keys_delta(NULL, 0, 0, &nk, &d));
	if (hashing)
		pthread_join(th, NULL);
	else
		hash_copy(&hj);
	hash = hj.hash;
	/* Its write is finished (and the state saved) by copies_saved, just
	 * before the maps change: the keys, the union and the tables are
	 * worked out while the disk syncs it. */
	r->data_writing = !o->dry_run;
	/* Without its keys file the next fetch parses this copy: slower, not
	 * wrong, so a failure here is not the source's. */
	if (!o->dry_run && have_new && !ls_keys_file_make(&nk, hash, &r->keys_file)) {
		ls_state_file_startv(cfg->state_dir, s->name, "keys", r->keys_file.iov, 3, NULL,
				     &r->keys_wr);
		r->keys_writing = 1;
	}
	r->outcome = ME_SYNC_FETCHED;
	r->data = *fresh;
	r->loaded = 1;
	if (!r->st.have_data)
		r->added = r->data.n;
	else if (have_delta) {
		r->added = d.added;
		r->removed = d.removed;
	}
	else /* no memory to count with: the whole copy is reported as new */
		r->added = r->data.n;
	snprintf(r->st.etag, sizeof(r->st.etag), "%s", res->etag);
	snprintf(r->st.last_modified, sizeof(r->st.last_modified), "%s", res->last_modified);
	r->st.entries = r->data.n;
	r->st.data_hash = hash;
	r->st.last_ok = now;
	r->st.failures = 0;
	r->st.last_error[0] = '\0';
	r->st.next_try = now + s->min_interval;
	r->st.have_data = 1;
	/* Kept: a refresh may be worked out from them (incr.h). */
	r->delta = d;
	r->have_delta = have_delta;
	r->nk = nk;
	r->have_nk = have_new;
}

static void process(const struct ls_config *cfg, const struct ls_opts *o,
		    const struct ls_source *s, struct result *r)
{
	struct ls_fetch_req req = { 0 };
	struct ls_fetch_res res;
	struct prefixes fresh;
	__u64 now = (__u64)time(NULL);
	double t0, t1, t2;
	char why[256];

	ls_state_load(cfg->state_dir, s->name, &r->st);
	if (strcmp(r->st.url, s->url) || strcmp(r->st.format, s->format)) {
		/* Another URL or format under this name: the old copy is not its.
		 * The failure counter is the source's, whatever it fetches: a
		 * Prometheus counter must not go back. */
		unsigned long long total = r->st.failures_total;

		memset(&r->st, 0, sizeof(r->st));
		r->st.failures_total = total;
		snprintf(r->st.url, sizeof(r->st.url), "%s", s->url);
		snprintf(r->st.format, sizeof(r->st.format), "%s", s->format);
	}

	if (!o->force && !is_file(s) && r->st.last_try && now < r->st.next_try) {
		r->outcome = ME_SYNC_NOT_DUE;
	} else {
		req.url = s->url;
		req.ca_file = s->ca_file[0] ? s->ca_file : cfg->ca_file;
		req.etag = r->st.have_data ? r->st.etag : "";
		req.last_modified = r->st.have_data ? r->st.last_modified : "";
		req.connect_timeout = cfg->connect_timeout;
		req.timeout = cfg->timeout;
		req.max_size = cfg->max_size;
		r->st.last_try = now;
		r->old_have_data = r->st.have_data;
		r->old_hash = r->st.data_hash;
		t0 = me_mono_seconds();
		ls_fetch(&req, &res);
		t1 = me_mono_seconds();
		if (res.outcome == LS_FETCH_NOT_MODIFIED) {
			r->outcome = ME_SYNC_NOT_MODIFIED;
			r->st.last_ok = now;
			r->st.failures = 0;
			r->st.last_error[0] = '\0';
			r->st.next_try = now + s->min_interval;
		} else if (res.outcome == LS_FETCH_FAILED) {
			failed(s, r, now, res.err);
		} else {
			/* To the disk while it is checked; in place only if good.
			 * The writer frees the download once it is written. */
			if (!o->dry_run) {
				ls_state_file_startv(cfg->state_dir, s->name, "data",
						     &(struct iovec){ res.body, res.len }, 1,
						     res.body, &r->data_wr);
			}
			if (validate(s, &r->st, res.body, res.len, &fresh, why, sizeof(why))) {
				if (!o->dry_run)
					ls_state_file_finish(&r->data_wr, 0);
				failed(s, r, now, why);
			} else {
				t2 = me_mono_seconds();
				fetched(cfg, o, s, r, &res, &fresh, now);
				if (!o->dry_run) /* parsed and hashed: the writer's now */
					ls_state_file_release(&r->data_wr);
				log_debug("source %s: %zu bytes fetched in %.0f ms, checked and "
					  "parsed in %.0f ms, hashed and keyed in %.0f ms",
					  s->name, res.len, (t1 - t0) * 1e3, (t2 - t1) * 1e3,
					  (me_mono_seconds() - t2) * 1e3);
			}
			if (!o->dry_run) /* freed by the writer */
				res.body = NULL;
		}
		ls_fetch_res_free(&res);
		if (!o->dry_run && !r->data_writing)
			ls_state_save(cfg->state_dir, s->name, &r->st);
	}

	if (r->outcome != ME_SYNC_FETCHED) {
		r->old_have_data = r->st.have_data;
		r->old_hash = r->st.data_hash;
	}
	/* Not fetched now: the last good copy is what this source contributes,
	 * read only if the union is merged (load_copies). */
	if (r->outcome != ME_SYNC_FETCHED && r->st.have_data)
		r->data.n = r->st.entries;
}

/* The last good copies of the sources whose entries are not in memory (not
 * fetched this run, or freed since), for merging the union. Returns how many
 * could not be read (they are then FAILED). */
static size_t load_copies(const struct ls_config *cfg, struct result *res)
{
	size_t i, bad = 0;

	for (i = 0; i < cfg->nsrc; i++) {
		struct result *r = &res[i];

		if (r->loaded || !r->st.have_data)
			continue;
		r->loaded = 1;
		if (!load_copy(cfg, &cfg->src[i], &r->data, r->error, sizeof(r->error)))
			continue;
		r->load_failed = 1;
		if (r->outcome != ME_SYNC_FAILED)
			bad++;
		r->outcome = ME_SYNC_FAILED;
	}
	return bad;
}

/* Every source's entries into u, merged; each source's own array goes as it
 * is added. */
static int merge_union(const struct ls_config *cfg, struct result *res, struct me_union *u,
		       size_t *merged_away)
{
	size_t i, j;

	for (i = 0; i < cfg->nsrc; i++) {
		const struct ls_source *s = &cfg->src[i];
		struct me_entry val = s->val;

		val.src = res[i].id;
		if (me_union_reserve(u, res[i].data.n))
			return -ENOMEM;
		for (j = 0; j < res[i].data.nv; j++)
			if (me_union_add(u, s->list, &res[i].data.v[j], &val, (unsigned int)i))
				return -ENOMEM;
		for (j = 0; j < res[i].data.h4.n; j++) {
			struct me_prefix p = { .family = AF_INET, .len = 32 };
			__u32 a = htonl(res[i].data.h4.v[j]);

			memcpy(p.addr, &a, 4);
			if (me_union_add(u, s->list, &p, &val, (unsigned int)i))
				return -ENOMEM;
		}
		/* In the union now: only the count is reported from here. */
		release_data(&res[i]);
	}
	me_union_merge(u, merged_away);
	return 0;
}

/* What the maps are made from: every source's copy (by hash), id, list and
 * entry, in configuration order. With old, each source's copy from before this
 * run: the inputs of the maps a previous run applied. */
static __u64 inputs_digest(const struct ls_config *cfg, const struct result *res, int old)
{
	__u64 h = 0x6d65696e70757431ull; /* a new function: a new constant */
	size_t i;

	for (i = 0; i < cfg->nsrc; i++) {
		const struct ls_source *s = &cfg->src[i];
		const struct result *r = &res[i];
		int have = old ? r->old_have_data : r->st.have_data;
		__u64 w[4];
		int k;

		w[0] = (__u64)r->id | (__u64)s->list << 8 | (__u64)s->val.action << 16 |
		       (__u64)s->val.group << 24 | (__u64)have << 40;
		w[1] = s->val.expires;
		w[2] = have ? (old ? r->old_hash : r->st.data_hash) : 0;
		w[3] = i;
		for (k = 0; k < 4; k++) {
			h ^= w[k];
			h *= 0x9e3779b97f4a7c15ull;
			h ^= h >> 29;
		}
	}
	return h;
}

static size_t counts_total(const struct me_union_counts *c)
{
	size_t t = 0;
	int i;

	for (i = 0; i < 8; i++)
		t += c->n[i >> 2][(i >> 1) & 1][i & 1];
	return t;
}

/*
 * Work the refresh out from the sorted keys (incr.h) rather than merging the
 * union: when the maps hold what the previous copies made (a->digest), every
 * changed source changed IPv4 hosts only, and each source's keys are at hand.
 * 0 with *inc and *counts (the union's, after) filled; -EAGAIN when the union
 * must be merged.
 */
static int try_incremental(const struct ls_config *cfg, struct result *res,
			   const struct ls_applied *a, __u64 old_digest, struct ls_incr *inc,
			   struct me_union_counts *counts)
{
	struct ls_incr_src *is;
	size_t i, hosts;
	int rc = 0;

	if (!a->have_counts || a->digest != old_digest)
		return -EAGAIN;
	is = calloc(cfg->nsrc ? cfg->nsrc : 1, sizeof(*is));
	if (!is)
		return -ENOMEM;
	for (i = 0; i < cfg->nsrc && !rc; i++) {
		const struct ls_source *s = &cfg->src[i];
		struct result *r = &res[i];
		const char *buf;
		size_t len;

		is[i].list = s->list;
		is[i].val = s->val;
		is[i].val.src = r->id;
		if (r->outcome == ME_SYNC_FETCHED) {
			if (!r->have_nk || !r->have_delta)
				rc = -EAGAIN;
			is[i].keys = &r->nk;
			is[i].delta = &r->delta;
			continue;
		}
		if (!r->st.have_data)
			continue;
		/* Unchanged: its keys file, if it is this copy's. */
		if (ls_state_file_map(cfg->state_dir, s->name, "keys", &buf, &len)) {
			rc = -EAGAIN;
			continue;
		}
		if (ls_keys_decode(buf, len, r->st.data_hash, &r->nk)) {
			rc = -EAGAIN;
			ls_state_file_unmap(buf, len);
		} else { /* its hosts are read in place */
			r->have_nk = 1;
			r->keys_map = buf;
			r->keys_map_len = len;
		}
		is[i].keys = &r->nk; /* unchanged: no delta */
	}
	if (!rc)
		rc = ls_incr_resolve(is, cfg->nsrc, inc);
	free(is);
	if (rc)
		return rc;
	*counts = a->counts;
	for (i = 0; i < 2; i++) {
		long long n = (long long)counts->n[i][0][0] + inc->delta[i];

		if (n < 0) { /* the counts were not this union's */
			ls_incr_free(inc);
			return -EAGAIN;
		}
		counts->n[i][0][0] = (size_t)n;
	}
	/* Past a quarter of the hosts, one pass in table order (the union's
	 * refresh in place) is cheaper than a lookup per change. */
	hosts = counts->n[0][0][0] + counts->n[1][0][0];
	if (inc->n > 4096 && inc->n > hosts / 4) {
		ls_incr_free(inc);
		return -EAGAIN;
	}
	return 0;
}

/* The report on stdout (a row per source, the union, the totals) is
 * information, so it follows the logger's threshold: -q (warnings and errors
 * only) leaves a successful run silent for cron, while failures and stale
 * data still speak on stderr. */
static void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void report(const char *fmt, ...)
{
	va_list ap;

	if (log_get_level() < ME_LOG_INFO)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

/* The run's summary shouts a failure; the status display does not. */
static const char *outcome_name(enum me_sync_outcome o)
{
	return o == ME_SYNC_FAILED ? "FAILED" : me_sync_outcome_name((__u8)o);
}

static void age_text(__u64 secs, char *buf, size_t len)
{
	if (secs < 120)
		snprintf(buf, len, "%llus", (unsigned long long)secs);
	else if (secs < 7200)
		snprintf(buf, len, "%llum", (unsigned long long)secs / 60);
	else if (secs < 172800)
		snprintf(buf, len, "%lluh", (unsigned long long)secs / 3600);
	else
		snprintf(buf, len, "%llud", (unsigned long long)secs / 86400);
}

static void write_status(struct me_edge *e, const struct ls_config *cfg, struct result *res)
{
	unsigned char configured[ME_SRC_MAX] = { 0 };
	struct me_src_status st;
	__u32 id;
	size_t i;

	for (i = 0; i < cfg->nsrc; i++) {
		const struct ls_source *s = &cfg->src[i];
		const struct result *r = &res[i];

		memset(&st, 0, sizeof(st));
		me_strlcpy(st.name, s->name, sizeof(st.name));
		me_strlcpy(st.format, s->format, sizeof(st.format));
		me_strlcpy(st.url, s->url, sizeof(st.url));
		st.in_use = 1;
		st.list = (__u8)s->list;
		st.last_outcome = (__u8)r->outcome;
		st.failures = r->st.failures;
		st.entries = (__u32)r->data.n;
		st.stale_after = s->stale_after;
		st.last_ok = r->st.last_ok;
		st.last_try = r->st.last_try;
		/* Not fetched this run (backing off): the error that made it back
		 * off is still the news. */
		me_strlcpy(st.last_error, r->error[0] ? r->error : r->st.last_error,
			   sizeof(st.last_error));
		id = r->id;
		configured[id] = 1;
		bpf_map_update_elem(e->fd[ME_M_SOURCES], &id, &st, BPF_ANY);
	}
	memset(&st, 0, sizeof(st));
	for (id = ME_SRC_SYNC_FIRST; id < ME_SRC_MAX; id++)
		if (!configured[id])
			bpf_map_update_elem(e->fd[ME_M_SOURCES], &id, &st, BPF_ANY);
}

/* Do the maps hold a list-sync generation at all (they do not after a
 * destroy and attach, whatever the state directory says)? */
static int maps_hold_union(struct me_edge *e)
{
	struct me_config cfg;
	__u32 zero = 0;
	int fd;

	if (bpf_map_lookup_elem(e->fd[ME_M_CONFIG], &zero, &cfg))
		return 0;
	fd = me_sync_inner_fd(e, ME_M_SYNC_HOST4, cfg.sync_gen & 1);
	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

/* "built", or what a refresh in place changed. */
static const char *apply_how(const struct me_apply_stats *a, int from_keys, char *buf,
			     size_t len)
{
	if (!a->in_place)
		return "built";
	snprintf(buf, len,
		 "changed in place%s (%zu hosts added, %zu removed, %d subnet tables rebuilt)",
		 from_keys ? " from the sources' keys" : "", a->added, a->removed, a->nets_rebuilt);
	return buf;
}

static double wall_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The run's metrics (metrics_file). A source the run did not get to (it
 * stopped early: lock, maps) is reported from its saved state. */
static void write_metrics(const struct ls_config *cfg, const struct result *res, size_t nproc,
			  int status, double t0)
{
	struct ls_metric_source *ms;
	struct ls_metrics m = { 0 };
	struct ls_state st;
	size_t i;
	int rc;

	if (!cfg->metrics_file[0])
		return;
	ms = calloc(cfg->nsrc ? cfg->nsrc : 1, sizeof(*ms));
	if (!ms) {
		log_err("cannot write %s: out of memory", cfg->metrics_file);
		return;
	}
	for (i = 0; i < cfg->nsrc; i++) {
		ms[i].name = cfg->src[i].name;
		if (res && i < nproc) {
			ms[i].entries = res[i].data.n;
			ms[i].last_ok = res[i].st.last_ok;
			ms[i].failures_total = res[i].st.failures_total;
			continue;
		}
		ls_state_load(cfg->state_dir, cfg->src[i].name, &st);
		ms[i].entries = st.have_data ? st.entries : 0;
		ms[i].last_ok = st.last_ok;
		ms[i].failures_total = st.failures_total;
	}
	m.src = ms;
	m.nsrc = cfg->nsrc;
	m.now = wall_seconds();
	m.success = status == LS_EXIT_OK;
	m.duration = me_mono_seconds() - t0;
	rc = ls_metrics_write(cfg->metrics_file, &m);
	if (rc)
		log_err("cannot write metrics to %s: %s", cfg->metrics_file, strerror(-rc));
	free(ms);
}

int ls_run(const struct ls_config *cfg, const struct ls_opts *o)
{
	const char **names = NULL;
	struct result *res = NULL;
	struct me_union u;
	struct me_union_counts ucounts = { 0 };
	struct ls_applied applied = { 0 };
	struct ls_incr inc = { 0 };
	struct me_apply_stats ast;
	enum { MERGE, SKIP, INCREMENTAL } how_now = MERGE;
	char how[128];
	struct me_edge e;
	struct ls_warm warm = { .t.fd = -1 };
	unsigned char ids[ME_SRC_MAX];
	const char *what;
	char why[768];
	__u64 digest, udigest = 0, now = (__u64)time(NULL);
	double t0 = me_mono_seconds(), t_src, t_union, t_saved, t_applied;
	size_t i, merged_away = 0, nentries = 0, nfail = 0, nfetched = 0, nnm = 0, nproc = 0;
	int lock = -1, rc = 0, status = LS_EXIT_FATAL, apply = 0, have_maps = 1, have_applied = 0;

	me_edge_init(&e);
	me_union_init(&u);
	if (!cfg->nsrc) {
		log_err("no sources: configure some in %s or give --source", cfg->path);
		goto out;
	}
	/* A dry run writes nothing, so it needs no lock: every state file and
	 * the maps change by an atomic swap, and it reads one or the other. */
	if (!o->dry_run) {
		rc = ls_state_open(cfg->state_dir, &lock, cfg->lock_timeout, why, sizeof(why));
		if (rc) {
			log_err("%s", why);
			goto out;
		}
	}
	rc = me_edge_open(&e, cfg->pin_dir, &what);
	if (rc == -ENOENT && o->dry_run) {
		log_info("no mailedge maps at %s yet (%s missing): every entry would be added",
			 cfg->pin_dir, what);
		have_maps = 0;
	} else if (rc) {
		if (rc == -ENOENT)
			log_err("no mailedge maps at %s (%s missing): run 'mailedge-loader attach "
				"IFACE' or 'mailedge-loader init' first",
				cfg->pin_dir, what);
		else if (me_edge_open_why(rc, cfg->pin_dir, why, sizeof(why)))
			log_err("%s", why);
		else
			log_err("cannot open the maps at %s: %s", cfg->pin_dir, strerror(-rc));
		goto out;
	}
	/* Before the sources: fetching and parsing leave a core idle to do it. */
	if (have_maps && !o->dry_run && !o->rebuild)
		ls_warm_start(&warm, &e);
	names = calloc(cfg->nsrc, sizeof(*names));
	res = calloc(cfg->nsrc, sizeof(*res));
	if (!names || !res)
		goto out;
	for (i = 0; i < cfg->nsrc; i++)
		names[i] = cfg->src[i].name;
	if (ls_state_ids(cfg->state_dir, names, cfg->nsrc, ids, !o->dry_run)) {
		log_err("cannot write %s/ids.json", cfg->state_dir);
		goto out;
	}
	for (i = 0; i < cfg->nsrc; i++) {
		res[i].id = ids[i];
		process(cfg, o, &cfg->src[i], &res[i]);
		nproc = i + 1;
	}
	t_src = me_mono_seconds();
	now = (__u64)time(NULL); /* sources took time: ages are from now */
	digest = inputs_digest(cfg, res, 0);
	/* Not o->force: fetching again says nothing about what the maps hold.
	 * The same inputs as the maps were made from: nothing to merge. */
	if (have_maps && !o->dry_run) {
		have_applied =
		    !ls_state_applied_get(cfg->state_dir, &applied) && maps_hold_union(&e);
		if (!o->rebuild && have_applied && applied.have_counts &&
		    applied.digest == digest) {
			how_now = SKIP;
			ucounts = applied.counts;
			udigest = applied.union_digest;
		} else if (!o->rebuild && have_applied &&
			   !try_incremental(cfg, res, &applied, inputs_digest(cfg, res, 1), &inc,
					    &ucounts)) {
			how_now = inc.n ? INCREMENTAL : SKIP;
			/* No host's entry changes: the union is the one applied. */
			udigest = inc.n ? 0 : applied.union_digest;
		}
	}
	if (how_now == MERGE) {
		for (i = 0; i < cfg->nsrc; i++) { /* memory for the union */
			ls_keys_delta_free(&res[i].delta);
			release_keys(&res[i]);
		}
		load_copies(cfg, res);
		if (merge_union(cfg, res, &u, &merged_away)) {
			log_err("out of memory merging the lists");
			goto out;
		}
		me_union_counts(&u, &ucounts);
		udigest = me_union_digest(&u);
		if (have_maps)
			apply = o->rebuild || !have_applied || applied.union_digest != udigest;
	} else {
		apply = how_now == INCREMENTAL;
	}
	for (i = 0; i < cfg->nsrc; i++) {
		/* Not needed once merged or worked out from the keys. Should the
		 * tables have no room for the keys' refresh, the union is merged
		 * after all: from the saved copies, the fetched ones included. */
		release_data(&res[i]);
		res[i].loaded = 0;
		ls_keys_delta_free(&res[i].delta);
		release_keys(&res[i]);
		nentries += res[i].data.n;
		nfail += res[i].outcome == ME_SYNC_FAILED;
		nfetched += res[i].outcome == ME_SYNC_FETCHED;
		nnm += res[i].outcome == ME_SYNC_NOT_MODIFIED;
		/* A copy that did not load is not in the maps, whatever its hash. */
		if (res[i].load_failed)
			digest = 0;
	}
	if (how_now != MERGE)
		merged_away = nentries - counts_total(&ucounts);
	if (!apply)
		ls_warm_free(&warm); /* nothing will be written: no need to go on */
	t_union = me_mono_seconds();

	/* The summary, one line per source. */
	report("%-24s %-13s %10s  %s\n", "SOURCE", "RESULT", "ENTRIES", "DETAIL");
	for (i = 0; i < cfg->nsrc; i++) {
		const struct ls_source *s = &cfg->src[i];
		const struct result *r = &res[i];
		char age[32], detail[400];

		if (r->st.last_ok)
			age_text(now > r->st.last_ok ? now - r->st.last_ok : 0, age, sizeof(age));
		else
			snprintf(age, sizeof(age), "never fetched");
		if (r->outcome == ME_SYNC_FETCHED)
			snprintf(detail, sizeof(detail), "+%zu -%zu%s", r->added, r->removed,
				 r->data.fixed ? " (host bits cleared on some)" : "");
		else if (r->outcome == ME_SYNC_FAILED && r->st.have_data)
			snprintf(detail, sizeof(detail), "%s; keeping the copy from %s ago",
				 r->error, age);
		else if (r->outcome == ME_SYNC_FAILED)
			snprintf(detail, sizeof(detail), "%s; no good copy yet", r->error);
		else if (r->outcome == ME_SYNC_NOT_DUE && !r->st.last_ok)
			snprintf(detail, sizeof(detail), "no good copy yet (%s), next fetch in %llus",
				 r->st.last_error,
				 (unsigned long long)(r->st.next_try > now ? r->st.next_try - now : 0));
		else if (r->outcome == ME_SYNC_NOT_DUE)
			snprintf(detail, sizeof(detail), "data %s old, next fetch in %llus", age,
				 (unsigned long long)(r->st.next_try > now ? r->st.next_try - now : 0));
		else
			snprintf(detail, sizeof(detail), "data %s old", age);
		report("%-24s %-13s %10zu  %s\n", s->name, outcome_name(r->outcome), r->data.n,
		       detail);
		if (r->outcome == ME_SYNC_FAILED)
			log_err("source %s: %s", s->name, r->error);
		if (r->st.have_data && now > r->st.last_ok &&
		    me_sync_stale(now, r->st.last_ok, s->stale_after))
			log_warn("source %s: data in use is %s old (stale_after %us)", s->name, age,
				 s->stale_after);
	}

	if (o->dry_run) {
		struct ls_diff_counts dc;

		rc = ls_diff_print(have_maps ? &e : NULL, &u, names, ids, cfg->nsrc, stdout, &dc);
		if (rc) {
			log_err("cannot read the list-sync maps at %s: %s", cfg->pin_dir,
				strerror(-rc));
			goto out;
		}
		report("union: %zu entries (%zu merged away); dry run, maps untouched\n", u.n,
		       merged_away);
		status = nfail ? LS_EXIT_SOURCE_FAIL : LS_EXIT_OK;
		goto out;
	}
	/* The copies this run fetched are saved, with the states that name
	 * them, before the maps change: a run killed after that finds them. */
	if (copies_saved(cfg, res, nproc)) {
		log_err("maps unchanged: a download could not be saved");
		status = LS_EXIT_SOURCE_FAIL;
		goto out;
	}
	t_saved = me_mono_seconds();
	rc = me_edge_lock(&e, (int)cfg->lock_timeout * 1000);
	if (rc) {
		log_err("cannot lock %s: %s", cfg->pin_dir,
			rc == -EBUSY ? "held by another mailedge program" : strerror(-rc));
		goto out;
	}
	if (how_now == INCREMENTAL) {
		rc = me_sync_apply_hosts4(&e, inc.chg, inc.n, &ucounts, &warm, &ast, why,
					  sizeof(why));
		if (rc == -EAGAIN) {
			/* The tables have no room for it in place: merge and build. */
			log_info("list sync: merging the union: %s", why);
			how_now = MERGE;
			nfail += load_copies(cfg, res);
			if (merge_union(cfg, res, &u, &merged_away)) {
				log_err("out of memory merging the lists");
				goto out;
			}
			udigest = me_union_digest(&u);
		}
	}
	if (apply && how_now == MERGE)
		rc = me_sync_apply_mode(&e, &u, o->rebuild, &warm, &ast, why, sizeof(why));
	if (apply) {
		struct ls_applied na = { .digest = digest, .union_digest = udigest,
					 .counts = ast.counts, .have_counts = 1 };

		if (rc) {
			log_err("maps unchanged: %s", why);
			write_status(&e, cfg, res);
			goto out;
		}
		ls_state_applied_set(cfg->state_dir, &na);
		if (ast.in_place && ast.warm)
			log_debug("list sync: IPv4 hosts written through the mapping made at the "
				  "start, %zu of its %zu pages written ahead",
				  atomic_load(&warm.pages),
				  warm.t.size / (size_t)sysconf(_SC_PAGESIZE));
		else if (ast.in_place)
			log_debug("list sync: IPv4 hosts written through a new mapping (none made "
				  "at the start, or its table no longer in use)");
		report("union: %zu black (%zu hosts, %zu subnets), %zu white (%zu hosts, %zu subnets), "
		       "%zu merged away; applied as generation %u: %s in %.2fs, swapped in %.1f ms\n",
		       ast.counts.n[1][0][0] + ast.counts.n[1][0][1] + ast.counts.n[1][1][0] +
			       ast.counts.n[1][1][1],
		       ast.counts.n[1][0][0] + ast.counts.n[1][1][0],
		       ast.counts.n[1][0][1] + ast.counts.n[1][1][1],
		       ast.counts.n[0][0][0] + ast.counts.n[0][0][1] + ast.counts.n[0][1][0] +
			       ast.counts.n[0][1][1],
		       ast.counts.n[0][0][0] + ast.counts.n[0][1][0],
		       ast.counts.n[0][0][1] + ast.counts.n[0][1][1], merged_away, ast.gen,
		       apply_how(&ast, how_now == INCREMENTAL, how, sizeof(how)), ast.build_s,
		       ast.swap_s * 1000);
	} else {
		/* After --force an admin may expect a rebuild: say there was none,
		 * and how to get one. */
		struct ls_applied na = { .digest = digest, .union_digest = udigest,
					 .counts = ucounts, .have_counts = 1 };

		/* The same union from other inputs (a copy reordered, say): the
		 * maps hold it; the inputs are recorded as theirs. */
		if (have_maps && digest != applied.digest)
			ls_state_applied_set(cfg->state_dir, &na);
		report("union: %zu entries, unchanged; maps left as they are%s\n",
		       counts_total(&ucounts),
		       o->force ? " (rebuild skipped: --rebuild forces one)" : "");
	}
	t_applied = me_mono_seconds();
	/* Where the time went (Postfix's delays=a/b/c/d, for a list sync). */
	log_debug("list sync: %.0f ms: sources %.0f (fetch, check, parse, keys), union %.0f, "
		  "copies saved %.0f, lock and apply %.0f",
		  (t_applied - t0) * 1e3, (t_src - t0) * 1e3, (t_union - t_src) * 1e3,
		  (t_saved - t_union) * 1e3, (t_applied - t_saved) * 1e3);
	write_status(&e, cfg, res);
	report("%zu sources: %zu fetched, %zu not modified, %zu failed, in %.2fs\n", cfg->nsrc,
	       nfetched, nnm, nfail, me_mono_seconds() - t0);
	status = nfail ? LS_EXIT_SOURCE_FAIL : LS_EXIT_OK;
out:
	/* A dry run changes nothing, and its metrics would claim a run that
	 * did not happen. */
	if (res && copies_saved(cfg, res, nproc) && status == LS_EXIT_OK)
		status = LS_EXIT_SOURCE_FAIL;
	if (res)
		keys_written(res, nproc);
	if (!o->dry_run)
		write_metrics(cfg, res, nproc, status, t0);
	if (res)
		for (i = 0; i < cfg->nsrc; i++) {
			ls_state_file_reap(&res[i].data_wr);
			ls_state_file_reap(&res[i].keys_wr);
			release_data(&res[i]);
			ls_keys_delta_free(&res[i].delta);
			release_keys(&res[i]);
		}
	free(res);
	free(names);
	me_union_free(&u);
	ls_incr_free(&inc);
	ls_warm_free(&warm);
	me_edge_close(&e);
	ls_state_close(lock);
	return status;
}
