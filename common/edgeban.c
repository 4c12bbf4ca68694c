// SPDX-License-Identifier: GPL-2.0
/*
 * edgeban.c - the proxy's temporary bans at the edge (see edgeban.h).
 *
 * Writes go through me_manual_apply() and me_manual_delete(), the functions
 * "list add" and "list del" use, so a full map, the key layout of host and
 * subnet maps and the rollback behave exactly as for the admin's own edits.
 * What is added here is only the rule of who may overwrite what.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <netinet/in.h>
#include <bpf/bpf.h>

#include "edgeban.h"
#include "lists.h"

/* Serialises this process's ban writers; see edgeban.h. */
static pthread_mutex_t ban_mutex = PTHREAD_MUTEX_INITIALIZER;

void me_edgeban_fold(const struct me_prefix *addr, struct me_prefix *out)
{
	*out = *addr;
	out->host_bits_fixed = 0;
	out->len = addr->family == AF_INET ? ME_EDGEBAN_V4_LEN : ME_EDGEBAN_V6_LEN;
	me_prefix_mask(out);
}

int me_edgeban_client(const struct sockaddr *sa, struct me_prefix *out)
{
	struct me_prefix p = { 0 };

	if (sa->sa_family == AF_INET) {
		p.family = AF_INET;
		memcpy(p.addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		p.family = AF_INET6;
		memcpy(p.addr, a6, 16);
		/* A dual-stack socket shows an IPv4 client as ::ffff:a.b.c.d; the
		 * XDP program sees it as the IPv4 packet it is. */
		if (IN6_IS_ADDR_V4MAPPED(a6)) {
			p.family = AF_INET;
			memmove(p.addr, p.addr + 12, 4);
			memset(p.addr + 4, 0, 12);
		}
	} else {
		return -EAFNOSUPPORT;
	}
	p.len = me_prefix_maxlen(p.family);
	me_edgeban_fold(&p, out);
	return 0;
}

int me_edgeban_live(const struct me_entry *v, __u32 now)
{
	return v->src == ME_SRC_PROXY && !me_entry_expired(v, now);
}

/* The admin's blacklist entry under exactly p: 1 with *v filled, 0 if none.
 * An LPM lookup is a longest-prefix match, so a subnet hit must carry p's own
 * length to be p's entry rather than a shorter prefix covering it. */
static int entry_at(struct me_edge *e, const struct me_prefix *p, struct me_entry *v)
{
	unsigned char key[ME_KEY_MAX], val[ME_VALUE_MAX];
	int is_net = me_prefix_key(p, key);
	int fd = e->fd[me_manual_map(ME_LIST_BLACK, p->family, is_net)];
	struct me_net_entry ne;

	if (bpf_map_lookup_elem(fd, key, val))
		return 0;
	if (is_net) {
		memcpy(&ne, val, sizeof(ne));
		if (ne.prefixlen != p->len)
			return 0;
		*v = ne.e;
	} else {
		memcpy(v, val, sizeof(*v));
	}
	return 1;
}

/* Take the locks (the mutex, then the pin directory unless the caller holds
 * it already); *took says whether the directory lock is ours to release. */
static int lock(struct me_edge *e, int lock_ms, int *took)
{
	int rc;

	pthread_mutex_lock(&ban_mutex);
	*took = !e->locked;
	if (!*took)
		return 0;
	rc = me_edge_lock(e, lock_ms);
	if (rc) {
		*took = 0;
		pthread_mutex_unlock(&ban_mutex);
	}
	return rc;
}

static void unlock(struct me_edge *e, int took)
{
	if (took)
		me_edge_unlock(e);
	pthread_mutex_unlock(&ban_mutex);
}

int me_edgeban_add(struct me_edge *e, const struct me_prefix *addr, __u32 secs, int lock_ms,
		   __u32 *until, struct me_prefix *pfx)
{
	struct me_rec r = { .list = ME_LIST_BLACK };
	enum me_map_id full;
	struct me_entry old;
	int took, rc, have;

	if (!secs || secs > ME_EDGEBAN_MAX_SECS ||
	    (addr->family != AF_INET && addr->family != AF_INET6))
		return -EINVAL;
	me_edgeban_fold(addr, &r.pfx);
	if (pfx)
		*pfx = r.pfx;
	r.val.action = ME_ACT_DROP;
	r.val.src = ME_SRC_PROXY;
	rc = lock(e, lock_ms, &took);
	if (rc)
		return rc;
	/* The expiry is taken under the lock: waiting for it must not shorten
	 * the ban. */
	r.val.expires = me_expiry_after(secs);
	have = entry_at(e, &r.pfx, &old);
	if (have && old.src != ME_SRC_PROXY) {
		rc = -EEXIST;
		goto out;
	}
	if (have && me_edgeban_live(&old, me_boot_seconds()) &&
	    (!old.expires || old.expires >= r.val.expires)) {
		r.val.expires = old.expires;
		rc = ME_EDGEBAN_KEPT;
		goto out;
	}
	rc = me_manual_apply(e, &r, 1, &full);
	if (!rc)
		rc = have && me_edgeban_live(&old, me_boot_seconds()) ? ME_EDGEBAN_EXTENDED
								      : ME_EDGEBAN_NEW;
out:
	unlock(e, took);
	if (rc >= 0 && until)
		*until = r.val.expires;
	return rc;
}

/* Delete p's entry if it is the proxy's; 1 if it was a live ban. */
static int lift_one(struct me_edge *e, const struct me_prefix *p, __u32 now)
{
	struct me_rec r = { .list = ME_LIST_BLACK, .pfx = *p };
	size_t missing;
	int rc;

	if (!entry_at(e, p, &r.val) || r.val.src != ME_SRC_PROXY)
		return 0;
	rc = me_manual_delete(e, &r, 1, &missing);
	if (rc == -ENOENT) /* the kernel deleted an expired subnet meanwhile */
		return 0;
	if (rc)
		return rc;
	return !me_entry_expired(&r.val, now);
}

int me_edgeban_lift(struct me_edge *e, const struct me_prefix *addr, int lock_ms,
		    struct me_prefix *pfx)
{
	struct me_prefix fold, host;
	int took, rc, n = 0;
	__u32 now;

	if (addr->family != AF_INET && addr->family != AF_INET6)
		return -EINVAL;
	me_edgeban_fold(addr, &fold);
	if (pfx)
		*pfx = fold;
	rc = lock(e, lock_ms, &took);
	if (rc)
		return rc;
	now = me_boot_seconds();
	rc = lift_one(e, &fold, now);
	if (rc < 0)
		goto out;
	n += rc;
	/* An IPv6 host entry of the proxy's source (written by hand with
	 * source=proxy, or by an older proxy) is lifted by its address too. */
	if (addr->family == AF_INET6) {
		host = *addr;
		host.len = 128;
		rc = lift_one(e, &host, now);
		if (rc < 0)
			goto out;
		n += rc;
	}
	rc = n;
out:
	unlock(e, took);
	return rc;
}

struct count_ctx {
	__u32 now;
	__u64 live;
	__u32 soonest;
};

static void count_entry(struct count_ctx *c, const struct me_entry *v)
{
	if (!me_edgeban_live(v, c->now))
		return;
	c->live++;
	if (v->expires && (!c->soonest || v->expires < c->soonest))
		c->soonest = v->expires;
}

static int count_host(void *ctx, const void *key, const void *val)
{
	struct me_entry v;

	(void)key;
	memcpy(&v, val, sizeof(v));
	count_entry(ctx, &v);
	return 0;
}

static int count_net(void *ctx, const void *key, const void *val)
{
	struct me_net_entry ne;

	(void)key;
	memcpy(&ne, val, sizeof(ne));
	count_entry(ctx, &ne.e);
	return 0;
}

int me_edgeban_count(struct me_edge *e, __u64 *live, __u32 *soonest)
{
	struct count_ctx c = { .now = me_boot_seconds() };
	int fam, net, rc;

	for (fam = 0; fam < 2; fam++)
		for (net = 0; net < 2; net++) {
			int fd = e->fd[me_manual_map(ME_LIST_BLACK, fam ? AF_INET6 : AF_INET, net)];

			rc = me_map_walk(fd, net ? count_net : count_host, &c);
			if (rc)
				return rc;
		}
	*live = c.live;
	*soonest = c.soonest;
	return 0;
}
