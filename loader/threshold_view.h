/* SPDX-License-Identifier: GPL-2.0 */
/*
 * threshold_view.h - how threshold settings and state are shown (threshold, status).
 */
#ifndef ME_LOADER_THRESHOLD_VIEW_H
#define ME_LOADER_THRESHOLD_VIEW_H

#include <stdio.h>
#include <json-c/json.h>

#include "cli.h"
#include "edge.h"
#include "verdict.h"

struct thr_state {
	__u64 tracked;	 /* live entries in "rates" */
	__u64 inserts;	 /* sources ever added */
	__u64 evicted;	 /* inserts - tracked: pushed out by the LRU */
	__u64 banned;	 /* bans not yet ended */
};

void threshold_read_state(struct me_edge *e, struct thr_state *s);
void threshold_print_summary(struct me_edge *e, FILE *f);
void threshold_print_state(struct me_edge *e, FILE *f);
json_object *threshold_json(struct me_edge *e);

/* Bans that have not ended, with the prefix counted and time left:
 * "threshold bans". Returns how many there are, or -errno. */
/* "25,465,587" into a port bitmap: 0, or -1 for anything else. */
int threshold_parse_ports(const char *s, struct me_ports *p);

/* The settings survive reboots as the lists do (threshold_state.c): saved to
 * the state directory after every change, restored into fresh maps. */
void threshold_autosave(const struct cli *c, struct me_edge *e);
int threshold_restore_state(struct cli *c, struct me_edge *e);

int threshold_print_bans(struct me_edge *e, FILE *f);
json_object *threshold_bans_json(struct me_edge *e);

#endif
