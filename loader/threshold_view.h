/* SPDX-License-Identifier: GPL-2.0 */
/*
 * threshold_view.h - how threshold settings and state are shown (threshold, status).
 */
#ifndef ME_LOADER_THRESHOLD_VIEW_H
#define ME_LOADER_THRESHOLD_VIEW_H

#include <stdio.h>
#include <json-c/json.h>

#include "edge.h"

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

#endif
