/* SPDX-License-Identifier: GPL-2.0 */
/*
 * list_io.h - the admin's lists as files: reading them for import and restore,
 * saving them, the state directory, and the guard against locking oneself out.
 */
#ifndef ME_LOADER_LIST_IO_H
#define ME_LOADER_LIST_IO_H

#include <stddef.h>

#include "cli.h"
#include "lists.h"

struct rec_vec {
	struct me_rec *v;
	size_t n, cap;
	size_t expired; /* lines skipped because their expires= has passed */
};

/*
 * Read a list file into records, all checked. list is the list an import goes
 * into (a line naming the other list is an error), or -1 for a restore, where
 * every line must name its list. defaults holds --action/--expires (has_action
 * says whether --action was given). Prints a one-line error and returns
 * EXIT_FAIL on any problem.
 */
int list_file_read(const char *file, int list, const struct me_entry *defaults, int has_action,
		   struct rec_vec *out);

/* Replace the manual lists with recs, all or nothing. */
int list_replace(struct me_edge *e, const struct me_rec *recs, size_t n, enum me_map_id *full);

/* Write the manual lists to f; *count says how many entries. -errno. */
int list_write(struct me_edge *e, FILE *f, size_t *count);
/* The same into path, atomically (a temporary file renamed over it). */
int list_save_path(struct me_edge *e, const char *path, size_t *count);


/* Save after a successful edit; a failure is a warning: the edit stands. */
void list_autosave(const struct cli *c, struct me_edge *e);

/* 0 when no black entry that drops or resets covers the admin's SSH client or
 * the gateway's own addresses and connected subnets; else -EPERM with why. */
int guard_check(const struct me_rec *recs, size_t n, char *why, size_t len);

#endif
