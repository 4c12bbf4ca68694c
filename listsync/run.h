/* SPDX-License-Identifier: GPL-2.0 */
/*
 * run.h - one run of mailedge-listsync: fetch, validate, merge, apply.
 */
#ifndef LS_RUN_H
#define LS_RUN_H

#include "config.h"

struct ls_opts {
	int force;   /* fetch every source now, whatever its interval or back-off */
	int rebuild; /* swap the union in even when the maps already hold it */
	int dry_run; /* fetch and merge, print, but do not touch the maps or state */
};

/* Exit statuses of a run. */
#define LS_EXIT_OK	     0 /* every source current, maps hold the union */
#define LS_EXIT_SOURCE_FAIL  1 /* some source failed; the others were applied */
#define LS_EXIT_FATAL	     2 /* nothing applied: config, lock, maps */

int ls_run(const struct ls_config *cfg, const struct ls_opts *opts);

#endif
