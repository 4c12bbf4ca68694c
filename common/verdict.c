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
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "synctab.h"
#include "verdict.h"

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
};

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
		if (!ne.prefixlen)
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

static int sync_step(struct judge *j, struct me_edge *e, int list, int is_net, __u32 reason)
{
	struct me_tabmap t;
	struct net_cover *c;
	__u32 gen;
	int rc, v, i, len;

	rc = me_synctab_open(e, j->src->family, is_net, &t, &gen);
	if (rc == -ENOENT) /* before the first sync */
		return 0;
	if (rc)
		return rc;
	if (!is_net) {
		v = me_hostab_lookup(&t, j->src, gen);
		if (v >= 0 && (__u32)v < t.h->nvals && me_tab_val(&t, (__u32)v)->list == (__u32)list)
			add_match(j, list, reason, 1, j->src->len, &me_tab_val(&t, (__u32)v)->e);
		me_synctab_close(&t);
		return 0;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		me_synctab_close(&t);
		return -ENOMEM;
	}
	c->j = j;
	c->list = list;
	rc = me_tab_walk(&t, gen, cover_cb, c);
	me_synctab_close(&t);
	/* One prefix of each length at most: longest first. */
	for (len = 128; !rc && len >= 0; len--)
		for (i = 0; i < c->n; i++)
			if (c->p[i].len == (unsigned int)len)
				add_match(j, list, reason, 1, c->p[i].len, &c->e[i]);
	free(c);
	return rc;
}

/* One step: the admin's map, then list sync's table. */
static int step(struct judge *j, struct me_edge *e, int list, int is_net)
{
	static const __u32 reasons[2][2] = { { ME_R_WHITE_HOST, ME_R_WHITE_NET },
					     { ME_R_BLACK_HOST, ME_R_BLACK_NET } };
	__u32 reason = reasons[list][is_net];
	int (*fn)(struct judge *, int, int, __u32, int) = is_net ? net_step : host_step;
	enum me_map_id id = me_manual_map(list, j->src->family, is_net);
	int rc;

	/* As the program does: a map whose admin_used slot is clear is not
	 * asked, whatever it holds (a writer that bypassed me_manual_apply). */
	rc = me_manual_used(e, id);
	if (rc < 0)
		return rc;
	if (rc) {
		rc = fn(j, e->fd[id], list, reason, 0);
		if (rc)
			return rc;
	}
	return sync_step(j, e, list, is_net, reason);
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

int me_verdict_judge(struct me_edge *e, const struct me_vquery *q, struct me_vresult *r)
{
	struct judge j = { .r = r, .src = &q->src };
	const struct me_entry *w = NULL;
	__u32 zero = 0, src = ME_VHIT_NONE, reason = ME_R_CLEAN;
	__u64 now_ns;
	size_t i;
	int rc, list, is_net;

	memset(r, 0, sizeof(*r));
	r->winner = -1;
	if ((q->src.family != AF_INET && q->src.family != AF_INET6) || !me_prefix_is_host(&q->src))
		return -EINVAL;
	if (bpf_map_lookup_elem(e->fd[ME_M_CONFIG], &zero, &r->cfg))
		return -errno;
	now_ns = me_boot_ns();
	j.now = (__u32)(now_ns / 1000000000ull);

	for (list = ME_LIST_WHITE; list <= ME_LIST_BLACK; list++)
		for (is_net = 0; is_net < 2; is_net++) {
			rc = step(&j, e, list, is_net);
			if (rc)
				return rc;
		}
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
