// SPDX-License-Identifier: GPL-2.0
/*
 * edge_load.c - load the edge program and reuse or pin its maps.
 *
 * Pinning is done here rather than by libbpf (LIBBPF_PIN_BY_NAME) for two
 * reasons: a pinned map that cannot be reused gets a message naming the map and
 * the field that differs, instead of libbpf's generic "couldn't reuse pinned
 * map", and maps pinned by an older attach keep their capacity unless the admin
 * explicitly asks for another one.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "edge_load.h"
#include "edge.skel.h"
#include "lists.h"
#include "log.h"
#include "table.h"

static __u32 requested_size(const struct me_sizes *req, enum me_map_id id)
{
	if (!req)
		return 0;
	switch (id) {
	case ME_M_WHITE_HOST4:
	case ME_M_WHITE_HOST6:
		if (req->white_hosts)
			return req->white_hosts;
		/* With only --hosts given, whitelists follow it down, never up. */
		if (req->hosts)
			return req->hosts < ME_DEF_WHITE_HOSTS ? req->hosts : ME_DEF_WHITE_HOSTS;
		return 0;
	case ME_M_BLACK_HOST4:
	case ME_M_BLACK_HOST6:
		return req->hosts;
	case ME_M_WHITE_NET4:
	case ME_M_WHITE_NET6:
	case ME_M_BLACK_NET4:
	case ME_M_BLACK_NET6:
		return req->subnets;
	case ME_M_RATES:
		return req->rate_entries;
	case ME_M_BANS:
		return req->ban_entries;
	default:
		return 0;
	}
}

/* Check that a pinned map fits the program's definition; adopt its capacity. */
static int check_pinned(struct bpf_map *map, int fd, __u32 want_size, char *why, size_t why_len)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	const char *name = bpf_map__name(map);

	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		snprintf(why, why_len, "cannot read pinned map %s: %s", name, strerror(errno));
		return -errno;
	}
	if (info.type != bpf_map__type(map) || info.key_size != bpf_map__key_size(map) ||
	    info.value_size != bpf_map__value_size(map) ||
	    info.map_flags != bpf_map__map_flags(map)) {
		snprintf(why, why_len,
			 "pinned map %s has another layout (type %u key %u value %u flags %#x; "
			 "this version wants %u/%u/%u/%#x): it was made by an incompatible "
			 "version; run 'mailedge-loader destroy' and attach again",
			 name, info.type, info.key_size, info.value_size, info.map_flags,
			 bpf_map__type(map), bpf_map__key_size(map), bpf_map__value_size(map),
			 bpf_map__map_flags(map));
		return -EINVAL;
	}
	if (want_size && want_size != info.max_entries) {
		snprintf(why, why_len,
			 "pinned map %s holds up to %u entries, %u were asked for; capacities "
			 "are fixed once maps exist ('mailedge-loader destroy' drops all lists)",
			 name, info.max_entries, want_size);
		return -EEXIST;
	}
	if (bpf_map__set_max_entries(map, info.max_entries))
		return -EINVAL;
	return 0;
}

static __u32 host4_elems(const struct me_sizes *req)
{
	return me_host4_elems(req && req->hosts ? req->hosts : ME_DEF_HOSTS);
}

/*
 * The IPv4 host table's size, for a sync_host4 made now (a pinned one keeps
 * the size it was made with, as every map keeps its capacity): given as an
 * inner map of that shape, *tmpl, which the caller closes after the load.
 * Not by bpf_map__set_max_entries on the inner map template, which libbpf
 * 1.1 cannot do (the template has no object; it crashes).
 */
static int size_host4(struct me_prog *p, const struct me_sizes *req, int pinned, int *tmpl,
		      char *why, size_t why_len)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = ME_TAB_FLAGS_FIXED);
	struct bpf_map *outer = p->skel->maps.sync_host4;
	__u32 n = host4_elems(req);

	*tmpl = -1;
	if (pinned)
		return 0;
	*tmpl = bpf_map_create(BPF_MAP_TYPE_ARRAY, "me_host4_shape", sizeof(__u32),
			       sizeof(struct me_hb4), n, &o);
	if (*tmpl < 0 || bpf_map__set_inner_map_fd(outer, *tmpl)) {
		/* errno as it came: EPERM must reach the caller's "run as root" hint */
		int err = errno ? errno : ENOMEM;

		if (*tmpl >= 0)
			close(*tmpl);
		*tmpl = -1;
		snprintf(why, why_len, "cannot size the IPv4 host table (%u elements, %.1f MB): %s",
			 n, (double)n * sizeof(struct me_hb4) / 1e6, strerror(err));
		return -err;
	}
	return 0;
}

int me_prog_load(struct me_prog *p, const char *pin_dir, const struct me_sizes *req,
		 struct me_edge *e, int *created, char *why, size_t why_len)
{
	int pinned[ME_M_COUNT] = { 0 }; /* reused from pin_dir */
	int mine[ME_M_COUNT] = { 0 };	/* pinned by this call, unpinned on failure */
	char path[PATH_MAX];
	int i, rc, fd, tmpl = -1;

	me_edge_init(e);
	*created = 1;
	if (pin_dir && !me_pin_path(path, sizeof(path), pin_dir, me_map_name(ME_M_CONFIG)) &&
	    !access(path, F_OK) && (rc = me_abi_check(pin_dir, why, why_len)))
		return rc;
	p->skel = edge_bpf__open();
	if (!p->skel) {
		rc = -errno;
		snprintf(why, why_len, "cannot open the BPF object: %s", strerror(-rc));
		return rc;
	}

	for (i = 0; i < ME_M_COUNT; i++) {
		struct bpf_map *map =
			bpf_object__find_map_by_name(p->skel->obj, me_map_name((enum me_map_id)i));
		__u32 want = requested_size(req, (enum me_map_id)i);

		if (!map) {
			snprintf(why, why_len, "BPF object has no map %s",
				 me_map_name((enum me_map_id)i));
			rc = -ENOENT;
			goto err;
		}
		if (want && bpf_map__set_max_entries(map, want)) {
			rc = -EINVAL;
			snprintf(why, why_len, "cannot size map %s", bpf_map__name(map));
			goto err;
		}
		if (!pin_dir)
			continue;
		rc = me_pin_path(path, sizeof(path), pin_dir, bpf_map__name(map));
		if (rc)
			goto err;
		fd = bpf_obj_get(path);
		if (fd < 0) {
			if (errno == ENOENT)
				continue;
			rc = -errno;
			snprintf(why, why_len, "cannot open pinned map %s: %s", path,
				 strerror(errno));
			goto err;
		}
		rc = check_pinned(map, fd, want, why, why_len);
		if (!rc && bpf_map__reuse_fd(map, fd)) {
			rc = -errno;
			snprintf(why, why_len, "cannot reuse pinned map %s", path);
		}
		close(fd);
		if (rc)
			goto err;
		pinned[i] = 1;
		if (i == ME_M_CONFIG)
			*created = 0;
	}

	rc = size_host4(p, req, pinned[ME_M_SYNC_HOST4], &tmpl, why, why_len);
	if (rc)
		goto err;
	rc = edge_bpf__load(p->skel);
	if (tmpl >= 0)
		close(tmpl); /* the outer map kept its shape, not the map */
	if (rc) {
		snprintf(why, why_len,
			 "the kernel refused the XDP program or its maps: %s (run with -v for "
			 "the verifier log)",
			 strerror(-rc));
		goto err;
	}

	for (i = 0; i < ME_M_COUNT; i++) {
		struct bpf_map *map =
			bpf_object__find_map_by_name(p->skel->obj, me_map_name((enum me_map_id)i));

		e->fd[i] = dup(bpf_map__fd(map));
		if (e->fd[i] < 0) {
			rc = -errno;
			snprintf(why, why_len, "dup: %s", strerror(errno));
			goto err;
		}
		if (!pin_dir || pinned[i])
			continue;
		rc = me_pin_path(path, sizeof(path), pin_dir, bpf_map__name(map));
		if (!rc)
			rc = bpf_map__pin(map, path);
		if (rc) {
			snprintf(why, why_len, "cannot pin map at %s: %s", path, strerror(-rc));
			goto err;
		}
		mine[i] = 1;
	}
	/* admin_used made afresh next to admin maps that were pinned already (a
	 * pin removed by hand): what they hold must not go unseen. */
	rc = 0;
	if (!pinned[ME_M_ADMIN_USED]) {
		for (i = ME_M_WHITE_HOST4; !rc && i <= ME_M_BLACK_NET6; i++)
			if (pinned[i]) {
				rc = me_manual_mark(e, (enum me_map_id)i);
				if (!rc)
					rc = me_manual_settle(e, (enum me_map_id)i);
			}
		if (rc) {
			snprintf(why, why_len, "cannot write admin_used: %s", strerror(-rc));
			goto err;
		}
	}
	if (pin_dir && *created) {
		rc = me_abi_pin(pin_dir);
		if (rc) {
			snprintf(why, why_len, "cannot pin the ABI version under %s: %s", pin_dir,
				 strerror(-rc));
			goto err;
		}
	}
	me_edge_read_sizes(e);
	if (!pinned[ME_M_SYNC_HOST4]) /* made now, with the size set above */
		e->host4_elems = host4_elems(req);
	/* Written into the config by me_edge_defaults, for fresh maps only. */
	e->sync_hosts_req = req && req->hosts ? req->hosts : ME_DEF_HOSTS;
	if (pin_dir)
		snprintf(e->pin_dir, sizeof(e->pin_dir), "%s", pin_dir);
	return 0;
err:
	/* Leave the pin directory as it was: a half-pinned set would make every
	 * later command fail on the missing maps. */
	for (i = 0; i < ME_M_COUNT; i++)
		if (mine[i] && !me_pin_path(path, sizeof(path), pin_dir, me_map_name((enum me_map_id)i)))
			unlink(path);
	me_edge_close(e);
	me_prog_close(p);
	return rc;
}

int me_prog_fd(const struct me_prog *p)
{
	return bpf_program__fd(p->skel->progs.mailedge_xdp);
}

void me_prog_close(struct me_prog *p)
{
	edge_bpf__destroy(p->skel);
	p->skel = NULL;
}
