// SPDX-License-Identifier: GPL-2.0
/*
 * bpffix.c - the BPF table's fixture: the edge program on private, small maps,
 * filled from fixture_entries[] in bpf_table_rows.h.
 *
 * Shared by test_bpf_table.c (the kernel's verdicts) and test_loader_ops.c
 * (verdict.c, the userspace copy, judged against the same maps), so that both
 * always see the same entries in the same maps and slots.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "edge_load.h"
#include "lists.h"
#include "../../listsync/sync_apply.h"
#include "../../listsync/table_build.h"
#include "../../listsync/union.h"
#include "bpffix.h"
#include "../bpf_table_rows.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Small maps: the default host capacities would allocate hundreds of MB of
 * hash buckets in every test process. */
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

void bpffix_load(struct me_prog *prog, struct me_edge *edge)
{
	char why[256] = "";
	int created = 0, rc;

	rc = me_prog_load(prog, NULL, &small_sizes, edge, &created, why, sizeof(why));
	cr_assert_eq(rc, 0, "loading the XDP program: %s", why);
	cr_assert_eq(me_edge_defaults(edge), 0, "writing the default config: %s", strerror(errno));
}

static __u32 entry_expires(enum entry_expiry x)
{
	if (x == EXPIRED)
		return me_boot_seconds() - 1;
	if (x == IN_AN_HOUR)
		return me_boot_seconds() + 3600;
	return 0;
}

/* The admin's entries go straight into their maps; list sync's are collected
 * per generation, to be built into that generation's tables. */
static void add_entry(struct me_edge *edge, struct me_union *sync, const struct fixture_entry *fe)
{
	unsigned char key[ME_KEY_MAX], value[ME_VALUE_MAX];
	struct me_prefix p;
	struct me_entry val = {
		.action = fe->action,
		.src = fe->src,
		.group = fe->group,
		.expires = entry_expires(fe->expiry),
	};
	int is_net;

	cr_assert_eq(me_prefix_parse(fe->prefix, &p, 0), 0, "fixture prefix %s", fe->prefix);
	if (fe->map != IN_MANUAL) {
		cr_assert_eq(me_union_add(&sync[fe->map == IN_SYNC_GEN1], fe->list, &p, &val, 0), 0,
			     "fixture entry %s", fe->prefix);
		return;
	}
	is_net = me_prefix_key(&p, key);
	me_prefix_value(&p, &val, value);
	cr_assert_eq(bpf_map_update_elem(edge->fd[me_manual_map(fe->list, p.family, is_net)], key,
					 value, BPF_NOEXIST),
		     0, "fixture entry %s: %s", fe->prefix, strerror(errno));
}

/* Build a generation's tables, as list sync does, and put them in its slots. */
static void install_sync_tables(struct me_edge *edge, struct me_union *u, __u32 gen)
{
	struct me_tabmap t[4];
	char why[256];
	size_t dropped;
	int k;

	me_union_merge(u, &dropped);
	cr_assert_eq(me_sync_build(u, t, why, sizeof(why)), 0, "building the sync tables: %s", why);
	for (k = 0; k < 4; k++) {
		int outer = edge->fd[me_sync_map(k / 2 ? AF_INET6 : AF_INET, k % 2)];

		cr_assert_eq(bpf_map_update_elem(outer, &gen, &t[k].fd, BPF_ANY), 0,
			     "installing a sync table: %s", strerror(errno));
		me_tab_destroy(&t[k]);
	}
	me_union_free(u);
}

void bpffix_load_lists(struct me_prog *prog, struct me_edge *edge)
{
	struct me_union sync[2];
	size_t i;

	me_union_init(&sync[0]);
	me_union_init(&sync[1]);
	bpffix_load(prog, edge);
	for (i = 0; i < ARRAY_LEN(fixture_entries); i++)
		add_entry(edge, sync, &fixture_entries[i]);
	install_sync_tables(edge, &sync[0], 0);
	install_sync_tables(edge, &sync[1], 1);
}

void bpffix_close(struct me_prog *prog, struct me_edge *edge)
{
	me_edge_close(edge);
	if (prog->skel)
		me_prog_close(prog);
}

void bpffix_frame_spec(const struct frame *f, struct pkt_spec *s)
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
