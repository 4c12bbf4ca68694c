// SPDX-License-Identifier: GPL-2.0
/*
 * rowfix.c - the BPF test rows' fixture (see rowfix.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "edge_load.h"
#include "lists.h"
#include "../../listsync/sync_apply.h"
#include "../../listsync/table_build.h"
#include "../../listsync/union.h"
#include "rowfix.h"
#include "../bpf_table_rows.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Small maps: the default host capacities would allocate hundreds of MB of
 * hash buckets in every process that loads the fixture. */
static const struct me_sizes small_sizes = {
	.hosts = 1024,
	.white_hosts = 1024,
	.subnets = 1024,
	.rate_entries = 1024,
	.ban_entries = 1024,
};

const struct bpffix_table bpffix_tables[] = {
	{ "rows_basic", rows_basic, ARRAY_LEN(rows_basic) },
	{ "rows_lists", rows_lists, ARRAY_LEN(rows_lists) },
	{ "rows_sync", rows_sync, ARRAY_LEN(rows_sync) },
	{ "rows_vlan", rows_vlan, ARRAY_LEN(rows_vlan) },
	{ "rows_frag", rows_frag, ARRAY_LEN(rows_frag) },
	{ "rows_truncated", rows_truncated, ARRAY_LEN(rows_truncated) },
	{ "rows_inconsistent", rows_inconsistent, ARRAY_LEN(rows_inconsistent) },
	{ "rows_reset", rows_reset, ARRAY_LEN(rows_reset) },
};
const size_t bpffix_ntables = ARRAY_LEN(bpffix_tables);

int rowfix_load(struct me_prog *prog, struct me_edge *edge, char *why, size_t why_len)
{
	int created = 0, rc;

	rc = me_prog_load(prog, NULL, &small_sizes, edge, &created, why, why_len);
	if (rc)
		return rc;
	if (me_edge_defaults(edge)) {
		snprintf(why, why_len, "writing the default config: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

static __u32 entry_expires(enum entry_expiry x)
{
	if (x == EXPIRED)
		return me_boot_seconds() - 1;
	if (x == IN_AN_HOUR)
		return me_boot_seconds() + 3600;
	return 0;
}

/* The admin's entries go into their maps as the loader puts them there
 * (me_manual_apply, which also sets their admin_used slots); list sync's are
 * collected per generation, to be built into that generation's tables. */
static int add_entry(struct me_edge *edge, struct me_union *sync, const struct fixture_entry *fe,
		     char *why, size_t why_len)
{
	struct me_rec r = {
		.list = fe->list,
		.val = {
			.action = fe->action,
			.src = fe->src,
			.group = fe->group,
			.expires = entry_expires(fe->expiry),
		},
	};
	enum me_map_id full;
	int rc;

	if (me_prefix_parse(fe->prefix, &r.pfx, 0)) {
		snprintf(why, why_len, "fixture prefix %s does not parse", fe->prefix);
		return -EINVAL;
	}
	if (fe->map != IN_MANUAL) {
		if (me_union_add(&sync[fe->map == IN_SYNC_GEN1], fe->list, &r.pfx, &r.val, 0)) {
			snprintf(why, why_len, "fixture entry %s: out of memory", fe->prefix);
			return -ENOMEM;
		}
		return 0;
	}
	rc = me_manual_apply(edge, &r, 1, &full);
	if (rc)
		snprintf(why, why_len, "fixture entry %s: %s", fe->prefix, strerror(-rc));
	return rc;
}

/* Build a generation's tables, as list sync does, and put them in its slots. */
static int install_gen(struct me_edge *edge, struct me_union *u, __u32 gen, char *why,
		       size_t why_len)
{
	struct me_tabmap t[4];
	struct me_config cfg;
	__u32 zero = 0;
	size_t dropped;
	int k, rc = 0;

	me_union_merge(u, &dropped);
	rc = me_sync_build(u, edge->host4_elems, t, why, why_len);
	if (rc)
		return rc;
	/* Its bit of sync_white_nets, as list sync's commit sets it. */
	if (bpf_map_lookup_elem(edge->fd[ME_M_CONFIG], &zero, &cfg)) {
		rc = -errno;
		snprintf(why, why_len, "reading the configuration: %s", strerror(errno));
	} else {
		rc = me_sync_set_white_nets(edge, &cfg, gen, me_sync_white_nets(t, NULL), why,
					    why_len);
	}
	for (k = 0; k < 4; k++) {
		int outer = edge->fd[me_sync_map(k / 2 ? AF_INET6 : AF_INET, k % 2)];

		if (!rc && bpf_map_update_elem(outer, &gen, &t[k].fd, BPF_ANY)) {
			rc = -errno;
			snprintf(why, why_len, "installing a sync table: %s", strerror(errno));
		}
		me_tab_destroy(&t[k]);
	}
	return rc;
}

int rowfix_fill(struct me_edge *edge, char *why, size_t why_len)
{
	struct me_union sync[2];
	size_t i;
	int rc = 0;

	me_union_init(&sync[0]);
	me_union_init(&sync[1]);
	for (i = 0; !rc && i < ARRAY_LEN(fixture_entries); i++)
		rc = add_entry(edge, sync, &fixture_entries[i], why, why_len);
	if (!rc)
		rc = install_gen(edge, &sync[0], 0, why, why_len);
	if (!rc)
		rc = install_gen(edge, &sync[1], 1, why, why_len);
	me_union_free(&sync[0]);
	me_union_free(&sync[1]);
	return rc;
}

void rowfix_frame_spec(const struct frame *f, struct pkt_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->family = f->family;
	s->ethertype = f->ethertype;
	s->src = f->src;
	if (f->dst[0])
		s->dst = f->dst;
	else
		s->dst = f->family == AF_INET6 ? GW6 : GW4;
	s->l4 = f->l4;
	s->sport = f->sport ? f->sport : 40001;
	s->dport = f->dport ? f->dport : 25;
	s->tcp_flags = f->flags;
	s->seq = f->seq;
	s->ack = f->flags & TF_ACK ? 0x01000000 : 0;
	s->tcp_opts_len = f->tcp_opts;
	s->payload_len = f->payload;
	s->ip_opts_len = f->ip_opts;
	s->vlans = f->vlans;
	memcpy(s->vlan_proto, f->vlan_proto, sizeof(s->vlan_proto));
	s->frag_offset = f->frag_offset;
	s->more_frags = f->more_frags;
	s->v6_frag_hdr = f->v6_frag;
	s->v6_ext_hdrs = f->v6_ext;
}
