// SPDX-License-Identifier: GPL-2.0
/*
 * counters.c - per-CPU counter reads and the names status prints.
 */
#include <errno.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "counters.h"

int me_counter_read(int fd, __u32 key, struct me_counter *out)
{
	int ncpu = libbpf_num_possible_cpus(), i, rc = 0;
	struct me_counter *v;

	if (ncpu < 1)
		return -EINVAL;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	out->packets = out->bytes = 0;
	if (bpf_map_lookup_elem(fd, &key, v)) {
		rc = -errno;
	} else {
		for (i = 0; i < ncpu; i++) {
			out->packets += v[i].packets;
			out->bytes += v[i].bytes;
		}
	}
	free(v);
	return rc;
}

int me_event_read(int fd, __u32 key, __u64 *out)
{
	int ncpu = libbpf_num_possible_cpus(), i, rc = 0;
	__u64 *v;

	if (ncpu < 1)
		return -EINVAL;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	*out = 0;
	if (bpf_map_lookup_elem(fd, &key, v))
		rc = -errno;
	else
		for (i = 0; i < ncpu; i++)
			*out += v[i];
	free(v);
	return rc;
}

const char *me_reason_name(enum me_reason r)
{
	static const char *const names[ME_R_MAX] = {
		[ME_R_NONIP] = "non-ip",	 [ME_R_MALFORMED] = "malformed",
		[ME_R_WHITE_HOST] = "white-host", [ME_R_WHITE_NET] = "white-net",
		[ME_R_BLACK_HOST] = "black-host", [ME_R_BLACK_NET] = "black-net",
		[ME_R_BANNED] = "banned",	 [ME_R_THRESHOLD] = "threshold",
		[ME_R_CLEAN] = "clean",
	};

	return r < ME_R_MAX ? names[r] : "?";
}

const char *me_verdict_name(enum me_verdict v)
{
	static const char *const names[ME_V_MAX] = { "pass", "drop", "reset" };

	return v < ME_V_MAX ? names[v] : "?";
}

const char *me_event_name(enum me_event ev)
{
	static const char *const names[ME_EV_MAX] = {
		[ME_EV_RATE_INSERT] = "rate_sources_added",
		[ME_EV_BAN_INSERT] = "bans_added",
		[ME_EV_SYNC_RETRY] = "sync_swap_retries",
		[ME_EV_RESET_FAILED] = "reset_build_failures",
	};

	return ev < ME_EV_MAX ? names[ev] : "?";
}
