/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cli.h - what the loader's verbs share: options, exit codes, opening the maps.
 */
#ifndef ME_LOADER_CLI_H
#define ME_LOADER_CLI_H

#include "edge.h"

/* Exit statuses. Every failure is 2, as for grep and diff: scripts only need to
 * tell "done" from "not done", and the message says why. */
#define EXIT_OK	  0
#define EXIT_FAIL 2

/* How long a writer waits for another mailedge program holding the lock. */
#define LOCK_TIMEOUT_MS 30000

struct cli {
	const char *pin_dir;
	const char *state_dir; /* --state-dir; NULL: $MAILEDGE_STATE_DIR or the default */
	int json;
};

/* Open the pinned maps; with lock, also take the pin-directory lock. On error,
 * prints one line saying what is wrong and what to do, and returns -errno. */
int cli_open(struct cli *c, struct me_edge *e, int lock);

/* A one-line error, then EXIT_FAIL. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One-line error for an option getopt did not accept, naming the verb that
 * main() recorded with cli_set_verb. */
void cli_set_verb(const char *verb);
int cli_bad_option(char **argv);

/* Options of a verb that takes only --json (-j) and --help: EXIT_OK with *json
 * set (from the global --json too), *done set when --help was printed, or
 * EXIT_FAIL after a one-line error. */
int cli_json_opts(struct cli *c, int argc, char **argv, const char *usage, int *json, int *done);

/* Where the loader keeps what must outlive the maps (the admin's lists, the
 * threshold settings): --state-dir, else $MAILEDGE_STATE_DIR, else
 * ME_STATE_DIR_DEFAULT, that one only for the default pin directory and when
 * it exists. buf gets DIR/name; -ENOENT when there is no state directory. */
#define ME_STATE_DIR_DEFAULT "/var/lib/mailedge"
int cli_state_path(const struct cli *c, const char *name, char *buf, size_t len);

/* Parse an unsigned decimal within [min, max]; -1 if it is not one. */
int cli_u32(const char *s, unsigned long min, unsigned long max, __u32 *out);

/* Message for a BPF permission or capability failure. */
const char *cli_perm_hint(void);

/* Fresh maps (attach/init after a reboot): load the manual lists saved under
 * the state directory, if any. Logs what it did; failures are warnings. */
int list_restore_state(struct cli *c, struct me_edge *e);

int cmd_attach(struct cli *c, int argc, char **argv);
int cmd_detach(struct cli *c, int argc, char **argv);
int cmd_init(struct cli *c, int argc, char **argv);
int cmd_destroy(struct cli *c, int argc, char **argv);
int cmd_list(struct cli *c, int argc, char **argv);
int cmd_threshold(struct cli *c, int argc, char **argv);
int cmd_status(struct cli *c, int argc, char **argv);
int cmd_watch(struct cli *c, int argc, char **argv);
int cmd_metrics(struct cli *c, int argc, char **argv);
int cmd_lookup(struct cli *c, int argc, char **argv);
int cmd_unban(struct cli *c, int argc, char **argv);

#endif
