// SPDX-License-Identifier: GPL-2.0
/*
 * verdict.c - the XDP verdict order in userspace (see verdict.h).
 *
 * Each list step collects every entry that covers the address, in the order
 * the kernel consults them (admin's map, then list sync's; in a trie, longest
 * prefix first), so that the first live one is the kernel's choice and the rest
 * can be shown as the entries that lost. A trie lookup from userspace returns
 * the longest prefix up to the key's length; asking again one bit shorter than
 * each answer walks all of them, at most 33 or 129 lookups. List sync's subnet
 * tables keep the prefixes they were painted from, which are searched instead.
 *
 * A caller that only needs the winner (me_vquery.winner_only: the proxy, for
 * every client) stops at the first live entry, and takes a subnet table's
 * answer from its painted index, as the program does, with the prefix that
 * painted it from the table cache's index (synccache.h), not from a walk of
 * every prefix. The winner is the same either way (test_verdict_cache.c
 * holds the two modes to that).
 *
 * List sync's tables come from a process-wide cache of mappings
 * (synccache.h): one read of the outer map's slot per table per judgement,
 * no fd, mmap or munmap. All the steps use the generation read once at the
 * start, as a packet does. A packet is protected by RCU (list sync waits a
 * grace period before it touches the old generation); a thread here is not,
 * so the generation is read again at the end, and a judgement during which
 * it changed is done again: list sync changes the old generation's slots and
 * host bits only after the flip, so a judgement that saw no flip saw one
 * state of the lists, never a half-applied one.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "synccache.h"
#include "verdict.h"

/* A judgement redone this many times because list sync swapped generations
 * under it gives up (-EAGAIN): swaps are seconds apart, each waits a grace
 * period, so a second retry is already far-fetched. */
#define JUDGE_TRIES 4

__u64 me_boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

/* Network-order mask for word i of a 128-bit prefix of length plen. */
static __u32 mask_word(__u32 plen, int i)
{
	__u32 bits = plen > (__u32)i * 32 ? plen - (__u32)i * 32 : 0;

	if (bits >= 32)
		return 0xffffffff;
	if (bits == 0)
		return 0;
	return htonl(0xffffffffu << (32 - bits));
}

void me_verdict_src_key(const struct me_prefix *src, const struct me_config *cfg,
			struct me_src_key *k, unsigned int *plen)
{
	__u32 w[4];
	int i;

	memcpy(w, src->addr, sizeof(w));
	if (src->family == AF_INET) {
		k->w[0] = 0;
		k->w[1] = 0;
		k->w[2] = htonl(0xffff);
		k->w[3] = w[0] & mask_word(cfg->thr_v4_prefix, 0);
		*plen = cfg->thr_v4_prefix;
		return;
	}
	for (i = 0; i < 4; i++)
		k->w[i] = w[i] & mask_word(cfg->thr_v6_prefix, i);
	*plen = cfg->thr_v6_prefix;
}

void me_verdict_key_prefix(const struct me_src_key *k, const struct me_config *cfg,
			   struct me_prefix *out)
{
	memset(out, 0, sizeof(*out));
	if (!k->w[0] && !k->w[1] && k->w[2] == htonl(0xffff)) {
		out->family = AF_INET;
		out->len = cfg->thr_v4_prefix;
		memcpy(out->addr, &k->w[3], 4);
		return;
	}
	out->family = AF_INET6;
	out->len = cfg->thr_v6_prefix;
	memcpy(out->addr, k->w, 16);
}

struct judge {
	struct me_vresult *r;
	const struct me_prefix *src;
	__u32 now; /* CLOCK_BOOTTIME seconds, the clock of me_entry.expires */
	struct me_edge *e;
	__u32 gen;	 /* list sync's generation, read once for the whole judgement */
	int winner_only; /* me_vquery.winner_only */
	int won;	 /* a live entry is in r->m[]: the winner is known */
	int net_walk;	 /* the painted subnet answer will not do: walk the prefixes */
	__u32 used[ME_ADMIN_SLOTS]; /* admin_used, read once */
	/* list sync's host and subnet tables, taken from the cache at first use */
	struct me_tabref *tab[2];
	int tab_rc[2]; /* TAB_UNASKED, or what me_synccache_get returned */
};

#define TAB_UNASKED 1

static void add_match(struct judge *j, int list, __u32 reason, int synced, unsigned int len,
		      const struct me_entry *val)
{
	struct me_vmatch *m;

	if (j->r->n == ME_VMATCH_MAX) {
		j->r->truncated = 1;
		return;
	}
	m = &j->r->m[j->r->n++];
	memset(m, 0, sizeof(*m));
	m->rec.list = list;
	m->rec.pfx = *j->src;
	m->rec.pfx.len = len;
	me_prefix_mask(&m->rec.pfx);
	m->rec.val = *val;
	m->reason = reason;
	m->synced = synced;
	/* The kernel's test: live while expires * 1e9 > now in ns, i.e. expires > now
	 * in whole seconds (now rounded down). */
	m->expired = me_entry_expired(val, j->now);
	if (!m->expired)
		j->won = 1;
}

static int host_step(struct judge *j, int fd, int list, __u32 reason, int synced)
{
	unsigned char key[ME_KEY_MAX];
	struct me_entry val;

	me_prefix_key(j->src, key);
	if (bpf_map_lookup_elem(fd, key, &val))
		return errno == ENOENT ? 0 : -errno;
	add_match(j, list, reason, synced, j->src->len, &val);
	return 0;
}

static int net_step(struct judge *j, int fd, int list, __u32 reason, int synced)
{
	unsigned char key[ME_KEY_MAX];
	struct me_net_entry ne;
	__u32 plen = j->src->len;

	/* struct me_lpm4/me_lpm6: prefixlen first, then the whole address */
	memcpy(key + sizeof(plen), j->src->addr, j->src->family == AF_INET ? 4 : 16);
	for (;;) {
		memcpy(key, &plen, sizeof(plen));
		if (bpf_map_lookup_elem(fd, key, &ne))
			return errno == ENOENT ? 0 : -errno;
		if (ne.prefixlen > plen) /* a corrupt value: do not loop */
			return -EUCLEAN;
		add_match(j, list, reason, synced, ne.prefixlen, &ne.e);
		if (!ne.prefixlen || (j->winner_only && j->won))
			return 0;
		plen = ne.prefixlen - 1;
	}
}

/* The prefixes of a subnet table that cover the address and belong to the
 * list, longest first (the program finds the first live one). */
struct net_cover {
	struct judge *j;
	int list;
	__u32 reason;
	struct me_prefix p[129];
	struct me_entry e[129];
	int n;
};

static int cover_cb(void *ctx, int list, const struct me_prefix *p, const struct me_entry *e)
{
	struct net_cover *c = ctx;
	struct me_prefix a = *c->j->src;

	if (list != c->list || c->n == 129)
		return 0;
	a.len = p->len;
	me_prefix_mask(&a);
	if (memcmp(a.addr, p->addr, sizeof(a.addr)))
		return 0;
	c->p[c->n] = *p;
	c->e[c->n++] = *e;
	return 0;
}

/* List sync's table of this kind for the generation of the judgement. */
static int sync_table(struct judge *j, int is_net, struct me_tabref **ref)
{
	if (j->tab_rc[is_net] == TAB_UNASKED)
		j->tab_rc[is_net] =
			me_synccache_get(j->e, j->src->family, is_net, j->gen, &j->tab[is_net]);
	*ref = j->tab[is_net];
	return j->tab_rc[is_net];
}

/* The winner's way through a subnet table: the entry painted for the address
 * (the program's answer) and the prefix that painted it. It is the walk's
 * first match: painting puts the longest white prefix over the longest black
 * one, and the walk lists white before black, longest first. That holds for
 * live entries only (list sync's never expire), so for an expired one, or a
 * table that does not know which prefix painted the address, -EAGAIN: walk
 * instead, for this step and the next. */
static int net_winner(struct judge *j, struct me_tabref *ref, int list, __u32 reason)
{
	const struct me_tab_val *v;
	struct me_prefix p;
	int i;

	i = me_synccache_net_find(ref, j->src, &p);
	if (i == -ENOENT)
		return 0;
	if (i == -ESRCH)
		return -EAGAIN;
	if (i < 0)
		return i;
	v = me_tab_val(&ref->t, (__u32)i);
	if (v->list != (__u32)list)
		return 0;
	if (me_entry_expired(&v->e, j->now))
		return -EAGAIN;
	add_match(j, list, reason, 1, p.len, &v->e);
	return 0;
}

static int sync_step(struct judge *j, int list, int is_net, __u32 reason)
{
	struct me_tabref *ref;
	const struct me_tabmap *t;
	struct net_cover *c;
	int rc, v, i, len;

	rc = sync_table(j, is_net, &ref);
	if (rc == -ENOENT) /* before the first sync */
		return 0;
	if (rc)
		return rc;
	t = &ref->t;
	if (!is_net) {
		v = me_hostab_lookup(t, j->src, j->gen);
		if (v >= 0 && (__u32)v < t->h->nvals &&
		    me_tab_val(t, (__u32)v)->list == (__u32)list)
			add_match(j, list, reason, 1, j->src->len, &me_tab_val(t, (__u32)v)->e);
		return 0;
	}
	if (j->winner_only && !j->net_walk) {
		rc = net_winner(j, ref, list, reason);
		if (rc != -EAGAIN)
			return rc;
		j->net_walk = 1;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->j = j;
	c->list = list;
	rc = me_tab_walk(t, j->gen, cover_cb, c);
	/* One prefix of each length at most: longest first. */
	for (len = 128; !rc && len >= 0; len--)
		for (i = 0; i < c->n; i++)
			if (c->p[i].len == (unsigned int)len)
				add_match(j, list, reason, 1, c->p[i].len, &c->e[i]);
	free(c);
	return rc;
}

/* One step: the admin's map, then list sync's table. */
static int step(struct judge *j, int list, int is_net)
{
	static const __u32 reasons[2][2] = { { ME_R_WHITE_HOST, ME_R_WHITE_NET },
					     { ME_R_BLACK_HOST, ME_R_BLACK_NET } };
	__u32 reason = reasons[list][is_net];
	int (*fn)(struct judge *, int, int, __u32, int) = is_net ? net_step : host_step;
	enum me_map_id id = me_manual_map(list, j->src->family, is_net);
	int rc;

	/* As the program does: a map whose admin_used slot is clear is not
	 * asked, whatever it holds (a writer that bypassed me_manual_apply). */
	rc = me_admin_slot(id);
	if (rc < 0)
		return rc;
	if (j->used[rc]) {
		rc = fn(j, j->e->fd[id], list, reason, 0);
		if (rc)
			return rc;
		if (j->winner_only && j->won)
			return 0;
	}
	return sync_step(j, list, is_net, reason);
}

static int port_protected(struct me_edge *e, __u16 port)
{
	struct me_ports p;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(e->fd[ME_M_PORTS], &zero, &p))
		return 0;
	return p.bits[port >> 3] & (1 << (port & 7));
}

/* Would this SYN be over the rate (me_rate_allow, without charging it)? */
static int rate_over(struct me_edge *e, const struct me_vresult *r, __u64 now)
{
	__u64 interval = 1000000000ull / r->cfg.thr_rate;
	__u64 burst = r->cfg.thr_burst ? r->cfg.thr_burst : 1;
	__u64 tat, next;

	if (bpf_map_lookup_elem(e->fd[ME_M_RATES], &r->key, &tat))
		return 0; /* a new source is the first of a burst */
	next = (tat > now ? tat : now) + interval;
	return next - now > interval * burst;
}

static void decide(struct me_vresult *r, __u32 verdict, __u32 reason, __u32 hit)
{
	r->verdict = verdict;
	r->reason = reason;
	r->hit = hit;
}

/* All of admin_used in one system call (a batch read of the array) rather
 * than one per step: a call costs more than the rest of a judgement. Slot by
 * slot where the kernel has no batch operations for arrays. */
static int read_used(struct me_edge *e, __u32 *used)
{
	__u32 keys[ME_ADMIN_SLOTS], vals[ME_ADMIN_SLOTS], count = ME_ADMIN_SLOTS, out, k;
	LIBBPF_OPTS(bpf_map_batch_opts, o);
	int rc;

	memset(used, 0, ME_ADMIN_SLOTS * sizeof(*used));
	rc = bpf_map_lookup_batch(e->fd[ME_M_ADMIN_USED], NULL, &out, keys, vals, &count, &o);
	if ((!rc || errno == ENOENT) && count == ME_ADMIN_SLOTS) {
		for (k = 0; k < count; k++)
			if (keys[k] < ME_ADMIN_SLOTS)
				used[keys[k]] = vals[k];
		return 0;
	}
	for (k = 0; k < ME_ADMIN_SLOTS; k++)
		if (bpf_map_lookup_elem(e->fd[ME_M_ADMIN_USED], &k, &used[k]))
			return -errno;
	return 0;
}

/* One judgement at the generation read at its start; *tables says whether
 * it read list sync's tables. */
static int judge_once(struct me_edge *e, const struct me_vquery *q, struct me_vresult *r,
		      int *tables)
{
	struct judge j = {
		.r = r,
		.src = &q->src,
		.e = e,
		.winner_only = q->winner_only,
		.tab_rc = { TAB_UNASKED, TAB_UNASKED },
	};
	const struct me_entry *w = NULL;
	__u32 zero = 0, src = ME_VHIT_NONE, reason = ME_R_CLEAN;
	__u64 now_ns;
	size_t i;
	int rc, s;

	memset(r, 0, sizeof(*r));
	r->winner = -1;
	*tables = 0;
	if (bpf_map_lookup_elem(e->fd[ME_M_CONFIG], &zero, &r->cfg))
		return -errno;
	j.gen = r->cfg.sync_gen & 1;
	rc = read_used(e, j.used);
	if (rc)
		return rc;
	now_ns = me_boot_ns();
	j.now = (__u32)(now_ns / 1000000000ull);

	/* white host, white net, black host, black net */
	for (s = 0, rc = 0; s < 4 && !rc && !(j.winner_only && j.won); s++)
		rc = step(&j, s / 2 ? ME_LIST_BLACK : ME_LIST_WHITE, s % 2);
	for (s = 0; s < 2; s++)
		if (j.tab_rc[s] == 0) {
			*tables = 1;
			me_synccache_put(j.tab[s]);
		}
	if (rc)
		return rc;
	for (i = 0; i < r->n; i++)
		if (!r->m[i].expired) {
			r->winner = (int)i;
			w = &r->m[i].rec.val;
			src = w->src;
			reason = r->m[i].reason;
			break;
		}

	me_verdict_src_key(&q->src, &r->cfg, &r->key, &r->counted_len);
	if (!bpf_map_lookup_elem(e->fd[ME_M_BANS], &r->key, &r->ban_until_ns))
		r->ban_live = r->ban_until_ns > now_ns;
	else
		r->ban_until_ns = 0;

	if (w) {
		if (reason == ME_R_WHITE_HOST || reason == ME_R_WHITE_NET) {
			decide(r, ME_V_PASS, reason, src);
			return 0;
		}
		if (w->action == ME_ACT_DROP) {
			decide(r, ME_V_DROP, reason, src);
			return 0;
		}
		if (w->action == ME_ACT_RESET) {
			decide(r, q->answerable ? ME_V_RESET : ME_V_DROP, reason, src);
			return 0;
		}
		/* pass / group: listed but let through; the threshold still applies */
	}
	if (r->cfg.thr_ban_secs && r->ban_live) {
		decide(r, ME_V_DROP, ME_R_BANNED, ME_SRC_THRESHOLD);
		return 0;
	}
	if (q->rate && r->cfg.thr_rate && q->syn && port_protected(e, q->dport) &&
	    rate_over(e, r, now_ns)) {
		r->limited = 1;
		decide(r, ME_V_DROP, ME_R_THRESHOLD, ME_VHIT_NONE);
		return 0;
	}
	decide(r, ME_V_PASS, reason, src);
	return 0;
}

int me_verdict_judge(struct me_edge *e, const struct me_vquery *q, struct me_vresult *r)
{
	struct me_config now;
	__u32 zero = 0;
	int rc, tables, tries;

	if ((q->src.family != AF_INET && q->src.family != AF_INET6) ||
	    !me_prefix_is_host(&q->src)) {
		memset(r, 0, sizeof(*r));
		r->winner = -1;
		return -EINVAL;
	}
	for (tries = 0; tries < JUDGE_TRIES; tries++) {
		rc = judge_once(e, q, r, &tables);
		if (rc || !tables)
			return rc;
		/* Unchanged since the start: no list sync swap ran under the
		 * judgement (see the file's header). */
		if (bpf_map_lookup_elem(e->fd[ME_M_CONFIG], &zero, &now))
			return -errno;
		if (now.sync_gen == r->cfg.sync_gen)
			return 0;
	}
	return -EAGAIN;
}
