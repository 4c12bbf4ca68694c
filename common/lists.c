// SPDX-License-Identifier: GPL-2.0
/*
 * lists.c - list entries and all-or-nothing edits of the manual maps.
 *
 * An admin's command either changes every entry it names or none: apply()
 * remembers what each key held before and puts it back if a later write fails
 * (a full map, most often). Hosts go to hash maps, real prefixes to LPM tries;
 * a /32 or /128 is a host wherever it comes from.
 *
 * Every change also keeps admin_used right (mailedge_abi.h): a map's slot is
 * set before an entry goes in and cleared after deletions only when the map is
 * seen empty, so the program never skips a map that holds an entry.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <bpf/bpf.h>

#include "grow.h"
#include "lists.h"
#include "synctab.h"

int me_prefix_key(const struct me_prefix *p, void *key)
{
	if (me_prefix_is_host(p)) {
		memcpy(key, p->addr, p->family == AF_INET ? 4 : 16);
		return 0;
	}
	if (p->family == AF_INET) {
		struct me_lpm4 k = { .prefixlen = p->len };

		memcpy(&k.addr, p->addr, 4);
		memcpy(key, &k, sizeof(k));
	} else {
		struct me_lpm6 k = { .prefixlen = p->len };

		memcpy(k.w, p->addr, 16);
		memcpy(key, &k, sizeof(k));
	}
	return 1;
}

size_t me_prefix_value(const struct me_prefix *p, const struct me_entry *val, void *out)
{
	struct me_net_entry ne;

	if (me_prefix_is_host(p)) {
		memcpy(out, val, sizeof(*val));
		return sizeof(*val);
	}
	ne.e = *val;
	ne.prefixlen = p->len;
	memcpy(out, &ne, sizeof(ne));
	return sizeof(ne);
}

void me_key_prefix(int family, int is_net, const void *key, struct me_prefix *out)
{
	memset(out, 0, sizeof(*out));
	out->family = family;
	if (!is_net) {
		memcpy(out->addr, key, family == AF_INET ? 4 : 16);
		out->len = me_prefix_maxlen(family);
		return;
	}
	memcpy(&out->len, key, sizeof(__u32));
	memcpy(out->addr, (const char *)key + 4, family == AF_INET ? 4 : 16);
}

int me_action_parse(const char *s, struct me_entry *val)
{
	char *end;
	unsigned long g;

	if (!strcmp(s, "drop"))
		val->action = ME_ACT_DROP;
	else if (!strcmp(s, "reset"))
		val->action = ME_ACT_RESET;
	else if (!strcmp(s, "pass"))
		val->action = ME_ACT_PASS;
	else if (!strncmp(s, "group:", 6)) {
		errno = 0;
		g = strtoul(s + 6, &end, 10);
		if (!s[6] || *end || errno || g > 65535 || s[6] == '-' || s[6] == '+')
			return -EINVAL;
		val->action = ME_ACT_GROUP;
		val->group = (__u16)g;
		return 0;
	} else {
		return -EINVAL;
	}
	val->group = 0;
	return 0;
}

void me_action_format(const struct me_entry *val, char *buf, size_t len)
{
	static const char *const names[] = { "drop", "reset", "pass", "group" };

	if (val->action == ME_ACT_GROUP)
		snprintf(buf, len, "group:%u", val->group);
	else if (val->action < ME_ACT_MAX)
		snprintf(buf, len, "%s", names[val->action]);
	else
		snprintf(buf, len, "action#%u", val->action);
}

const char *me_list_name(int list)
{
	return list == ME_LIST_WHITE ? "white" : "black";
}

void me_src_format(__u8 src, char *buf, size_t len)
{
	switch (src) {
	case ME_SRC_MANUAL:
		snprintf(buf, len, "manual");
		break;
	case ME_SRC_THRESHOLD:
		snprintf(buf, len, "threshold");
		break;
	case ME_SRC_PROXY:
		snprintf(buf, len, "proxy");
		break;
	default:
		snprintf(buf, len, "sync#%u", src);
	}
}

void me_src_name(const struct me_edge *e, __u8 src, char *buf, size_t len)
{
	struct me_src_status st;
	__u32 key = src;

	if (src >= ME_SRC_SYNC_FIRST && e->fd[ME_M_SOURCES] >= 0 &&
	    !bpf_map_lookup_elem(e->fd[ME_M_SOURCES], &key, &st) && st.in_use && st.name[0]) {
		snprintf(buf, len, "%.*s", (int)sizeof(st.name), st.name);
		return;
	}
	me_src_format(src, buf, len);
}

const char *me_sync_outcome_name(__u8 outcome)
{
	static const char *const names[] = { "-", "fetched", "not modified", "not due", "failed" };

	return outcome < sizeof(names) / sizeof(names[0]) ? names[outcome] : "?";
}

int me_rec_check(const struct me_rec *r, char *why, size_t why_len)
{
	if (r->pfx.len == 0) {
		snprintf(why, why_len, "a /0 prefix would match every address; refused");
		return -EINVAL;
	}
	if (r->val.action >= ME_ACT_MAX) {
		snprintf(why, why_len, "unknown action %u", r->val.action);
		return -EINVAL;
	}
	if (r->list == ME_LIST_WHITE &&
	    (r->val.action == ME_ACT_DROP || r->val.action == ME_ACT_RESET)) {
		snprintf(why, why_len,
			 "a whitelist entry can only pass or map to a group, not drop or reset");
		return -EINVAL;
	}
	return 0;
}

__u32 me_boot_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (__u32)ts.tv_sec;
}

double me_mono_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__u32 me_expiry_after(__u32 secs)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (__u32)ts.tv_sec + (ts.tv_nsec ? 1 : 0) + secs;
}

int me_entry_expired(const struct me_entry *v, __u32 now)
{
	return v->expires && v->expires <= now;
}

static enum me_map_id rec_map_id(const struct me_rec *r, void *key)
{
	return me_manual_map(r->list, r->pfx.family, me_prefix_key(&r->pfx, key));
}

static int rec_map(const struct me_edge *e, const struct me_rec *r, void *key)
{
	return e->fd[rec_map_id(r, key)];
}

static int set_used(struct me_edge *e, enum me_map_id id, __u32 used)
{
	int slot = me_admin_slot(id);
	__u32 key = (__u32)slot;

	if (slot < 0)
		return -EINVAL;
	return bpf_map_update_elem(e->fd[ME_M_ADMIN_USED], &key, &used, BPF_ANY) ? -errno : 0;
}

int me_manual_mark(struct me_edge *e, enum me_map_id id)
{
	return set_used(e, id, 1);
}

int me_manual_used(const struct me_edge *e, enum me_map_id id)
{
	int slot = me_admin_slot(id);
	__u32 key = (__u32)slot, used = 0;

	if (slot < 0)
		return -EINVAL;
	if (bpf_map_lookup_elem(e->fd[ME_M_ADMIN_USED], &key, &used))
		return -errno;
	return used != 0;
}

/* 1 if the map holds no entry (expired ones count as entries), 0 if it holds
 * one, or -errno. */
static int map_empty(int fd)
{
	unsigned char key[ME_KEY_MAX];

	if (!bpf_map_get_next_key(fd, NULL, key))
		return 0;
	return errno == ENOENT ? 1 : -errno;
}

int me_manual_settle(struct me_edge *e, enum me_map_id id)
{
	int fd, rc;

	if (me_admin_slot(id) < 0)
		return -EINVAL;
	fd = e->fd[id];
	rc = map_empty(fd);
	if (rc < 0)
		return rc;
	if (!rc) /* holds entries: the slot must say so, whoever wrote them */
		return set_used(e, id, 1);
	rc = set_used(e, id, 0);
	if (rc)
		return rc;
	/* A writer may have marked the slot and put an entry in between the
	 * look and the clear: look again, after the clear, and undo it. A writer
	 * marks once more after its writes, so one that comes later still wins. */
	rc = map_empty(fd);
	if (rc < 0) {
		set_used(e, id, 1);
		return rc;
	}
	return rc ? 0 : set_used(e, id, 1);
}

/* The manual maps touched by a change, as a bit per admin_used slot. */
static int settle_touched(struct me_edge *e, unsigned int touched)
{
	int slot, rc = 0, r;

	for (slot = 0; slot < ME_ADMIN_SLOTS; slot++)
		if (touched & 1u << slot) {
			r = me_manual_settle(e, (enum me_map_id)(ME_M_WHITE_HOST4 + slot));
			if (r && !rc)
				rc = r;
		}
	return rc;
}

static int mark_touched(struct me_edge *e, unsigned int touched)
{
	int slot, rc;

	for (slot = 0; slot < ME_ADMIN_SLOTS; slot++)
		if (touched & 1u << slot) {
			rc = me_manual_mark(e, (enum me_map_id)(ME_M_WHITE_HOST4 + slot));
			if (rc)
				return rc;
		}
	return 0;
}

/* Is exactly this prefix in the map (and what does it hold)? A lookup in an LPM
 * trie is a longest-prefix match: for a /25 it also finds a /24 that covers
 * it, so the prefix length stored in the value must agree. */
static int exact_lookup(int fd, const struct me_rec *r, const void *key, void *val)
{
	struct me_net_entry ne;

	if (bpf_map_lookup_elem(fd, key, val))
		return 0;
	if (me_prefix_is_host(&r->pfx))
		return 1;
	memcpy(&ne, val, sizeof(ne));
	return ne.prefixlen == r->pfx.len;
}

struct undo {
	int existed;
	unsigned char old[ME_VALUE_MAX];
};

static void rollback(struct me_edge *e, const struct me_rec *recs, const struct undo *u, size_t n)
{
	unsigned char key[ME_KEY_MAX];

	while (n--) {
		int fd = rec_map(e, &recs[n], key);

		if (u[n].existed)
			bpf_map_update_elem(fd, key, u[n].old, BPF_ANY);
		else
			bpf_map_delete_elem(fd, key);
	}
}

int me_manual_apply(struct me_edge *e, const struct me_rec *recs, size_t n,
		    enum me_map_id *full)
{
	unsigned char key[ME_KEY_MAX];
	unsigned int touched = 0; /* admin_used slots marked by this call */
	struct undo *u;
	size_t i;
	int rc = 0;

	u = calloc(n ? n : 1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		enum me_map_id id = rec_map_id(&recs[i], key);
		unsigned int bit = 1u << me_admin_slot(id);
		unsigned char val[ME_VALUE_MAX];
		int fd = e->fd[id];

		/* Marked before the entry goes in, so that packets see it as soon
		 * as it is there. */
		if (!(touched & bit)) {
			rc = me_manual_mark(e, id);
			if (rc) {
				rollback(e, recs, u, i);
				break;
			}
			touched |= bit;
		}
		me_prefix_value(&recs[i].pfx, &recs[i].val, val);
		u[i].existed = exact_lookup(fd, &recs[i], key, u[i].old);
		if (bpf_map_update_elem(fd, key, val, BPF_ANY)) {
			rc = -errno;
			/* A hash says E2BIG when full, an LPM trie ENOSPC. */
			if (rc == -E2BIG || rc == -ENOSPC) {
				*full = id;
				rc = -ENOSPC;
			}
			rollback(e, recs, u, i);
			break;
		}
	}
	free(u);
	/* After a rollback, the maps it emptied again need not be looked up;
	 * after success, marked again: a settle that found a map empty just
	 * before an entry went in cleared the slot, and this puts it back. */
	if (rc)
		settle_touched(e, touched);
	else
		rc = mark_touched(e, touched);
	return rc;
}

int me_manual_delete(struct me_edge *e, const struct me_rec *recs, size_t n, size_t *missing)
{
	unsigned char key[ME_KEY_MAX], old[ME_VALUE_MAX];
	unsigned int touched = 0;
	struct undo *u;
	size_t i;
	int rc = 0, settled;

	/* Check first, so that nothing is deleted if one is missing. */
	for (i = 0; i < n; i++) {
		int fd = rec_map(e, &recs[i], key);

		if (!exact_lookup(fd, &recs[i], key, old)) {
			*missing = i;
			return -ENOENT;
		}
	}
	u = calloc(n ? n : 1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		enum me_map_id id = rec_map_id(&recs[i], key);
		int fd = e->fd[id];

		touched |= 1u << me_admin_slot(id);
		u[i].existed = exact_lookup(fd, &recs[i], key, u[i].old);
		if (bpf_map_delete_elem(fd, key) && errno != ENOENT) {
			rc = -errno;
			rollback(e, recs, u, i);
			break;
		}
	}
	free(u);
	settled = settle_touched(e, touched);
	return rc ? rc : settled;
}

/* Walking. Hash maps are read in batches (one syscall per few thousand
 * entries, which matters at 8M); maps without batch support (LPM tries, the
 * outer arrays) fall back to get_next_key. */
#define WALK_BATCH 4096

static int walk_next_key(int fd, __u32 key_size, __u32 value_size, me_walk_cb cb, void *ctx)
{
	unsigned char key[64], next[64];
	unsigned char *val;
	void *prev = NULL;
	int rc = 0;

	if (key_size > sizeof(key))
		return -EINVAL;
	val = malloc(value_size);
	if (!val)
		return -ENOMEM;
	for (;;) {
		if (bpf_map_get_next_key(fd, prev, next)) {
			if (errno != ENOENT)
				rc = -errno;
			break;
		}
		memcpy(key, next, key_size);
		prev = key;
		if (bpf_map_lookup_elem(fd, key, val))
			continue; /* deleted meanwhile */
		rc = cb(ctx, key, val);
		if (rc) {
			rc = rc < 0 ? rc : 0;
			break;
		}
	}
	free(val);
	return rc;
}

static int walk_batch(int fd, __u32 key_size, __u32 value_size, me_walk_cb cb, void *ctx)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 batch_size = WALK_BATCH;
	unsigned char *keys, *vals;
	__u64 in_batch, out_batch;
	void *in = NULL;
	__u32 count, i;
	int rc = 0, done = 0;

	keys = malloc((size_t)key_size * batch_size);
	vals = malloc((size_t)value_size * batch_size);
	if (!keys || !vals) {
		rc = -ENOMEM;
		goto out;
	}
	while (!done) {
		count = batch_size;
		if (bpf_map_lookup_batch(fd, in, &out_batch, keys, vals, &count, &opts)) {
			if (errno == ENOENT) {
				done = 1; /* last batch; count holds what it returned */
			} else if (errno == ENOSPC && !count) {
				/* A bucket holds more than a batch: rare; walk singly. */
				rc = walk_next_key(fd, key_size, value_size, cb, ctx);
				goto out;
			} else {
				rc = -errno;
				goto out;
			}
		}
		for (i = 0; i < count; i++) {
			rc = cb(ctx, keys + (size_t)i * key_size, vals + (size_t)i * value_size);
			if (rc) {
				rc = rc < 0 ? rc : 0;
				goto out;
			}
		}
		in_batch = out_batch;
		in = &in_batch;
	}
out:
	free(keys);
	free(vals);
	return rc;
}

int me_map_walk(int fd, me_walk_cb cb, void *ctx)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.type == BPF_MAP_TYPE_HASH || info.type == BPF_MAP_TYPE_LRU_HASH)
		return walk_batch(fd, info.key_size, info.value_size, cb, ctx);
	return walk_next_key(fd, info.key_size, info.value_size, cb, ctx);
}

static int count_cb(void *ctx, const void *key, const void *val)
{
	(void)key;
	(void)val;
	(*(__u64 *)ctx)++;
	return 0;
}

int me_map_count(int fd, __u64 *n)
{
	*n = 0;
	return me_map_walk(fd, count_cb, n);
}

/* Collect keys to delete (deleting while walking a hash skips entries). */
struct keyvec {
	unsigned char *keys;
	size_t n, cap, key_size;
	__u32 now;     /* purge: expiry reference */
	int purge;     /* only expired entries */
};

static int keyvec_cb(void *ctx, const void *key, const void *val)
{
	struct keyvec *kv = ctx;
	unsigned char *grown;

	if (kv->purge && !me_entry_expired(val, kv->now))
		return 0;
	grown = me_grow(kv->keys, kv->n, &kv->cap, kv->key_size, 1024);
	if (!grown)
		return -ENOMEM;
	kv->keys = grown;
	memcpy(kv->keys + kv->n * kv->key_size, key, kv->key_size);
	kv->n++;
	return 0;
}

static int delete_matching(int fd, int purge, __u64 *removed)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	struct keyvec kv = { 0 };
	size_t i;
	int rc;

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	kv.key_size = info.key_size;
	kv.purge = purge;
	kv.now = me_boot_seconds();
	rc = me_map_walk(fd, keyvec_cb, &kv);
	for (i = 0; !rc && i < kv.n; i++)
		if (!bpf_map_delete_elem(fd, kv.keys + i * kv.key_size))
			(*removed)++;
	free(kv.keys);
	return rc;
}

int me_manual_flush(struct me_edge *e, int list, __u64 *removed)
{
	int fam, net, rc;

	*removed = 0;
	for (fam = 0; fam < 2; fam++)
		for (net = 0; net < 2; net++) {
			enum me_map_id id = me_manual_map(list, fam ? AF_INET6 : AF_INET, net);

			rc = delete_matching(e->fd[id], 0, removed);
			if (!rc)
				rc = me_manual_settle(e, id);
			if (rc)
				return rc;
		}
	return 0;
}

int me_manual_purge(struct me_edge *e, __u64 *removed)
{
	int list, fam, net, rc;

	*removed = 0;
	for (list = 0; list < 2; list++)
		for (fam = 0; fam < 2; fam++)
			for (net = 0; net < 2; net++) {
				enum me_map_id id =
					me_manual_map(list, fam ? AF_INET6 : AF_INET, net);

				rc = delete_matching(e->fd[id], 1, removed);
				if (!rc)
					rc = me_manual_settle(e, id);
				if (rc)
					return rc;
			}
	return 0;
}

struct list_walk {
	me_rec_cb cb;
	void *ctx;
	int list, family, is_net, synced;
};

static int list_walk_cb(void *ctx, const void *key, const void *val)
{
	struct list_walk *w = ctx;
	struct me_rec r;

	r.list = w->list;
	me_key_prefix(w->family, w->is_net, key, &r.pfx);
	memcpy(&r.val, val, sizeof(r.val));
	return w->cb(w->ctx, &r, w->synced);
}

/* A list-sync table holds both lists: pass on the entries of the one asked for. */
static int tab_walk_cb(void *ctx, int list, const struct me_prefix *p, const struct me_entry *e)
{
	struct list_walk *w = ctx;
	struct me_rec r;

	if (list != w->list)
		return 0;
	r.list = list;
	r.pfx = *p;
	r.val = *e;
	return w->cb(w->ctx, &r, 1);
}

int me_list_walk(struct me_edge *e, int list, int synced, me_rec_cb cb, void *ctx)
{
	struct list_walk w = { .cb = cb, .ctx = ctx, .list = list };
	int fam, net, rc;

	for (fam = 0; fam < 2; fam++)
		for (net = 0; net < 2; net++) {
			w.family = fam ? AF_INET6 : AF_INET;
			w.is_net = net;
			w.synced = 0;
			rc = me_map_walk(e->fd[me_manual_map(list, w.family, net)], list_walk_cb, &w);
			if (rc)
				return rc;
		}
	if (!synced)
		return 0;
	for (fam = 0; fam < 2; fam++)
		for (net = 0; net < 2; net++) {
			struct me_tabmap t;
			__u32 gen;

			rc = me_synctab_open(e, fam ? AF_INET6 : AF_INET, net, &t, &gen);
			if (rc == -ENOENT)
				continue;
			if (rc)
				return rc;
			w.synced = 1;
			rc = me_tab_walk(&t, gen, tab_walk_cb, &w);
			me_synctab_close(&t);
			if (rc)
				return rc;
		}
	return 0;
}
