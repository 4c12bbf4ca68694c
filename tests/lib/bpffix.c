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

/* Inner maps of the list-sync slots, created on first use:
 * [family v4/v6][host/net][generation][list]; -1 = not created. */
struct sync_inner {
	int fd[2][2][2][2];
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

static int sync_inner_fd(struct sync_inner *si, int v6, int is_net, int gen, int list)
{
	int *fd = &si->fd[v6][is_net][gen][list];
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_NO_PREALLOC);
	__u32 key_size;

	if (*fd >= 0)
		return *fd;
	if (is_net)
		key_size = v6 ? sizeof(struct me_lpm6) : sizeof(struct me_lpm4);
	else
		key_size = v6 ? sizeof(struct me_addr6) : sizeof(__u32);
	*fd = bpf_map_create(
	    is_net ? BPF_MAP_TYPE_LPM_TRIE : BPF_MAP_TYPE_HASH, "me_test_sync", key_size,
	    is_net ? sizeof(struct me_net_entry) : sizeof(struct me_entry), 64, &o);
	cr_assert_geq(*fd, 0, "creating a list-sync inner map: %s", strerror(errno));
	return *fd;
}

static void add_entry(struct me_edge *edge, struct sync_inner *si, const struct fixture_entry *fe)
{
	unsigned char key[ME_KEY_MAX], value[ME_VALUE_MAX];
	struct me_prefix p;
	struct me_entry val = {
		.action = fe->action,
		.src = fe->src,
		.group = fe->group,
		.expires = entry_expires(fe->expiry),
	};
	int is_net, fd;

	cr_assert_eq(me_prefix_parse(fe->prefix, &p, 0), 0, "fixture prefix %s", fe->prefix);
	is_net = me_prefix_key(&p, key);
	if (fe->map == IN_MANUAL)
		fd = edge->fd[me_manual_map(fe->list, p.family, is_net)];
	else
		fd = sync_inner_fd(si, p.family == AF_INET6, is_net, fe->map == IN_SYNC_GEN1,
				   fe->list);
	me_prefix_value(&p, &val, value);
	cr_assert_eq(bpf_map_update_elem(fd, key, value, BPF_NOEXIST), 0, "fixture entry %s: %s",
		     fe->prefix, strerror(errno));
}

/* Put every inner map that was created into its outer map, and let go of it. */
static void install_sync_maps(struct me_edge *edge, struct sync_inner *si)
{
	int v6, net, gen, list;

	for (v6 = 0; v6 < 2; v6++)
		for (net = 0; net < 2; net++)
			for (gen = 0; gen < 2; gen++)
				for (list = 0; list < 2; list++) {
					int *fd = &si->fd[v6][net][gen][list];
					int outer =
					    edge->fd[me_sync_map(v6 ? AF_INET6 : AF_INET, net)];
					__u32 slot = ME_SYNC_SLOT((__u32)gen, (__u32)list);

					if (*fd < 0)
						continue;
					cr_assert_eq(bpf_map_update_elem(outer, &slot, fd, BPF_ANY),
						     0, "installing a sync inner map: %s",
						     strerror(errno));
					close(*fd);
					*fd = -1;
				}
}

void bpffix_load_lists(struct me_prog *prog, struct me_edge *edge)
{
	struct sync_inner si;
	size_t i;
	int v6, net, list;

	memset(&si, -1, sizeof(si));
	bpffix_load(prog, edge);
	/* Generation 0 has all its slots filled; generation 1 only what entries need. */
	for (v6 = 0; v6 < 2; v6++)
		for (net = 0; net < 2; net++)
			for (list = 0; list < 2; list++)
				sync_inner_fd(&si, v6, net, 0, list);
	for (i = 0; i < ARRAY_LEN(fixture_entries); i++)
		add_entry(edge, &si, &fixture_entries[i]);
	install_sync_maps(edge, &si);
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
