/* SPDX-License-Identifier: GPL-2.0 */
/*
 * verdict_show.h - how a judged address is shown: "mailedge-loader lookup"
 * and the edge part of "mailedge-proxy explain" print the same lines and the
 * same JSON, from one me_verdict_judge result.
 */
#ifndef ME_VERDICT_SHOW_H
#define ME_VERDICT_SHOW_H

#include <stdio.h>
#include <json-c/json.h>

#include "edge.h"
#include "verdict.h"

/* The verdict, the deciding entry, the entries that lost and why, the ban. */
void me_vshow_text(FILE *f, struct me_edge *e, const struct me_vresult *r, const char *addr);
json_object *me_vshow_json(struct me_edge *e, const struct me_vresult *r, const char *addr);

/* A CLOCK_BOOTTIME instant (ns) as UTC wall time, "2026-12-04T21:00:00Z",
 * given the boot-clock now_ns it is relative to. */
void me_boot_iso(__u64 at_ns, __u64 now_ns, char *buf, size_t len);
/* Seconds left until a boot-clock instant, rounded up. */
__u64 me_vshow_secs_left(__u64 until, __u64 now);
/* The prefix a ban key stands for, with its length ("192.0.2.7/32"). */
void me_vshow_ban_prefix(const struct me_src_key *k, const struct me_config *cfg, char *buf,
			 size_t len);
/* A threshold ban as JSON: prefix, until, seconds_left. */
json_object *me_vshow_ban_obj(const struct me_src_key *k, const struct me_config *cfg,
			      __u64 until, __u64 now);

#endif
