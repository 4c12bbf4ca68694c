// SPDX-License-Identifier: GPL-2.0
/*
 * threshold_view.c - print the threshold's settings and live state.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>

#include "grow.h"
#include "counters.h"
#include "lists.h"
#include "threshold_view.h"
#include "verdict_show.h"

static int read_cfg(struct me_edge *e, struct me_config *cfg, struct me_ports *ports)
{
	__u32 zero = 0;

	memset(cfg, 0, sizeof(*cfg));
	memset(ports, 0, sizeof(*ports));
	if (bpf_map_lookup_elem(e->fd[ME_M_CONFIG], &zero, cfg))
		return -1;
	if (bpf_map_lookup_elem(e->fd[ME_M_PORTS], &zero, ports))
		return -1;
	return 0;
}

static void ports_format(const struct me_ports *p, char *buf, size_t len)
{
	size_t o = 0;
	unsigned int port;

	buf[0] = '\0';
	for (port = 1; port < 65536 && o + 8 < len; port++)
		if (p->bits[port >> 3] & (1 << (port & 7)))
			o += (size_t)snprintf(buf + o, len - o, "%s%u", o ? "," : "", port);
	if (!o)
		snprintf(buf, len, "none");
}

struct ban_count {
	__u64 now;
	__u64 live;
};

static int ban_cb(void *ctx, const void *key, const void *val)
{
	struct ban_count *b = ctx;
	__u64 until;

	(void)key;
	memcpy(&until, val, sizeof(until));
	if (until > b->now)
		b->live++;
	return 0;
}

void threshold_read_state(struct me_edge *e, struct thr_state *s)
{
	struct ban_count b = { .now = me_boot_ns() };

	memset(s, 0, sizeof(*s));
	me_map_count(e->fd[ME_M_RATES], &s->tracked);
	me_event_read(e->fd[ME_M_EVENTS], ME_EV_RATE_INSERT, &s->inserts);
	s->evicted = s->inserts > s->tracked ? s->inserts - s->tracked : 0;
	me_map_walk(e->fd[ME_M_BANS], ban_cb, &b);
	s->banned = b.live;
}

void threshold_print_summary(struct me_edge *e, FILE *f)
{
	struct me_config cfg;
	struct me_ports ports;
	char pl[512];

	if (read_cfg(e, &cfg, &ports)) {
		fprintf(f, "threshold: cannot read the configuration\n");
		return;
	}
	ports_format(&ports, pl, sizeof(pl));
	if (!cfg.thr_rate)
		fprintf(f, "threshold: off (ports %s)\n", pl);
	else
		fprintf(f,
			"threshold: %u new connections/s per source, burst %u, ports %s, "
			"ban %s%u%s, counted per IPv4 /%u and IPv6 /%u\n",
			cfg.thr_rate, cfg.thr_burst, pl, cfg.thr_ban_secs ? "" : "off (",
			cfg.thr_ban_secs, cfg.thr_ban_secs ? "s" : ")", cfg.thr_v4_prefix,
			cfg.thr_v6_prefix);
}

void threshold_print_state(struct me_edge *e, FILE *f)
{
	struct thr_state s;

	threshold_read_state(e, &s);
	fprintf(f,
		"sources tracked: %llu of %u (%llu added, %llu evicted by newer sources)\n"
		"sources banned:  %llu of %u\n",
		(unsigned long long)s.tracked, e->sizes.rate_entries, (unsigned long long)s.inserts,
		(unsigned long long)s.evicted, (unsigned long long)s.banned, e->sizes.ban_entries);
}

json_object *threshold_json(struct me_edge *e)
{
	json_object *o = json_object_new_object();
	json_object *pa = json_object_new_array();
	struct me_config cfg;
	struct me_ports ports;
	struct thr_state s;
	unsigned int port;

	read_cfg(e, &cfg, &ports);
	threshold_read_state(e, &s);
	for (port = 1; port < 65536; port++)
		if (ports.bits[port >> 3] & (1 << (port & 7)))
			json_object_array_add(pa, json_object_new_int((int)port));
	json_object_object_add(o, "enabled", json_object_new_boolean(cfg.thr_rate != 0));
	json_object_object_add(o, "rate", json_object_new_int64(cfg.thr_rate));
	json_object_object_add(o, "burst", json_object_new_int64(cfg.thr_burst));
	json_object_object_add(o, "ban_seconds", json_object_new_int64(cfg.thr_ban_secs));
	json_object_object_add(o, "v4_prefix", json_object_new_int64(cfg.thr_v4_prefix));
	json_object_object_add(o, "v6_prefix", json_object_new_int64(cfg.thr_v6_prefix));
	json_object_object_add(o, "ports", pa);
	json_object_object_add(o, "sources_tracked", json_object_new_int64((int64_t)s.tracked));
	json_object_object_add(o, "sources_capacity", json_object_new_int64(e->sizes.rate_entries));
	json_object_object_add(o, "sources_added", json_object_new_int64((int64_t)s.inserts));
	json_object_object_add(o, "sources_evicted", json_object_new_int64((int64_t)s.evicted));
	json_object_object_add(o, "sources_banned", json_object_new_int64((int64_t)s.banned));
	json_object_object_add(o, "bans_capacity", json_object_new_int64(e->sizes.ban_entries));
	return o;
}

struct ban_rec {
	struct me_src_key k;
	__u64 until;
};

struct ban_list {
	struct ban_rec *v;
	size_t n, cap;
	__u64 now;
};

static int ban_collect(void *ctx, const void *key, const void *val)
{
	struct ban_list *b = ctx;
	struct ban_rec r, *v;

	memcpy(&r.k, key, sizeof(r.k));
	memcpy(&r.until, val, sizeof(r.until));
	if (r.until <= b->now) /* ended: the kernel ignores it, LRU will recycle it */
		return 0;
	v = me_grow(b->v, b->n, &b->cap, sizeof(*v), 64);
	if (!v)
		return -ENOMEM;
	b->v = v;
	b->v[b->n++] = r;
	return 0;
}

/* Soonest end first: what an admin watching an attack wants to see. */
static int ban_cmp(const void *a, const void *b)
{
	const struct ban_rec *x = a, *y = b;

	return x->until < y->until ? -1 : x->until > y->until;
}

static int bans_read(struct me_edge *e, struct ban_list *b, struct me_config *cfg)
{
	__u32 zero = 0;
	int rc;

	memset(b, 0, sizeof(*b));
	if (bpf_map_lookup_elem(e->fd[ME_M_CONFIG], &zero, cfg))
		return -errno;
	b->now = me_boot_ns();
	rc = me_map_walk(e->fd[ME_M_BANS], ban_collect, b);
	if (rc < 0) {
		free(b->v);
		return rc;
	}
	if (b->n > 1)
		qsort(b->v, b->n, sizeof(*b->v), ban_cmp);
	return 0;
}

int threshold_print_bans(struct me_edge *e, FILE *f)
{
	char pfx[ME_PREFIX_STRLEN + 4], at[32];
	struct me_config cfg;
	struct ban_list b;
	size_t i;
	int rc = bans_read(e, &b, &cfg);

	if (rc)
		return rc;
	if (!cfg.thr_ban_secs)
		fprintf(f, "bans are off (threshold set --ban SECONDS turns them on)%s\n",
			b.n ? "; the bans below are not applied" : "");
	if (!b.n)
		fprintf(f, "no sources banned\n");
	else
		fprintf(f, "%-44s %8s  %s\n", "SOURCE (counted prefix)", "LEFT", "UNTIL");
	for (i = 0; i < b.n; i++) {
		me_vshow_ban_prefix(&b.v[i].k, &cfg, pfx, sizeof(pfx));
		me_boot_iso(b.v[i].until, b.now, at, sizeof(at));
		fprintf(f, "%-44s %7llus  %s\n", pfx,
			(unsigned long long)me_vshow_secs_left(b.v[i].until, b.now), at);
	}
	free(b.v);
	return (int)b.n;
}

json_object *threshold_bans_json(struct me_edge *e)
{
	json_object *o, *a;
	struct me_config cfg;
	struct ban_list b;
	size_t i;

	if (bans_read(e, &b, &cfg))
		return NULL;
	o = json_object_new_object();
	a = json_object_new_array();
	for (i = 0; i < b.n; i++)
		json_object_array_add(a, me_vshow_ban_obj(&b.v[i].k, &cfg, b.v[i].until, b.now));
	json_object_object_add(o, "bans_enforced", json_object_new_boolean(cfg.thr_ban_secs != 0));
	json_object_object_add(o, "bans", a);
	free(b.v);
	return o;
}
