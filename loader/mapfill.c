// SPDX-License-Identifier: GPL-2.0
/*
 * mapfill.c - entry counts and capacities of the edge filter's maps.
 */
#include <unistd.h>
#include <sys/socket.h>
#include <bpf/bpf.h>

#include "lists.h"
#include "mapfill.h"
#include "synctab.h"

const char *mapfill_kind_name(enum mapfill_kind k)
{
	switch (k) {
	case MF_MANUAL:
		return "manual";
	case MF_SYNCED:
		return "synced";
	case MF_STATE:
		return "state";
	}
	return "?";
}

static void fixed(struct mapfill *f, struct me_edge *e, enum me_map_id id, const char *list,
		  const char *family, enum mapfill_kind kind)
{
	f->name = me_map_name(id);
	f->list = list;
	f->family = family;
	f->kind = kind;
	f->entries = 0;
	f->capacity = me_map_capacity(e->fd[id]);
	me_map_count(e->fd[id], &f->entries);
}

int mapfill_read(struct me_edge *e, struct mapfill *f)
{
	static const char *const sync_names[2][4] = {
		{ "sync_white_host4", "sync_white_host6", "sync_white_net4", "sync_white_net6" },
		{ "sync_black_host4", "sync_black_host6", "sync_black_net4", "sync_black_net6" },
	};
	int i, list, n = 0;

	/* white_host4 .. black_net6: list = i / 4, family = i % 2 (see edge.h) */
	for (i = ME_M_WHITE_HOST4; i <= ME_M_BLACK_NET6; i++, n++)
		fixed(&f[n], e, (enum me_map_id)i, me_list_name(i < ME_M_BLACK_HOST4 ? 0 : 1),
		      (i & 1) ? "ipv6" : "ipv4", MF_MANUAL);
	/* One table per family and kind holds both lists; its header counts each.
	 * The capacity shown is what list sync may load (attach --hosts etc.). */
	for (list = ME_LIST_WHITE; list <= ME_LIST_BLACK; list++)
		for (i = 0; i < 4; i++, n++) {
			int fam = (i & 1) ? AF_INET6 : AF_INET, net = (i & 2) != 0;
			struct me_tabmap t;
			__u32 gen;

			f[n].name = sync_names[list][i];
			f[n].list = me_list_name(list);
			f[n].family = (i & 1) ? "ipv6" : "ipv4";
			f[n].kind = MF_SYNCED;
			f[n].entries = 0;
			f[n].capacity = net ? e->sizes.subnets
				      : list == ME_LIST_WHITE ? e->sizes.white_hosts
							      : e->sizes.hosts;
			if (!me_synctab_open(e, fam, net, &t, &gen)) {
				f[n].entries = t.h->count[list];
				me_synctab_close(&t);
			}
		}
	fixed(&f[n++], e, ME_M_RATES, NULL, NULL, MF_STATE);
	fixed(&f[n++], e, ME_M_BANS, NULL, NULL, MF_STATE);
	return n;
}
